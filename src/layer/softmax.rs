//! SOFTMAX over int8 rows, bit for bit as TensorFlow Lite Micro's
//! fixed-point reference (`reference_ops::Softmax<int8_t, OutputT>`).

use super::fully_connected::check_len;
use super::gemmlowp::{
    self, exp_on_negative_values, one_over_one_plus_x_for_x_in_0_1,
    saturating_rounding_multiply_by_pot,
};
use crate::quant::Quantizer;
use crate::requant::{
    QuantizedMultiplier, quantize_multiplier, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul as srdhm,
};
use crate::{Error, QInt};

/// Integer bits of the scaled input differences (TFLite's
/// `kScaledDiffIntegerBits`).
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the sum of exponentials (`kAccumulationIntegerBits`).
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/// SOFTMAX on int8 input, int8 (or int16) output, along the innermost
/// dimension, with TFLite's gemmlowp fixed-point algorithm:
///
/// 1. `PreprocessSoftmaxScaling`: `beta · s_in · 2^26` (capped at
///    `2^31 - 1`) becomes a Q31 multiplier and a left shift;
///    `diff_min = -floor(31 · 2^26 / 2^shift)` bounds the differences that
///    still count.
/// 2. Per row: `d = x - max(row)`; each `d >= diff_min` is rescaled to Q5.26,
///    `exp_on_negative_values` gives its exponential (Q0.31), the sum
///    accumulates in Q12.19.
/// 3. The reciprocal of the sum (`one_over_one_plus_x_for_x_in_0_1` after
///    normalizing by its leading zeros) multiplies each exponential; a
///    rounding shift brings it to 8 bits, offset by -128.
///
/// The output is quantized with scale 1/256 and zero point -128 (int8) or
/// 1/65536 and -32768 ([`run_i16`](Self::run_i16)), which TFLite Micro
/// requires of the model.
///
/// ```
/// use qkit::layer::Softmax;
/// use qkit::quant::Quantizer;
/// let sm = Softmax::new(Quantizer::<i8>::new(0.1, 0)?, 1.0)?;
/// let mut p = [0i8; 3];
/// sm.run(&[10, 0, -10], 3, &mut p)?; // logits 1.0, 0.0, -1.0
/// // 0.665, 0.245, 0.090 at scale 1/256 and zero point -128:
/// assert_eq!(p, [42, -65, -105]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Softmax {
    input_multiplier: i32,
    input_left_shift: i32,
    diff_min: i32,
}

