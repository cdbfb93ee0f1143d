//! Test firmware: run under QEMU (Cortex-M4 `mps2-an386`, Cortex-M7
//! `mps2-an500`, Cortex-M55 `mps3-an547`) with semihosting; the exit status
//! is the result and the last line reads `N passed, N failed`.
//!
//! 1. Every qkit kernel path available on this core (`Isa::ALL`: `Generic`
//!    and `Dsp` on the M4/M7, and `Mve` on the M55) against a plain-loop
//!    specification, for every length 0..=300 and alignment.
//! 2. The Arm prototypes of this core (`arm_proto::best`, plus the DSP
//!    offset-folding dot) against the same specification, and the SIMD
//!    output stage against the scalar one on random and tie-heavy inputs.
//! 3. The TFLite Micro FULLY_CONNECTED golden vectors (int8, int4, 16x8;
//!    `fc_golden.bin`) through qkit's layers (which run this core's best
//!    path, `Isa::detect()`, printed first), and the int8 ones through the
//!    prototype GEMV + output stage.
//! 4. qkit's `FullyConnected` against the prototype FC on random layers up to
//!    128x512.
//! 5. qkit's output stage on this core's path (`Isa::detect()`: the Helium
//!    loop on the M55) against the portable one (`Isa::Generic`), `i8`,
//!    lengths 0..=300 x per tensor / per channel x bias / none, double and
//!    single rounding, extreme multipliers, shifts -31..=30 and
//!    accumulators `i32::MIN` / `i32::MAX`.
//! 6. qkit's `FullyConnected` on every path of this core (the fused Helium
//!    tile on the M55) against the same layer on `Isa::Generic`, columns
//!    0..=320, rows 1..=9, 13, 64, 67.
#![no_std]
#![no_main]

use arm_proto::testing::StageCase;
use arm_proto::{OutputStage, best};
use cortex_m::singleton;
use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use qemu::golden::{self, Kind, as_i8, read_le};
use qemu::{Checks, Rng};
use qkit::kernel::{self, Isa, Multipliers, NarrowI8, PreparedI4, Scaling};
use qkit::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, FullyConnected16x8, Quantization,
    RequantMode,
};
use qkit::quant::Quantizer;
use qkit::requant::QuantizedMultiplier;

/// Longest vector of the sweeps.
const MAX_LEN: usize = 300;
/// Largest matrix of the sweeps (9 rows of 300, plus alignment slack).
const SWEEP: usize = 9 * MAX_LEN + 16;
/// Longest 16x8 row of the extreme-value checks (`2^22` per column: past
/// `i32` from 512 columns on).
const LONG16: usize = 2048;
/// Largest random FC.
const BIG: usize = 128 * 512;

// ---- the specification: plain loops, int32 wrap-around ----------------------

fn spec_dot(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(0i32, |s, (&x, &y)| {
        s.wrapping_add(i32::from(x) * i32::from(y))
    })
}

fn nibble(packed: &[u8], i: usize) -> i32 {
    let b = packed[i / 2];
    i32::from(if i % 2 == 0 {
        ((b << 4) as i8) >> 4
    } else {
        (b as i8) >> 4
    })
}

fn spec_dot_i4(packed: &[u8], start: usize, x: &[i8]) -> i32 {
    x.iter().enumerate().fold(0i32, |s, (k, &v)| {
        s.wrapping_add(nibble(packed, start + k) * i32::from(v))
    })
}

fn spec_dot_i16(x: &[i16], w: &[i8]) -> i64 {
    x.iter()
        .zip(w)
        .map(|(&a, &b)| i64::from(a) * i64::from(b))
        .sum()
}

fn narrow(v: &mut [i8]) {
    for e in v {
        *e = (*e).max(-127);
    }
}

// ---- 1. qkit's kernel paths -------------------------------------------------

