//! Max and percentile calibration from a histogram (pytorch-quantization's
//! `MaxCalibrator` and `HistogramCalibrator` with `method="percentile"`).

use crate::Error;

use super::{Counts, check_width, nonempty, to_f32};

/// Max (no-saturation) calibration from a histogram: the right edge of the
/// highest non-empty bin, `(k + 1)·w`. For a two-pass histogram (range =
/// `max |x|`) that is `max |x|` itself. [`Histogram::max_threshold`](super::Histogram::max_threshold)
/// returns the exact sample maximum instead.
///
/// `Err(Empty)` for an all-zero histogram; `bin_width == 0` gives 0.
///
/// ```
/// use qkit::calib::max_threshold;
/// assert_eq!(max_threshold(&[5, 0, 2, 0], 0.5)?, 1.5);
/// assert!(max_threshold(&[0, 0], 0.5).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn max_threshold(hist: &[u32], bin_width: f32) -> Result<f32, Error> {
    check_width(hist.len(), bin_width)?;
    nonempty(hist)?;
    Ok(max_in(hist, bin_width as f64))
}

/// [`max_threshold`] of checked counts.
pub(crate) fn max_in(hist: impl Counts, w: f64) -> f32 {
    let top = (0..hist.len())
        .rev()
        .find(|&k| hist.get(k) != 0)
        .unwrap_or(0);
    to_f32((top + 1) as f64 * w)
}

/// pytorch-quantization percentile calibration: the **left** edge `k·w` of
/// the first bin where the cumulative fraction reaches `pct / 100`
/// (`searchsorted` left on the CDF), so slightly below the true quantile.
/// `pct == 100` returns [`max_threshold`] (the spec's rule: never a bin
/// below `amax` because of float round-off).
///
/// The CDF is accumulated exactly as pytorch-quantization's numpy code does
/// (`cdf = cumsum(h / T)` in `f64`, sequentially, then `cdf_k >= pct / 100`),
/// which reproduces its bins bit for bit, including where float round-off
/// puts the crossing one non-empty bin later than exact arithmetic would
/// (Laplace data at 99.99 %: 9.689, where exact fractions give 9.616; see
/// tests/calib_golden.rs). Percentile is monotone in `pct`. Errors: `InvalidParameter` for `pct` outside `[0, 100]` or NaN,
/// `Empty` for an all-zero histogram; `bin_width == 0` gives 0. A
/// threshold of 0 (all mass in bin 0) goes through the zero rule of
/// [`amax_quantizer`](super::amax_quantizer).
///
/// ```
/// use qkit::calib::percentile_threshold;
/// let h = [50, 30, 15, 4, 1]; // T = 100
/// assert_eq!(percentile_threshold(&h, 1.0, 80.0)?, 1.0);   // cdf: .5 .8 .95 .99 1
/// assert_eq!(percentile_threshold(&h, 1.0, 99.0)?, 3.0);
/// assert_eq!(percentile_threshold(&h, 1.0, 99.5)?, 4.0);
/// assert_eq!(percentile_threshold(&h, 1.0, 100.0)?, 5.0);
/// assert!(percentile_threshold(&h, 1.0, 101.0).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn percentile_threshold(hist: &[u32], bin_width: f32, pct: f64) -> Result<f32, Error> {
    check_width(hist.len(), bin_width)?;
    percentile_in(hist, bin_width as f64, pct)
}

/// [`percentile_threshold`] of counts whose width is already checked.
pub(crate) fn percentile_in(hist: impl Counts, w: f64, pct: f64) -> Result<f32, Error> {
    if !(0.0..=100.0).contains(&pct) {
        return Err(Error::InvalidParameter("percentile must lie in [0, 100]"));
    }
    let total = nonempty(hist)?;
    if w == 0.0 {
        return Ok(0.0);
    }
    if pct == 100.0 {
        return Ok(max_in(hist, w));
    }
    let target = pct / 100.0;
    let mut cdf = 0.0f64;
    let mut idx = hist.len().saturating_sub(1);
    for k in 0..hist.len() {
        cdf += hist.get(k) as f64 / total as f64;
        if cdf >= target {
            idx = k;
            break;
        }
    }
    Ok(to_f32(idx as f64 * w))
}
