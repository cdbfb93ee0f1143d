//! NEON lanes of the output stage: 8 × `i32` as two `int32x4_t`, each
//! mode's arithmetic written once on 4 lanes and applied to both halves.
//! The algorithm (rows, whole vectors, the zero-padded tail) is
//! `kernel/output_stage/driver.rs`; this file supplies only lane
//! operations, and the `Neon` table (hence `NeonDotprod`, built over it)
//! lists its `run` as the `requantize_i8` / `u8` / `i16` entries.
//!
//! The arithmetic per lane, as the portable definitions:
//! * double rounding (TFLite Micro, gemmlowp): `x << L` (`SSHL`, wrapping),
//!   `SQRDMULH` (= `SaturatingRoundingDoublingHighMul`: the doubled product
//!   plus `2^31`, bits 32..63; it saturates only for `MIN · MIN`, and
//!   `q >= 0`), then `RoundingDivideByPOT` by `R`: `SRSHL` by `-R` rounds
//!   ties **up**, so negative values are first lowered by one where `R > 0`
//!   (`(h & -R) >> 31` is -1 exactly there), which turns ties up into ties
//!   away from zero and changes nothing else (gemmlowp's NEON fix-up; `h`
//!   is never `i32::MIN` after `SQRDMULH` by `q >= 0`, so the subtraction
//!   cannot wrap);
//! * LiteRT's optimized form: the same `SQRDMULH`, then `SRSHL` by `-R`
//!   with no fix-up (ties up, as LiteRT's NEON kernels);
//! * single rounding: the exact 64-bit products (`SMULL`, `SMULL2`), one
//!   rounding shift right by `t = 31 - shift` (`SRSHL` on 64-bit lanes by
//!   `-t`, which adds `2^(t-1)` without overflow), low 32 bits kept (`UZP1`:
//!   the scalar cast);
//! * `f32`: `SCVTF` (round to nearest, as `as f32`), `FMUL`, the clamp in
//!   float (`FMAXNM` / `FMINNM` return the number when one operand is NaN,
//!   as the scalar compares do), `FCVTNS` (round to nearest, ties to even,
//!   what the scalar "magic" add computes), then `+ zero_point`.
//!
//! Then `+ zero_point` with saturation (`SQADD`) and the clamp to
//! `[act_min, act_max]`: the bounds lie inside `i16`, so clamping the
//! saturated sum equals clamping the exact one. Stores narrow with `UZP1`
//! (the low halves of two vectors at once) and `XTN`: the lanes are already
//! in the output type's range.
//!
//! Per-channel parameters: the slice API's `(multiplier, shift)` pairs are
//! split by one `LD2` per 4 channels; a layer's channel records (bias,
//! multiplier, shift, scale in their first 16 bytes) are transposed as they
//! load, one `LD4` (single structure, to a lane) per channel.
//!
//! Bit-identical to the portable path for every input the API accepts (Q31
//! multipliers `>= 0` with `-31 <= shift <= 30`, finite scales `>= 0`,
//! clamp bounds inside `i16`).

use core::arch::aarch64::*;
use core::mem::{offset_of, size_of};

use crate::kernel::output_stage::{Channel, Clamp, Job, Lanes, RequantOutput, run_lanes};
use crate::requant::QuantizedMultiplier;

// `load_multipliers` reads the pairs as consecutive `i32`: significand, shift.
const _: () = assert!(offset_of!(QuantizedMultiplier, multiplier) == 0);
const _: () = assert!(offset_of!(QuantizedMultiplier, shift) == 4);
const _: () = assert!(size_of::<QuantizedMultiplier>() == 8);
// `load_channels` reads a record's first four fields as four `i32`.
const _: () = assert!(offset_of!(Channel, bias) == 0);
const _: () = assert!(offset_of!(Channel, multiplier) == 4);
const _: () = assert!(offset_of!(Channel, scale) == 12);

