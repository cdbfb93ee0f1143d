//! Property tests of `qkit::fixed` against exact references.
//!
//! Every arithmetic result is computed exactly as a sign and a `u128`
//! magnitude (wide enough for every product and shifted dividend of 64-bit
//! storage), rounded with explicit division formulas, and then narrowed in
//! the four ways the families narrow. Every storage type is tested at three
//! or more `FRAC` values, on random operands and on the edges (0, ±1 LSB,
//! MIN, MAX, 0.5, 1, 1.5 and exact ties).

use half::{bf16, f16};
use proptest::prelude::*;
use qkit::Error;
use qkit::fixed::Fixed;

const CASES: u32 = 160;

/// An exact integer as sign and magnitude: `|x| <= 2^128 - 1` covers every
/// exact result the tests need.
#[derive(Clone, Copy, Debug)]
struct Big {
    neg: bool,
    mag: u128,
}

impl Big {
    fn from_i128(v: i128) -> Big {
        Big {
            neg: v < 0,
            mag: v.unsigned_abs(),
        }
    }
    fn new(neg: bool, mag: u128) -> Big {
        Big {
            neg: neg && mag != 0,
            mag,
        }
    }
}

/// The storage range of a format.
#[derive(Clone, Copy, Debug)]
struct Info {
    min: i128,
    max: i128,
    bits: u32,
    frac: u32,
}

impl Info {
    fn fits(self, x: Big) -> bool {
        if x.neg {
            x.mag <= self.min.unsigned_abs()
        } else {
            x.mag <= self.max as u128
        }
    }
    fn saturate(self, x: Big) -> i128 {
        if !self.fits(x) {
            if x.neg { self.min } else { self.max }
        } else if x.neg {
            -(x.mag as i128)
        } else {
            x.mag as i128
        }
    }
    /// `x` modulo `2^bits`, as a value in the storage range.
    fn wrap(self, x: Big) -> i128 {
        let m = 1u128 << self.bits; // bits <= 64
        let r = x.mag % m;
        let r = if x.neg { (m - r) % m } else { r };
        let r = r as i128;
        if r > self.max { r - m as i128 } else { r }
    }
}

/// The product `a*b + add` floored by `2^frac`, where `add` is `2^(frac-1)`
/// (round to nearest, ties up) or 0 (floor).
fn ref_mul(a: i128, b: i128, frac: u32, round: bool) -> Big {
    let neg = (a < 0) != (b < 0);
    let m = a.unsigned_abs() * b.unsigned_abs();
    let h: u128 = if round && frac > 0 {
        1 << (frac - 1)
    } else {
        0
    };
    let d: u128 = 1 << frac;
    if !neg {
        Big::new(false, (m + h) / d)
    } else if m <= h {
        // -m + h >= 0 and below 2^frac: floors to 0.
        Big::new(false, (h - m) / d)
    } else {
        // floor(-(m - h) / d) = -ceil((m - h) / d)
        Big::new(true, (m - h).div_ceil(d))
    }
}

/// `(a * 2^frac) / b` truncated toward zero, `b != 0`.
fn ref_div(a: i128, b: i128, frac: u32) -> Big {
    let num = a.unsigned_abs() * (1u128 << frac);
    Big::new((a < 0) != (b < 0), num / b.unsigned_abs())
}

/// Checks the four narrowings of an exact result.
fn check_family(
    info: Info,
    exact: Big,
    sat: i128,
    wrap: i128,
    checked: Option<i128>,
    over: (i128, bool),
) -> Result<(), TestCaseError> {
    prop_assert_eq!(sat, info.saturate(exact), "saturating, exact {:?}", exact);
    prop_assert_eq!(wrap, info.wrap(exact), "wrapping, exact {:?}", exact);
    let fits = info.fits(exact);
    prop_assert_eq!(checked, fits.then(|| info.saturate(exact)), "checked");
    prop_assert_eq!(over, (info.wrap(exact), !fits), "overflowing");
    Ok(())
}

