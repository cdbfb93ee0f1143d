//! One scale and one zero point for a whole tensor.

use core::marker::PhantomData;

use crate::quant::layout::{Run, Runs};
use crate::quant::{CodeRange, QuantizeSlice};
use crate::{Error, QInt, Round};

/// A per-tensor affine quantizer for storage type `Q`.
///
/// `real = scale * (q - zero_point)`. Quantized values lie in
/// `[qmin, qmax]`: `Q`'s full range, or `[Q::MIN + 1, Q::MAX]` for a
/// quantizer over the narrow [`CodeRange`] (TFLite's symmetric weights:
/// int8 in `[-127, 127]`, int4 in `[-7, 7]`).
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
    qmin: i32,
    _storage: PhantomData<Q>,
}

pub(crate) fn check_scale(scale: f32) -> Result<(), Error> {
    if scale.is_finite() && scale > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidScale(scale as f64))
    }
}

pub(crate) fn check_zero_point(zero_point: i32, qmin: i32, qmax: i32) -> Result<(), Error> {
    if zero_point < qmin || zero_point > qmax {
        Err(Error::ZeroPointOutOfRange {
            zero_point,
            min: qmin,
            max: qmax,
        })
    } else {
        Ok(())
    }
}

/// `1.5 * 2^23`: adding and subtracting it rounds any `|v| < 2^22` to an
/// integer, ties to even, in the default float environment.
const RNE_MAGIC: f32 = 12_582_912.0;

/// The float-to-integer step shared by every quantizer in qkit.
///
/// `v = x / scale` is clamped in float to `[lo, hi] = [qmin - zp, qmax - zp]`
/// *before* rounding, as ONNX Runtime's MLAS does; because the bounds are
/// integers and rounding is monotone this equals round-then-saturate (the
/// TFLite and ONNX reference order). The comparisons send NaN to `lo`.
/// Written without branches or calls so that slice loops autovectorize.
#[derive(Clone, Copy)]
pub(crate) struct Affine {
    pub(crate) divisor: f32,
    pub(crate) lo: f32,
    pub(crate) hi: f32,
    pub(crate) zp: i32,
    qmin: i32,
    qmax: i32,
}

impl Affine {
    #[inline(always)]
    pub(crate) fn new(scale: f32, zero_point: i32, qmin: i32, qmax: i32) -> Affine {
        Affine {
            divisor: scale,
            lo: (qmin as i64 - zero_point as i64) as f32,
            hi: (qmax as i64 - zero_point as i64) as f32,
            zp: zero_point,
            qmin,
            qmax,
        }
    }

    /// Scale 1, zero point 0: rounding and clamping only.
    pub(crate) const fn identity(qmin: i32, qmax: i32) -> Affine {
        Affine {
            divisor: 1.0,
            lo: qmin as f32,
            hi: qmax as f32,
            zp: 0,
            qmin,
            qmax,
        }
    }

    #[inline(always)]
    fn clamp(&self, x: f32) -> f32 {
        let v = x / self.divisor;
        let v = if v > self.lo { v } else { self.lo };
        if v < self.hi { v } else { self.hi }
    }

    /// Ties to even. Valid while `|lo|, |hi| < 2^22` (every type up to 16
    /// bits): `v + 1.5 * 2^23` then lies in `(2^23, 2^24)`, where the float
    /// addition itself rounds to an integer (ties to even, and the magic
    /// number is even), and that integer sits in the low mantissa bits, so it
    /// is read with integer arithmetic instead of a float-to-int conversion.
    #[inline(always)]
    fn rne_clamped(v: f32) -> (i32, f32) {
        let m = v + RNE_MAGIC;
        (
            m.to_bits() as i32 - RNE_MAGIC.to_bits() as i32,
            m - RNE_MAGIC,
        )
    }

    #[inline(always)]
    pub(crate) fn rne(&self, x: f32) -> i32 {
        Self::rne_clamped(self.clamp(x)).0 + self.zp
    }

