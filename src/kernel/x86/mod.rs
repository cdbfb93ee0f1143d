//! Explicit x86_64 SIMD paths. The only place in qkit where `unsafe` is allowed.
//!
//! SSE2 is part of the x86_64 baseline and always usable. AVX2 is detected
//! once and the answer cached in an atomic:
//! * compiled with `target_feature = "avx2"`: no detection at all;
//! * with the `std` feature: `std::is_x86_feature_detected!("avx2")`;
//! * without `std`: `cpuid` (leaf 1 for AVX and OSXSAVE, leaf 7 for AVX2)
//!   plus `xgetbv` to check the OS saves YMM state — the same test `std`
//!   performs, so a default `no_std` build still runs AVX2 code on an AVX2
//!   machine instead of silently falling back to scalar.
//!
//! AVX-512 VNNI (`avx512f` + `avx512bw` + `avx512vnni`) is detected the same
//! way, on top of AVX2: with `std` through `is_x86_feature_detected!`,
//! without it through `cpuid` leaf 7 (EBX bits 16 and 30, ECX bit 11) plus
//! `xgetbv`, which must show the OS saving the opmask registers and both
//! halves of the ZMM file (XCR0 bits 5, 6 and 7) as well as XMM/YMM.
#![allow(unsafe_code)]

use core::sync::atomic::{AtomicU8, Ordering};

mod avx2;
mod avx512;
mod sse2;

// AVX2 slice requantization (issue 4).
pub(crate) mod requant;

/// `<[T]>::as_chunks` (stable only since Rust 1.88): the slice as whole
/// `N`-element arrays plus the remainder. `N` is always a positive constant.
#[inline(always)]
pub(crate) fn as_chunks<const N: usize, T>(s: &[T]) -> (&[[T; N]], &[T]) {
    let n = s.len() / N;
    let (head, tail) = s.split_at(n * N);
    // SAFETY: `head` holds exactly `n * N` contiguous `T`s, which is the
    // layout of `n` arrays `[T; N]`; the lifetime is `s`'s.
    let arrays = unsafe { core::slice::from_raw_parts(head.as_ptr().cast::<[T; N]>(), n) };
    (arrays, tail)
}

/// 0: not yet detected, 1: no AVX2, 2: AVX2.
static AVX2_STATE: AtomicU8 = AtomicU8::new(0);

/// Whether the running CPU (and OS) support AVX2. Cached after the first call.
#[inline]
pub(crate) fn has_avx2() -> bool {
    match AVX2_STATE.load(Ordering::Relaxed) {
        0 => {
            let yes = detect_avx2();
            AVX2_STATE.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
            yes
        }
        state => state == 2,
    }
}

#[cfg(target_feature = "avx2")]
fn detect_avx2() -> bool {
    true
}

#[cfg(all(not(target_feature = "avx2"), feature = "std"))]
fn detect_avx2() -> bool {
    std::is_x86_feature_detected!("avx2")
}

#[cfg(all(not(target_feature = "avx2"), not(feature = "std")))]
fn detect_avx2() -> bool {
    use core::arch::x86_64::{__cpuid, __cpuid_count};
    // SAFETY: `cpuid` exists on every x86_64 CPU and has no side effects.
    #[allow(unused_unsafe)]
    let (max_leaf, leaf1) = unsafe { (__cpuid(0).eax, __cpuid(1)) };
    let osxsave = leaf1.ecx & (1 << 27) != 0;
    let avx = leaf1.ecx & (1 << 28) != 0;
    if max_leaf < 7 || !osxsave || !avx {
        return false;
    }
    // SAFETY: OSXSAVE (checked above) means the OS enabled `xgetbv`.
    let xcr0 = unsafe { xgetbv0() };
    // Bits 1 and 2: the OS saves XMM and YMM registers on context switch.
    if xcr0 & 0b110 != 0b110 {
        return false;
    }
    // SAFETY: as above; leaf 7 exists since max_leaf >= 7.
    #[allow(unused_unsafe)]
    let leaf7 = unsafe { __cpuid_count(7, 0) };
    leaf7.ebx & (1 << 5) != 0
}

