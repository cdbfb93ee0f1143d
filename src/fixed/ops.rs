//! Arithmetic: the saturating, wrapping, checked and overflowing families of
//! add, sub, mul (rounding and flooring), div, neg and abs, and the
//! saturating operators.
//!
//! Every product and quotient is computed exactly in a wider integer `W`
//! (`i8, i16 -> i32`, `i32 -> i64`, `i64 -> i128`, and the unsigned
//! counterparts) and then narrowed; the families differ only in how they
//! narrow. `Q15` multiplication thus stays in 32-bit arithmetic.

use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use super::Fixed;

/// `(u1 * 2^N + u0) / v` for `u1 < v` (so the quotient fits one word),
/// using only single-word divisions: Knuth's algorithm D specialised to two
/// half-word digits (Hacker's Delight, 2nd ed., figure 9-3, `divlu`).
///
/// It keeps `Q31` division on 32-bit hardware dividers (a 64-bit `/` is a
/// library call on Cortex-M) and `Fixed<i64, _>` division off the 128-bit
/// `__udivti3` routine.
macro_rules! divlu {
    ($name:ident, $u:ident) => {
        #[inline]
        pub(crate) const fn $name(u1: $u, u0: $u, v: $u) -> $u {
            const H: u32 = <$u>::BITS / 2;
            const B: $u = 1 << H;
            const MASK: $u = B - 1;
            debug_assert!(u1 < v);
            // Normalize so the divisor's top bit is set.
            let s = v.leading_zeros();
            let v = v << s;
            let (vn1, vn0) = (v >> H, v & MASK);
            let un32 = if s == 0 {
                u1
            } else {
                (u1 << s) | (u0 >> (<$u>::BITS - s))
            };
            let un10 = u0 << s;
            let (un1, un0) = (un10 >> H, un10 & MASK);

            // First quotient digit, corrected at most twice.
            let mut q1 = un32 / vn1;
            let mut rhat = un32 - q1 * vn1;
            while q1 >= B || q1 * vn0 > (rhat << H) + un1 {
                q1 -= 1;
                rhat += vn1;
                if rhat >= B {
                    break;
                }
            }
            // Remainder after the first digit (fits one word; the
            // intermediate products wrap on purpose).
            let un21 = un32
                .wrapping_mul(B)
                .wrapping_add(un1)
                .wrapping_sub(q1.wrapping_mul(v));

            // Second digit.
            let mut q0 = un21 / vn1;
            let mut rhat = un21 - q0 * vn1;
            while q0 >= B || q0 * vn0 > (rhat << H) + un0 {
                q0 -= 1;
                rhat += vn1;
                if rhat >= B {
                    break;
                }
            }
            (q1 << H) + q0
        }
    };
}
divlu!(divlu_u32, u32);
divlu!(divlu_u64, u64);

/// `num / b` (truncated) through [`divlu_u32`] / [`divlu_u64`] when the
/// quotient fits one word; `None` when it does not (the caller then falls
/// back to the wide division; the result overflows the storage anyway).
macro_rules! div_by_words {
    (signed $name:ident, $w:ident, $uw:ident, $u:ident, $divlu:ident) => {
        #[inline]
        const fn $name(num: $w, b: $w) -> Option<$w> {
            let neg = (num < 0) != (b < 0);
            let (n, d) = (num.unsigned_abs(), b.unsigned_abs());
            let (hi, lo) = ((n >> <$u>::BITS) as $u, n as $u);
            if d > <$u>::MAX as $uw || hi >= d as $u {
                return None;
            }
            let q = $divlu(hi, lo, d as $u) as $w;
            Some(if neg { -q } else { q })
        }
    };
    (unsigned $name:ident, $w:ident, $u:ident, $divlu:ident) => {
        #[inline]
        const fn $name(num: $w, b: $w) -> Option<$w> {
            let (hi, lo) = ((num >> <$u>::BITS) as $u, num as $u);
            if b > <$u>::MAX as $w || hi >= b as $u {
                return None;
            }
            Some($divlu(hi, lo, b as $u) as $w)
        }
    };
}
div_by_words!(signed div_i64_by_words, i64, u64, u32, divlu_u32);
div_by_words!(signed div_i128_by_words, i128, u128, u64, divlu_u64);
div_by_words!(unsigned div_u64_by_words, u64, u32, divlu_u32);
div_by_words!(unsigned div_u128_by_words, u128, u64, divlu_u64);

