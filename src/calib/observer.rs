//! Range observers: running statistics that become a scale and zero point
//! (PyTorch's observers, `torch.ao.quantization.observer`).
//!
//! All observers skip non-finite samples and count them: a NaN never
//! poisons the range. An observer that has seen nothing hands out the
//! "uncalibrated" quantizer (scale 1, zero point 0).

use crate::quant::Quantizer;
use crate::{Error, QInt};

use super::{ZERO_FLOOR, amax_quantizer};
use crate::quant::CodeRange;

/// Finite min and max of a batch and how many samples were not finite.
fn batch_min_max(xs: &[f32]) -> (Option<(f32, f32)>, u64) {
    let (mut lo, mut hi, mut bad, mut any) = (f32::INFINITY, f32::NEG_INFINITY, 0u64, false);
    for &x in xs {
        if x.is_finite() {
            lo = lo.min(x);
            hi = hi.max(x);
            any = true;
        } else {
            bad += 1;
        }
    }
    (any.then_some((lo, hi)), bad)
}

/// Affine parameters for the range `[lo, hi]` and codes `[qmin, qmax]`
/// (PyTorch's `_calculate_qparams`, affine mode).
///
/// The range is first widened to include 0; `s = (hi - lo) / (qmax - qmin)`,
/// `zp = clamp(qmin - round_half_even(lo / s), qmin, qmax)` (the scale is
/// not recomputed after rounding zp). A range of width `<= ZERO_FLOOR` gives
/// `(1.0, zp)` with `zp` the code of 0 (the zero rule). Errors:
/// `InvalidParameter` for non-finite bounds, `lo > hi` or `qmin >= qmax`.
///
/// ```
/// use qkit::calib::observer::affine_params;
/// // s = 3/255; zp = -128 - round(-1 / s) = -128 + 85 = -43.
/// let (s, zp) = affine_params(-1.0, 2.0, -128, 127)?;
/// assert_eq!((s, zp), (3.0 / 255.0, -43));
/// let (s, zp) = affine_params(-0.3, 1.0, 0, 255)?;
/// assert!((s - 0.005098039).abs() < 1e-9 && zp == 59); // zp_from_min = 58.846
/// assert_eq!(affine_params(0.0, 0.0, -128, 127)?, (1.0, 0));
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn affine_params(lo: f32, hi: f32, qmin: i32, qmax: i32) -> Result<(f32, i32), Error> {
    if !(lo.is_finite() && hi.is_finite()) || lo > hi {
        return Err(Error::InvalidParameter(
            "range must be finite with lo <= hi",
        ));
    }
    if qmin >= qmax {
        return Err(Error::InvalidParameter("qmin must be < qmax"));
    }
    let lo = lo.min(0.0) as f64;
    let hi = hi.max(0.0) as f64;
    let levels = (qmax as i64 - qmin as i64) as f64;
    if hi - lo <= ZERO_FLOOR as f64 {
        return Ok((1.0, 0i32.clamp(qmin, qmax)));
    }
    let s = ((hi - lo) / levels) as f32;
    let zp = qmin as f64 - libm::rint(lo / s as f64);
    let zp = zp.clamp(qmin as f64, qmax as f64) as i32;
    Ok((s, zp))
}

/// Running min/max (PyTorch `MinMaxObserver`, TFLite's calibrator).
///
/// ```
/// use qkit::calib::observer::MinMaxObserver;
/// let mut o = MinMaxObserver::new();
/// o.observe(&[0.5, -1.0, f32::NAN]);
/// o.observe(&[3.0]);
/// assert_eq!(o.min_max(), Some((-1.0, 3.0)));
/// assert_eq!((o.amax(), o.nonfinite()), (3.0, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MinMaxObserver {
    range: Option<(f32, f32)>,
    nonfinite: u64,
}

impl MinMaxObserver {
    /// An observer that has seen nothing.
    ///
    /// ```
    /// assert_eq!(qkit::calib::observer::MinMaxObserver::new().min_max(), None);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds a batch in: `min = min(min, min X)`, `max = max(max, max X)`
    /// over the finite samples. An empty (or all non-finite) batch changes
    /// only the non-finite count.
    ///
    /// ```
    /// let mut o = qkit::calib::observer::MinMaxObserver::new();
    /// o.observe(&[]);
    /// o.observe(&[f32::INFINITY]);
    /// assert_eq!((o.min_max(), o.nonfinite()), (None, 1));
    /// ```
    pub fn observe(&mut self, xs: &[f32]) {
        let (b, bad) = batch_min_max(xs);
        self.nonfinite = self.nonfinite.saturating_add(bad);
        if let Some((lo, hi)) = b {
            self.range = Some(match self.range {
                None => (lo, hi),
                Some((a, z)) => (a.min(lo), z.max(hi)),
            });
        }
    }

