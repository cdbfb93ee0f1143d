//! [`QInt`]: the integer types a quantized tensor is stored in.

use core::fmt::Debug;

mod sealed {
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// A quantized storage type: `i8`, `u8`, `i16`, `i32` (biases), and the 4-bit
/// [`I4`](crate::int4::I4) / [`U4`](crate::int4::U4).
///
/// The trait is sealed: qkit's bit-exactness promises hold only for the types
/// it knows.
///
/// ```
/// use qkit::QInt;
/// assert_eq!(<i8 as QInt>::MIN, -128);
/// assert_eq!(<u8 as QInt>::MAX, 255);
/// assert_eq!(<i8 as QInt>::saturating_from_i32(300), 127);
/// assert_eq!(<i16 as QInt>::BITS, 16);
/// ```
pub trait QInt: Copy + Debug + PartialEq + Eq + Sealed + 'static {
    /// Width in bits.
    const BITS: u32;
    /// Smallest representable value.
    const MIN: i32;
    /// Largest representable value.
    const MAX: i32;
    /// The value as an `i32` (always exact).
    fn to_i32(self) -> i32;
    /// `v` clamped to `[MIN, MAX]`.
    fn saturating_from_i32(v: i32) -> Self;
    /// `v` clamped to `[MIN, MAX]`.
    fn saturating_from_i64(v: i64) -> Self;
}

macro_rules! impl_qint {
    ($($t:ty),*) => {$(
        impl Sealed for $t {}
        impl QInt for $t {
            const BITS: u32 = <$t>::BITS;
            const MIN: i32 = <$t>::MIN as i32;
            const MAX: i32 = <$t>::MAX as i32;
            #[inline]
            fn to_i32(self) -> i32 {
                self as i32
            }
            #[inline]
            fn saturating_from_i32(v: i32) -> Self {
                v.clamp(<Self as QInt>::MIN, <Self as QInt>::MAX) as $t
            }
            #[inline]
            fn saturating_from_i64(v: i64) -> Self {
                v.clamp(<Self as QInt>::MIN as i64, <Self as QInt>::MAX as i64) as $t
            }
        }
    )*};
}
impl_qint!(i8, u8, i16, i32);
