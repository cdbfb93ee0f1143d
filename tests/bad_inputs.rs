//! Bad inputs are errors: no panic, no hang, no silently wrong `Ok`.
//!
//! Every test here is a reproducer from issue 10 that failed (panicked,
//! hung, or returned a wrong `Ok`) before the fix. The C ABI has its own
//! file (tests/capi_abuse.rs), the stack budgets theirs (tests/calib_stack.rs).

use std::sync::mpsc;
use std::time::Duration;

use qkit::Error;
use qkit::calib::dynfixed::{DfpLayer, LayerFormat, Norm, greedy_layerwise, quantize_fixed};
use qkit::calib::observer::{MovingAverageMinMaxObserver, PerChannelMinMaxObserver};
use qkit::calib::{Histogram, amax_quantizer};
use qkit::int4::{I4, U4};
use qkit::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode,
};
use qkit::ops::{MulParams, RequantizeParams, mul_i8, requantize_tensor};
use qkit::quant::{CodeRange, QuantizeSlice};
use qkit::quant::{PerBlock, PerChannel, Quantizer};
use qkit::requant::QuantizedMultiplier;
use qkit::train::{FakeQuant, Lsq, SteRange, fake_quant, fake_quant_backward};
use qkit::{Round, int4};

/// Runs `f` on another thread and fails if it takes longer than `secs`: a
/// hang must fail the test, not stall the suite.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("did not finish in time: a hang")
}

// ---- ops ----------------------------------------------------------------

#[test]
fn requantize_i32_input_far_from_its_zero_point_saturates() {
    // Debug: "attempt to subtract with overflow"; release: 254 instead of 255.
    let p = RequantizeParams::<i32, u8>::new(
        Quantizer::<i32>::new(1.0, i32::MIN).unwrap(),
        Quantizer::<u8>::new(1.0, 255).unwrap(),
    )
    .unwrap();
    assert!(!p.is_xor_0x80());
    let mut out = [0u8; 3];
    requantize_tensor(&[0, i32::MAX, i32::MIN], &p, &mut out).unwrap();
    assert_eq!(out, [255, 255, 255]);
    // The other direction: far below the zero point saturates to 0.
    let p = RequantizeParams::<i32, u8>::new(
        Quantizer::<i32>::new(1.0, i32::MAX).unwrap(),
        Quantizer::<u8>::new(1.0, 0).unwrap(),
    )
    .unwrap();
    requantize_tensor(&[i32::MIN, 0, i32::MAX], &p, &mut out).unwrap();
    assert_eq!(out, [0, 0, 0]);
}

#[test]
fn requantize_with_a_large_multiplier_saturates_instead_of_wrapping() {
    // M = 2^20 (shift 21): 255 << 21 wraps in TFLite's int32 arithmetic.
    let p = RequantizeParams::<i8, i8>::new(
        Quantizer::new(1.0, -128).unwrap(),
        Quantizer::new(2f32.powi(-20), 0).unwrap(),
    )
    .unwrap();
    let mut out = [0i8; 3];
    requantize_tensor(&[127, -128, -127], &p, &mut out).unwrap();
    assert_eq!(out, [127, 0, 127]);
}

