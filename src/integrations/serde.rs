//! `serde` (feature `serde`): save what calibration chose, load it in
//! firmware tooling.
//!
//! Every `Deserialize` goes through the checks of the type's constructor
//! (scales finite and positive, zero points in range, shapes consistent,
//! multiplier shifts in `[-31, 30]`, 4-bit values in range, histogram counts
//! consistent), so bad data is a deserialization error, never an invalid
//! value. Nothing allocates: the borrowed quantizers serialize as they are
//! and deserialize into their owned forms
//! ([`PerChannelBuf`](crate::quant::PerChannelBuf),
//! [`PerBlockBuf`](crate::quant::PerBlockBuf), capacity `N` tables).
//!
//! | type | serialized as |
//! | --- | --- |
//! | `Quantizer<Q>` | `{scale, zero_point, code_range}` (`code_range` may be omitted: `Full`) |
//! | `PerChannel<Q>` / `PerChannelBuf<Q, N>` | `{scales, zero_points, dims, axis, code_range}` (`dims` written as `[outer, channels, inner]`, axis 1; read back in any rank up to 8 and any axis; `zero_points` and `code_range` may be omitted) |
//! | `PerBlock<Q>` / `PerBlockBuf<Q, N>` | the same plus `block_size` |
//! | `Fixed<T, FRAC>` | `{bits}`, as the `fixed` crate does |
//! | `I4`, `U4` | the integer |
//! | `QuantizedMultiplier` | `{multiplier, shift}` |
//! | `Histogram<N>` | `{domain, range, bins, total, nonfinite, min_max}` |
//! | `MinMaxObserver`, `MovingAverageMinMaxObserver`, `PerChannelMinMaxObserver<C>` | `{min_max, nonfinite}` (`constant` too; per channel `ranges`, `null` for a channel without a finite sample) |
//! | `EntropyResult` | `{threshold, bin, kl}` (`kl: null` for the `+inf` of the max fallback) |
//! | `EntropyOptions`, `LayerFormat` | their public fields |
//! | `Round`, `Rounding`, `Activation`, `CodeRange`, `layer::RequantMode`, `Domain`, `Norm`, `Upper`, `ZeroBin`, `Merge`, `Ties`, `ThresholdRule` | the variant name |
//!
//! ```
//! use qkit::calib::Histogram;
//! use qkit::quant::{CodeRange, PerChannel, PerChannelBuf, Quantizer};
//!
//! let q = Quantizer::<i8>::with_code_range(0.02, 0, CodeRange::Narrow)?;
//! let json = serde_json::to_string(&q).unwrap();
//! assert_eq!(json, r#"{"scale":0.02,"zero_point":0,"code_range":"Narrow"}"#);
//! assert_eq!(serde_json::from_str::<Quantizer<i8>>(&json).unwrap(), q);
//! // Bad data is an error, not a quantizer:
//! assert!(serde_json::from_str::<Quantizer<i8>>(r#"{"scale":-1.0,"zero_point":0}"#).is_err());
//! assert!(serde_json::from_str::<Quantizer<i8>>(r#"{"scale":1.0,"zero_point":300}"#).is_err());
//!
//! // Per-channel parameters: borrowed out, owned back in (up to 16 channels here).
//! let pc = PerChannel::<i8>::with_code_range(&[0.5, 0.25], &[], &[2, 3], 0, CodeRange::Narrow)?;
//! let json = serde_json::to_string(&pc).unwrap();
//! let back: PerChannelBuf<i8, 16> = serde_json::from_str(&json).unwrap();
//! assert_eq!(back.as_per_channel(), pc);
//!
//! // A calibration histogram round-trips exactly.
//! let mut h = Histogram::<64>::magnitude();
//! h.add(&[0.5, -1.0, 2.0, f32::NAN]);
//! let back: Histogram<64> = serde_json::from_str(&serde_json::to_string(&h).unwrap()).unwrap();
//! assert_eq!(back, h);
//! # Ok::<(), qkit::Error>(())
//! ```

use core::fmt;

use ::serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use ::serde::ser::SerializeStruct;
use ::serde::{Deserialize, Deserializer, Serialize, Serializer};
use heapless::Vec;

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
use crate::quant::{
    Activation, CodeRange, PerBlock, PerBlockBuf, PerChannel, PerChannelBuf, Quantizer,
};
use crate::requant::{QuantizedMultiplier, Rounding};
use crate::{Error, QInt, Round};

/// Maps a qkit constructor error to the deserializer's error type.
fn invalid<E: de::Error>(e: Error) -> E {
    E::custom(e)
}

