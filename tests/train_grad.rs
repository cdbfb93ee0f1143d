//! Training helpers (CALIBRATION.md §6): forwards against independent
//! references, backwards against central-difference gradients of the STE
//! surrogate (the forward with the rounding residual frozen at the point).

use proptest::prelude::*;
use qkit::quant::Quantizer;
use qkit::train::{
    ApprenticeWeights, FakeQuant, Lsq, SteRange, apprentice_loss, fake_quant, fake_quant_backward,
    lsq_backward, lsq_forward, pact_backward, pact_forward,
};
use qkit::{Error, Round};

const H: f64 = 1e-4;

/// Central difference of `f` at `x`.
fn numdiff(f: impl Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    (f(x + h) - f(x - h)) / (2.0 * h)
}

#[test]
fn fake_quant_forward_equals_quantizer_roundtrip() {
    let fq = FakeQuant::new(0.037, -5, -128, 127).unwrap();
    let q = Quantizer::<i8>::new(0.037, -5).unwrap();
    let xs: Vec<f32> = (-400..400).map(|i| i as f32 * 0.0123).collect();
    let mut y = vec![0.0; xs.len()];
    fake_quant(&fq, &xs, &mut y).unwrap();
    for (x, y) in xs.iter().zip(&y) {
        let want = q.dequantize(q.quantize(*x, Round::HalfToEven));
        assert!(
            (y - want).abs() <= 1e-6 * want.abs().max(1.0),
            "{x}: {y} vs {want}"
        );
    }
    assert!(matches!(
        fake_quant(&fq, &xs, &mut y[..3]),
        Err(Error::LengthMismatch { .. })
    ));
}

#[test]
fn ste_boundary_conventions() {
    // §6.1: x = amax + 0.4·s: 1 in PyTorch core, 0 in pytorch-quantization and TF.
    let s = 0.02f32;
    let fq = FakeQuant::symmetric(s, 127).unwrap();
    let x = [127.0 * s + 0.4 * s, 127.0 * s, -127.0 * s - 0.6 * s];
    let mut g = [0.0; 3];
    fake_quant_backward(&fq, SteRange::Input, &x, &[1.0; 3], &mut g).unwrap();
    assert_eq!(g, [0.0, 1.0, 0.0]);
    fake_quant_backward(&fq, SteRange::RoundedCode, &x, &[1.0; 3], &mut g).unwrap();
    assert_eq!(g, [1.0, 1.0, 0.0]);
    fake_quant_backward(&fq, SteRange::Input, &[f32::NAN], &[1.0], &mut g[..1]).unwrap();
    assert_eq!(g[0], 0.0);
}

#[test]
fn pact_and_lsq_vectors() {
    // §6.3 LSQ test vector
    let mut gv = [0.0];
    let ds = lsq_backward(&[0.7], &[1.0], 0.5, Lsq::unsigned(4).unwrap(), 1.0, &mut gv).unwrap();
    assert!((ds + 0.4).abs() < 1e-6);
    assert_eq!(gv, [1.0]);
    let ds = lsq_backward(&[9.0], &[1.0], 0.5, Lsq::unsigned(4).unwrap(), 1.0, &mut gv).unwrap();
    assert_eq!((ds, gv[0]), (15.0, 0.0));
    let ds = lsq_backward(&[-9.0], &[1.0], 0.5, Lsq::signed(4).unwrap(), 1.0, &mut gv).unwrap();
    assert_eq!(ds, -8.0);
    // LSQ / PACT relation for unsigned activations: α = s·Q_P gives the same clip.
    let xs = [-1.0f32, 0.2, 0.77, 1.5, 3.0];
    let (mut a, mut b) = ([0.0; 5], [0.0; 5]);
    pact_forward(&xs, 1.5, 4, &mut a).unwrap();
    lsq_forward(&xs, 0.1, Lsq::unsigned(4).unwrap(), &mut b).unwrap();
    for (a, b) in a.iter().zip(&b) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
    assert!(pact_forward(&xs, 0.0, 4, &mut a).is_err());
    assert!(pact_forward(&xs, 1.0, 0, &mut a).is_err());
    assert!(lsq_forward(&xs, f32::NAN, Lsq::unsigned(4).unwrap(), &mut b).is_err());
    // gradient scale and init
    assert_eq!(
        Lsq::signed(8).unwrap().grad_scale(1000).unwrap(),
        (1.0 / (1000.0f64 * 127.0).sqrt()) as f32
    );
    assert!(Lsq::signed(8).unwrap().grad_scale(0).is_err());
    assert_eq!(
        Lsq::signed(8).unwrap().init_step(&[f32::NAN]),
        Err(Error::Empty)
    );
    assert_eq!(Lsq::signed(8).unwrap().init_step(&[0.0, 0.0]), Ok(1.0));
}

