//! The output stage: bias, requantization, zero point and activation clamp,
//! turning `i32` accumulators into `i8`, `u8` or `i16` outputs, bit for bit
//! as the runtime you name computes them — written once, SIMD on every
//! instruction set qkit has, and shared by the slice API ([`requantize`]),
//! [`FullyConnected`](crate::layer::FullyConnected) and the convolution
//! layers.
//!
//! For element `i` of channel `c = i % channels` (channels innermost, as in
//! TFLite's `[batch, out_depth]` and NHWC tensors):
//!
//! ```text
//! out[i] = clamp(requantize(acc[i] + bias[c], M[c]) + zero_point, act_min, act_max)
//! ```
//!
//! The bias add wraps in `i32` (as TFLite's accumulation does); the zero
//! point is added exactly (where the runtimes' C code would overflow an
//! `int32`, which is undefined behaviour there, qkit clamps the exact sum).
//! `requantize` is one of the runtimes' arithmetics ([`Scaling`] for the
//! slice API, [`RequantMode`] for layers):
//!
//! | mode | runtime | `requantize(x, M)` |
//! | --- | --- | --- |
//! | `Double` | TFLite Micro, CMSIS-NN (default builds) | `rounding_divide_by_pot(srdhm(x << L, q), R)` |
//! | `Single` | `TFLITE_SINGLE_ROUNDING`, `CMSIS_NN_USE_SINGLE_ROUNDING` | `(x·q + 2^(t-1)) >> t`, `t = 31 - shift` |
//! | `LiteRtOptimized` | LiteRT's optimized (NEON) kernels | `srdhm(x << L, q)`, then a rounding shift by `R`, ties up (`vrshl`) |
//! | `LiteRtReference` | LiteRT's reference FULLY_CONNECTED | `(int32)round(x · M)` in `f64`, ties away |
//! | `Float32` | ONNX Runtime (MLAS), XNNPACK `fp32` | `x as f32 · scale`, clamped, ties to even |
//!
//! (`L = max(shift, 0)`, `R = max(-shift, 0)`; the scalar definitions are
//! [`multiply_by_quantized_multiplier`](crate::requant::multiply_by_quantized_multiplier),
//! [`multiply_by_quantized_multiplier_ties_up`](crate::requant::multiply_by_quantized_multiplier_ties_up),
//! [`requantize_f64`](crate::requant::requantize_f64) and
//! [`requantize_f32`](crate::requant::requantize_f32).)
//!
//! ## Paths
//!
//! The algorithm (rows of channels, whole vectors, one zero-padded vector
//! for the rest of each row) is written once over the few lane operations
//! an instruction set supplies; the portable path is the same code on one
//! lane and is the specification. Every path is bit-identical to it:
//!
//! | [`Isa`] | lanes | modes in SIMD |
//! | --- | --- | --- |
//! | `Generic`, `Sse2` | 1 (portable) | — |
//! | `Avx2` | 8 | all but `LiteRtReference` |
//! | `Avx512Vnni` | 16 (AVX-512F) | all but `LiteRtReference` |
//! | `Mve` | 4 (Helium; one `asm!` loop of its own, and fused with the GEMV in the FC layer) | `Double` into `i8` |
//! | `Neon`, `NeonDotprod` | 8 (two NEON vectors) | all but `LiteRtReference` |
//!
//! `LiteRtReference` (an `f64` multiply per element) runs the portable code
//! everywhere; so does the 64-bit-accumulator form of 16x8 layers.
//!
//! ## Layers: the per-channel table and tiles
//!
//! A layer computes a [`Channel`](crate::layer::Channel) record per output
//! channel once (folded bias, Q31 multiplier, `f32` scale, `f64` real
//! multiplier: whatever its mode needs) into caller storage, and after each
//! GEMV/convolution tile hands the tile's accumulators with the matching
//! slice of that table to the crate-internal `requantize_tile` (or
//! `requantize_tile_i64` for 64-bit accumulators): `acc[i]` is channel
//! `channels[i % channels.len()]`, so a tile is any run of whole channel
//! rows. No mode is decided per element and no table is rebuilt per call.

