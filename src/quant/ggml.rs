//! ggml's `Q8_0` and `Q4_0` block formats, byte-compatible with ggml's
//! reference quantizer (`quantize_row_q8_0_ref`, `quantize_row_q4_0_ref` in
//! `ggml-quants.c`), so that Rust LLM crates can read and write GGUF weights.
//!
//! Both formats cut a row into blocks of [`QK`] = 32 values with one `f16`
//! scale `d` per block, stored first, little-endian:
//!
//! * `Q8_0` (34 bytes): `d = amax / 127`, `q = round_half_away(x * (1/d))`
//!   in `[-127, 127]`; value `q * d`.
//! * `Q4_0` (18 bytes): `d = m / -8` where `m` is the element of largest
//!   magnitude *with its sign* (the first one on ties), nibble
//!   `min(15, trunc(x * (1/d) + 8.5))`; value `(nibble - 8) * d`.
//!   **Byte `j` holds element `j` in its low nibble and element `j + 16` in
//!   its high nibble** — not the adjacent pairs of TFLite / ONNX int4.
//!
//! In both, `1/d` uses the `f32` value of `d`, before it is rounded to `f16`.
//! Non-finite input is deterministic but meaningless: ggml's C casts are
//! undefined there. qkit clamps: a NaN product gives -128 in `Q8_0` and
//! nibble 0 in `Q4_0`.
//!
//! ```
//! use qkit::quant::ggml::{self, BlockQ8_0};
//! let x: [f32; 32] = core::array::from_fn(|i| i as f32 - 16.0);
//! let mut blocks = [BlockQ8_0::ZERO; 1];
//! ggml::quantize_row_q8_0(&x, &mut blocks)?;
//! assert_eq!(blocks[0].qs[0], -127); // -16 is the largest magnitude
//! let mut y = [0f32; 32];
//! ggml::dequantize_row_q8_0(&blocks, &mut y)?;
//! assert!((y[20] - 4.0).abs() < 0.07);
//! # Ok::<(), qkit::Error>(())
//! ```

use half::f16;

use crate::Error;
use crate::quant::per_tensor::Affine;

/// Clamp to `[-128, 127]` and round half away from zero (scale 1, zp 0).
const ROUND_I8: Affine = Affine::identity(-128, 127);

/// Elements per block: 32 for both `Q8_0` and `Q4_0`.
///
/// ```
/// assert_eq!(qkit::quant::ggml::QK, 32);
/// ```
pub const QK: usize = 32;

/// One `Q8_0` block: `{ f16 d; i8 qs[32]; }`, 34 bytes in ggml.
///
/// ```
/// use qkit::quant::ggml::BlockQ8_0;
/// assert_eq!(BlockQ8_0::ZERO.to_bytes().len(), 34);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct BlockQ8_0 {
    /// The block's scale.
    pub d: f16,
    /// The quantized values, in element order.
    pub qs: [i8; QK],
}

/// One `Q4_0` block: `{ f16 d; u8 qs[16]; }`, 18 bytes in ggml.
///
/// ```
/// use qkit::quant::ggml::BlockQ4_0;
/// assert_eq!(BlockQ4_0::ZERO.to_bytes().len(), 18);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C)]
pub struct BlockQ4_0 {
    /// The block's scale.
    pub d: f16,
    /// `qs[j]`: element `j` in the low nibble, element `j + 16` in the high one,
    /// each stored with an offset of 8.
    pub qs: [u8; QK / 2],
}

impl BlockQ8_0 {
    /// Size of the serialized block in bytes.
    ///
    /// ```
    /// assert_eq!(qkit::quant::ggml::BlockQ8_0::BYTES, 34);
    /// ```
    pub const BYTES: usize = 2 + QK;

    /// The all-zero block.
    ///
    /// ```
    /// assert_eq!(qkit::quant::ggml::BlockQ8_0::ZERO.qs, [0; 32]);
    /// ```
    pub const ZERO: BlockQ8_0 = BlockQ8_0 {
        d: f16::ZERO,
        qs: [0; QK],
    };

    /// Quantizes 32 values with ggml's reference algorithm.
    ///
    /// ```
    /// use qkit::quant::ggml::BlockQ8_0;
    /// let mut x = [0f32; 32];
    /// x[3] = 2.54;
    /// x[4] = -1.27;
    /// let b = BlockQ8_0::quantize(&x);
    /// assert_eq!((b.qs[3], b.qs[4]), (127, -64)); // -63.5 rounds away from zero
    /// ```
    pub fn quantize(x: &[f32; QK]) -> BlockQ8_0 {
        let amax = x.iter().fold(0.0f32, |m, v| {
            let a = v.abs();
            if m < a { a } else { m }
        });
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        BlockQ8_0 {
            d: f16::from_f32(d),
            // `roundf` on a value within [-127, 127] (up to float error): the
            // crate's branch-free tie-away rounding, so the block vectorizes.
            qs: x.map(|v| ROUND_I8.rhaz(v * id) as i8),
        }
    }

