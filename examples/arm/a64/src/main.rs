//! AArch64 prototypes under `qemu-aarch64` (user mode).
//!
//! `a64 test`: the NEON and (when the CPU has `dotprod`, detected at run
//! time) SDOT prototypes and the NEON output stage against the
//! specification, every length 0..=300 and alignment; ends with
//! `N passed, N failed` and exits non-zero on a failure.
//!
//! `a64 bench`: runs each measured kernel once between two marker calls
//! (`a64_mark_begin` / `a64_mark_end`) and prints one `MEASURE` line per
//! run, in order. `count.py` runs it under `qemu-aarch64 -singlestep -d
//! exec,nochain` (one trace line per executed instruction) and turns the
//! instructions between the markers into instructions per MAC; `a64 marks`
//! prints where the loader put `a64_mark_begin`.
use arm_proto::testing::{Rng, StageCase};
use arm_proto::{OutputStage, neon};
use std::hint::black_box;

/// Marks the start of a measured region (its entry address is found in
/// the trace).
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn a64_mark_begin() {
    // SAFETY: a nop. The two markers must differ, or the linker folds them
    // into one function (identical code folding) and the regions vanish.
    unsafe { core::arch::asm!("nop", options(nomem, nostack)) };
}

/// Marks the end of a measured region.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn a64_mark_end() {
    // SAFETY: two nops.
    unsafe { core::arch::asm!("nop", "nop", options(nomem, nostack)) };
}

fn measure<R>(name: &str, rows: usize, cols: usize, f: impl FnOnce() -> R) -> R {
    println!("MEASURE {name} {rows}x{cols}");
    a64_mark_begin();
    let r = f();
    a64_mark_end();
    r
}

fn has_dotprod() -> bool {
    std::arch::is_aarch64_feature_detected!("dotprod")
}

/// The GEMVs of this CPU: (name, function).
fn gemvs() -> Vec<(&'static str, fn(&[i8], &[i8], &mut [i32]))> {
    let mut v: Vec<(&'static str, fn(&[i8], &[i8], &mut [i32]))> = vec![
        ("neon", neon::gemv_i8),
        ("neon-narrow", neon::gemv_i8_narrow),
    ];
    if has_dotprod() {
        // SAFETY: dotprod detected.
        v.push(("sdot", |w, x, o| unsafe { neon::gemv_i8_sdot(w, x, o) }));
    }
    v
}

fn test() -> bool {
    let (mut passed, mut failed) = (0u32, 0u32);
    let mut check = |ok: bool, what: &dyn Fn() -> String| {
        if ok {
            passed += 1;
        } else {
            failed += 1;
            if failed <= 20 {
                println!("FAIL {}", what());
            }
        }
    };
    let mut rng = Rng(0x2545_F491);
    let mut w = vec![0i8; 9 * 300 + 16];
    let mut x = vec![0i8; 320];
    let mut acc = [0i32; 16];
    println!(
        "a64 test: dotprod {}",
        if has_dotprod() {
            "detected: NEON and SDOT paths"
        } else {
            "absent: NEON paths only"
        }
    );
    for n in 0..=300usize {
        for (oa, ob) in [(0, 0), (1, 3), (2, 1), (3, 2), (7, 13)] {
            rng.fill_i8(&mut x[..n + 16]);
            rng.fill_i8(&mut w[..n + 16]);
            let (a, b) = (&x[oa..oa + n], &w[ob..ob + n]);
            let want = arm_proto::dot_i8(a, b);
            check(neon::dot_i8(a, b) == want, &|| {
                format!("neon dot_i8 n={n} align=({oa},{ob})")
            });
            if has_dotprod() {
                // SAFETY: dotprod detected.
                check(unsafe { neon::dot_i8_sdot(a, b) } == want, &|| {
                    format!("sdot dot_i8 n={n}")
                });
            }
        }
        for rows in [1usize, 2, 3, 4, 5, 7, 8, 9] {
            let off = (n + rows) % 16;
            rng.fill_i8(&mut w[..rows * n + off]);
            rng.fill_i8(&mut x[..n + 16]);
            for (name, gemv) in gemvs() {
                if name == "neon-narrow" {
                    for v in &mut w[..rows * n + off] {
                        *v = (*v).max(-127);
                    }
                }
                let (wm, xv) = (&w[off..off + rows * n], &x[15 - off..15 - off + n]);
                let mut want = [0i32; 16];
                arm_proto::gemv_i8(wm, xv, &mut want[..rows]);
                gemv(wm, xv, &mut acc[..rows]);
                check(acc[..rows] == want[..rows], &|| {
                    format!("{name} gemv_i8 {rows}x{n} align={off}")
                });
            }
        }
    }
    // the output stage: random, tie-heavy, every shift, lengths 0..=40
    for trial in 0..20_000u32 {
        let c = StageCase::random(&mut rng, trial);
        check(c.agrees(neon::requantize_i8), &|| {
            format!("neon output stage trial {trial} n={}", c.n)
        });
    }
    println!("a64 test: {passed} passed, {failed} failed");
    failed == 0 && passed > 0
}

