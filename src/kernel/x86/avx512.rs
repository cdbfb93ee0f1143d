//! AVX-512 VNNI: 64-byte blocks, sixteen i32 lanes. Only 512-bit forms and
//! opmask loads are used, so `avx512vl` is not needed; AVX2 comes with the
//! detection (a VNNI entry may run an AVX2 kernel where that is faster).
//!
//! The workhorse is `vpdpbusd`: in each i32 lane, four `u8 × s8` products
//! summed exactly (at most `4·255·128 = 130560` in magnitude) and added to
//! the accumulator with **wrap-around** (the saturating form is
//! `vpdpbusds`, never used here): 64 multiply-accumulates per instruction.
//! Its first operand is unsigned, so one side is biased and the bias
//! removed once, exactly, in wrapping i32:
//! * int8 GEMV/GEMM ([`Int8`]): the weights are biased (`w ^ 0x80 = w +
//!   128` as u8), so the correction `128·Σx` is one number per activation
//!   row, shared by every weight row (`W_BIAS = 128`); narrow-range weights
//!   need no other kernel (AVX-512 has no `vpsignb`, and the full-range one
//!   costs the same).
//! * dot ([`Dot`]): there is no row to share `Σx` with, so a second
//!   `vpdpbusd` against a vector of ones sums `x` in the same loop and each
//!   lane subtracts `128·Σx` before the final reduction.
//! * int4 ([`I4`]): nibbles biased to `w + 8` in `[0, 15]` are the
//!   unsigned operand (`W_BIAS = 8`).
//!
//! * 16x8 ([`Wide16`]): no bias needed: `vpmaddwd` on int16 activations
//!   and `vpmovsxbw`-widened weights, 32 columns per instruction, the i32
//!   lanes widened into i64 before they can overflow (`simd/wide.rs`).
//!
//! Because every correction is exact mod 2^32, the results equal the
//! generic path bit for bit for every input, including -128 and int32
//! wrap-around. Partial blocks use zero-masked loads (`vmovdqu8 {z}`), which
//! read only the selected bytes; a zero activation adds nothing.
//!
//! Every intrinsic call is sound because the kernel types hold an
//! [`Avx512`], which can only be made where these features are enabled.

use core::arch::x86_64::*;

use super::{Byte, requant};
use crate::kernel::DepthwiseTile;
use crate::kernel::Isa;
use crate::kernel::dispatch::Kernels;
use crate::kernel::output_stage::Job;
use crate::kernel::simd::depthwise::{self, DepthwiseMac};
use crate::kernel::simd::wide::{self, Mac16};
use crate::kernel::simd::{Lanes, Mac, dot, gemm, isa_table};

/// The AVX-512 VNNI table, if this CPU has it (and AVX2).
#[inline]
pub(super) fn kernels() -> Option<&'static Kernels> {
    super::has_avx512vnni().then_some(&KERNELS)
}

