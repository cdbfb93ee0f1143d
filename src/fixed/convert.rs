//! Conversions: floats (`f32`, `f64`, `half::f16`, `half::bf16`), integers,
//! other fixed-point formats, and the lossless `From` impls.
//!
//! Every conversion into `Fixed` rounds to nearest with ties to even and
//! saturates (or, in the checked forms, reports overflow); every conversion
//! out of `Fixed` into a float is a single correct rounding.

use half::{bf16, f16};

use super::{Fixed, Q7, Q15, Q31, Storage};
use crate::Error;

/// `2^e` for `-1022 <= e <= 1023`, exactly.
#[inline]
const fn pow2(e: i32) -> f64 {
    f64::from_bits(((1023 + e) as u64) << 52)
}

/// `v` rounded to odd at 24 significant bits (an `f32` significand):
/// truncated, with the last kept bit set if anything nonzero was dropped.
/// Rounding that once more to nearest at a precision of at most 22 bits
/// (f16: 11, bf16: 8) gives the correctly rounded result (Boldo & Melquiond,
/// "Emulation of FMA and correctly rounded sums: proved algorithms using
/// rounding to odd", 2008), and the intermediate is exact in `f32`.
fn i128_round_odd_24(v: i128) -> f64 {
    let m = v.unsigned_abs();
    let n = 128 - m.leading_zeros();
    let r = if n <= 24 {
        m as f64
    } else {
        let drop = n - 24;
        let mut k = m >> drop;
        if m & ((1u128 << drop) - 1) != 0 {
            k |= 1;
        }
        k as f64 * pow2(drop as i32)
    };
    if v < 0 { -r } else { r }
}