    /// The 32 real values: `q * d`.
    ///
    /// ```
    /// use half::f16;
    /// use qkit::quant::ggml::BlockQ8_0;
    /// let mut b = BlockQ8_0 { d: f16::from_f32(0.5), qs: [0; 32] };
    /// b.qs[1] = -3;
    /// assert_eq!(b.dequantize()[1], -1.5);
    /// ```
    pub fn dequantize(&self) -> [f32; QK] {
        let d = self.d.to_f32();
        self.qs.map(|q| q as f32 * d)
    }

    /// The block in ggml's byte layout: `d` little-endian, then `qs`.
    ///
    /// ```
    /// use half::f16;
    /// use qkit::quant::ggml::BlockQ8_0;
    /// let b = BlockQ8_0 { d: f16::ONE, qs: [-1; 32] };
    /// let bytes = b.to_bytes();
    /// assert_eq!(&bytes[..3], &[0x00, 0x3c, 0xff]);
    /// assert_eq!(BlockQ8_0::from_bytes(&bytes), b);
    /// ```
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let mut out = [0u8; Self::BYTES];
        out[..2].copy_from_slice(&self.d.to_le_bytes());
        for (o, &q) in out[2..].iter_mut().zip(&self.qs) {
            *o = q as u8;
        }
        out
    }

    /// Reads a block from ggml's byte layout.
    ///
    /// ```
    /// use qkit::quant::ggml::BlockQ8_0;
    /// let b = BlockQ8_0::from_bytes(&[0u8; 34]);
    /// assert_eq!(b, BlockQ8_0::ZERO);
    /// ```
    pub fn from_bytes(bytes: &[u8; Self::BYTES]) -> BlockQ8_0 {
        BlockQ8_0 {
            d: f16::from_le_bytes([bytes[0], bytes[1]]),
            qs: core::array::from_fn(|i| bytes[2 + i] as i8),
        }
    }
}

impl BlockQ4_0 {
    /// Size of the serialized block in bytes.
    ///
    /// ```
    /// assert_eq!(qkit::quant::ggml::BlockQ4_0::BYTES, 18);
    /// ```
    pub const BYTES: usize = 2 + QK / 2;

    /// The all-zero block (scale 0; every value dequantizes to 0).
    ///
    /// ```
    /// assert_eq!(qkit::quant::ggml::BlockQ4_0::ZERO.dequantize(), [0.0; 32]);
    /// ```
    pub const ZERO: BlockQ4_0 = BlockQ4_0 {
        d: f16::ZERO,
        qs: [0; QK / 2],
    };

    /// Quantizes 32 values with ggml's reference algorithm.
    ///
    /// ```
    /// use qkit::quant::ggml::BlockQ4_0;
    /// let mut x = [0f32; 32];
    /// x[0] = -8.0; // the extreme maps to nibble 0 (value -8 * d, d = 1)
    /// x[16] = 8.0; // its mirror clamps to nibble 15
    /// x[1] = 0.4;
    /// let b = BlockQ4_0::quantize(&x);
    /// assert_eq!(b.d.to_f32(), 1.0);
    /// assert_eq!(b.qs[0], 0x0 | (0xf << 4));
    /// assert_eq!(b.qs[1], 0x8 | (0x8 << 4)); // 0.4 + 8.5 truncates to 8
    /// ```
    pub fn quantize(x: &[f32; QK]) -> BlockQ4_0 {
        let (mut amax, mut max) = (0.0f32, 0.0f32);
        for &v in x {
            if amax < v.abs() {
                amax = v.abs();
                max = v;
            }
        }
        let d = max / -8.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        // `as i8` truncates like C's (int8_t) cast (saturating where C is undefined).
        let nibble = |v: f32| ((v * id + 8.5) as i8).min(15) as u8;
        BlockQ4_0 {
            d: f16::from_f32(d),
            qs: core::array::from_fn(|j| nibble(x[j]) | (nibble(x[j + QK / 2]) << 4)),
        }
    }

    /// The 32 real values: `(nibble - 8) * d`.
    ///
    /// ```
    /// use half::f16;
    /// use qkit::quant::ggml::BlockQ4_0;
    /// let b = BlockQ4_0 { d: f16::from_f32(0.5), qs: [0x0f; 16] };
    /// let x = b.dequantize();
    /// assert_eq!((x[0], x[16]), (3.5, -4.0));
    /// ```
    pub fn dequantize(&self) -> [f32; QK] {
        let d = self.d.to_f32();
        core::array::from_fn(|i| {
            let b = self.qs[i % (QK / 2)];
            let nib = if i < QK / 2 { b & 0x0f } else { b >> 4 };
            (nib as i32 - 8) as f32 * d
        })
    }

    /// The block in ggml's byte layout: `d` little-endian, then `qs`.
    ///
    /// ```
    /// use half::f16;
    /// use qkit::quant::ggml::BlockQ4_0;
    /// let b = BlockQ4_0 { d: f16::ONE, qs: [0x12; 16] };
    /// assert_eq!(&b.to_bytes()[..3], &[0x00, 0x3c, 0x12]);
    /// assert_eq!(BlockQ4_0::from_bytes(&b.to_bytes()), b);
    /// ```
    pub fn to_bytes(&self) -> [u8; Self::BYTES] {
        let mut out = [0u8; Self::BYTES];
        out[..2].copy_from_slice(&self.d.to_le_bytes());
        out[2..].copy_from_slice(&self.qs);
        out
    }

