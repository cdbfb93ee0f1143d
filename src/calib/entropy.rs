//! TensorRT's KL-entropy threshold search (Migacz, "8-bit Inference with
//! TensorRT", GTC 2017), in one canonical form with every choice explicit
//! ([`EntropyOptions::CANONICAL`]) and with the options that reproduce
//! pytorch-quantization's `HistogramCalibrator` and the slide.
//!
//! For each candidate `i` (bins kept), the reference distribution `P` is
//! `h[0..i]` with the clipped mass `Σ h[i..]` folded into `P[i-1]`; `Q`
//! merges `h[0..i]` into `L` levels and spreads each level's mass evenly over
//! its non-empty bins. The candidate with the smallest `KL(P‖Q)` wins.
//!
//! **Known weakness (kept on purpose, pinned by a test).** When the first
//! non-empty bin `k` sits at index `>= L - 1` (data far from zero: bimodal or
//! offset distributions), candidate `i = k + 1` folds all the mass into one
//! bin, `P` and `Q` are the same single spike, `KL = 0` exactly, and it wins:
//! the threshold `(k + 1.5)·w` clips everything into one level. TensorRT's
//! slide algorithm does the same. For such data use percentile or MSE
//! calibration, or set [`EntropyOptions::min_levels`].

use crate::Error;

use super::{Counts, check_width, nonempty, to_f32};

/// The largest candidate tried.
///
/// ```
/// use qkit::calib::{EntropyOptions, Upper};
/// assert_eq!(EntropyOptions::CANONICAL.upper, Upper::N);
/// assert_eq!(EntropyOptions::SLIDE.upper, Upper::NMinus1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Upper {
    /// `i = N` (no clipping) is a candidate (canonical, pytorch-quantization).
    N,
    /// Stop at `N - 1`, as the slide's `range(128, 2048)`.
    NMinus1,
}

/// What happens to bin 0 before the search.
///
/// ```
/// use qkit::calib::{EntropyOptions, ZeroBin};
/// assert_eq!(EntropyOptions::PYTORCH_QUANTIZATION.zero_bin, ZeroBin::CopyNext);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ZeroBin {
    /// Bin 0 as counted (canonical, slide).
    Keep,
    /// `bin[0] := bin[1]` (pytorch-quantization). This is what makes
    /// post-ReLU tensors, with half their samples exactly 0, calibrate
    /// sensibly: on 100 000 samples of ReLU(N(0, 1)) (`max` 4.73) the
    /// threshold is 4.09 with it and 1.77 without.
    CopyNext,
}

/// How the `i` kept bins merge into `L` levels.
///
/// ```
/// use qkit::calib::{EntropyOptions, Merge};
/// assert_eq!(EntropyOptions::CANONICAL.merge, Merge::Remainder);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Merge {
    /// `m = i / L` bins per level; the last level also takes the remainder
    /// `[(L-1)·m, i)` (canonical; MXNet, TVM).
    Remainder,
    /// Bin `k` goes to level `floor(k·L / i)` (pytorch-quantization's
    /// `digitize(k, linspace(0, i, L+1)) - 1`, exact for power-of-two `L`):
    /// the extra bins are spread over the levels.
    Proportional,
}

/// Which candidate wins when two KL values are equal.
///
/// ```
/// use qkit::calib::{EntropyOptions, Ties};
/// assert_eq!(EntropyOptions::PYTORCH_QUANTIZATION.ties, Ties::Last);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Ties {
    /// The smallest `i` (canonical; strict `<`).
    First,
    /// The largest `i` (pytorch-quantization).
    Last,
}

/// How the winning `i` becomes a threshold.
///
/// ```
/// use qkit::calib::{EntropyOptions, ThresholdRule};
/// assert_eq!(EntropyOptions::CANONICAL.threshold, ThresholdRule::Center);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ThresholdRule {
    /// `min((i + 0.5)·w, N·w)` (the slide's formula, capped).
    Center,
    /// `i·w`, the left edge of bin `i` (pytorch-quantization).
    LeftEdge,
}

