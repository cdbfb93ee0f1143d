//! KL-entropy calibration: CALIBRATION.md §2.3 vectors, the §2.6 / §7 edge
//! cases, the known weakness, and the fast search against a literal
//! re-implementation of the §2.2 pseudo-code.

use proptest::prelude::*;
use qkit::Error;
use qkit::calib::{
    EntropyOptions, Merge, ThresholdRule, Ties, Upper, ZeroBin, entropy_kl, entropy_search,
    entropy_threshold,
};

/// §2.2 written literally: one pass per candidate, one `ln` per non-empty
/// bin, P and Q normalised explicitly. Independent of the crate's code.
fn naive(hist: &[u32], levels: usize, o: &EntropyOptions) -> (Option<usize>, f64) {
    let n = hist.len();
    let mut h: Vec<f64> = hist.iter().map(|&c| c as f64).collect();
    if o.zero_bin == ZeroBin::CopyNext && n > 1 {
        h[0] = h[1];
    }
    let total: f64 = h.iter().sum();
    let last = if o.upper == Upper::N { n } else { n - 1 };
    let mut best: (Option<usize>, f64) = (None, f64::INFINITY);
    for i in levels..=last {
        let kl = naive_kl(&h, total, levels, i, o.merge);
        if !kl.is_finite() {
            continue;
        }
        if kl < best.1 || (o.ties == Ties::Last && kl == best.1) {
            best = (Some(i), kl);
        }
    }
    best
}

fn naive_kl(h: &[f64], total: f64, levels: usize, i: usize, merge: Merge) -> f64 {
    let s: f64 = h[..i].iter().sum();
    if s == 0.0 {
        return f64::INFINITY;
    }
    let mut p: Vec<f64> = h[..i].to_vec();
    p[i - 1] += total - s;
    let group = |k: usize| match merge {
        Merge::Remainder => (k / (i / levels)).min(levels - 1),
        Merge::Proportional => k * levels / i,
    };
    let mut sums = vec![0.0; levels];
    let mut nz = vec![0.0; levels];
    for k in 0..i {
        sums[group(k)] += h[k];
        if h[k] != 0.0 {
            nz[group(k)] += 1.0;
        }
    }
    let mut kl = 0.0;
    for k in 0..i {
        if p[k] == 0.0 {
            continue;
        }
        if h[k] == 0.0 {
            return f64::INFINITY;
        }
        let q = sums[group(k)] / nz[group(k)] / s;
        let pn = p[k] / total;
        kl += pn * (pn / q).ln();
    }
    kl
}

const B: [u32; 16] = [40, 30, 22, 15, 11, 8, 5, 4, 3, 0, 2, 1, 0, 0, 1, 1];

#[test]
fn vector_a_slide_expansion() {
    let p = [1, 0, 2, 3, 5, 3, 1, 7];
    let kl = entropy_kl(&p, 2, 8, &EntropyOptions::CANONICAL).unwrap();
    assert!((kl - 0.1503153).abs() < 1e-7, "{kl}");
}

#[test]
fn vector_b_table_every_candidate() {
    // CALIBRATION.md §2.3, i = 4..=16.
    let table = [
        0.146436,
        0.079274,
        0.038852,
        0.021843,
        0.039755,
        0.022323,
        f64::INFINITY,
        0.015575,
        0.032482,
        f64::INFINITY,
        f64::INFINITY,
        0.030314,
        0.064322,
    ];
    for (i, want) in (4..=16).zip(table) {
        let kl = entropy_kl(&B, 4, i, &EntropyOptions::CANONICAL).unwrap();
        if want.is_infinite() {
            assert_eq!(kl, f64::INFINITY, "i = {i}");
        } else {
            assert!((kl - want).abs() < 1e-6, "i = {i}: {kl} vs {want}");
        }
    }
    let w = 0.1f32;
    let r = entropy_search(&B, w, 4, &EntropyOptions::CANONICAL).unwrap();
    assert_eq!(r.bin, 11);
    assert_eq!(r.threshold, (11.5 * w as f64) as f32);
    assert!((r.kl - 0.015575).abs() < 1e-6);
    assert_eq!(entropy_threshold(&B, w, 4).unwrap(), r.threshold);
}

#[test]
fn vector_b_pytorch_quantization_rules_pick_12() {
    let w = 0.1f32;
    let r = entropy_search(&B, w, 4, &EntropyOptions::PYTORCH_QUANTIZATION).unwrap();
    assert_eq!(r.bin, 12);
    assert!((r.kl - 0.020992).abs() < 1e-6, "{}", r.kl);
    assert_eq!(r.threshold, (12.0 * w as f64) as f32);
}

