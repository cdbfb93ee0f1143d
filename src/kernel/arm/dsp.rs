//! Cortex-M DSP extension (`thumbv7em`: Cortex-M4/M7; `thumbv8m.main` with
//! DSP: Cortex-M33/M35P/M55/M85): int8 with `SXTB16` + `SMLAD`.
//!
//! Four int8 in a word `b3 b2 b1 b0` widen into two words of packed int16:
//! `SXTB16 v` gives `(b2, b0)` ("even") and `SXTB16 v, ROR #8` gives
//! `(b3, b1)` ("odd"). Both operands are permuted the same way, so
//! `SMLAD(w_odd, x_odd, SMLAD(w_even, x_even, acc))` adds all four exact
//! products: two multiply instructions per 4 MACs and no repacking
//! (`PKHBT`). `SMLAD`'s 32-bit add wraps (it only sets the sticky Q flag),
//! which is the kernels' contract. The full int8 range is exact, so the
//! narrow-weight entries share the kernels.
//!
//! Rust has no stable DSP intrinsics (`core::arch::arm::__smlad` is behind
//! `stdarch_arm_dsp`) and LLVM turns the plain loop into `LDRSB` + `SMLABB`
//! (one MAC per multiply), so the two instructions are `asm!`, each a pure,
//! register-only operation the compiler schedules freely.
//!
//! The int4 GEMV ([`gemv_i4_i8`]) masks nibbles into int16 pairs (no sign
//! extension) against a permuted copy of the activations, 2 rows per pass;
//! int4 dots and row sums stay portable (a single row has nothing to share
//! the permutation with, and the shared driver's DSP form measured slower
//! than the portable loop there).
//!
//! Dots, row sums and the GEMM with several activation rows run the shared
//! drivers (`simd/dot.rs`, `simd/gemm.rs`) over [`Dsp`]'s `Mac`: a 4-byte
//! block in one register, one `i32` per output. The GEMV (one activation
//! row, a fully connected layer's case) is this file's own loop,
//! [`rows4`]: 4 weight rows per pass share each widened activation word,
//! 16 columns per iteration, and the loads walk their pointers with
//! post-indexed `LDR` in `asm!`. The driver cannot express that: it indexes
//! slices, and on a core with 13 allocatable registers LLVM's loop-strength
//! reduction turns five walking pointers into `base + index` addressing and
//! spills (33-38 instructions per 16 MACs instead of 23; measured under
//! QEMU).
//!
//! 16x8 (int16 activations): the activations are already int16 pairs, so
//! they are regrouped once per 4 columns (`PKHBT` / `PKHTB`) into the
//! weights' `SXTB16` order and `mac4` runs unchanged, into an i32 widened
//! into i64 every 508 columns (the bound is in `simd/wide.rs`). The dot
//! runs the shared 16x8 driver; the GEMV, [`gemv_i16_i8`], is this file's
//! own 4-row loop [`rows4_i16`] for the same reason as the int8 one.
//!
//! Selected by `cfg(target_feature = "dsp")`: a microcontroller has no
//! run-time detection, the build names the core.

use core::arch::asm;

use crate::kernel::Isa;
use crate::kernel::dispatch::{GENERIC, Kernels};
use crate::kernel::simd::wide::{self, Mac16};
use crate::kernel::simd::{Lanes, Mac, dot, gemm};

/// The DSP table: every entry not listed is [`GENERIC`]'s.
pub(super) static KERNELS: Kernels = Kernels {
    isa: Isa::Dsp,
    dot_i8: |a, b| dot::dot(Dsp, a, b),
    dot_i8_narrow: |x, w| dot::dot(Dsp, x, w),
    gemm_i8,
    gemm_i8_narrow: gemm_i8,
    row_sums_i8: |w, cols, out| dot::row_sums(Dsp, w, cols, out),
    gemv_i4_i8,
    dot_i16_i8: |x, w| wide::dot(Dsp, x, w),
    gemv_i16_i8,
    ..GENERIC
};

