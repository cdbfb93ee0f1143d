//! Calibration benchmarks: the 2048-bin KL-entropy search.
//!
//! Run: `cargo bench --bench calib -- --warm-up-time 1 --measurement-time 4`
//!
//! Input: the Laplace(0,1) sets of tests/data/calib_hist_2048.json (written by
//! tools/ort_entropy_bench.py, which also times ONNX Runtime's Python
//! `get_entropy_threshold` on `laplace_signed_2048`, the same counts as
//! `ort_laplace_folded` below).
//!
//! * `qkit_canonical/laplace_abs_2048`: `entropy_search`, canonical, 2048 |x| bins,
//!   1921 candidates.
//! * `naive_baseline/laplace_abs_2048`: the §2.2 pseudo-code as written (every level of
//!   every candidate recomputed, one `ln` per non-empty bin per candidate).
//! * `qkit_pytorch_rules/laplace_abs_2048`: proportional merge, which recomputes every
//!   level per candidate (the slow path).
//! * `qkit_canonical/ort_laplace_folded`: ORT's own signed 2048-bin histogram folded
//!   exactly into 1024 |x| bins (897 candidates; ORT's loop runs 961).

use criterion::{Criterion, black_box, criterion_group, criterion_main};
use qkit::calib::{EntropyOptions, entropy_search};
use serde_json::Value;

fn hist(v: &Value) -> Vec<u32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap() as u32)
        .collect()
}

/// CALIBRATION.md §2.2 literally, the baseline (indexed loops on purpose:
/// they mirror the pseudo-code line by line).
#[allow(clippy::needless_range_loop)]
fn naive(h: &[u32], w: f32, levels: usize) -> f32 {
    let n = h.len();
    let total: u64 = h.iter().map(|&c| c as u64).sum();
    let mut best = (f64::INFINITY, None);
    for i in levels..=n {
        let s: u64 = h[..i].iter().map(|&c| c as u64).sum();
        if s == 0 {
            continue;
        }
        let out = total - s;
        let m = i / levels;
        let mut kl = 0.0f64;
        'levels: for j in 0..levels {
            let a = j * m;
            let b = if j == levels - 1 { i } else { (j + 1) * m };
            let sum: u64 = h[a..b].iter().map(|&c| c as u64).sum();
            let nz = h[a..b].iter().filter(|&&c| c != 0).count() as f64;
            for k in a..b {
                let pk = h[k] as u64 + if k == i - 1 { out } else { 0 };
                if pk == 0 {
                    continue;
                }
                if h[k] == 0 {
                    kl = f64::INFINITY;
                    break 'levels;
                }
                let p = pk as f64 / total as f64;
                let q = sum as f64 / nz / s as f64;
                kl += p * (p / q).ln();
            }
        }
        if kl < best.0 {
            best = (kl, Some(i));
        }
    }
    match best.1 {
        Some(i) => ((i as f64 + 0.5) * w as f64).min(n as f64 * w as f64) as f32,
        None => (n as f64 * w as f64) as f32,
    }
}

fn bench(c: &mut Criterion) {
    let j: Value =
        serde_json::from_str(include_str!("../tests/data/calib_hist_2048.json")).unwrap();
    let lap = &j["sets"]["laplace"];
    let h = hist(&lap["hist"]);
    let w = lap["bin_width"].as_f64().unwrap() as f32;
    // Same answer from both before timing anything.
    let fast = entropy_search(&h, w, 128, &EntropyOptions::CANONICAL).unwrap();
    assert_eq!(fast.threshold, naive(&h, w, 128));

    let ort = &j["laplace_signed_2048"];
    let signed = hist(&ort["hist"]);
    let half = signed.len() / 2;
    let folded: Vec<u32> = (0..half)
        .map(|k| signed[half + k] + signed[half - 1 - k])
        .collect();
    let fw = (ort["range"].as_f64().unwrap() / half as f64) as f32;

    let mut g = c.benchmark_group("entropy_2048");
    g.sample_size(10);
    g.bench_function("qkit_canonical/laplace_abs_2048", |b| {
        b.iter(|| entropy_search(black_box(&h), w, 128, &EntropyOptions::CANONICAL))
    });
    g.bench_function("naive_baseline/laplace_abs_2048", |b| {
        b.iter(|| naive(black_box(&h), w, 128))
    });
    g.bench_function("qkit_pytorch_rules/laplace_abs_2048", |b| {
        b.iter(|| entropy_search(black_box(&h), w, 128, &EntropyOptions::PYTORCH_QUANTIZATION))
    });
    g.bench_function("qkit_canonical/ort_laplace_folded", |b| {
        b.iter(|| entropy_search(black_box(&folded), fw, 128, &EntropyOptions::CANONICAL))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