mod driver;
mod lanes;
#[cfg(test)]
mod tests;

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
pub(crate) use driver::run as run_lanes;
pub(crate) use driver::run_scalar;
pub use lanes::Lanes;

use super::{Isa, dispatch};
use crate::requant::QuantizedMultiplier;
use crate::{Error, QInt};

/// One multiplier for the whole tensor, or one per output channel.
///
/// `M` is the kind of multiplier a [`Scaling`] mode needs: a Q31
/// [`QuantizedMultiplier`] (the default), an `f32` scale
/// ([`Scaling::Float32`]) or an `f64` real multiplier
/// ([`Scaling::LiteRtReference`]).
///
/// ```
/// use qkit::kernel::Multipliers;
/// use qkit::requant::QuantizedMultiplier;
/// let per_channel = [QuantizedMultiplier::ONE; 3];
/// assert_eq!(Multipliers::PerChannel(&per_channel).channels(), Some(3));
/// assert_eq!(Multipliers::PerTensor(QuantizedMultiplier::ONE).channels(), None);
/// assert_eq!(Multipliers::PerChannel(&[0.5f32, 0.25]).channels(), Some(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Multipliers<'a, M = QuantizedMultiplier> {
    /// The same multiplier for every element.
    PerTensor(M),
    /// `multipliers[c]` for output channel `c`; channels are the innermost
    /// (fastest-varying) dimension, as in TFLite's `[batch, out_depth]`.
    PerChannel(&'a [M]),
}

impl<M> Multipliers<'_, M> {
    /// The channel count a per-channel table implies (`None` per tensor).
    ///
    /// ```
    /// use qkit::kernel::Multipliers;
    /// use qkit::requant::QuantizedMultiplier;
    /// assert_eq!(Multipliers::<QuantizedMultiplier>::PerChannel(&[]).channels(), Some(0));
    /// ```
    pub fn channels(&self) -> Option<usize> {
        match self {
            Multipliers::PerTensor(_) => None,
            Multipliers::PerChannel(m) => Some(m.len()),
        }
    }
}

/// Which runtime's requantization a layer reproduces (the modes of the
/// output stage, without their multipliers; a layer computes those from its
/// scales). Also available as [`layer::RequantMode`](crate::layer::RequantMode).
///
/// Three names, three concepts: `RequantMode` picks a runtime's whole
/// output stage (each variant is named after the runtime it reproduces);
/// [`Rounding`](crate::requant::Rounding) is the integer rounding of one
/// fixed-point multiply (TFLite's double or single rounding);
/// [`Round`](crate::Round) is how a quantizer rounds a float.
///
/// ```
/// use qkit::kernel::RequantMode;
/// assert_eq!(RequantMode::default(), RequantMode::Double); // TFLite Micro's default build
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RequantMode {
    /// TFLite Micro / CMSIS-NN default: double rounding
    /// ([`Rounding::Double`](crate::requant::Rounding::Double)).
    #[default]
    Double,
    /// `TFLITE_SINGLE_ROUNDING` / `CMSIS_NN_USE_SINGLE_ROUNDING`
    /// ([`Rounding::Single`](crate::requant::Rounding::Single); layers form
    /// multipliers above 2^30 saturated, as those builds do).
    Single,
    /// LiteRT's optimized (NEON) kernels: TFLite Micro's double rounding
    /// except that the final shift rounds ties up
    /// ([`multiply_by_quantized_multiplier_ties_up`](crate::requant::multiply_by_quantized_multiplier_ties_up)).
    LiteRtOptimized,
    /// LiteRT's reference FULLY_CONNECTED: `(int32)round(acc · M)` with the
    /// real multiplier `M` in `f64` ([`requantize_f64`](crate::requant::requantize_f64)).
    LiteRtReference,
    /// ONNX Runtime / XNNPACK: `acc as f32 · (s_in·s_w/s_out as f32)`, ties
    /// to even ([`requantize_f32`](crate::requant::requantize_f32)).
    Float32,
}

