//! The output stage of the int8 convolution layers: per-channel bias,
//! multiplier, output zero point and activation clamp over a tile of
//! accumulators, through the crate's slice requantizer
//! ([`crate::requant::requantize`], SIMD where the CPU has it).

use super::fully_connected::{
    Channel, Quantization, Requant, check_len, check_zero_point, fill_multipliers,
};
use crate::Error;
use crate::kernel::NarrowI8;
use crate::ops::activation_range;
use crate::quant::Quantizer;
use crate::requant::{
    Multipliers, OutputStage, QuantizedMultiplier, Rounding, requantize, requantize_f32_raw,
};

/// Output channels handled per output-stage call (the per-channel tables
/// are copied to the stack, `BLOCK · 12` bytes).
pub(super) const BLOCK: usize = 64;

/// Accumulators per tile (a stack buffer of `4 · ACC_TILE` bytes).
pub(super) const ACC_TILE: usize = 256;

/// The validated output stage of an int8 layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stage {
    zero_point: i32,
    act_min: i32,
    act_max: i32,
    requant: Requant,
}

impl Stage {
    /// Checks the zero points, the requantization mode and every channel's
    /// multiplier, and computes the activation clamp.
    pub fn new(q: &Quantization<'_>, requant: Requant) -> Result<Self, Error> {
        check_zero_point(q.input_zero_point, -128, 127)?;
        check_zero_point(q.output_zero_point, -128, 127)?;
        #[allow(unreachable_patterns)]
        match requant {
            Requant::Double | Requant::Single | Requant::Float32 => {}
            _ => {
                return Err(Error::InvalidParameter(
                    "this requantization mode is not available for convolutions",
                ));
            }
        }
        let (act_min, act_max) = activation_range(
            q.activation,
            Quantizer::<i8>::new(q.output_scale, q.output_zero_point)?,
        )?;
        Ok(Self {
            zero_point: q.output_zero_point,
            act_min: i32::from(act_min),
            act_max: i32::from(act_max),
            requant,
        })
    }

    /// The activation clamp.
    pub fn activation_range(&self) -> (i32, i32) {
        (self.act_min, self.act_max)
    }

    /// `out[i] = clamp(requant(acc[i] + bias[c]) + zp)` with `c = i % n`,
    /// `n = channels.len() <= BLOCK`.
    pub fn apply(&self, acc: &[i32], channels: &[Channel], out: &mut [i8]) -> Result<(), Error> {
        let n = channels.len();
        if n == 0 || n > BLOCK {
            return Err(Error::InvalidParameter("output-stage block size"));
        }
        let rounding = match self.requant {
            Requant::Double => Rounding::Double,
            Requant::Single => Rounding::Single,
            _ => return self.apply_f32(acc, channels, out),
        };
        let mut multipliers = [QuantizedMultiplier::default(); BLOCK];
        let mut bias = [0i32; BLOCK];
        for ((m, b), ch) in multipliers.iter_mut().zip(bias.iter_mut()).zip(channels) {
            *m = ch.multiplier;
            *b = ch.bias as i32;
        }
        let stage = OutputStage {
            multipliers: Multipliers::PerChannel(&multipliers[..n]),
            rounding,
            zero_point: self.zero_point,
            act_min: self.act_min,
            act_max: self.act_max,
        };
        requantize(acc, Some(&bias[..n]), &stage, out)
    }

    /// ONNX Runtime's float output stage, element by element.
    fn apply_f32(&self, acc: &[i32], channels: &[Channel], out: &mut [i8]) -> Result<(), Error> {
        if acc.len() != out.len() {
            return Err(Error::LengthMismatch {
                expected: acc.len(),
                found: out.len(),
            });
        }
        for (a, o) in acc
            .chunks_exact(channels.len())
            .zip(out.chunks_exact_mut(channels.len()))
        {
            for ((&a, o), ch) in a.iter().zip(o.iter_mut()).zip(channels) {
                *o = requantize_f32_raw(
                    a.wrapping_add(ch.bias as i32),
                    ch.scale,
                    self.zero_point,
                    self.act_min,
                    self.act_max,
                ) as i8;
            }
        }
        Ok(())
    }
}

/// The int8 layers' Prepare: checks the bias length, fills the
/// multipliers, validates the output stage, and folds the input zero point
/// into each channel's bias: `bias[o] - zp_in · Σw[o]` (int32, wrapping;
/// `weight_sum(o)` is `Σw[o]`).
pub(super) fn prepare_int8(
    q: &Quantization<'_>,
    requant: Requant,
    bias: Option<&[i32]>,
    channels: &mut [Channel],
    weight_sum: impl Fn(usize) -> i32,
) -> Result<Stage, Error> {
    if let Some(b) = bias {
        check_len(channels.len(), b.len())?;
    }
    fill_multipliers(q, channels)?;
    let stage = Stage::new(q, requant)?;
    for (o, ch) in channels.iter_mut().enumerate() {
        let b = bias.map_or(0, |b| b[o]);
        ch.bias = i64::from(b.wrapping_sub(q.input_zero_point.wrapping_mul(weight_sum(o))));
    }
    Ok(stage)
}

/// The 16x8 layers' Prepare: zero points must be 0; fills the multipliers
/// (checked against the output stage's range) and the biases; returns the
/// int16 activation clamp.
pub(super) fn prepare_16x8(
    q: &Quantization<'_>,
    bias: Option<impl Fn(usize) -> i64>,
    channels: &mut [Channel],
) -> Result<(i32, i32), Error> {
    check_zero_point(q.input_zero_point, 0, 0)?;
    check_zero_point(q.output_zero_point, 0, 0)?;
    fill_multipliers(q, channels)?;
    let (act_min, act_max) =
        activation_range(q.activation, Quantizer::<i16>::new(q.output_scale, 0)?)?;
    for (o, ch) in channels.iter_mut().enumerate() {
        ch.bias = bias.as_ref().map_or(0, |b| b(o));
    }
    Ok((i32::from(act_min), i32::from(act_max)))
}

/// int8 weights as the GEMM kernels take them.
#[derive(Debug, Clone, Copy)]
pub(super) enum GemmWeights<'a> {
    /// Contains -128: the exact full-range kernels.
    Full(&'a [i8]),
    /// `[-127, 127]`: the faster narrow-range kernels.
    Narrow(NarrowI8<'a>),
}

impl<'a> GemmWeights<'a> {
    pub fn new(w: &'a [i8]) -> Self {
        match NarrowI8::new(w) {
            Ok(n) => GemmWeights::Narrow(n),
            Err(_) => GemmWeights::Full(w),
        }
    }

    /// `out[b][r] = Σ_k w[row0 + r][k] · x[b][k]` for `rows` weight rows of
    /// `cols` starting at `row0`, `batch` activation rows.
    pub fn gemm(
        &self,
        row0: usize,
        rows: usize,
        cols: usize,
        x: &[i8],
        batch: usize,
        out: &mut [i32],
    ) -> Result<(), Error> {
        let range = row0 * cols..(row0 + rows) * cols;
        match self {
            GemmWeights::Full(w) => {
                let w = w.get(range).ok_or(Error::Overflow)?;
                crate::kernel::gemm_i8(w, x, batch, out)
            }
            GemmWeights::Narrow(w) => {
                let w = w.get(range).ok_or(Error::Overflow)?;
                crate::kernel::gemm_i8_narrow(w, x, batch, out)
            }
        }
    }
}
