//! Kernel and layer throughput, each figure beside its baselines in the same
//! run. Throughput is in elements = multiply-accumulates (or bytes for the
//! plain-read baselines), so criterion's "elem/s" reads as MAC/s, and the
//! `clock/cycles` figure (a one-cycle dependent loop) is the cycles per
//! second of the same run: MAC/cycle = (kernel elem/s) / (clock elem/s).
//!
//! Every buffer is placed explicitly and its placement is in the benchmark
//! name: `a64` starts on a 64-byte cache line, `a64+16` starts 16 bytes past
//! one (where glibc's `malloc` puts a large `Vec` on x86_64 Linux).
//!
//! Run: `cargo bench --bench kernels -- --warm-up-time 1 --measurement-time 2`
//! (about ten minutes on two cores); one group: append its name, e.g. `dram`.
//! Best-of-N MAC/cycle report: `QKIT_BEST_OF=1 cargo bench --bench kernels`;
//! from DRAM beside a plain read, best of rounds: `QKIT_DRAM=1` (same command).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group};
use qkit::kernel::{Isa, NarrowI8, PreparedI4};
use qkit::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode,
};
use qkit::quant::Quantizer;

fn bytes(v: &[i8]) -> Vec<u8> {
    v.iter().map(|&b| b as u8).collect()
}

/// The two placements measured: on a line, and 16 bytes past one.
const PLACEMENTS: [(usize, &str); 2] = [(0, "a64"), (16, "a64+16")];

