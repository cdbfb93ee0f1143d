//! CONV_2D, DEPTHWISE_CONV_2D, AVERAGE/MAX_POOL_2D, SOFTMAX, LOGISTIC and
//! TANH outputs equal TensorFlow Lite Micro's (and, for the float-table
//! modes, LiteRT's), bit for bit, on every case of
//! tests/data/conv_golden.json (from tools/gen_conv_golden.py).
//!
//! Where the runtime could compute in more than one way, a second test
//! shows the vectors separate the candidates: the rejected candidate fails
//! on them.

use qkit::QInt;
use qkit::layer::{
    Activation, AveragePool2D, Channel, Conv2D, Conv2D16x8, Conv2DShape, DepthwiseConv2D,
    DepthwiseConv2D16x8, DepthwiseConv2DShape, FilterQuantizer, Logistic, Logistic16, MaxPool2D,
    Padding, Pool2DShape, Quantization, RequantMode, Softmax, Softmax16, TableMode, Tanh, Tanh16,
};
use qkit::quant::Quantizer;
use serde_json::Value;

fn cases() -> Vec<Value> {
    let data: Value = serde_json::from_str(include_str!("data/conv_golden.json")).unwrap();
    data["cases"].as_array().unwrap().clone()
}

/// Little-endian integers of `N` bytes from a hex string.
fn hex<const N: usize>(v: &Value) -> Vec<i64> {
    let s = v.as_str().unwrap().as_bytes();
    let bytes: Vec<u8> = s
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect();
    bytes
        .chunks_exact(N)
        .map(|c| {
            let mut b = [0u8; 8];
            b[..N].copy_from_slice(c);
            let shift = 64 - 8 * N as u32;
            (i64::from_le_bytes(b) << shift) >> shift
        })
        .collect()
}

fn i8s(v: &Value) -> Vec<i8> {
    hex::<1>(v).into_iter().map(|x| x as i8).collect()
}
fn i16s(v: &Value) -> Vec<i16> {
    hex::<2>(v).into_iter().map(|x| x as i16).collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect()
}

fn activation(v: &Value) -> Activation {
    match v.as_str().unwrap() {
        "NONE" => Activation::None,
        "RELU" => Activation::Relu,
        "RELU6" => Activation::Relu6,
        "RELU_N1_TO_1" => Activation::ReluN1To1,
        other => panic!("unknown activation {other}"),
    }
}

fn padding(v: &Value) -> Padding {
    match v.as_str().unwrap() {
        "SAME" => Padding::Same,
        _ => Padding::Valid,
    }
}

fn f32_of(v: &Value) -> f32 {
    v.as_f64().unwrap() as f32
}

/// A convolution case's quantization (filter scales owned by the caller).
fn quantization<'a, A: QInt>(c: &Value, filter_scales: &'a [f32]) -> Quantization<'a, A> {
    Quantization {
        input: Quantizer::new(
            f32_of(&c["input_scale"]),
            c["input_zero_point"].as_i64().unwrap() as i32,
        )
        .unwrap(),
        filter: FilterQuantizer::symmetric(filter_scales).unwrap(),
        output: Quantizer::new(
            f32_of(&c["output_scale"]),
            c["output_zero_point"].as_i64().unwrap() as i32,
        )
        .unwrap(),
        activation: activation(&c["activation"]),
    }
}

/// How a 16x8 convolution case is computed.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode16 {
    /// int64 accumulator, 64-bit requantization (Q15 multiplier).
    I64,
    /// int32 accumulator, int32 double rounding.
    I32,
}

