//! Qm.n fixed-point numbers. (Being filled in: see issue 2.)

/// A fixed-point number stored in `T` with `FRAC` fractional bits.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Fixed<T, const FRAC: u32> {
    bits: T,
}

impl<T: Copy, const FRAC: u32> Fixed<T, FRAC> {
    /// The number whose raw representation is `bits`.
    pub const fn from_bits(bits: T) -> Self {
        Self { bits }
    }
    /// The raw representation.
    pub const fn to_bits(self) -> T {
        self.bits
    }
}

/// Q0.7.
pub type Q7 = Fixed<i8, 7>;
/// Q0.15.
pub type Q15 = Fixed<i16, 15>;
/// Q0.31.
pub type Q31 = Fixed<i32, 31>;