/// `(w, x, cols, out)`: a GEMV through [`gemv_i8`], more activation rows
/// through the shared driver in tiles of 2 × 2.
fn gemm_i8(w: &[i8], x: &[i8], cols: usize, out: &mut [i32]) {
    if x.len() == cols {
        gemv_i8(w, x, out);
    } else {
        gemm::gemm::<_, 4, 2, 2>(Dsp, w, cols, x, cols, out);
    }
}

/// Activations per chunk of the int4 GEMV's permuted copy: 64 words
/// (256 bytes) of stack.
const I4_CHUNK: usize = 128;

/// GEMV over TFLite-packed int4 (`out.len()` rows of `x.len()`; weight
/// `2k` of a row in the low nibble of byte `k`).
///
/// A word of 8 nibbles `n7 … n0` becomes four int16 pairs with one mask
/// each and no sign extension: `n ^ 8 = w + 8` is in `[0, 15]`, so
/// `(u >> s) & 0x000F_000F` for `s = 0, 8, 4, 12` gives `(w0, w4)`,
/// `(w2, w6)`, `(w1, w5)`, `(w3, w7)`, each plus 8; `8·Σx` is subtracted
/// once per call, exactly in wrapping i32. The activations are permuted
/// once per chunk into the pairs those masks meet ([`permute_i4`], a copy
/// on the stack), so a pass over 2 weight rows loads each pair word and
/// needs no `SXTB16` or `PKH`: per 8 MACs a row costs one `LDR`, one `EOR`,
/// four `AND`s and four `SMLAD`s, plus the shared pair loads (about 1.8
/// instructions per MAC measured under QEMU; the portable loop, one nibble
/// at a time, 4.4). `(w + 8)·x` is at most `15·128` in magnitude, far
/// inside `SMLAD`'s int16 operands. Two rows per pass is what fits the registers beside
/// the walking pointers (the shared driver's 4-row tile spills: 2.8).
/// Rows start on a byte only for an even column count; odd counts, and
/// rows shorter than a step and single rows (nothing to share the
/// permutation with), run the portable loop.
fn gemv_i4_i8(packed: &[u8], x: &[i8], out: &mut [i32]) {
    let cols = x.len();
    if cols % 2 == 1 || cols < 8 || out.len() < 2 {
        return crate::kernel::generic::gemv_i4_i8(packed, x, out);
    }
    let (rows, row_bytes) = (out.len(), cols / 2);
    let body = cols & !7;
    // Σ (w + 8)·x over the body, then the tail's exact products.
    let correction = 8i32.wrapping_mul(crate::kernel::generic::sum_i8(&x[..body]));
    out.fill(correction.wrapping_neg());
    let mut pairs = [0u32; I4_CHUNK / 2];
    for c0 in (0..body).step_by(I4_CHUNK) {
        let n = (body - c0).min(I4_CHUNK);
        let pairs = &mut pairs[..n / 2];
        permute_i4(&x[c0..c0 + n], pairs);
        let w = &packed[c0 / 2..];
        let mut two = out.chunks_exact_mut(2);
        for (r, o) in (&mut two).enumerate() {
            let [s0, s1] = rows2_i4(&w[2 * r * row_bytes..], row_bytes, pairs);
            o[0] = o[0].wrapping_add(s0);
            o[1] = o[1].wrapping_add(s1);
        }
        if let [o] = two.into_remainder() {
            let last = &w[(rows - 1) * row_bytes..];
            // The last row paired with itself: one pass, the same sums.
            let [s, _] = rows2_i4(last, 0, pairs);
            *o = o.wrapping_add(s);
        }
    }
    for (r, o) in out.iter_mut().enumerate() {
        for k in body..cols {
            let b = packed[r * row_bytes + k / 2];
            let w = if k % 2 == 0 {
                ((b << 4) as i8) >> 4
            } else {
                (b as i8) >> 4
            };
            *o = o.wrapping_add(i32::from(w) * i32::from(x[k]));
        }
    }
}

