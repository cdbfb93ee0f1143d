//! `Display` / `FromStr` of `qkit::fixed`: exhaustive over every bit pattern
//! of 8- and 16-bit storage at several `FRAC` values (including 0 and
//! `BITS`), against an exact decimal reference, plus round trips, exact ties
//! and hand-checked strings.

use qkit::Error;
use qkit::fixed::Fixed;
use qkit::{Q7, Q15, Q31};

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

/// The exact decimal of `v / 2^frac`: `v * 5^frac / 10^frac`.
fn exact(v: i128, frac: u32) -> String {
    ref_decimal(v < 0, v.unsigned_abs() * 5u128.pow(frac), frac)
}

macro_rules! exhaustive {
    ($name:ident, $t:ident, $($f:literal),+) => {
        #[test]
        fn $name() {
            $({
                type F = Fixed<$t, $f>;
                for b in $t::MIN..=$t::MAX {
                    let x = F::from_bits(b);
                    let v = b as i128;
                    let s = x.to_string();
                    assert_eq!(s, exact(v, $f), "bits {b} frac {}", $f);
                    assert_eq!(s.parse::<F>(), Ok(x), "{s}");
                    // The midpoint above rounds to the even neighbour (or overflows).
                    let m = 2 * v + 1;
                    let mid = exact(m, $f + 1);
                    let even = if v % 2 == 0 { v } else { v + 1 };
                    let want = if even > $t::MAX as i128 {
                        Err(Error::Overflow)
                    } else {
                        Ok(even)
                    };
                    assert_eq!(mid.parse::<F>().map(|y| y.to_bits() as i128), want, "{mid}");
                }
            })+
        }
    };
}

exhaustive!(i8_all_frac, i8, 0, 1, 2, 3, 4, 5, 6, 7, 8);
exhaustive!(u8_all_frac, u8, 0, 1, 2, 3, 4, 5, 6, 7, 8);
exhaustive!(i16_frac_0_1_8, i16, 0, 1, 8);
exhaustive!(i16_frac_12_15_16, i16, 12, 15, 16);
exhaustive!(u16_frac_0_7, u16, 0, 7);
exhaustive!(u16_frac_15_16, u16, 15, 16);

#[test]
fn hand_checked() {
    assert_eq!(Q15::from_bits(1).to_string(), "0.000030517578125");
    assert_eq!(Q15::from_bits(-1).to_string(), "-0.000030517578125");
    assert_eq!(Q15::MIN.to_string(), "-1");
    assert_eq!(Q15::MAX.to_string(), "0.999969482421875");
    assert_eq!(Q15::ZERO.to_string(), "0");
    assert_eq!(Q7::from_bits(-64).to_string(), "-0.5");
    assert_eq!(
        Q31::from_bits(-1).to_string(),
        "-0.0000000004656612873077392578125"
    );
    assert_eq!(Q31::MAX.to_string(), "0.9999999995343387126922607421875");
    assert_eq!(Fixed::<u64, 0>::MAX.to_string(), "18446744073709551615");
    assert_eq!(Fixed::<i64, 0>::MIN.to_string(), "-9223372036854775808");
    assert_eq!(
        Fixed::<u64, 64>::from_bits(1).to_string(),
        "0.0000000000000000000542101086242752217003726400434970855712890625"
    );
    assert_eq!(Fixed::<i32, 16>::from_bits(3 << 15).to_string(), "1.5");
    assert_eq!(Fixed::<i32, 16>::from_bits(-(3 << 15)).to_string(), "-1.5");
    // Formatter flags act as for integers.
    assert_eq!(format!("{:>8}", Q7::from_bits(-64)), "    -0.5");
    assert_eq!(format!("{:<6}|", Q7::from_bits(32)), "0.25  |");
    assert_eq!(format!("{:+}", Q7::from_bits(32)), "+0.25");
    assert_eq!(format!("{:07}", Q7::from_bits(-64)), "-0000.5");
    assert_eq!(format!("{:?}", Q15::from_bits(1 << 13)), "0.25");
}

