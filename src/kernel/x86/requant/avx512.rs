//! AVX-512 lanes of the output stage: 16 × `i32`, the arithmetic of the
//! AVX2 file on twice the lanes, with what AVX-512F adds: a native 64-bit
//! arithmetic shift (`vpsravq`) for single rounding, compare-into-mask and
//! masked adds for the rounding fixups, truncating down-conversions
//! (`vpmovqd` to split multiplier pairs; `vpmovdb`, `vpmovdw` for the
//! stores, the lanes being already clamped into the output range).
//!
//! The `f32` mode clamps in the integer domain instead of with
//! `vmaxps`/`vminps`: the magic-bias rounding is exact for `|v| < 2^22`, and
//! every lane beyond that (infinities included) lies outside the clamp
//! bounds (`|bound| < 2^17`), so it is replaced by its own bits, an
//! integer beyond the bound of its sign, before the integer clamp. The scales are finite, so no NaN reaches
//! it. (Besides being as fast, this keeps the file to operations Miri can
//! interpret.)

use core::arch::x86_64::*;

use crate::kernel::output_stage::{Channel, Clamp, Job, Lanes, RequantOutput, run_lanes};
use crate::requant::QuantizedMultiplier;

lanes!(V16, 16, "avx512f,avx2", __m512i, __m512);

/// `1.5 · 2^23` (see the AVX2 file).
const MAGIC: f32 = 12_582_912.0;

/// The odd 32-bit lanes of a 16-lane mask.
const ODD: __mmask16 = 0b1010_1010_1010_1010;

/// The clamp constants.
#[derive(Clone, Copy)]
pub(super) struct Out {
    zero_point: __m512i,
    /// `act_min - zero_point`, `act_max - zero_point`.
    lo: __m512i,
    hi: __m512i,
    magic: __m512,
}

#[inline]
#[target_feature(enable = "avx512f")]
fn out(c: Clamp) -> Out {
    Out {
        zero_point: _mm512_set1_epi32(c.zero_point),
        lo: _mm512_set1_epi32(c.act_min - c.zero_point),
        hi: _mm512_set1_epi32(c.act_max - c.zero_point),
        magic: _mm512_set1_ps(MAGIC),
    }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn finish(y: __m512i, k: &Out) -> __m512i {
    _mm512_add_epi32(
        _mm512_min_epi32(_mm512_max_epi32(y, k.lo), k.hi),
        k.zero_point,
    )
}

/// Bits 31..62 of `x·q + 2^30` per lane.
#[inline]
#[target_feature(enable = "avx512f")]
fn srdhm(x: __m512i, q: __m512i) -> __m512i {
    let nudge = _mm512_set1_epi64(1 << 30);
    let even = _mm512_add_epi64(_mm512_mul_epi32(x, q), nudge);
    let odd = _mm512_add_epi64(
        _mm512_mul_epi32(_mm512_srli_epi64::<32>(x), _mm512_srli_epi64::<32>(q)),
        nudge,
    );
    _mm512_mask_blend_epi32(
        ODD,
        _mm512_srli_epi64::<31>(even),
        _mm512_slli_epi64::<1>(odd),
    )
}

#[inline]
#[target_feature(enable = "avx512f")]
fn left_right(shift: __m512i) -> (__m512i, __m512i) {
    let zero = _mm512_setzero_si512();
    (
        _mm512_max_epi32(shift, zero),
        _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero),
    )
}

