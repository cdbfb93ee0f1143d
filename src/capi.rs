//! A C ABI over qkit's integer core (feature `capi`).
//!
//! Build the static library and link it from C:
//!
//! ```text
//! cargo rustc --release --lib --features capi --crate-type staticlib
//! cc -Iinclude app.c target/release/libqkit.a -lpthread -ldl -lm
//! ```
//!
//! `include/qkit.h` declares everything here (a test keeps the two in sync).
//! Every function returns a [`qkit_status`] (`QKIT_OK` = 0, negative on
//! error) and writes its result through an out pointer: no input can make it
//! panic or unwind across the FFI boundary.
//!
//! Pointers: a pointer paired with a length may be null only when that length
//! is 0 (a null optional `bias` means "no bias"); otherwise it must point to
//! that many valid, aligned elements, and outputs must not overlap inputs.
//! That is the one contract C cannot check for us.
//!
//! This is the one module outside `kernel::x86` that uses `unsafe`: turning
//! C pointers into slices cannot be done without it, and each use says why
//! it is sound.
#![allow(unsafe_code)]
#![allow(non_camel_case_types)]

use core::slice;

use crate::Error;
use crate::kernel;
use crate::kernel::{Multipliers, OutputStage, Scaling};
use crate::layer::{Activation, Channel, FullyConnected, Quantization, Requant};
use crate::requant::{self, QuantizedMultiplier, Rounding};

/// Status code returned by every C function: `QKIT_OK` or a negative error.
///
/// ```
/// assert_eq!(qkit::capi::QKIT_OK, 0);
/// ```
pub type qkit_status = i32;
/// Success.
pub const QKIT_OK: qkit_status = 0;
/// Buffer lengths do not fit together.
pub const QKIT_ERR_LENGTH: qkit_status = -1;
/// A null pointer with a non-zero length.
pub const QKIT_ERR_NULL: qkit_status = -2;
/// A scale, multiplier, shift, zero point or mode outside its domain.
pub const QKIT_ERR_PARAM: qkit_status = -3;
/// A value outside the accepted range.
pub const QKIT_ERR_RANGE: qkit_status = -4;
/// Any other error.
pub const QKIT_ERR_OTHER: qkit_status = -5;

/// Requantization mode: `QKIT_ROUNDING_DOUBLE`, `_SINGLE` or `_FLOAT32`.
///
/// ```
/// assert_eq!(qkit::capi::QKIT_ROUNDING_SINGLE, 1);
/// ```
pub type qkit_rounding = i32;
/// Double rounding (TFLite Micro / CMSIS-NN default).
pub const QKIT_ROUNDING_DOUBLE: qkit_rounding = 0;
/// Single rounding (`TFLITE_SINGLE_ROUNDING`).
pub const QKIT_ROUNDING_SINGLE: qkit_rounding = 1;
/// Float32 requantization as ONNX Runtime (fully-connected only).
pub const QKIT_ROUNDING_FLOAT32: qkit_rounding = 2;

/// Fused activation of the fully-connected layer.
///
/// ```
/// assert_eq!(qkit::capi::QKIT_ACTIVATION_RELU6, 2);
/// ```
pub type qkit_activation = i32;
/// No activation.
pub const QKIT_ACTIVATION_NONE: qkit_activation = 0;
/// ReLU.
pub const QKIT_ACTIVATION_RELU: qkit_activation = 1;
/// ReLU6.
pub const QKIT_ACTIVATION_RELU6: qkit_activation = 2;
/// ReLU clamped to [-1, 1].
pub const QKIT_ACTIVATION_RELU_N1_TO_1: qkit_activation = 3;

/// The C name of [`QuantizedMultiplier`] (`#[repr(C)]`: `{ int32_t
/// multiplier; int32_t shift; }`).
///
/// ```
/// let m = qkit::capi::qkit_quantized_multiplier { multiplier: 1 << 30, shift: 1 };
/// assert_eq!(m.to_f64(), 1.0);
/// ```
pub type qkit_quantized_multiplier = QuantizedMultiplier;

fn status(e: Error) -> qkit_status {
    match e {
        Error::LengthMismatch { .. } | Error::CapacityExceeded { .. } => QKIT_ERR_LENGTH,
        Error::InvalidScale(_)
        | Error::InvalidMultiplier(_)
        | Error::ShiftOutOfRange { .. }
        | Error::ZeroPointOutOfRange { .. }
        | Error::InvalidParameter(_)
        | Error::NaN => QKIT_ERR_PARAM,
        Error::OutOfRange { .. } | Error::Overflow => QKIT_ERR_RANGE,
        _ => QKIT_ERR_OTHER,
    }
}