/// How the slice API scales accumulators: a runtime's arithmetic
/// ([`RequantMode`]) together with its multipliers, per tensor or per channel.
///
/// ```
/// use qkit::kernel::{Multipliers, RequantMode, Scaling};
/// use qkit::requant::quantize_multiplier;
/// let tflm = Scaling::Double(Multipliers::PerTensor(quantize_multiplier(0.25)?));
/// let ort = Scaling::Float32(Multipliers::PerChannel(&[0.25, 0.5]));
/// assert_eq!((tflm.requant(), ort.requant()), (RequantMode::Double, RequantMode::Float32));
/// assert_eq!(ort.channels(), Some(2));
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scaling<'a> {
    /// [`RequantMode::Double`] with Q31 multipliers.
    Double(Multipliers<'a>),
    /// [`RequantMode::Single`] with Q31 multipliers.
    Single(Multipliers<'a>),
    /// [`RequantMode::LiteRtOptimized`] with Q31 multipliers.
    LiteRtOptimized(Multipliers<'a>),
    /// [`RequantMode::LiteRtReference`] with real multipliers in `f64`.
    LiteRtReference(Multipliers<'a, f64>),
    /// [`RequantMode::Float32`] with `f32` scales.
    Float32(Multipliers<'a, f32>),
}

impl Scaling<'_> {
    /// The mode, without its multipliers.
    ///
    /// ```
    /// use qkit::kernel::{Multipliers, RequantMode, Scaling};
    /// assert_eq!(Scaling::LiteRtReference(Multipliers::PerTensor(0.5)).requant(), RequantMode::LiteRtReference);
    /// ```
    pub fn requant(&self) -> RequantMode {
        match self {
            Scaling::Double(_) => RequantMode::Double,
            Scaling::Single(_) => RequantMode::Single,
            Scaling::LiteRtOptimized(_) => RequantMode::LiteRtOptimized,
            Scaling::LiteRtReference(_) => RequantMode::LiteRtReference,
            Scaling::Float32(_) => RequantMode::Float32,
        }
    }

    /// The channel count of per-channel multipliers (`None` per tensor).
    ///
    /// ```
    /// use qkit::kernel::{Multipliers, Scaling};
    /// assert_eq!(Scaling::Float32(Multipliers::PerTensor(0.5)).channels(), None);
    /// ```
    pub fn channels(&self) -> Option<usize> {
        match self {
            Scaling::Double(m) | Scaling::Single(m) | Scaling::LiteRtOptimized(m) => m.channels(),
            Scaling::LiteRtReference(m) => m.channels(),
            Scaling::Float32(m) => m.channels(),
        }
    }

    /// `Err` unless every multiplier is in the runtimes' contract: Q31
    /// multipliers `>= 0` with `-31 <= shift <= 30`, real multipliers and
    /// scales finite and `>= 0`.
    fn check(&self) -> Result<(), Error> {
        fn each<M: Copy>(
            m: Multipliers<'_, M>,
            f: fn(M) -> Result<(), Error>,
        ) -> Result<(), Error> {
            match m {
                Multipliers::PerTensor(m) => f(m),
                Multipliers::PerChannel(ms) => ms.iter().try_for_each(|&m| f(m)),
            }
        }
        match *self {
            Scaling::Double(m) | Scaling::Single(m) | Scaling::LiteRtOptimized(m) => {
                each(m, check_multiplier)
            }
            Scaling::LiteRtReference(m) => each(m, check_real),
            Scaling::Float32(m) => each(m, |s| check_real(f64::from(s))),
        }
    }
}

fn check_multiplier(m: QuantizedMultiplier) -> Result<(), Error> {
    if m.multiplier < 0 {
        return Err(Error::InvalidMultiplier(m.to_f64()));
    }
    if !(-31..=30).contains(&m.shift) {
        return Err(Error::ShiftOutOfRange {
            shift: m.shift,
            min: -31,
            max: 30,
        });
    }
    Ok(())
}

fn check_real(m: f64) -> Result<(), Error> {
    if m.is_finite() && m >= 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidMultiplier(m))
    }
}

/// Everything that turns an `i32` accumulator into an output value:
/// `clamp(requantize(acc + bias, M[c]) + zero_point, act_min, act_max)`.
///
/// `act_min`/`act_max` are the activation range (see
/// [`ops::activation_range`](crate::ops::activation_range)) in the output
/// type's integers. [`OutputStage::new`] starts from zero point 0 and the
/// output type's whole range.
///
/// ```
/// use qkit::kernel::{requantize, Multipliers, OutputStage, Scaling};
/// use qkit::requant::QuantizedMultiplier;
/// let m = QuantizedMultiplier { multiplier: 1 << 30, shift: -3 }; // 1/16
/// let stage = OutputStage::new::<i8>(Scaling::Double(Multipliers::PerTensor(m)))
///     .with_zero_point(-10);
/// let mut out = [0i8; 3];
/// requantize(&[160, -24, 100_000], None, &stage, &mut out)?;
/// assert_eq!(out, [0, -12, 127]); // 160/16 = 10, -1.5 -> -2, saturated
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutputStage<'a> {
    /// The runtime's arithmetic and its multipliers (per tensor or per
    /// channel).
    pub scaling: Scaling<'a>,
    /// Output zero point, added after the multiplier, within the output
    /// type's range.
    pub zero_point: i32,
    /// Smallest output value (within the output type's range).
    pub act_min: i32,
    /// Largest output value (within the output type's range, `>= act_min`).
    pub act_max: i32,
}

