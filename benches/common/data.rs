//! Benchmark data shared by the benches and `tools/compare`
//! (`#[path]`-included): a deterministic int8 stream, and buffers placed at
//! a known offset from a cache line.
#![allow(dead_code)]

/// `n` pseudo-random int8 (xorshift64 from `seed`); `narrow` keeps them in
/// `[-127, 127]`.
pub fn data(n: usize, seed: u64, narrow: bool) -> Vec<i8> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let v = (s >> 56) as i8;
            if narrow { v.max(-127) } else { v }
        })
        .collect()
}

/// A copy of some data whose first element sits `offset` bytes past a
/// 64-byte boundary.
pub struct Placed<T> {
    buf: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: Copy + Default> Placed<T> {
    pub fn new(src: &[T], offset: usize) -> Self {
        let mut buf = vec![T::default(); src.len() + 128];
        let addr = buf.as_ptr() as usize;
        let start = (64 + offset - addr % 64) % 64;
        buf[start..start + src.len()].copy_from_slice(src);
        Placed {
            buf,
            start,
            len: src.len(),
        }
    }

    pub fn get(&self) -> &[T] {
        &self.buf[self.start..self.start + self.len]
    }
}