    /// Reads a block from ggml's byte layout.
    ///
    /// ```
    /// use qkit::quant::ggml::BlockQ4_0;
    /// assert_eq!(BlockQ4_0::from_bytes(&[0u8; 18]), BlockQ4_0::ZERO);
    /// ```
    pub fn from_bytes(bytes: &[u8; Self::BYTES]) -> BlockQ4_0 {
        BlockQ4_0 {
            d: f16::from_le_bytes([bytes[0], bytes[1]]),
            qs: core::array::from_fn(|i| bytes[2 + i]),
        }
    }
}

fn check_row(values: usize, blocks: usize) -> Result<(), Error> {
    if !values.is_multiple_of(QK) {
        return Err(Error::InvalidParameter(
            "row length must be a multiple of 32",
        ));
    }
    if values / QK != blocks {
        return Err(Error::LengthMismatch {
            expected: values / QK,
            found: blocks,
        });
    }
    Ok(())
}

/// Quantizes a row (`quantize_row_q8_0_ref`) into `x.len() / 32` blocks.
///
/// Errors: `InvalidParameter` unless `x.len()` is a multiple of 32,
/// `LengthMismatch` unless `out.len() == x.len() / 32`.
///
/// ```
/// use qkit::quant::ggml::{quantize_row_q8_0, BlockQ8_0};
/// let mut out = [BlockQ8_0::ZERO; 2];
/// quantize_row_q8_0(&[1.0; 64], &mut out)?;
/// assert_eq!(out[1].qs, [127; 32]);
/// assert!(quantize_row_q8_0(&[1.0; 33], &mut out).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn quantize_row_q8_0(x: &[f32], out: &mut [BlockQ8_0]) -> Result<(), Error> {
    check_row(x.len(), out.len())?;
    for (o, c) in out.iter_mut().zip(x.chunks_exact(QK)) {
        if let Ok(c) = <&[f32; QK]>::try_from(c) {
            *o = BlockQ8_0::quantize(c);
        }
    }
    Ok(())
}

/// Dequantizes blocks into a row of `32 * blocks.len()` values.
///
/// `Err(LengthMismatch)` unless `out.len() == 32 * blocks.len()`.
///
/// ```
/// use qkit::quant::ggml::{dequantize_row_q8_0, quantize_row_q8_0, BlockQ8_0};
/// let mut b = [BlockQ8_0::ZERO; 1];
/// quantize_row_q8_0(&[-127.0; 32], &mut b)?; // d = 1, exact in f16
/// let mut y = [0f32; 32];
/// dequantize_row_q8_0(&b, &mut y)?;
/// assert_eq!(y, [-127.0; 32]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn dequantize_row_q8_0(blocks: &[BlockQ8_0], out: &mut [f32]) -> Result<(), Error> {
    check_row(out.len(), blocks.len())?;
    for (b, o) in blocks.iter().zip(out.chunks_exact_mut(QK)) {
        o.copy_from_slice(&b.dequantize());
    }
    Ok(())
}

/// Quantizes a row (`quantize_row_q4_0_ref`) into `x.len() / 32` blocks.
///
/// Errors as [`quantize_row_q8_0`].
///
/// ```
/// use qkit::quant::ggml::{quantize_row_q4_0, BlockQ4_0};
/// let mut out = [BlockQ4_0::ZERO; 1];
/// quantize_row_q4_0(&[-1.0; 32], &mut out)?;
/// assert_eq!(out[0].d.to_f32(), 0.125);
/// assert_eq!(out[0].qs, [0; 16]); // every element is the extreme -8 * d
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn quantize_row_q4_0(x: &[f32], out: &mut [BlockQ4_0]) -> Result<(), Error> {
    check_row(x.len(), out.len())?;
    for (o, c) in out.iter_mut().zip(x.chunks_exact(QK)) {
        if let Ok(c) = <&[f32; QK]>::try_from(c) {
            *o = BlockQ4_0::quantize(c);
        }
    }
    Ok(())
}

/// Dequantizes blocks into a row of `32 * blocks.len()` values.
///
/// `Err(LengthMismatch)` unless `out.len() == 32 * blocks.len()`.
///
/// ```
/// use qkit::quant::ggml::{dequantize_row_q4_0, quantize_row_q4_0, BlockQ4_0};
/// let mut b = [BlockQ4_0::ZERO; 1];
/// quantize_row_q4_0(&[-1.0; 32], &mut b)?;
/// let mut y = [0f32; 32];
/// dequantize_row_q4_0(&b, &mut y)?;
/// assert_eq!(y, [-1.0; 32]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn dequantize_row_q4_0(blocks: &[BlockQ4_0], out: &mut [f32]) -> Result<(), Error> {
    check_row(out.len(), blocks.len())?;
    for (b, o) in blocks.iter().zip(out.chunks_exact_mut(QK)) {
        o.copy_from_slice(&b.dequantize());
    }
    Ok(())
}
