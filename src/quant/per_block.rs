//! ONNX blocked quantization (opset 21): along one axis, every `block_size`
//! consecutive elements share a scale and zero point.

use core::marker::PhantomData;

use crate::quant::layout::{AxisLayout, Run, Tables, shared_accessors};
use crate::quant::{CodeRange, QuantizeSlice};
use crate::{Error, QInt};

/// A blocked quantizer over borrowed tables, with ONNX `QuantizeLinear`
/// semantics: for `x` of shape `dims` (row-major), the scale tensor has the
/// same shape except `ceil(dims[axis] / block_size)` along `axis`, and
/// element `x[o, d, i]` uses `scales[o, d / block_size, i]`.
/// `zero_points` is empty (all zero) or shaped like `scales`. The slice
/// methods come from [`QuantizeSlice`].
///
/// ```
/// use qkit::{quant::{PerBlock, QuantizeSlice}, Round};
/// // 1 x 5 row, blocks of 2 along axis 1: scales for [0,1], [2,3], [4].
/// let pb = PerBlock::<i8>::new(&[1.0, 0.5, 0.25], &[], &[1, 5], 1, 2)?;
/// let mut q = [0i8; 5];
/// pb.quantize_slice(&[1.0, 2.0, 1.0, 2.0, 1.0], &mut q, Round::HalfToEven)?;
/// assert_eq!(q, [1, 2, 2, 4, 4]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerBlock<'a, Q: QInt> {
    /// The scale tables, with the shape of the tensor (not of the tables).
    t: Tables<'a>,
    block_size: usize,
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
        Self::with_code_range(scales, zero_points, dims, axis, block_size, CodeRange::Full)
    }

    /// As [`new`](Self::new), over the given [`CodeRange`]:
    /// [`CodeRange::Narrow`] gives `[Q::MIN + 1, Q::MAX]`.
    ///
    /// ```
    /// use qkit::{int4::I4, quant::{CodeRange, PerBlock, QuantizeSlice}, Round};
    /// let pb = PerBlock::<I4>::with_code_range(&[1.0], &[], &[2], 0, 32, CodeRange::Narrow)?;
    /// let mut q = [I4::ZERO; 2];
    /// pb.quantize_slice(&[-8.0, 8.0], &mut q, Round::HalfToEven)?;
    /// assert_eq!(q.map(I4::get), [-7, 7]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_code_range(
        scales: &'a [f32],
        zero_points: &'a [i32],
        dims: &[usize],
        axis: isize,
        block_size: usize,
        range: CodeRange,
    ) -> Result<Self, Error> {
        if block_size == 0 {
            return Err(Error::InvalidParameter("block_size must be > 0"));
        }
        let layout = AxisLayout::new(dims, axis)?;
        let expected = AxisLayout {
            axis_len: layout.axis_len.div_ceil(block_size),
            ..layout
        }
        .len()?;
        let t = Tables::new::<Q>(scales, zero_points, layout, expected, range)?;
        Ok(Self::from_tables(t, block_size))
    }

    /// From the [`tables`](Self::tables) and block size of a quantizer the
    /// constructor accepted (nothing to check again).
    pub(crate) fn from_tables(t: Tables<'a>, block_size: usize) -> Self {
        Self {
            t,
            block_size,
            _storage: PhantomData,
        }
    }

    /// The validated tables (for [`PerBlockBuf`](crate::quant::PerBlockBuf)
    /// and src/integrations/).
    pub(crate) fn tables(&self) -> Tables<'a> {
        self.t
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
        self.t.scales
    }
}

shared_accessors!(
    PerBlock,
    "PerBlock::<i8>::new(&[1.0; 4], &[], &[2, 3], 1, 2)?",
    "PerBlock::<i8>::new(&[], &[], &[0], 0, 4)?"
);

impl<Q: QInt> PerBlock<'_, Q> {
    /// One run per block when blocks are contiguous, else one per element.
    fn runs(&self, mut f: impl FnMut(Run)) {
        let AxisLayout {
            outer,
            axis_len,
            inner,
        } = self.t.layout;
        let (block_size, blocks) = (self.block_size, axis_len.div_ceil(self.block_size));
        let param = |p: usize| self.t.param(p);
        if inner == 1 {
            // Blocks are contiguous: one run per block.
            let mut start = 0;
            for o in 0..outer {
                for b in 0..blocks {
                    let len = block_size.min(axis_len - b * block_size);
                    let (scale, zero_point) = param(o * blocks + b);
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
                    let base = (o * blocks + d / block_size) * inner;
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

/// A scale per block; the slices are the whole tensor.
///
/// ```
/// use qkit::{quant::{PerBlock, QuantizeSlice}, Round};
/// let pb = PerBlock::<i8>::new(&[1.0, 0.5], &[], &[3], 0, 2)?; // blocks [0, 1] and [2]
/// let mut q = [0i8; 3];
/// pb.quantize_slice(&[1.0, 1.0, 1.0], &mut q, Round::HalfToEven)?;
/// assert_eq!(q, [1, 1, 2]);
/// # Ok::<(), qkit::Error>(())
/// ```
impl<Q: QInt> QuantizeSlice for PerBlock<'_, Q> {
    type Storage = Q;
}
