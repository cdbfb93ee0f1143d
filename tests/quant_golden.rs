//! Golden vectors from the real runtimes (tools/gen_quant_golden.py):
//! TFLite Micro and TFLite's BUILTIN_REF QUANTIZE / DEQUANTIZE, ONNX Runtime
//! QuantizeLinear / DequantizeLinear (per tensor, per axis, blocked; int8,
//! uint8, int16, int4, uint4), DynamicQuantizeLinear, onnx's int4 packing,
//! and ggml's Q8_0 / Q4_0 (gguf-py's port of the reference quantizer).

use qkit::int4::{self, I4, Nibble, U4};
use qkit::quant::ggml::{self, BlockQ4_0, BlockQ8_0};
use qkit::quant::{CodeRange, QuantizeSlice};
use qkit::quant::{PerBlock, PerChannel, Quantizer};
use qkit::{QInt, Round};
use serde_json::Value;

fn load(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| f32::from_bits(b.as_u64().unwrap() as u32))
        .collect()
}

fn i64s(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_i64().unwrap())
        .collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap() as usize)
        .collect()
}

fn to_q<Q: QInt>(v: &[i64]) -> Vec<Q> {
    v.iter()
        .map(|&x| {
            assert!(x >= Q::MIN as i64 && x <= Q::MAX as i64, "{x} out of range");
            Q::saturating_from_i64(x)
        })
        .collect()
}

fn as_i64<Q: QInt>(v: &[Q]) -> Vec<i64> {
    v.iter().map(|q| q.to_i32() as i64).collect()
}

fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

// ------------------------------------------------------------------ TFLite

fn tflite_case<Q: QInt>(c: &Value) -> usize {
    let scale = f32::from_bits(c["scale"].as_u64().unwrap() as u32);
    let zp = c["zero_point"].as_i64().unwrap() as i32;
    let q = Quantizer::<Q>::new(scale, zp).unwrap();
    match c["op"].as_str().unwrap() {
        "QUANTIZE" => {
            let x = f32s(&c["x"]);
            let want = i64s(&c["y"]);
            let mut got = vec![Q::saturating_from_i32(0); x.len()];
            q.quantize_slice(&x, &mut got, Round::HalfAwayFromZero)
                .unwrap();
            for i in 0..x.len() {
                assert_eq!(
                    got[i].to_i32() as i64,
                    want[i],
                    "{} {} scale {scale} zp {zp}: x = {:e} ({:#x})",
                    c["runtime"],
                    c["dtype"],
                    x[i],
                    x[i].to_bits()
                );
                assert_eq!(q.quantize(x[i], Round::HalfAwayFromZero), got[i]);
            }
            x.len()
        }
        "DEQUANTIZE" => {
            let qs = to_q::<Q>(&i64s(&c["q"]));
            let want = f32s(&c["y"]);
            let mut got = vec![0f32; qs.len()];
            q.dequantize_slice(&qs, &mut got).unwrap();
            assert!(
                same_bits(&got, &want),
                "{} {} scale {scale} zp {zp}",
                c["runtime"],
                c["dtype"]
            );
            for (&v, w) in qs.iter().zip(&want) {
                assert_eq!(q.dequantize(v).to_bits(), w.to_bits());
            }
            qs.len()
        }
        op => panic!("unknown op {op}"),
    }
}

#[test]
fn tflite_quantize_dequantize_match_tflm_and_reference_kernels() {
    let mut checked = 0;
    let mut runtimes = std::collections::BTreeSet::new();
    for c in load("quant_tflite.json") {
        if c["op"] == "converter_weights" || c["op"] == "DEQUANTIZE_INT4" {
            continue;
        }
        runtimes.insert((
            c["runtime"].as_str().unwrap().to_owned(),
            c["op"].as_str().unwrap().to_owned(),
        ));
        checked += match c["dtype"].as_str().unwrap() {
            "i8" => tflite_case::<i8>(&c),
            "u8" => tflite_case::<u8>(&c),
            "i16" => tflite_case::<i16>(&c),
            d => panic!("dtype {d}"),
        };
    }
    assert_eq!(runtimes.len(), 4, "{runtimes:?}");
    assert!(checked > 5000, "{checked}");
}

