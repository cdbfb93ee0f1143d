//! The algorithms written once, and what an instruction set supplies to
//! them: a block of elements it loads at once ([`Block`]), the accumulator
//! lanes with their horizontal sum ([`Lanes`]), one multiply-accumulate
//! step ([`Mac`]), and its table of entries ([`isa_table!`]). Everything
//! else (the loops over rows, columns and batches, heads and tails, the bias
//! correction) is written once over these traits, in `dot.rs` (one row) and
//! `gemm.rs` (tiles).
//!
//! The implementations live in the ISA files (`x86/{sse2,avx2,avx512}.rs`;
//! next `arm/{dsp,mve}.rs` and `aarch64/neon.rs`). Their methods are
//! `#[inline(always)]` and the algorithms are instantiated inside each ISA's
//! `#[target_feature]` entry functions, so the compiler emits that ISA's
//! instructions in one loop with no call per block.
//!
//! The rule that makes this work, for the algorithms too: every function
//! between the entry and an intrinsic is `#[inline(always)]`, and no
//! intrinsic is reached through a closure handed to a library adaptor
//! (`array::map`, `Iterator::fold`, ...). Such a closure may be compiled out
//! of line, without the entry's target features, and then every intrinsic
//! in it becomes a function call. The algorithms use plain loops.
//!
//! How each known and coming ISA fills them in is listed in `kernel/mod.rs`.
//!
//! int4 kernels use the same traits with `Elem = u8` (two weights per byte)
//! and `W_BIAS = 8` (a nibble `n ^ 8 = w + 8` is a small unsigned number).

pub(crate) mod depthwise;
pub(crate) mod dot;
pub(crate) mod gemm;
pub(crate) mod wide;

/// A run of `LEN` elements a kernel loads at once: `[T; N]`.
pub(crate) trait Block<T>: Copy {
    /// Elements in a block.
    const LEN: usize;
    /// `s` as whole blocks plus the rest (fewer than `LEN` elements).
    fn split(s: &[T]) -> (&[Self], &[T]);
    /// A block holding `s` (at most `LEN` elements) then zeros.
    fn padded(s: &[T]) -> Self;
}

impl<T: Copy + Default, const N: usize> Block<T> for [T; N] {
    const LEN: usize = N;

    #[inline(always)]
    fn split(s: &[T]) -> (&[Self], &[T]) {
        s.as_chunks()
    }

    #[inline(always)]
    fn padded(s: &[T]) -> Self {
        let mut b = [T::default(); N];
        b[..s.len()].copy_from_slice(s);
        b
    }
}

/// The accumulator registers of one output and how to finish them.
pub(crate) trait Lanes: Copy {
    /// One output's accumulator (a vector of i32 lanes, or a scalar).
    type Acc: Copy;
    /// An accumulator holding 0.
    fn zero(self) -> Self::Acc;
    /// Lane-wise wrapping sum of two accumulators.
    fn add(self, a: Self::Acc, b: Self::Acc) -> Self::Acc;
    /// The total over all lanes (wrapping).
    fn sum(self, a: Self::Acc) -> i32;
    /// Four totals at once (an ISA may share the shuffles).
    #[inline(always)]
    fn sum4(self, a: [Self::Acc; 4]) -> [i32; 4] {
        [
            self.sum(a[0]),
            self.sum(a[1]),
            self.sum(a[2]),
            self.sum(a[3]),
        ]
    }
}

/// The accumulator type of a [`Mac`].
pub(crate) type Acc<K> = <<K as Mac>::Lanes as Lanes>::Acc;

/// One multiply-accumulate step of an int8-activation kernel: a block of
/// activations against the block of weights it meets.
///
/// The step may compute `Σ (w + W_BIAS)·x` instead of `Σ w·x` (x86 VNNI
/// needs an unsigned operand); the drivers subtract `W_BIAS·Σx` once per
/// activation row, exactly in wrapping i32.
pub(crate) trait Mac: Copy {
    /// The accumulator side.
    type Lanes: Lanes;
    /// Weight storage: `i8`, or `u8` holding two int4 weights.
    type Elem: Copy + Default;
    /// Activations of one step, `[i8; N]`.
    type XBlock: Block<i8>;
    /// The weights of the same step (`[i8; N]`, or `[u8; N / 2]` for int4).
    type WBlock: Block<Self::Elem>;
    /// An activation block loaded and prepared; shared by every weight row
    /// of a tile.
    type X: Copy;
    /// A weight block loaded and prepared; shared by every activation row.
    type W: Copy;

    /// See the trait documentation.
    const W_BIAS: i32 = 0;
    /// Weight loads are worth starting on this many bytes (1: never): the
    /// drivers then peel a head so the first row of each tile is aligned.
    /// Only for layouts where a weight element meets activations in order.
    const ALIGN: usize = 1;

    /// The accumulator side of this kernel.
    fn lanes(self) -> Self::Lanes;
    /// Loads and prepares activations.
    fn x(self, b: &Self::XBlock) -> Self::X;
    /// Loads and prepares weights.
    fn w(self, b: &Self::WBlock) -> Self::W;
    /// `acc + Σ (w + W_BIAS)·x` over one block.
    fn mac(self, acc: Acc<Self>, x: Self::X, w: Self::W) -> Acc<Self>;

    /// Activations of a partial block (`s` shorter than a block), the rest
    /// zero. An ISA with masked or predicated loads overrides this.
    #[inline(always)]
    fn x_part(self, s: &[i8]) -> Self::X {
        self.x(&Block::padded(s))
    }

    /// Weights of a partial block, the rest zero (they meet zero
    /// activations, so any value would do).
    #[inline(always)]
    fn w_part(self, s: &[Self::Elem]) -> Self::W {
        self.w(&Block::padded(s))
    }
}

/// Activations per weight element: 1 for int8, 2 for packed int4.
#[inline(always)]
pub(crate) fn x_per_elem<K: Mac>() -> usize {
    <K::XBlock as Block<i8>>::LEN / <K::WBlock as Block<K::Elem>>::LEN
}

/// Builds the `static KERNELS` of an ISA file: each listed entry becomes a
/// `#[target_feature(enable = $features)]` function (where the algorithms
/// are instantiated, so the compiler emits that ISA's instructions) behind a
/// safe pointer; every other entry is `$base`'s: `GENERIC`, or the table of
/// an instruction set this one implies (AVX-512 VNNI extends AVX2).
///
/// Expand it only in an ISA file whose `kernels()` returns `KERNELS` after
/// detecting `$features`, and let other files read `KERNELS` only as the
/// `$base` of an ISA that implies these features: that is what makes the
/// calls inside sound.
macro_rules! isa_table {
    ($isa:expr, $features:literal, $base:path, {
        $($entry:ident: |$($arg:ident: $ty:ty),*| $(-> $ret:ty)? $body:block)*
    }) => {
        // Tables that list every entry leave `..$base` nothing to fill.
        #[allow(clippy::needless_update)]
        pub(super) static KERNELS: $crate::kernel::dispatch::Kernels =
            $crate::kernel::dispatch::Kernels {
                isa: $isa,
                $($entry: {
                    #[target_feature(enable = $features)]
                    fn $entry($($arg: $ty),*) $(-> $ret)? $body
                    |$($arg: $ty),*| $(-> $ret)? {
                        // SAFETY: `KERNELS` is reached only through this
                        // module's `kernels()`, after `$features` were
                        // detected, or as the base of a table whose features
                        // imply them.
                        unsafe { $entry($($arg),*) }
                    }
                },)*
                ..$base
            };
    };
}
pub(crate) use isa_table;
