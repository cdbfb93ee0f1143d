//! Float-to-integer rounding modes.
//!
//! The runtimes disagree on exact ties: TensorFlow Lite rounds half away from
//! zero (`std::round`), ONNX, PyTorch and NumPy round half to even. Every qkit
//! function that turns a float into an integer takes a [`Round`] so the caller
//! says which runtime it wants to match.

/// How a real value exactly halfway between two integers is rounded.
///
/// ```
/// use qkit::Round;
/// assert_eq!(Round::HalfAwayFromZero.round_f32(2.5), 3.0); // TFLite
/// assert_eq!(Round::HalfToEven.round_f32(2.5), 2.0);       // ONNX
/// assert_eq!(Round::HalfAwayFromZero.round_f32(-2.5), -3.0);
/// assert_eq!(Round::HalfToEven.round_f32(-2.5), -2.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Round {
    /// Ties go away from zero: C `round`, TFLite `TfLiteRound`, ggml `roundf`.
    HalfAwayFromZero,
    /// Ties go to the even neighbour: IEEE default, ONNX, PyTorch, NumPy `rint`.
    HalfToEven,
}

impl Round {
    /// Rounds `x` to an integral `f32` in this mode. NaN and ±inf pass through.
    ///
    /// ```
    /// use qkit::Round;
    /// assert_eq!(Round::HalfToEven.round_f32(0.5), 0.0);
    /// assert_eq!(Round::HalfToEven.round_f32(1.5), 2.0);
    /// ```
    #[inline]
    pub fn round_f32(self, x: f32) -> f32 {
        match self {
            Round::HalfAwayFromZero => libm::roundf(x),
            Round::HalfToEven => libm::rintf(x),
        }
    }

    /// Rounds `x` to an integral `f64` in this mode. NaN and ±inf pass through.
    ///
    /// ```
    /// use qkit::Round;
    /// assert_eq!(Round::HalfAwayFromZero.round_f64(-0.5), -1.0);
    /// assert_eq!(Round::HalfToEven.round_f64(-0.5), 0.0);
    /// ```
    #[inline]
    pub fn round_f64(self, x: f64) -> f64 {
        match self {
            Round::HalfAwayFromZero => libm::round(x),
            Round::HalfToEven => libm::rint(x),
        }
    }
}
