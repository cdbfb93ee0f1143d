use qkit::requant::{
    Rounding, conv_real_multiplier, multiply_by_quantized_multiplier, quantize_multiplier,
};

fn main() -> Result<(), qkit::Error> {
    // TFLM's Prepare: M = in_scale * w_scale / out_scale in f64, then a Q31
    // significand and a shift (frexp, ties away from zero, 2^31 carry, flush).
    let m = quantize_multiplier(conv_real_multiplier(0.02, 0.005, 0.1)?)?;
    // Eval: double rounding (TFLM / CMSIS-NN default) or single rounding
    // (TFLITE_SINGLE_ROUNDING). The mode is a value, never a Cargo feature.
    assert_eq!(multiply_by_quantized_multiplier(1234, m, Rounding::Double), 1);
    Ok(())
}
