//! AVX2 kernels. Every function here is `#[target_feature(enable = "avx2")]`
//! and is only called through [`super::Avx2`], whose existence proves the
//! CPU supports AVX2. All 128-bit intrinsics used inside these functions are
//! compiled with VEX encodings (the target feature implies AVX), so no
//! legacy-SSE instruction ever runs with dirty upper YMM halves.
//!
//! Shapes (SEMANTICS §8.3):
//! * full range: sign-extend both operands to i16 (`vpmovsxbw`) and
//!   multiply-add pairs into i32 (`vpmaddwd`). Exact for every input.
//! * narrow range: the sign trick, `vpmaddubsw(|x|, sign(w, x))` then
//!   `vpmaddwd(., 1)`; exact because `w` is in [-127, 127].
//! * int4: nibbles `n ^ 8 = w + 8` are unsigned in [0, 15] and become the
//!   unsigned operand of `vpmaddubsw` against full-range int8 activations
//!   (pairs at most 2·15·128, no saturation); `8·Σx` is subtracted once.

use core::arch::x86_64::*;

use super::as_chunks;
use crate::kernel::generic;

/// Loads 32 bytes. `loadu` has no alignment requirement.
#[inline]
#[target_feature(enable = "avx2")]
fn load32<T>(p: &[T; 32]) -> __m256i
where
    T: Byte,
{
    // SAFETY: `p` refers to 32 readable one-byte elements; the unaligned
    // load reads exactly those 32 bytes.
    unsafe { _mm256_loadu_si256(p.as_ptr().cast()) }
}

/// Loads 16 bytes.
#[inline]
#[target_feature(enable = "avx2")]
fn load16(p: &[i8; 16]) -> __m128i {
    // SAFETY: `p` refers to 16 readable bytes; the load is unaligned.
    unsafe { _mm_loadu_si128(p.as_ptr().cast()) }
}

/// One-byte element types we load from (i8 activations, u8 packed nibbles).
pub(super) trait Byte: Copy {}
impl Byte for i8 {}
impl Byte for u8 {}

/// 16 int8 values sign-extended to 16 int16 lanes (`vpmovsxbw`).
#[inline]
#[target_feature(enable = "avx2")]
fn widen(p: &[i8; 16]) -> __m256i {
    _mm256_cvtepi8_epi16(load16(p))
}

/// The two 16-byte halves of a 32-byte block, sign-extended.
#[inline]
#[target_feature(enable = "avx2")]
fn widen_halves(p: &[i8; 32]) -> (__m256i, __m256i) {
    let (halves, _) = as_chunks::<16, _>(p);
    (widen(&halves[0]), widen(&halves[1]))
}

/// Horizontal sum of eight i32 lanes (wrapping).
#[inline]
#[target_feature(enable = "avx2")]
fn hsum(v: __m256i) -> i32 {
    let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
    let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
    _mm_cvtsi128_si32(s)
}

/// Full-range `Σ a·b` by sign extension + `vpmaddwd`, four accumulators.
#[target_feature(enable = "avx2")]
pub(super) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let (a64, a_rest) = as_chunks::<64, _>(a);
    let (b64, b_rest) = as_chunks::<64, _>(b);
    let mut acc = [_mm256_setzero_si256(); 4];
    for (x, y) in a64.iter().zip(b64) {
        let (x, _) = as_chunks::<16, _>(x);
        let (y, _) = as_chunks::<16, _>(y);
        for j in 0..4 {
            let p = _mm256_madd_epi16(widen(&x[j]), widen(&y[j]));
            acc[j] = _mm256_add_epi32(acc[j], p);
        }
    }
    let (a16, a_tail) = as_chunks::<16, _>(a_rest);
    let (b16, b_tail) = as_chunks::<16, _>(b_rest);
    for (x, y) in a16.iter().zip(b16) {
        acc[0] = _mm256_add_epi32(acc[0], _mm256_madd_epi16(widen(x), widen(y)));
    }
    let sum = _mm256_add_epi32(
        _mm256_add_epi32(acc[0], acc[1]),
        _mm256_add_epi32(acc[2], acc[3]),
    );
    hsum(sum).wrapping_add(generic::dot_i8(a_tail, b_tail))
}

/// `vpmaddwd(vpmaddubsw(|x|, sign(w, x)), 1)`: eight i32 partial sums of
/// `x·w` over 32 bytes. Exact when `w` has no -128.
#[inline]
#[target_feature(enable = "avx2")]
fn sign_trick(abs_x: __m256i, x: __m256i, w: __m256i) -> __m256i {
    let pairs = _mm256_maddubs_epi16(abs_x, _mm256_sign_epi8(w, x));
    _mm256_madd_epi16(pairs, _mm256_set1_epi16(1))
}

