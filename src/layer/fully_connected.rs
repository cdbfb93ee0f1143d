//! The fully-connected layers: [`FullyConnected`] (int8 / int4 weights) and
//! [`FullyConnected16x8`].

use crate::Error;
use crate::kernel::{self, NarrowI8, PreparedI4};
use crate::ops::{Activation, activation_range};
use crate::quant::Quantizer;
use crate::requant::{
    QuantizedMultiplier, Rounding, conv_real_multiplier, multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_i64, quantize_multiplier_checked, requantize_f32_raw,
};

/// How the int32 accumulator is mapped back to the output type.
///
/// ```
/// use qkit::layer::Requant;
/// assert_eq!(Requant::default(), Requant::Double); // TFLite Micro's default build
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Requant {
    /// TFLite Micro / CMSIS-NN default: double rounding
    /// ([`Rounding::Double`]).
    #[default]
    Double,
    /// `TFLITE_SINGLE_ROUNDING` / `CMSIS_NN_USE_SINGLE_ROUNDING`
    /// ([`Rounding::Single`]; a real multiplier of 2^30 or more is an error,
    /// as in every mode).
    Single,
    /// ONNX Runtime / XNNPACK: `acc as f32 · (s_in·s_w/s_out as f32)`, ties
    /// to even ([`requantize_f32`](crate::requant::requantize_f32)). Not
    /// available for 16x8.
    Float32,
}

/// The quantization of a FULLY_CONNECTED op as a .tflite file stores it.
///
/// `filter_scales` has one element (per-tensor) or one per output channel
/// (per-channel); filter zero points are 0 (TFLite's symmetric weights).
///
/// ```
/// use qkit::layer::{Activation, Quantization};
/// let q = Quantization {
///     input_scale: 0.02,
///     input_zero_point: -3,
///     filter_scales: &[0.004, 0.005],
///     output_scale: 0.1,
///     output_zero_point: 7,
///     activation: Activation::Relu,
/// };
/// assert_eq!(q.filter_scales.len(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantization<'a> {
    /// Scale of the input tensor.
    pub input_scale: f32,
    /// Zero point of the input tensor.
    pub input_zero_point: i32,
    /// Filter scales: one (per-tensor) or one per output channel.
    pub filter_scales: &'a [f32],
    /// Scale of the output tensor.
    pub output_scale: f32,
    /// Zero point of the output tensor.
    pub output_zero_point: i32,
    /// The fused activation.
    pub activation: Activation,
}

/// Per-output-channel data computed once by a layer constructor: the bias
/// with the input offset folded in, and the requantization multiplier.
///
/// ```
/// use qkit::layer::Channel;
/// let channels = [Channel::default(); 4]; // storage for a 4-output layer
/// assert_eq!(channels[0].multiplier().multiplier, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Channel {
    pub(super) bias: i64,
    pub(super) multiplier: QuantizedMultiplier,
    pub(super) scale: f32,
}

impl Channel {
    /// The folded bias: `bias - zp_in · Σ_k w[o,k]` (int32 wrapping for the
    /// int8 layer; int64 for 16x8).
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FullyConnected, Quantization, Requant};
    /// let q = Quantization { input_scale: 1.0, input_zero_point: 2, filter_scales: &[1.0],
    ///     output_scale: 1.0, output_zero_point: 0, activation: Activation::None };
    /// let mut ch = [Channel::default(); 1];
    /// FullyConnected::new(&[3, 4], 2, Some(&[10]), &q, Requant::Double, &mut ch)?;
    /// assert_eq!(ch[0].folded_bias(), 10 - 2 * 7);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn folded_bias(&self) -> i64 {
        self.bias
    }

    /// The integer multiplier of this channel (as TFLM's Prepare computes it).
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FullyConnected, Quantization, Requant};
    /// let q = Quantization { input_scale: 0.5, input_zero_point: 0, filter_scales: &[0.5],
    ///     output_scale: 1.0, output_zero_point: 0, activation: Activation::None };
    /// let mut ch = [Channel::default(); 1];
    /// FullyConnected::new(&[1], 1, None, &q, Requant::Double, &mut ch)?;
    /// assert_eq!((ch[0].multiplier().multiplier, ch[0].multiplier().shift), (1 << 30, -1));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn multiplier(&self) -> QuantizedMultiplier {
        self.multiplier
    }
}