isa_table!(Isa::Avx512Vnni, "avx2,avx512f,avx512bw,avx512vnni", super::avx2::KERNELS, {
    dot_i8: |a: &[i8], b: &[i8]| -> i32 { dot::dot(Dot(Avx512::new()), a, b) }
    dot_i8_narrow: |x: &[i8], w: &[i8]| -> i32 { dot::dot(Dot(Avx512::new()), x, w) }
    dot_i4_i8: |packed: &[u8], x: &[i8]| -> i32 { dot::dot(I4::<false>(Avx512::new()), x, packed) }
    gemm_i8: |w: &[i8], x: &[i8], cols: usize, out: &mut [i32]| {
        int8_gemm(Avx512::new(), w, x, cols, out)
    }
    gemm_i8_narrow: |w: &[i8], x: &[i8], cols: usize, out: &mut [i32]| {
        int8_gemm(Avx512::new(), w, x, cols, out)
    }
    gemv_i4_i8: |packed: &[u8], x: &[i8], out: &mut [i32]| {
        gemm::gemv_i4(I4::<false>(Avx512::new()), packed, x, out)
    }
    gemv_i4_prepared: |bytes: &[u8], row_bytes: usize, x: &[i8], out: &mut [i32]| {
        gemm::gemv::<_, 4>(I4::<true>(Avx512::new()), bytes, row_bytes, x, out)
    }
    row_sums_i8: |w: &[i8], cols: usize, out: &mut [i32]| {
        dot::row_sums(Int8(Avx512::new()), w, cols, out)
    }
    row_sums_i4: |packed: &[u8], cols: usize, out: &mut [i32]| {
        dot::row_sums_i4(I4::<false>(Avx512::new()), packed, cols, out)
    }
    dot_i16_i8: |x: &[i16], w: &[i8]| -> i64 { wide::dot(Wide16(Avx512::new()), x, w) }
    gemv_i16_i8: |w: &[i8], x: &[i16], out: &mut [i64]| {
        wide::gemv::<_, 4>(Wide16(Avx512::new()), w, x, out)
    }
    depthwise_i8: |tile: &DepthwiseTile<'_, i8>, out: &mut [i32]| {
        depthwise::run(Depthwise(Avx512::new()), tile, out)
    }
    requantize_i8: |job: &Job<'_>, out: &mut [i8]| { requant::avx512::run(job, out) }
    requantize_u8: |job: &Job<'_>, out: &mut [u8]| { requant::avx512::run(job, out) }
    requantize_i16: |job: &Job<'_>, out: &mut [i16]| { requant::avx512::run(job, out) }
});

/// int8 GEMM and GEMV. GEMV: 8 rows per tile (one shared activation load
/// per 8 rows, half the per-tile work of 4); GEMM: 4 × 4 (16 accumulators
/// of the 32 registers).
///
/// Measured on the Xeon (family 6 model 207), best of many runs: 512x512
/// from L2, 36.0 MAC/cycle without software prefetch against 32.3 with
/// `prefetcht0` 1 KiB ahead per row (with 4-row tiles the prefetch had
/// helped, 25.6 to 27.8); 4096x4096 (L3) the same either way; from DRAM
/// (8 matrices of 128 MiB rotated) neither the prefetch nor reading past
/// 32 MiB one row at a time (4 KiB prefetch or none) beat these tiles
/// beyond the noise of the shared machine. So there is neither.
#[inline(always)]
fn int8_gemm(a: Avx512, w: &[i8], x: &[i8], cols: usize, out: &mut [i32]) {
    gemm::gemm::<_, 8, 4, 4>(Int8(a), w, cols, x, cols, out);
}

/// Proof that AVX2 and AVX-512 F/BW/VNNI are enabled, and sixteen i32 lanes.
#[derive(Clone, Copy)]
pub(super) struct Avx512(());

impl Avx512 {
    /// Only code compiled with these features enabled can call this.
    #[inline]
    #[target_feature(enable = "avx2,avx512f,avx512bw,avx512vnni")]
    pub(super) fn new() -> Self {
        Avx512(())
    }
}

/// Loads 64 bytes (unaligned).
#[inline(always)]
fn load64<T: Byte>(_: Avx512, p: &[T; 64]) -> __m512i {
    // SAFETY: the `Avx512` argument proves AVX-512 F; `p` is 64 readable
    // one-byte elements.
    unsafe { _mm512_loadu_si512(p.as_ptr().cast()) }
}

/// The first `s.len()` (at most 64) bytes of `s` in the low lanes, zeros
/// in the others.
#[inline(always)]
fn load_part<T: Byte>(_: Avx512, s: &[T]) -> __m512i {
    let n = s.len().min(64);
    let mask: __mmask64 = if n == 0 { 0 } else { u64::MAX >> (64 - n) };
    // SAFETY: the `Avx512` argument proves AVX-512 BW. The mask selects the
    // first `n <= s.len()` bytes; a masked load does not access the others
    // (the hardware suppresses their faults and LLVM's masked load does not
    // read them), so nothing outside `s` is read.
    unsafe { _mm512_maskz_loadu_epi8(mask, s.as_ptr().cast()) }
}

/// `v ^ 0x80`: int8 reinterpreted as `v + 128` in u8.
#[inline(always)]
fn bias128(_: Avx512, v: __m512i) -> __m512i {
    // SAFETY: the `Avx512` argument proves AVX-512 F.
    unsafe { _mm512_xor_si512(v, _mm512_set1_epi8(i8::MIN)) }
}

