//! The output stage (slice API): every instruction-set path against the
//! portable one, and the portable one against an exact reference written
//! from each mode's definition (`i128` for the integer modes, `f64` for the
//! float ones), for every length 0..=300, random data and edge values
//! (0, ±1, `i32::MIN`/`MAX`, exact ties), every output type, per tensor and
//! per channel, with and without bias, in all five modes.
//!
//! Under Miri (which interprets every intrinsic; `.ci/miri.sh` runs this
//! file with no extra target features, with AVX2 and with AVX-512 enabled)
//! the sweep is Miri-sized: lengths 0..=17, 33 and 64 (every tail of
//! the 8- and 16-lane paths, with one and several vectors before it), per
//! channel with one channel and with the most that divide the length, one mode
//! per length in turn (each mode meets many tails; the loads and stores,
//! where undefined behaviour could hide, are the driver's and the same for
//! every mode), per tensor and per channel, with and without bias, every
//! output type, and only the instruction set the pass detects.

use proptest::prelude::*;
use qkit::Error;
use qkit::kernel::{
    Isa, Multipliers, OutputStage, RequantOutput, Scaling, requantize, requantize_scalar,
};
use qkit::requant::QuantizedMultiplier;

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

/// One channel's multiplier, whatever its kind.
#[derive(Clone, Copy, Debug)]
enum M {
    Q(QuantizedMultiplier),
    F32(f32),
    F64(f64),
}

/// The channel `c` multiplier of a stage.
fn multiplier(s: &Scaling, c: usize) -> M {
    fn pick<T: Copy>(m: Multipliers<'_, T>, c: usize) -> T {
        match m {
            Multipliers::PerTensor(m) => m,
            Multipliers::PerChannel(ms) => ms[c],
        }
    }
    match *s {
        Scaling::Double(m) | Scaling::Single(m) | Scaling::LiteRtOptimized(m) => M::Q(pick(m, c)),
        Scaling::LiteRtReference(m) => M::F64(pick(m, c)),
        Scaling::Float32(m) => M::F32(pick(m, c)),
    }
}

/// The output stage from each mode's definition.
fn reference(acc: i32, bias: i32, s: &OutputStage, c: usize) -> i32 {
    let x = acc.wrapping_add(bias) as i128;
    let (zp, lo, hi) = (s.zero_point as i128, s.act_min as i128, s.act_max as i128);
    let exact = |y: i128| (y + zp).clamp(lo, hi) as i32;
    // `x << L` wrapped to i32, then SRDHM (q >= 0: no saturation).
    let srdhm = |m: QuantizedMultiplier| {
        let xl = ((x << m.shift.max(0)) as u32 as i32) as i128;
        rhu(2 * xl * m.multiplier as i128, 32)
    };
    match (&s.scaling, multiplier(&s.scaling, c)) {
        (Scaling::Double(_), M::Q(m)) => exact(rhaz(srdhm(m), (-m.shift).max(0) as u32)),
        (Scaling::LiteRtOptimized(_), M::Q(m)) => exact(rhu(srdhm(m), (-m.shift).max(0) as u32)),
        // Single rounding truncates its result to i32 (TFLite's cast).
        (Scaling::Single(_), M::Q(m)) => {
            exact(rhu(x * m.multiplier as i128, (31 - m.shift) as u32) as u32 as i32 as i128)
        }
        (Scaling::LiteRtReference(_), M::F64(r)) => {
            // Half away from zero in f64, saturated to i32 (NaN: 0).
            exact(((x as i32 as f64) * r).round() as i32 as i128)
        }
        (Scaling::Float32(_), M::F32(f)) => {
            let v = (x as i32 as f32) * f; // the f32 product the runtimes form
            let v = (v as f64).clamp((lo - zp) as f64, (hi - zp) as f64);
            (v.round_ties_even() as i128 + zp) as i32
        }
        _ => unreachable!(),
    }
}

fn channels(stage: &OutputStage, bias: Option<&[i32]>) -> usize {
    stage
        .scaling
        .channels()
        .or(bias.map(<[i32]>::len))
        .unwrap_or(1)
}

/// The instruction sets to test: every one this CPU has; under Miri only
/// the one the pass detects (the lower ones have their own pass).
fn isas() -> Vec<Isa> {
    if cfg!(miri) {
        vec![Isa::detect()]
    } else {
        Isa::ALL.into_iter().filter(|i| i.is_available()).collect()
    }
}