/// Runs a conv/depthwise case; `mode16` overrides the runtime's choice for
/// 16x8 (to test the rejected candidate), `requant` for int8.
fn run_conv(c: &Value, requant: RequantMode, mode16: Option<Mode16>) -> (Vec<i64>, Vec<i64>) {
    let scales: Vec<f32> = c["filter_scales"]
        .as_array()
        .unwrap()
        .iter()
        .map(f32_of)
        .collect();
    let q = quantization::<i8>(c, &scales);
    let q16 = quantization::<i16>(c, &scales);
    let batch = c["batch"].as_u64().unwrap() as usize;
    let [h, w, cin] = usizes(&c["input_shape"])[..] else {
        panic!()
    };
    let fs = usizes(&c["filter_shape"]);
    let [sh, sw] = usizes(&c["stride"])[..] else {
        panic!()
    };
    let [dh, dw] = usizes(&c["dilation"])[..] else {
        panic!()
    };
    let out_shape = usizes(&c["output_shape"]);
    let out_len = batch * out_shape.iter().product::<usize>();
    let weights = i8s(&c["weights"]);
    let kind = c["kind"].as_str().unwrap();
    let bias_type = c["bias_type"].as_str();
    let bias64: Option<Vec<i64>> = match bias_type {
        Some("int64") => Some(hex::<8>(&c["bias"])),
        Some("int32") if !c["bias"].is_null() => Some(hex::<4>(&c["bias"])),
        _ => None,
    };
    let bias32: Option<Vec<i32>> = bias64
        .as_ref()
        .map(|b| b.iter().map(|&v| v as i32).collect());
    let depthwise = c["op"] == "depthwise";
    let cout = out_shape[2];
    let mut ch = vec![Channel::default(); cout];
    let want = if kind == "16x8" {
        hex::<2>(&c["output"])
    } else {
        hex::<1>(&c["output"])
    };
    let got: Vec<i64> = if depthwise {
        let shape = DepthwiseConv2DShape::new(
            [h, w, cin],
            [fs[1], fs[2]],
            c["depth_multiplier"].as_u64().unwrap() as usize,
        )
        .stride(sh, sw)
        .dilation(dh, dw)
        .padding(padding(&c["padding"]));
        if kind == "16x8" {
            let dw = DepthwiseConv2D16x8::new(&weights, &shape, bias64.as_deref(), &q16, &mut ch)
                .unwrap();
            let mut y = vec![0i16; out_len];
            dw.run(&i16s(&c["input"]), batch, &mut y).unwrap();
            y.into_iter().map(i64::from).collect()
        } else {
            let dw =
                DepthwiseConv2D::new(&weights, &shape, bias32.as_deref(), &q, requant, &mut ch)
                    .unwrap();
            assert_eq!(dw.output_shape()[..], out_shape[..]);
            let mut y = vec![0i8; out_len];
            dw.run(&i8s(&c["input"]), batch, &mut y).unwrap();
            y.into_iter().map(i64::from).collect()
        }
    } else {
        let shape = Conv2DShape::new([h, w, cin], [fs[1], fs[2], fs[3]])
            .stride(sh, sw)
            .dilation(dh, dw)
            .padding(padding(&c["padding"]));
        if kind == "16x8" {
            let runtime = if bias_type == Some("int32") {
                Mode16::I32
            } else {
                Mode16::I64
            };
            let conv = match mode16.unwrap_or(runtime) {
                Mode16::I64 => Conv2D16x8::new(&weights, &shape, bias64.as_deref(), &q16, &mut ch),
                Mode16::I32 => {
                    Conv2D16x8::new_i32_bias(&weights, &shape, bias32.as_deref(), &q16, &mut ch)
                }
            }
            .unwrap();
            assert_eq!(conv.output_shape()[..], out_shape[..]);
            let mut scratch = vec![0i16; Conv2D16x8::buffer_len(&shape).unwrap()];
            let mut y = vec![0i16; out_len];
            conv.run(&i16s(&c["input"]), batch, &mut y, &mut scratch)
                .unwrap();
            y.into_iter().map(i64::from).collect()
        } else {
            let conv =
                Conv2D::new(&weights, &shape, bias32.as_deref(), &q, requant, &mut ch).unwrap();
            assert_eq!(conv.output_shape()[..], out_shape[..]);
            let mut scratch = vec![0i8; Conv2D::buffer_len(&shape).unwrap()];
            let mut y = vec![0i8; out_len];
            conv.run(&i8s(&c["input"]), batch, &mut y, &mut scratch)
                .unwrap();
            y.into_iter().map(i64::from).collect()
        }
    };
    (got, want)
}

