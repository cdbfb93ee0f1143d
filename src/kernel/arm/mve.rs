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
//! can live only inside one `asm!` block: each loop is one block. What
//! the blocks share is written once in macros: the template text (built
//! with `concat!`) of the multiply-accumulate loop (`mac_loop!`, both
//! element types, any number of rows) and of the double-rounding output
//! stage (`double_rounding_i8!`), and the Q-register clobbers (`asm_q!`).
//! `VMLADAVA`'s accumulator must be an even register: `r0`, `r2`, `r4`, `r8`
//! (r6 is LLVM's base pointer).
//!
//! The int8 output stage of TFLite Micro's double rounding (the slice
//! API's `Scaling::Double` and the layers' `RequantMode::Double` channel
//! table) is one tail-predicated loop over 4 lanes (`requantize_i8`);
//! every other mode, and `u8` / `i16` outputs, run the portable code.
//!
//! The 16x8 dot and GEMV (`VMLALDAVA.S16` on `VLDRB.S16`-widened
//! weights, 3 rows per pass, exact 64-bit accumulators) have a
//! section of their own.
//!
//! The int8 fully-connected tile of the layers (`fully_connected_i8`, TFLite
//! Micro's double rounding) fuses the two: the 4-row GEMV loop's
//! accumulators start at the rows' folded biases and, after the loop, go
//! into one vector for the same output stage, so they never touch memory;
//! the whole layer tile is one `asm!` block (`fc_rows4_double`).
//!
//! Every entry not listed comes from the DSP table (every Helium core has
//! the DSP extension): row sums, int4 dots, the GEMM with several activation
//! rows is a GEMV per activation row here.

use core::arch::asm;
use core::mem::{offset_of, size_of};

use crate::kernel::Isa;
use crate::kernel::dispatch::Kernels;
use crate::kernel::fully_connected::{FcTile, gemv_then_requantize};
use crate::kernel::output_stage::{
    Channel, Clamp, Job, Multipliers, Params, RequantMode, Scaling, run_scalar,
};
use crate::requant::QuantizedMultiplier;

/// The template of one tail-predicated multiply-accumulate loop over `$n`
/// columns (a register): each iteration loads one vector of activations
/// from `{x}` into `q0` and, for each row `($w, $q, $acc)`, one vector of
/// the row's weights from the pointer register `$w` into `$q` and adds its
/// products to `$acc`. Every pointer moves on by one vector of its own
/// elements; the last iteration is predicated to the remaining lanes (off
/// lanes load as zero, the predicated multiply-accumulate ignores them), so
/// each pointer ends `n` elements on, rounded up to a whole vector. The
/// first word says what is multiplied:
///
/// * `i8`: 16 int8 lanes, `VMLADAVA.S8` into one even register (`"r0"`);
/// * `i16_i8`: 8 int16 activations, the weights sign-extended to int16 by
///   `VLDRB.S16` (8 bytes), `VMLALDAVA.S16` into an even/odd register pair
///   (`"r0, r1"`) holding the exact 64-bit sum.
macro_rules! mac_loop {
    (i8, $($rows:tt)*) => {
        mac_loop!(@ "8", "vldrb.8", "vldrb.8", "16", "vmladava.s8", $($rows)*)
    };
    (i16_i8, $($rows:tt)*) => {
        mac_loop!(@ "16", "vldrh.16", "vldrb.s16", "8", "vmlaldava.s16", $($rows)*)
    };
    (@ $lanes:literal, $load_x:literal, $load_w:literal, $w_step:literal, $mac:literal,
     $n:literal, $(($w:literal, $q:literal, $acc:literal)),+) => {
        concat!(
            "dlstp.", $lanes, " lr, ", $n, "\n",
            "2:\n",
            $load_x, " q0, [{x}], #16\n",
            $($load_w, " ", $q, ", [", $w, "], #", $w_step, "\n",
              $mac, " ", $acc, ", q0, ", $q, "\n",)+
            "letp lr, 2b",
        )
    };
}

