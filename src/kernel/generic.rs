//! The portable kernels: the specification every SIMD path must equal.
//!
//! Each function is a plain loop over `i32` (or `i64`) wrapping arithmetic,
//! written as a zip/fold so LLVM vectorizes it on any target. Lengths are
//! already validated by the caller (`kernel/mod.rs`); a mismatch here would
//! only shorten the zip, never read out of bounds.

use crate::int4::I4;

/// `Σ a[k]·b[k]` with int32 wrap-around.
pub(crate) fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(0i32, |acc, (&x, &y)| {
        acc.wrapping_add(i32::from(x) * i32::from(y))
    })
}

/// `Σ x[k]·w[k]` for int16 activations and int8 weights, exact in int64.
pub(crate) fn dot_i16_i8(x: &[i16], w: &[i8]) -> i64 {
    // Each product fits in 23 bits, so blocks of 256 sum exactly in i32
    // (2^8 · 2^22 = 2^30); the blocks are then summed in i64.
    x.chunks(256)
        .zip(w.chunks(256))
        .map(|(xc, wc)| {
            let block = xc
                .iter()
                .zip(wc)
                .fold(0i32, |acc, (&a, &b)| acc + i32::from(a) * i32::from(b));
            i64::from(block)
        })
        .sum()
}

/// Low nibble of a packed byte, sign-extended (TFLite's packing: element
/// `2k` in the low nibble of byte `k`).
#[inline]
pub(crate) fn low_nibble(byte: u8) -> i8 {
    I4::from_nibble(byte).get()
}

/// High nibble of a packed byte, sign-extended.
#[inline]
pub(crate) fn high_nibble(byte: u8) -> i8 {
    I4::from_nibble(byte >> 4).get()
}

/// The int4 element at flat index `i` of a packed tensor (element `2k` in the
/// low nibble of byte `k`).
#[inline]
pub(crate) fn nibble_at(packed: &[u8], i: usize) -> i8 {
    let byte = packed[i / 2];
    if i.is_multiple_of(2) {
        low_nibble(byte)
    } else {
        high_nibble(byte)
    }
}

/// `Σ w[k]·x[k]` where `w` is int4, packed from the first nibble of `packed`
/// (which holds at least `x.len()` nibbles).
pub(crate) fn dot_i4_i8(packed: &[u8], x: &[i8]) -> i32 {
    let pairs = x.chunks_exact(2);
    let tail = pairs.remainder();
    let n_pairs = x.len() / 2;
    let body = packed.iter().zip(pairs).fold(0i32, |acc, (&byte, pair)| {
        let lo = i32::from(low_nibble(byte)) * i32::from(pair[0]);
        let hi = i32::from(high_nibble(byte)) * i32::from(pair[1]);
        acc.wrapping_add(lo + hi)
    });
    match tail {
        [last] => body.wrapping_add(i32::from(low_nibble(packed[n_pairs])) * i32::from(*last)),
        _ => body,
    }
}

/// `Σ w[start + k]·x[k]` over a packed int4 tensor, where the row may start
/// at an odd nibble (a matrix with an odd column count).
pub(crate) fn dot_i4_i8_at(packed: &[u8], start: usize, x: &[i8]) -> i32 {
    if start.is_multiple_of(2) {
        return dot_i4_i8(&packed[start / 2..], x);
    }
    match x.split_first() {
        None => 0,
        Some((&first, rest)) => {
            let head = i32::from(high_nibble(packed[start / 2])) * i32::from(first);
            head.wrapping_add(dot_i4_i8(&packed[start / 2 + 1..], rest))
        }
    }
}

/// Sum of the elements of `x`, wrapping in i32.
pub(crate) fn sum_i8(x: &[i8]) -> i32 {
    x.iter()
        .fold(0i32, |acc, &v| acc.wrapping_add(i32::from(v)))
}

/// GEMM: `out[b·rows + r] = Σ_k w[r·cols + k]·x[b·cols + k]` for every
/// activation row `b` and weight row `r` (a GEMV when `x` is one row).
pub(crate) fn gemm_i8(w: &[i8], x: &[i8], cols: usize, out: &mut [i32]) {
    if cols == 0 {
        out.fill(0);
        return;
    }
    let rows = w.len() / cols;
    if rows == 0 {
        return;
    }
    for (xb, ob) in x.chunks_exact(cols).zip(out.chunks_exact_mut(rows)) {
        for (row, o) in w.chunks_exact(cols).zip(ob) {
            *o = dot_i8(xb, row);
        }
    }
}

/// Row sums `out[r] = Σ_k w[r·cols + k]`.
pub(crate) fn row_sums_i8(w: &[i8], cols: usize, out: &mut [i32]) {
    if cols == 0 {
        out.fill(0);
        return;
    }
    for (row, o) in w.chunks_exact(cols).zip(out) {
        *o = sum_i8(row);
    }
}

/// Row sums of a packed int4 `[out.len()][cols]` matrix (flat packing).
pub(crate) fn row_sums_i4(packed: &[u8], cols: usize, out: &mut [i32]) {
    for (r, o) in out.iter_mut().enumerate() {
        *o = (0..cols).fold(0i32, |acc, k| {
            acc.wrapping_add(i32::from(nibble_at(packed, r * cols + k)))
        });
    }
}

/// GEMV over a packed int4 `[out.len()][x.len()]` matrix (flat packing,
/// rows may start mid-byte).
pub(crate) fn gemv_i4_i8(packed: &[u8], x: &[i8], out: &mut [i32]) {
    for (r, o) in out.iter_mut().enumerate() {
        *o = dot_i4_i8_at(packed, r * x.len(), x);
    }
}

/// GEMV for int16 activations and int8 weights, exact in int64: `w` holds
/// `out.len()` rows of `x.len()`.
pub(crate) fn gemv_i16_i8(w: &[i8], x: &[i16], out: &mut [i64]) {
    let cols = x.len();
    if cols == 0 {
        out.fill(0);
        return;
    }
    for (row, o) in w.chunks_exact(cols).zip(out.iter_mut()) {
        *o = dot_i16_i8(x, row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nibbles_follow_tflite_packing() {
        // TFLite's documented example: {0x12, 0x34} unpacks to {2, 1, 4, 3}.
        let packed = [0x12u8, 0x34];
        let got: [i8; 4] = core::array::from_fn(|i| nibble_at(&packed, i));
        assert_eq!(got, [2, 1, 4, 3]);
        assert_eq!(low_nibble(0x0F), -1);
        assert_eq!(high_nibble(0x80), -8);
        assert_eq!(low_nibble(0x07), 7);
    }

    #[test]
    fn odd_start_matches_elementwise() {
        let packed = [0x9Fu8, 0x71, 0x8E];
        let x = [3i8, -128, 127, 5];
        for start in 0..2 {
            let want: i32 = x
                .iter()
                .enumerate()
                .map(|(k, &v)| i32::from(nibble_at(&packed, start + k)) * i32::from(v))
                .sum();
            assert_eq!(dot_i4_i8_at(&packed, start, &x), want);
        }
    }
}
