//! Arbitrary floats, parameters and shapes never panic; invalid parameters
//! are `Err`; valid ones quantize to the wide reference
//! `clamp(round(x / scale) + zp)` and the slice, packed and per-channel /
//! per-block forms agree with the scalar one. Zero-element per-channel and
//! per-block tensors are O(1) however large their other dimensions (run with
//! a `-timeout`); every finite range gives a quantizer from `from_min_max`,
//! `symmetric` and `dynamic` (the scale floor: at least `f32::MIN_POSITIVE`,
//! never `InvalidScale` from valid input).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::int4::{self, I4, U4};
use qkit::quant::ggml::{self, BlockQ4_0, BlockQ8_0};
use qkit::quant::{CodeRange, PerBlock, PerChannel, QuantizeSlice, Quantizer};
use qkit::{QInt, Round};

#[derive(Debug, Arbitrary)]
struct Input {
    scale: f32,
    zero_point: i32,
    narrow: bool,
    ties_even: bool,
    x: Vec<f32>,
    dims: Vec<u8>,
    axis: i8,
    block: u8,
    scales: Vec<f32>,
    zero_points: Vec<i32>,
    min: f32,
    max: f32,
    huge: (u8, u8),
}

fn reference(x: f32, scale: f32, zp: i32, qmin: i32, qmax: i32, round: Round) -> i32 {
    let v = x / scale;
    if v.is_nan() {
        return qmin;
    }
    let r = match round {
        Round::HalfAwayFromZero => v.round(),
        Round::HalfToEven => v.round_ties_even(),
    };
    (r as f64 + zp as f64).clamp(qmin as f64, qmax as f64) as i32
}

/// The code range the input asks for.
fn code_range(inp: &Input) -> CodeRange {
    if inp.narrow {
        CodeRange::Narrow
    } else {
        CodeRange::Full
    }
}

fn per_tensor<Q: QInt>(inp: &Input, round: Round) {
    let q = Quantizer::<Q>::with_code_range(inp.scale, inp.zero_point, code_range(inp));
    let qmin = Q::MIN + inp.narrow as i32;
    let valid =
        inp.scale.is_finite() && inp.scale > 0.0 && (qmin..=Q::MAX).contains(&inp.zero_point);
    assert_eq!(q.is_ok(), valid);
    let Ok(q) = q else { return };
    let mut out = vec![Q::saturating_from_i32(0); inp.x.len()];
    q.quantize_slice(&inp.x, &mut out, round).unwrap();
    let mut back = vec![0f32; inp.x.len()];
    q.dequantize_slice(&out, &mut back).unwrap();
    for (i, &x) in inp.x.iter().enumerate() {
        let want = reference(x, inp.scale, inp.zero_point, qmin, Q::MAX, round);
        assert_eq!(out[i].to_i32(), want, "x {x:e}");
        assert_eq!(q.quantize(x, round), out[i]);
        assert_eq!(back[i].to_bits(), q.dequantize(out[i]).to_bits());
    }
    assert!(
        q.quantize_slice(
            &inp.x,
            &mut vec![Q::saturating_from_i32(0); inp.x.len() + 1],
            round
        )
        .is_err()
    );
    let _ = Quantizer::<Q>::from_min_max(inp.min, inp.max, code_range(inp));
    let _ = Quantizer::<Q>::symmetric(inp.max, code_range(inp));
}

fn packed<N: int4::Nibble>(inp: &Input, round: Round) {
    let Ok(q) = Quantizer::<N>::new(inp.scale, inp.zero_point) else {
        return;
    };
    let mut p = vec![0u8; int4::packed_len(inp.x.len())];
    q.quantize_packed(&inp.x, &mut p, round).unwrap();
    for (i, &x) in inp.x.iter().enumerate() {
        assert_eq!(int4::get::<N>(&p, i), Some(q.quantize(x, round)));
    }
}

