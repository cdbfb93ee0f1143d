//! A C ABI over qkit's integer core (feature `capi`).
//!
//! Build the static library and link it from C:
//!
//! ```text
//! # hosted (Linux, macOS): with std, so the SIMD kernels are detected at run time
//! cargo rustc --release --lib --features capi,std --crate-type staticlib
//! cc -Iinclude app.c target/release/libqkit.a -lpthread -ldl -lm
//! # bare metal (C firmware): no std; `panic-halt` supplies the panic handler
//! cargo rustc --release --lib --features capi,panic-halt --crate-type staticlib \
//!     --target thumbv7em-none-eabihf -Zbuild-std=core
//! ```
//!
//! `include/qkit.h` declares everything here (a test keeps the two in sync)
//! and states the contract; in short:
//!
//! * Every function returns a [`qkit_status`]: `QKIT_OK` (0) or a negative
//!   error code, and writes results only through its pointers, **only after
//!   every check has passed**: on error no output has been touched.
//! * Checks, in this order (the first failure is returned): each buffer's
//!   pointer and length (`QKIT_ERR_NULL` for a NULL pointer with a non-zero
//!   length, `QKIT_ERR_LENGTH` when `length · sizeof(element)` exceeds
//!   `PTRDIFF_MAX` or the buffer would wrap around the address space,
//!   `QKIT_ERR_ALIGNMENT` for a pointer not aligned to its element type);
//!   lengths that do not fit together (`QKIT_ERR_LENGTH`); outputs that
//!   overlap an input or another output (`QKIT_ERR_OVERLAP`); then the
//!   parameters (`QKIT_ERR_PARAM`, `QKIT_ERR_RANGE`).
//! * What C cannot tell qkit, the caller promises: a buffer really holds the
//!   number of elements its length says (as with `memcpy`).
//!
//! Nothing here panics; with the `std` feature a panic (a bug) would
//! still be caught and returned as `QKIT_ERR_OTHER` instead of unwinding
//! into C. Without `std` a static library needs a `#[panic_handler]`: the
//! `panic-halt` feature provides one that spins forever (only on bare-metal
//! targets, `target_os = "none"`), because no panic is reachable and a C
//! firmware has no Rust crate of its own to supply one; a Rust firmware that
//! links qkit uses its own handler instead and leaves the feature off.
//!
//! This is the one module outside the per-ISA kernels that uses `unsafe`:
//! turning C pointers into slices cannot be done without it. Every pointer
//! is checked (null, size, alignment, overlap) before a slice is made, and
//! each use says why it is sound.
#![allow(unsafe_code)]
#![allow(non_camel_case_types)]

use core::mem::{align_of, size_of};
use core::slice;

use crate::Error;
use crate::kernel;
use crate::kernel::{Multipliers, OutputStage, Scaling};
use crate::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode,
};
use crate::quant::Quantizer;
use crate::requant::{self, QuantizedMultiplier, Rounding};

/// Status code returned by every C function: `QKIT_OK` or a negative error.
///
/// ```
/// assert_eq!(qkit::capi::QKIT_OK, 0);
/// ```
pub type qkit_status = i32;
/// Success.
pub const QKIT_OK: qkit_status = 0;
/// A length too large for the address space (its byte size exceeds
/// `PTRDIFF_MAX`, or the buffer wraps around), lengths that do not fit
/// together, or an empty table where one entry is needed.
pub const QKIT_ERR_LENGTH: qkit_status = -1;
/// A NULL pointer with a non-zero length, or a NULL result pointer.
pub const QKIT_ERR_NULL: qkit_status = -2;
/// A scale, multiplier, shift, zero point or mode outside its domain.
pub const QKIT_ERR_PARAM: qkit_status = -3;
/// A value outside the accepted range (an activation bound outside the
/// output type, weights a kernel cannot take).
pub const QKIT_ERR_RANGE: qkit_status = -4;
/// An internal error: a bug in qkit, never the caller's input.
pub const QKIT_ERR_OTHER: qkit_status = -5;
/// A pointer not aligned to its element type (`int32_t`, `float`, the
/// multiplier struct: 4 bytes).
pub const QKIT_ERR_ALIGNMENT: qkit_status = -6;
/// An output buffer that overlaps an input or another output.
pub const QKIT_ERR_OVERLAP: qkit_status = -7;

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

