//! A tensor shape seen from one axis: `outer x axis_len x inner` elements,
//! row-major, with ONNX's axis convention (negative counts from the end).

use crate::quant::CodeRange;
use crate::quant::per_tensor::{check_len, check_scale, check_zero_point};
use crate::{Error, QInt};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct AxisLayout {
    pub(crate) outer: usize,
    pub(crate) axis_len: usize,
    pub(crate) inner: usize,
}

impl AxisLayout {
    /// `Err(InvalidParameter)` for an axis outside `[-rank, rank)`, a scalar
    /// shape, or a shape whose element count overflows `usize`.
    pub(crate) fn new(dims: &[usize], axis: isize) -> Result<AxisLayout, Error> {
        let rank = dims.len() as isize;
        let a = if axis < 0 { axis + rank } else { axis };
        if rank == 0 || a < 0 || a >= rank {
            return Err(Error::InvalidParameter("axis outside [-rank, rank)"));
        }
        let a = a as usize;
        let product = |d: &[usize]| {
            d.iter()
                .try_fold(1usize, |acc, &n| acc.checked_mul(n))
                .ok_or(Error::InvalidParameter(
                    "shape: element count overflows usize",
                ))
        };
        let layout = AxisLayout {
            outer: product(&dims[..a])?,
            axis_len: dims[a],
            inner: product(&dims[a + 1..])?,
        };
        layout.len()?;
        Ok(layout)
    }

    pub(crate) fn len(&self) -> Result<usize, Error> {
        self.outer
            .checked_mul(self.axis_len)
            .and_then(|n| n.checked_mul(self.inner))
            .ok_or(Error::InvalidParameter(
                "shape: element count overflows usize",
            ))
    }
}

/// One stretch of consecutive elements that share a scale and zero point.
#[derive(Clone, Copy)]
pub struct Run {
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) scale: f32,
    pub(crate) zero_point: i32,
}

/// A granularity (per tensor, per channel, per block) is a way to cut a
/// tensor into runs; the slice methods of
/// [`QuantizeSlice`](crate::quant::QuantizeSlice) are written once, on top of
/// the runs. Public in a private module: it seals `QuantizeSlice`.
pub trait Runs {
    /// `Ok` if a tensor of `n` elements is one this quantizer describes
    /// (per tensor: any `n`; otherwise exactly the tensor's size).
    #[doc(hidden)]
    fn check_elements(&self, n: usize) -> Result<(), Error>;
    /// Range of the quantized values.
    #[doc(hidden)]
    fn bounds(&self) -> (i32, i32);
    /// Calls `f` on every run of a checked tensor of `n` elements, in
    /// order, covering `0..n` exactly once.
    #[doc(hidden)]
    fn for_each_run(&self, n: usize, f: impl FnMut(Run));
}

/// The borrowed tables and shape that [`PerChannel`](crate::quant::PerChannel)
/// and [`PerBlock`](crate::quant::PerBlock) share: scales, zero points
/// (empty: all zero), the shape seen from the axis, and the smallest code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Tables<'a> {
    pub(crate) scales: &'a [f32],
    pub(crate) zero_points: &'a [i32],
    pub(crate) layout: AxisLayout,
    pub(crate) qmin: i32,
}

impl<'a> Tables<'a> {
    /// Checks the tables against `expected` parameter entries: every scale
    /// finite and `> 0`, `zero_points` empty (all zero) or as long as
    /// `scales`, each in `[range.qmin(), Q::MAX]`.
    pub(crate) fn new<Q: QInt>(
        scales: &'a [f32],
        zero_points: &'a [i32],
        layout: AxisLayout,
        expected: usize,
        range: CodeRange,
    ) -> Result<Self, Error> {
        let qmin = range.qmin::<Q>();
        check_len(expected, scales.len())?;
        if !zero_points.is_empty() {
            check_len(expected, zero_points.len())?;
        }
        for &s in scales {
            check_scale(s)?;
        }
        if zero_points.is_empty() {
            check_zero_point(0, qmin, Q::MAX)?;
        }
        for &z in zero_points {
            check_zero_point(z, qmin, Q::MAX)?;
        }
        Ok(Tables {
            scales,
            zero_points,
            layout,
            qmin,
        })
    }

    /// The tensor's element count (checked for overflow by the constructors).
    pub(crate) fn len(&self) -> usize {
        self.layout.outer * self.layout.axis_len * self.layout.inner
    }

    /// `Err(LengthMismatch)` unless `n` is the tensor's element count.
    pub(crate) fn check_elements(&self, n: usize) -> Result<(), Error> {
        check_len(self.len(), n)
    }

    /// Scale and zero point of parameter entry `p`.
    #[inline]
    pub(crate) fn param(&self, p: usize) -> (f32, i32) {
        (
            self.scales[p],
            self.zero_points.get(p).copied().unwrap_or(0),
        )
    }

    /// The shape seen from the axis, `[outer, axis_len, inner]`.
    pub(crate) fn shape(&self) -> [usize; 3] {
        let l = self.layout;
        [l.outer, l.axis_len, l.inner]
    }

    /// Rebuilds tables from the parts of ones a constructor accepted.
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
        Tables {
            scales,
            zero_points,
            layout,
            qmin,
        }
    }
}

/// What [`PerChannel`](crate::quant::PerChannel) and
/// [`PerBlock`](crate::quant::PerBlock) share through their [`Tables`]: the
/// accessors `code_range`, `len`, `is_empty` and the [`Runs`] impl around
/// the type's own `runs` (called only for a non-empty tensor). `$six` builds
/// a 6-element quantizer, `$empty` an empty one, for the examples.
macro_rules! shared_accessors {
    ($ty:ident, $six:literal, $empty:literal) => {
        impl<Q: QInt> $ty<'_, Q> {
            /// The [`CodeRange`] the quantized values lie in.
            ///
            /// ```
            #[doc = concat!("use qkit::quant::{CodeRange, ", stringify!($ty), "};")]
            #[doc = concat!("assert_eq!(", $six, ".code_range(), CodeRange::Full);")]
            /// # Ok::<(), qkit::Error>(())
            /// ```
            pub fn code_range(&self) -> CodeRange {
                CodeRange::of::<Q>(self.t.qmin)
            }

            /// The number of elements of the tensor.
            ///
            /// ```
            #[doc = concat!("use qkit::quant::", stringify!($ty), ";")]
            #[doc = concat!("assert_eq!(", $six, ".len(), 6);")]
            /// # Ok::<(), qkit::Error>(())
            /// ```
            pub fn len(&self) -> usize {
                self.t.len()
            }

            /// Whether the tensor has no elements.
            ///
            /// ```
            #[doc = concat!("use qkit::quant::", stringify!($ty), ";")]
            #[doc = concat!("assert!(", $empty, ".is_empty());")]
            /// # Ok::<(), qkit::Error>(())
            /// ```
            pub fn is_empty(&self) -> bool {
                self.t.len() == 0
            }
        }

        impl<Q: QInt> $crate::quant::layout::Runs for $ty<'_, Q> {
            fn check_elements(&self, n: usize) -> Result<(), Error> {
                self.t.check_elements(n)
            }

            fn bounds(&self) -> (i32, i32) {
                (self.t.qmin, Q::MAX)
            }

            fn for_each_run(&self, _n: usize, f: impl FnMut(Run)) {
                // O(1) for an empty tensor: with a zero dimension, `outer`
                // alone may be huge.
                if self.t.len() != 0 {
                    self.runs(f);
                }
            }
        }
    };
}
pub(crate) use shared_accessors;