// ------------------------------------------------------------------ ONNX

enum Granularity<'a, Q: QInt> {
    Tensor(Quantizer<Q>),
    Channel(PerChannel<'a, Q>),
    Block(PerBlock<'a, Q>),
}

impl<Q: QInt> Granularity<'_, Q> {
    fn quantize_slice(&self, x: &[f32], out: &mut [Q]) {
        match self {
            Granularity::Tensor(q) => q.quantize_slice(x, out, Round::HalfToEven),
            Granularity::Channel(q) => q.quantize_slice(x, out, Round::HalfToEven),
            Granularity::Block(q) => q.quantize_slice(x, out, Round::HalfToEven),
        }
        .unwrap()
    }
    fn dequantize_slice(&self, q: &[Q], out: &mut [f32]) {
        match self {
            Granularity::Tensor(p) => p.dequantize_slice(q, out),
            Granularity::Channel(p) => p.dequantize_slice(q, out),
            Granularity::Block(p) => p.dequantize_slice(q, out),
        }
        .unwrap()
    }
}

/// Extra checks for the packed int4 forms of a QuantizeLinear case.
type PackedCheck<'a> = &'a dyn Fn(&Value, &[f32], &[f32], &[i32]);

fn onnx_case<Q: QInt>(c: &Value, packed: Option<PackedCheck<'_>>) {
    let dims = usizes(&c["dims"]);
    let scales = f32s(&c["scales"]);
    let zps: Vec<i32> = i64s(&c["zero_points"]).iter().map(|&z| z as i32).collect();
    let g = match (c["axis"].as_i64(), c["block_size"].as_u64()) {
        (None, _) => Granularity::Tensor(Quantizer::<Q>::new(scales[0], zps[0]).unwrap()),
        (Some(axis), None) => {
            Granularity::Channel(PerChannel::<Q>::new(&scales, &zps, &dims, axis as isize).unwrap())
        }
        (Some(axis), Some(bs)) => Granularity::Block(
            PerBlock::<Q>::new(&scales, &zps, &dims, axis as isize, bs as usize).unwrap(),
        ),
    };
    let what = format!(
        "{} {} dims {dims:?} axis {} block {}",
        c["op"], c["dtype"], c["axis"], c["block_size"]
    );
    match c["op"].as_str().unwrap() {
        "QuantizeLinear" => {
            let x = f32s(&c["x"]);
            let want = i64s(&c["y"]);
            let mut got = vec![Q::saturating_from_i32(0); x.len()];
            g.quantize_slice(&x, &mut got);
            for i in 0..x.len() {
                assert_eq!(
                    as_i64(&got[i..=i])[0],
                    want[i],
                    "{what}: i {i} x {:e}",
                    x[i]
                );
            }
            if let Some(f) = packed {
                f(c, &x, &scales, &zps);
            }
        }
        "DequantizeLinear" => {
            let q = to_q::<Q>(&i64s(&c["q"]));
            let want = f32s(&c["y"]);
            let mut got = vec![0f32; q.len()];
            g.dequantize_slice(&q, &mut got);
            assert!(same_bits(&got, &want), "{what}: {got:?} vs {want:?}");
        }
        op => panic!("{op}"),
    }
}

