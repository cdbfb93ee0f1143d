//! 4-bit integers: the scalars [`I4`] (`[-8, 7]`) and [`U4`] (`[0, 15]`), and
//! packed nibble storage.
//!
//! # Packing
//!
//! TFLite (`kTfLiteInt4`), CMSIS-NN (`s4`) and ONNX (`INT4` / `UINT4`) agree:
//! two values per byte, element `2k` in the **low** nibble of byte `k` and
//! element `2k + 1` in the high nibble, flat over the whole tensor (no
//! per-row padding). An odd count leaves the last byte's high nibble unused;
//! qkit writes it as zero. So `[2, 1, 4, 3]` packs as `[0x12, 0x34]`.
//!
//! ```
//! use qkit::int4::{pack, unpack, I4};
//! let v = [I4::new(2).unwrap(), I4::new(1).unwrap(), I4::new(-1).unwrap()];
//! let mut bytes = [0u8; 2];
//! pack(&v, &mut bytes)?;
//! assert_eq!(bytes, [0x12, 0x0f]);
//! let mut back = [I4::ZERO; 3];
//! unpack(&bytes, &mut back)?;
//! assert_eq!(back, v);
//! # Ok::<(), qkit::Error>(())
//! ```
//!
//! ggml's `Q4_0` uses a different layout (element `j` and `j + 16` share a
//! byte); see [`quant::ggml`](crate::quant::ggml).

use core::fmt;

use crate::qint::Sealed;
use crate::{Error, QInt};

/// A signed 4-bit integer in `[-8, 7]` (ONNX `INT4`, TFLite `kTfLiteInt4`).
///
/// ```
/// use qkit::int4::I4;
/// let a = I4::new(5).unwrap();
/// assert_eq!(a.get(), 5);
/// assert_eq!(I4::new(8), None);
/// assert_eq!(a.saturating_add(a), I4::MAX);
/// assert_eq!(a.wrapping_add(a).get(), -6); // 10 wraps to -6
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(transparent)] // one byte, the value itself: src/integrations/bytemuck.rs relies on it
pub struct I4(i8);

/// An unsigned 4-bit integer in `[0, 15]` (ONNX `UINT4`).
///
/// ```
/// use qkit::int4::U4;
/// let a = U4::new(9).unwrap();
/// assert_eq!(a.get(), 9);
/// assert_eq!(U4::new(16), None);
/// assert_eq!(a.saturating_add(a), U4::MAX);
/// assert_eq!(a.wrapping_add(a).get(), 2); // 18 mod 16
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(transparent)] // one byte, the value itself: src/integrations/bytemuck.rs relies on it
pub struct U4(u8);

impl I4 {
    /// The smallest value, -8.
    ///
    /// ```
    /// assert_eq!(qkit::int4::I4::MIN.get(), -8);
    /// ```
    pub const MIN: I4 = I4(-8);
    /// The largest value, 7.
    ///
    /// ```
    /// assert_eq!(qkit::int4::I4::MAX.get(), 7);
    /// ```
    pub const MAX: I4 = I4(7);
    /// Zero.
    ///
    /// ```
    /// assert_eq!(qkit::int4::I4::ZERO.get(), 0);
    /// ```
    pub const ZERO: I4 = I4(0);

    /// `Some(v)` if `v` lies in `[-8, 7]`, else `None`.
    ///
    /// ```
    /// use qkit::int4::I4;
    /// assert_eq!(I4::new(-8).map(I4::get), Some(-8));
    /// assert_eq!(I4::new(-9), None);
    /// ```
    #[inline]
    pub const fn new(v: i8) -> Option<I4> {
        if v >= -8 && v <= 7 { Some(I4(v)) } else { None }
    }

    /// The value as an `i8`.
    ///
    /// ```
    /// assert_eq!(qkit::int4::I4::new(-3).unwrap().get(), -3);
    /// ```
    #[inline]
    pub const fn get(self) -> i8 {
        self.0
    }

