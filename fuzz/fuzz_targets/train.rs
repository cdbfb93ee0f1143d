//! Fuzz `qkit::train` with arbitrary public fields (bypassing the checked
//! constructors), scales, bit widths and data. Nothing panics; a
//! `FakeQuant` / `Lsq` failing its `check` is an `Err` at every use; an `Ok`
//! result is finite wherever the input is, stays inside the quantizer's
//! range, and the gradients only ever pass or block `grad_y`.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::train::{
    ApprenticeWeights, FakeQuant, Lsq, SteRange, apprentice_loss, fake_quant, fake_quant_backward,
    lsq_backward, lsq_forward, pact_backward, pact_forward,
};

#[derive(Debug, Arbitrary)]
struct Input {
    scale: f32,
    zero_point: i32,
    qmin: i32,
    qmax: i32,
    rounded: bool,
    q_n: u32,
    q_p: u32,
    bits: u32,
    signed: bool,
    alpha: f32,
    lambda: f32,
    g: f32,
    label: u16,
    weights: (f32, f32, f32),
    x: Vec<f32>,
    y: Vec<f32>,
}

fuzz_target!(|inp: Input| {
    let x = &inp.x[..inp.x.len().min(256)];
    let gy: Vec<f32> = inp
        .y
        .iter()
        .copied()
        .cycle()
        .take(if inp.y.is_empty() { 0 } else { x.len() })
        .collect();
    let n = x.len();
    let mut out = vec![0.0f32; n];
    let mut g = vec![0.0f32; n];

    // FakeQuant straight from the public fields.
    let fq = FakeQuant {
        scale: inp.scale,
        zero_point: inp.zero_point,
        qmin: inp.qmin,
        qmax: inp.qmax,
    };
    let valid = fq.check().is_ok();
    assert_eq!(
        valid,
        FakeQuant::new(inp.scale, inp.zero_point, inp.qmin, inp.qmax).is_ok()
    );
    let r = fake_quant(&fq, x, &mut out);
    assert_eq!(r.is_ok(), valid);
    if valid {
        let lo = (fq.qmin as f64 - fq.zero_point as f64) * fq.scale as f64;
        let hi = (fq.qmax as f64 - fq.zero_point as f64) * fq.scale as f64;
        // Beyond f32::MAX the product is ±inf, IEEE's (correct) overflow.
        let fits = lo.abs().max(hi.abs()) < f32::MAX as f64 * 0.5;
        for (&v, &o) in x.iter().zip(&out) {
            if v.is_finite() && fits {
                assert!(!o.is_nan(), "fake_quant({v}) = {o}");
                // One f32 rounding of the code times the scale.
                let slack = (lo.abs().max(hi.abs())) * 1e-6 + 1e-30;
                assert!(
                    o as f64 >= lo - slack && o as f64 <= hi + slack,
                    "{o} outside [{lo}, {hi}]"
                );
            }
        }
    } else {
        assert!(out.iter().all(|&o| o == 0.0), "written on error");
    }
    let conv = if inp.rounded {
        SteRange::RoundedCode
    } else {
        SteRange::Input
    };
    let r = fake_quant_backward(&fq, conv, x, &gy, &mut g);
    if !valid {
        assert!(r.is_err());
    } else if gy.len() == n {
        r.unwrap();
        for (&gx, &gyv) in g.iter().zip(&gy) {
            assert!(gx.to_bits() == gyv.to_bits() || gx == 0.0);
        }
    }

    // LSQ: constructors reject bit widths outside their domain, uses check the fields.
    assert_eq!(
        Lsq::unsigned(inp.bits).is_ok(),
        (1..=24).contains(&inp.bits)
    );
    assert_eq!(Lsq::signed(inp.bits).is_ok(), (2..=24).contains(&inp.bits));
    let q = Lsq {
        q_n: inp.q_n,
        q_p: inp.q_p,
    };
    let q_ok = q.check().is_ok();
    let s_ok = inp.scale.is_finite() && inp.scale > 0.0;
    let r = lsq_forward(x, inp.scale, q, &mut out);
    assert_eq!(r.is_ok(), q_ok && s_ok);
    if r.is_ok() {
        let fits = (q.q_n.max(q.q_p) as f64 * inp.scale as f64) < f32::MAX as f64 * 0.5;
        for (&v, &o) in x.iter().zip(&out) {
            if v.is_finite() && fits {
                let c = o as f64 / inp.scale as f64;
                let tol = 1e-3 + 1e-6 * q.q_n.max(q.q_p) as f64;
                assert!(
                    c >= -(q.q_n as f64) - tol && c <= q.q_p as f64 + tol,
                    "code {c}"
                );
            }
        }
    }
    if let Ok(ds) = lsq_backward(x, &gy, inp.scale, q, inp.g, &mut g) {
        assert!(q_ok && s_ok && inp.g.is_finite());
        let _ = ds;
    }
    if let Ok(q) = if inp.signed {
        Lsq::signed(inp.bits)
    } else {
        Lsq::unsigned(inp.bits)
    } {
        assert!(q.check().is_ok());
        if let Ok(s) = q.init_step(x) {
            assert!(s.is_finite() && s > 0.0);
        }
        let _ = q.grad_scale(n);
    }

    // PACT and the Apprentice loss.
    if pact_forward(x, inp.alpha, inp.bits, &mut out).is_ok() {
        for (&v, &o) in x.iter().zip(&out) {
            if !v.is_nan() {
                assert!(o >= 0.0 && o <= inp.alpha * (1.0 + 1e-6), "pact {o}");
            }
        }
    }
    let _ = pact_backward(x, &gy, inp.alpha, inp.lambda, &mut g);
    let w = ApprenticeWeights {
        alpha: inp.weights.0,
        beta: inp.weights.1,
        gamma: inp.weights.2,
    };
    let teacher: Vec<f32> = x.iter().rev().copied().collect();
    if let Ok(l) = apprentice_loss(&teacher, x, inp.label as usize, w, &mut g) {
        assert!((inp.label as usize) < n);
        let _ = l;
    }
});
