//! Choosing a scale and zero point: from a (min, max) range as TFLite does,
//! symmetric from an absolute maximum, and ONNX `DynamicQuantizeLinear`.

use crate::quant::{CodeRange, Quantizer};
use crate::{Error, QInt, Round};

/// The smallest scale the parameter choosers produce: the smallest normal
/// `f32` (a subnormal scale loses precision in `x / scale`, a zero one is
/// not a quantizer).
const SCALE_FLOOR: f32 = f32::MIN_POSITIVE;

impl<Q: QInt> Quantizer<Q> {
    /// Parameters for the real range `[min, max]` over the codes of `range`,
    /// as TFLite's `ChooseQuantizationParams<T>(rmin, rmax, narrow_range)`
    /// computes them (in `f64`; `narrow_range` is [`CodeRange::Narrow`]):
    ///
    /// * the range is first widened to contain 0 (gemmlowp; TFLite requires it);
    /// * `scale = (max - min) / (qmax - qmin)`, with `qmin` the range's
    ///   smallest code ([`CodeRange::qmin`]);
    /// * of the two zero-point candidates `qmin - min/scale` and
    ///   `qmax - max/scale` the one with the smaller error estimate is taken,
    ///   then *nudged* to an integer (clamped to `[qmin, qmax]`, rounded half
    ///   away from zero), so that 0.0 is exactly representable.
    ///
    /// The scale is then rounded to `f32` (the storage precision of a
    /// quantized tensor). Two rules where TFLite has none:
    ///
    /// * **Zero range.** If the widened range is the single point 0, TFLite
    ///   returns scale 0; qkit cannot store that and returns scale 1.0
    ///   (every value of such a tensor is 0, which any scale represents
    ///   exactly) with zero point 0 clamped into `[qmin, qmax]`.
    /// * **Scale floor.** A range so narrow that the scale would fall below
    ///   the smallest normal `f32`, [`f32::MIN_POSITIVE`] (`2^-126`; an int8
    ///   range under about `3e-36`), gets that scale instead, and the zero
    ///   point is chosen for it. Where TFLite would store a subnormal or zero
    ///   scale, qkit stores a valid quantizer in which every value of the
    ///   range is within one step of 0 (PyTorch clamps scales the same way,
    ///   at a larger floor).
    ///
    /// Every finite `min <= max` therefore gives a quantizer. Errors: `NaN`
    /// if either bound is NaN; `InvalidParameter` if a bound is infinite or
    /// `min > max`.
    ///
    /// ```
    /// use qkit::{quant::{CodeRange, Quantizer}, Round};
    /// let q = Quantizer::<u8>::from_min_max(-1.0, 1.0, CodeRange::Full)?;
    /// assert_eq!(q.scale(), (2.0f64 / 255.0) as f32);
    /// assert_eq!(q.zero_point(), 128); // 127.5 nudged away from zero
    /// assert_eq!(q.dequantize(q.quantize(0.0, Round::HalfAwayFromZero)), 0.0);
    /// // A positive range is widened to include 0.
    /// assert_eq!(Quantizer::<i8>::from_min_max(2.0, 4.0, CodeRange::Full)?.zero_point(), -128);
    /// // Narrow: int8 weights in [-127, 127], scale (max - min) / 254.
    /// let w = Quantizer::<i8>::from_min_max(-1.27, 1.27, CodeRange::Narrow)?;
    /// assert_eq!((w.scale(), w.zero_point(), w.qmin()), (0.01, 0, -127));
    /// // The scale floor: a valid range too narrow for a normal f32 scale.
    /// let tiny = Quantizer::<u8>::from_min_max(0.0, 1e-45, CodeRange::Full)?;
    /// assert_eq!((tiny.scale(), tiny.zero_point()), (f32::MIN_POSITIVE, 0));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn from_min_max(min: f32, max: f32, range: CodeRange) -> Result<Self, Error> {
        if min.is_nan() || max.is_nan() {
            return Err(Error::NaN);
        }
        if !(min.is_finite() && max.is_finite()) {
            return Err(Error::InvalidParameter("min and max must be finite"));
        }
        if min > max {
            return Err(Error::InvalidParameter("min must not exceed max"));
        }
        let qmin = range.qmin::<Q>();
        let qmax = Q::MAX;
        let make = |scale: f32, zp: i32| Self::with_code_range(scale, zp, range);
        let rmin = (min as f64).min(0.0);
        let rmax = (max as f64).max(0.0);
        if rmin == rmax {
            return make(1.0, 0.clamp(qmin, qmax));
        }
        let (qmin_d, qmax_d) = (qmin as f64, qmax as f64);
        let scale = ((rmax - rmin) / (qmax_d - qmin_d)).max(SCALE_FLOOR as f64);
        let zero_point_from_min = qmin_d - rmin / scale;
        let zero_point_from_max = qmax_d - rmax / scale;
        let zero_point_from_min_error = qmin_d.abs() + (rmin / scale).abs();
        let zero_point_from_max_error = qmax_d.abs() + (rmax / scale).abs();
        let zero_point = if zero_point_from_min_error < zero_point_from_max_error {
            zero_point_from_min
        } else {
            zero_point_from_max
        };
        let nudged_zero_point = if zero_point < qmin_d {
            qmin
        } else if zero_point > qmax_d {
            qmax
        } else {
            Round::HalfAwayFromZero.round_f64(zero_point) as i32
        };
        make(scale as f32, nudged_zero_point)
    }

    /// Symmetric parameters for values in `[-abs_max, abs_max]`: the
    /// interval is mapped onto the codes of `range` centred on the zero
    /// point, so `scale = abs_max / ((qmax - qmin) / 2)` (in `f32`), half
    /// the width of the code range.
    ///
    /// * **Zero point.** Signed types get 0. Unsigned types get the middle
    ///   code `(Q::MAX + 1) / 2`: 128 for `u8`, 8 for [`U4`](crate::int4::U4).
    ///   That is the convention of PyTorch's `per_tensor_symmetric` `quint8`
    ///   observers (zero point 128) and of XNNPACK's uint4 weights (8); for
    ///   an unsigned tensor of non-negative data (a zero point of 0) use
    ///   [`from_min_max`](Self::from_min_max)`(0.0, max, ..)` or
    ///   [`calib::amax_quantizer`](crate::calib::amax_quantizer).
    /// * **[`CodeRange::Narrow`]**: `scale = abs_max / Q::MAX` for signed
    ///   types, codes `[-Q::MAX, Q::MAX]`: TFLite's symmetric weights
    ///   (`abs_max / 127` in `[-127, 127]`, int4 `abs_max / 7` in `[-7, 7]`).
    /// * **[`CodeRange::Full`]**: `scale = abs_max / ((Q::MAX - Q::MIN) / 2)`,
    ///   `abs_max / 127.5` for int8 over `[-128, 127]`: PyTorch's symmetric
    ///   observers, `max(-min, max) / ((quant_max - quant_min) / 2)`.
    ///
    /// `abs_max == 0` gives scale 1.0 (all values quantize to the zero
    /// point), and a scale below [`f32::MIN_POSITIVE`] is raised to it (the
    /// scale floor of [`from_min_max`](Self::from_min_max)), so every finite
    /// `abs_max >= 0` gives a quantizer.
    ///
    /// Errors: `NaN` for NaN, `InvalidParameter` for a negative or infinite
    /// `abs_max`.
    ///
    /// ```
    /// use qkit::{int4::I4, quant::{CodeRange, Quantizer}, Round};
    /// let w = Quantizer::<i8>::symmetric(2.54, CodeRange::Narrow)?;
    /// assert_eq!(w.scale(), 2.54f32 / 127.0);
    /// assert_eq!(w.quantize(-2.54, Round::HalfAwayFromZero), -127);
    /// let w4 = Quantizer::<I4>::symmetric(7.0, CodeRange::Narrow)?;
    /// assert_eq!((w4.scale(), w4.qmin()), (1.0, -7));
    /// assert_eq!(Quantizer::<i8>::symmetric(2.55, CodeRange::Full)?.scale(), 2.55f32 / 127.5);
    /// assert_eq!(Quantizer::<u8>::symmetric(1.0, CodeRange::Full)?.zero_point(), 128);
    /// assert_eq!(Quantizer::<i8>::symmetric(1e-45, CodeRange::Narrow)?.scale(), f32::MIN_POSITIVE);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn symmetric(abs_max: f32, range: CodeRange) -> Result<Self, Error> {
        if abs_max.is_nan() {
            return Err(Error::NaN);
        }
        if !(abs_max.is_finite() && abs_max >= 0.0) {
            return Err(Error::InvalidParameter("abs_max must be finite and >= 0"));
        }
        let zp = if Q::MIN == 0 { (Q::MAX + 1) / 2 } else { 0 };
        // Half the width of the code range: Q::MAX - zp when narrow (e.g.
        // 127), (Q::MAX - Q::MIN) / 2 when full (e.g. 127.5).
        let half_width = (Q::MAX as i64 - range.qmin::<Q>() as i64) as f32 / 2.0;
        let scale = if abs_max == 0.0 {
            1.0
        } else {
            (abs_max / half_width).max(SCALE_FLOOR)
        };
        Self::with_code_range(scale, zp, range)
    }
}

