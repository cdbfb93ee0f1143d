//! What an instruction set supplies to the output stage ([`Lanes`]), and the
//! one-lane implementation ([`Scalar`]) that is the specification every
//! vector implementation is tested against.

use core::hint::select_unpredictable;

use super::{Channel, Clamp};
use crate::requant::{
    QuantizedMultiplier, Rounding, multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_ties_up,
};

/// `N` lanes of the output stage on one instruction set: loads, the bias
/// add, the four requantizations and the stores — everything the algorithm
/// (`driver.rs`) cannot say portably. Each method is the whole arithmetic of
/// one mode on `N` accumulators, because that is where instruction sets
/// differ (AVX2 has no 64-bit arithmetic shift, AVX-512 has; NEON has
/// `vqrdmulh`), not in the loop around it.
///
/// Implementors are zero-sized proofs that the instruction set is available
/// (a value exists only after detection), so every method is safe. Methods
/// are meant to be `#[inline(always)]` so they compile into the caller's
/// `#[target_feature]` function.
///
/// `pub` only so the sealed [`RequantOutput`](super::RequantOutput) may name
/// it; it lives in a private module and is not reachable from outside the
/// crate.
pub trait Lanes<const N: usize>: Copy {
    /// `N` × `i32`.
    type I: Copy;
    /// `N` × `f32`.
    type F: Copy;
    /// `N` multipliers (significand and shift, or whatever the ISA derives
    /// from them once).
    type Mult: Copy;
    /// The constants of the final `+ zero_point` and clamp.
    type Out: Copy;

    /// The clamp constants for `c` (built once per call).
    fn out(self, c: Clamp) -> Self::Out;
    /// All lanes zero.
    fn zero(self) -> Self::I;
    /// `N` accumulators.
    fn load(self, a: &[i32; N]) -> Self::I;
    /// Lane-wise wrapping `a + b` (the bias add, as TFLite's int32 sum).
    fn add(self, a: Self::I, b: Self::I) -> Self::I;
    /// The same multiplier in every lane.
    fn splat_multiplier(self, m: QuantizedMultiplier) -> Self::Mult;
    /// `N` multipliers (`#[repr(C)]` significand/shift pairs).
    fn load_multipliers(self, m: &[QuantizedMultiplier; N]) -> Self::Mult;
    /// The same float scale in every lane.
    fn splat_scale(self, s: f32) -> Self::F;
    /// `N` float scales.
    fn load_scales(self, s: &[f32; N]) -> Self::F;
    /// The bias, multiplier and float scale of `N` channel records.
    fn load_channels(self, c: &[Channel; N]) -> (Self::I, Self::Mult, Self::F);
    /// TFLite Micro / CMSIS-NN double rounding, then `+ zero_point`, clamp.
    fn double(self, x: Self::I, m: Self::Mult, k: &Self::Out) -> Self::I;
    /// `TFLITE_SINGLE_ROUNDING`, then `+ zero_point`, clamp.
    fn single(self, x: Self::I, m: Self::Mult, k: &Self::Out) -> Self::I;
    /// LiteRT's optimized kernels (second rounding ties up), then
    /// `+ zero_point`, clamp.
    fn litert_optimized(self, x: Self::I, m: Self::Mult, k: &Self::Out) -> Self::I;
    /// ONNX Runtime / XNNPACK `f32` requantization, zero point and clamp.
    fn float32(self, x: Self::I, s: Self::F, k: &Self::Out) -> Self::I;
    /// Stores lanes already clamped into `i8`'s range.
    fn store_i8(self, y: Self::I, o: &mut [i8; N]);
    /// Stores lanes already clamped into `u8`'s range.
    fn store_u8(self, y: Self::I, o: &mut [u8; N]);
    /// Stores lanes already clamped into `i16`'s range.
    fn store_i16(self, y: Self::I, o: &mut [i16; N]);
}

/// `1.5 · 2^23`: adding it to `|v| < 2^22` leaves `v` rounded to the
/// nearest integer, ties to even, in the low mantissa bits.
const MAGIC: f32 = 12_582_912.0;

/// One lane of plain Rust: each method is the scalar definition of its mode
/// (the `requant` functions), so the generic path *is* the specification.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scalar;

