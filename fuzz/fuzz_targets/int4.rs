//! Fuzz `qkit::int4`: every scalar operation equals its exact `i32`
//! reference (saturated or wrapped to 4 bits), and the packed-buffer
//! functions never panic, reject wrong lengths and out-of-range values with
//! `Err`, never write on error, and round-trip.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::Error;
use qkit::int4::{self, I4, U4};

#[derive(Debug, Arbitrary)]
struct Input {
    a: i32,
    b: i32,
    wide: i64,
    bytes: Vec<u8>,
    values: Vec<i8>,
    index: usize,
    small_index: u8,
    value: u8,
    dst_extra: u8,
}

fn wrap4(v: i32, lo: i32) -> i32 {
    ((v as i64 - lo as i64).rem_euclid(16) + lo as i64) as i32
}

fn scalars(inp: &Input) {
    // I4
    assert_eq!(
        I4::new(inp.a as i8).is_some(),
        (-8..=7).contains(&(inp.a as i8))
    );
    assert_eq!(
        I4::saturating_from_i32(inp.a).get() as i32,
        inp.a.clamp(-8, 7)
    );
    assert_eq!(
        I4::saturating_from_i64(inp.wide).get() as i64,
        inp.wide.clamp(-8, 7)
    );
    assert_eq!(I4::wrapping_from_i32(inp.a).get() as i32, wrap4(inp.a, -8));
    let (x, y) = (
        I4::saturating_from_i32(inp.a),
        I4::saturating_from_i32(inp.b),
    );
    let (xi, yi) = (x.get() as i32, y.get() as i32);
    assert_eq!(x.saturating_add(y).get() as i32, (xi + yi).clamp(-8, 7));
    assert_eq!(x.saturating_sub(y).get() as i32, (xi - yi).clamp(-8, 7));
    assert_eq!(x.saturating_mul(y).get() as i32, (xi * yi).clamp(-8, 7));
    assert_eq!(x.wrapping_add(y).get() as i32, wrap4(xi + yi, -8));
    assert_eq!(x.wrapping_sub(y).get() as i32, wrap4(xi - yi, -8));
    assert_eq!(x.wrapping_mul(y).get() as i32, wrap4(xi * yi, -8));
    assert_eq!(I4::from_nibble(x.to_nibble()), x);
    assert_eq!(I4::from_nibble(inp.value).to_nibble(), inp.value & 0x0f);
    assert_eq!(
        I4::try_from(inp.a as i8).is_ok(),
        (-8..=7).contains(&(inp.a as i8))
    );
    // U4
    assert_eq!(U4::new(inp.a as u8).is_some(), (inp.a as u8) < 16);
    assert_eq!(
        U4::saturating_from_i32(inp.a).get() as i32,
        inp.a.clamp(0, 15)
    );
    assert_eq!(
        U4::saturating_from_i64(inp.wide).get() as i64,
        inp.wide.clamp(0, 15)
    );
    assert_eq!(U4::wrapping_from_i32(inp.a).get() as i32, wrap4(inp.a, 0));
    let (u, v) = (
        U4::saturating_from_i32(inp.a),
        U4::saturating_from_i32(inp.b),
    );
    let (ui, vi) = (u.get() as i32, v.get() as i32);
    assert_eq!(u.saturating_add(v).get() as i32, (ui + vi).clamp(0, 15));
    assert_eq!(u.saturating_sub(v).get() as i32, (ui - vi).clamp(0, 15));
    assert_eq!(u.saturating_mul(v).get() as i32, (ui * vi).clamp(0, 15));
    assert_eq!(u.wrapping_add(v).get() as i32, wrap4(ui + vi, 0));
    assert_eq!(u.wrapping_sub(v).get() as i32, wrap4(ui - vi, 0));
    assert_eq!(u.wrapping_mul(v).get() as i32, wrap4(ui * vi, 0));
    assert_eq!(U4::from_nibble(u.to_nibble()), u);
    let _ = (format!("{x} {x:?} {u} {u:?}"), U4::try_from(inp.value));
}

fn buffers(inp: &Input) {
    let bytes = &inp.bytes[..inp.bytes.len().min(512)];
    let n = bytes.len() * 2 - (inp.value as usize % 2).min(bytes.len() * 2);
    // unpack then pack: the identity (an odd count zeroes the last high nibble).
    let mut vals = vec![I4::ZERO; n];
    int4::unpack(bytes, &mut vals).unwrap();
    let mut again = vec![0u8; bytes.len()];
    int4::pack(&vals, &mut again).unwrap();
    for (k, (&a, &b)) in bytes.iter().zip(&again).enumerate() {
        let mask = if n % 2 == 1 && k + 1 == bytes.len() {
            0x0f
        } else {
            0xff
        };
        assert_eq!(a & mask, b);
    }
    // unpack_i4_to_i8 agrees with unpack; pack_i8_to_i4 inverts it.
    let mut wide = vec![0i8; n];
    int4::unpack_i4_to_i8(bytes, &mut wide).unwrap();
    assert!(wide.iter().zip(&vals).all(|(&w, v)| w == v.get()));
    let mut packed = vec![0u8; bytes.len()];
    int4::pack_i8_to_i4(&wide, &mut packed).unwrap();
    assert_eq!(packed, again);
    // Wrong lengths are errors and write nothing.
    let wrong = int4::packed_len(n) + 1 + inp.dst_extra as usize % 3;
    let mut dst = vec![0xAAu8; wrong];
    assert!(matches!(
        int4::pack(&vals, &mut dst),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(int4::pack_i8_to_i4(&wide, &mut dst).is_err());
    assert!(dst.iter().all(|&b| b == 0xAA));
    let mut short = vec![I4::ZERO; n + 1 + inp.dst_extra as usize % 3];
    assert!(
        int4::unpack(bytes, &mut short).is_err() || int4::packed_len(short.len()) == bytes.len()
    );
    // Out-of-range i8 values are OutOfRange, naming the first offender.
    let src = &inp.values[..inp.values.len().min(512)];
    let mut out = vec![0u8; int4::packed_len(src.len())];
    match int4::pack_i8_to_i4(src, &mut out) {
        Ok(()) => assert!(src.iter().all(|v| (-8..=7).contains(v))),
        Err(Error::OutOfRange { value, .. }) => {
            assert_eq!(
                Some(value as i8),
                src.iter().copied().find(|v| !(-8..=7).contains(v))
            )
        }
        Err(e) => panic!("{e:?}"),
    }
    // get / set at any index: None / IndexOutOfBounds past the end, the
    // neighbour nibble untouched otherwise.
    let mut buf = bytes.to_vec();
    for index in [inp.index, inp.small_index as usize] {
        let v = U4::from_nibble(inp.value);
        let before = buf.clone();
        match int4::set(&mut buf, index, v) {
            Ok(()) => {
                assert!(index / 2 < buf.len());
                assert_eq!(int4::get::<U4>(&buf, index), Some(v));
                assert_eq!(
                    int4::get::<U4>(&buf, index ^ 1),
                    int4::get::<U4>(&before, index ^ 1)
                );
            }
            Err(e) => {
                assert_eq!(
                    e,
                    Error::IndexOutOfBounds {
                        index,
                        len: 2 * buf.len()
                    }
                );
                assert_eq!(buf, before);
                assert_eq!(int4::get::<U4>(&buf, index), None);
            }
        }
    }
}

fuzz_target!(|inp: Input| {
    scalars(&inp);
    buffers(&inp);
});
