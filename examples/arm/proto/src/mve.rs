//! Cortex-M55/M85 Helium (MVE): int8 GEMV with `VMLADAVA.S8` and the
//! double-rounding output stage, both tail-predicated.
//!
//! `VMLADAVA.S8 Rda, Qn, Qm` adds all 16 exact int8 products to a scalar
//! int32 accumulator (wrapping), so a row needs one load and one
//! multiply-accumulate per 16 columns; the activation load is shared by
//! [`ROWS`] rows: `(1 + 2·ROWS) / (16·ROWS)` instructions per MAC plus the
//! loop instruction (0.156 at 4 rows; the bound is 0.125).
//!
//! The loops are low-overhead tail-predicated loops (`DLSTP` / `LETP`): the
//! last iteration runs with only the remaining lanes active, so any length
//! needs no scalar tail. Predicated-off lanes of a load are zero and a
//! predicated `VMLADAVA` ignores them.
//!
//! Rust has no Helium intrinsics (`core::arch::arm` has none in 1.96) and
//! `asm!` cannot pass a `Q` register value between blocks on an M-profile
//! target (the `qreg` class needs NEON), so each loop is one `asm!` block;
//! its operations are the mnemonics inside. `VMLADAVA`'s accumulator must
//! be an even register: `r0`, `r2`, `r4`, `r8` (r6 is LLVM's base pointer).

use core::arch::asm;

/// Output rows per pass of [`gemv_i8`].
pub const ROWS: usize = 4;

/// `Σ a[k]·b[k]` with int32 wrap-around.
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    // SAFETY: both pointers have n readable bytes.
    unsafe { dot_raw(a.as_ptr(), b.as_ptr(), n, 0) }
}

/// `acc + Σ_{k<n} a[k]·b[k]`.
///
/// # Safety
/// `a[..n]` and `b[..n]` readable.
#[inline(always)]
unsafe fn dot_raw(a: *const i8, b: *const i8, n: usize, acc: i32) -> i32 {
    if n == 0 {
        return acc;
    }
    let mut acc = acc;
    // SAFETY: the loop reads exactly n bytes from each pointer (the last
    // iteration is predicated to the remaining lanes).
    unsafe {
        asm!(
            "dlstp.8 lr, {n}",
            "2:",
            "vldrb.8 q0, [{a}], #16",
            "vldrb.8 q1, [{b}], #16",
            "vmladava.s8 r0, q0, q1",
            "letp lr, 2b",
            n = in(reg) n,
            a = inout(reg) a => _,
            b = inout(reg) b => _,
            inout("r0") acc,
            out("lr") _,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _,
            options(readonly, nostack),
        );
    }
    acc
}

