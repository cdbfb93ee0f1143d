//! Integer-to-integer REQUANTIZE (TFLite's QUANTIZE with an integer input).

use core::marker::PhantomData;

use crate::quant::Quantizer;
use crate::requant::{
    QuantizedMultiplier, Rounding, multiply_by_quantized_multiplier_exact,
    quantize_multiplier_checked, requantize_real_multiplier,
};
use crate::{Error, QInt};

/// Prepared parameters to move integers from one quantizer to another:
/// `M = (double)s_in / (double)s_out`, as TFLite's `reference_ops::Requantize`
/// (TFLite Micro QUANTIZE with an int8/uint8/int16 input).
///
/// ```
/// use qkit::ops::RequantizeParams;
/// use qkit::quant::Quantizer;
/// use qkit::requant::QuantizedMultiplier;
/// let p = RequantizeParams::new(Quantizer::<u8>::new(0.02, 128)?, Quantizer::<i8>::new(0.02, 0)?)?;
/// assert_eq!(p.multiplier(), QuantizedMultiplier::ONE);
/// assert!(p.is_xor_0x80()); // the fast path
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RequantizeParams<I: QInt, O: QInt> {
    input_zero_point: i32,
    output_zero_point: i32,
    multiplier: QuantizedMultiplier,
    rounding: Rounding,
    _types: PhantomData<(I, O)>,
}

impl<I: QInt, O: QInt> RequantizeParams<I, O> {
    /// Prepares a requantization from `input` to `output`, double rounding.
    ///
    /// `Err(ShiftOutOfRange)` when `s_in / s_out >= 2^30` (the multiplier's
    /// shift would pass 30, see
    /// [`QuantizedMultiplier::check`]); `Err(InvalidMultiplier)` if the
    /// ratio overflows `f64`. Ratios too small for a Q31 multiplier flush
    /// to 0 as in TFLite (every output is then the output zero point).
    ///
    /// ```
    /// use qkit::{ops::RequantizeParams, quant::Quantizer, Error};
    /// let p = RequantizeParams::new(Quantizer::<i8>::new(0.1, 0)?, Quantizer::<i8>::new(0.4, 0)?)?;
    /// assert_eq!(p.multiplier().to_f64(), 0.25);
    /// let (big, tiny) = (Quantizer::<i8>::new(1.0, 0)?, Quantizer::<i8>::new(2f32.powi(-30), 0)?);
    /// assert!(matches!(RequantizeParams::new(big, tiny), Err(Error::ShiftOutOfRange { .. })));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(input: Quantizer<I>, output: Quantizer<O>) -> Result<Self, Error> {
        let real_multiplier = requantize_real_multiplier(input.scale(), output.scale())?;
        Ok(RequantizeParams {
            input_zero_point: input.zero_point(),
            output_zero_point: output.zero_point(),
            multiplier: quantize_multiplier_checked(real_multiplier)?,
            rounding: Rounding::Double,
            _types: PhantomData,
        })
    }

    /// The same parameters with another rounding mode. The multiplier does
    /// not change: a `TFLITE_SINGLE_ROUNDING` build's `QuantizeMultiplier`
    /// only differs above shift 30, which [`new`](Self::new) rejects.
    ///
    /// ```
    /// use qkit::ops::{requantize_tensor, RequantizeParams};
    /// use qkit::quant::Quantizer;
    /// use qkit::requant::Rounding;
    /// let (i, o) = (Quantizer::<i8>::new(0.25, 0)?, Quantizer::<i8>::new(1.0, 0)?);
    /// let double = RequantizeParams::new(i, o)?;
    /// let single = double.with_rounding(Rounding::Single);
    /// let (mut d, mut s) = ([0i8; 1], [0i8; 1]);
    /// requantize_tensor(&[-2], &double, &mut d)?;
    /// requantize_tensor(&[-2], &single, &mut s)?;
    /// assert_eq!((d[0], s[0]), (-1, 0)); // -0.5: away from zero vs up
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_rounding(self, rounding: Rounding) -> Self {
        RequantizeParams { rounding, ..self }
    }

    /// The quantized multiplier `s_in / s_out`.
    ///
    /// ```
    /// # use qkit::{ops::RequantizeParams, quant::Quantizer, requant::QuantizedMultiplier};
    /// let q = Quantizer::<i8>::new(0.3, 1)?;
    /// assert_eq!(RequantizeParams::new(q, q)?.multiplier(), QuantizedMultiplier::ONE);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn multiplier(&self) -> QuantizedMultiplier {
        self.multiplier
    }

    /// Whether TFLite takes its shortcut `y = x ^ 0x80`: the same scale
    /// (multiplier exactly `(2^30, 1)`) and an int8 <-> uint8 conversion whose
    /// zero points differ by 128. [`requantize_tensor`] takes it too; the
    /// result equals the general formula (tested).
    ///
    /// ```
    /// # use qkit::{ops::RequantizeParams, quant::Quantizer};
    /// let p = RequantizeParams::new(Quantizer::<i8>::new(0.1, -3)?, Quantizer::<u8>::new(0.1, 125)?)?;
    /// assert!(p.is_xor_0x80());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn is_xor_0x80(&self) -> bool {
        let same_scale = self.multiplier == QuantizedMultiplier::ONE;
        let i8_to_u8 = I::MIN == -128 && I::MAX == 127 && O::MIN == 0 && O::MAX == 255;
        let u8_to_i8 = I::MIN == 0 && I::MAX == 255 && O::MIN == -128 && O::MAX == 127;
        // i64: an i32 input's zero point may sit anywhere in i32.
        let zp_delta = self.input_zero_point as i64 - self.output_zero_point as i64;
        same_scale && ((i8_to_u8 && zp_delta == -128) || (u8_to_i8 && zp_delta == 128))
    }

    /// The general formula for one value, exact where TFLite's `int32`
    /// arithmetic would overflow (an `i32` input minus its zero point, or a
    /// large multiplier's left shift): the output then saturates as the
    /// real value says.
    #[inline]
    fn eval(&self, x: i32) -> O {
        let y = multiply_by_quantized_multiplier_exact(
            x as i64 - self.input_zero_point as i64,
            self.multiplier,
            self.rounding,
        );
        O::saturating_from_i64(y.saturating_add(self.output_zero_point as i64))
    }
}