/// Nearest value of `v / 2^frac` at `prec` significant bits with ties to
/// even, subnormals below `2^min_exp`, as an exact `f64`.
fn ref_float(v: i128, frac: u32, prec: i32, min_exp: i32) -> f64 {
    if v == 0 {
        return 0.0;
    }
    let m = v.unsigned_abs();
    let n = 128 - m.leading_zeros() as i32; // 2^(n-1) <= m < 2^n
    let e = n - 1 - frac as i32; // exponent of the leading bit
    let q = (e - (prec - 1)).max(min_exp - (prec - 1)); // quantum exponent
    let s = q + frac as i32; // drop s bits of m
    let r = if s <= 0 {
        m
    } else {
        let s = s as u32;
        let lo = m & ((1u128 << s) - 1);
        let hi = m >> s;
        let half = 1u128 << (s - 1);
        if lo > half || (lo == half && hi & 1 == 1) {
            hi + 1
        } else {
            hi
        }
    };
    let shift = if s <= 0 { -(frac as i32) } else { q };
    let x = r as f64 * 2f64.powi(shift);
    if v < 0 { -x } else { x }
}

fn ref_f16(v: i128, frac: u32) -> f16 {
    let x = ref_float(v, frac, 11, -14);
    // 65520 and above round to infinity.
    if x.abs() >= 65520.0 {
        return if x < 0.0 {
            f16::NEG_INFINITY
        } else {
            f16::INFINITY
        };
    }
    f16::from_f64(x) // exact: x already has at most 11 significant bits
}

fn ref_bf16(v: i128, frac: u32) -> bf16 {
    bf16::from_f64(ref_float(v, frac, 8, -126))
}

/// The nearest integer multiple of `2^-frac` to `x` (ties to even), as bits.
fn ref_from_f64(x: f64, frac: u32) -> Option<i128> {
    if x.is_nan() {
        return None;
    }
    let r = (x * 2f64.powi(frac as i32)).round_ties_even();
    if r.abs() > 1e38 {
        return Some(if r > 0.0 { i128::MAX } else { i128::MIN });
    }
    Some(r as i128)
}

/// `v / 2^s` rounded to nearest, ties to even, by Euclidean division.
fn ref_round_even(v: i128, s: u32) -> i128 {
    let d = 1i128 << s;
    let q = v.div_euclid(d);
    let r = v.rem_euclid(d);
    match (2 * r).cmp(&d) {
        core::cmp::Ordering::Greater => q + 1,
        core::cmp::Ordering::Equal if q.rem_euclid(2) == 1 => q + 1,
        _ => q,
    }
}

/// `v * 2^(g - f)`, rounded to nearest even when `g < f`; `None` when it
/// exceeds the i128 range.
fn ref_rescale(v: i128, f: u32, g: u32) -> Option<i128> {
    if g >= f {
        v.checked_mul(1i128 << (g - f))
    } else {
        Some(ref_round_even(v, f - g))
    }
}

macro_rules! target_check {
    ($x:expr, $v:expr, $f:expr, $u:ident, $g:expr) => {{
        let info = Info {
            min: $u::MIN as i128,
            max: $u::MAX as i128,
            bits: $u::BITS,
            frac: $g,
        };
        let got: Fixed<$u, $g> = $x.convert::<$u, $g>();
        let checked = $x.checked_convert::<$u, $g>().map(|y| y.to_bits() as i128);
        match ref_rescale($v, $f, $g) {
            Some(r) => {
                prop_assert_eq!(got.to_bits() as i128, r.clamp(info.min, info.max));
                prop_assert_eq!(checked, (r >= info.min && r <= info.max).then_some(r));
            }
            None => {
                prop_assert_eq!(
                    got.to_bits() as i128,
                    if $v > 0 { info.max } else { info.min }
                );
                prop_assert_eq!(checked, None);
            }
        }
        let _ = info.frac;
    }};
}