impl<'a> OutputStage<'a> {
    /// A stage with zero point 0 and output range `[T::MIN, T::MAX]` (no
    /// activation).
    ///
    /// ```
    /// use qkit::kernel::{Multipliers, OutputStage, Scaling};
    /// let s = OutputStage::new::<u8>(Scaling::Float32(Multipliers::PerTensor(0.5)));
    /// assert_eq!((s.zero_point, s.act_min, s.act_max), (0, 0, 255));
    /// ```
    pub fn new<T: RequantOutput>(scaling: Scaling<'a>) -> Self {
        OutputStage {
            scaling,
            zero_point: 0,
            act_min: T::MIN,
            act_max: T::MAX,
        }
    }

    /// The same stage with output zero point `zero_point`.
    ///
    /// ```
    /// use qkit::kernel::{Multipliers, OutputStage, Scaling};
    /// let s = OutputStage::new::<i8>(Scaling::Float32(Multipliers::PerTensor(0.5)))
    ///     .with_zero_point(-3);
    /// assert_eq!(s.zero_point, -3);
    /// ```
    pub fn with_zero_point(self, zero_point: i32) -> Self {
        OutputStage { zero_point, ..self }
    }

    /// The same stage with the activation clamp `[act_min, act_max]` (for
    /// example from [`ops::activation_range`](crate::ops::activation_range)).
    ///
    /// ```
    /// use qkit::kernel::{requantize, Multipliers, OutputStage, Scaling};
    /// let relu = OutputStage::new::<i8>(Scaling::Float32(Multipliers::PerTensor(1.0)))
    ///     .with_activation_range(0, 127);
    /// let mut out = [0i8; 2];
    /// requantize(&[-5, 5], None, &relu, &mut out)?;
    /// assert_eq!(out, [0, 5]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_activation_range(self, act_min: i32, act_max: i32) -> Self {
        OutputStage {
            act_min,
            act_max,
            ..self
        }
    }
}

