//! Before/after comparison of qkit's kernels: the same criterion code built
//! against two checkouts by `tools/compare/run.sh` (feature `old`: the API of
//! 306b236, before the layer API of issue 14 and the operand order of
//! `dot_i8_narrow`). Every buffer is placed explicitly: `a64+0` on a cache
//! line, `a64+16` 16 bytes past one.
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qkit::kernel::{Isa, NarrowI8, PreparedI4};

// The benches' own helpers, copied beside this file by run.sh.
#[path = "common/clock.rs"]
mod clock_ref;
#[path = "common/data.rs"]
mod data_ref;
use clock_ref::spin;
use data_ref::{Placed, data};
use std::hint::black_box;

fn clock(c: &mut Criterion) {
    let mut g = c.benchmark_group("clock");
    g.throughput(Throughput::Elements(1 << 20));
    g.bench_function("cycles", |b| b.iter(|| spin(black_box(1 << 20))));
    g.finish();
}

fn isas() -> Vec<Isa> {
    [Isa::Sse2, Isa::Avx2, Isa::Avx512Vnni]
        .into_iter()
        .filter(|i| i.is_available())
        .collect()
}

#[cfg(feature = "old")]
fn dot_narrow(isa: Isa, w: NarrowI8<'_>, x: &[i8]) -> i32 {
    isa.dot_i8_narrow(x, w).unwrap()
}
#[cfg(not(feature = "old"))]
fn dot_narrow(isa: Isa, w: NarrowI8<'_>, x: &[i8]) -> i32 {
    isa.dot_i8_narrow(w, x).unwrap()
}

fn dot(c: &mut Criterion) {
    let mut g = c.benchmark_group("dot");
    for n in [64usize, 256, 1024, 4096] {
        g.throughput(Throughput::Elements(n as u64));
        for off in [0usize, 16] {
            let a = Placed::new(&data(n, 1, false), off);
            let b = Placed::new(&data(n, 2, true), off);
            let bn = NarrowI8::new(b.get()).unwrap();
            for isa in isas() {
                g.bench_function(format!("{n}/{isa:?}/full/a64+{off}"), |bch| {
                    bch.iter(|| isa.dot_i8(black_box(a.get()), black_box(b.get())).unwrap())
                });
                g.bench_function(format!("{n}/{isa:?}/narrow/a64+{off}"), |bch| {
                    bch.iter(|| dot_narrow(isa, black_box(bn), black_box(a.get())))
                });
            }
        }
    }
    g.finish();
}

fn gemv(c: &mut Criterion) {
    for (rows, cols) in [(64usize, 256usize), (512, 512), (4096, 4096)] {
        let mut g = c.benchmark_group(format!("gemv_{rows}x{cols}"));
        g.throughput(Throughput::Elements((rows * cols) as u64));
        let offs: &[usize] = if rows == 512 { &[0, 16] } else { &[0] };
        for &off in offs {
            let w = Placed::new(&data(rows * cols, 3, true), off);
            let wn = NarrowI8::new(w.get()).unwrap();
            let x = Placed::new(&data(cols, 4, false), off);
            let mut out = vec![0i32; rows];
            for isa in isas() {
                g.bench_function(format!("{isa:?}/full/a64+{off}"), |b| {
                    b.iter(|| {
                        isa.gemv_i8(black_box(w.get()), black_box(x.get()), &mut out)
                            .unwrap()
                    })
                });
                g.bench_function(format!("{isa:?}/narrow/a64+{off}"), |b| {
                    b.iter(|| {
                        isa.gemv_i8_narrow(black_box(wn), black_box(x.get()), &mut out)
                            .unwrap()
                    })
                });
            }
        }
        if rows == 4096 {
            let packed: Vec<u8> = data(rows * cols / 2, 5, false)
                .iter()
                .map(|&v| v as u8)
                .collect();
            let p = Placed::new(&packed, 0);
            let x = Placed::new(&data(cols, 4, false), 0);
            let mut buf = vec![0u8; PreparedI4::buffer_len(rows, cols).unwrap()];
            let prep = PreparedI4::new(p.get(), rows, cols, &mut buf).unwrap();
            let mut out = vec![0i32; rows];
            for isa in isas() {
                g.bench_function(format!("{isa:?}/int4/a64+0"), |b| {
                    b.iter(|| {
                        isa.gemv_i4_i8(black_box(p.get()), black_box(x.get()), &mut out)
                            .unwrap()
                    })
                });
                g.bench_function(format!("{isa:?}/int4_prepared/a64+0"), |b| {
                    b.iter(|| {
                        isa.gemv_i4_prepared(black_box(&prep), black_box(x.get()), &mut out)
                            .unwrap()
                    })
                });
            }
        }
        g.finish();
    }
}

