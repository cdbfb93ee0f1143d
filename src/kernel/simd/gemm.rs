//! GEMM and GEMV, written once over [`Mac`]: tiles of `R` weight rows ×
//! `B` activation rows, where every prepared activation block serves `R`
//! weight rows and every prepared weight block serves `B` activation rows,
//! with `R·B` accumulators in registers. A GEMV is a GEMM with one
//! activation row (tiles of `R × 1`), and a convolution through im2col is a
//! GEMM whose activation rows are the patches.

use super::dot::{bias_correction, dot_row, head};
use super::{Acc, Block, Lanes, Mac, x_per_elem};

/// `out[b·rows + r] = Σ_k w[r][k]·x[b][k]`: `w` holds `rows` rows of
/// `row_len` elements (each the weights of `cols` activations), `x` holds
/// `batch` rows of `cols` activations and `out` is `batch × rows`.
///
/// One activation row (a GEMV) takes tiles of `RV × 1`, the ISA's tallest
/// (one activation load per `RV` rows); more take tiles of `R × B`. The
/// weights are walked once, a tile of rows at a time, each meeting every
/// activation row while it is in L1: the weights are the big operand of a
/// fully connected layer, and the activations (patches) of a convolution
/// stay in L2 between tiles.
#[inline(always)]
pub(crate) fn gemm<K: Mac, const RV: usize, const R: usize, const B: usize>(
    k: K,
    w: &[K::Elem],
    row_len: usize,
    x: &[i8],
    cols: usize,
    out: &mut [i32],
) {
    if cols == 0 || row_len == 0 {
        out.fill(0);
        return;
    }
    let batch = x.len() / cols;
    let rows = out.len() / batch.max(1);
    if batch == 0 || rows == 0 {
        return;
    }
    if batch == 1 {
        rows_in_tiles::<K, RV, 1>(k, w, row_len, x, cols, (out, rows));
    } else {
        rows_in_tiles::<K, R, B>(k, w, row_len, x, cols, (out, rows));
    }
    if K::W_BIAS != 0 {
        for (xb, ob) in x.chunks_exact(cols).zip(out.chunks_exact_mut(rows)) {
            let correction = bias_correction::<K>(xb);
            for o in ob {
                *o = o.wrapping_sub(correction);
            }
        }
    }
}

/// GEMV: `out[r] = Σ_k w[r][k]·x[k]` in tiles of `R` rows.
#[inline(always)]
pub(crate) fn gemv<K: Mac, const R: usize>(
    k: K,
    w: &[K::Elem],
    row_len: usize,
    x: &[i8],
    out: &mut [i32],
) {
    gemm::<K, R, R, 1>(k, w, row_len, x, x.len(), out);
}

/// Every row tile (`R` rows, then single rows) against every activation row.
#[inline(always)]
fn rows_in_tiles<K: Mac, const R: usize, const B: usize>(
    k: K,
    w: &[K::Elem],
    row_len: usize,
    x: &[i8],
    cols: usize,
    (out, rows): (&mut [i32], usize),
) {
    let mut r0 = 0;
    while r0 + R <= rows {
        let mut tile_rows = [&w[..0]; R];
        for (i, t) in tile_rows.iter_mut().enumerate() {
            *t = &w[(r0 + i) * row_len..(r0 + i + 1) * row_len];
        }
        pass::<K, R, B>(k, tile_rows, x, cols, out, r0);
        r0 += R;
    }
    for r in r0..rows {
        pass::<K, 1, B>(k, [&w[r * row_len..(r + 1) * row_len]], x, cols, out, r);
    }
}

/// Rows `r0..r0 + R` (given as `w`) against every activation row.
#[inline(always)]
fn pass<K: Mac, const R: usize, const B: usize>(
    k: K,
    w: [&[K::Elem]; R],
    x: &[i8],
    cols: usize,
    out: &mut [i32],
    r0: usize,
) {
    let batch = x.len() / cols;
    let rows = out.len() / batch;
    let mut b0 = 0;
    while b0 + B <= batch {
        let mut xs = [&x[..0]; B];
        for (j, xs) in xs.iter_mut().enumerate() {
            *xs = &x[(b0 + j) * cols..(b0 + j + 1) * cols];
        }
        let sums = tile::<K, R, B>(k, w, xs);
        for (j, s) in sums.iter().enumerate() {
            out[(b0 + j) * rows + r0..][..R].copy_from_slice(s);
        }
        b0 += B;
    }
    for b in b0..batch {
        let [s] = tile::<K, R, 1>(k, w, [&x[b * cols..(b + 1) * cols]]);
        out[b * rows + r0..][..R].copy_from_slice(&s);
    }
}