/// The output types of the output stage: `i8`, `u8` and `i16`.
///
/// Sealed: the SIMD paths exist for exactly these.
///
/// ```
/// fn takes<T: qkit::kernel::RequantOutput>() {}
/// takes::<i8>();
/// takes::<u8>();
/// takes::<i16>();
/// ```
pub trait RequantOutput: QInt + Default + sealed::Sealed {}

mod sealed {
    use super::{Entry, Lanes};
    use crate::kernel::dispatch::Kernels;

    pub trait Sealed: Sized {
        /// Stores lanes already clamped into this type's range.
        fn store<V: Lanes<N>, const N: usize>(v: V, y: V::I, o: &mut [Self; N]);
        /// This type's output-stage entry in a kernel table.
        fn entry(k: &Kernels) -> Entry<Self>;
    }
}

macro_rules! impl_output {
    ($($t:ident => $store:ident, $entry:ident),*) => {$(
        impl RequantOutput for $t {}
        impl sealed::Sealed for $t {
            #[inline(always)]
            fn store<V: Lanes<N>, const N: usize>(v: V, y: V::I, o: &mut [Self; N]) {
                v.$store(y, o)
            }
            #[inline]
            fn entry(k: &crate::kernel::dispatch::Kernels) -> Entry<Self> {
                k.$entry
            }
        }
    )*};
}
impl_output!(
    i8 => store_i8, requantize_i8,
    u8 => store_u8, requantize_u8,
    i16 => store_i16, requantize_i16
);

/// The zero point and clamp of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clamp {
    pub(crate) zero_point: i32,
    pub(crate) act_min: i32,
    pub(crate) act_max: i32,
}

impl Clamp {
    /// The clamp of layers: zero point and activation range, already
    /// checked against the output type by the layer's constructor.
    pub(crate) fn new(zero_point: i32, act_min: i32, act_max: i32) -> Self {
        Clamp {
            zero_point,
            act_min,
            act_max,
        }
    }
}

/// Where a job's bias and multipliers come from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Params<'a> {
    /// The slice API: an optional bias per channel and [`Scaling`].
    Slice {
        bias: Option<&'a [i32]>,
        scaling: Scaling<'a>,
    },
    /// A layer's table: one [`Channel`] record per channel.
    Table {
        channels: &'a [Channel],
        requant: RequantMode,
    },
}

/// One call of the output stage: what every entry point takes.
///
/// Built by [`Job::slice`] (validated) or [`Job::table`] (from a layer's
/// table). The loops zip `acc` and the output and look channels up with
/// `get`, so even an inconsistent job cannot read or write out of bounds.
///
/// `pub` only for the sealed trait's signatures; not reachable from outside
/// the crate.
#[derive(Debug, Clone, Copy)]
pub struct Job<'a> {
    pub(crate) acc: &'a [i32],
    /// Elements per row: the channel count, or the whole slice when nothing
    /// varies by channel.
    pub(crate) row: usize,
    pub(crate) params: Params<'a>,
    pub(crate) clamp: Clamp,
}

fn check_in_range<T: QInt>(v: i32) -> Result<(), Error> {
    if (T::MIN..=T::MAX).contains(&v) {
        Ok(())
    } else {
        Err(Error::OutOfRange {
            value: v.into(),
            min: T::MIN.into(),
            max: T::MAX.into(),
        })
    }
}