/// Narrow-range `Σ x·w` (`w` in [-127, 127]) by the sign trick.
#[target_feature(enable = "avx2")]
pub(super) fn dot_i8_narrow(x: &[i8], w: &[i8]) -> i32 {
    let (x128, x_rest) = as_chunks::<128, _>(x);
    let (w128, w_rest) = as_chunks::<128, _>(w);
    let mut acc = [_mm256_setzero_si256(); 4];
    for (xb, wb) in x128.iter().zip(w128) {
        let (xb, _) = as_chunks::<32, _>(xb);
        let (wb, _) = as_chunks::<32, _>(wb);
        for j in 0..4 {
            let xv = load32(&xb[j]);
            let p = sign_trick(_mm256_abs_epi8(xv), xv, load32(&wb[j]));
            acc[j] = _mm256_add_epi32(acc[j], p);
        }
    }
    let (x32, x_tail) = as_chunks::<32, _>(x_rest);
    let (w32, w_tail) = as_chunks::<32, _>(w_rest);
    for (xb, wb) in x32.iter().zip(w32) {
        let xv = load32(xb);
        acc[0] = _mm256_add_epi32(acc[0], sign_trick(_mm256_abs_epi8(xv), xv, load32(wb)));
    }
    let sum = _mm256_add_epi32(
        _mm256_add_epi32(acc[0], acc[1]),
        _mm256_add_epi32(acc[2], acc[3]),
    );
    hsum(sum).wrapping_add(generic::dot_i8(x_tail, w_tail))
}

/// Horizontal sums of four accumulators at once, as `[i32; 4]`.
#[inline]
#[target_feature(enable = "avx2")]
fn hsum4(acc: [__m256i; 4]) -> [i32; 4] {
    let h = _mm256_hadd_epi32(
        _mm256_hadd_epi32(acc[0], acc[1]),
        _mm256_hadd_epi32(acc[2], acc[3]),
    );
    let s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256::<1>(h));
    let mut out = [0i32; 4];
    // SAFETY: `out` is 16 writable bytes; the store is unaligned.
    unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), s) };
    out
}

/// Splits four consecutive rows of `cols` elements each off `w`.
#[inline]
fn four_rows<T>(w: &[T], cols: usize) -> [&[T]; 4] {
    let (r0, rest) = w.split_at(cols);
    let (r1, rest) = rest.split_at(cols);
    let (r2, r3) = rest.split_at(cols);
    [r0, r1, r2, &r3[..cols]]
}

/// GEMV, narrow-range weights, four rows per pass sharing `|x|`.
/// `w.len() == out.len() * cols`, `x.len() == cols`, `cols > 0`.
#[target_feature(enable = "avx2")]
pub(super) fn gemv_i8_narrow(w: &[i8], cols: usize, x: &[i8], out: &mut [i32]) {
    let (x32, x_tail) = as_chunks::<32, _>(x);
    let body = x32.len() * 32;
    let mut blocks = w.chunks_exact(4 * cols);
    let mut outs = out.chunks_exact_mut(4);
    for (block, o) in (&mut blocks).zip(&mut outs) {
        let rows = four_rows(block, cols);
        let r = rows.map(|r| as_chunks::<32, _>(r).0);
        let mut acc = [_mm256_setzero_si256(); 4];
        for (k, xb) in x32.iter().enumerate() {
            let xv = load32(xb);
            let ax = _mm256_abs_epi8(xv);
            for i in 0..4 {
                acc[i] = _mm256_add_epi32(acc[i], sign_trick(ax, xv, load32(&r[i][k])));
            }
        }
        let sums = hsum4(acc);
        for i in 0..4 {
            o[i] = sums[i].wrapping_add(generic::dot_i8(x_tail, &rows[i][body..]));
        }
    }
    for (row, o) in blocks
        .remainder()
        .chunks_exact(cols)
        .zip(outs.into_remainder())
    {
        *o = dot_i8_narrow(x, row);
    }
}

