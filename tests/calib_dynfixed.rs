//! Dynamic fixed point (Qiu et al. 2016, CALIBRATION.md §4).

use proptest::prelude::*;
use qkit::Error;
use qkit::calib::dynfixed::{
    DfpLayer, LayerFormat, Norm, best_frac_len, greedy_layerwise, initial_frac_len, quantize_fixed,
    search_frac_len,
};

/// Reference quantizer with std's exact rounding (not libm's).
fn q_ref(v: f64, bits: u32, fl: i32) -> f64 {
    let hi = ((1i64 << (bits - 1)) - 1) as f64;
    let lo = -((1i64 << (bits - 1)) as f64);
    let code = (v * 2f64.powi(fl)).round_ties_even().clamp(lo, hi);
    code / 2f64.powi(fl)
}

/// Brute force: the smallest fl with the minimal error.
fn best_ref(r: &[f32], v: &[f32], bits: u32, lo: i32, hi: i32, norm: Norm) -> i32 {
    let mut best = (f64::INFINITY, lo);
    for fl in lo..=hi {
        let e: f64 = r
            .iter()
            .zip(v)
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .map(|(&a, &b)| {
                let d = a as f64 - q_ref(b as f64, bits, fl);
                if norm == Norm::L1 { d.abs() } else { d * d }
            })
            .sum();
        if e < best.0 {
            best = (e, fl);
        }
    }
    best.1
}

#[test]
fn initial_frac_len_vectors() {
    // §4.2: bw = 8: max 0.6 -> 7, max 1.0 -> 6, max 0.995 -> 6
    assert_eq!(initial_frac_len(0.6, 8), Ok(7));
    assert_eq!(initial_frac_len(1.0, 8), Ok(6));
    assert_eq!(initial_frac_len(0.995, 8), Ok(6));
    // exact powers of two are not off by one
    assert_eq!(initial_frac_len(127.0, 8), Ok(0));
    assert_eq!(initial_frac_len(127.5, 8), Ok(-1));
    assert_eq!(initial_frac_len(0.0, 8), Ok(7)); // §7: fl0 = bw - 1
    assert_eq!(initial_frac_len(0.0, 16), Ok(15));
    assert!(initial_frac_len(f32::NAN, 8).is_err());
    assert!(initial_frac_len(1.0, 1).is_err());
    assert!(initial_frac_len(1.0, 33).is_err());
}

