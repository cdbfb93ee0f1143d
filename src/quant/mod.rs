//! Affine (scale / zero-point) quantizers: the map between real numbers and
//! small integers, `real = scale * (q - zero_point)`.
//!
//! Quantizing computes `q = saturate(round(x / scale) + zero_point)` with the
//! division in `f32`, exactly as TensorFlow Lite's `AffineQuantize` and ONNX
//! Runtime's `QuantizeLinear` do; the [`Round`](crate::Round) argument picks
//! which runtime's tie rule applies.
//!
//! | granularity | borrowed tables | owned tables |
//! | --- | --- | --- |
//! | one scale per tensor | [`Quantizer`] | (the same: two numbers) |
//! | one scale per channel along an axis | [`PerChannel`] | [`PerChannelBuf`] |
//! | one scale per block of an axis (ONNX blocked) | [`PerBlock`] | [`PerBlockBuf`] |
//! | ggml `Q8_0` / `Q4_0` blocks | [`ggml`] | |
//!
//! One vocabulary for all of them:
//!
//! * **Slices.** Every quantizer has the same slice methods, from the
//!   sealed trait [`QuantizeSlice`]: `quantize_slice` / `dequantize_slice`
//!   for `f32`, `_f16` / `_bf16` suffixes for half precision,
//!   `quantize_packed` / `dequantize_packed` for packed 4-bit storage.
//!   `Quantizer` also converts one value ([`Quantizer::quantize`],
//!   [`Quantizer::dequantize`]).
//! * **Code range.** Where a choice of "narrow range" is made (constructors
//!   `with_code_range`, [`Quantizer::from_min_max`],
//!   [`Quantizer::symmetric`], the calibration functions) it is a
//!   [`CodeRange`]: `Full` (`[Q::MIN, Q::MAX]`) or `Narrow`
//!   (`[Q::MIN + 1, Q::MAX]`, TFLite's `narrow_range`).
//! * **Parameters**, named after the runtime they reproduce:
//!   [`Quantizer::from_min_max`] (TFLite's `ChooseQuantizationParams`),
//!   [`Quantizer::symmetric`] (TFLite's symmetric weights, PyTorch's
//!   symmetric observers), [`Quantizer::dynamic`] (ONNX Runtime's
//!   `DynamicQuantizeLinear`, uint8 and int8); from calibration data,
//!   [`calib::amax_quantizer`](crate::calib::amax_quantizer)
//!   (pytorch-quantization / TensorRT).
//!
//! The fused activation of an output ([`Activation`]) is a clamp computed
//! from the output quantizer, [`activation_range`], so it lives here too.
//!
//! ```
//! use qkit::{quant::{CodeRange, QuantizeSlice, Quantizer}, Round};
//! let q = Quantizer::<u8>::from_min_max(-1.0, 3.0, CodeRange::Full)?;
//! assert_eq!(q.quantize(0.0, Round::HalfAwayFromZero) as i32, q.zero_point());
//! let mut codes = [0u8; 3];
//! q.quantize_slice(&[-1.0, 0.0, 3.0], &mut codes, Round::HalfAwayFromZero)?;
//! assert_eq!(codes, [0, 64, 255]);
//! # Ok::<(), qkit::Error>(())
//! ```

mod activation;
mod code_range;
pub mod ggml;
mod layout;
mod owned;
mod params;
mod per_block;
mod per_channel;
mod per_tensor;
mod slice;

pub use activation::{Activation, activation_range};
pub use code_range::CodeRange;
pub use owned::{PerBlockBuf, PerChannelBuf};
pub use per_block::PerBlock;
pub use per_channel::PerChannel;
pub use per_tensor::Quantizer;
pub use slice::QuantizeSlice;
