//! 32-bit Arm (Cortex-M): one file per instruction set, chosen when the
//! firmware is built (a microcontroller has no run-time detection; the
//! target and `-C target-cpu` name the core).
//!
//! * `dsp.rs`: the DSP extension (`cfg(target_feature = "dsp")`:
//!   Cortex-M4/M7/M33/M35P/M55/M85), `SXTB16` + `SMLAD`.
//! * `mve.rs`: Helium (`cfg(arm_mve)`, set by qkit's build script when the
//!   rustflags name `target-cpu=cortex-m55`/`cortex-m85` or `+mve`: rustc
//!   has no `mve` target feature), `VMLADAVA.S8` with tail predication.
//!
//! Cortex-M0/M0+/M23 (`thumbv6m`, `thumbv8m.base`) run the portable kernels.
//! With `unsafe` in the C ABI and the other architecture folders, this is
//! one of the only places in qkit where `unsafe` is allowed.
#![allow(unsafe_code)]

use super::Isa;
use super::dispatch::Kernels;

#[cfg(target_feature = "dsp")]
mod dsp;
#[cfg(arm_mve)]
mod mve;

/// The kernels of a 32-bit Arm instruction set, `None` if this build does
/// not have it.
#[inline]
pub(crate) fn kernels(isa: Isa) -> Option<&'static Kernels> {
    match isa {
        #[cfg(target_feature = "dsp")]
        Isa::Dsp => Some(&dsp::KERNELS),
        #[cfg(arm_mve)]
        Isa::Mve => Some(&mve::KERNELS),
        _ => None,
    }
}

/// The best kernels of this build: Helium, else DSP, else the portable ones.
#[inline]
pub(crate) fn best() -> &'static Kernels {
    #[cfg(arm_mve)]
    {
        &mve::KERNELS
    }
    #[cfg(all(not(arm_mve), target_feature = "dsp"))]
    {
        &dsp::KERNELS
    }
    #[cfg(not(any(arm_mve, target_feature = "dsp")))]
    {
        &super::dispatch::GENERIC
    }
}
