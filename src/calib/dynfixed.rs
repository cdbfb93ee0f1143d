//! Dynamic fixed point (Qiu et al., FPGA 2016, "Going Deeper with Embedded
//! FPGA Platform for CNN"): a power-of-two scale `2^-fl` per layer, chosen
//! greedily layer by layer.
//!
//! A `bw`-bit code `c ∈ [-2^(bw-1), 2^(bw-1) - 1]` stands for `c · 2^-fl`;
//! `fl` may be negative or larger than `bw`. qkit pins what the paper leaves
//! open: rounding is half-to-even, the error is a sum (L1 as in the paper,
//! L2 optional), non-finite values are skipped, and ties go to the smallest
//! `fl` (more headroom).
//!
//! ```
//! use qkit::calib::dynfixed::{initial_frac_len, search_frac_len, Norm};
//! assert_eq!(initial_frac_len(0.6, 8)?, 7);
//! assert_eq!(initial_frac_len(1.0, 8)?, 6);
//! let w = [0.6, -0.3, 0.01, 0.25];
//! let fl = search_frac_len(&w, 8, Norm::L1)?;
//! assert_eq!(fl, 7);
//! # Ok::<(), qkit::Error>(())
//! ```

use crate::Error;

/// The error norm of the fractional-length search.
///
/// ```
/// use qkit::calib::dynfixed::{best_frac_len, Norm};
/// let v = [1.0, 0.3];
/// assert_eq!(best_frac_len(&v, &v, 4, -2, 6, Norm::L2)?, 2); // 1.0 exact, 0.3 -> 0.25
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Norm {
    /// `Σ |ref - Q(v)|`, the paper's.
    L1,
    /// `Σ (ref - Q(v))²`.
    L2,
}

/// Widest bit width accepted (codes are computed in `i64`).
const MAX_BITS: u32 = 32;
/// Fractional lengths are limited to this magnitude (f64 `2^fl` stays exact).
const MAX_FL: i32 = 1000;

fn check_bits(bits: u32) -> Result<(), Error> {
    if !(2..=MAX_BITS).contains(&bits) {
        return Err(Error::InvalidParameter("bits must lie in 2..=32"));
    }
    Ok(())
}

/// Quantizes `v` to `bits`-bit fixed point with `fl` fractional bits:
/// `clamp(round_half_even(v · 2^fl), -2^(bits-1), 2^(bits-1) - 1) · 2^-fl`,
/// in `f64`. Non-finite `v` saturates (NaN gives 0).
///
/// Errors: `InvalidParameter` for `bits` outside `2..=32` or `fl` outside
/// `-1000..=1000` (where `2^fl` stays exact in `f64`).
///
/// ```
/// use qkit::calib::dynfixed::quantize_fixed;
/// assert_eq!(quantize_fixed(0.3, 8, 4)?, 0.3125);       // 4.8 -> 5 steps of 1/16
/// assert_eq!(quantize_fixed(100.0, 8, 4)?, 127.0 / 16.0); // saturates
/// assert_eq!(quantize_fixed(-100.0, 8, 4)?, -8.0);      // one more step below 0
/// assert_eq!(quantize_fixed(20.0, 4, -2)?, 20.0);       // fl < 0: steps of 4
/// assert!(quantize_fixed(1.0, 1, 0).is_err());
/// assert!(quantize_fixed(1.0, 8, 5000).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn quantize_fixed(v: f64, bits: u32, fl: i32) -> Result<f64, Error> {
    check_bits(bits)?;
    check_fl(fl)?;
    Ok(quantize_fixed_checked(v, bits, fl))
}

/// [`quantize_fixed`] with `bits` and `fl` already checked.
fn quantize_fixed_checked(v: f64, bits: u32, fl: i32) -> f64 {
    if v.is_nan() {
        return 0.0;
    }
    let hi = ((1i64 << (bits - 1)) - 1) as f64;
    let lo = -((1i64 << (bits - 1)) as f64);
    let code = libm::rint(libm::ldexp(v, fl)).clamp(lo, hi);
    libm::ldexp(code, -fl)
}

fn check_fl(fl: i32) -> Result<(), Error> {
    if !(-MAX_FL..=MAX_FL).contains(&fl) {
        return Err(Error::InvalidParameter("fl must lie in -1000..=1000"));
    }
    Ok(())
}

