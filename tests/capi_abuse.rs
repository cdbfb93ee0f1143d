//! The C ABI under abuse, from Rust: huge lengths, NULL, misaligned and
//! overlapping pointers, bad parameters. Every case returns its documented
//! code and leaves the outputs untouched; none reaches undefined behaviour
//! (CI runs this file under Miri, .ci/miri.sh). Buffers are small so Miri
//! runs it in seconds.
#![cfg(feature = "capi")]

use core::ptr;

use qkit::capi::*;

const SENTINEL: i8 = 0x5A;

type Qm = qkit_quantized_multiplier;

fn qm(multiplier: i32, shift: i32) -> Qm {
    Qm { multiplier, shift }
}

/// `qkit_requantize_i8` with the arguments that matter here.
#[allow(clippy::too_many_arguments)]
fn requantize(
    acc: *const i32,
    n: usize,
    bias: *const i32,
    n_bias: usize,
    ms: *const Qm,
    n_ms: usize,
    out: *mut i8,
) -> qkit_status {
    // SAFETY: every call below passes buffers valid for the lengths it
    // gives, or lengths the function must reject before touching memory.
    unsafe { qkit_requantize_i8(acc, n, bias, n_bias, ms, n_ms, 0, -128, 127, 0, out) }
}

#[test]
fn huge_lengths_are_length_errors() {
    let acc = [1i32; 4];
    let ms = [Qm::ONE];
    let mut out = [SENTINEL; 4];
    let o = out.as_mut_ptr();
    for n in [
        usize::MAX,
        isize::MAX as usize + 1,
        isize::MAX as usize / 4 + 1,
    ] {
        assert_eq!(
            requantize(acc.as_ptr(), n, ptr::null(), 0, ms.as_ptr(), 1, o),
            QKIT_ERR_LENGTH,
            "n = {n:#x}"
        );
        // SAFETY: rejected before any read.
        let s = unsafe {
            qkit_dot_i8(
                [1i8].as_ptr(),
                [1i8].as_ptr(),
                n.max(isize::MAX as usize + 1),
                &mut 0,
            )
        };
        assert_eq!(s, QKIT_ERR_LENGTH);
    }
    // A huge multiplier table, a huge bias.
    assert_eq!(
        requantize(acc.as_ptr(), 4, ptr::null(), 0, ms.as_ptr(), usize::MAX, o),
        QKIT_ERR_LENGTH
    );
    assert_eq!(
        requantize(
            acc.as_ptr(),
            4,
            acc.as_ptr(),
            usize::MAX / 2,
            ms.as_ptr(),
            1,
            o
        ),
        QKIT_ERR_LENGTH
    );
    // A buffer that would wrap around the end of the address space.
    let top = ptr::without_provenance::<i8>(usize::MAX - 7);
    // SAFETY: rejected before any read.
    let s = unsafe { qkit_dot_i8(top, top, 16, &mut 0) };
    assert_eq!(s, QKIT_ERR_LENGTH);
    assert_eq!(out, [SENTINEL; 4]);
}

#[test]
fn fully_connected_dimension_products_that_overflow_are_length_errors() {
    let w = [1i8; 4];
    let s_w = [1.0f32];
    let mut y = [SENTINEL; 4];
    let fc = |batch: usize, in_dim: usize, out_dim: usize, y: *mut i8| {
        // SAFETY: every shape here is rejected or needs no memory.
        unsafe {
            qkit_fully_connected_i8(
                w.as_ptr(),
                batch,
                in_dim,
                w.as_ptr(),
                out_dim,
                ptr::null(),
                1.0,
                0,
                s_w.as_ptr(),
                1,
                1.0,
                0,
                QKIT_ACTIVATION_NONE,
                QKIT_ROUNDING_DOUBLE,
                y,
            )
        }
    };
    let yp = y.as_mut_ptr();
    assert_eq!(fc(usize::MAX, 2, 2, yp), QKIT_ERR_LENGTH); // batch · in_dim
    assert_eq!(fc(2, usize::MAX, 2, yp), QKIT_ERR_LENGTH); // out_dim · in_dim
    assert_eq!(fc(1 << 62, 0, 4, yp), QKIT_ERR_LENGTH); // batch · out_dim = 2^64
    assert_eq!(fc(1 << 62, 0, 2, yp), QKIT_ERR_LENGTH); // 2^63 bytes > PTRDIFF_MAX
    // batch = 2^40 with in_dim = 0 and out_dim = 0: nothing to read or write.
    assert_eq!(fc(1 << 40, 0, 0, ptr::null_mut()), QKIT_OK);
    assert_eq!(y, [SENTINEL; 4]);
}