    /// Ties away from zero: round to even, then move the ties that went
    /// toward zero one step away. `v - r` is exact (`r` is `v` rounded).
    #[inline(always)]
    pub(crate) fn rhaz(&self, x: f32) -> i32 {
        let v = self.clamp(x);
        let (i, r) = Self::rne_clamped(v);
        let d = v - r;
        i + ((d == 0.5) & (v > 0.0)) as i32 - ((d == -0.5) & (v < 0.0)) as i32 + self.zp
    }

    /// Any width (the `i32` bias type too), through `libm`.
    #[inline]
    pub(crate) fn wide(&self, x: f32, round: Round) -> i64 {
        let v = x / self.divisor;
        if v.is_nan() {
            return self.qmin as i64;
        }
        // `as i64` saturates ±inf.
        let r = round.round_f32(v) as i64;
        r.saturating_add(self.zp as i64)
            .clamp(self.qmin as i64, self.qmax as i64)
    }

    #[inline(always)]
    pub(crate) fn one<Q: QInt>(&self, x: f32, round: Round) -> Q {
        if Q::BITS <= 16 {
            match round {
                Round::HalfToEven => Q::saturating_from_i32(self.rne(x)),
                Round::HalfAwayFromZero => Q::saturating_from_i32(self.rhaz(x)),
            }
        } else {
            Q::saturating_from_i64(self.wide(x, round))
        }
    }

    /// The slice loop: the rounding mode is chosen once, outside the loop.
    #[inline(always)]
    pub(crate) fn run<Q: QInt, T: Copy>(
        &self,
        x: &[T],
        out: &mut [Q],
        round: Round,
        to_f32: impl Fn(T) -> f32,
    ) {
        if Q::BITS <= 16 {
            match round {
                Round::HalfToEven => {
                    for (o, &v) in out.iter_mut().zip(x) {
                        *o = Q::saturating_from_i32(self.rne(to_f32(v)));
                    }
                }
                Round::HalfAwayFromZero => {
                    for (o, &v) in out.iter_mut().zip(x) {
                        *o = Q::saturating_from_i32(self.rhaz(to_f32(v)));
                    }
                }
            }
        } else {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = Q::saturating_from_i64(self.wide(to_f32(v), round));
            }
        }
    }
}

/// `scale * (q - zero_point)` rounded once to `f32`. For `|q - zp| < 2^24`
/// (every type up to 16 bits) the `f32` product is that single rounding; the
/// `i32` type goes through `f64` (TFLite `Dequantize`).
#[inline(always)]
pub(crate) fn dequantize_one(scale: f32, zero_point: i32, q: i32, bits: u32) -> f32 {
    if bits <= 16 {
        scale * (q - zero_point) as f32
    } else {
        (scale as f64 * (q as i64 - zero_point as i64) as f64) as f32
    }
}

pub(crate) fn check_len(expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::LengthMismatch { expected, found })
    }
}

