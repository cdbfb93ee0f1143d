//! `arbitrary` (feature `arbitrary`): qkit values for cargo-fuzz harnesses.
//!
//! Every value generated is one the public constructors accept (a
//! `Quantizer` has a finite positive scale and an in-range zero point, a
//! `QuantizedMultiplier` has `multiplier >= 0` and `-31 <= shift <= 30`, an
//! `I4` is in `[-8, 7]`, histograms and observers are built by feeding them
//! arbitrary samples), so a harness spends its time on the code under test,
//! not on rejected inputs. Shapes of the owned per-channel / per-block
//! quantizers are kept small (at most 16 elements on each side of the axis).
//!
//! ```
//! use arbitrary::{Arbitrary, Unstructured};
//! use qkit::quant::Quantizer;
//! use qkit::requant::QuantizedMultiplier;
//!
//! let bytes = [0x5a; 64];
//! let mut u = Unstructured::new(&bytes);
//! let q = Quantizer::<u8>::arbitrary(&mut u)?;
//! assert!(q.scale().is_finite() && q.scale() > 0.0);
//! assert!((0..=255).contains(&q.zero_point()));
//! let m = QuantizedMultiplier::arbitrary(&mut u)?;
//! assert!(m.multiplier >= 0 && (-31..=30).contains(&m.shift));
//! # Ok::<(), arbitrary::Error>(())
//! ```

use arbitrary::{Arbitrary, Error as ArbError, Result, Unstructured};
use half::f16;

use crate::calib::dynfixed::{LayerFormat, Norm};
use crate::calib::observer::{
    MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver,
};
use crate::calib::{
    Domain, EntropyOptions, EntropyResult, Histogram, Merge, ThresholdRule, Ties, Upper, ZeroBin,
};
use crate::fixed::Fixed;
use crate::int4::{I4, U4};
use crate::layer::RequantMode;
use crate::quant::ggml::{BlockQ4_0, BlockQ8_0, QK};
use crate::quant::{Activation, CodeRange, PerBlockBuf, PerChannelBuf, Quantizer};
use crate::requant::{QuantizedMultiplier, Rounding};
use crate::{QInt, Round};

/// A valid scale: any finite `f32 > 0` (subnormals included), from its bits.
fn scale(u: &mut Unstructured<'_>) -> Result<f32> {
    let s = f32::from_bits(u.int_in_range(1..=0x7f7f_ffff)?);
    Ok(s)
}

/// Unit enums: one of the listed variants. The `match` makes adding a
/// variant without listing it here a compile error.
macro_rules! unit_enums {
    ($($ty:ident { $($v:ident),* })*) => {$(
        impl<'a> Arbitrary<'a> for $ty {
            fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
                const ALL: &[$ty] = &[$($ty::$v),*];
                let v = *u.choose(ALL)?;
                match v {
                    $($ty::$v)|* => Ok(v),
                }
            }
        }
    )*};
}

unit_enums! {
    Round { HalfAwayFromZero, HalfToEven }
    Rounding { Double, Single }
    Activation { None, Relu, Relu6, ReluN1To1 }
    RequantMode { Double, Single, Float32, LiteRtOptimized, LiteRtReference }
    Domain { Magnitude, Signed }
    CodeRange { Full, Narrow }
    Norm { L1, L2 }
    Upper { N, NMinus1 }
    ZeroBin { Keep, CopyNext }
    Merge { Remainder, Proportional }
    Ties { First, Last }
    ThresholdRule { Center, LeftEdge }
}

macro_rules! fixed_arbitrary {
    ($($t:ty),*) => {$(
        impl<'a, const FRAC: u32> Arbitrary<'a> for Fixed<$t, FRAC> {
            fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
                Ok(Self::from_bits(u.arbitrary()?))
            }
        }
    )*};
}
fixed_arbitrary!(i8, i16, i32, i64, u8, u16, u32, u64);

impl<'a> Arbitrary<'a> for I4 {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(I4::saturating_from_i32(u.int_in_range(-8..=7)?))
    }
}

impl<'a> Arbitrary<'a> for U4 {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(U4::saturating_from_i32(u.int_in_range(0..=15)?))
    }
}

impl<'a> Arbitrary<'a> for QuantizedMultiplier {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(QuantizedMultiplier {
            multiplier: u.int_in_range(0..=i32::MAX)?,
            shift: u.int_in_range(-31..=30)?,
        })
    }
}

impl<'a, Q: QInt> Arbitrary<'a> for Quantizer<Q> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let s = scale(u)?;
        let range: CodeRange = u.arbitrary()?;
        let zp = u.int_in_range(range.qmin::<Q>()..=Q::MAX)?;
        Quantizer::with_code_range(s, zp, range).map_err(|_| ArbError::IncorrectFormat)
    }
}

impl<'a> Arbitrary<'a> for EntropyOptions {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(EntropyOptions {
            upper: u.arbitrary()?,
            zero_bin: u.arbitrary()?,
            merge: u.arbitrary()?,
            ties: u.arbitrary()?,
            threshold: u.arbitrary()?,
            min_levels: u.int_in_range(0..=256)?,
        })
    }
}

impl<'a> Arbitrary<'a> for EntropyResult {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let kl = if u.arbitrary()? {
            f64::INFINITY
        } else {
            f64::from(u.int_in_range(0..=u32::MAX)?) / 1e6
        };
        Ok(EntropyResult {
            threshold: f32::from_bits(u.int_in_range(0..=0x7f7f_ffff)?),
            bin: u.arbitrary()?,
            kl,
        })
    }
}

