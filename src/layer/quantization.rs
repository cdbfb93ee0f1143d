//! The quantization a layer is defined by: its input and output
//! [`Quantizer`]s, its weights' quantizer (per tensor or per channel) and
//! the fused activation, the form the elementwise `ops` take too.

use crate::quant::{Activation, PerChannel, Quantizer};
use crate::{Error, QInt};

/// How a layer's weights (storage `W`, `i8` unless said) are quantized: one
/// quantizer for the whole tensor, or one per output channel (TFLite's
/// per-axis weights, ONNX's per-column `B` of a matmul).
/// The FULLY_CONNECTED and convolution layers need zero points 0 (TFLite's
/// symmetric weights) and return `Err(ZeroPointOutOfRange)` otherwise;
/// [`QLinearMatMul`](crate::layer::QLinearMatMul) takes any. int4 weights
/// use the same (`i8`) quantizers; only their scales matter.
///
/// ```
/// use qkit::layer::FilterQuantizer;
/// use qkit::quant::{PerChannel, Quantizer};
/// let per_tensor: FilterQuantizer = Quantizer::<i8>::new(0.01, 0)?.into();
/// let scales = [0.01, 0.02];
/// // A 2x3 weight matrix [out][in], one scale per output (axis 0).
/// let per_channel: FilterQuantizer = PerChannel::<i8>::new(&scales, &[], &[2, 3], 0)?.into();
/// assert_eq!((per_tensor.len(), per_channel.len()), (1, 2));
/// // The same two, from the scales alone:
/// assert_eq!(FilterQuantizer::symmetric(&[0.01])?, per_tensor);
/// assert_eq!(FilterQuantizer::symmetric(&scales)?.scale(1), Some(0.02));
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FilterQuantizer<'a, W: QInt = i8> {
    /// One scale for every weight.
    PerTensor(Quantizer<W>),
    /// One scale per output channel.
    PerChannel(PerChannel<'a, W>),
}

impl<'a> FilterQuantizer<'a> {
    /// Symmetric int8 weights (zero point 0) with these scales: one scale is per
    /// tensor, more are one per output channel (as a .tflite file stores
    /// them). Errors: no scale, or an invalid one (0, negative, NaN, inf).
    ///
    /// ```
    /// use qkit::layer::FilterQuantizer;
    /// assert!(matches!(FilterQuantizer::symmetric(&[0.5])?, FilterQuantizer::PerTensor(_)));
    /// assert!(FilterQuantizer::symmetric(&[]).is_err());
    /// assert!(FilterQuantizer::symmetric(&[0.5, -1.0]).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn symmetric(scales: &'a [f32]) -> Result<Self, Error> {
        match scales {
            [] => Err(Error::InvalidParameter("no filter scale")),
            [s] => Ok(Self::PerTensor(Quantizer::new(*s, 0)?)),
            _ => Ok(Self::PerChannel(PerChannel::new(
                scales,
                &[],
                &[scales.len()],
                0,
            )?)),
        }
    }
}

impl<'a, W: QInt> FilterQuantizer<'a, W> {
    /// Number of scales: 1 per tensor, else the channel count.
    ///
    /// ```
    /// use qkit::layer::FilterQuantizer;
    /// assert_eq!(FilterQuantizer::symmetric(&[0.5, 0.25, 1.0])?.len(), 3);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    #[allow(clippy::len_without_is_empty)] // never empty
    pub fn len(&self) -> usize {
        match self {
            Self::PerTensor(_) => 1,
            Self::PerChannel(pc) => pc.scales().len(),
        }
    }

