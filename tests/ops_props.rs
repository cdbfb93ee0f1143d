//! qkit::ops: the SEMANTICS.md sample vectors, exact references for the
//! composed integer pipelines, agreement with real arithmetic within one
//! step, the XOR 0x80 equivalence, and "Ok or Err, never a panic" for
//! arbitrary scales.

use proptest::prelude::*;
use qkit::ops::{
    Activation, AddParams, ElementwiseInt, MulParams, RequantizeParams, activation_range, add_i8,
    add_i16, mul_i8, mul_i16, requantize_tensor,
};
use qkit::quant::Quantizer;
use qkit::requant::{QuantizedMultiplier, Rounding, multiply_by_quantized_multiplier};

fn q8(s: f32, zp: i32) -> Quantizer<i8> {
    Quantizer::new(s, zp).unwrap()
}

#[test]
fn semantics_add_sample() {
    let p = AddParams::new(q8(0.05, -3), q8(0.1, 7), q8(0.08, -1), -128, 127).unwrap();
    assert_eq!(
        p.input1_multiplier(),
        QuantizedMultiplier {
            multiplier: 1 << 30,
            shift: -1
        }
    );
    assert_eq!(
        p.input2_multiplier(),
        QuantizedMultiplier {
            multiplier: 1 << 30,
            shift: 0
        }
    );
    assert_eq!(
        p.output_multiplier(),
        QuantizedMultiplier {
            multiplier: 1342177330,
            shift: -18
        }
    );
    for rounding in [Rounding::Double, Rounding::Single] {
        let p = p.with_rounding(rounding);
        let mut y = [0i8; 4];
        add_i8(&[100, -128, 37, 127], &[-50, 127, -91, 127], &p, &mut y).unwrap();
        assert_eq!(y, [-8, 71, -99, 127], "{rounding:?}");
    }
}

#[test]
fn semantics_mul_sample() {
    let p = MulParams::new(q8(0.05, -3), q8(0.1, 7), q8(0.08, -1), -128, 127).unwrap();
    assert_eq!(
        p.output_multiplier(),
        QuantizedMultiplier {
            multiplier: 1073741880,
            shift: -3
        }
    );
    let mut y = [0i8; 1];
    mul_i8(&[0], &[0], &p, &mut y).unwrap();
    assert_eq!(y, [-2]);
}

#[test]
fn add_output_multiplier_carry_is_rejected_like_tflite() {
    // Mo = 2·max / (2^20 · s_out) = 1 exactly: TFLite's CHECK(M < 1) aborts.
    let s_out = 2.0f32.powi(-20);
    assert!(AddParams::new(q8(0.5, 0), q8(0.5, 0), q8(s_out, 0), -128, 127).is_err());
    // Slightly above: fine.
    assert!(AddParams::new(q8(0.5, 0), q8(0.5, 0), q8(s_out * 1.001, 0), -128, 127).is_ok());
}

/// ADD in i128 from TFLM's description, with the prepared multipliers.
fn add_ref<Q: ElementwiseInt>(
    p: &AddParams<Q>,
    zp: [i32; 3],
    x1: i32,
    x2: i32,
    lo: i32,
    hi: i32,
    r: Rounding,
) -> i32 {
    let ls = p.left_shift();
    let a = multiply_by_quantized_multiplier((x1 - zp[0]) << ls, p.input1_multiplier(), r);
    let b = multiply_by_quantized_multiplier((x2 - zp[1]) << ls, p.input2_multiplier(), r);
    (multiply_by_quantized_multiplier(a + b, p.output_multiplier(), r) + zp[2]).clamp(lo, hi)
}

