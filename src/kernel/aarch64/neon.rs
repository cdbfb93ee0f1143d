//! AArch64 NEON, the baseline: 32-byte blocks (one `LD1` of two q
//! registers); full-range int8 with `SMULL` / `SMULL2` (8 exact int16
//! products each) and two `SADALP` (adjacent pairs into the int32 lanes),
//! narrow weights (`[-127, 127]`) with `SMULL` + `SMLAL2` and one `SADALP`
//! (a pair of products reaches 2^15 only as `(-128)·(-128)` twice). GEMV
//! tiles of 8 rows: 8 accumulators, 2 activation and 2 weight registers of
//! the 32. Packed int4 (TFLite's nibble order, [`Int4`]): the nibbles
//! sign-extended in place, the activations split even / odd by `LD2`, then
//! the narrow step (weights in `[-8, 7]`). Every int8-activation `Mac` of
//! this folder is one [`Mac32`]: how a step loads ([`Layout`]: [`Int8`],
//! [`Int4`]) times the 16-byte multiply ([`Step16`]: `Full`, `Narrow`,
//! `dotprod.rs`'s `Sdot`), each written once. 16x8 ([`Wide16`]):
//! weights sign-extended (`SXTL`), `SMLAL` / `SMLAL2` of int16 pairs into
//! i32 lanes, widened into i64 lanes (`SADALP`) before they can overflow
//! (the bound is in `simd/wide.rs`); 4 rows per pass share each activation
//! load.

use core::arch::aarch64::*;

use super::requant;
use crate::kernel::Isa;
use crate::kernel::dispatch::Kernels;
use crate::kernel::output_stage::Job;
use crate::kernel::simd::wide::{self, Mac16};
use crate::kernel::simd::{Block, Lanes, Mac, dot, gemm, isa_table};

/// The NEON table (NEON is part of the AArch64 baseline).
#[inline]
pub(super) fn kernels() -> &'static Kernels {
    &KERNELS
}

isa_table!(Isa::Neon, "neon", crate::kernel::dispatch::GENERIC, {
    dot_i8: |a: &[i8], b: &[i8]| -> i32 { dot::dot(Mac32(Int8, Full, Neon::new()), a, b) }
    dot_i8_narrow: |x: &[i8], w: &[i8]| -> i32 {
        dot::dot(Mac32(Int8, Narrow, Neon::new()), x, w)
    }
    gemm_i8: |w: &[i8], x: &[i8], cols: usize, out: &mut [i32]| {
        gemm::gemm::<_, 8, 4, 2>(Mac32(Int8, Full, Neon::new()), w, cols, x, cols, out)
    }
    gemm_i8_narrow: |w: &[i8], x: &[i8], cols: usize, out: &mut [i32]| {
        gemm::gemm::<_, 4, 4, 2>(Mac32(Int8, Narrow, Neon::new()), w, cols, x, cols, out)
    }
    row_sums_i8: |w: &[i8], cols: usize, out: &mut [i32]| {
        dot::row_sums(Mac32(Int8, Full, Neon::new()), w, cols, out)
    }
    // Int4 products are at most `8·128`: the narrow step is exact.
    dot_i4_i8: |packed: &[u8], x: &[i8]| -> i32 {
        dot::dot(Mac32(Int4, Narrow, Neon::new()), x, packed)
    }
    gemv_i4_i8: |packed: &[u8], x: &[i8], out: &mut [i32]| {
        gemm::gemv_i4(Mac32(Int4, Narrow, Neon::new()), packed, x, out)
    }
    dot_i16_i8: |x: &[i16], w: &[i8]| -> i64 { wide::dot(Wide16(Neon::new()), x, w) }
    gemv_i16_i8: |w: &[i8], x: &[i16], out: &mut [i64]| {
        wide::gemv::<_, 4>(Wide16(Neon::new()), w, x, out)
    }
    requantize_i8: |job: &Job<'_>, out: &mut [i8]| { requant::run(job, out) }
    requantize_u8: |job: &Job<'_>, out: &mut [u8]| { requant::run(job, out) }
    requantize_i16: |job: &Job<'_>, out: &mut [i16]| { requant::run(job, out) }
});

/// Proof that NEON is enabled, and its four i32 lanes.
#[derive(Clone, Copy)]
pub(super) struct Neon(());

impl Neon {
    /// Only code compiled with NEON enabled can call this.
    #[inline]
    #[target_feature(enable = "neon")]
    pub(super) fn new() -> Self {
        Neon(())
    }

    /// Loads 32 int8 (any alignment) as two vectors.
    #[inline(always)]
    pub(super) fn load(self, b: &[i8; 32]) -> int8x16x2_t {
        // SAFETY: `self` proves NEON; `b` is 32 readable bytes.
        unsafe { vld1q_s8_x2(b.as_ptr()) }
    }
}

