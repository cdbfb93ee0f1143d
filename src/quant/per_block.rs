//! ONNX blocked quantization (opset 21): along one axis, every `block_size`
//! consecutive elements share a scale and zero point.

use core::marker::PhantomData;

use half::{bf16, f16};

use crate::int4::Nibble;
use crate::quant::layout::{self, AxisLayout, Run, Runs};
use crate::{Error, QInt, Round};

/// A blocked quantizer over borrowed tables, with ONNX `QuantizeLinear`
/// semantics: for `x` of shape `dims` (row-major), the scale tensor has the
/// same shape except `ceil(dims[axis] / block_size)` along `axis`, and
/// element `x[o, d, i]` uses `scales[o, d / block_size, i]`.
/// `zero_points` is empty (all zero) or shaped like `scales`.
///
/// ```
/// use qkit::{quant::PerBlock, Round};
/// // 1 x 5 row, blocks of 2 along axis 1: scales for [0,1], [2,3], [4].
/// let pb = PerBlock::<i8>::new(&[1.0, 0.5, 0.25], &[], &[1, 5], 1, 2)?;
/// let mut q = [0i8; 5];
/// pb.quantize(&[1.0, 2.0, 1.0, 2.0, 1.0], &mut q, Round::HalfToEven)?;
/// assert_eq!(q, [1, 2, 2, 4, 4]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerBlock<'a, Q: QInt> {
    scales: &'a [f32],
    zero_points: &'a [i32],
    layout: AxisLayout,
    block_size: usize,
    blocks: usize,
    qmin: i32,
    _storage: PhantomData<Q>,
}

impl<'a, Q: QInt> PerBlock<'a, Q> {
    /// A blocked quantizer for a tensor of shape `dims`, blocks of
    /// `block_size` along `axis` (negative counts from the end).
    ///
    /// Errors: `InvalidParameter` for `block_size == 0` or a bad axis;
    /// `LengthMismatch` unless `scales.len()` (and a non-empty
    /// `zero_points.len()`) equals `outer * ceil(dims[axis] / block_size) * inner`;
    /// `InvalidScale` / `ZeroPointOutOfRange` for any bad entry.
    ///
    /// ```
    /// use qkit::{quant::PerBlock, Error};
    /// assert!(PerBlock::<i8>::new(&[1.0; 6], &[], &[3, 4], 1, 2).is_ok());
    /// assert!(matches!(PerBlock::<i8>::new(&[1.0; 5], &[], &[3, 4], 1, 2),
    ///                  Err(Error::LengthMismatch { expected: 6, found: 5 })));
    /// assert!(PerBlock::<i8>::new(&[1.0; 6], &[], &[3, 4], 1, 0).is_err());
    /// ```
    pub fn new(
        scales: &'a [f32],
        zero_points: &'a [i32],
        dims: &[usize],
        axis: isize,
        block_size: usize,
    ) -> Result<Self, Error> {
        Self::with_range(scales, zero_points, dims, axis, block_size, Q::MIN)
    }

