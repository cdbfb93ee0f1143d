//! Q15 and Q31 elementwise multiply (and Q31 divide) over 4096-element slices: qkit's
//! saturating, rounding `*` against the `fixed` crate's `saturating_mul`
//! (which truncates rather than rounds: same work, different last bit) and
//! against plain `f32` multiplication, all in the same run.
//!
//! `cargo bench --bench fixed -- --warm-up-time 1 --measurement-time 4`

use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use fixed::types::{I1F15, I1F31};
use qkit::{Q15, Q31};

const N: usize = 4096;

/// Deterministic pseudo-random bits (xorshift64).
fn bits(n: usize, seed: u64) -> Vec<u64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        })
        .collect()
}

fn mul_slices<T: Copy>(a: &[T], b: &[T], out: &mut [T], f: impl Fn(T, T) -> T) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = f(x, y);
    }
}

fn bench_q15(c: &mut Criterion) {
    let (ra, rb) = (bits(N, 1), bits(N, 2));
    let qa: Vec<Q15> = ra.iter().map(|&r| Q15::from_bits(r as i16)).collect();
    let qb: Vec<Q15> = rb.iter().map(|&r| Q15::from_bits(r as i16)).collect();
    let fa: Vec<I1F15> = ra.iter().map(|&r| I1F15::from_bits(r as i16)).collect();
    let fb: Vec<I1F15> = rb.iter().map(|&r| I1F15::from_bits(r as i16)).collect();
    let xa: Vec<f32> = qa.iter().map(|q| q.to_f32()).collect();
    let xb: Vec<f32> = qb.iter().map(|q| q.to_f32()).collect();

    let mut g = c.benchmark_group("q15_mul_4096");
    g.throughput(Throughput::Elements(N as u64));
    let mut out = vec![Q15::ZERO; N];
    g.bench_function(BenchmarkId::new("qkit", "Q15 *"), |bch| {
        bch.iter(|| mul_slices(black_box(&qa), black_box(&qb), &mut out, |x, y| x * y))
    });
    let mut out = vec![I1F15::ZERO; N];
    g.bench_function(BenchmarkId::new("fixed", "I1F15::saturating_mul"), |bch| {
        bch.iter(|| {
            mul_slices(black_box(&fa), black_box(&fb), &mut out, |x, y| {
                x.saturating_mul(y)
            })
        })
    });
    let mut out = vec![0f32; N];
    g.bench_function(BenchmarkId::new("f32", "*"), |bch| {
        bch.iter(|| mul_slices(black_box(&xa), black_box(&xb), &mut out, |x, y| x * y))
    });
    g.finish();
}

fn bench_q31(c: &mut Criterion) {
    let (ra, rb) = (bits(N, 3), bits(N, 4));
    let qa: Vec<Q31> = ra.iter().map(|&r| Q31::from_bits(r as i32)).collect();
    let qb: Vec<Q31> = rb.iter().map(|&r| Q31::from_bits(r as i32)).collect();
    let fa: Vec<I1F31> = ra.iter().map(|&r| I1F31::from_bits(r as i32)).collect();
    let fb: Vec<I1F31> = rb.iter().map(|&r| I1F31::from_bits(r as i32)).collect();
    let xa: Vec<f32> = qa.iter().map(|q| q.to_f32()).collect();
    let xb: Vec<f32> = qb.iter().map(|q| q.to_f32()).collect();

    let mut g = c.benchmark_group("q31_mul_4096");
    g.throughput(Throughput::Elements(N as u64));
    let mut out = vec![Q31::ZERO; N];
    g.bench_function(BenchmarkId::new("qkit", "Q31 *"), |bch| {
        bch.iter(|| mul_slices(black_box(&qa), black_box(&qb), &mut out, |x, y| x * y))
    });
    let mut out = vec![I1F31::ZERO; N];
    g.bench_function(BenchmarkId::new("fixed", "I1F31::saturating_mul"), |bch| {
        bch.iter(|| {
            mul_slices(black_box(&fa), black_box(&fb), &mut out, |x, y| {
                x.saturating_mul(y)
            })
        })
    });
    let mut out = vec![0f32; N];
    g.bench_function(BenchmarkId::new("f32", "*"), |bch| {
        bch.iter(|| mul_slices(black_box(&xa), black_box(&xb), &mut out, |x, y| x * y))
    });
    g.finish();
}

/// Division: qkit's `(a << 31) / b` by two 32-bit divides (`divlu`), against
/// the `fixed` crate's `saturating_div` (a native 64-bit divide here) and
/// `f32`. Divisors are kept larger in magnitude than dividends so most
/// quotients are in range.
fn bench_q31_div(c: &mut Criterion) {
    let (ra, rb) = (bits(N, 5), bits(N, 6));
    let pairs: Vec<(i32, i32)> = ra
        .iter()
        .zip(&rb)
        .map(|(&x, &y)| {
            let (a, b) = ((x as i32) >> 1, y as i32);
            let b = if b.unsigned_abs() <= a.unsigned_abs() {
                b.signum().max(1) * i32::MAX
            } else {
                b
            };
            (a, b)
        })
        .collect();
    let qa: Vec<Q31> = pairs.iter().map(|p| Q31::from_bits(p.0)).collect();
    let qb: Vec<Q31> = pairs.iter().map(|p| Q31::from_bits(p.1)).collect();
    let fa: Vec<I1F31> = pairs.iter().map(|p| I1F31::from_bits(p.0)).collect();
    let fb: Vec<I1F31> = pairs.iter().map(|p| I1F31::from_bits(p.1)).collect();
    let xa: Vec<f32> = qa.iter().map(|q| q.to_f32()).collect();
    let xb: Vec<f32> = qb.iter().map(|q| q.to_f32()).collect();

    let mut g = c.benchmark_group("q31_div_4096");
    g.throughput(Throughput::Elements(N as u64));
    let mut out = vec![Q31::ZERO; N];
    g.bench_function(BenchmarkId::new("qkit", "Q31 /"), |bch| {
        bch.iter(|| mul_slices(black_box(&qa), black_box(&qb), &mut out, |x, y| x / y))
    });
    let mut out = vec![I1F31::ZERO; N];
    g.bench_function(BenchmarkId::new("fixed", "I1F31::saturating_div"), |bch| {
        bch.iter(|| {
            mul_slices(black_box(&fa), black_box(&fb), &mut out, |x, y| {
                x.saturating_div(y)
            })
        })
    });
    let mut out = vec![0f32; N];
    g.bench_function(BenchmarkId::new("f32", "/"), |bch| {
        bch.iter(|| mul_slices(black_box(&xa), black_box(&xb), &mut out, |x, y| x / y))
    });
    g.finish();
}

criterion_group!(benches, bench_q15, bench_q31, bench_q31_div);
criterion_main!(benches);
