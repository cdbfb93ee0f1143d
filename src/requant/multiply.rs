//! `MultiplyByQuantizedMultiplier`: an `i32` (or `i64`) accumulator times a
//! [`QuantizedMultiplier`], in TFLite's double- or single-rounding form.

use super::{
    QuantizedMultiplier, reduce_multiplier_to_q15, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
};

/// Which of TFLite's two integer requantizations to reproduce.
///
/// The choice is a value, never a Cargo feature: one program can match a
/// TFLite Micro build and a `TFLITE_SINGLE_ROUNDING` build side by side.
///
/// ```
/// use qkit::requant::{multiply_by_quantized_multiplier as mbqm, QuantizedMultiplier, Rounding};
/// // tensorflow/tensorflow#25087: 7984 · 0.0014402... = 11.499..., double rounding gives 12.
/// let m = QuantizedMultiplier { multiplier: 1583594044, shift: -9 };
/// assert_eq!(mbqm(7984, m, Rounding::Double), 12);
/// assert_eq!(mbqm(7984, m, Rounding::Single), 11);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Rounding {
    /// TFLite Micro and CMSIS-NN default: [`saturating_rounding_doubling_high_mul`]
    /// (ties up at bit 31) then [`rounding_divide_by_pot`] (ties away from zero).
    #[default]
    Double,
    /// `TFLITE_SINGLE_ROUNDING` / `CMSIS_NN_USE_SINGLE_ROUNDING`: one shift by
    /// `31 - shift` with ties up, computed in 64 bits.
    Single,
}

/// `x · 2^left` in `i32`, wrapping: what TFLite's `x * (1 << left_shift)`
/// does in practice on every target (it is UB in C++, and TFLite marks the
/// function `no_sanitize("signed-integer-overflow")`).
#[inline]
fn wrapping_shift_left(x: i32, left: i32) -> i32 {
    if left >= 32 {
        0
    } else {
        x.wrapping_shl(left as u32)
    }
}

/// TFLite `MultiplyByQuantizedMultiplier(int32 x, int32 q, int shift)`:
/// requantizes `x` by `m ≈ q · 2^(shift - 31)`.
///
/// * [`Rounding::Double`]: `rounding_divide_by_pot(srdhm(x · 2^L, q), R)` with
///   `L = max(shift, 0)`, `R = max(-shift, 0)`. The left shift **wraps** in
///   `i32` when `|x| >= 2^(31 - L)`, as TFLite does in practice (a shift
///   of 32 or more gives 0 before the multiply).
/// * [`Rounding::Single`]: `(x·q + 2^(t-1)) >> t` in exact arithmetic with
///   `t = 31 - shift`, then **truncated** to `i32` like TFLite's `static_cast`
///   (the result only fits when `|x·m| < 2^31`). TFLite DCHECKs
///   `q >= 0` and `-31 <= shift <= 30`; qkit computes the same formula for any
///   input (for `t <= 0` the product is shifted left, wrapping).
///
/// Never panics.
///
/// ```
/// use qkit::requant::{multiply_by_quantized_multiplier as mbqm, quantize_multiplier, Rounding};
/// let quarter = quantize_multiplier(0.25)?; // (2^30, -1): the SRDHM step is exact
/// // Negative exact ties: double rounding is away from zero, single rounding is up.
/// assert_eq!(mbqm(-2, quarter, Rounding::Double), -1);
/// assert_eq!(mbqm(-2, quarter, Rounding::Single), 0);
/// assert_eq!(mbqm(2, quarter, Rounding::Double), 1);
/// assert_eq!(mbqm(2, quarter, Rounding::Single), 1);
/// # Ok::<(), qkit::Error>(())
/// ```
#[doc(alias = "MultiplyByQuantizedMultiplier")]
#[doc(alias = "arm_nn_requantize")]
#[inline]
pub fn multiply_by_quantized_multiplier(x: i32, m: QuantizedMultiplier, rounding: Rounding) -> i32 {
    match rounding {
        Rounding::Double => {
            let left = if m.shift > 0 { m.shift } else { 0 };
            let right = if m.shift > 0 {
                0
            } else {
                m.shift.wrapping_neg()
            };
            let right = if right < 0 { i32::MAX } else { right }; // shift == MIN
            rounding_divide_by_pot(
                saturating_rounding_doubling_high_mul(wrapping_shift_left(x, left), m.multiplier),
                right,
            )
        }
        Rounding::Single => single_rounding(x as i64 * m.multiplier as i64, m.shift, 31),
    }
}

/// `(p + 2^(t-1)) >> t` with `t = base - shift`, truncated to `i32`.
#[inline]
fn single_rounding(p: i64, shift: i32, base: i64) -> i32 {
    let t = base - shift as i64;
    if (1..=62).contains(&t) {
        // In contract |p| < 2^62, so the sum cannot overflow; otherwise go wide.
        if let Some(s) = p.checked_add(1 << (t - 1)) {
            return (s >> t) as i32;
        }
    }
    single_rounding_wide(p as i128, shift, base)
}