macro_rules! props {
    ($name:ident, $t:ident, $f:expr) => {
        mod $name {
            use super::*;
            type F = Fixed<$t, $f>;
            const FRAC: u32 = $f;
            const INFO: Info = Info {
                min: $t::MIN as i128,
                max: $t::MAX as i128,
                bits: $t::BITS,
                frac: FRAC,
            };

            /// Random bits, or an edge value.
            fn operand() -> impl Strategy<Value = $t> {
                let one = 1i128 << FRAC;
                let half = one >> 1;
                let edges: Vec<$t> = [
                    0,
                    1,
                    -1,
                    2,
                    -2,
                    INFO.min,
                    INFO.min + 1,
                    INFO.max,
                    INFO.max - 1,
                    half,
                    -half,
                    half + 1,
                    one,
                    -one,
                    one + half,
                    -(one + half),
                    3 * half,
                    one - 1,
                ]
                .iter()
                .filter(|&&e| (INFO.min..=INFO.max).contains(&e))
                .map(|&e| e as $t)
                .collect();
                prop_oneof![3 => any::<$t>(), 2 => proptest::sample::select(edges)]
            }

            fn fx(b: $t) -> F {
                F::from_bits(b)
            }
            fn bits(x: F) -> i128 {
                x.to_bits() as i128
            }
            fn obits(x: Option<F>) -> Option<i128> {
                x.map(bits)
            }
            fn pbits(x: (F, bool)) -> (i128, bool) {
                (bits(x.0), x.1)
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(CASES))]

                #[test]
                fn add_sub(a in operand(), b in operand()) {
                    let (x, y) = (fx(a), fx(b));
                    let sum = Big::from_i128(a as i128 + b as i128);
                    check_family(INFO, sum, bits(x.saturating_add(y)), bits(x.wrapping_add(y)),
                        obits(x.checked_add(y)), pbits(x.overflowing_add(y)))?;
                    prop_assert_eq!(x + y, x.saturating_add(y));
                    let diff = Big::from_i128(a as i128 - b as i128);
                    check_family(INFO, diff, bits(x.saturating_sub(y)), bits(x.wrapping_sub(y)),
                        obits(x.checked_sub(y)), pbits(x.overflowing_sub(y)))?;
                    prop_assert_eq!(x - y, x.saturating_sub(y));
                    let (mut s, mut d) = (x, x);
                    s += y;
                    d -= y;
                    prop_assert_eq!((s, d), (x + y, x - y));
                }

                #[test]
                fn mul(a in operand(), b in operand()) {
                    let (x, y) = (fx(a), fx(b));
                    let p = ref_mul(a as i128, b as i128, FRAC, true);
                    check_family(INFO, p, bits(x.saturating_mul(y)), bits(x.wrapping_mul(y)),
                        obits(x.checked_mul(y)), pbits(x.overflowing_mul(y)))?;
                    prop_assert_eq!(x * y, x.saturating_mul(y));
                    let mut m = x;
                    m *= y;
                    prop_assert_eq!(m, x * y);
                    let p = ref_mul(a as i128, b as i128, FRAC, false);
                    check_family(INFO, p, bits(x.saturating_mul_floor(y)),
                        bits(x.wrapping_mul_floor(y)), obits(x.checked_mul_floor(y)),
                        pbits(x.overflowing_mul_floor(y)))?;
                }

                #[test]
                fn div(a in operand(), b in operand()) {
                    let (x, y) = (fx(a), fx(b));
                    if b == 0 {
                        let z = if a > 0 { INFO.max } else if (a as i128) < 0 { INFO.min } else { 0 };
                        prop_assert_eq!(bits(x.saturating_div(y)), z);
                        prop_assert_eq!(bits(x.wrapping_div(y)), z);
                        prop_assert_eq!(x.checked_div(y), None);
                        prop_assert_eq!(pbits(x.overflowing_div(y)), (z, true));
                    } else {
                        let q = ref_div(a as i128, b as i128, FRAC);
                        check_family(INFO, q, bits(x.saturating_div(y)), bits(x.wrapping_div(y)),
                            obits(x.checked_div(y)), pbits(x.overflowing_div(y)))?;
                    }
                    prop_assert_eq!(x / y, x.saturating_div(y));
                    let mut d = x;
                    d /= y;
                    prop_assert_eq!(d, x / y);
                }

                #[test]
                fn neg_abs(a in operand()) {
                    let x = fx(a);
                    let n = Big::from_i128(-(a as i128));
                    check_family(INFO, n, bits(x.saturating_neg()), bits(x.wrapping_neg()),
                        obits(x.checked_neg()), pbits(x.overflowing_neg()))?;
                    prop_assert_eq!(-x, x.saturating_neg());
                    let m = Big::from_i128((a as i128).abs());
                    check_family(INFO, m, bits(x.saturating_abs()), bits(x.wrapping_abs()),
                        obits(x.checked_abs()), pbits(x.overflowing_abs()))?;
                }

                #[test]
                fn floats(a in operand(), xf in any::<f64>(), xs in -4.0f64..4.0) {
                    let x = fx(a);
                    let v = a as i128;
                    let scale = 2f64.powi(FRAC as i32);
                    prop_assert_eq!(x.to_f64(), v as f64 / scale);
                    prop_assert_eq!(x.to_f32(), v as f32 / scale as f32);
                    prop_assert_eq!(x.to_f16(), ref_f16(v, FRAC));
                    prop_assert_eq!(x.to_bf16(), ref_bf16(v, FRAC));
                    // Round trip through f64 (and f32) where it is exact.
                    if $t::BITS <= 32 {
                        prop_assert_eq!(F::from_f64(x.to_f64()), x);
                        prop_assert_eq!(F::try_from(x.to_f64()), Ok(x));
                    }
                    if $t::BITS <= 16 {
                        prop_assert_eq!(F::try_from(x.to_f32()), Ok(x));
                    }
                    let tie = (v as f64 + 0.5) / scale; // exact for BITS <= 32
                    let near_int = (xs * 2f64.powi($t::BITS as i32 - 3)).round() / scale;
                    for y in [xf, xs, tie, near_int, xf * scale, -xf / scale] {
                        let got = F::from_f64(y);
                        match ref_from_f64(y, FRAC) {
                            None => {
                                prop_assert_eq!(got, F::ZERO);
                                prop_assert_eq!(F::checked_from_f64(y), Err(Error::NaN));
                            }
                            Some(r) => {
                                prop_assert_eq!(bits(got), r.clamp(INFO.min, INFO.max));
                                let c = F::checked_from_f64(y).map(bits);
                                if (INFO.min..=INFO.max).contains(&r) {
                                    prop_assert_eq!(c, Ok(r));
                                } else {
                                    prop_assert_eq!(c, Err(Error::Overflow));
                                }
                            }
                        }
                        // TryFrom is the checked conversion of the exactly widened value.
                        prop_assert_eq!(F::try_from(y), F::checked_from_f64(y));
                        let y32 = y as f32;
                        prop_assert_eq!(F::try_from(y32), F::checked_from_f64(y32 as f64));
                        let (h, b) = (f16::from_f64(y), bf16::from_f64(y));
                        prop_assert_eq!(F::try_from(h), F::checked_from_f64(h.to_f64()));
                        prop_assert_eq!(F::try_from(b), F::checked_from_f64(b.to_f64()));
                        prop_assert_eq!(F::from_f32(y32), F::from_f64(y32 as f64));
                        prop_assert_eq!(F::from_f16(f16::from_f64(y)), F::from_f64(f16::from_f64(y).to_f64()));
                        prop_assert_eq!(F::from_bf16(bf16::from_f64(y)), F::from_f64(bf16::from_f64(y).to_f64()));
                    }
                }

                #[test]
                fn ints(a in operand(), n in any::<i128>(), m in -300i128..300) {
                    let x = fx(a);
                    let v = a as i128;
                    let d = 1i128 << FRAC;
                    prop_assert_eq!(x.to_int_floor() as i128, v.div_euclid(d));
                    prop_assert_eq!(x.to_int_trunc() as i128, v / d);
                    prop_assert_eq!(x.to_int_round() as i128, ref_round_even(v, FRAC));
                    for k in [n, m, n >> 70, n >> 100] {
                        let exact = k.checked_mul(d);
                        let inr = exact.filter(|e| *e >= INFO.min && *e <= INFO.max);
                        prop_assert_eq!(F::checked_from_int(k).map(bits), inr);
                        let sat = match exact {
                            Some(e) => e.clamp(INFO.min, INFO.max),
                            None => if k > 0 { INFO.max } else { INFO.min },
                        };
                        prop_assert_eq!(bits(F::saturating_from_int(k)), sat);
                    }
                }

                #[test]
                fn between_formats(a in operand()) {
                    let x = fx(a);
                    let v = a as i128;
                    target_check!(x, v, FRAC, i8, 7);
                    target_check!(x, v, FRAC, i16, 8);
                    target_check!(x, v, FRAC, u16, 16);
                    target_check!(x, v, FRAC, i32, 31);
                    target_check!(x, v, FRAC, u32, 0);
                    target_check!(x, v, FRAC, i64, 40);
                    target_check!(x, v, FRAC, u64, 64);
                    if $t::BITS <= 32 {
                        // Equals from_f64(to_f64()) when to_f64 is exact.
                        prop_assert_eq!(x.convert::<i16, 8>(), Fixed::<i16, 8>::from_f64(x.to_f64()));
                    }
                }

                #[test]
                fn fmt_round_trip(a in operand()) {
                    let x = fx(a);
                    let s = x.to_string();
                    prop_assert_eq!(s.parse::<F>(), Ok(x), "{}", s);
                    prop_assert_eq!(format!("{x:?}"), s.clone());
                    // The exact decimal, where v * 5^FRAC fits a u128.
                    let v = a as i128;
                    if let Some(n) = 5u128.checked_pow(FRAC).and_then(|p| p.checked_mul(v.unsigned_abs())) {
                        prop_assert_eq!(s, ref_decimal(v < 0, n, FRAC));
                    }
                }

                #[test]
                fn parse_nearest(neg in any::<bool>(), int in 0u64..100_000, frac_digits in "[0-9]{0,12}") {
                    let s = format!("{}{}.{}", if neg { "-" } else { "" }, int, frac_digits);
                    let k = frac_digits.len() as u32;
                    // value = D / 10^k, D < 10^17; nearest multiple of 2^-FRAC.
                    let dd: u128 = format!("{int}{frac_digits}").parse().unwrap();
                    let num = dd << FRAC; // < 2^57 * 2^64
                    let den = 10u128.pow(k);
                    let (q, r) = (num / den, num % den);
                    let mag = match (2 * r).cmp(&den) {
                        core::cmp::Ordering::Greater => q + 1,
                        core::cmp::Ordering::Equal if q & 1 == 1 => q + 1,
                        _ => q,
                    } as i128;
                    let want = if neg { -mag } else { mag };
                    let got = s.parse::<F>().map(bits);
                    if (INFO.min..=INFO.max).contains(&want) {
                        prop_assert_eq!(got, Ok(want), "{}", s);
                    } else {
                        prop_assert_eq!(got, Err(Error::Overflow), "{}", s);
                    }
                }

                #[test]
                fn parse_ties(a in operand()) {
                    // The midpoint (2a + 1) / 2^(FRAC + 1) rounds to the even neighbour.
                    let v = a as i128;
                    let m = 2 * v + 1;
                    if let Some(n) = 5u128.checked_pow(FRAC + 1).and_then(|p| p.checked_mul(m.unsigned_abs())) {
                        let s = ref_decimal(m < 0, n, FRAC + 1);
                        let even = if v & 1 == 0 { v } else { v + 1 };
                        let got = s.parse::<F>().map(bits);
                        if even <= INFO.max {
                            prop_assert_eq!(got, Ok(even), "{}", s);
                        } else {
                            prop_assert_eq!(got, Err(Error::Overflow), "{}", s);
                        }
                    }
                }
            }
        }
    };
}