/// `acc + Σ u·s` per i32 lane (`vpdpbusd`, wrapping).
#[inline(always)]
fn dpbusd(_: Avx512, acc: __m512i, u: __m512i, s: __m512i) -> __m512i {
    // SAFETY: the `Avx512` argument proves AVX-512 VNNI.
    unsafe { _mm512_dpbusd_epi32(acc, u, s) }
}

impl Lanes for Avx512 {
    type Acc = __m512i;

    #[inline(always)]
    fn zero(self) -> __m512i {
        // SAFETY: `self` proves AVX-512 F.
        unsafe { _mm512_setzero_si512() }
    }

    #[inline(always)]
    fn add(self, a: __m512i, b: __m512i) -> __m512i {
        // SAFETY: `self` proves AVX-512 F.
        unsafe { _mm512_add_epi32(a, b) }
    }

    #[inline(always)]
    fn sum(self, v: __m512i) -> i32 {
        // SAFETY: `self` proves AVX-512 F.
        unsafe { _mm512_reduce_add_epi32(v) }
    }

    /// Interleave and add (32-bit, then 64-bit) so each 128-bit lane holds
    /// partial sums of all four, then fold the four lanes.
    #[inline(always)]
    fn sum4(self, a: [__m512i; 4]) -> [i32; 4] {
        let mut out = [0i32; 4];
        // SAFETY: `self` proves AVX-512 F; `out` is 16 writable bytes, the
        // store is unaligned.
        unsafe {
            let s01 = _mm512_add_epi32(
                _mm512_unpacklo_epi32(a[0], a[1]),
                _mm512_unpackhi_epi32(a[0], a[1]),
            );
            let s23 = _mm512_add_epi32(
                _mm512_unpacklo_epi32(a[2], a[3]),
                _mm512_unpackhi_epi32(a[2], a[3]),
            );
            let s = _mm512_add_epi32(
                _mm512_unpacklo_epi64(s01, s23),
                _mm512_unpackhi_epi64(s01, s23),
            );
            let h = _mm256_add_epi32(_mm512_castsi512_si256(s), _mm512_extracti64x4_epi64::<1>(s));
            let q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256::<1>(h));
            _mm_storeu_si128(out.as_mut_ptr().cast(), q);
        }
        out
    }
}

/// int8 weights biased by 128 against raw activations (GEMV, GEMM, row
/// sums): `Σ (w+128)·x`, corrected by the drivers.
#[derive(Clone, Copy)]
struct Int8(Avx512);

impl Mac for Int8 {
    type Lanes = Avx512;
    type Elem = i8;
    type XBlock = [i8; 64];
    type WBlock = [i8; 64];
    type X = __m512i;
    type W = __m512i;

    const W_BIAS: i32 = 128;
    const ALIGN: usize = 64;

    #[inline(always)]
    fn lanes(self) -> Avx512 {
        self.0
    }

    #[inline(always)]
    fn x(self, b: &[i8; 64]) -> __m512i {
        load64(self.0, b)
    }

    #[inline(always)]
    fn w(self, b: &[i8; 64]) -> __m512i {
        bias128(self.0, load64(self.0, b))
    }

    #[inline(always)]
    fn x_part(self, s: &[i8]) -> __m512i {
        load_part(self.0, s)
    }

    /// The masked-out lanes hold `0 + 128`, against zero activations.
    #[inline(always)]
    fn w_part(self, s: &[i8]) -> __m512i {
        bias128(self.0, load_part(self.0, s))
    }

    #[inline(always)]
    fn mac(self, acc: __m512i, x: __m512i, w: __m512i) -> __m512i {
        dpbusd(self.0, acc, w, x)
    }
}

/// The dot product's accumulator: `Σ (w+128)·x` and `Σ x` per lane.
#[derive(Clone, Copy)]
struct DotLanes(Avx512);

impl Lanes for DotLanes {
    type Acc = (__m512i, __m512i);

    #[inline(always)]
    fn zero(self) -> Self::Acc {
        (self.0.zero(), self.0.zero())
    }

