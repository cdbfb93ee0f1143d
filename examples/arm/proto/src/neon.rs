//! AArch64: int8 dot and GEMV on NEON (baseline) and with `SDOT`
//! (`dotprod`), and the double-rounding output stage on NEON.
//!
//! * NEON, full range: `SMULL` / `SMULL2` give 8 exact int16 products each,
//!   `SADALP` adds adjacent pairs into int32 lanes: 5 instructions per 16
//!   MACs and row.
//! * NEON, narrow weights (`[-127, 127]`, TFLite's): `SMLAL2` adds the high
//!   half's products onto `SMULL`'s int16 lanes (a pair can reach 32768
//!   only if both are `(-128)·(-128)`), one `SADALP`: 4 per 16 MACs.
//! * `SDOT`: 16 MACs into 4 int32 lanes per instruction. Its intrinsic
//!   `vdotq_s32` is unstable on every Rust from 1.89 to 1.96
//!   (`stdarch_neon_dotprod`), so it is one line of `asm!`; the
//!   `dotprod` target feature itself is stable. 4 rows per pass, 32 columns
//!   per iteration (`LDP` of two q registers).
//!
//! All NEON intrinsics used here (`vmull_s8`, `vpadalq_s16`,
//! `vqrdmulhq_s32`, `vrshlq_s32`, ...) are stable since Rust 1.59.

use core::arch::aarch64::*;
use core::arch::asm;

/// Output rows per pass of the SDOT and full-range NEON GEMVs: each
/// activation load serves 8 rows (8 accumulators, 2 activation and 2 weight
/// vectors: 12 of the 32 vector registers). The narrow NEON GEMV measured
/// fewer instructions with 4 ([`ROWS_NARROW`]).
pub const ROWS: usize = 8;
/// Output rows per pass of [`gemv_i8_narrow`].
pub const ROWS_NARROW: usize = 4;

/// Loads 16 int8 (any alignment).
///
/// # Safety
/// `p..p + 16` readable.
#[inline(always)]
pub unsafe fn load16(p: *const i8) -> int8x16_t {
    // SAFETY: the caller guarantees 16 readable bytes.
    unsafe { vld1q_s8(p) }
}

/// `acc + pairwise(a·b)`: 16 exact products into 4 int32 lanes (`SMULL`,
/// `SMULL2`, 2 `SADALP`). Any int8 inputs.
#[inline(always)]
pub fn mac16(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    // SAFETY: NEON is part of the AArch64 baseline.
    unsafe {
        let lo = vmull_s8(vget_low_s8(a), vget_low_s8(b));
        let hi = vmull_high_s8(a, b);
        vpadalq_s16(vpadalq_s16(acc, lo), hi)
    }
}

/// [`mac16`] when `b` lies in `[-127, 127]`: `SMULL` + `SMLAL2` + `SADALP`.
#[inline(always)]
pub fn mac16_narrow(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    // SAFETY: NEON baseline. Exactness: each int16 lane holds two products,
    // at most 128·127 + 128·127 = 32512 in magnitude when b != -128.
    unsafe {
        let p = vmlal_high_s8(vmull_s8(vget_low_s8(a), vget_low_s8(b)), a, b);
        vpadalq_s16(acc, p)
    }
}

/// `acc + SDOT(a, b)`: lane `i` gains `Σ_{j<4} a[4i+j]·b[4i+j]`.
///
/// Only call it from a function compiled with `dotprod` (the assembler
/// rejects `sdot` elsewhere, at build time).
#[inline(always)]
pub fn sdot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: register-only arithmetic; the enclosing function enables dotprod.
    unsafe {
        asm!("sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
             acc = inout(vreg) acc, a = in(vreg) a, b = in(vreg) b,
             options(pure, nomem, nostack, preserves_flags));
    }
    acc
}

/// Horizontal sum of 4 int32 lanes, wrapping (`ADDV`).
#[inline(always)]
pub fn hsum(v: int32x4_t) -> i32 {
    // SAFETY: NEON baseline.
    unsafe { vaddvq_s32(v) }
}

/// The horizontal sums of four accumulators as one vector (3 `ADDP`).
#[inline(always)]
pub fn hsum4(a: int32x4_t, b: int32x4_t, c: int32x4_t, d: int32x4_t) -> int32x4_t {
    // SAFETY: NEON baseline.
    unsafe { vpaddq_s32(vpaddq_s32(a, b), vpaddq_s32(c, d)) }
}

/// Scalar tail `acc + Σ a·b`.
#[inline(always)]
fn tail(acc: i32, a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(acc, |s, (&x, &y)| {
        s.wrapping_add(i32::from(x) * i32::from(y))
    })
}