impl<Q: QInt> Quantizer<Q> {
    /// A quantizer with the given scale and zero point, over `Q`'s full range.
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
        Self::with_code_range(scale, zero_point, CodeRange::Full)
    }

    /// A quantizer over the given [`CodeRange`]: [`new`](Self::new) is
    /// `with_code_range(scale, zero_point, CodeRange::Full)`; with
    /// [`CodeRange::Narrow`] the values lie in `[Q::MIN + 1, Q::MAX]`, so a
    /// symmetric int8 quantizer spans `[-127, 127]` and an int4 one
    /// `[-7, 7]` (TFLite's weights). The zero point must lie in the range.
    ///
    /// Errors as [`new`](Self::new).
    ///
    /// ```
    /// use qkit::{int4::I4, quant::{CodeRange, Quantizer}, Error, Round};
    /// let q = Quantizer::<I4>::with_code_range(1.0, 0, CodeRange::Narrow)?;
    /// assert_eq!(q.quantize(-100.0, Round::HalfAwayFromZero).get(), -7);
    /// assert_eq!(q.qmin(), -7);
    /// assert!(matches!(Quantizer::<i8>::with_code_range(1.0, -128, CodeRange::Narrow),
    ///                  Err(Error::ZeroPointOutOfRange { min: -127, .. })));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_code_range(scale: f32, zero_point: i32, range: CodeRange) -> Result<Self, Error> {
        let qmin = range.qmin::<Q>();
        check_scale(scale)?;
        check_zero_point(zero_point, qmin, Q::MAX)?;
        Ok(Self {
            scale,
            zero_point,
            qmin,
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

    /// The smallest quantized value produced: `Q::MIN`, or `Q::MIN + 1` if narrow.
    ///
    /// ```
    /// # use qkit::quant::{CodeRange, Quantizer};
    /// assert_eq!(Quantizer::<i8>::new(1.0, 0)?.qmin(), -128);
    /// assert_eq!(Quantizer::<i8>::with_code_range(1.0, 0, CodeRange::Narrow)?.qmin(), -127);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    #[inline]
    pub fn qmin(&self) -> i32 {
        self.qmin
    }

    /// The largest quantized value produced: `Q::MAX`.
    ///
    /// ```
    /// # use qkit::quant::Quantizer;
    /// assert_eq!(Quantizer::<u8>::new(1.0, 0)?.qmax(), 255);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    #[inline]
    pub fn qmax(&self) -> i32 {
        Q::MAX
    }

    /// The [`CodeRange`] the quantized values lie in.
    ///
    /// ```
    /// # use qkit::quant::{CodeRange, Quantizer};
    /// let w = Quantizer::<i8>::with_code_range(1.0, 0, CodeRange::Narrow)?;
    /// assert_eq!(w.code_range(), CodeRange::Narrow);
    /// assert_eq!(Quantizer::<i8>::new(1.0, 0)?.code_range(), CodeRange::Full);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    #[inline]
    pub fn code_range(&self) -> CodeRange {
        CodeRange::of::<Q>(self.qmin)
    }

    #[inline(always)]
    pub(crate) fn affine(&self) -> Affine {
        Affine::new(self.scale, self.zero_point, self.qmin, Q::MAX)
    }

    /// Quantizes one value: `saturate(round(x / scale) + zero_point)`, the
    /// division in `f32`, the zero point added after rounding (TFLite
    /// `AffineQuantize`, ONNX `QuantizeLinear`).
    ///
    /// Non-finite input is deterministic: `+inf` gives `qmax`, `-inf` gives
    /// `qmin`, and NaN gives `qmin` (what ONNX Runtime's MLAS returns on
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
        self.affine().one(x, round)
    }

    /// Dequantizes one value: `scale * (q - zero_point)`, rounded once to
    /// `f32` (TFLite `Dequantize` computes in `f64` and rounds once; ONNX in
    /// `f32`; the two agree whenever `|q - zero_point| < 2^24`, i.e. for every
    /// 4/8/16-bit type; `i32` storage goes through `f64`).
    ///
    /// ```
    /// # use qkit::quant::Quantizer;
    /// let q = Quantizer::<u8>::new(0.5, 10)?;
    /// assert_eq!(q.dequantize(14), 2.0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    #[inline]
    pub fn dequantize(&self, q: Q) -> f32 {
        dequantize_one(self.scale, self.zero_point, q.to_i32(), Q::BITS)
    }
}

impl<Q: QInt> Runs for Quantizer<Q> {
    fn check_elements(&self, _n: usize) -> Result<(), Error> {
        Ok(())
    }

    fn bounds(&self) -> (i32, i32) {
        (self.qmin, Q::MAX)
    }

    #[inline(always)]
    fn for_each_run(&self, n: usize, mut f: impl FnMut(Run)) {
        f(Run {
            start: 0,
            len: n,
            scale: self.scale,
            zero_point: self.zero_point,
        });
    }
}

/// One scale for the whole slice, any length.
///
/// ```
/// use qkit::{quant::{QuantizeSlice, Quantizer}, Round};
/// let q = Quantizer::<u8>::new(0.5, 128)?;
/// let mut codes = [0u8; 4];
/// q.quantize_slice(&[-1.0, 0.0, 0.25, 1e9], &mut codes, Round::HalfToEven)?;
/// assert_eq!(codes, [126, 128, 128, 255]);
/// # Ok::<(), qkit::Error>(())
/// ```
impl<Q: QInt> QuantizeSlice for Quantizer<Q> {
    type Storage = Q;
}
