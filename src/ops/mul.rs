//! Quantized MUL, TFLite Micro's `CalculateOpDataMul` + `MulElementwise`.

use core::marker::PhantomData;

use super::{ElementwiseInt, check_act, elementwise};
use crate::Error;
use crate::quant::Quantizer;
use crate::requant::{
    QuantizedMultiplier, Rounding, mul_real_multiplier, multiply_by_quantized_multiplier_exact,
    quantize_multiplier_checked,
};

/// The prepared parameters of a quantized MUL over storage type `Q` (`i8`,
/// the default, or `i16`): input and output offsets, one
/// multiplier `M = (double)s1 · (double)s2 / (double)s_out` (shift in
/// `-31 ..= 30`) and the activation clamp, as TFLite Micro's
/// `CalculateOpDataMul`.
///
/// ```
/// use qkit::ops::MulParams;
/// use qkit::quant::Quantizer;
/// use qkit::requant::QuantizedMultiplier as Qm;
/// let p = MulParams::<i8>::new(
///     Quantizer::new(0.05, 0)?, Quantizer::new(0.1, 0)?, Quantizer::new(0.08, -1)?, -128, 127,
/// )?;
/// assert_eq!(p.output_multiplier(), Qm { multiplier: 1073741880, shift: -3 });
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MulParams<Q: ElementwiseInt = i8> {
    input1_offset: i32,
    input2_offset: i32,
    output_offset: i32,
    output_multiplier: QuantizedMultiplier,
    act_min: i32,
    act_max: i32,
    rounding: Rounding,
    _storage: PhantomData<Q>,
}

impl<Q: ElementwiseInt> MulParams<Q> {
    /// Prepares a MUL over `Q`, double rounding (the TFLite Micro default):
    /// `MulParams::new` is the int8 form, `MulParams::<i16>::new` the int16
    /// one (for [`mul_i16`]).
    ///
    /// `Err(ShiftOutOfRange)` when `M = s1·s2/s_out >= 2^30` (see
    /// [`QuantizedMultiplier::check`]), `Err(InvalidMultiplier)` if it
    /// overflows `f64`, `Err(InvalidParameter)` if `act_min > act_max` or,
    /// for int16, a zero point is not 0 (TFLite requires all three to be
    /// 0, [`ElementwiseInt::MUL_ZERO_POINTS_ZERO`]). A multiplier too small
    /// for Q31 flushes to 0 as in TFLite. Large multipliers whose `int32`
    /// products would overflow in TFLite are computed exactly and saturate.
    ///
    /// ```
    /// use qkit::{ops::MulParams, quant::Quantizer, Error};
    /// let q = Quantizer::<i8>::new(0.5, 0)?;
    /// assert!(MulParams::new(q, q, q, 10, -10).is_err());
    /// assert!(MulParams::new(q, q, q, -128, 127).is_ok());
    /// let (a, o) = (Quantizer::<i8>::new(1e6, 0)?, Quantizer::<i8>::new(1e-6, 0)?);
    /// assert!(matches!(MulParams::new(a, a, o, -128, 127), Err(Error::ShiftOutOfRange { .. })));
    /// // int16: zero points must be 0.
    /// let q16 = Quantizer::<i16>::new(0.01, 0)?;
    /// assert!(MulParams::new(q16, q16, q16, i16::MIN, i16::MAX).is_ok());
    /// let shifted = Quantizer::<i16>::new(0.01, 5)?;
    /// assert!(MulParams::new(shifted, q16, q16, i16::MIN, i16::MAX).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        a: Quantizer<Q>,
        b: Quantizer<Q>,
        out: Quantizer<Q>,
        act_min: Q,
        act_max: Q,
    ) -> Result<MulParams<Q>, Error> {
        let zero_points = [a.zero_point(), b.zero_point(), out.zero_point()];
        if Q::MUL_ZERO_POINTS_ZERO && zero_points != [0; 3] {
            return Err(Error::InvalidParameter("int16 MUL needs zero points of 0"));
        }
        let (act_min, act_max) = (act_min.to_i32(), act_max.to_i32());
        check_act(act_min, act_max)?;
        let real_multiplier = mul_real_multiplier(a.scale(), b.scale(), out.scale())?;
        Ok(MulParams {
            input1_offset: -a.zero_point(),
            input2_offset: -b.zero_point(),
            output_offset: out.zero_point(),
            output_multiplier: quantize_multiplier_checked(real_multiplier)?,
            act_min,
            act_max,
            rounding: Rounding::Double,
            _storage: PhantomData,
        })
    }

    /// The same operator evaluated with another rounding mode. The
    /// multiplier does not change: a `TFLITE_SINGLE_ROUNDING` build's
    /// `QuantizeMultiplier` only differs above shift 30, which
    /// [`new`](Self::new) rejects.
    ///
    /// ```
    /// use qkit::ops::MulParams;
    /// use qkit::quant::Quantizer;
    /// use qkit::requant::Rounding;
    /// let (a, o) = (Quantizer::<i8>::new(1e3, 0)?, Quantizer::<i8>::new(1e-3, 0)?);
    /// let p = MulParams::new(a, a, o, -128, 127)?;
    /// let s = p.with_rounding(Rounding::Single);
    /// assert_eq!(s.output_multiplier(), p.output_multiplier());
    /// assert_eq!(s.rounding(), Rounding::Single);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_rounding(self, rounding: Rounding) -> Self {
        MulParams { rounding, ..self }
    }

    /// The quantized output multiplier.
    ///
    /// ```
    /// # use qkit::{ops::MulParams, quant::Quantizer, requant::QuantizedMultiplier as Qm};
    /// let q = Quantizer::<i8>::new(0.5, 0)?;
    /// assert_eq!(MulParams::new(q, q, q, -128, 127)?.output_multiplier(), Qm { multiplier: 1 << 30, shift: 0 });
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn output_multiplier(&self) -> QuantizedMultiplier {
        self.output_multiplier
    }

    /// The rounding mode the eval functions use.
    ///
    /// ```
    /// # use qkit::{ops::MulParams, quant::Quantizer, requant::Rounding};
    /// let q = Quantizer::<i8>::new(0.5, 0)?;
    /// assert_eq!(MulParams::new(q, q, q, -128, 127)?.rounding(), Rounding::Double);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn rounding(&self) -> Rounding {
        self.rounding
    }

    #[inline]
    fn eval(&self, x1: i32, x2: i32) -> i32 {
        // |p| <= 255² (int8) or 2^30 (int16, zero points 0): fits in i32.
        let p = (x1 + self.input1_offset) * (x2 + self.input2_offset);
        // Exact where TFLite's int32 shift would wrap; then clamped, so the
        // result fits i32.
        let y =
            multiply_by_quantized_multiplier_exact(p as i64, self.output_multiplier, self.rounding);
        y.saturating_add(self.output_offset as i64)
            .clamp(self.act_min as i64, self.act_max as i64) as i32
    }
}