/// For int4 cases: quantizing straight into packed bytes must give the
/// packing of the runtime's values; dequantizing from onnx's packed bytes
/// must give the runtime's floats.
fn nibble_checks<N: Nibble>(c: &Value, x: &[f32], scales: &[f32], zps: &[i32]) {
    let dims = usizes(&c["dims"]);
    let want = to_q::<N>(&i64s(&c["y"]));
    let mut want_packed = vec![0u8; int4::packed_len(want.len())];
    int4::pack(&want, &mut want_packed).unwrap();
    let mut got = vec![0u8; want_packed.len()];
    match (c["axis"].as_i64(), c["block_size"].as_u64()) {
        (None, _) => Quantizer::<N>::new(scales[0], zps[0])
            .unwrap()
            .quantize_packed(x, &mut got, Round::HalfToEven),
        (Some(a), None) => PerChannel::<N>::new(scales, zps, &dims, a as isize)
            .unwrap()
            .quantize_packed(x, &mut got, Round::HalfToEven),
        (Some(a), Some(b)) => PerBlock::<N>::new(scales, zps, &dims, a as isize, b as usize)
            .unwrap()
            .quantize_packed(x, &mut got, Round::HalfToEven),
    }
    .unwrap();
    assert_eq!(got, want_packed, "{} {}", c["dtype"], c["dims"]);
}

fn packed_dequant<N: Nibble>(c: &Value) {
    let Some(packed) = c.get("packed") else {
        return;
    };
    let packed: Vec<u8> = i64s(packed).iter().map(|&b| b as u8).collect();
    let q = to_q::<N>(&i64s(&c["q"]));
    let mut ours = vec![0u8; int4::packed_len(q.len())];
    int4::pack(&q, &mut ours).unwrap();
    assert_eq!(ours, packed, "onnx int4 packing");
    let dims = usizes(&c["dims"]);
    let scales = f32s(&c["scales"]);
    let zps: Vec<i32> = i64s(&c["zero_points"]).iter().map(|&z| z as i32).collect();
    let mut got = vec![0f32; q.len()];
    match (c["axis"].as_i64(), c["block_size"].as_u64()) {
        (None, _) => unreachable!("per-tensor int4 dequant cases carry no packing"),
        (Some(a), None) => PerChannel::<N>::new(&scales, &zps, &dims, a as isize)
            .unwrap()
            .dequantize_packed(&packed, &mut got),
        (Some(a), Some(b)) => PerBlock::<N>::new(&scales, &zps, &dims, a as isize, b as usize)
            .unwrap()
            .dequantize_packed(&packed, &mut got),
    }
    .unwrap();
    assert!(same_bits(&got, &f32s(&c["y"])));
}

#[test]
fn onnx_quantize_dequantize_linear_match_onnxruntime() {
    let mut seen = std::collections::BTreeMap::new();
    for c in load("quant_onnx.json") {
        let op = c["op"].as_str().unwrap();
        if !matches!(op, "QuantizeLinear" | "DequantizeLinear") {
            continue;
        }
        let gran = match (c["axis"].is_null(), c["block_size"].is_null()) {
            (true, _) => "tensor",
            (false, true) => "axis",
            (false, false) => "block",
        };
        *seen
            .entry((op.to_owned(), c["dtype"].as_str().unwrap().to_owned(), gran))
            .or_insert(0) += 1;
        match c["dtype"].as_str().unwrap() {
            "i8" => onnx_case::<i8>(&c, None),
            "u8" => onnx_case::<u8>(&c, None),
            "i16" => onnx_case::<i16>(&c, None),
            "i4" => {
                onnx_case::<I4>(&c, Some(&nibble_checks::<I4>));
                packed_dequant::<I4>(&c);
            }
            "u4" => {
                onnx_case::<U4>(&c, Some(&nibble_checks::<U4>));
                packed_dequant::<U4>(&c);
            }
            d => panic!("{d}"),
        }
    }
    // 2 ops x (i8, u8, i4, u4) x 3 granularities + i16 per tensor x 2
    assert_eq!(seen.len(), 26, "{seen:?}");
}

