//! Requantizing a whole slice of accumulators: bias, multiplier (per tensor
//! or per channel), output zero point and activation clamp, into a caller
//! buffer — with an AVX2 path that is bit-identical to the scalar one.

use super::{QuantizedMultiplier, Rounding, multiply_by_quantized_multiplier};
use crate::{Error, QInt};

/// One multiplier for the whole tensor, or one per output channel.
///
/// ```
/// use qkit::requant::{Multipliers, QuantizedMultiplier};
/// let per_channel = [QuantizedMultiplier::ONE; 3];
/// assert_eq!(Multipliers::PerChannel(&per_channel).channels(), Some(3));
/// assert_eq!(Multipliers::PerTensor(QuantizedMultiplier::ONE).channels(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Multipliers<'a> {
    /// The same multiplier for every element.
    PerTensor(QuantizedMultiplier),
    /// `multipliers[c]` for output channel `c`; channels are the innermost
    /// (fastest-varying) dimension, as in TFLite's `[batch, out_depth]`.
    PerChannel(&'a [QuantizedMultiplier]),
}

impl Multipliers<'_> {
    /// The channel count a per-channel table implies (`None` per tensor).
    ///
    /// ```
    /// use qkit::requant::{Multipliers, QuantizedMultiplier};
    /// assert_eq!(Multipliers::PerChannel(&[]).channels(), Some(0));
    /// ```
    pub fn channels(&self) -> Option<usize> {
        match self {
            Multipliers::PerTensor(_) => None,
            Multipliers::PerChannel(m) => Some(m.len()),
        }
    }
}

/// Everything that turns an `i32` accumulator into an output value, TFLite's
/// output stage: `clamp(MBQM(acc + bias, m[c]) + zero_point, act_min, act_max)`.
///
/// `act_min`/`act_max` are the activation range (see
/// [`ops::activation_range`](crate::ops::activation_range)), in the output
/// type's integers.
///
/// ```
/// use qkit::requant::{Multipliers, OutputStage, QuantizedMultiplier, Rounding};
/// let stage = OutputStage {
///     multipliers: Multipliers::PerTensor(QuantizedMultiplier { multiplier: 1 << 30, shift: -3 }),
///     rounding: Rounding::Double,
///     zero_point: -10,
///     act_min: -128,
///     act_max: 127,
/// };
/// let mut out = [0i8; 3];
/// qkit::requant::requantize(&[160, -24, 100_000], None, &stage, &mut out)?;
/// assert_eq!(out, [0, -12, 127]); // 160/16 = 10, -1.5 -> -2, saturated
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputStage<'a> {
    /// Per-tensor or per-channel multipliers: each needs `multiplier >= 0`
    /// and `-31 <= shift <= 30` (the range TFLite and CMSIS-NN accept).
    pub multipliers: Multipliers<'a>,
    /// Double (TFLM / CMSIS-NN default) or single rounding.
    pub rounding: Rounding,
    /// Output zero point, added after the multiplier (wrapping in `i32`,
    /// like TFLite's `acc += output_offset`), within the output type's range.
    pub zero_point: i32,
    /// Smallest output value (within the output type's range).
    pub act_min: i32,
    /// Largest output value (within the output type's range, `>= act_min`).
    pub act_max: i32,
}

/// The output types of slice requantization: `i8`, `u8` and `i16`.
///
/// Sealed: the SIMD paths exist for exactly these.
///
/// ```
/// fn takes<T: qkit::requant::RequantOutput>() {}
/// takes::<i8>();
/// takes::<u8>();
/// takes::<i16>();
/// ```
pub trait RequantOutput: QInt + sealed::Sealed {}