/// Softmax cross-entropies written naively (f64) for the loss value.
fn apprentice_ref(t: &[f32], a: &[f32], label: usize, w: ApprenticeWeights) -> f64 {
    let sm = |z: &[f32]| -> Vec<f64> {
        let e: Vec<f64> = z.iter().map(|&v| (v as f64).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    };
    let (pt, pa) = (sm(t), sm(a));
    let soft: f64 = pt.iter().zip(&pa).map(|(p, q)| -p * q.ln()).sum();
    w.alpha as f64 * -pt[label].ln() + w.beta as f64 * -pa[label].ln() + w.gamma as f64 * soft
}

#[test]
fn apprentice_errors() {
    let mut g = [0.0; 3];
    let w = ApprenticeWeights::PAPER;
    assert!(matches!(
        apprentice_loss(&[0.0; 3], &[0.0; 2], 0, w, &mut g),
        Err(Error::LengthMismatch { .. })
    ));
    assert_eq!(apprentice_loss(&[], &[], 0, w, &mut []), Err(Error::Empty));
    assert!(matches!(
        apprentice_loss(&[0.0; 3], &[0.0; 3], 3, w, &mut g),
        Err(Error::OutOfRange { .. })
    ));
    assert!(apprentice_loss(&[0.0, f32::NAN, 0.0], &[0.0; 3], 0, w, &mut g).is_err());
    // Large logits stay finite (log-sum-exp).
    let l = apprentice_loss(&[1000.0, 0.0, 0.0], &[0.0, 1000.0, 0.0], 0, w, &mut g).unwrap();
    assert!(l.is_finite() && l > 0.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Fake-quant STE: dy/dx of the frozen-residual surrogate.
    #[test]
    fn fake_quant_grad_is_surrogate_derivative(x in -5.0f64..5.0, s in 0.01f64..0.5, zp in -10i32..10) {
        let fq = FakeQuant::new(s as f32, zp, -16, 15).unwrap();
        let (s, x32) = (fq.scale as f64, x as f32);
        let r0 = (x32 as f64 / s).round_ties_even() - x32 as f64 / s;
        for conv in [SteRange::Input, SteRange::RoundedCode] {
            // Input: clamp on x/s + zp; RoundedCode: clamp on x/s + r0 + zp.
            let shift = if conv == SteRange::Input { 0.0 } else { r0 };
            let f = |v: f64| ((v / s + shift + zp as f64).clamp(-16.0, 15.0) - zp as f64) * s;
            let c = x / s + shift + zp as f64;
            prop_assume!((c - -16.0).abs() > 1e-3 && (c - 15.0).abs() > 1e-3);
            let num = numdiff(f, x32 as f64, H * s);
            let mut g = [0.0];
            fake_quant_backward(&fq, conv, &[x32], &[1.0], &mut g).unwrap();
            prop_assert!((g[0] as f64 - num).abs() < 1e-6, "{:?}: {} vs {}", conv, g[0], num);
        }
    }

    /// PACT: dL/dx and dL/dα against the surrogate L = Σ g·clamp(x, 0, α) + λα².
    #[test]
    fn pact_grads(xs in prop::collection::vec(-2.0f32..4.0, 1..20), gs in prop::collection::vec(-1.0f32..1.0, 20),
                  alpha in 0.5f32..3.0, lambda in 0.0f32..0.1) {
        let gs = &gs[..xs.len()];
        prop_assume!(xs.iter().all(|&x| (x - alpha).abs() > 1e-3 && x.abs() > 1e-3));
        let mut gx = vec![0.0; xs.len()];
        let ga = pact_backward(&xs, gs, alpha, lambda, &mut gx).unwrap();
        let loss_a = |a: f64| -> f64 {
            xs.iter().zip(gs).map(|(&x, &g)| g as f64 * (x as f64).clamp(0.0, a)).sum::<f64>() + lambda as f64 * a * a
        };
        let num = numdiff(loss_a, alpha as f64, 1e-5);
        prop_assert!((ga as f64 - num).abs() < 1e-4, "{} vs {}", ga, num);
        for (k, &x) in xs.iter().enumerate() {
            let d = numdiff(|v| v.clamp(0.0, alpha as f64), x as f64, 1e-5);
            prop_assert!((gx[k] as f64 - gs[k] as f64 * d).abs() < 1e-5);
        }
        // The forward is the clip followed by the k-bit grid.
        let mut y = vec![0.0; xs.len()];
        pact_forward(&xs, alpha, 3, &mut y).unwrap();
        for (&x, &y) in xs.iter().zip(&y) {
            let c = (x as f64).clamp(0.0, alpha as f64);
            prop_assert!((y as f64 - c).abs() <= alpha as f64 / 7.0 / 2.0 + 1e-6);
        }
    }

    /// LSQ: ds and dv against the surrogate s·(clamp(v/s, -Q_N, Q_P) + r0), times g.
    #[test]
    fn lsq_grads(v in -20.0f32..20.0, s in 0.05f32..2.0, signed in any::<bool>(), bits in 2u32..6, g in 0.01f32..1.0) {
        let q = if signed { Lsq::signed(bits).unwrap() } else { Lsq::unsigned(bits).unwrap() };
        let (lo, hi) = (-(q.q_n as f64), q.q_p as f64);
        let r = v as f64 / s as f64;
        prop_assume!((r - lo).abs() > 1e-3 && (r - hi).abs() > 1e-3);
        let c0 = r.clamp(lo, hi);
        prop_assume!((c0 - c0.floor() - 0.5).abs() > 1e-3); // not at a rounding tie
        let r0 = c0.round_ties_even() - c0;
        let f_s = |ss: f64| ss * ((v as f64 / ss).clamp(lo, hi) + r0);
        let f_v = |vv: f64| s as f64 * ((vv / s as f64).clamp(lo, hi) + r0);
        let mut gv = [0.0];
        let ds = lsq_backward(&[v], &[1.0], s, q, g, &mut gv).unwrap();
        let num_s = numdiff(f_s, s as f64, 1e-6) * g as f64;
        prop_assert!((ds as f64 - num_s).abs() < 1e-3 * num_s.abs().max(1.0), "{} vs {}", ds, num_s);
        let num_v = numdiff(f_v, v as f64, 1e-6);
        prop_assert!((gv[0] as f64 - num_v).abs() < 1e-6);
        // forward
        let mut y = [0.0];
        lsq_forward(&[v], s, q, &mut y).unwrap();
        prop_assert!((y[0] as f64 - c0.round_ties_even() * s as f64).abs() < 1e-5);
    }

    /// Apprentice: loss equals the naive formula; gradient equals the
    /// numerical gradient w.r.t. each student logit.
    #[test]
    fn apprentice_grad(t in prop::collection::vec(-4.0f32..4.0, 2..8), a in prop::collection::vec(-4.0f32..4.0, 8),
                       label in 0usize..8, alpha in 0.0f32..2.0, beta in 0.0f32..2.0, gamma in 0.0f32..2.0) {
        let n = t.len();
        let a = a[..n].to_vec();
        let label = label % n;
        let w = ApprenticeWeights { alpha, beta, gamma };
        let mut g = vec![0.0; n];
        let l = apprentice_loss(&t, &a, label, w, &mut g).unwrap();
        let want = apprentice_ref(&t, &a, label, w);
        prop_assert!((l as f64 - want).abs() < 1e-5 * want.abs().max(1.0));
        for k in 0..n {
            let f = |z: f64| {
                let mut a2 = a.clone();
                a2[k] = z as f32;
                apprentice_ref(&t, &a2, label, w)
            };
            // Difference quotient over the f32 points actually evaluated:
            // a[k] ± 2^-10 is not always representable (e.g. across 4.0),
            // so divide by the true spacing rather than by 2h.
            let (hi, lo) = ((a[k] + 1.0 / 1024.0) as f64, (a[k] - 1.0 / 1024.0) as f64);
            let num = (f(hi) - f(lo)) / (hi - lo);
            prop_assert!((g[k] as f64 - num).abs() < 1e-4, "k {}: {} vs {}", k, g[k], num);
        }
    }
}
