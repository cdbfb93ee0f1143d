//! [`QuantizeSlice`]: the slice methods of every quantizer, written once.

use half::{bf16, f16};

use crate::int4::{Nibble, packed_len};
use crate::quant::layout::{Run, Runs};
use crate::quant::per_tensor::{Affine, check_len, dequantize_one};
use crate::{Error, QInt, Round};

/// Quantizing and dequantizing whole slices, with one vocabulary for every
/// quantizer: [`Quantizer`](crate::quant::Quantizer) (one scale),
/// [`PerChannel`](crate::quant::PerChannel) and
/// [`PerBlock`](crate::quant::PerBlock) (a scale per channel or block of a
/// tensor) and their owned forms
/// [`PerChannelBuf`](crate::quant::PerChannelBuf) /
/// [`PerBlockBuf`](crate::quant::PerBlockBuf).
///
/// | input / output | quantize | dequantize |
/// | --- | --- | --- |
/// | `f32` | [`quantize_slice`](Self::quantize_slice) | [`dequantize_slice`](Self::dequantize_slice) |
/// | `half::f16` | [`quantize_slice_f16`](Self::quantize_slice_f16) | [`dequantize_slice_f16`](Self::dequantize_slice_f16) |
/// | `half::bf16` | [`quantize_slice_bf16`](Self::quantize_slice_bf16) | [`dequantize_slice_bf16`](Self::dequantize_slice_bf16) |
/// | packed 4-bit ([`I4`](crate::int4::I4) / [`U4`](crate::int4::U4)) | [`quantize_packed`](Self::quantize_packed) | [`dequantize_packed`](Self::dequantize_packed) |
///
/// The one-value forms stay on the per-tensor quantizer as inherent methods
/// ([`Quantizer::quantize`](crate::quant::Quantizer::quantize),
/// [`Quantizer::dequantize`](crate::quant::Quantizer::dequantize)). Like
/// `half`'s slice conversions, the slice forms live in one trait; bring it
/// into scope with `use qkit::quant::QuantizeSlice`. The trait is sealed:
/// its methods are provided, written once over the runs of elements that
/// share a scale.
///
/// Every element is quantized exactly as
/// [`Quantizer::quantize`](crate::quant::Quantizer::quantize) does with its
/// own scale and zero point (`saturate(round(x / scale) + zero_point)`, the
/// division in `f32`, `+inf` to the largest code, `-inf` and NaN to the
/// smallest), and dequantized as
/// [`Quantizer::dequantize`](crate::quant::Quantizer::dequantize). The
/// loops are branch-free and keep the `f32` division (a reciprocal
/// multiply would not be bit-exact), so they autovectorize. Half-precision
/// input is widened to `f32` exactly and then quantized: ONNX Runtime does
/// the same for `float16` input with a `float16` scale (pass the scale
/// widened to `f32`), dividing in `f32`, not in `f16`.
///
/// Errors: `Err(LengthMismatch)` unless the lengths agree: for a per-tensor
/// quantizer the input and output have the same length (any length); for a
/// per-channel or per-block quantizer both are the tensor's element count;
/// packed storage holds [`packed_len`]`(n)` bytes for `n` values.
///
/// ```
/// use qkit::quant::{PerChannel, QuantizeSlice, Quantizer};
/// use qkit::Round;
/// // One scale for the whole slice...
/// let q = Quantizer::<i8>::new(0.5, 0)?;
/// let mut out = [0i8; 3];
/// q.quantize_slice(&[0.25, 0.75, 100.0], &mut out, Round::HalfToEven)?;
/// assert_eq!(out, [0, 2, 127]);
/// // ...or one per row of a 2x3 matrix: the same method.
/// let pc = PerChannel::<i8>::new(&[0.5, 0.25], &[], &[2, 3], 0)?;
/// let mut w = [0i8; 6];
/// pc.quantize_slice(&[1.0, -1.0, 0.5, 1.0, -1.0, 0.5], &mut w, Round::HalfAwayFromZero)?;
/// assert_eq!(w, [2, -2, 1, 4, -4, 2]);
/// let mut back = [0f32; 6];
/// pc.dequantize_slice(&w, &mut back)?;
/// assert_eq!(back, [1.0, -1.0, 0.5, 1.0, -1.0, 0.5]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub trait QuantizeSlice: Runs {
    /// The integer type the quantized values are stored in.
    type Storage: QInt;

    /// Quantizes `x` into `out`, element by element.
    ///
    /// ```
    /// use qkit::{quant::{QuantizeSlice, Quantizer}, Round};
    /// let q = Quantizer::<i8>::new(0.5, 0)?;
    /// let mut out = [0i8; 4];
    /// q.quantize_slice(&[0.25, -0.25, 0.75, 100.0], &mut out, Round::HalfToEven)?;
    /// assert_eq!(out, [0, 0, 2, 127]);
    /// assert!(q.quantize_slice(&[1.0], &mut out, Round::HalfToEven).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    fn quantize_slice(
        &self,
        x: &[f32],
        out: &mut [Self::Storage],
        round: Round,
    ) -> Result<(), Error> {
        quantize_runs(self, x, out, round, |v| v)
    }

    /// Quantizes `f16` input: each value is widened to `f32` (exactly) and
    /// then quantized.
    ///
    /// ```
    /// use half::f16;
    /// use qkit::{quant::{PerBlock, QuantizeSlice, Quantizer}, Round};
    /// let q = Quantizer::<u8>::new(0.5, 128)?;
    /// let mut out = [0u8; 2];
    /// q.quantize_slice_f16(&[f16::from_f32(1.0), f16::NEG_INFINITY], &mut out, Round::HalfToEven)?;
    /// assert_eq!(out, [130, 0]);
    /// let pb = PerBlock::<i8>::new(&[0.5], &[], &[2], 0, 2)?;
    /// let mut q = [0i8; 2];
    /// pb.quantize_slice_f16(&[f16::ONE, f16::NEG_ONE], &mut q, Round::HalfToEven)?;
    /// assert_eq!(q, [2, -2]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    fn quantize_slice_f16(
        &self,
        x: &[f16],
        out: &mut [Self::Storage],
        round: Round,
    ) -> Result<(), Error> {
        quantize_runs(self, x, out, round, f16::to_f32)
    }

    /// Quantizes `bf16` input: each value is widened to `f32` (exactly) and
    /// then quantized.
    ///
    /// ```
    /// use half::bf16;
    /// use qkit::{quant::{PerChannel, QuantizeSlice, Quantizer}, Round};
    /// let q = Quantizer::<i8>::new(0.25, 0)?;
    /// let mut out = [0i8; 2];
    /// q.quantize_slice_bf16(&[bf16::from_f32(-1.0), bf16::NAN], &mut out, Round::HalfToEven)?;
    /// assert_eq!(out, [-4, -128]);
    /// let pc = PerChannel::<i8>::new(&[0.5, 1.0], &[], &[2], 0)?;
    /// pc.quantize_slice_bf16(&[bf16::ONE, bf16::NEG_ONE], &mut out, Round::HalfToEven)?;
    /// assert_eq!(out, [2, -1]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    fn quantize_slice_bf16(
        &self,
        x: &[bf16],
        out: &mut [Self::Storage],
        round: Round,
    ) -> Result<(), Error> {
        quantize_runs(self, x, out, round, bf16::to_f32)
    }

    /// Dequantizes `q` into `out`: `scale * (q - zero_point)` with each
    /// element's parameters, rounded once to `f32`.
    ///
    /// ```
    /// use qkit::quant::{PerChannel, QuantizeSlice, Quantizer};
    /// let q = Quantizer::<u8>::new(0.5, 128)?;
    /// let mut out = [0f32; 3];
    /// q.dequantize_slice(&[0, 128, 255], &mut out)?;
    /// assert_eq!(out, [-64.0, 0.0, 63.5]);
    /// // Shape [2, 2], channels along the last axis (ONNX axis = -1).
    /// let pc = PerChannel::<u8>::new(&[1.0, 0.5], &[10, 20], &[2, 2], -1)?;
    /// let mut x = [0f32; 4];
    /// pc.dequantize_slice(&[11, 22, 12, 25], &mut x)?;
    /// assert_eq!(x, [1.0, 1.0, 2.0, 2.5]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    fn dequantize_slice(&self, q: &[Self::Storage], out: &mut [f32]) -> Result<(), Error> {
        dequantize_runs(self, q, out, |v| v)
    }

    /// Dequantizes into `f16`: the `f32` result rounded to the nearest
    /// `f16` (ties to even).
    ///
    /// ```
    /// use half::f16;
    /// use qkit::quant::{QuantizeSlice, Quantizer};
    /// let q = Quantizer::<i8>::new(0.5, 0)?;
    /// let mut out = [f16::ZERO; 2];
    /// q.dequantize_slice_f16(&[-3, 4], &mut out)?;
    /// assert_eq!(out, [f16::from_f32(-1.5), f16::from_f32(2.0)]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    fn dequantize_slice_f16(&self, q: &[Self::Storage], out: &mut [f16]) -> Result<(), Error> {
        dequantize_runs(self, q, out, f16::from_f32)
    }

    /// Dequantizes into `bf16`: the `f32` result rounded to the nearest
    /// `bf16` (ties to even).
    ///
    /// ```
    /// use half::bf16;
    /// use qkit::quant::{PerBlock, QuantizeSlice};
    /// let pb = PerBlock::<i8>::new(&[1.0, 0.5], &[], &[3], 0, 2)?;
    /// let mut out = [bf16::ZERO; 3];
    /// pb.dequantize_slice_bf16(&[1, 2, 3], &mut out)?;
    /// assert_eq!(out, [bf16::ONE, bf16::from_f32(2.0), bf16::from_f32(1.5)]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    fn dequantize_slice_bf16(&self, q: &[Self::Storage], out: &mut [bf16]) -> Result<(), Error> {
        dequantize_runs(self, q, out, bf16::from_f32)
    }

    /// Quantizes `x` straight into packed 4-bit storage, as
    /// [`int4::pack`](crate::int4::pack) lays it out: element `2k` in the
    /// low nibble of byte `k`, element `2k + 1` in the high one; an odd
    /// length leaves the last high nibble 0.
    ///
    /// ```
    /// use qkit::{int4::I4, quant::{CodeRange, PerChannel, QuantizeSlice, Quantizer}, Round};
    /// let q = Quantizer::<I4>::new(1.0, 0)?;
    /// let mut out = [0u8; 2];
    /// q.quantize_packed(&[1.0, -1.0, 9.0], &mut out, Round::HalfToEven)?;
    /// assert_eq!(out, [0xf1, 0x07]);
    /// let pc = PerChannel::<I4>::with_code_range(&[1.0, 2.0], &[], &[3, 2], 1, CodeRange::Narrow)?;
    /// let mut out = [0u8; 3];
    /// pc.quantize_packed(&[1.0, 2.0, -9.0, 20.0, 3.0, -4.0], &mut out, Round::HalfAwayFromZero)?;
    /// assert_eq!(out, [0x11, 0x79, 0xe3]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    fn quantize_packed(&self, x: &[f32], out: &mut [u8], round: Round) -> Result<(), Error>
    where
        Self::Storage: Nibble,
    {
        self.check_elements(x.len())?;
        check_len(packed_len(x.len()), out.len())?;
        let (qmin, qmax) = self.bounds();
        self.for_each_run(x.len(), |r| {
            let a = Affine::new(r.scale, r.zero_point, qmin, qmax);
            let nibble = |i: usize| a.one::<Self::Storage>(x[i], round).encode();
            let (mut i, end) = (r.start, r.start + r.len);
            if i % 2 == 1 && i < end {
                // The high half of a byte whose low half the previous run wrote.
                out[i / 2] = (out[i / 2] & 0x0f) | (nibble(i) << 4);
                i += 1;
            }
            while i + 1 < end {
                out[i / 2] = nibble(i) | (nibble(i + 1) << 4);
                i += 2;
            }
            if i < end {
                // A low half alone: the high half is the next run's (or 0).
                out[i / 2] = nibble(i);
            }
        });
        Ok(())
    }

    /// Dequantizes `out.len()` values from packed 4-bit storage (the layout
    /// of [`quantize_packed`](Self::quantize_packed)).
    ///
    /// ```
    /// use qkit::{int4::{I4, U4}, quant::{PerBlock, PerChannel, QuantizeSlice, Quantizer}};
    /// let q = Quantizer::<U4>::new(0.5, 8)?;
    /// let mut out = [0f32; 3];
    /// q.dequantize_packed(&[0xf0, 0x08], &mut out)?;
    /// assert_eq!(out, [-4.0, 3.5, 0.0]);
    /// let pc = PerChannel::<I4>::new(&[1.0, 2.0], &[], &[2], 0)?;
    /// let mut x = [0f32; 2];
    /// pc.dequantize_packed(&[0xf1], &mut x)?;
    /// assert_eq!(x, [1.0, -2.0]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    fn dequantize_packed(&self, packed: &[u8], out: &mut [f32]) -> Result<(), Error>
    where
        Self::Storage: Nibble,
    {
        self.check_elements(out.len())?;
        check_len(packed_len(out.len()), packed.len())?;
        self.for_each_run(out.len(), |r| {
            for (i, o) in out[r.start..r.start + r.len].iter_mut().enumerate() {
                let i = r.start + i;
                let v = <Self::Storage as Nibble>::decode(packed[i / 2] >> (4 * (i % 2)));
                *o = dequantize_one(r.scale, r.zero_point, v.to_i32(), Self::Storage::BITS);
            }
        });
        Ok(())
    }
}