fn kernel_paths(
    t: &mut Checks,
    rng: &mut Rng,
    wbuf: &mut [i8],
    xbuf: &mut [i8],
    x16: &mut [i16],
    acc: &mut [i32],
) {
    let mut pbuf = [0u8; SWEEP / 2 + 8];
    let mut prep = [0u8; 2 * SWEEP];
    let mut acc64 = [0i64; 16];
    for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
        let mut n_checks = t.passed + t.failed;
        for n in 0..=MAX_LEN {
            // dot: four alignment pairs per length
            for (oa, ob) in [(0, 0), (1, 3), (2, 1), (3, 2)] {
                rng.fill_i8(&mut xbuf[..n + 4]);
                rng.fill_i8(&mut wbuf[..n + 4]);
                let (a, b) = (&xbuf[oa..oa + n], &wbuf[ob..ob + n]);
                let want = spec_dot(a, b);
                t.check(
                    isa.dot_i8(a, b) == Ok(want),
                    format_args!("{isa:?} dot_i8 n={n} align=({oa},{ob})"),
                );
                narrow(&mut wbuf[..n + 4]);
                let (a, b) = (&xbuf[oa..oa + n], &wbuf[ob..ob + n]);
                let want = spec_dot(a, b);
                let nb = NarrowI8::new(b).unwrap();
                t.check(
                    isa.dot_i8_narrow(nb, a) == Ok(want),
                    format_args!("{isa:?} dot_i8_narrow n={n} align=({oa},{ob})"),
                );
            }
            // int4 dot, 16x8 dot
            for v in &mut pbuf[..n.div_ceil(2) + 1] {
                *v = rng.next_u32() as u8;
            }
            let x = &xbuf[n % 4..n % 4 + n];
            t.check(
                isa.dot_i4_i8(&pbuf[..n.div_ceil(2)], x) == Ok(spec_dot_i4(&pbuf, 0, x)),
                format_args!("{isa:?} dot_i4_i8 n={n}"),
            );
            for v in &mut x16[..n] {
                *v = rng.next_u32() as i16;
            }
            let w = &wbuf[..n];
            t.check(
                isa.dot_i16_i8(w, &x16[..n]) == Ok(spec_dot_i16(&x16[..n], w)),
                format_args!("{isa:?} dot_i16_i8 n={n}"),
            );

            // GEMV family: rows 1..=9 and the alignment move with the length
            let (rows, off) = (1 + n % 9, n % 4);
            rng.fill_i8(&mut wbuf[..rows * n + off]);
            rng.fill_i8(&mut xbuf[..n + 4]);
            let (w, x) = (&wbuf[off..off + rows * n], &xbuf[3 - off..3 - off + n]);
            let ok = isa.gemv_i8(w, x, &mut acc[..rows]).is_ok()
                && (0..rows).all(|r| acc[r] == spec_dot(&w[r * n..(r + 1) * n], x));
            t.check(ok, format_args!("{isa:?} gemv_i8 {rows}x{n} align={off}"));
            // gemm: batch 2
            let xb = &xbuf[..2 * n.min(150)];
            let cols = xb.len() / 2;
            let w = &wbuf[off..off + rows * cols];
            let ok = isa.gemm_i8(w, xb, 2, &mut acc[..2 * rows]).is_ok()
                && (0..2).all(|b| {
                    (0..rows).all(|r| {
                        acc[b * rows + r]
                            == spec_dot(&w[r * cols..(r + 1) * cols], &xb[b * cols..(b + 1) * cols])
                    })
                });
            t.check(ok, format_args!("{isa:?} gemm_i8 batch 2 {rows}x{cols}"));
            narrow(&mut wbuf[..rows * n + off]);
            let w = &wbuf[off..off + rows * n];
            let ok = isa
                .gemv_i8_narrow(NarrowI8::new(w).unwrap(), x, &mut acc[..rows])
                .is_ok()
                && (0..rows).all(|r| acc[r] == spec_dot(&w[r * n..(r + 1) * n], x));
            t.check(ok, format_args!("{isa:?} gemv_i8_narrow {rows}x{n}"));
            let w = &wbuf[off..off + rows * cols];
            let ok = isa
                .gemm_i8_narrow(NarrowI8::new(w).unwrap(), xb, 2, &mut acc[..2 * rows])
                .is_ok()
                && (0..2).all(|b| {
                    (0..rows).all(|r| {
                        acc[b * rows + r]
                            == spec_dot(&w[r * cols..(r + 1) * cols], &xb[b * cols..(b + 1) * cols])
                    })
                });
            t.check(
                ok,
                format_args!("{isa:?} gemm_i8_narrow batch 2 {rows}x{cols}"),
            );
            // int4 GEMV, packed and prepared
            let nb = (rows * n).div_ceil(2);
            for v in &mut pbuf[..nb] {
                *v = rng.next_u32() as u8;
            }
            let ok = isa.gemv_i4_i8(&pbuf[..nb], x, &mut acc[..rows]).is_ok()
                && (0..rows).all(|r| acc[r] == spec_dot_i4(&pbuf, r * n, x));
            t.check(ok, format_args!("{isa:?} gemv_i4_i8 {rows}x{n}"));
            let len = PreparedI4::buffer_len(rows, n).unwrap();
            let p = PreparedI4::new(&pbuf[..nb], rows, n, &mut prep[..len]).unwrap();
            let ok = isa.gemv_i4_prepared(&p, x, &mut acc[..rows]).is_ok()
                && (0..rows).all(|r| acc[r] == spec_dot_i4(&pbuf, r * n, x));
            t.check(ok, format_args!("{isa:?} gemv_i4_prepared {rows}x{n}"));
            let ok = isa.row_sums_i4(&pbuf[..nb], n, &mut acc[..rows]).is_ok()
                && (n == 0
                    || (0..rows).all(|r| acc[r] == (0..n).map(|k| nibble(&pbuf, r * n + k)).sum()));
            t.check(ok, format_args!("{isa:?} row_sums_i4 {rows}x{n}"));
            // 16x8 GEMV, sums
            let w = &wbuf[off..off + rows * n];
            let ok = isa.gemv_i16_i8(w, &x16[..n], &mut acc64[..rows]).is_ok()
                && (0..rows).all(|r| acc64[r] == spec_dot_i16(&x16[..n], &w[r * n..(r + 1) * n]));
            t.check(ok, format_args!("{isa:?} gemv_i16_i8 {rows}x{n}"));
            let ok = kernel::row_sums_i8(w, n, &mut acc[..if n == 0 { 0 } else { rows }]).is_ok()
                && (n == 0
                    || (0..rows).all(|r| {
                        acc[r]
                            == w[r * n..(r + 1) * n]
                                .iter()
                                .map(|&v| i32::from(v))
                                .sum::<i32>()
                    }));
            t.check(ok, format_args!("row_sums_i8 {rows}x{n}"));
            t.check(
                kernel::sum_i8(x) == x.iter().map(|&v| i32::from(v)).sum::<i32>(),
                format_args!("sum_i8 n={n}"),
            );
        }
        // int4 at the ends of both ranges: every weight -8 or 7 against
        // every activation -128 or 127, lengths around the kernels' blocks.
        for (wbyte, xv) in [
            (0x88u8, -128i8),
            (0x88, 127),
            (0x77, -128),
            (0x78, 127),
            (0x87, -128),
        ] {
            for n in [1usize, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 255, 256, 300] {
                let rows = 5;
                let nb = (rows * n).div_ceil(2);
                pbuf[..nb].fill(wbyte);
                let x = &mut xbuf[..n];
                x.fill(xv);
                let x = &xbuf[..n];
                let ok = isa.gemv_i4_i8(&pbuf[..nb], x, &mut acc[..rows]).is_ok()
                    && (0..rows).all(|r| acc[r] == spec_dot_i4(&pbuf, r * n, x));
                t.check(
                    ok,
                    format_args!("{isa:?} gemv_i4_i8 extreme {wbyte:#x} {xv} {rows}x{n}"),
                );
                t.check(
                    isa.dot_i4_i8(&pbuf[..n.div_ceil(2)], x) == Ok(spec_dot_i4(&pbuf, 0, x)),
                    format_args!("{isa:?} dot_i4_i8 extreme {wbyte:#x} {xv} n={n}"),
                );
                let ok = isa.row_sums_i4(&pbuf[..nb], n, &mut acc[..rows]).is_ok()
                    && (0..rows).all(|r| acc[r] == (0..n).map(|k| nibble(&pbuf, r * n + k)).sum());
                t.check(
                    ok,
                    format_args!("{isa:?} row_sums_i4 extreme {wbyte:#x} {rows}x{n}"),
                );
            }
        }
        // 16x8 sums past i32: `-32768 · -128 = 2^22` per column, so 512
        // columns reach 2^31; every path keeps the exact i64. Then the
        // other extremes on rows long enough to wrap an i32 accumulator.
        for (xv, wv) in [(i16::MIN, -128i8), (i16::MAX, -128), (i16::MIN, 127)] {
            for n in [511usize, 512, 513, 700, 1031, LONG16] {
                let rows = (wbuf.len() / n).min(5);
                x16[..n].fill(xv);
                wbuf[..rows * n].fill(wv);
                let want = n as i64 * i64::from(xv) * i64::from(wv);
                t.check(
                    isa.dot_i16_i8(&wbuf[..n], &x16[..n]) == Ok(want),
                    format_args!("{isa:?} dot_i16_i8 extreme n={n} ({xv}, {wv})"),
                );
                let ok = isa
                    .gemv_i16_i8(&wbuf[..rows * n], &x16[..n], &mut acc64[..rows])
                    .is_ok()
                    && acc64[..rows].iter().all(|&a| a == want);
                t.check(
                    ok,
                    format_args!("{isa:?} gemv_i16_i8 extreme {rows}x{n} ({xv}, {wv})"),
                );
            }
        }
        n_checks = t.passed + t.failed - n_checks;
        hprintln!(
            "kernel paths {:?}: {} checks (lengths 0..={}, 4 alignments)",
            isa,
            n_checks,
            MAX_LEN
        );
    }
}

