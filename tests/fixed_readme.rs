//! The README's "API tour > Fixed point" snippet, kept compiling and true.

#[test]
fn readme_fixed_point_snippet() {
    use qkit::{Q15, Q31, fixed::FixedI16};

    let a = Q15::from_f32(0.5);
    assert_eq!((a * Q15::from_f32(-0.25)).to_f32(), -0.125);
    assert_eq!(Q15::MAX + a, Q15::MAX); // operators saturate
    assert_eq!(Q15::MAX.checked_add(a), None); // ...or checked_, wrapping_, overflowing_
    assert_eq!(Q31::MIN * Q31::MIN, Q31::MAX); // Q31 `*` is gemmlowp SRDHM
    let x: FixedI16<12> = "2.71828".parse().unwrap(); // nearest, ties to even
    assert_eq!(x.to_string(), "2.71826171875"); // Display is exact
    assert_eq!(x.convert::<i16, 15>(), Q15::MAX); // between formats: round + saturate
}
