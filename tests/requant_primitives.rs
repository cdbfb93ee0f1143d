//! The integer requantization primitives against exact references written in
//! `i128` from the mathematical definition (not from the implementation), over
//! random and edge inputs, in both rounding modes.

use proptest::prelude::*;
use qkit::requant::{
    QuantizedMultiplier, Rounding, multiply_by_quantized_multiplier as mbqm,
    multiply_by_quantized_multiplier_i64 as mbqm64, quantize_multiplier,
    quantize_multiplier_single_rounding, reduce_multiplier_to_q15, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
};

// ---------------------------------------------------------------- references

/// floor(n / 2^k) for k >= 0.
fn floor_pow2(n: i128, k: u32) -> i128 {
    n.div_euclid(1i128 << k)
}

/// n / 2^k rounded half up (toward +inf).
fn rhu(n: i128, k: u32) -> i128 {
    if k == 0 {
        n
    } else {
        floor_pow2(2 * n + (1i128 << k), k + 1)
    }
}

/// n / 2^k rounded half away from zero.
fn rhaz(n: i128, k: u32) -> i128 {
    if k == 0 {
        return n;
    }
    let mag = (n.abs() * 2 + (1i128 << k)) >> (k + 1);
    if n < 0 { -mag } else { mag }
}

fn sat32(v: i128) -> i32 {
    v.clamp(i32::MIN as i128, i32::MAX as i128) as i32
}

/// High half of 2ab, ties up, saturated.
fn srdhm_ref(a: i32, b: i32) -> i32 {
    sat32(rhu(2 * a as i128 * b as i128, 32))
}

fn rdbpot_ref(x: i32, e: i32) -> i32 {
    rhaz(x as i128, e.max(0) as u32) as i32
}

/// x · 2^l reduced mod 2^32 (TFLite's wrapping left shift).
fn wrap_shl_ref(x: i32, l: i32) -> i32 {
    ((x as i128) << l.min(100)) as u32 as i32 // `as u32` keeps the low 32 bits
}

fn mbqm_double_ref(x: i32, m: QuantizedMultiplier) -> i32 {
    let l = m.shift.max(0);
    let r = (-(m.shift as i64)).clamp(0, 64) as i32;
    rdbpot_ref(srdhm_ref(wrap_shl_ref(x, l), m.multiplier), r)
}

/// RHU(x·q / 2^(31-shift)), low 32 bits.
fn mbqm_single_ref(x: i32, m: QuantizedMultiplier) -> i32 {
    let p = x as i128 * m.multiplier as i128;
    let t = 31 - m.shift as i64;
    let v = if t >= 0 {
        rhu(p, t.min(120) as u32)
    } else {
        p << (-t).min(100)
    };
    v as u32 as i32
}

fn q15_ref(q: i32) -> i128 {
    rhu(q as i128, 16).min(0x7FFF)
}

fn mbqm64_ref(x: i64, m: QuantizedMultiplier) -> i32 {
    let p = x as i128 * q15_ref(m.multiplier);
    let t = 15 - m.shift as i64;
    let v = if t >= 0 { rhu(p, t as u32) } else { p << (-t) };
    v as u32 as i32
}

// ---------------------------------------------------------------- strategies

fn edge_i32() -> impl Strategy<Value = i32> {
    prop_oneof![
        3 => any::<i32>(),
        1 => prop::sample::select(vec![0, 1, -1, 2, -2, i32::MIN, i32::MIN + 1, i32::MAX, i32::MAX - 1, 1 << 30, -(1 << 30)]),
        // exact ties at every bit position, both signs
        2 => (0u32..31, -1000i32..1000).prop_map(|(e, k)| k.wrapping_shl(e + 1).wrapping_add(1 << e)),
        1 => -70_000i32..70_000,
    ]
}

