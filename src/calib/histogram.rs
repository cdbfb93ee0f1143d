//! `Histogram<N>`: a fixed-size histogram of `|x|` or of signed `x` whose
//! range grows without losing counts.
//!
//! Bins follow numpy's `histogram` convention: `N` equal bins over
//! the range, `k = floor((v - lo) / w)`, and the value equal to the top of the
//! range goes into the last bin, so the sample that defines `amax` stays in
//! its own histogram.
//!
//! **Growing** (qkit's own scheme; PyTorch's `HistogramObserver` and
//! pytorch-quantization re-bin differently): the first non-zero
//! sample sets the range to `max |x|` of its batch. When a later sample lies
//! beyond the range, the range doubles and adjacent bin pairs merge
//! (`h'[k] = h[2k] + h[2k+1]` for `|x|`), until it fits. No allocation, and
//! exact except for one case: a sample equal to an earlier range's top edge
//! sat in that range's last bin and stays in the merged bin just below the
//! edge (a two-pass histogram puts it one bin higher). The result depends
//! on the batch order; a
//! two-pass histogram ([`Histogram::with_range`] with the global `max |x|`)
//! is the reference the tests use.

use crate::Error;

use super::entropy::{EntropyOptions, EntropyResult, entropy_search_in};
use super::mse::mse_in;
use super::percentile::percentile_in;
use super::{Counts, Folded};

/// Runs `$e` with `$h` bound to the `|x|` counts of `$self`: its bins, or a
/// signed histogram folded on the fly (no copy: no `[u32; N]` on the stack).
macro_rules! on_magnitude {
    ($self:ident, $h:ident => $e:expr) => {
        match $self.domain {
            Domain::Magnitude => {
                let $h: &[u32] = &$self.bins;
                $e
            }
            Domain::Signed => {
                let $h = Folded(&$self.bins);
                $e
            }
        }
    };
}

/// What a [`Histogram`] counts.
///
/// ```
/// use qkit::calib::{Domain, Histogram};
/// assert_eq!(Histogram::<64>::signed().domain(), Domain::Signed);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Domain {
    /// `|x|` over `[0, R]` (TensorRT, pytorch-quantization).
    Magnitude,
    /// `x` over `[-R, R]` (MXNet, TVM, ONNX Runtime); zero sits on the edge
    /// between bins `N/2 - 1` and `N/2`.
    Signed,
}

/// A histogram of `N` bins (2048 by default) fed in batches.
///
/// Non-finite samples are counted ([`nonfinite`](Self::nonfinite)) and
/// skipped; they never set the range. Counts saturate at `u32::MAX`. The
/// threshold methods work on the `|x|` histogram: a signed histogram is
/// first folded exactly into `N/2` bins ([`fold_magnitude`](Self::fold_magnitude)).
/// `N` must be a multiple of 4 (checked at compile time).
///
/// **Memory.** A `Histogram<N>` is `4·N + 40` bytes (8 KiB for the default
/// 2048 bins), held wherever you put it: a `static` (the constructors are
/// `const fn`, so a `static` costs no stack at all), a `Box`, or a stack
/// frame. [`magnitude`](Self::magnitude) and [`signed`](Self::signed) build
/// it in place, and the methods allocate nothing and make no temporary copy
/// of the bins (growing merges bins in place, a signed histogram is folded
/// on the fly), so beyond the value itself every method needs less than
/// 16 KiB of stack whatever `N` is, in debug builds too (tests/calib_stack.rs
/// runs every method of a `Histogram<65536>` in a thread whose stack is the
/// histogram's size plus 16 KiB). [`with_range`](Self::with_range) returns a
/// `Result`, which in unoptimized builds may hold a second copy while it is
/// moved.
///
/// ```
/// use qkit::calib::Histogram;
/// let mut h = Histogram::<8>::magnitude();
/// h.add(&[1.0, -2.0]);            // range [0, 2], width 0.25
/// assert_eq!(h.bin_width(), 0.25);
/// assert_eq!(h.bins(), &[0, 0, 0, 0, 1, 0, 0, 1]);
/// h.add(&[3.0]);                  // doubles to [0, 4]: pairs merge
/// assert_eq!(h.range(), 4.0);
/// assert_eq!(h.bins(), &[0, 0, 1, 1, 0, 0, 1, 0]);
/// assert_eq!(h.total(), 3);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram<const N: usize = 2048> {
    bins: [u32; N],
    domain: Domain,
    /// `R`: the bins cover `[0, R]` or `[-R, R]`; 0 until a non-zero sample.
    range: f64,
    total: u64,
    nonfinite: u64,
    min: f32,
    max: f32,
}

