//! The clock reference shared by the benches (`#[path]`-included): its
//! "elem/s" is the effective cycles per second of the run.

/// The clock reference: `CLOCK_ITERS` dependent one-cycle `add`s, so its
/// "elem/s" is the effective cycles per second of this run (on a shared
/// machine, the share of the core we got).
pub const CLOCK_ITERS: u64 = 1 << 20;

/// `n` cycles (`n` a multiple of 8): eight dependent `add`s per loop
/// iteration, so the loop runs at the chain's latency. A bare `sub`/`jnz`
/// loop does not measure the clock everywhere: AMD Zen 3 takes that branch
/// every second cycle (it read 1.59 GHz on a 3.2 GHz core).
#[cfg(target_arch = "x86_64")]
pub fn spin(n: u64) -> u64 {
    let (mut n, mut x) = (n / 8, 0u64);
    // SAFETY: a register-only countdown loop; touches no memory.
    unsafe {
        core::arch::asm!(
            "2:",
            "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
            "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
            "sub {n}, 1", "jnz 2b",
            n = inout(reg) n, x = inout(reg) x, options(nomem, nostack)
        )
    };
    n + x
}

#[cfg(not(target_arch = "x86_64"))]
pub fn spin(n: u64) -> u64 {
    (0..n).fold(0, |a, i| std::hint::black_box(a ^ i))
}
