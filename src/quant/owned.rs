//! Owned forms of the borrowed quantizers: [`PerChannelBuf`] and
//! [`PerBlockBuf`] keep their tables in fixed-capacity storage (no heap), so
//! a quantizer can be returned from a function, stored in a `static`, or
//! deserialized (the `serde` feature) and then lent out as the borrowed
//! [`PerChannel`] / [`PerBlock`].

use core::marker::PhantomData;

use heapless::Vec;

use crate::quant::{PerBlock, PerChannel};
use crate::{Error, QInt};

/// Copies `src` into a new fixed-capacity vector, or `CapacityExceeded`.
fn to_vec<T: Copy, const N: usize>(src: &[T]) -> Result<Vec<T, N>, Error> {
    Vec::from_slice(src).map_err(|()| Error::CapacityExceeded {
        needed: src.len(),
        capacity: N,
    })
}

/// A [`PerChannel`] quantizer that owns its tables: at most `N` channels.
///
/// The shape is kept as seen from the axis, `[outer, channels, inner]`
/// (any ONNX shape and axis reduce to it without changing a single result).
///
/// ```
/// use qkit::{quant::PerChannelBuf, Round};
/// // Built in a helper and returned: the tables live inside the value.
/// fn weights_quantizer() -> Result<PerChannelBuf<i8, 4>, qkit::Error> {
///     PerChannelBuf::narrow(&[0.5, 0.25], &[], &[2, 3], 0)
/// }
/// let owned = weights_quantizer()?;
/// let mut q = [0i8; 6];
/// owned.as_per_channel().quantize(&[1.0, -1.0, 0.5, 1.0, -1.0, 0.5], &mut q, Round::HalfAwayFromZero)?;
/// assert_eq!(q, [2, -2, 1, 4, -4, 2]);
/// assert!(PerChannelBuf::<i8, 1>::new(&[0.5, 0.25], &[], &[2, 3], 0).is_err()); // capacity
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PerChannelBuf<Q: QInt, const N: usize> {
    scales: Vec<f32, N>,
    zero_points: Vec<i32, N>,
    shape: [usize; 3],
    qmin: i32,
    _storage: PhantomData<Q>,
}

impl<Q: QInt, const N: usize> PerChannelBuf<Q, N> {
    /// As [`PerChannel::new`], copying the tables. `Err(CapacityExceeded)`
    /// for more than `N` channels, and every error of `PerChannel::new`.
    ///
    /// ```
    /// use qkit::quant::PerChannelBuf;
    /// let pc = PerChannelBuf::<u8, 8>::new(&[0.1, 0.2], &[3, 4], &[5, 2], -1)?;
    /// assert_eq!(pc.as_per_channel().zero_point(1), Some(4));
    /// assert!(PerChannelBuf::<u8, 8>::new(&[0.1, -1.0], &[], &[5, 2], 1).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        scales: &[f32],
        zero_points: &[i32],
        dims: &[usize],
        axis: isize,
    ) -> Result<Self, Error> {
        Self::from_per_channel(&PerChannel::new(scales, zero_points, dims, axis)?)
    }

    /// As [`PerChannel::narrow`] (the range `[Q::MIN + 1, Q::MAX]`), copying
    /// the tables.
    ///
    /// ```
    /// use qkit::quant::PerChannelBuf;
    /// let pc = PerChannelBuf::<i8, 2>::narrow(&[1.0], &[], &[1, 2], 0)?;
    /// assert!(pc.is_narrow());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn narrow(
        scales: &[f32],
        zero_points: &[i32],
        dims: &[usize],
        axis: isize,
    ) -> Result<Self, Error> {
        Self::from_per_channel(&PerChannel::narrow(scales, zero_points, dims, axis)?)
    }

    /// An owned copy of a borrowed quantizer; `Err(CapacityExceeded)` for
    /// more than `N` channels.
    ///
    /// ```
    /// use qkit::quant::{PerChannel, PerChannelBuf};
    /// let scales = [0.5, 2.0];
    /// let pc = PerChannel::<i8>::new(&scales, &[], &[2], 0)?;
    /// let owned = PerChannelBuf::<i8, 2>::from_per_channel(&pc)?;
    /// assert_eq!(owned.as_per_channel(), pc);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn from_per_channel(pc: &PerChannel<'_, Q>) -> Result<Self, Error> {
        let (scales, zero_points, shape, qmin) = pc.parts();
        Ok(Self {
            scales: to_vec(scales)?,
            zero_points: to_vec(zero_points)?,
            shape,
            qmin,
            _storage: PhantomData,
        })
    }

    /// The borrowed quantizer over this value's tables.
    ///
    /// ```
    /// use qkit::quant::PerChannelBuf;
    /// let pc = PerChannelBuf::<i8, 4>::new(&[1.0; 3], &[], &[2, 3, 4], 1)?;
    /// assert_eq!(pc.as_per_channel().len(), 24);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn as_per_channel(&self) -> PerChannel<'_, Q> {
        PerChannel::from_checked_parts(&self.scales, &self.zero_points, self.shape, self.qmin)
    }

    /// The shape seen from the channel axis: `[outer, channels, inner]`.
    ///
    /// ```
    /// use qkit::quant::PerChannelBuf;
    /// let pc = PerChannelBuf::<i8, 4>::new(&[1.0; 3], &[], &[2, 3, 4, 5], 1)?;
    /// assert_eq!(pc.shape(), [2, 3, 20]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Whether the quantizer uses the narrow range `[Q::MIN + 1, Q::MAX]`.
    ///
    /// ```
    /// use qkit::quant::PerChannelBuf;
    /// assert!(!PerChannelBuf::<u8, 1>::new(&[1.0], &[], &[1], 0)?.is_narrow());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn is_narrow(&self) -> bool {
        self.qmin != Q::MIN
    }
}