/// ONNX Runtime's `GetQuantizationParameter<T>` (onnxruntime/core/util/qmath.h),
/// all in `f32`, for `T` = `u8` or `i8`:
/// `min = min(0, min x)`, `max = max(0, max x)`,
/// `scale = (max - min) / (qmax - qmin)` (1.0 when `max == min`),
/// `zero_point = round_half_even(clamp(qmin - min / scale, qmin, qmax))`,
/// with qkit's two rules for the cases where that `f32` arithmetic breaks
/// down (see [`Quantizer::<u8>::dynamic`]).
fn dynamic_params<Q: QInt>(x: &[f32]) -> Result<Quantizer<Q>, Error> {
    if x.is_empty() {
        return Err(Error::Empty);
    }
    let mut min = 0.0f32;
    let mut max = 0.0f32;
    let mut nan = false;
    for &v in x {
        nan |= v.is_nan();
        min = if v < min { v } else { min };
        max = if v > max { v } else { max };
    }
    if nan {
        return Err(Error::NaN);
    }
    if !(min.is_finite() && max.is_finite()) {
        return Err(Error::InvalidParameter("values must be finite"));
    }
    let (qmin, qmax) = (Q::MIN as f32, Q::MAX as f32);
    let levels = qmax - qmin;
    let spread = max - min;
    let scale = if max == min {
        1.0
    } else if spread.is_finite() {
        spread / levels
    } else {
        ((max as f64 - min as f64) / levels as f64) as f32
    }
    .max(SCALE_FLOOR);
    let initial_zero_point = qmin - min / scale;
    let zp = Round::HalfToEven.round_f32(initial_zero_point.clamp(qmin, qmax));
    Quantizer::new(scale, zp as i32)
}