    /// As [`new`](Self::new), with the narrow range `[Q::MIN + 1, Q::MAX]`.
    ///
    /// ```
    /// use qkit::{int4::I4, quant::PerBlock, Round};
    /// let pb = PerBlock::<I4>::narrow(&[1.0], &[], &[2], 0, 32)?;
    /// let mut q = [I4::ZERO; 2];
    /// pb.quantize(&[-8.0, 8.0], &mut q, Round::HalfToEven)?;
    /// assert_eq!(q.map(I4::get), [-7, 7]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn narrow(
        scales: &'a [f32],
        zero_points: &'a [i32],
        dims: &[usize],
        axis: isize,
        block_size: usize,
    ) -> Result<Self, Error> {
        Self::with_range(scales, zero_points, dims, axis, block_size, Q::MIN + 1)
    }

    fn with_range(
        scales: &'a [f32],
        zero_points: &'a [i32],
        dims: &[usize],
        axis: isize,
        block_size: usize,
        qmin: i32,
    ) -> Result<Self, Error> {
        if block_size == 0 {
            return Err(Error::InvalidParameter("block_size must be > 0"));
        }
        let layout = AxisLayout::new(dims, axis)?;
        let blocks = layout.axis_len.div_ceil(block_size);
        let expected = AxisLayout {
            axis_len: blocks,
            ..layout
        }
        .len()?;
        layout::check_params(scales, zero_points, expected, qmin, Q::MAX)?;
        Ok(Self {
            scales,
            zero_points,
            layout,
            block_size,
            blocks,
            qmin,
            _storage: PhantomData,
        })
    }

    /// The block size along the axis.
    ///
    /// ```
    /// # use qkit::quant::PerBlock;
    /// assert_eq!(PerBlock::<i8>::new(&[1.0; 2], &[], &[3], 0, 2)?.block_size(), 2);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn block_size(&self) -> usize {
        self.block_size
    }

    /// The scales, shaped like the tensor with `ceil(dims[axis] / block_size)` along the axis.
    ///
    /// ```
    /// # use qkit::quant::PerBlock;
    /// assert_eq!(PerBlock::<i8>::new(&[1.0, 2.0], &[], &[3], 0, 2)?.scales(), &[1.0, 2.0]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn scales(&self) -> &'a [f32] {
        self.scales
    }

    /// The number of elements of the tensor.
    ///
    /// ```
    /// # use qkit::quant::PerBlock;
    /// assert_eq!(PerBlock::<i8>::new(&[1.0; 4], &[], &[2, 3], 1, 2)?.len(), 6);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        Runs::len(self)
    }

    /// Whether the tensor has no elements.
    ///
    /// ```
    /// # use qkit::quant::PerBlock;
    /// assert!(PerBlock::<i8>::new(&[], &[], &[0], 0, 4)?.is_empty());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        Runs::len(self) == 0
    }

    /// Quantizes `x` into `out`, each element with its block's parameters,
    /// exactly as [`Quantizer::quantize`](crate::quant::Quantizer::quantize).
    ///
    /// ```
    /// use qkit::{quant::PerBlock, Round};
    /// // Shape [4, 2], blocks of 2 along axis 0: scales shaped [2, 2].
    /// let pb = PerBlock::<u8>::new(&[1.0, 2.0, 4.0, 8.0], &[0, 0, 100, 100], &[4, 2], 0, 2)?;
    /// let mut q = [0u8; 8];
    /// pb.quantize(&[8.0; 8], &mut q, Round::HalfToEven)?;
    /// assert_eq!(q, [8, 4, 8, 4, 102, 101, 102, 101]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn quantize(&self, x: &[f32], out: &mut [Q], round: Round) -> Result<(), Error> {
        layout::quantize(self, x, out, round, |v| v)
    }

    /// Quantizes `f16` input (widened exactly to `f32`).
    ///
    /// ```
    /// use half::f16;
    /// use qkit::{quant::PerBlock, Round};
    /// let pb = PerBlock::<i8>::new(&[0.5], &[], &[2], 0, 2)?;
    /// let mut q = [0i8; 2];
    /// pb.quantize_f16(&[f16::ONE, f16::NEG_ONE], &mut q, Round::HalfToEven)?;
    /// assert_eq!(q, [2, -2]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn quantize_f16(&self, x: &[f16], out: &mut [Q], round: Round) -> Result<(), Error> {
        layout::quantize(self, x, out, round, f16::to_f32)
    }

    /// Quantizes `bf16` input (widened exactly to `f32`).
    ///
    /// ```
    /// use half::bf16;
    /// use qkit::{quant::PerBlock, Round};
    /// let pb = PerBlock::<i8>::new(&[0.5], &[], &[2], 0, 2)?;
    /// let mut q = [0i8; 2];
    /// pb.quantize_bf16(&[bf16::ONE, bf16::NEG_ONE], &mut q, Round::HalfToEven)?;
    /// assert_eq!(q, [2, -2]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn quantize_bf16(&self, x: &[bf16], out: &mut [Q], round: Round) -> Result<(), Error> {
        layout::quantize(self, x, out, round, bf16::to_f32)
    }

    /// Dequantizes `q` into `out` with each element's block parameters.
    ///
    /// ```
    /// use qkit::quant::PerBlock;
    /// let pb = PerBlock::<i8>::new(&[1.0, 0.5], &[], &[3], 0, 2)?;
    /// let mut x = [0f32; 3];
    /// pb.dequantize(&[1, 2, 3], &mut x)?;
    /// assert_eq!(x, [1.0, 2.0, 1.5]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn dequantize(&self, q: &[Q], out: &mut [f32]) -> Result<(), Error> {
        layout::dequantize(self, q, out)
    }
}

