//! Every SIMD path equals the generic one (the specification) for all
//! lengths 0..=300, all start alignments, random data and the extremes.

use qkit::kernel::{Isa, NarrowI8};

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

fn simd_isas() -> Vec<Isa> {
    Isa::ALL
        .into_iter()
        .filter(|i| *i != Isa::Generic && i.is_available())
        .collect()
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

#[test]
fn x86_64_has_simd_paths() {
    if cfg!(target_arch = "x86_64") {
        assert!(simd_isas().contains(&Isa::Sse2));
        assert_ne!(Isa::detect(), Isa::Generic);
    }
}

/// Without the `std` feature qkit detects AVX2 itself (`cpuid` + `xgetbv`);
/// with it, through `std`. Either way it must agree with std's detection
/// (the test binary always links std).
#[cfg(target_arch = "x86_64")]
#[test]
fn avx2_detection_agrees_with_std() {
    assert_eq!(
        Isa::Avx2.is_available(),
        std::is_x86_feature_detected!("avx2")
    );
    let best = if std_has_vnni() {
        Isa::Avx512Vnni
    } else if std::is_x86_feature_detected!("avx2") {
        Isa::Avx2
    } else {
        Isa::Sse2
    };
    assert_eq!(Isa::detect(), best);
}

/// std's view of what `Isa::Avx512Vnni` needs.
#[cfg(target_arch = "x86_64")]
fn std_has_vnni() -> bool {
    std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vnni")
}

/// The same for AVX-512 VNNI: without `std`, qkit reads `cpuid` leaf 7 and
/// XCR0 (opmask and ZMM state) itself.
#[cfg(target_arch = "x86_64")]
#[test]
fn avx512vnni_detection_agrees_with_std() {
    assert_eq!(Isa::Avx512Vnni.is_available(), std_has_vnni());
}

/// `Some(Isa::Avx512Vnni)` if this CPU has it; otherwise prints why the
/// VNNI-specific tests below check nothing.
fn vnni() -> Option<Isa> {
    if Isa::Avx512Vnni.is_available() {
        Some(Isa::Avx512Vnni)
    } else {
        println!("note: this CPU lacks AVX-512 F/BW/VNNI; the VNNI path is not tested here");
        None
    }
}

/// VNNI loads 64 bytes at a time: every length 0..=300 at every start
/// offset mod 64 (both operands), all patterns, against the generic path.
#[test]
fn vnni_dot_equals_generic_all_offsets() {
    let Some(isa) = vnni() else { return };
    let mut rng = Rng(0x005E_ED0F_0AA1);
    for n in 0..=300 {
        for kind in 0..PATTERNS {
            let a_buf = pattern(kind, n + 64, &mut rng);
            let b_buf = pattern((kind + 2) % PATTERNS, n + 64, &mut rng);
            let offsets: Vec<usize> = if kind == 0 {
                (0..64).collect()
            } else {
                vec![0, 1, 31, 32, 33, 63]
            };
            for off in offsets {
                let a = &a_buf[off..off + n];
                let b = &b_buf[63 - off..63 - off + n];
                let want = Isa::Generic.dot_i8(a, b).unwrap();
                assert_eq!(
                    isa.dot_i8(a, b).unwrap(),
                    want,
                    "n={n} kind={kind} off={off}"
                );
                let bn: Vec<i8> = b.iter().map(|&v| v.max(-127)).collect();
                let bn = NarrowI8::new(&bn).unwrap();
                let want_n = Isa::Generic.dot_i8(a, bn.as_slice()).unwrap();
                assert_eq!(
                    isa.dot_i8_narrow(a, bn).unwrap(),
                    want_n,
                    "narrow n={n} off={off}"
                );
            }
        }
    }
}

/// The bias correction (`-128·Σw`, `-128·Σx`) is exact mod 2^32: sums far
/// past `i32::MAX` wrap exactly as the generic loop does.
#[test]
fn vnni_wraps_like_generic() {
    let Some(isa) = vnni() else { return };
    // 140000 · 16384 > 2^31: the true sum wraps.
    for (n, x, w) in [
        (140_000usize, -128i8, -128i8),
        (140_001, -128, 127),
        (140_063, 127, 127),
    ] {
        let a = vec![x; n];
        let b = vec![w; n];
        let want = Isa::Generic.dot_i8(&a, &b).unwrap();
        let wide = (n as i64 * x as i64 * w as i64) as i32;
        assert_eq!(want, wide);
        assert_eq!(isa.dot_i8(&a, &b).unwrap(), want, "n={n}");
        // The same through GEMV, two rows of n columns.
        let w2 = vec![w; 2 * n];
        let mut got = [0i32; 2];
        isa.gemv_i8(&w2, &a, &mut got).unwrap();
        assert_eq!(got, [want; 2], "gemv n={n}");
    }
}

/// GEMV on VNNI: every column count 0..=300, row counts around the
/// four-row blocking, all patterns, full and narrow weights.
#[test]
fn vnni_gemv_equals_generic_every_width() {
    let Some(isa) = vnni() else { return };
    let mut rng = Rng(0x00C0_FFEE);
    for rows in [1, 4, 5, 7] {
        for cols in 0..=300 {
            let kind = cols % PATTERNS;
            let w = pattern(kind, rows * cols, &mut rng);
            let x = pattern((kind + 1 + rows) % PATTERNS, cols, &mut rng);
            let mut want = vec![0i32; rows];
            Isa::Generic.gemv_i8(&w, &x, &mut want).unwrap();
            let mut got = vec![-1i32; rows];
            isa.gemv_i8(&w, &x, &mut got).unwrap();
            assert_eq!(got, want, "rows={rows} cols={cols} kind={kind}");
            let wn: Vec<i8> = w.iter().map(|&v| v.max(-127)).collect();
            let wn = NarrowI8::new(&wn).unwrap();
            Isa::Generic.gemv_i8_narrow(wn, &x, &mut want).unwrap();
            isa.gemv_i8_narrow(wn, &x, &mut got).unwrap();
            assert_eq!(got, want, "narrow rows={rows} cols={cols} kind={kind}");
        }
    }
}

/// A weight matrix past 32 MiB takes the VNNI GEMV's streaming order (one
/// row at a time): same integers as the generic path.
#[test]
fn vnni_gemv_streaming_order_equals_generic() {
    let Some(isa) = vnni() else { return };
    let (rows, cols) = (3usize, 11_184_853usize); // 33.5 MB, 61-byte tail
    let w: Vec<i8> = (0..rows * cols)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as i8)
        .collect();
    let x: Vec<i8> = (0..cols)
        .map(|i| if i % 3 == 0 { -128 } else { (i * 31) as i8 })
        .collect();
    let mut want = vec![0i32; rows];
    Isa::Generic.gemv_i8(&w, &x, &mut want).unwrap();
    let mut got = vec![-1i32; rows];
    isa.gemv_i8(&w, &x, &mut got).unwrap();
    assert_eq!(got, want);
}

