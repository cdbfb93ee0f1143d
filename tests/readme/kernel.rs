use qkit::kernel::{NarrowI8, dot_i8, dot_i8_narrow, gemv_i8_narrow};

fn main() -> Result<(), qkit::Error> {
    let x = [-128i8, 127, 3];
    assert_eq!(dot_i8(&[-128, 127, -2], &x)?, 16384 + 16129 - 6);

    // TFLite weights lie in [-127, 127]: prove it once, at load time...
    let w = NarrowI8::new(&[1, 2, 3, -127, 0, 127])?; // 2 rows x 3 columns
    // ...and the AVX2 sign trick (vpsignb + vpmaddubsw) runs with no per-call check.
    // Every kernel takes the weights first, then the activations.
    assert_eq!(dot_i8_narrow(NarrowI8::new(&[1, 2, 3])?, &x)?, -128 + 254 + 9);
    let mut acc = [0i32; 2];
    gemv_i8_narrow(w, &x, &mut acc)?;
    assert_eq!(acc, [135, 16637]);
    Ok(())
}
