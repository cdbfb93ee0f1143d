//! The output stage written once: rows of channels, whole vectors of `N`
//! lanes, and a zero-padded last vector per row, for any [`Lanes`]
//! implementation. The scalar path is this same code with `N = 1`.

use super::lanes::{Bounds, Lanes, Scalar, finish};
use super::{Channel, Clamp, Job, Multipliers, Params, RequantMode, RequantOutput, Scaling};
use crate::requant::{QuantizedMultiplier, multiply_by_quantized_multiplier_i64, requantize_f64};

/// A per-channel parameter lanes can hold: a Q31 multiplier or an `f32`
/// scale.
trait Param<V: Lanes<N>, const N: usize>: Copy + Default {
    /// Its lanes.
    type L: Copy;
    fn splat(v: V, p: Self) -> Self::L;
    fn load(v: V, p: &[Self; N]) -> Self::L;
    /// The bias and this parameter from `N` channel records.
    fn from_channels(v: V, c: &[Channel; N]) -> (V::I, Self::L);
}

/// [`Param`] for a parameter type: its lanes, the [`Lanes`] methods that
/// splat and load it, and its place in `load_channels`' result.
macro_rules! param {
    ($p:ty, $lanes:ident, $splat:ident, $load:ident, $field:tt) => {
        impl<V: Lanes<N>, const N: usize> Param<V, N> for $p {
            type L = V::$lanes;
            #[inline(always)]
            fn splat(v: V, p: Self) -> V::$lanes {
                v.$splat(p)
            }
            #[inline(always)]
            fn load(v: V, p: &[Self; N]) -> V::$lanes {
                v.$load(p)
            }
            #[inline(always)]
            fn from_channels(v: V, c: &[Channel; N]) -> (V::I, V::$lanes) {
                let lanes = v.load_channels(c);
                (lanes.0, lanes.$field)
            }
        }
    };
}
param!(
    QuantizedMultiplier,
    Mult,
    splat_multiplier,
    load_multipliers,
    1
);
param!(f32, F, splat_scale, load_scales, 2);

/// One requantization mode: which parameter it needs and which lane
/// operation applies it. A type per mode (not a closure) so each mode's
/// loop is compiled separately, with nothing decided per element.
trait Mode<V: Lanes<N>, const N: usize> {
    type P: Param<V, N>;
    fn apply(v: V, x: V::I, p: <Self::P as Param<V, N>>::L, k: &V::Out) -> V::I;
}

/// A type per mode: its parameter, and the [`Lanes`] method that applies it.
macro_rules! modes {
    ($($mode:ident: $p:ty => $lanes:ident, $method:ident;)*) => {$(
        struct $mode;
        impl<V: Lanes<N>, const N: usize> Mode<V, N> for $mode {
            type P = $p;
            #[inline(always)]
            fn apply(v: V, x: V::I, p: V::$lanes, k: &V::Out) -> V::I {
                v.$method(x, p, k)
            }
        }
    )*};
}
modes! {
    Double: QuantizedMultiplier => Mult, double;
    Single: QuantizedMultiplier => Mult, single;
    LiteRtOptimized: QuantizedMultiplier => Mult, litert_optimized;
    Float32: f32 => F, float32;
}

/// Where the lanes of one row get their bias and parameters. One type per
/// layout, so the loop zips slices (no per-vector index checks) and never
/// asks whether there is a bias.
trait Source<V: Lanes<N>, const N: usize, P: Param<V, N>> {
    /// The bias and parameter lanes of the row's whole vectors, in order.
    fn chunks(&self, v: V) -> impl Iterator<Item = (V::I, P::L)>;
    /// Channels `from ..` to the end of the row (fewer than `N`), padded.
    fn tail(&self, v: V, from: usize) -> (V::I, P::L);
}

/// `s` copied into the front of an array of defaults.
#[inline(always)]
fn pad<T: Copy + Default, const N: usize>(s: &[T]) -> [T; N] {
    let mut a = [T::default(); N];
    for (d, s) in a.iter_mut().zip(s) {
        *d = *s;
    }
    a
}

/// `s[from..]`, padded.
#[inline(always)]
fn pad_from<T: Copy + Default, const N: usize>(s: &[T], from: usize) -> [T; N] {
    pad(s.get(from..).unwrap_or(&[]))
}

/// One parameter for every lane (per tensor), no bias: the whole slice is
/// one row.
struct Broadcast<L>(L);

impl<V: Lanes<N>, const N: usize, P: Param<V, N>> Source<V, N, P> for Broadcast<P::L> {
    #[inline(always)]
    fn chunks(&self, v: V) -> impl Iterator<Item = (V::I, P::L)> {
        core::iter::repeat((v.zero(), self.0))
    }
    #[inline(always)]
    fn tail(&self, v: V, _: usize) -> (V::I, P::L) {
        (v.zero(), self.0)
    }
}

/// One parameter for every lane, a bias per channel.
struct BroadcastBias<'a, L> {
    bias: &'a [i32],
    lanes: L,
}