#[test]
fn multipliers_beyond_shift_30_are_errors_everywhere() {
    // A real multiplier of 2^30 has shift 31: every constructor rejects it
    // instead of wrapping (FC gave [-128, -128] for [127, -128]).
    let shift_31 = Error::ShiftOutOfRange {
        shift: 31,
        min: -31,
        max: 30,
    };
    let one = Quantizer::<i8>::new(1.0, 0).unwrap();
    let tiny = Quantizer::<i8>::new(2f32.powi(-30), 0).unwrap();
    assert_eq!(RequantizeParams::new(one, tiny).unwrap_err(), shift_31);
    assert_eq!(
        MulParams::new(one, one, tiny, -128, 127).unwrap_err(),
        shift_31
    );
    for (out_scale, requant) in [
        (2f32.powi(-30), RequantMode::Double),
        (2f32.powi(-30), RequantMode::Single),
        (2f32.powi(-31), RequantMode::Double),
        (1e-30, RequantMode::LiteRtOptimized),
    ] {
        let q = Quantization {
            input: Quantizer::new(1.0, 0).unwrap(),
            filter: FilterQuantizer::symmetric(&[1.0]).unwrap(),
            output: Quantizer::new(out_scale, 0).unwrap(),
            activation: Activation::None,
        };
        let mut ch = [Channel::default(); 2];
        let fc = FullyConnected::new(&[1, 0, -1, 0], 2, None, &q, requant, &mut ch);
        assert!(
            matches!(fc, Err(Error::ShiftOutOfRange { .. })),
            "{out_scale} {requant:?}: {fc:?}"
        );
    }
    // The float modes have no shift: they compute the huge multiplier as
    // defined (`acc · M` in f32 / f64), so the outputs saturate exactly.
    for requant in [RequantMode::Float32, RequantMode::LiteRtReference] {
        let q = Quantization {
            input: Quantizer::new(1.0, 0).unwrap(),
            filter: FilterQuantizer::symmetric(&[1.0]).unwrap(),
            output: Quantizer::new(1e-30, 0).unwrap(),
            activation: Activation::None,
        };
        let mut ch = [Channel::default(); 2];
        let fc = FullyConnected::new(&[1, 0, -1, 0], 2, None, &q, requant, &mut ch).unwrap();
        let mut y = [0i8; 2];
        fc.run(&[3, 0], 1, &mut y).unwrap();
        assert_eq!(y, [127, -128], "{requant:?}");
    }
    // Just below the edge is fine, and the result is exact.
    let just = Quantizer::<i8>::new(2f32.powi(-29), 0).unwrap();
    let p = MulParams::new(one, one, just, -128, 127).unwrap();
    assert_eq!(p.output_multiplier().shift, 30);
    let mut y = [0i8; 2];
    mul_i8(&[1, -1], &[1, 1], &p, &mut y).unwrap();
    assert_eq!(y, [127, -128]);
    // The checking function itself.
    let m = QuantizedMultiplier {
        multiplier: 1 << 30,
        shift: 31,
    };
    assert_eq!(m.check(), Err(shift_31));
}

// ---- train --------------------------------------------------------------

#[test]
fn fake_quant_validates_public_fields_at_use() {
    let swapped = FakeQuant {
        scale: 1.0,
        zero_point: 0,
        qmin: 5,
        qmax: -5,
    };
    let mut y = [0.0; 2];
    assert!(matches!(
        fake_quant(&swapped, &[1.0, 2.0], &mut y),
        Err(Error::InvalidParameter(_))
    ));
    // `qmin - zero_point` overflowed i32 before anything was checked.
    let nan = FakeQuant {
        scale: f32::NAN,
        zero_point: 1,
        qmin: i32::MIN,
        qmax: 5,
    };
    let mut g = [0.0; 1];
    for conv in [SteRange::Input, SteRange::RoundedCode] {
        assert!(fake_quant_backward(&nan, conv, &[1.0], &[1.0], &mut g).is_err());
        let zero = FakeQuant {
            scale: 0.0,
            ..FakeQuant::symmetric(1.0, 7).unwrap()
        };
        assert!(matches!(
            fake_quant_backward(&zero, conv, &[1.0], &[1.0], &mut g),
            Err(Error::InvalidScale(_))
        ));
    }
    let zp_outside = FakeQuant {
        zero_point: 100,
        ..FakeQuant::symmetric(1.0, 7).unwrap()
    };
    assert!(matches!(
        fake_quant(&zp_outside, &[1.0], &mut y[..1]),
        Err(Error::ZeroPointOutOfRange { .. })
    ));
}