    #[inline(always)]
    fn add(self, a: Self::Acc, b: Self::Acc) -> Self::Acc {
        (self.0.add(a.0, b.0), self.0.add(a.1, b.1))
    }

    /// Lane by lane, `Σ (w+128)·x - 128·Σx = Σ w·x` mod 2^32.
    #[inline(always)]
    fn sum(self, a: Self::Acc) -> i32 {
        // SAFETY: `self.0` proves AVX-512 F.
        let exact = unsafe { _mm512_sub_epi32(a.0, _mm512_slli_epi32::<7>(a.1)) };
        self.0.sum(exact)
    }
}

/// The dot product: [`Int8`] that also sums the activations in its loop.
#[derive(Clone, Copy)]
struct Dot(Avx512);

impl Mac for Dot {
    type Lanes = DotLanes;
    type Elem = i8;
    type XBlock = [i8; 64];
    type WBlock = [i8; 64];
    type X = __m512i;
    type W = __m512i;

    const ALIGN: usize = 64;

    #[inline(always)]
    fn lanes(self) -> DotLanes {
        DotLanes(self.0)
    }

    #[inline(always)]
    fn x(self, b: &[i8; 64]) -> __m512i {
        Int8(self.0).x(b)
    }

    #[inline(always)]
    fn w(self, b: &[i8; 64]) -> __m512i {
        Int8(self.0).w(b)
    }

    #[inline(always)]
    fn x_part(self, s: &[i8]) -> __m512i {
        Int8(self.0).x_part(s)
    }

    #[inline(always)]
    fn w_part(self, s: &[i8]) -> __m512i {
        Int8(self.0).w_part(s)
    }

    #[inline(always)]
    fn mac(self, acc: (__m512i, __m512i), x: __m512i, w: __m512i) -> (__m512i, __m512i) {
        // SAFETY: `self.0` proves AVX-512 BW.
        let ones = unsafe { _mm512_set1_epi8(1) };
        (dpbusd(self.0, acc.0, w, x), dpbusd(self.0, acc.1, ones, x))
    }
}

/// int4, nibbles biased to `w + 8` as the unsigned operand; 64 weight
/// bytes (128 weights) against 128 activations per step, two `vpdpbusd`.
///
/// * `I4<false>`, TFLite's packing: low nibbles against the even
///   activations, high nibbles against the odd ones. Activation lane `j`
///   of the first vector holds `x[8j], x[8j+2], x[8j+4], x[8j+6]`, of the
///   second the odd neighbours: the elements whose weights sit in the low
///   (resp. high) nibbles of packed bytes `4j..4j+4`.
/// * `I4<true>`, `PreparedI4`: a 64-byte load holds two prepared blocks;
///   low nibbles against `x[0..32] ++ x[64..96]`, high ones against
///   `x[32..64] ++ x[96..128]`.
#[derive(Clone, Copy)]
struct I4<const PREPARED: bool>(Avx512);

impl<const PREPARED: bool> I4<PREPARED> {
    /// Raw TFLite nibbles need `n ^ 8 = w + 8`; prepared ones are `w + 8`.
    const FLIP: i8 = if PREPARED { 0 } else { 8 };

    /// The two nibbles of each byte as u8 vectors, `(b & 0x0F) ^ FLIP` and
    /// `((b >> 4) & 0x0F) ^ FLIP`, one `vpternlogd` each.
    #[inline(always)]
    fn nibbles(self, bytes: __m512i) -> (__m512i, __m512i) {
        // SAFETY: `self.0` proves AVX-512 F and BW.
        unsafe {
            let mask = _mm512_set1_epi8(0x0F);
            let flip = _mm512_set1_epi8(Self::FLIP);
            // 0x6A is the truth table of (a & b) ^ c.
            let lo = _mm512_ternarylogic_epi32::<0x6A>(bytes, mask, flip);
            let hi = _mm512_ternarylogic_epi32::<0x6A>(_mm512_srli_epi16::<4>(bytes), mask, flip);
            (lo, hi)
        }
    }
}

impl<const PREPARED: bool> Mac for I4<PREPARED> {
    type Lanes = Avx512;
    type Elem = u8;
    type XBlock = [i8; 128];
    type WBlock = [u8; 64];
    type X = (__m512i, __m512i);
    type W = (__m512i, __m512i);