/// The portable clamp constants: the activation range with the zero point
/// taken off, so the clamp comes before the add (nothing can overflow, and
/// the result is the clamp of the exact sum `y + zero_point`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    lo: i32,
    hi: i32,
    zero_point: i32,
}

impl Bounds {
    /// The bounds of `c` (its clamp lies inside `i16`: no overflow).
    #[inline(always)]
    pub(crate) fn new(c: Clamp) -> Self {
        Bounds {
            lo: c.act_min - c.zero_point,
            hi: c.act_max - c.zero_point,
            zero_point: c.zero_point,
        }
    }
}

/// `clamp(y + zero_point, act_min, act_max)` with the sum computed exactly.
///
/// Whether a value clips depends on the data, so the clamp is written as
/// unpredictable selects (conditional moves): as branches they mispredict
/// on every other clipped element.
#[inline(always)]
pub(crate) fn finish(y: i32, k: &Bounds) -> i32 {
    let y = select_unpredictable(y < k.lo, k.lo, y);
    select_unpredictable(y > k.hi, k.hi, y) + k.zero_point
}

impl Lanes<1> for Scalar {
    type I = i32;
    type F = f32;
    type Mult = QuantizedMultiplier;
    type Out = Bounds;

    #[inline(always)]
    fn out(self, c: Clamp) -> Bounds {
        Bounds::new(c)
    }
    #[inline(always)]
    fn zero(self) -> i32 {
        0
    }
    #[inline(always)]
    fn load(self, a: &[i32; 1]) -> i32 {
        a[0]
    }
    #[inline(always)]
    fn add(self, a: i32, b: i32) -> i32 {
        a.wrapping_add(b)
    }
    #[inline(always)]
    fn splat_multiplier(self, m: QuantizedMultiplier) -> QuantizedMultiplier {
        m
    }
    #[inline(always)]
    fn load_multipliers(self, m: &[QuantizedMultiplier; 1]) -> QuantizedMultiplier {
        m[0]
    }
    #[inline(always)]
    fn splat_scale(self, s: f32) -> f32 {
        s
    }
    #[inline(always)]
    fn load_scales(self, s: &[f32; 1]) -> f32 {
        s[0]
    }
    #[inline(always)]
    fn load_channels(self, c: &[Channel; 1]) -> (i32, QuantizedMultiplier, f32) {
        (c[0].bias, c[0].multiplier, c[0].scale)
    }
    #[inline(always)]
    fn double(self, x: i32, m: QuantizedMultiplier, k: &Bounds) -> i32 {
        finish(multiply_by_quantized_multiplier(x, m, Rounding::Double), k)
    }
    #[inline(always)]
    fn single(self, x: i32, m: QuantizedMultiplier, k: &Bounds) -> i32 {
        finish(multiply_by_quantized_multiplier(x, m, Rounding::Single), k)
    }
    #[inline(always)]
    fn litert_optimized(self, x: i32, m: QuantizedMultiplier, k: &Bounds) -> i32 {
        finish(multiply_by_quantized_multiplier_ties_up(x, m), k)
    }
    #[inline(always)]
    fn float32(self, x: i32, s: f32, k: &Bounds) -> i32 {
        // `requantize_f32(x, s, zero_point, act_min, act_max)`, with its
        // ties-to-even rounding done by adding 1.5·2^23 (exact: after the
        // clamp `|v| < 2^17`) instead of a software `rintf`, which is ten
        // times slower where the FPU has no rounding instruction. The tests
        // hold the two equal.
        let (lo, hi) = (k.lo as f32, k.hi as f32);
        let v = x as f32 * s;
        // `f32::max` then `min`, written as the compares they reduce to here
        // (one `maxss`/`vmaxnm` each): a NaN falls to `lo` either way.
        let v = if v > lo { v } else { lo };
        let v = if v < hi { v } else { hi };
        let rounded = (v + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32;
        rounded + k.zero_point
    }
    #[inline(always)]
    fn store_i8(self, y: i32, o: &mut [i8; 1]) {
        o[0] = y as i8; // in range: clamped by the mode
    }
    #[inline(always)]
    fn store_u8(self, y: i32, o: &mut [u8; 1]) {
        o[0] = y as u8; // in range: clamped by the mode
    }
    #[inline(always)]
    fn store_i16(self, y: i32, o: &mut [i16; 1]) {
        o[0] = y as i16; // in range: clamped by the mode
    }
}