fn granular(inp: &Input, round: Round) {
    let dims: Vec<usize> = inp.dims.iter().take(4).map(|&d| (d % 6) as usize).collect();
    let n: usize = dims.iter().product();
    let axis = inp.axis as isize;
    if let Ok(pc) = PerChannel::<i8>::new(&inp.scales, &inp.zero_points, &dims, axis) {
        assert_eq!(pc.len(), n);
        let x: Vec<f32> = inp
            .x
            .iter()
            .copied()
            .cycle()
            .take(if inp.x.is_empty() { 0 } else { n })
            .collect();
        let mut out = vec![0i8; x.len()];
        let r = pc.quantize_slice(&x, &mut out, round);
        assert_eq!(r.is_ok(), x.len() == n);
        let mut p = vec![0u8; int4::packed_len(x.len())];
        if let Ok(pc4) = PerChannel::<I4>::new(&inp.scales, &inp.zero_points, &dims, axis) {
            let _ = pc4.quantize_packed(&x, &mut p, round);
        }
    }
    if let Ok(pb) = PerBlock::<U4>::new(
        &inp.scales,
        &inp.zero_points,
        &dims,
        axis,
        inp.block as usize,
    ) {
        let x: Vec<f32> = inp
            .x
            .iter()
            .copied()
            .cycle()
            .take(if inp.x.is_empty() { 0 } else { n })
            .collect();
        let mut out = vec![U4::ZERO; x.len()];
        let r = pb.quantize_slice(&x, &mut out, round);
        assert_eq!(r.is_ok(), x.len() == n);
        let mut back = vec![0f32; x.len()];
        let _ = pb.dequantize_slice(&out, &mut back);
    }
}

/// Shapes with a zero dimension but huge others: nothing to do, at once.
fn empty_but_huge(inp: &Input, round: Round) {
    let big = [1usize << 40, usize::MAX, 1 << 20, 3][inp.huge.0 as usize % 4];
    let zero_at = inp.huge.1 as usize % 3;
    let mut dims = [big, 1, big];
    dims[zero_at] = 0;
    for axis in -3isize..3 {
        let channels = dims[axis.rem_euclid(3) as usize];
        let scales = vec![1.0f32; channels.min(4)];
        if let Ok(pc) = PerChannel::<i8>::new(&scales, &[], &dims, axis) {
            assert!(pc.is_empty());
            pc.quantize_slice(&[], &mut [], round).unwrap();
            pc.dequantize_slice(&[], &mut []).unwrap();
        }
        if let Ok(pb) = PerBlock::<I4>::new(&scales, &[], &dims, axis, 1 + inp.block as usize) {
            assert!(pb.is_empty());
            pb.quantize_packed(&[], &mut [], round).unwrap();
            pb.dequantize_packed(&[], &mut []).unwrap();
        }
    }
}

/// Every finite, ordered range is a quantizer with a normal, finite scale.
fn parameter_rules<Q: QInt>(inp: &Input) {
    let (lo, hi) = (inp.min.min(inp.max), inp.min.max(inp.max));
    if lo.is_finite() && hi.is_finite() {
        for range in [CodeRange::Full, CodeRange::Narrow] {
            let q = Quantizer::<Q>::from_min_max(lo, hi, range).unwrap();
            assert!(q.scale().is_finite() && q.scale() >= f32::MIN_POSITIVE);
            assert_eq!(q.code_range(), range);
        }
    }
    let a = inp.max.abs();
    if a.is_finite() {
        let q = Quantizer::<Q>::symmetric(a, code_range(inp)).unwrap();
        assert!(q.scale().is_finite() && q.scale() >= f32::MIN_POSITIVE);
    }
}

fuzz_target!(|inp: Input| {
    let round = if inp.ties_even {
        Round::HalfToEven
    } else {
        Round::HalfAwayFromZero
    };
    per_tensor::<i8>(&inp, round);
    per_tensor::<u8>(&inp, round);
    per_tensor::<i16>(&inp, round);
    per_tensor::<I4>(&inp, round);
    per_tensor::<U4>(&inp, round);
    per_tensor::<i32>(&inp, round);
    packed::<I4>(&inp, round);
    packed::<U4>(&inp, round);
    granular(&inp, round);
    empty_but_huge(&inp, round);
    parameter_rules::<i8>(&inp);
    parameter_rules::<u8>(&inp);
    parameter_rules::<I4>(&inp);
    parameter_rules::<i16>(&inp);
    match Quantizer::<u8>::dynamic(&inp.x) {
        Ok(q) => assert!(q.scale().is_finite() && q.scale() >= f32::MIN_POSITIVE),
        Err(e) => assert!(
            inp.x.is_empty() || inp.x.iter().any(|v| !v.is_finite()),
            "{e:?}"
        ),
    }
    let mut b8 = vec![BlockQ8_0::ZERO; inp.x.len() / 32];
    let mut b4 = vec![BlockQ4_0::ZERO; inp.x.len() / 32];
    let r8 = ggml::quantize_row_q8_0(&inp.x, &mut b8);
    let r4 = ggml::quantize_row_q4_0(&inp.x, &mut b4);
    assert_eq!(r8.is_ok(), inp.x.len() % 32 == 0);
    assert_eq!(r4.is_ok(), inp.x.len() % 32 == 0);
    let mut y = vec![0f32; b8.len() * 32];
    ggml::dequantize_row_q8_0(&b8, &mut y).unwrap();
    ggml::dequantize_row_q4_0(&b4, &mut y).unwrap();
});
