//! A converted TFLite CNN, end to end on qkit: `digits_cnn.tflite` (a Keras
//! CNN on the UCI 8x8 digits — Conv 3x3, DepthwiseConv 3x3, Conv 1x1,
//! AveragePool 2x2, FullyConnected, Softmax — converted to full-integer int8
//! by the TFLite converter, `tools/gen_cnn.py`) is read with the official
//! TFLite flatbuffers schema, turned into qkit layers, and run on every test
//! image. Its int8 logits and probabilities must equal TensorFlow Lite
//! Micro's bit for bit (`digits_cnn_tflm.json`, recorded by the same tool).
//!
//! `cargo run --release --example tflite_cnn`
//! `cargo run --release --example tflite_cnn -- --emit-firmware PATH` also
//! writes the model as `static` arrays for `examples/firmware`.

mod net;

use std::fmt::Write as _;
use std::time::Instant;

use qkit::Round;
use qkit::layer::{Activation, Channel, Padding};
use qkit::quant::{QuantizeSlice, Quantizer};
use serde_json::Value;

use net::{Graph, Net, Op};

static MODEL: &[u8] = include_bytes!("digits_cnn.tflite");
static TFLM: &str = include_str!("digits_cnn_tflm.json");
static DIGITS: &[u8] = include_bytes!("../data/digits.bin");

fn unhex(v: &Value) -> Vec<i8> {
    let s = v.as_str().expect("hex string").as_bytes();
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap() as i8)
        .collect()
}

/// examples/digits' split: xorshift64* Fisher-Yates (seed 7), last 20 % test.
fn test_images() -> Vec<([f32; 64], usize)> {
    let mut state = 7u64.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        let mut x = state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let mut recs: Vec<&[u8]> = DIGITS.chunks_exact(65).collect();
    for i in (1..recs.len()).rev() {
        let j = ((next() >> 11) as f64 / (1u64 << 53) as f64 * (i + 1) as f64) as usize;
        recs.swap(i, j);
    }
    let test = recs.split_off(recs.len() * 4 / 5);
    test.iter()
        .map(|r| {
            let mut x = [0f32; 64];
            for (xi, &p) in x.iter_mut().zip(&r[..64]) {
                *xi = p as f32 / 16.0;
            }
            (x, r[64] as usize)
        })
        .collect()
}

fn argmax(v: &[i8]) -> usize {
    (0..v.len()).fold(0, |b, k| if v[k] > v[b] { k } else { b })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emit = std::env::args()
        .skip_while(|a| a != "--emit-firmware")
        .nth(1);
    let golden: Value = serde_json::from_str(TFLM)?;
    let graph = Graph::parse(MODEL)?;
    let mut channels = vec![Channel::default(); graph.channel_count()];
    let mut net = Net::new(&graph, &mut channels)?;
    println!(
        "digits_cnn.tflite: {} bytes, {} operators: {}",
        MODEL.len(),
        graph.steps.len(),
        graph
            .steps
            .iter()
            .map(|s| op_name(&s.op))
            .collect::<Vec<_>>()
            .join(" -> ")
    );

    let images = test_images();
    let (tflm_in, tflm_logits, tflm_probs) = (
        unhex(&golden["inputs"]),
        unhex(&golden["logits"]),
        unhex(&golden["probs"]),
    );
    let input_tensor = &graph.tensors[graph.input];
    let quantizer = Quantizer::<i8>::new(input_tensor.scale(), input_tensor.zero_point)?;
    let (logits_at, probs_at) = output_order(&graph);
    let mut inputs = Vec::with_capacity(images.len() * 64);
    let (mut correct, mut same_logits, mut same_probs) = (0, 0, 0);
    for (i, (x, label)) in images.iter().enumerate() {
        let mut q = [0i8; 64];
        quantizer.quantize_slice(x, &mut q, Round::HalfAwayFromZero)?;
        assert_eq!(
            q[..],
            tflm_in[i * 64..(i + 1) * 64],
            "image {i}: input quantization"
        );
        inputs.extend_from_slice(&q);
        let out = net.run(&q)?;
        let (logits, probs) = (out[logits_at], out[probs_at]);
        same_logits += usize::from(logits == &tflm_logits[i * 10..(i + 1) * 10]);
        same_probs += usize::from(probs == &tflm_probs[i * 10..(i + 1) * 10]);
        correct += usize::from(argmax(logits) == *label);
    }
    let n = images.len();
    // Time per image: the median of 15 passes over the test set.
    let mut times: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            for q in inputs.chunks_exact(64) {
                std::hint::black_box(net.run(std::hint::black_box(q)).map(|o| o.len()).ok());
            }
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "{n} test images: float accuracy {:.2}% (Keras), int8 accuracy {:.2}% (qkit), {:.2} µs per image",
        golden["float_accuracy"].as_f64().unwrap_or(0.0) * 100.0,
        correct as f64 * 100.0 / n as f64,
        times[times.len() / 2]
    );
    println!(
        "bit-exact with TensorFlow Lite Micro: logits {same_logits}/{n}, softmax {same_probs}/{n}"
    );
    assert_eq!((same_logits, same_probs), (n, n), "qkit differs from TFLM");

    if let Some(path) = emit {
        let src = firmware(&graph, &mut net, &inputs, &images)?;
        std::fs::write(&path, src)?;
        println!("wrote the firmware CNN to {path}");
    }
    Ok(())
}

