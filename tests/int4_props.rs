//! I4 / U4 scalars against an i32 reference (exhaustively) and packed
//! storage round trips for every length 0..=64.

use proptest::prelude::*;
use qkit::int4::{self, I4, U4};
use qkit::{Error, QInt};

fn sat(v: i32, lo: i32, hi: i32) -> i32 {
    v.clamp(lo, hi)
}

fn wrap_signed(v: i32) -> i32 {
    (v.rem_euclid(16) + 8).rem_euclid(16) - 8
}

#[test]
fn i4_arithmetic_matches_i32_reference_on_every_pair() {
    let all: Vec<I4> = (-8..=7).map(|v| I4::new(v).unwrap()).collect();
    for &a in &all {
        for &b in &all {
            let (x, y) = (a.get() as i32, b.get() as i32);
            assert_eq!(a.saturating_add(b).get() as i32, sat(x + y, -8, 7));
            assert_eq!(a.saturating_sub(b).get() as i32, sat(x - y, -8, 7));
            assert_eq!(a.saturating_mul(b).get() as i32, sat(x * y, -8, 7));
            assert_eq!(a.wrapping_add(b).get() as i32, wrap_signed(x + y));
            assert_eq!(a.wrapping_sub(b).get() as i32, wrap_signed(x - y));
            assert_eq!(a.wrapping_mul(b).get() as i32, wrap_signed(x * y));
        }
    }
}

#[test]
fn u4_arithmetic_matches_i32_reference_on_every_pair() {
    let all: Vec<U4> = (0..=15).map(|v| U4::new(v).unwrap()).collect();
    for &a in &all {
        for &b in &all {
            let (x, y) = (a.get() as i32, b.get() as i32);
            assert_eq!(a.saturating_add(b).get() as i32, sat(x + y, 0, 15));
            assert_eq!(a.saturating_sub(b).get() as i32, sat(x - y, 0, 15));
            assert_eq!(a.saturating_mul(b).get() as i32, sat(x * y, 0, 15));
            assert_eq!(a.wrapping_add(b).get() as i32, (x + y).rem_euclid(16));
            assert_eq!(a.wrapping_sub(b).get() as i32, (x - y).rem_euclid(16));
            assert_eq!(a.wrapping_mul(b).get() as i32, (x * y).rem_euclid(16));
        }
    }
}

#[test]
fn constructors_and_nibbles_on_every_byte() {
    for v in i8::MIN..=i8::MAX {
        assert_eq!(I4::new(v).is_some(), (-8..=7).contains(&v));
        assert_eq!(I4::try_from(v).is_ok(), (-8..=7).contains(&v));
    }
    for v in u8::MIN..=u8::MAX {
        assert_eq!(U4::new(v).is_some(), v <= 15);
        // TFLite/CMSIS-NN sign extension of the low and high nibble
        assert_eq!(I4::from_nibble(v).get(), ((v << 4) as i8) >> 4);
        assert_eq!(I4::from_nibble(v >> 4).get(), (v as i8) >> 4);
        assert_eq!(U4::from_nibble(v).get(), v & 15);
        assert_eq!(I4::from_nibble(v).to_nibble(), v & 15);
    }
    assert!(matches!(
        U4::try_from(16u8),
        Err(Error::OutOfRange { value: 16, .. })
    ));
    assert_eq!(
        (<I4 as QInt>::MIN, <I4 as QInt>::MAX, <I4 as QInt>::BITS),
        (-8, 7, 4)
    );
    assert_eq!(
        (<U4 as QInt>::MIN, <U4 as QInt>::MAX, <U4 as QInt>::BITS),
        (0, 15, 4)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn saturating_conversions_clamp(v in prop_oneof![any::<i64>(), -20i64..20,
                                                     Just(i64::MIN), Just(i64::MAX)]) {
        prop_assert_eq!(I4::saturating_from_i64(v).get() as i64, v.clamp(-8, 7));
        prop_assert_eq!(U4::saturating_from_i64(v).get() as i64, v.clamp(0, 15));
        let w = v as i32;
        prop_assert_eq!(I4::saturating_from_i32(w).get() as i32, w.clamp(-8, 7));
        prop_assert_eq!(<U4 as QInt>::saturating_from_i32(w).get() as i32, w.clamp(0, 15));
        prop_assert_eq!(I4::wrapping_from_i32(w).get() as i32, wrap_signed(w));
        prop_assert_eq!(U4::wrapping_from_i32(w).get() as i32, w.rem_euclid(16));
    }
}

fn random_values(len: usize, seed: u64) -> Vec<i8> {
    // a small LCG: deterministic, no dependency
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 33) % 16) as i8 - 8
        })
        .collect()
}