/// The status of a qkit error. Exhaustive on purpose: a new `Error` variant
/// must be given its code here.
fn status(e: Error) -> qkit_status {
    match e {
        Error::LengthMismatch { .. }
        | Error::CapacityExceeded { .. }
        | Error::ChannelCountMismatch { .. }
        | Error::Empty => QKIT_ERR_LENGTH,
        Error::InvalidScale(_)
        | Error::InvalidMultiplier(_)
        | Error::ShiftOutOfRange { .. }
        | Error::ZeroPointOutOfRange { .. }
        | Error::InvalidParameter(_)
        | Error::NaN => QKIT_ERR_PARAM,
        Error::OutOfRange { .. } | Error::Overflow | Error::IndexOutOfBounds { .. } => {
            QKIT_ERR_RANGE
        }
        Error::Parse => QKIT_ERR_OTHER,
    }
}

fn rounding(r: qkit_rounding) -> Result<Rounding, qkit_status> {
    match r {
        QKIT_ROUNDING_DOUBLE => Ok(Rounding::Double),
        QKIT_ROUNDING_SINGLE => Ok(Rounding::Single),
        _ => Err(QKIT_ERR_PARAM),
    }
}

fn requant_mode(r: qkit_rounding) -> Result<RequantMode, qkit_status> {
    match r {
        QKIT_ROUNDING_DOUBLE => Ok(RequantMode::Double),
        QKIT_ROUNDING_SINGLE => Ok(RequantMode::Single),
        QKIT_ROUNDING_FLOAT32 => Ok(RequantMode::Float32),
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

/// A C buffer that passed the pointer checks: `len` elements of `T` at
/// `ptr`, non-null, aligned, at most `PTRDIFF_MAX` bytes, not wrapping. An
/// empty buffer touches no memory, so any pointer (NULL too) is accepted and
/// never dereferenced.
struct Buf<T> {
    ptr: *const T,
    len: usize,
}

// Manual impls: the derives would require `T: Copy`.
impl<T> Clone for Buf<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Buf<T> {}

impl<T> Buf<T> {
    /// The checks every pointer/length pair passes first: NULL, then size,
    /// then alignment.
    fn new(ptr: *const T, len: usize) -> Result<Self, qkit_status> {
        if len == 0 {
            return Ok(Buf { ptr, len });
        }
        if ptr.is_null() {
            return Err(QKIT_ERR_NULL);
        }
        // `slice::from_raw_parts` requires `len · size_of::<T>() <= isize::MAX`.
        if len > isize::MAX as usize / size_of::<T>().max(1) {
            return Err(QKIT_ERR_LENGTH);
        }
        if !ptr.addr().is_multiple_of(align_of::<T>()) {
            return Err(QKIT_ERR_ALIGNMENT);
        }
        // No allocation wraps around the end of the address space.
        ptr.addr()
            .checked_add(len * size_of::<T>())
            .ok_or(QKIT_ERR_LENGTH)?;
        Ok(Buf { ptr, len })
    }

    /// One element to write through (a result pointer).
    fn one(ptr: *mut T) -> Result<Self, qkit_status> {
        if ptr.is_null() {
            return Err(QKIT_ERR_NULL);
        }
        Self::new(ptr, 1)
    }

    /// The byte range `[start, end)` this buffer covers (empty for `len == 0`).
    fn bytes(&self) -> (usize, usize) {
        let start = self.ptr.addr();
        // Cannot overflow: checked in `new`.
        (start, start + self.len * size_of::<T>())
    }

    /// `Err(QKIT_ERR_OVERLAP)` if this (output) buffer shares a byte with `other`.
    fn disjoint<U>(&self, other: &Buf<U>) -> Result<(), qkit_status> {
        let ((a0, a1), (b0, b1)) = (self.bytes(), other.bytes());
        let empty = a0 == a1 || b0 == b1;
        if empty || a1 <= b0 || b1 <= a0 {
            Ok(())
        } else {
            Err(QKIT_ERR_OVERLAP)
        }
    }

    /// The elements, for reading.
    ///
    /// # Safety
    /// The caller's promise: `ptr` is valid for `len` reads of `T` that
    /// nothing writes during `'a` (the checks in `new` and `disjoint` rule
    /// out everything else `slice::from_raw_parts` requires).
    unsafe fn read<'a>(self) -> &'a [T] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: non-null, aligned, at most isize::MAX bytes (checked in
        // `new`); valid and unaliased by writes per this function's contract.
        unsafe { slice::from_raw_parts(self.ptr, self.len) }
    }

    /// The elements, for writing.
    ///
    /// # Safety
    /// The caller's promise: `ptr` is valid for `len` writes of `T` during
    /// `'a`, and (checked with `disjoint`) overlaps no other buffer in use.
    unsafe fn write<'a>(self) -> &'a mut [T] {
        if self.len == 0 {
            return &mut [];
        }
        // SAFETY: as `read`, plus exclusive: every other buffer of the call
        // was checked disjoint from this one.
        unsafe { slice::from_raw_parts_mut(self.ptr.cast_mut(), self.len) }
    }
}

/// Runs a C entry point: its status, or `QKIT_ERR_OTHER` should it panic
/// (with `std`; without it nothing can be caught, and nothing panics).
fn run(f: impl FnOnce() -> Result<(), qkit_status>) -> qkit_status {
    #[cfg(feature = "std")]
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or(Err(QKIT_ERR_OTHER));
    #[cfg(not(feature = "std"))]
    let result = f();
    match result {
        Ok(()) => QKIT_OK,
        Err(s) => s,
    }
}

/// Halts on a panic (feature `panic-halt`, bare-metal targets only): the
/// handler a `no_std` static library needs to link. qkit never panics on any
/// input, so this only runs on a bug; spinning is portable and leaves the
/// reset to a watchdog or a debugger.
#[cfg(all(feature = "panic-halt", target_os = "none"))]
#[panic_handler]
fn panic_halt(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

/// [`requant::quantize_multiplier`]: TFLite's `QuantizeMultiplier`, shift not
/// bounded (the functions that *use* a multiplier require `-31..=30`).
///
/// # Safety
/// `out` must be NULL (giving `QKIT_ERR_NULL`) or valid for one write.
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
        let out = Buf::one(out)?;
        let m = requant::quantize_multiplier(real).map_err(status)?;
        // SAFETY: checked non-null and aligned; valid for one write per
        // this function's contract.
        unsafe { out.write()[0] = m };
        Ok(())
    })
}

