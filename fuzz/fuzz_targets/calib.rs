//! Fuzz qkit::calib: arbitrary float streams (NaN, inf, empty, one value,
//! negative-only, up to ±f32::MAX) and arbitrary histograms. Nothing may
//! panic; a histogram's range stays finite and holds `amax`, and every
//! threshold of a non-empty histogram is `Ok`, finite, in [0, amax];
//! slice thresholds that come back Ok are never NaN and lie in [0, N·w];
//! observers stay finite; narrow symmetric quantizers are narrow; the
//! dynamic fixed-point helpers reject bad bits / fractional lengths and a
//! layer that changes size mid-walk with `Err`. (qkit::train has its own
//! target.)
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::Error;
use qkit::calib::dynfixed::{
    DfpLayer, LayerFormat, Norm, best_frac_len, greedy_layerwise, initial_frac_len, quantize_fixed,
    quantize_fixed_in_place, search_frac_len,
};
use qkit::calib::observer::{
    MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver, affine_params,
};
use qkit::calib::{
    EntropyOptions, Histogram, Merge, ThresholdRule, Ties, Upper, ZeroBin, amax_quantizer,
    entropy_kl, entropy_search, max_threshold, mse_threshold, percentile_threshold,
};
use qkit::quant::CodeRange;

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
    label: u8,
    big: Vec<(u8, bool)>,
    sizes: Vec<u8>,
    channels: (u8, u8),
}

/// A layer whose weight count and output length follow a script of sizes,
/// so they may change between the sizing pass and the walk.
struct Scripted {
    w: Vec<f32>,
    sizes: Vec<u8>,
    calls: std::cell::Cell<usize>,
}

impl Scripted {
    fn next(&self) -> usize {
        let k = self.calls.get();
        self.calls.set(k + 1);
        self.sizes
            .get(k % self.sizes.len().max(1))
            .copied()
            .unwrap_or(1) as usize
    }
}

