//! AVX2 lanes of the output stage: 8 × `i32`.
//!
//! The arithmetic per lane, as the portable definitions:
//! * double rounding: `x << L` (`vpsllvd`, wrapping), SRDHM as two
//!   `vpmuldq` (even / odd lanes, exact 64-bit products) plus `2^30`, bits
//!   31..62 of each sum recombined, then RDBPOT by `R` with gemmlowp's
//!   remainder/threshold fixup (`vpsravd` is a floor shift; the fixup makes
//!   it round half away from zero);
//! * LiteRT's optimized form: the same SRDHM, then the floor shift plus the
//!   bit just below the cut (a rounding shift with ties up, `vrshl`);
//! * single rounding: the exact 64-bit product plus `2^(t-1)`, an arithmetic
//!   64-bit shift by `t = 31 - shift` (AVX2 has no `vpsravq`, so
//!   `sign ^ ((v ^ sign) >>> t)`), low 32 bits kept (the scalar cast);
//! * `f32`: `vcvtdq2ps`, `vmulps`, the clamp in float (`vmaxps` returns its
//!   second operand for NaN, as Rust's `f32::max` returns the non-NaN one),
//!   then round to nearest even by adding `1.5 · 2^23` (exact: after the
//!   clamp `|v| < 2^17`), XNNPACK's "magic bias", which also adds the zero
//!   point in the integer domain.
//!
//! Then `+ zero_point` as a clamp to `[act_min - zp, act_max - zp]` followed
//! by the add (the exact sum, clamped), and a pack to the output width.

use core::arch::x86_64::*;

use crate::kernel::output_stage::{Channel, Clamp, Job, Lanes, RequantOutput, run_lanes};
use crate::requant::QuantizedMultiplier;

lanes!(V8, 8, "avx2", __m256i, __m256);

/// `1.5 · 2^23`: adding it to `|v| < 2^22` leaves `round_ties_even(v)` in
/// the low mantissa bits.
const MAGIC: f32 = 12_582_912.0;

/// The clamp constants.
#[derive(Clone, Copy)]
pub(super) struct Out {
    zero_point: __m256i,
    /// `act_min - zero_point`, `act_max - zero_point`.
    lo: __m256i,
    hi: __m256i,
    lo_f: __m256,
    hi_f: __m256,
    magic: __m256,
    /// `bits(MAGIC) - zero_point`.
    magic_zp: __m256i,
}

#[inline]
#[target_feature(enable = "avx2")]
fn out(c: Clamp) -> Out {
    let (lo, hi) = (c.act_min - c.zero_point, c.act_max - c.zero_point);
    Out {
        zero_point: _mm256_set1_epi32(c.zero_point),
        lo: _mm256_set1_epi32(lo),
        hi: _mm256_set1_epi32(hi),
        lo_f: _mm256_set1_ps(lo as f32),
        hi_f: _mm256_set1_ps(hi as f32),
        magic: _mm256_set1_ps(MAGIC),
        magic_zp: _mm256_set1_epi32(MAGIC.to_bits() as i32 - c.zero_point),
    }
}

/// `clamp(y, lo, hi) + zero_point`.
#[inline]
#[target_feature(enable = "avx2")]
fn finish(y: __m256i, k: &Out) -> __m256i {
    _mm256_add_epi32(
        _mm256_min_epi32(_mm256_max_epi32(y, k.lo), k.hi),
        k.zero_point,
    )
}

/// Bits 31..62 of `x·q + 2^30` per lane (SRDHM without its saturation,
/// which `q >= 0` never needs), `x` already shifted left.
#[inline]
#[target_feature(enable = "avx2")]
fn srdhm(x: __m256i, q: __m256i) -> __m256i {
    let nudge = _mm256_set1_epi64x(1 << 30);
    let even = _mm256_add_epi64(_mm256_mul_epi32(x, q), nudge);
    let odd = _mm256_add_epi64(
        _mm256_mul_epi32(_mm256_srli_epi64::<32>(x), _mm256_srli_epi64::<32>(q)),
        nudge,
    );
    // The low half after >> 31 (even lanes), the high half after << 1 (odd).
    _mm256_blend_epi32::<0b1010_1010>(_mm256_srli_epi64::<31>(even), _mm256_slli_epi64::<1>(odd))
}

/// `(L, R) = (max(shift, 0), max(-shift, 0))`.
#[inline]
#[target_feature(enable = "avx2")]
fn left_right(shift: __m256i) -> (__m256i, __m256i) {
    let zero = _mm256_setzero_si256();
    (
        _mm256_max_epi32(shift, zero),
        _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero),
    )
}

