//! LOGISTIC and TANH on int8, as TensorFlow Lite Micro computes them
//! (gemmlowp fixed point) or as LiteRT does (a table filled in float).
//!
//! An int8 input has 256 values, so both ops precompute their 256 outputs
//! once at construction and run as a table lookup; the table entries are
//! the runtime's integers for each input.

use super::fully_connected::check_len;
use super::gemmlowp;
use crate::Error;
use crate::quant::Quantizer;
use crate::requant::{Rounding, multiply_by_quantized_multiplier, rounding_divide_by_pot};

/// Whose arithmetic fills the table.
///
/// ```
/// use qkit::layer::TableMode;
/// assert_eq!(TableMode::default(), TableMode::Micro);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TableMode {
    /// TensorFlow Lite Micro (and LiteRT's fixed-point-optimized kernels'
    /// int8 reference): the input is rescaled to Q4.27 by a Q31
    /// multiplier, gemmlowp's fixed-point `logistic`/`tanh` evaluates it and
    /// a rounding shift brings it to 8 bits; inputs beyond the radius
    /// saturate.
    #[default]
    Micro,
    /// LiteRT's reference and generic-optimized int8 kernels: a 256-entry
    /// table of `round(f(s_in · (q - zp)) / s_out) + zp_out` evaluated in
    /// `f32` (`expf`, `tanhf`). Differs from [`Micro`](Self::Micro) on
    /// near-ties by one.
    LiteRt,
}

/// The int8 input scaling of TFLM's LOGISTIC/TANH Prepare: `s_in · 2^27`
/// split by `frexp` into a Q31 multiplier (rounded half away, *without*
/// QuantizeMultiplier's carry fix) and a left shift, plus the input radius
/// beyond which the output saturates.
#[derive(Debug, Clone, Copy)]
struct InputScaling {
    multiplier: i32,
    left_shift: i32,
    radius: i32,
}

/// `kInputIntegerBits` of the int8 LOGISTIC and TANH.
const INPUT_INTEGER_BITS: i32 = 4;

impl InputScaling {
    fn new(input_scale: f32) -> Result<Self, Error> {
        let real = f64::from(input_scale) * (1i64 << (31 - INPUT_INTEGER_BITS)) as f64;
        let (fraction, exponent) = libm::frexp(real);
        let q = libm::round(fraction * (1i64 << 31) as f64);
        // TFLite casts q to int32 as is: q = 2^31 (a scale a hair below a
        // power of two) or a negative shift has no defined result there.
        if q >= (1i64 << 31) as f64 || !(0..=30).contains(&exponent) {
            return Err(Error::InvalidParameter(
                "input scale outside the range TFLite's int8 LOGISTIC/TANH support",
            ));
        }
        // CalculateInputRadius(4, shift, 31), floored in f64.
        let radius = gemmlowp::calculate_input_radius(INPUT_INTEGER_BITS, exponent);
        Ok(Self {
            multiplier: q as i32,
            left_shift: exponent,
            radius,
        })
    }

    /// The TFLM kernel for one input: saturate beyond the radius, else
    /// `f` on the Q4.27 value, then `out_of_q0`.
    fn eval(&self, x: i32, f: impl Fn(i32, i32) -> i32, out_of_q0: impl Fn(i32) -> i32) -> i8 {
        if x <= -self.radius {
            i8::MIN
        } else if x >= self.radius {
            i8::MAX
        } else {
            let m = crate::requant::QuantizedMultiplier {
                multiplier: self.multiplier,
                shift: self.left_shift,
            };
            let q4 = multiply_by_quantized_multiplier(x, m, Rounding::Double);
            out_of_q0(f(q4, INPUT_INTEGER_BITS)).clamp(-128, 127) as i8
        }
    }
}

/// LiteRT's `PopulateLookupTable`: `round(f(s_in·(q - zp)) · (1/s_out)) + zp_out`
/// in `f32`, clamped.
fn float_table(
    input: Quantizer<i8>,
    output_scale: f32,
    output_zero_point: i32,
    f: impl Fn(f32) -> f32,
) -> [i8; 256] {
    let inverse_scale = 1.0 / output_scale;
    let mut table = [0i8; 256];
    for q in -128i32..=127 {
        let dequantized = input.scale() * (q - input.zero_point()) as f32;
        let rescaled = libm::roundf(f(dequantized) * inverse_scale);
        let quantized = (rescaled + output_zero_point as f32) as i32;
        table[(q as i8) as u8 as usize] = quantized.clamp(-128, 127) as i8;
    }
    table
}

/// Applies a 256-entry table indexed by the input's bits.
fn lookup(table: &[i8; 256], input: &[i8], output: &mut [i8]) -> Result<(), Error> {
    check_len(input.len(), output.len())?;
    for (y, &x) in output.iter_mut().zip(input) {
        *y = table[x as u8 as usize];
    }
    Ok(())
}

/// Fills a table in TFLM's fixed point.
fn micro_table(input: Quantizer<i8>, eval: impl Fn(i32) -> i8) -> [i8; 256] {
    let mut table = [0i8; 256];
    for q in -128i32..=127 {
        table[(q as i8) as u8 as usize] = eval(q - input.zero_point());
    }
    table
}