/// int4 GEMV on VNNI (packed and prepared): every even and odd column count
/// 0..=300 (including whole 128-element blocks plus tails), extreme nibbles
/// (-8, 7) and extreme activations.
#[test]
fn vnni_gemv_i4_equals_generic_every_width() {
    use qkit::kernel::PreparedI4;
    let Some(isa) = vnni() else { return };
    let mut rng = Rng(0xBADD_CAFE);
    for rows in [1, 4, 6] {
        for cols in (0..=300).chain([384, 512, 640]) {
            let n = rows * cols;
            let kind = cols % PATTERNS;
            let packed: Vec<u8> = (0..n.div_ceil(2))
                .map(|i| match (kind, i % 3) {
                    (1, _) => 0x88,
                    (2, _) => 0x77,
                    (3, 0) => 0x78,
                    _ => rng.u8(),
                })
                .collect();
            let x = pattern(kind, cols, &mut rng);
            let mut want = vec![0i32; rows];
            Isa::Generic.gemv_i4_i8(&packed, &x, &mut want).unwrap();
            let mut got = vec![-1i32; rows];
            isa.gemv_i4_i8(&packed, &x, &mut got).unwrap();
            assert_eq!(got, want, "packed rows={rows} cols={cols} kind={kind}");
            let mut buf = vec![0u8; PreparedI4::buffer_len(rows, cols).unwrap()];
            let prepared = PreparedI4::new(&packed, rows, cols, &mut buf).unwrap();
            isa.gemv_i4_prepared(&prepared, &x, &mut got).unwrap();
            assert_eq!(got, want, "prepared rows={rows} cols={cols} kind={kind}");
        }
    }
}