// ---- 2. the prototypes --------------------------------------------------------

fn prototypes(t: &mut Checks, rng: &mut Rng, wbuf: &mut [i8], xbuf: &mut [i8], acc: &mut [i32]) {
    let start = t.passed + t.failed;
    for n in 0..=MAX_LEN {
        for (oa, ob) in [(0, 0), (1, 3), (2, 1), (3, 2)] {
            rng.fill_i8(&mut xbuf[..n + 4]);
            rng.fill_i8(&mut wbuf[..n + 4]);
            let (a, b) = (&xbuf[oa..oa + n], &wbuf[ob..ob + n]);
            t.check(
                best::dot_i8(a, b) == spec_dot(a, b),
                format_args!("proto dot_i8 n={n} align=({oa},{ob})"),
            );
            #[cfg(target_feature = "dsp")]
            {
                let off = rng.range(-127, 128) as i16;
                let want = a.iter().zip(b).fold(0i32, |s, (&x, &w)| {
                    s.wrapping_add((i32::from(x) + i32::from(off)) * i32::from(w))
                });
                t.check(
                    arm_proto::dsp::dot_i8_offset(a, off, b) == want,
                    format_args!("proto dsp dot_i8_offset n={n} off={off}"),
                );
            }
        }
        for rows in [1usize, 2, 3, 4, 5, 7, 8, 9] {
            let off = (n + rows) % 4;
            rng.fill_i8(&mut wbuf[..rows * n + off]);
            rng.fill_i8(&mut xbuf[..n + 4]);
            let (w, x) = (&wbuf[off..off + rows * n], &xbuf[3 - off..3 - off + n]);
            best::gemv_i8(w, x, &mut acc[..rows]);
            let ok = (0..rows).all(|r| acc[r] == spec_dot(&w[r * n..(r + 1) * n], x));
            t.check(ok, format_args!("proto gemv_i8 {rows}x{n} align={off}"));
        }
    }
    // Output stage: random and tie-heavy cases, every shift, lengths 0..=40
    // (tail predication / scalar tails).
    for trial in 0..2000u32 {
        let c = StageCase::random(rng, trial);
        t.check(
            c.agrees(best::requantize_i8),
            format_args!("proto output stage trial {trial} n={}", c.n),
        );
    }
    hprintln!(
        "prototypes ({}): {} checks",
        qemu::CORE,
        t.passed + t.failed - start
    );
}