#[test]
fn empty_zero_and_bad_parameters() {
    assert_eq!(entropy_threshold(&[0; 16], 1.0, 4), Err(Error::Empty));
    assert_eq!(
        entropy_threshold(&[], 1.0, 1),
        Err(Error::InvalidParameter(
            "levels must not exceed the bin count"
        ))
    );
    // bin width 0: every sample was 0 -> threshold 0 (zero rule downstream)
    assert_eq!(entropy_threshold(&[5, 0, 0, 0], 0.0, 2), Ok(0.0));
    assert!(matches!(
        entropy_threshold(&B, 1.0, 0),
        Err(Error::InvalidParameter(_))
    ));
    assert!(matches!(
        entropy_threshold(&B, 1.0, 17),
        Err(Error::InvalidParameter(_))
    ));
    for w in [f32::NAN, f32::INFINITY, -1.0] {
        assert!(matches!(
            entropy_threshold(&B, w, 4),
            Err(Error::InvalidParameter(_))
        ));
    }
}

/// §2.6 row 1 / rule 7: one repeated value. Only i = N is finite.
#[test]
fn single_repeated_value_gives_amax() {
    let mut h = [0u32; 2048];
    h[2047] = 1000;
    let w = 3.0 / 2048.0;
    let r = entropy_search(&h, w, 128, &EntropyOptions::CANONICAL).unwrap();
    assert_eq!((r.bin, r.kl, r.threshold), (2048, 0.0, 3.0));
    // The slide's upper bound N-1 has no finite candidate: fallback to max (rule 5).
    let r = entropy_search(&h, w, 128, &EntropyOptions::SLIDE).unwrap();
    assert_eq!((r.bin, r.kl, r.threshold), (2048, f64::INFINITY, 3.0));
}

/// §2.6 row 2: 999 zeros and one 1.0.
#[test]
fn zeros_and_one_value() {
    let mut h = [0u32; 2048];
    h[0] = 999;
    h[2047] = 1;
    let w = 1.0 / 2048.0;
    assert_eq!(entropy_threshold(&h, w, 128).unwrap(), 1.0);
    let r = entropy_search(&h, w, 128, &EntropyOptions::PYTORCH_QUANTIZATION).unwrap();
    assert_eq!(r.threshold, 1.0);
}

/// §2.6 row 3 / rule 7: {1.0 x500, 2.0 x500} gives exact KL = 0 ties; the
/// tie rule decides.
#[test]
fn two_values_exact_ties() {
    let mut h = [0u32; 2048];
    h[1024] = 500;
    h[2047] = 500;
    let w = 2.0 / 2048.0;
    let first = entropy_search(&h, w, 128, &EntropyOptions::CANONICAL).unwrap();
    assert_eq!((first.bin, first.kl), (1025, 0.0));
    assert_eq!(first.threshold, (1025.5 * w as f64) as f32);
    let last = EntropyOptions {
        ties: Ties::Last,
        ..EntropyOptions::CANONICAL
    };
    let r = entropy_search(&h, w, 128, &last).unwrap();
    assert_eq!((r.bin, r.kl, r.threshold), (2048, 0.0, 2.0));
}

/// §7 "known weakness": data far from zero. The canonical search clips
/// everything into one level; the guard avoids it.
#[test]
fn known_weakness_offset_data_is_pinned() {
    // Values spread over bins 1500..1600 of 2048 (an offset bump), L = 128.
    let mut h = [0u32; 2048];
    for (k, c) in h.iter_mut().enumerate().take(1600).skip(1500) {
        *c = 10 + (k as u32 % 7);
    }
    let w = 1.0 / 256.0;
    let r = entropy_search(&h, w, 128, &EntropyOptions::CANONICAL).unwrap();
    // i = 1501: all mass folded into bin 1500, P = Q = one spike, KL = 0 exactly.
    assert_eq!((r.bin, r.kl), (1501, 0.0));
    assert_eq!(r.threshold, (1501.5 * w as f64) as f32);
    let guarded = EntropyOptions {
        min_levels: 8,
        ..EntropyOptions::CANONICAL
    };
    let g = entropy_search(&h, w, 128, &guarded).unwrap();
    assert!(g.bin >= 1600, "guarded search keeps the bump: {}", g.bin);
}

