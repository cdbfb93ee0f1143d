//! AArch64 NEON with `SDOT` (`dotprod`: Cortex-A55/A76 and later, Apple
//! M1, Neoverse): 16 multiply-accumulates per instruction into four int32
//! lanes, exact for the full int8 range (so the narrow entries share it).
//! 32-byte blocks (one `LD1` of two q registers), GEMV tiles of 8 rows;
//! int8 and packed int4 weights through `neon.rs`'s `Mac32` with `SDOT` as
//! its step.
//!
//! `vdotq_s32` is unstable on every Rust from 1.89 to 1.96
//! (`stdarch_neon_dotprod`), so `SDOT` is one line of `asm!`; the assembler
//! accepts it only inside a function compiled with `dotprod`, which the
//! `isa_table!` entries are (the algorithms are `#[inline(always)]`).

use core::arch::aarch64::*;
use core::arch::asm;

use super::neon::{Int4, Int8, Layout, Mac32, Neon, Step16};
use crate::kernel::Isa;
use crate::kernel::simd::{Lanes, Mac, dot, gemm, isa_table};

isa_table!(Isa::NeonDotprod, "neon,dotprod", super::neon::KERNELS, {
    dot_i8: |a: &[i8], b: &[i8]| -> i32 { dot::dot(Sdot::kernel(Int8), a, b) }
    dot_i8_narrow: |x: &[i8], w: &[i8]| -> i32 { dot::dot(Sdot::kernel(Int8), x, w) }
    gemm_i8: |w: &[i8], x: &[i8], cols: usize, out: &mut [i32]| {
        gemm_sdot(Sdot::kernel(Int8), w, x, cols, out)
    }
    gemm_i8_narrow: |w: &[i8], x: &[i8], cols: usize, out: &mut [i32]| {
        gemm_sdot(Sdot::kernel(Int8), w, x, cols, out)
    }
    row_sums_i8: |w: &[i8], cols: usize, out: &mut [i32]| {
        dot::row_sums(Sdot::kernel(Int8), w, cols, out)
    }
    dot_i4_i8: |packed: &[u8], x: &[i8]| -> i32 { dot::dot(Sdot::kernel(Int4), x, packed) }
    gemv_i4_i8: |packed: &[u8], x: &[i8], out: &mut [i32]| {
        gemm::gemv_i4(Sdot::kernel(Int4), packed, x, out)
    }
});

/// Proof that `dotprod` is enabled; its step is `SDOT`, exact for any int8
/// (so for int4 nibbles too).
#[derive(Clone, Copy)]
struct Sdot(());

impl Sdot {
    /// The `Mac` of layout `l` with `SDOT` as its step. Only code compiled
    /// with `dotprod` can call this.
    #[inline]
    #[target_feature(enable = "neon,dotprod")]
    fn kernel<L: Layout>(l: L) -> Mac32<L, Sdot> {
        Mac32(l, Sdot(()), Neon::new())
    }
}

/// `acc + SDOT(a, b)`: lane `i` gains `Σ_{j<4} a[4i+j]·b[4i+j]`.
#[inline(always)]
fn sdot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: register-only arithmetic; reached only through an `Sdot`,
    // which only `Sdot::kernel` builds, and it needs `dotprod`.
    unsafe {
        asm!("sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
             acc = inout(vreg) acc, a = in(vreg) a, b = in(vreg) b,
             options(pure, nomem, nostack, preserves_flags));
    }
    acc
}

impl Step16 for Sdot {
    #[inline(always)]
    fn mac16(self, _: Neon, acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
        sdot(acc, a, b)
    }
}

/// int8 weights with `SDOT`.
type Int8Sdot = Mac32<Int8, Sdot>;

/// A GEMV (one activation row) through [`gemv`], more activation rows
/// through the shared driver in tiles of 4 × 2.
#[inline(always)]
fn gemm_sdot(k: Int8Sdot, w: &[i8], x: &[i8], cols: usize, out: &mut [i32]) {
    if x.len() == cols {
        gemv(k, w, x, out);
    } else {
        gemm::gemm::<_, 8, 4, 2>(k, w, cols, x, cols, out);
    }
}

