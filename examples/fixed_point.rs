//! Qm.n fixed-point arithmetic in one screen.
//!
//! `cargo run --release --example fixed_point`

use qkit::fixed::{FixedI16, FixedU8};
use qkit::{Q15, Q31};

fn main() -> Result<(), qkit::Error> {
    // Q15: 16-bit storage, 15 fractional bits, range [-1, 1). `try_from`
    // rounds to nearest (ties to even) and is an error out of range.
    let a = Q15::try_from(0.5f32)?;
    let b = Q15::try_from(-0.25f32)?;
    println!(
        "Q15: try_from(1.0) = {:?} (1.0 is out of range)",
        Q15::try_from(1.0f32)
    );
    println!("Q15: {a} * {b} = {}", a * b);
    println!(
        "Q15: MAX + 0.5 = {} (saturates; wrapping gives {})",
        Q15::MAX + a,
        Q15::MAX.wrapping_add(a)
    );
    println!("Q15: one LSB = {} = 2^-15 exactly", Q15::DELTA);

    // Multiplication rounds to nearest, ties up: Q31 `*` is gemmlowp's
    // SaturatingRoundingDoublingHighMul; `saturating_mul_floor` truncates
    // like CMSIS-DSP arm_mult_q31.
    let x = Q31::from_bits(3 << 29); // 0.75
    let lsb2 = Q31::from_bits(2); // 2^-30
    println!(
        "Q31: 0.75 * 2^-30 = 1.5 LSB -> rounded {} LSB, floored {} LSB",
        (x * lsb2).to_bits(),
        x.saturating_mul_floor(lsb2).to_bits()
    );
    println!("Q31: MIN * MIN = {} (= MAX)", Q31::MIN * Q31::MIN);

    // Q3.12: `FixedI16<12>` names the storage (i16) and the fractional bits
    // (12); `Q15` is `FixedI16<15>`. Parsing rounds to nearest, ties to even.
    type Q3_12 = FixedI16<12>;
    let gain: Q3_12 = "2.71828".parse()?;
    let y = gain * Q3_12::from_f64(1.5);
    println!(
        "Q3.12: 2.71828 parses to {gain}; times 1.5 = {y} ({:?} as f32)",
        y.to_f32()
    );
    println!(
        "Q3.12: 1 / 3 = {} (division truncates toward zero)",
        Q3_12::ONE / Q3_12::from_f64(3.0)
    );
    println!(
        "Q3.12: 1 / 0 = {} (saturates, never panics); checked: {:?}",
        Q3_12::ONE / Q3_12::ZERO,
        Q3_12::ONE.checked_div(Q3_12::ZERO)
    );

    // Between formats: rounding to nearest even, saturating.
    let q15: Q15 = x.convert::<i16, 15>();
    let small: FixedU8<4> = gain.convert::<u8, 4>();
    println!("convert: Q31 {x} -> Q15 {q15}; Q3.12 {gain} -> UQ4.4 {small}");
    Ok(())
}