    /// `v` clamped to `[-8, 7]`.
    ///
    /// ```
    /// use qkit::int4::I4;
    /// assert_eq!(I4::saturating_from_i32(100), I4::MAX);
    /// assert_eq!(I4::saturating_from_i32(-100), I4::MIN);
    /// assert_eq!(I4::saturating_from_i32(3).get(), 3);
    /// ```
    #[inline]
    pub const fn saturating_from_i32(v: i32) -> I4 {
        I4::saturating_from_i64(v as i64)
    }

    /// `v` clamped to `[-8, 7]`.
    ///
    /// ```
    /// use qkit::int4::I4;
    /// assert_eq!(I4::saturating_from_i64(i64::MIN), I4::MIN);
    /// ```
    #[inline]
    pub const fn saturating_from_i64(v: i64) -> I4 {
        I4(if v < -8 {
            -8
        } else if v > 7 {
            7
        } else {
            v as i8
        })
    }

    /// The low 4 bits of `v` read as two's complement (sign-extended).
    ///
    /// ```
    /// use qkit::int4::I4;
    /// assert_eq!(I4::wrapping_from_i32(8).get(), -8);
    /// assert_eq!(I4::wrapping_from_i32(-9).get(), 7);
    /// ```
    #[inline]
    pub const fn wrapping_from_i32(v: i32) -> I4 {
        I4(((v as i8) << 4) >> 4)
    }

    /// The value from the low nibble of `byte`, sign-extended
    /// (`(byte << 4) as i8 >> 4`, as TFLite and CMSIS-NN unpack).
    ///
    /// ```
    /// use qkit::int4::I4;
    /// assert_eq!(I4::from_nibble(0x0f).get(), -1);
    /// assert_eq!(I4::from_nibble(0xf7).get(), 7); // the high nibble is ignored
    /// ```
    #[inline]
    pub const fn from_nibble(byte: u8) -> I4 {
        I4(((byte << 4) as i8) >> 4)
    }

    /// The 4-bit two's complement pattern in the low nibble, high nibble zero.
    ///
    /// ```
    /// use qkit::int4::I4;
    /// assert_eq!(I4::new(-1).unwrap().to_nibble(), 0x0f);
    /// assert_eq!(I4::new(7).unwrap().to_nibble(), 0x07);
    /// ```
    #[inline]
    pub const fn to_nibble(self) -> u8 {
        (self.0 as u8) & 0x0f
    }

    /// Addition clamped to `[-8, 7]`.
    ///
    /// ```
    /// use qkit::int4::I4;
    /// assert_eq!(I4::MIN.saturating_add(I4::new(-1).unwrap()), I4::MIN);
    /// ```
    #[inline]
    pub const fn saturating_add(self, rhs: I4) -> I4 {
        I4::saturating_from_i32(self.0 as i32 + rhs.0 as i32)
    }

    /// Subtraction clamped to `[-8, 7]`.
    ///
    /// ```
    /// use qkit::int4::I4;
    /// assert_eq!(I4::ZERO.saturating_sub(I4::MIN), I4::MAX);
    /// ```
    #[inline]
    pub const fn saturating_sub(self, rhs: I4) -> I4 {
        I4::saturating_from_i32(self.0 as i32 - rhs.0 as i32)
    }

    /// Multiplication clamped to `[-8, 7]`.
    ///
    /// ```
    /// use qkit::int4::I4;
    /// assert_eq!(I4::MIN.saturating_mul(I4::MIN), I4::MAX);
    /// assert_eq!(I4::new(-2).unwrap().saturating_mul(I4::new(3).unwrap()).get(), -6);
    /// ```
    #[inline]
    pub const fn saturating_mul(self, rhs: I4) -> I4 {
        I4::saturating_from_i32(self.0 as i32 * rhs.0 as i32)
    }

    /// Addition modulo 16, in two's complement.
    ///
    /// ```
    /// use qkit::int4::I4;
    /// assert_eq!(I4::MAX.wrapping_add(I4::new(1).unwrap()), I4::MIN);
    /// ```
    #[inline]
    pub const fn wrapping_add(self, rhs: I4) -> I4 {
        I4::wrapping_from_i32(self.0 as i32 + rhs.0 as i32)
    }

    /// Subtraction modulo 16, in two's complement.
    ///
    /// ```
    /// use qkit::int4::I4;
    /// assert_eq!(I4::MIN.wrapping_sub(I4::new(1).unwrap()), I4::MAX);
    /// ```
    #[inline]
    pub const fn wrapping_sub(self, rhs: I4) -> I4 {
        I4::wrapping_from_i32(self.0 as i32 - rhs.0 as i32)
    }