/// [`mac_loop!`] over the four int8 rows at `{w0}`..`{w3}`, accumulated in
/// `r0`, `r2`, `r4`, `r8` (`VMLADAVA` takes even registers; r6 is LLVM's):
/// the loop of [`rows4`] and of the fused [`fc_rows4_double`].
macro_rules! rows4_loop {
    ($n:literal) => {
        mac_loop!(
            i8,
            $n,
            ("{w0}", "q1", "r0"),
            ("{w1}", "q2", "r2"),
            ("{w2}", "q3", "r4"),
            ("{w3}", "q1", "r8")
        )
    };
}

/// `asm!` for a Helium block: the block's template and operands (ending
/// with a comma), then the Q registers it uses, `q0` up to `q1`, `q3` or
/// `q7`, declared clobbered. Rust names them on this target only as pairs
/// of `d` registers (`q<i>` is `d<2i>`, `d<2i+1>`).
macro_rules! asm_q {
    (q1; $($asm:tt)*) => {
        asm!($($asm)* out("d0") _, out("d1") _, out("d2") _, out("d3") _)
    };
    (q3; $($asm:tt)*) => {
        asm_q!(q1; $($asm)* out("d4") _, out("d5") _, out("d6") _, out("d7") _,)
    };
    (q7; $($asm:tt)*) => {
        asm_q!(q3; $($asm)*
            out("d8") _, out("d9") _, out("d10") _, out("d11") _,
            out("d12") _, out("d13") _, out("d14") _, out("d15") _,)
    };
}

/// The template of TFLite Micro's double-rounding output stage on the four
/// int32 sums in `q0` (the arithmetic is explained at [`double_row_i8`]):
/// it gathers the shifts from `$shift` and the Q31 multipliers from
/// `$multiplier` (addresses relative to `q4`), adds the zero point held in
/// the register `$zp`, clamps to `q5`..`q6` (`q7` holds 0) and stores the
/// four bytes through `r1`, which moves on by 4; `q1`, `q2` are scratch.
/// A caller's own instruction can go between the multiplier load and its
/// first use (`then`: [`double_row_i8`] advances its multiplier addresses
/// there) and before the zero point is added (`loaded by`: the instruction
/// that loads it into `$zp`).
macro_rules! double_rounding_i8 {
    (
        shift: $shift:literal,
        multiplier: $multiplier:literal,
        $(then: $then:literal,)?
        zero_point: $zp:literal $(loaded by $zp_load:literal)? $(,)?
    ) => {
        concat!(
            "vldrw.u32 q1, ", $shift, "\n",      // shift
            "vmax.s32 q2, q1, q7\n",             // L = max(shift, 0)
            "vmin.s32 q1, q1, q7\n",             // -R = min(shift, 0)
            "vshl.s32 q0, q0, q2\n",             // x << L, wrapping
            "vldrw.u32 q2, ", $multiplier, "\n", // Q31 multiplier
            $($then, "\n",)?
            "vqrdmulh.s32 q0, q0, q2\n",         // SRDHM
            "vand q2, q0, q1\n",                 // sign bit set iff x < 0 and R > 0
            "vshr.s32 q2, q2, #31\n",            // -1 there, else 0
            "vqadd.s32 q0, q0, q2\n",
            "vrshl.s32 q0, q0, q1\n",            // rounding shift right by R
            $($zp_load, "\n",)?
            "vqadd.s32 q0, q0, ", $zp, "\n",     // zero point
            "vmax.s32 q0, q0, q5\n",
            "vmin.s32 q0, q0, q6\n",
            "vstrb.32 q0, [r1], #4",
        )
    };
}