/// GEMV, full-range weights, four rows per pass sharing the widened `x`.
#[target_feature(enable = "avx2")]
pub(super) fn gemv_i8(w: &[i8], cols: usize, x: &[i8], out: &mut [i32]) {
    let (x32, x_tail) = as_chunks::<32, _>(x);
    let body = x32.len() * 32;
    let mut blocks = w.chunks_exact(4 * cols);
    let mut outs = out.chunks_exact_mut(4);
    for (block, o) in (&mut blocks).zip(&mut outs) {
        let rows = four_rows(block, cols);
        let r = rows.map(|r| as_chunks::<32, _>(r).0);
        let mut acc = [_mm256_setzero_si256(); 4];
        for (k, xb) in x32.iter().enumerate() {
            let (xl, xh) = widen_halves(xb);
            for i in 0..4 {
                let (wl, wh) = widen_halves(&r[i][k]);
                let p = _mm256_add_epi32(_mm256_madd_epi16(xl, wl), _mm256_madd_epi16(xh, wh));
                acc[i] = _mm256_add_epi32(acc[i], p);
            }
        }
        let sums = hsum4(acc);
        for i in 0..4 {
            o[i] = sums[i].wrapping_add(generic::dot_i8(x_tail, &rows[i][body..]));
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

/// `Σ (w+8)·x` over 64 elements as sixteen i16 lanes (each at most
/// `4·15·128 = 7680` in magnitude): 32 packed bytes against `xa`/`xb`, the
/// activations regrouped to match the in-lane nibble interleave.
#[inline]
#[target_feature(enable = "avx2")]
fn i4_block(packed: &[u8; 32], xa: __m256i, xb: __m256i) -> __m256i {
    let bytes = _mm256_xor_si256(load32(packed), _mm256_set1_epi8(0x88u8 as i8));
    let mask = _mm256_set1_epi8(0x0F);
    let lo = _mm256_and_si256(bytes, mask);
    let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(bytes), mask);
    // Per 128-bit lane: unpacklo gives elements 0..16 (lane 0) and 32..48
    // (lane 1); unpackhi gives 16..32 and 48..64.
    let u0 = _mm256_unpacklo_epi8(lo, hi);
    let u1 = _mm256_unpackhi_epi8(lo, hi);
    // Each i16 pair is at most 2·15·128 = 3840; two of them fit easily.
    _mm256_add_epi16(_mm256_maddubs_epi16(u0, xa), _mm256_maddubs_epi16(u1, xb))
}

/// Blocks of [`i4_block`] summed in i16 before widening: 4 · 7680 = 30720
/// still fits, so one `vpmaddwd` serves 256 elements.
const I4_BLOCKS_PER_WIDEN: usize = 4;

/// Widens sixteen i16 lanes into eight i32 pair sums.
#[inline]
#[target_feature(enable = "avx2")]
fn widen_pairs(v: __m256i) -> __m256i {
    _mm256_madd_epi16(v, _mm256_set1_epi16(1))
}

/// Activations of a 64-element block, regrouped for [`i4_block`].
#[inline]
#[target_feature(enable = "avx2")]
fn i4_activations(x: &[i8; 64]) -> (__m256i, __m256i) {
    let (halves, _) = as_chunks::<32, _>(x);
    let x0 = load32(&halves[0]);
    let x1 = load32(&halves[1]);
    (
        _mm256_permute2x128_si256::<0x20>(x0, x1),
        _mm256_permute2x128_si256::<0x31>(x0, x1),
    )
}

/// `Σ w·x`, `w` packed int4 from byte 0 (`packed` holds `x.len()` nibbles).
#[target_feature(enable = "avx2")]
pub(super) fn dot_i4_i8(packed: &[u8], x: &[i8]) -> i32 {
    let (x64, x_tail) = as_chunks::<64, _>(x);
    let (w32, _) = as_chunks::<32, _>(packed);
    let mut acc = _mm256_setzero_si256();
    for (xg, wg) in x64
        .chunks(I4_BLOCKS_PER_WIDEN)
        .zip(w32.chunks(I4_BLOCKS_PER_WIDEN))
    {
        let mut acc16 = _mm256_setzero_si256();
        for (xb, wb) in xg.iter().zip(wg) {
            let (xa, xb) = i4_activations(xb);
            acc16 = _mm256_add_epi16(acc16, i4_block(wb, xa, xb));
        }
        acc = _mm256_add_epi32(acc, widen_pairs(acc16));
    }
    let body = x64.len() * 64;
    let offset = generic::sum_i8(&x[..body]).wrapping_mul(8);
    hsum(acc)
        .wrapping_sub(offset)
        .wrapping_add(generic::dot_i4_i8(&packed[body / 2..], x_tail))
}

/// GEMV over a packed int4 matrix with an even column count (every row
/// starts on a byte), four rows per pass sharing the activations.
#[target_feature(enable = "avx2")]
pub(super) fn gemv_i4_i8(packed: &[u8], cols: usize, x: &[i8], out: &mut [i32]) {
    let row_bytes = cols / 2;
    let (x64, x_tail) = as_chunks::<64, _>(x);
    let body = x64.len() * 64;
    let offset = generic::sum_i8(&x[..body]).wrapping_mul(8);
    let mut blocks = packed.chunks_exact(4 * row_bytes);
    let mut outs = out.chunks_exact_mut(4);
    for (block, o) in (&mut blocks).zip(&mut outs) {
        let rows = four_rows(block, row_bytes);
        let r = rows.map(|r| as_chunks::<32, _>(r).0);
        let mut acc = [_mm256_setzero_si256(); 4];
        for (g, xg) in x64.chunks(I4_BLOCKS_PER_WIDEN).enumerate() {
            let mut acc16 = [_mm256_setzero_si256(); 4];
            for (j, xb) in xg.iter().enumerate() {
                let k = g * I4_BLOCKS_PER_WIDEN + j;
                let (xa, xb) = i4_activations(xb);
                for i in 0..4 {
                    acc16[i] = _mm256_add_epi16(acc16[i], i4_block(&r[i][k], xa, xb));
                }
            }
            for i in 0..4 {
                acc[i] = _mm256_add_epi32(acc[i], widen_pairs(acc16[i]));
            }
        }
        let sums = hsum4(acc);
        for i in 0..4 {
            let tail = generic::dot_i4_i8(&rows[i][body / 2..], x_tail);
            o[i] = sums[i].wrapping_sub(offset).wrapping_add(tail);
        }
    }
    let rest = blocks.remainder();
    for (row, o) in rest.chunks(row_bytes).zip(outs.into_remainder()) {
        *o = dot_i4_i8(row, x);
    }
}

/// `Σ (w+8)·x` over one prepared 64-element block as sixteen i16 lanes
/// (each at most `2·2·15·128 = 7680`): low nibbles against `x[0..32]`,
/// high nibbles against `x[32..64]`, no interleaving needed.
#[inline]
#[target_feature(enable = "avx2")]
fn prepared_block(block: &[u8; 32], x0: __m256i, x1: __m256i) -> __m256i {
    let bytes = load32(block);
    let mask = _mm256_set1_epi8(0x0F);
    let lo = _mm256_and_si256(bytes, mask);
    let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(bytes), mask);
    _mm256_add_epi16(_mm256_maddubs_epi16(lo, x0), _mm256_maddubs_epi16(hi, x1))
}

/// GEMV over prepared int4 rows of `row_bytes` bytes, four rows per pass.
#[target_feature(enable = "avx2")]
pub(super) fn gemv_i4_prepared(bytes: &[u8], row_bytes: usize, x: &[i8], out: &mut [i32]) {
    let (x64, x_tail) = as_chunks::<64, _>(x);
    let body = x64.len() * 64;
    let offset = generic::sum_i8(&x[..body]).wrapping_mul(8);
    let tail_start = x64.len() * 32;
    let mut blocks = bytes.chunks_exact(4 * row_bytes);
    let mut outs = out.chunks_exact_mut(4);
    for (block, o) in (&mut blocks).zip(&mut outs) {
        let rows = four_rows(block, row_bytes);
        let r = rows.map(|r| as_chunks::<32, _>(r).0);
        let mut acc = [_mm256_setzero_si256(); 4];
        for (g, xg) in x64.chunks(I4_BLOCKS_PER_WIDEN).enumerate() {
            let mut acc16 = [_mm256_setzero_si256(); 4];
            for (j, xb) in xg.iter().enumerate() {
                let k = g * I4_BLOCKS_PER_WIDEN + j;
                let (halves, _) = as_chunks::<32, _>(xb);
                let (x0, x1) = (load32(&halves[0]), load32(&halves[1]));
                for i in 0..4 {
                    acc16[i] = _mm256_add_epi16(acc16[i], prepared_block(&r[i][k], x0, x1));
                }
            }
            for i in 0..4 {
                acc[i] = _mm256_add_epi32(acc[i], widen_pairs(acc16[i]));
            }
        }
        let sums = hsum4(acc);
        for i in 0..4 {
            let tail = crate::kernel::prepared::dot_prepared(&rows[i][tail_start..], x_tail);
            o[i] = sums[i].wrapping_sub(offset).wrapping_add(tail);
        }
    }
    let rest = blocks.remainder();
    for (row, o) in rest.chunks_exact(row_bytes).zip(outs.into_remainder()) {
        let mut acc = _mm256_setzero_si256();
        let (w32, _) = as_chunks::<32, _>(row);
        for (xg, wg) in x64
            .chunks(I4_BLOCKS_PER_WIDEN)
            .zip(w32.chunks(I4_BLOCKS_PER_WIDEN))
        {
            let mut acc16 = _mm256_setzero_si256();
            for (xb, wb) in xg.iter().zip(wg) {
                let (halves, _) = as_chunks::<32, _>(xb);
                let (x0, x1) = (load32(&halves[0]), load32(&halves[1]));
                acc16 = _mm256_add_epi16(acc16, prepared_block(wb, x0, x1));
            }
            acc = _mm256_add_epi32(acc, widen_pairs(acc16));
        }
        let tail = crate::kernel::prepared::dot_prepared(&row[tail_start..], x_tail);
        *o = hsum(acc).wrapping_sub(offset).wrapping_add(tail);
    }
}
