//! qkit::ops with arbitrary scales, zero points, activation bounds and
//! inputs: `AddParams` / `MulParams` / `RequantizeParams` construction gives
//! `Ok` or `Err`, never a panic, and evaluating an `Ok` never panics and
//! respects the activation clamp. `MulParams` and `RequantizeParams` are `Ok`
//! exactly when the multiplier's shift is at most 30 (the one rule), and
//! REQUANTIZE from `i32` storage with any zero point equals the exact
//! (`i128`) reference: TFLite's rounding, saturated instead of wrapped.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::ops::{
    Activation, AddParams, MulParams, RequantizeParams, activation_range, add_i8, add_i16, mul_i8,
    mul_i16, requantize_tensor,
};
use qkit::quant::Quantizer;
use qkit::requant::{
    QuantizedMultiplier, Rounding, quantize_multiplier, requantize_real_multiplier,
};
use qkit::{Error, QInt};

#[derive(Debug, Arbitrary)]
struct Input {
    scales: [f32; 3],
    zps: [i32; 3],
    act: (i8, i8),
    act16: (i16, i16),
    activation: u8,
    single: bool,
    a: Vec<i8>,
    b: Vec<i8>,
    a16: Vec<i16>,
    b16: Vec<i16>,
    a32: Vec<i32>,
    zp32: i32,
}

/// `x · m` with TFLite's rounding in exact arithmetic: double rounding is a
/// Q31 product rounded half up, then a division by 2^R rounded half away
/// from zero; single rounding one division rounded half up.
fn exact(x: i128, m: QuantizedMultiplier, r: Rounding) -> i128 {
    let q = m.multiplier as i128;
    match r {
        Rounding::Double => {
            let (left, right) = (m.shift.max(0), (-m.shift).max(0));
            let p = ((x << left) * q + (1 << 30)) >> 31;
            let d = 1i128 << right;
            let mag = (p.abs() + d / 2) / d;
            if d == 1 {
                p
            } else if p < 0 {
                -mag
            } else {
                mag
            }
        }
        Rounding::Single => {
            let t = 31 - m.shift;
            (x * q + (1i128 << (t - 1))) >> t
        }
    }
}

/// `RequantizeParams::new` is Ok exactly when the multiplier obeys the rule,
/// and from i32 storage (any zero point) the output is the exact reference.
fn requantize_wide<O: QInt>(inp: &Input, r: Rounding) {
    let [s0, _, s2] = inp.scales;
    let (Ok(qi), Ok(qo)) = (
        Quantizer::<i32>::new(s0, inp.zp32),
        Quantizer::<O>::new(s2, inp.zps[2]),
    ) else {
        return;
    };
    let m = requantize_real_multiplier(s0, s2).and_then(quantize_multiplier);
    let p = RequantizeParams::<i32, O>::new(qi, qo);
    match (&p, m) {
        (Ok(_), Ok(m)) => assert!(m.shift <= 30),
        (Err(Error::ShiftOutOfRange { shift, .. }), Ok(m)) => {
            assert!(*shift == m.shift && m.shift > 30)
        }
        (Err(_), Err(_)) => {}
        (p, m) => panic!("{p:?} vs {m:?}"),
    }
    let Ok(p) = p else { return };
    let p = p.with_rounding(r);
    let x = &inp.a32[..inp.a32.len().min(64)];
    let mut y = vec![O::saturating_from_i32(0); x.len()];
    requantize_tensor(x, &p, &mut y).unwrap();
    for (&v, o) in x.iter().zip(&y) {
        let want = exact(v as i128 - inp.zp32 as i128, p.multiplier(), r) + qo.zero_point() as i128;
        let want = want.clamp(O::MIN as i128, O::MAX as i128) as i32;
        assert_eq!(
            o.to_i32(),
            want,
            "x {v}, zp {}, m {:?}",
            inp.zp32,
            p.multiplier()
        );
    }
}

fuzz_target!(|input: Input| {
    let rounding = if input.single {
        Rounding::Single
    } else {
        Rounding::Double
    };
    let [s0, s1, s2] = input.scales;
    let [z0, z1, z2] = input.zps;
    let n = input.a.len().min(input.b.len());
    let (a, b) = (&input.a[..n], &input.b[..n]);
    let mut y = vec![0i8; n];
    if let (Ok(qa), Ok(qb), Ok(qo)) = (
        Quantizer::<i8>::new(s0, z0),
        Quantizer::<i8>::new(s1, z1),
        Quantizer::<i8>::new(s2, z2),
    ) {
        let activation = [
            Activation::None,
            Activation::Relu,
            Activation::Relu6,
            Activation::ReluN1To1,
        ][input.activation as usize % 4];
        let (lo, hi) = activation_range(activation, qo).unwrap_or(input.act);
        if let Ok(p) = AddParams::new(qa, qb, qo, lo, hi) {
            add_i8(a, b, &p.with_rounding(rounding), &mut y).unwrap();
            assert!(y.iter().all(|&v| lo <= v && v <= hi));
            assert!(add_i8(a, &b[..n.saturating_sub(1)], &p, &mut y).is_err() || n == 0);
        }
        if let Ok(p) = MulParams::new(qa, qb, qo, lo, hi) {
            mul_i8(a, b, &p.with_rounding(rounding), &mut y).unwrap();
            assert!(y.iter().all(|&v| lo <= v && v <= hi));
        }
        if let Ok(p) = RequantizeParams::new(qa, qo) {
            requantize_tensor(a, &p.with_rounding(rounding), &mut y).unwrap();
        }
        if let Ok(qu) = Quantizer::<u8>::new(s2, z2) {
            if let Ok(p) = RequantizeParams::new(qa, qu) {
                let mut yu = vec![0u8; n];
                requantize_tensor(a, &p, &mut yu).unwrap();
            }
        }
    }
    requantize_wide::<u8>(&input, rounding);
    requantize_wide::<i8>(&input, rounding);
    requantize_wide::<i16>(&input, rounding);
    if let (Ok(qa), Ok(qo)) = (Quantizer::<i8>::new(s0, z0), Quantizer::<i8>::new(s2, z2)) {
        // MUL: Ok exactly when s0·s0/s2 quantizes to shift <= 30.
        let m = qkit::requant::mul_real_multiplier(s0, s0, s2).and_then(quantize_multiplier);
        match (MulParams::new(qa, qa, qo, -128, 127), m) {
            (Ok(p), Ok(m)) => assert_eq!(p.output_multiplier(), m),
            (Err(Error::ShiftOutOfRange { .. }), Ok(m)) => assert!(m.shift > 30),
            (Err(_), Err(_)) => {}
            (p, m) => panic!("{p:?} vs {m:?}"),
        }
    }
    let n16 = input.a16.len().min(input.b16.len());
    let (a16, b16) = (&input.a16[..n16], &input.b16[..n16]);
    let mut y16 = vec![0i16; n16];
    if let (Ok(qa), Ok(qb), Ok(qo)) = (
        Quantizer::<i16>::new(s0, z0),
        Quantizer::<i16>::new(s1, z1),
        Quantizer::<i16>::new(s2, z2),
    ) {
        let (lo, hi) = input.act16;
        if let Ok(p) = AddParams::new(qa, qb, qo, lo, hi) {
            add_i16(a16, b16, &p.with_rounding(rounding), &mut y16).unwrap();
            assert!(y16.iter().all(|&v| lo <= v && v <= hi));
        }
        if let Ok(p) = MulParams::new(qa, qb, qo, lo, hi) {
            mul_i16(a16, b16, &p.with_rounding(rounding), &mut y16).unwrap();
        }
    }
});
