//! qkit::ops with arbitrary scales, zero points, activation bounds and
//! inputs: `AddParams` / `MulParams` / `RequantizeParams` construction gives
//! `Ok` or `Err`, never a panic, and evaluating an `Ok` never panics and
//! respects the activation clamp.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::ops::{
    Activation, AddParams, MulParams, RequantizeParams, activation_range, add_i8, add_i16, mul_i8,
    mul_i16, requantize_tensor,
};
use qkit::quant::Quantizer;
use qkit::requant::Rounding;

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
    let n16 = input.a16.len().min(input.b16.len());
    let (a16, b16) = (&input.a16[..n16], &input.b16[..n16]);
    let mut y16 = vec![0i16; n16];
    if let (Ok(qa), Ok(qb), Ok(qo)) = (
        Quantizer::<i16>::new(s0, z0),
        Quantizer::<i16>::new(s1, z1),
        Quantizer::<i16>::new(s2, z2),
    ) {
        let (lo, hi) = input.act16;
        if let Ok(p) = AddParams::new_i16(qa, qb, qo, lo, hi) {
            add_i16(a16, b16, &p.with_rounding(rounding), &mut y16).unwrap();
            assert!(y16.iter().all(|&v| lo <= v && v <= hi));
        }
        if let Ok(p) = MulParams::new_i16(qa, qb, qo, lo, hi) {
            mul_i16(a16, b16, &p.with_rounding(rounding), &mut y16).unwrap();
        }
    }
});
