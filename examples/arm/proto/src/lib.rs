//! Prototypes of qkit's Arm inner loops, each with the scalar reference it
//! must equal bit for bit. Not part of qkit: phase 2 moves them into the
//! kernel layer's per-ISA files.
//!
//! | module | core | int8 dot / GEMV | output stage |
//! | --- | --- | --- | --- |
//! | [`dsp`] | Cortex-M4/M7/M33 (DSP) | `SXTB16` + `SMLAD`, 4 rows per pass | scalar (qkit) |
//! | `mve` | Cortex-M55/M85 (Helium) | `VMLADAVA.S8`, tail-predicated, 4 rows | `VQRDMULH` + `VRSHL` with fix-up |
//! | `neon` | AArch64 | `SMULL`/`SMULL2` + `SADALP`; `SDOT` with `dotprod` | `SQRDMULH` + `SRSHL` with fix-up |
//!
//! Each prototype is a few `#[inline(always)]` operations (load, widen,
//! multiply-accumulate, horizontal sum) and one loop, so the kernel layer's
//! vector trait can take them over.
#![no_std]

/// Whether this build has Helium (see `build.rs`: rustc has no `mve` cfg).
pub const MVE: bool = cfg!(arm_mve);

#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
pub mod dsp;
#[cfg(arm_mve)]
pub mod mve;
#[cfg(target_arch = "aarch64")]
pub mod neon;
pub mod testing;

use qkit::requant::{QuantizedMultiplier, Rounding, multiply_by_quantized_multiplier};

/// A requantization output stage in structure-of-arrays form (what a SIMD
/// loop loads 4 lanes at a time): per output channel the bias (input
/// offset already folded in), the Q31 multiplier and its shift; then the
/// output zero point and the activation clamp.
#[derive(Clone, Copy, Debug)]
pub struct OutputStage<'a> {
    /// Folded bias per channel.
    pub bias: &'a [i32],
    /// Q31 significand per channel (`>= 0`).
    pub multiplier: &'a [i32],
    /// Shift per channel (`-31..=30`).
    pub shift: &'a [i32],
    /// Output zero point.
    pub output_zero_point: i32,
    /// Activation clamp, inside `[-128, 127]`.
    pub act_min: i32,
    /// Activation clamp, inside `[-128, 127]`.
    pub act_max: i32,
}

impl OutputStage<'_> {
    /// The channel count; panics unless every slice has `acc_len` elements
    /// and `out_len == acc_len`.
    pub fn check(&self, acc_len: usize, out_len: usize) -> usize {
        assert!(self.bias.len() == acc_len && self.multiplier.len() == acc_len);
        assert!(self.shift.len() == acc_len && out_len == acc_len);
        acc_len
    }
}

/// The specification of the output stage, one channel: TFLM's default
/// (double rounding) `MultiplyByQuantizedMultiplier`, then the zero point
/// (added with saturation, as qkit's layers do) and the clamp.
#[inline]
pub fn requantize_one(
    acc: i32,
    bias: i32,
    multiplier: i32,
    shift: i32,
    zp: i32,
    lo: i32,
    hi: i32,
) -> i8 {
    let m = QuantizedMultiplier { multiplier, shift };
    let y = multiply_by_quantized_multiplier(acc.wrapping_add(bias), m, Rounding::Double);
    y.saturating_add(zp).clamp(lo, hi) as i8
}

/// [`requantize_one`] over a slice: the scalar reference of every SIMD
/// output stage here.
pub fn requantize_i8(acc: &[i32], s: &OutputStage<'_>, out: &mut [i8]) {
    s.check(acc.len(), out.len());
    requantize_from(acc, s, out, 0);
}

/// [`requantize_one`] over channels `from..`: the scalar tail of a SIMD
/// output stage.
pub fn requantize_from(acc: &[i32], s: &OutputStage<'_>, out: &mut [i8], from: usize) {
    for i in from..acc.len() {
        out[i] = requantize_one(
            acc[i],
            s.bias[i],
            s.multiplier[i],
            s.shift[i],
            s.output_zero_point,
            s.act_min,
            s.act_max,
        );
    }
}

/// The specification of the kernels: `Σ a[k]·b[k]` with int32 wrap-around.
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(0i32, |s, (&x, &y)| {
        s.wrapping_add(i32::from(x) * i32::from(y))
    })
}

/// The specification: `out[r] = dot(w[r], x)`.
pub fn gemv_i8(w: &[i8], x: &[i8], out: &mut [i32]) {
    let cols = x.len();
    for (r, o) in out.iter_mut().enumerate() {
        *o = dot_i8(&w[r * cols..(r + 1) * cols], x);
    }
}

/// The best prototype of this build: GEMV and output stage.
pub mod best {
    #[cfg(all(target_arch = "arm", target_feature = "dsp", not(arm_mve)))]
    pub use crate::dsp::{dot_i8, gemv_i8};
    #[cfg(arm_mve)]
    pub use crate::mve::{dot_i8, gemv_i8, requantize_i8};
    #[cfg(target_arch = "aarch64")]
    pub use crate::neon::{dot_i8, gemv_i8, requantize_i8};
    #[cfg(all(target_arch = "arm", target_feature = "dsp", not(arm_mve)))]
    pub use crate::requantize_i8;
    #[cfg(not(any(
        all(target_arch = "arm", target_feature = "dsp"),
        target_arch = "aarch64"
    )))]
    pub use crate::{dot_i8, gemv_i8, requantize_i8};

    /// A fully-connected layer on one input row from the prototypes: GEMV
    /// into `acc`, then the output stage.
    pub fn fully_connected_i8(
        w: &[i8],
        x: &[i8],
        stage: &crate::OutputStage<'_>,
        acc: &mut [i32],
        out: &mut [i8],
    ) {
        gemv_i8(w, x, acc);
        requantize_i8(acc, stage, out);
    }
}
