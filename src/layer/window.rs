//! The sliding-window geometry shared by convolutions and pooling: output
//! sizes and padding exactly as TFLite computes them (`ComputeOutSize`,
//! `ComputePaddingWithOffset` in
//! [`tensorflow/lite/kernels/padding.h`](https://github.com/tensorflow/tflite-micro/blob/main/tensorflow/lite/kernels/padding.h)).

use crate::Error;

/// TFLite's `Padding`: how the window treats the image border.
///
/// With `Same`, the output has `ceil(in / stride)` positions and the input is
/// padded by `total = max((out - 1)·stride + effective_filter - in, 0)`
/// cells, `total / 2` before and the rest (one more when `total` is odd)
/// after. With `Valid`, only windows entirely inside the image are used:
/// `out = (in + stride - effective_filter) / stride`.
///
/// ```
/// use qkit::layer::Padding;
/// assert_eq!(Padding::default(), Padding::Same);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Padding {
    /// Output size `ceil(in / stride)`; zero-point padding (TFLite `SAME`).
    #[default]
    Same,
    /// No padding (TFLite `VALID`).
    Valid,
}

/// One spatial axis of a window: output size and the padding before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Axis {
    /// Input size along the axis.
    pub input: usize,
    /// Filter taps along the axis.
    pub filter: usize,
    pub stride: usize,
    pub dilation: usize,
    /// Output size along the axis.
    pub output: usize,
    /// Padding cells before the first input cell (TFLite's
    /// `padding_values`); the odd extra cell goes after the last one.
    pub pad_before: usize,
}

impl Axis {
    /// Validates the sizes and computes the output size and padding.
    pub fn new(
        input: usize,
        filter: usize,
        stride: usize,
        dilation: usize,
        padding: Padding,
    ) -> Result<Self, Error> {
        if input == 0 {
            return Err(Error::InvalidParameter("input size is 0"));
        }
        if filter == 0 {
            return Err(Error::InvalidParameter("filter size is 0"));
        }
        if stride == 0 {
            return Err(Error::InvalidParameter("stride is 0"));
        }
        if dilation == 0 {
            return Err(Error::InvalidParameter("dilation is 0"));
        }
        // Sizes far beyond any tensor would overflow the i32 index
        // arithmetic of the reference loops: reject them.
        const LIMIT: usize = 1 << 24;
        if input > LIMIT || filter > LIMIT || stride > LIMIT || dilation > LIMIT {
            return Err(Error::Overflow);
        }
        let effective = (filter - 1)
            .checked_mul(dilation)
            .and_then(|e| e.checked_add(1))
            .filter(|&e| e <= LIMIT * 2)
            .ok_or(Error::Overflow)?;
        let output = match padding {
            Padding::Same => input.div_ceil(stride),
            Padding::Valid => (input + stride).saturating_sub(effective) / stride,
        };
        if output == 0 {
            return Err(Error::InvalidParameter(
                "the filter is larger than the input (VALID padding gives no output)",
            ));
        }
        let total = ((output - 1) * stride + effective).saturating_sub(input);
        Ok(Self {
            input,
            filter,
            stride,
            dilation,
            output,
            pad_before: total / 2,
        })
    }

    /// Input coordinate of tap `k` for output position `o`, or `None` when it
    /// falls in the padding.
    #[inline]
    pub fn tap(&self, o: usize, k: usize) -> Option<usize> {
        let pos = (o * self.stride + k * self.dilation).checked_sub(self.pad_before)?;
        (pos < self.input).then_some(pos)
    }

    /// The range of taps `k` that fall inside the input for output `o`
    /// (contiguous because the taps are increasing), for dilation 1.
    #[inline]
    pub fn inside_taps(&self, o: usize) -> core::ops::Range<usize> {
        let origin = o * self.stride;
        let start = self.pad_before.saturating_sub(origin);
        let end = self
            .filter
            .min((self.input + self.pad_before).saturating_sub(origin));
        start..end.max(start)
    }
}

/// The height and width axes of a 2-D window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window {
    pub h: Axis,
    pub w: Axis,
}

impl Window {
    /// Both axes from `[height, width]` sizes, strides and dilations.
    pub fn new(
        input: [usize; 2],
        filter: [usize; 2],
        stride: [usize; 2],
        dilation: [usize; 2],
        padding: Padding,
    ) -> Result<Self, Error> {
        Ok(Self {
            h: Axis::new(input[0], filter[0], stride[0], dilation[0], padding)?,
            w: Axis::new(input[1], filter[1], stride[1], dilation[1], padding)?,
        })
    }