/// Whether to divide by words: on 64-bit targets the hardware (or, for
/// `u128`, compiler-builtins' `div`-based routine) is faster. Measured on
/// x86_64 (Zen 3), 4096 divisions: Q31 2.4x and `FixedI64<32>` 1.3x slower by
/// words; on 32-bit cores the double-word divide is a software routine.
const BY_WORDS: bool = cfg!(not(target_pointer_width = "64"));

macro_rules! div_on_target {
    ($name:ident, $w:ident, $words:ident) => {
        /// `$words` where it is faster than the native double-word divide.
        #[inline]
        const fn $name(num: $w, b: $w) -> Option<$w> {
            if BY_WORDS { $words(num, b) } else { None }
        }
    };
}
div_on_target!(div_i64_on_target, i64, div_i64_by_words);
div_on_target!(div_i128_on_target, i128, div_i128_by_words);
div_on_target!(div_u64_on_target, u64, div_u64_by_words);
div_on_target!(div_u128_on_target, u128, div_u128_by_words);

/// 8- and 16-bit storage divides in 32 bits already.
#[inline]
const fn div_i32_native(_: i32, _: i32) -> Option<i32> {
    None
}
/// 8- and 16-bit storage divides in 32 bits already.
#[inline]
const fn div_u32_native(_: u32, _: u32) -> Option<u32> {
    None
}