/// `out[r] = Σ_k w[r][k]·x[k]`: 8 rows per pass through [`rows8`] over the
/// whole 32-byte blocks, then one zero-padded block for the last
/// `cols % 32` columns, the remaining rows through the shared dot.
///
/// This file's own loop rather than the shared driver: the driver indexes
/// slices, and `LDP`/`LD1` have no register-offset form, so each row's load
/// needs an address `ADD` (0.160 instructions per MAC at 128x512, against
/// 0.13 with walking pointers).
#[inline(always)]
fn gemv(k: Int8Sdot, w: &[i8], x: &[i8], out: &mut [i32]) {
    let cols = x.len();
    if cols == 0 {
        out.fill(0);
        return;
    }
    let body = cols & !31;
    let l = k.lanes();
    let done = out.len() / 8 * 8;
    let mut passes = out.chunks_exact_mut(8);
    for (o, w8) in (&mut passes).zip(w.chunks_exact(8 * cols)) {
        let mut acc = rows8(k, w8, x, body);
        if body < cols {
            let xt = k.x_part(&x[body..]);
            for (a, row) in acc.iter_mut().zip(w8.chunks_exact(cols)) {
                *a = k.mac(*a, xt, k.w_part(&row[body..]));
            }
        }
        let (lo, hi) = o.split_at_mut(4);
        lo.copy_from_slice(&l.sum4([acc[0], acc[1], acc[2], acc[3]]));
        hi.copy_from_slice(&l.sum4([acc[4], acc[5], acc[6], acc[7]]));
    }
    let rest = w.chunks_exact(cols).skip(done);
    for (o, row) in passes.into_remainder().iter_mut().zip(rest) {
        *o = dot::dot(k, x, row);
    }
}

/// The lane sums of the 8 consecutive rows of `x.len()` in `w` against
/// `x[..body]` (`body` a multiple of 32): per 32 columns one `LDP` of the
/// activations, then per row one `LDP` and two `SDOT`, every pointer
/// walking by post-increment.
#[inline(always)]
fn rows8(k: Int8Sdot, w: &[i8], x: &[i8], body: usize) -> [int32x4_t; 8] {
    let l = k.lanes();
    let mut acc = [l.zero(); 8];
    let cols = x.len();
    if body > cols || !body.is_multiple_of(32) || w.len() / 8 < cols {
        return acc;
    }
    let mut rows = [w.as_ptr(); 8];
    for (r, p) in rows.iter_mut().enumerate() {
        *p = w.as_ptr().wrapping_add(r * cols);
    }
    let mut xp = x.as_ptr();
    for _ in 0..body / 32 {
        // SAFETY: checked above, `x` holds `body` bytes and `w` 8 rows of
        // `cols >= body`; `xp` and each row pointer advance by 32 bytes
        // `body / 32` times, over the first `body` bytes of `x` / its row.
        let (x0, x1) = unsafe { load32_post(&mut xp) };
        for (a, p) in acc.iter_mut().zip(rows.iter_mut()) {
            // SAFETY: as above.
            let (w0, w1) = unsafe { load32_post(p) };
            *a = sdot(sdot(*a, x0, w0), x1, w1);
        }
    }
    acc
}

/// Loads 32 int8 at `*p` into two vectors and advances `p` by 32 (`LDP q,
/// q, [p], #32`), in `asm!` so that loop-strength reduction cannot turn the
/// walking pointers back into base + index addressing.
///
/// # Safety
/// `*p..*p + 32` must be readable.
#[inline(always)]
unsafe fn load32_post(p: &mut *const i8) -> (int8x16_t, int8x16_t) {
    let (a, b);
    // SAFETY: the caller guarantees 32 readable bytes at `*p`.
    unsafe {
        asm!("ldp {a:q}, {b:q}, [{p}], #32",
             a = lateout(vreg) a, b = lateout(vreg) b, p = inout(reg) *p,
             options(pure, readonly, nostack, preserves_flags));
    }
    (a, b)
}
