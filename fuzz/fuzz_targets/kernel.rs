//! Differential fuzzing of the kernels: every available instruction set
//! (Generic, SSE2, AVX2, AVX-512 VNNI) against an i64 reference, on
//! arbitrary lengths, offsets and data (including mismatched lengths, which
//! must be errors): dots, GEMV, GEMM tiles, int4 (packed and prepared) and
//! row sums.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qkit::kernel::{Isa, NarrowI8, PreparedI4};

fn reference(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| x as i64 * y as i64)
        .sum::<i64>() as i32
}

fn nibble(p: &[u8], i: usize) -> i8 {
    let b = p[i / 2];
    if i % 2 == 0 {
        ((b << 4) as i8) >> 4
    } else {
        (b as i8) >> 4
    }
}

fuzz_target!(|input: (u8, u8, u16, Vec<i8>, Vec<i8>)| {
    let (rows, off, len, a, b) = input;
    let rows = rows as usize % 9;
    let off = (off as usize % 32).min(a.len());
    let a = &a[off..];
    let n = (len as usize).min(a.len()).min(b.len());
    let (x, y) = (&a[..n], &b[..n]);
    let y_narrow: Vec<i8> = y.iter().map(|&v| v.max(-127)).collect();
    let wn = NarrowI8::new(&y_narrow).unwrap();
    let packed: Vec<u8> = y.iter().take(n.div_ceil(2)).map(|&v| v as u8).collect();
    let want = reference(x, y);
    let want_narrow = reference(x, &y_narrow);
    let w4: Vec<i8> = (0..packed.len() * 2).map(|i| nibble(&packed, i)).collect();
    // 16x8, offset folding and GEMM through the public free functions.
    let x16: Vec<i16> = x
        .iter()
        .zip(y)
        .map(|(&p, &q)| i16::from_le_bytes([p as u8, q as u8]))
        .collect();
    let want16: i64 = x16.iter().zip(y).map(|(&p, &q)| p as i64 * q as i64).sum();
    assert_eq!(qkit::kernel::dot_i16_i8(y, &x16).unwrap(), want16);
    let (zx, zw) = (i32::from(rows as i8) - 4, i32::from(off as i8) - 16);
    let direct = x.iter().zip(y).fold(0i32, |acc, (&p, &q)| {
        acc.wrapping_add((p as i32 - zx).wrapping_mul(q as i32 - zw))
    });
    let folded = qkit::kernel::fold_zero_points(
        qkit::kernel::dot_i8(x, y).unwrap(),
        qkit::kernel::sum_i8(x),
        qkit::kernel::sum_i8(y),
        n,
        zx,
        zw,
    );
    assert_eq!(folded, direct);
    if rows > 0 {
        let cols = n / rows;
        let batch = 2;
        if cols > 0 && a.len() >= batch * cols {
            let w = &y[..rows * cols];
            let xb = &a[..batch * cols];
            let mut out = vec![0i32; batch * rows];
            qkit::kernel::gemm_i8(w, xb, batch, &mut out).unwrap();
            for bi in 0..batch {
                for r in 0..rows {
                    let got = out[bi * rows + r];
                    assert_eq!(
                        got,
                        reference(
                            &w[r * cols..(r + 1) * cols],
                            &xb[bi * cols..(bi + 1) * cols]
                        )
                    );
                }
            }
            let mut sums = vec![0i32; rows];
            qkit::kernel::row_sums_i8(w, cols, &mut sums).unwrap();
            for r in 0..rows {
                assert_eq!(sums[r], qkit::kernel::sum_i8(&w[r * cols..(r + 1) * cols]));
            }
        }
    }
    // Isa::ALL includes Avx512Vnni; make sure the CPU this runs on really
    // exercises it when it can (detection must agree with std's).
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        Isa::Avx512Vnni.is_available(),
        std::is_x86_feature_detected!("avx2")
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vnni")
    );
    for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
        assert_eq!(
            isa.sum_i8(x).unwrap(),
            x.iter().map(|&v| v as i32).sum::<i32>(),
            "{isa:?}"
        );
        // GEMM: `batch` activation rows of `cols` from `a`, `rows` weight rows from `b`.
        if rows > 0 {
            let cols = n / rows;
            let batch = if cols == 0 {
                0
            } else {
                (a.len() / cols).min(9)
            };
            let w = &y[..rows * cols];
            let xb = &a[..batch * cols];
            let wn: Vec<i8> = w.iter().map(|&v| v.max(-127)).collect();
            let mut out = vec![0i32; batch * rows];
            let mut out_n = vec![0i32; batch * rows];
            isa.gemm_i8(w, xb, batch, &mut out).unwrap();
            isa.gemm_i8_narrow(NarrowI8::new(&wn).unwrap(), xb, batch, &mut out_n)
                .unwrap();
            let mut sums = vec![0i32; rows];
            isa.row_sums_i8(w, cols, &mut sums).unwrap();
            for r in 0..rows {
                let wr = &w[r * cols..(r + 1) * cols];
                assert_eq!(
                    sums[r],
                    wr.iter().map(|&v| v as i32).sum::<i32>(),
                    "{isa:?} row sums"
                );
                for bi in 0..batch {
                    let xr = &xb[bi * cols..(bi + 1) * cols];
                    assert_eq!(out[bi * rows + r], reference(wr, xr), "{isa:?} gemm");
                    assert_eq!(
                        out_n[bi * rows + r],
                        reference(&wn[r * cols..(r + 1) * cols], xr),
                        "{isa:?} gemm narrow"
                    );
                }
            }
            let p4 = &packed[..(rows * cols).div_ceil(2).min(packed.len())];
            if p4.len() == (rows * cols).div_ceil(2) {
                isa.row_sums_i4(p4, cols, &mut sums).unwrap();
                for r in 0..rows {
                    let want4: i32 = (r * cols..(r + 1) * cols)
                        .map(|i| nibble(p4, i) as i32)
                        .sum();
                    assert_eq!(sums[r], want4, "{isa:?} int4 row sums");
                }
            }
        }
        assert_eq!(isa.dot_i8(x, y).unwrap(), want, "{isa:?}");
        assert_eq!(isa.dot_i8_narrow(wn, x).unwrap(), want_narrow, "{isa:?}");
        if packed.len() == n.div_ceil(2) {
            assert_eq!(
                isa.dot_i4_i8(&packed, x).unwrap(),
                reference(&w4[..n], x),
                "{isa:?}"
            );
        }
        assert!(isa.dot_i8(x, &b[..b.len().min(n + 1)]).is_err() == (b.len().min(n + 1) != n));
        // GEMV: `rows` rows of `cols` columns carved out of `a`.
        if rows > 0 {
            let cols = a.len() / rows;
            let w = &a[..rows * cols];
            let xv = &b[..cols.min(b.len())];
            if xv.len() == cols {
                let mut out = vec![0i32; rows];
                isa.gemv_i8(w, xv, &mut out).unwrap();
                for r in 0..rows {
                    assert_eq!(
                        out[r],
                        reference(&w[r * cols..(r + 1) * cols], xv),
                        "{isa:?} gemv"
                    );
                }
                let wnv: Vec<i8> = w.iter().map(|&v| v.max(-127)).collect();
                isa.gemv_i8_narrow(NarrowI8::new(&wnv).unwrap(), xv, &mut out)
                    .unwrap();
                for r in 0..rows {
                    assert_eq!(
                        out[r],
                        reference(&wnv[r * cols..(r + 1) * cols], xv),
                        "{isa:?} narrow"
                    );
                }
                let p4: Vec<u8> = w
                    .iter()
                    .take((rows * cols).div_ceil(2))
                    .map(|&v| v as u8)
                    .collect();
                if p4.len() == (rows * cols).div_ceil(2) {
                    isa.gemv_i4_i8(&p4, xv, &mut out).unwrap();
                    let mut buf = vec![0u8; PreparedI4::buffer_len(rows, cols).unwrap()];
                    let prepared = PreparedI4::new(&p4, rows, cols, &mut buf).unwrap();
                    let mut out_p = vec![0i32; rows];
                    isa.gemv_i4_prepared(&prepared, xv, &mut out_p).unwrap();
                    for r in 0..rows {
                        let wr: Vec<i8> =
                            (r * cols..(r + 1) * cols).map(|i| nibble(&p4, i)).collect();
                        assert_eq!(out[r], reference(&wr, xv), "{isa:?} int4 gemv");
                        assert_eq!(out_p[r], out[r], "{isa:?} prepared int4 gemv");
                    }
                }
            } else {
                let mut out = vec![0i32; rows];
                assert!(isa.gemv_i8(w, xv, &mut out).is_err() || rows * xv.len() == w.len());
            }
        }
    }
});