fn run_pool(c: &Value) -> (Vec<i64>, Vec<i64>) {
    let batch = c["batch"].as_u64().unwrap() as usize;
    let [h, w, ch] = usizes(&c["input_shape"])[..] else {
        panic!()
    };
    let [fh, fw] = usizes(&c["filter"])[..] else {
        panic!()
    };
    let [sh, sw] = usizes(&c["stride"])[..] else {
        panic!()
    };
    let shape = Pool2DShape::new([h, w, ch], [fh, fw])
        .stride(sh, sw)
        .padding(padding(&c["padding"]));
    let out_len = batch * usizes(&c["output_shape"]).iter().product::<usize>();
    let (scale, zp) = (
        f32_of(&c["scale"]),
        c["zero_point"].as_i64().unwrap() as i32,
    );
    let a = activation(&c["activation"]);
    let avg = c["op"] == "avgpool";
    if c["kind"] == "int16" {
        let q = Quantizer::<i16>::new(scale, zp).unwrap();
        let x = i16s(&c["input"]);
        let mut y = vec![0i16; out_len];
        if avg {
            AveragePool2D::new(&shape, q, a)
                .unwrap()
                .run(&x, batch, &mut y)
                .unwrap();
        } else {
            MaxPool2D::new(&shape, q, a)
                .unwrap()
                .run(&x, batch, &mut y)
                .unwrap();
        }
        (
            y.into_iter().map(i64::from).collect(),
            hex::<2>(&c["output"]),
        )
    } else {
        let q = Quantizer::<i8>::new(scale, zp).unwrap();
        let x = i8s(&c["input"]);
        let mut y = vec![0i8; out_len];
        if avg {
            AveragePool2D::new(&shape, q, a)
                .unwrap()
                .run(&x, batch, &mut y)
                .unwrap();
        } else {
            MaxPool2D::new(&shape, q, a)
                .unwrap()
                .run(&x, batch, &mut y)
                .unwrap();
        }
        (
            y.into_iter().map(i64::from).collect(),
            hex::<1>(&c["output"]),
        )
    }
}

fn run_softmax(c: &Value) -> (Vec<i64>, Vec<i64>) {
    if c["kind"] == "int16" {
        let q = Quantizer::<i16>::new(f32_of(&c["input_scale"]), 0).unwrap();
        let sm = Softmax16::new(q, f32_of(&c["beta"])).unwrap();
        let x = i16s(&c["input"]);
        let mut y = vec![0i16; x.len()];
        sm.run(&x, c["depth"].as_u64().unwrap() as usize, &mut y)
            .unwrap();
        return (
            y.into_iter().map(i64::from).collect(),
            hex::<2>(&c["output"]),
        );
    }
    let q = Quantizer::<i8>::new(
        f32_of(&c["input_scale"]),
        c["input_zero_point"].as_i64().unwrap() as i32,
    )
    .unwrap();
    let sm = Softmax::new(q, f32_of(&c["beta"])).unwrap();
    let depth = c["depth"].as_u64().unwrap() as usize;
    let x = i8s(&c["input"]);
    if c["kind"] == "int16_out" {
        let mut y = vec![0i16; x.len()];
        sm.run_i16(&x, depth, &mut y).unwrap();
        (
            y.into_iter().map(i64::from).collect(),
            hex::<2>(&c["output"]),
        )
    } else {
        let mut y = vec![0i8; x.len()];
        sm.run(&x, depth, &mut y).unwrap();
        (
            y.into_iter().map(i64::from).collect(),
            hex::<1>(&c["output"]),
        )
    }
}

fn run_elementwise16(c: &Value) -> Vec<i64> {
    let q = Quantizer::<i16>::new(f32_of(&c["input_scale"]), 0).unwrap();
    let x = i16s(&c["input"]);
    let mut y = vec![0i16; x.len()];
    if c["op"] == "logistic" {
        Logistic16::new(q).unwrap().run(&x, &mut y).unwrap();
    } else {
        Tanh16::new(q).unwrap().run(&x, &mut y).unwrap();
    }
    y.into_iter().map(i64::from).collect()
}

fn run_table(c: &Value, mode: TableMode) -> Vec<i64> {
    let q = Quantizer::<i8>::new(
        f32_of(&c["input_scale"]),
        c["input_zero_point"].as_i64().unwrap() as i32,
    )
    .unwrap();
    let x = i8s(&c["input"]);
    let mut y = vec![0i8; x.len()];
    if c["op"] == "logistic" {
        Logistic::new(q, mode).unwrap().run(&x, &mut y).unwrap();
    } else {
        Tanh::new(q, mode).unwrap().run(&x, &mut y).unwrap();
    }
    y.into_iter().map(i64::from).collect()
}