// ---------------------------------------------------------------------------
// Unit enums and plain structs with public fields: serde's remote derive,
// which fails to compile if a variant or field is added without being listed.

macro_rules! remote {
    ($($ty:ident via $def:ident = $name:tt $body:tt)*) => {$(
        #[derive(::serde::Serialize, ::serde::Deserialize)]
        #[serde(remote = $name, rename = $name)]
        #[allow(dead_code)]
        enum $def $body

        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $def::serialize(self, s)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $def::deserialize(d)
            }
        }
    )*};
}

remote! {
    Round via RoundDef = "Round" { HalfAwayFromZero, HalfToEven }
    Rounding via RoundingDef = "Rounding" { Double, Single }
    Activation via ActivationDef = "Activation" { None, Relu, Relu6, ReluN1To1 }
    RequantMode via RequantDef = "RequantMode" { Double, Single, Float32, LiteRtOptimized, LiteRtReference }
    Domain via DomainDef = "Domain" { Magnitude, Signed }
    CodeRange via CodeRangeDef = "CodeRange" { Full, Narrow }
    Norm via NormDef = "Norm" { L1, L2 }
    Upper via UpperDef = "Upper" { N, NMinus1 }
    ZeroBin via ZeroBinDef = "ZeroBin" { Keep, CopyNext }
    Merge via MergeDef = "Merge" { Remainder, Proportional }
    Ties via TiesDef = "Ties" { First, Last }
    ThresholdRule via ThresholdRuleDef = "ThresholdRule" { Center, LeftEdge }
}

#[derive(::serde::Serialize, ::serde::Deserialize)]
#[serde(remote = "EntropyOptions", rename = "EntropyOptions")]
struct EntropyOptionsDef {
    upper: Upper,
    zero_bin: ZeroBin,
    merge: Merge,
    ties: Ties,
    threshold: ThresholdRule,
    min_levels: usize,
}

impl Serialize for EntropyOptions {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        EntropyOptionsDef::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for EntropyOptions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        EntropyOptionsDef::deserialize(d)
    }
}

#[derive(::serde::Serialize, ::serde::Deserialize)]
#[serde(remote = "LayerFormat", rename = "LayerFormat")]
struct LayerFormatDef {
    weight_fl: i32,
    data_fl: i32,
}

impl Serialize for LayerFormat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        LayerFormatDef::serialize(self, s)
    }
}

impl<'de> Deserialize<'de> for LayerFormat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        LayerFormatDef::deserialize(d)
    }
}

/// `kl` is `+inf` on the max fallback, which JSON cannot hold: `None` then.
#[derive(::serde::Serialize, ::serde::Deserialize)]
#[serde(rename = "EntropyResult")]
struct EntropyResultWire {
    threshold: f32,
    bin: usize,
    kl: Option<f64>,
}

impl Serialize for EntropyResult {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let kl = (self.kl != f64::INFINITY).then_some(self.kl);
        EntropyResultWire {
            threshold: self.threshold,
            bin: self.bin,
            kl,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for EntropyResult {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = EntropyResultWire::deserialize(d)?;
        if !(w.threshold.is_finite() && w.threshold >= 0.0) {
            return Err(invalid(Error::InvalidParameter(
                "EntropyResult: threshold must be finite and >= 0",
            )));
        }
        let kl = w.kl.unwrap_or(f64::INFINITY);
        if kl.is_nan() {
            return Err(invalid(Error::NaN));
        }
        Ok(EntropyResult {
            threshold: w.threshold,
            bin: w.bin,
            kl,
        })
    }
}

// ---------------------------------------------------------------------------
// Scalars.

#[derive(::serde::Serialize, ::serde::Deserialize)]
#[serde(rename = "Fixed")]
struct FixedWire<T> {
    bits: T,
}

macro_rules! fixed_serde {
    ($($t:ty),*) => {$(
        impl<const FRAC: u32> Serialize for Fixed<$t, FRAC> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                FixedWire { bits: self.to_bits() }.serialize(s)
            }
        }

        impl<'de, const FRAC: u32> Deserialize<'de> for Fixed<$t, FRAC> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                // Every bit pattern is a number; `from_bits` keeps the
                // compile-time check of FRAC.
                Ok(Self::from_bits(FixedWire::<$t>::deserialize(d)?.bits))
            }
        }
    )*};
}
fixed_serde!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! nibble_serde {
    ($($t:ident($int:ty, $ser:ident)),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.$ser(self.get())
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $t::try_from(<$int>::deserialize(d)?).map_err(invalid)
            }
        }
    )*};
}
nibble_serde!(I4(i8, serialize_i8), U4(u8, serialize_u8));

