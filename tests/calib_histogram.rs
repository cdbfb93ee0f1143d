//! Histogram growth and merging, percentile / MSE / max thresholds, and the
//! §7 edge-case matrix through the `Histogram` front end.

use proptest::prelude::*;
use qkit::Error;
use qkit::calib::{
    Domain, EntropyOptions, Histogram, amax_quantizer, max_threshold, mse_threshold,
    percentile_threshold,
};
use qkit::quant::CodeRange;
use qkit::{Round, calib};

/// numpy-style two-pass reference: N bins over [0, range], top edge in the last bin.
fn reference(xs: &[f32], range: f64, n: usize) -> Vec<u32> {
    let mut h = vec![0u32; n];
    for &x in xs.iter().filter(|x| x.is_finite()) {
        let k = ((x.abs() as f64 / (range / n as f64)) as usize).min(n - 1);
        h[k] += 1;
    }
    h
}

#[test]
fn two_pass_equals_reference() {
    let xs: Vec<f32> = (0..1000)
        .map(|i| ((i * 37 % 1000) as f32 - 500.0) / 77.0)
        .collect();
    let amax = xs.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let mut h = Histogram::<256>::with_range(Domain::Magnitude, amax).unwrap();
    h.add(&xs);
    assert_eq!(h.bins().to_vec(), reference(&xs, amax as f64, 256));
}

#[test]
fn streaming_growth_is_exact_pair_merging() {
    // Range 1 to start with; the second batch needs range 4 (two doublings).
    let a: Vec<f32> = (0..100).map(|i| i as f32 / 100.0).collect();
    let b = [3.9f32, -2.5, 0.01];
    let mut h = Histogram::<64>::with_range(Domain::Magnitude, 1.0).unwrap();
    h.add(&a);
    h.add(&b);
    assert_eq!(h.range(), 4.0);
    // The same counts as a two-pass histogram over [0, 4]: every value of
    // `a` stays in the bin that contains it, because 4 = 2^2 · 1.
    let all: Vec<f32> = a.iter().chain(b.iter()).copied().collect();
    assert_eq!(h.bins().to_vec(), reference(&all, 4.0, 64));
    assert_eq!(h.total(), 103);
    assert_eq!(h.amax(), 3.9);
}

/// The one inexact case of growth, documented: a sample equal to the old
/// top edge sat in the old last bin (numpy's rule) and stays in the merged
/// bin below the edge, where a two-pass histogram would put it one bin higher.
#[test]
fn streaming_old_top_edge_stays_below() {
    let mut h = Histogram::<8>::magnitude();
    h.add(&[1.0]); // range 1, last bin
    h.add(&[2.0]); // range 2: 1.0 -> merged bin 3 (two-pass: bin 4)
    assert_eq!(h.bins(), &[0, 0, 0, 1, 0, 0, 0, 1]);
    assert_eq!(reference(&[1.0, 2.0], 2.0, 8), vec![0, 0, 0, 0, 1, 0, 0, 1]);
}

#[test]
fn zeros_before_first_nonzero_and_huge_growth() {
    let mut h = Histogram::<8>::magnitude();
    h.add(&[0.0, -0.0]);
    assert_eq!((h.total(), h.bin_width()), (2, 0.0));
    assert_eq!(h.max_threshold(), Ok(0.0));
    assert_eq!(h.entropy_threshold(2), Ok(0.0));
    assert_eq!(h.percentile_threshold(99.0), Ok(0.0));
    h.add(&[1e-30]);
    h.add(&[f32::MAX]);
    assert_eq!(h.total(), 4);
    assert_eq!(h.bins()[0], 3); // the tiny values collapsed into bin 0
    assert_eq!(h.bins().iter().sum::<u32>(), 4);
    assert!(h.range() >= f32::MAX);
    let t = h.max_threshold().unwrap();
    assert_eq!(t, f32::MAX);
}

#[test]
fn signed_growth_and_fold() {
    let mut h = Histogram::<8>::signed();
    h.add(&[-1.0, -0.2, 0.3, 1.0]); // range [-1, 1], width 0.25
    assert_eq!(h.bins(), &[1, 0, 0, 1, 0, 1, 0, 1]);
    h.add(&[2.0]); // range [-2, 2]: old bins pair up into the middle half
    assert_eq!(h.bins(), &[0, 0, 1, 1, 1, 1, 0, 1]);
    let mut m = [0u32; 4];
    let w = h.fold_magnitude(&mut m).unwrap();
    assert_eq!(w, 0.5);
    assert_eq!(m, [2, 2, 0, 1]);
    assert!(matches!(
        h.fold_magnitude(&mut [0u32; 8]),
        Err(Error::LengthMismatch { .. })
    ));
    assert_eq!(h.max_threshold(), Ok(2.0));
}

