//! The two requantizations of LiteRT (TensorFlow Lite on phones and
//! desktops) that TensorFlow Lite Micro does not use: the optimized kernels'
//! vector form, whose second rounding goes up on ties, and the reference
//! FULLY_CONNECTED's `f64` multiply.

use super::{QuantizedMultiplier, saturating_rounding_doubling_high_mul};

/// `x / 2^exponent` rounded to nearest with ties **up** (toward +∞): ARM
/// NEON's `vrshl` by a negative amount (`VRSHL`, `SRSHL`), computed without
/// overflow (the rounding bit is added after the shift, as the hardware does
/// in wider precision).
///
/// `exponent <= 0` returns `x`; an exponent above 31 gives the correctly
/// rounded quotient (0, or -1 for `MIN / 2^32`).
///
/// ```
/// use qkit::requant::{rounding_divide_by_pot, rounding_right_shift_ties_up as rshr};
/// assert_eq!(rshr(3, 1), 2);
/// assert_eq!(rshr(-3, 1), -1); // -1.5 -> -1: up, where gemmlowp gives -2
/// assert_eq!(rounding_divide_by_pot(-3, 1), -2);
/// assert_eq!(rshr(-5, 2), -1); // -1.25
/// assert_eq!(rshr(i32::MAX, 1), 1 << 30); // no overflow
/// assert_eq!(rshr(7, 0), 7);
/// ```
#[doc(alias = "vrshl")]
#[doc(alias = "vrshlq_s32")]
#[inline]
pub fn rounding_right_shift_ties_up(x: i32, exponent: i32) -> i32 {
    if exponent <= 0 {
        return x;
    }
    if exponent > 31 {
        // |x| <= 2^31 <= 2^(exponent-1): only MIN / 2^32 = -0.5 rounds up to
        // 0, everything else rounds to 0 too.
        return 0;
    }
    // floor(x / 2^e) plus the bit just below the cut: exactly
    // floor((x + 2^(e-1)) / 2^e) without forming the sum.
    (x >> exponent) + ((x >> (exponent - 1)) & 1)
}

/// LiteRT's optimized (NEON) `MultiplyByQuantizedMultiplier`, as in
/// `MultiplyByQuantizedMultiplier4Rows` and the optimized FULLY_CONNECTED /
/// convolution kernels: `x · 2^L` (wrapping, `vshlq`), SRDHM (`vqrdmulhq`,
/// ties up), then a rounding right shift by `R` with ties **up** (`vrshlq`),
/// `L = max(shift, 0)`, `R = max(-shift, 0)`.
///
/// It differs from TFLite Micro's double rounding
/// ([`Rounding::Double`](super::Rounding::Double)) only in the second
/// rounding: negative exact ties go up instead of away from zero.
///
/// ```
/// use qkit::requant::{
///     multiply_by_quantized_multiplier as mbqm,
///     multiply_by_quantized_multiplier_ties_up as mbqm_up, quantize_multiplier, Rounding,
/// };
/// let quarter = quantize_multiplier(0.25)?;
/// assert_eq!(mbqm_up(-6, quarter), -1); // -1.5 -> -1
/// assert_eq!(mbqm(-6, quarter, Rounding::Double), -2); // TFLite Micro: away from zero
/// assert_eq!(mbqm_up(6, quarter), 2);
/// # Ok::<(), qkit::Error>(())
/// ```
#[doc(alias = "MultiplyByQuantizedMultiplier4Rows")]
#[inline]
pub fn multiply_by_quantized_multiplier_ties_up(x: i32, m: QuantizedMultiplier) -> i32 {
    let left = m.shift.clamp(0, 32);
    let right = m.shift.saturating_neg().max(0);
    // A shift of 32 or more moves every bit out (NEON's `vshl` does too).
    let shifted = if left >= 32 {
        0
    } else {
        x.wrapping_shl(left as u32)
    };
    rounding_right_shift_ties_up(
        saturating_rounding_doubling_high_mul(shifted, m.multiplier),
        right,
    )
}

/// LiteRT's reference FULLY_CONNECTED requantization (the "requant in float"
/// overloads of `reference_integer_ops::FullyConnected`):
/// `(int32)round((double)acc · real_multiplier)` with `round` ties away from
/// zero, then `+ zero_point` and the clamp to `[min, max]`.
///
/// `real_multiplier` is `(double)s_in · (double)s_w / (double)s_out`
/// ([`conv_real_multiplier`](super::conv_real_multiplier)). Where C++'s cast
/// would overflow (undefined behaviour there) the product saturates to
/// `i32`, and the zero point is added without wrapping: the result is the
/// exact `clamp(round(acc · M) + zero_point, min, max)`. NaN gives
/// `clamp(zero_point)`. `acc as f64` rounds to nearest even beyond 2^53, as
/// the C++ cast does.
///
/// ```
/// use qkit::requant::requantize_f64;
/// assert_eq!(requantize_f64(5, 0.5, 0, -128, 127), 3); // 2.5 -> 3 (away from zero)
/// assert_eq!(requantize_f64(-5, 0.5, 0, -128, 127), -3);
/// assert_eq!(requantize_f64(-5, 0.5, 10, -128, 127), 7);
/// assert_eq!(requantize_f64(1 << 40, 1e9, 10, -128, 127), 127);
/// ```
#[doc(alias = "FullyConnectedPerChannel")]
#[inline]
pub fn requantize_f64(acc: i64, real_multiplier: f64, zero_point: i32, min: i32, max: i32) -> i32 {
    // `as` saturates (and maps NaN to 0).
    let y = libm::round(acc as f64 * real_multiplier) as i32;
    // `max` then `min`, as `requantize_f32`: if `min > max` the result is `max`.
    y.saturating_add(zero_point).max(min).min(max)
}
