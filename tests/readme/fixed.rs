use qkit::{Error, Q15, Q31, fixed::FixedI16};

fn main() -> Result<(), Error> {
    let a = Q15::try_from(0.5f32)?;                     // nearest, ties to even
    assert_eq!(Q15::try_from(1.0f32), Err(Error::Overflow)); // Q15 is [-1, 1)
    assert_eq!((a * Q15::from_f32(-0.25)).to_f32(), -0.125);
    assert_eq!(Q15::MAX + a, Q15::MAX);                 // operators saturate
    assert_eq!(Q15::MAX.checked_add(a), None);          // ...or checked_, wrapping_, overflowing_
    assert_eq!(Q31::MIN * Q31::MIN, Q31::MAX);          // Q31 `*` is gemmlowp SRDHM
    let x: FixedI16<12> = "2.71828".parse()?;           // i16 storage, 12 fractional bits: Q3.12
    assert_eq!(x.to_string(), "2.71826171875");         // Display is exact
    assert_eq!(x.convert::<i16, 15>(), Q15::MAX);       // between formats: round + saturate
    assert_eq!(f32::from(a), 0.5);                      // From where lossless
    Ok(())
}
