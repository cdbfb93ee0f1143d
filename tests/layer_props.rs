//! The layer equals TFLite's reference FULLY_CONNECTED loop (offsets
//! applied per multiply-accumulate, no folding, the output stage element by
//! element) in every requantization mode.

use proptest::prelude::*;
use qkit::kernel::PreparedI4;
use qkit::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, FullyConnected16x8, Quantization,
    RequantMode,
};
use qkit::quant::{PerChannel, Quantizer};
use qkit::requant::{
    Rounding, conv_real_multiplier, multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_i64, multiply_by_quantized_multiplier_ties_up,
    quantize_multiplier, quantize_multiplier_single_rounding, requantize_f32, requantize_f64,
};

fn nibble(packed: &[u8], i: usize) -> i8 {
    let b = packed[i / 2];
    if i.is_multiple_of(2) {
        ((b << 4) as i8) >> 4
    } else {
        (b as i8) >> 4
    }
}

/// TFLite reference FULLY_CONNECTED, written out longhand.
#[allow(clippy::too_many_arguments)]
fn reference(
    w: &[i8],
    in_dim: usize,
    out_dim: usize,
    bias: Option<&[i32]>,
    q: &Quantization<'_>,
    requant: RequantMode,
    x: &[i8],
    batch: usize,
) -> Vec<i8> {
    let (lo, hi) = qkit::ops::activation_range(
        q.activation,
        qkit::quant::Quantizer::<i8>::new(q.output.scale(), q.output.zero_point()).unwrap(),
    )
    .unwrap();
    let (lo, hi) = (lo as i32, hi as i32);
    let mut out = vec![0i8; batch * out_dim];
    for b in 0..batch {
        for o in 0..out_dim {
            let mut acc = 0i32;
            for k in 0..in_dim {
                let xv = x[b * in_dim + k] as i32 - q.input.zero_point();
                acc = acc.wrapping_add(xv * w[o * in_dim + k] as i32);
            }
            acc = acc.wrapping_add(bias.map_or(0, |b| b[o]));
            let s_w = q.filter.scale(o).unwrap();
            let real = conv_real_multiplier(q.input.scale(), s_w, q.output.scale()).unwrap();
            let y = match requant {
                RequantMode::Double => {
                    let m = quantize_multiplier(real).unwrap();
                    (multiply_by_quantized_multiplier(acc, m, Rounding::Double)
                        + q.output.zero_point())
                    .clamp(lo, hi)
                }
                RequantMode::Single => {
                    let m = quantize_multiplier_single_rounding(real).unwrap();
                    (multiply_by_quantized_multiplier(acc, m, Rounding::Single)
                        + q.output.zero_point())
                    .clamp(lo, hi)
                }
                RequantMode::LiteRtOptimized => {
                    let m = quantize_multiplier(real).unwrap();
                    (multiply_by_quantized_multiplier_ties_up(acc, m) + q.output.zero_point())
                        .clamp(lo, hi)
                }
                RequantMode::LiteRtReference => {
                    requantize_f64(acc.into(), real, q.output.zero_point(), lo, hi)
                }
                RequantMode::Float32 => requantize_f32(
                    acc,
                    q.input.scale() * s_w / q.output.scale(),
                    q.output.zero_point(),
                    lo,
                    hi,
                )
                .unwrap(),
            };
            out[b * out_dim + o] = y as i8;
        }
    }
    out
}

fn activation() -> impl Strategy<Value = Activation> {
    prop_oneof![
        Just(Activation::None),
        Just(Activation::Relu),
        Just(Activation::Relu6),
        Just(Activation::ReluN1To1)
    ]
}

fn requant() -> impl Strategy<Value = RequantMode> {
    prop_oneof![
        Just(RequantMode::Double),
        Just(RequantMode::Single),
        Just(RequantMode::LiteRtOptimized),
        Just(RequantMode::LiteRtReference),
        Just(RequantMode::Float32)
    ]
}

#[derive(Debug, Clone)]
struct Case {
    in_dim: usize,
    out_dim: usize,
    batch: usize,
    w: Vec<i8>,
    packed: Vec<u8>,
    x: Vec<i8>,
    bias: Option<Vec<i32>>,
    scales: Vec<f32>,
    s_in: f32,
    s_out: f32,
    zp_in: i32,
    zp_out: i32,
}

