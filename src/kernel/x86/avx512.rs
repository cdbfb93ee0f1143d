//! AVX-512 VNNI kernels. Every function here is
//! `#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]` and is only
//! called through [`super::Avx512Vnni`], whose existence proves the CPU (and
//! the OS, which must save the opmask and ZMM state) supports all three.
//! Only 512-bit forms and opmask loads are used, so `avx512vl` is not needed.
//!
//! The workhorse is `vpdpbusd`: in each i32 lane, four `u8 × s8` products
//! summed exactly (at most `4·255·128 = 130560` in magnitude) and added to
//! the accumulator with **wrap-around** (the saturating form is
//! `vpdpbusds`, never used here). One instruction is 64 multiply-accumulates.
//! Its first operand is unsigned, so one side is biased and the bias
//! removed once, exactly, in wrapping i32:
//! * full-range dot: `u = x ^ 0x80 = x + 128` (as u8), and
//!   `Σ u·w = Σ x·w + 128·Σ w`; `Σ w` comes from a second `vpdpbusd`
//!   against a vector of ones.
//! * GEMV: the weights are biased instead (`w ^ 0x80 = w + 128`), so the
//!   correction `128·Σ x` is one number shared by every row, and each row
//!   costs one `vpxord` and one `vpdpbusd` per 64 bytes.
//! * narrow range needs no special path: the full-range kernels above cost
//!   the same as a sign trick would (AVX-512 has no `vpsignb`).
//! * int4: nibbles biased to `w + 8` in `[0, 15]` are the unsigned operand,
//!   and `8·Σ x` is subtracted once.
//!
//! Because every correction is exact mod 2^32, the results equal the generic
//! path bit for bit for every input, including -128 and int32 wrap-around.
//! Tails shorter than 64 bytes use zero-masked loads (`vmovdqu8 {z}`), which
//! read only the selected bytes; a zero activation or weight adds nothing.

use core::arch::x86_64::*;

use super::as_chunks;
use super::avx2::Byte;
use crate::kernel::{generic, prepared};

/// Loads 64 bytes. `loadu` has no alignment requirement.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn load64<T: Byte>(p: &[T; 64]) -> __m512i {
    // SAFETY: `p` refers to 64 readable one-byte elements; the unaligned
    // load reads exactly those 64 bytes.
    unsafe { _mm512_loadu_si512(p.as_ptr().cast()) }
}

/// Loads `s.len() < 64` bytes into the low lanes, zeroing the others.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn load_tail<T: Byte>(s: &[T]) -> __m512i {
    debug_assert!(s.len() < 64);
    let mask: __mmask64 = (1u64 << s.len()) - 1;
    // SAFETY: the mask selects exactly the `s.len()` bytes of `s`. A masked
    // load does not access the deselected bytes (the hardware suppresses
    // their faults and LLVM's masked load does not read them), so nothing
    // outside `s` is read; with an empty `s` the mask is 0 and nothing is.
    unsafe { _mm512_maskz_loadu_epi8(mask, s.as_ptr().cast()) }
}

/// `x ^ 0x80`: int8 reinterpreted as `x + 128` in u8.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn bias128(v: __m512i) -> __m512i {
    _mm512_xor_si512(v, _mm512_set1_epi8(i8::MIN))
}

/// Full-range `Σ a·b`: `Σ (a+128)·b - 128·Σ b`, four accumulator pairs.
/// Also serves narrow-range weights. `a.len() == b.len()`.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub(super) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let ones = _mm512_set1_epi8(1);
    let zero = _mm512_setzero_si512();
    let (a256, a_rest) = as_chunks::<256, _>(a);
    let (b256, b_rest) = as_chunks::<256, _>(b);
    let mut acc = [zero; 4];
    let mut sum_b = [zero; 4];
    for (x, y) in a256.iter().zip(b256) {
        let (x, _) = as_chunks::<64, _>(x);
        let (y, _) = as_chunks::<64, _>(y);
        for j in 0..4 {
            let yv = load64(&y[j]);
            acc[j] = _mm512_dpbusd_epi32(acc[j], bias128(load64(&x[j])), yv);
            sum_b[j] = _mm512_dpbusd_epi32(sum_b[j], ones, yv);
        }
    }
    let (a64, a_tail) = as_chunks::<64, _>(a_rest);
    let (b64, b_tail) = as_chunks::<64, _>(b_rest);
    for (j, (x, y)) in a64.iter().zip(b64).enumerate() {
        let yv = load64(y);
        acc[j] = _mm512_dpbusd_epi32(acc[j], bias128(load64(x)), yv);
        sum_b[j] = _mm512_dpbusd_epi32(sum_b[j], ones, yv);
    }
    if !a_tail.is_empty() {
        // Masked-out lanes: b = 0, so (0 + 128)·0 and Σb both gain 0.
        let yv = load_tail(b_tail);
        acc[3] = _mm512_dpbusd_epi32(acc[3], bias128(load_tail(a_tail)), yv);
        sum_b[3] = _mm512_dpbusd_epi32(sum_b[3], ones, yv);
    }
    let acc = _mm512_add_epi32(
        _mm512_add_epi32(acc[0], acc[1]),
        _mm512_add_epi32(acc[2], acc[3]),
    );
    let sum_b = _mm512_add_epi32(
        _mm512_add_epi32(sum_b[0], sum_b[1]),
        _mm512_add_epi32(sum_b[2], sum_b[3]),
    );
    // Lane by lane, (Σ(a+128)b) - 128·Σb = Σab, mod 2^32.
    _mm512_reduce_add_epi32(_mm512_sub_epi32(acc, _mm512_slli_epi32::<7>(sum_b)))
}

