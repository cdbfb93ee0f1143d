//! gemmlowp's two fixed-point primitives, from which every TFLite / CMSIS-NN
//! double-rounding requantization is built.

/// gemmlowp `SaturatingRoundingDoublingHighMul`: the high 32 bits of `2·a·b`,
/// rounded to nearest with ties toward **+∞** (not away from zero, despite the
/// asymmetric nudge in gemmlowp's code), saturating the one overflowing case
/// `MIN · MIN` to `MAX`. Equal to ARM `VQRDMULH.S32`.
///
/// Exactly `(a·b + 2^30) >> 31` in 64-bit arithmetic, except `(MIN, MIN)`.
///
/// ```
/// use qkit::requant::saturating_rounding_doubling_high_mul as srdhm;
/// assert_eq!(srdhm(3 << 29, 2), 2);    // +1.5 -> 2
/// assert_eq!(srdhm(-3 << 29, 2), -1);  // -1.5 -> -1 (ties up)
/// assert_eq!(srdhm(-1 << 29, 2), 0);   // -0.5 -> 0
/// assert_eq!(srdhm(i32::MIN, i32::MIN), i32::MAX);
/// ```
#[doc(alias = "SaturatingRoundingDoublingHighMul")]
#[doc(alias = "VQRDMULH")]
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    // |a·b| <= 2^62 - 2^31 outside (MIN, MIN): the sum and the result fit.
    ((a as i64 * b as i64 + (1 << 30)) >> 31) as i32
}

/// gemmlowp `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest with
/// ties **away from zero**.
///
/// gemmlowp asserts `0 <= exponent <= 31`. qkit defines every input: a
/// negative exponent is treated as 0 (returns `x`), and an exponent above 31
/// gives the correctly rounded quotient (0, or -1 for `MIN / 2^32`).
///
/// ```
/// use qkit::requant::rounding_divide_by_pot as rdbpot;
/// assert_eq!(rdbpot(3, 1), 2);
/// assert_eq!(rdbpot(-3, 1), -2);
/// assert_eq!(rdbpot(5, 1), 3);
/// assert_eq!(rdbpot(-5, 1), -3);
/// assert_eq!(rdbpot(-6, 2), -2); // -1.5 -> -2
/// assert_eq!(rdbpot(7, 0), 7);
/// ```
#[doc(alias = "RoundingDivideByPOT")]
#[doc(alias = "arm_nn_divide_by_power_of_two")]
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    if exponent <= 0 {
        return x;
    }
    if exponent > 31 {
        // |x| <= 2^31 <= 2^(exponent-1): only MIN / 2^32 = -0.5 rounds away.
        return if exponent == 32 && x == i32::MIN {
            -1
        } else {
            0
        };
    }
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}
