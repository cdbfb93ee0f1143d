//! Every SIMD path equals the generic one (the specification) and an i64
//! reference: every length 0..=300, every start offset mod 64 (the SIMD
//! paths align their loads to the weights, so the offset changes which
//! bytes take the head, body and tail code), random data and the extremes,
//! on every instruction set this CPU has.
//!
//! Under Miri (`.ci/miri.sh` runs this file three times: with no extra
//! target features, with `+avx2` and with the AVX-512 features, so each
//! pass detects one more instruction set) the tests are Miri-sized. Miri
//! looks for undefined behaviour: the only `unsafe` are the intrinsics, whose
//! loads read fixed-size blocks (`&[i8; 64]`, ...) cut by safe slicing, so
//! what matters is that every path runs (aligned head, whole blocks in fours
//! and singly, padded tail; every tile height and width), not how often or
//! on which values (those are checked natively). The dots take every length
//! 0..=40, the edges 63..=65 and 127..=129 of the 64- and 128-byte blocks and
//! 520 (long enough for the AVX-512 aligned head), at misaligned starts; the
//! tiled kernels take a dozen lengths around the blocks with the row and
//! batch counts that reach each of their tiles (see `counts`). One data
//! pattern per length, and only
//! the instruction set the pass detects (the lower ones have their own
//! pass).

use qkit::kernel::{Isa, NarrowI8, PreparedI4};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn i8(&mut self) -> i8 {
        (self.next() >> 56) as i8
    }
    fn u8(&mut self) -> u8 {
        (self.next() >> 56) as u8
    }
}

/// Vector lengths: all of 0..=300; under Miri every one up to 40 (every
/// tail of the 16- and 32-byte blocks, and a 32-byte block plus each tail),
/// the edges of the 64- and 128-byte blocks, and one with an aligned head.
fn lengths() -> Vec<usize> {
    if cfg!(miri) {
        (0..=40).chain([63, 64, 65, 127, 128, 129, 520]).collect()
    } else {
        (0..=300).collect()
    }
}

/// Column counts of the tiled kernels (GEMV, GEMM, int4, row sums): all of
/// 0..=300; under Miri around each block (even ones too, for packed int4,
/// whose odd widths take the portable path).
fn widths() -> Vec<usize> {
    if cfg!(miri) {
        vec![0, 1, 2, 15, 16, 17, 34, 64, 66, 129, 130]
    } else {
        (0..=300).collect()
    }
}

/// Start offsets (mod 64) of the second operand (the weights).
fn offsets() -> Vec<usize> {
    if cfg!(miri) {
        vec![0, 63]
    } else {
        (0..64).collect()
    }
}

/// Row counts around the tile heights (GEMV tiles of 8 or 4 rows, GEMM
/// tiles of 4, then single rows) and batch counts around the tile widths
/// (4, 2 or 1 activation rows): 0..=9, or under Miri the `miri` ones the
/// kernel needs to reach each of its tiles (9 = a tile of 8 + 1 = two of
/// 4 + 1, 5 = a tile of 4 + 1 = two of 2 + 1).
fn counts(miri: &[usize]) -> Vec<usize> {
    if cfg!(miri) {
        miri.to_vec()
    } else {
        (0..=9).collect()
    }
}

/// The instruction sets to test: every one this CPU has; under Miri only
/// the one the pass detects.
fn isas() -> Vec<Isa> {
    if cfg!(miri) {
        vec![Isa::detect()]
    } else {
        Isa::ALL.into_iter().filter(|i| i.is_available()).collect()
    }
}

/// The data patterns to test at length `n`: all, or one (rotating with
/// `n`) under Miri.
fn kinds(n: usize, count: usize) -> Vec<usize> {
    if cfg!(miri) {
        vec![n % count]
    } else {
        (0..count).collect()
    }
}

/// Data patterns: random, all -128, all 127, alternating extremes, narrow random.
fn pattern(kind: usize, n: usize, rng: &mut Rng) -> Vec<i8> {
    (0..n)
        .map(|k| match kind {
            0 => rng.i8(),
            1 => -128,
            2 => 127,
            3 => {
                if k % 2 == 0 {
                    -128
                } else {
                    127
                }
            }
            _ => rng.i8().max(-127),
        })
        .collect()
}