    /// The scale of output channel `c` (the one scale for every `c` per
    /// tensor; `None` past the last channel).
    ///
    /// ```
    /// use qkit::layer::FilterQuantizer;
    /// let f = FilterQuantizer::symmetric(&[0.5])?;
    /// assert_eq!((f.scale(0), f.scale(9)), (Some(0.5), Some(0.5)));
    /// assert_eq!(FilterQuantizer::symmetric(&[0.5, 0.25])?.scale(2), None);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn scale(&self, c: usize) -> Option<f32> {
        match self {
            Self::PerTensor(q) => Some(q.scale()),
            Self::PerChannel(pc) => pc.scales().get(c).copied(),
        }
    }

    /// The zero point of output channel `c` (`None` past the last channel
    /// of a per-channel quantizer).
    ///
    /// ```
    /// use qkit::{layer::FilterQuantizer, quant::{PerChannel, Quantizer}};
    /// let f = FilterQuantizer::from(PerChannel::<u8>::new(&[0.5, 1.0], &[3, 9], &[4, 2], 1)?);
    /// assert_eq!((f.zero_point(1), f.zero_point(2)), (Some(9), None));
    /// let t = FilterQuantizer::from(Quantizer::<u8>::new(0.5, 128)?);
    /// assert_eq!(t.zero_point(5), Some(128));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn zero_point(&self, c: usize) -> Option<i32> {
        match self {
            Self::PerTensor(q) => Some(q.zero_point()),
            Self::PerChannel(pc) => pc.zero_point(c),
        }
    }

    /// `Err(ZeroPointOutOfRange)` unless every zero point is 0, and
    /// `Err(LengthMismatch)` unless there is one scale or `channels`.
    pub(crate) fn check(&self, channels: usize) -> Result<(), Error> {
        let zero = |zp: i32| {
            if zp == 0 {
                Ok(())
            } else {
                Err(Error::ZeroPointOutOfRange {
                    zero_point: zp,
                    min: 0,
                    max: 0,
                })
            }
        };
        match self {
            Self::PerTensor(q) => zero(q.zero_point()),
            Self::PerChannel(pc) => {
                if pc.scales().len() != channels {
                    return Err(Error::LengthMismatch {
                        expected: channels,
                        found: pc.scales().len(),
                    });
                }
                (0..channels).try_for_each(|c| zero(pc.zero_point(c).unwrap_or(0)))
            }
        }
    }
}

impl<W: QInt> From<Quantizer<W>> for FilterQuantizer<'_, W> {
    /// Per-tensor weights.
    ///
    /// ```
    /// use qkit::{layer::FilterQuantizer, quant::Quantizer};
    /// let f = FilterQuantizer::from(Quantizer::<i8>::new(0.5, 0)?);
    /// assert_eq!(f.len(), 1);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    fn from(q: Quantizer<W>) -> Self {
        Self::PerTensor(q)
    }
}

impl<'a, W: QInt> From<PerChannel<'a, W>> for FilterQuantizer<'a, W> {
    /// Per-channel weights.
    ///
    /// ```
    /// use qkit::{layer::FilterQuantizer, quant::PerChannel};
    /// let f = FilterQuantizer::from(PerChannel::<i8>::new(&[0.5, 1.0], &[], &[2, 4], 0)?);
    /// assert_eq!(f.len(), 2);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    fn from(pc: PerChannel<'a, W>) -> Self {
        Self::PerChannel(pc)
    }
}

/// The quantization a FULLY_CONNECTED or convolution layer is defined by:
/// the input and output quantizers (over the activation type `A`: `i8`, or
/// `i16` for the 16x8 layers, whose zero points must be 0), the weights'
/// quantizer and the fused activation.
///
/// ```
/// use qkit::layer::{Activation, FilterQuantizer, Quantization};
/// use qkit::quant::Quantizer;
/// let q = Quantization {
///     input: Quantizer::<i8>::new(0.02, -3)?,
///     filter: FilterQuantizer::symmetric(&[0.004, 0.005])?,
///     output: Quantizer::<i8>::new(0.1, 7)?,
///     activation: Activation::Relu,
/// };
/// assert_eq!(q.filter.len(), 2);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantization<'a, A: QInt = i8> {
    /// The input tensor's quantizer.
    pub input: Quantizer<A>,
    /// The weights' quantizer: per tensor or per output channel.
    pub filter: FilterQuantizer<'a>,
    /// The output tensor's quantizer.
    pub output: Quantizer<A>,
    /// The fused activation.
    pub activation: Activation,
}
