//! Differential fuzzing of slice requantization: the dispatching entry (AVX2
//! where available) against the scalar path and an exact i128 reference, for
//! arbitrary accumulators, biases, per-tensor / per-channel multipliers,
//! zero points, clamps, output types and both rounding modes. Invalid
//! parameters must give `Err`, never a panic. Also the scalar primitives on
//! arbitrary inputs (no panics, the documented closed forms).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::requant::{
    Multipliers, OutputStage, QuantizedMultiplier, RequantOutput, Rounding,
    multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_i64, quantize_multiplier,
    requantize, requantize_f32, requantize_scalar, rounding_divide_by_pot,
    saturating_rounding_doubling_high_mul,
};

#[derive(Debug, Arbitrary)]
struct Input {
    acc: Vec<i32>,
    bias: Vec<i32>,
    use_bias: bool,
    per_channel: bool,
    channels: u8,
    multipliers: Vec<(i32, i8)>,
    single: bool,
    zero_point: i32,
    act: (i32, i32),
    out_type: u8,
    scalar_args: (i32, i32, i32, i64, f64, f32),
}

fn rhu(n: i128, k: u32) -> i128 {
    if k == 0 {
        n
    } else {
        (2 * n + (1i128 << k)).div_euclid(1i128 << (k + 1))
    }
}

fn rhaz(n: i128, k: u32) -> i128 {
    if k == 0 {
        return n;
    }
    let mag = (n.abs() * 2 + (1i128 << k)) >> (k + 1);
    if n < 0 { -mag } else { mag }
}

fn reference(x: i32, m: QuantizedMultiplier, s: &OutputStage) -> i32 {
    let x = x as i128;
    let y = match s.rounding {
        Rounding::Double => {
            let xl = ((x << m.shift.max(0)) as u32 as i32) as i128;
            rhaz(
                rhu(2 * xl * m.multiplier as i128, 32),
                (-m.shift).max(0) as u32,
            )
        }
        Rounding::Single => rhu(x * m.multiplier as i128, (31 - m.shift) as u32),
    };
    (y as u32 as i32)
        .wrapping_add(s.zero_point)
        .clamp(s.act_min, s.act_max)
}

fn run<T: RequantOutput + Default + Into<i32>>(
    input: &Input,
    stage: &OutputStage,
    bias: Option<&[i32]>,
) {
    let mut fast = vec![T::default(); input.acc.len()];
    let mut slow = vec![T::default(); input.acc.len()];
    let r1 = requantize(&input.acc, bias, stage, &mut fast);
    let r2 = requantize_scalar(&input.acc, bias, stage, &mut slow);
    assert_eq!(r1, r2);
    if r1.is_err() {
        return;
    }
    assert_eq!(fast, slow, "SIMD != scalar");
    let channels = match (stage.multipliers, bias) {
        (Multipliers::PerChannel(m), _) => m.len(),
        (_, Some(b)) => b.len(),
        _ => 1,
    };
    for (i, (&a, &o)) in input.acc.iter().zip(&slow).enumerate() {
        let c = i % channels;
        let m = match stage.multipliers {
            Multipliers::PerTensor(m) => m,
            Multipliers::PerChannel(ms) => ms[c],
        };
        let b = bias.map_or(0, |b| b[c]);
        assert_eq!(o.into(), reference(a.wrapping_add(b), m, stage));
    }
}

fuzz_target!(|input: Input| {
    // Scalar primitives: never panic, closed forms hold.
    let (a, b, e, x64, real, scale) = input.scalar_args;
    let s = saturating_rounding_doubling_high_mul(a, b);
    if !(a == i32::MIN && b == i32::MIN) {
        assert_eq!(s as i64, (a as i64 * b as i64 + (1 << 30)) >> 31);
    }
    let _ = rounding_divide_by_pot(a, e);
    let m = QuantizedMultiplier {
        multiplier: b,
        shift: e,
    };
    let _ = multiply_by_quantized_multiplier(a, m, Rounding::Double);
    let _ = multiply_by_quantized_multiplier(a, m, Rounding::Single);
    let _ = multiply_by_quantized_multiplier_i64(x64, m);
    let _ = requantize_f32(a, scale, e, b.min(e), b.max(e));
    if let Ok(q) = quantize_multiplier(real) {
        assert!(q.multiplier == 0 || (1 << 30..=i32::MAX).contains(&q.multiplier));
    } else {
        assert!(!(real.is_finite() && real >= 0.0));
    }

    // Slice requantization.
    let channels = (input.channels % 40) as usize + 1;
    let ms: Vec<QuantizedMultiplier> = input
        .multipliers
        .iter()
        .take(channels)
        .map(|&(q, sh)| QuantizedMultiplier {
            multiplier: q,
            // Mostly valid shifts, sometimes out of range to exercise Err.
            shift: if sh as i32 % 7 == 0 {
                sh as i32
            } else {
                (sh as i32).rem_euclid(62) - 31
            },
        })
        .collect();
    if ms.is_empty() {
        return;
    }
    let acc_len = input.acc.len() / channels * channels;
    let acc = input.acc[..acc_len].to_vec();
    let input = Input { acc, ..input };
    let bias: Vec<i32> = input
        .bias
        .iter()
        .copied()
        .chain(core::iter::repeat(7))
        .take(channels)
        .collect();
    let multipliers = if input.per_channel {
        Multipliers::PerChannel(&ms)
    } else {
        Multipliers::PerTensor(QuantizedMultiplier {
            multiplier: ms[0].multiplier.max(0),
            ..ms[0]
        })
    };
    let stage = OutputStage {
        multipliers,
        rounding: if input.single {
            Rounding::Single
        } else {
            Rounding::Double
        },
        zero_point: input.zero_point % 200,
        act_min: input.act.0.min(input.act.1) % 300,
        act_max: input.act.0.max(input.act.1) % 300,
    };
    let bias = if input.use_bias {
        Some(&bias[..])
    } else {
        None
    };
    match input.out_type % 3 {
        0 => run::<i8>(&input, &stage, bias),
        1 => run::<u8>(&input, &stage, bias),
        _ => run::<i16>(&input, &stage, bias),
    }
});