/// 64 MiB of int8 weights, twice the L3: every pass streams from DRAM,
/// beside a plain read of the same bytes.
fn gemv_dram(c: &mut Criterion) {
    let (rows, cols) = (8192usize, 8192usize);
    let mut g = c.benchmark_group("gemv_8192x8192");
    g.sample_size(10);
    g.throughput(Throughput::Elements((rows * cols) as u64));
    let w = Placed::new(&data(rows * cols, 3, true), 0);
    let wn = NarrowI8::new(w.get()).unwrap();
    let x = Placed::new(&data(cols, 4, false), 0);
    let mut out = vec![0i32; rows];
    g.bench_function("read_baseline/a64+0", |b| {
        b.iter(|| {
            let (words, _) = black_box(w.get()).as_chunks::<8>();
            words.iter().fold(0u64, |a, v| {
                a.wrapping_add(u64::from_le_bytes(v.map(|b| b as u8)))
            })
        })
    });
    for isa in isas() {
        if isa == Isa::Sse2 {
            continue;
        }
        g.bench_function(format!("{isa:?}/full/a64+0"), |b| {
            b.iter(|| {
                isa.gemv_i8(black_box(w.get()), black_box(x.get()), &mut out)
                    .unwrap()
            })
        });
        g.bench_function(format!("{isa:?}/narrow/a64+0"), |b| {
            b.iter(|| {
                isa.gemv_i8_narrow(black_box(wn), black_box(x.get()), &mut out)
                    .unwrap()
            })
        });
    }
    g.finish();
}

fn gemm(c: &mut Criterion) {
    for (rows, cols, batch) in [(64usize, 576usize, 256usize), (512, 512, 8)] {
        let mut g = c.benchmark_group(format!("gemm_{rows}x{cols}_b{batch}"));
        g.throughput(Throughput::Elements((rows * cols * batch) as u64));
        let w = Placed::new(&data(rows * cols, 11, true), 0);
        let wn = NarrowI8::new(w.get()).unwrap();
        let x = Placed::new(&data(batch * cols, 12, false), 0);
        let mut out = vec![0i32; batch * rows];
        for isa in isas() {
            g.bench_function(format!("{isa:?}/full/a64+0"), |b| {
                b.iter(|| {
                    isa.gemm_i8(black_box(w.get()), black_box(x.get()), batch, &mut out)
                        .unwrap()
                })
            });
            g.bench_function(format!("{isa:?}/narrow/a64+0"), |b| {
                b.iter(|| {
                    isa.gemm_i8_narrow(black_box(wn), black_box(x.get()), batch, &mut out)
                        .unwrap()
                })
            });
        }
        g.finish();
    }
}

fn sums(c: &mut Criterion) {
    let (rows, cols) = (512usize, 512usize);
    let mut g = c.benchmark_group("sums_512x512");
    g.throughput(Throughput::Elements((rows * cols) as u64));
    let w = Placed::new(&data(rows * cols, 13, false), 0);
    let p: Vec<u8> = w.get()[..rows * cols / 2]
        .iter()
        .map(|&v| v as u8)
        .collect();
    let p = Placed::new(&p, 0);
    let mut out = vec![0i32; rows];
    g.bench_function("row_sums_i8/a64+0", |b| {
        b.iter(|| qkit::kernel::row_sums_i8(black_box(w.get()), cols, &mut out).unwrap())
    });
    g.bench_function("row_sums_i4/a64+0", |b| {
        b.iter(|| qkit::kernel::row_sums_i4(black_box(p.get()), cols, &mut out).unwrap())
    });
    g.bench_function("sum_i8/a64+0", |b| {
        b.iter(|| qkit::kernel::sum_i8(black_box(w.get())))
    });
    g.finish();
}

fn fc(c: &mut Criterion) {
    for (in_dim, out_dim) in [(256usize, 128usize), (1024, 1024)] {
        let w = data(out_dim * in_dim, 9, true);
        let x = data(in_dim, 10, false);
        let bias: Vec<i32> = (0..out_dim as i32).map(|i| i * 37 - 2000).collect();
        let scales: Vec<f32> = (0..out_dim).map(|i| 0.002 + i as f32 * 1e-5).collect();
        let mut ch = vec![qkit::layer::Channel::default(); out_dim];
        let mut out = vec![0i8; out_dim];
        let mut g = c.benchmark_group(format!("fc_1x{in_dim}_to_{out_dim}"));
        g.throughput(Throughput::Elements((in_dim * out_dim) as u64));
        #[cfg(feature = "old")]
        {
            use qkit::layer::{Activation, FullyConnected, Quantization, Requant};
            let q = Quantization {
                input_scale: 0.02,
                input_zero_point: -5,
                filter_scales: &scales,
                output_scale: 0.1,
                output_zero_point: 3,
                activation: Activation::None,
            };
            let layer =
                FullyConnected::new(&w, in_dim, Some(&bias), &q, Requant::Double, &mut ch).unwrap();
            g.bench_function("per_channel_double", |b| {
                b.iter(|| layer.run(black_box(&x), 1, &mut out).unwrap())
            });
        }
        #[cfg(not(feature = "old"))]
        {
            use qkit::layer::{
                Activation, FilterQuantizer, FullyConnected, Quantization, RequantMode,
            };
            use qkit::quant::Quantizer;
            let q = Quantization {
                input: Quantizer::new(0.02, -5).unwrap(),
                filter: FilterQuantizer::symmetric(&scales).unwrap(),
                output: Quantizer::new(0.1, 3).unwrap(),
                activation: Activation::None,
            };
            let layer =
                FullyConnected::new(&w, in_dim, Some(&bias), &q, RequantMode::Double, &mut ch)
                    .unwrap();
            g.bench_function("per_channel_double", |b| {
                b.iter(|| layer.run(black_box(&x), 1, &mut out).unwrap())
            });
        }
        let s: i64 = out.iter().map(|&v| v as i64).sum();
        eprintln!("fc {in_dim}->{out_dim} checksum {s}");
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_millis(1500)).sample_size(40);
    targets = clock, dot, gemv, gemv_dram, gemm, sums, fc
}
criterion_main!(benches);
