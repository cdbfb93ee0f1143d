//! Affine (scale / zero-point) quantizers: the map between real numbers and
//! small integers, `real = scale * (q - zero_point)`.
//!
//! Quantizing computes `q = saturate(round(x / scale) + zero_point)` with the
//! division in `f32`, exactly as TensorFlow Lite's `AffineQuantize` and ONNX
//! Runtime's `QuantizeLinear` do; the [`Round`](crate::Round) argument picks
//! which runtime's tie rule applies.

mod per_tensor;

pub use per_tensor::Quantizer;
