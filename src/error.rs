//! The crate's one error type.

use core::fmt;

/// Everything that can go wrong in qkit.
///
/// No public function in qkit panics on bad input; it returns one of these
/// instead, carrying the offending sizes or values so the message is useful
/// on a device with no debugger attached.
///
/// ```
/// use qkit::Error;
/// let e = Error::LengthMismatch { expected: 4, found: 3 };
/// assert_eq!(e.to_string(), "length mismatch: expected 4 elements, found 3");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// Two buffers that must have related lengths do not.
    LengthMismatch {
        /// The length that was required.
        expected: usize,
        /// The length that was given.
        found: usize,
    },
    /// A statistic or parameter search was asked of no data.
    Empty,
    /// A scale that is zero, negative, NaN or infinite.
    InvalidScale(f64),
    /// A zero point outside the storage type's range `[min, max]`.
    ZeroPointOutOfRange {
        /// The zero point given.
        zero_point: i32,
        /// The smallest allowed value.
        min: i32,
        /// The largest allowed value.
        max: i32,
    },
    /// A real-valued multiplier that cannot be represented (negative, NaN, infinite).
    InvalidMultiplier(f64),
    /// A shift outside the range an operation supports.
    ShiftOutOfRange {
        /// The shift given.
        shift: i32,
        /// The smallest allowed shift.
        min: i32,
        /// The largest allowed shift.
        max: i32,
    },
    /// A value is NaN where a number is required.
    NaN,
    /// A value does not fit the destination type or range.
    Overflow,
    /// A string could not be parsed as a number.
    Parse,
    /// A parameter is outside its documented domain; the string names it.
    InvalidParameter(&'static str),
    /// A value lies outside the range an operation accepts (for example a
    /// weight of -128 handed to a kernel that needs [-127, 127]).
    OutOfRange {
        /// The offending value.
        value: i64,
        /// The smallest allowed value.
        min: i64,
        /// The largest allowed value.
        max: i64,
    },
    /// A fixed-capacity buffer is too small.
    CapacityExceeded {
        /// The capacity needed.
        needed: usize,
        /// The capacity available.
        capacity: usize,
    },
    /// An index past the end of a buffer (or into an empty one).
    ///
    /// ```
    /// use qkit::{int4::{set, U4}, Error};
    /// assert_eq!(set(&mut [], 0, U4::MIN), Err(Error::IndexOutOfBounds { index: 0, len: 0 }));
    /// assert_eq!(
    ///     Error::IndexOutOfBounds { index: 0, len: 0 }.to_string(),
    ///     "index 0 out of bounds: the buffer holds 0 elements"
    /// );
    /// ```
    IndexOutOfBounds {
        /// The index given.
        index: usize,
        /// How many elements the buffer holds.
        len: usize,
    },
    /// Data with another channel count than the state it is folded into
    /// (for example a per-channel observer fed 3 channels after 2).
    ///
    /// ```
    /// let e = qkit::Error::ChannelCountMismatch { expected: 2, found: 3 };
    /// assert_eq!(e.to_string(), "channel count mismatch: expected 2 channels, found 3");
    /// ```
    ChannelCountMismatch {
        /// The channel count seen before.
        expected: usize,
        /// The channel count given now.
        found: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::LengthMismatch { expected, found } => {
                write!(
                    f,
                    "length mismatch: expected {expected} elements, found {found}"
                )
            }
            Error::Empty => f.write_str("no data"),
            Error::InvalidScale(s) => {
                write!(f, "invalid scale {s}: must be finite and greater than zero")
            }
            Error::ZeroPointOutOfRange {
                zero_point,
                min,
                max,
            } => {
                write!(f, "zero point {zero_point} outside [{min}, {max}]")
            }
            Error::InvalidMultiplier(m) => {
                write!(f, "invalid multiplier {m}: must be finite and non-negative")
            }
            Error::ShiftOutOfRange { shift, min, max } => {
                write!(f, "shift {shift} outside [{min}, {max}]")
            }
            Error::NaN => f.write_str("value is NaN"),
            Error::Overflow => f.write_str("value does not fit the destination"),
            Error::Parse => f.write_str("invalid number syntax"),
            Error::InvalidParameter(what) => write!(f, "invalid parameter: {what}"),
            Error::OutOfRange { value, min, max } => {
                write!(f, "value {value} outside [{min}, {max}]")
            }
            Error::CapacityExceeded { needed, capacity } => {
                write!(f, "capacity exceeded: need {needed}, have {capacity}")
            }
            Error::IndexOutOfBounds { index, len } => {
                write!(
                    f,
                    "index {index} out of bounds: the buffer holds {len} elements"
                )
            }
            Error::ChannelCountMismatch { expected, found } => {
                write!(
                    f,
                    "channel count mismatch: expected {expected} channels, found {found}"
                )
            }
        }
    }
}

impl core::error::Error for Error {}