const PATTERNS: usize = 5;

/// Packed int4 patterns: random, all -8, all 7, mixed extremes.
fn packed_pattern(kind: usize, n: usize, rng: &mut Rng) -> Vec<u8> {
    (0..n)
        .map(|i| match (kind % 4, i % 3) {
            (1, _) => 0x88,
            (2, _) => 0x77,
            (3, 0) => 0x78,
            _ => rng.u8(),
        })
        .collect()
}

/// `v` copied so that it starts `offset` bytes past a 64-byte boundary;
/// returns the buffer and the start index.
fn placed<T: Copy + Default>(v: &[T], offset: usize) -> (Vec<T>, usize) {
    let mut buf = vec![T::default(); v.len() + 128];
    let start = (64 + offset - buf.as_ptr() as usize % 64) % 64;
    buf[start..start + v.len()].copy_from_slice(v);
    (buf, start)
}

fn narrow(v: &[i8]) -> Vec<i8> {
    v.iter().map(|&x| x.max(-127)).collect()
}

fn reference(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i64::from(x) * i64::from(y))
        .sum::<i64>() as i32
}

/// The reference for int4: unpack to i8.
fn unpack_i4(packed: &[u8], n: usize) -> Vec<i8> {
    (0..n)
        .map(|i| {
            let b = packed[i / 2];
            if i % 2 == 0 {
                ((b << 4) as i8) >> 4
            } else {
                (b as i8) >> 4
            }
        })
        .collect()
}

/// `[rows][cols]` matrix times vector, reference.
fn reference_gemv(w: &[i8], x: &[i8], rows: usize) -> Vec<i32> {
    let cols = x.len();
    (0..rows)
        .map(|r| reference(&w[r * cols..(r + 1) * cols], x))
        .collect()
}

#[test]
fn x86_64_has_simd_paths() {
    if cfg!(target_arch = "x86_64") {
        assert!(Isa::Sse2.is_available());
        assert_ne!(Isa::detect(), Isa::Generic);
    }
}

/// qkit detects AVX2 and AVX-512 VNNI itself (`cpuid` + `xgetbv`, with or
/// without the `std` feature); it must agree with std's detection (the test
/// binary always links std). Under Miri both report the compiled-in
/// features.
#[cfg(target_arch = "x86_64")]
#[test]
fn detection_agrees_with_std() {
    let avx2 = std::is_x86_feature_detected!("avx2");
    let vnni = avx2
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vnni");
    assert_eq!(Isa::Avx2.is_available(), avx2);
    assert_eq!(Isa::Avx512Vnni.is_available(), vnni);
    let best = match (vnni, avx2) {
        (true, _) => Isa::Avx512Vnni,
        (false, true) => Isa::Avx2,
        _ => Isa::Sse2,
    };
    assert_eq!(Isa::detect(), best);
}

/// AArch64: NEON always; SDOT exactly when the build enables `dotprod` or
/// (qkit with `std`) the CPU has it: `-cpu max` and `-cpu cortex-a53` under
/// qemu-aarch64 take both branches.
#[cfg(target_arch = "aarch64")]
#[test]
fn aarch64_detection_agrees_with_std() {
    assert!(Isa::Neon.is_available());
    let dotprod = cfg!(target_feature = "dotprod")
        || (cfg!(feature = "std") && std::arch::is_aarch64_feature_detected!("dotprod"));
    assert_eq!(Isa::NeonDotprod.is_available(), dotprod);
    let best = if dotprod { Isa::NeonDotprod } else { Isa::Neon };
    assert_eq!(Isa::detect(), best);
}

/// 32-bit Arm: the DSP path wherever the build enables the DSP extension.
#[cfg(target_arch = "arm")]
#[test]
fn arm_dsp_follows_the_build() {
    assert_eq!(Isa::Dsp.is_available(), cfg!(target_feature = "dsp"));
}

