//! Qm.n fixed-point numbers: [`Fixed<T, FRAC>`](Fixed).
//!
//! A `Fixed<T, FRAC>` stores the real value `bits / 2^FRAC` in the integer
//! `bits: T`, where `T` is one of `i8, i16, i32, i64, u8, u16, u32, u64`
//! (the [`Storage`] types) and `FRAC <= T::BITS` (checked at compile time).
//!
//! ## Names: `Q15` counts fractional bits, `FixedI16<F>` names the storage
//!
//! | name | storage `T` | fractional bits | Qm.n | range |
//! | --- | --- | --- | --- | --- |
//! | [`Q7`] | `i8` | 7 | Q0.7 | `[-1, 1)` |
//! | [`Q15`] | `i16` | 15 | Q0.15 | `[-1, 1)` |
//! | [`Q31`] | `i32` | 31 | Q0.31 | `[-1, 1)` |
//! | [`FixedI16<12>`](FixedI16) | `i16` | 12 | Q3.12 | `[-8, 8)` |
//! | [`FixedU8<4>`](FixedU8) | `u8` | 4 | UQ4.4 | `[0, 16)` |
//!
//! The three `Qn` names are ARM's DSP formats (CMSIS-DSP's `q7_t`, `q15_t`,
//! `q31_t`), where *n counts the fractional bits*. Every other format is
//! written with a width-named alias, [`FixedI8<F>`](FixedI8) ..
//! [`FixedI64<F>`](FixedI64) and [`FixedU8<F>`](FixedU8) ..
//! [`FixedU64<F>`](FixedU64), where the name gives the *storage* and `F`
//! the fractional bits, as in the `fixed` crate's `FixedI16<U12>`: a
//! `FixedI16<12>` cannot be mistaken for a Q16.12. The two kinds name the
//! same types: `Q15` is `FixedI16<15>`.
//!
//! Conversions from floats: `Q15::try_from(0.5f32)` (`TryFrom` for `f32`,
//! `f64`, `f16`, `bf16`: nearest, ties to even, `Err` for NaN or out of
//! range), the saturating `from_f32` / `from_f64` family, and back with
//! `f32::from(x)` where that is lossless (`to_f32` / `to_f64` otherwise).
//!
//! ```
//! use qkit::{fixed::FixedI16, Error, Q15};
//! assert_eq!(Q15::try_from(0.5f32), Ok(Q15::from_bits(0x4000)));
//! assert_eq!(Q15::try_from(1.0f64), Err(Error::Overflow)); // Q15 is [-1, 1)
//! assert_eq!(FixedI16::<12>::try_from(7.5f32)?.to_bits(), 7 << 12 | 1 << 11);
//! assert_eq!(f32::from(Q15::from_bits(-16384)), -0.5); // lossless
//! # Ok::<(), qkit::Error>(())
//! ```
//!
//! ## Arithmetic
//!
//! | family | on overflow | division by zero |
//! | --- | --- | --- |
//! | operators `+ - * /`, unary `-`, `*Assign`, `saturating_*` | clamp to `MIN`/`MAX` | `MAX`, `MIN` or `ZERO` by the sign of the dividend |
//! | `wrapping_*` | keep the low `T::BITS` bits of the exact result | as saturating |
//! | `checked_*` | `None` | `None` |
//! | `overflowing_*` | `(wrapped, true)` | `(saturated, true)` |
//!
//! Rounding, in one place:
//!
//! * `*` computes the exact product in a wider integer and rounds it to
//!   nearest with ties toward `+inf`: `(a*b + 2^(FRAC-1)) >> FRAC`. For
//!   [`Q31`] this is gemmlowp's `SaturatingRoundingDoublingHighMul` bit for
//!   bit (including `MIN * MIN = MAX`), for [`Q15`] ARM's `VQRDMULH`.
//! * `saturating_mul_floor` (and its family) truncates toward `-inf`,
//!   `(a*b) >> FRAC`: for `Q15` bit-exact CMSIS-DSP `arm_mult_q15`. CMSIS-DSP's
//!   `arm_mult_q31` computes `sat((a*b) >> 32) << 1`, which is this result
//!   with its last bit cleared (`x.saturating_mul_floor(y).to_bits() & !1`);
//!   both are checked against golden vectors from CMSIS-DSP 1.10.3.
//! * `/` computes `(a << FRAC) / b` and truncates toward zero, like C.
//! * Conversions from floats, from decimal strings and between formats round
//!   to nearest, ties to even.
//!
//! ```
//! use qkit::fixed::{Fixed, FixedI16};
//! type Q3_12 = FixedI16<12>; // 16-bit storage, 12 fractional bits: Q3.12
//! let a = Q3_12::from_f64(1.5);
//! let b: Q3_12 = "-2.25".parse()?;
//! assert_eq!(a * b, Q3_12::from_f64(-3.375));
//! assert_eq!((a + b).to_string(), "-0.75");
//! assert_eq!(Q3_12::MAX * b, Q3_12::MIN); // saturates
//! # Ok::<(), qkit::Error>(())
//! ```
//!
//! A `FRAC` larger than the storage is a compile error:
//!
//! ```compile_fail
//! let x = qkit::fixed::Fixed::<i8, 9>::from_bits(1);
//! ```
//!
//! and so is asking for `ONE` where `1.0` is not representable (`Q15` covers
//! `[-1, 1)`):
//!
//! ```compile_fail
//! let one = qkit::Q15::ONE;
//! ```

