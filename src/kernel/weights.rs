//! Narrow-range int8 weights: a slice proven once to hold no -128.

use crate::Error;

/// An int8 slice whose every element lies in `[-127, 127]`.
///
/// TFLite quantizes weights symmetrically to this *narrow* range. Knowing it
/// makes the x86 "sign trick" (`vpsignb` + `vpmaddubsw`) exact: the operand
/// that receives the sign never wraps, and a pair of products never exceeds
/// `2·128·127 = 32512`, so the int16 saturation of `vpmaddubsw` never
/// triggers. The check runs once, when the wrapper is built
/// (typically when the model is loaded); the kernels that take a
/// `NarrowI8` then run with no per-call check and cannot be fed -128.
///
/// ```
/// use qkit::kernel::NarrowI8;
/// let w = NarrowI8::new(&[-127, 0, 127])?;
/// assert_eq!(w.as_slice(), &[-127, 0, 127]);
/// assert!(NarrowI8::new(&[1, -128]).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NarrowI8<'a>(&'a [i8]);

impl<'a> NarrowI8<'a> {
    /// Validates `weights`: `Err(Error::OutOfRange)` if any element is -128.
    ///
    /// ```
    /// use qkit::{kernel::NarrowI8, Error};
    /// assert_eq!(
    ///     NarrowI8::new(&[3, -128]),
    ///     Err(Error::OutOfRange { value: -128, min: -127, max: 127 })
    /// );
    /// assert_eq!(NarrowI8::new(&[])?.len(), 0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(weights: &'a [i8]) -> Result<Self, Error> {
        // A branch-free fold (vectorizes to a byte min) rather than `any`.
        let min = weights.iter().fold(0i8, |m, &w| m.min(w));
        if min == i8::MIN {
            return Err(Error::OutOfRange {
                value: -128,
                min: -127,
                max: 127,
            });
        }
        Ok(Self(weights))
    }

    /// A sub-slice, still narrow: no re-check needed. `None` if out of bounds.
    pub(crate) fn get(&self, range: core::ops::Range<usize>) -> Option<NarrowI8<'a>> {
        self.0.get(range).map(NarrowI8)
    }

    /// The validated elements.
    ///
    /// ```
    /// let w = qkit::kernel::NarrowI8::new(&[5, -5])?;
    /// assert_eq!(w.as_slice()[1], -5);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn as_slice(&self) -> &'a [i8] {
        self.0
    }

    /// Number of elements.
    ///
    /// ```
    /// assert_eq!(qkit::kernel::NarrowI8::new(&[1, 2, 3])?.len(), 3);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` if there are no elements.
    ///
    /// ```
    /// assert!(qkit::kernel::NarrowI8::new(&[])?.is_empty());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