/// The quantize loop over every run, for any input type widened by `to_f32`.
#[inline(always)]
fn quantize_runs<G: QuantizeSlice + ?Sized, T: Copy>(
    g: &G,
    x: &[T],
    out: &mut [G::Storage],
    round: Round,
    to_f32: impl Fn(T) -> f32 + Copy,
) -> Result<(), Error> {
    g.check_elements(x.len())?;
    check_len(x.len(), out.len())?;
    let (qmin, qmax) = g.bounds();
    g.for_each_run(x.len(), |r: Run| {
        let a = Affine::new(r.scale, r.zero_point, qmin, qmax);
        let span = r.start..r.start + r.len;
        a.run(&x[span.clone()], &mut out[span], round, to_f32);
    });
    Ok(())
}

/// The dequantize loop over every run, for any output type narrowed by `from_f32`.
#[inline(always)]
fn dequantize_runs<G: QuantizeSlice + ?Sized, T>(
    g: &G,
    q: &[G::Storage],
    out: &mut [T],
    from_f32: impl Fn(f32) -> T,
) -> Result<(), Error> {
    g.check_elements(q.len())?;
    check_len(q.len(), out.len())?;
    g.for_each_run(q.len(), |r: Run| {
        let span = r.start..r.start + r.len;
        for (o, v) in out[span.clone()].iter_mut().zip(&q[span]) {
            let bits = G::Storage::BITS;
            *o = from_f32(dequantize_one(r.scale, r.zero_point, v.to_i32(), bits));
        }
    });
    Ok(())
}