fn rounding(r: qkit_rounding) -> Result<Rounding, qkit_status> {
    match r {
        QKIT_ROUNDING_DOUBLE => Ok(Rounding::Double),
        QKIT_ROUNDING_SINGLE => Ok(Rounding::Single),
        _ => Err(QKIT_ERR_PARAM),
    }
}

fn requant_mode(r: qkit_rounding) -> Result<Requant, qkit_status> {
    match r {
        QKIT_ROUNDING_DOUBLE => Ok(Requant::Double),
        QKIT_ROUNDING_SINGLE => Ok(Requant::Single),
        QKIT_ROUNDING_FLOAT32 => Ok(Requant::Float32),
        _ => Err(QKIT_ERR_PARAM),
    }
}

fn activation(a: qkit_activation) -> Result<Activation, qkit_status> {
    match a {
        QKIT_ACTIVATION_NONE => Ok(Activation::None),
        QKIT_ACTIVATION_RELU => Ok(Activation::Relu),
        QKIT_ACTIVATION_RELU6 => Ok(Activation::Relu6),
        QKIT_ACTIVATION_RELU_N1_TO_1 => Ok(Activation::ReluN1To1),
        _ => Err(QKIT_ERR_PARAM),
    }
}

/// `ptr[..len]`; null is accepted only for `len == 0`.
///
/// # Safety
/// `ptr` must be null or valid for `len` reads of `T` for `'a`.
unsafe fn input<'a, T>(ptr: *const T, len: usize) -> Result<&'a [T], qkit_status> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(QKIT_ERR_NULL);
    }
    // SAFETY: non-null, and the caller guarantees `len` valid elements.
    Ok(unsafe { slice::from_raw_parts(ptr, len) })
}

/// `ptr[..len]` for writing; null is accepted only for `len == 0`.
///
/// # Safety
/// `ptr` must be null or valid for `len` writes of `T` for `'a`, aliasing
/// nothing else in use.
unsafe fn output<'a, T>(ptr: *mut T, len: usize) -> Result<&'a mut [T], qkit_status> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(QKIT_ERR_NULL);
    }
    // SAFETY: non-null, exclusive and `len` elements long per the caller.
    Ok(unsafe { slice::from_raw_parts_mut(ptr, len) })
}

/// One output value through `out`.
///
/// # Safety
/// `out` must be null or valid for one write.
unsafe fn put<T>(out: *mut T, v: T) -> Result<(), qkit_status> {
    if out.is_null() {
        return Err(QKIT_ERR_NULL);
    }
    // SAFETY: non-null and valid for a write per the caller.
    unsafe { out.write(v) };
    Ok(())
}

fn run(f: impl FnOnce() -> Result<(), qkit_status>) -> qkit_status {
    f().err().unwrap_or(QKIT_OK)
}

/// [`requant::quantize_multiplier`]: TFLite's `QuantizeMultiplier`.
///
/// # Safety
/// `out` must be null (giving `QKIT_ERR_NULL`) or valid for one write.
///
/// ```
/// use qkit::capi::*;
/// let mut m = qkit_quantized_multiplier::default();
/// assert_eq!(unsafe { qkit_quantize_multiplier(0.75, &mut m) }, QKIT_OK);
/// assert_eq!((m.multiplier, m.shift), (0x6000_0000, 0));
/// assert_eq!(unsafe { qkit_quantize_multiplier(-1.0, &mut m) }, QKIT_ERR_PARAM);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn qkit_quantize_multiplier(
    real: f64,
    out: *mut qkit_quantized_multiplier,
) -> qkit_status {
    run(|| {
        let m = requant::quantize_multiplier(real).map_err(status)?;
        // SAFETY: forwarded from this function's contract.
        unsafe { put(out, m) }
    })
}