/// Proof that NEON is enabled: built only in [`run`].
#[derive(Clone, Copy)]
pub(super) struct V8(());

/// The output stage of `job` into `out` on NEON lanes.
#[inline]
#[target_feature(enable = "neon")]
pub(super) fn run<T: RequantOutput>(job: &Job<'_>, out: &mut [T]) {
    run_lanes(V8(()), job, out)
}

/// Four multipliers: Q31 significands and shifts.
#[derive(Clone, Copy)]
pub(super) struct Mult4 {
    q: int32x4_t,
    shift: int32x4_t,
}

/// The clamp constants.
#[derive(Clone, Copy)]
pub(super) struct Out {
    zero_point: int32x4_t,
    act_min: int32x4_t,
    act_max: int32x4_t,
    /// `act_min - zero_point`, `act_max - zero_point`, for the float clamp.
    lo_f: float32x4_t,
    hi_f: float32x4_t,
}

// The helpers below take the token `V8`, which exists only inside `run`,
// a `#[target_feature(enable = "neon")]` function (NEON is part of the
// AArch64 baseline); that is what every `SAFETY` comment refers to. They
// are `#[inline(always)]` so that they compile into `run`.

/// `clamp(y +sat zero_point, act_min, act_max)`.
#[inline(always)]
fn finish(_: V8, y: int32x4_t, k: &Out) -> int32x4_t {
    // SAFETY: `V8` proves NEON; register-only arithmetic.
    unsafe { vminq_s32(vmaxq_s32(vqaddq_s32(y, k.zero_point), k.act_min), k.act_max) }
}

/// `SQRDMULH(x << L, q)` and `-R`: the first rounding of double rounding.
#[inline(always)]
fn high(_: V8, x: int32x4_t, m: Mult4) -> (int32x4_t, int32x4_t) {
    // SAFETY: `V8` proves NEON; register-only arithmetic.
    unsafe {
        let zero = vdupq_n_s32(0);
        let (left, neg_right) = (vmaxq_s32(m.shift, zero), vminq_s32(m.shift, zero));
        (vqrdmulhq_s32(vshlq_s32(x, left), m.q), neg_right)
    }
}

/// Double rounding on 4 lanes.
#[inline(always)]
fn double4(v: V8, x: int32x4_t, m: Mult4, k: &Out) -> int32x4_t {
    let (h, neg_right) = high(v, x, m);
    // SAFETY: `V8` proves NEON; register-only arithmetic.
    let y = unsafe {
        let fixup = vshrq_n_s32::<31>(vandq_s32(h, neg_right));
        vrshlq_s32(vaddq_s32(h, fixup), neg_right)
    };
    finish(v, y, k)
}

/// LiteRT's optimized double rounding (second rounding ties up) on 4 lanes.
#[inline(always)]
fn litert4(v: V8, x: int32x4_t, m: Mult4, k: &Out) -> int32x4_t {
    let (h, neg_right) = high(v, x, m);
    // SAFETY: `V8` proves NEON; register-only arithmetic.
    finish(v, unsafe { vrshlq_s32(h, neg_right) }, k)
}

/// Single rounding on 4 lanes: `(x·q + 2^(t-1)) >> t`, `t = 31 - shift` in
/// `1..=62`, low 32 bits.
#[inline(always)]
fn single4(v: V8, x: int32x4_t, m: Mult4, k: &Out) -> int32x4_t {
    // SAFETY: `V8` proves NEON; register-only arithmetic.
    let y = unsafe {
        let neg_t = vsubq_s32(m.shift, vdupq_n_s32(31));
        // SRSHL reads each 64-bit lane's count from its low byte.
        let lo = vrshlq_s64(
            vmull_s32(vget_low_s32(x), vget_low_s32(m.q)),
            vmovl_s32(vget_low_s32(neg_t)),
        );
        let hi = vrshlq_s64(vmull_high_s32(x, m.q), vmovl_high_s32(neg_t));
        vuzp1q_s32(vreinterpretq_s32_s64(lo), vreinterpretq_s32_s64(hi))
    };
    finish(v, y, k)
}

