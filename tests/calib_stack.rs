//! The stack each calibration type needs, tested: every method runs in a
//! thread with a small fixed stack (the value itself plus [`MARGIN`]), in
//! debug builds too. A stack overflow aborts this test binary, so any
//! temporary `[u32; N]` copy of a large histogram fails here.
//!
//! The budgets are the ones `src/calib/mod.rs` documents.

use std::thread;

use qkit::calib::observer::{
    MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver,
};
use qkit::calib::{
    EntropyOptions, Histogram, entropy_search, max_threshold, mse_threshold, percentile_threshold,
};
use qkit::quant::CodeRange;

/// Stack beyond the value itself every calibration method fits in (debug
/// build, test harness frames included). `src/calib/mod.rs` documents it.
const MARGIN: usize = 16 * 1024;

/// Runs `f` on a thread whose stack is `bytes` long.
fn on_stack(bytes: usize, f: impl FnOnce() + Send + 'static) {
    thread::Builder::new()
        .stack_size(bytes)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("the thread panicked");
}

fn samples(n: usize, scale: f32) -> Vec<f32> {
    // Deterministic, spread over many bins, both signs, growing ranges.
    (0..n)
        .map(|i| {
            let u = ((i as u32).wrapping_mul(2_654_435_761) >> 8) as f32 / (1 << 24) as f32;
            (u - 0.5) * scale * (1 + i % 7) as f32
        })
        .collect()
}

/// Every method. The searches whose cost grows with `N²` (MSE, entropy) use
/// no per-`N` stack either, but only run at 2048 bins to keep debug fast.
fn exercise<const N: usize>(h: &mut Histogram<N>, other: &Histogram<N>, batches: &[Vec<f32>]) {
    for b in batches {
        h.add(b);
    }
    h.merge(other).unwrap();
    h.max_threshold().unwrap();
    h.percentile_threshold(99.99).unwrap();
    if N <= 2048 {
        h.mse_threshold(127).unwrap();
        h.entropy_threshold(128).unwrap();
        h.entropy_search(128, &EntropyOptions::PYTORCH_QUANTIZATION)
            .unwrap();
    }
    h.add(&[f32::MAX, -f32::MAX]);
    h.percentile_threshold(50.0).unwrap();
}

fn histogram_in_a_small_thread<const N: usize>() {
    let budget = size_of::<Histogram<N>>() + MARGIN;
    // The second histogram and the data are built here, on the big stack.
    let batches: Vec<Vec<f32>> = (0..6).map(|k| samples(2000, 4f32.powi(k))).collect();
    for signed in [false, true] {
        let mut other = Box::new(if signed {
            Histogram::<N>::signed()
        } else {
            Histogram::<N>::magnitude()
        });
        other.add(&samples(500, 1e3));
        let batches = batches.clone();
        on_stack(budget, move || {
            let mut h = if signed {
                Histogram::<N>::signed()
            } else {
                Histogram::<N>::magnitude()
            };
            exercise(&mut h, &other, &batches);
            let mut folded = vec![0u32; if signed { N / 2 } else { N }];
            h.fold_magnitude(&mut folded).unwrap();
            assert!(h.total() > 0);
        });
    }
}

#[test]
fn histogram_2048_in_a_small_thread() {
    histogram_in_a_small_thread::<2048>();
}

#[test]
fn histogram_65536_in_a_small_thread() {
    // Issue 10: `Histogram::<65536>::signed()` overflowed a 512 KiB thread.
    assert!(size_of::<Histogram<65536>>() + MARGIN <= 512 * 1024);
    histogram_in_a_small_thread::<65536>();
}

#[test]
fn threshold_functions_and_observers_in_a_small_thread() {
    let hist: Vec<u32> = (0..65536u32).map(|k| (k * 7919) % 13).collect();
    let data = samples(4096, 10.0);
    on_stack(MARGIN, move || {
        let w = 1e-3;
        max_threshold(&hist, w).unwrap();
        percentile_threshold(&hist, w, 99.9).unwrap();
        mse_threshold(&hist[..2048], w, 127).unwrap();
        entropy_search(&hist[..4096], w, 128, &EntropyOptions::CANONICAL).unwrap();
        let mut mm = MinMaxObserver::new();
        let mut ema = MovingAverageMinMaxObserver::new();
        let mut pc = PerChannelMinMaxObserver::<256>::new();
        for chunk in data.chunks(1024) {
            mm.observe(chunk);
            ema.observe(chunk);
            pc.observe(chunk, 256).unwrap();
        }
        mm.amax_quantizer::<i8>(CodeRange::Narrow).unwrap();
        ema.affine_quantizer::<u8>().unwrap();
        let mut scales = [0.0f32; 256];
        pc.symmetric_scales(127, CodeRange::Narrow, &mut scales)
            .unwrap();
    });
}

#[test]
fn sizes_are_the_documented_ones() {
    assert_eq!(size_of::<Histogram<2048>>(), 4 * 2048 + 40);
    assert_eq!(size_of::<Histogram<65536>>(), 4 * 65536 + 40);
    assert_eq!(size_of::<PerChannelMinMaxObserver<256>>(), 8 * 256 + 16);
    assert_eq!(size_of::<MinMaxObserver>(), 24);
    assert_eq!(size_of::<MovingAverageMinMaxObserver>(), 24);
}
