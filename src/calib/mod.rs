//! Calibration: choosing the scale from data.
//!
//! "How do we set the scale factor?" This module gives the answers the field
//! uses, in fixed-size memory so they also run on the device:
//!
//! | file | concept | spec (CALIBRATION.md) |
//! | --- | --- | --- |
//! | [`observer`] | running min/max, moving-average min/max (c = 0.01), per channel | §5.1 |
//! | [`histogram`] | `Histogram<N>` of `|x|` or signed `x` that grows by merging bin pairs | §0, §7 |
//! | [`max_threshold`] | max (no saturation) calibration | §1 |
//! | [`percentile_threshold`] | pytorch-quantization percentile | §3.1 |
//! | [`mse_threshold`] | pytorch-quantization MSE-optimal clip | §3.2 |
//! | [`entropy_threshold`], [`entropy_search`], [`entropy_kl`] | TensorRT KL-entropy search, canonical §2.2 and compatible modes | §2 |
//! | [`dynfixed`] | Qiu et al. 2016 dynamic fixed point: fractional-length search, greedy layer walk | §4 |
//! | [`symmetric_quantizer`] | threshold → [`Quantizer`](crate::quant::Quantizer) (int8, int4, narrow/full range) | §0, §1 |
//!
//! Every threshold function takes a histogram as a slice of bin counts plus
//! the bin width (`hist[k]` counts `|x|` in `[k·w, (k+1)·w)`, the top bin also
//! holds `x = N·w`) and returns a threshold in real units. The shared rules:
//! an all-empty histogram is `Err(Error::Empty)` ("uncalibrated": use scale 1,
//! zero point 0); a bin width of 0 means every sample was 0 and the threshold
//! is 0, which [`symmetric_quantizer`] turns into scale 1 (the zero rule of §1).
//! Non-finite samples never reach a histogram: [`Histogram::add`] counts and
//! skips them.
//!
//! ```
//! use qkit::calib::{symmetric_quantizer, Histogram, SymmetricRange};
//! let mut h = Histogram::<2048>::magnitude();
//! h.add(&[0.5, -1.0, 2.0, f32::NAN]);
//! assert_eq!(h.nonfinite(), 1);
//! let t = h.max_threshold()?;
//! assert_eq!(t, 2.0);
//! let q = symmetric_quantizer::<i8>(t, SymmetricRange::Narrow)?;
//! assert_eq!(q.scale(), 2.0 / 127.0);
//! # Ok::<(), qkit::Error>(())
//! ```

pub mod dynfixed;
mod entropy;
pub mod histogram;
mod mse;
pub mod observer;
mod percentile;
mod scale;

pub use entropy::{
    EntropyOptions, EntropyResult, Merge, ThresholdRule, Ties, Upper, ZeroBin, entropy_kl,
    entropy_search, entropy_threshold,
};
pub use histogram::{Domain, Histogram};
pub use mse::mse_threshold;
pub use percentile::{max_threshold, percentile_threshold};
pub use scale::{SymmetricRange, ZERO_FLOOR, symmetric_quantizer, symmetric_scale};

use crate::Error;

/// Checks a histogram and its bin width; returns the total count.
///
/// `Err(InvalidParameter)` for a negative, NaN or infinite width or a
/// range `N·w` beyond `f32::MAX` (so every threshold is finite),
/// `Err(Empty)` when no sample was counted.
pub(crate) fn check_hist(hist: &[u32], bin_width: f32) -> Result<u64, Error> {
    if !(bin_width.is_finite() && bin_width >= 0.0) {
        return Err(Error::InvalidParameter("bin_width must be finite and >= 0"));
    }
    if hist.len() as f64 * bin_width as f64 > f32::MAX as f64 {
        return Err(Error::InvalidParameter("N * bin_width must fit in f32"));
    }
    let total: u64 = hist.iter().map(|&c| c as u64).sum();
    if total == 0 {
        return Err(Error::Empty);
    }
    Ok(total)
}