/// [`requant::multiply_by_quantized_multiplier`], rounding chosen at run
/// time (`QKIT_ROUNDING_DOUBLE` or `QKIT_ROUNDING_SINGLE`).
///
/// # Safety
/// `out` must be null (giving `QKIT_ERR_NULL`) or valid for one write.
///
/// ```
/// use qkit::capi::*;
/// let m = qkit_quantized_multiplier { multiplier: 1583594044, shift: -9 };
/// let mut y = 0;
/// unsafe { qkit_multiply_by_quantized_multiplier(7984, m, QKIT_ROUNDING_DOUBLE, &mut y) };
/// assert_eq!(y, 12);
/// unsafe { qkit_multiply_by_quantized_multiplier(7984, m, QKIT_ROUNDING_SINGLE, &mut y) };
/// assert_eq!(y, 11);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn qkit_multiply_by_quantized_multiplier(
    x: i32,
    m: qkit_quantized_multiplier,
    rounding_mode: qkit_rounding,
    out: *mut i32,
) -> qkit_status {
    run(|| {
        let y = requant::multiply_by_quantized_multiplier(x, m, rounding(rounding_mode)?);
        // SAFETY: forwarded from this function's contract.
        unsafe { put(out, y) }
    })
}

/// [`kernel::requantize`] to `int8`:
/// `out[i] = clamp(MBQM(acc[i] + bias[c], m[c]) + zero_point, act_min, act_max)`.
///
/// One multiplier (`n_multipliers == 1`) is per tensor; more are per channel
/// with channels innermost (`c = i % n_multipliers`). `bias` may be null;
/// otherwise it has one entry per channel (`n_bias`).
///
/// # Safety
/// `acc` and `out` valid for `n` elements, `multipliers` for
/// `n_multipliers`, `bias` null or valid for `n_bias`; `out` overlaps
/// nothing.
///
/// ```
/// use qkit::capi::*;
/// let m = [qkit_quantized_multiplier { multiplier: 1 << 30, shift: -3 }];
/// let acc = [160, -24, 100_000];
/// let mut out = [0i8; 3];
/// let s = unsafe {
///     qkit_requantize_i8(acc.as_ptr(), 3, core::ptr::null(), 0, m.as_ptr(), 1,
///                        -10, -128, 127, QKIT_ROUNDING_DOUBLE, out.as_mut_ptr())
/// };
/// assert_eq!((s, out), (QKIT_OK, [0, -12, 127]));
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn qkit_requantize_i8(
    acc: *const i32,
    n: usize,
    bias: *const i32,
    n_bias: usize,
    multipliers: *const qkit_quantized_multiplier,
    n_multipliers: usize,
    zero_point: i32,
    act_min: i32,
    act_max: i32,
    rounding_mode: qkit_rounding,
    out: *mut i8,
) -> qkit_status {
    run(|| {
        // SAFETY: every pointer/length pair is valid per this function's contract.
        let (acc, ms, out) = unsafe {
            (
                input(acc, n)?,
                input(multipliers, n_multipliers)?,
                output(out, n)?,
            )
        };
        // SAFETY: as above; null means "no bias".
        let bias = if bias.is_null() {
            None
        } else {
            Some(unsafe { input(bias, n_bias)? })
        };
        let multipliers = match ms {
            [] => return Err(QKIT_ERR_LENGTH),
            [m] => Multipliers::PerTensor(*m),
            many => Multipliers::PerChannel(many),
        };
        let scaling = match rounding(rounding_mode)? {
            Rounding::Double => Scaling::Double(multipliers),
            Rounding::Single => Scaling::Single(multipliers),
        };
        let stage = OutputStage {
            scaling,
            zero_point,
            act_min,
            act_max,
        };
        kernel::requantize(acc, bias, &stage, out).map_err(status)
    })
}

/// [`kernel::dot_i8`]: the exact `int32` (wrapping) sum of `a[i] · b[i]`.
///
/// # Safety
/// `a` and `b` valid for `n` elements; `out` valid for one write.
///
/// ```
/// use qkit::capi::*;
/// let (a, b) = ([1i8, -128, 127], [3i8, -128, 2]);
/// let mut d = 0;
/// assert_eq!(unsafe { qkit_dot_i8(a.as_ptr(), b.as_ptr(), 3, &mut d) }, QKIT_OK);
/// assert_eq!(d, 3 + 16384 + 254);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn qkit_dot_i8(
    a: *const i8,
    b: *const i8,
    n: usize,
    out: *mut i32,
) -> qkit_status {
    run(|| {
        // SAFETY: both pointers are valid for `n` reads per the contract.
        let (a, b) = unsafe { (input(a, n)?, input(b, n)?) };
        let d = kernel::dot_i8(a, b).map_err(status)?;
        // SAFETY: forwarded from this function's contract.
        unsafe { put(out, d) }
    })
}