#[test]
fn null_pointers() {
    let acc = [1i32; 4];
    let ms = [Qm::ONE];
    let mut out = [SENTINEL; 4];
    let o = out.as_mut_ptr();
    assert_eq!(
        requantize(ptr::null(), 4, ptr::null(), 0, ms.as_ptr(), 1, o),
        QKIT_ERR_NULL
    );
    assert_eq!(
        requantize(
            acc.as_ptr(),
            4,
            ptr::null(),
            0,
            ms.as_ptr(),
            1,
            ptr::null_mut()
        ),
        QKIT_ERR_NULL
    );
    // NULL bias with a non-zero count.
    assert_eq!(
        requantize(acc.as_ptr(), 4, ptr::null(), 4, ms.as_ptr(), 1, o),
        QKIT_ERR_NULL
    );
    // Zero lengths accept NULL everywhere but the table that must not be empty.
    assert_eq!(
        requantize(
            ptr::null(),
            0,
            ptr::null(),
            0,
            ms.as_ptr(),
            1,
            ptr::null_mut()
        ),
        QKIT_OK
    );
    // SAFETY: NULL result pointers are rejected before any write.
    unsafe {
        assert_eq!(
            qkit_quantize_multiplier(0.5, ptr::null_mut()),
            QKIT_ERR_NULL
        );
        assert_eq!(
            qkit_multiply_by_quantized_multiplier(1, Qm::ONE, 0, ptr::null_mut()),
            QKIT_ERR_NULL
        );
        assert_eq!(
            qkit_dot_i8(ptr::null(), ptr::null(), 0, ptr::null_mut()),
            QKIT_ERR_NULL
        );
    }
    assert_eq!(out, [SENTINEL; 4]);
}

#[test]
fn misaligned_pointers_are_alignment_errors() {
    // Room for a misaligned view of 4 i32 / 2 multipliers / 1 f32.
    let words = [0u32; 8];
    let bytes = words.as_ptr().cast::<u8>();
    // SAFETY: one byte into an 32-byte allocation; never dereferenced as i32.
    let odd = unsafe { bytes.add(1) };
    let ms = [Qm::ONE];
    let acc = [1i32; 4];
    let mut out = [SENTINEL; 4];
    let o = out.as_mut_ptr();
    assert_eq!(
        requantize(odd.cast(), 4, ptr::null(), 0, ms.as_ptr(), 1, o),
        QKIT_ERR_ALIGNMENT
    );
    assert_eq!(
        requantize(acc.as_ptr(), 4, odd.cast(), 1, ms.as_ptr(), 1, o),
        QKIT_ERR_ALIGNMENT
    );
    assert_eq!(
        requantize(acc.as_ptr(), 4, ptr::null(), 0, odd.cast(), 1, o),
        QKIT_ERR_ALIGNMENT
    );
    // A misaligned result pointer (Miri flagged the write through it on main).
    let mut buf = [0u32; 2];
    // SAFETY: inside `buf`; rejected before any write.
    let odd_out = unsafe { buf.as_mut_ptr().cast::<u8>().add(2) }.cast::<i32>();
    // SAFETY: as above.
    unsafe {
        assert_eq!(
            qkit_dot_i8([1i8].as_ptr(), [1i8].as_ptr(), 1, odd_out),
            QKIT_ERR_ALIGNMENT
        );
        assert_eq!(
            qkit_multiply_by_quantized_multiplier(1, Qm::ONE, 0, odd_out),
            QKIT_ERR_ALIGNMENT
        );
        assert_eq!(
            qkit_quantize_multiplier(0.5, odd_out.cast()),
            QKIT_ERR_ALIGNMENT
        );
    }
    assert_eq!(buf, [0, 0]);
    // Misaligned filter scales.
    let w = [1i8; 2];
    let mut y = [SENTINEL; 2];
    // SAFETY: rejected before any read or write.
    let s = unsafe {
        qkit_fully_connected_i8(
            w.as_ptr(),
            1,
            1,
            w.as_ptr(),
            2,
            ptr::null(),
            1.0,
            0,
            odd.cast(),
            1,
            1.0,
            0,
            0,
            0,
            y.as_mut_ptr(),
        )
    };
    assert_eq!(s, QKIT_ERR_ALIGNMENT);
    assert_eq!((out, y), ([SENTINEL; 4], [SENTINEL; 2]));
}

