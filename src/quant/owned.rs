//! Owned forms of the borrowed quantizers: [`PerChannelBuf`] and
//! [`PerBlockBuf`] keep their tables in fixed-capacity storage (no heap), so
//! a quantizer can be returned from a function, stored in a `static`, or
//! deserialized (the `serde` feature). They have the slice methods of
//! [`QuantizeSlice`] themselves and lend themselves out as the borrowed
//! [`PerChannel`] / [`PerBlock`].

use core::marker::PhantomData;

use heapless::Vec;

use crate::quant::layout::{Run, Runs, Tables};
use crate::quant::{CodeRange, PerBlock, PerChannel, QuantizeSlice};
use crate::{Error, QInt};

/// The tables of [`Tables`] copied into capacity-`N` storage.
#[derive(Debug, Clone, PartialEq)]
struct TablesBuf<const N: usize> {
    scales: Vec<f32, N>,
    zero_points: Vec<i32, N>,
    shape: [usize; 3],
    qmin: i32,
}

/// Copies `src` into a new fixed-capacity vector, or `CapacityExceeded`.
fn to_vec<T: Copy, const N: usize>(src: &[T]) -> Result<Vec<T, N>, Error> {
    Vec::from_slice(src).map_err(|()| Error::CapacityExceeded {
        needed: src.len(),
        capacity: N,
    })
}

impl<const N: usize> TablesBuf<N> {
    fn copy(t: Tables<'_>) -> Result<Self, Error> {
        Ok(Self {
            scales: to_vec(t.scales)?,
            zero_points: to_vec(t.zero_points)?,
            shape: t.shape(),
            qmin: t.qmin,
        })
    }

    fn tables(&self) -> Tables<'_> {
        Tables::from_checked_parts(&self.scales, &self.zero_points, self.shape, self.qmin)
    }
}

/// A [`PerChannel`] quantizer that owns its tables: at most `N` channels.
///
/// The shape is kept as seen from the axis, `[outer, channels, inner]`
/// (any ONNX shape and axis reduce to it without changing a single result).
///
/// ```
/// use qkit::{quant::{CodeRange, PerChannelBuf, QuantizeSlice}, Round};
/// // Built in a helper and returned: the tables live inside the value.
/// fn weights_quantizer() -> Result<PerChannelBuf<i8, 4>, qkit::Error> {
///     PerChannelBuf::with_code_range(&[0.5, 0.25], &[], &[2, 3], 0, CodeRange::Narrow)
/// }
/// let owned = weights_quantizer()?;
/// let mut q = [0i8; 6];
/// owned.quantize_slice(&[1.0, -1.0, 0.5, 1.0, -1.0, 0.5], &mut q, Round::HalfAwayFromZero)?;
/// assert_eq!(q, [2, -2, 1, 4, -4, 2]);
/// assert!(PerChannelBuf::<i8, 1>::new(&[0.5, 0.25], &[], &[2, 3], 0).is_err()); // capacity
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PerChannelBuf<Q: QInt, const N: usize> {
    t: TablesBuf<N>,
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

    /// As [`PerChannel::with_code_range`], copying the tables.
    ///
    /// ```
    /// use qkit::quant::{CodeRange, PerChannelBuf};
    /// let pc = PerChannelBuf::<i8, 2>::with_code_range(&[1.0], &[], &[1, 2], 0, CodeRange::Narrow)?;
    /// assert_eq!(pc.code_range(), CodeRange::Narrow);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_code_range(
        scales: &[f32],
        zero_points: &[i32],
        dims: &[usize],
        axis: isize,
        range: CodeRange,
    ) -> Result<Self, Error> {
        let pc = PerChannel::with_code_range(scales, zero_points, dims, axis, range)?;
        Self::from_per_channel(&pc)
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
        Ok(Self {
            t: TablesBuf::copy(pc.tables())?,
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
        PerChannel::from_tables(self.t.tables())
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
        self.t.shape
    }

    /// The [`CodeRange`] the quantized values lie in.
    ///
    /// ```
    /// use qkit::quant::{CodeRange, PerChannelBuf};
    /// assert_eq!(PerChannelBuf::<u8, 1>::new(&[1.0], &[], &[1], 0)?.code_range(), CodeRange::Full);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn code_range(&self) -> CodeRange {
        CodeRange::of::<Q>(self.t.qmin)
    }
}

