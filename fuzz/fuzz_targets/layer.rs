//! Fuzzing the fully-connected layer: arbitrary shapes, scales, zero points,
//! modes and data never panic; in the integer modes the layer builds exactly
//! when every channel's multiplier obeys the one rule
//! (`QuantizedMultiplier::check`: a real multiplier of 2^30 or more is
//! `Err(ShiftOutOfRange)`; `Float32` has no shift and computes any multiplier
//! as defined), and whenever it builds, its outputs equal the reference loop
//! (offsets per MAC, no folding).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::Error;
use qkit::kernel::{Isa, PreparedI4};
use qkit::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, FullyConnected16x8, FullyConnectedBuf,
    Quantization, RequantMode,
};
use qkit::quant::Quantizer;
use qkit::requant::{
    Rounding, conv_real_multiplier, multiply_by_quantized_multiplier, quantize_multiplier,
    quantize_multiplier_checked, requantize_f32,
};

#[derive(Debug, Arbitrary)]
struct Input {
    in_dim: u8,
    out_dim: u8,
    batch: u8,
    int4: bool,
    per_channel: bool,
    mode: u8,
    act: u8,
    // Valid quantizers from qkit's `arbitrary` feature (any finite positive
    // scale, subnormals included; any zero point of the type).
    input: Quantizer<i8>,
    output: Quantizer<i8>,
    s_w: Vec<f32>,
    bias: Option<Vec<i32>>,
    data: Vec<i8>,
}