mod convert;
mod fmt;
mod num_traits;
mod ops;

/// A Qm.n fixed-point number: the real value `bits / 2^FRAC`, stored in `T`.
///
/// `T` is a [`Storage`] type and `FRAC <= T::BITS`; a larger `FRAC` fails to
/// compile when the type is used. See the [module docs](self) for the
/// arithmetic families and their rounding.
///
/// ```
/// use qkit::fixed::Fixed;
/// let x = Fixed::<i32, 16>::from_bits(3 << 15); // 1.5 in Q15.16
/// assert_eq!(x.to_f64(), 1.5);
/// assert_eq!(x.to_bits(), 98304);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(transparent)]
pub struct Fixed<T, const FRAC: u32> {
    bits: T,
}

/// Q0.7: `Fixed<i8, 7>` (= [`FixedI8<7>`](FixedI8)), 7 *fractional* bits
/// (ARM's `q7_t`), the range `[-1, 1 - 2^-7]`.
///
/// ```
/// assert_eq!(qkit::Q7::MIN.to_f32(), -1.0);
/// ```
pub type Q7 = Fixed<i8, 7>;
/// Q0.15: `Fixed<i16, 15>` (= [`FixedI16<15>`](FixedI16)), 15 *fractional*
/// bits (ARM's `q15_t`), the range `[-1, 1 - 2^-15]`.
///
/// ```
/// assert_eq!(qkit::Q15::DELTA.to_f64(), 1.0 / 32768.0);
/// ```
pub type Q15 = Fixed<i16, 15>;
/// Q0.31: `Fixed<i32, 31>` (= [`FixedI32<31>`](FixedI32)), 31 *fractional*
/// bits (ARM's `q31_t`), the range `[-1, 1 - 2^-31]`.
///
/// ```
/// assert_eq!(qkit::Q31::MIN.to_bits(), i32::MIN);
/// ```
pub type Q31 = Fixed<i32, 31>;