/// Software prefetch distance in bytes for the four-row int8 GEMV
/// (cache-resident matrices). Measured on the Zen 4 benchmark machine: the
/// hardware prefetchers alone leave the L3-resident 4096x4096 GEMV at about
/// 0.6 of the plain-read rate; 16 lines ahead per row brings it to 0.75-0.83.
/// (The int4 kernels read half as many bytes per MAC and showed no gain.)
const PREFETCH_CACHED: usize = 1024;

/// Prefetch distance for the one-row-at-a-time (streaming) order.
const PREFETCH_STREAM: usize = 4096;

/// Weight matrices larger than this are read one row at a time, a single
/// sequential stream: from DRAM (8192x8192, 64 MiB) that reached 0.69-0.84
/// of the plain-read rate over several runs on the (noisy, shared)
/// benchmark machine against 0.65-0.66 for four interleaved row streams,
/// while for a matrix that fits its 32 MiB L3 the four-row order is the
/// faster one (0.8 against 0.67). Both orders compute the same integers;
/// this is only a speed heuristic.
const STREAMING_BYTES: usize = 32 << 20;

/// Hints the line `DIST` bytes past `p` into L1.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn prefetch_ahead<const DIST: usize, T>(p: *const T) {
    // A prefetch never faults, whatever the address (hence a safe
    // intrinsic); `wrapping_add` keeps the pointer arithmetic defined.
    _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>().wrapping_add(DIST));
}

/// Splits four consecutive rows of `cols` elements each off `w`.
#[inline]
fn four_rows<T>(w: &[T], cols: usize) -> [&[T]; 4] {
    let (r0, rest) = w.split_at(cols);
    let (r1, rest) = rest.split_at(cols);
    let (r2, r3) = rest.split_at(cols);
    [r0, r1, r2, &r3[..cols]]
}

/// `Σ (w+128)·x` over one row (no correction), `x` given as whole 64-byte
/// blocks plus the already loaded (zero-padded) tail.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn biased_row(row: &[i8], x64: &[[i8; 64]], x_tail: __m512i) -> i32 {
    let (w64, w_tail) = as_chunks::<64, _>(row);
    let zero = _mm512_setzero_si512();
    let mut acc = [zero; 4];
    let (w256, w_rest) = as_chunks::<4, _>(w64);
    let (x256, x_rest) = as_chunks::<4, _>(x64);
    for (wb, xb) in w256.iter().zip(x256) {
        prefetch_ahead::<PREFETCH_STREAM, _>(wb.as_ptr());
        for j in 0..4 {
            acc[j] = _mm512_dpbusd_epi32(acc[j], bias128(load64(&wb[j])), load64(&xb[j]));
        }
    }
    for (j, (wb, xb)) in w_rest.iter().zip(x_rest).enumerate() {
        acc[j] = _mm512_dpbusd_epi32(acc[j], bias128(load64(wb)), load64(xb));
    }
    if !w_tail.is_empty() {
        // Masked-out lanes: x = 0, so (w + 128)·0 = 0.
        acc[3] = _mm512_dpbusd_epi32(acc[3], bias128(load_tail(w_tail)), x_tail);
    }
    let acc = _mm512_add_epi32(
        _mm512_add_epi32(acc[0], acc[1]),
        _mm512_add_epi32(acc[2], acc[3]),
    );
    _mm512_reduce_add_epi32(acc)
}

