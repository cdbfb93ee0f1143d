//! Convolution throughput beside a naive direct loop in the same run: a
//! 3x3 Conv2D 32x32x16 -> 16 and 3x3 depthwise convolutions on 32x32x32,
//! 32x32x64 and 16x16x128
//! (qkit's layers vs TFLite Micro's reference loops written out in Rust,
//! which compute the same integers), plus the digits CNN of
//! `examples/tflite_cnn` per image. Throughput is in multiply-accumulates,
//! so criterion's "elem/s" reads as MAC/s; the `clock` group's elem/s is the
//! cycles per second of this run, so MAC/cycle = (MAC/s) / (clock elem/s).
//!
//! Run: `cargo bench --bench conv -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qkit::layer::{
    Activation, Channel, Conv2D, Conv2DShape, DepthwiseConv2D, DepthwiseConv2D16x8,
    DepthwiseConv2DShape, FilterQuantizer, Quantization, RequantMode,
};
use qkit::quant::Quantizer;
use qkit::requant::{
    QuantizedMultiplier, Rounding, conv_real_multiplier, multiply_by_quantized_multiplier,
    quantize_multiplier,
};

#[allow(dead_code)]
#[path = "../examples/tflite_cnn/net.rs"]
mod net;

/// int8 data: the benches' shared generator, full range.
fn data(n: usize, seed: u64) -> Vec<i8> {
    data_ref::data(n, seed, false)
}

#[path = "common/clock.rs"]
mod clock_ref;
#[path = "common/data.rs"]
mod data_ref;
use clock_ref::{CLOCK_ITERS, spin};

const H: usize = 32;
const W: usize = 32;

/// What both implementations share.
struct Case {
    input: Vec<i8>,
    weights: Vec<i8>,
    bias: Vec<i32>,
    scales: Vec<f32>,
    multipliers: Vec<QuantizedMultiplier>,
}

const S_IN: f32 = 0.05;
const S_OUT: f32 = 0.1;
const ZP_IN: i32 = -3;
const ZP_OUT: i32 = 5;

fn case(in_c: usize, weights: usize, out_c: usize) -> Case {
    let scales: Vec<f32> = (0..out_c).map(|c| 0.002 + 0.0001 * c as f32).collect();
    let multipliers = scales
        .iter()
        .map(|&s| quantize_multiplier(conv_real_multiplier(S_IN, s, S_OUT).unwrap()).unwrap())
        .collect();
    Case {
        input: data(H * W * in_c, 1),
        weights: data(weights, 2).into_iter().map(|w| w.max(-127)).collect(),
        bias: (0..out_c as i32).map(|c| c * 37 - 300).collect(),
        scales,
        multipliers,
    }
}

fn quantization(scales: &[f32]) -> Quantization<'_> {
    Quantization {
        input: Quantizer::new(S_IN, ZP_IN).unwrap(),
        filter: FilterQuantizer::symmetric(scales).unwrap(),
        output: Quantizer::new(S_OUT, ZP_OUT).unwrap(),
        activation: Activation::Relu,
    }
}

fn output_stage(acc: i32, m: QuantizedMultiplier) -> i8 {
    (multiply_by_quantized_multiplier(acc, m, Rounding::Double) + ZP_OUT).clamp(ZP_OUT, 127) as i8
}

/// TFLite Micro's `ConvPerChannel` reference loop, 3x3 SAME stride 1.
fn naive_conv(c: &Case, in_c: usize, out_c: usize, out: &mut [i8]) {
    for oy in 0..H {
        for ox in 0..W {
            for o in 0..out_c {
                let mut acc = 0i32;
                for ky in 0..3 {
                    let iy = oy as isize + ky as isize - 1;
                    for kx in 0..3 {
                        let ix = ox as isize + kx as isize - 1;
                        if iy < 0 || ix < 0 || iy >= H as isize || ix >= W as isize {
                            continue;
                        }
                        for ci in 0..in_c {
                            let x = c.input[(iy as usize * W + ix as usize) * in_c + ci] as i32;
                            let w = c.weights[((o * 3 + ky) * 3 + kx) * in_c + ci] as i32;
                            acc += w * (x - ZP_IN);
                        }
                    }
                }
                out[(oy * W + ox) * out_c + o] = output_stage(acc + c.bias[o], c.multipliers[o]);
            }
        }
    }
}

/// TFLite Micro's `DepthwiseConvPerChannel` reference loop, 3x3 SAME, m = 1,
/// on an `h x w x ch` image.
fn naive_depthwise(c: &Case, (h, w, ch): (usize, usize, usize), out: &mut [i8]) {
    for oy in 0..h {
        for ox in 0..w {
            for o in 0..ch {
                let mut acc = 0i32;
                for ky in 0..3 {
                    let iy = oy as isize + ky as isize - 1;
                    for kx in 0..3 {
                        let ix = ox as isize + kx as isize - 1;
                        if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                            continue;
                        }
                        let x = c.input[(iy as usize * w + ix as usize) * ch + o] as i32;
                        let w = c.weights[(ky * 3 + kx) * ch + o] as i32;
                        acc += w * (x - ZP_IN);
                    }
                }
                out[(oy * w + ox) * ch + o] = output_stage(acc + c.bias[o], c.multipliers[o]);
            }
        }
    }
}