#[inline]
#[target_feature(enable = "avx512f")]
fn double(x: __m512i, (q, shift): (__m512i, __m512i), k: &Out) -> __m512i {
    let (left, right) = left_right(shift);
    let high = srdhm(_mm512_sllv_epi32(x, left), q);
    let one = _mm512_set1_epi32(1);
    let mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
    let remainder = _mm512_and_si512(high, mask);
    let threshold = _mm512_add_epi32(_mm512_srli_epi32::<1>(mask), _mm512_srli_epi32::<31>(high));
    let floor = _mm512_srav_epi32(high, right);
    let up = _mm512_cmpgt_epi32_mask(remainder, threshold);
    finish(_mm512_mask_add_epi32(floor, up, floor, one), k)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn litert_optimized(x: __m512i, (q, shift): (__m512i, __m512i), k: &Out) -> __m512i {
    let (left, right) = left_right(shift);
    let high = srdhm(_mm512_sllv_epi32(x, left), q);
    let one = _mm512_set1_epi32(1);
    // Counts above 31 (R = 0 gives 0xFFFF_FFFF) shift everything out.
    let below = _mm512_srlv_epi32(high, _mm512_sub_epi32(right, one));
    let up = _mm512_add_epi32(_mm512_srav_epi32(high, right), _mm512_and_si512(below, one));
    finish(up, k)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn single(x: __m512i, (q, shift): (__m512i, __m512i), k: &Out) -> __m512i {
    let t = _mm512_sub_epi32(_mm512_set1_epi32(31), shift);
    let t_even = _mm512_and_si512(t, _mm512_set1_epi64(0xFFFF_FFFF));
    let t_odd = _mm512_srli_epi64::<32>(t);
    let one = _mm512_set1_epi64(1);
    let round = |p: __m512i, t: __m512i| {
        let half = _mm512_sllv_epi64(one, _mm512_sub_epi64(t, one));
        _mm512_srav_epi64(_mm512_add_epi64(p, half), t)
    };
    let even = round(_mm512_mul_epi32(x, q), t_even);
    let odd = round(
        _mm512_mul_epi32(_mm512_srli_epi64::<32>(x), _mm512_srli_epi64::<32>(q)),
        t_odd,
    );
    finish(
        _mm512_mask_blend_epi32(ODD, even, _mm512_slli_epi64::<32>(odd)),
        k,
    )
}

/// `|v|` bits at and above which the magic-bias rounding is no longer
/// exact: `2^22`.
const TWO_POW_22: i32 = (127 + 22) << 23;

#[inline]
#[target_feature(enable = "avx512f")]
fn float32(x: __m512i, scale: __m512, k: &Out) -> __m512i {
    let v = _mm512_mul_ps(_mm512_cvtepi32_ps(x), scale);
    let magic_bits = _mm512_castps_si512(k.magic);
    let rounded = _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(v, k.magic)), magic_bits);
    let bits = _mm512_castps_si512(v);
    let magnitude = _mm512_and_si512(bits, _mm512_set1_epi32(i32::MAX));
    let huge = _mm512_cmpgt_epi32_mask(magnitude, _mm512_set1_epi32(TWO_POW_22 - 1));
    // A huge lane's own bits, read as an integer, lie beyond the clamp bound
    // of its sign: at least 2^22 as a float is at least 0x4A80_0000 as an
    // integer; a negative one (sign bit set) is at most -0x0080_0000 (-inf).
    finish(_mm512_mask_mov_epi32(rounded, huge, bits), k)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load_multipliers(m: &[QuantizedMultiplier; 16]) -> (__m512i, __m512i) {
    let (lo, hi) = m.split_at(8);
    // SAFETY: each half is 8 `#[repr(C)]` pairs of `i32`, 64 readable
    // bytes; `loadu` has no alignment requirement.
    let (a, b) = unsafe {
        (
            _mm512_loadu_si512(lo.as_ptr().cast()),
            _mm512_loadu_si512(hi.as_ptr().cast()),
        )
    };
    // Each 64-bit lane is one pair: the low half is the multiplier, the high
    // half the shift.
    let low = |v: __m512i| _mm512_cvtepi64_epi32(v);
    let high = |v: __m512i| _mm512_cvtepi64_epi32(_mm512_srli_epi64::<32>(v));
    (join(low(a), low(b)), join(high(a), high(b)))
}

/// Two 256-bit halves as one 512-bit vector.
#[inline]
#[target_feature(enable = "avx512f")]
fn join(lo: __m256i, hi: __m256i) -> __m512i {
    _mm512_inserti64x4::<1>(_mm512_castsi256_si512(lo), hi)
}

/// 16 channel records as two AVX2 transposes of 8.
#[inline]
#[target_feature(enable = "avx512f,avx2")]
fn load_channels(c: &[Channel; 16]) -> (__m512i, (__m512i, __m512i), __m512) {
    let (halves, _) = c.as_chunks::<8>();
    let [lo, hi] = halves else {
        // Unreachable: 16 records are two chunks of 8.
        let zero = _mm512_setzero_si512();
        return (zero, (zero, zero), _mm512_setzero_ps());
    };
    let (b0, (m0, s0), f0) = super::avx2::load_channels(lo);
    let (b1, (m1, s1), f1) = super::avx2::load_channels(hi);
    let f = join(_mm256_castps_si256(f0), _mm256_castps_si256(f1));
    (
        join(b0, b1),
        (join(m0, m1), join(s0, s1)),
        _mm512_castsi512_ps(f),
    )
}

#[inline]
#[target_feature(enable = "avx512f")]
fn zero() -> __m512i {
    _mm512_setzero_si512()
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load(a: &[i32; 16]) -> __m512i {
    // SAFETY: `a` is 64 readable bytes; `loadu` needs no alignment.
    unsafe { _mm512_loadu_si512(a.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn add(a: __m512i, b: __m512i) -> __m512i {
    _mm512_add_epi32(a, b)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn splat_multiplier(m: QuantizedMultiplier) -> (__m512i, __m512i) {
    (_mm512_set1_epi32(m.multiplier), _mm512_set1_epi32(m.shift))
}

#[inline]
#[target_feature(enable = "avx512f")]
fn splat_scale(s: f32) -> __m512 {
    _mm512_set1_ps(s)
}

#[inline]
#[target_feature(enable = "avx512f")]
fn load_scales(s: &[f32; 16]) -> __m512 {
    // SAFETY: `s` is 64 readable bytes; `loadu` needs no alignment.
    unsafe { _mm512_loadu_ps(s.as_ptr()) }
}

/// The lanes are clamped into the output range, so the truncating
/// `vpmovdb` / `vpmovdw` are exact.
#[inline]
#[target_feature(enable = "avx512f")]
fn store_i8(y: __m512i, o: &mut [i8; 16]) {
    // SAFETY: `o` is 16 writable bytes.
    unsafe { _mm_storeu_si128(o.as_mut_ptr().cast(), _mm512_cvtepi32_epi8(y)) }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn store_u8(y: __m512i, o: &mut [u8; 16]) {
    // SAFETY: `o` is 16 writable bytes.
    unsafe { _mm_storeu_si128(o.as_mut_ptr().cast(), _mm512_cvtepi32_epi8(y)) }
}

#[inline]
#[target_feature(enable = "avx512f")]
fn store_i16(y: __m512i, o: &mut [i16; 16]) {
    // SAFETY: `o` is 32 writable bytes.
    unsafe { _mm256_storeu_si256(o.as_mut_ptr().cast(), _mm512_cvtepi32_epi16(y)) }
}