impl<V: Lanes<N>, const N: usize, P: Param<V, N>> Source<V, N, P> for BroadcastBias<'_, P::L> {
    #[inline(always)]
    fn chunks(&self, v: V) -> impl Iterator<Item = (V::I, P::L)> {
        let (bias, _) = self.bias.as_chunks::<N>();
        bias.iter().map(move |b| (v.load(b), self.lanes))
    }
    #[inline(always)]
    fn tail(&self, v: V, from: usize) -> (V::I, P::L) {
        (v.load(&pad_from(self.bias, from)), self.lanes)
    }
}

/// Per-channel parameters in their own slice (the slice API's layout), no
/// bias.
struct PerChannel<'a, P>(&'a [P]);

impl<V: Lanes<N>, const N: usize, P: Param<V, N>> Source<V, N, P> for PerChannel<'_, P> {
    #[inline(always)]
    fn chunks(&self, v: V) -> impl Iterator<Item = (V::I, P::L)> {
        let (table, _) = self.0.as_chunks::<N>();
        table.iter().map(move |p| (v.zero(), P::load(v, p)))
    }
    #[inline(always)]
    fn tail(&self, v: V, from: usize) -> (V::I, P::L) {
        (v.zero(), P::load(v, &pad_from(self.0, from)))
    }
}

/// Per-channel parameters and a bias per channel, each in its own slice.
struct PerChannelBias<'a, P> {
    bias: &'a [i32],
    table: &'a [P],
}

impl<V: Lanes<N>, const N: usize, P: Param<V, N>> Source<V, N, P> for PerChannelBias<'_, P> {
    #[inline(always)]
    fn chunks(&self, v: V) -> impl Iterator<Item = (V::I, P::L)> {
        let (bias, _) = self.bias.as_chunks::<N>();
        let (table, _) = self.table.as_chunks::<N>();
        bias.iter()
            .zip(table)
            .map(move |(b, p)| (v.load(b), P::load(v, p)))
    }
    #[inline(always)]
    fn tail(&self, v: V, from: usize) -> (V::I, P::L) {
        let p = P::load(v, &pad_from(self.table, from));
        (v.load(&pad_from(self.bias, from)), p)
    }
}

/// A layer's per-channel table ([`Channel`] records).
struct Table<'a>(&'a [Channel]);

impl<V: Lanes<N>, const N: usize, P: Param<V, N>> Source<V, N, P> for Table<'_> {
    #[inline(always)]
    fn chunks(&self, v: V) -> impl Iterator<Item = (V::I, P::L)> {
        let (channels, _) = self.0.as_chunks::<N>();
        channels.iter().map(move |c| P::from_channels(v, c))
    }
    #[inline(always)]
    fn tail(&self, v: V, from: usize) -> (V::I, P::L) {
        P::from_channels(v, &pad_from(self.0, from))
    }
}