    /// Number of output pixels per image.
    pub fn output_pixels(&self) -> usize {
        self.h.output * self.w.output
    }

    /// Number of input pixels per image.
    pub fn input_pixels(&self) -> usize {
        self.h.input * self.w.input
    }
}

/// The builder methods and `output_size` of a window shape type
/// (`stride`, `padding`, and `dilation` for convolutions); `$new` is a
/// constructor call for the doc examples.
macro_rules! window_options {
    ($ty:ident, $new:literal $(, $dilation:ident)?) => {
        impl $ty {
            #[doc = concat!(
                "The same shape with these strides.\n\n```\n# use qkit::layer::*;\nlet s = ",
                $new,
                ".stride(2, 1);\nassert_eq!((s.stride_height, s.stride_width), (2, 1));\n```"
            )]
            pub fn stride(mut self, height: usize, width: usize) -> Self {
                self.stride_height = height;
                self.stride_width = width;
                self
            }

            #[doc = concat!(
                "The same shape with this padding.\n\n```\n# use qkit::layer::*;\nlet s = ",
                $new,
                ".padding(Padding::Valid);\nassert_eq!(s.padding, Padding::Valid);\n```"
            )]
            pub fn padding(mut self, padding: Padding) -> Self {
                self.padding = padding;
                self
            }

            #[doc = concat!(
                "The output `(height, width)`, TFLite's `ComputeOutSize`; an error for a zero ",
                "size or stride, or an empty VALID output.\n\n```\n# use qkit::layer::*;\n",
                "let s = ", $new, ";\nassert!(s.output_size().is_ok());\n",
                "assert!(s.stride(0, 1).output_size().is_err());\n```"
            )]
            pub fn output_size(&self) -> Result<(usize, usize), Error> {
                let w = self.window()?;
                Ok((w.h.output, w.w.output))
            }
        }
        $(
            impl $ty {
                #[doc = concat!(
                    "The same shape with these dilation factors (1 = dense).\n\n```\n",
                    "# use qkit::layer::*;\nlet s = ", $new, ".", stringify!($dilation),
                    "(2, 2);\nassert_eq!((s.dilation_height, s.dilation_width), (2, 2));\n```"
                )]
                pub fn $dilation(mut self, height: usize, width: usize) -> Self {
                    self.dilation_height = height;
                    self.dilation_width = width;
                    self
                }
            }
        )?
    };
}
pub(super) use window_options;

/// `a · b · c ...` with overflow reported as an error.
pub(super) fn product(dims: &[usize]) -> Result<usize, Error> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or(Error::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tflite_padding_arithmetic() {
        // SAME, in 5, filter 3, stride 2: out 3, total 2 -> 1 before, 1 after.
        let a = Axis::new(5, 3, 2, 1, Padding::Same).unwrap();
        assert_eq!((a.output, a.pad_before), (3, 1));
        // SAME, in 6, filter 3, stride 2: out 3, total 1 (odd) -> 0 before.
        let a = Axis::new(6, 3, 2, 1, Padding::Same).unwrap();
        assert_eq!((a.output, a.pad_before), (3, 0));
        assert_eq!(a.tap(2, 2), None); // the odd cell is after the image
        // SAME with dilation 2: effective filter 5, total 4.
        let a = Axis::new(7, 3, 1, 2, Padding::Same).unwrap();
        assert_eq!((a.output, a.pad_before), (7, 2));
        // VALID.
        let a = Axis::new(7, 3, 2, 1, Padding::Valid).unwrap();
        assert_eq!((a.output, a.pad_before), (3, 0));
        assert!(Axis::new(2, 3, 1, 1, Padding::Valid).is_err());
        assert!(Axis::new(2, 3, 0, 1, Padding::Same).is_err());
    }

    #[test]
    fn inside_taps_agree_with_tap() {
        for input in 1..8 {
            for filter in 1..6 {
                for stride in 1..4 {
                    for padding in [Padding::Same, Padding::Valid] {
                        let Ok(a) = Axis::new(input, filter, stride, 1, padding) else {
                            continue;
                        };
                        for o in 0..a.output {
                            let r = a.inside_taps(o);
                            for k in 0..filter {
                                assert_eq!(a.tap(o, k).is_some(), r.contains(&k));
                            }
                            assert!(!r.is_empty());
                        }
                    }
                }
            }
        }
    }
}