    /// The observed `(min, max)`, `None` before any finite sample.
    ///
    /// ```
    /// let mut o = qkit::calib::observer::MinMaxObserver::new();
    /// o.observe(&[-2.0]);
    /// assert_eq!(o.min_max(), Some((-2.0, -2.0)));
    /// ```
    pub fn min_max(&self) -> Option<(f32, f32)> {
        self.range
    }

    /// `max(|min|, |max|)`, 0 before any sample.
    ///
    /// ```
    /// let mut o = qkit::calib::observer::MinMaxObserver::new();
    /// o.observe(&[-2.0, 1.0]);
    /// assert_eq!(o.amax(), 2.0);
    /// ```
    pub fn amax(&self) -> f32 {
        self.range.map_or(0.0, |(lo, hi)| (-lo).max(hi))
    }

    /// Non-finite samples skipped so far.
    ///
    /// ```
    /// let mut o = qkit::calib::observer::MinMaxObserver::new();
    /// o.observe(&[f32::NAN, f32::NAN]);
    /// assert_eq!(o.nonfinite(), 2);
    /// ```
    pub fn nonfinite(&self) -> u64 {
        self.nonfinite
    }

    /// The quantizer for threshold [`amax`](Self::amax) (see
    /// [`amax_quantizer`]: symmetric for signed types, `[0, amax]` for
    /// unsigned ones); scale 1, zero point 0 before any sample.
    ///
    /// ```
    /// use qkit::{calib::observer::MinMaxObserver, quant::CodeRange};
    /// let mut o = MinMaxObserver::new();
    /// o.observe(&[-2.0, 1.0]);
    /// assert_eq!(o.amax_quantizer::<i8>(CodeRange::Full)?.scale(), 2.0 / 127.5);
    /// assert_eq!(o.amax_quantizer::<i8>(CodeRange::Narrow)?.scale(), 2.0 / 127.0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn amax_quantizer<Q: QInt>(&self, range: CodeRange) -> Result<Quantizer<Q>, Error> {
        amax_quantizer::<Q>(self.amax(), range)
    }

    /// Affine quantizer over `Q`'s full code range from the observed range
    /// (see [`affine_params`]); `(1, 0)` before any sample.
    ///
    /// ```
    /// let mut o = qkit::calib::observer::MinMaxObserver::new();
    /// o.observe(&[-1.0, 2.0]);
    /// let q = o.affine_quantizer::<i8>()?;
    /// assert_eq!((q.scale(), q.zero_point()), (3.0 / 255.0, -43));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn affine_quantizer<Q: QInt>(&self) -> Result<Quantizer<Q>, Error> {
        affine_quantizer_from(self.range)
    }
}

fn affine_quantizer_from<Q: QInt>(range: Option<(f32, f32)>) -> Result<Quantizer<Q>, Error> {
    let (s, zp) = match range {
        None => (1.0, 0i32.clamp(Q::MIN, Q::MAX)),
        Some((lo, hi)) => affine_params(lo, hi, Q::MIN, Q::MAX)?,
    };
    Quantizer::<Q>::new(s, zp)
}

/// Moving-average min/max (PyTorch `MovingAverageMinMaxObserver`): the first
/// batch sets the range, later ones move it by `c·(batch - current)` with
/// `c = 0.01` by default.
///
/// ```
/// use qkit::calib::observer::MovingAverageMinMaxObserver;
/// // Batch maxima 1, 2, 3 with c = 0.01: 1, then 1 + 0.01·(2 - 1), then + 0.01·(3 - 1.01).
/// let mut o = MovingAverageMinMaxObserver::new();
/// for m in [1.0, 2.0, 3.0] {
///     o.observe(&[0.0, m]);
/// }
/// assert!((o.min_max().unwrap().1 - 1.0299).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MovingAverageMinMaxObserver {
    c: f32,
    range: Option<(f32, f32)>,
    nonfinite: u64,
}

impl Default for MovingAverageMinMaxObserver {
    fn default() -> Self {
        Self::new()
    }
}