impl Softmax {
    /// Prepares the op for an input quantized by `input` and TFLite's
    /// `beta` (`SoftmaxOptions.beta`).
    ///
    /// `Err(InvalidScale)` for a non-finite or non-positive `beta`;
    /// `Err(InvalidMultiplier)` when `beta · s_in · 2^26 <= 1` (TFLite's
    /// `QuantizeMultiplierGreaterThanOne` rejects it too).
    ///
    /// ```
    /// use qkit::layer::Softmax;
    /// use qkit::quant::Quantizer;
    /// let q = Quantizer::<i8>::new(0.05, 3)?;
    /// assert!(Softmax::new(q, 2.0).is_ok());
    /// assert!(Softmax::new(q, 0.0).is_err());
    /// assert!(Softmax::new(Quantizer::<i8>::new(1e-9, 0)?, 1.0).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(input: Quantizer<i8>, beta: f32) -> Result<Self, Error> {
        if !(beta.is_finite() && beta > 0.0) {
            return Err(Error::InvalidScale(f64::from(beta)));
        }
        let max_real = ((1i64 << 31) - 1) as f64;
        let real = (f64::from(beta)
            * f64::from(input.scale())
            * (1i64 << (31 - SCALED_DIFF_INTEGER_BITS)) as f64)
            .min(max_real);
        if real <= 1.0 {
            return Err(Error::InvalidMultiplier(real));
        }
        let QuantizedMultiplier { multiplier, shift } = quantize_multiplier(real)?;
        if !(0..=30).contains(&shift) {
            return Err(Error::ShiftOutOfRange {
                shift,
                min: 0,
                max: 30,
            });
        }
        // CalculateInputRadius(5, shift, 31) in f64, floored.
        let radius = gemmlowp::calculate_input_radius(SCALED_DIFF_INTEGER_BITS, shift);
        Ok(Self {
            input_multiplier: multiplier,
            input_left_shift: shift,
            diff_min: -radius,
        })
    }

    /// The smallest difference `x - max(row)` that still contributes
    /// (TFLite's `diff_min`).
    ///
    /// ```
    /// # use qkit::layer::Softmax;
    /// # use qkit::quant::Quantizer;
    /// let sm = Softmax::new(Quantizer::<i8>::new(1.0, 0)?, 1.0)?;
    /// // beta · s_in · 2^26 = 2^26: shift 27, radius floor(31 · 2^26 / 2^27) = 15.
    /// assert_eq!(sm.diff_min(), -15);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn diff_min(&self) -> i32 {
        self.diff_min
    }

    /// Softmax of each row of `depth` values: int8 input, int8 output
    /// (scale 1/256, zero point -128).
    ///
    /// Errors: `depth` is 0 or does not divide the input, lengths differ, or
    /// a row's exponentials sum too large for an 8-bit result (TFLite
    /// aborts there; it needs hundreds of maximal entries).
    ///
    /// ```
    /// use qkit::layer::Softmax;
    /// use qkit::quant::Quantizer;
    /// let sm = Softmax::new(Quantizer::<i8>::new(0.5, 0)?, 1.0)?;
    /// let mut p = [0i8; 4];
    /// sm.run(&[3, 3, -128, 127], 2, &mut p)?; // two rows
    /// assert_eq!(p, [0, 0, -128, 127]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i8], depth: usize, output: &mut [i8]) -> Result<(), Error> {
        self.rows(input, depth, output)
    }

    /// Softmax with int16 output (scale 1/65536, zero point -32768):
    /// TFLite's int8-in, int16-out kernel.
    ///
    /// ```
    /// use qkit::layer::Softmax;
    /// use qkit::quant::Quantizer;
    /// let sm = Softmax::new(Quantizer::<i8>::new(0.5, 0)?, 1.0)?;
    /// let mut p = [0i16; 2];
    /// sm.run_i16(&[3, 3], 2, &mut p)?;
    /// assert_eq!(p, [0, 0]); // 0.5 each
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run_i16(&self, input: &[i8], depth: usize, output: &mut [i16]) -> Result<(), Error> {
        self.rows(input, depth, output)
    }

    fn rows<T: QInt>(&self, input: &[i8], depth: usize, output: &mut [T]) -> Result<(), Error> {
        check_rows(input.len(), output.len(), depth)?;
        for (x, y) in input
            .chunks_exact(depth)
            .zip(output.chunks_exact_mut(depth))
        {
            self.row(x, y)?;
        }
        Ok(())
    }

    /// `exp(beta · s_in · d)` in Q0.31 for a difference `d >= diff_min`.
    fn exp(&self, diff: i32) -> i32 {
        // MultiplyByQuantizedMultiplierGreaterThanOne: x · 2^shift wraps
        // like TFLite's int32 multiply.
        let rescaled = srdhm(
            diff.wrapping_mul(1 << self.input_left_shift),
            self.input_multiplier,
        );
        exp_on_negative_values(rescaled, SCALED_DIFF_INTEGER_BITS)
    }

    fn row<T: QInt>(&self, x: &[i8], y: &mut [T]) -> Result<(), Error> {
        let max = i32::from(x.iter().copied().max().unwrap_or(i8::MIN));
        let mut sum_of_exps = 0i32;
        for &v in x {
            let diff = i32::from(v) - max;
            if diff >= self.diff_min {
                let e =
                    saturating_rounding_multiply_by_pot(self.exp(diff), -ACCUMULATION_INTEGER_BITS);
                sum_of_exps = sum_of_exps.wrapping_add(e);
            }
        }
        // GetReciprocal: normalize the sum to [1, 2) by its leading zeros.
        let headroom_plus_one = (sum_of_exps as u32).leading_zeros() as i32;
        let num_bits_over_unit = ACCUMULATION_INTEGER_BITS - headroom_plus_one;
        let shifted_sum_minus_one = ((sum_of_exps as u32)
            .checked_shl(headroom_plus_one as u32)
            .unwrap_or(0))
        .wrapping_sub(1 << 31) as i32;
        let shifted_scale = one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
        let bits = (T::MAX - T::MIN + 1).trailing_zeros() as i32;
        let exponent = num_bits_over_unit + 31 - bits;
        if !(0..=31).contains(&exponent) {
            return Err(Error::Overflow);
        }
        for (&v, o) in x.iter().zip(y.iter_mut()) {
            let diff = i32::from(v) - max;
            *o = if diff >= self.diff_min {
                let unsat = rounding_divide_by_pot(srdhm(shifted_scale, self.exp(diff)), exponent);
                T::saturating_from_i32(unsat.wrapping_add(T::MIN))
            } else {
                T::saturating_from_i32(T::MIN)
            };
        }
        Ok(())
    }
}

