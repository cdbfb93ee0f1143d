//! Properties of the quantizers against wide references: the branch-free
//! float-to-int step equals `saturate(round(x / scale) + zp)` computed with
//! libm rounding and i64 arithmetic, for every storage type and both tie
//! rules; round-trip error, monotonicity, exact zero, per-channel and
//! per-block indexing against explicit multi-index references, and errors.

use half::{bf16, f16};
use proptest::prelude::*;
use qkit::int4::{self, I4, U4};
use qkit::quant::{CodeRange, QuantizeSlice};
use qkit::quant::{PerBlock, PerChannel, Quantizer};
use qkit::{Error, QInt, Round};

/// The specification, written the slow way: f32 division, libm rounding,
/// i64 add and clamp; NaN to qmin.
fn reference(x: f32, scale: f32, zp: i32, qmin: i32, qmax: i32, round: Round) -> i64 {
    let v = x / scale;
    if v.is_nan() {
        return qmin as i64;
    }
    let r = match round {
        Round::HalfAwayFromZero => v.round(),
        Round::HalfToEven => v.round_ties_even(),
    };
    // f64 avoids any i64 overflow concern for huge |r|
    let q = (r as f64 + zp as f64).clamp(qmin as f64, qmax as f64);
    q as i64
}

fn any_round() -> impl Strategy<Value = Round> {
    prop_oneof![Just(Round::HalfAwayFromZero), Just(Round::HalfToEven)]
}

fn any_code_range() -> impl Strategy<Value = CodeRange> {
    prop_oneof![Just(CodeRange::Full), Just(CodeRange::Narrow)]
}

fn any_scale() -> impl Strategy<Value = f32> {
    prop_oneof![
        (-20i32..6).prop_map(|e| 2f32.powi(e)), // exact ties possible
        1e-6f32..100.0,
        Just(f32::MIN_POSITIVE),
        Just(1e-40f32), // subnormal
        Just(f32::MAX),
    ]
}

/// Inputs: random, exact half-steps of the scale, and the edges.
fn any_x(scale: f32) -> impl Strategy<Value = f32> {
    prop_oneof![
        any::<f32>(),
        -70000.0f32..70000.0,
        (-70000i32..70000).prop_map(move |k| (k as f32 + 0.5) * scale),
        (-300i32..300).prop_map(move |k| k as f32 * scale),
        Just(0.0f32),
        Just(-0.0f32),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        Just(f32::NAN),
        Just(f32::MAX),
        Just(f32::MIN),
    ]
}