#[test]
fn merge_rules() {
    let mut a = Histogram::<16>::with_range(Domain::Magnitude, 1.0).unwrap();
    let mut b = Histogram::<16>::magnitude();
    let xa = [0.5f32, 0.9, 0.1];
    let xb = [3.0f32, 4.0, 0.75, f32::NAN];
    a.add(&xa);
    b.add(&xb);
    a.merge(&b).unwrap();
    // Range 1 -> 4 (power of two): exact.
    let all: Vec<f32> = xa.iter().chain(xb.iter()).copied().collect();
    assert_eq!(a.bins().to_vec(), reference(&all, 4.0, 16));
    assert_eq!((a.total(), a.nonfinite()), (6, 1));
    let s = Histogram::<16>::signed();
    assert!(matches!(a.merge(&s), Err(Error::InvalidParameter(_))));
    // Merging an empty histogram changes nothing.
    let before = a.clone();
    a.merge(&Histogram::<16>::magnitude()).unwrap();
    assert_eq!(a, before);
}

/// §7 matrix through the Histogram front end.
#[test]
fn edge_case_matrix() {
    // empty / no finite samples: Err(Empty) everywhere, "uncalibrated"
    let mut h = Histogram::<2048>::magnitude();
    h.add(&[f32::NAN, f32::INFINITY, f32::NEG_INFINITY]);
    assert_eq!(h.nonfinite(), 3);
    assert_eq!(h.max_threshold(), Err(Error::Empty));
    assert_eq!(h.entropy_threshold(128), Err(Error::Empty));
    assert_eq!(h.percentile_threshold(99.9), Err(Error::Empty));
    assert_eq!(h.mse_threshold(127), Err(Error::Empty));
    // single value c: max = |c|, entropy = |c| (i = N included),
    // percentile < 100 = left edge of c's bin, MSE = |c| - w/2.
    let mut h = Histogram::<2048>::magnitude();
    h.add(&[-1.5; 10]);
    assert_eq!(h.max_threshold(), Ok(1.5));
    assert_eq!(h.entropy_threshold(128), Ok(1.5));
    assert_eq!(h.percentile_threshold(99.99), Ok(1.5 - h.bin_width()));
    assert_eq!(h.mse_threshold(127), Ok(1.5 - h.bin_width() / 2.0));
    // NaN / inf never set the range
    let mut h = Histogram::<2048>::magnitude();
    h.add(&[1.0, f32::INFINITY, f32::NAN, -2.0]);
    assert_eq!((h.range(), h.amax(), h.nonfinite()), (2.0, 2.0, 2));
    // negative-only data: |x| histogram is fine
    let mut h = Histogram::<2048>::magnitude();
    let xs: Vec<f32> = (1..=1000).map(|i| -(i as f32) / 100.0).collect();
    h.add(&xs);
    assert_eq!(h.max_threshold(), Ok(10.0));
    let t = h.entropy_threshold(128).unwrap();
    assert!(t > 0.0 && t <= 10.0);
    // all zeros -> threshold 0 -> zero rule: scale 1, every value 0
    let mut h = Histogram::<2048>::magnitude();
    h.add(&[0.0; 100]);
    let q = amax_quantizer::<i8>(h.max_threshold().unwrap(), CodeRange::Narrow).unwrap();
    assert_eq!((q.scale(), q.quantize(0.0, Round::HalfToEven)), (1.0, 0));
}

#[test]
fn max_and_percentile_vectors() {
    let h = [50u32, 30, 15, 4, 1];
    assert_eq!(max_threshold(&h, 1.0), Ok(5.0));
    assert_eq!(percentile_threshold(&h, 1.0, 0.0), Ok(0.0));
    assert_eq!(percentile_threshold(&h, 1.0, 50.0), Ok(0.0));
    assert_eq!(percentile_threshold(&h, 1.0, 50.1), Ok(1.0));
    assert_eq!(percentile_threshold(&h, 1.0, 100.0), Ok(5.0));
    for bad in [f64::NAN, -0.1, 100.01] {
        assert!(matches!(
            percentile_threshold(&h, 1.0, bad),
            Err(Error::InvalidParameter(_))
        ));
    }
    assert_eq!(
        mse_threshold(&h, 1.0, 0),
        Err(Error::InvalidParameter("qmax must be > 0"))
    );
}

