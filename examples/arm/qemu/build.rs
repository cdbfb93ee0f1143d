//! Puts the board's memory map (`memory.x`, read by cortex-m-rt's `link.x`)
//! on the linker's search path: MPS2-AN386 (Cortex-M4) and MPS2-AN500
//! (Cortex-M7) have 4 MiB of code memory at 0 and 4 MiB of SRAM at
//! 0x2000_0000; MPS3-AN547 (Cortex-M55) 512 KiB of ITCM at 0 and 512 KiB of
//! DTCM at 0x2000_0000.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let target = env::var("TARGET").unwrap();
    let (flash, ram) = if target.starts_with("thumbv8m") {
        ("512K", "512K")
    } else {
        ("4M", "4M")
    };
    let memory = format!(
        "MEMORY\n{{\n  FLASH : ORIGIN = 0x00000000, LENGTH = {flash}\n  RAM : ORIGIN = 0x20000000, LENGTH = {ram}\n}}\n"
    );
    fs::write(out.join("memory.x"), memory).unwrap();
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=build.rs");
}
