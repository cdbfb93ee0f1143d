//! Kernel and layer throughput, each figure beside its baselines in the same
//! run. Throughput is in elements = multiply-accumulates (or bytes for the
//! plain-read baseline), so criterion's "elem/s" reads as MAC/s.
//!
//! Run: `cargo bench --bench kernels -- --warm-up-time 1 --measurement-time 3`
//! Best-of-N MAC/cycle report: `QKIT_BEST_OF=1 cargo bench --bench kernels`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use qkit::kernel::{Isa, NarrowI8};
use qkit::layer::{Activation, Channel, FullyConnected, Quantization, Requant};

fn data(n: usize, seed: u64, narrow: bool) -> Vec<i8> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let v = (s >> 56) as i8;
            if narrow { v.max(-127) } else { v }
        })
        .collect()
}

fn isas() -> Vec<Isa> {
    Isa::ALL.into_iter().filter(|i| i.is_available()).collect()
}

/// The clock reference: a loop of `CLOCK_ITERS` dependent one-cycle
/// `sub`/`jnz` iterations, so its "elem/s" is the effective cycles per
/// second of this run (on a shared machine, the share of the core we got).
/// MAC/cycle = (MAC/s of a kernel) / (elem/s of this loop), same run.
const CLOCK_ITERS: u64 = 1 << 20;

#[cfg(target_arch = "x86_64")]
fn spin(n: u64) -> u64 {
    let mut n = n;
    // SAFETY: a register-only countdown loop; touches no memory.
    unsafe {
        core::arch::asm!("2:", "sub {0}, 1", "jnz 2b", inout(reg) n, options(nomem, nostack))
    };
    n
}

#[cfg(not(target_arch = "x86_64"))]
fn spin(n: u64) -> u64 {
    (0..n).fold(0, |a, i| black_box(a ^ i))
}

fn clock(c: &mut Criterion) {
    let mut g = c.benchmark_group("clock");
    g.throughput(Throughput::Elements(CLOCK_ITERS));
    g.bench_function("cycles", |b| b.iter(|| spin(black_box(CLOCK_ITERS))));
    g.finish();
}

fn dot(c: &mut Criterion) {
    let mut g = c.benchmark_group("dot");
    for n in [64usize, 256, 4096, 65536] {
        let a = data(n, 1, false);
        let b = data(n, 2, false);
        let w = data(n, 3, true);
        let w = NarrowI8::new(&w).unwrap();
        g.throughput(Throughput::Elements(n as u64));
        for isa in isas() {
            g.bench_with_input(
                BenchmarkId::new(format!("{isa:?}/full"), n),
                &n,
                |bch, _| bch.iter(|| isa.dot_i8(black_box(&a), black_box(&b)).unwrap()),
            );
            g.bench_with_input(
                BenchmarkId::new(format!("{isa:?}/narrow"), n),
                &n,
                |bch, _| bch.iter(|| isa.dot_i8_narrow(black_box(&a), black_box(w)).unwrap()),
            );
        }
    }
    g.finish();
}

fn gemv_512(c: &mut Criterion) {
    let (rows, cols) = (512usize, 512usize);
    let w = data(rows * cols, 4, true);
    let wn = NarrowI8::new(&w).unwrap();
    let x = data(cols, 5, false);
    let mut out = vec![0i32; rows];
    let mut g = c.benchmark_group("gemv_512x512");
    g.throughput(Throughput::Elements((rows * cols) as u64));
    for isa in isas() {
        g.bench_function(format!("{isa:?}/full"), |b| {
            b.iter(|| isa.gemv_i8(black_box(&w), black_box(&x), &mut out).unwrap())
        });
        g.bench_function(format!("{isa:?}/narrow"), |b| {
            b.iter(|| {
                isa.gemv_i8_narrow(black_box(wn), black_box(&x), &mut out)
                    .unwrap()
            })
        });
    }
    g.finish();
}

/// The baseline for the DRAM-bound GEMVs: read every byte once, as fast as
/// the core can (a wide XOR reduction LLVM vectorizes).
fn plain_read(bytes: &[u8]) -> u64 {
    // Eight independent u64 lanes per 64-byte line: two 32-byte vector loads
    // per line after LLVM vectorizes the XOR.
    let lanes = bytes.chunks_exact(64).fold([0u64; 8], |mut acc, line| {
        for (a, c) in acc.iter_mut().zip(line.chunks_exact(8)) {
            *a ^= u64::from_le_bytes(c.try_into().unwrap());
        }
        acc
    });
    lanes.iter().fold(0, |a, &b| a ^ b)
}

/// The wide x86 paths worth timing on big matrices (AVX2 and, where the
/// CPU has it, AVX-512 VNNI); the detected one elsewhere.
fn fast_isas() -> Vec<Isa> {
    let fast: Vec<Isa> = [Isa::Avx2, Isa::Avx512Vnni]
        .into_iter()
        .filter(|i| i.is_available())
        .collect();
    if fast.is_empty() {
        vec![Isa::detect()]
    } else {
        fast
    }
}

