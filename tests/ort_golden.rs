//! ONNX Runtime's QLinearMatMul and MatMulInteger, bit for bit: golden
//! vectors from onnxruntime 1.32 (`tools/gen_ort_golden.py`), plus the exact
//! i64 reference on random shapes for every type combination.

use qkit::layer::{
    MatMulColumn, MatMulInteger, MatMulOperand, MatMulQuantization, QLinearMatMul, ort_output_scale,
};
use qkit::quant::{PerChannel, Quantizer};
use serde_json::Value;

mod golden;
use golden::{floats, ints};

fn data() -> Value {
    golden::load("ort_matmul_golden.json")
}

/// An 8-bit value of either type from the JSON integer.
trait FromI64: MatMulOperand {
    fn from_i64(v: i64) -> Self;
    fn to_i64(self) -> i64;
}
impl FromI64 for u8 {
    fn from_i64(v: i64) -> Self {
        u8::try_from(v).unwrap()
    }
    fn to_i64(self) -> i64 {
        self.into()
    }
}
impl FromI64 for i8 {
    fn from_i64(v: i64) -> Self {
        i8::try_from(v).unwrap()
    }
    fn to_i64(self) -> i64 {
        self.into()
    }
}

struct Case<'a> {
    c: &'a Value,
    m: usize,
    k: usize,
    n: usize,
}

impl Case<'_> {
    fn get(&self, key: &str) -> &Value {
        &self.c[key]
    }
    fn i32s(&self, key: &str) -> Vec<i32> {
        ints(self.get(key)).into_iter().map(|v| v as i32).collect()
    }
}

fn run_integer<A: FromI64, B: FromI64>(c: &Case<'_>) -> Vec<i64> {
    let a: Vec<A> = ints(c.get("a")).into_iter().map(A::from_i64).collect();
    let b: Vec<B> = ints(c.get("b")).into_iter().map(B::from_i64).collect();
    let mut bt = vec![0i8; c.k * c.n];
    let mut cols = vec![MatMulColumn::default(); c.n];
    let za = c.get("a_zero_point").as_i64().unwrap() as i32;
    let mm =
        MatMulInteger::<A>::new(&b, c.k, za, &c.i32s("b_zero_points"), &mut bt, &mut cols).unwrap();
    let mut y = vec![0i32; c.m * c.n];
    mm.run(&a, c.m, &mut y).unwrap();
    y.into_iter().map(i64::from).collect()
}

fn run_qlinear<A: FromI64, B: FromI64, Y: FromI64>(c: &Case<'_>) -> Vec<i64> {
    let a: Vec<A> = ints(c.get("a")).into_iter().map(A::from_i64).collect();
    let b: Vec<B> = ints(c.get("b")).into_iter().map(B::from_i64).collect();
    let (b_scales, b_zps) = per_column(floats(c.get("b_scales")), c.i32s("b_zero_points"));
    let q = quantization(
        (
            c.get("a_scale").as_f64().unwrap() as f32,
            c.get("a_zero_point").as_i64().unwrap() as i32,
        ),
        (&b_scales, &b_zps),
        (
            c.get("y_scale").as_f64().unwrap() as f32,
            c.get("y_zero_point").as_i64().unwrap() as i32,
        ),
    );
    let mut bt = vec![0i8; c.k * c.n];
    let mut cols = vec![MatMulColumn::default(); c.n];
    let mm = QLinearMatMul::<A, Y>::new(&b, c.k, &q, &mut bt, &mut cols).unwrap();
    let mut y = vec![Y::from_i64(0); c.m * c.n];
    mm.run(&a, c.m, &mut y).unwrap();
    y.into_iter().map(Y::to_i64).collect()
}

/// B's scales and zero points as one table each: both of length 1 (per
/// tensor) or both of the larger length (per column; a single entry repeats).
fn per_column(scales: Vec<f32>, zps: Vec<i32>) -> (Vec<f32>, Vec<i32>) {
    let n = scales.len().max(zps.len());
    let at = |i: usize, len: usize| if len == 1 { 0 } else { i };
    (
        (0..n).map(|i| scales[at(i, scales.len())]).collect(),
        (0..n).map(|i| zps[at(i, zps.len())]).collect(),
    )
}

