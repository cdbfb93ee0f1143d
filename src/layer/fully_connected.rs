//! The fully-connected layers: [`FullyConnected`] (int8 / int4 weights) and
//! [`FullyConnected16x8`], and their owned forms ([`FullyConnectedBuf`],
//! [`FullyConnected16x8Buf`]).

mod owned;
pub use owned::{FullyConnected16x8Buf, FullyConnectedBuf};

use super::quantization::{FilterQuantizer, Quantization};
use super::stage::{Stage, prepare_16x8, prepare_int8};
use crate::Error;
use crate::QInt;
use crate::int4::{self, I4};
use crate::kernel::output_stage::{Clamp, requantize_tile_i64};
use crate::kernel::{self, Isa, NarrowI8, PreparedI4};
use crate::ops::activation_range;
use crate::requant::{
    conv_real_multiplier, fully_connected_real_multiplier_f32_product, quantize_multiplier,
    quantize_multiplier_checked,
};

/// How the accumulator is mapped back to the output type: which runtime's
/// requantization a layer reproduces.
pub use crate::kernel::RequantMode;
/// Per-output-channel data computed once by a layer constructor (folded
/// bias, multipliers), kept in caller storage: the table the kernel output
/// stage reads.
pub use crate::kernel::output_stage::Channel;

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
/// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode};
/// use qkit::quant::Quantizer;
/// // Per-channel weight scales, RELU, a batch of two rows.
/// let q = Quantization {
///     input: Quantizer::new(0.5, 0)?,
///     filter: FilterQuantizer::symmetric(&[0.5, 0.25])?,
///     output: Quantizer::new(1.0, 0)?,
///     activation: Activation::Relu,
/// };
/// let mut ch = [Channel::default(); 2];
/// let fc = FullyConnected::new(&[4, 4, -8, 8], 2, None, &q, RequantMode::Double, &mut ch)?;
/// let mut out = [0i8; 4];
/// fc.run(&[1, 2, 3, 1], 2, &mut out)?;
/// // row 0: 12·0.25 = 3, 8·0.125 = 1; row 1: 16·0.25 = 4, -16·0.125 -> RELU 0
/// assert_eq!(out, [3, 1, 4, 0]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct FullyConnected<'a> {
    plan: Plan<'a>,
    channels: &'a [Channel],
}