/// The no-overflow start `fl0`: the largest `fl` with
/// `max_abs <= (2^(bits-1) - 1) · 2^-fl`, found with an exact doubling loop
/// (no float `log2`, so exact powers of two are not off by one).
/// `max_abs == 0` gives `bits - 1` (all fractional: nothing to cover).
///
/// Errors: `InvalidParameter` for `bits` outside `2..=32` or a negative /
/// non-finite `max_abs`.
///
/// ```
/// use qkit::calib::dynfixed::initial_frac_len;
/// assert_eq!(initial_frac_len(0.995, 8)?, 6);  // 0.995 * 128 > 127
/// assert_eq!(initial_frac_len(0.0, 8)?, 7);
/// assert_eq!(initial_frac_len(300.0, 8)?, -2); // 127 * 4 >= 300
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn initial_frac_len(max_abs: f32, bits: u32) -> Result<i32, Error> {
    check_bits(bits)?;
    if !(max_abs.is_finite() && max_abs >= 0.0) {
        return Err(Error::InvalidParameter("max_abs must be finite and >= 0"));
    }
    if max_abs == 0.0 {
        return Ok(bits as i32 - 1);
    }
    let qmax = ((1i64 << (bits - 1)) - 1) as f64;
    let m = max_abs as f64;
    let mut fl = 0i32;
    // ldexp is exact, so each comparison is exact.
    while fl < MAX_FL && libm::ldexp(m, fl + 1) <= qmax {
        fl += 1;
    }
    while fl > -MAX_FL && libm::ldexp(m, fl) > qmax {
        fl -= 1;
    }
    Ok(fl)
}

/// The `fl` in `fl_lo ..= fl_hi` minimising the error between `reference`
/// and the fixed-point encoding of `values` (the weight phase passes the
/// same slice twice; the data phase passes the float network's output and
/// the fixed-point network's wide accumulator output).
///
/// Pairs where either value is non-finite are skipped; ties go to the
/// smallest `fl`. Errors: `LengthMismatch`, `Empty` (no finite pair),
/// `InvalidParameter` for bad `bits` or `fl_lo > fl_hi`.
///
/// ```
/// use qkit::calib::dynfixed::{best_frac_len, Norm};
/// let r = [0.5, 0.25, -0.75];
/// // Every fl >= 2 is exact; the smallest wins the tie.
/// assert_eq!(best_frac_len(&r, &r, 8, 0, 7, Norm::L1)?, 2);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn best_frac_len(
    reference: &[f32],
    values: &[f32],
    bits: u32,
    fl_lo: i32,
    fl_hi: i32,
    norm: Norm,
) -> Result<i32, Error> {
    check_bits(bits)?;
    if reference.len() != values.len() {
        return Err(Error::LengthMismatch {
            expected: reference.len(),
            found: values.len(),
        });
    }
    if fl_lo > fl_hi || fl_lo < -MAX_FL || fl_hi > MAX_FL {
        return Err(Error::InvalidParameter(
            "need -1000 <= fl_lo <= fl_hi <= 1000",
        ));
    }
    let finite = |&(r, v): &(&f32, &f32)| r.is_finite() && v.is_finite();
    if !reference.iter().zip(values).any(|p| finite(&p)) {
        return Err(Error::Empty);
    }
    let mut best = (f64::INFINITY, fl_lo);
    for fl in fl_lo..=fl_hi {
        let mut err = 0.0f64;
        for (r, v) in reference.iter().zip(values).filter(finite) {
            let d = *r as f64 - quantize_fixed_checked(*v as f64, bits, fl);
            err += match norm {
                Norm::L1 => d.abs(),
                Norm::L2 => d * d,
            };
        }
        if err < best.0 {
            best = (err, fl);
        }
    }
    Ok(best.1)
}

/// The weight-phase search of Qiu et al.: start at [`initial_frac_len`] of the
/// finite `max |v|` and search the "adjacent domains" `fl0 - 2 ..= fl0 + 2`.
///
/// Errors as [`best_frac_len`] (`Empty` when no value is finite).
///
/// ```
/// use qkit::calib::dynfixed::{search_frac_len, Norm};
/// // fl0 = 2 keeps 1.0 exact, but saturating it (fl = 4: 1.0 -> 7/16)
/// // costs less than coarsening the ten 0.19s (error 0.06 each at fl = 2).
/// let mut w = [0.19f32; 11];
/// w[0] = 1.0;
/// assert_eq!(search_frac_len(&w, 4, Norm::L1)?, 4);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn search_frac_len(values: &[f32], bits: u32, norm: Norm) -> Result<i32, Error> {
    check_bits(bits)?;
    let max_abs = values
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()));
    let fl0 = initial_frac_len(max_abs, bits)?;
    best_frac_len(values, values, bits, fl0 - 2, fl0 + 2, norm)
}