#[test]
fn threshold_rules() {
    let left = EntropyOptions {
        threshold: ThresholdRule::LeftEdge,
        ..EntropyOptions::CANONICAL
    };
    assert_eq!(entropy_search(&B, 1.0, 4, &left).unwrap().threshold, 11.0);
    // i = N with the centre rule is capped at N·w.
    let mut h = [0u32; 16];
    h[15] = 3;
    assert_eq!(entropy_threshold(&h, 1.0, 4).unwrap(), 16.0);
}

fn options() -> impl Strategy<Value = EntropyOptions> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(u, z, m, t, th)| EntropyOptions {
            upper: if u { Upper::N } else { Upper::NMinus1 },
            zero_bin: if z { ZeroBin::Keep } else { ZeroBin::CopyNext },
            merge: if m {
                Merge::Remainder
            } else {
                Merge::Proportional
            },
            ties: if t { Ties::First } else { Ties::Last },
            threshold: if th {
                ThresholdRule::Center
            } else {
                ThresholdRule::LeftEdge
            },
            min_levels: 0,
        })
}

/// Sparse, spiky histograms: many zeros and repeated counts make exact ties likely.
fn hist() -> impl Strategy<Value = Vec<u32>> {
    (4usize..200).prop_flat_map(|n| {
        prop::collection::vec(
            prop_oneof![3 => Just(0u32), 2 => 1u32..4, 1 => 0u32..100_000],
            n,
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The fast search equals the literal §2.2 loop: same winner, KL equal
    /// to 1e-12 (bin may differ only between KL values that close).
    #[test]
    fn fast_search_matches_naive(h in hist(), lv in 1usize..9, o in options()) {
        prop_assume!(lv <= h.len());
        let r = entropy_search(&h, 0.5, lv, &o);
        let total: u64 = h.iter().map(|&c| c as u64).sum();
        if total == 0 {
            prop_assert_eq!(r, Err(Error::Empty));
            return Ok(());
        }
        let r = r.unwrap();
        let (nb, nkl) = naive(&h, lv, &o);
        match nb {
            None => {
                prop_assert_eq!(r.bin, h.len());
                prop_assert_eq!(r.kl, f64::INFINITY);
            }
            Some(i) => {
                prop_assert!((r.kl - nkl).abs() <= 1e-12 * nkl.abs().max(1.0), "{} vs {}", r.kl, nkl);
                // Different winners only between KL values this close.
                prop_assert!(r.bin == i || (r.kl - nkl).abs() <= 1e-12, "bins {} vs {}", r.bin, i);
            }
        }
        // Each reported KL is the candidate's own KL.
        if r.kl.is_finite() {
            let k = entropy_kl(&h, lv, r.bin, &o).unwrap();
            prop_assert_eq!(k, r.kl);
        }
    }

    /// Thresholds are finite and within (0, N·w] whenever the width is positive.
    #[test]
    fn threshold_finite_and_in_range(h in hist(), lv in 1usize..9, w in 1e-6f32..1e6, o in options()) {
        prop_assume!(lv <= h.len());
        prop_assume!(h.iter().any(|&c| c != 0));
        let r = entropy_search(&h, w, lv, &o).unwrap();
        let max = (h.len() as f64 * w as f64) as f32;
        prop_assert!(r.threshold.is_finite());
        prop_assert!(r.threshold > 0.0 && r.threshold <= max, "{} vs {}", r.threshold, max);
        prop_assert!(!r.kl.is_nan());
        prop_assert!(r.kl >= -1e-12);
    }
}

/// §7 "all mass in one bin": bin 0 gives (L + 0.5)·w (candidate i = L keeps
/// everything, KL = 0, first minimum); an interior bin k >= L - 1 gives
/// (k + 1.5)·w; the top bin gives N·w.
#[test]
fn all_mass_in_one_bin() {
    let w = 0.01f32;
    for (k, want) in [(0usize, 128.5), (127, 128.5), (700, 701.5), (2047, 2048.0)] {
        let mut h = [0u32; 2048];
        h[k] = 77;
        let t = entropy_threshold(&h, w, 128).unwrap();
        assert_eq!(t, (want * w as f64) as f32, "bin {k}");
    }
}

/// Large histograms with saturated counts: no overflow, finite answer.
#[test]
fn huge_counts_do_not_overflow() {
    let h = vec![u32::MAX; 5000];
    let r = entropy_search(&h, 1e-3, 128, &EntropyOptions::CANONICAL).unwrap();
    assert!(r.threshold > 0.0 && r.threshold <= 5.0 && r.kl.is_finite());
    let r = entropy_search(&h, 1e-3, 128, &EntropyOptions::PYTORCH_QUANTIZATION).unwrap();
    assert!(r.threshold > 0.0 && r.threshold <= 5.0);
}
