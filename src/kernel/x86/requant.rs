//! The output stage's x86_64 lanes: [`avx2`] (8 lanes) and [`avx512`]
//! (16 lanes, AVX-512F), each a zero-sized proof of its instruction set
//! implementing [`Lanes`](crate::kernel::output_stage::Lanes), and the
//! entry points the dispatch stores. The algorithm itself is
//! `kernel/output_stage/driver.rs`; these files only supply lane operations.
//!
//! Both are bit-identical to the portable path for every input the API
//! accepts (Q31 multipliers `>= 0` with `-31 <= shift <= 30`, finite scales
//! `>= 0`, clamp bounds inside `i16`).

mod avx2;
mod avx512;

use crate::kernel::output_stage::Entries;

/// The AVX2 entry points, if the CPU has AVX2 (cached detection, with or
/// without `std`).
#[inline]
pub(crate) fn avx2() -> Option<Entries> {
    super::has_avx2().then_some(avx2::ENTRIES)
}

/// The AVX-512 entry points, if the CPU has AVX-512 (F, BW, VNNI: the same
/// cached detection as the VNNI kernels).
#[inline]
pub(crate) fn avx512() -> Option<Entries> {
    super::has_avx512vnni().then_some(avx512::ENTRIES)
}