#[derive(::serde::Serialize, ::serde::Deserialize)]
#[serde(rename = "QuantizedMultiplier")]
struct MultiplierWire {
    multiplier: i32,
    shift: i32,
}

impl Serialize for QuantizedMultiplier {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MultiplierWire {
            multiplier: self.multiplier,
            shift: self.shift,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for QuantizedMultiplier {
    /// The rule of every qkit constructor: `multiplier >= 0`, `-31 <= shift <= 30`.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = MultiplierWire::deserialize(d)?;
        if w.multiplier < 0 {
            return Err(invalid(Error::InvalidMultiplier(w.multiplier as f64)));
        }
        if !(-31..=30).contains(&w.shift) {
            return Err(invalid(Error::ShiftOutOfRange {
                shift: w.shift,
                min: -31,
                max: 30,
            }));
        }
        Ok(QuantizedMultiplier {
            multiplier: w.multiplier,
            shift: w.shift,
        })
    }
}

// ---------------------------------------------------------------------------
// Quantizers.

#[derive(::serde::Serialize, ::serde::Deserialize)]
#[serde(rename = "Quantizer")]
struct QuantizerWire {
    scale: f32,
    zero_point: i32,
    #[serde(default)]
    code_range: CodeRange,
}

impl<Q: QInt> Serialize for Quantizer<Q> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let w = QuantizerWire {
            scale: self.scale(),
            zero_point: self.zero_point(),
            code_range: self.code_range(),
        };
        w.serialize(s)
    }
}

impl<'de, Q: QInt> Deserialize<'de> for Quantizer<Q> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = QuantizerWire::deserialize(d)?;
        Quantizer::with_code_range(w.scale, w.zero_point, w.code_range).map_err(invalid)
    }
}

/// Largest tensor rank accepted when reading per-channel / per-block parameters.
const MAX_RANK: usize = 8;

/// The axis-reduced shape `[outer, axis_len, inner]` is written with axis 1.
#[derive(::serde::Serialize)]
#[serde(rename = "PerChannel")]
struct PerChannelOut<'a> {
    scales: &'a [f32],
    zero_points: &'a [i32],
    dims: [usize; 3],
    axis: isize,
    code_range: CodeRange,
}

#[derive(::serde::Deserialize)]
#[serde(rename = "PerChannel")]
struct PerChannelIn<const N: usize> {
    scales: Vec<f32, N>,
    #[serde(default)]
    zero_points: Vec<i32, N>,
    dims: Vec<usize, MAX_RANK>,
    axis: isize,
    #[serde(default)]
    code_range: CodeRange,
}

impl<Q: QInt> Serialize for PerChannel<'_, Q> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.tables();
        PerChannelOut {
            scales: t.scales,
            zero_points: t.zero_points,
            dims: t.shape(),
            axis: 1,
            code_range: self.code_range(),
        }
        .serialize(s)
    }
}

impl<Q: QInt, const N: usize> Serialize for PerChannelBuf<Q, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_per_channel().serialize(s)
    }
}

impl<'de, Q: QInt, const N: usize> Deserialize<'de> for PerChannelBuf<Q, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = PerChannelIn::<N>::deserialize(d)?;
        PerChannelBuf::with_code_range(&w.scales, &w.zero_points, &w.dims, w.axis, w.code_range)
            .map_err(invalid)
    }
}

#[derive(::serde::Serialize)]
#[serde(rename = "PerBlock")]
struct PerBlockOut<'a> {
    scales: &'a [f32],
    zero_points: &'a [i32],
    dims: [usize; 3],
    axis: isize,
    block_size: usize,
    code_range: CodeRange,
}

#[derive(::serde::Deserialize)]
#[serde(rename = "PerBlock")]
struct PerBlockIn<const N: usize> {
    scales: Vec<f32, N>,
    #[serde(default)]
    zero_points: Vec<i32, N>,
    dims: Vec<usize, MAX_RANK>,
    axis: isize,
    block_size: usize,
    #[serde(default)]
    code_range: CodeRange,
}

impl<Q: QInt> Serialize for PerBlock<'_, Q> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.tables();
        PerBlockOut {
            scales: t.scales,
            zero_points: t.zero_points,
            dims: t.shape(),
            axis: 1,
            block_size: self.block_size(),
            code_range: self.code_range(),
        }
        .serialize(s)
    }
}

impl<Q: QInt, const N: usize> Serialize for PerBlockBuf<Q, N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_per_block().serialize(s)
    }
}