/// [`requant::multiply_by_quantized_multiplier`], rounding chosen at run
/// time (`QKIT_ROUNDING_DOUBLE` or `QKIT_ROUNDING_SINGLE`). `m` must pass
/// [`QuantizedMultiplier::check`] (`multiplier >= 0`, shift in `-31..=30`),
/// else `QKIT_ERR_PARAM`.
///
/// # Safety
/// `out` must be NULL (giving `QKIT_ERR_NULL`) or valid for one write.
///
/// ```
/// use qkit::capi::*;
/// let m = qkit_quantized_multiplier { multiplier: 1583594044, shift: -9 };
/// let mut y = 0;
/// unsafe { qkit_multiply_by_quantized_multiplier(7984, m, QKIT_ROUNDING_DOUBLE, &mut y) };
/// assert_eq!(y, 12);
/// unsafe { qkit_multiply_by_quantized_multiplier(7984, m, QKIT_ROUNDING_SINGLE, &mut y) };
/// assert_eq!(y, 11);
/// let big = qkit_quantized_multiplier { multiplier: 1 << 30, shift: 31 };
/// let s = unsafe { qkit_multiply_by_quantized_multiplier(1, big, QKIT_ROUNDING_DOUBLE, &mut y) };
/// assert_eq!(s, QKIT_ERR_PARAM);
/// ```
#[unsafe(no_mangle)]
pub unsafe extern "C" fn qkit_multiply_by_quantized_multiplier(
    x: i32,
    m: qkit_quantized_multiplier,
    rounding_mode: qkit_rounding,
    out: *mut i32,
) -> qkit_status {
    run(|| {
        let out = Buf::one(out)?;
        let m = m.check().map_err(status)?;
        let y = requant::multiply_by_quantized_multiplier(x, m, rounding(rounding_mode)?);
        // SAFETY: checked non-null and aligned; valid for one write per
        // this function's contract.
        unsafe { out.write()[0] = y };
        Ok(())
    })
}