#[test]
fn dot_i8_every_path_equals_reference() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for n in lengths() {
        for kind in kinds(n, PATTERNS) {
            let a = pattern(kind, n, &mut rng);
            let b = pattern((kind + 1) % PATTERNS, n, &mut rng);
            let want = reference(&a, &b);
            let bn = narrow(&b);
            let want_n = reference(&a, &bn);
            // Every offset for random data, a spread for the extremes.
            let offs = if kind == 0 || cfg!(miri) {
                offsets()
            } else {
                vec![0, 16, 63]
            };
            for off in offs {
                let (ab, ai) = placed(&a, (off * 7 + 3) % 64);
                let (bb, bi) = placed(&b, off);
                let (nb, ni) = placed(&bn, off);
                let (a, b) = (&ab[ai..ai + n], &bb[bi..bi + n]);
                let wn = NarrowI8::new(&nb[ni..ni + n]).unwrap();
                for isa in isas() {
                    let ctx = format!("{isa:?} n={n} kind={kind} off={off}");
                    assert_eq!(isa.dot_i8(a, b).unwrap(), want, "{ctx}");
                    assert_eq!(isa.dot_i8_narrow(wn, a).unwrap(), want_n, "narrow {ctx}");
                }
            }
        }
    }
}

#[test]
fn dot_i4_i8_every_path_equals_reference() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let offs: &[usize] = if cfg!(miri) {
        &[0, 13]
    } else {
        &[0, 1, 13, 32]
    };
    for n in lengths() {
        for kind in kinds(n, 4) {
            let x = pattern(kind, n, &mut rng);
            let packed = packed_pattern(kind, n.div_ceil(2), &mut rng);
            let want = reference(&unpack_i4(&packed, n), &x);
            for &off in offs {
                let (pb, pi) = placed(&packed, off);
                let p = &pb[pi..pi + packed.len()];
                for isa in isas() {
                    assert_eq!(
                        isa.dot_i4_i8(p, &x).unwrap(),
                        want,
                        "{isa:?} n={n} kind={kind} off={off}"
                    );
                }
            }
        }
    }
}

/// The corrections of the biased kernels (`-128·Σx`, `-8·Σx`) are exact mod
/// 2^32: sums far past `i32::MAX` wrap exactly as the generic loop does.
#[test]
#[cfg_attr(miri, ignore = "140000-element vectors")]
fn every_path_wraps_like_generic() {
    // 140000 · 16384 > 2^31: the true sum wraps.
    for (n, x, w) in [
        (140_000usize, -128i8, -128i8),
        (140_001, -128, 127),
        (140_063, 127, 127),
    ] {
        let a = vec![x; n];
        let b = vec![w; n];
        let want = (n as i64 * x as i64 * w as i64) as i32;
        let w2 = vec![w; 2 * n];
        for isa in isas() {
            assert_eq!(isa.dot_i8(&a, &b).unwrap(), want, "{isa:?} n={n}");
            let mut got = [0i32; 2];
            isa.gemv_i8(&w2, &a, &mut got).unwrap();
            assert_eq!(got, [want; 2], "{isa:?} gemv n={n}");
            let mut sums = [0i32; 2];
            isa.row_sums_i8(&w2, n, &mut sums).unwrap();
            let s = (n as i64 * w as i64) as i32;
            assert_eq!(sums, [s; 2], "{isa:?} row sums n={n}");
        }
    }
}

