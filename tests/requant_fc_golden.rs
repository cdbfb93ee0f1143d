//! The two scale compositions against TensorFlow Lite Micro's per-tensor
//! FULLY_CONNECTED (tools/gen_requant_golden.py, tflite-micro Python
//! interpreter 0.dev20261023). The scales were searched so that the `f32`
//! product `(double)(s_in * s_w) / s_out` and the all-`f64` product
//! `(double)s_in * s_w / s_out` quantize to different Q31 significands, and
//! the biases put accumulators where the two give different outputs.
//!
//! Finding: that TFLM build matches the all-`f64` `conv_real_multiplier`
//! exactly, and the `f32`-product form misses on some outputs, although the
//! TFLite sources' `GetQuantizedConvolutionMultipler` rounds the product to
//! `f32` (SEMANTICS.md 1.3 says the same). The runtime is the ground truth.

use qkit::kernel::{Multipliers, OutputStage, Scaling, requantize};
use qkit::requant::{
    conv_real_multiplier, fully_connected_real_multiplier_f32_product, quantize_multiplier,
};
use serde_json::Value;

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

/// Replays every case with the given composition; returns the mismatches.
fn replay(compose: fn(f32, f32, f32) -> Result<f64, qkit::Error>) -> usize {
    let path = format!(
        "{}/tests/data/requant_fc_per_tensor.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut mismatches = 0;
    for case in doc["cases"].as_array().unwrap() {
        let f = |v: &Value| v.as_f64().unwrap() as f32;
        let (s_in, s_w, s_out) = (
            f(&case["input"]["scale"]),
            f(&case["weight_scale"]),
            f(&case["output"]["scale"]),
        );
        let zp_in = case["input"]["zero_point"].as_i64().unwrap() as i32;
        let zp_out = case["output"]["zero_point"].as_i64().unwrap() as i32;
        let (x, w, bias, want) = (
            ints(&case["x"]),
            ints(&case["weights"]),
            ints(&case["bias"]),
            ints(&case["out"]),
        );
        let n = w.len();
        // K = 1: acc[b, o] = (x[b] - zp_in) · w[o]; the bias goes through the output stage.
        let acc: Vec<i32> = x
            .iter()
            .flat_map(|&xb| w.iter().map(move |&wo| (xb as i32 - zp_in) * wo as i32))
            .collect();
        let bias: Vec<i32> = bias.iter().map(|&b| b as i32).collect();
        let m = quantize_multiplier(compose(s_in, s_w, s_out).unwrap()).unwrap();
        let stage = OutputStage::new::<i8>(Scaling::Double(Multipliers::PerTensor(m)))
            .with_zero_point(zp_out);
        let mut got = vec![0i8; acc.len()];
        requantize(&acc, Some(&bias), &stage, &mut got).unwrap();
        assert_eq!(got.len(), x.len() * n);
        mismatches += got
            .iter()
            .zip(&want)
            .filter(|(g, w)| **g as i64 != **w)
            .count();
    }
    mismatches
}

#[test]
fn per_tensor_fc_of_tflite_micro_uses_the_f64_product() {
    let f64_form = replay(conv_real_multiplier);
    assert_eq!(
        f64_form, 0,
        "the all-f64 composition must match TFLM exactly"
    );
    let f32_form = replay(fully_connected_real_multiplier_f32_product);
    eprintln!("the f32-product composition misses TFLM's per-tensor FC on {f32_form} outputs");
    assert!(
        f32_form > 0,
        "the vectors do not tell the two compositions apart"
    );
}