/// Floats: per storage, so the common 8/16/32-bit paths use native casts.
macro_rules! floats {
    ($t:ident) => {
        impl<const FRAC: u32> Fixed<$t, FRAC> {
            /// `2^FRAC` (exact; `FRAC <= 64`).
            const SCALE: f64 = pow2(FRAC as i32);
            /// `2^-FRAC` (exact).
            const INV_SCALE: f64 = pow2(-(FRAC as i32));
            /// The exclusive upper bound of the storage, `MAX + 1`, as `f64`.
            const UPPER: f64 = pow2(<$t>::BITS as i32 - (<$t>::MIN != 0) as i32);

            /// `x * 2^FRAC` rounded to nearest, ties to even (exact up to
            /// that single rounding: scaling by a power of two is exact).
            #[inline]
            fn scaled_rint(x: f64) -> f64 {
                libm::rint(x * Self::SCALE)
            }

            /// The nearest value to `x` (ties to even), saturating: values
            /// beyond the range (and infinities) give `MIN`/`MAX`, NaN gives
            /// zero. Use [`checked_from_f64`](Self::checked_from_f64) to
            /// detect those.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::from_f64(1.5).to_bits(), 24);
            /// assert_eq!(F::from_f64(0.03125).to_bits(), 0); // tie: to even
            /// assert_eq!(F::from_f64(0.09375).to_bits(), 2); // tie: to even
            /// assert_eq!(F::from_f64(1e30), F::MAX);
            /// assert_eq!(F::from_f64(f64::NAN), F::ZERO);
            /// ```
            #[inline]
            #[must_use]
            pub fn from_f64(x: f64) -> Self {
                // `as` saturates and maps NaN to 0.
                Self::from_bits(Self::scaled_rint(x) as $t)
            }

            /// The nearest value to `x`, ties to even, or `Err(Error::NaN)`
            /// for NaN and `Err(Error::Overflow)` when the rounded value is
            /// out of range.
            ///
            /// ```
            /// use qkit::Error;
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::checked_from_f64(1.5), Ok(F::from_bits(24)));
            /// assert_eq!(F::checked_from_f64(f64::NAN), Err(Error::NaN));
            /// assert_eq!(F::checked_from_f64(1e30), Err(Error::Overflow));
            /// ```
            #[inline]
            pub fn checked_from_f64(x: f64) -> Result<Self, Error> {
                if x.is_nan() {
                    return Err(Error::NaN);
                }
                let r = Self::scaled_rint(x);
                if r >= Self::UPPER || r < <$t>::MIN as f64 {
                    return Err(Error::Overflow);
                }
                Ok(Self::from_bits(r as $t))
            }

            /// The nearest value to `x` (ties to even), saturating, NaN to
            /// zero; `f32 -> f64` is exact, so this is `from_f64(x as f64)`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::from_f32(-0.0625), F::ZERO.saturating_sub(F::DELTA)); // 0 if unsigned
            /// assert_eq!(F::from_f32(2.0).to_bits(), 32);
            /// ```
            #[inline]
            #[must_use]
            pub fn from_f32(x: f32) -> Self {
                Self::from_f64(x as f64)
            }

            /// The nearest value to `x`, ties to even, or `Err(Error::NaN)` /
            /// `Err(Error::Overflow)`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::checked_from_f32(f32::INFINITY), Err(qkit::Error::Overflow));
            /// ```
            #[inline]
            pub fn checked_from_f32(x: f32) -> Result<Self, Error> {
                Self::checked_from_f64(x as f64)
            }

            /// The value as `f64`, correctly rounded (exact for storage up
            /// to 32 bits).
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::from_bits(24).to_f64(), 1.5);
            /// ```
            #[inline]
            #[must_use]
            pub fn to_f64(self) -> f64 {
                // One rounding in the cast; the power-of-two scale is exact.
                self.bits as f64 * Self::INV_SCALE
            }

            /// The value as `f32`, correctly rounded (exact for storage up
            /// to 16 bits).
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::from_bits(24).to_f32(), 1.5);
            /// ```
            #[inline]
            #[must_use]
            pub fn to_f32(self) -> f32 {
                // 2^-FRAC >= 2^-64 is a normal f32, so the scale is exact too.
                self.bits as f32 * Self::INV_SCALE as f32
            }
        }
    };
}
/// `TryFrom` every float type: [`checked_from_f64`](Fixed::checked_from_f64)
/// of the exactly widened value (nearest, ties to even; `Err(NaN)`,
/// `Err(Overflow)` out of range), the conversion a `Q15::try_from(0.5)`
/// reaches for. Lossy by rounding, like the `fixed` crate's
/// `checked_from_num`; the saturating forms are `from_f32` and friends.
macro_rules! try_from_floats {
    ($t:ident: $($float:ty => $wide:literal),+) => {$(
        #[doc = concat!("The nearest `Fixed<", stringify!($t), ", FRAC>` to an `", stringify!($float), "`, ties to even; `Err(Error::NaN)` for NaN, `Err(Error::Overflow)` out of range.")]
        ///
        /// ```
        /// use half::{bf16, f16};
        /// use qkit::{fixed::Fixed, Error};
        #[doc = concat!("type F = Fixed<", stringify!($t), ", 4>;")]
        #[doc = concat!("let f = |v: f32| -> ", stringify!($float), " { ", $wide, " };")]
        /// assert_eq!(F::try_from(f(1.5)), Ok(F::from_bits(24)));
        /// assert_eq!(F::try_from(f(0.03125)), Ok(F::ZERO)); // a tie: to even
        /// assert_eq!(F::try_from(f(f32::NAN)), Err(Error::NaN));
        /// assert_eq!(F::try_from(f(1e30)), Err(Error::Overflow));
        /// ```
        impl<const FRAC: u32> TryFrom<$float> for Fixed<$t, FRAC> {
            type Error = Error;
            #[inline]
            fn try_from(x: $float) -> Result<Self, Error> {
                let widen = |x: $float| -> f64 { x.into() };
                Self::checked_from_f64(widen(x))
            }
        }
    )+};
}

macro_rules! try_from_all_floats {
    ($($t:ident),*) => {$(
        try_from_floats!($t:
            f32 => "v",
            f64 => "v as f64",
            f16 => "f16::from_f32(v)",
            bf16 => "bf16::from_f32(v)"
        );
    )*};
}
try_from_all_floats!(i8, i16, i32, i64, u8, u16, u32, u64);

floats!(i8);
floats!(i16);
floats!(i32);
floats!(i64);
floats!(u8);
floats!(u16);
floats!(u32);
floats!(u64);

impl<T: Storage, const FRAC: u32> Fixed<T, FRAC> {
    /// The value rounded to odd at 24 bits, exactly as an `f32` (its
    /// magnitude lies in `[2^-64, 2^64]`, the normal range).
    fn to_f32_round_odd(self) -> f32 {
        (i128_round_odd_24(self.bits_i128()) * pow2(-(FRAC as i32))) as f32
    }

    /// The nearest value to `x` (ties to even), saturating, NaN to zero.
    fn from_f64_generic(x: f64) -> Self {
        let r = libm::rint(x * pow2(FRAC as i32));
        // `as` saturates (and maps NaN to 0); every storage fits an i128.
        Self::from_i128_saturating(r as i128)
    }