/// Per-storage arithmetic. `$t` is the storage, `$w` the exact wide type.
macro_rules! arith {
    ($t:ident, $w:ident, $words:ident) => {
        impl<const FRAC: u32> Fixed<$t, FRAC> {
            /// `w` clamped to the storage range.
            #[inline]
            #[allow(unused_comparisons, clippy::absurd_extreme_comparisons)]
            const fn saturate(w: $w) -> $t {
                if w > <$t>::MAX as $w {
                    <$t>::MAX
                } else if w < <$t>::MIN as $w {
                    <$t>::MIN
                } else {
                    w as $t
                }
            }

            /// Whether `w` fits the storage.
            #[inline]
            #[allow(unused_comparisons, clippy::absurd_extreme_comparisons)]
            const fn fits(w: $w) -> bool {
                w >= <$t>::MIN as $w && w <= <$t>::MAX as $w
            }

            /// The exact product rounded to nearest, ties toward `+inf`:
            /// `(a*b + 2^(FRAC-1)) >> FRAC`. Never overflows `W`: the largest
            /// product magnitude is `2^(2*BITS - 2)` (signed) or below
            /// `2^(2*BITS)` (unsigned) and `W` has at least `2*BITS` bits.
            #[inline]
            const fn mul_round_wide(a: $t, b: $t) -> $w {
                let p = a as $w * b as $w;
                // 2^(FRAC-1), or 0 when FRAC = 0 (nothing to round).
                let half = ((1 as $w) << FRAC) >> 1;
                (p + half) >> FRAC
            }

            /// The exact product floored: `(a*b) >> FRAC` (arithmetic shift).
            #[inline]
            const fn mul_floor_wide(a: $t, b: $t) -> $w {
                (a as $w * b as $w) >> FRAC
            }

            /// The value of `a / 0` in every family but `checked_`: `MAX`
            /// for a positive dividend, `MIN` for a negative one, zero for
            /// `0 / 0`.
            #[inline]
            #[allow(unused_comparisons, clippy::absurd_extreme_comparisons)]
            const fn div_by_zero(a: $t) -> $t {
                if a > 0 {
                    <$t>::MAX
                } else if a < 0 {
                    <$t>::MIN
                } else {
                    0
                }
            }

            /// `(a << FRAC) / b` truncated toward zero, for `b != 0`.
            /// `None` only when the quotient overflows `W` itself
            /// (`W::MIN / -1`, i.e. `MIN / -DELTA` with `FRAC = BITS`): a
            /// positive value beyond any storage.
            ///
            /// When the shifted dividend fits the storage, the division is
            /// done in `T`; otherwise, on 32-bit targets and for 32- and
            /// 64-bit storage, by two single-word divides (`divlu`), so
            /// `Q31 / Q31` does not call the 64-bit division routine on a
            /// Cortex-M with a hardware divider.
            #[inline]
            #[allow(unused_comparisons, clippy::absurd_extreme_comparisons)]
            const fn div_wide(a: $t, b: $t) -> Option<$w> {
                let num = (a as $w) << FRAC;
                if Self::fits(num) {
                    if let Some(q) = (num as $t).checked_div(b) {
                        return Some(q as $w);
                    }
                }
                if let Some(q) = $words(num, b as $w) {
                    return Some(q);
                }
                num.checked_div(b as $w)
            }

            /// Saturating addition.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MAX.saturating_add(F::DELTA), F::MAX);
            /// assert_eq!(F::ONE.saturating_add(F::ONE).to_f64(), 2.0);
            /// ```
            #[inline]
            #[must_use]
            pub const fn saturating_add(self, rhs: Self) -> Self {
                Self::from_bits(self.bits.saturating_add(rhs.bits))
            }
            /// Wrapping (modular) addition.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MAX.wrapping_add(F::DELTA), F::MIN);
            /// ```
            #[inline]
            #[must_use]
            pub const fn wrapping_add(self, rhs: Self) -> Self {
                Self::from_bits(self.bits.wrapping_add(rhs.bits))
            }
            /// Checked addition: `None` on overflow.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MAX.checked_add(F::DELTA), None);
            /// assert_eq!(F::ZERO.checked_add(F::DELTA), Some(F::DELTA));
            /// ```
            #[inline]
            #[must_use]
            pub const fn checked_add(self, rhs: Self) -> Option<Self> {
                match self.bits.checked_add(rhs.bits) {
                    Some(b) => Some(Self::from_bits(b)),
                    None => None,
                }
            }
            /// Wrapping addition and whether it overflowed.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MAX.overflowing_add(F::DELTA), (F::MIN, true));
            /// ```
            #[inline]
            #[must_use]
            pub const fn overflowing_add(self, rhs: Self) -> (Self, bool) {
                let (b, o) = self.bits.overflowing_add(rhs.bits);
                (Self::from_bits(b), o)
            }

            /// Saturating subtraction.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MIN.saturating_sub(F::DELTA), F::MIN);
            /// ```
            #[inline]
            #[must_use]
            pub const fn saturating_sub(self, rhs: Self) -> Self {
                Self::from_bits(self.bits.saturating_sub(rhs.bits))
            }
            /// Wrapping (modular) subtraction.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MIN.wrapping_sub(F::DELTA), F::MAX);
            /// ```
            #[inline]
            #[must_use]
            pub const fn wrapping_sub(self, rhs: Self) -> Self {
                Self::from_bits(self.bits.wrapping_sub(rhs.bits))
            }
            /// Checked subtraction: `None` on overflow.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MIN.checked_sub(F::DELTA), None);
            /// ```
            #[inline]
            #[must_use]
            pub const fn checked_sub(self, rhs: Self) -> Option<Self> {
                match self.bits.checked_sub(rhs.bits) {
                    Some(b) => Some(Self::from_bits(b)),
                    None => None,
                }
            }
            /// Wrapping subtraction and whether it overflowed.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MIN.overflowing_sub(F::DELTA), (F::MAX, true));
            /// ```
            #[inline]
            #[must_use]
            pub const fn overflowing_sub(self, rhs: Self) -> (Self, bool) {
                let (b, o) = self.bits.overflowing_sub(rhs.bits);
                (Self::from_bits(b), o)
            }

            /// Saturating multiplication, rounded to nearest with ties toward
            /// `+inf`: `(a*b + 2^(FRAC-1)) >> FRAC`, clamped. For `Q31` this
            /// is gemmlowp's `SaturatingRoundingDoublingHighMul`; for `Q15`
            /// NEON `VQRDMULH`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// // 1.5 * 0.0625 = 0.09375 = 1.5 LSB: the tie rounds up to 2 LSB.
            /// assert_eq!(F::from_bits(24).saturating_mul(F::DELTA), F::from_bits(2));
            /// assert_eq!(F::MAX.saturating_mul(F::MAX), F::MAX);
            /// ```
            #[inline]
            #[must_use]
            pub const fn saturating_mul(self, rhs: Self) -> Self {
                Self::from_bits(Self::saturate(Self::mul_round_wide(self.bits, rhs.bits)))
            }
            /// Wrapping multiplication: the rounded product
            /// `(a*b + 2^(FRAC-1)) >> FRAC` modulo `2^BITS`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::from_bits(24).wrapping_mul(F::DELTA), F::from_bits(2));
            /// ```
            #[inline]
            #[must_use]
            pub const fn wrapping_mul(self, rhs: Self) -> Self {
                Self::from_bits(Self::mul_round_wide(self.bits, rhs.bits) as $t)
            }
            /// Checked multiplication (rounded as `saturating_mul`): `None`
            /// if the rounded product does not fit.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MAX.checked_mul(F::MAX), None);
            /// assert_eq!(F::ONE.checked_mul(F::MAX), Some(F::MAX));
            /// ```
            #[inline]
            #[must_use]
            pub const fn checked_mul(self, rhs: Self) -> Option<Self> {
                let w = Self::mul_round_wide(self.bits, rhs.bits);
                if Self::fits(w) {
                    Some(Self::from_bits(w as $t))
                } else {
                    None
                }
            }
            /// Wrapping multiplication (rounded as `saturating_mul`) and
            /// whether it overflowed.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::ONE.overflowing_mul(F::MAX), (F::MAX, false));
            /// assert!(F::MAX.overflowing_mul(F::MAX).1);
            /// ```
            #[inline]
            #[must_use]
            pub const fn overflowing_mul(self, rhs: Self) -> (Self, bool) {
                let w = Self::mul_round_wide(self.bits, rhs.bits);
                (Self::from_bits(w as $t), !Self::fits(w))
            }

            /// Saturating multiplication truncated toward `-inf`:
            /// `(a*b) >> FRAC`, clamped. For `Q15` this is CMSIS-DSP
            /// `arm_mult_q15`; CMSIS-DSP's `arm_mult_q31` is this result for
            /// `Q31` with its last bit cleared (it shifts by 32, saturates to
            /// 31 bits and shifts back).
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// // 1.5 LSB floors to 1 LSB (the rounding `*` gives 2).
            /// assert_eq!(F::from_bits(24).saturating_mul_floor(F::DELTA), F::from_bits(1));
            /// ```
            #[inline]
            #[must_use]
            pub const fn saturating_mul_floor(self, rhs: Self) -> Self {
                Self::from_bits(Self::saturate(Self::mul_floor_wide(self.bits, rhs.bits)))
            }
            /// Wrapping multiplication truncated toward `-inf`: `(a*b) >>
            /// FRAC` modulo `2^BITS`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::from_bits(24).wrapping_mul_floor(F::DELTA), F::from_bits(1));
            /// ```
            #[inline]
            #[must_use]
            pub const fn wrapping_mul_floor(self, rhs: Self) -> Self {
                Self::from_bits(Self::mul_floor_wide(self.bits, rhs.bits) as $t)
            }
            /// Checked multiplication truncated toward `-inf`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MAX.checked_mul_floor(F::MAX), None);
            /// assert_eq!(F::from_bits(24).checked_mul_floor(F::DELTA), Some(F::DELTA));
            /// ```
            #[inline]
            #[must_use]
            pub const fn checked_mul_floor(self, rhs: Self) -> Option<Self> {
                let w = Self::mul_floor_wide(self.bits, rhs.bits);
                if Self::fits(w) {
                    Some(Self::from_bits(w as $t))
                } else {
                    None
                }
            }
            /// Wrapping multiplication truncated toward `-inf`, and whether
            /// it overflowed.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::from_bits(24).overflowing_mul_floor(F::DELTA), (F::DELTA, false));
            /// ```
            #[inline]
            #[must_use]
            pub const fn overflowing_mul_floor(self, rhs: Self) -> (Self, bool) {
                let w = Self::mul_floor_wide(self.bits, rhs.bits);
                (Self::from_bits(w as $t), !Self::fits(w))
            }

            /// Saturating division: `(a << FRAC) / b` truncated toward zero,
            /// clamped. Division by zero does not panic: it gives `MAX` for
            /// `a > 0`, `MIN` for `a < 0` and zero for `0 / 0`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::ONE.saturating_div(F::from_bits(48)), F::from_bits(5)); // 1/3 -> 5/16
            /// assert_eq!(F::ONE.saturating_div(F::ZERO), F::MAX);
            /// assert_eq!(F::MAX.saturating_div(F::DELTA), F::MAX);
            /// ```
            #[inline]
            #[must_use]
            pub const fn saturating_div(self, rhs: Self) -> Self {
                if rhs.bits == 0 {
                    return Self::from_bits(Self::div_by_zero(self.bits));
                }
                match Self::div_wide(self.bits, rhs.bits) {
                    Some(q) => Self::from_bits(Self::saturate(q)),
                    None => Self::MAX,
                }
            }
            /// Wrapping division: `(a << FRAC) / b` truncated toward zero,
            /// modulo `2^BITS`. Division by zero gives what
            /// [`saturating_div`](Self::saturating_div) gives.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::ONE.wrapping_div(F::from_bits(48)), F::from_bits(5));
            /// assert_eq!(F::ONE.wrapping_div(F::ZERO), F::MAX);
            /// ```
            #[inline]
            #[must_use]
            pub const fn wrapping_div(self, rhs: Self) -> Self {
                if rhs.bits == 0 {
                    return Self::from_bits(Self::div_by_zero(self.bits));
                }
                match Self::div_wide(self.bits, rhs.bits) {
                    Some(q) => Self::from_bits(q as $t),
                    // The exact quotient is 2^(bits of W - 1): its low bits are 0.
                    None => Self::ZERO,
                }
            }
            /// Checked division: `None` on division by zero or overflow.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::ONE.checked_div(F::ZERO), None);
            /// assert_eq!(F::ONE.checked_div(F::ONE), Some(F::ONE));
            /// ```
            #[inline]
            #[must_use]
            pub const fn checked_div(self, rhs: Self) -> Option<Self> {
                if rhs.bits == 0 {
                    return None;
                }
                match Self::div_wide(self.bits, rhs.bits) {
                    Some(q) if Self::fits(q) => Some(Self::from_bits(q as $t)),
                    _ => None,
                }
            }
            /// Wrapping division and whether it overflowed. Division by zero
            /// gives `(saturating_div(a, 0), true)`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::ONE.overflowing_div(F::ZERO), (F::MAX, true));
            /// assert_eq!(F::ONE.overflowing_div(F::ONE), (F::ONE, false));
            /// ```
            #[inline]
            #[must_use]
            pub const fn overflowing_div(self, rhs: Self) -> (Self, bool) {
                if rhs.bits == 0 {
                    return (Self::from_bits(Self::div_by_zero(self.bits)), true);
                }
                match Self::div_wide(self.bits, rhs.bits) {
                    Some(q) => (Self::from_bits(q as $t), !Self::fits(q)),
                    None => (Self::ZERO, true),
                }
            }
        }

        impl<const FRAC: u32> Add for Fixed<$t, FRAC> {
            type Output = Self;
            /// Saturating addition.
            #[inline]
            fn add(self, rhs: Self) -> Self {
                self.saturating_add(rhs)
            }
        }
        impl<const FRAC: u32> Sub for Fixed<$t, FRAC> {
            type Output = Self;
            /// Saturating subtraction.
            #[inline]
            fn sub(self, rhs: Self) -> Self {
                self.saturating_sub(rhs)
            }
        }
        impl<const FRAC: u32> Mul for Fixed<$t, FRAC> {
            type Output = Self;
            /// Saturating multiplication, rounded to nearest, ties toward `+inf`.
            #[inline]
            fn mul(self, rhs: Self) -> Self {
                self.saturating_mul(rhs)
            }
        }
        impl<const FRAC: u32> Div for Fixed<$t, FRAC> {
            type Output = Self;
            /// Saturating division, truncated toward zero; never panics.
            #[inline]
            fn div(self, rhs: Self) -> Self {
                self.saturating_div(rhs)
            }
        }
        impl<const FRAC: u32> Neg for Fixed<$t, FRAC> {
            type Output = Self;
            /// Saturating negation.
            #[inline]
            fn neg(self) -> Self {
                self.saturating_neg()
            }
        }
        impl<const FRAC: u32> AddAssign for Fixed<$t, FRAC> {
            #[inline]
            fn add_assign(&mut self, rhs: Self) {
                *self = self.saturating_add(rhs);
            }
        }
        impl<const FRAC: u32> SubAssign for Fixed<$t, FRAC> {
            #[inline]
            fn sub_assign(&mut self, rhs: Self) {
                *self = self.saturating_sub(rhs);
            }
        }
        impl<const FRAC: u32> MulAssign for Fixed<$t, FRAC> {
            #[inline]
            fn mul_assign(&mut self, rhs: Self) {
                *self = self.saturating_mul(rhs);
            }
        }
        impl<const FRAC: u32> DivAssign for Fixed<$t, FRAC> {
            #[inline]
            fn div_assign(&mut self, rhs: Self) {
                *self = self.saturating_div(rhs);
            }
        }
    };
}