/// The biased sums `Σ (w[r] + W_BIAS)·x[b]` of a tile, as `[b][r]`.
#[inline(always)]
fn tile<K: Mac, const R: usize, const B: usize>(
    k: K,
    w: [&[K::Elem]; R],
    x: [&[i8]; B],
) -> [[i32; R]; B] {
    if R == 1 && B == 1 {
        // One pair: the row kernel's independent accumulators win.
        return [[dot_row(k, x[0], w[0]); R]; B];
    }
    let l = k.lanes();
    let mut acc = [[l.zero(); B]; R];
    let cols = x[0].len();
    let hw = head::<K>(w[0]);
    let hx = (hw * x_per_elem::<K>()).min(cols);
    if hw > 0 {
        let mut xs = [k.x_part(&x[0][..hx]); B];
        for b in 1..B {
            xs[b] = k.x_part(&x[b][..hx]);
        }
        for r in 0..R {
            let wv = k.w_part(&w[r][..hw]);
            for b in 0..B {
                acc[r][b] = k.mac(acc[r][b], xs[b], wv);
            }
        }
    }
    let n = (cols - hx) / <K::XBlock as Block<i8>>::LEN;
    let mut xb = [&[][..]; B];
    for b in 0..B {
        xb[b] = &K::XBlock::split(&x[b][hx..]).0[..n];
    }
    let mut wb = [&[][..]; R];
    for r in 0..R {
        wb[r] = &K::WBlock::split(&w[r][hw..]).0[..n];
    }
    blocks(k, &mut acc, xb, wb);
    let tail = hx + n * <K::XBlock as Block<i8>>::LEN;
    if tail < cols {
        let w_tail = hw + n * <K::WBlock as Block<K::Elem>>::LEN;
        let mut xs = [k.x_part(&x[0][tail..]); B];
        for b in 1..B {
            xs[b] = k.x_part(&x[b][tail..]);
        }
        for r in 0..R {
            let wv = k.w_part(&w[r][w_tail..]);
            for b in 0..B {
                acc[r][b] = k.mac(acc[r][b], xs[b], wv);
            }
        }
    }
    let mut sums = [[0i32; R]; B];
    for (b, s) in sums.iter_mut().enumerate() {
        let mut column = [l.zero(); R];
        for r in 0..R {
            column[r] = acc[r][b];
        }
        *s = totals(l, column);
    }
    sums
}

/// Accumulates runs of whole blocks of equal length: `x[b][i]` against
/// `w[r][i]`, each activation block prepared once for the `R` rows and each
/// weight block once for the `B` activation rows.
#[inline(always)]
fn blocks<K: Mac, const R: usize, const B: usize>(
    k: K,
    acc: &mut [[Acc<K>; B]; R],
    x: [&[K::XBlock]; B],
    w: [&[K::WBlock]; R],
) {
    let m = x[0].len();
    for i in 0..m {
        let mut xs = [k.x(&x[0][i]); B];
        for b in 1..B {
            xs[b] = k.x(&x[b][..m][i]);
        }
        for r in 0..R {
            let wv = k.w(&w[r][..m][i]);
            for b in 0..B {
                acc[r][b] = k.mac(acc[r][b], xs[b], wv);
            }
        }
    }
}

/// The totals of `R` accumulators, four at a time where the ISA shares work.
#[inline(always)]
fn totals<L: Lanes, const R: usize>(l: L, acc: [L::Acc; R]) -> [i32; R] {
    let mut out = [0i32; R];
    let (quads, rest) = acc.as_chunks::<4>();
    let (out4, out_rest) = out.as_chunks_mut::<4>();
    for (o, q) in out4.iter_mut().zip(quads) {
        *o = l.sum4(*q);
    }
    for (o, a) in out_rest.iter_mut().zip(rest) {
        *o = l.sum(*a);
    }
    out
}

/// GEMV over a TFLite-packed int4 `[out.len()][x.len()]` matrix: rows start
/// on a byte only for an even column count; odd ones take the portable path.
#[inline(always)]
pub(crate) fn gemv_i4<K: Mac<Elem = u8>>(k: K, packed: &[u8], x: &[i8], out: &mut [i32]) {
    if x.len() % 2 == 1 {
        return crate::kernel::generic::gemv_i4_i8(packed, x, out);
    }
    gemv::<K, 4>(k, packed, x.len() / 2, x, out);
}
