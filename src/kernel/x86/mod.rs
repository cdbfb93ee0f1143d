//! x86_64: the CPU detector, the cached choice of table, and one file per
//! instruction set (`sse2.rs`, `avx2.rs`, `avx512.rs`), each supplying its
//! vector types for the `Mac` trait and its `isa_table!`. With `unsafe` in
//! the C ABI, this folder is the only place in qkit where `unsafe` is
//! allowed.
//!
//! **One detector**, with and without `std`: `cpuid` (leaf 1 for AVX and
//! OSXSAVE, leaf 7 for AVX2, AVX-512 F/BW and VNNI) plus `xgetbv`, which
//! must show the OS saving the XMM and YMM state (XCR0 bits 1, 2) and, for
//! AVX-512, the opmask registers and both halves of the ZMM file (bits 5, 6,
//! 7) — the test `std::is_x86_feature_detected!` makes, so a default
//! `no_std` build runs the same code as a `std` one (a unit test compares
//! them). Under Miri, which cannot run `cpuid`, the features compiled in
//! (`-C target-feature`) are the ones detected.
//!
//! SSE2 belongs to the x86_64 baseline; the module is compiled only where
//! the target enables it (not on soft-float targets such as
//! `x86_64-unknown-none`, which run the portable kernels).
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicPtr, AtomicU8, Ordering};

use super::Isa;
use super::dispatch::Kernels;

mod avx2;
mod avx512;
mod sse2;

// The output stage's AVX2 and AVX-512 lanes (listed in the tables of
// `avx2.rs` and `avx512.rs`).
mod requant;

/// One-byte element types the kernels load from (i8 activations and
/// weights, u8 packed nibbles).
pub(crate) trait Byte: Copy {}
impl Byte for i8 {}
impl Byte for u8 {}

/// Detected: AVX2 (with the YMM state saved).
const AVX2: u8 = 1;
/// Detected: AVX-512 F, BW and VNNI (with the opmask and ZMM state saved).
const AVX512VNNI: u8 = 2;
/// Set once the other bits are known.
const KNOWN: u8 = 0x80;

static FEATURES: AtomicU8 = AtomicU8::new(0);

/// The feature bits of the running CPU, detected on the first call.
#[inline]
fn features() -> u8 {
    let f = FEATURES.load(Ordering::Relaxed);
    if f & KNOWN != 0 {
        return f;
    }
    let f = detect() | KNOWN;
    FEATURES.store(f, Ordering::Relaxed);
    f
}

/// Whether the running CPU (and OS) support AVX2.
#[inline]
pub(crate) fn has_avx2() -> bool {
    features() & AVX2 != 0
}

/// Whether the running CPU (and OS) support AVX2 and AVX-512 F/BW/VNNI.
#[inline]
pub(crate) fn has_avx512vnni() -> bool {
    features() & AVX512VNNI != 0
}

#[cfg(miri)]
#[cold]
fn detect() -> u8 {
    let avx2 = cfg!(target_feature = "avx2");
    let vnni = avx2
        && cfg!(all(
            target_feature = "avx512f",
            target_feature = "avx512bw",
            target_feature = "avx512vnni"
        ));
    (u8::from(avx2) * AVX2) | (u8::from(vnni) * AVX512VNNI)
}

/// Runs once; kept out of line so the cached path stays a load and a test.
#[cfg(not(miri))]
#[cold]
#[inline(never)]
fn detect() -> u8 {
    use core::arch::x86_64::{__cpuid, __cpuid_count};
    // SAFETY: `cpuid` exists on every x86_64 CPU and has no side effects.
    #[allow(unused_unsafe)]
    let (max_leaf, leaf1) = unsafe { (__cpuid(0).eax, __cpuid(1)) };
    let osxsave = leaf1.ecx & (1 << 27) != 0;
    let avx = leaf1.ecx & (1 << 28) != 0;
    if max_leaf < 7 || !osxsave || !avx {
        return 0;
    }
    // SAFETY: OSXSAVE (checked above) means the OS enabled `xgetbv`.
    let xcr0 = unsafe { xgetbv0() };
    // SAFETY: as above; leaf 7 exists since max_leaf >= 7.
    #[allow(unused_unsafe)]
    let leaf7 = unsafe { __cpuid_count(7, 0) };
    // XCR0 bits 1, 2: XMM, YMM; 5: opmask; 6: upper halves of ZMM0-15;
    // 7: ZMM16-31.
    const YMM_STATE: u64 = 0b0000_0110;
    const ZMM_STATE: u64 = 0b1110_0110;
    let avx2 = xcr0 & YMM_STATE == YMM_STATE && leaf7.ebx & (1 << 5) != 0;
    let avx512f = leaf7.ebx & (1 << 16) != 0;
    let avx512bw = leaf7.ebx & (1 << 30) != 0;
    let avx512vnni = leaf7.ecx & (1 << 11) != 0;
    let vnni = avx2 && xcr0 & ZMM_STATE == ZMM_STATE && avx512f && avx512bw && avx512vnni;
    (u8::from(avx2) * AVX2) | (u8::from(vnni) * AVX512VNNI)
}