/// Every available path (the portable one included) equals the reference;
/// the dispatching entry and `requantize_scalar` equal it too. Under Miri
/// only the path the pass detects runs (the portable code has no `unsafe`).
fn check<T: RequantOutput + Into<i32>>(acc: &[i32], bias: Option<&[i32]>, stage: &OutputStage) {
    let chans = channels(stage, bias);
    let want: Vec<i32> = acc
        .iter()
        .enumerate()
        .map(|(i, &a)| reference(a, bias.map_or(0, |b| b[i % chans]), stage, i % chans))
        .collect();
    let agrees = |what: &dyn core::fmt::Debug, got: &[T]| {
        for (i, (&g, &w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(
                g.into(),
                w,
                "{what:?}: i = {i}, acc = {}, n = {}, stage = {stage:?}",
                acc[i],
                acc.len()
            );
        }
    };
    for isa in isas() {
        let mut got = vec![T::default(); acc.len()];
        isa.requantize(acc, bias, stage, &mut got).unwrap();
        agrees(&isa, &got);
    }
    if cfg!(miri) {
        return; // the dispatch resolves to `Isa::detect()`, just checked
    }
    let mut got = vec![T::default(); acc.len()];
    requantize(acc, bias, stage, &mut got).unwrap();
    agrees(&"dispatch", &got);
    requantize_scalar(acc, bias, stage, &mut got).unwrap();
    agrees(&"requantize_scalar", &got);
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
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    fn i32(&mut self) -> i32 {
        match self.next() % 8 {
            0 => self.pick(&[
                0,
                1,
                -1,
                i32::MIN,
                i32::MAX,
                i32::MIN + 1,
                1 << 30,
                -(1 << 30),
            ]),
            1 => (self.next() as i32) >> (self.next() % 31), // all magnitudes
            // Exact ties: odd multiples of a power of two.
            2 => ((self.next() as i32) >> 20) | 1 << (self.next() % 20),
            _ => (self.next() as i32) >> 12, // typical accumulators
        }
    }
    fn q31(&mut self) -> QuantizedMultiplier {
        let multiplier = match self.next() % 6 {
            0 => 1 << 30, // exact SRDHM: the second rounding sees exact ties
            1 => i32::MAX,
            2 => 0,
            _ => (1 << 30) + (self.next() % (1 << 30)) as i32,
        };
        let shift = match self.next() % 4 {
            0 => self.pick(&[-31, 30, 0, -1, 1]),
            1 => (self.next() % 62) as i32 - 31,
            _ => -((self.next() % 12) as i32), // the usual right shifts
        };
        QuantizedMultiplier { multiplier, shift }
    }
    fn f32(&mut self) -> f32 {
        match self.next() % 5 {
            0 => self.pick(&[0.5, 0.25, 1.0, 0.0, 1e-30, 3e5, f32::MAX]),
            1 => 2f32.powi(-((self.next() % 24) as i32)), // exact ties
            _ => (self.next() % 1_000_000) as f32 * 1e-7,
        }
    }
    fn f64(&mut self) -> f64 {
        match self.next() % 5 {
            0 => self.pick(&[0.5, 0.25, 1.0, 0.0, 1e-300, 1e12, f64::MAX]),
            1 => 2f64.powi(-((self.next() % 40) as i32)),
            _ => (self.next() % 1_000_000) as f64 * 1.3e-7,
        }
    }
}

/// The lengths the sweep covers: every one up to 300 natively; under Miri
/// every one up to 17 and a few with several vectors.
fn lengths() -> Vec<usize> {
    if cfg!(miri) {
        (0..=17).chain([33, 64]).collect()
    } else {
        (0..=300).collect()
    }
}

/// Runs `f` with a per-tensor and a per-channel (`chans` channels) scaling
/// of every mode, or under Miri of mode `n % 5` only.
fn scalings(rng: &mut Rng, n: usize, chans: usize, mut f: impl FnMut(&Scaling, &[i32])) {
    let q: Vec<_> = (0..chans).map(|_| rng.q31()).collect();
    let f32s: Vec<_> = (0..chans).map(|_| rng.f32()).collect();
    let f64s: Vec<_> = (0..chans).map(|_| rng.f64()).collect();
    let bias: Vec<i32> = (0..chans).map(|_| rng.i32()).collect();
    for s in [
        Scaling::Double(Multipliers::PerChannel(&q)),
        Scaling::Single(Multipliers::PerChannel(&q)),
        Scaling::LiteRtOptimized(Multipliers::PerChannel(&q)),
        Scaling::LiteRtReference(Multipliers::PerChannel(&f64s)),
        Scaling::Float32(Multipliers::PerChannel(&f32s)),
        Scaling::Double(Multipliers::PerTensor(q[0])),
        Scaling::Single(Multipliers::PerTensor(q[0])),
        Scaling::LiteRtOptimized(Multipliers::PerTensor(q[0])),
        Scaling::LiteRtReference(Multipliers::PerTensor(f64s[0])),
        Scaling::Float32(Multipliers::PerTensor(f32s[0])),
    ]
    .iter()
    .enumerate()
    .filter(|(i, _)| !cfg!(miri) || i % 5 == n % 5)
    {
        f(s.1, &bias);
    }
}

#[test]
fn every_length_every_mode_every_path() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for n in lengths() {
        let acc: Vec<i32> = (0..n).map(|_| rng.i32()).collect();
        // Channel counts that divide n: 1 (per tensor), and a few up to 40.
        let counts: Vec<usize> = (1..=40.min(n.max(1))).filter(|c| n % c == 0).collect();
        let (first, last) = (counts[0], counts[counts.len() - 1]);
        let counts = if cfg!(miri) {
            vec![first, last]
        } else {
            vec![first, counts[counts.len() / 2], last]
        };
        for (k, &chans) in counts.iter().enumerate() {
            let (zp, lo, hi) = (
                (rng.next() % 256) as i32 - 128,
                -128 + (rng.next() % 60) as i32,
                127 - (rng.next() % 60) as i32,
            );
            scalings(&mut rng, n, chans, |s, bias| {
                let per_channel = s.channels().is_some();
                let stage = OutputStage::new::<i8>(*s)
                    .with_zero_point(zp)
                    .with_activation_range(lo, hi);
                check::<i8>(&acc, Some(bias), &stage);
                if per_channel {
                    check::<i8>(&acc, None, &stage);
                }
                if k == 0 {
                    // Full ranges of the other types.
                    let u8_stage = OutputStage::new::<u8>(*s).with_zero_point(zp + 128);
                    check::<u8>(&acc, Some(bias), &u8_stage);
                    let i16_stage = OutputStage::new::<i16>(*s).with_zero_point(zp * 100);
                    check::<i16>(&acc, Some(bias), &i16_stage);
                    if !per_channel {
                        check::<i8>(&acc, None, &stage);
                        check::<i16>(&acc, None, &i16_stage);
                    }
                }
            });
        }
    }
}

