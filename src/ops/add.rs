//! Quantized ADD, TFLite Micro's `CalculateOpDataAdd` + `AddFunc`.

use core::marker::PhantomData;

use super::{ElementwiseInt, check_act, elementwise};
use crate::Error;
use crate::quant::Quantizer;
use crate::requant::{
    QuantizedMultiplier, Rounding, multiply_by_quantized_multiplier, quantize_multiplier_checked,
};

/// The prepared parameters of a quantized ADD over storage type `Q` (`i8`,
/// the default, or `i16`): input offsets, the left shift
/// ([`ElementwiseInt::ADD_LEFT_SHIFT`]: 20 for int8, 15 for int16), two
/// input multipliers, an output multiplier and the activation clamp,
/// computed as TFLite Micro's `CalculateOpDataAdd`:
///
/// ```text
/// twice_max = 2.0 * (double)max(s1, s2)          // max in f32
/// M1 = (double)s1 / twice_max,  M2 = (double)s2 / twice_max
/// Mo = twice_max / ((double)(1 << left_shift) * (double)s_out)
/// ```
///
/// each through `QuantizeMultiplierSmallerThanOneExp`, which requires
/// `0 < M < 1` and a non-positive shift.
///
/// ```
/// use qkit::ops::AddParams;
/// use qkit::quant::Quantizer;
/// use qkit::requant::QuantizedMultiplier as Qm;
/// let p = AddParams::<i8>::new(
///     Quantizer::new(0.05, -3)?, Quantizer::new(0.1, 7)?, Quantizer::new(0.08, -1)?, -128, 127,
/// )?;
/// assert_eq!(p.input1_multiplier(), Qm { multiplier: 1 << 30, shift: -1 });
/// assert_eq!(p.input2_multiplier(), Qm { multiplier: 1 << 30, shift: 0 });
/// assert_eq!(p.output_multiplier(), Qm { multiplier: 1342177330, shift: -18 });
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddParams<Q: ElementwiseInt = i8> {
    input1_offset: i32,
    input2_offset: i32,
    output_offset: i32,
    input1_multiplier: QuantizedMultiplier,
    input2_multiplier: QuantizedMultiplier,
    output_multiplier: QuantizedMultiplier,
    act_min: i32,
    act_max: i32,
    rounding: Rounding,
    _storage: PhantomData<Q>,
}

/// `QuantizeMultiplierSmallerThanOneExp`: `0 < M < 1` and a shift `<= 0`
/// (an `M` just below 1 that rounds up to shift +1 makes TFLite abort).
fn quantize_smaller_than_one(m: f64) -> Result<QuantizedMultiplier, Error> {
    if !(m > 0.0 && m < 1.0) {
        return Err(Error::InvalidMultiplier(m));
    }
    let q = quantize_multiplier_checked(m)?;
    if q.shift > 0 {
        return Err(Error::InvalidMultiplier(m));
    }
    Ok(q)
}