#[test]
fn dynamic_quantize_linear_matches_onnxruntime() {
    let mut n = 0;
    for c in load("quant_onnx.json") {
        if c["op"] != "DynamicQuantizeLinear" {
            continue;
        }
        let x = f32s(&c["x"]);
        let q = Quantizer::<u8>::dynamic(&x).unwrap();
        let scale = c["scale"].as_u64().unwrap() as u32;
        assert_eq!(q.scale().to_bits(), scale, "scale for {x:?}");
        assert_eq!(
            q.zero_point() as i64,
            c["zero_point"].as_i64().unwrap(),
            "zp for {x:?}"
        );
        let mut y = vec![0u8; x.len()];
        q.quantize_slice(&x, &mut y, Round::HalfToEven).unwrap();
        assert_eq!(
            y.iter().map(|&v| v as i64).collect::<Vec<_>>(),
            i64s(&c["y"]),
            "{x:?}"
        );
        n += 1;
    }
    assert!(n >= 10);
}

#[test]
fn int4_packing_matches_onnx() {
    let mut n = 0;
    for c in load("quant_onnx.json") {
        if c["op"] != "pack" {
            continue;
        }
        let values = i64s(&c["values"]);
        let want: Vec<u8> = i64s(&c["packed"]).iter().map(|&b| b as u8).collect();
        let mut got = vec![0u8; int4::packed_len(values.len())];
        if c["dtype"] == "i4" {
            int4::pack(&to_q::<I4>(&values), &mut got).unwrap();
            let mut back = vec![I4::ZERO; values.len()];
            int4::unpack(&want, &mut back).unwrap();
            assert_eq!(as_i64(&back), values);
            let narrow: Vec<i8> = values.iter().map(|&v| v as i8).collect();
            let mut via_i8 = vec![0u8; got.len()];
            int4::pack_i8_to_i4(&narrow, &mut via_i8).unwrap();
            assert_eq!(via_i8, want);
        } else {
            int4::pack(&to_q::<U4>(&values), &mut got).unwrap();
        }
        assert_eq!(got, want, "{values:?}");
        n += 1;
    }
    assert_eq!(n, 14);
}

// ------------------------------------------------------------------ ggml

#[test]
fn ggml_q8_0_and_q4_0_are_byte_compatible_with_the_reference() {
    let mut n = 0;
    for c in load("quant_ggml.json") {
        let x = f32s(&c["x"]);
        let want: Vec<u8> = i64s(&c["bytes"]).iter().map(|&b| b as u8).collect();
        let want_y = f32s(&c["y"]);
        let mut y = vec![0f32; x.len()];
        let mut bytes = Vec::new();
        match c["format"].as_str().unwrap() {
            "Q8_0" => {
                let mut b = vec![BlockQ8_0::ZERO; x.len() / 32];
                ggml::quantize_row_q8_0(&x, &mut b).unwrap();
                b.iter()
                    .for_each(|b| bytes.extend_from_slice(&b.to_bytes()));
                let parsed: Vec<BlockQ8_0> = want
                    .chunks_exact(BlockQ8_0::BYTES)
                    .map(|c| BlockQ8_0::from_bytes(c.try_into().unwrap()))
                    .collect();
                ggml::dequantize_row_q8_0(&parsed, &mut y).unwrap();
            }
            "Q4_0" => {
                let mut b = vec![BlockQ4_0::ZERO; x.len() / 32];
                ggml::quantize_row_q4_0(&x, &mut b).unwrap();
                b.iter()
                    .for_each(|b| bytes.extend_from_slice(&b.to_bytes()));
                let parsed: Vec<BlockQ4_0> = want
                    .chunks_exact(BlockQ4_0::BYTES)
                    .map(|c| BlockQ4_0::from_bytes(c.try_into().unwrap()))
                    .collect();
                ggml::dequantize_row_q4_0(&parsed, &mut y).unwrap();
            }
            f => panic!("{f}"),
        }
        assert_eq!(bytes, want, "{} {:?}", c["format"], &x[..4]);
        assert!(same_bits(&y, &want_y), "{} dequant", c["format"]);
        n += 1;
    }
    assert_eq!(n, 22);
}

