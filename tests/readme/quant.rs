use qkit::int4::I4;
use qkit::quant::{CodeRange, PerBlock, PerChannel, QuantizeSlice, Quantizer};
use qkit::Round;

fn main() -> Result<(), qkit::Error> {
    let q = Quantizer::<i8>::new(0.5, -1)?;                    // scale, zero point
    assert_eq!(q.quantize(1.25, Round::HalfAwayFromZero), 2);  // TFLite: 2.5 -> 3, -1
    assert_eq!(q.quantize(1.25, Round::HalfToEven), 1);        // ONNX:   2.5 -> 2, -1
    let mut out = [0i8; 3];
    q.quantize_slice(&[0.0, 100.0, f32::NAN], &mut out, Round::HalfToEven)?; // no allocation
    assert_eq!(out, [-1, 127, -128]);                          // saturates; NaN -> qmin

    // Parameters, each named after the runtime it reproduces.
    let act = Quantizer::<u8>::from_min_max(-1.0, 3.0, CodeRange::Full)?; // TFLite ChooseQuantizationParams
    let w = Quantizer::<i8>::symmetric(2.54, CodeRange::Narrow)?;         // TFLite weights, [-127, 127]
    let dynq = Quantizer::<i8>::dynamic(&[-1.0, 0.5, 3.0])?;              // ONNX Runtime's dynamic int8
    assert_eq!((act.zero_point(), w.qmin(), dynq.zero_point()), (64, -127, -64));

    // Per channel (ONNX axis semantics) and ONNX blocked: the same slice methods.
    let pc = PerChannel::<i8>::with_code_range(&[0.5, 0.25], &[], &[2, 3], 0, CodeRange::Narrow)?;
    let mut wq = [0i8; 6];
    pc.quantize_slice(&[1.0, -1.0, 0.5, 1.0, -1.0, 0.5], &mut wq, Round::HalfToEven)?;
    assert_eq!(wq, [2, -2, 1, 4, -4, 2]);
    let pb = PerBlock::<I4>::new(&[1.0, 0.5], &[], &[1, 64], 1, 32)?;
    let mut packed = [0u8; 32];                                 // int4: two per byte, element 0 low
    pb.quantize_packed(&[0.3; 64], &mut packed, Round::HalfToEven)?;
    Ok(())
}
