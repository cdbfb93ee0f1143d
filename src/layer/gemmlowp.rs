//! The fixed-point transcendental functions of gemmlowp's
//! [`fixedpoint.h`](https://github.com/google/gemmlowp/blob/master/fixedpoint/fixedpoint.h)
//! that TFLite's quantized SOFTMAX, LOGISTIC and TANH are built on, on raw
//! `i32` values: a `FixedPoint<int32, I>` holds `raw / 2^(31 - I)`.
//!
//! Every step (the rounding doubling multiplies, the rounding shifts, the
//! saturations) is gemmlowp's, so the results are its bits, not merely
//! close approximations.

use crate::requant::{rounding_divide_by_pot, saturating_rounding_doubling_high_mul as srdhm};

/// gemmlowp's `SaturatingRoundingMultiplyByPOT<exponent>`: a left shift
/// that saturates, or a rounding (half away from zero) right shift.
pub(super) fn saturating_rounding_multiply_by_pot(x: i32, exponent: i32) -> i32 {
    if exponent > 0 {
        let threshold = (1i32 << (31 - exponent)) - 1;
        if x > threshold {
            i32::MAX
        } else if x < -threshold {
            i32::MIN
        } else {
            x << exponent
        }
    } else if exponent < 0 {
        rounding_divide_by_pot(x, -exponent)
    } else {
        x
    }
}

/// `Rescale<dst>` of a value with `src` integer bits.
fn rescale(x: i32, src: i32, dst: i32) -> i32 {
    saturating_rounding_multiply_by_pot(x, src - dst)
}

/// gemmlowp's `RoundingHalfSum`: `(a + b ± 1) / 2`, truncating division.
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = i64::from(a) + i64::from(b);
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// `exp(a)` for `a` in `[-1/4, 0)`, Q0.31 in and out: a 4th-order Taylor
/// expansion around -1/8.
fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const CONSTANT_TERM: i32 = 1_895_147_668; // exp(-1/8)
    const ONE_THIRD: i32 = 715_827_883;
    let x = a.wrapping_add(1 << 28); // a + 1/8
    let x2 = srdhm(x, x);
    let x3 = srdhm(x2, x);
    let x4 = srdhm(x2, x2);
    let x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2);
    let poly = saturating_rounding_multiply_by_pot(
        srdhm(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        -1,
    );
    CONSTANT_TERM.wrapping_add(srdhm(CONSTANT_TERM, x.wrapping_add(poly)))
}

/// gemmlowp's `exp_on_negative_values`: `exp(a)` for `a <= 0` with
/// `integer_bits` integer bits (`0 <= integer_bits <= 30`), Q0.31 result.
pub(super) fn exp_on_negative_values(a: i32, integer_bits: i32) -> i32 {
    let fractional_bits = 31 - integer_bits;
    let one_quarter = 1i32 << (fractional_bits - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(one_quarter);
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(rescale(
        a_mod_quarter_minus_one_quarter,
        integer_bits,
        0,
    ));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // exp(-2^e) for e = -2..=4, in Q0.31.
    const BARREL: [(i32, i32); 7] = [
        (-2, 1_672_461_947),
        (-1, 1_302_514_674),
        (0, 790_015_084),
        (1, 290_630_308),
        (2, 39_332_535),
        (3, 720_401),
        (4, 242),
    ];
    for (exponent, multiplier) in BARREL {
        if integer_bits > exponent {
            let shift = fractional_bits + exponent;
            if remainder & (1i32 << shift) != 0 {
                result = srdhm(result, multiplier);
            }
        }
    }
    if integer_bits > 5 {
        let clamp = -(1i32 << (36 - integer_bits)); // -32.0
        if a < clamp {
            result = 0;
        }
    }
    if a == 0 { i32::MAX } else { result }
}

/// Three Newton-Raphson steps for `1 / half_denominator` in Q2.29 (the
/// shared core of gemmlowp's `one_over_one_plus_x_for_x_in_0_1` and
/// `one_minus_x_over_one_plus_x_for_x_in_0_1`).
fn newton_reciprocal(half_denominator: i32) -> i32 {
    const C48_OVER_17: i32 = 1_515_870_810;
    const CNEG32_OVER_17: i32 = -1_010_580_540;
    const ONE_Q2: i32 = 1 << 29;
    let mut x = C48_OVER_17.wrapping_add(srdhm(half_denominator, CNEG32_OVER_17));
    for _ in 0..3 {
        let half_denominator_times_x = srdhm(half_denominator, x);
        let one_minus = ONE_Q2.wrapping_sub(half_denominator_times_x);
        x = x.wrapping_add(rescale(srdhm(x, one_minus), 4, 2));
    }
    x
}

/// `1 / (1 + a)` for `a` in `[0, 1)`, Q0.31 in and out.
pub(super) fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    let x = newton_reciprocal(rounding_half_sum(a, i32::MAX));
    // ExactMulByPot<-1> then Rescale<0> of a Q1.30.
    rescale(x, 1, 0)
}