#[inline]
#[target_feature(enable = "avx2")]
fn double(x: __m256i, (q, shift): (__m256i, __m256i), k: &Out) -> __m256i {
    let (left, right) = left_right(shift);
    let high = srdhm(_mm256_sllv_epi32(x, left), q);
    // RDBPOT: (h >> R) + (remainder > threshold), threshold = mask/2 + (h < 0).
    let one = _mm256_set1_epi32(1);
    let mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    let remainder = _mm256_and_si256(high, mask);
    let threshold = _mm256_add_epi32(_mm256_srli_epi32::<1>(mask), _mm256_srli_epi32::<31>(high));
    let floor = _mm256_srav_epi32(high, right);
    // cmpgt is -1 where true: subtracting it adds one.
    finish(
        _mm256_sub_epi32(floor, _mm256_cmpgt_epi32(remainder, threshold)),
        k,
    )
}

#[inline]
#[target_feature(enable = "avx2")]
fn litert_optimized(x: __m256i, (q, shift): (__m256i, __m256i), k: &Out) -> __m256i {
    let (left, right) = left_right(shift);
    let high = srdhm(_mm256_sllv_epi32(x, left), q);
    // floor(h / 2^R) + bit R-1 of h; for R = 0 the count wraps to
    // 0xFFFF_FFFF and `vpsrlvd` gives 0.
    let one = _mm256_set1_epi32(1);
    let below = _mm256_srlv_epi32(high, _mm256_sub_epi32(right, one));
    let up = _mm256_add_epi32(_mm256_srav_epi32(high, right), _mm256_and_si256(below, one));
    finish(up, k)
}

/// Arithmetic right shift of 64-bit lanes by per-lane counts in `0..=63`.
#[inline]
#[target_feature(enable = "avx2")]
fn srav_epi64(v: __m256i, count: __m256i) -> __m256i {
    let sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), v);
    _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(v, sign), count), sign)
}

/// `(x·q + 2^(t-1)) >> t`, `t = 31 - shift` in `1..=62`, low 32 bits.
/// `q >= 0`, so `|x·q| < 2^62` and the sum fits.
#[inline]
#[target_feature(enable = "avx2")]
fn single(x: __m256i, (q, shift): (__m256i, __m256i), k: &Out) -> __m256i {
    let t = _mm256_sub_epi32(_mm256_set1_epi32(31), shift);
    let t_even = _mm256_and_si256(t, _mm256_set1_epi64x(0xFFFF_FFFF));
    let t_odd = _mm256_srli_epi64::<32>(t);
    let one = _mm256_set1_epi64x(1);
    let round = |p: __m256i, t: __m256i| {
        let half = _mm256_sllv_epi64(one, _mm256_sub_epi64(t, one));
        srav_epi64(_mm256_add_epi64(p, half), t)
    };
    let even = round(_mm256_mul_epi32(x, q), t_even);
    let odd = round(
        _mm256_mul_epi32(_mm256_srli_epi64::<32>(x), _mm256_srli_epi64::<32>(q)),
        t_odd,
    );
    finish(
        _mm256_blend_epi32::<0b1010_1010>(even, _mm256_slli_epi64::<32>(odd)),
        k,
    )
}

#[inline]
#[target_feature(enable = "avx2")]
fn float32(x: __m256i, scale: __m256, k: &Out) -> __m256i {
    let v = _mm256_mul_ps(_mm256_cvtepi32_ps(x), scale);
    // max first with the bound second: NaN becomes `lo`, as in the scalar code.
    let v = _mm256_min_ps(_mm256_max_ps(v, k.lo_f), k.hi_f);
    _mm256_sub_epi32(_mm256_castps_si256(_mm256_add_ps(v, k.magic)), k.magic_zp)
}

/// Splits 8 `#[repr(C)]` (multiplier, shift) pairs into two vectors.
#[inline]
#[target_feature(enable = "avx2")]
fn load_multipliers(m: &[QuantizedMultiplier; 8]) -> (__m256i, __m256i) {
    let (lo, hi) = m.split_at(4);
    // SAFETY: each half is 4 `#[repr(C)]` pairs of `i32`, 32 readable
    // bytes; `loadu` has no alignment requirement.
    let (a, b) = unsafe {
        (
            _mm256_loadu_si256(lo.as_ptr().cast()),
            _mm256_loadu_si256(hi.as_ptr().cast()),
        )
    };
    // [m0 s0 m1 s1 m2 s2 m3 s3] -> [m0 m1 m2 m3 s0 s1 s2 s3]
    let idx = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    let a = _mm256_permutevar8x32_epi32(a, idx);
    let b = _mm256_permutevar8x32_epi32(b, idx);
    (
        _mm256_permute2x128_si256::<0x20>(a, b),
        _mm256_permute2x128_si256::<0x31>(a, b),
    )
}

