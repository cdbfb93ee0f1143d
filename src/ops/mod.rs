//! Quantized elementwise operators exactly as TensorFlow Lite Micro's
//! reference kernels compute them: ADD, MUL, the activation clamp and the
//! integer-to-integer REQUANTIZE.
//!
//! Each operator has a `…Params` type built from the tensors' quantizers the
//! way TFLM's `Prepare` does (the same `f64` expressions, the same
//! [`quantize_multiplier`](crate::requant::quantize_multiplier)), and an
//! `Eval` function over caller buffers. Results are bit-identical to TFLM
//! (double rounding, the default) or to a `TFLITE_SINGLE_ROUNDING` build.
//!
//! The parameter types are generic over the storage type, like
//! [`RequantizeParams<I, O>`]: [`AddParams<Q>`] and [`MulParams<Q>`] for
//! `Q` = `i8` (the default, so `AddParams` alone is the int8 form) or `i16`
//! ([`ElementwiseInt`]). Parameters prepared for one storage type cannot be
//! handed to the other's kernel: that is a compile error, not a run-time one.
//!
//! ```
//! use qkit::ops::{add_i8, AddParams};
//! use qkit::quant::{activation_range, Activation, Quantizer};
//! let a = Quantizer::<i8>::new(0.05, -3)?;
//! let b = Quantizer::<i8>::new(0.1, 7)?;
//! let out = Quantizer::<i8>::new(0.08, -1)?;
//! let (lo, hi) = activation_range(Activation::None, out)?;
//! let p = AddParams::new(a, b, out, lo, hi)?;
//! let mut y = [0i8; 2];
//! add_i8(&[100, -128], &[-50, 127], &p, &mut y)?;
//! assert_eq!(y, [-8, 71]);
//! # Ok::<(), qkit::Error>(())
//! ```

mod add;
mod elementwise;
mod mul;
mod requantize;

/// Re-exported from [`quant`](crate::quant), where the activation clamp
/// belongs (it is computed from the output quantizer); the same item.
pub use crate::quant::{Activation, activation_range};
pub use add::{AddParams, add_i8, add_i16};
pub use elementwise::ElementwiseInt;
pub use mul::{MulParams, mul_i8, mul_i16};
pub use requantize::{RequantizeParams, requantize_tensor};

use crate::{Error, QInt};

/// The loop of ADD and MUL: `out[i] = saturate(f(a[i], b[i]))`, or
/// `Err(LengthMismatch)` unless all three slices have `a.len()` elements.
fn elementwise<Q: QInt>(
    a: &[Q],
    b: &[Q],
    out: &mut [Q],
    f: impl Fn(i32, i32) -> i32,
) -> Result<(), Error> {
    for found in [b.len(), out.len()] {
        if found != a.len() {
            return Err(Error::LengthMismatch {
                expected: a.len(),
                found,
            });
        }
    }
    for ((&x1, &x2), y) in a.iter().zip(b).zip(out.iter_mut()) {
        *y = Q::saturating_from_i32(f(x1.to_i32(), x2.to_i32()));
    }
    Ok(())
}

/// `Err` unless `act_min <= act_max`.
fn check_act(act_min: i32, act_max: i32) -> Result<(), Error> {
    if act_min > act_max {
        return Err(Error::InvalidParameter("act_min > act_max"));
    }
    Ok(())
}
