//! qkit::ops against golden vectors produced by TensorFlow Lite Micro itself
//! (tools/gen_requant_golden.py: one-operator .tflite models run by the
//! tflite-micro Python interpreter, reference kernels, double rounding).
//!
//! Every case is checked element by element in TFLM's default double
//! rounding; the same vectors are then replayed in single rounding to show
//! they tell the two apart.

use qkit::ops::{
    Activation, AddParams, MulParams, RequantizeParams, activation_range, add_i8, add_i16, mul_i8,
    mul_i16, requantize_tensor,
};
use qkit::quant::Quantizer;
use qkit::requant::Rounding;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn quantizer<Q: qkit::QInt>(v: &Value) -> Quantizer<Q> {
    Quantizer::new(
        v["scale"].as_f64().unwrap() as f32,
        v["zero_point"].as_i64().unwrap() as i32,
    )
    .unwrap()
}

fn ints<T: TryFrom<i64>>(v: &Value) -> Vec<T>
where
    T::Error: std::fmt::Debug,
{
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| T::try_from(x.as_i64().unwrap()).unwrap())
        .collect()
}

fn activation(name: &str) -> Activation {
    match name {
        "NONE" => Activation::None,
        "RELU" => Activation::Relu,
        "RELU6" => Activation::Relu6,
        "RELU_N1_TO_1" => Activation::ReluN1To1,
        other => panic!("unknown activation {other}"),
    }
}

/// Replays a binary-op file; returns how many outputs single rounding gets wrong.
fn replay_binary(file: &str, eval: impl Fn(&Value, Rounding, &[i8], &[i8], &mut [i8])) -> usize {
    let doc = load(file);
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 5, "{file}: too few cases");
    let mut single_mismatches = 0;
    for case in cases {
        let (a, b, want) = (
            ints::<i8>(&case["a"]),
            ints::<i8>(&case["b"]),
            ints::<i8>(&case["out"]),
        );
        assert_eq!(a.len(), want.len());
        let mut got = vec![0i8; a.len()];
        eval(case, Rounding::Double, &a, &b, &mut got);
        for i in 0..a.len() {
            assert_eq!(
                got[i], want[i],
                "{file} case {}: a = {}, b = {}",
                case["name"], a[i], b[i]
            );
        }
        eval(case, Rounding::Single, &a, &b, &mut got);
        single_mismatches += got.iter().zip(&want).filter(|(g, w)| g != w).count();
    }
    single_mismatches
}

fn add_eval(case: &Value, rounding: Rounding, a: &[i8], b: &[i8], out: &mut [i8]) {
    let out_q = quantizer::<i8>(&case["output"]);
    let (lo, hi) =
        activation_range(activation(case["activation"].as_str().unwrap()), out_q).unwrap();
    let p = AddParams::new(
        quantizer(&case["input1"]),
        quantizer(&case["input2"]),
        out_q,
        lo,
        hi,
    )
    .unwrap()
    .with_rounding(rounding);
    add_i8(a, b, &p, out).unwrap();
}

fn mul_eval(case: &Value, rounding: Rounding, a: &[i8], b: &[i8], out: &mut [i8]) {
    let out_q = quantizer::<i8>(&case["output"]);
    let (lo, hi) =
        activation_range(activation(case["activation"].as_str().unwrap()), out_q).unwrap();
    let p = MulParams::new(
        quantizer(&case["input1"]),
        quantizer(&case["input2"]),
        out_q,
        lo,
        hi,
    )
    .unwrap()
    .with_rounding(rounding);
    mul_i8(a, b, &p, out).unwrap();
}

#[test]
fn add_i8_matches_tflite_micro() {
    let single = replay_binary("ops_add_i8.json", add_eval);
    eprintln!("ADD: single rounding differs from TFLM on {single} outputs");
    // The pot_ties cases land on exact negative ties in the output step.
    assert!(
        single > 0,
        "the ADD vectors do not tell double from single rounding"
    );
}

#[test]
fn mul_i8_matches_tflite_micro() {
    let single = replay_binary("ops_mul_i8.json", mul_eval);
    eprintln!("MUL: single rounding differs from TFLM on {single} outputs");
    assert!(
        single > 0,
        "the MUL vectors do not tell double from single rounding"
    );
}

fn replay_quantize<I: qkit::QInt + TryFrom<i64>>(case: &Value, rounding: Rounding) -> usize
where
    I::Error: std::fmt::Debug,
{
    let x = ints::<I>(&case["x"]);
    let want = ints::<i8>(&case["out"]);
    let p = RequantizeParams::new(
        quantizer::<I>(&case["input"]),
        quantizer::<i8>(&case["output"]),
    )
    .unwrap()
    .with_rounding(rounding);
    let mut got = vec![0i8; x.len()];
    requantize_tensor(&x, &p, &mut got).unwrap();
    if rounding == Rounding::Double {
        assert_eq!(got, want, "QUANTIZE case {}", case["name"]);
    }
    got.iter().zip(&want).filter(|(g, w)| g != w).count()
}