/// Loads 32 int8 at `*p` into two vectors and advances `p` by 32 (`LDP q,
/// q, [p], #32`).
///
/// Written as `asm!` so that LLVM's loop-strength reduction cannot rewrite
/// the walking row pointers into `base + index` addressing: in the 4-row
/// SDOT loop that costs 7 address `ADD`s per 32 columns (22 instructions
/// instead of 15).
///
/// # Safety
/// `*p..*p + 32` readable.
#[inline(always)]
pub unsafe fn load32_post(p: &mut *const i8) -> (int8x16_t, int8x16_t) {
    let (a, b);
    // SAFETY: the caller guarantees 32 readable bytes at *p.
    unsafe {
        asm!("ldp {a:q}, {b:q}, [{p}], #32",
             a = lateout(vreg) a, b = lateout(vreg) b, p = inout(reg) *p,
             options(pure, readonly, nostack, preserves_flags));
    }
    (a, b)
}

/// Loads 16 int8 at `*p` and advances `p` by 16 (`LDR q, [p], #16`).
///
/// # Safety
/// `*p..*p + 16` readable.
#[inline(always)]
pub unsafe fn load16_post(p: &mut *const i8) -> int8x16_t {
    let a;
    // SAFETY: the caller guarantees 16 readable bytes at *p.
    unsafe {
        asm!("ldr {a:q}, [{p}], #16", a = lateout(vreg) a, p = inout(reg) *p,
             options(pure, readonly, nostack, preserves_flags));
    }
    a
}

/// The one loop every GEMV here runs: `R` rows of `w` (row stride
/// `cols`) against `x[..body]` (`body` a multiple of 16), `mac` folding 16
/// products into a lane vector. Per 32 columns: 9 `LDP`, 16 `mac`, the
/// counter and the branch (27 instructions per 256 MACs with `SDOT`).
///
/// # Safety
/// The four rows' first `body` bytes and `x[..body]` readable.
#[inline(always)]
unsafe fn rows_with<const R: usize>(
    w: *const i8,
    cols: usize,
    x: *const i8,
    body: usize,
    mac: impl Fn(int32x4_t, int8x16_t, int8x16_t) -> int32x4_t,
) -> [i32; R] {
    // SAFETY (whole block): every pointer advances over the first `body`
    // bytes of its row / of x and no further.
    unsafe {
        let z = vdupq_n_s32(0);
        let mut acc = [z; R];
        let mut rows: [*const i8; R] = core::array::from_fn(|r| w.add(r * cols));
        let mut xp = x;
        for _ in 0..body / 32 {
            let (x0, x1) = load32_post(&mut xp);
            for r in 0..R {
                let (w0, w1) = load32_post(&mut rows[r]);
                acc[r] = mac(mac(acc[r], x0, w0), x1, w1);
            }
        }
        if body % 32 != 0 {
            let x0 = load16_post(&mut xp);
            for r in 0..R {
                acc[r] = mac(acc[r], x0, load16_post(&mut rows[r]));
            }
        }
        let mut sums = [0i32; R];
        for (s, a) in sums.chunks_exact_mut(4).zip(acc.chunks_exact(4)) {
            vst1q_s32(s.as_mut_ptr(), hsum4(a[0], a[1], a[2], a[3]));
        }
        sums
    }
}

/// `Σ_{k<body}` for one row (`body` a multiple of 16), two accumulators.
///
/// # Safety
/// `a[..body]`, `b[..body]` readable.
#[inline(always)]
unsafe fn row1_with(
    a: *const i8,
    b: *const i8,
    body: usize,
    mac: impl Fn(int32x4_t, int8x16_t, int8x16_t) -> int32x4_t,
) -> i32 {
    // SAFETY: each pointer advances over its first `body` bytes.
    unsafe {
        let (mut s0, mut s1) = (vdupq_n_s32(0), vdupq_n_s32(0));
        let (mut pa, mut pb) = (a, b);
        for _ in 0..body / 32 {
            let ((a0, a1), (b0, b1)) = (load32_post(&mut pa), load32_post(&mut pb));
            s0 = mac(s0, a0, b0);
            s1 = mac(s1, a1, b1);
        }
        if body % 32 != 0 {
            s0 = mac(s0, load16_post(&mut pa), load16_post(&mut pb));
        }
        hsum(vaddq_s32(s0, s1))
    }
}