impl MovingAverageMinMaxObserver {
    /// PyTorch's averaging constant, 0.01.
    ///
    /// ```
    /// assert_eq!(qkit::calib::observer::MovingAverageMinMaxObserver::DEFAULT_CONSTANT, 0.01);
    /// ```
    pub const DEFAULT_CONSTANT: f32 = 0.01;

    /// An observer with `c = 0.01`.
    ///
    /// ```
    /// let o = qkit::calib::observer::MovingAverageMinMaxObserver::new();
    /// assert_eq!(o.constant(), 0.01);
    /// ```
    pub fn new() -> Self {
        Self {
            c: Self::DEFAULT_CONSTANT,
            range: None,
            nonfinite: 0,
        }
    }

    /// An observer with averaging constant `c` in `(0, 1]` (TF's decay 0.999
    /// is `c = 0.001`, but TF also starts from an initial range instead of
    /// the first batch). `Err(InvalidParameter)` otherwise.
    ///
    /// ```
    /// use qkit::calib::observer::MovingAverageMinMaxObserver;
    /// assert!(MovingAverageMinMaxObserver::with_constant(0.0).is_err());
    /// assert_eq!(MovingAverageMinMaxObserver::with_constant(0.5)?.constant(), 0.5);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_constant(c: f32) -> Result<Self, Error> {
        if !(c > 0.0 && c <= 1.0) {
            return Err(Error::InvalidParameter(
                "averaging constant must lie in (0, 1]",
            ));
        }
        Ok(Self { c, ..Self::new() })
    }

    /// The averaging constant.
    ///
    /// ```
    /// assert_eq!(qkit::calib::observer::MovingAverageMinMaxObserver::default().constant(), 0.01);
    /// ```
    pub fn constant(&self) -> f32 {
        self.c
    }

    /// Folds a batch in (finite samples only; a batch with none is ignored).
    ///
    /// Each bound moves as PyTorch computes it, `a + c·(b - a)` in `f32`;
    /// where that overflows (finite bounds more than `f32::MAX` apart, such
    /// as `±3e38`) the same convex combination is computed in `f64` and
    /// rounded once, so the range stays finite and between the old and the
    /// batch bounds.
    ///
    /// ```
    /// let mut o = qkit::calib::observer::MovingAverageMinMaxObserver::new();
    /// o.observe(&[-1.0, 1.0]);
    /// o.observe(&[-101.0, 101.0, f32::NAN]);
    /// assert_eq!(o.min_max(), Some((-2.0, 2.0)));
    /// assert_eq!(o.nonfinite(), 1);
    /// o.observe(&[3e38]);
    /// o.observe(&[-3e38]);
    /// let (lo, hi) = o.min_max().unwrap();
    /// assert!(lo.is_finite() && hi.is_finite() && lo <= hi);
    /// ```
    pub fn observe(&mut self, xs: &[f32]) {
        let (b, bad) = batch_min_max(xs);
        self.nonfinite = self.nonfinite.saturating_add(bad);
        if let Some((lo, hi)) = b {
            self.range = Some(match self.range {
                None => (lo, hi),
                Some((a, z)) => (self.toward(a, lo), self.toward(z, hi)),
            });
        }
    }

    /// `a + c·(b - a)`: PyTorch's `f32` expression, or the same in `f64`
    /// where `b - a` overflows `f32` (both finite, so the `f64` value lies
    /// between them and rounds to a finite `f32`).
    fn toward(&self, a: f32, b: f32) -> f32 {
        let v = a + self.c * (b - a);
        if v.is_finite() {
            v
        } else {
            (a as f64 + self.c as f64 * (b as f64 - a as f64)) as f32
        }
    }

    /// The averaged `(min, max)`, `None` before any finite sample.
    ///
    /// ```
    /// let o = qkit::calib::observer::MovingAverageMinMaxObserver::new();
    /// assert_eq!(o.min_max(), None);
    /// ```
    pub fn min_max(&self) -> Option<(f32, f32)> {
        self.range
    }

    /// Non-finite samples skipped so far.
    ///
    /// ```
    /// let mut o = qkit::calib::observer::MovingAverageMinMaxObserver::new();
    /// o.observe(&[f32::NEG_INFINITY]);
    /// assert_eq!(o.nonfinite(), 1);
    /// ```
    pub fn nonfinite(&self) -> u64 {
        self.nonfinite
    }

    /// Affine quantizer over `Q`'s code range (see [`affine_params`]).
    ///
    /// ```
    /// let o = qkit::calib::observer::MovingAverageMinMaxObserver::new();
    /// let q = o.affine_quantizer::<u8>()?; // uncalibrated
    /// assert_eq!((q.scale(), q.zero_point()), (1.0, 0));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn affine_quantizer<Q: QInt>(&self) -> Result<Quantizer<Q>, Error> {
        affine_quantizer_from(self.range)
    }
}