#[test]
fn requantize_matches_tflite_micro_quantize() {
    let doc = load("requant_quantize_i8.json");
    let mut single = 0;
    let mut saw_xor = false;
    for case in doc["cases"].as_array().unwrap() {
        for rounding in [Rounding::Double, Rounding::Single] {
            single += match case["input_type"].as_str().unwrap() {
                "int8" => replay_quantize::<i8>(case, rounding),
                "uint8" => {
                    let p = RequantizeParams::new(
                        quantizer::<u8>(&case["input"]),
                        quantizer::<i8>(&case["output"]),
                    )
                    .unwrap();
                    saw_xor |= p.is_xor_0x80();
                    replay_quantize::<u8>(case, rounding)
                }
                other => panic!("unexpected input type {other}"),
            };
        }
    }
    assert!(saw_xor, "no case exercises the XOR 0x80 path");
    eprintln!("QUANTIZE: single rounding differs from TFLM on {single} outputs");
    assert!(
        single > 0,
        "the QUANTIZE vectors do not tell double from single rounding"
    );
}

/// The golden cases that are not exact ties agree in both modes: the
/// difference is concentrated where SEMANTICS.md says it is.
#[test]
fn single_rounding_differs_only_on_tie_cases_of_add() {
    let doc = load("ops_add_i8.json");
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let (a, b, want) = (
            ints::<i8>(&case["a"]),
            ints::<i8>(&case["b"]),
            ints::<i8>(&case["out"]),
        );
        let mut got = vec![0i8; a.len()];
        add_eval(case, Rounding::Single, &a, &b, &mut got);
        let diff = got.iter().zip(&want).filter(|(g, w)| g != w).count();
        if name.starts_with("pot_ties") {
            assert!(diff > 0, "{name}: expected negative ties to differ");
        }
        // Off by at most one everywhere.
        for (g, w) in got.iter().zip(&want) {
            assert!((*g as i32 - *w as i32).abs() <= 1, "{name}");
        }
    }
}

/// Replays an int16 binary-op file; returns how many outputs single rounding misses.
fn replay_binary_i16(
    file: &str,
    eval: impl Fn(&Value, Rounding, &[i16], &[i16], &mut [i16]),
) -> usize {
    let doc = load(file);
    let mut single_mismatches = 0;
    for case in doc["cases"].as_array().unwrap() {
        let (a, b, want) = (
            ints::<i16>(&case["a"]),
            ints::<i16>(&case["b"]),
            ints::<i16>(&case["out"]),
        );
        let mut got = vec![0i16; a.len()];
        eval(case, Rounding::Double, &a, &b, &mut got);
        for i in 0..a.len() {
            assert_eq!(
                got[i], want[i],
                "{file} case {}: a = {}, b = {}",
                case["name"], a[i], b[i]
            );
        }
        eval(case, Rounding::Single, &a, &b, &mut got);
        single_mismatches += got.iter().zip(&want).filter(|(g, w)| g != w).count();
    }
    single_mismatches
}

#[test]
fn add_i16_matches_tflite_micro() {
    let single = replay_binary_i16("ops_add_i16.json", |case, rounding, a, b, out| {
        let out_q = quantizer::<i16>(&case["output"]);
        let act = activation(case["activation"].as_str().unwrap());
        let (lo, hi) = activation_range(act, out_q).unwrap();
        let p = AddParams::new(
            quantizer(&case["input1"]),
            quantizer(&case["input2"]),
            out_q,
            lo,
            hi,
        )
        .unwrap()
        .with_rounding(rounding);
        add_i16(a, b, &p, out).unwrap();
    });
    eprintln!("ADD int16: single rounding differs from TFLM on {single} outputs");
    assert!(
        single > 0,
        "the int16 ADD vectors do not tell double from single rounding"
    );
}

#[test]
fn mul_i16_matches_tflite_micro() {
    let single = replay_binary_i16("ops_mul_i16.json", |case, rounding, a, b, out| {
        let out_q = quantizer::<i16>(&case["output"]);
        let act = activation(case["activation"].as_str().unwrap());
        let (lo, hi) = activation_range(act, out_q).unwrap();
        let p = MulParams::new(
            quantizer(&case["input1"]),
            quantizer(&case["input2"]),
            out_q,
            lo,
            hi,
        )
        .unwrap()
        .with_rounding(rounding);
        mul_i16(a, b, &p, out).unwrap();
    });
    eprintln!("MUL int16: single rounding differs from TFLM on {single} outputs");
    assert!(
        single > 0,
        "the int16 MUL vectors do not tell double from single rounding"
    );
}