impl Lanes for Neon {
    type Acc = int32x4_t;

    #[inline(always)]
    fn zero(self) -> int32x4_t {
        // SAFETY: `self` proves NEON.
        unsafe { vdupq_n_s32(0) }
    }

    #[inline(always)]
    fn add(self, a: int32x4_t, b: int32x4_t) -> int32x4_t {
        // SAFETY: `self` proves NEON.
        unsafe { vaddq_s32(a, b) }
    }

    #[inline(always)]
    fn sum(self, a: int32x4_t) -> i32 {
        // SAFETY: `self` proves NEON (`ADDV`, wrapping).
        unsafe { vaddvq_s32(a) }
    }

    #[inline(always)]
    fn sum4(self, a: [int32x4_t; 4]) -> [i32; 4] {
        let mut out = [0i32; 4];
        // SAFETY: `self` proves NEON; `out` holds 4 i32 (three `ADDP`).
        unsafe {
            let s = vpaddq_s32(vpaddq_s32(a[0], a[1]), vpaddq_s32(a[2], a[3]));
            vst1q_s32(out.as_mut_ptr(), s);
        }
        out
    }
}

/// What an int8 multiply instruction supplies to [`Mac32`]: `acc + Σ a·b`
/// over 16 byte pairs, into the four i32 lanes (which lane gains which
/// products is the instruction's business: only the lanes' total is read).
/// `Full` and `Narrow` here, `dotprod.rs`'s `Sdot` (a type that is also the
/// proof of `dotprod`).
pub(super) trait Step16: Copy {
    /// `acc + Σ a·b` over 16 bytes; `n` is the proof of NEON.
    fn mac16(self, n: Neon, acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t;
}

/// How [`Mac32`] loads one step: 32 activations and the weights they meet,
/// each as two vectors, so that byte `j` of an activation vector meets byte
/// `j` of the weight vector of the same half.
pub(super) trait Layout: Copy {
    /// Weight storage.
    type Elem: Copy + Default;
    /// The weights of one step.
    type WBlock: Block<Self::Elem>;
    /// Loads 32 activations.
    fn x(self, n: Neon, b: &[i8; 32]) -> int8x16x2_t;
    /// Loads and prepares the weights they meet.
    fn w(self, n: Neon, b: &Self::WBlock) -> int8x16x2_t;
}

/// int8 weights: activations and weights each one `LD1` of 32 bytes, in
/// order.
#[derive(Clone, Copy)]
pub(super) struct Int8;

impl Layout for Int8 {
    type Elem = i8;
    type WBlock = [i8; 32];

    #[inline(always)]
    fn x(self, n: Neon, b: &[i8; 32]) -> int8x16x2_t {
        n.load(b)
    }

    #[inline(always)]
    fn w(self, n: Neon, b: &[i8; 32]) -> int8x16x2_t {
        n.load(b)
    }
}

/// TFLite-packed int4 weights (element `2k` in the low nibble of byte `k`):
/// 16 weight bytes against 32 activations.
///
/// The low nibbles sign-extend with `SHL #4` + `SSHR #4`, the high ones
/// with `SSHR #4`: byte `k` gives weights `2k` and `2k + 1` in lane `k` of
/// two vectors, so the activations are split the same way, even and odd
/// elements, by one `LD2` (shared by every weight row of a tile). The step
/// must be exact for weights in `[-8, 7]`. No bias (`W_BIAS = 0`); a
/// zero-padded weight byte is two zero weights.
#[derive(Clone, Copy)]
pub(super) struct Int4;

impl Layout for Int4 {
    type Elem = u8;
    type WBlock = [u8; 16];

    #[inline(always)]
    fn x(self, _: Neon, b: &[i8; 32]) -> int8x16x2_t {
        // SAFETY: the `Neon` argument proves NEON; `b` is 32 readable bytes.
        unsafe { vld2q_s8(b.as_ptr()) }
    }

    #[inline(always)]
    fn w(self, _: Neon, b: &[u8; 16]) -> int8x16x2_t {
        // SAFETY: the `Neon` argument proves NEON; `b` is 16 readable bytes.
        unsafe {
            let v = vreinterpretq_s8_u8(vld1q_u8(b.as_ptr()));
            int8x16x2_t(vshrq_n_s8::<4>(vshlq_n_s8::<4>(v)), vshrq_n_s8::<4>(v))
        }
    }
}

/// The `Mac` of every int8-activation kernel of this folder: 32 activations
/// per step, loaded by the layout `L`, multiplied by `S`'s 16-byte step
/// twice (once per half), on the [`Neon`] lanes it holds.
#[derive(Clone, Copy)]
pub(super) struct Mac32<L, S>(pub(super) L, pub(super) S, pub(super) Neon);

impl<L: Layout, S: Step16> Mac for Mac32<L, S> {
    type Lanes = Neon;
    type Elem = L::Elem;
    type XBlock = [i8; 32];
    type WBlock = L::WBlock;
    type X = int8x16x2_t;
    type W = int8x16x2_t;