impl Quantizer<u8> {
    /// The uint8 parameters ONNX `DynamicQuantizeLinear` computes for `x`
    /// (ONNX Runtime's `GetQuantizationParameter<uint8_t>` in
    /// [core/util/qmath.h](https://github.com/microsoft/onnxruntime/blob/main/onnxruntime/core/util/qmath.h),
    /// all in `f32`): `min = min(0, min x)`, `max = max(0, max x)`,
    /// `scale = (max - min) / 255` (1.0 when `max == min`),
    /// `zero_point = round_half_even(clamp(0 - min / scale, 0, 255))`.
    /// Quantize with [`Round::HalfToEven`] to reproduce the operator's output.
    ///
    /// Two rules keep every finite input valid where ONNX Runtime's `f32`
    /// arithmetic breaks down: when `max - min` overflows `f32` (a spread
    /// beyond `f32::MAX`, such as `[-3e38, 3e38]`) the scale is computed in
    /// `f64` and rounded once; a scale below [`f32::MIN_POSITIVE`] is raised
    /// to it (the scale floor of [`from_min_max`](Self::from_min_max)).
    ///
    /// Errors: `Empty` for no data, `NaN` if any value is NaN,
    /// `InvalidParameter` if a value is infinite.
    ///
    /// ```
    /// use qkit::{quant::Quantizer, Round};
    /// let x = [-1.0f32, 0.5, 3.0];
    /// let q = Quantizer::<u8>::dynamic(&x)?;
    /// assert_eq!(q.scale(), 4.0 / 255.0);
    /// assert_eq!(q.zero_point(), 64); // 63.75 -> 64
    /// assert_eq!(q.quantize(3.0, Round::HalfToEven), 255);
    /// assert!(Quantizer::<u8>::dynamic(&[]).is_err());
    /// let wide = Quantizer::<u8>::dynamic(&[-3e38, 3e38])?;
    /// assert_eq!((wide.scale(), wide.zero_point()), ((6e38f64 / 255.0) as f32, 128));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn dynamic(x: &[f32]) -> Result<Self, Error> {
        dynamic_params(x)
    }
}