    const W_BIAS: i32 = 8;

    #[inline(always)]
    fn lanes(self) -> Avx512 {
        self.0
    }

    #[inline(always)]
    fn x(self, b: &[i8; 128]) -> Self::X {
        let (h, _) = b.as_chunks::<64>();
        let (x0, x1) = (load64(self.0, &h[0]), load64(self.0, &h[1]));
        // SAFETY: `self.0` proves AVX-512 F and BW.
        unsafe {
            if PREPARED {
                return (
                    _mm512_shuffle_i64x2::<0b01_00_01_00>(x0, x1),
                    _mm512_shuffle_i64x2::<0b11_10_11_10>(x0, x1),
                );
            }
            // Per 128-bit lane: the even bytes of each 8-byte group, then
            // the odd ones, so each qword holds 8 even or 8 odd bytes.
            let order = _mm512_broadcast_i32x4(_mm_setr_epi8(
                0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
            ));
            let x0 = _mm512_shuffle_epi8(x0, order);
            let x1 = _mm512_shuffle_epi8(x1, order);
            // Qword 2l of each half holds the even bytes of its lane l,
            // 2l+1 the odd ones; gather them in element order.
            let even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
            let odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
            (
                _mm512_permutex2var_epi64(x0, even, x1),
                _mm512_permutex2var_epi64(x0, odd, x1),
            )
        }
    }

    #[inline(always)]
    fn w(self, b: &[u8; 64]) -> Self::W {
        self.nibbles(load64(self.0, b))
    }

    /// The masked-out bytes give nibbles `0 ^ FLIP`, against zero activations.
    #[inline(always)]
    fn w_part(self, s: &[u8]) -> Self::W {
        self.nibbles(load_part(self.0, s))
    }

    #[inline(always)]
    fn mac(self, acc: __m512i, x: Self::X, w: Self::W) -> __m512i {
        dpbusd(self.0, dpbusd(self.0, acc, w.0, x.0), w.1, x.1)
    }
}

/// Depthwise convolution, 32 channels per step: the bytes of two taps
/// interleaved per 128-bit lane (`vpunpcklbw`/`vpunpckhbw` on 32 bytes),
/// sign-extended to i16 pairs and multiplied pairwise into the channels'
/// i32 lanes with the add fused (`vpdpwssd`, wrapping): 64
/// multiply-accumulates in two instructions, exact for every int8 input.
///
/// The in-lane interleave puts channels 0..8 and 16..24 in the first
/// accumulator, 8..16 and 24..32 in the second; the weights go through the
/// same interleave, and [`DepthwiseMac::add_to`] restores the order.
#[derive(Clone, Copy)]
struct Depthwise(Avx512);

impl Depthwise {
    /// `(a[c], b[c])` as i16 pairs, in the order described above.
    #[inline(always)]
    fn pairs(self, a: &[i8; 32], b: &[i8; 32]) -> (__m512i, __m512i) {
        // SAFETY: `self.0` proves AVX2 and AVX-512 BW; `a` and `b` are 32
        // readable bytes each, loaded unaligned.
        unsafe {
            let a = _mm256_loadu_si256(a.as_ptr().cast());
            let b = _mm256_loadu_si256(b.as_ptr().cast());
            (
                _mm512_cvtepi8_epi16(_mm256_unpacklo_epi8(a, b)),
                _mm512_cvtepi8_epi16(_mm256_unpackhi_epi8(a, b)),
            )
        }
    }
}

impl DepthwiseMac<i8> for Depthwise {
    type Block = [i8; 32];
    type WBlock = [i8; 32];
    type W = (__m512i, __m512i);
    type Acc = (__m512i, __m512i);

    #[inline(always)]
    fn zero(self) -> Self::Acc {
        (self.0.zero(), self.0.zero())
    }

    #[inline(always)]
    fn weights(self, w0: &[i8; 32], w1: &[i8; 32]) -> Self::W {
        self.pairs(w0, w1)
    }

