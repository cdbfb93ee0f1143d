use qkit::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, FullyConnectedBuf, Quantization,
    RequantMode,
};
use qkit::quant::Quantizer;

static WEIGHTS: [i8; 6] = [10, -20, 30, 127, 0, -127]; // 2 outputs x 3 inputs, [out][in]
static BIAS: [i32; 2] = [100, -50];

// A layer is defined by its quantizers: input, weights (one scale per tensor,
// or one per output channel), output, and the fused activation.
fn quantization() -> Result<Quantization<'static>, qkit::Error> {
    Ok(Quantization {
        input: Quantizer::new(0.5, -1)?,
        filter: FilterQuantizer::symmetric(&[0.01])?, // zero point 0, as TFLite's weights
        output: Quantizer::new(0.1, 3)?,
        activation: Activation::None,
    })
}

// The owned form keeps its per-channel table inside (capacity 16 outputs):
// build it in a helper, return it, keep it for the program's lifetime.
fn output_layer() -> Result<FullyConnectedBuf<'static, 16>, qkit::Error> {
    FullyConnectedBuf::new(&WEIGHTS, 3, Some(&BIAS), &quantization()?, RequantMode::Double)
}

fn main() -> Result<(), qkit::Error> {
    let fc = output_layer()?;
    let mut out = [0i8; 2];
    fc.run(&[4, 5, -6], 1, &mut out)?;
    assert_eq!(out, [-3, 64]);

    // The borrowed form: the table lives in your buffer (no allocation).
    let mut channels = [Channel::default(); 2]; // folded bias + multiplier
    let q = quantization()?;
    let fc = FullyConnected::new(&WEIGHTS, 3, Some(&BIAS), &q, RequantMode::Float32, &mut channels)?;
    fc.run(&[4, 5, -6], 1, &mut out)?; // XNNPACK / ONNX Runtime's arithmetic
    assert_eq!(out, [-3, 64]);
    Ok(())
}