/// Checks `depth > 0` divides the input and the output matches it.
fn check_rows(input: usize, output: usize, depth: usize) -> Result<(), Error> {
    if depth == 0 {
        return Err(Error::InvalidParameter("softmax depth is 0"));
    }
    check_len(input, output)?;
    if !input.is_multiple_of(depth) {
        return Err(Error::InvalidParameter(
            "input length is not a multiple of the depth",
        ));
    }
    Ok(())
}

/// Entries of TFLite's int16 lookup tables: 512 intervals plus the end point.
const LUT_SIZE: usize = 513;

/// TFLite's `LUTPopulateInt16<float>` (kernels/internal/common.h): 512
/// samples of `f` over the input range of an int16 quantization, each
/// corrected by half the interpolation error at its interval's midpoint,
/// all in `f32` with C's `roundf`.
fn lut_populate_i16(
    input_scale: f32,
    input_zero_point: i32,
    output_scale: f32,
    output_zero_point: i32,
    f: impl Fn(f32) -> f32,
) -> [i16; LUT_SIZE] {
    let input_min = input_scale * (i32::from(i16::MIN) - input_zero_point) as f32;
    let input_max = input_scale * (i32::from(i16::MAX) - input_zero_point) as f32;
    let output_min = output_scale * (i32::from(i16::MIN) - output_zero_point) as f32;
    let output_max = output_scale * (i32::from(i16::MAX) - output_zero_point) as f32;
    let steps = (LUT_SIZE - 1) as f32;
    let step = (input_max - input_min) / steps;
    let half_step = step / 2.0;
    let output_scaling_inv = 65536.0f32 / (output_max - output_min);
    let clamp = |v: f32| v.clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16;
    let mut lut = [0i16; LUT_SIZE];
    for (i, entry) in lut.iter_mut().take(LUT_SIZE - 1).enumerate() {
        let x = input_min + i as f32 * step;
        let val = f(x);
        let val_midpoint = f(x + half_step);
        let val_next = f(input_min + (i + 1) as f32 * step);
        let sample_val = libm::roundf(val * output_scaling_inv);
        let midpoint_interp_val = libm::roundf(
            (val_next * output_scaling_inv + libm::roundf(val * output_scaling_inv)) / 2.0,
        );
        let midpoint_val = libm::roundf(val_midpoint * output_scaling_inv);
        let midpoint_err = midpoint_interp_val - midpoint_val;
        let bias = libm::roundf(midpoint_err / 2.0);
        *entry = clamp(sample_val - bias);
    }
    lut[LUT_SIZE - 1] = clamp(libm::roundf(f(input_max) * output_scaling_inv));
    lut
}

/// TFLite's int16 `LUTLookup`: the top 9 bits index the table, the low 7
/// interpolate linearly to the next entry (rounded half up).
fn lut_lookup(value: i16, lut: &[i16; LUT_SIZE]) -> i16 {
    let index = (256 + (i32::from(value) >> 7)) as usize;
    let offset = i32::from(value) & 0x7f;
    let base = i32::from(lut[index]);
    // TFLite keeps the slope in an int16 (wrapping; adjacent entries are close).
    let slope = i32::from((i32::from(lut[index + 1]) - base) as i16);
    let delta = (slope * offset + 64) >> 7;
    (base + delta) as i16
}

/// SOFTMAX on int16 input and output (zero points 0, output scale 1/32768),
/// TFLite's `SoftmaxInt16`: `exp` and `1 / (1 + x)` come from two 513-entry
/// tables that TFLite fills in `f32` at Prepare time (qkit fills them
/// identically with the same `f32` operations), the input differences are
/// rescaled so that `[-65535, 0]` covers `[-10, 0]`, and the sum's
/// reciprocal is looked up after normalizing it by its leading zeros.
///
/// The two tables make the value 2 KiB: on a small stack, build it once
/// (for example into a `static` cell) rather than per call.
///
/// ```
/// use qkit::layer::Softmax16;
/// use qkit::quant::Quantizer;
/// let sm = Softmax16::new(Quantizer::<i16>::new(0.001, 0)?, 1.0)?;
/// let mut p = [0i16; 2];
/// sm.run(&[1000, 0], 2, &mut p)?; // logits 1.0 and 0.0: 0.731, 0.269
/// assert!((p[0] as f32 / 32768.0 - 0.731).abs() < 0.002);
/// assert!((p[1] as f32 / 32768.0 - 0.269).abs() < 0.002);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Softmax16 {
    multiplier: QuantizedMultiplier,
    exp_lut: [i16; LUT_SIZE],
    one_over_one_plus_x_lut: [i16; LUT_SIZE],
}

