//! Fuzz the C ABI through its `extern "C"` functions, with pointers anywhere
//! inside a 4 KiB arena (misaligned, overlapping each other), NULL
//! pointers and lengths that are in range, NULL, or huge. The caller's half
//! of the contract is kept (a non-huge length never runs past the arena);
//! everything else is arbitrary. Invariants:
//!
//! * no crash, no panic, no out-of-bounds access (ASan watches the arena);
//! * on any error the arena is byte-for-byte unchanged (validate before
//!   writing);
//! * on success only the output bytes changed, and they equal the safe Rust
//!   API run on copies;
//! * a NULL, huge, misaligned or overlapping buffer is never `QKIT_OK`.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::capi::*;
use qkit::kernel::{self, Multipliers, OutputStage, Scaling};
use qkit::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode,
};
use qkit::quant::Quantizer;
use qkit::requant::{self, Rounding};

const ARENA: usize = 4096;

#[derive(Debug, Arbitrary, Clone, Copy)]
enum Len {
    /// That many elements, cut to what fits in the arena after the offset.
    Elems(u16),
    /// A NULL pointer with this length.
    Null(u8),
    /// A length the ABI must reject: usize::MAX, PTRDIFF_MAX + 1 or the
    /// first length whose bytes pass PTRDIFF_MAX.
    Huge(u8),
}

#[derive(Debug, Arbitrary, Clone, Copy)]
struct BufSpec {
    offset: u16,
    len: Len,
}

#[derive(Debug, Arbitrary)]
enum Call {
    QuantizeMultiplier {
        real: f64,
        out: BufSpec,
    },
    Multiply {
        x: i32,
        m: (i32, i32),
        rounding: i32,
        out: BufSpec,
    },
    Requantize {
        acc: BufSpec,
        bias: Option<BufSpec>,
        ms: BufSpec,
        out: BufSpec,
        zp: i32,
        act: (i32, i32),
        rounding: i32,
    },
    Dot {
        a: BufSpec,
        b: BufSpec,
        out: BufSpec,
    },
    FullyConnected {
        x: u16,
        w: u16,
        bias: Option<u16>,
        scales: u16,
        per_channel: bool,
        out: u16,
        dims: (u8, u8, u8),
        huge_batch: bool,
        s_in: f32,
        s_out: f32,
        zps: (i32, i32),
        act: i32,
        rounding: i32,
    },
}

#[derive(Debug, Arbitrary)]
struct Input {
    fill: Vec<u8>,
    call: Call,
}

/// A buffer the call will see, and what the checks should make of it.
#[derive(Clone, Copy, Debug)]
struct Placed {
    ptr: usize, // address (0 for NULL)
    len: usize,
    bad: bool, // NULL with len > 0, huge, or misaligned and non-empty
}

impl Placed {
    fn bytes(&self, size: usize) -> (usize, usize) {
        if self.bad || self.len == 0 {
            (self.ptr, self.ptr)
        } else {
            (self.ptr, self.ptr + self.len * size)
        }
    }
}

fn place(base: usize, spec: BufSpec, size: usize, align: usize) -> Placed {
    let off = spec.offset as usize % ARENA;
    let ptr = base + off;
    match spec.len {
        Len::Elems(n) => {
            let len = (n as usize).min((ARENA - off) / size);
            Placed {
                ptr,
                len,
                bad: len > 0 && ptr % align != 0,
            }
        }
        Len::Null(n) => Placed {
            ptr: 0,
            len: n as usize,
            bad: n > 0,
        },
        Len::Huge(k) => {
            let len = [
                usize::MAX,
                isize::MAX as usize + 1,
                isize::MAX as usize / size + 1,
            ][k as usize % 3];
            Placed {
                ptr,
                len,
                bad: true,
            }
        }
    }
}

/// A result pointer (one element): NULL, or inside the arena with room for
/// the element (`None` when there is none: that call would break the
/// caller's promise).
fn result_slot(base: usize, spec: BufSpec, size: usize, align: usize) -> Option<Placed> {
    if let Len::Null(_) = spec.len {
        return Some(Placed {
            ptr: 0,
            len: 1,
            bad: true,
        });
    }
    let p = place(
        base,
        BufSpec {
            len: Len::Elems(1),
            ..spec
        },
        size,
        align,
    );
    (p.len == 1).then_some(p)
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < a.1 && b.0 < b.1 && a.0 < b.1 && b.0 < a.1
}

