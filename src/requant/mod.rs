//! Requantization with integer multipliers: turning an `i32` accumulator back
//! into int8 with only integer arithmetic, bit for bit as TensorFlow Lite
//! (Micro), gemmlowp and CMSIS-NN do on the device — plus the float32 form of
//! ONNX Runtime and XNNPACK.
//!
//! A layer's accumulator has scale `s_in · s_w`; the output has scale
//! `s_out`. Requantizing multiplies by the real number `M = s_in · s_w / s_out`,
//! stored as a Q31 significand and a shift ([`QuantizedMultiplier`], built by
//! [`quantize_multiplier`] from one of the scale compositions such as
//! [`conv_real_multiplier`]). [`multiply_by_quantized_multiplier`] applies it
//! in TFLite's default **double rounding** or its **single rounding** form
//! ([`Rounding`]); the two differ by one on about 2% of inputs, so pick the
//! one your runtime was built with.
//!
//! [`multiply_by_quantized_multiplier_ties_up`] is LiteRT's optimized
//! (NEON) form, [`requantize_f64`] its reference FULLY_CONNECTED's `f64`
//! form, and [`requantize_f32`] the float form of ONNX Runtime and XNNPACK.
//!
//! This module is the scalar arithmetic, one element at a time. The whole
//! output stage over slices (bias, per-tensor or per-channel multipliers,
//! zero point, activation clamp, SIMD on every instruction set) is
//! [`kernel::requantize`](crate::kernel::requantize), built from these
//! functions and bit-identical to them.
//!
//! ```
//! use qkit::requant::{
//!     conv_real_multiplier, multiply_by_quantized_multiplier, quantize_multiplier, Rounding,
//! };
//! let m = quantize_multiplier(conv_real_multiplier(0.02, 0.005, 0.1)?)?;
//! // acc = 1234 at scale 1e-4 is 0.1234, i.e. 1.234 output steps.
//! assert_eq!(multiply_by_quantized_multiplier(1234, m, Rounding::Double), 1);
//! # Ok::<(), qkit::Error>(())
//! ```

mod fixedpoint;
mod float;
mod litert;
mod multiplier;
mod multiply;

pub use fixedpoint::{rounding_divide_by_pot, saturating_rounding_doubling_high_mul};
pub use float::requantize_f32;
pub use litert::{
    multiply_by_quantized_multiplier_ties_up, requantize_f64, rounding_right_shift_ties_up,
};
pub use multiplier::{
    QuantizedMultiplier, conv_real_multiplier, fully_connected_real_multiplier_f32_product,
    mul_real_multiplier, quantize_multiplier, quantize_multiplier_checked,
    quantize_multiplier_single_rounding, reduce_multiplier_to_q15, requantize_real_multiplier,
};
pub(crate) use multiply::multiply_by_quantized_multiplier_exact;
pub use multiply::{
    Rounding, multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_i64,
};