/// int8 LOGISTIC (sigmoid). The output is quantized with scale 1/256 and
/// zero point -128, as TFLite requires.
///
/// ```
/// use qkit::layer::{Logistic, TableMode};
/// use qkit::quant::Quantizer;
/// let sigmoid = Logistic::new(Quantizer::<i8>::new(0.0625, 0)?, TableMode::Micro)?;
/// let mut y = [0i8; 3];
/// sigmoid.run(&[0, 16, -128], &mut y)?; // 0.0, 1.0, -8.0
/// assert_eq!(y, [0, 59, -128]); // 0.5, 0.731 (187/256), 0.0003
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logistic {
    table: [i8; 256],
}

impl Logistic {
    /// Prepares the table for an input quantized by `input`.
    ///
    /// `Err(InvalidParameter)` for input scales TFLM's int8 kernel cannot
    /// represent (`s_in · 2^27` outside `[0.5, 2^30)`, or just below a power
    /// of two where its multiplier overflows).
    ///
    /// ```
    /// use qkit::layer::{Logistic, TableMode};
    /// use qkit::quant::Quantizer;
    /// assert!(Logistic::new(Quantizer::<i8>::new(0.1, 5)?, TableMode::LiteRt).is_ok());
    /// assert!(Logistic::new(Quantizer::<i8>::new(1e-12, 5)?, TableMode::Micro).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(input: Quantizer<i8>, mode: TableMode) -> Result<Self, Error> {
        let table = match mode {
            TableMode::Micro => {
                let s = InputScaling::new(input.scale())?;
                micro_table(input, |x| {
                    // Q0.31 -> 8 fractional bits, then the -128 zero point.
                    s.eval(x, gemmlowp::logistic, |q0| {
                        rounding_divide_by_pot(q0, 23) - 128
                    })
                })
            }
            TableMode::LiteRt => {
                float_table(input, 1.0 / 256.0, -128, |v| 1.0 / (1.0 + libm::expf(-v)))
            }
        };
        Ok(Self { table })
    }

    /// Applies the op elementwise (`output.len() == input.len()`).
    ///
    /// ```
    /// # use qkit::layer::{Logistic, TableMode};
    /// # use qkit::quant::Quantizer;
    /// let s = Logistic::new(Quantizer::<i8>::new(0.1, 0)?, TableMode::Micro)?;
    /// assert!(s.run(&[1, 2], &mut [0i8; 3]).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        lookup(&self.table, input, output)
    }

    /// The output for every input value, indexed by `input as u8`.
    ///
    /// ```
    /// # use qkit::layer::{Logistic, TableMode};
    /// # use qkit::quant::Quantizer;
    /// let s = Logistic::new(Quantizer::<i8>::new(0.1, 0)?, TableMode::Micro)?;
    /// assert_eq!(s.table()[0], 0); // sigmoid(0) = 0.5 -> 128/256 - 128
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn table(&self) -> &[i8; 256] {
        &self.table
    }
}

/// int8 TANH. The output is quantized with scale 1/128 and zero point 0
/// (TFLite's fixed-point kernel assumes it).
///
/// ```
/// use qkit::layer::{Tanh, TableMode};
/// use qkit::quant::Quantizer;
/// let tanh = Tanh::new(Quantizer::<i8>::new(0.0625, 0)?, TableMode::Micro)?;
/// let mut y = [0i8; 3];
/// tanh.run(&[0, 16, -128], &mut y)?; // 0.0, 1.0, -8.0
/// assert_eq!(y, [0, 97, -128]); // 0.0, 0.7616 (97/128), -1.0
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tanh {
    table: [i8; 256],
}

impl Tanh {
    /// Prepares the table for an input quantized by `input` (the same
    /// scale limits as [`Logistic::new`]).
    ///
    /// ```
    /// use qkit::layer::{Tanh, TableMode};
    /// use qkit::quant::Quantizer;
    /// let a = Tanh::new(Quantizer::<i8>::new(0.05, -3)?, TableMode::Micro)?;
    /// let b = Tanh::new(Quantizer::<i8>::new(0.05, -3)?, TableMode::LiteRt)?;
    /// let same = a.table().iter().zip(b.table()).filter(|(x, y)| x == y).count();
    /// assert!(same > 240); // the two runtimes differ on near-ties only
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(input: Quantizer<i8>, mode: TableMode) -> Result<Self, Error> {
        let table = match mode {
            TableMode::Micro => {
                let s = InputScaling::new(input.scale())?;
                micro_table(input, |x| {
                    s.eval(x, gemmlowp::tanh, |q0| rounding_divide_by_pot(q0, 24))
                })
            }
            TableMode::LiteRt => float_table(input, 1.0 / 128.0, 0, libm::tanhf),
        };
        Ok(Self { table })
    }

    /// Applies the op elementwise (`output.len() == input.len()`).
    ///
    /// ```
    /// # use qkit::layer::{Tanh, TableMode};
    /// # use qkit::quant::Quantizer;
    /// let t = Tanh::new(Quantizer::<i8>::new(0.5, 0)?, TableMode::Micro)?;
    /// let mut y = [0i8; 2];
    /// t.run(&[127, -127], &mut y)?;
    /// assert_eq!(y, [127, -128]); // saturated beyond the input radius
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i8], output: &mut [i8]) -> Result<(), Error> {
        lookup(&self.table, input, output)
    }

    /// The output for every input value, indexed by `input as u8`.
    ///
    /// ```
    /// # use qkit::layer::{Tanh, TableMode};
    /// # use qkit::quant::Quantizer;
    /// let t = Tanh::new(Quantizer::<i8>::new(0.1, 0)?, TableMode::LiteRt)?;
    /// assert_eq!(t.table()[0], 0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn table(&self) -> &[i8; 256] {
        &self.table
    }
}
