//! Slice requantization, i32 -> i8: the dispatching `requantize` (AVX2 when
//! the CPU has it; run with `--features std` for runtime detection) against
//! the portable scalar loop `requantize_scalar`, in the same run.
//!
//! cargo bench --features std --bench requant -- --warm-up-time 1 --measurement-time 4

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use qkit::requant::{
    Multipliers, OutputStage, QuantizedMultiplier, Rounding, quantize_multiplier, requantize,
    requantize_scalar,
};

fn data(n: usize, seed: u64) -> Vec<i32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s as i32) >> 14 // typical int8 GEMM accumulators, about ±2^17
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    const CHANNELS: usize = 64;
    const ROWS: usize = 256;
    let n = CHANNELS * ROWS;
    let acc = data(n, 0x9E37_79B9_7F4A_7C15);
    let bias = data(CHANNELS, 7);
    let ms: Vec<QuantizedMultiplier> = (0..CHANNELS)
        .map(|c| quantize_multiplier(0.0007 + 0.00003 * c as f64).unwrap())
        .collect();
    let mut out = vec![0i8; n];

    for rounding in [Rounding::Double, Rounding::Single] {
        let mut g = c.benchmark_group(format!("requant_i32_to_i8_per_channel_{rounding:?}"));
        g.throughput(Throughput::Elements(n as u64));
        let stage = OutputStage {
            multipliers: Multipliers::PerChannel(&ms),
            rounding,
            zero_point: -3,
            act_min: -128,
            act_max: 127,
        };
        g.bench_function(BenchmarkId::new("scalar", n), |b| {
            b.iter(|| requantize_scalar(black_box(&acc), Some(&bias), &stage, &mut out).unwrap())
        });
        g.bench_function(BenchmarkId::new("dispatch (avx2)", n), |b| {
            b.iter(|| requantize(black_box(&acc), Some(&bias), &stage, &mut out).unwrap())
        });
        g.finish();
    }

    let mut g = c.benchmark_group("requant_i32_to_i8_per_tensor_Double");
    g.throughput(Throughput::Elements(n as u64));
    let stage = OutputStage {
        multipliers: Multipliers::PerTensor(ms[5]),
        rounding: Rounding::Double,
        zero_point: -3,
        act_min: -128,
        act_max: 127,
    };
    g.bench_function(BenchmarkId::new("scalar", n), |b| {
        b.iter(|| requantize_scalar(black_box(&acc), None, &stage, &mut out).unwrap())
    });
    g.bench_function(BenchmarkId::new("dispatch (avx2)", n), |b| {
        b.iter(|| requantize(black_box(&acc), None, &stage, &mut out).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