fn isas() -> Vec<Isa> {
    Isa::ALL.into_iter().filter(|i| i.is_available()).collect()
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

#[path = "common/clock.rs"]
mod clock_ref;
#[path = "common/data.rs"]
mod data_ref;
use clock_ref::{CLOCK_ITERS, spin};
use data_ref::{Placed, data};

fn clock(c: &mut Criterion) {
    let mut g = c.benchmark_group("clock");
    g.throughput(Throughput::Elements(CLOCK_ITERS));
    g.bench_function("cycles", |b| b.iter(|| spin(black_box(CLOCK_ITERS))));
    g.finish();
}

/// The clock measured inside a group, beside its kernels: on a shared
/// machine the share of the core changes from minute to minute.
fn group_clock(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
    g.throughput(Throughput::Elements(CLOCK_ITERS));
    g.bench_function("clock", |b| b.iter(|| spin(black_box(CLOCK_ITERS))));
}

fn dot(c: &mut Criterion) {
    let mut g = c.benchmark_group("dot");
    group_clock(&mut g);
    for n in [64usize, 256, 4096, 65536] {
        let a = data(n, 1, false);
        let b = data(n, 2, false);
        let w = data(n, 3, true);
        g.throughput(Throughput::Elements(n as u64));
        // Both operands share the placement (a misaligned `Vec` pair).
        for (offset, place) in PLACEMENTS {
            if offset != 0 && n < 4096 {
                continue;
            }
            let (a, b, w) = (
                Placed::new(&a, offset),
                Placed::new(&b, offset),
                Placed::new(&w, offset),
            );
            let wn = NarrowI8::new(w.get()).unwrap();
            for isa in isas() {
                g.bench_with_input(
                    BenchmarkId::new(format!("{isa:?}/full/{place}"), n),
                    &n,
                    |bch, _| {
                        bch.iter(|| isa.dot_i8(black_box(a.get()), black_box(b.get())).unwrap())
                    },
                );
                g.bench_with_input(
                    BenchmarkId::new(format!("{isa:?}/narrow/{place}"), n),
                    &n,
                    |bch, _| bch.iter(|| isa.dot_i8_narrow(wn, black_box(a.get())).unwrap()),
                );
            }
        }
    }
    // Packed int4 weights against int8 activations.
    let n = 4096;
    let x = Placed::new(&data(n, 4, false), 0);
    let p = Placed::new(&bytes(&data(n / 2, 5, false)), 0);
    g.throughput(Throughput::Elements(n as u64));
    for isa in isas() {
        g.bench_with_input(
            BenchmarkId::new(format!("{isa:?}/int4/a64"), n),
            &n,
            |bch, _| {
                bch.iter(|| {
                    isa.dot_i4_i8(black_box(p.get()), black_box(x.get()))
                        .unwrap()
                })
            },
        );
    }
    g.finish();
}

fn gemv_512(c: &mut Criterion) {
    let (rows, cols) = (512usize, 512usize);
    let w0 = data(rows * cols, 4, true);
    let x0 = data(cols, 5, false);
    let mut out = vec![0i32; rows];
    let mut g = c.benchmark_group("gemv_512x512");
    group_clock(&mut g);
    g.throughput(Throughput::Elements((rows * cols) as u64));
    for (offset, place) in PLACEMENTS {
        let (w, x) = (Placed::new(&w0, offset), Placed::new(&x0, offset));
        let wn = NarrowI8::new(w.get()).unwrap();
        for isa in isas() {
            g.bench_function(format!("{isa:?}/full/{place}"), |b| {
                b.iter(|| {
                    isa.gemv_i8(black_box(w.get()), black_box(x.get()), &mut out)
                        .unwrap()
                })
            });
            g.bench_function(format!("{isa:?}/narrow/{place}"), |b| {
                b.iter(|| {
                    isa.gemv_i8_narrow(black_box(wn), black_box(x.get()), &mut out)
                        .unwrap()
                })
            });
        }
    }
    g.finish();
}

/// GEMM shapes: a 3x3 convolution over 64 channels through im2col (256
/// output pixels, 64 filters of 576 taps) and a batch-8 fully connected layer.
fn gemm(c: &mut Criterion) {
    for (name, rows, cols, batch) in [
        ("gemm_conv_64x576_b256", 64usize, 576usize, 256usize),
        ("gemm_fc_512x512_b8", 512, 512, 8),
    ] {
        let w = Placed::new(&data(rows * cols, 11, true), 0);
        let wn = NarrowI8::new(w.get()).unwrap();
        let x = Placed::new(&data(batch * cols, 12, false), 0);
        let mut out = vec![0i32; batch * rows];
        let mut g = c.benchmark_group(name);
        group_clock(&mut g);
        g.throughput(Throughput::Elements((rows * cols * batch) as u64));
        for isa in isas() {
            g.bench_function(format!("{isa:?}/full/a64"), |b| {
                b.iter(|| {
                    isa.gemm_i8(black_box(w.get()), black_box(x.get()), batch, &mut out)
                        .unwrap()
                })
            });
            g.bench_function(format!("{isa:?}/narrow/a64"), |b| {
                b.iter(|| {
                    isa.gemm_i8_narrow(black_box(wn), black_box(x.get()), batch, &mut out)
                        .unwrap()
                })
            });
        }
        g.finish();
    }
}

/// Row sums (offset folding at load time) on the detected path.
fn sums(c: &mut Criterion) {
    let (rows, cols) = (512usize, 512usize);
    let w = Placed::new(&data(rows * cols, 13, false), 0);
    let p = Placed::new(&bytes(&data(rows * cols / 2, 14, false)), 0);
    let mut out = vec![0i32; rows];
    let mut g = c.benchmark_group("sums_512x512");
    group_clock(&mut g);
    g.throughput(Throughput::Elements((rows * cols) as u64));
    g.bench_function("row_sums_i8/a64", |b| {
        b.iter(|| qkit::kernel::row_sums_i8(black_box(w.get()), cols, &mut out).unwrap())
    });
    g.bench_function("row_sums_i4/a64", |b| {
        b.iter(|| qkit::kernel::row_sums_i4(black_box(p.get()), cols, &mut out).unwrap())
    });
    g.bench_function("sum_i8/a64", |b| {
        b.iter(|| qkit::kernel::sum_i8(black_box(w.get())))
    });
    g.finish();
}

/// The baseline for the memory-bound GEMVs: read every byte once, as fast as
/// the core can (a wide XOR reduction LLVM vectorizes).
fn plain_read(bytes: &[u8]) -> u64 {
    let lanes = bytes.chunks_exact(64).fold([0u64; 8], |mut acc, line| {
        for (a, c) in acc.iter_mut().zip(line.chunks_exact(8)) {
            *a ^= u64::from_le_bytes(c.try_into().unwrap());
        }
        acc
    });
    lanes.iter().fold(0, |a, &b| a ^ b)
}

/// 4096x4096: 16 MiB of int8 weights, cache-resident on a CPU with a big L3
/// (the 260 MiB L3 of the reference Xeon; not on a 32 MiB Zen 4).
fn gemv_4096(c: &mut Criterion) {
    let (rows, cols) = (4096usize, 4096usize);
    let w = Placed::new(&data(rows * cols, 6, true), 0);
    let wn = NarrowI8::new(w.get()).unwrap();
    let w_bytes = bytes(w.get());
    let packed = Placed::new(&bytes(&data(rows * cols / 2, 7, false)), 0);
    let mut buf = vec![0u8; PreparedI4::buffer_len(rows, cols).unwrap()];
    let prepared = PreparedI4::new(packed.get(), rows, cols, &mut buf).unwrap();
    let x = Placed::new(&data(cols, 8, false), 0);
    let mut out = vec![0i32; rows];
    let mut g = c.benchmark_group("gemv_4096x4096");
    group_clock(&mut g);
    g.sample_size(20);
    g.throughput(Throughput::Elements((rows * cols) as u64));
    g.bench_function("read_16MiB_baseline", |b| {
        b.iter(|| plain_read(black_box(&w_bytes)))
    });
    g.bench_function("read_8MiB_baseline", |b| {
        b.iter(|| plain_read(black_box(packed.get())))
    });
    for isa in fast_isas() {
        g.bench_function(format!("{isa:?}/int8_full/a64"), |b| {
            b.iter(|| {
                isa.gemv_i8(black_box(w.get()), black_box(x.get()), &mut out)
                    .unwrap()
            })
        });
        g.bench_function(format!("{isa:?}/int8_narrow/a64"), |b| {
            b.iter(|| {
                isa.gemv_i8_narrow(black_box(wn), black_box(x.get()), &mut out)
                    .unwrap()
            })
        });
        g.bench_function(format!("{isa:?}/int4/a64"), |b| {
            b.iter(|| {
                isa.gemv_i4_i8(black_box(packed.get()), black_box(x.get()), &mut out)
                    .unwrap()
            })
        });
        g.bench_function(format!("{isa:?}/int4_prepared/a64"), |b| {
            b.iter(|| {
                isa.gemv_i4_prepared(black_box(&prepared), black_box(x.get()), &mut out)
                    .unwrap()
            })
        });
    }
    g.finish();
}

/// Matrices rotated so that every pass comes from DRAM: `DRAM_MATRICES`
/// buffers of `DRAM_BYTES` each (1 GiB in all, four times the 260 MiB L3 of
/// the reference machine); each iteration reads the next one.
const DRAM_MATRICES: usize = 8;
const DRAM_BYTES: usize = 128 << 20;

/// The rotated DRAM matrices: the same bytes read as int8 `8192 x 16384`
/// (1 MAC per byte) and as packed int4 `8192 x 32768` (2 MACs per byte),
/// and the prepared int4 layout in buffers of its own.
struct Dram<'a> {
    raw: &'a [Placed<i8>],
    narrow: Vec<NarrowI8<'a>>,
    prepared: Vec<PreparedI4<'a>>,
    x8: Placed<i8>,
    x4: Placed<i8>,
}