fn scale() -> impl Strategy<Value = f32> {
    (-12.0f32..4.0).prop_map(|e| 2f32.powf(e))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// add_i8 is the composition TFLM describes, and within one step of the
    /// real-valued sum (three roundings of at most half a step each, the
    /// first two scaled down by 2^20).
    #[test]
    fn add_i8_composition_and_accuracy(
        s in (scale(), scale(), scale()), zp in (-128i32..=127, -128i32..=127, -128i32..=127),
        x in prop::collection::vec((any::<i8>(), any::<i8>()), 1..64), double in any::<bool>(),
    ) {
        let r = if double { Rounding::Double } else { Rounding::Single };
        let Ok(p) = AddParams::new(q8(s.0, zp.0), q8(s.1, zp.1), q8(s.2, zp.2), -128, 127) else {
            // Only the output multiplier >= 1 case is an error.
            prop_assert!(2.0 * s.0.max(s.1) as f64 >= (1u32 << 20) as f64 * s.2 as f64 * 0.999);
            return Ok(());
        };
        let p = p.with_rounding(r);
        let (a, b): (Vec<i8>, Vec<i8>) = x.iter().copied().unzip();
        let mut y = vec![0i8; a.len()];
        add_i8(&a, &b, &p, &mut y).unwrap();
        for i in 0..a.len() {
            let (x1, x2) = (a[i] as i32, b[i] as i32);
            prop_assert_eq!(y[i] as i32, add_ref(&p, [zp.0, zp.1, zp.2], x1, x2, -128, 127, r));
            let real = (s.0 as f64 * (x1 - zp.0) as f64 + s.1 as f64 * (x2 - zp.1) as f64) / s.2 as f64 + zp.2 as f64;
            let want = real.round().clamp(-128.0, 127.0);
            prop_assert!((y[i] as f64 - want).abs() <= 1.0, "y = {}, real = {}", y[i], real);
        }
    }

    #[test]
    fn mul_i8_within_one_step(
        s in (scale(), scale(), scale()), zp in (-128i32..=127, -128i32..=127, -128i32..=127),
        x in prop::collection::vec((any::<i8>(), any::<i8>()), 1..64), double in any::<bool>(),
    ) {
        let r = if double { Rounding::Double } else { Rounding::Single };
        let p = MulParams::new(q8(s.0, zp.0), q8(s.1, zp.1), q8(s.2, zp.2), -128, 127).unwrap().with_rounding(r);
        let (a, b): (Vec<i8>, Vec<i8>) = x.iter().copied().unzip();
        let mut y = vec![0i8; a.len()];
        mul_i8(&a, &b, &p, &mut y).unwrap();
        for i in 0..a.len() {
            let prod = (a[i] as i32 - zp.0) * (b[i] as i32 - zp.1);
            let m = p.output_multiplier().to_f64();
            // Skip products whose left-shifted form wraps (huge M): TFLite wraps too.
            if (prod as f64 * m).abs() > 1e6 || p.output_multiplier().shift > 14 {
                continue;
            }
            let real = prod as f64 * s.0 as f64 * s.1 as f64 / s.2 as f64 + zp.2 as f64;
            let want = real.round().clamp(-128.0, 127.0);
            prop_assert!((y[i] as f64 - want).abs() <= 1.0, "y = {}, real = {}", y[i], real);
        }
    }

    #[test]
    fn int16_add_and_mul_within_one_step(
        s in (scale(), scale(), scale()), x in prop::collection::vec((any::<i16>(), any::<i16>()), 1..32),
    ) {
        let q = |s: f32| Quantizer::<i16>::new(s, 0).unwrap();
        let (a, b): (Vec<i16>, Vec<i16>) = x.iter().copied().unzip();
        let mut y = vec![0i16; a.len()];
        if let Ok(p) = AddParams::new(q(s.0), q(s.1), q(s.2), i16::MIN, i16::MAX) {
            add_i16(&a, &b, &p, &mut y).unwrap();
            for i in 0..a.len() {
                prop_assert_eq!(y[i] as i32, add_ref(&p, [0, 0, 0], a[i] as i32, b[i] as i32, -32768, 32767, Rounding::Double));
                let real = (s.0 as f64 * a[i] as f64 + s.1 as f64 * b[i] as f64) / s.2 as f64;
                let want = real.round().clamp(-32768.0, 32767.0);
                // int16 ADD has only 15 bits of headroom: allow the extra
                // half-step the first two roundings can add.
                prop_assert!((y[i] as f64 - want).abs() <= 2.0, "add y = {}, real = {}", y[i], real);
            }
        }
        let p = MulParams::new(q(s.0), q(s.1), q(s.2), i16::MIN, i16::MAX).unwrap();
        mul_i16(&a, &b, &p, &mut y).unwrap();
        let m = p.output_multiplier();
        for i in 0..a.len() {
            let prod = a[i] as i32 * b[i] as i32;
            if i32::try_from((prod as i64) << m.shift.max(0)).is_ok() {
                // TFLite's int32 arithmetic does not overflow: bit for bit.
                let want = multiply_by_quantized_multiplier(prod, m, Rounding::Double).clamp(-32768, 32767);
                prop_assert_eq!(y[i] as i32, want);
            } else {
                // TFLite's left shift would wrap; qkit saturates exactly.
                let want = (prod as f64 * m.to_f64()).round().clamp(-32768.0, 32767.0);
                prop_assert!((y[i] as f64 - want).abs() <= 1.0, "y = {}, want {}", y[i], want);
            }
        }
    }

    /// Arbitrary f32 bit patterns as scales: the quantizer rejects the
    /// invalid ones; the operators then give Ok or Err, never a panic, and
    /// evaluation of an Ok never panics.
    #[test]
    fn arbitrary_scales_never_panic(bits in any::<[u32; 3]>(), zp in any::<[i8; 3]>(), act in any::<(i8, i8)>()) {
        let qs: Vec<_> = (0..3).map(|i| Quantizer::<i8>::new(f32::from_bits(bits[i]), zp[i] as i32)).collect();
        if let (Ok(a), Ok(b), Ok(o)) = (qs[0], qs[1], qs[2]) {
            let mut y = [0i8; 4];
            let xs = [i8::MIN, -1, 0, i8::MAX];
            if let Ok(p) = AddParams::new(a, b, o, act.0, act.1) {
                add_i8(&xs, &xs, &p, &mut y).unwrap();
                add_i8(&xs, &xs, &p.with_rounding(Rounding::Single), &mut y).unwrap();
            }
            if let Ok(p) = MulParams::new(a, b, o, act.0, act.1) {
                mul_i8(&xs, &xs, &p, &mut y).unwrap();
                mul_i8(&xs, &xs, &p.with_rounding(Rounding::Single), &mut y).unwrap();
            }
            for act in [Activation::None, Activation::Relu, Activation::Relu6, Activation::ReluN1To1] {
                if let Ok((lo, hi)) = activation_range(act, o) {
                    prop_assert!(lo <= hi || act != Activation::None);
                }
            }
            if let Ok(p) = RequantizeParams::new(a, o) {
                requantize_tensor(&xs, &p, &mut y).unwrap();
            }
        }
    }
}

