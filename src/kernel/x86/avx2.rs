//! AVX2: 32-byte blocks, eight i32 lanes. All 128-bit intrinsics here are
//! compiled with VEX encodings (the target feature implies AVX), so no
//! legacy-SSE instruction ever runs with dirty upper YMM halves.
//!
//! * full range ([`Full`]): sign-extend both operands to i16 (`vpmovsxbw`
//!   straight from memory) and multiply-add pairs into i32 (`vpmaddwd`).
//!   Exact for every input.
//! * narrow range ([`Narrow`]): the sign trick, `vpmaddubsw(|x|, sign(w,
//!   x))` then `vpmaddwd(., 1)`; exact because `w` is in `[-127, 127]`, so
//!   neither the sign transfer wraps nor a pair (at most `2·128·127`)
//!   saturates int16.
//! * int4 ([`I4`]): nibbles `n ^ 8 = w + 8` are unsigned in `[0, 15]` and
//!   become the unsigned operand of `vpmaddubsw` against full-range int8
//!   activations; `8·Σx` is subtracted once (`W_BIAS = 8`). (Collecting
//!   four blocks in int16 before widening measured at most 4% faster at 512
//!   columns and no faster at 4096.)
//!
//! * 16x8 ([`Wide16`]): int16 activations as they are, weights
//!   sign-extended (`vpmovsxbw` from memory), `vpmaddwd` into i32 lanes
//!   widened into i64 (`vpmovsxdq`) every 127 blocks of 32 (the bound is in
//!   `simd/wide.rs`); 4 rows per pass share each activation load.
//!
//! No aligned head is peeled (`Mac::ALIGN`): a 32-byte load 16 bytes past a
//! line costs nothing measurable here, while the head's zero-padded partial
//! block did (GEMV 512x512 narrow from a `Vec` 16 bytes past a line: 2.6x
//! slower with it).
//!
//! Every intrinsic call is sound because the kernel types hold an [`Avx2`],
//! which can only be made where AVX2 is enabled.

use core::arch::x86_64::*;

use super::{Byte, requant};
use crate::kernel::DepthwiseTile;
use crate::kernel::Isa;
use crate::kernel::depthwise::Activation;
use crate::kernel::dispatch::Kernels;
use crate::kernel::output_stage::Job;
use crate::kernel::simd::depthwise::{self, DepthwiseMac};
use crate::kernel::simd::wide::{self, Mac16};
use crate::kernel::simd::{Lanes, Mac, dot, gemm, isa_table};

/// The AVX2 table, if this CPU has AVX2.
#[inline]
pub(super) fn kernels() -> Option<&'static Kernels> {
    super::has_avx2().then_some(&KERNELS)
}

