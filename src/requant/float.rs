//! Float32 requantization, as ONNX Runtime (MLAS) and XNNPACK's `fp32`
//! scheme do it: no integer multiplier at all.

use crate::Error;

/// `clamp(acc as f32 · scale, min - zp, max - zp)` rounded to nearest with
/// ties to **even**, then `+ zero_point`: ONNX Runtime's
/// `MlasRequantizeOutput` and XNNPACK's `fp32` requantization (every current
/// x86 qs8 GEMM). `scale` is the `f32` product `in_scale · w_scale / out_scale`
/// those runtimes compute; `acc` should already include the bias.
///
/// The clamp happens in float before rounding (the bounds are integers, so
/// this equals clamping after). `acc as f32` is inexact for `|acc| > 2^24`,
/// exactly as in those runtimes.
///
/// Errors (checked before anything is computed, where MLAS would return a
/// value anyway): `InvalidScale` unless `scale` is finite and `> 0` (a NaN
/// scale gives `min` in MLAS); `InvalidParameter` if `min > max`.
///
/// ```
/// use qkit::requant::requantize_f32;
/// assert_eq!(requantize_f32(5, 0.5, 0, -128, 127)?, 2);   // 2.5 -> 2 (even)
/// assert_eq!(requantize_f32(7, 0.5, 0, -128, 127)?, 4);   // 3.5 -> 4
/// assert_eq!(requantize_f32(-5, 0.5, 1, -128, 127)?, -1); // -2.5 -> -2, + 1
/// assert_eq!(requantize_f32(1000, 0.5, 10, -128, 127)?, 127);
/// assert!(requantize_f32(3, f32::NAN, 0, -128, 127).is_err());
/// assert!(requantize_f32(3, 0.5, 0, 127, -128).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
#[doc(alias = "MlasRequantizeOutput")]
#[inline]
pub fn requantize_f32(
    acc: i32,
    scale: f32,
    zero_point: i32,
    min: i32,
    max: i32,
) -> Result<i32, Error> {
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::InvalidScale(scale as f64));
    }
    if min > max {
        return Err(Error::InvalidParameter("min > max"));
    }
    Ok(requantize_f32_raw(acc, scale, zero_point, min, max))
}

/// [`requantize_f32`] without the checks, for callers that validated the
/// scale and the bounds once (the layers). Never panics: a NaN scale gives
/// `min` (as MLAS on SSE and NEON), and `min > max` gives `max`.
#[inline]
pub(crate) fn requantize_f32_raw(acc: i32, scale: f32, zero_point: i32, min: i32, max: i32) -> i32 {
    let lo = (min as i64 - zero_point as i64) as f32;
    let hi = (max as i64 - zero_point as i64) as f32;
    let v = (acc as f32 * scale).max(lo).min(hi);
    // |v| <= 2^33 after the clamp: the cast is exact and cannot saturate.
    let r = libm::rintf(v) as i64 + zero_point as i64;
    r.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}
