//! Slice requantization: the dispatching entry (AVX2 when the CPU has it and
//! the `std` feature detects it, or when compiled with `target_feature =
//! "avx2"`) against the scalar specification and an exact `i128` reference,
//! for every length 0..=300, random data and extremes, every output type,
//! per tensor and per channel, both rounding modes.

use proptest::prelude::*;
use qkit::Error;
use qkit::requant::{
    Multipliers, OutputStage, QuantizedMultiplier, RequantOutput, Rounding, requantize,
    requantize_scalar,
};

/// n / 2^k rounded half up / half away from zero, in i128.
fn rhu(n: i128, k: u32) -> i128 {
    if k == 0 {
        n
    } else {
        (2 * n + (1i128 << k)).div_euclid(1i128 << (k + 1))
    }
}
fn rhaz(n: i128, k: u32) -> i128 {
    if k == 0 {
        return n;
    }
    let mag = (n.abs() * 2 + (1i128 << k)) >> (k + 1);
    if n < 0 { -mag } else { mag }
}

/// The output stage from its definition, in i128 (wraps modelled explicitly).
fn reference(acc: i32, bias: i32, m: QuantizedMultiplier, s: &OutputStage) -> i32 {
    let x = acc.wrapping_add(bias) as i128;
    let y = match s.rounding {
        Rounding::Double => {
            let l = m.shift.max(0) as u32;
            let xl = ((x << l) as u32 as i32) as i128; // i32 wrap
            let h = rhu(2 * xl * m.multiplier as i128, 32); // q >= 0: no saturation
            rhaz(h, (-m.shift).max(0) as u32)
        }
        Rounding::Single => rhu(x * m.multiplier as i128, (31 - m.shift) as u32),
    };
    let y = (y as u32 as i32).wrapping_add(s.zero_point);
    y.clamp(s.act_min, s.act_max)
}

fn check<T: RequantOutput + Default + Into<i32>>(
    acc: &[i32],
    bias: Option<&[i32]>,
    stage: &OutputStage,
) {
    let mut fast = vec![T::default(); acc.len()];
    let mut slow = vec![T::default(); acc.len()];
    requantize(acc, bias, stage, &mut fast).unwrap();
    requantize_scalar(acc, bias, stage, &mut slow).unwrap();
    assert_eq!(
        fast,
        slow,
        "SIMD != scalar: n = {}, stage = {stage:?}",
        acc.len()
    );
    let channels = match (stage.multipliers, bias) {
        (Multipliers::PerChannel(m), _) => m.len(),
        (_, Some(b)) => b.len(),
        _ => 1,
    };
    for (i, (&a, &o)) in acc.iter().zip(&slow).enumerate() {
        let c = i % channels;
        let m = match stage.multipliers {
            Multipliers::PerTensor(m) => m,
            Multipliers::PerChannel(ms) => ms[c],
        };
        let b = bias.map_or(0, |b| b[c]);
        assert_eq!(
            o.into(),
            reference(a, b, m, stage),
            "i = {i}, acc = {a}, m = {m:?}"
        );
    }
}

/// A small deterministic generator (xorshift) so the 0..=300 sweep is cheap.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn i32(&mut self) -> i32 {
        match self.next() % 8 {
            0 => [
                0,
                1,
                -1,
                i32::MIN,
                i32::MAX,
                i32::MIN + 1,
                1 << 30,
                -(1 << 30),
            ][(self.next() % 8) as usize],
            1 => (self.next() as i32) >> (self.next() % 31), // all magnitudes
            2 => ((self.next() as i32) >> 20) | 1 << (self.next() % 20), // ties
            _ => (self.next() as i32) >> 12,                 // typical accumulators
        }
    }
    fn multiplier(&mut self) -> QuantizedMultiplier {
        let multiplier = match self.next() % 6 {
            0 => 1 << 30,
            1 => i32::MAX,
            2 => 0,
            _ => (1 << 30) + (self.next() % (1 << 30)) as i32,
        };
        let shift = match self.next() % 4 {
            0 => [-31, 30, 0, -1, 1][(self.next() % 5) as usize],
            1 => (self.next() % 62) as i32 - 31,
            _ => -((self.next() % 12) as i32), // the usual right shifts
        };
        QuantizedMultiplier { multiplier, shift }
    }
}

/// The lengths the sweep covers: every one up to 300 natively; under Miri
/// (which interprets every intrinsic) the ones around each lane count.
fn lengths() -> Vec<usize> {
    if cfg!(miri) {
        vec![0, 1, 7, 8, 9, 15, 16, 17, 18, 24, 31, 33]
    } else {
        (0..=300).collect()
    }
}

/// Issue 10's soundness bug: per channel, several rows, a row length that is
/// not a multiple of the lane count. The AVX2 path used to write row 2
/// through a raw pointer invalidated by the scalar tail of row 1 (undefined
/// behaviour under Stacked Borrows; `cargo +nightly miri test` with
/// `-C target-feature=+avx2` reported it here).
#[test]
fn per_channel_rows_with_a_scalar_tail() {
    let ms = [QuantizedMultiplier {
        multiplier: 1 << 30,
        shift: -2,
    }; 9];
    let stage = OutputStage {
        multipliers: Multipliers::PerChannel(&ms),
        rounding: Rounding::Double,
        zero_point: 0,
        act_min: -128,
        act_max: 127,
    };
    let acc: Vec<i32> = (0..18).map(|i| i * 37 - 300).collect();
    let (mut fast, mut slow) = ([0i8; 18], [0i8; 18]);
    requantize(&acc, None, &stage, &mut fast).unwrap();
    requantize_scalar(&acc, None, &stage, &mut slow).unwrap();
    assert_eq!(fast, slow);
    assert_eq!(slow[0], -38); // -300 / 8 = -37.5 -> -38 (ties away from zero)
}