impl DfpLayer for Scripted {
    fn weights(&self) -> &[f32] {
        &self.w[..self.next().min(self.w.len())]
    }
    fn output_len(&self, _: usize) -> usize {
        self.next() % 17
    }
    fn forward(&self, w: &[f32], x: &[f32], y: &mut [f32]) {
        let s = w.first().copied().unwrap_or(1.0);
        for (k, v) in y.iter_mut().enumerate() {
            *v = x.get(k % x.len().max(1)).copied().unwrap_or(0.5) * s;
        }
    }
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
        merge: if m {
            Merge::Remainder
        } else {
            Merge::Proportional
        },
        ties: if ti { Ties::First } else { Ties::Last },
        threshold: if th {
            ThresholdRule::Center
        } else {
            ThresholdRule::LeftEdge
        },
        min_levels: ml as usize,
    };
    let levels = inp.levels as usize;

    // Streams through the histograms and observers.
    let mut h = Histogram::<64>::magnitude();
    let mut s = Histogram::<64>::signed();
    let mut mm = MinMaxObserver::new();
    let mut ema = MovingAverageMinMaxObserver::new();
    let mut pc = PerChannelMinMaxObserver::<4>::new();
    // Batches, some scaled towards ±f32::MAX (the range must stay finite).
    let batches: Vec<Vec<f32>> = inp
        .batches
        .iter()
        .take(8)
        .zip(inp.big.iter().chain(std::iter::repeat(&(0, false))))
        .map(|(b, &(e, neg))| {
            let k = 2f32.powi((e % 128) as i32) * if neg { -1.0 } else { 1.0 };
            b.iter()
                .map(|&v| {
                    if e >= 128 {
                        (v * k).clamp(-f32::MAX, f32::MAX)
                    } else {
                        v
                    }
                })
                .collect()
        })
        .collect();
    for b in &batches {
        h.add(b);
        s.add(b);
        mm.observe(b);
        ema.observe(b);
        let _ = pc.observe(b, 1 + (inp.levels as usize % 4));
        let mut other = Histogram::<64>::magnitude();
        other.add(b);
        let _ = h.merge(&other);
        assert!(h.range() >= h.amax());
        assert!(h.range().is_finite() && s.range().is_finite() && s.range() >= s.amax());
        assert!(h.bin_width().is_finite() && s.bin_width().is_finite());
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
        // A non-empty histogram answers every well-formed question: the
        // range is never the reason for an error.
        if hist.total() > 0 {
            hist.max_threshold().unwrap();
            let pct = if inp.pct.is_nan() {
                50.0
            } else {
                inp.pct.clamp(0.0, 100.0)
            };
            hist.percentile_threshold(pct).unwrap();
            hist.mse_threshold(inp.qmax.max(1) as u32).unwrap();
            hist.entropy_threshold(levels.clamp(1, 32)).unwrap();
        }
    }
    // Observers stay finite on finite data, whatever its size.
    if let Some((lo, hi)) = ema.min_max() {
        assert!(lo.is_finite() && hi.is_finite(), "EMA ({lo}, {hi})");
        ema.affine_quantizer::<u8>().unwrap();
    }
    // A channel-count change is ChannelCountMismatch, a bad index IndexOutOfBounds.
    let mut pc2 = PerChannelMinMaxObserver::<8>::new();
    let (c1, c2) = (
        1 + inp.channels.0 as usize % 8,
        1 + inp.channels.1 as usize % 8,
    );
    if let Some(b) = batches.first() {
        let n = b.len() / c1 * c1;
        pc2.observe(&b[..n], c1).unwrap();
        let n2 = b.len() / c2 * c2;
        match pc2.observe(&b[..n2], c2) {
            Ok(()) => assert_eq!(c1, c2),
            Err(e) => assert_eq!(
                e,
                Error::ChannelCountMismatch {
                    expected: c1,
                    found: c2
                }
            ),
        }
        assert_eq!(
            pc2.min_max(c1),
            Err(Error::IndexOutOfBounds { index: c1, len: c1 })
        );
    }
    let _ = mm.affine_quantizer::<i8>();
    let _ = mm.amax_quantizer::<i8>(CodeRange::Full);
    let _ = ema.affine_quantizer::<u8>();
    let mut scales = [0.0f32; 4];
    let _ = pc.symmetric_scales(127, CodeRange::Narrow, &mut scales[..pc.channels()]);
    if let Some((lo, hi)) = mm.min_max() {
        let _ = affine_params(lo, hi, -128, 127);
    }
    if let Ok(q) = amax_quantizer::<i8>(inp.width, CodeRange::Narrow) {
        assert!(q.code_range() == CodeRange::Narrow && q.qmin() == -127);
    }
    if let Ok(q) = amax_quantizer::<i8>(inp.width, CodeRange::Full) {
        assert_eq!(q.code_range(), CodeRange::Full);
    }

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

    // Dynamic fixed point on the first batch.
    let xs: &[f32] = batches.first().map_or(&[], |b| &b[..b.len().min(64)]);
    let bits = inp.bits as u32;
    let _ = initial_frac_len(inp.width, bits);
    let _ = search_frac_len(xs, bits, Norm::L1);
    let _ = best_frac_len(xs, xs, bits, inp.fl.0 as i32, inp.fl.1 as i32, Norm::L2);
    let fl = inp.fl.0 as i32;
    let in_domain = (2..=32).contains(&bits) && (-1000..=1000).contains(&fl);
    assert_eq!(
        quantize_fixed(inp.scale as f64, bits, fl).is_ok(),
        in_domain
    );
    let mut v = xs.to_vec();
    let r = quantize_fixed_in_place(&mut v, bits, fl);
    assert_eq!(r.is_ok(), in_domain);
    if r.is_err() {
        assert!(
            v.iter().zip(xs).all(|(a, b)| a.to_bits() == b.to_bits()),
            "written on error"
        );
    }
    // The greedy walk over layers whose sizes may change: Ok or Err, never a panic.
    let layers: Vec<Scripted> = (0..1 + inp.label as usize % 3)
        .map(|k| Scripted {
            w: xs.iter().skip(k).copied().collect(),
            sizes: inp.sizes.iter().skip(k).take(8).copied().collect(),
            calls: std::cell::Cell::new(0),
        })
        .collect();
    let refs: Vec<&dyn DfpLayer> = layers.iter().map(|l| l as &dyn DfpLayer).collect();
    let mut scratch = vec![0.0f32; inp.qmax as usize * 4];
    let mut formats = vec![LayerFormat::default(); refs.len()];
    let _ = greedy_layerwise(&refs, xs, bits, 8, Norm::L1, &mut scratch, &mut formats);
});