/// The node's quantizers from (scale, zero point) pairs and B's tables.
fn quantization<'a, A: FromI64, B: FromI64, Y: FromI64>(
    (a_scale, a_zp): (f32, i32),
    (b_scales, b_zps): (&'a [f32], &'a [i32]),
    (y_scale, y_zp): (f32, i32),
) -> MatMulQuantization<'a, A, B, Y> {
    let b = match (b_scales, b_zps) {
        ([s], [z]) => Quantizer::new(*s, *z).unwrap().into(),
        _ => PerChannel::new(b_scales, b_zps, &[b_scales.len()], 0)
            .unwrap()
            .into(),
    };
    MatMulQuantization {
        a: Quantizer::new(a_scale, a_zp).unwrap(),
        b,
        y: Quantizer::new(y_scale, y_zp).unwrap(),
    }
}

fn qkit_output(c: &Case<'_>) -> Vec<i64> {
    let t = |k: &str| c.get(k).as_str().unwrap().to_string();
    let types = (t("a_type"), t("b_type"), t("y_type"));
    match (
        c.get("op").as_str().unwrap(),
        types.0.as_str(),
        types.1.as_str(),
        types.2.as_str(),
    ) {
        ("MatMulInteger", "u8", "u8", _) => run_integer::<u8, u8>(c),
        ("MatMulInteger", "u8", "i8", _) => run_integer::<u8, i8>(c),
        ("MatMulInteger", "i8", "i8", _) => run_integer::<i8, i8>(c),
        ("MatMulInteger", "i8", "u8", _) => run_integer::<i8, u8>(c),
        ("QLinearMatMul", "u8", "u8", "u8") => run_qlinear::<u8, u8, u8>(c),
        ("QLinearMatMul", "u8", "i8", "u8") => run_qlinear::<u8, i8, u8>(c),
        ("QLinearMatMul", "i8", "i8", "i8") => run_qlinear::<i8, i8, i8>(c),
        other => panic!("unexpected case kind {other:?}"),
    }
}

fn case(c: &Value) -> Case<'_> {
    let u = |k: &str| c[k].as_u64().unwrap() as usize;
    Case {
        c,
        m: u("m"),
        k: u("k"),
        n: u("n"),
    }
}

#[test]
fn every_ort_case_bit_for_bit() {
    let d = data();
    let cases = d["cases"].as_array().unwrap();
    let mut kinds = std::collections::BTreeSet::new();
    let mut per_column = 0;
    for c in cases {
        let cs = case(c);
        let expected = ints(&c["output"]);
        // The native run is on an AVX-512 VNNI machine: exact.
        assert!(c["exact"].as_bool().unwrap(), "{}", c["name"]);
        assert_eq!(qkit_output(&cs), expected, "{}", c["name"]);
        kinds.insert(format!(
            "{}:{}{}{}",
            c["op"], c["a_type"], c["b_type"], c["y_type"]
        ));
        per_column += c["per_column"].as_bool().unwrap() as usize;
    }
    // u8 / i8 A and B, both ops, QLinearMatMul u8 and i8 outputs, per column.
    assert_eq!(kinds.len(), 7, "{kinds:?}");
    assert!(cases.len() >= 90 && per_column >= 40);
}

/// The AVX2 `vpmaddubsw` kernel of ORT's u8 x s8 GEMM: each pair of adjacent
/// products along K (raw values, zero points folded afterwards) saturates
/// to int16.
fn avx2_u8s8_accumulators(c: &Case<'_>) -> Vec<i64> {
    let a = ints(c.get("a"));
    let b = ints(c.get("b"));
    let za = c.get("a_zero_point").as_i64().unwrap();
    let zb = ints(c.get("b_zero_points"));
    let mut out = Vec::new();
    for m in 0..c.m {
        for n in 0..c.n {
            let zb = zb[if zb.len() == 1 { 0 } else { n }];
            let (mut raw, mut sa, mut sb) = (0i64, 0i64, 0i64);
            for k in (0..c.k).step_by(2) {
                let p = |k: usize| {
                    if k < c.k {
                        a[m * c.k + k] * b[k * c.n + n]
                    } else {
                        0
                    }
                };
                raw += (p(k) + p(k + 1)).clamp(-32768, 32767);
            }
            for k in 0..c.k {
                sa += a[m * c.k + k];
                sb += b[k * c.n + n];
            }
            out.push(raw - zb * sa - za * sb + c.k as i64 * za * zb);
        }
    }
    out
}