/// `(1 - a) / (1 + a)` for `a` in `[0, 1)`, Q0.31 in and out.
fn one_minus_x_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    let x = newton_reciprocal(rounding_half_sum(a, i32::MAX));
    rescale(x.wrapping_sub(1 << 29), 2, 0)
}

/// gemmlowp's `logistic` of a value with `integer_bits` integer bits,
/// Q0.31 result.
pub(super) fn logistic(a: i32, integer_bits: i32) -> i32 {
    if a == 0 {
        return 1 << 30;
    }
    let abs = if a > 0 { a } else { a.wrapping_neg() };
    let positive =
        one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(abs.wrapping_neg(), integer_bits));
    if a > 0 {
        positive
    } else {
        i32::MAX.wrapping_sub(positive)
    }
}

/// gemmlowp's `tanh` of a value with `integer_bits` integer bits, Q0.31
/// result.
pub(super) fn tanh(a: i32, integer_bits: i32) -> i32 {
    if a == 0 {
        return 0;
    }
    let n = if a < 0 { a } else { a.wrapping_neg() };
    // neg_tanh_on_negative_values: ExactMulByPot<1> adds an integer bit.
    let t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(n, integer_bits + 1));
    if a < 0 { t.wrapping_neg() } else { t }
}

/// TFLite's `CalculateInputRadius(integer_bits, left_shift, 31)`: the
/// largest input difference whose rescaled value stays below the format's
/// maximum, `floor((2^I - 1) · 2^(31 - I) / 2^left_shift)` in `f64`
/// (`0 <= left_shift <= 62`).
pub(super) fn calculate_input_radius(integer_bits: i32, left_shift: i32) -> i32 {
    let max = ((1i64 << integer_bits) - 1) as f64 * (1i64 << (31 - integer_bits)) as f64;
    libm::floor(max / (1i64 << left_shift) as f64) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(raw: i32, integer_bits: i32) -> f64 {
        raw as f64 / (1u64 << (31 - integer_bits)) as f64
    }

    #[test]
    fn close_to_the_real_functions() {
        for i in 0..=2000 {
            let x = -(i as f64) / 100.0; // [-20, 0]
            let raw = (x * (1 << 26) as f64) as i32; // Q5.26
            let e = q(exp_on_negative_values(raw, 5), 0);
            assert!((e - q(raw, 5).exp()).abs() < 1e-6, "exp({x}) = {e}");
        }
        for i in -800..=800 {
            let raw = (i as f64 / 100.0 * (1 << 27) as f64) as i32; // Q4.27
            let x = q(raw, 4);
            let s = q(logistic(raw, 4), 0);
            assert!(
                (s - 1.0 / (1.0 + (-x).exp())).abs() < 1e-6,
                "logistic({x}) = {s}"
            );
            let t = q(tanh(raw, 4), 0);
            assert!((t - x.tanh()).abs() < 1e-6, "tanh({x}) = {t}");
        }
        for i in 0..100 {
            let a = i as f64 / 100.0;
            let r = q(
                one_over_one_plus_x_for_x_in_0_1((a * 2f64.powi(31)) as i32),
                0,
            );
            assert!((r - 1.0 / (1.0 + a)).abs() < 1e-8);
        }
    }
}
