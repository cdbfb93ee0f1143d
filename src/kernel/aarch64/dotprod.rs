//! AArch64 NEON with `SDOT` (`dotprod`: Cortex-A55/A76 and later, Apple
//! M1, Neoverse): 16 multiply-accumulates per instruction into four int32
//! lanes, exact for the full int8 range (so the narrow entries share it).
//! 32-byte blocks (one `LD1` of two q registers), GEMV tiles of 8 rows.
//!
//! `vdotq_s32` is unstable on every Rust from 1.89 to 1.96
//! (`stdarch_neon_dotprod`), so `SDOT` is one line of `asm!`; the assembler
//! accepts it only inside a function compiled with `dotprod`, which the
//! `isa_table!` entries are (the algorithms are `#[inline(always)]`).

use core::arch::aarch64::*;
use core::arch::asm;

use super::neon::{Neon, mac32};
use crate::kernel::Isa;
use crate::kernel::simd::{Mac, dot, gemm, isa_table};

isa_table!(Isa::NeonDotprod, "neon,dotprod", super::neon::KERNELS, {
    dot_i8: |a: &[i8], b: &[i8]| -> i32 { dot::dot(Sdot::new(), a, b) }
    dot_i8_narrow: |x: &[i8], w: &[i8]| -> i32 { dot::dot(Sdot::new(), x, w) }
    gemm_i8: |w: &[i8], x: &[i8], cols: usize, out: &mut [i32]| {
        gemm::gemm::<_, 8, 4, 2>(Sdot::new(), w, cols, x, cols, out)
    }
    gemm_i8_narrow: |w: &[i8], x: &[i8], cols: usize, out: &mut [i32]| {
        gemm::gemm::<_, 8, 4, 2>(Sdot::new(), w, cols, x, cols, out)
    }
    row_sums_i8: |w: &[i8], cols: usize, out: &mut [i32]| {
        dot::row_sums(Sdot::new(), w, cols, out)
    }
});

/// Proof that NEON and `dotprod` are enabled.
#[derive(Clone, Copy)]
struct Sdot(Neon);

impl Sdot {
    /// Only code compiled with `dotprod` can call this.
    #[inline]
    #[target_feature(enable = "neon,dotprod")]
    fn new() -> Self {
        Sdot(Neon::new())
    }
}

/// `acc + SDOT(a, b)`: lane `i` gains `Σ_{j<4} a[4i+j]·b[4i+j]`.
#[inline(always)]
fn sdot(acc: int32x4_t, a: int8x16_t, b: int8x16_t) -> int32x4_t {
    let mut acc = acc;
    // SAFETY: register-only arithmetic; reached only through an `Sdot`,
    // whose constructor needs `dotprod`.
    unsafe {
        asm!("sdot {acc:v}.4s, {a:v}.16b, {b:v}.16b",
             acc = inout(vreg) acc, a = in(vreg) a, b = in(vreg) b,
             options(pure, nomem, nostack, preserves_flags));
    }
    acc
}

mac32!(Sdot, sdot);