#[test]
fn every_length_0_to_300_matches_scalar_and_reference() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for n in lengths() {
        let acc: Vec<i32> = (0..n).map(|_| rng.i32()).collect();
        for rounding in [Rounding::Double, Rounding::Single] {
            let m = rng.multiplier();
            let zp = (rng.next() % 256) as i32 - 128;
            let stage = OutputStage {
                multipliers: Multipliers::PerTensor(m),
                rounding,
                zero_point: zp,
                act_min: -128,
                act_max: 127,
            };
            check::<i8>(&acc, None, &stage);
            let u8_stage = OutputStage {
                zero_point: zp + 128,
                act_min: 0,
                act_max: 255,
                ..stage
            };
            check::<u8>(&acc, None, &u8_stage);
            let i16_stage = OutputStage {
                zero_point: 0,
                act_min: -32768,
                act_max: 32767,
                ..stage
            };
            check::<i16>(&acc, None, &i16_stage);
            // Per channel: every channel count that divides n, up to 40.
            for channels in (1..=40).filter(|c| n % c == 0).step_by(3) {
                let ms: Vec<_> = (0..channels).map(|_| rng.multiplier()).collect();
                let bias: Vec<i32> = (0..channels).map(|_| rng.i32()).collect();
                let stage = OutputStage {
                    multipliers: Multipliers::PerChannel(&ms),
                    act_min: -100 + (rng.next() % 50) as i32,
                    act_max: 127 - (rng.next() % 50) as i32,
                    ..stage
                };
                check::<i8>(&acc, Some(&bias), &stage);
                check::<i8>(&acc, None, &stage);
                let pt = OutputStage {
                    multipliers: Multipliers::PerTensor(ms[0]),
                    ..stage
                };
                check::<i8>(&acc, Some(&bias), &pt);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    // Under Miri the deterministic sweep above covers the unsafe code;
    // proptest's failure persistence needs the file system Miri isolates.
    #[test]
    #[cfg_attr(miri, ignore)]
    fn random_calls_match(
        acc in prop::collection::vec(any::<i32>(), 0..100),
        q in prop_oneof![Just(0), Just(i32::MAX), Just(1 << 30), 0..=i32::MAX],
        shift in -31i32..=30,
        double in any::<bool>(),
        zp in -128i32..=127,
    ) {
        let stage = OutputStage {
            multipliers: Multipliers::PerTensor(QuantizedMultiplier { multiplier: q, shift }),
            rounding: if double { Rounding::Double } else { Rounding::Single },
            zero_point: zp,
            act_min: -128,
            act_max: 127,
        };
        check::<i8>(&acc, None, &stage);
    }
}

#[test]
fn bad_calls_are_errors() {
    let ok = OutputStage {
        multipliers: Multipliers::PerTensor(QuantizedMultiplier::ONE),
        rounding: Rounding::Double,
        zero_point: 0,
        act_min: -128,
        act_max: 127,
    };
    let acc = [1, 2, 3, 4];
    let mut out = [0i8; 4];
    assert!(requantize(&acc, None, &ok, &mut out).is_ok());
    assert_eq!(
        requantize(&acc, None, &ok, &mut [0i8; 3]),
        Err(Error::LengthMismatch {
            expected: 4,
            found: 3
        })
    );
    assert!(matches!(
        requantize(&acc, Some(&[1, 2, 3]), &ok, &mut out),
        Err(Error::InvalidParameter(_))
    ));
    let two = [QuantizedMultiplier::ONE; 2];
    let pc = OutputStage {
        multipliers: Multipliers::PerChannel(&two),
        ..ok
    };
    assert!(requantize(&acc, Some(&[1, 2]), &pc, &mut out).is_ok());
    assert_eq!(
        requantize(&acc, Some(&[1, 2, 3, 4]), &pc, &mut out),
        Err(Error::LengthMismatch {
            expected: 2,
            found: 4
        })
    );
    let none = OutputStage {
        multipliers: Multipliers::PerChannel(&[]),
        ..ok
    };
    assert_eq!(requantize(&acc, None, &none, &mut out), Err(Error::Empty));
    for m in [
        QuantizedMultiplier {
            multiplier: -1,
            shift: 0,
        },
        QuantizedMultiplier {
            multiplier: 1 << 30,
            shift: 31,
        },
        QuantizedMultiplier {
            multiplier: 1 << 30,
            shift: -32,
        },
    ] {
        let s = OutputStage {
            multipliers: Multipliers::PerTensor(m),
            ..ok
        };
        assert!(requantize(&acc, None, &s, &mut out).is_err(), "{m:?}");
    }
    let s = OutputStage {
        zero_point: 128,
        ..ok
    };
    assert!(matches!(
        requantize(&acc, None, &s, &mut out),
        Err(Error::ZeroPointOutOfRange { .. })
    ));
    let s = OutputStage {
        act_min: 5,
        act_max: 4,
        ..ok
    };
    assert!(requantize(&acc, None, &s, &mut out).is_err());
    let s = OutputStage { act_max: 200, ..ok };
    assert!(requantize(&acc, None, &s, &mut out).is_err());
    let s = OutputStage {
        zero_point: 128,
        act_min: 0,
        act_max: 255,
        ..ok
    };
    assert!(requantize(&acc, None, &s, &mut [0u8; 4]).is_ok());
    assert!(requantize::<i8>(&[], None, &ok, &mut []).is_ok());
}