#[test]
fn ort_on_avx2_is_not_ground_truth_for_u8_times_i8() {
    let d = data();
    let mut differing = 0;
    for c in d["cases"].as_array().unwrap() {
        let Some(avx2) = c.get("output_avx2").and_then(|v| v.as_array()) else {
            continue;
        };
        let avx2: Vec<i64> = avx2.iter().map(|v| v.as_i64().unwrap()).collect();
        let exact = ints(&c["output"]);
        if avx2 == exact {
            continue;
        }
        differing += 1;
        // Only u8 x i8 differs, and the int16 pair saturation explains it.
        assert_eq!(
            (c["a_type"].as_str(), c["b_type"].as_str()),
            (Some("u8"), Some("i8")),
            "{}",
            c["name"]
        );
        if c["op"] == "MatMulInteger" {
            assert_eq!(avx2_u8s8_accumulators(&case(c)), avx2, "{}", c["name"]);
        }
    }
    assert!(
        differing >= 10,
        "the AVX2 run shows the saturation on {differing} cases"
    );
}

#[test]
fn output_scale_is_two_f32_roundings() {
    let d = data();
    for c in d["cases"].as_array().unwrap() {
        if c["op"] != "QLinearMatMul" {
            continue;
        }
        let a = c["a_scale"].as_f64().unwrap() as f32;
        let y = c["y_scale"].as_f64().unwrap() as f32;
        for b in floats(&c["b_scales"]) {
            assert_eq!(ort_output_scale(a, b, y).unwrap(), a * b / y);
        }
    }
}

/// xorshift64
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }
}

fn range<T: MatMulOperand>() -> (i64, i64) {
    (T::MIN.into(), T::MAX.into())
}

/// `A · B` with zero points in i64, then ORT's f32 requantization.
fn reference<A: FromI64, B: FromI64, Y: FromI64>(
    a: &[A],
    b: &[B],
    m: usize,
    k: usize,
    n: usize,
    q: &MatMulQuantization<'_, A, B, Y>,
) -> (Vec<i64>, Vec<i64>) {
    let mut acc = vec![0i64; m * n];
    let mut y = vec![0i64; m * n];
    for r in 0..m {
        for j in 0..n {
            let zb = i64::from(q.b.zero_point(j).unwrap());
            let s: i64 = (0..k)
                .map(|i| {
                    (a[r * k + i].to_i64() - i64::from(q.a.zero_point()))
                        * (b[i * n + j].to_i64() - zb)
                })
                .sum();
            acc[r * n + j] = s;
            let sc = q.b.scale(j).unwrap();
            let scale = q.a.scale() * sc / q.y.scale();
            let zp = q.y.zero_point() as f32;
            let (lo, hi) = range::<Y>();
            let v = (s as i32 as f32 * scale).clamp(lo as f32 - zp, hi as f32 - zp);
            y[r * n + j] = v.round_ties_even() as i64 + i64::from(q.y.zero_point());
        }
    }
    (acc, y)
}