/// Per-channel running min/max for up to `C` channels (fixed capacity, no
/// heap). Data is channel-major (axis 0): with `channels` channels, channel
/// `c` is `data[c·len .. (c+1)·len]`, `len = data.len() / channels`.
///
/// ```
/// use qkit::calib::observer::PerChannelMinMaxObserver;
/// let mut o = PerChannelMinMaxObserver::<4>::new();
/// o.observe(&[1.0, -2.0, 0.0, 0.0, 0.5, 3.0], 3)?;
/// assert_eq!(o.channels(), 3);
/// assert_eq!(o.amax(0)?, 2.0);
/// assert_eq!(o.amax(1)?, 0.0); // a pruned channel
/// assert_eq!(o.amax(2)?, 3.0);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PerChannelMinMaxObserver<const C: usize> {
    /// `(min, max)` per channel seen; empty before the first batch. A
    /// `heapless::Vec` says exactly what the table is: at most `C` entries,
    /// as many as the data has channels, no heap.
    ranges: heapless::Vec<(f32, f32), C>,
    nonfinite: u64,
}

impl<const C: usize> Default for PerChannelMinMaxObserver<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const C: usize> PerChannelMinMaxObserver<C> {
    /// An observer that has seen nothing.
    ///
    /// ```
    /// assert_eq!(qkit::calib::observer::PerChannelMinMaxObserver::<8>::new().channels(), 0);
    /// ```
    pub fn new() -> Self {
        Self {
            ranges: heapless::Vec::new(),
            nonfinite: 0,
        }
    }

    /// Folds a channel-major batch in. Errors: `InvalidParameter` for
    /// `channels == 0`; `CapacityExceeded` for `channels > C`;
    /// `ChannelCountMismatch` when the channel count differs from an earlier
    /// batch; `LengthMismatch` when `data.len()` is not a multiple of
    /// `channels`.
    ///
    /// ```
    /// use qkit::{calib::observer::PerChannelMinMaxObserver, Error};
    /// let mut o = PerChannelMinMaxObserver::<4>::new();
    /// assert!(matches!(o.observe(&[1.0; 10], 5), Err(Error::CapacityExceeded { .. })));
    /// assert!(matches!(o.observe(&[1.0; 5], 2), Err(Error::LengthMismatch { .. })));
    /// o.observe(&[1.0; 4], 2)?;
    /// assert_eq!(
    ///     o.observe(&[1.0; 6], 3),
    ///     Err(Error::ChannelCountMismatch { expected: 2, found: 3 })
    /// );
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn observe(&mut self, data: &[f32], channels: usize) -> Result<(), Error> {
        if channels == 0 {
            return Err(Error::InvalidParameter("channels must be > 0"));
        }
        if channels > C {
            return Err(Error::CapacityExceeded {
                needed: channels,
                capacity: C,
            });
        }
        if !self.ranges.is_empty() && self.ranges.len() != channels {
            return Err(Error::ChannelCountMismatch {
                expected: self.ranges.len(),
                found: channels,
            });
        }
        if !data.len().is_multiple_of(channels) {
            return Err(Error::LengthMismatch {
                expected: data.len() / channels * channels,
                found: data.len(),
            });
        }
        if self.ranges.is_empty() {
            // Cannot fail: channels <= C was checked above.
            let _ = self
                .ranges
                .resize(channels, (f32::INFINITY, f32::NEG_INFINITY));
        }
        let len = data.len() / channels;
        if len == 0 {
            return Ok(());
        }
        for (range, chunk) in self.ranges.iter_mut().zip(data.chunks_exact(len)) {
            let (b, bad) = batch_min_max(chunk);
            self.nonfinite = self.nonfinite.saturating_add(bad);
            if let Some((lo, hi)) = b {
                *range = (range.0.min(lo), range.1.max(hi));
            }
        }
        Ok(())
    }