#[cfg(all(
    not(feature = "std"),
    not(all(
        target_feature = "avx512f",
        target_feature = "avx512bw",
        target_feature = "avx512vnni"
    ))
))]
#[target_feature(enable = "xsave")]
unsafe fn xgetbv0() -> u64 {
    // SAFETY: the caller checked CPUID.1:ECX.OSXSAVE, so `xgetbv` is enabled.
    unsafe { core::arch::x86_64::_xgetbv(0) }
}

/// 0: not yet detected, 1: no AVX-512 VNNI, 2: AVX-512 VNNI.
static VNNI_STATE: AtomicU8 = AtomicU8::new(0);

/// Whether the running CPU (and OS) support AVX2 and AVX-512 F, BW and VNNI
/// with the ZMM state saved. Cached after the first call.
#[inline]
pub(crate) fn has_avx512vnni() -> bool {
    match VNNI_STATE.load(Ordering::Relaxed) {
        0 => {
            let yes = has_avx2() && detect_avx512vnni();
            VNNI_STATE.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
            yes
        }
        state => state == 2,
    }
}

#[cfg(all(
    target_feature = "avx512f",
    target_feature = "avx512bw",
    target_feature = "avx512vnni"
))]
fn detect_avx512vnni() -> bool {
    true
}

#[cfg(all(
    not(all(
        target_feature = "avx512f",
        target_feature = "avx512bw",
        target_feature = "avx512vnni"
    )),
    feature = "std"
))]
fn detect_avx512vnni() -> bool {
    std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vnni")
}

/// Called only after [`has_avx2`] succeeded: OSXSAVE is set and leaf 7 exists.
#[cfg(all(
    not(all(
        target_feature = "avx512f",
        target_feature = "avx512bw",
        target_feature = "avx512vnni"
    )),
    not(feature = "std")
))]
fn detect_avx512vnni() -> bool {
    use core::arch::x86_64::__cpuid_count;
    // SAFETY: AVX2 was detected, which required CPUID.1:ECX.OSXSAVE, so
    // `xgetbv` is enabled.
    let xcr0 = unsafe { xgetbv0() };
    // Bits 1, 2: XMM, YMM; 5: opmask; 6: upper halves of ZMM0-15; 7: ZMM16-31.
    const STATE: u64 = 0b1110_0110;
    if xcr0 & STATE != STATE {
        return false;
    }
    // SAFETY: `cpuid` has no side effects; leaf 7 exists (AVX2 detection
    // checked max_leaf >= 7).
    #[allow(unused_unsafe)]
    let leaf7 = unsafe { __cpuid_count(7, 0) };
    let avx512f = leaf7.ebx & (1 << 16) != 0;
    let avx512bw = leaf7.ebx & (1 << 30) != 0;
    let avx512vnni = leaf7.ecx & (1 << 11) != 0;
    avx512f && avx512bw && avx512vnni
}

/// Proof that the CPU supports AVX2: only [`Avx2::get`] builds one.
#[derive(Clone, Copy)]
pub(crate) struct Avx2(());

impl Avx2 {
    /// `Some` exactly when AVX2 is usable.
    #[inline]
    pub(crate) fn get() -> Option<Self> {
        has_avx2().then_some(Avx2(()))
    }

    /// Full-range dot; `a.len() == b.len()`.
    #[inline]
    pub(crate) fn dot_i8(self, a: &[i8], b: &[i8]) -> i32 {
        // SAFETY: `self` exists only if AVX2 was detected.
        unsafe { avx2::dot_i8(a, b) }
    }

    /// Narrow-range dot; `w` has no -128, `x.len() == w.len()`.
    #[inline]
    pub(crate) fn dot_i8_narrow(self, x: &[i8], w: &[i8]) -> i32 {
        // SAFETY: `self` exists only if AVX2 was detected.
        unsafe { avx2::dot_i8_narrow(x, w) }
    }

    /// int4 × int8 dot; `packed` holds `x.len()` nibbles from byte 0.
    #[inline]
    pub(crate) fn dot_i4_i8(self, packed: &[u8], x: &[i8]) -> i32 {
        // SAFETY: `self` exists only if AVX2 was detected.
        unsafe { avx2::dot_i4_i8(packed, x) }
    }