fn multiplier() -> impl Strategy<Value = QuantizedMultiplier> {
    let q = prop_oneof![
        3 => (1i32 << 30)..=i32::MAX,
        1 => prop::sample::select(vec![0, 1, 1 << 30, i32::MAX, 1583594044]),
    ];
    (q, -31i32..=30).prop_map(|(multiplier, shift)| QuantizedMultiplier { multiplier, shift })
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn srdhm_matches_exact(a in edge_i32(), b in edge_i32()) {
        prop_assert_eq!(saturating_rounding_doubling_high_mul(a, b), srdhm_ref(a, b));
    }

    #[test]
    fn rdbpot_matches_exact(x in edge_i32(), e in -3i32..=40) {
        prop_assert_eq!(rounding_divide_by_pot(x, e), rdbpot_ref(x, e));
    }

    #[test]
    fn mbqm_double_matches_exact(x in edge_i32(), m in multiplier()) {
        prop_assert_eq!(mbqm(x, m, Rounding::Double), mbqm_double_ref(x, m));
    }

    #[test]
    fn mbqm_single_matches_exact(x in edge_i32(), m in multiplier()) {
        prop_assert_eq!(mbqm(x, m, Rounding::Single), mbqm_single_ref(x, m));
    }

    #[test]
    fn mbqm_any_input_is_defined(x in any::<i32>(), q in any::<i32>(), shift in any::<i32>()) {
        let m = QuantizedMultiplier { multiplier: q, shift };
        // Never panics; agrees with the references wherever they are defined.
        let d = mbqm(x, m, Rounding::Double);
        let s = mbqm(x, m, Rounding::Single);
        if (-64..=64).contains(&shift) {
            prop_assert_eq!(d, mbqm_double_ref(x, m));
            prop_assert_eq!(s, mbqm_single_ref(x, m));
        }
    }

    #[test]
    fn mbqm_i64_matches_exact(
        x in prop_oneof![
            any::<i64>().prop_map(|v| v >> 16),     // the contract: |x| < 2^47
            -(1i64 << 20)..(1i64 << 20),
            any::<i64>(),
        ],
        m in multiplier(),
    ) {
        let m = QuantizedMultiplier { shift: m.shift.min(7), ..m };
        prop_assert_eq!(mbqm64(x, m), mbqm64_ref(x, m));
    }

    #[test]
    fn q15_reduction_matches_exact(q in any::<i32>()) {
        prop_assert_eq!(reduce_multiplier_to_q15(q) as i128, q15_ref(q).max(i32::MIN as i128));
    }

    /// q · 2^(shift-31) is the nearest representable value to M, ties away
    /// from zero, checked in exact integer arithmetic on M's binary expansion.
    #[test]
    fn quantize_multiplier_is_nearest_rhaz(mant in (1u64 << 52)..(1u64 << 53), exp in -60i32..=40) {
        let real = mant as f64 * 2f64.powi(exp - 52); // exact: M = mant · 2^(exp-52)
        let m = quantize_multiplier(real).unwrap();
        if exp < -32 {
            // frexp exponent below -31: flushed to zero.
            prop_assert_eq!(m, QuantizedMultiplier::default());
            return Ok(());
        }
        prop_assert!((1 << 30..=i32::MAX).contains(&m.multiplier));
        // Compare 2^(31-shift) · M against q: diff = mant·2^(exp-52+31-shift) - q
        let k = exp - 52 + 31 - m.shift; // always negative here (<= -21)
        prop_assert!(k < 0);
        let scaled = mant as i128; // M · 2^(31-shift) = scaled / 2^-k
        let q = m.multiplier as i128;
        let diff2 = 2 * (q << (-k)) - 2 * scaled; // 2·(q - exact) · 2^-k
        let half = 1i128 << (-k);
        prop_assert!(diff2.abs() <= half, "not nearest");
        if diff2.abs() == half {
            prop_assert!(diff2 > 0, "tie must go away from zero");
        }
        let single = quantize_multiplier_single_rounding(real).unwrap();
        if m.shift <= 30 {
            prop_assert_eq!(single, m, "below 2^30 the single form is identical");
        } else {
            prop_assert_eq!(single, QuantizedMultiplier { multiplier: i32::MAX, shift: 30 });
        }
    }
}

// ---------------------------------------------------------------- edge cases

#[test]
fn srdhm_verified_values() {
    let srdhm = saturating_rounding_doubling_high_mul;
    assert_eq!(srdhm(3 << 29, 2), 2);
    assert_eq!(srdhm(-3 << 29, 2), -1);
    assert_eq!(srdhm(-1 << 29, 2), 0);
    assert_eq!(srdhm(i32::MIN, i32::MIN), i32::MAX);
    assert_eq!(srdhm(i32::MIN, i32::MAX), -i32::MAX);
    assert_eq!(srdhm(i32::MAX, i32::MAX), i32::MAX - 1);
}

