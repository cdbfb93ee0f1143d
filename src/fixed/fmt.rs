//! Exact decimal `Display` / `Debug` and nearest-value `FromStr`.
//!
//! Every `Fixed` value is a dyadic rational `bits / 2^FRAC`, so its decimal
//! expansion is finite (at most `FRAC` fractional digits); `Display` prints
//! all of it. `FromStr` parses a decimal to the nearest value, ties to even,
//! so `s.parse::<Fixed<..>>()` of a printed value gives it back.

use core::fmt;
use core::str::FromStr;

use super::{Fixed, Storage};
use crate::Error;

/// Room for the longest output: 20 integer digits (`u64::MAX`), a point and
/// 64 fractional digits (`FRAC <= 64`).
const BUF: usize = 96;

/// Writes the exact decimal expansion of `m / 2^frac` (`m < 2^64`,
/// `frac <= 64`) into `buf`; returns the used tail.
fn write_decimal(buf: &mut [u8; BUF], m: u128, frac: u32) -> &str {
    let mask = (1u128 << frac) - 1;
    let mut int = m >> frac;
    let mut f = m & mask;

    // Fractional digits go after position `point`, integer digits before.
    let point = 24;
    let mut end = point;
    if f != 0 {
        buf[point] = b'.';
        end += 1;
        while f != 0 {
            // f < 2^64, so f * 10 < 2^68: no overflow in u128.
            f *= 10;
            buf[end] = b'0' + (f >> frac) as u8;
            f &= mask;
            end += 1;
        }
    }
    let mut start = point;
    loop {
        start -= 1;
        buf[start] = b'0' + (int % 10) as u8;
        int /= 10;
        if int == 0 {
            break;
        }
    }
    // Only ASCII digits and '.' were written.
    core::str::from_utf8(&buf[start..end]).unwrap_or("")
}

/// The exact decimal value: no exponent, no trailing zeros, and no decimal
/// point for integral values (like `f64`). Width, fill, alignment, `+` and
/// `0` flags work as for numbers; a precision `{:.N}` rounds the exact value
/// to `N` fractional digits, ties to even, and pads with zeros, as `f64`
/// does (a negative value that rounds to zero keeps its sign: `-0.0`).
///
/// ```
/// use qkit::{Q15, Q31};
/// assert_eq!(Q15::from_bits(1).to_string(), "0.000030517578125");
/// assert_eq!(Q15::MIN.to_string(), "-1");
/// assert_eq!(Q31::from_bits(-1).to_string(), "-0.0000000004656612873077392578125");
/// assert_eq!(format!("{:+08}", Q15::from_bits(1 << 14)), "+00000.5");
/// assert_eq!(format!("{:.3}", Q15::from_bits(1 << 13)), "0.250");
/// assert_eq!(format!("{:.1}", Q15::from_bits(1 << 13)), "0.2"); // tie: to even
/// assert_eq!(format!("{:>7.2}", Q15::MAX), "   1.00");
/// ```
impl<T: Storage, const FRAC: u32> fmt::Display for Fixed<T, FRAC> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.bits_i128();
        let mut buf = [0u8; BUF];
        let digits = write_decimal(&mut buf, v.unsigned_abs(), FRAC);
        match f.precision() {
            None => f.pad_integral(v >= 0, "", digits),
            Some(p) => {
                let mut rounded = [0u8; BUF + 1];
                let (body, zeros) = round_decimal(digits, p, &mut rounded);
                pad_number(f, v >= 0, body, zeros)
            }
        }
    }
}

/// `digits` (an exact decimal, no trailing zeros) rounded to `p` fractional
/// digits, ties to even, written into `out`; returns it and how many zeros
/// must follow it to show `p` digits.
fn round_decimal<'a>(digits: &str, p: usize, out: &'a mut [u8; BUF + 1]) -> (&'a str, usize) {
    let d = digits.as_bytes();
    let point = d.iter().position(|&c| c == b'.');
    let frac_len = point.map_or(0, |i| d.len() - i - 1);
    if p >= frac_len {
        // Exact: copy and pad.
        let mut n = 1 + d.len();
        out[1..n].copy_from_slice(d);
        if point.is_none() && p > 0 {
            out[n] = b'.';
            n += 1;
        }
        let body = core::str::from_utf8(&out[1..n]).unwrap_or("");
        return (body, p - frac_len);
    }
    // Keep the integer part and `p` fractional digits (and the point if p > 0).
    let point = point.unwrap_or(d.len()); // p < frac_len, so there is a point
    let keep = if p == 0 { point } else { point + 1 + p };
    out[1..=keep].copy_from_slice(&d[..keep]);
    let next = d[point + 1 + p];
    let rest_nonzero = d.len() > point + 2 + p; // no trailing zeros: any rest is nonzero
    let last = out[keep];
    let round_up = next > b'5' || (next == b'5' && (rest_nonzero || (last - b'0') % 2 == 1));
    let mut start = 1;
    if round_up {
        let mut i = keep;
        loop {
            match out[i] {
                b'.' => {}
                b'9' => out[i] = b'0',
                c => {
                    out[i] = c + 1;
                    break;
                }
            }
            i -= 1;
            if i == 0 {
                // Carried out of the first digit: 9.99 -> 10.00.
                out[0] = b'1';
                start = 0;
                break;
            }
        }
    }
    (core::str::from_utf8(&out[start..=keep]).unwrap_or(""), 0)
}

