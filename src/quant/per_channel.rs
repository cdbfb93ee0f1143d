//! One scale and zero point per channel along an axis (TFLite per-axis
//! weights, ONNX `QuantizeLinear` with a 1-D scale and `axis`).

use core::marker::PhantomData;

use crate::quant::layout::{AxisLayout, Run, Tables, shared_accessors};
use crate::quant::{CodeRange, QuantizeSlice};
use crate::{Error, QInt};

/// A per-channel quantizer over borrowed tables: element `x[.., c, ..]`
/// (index `c` along `axis`) uses `scales[c]` and `zero_points[c]`.
///
/// The tensor is row-major with shape `dims`; `axis` follows ONNX (negative
/// counts from the end). `zero_points` may be empty, meaning all zero
/// (ONNX's optional zero point, TFLite's symmetric weights). Nothing is
/// allocated; the constructor checks everything once. The slice methods
/// come from [`QuantizeSlice`].
///
/// ```
/// use qkit::{quant::{PerChannel, QuantizeSlice}, Round};
/// // A 2x3 weight matrix, one scale per row (axis 0).
/// let scales = [0.5, 0.25];
/// let pc = PerChannel::<i8>::new(&scales, &[], &[2, 3], 0)?;
/// let mut q = [0i8; 6];
/// pc.quantize_slice(&[1.0, -1.0, 0.5, 1.0, -1.0, 0.5], &mut q, Round::HalfAwayFromZero)?;
/// assert_eq!(q, [2, -2, 1, 4, -4, 2]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerChannel<'a, Q: QInt> {
    t: Tables<'a>,
    _storage: PhantomData<Q>,
}

impl<'a, Q: QInt> PerChannel<'a, Q> {
    /// A per-channel quantizer for a tensor of shape `dims`, channels along
    /// `axis`, over `Q`'s full range.
    ///
    /// Errors: `InvalidParameter` if `axis` is outside `[-rank, rank)`;
    /// `LengthMismatch` unless `scales.len() == dims[axis]` and
    /// `zero_points` is empty or as long; `InvalidScale` /
    /// `ZeroPointOutOfRange` for any bad entry.
    ///
    /// ```
    /// use qkit::{quant::PerChannel, Error};
    /// assert!(PerChannel::<u8>::new(&[0.1, 0.2], &[3, 4], &[5, 2], -1).is_ok());
    /// assert!(matches!(PerChannel::<u8>::new(&[0.1], &[], &[5, 2], 1),
    ///                  Err(Error::LengthMismatch { .. })));
    /// assert!(PerChannel::<u8>::new(&[0.1, -1.0], &[], &[5, 2], 1).is_err());
    /// assert!(PerChannel::<u8>::new(&[0.1, 0.1], &[], &[5, 2], 2).is_err());
    /// ```
    pub fn new(
        scales: &'a [f32],
        zero_points: &'a [i32],
        dims: &[usize],
        axis: isize,
    ) -> Result<Self, Error> {
        Self::with_code_range(scales, zero_points, dims, axis, CodeRange::Full)
    }

    /// As [`new`](Self::new), over the given [`CodeRange`]:
    /// [`CodeRange::Narrow`] gives `[Q::MIN + 1, Q::MAX]` (TFLite's
    /// per-channel int8 weights in `[-127, 127]`, int4 in `[-7, 7]`).
    ///
    /// ```
    /// use qkit::{quant::{CodeRange, PerChannel, QuantizeSlice}, Round};
    /// let pc = PerChannel::<i8>::with_code_range(&[1.0], &[], &[1, 2], 0, CodeRange::Narrow)?;
    /// let mut q = [0i8; 2];
    /// pc.quantize_slice(&[-500.0, 500.0], &mut q, Round::HalfAwayFromZero)?;
    /// assert_eq!(q, [-127, 127]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_code_range(
        scales: &'a [f32],
        zero_points: &'a [i32],
        dims: &[usize],
        axis: isize,
        range: CodeRange,
    ) -> Result<Self, Error> {
        let layout = AxisLayout::new(dims, axis)?;
        let t = Tables::new::<Q>(scales, zero_points, layout, layout.axis_len, range)?;
        Ok(Self::from_tables(t))
    }

    pub(crate) fn from_tables(t: Tables<'a>) -> Self {
        Self {
            t,
            _storage: PhantomData,
        }
    }

    /// The validated tables (for [`PerChannelBuf`](crate::quant::PerChannelBuf)
    /// and src/integrations/).
    pub(crate) fn tables(&self) -> Tables<'a> {
        self.t
    }

    /// The per-channel scales.
    ///
    /// ```
    /// # use qkit::quant::PerChannel;
    /// let pc = PerChannel::<i8>::new(&[0.5, 2.0], &[], &[2], 0)?;
    /// assert_eq!(pc.scales(), &[0.5, 2.0]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn scales(&self) -> &'a [f32] {
        self.t.scales
    }

    /// The zero point of channel `c` (0 when the table is empty), or `None`
    /// past the last channel.
    ///
    /// ```
    /// # use qkit::quant::PerChannel;
    /// let pc = PerChannel::<u8>::new(&[0.5, 2.0], &[1, 2], &[2], 0)?;
    /// assert_eq!(pc.zero_point(1), Some(2));
    /// assert_eq!(pc.zero_point(2), None);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn zero_point(&self, c: usize) -> Option<i32> {
        (c < self.t.layout.axis_len).then(|| self.t.param(c).1)
    }
}

shared_accessors!(
    PerChannel,
    "PerChannel::<i8>::new(&[1.0; 3], &[], &[2, 3], 1)?",
    "PerChannel::<i8>::new(&[1.0; 3], &[], &[0, 3], 1)?"
);

impl<Q: QInt> PerChannel<'_, Q> {
    /// One run per channel and outer index (`inner` elements each).
    fn runs(&self, mut f: impl FnMut(Run)) {
        let AxisLayout {
            outer,
            axis_len,
            inner,
        } = self.t.layout;
        let mut start = 0;
        for _ in 0..outer {
            for c in 0..axis_len {
                let (scale, zero_point) = self.t.param(c);
                f(Run {
                    start,
                    len: inner,
                    scale,
                    zero_point,
                });
                start += inner;
            }
        }
    }
}

/// A scale per channel; the slices are the whole tensor.
///
/// ```
/// use qkit::{quant::{PerChannel, QuantizeSlice}, Error, Round};
/// let pc = PerChannel::<i8>::new(&[1.0, 0.5], &[], &[2, 2], 1)?; // channels along the last axis
/// let mut q = [0i8; 4];
/// pc.quantize_slice(&[1.0, 1.0, 2.0, 2.0], &mut q, Round::HalfToEven)?;
/// assert_eq!(q, [1, 2, 2, 4]);
/// assert!(matches!(pc.quantize_slice(&[1.0; 3], &mut [0; 3], Round::HalfToEven),
///                  Err(Error::LengthMismatch { expected: 4, found: 3 })));
/// # Ok::<(), qkit::Error>(())
/// ```
impl<Q: QInt> QuantizeSlice for PerChannel<'_, Q> {
    type Storage = Q;
}