fn read<T: Copy>(arena: &[u8], base: usize, p: Placed) -> Vec<T> {
    let size = size_of::<T>();
    (0..p.len)
        .map(|i| {
            let off = p.ptr - base + i * size;
            // SAFETY: inside the arena (checked by the caller: a good buffer);
            // read_unaligned because the copy has no alignment promise.
            unsafe { arena.as_ptr().add(off).cast::<T>().read_unaligned() }
        })
        .collect()
}

/// Bytes outside the output ranges are unchanged; on error, all of them.
fn check_untouched(before: &[u8], after: &[u8], base: usize, outputs: &[(usize, usize)]) {
    for (i, (&b, &a)) in before.iter().zip(after).enumerate() {
        let addr = base + i;
        if !outputs.iter().any(|&(s, e)| (s..e).contains(&addr)) {
            assert_eq!(a, b, "byte {i} outside the outputs was written");
        }
    }
}

fuzz_target!(|inp: Input| {
    let mut words = vec![0u64; ARENA / 8];
    // SAFETY: plain bytes of a u64 buffer.
    let arena: &mut [u8] =
        unsafe { core::slice::from_raw_parts_mut(words.as_mut_ptr().cast(), ARENA) };
    for (b, f) in arena.iter_mut().zip(inp.fill.iter().cycle()) {
        *b = *f;
    }
    let base = arena.as_ptr() as usize;
    let before = arena.to_vec();
    let p = |x: Placed| x.ptr as *mut u8;

    match inp.call {
        Call::QuantizeMultiplier { real, out } => {
            let Some(o) = result_slot(base, out, 8, 4) else {
                return;
            };
            // SAFETY: `o` is NULL or inside the arena with room for one element.
            let s = unsafe { qkit_quantize_multiplier(real, p(o).cast()) };
            let ok = s == QKIT_OK;
            assert_eq!(
                ok,
                !o.bad && o.len == 1 && requant::quantize_multiplier(real).is_ok(),
                "{s}"
            );
            let range = if ok { vec![o.bytes(8)] } else { vec![] };
            check_untouched(&before, arena, base, &range);
            if ok {
                let m: Vec<qkit_quantized_multiplier> = read(arena, base, o);
                assert_eq!(m[0], requant::quantize_multiplier(real).unwrap());
            }
        }
        Call::Multiply {
            x,
            m,
            rounding,
            out,
        } => {
            let Some(o) = result_slot(base, out, 4, 4) else {
                return;
            };
            let m = qkit_quantized_multiplier {
                multiplier: m.0,
                shift: m.1,
            };
            // SAFETY: as above.
            let s = unsafe { qkit_multiply_by_quantized_multiplier(x, m, rounding, p(o).cast()) };
            let r = match rounding {
                0 => Some(Rounding::Double),
                1 => Some(Rounding::Single),
                _ => None,
            };
            let ok = s == QKIT_OK;
            assert_eq!(
                ok,
                !o.bad && o.len == 1 && r.is_some() && m.check().is_ok(),
                "{s}"
            );
            check_untouched(
                &before,
                arena,
                base,
                &if ok { vec![o.bytes(4)] } else { vec![] },
            );
            if ok {
                let y: Vec<i32> = read(arena, base, o);
                assert_eq!(
                    y[0],
                    requant::multiply_by_quantized_multiplier(x, m, r.unwrap())
                );
            }
        }
        Call::Requantize {
            acc,
            bias,
            ms,
            out,
            zp,
            act,
            rounding,
        } => {
            let acc_p = place(base, acc, 4, 4);
            let bias_p = bias.map(|b| place(base, b, 4, 4));
            let ms_p = place(base, ms, 8, 4);
            // `out` has acc's length (the ABI's one `n`).
            let mut out_p = place(base, out, 1, 1);
            out_p.len = acc_p.len;
            if out_p.ptr != 0 && !acc_p.bad && acc_p.len > ARENA - (out_p.ptr - base) {
                return; // would break the caller's half of the contract
            }
            out_p.bad = (out_p.ptr == 0 && out_p.len > 0) || acc_p.bad;
            let (bias_ptr, n_bias) = bias_p.map_or((0, 0), |b| (b.ptr, b.len));
            // SAFETY: every buffer is NULL, huge (rejected) or inside the arena.
            let s = unsafe {
                qkit_requantize_i8(
                    acc_p.ptr as *const i32,
                    acc_p.len,
                    bias_ptr as *const i32,
                    n_bias,
                    ms_p.ptr as *const qkit_quantized_multiplier,
                    ms_p.len,
                    zp,
                    act.0,
                    act.1,
                    rounding,
                    out_p.ptr as *mut i8,
                )
            };
            let ok = s == QKIT_OK;
            let any_bad = acc_p.bad || ms_p.bad || out_p.bad || bias_p.is_some_and(|b| b.bad);
            let o = out_p.bytes(1);
            let overlap = overlaps(o, acc_p.bytes(4))
                || overlaps(o, ms_p.bytes(8))
                || bias_p.is_some_and(|b| overlaps(o, b.bytes(4)));
            if ok {
                assert!(!any_bad && !overlap, "OK with a bad or overlapping buffer");
            }
            check_untouched(&before, arena, base, &if ok { vec![o] } else { vec![] });
            if ok {
                // The safe API on copies gives the same bytes.
                let accs: Vec<i32> = read(&before, base, acc_p);
                let ms: Vec<qkit_quantized_multiplier> = read(&before, base, ms_p);
                let bias: Option<Vec<i32>> = bias_p
                    .filter(|b| b.ptr != 0)
                    .map(|b| read(&before, base, b));
                let multipliers = if ms.len() == 1 {
                    Multipliers::PerTensor(ms[0])
                } else {
                    Multipliers::PerChannel(&ms)
                };
                let stage = OutputStage {
                    scaling: if rounding == 0 {
                        Scaling::Double(multipliers)
                    } else {
                        Scaling::Single(multipliers)
                    },
                    zero_point: zp,
                    act_min: act.0,
                    act_max: act.1,
                };
                let mut want = vec![0i8; accs.len()];
                kernel::requantize_scalar(&accs, bias.as_deref(), &stage, &mut want).unwrap();
                let got: Vec<i8> = read(arena, base, out_p);
                assert_eq!(got, want);
            }
        }
        Call::Dot { a, b, out } => {
            let a_p = place(base, a, 1, 1);
            let mut b_p = place(base, b, 1, 1);
            b_p.len = a_p.len;
            if !a_p.bad && b_p.ptr != 0 && a_p.len > ARENA - (b_p.ptr - base) {
                return;
            }
            b_p.bad = (b_p.ptr == 0 && b_p.len > 0) || a_p.bad;
            let Some(o) = result_slot(base, out, 4, 4) else {
                return;
            };
            // SAFETY: NULL, huge (rejected) or inside the arena.
            let s = unsafe {
                qkit_dot_i8(
                    a_p.ptr as *const i8,
                    b_p.ptr as *const i8,
                    a_p.len,
                    o.ptr as *mut i32,
                )
            };
            let ok = s == QKIT_OK;
            let overlap = overlaps(o.bytes(4), a_p.bytes(1)) || overlaps(o.bytes(4), b_p.bytes(1));
            if ok {
                assert!(!a_p.bad && !b_p.bad && !o.bad && o.len == 1 && !overlap);
            }
            check_untouched(
                &before,
                arena,
                base,
                &if ok { vec![o.bytes(4)] } else { vec![] },
            );
            if ok {
                let (x, y): (Vec<i8>, Vec<i8>) =
                    (read(&before, base, a_p), read(&before, base, b_p));
                let want = x
                    .iter()
                    .zip(&y)
                    .fold(0i32, |s, (&u, &v)| s.wrapping_add(u as i32 * v as i32));
                let got: Vec<i32> = read(arena, base, o);
                assert_eq!(got[0], want);
            }
        }
        Call::FullyConnected {
            x,
            w,
            bias,
            scales,
            per_channel,
            out,
            dims,
            huge_batch,
            s_in,
            s_out,
            zps,
            act,
            rounding,
        } => {
            let (batch, in_dim, out_dim) = (
                dims.0 as usize % 4,
                dims.1 as usize % 40,
                dims.2 as usize % 40,
            );
            // Huge: any non-empty layer needs more than PTRDIFF_MAX bytes.
            let batch = if huge_batch {
                isize::MAX as usize + 1 + batch
            } else {
                batch
            };
            let n_scales = if per_channel { out_dim } else { 1 };
            let spec = |off: u16, len: usize| BufSpec {
                offset: off,
                len: Len::Elems(len.min(u16::MAX as usize) as u16),
            };
            let x_p = place(base, spec(x, batch.saturating_mul(in_dim)), 1, 1);
            let w_p = place(base, spec(w, out_dim * in_dim), 1, 1);
            let b_p = bias.map(|b| place(base, spec(b, out_dim), 4, 4));
            let s_p = place(base, spec(scales, n_scales), 4, 4);
            let y_p = place(base, spec(out, batch.saturating_mul(out_dim)), 1, 1);
            // Keep the caller's promise: every buffer the call may read or
            // write fits (a huge batch must be rejected before any access).
            let fits = |p: Placed, want: usize| p.len == want;
            if !huge_batch
                && !(fits(x_p, batch * in_dim)
                    && fits(w_p, out_dim * in_dim)
                    && b_p.is_none_or(|b| fits(b, out_dim))
                    && fits(s_p, n_scales)
                    && fits(y_p, batch * out_dim))
            {
                return;
            }
            // SAFETY: every buffer is inside the arena with its full length,
            // or the batch is huge and the call must fail before any access.
            let s = unsafe {
                qkit_fully_connected_i8(
                    x_p.ptr as *const i8,
                    batch,
                    in_dim,
                    w_p.ptr as *const i8,
                    out_dim,
                    b_p.map_or(core::ptr::null(), |b| b.ptr as *const i32),
                    s_in,
                    zps.0,
                    s_p.ptr as *const f32,
                    n_scales,
                    s_out,
                    zps.1,
                    act,
                    rounding,
                    y_p.ptr as *mut i8,
                )
            };
            let ok = s == QKIT_OK;
            if huge_batch && (in_dim > 0 || out_dim > 0) {
                assert!(!ok, "a huge batch passed");
            }
            let y = y_p.bytes(1);
            let overlap = overlaps(y, x_p.bytes(1))
                || overlaps(y, w_p.bytes(1))
                || overlaps(y, s_p.bytes(4))
                || b_p.is_some_and(|b| overlaps(y, b.bytes(4)));
            if ok {
                assert!(
                    !overlap
                        && !x_p.bad
                        && !w_p.bad
                        && !s_p.bad
                        && !y_p.bad
                        && !b_p.is_some_and(|b| b.bad)
                );
            }
            check_untouched(&before, arena, base, &if ok { vec![y] } else { vec![] });
            if ok && !huge_batch && out_dim > 0 {
                let (xs, ws): (Vec<i8>, Vec<i8>) =
                    (read(&before, base, x_p), read(&before, base, w_p));
                let ss: Vec<f32> = read(&before, base, s_p);
                let bs: Option<Vec<i32>> = b_p.map(|b| read(&before, base, b));
                let activation = [
                    Activation::None,
                    Activation::Relu,
                    Activation::Relu6,
                    Activation::ReluN1To1,
                ][act as usize];
                let requant = [
                    RequantMode::Double,
                    RequantMode::Single,
                    RequantMode::Float32,
                ][rounding as usize];
                // The C call succeeded, so every parameter is valid.
                let q = Quantization {
                    input: Quantizer::new(s_in, zps.0).unwrap(),
                    filter: FilterQuantizer::symmetric(&ss).unwrap(),
                    output: Quantizer::new(s_out, zps.1).unwrap(),
                    activation,
                };
                let mut ch = vec![Channel::default(); out_dim];
                let fc =
                    FullyConnected::new(&ws, in_dim, bs.as_deref(), &q, requant, &mut ch).unwrap();
                let mut want = vec![0i8; batch * out_dim];
                fc.run(&xs, batch, &mut want).unwrap();
                let got: Vec<i8> = read(arena, base, y_p);
                assert_eq!(got, want);
            }
        }
    }
});