impl<'de, Q: QInt, const N: usize> Deserialize<'de> for PerBlockBuf<Q, N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = PerBlockIn::<N>::deserialize(d)?;
        let (scales, zero_points, dims) = (&w.scales, &w.zero_points, &w.dims);
        PerBlockBuf::with_code_range(
            scales,
            zero_points,
            dims,
            w.axis,
            w.block_size,
            w.code_range,
        )
        .map_err(invalid)
    }
}

// ---------------------------------------------------------------------------
// Histogram: the bins are read in place (no second N-element array on the
// stack), then every invariant `add` / `merge` maintain is checked.

const HISTOGRAM_FIELDS: &[&str] = &["domain", "range", "bins", "total", "nonfinite", "min_max"];

impl<const N: usize> Serialize for Histogram<N> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Histogram", HISTOGRAM_FIELDS.len())?;
        st.serialize_field("domain", &self.domain())?;
        st.serialize_field("range", &self.raw_range())?;
        st.serialize_field("bins", &self.bins()[..])?;
        st.serialize_field("total", &self.total())?;
        st.serialize_field("nonfinite", &self.nonfinite())?;
        st.serialize_field("min_max", &self.min_max())?;
        st.end()
    }
}

/// Reads exactly `N` counts into the histogram's own bins.
struct BinsSeed<'a, const N: usize>(&'a mut [u32; N]);

impl<'de, const N: usize> DeserializeSeed<'de> for BinsSeed<'_, N> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, const N: usize> Visitor<'de> for BinsSeed<'_, N> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{N} bin counts")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        for i in 0..N {
            match seq.next_element()? {
                Some(c) => self.0[i] = c,
                None => return Err(de::Error::invalid_length(i, &self)),
            }
        }
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(N + 1, &self));
        }
        Ok(())
    }
}

/// The scalar fields of a histogram, read before the checks.
#[derive(Default)]
struct HistogramParts {
    domain: Option<Domain>,
    range: Option<f64>,
    bins: bool,
    total: Option<u64>,
    nonfinite: Option<u64>,
    min_max: Option<Option<(f32, f32)>>,
}

fn check_histogram<const N: usize>(h: &mut Histogram<N>, p: HistogramParts) -> Result<(), Error> {
    let missing = Error::InvalidParameter("Histogram: a field is missing");
    let (Some(domain), Some(range), true, Some(total), Some(nonfinite), Some(min_max)) =
        (p.domain, p.range, p.bins, p.total, p.nonfinite, p.min_max)
    else {
        return Err(missing);
    };
    let bad = |what| Err(Error::InvalidParameter(what));
    if !(range.is_finite() && range >= 0.0) {
        return bad("Histogram: range must be finite and >= 0");
    }
    match min_max {
        None if total != 0 => return bad("Histogram: min_max missing for a non-empty histogram"),
        Some(_) if total == 0 => return bad("Histogram: min_max given for an empty histogram"),
        Some((lo, hi)) => {
            if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
                return bad("Histogram: min_max must be finite with min <= max");
            }
            if f64::from((-lo).max(hi)) > range {
                return bad("Histogram: a sample lies outside the range");
            }
        }
        None => {}
    }
    let bins = h.bins();
    let sum: u64 = bins.iter().map(|&c| u64::from(c)).sum();
    // Counts saturate at u32::MAX per bin, so the sum may fall short of the
    // total only when a bin is saturated.
    if sum > total || (sum < total && !bins.contains(&u32::MAX)) {
        return bad("Histogram: the bin counts do not add up to total");
    }
    let zero_bin = match domain {
        Domain::Magnitude => 0,
        Domain::Signed => N / 2,
    };
    if range == 0.0
        && bins
            .iter()
            .enumerate()
            .any(|(k, &c)| c != 0 && k != zero_bin)
    {
        return bad("Histogram: with range 0 only the zero bin may count");
    }
    h.set_raw_parts(domain, range, total, nonfinite, min_max);
    Ok(())
}

struct HistogramVisitor<const N: usize>;

#[derive(::serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum HistogramField {
    Domain,
    Range,
    Bins,
    Total,
    Nonfinite,
    MinMax,
}