/// Which graph output is the logits and which the softmax (scale 1/256).
fn output_order(graph: &Graph) -> (usize, usize) {
    let is_probs = |k: usize| {
        let t = &graph.tensors[graph.outputs[k]];
        t.zero_point == -128 && t.scale() == 1.0 / 256.0
    };
    if is_probs(1) { (0, 1) } else { (1, 0) }
}

fn op_name(op: &Op) -> &'static str {
    match op {
        Op::Conv { .. } => "CONV_2D",
        Op::Depthwise { .. } => "DEPTHWISE_CONV_2D",
        Op::AveragePool { .. } => "AVERAGE_POOL_2D",
        Op::MaxPool { .. } => "MAX_POOL_2D",
        Op::Reshape => "RESHAPE",
        Op::FullyConnected { .. } => "FULLY_CONNECTED",
        Op::Softmax { .. } => "SOFTMAX",
    }
}

fn array<T: std::fmt::Debug>(out: &mut String, name: &str, ty: &str, v: &[T]) {
    writeln!(out, "pub static {name}: [{ty}; {}] = [", v.len()).unwrap();
    for chunk in v.chunks(16) {
        let items: Vec<String> = chunk.iter().map(|x| format!("{x:?}")).collect();
        writeln!(out, "    {},", items.join(", ")).unwrap();
    }
    writeln!(out, "];").unwrap();
}

fn activation(a: Activation) -> &'static str {
    match a {
        Activation::None => "Activation::None",
        Activation::Relu => "Activation::Relu",
        Activation::Relu6 => "Activation::Relu6",
        Activation::ReluN1To1 => "Activation::ReluN1To1",
    }
}

fn padding(p: Padding) -> &'static str {
    match p {
        Padding::Same => "Padding::Same",
        Padding::Valid => "Padding::Valid",
    }
}

/// Images the firmware checks.
const FIRMWARE_IMAGES: usize = 20;