/// The weights a [`FullyConnected`] runs on.
#[derive(Debug, Clone, Copy)]
enum Weights<'a> {
    /// Contains -128: the exact full-range kernels.
    Full(&'a [i8]),
    /// `[-127, 127]`: the sign-trick kernels.
    Narrow(NarrowI8<'a>),
    /// Packed int4, TFLite layout (flat, low nibble first).
    Int4(&'a [u8]),
    /// int4 re-laid out once by [`PreparedI4::new`].
    Int4Prepared(PreparedI4<'a>),
}

/// Output rows computed per GEMV call (a stack buffer of accumulators).
const ROWS_PER_PASS: usize = 64;

/// An int8 FULLY_CONNECTED layer: int8 or int4 weights `[out][in]`,
/// optional int32 bias, per-tensor or per-channel scales.
///
/// See the [module documentation](crate::layer) for the arithmetic.
///
/// ```
/// use qkit::layer::{Activation, Channel, FullyConnected, Quantization, Requant};
/// // Per-channel weight scales, RELU, a batch of two rows.
/// let q = Quantization { input_scale: 0.5, input_zero_point: 0, filter_scales: &[0.5, 0.25],
///     output_scale: 1.0, output_zero_point: 0, activation: Activation::Relu };
/// let mut ch = [Channel::default(); 2];
/// let fc = FullyConnected::new(&[4, 4, -8, 8], 2, None, &q, Requant::Double, &mut ch)?;
/// let mut out = [0i8; 4];
/// fc.run(&[1, 2, 3, 1], 2, &mut out)?;
/// // row 0: 12·0.25 = 3, 8·0.125 = 1; row 1: 16·0.25 = 4, -16·0.125 -> RELU 0
/// assert_eq!(out, [3, 1, 4, 0]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug)]
pub struct FullyConnected<'a> {
    weights: Weights<'a>,
    in_dim: usize,
    channels: &'a [Channel],
    output_zero_point: i32,
    act_min: i32,
    act_max: i32,
    requant: Requant,
}

/// Checks `value` is in `[min, max]`.
pub(super) fn check_zero_point(value: i32, min: i32, max: i32) -> Result<(), Error> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Error::ZeroPointOutOfRange {
            zero_point: value,
            min,
            max,
        })
    }
}

pub(super) fn check_len(expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::LengthMismatch { expected, found })
    }
}

/// Fills `channels` with multipliers (and f32 scales) as TFLM's Prepare
/// does; `bias` is filled by the caller.
pub(super) fn fill_multipliers(
    q: &Quantization<'_>,
    channels: &mut [Channel],
) -> Result<(), Error> {
    let out_dim = channels.len();
    let per_channel = match q.filter_scales.len() {
        1 => false,
        n if n == out_dim => true,
        n => {
            return Err(Error::LengthMismatch {
                expected: out_dim,
                found: n,
            });
        }
    };
    for (c, ch) in channels.iter_mut().enumerate() {
        let s_w = q.filter_scales[if per_channel { c } else { 0 }];
        // TFLM forms every FC multiplier in f64, per-tensor included (see
        // the module docs; golden probes in tests/data/fc_golden.json).
        let real = conv_real_multiplier(q.input_scale, s_w, q.output_scale)?;
        // Shift above 30 is an error in every mode (no silent saturation).
        ch.multiplier = quantize_multiplier_checked(real)?;
        // ONNX Runtime's f32 output scale: (in · w) / out in f32.
        ch.scale = q.input_scale * s_w / q.output_scale;
    }
    Ok(())
}