/// GEMV, full and narrow weights: every column count, row counts around
/// the four-row tiles, the weights at a different offset mod 64 each time.
#[test]
fn gemv_every_path_equals_reference() {
    let mut rng = Rng(42);
    let offs = offsets();
    for rows in counts(&[0, 1, 9]) {
        for (i, cols) in widths().into_iter().enumerate() {
            let kind = (cols + rows) % PATTERNS;
            let w = pattern(kind, rows * cols, &mut rng);
            let x = pattern((kind + 3) % PATTERNS, cols, &mut rng);
            let wn = narrow(&w);
            let (want, want_n) = (reference_gemv(&w, &x, rows), reference_gemv(&wn, &x, rows));
            let off = offs[i % offs.len()];
            let (wb, wi) = placed(&w, off);
            let (nb, ni) = placed(&wn, off);
            let w = &wb[wi..wi + w.len()];
            let wn = NarrowI8::new(&nb[ni..ni + wn.len()]).unwrap();
            for isa in isas() {
                let ctx = format!("{isa:?} rows={rows} cols={cols} kind={kind} off={off}");
                let mut got = vec![-1i32; rows];
                isa.gemv_i8(w, &x, &mut got).unwrap();
                assert_eq!(got, want, "{ctx}");
                isa.gemv_i8_narrow(wn, &x, &mut got).unwrap();
                assert_eq!(got, want_n, "narrow {ctx}");
            }
        }
    }
}

/// The aligned head the SIMD paths peel depends on where the first row of
/// each tile starts: whole-line and odd widths at every offset.
#[test]
fn gemv_every_weight_offset() {
    let mut rng = Rng(0xA11C);
    // Under Miri: a whole line, and a row long enough for the aligned head.
    let widths: &[usize] = if cfg!(miri) {
        &[64, 520]
    } else {
        &[64, 65, 100, 128, 191, 256, 520]
    };
    for &cols in widths {
        let rows = 6;
        let w = pattern(0, rows * cols, &mut rng);
        let x = pattern(0, cols, &mut rng);
        let want = reference_gemv(&w, &x, rows);
        for off in offsets() {
            for x_off in [0, 16] {
                let (wb, wi) = placed(&w, off);
                let (xb, xi) = placed(&x, x_off);
                let (w, x) = (&wb[wi..wi + w.len()], &xb[xi..xi + cols]);
                for isa in isas() {
                    let mut got = vec![0i32; rows];
                    isa.gemv_i8(w, x, &mut got).unwrap();
                    assert_eq!(got, want, "{isa:?} cols={cols} off={off} x_off={x_off}");
                }
            }
        }
    }
}

/// GEMM (the tiles of several weight rows × several activation rows):
/// every batch and row count around the tile sizes.
#[test]
fn gemm_every_path_equals_reference() {
    let mut rng = Rng(99);
    let widths: &[usize] = if cfg!(miri) {
        &[0, 17, 129]
    } else {
        &[0, 1, 17, 31, 64, 100, 129, 191, 300]
    };
    // Under Miri batches of 5 reach every tile width (4 + 1, 2 + 2 + 1);
    // a batch of 1 is a GEMV, tested above.
    for batch in counts(&[0, 5]) {
        for rows in counts(&[1, 5]) {
            for &cols in widths {
                let w = pattern((batch + cols) % PATTERNS, rows * cols, &mut rng);
                let x = pattern(0, batch * cols, &mut rng);
                let wn = narrow(&w);
                let batched = |w: &[i8]| -> Vec<i32> {
                    (0..batch)
                        .flat_map(|b| reference_gemv(w, &x[b * cols..(b + 1) * cols], rows))
                        .collect()
                };
                let (want, want_n) = (batched(&w), batched(&wn));
                let (wb, wi) = placed(&w, (rows * 5 + cols) % 64);
                let w = &wb[wi..wi + w.len()];
                let wn = NarrowI8::new(&wn).unwrap();
                for isa in isas() {
                    let ctx = format!("{isa:?} batch={batch} rows={rows} cols={cols}");
                    let mut got = vec![-1i32; batch * rows];
                    isa.gemm_i8(w, &x, batch, &mut got).unwrap();
                    assert_eq!(got, want, "{ctx}");
                    isa.gemm_i8_narrow(wn, &x, batch, &mut got).unwrap();
                    assert_eq!(got, want_n, "narrow {ctx}");
                }
            }
        }
    }
}

