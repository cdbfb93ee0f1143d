//! Fuzz `qkit::fixed`: arbitrary operands, storage types, FRAC values and
//! operations never panic and equal an exact sign-magnitude (u128) reference.
//! Also the dynamic fixed-point rounding of `calib::dynfixed`: its
//! `quantize_fixed(v, bits, fl)` is `Err` outside `2..=32` bits and
//! `-1000..=1000` fractional bits, and inside equals `Fixed::from_f64` (the
//! same Qm.n rounding: nearest, ties to even, saturating, NaN to 0).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::calib::dynfixed::quantize_fixed;
use qkit::fixed::Fixed;

#[derive(Arbitrary, Debug)]
struct Input {
    format: u8,
    op: u8,
    a: u64,
    b: u64,
    x: f64,
    s: String,
}

/// An exact integer as sign and magnitude.
#[derive(Clone, Copy, Debug)]
struct Big {
    neg: bool,
    mag: u128,
}

#[derive(Clone, Copy)]
struct Info {
    min: i128,
    max: i128,
    bits: u32,
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
        match (self.fits(x), x.neg) {
            (false, true) => self.min,
            (false, false) => self.max,
            (true, true) => -(x.mag as i128),
            (true, false) => x.mag as i128,
        }
    }
    fn wrap(self, x: Big) -> i128 {
        let m = 1u128 << self.bits;
        let r = x.mag % m;
        let r = (if x.neg { (m - r) % m } else { r }) as i128;
        if r > self.max { r - m as i128 } else { r }
    }
    fn family(self, x: Big) -> [i128; 4] {
        let fits = self.fits(x);
        [
            self.saturate(x),
            self.wrap(x),
            if fits { self.saturate(x) } else { i128::MIN },
            fits as i128,
        ]
    }
}

fn big(v: i128) -> Big {
    Big {
        neg: v < 0,
        mag: v.unsigned_abs(),
    }
}

fn mul(a: i128, b: i128, frac: u32, round: bool) -> Big {
    let neg = (a < 0) != (b < 0);
    let m = a.unsigned_abs() * b.unsigned_abs();
    let h: u128 = if round && frac > 0 {
        1 << (frac - 1)
    } else {
        0
    };
    let d: u128 = 1 << frac;
    if !neg {
        Big {
            neg: false,
            mag: (m + h) / d,
        }
    } else if m <= h {
        Big {
            neg: false,
            mag: (h - m) / d,
        }
    } else {
        let q = (m - h).div_ceil(d);
        Big {
            neg: q != 0,
            mag: q,
        }
    }
}

fn div(a: i128, b: i128, frac: u32) -> Big {
    let q = (a.unsigned_abs() << frac) / b.unsigned_abs();
    Big {
        neg: (a < 0) != (b < 0) && q != 0,
        mag: q,
    }
}