// ---- 5. the output stage of this core's path vs the portable one ---------------

/// An edge value one time in four, else `random`.
fn edgy(rng: &mut Rng, edges: &[i32], random: i32) -> i32 {
    let r = rng.next_u32();
    if r % 4 == 0 {
        edges[(r / 4) as usize % edges.len()]
    } else {
        random
    }
}

/// A multiplier in the documented range: `0 <= multiplier`, `-31 <= shift <= 30`.
fn random_multiplier(rng: &mut Rng) -> QuantizedMultiplier {
    let random = (rng.next_u32() >> 1) as i32;
    let multiplier = edgy(rng, &[0, 1, 1 << 30, (1 << 30) + 1, i32::MAX], random);
    let random = rng.range(-31, 30);
    let shift = edgy(rng, &[-31, -30, -1, 0, 1, 30], random);
    QuantizedMultiplier { multiplier, shift }
}

fn output_stage(t: &mut Checks, rng: &mut Rng) {
    let start = t.passed + t.failed;
    let path = Isa::detect();
    let mut acc = [0i32; MAX_LEN];
    let mut bias = [0i32; MAX_LEN];
    let mut table = [QuantizedMultiplier::ONE; MAX_LEN];
    let (mut want, mut got) = ([0i8; MAX_LEN], [0i8; MAX_LEN]);
    for n in 0..=MAX_LEN {
        // several rows of channels where `n` allows
        let channels = if n % 3 == 0 && n > 0 { n / 3 } else { n };
        for case in 0..8u32 {
            let (per_channel, with_bias, single) = (case & 1 != 0, case & 2 != 0, case & 4 != 0);
            let big = [i32::MIN, i32::MIN + 1, -1, 0, 1, i32::MAX - 1, i32::MAX];
            for a in &mut acc[..n] {
                let random = rng.next_u32() as i32;
                *a = edgy(rng, &big, random);
            }
            // ties of the final shift: small accumulators around multiples of 2^R
            if case == 0 {
                for a in &mut acc[..n] {
                    *a = rng.range(-4096, 4096);
                }
            }
            for b in &mut bias[..channels] {
                let random = rng.range(-(1 << 20), 1 << 20);
                *b = edgy(rng, &big, random);
            }
            for m in &mut table[..channels] {
                *m = random_multiplier(rng);
            }
            let m = if per_channel {
                Multipliers::PerChannel(&table[..channels])
            } else {
                Multipliers::PerTensor(random_multiplier(rng))
            };
            let scaling = if single {
                Scaling::Single(m)
            } else {
                Scaling::Double(m)
            };
            let zp = rng.range(-128, 127);
            let (lo, hi) = (rng.range(-128, 0), rng.range(0, 127));
            let stage = kernel::OutputStage::new::<i8>(scaling)
                .with_zero_point(zp)
                .with_activation_range(lo, hi);
            let b = with_bias.then_some(&bias[..channels]);
            want[..n].fill(0x55);
            got[..n].fill(0x55);
            let r0 = Isa::Generic.requantize(&acc[..n], b, &stage, &mut want[..n]);
            let r1 = path.requantize(&acc[..n], b, &stage, &mut got[..n]);
            let r2 = kernel::requantize(&acc[..n], b, &stage, &mut got[..n]);
            t.check(
                r0 == r1 && r0 == r2 && want[..n] == got[..n],
                format_args!(
                    "output stage {path:?} n={n} channels={channels} per_channel={per_channel} \
                     bias={with_bias} single={single}: {r0:?} {r1:?} {r2:?}"
                ),
            );
        }
    }
    hprintln!(
        "output stage ({:?} vs Generic): {} checks",
        path,
        t.passed + t.failed - start
    );
}