    /// Multiplication modulo 16, in two's complement.
    ///
    /// ```
    /// use qkit::int4::I4;
    /// assert_eq!(I4::MIN.wrapping_mul(I4::MIN), I4::ZERO); // 64 mod 16
    /// assert_eq!(I4::new(3).unwrap().wrapping_mul(I4::new(3).unwrap()).get(), -7); // 9
    /// ```
    #[inline]
    pub const fn wrapping_mul(self, rhs: I4) -> I4 {
        I4::wrapping_from_i32(self.0 as i32 * rhs.0 as i32)
    }
}

impl U4 {
    /// The smallest value, 0.
    ///
    /// ```
    /// assert_eq!(qkit::int4::U4::MIN.get(), 0);
    /// ```
    pub const MIN: U4 = U4(0);
    /// The largest value, 15.
    ///
    /// ```
    /// assert_eq!(qkit::int4::U4::MAX.get(), 15);
    /// ```
    pub const MAX: U4 = U4(15);
    /// Zero.
    ///
    /// ```
    /// assert_eq!(qkit::int4::U4::ZERO.get(), 0);
    /// ```
    pub const ZERO: U4 = U4(0);

    /// `Some(v)` if `v <= 15`, else `None`.
    ///
    /// ```
    /// use qkit::int4::U4;
    /// assert_eq!(U4::new(15).map(U4::get), Some(15));
    /// assert_eq!(U4::new(200), None);
    /// ```
    #[inline]
    pub const fn new(v: u8) -> Option<U4> {
        if v <= 15 { Some(U4(v)) } else { None }
    }

    /// The value as a `u8`.
    ///
    /// ```
    /// assert_eq!(qkit::int4::U4::new(12).unwrap().get(), 12);
    /// ```
    #[inline]
    pub const fn get(self) -> u8 {
        self.0
    }

    /// `v` clamped to `[0, 15]`.
    ///
    /// ```
    /// use qkit::int4::U4;
    /// assert_eq!(U4::saturating_from_i32(-1), U4::MIN);
    /// assert_eq!(U4::saturating_from_i32(16), U4::MAX);
    /// ```
    #[inline]
    pub const fn saturating_from_i32(v: i32) -> U4 {
        U4::saturating_from_i64(v as i64)
    }

    /// `v` clamped to `[0, 15]`.
    ///
    /// ```
    /// use qkit::int4::U4;
    /// assert_eq!(U4::saturating_from_i64(i64::MAX), U4::MAX);
    /// ```
    #[inline]
    pub const fn saturating_from_i64(v: i64) -> U4 {
        U4(if v < 0 {
            0
        } else if v > 15 {
            15
        } else {
            v as u8
        })
    }

    /// The low 4 bits of `v`.
    ///
    /// ```
    /// use qkit::int4::U4;
    /// assert_eq!(U4::wrapping_from_i32(17).get(), 1);
    /// assert_eq!(U4::wrapping_from_i32(-1).get(), 15);
    /// ```
    #[inline]
    pub const fn wrapping_from_i32(v: i32) -> U4 {
        U4((v as u8) & 0x0f)
    }

    /// The value in the low nibble of `byte`.
    ///
    /// ```
    /// use qkit::int4::U4;
    /// assert_eq!(U4::from_nibble(0xab).get(), 0xb);
    /// ```
    #[inline]
    pub const fn from_nibble(byte: u8) -> U4 {
        U4(byte & 0x0f)
    }

    /// The value in the low nibble, high nibble zero.
    ///
    /// ```
    /// use qkit::int4::U4;
    /// assert_eq!(U4::new(10).unwrap().to_nibble(), 0x0a);
    /// ```
    #[inline]
    pub const fn to_nibble(self) -> u8 {
        self.0
    }

    /// Addition clamped to `[0, 15]`.
    ///
    /// ```
    /// use qkit::int4::U4;
    /// assert_eq!(U4::MAX.saturating_add(U4::MAX), U4::MAX);
    /// ```
    #[inline]
    pub const fn saturating_add(self, rhs: U4) -> U4 {
        U4::saturating_from_i32(self.0 as i32 + rhs.0 as i32)
    }