/// The Helium table, over the DSP one.
pub(super) static KERNELS: Kernels = Kernels {
    isa: Isa::Mve,
    dot_i8,
    dot_i8_narrow: dot_i8,
    gemm_i8,
    gemm_i8_narrow: gemm_i8,
    requantize_i8,
    // The compiler vectorises the portable int4 loop with Helium (0.41-0.54
    // instructions per MAC under QEMU), 4-5 times fewer than the DSP one.
    gemv_i4_i8: crate::kernel::dispatch::GENERIC.gemv_i4_i8,
    dot_i16_i8,
    gemv_i16_i8,
    fully_connected_i8,
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
        asm_q!(
            q1;
            mac_loop!(i8, "{n}", ("{w}", "q1", "r0")),
            n = in(reg) n,
            x = inout(reg) a.as_ptr() => _,
            w = inout(reg) b.as_ptr() => _,
            inout("r0") acc,
            out("lr") _,
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
/// `x.len() > 0`: [`gemv`] with passes of 4 rows.
fn gemv_i8(w: &[i8], x: &[i8], out: &mut [i32]) {
    gemv(w, x, out, rows4, dot_i8);
}

/// The GEMV of both element types: `out[r] = Σ_k w[r][k]·x[k]`, `w` holding
/// `out.len()` rows of `x.len() > 0`, `R` rows per `pass` (the `R`
/// consecutive rows of its `w` against `x`), then the remaining rows one at
/// a time (`dot(x, row)`). `pass` may be an `unsafe fn` whose contract is
/// to be handed `R` whole rows of `x.len() > 0`: the driver guarantees it.
#[inline(always)]
fn gemv<X, O: Copy, const R: usize>(
    w: &[i8],
    x: &[X],
    out: &mut [O],
    pass: unsafe fn(&[i8], &[X]) -> [O; R],
    dot: fn(&[X], &[i8]) -> O,
) {
    let cols = x.len();
    let done = out.len() / R * R;
    let mut passes = out.chunks_exact_mut(R);
    for (o, wr) in (&mut passes).zip(w.chunks_exact(R * cols)) {
        // SAFETY: `wr` is `R` whole rows of `cols` (`chunks_exact`), and
        // `cols > 0` (with 0, `chunks_exact` would have panicked).
        o.copy_from_slice(&unsafe { pass(wr, x) });
    }
    let rest = w.chunks_exact(cols).skip(done);
    for (o, row) in passes.into_remainder().iter_mut().zip(rest) {
        *o = dot(x, row);
    }
}

/// The four consecutive rows of `x.len()` in `w` against `x`.
///
/// The row pointers are formed inside the `asm!` from `w` and `cols`: the
/// fewer values live across the block, the fewer LLVM spills around it.
///
/// Unlike [`rows3_i16`], a safe function that checks its rows although
/// [`gemv`] hands it exactly 4: without the check LLVM lays out `gemm_i8`'s
/// loops differently, 7 to 23 instructions more per GEMV on QEMU's M55
/// (rustc 1.85's LLVM).
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
        asm_q!(
            q3;
            "add {w1}, {w0}, {n}",
            "add {w2}, {w1}, {n}",
            "add {w3}, {w2}, {n}",
            rows4_loop!("{n}"),
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
            options(readonly, nostack),
        );
    }
    [a0, a1, a2, a3]
}

/// Where the 4 lanes of one vector read their bias and their
/// `QuantizedMultiplier` (an address per lane, for `VLDRW`'s gather), and
/// how many bytes those addresses move per vector. A per-tensor multiplier
/// or a missing bias is an address repeated in every lane that never moves,
/// so one loop serves every layout.
#[derive(Clone, Copy)]
#[repr(C)]
struct Gather {
    bias: [u32; 4],
    multiplier: [u32; 4],
    bias_step: u32,
    multiplier_step: u32,
}

// The loop reads a multiplier's shift 4 bytes after its significand.
const _: () = assert!(offset_of!(QuantizedMultiplier, multiplier) == 0);
const _: () = assert!(offset_of!(QuantizedMultiplier, shift) == 4);

/// The bias of a job without one.
static NO_BIAS: i32 = 0;

/// `[p, p + stride, p + 2·stride, p + 3·stride]` and the step of a vector.
fn lanes<T>(p: *const T, stride: usize) -> ([u32; 4], u32) {
    let p = p as usize;
    let a = |j: usize| (p + j * stride) as u32;
    ([a(0), a(1), a(2), a(3)], (4 * stride) as u32)
}