/// Negation and absolute value of signed storage.
macro_rules! neg_abs_signed {
    ($t:ident) => {
        impl<const FRAC: u32> Fixed<$t, FRAC> {
            /// Saturating negation: `-MIN` gives `MAX`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MIN.saturating_neg(), F::MAX);
            /// assert_eq!((-F::ONE).to_f64(), -1.0);
            /// ```
            #[inline]
            #[must_use]
            pub const fn saturating_neg(self) -> Self {
                Self::from_bits(self.bits.saturating_neg())
            }
            /// Wrapping negation: `-MIN` gives `MIN`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MIN.wrapping_neg(), F::MIN);
            /// ```
            #[inline]
            #[must_use]
            pub const fn wrapping_neg(self) -> Self {
                Self::from_bits(self.bits.wrapping_neg())
            }
            /// Checked negation: `None` for `MIN`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MIN.checked_neg(), None);
            /// assert_eq!(F::MAX.checked_neg(), Some(F::MIN + F::DELTA));
            /// ```
            #[inline]
            #[must_use]
            pub const fn checked_neg(self) -> Option<Self> {
                match self.bits.checked_neg() {
                    Some(b) => Some(Self::from_bits(b)),
                    None => None,
                }
            }
            /// Wrapping negation and whether it overflowed.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MIN.overflowing_neg(), (F::MIN, true));
            /// ```
            #[inline]
            #[must_use]
            pub const fn overflowing_neg(self) -> (Self, bool) {
                let (b, o) = self.bits.overflowing_neg();
                (Self::from_bits(b), o)
            }
            /// Saturating absolute value: `|MIN|` gives `MAX`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MIN.saturating_abs(), F::MAX);
            /// assert_eq!((-F::ONE).saturating_abs(), F::ONE);
            /// ```
            #[inline]
            #[must_use]
            pub const fn saturating_abs(self) -> Self {
                Self::from_bits(self.bits.saturating_abs())
            }
            /// Wrapping absolute value: `|MIN|` gives `MIN`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MIN.wrapping_abs(), F::MIN);
            /// ```
            #[inline]
            #[must_use]
            pub const fn wrapping_abs(self) -> Self {
                Self::from_bits(self.bits.wrapping_abs())
            }
            /// Checked absolute value: `None` for `MIN`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MIN.checked_abs(), None);
            /// ```
            #[inline]
            #[must_use]
            pub const fn checked_abs(self) -> Option<Self> {
                match self.bits.checked_abs() {
                    Some(b) => Some(Self::from_bits(b)),
                    None => None,
                }
            }
            /// Wrapping absolute value and whether it overflowed.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MIN.overflowing_abs(), (F::MIN, true));
            /// ```
            #[inline]
            #[must_use]
            pub const fn overflowing_abs(self) -> (Self, bool) {
                let (b, o) = self.bits.overflowing_abs();
                (Self::from_bits(b), o)
            }
        }
    };
}