#[test]
fn lsq_bit_widths_outside_the_domain_are_errors() {
    assert!(Lsq::signed(0).is_err());
    assert!(Lsq::signed(1).is_err());
    assert!(Lsq::signed(100).is_err());
    assert!(Lsq::unsigned(0).is_err());
    assert!(Lsq::unsigned(u32::MAX).is_err());
    assert_eq!(Lsq::signed(24).unwrap().q_n, 1 << 23);
    assert_eq!(Lsq::unsigned(24).unwrap().q_p, (1 << 24) - 1);
    // Public fields: checked at use.
    let mut y = [0.0; 1];
    let bad = Lsq {
        q_n: u32::MAX,
        q_p: u32::MAX,
    };
    assert!(qkit::train::lsq_forward(&[1.0], 1.0, bad, &mut y).is_err());
    assert!(qkit::train::lsq_backward(&[1.0], &[1.0], 1.0, bad, 1.0, &mut y).is_err());
}

// ---- calib --------------------------------------------------------------

/// A layer whose weight count grows after the sizing pass.
struct Growing(std::cell::Cell<usize>, [f32; 64]);

impl DfpLayer for Growing {
    fn weights(&self) -> &[f32] {
        let n = self.0.get();
        self.0.set(n + 8);
        &self.1[..n.min(64)]
    }
    fn output_len(&self, n: usize) -> usize {
        n
    }
    fn forward(&self, _: &[f32], x: &[f32], y: &mut [f32]) {
        y.copy_from_slice(x);
    }
}

/// A layer whose output length grows after the sizing pass.
struct Widening(std::cell::Cell<usize>);

impl DfpLayer for Widening {
    fn weights(&self) -> &[f32] {
        &[0.5]
    }
    fn output_len(&self, n: usize) -> usize {
        let k = self.0.get();
        self.0.set(k + 1);
        n + k
    }
    fn forward(&self, _: &[f32], _: &[f32], y: &mut [f32]) {
        y.fill(0.25);
    }
}

#[test]
fn greedy_layerwise_with_a_layer_that_changes_size_is_an_error() {
    let grow = Growing(std::cell::Cell::new(1), [0.5; 64]);
    let widen = Widening(std::cell::Cell::new(0));
    for layer in [&grow as &dyn DfpLayer, &widen] {
        let mut scratch = [0.0f32; 256];
        let mut formats = [LayerFormat::default(); 1];
        let r = greedy_layerwise(
            &[layer],
            &[1.0, 0.5],
            8,
            8,
            Norm::L1,
            &mut scratch,
            &mut formats,
        );
        assert!(matches!(r, Err(Error::InvalidParameter(_))), "{r:?}");
    }
}

#[test]
fn quantize_fixed_rejects_bits_and_fl_outside_the_domain() {
    for (bits, fl) in [
        (0, 0),
        (1, 0),
        (33, 0),
        (u32::MAX, 0),
        (8, 1001),
        (8, -1001),
    ] {
        assert!(
            matches!(
                quantize_fixed(1.0, bits, fl),
                Err(Error::InvalidParameter(_))
            ),
            "bits {bits} fl {fl}"
        );
    }
    assert_eq!(quantize_fixed(1.0, 32, 0), Ok(1.0));
    assert_eq!(quantize_fixed(1.0, 2, -1000), Ok(0.0));
    assert_eq!(quantize_fixed(1.0, 2, 1000), Ok(2f64.powi(-1000)));
    let mut v = [0.3f32];
    assert!(qkit::calib::dynfixed::quantize_fixed_in_place(&mut v, 8, i32::MIN).is_err());
    assert_eq!(v, [0.3], "nothing written on error");
}

