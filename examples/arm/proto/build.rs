//! `cfg(arm_mve)`: Helium (MVE) is enabled for this build.
//!
//! rustc 1.96 has no `mve` target feature: `cfg(target_feature = "mve")` is
//! never set, even with `-C target-cpu=cortex-m55` (which does enable MVE in
//! LLVM; rustc then reports `neon` and `d32`, which an M-profile core does
//! not have). So the CPU named in the rustflags decides.
use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(arm_mve)");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let mve = flags.split('\x1f').any(|f| {
        ["target-cpu=cortex-m55", "target-cpu=cortex-m85", "+mve"]
            .iter()
            .any(|p| f.contains(p))
    });
    if arch == "arm" && mve {
        println!("cargo::rustc-cfg=arm_mve");
    }
}
