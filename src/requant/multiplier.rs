//! Real multipliers as a Q31 significand and a power-of-two shift
//! (TFLite `QuantizeMultiplier`), and the scale compositions that produce them.

use crate::Error;

/// A real multiplier `M ≈ multiplier · 2^(shift - 31)`: a Q31 significand and
/// a power-of-two exponent, the form TFLite, TFLite Micro and CMSIS-NN store
/// per tensor or per channel.
///
/// `shift > 0` is a left shift (`M >= 1`), `shift <= 0` a right shift: the
/// TFLite convention. For `M > 0` from [`quantize_multiplier`], `multiplier`
/// lies in `[2^30, 2^31 - 1]`.
///
/// The struct is `#[repr(C)]` (`multiplier` then `shift`, as CMSIS-NN's
/// `cmsis_nn_per_channel_quant_params` pairs them) so per-channel tables can be
/// handed to SIMD code without copying.
///
/// ```
/// use qkit::requant::{quantize_multiplier, QuantizedMultiplier};
/// let m = quantize_multiplier(0.75)?;
/// assert_eq!(m, QuantizedMultiplier { multiplier: 0x6000_0000, shift: 0 });
/// assert_eq!(m.to_f64(), 0.75);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(C)]
pub struct QuantizedMultiplier {
    /// The Q31 significand (`2^31` represents 1.0).
    pub multiplier: i32,
    /// The power-of-two exponent; positive shifts left.
    pub shift: i32,
}

impl QuantizedMultiplier {
    /// The multiplier that leaves values unchanged: `(2^30, 1)`, exactly what
    /// `quantize_multiplier(1.0)` returns (TFLite REQUANTIZE's "same scale" test).
    ///
    /// ```
    /// use qkit::requant::{quantize_multiplier, QuantizedMultiplier};
    /// assert_eq!(quantize_multiplier(1.0)?, QuantizedMultiplier::ONE);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub const ONE: Self = Self {
        multiplier: 1 << 30,
        shift: 1,
    };

    /// The smallest shift qkit accepts (TFLite and CMSIS-NN's documented range).
    ///
    /// ```
    /// assert_eq!(qkit::requant::QuantizedMultiplier::MIN_SHIFT, -31);
    /// ```
    pub const MIN_SHIFT: i32 = -31;

    /// The largest shift qkit accepts: the single-rounding shift `31 - shift`
    /// must stay >= 1, and TFLite's double rounding shifts the accumulator
    /// left by at most 30.
    ///
    /// ```
    /// assert_eq!(qkit::requant::QuantizedMultiplier::MAX_SHIFT, 30);
    /// ```
    pub const MAX_SHIFT: i32 = 30;

    /// The one rule every multiplier in qkit obeys: `multiplier >= 0` and
    /// `MIN_SHIFT <= shift <= MAX_SHIFT` (`-31 ..= 30`, the range TFLite and
    /// CMSIS-NN accept). Every constructor that forms a multiplier (the
    /// layers, [`ops`](crate::ops), [`requantize`](crate::kernel::requantize), the C
    /// ABI) calls it, so a multiplier outside the range is an error instead
    /// of a silently wrong result.
    ///
    /// `Err(InvalidMultiplier)` for a negative significand,
    /// `Err(ShiftOutOfRange)` for a shift outside the range.
    ///
    /// ```
    /// use qkit::{requant::QuantizedMultiplier as Qm, Error};
    /// assert_eq!(Qm::ONE.check(), Ok(Qm::ONE));
    /// let big = Qm { multiplier: 1 << 30, shift: 31 }; // 2^30
    /// assert_eq!(big.check(), Err(Error::ShiftOutOfRange { shift: 31, min: -31, max: 30 }));
    /// assert!(Qm { multiplier: -1, shift: 0 }.check().is_err());
    /// ```
    pub fn check(self) -> Result<Self, Error> {
        if self.multiplier < 0 {
            return Err(Error::InvalidMultiplier(self.to_f64()));
        }
        if !(Self::MIN_SHIFT..=Self::MAX_SHIFT).contains(&self.shift) {
            return Err(Error::ShiftOutOfRange {
                shift: self.shift,
                min: Self::MIN_SHIFT,
                max: Self::MAX_SHIFT,
            });
        }
        Ok(self)
    }

    /// The real value this pair stands for, `multiplier · 2^(shift - 31)`,
    /// computed exactly in `f64` (saturating to ±inf / 0 for absurd shifts).
    ///
    /// ```
    /// use qkit::requant::QuantizedMultiplier;
    /// let m = QuantizedMultiplier { multiplier: 0x4000_0000, shift: -1 };
    /// assert_eq!(m.to_f64(), 0.25);
    /// ```
    pub fn to_f64(self) -> f64 {
        // Split the exponent so neither factor over/underflows needlessly.
        let e = self.shift as i64 - 31;
        let e = e.clamp(-2000, 2000) as i32;
        let half = e / 2;
        self.multiplier as f64 * libm::ldexp(1.0, half) * libm::ldexp(1.0, e - half)
    }
}