    /// Subtraction clamped to `[0, 15]`.
    ///
    /// ```
    /// use qkit::int4::U4;
    /// assert_eq!(U4::MIN.saturating_sub(U4::MAX), U4::MIN);
    /// ```
    #[inline]
    pub const fn saturating_sub(self, rhs: U4) -> U4 {
        U4::saturating_from_i32(self.0 as i32 - rhs.0 as i32)
    }

    /// Multiplication clamped to `[0, 15]`.
    ///
    /// ```
    /// use qkit::int4::U4;
    /// assert_eq!(U4::new(4).unwrap().saturating_mul(U4::new(4).unwrap()), U4::MAX);
    /// ```
    #[inline]
    pub const fn saturating_mul(self, rhs: U4) -> U4 {
        U4::saturating_from_i32(self.0 as i32 * rhs.0 as i32)
    }

    /// Addition modulo 16.
    ///
    /// ```
    /// use qkit::int4::U4;
    /// assert_eq!(U4::MAX.wrapping_add(U4::new(1).unwrap()), U4::MIN);
    /// ```
    #[inline]
    pub const fn wrapping_add(self, rhs: U4) -> U4 {
        U4::wrapping_from_i32(self.0 as i32 + rhs.0 as i32)
    }

    /// Subtraction modulo 16.
    ///
    /// ```
    /// use qkit::int4::U4;
    /// assert_eq!(U4::MIN.wrapping_sub(U4::new(1).unwrap()), U4::MAX);
    /// ```
    #[inline]
    pub const fn wrapping_sub(self, rhs: U4) -> U4 {
        U4::wrapping_from_i32(self.0 as i32 - rhs.0 as i32)
    }

    /// Multiplication modulo 16.
    ///
    /// ```
    /// use qkit::int4::U4;
    /// assert_eq!(U4::new(5).unwrap().wrapping_mul(U4::new(5).unwrap()).get(), 9); // 25 mod 16
    /// ```
    #[inline]
    pub const fn wrapping_mul(self, rhs: U4) -> U4 {
        U4::wrapping_from_i32(self.0 as i32 * rhs.0 as i32)
    }
}

impl fmt::Debug for I4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
impl fmt::Display for I4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
impl fmt::Debug for U4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
impl fmt::Display for U4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl From<I4> for i8 {
    #[inline]
    fn from(v: I4) -> i8 {
        v.0
    }
}
impl From<I4> for i32 {
    #[inline]
    fn from(v: I4) -> i32 {
        v.0 as i32
    }
}
impl From<U4> for u8 {
    #[inline]
    fn from(v: U4) -> u8 {
        v.0
    }
}
impl From<U4> for i32 {
    #[inline]
    fn from(v: U4) -> i32 {
        v.0 as i32
    }
}
impl TryFrom<i8> for I4 {
    type Error = Error;
    #[inline]
    fn try_from(v: i8) -> Result<I4, Error> {
        I4::new(v).ok_or(Error::OutOfRange {
            value: v as i64,
            min: -8,
            max: 7,
        })
    }
}
impl TryFrom<u8> for U4 {
    type Error = Error;
    #[inline]
    fn try_from(v: u8) -> Result<U4, Error> {
        U4::new(v).ok_or(Error::OutOfRange {
            value: v as i64,
            min: 0,
            max: 15,
        })
    }
}

impl Sealed for I4 {}
impl QInt for I4 {
    const BITS: u32 = 4;
    const MIN: i32 = -8;
    const MAX: i32 = 7;
    #[inline]
    fn to_i32(self) -> i32 {
        self.0 as i32
    }
    #[inline]
    fn saturating_from_i32(v: i32) -> Self {
        I4::saturating_from_i32(v)
    }
    #[inline]
    fn saturating_from_i64(v: i64) -> Self {
        I4::saturating_from_i64(v)
    }
}