fn bench() -> bool {
    let mut rng = Rng(0x1234_5678);
    let mut w = vec![0i8; 128 * 512];
    let mut x = vec![0i8; 1024];
    rng.fill_i8(&mut w);
    rng.fill_i8(&mut x);
    let mut ok = true;
    measure("empty", 1, 1, || ());
    let d = measure("qkit kernel::dot_i8", 1, 1024, || {
        qkit::kernel::dot_i8(black_box(&x), black_box(&w[..1024]))
    });
    let want = arm_proto::dot_i8(&x, &w[..1024]);
    ok &= d == Ok(want);
    ok &= measure("prototype neon dot_i8", 1, 1024, || {
        neon::dot_i8(black_box(&x), black_box(&w[..1024]))
    }) == want;
    if has_dotprod() {
        // SAFETY: dotprod detected.
        ok &= measure("prototype sdot dot_i8", 1, 1024, || unsafe {
            neon::dot_i8_sdot(black_box(&x), black_box(&w[..1024]))
        }) == want;
    }
    let mut narrow_w = w.clone();
    for v in &mut narrow_w {
        *v = (*v).max(-127);
    }
    for (rows, cols) in [(64usize, 256usize), (128, 512)] {
        let (mut acc, mut want) = (vec![0i32; rows], vec![0i32; rows]);
        let (wm, xv) = (&w[..rows * cols], &x[..cols]);
        arm_proto::gemv_i8(wm, xv, &mut want);
        ok &= measure("qkit kernel::gemv_i8", rows, cols, || {
            qkit::kernel::gemv_i8(black_box(wm), black_box(xv), &mut acc)
        })
        .is_ok();
        ok &= acc == want;
        for (name, gemv) in gemvs() {
            let wm = if name == "neon-narrow" {
                &narrow_w[..rows * cols]
            } else {
                wm
            };
            let label = format!("prototype {name} gemv_i8");
            measure(&label, rows, cols, || {
                gemv(black_box(wm), black_box(xv), &mut acc)
            });
            arm_proto::gemv_i8(wm, xv, &mut want);
            ok &= acc == want;
        }
        // int4: the int8 weights' bytes read as TFLite-packed nibbles.
        let packed: Vec<u8> = wm[..rows * cols / 2].iter().map(|&b| b as u8).collect();
        let mut want4 = vec![0i32; rows];
        ok &= measure("qkit Isa::Generic.gemv_i4_i8", rows, cols, || {
            qkit::kernel::Isa::Generic.gemv_i4_i8(black_box(&packed), black_box(xv), &mut want4)
        })
        .is_ok();
        ok &= measure("qkit kernel::gemv_i4_i8", rows, cols, || {
            qkit::kernel::gemv_i4_i8(black_box(&packed), black_box(xv), &mut acc)
        })
        .is_ok();
        ok &= acc == want4;
        // 16x8: int16 activations (the int8 ones scaled by 257) against
        // the same weights.
        let x16: Vec<i16> = xv.iter().map(|&v| i16::from(v) * 257).collect();
        let (mut want16, mut acc16) = (vec![0i64; rows], vec![0i64; rows]);
        ok &= measure("qkit Isa::Generic.gemv_i16_i8", rows, cols, || {
            qkit::kernel::Isa::Generic.gemv_i16_i8(black_box(wm), black_box(&x16), &mut want16)
        })
        .is_ok();
        ok &= measure("qkit kernel::gemv_i16_i8", rows, cols, || {
            qkit::kernel::gemv_i16_i8(black_box(wm), black_box(&x16), &mut acc16)
        })
        .is_ok();
        ok &= acc16 == want16;
        ok &= fc(rows, cols, wm, xv, false);
        ok &= fc(rows, cols, wm, xv, true);
    }
    println!(
        "a64 bench: {}",
        if ok {
            "all results checked"
        } else {
            "MISMATCH"
        }
    );
    ok
}