/// `i8` storage with `F` fractional bits (the name gives the storage,
/// not the format): `FixedI8<4>` is Q3.4, `FixedI8<7>` is [`Q7`].
///
/// ```
/// assert_eq!(qkit::fixed::FixedI8::<4>::MAX.to_f64(), 7.9375);
/// ```
pub type FixedI8<const F: u32> = Fixed<i8, F>;
/// `i16` storage with `F` fractional bits (the name gives the storage,
/// not the format): `FixedI16<12>` is Q3.12, `FixedI16<15>` is [`Q15`].
///
/// ```
/// assert_eq!(qkit::fixed::FixedI16::<12>::MAX.to_f64(), 8.0 - 1.0 / 4096.0);
/// ```
pub type FixedI16<const F: u32> = Fixed<i16, F>;
/// `i32` storage with `F` fractional bits (the name gives the storage,
/// not the format): `FixedI32<16>` is Q15.16, `FixedI32<31>` is [`Q31`].
///
/// ```
/// assert_eq!(qkit::fixed::FixedI32::<16>::ONE.to_bits(), 65536);
/// ```
pub type FixedI32<const F: u32> = Fixed<i32, F>;
/// `i64` storage with `F` fractional bits: `FixedI64<32>` is Q31.32.
///
/// ```
/// assert_eq!(qkit::fixed::FixedI64::<32>::ONE.to_bits(), 1 << 32);
/// ```
pub type FixedI64<const F: u32> = Fixed<i64, F>;
/// `u8` storage with `F` fractional bits: `FixedU8<8>` is UQ0.8.
///
/// ```
/// assert_eq!(qkit::fixed::FixedU8::<8>::MAX.to_f64(), 255.0 / 256.0);
/// ```
pub type FixedU8<const F: u32> = Fixed<u8, F>;
/// `u16` storage with `F` fractional bits: `FixedU16<16>` is UQ0.16.
///
/// ```
/// assert_eq!(qkit::fixed::FixedU16::<16>::DELTA.to_f64(), 1.0 / 65536.0);
/// ```
pub type FixedU16<const F: u32> = Fixed<u16, F>;
/// `u32` storage with `F` fractional bits: `FixedU32<16>` is UQ16.16.
///
/// ```
/// assert_eq!(qkit::fixed::FixedU32::<16>::ONE.to_bits(), 1 << 16);
/// ```
pub type FixedU32<const F: u32> = Fixed<u32, F>;
/// `u64` storage with `F` fractional bits: `FixedU64<32>` is UQ32.32.
///
/// ```
/// assert_eq!(qkit::fixed::FixedU64::<32>::ONE.to_bits(), 1 << 32);
/// ```
pub type FixedU64<const F: u32> = Fixed<u64, F>;

mod sealed {
    pub trait Sealed {}
}

/// The integer types a [`Fixed`] can be stored in: `i8, i16, i32, i64, u8,
/// u16, u32, u64`. Sealed.
///
/// Every storage value fits an `i128`, which the format-generic code
/// (conversions between formats, `Display`, `FromStr`) computes in.
///
/// ```
/// use qkit::fixed::Storage;
/// assert_eq!(<u16 as Storage>::BITS, 16);
/// assert!(<i64 as Storage>::SIGNED);
/// assert_eq!(<u64 as Storage>::MAX_I128, u64::MAX as i128);
/// ```
pub trait Storage: Copy + Eq + Ord + core::hash::Hash + sealed::Sealed + 'static {
    /// Width in bits.
    const BITS: u32;
    /// Whether the type is signed.
    const SIGNED: bool;
    /// The smallest value, as an `i128`.
    const MIN_I128: i128;
    /// The largest value, as an `i128`.
    const MAX_I128: i128;
    /// The value as an `i128` (always exact).
    #[doc(hidden)]
    fn storage_to_i128(self) -> i128;
    /// The low `BITS` bits of `v` (an `as` cast); callers check the range.
    #[doc(hidden)]
    fn storage_from_i128_wrapping(v: i128) -> Self;
}

macro_rules! storage {
    ($($t:ident),*) => {$(
        impl sealed::Sealed for $t {}
        impl Storage for $t {
            const BITS: u32 = <$t>::BITS;
            const SIGNED: bool = <$t>::MIN != 0;
            const MIN_I128: i128 = <$t>::MIN as i128;
            const MAX_I128: i128 = <$t>::MAX as i128;
            #[inline]
            fn storage_to_i128(self) -> i128 {
                self as i128
            }
            #[inline]
            fn storage_from_i128_wrapping(v: i128) -> Self {
                v as $t
            }
        }
    )*};
}
storage!(i8, i16, i32, i64, u8, u16, u32, u64);

impl<T: Storage, const FRAC: u32> Fixed<T, FRAC> {
    /// Evaluated (post-monomorphization) by every constructor: `FRAC` must
    /// fit the storage.
    pub(crate) const CHECK: () = assert!(
        FRAC <= T::BITS,
        "Fixed<T, FRAC>: FRAC must be at most the storage width T::BITS"
    );
    /// `1.0 = 2^FRAC` must be at most `MAX`: `FRAC <= BITS - 2` when signed,
    /// `FRAC <= BITS - 1` when unsigned.
    pub(crate) const ONE_CHECK: () = assert!(
        FRAC < T::BITS - T::SIGNED as u32,
        "Fixed<T, FRAC>::ONE: 1.0 is not representable in this format"
    );