impl<'a> FullyConnected<'a> {
    /// Builds the layer from int8 weights (`channels.len()` rows of `in_dim`)
    /// and the quantization a .tflite file stores. Weights without -128 run
    /// the faster narrow-range kernels automatically.
    ///
    /// Errors: weights/bias lengths, filter scale count (1 or out_dim),
    /// zero points outside `[-128, 127]`, invalid scales.
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FullyConnected, Quantization, Requant};
    /// let q = Quantization { input_scale: 1.0, input_zero_point: 0, filter_scales: &[1.0],
    ///     output_scale: 1.0, output_zero_point: 0, activation: Activation::Relu };
    /// let mut ch = [Channel::default(); 2];
    /// let fc = FullyConnected::new(&[1, 1, -1, -1], 2, None, &q, Requant::Double, &mut ch)?;
    /// let mut out = [0i8; 2];
    /// fc.run(&[3, 4], 1, &mut out)?;
    /// assert_eq!(out, [7, 0]); // RELU
    /// assert!(FullyConnected::new(&[1, 2, 3], 2, None, &q, Requant::Double, &mut ch).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        weights: &'a [i8],
        in_dim: usize,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: Requant,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        let out_dim = channels.len();
        check_len(
            out_dim.checked_mul(in_dim).ok_or(Error::Overflow)?,
            weights.len(),
        )?;
        Self::build(
            weights_of(weights),
            in_dim,
            bias,
            q,
            requant,
            channels,
            |o| kernel::sum_i8(&weights[o * in_dim..(o + 1) * in_dim]),
        )
    }

    /// Builds the layer from packed int4 weights (TFLite layout: flat over
    /// the `[out][in]` tensor, element `2k` in the low nibble of byte `k`;
    /// `packed.len() == (out·in).div_ceil(2)`). TFLM accepts int4 only with
    /// per-tensor scales; qkit accepts both.
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FullyConnected, Quantization, Requant};
    /// let q = Quantization { input_scale: 1.0, input_zero_point: 0, filter_scales: &[1.0],
    ///     output_scale: 1.0, output_zero_point: 0, activation: Activation::None };
    /// let mut ch = [Channel::default(); 1];
    /// // One row [7, -1]: 0xF7.
    /// let fc = FullyConnected::new_i4(&[0xF7], 2, None, &q, Requant::Double, &mut ch)?;
    /// let mut out = [0i8; 1];
    /// fc.run(&[2, 3], 1, &mut out)?;
    /// assert_eq!(out, [11]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new_i4(
        packed: &'a [u8],
        in_dim: usize,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: Requant,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        let out_dim = channels.len();
        let n = out_dim.checked_mul(in_dim).ok_or(Error::Overflow)?;
        check_len(n.div_ceil(2), packed.len())?;
        Self::build(
            Weights::Int4(packed),
            in_dim,
            bias,
            q,
            requant,
            channels,
            |o| {
                (o * in_dim..(o + 1) * in_dim).fold(0i32, |acc, i| {
                    let byte = packed[i / 2];
                    let w = if i % 2 == 0 {
                        ((byte << 4) as i8) >> 4
                    } else {
                        (byte as i8) >> 4
                    };
                    acc.wrapping_add(i32::from(w))
                })
            },
        )
    }

    /// Builds the layer from int4 weights already prepared by
    /// [`PreparedI4::new`] (the fastest int4 path; `weights.rows()` must be
    /// `channels.len()`). Same results as [`new_i4`](Self::new_i4).
    ///
    /// ```
    /// use qkit::kernel::PreparedI4;
    /// use qkit::layer::{Activation, Channel, FullyConnected, Quantization, Requant};
    /// let q = Quantization { input_scale: 1.0, input_zero_point: 1, filter_scales: &[1.0],
    ///     output_scale: 1.0, output_zero_point: 0, activation: Activation::None };
    /// let mut buf = [0u8; 32];
    /// let w = PreparedI4::new(&[0xF7], 1, 2, &mut buf)?; // one row [7, -1]
    /// let mut ch = [Channel::default(); 1];
    /// let fc = FullyConnected::new_i4_prepared(w, None, &q, Requant::Double, &mut ch)?;
    /// let mut out = [0i8; 1];
    /// fc.run(&[3, 4], 1, &mut out)?;
    /// assert_eq!(out, [11]); // 7·2 - 1·3
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new_i4_prepared(
        weights: PreparedI4<'a>,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: Requant,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        check_len(channels.len(), weights.rows())?;
        Self::build(
            Weights::Int4Prepared(weights),
            weights.cols(),
            bias,
            q,
            requant,
            channels,
            |o| weights.row_sum(o),
        )
    }

    fn build(
        weights: Weights<'a>,
        in_dim: usize,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: Requant,
        channels: &'a mut [Channel],
        row_sum: impl Fn(usize) -> i32,
    ) -> Result<Self, Error> {
        check_zero_point(q.input_zero_point, -128, 127)?;
        check_zero_point(q.output_zero_point, -128, 127)?;
        if let Some(b) = bias {
            check_len(channels.len(), b.len())?;
        }
        fill_multipliers(q, channels)?;
        let (act_min, act_max) = activation_range(
            q.activation,
            Quantizer::<i8>::new(q.output_scale, q.output_zero_point)?,
        )?;
        let (act_min, act_max) = (i32::from(act_min), i32::from(act_max));
        for (o, ch) in channels.iter_mut().enumerate() {
            let b = bias.map_or(0, |b| b[o]);
            // bias + input_offset · Σw, input_offset = -zp_in (wrapping i32).
            ch.bias = i64::from(b.wrapping_sub(q.input_zero_point.wrapping_mul(row_sum(o))));
        }
        Ok(Self {
            weights,
            in_dim,
            channels,
            output_zero_point: q.output_zero_point,
            act_min,
            act_max,
            requant,
        })
    }

    /// Number of inputs per batch row.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// # let q = Quantization { input_scale: 1.0, input_zero_point: 0, filter_scales: &[1.0],
    /// #     output_scale: 1.0, output_zero_point: 0, activation: Activation::None };
    /// let mut ch = [Channel::default(); 2];
    /// let fc = FullyConnected::new(&[0; 6], 3, None, &q, Requant::Double, &mut ch)?;
    /// assert_eq!((fc.in_dim(), fc.out_dim()), (3, 2));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn in_dim(&self) -> usize {
        self.in_dim
    }

    /// Number of outputs per batch row.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// # let q = Quantization { input_scale: 1.0, input_zero_point: 0, filter_scales: &[1.0],
    /// #     output_scale: 1.0, output_zero_point: 0, activation: Activation::None };
    /// let mut ch = [Channel::default(); 5];
    /// let fc = FullyConnected::new(&[0; 10], 2, None, &q, Requant::Double, &mut ch)?;
    /// assert_eq!(fc.out_dim(), 5);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn out_dim(&self) -> usize {
        self.channels.len()
    }

    /// The activation clamp `[act_min, act_max]` applied to the outputs.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// let q = Quantization { input_scale: 1.0, input_zero_point: 0, filter_scales: &[1.0],
    ///     output_scale: 0.05, output_zero_point: -28, activation: Activation::Relu6 };
    /// let mut ch = [Channel::default(); 1];
    /// let fc = FullyConnected::new(&[1], 1, None, &q, Requant::Double, &mut ch)?;
    /// assert_eq!(fc.activation_range(), (-28, 92));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn activation_range(&self) -> (i32, i32) {
        (self.act_min, self.act_max)
    }

    /// Runs `batch` rows: `input` is `batch × in_dim`, `output` is
    /// `batch × out_dim`.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// let q = Quantization { input_scale: 1.0, input_zero_point: 0, filter_scales: &[1.0],
    ///     output_scale: 1.0, output_zero_point: 0, activation: Activation::None };
    /// let mut ch = [Channel::default(); 1];
    /// let fc = FullyConnected::new(&[2, 1], 2, None, &q, Requant::Double, &mut ch)?;
    /// let mut out = [0i8; 3];
    /// fc.run(&[1, 1, 100, 100, -1, 0], 3, &mut out)?;
    /// assert_eq!(out, [3, 127, -2]); // saturates at 127
    /// assert!(fc.run(&[1, 1], 3, &mut out).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i8], batch: usize, output: &mut [i8]) -> Result<(), Error> {
        let out_dim = self.out_dim();
        check_len(
            batch.checked_mul(self.in_dim).ok_or(Error::Overflow)?,
            input.len(),
        )?;
        check_len(
            batch.checked_mul(out_dim).ok_or(Error::Overflow)?,
            output.len(),
        )?;
        let mut acc = [0i32; ROWS_PER_PASS];
        for b in 0..batch {
            let x = &input[b * self.in_dim..(b + 1) * self.in_dim];
            let y = &mut output[b * out_dim..(b + 1) * out_dim];
            for start in (0..out_dim).step_by(ROWS_PER_PASS) {
                let rows = ROWS_PER_PASS.min(out_dim - start);
                let acc = &mut acc[..rows];
                self.gemv(start, rows, x, acc)?;
                let chans = &self.channels[start..start + rows];
                for ((o, &a), ch) in y[start..start + rows].iter_mut().zip(acc.iter()).zip(chans) {
                    *o = self.requantize(a.wrapping_add(ch.bias as i32), ch) as i8;
                }
            }
        }
        Ok(())
    }

    /// Raw accumulators of rows `start..start + rows` (no bias).
    fn gemv(&self, start: usize, rows: usize, x: &[i8], acc: &mut [i32]) -> Result<(), Error> {
        let (a, b) = (start * self.in_dim, (start + rows) * self.in_dim);
        match self.weights {
            Weights::Full(w) => kernel::gemv_i8(&w[a..b], x, acc),
            Weights::Narrow(w) => {
                let w = w.get(a..b).ok_or(Error::Overflow)?;
                kernel::gemv_i8_narrow(w, x, acc)
            }
            // `start` is a multiple of ROWS_PER_PASS (even), so `a` is even.
            Weights::Int4(p) => kernel::gemv_i4_i8(&p[a / 2..b.div_ceil(2)], x, acc),
            Weights::Int4Prepared(p) => {
                let p = p.row_range(start, rows).ok_or(Error::Overflow)?;
                kernel::gemv_i4_prepared(&p, x, acc)
            }
        }
    }

    fn requantize(&self, acc: i32, ch: &Channel) -> i32 {
        match self.requant {
            Requant::Double | Requant::Single => {
                let rounding = if self.requant == Requant::Double {
                    Rounding::Double
                } else {
                    Rounding::Single
                };
                let y = multiply_by_quantized_multiplier(acc, ch.multiplier, rounding);
                y.saturating_add(self.output_zero_point)
                    .clamp(self.act_min, self.act_max)
            }
            Requant::Float32 => requantize_f32_raw(
                acc,
                ch.scale,
                self.output_zero_point,
                self.act_min,
                self.act_max,
            ),
        }
    }
}