/// FULLY_CONNECTED (per-tensor or per-channel filter scales, double
/// rounding, RELU6): qkit's layer, then the best prototype GEMV of this CPU
/// + the NEON output stage on the channels qkit's constructor filled.
/// Returns whether the outputs agree.
fn fc(rows: usize, cols: usize, w: &[i8], x: &[i8], per_channel: bool) -> bool {
    use qkit::layer::{
        Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode,
    };
    use qkit::quant::Quantizer;
    let bias: Vec<i32> = (0..rows as i32)
        .map(|i| (i * 7919 % 20000) - 10000)
        .collect();
    // Per channel: scales spread over 0.5x..2x, so each channel's
    // multiplier and shift differ.
    let scales: Vec<f32> = if per_channel {
        (0..rows)
            .map(|i| 0.004 * (0.5 + 1.5 * ((i * 37) % rows) as f32 / rows as f32))
            .collect()
    } else {
        vec![0.004]
    };
    let q = Quantization {
        input: Quantizer::new(0.05, -3).unwrap(),
        filter: FilterQuantizer::symmetric(&scales).unwrap(),
        output: Quantizer::new(0.05 * 0.004 * 3.0 * (cols as f32).sqrt(), 5).unwrap(),
        activation: Activation::Relu6,
    };
    let mut chans = vec![Channel::default(); rows];
    let fc =
        FullyConnected::new(w, cols, Some(&bias), &q, RequantMode::Double, &mut chans).unwrap();
    let range = fc.activation_range();
    let (mut want, mut got, mut acc) = (vec![0i8; rows], vec![0i8; rows], vec![0i32; rows]);
    let label = if per_channel {
        "qkit FullyConnected::run per-channel"
    } else {
        "qkit FullyConnected::run"
    };
    measure(label, rows, cols, || fc.run(black_box(x), 1, &mut want)).unwrap();
    let b: Vec<i32> = chans.iter().map(|c| c.folded_bias() as i32).collect();
    let m: Vec<i32> = chans.iter().map(|c| c.multiplier().multiplier).collect();
    let sh: Vec<i32> = chans.iter().map(|c| c.multiplier().shift).collect();
    let s = OutputStage {
        bias: &b,
        multiplier: &m,
        shift: &sh,
        output_zero_point: 5,
        act_min: range.0,
        act_max: range.1,
    };
    // the fastest full-range GEMV of this CPU (the weights contain -128)
    let (name, gemv) = *gemvs().iter().rfind(|g| g.0 != "neon-narrow").unwrap();
    let kind = if per_channel { " per-channel" } else { "" };
    measure(
        &format!("prototype FC{kind} ({name} + NEON stage)"),
        rows,
        cols,
        || {
            gemv(black_box(w), black_box(x), &mut acc);
            neon::requantize_i8(&acc, &s, &mut got);
        },
    );
    got == want && want.iter().any(|&v| v != want[0])
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let ok = match mode.as_str() {
        "test" => test(),
        "bench" => bench(),
        "marks" => {
            // Where the loader put the program (count.py relocates nm's addresses).
            println!("MARK {:p}", a64_mark_begin as *const ());
            true
        }
        _ => {
            eprintln!("usage: a64 test | bench");
            false
        }
    };
    std::process::exit(if ok { 0 } else { 1 });
}