impl<const N: usize> Histogram<N> {
    const VALID: () = assert!(
        N >= 4 && N.is_multiple_of(4),
        "Histogram<N> needs N >= 4, N % 4 == 0"
    );

    // The zero bins are a constant: a constant operand is written straight
    // into the new histogram, where the expression `[0; N]` would first be
    // built in a stack temporary in debug builds (twice the size).
    const ZERO_BINS: [u32; N] = [0; N];

    const fn new(domain: Domain, range: f64) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::VALID;
        Self {
            bins: Self::ZERO_BINS,
            domain,
            range,
            total: 0,
            nonfinite: 0,
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
        }
    }

    /// An empty histogram of `|x|`. A `const fn`, so a large histogram can
    /// live in a `static` instead of on the stack.
    ///
    /// ```
    /// use qkit::calib::Histogram;
    /// let h = Histogram::<2048>::magnitude();
    /// assert_eq!((h.total(), h.range()), (0, 0.0));
    /// static EMPTY: Histogram<65536> = Histogram::magnitude(); // in .bss/.rodata
    /// assert_eq!(EMPTY.total(), 0);
    /// ```
    pub const fn magnitude() -> Self {
        Self::new(Domain::Magnitude, 0.0)
    }

    /// An empty histogram of signed `x` over a symmetric range `[-R, R]`.
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<4>::signed();
    /// h.add(&[-1.0, 0.0, 0.9]);
    /// assert_eq!(h.bins(), &[1, 0, 1, 1]);
    /// ```
    pub const fn signed() -> Self {
        Self::new(Domain::Signed, 0.0)
    }

    /// An empty histogram whose range is fixed up front (the two-pass
    /// reference: first pass `max |x|`, second pass counts). It still grows
    /// if a later sample exceeds `range`.
    ///
    /// `Err(InvalidParameter)` unless `range` is finite and `>= 0`.
    ///
    /// ```
    /// use qkit::calib::{Domain, Histogram};
    /// let mut h = Histogram::<2048>::with_range(Domain::Magnitude, 4.0)?;
    /// h.add(&[1.0]);
    /// assert_eq!(h.bin_width(), 4.0 / 2048.0);
    /// assert_eq!(h.bins()[512], 1);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn with_range(domain: Domain, range: f32) -> Result<Self, Error> {
        if !(range.is_finite() && range >= 0.0) {
            return Err(Error::InvalidParameter("range must be finite and >= 0"));
        }
        Ok(Self::new(domain, range as f64))
    }

    /// The range `R` as stored (`f64`: doubling can take it past `f32`),
    /// for src/integrations/.
    #[cfg(feature = "serde")]
    pub(crate) fn raw_range(&self) -> f64 {
        self.range
    }

    /// Sets every field but the bins from stored parts, for
    /// src/integrations/ (the serde integration fills the bins in place
    /// through [`bins_mut`](Self::bins_mut) and checks the invariants).
    #[cfg(feature = "serde")]
    pub(crate) fn set_raw_parts(
        &mut self,
        domain: Domain,
        range: f64,
        total: u64,
        nonfinite: u64,
        min_max: Option<(f32, f32)>,
    ) {
        let (min, max) = min_max.unwrap_or((f32::INFINITY, f32::NEG_INFINITY));
        (self.domain, self.range, self.total, self.nonfinite) = (domain, range, total, nonfinite);
        (self.min, self.max) = (min, max);
    }

    /// The bins, writable, for src/integrations/.
    #[cfg(feature = "serde")]
    pub(crate) fn bins_mut(&mut self) -> &mut [u32; N] {
        &mut self.bins
    }

    /// What this histogram counts.
    ///
    /// ```
    /// use qkit::calib::{Domain, Histogram};
    /// assert_eq!(Histogram::<8>::magnitude().domain(), Domain::Magnitude);
    /// ```
    pub fn domain(&self) -> Domain {
        self.domain
    }

    /// The bin counts.
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<4>::magnitude();
    /// h.add(&[4.0, 1.0]);
    /// assert_eq!(h.bins(), &[0, 1, 0, 1]); // 4.0 = top of the range: last bin
    /// ```
    pub fn bins(&self) -> &[u32; N] {
        &self.bins
    }

    /// `R`: the bins cover `[0, R]` (magnitude) or `[-R, R]` (signed).
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<4>::magnitude();
    /// h.add(&[-3.0]);
    /// assert_eq!(h.range(), 3.0);
    /// ```
    pub fn range(&self) -> f32 {
        self.range as f32
    }

    /// Width of one bin: `R / N` (magnitude) or `2R / N` (signed); 0 while
    /// every sample has been 0.
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<4>::signed();
    /// h.add(&[2.0]);
    /// assert_eq!(h.bin_width(), 1.0);
    /// ```
    pub fn bin_width(&self) -> f32 {
        self.width() as f32
    }

    fn width(&self) -> f64 {
        match self.domain {
            Domain::Magnitude => self.range / N as f64,
            Domain::Signed => 2.0 * self.range / N as f64,
        }
    }

    /// Finite samples counted.
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<4>::magnitude();
    /// h.add(&[1.0, f32::INFINITY, 2.0]);
    /// assert_eq!(h.total(), 2);
    /// ```
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Non-finite samples (NaN, ±inf) seen and skipped.
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<4>::magnitude();
    /// h.add(&[f32::NAN, f32::NEG_INFINITY, 1.0]);
    /// assert_eq!(h.nonfinite(), 2);
    /// ```
    pub fn nonfinite(&self) -> u64 {
        self.nonfinite
    }

    /// The exact smallest and largest finite sample, `None` before any.
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<4>::magnitude();
    /// assert_eq!(h.min_max(), None);
    /// h.add(&[-2.0, 0.5]);
    /// assert_eq!(h.min_max(), Some((-2.0, 0.5)));
    /// ```
    pub fn min_max(&self) -> Option<(f32, f32)> {
        (self.total > 0).then_some((self.min, self.max))
    }

    /// The exact `max |x|` over the finite samples (0 before any).
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<4>::magnitude();
    /// h.add(&[-2.5, 0.5]);
    /// assert_eq!(h.amax(), 2.5);
    /// ```
    pub fn amax(&self) -> f32 {
        match self.min_max() {
            Some((lo, hi)) => (-lo).max(hi),
            None => 0.0,
        }
    }

    /// Adds a batch. Non-finite samples are counted and skipped; the range
    /// grows (merging bin pairs) to hold the batch's largest `|x|`.
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<2048>::magnitude();
    /// h.add(&[0.0; 10]);
    /// assert_eq!((h.total(), h.bin_width()), (10, 0.0)); // all zero so far
    /// h.add(&[1.0]);
    /// assert_eq!(h.bins()[0], 10);
    /// assert_eq!(h.bins()[2047], 1);
    /// ```
    pub fn add(&mut self, xs: &[f32]) {
        let mut batch_amax = 0.0f32;
        for &x in xs {
            if x.is_finite() {
                batch_amax = batch_amax.max(x.abs());
            }
        }
        self.grow_to(batch_amax as f64);
        let w = self.width();
        for &x in xs {
            if !x.is_finite() {
                self.nonfinite = self.nonfinite.saturating_add(1);
                continue;
            }
            self.min = self.min.min(x);
            self.max = self.max.max(x);
            self.total = self.total.saturating_add(1);
            let k = self.index(x as f64, w);
            self.bins[k] = self.bins[k].saturating_add(1);
        }
    }

    /// Bin index of a finite value inside the range (numpy's rule: the top
    /// edge goes into the last bin).
    fn index(&self, x: f64, w: f64) -> usize {
        let (v, zero_bin) = match self.domain {
            Domain::Magnitude => (x.abs(), 0usize),
            Domain::Signed => (x + self.range, N / 2),
        };
        if w == 0.0 {
            return zero_bin;
        }
        // `as usize` floors non-negative values and saturates; the min keeps
        // the top edge (and any rounding just below it) in the last bin.
        ((v / w) as usize).min(N - 1)
    }

    /// Grows the range until it holds `m` (`<= f32::MAX`), merging adjacent
    /// bin pairs. The range never passes `f32::MAX`: the doubling that would
    /// stops there instead, and each bin's count moves to the bin holding its
    /// centre (as [`merge`](Self::merge) does for unrelated ranges).
    fn grow_to(&mut self, m: f64) {
        if m <= self.range {
            return;
        }
        if self.range == 0.0 {
            // Only zeros so far: they sit in the zero bin whatever the range.
            self.range = m;
            return;
        }
        let mut merges = 0u32;
        while self.range < m {
            let doubled = self.range * 2.0;
            if doubled > f32::MAX as f64 {
                self.rebin(f32::MAX as f64);
                return;
            }
            // After log2(N) + 1 merges everything sits in the zero bin(s) and
            // further merges change nothing: only the range moves.
            if merges <= N.trailing_zeros() + 1 {
                self.merge_pairs();
                merges += 1;
            }
            self.range = doubled;
        }
    }

    /// One doubling of the range: adjacent pairs merge into the new bins, in
    /// place (no temporary array: a `Histogram<65536>` must fit a small stack).
    fn merge_pairs(&mut self) {
        let b = &mut self.bins;
        let pair = |b: &[u32; N], k: usize| b[2 * k].saturating_add(b[2 * k + 1]);
        match self.domain {
            Domain::Magnitude => {
                // New bin k reads old bins 2k, 2k + 1 >= k: ascending is safe.
                for k in 0..N / 2 {
                    b[k] = pair(b, k);
                }
                b[N / 2..].fill(0);
            }
            Domain::Signed => {
                // Old [-R, R] becomes the middle half of new [-2R, 2R]: old
                // bins 2j, 2j+1 land in new bin N/4 + j. Below zero the target
                // lies above its sources (descending is safe), above zero
                // below them (ascending is safe).
                for j in (0..N / 4).rev() {
                    b[N / 4 + j] = pair(b, j);
                }
                for j in N / 4..N / 2 {
                    b[N / 4 + j] = pair(b, j);
                }
                b[..N / 4].fill(0);
                b[3 * N / 4..].fill(0);
            }
        }
    }

    /// Moves every bin's count to the bin of range `new_range` (`>= range`)
    /// that holds its centre, in place: each bin moves toward zero, so the
    /// bins are visited from zero outwards.
    fn rebin(&mut self, new_range: f64) {
        let (old_range, old_width) = (self.range, self.width());
        self.range = new_range;
        let width = self.width();
        let move_bin = |h: &mut Self, k: usize| {
            let c = h.bins[k];
            if c == 0 {
                return;
            }
            let centre = match h.domain {
                Domain::Magnitude => (k as f64 + 0.5) * old_width,
                Domain::Signed => -old_range + (k as f64 + 0.5) * old_width,
            };
            let j = h.index(centre, width);
            h.bins[k] = 0;
            h.bins[j] = h.bins[j].saturating_add(c);
        };
        match self.domain {
            Domain::Magnitude => (0..N).for_each(|k| move_bin(self, k)),
            Domain::Signed => {
                (0..N / 2).rev().for_each(|k| move_bin(self, k));
                (N / 2..N).for_each(|k| move_bin(self, k));
            }
        }
    }

    /// Adds another histogram's counts.
    ///
    /// The range grows (by doubling) to cover the other's; each of the
    /// other's bins is then added to the bin holding its centre. This is
    /// exact when one range is a power-of-two multiple of the other (for
    /// example two histograms grown from the same start), otherwise each
    /// bin's counts move by less than one bin. `Err(InvalidParameter)` for
    /// different domains.
    ///
    /// ```
    /// use qkit::calib::Histogram;
    /// let (mut a, mut b) = (Histogram::<4>::magnitude(), Histogram::<4>::magnitude());
    /// a.add(&[1.0, 2.0]);
    /// b.add(&[4.0, 0.1, f32::NAN]);
    /// a.merge(&b)?;
    /// assert_eq!(a.bins(), &[1, 2, 0, 1]); // a's bins merged pairwise, b's added by centre
    /// assert_eq!((a.total(), a.nonfinite(), a.amax()), (4, 1, 4.0));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn merge(&mut self, other: &Self) -> Result<(), Error> {
        if self.domain != other.domain {
            return Err(Error::InvalidParameter("histograms of different domains"));
        }
        self.grow_to(other.range);
        let w = self.width();
        let wo = other.width();
        for (k, &c) in other.bins.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let centre = match other.domain {
                Domain::Magnitude => (k as f64 + 0.5) * wo,
                Domain::Signed => -other.range + (k as f64 + 0.5) * wo,
            };
            let j = self.index(centre, w);
            self.bins[j] = self.bins[j].saturating_add(c);
        }
        self.total = self.total.saturating_add(other.total);
        self.nonfinite = self.nonfinite.saturating_add(other.nonfinite);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        Ok(())
    }

    /// The `|x|` histogram of this one into `out`; returns its bin width.
    ///
    /// Magnitude: a copy (`out.len() == N`). Signed: bins mirrored about
    /// zero fold exactly into `N/2` bins of the same width
    /// (`out[j] = h[N/2 + j] + h[N/2 - 1 - j]`, `out.len() == N/2`).
    /// `Err(LengthMismatch)` for any other length.
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<8>::signed();
    /// h.add(&[-4.0, -0.5, 0.5, 3.0]);
    /// let mut m = [0u32; 4];
    /// assert_eq!(h.fold_magnitude(&mut m)?, 1.0);
    /// assert_eq!(m, [2, 0, 0, 2]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn fold_magnitude(&self, out: &mut [u32]) -> Result<f32, Error> {
        let expected = match self.domain {
            Domain::Magnitude => N,
            Domain::Signed => N / 2,
        };
        if out.len() != expected {
            return Err(Error::LengthMismatch {
                expected,
                found: out.len(),
            });
        }
        on_magnitude!(self, h => {
            for (j, o) in out.iter_mut().enumerate() {
                *o = Counts::get(&h, j);
            }
        });
        Ok(self.bin_width())
    }

    /// Max calibration: the exact `max |x|`, no clipping. `Err(Empty)` before any
    /// finite sample; 0 when every sample was 0.
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<8>::magnitude();
    /// assert!(h.max_threshold().is_err());
    /// h.add(&[0.25, -3.0]);
    /// assert_eq!(h.max_threshold()?, 3.0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn max_threshold(&self) -> Result<f32, Error> {
        if self.total == 0 {
            return Err(Error::Empty);
        }
        Ok(self.amax())
    }

    /// [`percentile_threshold`](super::percentile_threshold) on the `|x|`
    /// histogram, capped at [`amax`](Self::amax); `pct == 100` gives `amax`.
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<8>::magnitude();
    /// h.add(&[0.5, 1.5, 2.5, 8.0]);                     // width 1
    /// assert_eq!(h.percentile_threshold(50.0)?, 1.0);  // left edge of 1.5's bin
    /// assert_eq!(h.percentile_threshold(100.0)?, 8.0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn percentile_threshold(&self, pct: f64) -> Result<f32, Error> {
        let (amax, w) = (self.amax(), self.bin_width() as f64);
        on_magnitude!(self, h => percentile_in(h, w, pct))
            .map(|t| if pct == 100.0 { amax } else { t.min(amax) })
    }

    /// [`mse_threshold`](super::mse_threshold) on the `|x|` histogram,
    /// capped at [`amax`](Self::amax).
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<64>::magnitude();
    /// h.add(&[0.1, 0.2, 0.3, 0.4, 4.0]);
    /// let t = h.mse_threshold(127)?;
    /// assert!(t > 0.0 && t <= 4.0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn mse_threshold(&self, qmax: u32) -> Result<f32, Error> {
        let (amax, w) = (self.amax(), self.bin_width() as f64);
        on_magnitude!(self, h => mse_in(h, w, qmax)).map(|t| t.min(amax))
    }

    /// Canonical [`entropy_threshold`](super::entropy_threshold) on the
    /// `|x|` histogram, capped at [`amax`](Self::amax).
    ///
    /// ```
    /// let mut h = qkit::calib::Histogram::<2048>::magnitude();
    /// h.add(&[3.0; 1000]); // one repeated value: every clipping candidate has KL = +inf
    ///                      // (its mass folds into an empty bin); no clipping has KL 0
    /// assert_eq!(h.entropy_threshold(128)?, 3.0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn entropy_threshold(&self, levels: usize) -> Result<f32, Error> {
        self.entropy_search(levels, &EntropyOptions::CANONICAL)
            .map(|r| r.threshold)
    }

    /// [`entropy_search`](super::entropy_search) on the `|x|` histogram with
    /// explicit options; the threshold is capped at [`amax`](Self::amax).
    ///
    /// ```
    /// use qkit::calib::{EntropyOptions, Histogram};
    /// let mut h = Histogram::<2048>::magnitude();
    /// let mut xs = [1.0f32; 1000];
    /// xs[500..].fill(2.0);               // one batch: 1.0 lands in bin 1024
    /// h.add(&xs);
    /// let r = h.entropy_search(128, &EntropyOptions::CANONICAL)?;
    /// assert_eq!(r.bin, 1025);            // first of the exact KL = 0 ties
    /// assert_eq!(r.kl, 0.0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn entropy_search(
        &self,
        levels: usize,
        options: &EntropyOptions,
    ) -> Result<EntropyResult, Error> {
        let (amax, w) = (self.amax(), self.bin_width() as f64);
        on_magnitude!(self, h => entropy_search_in(h, w, levels, options)).map(|mut r| {
            r.threshold = r.threshold.min(amax);
            r
        })
    }
}
