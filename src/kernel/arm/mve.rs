//! Cortex-M55/M85 Helium (MVE): int8 dot and GEMV with `VMLADAVA.S8`.
//!
//! `VMLADAVA.S8 Rda, Qn, Qm` adds all 16 exact int8 products to a scalar
//! int32 accumulator (wrapping, the kernels' contract), so a row needs one
//! load and one multiply-accumulate per 16 columns, and the activation load
//! is shared by 4 rows per pass: `(1 + 2·4) / 64` instructions per MAC plus
//! the loop instruction (0.156; the bound is 0.125). The loops are
//! low-overhead tail-predicated loops (`DLSTP` / `LETP`): the last
//! iteration runs with only the remaining lanes active (predicated-off lanes
//! load as zero and a predicated `VMLADAVA` ignores them), so no length
//! needs a scalar tail.
//!
//! This is one explicit kernel file rather than a `Mac` over the shared
//! drivers: Rust has no Helium intrinsics (`core::arch::arm` has none up to
//! 1.96), and `asm!` cannot hand a `Q` register value from one block to the
//! next on an M-profile target (its `qreg` class needs NEON), so a vector
//! can live only inside one `asm!` block: each loop is one block.
//! `VMLADAVA`'s accumulator must be an even register: `r0`, `r2`, `r4`, `r8`
//! (r6 is LLVM's base pointer).
//!
//! Every entry not listed comes from the DSP table (every Helium core has
//! the DSP extension): row sums, int4, the GEMM with several activation
//! rows is a GEMV per activation row here.

use core::arch::asm;

use crate::kernel::Isa;
use crate::kernel::dispatch::Kernels;

/// The Helium table, over the DSP one.
pub(super) static KERNELS: Kernels = Kernels {
    isa: Isa::Mve,
    dot_i8,
    dot_i8_narrow: dot_i8,
    gemm_i8,
    gemm_i8_narrow: gemm_i8,
    ..super::dsp::KERNELS
};

/// `Σ a[k]·b[k]` with int32 wrap-around, over the shorter length.
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    if n == 0 {
        return 0;
    }
    let mut acc = 0i32;
    // SAFETY: the loop reads exactly `n` bytes from each pointer (the last
    // iteration is predicated to the remaining lanes), and both slices hold
    // at least `n`; `n > 0` (`DLSTP` with 0 would skip the loop anyway).
    unsafe {
        asm!(
            "dlstp.8 lr, {n}",
            "2:",
            "vldrb.8 q0, [{a}], #16",
            "vldrb.8 q1, [{b}], #16",
            "vmladava.s8 r0, q0, q1",
            "letp lr, 2b",
            n = in(reg) n,
            a = inout(reg) a.as_ptr() => _,
            b = inout(reg) b.as_ptr() => _,
            inout("r0") acc,
            out("lr") _,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _,
            options(readonly, nostack),
        );
    }
    acc
}

/// `(w, x, cols, out)`: one GEMV per activation row (`VMLADAVA` keeps its
/// sums in scalar registers, so activation rows share nothing).
fn gemm_i8(w: &[i8], x: &[i8], cols: usize, out: &mut [i32]) {
    if cols == 0 {
        out.fill(0);
        return;
    }
    let batch = x.len() / cols;
    let rows = out.len() / batch.max(1);
    if rows == 0 {
        return;
    }
    for (xb, ob) in x.chunks_exact(cols).zip(out.chunks_exact_mut(rows)) {
        gemv_i8(w, xb, ob);
    }
}

/// `out[r] = Σ_k w[r][k]·x[k]`, `w` holding `out.len()` rows of
/// `x.len() > 0`: 4 rows per pass, the remaining rows one at a time.
fn gemv_i8(w: &[i8], x: &[i8], out: &mut [i32]) {
    let cols = x.len();
    let done = out.len() / 4 * 4;
    let mut passes = out.chunks_exact_mut(4);
    for (o, w4) in (&mut passes).zip(w.chunks_exact(4 * cols)) {
        o.copy_from_slice(&rows4(w4, x));
    }
    let rest = w.chunks_exact(cols).skip(done);
    for (o, row) in passes.into_remainder().iter_mut().zip(rest) {
        *o = dot_i8(x, row);
    }
}

/// The four consecutive rows of `x.len()` in `w` against `x`.
///
/// The row pointers are formed inside the `asm!` from `w` and `cols`: the
/// fewer values live across the block, the fewer LLVM spills around it.
#[inline(always)]
fn rows4(w: &[i8], x: &[i8]) -> [i32; 4] {
    let cols = x.len();
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    if cols == 0 || w.len() / 4 < cols {
        return [0; 4];
    }
    // SAFETY: checked above, `w` holds 4 rows of `cols > 0` bytes and `x`
    // holds `cols`; each pointer advances over exactly `cols` bytes of its
    // row / of `x` (the last iteration predicated to the remaining lanes).
    unsafe {
        asm!(
            "add {w1}, {w0}, {n}",
            "add {w2}, {w1}, {n}",
            "add {w3}, {w2}, {n}",
            "dlstp.8 lr, {n}",
            "2:",
            "vldrb.8 q0, [{x}], #16",
            "vldrb.8 q1, [{w0}], #16",
            "vmladava.s8 r0, q0, q1",
            "vldrb.8 q2, [{w1}], #16",
            "vmladava.s8 r2, q0, q2",
            "vldrb.8 q3, [{w2}], #16",
            "vmladava.s8 r4, q0, q3",
            "vldrb.8 q1, [{w3}], #16",
            "vmladava.s8 r8, q0, q1",
            "letp lr, 2b",
            n = in(reg) cols,
            x = inout(reg) x.as_ptr() => _,
            w0 = inout(reg) w.as_ptr() => _,
            w1 = out(reg) _,
            w2 = out(reg) _,
            w3 = out(reg) _,
            inout("r0") a0,
            inout("r2") a1,
            inout("r4") a2,
            inout("r8") a3,
            out("lr") _,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _,
            out("d4") _, out("d5") _, out("d6") _, out("d7") _,
            options(readonly, nostack),
        );
    }
    [a0, a1, a2, a3]
}