/// GEMV, full- or narrow-range weights: `Σ (w+128)·x - 128·Σx` per row,
/// four rows per pass sharing each activation load (one row at a time past
/// [`STREAMING_BYTES`]).
/// `w.len() == out.len() * cols`, `x.len() == cols`, `cols > 0`.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub(super) fn gemv_i8(w: &[i8], cols: usize, x: &[i8], out: &mut [i32]) {
    let (x64, x_rest) = as_chunks::<64, _>(x);
    let x_tail = load_tail(x_rest);
    let correction = generic::sum_i8(x).wrapping_mul(128);
    if w.len() > STREAMING_BYTES {
        for (row, o) in w.chunks_exact(cols).zip(out.iter_mut()) {
            *o = biased_row(row, x64, x_tail).wrapping_sub(correction);
        }
        return;
    }
    let mut blocks = w.chunks_exact(4 * cols);
    let mut outs = out.chunks_exact_mut(4);
    for (block, o) in (&mut blocks).zip(&mut outs) {
        let rows = four_rows(block, cols).map(as_chunks::<64, _>);
        let mut acc = [_mm512_setzero_si512(); 4];
        for (k, xb) in x64.iter().enumerate() {
            let xv = load64(xb);
            for i in 0..4 {
                prefetch_ahead::<PREFETCH_CACHED, _>(rows[i].0[k].as_ptr());
                let wv = bias128(load64(&rows[i].0[k]));
                acc[i] = _mm512_dpbusd_epi32(acc[i], wv, xv);
            }
        }
        if !x_rest.is_empty() {
            for i in 0..4 {
                let wv = bias128(load_tail(rows[i].1));
                acc[i] = _mm512_dpbusd_epi32(acc[i], wv, x_tail);
            }
        }
        for i in 0..4 {
            o[i] = _mm512_reduce_add_epi32(acc[i]).wrapping_sub(correction);
        }
    }
    for (row, o) in blocks
        .remainder()
        .chunks_exact(cols)
        .zip(outs.into_remainder())
    {
        *o = biased_row(row, x64, x_tail).wrapping_sub(correction);
    }
}

/// The two nibbles of each weight byte `b` as u8 vectors,
/// `((b & 0x0F) ^ flip, ((b >> 4) & 0x0F) ^ flip)`, one `vpternlogd` each:
/// `flip = 0` for prepared bytes (already `w + 8`), `flip = 8` for raw
/// TFLite nibbles (`n ^ 8 = w + 8`).
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn nibbles(bytes: __m512i, flip: __m512i) -> (__m512i, __m512i) {
    let mask = _mm512_set1_epi8(0x0F);
    // 0x6A is the truth table of (a & b) ^ c.
    let lo = _mm512_ternarylogic_epi32::<0x6A>(bytes, mask, flip);
    let hi = _mm512_ternarylogic_epi32::<0x6A>(_mm512_srli_epi16::<4>(bytes), mask, flip);
    (lo, hi)
}

/// Activations of a 128-element block as `(x[0..32] ++ x[64..96],
/// x[32..64] ++ x[96..128])`, matching the low and high nibbles of two
/// consecutive prepared blocks.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn split(xb: &[i8; 128]) -> (__m512i, __m512i) {
    let (halves, _) = as_chunks::<64, _>(xb);
    let (x0, x1) = (load64(&halves[0]), load64(&halves[1]));
    (
        _mm512_shuffle_i64x2::<0b01_00_01_00>(x0, x1),
        _mm512_shuffle_i64x2::<0b11_10_11_10>(x0, x1),
    )
}

/// GEMV over prepared int4 rows (`row_bytes` bytes each, see
/// [`prepared`]): pairs of 64-element blocks per 512-bit load, low nibbles
/// against `x[0..32] ++ x[64..96]`, high nibbles against
/// `x[32..64] ++ x[96..128]`; `Σ (w+8)·x - 8·Σx`. Four rows per pass.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub(super) fn gemv_i4_prepared(bytes: &[u8], row_bytes: usize, x: &[i8], out: &mut [i32]) {
    let (x128, x_rest) = as_chunks::<128, _>(x);
    let body = x128.len() * 128;
    let correction = generic::sum_i8(&x[..body]).wrapping_mul(8);
    let tail_start = body / 2;
    // Already biased: only the masks.
    let flip = _mm512_setzero_si512();
    let mut blocks = bytes.chunks_exact(4 * row_bytes);
    let mut outs = out.chunks_exact_mut(4);
    for (block, o) in (&mut blocks).zip(&mut outs) {
        let rows = four_rows(block, row_bytes);
        let r = rows.map(|r| as_chunks::<64, _>(r).0);
        let mut acc = [_mm512_setzero_si512(); 4];
        for (k, xb) in x128.iter().enumerate() {
            let (x_lo, x_hi) = split(xb);
            for i in 0..4 {
                let (lo, hi) = nibbles(load64(&r[i][k]), flip);
                acc[i] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(acc[i], lo, x_lo), hi, x_hi);
            }
        }
        for i in 0..4 {
            let tail = prepared::dot_prepared(&rows[i][tail_start..], x_rest);
            o[i] = _mm512_reduce_add_epi32(acc[i])
                .wrapping_sub(correction)
                .wrapping_add(tail);
        }
    }
    let rest = blocks.remainder();
    for (row, o) in rest.chunks_exact(row_bytes).zip(outs.into_remainder()) {
        let (w64, _) = as_chunks::<64, _>(row);
        let mut acc = _mm512_setzero_si512();
        for (wb, xb) in w64.iter().zip(x128) {
            let (x_lo, x_hi) = split(xb);
            let (lo, hi) = nibbles(load64(wb), flip);
            acc = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(acc, lo, x_lo), hi, x_hi);
        }
        let tail = prepared::dot_prepared(&row[tail_start..], x_rest);
        *o = _mm512_reduce_add_epi32(acc)
            .wrapping_sub(correction)
            .wrapping_add(tail);
    }
}