/// Quantizes `values` in place to `bits`-bit fixed point with `fl`
/// fractional bits (see [`quantize_fixed`], whose errors it returns before
/// touching `values`).
///
/// ```
/// let mut v = [0.3, 9.0];
/// qkit::calib::dynfixed::quantize_fixed_in_place(&mut v, 4, 2)?;
/// assert_eq!(v, [0.25, 1.75]);
/// assert!(qkit::calib::dynfixed::quantize_fixed_in_place(&mut v, 0, 2).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn quantize_fixed_in_place(values: &mut [f32], bits: u32, fl: i32) -> Result<(), Error> {
    check_bits(bits)?;
    check_fl(fl)?;
    for v in values {
        *v = quantize_fixed_checked(*v as f64, bits, fl) as f32;
    }
    Ok(())
}

/// One layer of the network walked by [`greedy_layerwise`].
///
/// ```
/// use qkit::calib::dynfixed::DfpLayer;
/// struct Scale(f32);
/// impl DfpLayer for Scale {
///     fn weights(&self) -> &[f32] { core::slice::from_ref(&self.0) }
///     fn output_len(&self, input_len: usize) -> usize { input_len }
///     fn forward(&self, w: &[f32], x: &[f32], y: &mut [f32]) {
///         for (y, x) in y.iter_mut().zip(x) { *y = w[0] * x; }
///     }
/// }
/// let mut y = [0.0; 2];
/// Scale(2.0).forward(&[2.0], &[1.0, 3.0], &mut y);
/// assert_eq!(y, [2.0, 6.0]);
/// ```
pub trait DfpLayer {
    /// The layer's float weights.
    fn weights(&self) -> &[f32];
    /// Output length for an input of `input_len` values.
    fn output_len(&self, input_len: usize) -> usize;
    /// `y = layer(x)` computed with the weights `w` (float or already
    /// quantized), wide (un-truncated) output. `y.len() == output_len(x.len())`.
    fn forward(&self, w: &[f32], x: &[f32], y: &mut [f32]);
}

/// Formats chosen for one layer by [`greedy_layerwise`].
///
/// ```
/// let f = qkit::calib::dynfixed::LayerFormat { weight_fl: 7, data_fl: 3 };
/// assert_eq!(f.weight_fl, 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LayerFormat {
    /// Fractional length of the weights.
    pub weight_fl: i32,
    /// Fractional length of the layer's output feature map.
    pub data_fl: i32,
}