/// TFLite `MultiplyByQuantizedMultiplier(int64 x, int32 q, int shift)`, the
/// requantization of int16-activation (16x8) kernels with 64-bit
/// accumulators. The same in both rounding modes: the Q31 significand is
/// reduced to Q15 ([`reduce_multiplier_to_q15`]), then
/// `(x·q15 + 2^(t-1)) >> t` with `t = 15 - shift`, ties up, truncated to
/// `i32` (TFLite's cast).
///
/// TFLite DCHECKs `q >= 0`, `-31 <= shift < 8` and `-2^47 <= x < 2^47`;
/// qkit evaluates the same formula exactly for any input and never panics.
///
/// ```
/// use qkit::requant::{multiply_by_quantized_multiplier_i64 as mbqm64, quantize_multiplier};
/// let m = quantize_multiplier(0.5)?;
/// assert_eq!(mbqm64(1_000_001, m), 500_001); // 500000.5 rounds up
/// assert_eq!(mbqm64(-1_000_001, m), -500_000); // -500000.5 rounds up too
/// // The Q15 reduction loses precision: 1/3 becomes 0x5555 · 2^-16.
/// let third = quantize_multiplier(1.0 / 3.0)?;
/// assert_eq!(mbqm64(3 << 20, third), 1_048_560); // not 1_048_576
/// # Ok::<(), qkit::Error>(())
/// ```
#[doc(alias = "MultiplyByQuantizedMultiplier")]
#[doc(alias = "arm_nn_requantize_s64")]
#[inline]
pub fn multiply_by_quantized_multiplier_i64(x: i64, m: QuantizedMultiplier) -> i32 {
    let q15 = reduce_multiplier_to_q15(m.multiplier) as i64;
    let p = x as i128 * q15 as i128;
    match i64::try_from(p) {
        Ok(p) => single_rounding(p, m.shift, 15),
        Err(_) => single_rounding_wide(p, m.shift, 15),
    }
}

/// [`single_rounding`] in `i128`, exact for `|p| < 2^100`: for `t <= 0` the
/// product is shifted left and wraps to `i32`.
fn single_rounding_wide(p: i128, shift: i32, base: i64) -> i32 {
    let t = base - shift as i64;
    if t >= 1 {
        if t > 100 {
            return 0;
        }
        ((p + (1i128 << (t - 1))) >> t) as i32
    } else if -t >= 32 {
        0
    } else {
        (p << (-t) as u32) as i32
    }
}

/// [`multiply_by_quantized_multiplier`]'s rounding rules on an `i64` input in
/// exact (`i128`) arithmetic: no wrapping left shift, no truncation to
/// `i32`. Wherever the `i32` form does not overflow (`x` fits `i32` and
/// `x · 2^max(shift, 0)` does too) this *is* the `i32` form, so the result is
/// TFLite's bit for bit; beyond that it is the correctly rounded product that
/// TFLite's overflowing C++ cannot give. For multipliers that pass
/// [`QuantizedMultiplier::check`] (others are clamped into the range, so the
/// function never panics); the result saturates to `i64`.
pub(crate) fn multiply_by_quantized_multiplier_exact(
    x: i64,
    m: QuantizedMultiplier,
    rounding: Rounding,
) -> i64 {
    let shift = m.shift.clamp(
        QuantizedMultiplier::MIN_SHIFT,
        QuantizedMultiplier::MAX_SHIFT,
    );
    let left = shift.max(0);
    if let Ok(x32) = i32::try_from(x)
        && i32::try_from((x as i128) << left).is_ok()
    {
        return multiply_by_quantized_multiplier(x32, m, rounding) as i64;
    }
    let q = m.multiplier.max(0) as i128;
    let r = match rounding {
        // SRDHM is (a·b + 2^30) >> 31 with a floor shift (ties up) wherever it
        // does not saturate, and q >= 0 rules saturation out.
        Rounding::Double => rounding_divide_by_pot_wide(
            (((x as i128) << left) * q + (1 << 30)) >> 31,
            (-shift).max(0),
        ),
        Rounding::Single => {
            let t = 31 - shift; // 1 ..= 62
            ((x as i128) * q + (1i128 << (t - 1))) >> t
        }
    };
    r.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// gemmlowp's `RoundingDivideByPOT` (ties away from zero) in `i128`, for
/// `0 <= exponent <= 31`.
fn rounding_divide_by_pot_wide(x: i128, exponent: i32) -> i128 {
    if exponent <= 0 {
        return x;
    }
    let mask = (1i128 << exponent) - 1;
    let threshold = (mask >> 1) + i128::from(x < 0);
    (x >> exponent) + i128::from((x & mask) > threshold)
}