fuzz_target!(|f: Input| {
    let in_dim = f.in_dim as usize % 80;
    let out_dim = f.out_dim as usize % 80;
    let batch = f.batch as usize % 3;
    let mode = [
        RequantMode::Double,
        RequantMode::Single,
        RequantMode::Float32,
    ][f.mode as usize % 3];
    let act = [
        Activation::None,
        Activation::Relu,
        Activation::Relu6,
        Activation::ReluN1To1,
    ][f.act as usize % 4];
    let n = in_dim * out_dim;
    let w: Vec<i8> = f
        .data
        .iter()
        .copied()
        .cycle()
        .take(if f.data.is_empty() { 0 } else { n })
        .collect();
    let x: Vec<i8> = f
        .data
        .iter()
        .rev()
        .copied()
        .cycle()
        .take(if f.data.is_empty() { 0 } else { batch * in_dim })
        .collect();
    let packed: Vec<u8> = w.iter().take(n.div_ceil(2)).map(|&v| v as u8).collect();
    let scales: Vec<f32> = if f.per_channel {
        f.s_w.clone()
    } else {
        f.s_w.iter().take(1).copied().collect()
    };
    // Raw weight scales: invalid ones must be errors, never panics.
    let Ok(filter) = FilterQuantizer::symmetric(&scales) else {
        assert!(scales.is_empty() || scales.iter().any(|s| !(s.is_finite() && *s > 0.0)));
        return;
    };
    let q = Quantization {
        input: f.input,
        filter,
        output: f.output,
        activation: act,
    };
    let (s_in, s_out) = (f.input.scale(), f.output.scale());
    let mut ch = vec![Channel::default(); out_dim];
    let built = if f.int4 {
        FullyConnected::new_i4(&packed, in_dim, f.bias.as_deref(), &q, mode, &mut ch)
    } else {
        FullyConnected::new(&w, in_dim, f.bias.as_deref(), &q, mode, &mut ch)
    };
    // 16x8: never panics; Ok only with zero points 0.
    {
        let x16: Vec<i16> = x.iter().map(|&v| i16::from(v).wrapping_mul(257)).collect();
        let bias64: Option<Vec<i64>> = f
            .bias
            .as_ref()
            .map(|b| b.iter().map(|&v| i64::from(v) << 12).collect());
        let mut ch16 = vec![Channel::default(); out_dim];
        let q16 = Quantization {
            input: Quantizer::<i16>::new(s_in, f.input.zero_point()).unwrap(),
            filter,
            output: Quantizer::<i16>::new(s_out, f.output.zero_point()).unwrap(),
            activation: act,
        };
        if let Ok(fc16) = FullyConnected16x8::new(&w, in_dim, bias64.as_deref(), &q16, &mut ch16) {
            assert!(f.input.zero_point() == 0 && f.output.zero_point() == 0);
            let mut out16 = vec![0i16; batch * out_dim];
            let _ = fc16.run(&x16, batch, &mut out16);
        }
    }
    // The one multiplier rule decides: a shift above 30 in any channel is
    // ShiftOutOfRange (other errors may come first).
    let shift_too_big = mode != RequantMode::Float32
        && (0..out_dim).any(|o| {
            let sw = scales
                .get(if scales.len() > 1 { o } else { 0 })
                .copied()
                .unwrap_or(1.0);
            conv_real_multiplier(s_in, sw, s_out)
                .is_ok_and(|r| quantize_multiplier(r).is_ok_and(|m| m.shift > 30))
        });
    if built.is_ok() {
        assert!(!shift_too_big, "a multiplier beyond shift 30 was accepted");
    }
    if let Err(Error::ShiftOutOfRange { shift, .. }) = built {
        assert!(shift > 30 && shift_too_big);
    }
    let Ok(fc) = built else { return };
    let mut out = vec![0i8; batch * out_dim];
    if fc.run(&x, batch, &mut out).is_err() {
        assert!(x.len() != batch * in_dim);
        return;
    }
    // Every available instruction set computes the same integers, and so
    // does the owned form (capacity 80 > out_dim).
    for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
        let mut other = vec![0i8; batch * out_dim];
        fc.with_isa(isa)
            .unwrap()
            .run(&x, batch, &mut other)
            .unwrap();
        assert_eq!(other, out, "{isa:?}");
    }
    let owned = if f.int4 {
        FullyConnectedBuf::<80>::new_i4(&packed, in_dim, out_dim, f.bias.as_deref(), &q, mode)
    } else if in_dim > 0 {
        FullyConnectedBuf::<80>::new(&w, in_dim, f.bias.as_deref(), &q, mode)
    } else {
        Err(Error::InvalidParameter(
            "in_dim 0: the owned form cannot infer out_dim",
        ))
    };
    if let Ok(owned) = owned {
        let mut other = vec![0i8; batch * out_dim];
        owned.run(&x, batch, &mut other).unwrap();
        assert_eq!(other, out);
        assert_eq!(owned.as_layer().channels(), fc.channels());
    }
    let weight = |o: usize, k: usize| -> i32 {
        let i = o * in_dim + k;
        if f.int4 {
            let b = packed[i / 2];
            (if i % 2 == 0 {
                ((b << 4) as i8) >> 4
            } else {
                (b as i8) >> 4
            }) as i32
        } else {
            w[i] as i32
        }
    };
    if f.int4 {
        // The prepared int4 layout computes the same integers.
        let mut buf = vec![0u8; PreparedI4::buffer_len(out_dim, in_dim).unwrap()];
        let prepared = PreparedI4::new(&packed, out_dim, in_dim, &mut buf).unwrap();
        let mut ch2 = vec![Channel::default(); out_dim];
        let fc2 = FullyConnected::new_i4_prepared(prepared, f.bias.as_deref(), &q, mode, &mut ch2)
            .unwrap();
        let mut out2 = vec![0i8; batch * out_dim];
        fc2.run(&x, batch, &mut out2).unwrap();
        assert_eq!(out2, out);
    }
    let (lo, hi) = fc.activation_range();
    for b in 0..batch {
        for o in 0..out_dim {
            let mut acc = f.bias.as_ref().map_or(0, |v| v[o]);
            for k in 0..in_dim {
                acc = acc
                    .wrapping_add((x[b * in_dim + k] as i32 - f.input.zero_point()) * weight(o, k));
            }
            let pc = scales.len() > 1;
            let sw = scales[if pc { o } else { 0 }];
            let real = conv_real_multiplier(s_in, sw, s_out).unwrap();
            // Built in an integer mode: the multiplier obeys the rule.
            let m = || quantize_multiplier_checked(real).unwrap();
            let y = match mode {
                RequantMode::Double => {
                    (multiply_by_quantized_multiplier(acc, m(), Rounding::Double)
                        .saturating_add(f.output.zero_point()))
                    .clamp(lo, hi)
                }
                RequantMode::Single => {
                    (multiply_by_quantized_multiplier(acc, m(), Rounding::Single)
                        .saturating_add(f.output.zero_point()))
                    .clamp(lo, hi)
                }
                // ONNX Runtime's f32 scale may underflow to 0 or overflow to
                // inf where the checked function wants a positive finite one:
                // then the MLAS formula itself (NaN gives the minimum).
                RequantMode::Float32 => {
                    let s = s_in * sw / s_out;
                    requantize_f32(acc, s, f.output.zero_point(), lo, hi).unwrap_or_else(|_| {
                        let (l, h) = (
                            (lo - f.output.zero_point()) as f32,
                            (hi - f.output.zero_point()) as f32,
                        );
                        let v = (acc as f32 * s).max(l).min(h);
                        (v.round_ties_even() as i64 + f.output.zero_point() as i64)
                            .clamp(lo as i64, hi as i64) as i32
                    })
                }
                // The LiteRT modes have their own golden tests
                // (tests/litert_golden.rs); this target draws the three above.
                RequantMode::LiteRtOptimized | RequantMode::LiteRtReference => {
                    unreachable!("mode is drawn from three")
                }
            };
            assert_eq!(out[b * out_dim + o] as i32, y);
        }
    }
});
