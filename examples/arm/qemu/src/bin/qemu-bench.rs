//! Instruction-count benchmark: instructions per multiply-accumulate of qkit
//! (as it is today) and of the Arm prototypes, on Cortex-M under QEMU.
//!
//! Method: QEMU runs with `-icount shift=7,align=off,sleep=off`, so every
//! guest instruction advances virtual time by exactly 2^7 ns, and SysTick
//! counts the processor clock (CLKSOURCE = 1: 25 MHz on MPS2, 32 MHz on
//! MPS3), i.e. a fixed number of ticks per instruction. The ratio is
//! calibrated on a loop of known length (`spin`: 2 instructions per
//! iteration) and the cost of an empty measurement is subtracted, so a
//! tick delta converts to the exact number of instructions executed between
//! the two SysTick reads. Every measured result is also checked against the
//! specification, so a fast wrong kernel cannot report a figure.
//!
//! Output: `RESULT <what> <rows>x<cols> insns=<n> insn/MAC=<x>` lines, then
//! the usual `N passed, N failed` line; the exit status is the result.
#![no_std]
#![no_main]

use arm_proto::{OutputStage, best};
use core::arch::asm;
use core::hint::black_box;
use cortex_m::singleton;
use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use qemu::{Checks, Rng, systick, systick_start};
use qkit::kernel::Isa;
use qkit::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode,
};
use qkit::quant::Quantizer;

/// SysTick ticks elapsed while running `f` (keep runs below 2^24 ticks).
#[inline(never)]
fn ticks<R>(f: impl FnOnce() -> R) -> (u32, R) {
    let t0 = systick();
    let r = f();
    let t1 = systick();
    (t0.wrapping_sub(t1) & 0x00FF_FFFF, r)
}

/// Exactly `2n` instructions in its loop.
#[inline(never)]
fn spin(n: u32) {
    // SAFETY: a register-only countdown loop.
    unsafe { asm!("2:", "subs {0}, #1", "bne 2b", inout(reg) n => _, options(nomem, nostack)) };
}

/// Ticks → instructions.
struct Clock {
    /// ticks for 200 000 instructions
    per_200k: u64,
    /// ticks of an empty measurement
    empty: u32,
}

impl Clock {
    fn calibrate() -> Clock {
        let (small, _) = ticks(|| spin(black_box(1000)));
        let (big, _) = ticks(|| spin(black_box(101_000)));
        let (empty, _) = ticks(|| ());
        let c = Clock {
            per_200k: u64::from(big - small),
            empty,
        };
        // The calibration predicts other loop lengths exactly, or the method is off.
        for n in [7u32, 12_345] {
            let (t, _) = ticks(|| spin(black_box(n)));
            let got = c.insns(t);
            hprintln!(
                "CAL spin({}) = {} instructions (loop 2n = {}, call + return {})",
                n,
                got,
                2 * n,
                got as i64 - 2 * i64::from(n)
            );
        }
        c
    }
    fn insns(&self, t: u32) -> u64 {
        (u64::from(t.saturating_sub(self.empty)) * 200_000 + self.per_200k / 2) / self.per_200k
    }
    fn report(&self, what: &str, rows: usize, cols: usize, t: u32) {
        let ins = self.insns(t);
        let macs = (rows * cols) as u64;
        let milli = (ins * 1000 + macs / 2) / macs;
        hprintln!(
            "RESULT {:<34} {:>4}x{:<5} insns={:>8} insn/MAC={}.{:03}",
            what,
            rows,
            cols,
            ins,
            milli / 1000,
            milli % 1000
        );
    }
}

const SHAPES: [(usize, usize); 3] = [(1, 1024), (64, 256), (128, 512)];