#[test]
fn rdbpot_every_tie_every_exponent() {
    for e in 1..=31 {
        for k in [-5i64, -1, 0, 1, 4] {
            let x = k * (1 << e) + (1 << (e - 1)); // k + 0.5
            if let Ok(x) = i32::try_from(x) {
                assert_eq!(
                    rounding_divide_by_pot(x, e) as i128,
                    rhaz(x as i128, e as u32)
                );
                assert_eq!(
                    rounding_divide_by_pot(-x, e) as i128,
                    -rhaz(x as i128, e as u32)
                );
            }
        }
    }
    assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
    assert_eq!(rounding_divide_by_pot(i32::MIN, 32), -1);
    assert_eq!(rounding_divide_by_pot(i32::MAX, 32), 0);
    assert_eq!(rounding_divide_by_pot(i32::MIN, 33), 0);
}

#[test]
fn quantize_multiplier_verified_values() {
    let cases: [(f64, i32, i32); 8] = [
        (1.0, 0x4000_0000, 1),
        (0.5, 0x4000_0000, 0),
        (0.75, 0x6000_0000, 0),
        (1.0 / 3.0, 0x5555_5555, -1),
        (3.0, 0x6000_0000, 2),
        (0.9999999999, 0x4000_0000, 1),
        (4.6e-10, 0x7E71_9F50, -31),
        (1e-10, 0, 0),
    ];
    for (real, multiplier, shift) in cases {
        assert_eq!(
            quantize_multiplier(real).unwrap(),
            QuantizedMultiplier { multiplier, shift },
            "M = {real}"
        );
    }
    assert_eq!(
        quantize_multiplier(0.0).unwrap(),
        QuantizedMultiplier::default()
    );
    assert_eq!(
        quantize_multiplier(-0.0).unwrap(),
        QuantizedMultiplier::default()
    );
    assert_eq!(
        quantize_multiplier(f64::MIN_POSITIVE / 4.0).unwrap(),
        QuantizedMultiplier::default()
    );
    for bad in [-1e-30, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        assert!(quantize_multiplier(bad).is_err(), "{bad}");
        assert!(quantize_multiplier_single_rounding(bad).is_err(), "{bad}");
    }
    // 2^-32 · (1 - tiny) has exponent -32: flushed; 2^-32 exactly has exponent -31.
    assert_eq!(
        quantize_multiplier(2f64.powi(-32)).unwrap(),
        QuantizedMultiplier {
            multiplier: 1 << 30,
            shift: -31
        }
    );
    assert_eq!(
        quantize_multiplier(2f64.powi(-32) * 0.99).unwrap(),
        QuantizedMultiplier::default()
    );
    // Single rounding clamps the shift at 30.
    assert_eq!(
        quantize_multiplier(2f64.powi(31)).unwrap(),
        QuantizedMultiplier {
            multiplier: 1 << 30,
            shift: 32
        }
    );
    assert_eq!(
        quantize_multiplier_single_rounding(2f64.powi(31)).unwrap(),
        QuantizedMultiplier {
            multiplier: i32::MAX,
            shift: 30
        }
    );
    assert_eq!(
        quantize_multiplier_single_rounding(2f64.powi(29)).unwrap(),
        QuantizedMultiplier {
            multiplier: 1 << 30,
            shift: 30
        }
    );
}

#[test]
fn double_and_single_rounding_differ_as_documented() {
    let quarter = QuantizedMultiplier {
        multiplier: 1 << 30,
        shift: -1,
    };
    assert_eq!(mbqm(-2, quarter, Rounding::Double), -1);
    assert_eq!(mbqm(-2, quarter, Rounding::Single), 0);
    assert_eq!(mbqm(-6, quarter, Rounding::Double), -2);
    assert_eq!(mbqm(-6, quarter, Rounding::Single), -1);
    assert_eq!(mbqm(2, quarter, Rounding::Double), 1);
    assert_eq!(mbqm(2, quarter, Rounding::Single), 1);
    let m = QuantizedMultiplier {
        multiplier: 1583594044,
        shift: -9,
    };
    assert_eq!(mbqm(7984, m, Rounding::Double), 12);
    assert_eq!(mbqm(7984, m, Rounding::Single), 11);
}