/// Issue 10's soundness bug: per channel, several rows, a row length that is
/// not a multiple of the lane count. The AVX2 path used to write row 2
/// through a raw pointer invalidated by the scalar tail of row 1 (undefined
/// behaviour under Stacked Borrows; `cargo +nightly miri test` with
/// `-C target-feature=+avx2` reported it here).
#[test]
fn per_channel_rows_with_a_tail() {
    let ms = [QuantizedMultiplier {
        multiplier: 1 << 30,
        shift: -2,
    }; 9];
    let stage = OutputStage::new::<i8>(Scaling::Double(Multipliers::PerChannel(&ms)));
    let acc: Vec<i32> = (0..18).map(|i| i * 37 - 300).collect();
    check::<i8>(&acc, None, &stage);
    let mut out = [0i8; 18];
    requantize(&acc, None, &stage, &mut out).unwrap();
    assert_eq!(out[0], -38); // -300 / 8 = -37.5 -> -38 (ties away from zero)
}

/// The modes differ where their definitions say: on exact ties.
#[test]
fn the_modes_round_ties_as_their_runtimes() {
    let quarter = Multipliers::PerTensor(QuantizedMultiplier {
        multiplier: 1 << 30,
        shift: -1,
    });
    let acc = [-6, -2, 2, 6, 10];
    let run = |s: Scaling| {
        let mut out = [0i8; 5];
        requantize(&acc, None, &OutputStage::new::<i8>(s), &mut out).unwrap();
        out
    };
    // x / 4: -1.5, -0.5, 0.5, 1.5, 2.5
    assert_eq!(run(Scaling::Double(quarter)), [-2, -1, 1, 2, 3]); // away
    assert_eq!(run(Scaling::Single(quarter)), [-1, 0, 1, 2, 3]); // up
    assert_eq!(run(Scaling::LiteRtOptimized(quarter)), [-1, 0, 1, 2, 3]); // up
    let real = Multipliers::PerTensor(0.25);
    assert_eq!(run(Scaling::LiteRtReference(real)), [-2, -1, 1, 2, 3]); // away
    let f = Multipliers::PerTensor(0.25f32);
    assert_eq!(run(Scaling::Float32(f)), [-2, 0, 0, 2, 2]); // even
}

