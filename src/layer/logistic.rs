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

/// TFLite's `sigmoid_table_uint16`: `sigmoid(i / 24)` in unsigned 0.16
/// fixed point for `i = 0..256`, the table of its int16 LOGISTIC and TANH
/// (`tanh(x) = 2·sigmoid(2x) - 1`). Data of TensorFlow Lite's
/// `kernels/internal/common.h`.
#[rustfmt::skip]
static SIGMOID_TABLE_U16: [u16; 256] = [
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535,

];

/// The int16 input scaling of TFLM's LOGISTIC/TANH Prepare: a
/// power-of-two input scale with the expected exponent keeps the input as
/// is (`3 << shift`, the 3/4 range stretch), any other scale gets a 15-bit
/// multiplier `s_in · 4096 · 3` doubled up to `[16384, 32767]` and a right
/// shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Int16Scaling {
    multiplier: i32,
    right_shift: i32,
}

impl Int16Scaling {
    /// `pot_shifts` are the power-of-two exponents (`12 + log2(s_in)`) the
    /// op takes as is: `0` for LOGISTIC, `0` and `1` for TANH.
    fn new(input: Quantizer<i16>, pot_shifts: &[i32]) -> Result<Self, Error> {
        if input.zero_point() != 0 {
            return Err(Error::ZeroPointOutOfRange {
                zero_point: input.zero_point(),
                min: 0,
                max: 0,
            });
        }
        let (is_pot, log2) = checked_log2(input.scale());
        let shift = 12 + log2;
        if is_pot && pot_shifts.contains(&shift) {
            return Ok(Self {
                multiplier: 3 << shift,
                right_shift: 0,
            });
        }
        let mut multiplier = f64::from(input.scale()) * 4096.0 * 3.0;
        let mut right_shift = 0;
        while multiplier <= 32767.0 / 2.0 && right_shift <= 30 {
            right_shift += 1;
            multiplier *= 2.0;
        }
        // TFLite truncates (and only DCHECKs 15 bits); beyond 16 bits its
        // int32 product could overflow.
        if multiplier >= 65536.0 {
            return Err(Error::InvalidParameter(
                "input scale too large for TFLite's int16 LOGISTIC/TANH",
            ));
        }
        Ok(Self {
            multiplier: multiplier as i32,
            right_shift,
        })
    }

    /// The rescaled input, rounded half up.
    fn apply(&self, x: i16) -> i32 {
        let round = if self.right_shift > 0 {
            1i64 << (self.right_shift - 1)
        } else {
            0
        };
        ((i64::from(x) * i64::from(self.multiplier) + round) >> self.right_shift) as i32
    }
}

/// TFLite's `CheckedLog2`: `(is a power of two within 1e-3, rounded log2)`
/// computed as `logf(x) · (1 / logf(2))` in `f32`.
fn checked_log2(x: f32) -> (bool, i32) {
    let log2 = libm::logf(x) * (1.0 / libm::logf(2.0));
    let rounded = libm::roundf(log2);
    ((log2 - rounded).abs() < 1e-3, rounded as i32)
}

/// Interpolates the sigmoid table at `abs_input` with `frac_bits` fraction
/// bits per entry; saturates past the last entry.
fn sigmoid_interpolated(abs_input: u32, frac_bits: u32, saturated: u32) -> u32 {
    let uh = (abs_input >> frac_bits) as usize;
    if uh >= 255 {
        return saturated;
    }
    let (ua, ub) = (
        u32::from(SIGMOID_TABLE_U16[uh]),
        u32::from(SIGMOID_TABLE_U16[uh + 1]),
    );
    let ut = abs_input & ((1 << frac_bits) - 1);
    (ua << frac_bits).wrapping_add(ut.wrapping_mul(ub.wrapping_sub(ua)))
}

/// int16 LOGISTIC, TFLite Micro's `reference_integer_ops::Logistic` for
/// int16: the input (zero point 0) is rescaled so that 2^12 is 1.0·3/4, the
/// sigmoid table is interpolated, and the result is the output in Q0.15
/// (scale 1/32768, zero point 0, as TFLite requires).
///
/// ```
/// use qkit::layer::Logistic16;
/// use qkit::quant::Quantizer;
/// let sigmoid = Logistic16::new(Quantizer::<i16>::new(1.0 / 4096.0, 0)?)?;
/// let mut y = [0i16; 3];
/// sigmoid.run(&[0, 4096, -32768], &mut y)?; // 0.0, 1.0, -8.0
/// assert_eq!(y[0], 16384); // 0.5
/// assert!((y[1] as f32 / 32768.0 - 0.7311).abs() < 1e-3);
/// assert!(y[2] < 20);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logistic16 {
    scaling: Int16Scaling,
}

