//! The UCI 8x8 digits, loaded from `examples/data/digits.bin` (see
//! `tools/digits_to_bin.py` and `examples/data/DIGITS-LICENSE.md`).

/// Pixels per image.
pub const PIXELS: usize = 64;
/// Number of classes.
pub const CLASSES: usize = 10;

/// One image: pixels scaled to [0, 1] and its label.
#[derive(Clone)]
pub struct Sample {
    pub x: [f32; PIXELS],
    pub label: usize,
}

/// The file, embedded at compile time so the example runs from any directory.
static RAW: &[u8] = include_bytes!("../data/digits.bin");

/// All 1797 samples in file order.
pub fn load() -> Vec<Sample> {
    RAW.chunks_exact(PIXELS + 1)
        .map(|rec| {
            let mut x = [0.0f32; PIXELS];
            for (xi, &p) in x.iter_mut().zip(&rec[..PIXELS]) {
                *xi = p as f32 / 16.0;
            }
            Sample {
                x,
                label: rec[PIXELS] as usize,
            }
        })
        .collect()
}

/// A fixed train/test split: a seeded Fisher-Yates shuffle, then 80 / 20.
pub fn split(all: Vec<Sample>, seed: u64) -> (Vec<Sample>, Vec<Sample>) {
    let mut rng = Rng::new(seed);
    let mut v = all;
    for i in (1..v.len()).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
    let test = v.split_off(v.len() * 4 / 5);
    (v, test)
}

/// xorshift64*: a tiny deterministic generator, so runs are reproducible
/// on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * n as f64) as usize
    }
    /// Uniform in [-1, 1).
    pub fn symmetric(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u32 << 24) as f32) * 2.0 - 1.0
    }
}