/// Writes sign, `body` and `zeros` trailing zeros with the formatter's width,
/// fill, alignment and flags (what `Formatter::pad_integral` does, plus the
/// trailing zeros it cannot express).
fn pad_number(f: &mut fmt::Formatter<'_>, nonneg: bool, body: &str, zeros: usize) -> fmt::Result {
    use fmt::Write;
    let sign = if !nonneg {
        "-"
    } else if f.sign_plus() {
        "+"
    } else {
        ""
    };
    let len = sign.len() + body.len() + zeros;
    let pad = f.width().unwrap_or(0).saturating_sub(len);
    let (pre, zero_pad, post) = if pad == 0 {
        (0, 0, 0)
    } else if f.sign_aware_zero_pad() {
        (0, pad, 0)
    } else {
        match f.align() {
            Some(fmt::Alignment::Left) => (0, 0, pad),
            Some(fmt::Alignment::Center) => (pad / 2, 0, pad - pad / 2),
            Some(fmt::Alignment::Right) | None => (pad, 0, 0),
        }
    };
    let fill = f.fill();
    for _ in 0..pre {
        f.write_char(fill)?;
    }
    f.write_str(sign)?;
    for _ in 0..zero_pad {
        f.write_char('0')?;
    }
    f.write_str(body)?;
    for _ in 0..zeros {
        f.write_char('0')?;
    }
    for _ in 0..post {
        f.write_char(fill)?;
    }
    Ok(())
}

/// The same as `Display`: the exact decimal value.
///
/// ```
/// assert_eq!(format!("{:?}", qkit::Q7::from_bits(-64)), "-0.5");
/// ```
impl<T: Storage, const FRAC: u32> fmt::Debug for Fixed<T, FRAC> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Fractional decimal digits kept exactly while parsing; later digits only
/// feed the sticky bit. Enough: every rounding boundary (a multiple of
/// `2^-(FRAC+1)`, `FRAC <= 64`) has at most 65 fractional digits, so no digit
/// beyond position 65 can move a value across one.
const FRAC_DIGITS: usize = 72;

/// Parses `[+-]?digits[.digits]` (at least one digit in all; `1.` and `.5`
/// are accepted) to the nearest value, ties to even.
///
/// Errors: `Error::Parse` for anything else (empty, spaces, exponents,
/// `inf`, `nan`), `Error::Overflow` when the rounded value is out of range.
///
/// ```
/// use qkit::{Error, Q15};
/// assert_eq!("0.5".parse::<Q15>(), Ok(Q15::from_bits(1 << 14)));
/// assert_eq!("-1".parse::<Q15>(), Ok(Q15::MIN));
/// assert_eq!("1".parse::<Q15>(), Err(Error::Overflow));
/// assert_eq!("0.5e1".parse::<Q15>(), Err(Error::Parse));
/// // 2^-16 is half an LSB: a tie, rounded to even (zero).
/// assert_eq!("0.0000152587890625".parse::<Q15>(), Ok(Q15::ZERO));
/// assert_eq!("0.0000152587890626".parse::<Q15>(), Ok(Q15::DELTA));
/// ```
impl<T: Storage, const FRAC: u32> FromStr for Fixed<T, FRAC> {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let () = Self::CHECK;
        let bytes = s.as_bytes();
        let (negative, rest) = match bytes.first() {
            Some(b'-') => (true, &bytes[1..]),
            Some(b'+') => (false, &bytes[1..]),
            _ => (false, bytes),
        };
        let (int_digits, frac_digits) = match rest.iter().position(|&c| c == b'.') {
            Some(p) => (&rest[..p], &rest[p + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        if int_digits.is_empty() && frac_digits.is_empty() {
            return Err(Error::Parse);
        }
        if !int_digits.iter().chain(frac_digits).all(u8::is_ascii_digit) {
            return Err(Error::Parse);
        }

        // Integer part. Every storage range lies within (-2^64, 2^64), so an
        // integer part above 2^65 (or one whose value in LSBs would reach
        // 2^126) is out of range: stop there, before `int * 10` or
        // `int << FRAC` could overflow.
        let int_limit = (u128::MAX >> (FRAC + 2)).min(1 << 65);
        let mut int: u128 = 0;
        let mut int_overflow = false;
        for &c in int_digits {
            int = int * 10 + u128::from(c - b'0');
            if int > int_limit {
                int_overflow = true;
                break;
            }
        }

        // Fractional part: `digits` holds 0.d1 d2 ... exactly (up to
        // FRAC_DIGITS); doubling it shifts the next binary digit out of the
        // top.
        let mut digits = [0u8; FRAC_DIGITS];
        let kept = frac_digits.len().min(FRAC_DIGITS);
        for (d, &c) in digits.iter_mut().zip(frac_digits) {
            *d = c - b'0';
        }
        let mut sticky = frac_digits[kept..].iter().any(|&c| c != b'0');
        let mut fraction: u128 = 0;
        for _ in 0..FRAC {
            fraction = (fraction << 1) | u128::from(double(&mut digits[..kept]));
        }
        let round = double(&mut digits[..kept]) == 1;
        sticky |= digits[..kept].iter().any(|&d| d != 0);

        if int_overflow {
            return Err(Error::Overflow);
        }
        let mut mag = (int << FRAC) | fraction;
        if round && (sticky || mag & 1 == 1) {
            mag += 1;
        }
        // mag < 2^126 + 1, so the signed value fits an i128.
        let v = if negative {
            -(mag as i128)
        } else {
            mag as i128
        };
        Self::from_i128_checked(v).ok_or(Error::Overflow)
    }
}

/// Doubles the decimal fraction `0.d1 d2 ...` in place and returns the carry
/// out of the first digit (the next binary digit).
fn double(digits: &mut [u8]) -> u8 {
    let mut carry = 0;
    for d in digits.iter_mut().rev() {
        let x = *d * 2 + carry;
        carry = u8::from(x >= 10);
        *d = if x >= 10 { x - 10 } else { x };
    }
    carry
}