#[test]
fn overlapping_outputs_are_overlap_errors() {
    // `out` inside the accumulators: returned OK with corrupted results before.
    let mut acc = [100i32, 200, 300, 400];
    let ms = [qm(1 << 30, 0)];
    let acc_ptr = acc.as_mut_ptr();
    let s = requantize(acc_ptr, 4, ptr::null(), 0, ms.as_ptr(), 1, acc_ptr.cast());
    assert_eq!(s, QKIT_ERR_OVERLAP);
    // Overlapping the last byte only.
    // SAFETY: 15 bytes into the 16-byte accumulator array; not written.
    let tail = unsafe { acc_ptr.cast::<i8>().add(15) };
    let s = requantize(acc_ptr, 4, ptr::null(), 0, ms.as_ptr(), 1, tail);
    assert_eq!(s, QKIT_ERR_OVERLAP);
    assert_eq!(acc, [100, 200, 300, 400]);
    // Output over the bias or the multipliers.
    let bias = [0i32; 4];
    let s = requantize(
        [0i32; 4].as_ptr(),
        4,
        bias.as_ptr(),
        4,
        ms.as_ptr(),
        1,
        bias.as_ptr().cast_mut().cast(),
    );
    assert_eq!(s, QKIT_ERR_OVERLAP);
    let s = requantize(
        [0i32; 4].as_ptr(),
        4,
        ptr::null(),
        0,
        ms.as_ptr(),
        1,
        ms.as_ptr().cast_mut().cast(),
    );
    assert_eq!(s, QKIT_ERR_OVERLAP);
    // dot: the result over an input.
    let mut ab = [1i8, 2, 3, 4, 5, 6, 7, 8];
    let p = ab.as_mut_ptr();
    // SAFETY: the first 4-aligned slot inside the 8 bytes; rejected.
    unsafe {
        let slot = p.add((4 - p.addr() % 4) % 4).cast::<i32>();
        assert_eq!(qkit_dot_i8(p, p, 8, slot), QKIT_ERR_OVERLAP);
    }
    assert_eq!(ab, [1, 2, 3, 4, 5, 6, 7, 8]);
    // Adjacent is not overlapping.
    let mut both = [0i32; 8];
    let (left, right) = both.split_at_mut(4);
    left.copy_from_slice(&[16, 32, 48, 64]);
    let s = requantize(
        left.as_ptr(),
        4,
        ptr::null(),
        0,
        ms.as_ptr(),
        1,
        right.as_mut_ptr().cast(),
    );
    assert_eq!(s, QKIT_OK);
    // Inputs may overlap each other.
    let x = [3i8, -4];
    let mut d = 0;
    // SAFETY: both inputs are the same valid 2-byte buffer.
    assert_eq!(
        unsafe { qkit_dot_i8(x.as_ptr(), x.as_ptr(), 2, &mut d) },
        QKIT_OK
    );
    assert_eq!(d, 25);
}