fn random_check<A: FromI64, B: FromI64, Y: FromI64>(rng: &mut Rng) {
    for _ in 0..12 {
        let (m, k, n) = (
            1 + rng.below(3) as usize,
            rng.below(600) as usize,
            rng.below(150) as usize,
        );
        let (alo, ahi) = range::<A>();
        let (blo, bhi) = range::<B>();
        let a: Vec<A> = (0..m * k).map(|_| A::from_i64(rng.int(alo, ahi))).collect();
        // Half the matrices avoid the int8 -128 after the shift (narrow kernels).
        let narrow = rng.below(2) == 0;
        let b: Vec<B> = (0..k * n)
            .map(|_| B::from_i64(rng.int(blo + narrow as i64, bhi)))
            .collect();
        let per_col = rng.below(2) == 0 && n > 0;
        let cnt = if per_col { n } else { 1 };
        let b_zps: Vec<i32> = (0..cnt).map(|_| rng.int(blo, bhi) as i32).collect();
        let b_scales: Vec<f32> = (0..cnt)
            .map(|_| 1e-3 * (1 + rng.below(1000)) as f32)
            .collect();
        let (ylo, yhi) = range::<Y>();
        let q = quantization::<A, B, Y>(
            (0.01, rng.int(alo, ahi) as i32),
            (&b_scales, &b_zps),
            (0.5 + rng.below(100) as f32, rng.int(ylo, yhi) as i32),
        );
        let (acc, want) = reference::<A, B, Y>(&a, &b, m, k, n, &q);
        let mut bt = vec![0i8; k * n];
        let mut cols = vec![MatMulColumn::default(); n];
        let mm = QLinearMatMul::<A, Y>::new(&b, k, &q, &mut bt, &mut cols).unwrap();
        let mut y = vec![Y::from_i64(0); m * n];
        mm.run(&a, m, &mut y).unwrap();
        assert_eq!(
            y.into_iter().map(Y::to_i64).collect::<Vec<_>>(),
            want,
            "{m}x{k}x{n}"
        );
        let mut bt = vec![0i8; k * n];
        let mut cols = vec![MatMulColumn::default(); n];
        let mi =
            MatMulInteger::<A>::new(&b, k, q.a.zero_point(), &b_zps, &mut bt, &mut cols).unwrap();
        let mut y = vec![0i32; m * n];
        mi.run(&a, m, &mut y).unwrap();
        assert_eq!(
            y.into_iter().map(i64::from).collect::<Vec<_>>(),
            acc,
            "{m}x{k}x{n}"
        );
    }
}

#[test]
fn random_shapes_match_the_exact_reference_for_every_type_combination() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    random_check::<u8, u8, u8>(&mut rng);
    random_check::<u8, i8, u8>(&mut rng);
    random_check::<i8, i8, i8>(&mut rng);
    random_check::<i8, u8, i8>(&mut rng);
    random_check::<u8, u8, i8>(&mut rng);
    random_check::<i8, i8, u8>(&mut rng);
}

#[test]
fn bad_inputs_are_errors() {
    let one = Quantizer::<i8>::new(1.0, 0).unwrap();
    let two = PerChannel::<i8>::new(&[1.0, 1.0], &[], &[2], 0).unwrap();
    let q = MatMulQuantization {
        a: one,
        b: two.into(),
        y: one,
    };
    let mut bt = [0i8; 6];
    let mut cols = [MatMulColumn::default(); 3];
    // Two scales for three columns.
    assert!(QLinearMatMul::<i8, i8>::new(&[0i8; 6], 2, &q, &mut bt, &mut cols).is_err());
    // Bad scales and zero points are rejected by the quantizers.
    for bad in [0.0, -1.0, f32::NAN, f32::INFINITY] {
        assert!(Quantizer::<i8>::new(bad, 0).is_err());
    }
    assert!(Quantizer::<i8>::new(1.0, 200).is_err());
    assert!(Quantizer::<u8>::new(1.0, -1).is_err());
    let q1 = MatMulQuantization { b: one.into(), ..q };
    assert!(QLinearMatMul::<i8, i8>::new(&[0i8; 6], 2, &q1, &mut bt, &mut cols).is_ok());
    // Buffer and data lengths.
    let mut short = [0i8; 5];
    assert!(QLinearMatMul::<i8, i8>::new(&[0i8; 6], 2, &q1, &mut short, &mut cols).is_err());
    let mm = QLinearMatMul::<i8, i8>::new(&[0i8; 6], 2, &q1, &mut bt, &mut cols).unwrap();
    let mut y = [0i8; 3];
    assert!(mm.run(&[0; 3], 1, &mut y).is_err());
    assert!(mm.run(&[0; 2], 2, &mut y).is_err());
    assert!(mm.run(&[0; 2], usize::MAX, &mut y).is_err());
    // Empty shapes are fine.
    let mut cols0: [MatMulColumn; 0] = [];
    let mm = MatMulInteger::<u8>::new(&[0u8; 0], 5, 3, &[0], &mut [], &mut cols0).unwrap();
    mm.run(&[1; 10], 2, &mut []).unwrap();
    let mut cols = [MatMulColumn::default(); 2];
    let mm = MatMulInteger::<u8>::new(&[0u8; 0], 0, 3, &[0], &mut [], &mut cols).unwrap();
    let mut y = [9i32; 4];
    mm.run(&[], 2, &mut y).unwrap();
    assert_eq!(y, [0; 4]);
}