/// Activations of a 128-element block regrouped for TFLite-packed int4:
/// `(even, odd)` where i32 lane `j` of `even` holds `x[8j], x[8j+2],
/// x[8j+4], x[8j+6]` and of `odd` the four odd neighbours — exactly the
/// elements whose weights sit in the low (resp. high) nibbles of packed
/// bytes `4j..4j+4`.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn deinterleave(xb: &[i8; 128]) -> (__m512i, __m512i) {
    let (halves, _) = as_chunks::<64, _>(xb);
    // Per 128-bit lane: the even bytes of each 8-byte group, then the odd
    // ones, so each qword holds 8 even or 8 odd bytes in the right order:
    // qwords [even(g0) | even(g1)], [odd(g0) | odd(g1)] as dwords.
    let order = _mm512_broadcast_i32x4(_mm_setr_epi8(
        0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
    ));
    let x0 = _mm512_shuffle_epi8(load64(&halves[0]), order);
    let x1 = _mm512_shuffle_epi8(load64(&halves[1]), order);
    // Qword 2l of each half holds the even bytes of its lane l, 2l+1 the
    // odd ones; gather them in element order across both halves.
    let even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    let odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    (
        _mm512_permutex2var_epi64(x0, even, x1),
        _mm512_permutex2var_epi64(x0, odd, x1),
    )
}

/// GEMV over a TFLite-packed int4 matrix with an even column count (rows
/// start on a byte): per 64 packed bytes, low nibbles against the even
/// activations and high nibbles against the odd ones, `Σ (w+8)·x - 8·Σx`.
/// Four rows per pass share the regrouped activations.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
pub(super) fn gemv_i4_i8(packed: &[u8], cols: usize, x: &[i8], out: &mut [i32]) {
    let row_bytes = cols / 2;
    let (x128, x_rest) = as_chunks::<128, _>(x);
    let body = x128.len() * 128;
    let correction = generic::sum_i8(&x[..body]).wrapping_mul(8);
    // `n ^ 8 = w + 8` for a sign-extended nibble `w`.
    let flip = _mm512_set1_epi8(0x08);
    let mut blocks = packed.chunks_exact(4 * row_bytes);
    let mut outs = out.chunks_exact_mut(4);
    for (block, o) in (&mut blocks).zip(&mut outs) {
        let rows = four_rows(block, row_bytes);
        let r = rows.map(|r| as_chunks::<64, _>(r).0);
        let mut acc = [_mm512_setzero_si512(); 4];
        for (k, xb) in x128.iter().enumerate() {
            let (x_even, x_odd) = deinterleave(xb);
            for i in 0..4 {
                let (lo, hi) = nibbles(load64(&r[i][k]), flip);
                acc[i] = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(acc[i], lo, x_even), hi, x_odd);
            }
        }
        for i in 0..4 {
            let tail = generic::dot_i4_i8(&rows[i][body / 2..], x_rest);
            o[i] = _mm512_reduce_add_epi32(acc[i])
                .wrapping_sub(correction)
                .wrapping_add(tail);
        }
    }
    let rest = blocks.remainder();
    for (row, o) in rest.chunks_exact(row_bytes).zip(outs.into_remainder()) {
        let (w64, _) = as_chunks::<64, _>(row);
        let mut acc = _mm512_setzero_si512();
        for (wb, xb) in w64.iter().zip(x128) {
            let (x_even, x_odd) = deinterleave(xb);
            let (lo, hi) = nibbles(load64(wb), flip);
            acc = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(acc, lo, x_even), hi, x_odd);
        }
        let tail = generic::dot_i4_i8(&row[body / 2..], x_rest);
        *o = _mm512_reduce_add_epi32(acc)
            .wrapping_sub(correction)
            .wrapping_add(tail);
    }
}