isa_table!(Isa::Avx2, "avx2", crate::kernel::dispatch::GENERIC, {
    dot_i8: |a: &[i8], b: &[i8]| -> i32 { dot::dot(Full(Avx2::new()), a, b) }
    dot_i8_narrow: |x: &[i8], w: &[i8]| -> i32 { dot::dot(Narrow(Avx2::new()), x, w) }
    dot_i4_i8: |packed: &[u8], x: &[i8]| -> i32 { dot::dot(I4::<false>(Avx2::new()), x, packed) }
    gemm_i8: |w: &[i8], x: &[i8], cols: usize, out: &mut [i32]| {
        gemm::gemm::<_, 8, 4, 2>(Full(Avx2::new()), w, cols, x, cols, out)
    }
    gemm_i8_narrow: |w: &[i8], x: &[i8], cols: usize, out: &mut [i32]| {
        gemm::gemm::<_, 8, 4, 2>(Narrow(Avx2::new()), w, cols, x, cols, out)
    }
    gemv_i4_i8: |packed: &[u8], x: &[i8], out: &mut [i32]| {
        gemm::gemv_i4(I4::<false>(Avx2::new()), packed, x, out)
    }
    gemv_i4_prepared: |bytes: &[u8], row_bytes: usize, x: &[i8], out: &mut [i32]| {
        gemm::gemv::<_, 4>(I4::<true>(Avx2::new()), bytes, row_bytes, x, out)
    }
    row_sums_i8: |w: &[i8], cols: usize, out: &mut [i32]| {
        dot::row_sums(Full(Avx2::new()), w, cols, out)
    }
    row_sums_i4: |packed: &[u8], cols: usize, out: &mut [i32]| {
        dot::row_sums_i4(I4::<false>(Avx2::new()), packed, cols, out)
    }
    dot_i16_i8: |x: &[i16], w: &[i8]| -> i64 { wide::dot(Wide16(Avx2::new()), x, w) }
    gemv_i16_i8: |w: &[i8], x: &[i16], out: &mut [i64]| {
        wide::gemv::<_, 4>(Wide16(Avx2::new()), w, x, out)
    }
    depthwise_i8: |tile: &DepthwiseTile<'_, i8>, out: &mut [i32]| {
        depthwise::run(Depthwise(Avx2::new()), tile, out)
    }
    depthwise_i16: |tile: &DepthwiseTile<'_, i16>, out: &mut [i64]| {
        depthwise::run(Depthwise(Avx2::new()), tile, out)
    }
    requantize_i8: |job: &Job<'_>, out: &mut [i8]| { requant::avx2::run(job, out) }
    requantize_u8: |job: &Job<'_>, out: &mut [u8]| { requant::avx2::run(job, out) }
    requantize_i16: |job: &Job<'_>, out: &mut [i16]| { requant::avx2::run(job, out) }
});

/// Proof that AVX2 is enabled, and its eight i32 lanes.
#[derive(Clone, Copy)]
pub(super) struct Avx2(());

impl Avx2 {
    /// Only code compiled with AVX2 enabled can call this.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(super) fn new() -> Self {
        Avx2(())
    }
}

/// Loads 32 bytes (unaligned).
#[inline(always)]
fn load32<T: Byte>(_: Avx2, p: &[T; 32]) -> __m256i {
    // SAFETY: the `Avx2` argument proves AVX2; `p` is 32 readable one-byte
    // elements.
    unsafe { _mm256_loadu_si256(p.as_ptr().cast()) }
}

/// The two 32-byte halves of a 64-byte block.
#[inline(always)]
fn halves<T: Byte>(a: Avx2, p: &[T; 64]) -> (__m256i, __m256i) {
    let (h, _) = p.as_chunks::<32>();
    (load32(a, &h[0]), load32(a, &h[1]))
}

impl Lanes for Avx2 {
    type Acc = __m256i;

    #[inline(always)]
    fn zero(self) -> __m256i {
        // SAFETY: `self` proves AVX2.
        unsafe { _mm256_setzero_si256() }
    }

    #[inline(always)]
    fn add(self, a: __m256i, b: __m256i) -> __m256i {
        // SAFETY: `self` proves AVX2.
        unsafe { _mm256_add_epi32(a, b) }
    }

    #[inline(always)]
    fn sum(self, v: __m256i) -> i32 {
        // SAFETY: `self` proves AVX2.
        unsafe {
            let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
            _mm_cvtsi128_si32(s)
        }
    }

    #[inline(always)]
    fn sum4(self, a: [__m256i; 4]) -> [i32; 4] {
        let mut out = [0i32; 4];
        // SAFETY: `self` proves AVX2; `out` is 16 writable bytes, the store
        // is unaligned.
        unsafe {
            let h = _mm256_hadd_epi32(_mm256_hadd_epi32(a[0], a[1]), _mm256_hadd_epi32(a[2], a[3]));
            let s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256::<1>(h));
            _mm_storeu_si128(out.as_mut_ptr().cast(), s);
        }
        out
    }
}

/// Full-range int8: `vpmovsxbw` of each 16-byte half, `vpmaddwd`.
#[derive(Clone, Copy)]
struct Full(Avx2);

impl Full {
    #[inline(always)]
    fn widen(self, p: &[i8; 32]) -> (__m256i, __m256i) {
        // SAFETY: `self.0` proves AVX2; `p` is 32 readable bytes, read as
        // two unaligned 16-byte halves.
        unsafe {
            let lo = _mm_loadu_si128(p.as_ptr().cast());
            let hi = _mm_loadu_si128(p.as_ptr().add(16).cast());
            (_mm256_cvtepi8_epi16(lo), _mm256_cvtepi8_epi16(hi))
        }
    }
}

