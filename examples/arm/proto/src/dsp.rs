//! Cortex-M DSP extension (Cortex-M4/M7/M33/M55 scalar: `thumbv7em`,
//! `thumbv8m.main` with DSP): int8 dot and GEMV with `SXTB16` + `SMLAD`.
//!
//! Four int8 in a word `b3 b2 b1 b0` are widened into two words of packed
//! int16: `SXTB16 v` gives `(b2, b0)` ("even") and `SXTB16 v, ROR #8` gives
//! `(b3, b1)` ("odd"). Both operands are permuted the same way, so
//! `SMLAD(w_even, x_even, SMLAD(w_odd, x_odd, acc))` adds all four exact
//! products: 2 multiply instructions per 4 MACs, no repacking (`PKHBT`).
//! `SMLAD`'s 32-bit add wraps (it only sets the Q flag), the kernels'
//! contract. `SXTAB16` does the widening and adds a packed pair of int16 in
//! the same instruction (an input offset folded for free).
//!
//! The GEMV widens each activation word once and uses it for [`ROWS`] output
//! rows: per 4 columns `1 + 2` instructions for `x`, then per row one load,
//! two widenings and two `SMLAD`s: `(3 + 5·ROWS) / (4·ROWS)` instructions
//! per MAC before loop overhead (1.44 at 4 rows; the limit is 1.25).
//!
//! Rust has no stable DSP intrinsics (`core::arch::arm::__smlad` is
//! unstable, `stdarch_arm_dsp`), and LLVM turns the plain loop into
//! `LDRSB` + `SMLABB` (one MAC per multiply), so the four instructions are
//! written with `asm!`, each as a pure, register-only operation the
//! compiler may schedule freely.

use core::arch::asm;

/// Output rows per pass of [`gemv_i8`]: every widened activation word is
/// reused this many times. 4 keeps the loop in registers (4 accumulators,
/// 4 row pointers, `x`, the end pointer, 4 temporaries).
pub const ROWS: usize = 4;