fn weights_of(w: &[i8]) -> Weights<'_> {
    match NarrowI8::new(w) {
        Ok(n) => Weights::Narrow(n),
        Err(_) => Weights::Full(w),
    }
}

/// A 16x8 FULLY_CONNECTED layer: int16 activations (zero point 0), int8
/// weights, optional int64 bias, int16 output (zero point 0). The
/// accumulator is int64 and requantized with TFLite's 64-bit
/// `MultiplyByQuantizedMultiplier` (Q15 multiplier, one rounding; the same
/// in double- and single-rounding builds).
///
/// ```
/// use qkit::layer::{Activation, Channel, FullyConnected16x8, Quantization};
/// let q = Quantization { input_scale: 0.001, input_zero_point: 0, filter_scales: &[0.01],
///     output_scale: 0.01, output_zero_point: 0, activation: Activation::None };
/// let mut ch = [Channel::default(); 1];
/// let fc = FullyConnected16x8::new(&[100, -50], 2, Some(&[1_000_000]), &q, &mut ch)?;
/// let mut out = [0i16; 1];
/// fc.run(&[30000, 20000], 1, &mut out)?;
/// // (3_000_000 - 1_000_000 + 1_000_000) · 0.001 = 3000
/// assert_eq!(out, [3000]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug)]
pub struct FullyConnected16x8<'a> {
    weights: &'a [i8],
    in_dim: usize,
    channels: &'a [Channel],
    act_min: i32,
    act_max: i32,
}