/// `f32` requantization on 4 lanes.
#[inline(always)]
fn float4(_: V8, x: int32x4_t, s: float32x4_t, k: &Out) -> int32x4_t {
    // SAFETY: `V8` proves NEON; register-only arithmetic.
    unsafe {
        let v = vmulq_f32(vcvtq_f32_s32(x), s);
        let v = vminnmq_f32(vmaxnmq_f32(v, k.lo_f), k.hi_f);
        // |v| <= 2^16 after the clamp: the sum cannot leave i16's range.
        vaddq_s32(vcvtnq_s32_f32(v), k.zero_point)
    }
}

/// 8 lanes in `i16`'s range as 8 `i16` (the low half of each `i32`).
#[inline(always)]
fn narrow16(_: V8, y: [int32x4_t; 2]) -> int16x8_t {
    // SAFETY: `V8` proves NEON; register-only arithmetic.
    unsafe { vuzp1q_s16(vreinterpretq_s16_s32(y[0]), vreinterpretq_s16_s32(y[1])) }
}

/// The bias, multiplier and scale of 4 channel records: their first four
/// `i32` fields, transposed into vectors as they load (`LD4R` fills every
/// lane from record 0, then one `LD4` to a lane per other record).
#[inline(always)]
fn channels4(_: V8, c: [&Channel; 4]) -> (int32x4_t, Mult4, float32x4_t) {
    let p = |j: usize| (c[j] as *const Channel).cast::<i32>();
    // SAFETY: `V8` proves NEON; each record is `#[repr(C)]` and starts with
    // four 4-byte fields (asserted above): 16 readable bytes at each `p(j)`.
    unsafe {
        let v = vld4q_dup_s32(p(0));
        let v = vld4q_lane_s32::<1>(p(1), v);
        let v = vld4q_lane_s32::<2>(p(2), v);
        let v = vld4q_lane_s32::<3>(p(3), v);
        (
            v.0,
            Mult4 { q: v.1, shift: v.2 },
            vreinterpretq_f32_s32(v.3),
        )
    }
}

impl Lanes<8> for V8 {
    type I = [int32x4_t; 2];
    type F = [float32x4_t; 2];
    type Mult = [Mult4; 2];
    type Out = Out;

