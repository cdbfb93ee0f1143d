//! The output stage of the convolution layers: per-channel bias,
//! multiplier, output zero point and activation clamp over a tile of
//! accumulators, through the kernel layer's output stage (SIMD where the
//! CPU has it, every requantization mode), and the GEMM weight dispatch.

use super::fully_connected::{
    Channel, RequantMode, check_len, check_zero_point, fill_channels, int8_clamp,
};
use super::quantization::Quantization;
use crate::Error;
use crate::kernel::fully_connected::{FcTile, run_tile};
use crate::kernel::output_stage::{Clamp, requantize_tile};
use crate::kernel::{Isa, NarrowI8};
use crate::ops::activation_range;

/// Output channels handled per GEMM call.
pub(super) const BLOCK: usize = 64;

/// Accumulators per tile (a stack buffer of `4 · ACC_TILE` bytes).
pub(super) const ACC_TILE: usize = 256;

/// The validated output stage of an int8 layer: the runtime's mode and the
/// output zero point and activation clamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stage {
    clamp: Clamp,
    requant: RequantMode,
}

impl Stage {
    /// The activation clamp.
    pub fn activation_range(&self) -> (i32, i32) {
        (self.clamp.act_min, self.clamp.act_max)
    }

    /// `out[i] = clamp(requant(acc[i] + bias[c]) + zp)` with `c = i % n`,
    /// `n = channels.len()`: the kernel layer's output stage on one tile.
    pub fn apply(&self, acc: &[i32], channels: &[Channel], out: &mut [i8]) -> Result<(), Error> {
        if channels.is_empty() || !acc.len().is_multiple_of(channels.len()) {
            return Err(Error::InvalidParameter("output-stage tile shape"));
        }
        check_len(acc.len(), out.len())?;
        requantize_tile(acc, channels, self.requant, self.clamp, out);
        Ok(())
    }

    /// One tile of an int8 fully-connected layer on `isa`: `out[r] =
    /// stage(Σ_k w[r][k]·x[k], channels[r])` for the `channels.len()` rows
    /// of `w` (the kernel table's `fully_connected_i8` entry: the GEMV, then
    /// this output stage).
    pub fn run_fc_tile(
        &self,
        isa: Isa,
        w: &[i8],
        narrow: bool,
        x: &[i8],
        channels: &[Channel],
        out: &mut [i8],
    ) -> Result<(), Error> {
        let tile = FcTile {
            w,
            narrow,
            x,
            channels,
            requant: self.requant,
            clamp: self.clamp,
        };
        run_tile(isa, &tile, out)
    }
}

/// The int8 layers' Prepare: checks the zero points and the bias length,
/// fills the per-channel table (multipliers as the runtime forms them) and
/// folds the input zero point into each channel's bias:
/// `bias[o] - zp_in · Σw[o]` (int32, wrapping; `weight_sum(o)` is `Σw[o]`).
pub(super) fn prepare_int8(
    q: &Quantization<'_>,
    requant: RequantMode,
    bias: Option<&[i32]>,
    channels: &mut [Channel],
    weight_sum: impl Fn(usize) -> i32,
) -> Result<Stage, Error> {
    if let Some(b) = bias {
        check_len(channels.len(), b.len())?;
    }
    let clamp = int8_clamp(q)?;
    fill_channels(q, requant, channels, |o| {
        let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0);
        i64::from(b.wrapping_sub(q.input.zero_point().wrapping_mul(weight_sum(o))))
    })?;
    Ok(Stage { clamp, requant })
}

/// The 16x8 layers' Prepare: zero points must be 0; fills the per-channel
/// table (TFLite's Q31 multipliers, checked) and the biases; returns the
/// int16 activation clamp.
pub(super) fn prepare_16x8(
    q: &Quantization<'_, i16>,
    bias: Option<impl Fn(usize) -> i64>,
    channels: &mut [Channel],
) -> Result<(i32, i32), Error> {
    check_zero_point(q.input.zero_point(), 0, 0)?;
    check_zero_point(q.output.zero_point(), 0, 0)?;
    let (act_min, act_max) = activation_range(q.activation, q.output)?;
    fill_channels(q, RequantMode::Double, channels, |o| {
        bias.as_ref().map_or(0, |b| b(o))
    })?;
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
