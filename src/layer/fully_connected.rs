//! The fully-connected layers: [`FullyConnected`] (int8 / int4 weights) and
//! [`FullyConnected16x8`].

use crate::Error;
use crate::int4::{self, I4};
use crate::kernel::output_stage::{Clamp, requantize_tile, requantize_tile_i64};
use crate::kernel::{self, NarrowI8, PreparedI4};
use crate::ops::{Activation, activation_range};
use crate::quant::Quantizer;
use crate::requant::{
    conv_real_multiplier, fully_connected_real_multiplier_f32_product, quantize_multiplier,
    quantize_multiplier_checked,
};

/// How the accumulator is mapped back to the output type: which runtime's
/// requantization a layer reproduces.
pub use crate::kernel::Requant;
/// Per-output-channel data computed once by a layer constructor (folded
/// bias, multipliers), kept in caller storage: the table the kernel output
/// stage reads.
pub use crate::kernel::output_stage::Channel;

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
    clamp: Clamp,
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

/// The output zero point and activation clamp of an int8-output layer, as
/// TFLM's Prepare checks and computes them (`CalculateActivationRangeQuantized`).
///
/// With [`fill_channels`] and `kernel::output_stage::requantize_tile`, the
/// pieces every int8 layer (FC, convolutions) builds its output stage from.
pub(crate) fn int8_clamp(q: &Quantization<'_>) -> Result<Clamp, Error> {
    check_zero_point(q.output_zero_point, -128, 127)?;
    let (act_min, act_max) = activation_range(
        q.activation,
        Quantizer::<i8>::new(q.output_scale, q.output_zero_point)?,
    )?;
    Ok(Clamp::new(
        q.output_zero_point,
        act_min.into(),
        act_max.into(),
    ))
}

/// Fills a layer's per-channel table with what `requant` needs, as the
/// runtime's Prepare computes it: the real multiplier
/// `(double)s_in · s_w / s_out` (TFLM, LiteRT), its Q31 form, and the `f32`
/// scale `s_in · s_w / s_out` (ONNX Runtime, XNNPACK); `bias(o)` gives
/// channel `o`'s bias with whatever the layer folds into it.
///
/// Layers then hand tiles of accumulators with the matching slice of this
/// table to `kernel::output_stage::requantize_tile` (convolutions: one
/// output pixel's channels, or several pixels' as whole rows).
pub(crate) fn fill_channels(
    q: &Quantization<'_>,
    requant: Requant,
    channels: &mut [Channel],
    bias: impl Fn(usize) -> i64,
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
        // The integer modes need `multiplier >= 0` and a shift in
        // `-31..=30` (TFLite's and CMSIS-NN's range): anything else is an
        // error, never a silently wrapped or saturated multiplier. Inside
        // that range single rounding's multiplier equals double rounding's.
        let multiplier = match requant {
            Requant::Double | Requant::Single | Requant::LiteRtOptimized => {
                quantize_multiplier_checked(real)?
            }
            // Informative only in the float modes.
            Requant::LiteRtReference | Requant::Float32 => {
                quantize_multiplier(real).unwrap_or_default()
            }
        };
        let b = bias(c);
        *ch = Channel {
            bias: b as i32,
            multiplier,
            scale: q.input_scale * s_w / q.output_scale,
            real,
            bias64: b,
        };
    }
    Ok(())
}

/// LiteRT's optimized FULLY_CONNECTED forms a per-tensor multiplier from the
/// `f32` product `s_in · s_w` (`GetQuantizedConvolutionMultipler`), unlike
/// TFLM and LiteRT's reference kernel, which form it all in `f64`; golden
/// vectors from the LiteRT interpreter separate the two
/// (`tests/litert_golden.rs`). Per channel both runtimes use `f64`.
fn litert_per_tensor_multipliers(
    q: &Quantization<'_>,
    channels: &mut [Channel],
) -> Result<(), Error> {
    let real = fully_connected_real_multiplier_f32_product(
        q.input_scale,
        q.filter_scales.first().copied().unwrap_or(0.0),
        q.output_scale,
    )?;
    let multiplier = quantize_multiplier_checked(real)?;
    for ch in channels {
        ch.multiplier = multiplier;
        ch.real = real;
    }
    Ok(())
}