/// Everything of a prepared [`FullyConnected`] but its per-channel table:
/// shared by the borrowed and the owned ([`FullyConnectedBuf`]) form.
#[derive(Debug, Clone, Copy)]
struct Plan<'w> {
    weights: Weights<'w>,
    in_dim: usize,
    stage: Stage,
    isa: Isa,
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
    let (act_min, act_max) = activation_range(q.activation, q.output)?;
    Ok(Clamp::new(
        q.output.zero_point(),
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
pub(crate) fn fill_channels<A: QInt>(
    q: &Quantization<'_, A>,
    requant: RequantMode,
    channels: &mut [Channel],
    bias: impl Fn(usize) -> i64,
) -> Result<(), Error> {
    q.filter.check(channels.len())?;
    let (s_in, s_out) = (q.input.scale(), q.output.scale());
    for (c, ch) in channels.iter_mut().enumerate() {
        let s_w = q.filter.scale(c).ok_or(Error::Overflow)?;
        // TFLM forms every FC multiplier in f64, per-tensor included (see
        // the module docs; golden probes in tests/data/fc_golden.json).
        let real = conv_real_multiplier(s_in, s_w, s_out)?;
        // The integer modes need `multiplier >= 0` and a shift in
        // `-31..=30` (TFLite's and CMSIS-NN's range): anything else is an
        // error, never a silently wrapped or saturated multiplier. Inside
        // that range single rounding's multiplier equals double rounding's.
        let multiplier = match requant {
            RequantMode::Double | RequantMode::Single | RequantMode::LiteRtOptimized => {
                quantize_multiplier_checked(real)?
            }
            // Informative only in the float modes.
            RequantMode::LiteRtReference | RequantMode::Float32 => {
                quantize_multiplier(real).unwrap_or_default()
            }
        };
        let b = bias(c);
        *ch = Channel {
            bias: b as i32,
            multiplier,
            scale: s_in * s_w / s_out,
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
        q.input.scale(),
        q.filter.scale(0).unwrap_or(0.0),
        q.output.scale(),
    )?;
    let multiplier = quantize_multiplier_checked(real)?;
    for ch in channels {
        ch.multiplier = multiplier;
        ch.real = real;
    }
    Ok(())
}

/// The activation and output rows of a batch, once `input` is checked to
/// hold `batch` rows of `in_dim` and `output` `batch` rows of `out_dim`
/// (none when `out_dim` is 0: nothing to compute, however large `batch`).
fn batch_rows<'a, X, Y>(
    in_dim: usize,
    out_dim: usize,
    input: &'a [X],
    batch: usize,
    output: &'a mut [Y],
) -> Result<impl Iterator<Item = (&'a [X], &'a mut [Y])>, Error> {
    check_len(
        batch.checked_mul(in_dim).ok_or(Error::Overflow)?,
        input.len(),
    )?;
    check_len(
        batch.checked_mul(out_dim).ok_or(Error::Overflow)?,
        output.len(),
    )?;
    // `output` is empty when `out_dim` is 0.
    let rows = output.chunks_exact_mut(out_dim.max(1)).enumerate();
    Ok(rows.map(move |(b, y)| (input.get(b * in_dim..(b + 1) * in_dim).unwrap_or(&[]), y)))
}

/// Runs `batch` rows of a fully-connected layer, `ROWS_PER_PASS` output
/// channels at a time: `tile(start, x, acc, channels, out)` computes the
/// outputs `out` of rows `start..start + channels.len()` (their GEMV, with
/// `acc` as the accumulators' scratch, then their output stage). The one
/// run loop of both FC layers.
fn run_tiles<X, A: Copy + Default, Y>(
    in_dim: usize,
    channels: &[Channel],
    input: &[X],
    batch: usize,
    output: &mut [Y],
    tile: impl Fn(usize, &[X], &mut [A], &[Channel], &mut [Y]) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut acc = [A::default(); ROWS_PER_PASS];
    for (x, y) in batch_rows(in_dim, channels.len(), input, batch, output)? {
        let tiles = channels
            .chunks(ROWS_PER_PASS)
            .zip(y.chunks_mut(ROWS_PER_PASS));
        for (t, (chans, out)) in tiles.enumerate() {
            tile(t * ROWS_PER_PASS, x, &mut acc[..chans.len()], chans, out)?;
        }
    }
    Ok(())
}

impl<'a> FullyConnected<'a> {
    /// Builds the layer from int8 weights (`channels.len()` rows of `in_dim`)
    /// and the quantizers the layer is defined by. Weights without -128 run
    /// the faster narrow-range kernels automatically.
    ///
    /// Errors: weights/bias lengths, filter scale count (1 or out_dim),
    /// weight zero points other than 0, a multiplier outside TFLite's range
    /// (`ShiftOutOfRange`). Scales and zero points were checked by the
    /// quantizers already.
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::Relu,
    /// };
    /// let mut ch = [Channel::default(); 2];
    /// let fc = FullyConnected::new(&[1, 1, -1, -1], 2, None, &q, RequantMode::Double, &mut ch)?;
    /// let mut out = [0i8; 2];
    /// fc.run(&[3, 4], 1, &mut out)?;
    /// assert_eq!(out, [7, 0]); // RELU
    /// assert!(FullyConnected::new(&[1, 2, 3], 2, None, &q, RequantMode::Double, &mut ch).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        weights: &'a [i8],
        in_dim: usize,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: RequantMode,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        let plan = Plan::i8(weights, in_dim, bias, q, requant, channels)?;
        Ok(Self { plan, channels })
    }

    /// Builds the layer from packed int4 weights (TFLite layout: flat over
    /// the `[out][in]` tensor, element `2k` in the low nibble of byte `k`;
    /// `packed.len() == (out·in).div_ceil(2)`). TFLM accepts int4 only with
    /// per-tensor scales; qkit accepts both.
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// // One row [7, -1]: 0xF7.
    /// let fc = FullyConnected::new_i4(&[0xF7], 2, None, &q, RequantMode::Double, &mut ch)?;
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
        requant: RequantMode,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        let plan = Plan::i4(packed, in_dim, bias, q, requant, channels)?;
        Ok(Self { plan, channels })
    }

    /// Builds the layer from int4 weights already prepared by
    /// [`PreparedI4::new`] (the fastest int4 path; `weights.rows()` must be
    /// `channels.len()`). Same results as [`new_i4`](Self::new_i4).
    ///
    /// ```
    /// use qkit::kernel::PreparedI4;
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 1)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut buf = [0u8; 32];
    /// let w = PreparedI4::new(&[0xF7], 1, 2, &mut buf)?; // one row [7, -1]
    /// let mut ch = [Channel::default(); 1];
    /// let fc = FullyConnected::new_i4_prepared(w, None, &q, RequantMode::Double, &mut ch)?;
    /// let mut out = [0i8; 1];
    /// fc.run(&[3, 4], 1, &mut out)?;
    /// assert_eq!(out, [11]); // 7·2 - 1·3
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new_i4_prepared(
        weights: PreparedI4<'a>,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: RequantMode,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        let plan = Plan::i4_prepared(weights, bias, q, requant, channels)?;
        Ok(Self { plan, channels })
    }

    /// Number of inputs per batch row.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// # use qkit::quant::Quantizer;
    /// # let q = Quantization {
    /// #     input: Quantizer::new(1.0, 0)?,
    /// #     filter: FilterQuantizer::symmetric(&[1.0])?,
    /// #     output: Quantizer::new(1.0, 0)?,
    /// #     activation: Activation::None,
    /// # };
    /// let mut ch = [Channel::default(); 2];
    /// let fc = FullyConnected::new(&[0; 6], 3, None, &q, RequantMode::Double, &mut ch)?;
    /// assert_eq!((fc.in_dim(), fc.out_dim()), (3, 2));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn in_dim(&self) -> usize {
        self.plan.in_dim
    }

    /// Number of outputs per batch row.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// # use qkit::quant::Quantizer;
    /// # let q = Quantization {
    /// #     input: Quantizer::new(1.0, 0)?,
    /// #     filter: FilterQuantizer::symmetric(&[1.0])?,
    /// #     output: Quantizer::new(1.0, 0)?,
    /// #     activation: Activation::None,
    /// # };
    /// let mut ch = [Channel::default(); 5];
    /// let fc = FullyConnected::new(&[0; 10], 2, None, &q, RequantMode::Double, &mut ch)?;
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
    /// # use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(0.05, -28)?,
    ///     activation: Activation::Relu6,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// let fc = FullyConnected::new(&[1], 1, None, &q, RequantMode::Double, &mut ch)?;
    /// assert_eq!(fc.activation_range(), (-28, 92));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn activation_range(&self) -> (i32, i32) {
        self.plan.stage.activation_range()
    }

    /// Runs `batch` rows: `input` is `batch × in_dim`, `output` is
    /// `batch × out_dim`.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// # use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// let fc = FullyConnected::new(&[2, 1], 2, None, &q, RequantMode::Double, &mut ch)?;
    /// let mut out = [0i8; 3];
    /// fc.run(&[1, 1, 100, 100, -1, 0], 3, &mut out)?;
    /// assert_eq!(out, [3, 127, -2]); // saturates at 127
    /// assert!(fc.run(&[1, 1], 3, &mut out).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i8], batch: usize, output: &mut [i8]) -> Result<(), Error> {
        self.plan.run(self.channels, input, batch, output)
    }

    /// The per-output-channel table this layer filled and runs on (folded
    /// bias, multipliers), one [`Channel`] per output.
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 1)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 2];
    /// let fc = FullyConnected::new(&[1, 2, 3, 4], 2, Some(&[5, 6]), &q, RequantMode::Double, &mut ch)?;
    /// let folded: Vec<i64> = fc.channels().iter().map(Channel::folded_bias).collect();
    /// assert_eq!(folded, [5 - 3, 6 - 7]); // bias - zp_in · Σw
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn channels(&self) -> &'a [Channel] {
        self.channels
    }

    /// The instruction set the layer's GEMV (and, for int8 weights, its
    /// output stage) runs on ([`Isa::detect`] unless chosen with
    /// [`with_isa`](Self::with_isa)).
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// let fc = FullyConnected::new(&[1, 2], 2, None, &q, RequantMode::Double, &mut ch)?;
    /// assert_eq!(fc.isa(), Isa::detect());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn isa(&self) -> Isa {
        self.plan.isa
    }

    /// The same layer running its GEMV on `isa` (every instruction set
    /// computes the same integers; this picks the speed, e.g. to compare
    /// paths or to stay off AVX-512 on a CPU that downclocks).
    /// `Err(InvalidParameter)` if `isa` cannot run on this CPU.
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// let fc = FullyConnected::new(&[1, 2], 2, None, &q, RequantMode::Double, &mut ch)?;
    /// let generic = fc.with_isa(Isa::Generic)?;
    /// let (mut a, mut b) = ([0i8; 1], [0i8; 1]);
    /// fc.run(&[3, 4], 1, &mut a)?;
    /// generic.run(&[3, 4], 1, &mut b)?;
    /// assert_eq!((a, generic.isa()), (b, Isa::Generic));
    /// for isa in Isa::ALL {
    ///     assert_eq!(fc.with_isa(isa).is_ok(), isa.is_available());
    /// }
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_isa(self, isa: Isa) -> Result<Self, Error> {
        Ok(Self {
            plan: self.plan.with_isa(isa)?,
            ..self
        })
    }
}