impl Mac for Full {
    type Lanes = Avx2;
    type Elem = i8;
    type XBlock = [i8; 32];
    type WBlock = [i8; 32];
    type X = (__m256i, __m256i);
    type W = (__m256i, __m256i);

    #[inline(always)]
    fn lanes(self) -> Avx2 {
        self.0
    }

    #[inline(always)]
    fn x(self, b: &[i8; 32]) -> Self::X {
        self.widen(b)
    }

    #[inline(always)]
    fn w(self, b: &[i8; 32]) -> Self::W {
        self.widen(b)
    }

    #[inline(always)]
    fn mac(self, acc: __m256i, x: Self::X, w: Self::W) -> __m256i {
        // SAFETY: `self.0` proves AVX2.
        unsafe {
            let p = _mm256_add_epi32(_mm256_madd_epi16(x.0, w.0), _mm256_madd_epi16(x.1, w.1));
            _mm256_add_epi32(acc, p)
        }
    }
}

/// Narrow-range weights: the sign trick on 32 bytes.
#[derive(Clone, Copy)]
struct Narrow(Avx2);

impl Mac for Narrow {
    type Lanes = Avx2;
    type Elem = i8;
    type XBlock = [i8; 32];
    type WBlock = [i8; 32];
    /// `(|x|, x)`.
    type X = (__m256i, __m256i);
    type W = __m256i;

    #[inline(always)]
    fn lanes(self) -> Avx2 {
        self.0
    }

    #[inline(always)]
    fn x(self, b: &[i8; 32]) -> Self::X {
        let x = load32(self.0, b);
        // SAFETY: `self.0` proves AVX2.
        (unsafe { _mm256_abs_epi8(x) }, x)
    }

    #[inline(always)]
    fn w(self, b: &[i8; 32]) -> __m256i {
        load32(self.0, b)
    }

    #[inline(always)]
    fn mac(self, acc: __m256i, x: Self::X, w: __m256i) -> __m256i {
        // SAFETY: `self.0` proves AVX2.
        unsafe {
            let pairs = _mm256_maddubs_epi16(x.0, _mm256_sign_epi8(w, x.1));
            _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)))
        }
    }
}

/// int4, `w + 8` in `[0, 15]` as the unsigned operand of `vpmaddubsw`
/// (pairs at most `2·15·128`; two of them still fit int16 before
/// `vpmaddwd` widens), 32 weight bytes against 64 activations.
///
/// * `I4<false>`, TFLite's packing (element `2k` in the low nibble of byte
///   `k`): per 128-bit lane the unpacked nibbles hold elements 0..16 (lane
///   0) and 32..48 (lane 1), then 16..32 and 48..64, so the activations are
///   regrouped the same way.
/// * `I4<true>`, `PreparedI4`: byte `j` holds element `j` (low nibble) and
///   `32 + j` (high nibble), already `w + 8`: the nibbles meet the
///   activations in order.
#[derive(Clone, Copy)]
struct I4<const PREPARED: bool>(Avx2);

impl<const PREPARED: bool> Mac for I4<PREPARED> {
    type Lanes = Avx2;
    type Elem = u8;
    type XBlock = [i8; 64];
    type WBlock = [u8; 32];
    type X = (__m256i, __m256i);
    type W = (__m256i, __m256i);

    const W_BIAS: i32 = 8;

    #[inline(always)]
    fn lanes(self) -> Avx2 {
        self.0
    }

    #[inline(always)]
    fn x(self, b: &[i8; 64]) -> Self::X {
        let (x0, x1) = halves(self.0, b);
        if PREPARED {
            return (x0, x1);
        }
        // SAFETY: `self.0` proves AVX2.
        unsafe {
            (
                _mm256_permute2x128_si256::<0x20>(x0, x1),
                _mm256_permute2x128_si256::<0x31>(x0, x1),
            )
        }
    }