impl Gather {
    /// The addresses of the slice API's bias and multipliers, if `row`
    /// channels of each are there (the job's invariants say so).
    fn slice(bias: Option<&[i32]>, m: &Multipliers<'_>, row: usize) -> Option<Self> {
        let (bias, bias_step) = match bias {
            Some(b) if b.len() >= row => lanes(b.as_ptr(), size_of::<i32>()),
            Some(_) => return None,
            None => lanes(&NO_BIAS, 0),
        };
        let (multiplier, multiplier_step) = match m {
            Multipliers::PerTensor(q) => lanes(q, 0),
            Multipliers::PerChannel(t) if t.len() >= row => {
                lanes(t.as_ptr(), size_of::<QuantizedMultiplier>())
            }
            Multipliers::PerChannel(_) => return None,
        };
        Some(Gather {
            bias,
            multiplier,
            bias_step,
            multiplier_step,
        })
    }

    /// The addresses of the bias and multiplier fields of a layer's
    /// channel records.
    fn table(channels: &[Channel], row: usize) -> Option<Self> {
        if channels.len() < row {
            return None;
        }
        let base = channels.as_ptr().cast::<u8>();
        let field = |offset: usize| base.wrapping_add(offset);
        let (bias, step) = lanes(field(offset_of!(Channel, bias)), size_of::<Channel>());
        let (multiplier, _) = lanes(field(offset_of!(Channel, multiplier)), size_of::<Channel>());
        Some(Gather {
            bias,
            multiplier,
            bias_step: step,
            multiplier_step: step,
        })
    }
}

/// The output stage into `i8`: the Helium loop for double rounding, the
/// portable code for everything else.
fn requantize_i8(job: &Job<'_>, out: &mut [i8]) {
    let row = job.row;
    let gather = match &job.params {
        Params::Slice {
            bias,
            scaling: Scaling::Double(m),
        } => Gather::slice(*bias, m, row),
        Params::Table {
            channels,
            requant: RequantMode::Double,
        } => Gather::table(channels, row),
        _ => None,
    };
    let Some(gather) = gather else {
        return run_scalar(job, out);
    };
    if row == 0 {
        return; // `acc` is empty
    }
    let k = job.clamp;
    for (acc, out) in job.acc.chunks_exact(row).zip(out.chunks_exact_mut(row)) {
        double_row_i8(acc, &gather, (k.zero_point, k.act_min, k.act_max), out);
    }
}

/// One row of channels: `out[c] = clamp(sat(MBQM(acc[c] + bias[c], M[c]) +
/// zero_point))`, 4 lanes per instruction, tail-predicated.
///
/// MBQM as TFLite Micro computes it (gemmlowp
/// `MultiplyByQuantizedMultiplier`): `x << L` (wrapping), `VQRDMULH` (=
/// `SaturatingRoundingDoublingHighMul`), then the rounding right shift by
/// `R` with ties away from zero. `VRSHL` by `-R` rounds ties **up**;
/// subtracting 1 from a negative `x` first (when `R > 0`:
/// `(x & -R) >> 31` is -1 exactly then, added with saturation) turns that
/// into ties away from zero, as CMSIS-NN's `arm_divide_by_power_of_two_mve`
/// does. (`x` is never `i32::MIN` there: `VQRDMULH` by a multiplier
/// `>= 0` returns at least `-i32::MAX`.) Adding the zero point with
/// saturation and then clamping to the `i8` activation range equals
/// clamping the exact sum.
#[inline(never)]
fn double_row_i8(acc: &[i32], g: &Gather, (zp, act_min, act_max): (i32, i32, i32), out: &mut [i8]) {
    let n = acc.len().min(out.len());
    if n == 0 {
        return;
    }
    // SAFETY: the loop runs over exactly `n` lanes (the last vector
    // predicated to the rest): it reads `n` i32 from `acc` and writes `n`
    // bytes to `out`, both at least that long. Lane `j` of vector `v` reads
    // the bias at `g.bias[j] + v·bias_step` and the multiplier and shift at
    // `g.multiplier[j] + v·multiplier_step` (+ 4), i.e. channel `4v + j < n`
    // of a bias / multiplier array holding at least `n` (`Gather::slice` /
    // `Gather::table` checked `row <= len`, and `n <= row`), or the one
    // value a step of 0 repeats; all i32-aligned. `q3`/`q4` hold those
    // addresses, `q5`-`q7` the clamp bounds and 0; every Q register used
    // is declared clobbered.
    unsafe {
        asm_q!(
            q7;
            "vldrw.u32 q3, [{g}]",           // bias addresses
            "vldrw.u32 q4, [{g}, #16]",      // multiplier addresses
            "vmov.i32 q7, #0",
            "vdup.32 q5, {amin}",
            "vdup.32 q6, {amax}",
            "dlstp.32 lr, {n}",
            "2:",
            "vldrw.u32 q0, [{acc}], #16",
            "vldrw.u32 q1, [q3]",            // bias
            "vadd.i32 q3, q3, {bstep}",
            "vadd.i32 q0, q0, q1",           // wrapping, as TFLite's int32 sum
            double_rounding_i8!(
                shift: "[q4, #4]",
                multiplier: "[q4]",
                then: "vadd.i32 q4, q4, {mstep}",
                zero_point: "{zp}",
            ),
            "letp lr, 2b",
            g = in(reg) core::ptr::from_ref(g),
            n = in(reg) n,
            acc = inout(reg) acc.as_ptr() => _,
            bstep = in(reg) g.bias_step,
            mstep = in(reg) g.multiplier_step,
            zp = in(reg) zp,
            amin = in(reg) act_min,
            amax = in(reg) act_max,
            // the narrowing store encodes its base in 3 bits: r0-r7
            inout("r1") out.as_mut_ptr() => _,
            out("lr") _,
            options(nostack),
        );
    }
}

