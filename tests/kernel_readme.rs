//! The README's "Kernels and layers" examples, compiled and run.

#[test]
fn readme_example_0() {
    use qkit::kernel::{NarrowI8, dot_i8, dot_i8_narrow, gemv_i8_narrow};

    let x = [-128i8, 127, 3];
    assert_eq!(dot_i8(&x, &[-128, 127, -2]).unwrap(), 16384 + 16129 - 6);

    // TFLite weights lie in [-127, 127]: prove it once, at load time...
    let w = NarrowI8::new(&[1, 2, 3, -127, 0, 127]).unwrap(); // 2 rows x 3 columns
    // ...and the AVX2 sign trick (vpsignb + vpmaddubsw) runs with no per-call check.
    assert_eq!(
        dot_i8_narrow(NarrowI8::new(&[1, 2, 3]).unwrap(), &x).unwrap(),
        -128 + 254 + 9
    );
    let mut acc = [0i32; 2];
    gemv_i8_narrow(w, &x, &mut acc).unwrap();
    assert_eq!(acc, [135, 16637]);
}

#[test]
fn readme_example_1() {
    use qkit::layer::{
        Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode,
    };
    use qkit::quant::Quantizer;

    let weights = [10i8, -20, 30, 127, 0, -127]; // 2 outputs x 3 inputs
    let q = Quantization {
        input: Quantizer::new(0.5, -1).unwrap(),
        // one scale: per-tensor; out_dim scales: per-channel
        filter: FilterQuantizer::symmetric(&[0.01]).unwrap(),
        output: Quantizer::new(0.1, 3).unwrap(),
        activation: Activation::None,
    };
    let mut channels = [Channel::default(); 2]; // folded bias + multiplier, no allocation
    let fc = FullyConnected::new(
        &weights,
        3,
        Some(&[100, -50]),
        &q,
        RequantMode::Double,
        &mut channels,
    )
    .unwrap();
    let mut out = [0i8; 2];
    fc.run(&[4, 5, -6], 1, &mut out).unwrap();
    assert_eq!(out, [-3, 64]);
}
