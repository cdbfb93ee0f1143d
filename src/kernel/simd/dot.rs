//! One weight row against one activation row, written once over [`Mac`]:
//! the dot products, the GEMV rows left over by the tiles, and row sums.

use super::{Block, Lanes, Mac, x_per_elem};

/// Weight elements to peel off the front of `w` so that the loads after
/// them start on `K::ALIGN` bytes (an unaligned 64-byte load spans two
/// cache lines and costs two). Never more than `w` holds, and nothing for
/// rows under eight blocks, where the extra partial block costs more than
/// the split loads.
#[inline(always)]
pub(crate) fn head<K: Mac>(w: &[K::Elem]) -> usize {
    if K::ALIGN <= 1 || w.len() < 8 * K::ALIGN {
        return 0;
    }
    // Elements are bytes, so an offset in elements is one in bytes.
    w.as_ptr().align_offset(K::ALIGN).min(w.len())
}

/// `Σ (w + W_BIAS)·x` over one row, before the bias correction (see
/// [`Mac`]); `w` holds the weights of the `x.len()` activations.
///
/// An aligned head, then whole blocks into four independent accumulators
/// (so the loop runs at the throughput of the multiply-accumulate, not its
/// latency), then a zero-padded tail.
#[inline(always)]
pub(crate) fn dot_row<K: Mac>(k: K, x: &[i8], w: &[K::Elem]) -> i32 {
    let l = k.lanes();
    let mut acc = [l.zero(); 4];
    let hw = head::<K>(w);
    let hx = (hw * x_per_elem::<K>()).min(x.len());
    if hw > 0 {
        acc[0] = k.mac(acc[0], k.x_part(&x[..hx]), k.w_part(&w[..hw]));
    }
    let (xb, x_tail) = K::XBlock::split(&x[hx..]);
    let wb = &K::WBlock::split(&w[hw..]).0[..xb.len()];
    let w_tail = &w[hw + xb.len() * <K::WBlock as Block<K::Elem>>::LEN..];
    let (x4, x_rest) = xb.as_chunks::<4>();
    let (w4, w_rest) = wb.as_chunks::<4>();
    for (xs, ws) in x4.iter().zip(w4) {
        for j in 0..4 {
            acc[j] = k.mac(acc[j], k.x(&xs[j]), k.w(&ws[j]));
        }
    }
    for (j, (xs, ws)) in x_rest.iter().zip(w_rest).enumerate() {
        acc[j] = k.mac(acc[j], k.x(xs), k.w(ws));
    }
    if !x_tail.is_empty() {
        acc[0] = k.mac(acc[0], k.x_part(x_tail), k.w_part(w_tail));
    }
    l.sum(l.add(l.add(acc[0], acc[1]), l.add(acc[2], acc[3])))
}

/// `Σ x·w` exactly: [`dot_row`] with the bias correction.
#[inline(always)]
pub(crate) fn dot<K: Mac>(k: K, x: &[i8], w: &[K::Elem]) -> i32 {
    dot_row(k, x, w).wrapping_sub(bias_correction::<K>(x))
}

/// `W_BIAS·Σx`, what a biased kernel adds to every output of activation
/// row `x` (no pass over `x` for unbiased kernels).
#[inline(always)]
pub(crate) fn bias_correction<K: Mac>(x: &[i8]) -> i32 {
    if K::W_BIAS == 0 {
        0
    } else {
        K::W_BIAS.wrapping_mul(crate::kernel::generic::sum_i8(x))
    }
}

/// Row sums `out[r] = Σ_k w[r][k]` of rows of `row_len` elements: each row
/// against a run of ones, so every ISA sums with its own multiply-accumulate
/// (`W_BIAS·n` is known, no pass over the ones).
#[inline(always)]
pub(crate) fn row_sums<K: Mac>(k: K, w: &[K::Elem], row_len: usize, out: &mut [i32]) {
    const ONES: [i8; 1024] = [1; 1024];
    if row_len == 0 {
        out.fill(0);
        return;
    }
    let per = ONES.len() / x_per_elem::<K>();
    for (row, o) in w.chunks_exact(row_len).zip(out) {
        let mut sum = 0i32;
        for piece in row.chunks(per) {
            let n = piece.len() * x_per_elem::<K>();
            let biased = dot_row(k, &ONES[..n], piece);
            sum = sum.wrapping_add(biased.wrapping_sub(K::W_BIAS.wrapping_mul(n as i32)));
        }
        *o = sum;
    }
}

/// Row sums of a TFLite-packed int4 `[out.len()][cols]` matrix: rows start
/// on a byte only for an even `cols`; odd ones take the portable path.
#[inline(always)]
pub(crate) fn row_sums_i4<K: Mac<Elem = u8>>(k: K, packed: &[u8], cols: usize, out: &mut [i32]) {
    if cols % 2 == 1 {
        return crate::kernel::generic::row_sums_i4(packed, cols, out);
    }
    row_sums(k, packed, cols / 2, out);
}