/// The 4-row body over `cols` columns: rows `w`, `w + cols`, `w + 2·cols`,
/// `w + 3·cols` against `x`.
///
/// The row pointers are formed inside the `asm!` from `w` and `cols`: the
/// fewer values live across the block, the fewer LLVM spills around it in
/// the pass loop.
///
/// # Safety
/// `x[..cols]` and the four rows readable; `cols > 0`.
#[inline(always)]
unsafe fn rows4(w: *const i8, x: *const i8, cols: usize) -> [i32; ROWS] {
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    // SAFETY: each pointer advances over exactly cols bytes of its row / x.
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
            x = inout(reg) x => _,
            w0 = inout(reg) w => _,
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

/// `out[r] = Σ_k w[r·cols + k]·x[k]`, [`ROWS`] rows per pass, the rest one
/// at a time. `w` holds `out.len()` rows of `cols = x.len()`.
pub fn gemv_i8(w: &[i8], x: &[i8], out: &mut [i32]) {
    let cols = x.len();
    assert!(w.len() >= out.len() * cols);
    if cols == 0 {
        out.fill(0);
        return;
    }
    let mut rows = out.chunks_exact_mut(ROWS);
    let mut wp = w.as_ptr();
    for o in &mut rows {
        // SAFETY: the 4 rows at wp lie inside w (asserted), cols > 0.
        o.copy_from_slice(&unsafe { rows4(wp, x.as_ptr(), cols) });
        // SAFETY: the end of these rows, at most the end of w. (The row
        // pointers in `rows4` end rounded up to 16 bytes, not here.)
        wp = unsafe { wp.add(ROWS * cols) };
    }
    for o in rows.into_remainder() {
        // SAFETY: the row at wp lies inside w.
        *o = unsafe { dot_raw(x.as_ptr(), wp, cols, 0) };
        // SAFETY: one past the row, at most the end of w.
        wp = unsafe { wp.add(cols) };
    }
}

/// The double-rounding output stage on 4 lanes per instruction:
/// `out[i] = clamp(sat(MBQM(acc[i] + bias[i], mult[i], shift[i]) + zp))`,
/// bit-identical to [`crate::requantize_i8`].
///
/// MBQM as TFLM's default build computes it (gemmlowp
/// `MultiplyByQuantizedMultiplier`): `x << L` (wrapping), `VQRDMULH` (=
/// SRDHM, ties up), then the rounding right shift by `R` with ties away
/// from zero. `VRSHL` by `-R` rounds ties **up**; subtracting 1 from
/// negative `x` first (when `R > 0`; `fixup = (x & -R) >> 31`, added with
/// saturation) turns that into ties away from zero, as CMSIS-NN's
/// `arm_divide_by_power_of_two_mve` does.
pub fn requantize_i8(acc: &[i32], s: &crate::OutputStage<'_>, out: &mut [i8]) {
    let n = s.check(acc.len(), out.len());
    if n == 0 {
        return;
    }
    // SAFETY: acc, bias, multiplier, shift hold n i32 and out n bytes (checked
    // by `OutputStage::check`); the predicated loop touches exactly n lanes.
    unsafe {
        asm!(
            "vmov.i32 q7, #0",
            "vdup.32 q5, {amin}",
            "vdup.32 q6, {amax}",
            "dlstp.32 lr, {n}",
            "2:",
            "vldrw.u32 q0, [{acc}], #16",
            "vldrw.u32 q1, [{bias}], #16",
            "vadd.i32 q0, q0, q1",
            "vldrw.u32 q1, [{shift}], #16",
            "vmax.s32 q2, q1, q7",       // L = max(shift, 0)
            "vmin.s32 q1, q1, q7",       // -R = min(shift, 0)
            "vshl.s32 q0, q0, q2",       // x << L, wrapping
            "vldrw.u32 q2, [{mult}], #16",
            "vqrdmulh.s32 q0, q0, q2",   // SRDHM
            "vand q2, q0, q1",           // sign bit set iff x < 0 and R > 0
            "vshr.s32 q2, q2, #31",      // -1 there, else 0
            "vqadd.s32 q0, q0, q2",
            "vrshl.s32 q0, q0, q1",      // rounding shift right by R
            "vqadd.s32 q0, q0, {zp}",
            "vmax.s32 q0, q0, q5",
            "vmin.s32 q0, q0, q6",
            "vstrb.32 q0, [r1], #4",
            "letp lr, 2b",
            n = in(reg) n,
            acc = inout(reg) acc.as_ptr() => _,
            bias = inout(reg) s.bias.as_ptr() => _,
            shift = inout(reg) s.shift.as_ptr() => _,
            mult = inout(reg) s.multiplier.as_ptr() => _,
            // the narrowing store encodes its base in 3 bits: r0-r7
            inout("r1") out.as_mut_ptr() => _,
            zp = in(reg) s.output_zero_point,
            amin = in(reg) s.act_min,
            amax = in(reg) s.act_max,
            out("lr") _,
            out("d0") _, out("d1") _, out("d2") _, out("d3") _, out("d4") _, out("d5") _,
            out("d10") _, out("d11") _, out("d12") _, out("d13") _, out("d14") _, out("d15") _,
            options(nostack),
        );
    }
}