    #[inline(always)]
    fn out(self, c: Clamp) -> Out {
        // SAFETY: `self` proves NEON.
        unsafe {
            Out {
                zero_point: vdupq_n_s32(c.zero_point),
                act_min: vdupq_n_s32(c.act_min),
                act_max: vdupq_n_s32(c.act_max),
                lo_f: vdupq_n_f32((c.act_min - c.zero_point) as f32),
                hi_f: vdupq_n_f32((c.act_max - c.zero_point) as f32),
            }
        }
    }
    #[inline(always)]
    fn zero(self) -> [int32x4_t; 2] {
        // SAFETY: `self` proves NEON.
        unsafe { [vdupq_n_s32(0); 2] }
    }
    #[inline(always)]
    fn load(self, a: &[i32; 8]) -> [int32x4_t; 2] {
        // SAFETY: `self` proves NEON; `a` is 8 readable `i32` (`LDP`).
        let v = unsafe { vld1q_s32_x2(a.as_ptr()) };
        [v.0, v.1]
    }
    #[inline(always)]
    fn add(self, a: [int32x4_t; 2], b: [int32x4_t; 2]) -> [int32x4_t; 2] {
        // SAFETY: `self` proves NEON.
        unsafe { [vaddq_s32(a[0], b[0]), vaddq_s32(a[1], b[1])] }
    }
    #[inline(always)]
    fn splat_multiplier(self, m: QuantizedMultiplier) -> [Mult4; 2] {
        // SAFETY: `self` proves NEON.
        let m = unsafe {
            Mult4 {
                q: vdupq_n_s32(m.multiplier),
                shift: vdupq_n_s32(m.shift),
            }
        };
        [m; 2]
    }
    #[inline(always)]
    fn load_multipliers(self, m: &[QuantizedMultiplier; 8]) -> [Mult4; 2] {
        let p = m.as_ptr().cast::<i32>();
        // SAFETY: `self` proves NEON; `m` is 8 `#[repr(C)]` pairs of `i32`
        // (asserted above), 16 readable `i32`: `LD2` splits 4 pairs from
        // `p` and 4 from `p + 8`.
        let (a, b) = unsafe { (vld2q_s32(p), vld2q_s32(p.add(8))) };
        [Mult4 { q: a.0, shift: a.1 }, Mult4 { q: b.0, shift: b.1 }]
    }
    #[inline(always)]
    fn splat_scale(self, s: f32) -> [float32x4_t; 2] {
        // SAFETY: `self` proves NEON.
        unsafe { [vdupq_n_f32(s); 2] }
    }
    #[inline(always)]
    fn load_scales(self, s: &[f32; 8]) -> [float32x4_t; 2] {
        // SAFETY: `self` proves NEON; `s` is 8 readable `f32`.
        let v = unsafe { vld1q_f32_x2(s.as_ptr()) };
        [v.0, v.1]
    }
    #[inline(always)]
    fn load_channels(self, c: &[Channel; 8]) -> ([int32x4_t; 2], [Mult4; 2], [float32x4_t; 2]) {
        let [c0, c1, c2, c3, c4, c5, c6, c7] = c;
        let (a, b) = (
            channels4(self, [c0, c1, c2, c3]),
            channels4(self, [c4, c5, c6, c7]),
        );
        ([a.0, b.0], [a.1, b.1], [a.2, b.2])
    }
    #[inline(always)]
    fn double(self, x: [int32x4_t; 2], m: [Mult4; 2], k: &Out) -> [int32x4_t; 2] {
        [double4(self, x[0], m[0], k), double4(self, x[1], m[1], k)]
    }
    #[inline(always)]
    fn single(self, x: [int32x4_t; 2], m: [Mult4; 2], k: &Out) -> [int32x4_t; 2] {
        [single4(self, x[0], m[0], k), single4(self, x[1], m[1], k)]
    }
    #[inline(always)]
    fn litert_optimized(self, x: [int32x4_t; 2], m: [Mult4; 2], k: &Out) -> [int32x4_t; 2] {
        [litert4(self, x[0], m[0], k), litert4(self, x[1], m[1], k)]
    }
    #[inline(always)]
    fn float32(self, x: [int32x4_t; 2], s: [float32x4_t; 2], k: &Out) -> [int32x4_t; 2] {
        [float4(self, x[0], s[0], k), float4(self, x[1], s[1], k)]
    }
    #[inline(always)]
    fn store_i8(self, y: [int32x4_t; 2], o: &mut [i8; 8]) {
        let w = narrow16(self, y);
        // SAFETY: `self` proves NEON; `o` is 8 writable bytes.
        unsafe { vst1_s8(o.as_mut_ptr(), vmovn_s16(w)) }
    }
    #[inline(always)]
    fn store_u8(self, y: [int32x4_t; 2], o: &mut [u8; 8]) {
        let w = narrow16(self, y);
        // SAFETY: `self` proves NEON; `o` is 8 writable bytes. The lanes are
        // in `0..=255`: their low bytes are the values.
        unsafe { vst1_u8(o.as_mut_ptr(), vreinterpret_u8_s8(vmovn_s16(w))) }
    }
    #[inline(always)]
    fn store_i16(self, y: [int32x4_t; 2], o: &mut [i16; 8]) {
        // SAFETY: `self` proves NEON; `o` is 8 writable `i16`.
        unsafe { vst1q_s16(o.as_mut_ptr(), narrow16(self, y)) }
    }
}