impl<'a> FullyConnected16x8<'a> {
    /// Builds the layer. Zero points must be 0 (TFLite's 16x8 contract).
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FullyConnected16x8, Quantization};
    /// let q = Quantization { input_scale: 0.001, input_zero_point: 5, filter_scales: &[0.01],
    ///     output_scale: 0.01, output_zero_point: 0, activation: Activation::None };
    /// let mut ch = [Channel::default(); 1];
    /// assert!(FullyConnected16x8::new(&[1], 1, None, &q, &mut ch).is_err());
    /// ```
    pub fn new(
        weights: &'a [i8],
        in_dim: usize,
        bias: Option<&[i64]>,
        q: &Quantization<'_>,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        let out_dim = channels.len();
        check_len(
            out_dim.checked_mul(in_dim).ok_or(Error::Overflow)?,
            weights.len(),
        )?;
        check_zero_point(q.input_zero_point, 0, 0)?;
        check_zero_point(q.output_zero_point, 0, 0)?;
        if let Some(b) = bias {
            check_len(out_dim, b.len())?;
        }
        fill_multipliers(q, channels)?;
        let (act_min, act_max) =
            activation_range(q.activation, Quantizer::<i16>::new(q.output_scale, 0)?)?;
        let (act_min, act_max) = (i32::from(act_min), i32::from(act_max));
        for (o, ch) in channels.iter_mut().enumerate() {
            ch.bias = bias.map_or(0, |b| b[o]);
        }
        Ok(Self {
            weights,
            in_dim,
            channels,
            act_min,
            act_max,
        })
    }

    /// Runs `batch` rows: `input` is `batch × in_dim`, `output` is
    /// `batch × out_dim`.
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FullyConnected16x8, Quantization};
    /// let q = Quantization { input_scale: 1.0, input_zero_point: 0, filter_scales: &[1.0],
    ///     output_scale: 1.0, output_zero_point: 0, activation: Activation::Relu };
    /// let mut ch = [Channel::default(); 1];
    /// let fc = FullyConnected16x8::new(&[1, -1], 2, None, &q, &mut ch)?;
    /// let mut out = [0i16; 2];
    /// fc.run(&[300, 100, 100, 300], 2, &mut out)?;
    /// assert_eq!(out, [200, 0]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i16], batch: usize, output: &mut [i16]) -> Result<(), Error> {
        let out_dim = self.channels.len();
        check_len(
            batch.checked_mul(self.in_dim).ok_or(Error::Overflow)?,
            input.len(),
        )?;
        check_len(
            batch.checked_mul(out_dim).ok_or(Error::Overflow)?,
            output.len(),
        )?;
        let mut acc = [0i64; ROWS_PER_PASS];
        for b in 0..batch {
            let x = &input[b * self.in_dim..(b + 1) * self.in_dim];
            let y = &mut output[b * out_dim..(b + 1) * out_dim];
            for start in (0..out_dim).step_by(ROWS_PER_PASS) {
                let rows = ROWS_PER_PASS.min(out_dim - start);
                let w = &self.weights[start * self.in_dim..(start + rows) * self.in_dim];
                kernel::gemv_i16_i8(w, x, &mut acc[..rows])?;
                let chans = &self.channels[start..start + rows];
                for ((o, &a), ch) in y[start..start + rows].iter_mut().zip(acc.iter()).zip(chans) {
                    let v = multiply_by_quantized_multiplier_i64(
                        a.wrapping_add(ch.bias),
                        ch.multiplier,
                    );
                    *o = v.clamp(self.act_min, self.act_max) as i16;
                }
            }
        }
        Ok(())
    }
}
