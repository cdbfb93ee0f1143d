//! [`CodeRange`]: which integers ("codes") a quantizer may produce.

use crate::QInt;

/// The integers a quantizer may produce: every value of the storage type,
/// or all but the lowest.
///
/// This is the one spelling of "narrow range" in qkit: every constructor
/// and parameter chooser that offers the choice takes a `CodeRange`
/// ([`Quantizer::with_code_range`](crate::quant::Quantizer::with_code_range),
/// [`Quantizer::from_min_max`](crate::quant::Quantizer::from_min_max),
/// [`Quantizer::symmetric`](crate::quant::Quantizer::symmetric), the
/// per-channel and per-block quantizers, and the calibration functions in
/// [`calib`](crate::calib)). The kernel type
/// [`NarrowI8`](crate::kernel::NarrowI8) is not a choice but a proof: a
/// weight slice already checked to lie in int8's narrow range.
///
/// | storage | `Full` | `Narrow` |
/// | --- | --- | --- |
/// | `i8` | `[-128, 127]` | `[-127, 127]` |
/// | `u8` | `[0, 255]` | `[1, 255]` |
/// | `i16` | `[-32768, 32767]` | `[-32767, 32767]` |
/// | [`I4`](crate::int4::I4) | `[-8, 7]` | `[-7, 7]` |
///
/// `Narrow` is TFLite's `narrow_range`: signed weights symmetric about 0,
/// so that `-w` is representable whenever `w` is (TFLite's int8 and int4
/// weights, TensorRT, pytorch-quantization's `narrow_range=True`; CMSIS-NN
/// and the VNNI kernels rely on `-128` never occurring). `Full` is the
/// default and what activations use.
///
/// ```
/// use qkit::{quant::{CodeRange, Quantizer}, Round};
/// let q = Quantizer::<i8>::with_code_range(1.0, 0, CodeRange::Narrow)?;
/// assert_eq!(q.quantize(-1000.0, Round::HalfToEven), -127);
/// assert_eq!(q.code_range(), CodeRange::Narrow);
/// assert_eq!(CodeRange::default(), CodeRange::Full);
/// assert_eq!((CodeRange::Narrow.qmin::<i8>(), CodeRange::Full.qmin::<u8>()), (-127, 0));
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CodeRange {
    /// `[Q::MIN, Q::MAX]`: every value of the storage type.
    #[default]
    Full,
    /// `[Q::MIN + 1, Q::MAX]`: symmetric about 0 for the signed types.
    Narrow,
}

impl CodeRange {
    /// The smallest code of storage type `Q` in this range: `Q::MIN`, or
    /// `Q::MIN + 1` when narrow. (The largest is always `Q::MAX`.)
    ///
    /// ```
    /// use qkit::{int4::I4, quant::CodeRange};
    /// assert_eq!(CodeRange::Full.qmin::<i8>(), -128);
    /// assert_eq!(CodeRange::Narrow.qmin::<I4>(), -7);
    /// ```
    #[inline]
    pub const fn qmin<Q: QInt>(self) -> i32 {
        match self {
            CodeRange::Full => Q::MIN,
            CodeRange::Narrow => Q::MIN + 1,
        }
    }

    /// The range whose smallest code of `Q` is `qmin` (`Narrow` for anything
    /// but `Q::MIN`; the quantizers only ever store those two).
    #[inline]
    pub(crate) fn of<Q: QInt>(qmin: i32) -> CodeRange {
        if qmin == Q::MIN {
            CodeRange::Full
        } else {
            CodeRange::Narrow
        }
    }
}
