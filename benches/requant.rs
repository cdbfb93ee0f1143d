//! The output stage: slice requantization of 16384 `i32` accumulators to
//! `i8` (64 channels × 256 rows), per channel and per tensor, in the double,
//! single and `f32` modes, on every available path (the portable one is the
//! baseline, in the same run); and `FullyConnected::run` (int8, per-channel
//! scales, double rounding) whose output stage it is.
//!
//! cargo bench --features std --bench requant -- --warm-up-time 1 --measurement-time 4

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use qkit::kernel::{Isa, Multipliers, OutputStage, Scaling};
use qkit::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode,
};
use qkit::quant::Quantizer;
use qkit::requant::{QuantizedMultiplier, quantize_multiplier};

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

fn slices(c: &mut Criterion) {
    const CHANNELS: usize = 64;
    const ROWS: usize = 256;
    let n = CHANNELS * ROWS;
    let acc = data(n, 0x9E37_79B9_7F4A_7C15);
    let bias = data(CHANNELS, 7);
    let reals: Vec<f64> = (0..CHANNELS).map(|c| 0.0007 + 0.00003 * c as f64).collect();
    let ms: Vec<QuantizedMultiplier> = reals
        .iter()
        .map(|&r| quantize_multiplier(r).unwrap())
        .collect();
    let scales: Vec<f32> = reals.iter().map(|&r| r as f32).collect();
    let mut out = vec![0i8; n];
    let per_channel = [
        ("Double", Scaling::Double(Multipliers::PerChannel(&ms))),
        ("Single", Scaling::Single(Multipliers::PerChannel(&ms))),
        (
            "Float32",
            Scaling::Float32(Multipliers::PerChannel(&scales)),
        ),
    ];
    let per_tensor = [
        ("Double", Scaling::Double(Multipliers::PerTensor(ms[5]))),
        ("Single", Scaling::Single(Multipliers::PerTensor(ms[5]))),
        (
            "Float32",
            Scaling::Float32(Multipliers::PerTensor(scales[5])),
        ),
    ];
    for (layout, modes, bias) in [
        ("per_channel", per_channel, Some(&bias[..])),
        ("per_tensor", per_tensor, None),
    ] {
        for (name, scaling) in modes {
            let mut g = c.benchmark_group(format!("requant_16384_i8_{layout}_{name}"));
            g.throughput(Throughput::Elements(n as u64));
            let stage = OutputStage::new::<i8>(scaling).with_zero_point(-3);
            for isa in [Isa::Generic, Isa::Avx2, Isa::Avx512Vnni] {
                if !isa.is_available() {
                    continue;
                }
                g.bench_function(BenchmarkId::new(format!("{isa:?}"), n), |b| {
                    b.iter(|| {
                        isa.requantize(black_box(&acc), bias, &stage, &mut out)
                            .unwrap()
                    })
                });
            }
            g.finish();
        }
    }
}

/// A per-channel int8 FC with narrow-range weights (no -128, as TFLite's
/// are), bias, RELU; `batch` rows.
fn fully_connected(c: &mut Criterion) {
    for (in_dim, out_dim) in [(256, 128), (1024, 1024)] {
        let w: Vec<i8> = data(in_dim * out_dim, 3)
            .iter()
            .map(|&v| (v % 127) as i8)
            .collect();
        let x: Vec<i8> = data(in_dim, 5).iter().map(|&v| v as i8).collect();
        let bias = data(out_dim, 11);
        let scales: Vec<f32> = (0..out_dim).map(|o| 0.002 + 0.00001 * o as f32).collect();
        let q = Quantization {
            input: Quantizer::new(0.02, -3).unwrap(),
            filter: FilterQuantizer::symmetric(&scales).unwrap(),
            output: Quantizer::new(0.05, 5).unwrap(),
            activation: Activation::Relu,
        };
        let mut ch = vec![Channel::default(); out_dim];
        let fc =
            FullyConnected::new(&w, in_dim, Some(&bias), &q, RequantMode::Double, &mut ch).unwrap();
        let mut out = vec![0i8; out_dim];
        let mut g = c.benchmark_group("fc_int8_per_channel_double");
        g.throughput(Throughput::Elements((in_dim * out_dim) as u64));
        g.bench_function(
            BenchmarkId::new("run", format!("1x{in_dim}->{out_dim}")),
            |b| b.iter(|| fc.run(black_box(&x), 1, &mut out).unwrap()),
        );
        g.finish();
    }
}

criterion_group!(benches, slices, fully_connected);
criterion_main!(benches);