impl Sealed for U4 {}
impl QInt for U4 {
    const BITS: u32 = 4;
    const MIN: i32 = 0;
    const MAX: i32 = 15;
    #[inline]
    fn to_i32(self) -> i32 {
        self.0 as i32
    }
    #[inline]
    fn saturating_from_i32(v: i32) -> Self {
        U4::saturating_from_i32(v)
    }
    #[inline]
    fn saturating_from_i64(v: i64) -> Self {
        U4::saturating_from_i64(v)
    }
}

/// A 4-bit storage type that lives in a nibble: [`I4`] or [`U4`]. Sealed.
///
/// ```
/// use qkit::int4::{Nibble, I4, U4};
/// assert_eq!(I4::decode(0x8).get(), -8);
/// assert_eq!(U4::decode(0x8).get(), 8);
/// assert_eq!(I4::new(-8).unwrap().encode(), 0x8);
/// ```
pub trait Nibble: QInt {
    /// The value stored in the low nibble of `byte` (the high nibble is ignored).
    fn decode(byte: u8) -> Self;
    /// The 4-bit pattern of the value, in the low nibble.
    fn encode(self) -> u8;
}
impl Nibble for I4 {
    #[inline]
    fn decode(byte: u8) -> Self {
        I4::from_nibble(byte)
    }
    #[inline]
    fn encode(self) -> u8 {
        self.to_nibble()
    }
}
impl Nibble for U4 {
    #[inline]
    fn decode(byte: u8) -> Self {
        U4::from_nibble(byte)
    }
    #[inline]
    fn encode(self) -> u8 {
        self.to_nibble()
    }
}

/// Bytes needed to pack `n` 4-bit values: `ceil(n / 2)`.
///
/// ```
/// use qkit::int4::packed_len;
/// assert_eq!(packed_len(0), 0);
/// assert_eq!(packed_len(7), 4);
/// assert_eq!(packed_len(8), 4);
/// ```
#[inline]
pub const fn packed_len(n: usize) -> usize {
    n / 2 + n % 2
}

#[inline]
fn check_packed(values: usize, bytes: usize) -> Result<(), Error> {
    if packed_len(values) == bytes {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            expected: packed_len(values),
            found: bytes,
        })
    }
}

/// Packs `src` two per byte into `dst`, element `2k` in the low nibble of
/// `dst[k]`. An odd length leaves the last high nibble zero.
///
/// `Err(LengthMismatch)` unless `dst.len() == packed_len(src.len())`.
///
/// ```
/// use qkit::int4::{pack, U4};
/// let v = [1, 2, 3].map(|x| U4::new(x).unwrap());
/// let mut out = [0xffu8; 2];
/// pack(&v, &mut out)?;
/// assert_eq!(out, [0x21, 0x03]);
/// assert!(pack(&v, &mut [0u8; 1]).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn pack<N: Nibble>(src: &[N], dst: &mut [u8]) -> Result<(), Error> {
    check_packed(src.len(), dst.len())?;
    let mut pairs = src.chunks_exact(2);
    for (d, p) in dst.iter_mut().zip(&mut pairs) {
        *d = p[0].encode() | (p[1].encode() << 4);
    }
    if let ([last], Some(d)) = (pairs.remainder(), dst.last_mut()) {
        *d = last.encode();
    }
    Ok(())
}

/// Unpacks `dst.len()` 4-bit values from `src` (low nibble first).
///
/// `Err(LengthMismatch)` unless `src.len() == packed_len(dst.len())`.
///
/// ```
/// use qkit::int4::{unpack, I4};
/// let mut v = [I4::ZERO; 4];
/// unpack(&[0x12, 0x34], &mut v)?;
/// assert_eq!(v.map(I4::get), [2, 1, 4, 3]); // the TFLite doc example
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn unpack<N: Nibble>(src: &[u8], dst: &mut [N]) -> Result<(), Error> {
    check_packed(dst.len(), src.len())?;
    let mut pairs = dst.chunks_exact_mut(2);
    for (p, &b) in (&mut pairs).zip(src) {
        p[0] = N::decode(b);
        p[1] = N::decode(b >> 4);
    }
    if let ([last], Some(&b)) = (pairs.into_remainder(), src.last()) {
        *last = N::decode(b);
    }
    Ok(())
}