#[test]
fn histogram_range_stays_finite_up_to_f32_max() {
    for mut h in [Histogram::<64>::magnitude(), Histogram::<64>::signed()] {
        h.add(&[1.0, -0.5, 0.25]);
        h.add(&[f32::MAX]);
        assert_eq!(h.range(), f32::MAX);
        assert!(h.bin_width().is_finite());
        assert_eq!(h.total(), 4);
        assert_eq!(h.bins().iter().map(|&c| c as u64).sum::<u64>(), 4);
        assert_eq!(h.max_threshold(), Ok(f32::MAX));
        for t in [
            h.percentile_threshold(99.0),
            h.mse_threshold(127),
            h.entropy_threshold(8),
        ] {
            let t = t.unwrap();
            assert!(t.is_finite() && (0.0..=f32::MAX).contains(&t), "{t}");
        }
        // Merging a histogram at the top range keeps it there.
        let mut other = Histogram::<64>::magnitude();
        other.add(&[-f32::MAX]);
        if h.domain() == other.domain() {
            h.merge(&other).unwrap();
            assert_eq!(h.range(), f32::MAX);
        }
    }
}

#[test]
fn amax_quantizer_narrow_is_narrow() {
    let q = amax_quantizer::<i8>(2.54, CodeRange::Narrow).unwrap();
    assert_eq!(
        (q.qmin(), q.qmax(), q.code_range() == CodeRange::Narrow),
        (-127, 127, true)
    );
    assert_eq!(q.quantize(-1e9, Round::HalfAwayFromZero), -127);
    let q4 = amax_quantizer::<I4>(7.0, CodeRange::Narrow).unwrap();
    assert_eq!(q4.qmin(), -7);
    let full = amax_quantizer::<i8>(2.54, CodeRange::Full).unwrap();
    assert_eq!(
        (full.qmin(), full.code_range() == CodeRange::Narrow),
        (-128, false)
    );
    // Unsigned: [0, t], full range whatever is asked.
    let u = amax_quantizer::<u8>(2.55, CodeRange::Narrow).unwrap();
    assert_eq!((u.qmin(), u.zero_point()), (0, 0));
}

#[test]
fn moving_average_observer_stays_finite() {
    let mut o = MovingAverageMinMaxObserver::new();
    o.observe(&[3e38]);
    o.observe(&[-3e38]);
    let (lo, hi) = o.min_max().unwrap();
    assert!(lo.is_finite() && hi.is_finite() && lo <= hi, "({lo}, {hi})");
    // c·(-3e38 - 3e38) = -6e36: the f64 convex combination, rounded once.
    let a = 3e38f32 as f64;
    assert_eq!(lo, (a + 0.01f32 as f64 * (-a - a)) as f32);
    let mut o = MovingAverageMinMaxObserver::with_constant(1.0).unwrap();
    o.observe(&[-f32::MAX, f32::MAX]);
    o.observe(&[f32::MAX]);
    assert_eq!(o.min_max(), Some((f32::MAX, f32::MAX)));
    assert!(o.affine_quantizer::<i8>().is_ok());
}

#[test]
fn tiny_and_huge_finite_ranges_give_valid_quantizers() {
    // The scale floor: the smallest normal f32 scale instead of InvalidScale(0).
    let q = Quantizer::<u8>::from_min_max(0.0, 1e-45, CodeRange::Full).unwrap();
    assert_eq!((q.scale(), q.zero_point()), (f32::MIN_POSITIVE, 0));
    assert_eq!(q.quantize(1e-45, Round::HalfToEven), 0);
    // TFLite's zero-point nudging still runs, with the floored scale: the
    // whole range lies within one step of 0.
    let q = Quantizer::<i8>::from_min_max(-1e-45, 1e-45, CodeRange::Narrow).unwrap();
    assert_eq!(q.scale(), f32::MIN_POSITIVE);
    for x in [-1e-45, 0.0, 1e-45] {
        let back = q.dequantize(q.quantize(x, Round::HalfAwayFromZero));
        assert!((back - x).abs() <= f32::MIN_POSITIVE, "{x} -> {back}");
    }
    let q = Quantizer::<i8>::symmetric(1e-45, CodeRange::Full).unwrap();
    assert_eq!(q.scale(), f32::MIN_POSITIVE);
    let q = Quantizer::<u8>::dynamic(&[1e-45, 2e-45]).unwrap();
    assert_eq!((q.scale(), q.zero_point()), (f32::MIN_POSITIVE, 0));
    // Zero stays the zero rule: scale 1.
    assert_eq!(
        Quantizer::<i8>::symmetric(0.0, CodeRange::Full)
            .unwrap()
            .scale(),
        1.0
    );
    assert_eq!(Quantizer::<u8>::dynamic(&[0.0]).unwrap().scale(), 1.0);
    // A finite spread beyond f32::MAX: the scale is computed in f64.
    let q = Quantizer::<u8>::dynamic(&[-3e38, 3e38]).unwrap();
    assert_eq!(q.scale(), (6e38f64 / 255.0) as f32);
    assert_eq!(q.zero_point(), 128);
    let q = Quantizer::<u8>::from_min_max(-f32::MAX, f32::MAX, CodeRange::Full).unwrap();
    assert!(q.scale().is_finite());
    // Just above the floor nothing changes (no silent rescaling of real data).
    let q = Quantizer::<u8>::from_min_max(0.0, 1e-30, CodeRange::Full).unwrap();
    assert_eq!(q.scale(), (1e-30f32 as f64 / 255.0) as f32);
}