impl Softmax16 {
    /// Prepares the op for an input quantized by `input` (zero point 0, as
    /// TFLite requires) and `beta`.
    ///
    /// ```
    /// use qkit::layer::Softmax16;
    /// use qkit::quant::Quantizer;
    /// assert!(Softmax16::new(Quantizer::<i16>::new(0.001, 3)?, 1.0).is_err());
    /// assert!(Softmax16::new(Quantizer::<i16>::new(0.001, 0)?, f32::NAN).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(input: Quantizer<i16>, beta: f32) -> Result<Self, Error> {
        if input.zero_point() != 0 {
            return Err(Error::ZeroPointOutOfRange {
                zero_point: input.zero_point(),
                min: 0,
                max: 0,
            });
        }
        if !(beta.is_finite() && beta > 0.0) {
            return Err(Error::InvalidScale(f64::from(beta)));
        }
        // The input differences scaled so that [-65535, 0] is [-10, 0].
        let real = f64::from(input.scale()) * f64::from(beta) / (10.0 / 65535.0);
        let multiplier = quantize_multiplier(real)?;
        multiplier.check()?;
        let range = (i32::from(i16::MAX) - i32::from(i16::MIN)) as f32;
        let exp_lut = lut_populate_i16(
            10.0 / range,
            i32::from(i16::MAX),
            2.0 / range,
            0,
            libm::expf,
        );
        let one_over_one_plus_x_lut =
            lut_populate_i16(1.0 / range, i32::from(i16::MIN), 2.0 / range, 0, |x| {
                1.0 / (1.0 + x)
            });
        Ok(Self {
            multiplier,
            exp_lut,
            one_over_one_plus_x_lut,
        })
    }

    /// Softmax of each row of `depth` values.
    ///
    /// ```
    /// use qkit::layer::Softmax16;
    /// use qkit::quant::Quantizer;
    /// let sm = Softmax16::new(Quantizer::<i16>::new(0.01, 0)?, 1.0)?;
    /// let mut p = [0i16; 4];
    /// sm.run(&[5, 5, -32768, 32767], 2, &mut p)?;
    /// assert_eq!(p[..2], [16384, 16384]);
    /// assert_eq!(p[2], 2); // the exp table ends at exp(-10) ≈ 1.5 / 32768
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i16], depth: usize, output: &mut [i16]) -> Result<(), Error> {
        check_rows(input.len(), output.len(), depth)?;
        for (x, y) in input
            .chunks_exact(depth)
            .zip(output.chunks_exact_mut(depth))
        {
            let max = i32::from(x.iter().copied().max().unwrap_or(i16::MIN));
            let mut sum_of_exps = 0i32;
            for (&v, e) in x.iter().zip(y.iter_mut()) {
                let scaled = crate::requant::multiply_by_quantized_multiplier(
                    i32::from(v) - max,
                    self.multiplier,
                    crate::requant::Rounding::Double,
                );
                let sym = scaled.wrapping_add(32767).clamp(-32768, 32767) as i16;
                *e = lut_lookup(sym, &self.exp_lut);
                sum_of_exps = sum_of_exps.wrapping_add(i32::from(*e));
            }
            // Normalize the Q16.15 sum to [1, 2) and look up its reciprocal.
            let headroom_plus_one = (sum_of_exps as u32).leading_zeros() as i32;
            if !(1..=31).contains(&headroom_plus_one) {
                return Err(Error::Overflow);
            }
            let shifted_sum =
                (((i64::from(sum_of_exps) << (headroom_plus_one - 1)) + (1 << 13)) >> 14) as i32;
            let sym_sum = shifted_sum
                .wrapping_sub((1 << 15) + (1 << 16))
                .clamp(-32768, 32767) as i16;
            let reciprocal = i64::from(lut_lookup(sym_sum, &self.one_over_one_plus_x_lut));
            let right_shift = 31 - headroom_plus_one;
            let round = if right_shift > 0 {
                1i64 << (right_shift - 1)
            } else {
                0
            };
            for e in y.iter_mut() {
                let r = ((i64::from(*e) * reciprocal + round) >> right_shift) as i32;
                *e = r.clamp(0, 32767) as i16;
            }
        }
        Ok(())
    }
}