// ---- 16x8: int16 activations × int8 weights, exact i64 sums ----------------
//
// `VMLALDAVA.S16 RdaLo, RdaHi, Qn, Qm` adds the 8 exact int16 products of
// two vectors to a 64-bit accumulator held in a register pair: the whole
// row's sum stays exact in i64, with no i32 partials to widen. The weights
// come in with `VLDRB.S16` (8 bytes sign-extended to int16 lanes), the
// activations with `VLDRH.16`; `DLSTP.16` / `LETP` predicate the last
// iteration to the remaining 16-bit lanes (off lanes load as zero and the
// predicated `VMLALDAVA` ignores them). The widening load encodes its base
// register in 3 bits (r0-r7, and r6/r7 are LLVM's), and each accumulator
// takes an even/odd pair, so a pass holds 3 rows: 7 instructions and the
// loop per 24 MACs.

/// `Σ x[k]·w[k]` exactly, over the shorter length.
fn dot_i16_i8(x: &[i16], w: &[i8]) -> i64 {
    let n = x.len().min(w.len());
    if n == 0 {
        return 0;
    }
    let (mut lo, mut hi) = (0u32, 0u32);
    // SAFETY: the loop reads exactly `n` i16 from `x` and `n` bytes from
    // `w` (the last iteration predicated to the remaining lanes), and both
    // slices hold at least `n`; `x` is i16-aligned as `VLDRH` needs.
    unsafe {
        asm_q!(
            q1;
            mac_loop!(i16_i8, "{n}", ("r2", "q1", "r0, r1")),
            n = in(reg) n,
            x = inout(reg) x.as_ptr() => _,
            inout("r2") w.as_ptr() => _,
            inout("r0") lo,
            inout("r1") hi,
            out("lr") _,
            options(readonly, nostack),
        );
    }
    join(lo, hi)
}

/// The i64 of a `RdaLo`, `RdaHi` pair.
#[inline(always)]
fn join(lo: u32, hi: u32) -> i64 {
    ((u64::from(hi) << 32) | u64::from(lo)) as i64
}

/// `out[r] = Σ_k w[r][k]·x[k]`, `w` holding `out.len()` rows of `x.len()`:
/// [`gemv`] with passes of 3 rows.
fn gemv_i16_i8(w: &[i8], x: &[i16], out: &mut [i64]) {
    if x.is_empty() {
        out.fill(0);
        return;
    }
    gemv(w, x, out, rows3_i16, dot_i16_i8);
}

