//! AVX2 slice requantization: TFLite's output stage on 8 lanes at a time,
//! bit-identical to the scalar `requant::requantize_scalar` for every input
//! the public API accepts (multiplier >= 0, -31 <= shift <= 30).
//!
//! The arithmetic per lane, as in the scalar code:
//! * double rounding: `x << L` (`vpsllvd`, wrapping), SRDHM as two
//!   `vpmuldq` (even / odd lanes, exact 64-bit products) plus `2^30`, bits
//!   31..62 of each sum recombined, then RDBPOT by `R` with gemmlowp's
//!   remainder/threshold fixup (`vpsravd` is a floor shift, the fixup makes
//!   it round half away from zero);
//! * single rounding: the exact 64-bit product plus `2^(t-1)`, an arithmetic
//!   64-bit shift by `t = 31 - shift` (AVX2 has no `vpsravq`, so
//!   `sign ^ ((v ^ sign) >>> t)`), low 32 bits kept (the scalar cast).
//!
//! Then `+ zero_point` (wrapping), clamp, and a pack to the output width.

use core::arch::x86_64::*;

use crate::requant::{
    Checked, Multipliers, QuantizedMultiplier, Rounding, requantize_scalar_range,
};

/// Proof that the running CPU has AVX2: the only way to reach the
/// `#[target_feature(enable = "avx2")]` code below.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2(());

impl Avx2 {
    /// `Some` if AVX2 is available: detected at run time under `std`
    /// (`is_x86_feature_detected!` caches its answer), otherwise known at
    /// compile time from `target_feature`.
    #[inline]
    pub(crate) fn detect() -> Option<Self> {
        #[cfg(feature = "std")]
        {
            if std::is_x86_feature_detected!("avx2") {
                return Some(Avx2(()));
            }
            None
        }
        #[cfg(all(not(feature = "std"), target_feature = "avx2"))]
        {
            Some(Avx2(()))
        }
        #[cfg(all(not(feature = "std"), not(target_feature = "avx2")))]
        {
            None
        }
    }

    /// Requantizes a validated call into `out` (meant to be as long as
    /// `c.acc`; any length is memory-safe: the loops zip the slices).
    pub(crate) fn requantize_i8(self, c: &Checked<'_>, out: &mut [i8]) {
        // SAFETY: `self` proves AVX2 is available, the only requirement of
        // `requantize_avx2`.
        unsafe { requantize_avx2(c, out) }
    }

    /// As [`Avx2::requantize_i8`], for `u8` output.
    pub(crate) fn requantize_u8(self, c: &Checked<'_>, out: &mut [u8]) {
        // SAFETY: as in `requantize_i8`.
        unsafe { requantize_avx2(c, out) }
    }

    /// As [`Avx2::requantize_i8`], for `i16` output.
    pub(crate) fn requantize_i16(self, c: &Checked<'_>, out: &mut [i16]) {
        // SAFETY: as in `requantize_i8`.
        unsafe { requantize_avx2(c, out) }
    }
}

/// Writes 8 `i32` lanes, already clamped to the output range, as 8 outputs.
trait Store8: crate::QInt {
    /// Stores the 8 lanes of `v` into `dst`.
    ///
    /// # Safety
    /// AVX2 available.
    unsafe fn store8(v: __m256i, dst: &mut [Self; 8]);
}

impl Store8 for i8 {
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn store8(v: __m256i, dst: &mut [Self; 8]) {
        let w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let b = _mm_packs_epi16(w, w);
        // SAFETY: `dst` is 8 writable bytes, exactly what `movq` stores.
        unsafe { _mm_storel_epi64(dst.as_mut_ptr().cast(), b) }
    }
}

impl Store8 for u8 {
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn store8(v: __m256i, dst: &mut [Self; 8]) {
        let w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let b = _mm_packus_epi16(w, w);
        // SAFETY: `dst` is 8 writable bytes, exactly what `movq` stores.
        unsafe { _mm_storel_epi64(dst.as_mut_ptr().cast(), b) }
    }
}

