//! A firmware-style consumer of qkit: `#![no_std]`, `#![no_main]`,
//! `panic = "abort"`, no allocator. It is built for the host (x86_64 Linux,
//! the only target installed here) and linked against libc only for `_start`
//! and `memcpy`; nothing from Rust's `std` is linked in. Its exit status says
//! whether qkit computed the expected integers.
#![no_std]
#![no_main]

use core::panic::PanicInfo;

use qkit::Q15;

// The C runtime provides `_start` (which calls `main`) and mem* functions.
#[link(name = "c")]
unsafe extern "C" {}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {}
}

fn check() -> bool {
    let half = Q15::from_bits(1 << 14);
    half.to_bits() == 16384
}

/// Entry point called by the C runtime's `_start`.
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    if check() { 0 } else { 1 }
}
