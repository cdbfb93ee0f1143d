//! The 16x8 kernels (int16 activations × int8 weights, exact `i64` sums),
//! written once over [`Mac16`]: the dot, and the GEMV in passes of `R`
//! weight rows that share every loaded (and prepared) activation block.
//!
//! An instruction set multiplies into i32 lanes (`vpmaddwd`, `SMLAD`), which
//! cannot hold a whole row's sum: the drivers run the lanes for at most
//! [`I32_PRODUCTS`] products each, then widen them into `i64` lanes. The
//! bound:
//!
//! * a product `x·w` has `|x| <= 2^15` and `|w| <= 2^7`, so `|x·w| <=
//!   2^22`, equality only for `-32768 · -128 = +2^22`;
//! * an i32 lane that gained at most `m` products holds a sum `s` with
//!   `|s| <= m·2^22`; every partial sum on the way is such a sum too (the
//!   lane adds products and pair sums of products), so nothing wraps while
//!   `m·2^22 <= i32::MAX = 2^31 - 1`, i.e. `m <= 511` (`511·2^22 = 2^31 -
//!   2^22`; 512 products of `2^22` are `2^31`, one past `i32::MAX`);
//! * a `mac` adds at most `LANE_PRODUCTS` products to each lane, so a run of
//!   `I32_PRODUCTS / LANE_PRODUCTS` steps from zero is exact, and is then
//!   sign-extended into the `i64` lanes exactly. The `i64` total of a row of
//!   `n` columns is at most `n·2^22`, exact for any `n < 2^41`.

use super::Block;

/// The most products of `-32768 · -128 = 2^22` an i32 holds (see the
/// module documentation): `511·2^22 = 2^31 - 2^22 <= i32::MAX`.
pub(crate) const I32_PRODUCTS: usize = 511;

/// What an instruction set supplies to the 16x8 kernels: one
/// multiply-accumulate step into i32 lanes and their widening into i64.
pub(crate) trait Mac16: Copy {
    /// Activations of one step, `[i16; N]`.
    type XBlock: Block<i16>;
    /// The weights of the same step, `[i8; N]`.
    type WBlock: Block<i8>;
    /// An activation block loaded and prepared, shared by the `R` rows of a
    /// pass.
    type X: Copy;
    /// A weight block loaded and prepared (sign-extended).
    type W: Copy;
    /// i32 lanes of one row's partial sums.
    type Acc: Copy;
    /// i64 lanes of one row's sum.
    type Wide: Copy;

    /// The most products one i32 lane of `Acc` gains in one [`Mac16::mac`].
    const LANE_PRODUCTS: usize;

    /// i32 lanes holding 0.
    fn zero(self) -> Self::Acc;
    /// i64 lanes holding 0.
    fn zero_wide(self) -> Self::Wide;
    /// Loads and prepares activations.
    fn x(self, b: &Self::XBlock) -> Self::X;
    /// Loads and prepares weights.
    fn w(self, b: &Self::WBlock) -> Self::W;
    /// `acc + Σ x·w` over one block, in i32 lanes.
    fn mac(self, acc: Self::Acc, x: Self::X, w: Self::W) -> Self::Acc;
    /// `wide + acc`, each i32 lane sign-extended (exact).
    fn widen(self, wide: Self::Wide, acc: Self::Acc) -> Self::Wide;
    /// The total of the i64 lanes.
    fn sum(self, wide: Self::Wide) -> i64;

    /// Activations of a partial block, the rest zero. An ISA with masked or
    /// predicated loads overrides this.
    #[inline(always)]
    fn x_part(self, s: &[i16]) -> Self::X {
        self.x(&Block::padded(s))
    }

    /// Weights of a partial block, the rest zero (they meet zero
    /// activations).
    #[inline(always)]
    fn w_part(self, s: &[i8]) -> Self::W {
        self.w(&Block::padded(s))
    }
}

/// `Σ_k w[r][k]·x[k]` exactly for the `R` rows `w` (each at least
/// `x.len()` long): whole blocks in runs of at most `I32_PRODUCTS /
/// LANE_PRODUCTS` steps, each run widened into `i64`, then a zero-padded
/// tail.
#[inline(always)]
pub(crate) fn rows<K: Mac16, const R: usize>(k: K, w: [&[i8]; R], x: &[i16]) -> [i64; R] {
    // The bound of the module documentation: no i32 lane gains more than
    // `I32_PRODUCTS` products between two widenings.
    const { assert!(K::LANE_PRODUCTS >= 1 && K::LANE_PRODUCTS <= I32_PRODUCTS) };
    let run = I32_PRODUCTS / K::LANE_PRODUCTS;
    let (xb, x_tail) = K::XBlock::split(x);
    let n = xb.len();
    let mut wb = [&[][..]; R];
    for r in 0..R {
        wb[r] = &K::WBlock::split(w[r]).0[..n];
    }
    let mut wide = [k.zero_wide(); R];
    let mut i = 0;
    while i < n {
        let end = n.min(i + run);
        let mut acc = [k.zero(); R];
        for j in i..end {
            let xv = k.x(&xb[j]);
            for r in 0..R {
                acc[r] = k.mac(acc[r], xv, k.w(&wb[r][j]));
            }
        }
        for r in 0..R {
            wide[r] = k.widen(wide[r], acc[r]);
        }
        i = end;
    }
    if !x_tail.is_empty() {
        let xv = k.x_part(x_tail);
        let done = n * <K::XBlock as Block<i16>>::LEN;
        for r in 0..R {
            let acc = k.mac(k.zero(), xv, k.w_part(&w[r][done..x.len()]));
            wide[r] = k.widen(wide[r], acc);
        }
    }
    let mut out = [0i64; R];
    for r in 0..R {
        out[r] = k.sum(wide[r]);
    }
    out
}

/// `Σ x·w` exactly (`w` at least `x.len()` long).
#[inline(always)]
pub(crate) fn dot<K: Mac16>(k: K, x: &[i16], w: &[i8]) -> i64 {
    let [s] = rows::<K, 1>(k, [w], x);
    s
}

/// GEMV: `out[r] = Σ_k w[r][k]·x[k]`, `w` holding `out.len()` rows of
/// `x.len()`: passes of `R` rows, the remaining rows one at a time.
#[inline(always)]
pub(crate) fn gemv<K: Mac16, const R: usize>(k: K, w: &[i8], x: &[i16], out: &mut [i64]) {
    let cols = x.len();
    if cols == 0 {
        out.fill(0);
        return;
    }
    let mut passes = out.chunks_exact_mut(R);
    let mut r0 = 0;
    for o in &mut passes {
        let mut tile = [&w[..0]; R];
        for (i, t) in tile.iter_mut().enumerate() {
            *t = &w[(r0 + i) * cols..(r0 + i + 1) * cols];
        }
        o.copy_from_slice(&rows::<K, R>(k, tile, x));
        r0 += R;
    }
    for o in passes.into_remainder() {
        *o = dot(k, x, &w[r0 * cols..(r0 + 1) * cols]);
        r0 += 1;
    }
}
