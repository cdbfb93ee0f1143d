//! AArch64: NEON (the baseline) and NEON with `SDOT` (`dotprod`), one file
//! each with its `isa_table!`. `neon.rs` holds the one int8-activation
//! `Mac` (`Mac32`: how a step loads, int8 or packed int4 weights, times a
//! 16-byte multiply) and NEON's multiplies; `dotprod.rs` supplies only
//! `SDOT` as that multiply (and its GEMV loop). The algorithms are the
//! shared drivers.
//!
//! The output stage's lanes (`requant.rs`) are NEON's, listed in the `Neon`
//! table and so inherited by `NeonDotprod`.
//!
//! `dotprod` is chosen at run time with the `std` feature (std's
//! `is_aarch64_feature_detected!`, which caches its answer; with the x86
//! detector the only feature detection in qkit), and by
//! `cfg(target_feature = "dotprod")` without it (`-C target-cpu=...` or
//! `-C target-feature=+dotprod`).
#![allow(unsafe_code)]

use super::Isa;
use super::dispatch::Kernels;

mod dotprod;
mod neon;
mod requant;

/// Whether the running CPU has `SDOT`.
#[inline]
fn has_dotprod() -> bool {
    #[cfg(target_feature = "dotprod")]
    {
        true
    }
    #[cfg(all(not(target_feature = "dotprod"), feature = "std"))]
    {
        std::arch::is_aarch64_feature_detected!("dotprod")
    }
    #[cfg(all(not(target_feature = "dotprod"), not(feature = "std")))]
    {
        false
    }
}

/// The kernels of an AArch64 instruction set, `None` if it cannot run here.
#[inline]
pub(crate) fn kernels(isa: Isa) -> Option<&'static Kernels> {
    match isa {
        Isa::Neon => Some(neon::kernels()),
        Isa::NeonDotprod if has_dotprod() => Some(&dotprod::KERNELS),
        _ => None,
    }
}

/// The best kernels of the running CPU.
#[inline]
pub(crate) fn best() -> &'static Kernels {
    if has_dotprod() {
        &dotprod::KERNELS
    } else {
        neon::kernels()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::dispatch::GENERIC;
    use core::ptr::fn_addr_eq;

    /// Both AArch64 tables (the `dotprod` one where it runs) and the
    /// resolved one list a SIMD output stage for every output type and SIMD
    /// int4 kernels, not the portable ones: the sweeps that hold it equal to the portable code
    /// would otherwise pass on the portable code itself. (Only inequality:
    /// one function's address may differ between codegen units.)
    #[test]
    fn the_tables_list_neon_entries() {
        let tables = [kernels(Isa::Neon), kernels(Isa::NeonDotprod), Some(best())];
        for k in tables.into_iter().flatten() {
            assert!(!fn_addr_eq(k.requantize_i8, GENERIC.requantize_i8));
            assert!(!fn_addr_eq(k.requantize_u8, GENERIC.requantize_u8));
            assert!(!fn_addr_eq(k.requantize_i16, GENERIC.requantize_i16));
            assert!(!fn_addr_eq(k.dot_i4_i8, GENERIC.dot_i4_i8));
            assert!(!fn_addr_eq(k.gemv_i4_i8, GENERIC.gemv_i4_i8));
        }
    }
}
