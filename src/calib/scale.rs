//! From a threshold to a scale and a [`Quantizer`].

use crate::quant::{CodeRange, Quantizer};
use crate::{Error, QInt};

/// Thresholds at or below this floor (`2^-24`) count as zero: the scale is
/// 1.0 and every value quantizes to 0. pytorch-quantization's rule (its
/// `_tensor_quant` in `tensor_quant.py` treats an `amax <= 2^-24`, the
/// smallest `f16` subnormal, as zero and returns scale 1), so an unused
/// all-zero channel gets a usable scale instead of an infinite or
/// subnormal one.
///
/// ```
/// assert_eq!(qkit::calib::ZERO_FLOOR, 1.0 / 16_777_216.0);
/// ```
pub const ZERO_FLOOR: f32 = 1.0 / 16_777_216.0;

/// `Err(InvalidParameter)` unless the threshold is finite and `>= 0`.
fn check_threshold(t: f32) -> Result<(), Error> {
    if !(t.is_finite() && t >= 0.0) {
        return Err(Error::InvalidParameter("threshold must be finite and >= 0"));
    }
    Ok(())
}

/// `t / steps` rounded once to `f32` (computed in `f64`), or 1.0 for a
/// threshold at or below [`ZERO_FLOOR`] (the zero rule).
fn threshold_scale(t: f32, steps: f64) -> Result<f32, Error> {
    if t <= ZERO_FLOOR {
        return Ok(1.0);
    }
    let s = (t as f64 / steps) as f32;
    if !(s.is_finite() && s > 0.0) {
        return Err(Error::InvalidScale(s as f64));
    }
    Ok(s)
}

/// The symmetric scale for threshold `t` and largest positive code `qmax`
/// (127 for int8, 7 for int4): `[-t, t]` maps onto the signed codes of
/// `range`, so the scale is `t` over half their width:
///
/// | `range` | codes | scale | convention |
/// | --- | --- | --- | --- |
/// | [`CodeRange::Narrow`] | `[-qmax, qmax]` | `t / qmax` | TensorRT, pytorch-quantization, TFLite weights |
/// | [`CodeRange::Full`] | `[-qmax - 1, qmax]` | `t / (qmax + 0.5)` | PyTorch's symmetric observers (`qint8`) |
///
/// For int8 and `t = 2` that is `0.015748031` against `0.015686275`.
/// The quotient is computed in `f64` and rounded once to `f32`.
/// `t <= ZERO_FLOOR` (including 0) gives scale 1.0, the zero rule.
/// `Err(InvalidParameter)` for a negative, NaN or infinite `t`, or `qmax == 0`.
///
/// ```
/// use qkit::{calib::symmetric_scale, quant::CodeRange};
/// assert_eq!(symmetric_scale(2.0, 127, CodeRange::Narrow)?, 2.0 / 127.0);
/// assert_eq!(symmetric_scale(2.0, 127, CodeRange::Full)?, 2.0 / 127.5);
/// assert_eq!(symmetric_scale(0.0, 127, CodeRange::Narrow)?, 1.0);
/// assert_eq!(symmetric_scale(3.5, 7, CodeRange::Narrow)?, 0.5); // int4
/// assert!(symmetric_scale(f32::NAN, 127, CodeRange::Narrow).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn symmetric_scale(t: f32, qmax: u32, range: CodeRange) -> Result<f32, Error> {
    check_threshold(t)?;
    if qmax == 0 {
        return Err(Error::InvalidParameter("qmax must be > 0"));
    }
    let half_width = match range {
        CodeRange::Narrow => qmax as f64,
        CodeRange::Full => qmax as f64 + 0.5,
    };
    threshold_scale(t, half_width)
}

/// The quantizer for a calibrated threshold `amax` (what the threshold
/// functions of this module return), in the conventions of
/// pytorch-quantization (NVIDIA's `TensorQuantizer`, the toolkit behind
/// TensorRT's calibration, which calls the threshold `amax`):
///
/// * **signed `Q`** (`i8`, `i16`, [`I4`](crate::int4::I4)): symmetric, zero
///   point 0, scale [`symmetric_scale`]`(amax, Q::MAX, range)` over the
///   codes of `range`. [`CodeRange::Narrow`] is pytorch-quantization's and
///   TensorRT's default and saturates at `-Q::MAX` too, never at the
///   storage type's minimum; [`CodeRange::Full`] uses PyTorch core's
///   `amax / (Q::MAX + 0.5)` over every code.
/// * **unsigned `Q`** (`u8`): pytorch-quantization's `unsigned=True`, the
///   one-sided range `[0, amax]` of post-ReLU data: zero point 0,
///   `scale = amax / Q::MAX`, every code (`range` is ignored, as
///   pytorch-quantization ignores `narrow_range` for unsigned data).
///
/// The zero rule applies: `amax <= ZERO_FLOOR` gives scale 1.
///
/// Not the same as [`Quantizer::symmetric`], which centres unsigned types
/// on their middle code (zero point 128 for `u8`, PyTorch's and TFLite's
/// convention) and has no zero floor.
///
/// ```
/// use qkit::{calib::amax_quantizer, int4::I4, quant::CodeRange, Round};
/// let q = amax_quantizer::<i8>(2.54, CodeRange::Narrow)?;
/// assert_eq!((q.zero_point(), q.qmin(), q.code_range()), (0, -127, CodeRange::Narrow));
/// assert_eq!(q.quantize(2.54, Round::HalfToEven), 127);
/// assert_eq!(q.quantize(-9.0, Round::HalfToEven), -127); // narrow range
/// // int4: qmax = 7
/// let q4 = amax_quantizer::<I4>(3.5, CodeRange::Narrow)?;
/// assert_eq!(q4.scale(), 0.5);
/// assert_eq!(q4.quantize(-9.0, Round::HalfToEven).get(), -7);
/// let full = amax_quantizer::<i8>(2.54, CodeRange::Full)?;
/// assert_eq!(full.quantize(-9.0, Round::HalfToEven), -128);
/// // uint8: [0, amax], zero point 0.
/// let u = amax_quantizer::<u8>(2.55, CodeRange::Narrow)?;
/// assert_eq!((u.scale(), u.zero_point(), u.qmin()), (0.01, 0, 0));
/// let z = amax_quantizer::<i8>(0.0, CodeRange::Narrow)?;
/// assert_eq!((z.scale(), z.quantize(0.0, Round::HalfToEven)), (1.0, 0));
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn amax_quantizer<Q: QInt>(amax: f32, range: CodeRange) -> Result<Quantizer<Q>, Error> {
    if Q::MIN >= 0 {
        check_threshold(amax)?;
        let s = threshold_scale(amax, Q::MAX as f64)?;
        return Quantizer::new(s, 0);
    }
    let s = symmetric_scale(amax, Q::MAX as u32, range)?;
    Quantizer::with_code_range(s, 0, range)
}
