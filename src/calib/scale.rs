//! From a threshold to a scale and a [`Quantizer`].

use crate::quant::Quantizer;
use crate::{Error, QInt};

/// Thresholds at or below this floor (`2^-24`) count as zero: the scale is
/// 1.0 and every value quantizes to 0 (pytorch-quantization's rule, §1 of
/// CALIBRATION.md).
///
/// ```
/// assert_eq!(qkit::calib::ZERO_FLOOR, 1.0 / 16_777_216.0);
/// ```
pub const ZERO_FLOOR: f32 = 1.0 / 16_777_216.0;

/// How a symmetric threshold `t` maps onto the signed code range.
///
/// ```
/// use qkit::calib::{symmetric_scale, SymmetricRange};
/// // CALIBRATION.md §0: amax 2 gives 0.015748031 (÷127) vs 0.015686275 (÷127.5)
/// assert_eq!(symmetric_scale(2.0, 127, SymmetricRange::Narrow)?, 2.0 / 127.0);
/// assert_eq!(symmetric_scale(2.0, 127, SymmetricRange::Full)?, 2.0 / 127.5);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SymmetricRange {
    /// `[-qmax, qmax]`, `s = t / qmax` (TensorRT, pytorch-quantization,
    /// TFLite weights). [`symmetric_quantizer`] builds a narrow-range
    /// quantizer: it saturates at `-qmax` too, never at the storage type's
    /// minimum.
    Narrow,
    /// `[-qmax-1, qmax]`, `s = t / (qmax + 0.5)` (PyTorch observers, qint8).
    Full,
}

/// The symmetric scale for threshold `t` and largest positive code `qmax`
/// (127 for int8, 7 for int4).
///
/// `t <= ZERO_FLOOR` (including 0) gives scale 1.0, the zero rule.
/// `Err(InvalidParameter)` for a negative, NaN or infinite `t`, or `qmax == 0`.
///
/// ```
/// use qkit::calib::{symmetric_scale, SymmetricRange};
/// assert_eq!(symmetric_scale(0.0, 127, SymmetricRange::Narrow)?, 1.0);
/// assert_eq!(symmetric_scale(3.5, 7, SymmetricRange::Narrow)?, 0.5); // int4
/// assert!(symmetric_scale(f32::NAN, 127, SymmetricRange::Narrow).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn symmetric_scale(t: f32, qmax: u32, range: SymmetricRange) -> Result<f32, Error> {
    if !(t.is_finite() && t >= 0.0) {
        return Err(Error::InvalidParameter("threshold must be finite and >= 0"));
    }
    if qmax == 0 {
        return Err(Error::InvalidParameter("qmax must be > 0"));
    }
    if t <= ZERO_FLOOR {
        return Ok(1.0);
    }
    let div = match range {
        SymmetricRange::Narrow => qmax as f64,
        SymmetricRange::Full => qmax as f64 + 0.5,
    };
    let s = (t as f64 / div) as f32;
    if !(s.is_finite() && s > 0.0) {
        return Err(Error::InvalidScale(s as f64));
    }
    Ok(s)
}

/// A quantizer for storage type `Q` from threshold `t`.
///
/// Signed `Q` (`i8`, `i16`, [`I4`](crate::int4::I4)): symmetric,
/// zero point 0, `qmax = Q::MAX`; [`SymmetricRange::Narrow`] gives a
/// narrow-range quantizer (`qmin = -qmax`, [`Quantizer::narrow`]),
/// [`SymmetricRange::Full`] the full range. Unsigned `Q` (`u8`): the range
/// `[0, t]` (post-ReLU data), `s = t / Q::MAX`, zero point 0, full range;
/// `range` is ignored. The zero rule applies: `t <= ZERO_FLOOR` gives
/// scale 1.
///
/// ```
/// use qkit::{calib::{symmetric_quantizer, SymmetricRange}, Round};
/// let q = symmetric_quantizer::<i8>(2.54, SymmetricRange::Narrow)?;
/// assert_eq!((q.zero_point(), q.qmin(), q.is_narrow()), (0, -127, true));
/// assert_eq!(q.quantize(2.54, Round::HalfToEven), 127);
/// assert_eq!(q.quantize(-9.0, Round::HalfToEven), -127); // narrow range
/// // int4: qmax = 7
/// let q4 = symmetric_quantizer::<qkit::int4::I4>(3.5, SymmetricRange::Narrow)?;
/// assert_eq!(q4.scale(), 0.5);
/// assert_eq!(q4.quantize(-9.0, Round::HalfToEven).get(), -7);
/// let full = symmetric_quantizer::<i8>(2.54, SymmetricRange::Full)?;
/// assert_eq!(full.quantize(-9.0, Round::HalfToEven), -128);
/// let z = symmetric_quantizer::<i8>(0.0, SymmetricRange::Narrow)?;
/// assert_eq!((z.scale(), z.quantize(0.0, Round::HalfToEven)), (1.0, 0));
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn symmetric_quantizer<Q: QInt>(t: f32, range: SymmetricRange) -> Result<Quantizer<Q>, Error> {
    let qmax = Q::MAX as u32;
    let range = if Q::MIN >= 0 {
        SymmetricRange::Narrow
    } else {
        range
    };
    let s = symmetric_scale(t, qmax, range)?;
    match range {
        SymmetricRange::Narrow if Q::MIN < 0 => Quantizer::<Q>::narrow(s, 0),
        _ => Quantizer::<Q>::new(s, 0),
    }
}