// ---- 3. golden vectors --------------------------------------------------------

fn activation(a: u8) -> Activation {
    match a {
        0 => Activation::None,
        1 => Activation::Relu,
        _ => Activation::Relu6,
    }
}

/// The prototype FC from a layer's channels: SoA output stage, GEMV + stage.
fn proto_fc(
    w: &[i8],
    channels: &[Channel],
    zp_out: i32,
    (act_min, act_max): (i32, i32),
    x: &[i8],
    out: &mut [i8],
) {
    let rows = channels.len();
    let (mut bias, mut mult, mut shift, mut acc) =
        ([0i32; 128], [0i32; 128], [0i32; 128], [0i32; 128]);
    for (i, ch) in channels.iter().enumerate() {
        bias[i] = ch.folded_bias() as i32;
        mult[i] = ch.multiplier().multiplier;
        shift[i] = ch.multiplier().shift;
    }
    let s = OutputStage {
        bias: &bias[..rows],
        multiplier: &mult[..rows],
        shift: &shift[..rows],
        output_zero_point: zp_out,
        act_min,
        act_max,
    };
    best::fully_connected_i8(w, x, &s, &mut acc[..rows], out);
}

fn golden_fc(t: &mut Checks) {
    let start = t.passed + t.failed;
    let mut n_cases = 0;
    for (i, c) in golden::cases().enumerate() {
        n_cases += 1;
        let mut scales = [0f32; 64];
        let ns = read_le(c.filter_scales, &mut scales, f32::from_le_bytes);
        let q = Quantization {
            input: Quantizer::new(c.input_scale, c.input_zero_point).unwrap(),
            filter: FilterQuantizer::symmetric(&scales[..ns]).unwrap(),
            output: Quantizer::new(c.output_scale, c.output_zero_point).unwrap(),
            activation: activation(c.activation),
        };
        let mut channels = [Channel::default(); 64];
        let channels = &mut channels[..c.out_dim];
        let (b, nin, nout) = (c.batch, c.batch * c.in_dim, c.batch * c.out_dim);
        match c.kind {
            Kind::Int8 | Kind::Int4 => {
                let mut bias = [0i32; 64];
                let nb = c.bias.map(|b| read_le(b, &mut bias, i32::from_le_bytes));
                let bias = nb.map(|n| &bias[..n]);
                let (x, want) = (as_i8(c.input), as_i8(c.output));
                let mut out = [0i8; 256];
                let fc = if c.kind == Kind::Int4 {
                    FullyConnected::new_i4(
                        c.weights,
                        c.in_dim,
                        bias,
                        &q,
                        RequantMode::Double,
                        channels,
                    )
                } else {
                    FullyConnected::new(
                        as_i8(c.weights),
                        c.in_dim,
                        bias,
                        &q,
                        RequantMode::Double,
                        channels,
                    )
                };
                let fc = fc.unwrap();
                let range = fc.activation_range();
                let ok = fc.run(x, b, &mut out[..nout]).is_ok() && out[..nout] == *want;
                t.check(
                    ok,
                    format_args!(
                        "golden FC case {i} ({:?} {}x{}): qkit {:?} want {:?}",
                        c.kind,
                        c.out_dim,
                        c.in_dim,
                        &out[..nout],
                        want
                    ),
                );
                if c.kind == Kind::Int8 {
                    // The same layer through the prototype GEMV + output stage,
                    // from the channels qkit's constructor filled.
                    let mut got = [0i8; 256];
                    let (ins, outs) = (
                        x.chunks_exact(c.in_dim.max(1)),
                        got[..nout].chunks_exact_mut(c.out_dim),
                    );
                    for (xr, yr) in ins.zip(outs) {
                        proto_fc(
                            as_i8(c.weights),
                            channels,
                            c.output_zero_point,
                            range,
                            xr,
                            yr,
                        );
                    }
                    t.check(
                        got[..nout] == *want,
                        format_args!(
                            "golden FC case {i}: prototype {:?} want {:?}",
                            &got[..nout],
                            want
                        ),
                    );
                }
            }
            Kind::Int16 => {
                let mut bias = [0i64; 64];
                let nb = c.bias.map(|b| read_le(b, &mut bias, i64::from_le_bytes));
                let bias = nb.map(|n| &bias[..n]);
                let (mut x, mut want, mut out) = ([0i16; 256], [0i16; 256], [0i16; 256]);
                read_le(c.input, &mut x, i16::from_le_bytes);
                read_le(c.output, &mut want, i16::from_le_bytes);
                let q16 = Quantization {
                    input: Quantizer::<i16>::new(c.input_scale, c.input_zero_point).unwrap(),
                    filter: q.filter,
                    output: Quantizer::<i16>::new(c.output_scale, c.output_zero_point).unwrap(),
                    activation: q.activation,
                };
                let fc = FullyConnected16x8::new(as_i8(c.weights), c.in_dim, bias, &q16, channels)
                    .unwrap();
                let ok =
                    fc.run(&x[..nin], b, &mut out[..nout]).is_ok() && out[..nout] == want[..nout];
                t.check(
                    ok,
                    format_args!(
                        "golden FC16x8 case {i}: qkit {:?} want {:?}",
                        &out[..nout],
                        &want[..nout]
                    ),
                );
            }
        }
    }
    hprintln!(
        "golden FULLY_CONNECTED (TFLite Micro): {} cases, {} checks",
        n_cases,
        t.passed + t.failed - start
    );
}