/// Options of [`entropy_search`]. Every choice that makes two "correct"
/// implementations of the search disagree (the largest candidate, bin 0,
/// the merge of bins into levels, ties, the threshold formula) is explicit:
/// on heavy-tailed data the KL curve is flat and each of them moves the
/// answer by 5-30 %.
///
/// ```
/// use qkit::calib::{entropy_search, EntropyOptions};
/// // A hand-checkable 16-bin histogram, L = 4: canonical picks i = 11, pytorch-quantization i = 12.
/// let h = [40, 30, 22, 15, 11, 8, 5, 4, 3, 0, 2, 1, 0, 0, 1, 1];
/// assert_eq!(entropy_search(&h, 1.0, 4, &EntropyOptions::CANONICAL)?.bin, 11);
/// assert_eq!(entropy_search(&h, 1.0, 4, &EntropyOptions::PYTORCH_QUANTIZATION)?.bin, 12);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EntropyOptions {
    /// Largest candidate.
    pub upper: Upper,
    /// Bin 0 treatment.
    pub zero_bin: ZeroBin,
    /// Level merge rule.
    pub merge: Merge,
    /// Tie rule.
    pub ties: Ties,
    /// Threshold formula.
    pub threshold: ThresholdRule,
    /// Guard against the known weakness: a candidate whose `Q` has fewer
    /// non-empty levels than this is skipped. 0 or 1 means no guard
    /// (canonical).
    pub min_levels: usize,
}

impl EntropyOptions {
    /// qkit's canonical form of the slide's algorithm: `upper = N` (no
    /// clipping is a candidate), bin 0 kept, remainder to the last level,
    /// first minimum, `min((i + 0.5)·w, N·w)`, no guard.
    ///
    /// ```
    /// assert_eq!(qkit::calib::EntropyOptions::default(), qkit::calib::EntropyOptions::CANONICAL);
    /// ```
    pub const CANONICAL: Self = Self {
        upper: Upper::N,
        zero_bin: ZeroBin::Keep,
        merge: Merge::Remainder,
        ties: Ties::First,
        threshold: ThresholdRule::Center,
        min_levels: 0,
    };

    /// The GTC 2017 slide as written: canonical but candidates stop at `N - 1`.
    ///
    /// ```
    /// use qkit::calib::{entropy_search, EntropyOptions};
    /// // One repeated value: every candidate below N has KL = +inf; qkit falls back to max.
    /// let mut h = [0u32; 256];
    /// h[255] = 1000;
    /// let r = entropy_search(&h, 3.0 / 256.0, 128, &EntropyOptions::SLIDE)?;
    /// assert_eq!((r.threshold, r.kl), (3.0, f64::INFINITY));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub const SLIDE: Self = Self {
        upper: Upper::NMinus1,
        ..Self::CANONICAL
    };

    /// NVIDIA pytorch-quantization `_compute_amax_entropy`: `bin[0] := bin[1]`,
    /// proportional levels, last minimum, threshold `i·w`, candidates up to
    /// `N`. (Its candidates start at 128 whatever the bit width; qkit starts
    /// at `L`, which is the same for int8.) Where scipy would produce NaN
    /// (an all-zero `Q`) qkit skips the candidate instead.
    ///
    /// ```
    /// use qkit::calib::{EntropyOptions, Merge};
    /// assert_eq!(EntropyOptions::PYTORCH_QUANTIZATION.merge, Merge::Proportional);
    /// ```
    pub const PYTORCH_QUANTIZATION: Self = Self {
        upper: Upper::N,
        zero_bin: ZeroBin::CopyNext,
        merge: Merge::Proportional,
        ties: Ties::Last,
        threshold: ThresholdRule::LeftEdge,
        min_levels: 0,
    };
}

impl Default for EntropyOptions {
    fn default() -> Self {
        Self::CANONICAL
    }
}

/// The outcome of [`entropy_search`].
///
/// ```
/// use qkit::calib::{entropy_search, EntropyOptions};
/// let h = [40, 30, 22, 15, 11, 8, 5, 4, 3, 0, 2, 1, 0, 0, 1, 1];
/// let r = entropy_search(&h, 0.5, 4, &EntropyOptions::CANONICAL)?;
/// assert_eq!(r.threshold, 11.5 * 0.5);
/// assert!((r.kl - 0.015575).abs() < 1e-6);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EntropyResult {
    /// The threshold in real units (0 when the bin width is 0).
    pub threshold: f32,
    /// The winning candidate `i` (bins kept); `N` on the fallback.
    pub bin: usize,
    /// Its `KL(P‖Q)` (natural log); `+inf` when no candidate was finite and
    /// the search fell back to max calibration.
    pub kl: f64,
}