/// `n / 10^frac` as the shortest exact decimal, with a sign.
fn ref_decimal(neg: bool, n: u128, frac: u32) -> String {
    let digits = format!("{:0>width$}", n, width = frac as usize + 1);
    let (int, f) = digits.split_at(digits.len() - frac as usize);
    let f = f.trim_end_matches('0');
    let sign = if neg && n != 0 { "-" } else { "" };
    if f.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{f}")
    }
}

props!(i8_f0, i8, 0);
props!(i8_f3, i8, 3);
props!(i8_f7, i8, 7);
props!(i8_f8, i8, 8);
props!(i16_f0, i16, 0);
props!(i16_f8, i16, 8);
props!(i16_f15, i16, 15);
props!(i16_f16, i16, 16);
props!(i32_f0, i32, 0);
props!(i32_f16, i32, 16);
props!(i32_f31, i32, 31);
props!(i32_f32, i32, 32);
props!(i64_f0, i64, 0);
props!(i64_f32, i64, 32);
props!(i64_f63, i64, 63);
props!(i64_f64, i64, 64);
props!(u8_f0, u8, 0);
props!(u8_f4, u8, 4);
props!(u8_f8, u8, 8);
props!(u16_f0, u16, 0);
props!(u16_f9, u16, 9);
props!(u16_f16, u16, 16);
props!(u32_f0, u32, 0);
props!(u32_f16, u32, 16);
props!(u32_f32, u32, 32);
props!(u64_f0, u64, 0);
props!(u64_f32, u64, 32);
props!(u64_f64, u64, 64);