/// [`kernel::requantize`] to `int8`:
/// `out[i] = clamp(MBQM(acc[i] + bias[c], m[c]) + zero_point, act_min, act_max)`.
///
/// One multiplier (`n_multipliers == 1`) is per tensor; more are per channel
/// with channels innermost (`c = i % channels`). `bias` may be NULL with
/// `n_bias == 0` (no bias); otherwise it has one entry per channel. The
/// channel count is `n_multipliers` when it is above 1, else `n_bias` (1
/// without a bias); `n` must be a multiple of it.
///
/// Errors: the pointer checks of the module; `QKIT_ERR_LENGTH` for no
/// multiplier, a non-NULL `bias` with `n_bias == 0`, a bias table that does
/// not match the multipliers, or `n` not a multiple of the channel count;
/// `QKIT_ERR_OVERLAP` if `out` overlaps `acc`, `bias` or `multipliers`;
/// `QKIT_ERR_PARAM` / `QKIT_ERR_RANGE` for a multiplier outside the range,
/// a bad rounding mode, or a zero point or activation range outside int8.
///
/// # Safety
/// `acc` and `out` valid for `n` elements, `multipliers` for
/// `n_multipliers`, `bias` NULL or valid for `n_bias`.
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
        let acc_b = Buf::new(acc, n)?;
        let bias_b = Buf::new(bias, n_bias)?;
        let ms_b = Buf::new(multipliers, n_multipliers)?;
        let out_b = Buf::new(out.cast_const(), n)?;
        let has_bias = !bias.is_null();
        if n_multipliers == 0 || (has_bias && n_bias == 0) {
            return Err(QKIT_ERR_LENGTH);
        }
        let channels = match (n_multipliers, has_bias) {
            (1, true) => n_bias,
            (1, false) => 1,
            (c, true) if c != n_bias => return Err(QKIT_ERR_LENGTH),
            (c, _) => c,
        };
        if !n.is_multiple_of(channels) {
            return Err(QKIT_ERR_LENGTH);
        }
        out_b.disjoint(&acc_b)?;
        out_b.disjoint(&bias_b)?;
        out_b.disjoint(&ms_b)?;
        // SAFETY: each buffer passed the checks above; valid per this
        // function's contract, and `out` overlaps none of them.
        let (acc, bias, ms, out) =
            unsafe { (acc_b.read(), bias_b.read(), ms_b.read(), out_b.write()) };
        let multipliers = match ms {
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
        // Validates the multipliers, zero point and range before writing.
        kernel::requantize(acc, has_bias.then_some(bias), &stage, out).map_err(status)
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
        let (a_b, b_b) = (Buf::new(a, n)?, Buf::new(b, n)?);
        let out_b = Buf::one(out)?;
        out_b.disjoint(&a_b)?;
        out_b.disjoint(&b_b)?;
        // SAFETY: both passed the checks; valid for `n` reads per the contract.
        let (a, b) = unsafe { (a_b.read(), b_b.read()) };
        let d = kernel::dot_i8(a, b).map_err(status)?;
        // SAFETY: checked non-null, aligned and disjoint from the inputs.
        unsafe { out_b.write()[0] = d };
        Ok(())
    })
}

/// Output channels processed per pass: the per-channel data lives in a stack
/// array of this many entries, so the C API needs no allocator and no
/// caller-provided scratch.
const CHANNELS_PER_PASS: usize = 32;

/// One pass's [`FullyConnected`] over output channels `start..end`: the same
/// layer restricted to those rows, which computes exactly what the whole
/// layer would for them (rows are independent).
#[allow(clippy::too_many_arguments)]
fn fc_pass<'a>(
    w: &'a [i8],
    in_dim: usize,
    bias: Option<&[i32]>,
    q: &Quantization<'_>,
    scales: &[f32],
    requant: RequantMode,
    (start, end): (usize, usize),
    channels: &'a mut [Channel; CHANNELS_PER_PASS],
) -> Result<FullyConnected<'a>, qkit_status> {
    let rows = |n: usize| n.checked_mul(in_dim).ok_or(QKIT_ERR_LENGTH);
    let w = w.get(rows(start)?..rows(end)?).ok_or(QKIT_ERR_OTHER)?;
    let bias = match bias {
        Some(b) => Some(b.get(start..end).ok_or(QKIT_ERR_OTHER)?),
        None => None,
    };
    let scales = match scales {
        [s] => core::slice::from_ref(s),
        all => all.get(start..end).ok_or(QKIT_ERR_OTHER)?,
    };
    let q = Quantization {
        filter: FilterQuantizer::symmetric(scales).map_err(status)?,
        ..*q
    };
    let channels = channels.get_mut(..end - start).ok_or(QKIT_ERR_OTHER)?;
    FullyConnected::new(w, in_dim, bias, &q, requant, channels).map_err(status)
}

