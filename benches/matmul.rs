//! ONNX Runtime's QLinearMatMul (u8 activations x i8 weights -> u8): qkit's
//! `QLinearMatMul` (B transposed once, the kernel layer's GEMV per row)
//! against the plain triple loop with the same f32 output stage, in the same
//! run, and against the bare kernel (`kernel::gemv_i8` on an int8 `[N][K]`
//! matrix of the same size, per row of A: the floor the layer builds on).
//! M = 1 (a GEMV, the batch-1 inference case) and M = 16.
//!
//! cargo bench --bench matmul -- --warm-up-time 1 --measurement-time 4

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use qkit::kernel::gemv_i8;
use qkit::layer::{MatMulColumn, MatMulQuantization, QLinearMatMul, ort_output_scale};
use qkit::quant::Quantizer;
use qkit::requant::requantize_f32;

fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 32) as u8
        })
        .collect()
}

/// The baseline: the reference loop over B `[K][N]` as ONNX stores it.
#[allow(clippy::too_many_arguments)]
fn naive(
    a: &[u8],
    b: &[i8],
    m: usize,
    k: usize,
    n: usize,
    q: &MatMulQuantization<'_, u8, i8, u8>,
    y: &mut [u8],
) {
    let s = ort_output_scale(q.a.scale(), q.b.scale(0).unwrap(), q.y.scale()).unwrap();
    let (za, zb) = (q.a.zero_point(), q.b.zero_point(0).unwrap());
    for r in 0..m {
        for j in 0..n {
            let mut acc = 0i32;
            for i in 0..k {
                acc += (i32::from(a[r * k + i]) - za) * (i32::from(b[i * n + j]) - zb);
            }
            y[r * n + j] = requantize_f32(acc, s, q.y.zero_point(), 0, 255).unwrap() as u8;
        }
    }
}

fn bench(c: &mut Criterion) {
    let q = MatMulQuantization {
        a: Quantizer::<u8>::new(0.02, 131).unwrap(),
        b: Quantizer::<i8>::new(0.003, 0).unwrap().into(),
        y: Quantizer::<u8>::new(0.9, 120).unwrap(),
    };
    for (m, k, n) in [(1, 1024, 1024), (16, 512, 512)] {
        let a = bytes(m * k, 1);
        let b: Vec<i8> = bytes(k * n, 2).into_iter().map(|v| v as i8).collect();
        let mut bt = vec![0i8; k * n];
        let mut cols = vec![MatMulColumn::default(); n];
        let mm = QLinearMatMul::<u8, u8>::new(&b, k, &q, &mut bt, &mut cols).unwrap();
        let (mut y0, mut y1) = (vec![0u8; m * n], vec![0u8; m * n]);
        naive(&a, &b, m, k, n, &q, &mut y0);
        mm.run(&a, m, &mut y1).unwrap();
        assert_eq!(y0, y1);
        let mut g = c.benchmark_group(format!("qlinearmatmul_u8i8_{m}x{k}x{n}"));
        g.throughput(Throughput::Elements((m * k * n) as u64)); // MACs
        g.bench_function(BenchmarkId::new("naive_loop", ""), |bch| {
            bch.iter(|| naive(black_box(&a), &b, m, k, n, &q, &mut y0))
        });
        g.bench_function(BenchmarkId::new("qkit", ""), |bch| {
            bch.iter(|| mm.run(black_box(&a), m, &mut y1).unwrap())
        });
        let a8: Vec<i8> = a.iter().map(|&v| (v ^ 0x80) as i8).collect();
        let mut acc = vec![0i32; n];
        g.bench_function(BenchmarkId::new("kernel_gemv_i8_only", ""), |bch| {
            bch.iter(|| {
                for row in a8.chunks_exact(k) {
                    gemv_i8(black_box(&b), row, &mut acc).unwrap();
                }
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