/// The activation pairs [`rows2_i4`]'s weight masks meet: per 8
/// activations, `(x0, x4)`, `(x2, x6)`, `(x1, x5)`, `(x3, x7)` as int16
/// pairs (`x.len()` is `2·pairs.len()`, a multiple of 8). `SXTB16` of the
/// two words gives `(x0, x2)`, `(x4, x6)` and, with `ROR #8`, `(x1, x3)`,
/// `(x5, x7)`; two halfword packs (`PKHBT` / `PKHTB`) regroup each couple.
fn permute_i4(x: &[i8], pairs: &mut [u32]) {
    let (blocks, _) = x.as_chunks::<8>();
    for (b, p) in blocks.iter().zip(pairs.as_chunks_mut::<4>().0) {
        let lo = widen(u32::from_le_bytes([
            b[0] as u8, b[1] as u8, b[2] as u8, b[3] as u8,
        ]));
        let hi = widen(u32::from_le_bytes([
            b[4] as u8, b[5] as u8, b[6] as u8, b[7] as u8,
        ]));
        *p = [
            pack_lo(lo.even, hi.even),
            pack_hi(lo.even, hi.even),
            pack_lo(lo.odd, hi.odd),
            pack_hi(lo.odd, hi.odd),
        ];
    }
}

/// `(a.lo, b.lo)`: the low halfwords of two words in one (`PKHBT`).
#[inline(always)]
fn pack_lo(a: u32, b: u32) -> u32 {
    (a & 0xFFFF) | (b << 16)
}

/// `(a.hi, b.hi)`: the high halfwords of two words in one (`PKHTB`).
#[inline(always)]
fn pack_hi(a: u32, b: u32) -> u32 {
    (a >> 16) | (b & 0xFFFF_0000)
}

/// `Σ (w[r][k] + 8)·x[k]` for the rows at `w` and `w + stride` (int4,
/// packed), `x` given as [`permute_i4`]'s pairs: 8 columns per step.
///
/// Register budget: 2 accumulators, the row pointer, the stride, the pair
/// pointer and its end, the two rows' weight words, one pair, the mask and
/// one temporary: 11 of the 13.
#[inline(never)]
fn rows2_i4(w: &[u8], stride: usize, pairs: &[u32]) -> [i32; 2] {
    const PAIR: u32 = 0x000F_000F;
    let (mut a0, mut a1) = (0i32, 0i32);
    // Each step reads 4 weight bytes per row and 4 pair words.
    if !pairs.len().is_multiple_of(4) || w.len() < stride + pairs.len() {
        return [0; 2];
    }
    let mut p = w.as_ptr().cast::<i8>();
    let mut xp = pairs.as_ptr().cast::<i8>();
    let end = pairs.as_ptr_range().end.cast::<i8>();
    // Two steps per iteration while two remain: the loop test is paid once
    // per 32 MACs.
    let end2 = pairs[..pairs.len() & !7].as_ptr_range().end.cast::<i8>();
    // SAFETY (every load in `step`): checked above: `pairs.len() / 4`
    // steps, each reading 4 bytes at `p` (row 0) and at `p + stride` (row
    // 1), `w` holding `stride + pairs.len()` bytes, and 16 bytes (4 words)
    // at `xp`, which stops at the end of `pairs`.
    let mut step = |p: &mut *const i8, xp: &mut *const i8| unsafe {
        let u1 = load4_at(*p, stride) ^ 0x8888_8888;
        let u0 = load4_post(p) ^ 0x8888_8888;
        for shift in [0, 8, 4, 12] {
            let x = load4_post(xp);
            a0 = smlad((u0 >> shift) & PAIR, x, a0);
            a1 = smlad((u1 >> shift) & PAIR, x, a1);
        }
    };
    while xp != end2 {
        step(&mut p, &mut xp);
        step(&mut p, &mut xp);
    }
    if xp != end {
        step(&mut p, &mut xp);
    }
    [a0, a1]
}