    /// The number with raw representation `v`, where `v` is known to be in
    /// range. Format-generic code builds values through here.
    #[inline]
    pub(crate) fn from_i128_unchecked(v: i128) -> Self {
        let () = Self::CHECK;
        Fixed {
            bits: T::storage_from_i128_wrapping(v),
        }
    }

    /// `v` clamped to the storage range.
    #[inline]
    pub(crate) fn from_i128_saturating(v: i128) -> Self {
        Self::from_i128_unchecked(v.clamp(T::MIN_I128, T::MAX_I128))
    }

    /// `Some(v)` if `v` is in the storage range.
    #[inline]
    pub(crate) fn from_i128_checked(v: i128) -> Option<Self> {
        if v < T::MIN_I128 || v > T::MAX_I128 {
            None
        } else {
            Some(Self::from_i128_unchecked(v))
        }
    }

    /// The raw bits as an `i128`.
    #[inline]
    pub(crate) fn bits_i128(self) -> i128 {
        self.bits.storage_to_i128()
    }
}

/// `Default` is zero.
///
/// ```
/// assert_eq!(qkit::Q15::default(), qkit::Q15::ZERO);
/// ```
impl<T: Storage, const FRAC: u32> Default for Fixed<T, FRAC> {
    #[inline]
    fn default() -> Self {
        Self::from_i128_unchecked(0)
    }
}

macro_rules! core_impl {
    ($t:ident) => {
        impl<const FRAC: u32> Fixed<$t, FRAC> {
            /// Zero.
            ///
            /// ```
            #[doc = concat!("assert_eq!(qkit::fixed::Fixed::<", stringify!($t), ", 4>::ZERO.to_bits(), 0);")]
            /// ```
            pub const ZERO: Self = Self::from_bits(0);
            /// One, `2^FRAC` as bits. Using it where `1.0` is out of range
            /// (`FRAC == BITS`, or `FRAC == BITS - 1` when signed) is a
            /// compile error.
            ///
            /// ```
            #[doc = concat!("assert_eq!(qkit::fixed::Fixed::<", stringify!($t), ", 4>::ONE.to_bits(), 16);")]
            /// ```
            pub const ONE: Self = {
                let () = Self::ONE_CHECK;
                Self::from_bits(1 << FRAC)
            };
            /// The smallest value, `T::MIN / 2^FRAC`.
            ///
            /// ```
            #[doc = concat!("assert_eq!(qkit::fixed::Fixed::<", stringify!($t), ", 4>::MIN.to_bits(), ", stringify!($t), "::MIN);")]
            /// ```
            pub const MIN: Self = Self::from_bits(<$t>::MIN);
            /// The largest value, `T::MAX / 2^FRAC`.
            ///
            /// ```
            #[doc = concat!("assert_eq!(qkit::fixed::Fixed::<", stringify!($t), ", 4>::MAX.to_bits(), ", stringify!($t), "::MAX);")]
            /// ```
            pub const MAX: Self = Self::from_bits(<$t>::MAX);
            /// The smallest positive value (one LSB), `2^-FRAC`.
            ///
            /// ```
            #[doc = concat!("assert_eq!(qkit::fixed::Fixed::<", stringify!($t), ", 4>::DELTA.to_f64(), 0.0625);")]
            /// ```
            pub const DELTA: Self = Self::from_bits(1);

            /// The number whose raw representation is `bits`: the value
            /// `bits / 2^FRAC`.
            ///
            /// ```
            #[doc = concat!("let x = qkit::fixed::Fixed::<", stringify!($t), ", 4>::from_bits(24);")]
            /// assert_eq!(x.to_f64(), 1.5);
            /// ```
            #[inline]
            #[must_use]
            pub const fn from_bits(bits: $t) -> Self {
                let () = Self::CHECK;
                Fixed { bits }
            }

            /// The raw representation: the value times `2^FRAC`.
            ///
            /// ```
            #[doc = concat!("let x = qkit::fixed::Fixed::<", stringify!($t), ", 4>::from_f64(1.5);")]
            /// assert_eq!(x.to_bits(), 24);
            /// ```
            #[inline]
            #[must_use]
            pub const fn to_bits(self) -> $t {
                self.bits
            }
        }
    };
}
core_impl!(i8);
core_impl!(i16);
core_impl!(i32);
core_impl!(i64);
core_impl!(u8);
core_impl!(u16);
core_impl!(u32);
core_impl!(u64);