// ---- 4. random layers: qkit FC vs the prototype FC ---------------------------------

fn random_fc(t: &mut Checks, rng: &mut Rng, w: &mut [i8], x: &mut [i8]) {
    let start = t.passed + t.failed;
    let mut scales = [0f32; 128];
    for (trial, &(rows, cols)) in [
        (64usize, 256usize),
        (128, 512),
        (13, 77),
        (5, 3),
        (128, 33),
        (7, 300),
        (1, 1024),
    ]
    .iter()
    .enumerate()
    {
        for rep in 0..3 {
            rng.fill_i8(&mut w[..rows * cols]);
            rng.fill_i8(&mut x[..cols]);
            let per_channel = rep == 1;
            let s_in = 0.01 + (rng.next_u32() % 100) as f32 * 0.001;
            for s in &mut scales[..rows] {
                *s = 0.0005 + (rng.next_u32() % 100) as f32 * 0.0001;
            }
            // output scale near the accumulator spread (~74^2 sqrt(cols))
            let s_out = s_in * scales[0] * 90.0 * (cols as f32).max(4.0)
                / (8.0 + (rng.next_u32() % 64) as f32);
            let mut bias = [0i32; 128];
            for b in &mut bias[..rows] {
                *b = (rng.next_u32() as i32) >> 14;
            }
            let q = Quantization {
                input: Quantizer::new(s_in, rng.range(-128, 127)).unwrap(),
                filter: FilterQuantizer::symmetric(if per_channel {
                    &scales[..rows]
                } else {
                    &scales[..1]
                })
                .unwrap(),
                output: Quantizer::new(s_out, rng.range(-128, 127)).unwrap(),
                activation: activation(rep as u8),
            };
            let mut chans = [Channel::default(); 128];
            let chans = &mut chans[..rows];
            let Ok(fc) = FullyConnected::new(
                &w[..rows * cols],
                cols,
                Some(&bias[..rows]),
                &q,
                RequantMode::Double,
                chans,
            ) else {
                t.check(
                    false,
                    format_args!("random FC {rows}x{cols}: constructor failed"),
                );
                continue;
            };
            let (mut want, mut got) = ([0i8; 128], [0i8; 128]);
            let range = fc.activation_range();
            fc.run(&x[..cols], 1, &mut want[..rows]).unwrap();
            proto_fc(
                &w[..rows * cols],
                fc.channels(),
                q.output.zero_point(),
                range,
                &x[..cols],
                &mut got[..rows],
            );
            let distinct = want[..rows].iter().any(|&v| v != want[0]);
            t.check(
                got[..rows] == want[..rows],
                format_args!(
                    "random FC {trial}/{rep} {rows}x{cols}: prototype {:?} qkit {:?}",
                    &got[..rows.min(8)],
                    &want[..rows.min(8)]
                ),
            );
            t.check(
                distinct || rows < 4 || cols < 64,
                format_args!(
                    "random FC {rows}x{cols}: degenerate output (all {})",
                    want[0]
                ),
            );
        }
    }
    hprintln!(
        "random FC, qkit vs prototype: {} checks",
        t.passed + t.failed - start
    );
}