/// The int8 FULLY_CONNECTED layer as TFLite Micro computes it
/// ([`FullyConnected`]): `input` is `batch × in_dim`, `weights` is
/// `out_dim × in_dim` (int8, `[out][in]`), `bias` NULL or `out_dim` int32
/// values, `filter_scales` 1 (per tensor) or `out_dim` (per channel) scales,
/// `output` is `batch × out_dim`. The multipliers are computed from the
/// scales exactly as TFLM's Prepare does, on every call; Rust users who run a
/// layer many times should build a [`FullyConnected`] once instead.
///
/// Every channel's parameters are validated before the first output is
/// written. Errors: the pointer checks of the module (`QKIT_ERR_LENGTH`
/// also when `batch × in_dim`, `out_dim × in_dim` or `batch × out_dim`
/// overflows); `QKIT_ERR_LENGTH` unless `n_filter_scales` is 1 or
/// `out_dim`; `QKIT_ERR_OVERLAP` if `output_data` overlaps an input;
/// `QKIT_ERR_PARAM` for a bad scale (any channel), zero point, mode or a
/// multiplier outside `-31..=30`.
///
/// # Safety
/// Every pointer valid for its documented length (`bias` may be NULL).
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
        let x_b = Buf::new(input_data, n_in)?;
        let w_b = Buf::new(weights, n_w)?;
        let bias_b = Buf::new(bias, if bias.is_null() { 0 } else { out_dim })?;
        let s_b = Buf::new(filter_scales, n_filter_scales)?;
        let y_b = Buf::new(output_data.cast_const(), n_out)?;
        if n_filter_scales != 1 && n_filter_scales != out_dim {
            return Err(QKIT_ERR_LENGTH);
        }
        y_b.disjoint(&x_b)?;
        y_b.disjoint(&w_b)?;
        y_b.disjoint(&bias_b)?;
        y_b.disjoint(&s_b)?;
        let (requant, act) = (requant_mode(rounding_mode)?, activation(activation_kind)?);
        // SAFETY: the inputs passed the checks; valid per this function's
        // contract, and the output overlaps none of them.
        let (x, w, scales) = unsafe { (x_b.read(), w_b.read(), s_b.read()) };
        // SAFETY: as above (`bias` is read only when non-NULL).
        let bias = (!bias.is_null()).then(|| unsafe { bias_b.read() });
        let q = Quantization {
            input: Quantizer::new(input_scale, input_zero_point).map_err(status)?,
            filter: FilterQuantizer::symmetric(scales).map_err(status)?,
            output: Quantizer::new(output_scale, output_zero_point).map_err(status)?,
            activation: act,
        };
        let passes = || {
            (0..out_dim)
                .step_by(CHANNELS_PER_PASS)
                .map(move |s| (s, (s + CHANNELS_PER_PASS).min(out_dim)))
        };
        let mut channels = [Channel::default(); CHANNELS_PER_PASS];
        // Validate every pass before writing anything.
        for span in passes() {
            fc_pass(w, in_dim, bias, &q, scales, requant, span, &mut channels)?;
        }
        // SAFETY: checked, disjoint from every input, valid per the contract.
        let y = unsafe { y_b.write() };
        let mut rows = [0i8; CHANNELS_PER_PASS];
        for (start, end) in passes() {
            let fc = fc_pass(
                w,
                in_dim,
                bias,
                &q,
                scales,
                requant,
                (start, end),
                &mut channels,
            )?;
            let rows = rows.get_mut(..end - start).ok_or(QKIT_ERR_OTHER)?;
            // `batch` rows each; with in_dim == 0 every input row is empty.
            let mut x_rows = x.chunks_exact(in_dim.max(1));
            for y_row in y.chunks_exact_mut(out_dim) {
                let x_row = match in_dim {
                    0 => &[][..],
                    _ => x_rows.next().ok_or(QKIT_ERR_OTHER)?,
                };
                fc.run(x_row, 1, rows).map_err(status)?;
                y_row
                    .get_mut(start..end)
                    .ok_or(QKIT_ERR_OTHER)?
                    .copy_from_slice(rows);
            }
        }
        Ok(())
    })
}
