//! Differential fuzzing of the output stage: every available instruction-set
//! path of `kernel::requantize` against the portable one and against an
//! exact reference written from each mode's definition, for arbitrary
//! accumulators, biases, per-tensor / per-channel multipliers of all five
//! modes (double, single, LiteRT optimized, LiteRT reference, float32),
//! zero points, clamps and output types. Invalid parameters must give `Err`
//! (the same on every path), never a panic. Also the scalar primitives on
//! arbitrary inputs (no panics, the documented closed forms).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::kernel::{Isa, Multipliers, OutputStage, RequantOutput, Scaling, requantize_scalar};
use qkit::requant::{
    QuantizedMultiplier, Rounding, multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_i64, multiply_by_quantized_multiplier_ties_up,
    quantize_multiplier, requantize_f32, requantize_f64, rounding_divide_by_pot,
    rounding_right_shift_ties_up, saturating_rounding_doubling_high_mul,
};

#[derive(Debug, Arbitrary)]
struct Input {
    acc: Vec<i32>,
    bias: Vec<i32>,
    use_bias: bool,
    per_channel: bool,
    channels: u8,
    multipliers: Vec<(i32, i8, f32)>,
    mode: u8,
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

/// The stage's multiplier of channel `c`, applied to `x` from its
/// definition (i128 / f64), then the exact zero point add and the clamp.
fn reference(x: i32, s: &OutputStage, c: usize) -> i32 {
    fn pick<T: Copy>(m: Multipliers<'_, T>, c: usize) -> T {
        match m {
            Multipliers::PerTensor(m) => m,
            Multipliers::PerChannel(ms) => ms[c],
        }
    }
    let (zp, lo, hi) = (s.zero_point as i128, s.act_min as i128, s.act_max as i128);
    let exact = |y: i128| (y + zp).clamp(lo, hi) as i32;
    let x = x as i128;
    let srdhm = |m: QuantizedMultiplier| {
        let xl = ((x << m.shift.max(0)) as u32 as i32) as i128;
        rhu(2 * xl * m.multiplier as i128, 32)
    };
    match s.scaling {
        Scaling::Double(m) => {
            let m = pick(m, c);
            exact(rhaz(srdhm(m), (-m.shift).max(0) as u32))
        }
        Scaling::LiteRtOptimized(m) => {
            let m = pick(m, c);
            exact(rhu(srdhm(m), (-m.shift).max(0) as u32))
        }
        Scaling::Single(m) => {
            let m = pick(m, c);
            exact(rhu(x * m.multiplier as i128, (31 - m.shift) as u32) as u32 as i32 as i128)
        }
        Scaling::LiteRtReference(m) => exact(((x as f64) * pick(m, c)).round() as i32 as i128),
        Scaling::Float32(m) => {
            let v = (x as i32 as f32) * pick(m, c);
            let v = (v as f64).clamp((lo - zp) as f64, (hi - zp) as f64);
            (v.round_ties_even() as i128 + zp) as i32
        }
    }
}

fn run<T: RequantOutput + Into<i32>>(acc: &[i32], stage: &OutputStage, bias: Option<&[i32]>) {
    let mut slow = vec![T::default(); acc.len()];
    let r = requantize_scalar(acc, bias, stage, &mut slow);
    for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
        let mut fast = vec![T::default(); acc.len()];
        // Debug strings: an `InvalidMultiplier(NaN)` is not `==` itself.
        let got = isa.requantize(acc, bias, stage, &mut fast);
        assert_eq!(format!("{got:?}"), format!("{r:?}"), "{isa:?}");
        if r.is_ok() {
            assert_eq!(fast, slow, "{isa:?} != scalar");
        }
    }
    if r.is_err() {
        return;
    }
    let channels = stage
        .scaling
        .channels()
        .or(bias.map(<[i32]>::len))
        .unwrap_or(1);
    for (i, (&a, &o)) in acc.iter().zip(&slow).enumerate() {
        let c = i % channels;
        let b = bias.map_or(0, |b| b[c]);
        assert_eq!(o.into(), reference(a.wrapping_add(b), stage, c));
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
    if (0..=62).contains(&e) {
        assert_eq!(
            rounding_right_shift_ties_up(a, e) as i128,
            rhu(a as i128, e as u32)
        );
    }
    let m = QuantizedMultiplier {
        multiplier: b,
        shift: e,
    };
    let _ = multiply_by_quantized_multiplier(a, m, Rounding::Double);
    let _ = multiply_by_quantized_multiplier(a, m, Rounding::Single);
    let _ = multiply_by_quantized_multiplier_ties_up(a, m);
    let _ = multiply_by_quantized_multiplier_i64(x64, m);
    let _ = requantize_f32(a, scale, e, b.min(e), b.max(e));
    let _ = requantize_f64(x64, real, e, b, a);
    if let Ok(q) = quantize_multiplier(real) {
        assert!(q.multiplier == 0 || (1 << 30..=i32::MAX).contains(&q.multiplier));
    } else {
        assert!(!(real.is_finite() && real >= 0.0));
    }

    // The output stage.
    let channels = (input.channels % 40) as usize + 1;
    let ms: Vec<(QuantizedMultiplier, f32)> = input
        .multipliers
        .iter()
        .take(channels)
        .map(|&(q, sh, f)| {
            // Mostly valid shifts, sometimes out of range to exercise Err.
            let shift = if sh as i32 % 7 == 0 {
                sh as i32
            } else {
                (sh as i32).rem_euclid(62) - 31
            };
            (
                QuantizedMultiplier {
                    multiplier: q,
                    shift,
                },
                f,
            )
        })
        .collect();
    if ms.is_empty() {
        return;
    }
    let q31: Vec<QuantizedMultiplier> = ms.iter().map(|m| m.0).collect();
    let f32s: Vec<f32> = ms.iter().map(|m| m.1).collect();
    let f64s: Vec<f64> = f32s.iter().map(|&f| f64::from(f) * 1.000_000_1).collect();
    let acc = &input.acc[..input.acc.len() / channels * channels];
    let bias: Vec<i32> = input
        .bias
        .iter()
        .copied()
        .chain(core::iter::repeat(7))
        .take(channels)
        .collect();
    let q = if input.per_channel {
        Multipliers::PerChannel(&q31)
    } else {
        Multipliers::PerTensor(QuantizedMultiplier {
            multiplier: q31[0].multiplier.max(0),
            ..q31[0]
        })
    };
    let scaling = match input.mode % 5 {
        0 => Scaling::Double(q),
        1 => Scaling::Single(q),
        2 => Scaling::LiteRtOptimized(q),
        3 if input.per_channel => Scaling::LiteRtReference(Multipliers::PerChannel(&f64s)),
        3 => Scaling::LiteRtReference(Multipliers::PerTensor(f64s[0])),
        _ if input.per_channel => Scaling::Float32(Multipliers::PerChannel(&f32s)),
        _ => Scaling::Float32(Multipliers::PerTensor(f32s[0])),
    };
    let stage = OutputStage {
        scaling,
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
        0 => run::<i8>(acc, &stage, bias),
        1 => run::<u8>(acc, &stage, bias),
        _ => run::<i16>(acc, &stage, bias),
    }
});