fn conv(cr: &mut Criterion) {
    let mut g = cr.benchmark_group("conv3x3_32x32x16_to_16");
    let (in_c, out_c) = (16, 16);
    let c = case(in_c, out_c * 9 * in_c, out_c);
    let shape = Conv2DShape::new([H, W, in_c], [3, 3, in_c]);
    let mut ch = vec![Channel::default(); out_c];
    let q = quantization(&c.scales);
    let layer = Conv2D::new(
        &c.weights,
        &shape,
        Some(&c.bias),
        &q,
        RequantMode::Double,
        &mut ch,
    )
    .unwrap();
    let mut scratch = vec![0i8; Conv2D::buffer_len(&shape).unwrap()];
    let (mut a, mut b) = (vec![0i8; H * W * out_c], vec![0i8; H * W * out_c]);
    layer.run(&c.input, 1, &mut a, &mut scratch).unwrap();
    naive_conv(&c, in_c, out_c, &mut b);
    assert_eq!(a, b, "qkit and the reference loop agree");
    g.throughput(Throughput::Elements((H * W * out_c * 9 * in_c) as u64));
    g.bench_function("naive_direct", |bn| {
        bn.iter(|| naive_conv(black_box(&c), in_c, out_c, &mut b))
    });
    g.bench_function("qkit", |bn| {
        bn.iter(|| {
            layer
                .run(black_box(&c.input), 1, &mut a, &mut scratch)
                .unwrap()
        })
    });
    g.finish();
}

/// 3x3 SAME depthwise convolutions, m = 1: the 32x32x32 and two
/// MobileNet-like layers (32x32x64, 16x16x128).
fn depthwise(cr: &mut Criterion) {
    for (h, w, ch_n) in [(32, 32, 32), (32, 32, 64), (16, 16, 128)] {
        let mut g = cr.benchmark_group(format!("depthwise3x3_{h}x{w}x{ch_n}"));
        let mut c = case(ch_n, 9 * ch_n, ch_n);
        c.input = data(h * w * ch_n, 1);
        let shape = DepthwiseConv2DShape::new([h, w, ch_n], [3, 3], 1);
        let mut ch = vec![Channel::default(); ch_n];
        let q = quantization(&c.scales);
        let layer = DepthwiseConv2D::new(
            &c.weights,
            &shape,
            Some(&c.bias),
            &q,
            RequantMode::Double,
            &mut ch,
        )
        .unwrap();
        let (mut a, mut b) = (vec![0i8; h * w * ch_n], vec![0i8; h * w * ch_n]);
        layer.run(&c.input, 1, &mut a).unwrap();
        naive_depthwise(&c, (h, w, ch_n), &mut b);
        assert_eq!(a, b, "qkit and the reference loop agree");
        g.throughput(Throughput::Elements((h * w * ch_n * 9) as u64));
        g.bench_function("naive_direct", |bn| {
            bn.iter(|| naive_depthwise(black_box(&c), (h, w, ch_n), &mut b))
        });
        g.bench_function("qkit", |bn| {
            bn.iter(|| layer.run(black_box(&c.input), 1, &mut a).unwrap())
        });
        g.finish();
    }
}

/// The 16x8 depthwise layer (int16 activations) on the MobileNet-like
/// 32x32x64 shape: qkit only (its MAC rate against the int8 layer's).
fn depthwise_16x8(cr: &mut Criterion) {
    let (h, w, ch_n) = (32, 32, 64);
    let mut g = cr.benchmark_group(format!("depthwise16x8_3x3_{h}x{w}x{ch_n}"));
    let c = case(ch_n, 9 * ch_n, ch_n);
    let input: Vec<i16> = data(2 * h * w * ch_n, 4)
        .chunks(2)
        .map(|b| i16::from_le_bytes([b[0] as u8, b[1] as u8]))
        .collect();
    let bias: Vec<i64> = c.bias.iter().map(|&b| i64::from(b) << 8).collect();
    let shape = DepthwiseConv2DShape::new([h, w, ch_n], [3, 3], 1);
    let mut ch = vec![Channel::default(); ch_n];
    let q = Quantization::<i16> {
        input: Quantizer::new(S_IN, 0).unwrap(),
        filter: FilterQuantizer::symmetric(&c.scales).unwrap(),
        output: Quantizer::new(S_OUT, 0).unwrap(),
        activation: Activation::Relu,
    };
    let layer = DepthwiseConv2D16x8::new(&c.weights, &shape, Some(&bias), &q, &mut ch).unwrap();
    let mut out = vec![0i16; h * w * ch_n];
    g.throughput(Throughput::Elements((h * w * ch_n * 9) as u64));
    g.bench_function("qkit", |bn| {
        bn.iter(|| layer.run(black_box(&input), 1, &mut out).unwrap())
    });
    g.finish();
}

fn cnn(cr: &mut Criterion) {
    let graph =
        net::Graph::parse(include_bytes!("../examples/tflite_cnn/digits_cnn.tflite")).unwrap();
    let mut ch = vec![Channel::default(); graph.channel_count()];
    let mut model = net::Net::new(&graph, &mut ch).unwrap();
    let image = data(64, 3);
    let mut g = cr.benchmark_group("digits_cnn");
    g.throughput(Throughput::Elements(1));
    g.bench_function("qkit_per_image", |bn| {
        bn.iter(|| model.run(black_box(&image)).map(|o| o.len()).unwrap())
    });
    g.finish();
}

fn clock(c: &mut Criterion) {
    let mut g = c.benchmark_group("clock");
    g.throughput(Throughput::Elements(CLOCK_ITERS));
    g.bench_function("cycles", |b| b.iter(|| spin(black_box(CLOCK_ITERS))));
    g.finish();
}

criterion_group!(benches, clock, conv, depthwise, depthwise_16x8, cnn);
criterion_main!(benches);
