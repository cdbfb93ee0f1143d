//! SSE2: the x86_64 baseline, always available.
//!
//! SSE2 has neither `pmovsxbw` (SSE4.1) nor `pmaddubsw`/`psignb` (SSSE3), so
//! both operands are sign-extended by unpacking each byte with itself and
//! shifting right arithmetically by 8, then multiplied pairwise with
//! `pmaddwd`. That is exact for the full int8 range, so the narrow-range
//! entries use the same kernel on this ISA. Both operands widen to two
//! registers, so tiles stay at 4 rows × 1 activation row: 8 rows, or 4 × 2,
//! run out of the 16 XMM registers (measured 2x and 0.8x slower).
//!
//! Every intrinsic call is sound because the kernel holds an [`Sse2`],
//! which can only be made where SSE2 is enabled.

use core::arch::x86_64::*;

use crate::kernel::Isa;
use crate::kernel::dispatch::Kernels;
use crate::kernel::simd::{Lanes, Mac, dot, gemm, isa_table};

/// The SSE2 table (SSE2 is always there).
#[inline]
pub(super) fn kernels() -> &'static Kernels {
    &KERNELS
}

isa_table!(Isa::Sse2, "sse2", crate::kernel::dispatch::GENERIC, {
    dot_i8: |a: &[i8], b: &[i8]| -> i32 { dot::dot(Full(Sse2::new()), a, b) }
    dot_i8_narrow: |x: &[i8], w: &[i8]| -> i32 { dot::dot(Full(Sse2::new()), x, w) }
    gemm_i8: |w: &[i8], x: &[i8], cols: usize, out: &mut [i32]| {
        gemm::gemm::<_, 4, 4, 1>(Full(Sse2::new()), w, cols, x, cols, out)
    }
    gemm_i8_narrow: |w: &[i8], x: &[i8], cols: usize, out: &mut [i32]| {
        gemm::gemm::<_, 4, 4, 1>(Full(Sse2::new()), w, cols, x, cols, out)
    }
    row_sums_i8: |w: &[i8], cols: usize, out: &mut [i32]| {
        dot::row_sums(Full(Sse2::new()), w, cols, out)
    }
});

/// Proof that SSE2 is enabled, and its four i32 lanes.
#[derive(Clone, Copy)]
struct Sse2(());

impl Sse2 {
    /// Only code compiled with SSE2 enabled can call this.
    #[inline]
    #[target_feature(enable = "sse2")]
    fn new() -> Self {
        Sse2(())
    }
}

impl Lanes for Sse2 {
    type Acc = __m128i;

    #[inline(always)]
    fn zero(self) -> __m128i {
        // SAFETY: `self` proves SSE2.
        unsafe { _mm_setzero_si128() }
    }

    #[inline(always)]
    fn add(self, a: __m128i, b: __m128i) -> __m128i {
        // SAFETY: `self` proves SSE2.
        unsafe { _mm_add_epi32(a, b) }
    }

    #[inline(always)]
    fn sum(self, v: __m128i) -> i32 {
        // SAFETY: `self` proves SSE2.
        unsafe {
            let s = _mm_add_epi32(v, _mm_shuffle_epi32::<0b01_00_11_10>(v));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
            _mm_cvtsi128_si32(s)
        }
    }
}

/// Full-range int8: 16 bytes sign-extended to two vectors of eight i16,
/// multiplied pairwise (`pmaddwd`).
#[derive(Clone, Copy)]
struct Full(Sse2);

impl Full {
    #[inline(always)]
    fn widen(self, p: &[i8; 16]) -> (__m128i, __m128i) {
        // SAFETY: `self.0` proves SSE2; `p` is 16 readable bytes, the load
        // is unaligned.
        unsafe {
            let v = _mm_loadu_si128(p.as_ptr().cast());
            (
                _mm_srai_epi16::<8>(_mm_unpacklo_epi8(v, v)),
                _mm_srai_epi16::<8>(_mm_unpackhi_epi8(v, v)),
            )
        }
    }
}

impl Mac for Full {
    type Lanes = Sse2;
    type Elem = i8;
    type XBlock = [i8; 16];
    type WBlock = [i8; 16];
    type X = (__m128i, __m128i);
    type W = (__m128i, __m128i);

    #[inline(always)]
    fn lanes(self) -> Sse2 {
        self.0
    }

    #[inline(always)]
    fn x(self, b: &[i8; 16]) -> Self::X {
        self.widen(b)
    }

    #[inline(always)]
    fn w(self, b: &[i8; 16]) -> Self::W {
        self.widen(b)
    }

    #[inline(always)]
    fn mac(self, acc: __m128i, x: Self::X, w: Self::W) -> __m128i {
        // SAFETY: `self.0` proves SSE2.
        unsafe {
            let p = _mm_add_epi32(_mm_madd_epi16(x.0, w.0), _mm_madd_epi16(x.1, w.1));
            _mm_add_epi32(acc, p)
        }
    }
}