#[test]
fn pack_unpack_round_trip_for_every_length_up_to_64() {
    for len in 0..=64usize {
        for seed in 0..4 {
            let raw = random_values(len, seed * 100 + len as u64);
            let v: Vec<I4> = raw.iter().map(|&x| I4::new(x).unwrap()).collect();
            let u: Vec<U4> = raw
                .iter()
                .map(|&x| U4::new((x + 8) as u8).unwrap())
                .collect();
            let n = int4::packed_len(len);
            assert_eq!(n, len.div_ceil(2));

            let mut p = vec![0xAAu8; n];
            int4::pack(&v, &mut p).unwrap();
            // reference packing: element 2k low nibble, 2k+1 high nibble, pad 0
            let reference: Vec<u8> = (0..n)
                .map(|k| {
                    let lo = raw[2 * k] as u8 & 15;
                    let hi = raw.get(2 * k + 1).map_or(0, |&h| h as u8 & 15);
                    lo | (hi << 4)
                })
                .collect();
            assert_eq!(p, reference, "len {len}");

            let mut back = vec![I4::MAX; len];
            int4::unpack(&p, &mut back).unwrap();
            assert_eq!(back, v);
            let mut as_i8 = vec![0i8; len];
            int4::unpack_i4_to_i8(&p, &mut as_i8).unwrap();
            assert_eq!(as_i8, raw);
            let mut via_i8 = vec![0u8; n];
            int4::pack_i8_to_i4(&raw, &mut via_i8).unwrap();
            assert_eq!(via_i8, p);

            let mut pu = vec![0u8; n];
            int4::pack(&u, &mut pu).unwrap();
            let mut ub = vec![U4::ZERO; len];
            int4::unpack(&pu, &mut ub).unwrap();
            assert_eq!(ub, u);

            // get / set by index agree with the slices
            for (i, &x) in v.iter().enumerate() {
                assert_eq!(int4::get::<I4>(&p, i), Some(x));
            }
            assert_eq!(int4::get::<I4>(&p, 2 * n), None);
            let mut q = vec![0u8; n];
            for (i, &x) in v.iter().enumerate() {
                int4::set(&mut q, i, x).unwrap();
            }
            assert_eq!(q, p);
            assert!(int4::set(&mut q, 2 * n, I4::ZERO).is_err());

            // wrong lengths are errors, never panics
            assert!(int4::pack(&v, &mut vec![0u8; n + 1]).is_err());
            assert!(int4::unpack(&vec![0u8; n + 1], &mut back).is_err());
            if n > 0 {
                assert!(int4::unpack_i4_to_i8(&p[1..], &mut as_i8).is_err());
            }
        }
    }
}

#[test]
fn pack_i8_rejects_values_outside_i4() {
    let mut out = [0u8; 2];
    assert_eq!(
        int4::pack_i8_to_i4(&[0, 1, -9], &mut out),
        Err(Error::OutOfRange {
            value: -9,
            min: -8,
            max: 7
        })
    );
    assert!(int4::pack_i8_to_i4(&[0, 1, 8], &mut out).is_err());
}