/// int4 GEMV, packed and prepared: every even and odd column count, whole
/// blocks plus tails, extreme nibbles (-8, 7) and extreme activations.
#[test]
fn gemv_i4_every_path_equals_reference() {
    let mut rng = Rng(7);
    let extra: &[usize] = if cfg!(miri) { &[] } else { &[384, 512, 640] };
    for rows in counts(&[1, 5]) {
        for cols in widths().into_iter().chain(extra.iter().copied()) {
            let n = rows * cols;
            let kind = (cols + rows) % 4;
            let packed = packed_pattern(kind, n.div_ceil(2), &mut rng);
            let x = pattern(kind, cols, &mut rng);
            let want = reference_gemv(&unpack_i4(&packed, n), &x, rows);
            let mut buf = vec![0u8; PreparedI4::buffer_len(rows, cols).unwrap()];
            let prepared = PreparedI4::new(&packed, rows, cols, &mut buf).unwrap();
            let (pb, pi) = placed(&packed, cols % 64);
            let packed = &pb[pi..pi + packed.len()];
            for isa in isas() {
                let ctx = format!("{isa:?} rows={rows} cols={cols} kind={kind}");
                let mut got = vec![-1i32; rows];
                isa.gemv_i4_i8(packed, &x, &mut got).unwrap();
                assert_eq!(got, want, "packed {ctx}");
                isa.gemv_i4_prepared(&prepared, &x, &mut got).unwrap();
                assert_eq!(got, want, "prepared {ctx}");
            }
        }
    }
}

/// Row sums (int8, packed int4) and `sum_i8` on every path.
#[test]
fn row_sums_every_path_equal_reference() {
    let mut rng = Rng(0x5EED);
    for rows in counts(&[1, 2]).into_iter().filter(|&r| r <= 5) {
        for cols in widths() {
            let kind = (cols + rows) % PATTERNS;
            let w = pattern(kind, rows * cols, &mut rng);
            let packed = packed_pattern(kind, (rows * cols).div_ceil(2), &mut rng);
            let w4 = unpack_i4(&packed, rows * cols);
            let ones = vec![1i8; cols];
            let want = reference_gemv(&w, &ones, rows);
            let want4 = reference_gemv(&w4, &ones, rows);
            let (wb, wi) = placed(&w, cols % 64);
            let w = &wb[wi..wi + w.len()];
            for isa in isas() {
                let ctx = format!("{isa:?} rows={rows} cols={cols} kind={kind}");
                let mut got = vec![-1i32; rows];
                isa.row_sums_i8(w, cols, &mut got).unwrap();
                assert_eq!(got, want, "int8 {ctx}");
                isa.row_sums_i4(&packed, cols, &mut got).unwrap();
                assert_eq!(got, want4, "int4 {ctx}");
                assert_eq!(
                    isa.sum_i8(&w[..cols.min(w.len())]).unwrap(),
                    want.first().copied().unwrap_or(0),
                    "sum {ctx}"
                );
            }
        }
    }
}

/// int16 activation patterns: random, all -32768, all 32767, alternating
/// extremes, small random.
fn pattern16(kind: usize, n: usize, rng: &mut Rng) -> Vec<i16> {
    (0..n)
        .map(|k| match kind {
            0 => (rng.next() >> 48) as i16,
            1 => i16::MIN,
            2 => i16::MAX,
            3 => {
                if k % 2 == 0 {
                    i16::MIN
                } else {
                    i16::MAX
                }
            }
            _ => (rng.next() >> 60) as i16 - 8,
        })
        .collect()
}

/// The 16x8 reference: every product in i64.
fn reference16(x: &[i16], w: &[i8]) -> i64 {
    x.iter()
        .zip(w)
        .map(|(&a, &b)| i64::from(a) * i64::from(b))
        .sum()
}

/// 16x8 dot: every length, the int16 and int8 extremes against each other
/// (pattern 1 against pattern 1 is `-32768 · -128` throughout), the
/// weights at several offsets mod 64.
#[test]
fn dot_i16_i8_every_path_equals_reference() {
    let mut rng = Rng(0x16_08);
    let offs: &[usize] = if cfg!(miri) {
        &[0, 63]
    } else {
        &[0, 1, 31, 63]
    };
    for n in lengths() {
        for kind in kinds(n, PATTERNS) {
            let x = pattern16(kind, n, &mut rng);
            let w = pattern(kind, n, &mut rng);
            let want = reference16(&x, &w);
            for &off in offs {
                let (wb, wi) = placed(&w, off);
                let (xb, xi) = placed(&x, (off * 5 + 2) % 64);
                let (w, x) = (&wb[wi..wi + n], &xb[xi..xi + n]);
                for isa in isas() {
                    assert_eq!(
                        isa.dot_i16_i8(w, x).unwrap(),
                        want,
                        "{isa:?} n={n} kind={kind} off={off}"
                    );
                }
            }
        }
    }
}