    #[inline(always)]
    fn w(self, b: &[u8; 32]) -> Self::W {
        // SAFETY: `self.0` proves AVX2.
        unsafe {
            let flip = _mm256_set1_epi8(if PREPARED { 0 } else { 0x88u8 as i8 });
            let bytes = _mm256_xor_si256(load32(self.0, b), flip);
            let mask = _mm256_set1_epi8(0x0F);
            let lo = _mm256_and_si256(bytes, mask);
            let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(bytes), mask);
            if PREPARED {
                (lo, hi)
            } else {
                (_mm256_unpacklo_epi8(lo, hi), _mm256_unpackhi_epi8(lo, hi))
            }
        }
    }

    #[inline(always)]
    fn mac(self, acc: __m256i, x: Self::X, w: Self::W) -> __m256i {
        // SAFETY: `self.0` proves AVX2.
        unsafe {
            let p = _mm256_add_epi16(
                _mm256_maddubs_epi16(w.0, x.0),
                _mm256_maddubs_epi16(w.1, x.1),
            );
            _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)))
        }
    }
}

/// `acc + Σ x·w` per i32 lane of two registers of i16 pairs (`vpmaddwd`):
/// the depthwise kernels' step on interleaved taps.
#[inline(always)]
fn madd_pairs(
    _: Avx2,
    acc: (__m256i, __m256i),
    x: (__m256i, __m256i),
    w: (__m256i, __m256i),
) -> (__m256i, __m256i) {
    // SAFETY: the `Avx2` argument proves AVX2.
    unsafe {
        (
            _mm256_add_epi32(acc.0, _mm256_madd_epi16(x.0, w.0)),
            _mm256_add_epi32(acc.1, _mm256_madd_epi16(x.1, w.1)),
        )
    }
}

/// The first `N` elements of `out` as one block, or, when `out` is
/// shorter, `spare` holding a copy of `out` (then whatever `spare` held);
/// see [`copy_back`].
#[inline(always)]
fn whole_block<'a, T: Copy, const N: usize>(
    out: &'a mut [T],
    spare: &'a mut [T; N],
) -> &'a mut [T; N] {
    if out.len() < N {
        spare[..out.len()].copy_from_slice(out);
        return spare;
    }
    out.first_chunk_mut::<N>().unwrap_or(spare)
}

/// After [`whole_block`] gave `spare`: its first `out.len()` elements back
/// into `out` (nothing to do when `out` was the block itself).
#[inline(always)]
fn copy_back<T: Copy, const N: usize>(out: &mut [T], spare: &[T; N]) {
    if out.len() < N {
        out.copy_from_slice(&spare[..out.len()]);
    }
}

/// Depthwise convolution, 16 channels per step, for int8 ([`Taps`] for
/// `i8`) and int16 (`i16`) activations alike: the two taps' activations and
/// weights interleaved into i16 pairs and multiplied pairwise into the
/// channels' i32 lanes (`vpmaddwd`), 32 multiply-accumulates in two
/// instructions. What differs between the two is only how a block becomes
/// pairs and how the lanes reach the accumulators: [`Taps`].
#[derive(Clone, Copy)]
struct Depthwise(Avx2);

/// An activation type of the AVX2 depthwise kernel: its blocks as i16
/// pairs, and its i32 lanes added into `Acc`.
trait Taps: Activation<Acc: Default> {
    /// `(a[c], b[c])` as i16 pairs in two registers (in the order
    /// `add_block` undoes).
    fn pairs(k: Avx2, a: &[Self; 16], b: &[Self; 16]) -> (__m256i, __m256i);
    /// The weights of two taps as the same pairs.
    fn weights(k: Avx2, a: &[i8; 16], b: &[i8; 16]) -> (__m256i, __m256i);
    /// `out[c] += acc[c]` for 16 channels.
    fn add_block(k: Avx2, acc: (__m256i, __m256i), out: &mut [Self::Acc; 16]);
}