#[test]
fn double_rounding_left_shift_wraps() {
    // shift 2: x · 4 wraps in i32 before the multiply, as TFLite does in practice.
    let m = QuantizedMultiplier {
        multiplier: 1 << 30,
        shift: 2,
    }; // M = 2
    let x = 1 << 30;
    assert_eq!(mbqm(x, m, Rounding::Double), 0); // (2^30 · 4) mod 2^32 = 0
    assert_eq!(mbqm(x, m, Rounding::Single), i32::MIN); // 2^31 truncated
    assert_eq!(mbqm(1000, m, Rounding::Double), 2000);
}

#[test]
fn i64_form_reduces_to_q15() {
    let third = quantize_multiplier(1.0 / 3.0).unwrap();
    assert_eq!(reduce_multiplier_to_q15(third.multiplier), 0x5555);
    assert_eq!(mbqm64(3 << 20, third), 1_048_560);
    assert_eq!(reduce_multiplier_to_q15(0x7FFF_0000), 0x7FFF);
    assert_eq!(reduce_multiplier_to_q15(0x7FFE_FFFF), 0x7FFF);
    assert_eq!(reduce_multiplier_to_q15(0x7FFE_7FFF), 0x7FFE);
    assert_eq!(
        mbqm64(
            i64::MIN,
            QuantizedMultiplier {
                multiplier: i32::MAX,
                shift: 7
            }
        ),
        mbqm64_ref(
            i64::MIN,
            QuantizedMultiplier {
                multiplier: i32::MAX,
                shift: 7
            }
        )
    );
}

// ---------------------------------------------------------------- float32 form

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// ONNX Runtime / XNNPACK fp32: the f32 product, clamped, ties to even, + zp.
    #[test]
    fn requantize_f32_matches_definition(
        acc in edge_i32(),
        scale in prop_oneof![(-30.0f32..10.0).prop_map(|e| 2f32.powf(e)), Just(0.5f32), Just(0.25)],
        zp in -128i32..=127,
    ) {
        let v = (acc as f32 * scale) as f64; // the f32 product, exactly as those runtimes form it
        let want = (v.round_ties_even() + zp as f64).clamp(-128.0, 127.0) as i32;
        prop_assert_eq!(qkit::requant::requantize_f32(acc, scale, zp, -128, 127), Ok(want));
    }
}

#[test]
fn requantize_f32_ties_go_to_even_before_the_zero_point() {
    use qkit::requant::requantize_f32;
    let r = |acc, scale, zp, min, max| requantize_f32(acc, scale, zp, min, max).unwrap();
    // 2.5 -> 2, 3.5 -> 4, -2.5 -> -2, then + zp (so an odd zp does not flip the tie).
    assert_eq!(r(5, 0.5, 0, -128, 127), 2);
    assert_eq!(r(7, 0.5, 0, -128, 127), 4);
    assert_eq!(r(-5, 0.5, 0, -128, 127), -2);
    assert_eq!(r(5, 0.5, 1, -128, 127), 3);
    assert_eq!(r(1, 0.5, 1, 0, 255), 1);
    // uint8 range, clamp in float before rounding.
    assert_eq!(r(-1000, 0.5, 128, 0, 255), 0);
    assert_eq!(r(i32::MAX, 1.0, 128, 0, 255), 255);
    // Large accumulators lose precision in `acc as f32`, as in the runtimes.
    assert_eq!(r((1 << 24) + 1, 1.0 / 65536.0, 0, -128, 127), 127);
    assert_eq!(r((1 << 24) + 1, 1.0 / (1 << 18) as f32, 0, -128, 127), 64);
}

/// Issue 10: where MLAS returns a value for a NaN scale or an empty range
/// (`min > max`), qkit returns an error instead of clamping silently.
#[test]
fn requantize_f32_rejects_bad_scales_and_ranges() {
    use qkit::{Error, requant::requantize_f32};
    for scale in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.5] {
        assert!(
            matches!(
                requantize_f32(1, scale, 5, 0, 255),
                Err(Error::InvalidScale(_))
            ),
            "scale {scale}"
        );
    }
    assert!(matches!(
        requantize_f32(1, 0.5, 0, 10, -10),
        Err(Error::InvalidParameter(_))
    ));
    assert_eq!(requantize_f32(1, 0.5, 0, 7, 7), Ok(7));
}