/// TFLite's `QuantizeMultiplier`: a non-negative real multiplier as a Q31
/// significand and a shift, for **double-rounding** requantization (the
/// TFLite Micro and CMSIS-NN default).
///
/// Exactly as `tensorflow/lite/kernels/internal/quantization_util.cc`:
/// `(f, e) = frexp(M)`, `q = round(f · 2^31)` with ties away from zero; when
/// the rounding carries to `2^31` the result is `(2^30, e + 1)`; exponents
/// below `-31` flush to `(0, 0)`; `0.0` gives `(0, 0)`. The shift is not
/// bounded above (use [`quantize_multiplier_single_rounding`] for the form
/// clamped at 30).
///
/// `Err(InvalidMultiplier)` for negative, NaN or infinite `real` (TFLite lets
/// a negative multiplier through; its single-rounding code then fails a
/// DCHECK, so qkit rejects it up front).
///
/// ```
/// use qkit::requant::{quantize_multiplier, QuantizedMultiplier as Qm};
/// assert_eq!(quantize_multiplier(1.0 / 3.0)?, Qm { multiplier: 0x5555_5555, shift: -1 });
/// // The rounding carries into the next power of two:
/// assert_eq!(quantize_multiplier(0.9999999999)?, Qm { multiplier: 0x4000_0000, shift: 1 });
/// // Tiny multipliers flush to zero:
/// assert_eq!(quantize_multiplier(1e-10)?, Qm { multiplier: 0, shift: 0 });
/// assert!(quantize_multiplier(-0.5).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
#[doc(alias = "QuantizeMultiplier")]
pub fn quantize_multiplier(real: f64) -> Result<QuantizedMultiplier, Error> {
    if !real.is_finite() || real < 0.0 {
        return Err(Error::InvalidMultiplier(real));
    }
    if real == 0.0 {
        return Ok(QuantizedMultiplier::default());
    }
    let (f, mut e) = libm::frexp(real);
    // f in [0.5, 1), so f · 2^31 is exact and in [2^30, 2^31]; round RHAZ.
    let mut q = libm::round(f * (1u64 << 31) as f64) as i64;
    if q == 1 << 31 {
        q = 1 << 30;
        e += 1;
    }
    if e < -31 {
        return Ok(QuantizedMultiplier::default());
    }
    Ok(QuantizedMultiplier {
        multiplier: q as i32,
        shift: e,
    })
}