impl Quantizer<i8> {
    /// Dynamic int8 parameters for `x`, as ONNX Runtime computes them:
    /// `GetQuantizationParameter<int8_t>` in
    /// [core/util/qmath.h](https://github.com/microsoft/onnxruntime/blob/main/onnxruntime/core/util/qmath.h),
    /// the int8 instance of the template behind `DynamicQuantizeLinear`
    /// (the uint8 [`dynamic`](Quantizer::<u8>::dynamic)), with
    /// `qmin = -128`, `qmax = 127`, all in `f32`:
    /// `min = min(0, min x)`, `max = max(0, max x)`,
    /// `scale = (max - min) / 255` (1.0 when `max == min`),
    /// `zero_point = round_half_even(clamp(-128 - min / scale, -128, 127))`.
    /// The scale is the uint8 one; the zero point is the uint8 one minus
    /// 128 except where the `f32` subtraction `-128 - min / scale` rounds a
    /// near-tie differently (as it does in ONNX Runtime).
    ///
    /// This is an asymmetric (affine) choice over the full range.
    /// PyTorch's `quantize_per_tensor_dynamic` chooses the zero point
    /// another way (of the candidates from `min` and from `max`, the one
    /// with the smaller error, as TFLite's [`from_min_max`](Self::from_min_max));
    /// for symmetric int8 use [`symmetric`](Self::symmetric). The same two
    /// rules as the uint8 form keep every finite input valid.
    ///
    /// Errors: `Empty` for no data, `NaN` if any value is NaN,
    /// `InvalidParameter` if a value is infinite.
    ///
    /// ```
    /// use qkit::{quant::Quantizer, Round};
    /// let q = Quantizer::<i8>::dynamic(&[-1.0, 0.5, 3.0])?;
    /// assert_eq!((q.scale(), q.zero_point()), (4.0 / 255.0, -64)); // -128 + 63.75 -> -64
    /// assert_eq!(q.quantize(3.0, Round::HalfToEven), 127);
    /// assert_eq!(q.quantize(-1.0, Round::HalfToEven), -128);
    /// assert_eq!(Quantizer::<i8>::dynamic(&[2.0, 4.0])?.zero_point(), -128);
    /// assert!(Quantizer::<i8>::dynamic(&[f32::NAN]).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn dynamic(x: &[f32]) -> Result<Self, Error> {
        dynamic_params(x)
    }
}
