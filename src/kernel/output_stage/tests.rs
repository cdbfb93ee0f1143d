//! The layers' path of the output stage (a channel table, `Params::Table`)
//! on every available instruction set against the portable one; the slice
//! API's path has its own sweep in `tests/requant_slice.rs`. Row lengths
//! 0..=300 (every tail of every lane count, one to three rows), every mode,
//! every output type, extreme accumulators, biases, multipliers, shifts and
//! scales, zero points at the ends of the output range. No allocation: the
//! crate's tests build without `alloc`.

use super::{Channel, Clamp, Job, RequantMode, RequantOutput, run_scalar};
use crate::kernel::Isa;
use crate::requant::QuantizedMultiplier;

/// xorshift: deterministic, cheap.
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
        match self.next() % 6 {
            0 => self.pick(&[0, 1, -1, i32::MIN, i32::MAX, i32::MIN + 1, 1 << 30]),
            1 => (self.next() as i32) >> (self.next() % 31),
            2 => ((self.next() as i32) >> 20) | 1 << (self.next() % 20), // ties
            _ => (self.next() as i32) >> 12,
        }
    }
    fn channel(&mut self) -> Channel {
        let multiplier = match self.next() % 5 {
            0 => self.pick(&[0, 1, i32::MAX, i32::MAX - 1, 1 << 30, (1 << 30) + 1]),
            _ => (1 << 30) + (self.next() % (1 << 30)) as i32,
        };
        let shift = match self.next() % 3 {
            0 => self.pick(&[-31, -30, 30, 29, 0, -1, 1]),
            1 => (self.next() % 62) as i32 - 31,
            _ => -((self.next() % 12) as i32),
        };
        let scale = match self.next() % 4 {
            0 => self.pick(&[0.0, 0.5, 1.0, 1e-30, 3e5, f32::MAX]),
            1 => 2f32.powi(-((self.next() % 24) as i32)), // exact ties
            _ => (self.next() % 1_000_000) as f32 * 1e-7,
        };
        Channel {
            bias: self.i32(),
            multiplier: QuantizedMultiplier { multiplier, shift },
            scale,
            real: f64::from(scale),
            bias64: 0,
        }
    }
}

const MODES: [RequantMode; 5] = [
    RequantMode::Double,
    RequantMode::Single,
    RequantMode::LiteRtOptimized,
    RequantMode::LiteRtReference,
    RequantMode::Float32,
];

/// Zero points and clamps: both ends of `T`'s range, and a random inner one.
fn clamps<T: RequantOutput>(rng: &mut Rng) -> [Clamp; 3] {
    let span = (T::MAX - T::MIN) as u64;
    let a = T::MIN + (rng.next() % span) as i32;
    let b = T::MIN + (rng.next() % span) as i32;
    [
        Clamp::new(T::MIN, T::MIN, T::MAX),
        Clamp::new(T::MAX, T::MIN, T::MAX),
        Clamp::new(T::MIN + (rng.next() % span) as i32, a.min(b), a.max(b)),
    ]
}

fn sweep<T: RequantOutput + PartialEq + core::fmt::Debug>(seed: u64) {
    const MAX_ROW: usize = 300;
    let mut rng = Rng(seed);
    let mut channels = [Channel::default(); MAX_ROW];
    let mut acc = [0i32; 3 * MAX_ROW];
    let (mut want, mut got) = ([T::default(); 3 * MAX_ROW], [T::default(); 3 * MAX_ROW]);
    let isas = Isa::ALL.into_iter().filter(|i| i.is_available());
    let tables = isas.filter_map(Isa::kernels);
    for row in 0..=MAX_ROW {
        let n = row * (1 + row % 3);
        let channels = &mut channels[..row];
        for c in channels.iter_mut() {
            *c = rng.channel();
        }
        for a in &mut acc[..n] {
            *a = rng.i32();
        }
        for clamp in clamps::<T>(&mut rng) {
            for mode in MODES {
                let job = Job::table(&acc[..n], channels, mode, clamp);
                run_scalar(&job, &mut want[..n]);
                for k in tables.clone() {
                    got[..n].fill(T::default());
                    T::entry(k)(&job, &mut got[..n]);
                    assert_eq!(
                        got[..n],
                        want[..n],
                        "{:?} {mode:?} row {row} n {n} {clamp:?}",
                        k.isa
                    );
                }
            }
        }
    }
}

#[test]
fn table_paths_match_the_portable_one_i8() {
    sweep::<i8>(0x9E37_79B9_7F4A_7C15);
}

#[test]
fn table_paths_match_the_portable_one_u8() {
    sweep::<u8>(0xD1B5_4A32_D192_ED03);
}

#[test]
fn table_paths_match_the_portable_one_i16() {
    sweep::<i16>(0x2545_F491_4F6C_DD1D);
}
