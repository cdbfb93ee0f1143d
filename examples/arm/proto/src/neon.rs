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

/// Output rows per pass of the GEMVs.
pub const ROWS: usize = 4;

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

/// Scalar tail `acc + Σ a·b`.
#[inline(always)]
fn tail(acc: i32, a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(acc, |s, (&x, &y)| s.wrapping_add(i32::from(x) * i32::from(y)))
}

/// The one loop every GEMV here runs: [`ROWS`] rows of `w` (row stride
/// `cols`) against `x[..body]` (`body` a multiple of 16), `mac` folding 16
/// products into a lane vector.
///
/// # Safety
/// The four rows' first `body` bytes and `x[..body]` readable.
#[inline(always)]
unsafe fn rows4_with(
    w: *const i8,
    cols: usize,
    x: *const i8,
    body: usize,
    mac: impl Fn(int32x4_t, int8x16_t, int8x16_t) -> int32x4_t,
) -> [i32; ROWS] {
    // SAFETY (whole block): k + 16 <= body for every load.
    unsafe {
        let z = vdupq_n_s32(0);
        let mut acc = [z; ROWS];
        let rows = [w, w.add(cols), w.add(2 * cols), w.add(3 * cols)];
        let mut k = 0;
        while k + 32 <= body {
            let (x0, x1) = (load16(x.add(k)), load16(x.add(k + 16)));
            for r in 0..ROWS {
                let a = mac(acc[r], x0, load16(rows[r].add(k)));
                acc[r] = mac(a, x1, load16(rows[r].add(k + 16)));
            }
            k += 32;
        }
        if k < body {
            let x0 = load16(x.add(k));
            for r in 0..ROWS {
                acc[r] = mac(acc[r], x0, load16(rows[r].add(k)));
            }
        }
        acc.map(hsum)
    }
}

/// `acc + Σ_{k<body}` for one row (`body` a multiple of 16).
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
    // SAFETY: k + 16 <= body for every load.
    unsafe {
        let mut acc = vdupq_n_s32(0);
        let mut k = 0;
        while k < body {
            acc = mac(acc, load16(a.add(k)), load16(b.add(k)));
            k += 16;
        }
        hsum(acc)
    }
}

/// A GEMV from a 16-byte multiply-accumulate: 4 rows per pass, scalar tails.
#[inline(always)]
fn gemv_with(
    w: &[i8],
    x: &[i8],
    out: &mut [i32],
    mac: impl Fn(int32x4_t, int8x16_t, int8x16_t) -> int32x4_t + Copy,
) {
    let cols = x.len();
    assert!(w.len() >= out.len() * cols);
    let body = cols & !15;
    let mut rows = out.chunks_exact_mut(ROWS);
    let mut r = 0;
    for o in &mut rows {
        // SAFETY: rows r..r + 4 lie inside w.
        let acc = unsafe { rows4_with(w.as_ptr().add(r * cols), cols, x.as_ptr(), body, mac) };
        for (i, (o, a)) in o.iter_mut().zip(acc).enumerate() {
            let row = &w[(r + i) * cols..(r + i + 1) * cols];
            *o = tail(a, &x[body..], &row[body..]);
        }
        r += ROWS;
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
    gemv_with(w, x, out, mac16)
}

/// GEMV, NEON baseline, weights in `[-127, 127]` (checked by the caller,
/// as qkit's `NarrowI8` does once per matrix).
pub fn gemv_i8_narrow(w: &[i8], x: &[i8], out: &mut [i32]) {
    gemv_with(w, x, out, mac16_narrow)
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
    gemv_with(w, x, out, sdot)
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
            let x = vaddq_s32(vld1q_s32(acc.as_ptr().add(i)), vld1q_s32(s.bias.as_ptr().add(i)));
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
    for i in body..n {
        out[i] = crate::requantize_one(
            acc[i],
            s.bias[i],
            s.multiplier[i],
            s.shift[i],
            s.output_zero_point,
            s.act_min,
            s.act_max,
        );
    }
}