/// A GEMV from a 16-byte multiply-accumulate: `R` rows per pass (a multiple
/// of 4), then single rows, scalar tails.
#[inline(always)]
fn gemv_with<const R: usize>(
    w: &[i8],
    x: &[i8],
    out: &mut [i32],
    mac: impl Fn(int32x4_t, int8x16_t, int8x16_t) -> int32x4_t + Copy,
) {
    let cols = x.len();
    assert!(w.len() >= out.len() * cols);
    let body = cols & !15;
    let mut rows = out.chunks_exact_mut(R);
    let mut r = 0;
    for o in &mut rows {
        // SAFETY: rows r..r + R lie inside w.
        let acc = unsafe { rows_with::<R>(w.as_ptr().add(r * cols), cols, x.as_ptr(), body, mac) };
        for (i, (o, a)) in o.iter_mut().zip(acc).enumerate() {
            let row = &w[(r + i) * cols..(r + i + 1) * cols];
            *o = tail(a, &x[body..], &row[body..]);
        }
        r += R;
    }
    for o in rows.into_remainder() {
        let row = &w[r * cols..(r + 1) * cols];
        // SAFETY: row and x hold cols >= body bytes.
        let a = unsafe { row1_with(row.as_ptr(), x.as_ptr(), body, mac) };
        *o = tail(a, &x[body..], &row[body..]);
        r += 1;
    }
}

/// `Σ a[k]·b[k]`, NEON baseline.
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let body = n & !15;
    // SAFETY: both hold n >= body bytes.
    let acc = unsafe { row1_with(a.as_ptr(), b.as_ptr(), body, mac16) };
    tail(acc, &a[body..n], &b[body..n])
}

/// GEMV, NEON baseline, any int8 weights.
pub fn gemv_i8(w: &[i8], x: &[i8], out: &mut [i32]) {
    gemv_with::<ROWS>(w, x, out, mac16)
}

/// GEMV, NEON baseline, weights in `[-127, 127]` (checked by the caller,
/// as qkit's `NarrowI8` does once per matrix).
pub fn gemv_i8_narrow(w: &[i8], x: &[i8], out: &mut [i32]) {
    gemv_with::<ROWS_NARROW>(w, x, out, mac16_narrow)
}

/// `Σ a[k]·b[k]` with `SDOT`.
///
/// # Safety
/// The CPU must have `dotprod` (`is_aarch64_feature_detected!("dotprod")`
/// or a build with `target_feature = "dotprod"`).
#[target_feature(enable = "dotprod")]
pub unsafe fn dot_i8_sdot(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let body = n & !15;
    // SAFETY: both hold n >= body bytes.
    let acc = unsafe { row1_with(a.as_ptr(), b.as_ptr(), body, sdot) };
    tail(acc, &a[body..n], &b[body..n])
}

/// GEMV with `SDOT`, any int8 weights.
///
/// # Safety
/// The CPU must have `dotprod`.
#[target_feature(enable = "dotprod")]
pub unsafe fn gemv_i8_sdot(w: &[i8], x: &[i8], out: &mut [i32]) {
    gemv_with::<ROWS>(w, x, out, sdot)
}

/// The double-rounding output stage, 4 lanes per instruction, 8 outputs
/// per iteration; bit-identical to [`crate::requantize_i8`].
///
/// `SQRDMULH` is gemmlowp's SRDHM; `SRSHL` by `-R` rounds ties up, so
/// negative values are first lowered by one where `R > 0` (`fixup =
/// (x & -R) >> 31`, added with saturation), which makes the shift round
/// ties away from zero like `RoundingDivideByPOT`. (TFLite's own NEON helper
/// `MultiplyByQuantizedMultiplier4Rows` omits the fix-up and differs from
/// its scalar code on negative ties.)
pub fn requantize_i8(acc: &[i32], s: &crate::OutputStage<'_>, out: &mut [i8]) {
    let n = s.check(acc.len(), out.len());
    let body = n & !7;
    // SAFETY: every load/store below covers indices < body <= n, within
    // acc, the stage's slices (checked to hold n) and out.
    unsafe {
        let zero = vdupq_n_s32(0);
        let zp = vdupq_n_s32(s.output_zero_point);
        let (lo, hi) = (vdupq_n_s32(s.act_min), vdupq_n_s32(s.act_max));
        let four = |i: usize| -> int32x4_t {
            let x = vaddq_s32(
                vld1q_s32(acc.as_ptr().add(i)),
                vld1q_s32(s.bias.as_ptr().add(i)),
            );
            let sh = vld1q_s32(s.shift.as_ptr().add(i));
            let (left, neg_right) = (vmaxq_s32(sh, zero), vminq_s32(sh, zero));
            let x = vqrdmulhq_s32(vshlq_s32(x, left), vld1q_s32(s.multiplier.as_ptr().add(i)));
            let fixup = vshrq_n_s32::<31>(vandq_s32(x, neg_right));
            let x = vrshlq_s32(vqaddq_s32(x, fixup), neg_right);
            vminq_s32(vmaxq_s32(vqaddq_s32(x, zp), lo), hi)
        };
        let mut i = 0;
        while i < body {
            let h = vcombine_s16(vmovn_s32(four(i)), vmovn_s32(four(i + 4)));
            vst1_s8(out.as_mut_ptr().add(i), vmovn_s16(h));
            i += 8;
        }
    }
    crate::requantize_from(acc, s, out, body);
}
