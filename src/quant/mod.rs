//! Affine (scale / zero-point) quantizers: the map between real numbers and
//! small integers, `real = scale * (q - zero_point)`.
//!
//! Quantizing computes `q = saturate(round(x / scale) + zero_point)` with the
//! division in `f32`, exactly as TensorFlow Lite's `AffineQuantize` and ONNX
//! Runtime's `QuantizeLinear` do; the [`Round`](crate::Round) argument picks
//! which runtime's tie rule applies.
//!
//! | granularity | type |
//! | --- | --- |
//! | one scale per tensor | [`Quantizer`] (parameters: [`Quantizer::from_min_max`], [`Quantizer::symmetric`], [`Quantizer::dynamic`]) |
//! | one scale per channel along an axis | [`PerChannel`] |
//! | one scale per block of an axis (ONNX blocked) | [`PerBlock`] |
//! | ggml `Q8_0` / `Q4_0` blocks | [`ggml`] |
//!
//! The fused activation of an output ([`Activation`]) is a clamp computed
//! from the output quantizer, [`activation_range`], so it lives here too.
//!
//! ```
//! use qkit::{quant::Quantizer, Round};
//! let q = Quantizer::<u8>::from_min_max(-1.0, 3.0, false)?;
//! assert_eq!(q.quantize(0.0, Round::HalfAwayFromZero) as i32, q.zero_point());
//! # Ok::<(), qkit::Error>(())
//! ```

mod activation;
pub mod ggml;
mod layout;
mod owned;
mod params;
mod per_block;
mod per_channel;
mod per_tensor;

pub use activation::{Activation, activation_range};
pub use owned::{PerBlockBuf, PerChannelBuf};
pub use per_block::PerBlock;
pub use per_channel::PerChannel;
pub use per_tensor::Quantizer;
