//! [`ElementwiseInt`]: the storage types of the elementwise kernels.

use crate::QInt;

mod sealed {
    pub trait Sealed {}
    impl Sealed for i8 {}
    impl Sealed for i16 {}
}

/// The storage types TFLite's quantized ADD and MUL kernels support, `i8`
/// and `i16`, with what differs between them. Sealed.
///
/// [`AddParams<Q>`](super::AddParams) and [`MulParams<Q>`](super::MulParams)
/// carry their storage type, so parameters prepared for int8 cannot reach
/// an int16 kernel:
///
/// ```compile_fail
/// use qkit::{ops::{add_i16, AddParams}, quant::Quantizer};
/// let q = Quantizer::<i8>::new(0.5, 0).unwrap();
/// let p = AddParams::new(q, q, q, -128, 127).unwrap();
/// add_i16(&[1], &[2], &p, &mut [0i16]); // expected `&AddParams<i16>`
/// ```
///
/// ```
/// use qkit::ops::ElementwiseInt;
/// assert_eq!(<i8 as ElementwiseInt>::ADD_LEFT_SHIFT, 20);
/// assert_eq!(<i16 as ElementwiseInt>::ADD_LEFT_SHIFT, 15);
/// assert!(<i16 as ElementwiseInt>::MUL_ZERO_POINTS_ZERO);
/// ```
pub trait ElementwiseInt: QInt + sealed::Sealed {
    /// The left shift ADD applies to both inputs before rescaling them
    /// (TFLite's `left_shift`: 20 for int8, 15 for int16), so that the
    /// sum keeps enough fractional bits.
    const ADD_LEFT_SHIFT: i32;
    /// Whether MUL requires every zero point to be 0 (TFLite's int16 MUL
    /// does; int8 MUL takes any zero point).
    const MUL_ZERO_POINTS_ZERO: bool;
}

impl ElementwiseInt for i8 {
    const ADD_LEFT_SHIFT: i32 = 20;
    const MUL_ZERO_POINTS_ZERO: bool = false;
}

impl ElementwiseInt for i16 {
    const ADD_LEFT_SHIFT: i32 = 15;
    const MUL_ZERO_POINTS_ZERO: bool = true;
}