/// int8: the bytes of two taps interleaved (`vpunpcklbw`/`vpunpckhbw`) and
/// sign-extended to i16 pairs; exact for every int8 input.
impl Taps for i8 {
    #[inline(always)]
    fn pairs(_: Avx2, a: &[i8; 16], b: &[i8; 16]) -> (__m256i, __m256i) {
        // SAFETY: the `Avx2` argument proves AVX2; `a` and `b` are 16
        // readable bytes each, loaded unaligned.
        unsafe {
            let a = _mm_loadu_si128(a.as_ptr().cast());
            let b = _mm_loadu_si128(b.as_ptr().cast());
            (
                _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, b)),
                _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(a, b)),
            )
        }
    }

    #[inline(always)]
    fn weights(k: Avx2, a: &[i8; 16], b: &[i8; 16]) -> (__m256i, __m256i) {
        Self::pairs(k, a, b)
    }

    #[inline(always)]
    fn add_block(_: Avx2, acc: (__m256i, __m256i), out: &mut [i32; 16]) {
        let p = out.as_mut_ptr();
        // SAFETY: the `Avx2` argument proves AVX2; `p` points to 16
        // readable and writable i32s, accessed unaligned as two halves of 8.
        unsafe {
            let lo = _mm256_loadu_si256(p.cast());
            let hi = _mm256_loadu_si256(p.add(8).cast());
            _mm256_storeu_si256(p.cast(), _mm256_add_epi32(lo, acc.0));
            _mm256_storeu_si256(p.add(8).cast(), _mm256_add_epi32(hi, acc.1));
        }
    }
}

/// int16 (16x8): the activations of two taps interleaved per 128-bit lane
/// (`vpunpcklwd`/`vpunpckhwd`), the weights sign-extended and interleaved
/// the same way; a pair is at most `2·32768·128 = 2^23`, so the i32 sums of
/// one pass are exact, and they are widened to the `i64` accumulators once
/// per pixel.
///
/// The in-lane interleave puts channels 0..4 and 8..12 in the first
/// register, 4..8 and 12..16 in the second; `add_block` restores the order.
impl Taps for i16 {
    #[inline(always)]
    fn pairs(_: Avx2, a: &[i16; 16], b: &[i16; 16]) -> (__m256i, __m256i) {
        // SAFETY: the `Avx2` argument proves AVX2; `a` and `b` are 32
        // readable bytes each, loaded unaligned.
        unsafe {
            let a = _mm256_loadu_si256(a.as_ptr().cast());
            let b = _mm256_loadu_si256(b.as_ptr().cast());
            (_mm256_unpacklo_epi16(a, b), _mm256_unpackhi_epi16(a, b))
        }
    }

    #[inline(always)]
    fn weights(_: Avx2, a: &[i8; 16], b: &[i8; 16]) -> (__m256i, __m256i) {
        // SAFETY: the `Avx2` argument proves AVX2; `a` and `b` are 16
        // readable bytes each, loaded unaligned.
        unsafe {
            let a = _mm256_cvtepi8_epi16(_mm_loadu_si128(a.as_ptr().cast()));
            let b = _mm256_cvtepi8_epi16(_mm_loadu_si128(b.as_ptr().cast()));
            (_mm256_unpacklo_epi16(a, b), _mm256_unpackhi_epi16(a, b))
        }
    }

    #[inline(always)]
    fn add_block(_: Avx2, acc: (__m256i, __m256i), out: &mut [i64; 16]) {
        let p = out.as_mut_ptr();
        // SAFETY: the `Avx2` argument proves AVX2; `p` points to 16
        // readable and writable i64s, accessed unaligned in four quarters
        // of 4.
        unsafe {
            let quarters = [
                _mm256_castsi256_si128(acc.0),
                _mm256_castsi256_si128(acc.1),
                _mm256_extracti128_si256::<1>(acc.0),
                _mm256_extracti128_si256::<1>(acc.1),
            ];
            for (q, &v) in quarters.iter().enumerate() {
                let d = p.add(4 * q).cast::<__m256i>();
                _mm256_storeu_si256(
                    d,
                    _mm256_add_epi64(_mm256_loadu_si256(d), _mm256_cvtepi32_epi64(v)),
                );
            }
        }
    }
}