const DRAM_ROWS: usize = 8192;

/// The raw matrices (all the same narrow bytes, in distinct buffers) and
/// room for their prepared layouts.
fn dram_buffers() -> (Vec<Placed<i8>>, Vec<Vec<u8>>) {
    let one = data(DRAM_BYTES, 15, true);
    let len = PreparedI4::buffer_len(DRAM_ROWS, 2 * DRAM_BYTES / DRAM_ROWS).unwrap();
    (
        (0..DRAM_MATRICES).map(|_| Placed::new(&one, 0)).collect(),
        (0..DRAM_MATRICES).map(|_| vec![0u8; len]).collect(),
    )
}

impl<'a> Dram<'a> {
    fn new(raw: &'a [Placed<i8>], bufs: &'a mut [Vec<u8>]) -> Self {
        let cols4 = 2 * DRAM_BYTES / DRAM_ROWS;
        Dram {
            raw,
            narrow: raw
                .iter()
                .map(|p| NarrowI8::new(p.get()).unwrap())
                .collect(),
            prepared: raw
                .iter()
                .zip(bufs)
                .map(|(p, b)| PreparedI4::new(as_u8(p.get()), DRAM_ROWS, cols4, b).unwrap())
                .collect(),
            x8: Placed::new(&data(cols4 / 2, 16, false), 0),
            x4: Placed::new(&data(cols4, 17, false), 0),
        }
    }