#[test]
fn xor_0x80_equals_the_general_formula() {
    // Every input, every zero-point pair 128 apart, both directions.
    for zp_i8 in -128..=127 {
        let zp_u8 = zp_i8 + 128;
        let to_u8 =
            RequantizeParams::new(q8(0.37, zp_i8), Quantizer::<u8>::new(0.37, zp_u8).unwrap())
                .unwrap();
        let to_i8 =
            RequantizeParams::new(Quantizer::<u8>::new(0.37, zp_u8).unwrap(), q8(0.37, zp_i8))
                .unwrap();
        assert!(to_u8.is_xor_0x80() && to_i8.is_xor_0x80());
        let xs: Vec<i8> = (-128..=127).collect();
        let us: Vec<u8> = (0..=255).collect();
        let (mut yu, mut yi) = (vec![0u8; 256], vec![0i8; 256]);
        requantize_tensor(&xs, &to_u8, &mut yu).unwrap();
        requantize_tensor(&us, &to_i8, &mut yi).unwrap();
        for k in 0..256 {
            let general_u = (multiply_by_quantized_multiplier(
                xs[k] as i32 - zp_i8,
                QuantizedMultiplier::ONE,
                Rounding::Double,
            ) + zp_u8)
                .clamp(0, 255);
            let general_i = (multiply_by_quantized_multiplier(
                us[k] as i32 - zp_u8,
                QuantizedMultiplier::ONE,
                Rounding::Double,
            ) + zp_i8)
                .clamp(-128, 127);
            assert_eq!(yu[k] as i32, general_u);
            assert_eq!(yi[k] as i32, general_i);
            assert_eq!(yu[k], (xs[k] as u8) ^ 0x80);
        }
    }
    // Not the shortcut: a different scale, or zero points not 128 apart.
    let p = RequantizeParams::new(q8(0.37, 0), Quantizer::<u8>::new(0.37, 127).unwrap()).unwrap();
    assert!(!p.is_xor_0x80());
    let p = RequantizeParams::new(q8(0.37, 0), q8(0.37, 0)).unwrap();
    assert!(!p.is_xor_0x80());
}