#[test]
fn edge_cases() {
    // empty / all non-finite -> Err(Empty); NaN filtered
    assert_eq!(
        best_frac_len(&[], &[], 8, 0, 7, Norm::L1),
        Err(Error::Empty)
    );
    assert_eq!(
        search_frac_len(&[f32::NAN, f32::INFINITY], 8, Norm::L1),
        Err(Error::Empty)
    );
    assert_eq!(search_frac_len(&[0.5, f32::NAN], 8, Norm::L1), Ok(5)); // fl0 = 7, ties -> 5
    // all zeros: every fl is exact, ties -> smallest in the window [fl0-2, fl0+2]
    assert_eq!(search_frac_len(&[0.0; 4], 8, Norm::L1), Ok(5));
    // negative-only data uses the extra negative code: -1.0 with bw = 8 fits fl = 7
    assert_eq!(quantize_fixed(-1.0, 8, 7), Ok(-1.0));
    assert_eq!(quantize_fixed(1.0, 8, 7), Ok(127.0 / 128.0));
    assert!(matches!(
        best_frac_len(&[1.0], &[1.0, 2.0], 8, 0, 1, Norm::L1),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(best_frac_len(&[1.0], &[1.0], 8, 3, 2, Norm::L1).is_err());
}

/// A dense layer y = W x followed by ReLU, with `outs` outputs.
struct Dense {
    w: Vec<f32>,
    outs: usize,
}

impl DfpLayer for Dense {
    fn weights(&self) -> &[f32] {
        &self.w
    }
    fn output_len(&self, _input_len: usize) -> usize {
        self.outs
    }
    fn forward(&self, w: &[f32], x: &[f32], y: &mut [f32]) {
        // Row-major W (outs x inputs), then ReLU.
        for (o, y) in y.iter_mut().enumerate() {
            let row = &w[o * x.len()..(o + 1) * x.len()];
            let acc: f32 = row.iter().zip(x).map(|(w, x)| w * x).sum();
            *y = acc.max(0.0);
        }
    }
}

#[test]
fn greedy_walk_equals_manual_walk() {
    let l1 = Dense {
        w: (0..12).map(|i| ((i * 7 % 12) as f32 - 5.5) / 9.0).collect(),
        outs: 3,
    };
    let l2 = Dense {
        w: (0..6).map(|i| ((i * 5 % 6) as f32 - 2.5) * 1.7).collect(),
        outs: 2,
    };
    let input = [0.9f32, -0.4, 0.33, 0.05];
    let layers: [&dyn DfpLayer; 2] = [&l1, &l2];
    let mut scratch = vec![0.0f32; 12 + 4 * 4];
    let mut formats = [LayerFormat::default(); 2];
    let in_fl =
        greedy_layerwise(&layers, &input, 8, 6, Norm::L1, &mut scratch, &mut formats).unwrap();

    // Manual: the same steps with the public primitives.
    let max = |v: &[f32]| v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    let quant = |v: &[f32], bits, fl| -> Vec<f32> {
        v.iter()
            .map(|&x| q_ref(x as f64, bits, fl) as f32)
            .collect()
    };
    let fl0 = initial_frac_len(max(&input), 6).unwrap();
    assert_eq!(
        in_fl,
        best_ref(&input, &input, 6, fl0 - 2, fl0 + 2, Norm::L1)
    );
    let (mut xf, mut xq) = (input.to_vec(), quant(&input, 6, in_fl));
    for (layer, fmt) in [&l1, &l2].iter().zip(formats) {
        let w = layer.weights();
        let f0 = initial_frac_len(max(w), 8).unwrap();
        let wfl = best_ref(w, w, 8, f0 - 2, f0 + 2, Norm::L1);
        assert_eq!(fmt.weight_fl, wfl);
        let wq = quant(w, 8, wfl);
        let mut yf = vec![0.0; layer.outs];
        let mut yq = vec![0.0; layer.outs];
        layer.forward(w, &xf, &mut yf);
        layer.forward(&wq, &xq, &mut yq);
        let d0 = initial_frac_len(max(&yq), 6).unwrap();
        let dfl = best_ref(&yf, &yq, 6, d0 - 2, d0 + 2, Norm::L1);
        assert_eq!(fmt.data_fl, dfl);
        xf = yf;
        xq = quant(&yq, 6, dfl);
    }

    // Errors
    let mut small = vec![0.0f32; 10];
    assert!(matches!(
        greedy_layerwise(&layers, &input, 8, 6, Norm::L1, &mut small, &mut formats),
        Err(Error::CapacityExceeded { .. })
    ));
    assert!(matches!(
        greedy_layerwise(
            &layers,
            &input,
            8,
            6,
            Norm::L1,
            &mut scratch,
            &mut formats[..1]
        ),
        Err(Error::LengthMismatch { .. })
    ));
    assert_eq!(
        greedy_layerwise(&[], &input, 8, 6, Norm::L1, &mut scratch, &mut []),
        Err(Error::Empty)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn quantize_fixed_matches_reference(v in prop_oneof![-1e6f64..1e6, -2.0f64..2.0], bits in 2u32..=16, fl in -8i32..20) {
        prop_assert_eq!(quantize_fixed(v, bits, fl), Ok(q_ref(v, bits, fl)));
    }

    #[test]
    fn best_frac_len_matches_brute_force(
        v in prop::collection::vec(prop_oneof![5 => -10.0f32..10.0, 1 => Just(f32::NAN), 1 => Just(0.0f32)], 1..40),
        bits in 2u32..=12, l2 in any::<bool>()) {
        let norm = if l2 { Norm::L2 } else { Norm::L1 };
        prop_assume!(v.iter().any(|x| x.is_finite()));
        prop_assert_eq!(best_frac_len(&v, &v, bits, -4, 14, norm).unwrap(), best_ref(&v, &v, bits, -4, 14, norm));
        // The fl0 start never overflows: max |v| is representable without saturation.
        let m = v.iter().filter(|x| x.is_finite()).fold(0.0f32, |a, x| a.max(x.abs()));
        let fl0 = initial_frac_len(m, bits).unwrap();
        let qmax = ((1i64 << (bits - 1)) - 1) as f64;
        prop_assert!(m as f64 * 2f64.powi(fl0) <= qmax);
        if m > 0.0 {
            prop_assert!(m as f64 * 2f64.powi(fl0 + 1) > qmax);
        }
    }
}