    fn read(&self, i: usize) -> u64 {
        plain_read(as_u8(self.raw[i].get()))
    }

    /// One GEMV of `kind` (see `DRAM_KINDS`) on matrix `i`.
    fn gemv(&self, isa: Isa, kind: usize, i: usize, out: &mut [i32]) {
        let (w, x8, x4) = (self.raw[i].get(), self.x8.get(), self.x4.get());
        match kind {
            0 => isa.gemv_i8(w, x8, out),
            1 => isa.gemv_i8_narrow(self.narrow[i], x8, out),
            2 => isa.gemv_i4_i8(as_u8(w), x4, out),
            _ => isa.gemv_i4_prepared(&self.prepared[i], x4, out),
        }
        .unwrap()
    }
}

/// The GEMVs timed from DRAM, and their MACs per matrix byte.
const DRAM_KINDS: [(&str, usize); 4] = [
    ("int8_full_8192x16384", 1),
    ("int8_narrow_8192x16384", 1),
    ("int4_8192x32768", 2),
    ("int4_prepared_8192x32768", 2),
];

/// Narrow int8 bytes double as packed int4 (any byte is two nibbles).
fn as_u8(s: &[i8]) -> &[u8] {
    // SAFETY: i8 and u8 have the same size and alignment.
    unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), s.len()) }
}