/// Integer REQUANTIZE: `out[i] = saturate(MBQM(x[i] - zp_in, s_in/s_out) + zp_out)`
/// (TFLite `reference_ops::Requantize`), with TFLite's `x ^ 0x80` shortcut
/// for a same-scale int8 <-> uint8 conversion.
///
/// Where TFLite's `int32` arithmetic would overflow (an `i32` input far from
/// its zero point, a large multiplier) qkit computes the exact product and
/// saturates, so the output never wraps.
///
/// `Err(LengthMismatch)` unless `out.len() == x.len()`.
///
/// ```
/// use qkit::ops::{requantize_tensor, RequantizeParams};
/// use qkit::quant::Quantizer;
/// let p = RequantizeParams::new(Quantizer::<i8>::new(0.1, -7)?, Quantizer::<i8>::new(0.2, 11)?)?;
/// let mut y = [0i8; 3];
/// requantize_tensor(&[-7, 13, 127], &p, &mut y)?;
/// assert_eq!(y, [11, 21, 78]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn requantize_tensor<I: QInt, O: QInt>(
    x: &[I],
    p: &RequantizeParams<I, O>,
    out: &mut [O],
) -> Result<(), Error> {
    if out.len() != x.len() {
        return Err(Error::LengthMismatch {
            expected: x.len(),
            found: out.len(),
        });
    }
    if p.is_xor_0x80() {
        for (y, &v) in out.iter_mut().zip(x) {
            // The byte with its top bit flipped, read back in the output type:
            // int8 v <-> uint8 v + 128, exactly TFLite's `input ^ 0x80`.
            let byte = (v.to_i32() & 0xFF) ^ 0x80;
            let yv = if O::MIN < 0 {
                byte as u8 as i8 as i32
            } else {
                byte
            };
            *y = O::saturating_from_i32(yv);
        }
        return Ok(());
    }
    for (y, &v) in out.iter_mut().zip(x) {
        *y = p.eval(v.to_i32());
    }
    Ok(())
}
