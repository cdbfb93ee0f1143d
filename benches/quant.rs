//! f32 -> int8 quantization of 1 MiB of input (cache resident), beside its
//! baselines in the same run: a plain per-element loop (`round` + clamp,
//! what one writes first) and a bare copy of the same bytes; then 64 MiB
//! (streams from DRAM, past the 32 MiB L3) beside a copy of the same bytes,
//! to say whether large buffers quantize at memory speed.
//!
//! `cargo bench --bench quant -- --warm-up-time 1 --measurement-time 4`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qkit::Round;
use qkit::int4::{I4, packed_len};
use qkit::quant::ggml::{self, BlockQ8_0};
use qkit::quant::{QuantizeSlice, Quantizer};

const N: usize = 1 << 18; // 262144 f32 = 1 MiB

fn input() -> Vec<f32> {
    input_of(N)
}

fn input_of(n: usize) -> Vec<f32> {
    let mut s = 0x9e3779b97f4a7c15u64;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 40.0
        })
        .collect()
}

/// The loop one writes first: divide, `f32::round`, add, clamp, per element.
#[inline(never)]
fn plain_loop(x: &[f32], out: &mut [i8], scale: f32, zp: i32) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = ((v / scale).round() as i32 + zp).clamp(-128, 127) as i8;
    }
}

fn bench(c: &mut Criterion) {
    let x = input();
    let q = Quantizer::<i8>::new(0.0625, -3).unwrap();
    let mut out = vec![0i8; N];
    let mut g = c.benchmark_group("quantize_f32_to_i8_1MiB");
    g.throughput(Throughput::Bytes((N * 4) as u64));
    g.bench_function("baseline_plain_loop", |b| {
        b.iter(|| plain_loop(black_box(&x), &mut out, black_box(0.0625), black_box(-3)))
    });
    let mut copy = vec![0f32; N];
    g.bench_function("baseline_copy_1MiB", |b| {
        b.iter(|| copy.copy_from_slice(black_box(&x)))
    });
    g.bench_function("qkit_half_to_even", |b| {
        b.iter(|| {
            q.quantize_slice(black_box(&x), &mut out, Round::HalfToEven)
                .unwrap()
        })
    });
    g.bench_function("qkit_half_away_from_zero", |b| {
        b.iter(|| {
            q.quantize_slice(black_box(&x), &mut out, Round::HalfAwayFromZero)
                .unwrap()
        })
    });
    let q4 = Quantizer::<I4>::new(1.0, 0).unwrap();
    let mut packed = vec![0u8; packed_len(N)];
    g.bench_function("qkit_int4_packed", |b| {
        b.iter(|| {
            q4.quantize_packed(black_box(&x), &mut packed, Round::HalfToEven)
                .unwrap()
        })
    });
    let mut blocks = vec![BlockQ8_0::ZERO; N / 32];
    g.bench_function("qkit_ggml_q8_0", |b| {
        b.iter(|| ggml::quantize_row_q8_0(black_box(&x), &mut blocks).unwrap())
    });
    g.finish();
}

const BIG: usize = 16 << 20; // 16 Mi f32 = 64 MiB

fn bench_dram(c: &mut Criterion) {
    let x = input_of(BIG);
    let q = Quantizer::<i8>::new(0.0625, -3).unwrap();
    let mut out = vec![0i8; BIG];
    let mut copy = vec![0f32; BIG];
    let mut g = c.benchmark_group("quantize_f32_to_i8_64MiB");
    g.sample_size(10);
    g.throughput(Throughput::Bytes((BIG * 4) as u64));
    g.bench_function("baseline_copy_64MiB", |b| {
        b.iter(|| copy.copy_from_slice(black_box(&x)))
    });
    g.bench_function("qkit_half_to_even", |b| {
        b.iter(|| {
            q.quantize_slice(black_box(&x), &mut out, Round::HalfToEven)
                .unwrap()
        })
    });
    g.bench_function("qkit_half_away_from_zero", |b| {
        b.iter(|| {
            q.quantize_slice(black_box(&x), &mut out, Round::HalfAwayFromZero)
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench, bench_dram);
criterion_main!(benches);