/// [`quantize_multiplier`] followed by [`QuantizedMultiplier::check`]: the
/// form every qkit constructor uses. A real multiplier of `2^30` or more
/// (shift 31 and up) is `Err(ShiftOutOfRange)` instead of a multiplier whose
/// products wrap; tiny multipliers still flush to `(0, 0)` as in TFLite.
/// The result is the same for double and single rounding (single rounding
/// only differs from [`quantize_multiplier`] above shift 30).
///
/// ```
/// use qkit::{requant::{quantize_multiplier_checked, QuantizedMultiplier as Qm}, Error};
/// assert_eq!(quantize_multiplier_checked(0.75)?, Qm { multiplier: 0x6000_0000, shift: 0 });
/// assert_eq!(quantize_multiplier_checked(1e-12)?, Qm { multiplier: 0, shift: 0 });
/// assert!(matches!(quantize_multiplier_checked(2f64.powi(30)), Err(Error::ShiftOutOfRange { .. })));
/// assert!(matches!(quantize_multiplier_checked(f64::NAN), Err(Error::InvalidMultiplier(_))));
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn quantize_multiplier_checked(real: f64) -> Result<QuantizedMultiplier, Error> {
    quantize_multiplier(real)?.check()
}

/// [`quantize_multiplier`] for **single-rounding** builds
/// (`TFLITE_SINGLE_ROUNDING`, `CMSIS_NN_USE_SINGLE_ROUNDING`): the same
/// significand, except that a shift above 30 saturates to
/// `(2^31 - 1, 30)` so the one rounding shift `31 - shift` stays >= 1.
///
/// ```
/// use qkit::requant::{quantize_multiplier_single_rounding, QuantizedMultiplier as Qm};
/// assert_eq!(quantize_multiplier_single_rounding(3.0)?, Qm { multiplier: 0x6000_0000, shift: 2 });
/// assert_eq!(
///     quantize_multiplier_single_rounding(1e10)?,
///     Qm { multiplier: i32::MAX, shift: 30 }
/// );
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn quantize_multiplier_single_rounding(real: f64) -> Result<QuantizedMultiplier, Error> {
    let m = quantize_multiplier(real)?;
    if m.shift > 30 {
        return Ok(QuantizedMultiplier {
            multiplier: i32::MAX,
            shift: 30,
        });
    }
    Ok(m)
}

fn check_scale(s: f32) -> Result<f64, Error> {
    if s.is_finite() && s > 0.0 {
        Ok(s as f64)
    } else {
        Err(Error::InvalidScale(s as f64))
    }
}

fn finite(m: f64) -> Result<f64, Error> {
    if m.is_finite() {
        Ok(m)
    } else {
        Err(Error::InvalidMultiplier(m))
    }
}

/// The real multiplier of a convolution, a fully-connected layer (per
/// channel, and per tensor as TFLite Micro's interpreter computes it — see
/// tests/requant_fc_golden.rs) or a depthwise convolution:
/// `(double)input_scale * (double)filter_scale /
/// (double)output_scale`, evaluated left to right in `f64` (TFLite Micro
/// `PopulateConvolutionQuantizationParams` and the per-channel branch of
/// `CalculateOpDataFullyConnected`). Call it once per channel with that
/// channel's filter scale.
///
/// `Err(InvalidScale)` unless every scale is finite and `> 0`.
///
/// ```
/// use qkit::requant::conv_real_multiplier;
/// let m = conv_real_multiplier(0.5, 0.25, 0.125)?;
/// assert_eq!(m, 1.0);
/// # Ok::<(), qkit::Error>(())
/// ```
#[doc(alias = "PopulateConvolutionQuantizationParams")]
#[doc(alias = "CalculateOpDataFullyConnected")]
pub fn conv_real_multiplier(
    input_scale: f32,
    filter_scale: f32,
    output_scale: f32,
) -> Result<f64, Error> {
    let (i, w, o) = (
        check_scale(input_scale)?,
        check_scale(filter_scale)?,
        check_scale(output_scale)?,
    );
    finite(i * w / o)
}