/// The model as `static` items for the `#![no_std]` firmware: per layer
/// `L{k}_*` weights, biases, scales and geometry, then a few quantized test
/// images with the logits and probabilities the host (= TFLM) computed.
fn firmware(
    graph: &Graph,
    net: &mut Net<'_>,
    inputs: &[i8],
    images: &[([f32; 64], usize)],
) -> Result<String, qkit::Error> {
    let mut s = String::from(
        "// @generated by `cargo run --release --example tflite_cnn -- --emit-firmware \
         examples/firmware/src/cnn.rs`.\n// Do not edit: CI regenerates it and fails on a difference.\n\
         #![allow(clippy::all, dead_code)]\n\nuse qkit::layer::{Activation, Conv2DShape, DepthwiseConv2DShape, Padding, Pool2DShape};\n\n",
    );
    let kinds: Vec<&str> = graph.steps.iter().map(|st| op_name(&st.op)).collect();
    writeln!(
        s,
        "/// The operators, in order.\npub const OPS: [&str; {}] = {kinds:?};\n",
        kinds.len()
    )
    .unwrap();
    for (k, st) in graph.steps.iter().enumerate() {
        let (i, o) = (&graph.tensors[st.input], &graph.tensors[st.output]);
        writeln!(s, "// {k}: {} ({} -> {})", op_name(&st.op), i.name, o.name).unwrap();
        writeln!(s, "pub const L{k}_INPUT_SCALE: f32 = {:?};", i.scale()).unwrap();
        writeln!(
            s,
            "pub const L{k}_INPUT_ZERO_POINT: i32 = {};",
            i.zero_point
        )
        .unwrap();
        writeln!(s, "pub const L{k}_OUTPUT_SCALE: f32 = {:?};", o.scale()).unwrap();
        writeln!(
            s,
            "pub const L{k}_OUTPUT_ZERO_POINT: i32 = {};",
            o.zero_point
        )
        .unwrap();
        writeln!(s, "pub const L{k}_OUTPUT_LEN: usize = {};", o.len()).unwrap();
        if let Some(w) = st.weights {
            array(&mut s, &format!("L{k}_WEIGHTS"), "i8", &graph.weights[&w]);
            array(
                &mut s,
                &format!("L{k}_FILTER_SCALES"),
                "f32",
                &graph.tensors[w].scales,
            );
        }
        if let Some(b) = st.bias.and_then(|b| graph.biases.get(&b)) {
            array(&mut s, &format!("L{k}_BIAS"), "i32", b);
        }
        match &st.op {
            Op::Conv {
                shape: c,
                activation: a,
            } => {
                writeln!(
                    s,
                    "pub const L{k}_SHAPE: Conv2DShape = Conv2DShape {{ input_height: {}, input_width: {}, \
                     input_channels: {}, filter_height: {}, filter_width: {}, filter_input_channels: {}, \
                     stride_height: {}, stride_width: {}, dilation_height: {}, dilation_width: {}, padding: {} }};",
                    c.input_height, c.input_width, c.input_channels, c.filter_height, c.filter_width,
                    c.filter_input_channels, c.stride_height, c.stride_width, c.dilation_height,
                    c.dilation_width, padding(c.padding)
                )
                .unwrap();
                writeln!(
                    s,
                    "pub const L{k}_ACTIVATION: Activation = {};",
                    activation(*a)
                )
                .unwrap();
            }
            Op::Depthwise {
                shape: c,
                activation: a,
            } => {
                writeln!(
                    s,
                    "pub const L{k}_SHAPE: DepthwiseConv2DShape = DepthwiseConv2DShape {{ input_height: {}, \
                     input_width: {}, input_channels: {}, filter_height: {}, filter_width: {}, \
                     depth_multiplier: {}, stride_height: {}, stride_width: {}, dilation_height: {}, \
                     dilation_width: {}, padding: {} }};",
                    c.input_height, c.input_width, c.input_channels, c.filter_height, c.filter_width,
                    c.depth_multiplier, c.stride_height, c.stride_width, c.dilation_height,
                    c.dilation_width, padding(c.padding)
                )
                .unwrap();
                writeln!(
                    s,
                    "pub const L{k}_ACTIVATION: Activation = {};",
                    activation(*a)
                )
                .unwrap();
            }
            Op::AveragePool {
                shape: p,
                activation: a,
            }
            | Op::MaxPool {
                shape: p,
                activation: a,
            } => {
                writeln!(
                    s,
                    "pub const L{k}_SHAPE: Pool2DShape = Pool2DShape {{ input_height: {}, input_width: {}, \
                     channels: {}, filter_height: {}, filter_width: {}, stride_height: {}, stride_width: {}, \
                     padding: {} }};",
                    p.input_height, p.input_width, p.channels, p.filter_height, p.filter_width,
                    p.stride_height, p.stride_width, padding(p.padding)
                )
                .unwrap();
                writeln!(
                    s,
                    "pub const L{k}_ACTIVATION: Activation = {};",
                    activation(*a)
                )
                .unwrap();
            }
            Op::FullyConnected {
                in_dim,
                activation: a,
            } => {
                writeln!(s, "pub const L{k}_IN_DIM: usize = {in_dim};").unwrap();
                writeln!(
                    s,
                    "pub const L{k}_ACTIVATION: Activation = {};",
                    activation(*a)
                )
                .unwrap();
            }
            Op::Softmax { beta } => {
                writeln!(s, "pub const L{k}_BETA: f32 = {beta:?};").unwrap();
            }
            Op::Reshape => {}
        }
        s.push('\n');
    }
    let n = FIRMWARE_IMAGES.min(images.len());
    let (logits_at, probs_at) = output_order(graph);
    let (mut logits, mut probs, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for (q, (_, label)) in inputs.chunks_exact(64).zip(images).take(n) {
        let out = net.run(q)?;
        logits.extend_from_slice(out[logits_at]);
        probs.extend_from_slice(out[probs_at]);
        labels.push(*label as u8);
    }
    writeln!(s, "pub const IMAGES: usize = {n};").unwrap();
    array(&mut s, "IMAGE_PIXELS", "i8", &inputs[..n * 64]);
    array(&mut s, "EXPECTED_LOGITS", "i8", &logits);
    array(&mut s, "EXPECTED_PROBS", "i8", &probs);
    array(&mut s, "LABELS", "u8", &labels);
    Ok(s)
}