/// gemmlowp `SaturatingRoundingDoublingHighMul` sample values
/// (SEMANTICS.md §2.1): Q31 `*` is SRDHM bit for bit.
#[test]
fn q31_mul_is_srdhm() {
    use qkit::Q31;
    let srdhm = |a: i32, b: i32| (Q31::from_bits(a) * Q31::from_bits(b)).to_bits();
    assert_eq!(srdhm(3 << 29, 2), 2); // exact +1.5 rounds up
    assert_eq!(srdhm(-3 << 29, 2), -1); // exact -1.5 rounds up (toward +inf)
    assert_eq!(srdhm(-1 << 29, 2), 0); // exact -0.5 rounds up
    assert_eq!(srdhm(i32::MIN, i32::MIN), i32::MAX);
    assert_eq!(srdhm(i32::MIN, i32::MAX), -i32::MAX);
    // gemmlowp's own definition, with its asymmetric nudge and truncating division.
    let gemmlowp = |a: i32, b: i32| -> i32 {
        if a == i32::MIN && b == i32::MIN {
            return i32::MAX;
        }
        let p = a as i64 * b as i64;
        let nudge = if p >= 0 { 1i64 << 30 } else { 1 - (1i64 << 30) };
        ((p + nudge) / (1i64 << 31)) as i32
    };
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (a, b) = ((x >> 32) as i32, x as i32);
        assert_eq!(srdhm(a, b), gemmlowp(a, b), "{a} {b}");
        let (a, b) = (a >> (x % 31), b);
        assert_eq!(srdhm(a, b), gemmlowp(a, b), "{a} {b}");
    }
}

