//! SSE2 kernels: the x86_64 baseline, always available.
//!
//! SSE2 has neither `pmovsxbw` (SSE4.1) nor `pmaddubsw`/`psignb` (SSSE3), so
//! both operands are sign-extended by unpacking each byte with itself and
//! shifting right arithmetically by 8, then multiplied pairwise with
//! `pmaddwd`. That is exact for the full int8 range, so the narrow-range
//! entry points use the same code on this ISA.

use core::arch::x86_64::*;

use super::as_chunks;
use crate::kernel::generic;

/// Loads 16 bytes (unaligned).
#[inline]
#[target_feature(enable = "sse2")]
fn load16(p: &[i8; 16]) -> __m128i {
    // SAFETY: `p` refers to 16 readable bytes; `loadu` has no alignment
    // requirement.
    unsafe { _mm_loadu_si128(p.as_ptr().cast()) }
}

/// The 16 bytes of `v` sign-extended to two vectors of eight i16.
#[inline]
#[target_feature(enable = "sse2")]
fn widen(v: __m128i) -> (__m128i, __m128i) {
    (
        _mm_srai_epi16::<8>(_mm_unpacklo_epi8(v, v)),
        _mm_srai_epi16::<8>(_mm_unpackhi_epi8(v, v)),
    )
}

/// Four i32 partial sums of `x·w` over 16 bytes.
#[inline]
#[target_feature(enable = "sse2")]
fn madd16(x: (__m128i, __m128i), w: __m128i) -> __m128i {
    let (wl, wh) = widen(w);
    _mm_add_epi32(_mm_madd_epi16(x.0, wl), _mm_madd_epi16(x.1, wh))
}

/// Horizontal sum of four i32 lanes (wrapping).
#[inline]
#[target_feature(enable = "sse2")]
fn hsum(v: __m128i) -> i32 {
    let s = _mm_add_epi32(v, _mm_shuffle_epi32::<0b01_00_11_10>(v));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
    _mm_cvtsi128_si32(s)
}

/// Full-range `Σ a·b`, two accumulators over 32-byte steps.
#[target_feature(enable = "sse2")]
pub(super) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let (a32, a_rest) = as_chunks::<32, _>(a);
    let (b32, b_rest) = as_chunks::<32, _>(b);
    let mut acc0 = _mm_setzero_si128();
    let mut acc1 = _mm_setzero_si128();
    for (x, y) in a32.iter().zip(b32) {
        let (x, _) = as_chunks::<16, _>(x);
        let (y, _) = as_chunks::<16, _>(y);
        acc0 = _mm_add_epi32(acc0, madd16(widen(load16(&x[0])), load16(&y[0])));
        acc1 = _mm_add_epi32(acc1, madd16(widen(load16(&x[1])), load16(&y[1])));
    }
    let (a16, a_tail) = as_chunks::<16, _>(a_rest);
    let (b16, b_tail) = as_chunks::<16, _>(b_rest);
    for (x, y) in a16.iter().zip(b16) {
        acc0 = _mm_add_epi32(acc0, madd16(widen(load16(x)), load16(y)));
    }
    hsum(_mm_add_epi32(acc0, acc1)).wrapping_add(generic::dot_i8(a_tail, b_tail))
}

/// GEMV, four rows per pass sharing the widened activations.
/// `w.len() == out.len() * cols`, `x.len() == cols`, `cols > 0`.
#[target_feature(enable = "sse2")]
pub(super) fn gemv_i8(w: &[i8], cols: usize, x: &[i8], out: &mut [i32]) {
    let (x16, x_tail) = as_chunks::<16, _>(x);
    let body = x16.len() * 16;
    let mut blocks = w.chunks_exact(4 * cols);
    let mut outs = out.chunks_exact_mut(4);
    for (block, o) in (&mut blocks).zip(&mut outs) {
        let (r0, rest) = block.split_at(cols);
        let (r1, rest) = rest.split_at(cols);
        let (r2, r3) = rest.split_at(cols);
        let rows = [r0, r1, r2, r3];
        let r = rows.map(|r| as_chunks::<16, _>(r).0);
        let mut acc = [_mm_setzero_si128(); 4];
        for (k, xb) in x16.iter().enumerate() {
            let xw = widen(load16(xb));
            for i in 0..4 {
                acc[i] = _mm_add_epi32(acc[i], madd16(xw, load16(&r[i][k])));
            }
        }
        for i in 0..4 {
            o[i] = hsum(acc[i]).wrapping_add(generic::dot_i8(x_tail, &rows[i][body..]));
        }
    }
    for (row, o) in blocks
        .remainder()
        .chunks_exact(cols)
        .zip(outs.into_remainder())
    {
        *o = dot_i8(x, row);
    }
}