#[cfg(not(miri))]
#[target_feature(enable = "xsave")]
unsafe fn xgetbv0() -> u64 {
    // SAFETY: the caller checked CPUID.1:ECX.OSXSAVE, so `xgetbv` is enabled.
    unsafe { core::arch::x86_64::_xgetbv(0) }
}

/// The kernels of an x86 instruction set, `None` if it cannot run here.
#[inline]
pub(crate) fn kernels(isa: Isa) -> Option<&'static Kernels> {
    match isa {
        Isa::Sse2 => Some(sse2::kernels()),
        Isa::Avx2 => avx2::kernels(),
        Isa::Avx512Vnni => avx512::kernels(),
        _ => None,
    }
}

/// The best table, once resolved (null before).
static BEST: AtomicPtr<Kernels> = AtomicPtr::new(core::ptr::null_mut());

/// The kernels of the best instruction set of this CPU, resolved on the
/// first call and cached, so a kernel call costs one load and one indirect
/// call.
#[inline]
pub(crate) fn best() -> &'static Kernels {
    let cached = BEST.load(Ordering::Relaxed);
    if !cached.is_null() {
        // SAFETY: `BEST` only ever holds null or a pointer made below from
        // a `&'static Kernels`, which no one mutates.
        return unsafe { &*cached };
    }
    let table = avx512::kernels()
        .or_else(avx2::kernels)
        .unwrap_or_else(sse2::kernels);
    BEST.store(core::ptr::from_ref(table).cast_mut(), Ordering::Relaxed);
    table
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    /// What `std` detects, in the same bits.
    fn std_features() -> u8 {
        let avx2 = std::is_x86_feature_detected!("avx2");
        let vnni = avx2
            && std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vnni");
        (u8::from(avx2) * AVX2) | (u8::from(vnni) * AVX512VNNI)
    }

    /// qkit's own detector (the only one, with or without `std`) agrees
    /// with `std`'s, and every kernel family of the resolved table (each
    /// int8 and int4 kernel, the row sums, the output stage into each type)
    /// is the entry of the instruction set `std` names. CI runs this with
    /// `--no-default-features` too: a `no_std` build on an AVX2 or AVX-512
    /// machine runs SIMD for GEMV and for requantization.
    #[test]
    fn detector_agrees_with_std_for_every_kernel_family() {
        use crate::kernel::dispatch::GENERIC;
        use core::ptr::fn_addr_eq;

        assert_eq!(features() & !KNOWN, std_features());
        let want = match std_features() {
            f if f & AVX512VNNI != 0 => Isa::Avx512Vnni,
            f if f & AVX2 != 0 => Isa::Avx2,
            _ => Isa::Sse2,
        };
        assert_eq!(Isa::detect(), want);
        let (best, table) = (best(), kernels(want).unwrap());
        assert_eq!(best.isa, want);
        assert!(core::ptr::eq(best, table));
        let simd = want != Isa::Sse2;
        macro_rules! families {
            ($($family:ident),*) => {$(
                assert!(fn_addr_eq(best.$family, table.$family), stringify!($family));
                if simd {
                    assert!(!fn_addr_eq(best.$family, GENERIC.$family), stringify!($family));
                }
            )*};
        }
        families!(
            dot_i8,
            dot_i8_narrow,
            dot_i4_i8,
            gemm_i8,
            gemm_i8_narrow,
            gemv_i4_i8,
            gemv_i4_prepared,
            row_sums_i8,
            row_sums_i4,
            dot_i16_i8,
            gemv_i16_i8,
            requantize_i8,
            requantize_u8,
            requantize_i16
        );
        // SSE2 speeds up the int8 kernels only.
        if !simd {
            assert!(!fn_addr_eq(best.gemm_i8, GENERIC.gemm_i8));
            assert!(fn_addr_eq(best.requantize_i8, GENERIC.requantize_i8));
        }
    }
}