/// `SXTB16 v, ROR #ROR`: bytes `ROR / 8` and `ROR / 8 + 2` sign-extended
/// to two int16 lanes (`ROR` 0: bytes 0 and 2; 8: bytes 1 and 3).
#[inline(always)]
fn sxtb16<const ROR: u32>(v: u32) -> u32 {
    const { assert!(ROR == 0 || ROR == 8 || ROR == 16 || ROR == 24) };
    let r;
    // SAFETY: register-only arithmetic on a core with the DSP extension
    // (this module is compiled only for those).
    unsafe {
        asm!("sxtb16 {r}, {v}, ror #{ror}", r = lateout(reg) r, v = in(reg) v, ror = const ROR,
             options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// `SMLAD a, b, acc`: `acc + a.lo·b.lo + a.hi·b.hi`, the products exact,
/// the adds wrapping.
#[inline(always)]
fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let r;
    // SAFETY: register-only arithmetic (DSP extension); it writes only the
    // sticky Q flag, which nothing reads.
    unsafe {
        asm!("smlad {r}, {a}, {b}, {c}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b,
             c = in(reg) acc, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

/// Four int8 widened to int16 pairs, in `SXTB16`'s order.
#[derive(Clone, Copy)]
struct Widened {
    /// Bytes 0 and 2.
    even: u32,
    /// Bytes 1 and 3.
    odd: u32,
}

/// `SXTB16` both halves of a word.
#[inline(always)]
fn widen(v: u32) -> Widened {
    Widened {
        even: sxtb16::<0>(v),
        odd: sxtb16::<8>(v),
    }
}

/// `acc + Σ x·w` over the four int8 of each operand.
#[inline(always)]
fn mac4(acc: i32, x: Widened, w: Widened) -> i32 {
    smlad(w.odd, x.odd, smlad(w.even, x.even, acc))
}

/// Four int8 loaded as one word and widened ([`widen`]).
#[inline(always)]
fn load_widened(b: &[i8; 4]) -> Widened {
    widen(u32::from_le_bytes(b.map(|v| v as u8)))
}

/// The DSP kernels: a 4-byte block in one register, one `i32` per output.
/// The type is the proof that the DSP extension is there (this module is
/// compiled only when it is).
#[derive(Clone, Copy)]
struct Dsp;

impl Lanes for Dsp {
    type Acc = i32;

    #[inline(always)]
    fn zero(self) -> i32 {
        0
    }

    #[inline(always)]
    fn add(self, a: i32, b: i32) -> i32 {
        a.wrapping_add(b)
    }

    #[inline(always)]
    fn sum(self, a: i32) -> i32 {
        a
    }
}

impl Mac for Dsp {
    type Lanes = Dsp;
    type Elem = i8;
    type XBlock = [i8; 4];
    type WBlock = [i8; 4];
    type X = Widened;
    type W = Widened;

    #[inline(always)]
    fn lanes(self) -> Dsp {
        self
    }

    #[inline(always)]
    fn x(self, b: &[i8; 4]) -> Widened {
        load_widened(b)
    }

    #[inline(always)]
    fn w(self, b: &[i8; 4]) -> Widened {
        load_widened(b)
    }

    #[inline(always)]
    fn mac(self, acc: i32, x: Widened, w: Widened) -> i32 {
        mac4(acc, x, w)
    }
}

/// Loads 4 int8 at `*p` and advances `p` by 4 (`LDR v, [p], #4`; ARMv7-M
/// and ARMv8-M Mainline allow unaligned `LDR`).
///
/// `asm!`, so that loop-strength reduction cannot turn the walking pointers
/// back into `base + index` addressing (one register more per row).
///
/// # Safety
/// `*p..*p + 4` must be readable.
#[inline(always)]
unsafe fn load4_post(p: &mut *const i8) -> u32 {
    let v;
    // SAFETY: the caller guarantees 4 readable bytes at `*p`.
    unsafe {
        asm!("ldr {v}, [{p}], #4", v = lateout(reg) v, p = inout(reg) *p,
             options(pure, readonly, nostack, preserves_flags))
    };
    v
}

/// Loads 4 int8 at `p + off` (`LDR v, [p, off]`): the second row of a pair.
///
/// # Safety
/// `p + off..p + off + 4` must be readable.
#[inline(always)]
unsafe fn load4_at(p: *const i8, off: usize) -> u32 {
    let v;
    // SAFETY: the caller guarantees 4 readable bytes at `p + off`.
    unsafe {
        asm!("ldr {v}, [{p}, {o}]", v = lateout(reg) v, p = in(reg) p, o = in(reg) off,
             options(pure, readonly, nostack, preserves_flags))
    };
    v
}

/// `out[r] = Σ_k w[r][k]·x[k]`, `w` holding `out.len()` rows of
/// `x.len()`: 4 rows per pass through [`rows4`] plus a scalar tail of the
/// last `cols % 4` columns, the remaining rows one at a time through the
/// shared dot ([`passes4`]).
fn gemv_i8(w: &[i8], x: &[i8], out: &mut [i32]) {
    let cols = x.len();
    let body = cols & !3;
    let pass = |o: &mut [i32; 4], w4: &[i8]| {
        let acc = rows4(w4, cols, x, body);
        if body == cols {
            *o = acc;
            return;
        }
        // Columns past the last whole word, only when there are any (the
        // slicing costs more than the pass's whole set-up).
        for ((o, a), row) in o.iter_mut().zip(acc).zip(w4.chunks_exact(cols)) {
            *o = x[body..]
                .iter()
                .zip(&row[body..])
                .fold(a, |s, (&a, &b)| s.wrapping_add(i32::from(a) * i32::from(b)));
        }
    };
    passes4(w, cols, out, pass, |row| dot::dot(Dsp, x, row));
}

/// The frame of both GEMVs: `w` holds `out.len()` rows of `cols`; each
/// pass of 4 rows goes to `pass` (its 4 outputs, its `4·cols` weights), the
/// remaining rows one at a time to `row`. No columns: every output is 0.
#[inline(always)]
fn passes4<T: Copy + Default>(
    w: &[i8],
    cols: usize,
    out: &mut [T],
    pass: impl Fn(&mut [T; 4], &[i8]),
    row: impl Fn(&[i8]) -> T,
) {
    if cols == 0 {
        out.fill(T::default());
        return;
    }
    let (passes, rest_out) = out.as_chunks_mut::<4>();
    let done = 4 * passes.len();
    for (o, w4) in passes.iter_mut().zip(w.chunks_exact(4 * cols)) {
        pass(o, w4);
    }
    let rest = w.chunks_exact(cols).skip(done);
    for (o, r) in rest_out.iter_mut().zip(rest) {
        *o = row(r);
    }
}

/// `Σ_{k < body} w[r][k]·x[k]` for the four consecutive rows of `cols`
/// in `w` (`body` a multiple of 4, at most `cols`): [`rows4_loop`], each
/// step widening one word of activations. Kept out of line so that the
/// caller's values do not compete for the loop's registers (inlined, LLVM
/// reloads `cols` from the stack at every step).
#[inline(never)]
fn rows4(w: &[i8], cols: usize, x: &[i8], body: usize) -> [i32; 4] {
    if body > cols || x.len() < body || w.len() / 4 < cols || !body.is_multiple_of(4) {
        return [0; 4];
    }
    let end = x.as_ptr().wrapping_add(body);
    // SAFETY: checked above, `x` holds `body` bytes and `w` four rows of
    // `cols >= body`: the loop reads `body` bytes of `x` (4 per step) and
    // as many of each row.
    unsafe { rows4_loop(w, cols, x.as_ptr(), end, 16, |xp| widen(load4_post(xp))) }
}

/// Two int16 activations in one word, low half first (`LDR` of two
/// consecutive `i16`).
#[inline(always)]
fn pair(lo: i16, hi: i16) -> u32 {
    u32::from(lo as u16) | (u32::from(hi as u16) << 16)
}

/// Four int16 activations regrouped to meet [`widen`]'s weight pairs:
/// `x = (x1:x0, x3:x2)` as loaded becomes `even = x2:x0` (`PKHBT`) and
/// `odd = x3:x1` (`PKHTB`), once per block, shared by every row of a pass.
#[inline(always)]
fn regroup(lo: u32, hi: u32) -> Widened {
    Widened {
        even: (lo & 0xFFFF) | (hi << 16),
        odd: (hi & 0xFFFF_0000) | (lo >> 16),
    }
}

/// 16x8: a block of 4 columns, the activations regrouped into the
/// weights' `SXTB16` order, two `SMLAD` into one i32 (`mac4`): 4 products
/// per step, so `wide::rows` widens every `511 / 4 = 127` steps (508
/// columns, `508·2^22 < 2^31`); `SMLAD`'s own sum of two products is at
/// most `2^23`, exact. The accumulator, the weights and the step are the
/// int8 kernel's ([`Mac`] for `Dsp`): only the activations and the widening
/// are 16x8's own.
impl Mac16 for Dsp {
    type XBlock = [i16; 4];
    type WBlock = [i8; 4];
    type X = Widened;
    type W = Widened;
    type Acc = i32;
    type Wide = i64;

    const LANE_PRODUCTS: usize = 4;

    #[inline(always)]
    fn zero(self) -> i32 {
        Lanes::zero(self)
    }

    #[inline(always)]
    fn zero_wide(self) -> i64 {
        0
    }

    #[inline(always)]
    fn x(self, b: &[i16; 4]) -> Widened {
        regroup(pair(b[0], b[1]), pair(b[2], b[3]))
    }

    #[inline(always)]
    fn w(self, b: &[i8; 4]) -> Widened {
        Mac::w(self, b)
    }

    #[inline(always)]
    fn mac(self, acc: i32, x: Widened, w: Widened) -> i32 {
        Mac::mac(self, acc, x, w)
    }

    #[inline(always)]
    fn widen(self, wide: i64, acc: i32) -> i64 {
        wide + i64::from(acc)
    }

    #[inline(always)]
    fn sum(self, wide: i64) -> i64 {
        wide
    }
}

/// Columns of one [`rows4_i16`] run: each row's i32 gains one product per
/// column, so `508 <= I32_PRODUCTS = 511` products of at most `2^22` stay
/// below `2^31` (see `simd/wide.rs`); a multiple of 4.
const RUN16: usize = wide::I32_PRODUCTS / 4 * 4;

/// 16x8 GEMV: `out[r] = Σ_k w[r][k]·x[k]` exactly, `w` holding `out.len()`
/// rows of `x.len()`: 4 rows per pass through [`rows4_i16`] in runs of at
/// most [`RUN16`] columns, each run widened into the rows' `i64` sums, the
/// last `cols % 4` columns in plain i64; the remaining rows one at a time
/// through the shared 16x8 dot ([`passes4`]).
fn gemv_i16_i8(w: &[i8], x: &[i16], out: &mut [i64]) {
    let cols = x.len();
    let body = cols & !3;
    let pass = |o: &mut [i64; 4], w4: &[i8]| {
        let mut sums = [0i64; 4];
        let mut start = 0;
        while start < body {
            let len = RUN16.min(body - start);
            let acc = rows4_i16(&w4[start..], cols, &x[start..start + len]);
            for (s, a) in sums.iter_mut().zip(acc) {
                *s += i64::from(a);
            }
            start += len;
        }
        for ((o, s), row) in o.iter_mut().zip(sums).zip(w4.chunks_exact(cols)) {
            *o = x[body..]
                .iter()
                .zip(&row[body..])
                .fold(s, |s, (&a, &b)| s + i64::from(a) * i64::from(b));
        }
    };
    passes4(w, cols, out, pass, |row| wide::dot(Dsp, x, row));
}

/// `Σ_k w[r·stride + k]·x[k]` for `r` in 0..4 and `k < x.len()` (a
/// multiple of 4, at most [`RUN16`], so the i32 sums are exact): `w` starts
/// at the run's first column of row 0, rows `stride` bytes apart.
///
/// [`rows4_loop`], each step loading two words of activations and
/// regrouping them once for the four rows, then `LDR` + 2 `SXTB16` + 2
/// `SMLAD` per row. Out of line for the same reason as [`rows4`].
#[inline(never)]
fn rows4_i16(w: &[i8], stride: usize, x: &[i16]) -> [i32; 4] {
    let body = x.len();
    if !body.is_multiple_of(4) || body > stride || w.len() < 3 * stride + body {
        return [0; 4];
    }
    let x_end = x.as_ptr_range().end.cast::<i8>();
    // SAFETY: checked above, `x` holds `body` i16 (`2·body` bytes, 8 per
    // step of 4 columns) and `w` rows 0..4 from the run's start at `stride`
    // apart, each with at least `body` bytes (row 3 ends at `3·stride +
    // body <= w.len()`).
    unsafe {
        rows4_loop(w, stride, x.as_ptr().cast(), x_end, 32, |xp| {
            let lo = load4_post(xp);
            regroup(lo, load4_post(xp))
        })
    }
}

/// The 4-row loop of both GEMVs: `Σ_k w[r·stride + k]·x_k` for `r` in
/// 0..4 over the activations from `x` to `x_end`, one step of 4 columns
/// per `load_x` (which loads them from the walking pointer, advances it,
/// and returns them widened into [`widen`]'s pairs); four steps per
/// iteration while `x_end - x` holds `x_per_16` more bytes (16 columns),
/// so the loop test (and the one value LLVM keeps on the stack) is paid
/// once per 64 MACs.
///
/// Register budget (all 13 allocatable registers of ARMv7-M with r7 as the
/// frame pointer): 4 accumulators, two row-pair pointers `p` (rows 0, 1)
/// and `q` (rows 2, 3) that reach their second row through the `stride`
/// register (`LDR w, [p, stride]`), the activation pointer and its end
/// (loop ends as pointers: no counter register), and four temporaries.
/// One pointer per row would need 14 and spill.
///
/// # Safety
/// `x..x_end` must be readable and a whole number of steps; each of the
/// four rows at `w + r·stride` must hold 4 readable bytes per step.
#[inline(always)]
unsafe fn rows4_loop(
    w: &[i8],
    stride: usize,
    x: *const i8,
    x_end: *const i8,
    x_per_16: usize,
    load_x: impl Fn(&mut *const i8) -> Widened,
) -> [i32; 4] {
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    let (mut p, mut q) = (w.as_ptr(), w.as_ptr().wrapping_add(2 * stride));
    let mut xp = x;
    let steps16 = (x_end as usize - x as usize) / x_per_16;
    let end16 = x.wrapping_add(steps16 * x_per_16);
    // SAFETY (every load below): the caller's contract; `p`, `q` advance 4
    // bytes per step in rows 0 and 2, `p + stride`, `q + stride` are the
    // same offsets in rows 1 and 3.
    let mut step = |xp: &mut *const i8| unsafe {
        let xv = load_x(xp);
        a1 = mac4(a1, xv, widen(load4_at(p, stride)));
        a0 = mac4(a0, xv, widen(load4_post(&mut p)));
        a3 = mac4(a3, xv, widen(load4_at(q, stride)));
        a2 = mac4(a2, xv, widen(load4_post(&mut q)));
    };
    while xp != end16 {
        step(&mut xp);
        step(&mut xp);
        step(&mut xp);
        step(&mut xp);
    }
    while xp != x_end {
        step(&mut xp);
    }
    [a0, a1, a2, a3]
}