/// The first 16 bytes of a channel record: bias, multiplier, shift, scale.
#[inline]
#[target_feature(enable = "avx2")]
fn head(c: &Channel) -> __m128i {
    // SAFETY: `Channel` is `#[repr(C)]` and starts with four 4-byte fields
    // (`i32`, `QuantizedMultiplier` = two `i32`, `f32`): 16 readable bytes.
    unsafe { _mm_loadu_si128((c as *const Channel).cast()) }
}

/// Bias, (multiplier, shift) and scale vectors of 8 channel records: one
/// 16-byte load each (channels k and k+4 share a register) and a 4×4
/// transpose within 128-bit lanes.
#[inline]
#[target_feature(enable = "avx2")]
pub(super) fn load_channels(c: &[Channel; 8]) -> (__m256i, (__m256i, __m256i), __m256) {
    let pair = |k: usize| {
        _mm256_inserti128_si256::<1>(_mm256_castsi128_si256(head(&c[k])), head(&c[k + 4]))
    };
    let (r0, r1, r2, r3) = (pair(0), pair(1), pair(2), pair(3));
    let t0 = _mm256_unpacklo_epi32(r0, r1); // b0 b1 m0 m1 | b4 b5 m4 m5
    let t1 = _mm256_unpackhi_epi32(r0, r1); // s0 s1 f0 f1 | s4 s5 f4 f5
    let t2 = _mm256_unpacklo_epi32(r2, r3);
    let t3 = _mm256_unpackhi_epi32(r2, r3);
    (
        _mm256_unpacklo_epi64(t0, t2),
        (_mm256_unpackhi_epi64(t0, t2), _mm256_unpacklo_epi64(t1, t3)),
        _mm256_castsi256_ps(_mm256_unpackhi_epi64(t1, t3)),
    )
}

/// 8 clamped lanes packed to 8 `i16` (signed saturation never triggers).
#[inline]
#[target_feature(enable = "avx2")]
fn pack16(y: __m256i) -> __m128i {
    _mm_packs_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256::<1>(y))
}

#[inline]
#[target_feature(enable = "avx2")]
fn zero() -> __m256i {
    _mm256_setzero_si256()
}

#[inline]
#[target_feature(enable = "avx2")]
fn load(a: &[i32; 8]) -> __m256i {
    // SAFETY: `a` is 32 readable bytes; `loadu` needs no alignment.
    unsafe { _mm256_loadu_si256(a.as_ptr().cast()) }
}

#[inline]
#[target_feature(enable = "avx2")]
fn add(a: __m256i, b: __m256i) -> __m256i {
    _mm256_add_epi32(a, b)
}

#[inline]
#[target_feature(enable = "avx2")]
fn splat_multiplier(m: QuantizedMultiplier) -> (__m256i, __m256i) {
    (_mm256_set1_epi32(m.multiplier), _mm256_set1_epi32(m.shift))
}

#[inline]
#[target_feature(enable = "avx2")]
fn splat_scale(s: f32) -> __m256 {
    _mm256_set1_ps(s)
}

#[inline]
#[target_feature(enable = "avx2")]
fn load_scales(s: &[f32; 8]) -> __m256 {
    // SAFETY: `s` is 32 readable bytes; `loadu` needs no alignment.
    unsafe { _mm256_loadu_ps(s.as_ptr()) }
}

#[inline]
#[target_feature(enable = "avx2")]
fn store_i8(y: __m256i, o: &mut [i8; 8]) {
    let w = pack16(y);
    // SAFETY: `o` is 8 writable bytes, what `movq` stores.
    unsafe { _mm_storel_epi64(o.as_mut_ptr().cast(), _mm_packs_epi16(w, w)) }
}

#[inline]
#[target_feature(enable = "avx2")]
fn store_u8(y: __m256i, o: &mut [u8; 8]) {
    let w = pack16(y);
    // SAFETY: `o` is 8 writable bytes, what `movq` stores.
    unsafe { _mm_storel_epi64(o.as_mut_ptr().cast(), _mm_packus_epi16(w, w)) }
}

#[inline]
#[target_feature(enable = "avx2")]
fn store_i16(y: __m256i, o: &mut [i16; 8]) {
    // SAFETY: `o` is 16 writable bytes, what `movdqu` stores.
    unsafe { _mm_storeu_si128(o.as_mut_ptr().cast(), pack16(y)) }
}