#[test]
fn fully_connected_validates_every_channel_before_writing() {
    // 40 channels: a NaN scale at channel 35 used to come back ERR_PARAM
    // after channels 0-31 had been written.
    const OUT: usize = 40;
    let w = [1i8; OUT * 2];
    let mut scales = [0.01f32; OUT];
    scales[35] = f32::NAN;
    let mut y = [SENTINEL; OUT];
    let fc = |scales: &[f32], y: &mut [i8], out_scale: f32| {
        // SAFETY: every buffer is valid for its length.
        unsafe {
            qkit_fully_connected_i8(
                [1i8, 2].as_ptr(),
                1,
                2,
                w.as_ptr(),
                OUT,
                ptr::null(),
                1.0,
                0,
                scales.as_ptr(),
                scales.len(),
                out_scale,
                0,
                QKIT_ACTIVATION_NONE,
                QKIT_ROUNDING_DOUBLE,
                y.as_mut_ptr(),
            )
        }
    };
    assert_eq!(fc(&scales, &mut y, 1.0), QKIT_ERR_PARAM);
    assert_eq!(y, [SENTINEL; OUT]);
    // A multiplier beyond shift 30 in one channel: the same.
    scales[35] = 2e9;
    assert_eq!(fc(&scales, &mut y, 1.0), QKIT_ERR_PARAM);
    assert_eq!(y, [SENTINEL; OUT]);
    scales[35] = 0.01;
    assert_eq!(fc(&scales, &mut y, 1.0), QKIT_OK);
    assert_eq!(y, [0; OUT]); // 3 · 0.01 rounds to 0
    assert_eq!(fc(&scales, &mut y, 0.01), QKIT_OK);
    assert_eq!(y, [3; OUT]);
    // Filter scale counts other than 1 and out_dim.
    assert_eq!(fc(&scales[..2], &mut y, 1.0), QKIT_ERR_LENGTH);
    // Output over the weights.
    // SAFETY: rejected before any write.
    let s = unsafe {
        qkit_fully_connected_i8(
            w.as_ptr(),
            1,
            2,
            w.as_ptr(),
            OUT,
            ptr::null(),
            1.0,
            0,
            scales.as_ptr(),
            OUT,
            1.0,
            0,
            0,
            0,
            w.as_ptr().cast_mut(),
        )
    };
    assert_eq!(s, QKIT_ERR_OVERLAP);
}

#[test]
fn error_codes_are_consistent() {
    let acc = [1i32; 6];
    let bias = [0i32; 4];
    let ms = [Qm::ONE; 4];
    let mut out = [SENTINEL; 6];
    let o = out.as_mut_ptr();
    // A non-NULL bias with no entries was ERR_OTHER.
    assert_eq!(
        requantize(acc.as_ptr(), 6, bias.as_ptr(), 0, ms.as_ptr(), 1, o),
        QKIT_ERR_LENGTH
    );
    // n % channels != 0 was ERR_PARAM.
    assert_eq!(
        requantize(acc.as_ptr(), 6, bias.as_ptr(), 4, ms.as_ptr(), 1, o),
        QKIT_ERR_LENGTH
    );
    assert_eq!(
        requantize(acc.as_ptr(), 6, ptr::null(), 0, ms.as_ptr(), 4, o),
        QKIT_ERR_LENGTH
    );
    // Bias and multiplier tables that disagree.
    assert_eq!(
        requantize(acc.as_ptr(), 6, bias.as_ptr(), 3, ms.as_ptr(), 2, o),
        QKIT_ERR_LENGTH
    );
    // No multiplier at all.
    assert_eq!(
        requantize(acc.as_ptr(), 6, ptr::null(), 0, ms.as_ptr(), 0, o),
        QKIT_ERR_LENGTH
    );
    // A multiplier outside the one rule, in the table or alone.
    let bad = [Qm::ONE, qm(1 << 30, 31)];
    assert_eq!(
        requantize(acc.as_ptr(), 6, ptr::null(), 0, bad.as_ptr(), 2, o),
        QKIT_ERR_PARAM
    );
    assert_eq!(
        requantize(acc.as_ptr(), 6, ptr::null(), 0, [qm(-1, 0)].as_ptr(), 1, o),
        QKIT_ERR_PARAM
    );
    // Activation range outside int8.
    // SAFETY: valid buffers.
    let s = unsafe {
        qkit_requantize_i8(
            acc.as_ptr(),
            6,
            ptr::null(),
            0,
            ms.as_ptr(),
            1,
            0,
            -129,
            127,
            0,
            o,
        )
    };
    assert_eq!(s, QKIT_ERR_RANGE);
    // SAFETY: valid buffers.
    let s = unsafe {
        qkit_requantize_i8(
            acc.as_ptr(),
            6,
            ptr::null(),
            0,
            ms.as_ptr(),
            1,
            0,
            -128,
            127,
            9,
            o,
        )
    };
    assert_eq!(s, QKIT_ERR_PARAM);
    assert_eq!(out, [SENTINEL; 6]);
    let mut y = 7;
    // SAFETY: valid result pointer.
    unsafe {
        assert_eq!(
            qkit_multiply_by_quantized_multiplier(1, qm(1 << 30, 31), 0, &mut y),
            QKIT_ERR_PARAM
        );
        assert_eq!(
            qkit_multiply_by_quantized_multiplier(1, Qm::ONE, 2, &mut y),
            QKIT_ERR_PARAM
        );
    }
    assert_eq!(y, 7);
}