/// The three consecutive rows of `x.len()` in `w` against `x`.
///
/// # Safety
/// `x` is not empty and `w` holds at least 3 rows of `x.len()` ([`gemv`]
/// hands it exactly those).
#[inline(always)]
unsafe fn rows3_i16(w: &[i8], x: &[i16]) -> [i64; 3] {
    let cols = x.len();
    let mut a = [(0u32, 0u32); 3];
    // SAFETY: by the contract, `w` holds 3 rows of `cols > 0` bytes and `x`
    // holds `cols` i16 (aligned); each pointer advances over exactly its
    // row / `x` (the last iteration predicated to the remaining lanes).
    unsafe {
        asm_q!(
            q3;
            "add r3, r2, {n}",
            "add r4, r3, {n}",
            mac_loop!(
                i16_i8,
                "{n}",
                ("r2", "q1", "r0, r1"),
                ("r3", "q2", "r8, r9"),
                ("r4", "q3", "r10, r11")
            ),
            n = in(reg) cols,
            x = inout(reg) x.as_ptr() => _,
            inout("r2") w.as_ptr() => _,
            out("r3") _,
            out("r4") _,
            inout("r0") a[0].0,
            inout("r1") a[0].1,
            inout("r8") a[1].0,
            inout("r9") a[1].1,
            inout("r10") a[2].0,
            inout("r11") a[2].1,
            out("lr") _,
            options(readonly, nostack),
        );
    }
    a.map(|(lo, hi)| join(lo, hi))
}

/// The int8 fully-connected tile: whole passes of 4 rows through the fused
/// loop when the mode is double rounding, the specification (this table's
/// GEMV and output stage) for the other modes and the last `rows % 4` rows.
fn fully_connected_i8(k: &Kernels, t: &FcTile<'_>, out: &mut [i8]) {
    let (rows, cols) = (t.channels.len(), t.x.len());
    let fused = if t.requant == RequantMode::Double && cols > 0 {
        rows / 4 * 4
    } else {
        0
    };
    let (Some(w), Some(rest_w)) = (t.w.get(..fused * cols), t.w.get(fused * cols..)) else {
        return; // `run_tile` checked `w` holds `rows` rows
    };
    let (head, rest) = t.channels.split_at(fused);
    let (out_head, out_rest) = out.split_at_mut(fused.min(out.len()));
    if fused > 0 {
        fc_rows4_double(w, t.x, head, t.clamp, out_head);
    }
    if !rest.is_empty() {
        let t = FcTile {
            w: rest_w,
            channels: rest,
            ..*t
        };
        gemv_then_requantize(k, &t, out_rest);
    }
}

// The fused loop reads a channel's bias, multiplier and shift at byte
// offsets 0, 4 and 8 of its record, and steps 4 records per pass.
const _: () = assert!(offset_of!(Channel, bias) == 0);
const _: () = assert!(offset_of!(Channel, multiplier) == 4);
const CHANNEL: usize = size_of::<Channel>();
const _: () = assert!(4 * CHANNEL == 128);

/// What each pass of [`fc_rows4_double`] reloads from the stack (the loop
/// has no register left for them): the column count, the activation row,
/// `cols - 16·⌈cols/16⌉` (how far past the row's end the post-incremented
/// weight pointers stop, negated) and the output zero point.
#[repr(C, align(8))]
struct PassConsts {
    cols: u32,
    x: u32,
    rewind: i32,
    zero_point: i32,
}

