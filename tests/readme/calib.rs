use qkit::calib::{Histogram, amax_quantizer};
use qkit::quant::CodeRange;

fn main() -> Result<(), qkit::Error> {
    let mut h = Histogram::<2048>::magnitude();
    h.add(&[0.5, -1.0, 2.0, f32::NAN]);            // NaN counted, skipped
    let t = h.entropy_threshold(128)?;              // int8: 128 levels
    let q = amax_quantizer::<i8>(t, CodeRange::Narrow)?;
    assert_eq!((q.zero_point(), q.qmin()), (0, -127));
    Ok(())
}