fn f16_case<Q: QInt>(c: &Value) -> usize {
    use half::f16;
    let scale = f16::from_bits(c["scale_f16"].as_u64().unwrap() as u16).to_f32();
    let zp = c["zero_point"].as_i64().unwrap() as i32;
    let x: Vec<f16> = i64s(&c["x_f16"])
        .iter()
        .map(|&b| f16::from_bits(b as u16))
        .collect();
    let q = Quantizer::<Q>::new(scale, zp).unwrap();
    let mut got = vec![Q::saturating_from_i32(0); x.len()];
    q.quantize_slice_f16(&x, &mut got, Round::HalfToEven)
        .unwrap();
    assert_eq!(
        as_i64(&got),
        i64s(&c["y"]),
        "f16 {} scale {scale}",
        c["dtype"]
    );
    x.len()
}

#[test]
fn float16_quantize_linear_matches_onnxruntime() {
    let mut n = 0;
    for c in load("quant_onnx.json") {
        if c["op"] != "QuantizeLinear_f16" {
            continue;
        }
        n += match c["dtype"].as_str().unwrap() {
            "i8" => f16_case::<i8>(&c),
            "u8" => f16_case::<u8>(&c),
            d => panic!("{d}"),
        };
    }
    assert!(n > 2000, "{n}");
}

/// Per-channel int8 weights from the TFLite converter: our symmetric narrow
/// scale per channel equals the converter's, and quantizing with those scales
/// (ties away from zero, [-127, 127]) gives the converter's integers.
#[test]
fn tflite_converter_per_channel_weights() {
    let cases: Vec<Value> = load("quant_tflite.json")
        .into_iter()
        .filter(|c| c["op"] == "converter_weights")
        .collect();
    assert_eq!(cases.len(), 1);
    let c = &cases[0];
    let dims = usizes(&c["dims"]);
    let axis = c["axis"].as_i64().unwrap() as isize;
    let w = f32s(&c["w"]);
    let scales = f32s(&c["scales"]);
    let want = i64s(&c["q"]);
    assert!(i64s(&c["zero_points"]).iter().all(|&z| z == 0));
    let cols = dims[1];
    for (ch, &s) in scales.iter().enumerate() {
        let amax = w[ch * cols..(ch + 1) * cols]
            .iter()
            .fold(0f32, |m, v| m.max(v.abs()));
        let ours = Quantizer::<i8>::symmetric(amax, CodeRange::Narrow).unwrap();
        assert_eq!(ours.scale().to_bits(), s.to_bits(), "channel {ch}");
    }
    let pc =
        PerChannel::<i8>::with_code_range(&scales, &[], &dims, axis, CodeRange::Narrow).unwrap();
    let mut got = vec![0i8; w.len()];
    pc.quantize_slice(&w, &mut got, Round::HalfAwayFromZero)
        .unwrap();
    assert_eq!(as_i64(&got), want);
}

/// TFLite's DEQUANTIZE of packed int4 bytes (its own unpacking: element 2k
/// in the low nibble, sign-extended) equals ours.
#[test]
fn tflite_int4_dequantize_unpacks_like_tflite() {
    let mut n_cases = 0;
    for c in load("quant_tflite.json") {
        if c["op"] != "DEQUANTIZE_INT4" {
            continue;
        }
        let scale = f32::from_bits(c["scale"].as_u64().unwrap() as u32);
        let zp = c["zero_point"].as_i64().unwrap() as i32;
        let n = c["n"].as_u64().unwrap() as usize;
        let packed: Vec<u8> = i64s(&c["packed"]).iter().map(|&b| b as u8).collect();
        let want = f32s(&c["y"]);
        let q = Quantizer::<I4>::new(scale, zp).unwrap();
        let mut got = vec![0f32; n];
        q.dequantize_packed(&packed, &mut got).unwrap();
        assert!(same_bits(&got, &want), "n {n}: {got:?} vs {want:?}");
        let mut as_i8 = vec![0i8; n];
        int4::unpack_i4_to_i8(&packed, &mut as_i8).unwrap();
        for (v, w) in as_i8.iter().zip(&want) {
            assert_eq!(((*v as i32 - zp) as f32 * scale).to_bits(), w.to_bits());
        }
        n_cases += 1;
    }
    assert_eq!(n_cases, 5);
}