fn dram(c: &mut Criterion) {
    let (raw, mut bufs) = dram_buffers();
    let d = Dram::new(&raw, &mut bufs);
    let mut out = vec![0i32; DRAM_ROWS];
    let mut next = 0usize;
    let mut turn = || {
        next = (next + 1) % DRAM_MATRICES;
        next
    };
    let mut g = c.benchmark_group("dram_8x128MiB");
    group_clock(&mut g);
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.throughput(Throughput::Elements(DRAM_BYTES as u64));
    g.bench_function("read_baseline/a64", |b| b.iter(|| d.read(turn())));
    for isa in fast_isas() {
        for (kind, (name, per_byte)) in DRAM_KINDS.iter().enumerate() {
            g.throughput(Throughput::Elements((per_byte * DRAM_BYTES) as u64));
            g.bench_function(format!("{isa:?}/{name}/a64"), |b| {
                b.iter(|| d.gemv(isa, kind, turn(), &mut out))
            });
        }
    }
    g.finish();
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

/// `FullyConnected` `1 x in_dim -> out_dim` (int8, per-channel, double
/// rounding), best of `reps` runs, in MAC/cycle at clock `clk`.
fn fc_best(in_dim: usize, out_dim: usize, reps: usize, clk: f64) -> f64 {
    let w = data(out_dim * in_dim, 9, true);
    let x = data(in_dim, 10, false);
    let bias: Vec<i32> = (0..out_dim as i32).map(|i| i * 37 - 2000).collect();
    let scales: Vec<f32> = (0..out_dim).map(|i| 0.002 + i as f32 * 1e-5).collect();
    let q = Quantization {
        input: Quantizer::new(0.02, -5).unwrap(),
        filter: FilterQuantizer::symmetric(&scales).unwrap(),
        output: Quantizer::new(0.1, 3).unwrap(),
        activation: Activation::None,
    };
    let mut ch = vec![Channel::default(); out_dim];
    let layer =
        FullyConnected::new(&w, in_dim, Some(&bias), &q, RequantMode::Double, &mut ch).unwrap();
    let mut out = vec![0i8; out_dim];
    let t = best(reps, || layer.run(black_box(&x), 1, &mut out).unwrap());
    (in_dim * out_dim) as f64 / t / clk
}

fn fc(c: &mut Criterion) {
    let (out_dim, in_dim) = (128usize, 256usize);
    let w = data(out_dim * in_dim, 9, true);
    let x = data(in_dim, 10, false);
    let bias: Vec<i32> = (0..out_dim as i32).map(|i| i * 37 - 2000).collect();
    let q = Quantization {
        input: Quantizer::new(0.02, -5).unwrap(),
        filter: FilterQuantizer::symmetric(&[0.003]).unwrap(),
        output: Quantizer::new(0.1, 3).unwrap(),
        activation: Activation::None,
    };
    let mut ch = vec![Channel::default(); out_dim];
    let layer =
        FullyConnected::new(&w, in_dim, Some(&bias), &q, RequantMode::Double, &mut ch).unwrap();
    let m = qkit::requant::quantize_multiplier(
        qkit::requant::conv_real_multiplier(0.02, 0.003, 0.1).unwrap(),
    )
    .unwrap();
    let mut out = vec![0i8; out_dim];
    let mut g = c.benchmark_group("fc_1x256_to_128");
    group_clock(&mut g);
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

criterion_group!(
    benches, clock, dot, gemv_512, gemm, sums, gemv_4096, dram, fc
);

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
        for (offset, place) in PLACEMENTS {
            let a = Placed::new(&data(n, 1, false), offset);
            let b = Placed::new(&data(n, 2, false), offset);
            let w = Placed::new(&data(n, 3, true), offset);
            let wn = NarrowI8::new(w.get()).unwrap();
            let inner = (1 << 22) / n;
            let per = |t: f64| n as f64 / (t / inner as f64) / clk;
            let tf = best(50, || {
                for _ in 0..inner {
                    black_box(isa.dot_i8(black_box(a.get()), black_box(b.get())).unwrap());
                }
            });
            let tn = best(50, || {
                for _ in 0..inner {
                    black_box(
                        isa.dot_i8_narrow(black_box(wn), black_box(a.get()))
                            .unwrap(),
                    );
                }
            });
            println!(
                "dot n={n:6} {place:6}: full {:5.2}  narrow {:5.2} MAC/cycle",
                per(tf),
                per(tn)
            );
        }
    }
    for (name, rows, cols, batch) in [
        ("conv 64x576 b256", 64usize, 576usize, 256usize),
        ("fc 512x512 b8", 512, 512, 8),
    ] {
        let w = Placed::new(&data(rows * cols, 11, true), 0);
        let wn = NarrowI8::new(w.get()).unwrap();
        let x = Placed::new(&data(batch * cols, 12, false), 0);
        let mut out = vec![0i32; batch * rows];
        let m = (rows * cols * batch) as f64;
        for isa in isas() {
            let tf = best(100, || {
                isa.gemm_i8(w.get(), x.get(), batch, &mut out).unwrap()
            });
            let tn = best(100, || {
                isa.gemm_i8_narrow(wn, x.get(), batch, &mut out).unwrap()
            });
            println!(
                "gemm {name} {isa:?}: full {:5.2}  narrow {:5.2} MAC/cycle",
                m / tf / clk,
                m / tn / clk
            );
        }
    }
    {
        let (rows, cols) = (512usize, 512usize);
        let w = data(rows * cols, 13, false);
        let p = bytes(&data(rows * cols / 2, 14, false));
        let x = data(4096, 4, false);
        let mut out = vec![0i32; rows];
        let m = (rows * cols) as f64;
        let t8 = best(200, || {
            qkit::kernel::row_sums_i8(&w, cols, &mut out).unwrap()
        });
        let t4 = best(200, || {
            qkit::kernel::row_sums_i4(&p, cols, &mut out).unwrap()
        });
        let t4d = best(200, || {
            for _ in 0..64 {
                black_box(isa.dot_i4_i8(black_box(&p[..2048]), black_box(&x)).unwrap());
            }
        });
        println!(
            "row sums 512x512: int8 {:.2}  int4 {:.2} elements/cycle; dot_i4_i8 n=4096: {:.2} MAC/cycle",
            m / t8 / clk,
            m / t4 / clk,
            64.0 * 4096.0 / t4d / clk
        );
    }
    for (in_dim, out_dim, reps) in [(256usize, 128usize, 2000usize), (1024, 1024, 300)] {
        println!(
            "FullyConnected 1x{in_dim}->{out_dim} (per channel, double): {:.2} MAC/cycle",
            fc_best(in_dim, out_dim, reps, clk)
        );
    }
    for (rows, cols, reps) in [(512usize, 512usize, 400usize), (4096, 4096, 30)] {
        let w = Placed::new(&data(rows * cols, 4, true), 0);
        let wn = NarrowI8::new(w.get()).unwrap();
        let wb = bytes(w.get());
        let x = data(cols, 5, false);
        let packed = bytes(&data(rows * cols / 2, 6, false));
        let mut buf = vec![0u8; PreparedI4::buffer_len(rows, cols).unwrap()];
        let prepared = PreparedI4::new(&packed, rows, cols, &mut buf).unwrap();
        let mut out = vec![0i32; rows];
        let tr = best(reps, || {
            black_box(plain_read(black_box(&wb)));
        });
        for isa in fast_isas() {
            let tf = best(reps, || isa.gemv_i8(w.get(), &x, &mut out).unwrap());
            let tn = best(reps, || isa.gemv_i8_narrow(wn, &x, &mut out).unwrap());
            let t4 = best(reps, || isa.gemv_i4_i8(&packed, &x, &mut out).unwrap());
            let tp = best(reps, || {
                isa.gemv_i4_prepared(&prepared, &x, &mut out).unwrap()
            });
            let m = (rows * cols) as f64;
            println!(
                "gemv {rows}x{cols} a64 {isa:?}: full {:5.2}  narrow {:5.2}  int4 {:5.2}  int4 prepared {:5.2} MAC/cycle; read {:.1} GB/s",
                m / tf / clk,
                m / tn / clk,
                m / t4 / clk,
                m / tp / clk,
                m / tr / 1e9,
            );
        }
    }
}

