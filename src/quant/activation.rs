//! Fused activation functions as an output clamp range: a property of the
//! output quantization (the clamp is computed from the output's scale and
//! zero point), so it lives beside the quantizers. `ops::Activation` and
//! `layer::Activation` are re-exports of this one type.

use crate::quant::Quantizer;
use crate::{Error, QInt};

/// TFLite's fused activation functions that quantized kernels implement as a
/// clamp of the output.
///
/// ```
/// use qkit::quant::Activation;
/// assert_ne!(Activation::Relu, Activation::Relu6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Activation {
    /// No clamp beyond the type's range.
    #[default]
    None,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `min(max(x, -1), 1)`.
    ReluN1To1,
}

/// TFLite's `Quantize(f) = zero_point + (int32)round(f / scale)`: the
/// division in `f32`, ties away from zero; `Err(Overflow)` if it leaves `i32`.
fn quantize_bound<Q: QInt>(out: &Quantizer<Q>, f: f32) -> Result<i32, Error> {
    let r = libm::roundf(f / out.scale());
    if !(r >= i32::MIN as f32 && r < i32::MAX as f32) {
        return Err(Error::Overflow);
    }
    (r as i32)
        .checked_add(out.zero_point())
        .ok_or(Error::Overflow)
}

/// The output clamp `[act_min, act_max]` of an activation, computed exactly
/// as TFLite's `CalculateActivationRangeQuantized` (kernel_util.cc):
///
/// * `None`: `[Q::MIN, Q::MAX]`;
/// * `Relu`: `[max(Q::MIN, Quantize(0)), Q::MAX]`;
/// * `Relu6`: `[max(Q::MIN, Quantize(0)), min(Q::MAX, Quantize(6))]`;
/// * `ReluN1To1`: `[max(Q::MIN, Quantize(-1)), min(Q::MAX, Quantize(1))]`;
///
/// with `Quantize(f) = zero_point + (int32)round(f / scale)` in `f32`, ties
/// away from zero. `Err(Overflow)` where TFLite reports an error (the
/// quantized bound overflows `i32`).
///
/// ```
/// use qkit::quant::{activation_range, Activation, Quantizer};
/// let out = Quantizer::<i8>::new(0.05, -128)?;
/// assert_eq!(activation_range(Activation::None, out)?, (-128, 127));
/// assert_eq!(activation_range(Activation::Relu, out)?, (-128, 127));
/// assert_eq!(activation_range(Activation::Relu6, out)?, (-128, -8)); // 6 / 0.05 = 120
/// let sym = Quantizer::<i8>::new(0.01, 0)?;
/// assert_eq!(activation_range(Activation::ReluN1To1, sym)?, (-100, 100));
/// # Ok::<(), qkit::Error>(())
/// ```
#[doc(alias = "CalculateActivationRangeQuantized")]
pub fn activation_range<Q: QInt>(
    activation: Activation,
    output: Quantizer<Q>,
) -> Result<(Q, Q), Error> {
    let (qmin, qmax) = (Q::MIN, Q::MAX);
    let (lo, hi) = match activation {
        Activation::None => (qmin, qmax),
        Activation::Relu => (qmin.max(quantize_bound(&output, 0.0)?), qmax),
        Activation::Relu6 => (
            qmin.max(quantize_bound(&output, 0.0)?),
            qmax.min(quantize_bound(&output, 6.0)?),
        ),
        Activation::ReluN1To1 => (
            qmin.max(quantize_bound(&output, -1.0)?),
            qmax.min(quantize_bound(&output, 1.0)?),
        ),
    };
    Ok((Q::saturating_from_i32(lo), Q::saturating_from_i32(hi)))
}