impl Store8 for i16 {
    #[inline]
    #[target_feature(enable = "avx2")]
    unsafe fn store8(v: __m256i, dst: &mut [Self; 8]) {
        let w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        // SAFETY: `dst` is 16 writable bytes, exactly what `movdqu` stores.
        unsafe { _mm_storeu_si128(dst.as_mut_ptr().cast(), w) }
    }
}

/// Per-lane multiplier data for 8 lanes.
#[derive(Clone, Copy)]
struct Lanes {
    multiplier: __m256i,
    shift: __m256i,
}

/// Loads 8 `QuantizedMultiplier`s (`#[repr(C)]` pairs) and splits them into
/// a multiplier vector and a shift vector.
#[inline]
#[target_feature(enable = "avx2")]
fn load_multipliers(src: &[QuantizedMultiplier; 8]) -> Lanes {
    let (lo, hi) = src.split_at(4);
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
    Lanes {
        multiplier: _mm256_permute2x128_si256::<0x20>(a, b),
        shift: _mm256_permute2x128_si256::<0x31>(a, b),
    }
}

/// Loads 8 `i32`s.
#[inline]
#[target_feature(enable = "avx2")]
fn load8(src: &[i32; 8]) -> __m256i {
    // SAFETY: `src` is 32 readable bytes; `loadu` needs no alignment.
    unsafe { _mm256_loadu_si256(src.as_ptr().cast()) }
}

/// Double rounding: `rounding_divide_by_pot(srdhm(x << L, q), R)` per lane.
/// Requires `q >= 0` (so SRDHM never saturates) and `-31 <= shift <= 30`.
#[inline]
#[target_feature(enable = "avx2")]
fn mbqm_double(x: __m256i, m: Lanes) -> __m256i {
    let zero = _mm256_setzero_si256();
    let left = _mm256_max_epi32(m.shift, zero);
    let right = _mm256_max_epi32(_mm256_sub_epi32(zero, m.shift), zero);
    let x = _mm256_sllv_epi32(x, left);

    // SRDHM: (x·q + 2^30) >> 31, even and odd lanes as exact 64-bit products.
    let nudge = _mm256_set1_epi64x(1 << 30);
    let even = _mm256_add_epi64(_mm256_mul_epi32(x, m.multiplier), nudge);
    let odd = _mm256_add_epi64(
        _mm256_mul_epi32(
            _mm256_srli_epi64::<32>(x),
            _mm256_srli_epi64::<32>(m.multiplier),
        ),
        nudge,
    );
    // Bits 31..62 of each sum: the low half after >> 31 (even lanes), the
    // high half after << 1 (odd lanes).
    let high = _mm256_blend_epi32::<0b1010_1010>(
        _mm256_srli_epi64::<31>(even),
        _mm256_slli_epi64::<1>(odd),
    );

    // RDBPOT: (h >> R) + (remainder > threshold), threshold = mask/2 + (h < 0).
    let one = _mm256_set1_epi32(1);
    let mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    let remainder = _mm256_and_si256(high, mask);
    let threshold = _mm256_add_epi32(_mm256_srli_epi32::<1>(mask), _mm256_srli_epi32::<31>(high));
    let floor = _mm256_srav_epi32(high, right);
    // cmpgt is -1 where true: subtracting it adds one.
    _mm256_sub_epi32(floor, _mm256_cmpgt_epi32(remainder, threshold))
}

/// Arithmetic right shift of 64-bit lanes by per-lane counts in `0..=63`.
#[inline]
#[target_feature(enable = "avx2")]
fn srav_epi64(v: __m256i, count: __m256i) -> __m256i {
    let sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), v);
    _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(v, sign), count), sign)
}

