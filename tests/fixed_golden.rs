//! Golden vectors from the real CMSIS-DSP (1.10.3, generic C paths, via its
//! Python wrapper; see tools/gen_fixed_cmsis_dsp.py): qkit's saturating
//! Q15/Q31 add, sub, neg and abs, its truncating multiply and its float
//! conversion against `arm_add_q15`, `arm_sub_q15`, `arm_negate_q15`,
//! `arm_abs_q15`, `arm_mult_q15`, `arm_q15_to_float` and the Q31 versions.

use qkit::{Q15, Q31};
use serde_json::Value;

fn load() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/fixed_cmsis_dsp.json"
    ))
    .expect("tests/data/fixed_cmsis_dsp.json");
    serde_json::from_str(&text).expect("valid JSON")
}

fn column(v: &Value, name: &str) -> Vec<i64> {
    v[name]
        .as_array()
        .expect(name)
        .iter()
        .map(|x| x.as_i64().expect("integer"))
        .collect()
}

/// `f32` results are stored as bit patterns (exact in any JSON parser).
fn f32s(v: &Value, name: &str) -> Vec<f32> {
    column(v, name)
        .into_iter()
        .map(|b| f32::from_bits(b as u32))
        .collect()
}

#[test]
fn q15_matches_cmsis_dsp() {
    let data = load();
    let v = &data["q15"];
    let (a, b) = (column(v, "a"), column(v, "b"));
    assert!(a.len() > 1000 && a.len() == b.len());
    let (add, sub, mult) = (column(v, "add"), column(v, "sub"), column(v, "mult"));
    let (neg, abs, to_f) = (
        column(v, "negate"),
        column(v, "abs"),
        f32s(v, "to_float_bits"),
    );
    for i in 0..a.len() {
        let (x, y) = (Q15::from_bits(a[i] as i16), Q15::from_bits(b[i] as i16));
        assert_eq!((x + y).to_bits() as i64, add[i], "arm_add_q15 {x:?} {y:?}");
        assert_eq!((x - y).to_bits() as i64, sub[i], "arm_sub_q15 {x:?} {y:?}");
        assert_eq!(
            x.saturating_mul_floor(y).to_bits() as i64,
            mult[i],
            "arm_mult_q15 {x:?} {y:?}"
        );
        assert_eq!((-x).to_bits() as i64, neg[i], "arm_negate_q15 {x:?}");
        assert_eq!(
            x.saturating_abs().to_bits() as i64,
            abs[i],
            "arm_abs_q15 {x:?}"
        );
        assert_eq!(
            x.to_f32().to_bits(),
            to_f[i].to_bits(),
            "arm_q15_to_float {x:?}"
        );
    }
}

#[test]
fn q31_matches_cmsis_dsp() {
    let data = load();
    let v = &data["q31"];
    let (a, b) = (column(v, "a"), column(v, "b"));
    assert!(a.len() > 1000 && a.len() == b.len());
    let (add, sub, mult) = (column(v, "add"), column(v, "sub"), column(v, "mult"));
    let (neg, abs, to_f) = (
        column(v, "negate"),
        column(v, "abs"),
        f32s(v, "to_float_bits"),
    );
    for i in 0..a.len() {
        let (x, y) = (Q31::from_bits(a[i] as i32), Q31::from_bits(b[i] as i32));
        assert_eq!((x + y).to_bits() as i64, add[i], "arm_add_q31 {x:?} {y:?}");
        assert_eq!((x - y).to_bits() as i64, sub[i], "arm_sub_q31 {x:?} {y:?}");
        // arm_mult_q31 computes sat((a*b) >> 32) << 1: the floor product with
        // its last bit cleared.
        assert_eq!(
            (x.saturating_mul_floor(y).to_bits() & !1) as i64,
            mult[i],
            "arm_mult_q31 {x:?} {y:?}"
        );
        assert_eq!((-x).to_bits() as i64, neg[i], "arm_negate_q31 {x:?}");
        assert_eq!(
            x.saturating_abs().to_bits() as i64,
            abs[i],
            "arm_abs_q31 {x:?}"
        );
        assert_eq!(
            x.to_f32().to_bits(),
            to_f[i].to_bits(),
            "arm_q31_to_float {x:?}"
        );
    }
}