impl<'w> Plan<'w> {
    /// [`FullyConnected::new`]'s Prepare.
    fn i8(
        weights: &'w [i8],
        in_dim: usize,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: RequantMode,
        channels: &mut [Channel],
    ) -> Result<Self, Error> {
        let out_dim = channels.len();
        check_len(
            out_dim.checked_mul(in_dim).ok_or(Error::Overflow)?,
            weights.len(),
        )?;
        Self::new(
            weights_of(weights),
            in_dim,
            bias,
            q,
            requant,
            channels,
            |o| kernel::sum_i8(&weights[o * in_dim..(o + 1) * in_dim]),
        )
    }

    /// [`FullyConnected::new_i4`]'s Prepare.
    fn i4(
        packed: &'w [u8],
        in_dim: usize,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: RequantMode,
        channels: &mut [Channel],
    ) -> Result<Self, Error> {
        let n = channels.len().checked_mul(in_dim).ok_or(Error::Overflow)?;
        check_len(n.div_ceil(2), packed.len())?;
        Self::new(
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

    /// [`FullyConnected::new_i4_prepared`]'s Prepare.
    fn i4_prepared(
        weights: PreparedI4<'w>,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: RequantMode,
        channels: &mut [Channel],
    ) -> Result<Self, Error> {
        check_len(channels.len(), weights.rows())?;
        Self::new(
            Weights::Int4Prepared(weights),
            weights.cols(),
            bias,
            q,
            requant,
            channels,
            |o| weights.row_sum(o),
        )
    }

    /// The Prepare of an int8 FC: checks, fills `channels` (folded bias,
    /// multipliers as the runtime forms them), picks the clamp.
    fn new(
        weights: Weights<'w>,
        in_dim: usize,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: RequantMode,
        channels: &mut [Channel],
        row_sum: impl Fn(usize) -> i32,
    ) -> Result<Self, Error> {
        let stage = prepare_int8(q, requant, bias, channels, row_sum)?;
        if requant == RequantMode::LiteRtOptimized
            && matches!(q.filter, FilterQuantizer::PerTensor(_))
        {
            litert_per_tensor_multipliers(q, channels)?;
        }
        Ok(Self {
            weights,
            in_dim,
            stage,
            isa: Isa::detect(),
        })
    }

    /// The plan with another instruction set, if it can run here.
    fn with_isa(self, isa: Isa) -> Result<Self, Error> {
        if isa.is_available() {
            Ok(Self { isa, ..self })
        } else {
            Err(Error::InvalidParameter(
                "instruction set not available on this CPU",
            ))
        }
    }

    /// Runs `batch` rows against `channels` (the table this plan filled).
    fn run(
        &self,
        channels: &[Channel],
        input: &[i8],
        batch: usize,
        output: &mut [i8],
    ) -> Result<(), Error> {
        let (w, narrow) = match self.weights {
            Weights::Full(w) => (w, false),
            Weights::Narrow(w) => (w.as_slice(), true),
            Weights::Int4(_) | Weights::Int4Prepared(_) => {
                return run_tiles(
                    self.in_dim,
                    channels,
                    input,
                    batch,
                    output,
                    |start, x, acc, channels, out| self.tile_i4(start, x, acc, channels, out),
                );
            }
        };
        // int8 weights: each activation row is one tile of every output
        // channel; the kernel table's fully-connected entry splits it as its
        // accumulators need (one call, so its set-up is paid once per row).
        for (x, y) in batch_rows(self.in_dim, channels.len(), input, batch, output)? {
            self.stage
                .run_fc_tile(self.isa, w, narrow, x, channels, y)?;
        }
        Ok(())
    }

    /// The outputs of rows `start..start + channels.len()` for int4
    /// weights: their GEMV into `acc`, then the output stage.
    fn tile_i4(
        &self,
        start: usize,
        x: &[i8],
        acc: &mut [i32],
        channels: &[Channel],
        out: &mut [i8],
    ) -> Result<(), Error> {
        let rows = channels.len();
        let (a, b) = (start * self.in_dim, (start + rows) * self.in_dim);
        let isa = self.isa;
        match self.weights {
            // `start` is a multiple of ROWS_PER_PASS (even), so `a` is even.
            Weights::Int4(p) => {
                let p = p.get(a / 2..b.div_ceil(2)).ok_or(Error::Overflow)?;
                isa.gemv_i4_i8(p, x, acc)?;
            }
            Weights::Int4Prepared(p) => {
                let p = p.row_range(start, rows).ok_or(Error::Overflow)?;
                isa.gemv_i4_prepared(&p, x, acc)?;
            }
            Weights::Full(_) | Weights::Narrow(_) => {
                return Err(Error::InvalidParameter("int4 tile of int8 weights"));
            }
        }
        self.stage.apply(acc, channels, out)
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
/// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected16x8, Quantization};
/// use qkit::quant::Quantizer;
/// let q = Quantization {
///     input: Quantizer::new(0.001, 0)?,
///     filter: FilterQuantizer::symmetric(&[0.01])?,
///     output: Quantizer::new(0.01, 0)?,
///     activation: Activation::None,
/// };
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
    plan: Plan16x8<'a>,
    channels: &'a [Channel],
}

/// Everything of a prepared [`FullyConnected16x8`] but its per-channel
/// table (shared with [`FullyConnected16x8Buf`]).
#[derive(Debug, Clone, Copy)]
struct Plan16x8<'w> {
    weights: &'w [i8],
    in_dim: usize,
    clamp: Clamp,
}

impl<'w> Plan16x8<'w> {
    /// [`FullyConnected16x8::new`]'s Prepare.
    fn new(
        weights: &'w [i8],
        in_dim: usize,
        bias: Option<&[i64]>,
        q: &Quantization<'_, i16>,
        channels: &mut [Channel],
    ) -> Result<Self, Error> {
        check_len(
            channels.len().checked_mul(in_dim).ok_or(Error::Overflow)?,
            weights.len(),
        )?;
        if let Some(b) = bias {
            check_len(channels.len(), b.len())?;
        }
        let bias = bias.map(|b| move |o: usize| b.get(o).copied().unwrap_or(0));
        let (act_min, act_max) = prepare_16x8(q, bias, channels)?;
        Ok(Self {
            weights,
            in_dim,
            clamp: Clamp::new(0, act_min, act_max),
        })
    }

    fn run(
        &self,
        channels: &[Channel],
        input: &[i16],
        batch: usize,
        output: &mut [i16],
    ) -> Result<(), Error> {
        let in_dim = self.in_dim;
        run_tiles(
            in_dim,
            channels,
            input,
            batch,
            output,
            |start, x, acc, channels, out| {
                let rows = start..start + acc.len();
                let w = self
                    .weights
                    .get(rows.start * in_dim..rows.end * in_dim)
                    .ok_or(Error::Overflow)?;
                kernel::gemv_i16_i8(w, x, acc)?;
                requantize_tile_i64(acc, channels, self.clamp, out);
                Ok(())
            },
        )
    }
}

impl<'a> FullyConnected16x8<'a> {
    /// Builds the layer. Zero points must be 0 (TFLite's 16x8 contract).
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected16x8, Quantization};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(0.001, 5)?,
    ///     filter: FilterQuantizer::symmetric(&[0.01])?,
    ///     output: Quantizer::new(0.01, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// assert!(FullyConnected16x8::new(&[1], 1, None, &q, &mut ch).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        weights: &'a [i8],
        in_dim: usize,
        bias: Option<&[i64]>,
        q: &Quantization<'_, i16>,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        let plan = Plan16x8::new(weights, in_dim, bias, q, channels)?;
        Ok(Self { plan, channels })
    }

    /// Runs `batch` rows: `input` is `batch × in_dim`, `output` is
    /// `batch × out_dim`.
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected16x8, Quantization};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::Relu,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// let fc = FullyConnected16x8::new(&[1, -1], 2, None, &q, &mut ch)?;
    /// let mut out = [0i16; 2];
    /// fc.run(&[300, 100, 100, 300], 2, &mut out)?;
    /// assert_eq!(out, [200, 0]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i16], batch: usize, output: &mut [i16]) -> Result<(), Error> {
        self.plan.run(self.channels, input, batch, output)
    }

    /// The per-output-channel table (int64 folded bias, Q31 multiplier).
    /// The 16x8 GEMV has one (portable) implementation, so there is no
    /// instruction set to choose.
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected16x8, Quantization};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 2];
    /// let fc = FullyConnected16x8::new(&[1, -1], 1, Some(&[7, -9]), &q, &mut ch)?;
    /// assert_eq!(fc.channels()[1].folded_bias(), -9);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn channels(&self) -> &'a [Channel] {
        self.channels
    }
}