/// TensorRT entropy calibration, canonical mode ([`EntropyOptions::CANONICAL`]).
///
/// `hist[k]` counts `|x|` in `[k·w, (k+1)·w)` (the last bin also holds
/// `N·w`), `bin_width = w`, `levels = L` = `2^(b-1)`: 128 for int8, 8 for
/// int4. Returns the threshold in real units.
///
/// Rules: candidates `i = L ..= N` (`i = N`, no clipping, included);
/// `m = i / L` bins per level with the remainder in the last level; bin 0
/// kept; `KL = +inf` when mass is folded into an empty bin (never NaN);
/// first minimum wins; threshold `min((i + 0.5)·w, N·w)`; when no candidate
/// is finite, `N·w` (max calibration). `f64` accumulation, natural log.
///
/// Errors: `Empty` when every bin is 0 ("uncalibrated": scale 1, zero
/// point 0); `InvalidParameter` for `levels == 0`, `levels > N` or a
/// negative/non-finite `bin_width` or `N·bin_width > f32::MAX`. `bin_width == 0` (all samples 0) gives
/// threshold 0, the zero rule. See [`entropy_search`] for the other modes
/// and the known weakness on data far from zero.
///
/// ```
/// use qkit::calib::entropy_threshold;
/// // A hand-checkable 16-bin histogram, L = 4: i = 11 wins, threshold 11.5·w.
/// let h = [40, 30, 22, 15, 11, 8, 5, 4, 3, 0, 2, 1, 0, 0, 1, 1];
/// assert_eq!(entropy_threshold(&h, 0.25, 4)?, 11.5 * 0.25);
/// assert!(entropy_threshold(&[0; 16], 0.25, 4).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn entropy_threshold(hist: &[u32], bin_width: f32, levels: usize) -> Result<f32, Error> {
    entropy_search(hist, bin_width, levels, &EntropyOptions::CANONICAL).map(|r| r.threshold)
}

/// The KL-entropy search with explicit options; returns the threshold, the
/// winning candidate and its KL.
///
/// Same inputs and errors as [`entropy_threshold`]. With
/// [`Merge::Remainder`] the search costs one `ln` per non-empty bin of the
/// last level per candidate plus one per non-empty bin per distinct `m`
/// (the other `L - 1` levels only change when `m = i / L` does);
/// [`Merge::Proportional`] recomputes every level, one `ln` per non-empty
/// bin per candidate. No allocation.
///
/// ```
/// use qkit::calib::{entropy_search, EntropyOptions};
/// // The known weakness: data far from zero. All mass in bin 20 of 32 with
/// // L = 4: candidate i = 21 holds one spike, KL = 0, and it wins.
/// let mut h = [0u32; 32];
/// h[20] = 10;
/// h[31] = 10;
/// let r = entropy_search(&h, 1.0, 4, &EntropyOptions::CANONICAL)?;
/// assert_eq!((r.bin, r.kl, r.threshold), (21, 0.0, 21.5));
/// // The guard skips single-level candidates: now nothing is clipped.
/// let guarded = EntropyOptions { min_levels: 2, ..EntropyOptions::CANONICAL };
/// assert_eq!(entropy_search(&h, 1.0, 4, &guarded)?.threshold, 32.0);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn entropy_search(
    hist: &[u32],
    bin_width: f32,
    levels: usize,
    options: &EntropyOptions,
) -> Result<EntropyResult, Error> {
    check_width(hist.len(), bin_width)?;
    entropy_search_in(hist, bin_width as f64, levels, options)
}

