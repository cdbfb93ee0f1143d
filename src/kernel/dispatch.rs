//! One dispatch: each instruction set's kernels gathered in a table of
//! function pointers; the best table for this CPU is resolved once and
//! cached (`x86/mod.rs` keeps the cache), and [`Isa::kernels`] hands out the
//! table of one instruction set on purpose.
//!
//! Adding an instruction set touches nothing here but the match in
//! [`Isa::kernels`] (and `best` for a new architecture): its file fills in
//! its own table with `simd::isa_table!`, listing only the entries it
//! speeds up; the others are its base's: [`GENERIC`], or the table of an
//! instruction set it implies.

use super::depthwise::{self, DepthwiseTile};
use super::fully_connected::{FcEntry, gemv_then_requantize};
use super::output_stage::{Entry, run_scalar};
use super::{Isa, generic, prepared};

/// The entry points of one instruction set. The public functions in
/// `kernel/mod.rs` validate every shape first, so an entry may assume
/// consistent lengths (it never reads out of bounds on others: it panics or
/// computes garbage, never undefined behaviour). (`pub` only so that the
/// sealed `RequantOutput` trait may name it; the module is private.)
pub struct Kernels {
    /// The instruction set these entries run on.
    pub(crate) isa: Isa,
    /// `Σ a·b`, any int8 inputs.
    pub(crate) dot_i8: fn(&[i8], &[i8]) -> i32,
    /// `Σ x·w`, `w` (the second operand) in `[-127, 127]`.
    pub(crate) dot_i8_narrow: fn(&[i8], &[i8]) -> i32,
    /// `Σ w·x`, `w` packed int4 from the first nibble.
    pub(crate) dot_i4_i8: fn(&[u8], &[i8]) -> i32,
    /// `(w, x, cols, out)`: GEMM of `w` `[rows][cols]` against `x`
    /// `[batch][cols]` into `out` `[batch][rows]`; a GEMV when `batch == 1`.
    pub(crate) gemm_i8: fn(&[i8], &[i8], usize, &mut [i32]),
    /// As `gemm_i8`, `w` in `[-127, 127]`.
    pub(crate) gemm_i8_narrow: fn(&[i8], &[i8], usize, &mut [i32]),
    /// `(packed, x, out)`: GEMV over packed int4 `[out.len()][x.len()]`.
    pub(crate) gemv_i4_i8: fn(&[u8], &[i8], &mut [i32]),
    /// `(bytes, row_bytes, x, out)`: GEMV over `PreparedI4` rows.
    pub(crate) gemv_i4_prepared: fn(&[u8], usize, &[i8], &mut [i32]),
    /// `(x, w)`: `Σ x·w`, int16 activations, int8 weights, exact in `i64`.
    pub(crate) dot_i16_i8: fn(&[i16], &[i8]) -> i64,
    /// `(w, x, out)`: 16x8 GEMV over `w` `[out.len()][x.len()]`, exact in
    /// `i64`.
    pub(crate) gemv_i16_i8: fn(&[i8], &[i16], &mut [i64]),
    /// `(w, cols, out)`: `out[r] = Σ_k w[r][k]`, int8.
    pub(crate) row_sums_i8: fn(&[i8], usize, &mut [i32]),
    /// `(packed, cols, out)`: the same over packed int4.
    pub(crate) row_sums_i4: fn(&[u8], usize, &mut [i32]),
    /// `(tile, out)`: adds a depthwise convolution tile's sums into `out`.
    pub(crate) depthwise_i8: fn(&DepthwiseTile<'_, i8>, &mut [i32]),
    /// The same for int16 activations (exact `i64` sums).
    pub(crate) depthwise_i16: fn(&DepthwiseTile<'_, i16>, &mut [i64]),
    /// The output stage (bias, requantization, clamp) of a job into `i8`.
    pub(crate) requantize_i8: Entry<i8>,
    /// The same into `u8`.
    pub(crate) requantize_u8: Entry<u8>,
    /// The same into `i16`.
    pub(crate) requantize_i16: Entry<i16>,
    /// An int8 fully-connected tile: GEMV, then the `i8` output stage of
    /// its rows (`fully_connected.rs`; fused where the ISA keeps the
    /// accumulators in registers).
    pub(crate) fully_connected_i8: FcEntry,
}

/// The portable kernels (`generic.rs`, the specification), and the default
/// of every entry an instruction set does not speed up.
pub(crate) const GENERIC: Kernels = Kernels {
    isa: Isa::Generic,
    dot_i8: generic::dot_i8,
    dot_i8_narrow: generic::dot_i8,
    dot_i4_i8: generic::dot_i4_i8,
    gemm_i8: generic::gemm_i8,
    gemm_i8_narrow: generic::gemm_i8,
    gemv_i4_i8: generic::gemv_i4_i8,
    gemv_i4_prepared: prepared::gemv_prepared,
    dot_i16_i8: generic::dot_i16_i8,
    gemv_i16_i8: generic::gemv_i16_i8,
    row_sums_i8: generic::row_sums_i8,
    row_sums_i4: generic::row_sums_i4,
    depthwise_i8: depthwise::depthwise::<i8>,
    depthwise_i16: depthwise::depthwise::<i16>,
    requantize_i8: run_scalar::<i8>,
    requantize_u8: run_scalar::<u8>,
    requantize_i16: run_scalar::<i16>,
    fully_connected_i8: gemv_then_requantize,
};

/// The best kernels for the running CPU, resolved once.
#[inline]
pub(crate) fn best() -> &'static Kernels {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        super::x86::best()
    }
    #[cfg(target_arch = "arm")]
    {
        super::arm::best()
    }
    #[cfg(target_arch = "aarch64")]
    {
        super::aarch64::best()
    }
    #[cfg(not(any(
        all(target_arch = "x86_64", target_feature = "sse2"),
        target_arch = "arm",
        target_arch = "aarch64"
    )))]
    {
        &GENERIC
    }
}

impl Isa {
    /// The kernels of this instruction set, `None` if it cannot run here.
    #[inline]
    pub(crate) fn kernels(self) -> Option<&'static Kernels> {
        match self {
            Isa::Generic => Some(&GENERIC),
            #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
            isa => super::x86::kernels(isa),
            #[cfg(target_arch = "arm")]
            isa => super::arm::kernels(isa),
            #[cfg(target_arch = "aarch64")]
            isa => super::aarch64::kernels(isa),
            #[cfg(not(any(
                all(target_arch = "x86_64", target_feature = "sse2"),
                target_arch = "arm",
                target_arch = "aarch64"
            )))]
            _ => None,
        }
    }
}