fn case() -> impl Strategy<Value = Case> {
    (
        1usize..80,
        1usize..70,
        1usize..3,
        any::<bool>(),
        any::<bool>(),
    )
        .prop_flat_map(|(in_dim, out_dim, batch, has_bias, per_channel)| {
            let n = in_dim * out_dim;
            (
                prop::collection::vec(any::<i8>(), n),
                prop::collection::vec(any::<u8>(), n.div_ceil(2)),
                prop::collection::vec(any::<i8>(), batch * in_dim),
                prop::collection::vec(-100_000i32..100_000, out_dim),
                prop::collection::vec(1e-4f32..0.05, if per_channel { out_dim } else { 1 }),
                (1e-3f32..0.2, 1e-3f32..2.0, -128i32..=127, -128i32..=127),
            )
                .prop_map(
                    move |(w, packed, x, bias, scales, (s_in, s_out, zp_in, zp_out))| Case {
                        in_dim,
                        out_dim,
                        batch,
                        w,
                        packed,
                        x,
                        bias: has_bias.then_some(bias),
                        scales,
                        s_in,
                        s_out,
                        zp_in,
                        zp_out,
                    },
                )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(120))]

    #[test]
    fn int8_layer_equals_reference(c in case(), act in activation(), mode in requant(), narrow in any::<bool>()) {
        let w: Vec<i8> = if narrow { c.w.iter().map(|&v| v.max(-127)).collect() } else { c.w.clone() };
        let q = Quantization {
            input: Quantizer::new(c.s_in, c.zp_in).unwrap(),
            filter: FilterQuantizer::symmetric(&c.scales).unwrap(),
            output: Quantizer::new(c.s_out, c.zp_out).unwrap(),
            activation: act,
        };
        let mut ch = vec![Channel::default(); c.out_dim];
        let fc = FullyConnected::new(&w, c.in_dim, c.bias.as_deref(), &q, mode, &mut ch).unwrap();
        let mut got = vec![0i8; c.batch * c.out_dim];
        fc.run(&c.x, c.batch, &mut got).unwrap();
        let want = reference(&w, c.in_dim, c.out_dim, c.bias.as_deref(), &q, mode, &c.x, c.batch);
        prop_assert_eq!(got, want);
    }

    #[test]
    fn int4_layer_equals_reference(c in case(), act in activation(), mode in requant()) {
        let w: Vec<i8> = (0..c.in_dim * c.out_dim).map(|i| nibble(&c.packed, i)).collect();
        let q = Quantization {
            input: Quantizer::new(c.s_in, c.zp_in).unwrap(),
            filter: FilterQuantizer::symmetric(&c.scales).unwrap(),
            output: Quantizer::new(c.s_out, c.zp_out).unwrap(),
            activation: act,
        };
        let mut ch = vec![Channel::default(); c.out_dim];
        let fc = FullyConnected::new_i4(&c.packed, c.in_dim, c.bias.as_deref(), &q, mode, &mut ch).unwrap();
        let mut got = vec![0i8; c.batch * c.out_dim];
        fc.run(&c.x, c.batch, &mut got).unwrap();
        let want = reference(&w, c.in_dim, c.out_dim, c.bias.as_deref(), &q, mode, &c.x, c.batch);
        prop_assert_eq!(&got, &want);
        // The prepared layout gives the same integers.
        let mut buf = vec![0u8; PreparedI4::buffer_len(c.out_dim, c.in_dim).unwrap()];
        let prepared = PreparedI4::new(&c.packed, c.out_dim, c.in_dim, &mut buf).unwrap();
        let mut ch2 = vec![Channel::default(); c.out_dim];
        let fc2 = FullyConnected::new_i4_prepared(prepared, c.bias.as_deref(), &q, mode, &mut ch2).unwrap();
        let mut got2 = vec![0i8; c.batch * c.out_dim];
        fc2.run(&c.x, c.batch, &mut got2).unwrap();
        prop_assert_eq!(got2, want);
    }

    #[test]
    fn layer_16x8_equals_reference(
        c in case(),
        x16 in prop::collection::vec(any::<i16>(), 160),
        bias in prop::collection::vec(-(1i64 << 40)..(1i64 << 40), 70),
        act in activation(),
    ) {
        let x = &x16[..c.batch * c.in_dim];
        let bias = &bias[..c.out_dim];
        let q = Quantization {
            input: Quantizer::new(c.s_in * 0.01, 0).unwrap(),
            filter: FilterQuantizer::symmetric(&c.scales).unwrap(),
            output: Quantizer::new(c.s_out, 0).unwrap(),
            activation: act,
        };
        let mut ch = vec![Channel::default(); c.out_dim];
        let fc = FullyConnected16x8::new(&c.w, c.in_dim, Some(bias), &q, &mut ch).unwrap();
        let mut got = vec![0i16; c.batch * c.out_dim];
        fc.run(x, c.batch, &mut got).unwrap();
        let (lo, hi) = qkit::ops::activation_range(
            act,
            qkit::quant::Quantizer::<i16>::new(q.output.scale(), 0).unwrap(),
        )
        .unwrap();
        let (lo, hi) = (lo as i32, hi as i32);
        for b in 0..c.batch {
            for o in 0..c.out_dim {
                let acc: i64 = (0..c.in_dim).map(|k| x[b * c.in_dim + k] as i64 * c.w[o * c.in_dim + k] as i64).sum::<i64>() + bias[o];
                let s_w = q.filter.scale(o).unwrap();
                let real = conv_real_multiplier(q.input.scale(), s_w, q.output.scale()).unwrap();
                let y = multiply_by_quantized_multiplier_i64(acc, quantize_multiplier(real).unwrap()).clamp(lo, hi);
                prop_assert_eq!(got[b * c.out_dim + o], y as i16);
            }
        }
    }
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let q = Quantization {
        input: Quantizer::new(0.1, 0).unwrap(),
        filter: FilterQuantizer::symmetric(&[0.1, 0.2, 0.3]).unwrap(),
        output: Quantizer::new(0.1, 0).unwrap(),
        activation: Activation::None,
    };
    let mut ch = [Channel::default(); 2];
    // Three filter scales for two channels.
    assert!(FullyConnected::new(&[0; 4], 2, None, &q, RequantMode::Double, &mut ch).is_err());
    let q = Quantization {
        filter: FilterQuantizer::symmetric(&[0.1]).unwrap(),
        ..q
    };
    assert!(FullyConnected::new(&[0; 4], 2, Some(&[1]), &q, RequantMode::Double, &mut ch).is_err());
    assert!(FullyConnected::new_i4(&[0; 1], 2, None, &q, RequantMode::Double, &mut ch).is_err());
    // Bad scales and zero points cannot reach a layer: the quantizers
    // reject them.
    for bad in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        assert!(Quantizer::<i8>::new(bad, 0).is_err());
        assert!(FilterQuantizer::symmetric(&[0.1, bad]).is_err());
    }
    assert!(Quantizer::<i8>::new(0.1, 128).is_err());
    // Weights with a zero point other than 0 (not TFLite's symmetric weights).
    let qb = Quantization {
        filter: Quantizer::new(0.1, 3).unwrap().into(),
        ..q
    };
    assert!(FullyConnected::new(&[0; 4], 2, None, &qb, RequantMode::Double, &mut ch).is_err());
    let scales = [0.1, 0.2];
    let qb = Quantization {
        filter: PerChannel::new(&scales, &[0, 1], &[2, 2], 0)
            .unwrap()
            .into(),
        ..q
    };
    assert!(FullyConnected::new(&[0; 4], 2, None, &qb, RequantMode::Double, &mut ch).is_err());
    let fc = FullyConnected::new(&[0; 4], 2, None, &q, RequantMode::Double, &mut ch).unwrap();
    let mut out = [0i8; 4];
    assert!(fc.run(&[0; 3], 2, &mut out).is_err());
    assert!(fc.run(&[0; 4], 2, &mut out[..3]).is_err());
    assert!(fc.run(&[0; 4], usize::MAX, &mut out).is_err());
    fc.run(&[], 0, &mut []).unwrap();
}
