//! The `arbitrary` feature: every generated value is one the constructors
//! accept, whatever the fuzzer's bytes.
#![cfg(feature = "arbitrary")]

use arbitrary::{Arbitrary, Unstructured};
use qkit::calib::observer::{
    MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver,
};
use qkit::calib::{EntropyOptions, EntropyResult, Histogram};
use qkit::fixed::FixedI16;
use qkit::int4::{I4, U4};
use qkit::layer::{Activation, RequantMode};
use qkit::quant::ggml::BlockQ8_0;
use qkit::quant::{CodeRange, QuantizeSlice};
use qkit::quant::{PerBlockBuf, PerChannelBuf, Quantizer};
use qkit::requant::QuantizedMultiplier;
use qkit::{QInt, Round};

/// Deterministic pseudo-random byte strings of every length up to 600.
fn inputs() -> impl Iterator<Item = Vec<u8>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..600usize).map(move |len| {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect()
    })
}

fn check_quantizer<Q: QInt>(q: &Quantizer<Q>) {
    assert!(q.scale().is_finite() && q.scale() > 0.0, "{q:?}");
    assert!((q.qmin()..=q.qmax()).contains(&q.zero_point()), "{q:?}");
    // The same parameters pass the constructor again.
    let again = Quantizer::<Q>::with_code_range(q.scale(), q.zero_point(), q.code_range());
    assert_eq!(again.unwrap(), *q);
}

#[test]
fn scalars_and_quantizers_are_valid() {
    let mut narrow = 0;
    for bytes in inputs() {
        let mut u = Unstructured::new(&bytes);
        if let Ok(q) = Quantizer::<i8>::arbitrary(&mut u) {
            check_quantizer(&q);
            narrow += (q.code_range() == CodeRange::Narrow) as u32;
        }
        if let Ok(q) = Quantizer::<u8>::arbitrary(&mut u) {
            check_quantizer(&q);
        }
        if let Ok(q) = Quantizer::<I4>::arbitrary(&mut u) {
            check_quantizer(&q);
        }
        if let Ok(q) = Quantizer::<i32>::arbitrary(&mut u) {
            check_quantizer(&q);
        }
        if let Ok(m) = QuantizedMultiplier::arbitrary(&mut u) {
            assert!(m.multiplier >= 0 && (-31..=30).contains(&m.shift), "{m:?}");
        }
        if let Ok(v) = I4::arbitrary(&mut u) {
            assert!((-8..=7).contains(&v.get()));
        }
        if let Ok(v) = U4::arbitrary(&mut u) {
            assert!(v.get() <= 15);
        }
        let _ = FixedI16::<12>::arbitrary(&mut u);
        let _ = (
            Round::arbitrary(&mut u),
            Activation::arbitrary(&mut u),
            RequantMode::arbitrary(&mut u),
        );
        let _ = (
            EntropyOptions::arbitrary(&mut u),
            BlockQ8_0::arbitrary(&mut u),
        );
        if let Ok(r) = EntropyResult::arbitrary(&mut u) {
            assert!(r.threshold.is_finite() && r.threshold >= 0.0 && !r.kl.is_nan());
        }
    }
    assert!(narrow > 10, "both ranges are generated");
}

#[test]
fn owned_quantizers_are_valid_and_usable() {
    let mut nonempty = 0;
    for bytes in inputs() {
        let mut u = Unstructured::new(&bytes);
        if let Ok(pc) = PerChannelBuf::<i8, 8>::arbitrary(&mut u) {
            let pc = pc.as_per_channel();
            let n = pc.len();
            assert!(n <= 16 * 8 * 16);
            let x: Vec<f32> = (0..n).map(|i| i as f32 - 7.5).collect();
            let mut q = vec![0i8; n];
            pc.quantize_slice(&x, &mut q, Round::HalfToEven).unwrap();
            nonempty += (n > 0) as u32;
        }
        if let Ok(pb) = PerBlockBuf::<I4, 16>::arbitrary(&mut u) {
            let pb = pb.as_per_block();
            let n = pb.len();
            let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.1).collect();
            let mut q = vec![0u8; n.div_ceil(2)];
            pb.quantize_packed(&x, &mut q, Round::HalfAwayFromZero)
                .unwrap();
        }
    }
    assert!(nonempty > 50);
}

#[test]
fn calibration_state_is_reachable_state() {
    let mut grown = 0;
    for bytes in inputs() {
        let mut u = Unstructured::new(&bytes);
        if let Ok(h) = Histogram::<64>::arbitrary(&mut u) {
            let sum: u64 = h.bins().iter().map(|&c| u64::from(c)).sum();
            assert_eq!(sum, h.total());
            assert!(h.range().is_finite() || h.range() == f32::INFINITY);
            if let Some((lo, hi)) = h.min_max() {
                assert!(lo <= hi && f64::from((-lo).max(hi)) <= f64::from(h.range()) * 1.0000001);
                grown += 1;
            }
        }
        if let Ok(Some((lo, hi))) = MinMaxObserver::arbitrary(&mut u).map(|o| o.min_max()) {
            assert!(lo <= hi);
        }
        if let Ok(o) = MovingAverageMinMaxObserver::arbitrary(&mut u) {
            assert!(o.constant() > 0.0 && o.constant() <= 1.0);
        }
        if let Ok(o) = PerChannelMinMaxObserver::<4>::arbitrary(&mut u) {
            assert!(o.channels() <= 4);
        }
    }
    assert!(grown > 50);
}