/// The real multiplier with the scale product rounded to **`f32` first**:
/// `(double)(input_scale * filter_scale) / (double)output_scale`, the
/// four-argument `GetQuantizedConvolutionMultipler` of TFLite's
/// `kernel_util.cc` (which its per-tensor fully-connected Prepare calls in
/// the sources) and of several TFLite ports. The `f32` product can change the
/// last bits of `M` and a few LSBs of the Q31 significand.
///
/// **Which one does TFLite Micro use?** Golden vectors from the tflite-micro
/// Python interpreter (`0.dev20261023`, tests/requant_fc_golden.rs) show its
/// per-tensor int8 FULLY_CONNECTED matching the all-`f64`
/// [`conv_real_multiplier`] and *not* this form. Use this one only to match a
/// build you have verified computes the product in `f32`.
///
/// `Err(InvalidScale)` unless every scale is finite and `> 0`;
/// `Err(InvalidMultiplier)` if the `f32` product overflows.
///
/// ```
/// use qkit::requant::{conv_real_multiplier, fully_connected_real_multiplier_f32_product};
/// let (i, w, o) = (0.1f32, 0.3f32, 0.7f32);
/// let fc = fully_connected_real_multiplier_f32_product(i, w, o)?;
/// assert_eq!(fc, (i * w) as f64 / o as f64);
/// assert_ne!(fc, conv_real_multiplier(i, w, o)?); // the f32 product differs
/// # Ok::<(), qkit::Error>(())
/// ```
#[doc(alias = "GetQuantizedConvolutionMultipler")]
#[doc(alias = "GetQuantizedConvolutionMultiplier")]
pub fn fully_connected_real_multiplier_f32_product(
    input_scale: f32,
    filter_scale: f32,
    output_scale: f32,
) -> Result<f64, Error> {
    check_scale(input_scale)?;
    check_scale(filter_scale)?;
    let o = check_scale(output_scale)?;
    finite((input_scale * filter_scale) as f64 / o)
}

/// The real multiplier of an elementwise MUL (`CalculateOpDataMul`):
/// `(double)input1_scale * (double)input2_scale / (double)output_scale` in
/// `f64`, the same evaluation order as [`conv_real_multiplier`].
///
/// ```
/// use qkit::requant::{mul_real_multiplier, quantize_multiplier, QuantizedMultiplier as Qm};
/// let m = mul_real_multiplier(0.05, 0.1, 0.08)?;
/// assert_eq!(quantize_multiplier(m)?, Qm { multiplier: 1073741880, shift: -3 });
/// # Ok::<(), qkit::Error>(())
/// ```
#[doc(alias = "CalculateOpDataMul")]
pub fn mul_real_multiplier(
    input1_scale: f32,
    input2_scale: f32,
    output_scale: f32,
) -> Result<f64, Error> {
    conv_real_multiplier(input1_scale, input2_scale, output_scale)
}

/// The real multiplier of an integer-to-integer REQUANTIZE (TFLite QUANTIZE
/// with an integer input): `(double)input_scale / (double)output_scale`.
///
/// ```
/// use qkit::requant::{requantize_real_multiplier, quantize_multiplier, QuantizedMultiplier};
/// let m = requantize_real_multiplier(0.02, 0.02)?;
/// assert_eq!(quantize_multiplier(m)?, QuantizedMultiplier::ONE);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn requantize_real_multiplier(input_scale: f32, output_scale: f32) -> Result<f64, Error> {
    let (i, o) = (check_scale(input_scale)?, check_scale(output_scale)?);
    finite(i / o)
}

/// Reduces a Q31 significand to the Q15 one used by the 64-bit-input
/// requantization of int16 activations (TFLite 16x8 kernels, CMSIS-NN
/// `REDUCE_MULTIPLIER`): `(q + 2^15) >> 16`, or `0x7FFF` when
/// `q >= 0x7FFF0000` (the rounding would carry out of 15 bits).
///
/// ```
/// use qkit::requant::reduce_multiplier_to_q15;
/// assert_eq!(reduce_multiplier_to_q15(0x4000_0000), 0x4000);
/// assert_eq!(reduce_multiplier_to_q15(0x4000_8000), 0x4001); // rounds half up
/// assert_eq!(reduce_multiplier_to_q15(i32::MAX), 0x7FFF);
/// ```
#[doc(alias = "REDUCE_MULTIPLIER")]
pub fn reduce_multiplier_to_q15(multiplier: i32) -> i32 {
    if multiplier < 0x7FFF_0000 {
        (multiplier as i64 + (1 << 15)).wrapping_shr(16) as i32
    } else {
        0x7FFF
    }
}