macro_rules! run {
    ($t:ident, $f:literal, $inp:expr) => {{
        type F = Fixed<$t, $f>;
        let info = Info {
            min: $t::MIN as i128,
            max: $t::MAX as i128,
            bits: $t::BITS,
        };
        let (a, b) = ($inp.a as $t, $inp.b as $t);
        let (x, y) = (F::from_bits(a), F::from_bits(b));
        let (ai, bi) = (a as i128, b as i128);
        let got = |s: F, w: F, c: Option<F>, o: (F, bool)| -> [i128; 4] {
            assert_eq!(o.0, w, "overflowing value is the wrapped value");
            [
                s.to_bits() as i128,
                w.to_bits() as i128,
                c.map_or(i128::MIN, |c| c.to_bits() as i128),
                !o.1 as i128,
            ]
        };
        match $inp.op % 10 {
            0 => assert_eq!(
                got(
                    x.saturating_add(y),
                    x.wrapping_add(y),
                    x.checked_add(y),
                    x.overflowing_add(y)
                ),
                info.family(big(ai + bi))
            ),
            1 => assert_eq!(
                got(
                    x.saturating_sub(y),
                    x.wrapping_sub(y),
                    x.checked_sub(y),
                    x.overflowing_sub(y)
                ),
                info.family(big(ai - bi))
            ),
            2 => assert_eq!(
                got(
                    x.saturating_mul(y),
                    x.wrapping_mul(y),
                    x.checked_mul(y),
                    x.overflowing_mul(y)
                ),
                info.family(mul(ai, bi, $f, true))
            ),
            3 => assert_eq!(
                got(
                    x.saturating_mul_floor(y),
                    x.wrapping_mul_floor(y),
                    x.checked_mul_floor(y),
                    x.overflowing_mul_floor(y)
                ),
                info.family(mul(ai, bi, $f, false))
            ),
            4 => {
                if b == 0 {
                    let z = F::from_bits(if ai > 0 {
                        $t::MAX
                    } else if ai < 0 {
                        $t::MIN
                    } else {
                        0
                    });
                    assert_eq!(
                        (
                            x / y,
                            x.wrapping_div(y),
                            x.checked_div(y),
                            x.overflowing_div(y)
                        ),
                        (z, z, None, (z, true))
                    );
                } else {
                    assert_eq!(
                        got(
                            x.saturating_div(y),
                            x.wrapping_div(y),
                            x.checked_div(y),
                            x.overflowing_div(y)
                        ),
                        info.family(div(ai, bi, $f))
                    );
                }
            }
            5 => assert_eq!(
                got(
                    x.saturating_neg(),
                    x.wrapping_neg(),
                    x.checked_neg(),
                    x.overflowing_neg()
                ),
                info.family(big(-ai))
            ),
            6 => assert_eq!(
                got(
                    x.saturating_abs(),
                    x.wrapping_abs(),
                    x.checked_abs(),
                    x.overflowing_abs()
                ),
                info.family(big(ai.abs()))
            ),
            9 => {
                // Arbitrary text: never panics; what parses prints and parses back.
                if let Ok(v) = $inp.s.parse::<F>() {
                    assert_eq!(v.to_string().parse::<F>(), Ok(v));
                }
            }
            7 => {
                // Display / FromStr round trip.
                let s = x.to_string();
                assert_eq!(s.parse::<F>(), Ok(x), "{s}");
                // `{:.p}` rounds like f64 (whose conversion is exact up to 32 bits).
                let p = ($inp.b % 70) as usize;
                let r = format!("{x:>9.p$}");
                if $t::BITS <= 32 {
                    assert_eq!(r, format!("{:>9.p$}", x.to_f64()));
                }
                let _ = y.to_string().parse::<Fixed<i16, 7>>();
            }
            _ => {
                // Floats: never panic; NaN is zero; in-range values are the nearest.
                let v = F::from_f64($inp.x);
                if $inp.x.is_nan() {
                    assert_eq!(v, F::ZERO);
                } else {
                    let r = ($inp.x * 2f64.powi($f)).round_ties_even();
                    if r >= $t::MIN as f64 && r < -($t::MIN as f64) * 2.0 && r <= $t::MAX as f64 {
                        assert_eq!(v.to_bits() as i128, r as i128);
                    }
                }
                let _ = (
                    x.to_f32(),
                    x.to_f16(),
                    x.to_bf16(),
                    F::checked_from_f64($inp.x),
                );
                let _ = (
                    x.convert::<i16, 15>(),
                    x.checked_convert::<u64, 64>(),
                    x.to_int_round(),
                );
            }
        }
    }};
}

macro_rules! same_as_fixed {
    ($x:expr, $($t:ty => $($f:literal)*),*) => {$($(
        assert_eq!(
            quantize_fixed($x, <$t>::BITS, $f),
            Ok(Fixed::<$t, $f>::from_f64($x).to_f64()),
            "{} bits, fl {}, x {:e}", <$t>::BITS, $f, $x
        );
    )*)*};
}

fn dynamic_fixed_point(inp: &Input) {
    let bits = (inp.a >> 32) as u32;
    let fl = inp.a as u32 as i32;
    let in_domain = (2..=32).contains(&bits) && (-1000..=1000).contains(&fl);
    assert_eq!(quantize_fixed(inp.x, bits, fl).is_ok(), in_domain);
    let small = (bits % 31 + 2, fl % 40);
    let q = quantize_fixed(inp.x, small.0, small.1).unwrap();
    assert!(!q.is_nan());
    same_as_fixed!(inp.x, i8 => 0 3 7 8, i16 => 0 8 15 16, i32 => 0 16 31 32);
}

fuzz_target!(|inp: Input| {
    dynamic_fixed_point(&inp);
    match inp.format % 16 {
        0 => run!(i8, 0, inp),
        1 => run!(i8, 7, inp),
        2 => run!(i8, 8, inp),
        3 => run!(i16, 15, inp),
        4 => run!(i16, 16, inp),
        5 => run!(i32, 31, inp),
        6 => run!(i32, 32, inp),
        7 => run!(i32, 0, inp),
        8 => run!(i64, 63, inp),
        9 => run!(i64, 64, inp),
        10 => run!(i64, 20, inp),
        11 => run!(u8, 8, inp),
        12 => run!(u16, 3, inp),
        13 => run!(u32, 32, inp),
        14 => run!(u64, 64, inp),
        _ => run!(u64, 0, inp),
    }
});