impl<'a> Job<'a> {
    /// A validated slice call (see [`requantize`] for the rules).
    fn slice<T: QInt>(
        acc: &'a [i32],
        bias: Option<&'a [i32]>,
        stage: &OutputStage<'a>,
        out_len: usize,
    ) -> Result<Self, Error> {
        if out_len != acc.len() {
            return Err(Error::LengthMismatch {
                expected: acc.len(),
                found: out_len,
            });
        }
        let channels = match (stage.scaling.channels(), bias) {
            (Some(c), Some(b)) if b.len() != c => {
                return Err(Error::LengthMismatch {
                    expected: c,
                    found: b.len(),
                });
            }
            (Some(c), _) => Some(c),
            (None, Some(b)) => Some(b.len()),
            (None, None) => None,
        };
        let row = match channels {
            Some(0) => return Err(Error::Empty),
            Some(c) if !acc.len().is_multiple_of(c) => {
                return Err(Error::InvalidParameter(
                    "accumulator length is not a multiple of the channel count",
                ));
            }
            Some(c) => c,
            None => acc.len(),
        };
        stage.scaling.check()?;
        if !(T::MIN..=T::MAX).contains(&stage.zero_point) {
            return Err(Error::ZeroPointOutOfRange {
                zero_point: stage.zero_point,
                min: T::MIN,
                max: T::MAX,
            });
        }
        check_in_range::<T>(stage.act_min)?;
        check_in_range::<T>(stage.act_max)?;
        if stage.act_min > stage.act_max {
            return Err(Error::InvalidParameter("act_min > act_max"));
        }
        Ok(Job {
            acc,
            row,
            params: Params::Slice {
                bias,
                scaling: stage.scaling,
            },
            clamp: Clamp::new(stage.zero_point, stage.act_min, stage.act_max),
        })
    }

    /// A layer's tile: `acc[i]` belongs to `channels[i % channels.len()]`.
    /// The layer validated the table, the zero point and the clamp when it
    /// was built.
    pub(crate) fn table(
        acc: &'a [i32],
        channels: &'a [Channel],
        requant: RequantMode,
        clamp: Clamp,
    ) -> Self {
        Job {
            acc,
            row: if acc.is_empty() { 0 } else { channels.len() },
            params: Params::Table { channels, requant },
            clamp,
        }
    }
}

/// An entry point: the output stage of a job into `i8`, `u8` or `i16`; a
/// kernel table (`dispatch::Kernels`) holds one per output type.
pub(crate) type Entry<T> = fn(&Job<'_>, &mut [T]);

/// One output channel of a layer: everything its output stage needs,
/// computed once when the layer is built (a layer fills only what its
/// [`RequantMode`] mode uses).
///
/// Public as [`layer::Channel`](crate::layer::Channel), where layers keep one
/// per output channel in caller storage. `#[repr(C)]` with the four fields
/// the SIMD paths load first, so one 16-byte load fetches a channel.
///
/// ```
/// use qkit::layer::Channel;
/// let channels = [Channel::default(); 4]; // storage for a 4-output layer
/// assert_eq!(channels[0].multiplier().multiplier, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[repr(C)]
pub struct Channel {
    /// The folded bias, for `i32` accumulators.
    pub(crate) bias: i32,
    /// The Q31 multiplier (`Double`, `Single`, `LiteRtOptimized`, and the
    /// 16x8 layers).
    pub(crate) multiplier: QuantizedMultiplier,
    /// The `f32` scale (`Float32`).
    pub(crate) scale: f32,
    /// The real multiplier in `f64` (`LiteRtReference`).
    pub(crate) real: f64,
    /// The folded bias, for `i64` accumulators (and `bias` widened).
    pub(crate) bias64: i64,
}

impl Channel {
    /// The folded bias: `bias - zp_in · Σ_k w[o,k]` (int32 wrapping for the
    /// int8 layer; int64 for 16x8).
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 2)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// FullyConnected::new(&[3, 4], 2, Some(&[10]), &q, RequantMode::Double, &mut ch)?;
    /// assert_eq!(ch[0].folded_bias(), 10 - 2 * 7);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn folded_bias(&self) -> i64 {
        self.bias64
    }

    /// The integer multiplier of this channel (as TFLM's Prepare computes
    /// it); `(0, 0)` in the `f32`/`f64` modes when the real multiplier has
    /// no Q31 form.
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(0.5, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[0.5])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// FullyConnected::new(&[1], 1, None, &q, RequantMode::Double, &mut ch)?;
    /// assert_eq!((ch[0].multiplier().multiplier, ch[0].multiplier().shift), (1 << 30, -1));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn multiplier(&self) -> QuantizedMultiplier {
        self.multiplier
    }

    /// The `f32` scale of [`RequantMode::Float32`]: `s_in · s_w / s_out`
    /// evaluated in `f32`, as ONNX Runtime and XNNPACK form it.
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(0.5, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[0.25])?,
    ///     output: Quantizer::new(0.1, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// FullyConnected::new(&[1], 1, None, &q, RequantMode::Float32, &mut ch)?;
    /// assert_eq!(ch[0].scale(), 0.5f32 * 0.25 / 0.1);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// The real multiplier `(double)s_in · s_w / s_out` of
    /// [`RequantMode::LiteRtReference`] (and the source of the Q31 one).
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(0.5, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[0.25])?,
    ///     output: Quantizer::new(0.1, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// FullyConnected::new(&[1], 1, None, &q, RequantMode::LiteRtReference, &mut ch)?;
    /// assert_eq!(ch[0].real_multiplier(), 0.5 * 0.25 / f64::from(0.1f32));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn real_multiplier(&self) -> f64 {
        self.real
    }
}