impl<Q: Nibble> PerBlock<'_, Q> {
    /// Quantizes straight into packed 4-bit storage (flat, low nibble first).
    ///
    /// ```
    /// use qkit::{int4::U4, quant::PerBlock, Round};
    /// let pb = PerBlock::<U4>::new(&[1.0, 2.0], &[8, 8], &[3], 0, 2)?;
    /// let mut out = [0u8; 2];
    /// pb.quantize_packed(&[1.0, -1.0, 4.0], &mut out, Round::HalfToEven)?;
    /// assert_eq!(out, [0x79, 0x0a]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn quantize_packed(&self, x: &[f32], out: &mut [u8], round: Round) -> Result<(), Error> {
        layout::quantize_packed::<Q>(self, x, out, round)
    }

    /// Dequantizes from packed 4-bit storage.
    ///
    /// ```
    /// use qkit::{int4::U4, quant::PerBlock};
    /// let pb = PerBlock::<U4>::new(&[1.0, 2.0], &[8, 8], &[3], 0, 2)?;
    /// let mut x = [0f32; 3];
    /// pb.dequantize_packed(&[0x79, 0x0a], &mut x)?;
    /// assert_eq!(x, [1.0, -1.0, 4.0]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn dequantize_packed(&self, packed: &[u8], out: &mut [f32]) -> Result<(), Error> {
        layout::dequantize_packed::<Q>(self, packed, out)
    }
}

impl<'a, Q: QInt> PerBlock<'a, Q> {
    /// The validated parts (for [`PerBlockBuf`](crate::quant::PerBlockBuf)
    /// and src/integrations/): scales, zero points, the shape seen from the
    /// axis `[outer, axis_len, inner]`, the block size and `qmin`.
    pub(crate) fn parts(&self) -> (&'a [f32], &'a [i32], [usize; 3], usize, i32) {
        let l = self.layout;
        let shape = [l.outer, l.axis_len, l.inner];
        (
            self.scales,
            self.zero_points,
            shape,
            self.block_size,
            self.qmin,
        )
    }

    /// Rebuilds a quantizer from the [`parts`](Self::parts) of one that the
    /// constructor accepted (nothing to check again).
    pub(crate) fn from_checked_parts(
        scales: &'a [f32],
        zero_points: &'a [i32],
        [outer, axis_len, inner]: [usize; 3],
        block_size: usize,
        qmin: i32,
    ) -> Self {
        let layout = AxisLayout {
            outer,
            axis_len,
            inner,
        };
        let blocks = axis_len.div_ceil(block_size);
        Self {
            scales,
            zero_points,
            layout,
            block_size,
            blocks,
            qmin,
            _storage: PhantomData,
        }
    }
}

impl<Q: QInt> Runs for PerBlock<'_, Q> {
    fn len(&self) -> usize {
        self.layout.outer * self.layout.axis_len * self.layout.inner
    }

    fn bounds(&self) -> (i32, i32) {
        (self.qmin, Q::MAX)
    }

    fn for_each_run(&self, mut f: impl FnMut(Run)) {
        if Runs::len(self) == 0 {
            // O(1): with a zero dimension, `outer` alone may be huge.
            return;
        }
        let AxisLayout {
            outer,
            axis_len,
            inner,
        } = self.layout;
        let param = |p: usize| {
            (
                self.scales[p],
                self.zero_points.get(p).copied().unwrap_or(0),
            )
        };
        if inner == 1 {
            // Blocks are contiguous: one run per block.
            let mut start = 0;
            for o in 0..outer {
                for b in 0..self.blocks {
                    let len = self.block_size.min(axis_len - b * self.block_size);
                    let (scale, zero_point) = param(o * self.blocks + b);
                    f(Run {
                        start,
                        len,
                        scale,
                        zero_point,
                    });
                    start += len;
                }
            }
        } else {
            // Along a row of `inner` elements the parameters change every element.
            let mut start = 0;
            for o in 0..outer {
                for d in 0..axis_len {
                    let base = (o * self.blocks + d / self.block_size) * inner;
                    for i in 0..inner {
                        let (scale, zero_point) = param(base + i);
                        f(Run {
                            start,
                            len: 1,
                            scale,
                            zero_point,
                        });
                        start += 1;
                    }
                }
            }
        }
    }
}
