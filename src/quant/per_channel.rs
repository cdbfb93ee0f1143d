//! One scale and zero point per channel along an axis (TFLite per-axis
//! weights, ONNX `QuantizeLinear` with a 1-D scale and `axis`).

use core::marker::PhantomData;

use half::{bf16, f16};

use crate::int4::Nibble;
use crate::quant::layout::{self, AxisLayout, Run, Runs};
use crate::{Error, QInt, Round};

/// A per-channel quantizer over borrowed tables: element `x[.., c, ..]`
/// (index `c` along `axis`) uses `scales[c]` and `zero_points[c]`.
///
/// The tensor is row-major with shape `dims`; `axis` follows ONNX (negative
/// counts from the end). `zero_points` may be empty, meaning all zero
/// (ONNX's optional zero point, TFLite's symmetric weights). Nothing is
/// allocated; the constructor checks everything once.
///
/// ```
/// use qkit::{quant::PerChannel, Round};
/// // A 2x3 weight matrix, one scale per row (axis 0).
/// let scales = [0.5, 0.25];
/// let pc = PerChannel::<i8>::new(&scales, &[], &[2, 3], 0)?;
/// let mut q = [0i8; 6];
/// pc.quantize(&[1.0, -1.0, 0.5, 1.0, -1.0, 0.5], &mut q, Round::HalfAwayFromZero)?;
/// assert_eq!(q, [2, -2, 1, 4, -4, 2]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerChannel<'a, Q: QInt> {
    scales: &'a [f32],
    zero_points: &'a [i32],
    layout: AxisLayout,
    qmin: i32,
    _storage: PhantomData<Q>,
}

impl<'a, Q: QInt> PerChannel<'a, Q> {
    /// A per-channel quantizer for a tensor of shape `dims`, channels along `axis`.
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
        Self::with_range(scales, zero_points, dims, axis, Q::MIN)
    }

    /// As [`new`](Self::new), with the narrow range `[Q::MIN + 1, Q::MAX]`
    /// (TFLite's per-channel int8 weights in `[-127, 127]`, int4 in `[-7, 7]`).
    ///
    /// ```
    /// use qkit::{quant::PerChannel, Round};
    /// let pc = PerChannel::<i8>::narrow(&[1.0], &[], &[1, 2], 0)?;
    /// let mut q = [0i8; 2];
    /// pc.quantize(&[-500.0, 500.0], &mut q, Round::HalfAwayFromZero)?;
    /// assert_eq!(q, [-127, 127]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn narrow(
        scales: &'a [f32],
        zero_points: &'a [i32],
        dims: &[usize],
        axis: isize,
    ) -> Result<Self, Error> {
        Self::with_range(scales, zero_points, dims, axis, Q::MIN + 1)
    }

    fn with_range(
        scales: &'a [f32],
        zero_points: &'a [i32],
        dims: &[usize],
        axis: isize,
        qmin: i32,
    ) -> Result<Self, Error> {
        let layout = AxisLayout::new(dims, axis)?;
        layout::check_params(scales, zero_points, layout.axis_len, qmin, Q::MAX)?;
        Ok(Self {
            scales,
            zero_points,
            layout,
            qmin,
            _storage: PhantomData,
        })
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
        self.scales
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
        if c >= self.layout.axis_len {
            None
        } else {
            Some(self.zero_points.get(c).copied().unwrap_or(0))
        }
    }

    /// The number of elements of the tensor.
    ///
    /// ```
    /// # use qkit::quant::PerChannel;
    /// assert_eq!(PerChannel::<i8>::new(&[1.0; 3], &[], &[2, 3, 4], 1)?.len(), 24);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        Runs::len(self)
    }

    /// Whether the tensor has no elements.
    ///
    /// ```
    /// # use qkit::quant::PerChannel;
    /// assert!(PerChannel::<i8>::new(&[1.0; 3], &[], &[0, 3], 1)?.is_empty());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        Runs::len(self) == 0
    }

    /// Quantizes `x` into `out`, each element with its channel's parameters,
    /// exactly as [`Quantizer::quantize`](crate::quant::Quantizer::quantize).
    ///
    /// `Err(LengthMismatch)` unless both lengths equal the tensor's size.
    ///
    /// ```
    /// use qkit::{quant::PerChannel, Round};
    /// // Shape [2, 2], channels along the last axis (ONNX axis = -1).
    /// let pc = PerChannel::<u8>::new(&[1.0, 0.5], &[10, 20], &[2, 2], -1)?;
    /// let mut q = [0u8; 4];
    /// pc.quantize(&[1.0, 1.0, 2.5, 2.5], &mut q, Round::HalfToEven)?;
    /// assert_eq!(q, [11, 22, 12, 25]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn quantize(&self, x: &[f32], out: &mut [Q], round: Round) -> Result<(), Error> {
        layout::quantize(self, x, out, round, |v| v)
    }

    /// Quantizes `f16` input (widened exactly to `f32`).
    ///
    /// ```
    /// use half::f16;
    /// use qkit::{quant::PerChannel, Round};
    /// let pc = PerChannel::<i8>::new(&[0.5, 1.0], &[], &[2], 0)?;
    /// let mut q = [0i8; 2];
    /// pc.quantize_f16(&[f16::ONE, f16::ONE], &mut q, Round::HalfToEven)?;
    /// assert_eq!(q, [2, 1]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn quantize_f16(&self, x: &[f16], out: &mut [Q], round: Round) -> Result<(), Error> {
        layout::quantize(self, x, out, round, f16::to_f32)
    }

    /// Quantizes `bf16` input (widened exactly to `f32`).
    ///
    /// ```
    /// use half::bf16;
    /// use qkit::{quant::PerChannel, Round};
    /// let pc = PerChannel::<i8>::new(&[0.5, 1.0], &[], &[2], 0)?;
    /// let mut q = [0i8; 2];
    /// pc.quantize_bf16(&[bf16::ONE, bf16::NEG_ONE], &mut q, Round::HalfToEven)?;
    /// assert_eq!(q, [2, -1]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn quantize_bf16(&self, x: &[bf16], out: &mut [Q], round: Round) -> Result<(), Error> {
        layout::quantize(self, x, out, round, bf16::to_f32)
    }

    /// Dequantizes `q` into `out`: `scales[c] * (q - zero_points[c])`.
    ///
    /// `Err(LengthMismatch)` unless both lengths equal the tensor's size.
    ///
    /// ```
    /// use qkit::quant::PerChannel;
    /// let pc = PerChannel::<u8>::new(&[1.0, 0.5], &[10, 20], &[2, 2], 1)?;
    /// let mut x = [0f32; 4];
    /// pc.dequantize(&[11, 22, 12, 25], &mut x)?;
    /// assert_eq!(x, [1.0, 1.0, 2.0, 2.5]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn dequantize(&self, q: &[Q], out: &mut [f32]) -> Result<(), Error> {
        layout::dequantize(self, q, out)
    }
}

