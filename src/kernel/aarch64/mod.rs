//! AArch64: NEON (the baseline) and NEON with `SDOT` (`dotprod`), one file
//! each supplying its `Mac` and its `isa_table!`; the algorithms are the
//! shared drivers.
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