    /// Number of channels seen (0 before the first batch).
    ///
    /// ```
    /// let mut o = qkit::calib::observer::PerChannelMinMaxObserver::<8>::new();
    /// o.observe(&[0.0; 10], 5)?;
    /// assert_eq!(o.channels(), 5);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn channels(&self) -> usize {
        self.ranges.len()
    }

    /// `(min, max)` of channel `c`, `None` if it has no finite sample.
    /// `Err(IndexOutOfBounds)` for `c >= channels()`.
    ///
    /// ```
    /// use qkit::{calib::observer::PerChannelMinMaxObserver, Error};
    /// let mut o = PerChannelMinMaxObserver::<2>::new();
    /// assert_eq!(o.min_max(0), Err(Error::IndexOutOfBounds { index: 0, len: 0 }));
    /// o.observe(&[1.0, f32::NAN], 2)?;
    /// assert_eq!(o.min_max(0)?, Some((1.0, 1.0)));
    /// assert_eq!(o.min_max(1)?, None);
    /// assert!(o.min_max(2).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn min_max(&self, c: usize) -> Result<Option<(f32, f32)>, Error> {
        let Some(&(lo, hi)) = self.ranges.get(c) else {
            return Err(Error::IndexOutOfBounds {
                index: c,
                len: self.ranges.len(),
            });
        };
        Ok((lo <= hi).then_some((lo, hi)))
    }

    /// `max |x|` of channel `c` (0 if it has no finite sample).
    ///
    /// ```
    /// let mut o = qkit::calib::observer::PerChannelMinMaxObserver::<2>::new();
    /// o.observe(&[-4.0, 1.0], 2)?;
    /// assert_eq!(o.amax(0)?, 4.0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn amax(&self, c: usize) -> Result<f32, Error> {
        Ok(self.min_max(c)?.map_or(0.0, |(lo, hi)| (-lo).max(hi)))
    }

    /// Non-finite samples skipped so far.
    ///
    /// ```
    /// let mut o = qkit::calib::observer::PerChannelMinMaxObserver::<2>::new();
    /// o.observe(&[f32::NAN, 1.0], 1)?;
    /// assert_eq!(o.nonfinite(), 1);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn nonfinite(&self) -> u64 {
        self.nonfinite
    }

    /// Symmetric per-channel scales, [`symmetric_scale`](super::symmetric_scale)`(amax_c, qmax, range)`
    /// (`amax_c / qmax` when narrow), into `out`; an all-zero
    /// channel gets scale 1 (the zero rule). `Err(LengthMismatch)` unless
    /// `out.len() == channels()`.
    ///
    /// ```
    /// use qkit::{calib::observer::PerChannelMinMaxObserver, quant::CodeRange};
    /// let mut o = PerChannelMinMaxObserver::<2>::new();
    /// o.observe(&[-1.27, 0.0], 2)?;
    /// let mut s = [0.0; 2];
    /// o.symmetric_scales(127, CodeRange::Narrow, &mut s)?;
    /// assert_eq!(s, [0.01, 1.0]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn symmetric_scales(
        &self,
        qmax: u32,
        range: CodeRange,
        out: &mut [f32],
    ) -> Result<(), Error> {
        if out.len() != self.ranges.len() {
            return Err(Error::LengthMismatch {
                expected: self.ranges.len(),
                found: out.len(),
            });
        }
        for (c, o) in out.iter_mut().enumerate() {
            *o = super::symmetric_scale(self.amax(c)?, qmax, range)?;
        }
        Ok(())
    }
}

// Observers from stored parts, for src/integrations/serde.rs (which checks
// what `observe` maintains before calling these).
#[cfg(feature = "serde")]
impl MinMaxObserver {
    pub(crate) fn from_parts(range: Option<(f32, f32)>, nonfinite: u64) -> Self {
        Self { range, nonfinite }
    }
}

#[cfg(feature = "serde")]
impl MovingAverageMinMaxObserver {
    /// `self` with its state replaced (the constant comes from `with_constant`).
    pub(crate) fn with_parts(self, range: Option<(f32, f32)>, nonfinite: u64) -> Self {
        Self {
            range,
            nonfinite,
            ..self
        }
    }
}

#[cfg(feature = "serde")]
impl<const C: usize> PerChannelMinMaxObserver<C> {
    pub(crate) fn from_parts(ranges: heapless::Vec<(f32, f32), C>, nonfinite: u64) -> Self {
        Self { ranges, nonfinite }
    }
}