impl<Q: ElementwiseInt> AddParams<Q> {
    /// Prepares an ADD over `Q`, double rounding (the TFLite Micro
    /// default): `AddParams::new` is the int8 form, `AddParams::<i16>::new`
    /// the int16 one (for [`add_i16`]). `act_min`/`act_max` usually come
    /// from [`activation_range`](crate::quant::activation_range).
    ///
    /// `Err(InvalidMultiplier)` when the output multiplier is not below 1
    /// (`2·max(s1, s2) >= 2^left_shift·s_out`, where TFLite aborts);
    /// `Err(InvalidParameter)` if `act_min > act_max`.
    ///
    /// ```
    /// use qkit::ops::AddParams;
    /// use qkit::quant::Quantizer;
    /// let q = Quantizer::<i8>::new(1.0, 0)?;
    /// assert!(AddParams::new(q, q, q, -128, 127).is_ok());
    /// let tiny_out = Quantizer::<i8>::new(1e-7, 0)?;
    /// assert!(AddParams::new(q, q, tiny_out, -128, 127).is_err());
    /// let q16 = Quantizer::<i16>::new(0.001, 0)?;
    /// assert_eq!(AddParams::new(q16, q16, q16, -32768, 32767)?.left_shift(), 15);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        a: Quantizer<Q>,
        b: Quantizer<Q>,
        out: Quantizer<Q>,
        act_min: Q,
        act_max: Q,
    ) -> Result<AddParams<Q>, Error> {
        let (act_min, act_max) = (act_min.to_i32(), act_max.to_i32());
        check_act(act_min, act_max)?;
        let twice_max = 2.0 * a.scale().max(b.scale()) as f64;
        let m1 = a.scale() as f64 / twice_max;
        let m2 = b.scale() as f64 / twice_max;
        let mo = twice_max / ((1i32 << Q::ADD_LEFT_SHIFT) as f64 * out.scale() as f64);
        Ok(AddParams {
            input1_offset: -a.zero_point(),
            input2_offset: -b.zero_point(),
            output_offset: out.zero_point(),
            input1_multiplier: quantize_smaller_than_one(m1)?,
            input2_multiplier: quantize_smaller_than_one(m2)?,
            output_multiplier: quantize_smaller_than_one(mo)?,
            act_min,
            act_max,
            rounding: Rounding::Double,
            _storage: PhantomData,
        })
    }

    /// The same parameters evaluated with another rounding mode
    /// (`TFLITE_SINGLE_ROUNDING` builds); ADD's multipliers are all below 1,
    /// so they do not change.
    ///
    /// ```
    /// use qkit::ops::AddParams;
    /// use qkit::quant::Quantizer;
    /// use qkit::requant::Rounding;
    /// let q = Quantizer::<i8>::new(0.5, 0)?;
    /// let p = AddParams::new(q, q, q, -128, 127)?.with_rounding(Rounding::Single);
    /// assert_eq!(p.rounding(), Rounding::Single);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_rounding(self, rounding: Rounding) -> Self {
        AddParams { rounding, ..self }
    }

    /// The multiplier applied to `(x1 - zp1) << left_shift`.
    ///
    /// ```
    /// # use qkit::{ops::AddParams, quant::Quantizer, requant::QuantizedMultiplier as Qm};
    /// let q = Quantizer::<i8>::new(0.5, 0)?;
    /// assert_eq!(AddParams::new(q, q, q, -128, 127)?.input1_multiplier(), Qm { multiplier: 1 << 30, shift: 0 });
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn input1_multiplier(&self) -> QuantizedMultiplier {
        self.input1_multiplier
    }

    /// The multiplier applied to `(x2 - zp2) << left_shift`.
    ///
    /// ```
    /// # use qkit::{ops::AddParams, quant::Quantizer, requant::QuantizedMultiplier as Qm};
    /// let (a, b) = (Quantizer::<i8>::new(0.5, 0)?, Quantizer::<i8>::new(0.25, 0)?);
    /// assert_eq!(AddParams::new(a, b, a, -128, 127)?.input2_multiplier(), Qm { multiplier: 1 << 30, shift: -1 });
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn input2_multiplier(&self) -> QuantizedMultiplier {
        self.input2_multiplier
    }

    /// The multiplier applied to the sum before the output zero point.
    ///
    /// ```
    /// # use qkit::{ops::AddParams, quant::Quantizer, requant::QuantizedMultiplier as Qm};
    /// let q = Quantizer::<i8>::new(0.5, 0)?;
    /// // 2·0.5 / (2^20 · 0.5) = 2^-19
    /// assert_eq!(AddParams::new(q, q, q, -128, 127)?.output_multiplier(), Qm { multiplier: 1 << 30, shift: -18 });
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn output_multiplier(&self) -> QuantizedMultiplier {
        self.output_multiplier
    }

    /// The left shift of the inputs, [`ElementwiseInt::ADD_LEFT_SHIFT`]:
    /// 20 for int8 parameters, 15 for int16.
    ///
    /// ```
    /// # use qkit::{ops::AddParams, quant::Quantizer};
    /// let q = Quantizer::<i8>::new(0.5, 0)?;
    /// assert_eq!(AddParams::new(q, q, q, -128, 127)?.left_shift(), 20);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn left_shift(&self) -> i32 {
        Q::ADD_LEFT_SHIFT
    }

    /// The rounding mode the eval functions use.
    ///
    /// ```
    /// # use qkit::{ops::AddParams, quant::Quantizer, requant::Rounding};
    /// let q = Quantizer::<i8>::new(0.5, 0)?;
    /// assert_eq!(AddParams::new(q, q, q, -128, 127)?.rounding(), Rounding::Double);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn rounding(&self) -> Rounding {
        self.rounding
    }

    /// TFLite's `AddFunc` for one pair.
    #[inline]
    fn eval(&self, x1: i32, x2: i32) -> i32 {
        let r = self.rounding;
        // |x + offset| <= 2^16 - 1, so the shifted value fits in i32.
        let a = (x1 + self.input1_offset) << Q::ADD_LEFT_SHIFT;
        let b = (x2 + self.input2_offset) << Q::ADD_LEFT_SHIFT;
        let a = multiply_by_quantized_multiplier(a, self.input1_multiplier, r);
        let b = multiply_by_quantized_multiplier(b, self.input2_multiplier, r);
        let y = multiply_by_quantized_multiplier(a + b, self.output_multiplier, r);
        (y + self.output_offset).clamp(self.act_min, self.act_max)
    }
}

/// Quantized int8 ADD, elementwise (TFLite Micro `reference_integer_ops::Add`):
///
/// ```text
/// a = (x1 - zp1) << 20;  b = (x2 - zp2) << 20
/// y = MBQM(MBQM(a, m1) + MBQM(b, m2), m_out) + zp_out, clamped to the activation range
/// ```
///
/// `Err(LengthMismatch)` unless `a`, `b` and `out` have the same length.
///
/// ```
/// use qkit::ops::{add_i8, AddParams};
/// use qkit::quant::Quantizer;
/// let q = Quantizer::<i8>::new(0.5, 0)?;
/// let p = AddParams::new(q, q, q, -128, 127)?;
/// let mut y = [0i8; 3];
/// add_i8(&[1, 100, -3], &[2, 100, -4], &p, &mut y)?;
/// assert_eq!(y, [3, 127, -7]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn add_i8(a: &[i8], b: &[i8], p: &AddParams, out: &mut [i8]) -> Result<(), Error> {
    elementwise(a, b, out, |x1, x2| p.eval(x1, x2))
}

/// Quantized int16 ADD: [`add_i8`] with 16-bit storage and a left shift of
/// 15 (TFLite Micro's int16 path of the same kernel), parameters from
/// `AddParams::<i16>::new`.
///
/// ```
/// use qkit::ops::{add_i16, AddParams};
/// use qkit::quant::Quantizer;
/// let q = Quantizer::<i16>::new(0.001, 0)?;
/// let p = AddParams::new(q, q, q, i16::MIN, i16::MAX)?;
/// let mut y = [0i16; 2];
/// add_i16(&[1000, 30000], &[-250, 30000], &p, &mut y)?;
/// assert_eq!(y, [750, i16::MAX]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn add_i16(a: &[i16], b: &[i16], p: &AddParams<i16>, out: &mut [i16]) -> Result<(), Error> {
    elementwise(a, b, out, |x1, x2| p.eval(x1, x2))
}
