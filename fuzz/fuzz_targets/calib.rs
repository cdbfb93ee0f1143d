//! Fuzz qkit::calib and qkit::train: arbitrary float streams (NaN, inf,
//! empty, one value, negative-only) and arbitrary histograms. Nothing may
//! panic; thresholds that come back Ok are never NaN and lie in [0, N·w].
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::calib::dynfixed::{Norm, best_frac_len, initial_frac_len, search_frac_len};
use qkit::calib::observer::{
    MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver, affine_params,
};
use qkit::calib::{
    EntropyOptions, Histogram, Merge, SymmetricRange, ThresholdRule, Ties, Upper, ZeroBin,
    entropy_kl, entropy_search, max_threshold, mse_threshold, percentile_threshold,
    symmetric_quantizer,
};
use qkit::train::{
    ApprenticeWeights, FakeQuant, Lsq, SteRange, apprentice_loss, fake_quant,
    fake_quant_backward, lsq_backward, lsq_forward, pact_backward, pact_forward,
};

#[derive(Arbitrary, Debug)]
struct Input {
    batches: Vec<Vec<f32>>,
    hist: Vec<u32>,
    width: f32,
    levels: u8,
    pct: f64,
    qmax: u8,
    opts: (bool, bool, bool, bool, bool, u8),
    bits: u8,
    fl: (i16, i16),
    scale: f32,
    zp: i32,
    label: u8,
}

fn check_t(t: Result<f32, qkit::Error>, max: f32) {
    if let Ok(t) = t {
        assert!(!t.is_nan());
        assert!(t >= 0.0 && t <= max, "{t} > {max}");
    }
}

fuzz_target!(|inp: Input| {
    let (u, z, m, ti, th, ml) = inp.opts;
    let o = EntropyOptions {
        upper: if u { Upper::N } else { Upper::NMinus1 },
        zero_bin: if z { ZeroBin::Keep } else { ZeroBin::CopyNext },
        merge: if m { Merge::Remainder } else { Merge::Proportional },
        ties: if ti { Ties::First } else { Ties::Last },
        threshold: if th { ThresholdRule::Center } else { ThresholdRule::LeftEdge },
        min_levels: ml as usize,
    };
    let levels = inp.levels as usize;

    // Streams through the histograms and observers.
    let mut h = Histogram::<64>::magnitude();
    let mut s = Histogram::<64>::signed();
    let mut mm = MinMaxObserver::new();
    let mut ema = MovingAverageMinMaxObserver::new();
    let mut pc = PerChannelMinMaxObserver::<4>::new();
    for b in inp.batches.iter().take(8) {
        h.add(b);
        s.add(b);
        mm.observe(b);
        ema.observe(b);
        let _ = pc.observe(b, 1 + (inp.levels as usize % 4));
        let mut other = Histogram::<64>::magnitude();
        other.add(b);
        let _ = h.merge(&other);
        assert!(h.range() >= h.amax());
    }
    for hist in [&h, &s] {
        let amax = hist.amax();
        check_t(hist.max_threshold(), amax);
        check_t(hist.percentile_threshold(inp.pct), amax);
        check_t(hist.mse_threshold(inp.qmax as u32), amax);
        check_t(hist.entropy_threshold(levels), amax);
        if let Ok(r) = hist.entropy_search(levels, &o) {
            assert!(!r.kl.is_nan());
            check_t(Ok(r.threshold), amax);
        }
    }
    let _ = mm.affine_quantizer::<i8>();
    let _ = mm.symmetric_quantizer::<i8>(SymmetricRange::Full);
    let _ = ema.affine_quantizer::<u8>();
    let mut scales = [0.0f32; 4];
    let _ = pc.symmetric_scales(127, SymmetricRange::Narrow, &mut scales[..pc.channels()]);
    if let Some((lo, hi)) = mm.min_max() {
        let _ = affine_params(lo, hi, -128, 127);
    }
    let _ = symmetric_quantizer::<i8>(inp.width, SymmetricRange::Narrow);

    // Arbitrary histograms straight into the slice API (bounded size).
    let hist = &inp.hist[..inp.hist.len().min(300)];
    let full = (hist.len() as f64 * inp.width as f64) as f32;
    check_t(max_threshold(hist, inp.width), full);
    check_t(percentile_threshold(hist, inp.width, inp.pct), full);
    check_t(mse_threshold(hist, inp.width, inp.qmax as u32), full);
    if let Ok(r) = entropy_search(hist, inp.width, levels, &o) {
        assert!(!r.kl.is_nan());
        if inp.width > 0.0 {
            assert!(r.threshold > 0.0 || full == 0.0);
        }
        check_t(Ok(r.threshold), full);
    }
    let _ = entropy_kl(hist, levels, inp.label as usize, &o);

    // Dynamic fixed point and training helpers on the first batch.
    let xs: &[f32] = inp.batches.first().map_or(&[], |b| &b[..b.len().min(64)]);
    let bits = inp.bits as u32;
    let _ = initial_frac_len(inp.width, bits);
    let _ = search_frac_len(xs, bits, Norm::L1);
    let _ = best_frac_len(xs, xs, bits, inp.fl.0 as i32, inp.fl.1 as i32, Norm::L2);
    let mut out = [0.0f32; 64];
    let mut g2 = [0.0f32; 64];
    let n = xs.len();
    if let Ok(fq) = FakeQuant::new(inp.scale, inp.zp, -128, 127) {
        let _ = fake_quant(&fq, xs, &mut out[..n]);
        let _ = fake_quant_backward(&fq, SteRange::RoundedCode, xs, xs, &mut g2[..n]);
    }
    let _ = pact_forward(xs, inp.scale, bits, &mut out[..n]);
    let _ = pact_backward(xs, xs, inp.scale, inp.width, &mut g2[..n]);
    let q = Lsq::signed(bits);
    let _ = lsq_forward(xs, inp.scale, q, &mut out[..n]);
    let _ = lsq_backward(xs, xs, inp.scale, q, inp.width, &mut g2[..n]);
    let _ = q.init_step(xs);
    let _ = q.grad_scale(n);
    let _ = apprentice_loss(xs, xs, inp.label as usize, ApprenticeWeights::PAPER, &mut g2[..n]);
});