/// [`entropy_search`] over counts whose width is already checked.
pub(crate) fn entropy_search_in(
    hist: impl Counts,
    w: f64,
    levels: usize,
    options: &EntropyOptions,
) -> Result<EntropyResult, Error> {
    let n_bins = hist.len();
    if levels == 0 {
        return Err(Error::InvalidParameter("levels must be > 0"));
    }
    if levels > n_bins {
        return Err(Error::InvalidParameter(
            "levels must not exceed the bin count",
        ));
    }
    nonempty(hist)?;
    if w == 0.0 {
        return Ok(EntropyResult {
            threshold: 0.0,
            bin: 0,
            kl: 0.0,
        });
    }
    let h = Bins {
        hist,
        copy_next: options.zero_bin == ZeroBin::CopyNext && n_bins > 1,
    };
    let fallback = EntropyResult {
        threshold: to_f32(n_bins as f64 * w),
        bin: n_bins,
        kl: f64::INFINITY,
    };
    let total: u64 = (0..n_bins).map(|k| h.get(k)).sum();
    if total == 0 {
        // Only bin 0 was non-empty and CopyNext emptied it.
        return Ok(fallback);
    }
    let last = match options.upper {
        Upper::N => n_bins,
        Upper::NMinus1 => n_bins - 1,
    };
    let mut search = Search {
        h,
        levels,
        total,
        min_levels: options.min_levels,
        cache_m: 0,
        cache_a: 0.0,
        cache_mass: 0,
        cache_nonempty: 0,
    };
    let mut best: Option<(usize, f64)> = None;
    // S = Σ_{k<i} h[k], kept incrementally.
    let mut in_range: u64 = (0..levels.min(n_bins)).map(|k| h.get(k)).sum();
    for i in levels..=last {
        if i > levels {
            in_range += h.get(i - 1);
        }
        if in_range == 0 {
            continue; // Q would be all zero: KL = +inf
        }
        let kl = match options.merge {
            Merge::Remainder => search.kl_remainder(i, in_range),
            Merge::Proportional => search.kl_proportional(i, in_range),
        };
        if !kl.is_finite() {
            continue;
        }
        let better = match best {
            None => true,
            Some((_, b)) => kl < b || (options.ties == Ties::Last && kl == b),
        };
        if better {
            best = Some((i, kl));
        }
    }
    let Some((i, kl)) = best else {
        return Ok(fallback);
    };
    let threshold = match options.threshold {
        ThresholdRule::Center => ((i as f64 + 0.5) * w).min(n_bins as f64 * w),
        ThresholdRule::LeftEdge => i as f64 * w,
    };
    Ok(EntropyResult {
        threshold: to_f32(threshold),
        bin: i,
        kl,
    })
}

/// `KL(P‖Q)` of the single candidate `i` (bins kept) under `options`
/// (natural log; `+inf` where mass is folded into an empty bin or `Q` is
/// all zero): one point of the curve [`entropy_search`] minimises.
/// `options.min_levels` is ignored.
///
/// Errors: as [`entropy_search`], plus `InvalidParameter` unless
/// `levels <= i <= N`.
///
/// ```
/// use qkit::calib::{entropy_kl, EntropyOptions};
/// // The slide's expansion example (8 bins into 2 levels): KL = 0.1503153.
/// let p = [1, 0, 2, 3, 5, 3, 1, 7];
/// let kl = entropy_kl(&p, 2, 8, &EntropyOptions::CANONICAL)?;
/// assert!((kl - 0.1503153).abs() < 1e-7);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn entropy_kl(
    hist: &[u32],
    levels: usize,
    i: usize,
    options: &EntropyOptions,
) -> Result<f64, Error> {
    if levels == 0 {
        return Err(Error::InvalidParameter("levels must be > 0"));
    }
    if i < levels || i > hist.len() {
        return Err(Error::InvalidParameter(
            "candidate must satisfy levels <= i <= N",
        ));
    }
    nonempty(hist)?;
    let h = Bins {
        hist,
        copy_next: options.zero_bin == ZeroBin::CopyNext && hist.len() > 1,
    };
    let total: u64 = (0..hist.len()).map(|k| h.get(k)).sum();
    let in_range: u64 = (0..i).map(|k| h.get(k)).sum();
    if in_range == 0 {
        return Ok(f64::INFINITY);
    }
    let mut search = Search {
        h,
        levels,
        total,
        min_levels: 0,
        cache_m: 0,
        cache_a: 0.0,
        cache_mass: 0,
        cache_nonempty: 0,
    };
    Ok(match options.merge {
        Merge::Remainder => search.kl_remainder(i, in_range),
        Merge::Proportional => search.kl_proportional(i, in_range),
    })
}

/// The histogram as the search sees it (bin 0 possibly replaced by bin 1).
#[derive(Clone, Copy)]
struct Bins<H> {
    hist: H,
    copy_next: bool,
}

impl<H: Counts> Bins<H> {
    #[inline]
    fn get(&self, k: usize) -> u64 {
        let k = if k == 0 && self.copy_next { 1 } else { k };
        self.hist.get(k) as u64
    }
}