    /// The nearest `half::f16` (ties to even), correctly rounded: values
    /// beyond `f16::MAX` (65504) become infinite.
    ///
    /// ```
    /// use half::f16;
    /// use qkit::fixed::Fixed;
    /// let x = Fixed::<i32, 16>::from_f64(1.5);
    /// assert_eq!(x.to_f16(), f16::from_f32(1.5));
    /// assert_eq!(Fixed::<i32, 0>::MAX.to_f16(), f16::INFINITY);
    /// ```
    #[inline]
    #[must_use]
    pub fn to_f16(self) -> f16 {
        // Round to odd at 24 bits (exact in f32), then round once to f16.
        f16::from_f32(self.to_f32_round_odd())
    }

    /// The nearest `half::bf16` (ties to even), correctly rounded.
    ///
    /// ```
    /// use half::bf16;
    /// let x = qkit::Q15::from_bits(0x4081); // 0.5 + 2^-8 + 2^-15
    /// assert_eq!(x.to_bf16(), bf16::from_f32(0.50390625));
    /// ```
    #[inline]
    #[must_use]
    pub fn to_bf16(self) -> bf16 {
        bf16::from_f32(self.to_f32_round_odd())
    }

    /// The nearest value to `x` (ties to even), saturating, NaN to zero.
    ///
    /// ```
    /// use half::f16;
    /// let x = qkit::Q15::from_f16(f16::from_f32(-0.25));
    /// assert_eq!(x.to_bits(), -8192);
    /// ```
    #[inline]
    #[must_use]
    pub fn from_f16(x: f16) -> Self {
        Self::from_f64_generic(x.to_f64())
    }

    /// The nearest value to `x` (ties to even), saturating, NaN to zero.
    ///
    /// ```
    /// use half::bf16;
    /// let x = qkit::Q15::from_bf16(bf16::from_f32(2.0));
    /// assert_eq!(x, qkit::Q15::MAX);
    /// ```
    #[inline]
    #[must_use]
    pub fn from_bf16(x: bf16) -> Self {
        Self::from_f64_generic(x.to_f64())
    }

    /// The integer `n` as a fixed-point value, or `None` if it is out of
    /// range.
    ///
    /// ```
    /// use qkit::fixed::Fixed;
    /// type F = Fixed<i16, 12>; // Q3.12: [-8, 8)
    /// assert_eq!(F::checked_from_int(-8), Some(F::MIN));
    /// assert_eq!(F::checked_from_int(8), None);
    /// ```
    #[inline]
    #[must_use]
    pub fn checked_from_int(n: i128) -> Option<Self> {
        let (lo, hi) = Self::int_range();
        if n < lo || n > hi {
            None
        } else {
            Some(Self::from_i128_unchecked(n << FRAC))
        }
    }

    /// The integer `n` as a fixed-point value, clamped to `[MIN, MAX]`.
    ///
    /// ```
    /// use qkit::fixed::Fixed;
    /// type F = Fixed<i16, 12>;
    /// assert_eq!(F::saturating_from_int(3).to_f64(), 3.0);
    /// assert_eq!(F::saturating_from_int(1000), F::from_bits(i16::MAX));
    /// ```
    #[inline]
    #[must_use]
    pub fn saturating_from_int(n: i128) -> Self {
        let (lo, hi) = Self::int_range();
        if n < lo {
            Self::from_i128_unchecked(T::MIN_I128)
        } else if n > hi {
            Self::from_i128_unchecked(T::MAX_I128)
        } else {
            Self::from_i128_unchecked(n << FRAC)
        }
    }

    /// The integers `n` with `n * 2^FRAC` in the storage range:
    /// `[ceil(MIN / 2^FRAC), floor(MAX / 2^FRAC)]`.
    #[inline]
    fn int_range() -> (i128, i128) {
        let () = Self::CHECK;
        // ceil(-m / 2^F) = -floor(m / 2^F) for m >= 0.
        (-((-T::MIN_I128) >> FRAC), T::MAX_I128 >> FRAC)
    }

    /// The largest integer not above the value (toward `-inf`).
    ///
    /// ```
    /// assert_eq!(qkit::fixed::FixedI16::<8>::from_f64(-1.5).to_int_floor(), -2);
    /// assert_eq!(qkit::fixed::FixedI16::<8>::from_f64(1.5).to_int_floor(), 1);
    /// ```
    #[inline]
    #[must_use]
    pub fn to_int_floor(self) -> T {
        T::storage_from_i128_wrapping(self.bits_i128() >> FRAC)
    }