impl Logistic16 {
    /// Prepares the op for an input quantized by `input` (zero point 0).
    ///
    /// ```
    /// use qkit::layer::Logistic16;
    /// use qkit::quant::Quantizer;
    /// assert!(Logistic16::new(Quantizer::<i16>::new(0.001, 0)?).is_ok());
    /// assert!(Logistic16::new(Quantizer::<i16>::new(0.001, 1)?).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(input: Quantizer<i16>) -> Result<Self, Error> {
        Ok(Self {
            scaling: Int16Scaling::new(input, &[0])?,
        })
    }

    /// Applies the op elementwise (`output.len() == input.len()`).
    ///
    /// ```
    /// # use qkit::layer::Logistic16;
    /// # use qkit::quant::Quantizer;
    /// let s = Logistic16::new(Quantizer::<i16>::new(0.001, 0)?)?;
    /// let mut y = [0i16; 2];
    /// s.run(&[32767, -32768], &mut y)?;
    /// assert_eq!(y, [32767, 1]); // saturated: TFLite's table ends one step above 0
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i16], output: &mut [i16]) -> Result<(), Error> {
        check_len(input.len(), output.len())?;
        for (y, &x) in output.iter_mut().zip(input) {
            let v = self.scaling.apply(x);
            let r = sigmoid_interpolated(v.unsigned_abs(), 9, 0x7FFF << 10);
            let r = if v >= 0 {
                r.wrapping_add(1 << 9)
            } else {
                (1u32 << (16 + 9))
                    .wrapping_sub(r)
                    .wrapping_add((1 << 9) - 1)
            };
            *y = (r >> 10) as i16;
        }
        Ok(())
    }
}

/// int16 TANH, TFLite Micro's `reference_integer_ops::Tanh` for int16:
/// `tanh(x) = 2·sigmoid(2x) - 1` on the same table; output in Q0.15
/// (scale 1/32768, zero point 0).
///
/// ```
/// use qkit::layer::Tanh16;
/// use qkit::quant::Quantizer;
/// let tanh = Tanh16::new(Quantizer::<i16>::new(1.0 / 4096.0, 0)?)?;
/// let mut y = [0i16; 2];
/// tanh.run(&[0, 4096], &mut y)?; // 0.0, 1.0
/// assert_eq!(y[0], 0);
/// assert!((y[1] as f32 / 32768.0 - 0.7616).abs() < 1e-3);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tanh16 {
    scaling: Int16Scaling,
}

impl Tanh16 {
    /// Prepares the op for an input quantized by `input` (zero point 0).
    ///
    /// ```
    /// use qkit::layer::Tanh16;
    /// use qkit::quant::Quantizer;
    /// assert!(Tanh16::new(Quantizer::<i16>::new(1.0 / 2048.0, 0)?).is_ok());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(input: Quantizer<i16>) -> Result<Self, Error> {
        Ok(Self {
            scaling: Int16Scaling::new(input, &[0, 1])?,
        })
    }

    /// Applies the op elementwise (`output.len() == input.len()`).
    ///
    /// ```
    /// # use qkit::layer::Tanh16;
    /// # use qkit::quant::Quantizer;
    /// let t = Tanh16::new(Quantizer::<i16>::new(0.001, 0)?)?;
    /// let mut y = [0i16; 2];
    /// t.run(&[32767, -32768], &mut y)?;
    /// assert_eq!(y, [32767, -32767]); // saturated (symmetric: -32768 is never produced)
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i16], output: &mut [i16]) -> Result<(), Error> {
        check_len(input.len(), output.len())?;
        for (y, &x) in output.iter_mut().zip(input) {
            let v = self.scaling.apply(x);
            let r = sigmoid_interpolated(v.unsigned_abs(), 8, 0xFFFF << 8) as i32;
            let r = if v >= 0 {
                r.wrapping_sub(1 << 23).wrapping_add(1 << 7)
            } else {
                r.wrapping_neg()
                    .wrapping_add(1 << 23)
                    .wrapping_add((1 << 7) - 1)
            };
            *y = (r >> 8) as i16;
        }
        Ok(())
    }
}