mod sealed {
    use super::Checked;
    pub trait Sealed: Sized {
        /// Runs the SIMD path if this CPU has one; `false` if it did nothing.
        fn requantize_simd(c: &Checked<'_>, out: &mut [Self]) -> bool;
    }
}

macro_rules! impl_output {
    ($($t:ty => $simd:ident),*) => {$(
        impl RequantOutput for $t {}
        impl sealed::Sealed for $t {
            #[inline]
            fn requantize_simd(c: &Checked<'_>, out: &mut [Self]) -> bool {
                #[cfg(target_arch = "x86_64")]
                if let Some(avx2) = crate::kernel::x86::requant::Avx2::detect() {
                    avx2.$simd(c, out);
                    return true;
                }
                let _ = (c, out);
                false
            }
        }
    )*};
}
impl_output!(i8 => requantize_i8, u8 => requantize_u8, i16 => requantize_i16);

/// A validated call: every index in range, every multiplier in contract.
///
/// `pub` only so the sealed trait may name it; it is not reachable by path
/// from outside the crate and has no public fields or constructor.
#[derive(Debug, Clone, Copy)]
pub struct Checked<'a> {
    pub(crate) acc: &'a [i32],
    pub(crate) bias: Option<&'a [i32]>,
    pub(crate) multipliers: Multipliers<'a>,
    pub(crate) rounding: Rounding,
    pub(crate) zero_point: i32,
    pub(crate) act_min: i32,
    pub(crate) act_max: i32,
    /// Elements per row: the channel count, or the whole slice when neither
    /// the bias nor the multipliers vary by channel.
    pub(crate) row: usize,
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

fn check_in_range<T: QInt>(v: i32) -> Result<(), Error> {
    if (T::MIN..=T::MAX).contains(&v) {
        Ok(())
    } else {
        Err(Error::OutOfRange {
            value: v as i64,
            min: T::MIN as i64,
            max: T::MAX as i64,
        })
    }
}

impl<'a> Checked<'a> {
    fn new<T: QInt>(
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
        let channels = match (stage.multipliers.channels(), bias) {
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
        match stage.multipliers {
            Multipliers::PerTensor(m) => check_multiplier(m)?,
            Multipliers::PerChannel(ms) => ms.iter().try_for_each(|&m| check_multiplier(m))?,
        }
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
        Ok(Checked {
            acc,
            bias,
            multipliers: stage.multipliers,
            rounding: stage.rounding,
            zero_point: stage.zero_point,
            act_min: stage.act_min,
            act_max: stage.act_max,
            row,
        })
    }
}

/// The scalar output stage for one element: the specification every SIMD
/// path must reproduce bit for bit.
#[inline]
pub(crate) fn output_stage_one(
    acc: i32,
    bias: i32,
    m: QuantizedMultiplier,
    rounding: Rounding,
    zero_point: i32,
    act_min: i32,
    act_max: i32,
) -> i32 {
    multiply_by_quantized_multiplier(acc.wrapping_add(bias), m, rounding)
        .wrapping_add(zero_point)
        .clamp(act_min, act_max)
}

/// Requantizes elements `range` of a validated call with the scalar code
/// into `out` (`out[k]` receives element `range.start + k`, zipped: never
/// written past either end); element `i` belongs to channel `i % row`.
pub(crate) fn requantize_scalar_range<T: QInt>(
    c: &Checked<'_>,
    out: &mut [T],
    range: core::ops::Range<usize>,
) {
    let row = c.row.max(1);
    // The channel advances with i and wraps at the row length: no division
    // in the loop.
    let mut ch = range.start % row;
    let acc = c.acc.get(range).unwrap_or(&[]);
    for (&acc, y) in acc.iter().zip(out) {
        let bias = c.bias.map_or(0, |b| b[ch]);
        let m = match c.multipliers {
            Multipliers::PerTensor(m) => m,
            Multipliers::PerChannel(ms) => ms[ch],
        };
        let v = output_stage_one(acc, bias, m, c.rounding, c.zero_point, c.act_min, c.act_max);
        *y = T::saturating_from_i32(v);
        ch += 1;
        if ch == row {
            ch = 0;
        }
    }
}

/// Slice requantization, TFLite's output stage over a buffer:
/// `out[i] = clamp(MBQM(acc[i] + bias[c], m[c]) + zero_point, act_min, act_max)`
/// with `c = i % channels`. The bias add and the zero point add wrap in `i32`
/// (as TFLite's do in practice).
///
/// Channels are the innermost dimension; their count comes from the
/// per-channel multipliers and/or the bias (they must agree). Uses AVX2 when
/// the CPU has it (detected at run time with the `std` feature, otherwise
/// when compiled with `target_feature = "avx2"`); the result is bit-identical
/// to [`requantize_scalar`].
///
/// Errors: `LengthMismatch` if `out.len() != acc.len()` or the bias and
/// multiplier tables disagree; `InvalidParameter` if `acc.len()` is not a
/// multiple of the channel count; `Empty` for a zero-channel table;
/// `InvalidMultiplier` / `ShiftOutOfRange` for a multiplier outside
/// `multiplier >= 0`, `-31 <= shift <= 30`; `ZeroPointOutOfRange` /
/// `OutOfRange` / `InvalidParameter` for a zero point or activation range
/// outside `T` (or `act_min > act_max`).
///
/// ```
/// use qkit::requant::{quantize_multiplier, requantize, Multipliers, OutputStage, Rounding};
/// // Two output channels with their own scales; rows of [batch, 2].
/// let ms = [quantize_multiplier(0.5)?, quantize_multiplier(0.25)?];
/// let stage = OutputStage {
///     multipliers: Multipliers::PerChannel(&ms),
///     rounding: Rounding::Double,
///     zero_point: 0,
///     act_min: 0, // RELU
///     act_max: 127,
/// };
/// let acc = [10, 10, -10, 6, 1000, 3];
/// let bias = [1, -2];
/// let mut out = [0i8; 6];
/// requantize(&acc, Some(&bias), &stage, &mut out)?;
/// // 11·0.5 = 5.5 -> 6; RELU clamps -4.5; and 1·0.25 -> 1: the SRDHM step
/// // rounds 0.25·2 = 0.5 up to 1, then 1/2 rounds away from zero: double rounding.
/// assert_eq!(out, [6, 2, 0, 1, 127, 1]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn requantize<T: RequantOutput>(
    acc: &[i32],
    bias: Option<&[i32]>,
    stage: &OutputStage<'_>,
    out: &mut [T],
) -> Result<(), Error> {
    let c = Checked::new::<T>(acc, bias, stage, out.len())?;
    if !T::requantize_simd(&c, out) {
        requantize_scalar_range(&c, out, 0..acc.len());
    }
    Ok(())
}

/// [`requantize`] with the portable scalar code only: the specification the
/// SIMD path is tested against, and the baseline of the benchmark.
///
/// ```
/// use qkit::requant::{requantize, requantize_scalar, Multipliers, OutputStage, QuantizedMultiplier, Rounding};
/// let stage = OutputStage {
///     multipliers: Multipliers::PerTensor(QuantizedMultiplier { multiplier: 1 << 30, shift: -1 }),
///     rounding: Rounding::Single,
///     zero_point: 0,
///     act_min: -128,
///     act_max: 127,
/// };
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
    let c = Checked::new::<T>(acc, bias, stage, out.len())?;
    requantize_scalar_range(&c, out, 0..acc.len());
    Ok(())
}