impl<'a> Arbitrary<'a> for LayerFormat {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(LayerFormat {
            weight_fl: u.arbitrary()?,
            data_fl: u.arbitrary()?,
        })
    }
}

impl<'a> Arbitrary<'a> for BlockQ8_0 {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(BlockQ8_0 {
            d: f16::from_bits(u.arbitrary()?),
            qs: u.arbitrary()?,
        })
    }
}

impl<'a> Arbitrary<'a> for BlockQ4_0 {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(BlockQ4_0 {
            d: f16::from_bits(u.arbitrary()?),
            qs: u.arbitrary()?,
        })
    }
}

/// Samples for the calibration types: up to 8 batches of up to 32 `f32` of
/// any bit pattern (NaN and infinities included), fed to `add`.
fn feed(u: &mut Unstructured<'_>, mut add: impl FnMut(&[f32])) -> Result<()> {
    for _ in 0..u.int_in_range(0..=8)? {
        let mut batch = [0f32; 32];
        let n = u.int_in_range(0..=32)?;
        for x in &mut batch[..n] {
            *x = f32::from_bits(u.arbitrary()?);
        }
        add(&batch[..n]);
    }
    Ok(())
}

impl<'a, const N: usize> Arbitrary<'a> for Histogram<N> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let domain = u.arbitrary()?;
        let mut h = if u.arbitrary()? {
            // A fixed starting range, as the two-pass reference uses.
            let r = f32::from_bits(u.int_in_range(0..=0x7f7f_ffff)?);
            Histogram::with_range(domain, r).map_err(|_| ArbError::IncorrectFormat)?
        } else {
            match domain {
                Domain::Magnitude => Histogram::magnitude(),
                Domain::Signed => Histogram::signed(),
            }
        };
        feed(u, |xs| h.add(xs))?;
        Ok(h)
    }
}

impl<'a> Arbitrary<'a> for MinMaxObserver {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut o = MinMaxObserver::new();
        feed(u, |xs| o.observe(xs))?;
        Ok(o)
    }
}

impl<'a> Arbitrary<'a> for MovingAverageMinMaxObserver {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        // c in (0, 1]: k / 2^16 for k in 1..=2^16.
        let c = u.int_in_range(1..=1u32 << 16)? as f32 / 65536.0;
        let mut o =
            MovingAverageMinMaxObserver::with_constant(c).map_err(|_| ArbError::IncorrectFormat)?;
        feed(u, |xs| o.observe(xs))?;
        Ok(o)
    }
}

impl<'a, const C: usize> Arbitrary<'a> for PerChannelMinMaxObserver<C> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut o = PerChannelMinMaxObserver::new();
        if C == 0 {
            return Ok(o);
        }
        let channels = u.int_in_range(1..=C.min(32))?;
        let mut result = Ok(());
        feed(u, |xs| {
            // Whole rows only: a batch is `rows x channels`.
            let n = xs.len() - xs.len() % channels;
            if result.is_ok() {
                result = o.observe(&xs[..n], channels);
            }
        })?;
        result.map_err(|_| ArbError::IncorrectFormat)?;
        Ok(o)
    }
}

/// Small shapes around the axis: `outer` and `inner` in `0..=16`.
fn side(u: &mut Unstructured<'_>) -> Result<usize> {
    u.int_in_range(0..=16)
}

/// `n` valid scales and, half of the time, `n` zero points in `[qmin, Q::MAX]`.
fn tables<Q: QInt, const N: usize>(
    u: &mut Unstructured<'_>,
    n: usize,
    qmin: i32,
) -> Result<(heapless::Vec<f32, N>, heapless::Vec<i32, N>)> {
    let mut scales = heapless::Vec::new();
    let mut zps = heapless::Vec::new();
    let with_zps: bool = u.arbitrary()?;
    for _ in 0..n {
        scales
            .push(scale(u)?)
            .map_err(|_| ArbError::IncorrectFormat)?;
        if with_zps {
            zps.push(u.int_in_range(qmin..=Q::MAX)?)
                .map_err(|_| ArbError::IncorrectFormat)?;
        }
    }
    Ok((scales, zps))
}

impl<'a, Q: QInt, const N: usize> Arbitrary<'a> for PerChannelBuf<Q, N> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let range: CodeRange = u.arbitrary()?;
        let channels = u.int_in_range(0..=N)?;
        let (scales, zps) = tables::<Q, N>(u, channels, range.qmin::<Q>())?;
        let dims = [side(u)?, channels, side(u)?];
        PerChannelBuf::with_code_range(&scales, &zps, &dims, 1, range)
            .map_err(|_| ArbError::IncorrectFormat)
    }
}

impl<'a, Q: QInt, const N: usize> Arbitrary<'a> for PerBlockBuf<Q, N> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let range: CodeRange = u.arbitrary()?;
        let (outer, inner) = (u.int_in_range(1..=4)?, u.int_in_range(1..=4)?);
        let blocks = u.int_in_range(0..=N / (outer * inner))?;
        let block_size = u.int_in_range(1..=QK * 2)?;
        let axis_len = match blocks {
            0 => 0,
            b => u.int_in_range((b - 1) * block_size + 1..=b * block_size)?,
        };
        let (scales, zps) = tables::<Q, N>(u, outer * blocks * inner, range.qmin::<Q>())?;
        let dims = [outer, axis_len, inner];
        PerBlockBuf::with_code_range(&scales, &zps, &dims, 1, block_size, range)
            .map_err(|_| ArbError::IncorrectFormat)
    }
}