/// Output channels processed per pass: the per-channel data lives in a stack
/// array of this many entries, so the C API needs no allocator and no
/// caller-provided scratch.
const CHANNELS_PER_PASS: usize = 32;

/// The int8 FULLY_CONNECTED layer as TFLite Micro computes it
/// ([`FullyConnected`]): `input` is `batch × in_dim`, `weights` is
/// `out_dim × in_dim` (int8, `[out][in]`), `bias` null or `out_dim` int32
/// values, `filter_scales` 1 (per tensor) or `out_dim` (per channel) scales,
/// `output` is `batch × out_dim`. The multipliers are computed from the
/// scales exactly as TFLM's Prepare does, on every call; Rust users who run a
/// layer many times should build a [`FullyConnected`] once instead.
///
/// # Safety
/// Every pointer valid for its documented length (`bias` may be null);
/// `output` overlaps nothing.
///
/// ```
/// use qkit::capi::*;
/// let w = [10i8, -20, 30, 127, 0, -127];
/// let bias = [100i32, -50];
/// let s_w = [0.01f32];
/// let mut out = [0i8; 2];
/// let s = unsafe {
///     qkit_fully_connected_i8([4i8, 5, -6].as_ptr(), 1, 3, w.as_ptr(), 2, bias.as_ptr(),
///         0.5, -1, s_w.as_ptr(), 1, 0.1, 3, QKIT_ACTIVATION_NONE, QKIT_ROUNDING_DOUBLE,
///         out.as_mut_ptr())
/// };
/// assert_eq!((s, out), (QKIT_OK, [-3, 64]));
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn qkit_fully_connected_i8(
    input_data: *const i8,
    batch: usize,
    in_dim: usize,
    weights: *const i8,
    out_dim: usize,
    bias: *const i32,
    input_scale: f32,
    input_zero_point: i32,
    filter_scales: *const f32,
    n_filter_scales: usize,
    output_scale: f32,
    output_zero_point: i32,
    activation_kind: qkit_activation,
    rounding_mode: qkit_rounding,
    output_data: *mut i8,
) -> qkit_status {
    run(|| {
        let n_in = batch.checked_mul(in_dim).ok_or(QKIT_ERR_LENGTH)?;
        let n_w = out_dim.checked_mul(in_dim).ok_or(QKIT_ERR_LENGTH)?;
        let n_out = batch.checked_mul(out_dim).ok_or(QKIT_ERR_LENGTH)?;
        // SAFETY: every pointer/length pair is valid per this function's contract.
        let (x, w, scales, y) = unsafe {
            (
                input(input_data, n_in)?,
                input(weights, n_w)?,
                input(filter_scales, n_filter_scales)?,
                output(output_data, n_out)?,
            )
        };
        // SAFETY: as above; null means "no bias".
        let bias = if bias.is_null() {
            None
        } else {
            Some(unsafe { input(bias, out_dim)? })
        };
        if n_filter_scales != 1 && n_filter_scales != out_dim {
            return Err(QKIT_ERR_LENGTH);
        }
        let (requant, act) = (requant_mode(rounding_mode)?, activation(activation_kind)?);
        // Output channels in passes of CHANNELS_PER_PASS: each pass is a
        // complete FullyConnected over a slice of the rows, which computes
        // exactly what the whole layer would (rows are independent).
        let mut start = 0;
        while start < out_dim {
            let end = (start + CHANNELS_PER_PASS).min(out_dim);
            let per_channel = n_filter_scales != 1;
            let q = Quantization {
                input_scale,
                input_zero_point,
                filter_scales: if per_channel {
                    &scales[start..end]
                } else {
                    scales
                },
                output_scale,
                output_zero_point,
                activation: act,
            };
            let mut channels = [Channel::default(); CHANNELS_PER_PASS];
            let fc = FullyConnected::new(
                &w[start * in_dim..end * in_dim],
                in_dim,
                bias.map(|b| &b[start..end]),
                &q,
                requant,
                &mut channels[..end - start],
            )
            .map_err(status)?;
            let mut rows = [0i8; CHANNELS_PER_PASS];
            for b in 0..batch {
                fc.run(
                    &x[b * in_dim..(b + 1) * in_dim],
                    1,
                    &mut rows[..end - start],
                )
                .map_err(status)?;
                y[b * out_dim + start..b * out_dim + end].copy_from_slice(&rows[..end - start]);
            }
            start = end;
        }
        Ok(())
    })
}
