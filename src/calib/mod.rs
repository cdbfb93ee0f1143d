//! Calibration: choosing the scale from data.
//!
//! "How do we set the scale factor?" This module gives the answers the field
//! uses, in fixed-size memory so they also run on the device:
//!
//! | item | concept | convention reproduced |
//! | --- | --- | --- |
//! | [`observer`] | running min/max, moving-average min/max (c = 0.01), per channel | PyTorch's `MinMaxObserver`, `MovingAverageMinMaxObserver`, `_calculate_qparams` |
//! | [`histogram`] | `Histogram<N>` of `|x|` or signed `x` that grows by merging bin pairs | numpy's bin edges |
//! | [`max_threshold`] | max (no saturation) calibration | pytorch-quantization `MaxCalibrator` |
//! | [`percentile_threshold`] | percentile of `|x|` | pytorch-quantization `HistogramCalibrator`, `method="percentile"` |
//! | [`mse_threshold`] | the clip with the least quantization error | pytorch-quantization `method="mse"` |
//! | [`entropy_threshold`], [`entropy_search`], [`entropy_kl`] | KL-divergence threshold search | TensorRT's entropy calibration (canonical form) and pytorch-quantization's variant, as [`EntropyOptions`] |
//! | [`dynfixed`] | dynamic fixed point: fractional-length search, greedy layer walk | Qiu et al., FPGA 2016 |
//! | [`amax_quantizer`], [`symmetric_scale`] | threshold → scale → [`Quantizer`](crate::quant::Quantizer) (int8, int4; narrow or full [`CodeRange`](crate::quant::CodeRange)) | pytorch-quantization `TensorQuantizer`, PyTorch observers |
//!
//! Every threshold function takes a histogram as a slice of bin counts plus
//! the bin width (`hist[k]` counts `|x|` in `[k·w, (k+1)·w)`, the top bin also
//! holds `x = N·w`) and returns a threshold in real units. The shared rules:
//! an all-empty histogram is `Err(Error::Empty)` ("uncalibrated": use scale 1,
//! zero point 0); a bin width of 0 means every sample was 0 and the threshold
//! is 0, which [`amax_quantizer`] turns into scale 1 (the zero rule, see
//! [`ZERO_FLOOR`]). Non-finite samples never reach a histogram:
//! [`Histogram::add`] counts and skips them.
//!
//! **Memory and stack.** Nothing here allocates, and no function keeps a
//! copy of a histogram on the stack, so what a calibration needs is the size
//! of its state plus a small fixed amount, tested in tests/calib_stack.rs
//! with threads of that exact stack size (debug and release):
//!
//! | type | size of the value | stack beyond it, any method |
//! | --- | --- | --- |
//! | [`Histogram<N>`](Histogram) | `4·N + 40` bytes (8 KiB for 2048 bins) | < 16 KiB |
//! | [`observer::PerChannelMinMaxObserver<C>`] | `8·C + 16` bytes | < 16 KiB |
//! | [`observer::MinMaxObserver`], [`observer::MovingAverageMinMaxObserver`] | 24 bytes each | < 16 KiB |
//! | the threshold functions on a `&[u32]` of any length | — | < 16 KiB |
//!
//! A large histogram belongs in a `static` (its constructors are `const fn`)
//! or, on a host, a `Box`.
//!
//! ```
//! use qkit::calib::{amax_quantizer, Histogram};
//! use qkit::quant::CodeRange;
//! let mut h = Histogram::<2048>::magnitude();
//! h.add(&[0.5, -1.0, 2.0, f32::NAN]);
//! assert_eq!(h.nonfinite(), 1);
//! let t = h.max_threshold()?;
//! assert_eq!(t, 2.0);
//! let q = amax_quantizer::<i8>(t, CodeRange::Narrow)?;
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
pub use scale::{ZERO_FLOOR, amax_quantizer, symmetric_scale};

use crate::Error;

/// A histogram as the threshold searches read it: bin `k < len()` holds
/// `get(k)` samples. Two forms, so that a signed [`Histogram`] is folded
/// into `|x|` bins on the fly instead of into a stack copy.
pub(crate) trait Counts: Copy {
    /// Number of bins.
    fn len(&self) -> usize;
    /// Count of bin `k` (0 past the end; never panics).
    fn get(&self, k: usize) -> u32;
    /// Total count over every bin.
    fn total(&self) -> u64 {
        (0..self.len()).map(|k| self.get(k) as u64).sum()
    }
}

impl Counts for &[u32] {
    #[inline]
    fn len(&self) -> usize {
        <[u32]>::len(self)
    }
    #[inline]
    fn get(&self, k: usize) -> u32 {
        <[u32]>::get(self, k).copied().unwrap_or(0)
    }
    fn total(&self) -> u64 {
        self.iter().map(|&c| c as u64).sum()
    }
}

/// The `|x|` view of a signed histogram of `2n` bins over `[-R, R]`: bins
/// mirrored about zero add up, `get(j) = raw[n + j] + raw[n - 1 - j]`
/// (saturating), `n` bins of the same width.
#[derive(Clone, Copy)]
pub(crate) struct Folded<'a>(pub(crate) &'a [u32]);

impl Counts for Folded<'_> {
    #[inline]
    fn len(&self) -> usize {
        self.0.len() / 2
    }
    #[inline]
    fn get(&self, j: usize) -> u32 {
        let n = self.len();
        if j >= n {
            return 0;
        }
        let up = self.0.get(n + j).copied().unwrap_or(0);
        let down = self.0.get(n - 1 - j).copied().unwrap_or(0);
        up.saturating_add(down)
    }
}

/// Checks the bin width of a caller's histogram of `len` bins:
/// `Err(InvalidParameter)` for a negative, NaN or infinite width or a range
/// `N·w` beyond `f32::MAX` (so every threshold is finite).
pub(crate) fn check_width(len: usize, bin_width: f32) -> Result<(), Error> {
    if !(bin_width.is_finite() && bin_width >= 0.0) {
        return Err(Error::InvalidParameter("bin_width must be finite and >= 0"));
    }
    if len as f64 * bin_width as f64 > f32::MAX as f64 {
        return Err(Error::InvalidParameter("N * bin_width must fit in f32"));
    }
    Ok(())
}

/// `Err(Empty)` when no sample was counted, else the total.
pub(crate) fn nonempty(hist: impl Counts) -> Result<u64, Error> {
    match hist.total() {
        0 => Err(Error::Empty),
        total => Ok(total),
    }
}

/// An `f64` threshold in real units as an `f32`, never infinite: a
/// [`Histogram`] at its largest range can put `N·w` a rounding above
/// `f32::MAX`, and the result is capped at the sample maximum afterwards.
pub(crate) fn to_f32(t: f64) -> f32 {
    t.min(f32::MAX as f64) as f32
}