/// Runs `batch` rows of a fully-connected layer, `ROWS_PER_PASS` output
/// channels at a time: `gemv(start, x, acc)` fills the raw accumulators of
/// rows `start..start + acc.len()`, then `stage(acc, channels, out)` is the
/// output stage of that tile. The one run loop of both FC layers.
fn run_tiles<X, A: Copy + Default, Y>(
    in_dim: usize,
    channels: &[Channel],
    input: &[X],
    batch: usize,
    output: &mut [Y],
    gemv: impl Fn(usize, &[X], &mut [A]) -> Result<(), Error>,
    stage: impl Fn(&[A], &[Channel], &mut [Y]),
) -> Result<(), Error> {
    let out_dim = channels.len();
    check_len(
        batch.checked_mul(in_dim).ok_or(Error::Overflow)?,
        input.len(),
    )?;
    check_len(
        batch.checked_mul(out_dim).ok_or(Error::Overflow)?,
        output.len(),
    )?;
    if out_dim == 0 {
        return Ok(()); // nothing to compute, however large `batch` is
    }
    let mut acc = [A::default(); ROWS_PER_PASS];
    for (b, y) in output.chunks_exact_mut(out_dim).enumerate() {
        let x = input.get(b * in_dim..(b + 1) * in_dim).unwrap_or(&[]);
        let tiles = channels
            .chunks(ROWS_PER_PASS)
            .zip(y.chunks_mut(ROWS_PER_PASS));
        for (t, (chans, out)) in tiles.enumerate() {
            let acc = &mut acc[..chans.len()];
            gemv(t * ROWS_PER_PASS, x, acc)?;
            stage(acc, chans, out);
        }
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
                    let w = int4::get::<I4>(packed, i).map_or(0, I4::get);
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
        if let Some(b) = bias {
            check_len(channels.len(), b.len())?;
        }
        let clamp = int8_clamp(q)?;
        fill_channels(q, requant, channels, |o| {
            let b = bias.and_then(|b| b.get(o)).copied().unwrap_or(0);
            // bias + input_offset · Σw, input_offset = -zp_in (wrapping i32).
            i64::from(b.wrapping_sub(q.input_zero_point.wrapping_mul(row_sum(o))))
        })?;
        if requant == Requant::LiteRtOptimized && q.filter_scales.len() == 1 {
            litert_per_tensor_multipliers(q, channels)?;
        }
        Ok(Self {
            weights,
            in_dim,
            channels,
            clamp,
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
        (self.clamp.act_min, self.clamp.act_max)
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
        run_tiles(
            self.in_dim,
            self.channels,
            input,
            batch,
            output,
            |start, x, acc| self.gemv(start, acc.len(), x, acc),
            |acc, channels, out| requantize_tile(acc, channels, self.requant, self.clamp, out),
        )
    }

    /// Raw accumulators of rows `start..start + rows` (no bias).
    fn gemv(&self, start: usize, rows: usize, x: &[i8], acc: &mut [i32]) -> Result<(), Error> {
        let (a, b) = (start * self.in_dim, (start + rows) * self.in_dim);
        match self.weights {
            Weights::Full(w) => kernel::gemv_i8(w.get(a..b).ok_or(Error::Overflow)?, x, acc),
            Weights::Narrow(w) => {
                let w = w.get(a..b).ok_or(Error::Overflow)?;
                kernel::gemv_i8_narrow(w, x, acc)
            }
            // `start` is a multiple of ROWS_PER_PASS (even), so `a` is even.
            Weights::Int4(p) => {
                let p = p.get(a / 2..b.div_ceil(2)).ok_or(Error::Overflow)?;
                kernel::gemv_i4_i8(p, x, acc)
            }
            Weights::Int4Prepared(p) => {
                let p = p.row_range(start, rows).ok_or(Error::Overflow)?;
                kernel::gemv_i4_prepared(&p, x, acc)
            }
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
    clamp: Clamp,
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
        let (act_min, act_max) =
            activation_range(q.activation, Quantizer::<i16>::new(q.output_scale, 0)?)?;
        fill_channels(q, Requant::Double, channels, |o| {
            bias.and_then(|b| b.get(o)).copied().unwrap_or(0)
        })?;
        Ok(Self {
            weights,
            in_dim,
            channels,
            clamp: Clamp::new(0, act_min.into(), act_max.into()),
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
        let in_dim = self.in_dim;
        run_tiles(
            in_dim,
            self.channels,
            input,
            batch,
            output,
            |start, x, acc| {
                let rows = start..start + acc.len();
                let w = self
                    .weights
                    .get(rows.start * in_dim..rows.end * in_dim)
                    .ok_or(Error::Overflow)?;
                kernel::gemv_i16_i8(w, x, acc)
            },
            |acc, channels, out| requantize_tile_i64(acc, channels, self.clamp, out),
        )
    }
}