// ---- 6. the FC layer on every path vs Isa::Generic ----------------------------------

/// `FullyConnected::run` on every kernel path of this core against the same
/// layer on `Isa::Generic`: every column count 0..=300 with 1..=9 rows (and
/// 13, 64, 67), per tensor and per channel, full-range and narrow weights,
/// double and single rounding, zero points at the ends of their range and
/// multipliers from 2^-31 to near 2^30 (shifts -31..=30).
fn fc_paths(t: &mut Checks, rng: &mut Rng, w: &mut [i8], x: &mut [i8]) {
    let start = t.passed + t.failed;
    let mut scales = [0f32; 128];
    let mut bias = [0i32; 128];
    let paths = Isa::ALL
        .into_iter()
        .filter(|i| i.is_available() && *i != Isa::Generic);
    for cols in 0..=MAX_LEN + 20 {
        let rows = match cols % 13 {
            10 => 13,
            11 => 64,
            12 => 67,
            r => 1 + r % 9,
        };
        rng.fill_i8(&mut w[..rows * cols]);
        if cols % 5 == 1 {
            w[..rows * cols].fill(if cols % 2 == 0 { -128 } else { 127 });
        }
        if cols % 3 == 2 {
            narrow(&mut w[..rows * cols]);
        }
        rng.fill_i8(&mut x[..cols]);
        if cols % 7 == 3 {
            x[..cols].fill(-128);
        }
        for b in &mut bias[..rows] {
            let random = (rng.next_u32() as i32) >> (rng.next_u32() % 24);
            *b = edgy(rng, &[i32::MIN, -1, 0, i32::MAX], random);
        }
        // The multiplier s_in·s_w/s_out: a random power of two from 2^-31
        // to 2^29 times [1, 2), per channel too.
        let per_channel = cols % 2 == 1;
        let p2 = |e: i32| f32::from_bits(((127 + e) as u32) << 23);
        for s in &mut scales[..rows] {
            let e = if rng.next_u32() % 4 == 0 {
                -16
            } else {
                rng.range(-19, 10)
            };
            *s = p2(e) * (1.0 + (rng.next_u32() % 1000) as f32 / 1000.0);
        }
        let s_in = p2(rng.range(-12, 0));
        let s_out = p2(rng.range(-3, 13));
        let zp = |rng: &mut Rng| {
            let random = rng.range(-128, 127);
            edgy(rng, &[-128, 127], random)
        };
        let (zp_in, zp_out) = (zp(rng), zp(rng));
        for requant in [RequantMode::Double, RequantMode::Single] {
            let Ok(input) = Quantizer::new(s_in, zp_in) else {
                continue;
            };
            let Ok(output) = Quantizer::new(s_out, zp_out) else {
                continue;
            };
            let Ok(filter) = FilterQuantizer::symmetric(if per_channel {
                &scales[..rows]
            } else {
                &scales[..1]
            }) else {
                continue;
            };
            let q = Quantization {
                input,
                filter,
                output,
                activation: activation((cols % 3) as u8),
            };
            let mut chans = [Channel::default(); 128];
            let fc = FullyConnected::new(
                &w[..rows * cols],
                cols,
                Some(&bias[..rows]),
                &q,
                requant,
                &mut chans[..rows],
            );
            let Ok(fc) = fc else {
                continue; // a multiplier outside TFLite's range: not this test's subject
            };
            let mut want = [0x55i8; 128];
            let r0 = fc
                .with_isa(Isa::Generic)
                .unwrap()
                .run(&x[..cols], 1, &mut want[..rows]);
            for isa in paths.clone() {
                let mut got = [0x55i8; 128];
                let r1 = fc
                    .with_isa(isa)
                    .unwrap()
                    .run(&x[..cols], 1, &mut got[..rows]);
                t.check(
                    r0 == r1 && got[..rows] == want[..rows],
                    format_args!(
                        "FC {isa:?} vs Generic {rows}x{cols} {requant:?} per_channel={per_channel}: \
                         {:?} want {:?}",
                        &got[..rows.min(8)],
                        &want[..rows.min(8)]
                    ),
                );
            }
        }
    }
    hprintln!(
        "FC layer, every path vs Generic: {} checks",
        t.passed + t.failed - start
    );
}