#[test]
fn dot_i8_every_path_equals_generic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for n in 0..=300 {
        for kind in 0..PATTERNS {
            // A buffer with slack so that slices can start at any offset.
            let a_buf = pattern(kind, n + 32, &mut rng);
            let b_buf = pattern((kind + 1) % PATTERNS, n + 32, &mut rng);
            // Every start alignment (mod 32) for random data; a spread for the extremes.
            let offsets: Vec<usize> = if kind == 0 {
                (0..32).collect()
            } else {
                vec![0, 1, 3, 7, 15, 16, 31]
            };
            for off in offsets {
                let a = &a_buf[off..off + n];
                let b = &b_buf[(off * 5) % 32..(off * 5) % 32 + n];
                let want = Isa::Generic.dot_i8(a, b).unwrap();
                let wide: i64 = a.iter().zip(b).map(|(&x, &y)| x as i64 * y as i64).sum();
                assert_eq!(want, wide as i32, "generic vs i64 reference, n={n}");
                for isa in simd_isas() {
                    assert_eq!(
                        isa.dot_i8(a, b).unwrap(),
                        want,
                        "{isa:?} n={n} kind={kind} off={off}"
                    );
                }
            }
        }
    }
}

#[test]
fn dot_i8_narrow_every_path_equals_generic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for n in 0..=300 {
        for kind in 0..PATTERNS {
            let x_buf = pattern(kind, n + 32, &mut rng);
            // The narrow operand: its own extremes are -127 and 127.
            let w_buf: Vec<i8> = pattern((kind + 2) % PATTERNS, n + 32, &mut rng)
                .into_iter()
                .map(|v| v.max(-127))
                .collect();
            let offsets: Vec<usize> = if kind == 0 {
                (0..32).collect()
            } else {
                vec![0, 1, 5, 16, 31]
            };
            for off in offsets {
                let x = &x_buf[off..off + n];
                let w = NarrowI8::new(&w_buf[31 - off..31 - off + n]).unwrap();
                let want = Isa::Generic.dot_i8(x, w.as_slice()).unwrap();
                for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
                    assert_eq!(
                        isa.dot_i8_narrow(x, w).unwrap(),
                        want,
                        "{isa:?} n={n} kind={kind} off={off}"
                    );
                }
            }
        }
    }
}

/// The reference for int4: unpack to i8 and sum in i64.
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

#[test]
fn dot_i4_i8_every_path_equals_reference() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    for n in 0..=300 {
        for kind in 0..4 {
            let x_buf = pattern(kind, n + 32, &mut rng);
            let packed: Vec<u8> = (0..n.div_ceil(2) + 16)
                .map(|_| match kind {
                    1 => 0x88, // all -8
                    2 => 0x77, // all 7
                    _ => rng.u8(),
                })
                .collect();
            for off in [0, 1, 13, 31] {
                let x = &x_buf[off..off + n];
                let p = &packed[off % 16..off % 16 + n.div_ceil(2)];
                let w = unpack_i4(p, n);
                let want: i64 = w.iter().zip(x).map(|(&a, &b)| a as i64 * b as i64).sum();
                for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
                    assert_eq!(
                        isa.dot_i4_i8(p, x).unwrap(),
                        want as i32,
                        "{isa:?} n={n} kind={kind}"
                    );
                }
            }
        }
    }
}

#[test]
fn gemv_every_path_equals_generic() {
    let mut rng = Rng(42);
    for rows in [0, 1, 2, 3, 4, 5, 7, 8, 9] {
        for cols in (0..=300).step_by(7).chain([31, 32, 33, 63, 64, 65, 128]) {
            for kind in 0..PATTERNS {
                let w = pattern(kind, rows * cols, &mut rng);
                let x = pattern((kind + 3) % PATTERNS, cols, &mut rng);
                let mut want = vec![0i32; rows];
                Isa::Generic.gemv_i8(&w, &x, &mut want).unwrap();
                for (r, &o) in want.iter().enumerate() {
                    let row = &w[r * cols..(r + 1) * cols];
                    assert_eq!(o, Isa::Generic.dot_i8(&x, row).unwrap());
                }
                let wn: Vec<i8> = w.iter().map(|&v| v.max(-127)).collect();
                let wn = NarrowI8::new(&wn).unwrap();
                let mut want_n = vec![0i32; rows];
                Isa::Generic.gemv_i8_narrow(wn, &x, &mut want_n).unwrap();
                for isa in simd_isas() {
                    let mut got = vec![-1i32; rows];
                    isa.gemv_i8(&w, &x, &mut got).unwrap();
                    assert_eq!(
                        got, want,
                        "{isa:?} gemv rows={rows} cols={cols} kind={kind}"
                    );
                    isa.gemv_i8_narrow(wn, &x, &mut got).unwrap();
                    assert_eq!(
                        got, want_n,
                        "{isa:?} narrow rows={rows} cols={cols} kind={kind}"
                    );
                }
            }
        }
    }
}