/// Slice requantization: the output stage over a buffer,
/// `out[i] = clamp(requantize(acc[i] + bias[c], M[c]) + zero_point, act_min, act_max)`
/// with `c = i % channels`, in the runtime arithmetic `stage.scaling` names.
///
/// Channels are the innermost dimension; their count comes from the
/// per-channel multipliers and/or the bias (they must agree). Runs the best
/// SIMD path of the CPU (detected once, with or without `std`); the result
/// is bit-identical to [`requantize_scalar`].
///
/// Errors: `LengthMismatch` if `out.len() != acc.len()` or the bias and
/// multiplier tables disagree; `InvalidParameter` if `acc.len()` is not a
/// multiple of the channel count; `Empty` for a zero-channel table;
/// `InvalidMultiplier` / `ShiftOutOfRange` for a Q31 multiplier outside
/// `multiplier >= 0`, `-31 <= shift <= 30` or a scale / real multiplier
/// that is negative, NaN or infinite; `ZeroPointOutOfRange` / `OutOfRange`
/// / `InvalidParameter` for a zero point or activation range outside `T`
/// (or `act_min > act_max`).
///
/// ```
/// use qkit::kernel::{requantize, Multipliers, OutputStage, Scaling};
/// use qkit::requant::quantize_multiplier;
/// // Two output channels with their own scales; rows of [batch, 2].
/// let ms = [quantize_multiplier(0.5)?, quantize_multiplier(0.25)?];
/// let stage = OutputStage::new::<i8>(Scaling::Double(Multipliers::PerChannel(&ms)))
///     .with_activation_range(0, 127); // RELU
/// let acc = [10, 10, -10, 6, 1000, 3];
/// let bias = [1, -2];
/// let mut out = [0i8; 6];
/// requantize(&acc, Some(&bias), &stage, &mut out)?;
/// // 11·0.5 = 5.5 -> 6; RELU clamps -4.5; and 1·0.25 -> 1: the SRDHM step
/// // rounds 0.25·2 = 0.5 up to 1, then 1/2 rounds away from zero: double rounding.
/// assert_eq!(out, [6, 2, 0, 1, 127, 1]);
///
/// // ONNX Runtime's float requantization: ties to even.
/// let ort = OutputStage::new::<u8>(Scaling::Float32(Multipliers::PerTensor(0.5)))
///     .with_zero_point(128);
/// let mut out = [0u8; 3];
/// requantize(&[5, 7, -5], None, &ort, &mut out)?;
/// assert_eq!(out, [130, 132, 126]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn requantize<T: RequantOutput>(
    acc: &[i32],
    bias: Option<&[i32]>,
    stage: &OutputStage<'_>,
    out: &mut [T],
) -> Result<(), Error> {
    let job = Job::slice::<T>(acc, bias, stage, out.len())?;
    T::entry(dispatch::best())(&job, out);
    Ok(())
}