/// Zero points are added without wrapping: the exact sum is clamped.
#[test]
fn zero_point_never_wraps() {
    // M = 1 - 2^-31: |x · M| comes within a few units of i32's ends.
    let one = Multipliers::PerTensor(QuantizedMultiplier {
        multiplier: i32::MAX,
        shift: 0,
    });
    let acc = [i32::MAX, i32::MAX - 5, i32::MIN, i32::MIN + 3];
    for s in [
        Scaling::Double(one),
        Scaling::Single(one),
        Scaling::LiteRtOptimized(one),
    ] {
        let stage = OutputStage::new::<i8>(s).with_zero_point(100);
        let mut out = [0i8; 4];
        requantize(&acc, None, &stage, &mut out).unwrap();
        assert_eq!(out, [127, 127, -128, -128], "{s:?}");
        check::<i8>(&acc, None, &stage);
        let stage = stage.with_zero_point(-100);
        check::<i8>(&acc, None, &stage);
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
        scale in prop_oneof![Just(0.5f32), 0f32..1e3],
        mode in 0usize..5,
        zp in -128i32..=127,
    ) {
        let m = Multipliers::PerTensor(QuantizedMultiplier { multiplier: q, shift });
        let scaling = match mode {
            0 => Scaling::Double(m),
            1 => Scaling::Single(m),
            2 => Scaling::LiteRtOptimized(m),
            3 => Scaling::LiteRtReference(Multipliers::PerTensor(f64::from(scale))),
            _ => Scaling::Float32(Multipliers::PerTensor(scale)),
        };
        check::<i8>(&acc, None, &OutputStage::new::<i8>(scaling).with_zero_point(zp));
    }
}

#[test]
fn new_spans_the_output_type() {
    let s = Scaling::Float32(Multipliers::PerTensor(1.0));
    let st = OutputStage::new::<i16>(s);
    assert_eq!((st.zero_point, st.act_min, st.act_max), (0, -32768, 32767));
    let st = OutputStage::new::<i8>(s).with_activation_range(0, 6);
    assert_eq!((st.act_min, st.act_max), (0, 6));
}

#[test]
fn bad_calls_are_errors() {
    let one = Multipliers::PerTensor(QuantizedMultiplier::ONE);
    let ok = OutputStage::new::<i8>(Scaling::Double(one));
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
    let pc = OutputStage::new::<i8>(Scaling::Double(Multipliers::PerChannel(&two)));
    assert!(requantize(&acc, Some(&[1, 2]), &pc, &mut out).is_ok());
    assert_eq!(
        requantize(&acc, Some(&[1, 2, 3, 4]), &pc, &mut out),
        Err(Error::LengthMismatch {
            expected: 2,
            found: 4
        })
    );
    let none = OutputStage::new::<i8>(Scaling::Single(Multipliers::PerChannel(&[])));
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
        let m = Multipliers::PerTensor(m);
        for s in [
            Scaling::Double(m),
            Scaling::Single(m),
            Scaling::LiteRtOptimized(m),
        ] {
            let s = OutputStage::new::<i8>(s);
            assert!(requantize(&acc, None, &s, &mut out).is_err(), "{s:?}");
        }
    }
    for bad in [f32::NAN, f32::INFINITY, -0.5] {
        let scales = [1.0, bad];
        let s = OutputStage::new::<i8>(Scaling::Float32(Multipliers::PerChannel(&scales)));
        assert!(matches!(
            requantize(&acc, None, &s, &mut out),
            Err(Error::InvalidMultiplier(_))
        ));
        let s = OutputStage::new::<i8>(Scaling::LiteRtReference(Multipliers::PerTensor(
            f64::from(bad),
        )));
        assert!(matches!(
            requantize(&acc, None, &s, &mut out),
            Err(Error::InvalidMultiplier(_))
        ));
    }
    let s = ok.with_zero_point(128);
    assert!(matches!(
        requantize(&acc, None, &s, &mut out),
        Err(Error::ZeroPointOutOfRange { .. })
    ));
    let s = ok.with_activation_range(5, 4);
    assert!(requantize(&acc, None, &s, &mut out).is_err());
    let s = ok.with_activation_range(-128, 200);
    assert!(requantize(&acc, None, &s, &mut out).is_err());
    let s = OutputStage::new::<u8>(Scaling::Double(one)).with_zero_point(128);
    assert!(requantize(&acc, None, &s, &mut [0u8; 4]).is_ok());
    assert!(requantize::<i8>(&[], None, &ok, &mut []).is_ok());
    for isa in Isa::ALL.into_iter().filter(|i| !i.is_available()) {
        assert!(isa.requantize(&acc, None, &ok, &mut out).is_err());
    }
}
