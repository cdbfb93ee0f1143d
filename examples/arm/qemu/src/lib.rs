//! What the two firmware binaries share: semihosting exit, a panic handler
//! that fails the run, a seeded RNG, a check counter and the SysTick clock.
#![no_std]

use core::ptr::{read_volatile, write_volatile};
use cortex_m_semihosting::{debug, hprintln};

pub mod golden;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("PANIC: {}", info);
    exit(false)
}

/// Ends the QEMU run: exit status 0 if `ok`, 1 otherwise.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    #[allow(clippy::empty_loop)]
    loop {}
}

/// The core this binary was built for (from the target and `arm_mve`).
pub const CORE: &str = if arm_proto::MVE {
    "cortex-m55 (Helium)"
} else if cfg!(target_feature = "dsp") {
    "cortex-m4/m7 (DSP)"
} else {
    "cortex-m (no DSP)"
};

pub use arm_proto::testing::Rng;

/// Counts checks; prints the first failures.
#[derive(Default)]
pub struct Checks {
    /// checks that held
    pub passed: u32,
    /// checks that did not
    pub failed: u32,
}

impl Checks {
    /// Records one check; `what` is printed when it fails.
    pub fn check(&mut self, ok: bool, what: core::fmt::Arguments<'_>) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            if self.failed <= 20 {
                hprintln!("FAIL {}", what);
            }
        }
    }

    /// Prints the closing `N passed, N failed` line and exits with the result.
    pub fn finish(&self, name: &str) -> ! {
        hprintln!("{}: {} passed, {} failed", name, self.passed, self.failed);
        exit(self.failed == 0 && self.passed > 0)
    }
}

const SYST_CSR: *mut u32 = 0xE000_E010 as *mut u32;
const SYST_RVR: *mut u32 = 0xE000_E014 as *mut u32;
const SYST_CVR: *mut u32 = 0xE000_E018 as *mut u32;

/// Starts SysTick counting down from 2^24 - 1 on the processor clock
/// (CLKSOURCE = 1), no interrupt.
pub fn systick_start() {
    // SAFETY: the SysTick registers of every ARMv7-M / ARMv8-M core.
    unsafe {
        write_volatile(SYST_CSR, 0);
        write_volatile(SYST_RVR, 0x00FF_FFFF);
        write_volatile(SYST_CVR, 0);
        write_volatile(SYST_CSR, 0b101);
    }
}

/// The current SysTick value.
#[inline(always)]
pub fn systick() -> u32 {
    // SAFETY: reading SYST_CVR has no side effect.
    unsafe { read_volatile(SYST_CVR) }
}