#[test]
fn every_case_matches_the_runtime() {
    let cases = cases();
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for c in &cases {
        let name = c["name"].as_str().unwrap();
        let op = c["op"].as_str().unwrap();
        let key = format!("{op}/{}", c["kind"].as_str().unwrap_or("int8"));
        *seen.entry(key).or_default() += 1;
        match op {
            "conv" | "depthwise" => {
                let (got, want) = run_conv(c, RequantMode::Double, None);
                assert_eq!(got, want, "{name}");
            }
            "avgpool" | "maxpool" => {
                let (got, want) = run_pool(c);
                assert_eq!(got, want, "{name}");
            }
            "softmax" => {
                let (got, want) = run_softmax(c);
                assert_eq!(got, want, "{name}");
            }
            "logistic" | "tanh" if c["kind"] == "int16" => {
                assert_eq!(run_elementwise16(c), hex::<2>(&c["output"]), "{name}");
            }
            "logistic" | "tanh" => {
                assert_eq!(
                    run_table(c, TableMode::Micro),
                    hex::<1>(&c["output"]),
                    "{name} (TFLM)"
                );
                assert_eq!(
                    run_table(c, TableMode::LiteRt),
                    hex::<1>(&c["output_litert"]),
                    "{name} (LiteRT)"
                );
            }
            other => panic!("unknown op {other}"),
        }
    }
    // Every op and type the issue names is present.
    for key in [
        "conv/int8",
        "conv/16x8",
        "depthwise/int8",
        "depthwise/16x8",
        "avgpool/int8",
        "avgpool/int16",
        "maxpool/int8",
        "maxpool/int16",
        "softmax/int8",
        "softmax/int16_out",
        "softmax/int16",
        "logistic/int8",
        "tanh/int8",
        "logistic/int16",
        "tanh/int16",
    ] {
        assert!(seen.get(key).copied().unwrap_or(0) >= 2, "{key}: {seen:?}");
    }
}

/// TFLM's 16x8 convolution does **not** requantize like the int8 one when
/// the bias is int64: the int32 double-rounding candidate fails on those
/// cases, and the 64-bit (Q15) candidate fails on the int32-bias cases.
#[test]
fn sixteen_by_eight_requantization_is_told_apart() {
    let mut separated = [0usize; 2];
    for c in cases()
        .iter()
        .filter(|c| c["op"] == "conv" && c["kind"] == "16x8")
    {
        let int32 = c["bias_type"].as_str() == Some("int32");
        let other = if int32 { Mode16::I64 } else { Mode16::I32 };
        let (got, want) = run_conv(c, RequantMode::Double, Some(other));
        if got != want {
            separated[usize::from(int32)] += 1;
        }
    }
    assert!(
        separated[0] >= 3,
        "int64-bias cases separated: {separated:?}"
    );
    assert!(
        separated[1] >= 2,
        "int32-bias cases separated: {separated:?}"
    );
}

/// The int8 convolutions round twice (TFLM's default build): single
/// rounding fails on some case.
#[test]
fn int8_convolutions_are_double_rounded() {
    let single_fails = cases()
        .iter()
        .filter(|c| (c["op"] == "conv" || c["op"] == "depthwise") && c["kind"] == "int8")
        .filter(|c| {
            let (got, want) = run_conv(c, RequantMode::Single, None);
            got != want
        })
        .count();
    assert!(single_fails >= 3, "{single_fails}");
}

/// TFLM's fixed-point LOGISTIC/TANH and LiteRT's float table really differ
/// on these vectors (so each mode is tested against its own runtime).
#[test]
fn micro_and_litert_tables_differ_on_the_vectors() {
    let differ = cases()
        .iter()
        .filter(|c| (c["op"] == "logistic" || c["op"] == "tanh") && c["kind"] != "int16")
        .filter(|c| c["output"] != c["output_litert"])
        .count();
    assert!(differ >= 2, "{differ}");
}