fn check_type<Q: QInt>(scale: f32, zp_frac: f64, range: CodeRange, xs: &[f32], round: Round) {
    let qmin = Q::MIN + (range == CodeRange::Narrow) as i32;
    let zp = (qmin as f64 + zp_frac * (Q::MAX as f64 - qmin as f64)).round() as i32;
    let q = Quantizer::<Q>::with_code_range(scale, zp, range).unwrap();
    let mut out = vec![Q::saturating_from_i32(0); xs.len()];
    q.quantize_slice(xs, &mut out, round).unwrap();
    for (&x, &o) in xs.iter().zip(&out) {
        let want = reference(x, scale, zp, qmin, Q::MAX, round);
        assert_eq!(
            q.quantize(x, round).to_i32() as i64,
            want,
            "{x:e} scale {scale:e} zp {zp}"
        );
        assert_eq!(
            o.to_i32() as i64,
            want,
            "slice: {x:e} scale {scale:e} zp {zp}"
        );
    }
    // f16 / bf16 slices are the f32 path on the widened values
    let h: Vec<f16> = xs.iter().map(|&x| f16::from_f32(x)).collect();
    let b: Vec<bf16> = xs.iter().map(|&x| bf16::from_f32(x)).collect();
    q.quantize_slice_f16(&h, &mut out, round).unwrap();
    for (x, o) in h.iter().zip(&out) {
        assert_eq!(*o, q.quantize(x.to_f32(), round));
    }
    q.quantize_slice_bf16(&b, &mut out, round).unwrap();
    for (x, o) in b.iter().zip(&out) {
        assert_eq!(*o, q.quantize(x.to_f32(), round));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn quantize_equals_the_wide_reference(
        (scale, xs) in any_scale().prop_flat_map(|s| (Just(s), prop::collection::vec(any_x(s), 0..40))),
        zp_frac in 0.0f64..=1.0,
        range in any_code_range(),
        round in any_round(),
    ) {
        check_type::<i8>(scale, zp_frac, range, &xs, round);
        check_type::<u8>(scale, zp_frac, range, &xs, round);
        check_type::<i16>(scale, zp_frac, range, &xs, round);
        check_type::<I4>(scale, zp_frac, range, &xs, round);
        check_type::<U4>(scale, zp_frac, range, &xs, round);
        check_type::<i32>(scale, zp_frac, range, &xs, round);
    }

    #[test]
    fn dequantize_is_the_single_rounding_of_the_exact_product(
        scale in any_scale(), zp in -128i32..=127, q in -128i32..=127,
    ) {
        let quant = Quantizer::<i8>::new(scale, zp).unwrap();
        let want = (scale as f64 * (q - zp) as f64) as f32;
        prop_assert_eq!(quant.dequantize(q as i8).to_bits(), want.to_bits());
        let wide = Quantizer::<i32>::new(scale, zp).unwrap();
        let big = q.wrapping_mul(16_777_259);
        let want = (scale as f64 * (big as i64 - zp as i64) as f64) as f32;
        prop_assert_eq!(wide.dequantize(big).to_bits(), want.to_bits());
    }

    #[test]
    fn round_trip_error_is_at_most_half_a_step(
        scale in 1e-4f32..10.0, zp in -128i32..=127, x in -2000.0f32..2000.0, round in any_round(),
    ) {
        let q = Quantizer::<i8>::new(scale, zp).unwrap();
        let lo = q.dequantize(-128);
        let hi = q.dequantize(127);
        let clamped = x.clamp(lo, hi);
        let err = (q.dequantize(q.quantize(x, round)) - clamped).abs();
        // half a step, plus the float rounding of x / scale and of the product
        let slack = 4.0 * f32::EPSILON * (clamped.abs() + scale);
        prop_assert!(err <= scale / 2.0 + slack, "err {} scale {}", err, scale);
    }

    #[test]
    fn quantize_is_monotone(
        scale in any_scale(), zp in -128i32..=127, a in any::<f32>(), b in any::<f32>(), round in any_round(),
    ) {
        prop_assume!(!a.is_nan() && !b.is_nan());
        let q = Quantizer::<i8>::new(scale, zp).unwrap();
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(q.quantize(lo, round) <= q.quantize(hi, round));
    }

    #[test]
    fn zero_is_exact_after_nudging(
        min in -1e4f32..1e4, width in 1e-3f32..1e4, range in any_code_range(), round in any_round(),
    ) {
        let max = min + width;
        for_each_type(min, max, range, round)?;
    }

    #[test]
    fn dynamic_matches_its_definition(xs in prop::collection::vec(-1e3f32..1e3, 1..50)) {
        let q = Quantizer::<u8>::dynamic(&xs).unwrap();
        let min = xs.iter().fold(0f32, |m, &v| m.min(v));
        let max = xs.iter().fold(0f32, |m, &v| m.max(v));
        let scale = if max == min { 1.0 } else { (max - min) / 255.0 };
        prop_assert_eq!(q.scale().to_bits(), scale.to_bits());
        let zp = (0.0 - min / scale).clamp(0.0, 255.0).round_ties_even();
        prop_assert_eq!(q.zero_point(), zp as i32);
    }

    #[test]
    fn symmetric_weights_stay_in_range(amax in 1e-3f32..1e3, xs in prop::collection::vec(-1.0f32..=1.0, 1..40)) {
        let q = Quantizer::<i8>::symmetric(amax, CodeRange::Narrow).unwrap();
        let q4 = Quantizer::<I4>::symmetric(amax, CodeRange::Narrow).unwrap();
        for &x in &xs {
            let v = q.quantize(x * amax, Round::HalfAwayFromZero);
            prop_assert!((-127..=127).contains(&v));
            prop_assert!((-7..=7).contains(&q4.quantize(x * amax, Round::HalfAwayFromZero).get()));
        }
        prop_assert_eq!(q.quantize(amax, Round::HalfAwayFromZero), 127);
        prop_assert_eq!(q.quantize(-amax, Round::HalfAwayFromZero), -127);
    }
}

fn zero_exact<Q: QInt>(
    min: f32,
    max: f32,
    range: CodeRange,
    round: Round,
) -> Result<(), TestCaseError> {
    let q = Quantizer::<Q>::from_min_max(min, max, range).unwrap();
    prop_assert_eq!(q.qmin(), Q::MIN + (range == CodeRange::Narrow) as i32);
    prop_assert_eq!(q.code_range(), range);
    let z = q.quantize(0.0, round);
    prop_assert_eq!(z.to_i32(), q.zero_point());
    prop_assert_eq!(q.dequantize(z), 0.0);
    // the range is covered: min and max quantize within one step of the ends
    let (rmin, rmax) = (min.min(0.0) as f64, max.max(0.0) as f64);
    let steps = (Q::MAX - q.qmin()) as f64;
    prop_assert_eq!(q.scale(), ((rmax - rmin) / steps) as f32);
    Ok(())
}

fn for_each_type(min: f32, max: f32, range: CodeRange, round: Round) -> Result<(), TestCaseError> {
    zero_exact::<i8>(min, max, range, round)?;
    zero_exact::<u8>(min, max, range, round)?;
    zero_exact::<i16>(min, max, range, round)?;
    zero_exact::<I4>(min, max, range, round)?;
    zero_exact::<U4>(min, max, range, round)
}

/// The TFLite `ChooseQuantizationParams` algorithm on hand-checked values.
#[test]
fn from_min_max_known_values() {
    let q = Quantizer::<u8>::from_min_max(-1.0, 1.0, CodeRange::Full).unwrap();
    assert_eq!((q.scale(), q.zero_point()), ((2.0f64 / 255.0) as f32, 128));
    let q = Quantizer::<i8>::from_min_max(-1.0, 1.0, CodeRange::Full).unwrap();
    // Both candidates are -0.5; the max side has the smaller error estimate
    // (127 + 127.5 < 128 + 127.5) and -0.5 rounds away from zero.
    assert_eq!(q.zero_point(), -1);
    let q = Quantizer::<i8>::from_min_max(-1.0, 1.0, CodeRange::Narrow).unwrap();
    assert_eq!(
        (q.scale(), q.zero_point(), q.qmin()),
        ((2.0f64 / 254.0) as f32, 0, -127)
    );
    let q = Quantizer::<u8>::from_min_max(0.0, 0.0, CodeRange::Full).unwrap();
    assert_eq!((q.scale(), q.zero_point()), (1.0, 0));
    let q = Quantizer::<u8>::from_min_max(-10.0, -5.0, CodeRange::Full).unwrap();
    assert_eq!(q.zero_point(), 255);
    assert_eq!(
        Quantizer::<u8>::from_min_max(f32::NAN, 1.0, CodeRange::Full),
        Err(Error::NaN)
    );
    assert!(Quantizer::<u8>::from_min_max(2.0, 1.0, CodeRange::Full).is_err());
    assert!(Quantizer::<u8>::from_min_max(0.0, f32::INFINITY, CodeRange::Full).is_err());
    // Issue 10: a valid range too narrow for a normal f32 scale gets the
    // smallest normal scale (the scale floor), not InvalidScale(0).
    let q = Quantizer::<u8>::from_min_max(0.0, 1e-44, CodeRange::Full).unwrap();
    assert_eq!((q.scale(), q.zero_point()), (f32::MIN_POSITIVE, 0));
}

#[test]
fn constructor_and_slice_errors() {
    for s in [0.0, -1.0, f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0] {
        assert!(matches!(
            Quantizer::<i8>::new(s, 0),
            Err(Error::InvalidScale(_))
        ));
    }
    assert!(matches!(
        Quantizer::<I4>::new(1.0, 8),
        Err(Error::ZeroPointOutOfRange {
            min: -8,
            max: 7,
            ..
        })
    ));
    assert!(matches!(
        Quantizer::<I4>::with_code_range(1.0, -8, CodeRange::Narrow),
        Err(Error::ZeroPointOutOfRange { min: -7, .. })
    ));
    assert!(Quantizer::<U4>::new(1.0, 16).is_err());
    let q = Quantizer::<i8>::new(1.0, 0).unwrap();
    assert_eq!(
        q.quantize_slice(&[1.0; 3], &mut [0; 2], Round::HalfToEven),
        Err(Error::LengthMismatch {
            expected: 3,
            found: 2
        })
    );
    assert!(q.dequantize_slice(&[0; 3], &mut [0.0; 4]).is_err());
    let q4 = Quantizer::<I4>::new(1.0, 0).unwrap();
    assert!(
        q4.quantize_packed(&[1.0; 3], &mut [0; 1], Round::HalfToEven)
            .is_err()
    );
    assert!(q4.dequantize_packed(&[0; 1], &mut [0.0; 3]).is_err());
    assert_eq!(Quantizer::<u8>::dynamic(&[]), Err(Error::Empty));
    assert_eq!(Quantizer::<u8>::dynamic(&[1.0, f32::NAN]), Err(Error::NaN));
    assert!(matches!(
        Quantizer::<u8>::dynamic(&[f32::INFINITY]),
        Err(Error::InvalidParameter(_))
    ));
    assert!(Quantizer::<i8>::symmetric(-1.0, CodeRange::Narrow).is_err());
    assert_eq!(
        Quantizer::<i8>::symmetric(0.0, CodeRange::Narrow)
            .unwrap()
            .scale(),
        1.0
    );
}

// ----------------------------------------------------------- per channel / block

/// Row-major multi-index of flat position `i`.
fn unravel(mut i: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for k in (0..dims.len()).rev() {
        idx[k] = i % dims[k];
        i /= dims[k];
    }
    idx
}

fn ravel(idx: &[usize], dims: &[usize]) -> usize {
    idx.iter().zip(dims).fold(0, |acc, (&i, &d)| acc * d + i)
}

fn shape_axis() -> impl Strategy<Value = (Vec<usize>, isize)> {
    prop::collection::vec(1usize..5, 1..4).prop_flat_map(|dims| {
        let r = dims.len() as isize;
        (Just(dims), -r..r)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn per_channel_equals_per_tensor_on_each_channel(
        (dims, axis) in shape_axis(), seed in any::<u64>(), round in any_round(), empty_zp in any::<bool>(),
    ) {
        let a = axis.rem_euclid(dims.len() as isize) as usize;
        let c = dims[a];
        let mut s = seed;
        let mut next = || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1); (s >> 40) as u32 };
        let scales: Vec<f32> = (0..c).map(|_| 0.05 + (next() % 100) as f32 / 64.0).collect();
        let zps: Vec<i32> = if empty_zp { vec![] } else { (0..c).map(|_| (next() % 16) as i32 - 8).collect() };
        let n: usize = dims.iter().product();
        let x: Vec<f32> = (0..n).map(|_| (next() % 4001) as f32 / 100.0 - 20.0).collect();
        let pc = PerChannel::<I4>::new(&scales, &zps, &dims, axis).unwrap();
        let mut out = vec![I4::ZERO; n];
        pc.quantize_slice(&x, &mut out, round).unwrap();
        let mut packed = vec![0u8; int4::packed_len(n)];
        pc.quantize_packed(&x, &mut packed, round).unwrap();
        let mut deq = vec![0f32; n];
        pc.dequantize_slice(&out, &mut deq).unwrap();
        let mut deq_packed = vec![0f32; n];
        pc.dequantize_packed(&packed, &mut deq_packed).unwrap();
        for i in 0..n {
            let ch = unravel(i, &dims)[a];
            let q = Quantizer::<I4>::new(scales[ch], zps.get(ch).copied().unwrap_or(0)).unwrap();
            prop_assert_eq!(out[i], q.quantize(x[i], round));
            prop_assert_eq!(int4::get::<I4>(&packed, i), Some(out[i]));
            prop_assert_eq!(deq[i].to_bits(), q.dequantize(out[i]).to_bits());
            prop_assert_eq!(deq_packed[i].to_bits(), deq[i].to_bits());
        }
    }

    #[test]
    fn per_block_follows_onnx_indexing(
        (dims, axis) in shape_axis(), block in 1usize..5, seed in any::<u64>(), round in any_round(),
    ) {
        let a = axis.rem_euclid(dims.len() as isize) as usize;
        let mut pdims = dims.clone();
        pdims[a] = dims[a].div_ceil(block);
        let np: usize = pdims.iter().product();
        let n: usize = dims.iter().product();
        let mut s = seed;
        let mut next = || { s = s.wrapping_mul(6364136223846793005).wrapping_add(1); (s >> 40) as u32 };
        let scales: Vec<f32> = (0..np).map(|_| 0.05 + (next() % 100) as f32 / 64.0).collect();
        let zps: Vec<i32> = (0..np).map(|_| (next() % 256) as i32).collect();
        let x: Vec<f32> = (0..n).map(|_| (next() % 40001) as f32 / 100.0 - 200.0).collect();
        let pb = PerBlock::<u8>::new(&scales, &zps, &dims, axis, block).unwrap();
        let mut out = vec![0u8; n];
        pb.quantize_slice(&x, &mut out, round).unwrap();
        let mut deq = vec![0f32; n];
        pb.dequantize_slice(&out, &mut deq).unwrap();
        for i in 0..n {
            let mut idx = unravel(i, &dims);
            idx[a] /= block;
            let p = ravel(&idx, &pdims);
            let q = Quantizer::<u8>::new(scales[p], zps[p]).unwrap();
            prop_assert_eq!(out[i], q.quantize(x[i], round));
            prop_assert_eq!(deq[i].to_bits(), q.dequantize(out[i]).to_bits());
        }
        prop_assert!(pb.quantize_slice(&x, &mut vec![0u8; n + 1], round).is_err());
        prop_assert!(PerBlock::<u8>::new(&scales[1..], &[], &dims, axis, block).is_err());
    }
}

#[test]
fn per_channel_and_block_errors() {
    let dims = [2, 3];
    assert!(PerChannel::<i8>::new(&[1.0; 3], &[], &dims, 2).is_err());
    assert!(PerChannel::<i8>::new(&[1.0; 3], &[], &dims, -3).is_err());
    assert!(PerChannel::<i8>::new(&[1.0; 3], &[], &[], 0).is_err());
    assert!(PerChannel::<i8>::new(&[1.0; 3], &[0; 2], &dims, 1).is_err());
    assert!(PerChannel::<i8>::new(&[1.0, 0.0, 1.0], &[], &dims, 1).is_err());
    assert!(PerChannel::<i8>::new(&[1.0; 3], &[0, 0, 200], &dims, 1).is_err());
    assert!(
        PerChannel::<u8>::with_code_range(&[1.0; 3], &[], &dims, 1, CodeRange::Narrow).is_err()
    ); // zp 0 < qmin 1
    assert!(PerChannel::<i8>::new(&[1.0; 2], &[], &[2, usize::MAX], 0).is_err());
    let pc = PerChannel::<i8>::new(&[1.0; 3], &[], &dims, 1).unwrap();
    assert!(
        pc.quantize_slice(&[0.0; 5], &mut [0; 6], Round::HalfToEven)
            .is_err()
    );
    assert!(pc.dequantize_slice(&[0; 6], &mut [0.0; 5]).is_err());
    assert!(PerBlock::<i8>::new(&[1.0; 2], &[], &dims, 1, 0).is_err());
    assert!(PerBlock::<i8>::new(&[1.0; 4], &[], &dims, 1, 2).is_ok());
    assert!(PerBlock::<i8>::new(&[1.0; 4], &[0; 3], &dims, 1, 2).is_err());
    // an empty tensor is fine
    let e = PerChannel::<i8>::new(&[], &[], &[3, 0], 1).unwrap();
    e.quantize_slice(&[], &mut [], Round::HalfToEven).unwrap();
}

/// Every half-integer tie of the int16 range and one ulp either side, both
/// tie rules, slice and scalar, against the libm reference.
#[test]
fn every_int16_tie_rounds_like_the_reference() {
    let xs: Vec<f32> = (-32770i32..32770)
        .flat_map(|k| {
            let t = k as f32 + 0.5;
            [t, t.next_down(), t.next_up(), k as f32]
        })
        .collect();
    for round in [Round::HalfAwayFromZero, Round::HalfToEven] {
        for zp in [0, -7, 12345] {
            let q = Quantizer::<i16>::new(1.0, zp).unwrap();
            let mut out = vec![0i16; xs.len()];
            q.quantize_slice(&xs, &mut out, round).unwrap();
            for (&x, &o) in xs.iter().zip(&out) {
                assert_eq!(
                    o as i64,
                    reference(x, 1.0, zp, -32768, 32767, round),
                    "{x} {round:?} zp {zp}"
                );
            }
        }
    }
}