#[test]
fn gemv_i4_every_path_equals_reference() {
    let mut rng = Rng(7);
    for rows in [0, 1, 3, 4, 5, 9] {
        for cols in (0..=300).step_by(11).chain([1, 2, 63, 64, 65, 128, 130]) {
            let n: usize = rows * cols;
            let packed: Vec<u8> = (0..n.div_ceil(2)).map(|_| rng.u8()).collect();
            let x = pattern(cols % 4, cols, &mut rng);
            let w = unpack_i4(&packed, n);
            let want: Vec<i32> = (0..rows)
                .map(|r| {
                    w[r * cols..(r + 1) * cols]
                        .iter()
                        .zip(&x)
                        .map(|(&a, &b)| a as i64 * b as i64)
                        .sum::<i64>() as i32
                })
                .collect();
            for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
                let mut got = vec![-1i32; rows];
                isa.gemv_i4_i8(&packed, &x, &mut got).unwrap();
                assert_eq!(got, want, "{isa:?} rows={rows} cols={cols}");
            }
        }
    }
}

#[test]
fn gemm_is_gemv_per_batch_row() {
    let mut rng = Rng(99);
    for (batch, rows, cols) in [(1, 3, 5), (3, 4, 33), (2, 9, 64), (4, 1, 0), (2, 0, 7)] {
        let w = pattern(0, rows * cols, &mut rng);
        let x = pattern(0, batch * cols, &mut rng);
        let wn: Vec<i8> = w.iter().map(|&v| v.max(-127)).collect();
        for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
            let mut got = vec![-1i32; batch * rows];
            let mut got_n = vec![-1i32; batch * rows];
            isa.gemm_i8(&w, &x, batch, &mut got).unwrap();
            isa.gemm_i8_narrow(NarrowI8::new(&wn).unwrap(), &x, batch, &mut got_n)
                .unwrap();
            for b in 0..batch {
                let xb = &x[b * cols..(b + 1) * cols];
                let mut want = vec![0i32; rows];
                Isa::Generic.gemv_i8(&w, xb, &mut want).unwrap();
                assert_eq!(&got[b * rows..(b + 1) * rows], &want[..], "{isa:?}");
                Isa::Generic
                    .gemv_i8_narrow(NarrowI8::new(&wn).unwrap(), xb, &mut want)
                    .unwrap();
                assert_eq!(&got_n[b * rows..(b + 1) * rows], &want[..], "{isa:?}");
            }
        }
    }
}

#[test]
fn gemv_i4_prepared_every_path_equals_reference() {
    use qkit::kernel::PreparedI4;
    let mut rng = Rng(11);
    for rows in [0, 1, 3, 4, 5, 9] {
        for cols in (0..=300)
            .step_by(13)
            .chain([1, 2, 63, 64, 65, 127, 128, 256, 257])
        {
            let n: usize = rows * cols;
            let packed: Vec<u8> = (0..n.div_ceil(2))
                .map(|i| match i % 5 {
                    0 => 0x88,
                    1 => 0x77,
                    _ => rng.u8(),
                })
                .collect();
            let x = pattern(cols % PATTERNS, cols, &mut rng);
            let w = unpack_i4(&packed, n);
            let mut buf = vec![0u8; PreparedI4::buffer_len(rows, cols).unwrap()];
            let prepared = PreparedI4::new(&packed, rows, cols, &mut buf).unwrap();
            let want: Vec<i32> = (0..rows)
                .map(|r| {
                    w[r * cols..(r + 1) * cols]
                        .iter()
                        .zip(&x)
                        .map(|(&a, &b)| a as i64 * b as i64)
                        .sum::<i64>() as i32
                })
                .collect();
            for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
                let mut got = vec![-1i32; rows];
                isa.gemv_i4_prepared(&prepared, &x, &mut got).unwrap();
                assert_eq!(got, want, "{isa:?} rows={rows} cols={cols}");
            }
        }
    }
}