    /// The integer part, truncating toward zero.
    ///
    /// ```
    /// assert_eq!(qkit::fixed::FixedI16::<8>::from_f64(-1.5).to_int_trunc(), -1);
    /// assert_eq!(qkit::fixed::FixedI16::<8>::from_f64(1.5).to_int_trunc(), 1);
    /// ```
    #[inline]
    #[must_use]
    pub fn to_int_trunc(self) -> T {
        let v = self.bits_i128();
        let q = v.unsigned_abs() >> FRAC;
        let q = if v < 0 { -(q as i128) } else { q as i128 };
        T::storage_from_i128_wrapping(q)
    }

    /// The nearest integer, ties to even (like `from_f64` and `FromStr`).
    /// The result always fits `T`.
    ///
    /// ```
    /// use qkit::fixed::FixedI16;
    /// assert_eq!(FixedI16::<8>::from_f64(-1.5).to_int_round(), -2);
    /// assert_eq!(FixedI16::<8>::from_f64(2.5).to_int_round(), 2);
    /// assert_eq!(FixedI16::<8>::from_f64(2.5078125).to_int_round(), 3);
    /// ```
    #[inline]
    #[must_use]
    pub fn to_int_round(self) -> T {
        T::storage_from_i128_wrapping(round_shift_even(self.bits_i128(), FRAC))
    }

    /// The nearest value in another format `Fixed<U, G>` (ties to even),
    /// saturating. It equals `Fixed::<U, G>::from_f64(self.to_f64())`
    /// whenever `to_f64` is exact.
    ///
    /// ```
    /// use qkit::{Q15, Q31, fixed::FixedI16};
    /// let x = Q31::from_bits(0x4000_8000); // 0.5 + 2^-16: a tie in Q15
    /// assert_eq!(x.convert::<i16, 15>(), Q15::from_bits(0x4000)); // to even
    /// assert_eq!(Q15::MIN.convert::<i16, 12>().to_f64(), -1.0);
    /// assert_eq!(FixedI16::<4>::MAX.convert::<i16, 15>(), Q15::MAX); // saturates
    /// ```
    #[inline]
    #[must_use]
    pub fn convert<U: Storage, const G: u32>(self) -> Fixed<U, G> {
        match Self::rescale::<G>(self.bits_i128()) {
            Ok(v) => Fixed::<U, G>::from_i128_saturating(v),
            Err(positive) => {
                Fixed::<U, G>::from_i128_unchecked(if positive { U::MAX_I128 } else { U::MIN_I128 })
            }
        }
    }

    /// The nearest value in another format (ties to even), or `None` if it
    /// is out of range.
    ///
    /// ```
    /// use qkit::{Q15, fixed::FixedI16};
    /// assert_eq!(FixedI16::<4>::from_f64(0.5).checked_convert::<i16, 15>(), Some(Q15::from_f64(0.5)));
    /// assert_eq!(FixedI16::<4>::ONE.checked_convert::<i16, 15>(), None);
    /// ```
    #[inline]
    #[must_use]
    pub fn checked_convert<U: Storage, const G: u32>(self) -> Option<Fixed<U, G>> {
        match Self::rescale::<G>(self.bits_i128()) {
            Ok(v) => Fixed::<U, G>::from_i128_checked(v),
            Err(_) => None,
        }
    }

    /// `v * 2^(G - FRAC)` rounded to nearest even, or `Err(sign)` if it
    /// exceeds every storage range (`|result| > 2^64`).
    #[inline]
    fn rescale<const G: u32>(v: i128) -> Result<i128, bool> {
        if G >= FRAC {
            let s = G - FRAC; // <= 64
            let limit = 1i128 << (64 - s.min(64)); // |v| <= 2^(64-s) keeps |v << s| <= 2^64
            if v > limit || v < -limit {
                Err(v > 0)
            } else {
                Ok(v << s)
            }
        } else {
            Ok(round_shift_even(v, FRAC - G))
        }
    }
}

/// `v / 2^s` rounded to nearest, ties to even, for `s <= 127`.
#[inline]
fn round_shift_even(v: i128, s: u32) -> i128 {
    if s == 0 {
        return v;
    }
    let q = v >> s; // floor
    let r = v - (q << s); // in [0, 2^s)
    let half = 1i128 << (s - 1);
    if r > half || (r == half && q & 1 == 1) {
        q + 1
    } else {
        q
    }
}