impl<X: Taps> DepthwiseMac<X> for Depthwise {
    type Block = [X; 16];
    type WBlock = [i8; 16];
    type W = (__m256i, __m256i);
    type Acc = (__m256i, __m256i);

    #[inline(always)]
    fn zero(self) -> Self::Acc {
        (self.0.zero(), self.0.zero())
    }

    #[inline(always)]
    fn weights(self, w0: &[i8; 16], w1: &[i8; 16]) -> Self::W {
        X::weights(self.0, w0, w1)
    }

    #[inline(always)]
    fn mac(self, acc: Self::Acc, x0: &[X; 16], x1: &[X; 16], w: Self::W) -> Self::Acc {
        madd_pairs(self.0, acc, X::pairs(self.0, x0, x1), w)
    }

    #[inline(always)]
    fn add_to(self, acc: Self::Acc, out: &mut [X::Acc]) {
        let mut spare = [X::Acc::default(); 16];
        X::add_block(self.0, acc, whole_block(out, &mut spare));
        copy_back(out, &spare);
    }
}

/// 16x8: 32 int16 activations (two registers, loaded as they are) against
/// 32 int8 weights sign-extended to int16 (`vpmovsxbw` of each 16-byte
/// half), multiplied pairwise into eight i32 lanes (`vpmaddwd`; a pair is
/// at most `2·2^22 = 2^23`). Each lane gains 4 products per step (two from
/// each `vpmaddwd`), so `wide::rows` widens every `511 / 4 = 127` steps:
/// `127·4·2^22 < 2^31`. The i64 lanes are two registers of four.
#[derive(Clone, Copy)]
struct Wide16(Avx2);

impl Mac16 for Wide16 {
    type XBlock = [i16; 32];
    type WBlock = [i8; 32];
    type X = (__m256i, __m256i);
    type W = (__m256i, __m256i);
    type Acc = __m256i;
    type Wide = (__m256i, __m256i);

    const LANE_PRODUCTS: usize = 4;

    #[inline(always)]
    fn zero(self) -> __m256i {
        self.0.zero()
    }

    #[inline(always)]
    fn zero_wide(self) -> Self::Wide {
        (self.0.zero(), self.0.zero())
    }

    #[inline(always)]
    fn x(self, b: &[i16; 32]) -> Self::X {
        // SAFETY: `self.0` proves AVX2; `b` is 64 readable bytes, loaded
        // unaligned as two halves.
        unsafe {
            (
                _mm256_loadu_si256(b.as_ptr().cast()),
                _mm256_loadu_si256(b.as_ptr().add(16).cast()),
            )
        }
    }

    #[inline(always)]
    fn w(self, b: &[i8; 32]) -> Self::W {
        Full(self.0).widen(b)
    }

    #[inline(always)]
    fn mac(self, acc: __m256i, x: Self::X, w: Self::W) -> __m256i {
        // SAFETY: `self.0` proves AVX2.
        unsafe {
            let p = _mm256_add_epi32(_mm256_madd_epi16(x.0, w.0), _mm256_madd_epi16(x.1, w.1));
            _mm256_add_epi32(acc, p)
        }
    }

    #[inline(always)]
    fn widen(self, wide: Self::Wide, acc: __m256i) -> Self::Wide {
        // SAFETY: `self.0` proves AVX2.
        unsafe {
            (
                _mm256_add_epi64(wide.0, _mm256_cvtepi32_epi64(_mm256_castsi256_si128(acc))),
                _mm256_add_epi64(
                    wide.1,
                    _mm256_cvtepi32_epi64(_mm256_extracti128_si256::<1>(acc)),
                ),
            )
        }
    }

    #[inline(always)]
    fn sum(self, wide: Self::Wide) -> i64 {
        // SAFETY: `self.0` proves AVX2.
        unsafe {
            let v = _mm256_add_epi64(wide.0, wide.1);
            let s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
            _mm_cvtsi128_si64(_mm_add_epi64(s, _mm_unpackhi_epi64(s, s)))
        }
    }
}