impl<Q: Nibble> PerChannel<'_, Q> {
    /// Quantizes straight into packed 4-bit storage (flat over the tensor,
    /// element `2k` in the low nibble; an odd size leaves the last high
    /// nibble zero).
    ///
    /// `Err(LengthMismatch)` unless `x.len()` is the tensor's size and
    /// `out.len() == packed_len(x.len())`.
    ///
    /// ```
    /// use qkit::{int4::I4, quant::PerChannel, Round};
    /// let pc = PerChannel::<I4>::narrow(&[1.0, 2.0], &[], &[3, 2], 1)?;
    /// let mut out = [0u8; 3];
    /// pc.quantize_packed(&[1.0, 2.0, -9.0, 20.0, 3.0, -4.0], &mut out, Round::HalfAwayFromZero)?;
    /// assert_eq!(out, [0x11, 0x79, 0xe3]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn quantize_packed(&self, x: &[f32], out: &mut [u8], round: Round) -> Result<(), Error> {
        layout::quantize_packed::<Q>(self, x, out, round)
    }

    /// Dequantizes from packed 4-bit storage.
    ///
    /// ```
    /// use qkit::{int4::I4, quant::PerChannel};
    /// let pc = PerChannel::<I4>::new(&[1.0, 2.0], &[], &[2], 0)?;
    /// let mut x = [0f32; 2];
    /// pc.dequantize_packed(&[0xf1], &mut x)?;
    /// assert_eq!(x, [1.0, -2.0]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn dequantize_packed(&self, packed: &[u8], out: &mut [f32]) -> Result<(), Error> {
        layout::dequantize_packed::<Q>(self, packed, out)
    }
}

impl<'a, Q: QInt> PerChannel<'a, Q> {
    /// The validated parts (for [`PerChannelBuf`](crate::quant::PerChannelBuf)
    /// and src/integrations/): scales, zero points, the shape seen from the
    /// axis `[outer, channels, inner]`, and `qmin`.
    pub(crate) fn parts(&self) -> (&'a [f32], &'a [i32], [usize; 3], i32) {
        let l = self.layout;
        let shape = [l.outer, l.axis_len, l.inner];
        (self.scales, self.zero_points, shape, self.qmin)
    }

    /// Rebuilds a quantizer from the [`parts`](Self::parts) of one that the
    /// constructor accepted (nothing to check again).
    pub(crate) fn from_checked_parts(
        scales: &'a [f32],
        zero_points: &'a [i32],
        [outer, axis_len, inner]: [usize; 3],
        qmin: i32,
    ) -> Self {
        let layout = AxisLayout {
            outer,
            axis_len,
            inner,
        };
        Self {
            scales,
            zero_points,
            layout,
            qmin,
            _storage: PhantomData,
        }
    }
}

impl<Q: QInt> Runs for PerChannel<'_, Q> {
    fn len(&self) -> usize {
        // Checked for overflow in the constructor.
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
        let mut start = 0;
        for _ in 0..outer {
            for c in 0..axis_len {
                f(Run {
                    start,
                    len: inner,
                    scale: self.scales[c],
                    zero_point: self.zero_points.get(c).copied().unwrap_or(0),
                });
                start += inner;
            }
        }
    }
}