/// A [`PerBlock`] quantizer that owns its tables: at most `N` scales (and
/// zero points).
///
/// ```
/// use qkit::{int4::I4, quant::PerBlockBuf, Round};
/// let pb = PerBlockBuf::<I4, 8>::new(&[1.0, 0.5], &[], &[1, 64], 1, 32)?;
/// let mut packed = [0u8; 32];
/// pb.as_per_block().quantize_packed(&[0.5; 64], &mut packed, Round::HalfToEven)?;
/// assert_eq!((packed[0], packed[31]), (0x00, 0x11)); // 0.5/1 -> 0 (ties to even), 0.5/0.5 -> 1
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PerBlockBuf<Q: QInt, const N: usize> {
    scales: Vec<f32, N>,
    zero_points: Vec<i32, N>,
    shape: [usize; 3],
    block_size: usize,
    qmin: i32,
    _storage: PhantomData<Q>,
}

impl<Q: QInt, const N: usize> PerBlockBuf<Q, N> {
    /// As [`PerBlock::new`], copying the tables. `Err(CapacityExceeded)` for
    /// more than `N` scales, and every error of `PerBlock::new`.
    ///
    /// ```
    /// use qkit::quant::PerBlockBuf;
    /// assert!(PerBlockBuf::<i8, 6>::new(&[1.0; 6], &[], &[3, 4], 1, 2).is_ok());
    /// assert!(PerBlockBuf::<i8, 6>::new(&[1.0; 5], &[], &[3, 4], 1, 2).is_err());
    /// assert!(PerBlockBuf::<i8, 4>::new(&[1.0; 6], &[], &[3, 4], 1, 2).is_err());
    /// ```
    pub fn new(
        scales: &[f32],
        zero_points: &[i32],
        dims: &[usize],
        axis: isize,
        block_size: usize,
    ) -> Result<Self, Error> {
        Self::from_per_block(&PerBlock::new(scales, zero_points, dims, axis, block_size)?)
    }

    /// As [`PerBlock::narrow`], copying the tables.
    ///
    /// ```
    /// use qkit::{int4::I4, quant::PerBlockBuf};
    /// assert!(PerBlockBuf::<I4, 1>::narrow(&[1.0], &[], &[2], 0, 32)?.is_narrow());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn narrow(
        scales: &[f32],
        zero_points: &[i32],
        dims: &[usize],
        axis: isize,
        block_size: usize,
    ) -> Result<Self, Error> {
        Self::from_per_block(&PerBlock::narrow(
            scales,
            zero_points,
            dims,
            axis,
            block_size,
        )?)
    }

    /// An owned copy of a borrowed quantizer; `Err(CapacityExceeded)` for
    /// more than `N` scales.
    ///
    /// ```
    /// use qkit::quant::{PerBlock, PerBlockBuf};
    /// let pb = PerBlock::<i8>::new(&[1.0, 2.0], &[], &[3], 0, 2)?;
    /// assert_eq!(PerBlockBuf::<i8, 2>::from_per_block(&pb)?.as_per_block(), pb);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn from_per_block(pb: &PerBlock<'_, Q>) -> Result<Self, Error> {
        let (scales, zero_points, shape, block_size, qmin) = pb.parts();
        Ok(Self {
            scales: to_vec(scales)?,
            zero_points: to_vec(zero_points)?,
            shape,
            block_size,
            qmin,
            _storage: PhantomData,
        })
    }

    /// The borrowed quantizer over this value's tables.
    ///
    /// ```
    /// use qkit::quant::PerBlockBuf;
    /// let pb = PerBlockBuf::<i8, 4>::new(&[1.0; 4], &[], &[2, 3], 1, 2)?;
    /// assert_eq!(pb.as_per_block().len(), 6);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn as_per_block(&self) -> PerBlock<'_, Q> {
        PerBlock::from_checked_parts(
            &self.scales,
            &self.zero_points,
            self.shape,
            self.block_size,
            self.qmin,
        )
    }

    /// The shape seen from the blocked axis: `[outer, axis_len, inner]`.
    ///
    /// ```
    /// use qkit::quant::PerBlockBuf;
    /// let pb = PerBlockBuf::<i8, 8>::new(&[1.0; 8], &[], &[2, 4, 2], 1, 2)?;
    /// assert_eq!(pb.shape(), [2, 4, 2]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Whether the quantizer uses the narrow range `[Q::MIN + 1, Q::MAX]`.
    ///
    /// ```
    /// use qkit::quant::PerBlockBuf;
    /// assert!(!PerBlockBuf::<i8, 1>::new(&[1.0], &[], &[2], 0, 2)?.is_narrow());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn is_narrow(&self) -> bool {
        self.qmin != Q::MIN
    }
}
