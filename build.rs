//! Sets `cfg(arm_mve)` when the build targets a Cortex-M with Helium (MVE).
//!
//! rustc has no `mve` target feature: `cfg(target_feature = "mve")` is never
//! set, even with `-C target-cpu=cortex-m55`, which does enable MVE in LLVM
//! (rustc then reports `neon` and `d32`, which an M-profile core does not
//! have). So the CPU named in the rustflags decides: `target-cpu=cortex-m55`
//! or `cortex-m85`, or `-C target-feature=+mve` / `+mve.fp`.

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(arm_mve)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    // `-C target-cpu=cortex-m55` arrives as `-C` then `target-cpu=...`, or
    // as one `-Ctarget-cpu=...`.
    let mve = flags.split('\x1f').any(|f| {
        let f = f.trim_start_matches("-C");
        f == "target-cpu=cortex-m55"
            || f == "target-cpu=cortex-m85"
            || (f.starts_with("target-feature=") && f.split(',').any(|t| t.starts_with("+mve")))
    });
    if arch == "arm" && mve {
        println!("cargo::rustc-cfg=arm_mve");
    }
}