/// Q15 `*` is NEON `VQRDMULH.S16`: `sat((2ab + 2^15) >> 16)`; exhaustively
/// over a strided grid including all edges. `saturating_mul_floor` is
/// CMSIS-DSP `arm_mult_q15`: `sat((a*b) >> 15)`.
#[test]
fn q15_mul_is_vqrdmulh_and_arm_mult_q15() {
    use qkit::Q15;
    let vqrdmulh = |a: i16, b: i16| -> i16 {
        // VQRDMULH saturates the doubled product (only MIN*MIN overflows).
        let p = (2 * a as i64 * b as i64).clamp(i32::MIN as i64, i32::MAX as i64) + (1 << 15);
        (p >> 16).clamp(i16::MIN as i64, i16::MAX as i64) as i16
    };
    let arm_mult_q15 = |a: i16, b: i16| -> i16 {
        ((a as i32 * b as i32) >> 15).clamp(i16::MIN as i32, i16::MAX as i32) as i16
    };
    let grid = (i16::MIN..=i16::MAX)
        .step_by(97)
        .chain([i16::MIN, -1, 0, 1, i16::MAX]);
    for a in grid.clone() {
        for b in grid.clone() {
            let (x, y) = (Q15::from_bits(a), Q15::from_bits(b));
            assert_eq!((x * y).to_bits(), vqrdmulh(a, b), "{a} {b}");
            assert_eq!(
                x.saturating_mul_floor(y).to_bits(),
                arm_mult_q15(a, b),
                "{a} {b}"
            );
        }
    }
}