/// `out[r] = clamp(sat(MBQM(bias[r] + Σ_k w[r][k]·x[k], M[r]) + zp))` for
/// the `4·p` rows of `w` (`p = channels.len() / 4` passes, each of whole
/// rows of `x.len() > 0`): the 4-row GEMV loop of [`rows4`] with its
/// accumulators starting at the channels' folded biases, then the output
/// stage of [`double_row_i8`] on the 4 sums in one vector. Nothing but the
/// 4 output bytes leaves the registers.
///
/// Per pass, besides the loop: the 4 biases in one gather (`VLDRW` through
/// the vector of the 4 channel addresses, which the load advances by 4
/// records) and 2 `VMOV`s into the accumulators; afterwards 2 `VMOV`s back,
/// 16 instructions of output stage (multiplier and shift gathered from the
/// same addresses), the narrowing store and the pass count.
#[inline(never)]
fn fc_rows4_double(w: &[i8], x: &[i8], channels: &[Channel], clamp: Clamp, out: &mut [i8]) {
    let cols = x.len();
    let passes = channels.len().min(out.len()) / 4;
    // A multiply, not `w.len() / cols` (a division costs more than the
    // rest of the set-up).
    let need = (4 * passes).checked_mul(cols);
    if cols == 0 || passes == 0 || need.is_none_or(|n| w.len() < n) {
        return;
    }
    let consts = PassConsts {
        cols: cols as u32,
        x: x.as_ptr() as u32,
        rewind: -((cols.next_multiple_of(16) - cols) as i32),
        zero_point: clamp.zero_point,
    };
    // The channels' record addresses one pass early: the bias gather
    // pre-increments them (`[q4, #128]!`).
    let (first, _) = lanes(channels.as_ptr().cast::<u8>(), CHANNEL);
    let addresses = first.map(|a| a.wrapping_sub(4 * CHANNEL as u32));
    // SAFETY: checked above: `x` holds `cols > 0` bytes, `w` at least
    // `4·passes` rows of `cols`, `channels` and `out` at least `4·passes`
    // records / bytes. Pass `p` reads rows `4p..4p + 4` of `w` and `x`
    // through pointers that advance over exactly `cols` bytes each (the
    // last iteration predicated to the remaining lanes); the next pass's
    // first row is the 4th row's end pointer plus `rewind` (4th row start +
    // `cols`). It gathers the bias, multiplier and shift of records
    // `4p..4p + 4` (`channels` is 8-aligned, so every address is
    // word-aligned) and writes `out[4p..4p + 4]`. The 16 bytes of
    // `PassConsts` are copied below the stack pointer and released before
    // the block ends (no `nostack`). `q4`-`q7` hold the addresses, the
    // clamp bounds and 0 for the whole block; every register written is
    // declared clobbered.
    unsafe {
        asm_q!(
            q7;
            "ldrd {x}, {w1}, [r0]",
            "ldrd {w2}, {w3}, [r0, #8]",
            "sub sp, #16",
            "strd {x}, {w1}, [sp]",          // cols, x
            "strd {w2}, {w3}, [sp, #8]",     // rewind, zero point
            "vldrw.u32 q4, [r2]",            // record addresses - 128
            "vdup.32 q5, r4",
            "vdup.32 q6, r8",
            "vmov.i32 q7, #0",
            "1:",
            "ldr lr, [sp]",
            "add {w1}, {w0}, lr",
            "add {w2}, {w1}, lr",
            "add {w3}, {w2}, lr",
            "ldr {x}, [sp, #4]",
            // The two-lane `VMOV`s pair their first register with the lower
            // lane (checked on QEMU): lane j is row j's accumulator.
            "vldrw.u32 q0, [q4, #128]!",     // the 4 folded biases
            "vmov r0, r4, q0[2], q0[0]",
            "vmov r2, r8, q0[3], q0[1]",
            rows4_loop!("lr"),
            "vmov q0[2], q0[0], r0, r4",
            "vmov q0[3], q0[1], r2, r8",
            "ldr {w0}, [sp, #8]",
            "add {w0}, {w3}, {w0}",          // the next pass's first row
            // The record addresses in `q4`: multiplier at +4, shift at +8.
            double_rounding_i8!(
                shift: "[q4, #8]",
                multiplier: "[q4, #4]",
                zero_point: "{w1}" loaded by "ldr {w1}, [sp, #12]",
            ),
            "subs {passes}, #1",
            "bne 1b",
            "add sp, #16",
            w0 = inout(reg) w.as_ptr() => _,
            passes = inout(reg) passes => _,
            x = out(reg) _,
            w1 = out(reg) _,
            w2 = out(reg) _,
            w3 = out(reg) _,
            // The accumulators (`VMLADAVA` takes even registers) carry the
            // block's inputs until the loop starts.
            inout("r0") &raw const consts => _,
            inout("r2") addresses.as_ptr() => _,
            inout("r4") clamp.act_min => _,
            inout("r8") clamp.act_max => _,
            // the narrowing store encodes its base in 3 bits: r0-r7
            inout("r1") out.as_mut_ptr() => _,
            out("lr") _,
        );
    }
}