#[test]
fn activation_ranges_match_tflite_formula() {
    // Quantize(f) = zp + (int32)roundf(f / scale) in f32.
    for (s, zp) in [
        (0.05f32, -128),
        (0.1, 0),
        (0.0235, 17),
        (1.0, -3),
        (1e-3, 5),
        (0.047, 127),
    ] {
        let out = q8(s, zp);
        let qz = |f: f32| zp + (f / s).round() as i32;
        assert_eq!(
            activation_range(Activation::None, out).unwrap(),
            (-128, 127)
        );
        let relu = activation_range(Activation::Relu, out).unwrap();
        assert_eq!(relu, ((-128).max(qz(0.0)) as i8, 127));
        let relu6 = activation_range(Activation::Relu6, out).unwrap();
        assert_eq!(relu6, ((-128).max(qz(0.0)) as i8, 127.min(qz(6.0)) as i8));
        let n1 = activation_range(Activation::ReluN1To1, out).unwrap();
        assert_eq!(n1, ((-128).max(qz(-1.0)) as i8, 127.min(qz(1.0)) as i8));
    }
    // A tie in the bound rounds away from zero: 6 / 0.25... choose 1 / 0.4 = 2.5 -> 3.
    let out = q8(0.4, 0);
    assert_eq!(
        activation_range(Activation::ReluN1To1, out).unwrap(),
        (-3, 3)
    );
    // int16 and uint8 outputs.
    let out16 = Quantizer::<i16>::new(6.0 / 32767.0, 0).unwrap();
    assert_eq!(
        activation_range(Activation::Relu6, out16).unwrap(),
        (0, 32767)
    );
    let outu8 = Quantizer::<u8>::new(0.1, 10).unwrap();
    assert_eq!(
        activation_range(Activation::Relu6, outu8).unwrap(),
        (10, 70)
    );
    // A bound that overflows i32 is an error, as in TFLite.
    let tiny = q8(1e-30, 0);
    assert!(activation_range(Activation::Relu6, tiny).is_err());
}

/// Length mismatches are errors; int8 parameters handed to an int16 kernel
/// do not compile (see the `compile_fail` example on `ops::ElementwiseInt`).
#[test]
fn length_mismatches_are_errors() {
    let q = q8(0.5, 0);
    let p = AddParams::new(q, q, q, -128, 127).unwrap();
    let mut y = [0i8; 2];
    assert!(add_i8(&[1, 2], &[1], &p, &mut y).is_err());
    assert!(add_i8(&[1, 2], &[1, 2], &p, &mut [0i8; 3]).is_err());
    let m = MulParams::new(q, q, q, -128, 127).unwrap();
    assert!(mul_i8(&[1], &[1, 2], &m, &mut y).is_err());
    assert!(AddParams::new(q, q, q, 5, -5).is_err());
    let r = RequantizeParams::new(q, q).unwrap();
    assert!(requantize_tensor(&[1i8, 2], &r, &mut [0i8; 1]).is_err());
    assert!(add_i8(&[], &[], &p, &mut []).is_ok());
}
