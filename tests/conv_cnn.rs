//! The converted TFLite CNN of `examples/tflite_cnn` (`digits_cnn.tflite`,
//! from tools/gen_cnn.py), read with the official schema and run on qkit's
//! layers, gives TensorFlow Lite Micro's int8 logits and softmax on every
//! test image, bit for bit.

#[allow(dead_code)]
#[path = "../examples/tflite_cnn/net.rs"]
mod net;

use qkit::layer::Channel;
use serde_json::Value;

fn unhex(v: &Value) -> Vec<i8> {
    v.as_str()
        .unwrap()
        .as_bytes()
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap() as i8)
        .collect()
}

#[test]
fn cnn_matches_tflite_micro_on_every_test_image() {
    let golden: Value =
        serde_json::from_str(include_str!("../examples/tflite_cnn/digits_cnn_tflm.json")).unwrap();
    let graph =
        net::Graph::parse(include_bytes!("../examples/tflite_cnn/digits_cnn.tflite")).unwrap();
    assert_eq!(graph.steps.len(), 7);
    let mut channels = vec![Channel::default(); graph.channel_count()];
    let mut model = net::Net::new(&graph, &mut channels).unwrap();
    let (inputs, logits, probs) = (
        unhex(&golden["inputs"]),
        unhex(&golden["logits"]),
        unhex(&golden["probs"]),
    );
    let labels = golden["labels"].as_array().unwrap();
    let n = golden["test_images"].as_u64().unwrap() as usize;
    assert_eq!(
        (inputs.len(), logits.len(), labels.len()),
        (n * 64, n * 10, n)
    );
    // Which output is the softmax (scale 1/256, zero point -128).
    let probs_at = graph
        .outputs
        .iter()
        .position(|&t| graph.tensors[t].zero_point == -128)
        .unwrap();
    let mut correct = 0;
    for i in 0..n {
        let out = model.run(&inputs[i * 64..(i + 1) * 64]).unwrap();
        let (l, p) = (out[1 - probs_at], out[probs_at]);
        assert_eq!(l, &logits[i * 10..(i + 1) * 10], "logits of image {i}");
        assert_eq!(p, &probs[i * 10..(i + 1) * 10], "softmax of image {i}");
        let best = (0..10).fold(0, |b, k| if l[k] > l[b] { k } else { b });
        correct += usize::from(best as u64 == labels[i].as_u64().unwrap());
    }
    assert!(correct * 100 >= n * 95, "{correct}/{n}");
}

#[test]
fn a_damaged_model_is_an_error_not_a_panic() {
    let bytes = include_bytes!("../examples/tflite_cnn/digits_cnn.tflite");
    assert!(net::Graph::parse(&bytes[..100]).is_err());
    let mut flipped = bytes.to_vec();
    for b in flipped.iter_mut().skip(8).step_by(97) {
        *b ^= 0x5a;
    }
    // Either the flatbuffer verifier rejects it or the layers reject the
    // parameters; nothing panics.
    if let Ok(g) = net::Graph::parse(&flipped) {
        let mut ch = vec![Channel::default(); g.channel_count().min(1 << 16)];
        let _ = net::Net::new(&g, &mut ch).map(|_| ());
    }
}