/// A [`PerBlock`] quantizer that owns its tables: at most `N` scales (and
/// zero points).
///
/// ```
/// use qkit::{int4::I4, quant::{PerBlockBuf, QuantizeSlice}, Round};
/// let pb = PerBlockBuf::<I4, 8>::new(&[1.0, 0.5], &[], &[1, 64], 1, 32)?;
/// let mut packed = [0u8; 32];
/// pb.quantize_packed(&[0.5; 64], &mut packed, Round::HalfToEven)?;
/// assert_eq!((packed[0], packed[31]), (0x00, 0x11)); // 0.5/1 -> 0 (ties to even), 0.5/0.5 -> 1
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PerBlockBuf<Q: QInt, const N: usize> {
    t: TablesBuf<N>,
    block_size: usize,
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

    /// As [`PerBlock::with_code_range`], copying the tables.
    ///
    /// ```
    /// use qkit::{int4::I4, quant::{CodeRange, PerBlockBuf}};
    /// let pb = PerBlockBuf::<I4, 1>::with_code_range(&[1.0], &[], &[2], 0, 32, CodeRange::Narrow)?;
    /// assert_eq!(pb.code_range(), CodeRange::Narrow);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_code_range(
        scales: &[f32],
        zero_points: &[i32],
        dims: &[usize],
        axis: isize,
        block_size: usize,
        range: CodeRange,
    ) -> Result<Self, Error> {
        let pb = PerBlock::with_code_range(scales, zero_points, dims, axis, block_size, range)?;
        Self::from_per_block(&pb)
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
        Ok(Self {
            t: TablesBuf::copy(pb.tables())?,
            block_size: pb.block_size(),
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
        PerBlock::from_tables(self.t.tables(), self.block_size)
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
        self.t.shape
    }

    /// The [`CodeRange`] the quantized values lie in.
    ///
    /// ```
    /// use qkit::quant::{CodeRange, PerBlockBuf};
    /// assert_eq!(PerBlockBuf::<i8, 1>::new(&[1.0], &[], &[2], 0, 2)?.code_range(), CodeRange::Full);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn code_range(&self) -> CodeRange {
        CodeRange::of::<Q>(self.t.qmin)
    }
}

/// The owned forms quantize through their borrowed views.
macro_rules! runs_via_view {
    ($ty:ident, $view:ident) => {
        impl<Q: QInt, const N: usize> Runs for $ty<Q, N> {
            fn check_elements(&self, n: usize) -> Result<(), Error> {
                self.$view().check_elements(n)
            }

            fn bounds(&self) -> (i32, i32) {
                self.$view().bounds()
            }

            fn for_each_run(&self, n: usize, f: impl FnMut(Run)) {
                self.$view().for_each_run(n, f)
            }
        }

        /// As the borrowed view.
        ///
        /// ```
        /// use qkit::{quant::{PerBlockBuf, PerChannelBuf, QuantizeSlice}, Round};
        /// let pc = PerChannelBuf::<i8, 2>::new(&[1.0, 0.5], &[], &[2], 0)?;
        /// let pb = PerBlockBuf::<i8, 2>::new(&[1.0, 0.5], &[], &[2], 0, 1)?;
        /// let (mut a, mut b) = ([0i8; 2], [0i8; 2]);
        /// pc.quantize_slice(&[1.0, 1.0], &mut a, Round::HalfToEven)?;
        /// pb.quantize_slice(&[1.0, 1.0], &mut b, Round::HalfToEven)?;
        /// assert_eq!((a, b), ([1, 2], [1, 2]));
        /// # Ok::<(), qkit::Error>(())
        /// ```
        impl<Q: QInt, const N: usize> QuantizeSlice for $ty<Q, N> {
            type Storage = Q;
        }
    };
}
runs_via_view!(PerChannelBuf, as_per_channel);
runs_via_view!(PerBlockBuf, as_per_block);