/// 16x8 GEMV: every column count, row counts 0..=17 (around tiles of 2, 3,
/// 4 and 8 rows and their remainders), every data pattern.
#[test]
fn gemv_i16_i8_every_path_equals_reference() {
    let mut rng = Rng(0x1608_1608);
    let offs = offsets();
    let rows_list: Vec<usize> = if cfg!(miri) {
        vec![0, 1, 5, 9]
    } else {
        (0..=17).collect()
    };
    for rows in rows_list {
        for (i, cols) in widths().into_iter().enumerate() {
            let kind = (cols + rows) % PATTERNS;
            let w = pattern(kind, rows * cols, &mut rng);
            let x = pattern16(kind, cols, &mut rng);
            let want: Vec<i64> = (0..rows)
                .map(|r| reference16(&x, &w[r * cols..(r + 1) * cols]))
                .collect();
            let off = offs[i % offs.len()];
            let (wb, wi) = placed(&w, off);
            let w = &wb[wi..wi + w.len()];
            for isa in isas() {
                let mut got = vec![-1i64; rows];
                isa.gemv_i16_i8(w, &x, &mut got).unwrap();
                assert_eq!(
                    got, want,
                    "{isa:?} rows={rows} cols={cols} kind={kind} off={off}"
                );
            }
        }
    }
}

/// 16x8 sums far past `i32`: `-32768 · -128 = 2^22` per column, so a row
/// of 140 000 sums to about 2^39. A path that keeps i32 partials must widen
/// them before 512 such products (`512 · 2^22 = 2^31`); every path returns
/// the exact i64.
#[test]
#[cfg_attr(miri, ignore = "140000-element vectors")]
fn sixteen_by_eight_sums_past_i32_are_exact() {
    for (n, x, w) in [
        (140_000usize, i16::MIN, -128i8),
        (140_001, i16::MAX, -128),
        (140_063, i16::MIN, 127),
        (511, i16::MIN, -128),
        (512, i16::MIN, -128),
        (4097, i16::MIN, -128),
    ] {
        let a = vec![x; n];
        let want = n as i64 * i64::from(x) * i64::from(w);
        for rows in [1usize, 3, 5, 9] {
            let wm = vec![w; rows * n];
            for isa in isas() {
                assert_eq!(isa.dot_i16_i8(&wm[..n], &a).unwrap(), want, "{isa:?} n={n}");
                let mut got = vec![0i64; rows];
                isa.gemv_i16_i8(&wm, &a, &mut got).unwrap();
                assert_eq!(got, vec![want; rows], "{isa:?} gemv {rows}x{n}");
            }
        }
    }
}

/// Shapes that do not fit are errors on every path, never panics.
#[test]
fn mismatched_shapes_are_errors() {
    for isa in isas() {
        assert!(isa.dot_i8(&[1, 2], &[1]).is_err());
        assert!(isa.dot_i4_i8(&[0], &[1, 2, 3]).is_err());
        assert!(isa.gemv_i8(&[1, 2, 3], &[1, 2], &mut [0; 2]).is_err());
        assert!(isa.gemm_i8(&[1, 2], &[1, 2, 3], 2, &mut [0; 2]).is_err());
        assert!(isa.row_sums_i8(&[1, 2, 3], 2, &mut [0; 2]).is_err());
        assert!(isa.row_sums_i4(&[0; 2], 3, &mut [0; 2]).is_err());
        assert!(isa.dot_i16_i8(&[1, 2], &[1]).is_err());
        assert!(isa.gemv_i16_i8(&[1, 2, 3], &[1, 2], &mut [0; 2]).is_err());
    }
}