impl<'de, const N: usize> Visitor<'de> for HistogramVisitor<N> {
    type Value = Histogram<N>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a qkit Histogram")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Histogram<N>, A::Error> {
        let mut h = Histogram::<N>::magnitude();
        let mut p = HistogramParts {
            domain: seq.next_element()?,
            range: seq.next_element()?,
            ..Default::default()
        };
        p.bins = seq.next_element_seed(BinsSeed(h.bins_mut()))?.is_some();
        (p.total, p.nonfinite, p.min_max) = (
            seq.next_element()?,
            seq.next_element()?,
            seq.next_element()?,
        );
        check_histogram(&mut h, p).map_err(invalid)?;
        Ok(h)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Histogram<N>, A::Error> {
        let mut h = Histogram::<N>::magnitude();
        let mut p = HistogramParts::default();
        while let Some(key) = map.next_key()? {
            match key {
                HistogramField::Domain => p.domain = Some(map.next_value()?),
                HistogramField::Range => p.range = Some(map.next_value()?),
                HistogramField::Bins => {
                    map.next_value_seed(BinsSeed(h.bins_mut()))?;
                    p.bins = true;
                }
                HistogramField::Total => p.total = Some(map.next_value()?),
                HistogramField::Nonfinite => p.nonfinite = Some(map.next_value()?),
                HistogramField::MinMax => p.min_max = Some(map.next_value()?),
            }
        }
        check_histogram(&mut h, p).map_err(invalid)?;
        Ok(h)
    }
}

impl<'de, const N: usize> Deserialize<'de> for Histogram<N> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct("Histogram", HISTOGRAM_FIELDS, HistogramVisitor::<N>)
    }
}

// ---------------------------------------------------------------------------
// Observers: the running (min, max) of min-max calibration.

/// A stored `(min, max)` must be finite with `min <= max`.
fn check_range(r: Option<(f32, f32)>) -> Result<Option<(f32, f32)>, Error> {
    match r {
        Some((lo, hi)) if !(lo.is_finite() && hi.is_finite() && lo <= hi) => Err(
            Error::InvalidParameter("observer: min_max must be finite with min <= max"),
        ),
        r => Ok(r),
    }
}

#[derive(::serde::Serialize, ::serde::Deserialize)]
#[serde(rename = "MinMaxObserver")]
struct MinMaxWire {
    min_max: Option<(f32, f32)>,
    nonfinite: u64,
}

impl Serialize for MinMaxObserver {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MinMaxWire {
            min_max: self.min_max(),
            nonfinite: self.nonfinite(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for MinMaxObserver {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = MinMaxWire::deserialize(d)?;
        let r = check_range(w.min_max).map_err(invalid)?;
        Ok(MinMaxObserver::from_parts(r, w.nonfinite))
    }
}

#[derive(::serde::Serialize, ::serde::Deserialize)]
#[serde(rename = "MovingAverageMinMaxObserver")]
struct MovingAverageWire {
    constant: f32,
    min_max: Option<(f32, f32)>,
    nonfinite: u64,
}

impl Serialize for MovingAverageMinMaxObserver {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let w = MovingAverageWire {
            constant: self.constant(),
            min_max: self.min_max(),
            nonfinite: self.nonfinite(),
        };
        w.serialize(s)
    }
}

impl<'de> Deserialize<'de> for MovingAverageMinMaxObserver {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = MovingAverageWire::deserialize(d)?;
        let o = MovingAverageMinMaxObserver::with_constant(w.constant).map_err(invalid)?;
        let r = check_range(w.min_max).map_err(invalid)?;
        Ok(o.with_parts(r, w.nonfinite))
    }
}

/// Channels without a finite sample are `null`.
#[derive(::serde::Serialize, ::serde::Deserialize)]
#[serde(rename = "PerChannelMinMaxObserver")]
struct PerChannelObserverWire<const C: usize> {
    ranges: Vec<Option<(f32, f32)>, C>,
    nonfinite: u64,
}

impl<const C: usize> Serialize for PerChannelMinMaxObserver<C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut ranges = Vec::<Option<(f32, f32)>, C>::new();
        for c in 0..self.channels() {
            let r = self.min_max(c).map_err(::serde::ser::Error::custom)?;
            ranges
                .push(r)
                .map_err(|_| ::serde::ser::Error::custom("observer: channels > C"))?;
        }
        PerChannelObserverWire {
            ranges,
            nonfinite: self.nonfinite(),
        }
        .serialize(s)
    }
}

impl<'de, const C: usize> Deserialize<'de> for PerChannelMinMaxObserver<C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let w = PerChannelObserverWire::<C>::deserialize(d)?;
        let mut ranges = Vec::<(f32, f32), C>::new();
        for &r in &w.ranges {
            let r = check_range(r).map_err(invalid)?;
            // Cannot fail: as many entries as the wire's capacity-C vector.
            let _ = ranges.push(r.unwrap_or((f32::INFINITY, f32::NEG_INFINITY)));
        }
        Ok(PerChannelMinMaxObserver::from_parts(ranges, w.nonfinite))
    }
}
