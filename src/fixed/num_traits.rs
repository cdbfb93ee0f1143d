//! `num-traits` implementations, each delegating to the inherent method of
//! the same name (so each keeps that method's rounding and saturation).
//!
//! Not implemented, because their contracts would be violated: `Num` (needs
//! `Rem` and radix parsing), `Signed`, `Float`, `NumCast` (its `from` takes
//! any `ToPrimitive` through a lossy path), `MulAdd`.
//!
//! ```
//! use num_traits::{Bounded, CheckedMul, SaturatingAdd, ToPrimitive, Zero};
//! use qkit::Q15;
//! fn total<T: Zero + SaturatingAdd + Copy>(xs: &[T]) -> T {
//!     xs.iter().fold(T::zero(), |acc, x| acc.saturating_add(x))
//! }
//! let xs = [Q15::from_f32(0.75); 3];
//! assert_eq!(total(&xs), Q15::max_value());
//! assert_eq!(CheckedMul::checked_mul(&Q15::MIN, &Q15::MIN), None);
//! assert_eq!(ToPrimitive::to_f64(&Q15::from_f32(-0.5)), Some(-0.5));
//! assert_eq!(ToPrimitive::to_i64(&Q15::from_f32(-0.5)), Some(0));
//! ```

use ::num_traits::{
    Bounded, CheckedAdd, CheckedDiv, CheckedMul, CheckedNeg, CheckedSub, ConstOne, ConstZero,
    FromPrimitive, One, Saturating, SaturatingAdd, SaturatingMul, SaturatingSub, ToPrimitive,
    WrappingAdd, WrappingMul, WrappingNeg, WrappingSub, Zero,
    ops::overflowing::{OverflowingAdd, OverflowingMul, OverflowingSub},
};

use super::Fixed;

