//! The depthwise convolution written once over [`DepthwiseMac`]: channels
//! (the contiguous NHWC axis) across the vector lanes, taps two at a time.
//!
//! For each run of `LEN` channels the weights of every pair of taps are
//! loaded and prepared once (interleaved, widened: what the ISA's
//! pair-multiply-add wants), then each output pixel of the tile sums its
//! taps in registers and adds the lanes to its accumulators once. An
//! interior pixel (the whole window inside the image) reads each tap at a
//! fixed offset from its first one; a border pixel looks each tap up and
//! reads the padding value where it falls outside. A run shorter than `LEN`
//! (the channel tail) still loads whole blocks, whose extra lanes hold
//! neighbouring values that are never stored; only a block that would pass
//! the end of the image or the weights is copied, zero-padded. Depth
//! multipliers above one take the portable kernel.

use super::Block;
use crate::kernel::depthwise::{Activation, DepthwiseTile, depthwise};

/// What an instruction set supplies: `LEN` channels' multiply-add of two
/// taps, for activations `X` (`i8`, or `i16` whose pair sums, at most
/// `2^23`, the ISA keeps exact in i32 lanes: one pass of at most `PAIRS`
/// pairs cannot overflow them).
pub(crate) trait DepthwiseMac<X: Activation>: Copy {
    /// `LEN` channels of one tap's activations, `[X; LEN]`.
    type Block: Block<X>;
    /// The same `LEN` channels' weights, `[i8; LEN]`.
    type WBlock: Block<i8>;
    /// The weights of two taps, prepared.
    type W: Copy;
    /// The accumulators of `LEN` channels.
    type Acc: Copy;
    /// Accumulators holding 0.
    fn zero(self) -> Self::Acc;
    /// Prepares the weights `w0` and `w1` of two taps.
    fn weights(self, w0: &Self::WBlock, w1: &Self::WBlock) -> Self::W;
    /// `acc[c] + w0[c]·x0[c] + w1[c]·x1[c]` (wrapping).
    fn mac(self, acc: Self::Acc, x0: &Self::Block, x1: &Self::Block, w: Self::W) -> Self::Acc;
    /// `out[c] += acc[c]` for the first `out.len()` (at most `LEN`) lanes.
    fn add_to(self, acc: Self::Acc, out: &mut [X::Acc]);
}

/// Tap pairs per pass (filters with more taps take several passes).
const PAIRS: usize = 16;

/// The largest `LEN` an instruction set may use (the padding block).
const MAX_LEN: usize = 64;

/// Adds the tile's sums into `out`, as [`depthwise`] does.
#[inline(always)]
pub(crate) fn run<X: Activation, K: DepthwiseMac<X>>(
    k: K,
    t: &DepthwiseTile<'_, X>,
    out: &mut [X::Acc],
) {
    if t.depth_multiplier != 1 || t.channel_count == 0 {
        return depthwise(t, out);
    }
    let taps = t.filter_size[0] * t.filter_size[1];
    // The weights of a channel run live in `[W; P]`: as few pairs as the
    // filter needs (3x3: 5), since the array is written out per run.
    match taps.div_ceil(2) {
        0 => {}
        1..=5 => chunks::<X, K, 5>(k, t, 0..taps, out),
        6..=8 => chunks::<X, K, 8>(k, t, 0..taps, out),
        _ => {
            for first in (0..taps).step_by(2 * PAIRS) {
                chunks::<X, K, PAIRS>(k, t, first..taps.min(first + 2 * PAIRS), out);
            }
        }
    }
}

/// The input offset of each of `taps` (`None`: in the padding) for the
/// tile's pixel `i`.
#[inline(always)]
fn tap_offsets<X: Activation>(
    t: &DepthwiseTile<'_, X>,
    i: usize,
    taps: &core::ops::Range<usize>,
    offsets: &mut [Option<usize>; 2 * PAIRS],
) {
    let fw = t.filter_size[1];
    let (mut ky, mut kx) = (taps.start / fw, taps.start % fw);
    for o in offsets.iter_mut().take(taps.len()) {
        *o = t.tap(i, ky, kx);
        kx += 1;
        if kx == fw {
            (ky, kx) = (ky + 1, 0);
        }
    }
}