/// Unpacks signed 4-bit values straight into `i8` (what TFLite Micro does to
/// int4 filters before running the int8 kernel).
///
/// `Err(LengthMismatch)` unless `src.len() == packed_len(dst.len())`.
///
/// ```
/// use qkit::int4::unpack_i4_to_i8;
/// let mut v = [0i8; 3];
/// unpack_i4_to_i8(&[0x8f, 0x07], &mut v)?;
/// assert_eq!(v, [-1, -8, 7]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn unpack_i4_to_i8(src: &[u8], dst: &mut [i8]) -> Result<(), Error> {
    check_packed(dst.len(), src.len())?;
    let mut pairs = dst.chunks_exact_mut(2);
    for (p, &b) in (&mut pairs).zip(src) {
        p[0] = ((b << 4) as i8) >> 4;
        p[1] = (b as i8) >> 4;
    }
    if let ([last], Some(&b)) = (pairs.into_remainder(), src.last()) {
        *last = ((b << 4) as i8) >> 4;
    }
    Ok(())
}

/// Packs `i8` values that must lie in `[-8, 7]` into signed nibbles.
///
/// `Err(LengthMismatch)` on a wrong `dst` length, `Err(OutOfRange)` (naming
/// the first offending value) if any value does not fit; `dst` is then
/// unspecified.
///
/// ```
/// use qkit::int4::pack_i8_to_i4;
/// let mut out = [0u8; 2];
/// pack_i8_to_i4(&[-1, -8, 7], &mut out)?;
/// assert_eq!(out, [0x8f, 0x07]);
/// assert!(pack_i8_to_i4(&[8, 0], &mut [0u8; 1]).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn pack_i8_to_i4(src: &[i8], dst: &mut [u8]) -> Result<(), Error> {
    check_packed(src.len(), dst.len())?;
    if let Some(&bad) = src.iter().find(|&&v| !(-8..=7).contains(&v)) {
        return Err(Error::OutOfRange {
            value: bad as i64,
            min: -8,
            max: 7,
        });
    }
    let mut pairs = src.chunks_exact(2);
    for (d, p) in dst.iter_mut().zip(&mut pairs) {
        *d = (p[0] as u8 & 0x0f) | ((p[1] as u8) << 4);
    }
    if let ([last], Some(d)) = (pairs.remainder(), dst.last_mut()) {
        *d = *last as u8 & 0x0f;
    }
    Ok(())
}

/// The element at `index` of a packed buffer, or `None` past its end.
///
/// ```
/// use qkit::int4::{get, I4};
/// let packed = [0x12u8, 0x34];
/// assert_eq!(get::<I4>(&packed, 3).map(I4::get), Some(3));
/// assert_eq!(get::<I4>(&packed, 4), None);
/// ```
#[inline]
pub fn get<N: Nibble>(packed: &[u8], index: usize) -> Option<N> {
    let b = *packed.get(index / 2)?;
    Some(N::decode(if index.is_multiple_of(2) { b } else { b >> 4 }))
}

/// Overwrites the element at `index` of a packed buffer, leaving its
/// neighbour in the same byte unchanged.
///
/// `Err(IndexOutOfBounds)` if `index` is past the buffer's `2 * len`
/// nibbles (`len` in the error counts nibbles).
///
/// ```
/// use qkit::{int4::{set, U4}, Error};
/// let mut packed = [0x12u8, 0x34];
/// set(&mut packed, 1, U4::new(0xf).unwrap())?;
/// assert_eq!(packed, [0xf2, 0x34]);
/// assert_eq!(set(&mut packed, 4, U4::MIN), Err(Error::IndexOutOfBounds { index: 4, len: 4 }));
/// # Ok::<(), qkit::Error>(())
/// ```
#[inline]
pub fn set<N: Nibble>(packed: &mut [u8], index: usize, value: N) -> Result<(), Error> {
    // A byte slice holds at most isize::MAX bytes, so 2 * len cannot overflow.
    let nibbles = packed.len().saturating_mul(2);
    let b = packed.get_mut(index / 2).ok_or(Error::IndexOutOfBounds {
        index,
        len: nibbles,
    })?;
    let v = value.encode();
    *b = if index.is_multiple_of(2) {
        (*b & 0xf0) | v
    } else {
        (*b & 0x0f) | (v << 4)
    };
    Ok(())
}