/// Negation and absolute value of unsigned storage: only zero negates
/// exactly; `abs` is the identity.
macro_rules! neg_abs_unsigned {
    ($t:ident) => {
        impl<const FRAC: u32> Fixed<$t, FRAC> {
            /// Saturating negation: always zero (the nearest representable
            /// value to `-x` for `x >= 0`).
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::ONE.saturating_neg(), F::ZERO);
            /// assert_eq!(-F::MAX, F::ZERO);
            /// ```
            #[inline]
            #[must_use]
            pub const fn saturating_neg(self) -> Self {
                Self::ZERO
            }
            /// Wrapping negation: `2^BITS - bits`, modulo `2^BITS`.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::DELTA.wrapping_neg(), F::MAX);
            /// ```
            #[inline]
            #[must_use]
            pub const fn wrapping_neg(self) -> Self {
                Self::from_bits(self.bits.wrapping_neg())
            }
            /// Checked negation: `Some` only for zero.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::ZERO.checked_neg(), Some(F::ZERO));
            /// assert_eq!(F::DELTA.checked_neg(), None);
            /// ```
            #[inline]
            #[must_use]
            pub const fn checked_neg(self) -> Option<Self> {
                match self.bits.checked_neg() {
                    Some(b) => Some(Self::from_bits(b)),
                    None => None,
                }
            }
            /// Wrapping negation and whether it overflowed (every nonzero
            /// value does).
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::DELTA.overflowing_neg(), (F::MAX, true));
            /// ```
            #[inline]
            #[must_use]
            pub const fn overflowing_neg(self) -> (Self, bool) {
                let (b, o) = self.bits.overflowing_neg();
                (Self::from_bits(b), o)
            }
            /// Absolute value: the identity for unsigned storage.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MAX.saturating_abs(), F::MAX);
            /// ```
            #[inline]
            #[must_use]
            pub const fn saturating_abs(self) -> Self {
                self
            }
            /// Absolute value: the identity for unsigned storage.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MAX.wrapping_abs(), F::MAX);
            /// ```
            #[inline]
            #[must_use]
            pub const fn wrapping_abs(self) -> Self {
                self
            }
            /// Absolute value: always `Some(self)` for unsigned storage.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MAX.checked_abs(), Some(F::MAX));
            /// ```
            #[inline]
            #[must_use]
            pub const fn checked_abs(self) -> Option<Self> {
                Some(self)
            }
            /// Absolute value: always `(self, false)` for unsigned storage.
            ///
            /// ```
            #[doc = concat!("type F = qkit::fixed::Fixed<", stringify!($t), ", 4>;")]
            /// assert_eq!(F::MAX.overflowing_abs(), (F::MAX, false));
            /// ```
            #[inline]
            #[must_use]
            pub const fn overflowing_abs(self) -> (Self, bool) {
                (self, false)
            }
        }
    };
}