#[test]
fn per_channel_requantize_over_several_rows_matches_the_scalar_code() {
    // 9 channels x 2 rows, i8 out: the shape whose AVX2 path wrote through
    // a stale pointer (Stacked Borrows) on main; Miri must see it through
    // the C ABI too.
    let ms: Vec<Qm> = (0..9)
        .map(|c| qm((1 << 30) + c * 12345, -(c % 5)))
        .collect();
    let bias: Vec<i32> = (0..9).map(|c| c * 7 - 20).collect();
    let acc: Vec<i32> = (0..18).map(|i| i * 1000 - 9000).collect();
    let mut out = [SENTINEL; 18];
    let s = requantize(
        acc.as_ptr(),
        18,
        bias.as_ptr(),
        9,
        ms.as_ptr(),
        9,
        out.as_mut_ptr(),
    );
    assert_eq!(s, QKIT_OK);
    for (i, &y) in out.iter().enumerate() {
        let c = i % 9;
        let v = qkit::requant::multiply_by_quantized_multiplier(
            acc[i] + bias[c],
            ms[c],
            qkit::requant::Rounding::Double,
        );
        assert_eq!(y as i32, v.clamp(-128, 127), "element {i}");
    }
}

#[test]
fn simd_sized_calls_match_a_reference() {
    // Long enough for the SIMD bodies and their tails (AVX2: 32 bytes,
    // AVX-512: 64 bytes), small enough for Miri.
    const IN: usize = 200;
    const OUT: usize = 5;
    let x: Vec<i8> = (0..2 * IN).map(|i| (i * 37 % 256) as u8 as i8).collect();
    let w: Vec<i8> = (0..OUT * IN)
        .map(|i| ((i * 91 % 255) as i32 - 127) as i8)
        .collect();
    let mut d = 0;
    // SAFETY: both inputs hold IN elements.
    assert_eq!(
        unsafe { qkit_dot_i8(x.as_ptr(), w.as_ptr(), IN, &mut d) },
        QKIT_OK
    );
    let want: i32 = x[..IN]
        .iter()
        .zip(&w)
        .map(|(&a, &b)| a as i32 * b as i32)
        .sum();
    assert_eq!(d, want);
    let mut y = [SENTINEL; 2 * OUT];
    let scale = [1.0f32 / 64.0];
    // SAFETY: every buffer holds its documented length.
    let s = unsafe {
        qkit_fully_connected_i8(
            x.as_ptr(),
            2,
            IN,
            w.as_ptr(),
            OUT,
            ptr::null(),
            1.0,
            0,
            scale.as_ptr(),
            1,
            64.0,
            0,
            QKIT_ACTIVATION_NONE,
            QKIT_ROUNDING_DOUBLE,
            y.as_mut_ptr(),
        )
    };
    assert_eq!(s, QKIT_OK);
    for b in 0..2 {
        for o in 0..OUT {
            let acc: i32 = (0..IN)
                .map(|k| x[b * IN + k] as i32 * w[o * IN + k] as i32)
                .sum();
            let m = qkit::requant::quantize_multiplier(1.0 / 4096.0).unwrap();
            let v = qkit::requant::multiply_by_quantized_multiplier(
                acc,
                m,
                qkit::requant::Rounding::Double,
            );
            assert_eq!(y[b * OUT + o] as i32, v.clamp(-128, 127), "[{b}, {o}]");
        }
    }
}