#[entry]
fn main() -> ! {
    systick_start();
    hprintln!("qemu-bench on {}", qemu::CORE);
    let clock = Clock::calibrate();
    let mut t = Checks::default();
    let mut rng = Rng(0x1234_5678);
    let w = singleton!(: [i8; 128 * 512] = [0; 128 * 512]).unwrap();
    let x = singleton!(: [i8; 1024] = [0; 1024]).unwrap();
    rng.fill_i8(w);
    rng.fill_i8(x);
    let (mut acc, mut want) = ([0i32; 128], [0i32; 128]);

    // dot, n = 1024
    let (a, b) = (&x[..], &w[..1024]);
    let spec = arm_proto::dot_i8(a, b);
    let (tq, q) = ticks(|| qkit::kernel::dot_i8(black_box(a), black_box(b)));
    let (tp, p) = ticks(|| best::dot_i8(black_box(a), black_box(b)));
    clock.report("qkit kernel::dot_i8", 1, 1024, tq);
    clock.report("prototype dot_i8", 1, 1024, tp);
    t.check(
        q == Ok(spec) && p == spec,
        format_args!("dot 1024: qkit {q:?} prototype {p} spec {spec}"),
    );

    // int4 GEMV (TFLite-packed weights): this core's path beside the
    // portable one, same data.
    let packed = singleton!(: [u8; 128 * 512 / 2] = [0; 128 * 512 / 2]).unwrap();
    for v in packed.iter_mut() {
        *v = rng.next_u32() as u8;
    }
    for (rows, cols) in SHAPES {
        let (p, x) = (&packed[..rows * cols / 2], &x[..cols]);
        let isa = Isa::detect();
        let (tg, _) = ticks(|| {
            Isa::Generic.gemv_i4_i8(black_box(p), black_box(x), black_box(&mut want[..rows]))
        });
        let (tq, r) =
            ticks(|| isa.gemv_i4_i8(black_box(p), black_box(x), black_box(&mut acc[..rows])));
        t.check(
            r.is_ok() && acc[..rows] == want[..rows],
            format_args!("gemv_i4_i8 {rows}x{cols}: {isa:?} == Generic"),
        );
        clock.report("qkit kernel::gemv_i4_i8", rows, cols, tq);
        clock.report("qkit Isa::Generic.gemv_i4_i8", rows, cols, tg);
    }

    for (rows, cols) in SHAPES {
        let (w, x) = (&w[..rows * cols], &x[..cols]);
        arm_proto::gemv_i8(w, x, &mut want[..rows]);
        let (tq, r) = ticks(|| {
            qkit::kernel::gemv_i8(black_box(w), black_box(x), black_box(&mut acc[..rows]))
        });
        t.check(
            r.is_ok() && acc[..rows] == want[..rows],
            format_args!("qkit gemv {rows}x{cols}"),
        );
        acc.fill(0);
        let (tp, _) =
            ticks(|| best::gemv_i8(black_box(w), black_box(x), black_box(&mut acc[..rows])));
        t.check(
            acc[..rows] == want[..rows],
            format_args!("prototype gemv {rows}x{cols}"),
        );
        clock.report("qkit kernel::gemv_i8", rows, cols, tq);
        clock.report("prototype gemv_i8", rows, cols, tp);

        // FULLY_CONNECTED, per-tensor, double rounding, RELU6, zero points
        // -3 / 5: qkit's layer, then the prototype GEMV + output stage on the
        // channels that layer's constructor filled.
        let mut bias = [0i32; 128];
        for v in &mut bias[..rows] {
            *v = (rng.next_u32() as i32) >> 14;
        }
        let s_in = 0.05;
        let q = Quantization {
            input: Quantizer::new(s_in, -3).unwrap(),
            filter: FilterQuantizer::symmetric(&[0.004]).unwrap(),
            output: Quantizer::new(s_in * 0.004 * 90.0 * libm_sqrt(cols as f32) / 30.0, 5).unwrap(),
            activation: Activation::Relu6,
        };
        let mut chans = [Channel::default(); 128];
        let chans = &mut chans[..rows];
        let fc = FullyConnected::new(w, cols, Some(&bias[..rows]), &q, RequantMode::Double, chans)
            .unwrap();
        let range = fc.activation_range();
        let (mut out_q, mut out_p) = ([0i8; 128], [0i8; 128]);
        let (tq, r) = ticks(|| fc.run(black_box(x), 1, black_box(&mut out_q[..rows])));
        r.unwrap();
        let (mut b2, mut m, mut sh) = ([0i32; 128], [0i32; 128], [0i32; 128]);
        for (i, c) in chans.iter().enumerate() {
            (b2[i], m[i], sh[i]) = (
                c.folded_bias() as i32,
                c.multiplier().multiplier,
                c.multiplier().shift,
            );
        }
        let s = OutputStage {
            bias: &b2[..rows],
            multiplier: &m[..rows],
            shift: &sh[..rows],
            output_zero_point: 5,
            act_min: range.0,
            act_max: range.1,
        };
        let (tp, _) = ticks(|| {
            best::fully_connected_i8(
                black_box(w),
                black_box(x),
                &s,
                &mut acc[..rows],
                black_box(&mut out_p[..rows]),
            )
        });
        t.check(
            out_q[..rows] == out_p[..rows],
            format_args!("FC {rows}x{cols}: prototype == qkit"),
        );
        t.check(
            out_q[..rows].iter().any(|&v| v != out_q[0]) || rows == 1,
            format_args!("FC {rows}x{cols}: outputs not all equal"),
        );
        clock.report("qkit FullyConnected::run", rows, cols, tq);
        clock.report("prototype FC (GEMV + output stage)", rows, cols, tp);
    }
    // 16x8 GEMV (int16 activations, int8 weights, exact i64 sums): this
    // core's best path, and the portable one for comparison.
    let x16 = singleton!(: [i16; 512] = [0; 512]).unwrap();
    for v in x16.iter_mut() {
        *v = rng.next_u32() as i16;
    }
    let (mut acc64, mut want64) = ([0i64; 128], [0i64; 128]);
    for (rows, cols) in [(64usize, 256usize), (128, 512)] {
        let (w, x) = (&w[..rows * cols], &x16[..cols]);
        for (r, o) in want64[..rows].iter_mut().enumerate() {
            *o = w[r * cols..(r + 1) * cols]
                .iter()
                .zip(x)
                .map(|(&a, &b)| i64::from(a) * i64::from(b))
                .sum();
        }
        for (what, isa) in [
            ("qkit kernel::gemv_i16_i8", Isa::detect()),
            ("qkit Generic gemv_i16_i8", Isa::Generic),
        ] {
            acc64.fill(0);
            let (tq, r) = ticks(|| {
                isa.gemv_i16_i8(black_box(w), black_box(x), black_box(&mut acc64[..rows]))
            });
            t.check(
                r.is_ok() && acc64[..rows] == want64[..rows],
                format_args!("{what} {rows}x{cols}"),
            );
            clock.report(what, rows, cols, tq);
        }
    }
    t.finish("qemu-bench")
}

/// Newton square root (only sizes the test's output scale).
fn libm_sqrt(v: f32) -> f32 {
    let mut g = v.max(1.0);
    for _ in 0..20 {
        g = 0.5 * (g + v / g);
    }
    g
}
