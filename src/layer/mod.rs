//! The fully-connected layer, bit for bit as TensorFlow Lite Micro computes it.
//!
//! For every batch row `b` and output channel `o` (TFLite Micro's reference
//! `FullyConnected` kernel):
//!
//! ```text
//! acc    = Σ_k (x[b,k] - zp_in) · w[o,k] + bias[o]          (int32, wrapping)
//! y      = requantize(acc, M[o]) + zp_out
//! out    = clamp(y, act_min, act_max)
//! ```
//!
//! The input zero point is folded into the bias once, when the layer is
//! built (`bias'[o] = bias[o] - zp_in · Σ_k w[o,k]`), so the
//! hot loop is a plain GEMV on the raw int8 values ([`crate::kernel`]); the
//! result is identical to the reference loop because int32 wrapping addition
//! is associative.
//!
//! The multipliers `M[o]` are formed from the scales exactly as the TFLite
//! Micro runtime does: `(double)s_in · (double)s_w[o] / (double)s_out`, then
//! [`quantize_multiplier`](crate::requant::quantize_multiplier) — for per-channel **and per-tensor** layers.
//! TFLite's `GetQuantizedConvolutionMultipler` rounds the per-tensor
//! product `s_in · s_w` to `f32` first, but the
//! `tflite-micro` interpreter does not: golden probes whose scales make the
//! two compositions give different outputs match the all-`f64` form only
//! (`tests/layer_golden.rs`). The activation clamp follows
//! `CalculateActivationRangeQuantized`.
//!
//! Two layer types share the design:
//! * [`FullyConnected`] — int8 activations, int8 weights (per-tensor or
//!   per-channel scales) or int4 weights (TFLite-packed, or a
//!   [`PreparedI4`](crate::kernel::PreparedI4)), int32 bias.
//! * [`FullyConnected16x8`] — int16 activations, int8 weights, int64 bias,
//!   the 64-bit requantization with a Q15 multiplier (TFLite's
//!   `MultiplyByQuantizedMultiplier` for int64 accumulators).
//!
//! Every layer is built from the quantizers it is defined by, the form the
//! elementwise `ops` take: [`Quantization`] holds the input and output
//! [`Quantizer`](crate::quant::Quantizer)s, the weights' [`FilterQuantizer`]
//! (per tensor or per channel) and the fused [`Activation`]; pools, softmax
//! and the lookup-table activations take their input/output quantizers
//! directly. [`RequantMode`] picks which runtime's output stage a layer
//! reproduces (TFLM / CMSIS-NN double or single rounding, LiteRT optimized,
//! LiteRT reference, `Float32` for XNNPACK and ONNX Runtime).
//!
//! No allocation: the per-channel data (folded bias, multiplier) lives in a
//! caller-provided `&mut [Channel]`, one per output channel, or inside an
//! owned layer with a fixed capacity ([`FullyConnectedBuf`]), which a helper
//! function can return and firmware can keep for the program's lifetime.
//!
//! The convolutional-network layers follow the same conventions, with the
//! integers of TFLite Micro's reference kernels: [`Conv2D`] /
//! [`Conv2D16x8`] (im2col into a caller scratch buffer sized by
//! [`Conv2D::buffer_len`], then the GEMM kernels), [`DepthwiseConv2D`] /
//! [`DepthwiseConv2D16x8`], [`AveragePool2D`] / [`MaxPool2D`] (int8 and
//! int16), [`Softmax`], and [`Logistic`] / [`Tanh`] (TFLite Micro's fixed
//! point or LiteRT's float table, [`TableMode`]), [`Logistic16`] / [`Tanh16`].
//!
//! ```
//! use qkit::layer::{Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode};
//! use qkit::quant::Quantizer;
//! // 2 outputs × 3 inputs, as a .tflite file stores them.
//! let weights = [10i8, -20, 30, 127, 0, -127];
//! let bias = [100i32, -50];
//! let q = Quantization {
//!     input: Quantizer::new(0.5, -1)?,
//!     filter: FilterQuantizer::symmetric(&[0.01])?,
//!     output: Quantizer::new(0.1, 3)?,
//!     activation: Activation::None,
//! };
//! let mut channels = [Channel::default(); 2];
//! let fc = FullyConnected::new(&weights, 3, Some(&bias), &q, RequantMode::Double, &mut channels)?;
//! let mut out = [0i8; 2];
//! fc.run(&[4, 5, -6], 1, &mut out)?;
//! // acc0 = 5·10 + 6·(-20) + (-5)·30 + 100 = -120; · 0.05 = -6, + 3
//! // acc1 = 5·127 + (-5)·(-127) - 50 = 1220; · 0.05 = 61, + 3
//! assert_eq!(out, [-3, 64]);
//! # Ok::<(), qkit::Error>(())
//! ```

mod conv;
mod depthwise_conv;
mod fully_connected;
mod gemmlowp;
mod logistic;
mod matmul;
mod pool;
mod quantization;
mod softmax;
mod stage;
mod window;

/// The fused activation (TFLite's `FusedActivationFunctionType`), shared
/// with the elementwise ops: [`crate::ops::Activation`].
pub use crate::ops::Activation;
pub use conv::{Conv2D, Conv2D16x8, Conv2DShape};
pub use depthwise_conv::{DepthwiseConv2D, DepthwiseConv2D16x8, DepthwiseConv2DShape};
pub use fully_connected::{
    Channel, FullyConnected, FullyConnected16x8, FullyConnected16x8Buf, FullyConnectedBuf,
    RequantMode,
};
pub use logistic::{Logistic, Logistic16, TableMode, Tanh, Tanh16};
pub use matmul::{
    MatMulColumn, MatMulInteger, MatMulOperand, MatMulQuantization, QLinearMatMul,
    matmul_buffer_len, ort_output_scale,
};
pub use pool::{AveragePool2D, MaxPool2D, Pool2DShape, PoolElement};
pub use quantization::{FilterQuantizer, Quantization};
pub use softmax::{Softmax, Softmax16};
pub use window::Padding;
