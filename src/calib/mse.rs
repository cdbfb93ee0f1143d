//! MSE-optimal clipping from a histogram (pytorch-quantization
//! `_compute_amax_mse`).

use crate::Error;

use super::{Counts, check_width, nonempty, to_f32};

/// The bin centre `a = (i + 0.5)·w` that minimises the histogram-weighted
/// squared error of symmetric narrow-range quantization with `qmax` (127 for
/// int8, 7 for int4).
///
/// Every sample is treated as its bin centre `c_k`; for each candidate `a`,
/// `q(c) = clamp(round_half_even(c·qmax/a), -qmax, qmax)·a/qmax` and the
/// error is `Σ_k h[k]·(q(c_k) - c_k)²`. Candidates are the centres of bins
/// `i = N/16 .. N` (128..2048 for 2048 bins, pytorch-quantization's
/// `start_bin`), so the answer is at most `N·w - w/2`: MSE always clips at
/// least half a bin. First minimum wins. `f64` throughout; no `ln`,
/// `O(N · non-empty bins)`.
///
/// Errors: `InvalidParameter` for `qmax == 0` or a bad width, `Empty` for an
/// all-zero histogram; `bin_width == 0` gives 0.
///
/// ```
/// use qkit::calib::mse_threshold;
/// // One value in the last bin: the best clip is that bin's centre.
/// let mut h = [0u32; 64];
/// h[63] = 10;
/// assert_eq!(mse_threshold(&h, 1.0, 127)?, 63.5);
/// // A far outlier is worth keeping when it is heavy enough.
/// let mut h = [0u32; 64];
/// h[0] = 1000;
/// h[63] = 1;
/// assert_eq!(mse_threshold(&h, 1.0, 7)?, 63.5);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn mse_threshold(hist: &[u32], bin_width: f32, qmax: u32) -> Result<f32, Error> {
    check_width(hist.len(), bin_width)?;
    mse_in(hist, bin_width as f64, qmax)
}

/// [`mse_threshold`] of counts whose width is already checked.
pub(crate) fn mse_in(hist: impl Counts, w: f64, qmax: u32) -> Result<f32, Error> {
    if qmax == 0 {
        return Err(Error::InvalidParameter("qmax must be > 0"));
    }
    nonempty(hist)?;
    if w == 0.0 {
        return Ok(0.0);
    }
    let qm = qmax as f64;
    let n = hist.len();
    let mut best = (f64::INFINITY, n.saturating_sub(1));
    for i in n / 16..n {
        let a = (i as f64 + 0.5) * w;
        let mut err = 0.0f64;
        for k in 0..n {
            let c = hist.get(k);
            if c == 0 {
                continue;
            }
            let centre = (k as f64 + 0.5) * w;
            let code = libm::rint(centre * qm / a).min(qm);
            let d = code * a / qm - centre;
            err += c as f64 * d * d;
        }
        if err < best.0 {
            best = (err, i);
        }
    }
    Ok(to_f32((best.1 as f64 + 0.5) * w))
}
