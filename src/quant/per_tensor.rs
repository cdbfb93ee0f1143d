//! One scale and one zero point for a whole tensor.

use core::marker::PhantomData;

use crate::{Error, QInt, Round};

/// A per-tensor affine quantizer for storage type `Q`.
///
/// `real = scale * (q - zero_point)`.
///
/// ```
/// use qkit::{quant::Quantizer, Round};
/// let q = Quantizer::<i8>::new(0.5, -1)?;
/// assert_eq!(q.quantize(1.25, Round::HalfAwayFromZero), 2);  // TFLite: 2.5 -> 3, then -1
/// assert_eq!(q.quantize(1.25, Round::HalfToEven), 1);        // ONNX:   2.5 -> 2, then -1
/// assert_eq!(q.dequantize(2), 1.5);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Quantizer<Q: QInt> {
    scale: f32,
    zero_point: i32,
    _storage: PhantomData<Q>,
}

impl<Q: QInt> Quantizer<Q> {
    /// A quantizer with the given scale and zero point.
    ///
    /// `Err(InvalidScale)` unless `scale` is finite and `> 0`;
    /// `Err(ZeroPointOutOfRange)` unless `zero_point` lies in `Q`'s range.
    ///
    /// ```
    /// use qkit::{quant::Quantizer, Error};
    /// assert!(Quantizer::<u8>::new(0.1, 128).is_ok());
    /// assert!(matches!(Quantizer::<u8>::new(0.0, 0), Err(Error::InvalidScale(_))));
    /// assert!(matches!(Quantizer::<i8>::new(1.0, 128), Err(Error::ZeroPointOutOfRange { .. })));
    /// ```
    pub fn new(scale: f32, zero_point: i32) -> Result<Self, Error> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::InvalidScale(scale as f64));
        }
        if zero_point < Q::MIN || zero_point > Q::MAX {
            return Err(Error::ZeroPointOutOfRange {
                zero_point,
                min: Q::MIN,
                max: Q::MAX,
            });
        }
        Ok(Self {
            scale,
            zero_point,
            _storage: PhantomData,
        })
    }

    /// The scale: the real value of one quantization step.
    ///
    /// ```
    /// # use qkit::quant::Quantizer;
    /// assert_eq!(Quantizer::<i8>::new(0.25, 0)?.scale(), 0.25);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    #[inline]
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// The zero point: the integer that represents real 0.0 exactly.
    ///
    /// ```
    /// # use qkit::quant::Quantizer;
    /// assert_eq!(Quantizer::<u8>::new(0.25, 128)?.zero_point(), 128);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    #[inline]
    pub fn zero_point(&self) -> i32 {
        self.zero_point
    }

    /// Quantizes one value: `saturate(round(x / scale) + zero_point)`, the
    /// division in `f32`, the zero point added after rounding (TFLite
    /// `AffineQuantize`, ONNX `QuantizeLinear`).
    ///
    /// Non-finite input is deterministic: `+inf` gives `Q::MAX`, `-inf` gives
    /// `Q::MIN`, and NaN gives `Q::MIN` (what ONNX Runtime's MLAS returns on
    /// every ISA, and what TFLite's reference produces on x86).
    ///
    /// ```
    /// use qkit::{quant::Quantizer, Round};
    /// let q = Quantizer::<i8>::new(1.0, 0)?;
    /// assert_eq!(q.quantize(1e9, Round::HalfToEven), 127);
    /// assert_eq!(q.quantize(f32::NAN, Round::HalfToEven), -128);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    #[inline]
    pub fn quantize(&self, x: f32, round: Round) -> Q {
        if x.is_nan() {
            return Q::saturating_from_i32(Q::MIN);
        }
        // `as i64` saturates ±inf and huge values; the clamp does the rest.
        let r = round.round_f32(x / self.scale) as i64;
        Q::saturating_from_i64(r.saturating_add(self.zero_point as i64))
    }

    /// Dequantizes one value: `scale * (q - zero_point)`, computed in `f64`
    /// and rounded once to `f32` (TFLite `Dequantize`; equal to ONNX's `f32`
    /// product whenever `|q - zero_point| < 2^24`, i.e. for every 8/16-bit type).
    ///
    /// ```
    /// # use qkit::quant::Quantizer;
    /// let q = Quantizer::<u8>::new(0.5, 10)?;
    /// assert_eq!(q.dequantize(14), 2.0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    #[inline]
    pub fn dequantize(&self, q: Q) -> f32 {
        (self.scale as f64 * (q.to_i32() as i64 - self.zero_point as i64) as f64) as f32
    }
}