/// Lossless `From`: same `FRAC`, wider storage.
macro_rules! widen {
    ($($src:ident => $($dst:ident),+;)*) => {$($(
        /// Lossless: the same value in wider storage.
        ///
        /// ```
        /// use qkit::fixed::Fixed;
        #[doc = concat!("let x = Fixed::<", stringify!($src), ", 4>::from_bits(", stringify!($src), "::MAX);")]
        #[doc = concat!("let y: Fixed<", stringify!($dst), ", 4> = x.into();")]
        /// assert_eq!(y.to_f64(), x.to_f64());
        /// ```
        impl<const FRAC: u32> From<Fixed<$src, FRAC>> for Fixed<$dst, FRAC> {
            #[inline]
            fn from(x: Fixed<$src, FRAC>) -> Self {
                Self::from_bits(x.to_bits() as $dst)
            }
        }
    )+)*};
}
widen! {
    i8 => i16, i32, i64;
    i16 => i32, i64;
    i32 => i64;
    u8 => u16, u32, u64, i16, i32, i64;
    u16 => u32, u64, i32, i64;
    u32 => u64, i64;
}

/// `Q7 -> Q15`: exact (`bits << 8`).
///
/// ```
/// use qkit::{Q7, Q15};
/// assert_eq!(Q15::from(Q7::MIN), Q15::MIN);
/// assert_eq!(Q15::from(Q7::from_bits(64)).to_f64(), 0.5);
/// ```
impl From<Q7> for Q15 {
    #[inline]
    fn from(x: Q7) -> Self {
        Q15::from_bits((x.to_bits() as i16) << 8)
    }
}

/// `Q7 -> Q31`: exact (`bits << 24`).
///
/// ```
/// use qkit::{Q7, Q31};
/// assert_eq!(Q31::from(Q7::MIN), Q31::MIN);
/// ```
impl From<Q7> for Q31 {
    #[inline]
    fn from(x: Q7) -> Self {
        Q31::from_bits((x.to_bits() as i32) << 24)
    }
}

/// `Q15 -> Q31`: exact (`bits << 16`).
///
/// ```
/// use qkit::{Q15, Q31};
/// assert_eq!(Q31::from(Q15::from_bits(-3)).to_f64(), -3.0 / 32768.0);
/// ```
impl From<Q15> for Q31 {
    #[inline]
    fn from(x: Q15) -> Self {
        Q31::from_bits((x.to_bits() as i32) << 16)
    }
}

/// Exact float conversions: `f32` holds every value of 8- and 16-bit
/// storage, `f64` of up to 32-bit storage.
macro_rules! to_float {
    ($float:ident, $method:ident: $($t:ident),+) => {$(
        /// Exact: every value of this format is representable.
        ///
        /// ```
        /// use qkit::fixed::Fixed;
        #[doc = concat!("let x = Fixed::<", stringify!($t), ", 3>::from_bits(", stringify!($t), "::MAX);")]
        #[doc = concat!("assert_eq!(", stringify!($float), "::from(x), ", stringify!($t), "::MAX as ", stringify!($float), " / 8.0);")]
        /// ```
        impl<const FRAC: u32> From<Fixed<$t, FRAC>> for $float {
            #[inline]
            fn from(x: Fixed<$t, FRAC>) -> $float {
                x.$method()
            }
        }
    )+};
}
to_float!(f32, to_f32: i8, i16, u8, u16);
to_float!(f64, to_f64: i8, i16, i32, u8, u16, u32);

/// Exact half-precision conversions: 8-bit storage has at most 8
/// significant bits and `|value| <= 255`, `2^-FRAC >= 2^-8`, which both
/// `f16` (11 bits, normal down to `2^-14`) and `bf16` (8 bits, the range
/// of `f32`) hold exactly.
macro_rules! to_half {
    ($($half:ident, $method:ident: $($t:ident),+;)*) => {$($(
        /// Exact: every value of this format is representable.
        ///
        /// ```
        #[doc = concat!("use half::", stringify!($half), ";")]
        /// use qkit::fixed::Fixed;
        #[doc = concat!("let x = Fixed::<", stringify!($t), ", 8>::from_bits(", stringify!($t), "::MAX);")]
        #[doc = concat!("assert_eq!(", stringify!($half), "::from(x).to_f64(), x.to_f64());")]
        /// ```
        impl<const FRAC: u32> From<Fixed<$t, FRAC>> for $half {
            #[inline]
            fn from(x: Fixed<$t, FRAC>) -> $half {
                x.$method()
            }
        }
    )+)*};
}
to_half! {
    f16, to_f16: i8, u8;
    bf16, to_bf16: i8, u8;
}