#[entry]
fn main() -> ! {
    hprintln!("qemu-test on {}: qkit runs {:?}", qemu::CORE, Isa::detect());
    let mut t = Checks::default();
    // The build picks the core's path: Helium on the M55, DSP on the M4/M7.
    let want = if arm_proto::MVE {
        Isa::Mve
    } else if cfg!(target_feature = "dsp") {
        Isa::Dsp
    } else {
        Isa::Generic
    };
    t.check(
        Isa::detect() == want,
        format_args!("best path {:?}, want {want:?}", Isa::detect()),
    );
    let mut rng = Rng(0x2545_F491);
    let wbuf = singleton!(: [i8; BIG] = [0; BIG]).unwrap();
    let xbuf = singleton!(: [i8; 1024] = [0; 1024]).unwrap();
    let x16 = singleton!(: [i16; LONG16] = [0; LONG16]).unwrap();
    let mut acc = [0i32; 32];
    kernel_paths(&mut t, &mut rng, &mut wbuf[..SWEEP], xbuf, x16, &mut acc);
    prototypes(&mut t, &mut rng, &mut wbuf[..SWEEP], xbuf, &mut acc);
    golden_fc(&mut t);
    random_fc(&mut t, &mut rng, wbuf, xbuf);
    output_stage(&mut t, &mut rng);
    fc_paths(&mut t, &mut rng, wbuf, xbuf);
    t.finish("qemu-test")
}