// ---- quant: the per-channel / per-block hang ----------------------------

#[test]
fn zero_element_per_channel_and_per_block_are_o1() {
    within(10, || {
        let pc = PerChannel::<i8>::new(&[1.0], &[], &[1 << 40, 1, 0], 1).unwrap();
        assert!(pc.is_empty());
        pc.quantize_slice(&[], &mut [], Round::HalfToEven).unwrap();
        pc.dequantize_slice(&[], &mut []).unwrap();
        let pc = PerChannel::<i8>::new(&[], &[], &[usize::MAX, 0], 1).unwrap();
        pc.quantize_slice(&[], &mut [], Round::HalfToEven).unwrap();
        pc.dequantize_slice(&[], &mut []).unwrap();
        let pc4 = PerChannel::<I4>::new(&[1.0], &[], &[1 << 40, 1, 0], 1).unwrap();
        pc4.quantize_packed(&[], &mut [], Round::HalfToEven)
            .unwrap();
        pc4.dequantize_packed(&[], &mut []).unwrap();
        let pb = PerBlock::<i8>::new(&[], &[], &[usize::MAX, 0], 1, 4).unwrap();
        pb.quantize_slice(&[], &mut [], Round::HalfToEven).unwrap();
        pb.dequantize_slice(&[], &mut []).unwrap();
        let pb = PerBlock::<U4>::new(&[], &[], &[1 << 40, 1, 0], 2, 1).unwrap();
        pb.quantize_packed(&[], &mut [], Round::HalfToEven).unwrap();
        pb.dequantize_packed(&[], &mut []).unwrap();
        // A non-empty tensor still needs data of its size.
        let pc = PerChannel::<i8>::new(&[1.0], &[], &[1 << 40, 1, 1], 1).unwrap();
        assert!(pc.quantize_slice(&[], &mut [], Round::HalfToEven).is_err());
    });
}

// ---- messages -----------------------------------------------------------

#[test]
fn messages_name_what_went_wrong() {
    let e = int4::set(&mut [], 0, U4::MIN).unwrap_err();
    assert_eq!(e, Error::IndexOutOfBounds { index: 0, len: 0 });
    assert_eq!(
        e.to_string(),
        "index 0 out of bounds: the buffer holds 0 elements"
    );
    let mut o = PerChannelMinMaxObserver::<4>::new();
    o.observe(&[1.0; 4], 2).unwrap();
    let e = o.observe(&[1.0; 6], 3).unwrap_err();
    assert_eq!(
        e.to_string(),
        "channel count mismatch: expected 2 channels, found 3"
    );
    assert_eq!(
        o.min_max(7).unwrap_err(),
        Error::IndexOutOfBounds { index: 7, len: 2 }
    );
}
