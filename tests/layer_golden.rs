//! FULLY_CONNECTED outputs equal TensorFlow Lite Micro's, bit for bit.
//! Vectors: tests/data/fc_golden.json, from tools/gen_fc_golden.py.

use qkit::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, FullyConnected16x8, Quantization,
    RequantMode,
};
use qkit::quant::Quantizer;
use serde_json::Value;

fn ints<T: TryFrom<i64>>(v: &Value) -> Vec<T> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| T::try_from(x.as_i64().unwrap()).ok().unwrap())
        .collect()
}

fn activation(name: &str) -> Activation {
    match name {
        "NONE" => Activation::None,
        "RELU" => Activation::Relu,
        "RELU6" => Activation::Relu6,
        other => panic!("unknown activation {other}"),
    }
}

#[test]
fn fully_connected_matches_tflite_micro() {
    let data: Value = serde_json::from_str(include_str!("data/fc_golden.json")).unwrap();
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() >= 12);
    let mut kinds = std::collections::BTreeSet::new();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let kind = c["kind"].as_str().unwrap();
        kinds.insert(kind);
        let batch = c["batch"].as_u64().unwrap() as usize;
        let in_dim = c["in_dim"].as_u64().unwrap() as usize;
        let out_dim = c["out_dim"].as_u64().unwrap() as usize;
        let filter_scales: Vec<f32> = c["filter_scales"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(
            filter_scales.len(),
            if c["per_channel"].as_bool().unwrap() {
                out_dim
            } else {
                1
            }
        );
        let q = Quantization {
            input: Quantizer::new(
                c["input_scale"].as_f64().unwrap() as f32,
                c["input_zero_point"].as_i64().unwrap() as i32,
            )
            .unwrap(),
            filter: FilterQuantizer::symmetric(&filter_scales).unwrap(),
            output: Quantizer::new(
                c["output_scale"].as_f64().unwrap() as f32,
                c["output_zero_point"].as_i64().unwrap() as i32,
            )
            .unwrap(),
            activation: activation(c["activation"].as_str().unwrap()),
        };
        let mut channels = vec![Channel::default(); out_dim];
        match kind {
            "int8" | "int4" => {
                let bias: Option<Vec<i32>> = (!c["bias"].is_null()).then(|| ints(&c["bias"]));
                let input: Vec<i8> = ints(&c["input"]);
                let want: Vec<i8> = ints(&c["output"]);
                let weights: Vec<i8> = ints(&c["weights"]);
                let packed: Vec<u8> = if kind == "int4" {
                    ints(&c["weights_packed"])
                } else {
                    vec![]
                };
                let fc = if kind == "int4" {
                    FullyConnected::new_i4(
                        &packed,
                        in_dim,
                        bias.as_deref(),
                        &q,
                        RequantMode::Double,
                        &mut channels,
                    )
                } else {
                    FullyConnected::new(
                        &weights,
                        in_dim,
                        bias.as_deref(),
                        &q,
                        RequantMode::Double,
                        &mut channels,
                    )
                }
                .unwrap();
                let mut got = vec![0i8; batch * out_dim];
                fc.run(&input, batch, &mut got).unwrap();
                assert_eq!(got, want, "{name}");
                if kind == "int4" {
                    // The same layer on the unpacked int8 weights agrees (TFLM unpacks too).
                    let mut ch8 = vec![Channel::default(); out_dim];
                    let fc8 = FullyConnected::new(
                        &weights,
                        in_dim,
                        bias.as_deref(),
                        &q,
                        RequantMode::Double,
                        &mut ch8,
                    )
                    .unwrap();
                    let mut got8 = vec![0i8; batch * out_dim];
                    fc8.run(&input, batch, &mut got8).unwrap();
                    assert_eq!(got8, want, "{name} unpacked");
                    let mut buf =
                        vec![0u8; qkit::kernel::PreparedI4::buffer_len(out_dim, in_dim).unwrap()];
                    let prepared =
                        qkit::kernel::PreparedI4::new(&packed, out_dim, in_dim, &mut buf).unwrap();
                    let mut chp = vec![Channel::default(); out_dim];
                    let fcp = FullyConnected::new_i4_prepared(
                        prepared,
                        bias.as_deref(),
                        &q,
                        RequantMode::Double,
                        &mut chp,
                    )
                    .unwrap();
                    let mut gotp = vec![0i8; batch * out_dim];
                    fcp.run(&input, batch, &mut gotp).unwrap();
                    assert_eq!(gotp, want, "{name} prepared");
                }
            }
            "int16" => {
                let bias: Option<Vec<i64>> = (!c["bias"].is_null()).then(|| ints(&c["bias"]));
                let input: Vec<i16> = ints(&c["input"]);
                let want: Vec<i16> = ints(&c["output"]);
                let weights: Vec<i8> = ints(&c["weights"]);
                let q16 = Quantization {
                    input: Quantizer::new(q.input.scale(), q.input.zero_point()).unwrap(),
                    filter: q.filter,
                    output: Quantizer::new(q.output.scale(), q.output.zero_point()).unwrap(),
                    activation: q.activation,
                };
                let fc =
                    FullyConnected16x8::new(&weights, in_dim, bias.as_deref(), &q16, &mut channels)
                        .unwrap();
                let mut got = vec![0i16; batch * out_dim];
                fc.run(&input, batch, &mut got).unwrap();
                assert_eq!(got, want, "{name}");
            }
            other => panic!("unknown kind {other}"),
        }
    }
    assert_eq!(kinds.len(), 3, "int8, int4 and 16x8 cases are all present");
}

