//! The `serde` feature: round trips, the exact wire format, and bad data
//! rejected by the same checks as the constructors.
#![cfg(feature = "serde")]

use qkit::calib::dynfixed::LayerFormat;
use qkit::calib::{Domain, EntropyOptions, EntropyResult, Histogram};
use qkit::fixed::{Fixed, FixedI16, FixedU8};
use qkit::int4::{I4, U4};
use qkit::layer::{Activation, RequantMode};
use qkit::quant::{CodeRange, QuantizeSlice};
use qkit::quant::{PerBlock, PerBlockBuf, PerChannel, PerChannelBuf, Quantizer};
use qkit::requant::{QuantizedMultiplier, Rounding};
use qkit::{Q15, Q31, Round};
use serde::{Serialize, de::DeserializeOwned};

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

fn back<T: DeserializeOwned>(s: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str(s)
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + core::fmt::Debug>(v: T) {
    let s = json(&v);
    assert_eq!(back::<T>(&s).unwrap(), v, "{s}");
}

#[test]
fn quantizers_round_trip_and_reject_bad_parameters() {
    round_trip(Quantizer::<i8>::new(0.5, -1).unwrap());
    round_trip(Quantizer::<i8>::with_code_range(0.02, 0, CodeRange::Narrow).unwrap());
    round_trip(Quantizer::<u8>::new(1e-30, 255).unwrap());
    round_trip(Quantizer::<i16>::new(3.4e38, -32768).unwrap());
    round_trip(Quantizer::<I4>::with_code_range(0.1, -7, CodeRange::Narrow).unwrap());
    round_trip(Quantizer::<U4>::new(0.1, 15).unwrap());
    assert_eq!(
        json(&Quantizer::<u8>::new(0.25, 128).unwrap()),
        r#"{"scale":0.25,"zero_point":128,"code_range":"Full"}"#
    );
    // `code_range` may be omitted (full).
    assert_eq!(
        back::<Quantizer<i8>>(r#"{"scale":0.25,"zero_point":3}"#).unwrap(),
        Quantizer::<i8>::new(0.25, 3).unwrap()
    );
    for bad in [
        r#"{"scale":0.0,"zero_point":0}"#,
        r#"{"scale":-0.5,"zero_point":0}"#,
        r#"{"scale":1e39,"zero_point":0}"#, // inf as f32
        r#"{"scale":null,"zero_point":0}"#,
        r#"{"scale":1.0,"zero_point":128}"#,
        r#"{"scale":1.0,"zero_point":-128,"code_range":"Narrow"}"#,
        r#"{"scale":1.0,"zero_point":0,"code_range":"Wide"}"#,
        r#"{"zero_point":0}"#,
    ] {
        let e = back::<Quantizer<i8>>(bad);
        assert!(e.is_err(), "{bad} gave {e:?}");
    }
    assert!(back::<Quantizer<I4>>(r#"{"scale":1.0,"zero_point":8}"#).is_err());
    assert!(back::<Quantizer<u8>>(r#"{"scale":1.0,"zero_point":-1}"#).is_err());
    // The qkit error is the message.
    let e = back::<Quantizer<i8>>(r#"{"scale":1.0,"zero_point":200}"#).unwrap_err();
    assert!(
        e.to_string().contains("zero point 200 outside [-128, 127]"),
        "{e}"
    );
}

#[test]
fn per_channel_round_trips_through_the_owned_form() {
    let scales = [0.5, 0.25, 2.0];
    let zps = [1, -2, 3];
    for (dims, axis) in [
        (&[3][..], 0),
        (&[2, 3][..], 1),
        (&[3, 4, 5][..], 0),
        (&[2, 5, 3][..], -1),
    ] {
        let pc = PerChannel::<i8>::new(&scales, &zps, dims, axis).unwrap();
        let owned: PerChannelBuf<i8, 4> = back(&json(&pc)).unwrap();
        assert_eq!(owned.as_per_channel(), pc);
        // Same results on data, element for element.
        let n = pc.len();
        let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.37 - 3.0).collect();
        let (mut a, mut b) = (vec![0i8; n], vec![0i8; n]);
        pc.quantize_slice(&x, &mut a, Round::HalfToEven).unwrap();
        owned
            .as_per_channel()
            .quantize_slice(&x, &mut b, Round::HalfToEven)
            .unwrap();
        assert_eq!(a, b);
        round_trip(owned);
    }
    let pc = PerChannel::<i8>::with_code_range(&[0.5, 0.25], &[], &[2, 3], 0, CodeRange::Narrow)
        .unwrap();
    assert_eq!(
        json(&pc),
        r#"{"scales":[0.5,0.25],"zero_points":[],"dims":[1,2,3],"axis":1,"code_range":"Narrow"}"#
    );
    // Written by hand, any rank and axis, zero points omitted.
    let hand: PerChannelBuf<u8, 8> =
        back(r#"{"scales":[0.1,0.2],"dims":[4,1,2,3],"axis":2}"#).unwrap();
    assert_eq!(hand.shape(), [4, 2, 3]);
    assert_eq!(hand.code_range(), CodeRange::Full);
}

#[test]
fn per_channel_rejects_bad_data() {
    for bad in [
        r#"{"scales":[0.1,0.2],"dims":[3],"axis":0}"#, // 2 scales, 3 channels
        r#"{"scales":[0.1,-0.2],"dims":[2],"axis":0}"#, // negative scale
        r#"{"scales":[0.1,0.2],"zero_points":[1],"dims":[2],"axis":0}"#, // one zero point
        r#"{"scales":[0.1,0.2],"zero_points":[0,128],"dims":[2],"axis":0}"#,
        r#"{"scales":[0.1,0.2],"dims":[2],"axis":1}"#, // axis outside the rank
        r#"{"scales":[0.1],"dims":[1,1,1,1,1,1,1,1,1],"axis":0}"#, // rank 9
        r#"{"scales":[0.1,0.1,0.1,0.1,0.1],"dims":[5],"axis":0}"#, // capacity 4
        r#"{"scales":[0.1],"dims":[1],"axis":0,"code_range":"Narrow","zero_points":[-128]}"#,
    ] {
        assert!(back::<PerChannelBuf<i8, 4>>(bad).is_err(), "{bad}");
    }
}

#[test]
fn per_block_round_trips_and_rejects_bad_data() {
    let scales: Vec<f32> = (1..=6).map(|i| i as f32 * 0.125).collect();
    for (dims, axis, bs, n_scales) in [
        (&[3, 4][..], 1, 2, 6),
        (&[4, 3][..], 0, 2, 6),
        (&[2, 5][..], 1, 3, 4),
    ] {
        let pb = PerBlock::<I4>::new(&scales[..n_scales], &[], dims, axis, bs).unwrap();
        let owned: PerBlockBuf<I4, 8> = back(&json(&pb)).unwrap();
        assert_eq!(owned.as_per_block(), pb);
        let n = pb.len();
        let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.3 - 1.0).collect();
        let (mut a, mut b) = (vec![0u8; n.div_ceil(2)], vec![0u8; n.div_ceil(2)]);
        pb.quantize_packed(&x, &mut a, Round::HalfAwayFromZero)
            .unwrap();
        owned
            .as_per_block()
            .quantize_packed(&x, &mut b, Round::HalfAwayFromZero)
            .unwrap();
        assert_eq!(a, b);
        round_trip(owned);
    }
    for bad in [
        r#"{"scales":[1.0,1.0],"dims":[3],"axis":0,"block_size":0}"#,
        r#"{"scales":[1.0],"dims":[3],"axis":0,"block_size":2}"#,
        r#"{"scales":[1.0,1.0],"dims":[3],"axis":0}"#,
        r#"{"scales":[1.0,0.0],"dims":[3],"axis":0,"block_size":2}"#,
    ] {
        assert!(back::<PerBlockBuf<i8, 8>>(bad).is_err(), "{bad}");
    }
}

#[test]
fn fixed_point_and_int4_values() {
    assert_eq!(json(&Q15::from_bits(-16384)), r#"{"bits":-16384}"#);
    round_trip(Q15::MIN);
    round_trip(Q31::MAX);
    round_trip(FixedI16::<12>::from_f64(-2.75));
    round_trip(FixedU8::<8>::from_bits(255));
    round_trip(Fixed::<i64, 32>::from_bits(i64::MIN));
    round_trip(Fixed::<u64, 0>::from_bits(u64::MAX));
    assert!(back::<Q15>(r#"{"bits":40000}"#).is_err());
    for v in -8..=7 {
        round_trip(I4::new(v).unwrap());
    }
    for v in 0..=15 {
        round_trip(U4::new(v).unwrap());
    }
    assert_eq!(json(&I4::MIN), "-8");
    assert!(back::<I4>("8").is_err());
    assert!(back::<I4>("-9").is_err());
    assert!(back::<U4>("16").is_err());
}

#[test]
fn multipliers_follow_the_constructor_rule() {
    let m = QuantizedMultiplier {
        multiplier: 1 << 30,
        shift: -5,
    };
    assert_eq!(json(&m), r#"{"multiplier":1073741824,"shift":-5}"#);
    round_trip(m);
    round_trip(QuantizedMultiplier {
        multiplier: 0,
        shift: -31,
    });
    round_trip(QuantizedMultiplier {
        multiplier: i32::MAX,
        shift: 30,
    });
    assert!(back::<QuantizedMultiplier>(r#"{"multiplier":1,"shift":31}"#).is_err());
    assert!(back::<QuantizedMultiplier>(r#"{"multiplier":1,"shift":-32}"#).is_err());
    assert!(back::<QuantizedMultiplier>(r#"{"multiplier":-1,"shift":0}"#).is_err());
}

#[test]
fn enums_by_name() {
    assert_eq!(json(&Round::HalfToEven), r#""HalfToEven""#);
    assert_eq!(json(&RequantMode::Float32), r#""Float32""#);
    round_trip(Round::HalfAwayFromZero);
    round_trip(Rounding::Single);
    for a in [
        Activation::None,
        Activation::Relu,
        Activation::Relu6,
        Activation::ReluN1To1,
    ] {
        round_trip(a);
    }
    for r in [
        RequantMode::Double,
        RequantMode::Single,
        RequantMode::Float32,
        RequantMode::LiteRtOptimized,
        RequantMode::LiteRtReference,
    ] {
        round_trip(r);
    }
    round_trip(Domain::Signed);
    round_trip(EntropyOptions::CANONICAL);
    round_trip(EntropyOptions::PYTORCH_QUANTIZATION);
    round_trip(LayerFormat {
        weight_fl: 7,
        data_fl: -3,
    });
    assert!(back::<Round>(r#""HalfUp""#).is_err());
}

#[test]
fn entropy_results_keep_the_infinite_fallback() {
    let r = EntropyResult {
        threshold: 2.5,
        bin: 1025,
        kl: 0.0125,
    };
    round_trip(r);
    let fallback = EntropyResult {
        threshold: 4.0,
        bin: 2048,
        kl: f64::INFINITY,
    };
    assert_eq!(json(&fallback), r#"{"threshold":4.0,"bin":2048,"kl":null}"#);
    round_trip(fallback);
    assert!(back::<EntropyResult>(r#"{"threshold":-1.0,"bin":0,"kl":0.0}"#).is_err());
}

fn sample_histograms() -> Vec<Histogram<64>> {
    let mut out = vec![Histogram::<64>::magnitude(), Histogram::<64>::signed()];
    let mut a = Histogram::<64>::magnitude();
    a.add(&[0.5, -1.0, 2.0, f32::NAN, f32::INFINITY]);
    a.add(&[7.5, 0.0, -3.25]);
    out.push(a.clone());
    let mut b = Histogram::<64>::signed();
    b.add(&[-4.0, -0.5, 0.5, 3.0]);
    b.add(&[1e30]); // range far past the first one
    out.push(b);
    let mut c = Histogram::<64>::with_range(Domain::Signed, 10.0).unwrap();
    c.add(&[0.0; 5]);
    out.push(c);
    let mut z = Histogram::<64>::magnitude();
    z.add(&[0.0, -0.0]);
    out.push(z);
    let mut m = a;
    let mut other = Histogram::<64>::magnitude();
    other.add(&[100.0, 0.1]);
    m.merge(&other).unwrap();
    out.push(m);
    out
}

#[test]
fn histograms_round_trip_exactly() {
    for h in sample_histograms() {
        let s = json(&h);
        let b: Histogram<64> = back(&s).unwrap();
        assert_eq!(b, h, "{s}");
        if h.total() > 0 {
            assert_eq!(
                b.entropy_threshold(8).unwrap(),
                h.entropy_threshold(8).unwrap()
            );
            assert_eq!(
                b.percentile_threshold(99.0).unwrap(),
                h.percentile_threshold(99.0).unwrap()
            );
        }
        // A histogram of another size is not this one.
        assert!(back::<Histogram<128>>(&s).is_err());
    }
}

/// Replaces `"key":value` in a histogram's JSON.
fn tamper(s: &str, key: &str, value: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(s).unwrap();
    v[key] = serde_json::from_str(value).unwrap();
    v.to_string()
}

#[test]
fn histograms_reject_inconsistent_data() {
    let mut h = Histogram::<8>::magnitude();
    h.add(&[1.0, -2.0, 0.5]);
    let s = json(&h);
    assert!(back::<Histogram<8>>(&s).is_ok());
    for (key, value) in [
        ("total", "4"), // counts add up to 3
        ("total", "2"),
        ("bins", "[0,0,1,0,1,0,0,1,0]"), // 9 bins
        ("bins", "[0,0,1,0,1,0,0]"),     // 7 bins
        ("bins", "[0,0,1,0,1,0,0,2]"),   // sum 4
        ("range", "-1.0"),
        ("range", "1.5"),          // max |x| = 2 lies outside
        ("min_max", "[1.0,-2.0]"), // min > max
        ("min_max", "null"),       // missing for a non-empty histogram
        ("domain", "\"Both\""),
    ] {
        let t = tamper(&s, key, value);
        assert!(back::<Histogram<8>>(&t).is_err(), "{t}");
    }
    let mut v: serde_json::Value = serde_json::from_str(&s).unwrap();
    v.as_object_mut().unwrap().remove("nonfinite");
    assert!(back::<Histogram<8>>(&v.to_string()).is_err());
    // Empty histogram claiming a sample range.
    let e = json(&Histogram::<8>::magnitude());
    assert!(back::<Histogram<8>>(&tamper(&e, "min_max", "[0.0,0.0]")).is_err());
    // Range 0: only the zero bin may count.
    let mut z = Histogram::<8>::signed();
    z.add(&[0.0]);
    let zs = json(&z);
    assert!(back::<Histogram<8>>(&zs).is_ok());
    assert!(back::<Histogram<8>>(&tamper(&zs, "bins", "[1,0,0,0,0,0,0,0]")).is_err());
}

#[test]
fn observers_round_trip_and_reject_bad_ranges() {
    use qkit::calib::observer::{
        MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver,
    };
    let mut o = MinMaxObserver::new();
    round_trip(o);
    o.observe(&[0.5, -1.0, f32::NAN]);
    assert_eq!(json(&o), r#"{"min_max":[-1.0,0.5],"nonfinite":1}"#);
    round_trip(o);
    assert!(back::<MinMaxObserver>(r#"{"min_max":[1.0,-1.0],"nonfinite":0}"#).is_err());

    let mut m = MovingAverageMinMaxObserver::with_constant(0.25).unwrap();
    m.observe(&[-2.0, 3.0]);
    m.observe(&[-1.0, 1.0]);
    round_trip(m);
    assert!(
        back::<MovingAverageMinMaxObserver>(r#"{"constant":0.0,"min_max":null,"nonfinite":0}"#)
            .is_err()
    );
    assert!(
        back::<MovingAverageMinMaxObserver>(r#"{"constant":1.5,"min_max":null,"nonfinite":0}"#)
            .is_err()
    );

    let mut p = PerChannelMinMaxObserver::<4>::new();
    round_trip(p.clone());
    p.observe(&[1.0, -2.0, f32::NAN, f32::INFINITY, 0.5, 3.0], 3)
        .unwrap();
    assert_eq!(
        json(&p),
        r#"{"ranges":[[-2.0,1.0],null,[0.5,3.0]],"nonfinite":2}"#
    );
    let b: PerChannelMinMaxObserver<4> = back(&json(&p)).unwrap();
    assert_eq!(b, p);
    assert_eq!(b.min_max(1).unwrap(), None);
    // More channels than the capacity, or a reversed range.
    assert!(back::<PerChannelMinMaxObserver<2>>(&json(&p)).is_err());
    assert!(
        back::<PerChannelMinMaxObserver<4>>(r#"{"ranges":[[2.0,1.0]],"nonfinite":0}"#).is_err()
    );
}