/// From DRAM, best of `QKIT_DRAM_REPS` (default 6) rounds; each round
/// times, in turn, a plain read of all 8 matrices and each GEMV over all 8,
/// so every kernel is compared with a read measured beside it.
fn dram_report(clk: f64) {
    let (raw, mut bufs) = dram_buffers();
    let d = Dram::new(&raw, &mut bufs);
    let mut out = vec![0i32; DRAM_ROWS];
    let reps: usize = std::env::var("QKIT_DRAM_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let cases: Vec<(Isa, usize)> = fast_isas()
        .into_iter()
        .flat_map(|isa| (0..DRAM_KINDS.len()).map(move |k| (isa, k)))
        .collect();
    let mut read = f64::MAX;
    let mut best_t = vec![f64::MAX; cases.len()];
    for _ in 0..reps {
        for (c, &(isa, kind)) in cases.iter().enumerate() {
            read = read.min(best(1, || {
                (0..DRAM_MATRICES).for_each(|i| {
                    black_box(d.read(i));
                })
            }));
            best_t[c] = best_t[c].min(best(1, || {
                (0..DRAM_MATRICES).for_each(|i| d.gemv(isa, kind, i, &mut out))
            }));
        }
    }
    let bytes = (DRAM_MATRICES * DRAM_BYTES) as f64;
    println!(
        "DRAM, 8 x 128 MiB rotated (a64): plain read {:.2} GB/s = {:.2} bytes/cycle",
        bytes / read / 1e9,
        bytes / read / clk
    );
    for (c, &(isa, kind)) in cases.iter().enumerate() {
        let (name, per_byte) = DRAM_KINDS[kind];
        let t = best_t[c];
        println!(
            "   {isa:?} {name}: {:.2} MAC/cycle, {:.2} GB/s of weights = {:.2} of the read",
            bytes * per_byte as f64 / t / clk,
            bytes / t / 1e9,
            read / t
        );
    }
}

fn main() {
    if std::env::var_os("QKIT_BEST_OF").is_some() {
        best_of_report();
        return;
    }
    if std::env::var_os("QKIT_DRAM").is_some() {
        let clk = 1e6
            / best(300, || {
                black_box(spin(black_box(1_000_000)));
            });
        dram_report(clk);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