macro_rules! num_traits_impl {
    ($t:ident) => {
        impl<const FRAC: u32> Zero for Fixed<$t, FRAC> {
            #[inline]
            fn zero() -> Self {
                Self::ZERO
            }
            #[inline]
            fn is_zero(&self) -> bool {
                self.to_bits() == 0
            }
        }
        impl<const FRAC: u32> ConstZero for Fixed<$t, FRAC> {
            const ZERO: Self = Self::ZERO;
        }
        /// `one()` is a compile error where `1.0` is not representable.
        /// `x * one() == x` exactly for every `x`.
        impl<const FRAC: u32> One for Fixed<$t, FRAC> {
            #[inline]
            fn one() -> Self {
                Self::ONE
            }
        }
        impl<const FRAC: u32> ConstOne for Fixed<$t, FRAC> {
            const ONE: Self = Self::ONE;
        }
        impl<const FRAC: u32> Bounded for Fixed<$t, FRAC> {
            #[inline]
            fn min_value() -> Self {
                Self::MIN
            }
            #[inline]
            fn max_value() -> Self {
                Self::MAX
            }
        }

        impl<const FRAC: u32> Saturating for Fixed<$t, FRAC> {
            #[inline]
            fn saturating_add(self, v: Self) -> Self {
                Fixed::<$t, FRAC>::saturating_add(self, v)
            }
            #[inline]
            fn saturating_sub(self, v: Self) -> Self {
                Fixed::<$t, FRAC>::saturating_sub(self, v)
            }
        }
        impl<const FRAC: u32> SaturatingAdd for Fixed<$t, FRAC> {
            #[inline]
            fn saturating_add(&self, v: &Self) -> Self {
                Fixed::<$t, FRAC>::saturating_add(*self, *v)
            }
        }
        impl<const FRAC: u32> SaturatingSub for Fixed<$t, FRAC> {
            #[inline]
            fn saturating_sub(&self, v: &Self) -> Self {
                Fixed::<$t, FRAC>::saturating_sub(*self, *v)
            }
        }
        /// Rounded to nearest, ties toward `+inf`, like `*`.
        impl<const FRAC: u32> SaturatingMul for Fixed<$t, FRAC> {
            #[inline]
            fn saturating_mul(&self, v: &Self) -> Self {
                Fixed::<$t, FRAC>::saturating_mul(*self, *v)
            }
        }

        impl<const FRAC: u32> CheckedAdd for Fixed<$t, FRAC> {
            #[inline]
            fn checked_add(&self, v: &Self) -> Option<Self> {
                Fixed::<$t, FRAC>::checked_add(*self, *v)
            }
        }
        impl<const FRAC: u32> CheckedSub for Fixed<$t, FRAC> {
            #[inline]
            fn checked_sub(&self, v: &Self) -> Option<Self> {
                Fixed::<$t, FRAC>::checked_sub(*self, *v)
            }
        }
        impl<const FRAC: u32> CheckedMul for Fixed<$t, FRAC> {
            #[inline]
            fn checked_mul(&self, v: &Self) -> Option<Self> {
                Fixed::<$t, FRAC>::checked_mul(*self, *v)
            }
        }
        /// Truncated toward zero; `None` on division by zero or overflow.
        impl<const FRAC: u32> CheckedDiv for Fixed<$t, FRAC> {
            #[inline]
            fn checked_div(&self, v: &Self) -> Option<Self> {
                Fixed::<$t, FRAC>::checked_div(*self, *v)
            }
        }
        impl<const FRAC: u32> CheckedNeg for Fixed<$t, FRAC> {
            #[inline]
            fn checked_neg(&self) -> Option<Self> {
                Fixed::<$t, FRAC>::checked_neg(*self)
            }
        }

        impl<const FRAC: u32> WrappingAdd for Fixed<$t, FRAC> {
            #[inline]
            fn wrapping_add(&self, v: &Self) -> Self {
                Fixed::<$t, FRAC>::wrapping_add(*self, *v)
            }
        }
        impl<const FRAC: u32> WrappingSub for Fixed<$t, FRAC> {
            #[inline]
            fn wrapping_sub(&self, v: &Self) -> Self {
                Fixed::<$t, FRAC>::wrapping_sub(*self, *v)
            }
        }
        impl<const FRAC: u32> WrappingMul for Fixed<$t, FRAC> {
            #[inline]
            fn wrapping_mul(&self, v: &Self) -> Self {
                Fixed::<$t, FRAC>::wrapping_mul(*self, *v)
            }
        }
        impl<const FRAC: u32> WrappingNeg for Fixed<$t, FRAC> {
            #[inline]
            fn wrapping_neg(&self) -> Self {
                Fixed::<$t, FRAC>::wrapping_neg(*self)
            }
        }

        impl<const FRAC: u32> OverflowingAdd for Fixed<$t, FRAC> {
            #[inline]
            fn overflowing_add(&self, v: &Self) -> (Self, bool) {
                Fixed::<$t, FRAC>::overflowing_add(*self, *v)
            }
        }
        impl<const FRAC: u32> OverflowingSub for Fixed<$t, FRAC> {
            #[inline]
            fn overflowing_sub(&self, v: &Self) -> (Self, bool) {
                Fixed::<$t, FRAC>::overflowing_sub(*self, *v)
            }
        }
        impl<const FRAC: u32> OverflowingMul for Fixed<$t, FRAC> {
            #[inline]
            fn overflowing_mul(&self, v: &Self) -> (Self, bool) {
                Fixed::<$t, FRAC>::overflowing_mul(*self, *v)
            }
        }

        /// Integer conversions truncate toward zero (as `num-traits` does
        /// for floats) and give `None` when the integer part does not fit;
        /// float conversions round correctly.
        impl<const FRAC: u32> ToPrimitive for Fixed<$t, FRAC> {
            #[inline]
            fn to_i64(&self) -> Option<i64> {
                self.to_int_trunc().to_i64()
            }
            #[inline]
            fn to_u64(&self) -> Option<u64> {
                self.to_int_trunc().to_u64()
            }
            #[inline]
            fn to_i128(&self) -> Option<i128> {
                self.to_int_trunc().to_i128()
            }
            #[inline]
            fn to_u128(&self) -> Option<u128> {
                self.to_int_trunc().to_u128()
            }
            #[inline]
            fn to_f32(&self) -> Option<f32> {
                Some(Fixed::<$t, FRAC>::to_f32(*self))
            }
            #[inline]
            fn to_f64(&self) -> Option<f64> {
                Some(Fixed::<$t, FRAC>::to_f64(*self))
            }
        }

        /// Integers convert exactly or give `None`; floats round to nearest,
        /// ties to even, and give `None` for NaN or out of range.
        impl<const FRAC: u32> FromPrimitive for Fixed<$t, FRAC> {
            #[inline]
            fn from_i64(n: i64) -> Option<Self> {
                Self::checked_from_int(n as i128)
            }
            #[inline]
            fn from_u64(n: u64) -> Option<Self> {
                Self::checked_from_int(n as i128)
            }
            #[inline]
            fn from_i128(n: i128) -> Option<Self> {
                Self::checked_from_int(n)
            }
            #[inline]
            fn from_u128(n: u128) -> Option<Self> {
                Self::checked_from_int(i128::try_from(n).ok()?)
            }
            #[inline]
            fn from_f32(x: f32) -> Option<Self> {
                Self::checked_from_f32(x).ok()
            }
            #[inline]
            fn from_f64(x: f64) -> Option<Self> {
                Self::checked_from_f64(x).ok()
            }
        }
    };
}
num_traits_impl!(i8);
num_traits_impl!(i16);
num_traits_impl!(i32);
num_traits_impl!(i64);
num_traits_impl!(u8);
num_traits_impl!(u16);
num_traits_impl!(u32);
num_traits_impl!(u64);