/// [`requantize`] with the portable code only: the specification every
/// SIMD path is tested against, and the baseline of the benchmark.
///
/// ```
/// use qkit::kernel::{requantize, requantize_scalar, Multipliers, OutputStage, Scaling};
/// use qkit::requant::QuantizedMultiplier;
/// let m = QuantizedMultiplier { multiplier: 1 << 30, shift: -1 };
/// let stage = OutputStage::new::<i8>(Scaling::Single(Multipliers::PerTensor(m)));
/// let acc: Vec<i32> = (-40..40).collect();
/// let (mut a, mut b) = ([0i8; 80], [0i8; 80]);
/// requantize(&acc, None, &stage, &mut a)?;
/// requantize_scalar(&acc, None, &stage, &mut b)?;
/// assert_eq!(a, b);
/// assert_eq!(b[38], 0); // acc = -2: -0.5 rounds up to 0 in single rounding
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn requantize_scalar<T: RequantOutput>(
    acc: &[i32],
    bias: Option<&[i32]>,
    stage: &OutputStage<'_>,
    out: &mut [T],
) -> Result<(), Error> {
    Isa::Generic.requantize(acc, bias, stage, out)
}

impl Isa {
    /// [`requantize`] on this instruction set (`Generic` and `Sse2` run the
    /// portable code). `Err(InvalidParameter)` if it cannot run here.
    ///
    /// ```
    /// use qkit::kernel::{Isa, Multipliers, OutputStage, Scaling};
    /// let stage = OutputStage::new::<i8>(Scaling::Float32(Multipliers::PerTensor(0.25)));
    /// let acc: Vec<i32> = (0..100).map(|i| i * 37 - 1800).collect();
    /// let mut want = [0i8; 100];
    /// Isa::Generic.requantize(&acc, None, &stage, &mut want)?;
    /// for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
    ///     let mut got = [0i8; 100];
    ///     isa.requantize(&acc, None, &stage, &mut got)?;
    ///     assert_eq!(got, want);
    /// }
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn requantize<T: RequantOutput>(
        self,
        acc: &[i32],
        bias: Option<&[i32]>,
        stage: &OutputStage<'_>,
        out: &mut [T],
    ) -> Result<(), Error> {
        let job = Job::slice::<T>(acc, bias, stage, out.len())?;
        T::entry(self.table()?)(&job, out);
        Ok(())
    }
}

/// The output stage of one layer tile (`i32` accumulators): `acc[i]` is
/// channel `channels[i % channels.len()]`, requantized in mode `requant`
/// with the clamp `clamp`, into `out` (as long as `acc`). The entry point
/// layers call after each GEMV / convolution tile.
pub(crate) fn requantize_tile<T: RequantOutput>(
    acc: &[i32],
    channels: &[Channel],
    requant: RequantMode,
    clamp: Clamp,
    out: &mut [T],
) {
    let job = Job::table(acc, channels, requant, clamp);
    T::entry(dispatch::best())(&job, out);
}

/// [`requantize_tile`] for the `i64` accumulators of 16x8 layers
/// (TFLite's 64-bit `MultiplyByQuantizedMultiplier`; `acc[i]` is channel
/// `channels[i]`).
pub(crate) fn requantize_tile_i64<T: RequantOutput>(
    acc: &[i64],
    channels: &[Channel],
    clamp: Clamp,
    out: &mut [T],
) {
    driver::run_i64(acc, channels, clamp, out)
}