/// Single rounding: `(x·q + 2^(t-1)) >> t`, `t = 31 - shift` in `1..=62`,
/// low 32 bits. Requires `q >= 0`, so `|x·q| < 2^62` and the sum fits.
#[inline]
#[target_feature(enable = "avx2")]
fn mbqm_single(x: __m256i, m: Lanes) -> __m256i {
    let t = _mm256_sub_epi32(_mm256_set1_epi32(31), m.shift);
    let low32 = _mm256_set1_epi64x(0xFFFF_FFFF);
    let t_even = _mm256_and_si256(t, low32);
    let t_odd = _mm256_srli_epi64::<32>(t);
    let one = _mm256_set1_epi64x(1);
    let round = |p: __m256i, t: __m256i| {
        let half = _mm256_sllv_epi64(one, _mm256_sub_epi64(t, one));
        srav_epi64(_mm256_add_epi64(p, half), t)
    };
    let even = round(_mm256_mul_epi32(x, m.multiplier), t_even);
    let odd = round(
        _mm256_mul_epi32(
            _mm256_srli_epi64::<32>(x),
            _mm256_srli_epi64::<32>(m.multiplier),
        ),
        t_odd,
    );
    _mm256_blend_epi32::<0b1010_1010>(even, _mm256_slli_epi64::<32>(odd))
}

/// The whole output stage on 8 lanes.
#[inline]
#[target_feature(enable = "avx2")]
fn output_stage8(x: __m256i, m: Lanes, c: &Constants) -> __m256i {
    let y = match c.rounding {
        Rounding::Double => mbqm_double(x, m),
        Rounding::Single => mbqm_single(x, m),
    };
    let y = _mm256_add_epi32(y, c.zero_point);
    _mm256_min_epi32(_mm256_max_epi32(y, c.act_min), c.act_max)
}

struct Constants {
    rounding: Rounding,
    zero_point: __m256i,
    act_min: __m256i,
    act_max: __m256i,
}

/// Requantizes `c.acc` into `out` (zipped: a shorter `out` is filled as
/// far as it goes, never written past).
///
/// # Safety
/// AVX2 available.
#[target_feature(enable = "avx2")]
unsafe fn requantize_avx2<T: Store8>(c: &Checked<'_>, out: &mut [T]) {
    let k = Constants {
        rounding: c.rounding,
        zero_point: _mm256_set1_epi32(c.zero_point),
        act_min: _mm256_set1_epi32(c.act_min),
        act_max: _mm256_set1_epi32(c.act_max),
    };
    if c.row == 0 {
        return; // acc is empty
    }
    // One row at a time: per channel, row j's lanes use bias[j] and m[j];
    // per tensor the "row" is the whole slice.
    for (row, (acc, out)) in c
        .acc
        .chunks_exact(c.row)
        .zip(out.chunks_exact_mut(c.row))
        .enumerate()
    {
        let (acc8, _) = acc.as_chunks::<8>();
        let (out8, _) = out.as_chunks_mut::<8>();
        let bias8 = c.bias.map(|b| b.as_chunks::<8>().0);
        for (j, (a, o)) in acc8.iter().zip(out8.iter_mut()).enumerate() {
            let mut x = load8(a);
            if let Some(b) = bias8.and_then(|b| b.get(j)) {
                x = _mm256_add_epi32(x, load8(b));
            }
            let m = match c.multipliers {
                Multipliers::PerTensor(m) => Lanes {
                    multiplier: _mm256_set1_epi32(m.multiplier),
                    shift: _mm256_set1_epi32(m.shift),
                },
                Multipliers::PerChannel(ms) => match ms.as_chunks::<8>().0.get(j) {
                    Some(m) => load_multipliers(m),
                    None => return, // unreachable: Checked sized the table
                },
            };
            // SAFETY: AVX2 is available (this function's contract).
            unsafe { T::store8(output_stage8(x, m, &k), o) }
        }
        let done = acc8.len() * 8;
        let start = row * c.row;
        requantize_scalar_range(c, &mut out[done..], start + done..start + c.row);
    }
}