    /// Full-range GEMV; `cols > 0`, shapes validated.
    #[inline]
    pub(crate) fn gemv_i8(self, w: &[i8], cols: usize, x: &[i8], out: &mut [i32]) {
        // SAFETY: `self` exists only if AVX2 was detected.
        unsafe { avx2::gemv_i8(w, cols, x, out) }
    }

    /// Narrow-range GEMV; `cols > 0`, shapes validated, `w` has no -128.
    #[inline]
    pub(crate) fn gemv_i8_narrow(self, w: &[i8], cols: usize, x: &[i8], out: &mut [i32]) {
        // SAFETY: `self` exists only if AVX2 was detected.
        unsafe { avx2::gemv_i8_narrow(w, cols, x, out) }
    }

    /// Prepared int4 GEMV; `row_bytes > 0`, shapes validated.
    #[inline]
    pub(crate) fn gemv_i4_prepared(
        self,
        bytes: &[u8],
        row_bytes: usize,
        x: &[i8],
        out: &mut [i32],
    ) {
        // SAFETY: `self` exists only if AVX2 was detected.
        unsafe { avx2::gemv_i4_prepared(bytes, row_bytes, x, out) }
    }

    /// int4 GEMV; `cols` even and > 0, shapes validated.
    #[inline]
    pub(crate) fn gemv_i4_i8(self, packed: &[u8], cols: usize, x: &[i8], out: &mut [i32]) {
        // SAFETY: `self` exists only if AVX2 was detected.
        unsafe { avx2::gemv_i4_i8(packed, cols, x, out) }
    }
}

/// Proof that the CPU supports AVX-512 F/BW/VNNI (and AVX2): only
/// [`Avx512Vnni::get`] builds one.
#[derive(Clone, Copy)]
pub(crate) struct Avx512Vnni(());

impl Avx512Vnni {
    /// `Some` exactly when AVX-512 VNNI is usable.
    #[inline]
    pub(crate) fn get() -> Option<Self> {
        has_avx512vnni().then_some(Avx512Vnni(()))
    }

    /// The AVX2 proof this one implies (detection requires AVX2 too).
    #[inline]
    pub(crate) fn avx2(self) -> Avx2 {
        Avx2(())
    }

    /// Full- or narrow-range dot; `a.len() == b.len()`.
    #[inline]
    pub(crate) fn dot_i8(self, a: &[i8], b: &[i8]) -> i32 {
        // SAFETY: `self` exists only if AVX-512 F/BW/VNNI were detected.
        unsafe { avx512::dot_i8(a, b) }
    }

    /// Full- or narrow-range GEMV; `cols > 0`, shapes validated.
    #[inline]
    pub(crate) fn gemv_i8(self, w: &[i8], cols: usize, x: &[i8], out: &mut [i32]) {
        // SAFETY: `self` exists only if AVX-512 F/BW/VNNI were detected.
        unsafe { avx512::gemv_i8(w, cols, x, out) }
    }

    /// Prepared int4 GEMV; `row_bytes > 0`, shapes validated.
    #[inline]
    pub(crate) fn gemv_i4_prepared(
        self,
        bytes: &[u8],
        row_bytes: usize,
        x: &[i8],
        out: &mut [i32],
    ) {
        // SAFETY: `self` exists only if AVX-512 F/BW/VNNI were detected.
        unsafe { avx512::gemv_i4_prepared(bytes, row_bytes, x, out) }
    }

    /// int4 GEMV; `cols` even and > 0, shapes validated.
    #[inline]
    pub(crate) fn gemv_i4_i8(self, packed: &[u8], cols: usize, x: &[i8], out: &mut [i32]) {
        // SAFETY: `self` exists only if AVX-512 F/BW/VNNI were detected.
        unsafe { avx512::gemv_i4_i8(packed, cols, x, out) }
    }
}

/// Full-range SSE2 dot; `a.len() == b.len()`.
#[inline]
pub(crate) fn sse2_dot_i8(a: &[i8], b: &[i8]) -> i32 {
    // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
    unsafe { sse2::dot_i8(a, b) }
}

/// SSE2 GEMV; `cols > 0`, shapes validated.
#[inline]
pub(crate) fn sse2_gemv_i8(w: &[i8], cols: usize, x: &[i8], out: &mut [i32]) {
    // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it.
    unsafe { sse2::gemv_i8(w, cols, x, out) }
}