/// A `rows x cols` GEMV on every fast path, int8 (full and narrow) beside a
/// plain read of the same int8 bytes, int4 (packed and prepared) beside a
/// plain read of the same packed bytes, all in one criterion group.
fn big_gemv(c: &mut Criterion, rows: usize, cols: usize, samples: usize, generic_int4: bool) {
    let w = data(rows * cols, 6, true);
    let wn = NarrowI8::new(&w).unwrap();
    let w_bytes: Vec<u8> = w.iter().map(|&v| v as u8).collect();
    let packed: Vec<u8> = data(rows * cols / 2, 7, false)
        .iter()
        .map(|&v| v as u8)
        .collect();
    let mut buf = vec![0u8; qkit::kernel::PreparedI4::buffer_len(rows, cols).unwrap()];
    let prepared = qkit::kernel::PreparedI4::new(&packed, rows, cols, &mut buf).unwrap();
    let x = data(cols, 8, false);
    let mut out = vec![0i32; rows];
    let mib = |b: usize| b >> 20;
    let mut g = c.benchmark_group(format!("gemv_{rows}x{cols}"));
    g.sample_size(samples);
    g.throughput(Throughput::Elements((rows * cols) as u64));
    g.bench_function(format!("read_{}MiB_baseline", mib(w_bytes.len())), |b| {
        b.iter(|| plain_read(black_box(&w_bytes)))
    });
    g.bench_function(format!("read_{}MiB_baseline", mib(packed.len())), |b| {
        b.iter(|| plain_read(black_box(&packed)))
    });
    for isa in fast_isas() {
        g.bench_function(format!("{isa:?}/int8_full"), |b| {
            b.iter(|| isa.gemv_i8(black_box(&w), black_box(&x), &mut out).unwrap())
        });
        g.bench_function(format!("{isa:?}/int8_narrow"), |b| {
            b.iter(|| {
                isa.gemv_i8_narrow(black_box(wn), black_box(&x), &mut out)
                    .unwrap()
            })
        });
        g.bench_function(format!("{isa:?}/int4"), |b| {
            b.iter(|| {
                isa.gemv_i4_i8(black_box(&packed), black_box(&x), &mut out)
                    .unwrap()
            })
        });
        g.bench_function(format!("{isa:?}/int4_prepared"), |b| {
            b.iter(|| {
                isa.gemv_i4_prepared(black_box(&prepared), black_box(&x), &mut out)
                    .unwrap()
            })
        });
    }
    if generic_int4 {
        g.bench_function("Generic/int4", |b| {
            b.iter(|| {
                Isa::Generic
                    .gemv_i4_i8(black_box(&packed), black_box(&x), &mut out)
                    .unwrap()
            })
        });
    }
    g.finish();
}

/// 16 MiB of int8 weights: on a CPU with a 32 MiB L3 this stays in cache.
fn gemv_4096(c: &mut Criterion) {
    big_gemv(c, 4096, 4096, 20, true);
}

/// 64 MiB of int8 (32 MiB of int4) weights: larger than a 32 MiB L3, so
/// every pass streams from DRAM, and so does its plain-read baseline.
fn gemv_8192(c: &mut Criterion) {
    big_gemv(c, 8192, 8192, 10, false);
}

/// TFLite's reference FULLY_CONNECTED loop (offsets per MAC, i64-free), the
/// baseline for the layer.
fn reference_fc(
    w: &[i8],
    x: &[i8],
    bias: &[i32],
    out: &mut [i8],
    zp_in: i32,
    m: qkit::requant::QuantizedMultiplier,
) {
    let cols = x.len();
    for (o, y) in out.iter_mut().enumerate() {
        let mut acc = bias[o];
        for k in 0..cols {
            acc = acc.wrapping_add((i32::from(x[k]) - zp_in) * i32::from(w[o * cols + k]));
        }
        let v = qkit::requant::multiply_by_quantized_multiplier(
            acc,
            m,
            qkit::requant::Rounding::Double,
        );
        *y = (v + 3).clamp(-128, 127) as i8;
    }
}

fn fc(c: &mut Criterion) {
    let (out_dim, in_dim) = (128usize, 256usize);
    let w = data(out_dim * in_dim, 9, true);
    let x = data(in_dim, 10, false);
    let bias: Vec<i32> = (0..out_dim as i32).map(|i| i * 37 - 2000).collect();
    let q = Quantization {
        input_scale: 0.02,
        input_zero_point: -5,
        filter_scales: &[0.003],
        output_scale: 0.1,
        output_zero_point: 3,
        activation: Activation::None,
    };
    let mut ch = vec![Channel::default(); out_dim];
    let layer = FullyConnected::new(&w, in_dim, Some(&bias), &q, Requant::Double, &mut ch).unwrap();
    let m = qkit::requant::quantize_multiplier(
        qkit::requant::conv_real_multiplier(0.02, 0.003, 0.1).unwrap(),
    )
    .unwrap();
    let mut out = vec![0i8; out_dim];
    let mut g = c.benchmark_group("fc_1x256_to_128");
    g.throughput(Throughput::Elements((out_dim * in_dim) as u64));
    g.bench_function("qkit_layer", |b| {
        b.iter(|| layer.run(black_box(&x), 1, &mut out).unwrap())
    });
    let mut out_ref = vec![0i8; out_dim];
    g.bench_function("reference_loop", |b| {
        b.iter(|| reference_fc(black_box(&w), black_box(&x), &bias, &mut out_ref, -5, m))
    });
    g.finish();
    layer.run(&x, 1, &mut out).unwrap();
    reference_fc(&w, &x, &bias, &mut out_ref, -5, m);
    assert_eq!(
        out, out_ref,
        "the benchmarked layer computes the reference's integers"
    );
}