/// Sum and count of non-empty bins over `[a, b)`.
#[inline]
fn level_stats<H: Counts>(h: Bins<H>, a: usize, b: usize) -> (u64, u64) {
    let (mut sum, mut n) = (0u64, 0u64);
    for k in a..b {
        let c = h.get(k);
        sum += c;
        n += (c != 0) as u64;
    }
    (sum, n)
}

struct Search<H> {
    h: Bins<H>,
    levels: usize,
    total: u64,
    min_levels: usize,
    /// `m` whose first `L - 1` levels are cached below (0 = none yet).
    cache_m: usize,
    /// `Σ p_k · ln(p_k · n / level_sum)` over the first `L - 1` levels
    /// (counts, not normalised).
    cache_a: f64,
    /// Mass in the first `L - 1` levels.
    cache_mass: u64,
    /// Non-empty levels among the first `L - 1`.
    cache_nonempty: usize,
}

impl<H: Counts> Search<H> {
    /// `T · KL` contribution of level `[a, b)` of candidate `i`, with the
    /// outliers folded into bin `i - 1`; `+inf` for mass over an empty bin.
    ///
    /// Each term is `p_k · ln(p_k·n·S / (T·Σ_level))`: numerator and
    /// denominator are exact integers rounded once, so a bin whose `Q`
    /// equals its `P` contributes exactly 0 and exact KL ties stay ties.
    fn level_term(&self, a: usize, b: usize, i: usize, in_range: u64) -> (f64, bool) {
        let (sum, n) = level_stats(self.h, a, b);
        let out = self.total - in_range;
        // n·S and T·Σ are exact integers below 2^53 for any histogram up to
        // 2^10 bins of full u32 counts (and far beyond for real counts);
        // each side is then rounded once, so P = Q still gives ln(1) = 0.
        let num = n as f64 * in_range as f64;
        let den = self.total as f64 * sum as f64;
        let mut acc = 0.0f64;
        for k in a..b {
            let c = self.h.get(k);
            let p = c + if k == i - 1 { out } else { 0 };
            if p == 0 {
                continue;
            }
            if c == 0 {
                return (f64::INFINITY, n != 0); // p > 0, q = 0
            }
            let p = p as f64;
            acc += p * libm::log(p * num / den);
        }
        (acc, n != 0)
    }

    fn kl_remainder(&mut self, i: usize, in_range: u64) -> f64 {
        let l = self.levels;
        let m = i / l;
        if m != self.cache_m {
            // Levels 0..L-1 depend on i only through S = in_range, and
            // ln(p·n·S/(T·Σ)) = ln(p·n/Σ) + ln(S/T): cache the first part.
            let (mut a_sum, mut mass, mut nonempty) = (0.0f64, 0u64, 0usize);
            for j in 0..l - 1 {
                let (sum, n) = level_stats(self.h, j * m, (j + 1) * m);
                if n == 0 {
                    continue;
                }
                nonempty += 1;
                mass += sum;
                for k in j * m..(j + 1) * m {
                    let c = self.h.get(k);
                    if c != 0 {
                        let c = c as f64;
                        a_sum += c * libm::log(c * n as f64 / sum as f64);
                    }
                }
            }
            self.cache_m = m;
            self.cache_a = a_sum;
            self.cache_mass = mass;
            self.cache_nonempty = nonempty;
        }
        let (last, last_nonempty) = self.level_term((l - 1) * m, i, i, in_range);
        if !last.is_finite() {
            return f64::INFINITY;
        }
        if self.cache_nonempty + (last_nonempty as usize) < self.min_levels {
            return f64::INFINITY;
        }
        let first = if self.cache_mass == 0 {
            0.0
        } else {
            self.cache_a + self.cache_mass as f64 * libm::log(in_range as f64 / self.total as f64)
        };
        (first + last) / self.total as f64
    }

    fn kl_proportional(&mut self, i: usize, in_range: u64) -> f64 {
        let l = self.levels;
        let (mut acc, mut nonempty) = (0.0f64, 0usize);
        for j in 0..l {
            // Bins k with floor(k·L / i) = j: [ceil(j·i/L), ceil((j+1)·i/L)).
            let a = (j * i).div_ceil(l);
            let b = ((j + 1) * i).div_ceil(l);
            let (t, ne) = self.level_term(a, b, i, in_range);
            if !t.is_finite() {
                return f64::INFINITY;
            }
            acc += t;
            nonempty += ne as usize;
        }
        if nonempty < self.min_levels {
            return f64::INFINITY;
        }
        acc / self.total as f64
    }
}
