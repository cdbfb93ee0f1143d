//! The TFLite Micro FULLY_CONNECTED golden vectors of
//! `tests/data/fc_golden.json`, embedded as `fc_golden.bin` (made by
//! `gen_golden.py`, which documents the layout).

/// The embedded file.
pub static FC_GOLDEN: &[u8] = include_bytes!("../fc_golden.bin");

/// Weight / activation type of a case.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// int8 weights and activations
    Int8,
    /// packed int4 weights, int8 activations
    Int4,
    /// int8 weights, int16 activations (16x8)
    Int16,
}

/// One case, borrowing the embedded bytes.
pub struct Case<'a> {
    /// weight / activation types
    pub kind: Kind,
    /// 0 NONE, 1 RELU, 2 RELU6
    pub activation: u8,
    /// rows of input
    pub batch: usize,
    /// columns
    pub in_dim: usize,
    /// output channels
    pub out_dim: usize,
    /// input scale
    pub input_scale: f32,
    /// input zero point
    pub input_zero_point: i32,
    /// output scale
    pub output_scale: f32,
    /// output zero point
    pub output_zero_point: i32,
    /// little-endian f32 filter scales
    pub filter_scales: &'a [u8],
    /// int8 weights, or packed int4 bytes
    pub weights: &'a [u8],
    /// little-endian i32 (i64 for Int16) bias, if any
    pub bias: Option<&'a [u8]>,
    /// little-endian input elements (1 or 2 bytes)
    pub input: &'a [u8],
    /// little-endian expected outputs (1 or 2 bytes)
    pub output: &'a [u8],
}

/// `&[u8]` as `&[i8]`.
pub fn as_i8(b: &[u8]) -> &[i8] {
    // SAFETY: same size and alignment, every bit pattern valid.
    unsafe { core::slice::from_raw_parts(b.as_ptr() as *const i8, b.len()) }
}

/// Little-endian 2/4/8-byte values of `b` into `out`.
pub fn read_le<const N: usize, T>(b: &[u8], out: &mut [T], from: fn([u8; N]) -> T) -> usize {
    let n = b.len() / N;
    for (o, c) in out.iter_mut().zip(b.chunks_exact(N)) {
        *o = from(c.try_into().unwrap());
    }
    n
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn f32(&mut self) -> f32 {
        f32::from_le_bytes(self.take(4).try_into().unwrap())
    }
}

/// Every case of the embedded file, in order.
pub fn cases() -> impl Iterator<Item = Case<'static>> {
    let mut r = Reader(FC_GOLDEN);
    assert_eq!(r.take(4), b"QKFC");
    let count = r.u32();
    (0..count).map(move |_| {
        let start = FC_GOLDEN.len() - r.0.len();
        let kind = match r.u8() {
            0 => Kind::Int8,
            1 => Kind::Int4,
            _ => Kind::Int16,
        };
        let _per_channel = r.u8();
        let activation = r.u8();
        let has_bias = r.u8() != 0;
        let (batch, in_dim, out_dim) = (r.u32() as usize, r.u32() as usize, r.u32() as usize);
        let input_scale = r.f32();
        let input_zero_point = r.u32() as i32;
        let output_scale = r.f32();
        let output_zero_point = r.u32() as i32;
        let n_scales = r.u32() as usize;
        let filter_scales = r.take(4 * n_scales);
        let n_w = in_dim * out_dim;
        let weights = r.take(if kind == Kind::Int4 {
            n_w.div_ceil(2)
        } else {
            n_w
        });
        let elem = if kind == Kind::Int16 { 2 } else { 1 };
        let bias = has_bias.then(|| r.take(out_dim * if kind == Kind::Int16 { 8 } else { 4 }));
        let input = r.take(batch * in_dim * elem);
        let output = r.take(batch * out_dim * elem);
        let used = FC_GOLDEN.len() - r.0.len() - start;
        r.take((4 - used % 4) % 4);
        Case {
            kind,
            activation,
            batch,
            in_dim,
            out_dim,
            input_scale,
            input_zero_point,
            output_scale,
            output_zero_point,
            filter_scales,
            weights,
            bias,
            input,
            output,
        }
    })
}