/// CMSIS-DSP `arm_mult_q31` has had two code paths: the Cortex-M0 one of
/// older releases, `clip_q63_to_q31((a*b) >> 31)`, is exactly
/// `saturating_mul_floor`; the current one, `__SSAT((a*b) >> 32, 31) << 1`,
/// is the same with the last bit cleared (tests/fixed_golden.rs checks it
/// against the real library).
#[test]
fn q31_mul_floor_is_arm_mult_q31() {
    use qkit::Q31;
    let floor = |a: i32, b: i32| {
        Q31::from_bits(a)
            .saturating_mul_floor(Q31::from_bits(b))
            .to_bits()
    };
    let m0 = |a: i32, b: i32| {
        ((a as i64 * b as i64) >> 31).clamp(i32::MIN as i64, i32::MAX as i64) as i32
    };
    let dsp = |a: i32, b: i32| {
        (((a as i64 * b as i64) >> 32).clamp(-(1 << 30), (1 << 30) - 1) as i32) << 1
    };
    assert_eq!(floor(i32::MIN, i32::MIN), i32::MAX);
    assert_eq!(floor(-1, 1), -1); // floor, not truncation toward zero
    assert_eq!(floor(3 << 29, 2), 1);
    assert_eq!(floor(-3 << 29, 2), -2);
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for i in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let (a, b) = match i {
            0 => (i32::MIN, i32::MIN),
            1 => (i32::MIN, i32::MAX),
            2 => (i32::MAX, i32::MAX),
            _ => ((x >> 32) as i32, (x as i32) >> (x % 32)),
        };
        assert_eq!(floor(a, b), m0(a, b), "{a} {b}");
        assert_eq!(floor(a, b) & !1, dsp(a, b), "{a} {b}");
    }
}

