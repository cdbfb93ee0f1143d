//! # qkit: integer quantization that matches the device, bit for bit
//!
//! `qkit` is a `#![no_std]`, allocation-free library for the integer
//! arithmetic of quantized neural networks on microcontrollers and edge
//! accelerators. Its integers are the ones TensorFlow Lite Micro, CMSIS-NN
//! and ONNX Runtime compute on the device; where those runtimes disagree
//! (how ties round, single or double rounding), qkit offers both and says
//! which one a function follows.
//!
//! ## Qm.n fixed point in a paragraph
//!
//! A Qm.n number stores a real value `v` as the integer `v * 2^n`: `n`
//! fractional bits, `m` integer bits. `Q15` (`Fixed<i16, 15>`) covers
//! `[-1, 1 - 2^-15]` in steps of `2^-15`. Adding two Qm.n numbers is integer
//! addition; multiplying them is an integer multiply followed by a rounding
//! shift right by `n`. qkit's operators saturate instead of wrapping, as DSP
//! code expects.
//!
//! ```
//! use qkit::Q15;
//! let a = Q15::from_f32(0.5);
//! let b = Q15::from_f32(-0.25);
//! assert_eq!((a * b).to_f32(), -0.125);
//! assert_eq!(Q15::MAX + a, Q15::MAX); // saturates
//! ```
//!
//! ## Affine quantization in a paragraph
//!
//! A tensor of reals is stored as small integers `q` with one `scale` and one
//! `zero_point`: `real = scale * (q - zero_point)`. Quantizing rounds
//! `x / scale` to an integer and adds the zero point; the zero point makes
//! `0.0` exactly representable (padding, ReLU). A layer multiplies int8
//! inputs by int8 weights into an int32 accumulator whose scale is
//! `s_in * s_w`; *requantization* maps it back to int8 with the output scale
//! by multiplying with `s_in * s_w / s_out`, itself stored as an integer
//! multiplier and a shift so the device never touches a float.
//!
//! ```
//! use qkit::{quant::Quantizer, Round};
//! let q = Quantizer::<i8>::new(0.1, -5)?;
//! let x = q.quantize(1.0, Round::HalfAwayFromZero);
//! assert_eq!(x, 5);
//! assert!((q.dequantize(x) - 1.0).abs() < 1e-6);
//! # Ok::<(), qkit::Error>(())
//! ```
//!
//! ## Map of the crate
//!
//! | module | concept |
//! | --- | --- |
//! | [`fixed`] | `Fixed<T, FRAC>` Qm.n numbers: saturating, wrapping, checked, overflowing |
//! | [`quant`] | scale / zero-point quantizers per tensor, channel and block |
//! | [`int4`] | 4-bit scalars and packed nibble storage |
//! | [`requant`] | integer multipliers and the TFLite / CMSIS-NN requantization primitives |
//! | [`ops`] | quantized elementwise ADD and MUL |
//! | [`kernel`] | int8 / int4 dot products, GEMV, GEMM |
//! | [`layer`] | the fully-connected layer |
//! | [`calib`] | choosing scales: max, percentile, MSE, KL-entropy, dynamic fixed point |
//! | [`train`] | fake quantization, PACT, LSQ, distillation |
//!
//! ## Features
//!
//! * default: nothing; `no_std`, no allocator.
//! * `alloc`: conveniences that allocate.
//! * `std`: runtime CPU feature detection for the SIMD kernels.
//! * `defmt`: `defmt::Format` on the public types.
//! * `capi`: a C ABI ([`capi`], `include/qkit.h`); no `std` needed.
//! * `panic-halt`: the panic handler a bare-metal C static library needs.
//! * `serde`: `Serialize` / `Deserialize` for the quantizers, per-channel and
//!   per-block parameters (deserialized into the owned
//!   [`quant::PerChannelBuf`] / [`quant::PerBlockBuf`]), fixed-point and
//!   4-bit values, multipliers, histograms and calibration results.
//!   Deserializing goes through the same checks as the constructors: bad
//!   data is an error, never an invalid value. No allocation.
//! * `bytemuck`: `Pod` / `Zeroable` for [`Fixed`], ggml blocks and
//!   [`requant::QuantizedMultiplier`]; `Zeroable`, `NoUninit` and
//!   `CheckedBitPattern` for [`int4::I4`] / [`int4::U4`] (not every byte is
//!   a valid 4-bit value), so weights can live in `static` arrays and be
//!   cast without copying.
//! * `arbitrary`: `Arbitrary` for the public value types, generating valid
//!   values only, for cargo-fuzz harnesses (needs `std`, as the `arbitrary`
//!   crate does).
#![no_std]
#![deny(missing_docs)]
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod error;
mod integrations;
mod qint;
mod round;

pub mod calib;
#[cfg(feature = "capi")]
pub mod capi;
pub mod fixed;
pub mod int4;
pub mod kernel;
pub mod layer;
pub mod ops;
pub mod quant;
pub mod requant;
pub mod train;

pub use error::Error;
pub use fixed::{Fixed, Q7, Q15, Q31};
pub use qint::QInt;
pub use round::Round;