/// Qiu et al.'s greedy layer-wise flow. For each layer in order:
/// choose the weight format with [`search_frac_len`] (weight phase, `w_bits`),
/// run the float layer on the float activations and the layer with
/// quantized weights on the previous layer's *quantized* output, choose the
/// data format minimising `Σ |float - Q(fixed)|` over
/// `fl0 - 2 ..= fl0 + 2` (`fl0` from the fixed output's range, `d_bits`),
/// quantize the fixed output with it and move on.
///
/// `input` is quantized to `d_bits` first with its own best format (the
/// returned `input_fl`). `scratch` must hold `max_weights + 4·max_act`
/// floats (largest weight count, largest activation length including the
/// input); `formats.len()` must equal `layers.len()`. Errors:
/// `CapacityExceeded` for a small scratch, `LengthMismatch`, `Empty` for
/// no layers or an input without finite values, `InvalidParameter` if a
/// layer's [`weights`](DfpLayer::weights) or
/// [`output_len`](DfpLayer::output_len) answer differently on the second
/// pass than on the sizing pass, plus those of [`best_frac_len`].
///
/// ```
/// use qkit::calib::dynfixed::{greedy_layerwise, DfpLayer, LayerFormat, Norm};
/// struct Mul(f32);
/// impl DfpLayer for Mul {
///     fn weights(&self) -> &[f32] { core::slice::from_ref(&self.0) }
///     fn output_len(&self, n: usize) -> usize { n }
///     fn forward(&self, w: &[f32], x: &[f32], y: &mut [f32]) {
///         for (y, x) in y.iter_mut().zip(x) { *y = w[0] * x; }
///     }
/// }
/// let layers: [&dyn DfpLayer; 2] = [&Mul(0.5), &Mul(3.0)];
/// let mut scratch = [0.0; 1 + 4 * 3];
/// let mut formats = [LayerFormat::default(); 2];
/// let input_fl = greedy_layerwise(&layers, &[1.0, -0.5, 0.25], 8, 8, Norm::L1,
///                                 &mut scratch, &mut formats)?;
/// // Everything is exact here, so each search returns the smallest fl of
/// // its window fl0 - 2 ..= fl0 + 2 (input: fl0 = 6, weight 0.5: fl0 = 7, ...).
/// assert_eq!(input_fl, 4);
/// assert_eq!(formats[0], LayerFormat { weight_fl: 5, data_fl: 5 });
/// assert_eq!(formats[1], LayerFormat { weight_fl: 3, data_fl: 4 });
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn greedy_layerwise(
    layers: &[&dyn DfpLayer],
    input: &[f32],
    w_bits: u32,
    d_bits: u32,
    norm: Norm,
    scratch: &mut [f32],
    formats: &mut [LayerFormat],
) -> Result<i32, Error> {
    check_bits(w_bits)?;
    check_bits(d_bits)?;
    if layers.is_empty() {
        return Err(Error::Empty);
    }
    if formats.len() != layers.len() {
        return Err(Error::LengthMismatch {
            expected: layers.len(),
            found: formats.len(),
        });
    }
    // Sizes: largest weight count and activation length.
    let mut max_w = 0usize;
    let mut max_act = input.len();
    let mut len = input.len();
    for l in layers {
        max_w = max_w.max(l.weights().len());
        len = l.output_len(len);
        max_act = max_act.max(len);
    }
    let needed = max_w.saturating_add(max_act.saturating_mul(4));
    if scratch.len() < needed {
        return Err(Error::CapacityExceeded {
            needed,
            capacity: scratch.len(),
        });
    }
    let (wq, rest) = scratch.split_at_mut(max_w);
    let (float_a, rest) = rest.split_at_mut(max_act);
    let (float_b, rest) = rest.split_at_mut(max_act);
    let (fixed_a, fixed_b) = rest.split_at_mut(max_act);

    let mut len = input.len();
    float_a[..len].copy_from_slice(input);
    fixed_a[..len].copy_from_slice(input);
    let input_fl = search_frac_len(input, d_bits, norm)?;
    quantize_fixed_in_place(&mut fixed_a[..len], d_bits, input_fl)?;

    // The layers are caller code: a size that changes after the sizing pass
    // must be an error, not an index panic.
    let changed = Error::InvalidParameter("a DfpLayer changed its weights or output length");

    let (mut fa, mut fb, mut xa, mut xb) = (float_a, float_b, fixed_a, fixed_b);
    for (layer, fmt) in layers.iter().zip(formats.iter_mut()) {
        let w = layer.weights();
        // Weight phase: an empty or all-non-finite weight set keeps fl0 = bw - 1.
        let weight_fl = match search_frac_len(w, w_bits, norm) {
            Ok(fl) => fl,
            Err(Error::Empty) => w_bits as i32 - 1,
            Err(e) => return Err(e),
        };
        let wq = wq.get_mut(..w.len()).ok_or(changed)?;
        wq.copy_from_slice(w);
        quantize_fixed_in_place(wq, w_bits, weight_fl)?;

        let out_len = layer.output_len(len);
        if out_len > max_act {
            return Err(changed);
        }
        layer.forward(w, &fa[..len], &mut fb[..out_len]);
        layer.forward(wq, &xa[..len], &mut xb[..out_len]);

        // Data phase: compare the float output with the encoded fixed output.
        let max_abs = xb[..out_len]
            .iter()
            .filter(|v| v.is_finite())
            .fold(0.0f32, |m, v| m.max(v.abs()));
        let fl0 = initial_frac_len(max_abs, d_bits)?;
        let data_fl = best_frac_len(
            &fb[..out_len],
            &xb[..out_len],
            d_bits,
            fl0 - 2,
            fl0 + 2,
            norm,
        )?;
        quantize_fixed_in_place(&mut xb[..out_len], d_bits, data_fl)?;
        *fmt = LayerFormat { weight_fl, data_fl };

        core::mem::swap(&mut fa, &mut fb);
        core::mem::swap(&mut xa, &mut xb);
        len = out_len;
    }
    Ok(input_fl)
}