/// The probe cases make the two per-tensor scale compositions disagree; the
/// layer (all-`f64`, as the tflite-micro runtime) matches them above, and
/// this shows the `f32`-product form of TFLite's source would not.
#[test]
fn probes_tell_the_per_tensor_compositions_apart() {
    use qkit::requant::{
        Rounding, conv_real_multiplier, fully_connected_real_multiplier_f32_product,
        multiply_by_quantized_multiplier, quantize_multiplier,
    };
    let data: Value = serde_json::from_str(include_str!("data/fc_golden.json")).unwrap();
    let mut probes = 0;
    let mut f32_misses = 0;
    for c in data["cases"].as_array().unwrap() {
        if !c["name"]
            .as_str()
            .unwrap()
            .starts_with("per_tensor_composition_probe")
        {
            continue;
        }
        probes += 1;
        let (s_in, s_w, s_out) = (
            c["input_scale"].as_f64().unwrap() as f32,
            c["filter_scales"][0].as_f64().unwrap() as f32,
            c["output_scale"].as_f64().unwrap() as f32,
        );
        let f64_m = quantize_multiplier(conv_real_multiplier(s_in, s_w, s_out).unwrap()).unwrap();
        let f32_m = quantize_multiplier(
            fully_connected_real_multiplier_f32_product(s_in, s_w, s_out).unwrap(),
        )
        .unwrap();
        assert_ne!(f64_m, f32_m);
        let zp_in = c["input_zero_point"].as_i64().unwrap() as i32;
        let zp_out = c["output_zero_point"].as_i64().unwrap() as i32;
        let x: Vec<i32> = ints(&c["input"]);
        let w: Vec<i32> = ints(&c["weights"]);
        let bias: Vec<i32> = ints(&c["bias"]);
        let want: Vec<i32> = ints(&c["output"]);
        for (o, (&wo, &b)) in w.iter().zip(&bias).enumerate() {
            let acc = (x[0] - zp_in) * wo + b;
            let via = |m| {
                (multiply_by_quantized_multiplier(acc, m, Rounding::Double) + zp_out)
                    .clamp(-128, 127)
            };
            assert_eq!(via(f64_m), want[o]);
            f32_misses += usize::from(via(f32_m) != want[o]);
        }
    }
    assert!(probes >= 3);
    assert!(
        f32_misses > 0,
        "the probes must distinguish the two compositions"
    );
}