/// The loop: every row of `row` elements, whole vectors, then the rest of
/// the row through one zero-padded vector (no scalar tail: every length runs
/// the same lane code).
#[inline(always)]
fn rows<V, const N: usize, T, M, S>(v: V, job: &Job<'_>, src: &S, k: &V::Out, out: &mut [T])
where
    V: Lanes<N>,
    T: RequantOutput,
    M: Mode<V, N>,
    S: Source<V, N, M::P>,
{
    let row = job.row;
    if row == 0 {
        return; // nothing to do: `acc` is empty
    }
    for (acc, out) in job.acc.chunks_exact(row).zip(out.chunks_exact_mut(row)) {
        let (acc_full, acc_tail) = acc.as_chunks::<N>();
        let (out_full, out_tail) = out.as_chunks_mut::<N>();
        for ((a, o), (bias, p)) in acc_full.iter().zip(out_full).zip(src.chunks(v)) {
            T::store(v, M::apply(v, v.add(v.load(a), bias), p, k), o);
        }
        if !acc_tail.is_empty() {
            let (bias, p) = src.tail(v, acc_full.len() * N);
            let x = v.add(v.load(&pad(acc_tail)), bias);
            let mut o = [T::default(); N];
            T::store(v, M::apply(v, x, p, k), &mut o);
            for (d, s) in out_tail.iter_mut().zip(&o) {
                *d = *s;
            }
        }
    }
}

/// [`rows`] for the slice API's per-tensor or per-channel parameters, with
/// or without a bias.
#[inline(always)]
fn slice<V: Lanes<N>, const N: usize, T: RequantOutput, M: Mode<V, N>>(
    v: V,
    job: &Job<'_>,
    (bias, m): (Option<&[i32]>, Multipliers<'_, M::P>),
    k: &V::Out,
    out: &mut [T],
) {
    match (m, bias) {
        (Multipliers::PerTensor(p), None) => {
            let src = Broadcast(M::P::splat(v, p));
            rows::<V, N, T, M, _>(v, job, &src, k, out)
        }
        (Multipliers::PerTensor(p), Some(bias)) => {
            let src = BroadcastBias {
                bias,
                lanes: M::P::splat(v, p),
            };
            rows::<V, N, T, M, _>(v, job, &src, k, out)
        }
        (Multipliers::PerChannel(table), None) => {
            rows::<V, N, T, M, _>(v, job, &PerChannel(table), k, out)
        }
        (Multipliers::PerChannel(table), Some(bias)) => {
            let src = PerChannelBias { bias, table };
            rows::<V, N, T, M, _>(v, job, &src, k, out)
        }
    }
}

/// The output stage of a validated job on lanes `v`. LiteRT's reference
/// mode (an `f64` multiply per element) has no vector form and runs the
/// scalar code on every instruction set.
#[inline(always)]
pub(crate) fn run<V: Lanes<N>, const N: usize, T: RequantOutput>(
    v: V,
    job: &Job<'_>,
    out: &mut [T],
) {
    let k = v.out(job.clamp);
    match job.params {
        Params::Slice { bias, scaling } => match scaling {
            Scaling::Double(m) => slice::<V, N, T, Double>(v, job, (bias, m), &k, out),
            Scaling::Single(m) => slice::<V, N, T, Single>(v, job, (bias, m), &k, out),
            Scaling::LiteRtOptimized(m) => {
                slice::<V, N, T, LiteRtOptimized>(v, job, (bias, m), &k, out)
            }
            Scaling::Float32(m) => slice::<V, N, T, Float32>(v, job, (bias, m), &k, out),
            Scaling::LiteRtReference(m) => litert_reference(job, bias, m, out),
        },
        Params::Table { channels, requant } => {
            let src = Table(channels);
            match requant {
                RequantMode::Double => rows::<V, N, T, Double, _>(v, job, &src, &k, out),
                RequantMode::Single => rows::<V, N, T, Single, _>(v, job, &src, &k, out),
                RequantMode::LiteRtOptimized => {
                    rows::<V, N, T, LiteRtOptimized, _>(v, job, &src, &k, out)
                }
                RequantMode::Float32 => rows::<V, N, T, Float32, _>(v, job, &src, &k, out),
                RequantMode::LiteRtReference => litert_reference_table(job, channels, out),
            }
        }
    }
}

/// The portable path: [`run`] on one lane.
pub(crate) fn run_scalar<T: RequantOutput>(job: &Job<'_>, out: &mut [T]) {
    run(Scalar, job, out)
}

/// LiteRT's reference requantization, `(int32)round(acc · M)` in `f64`,
/// element by element (slice API parameters).
fn litert_reference<T: RequantOutput>(
    job: &Job<'_>,
    bias: Option<&[i32]>,
    m: Multipliers<'_, f64>,
    out: &mut [T],
) {
    let (k, row) = (job.clamp, job.row.max(1));
    for (acc, out) in job.acc.chunks(row).zip(out.chunks_mut(row)) {
        for (c, (&a, o)) in acc.iter().zip(out).enumerate() {
            let b = bias.and_then(|b| b.get(c)).copied().unwrap_or(0);
            let real = match m {
                Multipliers::PerTensor(r) => r,
                Multipliers::PerChannel(t) => t.get(c).copied().unwrap_or(0.0),
            };
            let y = requantize_f64(
                a.wrapping_add(b).into(),
                real,
                k.zero_point,
                k.act_min,
                k.act_max,
            );
            *o = T::saturating_from_i32(y);
        }
    }
}

/// [`litert_reference`] with a layer's channel table.
fn litert_reference_table<T: RequantOutput>(job: &Job<'_>, channels: &[Channel], out: &mut [T]) {
    let (k, row) = (job.clamp, job.row.max(1));
    for (acc, out) in job.acc.chunks(row).zip(out.chunks_mut(row)) {
        for ((&a, ch), o) in acc.iter().zip(channels).zip(out) {
            let x = a.wrapping_add(ch.bias).into();
            let y = requantize_f64(x, ch.real, k.zero_point, k.act_min, k.act_max);
            *o = T::saturating_from_i32(y);
        }
    }
}

/// The 64-bit-accumulator output stage of int16 × int8 (16x8) layers:
/// `clamp(MBQM64(acc + bias64, m) + zero_point)` per channel record, the
/// same in TFLite's double- and single-rounding builds (TFLite's
/// `MultiplyByQuantizedMultiplier(int64_t, ...)`, a Q15 multiplier and one
/// rounding). Scalar on every instruction set: the exact 128-bit product
/// it needs for out-of-contract inputs has no cheap vector form.
pub(crate) fn run_i64<T: RequantOutput>(
    acc: &[i64],
    channels: &[Channel],
    clamp: Clamp,
    out: &mut [T],
) {
    let k = Bounds::new(clamp);
    for ((&a, ch), o) in acc.iter().zip(channels).zip(out) {
        let y = multiply_by_quantized_multiplier_i64(a.wrapping_add(ch.bias64), ch.multiplier);
        *o = T::saturating_from_i32(finish(y, &k));
    }
}