/// Taps `taps` (at most `2 · P`, `P <= PAIRS`) of the tile, added into
/// `out`, one run of `LEN` channels after the other.
#[inline(always)]
fn chunks<X: Activation, K: DepthwiseMac<X>, const P: usize>(
    k: K,
    t: &DepthwiseTile<'_, X>,
    taps: core::ops::Range<usize>,
    out: &mut [X::Acc],
) {
    let len = <K::Block as Block<X>>::LEN;
    let n = t.channel_count;
    let [in_h, in_w, in_c] = t.input_size;
    let fw = t.filter_size[1];
    let pairs = taps.len().div_ceil(2);
    let pad: K::Block = Block::padded(&[t.pad_value; MAX_LEN][..len.min(MAX_LEN)]);

    // Where the window of pixel `i` lies inside the image, tap `j` (of
    // this pass) reads `relative[j]` past the window's first input pixel.
    let mut relative = [0usize; 2 * PAIRS];
    for (r, tap) in relative.iter_mut().zip(taps.clone()) {
        let (ky, kx) = (tap / fw, tap % fw);
        *r = (ky * t.dilation[0] * in_w + kx * t.dilation[1]) * in_c;
    }
    // The rows of the window lie inside the image for the whole tile.
    let y0 = (t.origin[0] * t.stride[0]).checked_sub(t.padding[0]);
    let fh_reach = (t.filter_size[0] - 1) * t.dilation[0];
    let rows_inside = y0.is_some_and(|y| y + fh_reach < in_h);
    let fw_reach = (fw - 1) * t.dilation[1];
    // The window's first input pixel when pixel `i` is interior.
    let interior = |i: usize| -> Option<usize> {
        let x0 = ((t.origin[1] + i) * t.stride[1]).checked_sub(t.padding[1])?;
        (rows_inside && x0 + fw_reach < in_w).then(|| (y0.unwrap_or(0) * in_w + x0) * in_c)
    };

    let geometry = Chunks {
        taps,
        pairs,
        relative,
        pad,
        interior: &interior,
    };
    let mut c = 0;
    while c < n {
        let lanes = len.min(n - c);
        chunk::<X, K, P>(k, t, &geometry, c, lanes, out);
        c += len;
    }
}

/// What every channel run of a pass shares.
struct Chunks<'a, B, F> {
    /// The taps of this pass.
    taps: core::ops::Range<usize>,
    /// `taps.len()` rounded up to pairs.
    pairs: usize,
    /// Offset of each tap past an interior window's first input pixel.
    relative: [usize; 2 * PAIRS],
    /// The padding value in every lane.
    pad: B,
    /// The offset of pixel `i`'s window if it lies inside the image.
    interior: &'a F,
}

/// `LEN` values from `s[at..]` of which the first `lanes` matter: a whole
/// block where `s` holds one (the lanes past `lanes` then hold the next
/// channels or pixels, whose sums are never stored), else, at the end of
/// the image or the weights, the `lanes` values then zeros.
#[inline(always)]
fn load<T: Copy, B: Block<T>>(s: &[T], at: usize, lanes: usize) -> B {
    match s.get(at..at + B::LEN) {
        Some(whole) => B::split(whole).0[0],
        None => B::padded(&s[at..at + lanes]),
    }
}

/// Channels `c .. c + lanes` of the tile's output channels, every pixel.
#[inline(always)]
fn chunk<X: Activation, K: DepthwiseMac<X>, const P: usize>(
    k: K,
    t: &DepthwiseTile<'_, X>,
    g: &Chunks<'_, K::Block, impl Fn(usize) -> Option<usize>>,
    c: usize,
    lanes: usize,
    out: &mut [X::Acc],
) {
    let (o0, n, in_c) = (t.channel_start, t.channel_count, t.input_size[2]);
    let zero: K::WBlock = Block::padded(&[]);
    let mut w = [k.weights(&zero, &zero); P];
    for (p, wp) in w.iter_mut().enumerate().take(g.pairs) {
        let tap = g.taps.start + 2 * p;
        let w0 = load::<i8, K::WBlock>(t.weights, tap * in_c + o0 + c, lanes);
        let w1 = if tap + 1 < g.taps.end {
            load::<i8, K::WBlock>(t.weights, (tap + 1) * in_c + o0 + c, lanes)
        } else {
            zero
        };
        *wp = k.weights(&w0, &w1);
    }
    let mut offsets = [None; 2 * PAIRS];
    for i in 0..t.pixels {
        let mut acc = k.zero();
        if let Some(base) = (g.interior)(i) {
            let at = base + o0 + c;
            for (p, &wp) in w.iter().enumerate().take(g.pairs) {
                let x0 = load::<X, K::Block>(t.input, at + g.relative[2 * p], lanes);
                let x1 = load::<X, K::Block>(t.input, at + g.relative[2 * p + 1], lanes);
                acc = k.mac(acc, &x0, &x1, wp);
            }
        } else {
            tap_offsets(t, i, &g.taps, &mut offsets);
            let x = |j: usize| match offsets[j] {
                Some(p) => load::<X, K::Block>(t.input, p + o0 + c, lanes),
                None => g.pad,
            };
            for (p, &wp) in w.iter().enumerate().take(g.pairs) {
                acc = k.mac(acc, &x(2 * p), &x(2 * p + 1), wp);
            }
        }
        k.add_to(acc, &mut out[i * n + c..][..lanes]);
    }
}