arith!(i8, i32, div_i32_native);
arith!(i16, i32, div_i32_native);
arith!(i32, i64, div_i64_on_target);
arith!(i64, i128, div_i128_on_target);
arith!(u8, u32, div_u32_native);
arith!(u16, u32, div_u32_native);
arith!(u32, u64, div_u64_on_target);
arith!(u64, u128, div_u128_on_target);
neg_abs_signed!(i8);
neg_abs_signed!(i16);
neg_abs_signed!(i32);
neg_abs_signed!(i64);
neg_abs_unsigned!(u8);
neg_abs_unsigned!(u16);
neg_abs_unsigned!(u32);
neg_abs_unsigned!(u64);

#[cfg(test)]
mod tests {
    use super::{
        div_i64_by_words, div_i128_by_words, div_u64_by_words, div_u128_by_words, divlu_u32,
        divlu_u64,
    };

    /// The word-division paths (used on 32-bit targets) against native
    /// division, with signs, on the operand shapes `div_wide` produces:
    /// `(a << FRAC, b)`.
    #[test]
    fn div_by_words_matches_native() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..100_000u32 {
            let (a, b) = (next() as i32 >> (i % 32), (next() as i32 >> (i % 31)));
            let num = (a as i64) << (i % 33);
            if b != 0 {
                // Some(exact quotient) exactly when its magnitude fits a word.
                let want = num
                    .checked_div(b as i64)
                    .filter(|q| q.unsigned_abs() <= u32::MAX as u64);
                assert_eq!(div_i64_by_words(num, b as i64), want, "{num} / {b}");
                let (ua, ub) = (a as u32, b as u32);
                let unum = (ua as u64) << (i % 33);
                let want = (unum / ub as u64 <= u32::MAX as u64).then(|| unum / ub as u64);
                assert_eq!(div_u64_by_words(unum, ub as u64), want, "{unum} / {ub}");
            }
            let (a, b) = (next() as i64 >> (i % 64), next() as i64 >> (i % 63));
            let num = (a as i128) << (i % 65);
            if b != 0 {
                let want = num
                    .checked_div(b as i128)
                    .filter(|q| q.unsigned_abs() <= u64::MAX as u128);
                assert_eq!(div_i128_by_words(num, b as i128), want, "{num} / {b}");
                let (ua, ub) = (a as u64, b as u64);
                let unum = (ua as u128) << (i % 65);
                let want = (unum / ub as u128 <= u64::MAX as u128).then(|| unum / ub as u128);
                assert_eq!(div_u128_by_words(unum, ub as u128), want, "{unum} / {ub}");
            }
        }
        assert_eq!(div_i64_by_words(i64::MIN, -1), None);
        assert_eq!(div_i64_by_words(-(1 << 62), 1 << 31), Some(-(1 << 31)));
        assert_eq!(div_i128_by_words(i128::MIN, -1), None);
    }

    /// `divlu` against the native double-width division, on random and
    /// edge operands (normalization shifts 0..=31, correction steps).
    #[test]
    fn divlu_matches_wide_division() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..200_000u32 {
            let r = next();
            // A divisor with a random number of leading zeros.
            let v = ((r as u32) >> (i % 32)).max(1);
            let u1 = ((r >> 32) as u32) % v;
            let u0 = next() as u32;
            let n = (u64::from(u1) << 32) | u64::from(u0);
            assert_eq!(
                u64::from(divlu_u32(u1, u0, v)),
                n / u64::from(v),
                "{u1} {u0} {v}"
            );

            let v = (next() >> (i % 64)).max(1);
            let u1 = next() % v;
            let u0 = next();
            let n = (u128::from(u1) << 64) | u128::from(u0);
            assert_eq!(
                u128::from(divlu_u64(u1, u0, v)),
                n / u128::from(v),
                "{u1} {u0} {v}"
            );
        }
        for (u1, u0, v) in [
            (0, 0, 1),
            (0, u32::MAX, 1),
            (u32::MAX - 1, u32::MAX, u32::MAX),
            (0x7FFF_FFFF, u32::MAX, 0x8000_0000),
            (1, 0, 2),
        ] {
            let n = (u64::from(u1) << 32) | u64::from(u0);
            assert_eq!(u64::from(divlu_u32(u1, u0, v)), n / u64::from(v));
        }
    }
}
