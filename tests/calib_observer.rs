//! Observers (CALIBRATION.md §5): running and moving-average min/max, per
//! channel, and the (min, max) -> (scale, zero point) rule.

use proptest::prelude::*;
use qkit::Error;
use qkit::calib::observer::{
    MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver, affine_params,
};
use qkit::quant::CodeRange;

#[test]
fn ema_vectors() {
    // §5.1: c = 0.01 over batch maxima 1, 2, 3 -> 1.0299
    let mut o = MovingAverageMinMaxObserver::new();
    for m in [1.0f32, 2.0, 3.0] {
        o.observe(&[m]);
    }
    let (lo, hi) = o.min_max().unwrap();
    let want = 1.0 + 0.01 * (2.0 - 1.0);
    let want = want + 0.01 * (3.0 - want);
    assert!((hi as f64 - 1.0299).abs() < 1e-6);
    assert!((lo as f64 - want).abs() < 1e-6);
    // TF's decay 0.999 is c = 0.001 (but TF starts from an initial value, not the first batch).
    let mut o = MovingAverageMinMaxObserver::with_constant(0.001).unwrap();
    o.observe(&[6.0]);
    for m in [1.0f32, 2.0, 3.0] {
        o.observe(&[m]);
    }
    assert!((o.min_max().unwrap().1 as f64 - 5.988014).abs() < 1e-5);
    for c in [0.0, -0.5, 1.5, f32::NAN] {
        assert!(MovingAverageMinMaxObserver::with_constant(c).is_err());
    }
}

#[test]
fn affine_vectors_and_edges() {
    // §5.2 test vectors
    let (s, zp) = affine_params(-1.0, 2.0, -128, 127).unwrap();
    assert!((s - 0.011764706).abs() < 1e-9);
    assert_eq!(zp, -43);
    let (s, zp) = affine_params(-0.3, 1.0, 0, 255).unwrap();
    assert!((s - 0.005098039).abs() < 1e-9);
    assert_eq!(zp, 59);
    // negative-only -> max_pos = 0 -> zp = qmax
    let (_, zp) = affine_params(-3.0, -1.0, -128, 127).unwrap();
    assert_eq!(zp, 127);
    // single positive value c -> range [0, c], c exact
    let (s, zp) = affine_params(2.55, 2.55, 0, 255).unwrap();
    assert_eq!((s, zp), (0.01, 0));
    // zero width -> (1, 0)
    assert_eq!(affine_params(0.0, 0.0, 0, 255), Ok((1.0, 0)));
    assert!(affine_params(1.0, 0.0, 0, 255).is_err());
    assert!(affine_params(f32::NAN, 0.0, 0, 255).is_err());
    assert!(affine_params(0.0, 1.0, 5, 5).is_err());
}

#[test]
fn min_max_observer_rules() {
    let mut o = MinMaxObserver::new();
    let q = o.affine_quantizer::<i8>().unwrap();
    assert_eq!((q.scale(), q.zero_point()), (1.0, 0)); // uninitialised
    o.observe(&[f32::NAN, 1.0, f32::NEG_INFINITY, -0.5]);
    o.observe(&[f32::NAN]);
    assert_eq!(o.min_max(), Some((-0.5, 1.0)));
    assert_eq!(o.nonfinite(), 3);
    let q = o.amax_quantizer::<i8>(CodeRange::Narrow).unwrap();
    assert_eq!(q.scale(), 1.0 / 127.0);
}

#[test]
fn per_channel_rules() {
    let mut o = PerChannelMinMaxObserver::<3>::new();
    assert!(matches!(
        o.observe(&[1.0; 4], 0),
        Err(Error::InvalidParameter(_))
    ));
    o.observe(&[0.5, -1.0, 0.0, 0.0, 2.0, f32::NAN], 3).unwrap();
    o.observe(&[-3.0, 0.0, 0.0, 0.0, 0.0, 0.0], 3).unwrap();
    assert_eq!(
        o.observe(&[0.0; 4], 2),
        Err(Error::ChannelCountMismatch {
            expected: 3,
            found: 2
        })
    );
    assert_eq!(o.amax(0), Ok(3.0));
    assert_eq!(o.amax(1), Ok(0.0));
    assert_eq!(o.amax(2), Ok(2.0));
    assert_eq!(o.nonfinite(), 1);
    let mut s = [0.0f32; 3];
    o.symmetric_scales(127, CodeRange::Narrow, &mut s).unwrap();
    assert_eq!(s, [3.0 / 127.0, 1.0, 2.0 / 127.0]);
    assert!(
        o.symmetric_scales(127, CodeRange::Narrow, &mut [0.0; 2])
            .is_err()
    );
    assert!(o.amax(3).is_err());
    // empty batch with a valid channel count is fine
    o.observe(&[], 3).unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The running observer equals the min/max over all finite samples, in any batching.
    #[test]
    fn running_min_max_is_global(xs in prop::collection::vec(
            prop_oneof![4 => -1e30f32..1e30, 1 => Just(f32::NAN), 1 => Just(f32::INFINITY)], 0..200),
        cut in 0usize..200) {
        let cut = cut.min(xs.len());
        let mut o = MinMaxObserver::new();
        o.observe(&xs[..cut]);
        o.observe(&xs[cut..]);
        let fin: Vec<f32> = xs.iter().copied().filter(|x| x.is_finite()).collect();
        if fin.is_empty() {
            prop_assert_eq!(o.min_max(), None);
        } else {
            let lo = fin.iter().copied().fold(f32::INFINITY, f32::min);
            let hi = fin.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            prop_assert_eq!(o.min_max(), Some((lo, hi)));
        }
        prop_assert_eq!(o.nonfinite() as usize, xs.len() - fin.len());
    }

    /// Affine parameters always give a valid quantizer whose range covers 0 exactly.
    #[test]
    fn affine_params_valid(a in -1e6f32..1e6, b in -1e6f32..1e6) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let (s, zp) = affine_params(lo, hi, -128, 127).unwrap();
        prop_assert!(s.is_finite() && s > 0.0);
        prop_assert!((-128..=127).contains(&zp));
    }
}