criterion_group!(benches, clock, dot, gemv_512, gemv_4096, gemv_8192, fc);

/// Best-of-N timing: on a shared machine the minimum over many repetitions
/// approximates an uncontended core, which is what MAC/cycle is about. The
/// clock is the same minimum over the one-cycle `spin` loop.
fn best<F: FnMut()>(reps: usize, mut f: F) -> f64 {
    let mut b = f64::MAX;
    for _ in 0..reps {
        let t = std::time::Instant::now();
        f();
        b = b.min(t.elapsed().as_secs_f64());
    }
    b
}

fn best_of_report() {
    let clk = 1e6
        / best(300, || {
            black_box(spin(black_box(1_000_000)));
        });
    println!("clock (best of 300 one-cycle loops): {:.2} GHz", clk / 1e9);
    let isa = Isa::detect();
    println!("isa: {isa:?}");
    for n in [64usize, 256, 4096, 65536] {
        let a = data(n, 1, false);
        let b = data(n, 2, false);
        let w = data(n, 3, true);
        let wn = NarrowI8::new(&w).unwrap();
        let inner = (1 << 22) / n;
        let per = |t: f64| n as f64 / (t / inner as f64) / clk;
        let tg = best(20, || {
            for _ in 0..inner / 8 {
                black_box(Isa::Generic.dot_i8(black_box(&a), black_box(&b)).unwrap());
            }
        }) * 8.0;
        let tf = best(50, || {
            for _ in 0..inner {
                black_box(isa.dot_i8(black_box(&a), black_box(&b)).unwrap());
            }
        });
        let tn = best(50, || {
            for _ in 0..inner {
                black_box(isa.dot_i8_narrow(black_box(&a), black_box(wn)).unwrap());
            }
        });
        println!(
            "dot n={n:6}: generic {:5.2}  full {:5.2}  narrow {:5.2} MAC/cycle",
            per(tg),
            per(tf),
            per(tn)
        );
    }
    for (rows, cols, reps) in [
        (512usize, 512usize, 400usize),
        (4096, 4096, 30),
        (8192, 8192, 8),
    ] {
        let w = data(rows * cols, 4, true);
        let wn = NarrowI8::new(&w).unwrap();
        let wb: Vec<u8> = w.iter().map(|&v| v as u8).collect();
        let x = data(cols, 5, false);
        let packed: Vec<u8> = data(rows * cols / 2, 6, false)
            .iter()
            .map(|&v| v as u8)
            .collect();
        let mut buf = vec![0u8; qkit::kernel::PreparedI4::buffer_len(rows, cols).unwrap()];
        let prepared = qkit::kernel::PreparedI4::new(&packed, rows, cols, &mut buf).unwrap();
        let mut out = vec![0i32; rows];
        let tr = best(reps, || {
            black_box(plain_read(black_box(&wb)));
        });
        for isa in fast_isas() {
            let tf = best(reps, || isa.gemv_i8(black_box(&w), &x, &mut out).unwrap());
            let tn = best(reps, || {
                isa.gemv_i8_narrow(black_box(wn), &x, &mut out).unwrap()
            });
            let t4 = best(reps, || {
                isa.gemv_i4_i8(black_box(&packed), &x, &mut out).unwrap()
            });
            let tp = best(reps, || {
                isa.gemv_i4_prepared(black_box(&prepared), &x, &mut out)
                    .unwrap()
            });
            let m = (rows * cols) as f64;
            println!(
                "gemv {rows}x{cols} {isa:?}: full {:5.2}  narrow {:5.2}  int4 {:5.2}  int4 prepared {:5.2} MAC/cycle",
                m / tf / clk,
                m / tn / clk,
                m / t4 / clk,
                m / tp / clk
            );
            println!(
                "   plain read {:.1} GB/s; narrow GEMV reads {:.1} GB/s ({:.2} of it); int4/int8 speed {:.2} (packed) {:.2} (prepared)",
                m / tr / 1e9,
                m / tn / 1e9,
                tr / tn,
                tn / t4,
                tn / tp
            );
        }
    }
}

fn main() {
    if std::env::var_os("QKIT_BEST_OF").is_some() {
        best_of_report();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