/// Lossless `From`: every value of 8- and 16-bit sources, exactly.
#[test]
fn lossless_from() {
    use qkit::{Q7, Q15, Q31};
    for b in i8::MIN..=i8::MAX {
        let x = Fixed::<i8, 5>::from_bits(b);
        let v = x.to_f64();
        assert_eq!(Fixed::<i16, 5>::from(x).to_f64(), v);
        assert_eq!(Fixed::<i32, 5>::from(x).to_f64(), v);
        assert_eq!(Fixed::<i64, 5>::from(x).to_f64(), v);
        assert_eq!(f32::from(x) as f64, v);
        assert_eq!(f64::from(x), v);
        let q = Q7::from_bits(b);
        assert_eq!(Q15::from(q).to_f64(), q.to_f64());
        assert_eq!(Q31::from(q).to_f64(), q.to_f64());
        // Every 8-bit format is exact in f16 and bf16 (the `From` claim).
        assert_eq!(
            f16::from(Fixed::<i8, 8>::from_bits(b)).to_f64(),
            b as f64 / 256.0
        );
        assert_eq!(bf16::from(Fixed::<i8, 0>::from_bits(b)).to_f64(), b as f64);
        for f in 0..=8 {
            let v = b as f64 / (1u32 << f) as f64;
            assert_eq!(f16::from_f64(v).to_f64(), v);
            assert_eq!(bf16::from_f64(v).to_f64(), v);
        }
        assert_eq!(Q7::try_from(f16::from(q)), Ok(q));
        assert_eq!(Q7::try_from(bf16::from(q)), Ok(q));
    }
    for b in u8::MIN..=u8::MAX {
        let x = Fixed::<u8, 8>::from_bits(b);
        let v = x.to_f64();
        assert_eq!(f16::from(x).to_f64(), v);
        assert_eq!(bf16::from(Fixed::<u8, 0>::from_bits(b)).to_f64(), b as f64);
        assert_eq!(Fixed::<u8, 8>::try_from(bf16::from(x)), Ok(x));
        for w in [
            Fixed::<u16, 8>::from(x).to_f64(),
            Fixed::<u32, 8>::from(x).to_f64(),
            Fixed::<u64, 8>::from(x).to_f64(),
            Fixed::<i16, 8>::from(x).to_f64(),
            Fixed::<i32, 8>::from(x).to_f64(),
            Fixed::<i64, 8>::from(x).to_f64(),
        ] {
            assert_eq!(w, v);
        }
    }
    for b in i16::MIN..=i16::MAX {
        let q = Q15::from_bits(b);
        assert_eq!(Q31::from(q).to_f64(), q.to_f64());
        assert_eq!(f32::from(q) as f64, q.to_f64());
        // And back: the round trip Q15 -> f32 -> Q15 is the identity.
        assert_eq!(Q15::try_from(f32::from(q)), Ok(q));
        assert_eq!(Fixed::<i64, 15>::from(q).to_f64(), q.to_f64());
    }
    for b in (0..=u16::MAX).step_by(7) {
        let x = Fixed::<u16, 3>::from_bits(b);
        assert_eq!(Fixed::<i32, 3>::from(x).to_f64(), x.to_f64());
        assert_eq!(Fixed::<u64, 3>::from(x).to_f64(), x.to_f64());
    }
    let x = Fixed::<u32, 32>::MAX;
    assert_eq!(Fixed::<i64, 32>::from(x).to_f64(), x.to_f64());
    assert_eq!(f64::from(x), x.to_f64());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The num-traits impls are the inherent methods of the same name.
    #[test]
    fn num_traits_delegate(a in any::<i32>(), b in any::<i32>(), n in any::<i64>(), xf in any::<f64>()) {
        use num_traits::{
            Bounded, CheckedAdd, CheckedDiv, CheckedMul, CheckedNeg, CheckedSub, FromPrimitive,
            One, SaturatingAdd, SaturatingMul, SaturatingSub, ToPrimitive, WrappingAdd,
            WrappingMul, WrappingNeg, WrappingSub, Zero,
        };
        type F = Fixed<i32, 16>;
        let (x, y) = (F::from_bits(a), F::from_bits(b));
        prop_assert_eq!(<F as Zero>::zero(), F::ZERO);
        prop_assert_eq!(<F as One>::one(), F::ONE);
        prop_assert_eq!(x * <F as One>::one(), x);
        prop_assert_eq!((F::min_value(), F::max_value()), (F::MIN, F::MAX));
        prop_assert_eq!(SaturatingAdd::saturating_add(&x, &y), x.saturating_add(y));
        prop_assert_eq!(SaturatingSub::saturating_sub(&x, &y), x.saturating_sub(y));
        prop_assert_eq!(SaturatingMul::saturating_mul(&x, &y), x.saturating_mul(y));
        prop_assert_eq!(CheckedAdd::checked_add(&x, &y), x.checked_add(y));
        prop_assert_eq!(CheckedSub::checked_sub(&x, &y), x.checked_sub(y));
        prop_assert_eq!(CheckedMul::checked_mul(&x, &y), x.checked_mul(y));
        prop_assert_eq!(CheckedDiv::checked_div(&x, &y), x.checked_div(y));
        prop_assert_eq!(CheckedNeg::checked_neg(&x), x.checked_neg());
        prop_assert_eq!(WrappingAdd::wrapping_add(&x, &y), x.wrapping_add(y));
        prop_assert_eq!(WrappingSub::wrapping_sub(&x, &y), x.wrapping_sub(y));
        prop_assert_eq!(WrappingMul::wrapping_mul(&x, &y), x.wrapping_mul(y));
        prop_assert_eq!(WrappingNeg::wrapping_neg(&x), x.wrapping_neg());
        // ToPrimitive truncates toward zero.
        prop_assert_eq!(ToPrimitive::to_i64(&x), Some((a / 65536) as i64));
        prop_assert_eq!(ToPrimitive::to_u64(&x), u64::try_from(a / 65536).ok());
        prop_assert_eq!(ToPrimitive::to_f64(&x), Some(x.to_f64()));
        // FromPrimitive: exact integers or None; floats nearest or None.
        let want = (-32768..=32767).contains(&n).then(|| F::from_bits((n as i32) << 16));
        prop_assert_eq!(<F as FromPrimitive>::from_i64(n), want);
        prop_assert_eq!(<F as FromPrimitive>::from_f64(xf), F::checked_from_f64(xf).ok());
        prop_assert_eq!(<F as FromPrimitive>::from_f64(x.to_f64()), Some(x));
    }
}