#[test]
fn parse_syntax() {
    assert_eq!("+0.25".parse::<Q15>(), Ok(Q15::from_bits(1 << 13)));
    assert_eq!(".25".parse::<Q15>(), Ok(Q15::from_bits(1 << 13)));
    assert_eq!("-1.".parse::<Q15>(), Ok(Q15::MIN));
    assert_eq!("-1.0000".parse::<Q15>(), Ok(Q15::MIN));
    assert_eq!("-0".parse::<Fixed<u8, 4>>(), Ok(Fixed::<u8, 4>::ZERO));
    assert_eq!(
        "00000000000000000000000000000000000000000000000.5".parse::<Q15>(),
        Ok(Q15::from_bits(1 << 14))
    );
    for bad in [
        "", "+", "-", ".", "-.", "1e3", " 1", "1 ", "0x1", "1.2.3", "inf", "NaN", "--1", "1,5", "٣",
    ] {
        assert_eq!(bad.parse::<Q15>(), Err(Error::Parse), "{bad:?}");
    }
    for over in [
        "1",
        "-1.0000152587890626",
        "99999999999999999999999999999999999999999999999999999",
    ] {
        assert_eq!(over.parse::<Q15>(), Err(Error::Overflow), "{over:?}");
    }
    // Huge integer parts overflow (never panic), in every format.
    let huge = "9".repeat(300);
    let max = u128::MAX.to_string();
    let big = format!("8{}", "0".repeat(38)); // 8e38 / 10 is just below 2^126
    for s in [
        huge.as_str(),
        max.as_str(),
        big.as_str(),
        "18446744073709551616",
        "36893488147419103232",
    ] {
        assert_eq!(s.parse::<Fixed<u8, 0>>(), Err(Error::Overflow), "{s}");
        assert_eq!(s.parse::<Fixed<u64, 0>>(), Err(Error::Overflow), "{s}");
        assert_eq!(s.parse::<Fixed<i64, 0>>(), Err(Error::Overflow), "{s}");
        assert_eq!(s.parse::<Fixed<u64, 64>>(), Err(Error::Overflow), "{s}");
        assert_eq!(
            format!("-{s}").parse::<Fixed<i8, 1>>(),
            Err(Error::Overflow),
            "{s}"
        );
    }
    assert_eq!(
        "18446744073709551615".parse::<Fixed<u64, 0>>(),
        Ok(Fixed::<u64, 0>::MAX)
    );
    assert_eq!(
        "18446744073709551615.4999".parse::<Fixed<u64, 0>>(),
        Ok(Fixed::<u64, 0>::MAX)
    );
    assert_eq!(
        "18446744073709551615.5".parse::<Fixed<u64, 0>>(),
        Err(Error::Overflow)
    );
    assert_eq!(
        "-9223372036854775808.5".parse::<Fixed<i64, 0>>(),
        Ok(Fixed::<i64, 0>::MIN)
    );
    assert_eq!(
        "-9223372036854775809".parse::<Fixed<i64, 0>>(),
        Err(Error::Overflow)
    );
    // Rounds to the nearest: below -1 - half LSB overflows, at the tie it is even (-1).
    assert_eq!("-1.0000152587890625".parse::<Q15>(), Ok(Q15::MIN));
    // A tie decided by a digit far beyond the kept precision (the sticky bit).
    let mut s = String::from("0.0000152587890625");
    s.push_str(&"0".repeat(200));
    assert_eq!(s.parse::<Q15>(), Ok(Q15::ZERO));
    s.push('1');
    assert_eq!(s.parse::<Q15>(), Ok(Q15::DELTA));
    // Q31: the value just below MAX + half LSB rounds to MAX; the tie overflows (MAX is odd).
    assert_eq!(
        "0.99999999976716935634613037109375".parse::<Q31>(),
        Err(Error::Overflow)
    );
    assert_eq!(
        "0.99999999976716935634613037109374".parse::<Q31>(),
        Ok(Q31::MAX)
    );
    // u64 with FRAC = 64: every digit matters.
    type U = Fixed<u64, 64>;
    assert_eq!(
        "0.0000000000000000000542101086242752217003726400434970855712890625".parse::<U>(),
        Ok(U::from_bits(1))
    );
    assert_eq!(
        "0.00000000000000000002710505431213761085018632002174854278564453125".parse::<U>(),
        Ok(U::from_bits(0))
    );
    assert_eq!(
        "0.00000000000000000002710505431213761085018632002174854278564453126".parse::<U>(),
        Ok(U::from_bits(1))
    );
}

/// `{:.N}` rounds the exact value like `f64` does (ties to even, sign kept
/// on negative values rounding to zero), exhaustively for 8- and 16-bit
/// storage where `to_f64` is exact; width and flags too.
#[test]
fn precision_matches_f64() {
    macro_rules! check {
        ($t:ident, $($f:literal),+) => {$(
            for b in $t::MIN..=$t::MAX {
                let x = Fixed::<$t, $f>::from_bits(b);
                let y = x.to_f64();
                for p in [0usize, 1, 2, 3, 5, 8, 17] {
                    assert_eq!(format!("{x:.p$}"), format!("{y:.p$}"), "bits {b} frac {} p {p}", $f);
                }
                assert_eq!(format!("{x:+012.3}"), format!("{y:+012.3}"));
                assert_eq!(format!("{x:*^13.4}"), format!("{y:*^13.4}"));
                assert_eq!(format!("{x:<9.1}|"), format!("{y:<9.1}|"));
            }
        )+};
    }
    check!(i8, 0, 3, 8);
    check!(u8, 1, 8);
    check!(i16, 15);
    check!(u16, 4, 16);
    // Long precisions pad with zeros beyond the exact digits.
    assert_eq!(
        format!("{:.70}", Q31::from_bits(-1)),
        format!("{:.70}", Q31::from_bits(-1).to_f64())
    );
    let x = Fixed::<i32, 4>::from_bits(-(9999 * 16 + 15)); // -9999.9375
    assert_eq!(format!("{x:.2}"), "-9999.94");
    assert_eq!(format!("{x:.1}"), "-9999.9");
    assert_eq!(format!("{x:.0}"), "-10000"); // carries into a new digit
    assert_eq!(
        format!("{:.0}", Fixed::<u64, 1>::MAX),
        "9223372036854775808"
    );
}