    #[inline(always)]
    fn mac(self, acc: Self::Acc, x0: &[i8; 32], x1: &[i8; 32], w: Self::W) -> Self::Acc {
        let x = self.pairs(x0, x1);
        // SAFETY: `self.0` proves AVX-512 VNNI.
        unsafe {
            (
                _mm512_dpwssd_epi32(acc.0, x.0, w.0),
                _mm512_dpwssd_epi32(acc.1, x.1, w.1),
            )
        }
    }

    #[inline(always)]
    fn add_to(self, acc: Self::Acc, out: &mut [i32]) {
        let n = out.len().min(32);
        let mask = |k: usize| -> __mmask16 { (((1u32 << k) - 1) & 0xFFFF) as __mmask16 };
        let (m0, m1) = (mask(n.min(16)), mask(n.saturating_sub(16)));
        let p = out.as_mut_ptr();
        // SAFETY: `self.0` proves AVX-512 F. The masks select the first
        // `n <= out.len()` i32s (channels 0..16 at `p`, 16..32 at
        // `p + 16`); masked loads and stores touch no other element, and
        // `p.wrapping_add(16)` is only dereferenced under a nonzero mask,
        // i.e. when `out` holds more than 16 elements.
        unsafe {
            let lo = _mm512_shuffle_i64x2::<0x44>(acc.0, acc.1);
            let hi = _mm512_shuffle_i64x2::<0xEE>(acc.0, acc.1);
            let q = p.wrapping_add(16);
            let sum_lo = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m0, p), lo);
            _mm512_mask_storeu_epi32(p, m0, sum_lo);
            let sum_hi = _mm512_add_epi32(_mm512_maskz_loadu_epi32(m1, q), hi);
            _mm512_mask_storeu_epi32(q, m1, sum_hi);
        }
    }
}

/// 16x8 on 512 bits: 32 int16 activations in one register against 32
/// weights sign-extended from 32 bytes (`vpmovsxbw`), one `vpmaddwd` into
/// sixteen i32 lanes (2 products per lane per step, so `wide::rows` widens
/// every 255 steps: `510·2^22 < 2^31`), widened with `vpmovsxdq` into two
/// registers of eight i64.
#[derive(Clone, Copy)]
struct Wide16(Avx512);

impl Mac16 for Wide16 {
    type XBlock = [i16; 32];
    type WBlock = [i8; 32];
    type X = __m512i;
    type W = __m512i;
    type Acc = __m512i;
    type Wide = (__m512i, __m512i);

    const LANE_PRODUCTS: usize = 2;

    #[inline(always)]
    fn zero(self) -> __m512i {
        self.0.zero()
    }

    #[inline(always)]
    fn zero_wide(self) -> Self::Wide {
        (self.0.zero(), self.0.zero())
    }

    #[inline(always)]
    fn x(self, b: &[i16; 32]) -> __m512i {
        // SAFETY: `self.0` proves AVX-512 F; `b` is 64 readable bytes,
        // loaded unaligned.
        unsafe { _mm512_loadu_si512(b.as_ptr().cast()) }
    }

    #[inline(always)]
    fn w(self, b: &[i8; 32]) -> __m512i {
        // SAFETY: `self.0` proves AVX-512 BW (and AVX); `b` is 32 readable
        // bytes, loaded unaligned.
        unsafe { _mm512_cvtepi8_epi16(_mm256_loadu_si256(b.as_ptr().cast())) }
    }

    #[inline(always)]
    fn mac(self, acc: __m512i, x: __m512i, w: __m512i) -> __m512i {
        // SAFETY: `self.0` proves AVX-512 BW.
        unsafe { _mm512_add_epi32(acc, _mm512_madd_epi16(x, w)) }
    }

    #[inline(always)]
    fn widen(self, wide: Self::Wide, acc: __m512i) -> Self::Wide {
        // SAFETY: `self.0` proves AVX-512 F.
        unsafe {
            (
                _mm512_add_epi64(wide.0, _mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc))),
                _mm512_add_epi64(
                    wide.1,
                    _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64::<1>(acc)),
                ),
            )
        }
    }

    #[inline(always)]
    fn sum(self, wide: Self::Wide) -> i64 {
        // SAFETY: `self.0` proves AVX-512 F.
        unsafe { _mm512_reduce_add_epi64(_mm512_add_epi64(wide.0, wide.1)) }
    }
}