    #[inline(always)]
    fn lanes(self) -> Neon {
        self.2
    }

    #[inline(always)]
    fn x(self, b: &[i8; 32]) -> int8x16x2_t {
        self.0.x(self.2, b)
    }

    #[inline(always)]
    fn w(self, b: &L::WBlock) -> int8x16x2_t {
        self.0.w(self.2, b)
    }

    #[inline(always)]
    fn mac(self, acc: int32x4_t, x: int8x16x2_t, w: int8x16x2_t) -> int32x4_t {
        let (s, n) = (self.1, self.2);
        s.mac16(n, s.mac16(n, acc, x.0, w.0), x.1, w.1)
    }
}

/// Full-range int8: `SMULL`, `SMULL2`, two `SADALP` per 16 bytes.
#[derive(Clone, Copy)]
struct Full;

impl Step16 for Full {
    #[inline(always)]
    fn mac16(self, _: Neon, acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
        // SAFETY: the `Neon` argument proves NEON.
        unsafe {
            let lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
            let hi = vmull_high_s8(a, b);
            vpadalq_s16(vpadalq_s16(acc, lo), hi)
        }
    }
}

/// `b` in `[-127, 127]` (narrow int8 weights; int4 nibbles): `SMULL`,
/// `SMLAL2`, one `SADALP` per 16 bytes. Each int16 lane holds two products,
/// at most `2·128·127 = 32512` in magnitude.
#[derive(Clone, Copy)]
struct Narrow;

impl Step16 for Narrow {
    #[inline(always)]
    fn mac16(self, _: Neon, acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
        // SAFETY: the `Neon` argument proves NEON.
        unsafe {
            let p = vmlal_high_s8(vmull_s8(vget_low_s8(a), vget_low_s8(b)), a, b);
            vpadalq_s16(acc, p)
        }
    }
}

/// 16x8: int16 activations against int8 weights sign-extended to int16,
/// 16 columns per step: `SMLAL` + `SMLAL2` twice, so each i32 lane gains 4
/// products per step; `SADALP` widens the lanes into two i64 lanes.
#[derive(Clone, Copy)]
struct Wide16(Neon);

impl Mac16 for Wide16 {
    type XBlock = [i16; 16];
    type WBlock = [i8; 16];
    type X = int16x8x2_t;
    type W = int16x8x2_t;
    type Acc = int32x4_t;
    type Wide = int64x2_t;

    const LANE_PRODUCTS: usize = 4;

    #[inline(always)]
    fn zero(self) -> int32x4_t {
        self.0.zero()
    }

    #[inline(always)]
    fn zero_wide(self) -> int64x2_t {
        // SAFETY: the `Neon` field proves NEON.
        unsafe { vdupq_n_s64(0) }
    }

    #[inline(always)]
    fn x(self, b: &[i16; 16]) -> int16x8x2_t {
        // SAFETY: the `Neon` field proves NEON; `b` is 16 readable i16.
        unsafe { vld1q_s16_x2(b.as_ptr()) }
    }

    #[inline(always)]
    fn w(self, b: &[i8; 16]) -> int16x8x2_t {
        // SAFETY: the `Neon` field proves NEON; `b` is 16 readable bytes.
        unsafe {
            let v = vld1q_s8(b.as_ptr());
            int16x8x2_t(vmovl_s8(vget_low_s8(v)), vmovl_high_s8(v))
        }
    }

    #[inline(always)]
    fn mac(self, acc: int32x4_t, x: int16x8x2_t, w: int16x8x2_t) -> int32x4_t {
        // SAFETY: the `Neon` field proves NEON.
        unsafe {
            let acc = vmlal_s16(acc, vget_low_s16(x.0), vget_low_s16(w.0));
            let acc = vmlal_high_s16(acc, x.0, w.0);
            let acc = vmlal_s16(acc, vget_low_s16(x.1), vget_low_s16(w.1));
            vmlal_high_s16(acc, x.1, w.1)
        }
    }

    #[inline(always)]
    fn widen(self, wide: int64x2_t, acc: int32x4_t) -> int64x2_t {
        // SAFETY: the `Neon` field proves NEON (`SADALP`: pairs of i32 lanes
        // added into the i64 lanes, exactly).
        unsafe { vpadalq_s32(wide, acc) }
    }

    #[inline(always)]
    fn sum(self, wide: int64x2_t) -> i64 {
        // SAFETY: the `Neon` field proves NEON.
        unsafe { vaddvq_s64(wide) }
    }
}