/// Quantized int8 MUL, elementwise (TFLite Micro `reference_integer_ops::Mul`):
/// `y = MBQM((x1 - zp1)·(x2 - zp2), m) + zp_out`, clamped to the activation range.
///
/// `Err(LengthMismatch)` unless the three slices have the same length.
///
/// ```
/// use qkit::ops::{mul_i8, MulParams};
/// use qkit::quant::Quantizer;
/// let q = Quantizer::<i8>::new(0.5, 0)?;
/// let p = MulParams::new(q, q, q, -128, 127)?;
/// let mut y = [0i8; 3];
/// mul_i8(&[4, -6, 100], &[6, 3, 100], &p, &mut y)?;
/// assert_eq!(y, [12, -9, 127]); // 2·3 = 6 is 12 steps of 0.5
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn mul_i8(a: &[i8], b: &[i8], p: &MulParams, out: &mut [i8]) -> Result<(), Error> {
    elementwise(a, b, out, |x1, x2| p.eval(x1, x2))
}

/// Quantized int16 MUL (zero points 0): [`mul_i8`] with 16-bit storage,
/// parameters from `MulParams::<i16>::new`.
///
/// ```
/// use qkit::ops::{mul_i16, MulParams};
/// use qkit::quant::Quantizer;
/// let q = Quantizer::<i16>::new(0.01, 0)?;
/// let p = MulParams::new(q, q, q, i16::MIN, i16::MAX)?;
/// let mut y = [0i16; 2];
/// mul_i16(&[150, -300], &[200, 300], &p, &mut y)?;
/// assert_eq!(y, [300, -900]); // 1.5 · 2.0 = 3.0; -3 · 3 = -9
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn mul_i16(a: &[i16], b: &[i16], p: &MulParams<i16>, out: &mut [i16]) -> Result<(), Error> {
    elementwise(a, b, out, |x1, x2| p.eval(x1, x2))
}