#[test]
fn quantizer_from_thresholds() {
    let q = amax_quantizer::<i8>(2.0, CodeRange::Narrow).unwrap();
    assert_eq!(q.scale(), 0.015748031);
    let q = amax_quantizer::<i8>(2.0, CodeRange::Full).unwrap();
    assert_eq!(q.scale(), 0.015686275);
    let q = amax_quantizer::<u8>(2.55, CodeRange::Full).unwrap();
    assert_eq!((q.scale(), q.zero_point()), (0.01, 0));
    assert_eq!(calib::symmetric_scale(3.5, 7, CodeRange::Narrow), Ok(0.5));
    assert!(amax_quantizer::<i8>(-1.0, CodeRange::Narrow).is_err());
    assert!(amax_quantizer::<i8>(f32::INFINITY, CodeRange::Narrow).is_err());
    // Below the 2^-24 floor: the zero rule.
    assert_eq!(
        calib::symmetric_scale(1e-9, 127, CodeRange::Narrow),
        Ok(1.0)
    );
}

fn hist() -> impl Strategy<Value = Vec<u32>> {
    (16usize..300)
        .prop_flat_map(|n| prop::collection::vec(prop_oneof![2 => Just(0u32), 2 => 0u32..1000], n))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Percentile thresholds are finite, within [0, N·w], and monotone in pct.
    #[test]
    fn percentile_monotone(h in hist(), w in 1e-4f32..1e4, p1 in 0.0f64..100.0, p2 in 0.0f64..100.0) {
        prop_assume!(h.iter().any(|&c| c != 0));
        let (lo, hi) = if p1 <= p2 { (p1, p2) } else { (p2, p1) };
        let a = percentile_threshold(&h, w, lo).unwrap();
        let b = percentile_threshold(&h, w, hi).unwrap();
        let max = max_threshold(&h, w).unwrap();
        prop_assert!(a.is_finite() && b.is_finite());
        prop_assert!(0.0 <= a && a <= b && b <= max, "{} {} {}", a, b, max);
        prop_assert!(percentile_threshold(&h, w, 100.0).unwrap() == max);
    }

    /// MSE and entropy thresholds are finite and within (0, max].
    #[test]
    fn mse_and_entropy_in_range(h in hist(), w in 1e-4f32..1e4, qmax in 1u32..128) {
        prop_assume!(h.iter().any(|&c| c != 0));
        let full = (h.len() as f64 * w as f64) as f32;
        let m = mse_threshold(&h, w, qmax).unwrap();
        prop_assert!(m.is_finite() && m > 0.0 && m <= full);
        let e = calib::entropy_search(&h, w, 8, &EntropyOptions::CANONICAL).unwrap();
        prop_assert!(e.threshold.is_finite() && e.threshold > 0.0 && e.threshold <= full);
    }

    /// Streaming in arbitrary batches never loses a count and always covers the data.
    #[test]
    fn streaming_keeps_counts(xs in prop::collection::vec(
            prop_oneof![4 => -1e6f32..1e6, 1 => Just(f32::NAN), 1 => Just(0.0f32), 1 => Just(f32::INFINITY)], 0..300),
        cut in 0usize..300) {
        let cut = cut.min(xs.len());
        let mut h = Histogram::<64>::magnitude();
        h.add(&xs[..cut]);
        h.add(&xs[cut..]);
        let finite = xs.iter().filter(|x| x.is_finite()).count() as u64;
        prop_assert_eq!(h.total(), finite);
        prop_assert_eq!(h.bins().iter().map(|&c| c as u64).sum::<u64>(), finite);
        prop_assert_eq!(h.nonfinite(), xs.len() as u64 - finite);
        let amax = xs.iter().filter(|x| x.is_finite()).fold(0.0f32, |m, x| m.max(x.abs()));
        prop_assert!(h.range() >= amax);
        prop_assert_eq!(h.amax(), amax);
        // Merging the two halves equals streaming them.
        let (mut a, mut b) = (Histogram::<64>::magnitude(), Histogram::<64>::magnitude());
        a.add(&xs[..cut]);
        b.add(&xs[cut..]);
        a.merge(&b).unwrap();
        prop_assert_eq!(a.total(), h.total());
        if a.range() == h.range() {
            // same final grid: counts agree up to bins moving by their centre
            prop_assert_eq!(a.bins().iter().map(|&c| c as u64).sum::<u64>(), finite);
        }
    }
}