/// `SXTB16 v`: bytes 0 and 2 sign-extended to two int16 lanes.
#[inline(always)]
pub fn sxtb16(v: u32) -> u32 {
    let r;
    // SAFETY: register-only arithmetic, available on every core with DSP.
    unsafe {
        asm!("sxtb16 {r}, {v}", r = lateout(reg) r, v = in(reg) v, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `SXTB16 v, ROR #8`: bytes 1 and 3 sign-extended to two int16 lanes.
#[inline(always)]
pub fn sxtb16_ror8(v: u32) -> u32 {
    let r;
    // SAFETY: register-only arithmetic.
    unsafe {
        asm!("sxtb16 {r}, {v}, ror #8", r = lateout(reg) r, v = in(reg) v, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `SXTAB16 off, v`: bytes 0 and 2 sign-extended plus the packed int16
/// pair `off`, lane-wise mod 2^16.
#[inline(always)]
pub fn sxtab16(off: u32, v: u32) -> u32 {
    let r;
    // SAFETY: register-only arithmetic.
    unsafe {
        asm!("sxtab16 {r}, {o}, {v}", r = lateout(reg) r, o = in(reg) off, v = in(reg) v, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `SXTAB16 off, v, ROR #8`: bytes 1 and 3 sign-extended plus `off`.
#[inline(always)]
pub fn sxtab16_ror8(off: u32, v: u32) -> u32 {
    let r;
    // SAFETY: register-only arithmetic.
    unsafe {
        asm!("sxtab16 {r}, {o}, {v}, ror #8", r = lateout(reg) r, o = in(reg) off, v = in(reg) v, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `SMLAD a, b, acc`: `acc + a.lo·b.lo + a.hi·b.hi`, the products exact, the
/// adds wrapping (the Q flag it may set is never read).
#[inline(always)]
pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let r;
    // SAFETY: register-only arithmetic; it writes only the sticky Q flag.
    unsafe {
        asm!("smlad {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// Four int8 widened to int16 pairs, in `SXTB16`'s order.
#[derive(Clone, Copy)]
pub struct Widened {
    /// bytes 0, 2
    pub even: u32,
    /// bytes 1, 3
    pub odd: u32,
}

/// Loads 4 int8 (any alignment: `LDR` allows unaligned addresses on ARMv7-M
/// and ARMv8-M Mainline).
///
/// # Safety
/// `p..p + 4` must be readable.
#[inline(always)]
pub unsafe fn load4(p: *const i8) -> u32 {
    // SAFETY: the caller guarantees 4 readable bytes.
    unsafe { core::ptr::read_unaligned(p as *const u32) }
}

/// Loads 4 int8 at `*p` and advances `p` by 4 (`LDR v, [p], #4`).
///
/// Written as `asm!` so that LLVM's loop-strength reduction cannot turn a
/// set of walking pointers back into `base + index` addressing, which
/// needs one register more per row and spills in the 4-row loop.
///
/// # Safety
/// `*p..*p + 4` must be readable.
#[inline(always)]
pub unsafe fn load4_post(p: &mut *const i8) -> u32 {
    let v;
    // SAFETY: the caller guarantees 4 readable bytes at *p.
    unsafe {
        asm!("ldr {v}, [{p}], #4", v = lateout(reg) v, p = inout(reg) *p, options(pure, readonly, nostack, preserves_flags))
    };
    v
}

/// Loads 4 int8 at `p + off` (`LDR v, [p, off]`): the second row of a pair.
///
/// # Safety
/// `p + off..p + off + 4` must be readable.
#[inline(always)]
pub unsafe fn load4_at(p: *const i8, off: usize) -> u32 {
    let v;
    // SAFETY: the caller guarantees 4 readable bytes at p + off.
    unsafe {
        asm!("ldr {v}, [{p}, {o}]", v = lateout(reg) v, p = in(reg) p, o = in(reg) off, options(pure, readonly, nostack, preserves_flags))
    };
    v
}

/// `SXTB16` both halves of a word.
#[inline(always)]
pub fn widen(v: u32) -> Widened {
    Widened {
        even: sxtb16(v),
        odd: sxtb16_ror8(v),
    }
}

/// Widens and adds the int16 offset `off` to each of the four values
/// (`SXTAB16`): how an input offset is folded into the activations when the
/// bias has not absorbed it.
#[inline(always)]
pub fn widen_offset(v: u32, off: i16) -> Widened {
    let off2 = (off as u16 as u32) * 0x0001_0001;
    Widened {
        even: sxtab16(off2, v),
        odd: sxtab16_ror8(off2, v),
    }
}

/// `acc + Σ_{4} w·x` for an already widened `x` and a raw weight word.
#[inline(always)]
pub fn mac4(acc: i32, x: Widened, w: u32) -> i32 {
    let w = widen(w);
    smlad(w.odd, x.odd, smlad(w.even, x.even, acc))
}

/// The scalar tail: `acc + Σ a·b` over the last `< 4` elements.
#[inline(always)]
fn tail(acc: i32, a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(acc, |s, (&x, &y)| {
        s.wrapping_add(i32::from(x) * i32::from(y))
    })
}

/// The one dot-product loop: `Σ_{k<n} widen_x(x word)·w` over whole words,
/// then the scalar tail with `x[k] + off`.
#[inline(always)]
fn dot_with(x: &[i8], w: &[i8], off: i16, widen_x: impl Fn(u32) -> Widened) -> i32 {
    let n = x.len().min(w.len());
    let body = n & !3;
    let mut acc = 0i32;
    let mut k = 0;
    while k < body {
        // SAFETY: k + 4 <= body <= n, both slices hold n elements.
        let (xv, wv) = unsafe { (load4(x.as_ptr().add(k)), load4(w.as_ptr().add(k))) };
        acc = mac4(acc, widen_x(xv), wv);
        k += 4;
    }
    x[body..n].iter().zip(&w[body..n]).fold(acc, |s, (&a, &b)| {
        s.wrapping_add((i32::from(a) + i32::from(off)) * i32::from(b))
    })
}

/// `Σ a[k]·b[k]` with int32 wrap-around.
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    dot_with(a, b, 0, widen)
}

/// `Σ (x[k] + off)·w[k]`: [`dot_i8`] with an input offset folded by
/// `SXTAB16`. Exact while every `x + off` fits an int16 lane, e.g. for
/// `off = -zero_point` of any int8 zero point (`|x + off| <= 255`).
pub fn dot_i8_offset(x: &[i8], off: i16, w: &[i8]) -> i32 {
    dot_with(x, w, off, |v| widen_offset(v, off))
}

/// `out[r] = Σ_k w[r·cols + k]·x[k]`: [`ROWS`] rows per pass sharing each
/// widened activation word, the remaining rows one at a time.
/// `w` holds `out.len()` rows of `cols = x.len()`.
pub fn gemv_i8(w: &[i8], x: &[i8], out: &mut [i32]) {
    let cols = x.len();
    assert!(w.len() >= out.len() * cols);
    let body = cols & !3;
    let mut rows = out.chunks_exact_mut(ROWS);
    let mut r = 0;
    for o in &mut rows {
        // SAFETY: rows r..r + 4 lie inside `w` (asserted above).
        let acc = unsafe { gemv_rows4(w.as_ptr().add(r * cols), cols, x.as_ptr(), body) };
        o.copy_from_slice(&acc);
        if body < cols {
            // Columns past the last whole word (the slicing costs ~60
            // instructions per pass, so only when there are any).
            for (i, o) in o.iter_mut().enumerate() {
                let row = &w[(r + i) * cols..(r + i + 1) * cols];
                *o = tail(*o, &x[body..], &row[body..]);
            }
        }
        r += ROWS;
    }
    for o in rows.into_remainder() {
        *o = dot_i8(x, &w[r * cols..(r + 1) * cols]);
        r += 1;
    }
}

/// The 4-row body: `Σ_{k < body}` for rows `w`, `w + cols`, `w + 2·cols`,
/// `w + 3·cols`; `body` is a multiple of 4.
///
/// Register budget (13 of ARMv7-M's 13 allocatable registers with r7 as the
/// frame pointer): 4 accumulators, two row-pair pointers `p` (rows 0, 1)
/// and `q` (rows 2, 3) that reach their second row through the `cols`
/// register (`LDR w, [p, cols]`), the activation pointer and its end, and
/// four temporaries. One pointer per row would need 14 and spills.
///
/// # Safety
/// The four rows' first `body` bytes and `x[..body]` must be readable.
#[inline(always)]
unsafe fn gemv_rows4(w: *const i8, cols: usize, x: *const i8, body: usize) -> [i32; ROWS] {
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    // SAFETY (whole block): every pointer stays within the first `body`
    // bytes of its row / of x, as the caller guarantees.
    unsafe {
        let (mut p, mut q) = (w, w.add(2 * cols));
        let mut xp = x;
        let end = x.add(body);
        // One step: 4 columns of 4 rows (16 MACs, 23 instructions).
        let mut step = |xp: &mut *const i8| {
            let xv = widen(load4_post(xp));
            a1 = mac4(a1, xv, load4_at(p, cols));
            a0 = mac4(a0, xv, load4_post(&mut p));
            a3 = mac4(a3, xv, load4_at(q, cols));
            a2 = mac4(a2, xv, load4_post(&mut q));
        };
        // Four steps per iteration: the loop test (and the value LLVM
        // reloads from the stack) is paid once per 64 MACs.
        let end4 = x.add(body & !15);
        while xp != end4 {
            step(&mut xp);
            step(&mut xp);
            step(&mut xp);
            step(&mut xp);
        }
        while xp != end {
            step(&mut xp);
        }
    }
    [a0, a1, a2, a3]
}
