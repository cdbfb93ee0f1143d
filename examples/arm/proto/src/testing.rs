//! Inputs for the tests and benchmarks of the prototypes (shared by the
//! Cortex-M firmware and the AArch64 program).

use crate::OutputStage;

/// xorshift32: reproducible inputs.
pub struct Rng(pub u32);

impl Rng {
    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + (self.next_u32() % (hi - lo + 1) as u32) as i32
    }
    /// Fills with int8, a quarter of the draws at the extremes -128 / 127.
    pub fn fill_i8(&mut self, v: &mut [i8]) {
        for e in v {
            let r = self.next_u32();
            *e = match r & 7 {
                0 => -128,
                1 => 127,
                _ => (r >> 8) as u8 as i8,
            };
        }
    }
}

/// Most channels of one [`StageCase`].
pub const STAGE_MAX: usize = 40;

/// A random output stage and accumulators that reach its corner cases:
/// every shift in `-31..=30`, multipliers `2^30` (the high multiply is
/// exact, so every rounding tie reaches the final shift), `i32::MAX` and
/// random, accumulators that are exact ties, `i32::MIN` / `MAX`, and
/// random values sized to the left shift; zero points and clamps.
pub struct StageCase {
    /// channels used
    pub n: usize,
    /// accumulators
    pub acc: [i32; STAGE_MAX],
    bias: [i32; STAGE_MAX],
    multiplier: [i32; STAGE_MAX],
    shift: [i32; STAGE_MAX],
    zp: i32,
    range: (i32, i32),
}

impl StageCase {
    /// Case number `trial` (its length is `trial % 41`, so consecutive
    /// trials cover every tail length).
    pub fn random(rng: &mut Rng, trial: u32) -> StageCase {
        let n = trial as usize % (STAGE_MAX + 1);
        let mut c = StageCase {
            n,
            acc: [0; STAGE_MAX],
            bias: [0; STAGE_MAX],
            multiplier: [0; STAGE_MAX],
            shift: [0; STAGE_MAX],
            zp: 0,
            range: (-128, 127),
        };
        for i in 0..n {
            let shift = rng.range(-31, 30);
            c.shift[i] = shift;
            c.multiplier[i] = match rng.next_u32() % 4 {
                0 => 1 << 30,
                1 => i32::MAX,
                _ => (rng.next_u32() >> 1) as i32 | (1 << 30),
            };
            c.bias[i] = match rng.next_u32() % 2 {
                0 => 0,
                _ => (rng.next_u32() as i32) >> rng.range(0, 31),
            };
            c.acc[i] = match rng.next_u32() % 4 {
                0 => rng.range(-64, 64) << (-shift).clamp(0, 25),
                1 => [i32::MIN, i32::MAX, 0, -1, 1][rng.range(0, 4) as usize],
                _ => (rng.next_u32() as i32) >> (shift.max(0) + rng.range(0, 8)),
            };
        }
        c.zp = rng.range(-128, 127);
        c.range = match trial % 3 {
            0 => (-128, 127),
            1 => (c.zp, 127),
            _ => (rng.range(-128, 0), rng.range(0, 127)),
        };
        c
    }

    /// The stage over the case's `n` channels.
    pub fn stage(&self) -> OutputStage<'_> {
        OutputStage {
            bias: &self.bias[..self.n],
            multiplier: &self.multiplier[..self.n],
            shift: &self.shift[..self.n],
            output_zero_point: self.zp,
            act_min: self.range.0,
            act_max: self.range.1,
        }
    }

    /// Whether `simd` equals the scalar reference on this case.
    pub fn agrees(&self, simd: fn(&[i32], &OutputStage<'_>, &mut [i8])) -> bool {
        let (mut got, mut want) = ([0i8; STAGE_MAX], [0i8; STAGE_MAX]);
        let acc = &self.acc[..self.n];
        crate::requantize_i8(acc, &self.stage(), &mut want[..self.n]);
        simd(acc, &self.stage(), &mut got[..self.n]);
        got[..self.n] == want[..self.n]
    }
}
