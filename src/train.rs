//! Training-side helpers for quantization-aware training:
//! fake quantization with the straight-through estimator, PACT, LSQ and
//! the Apprentice distillation loss.
//!
//! Everything works on `f32` slices and writes into caller buffers; nothing
//! allocates. Gradients follow the straight-through estimator (STE): `round`
//! is treated as the identity in the backward pass, clamps are kept. Each
//! backward function is checked in the tests against a central-difference
//! gradient of its STE surrogate (the forward with the rounding residual
//! frozen).
//!
//! ```
//! use qkit::train::{fake_quant, FakeQuant};
//! let fq = FakeQuant::symmetric(0.5, 7)?; // int4 narrow range, step 0.5
//! let mut y = [0.0; 3];
//! fake_quant(&fq, &[0.3, 1.1, 9.0], &mut y)?;
//! assert_eq!(y, [0.5, 1.0, 3.5]);
//! # Ok::<(), qkit::Error>(())
//! ```

use crate::Error;

fn check_len(expected: usize, found: usize) -> Result<(), Error> {
    if expected != found {
        return Err(Error::LengthMismatch { expected, found });
    }
    Ok(())
}

fn check_scale(s: f32) -> Result<(), Error> {
    if !(s.is_finite() && s > 0.0) {
        return Err(Error::InvalidScale(s as f64));
    }
    Ok(())
}

/// Round half to even in `f32` (PyTorch's `nearbyint`).
#[inline]
fn round_even(x: f32) -> f32 {
    libm::rintf(x)
}

/// Parameters of an affine fake quantizer:
/// `y = (clamp(round(x/s) + zp, qmin, qmax) - zp) · s`, rounding half to even.
///
/// ```
/// use qkit::train::FakeQuant;
/// let fq = FakeQuant::new(0.1, 0, 0, 255)?; // uint8-style, post-ReLU
/// assert_eq!(fq.qmax, 255);
/// assert!(FakeQuant::new(0.1, 300, 0, 255).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FakeQuant {
    /// Step size.
    pub scale: f32,
    /// Integer code of real 0.
    pub zero_point: i32,
    /// Smallest code.
    pub qmin: i32,
    /// Largest code.
    pub qmax: i32,
}

impl FakeQuant {
    /// Checked constructor: the parameters must pass [`check`](Self::check).
    ///
    /// ```
    /// assert!(qkit::train::FakeQuant::new(0.0, 0, -128, 127).is_err());
    /// ```
    pub fn new(scale: f32, zero_point: i32, qmin: i32, qmax: i32) -> Result<Self, Error> {
        Self {
            scale,
            zero_point,
            qmin,
            qmax,
        }
        .check()
    }

    /// The rules every fake quantizer obeys: `scale` finite and `> 0`,
    /// `-2^24 <= qmin < qmax <= 2^24` (codes exact in `f32`), `zero_point`
    /// in `[qmin, qmax]`. The fields are public, so [`fake_quant`] and
    /// [`fake_quant_backward`] check them again on every call.
    ///
    /// ```
    /// use qkit::{train::FakeQuant, Error};
    /// let bad = FakeQuant { scale: 1.0, zero_point: 0, qmin: 5, qmax: -5 };
    /// assert!(matches!(bad.check(), Err(Error::InvalidParameter(_))));
    /// let nan = FakeQuant { scale: f32::NAN, zero_point: 0, qmin: -8, qmax: 7 };
    /// assert!(matches!(nan.check(), Err(Error::InvalidScale(_))));
    /// assert!(FakeQuant::symmetric(0.5, 7)?.check().is_ok());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn check(self) -> Result<Self, Error> {
        check_scale(self.scale)?;
        const LIM: i32 = 1 << 24;
        let (qmin, qmax) = (self.qmin, self.qmax);
        if !(-LIM..LIM).contains(&qmin) || !(-LIM..=LIM).contains(&qmax) || qmin >= qmax {
            return Err(Error::InvalidParameter("need -2^24 <= qmin < qmax <= 2^24"));
        }
        if self.zero_point < qmin || self.zero_point > qmax {
            return Err(Error::ZeroPointOutOfRange {
                zero_point: self.zero_point,
                min: qmin,
                max: qmax,
            });
        }
        Ok(self)
    }

    /// Symmetric narrow range `[-qmax, qmax]`, zero point 0 (TensorRT,
    /// pytorch-quantization).
    ///
    /// ```
    /// let fq = qkit::train::FakeQuant::symmetric(0.01, 127)?;
    /// assert_eq!((fq.qmin, fq.qmax), (-127, 127));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn symmetric(scale: f32, qmax: i32) -> Result<Self, Error> {
        Self::new(scale, 0, qmax.saturating_neg(), qmax)
    }

    #[inline]
    fn code_unclamped(&self, x: f32) -> f32 {
        round_even(x / self.scale) + self.zero_point as f32
    }

    #[inline]
    fn forward_one(&self, x: f32) -> f32 {
        let c = self
            .code_unclamped(x)
            .clamp(self.qmin as f32, self.qmax as f32);
        // NaN stays NaN through clamp; that is the caller's data.
        (c - self.zero_point as f32) * self.scale
    }
}

/// Fake quantization forward: `out[k] = (clamp(round(x/s) + zp, qmin, qmax) - zp)·s`.
/// `fq` must pass [`FakeQuant::check`] (its error is returned otherwise);
/// `Err(LengthMismatch)` unless `out.len() == x.len()`.
///
/// ```
/// use qkit::train::{fake_quant, FakeQuant};
/// let fq = FakeQuant::new(0.5, -2, -8, 7)?;
/// let mut y = [0.0; 2];
/// fake_quant(&fq, &[-10.0, 0.26], &mut y)?;
/// assert_eq!(y, [-3.0, 0.5]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn fake_quant(fq: &FakeQuant, x: &[f32], out: &mut [f32]) -> Result<(), Error> {
    fq.check()?;
    check_len(x.len(), out.len())?;
    for (o, &v) in out.iter_mut().zip(x) {
        *o = fq.forward_one(v);
    }
    Ok(())
}

/// Which inputs pass gradient through the STE. The conventions disagree at
/// the boundary: up to half a step beyond the range, PyTorch core's
/// `fake_quantize_per_tensor_affine` passes the gradient (it tests the
/// rounded code) while pytorch-quantization and TensorFlow's `FakeQuant`
/// do not (they test the input).
///
/// ```
/// use qkit::train::{fake_quant_backward, FakeQuant, SteRange};
/// // x = amax + 0.4·s: PyTorch core passes the gradient, pytorch-quantization/TF do not.
/// let fq = FakeQuant::symmetric(1.0, 127)?;
/// let mut g = [0.0];
/// fake_quant_backward(&fq, SteRange::Input, &[127.4], &[1.0], &mut g)?;
/// assert_eq!(g, [0.0]);
/// fake_quant_backward(&fq, SteRange::RoundedCode, &[127.4], &[1.0], &mut g)?;
/// assert_eq!(g, [1.0]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SteRange {
    /// `(qmin - zp)·s <= x <= (qmax - zp)·s` on the input, boundaries
    /// included (pytorch-quantization `|x| <= amax`, TF FakeQuant).
    Input,
    /// `qmin <= round(x/s) + zp <= qmax` on the rounded pre-clamp code
    /// (PyTorch core `fake_quantize_per_tensor_affine`): inputs up to half a
    /// step beyond the range still pass.
    RoundedCode,
}

/// STE backward of [`fake_quant`]: `grad_x[k] = grad_y[k] · 1[x_k in range]`
/// with the range test of `convention`. NaN inputs pass no gradient.
/// `fq` must pass [`FakeQuant::check`] (its error is returned otherwise);
/// `Err(LengthMismatch)` unless all three slices have the same length.
///
/// ```
/// use qkit::train::{fake_quant_backward, FakeQuant, SteRange};
/// let fq = FakeQuant::symmetric(0.5, 7)?; // range [-3.5, 3.5]
/// let mut g = [0.0; 3];
/// fake_quant_backward(&fq, SteRange::Input, &[-3.5, 1.0, 3.6], &[2.0, 2.0, 2.0], &mut g)?;
/// assert_eq!(g, [2.0, 2.0, 0.0]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn fake_quant_backward(
    fq: &FakeQuant,
    convention: SteRange,
    x: &[f32],
    grad_y: &[f32],
    grad_x: &mut [f32],
) -> Result<(), Error> {
    fq.check()?;
    check_len(x.len(), grad_y.len())?;
    check_len(x.len(), grad_x.len())?;
    // In range after the check: |qmin|, |qmax|, |zp| <= 2^24.
    let lo = (fq.qmin - fq.zero_point) as f32 * fq.scale;
    let hi = (fq.qmax - fq.zero_point) as f32 * fq.scale;
    for ((g, &v), &gy) in grad_x.iter_mut().zip(x).zip(grad_y) {
        let pass = match convention {
            SteRange::Input => v >= lo && v <= hi,
            SteRange::RoundedCode => {
                let c = fq.code_unclamped(v);
                c >= fq.qmin as f32 && c <= fq.qmax as f32
            }
        };
        *g = if pass { gy } else { 0.0 };
    }
    Ok(())
}

fn check_pact(alpha: f32, bits: u32) -> Result<(), Error> {
    if !(alpha.is_finite() && alpha > 0.0) {
        return Err(Error::InvalidParameter("PACT alpha must be finite and > 0"));
    }
    if !(1..=24).contains(&bits) {
        return Err(Error::InvalidParameter("PACT bits must lie in 1..=24"));
    }
    Ok(())
}

/// PACT forward (Choi et al. 2018): clip to `[0, α]`,
/// `y = 0.5·(|x| - |x - α| + α)`, then quantize to `k = bits` bits,
/// `y_q = round(y·(2^k - 1)/α)·α/(2^k - 1)` (half to even).
///
/// Errors: `InvalidParameter` for `α` not finite and `> 0` or `bits`
/// outside `1..=24`; `LengthMismatch`.
///
/// ```
/// use qkit::train::pact_forward;
/// let mut y = [0.0; 4];
/// pact_forward(&[-1.0, 0.4, 2.0, 9.0], 3.0, 2, &mut y)?; // levels 0, 1, 2, 3
/// assert_eq!(y, [0.0, 0.0, 2.0, 3.0]);
/// pact_forward(&[f32::MAX, 1e38, 0.0, -1.0], f32::MAX, 8, &mut y)?;
/// assert!(y.iter().all(|v| v.is_finite() && *v <= f32::MAX));
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn pact_forward(x: &[f32], alpha: f32, bits: u32, out: &mut [f32]) -> Result<(), Error> {
    check_pact(alpha, bits)?;
    check_len(x.len(), out.len())?;
    let n = ((1u32 << bits) - 1) as f32;
    for (o, &v) in out.iter_mut().zip(x) {
        let y = v.clamp(0.0, alpha); // = 0.5·(|x| - |x - α| + α)
        let q = round_even(y * n / alpha) * alpha / n;
        // `y·n` and `code·α` overflow f32 for α near f32::MAX although the
        // result is at most α: redo those in f64.
        *o = if q.is_finite() || y.is_nan() {
            q
        } else {
            let (n, a) = (n as f64, alpha as f64);
            (libm::rint(y as f64 * n / a) * a / n) as f32
        };
    }
    Ok(())
}

/// PACT backward with the STE: `grad_x = grad_y · 1[0 <= x < α]` (the
/// paper's convention; Distiller also zeroes `x = 0`) and returns
/// `∂L/∂α = Σ_{x >= α} grad_y + 2·λ·α` (`λ` = the L2 regulariser on α,
/// 0 for none). NaN inputs pass no gradient to either.
///
/// ```
/// use qkit::train::pact_backward;
/// let mut gx = [0.0; 3];
/// let ga = pact_backward(&[-1.0, 1.0, 5.0], &[1.0, 2.0, 3.0], 4.0, 0.0, &mut gx)?;
/// assert_eq!((gx, ga), ([0.0, 2.0, 3.0 * 0.0], 3.0));
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn pact_backward(
    x: &[f32],
    grad_y: &[f32],
    alpha: f32,
    lambda: f32,
    grad_x: &mut [f32],
) -> Result<f32, Error> {
    check_pact(alpha, 1)?;
    if !lambda.is_finite() {
        return Err(Error::InvalidParameter("PACT lambda must be finite"));
    }
    check_len(x.len(), grad_y.len())?;
    check_len(x.len(), grad_x.len())?;
    let mut ga = 0.0f64;
    for ((g, &v), &gy) in grad_x.iter_mut().zip(x).zip(grad_y) {
        *g = if v >= 0.0 && v < alpha { gy } else { 0.0 };
        if v >= alpha {
            ga += gy as f64;
        }
    }
    Ok((ga + 2.0 * lambda as f64 * alpha as f64) as f32)
}

/// LSQ quantizer bounds (Esser et al. 2020): codes `[-q_n, q_p]`.
///
/// ```
/// use qkit::train::Lsq;
/// assert_eq!(Lsq::unsigned(4)?, Lsq { q_n: 0, q_p: 15 });
/// assert_eq!(Lsq::signed(4)?, Lsq { q_n: 8, q_p: 7 });
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Lsq {
    /// `Q_N`: magnitude of the most negative code.
    pub q_n: u32,
    /// `Q_P`: the largest code.
    pub q_p: u32,
}

impl Lsq {
    /// The largest code magnitude: `2^24`, so every code is exact in `f32`.
    ///
    /// ```
    /// assert_eq!(qkit::train::Lsq::MAX_CODE, 1 << 24);
    /// ```
    pub const MAX_CODE: u32 = 1 << 24;

    /// Unsigned activations: `Q_N = 0`, `Q_P = 2^b - 1`.
    /// `Err(InvalidParameter)` unless `1 <= bits <= 24`.
    ///
    /// ```
    /// use qkit::train::Lsq;
    /// assert_eq!(Lsq::unsigned(8)?.q_p, 255);
    /// assert!(Lsq::unsigned(0).is_err());
    /// assert!(Lsq::unsigned(u32::MAX).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn unsigned(bits: u32) -> Result<Self, Error> {
        if !(1..=24).contains(&bits) {
            return Err(Error::InvalidParameter(
                "unsigned LSQ bits must lie in 1..=24",
            ));
        }
        Ok(Self {
            q_n: 0,
            q_p: (1 << bits) - 1,
        })
    }

    /// Signed weights: `Q_N = 2^(b-1)`, `Q_P = 2^(b-1) - 1`.
    /// `Err(InvalidParameter)` unless `2 <= bits <= 24`.
    ///
    /// ```
    /// use qkit::train::Lsq;
    /// assert_eq!(Lsq::signed(8)?, Lsq { q_n: 128, q_p: 127 });
    /// assert!(Lsq::signed(0).is_err());
    /// assert!(Lsq::signed(100).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn signed(bits: u32) -> Result<Self, Error> {
        if !(2..=24).contains(&bits) {
            return Err(Error::InvalidParameter(
                "signed LSQ bits must lie in 2..=24",
            ));
        }
        Ok(Self {
            q_n: 1 << (bits - 1),
            q_p: (1 << (bits - 1)) - 1,
        })
    }

    /// The rule every LSQ range obeys: `q_n, q_p <= MAX_CODE` and
    /// `q_n + q_p >= 1` (at least two codes). The fields are public, so
    /// [`lsq_forward`] and [`lsq_backward`] check it again on every call.
    ///
    /// ```
    /// use qkit::train::Lsq;
    /// assert!(Lsq { q_n: 0, q_p: 0 }.check().is_err());
    /// assert!(Lsq { q_n: 0, q_p: u32::MAX }.check().is_err());
    /// assert!(Lsq { q_n: 1, q_p: 0 }.check().is_ok());
    /// ```
    pub fn check(self) -> Result<Self, Error> {
        if self.q_n > Self::MAX_CODE || self.q_p > Self::MAX_CODE || self.q_n + self.q_p == 0 {
            return Err(Error::InvalidParameter(
                "LSQ needs q_n, q_p <= 2^24 and at least two codes",
            ));
        }
        Ok(self)
    }

    /// The step-size gradient scale `g = 1/sqrt(n · Q_P)` (`n` = weights in
    /// the layer, or features per layer for activations).
    /// `Err(InvalidParameter)` for `n == 0` or `Q_P == 0`.
    ///
    /// ```
    /// assert_eq!(qkit::train::Lsq::unsigned(2)?.grad_scale(12)?, 1.0 / 6.0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn grad_scale(&self, n: usize) -> Result<f32, Error> {
        if n == 0 || self.q_p == 0 {
            return Err(Error::InvalidParameter(
                "grad_scale needs n > 0 and Q_P > 0",
            ));
        }
        Ok((1.0 / libm::sqrt(n as f64 * self.q_p as f64)) as f32)
    }

    /// The initial step `s = 2·mean(|v|)/sqrt(Q_P)` over the finite values.
    /// `Err(Empty)` without one; the zero rule gives 1.0 when all are 0.
    ///
    /// ```
    /// let s = qkit::train::Lsq::unsigned(2)?.init_step(&[1.5, -1.5])?;
    /// assert_eq!(s, (3.0 / 3.0f64.sqrt()) as f32);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn init_step(&self, v: &[f32]) -> Result<f32, Error> {
        let (mut sum, mut n) = (0.0f64, 0u64);
        for x in v.iter().filter(|x| x.is_finite()) {
            sum += x.abs() as f64;
            n += 1;
        }
        if n == 0 {
            return Err(Error::Empty);
        }
        if sum == 0.0 || self.q_p == 0 {
            return Ok(1.0);
        }
        let s = (2.0 * sum / n as f64 / libm::sqrt(self.q_p as f64)) as f32;
        Ok(if s > 0.0 && s.is_finite() { s } else { 1.0 })
    }
}

/// LSQ forward: `v̂ = round(clamp(v/s, -Q_N, Q_P))·s` (half to even).
/// Errors: `InvalidScale`, `InvalidParameter` for a range failing
/// [`Lsq::check`], `LengthMismatch`.
///
/// ```
/// use qkit::train::{lsq_forward, Lsq};
/// let mut y = [0.0; 3];
/// lsq_forward(&[0.7, 9.0, -1.0], 0.5, Lsq::unsigned(4)?, &mut y)?;
/// assert_eq!(y, [0.5, 7.5, 0.0]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn lsq_forward(v: &[f32], s: f32, q: Lsq, out: &mut [f32]) -> Result<(), Error> {
    check_scale(s)?;
    q.check()?;
    check_len(v.len(), out.len())?;
    let (lo, hi) = (-(q.q_n as f32), q.q_p as f32);
    for (o, &x) in out.iter_mut().zip(v) {
        *o = round_even((x / s).clamp(lo, hi)) * s;
    }
    Ok(())
}

/// LSQ backward. Writes `grad_v = grad_y · 1[-Q_N < v/s < Q_P]` and returns
/// `∂L/∂s = g · Σ grad_y · d`, with `d = round(v/s) - v/s` inside,
/// `-Q_N` at or below, `Q_P` at or above the range, and `g` the gradient
/// scale ([`Lsq::grad_scale`], or 1.0 for none). NaN inputs contribute
/// nothing. Errors: `InvalidScale`, `InvalidParameter` for a non-finite
/// `g` or a range failing [`Lsq::check`], `LengthMismatch`.
///
/// ```
/// use qkit::train::{lsq_backward, Lsq};
/// // s = 0.5, b = 4 unsigned (Q_P = 15): v = 0.7 gives round(1.4) - 1.4 = -0.4;
/// // v = 9 gives v/s = 18 >= Q_P, so Q_P = 15.
/// let mut gv = [0.0; 2];
/// let ds = lsq_backward(&[0.7], &[1.0], 0.5, Lsq::unsigned(4)?, 1.0, &mut gv[..1])?;
/// assert!((ds + 0.4).abs() < 1e-6);
/// let ds = lsq_backward(&[9.0], &[1.0], 0.5, Lsq::unsigned(4)?, 1.0, &mut gv[..1])?;
/// assert_eq!((ds, gv[0]), (15.0, 0.0));
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn lsq_backward(
    v: &[f32],
    grad_y: &[f32],
    s: f32,
    q: Lsq,
    g: f32,
    grad_v: &mut [f32],
) -> Result<f32, Error> {
    check_scale(s)?;
    q.check()?;
    if !g.is_finite() {
        return Err(Error::InvalidParameter("LSQ gradient scale must be finite"));
    }
    check_len(v.len(), grad_y.len())?;
    check_len(v.len(), grad_v.len())?;
    let (lo, hi) = (-(q.q_n as f32), q.q_p as f32);
    let mut ds = 0.0f64;
    for ((gv, &x), &gy) in grad_v.iter_mut().zip(v).zip(grad_y) {
        let r = x / s;
        let (pass, d) = if r.is_nan() {
            (false, 0.0)
        } else if r <= lo {
            (false, lo)
        } else if r >= hi {
            (false, hi)
        } else {
            (true, round_even(r) - r)
        };
        *gv = if pass { gy } else { 0.0 };
        ds += gy as f64 * d as f64;
    }
    Ok((ds * g as f64) as f32)
}

/// Weights of the Apprentice loss (Mishra & Marr, ICLR 2018):
/// `L = α·H(y, p_T) + β·H(y, p_A) + γ·H(p_T, p_A)`.
///
/// ```
/// let w = qkit::train::ApprenticeWeights::PAPER;
/// assert_eq!((w.alpha, w.beta, w.gamma), (1.0, 0.5, 0.5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ApprenticeWeights {
    /// Teacher's cross-entropy with the label (a constant when the teacher is frozen, scheme B).
    pub alpha: f32,
    /// Student's cross-entropy with the label.
    pub beta: f32,
    /// Student's cross-entropy with the teacher's soft targets.
    pub gamma: f32,
}

impl ApprenticeWeights {
    /// `α = 1, β = 0.5, γ = 0.5`, temperature 1: the weights of Mishra &
    /// Marr, "Apprentice" (ICLR 2018, arXiv 1711.05852), as recalled from
    /// the paper rather than checked against its text; pass your own
    /// [`ApprenticeWeights`] if they differ.
    ///
    /// ```
    /// assert_eq!(qkit::train::ApprenticeWeights::PAPER.gamma, 0.5);
    /// ```
    pub const PAPER: Self = Self {
        alpha: 1.0,
        beta: 0.5,
        gamma: 0.5,
    };
}

/// `log Σ exp(z)` in f64, stable; `None` for an empty or non-finite input.
fn log_sum_exp(z: &[f32]) -> Option<f64> {
    let m = z.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    if !m.is_finite() || z.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let s: f64 = z.iter().map(|&v| libm::exp(v as f64 - m)).sum();
    Some(m + libm::log(s))
}

/// The Apprentice distillation loss for one example and its gradient with
/// respect to the student's logits.
///
/// `teacher` and `student` are logits (temperature 1), `label` the true
/// class. Returns `L = α·H(y, p_T) + β·H(y, p_A) + γ·H(p_T, p_A)` with
/// `H(a, b) = -Σ a·ln b`, and writes
/// `grad_student = β·(p_A - y) + γ·(p_A - p_T)` (the teacher's softmax is a
/// constant target for the student). Computed in `f64` with log-sum-exp.
///
/// Errors: `LengthMismatch` (teacher, student and `grad_student` lengths),
/// `Empty` for no classes, `OutOfRange` for `label >= classes`,
/// `InvalidParameter` for non-finite logits or weights.
///
/// ```
/// use qkit::train::{apprentice_loss, ApprenticeWeights};
/// let mut g = [0.0; 2];
/// // Equal logits everywhere: every cross-entropy is ln 2.
/// let l = apprentice_loss(&[0.0, 0.0], &[1.0, 1.0], 0, ApprenticeWeights::PAPER, &mut g)?;
/// assert!((l - 2.0 * core::f32::consts::LN_2).abs() < 1e-6);
/// assert_eq!(g, [0.5 * (0.5 - 1.0), 0.5 * 0.5]); // β(p - y); γ term is 0
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn apprentice_loss(
    teacher: &[f32],
    student: &[f32],
    label: usize,
    w: ApprenticeWeights,
    grad_student: &mut [f32],
) -> Result<f32, Error> {
    check_len(teacher.len(), student.len())?;
    check_len(student.len(), grad_student.len())?;
    if student.is_empty() {
        return Err(Error::Empty);
    }
    if label >= student.len() {
        return Err(Error::OutOfRange {
            value: label as i64,
            min: 0,
            max: student.len() as i64 - 1,
        });
    }
    if !(w.alpha.is_finite() && w.beta.is_finite() && w.gamma.is_finite()) {
        return Err(Error::InvalidParameter("Apprentice weights must be finite"));
    }
    let (Some(lse_t), Some(lse_a)) = (log_sum_exp(teacher), log_sum_exp(student)) else {
        return Err(Error::InvalidParameter("logits must be finite"));
    };
    let (a, b, c) = (w.alpha as f64, w.beta as f64, w.gamma as f64);
    // H(y, p) = lse - z[label]; H(p_T, p_A) = Σ p_T·(lse_A - z_A).
    let mut soft = 0.0f64;
    for ((g, &zt), (k, &za)) in grad_student
        .iter_mut()
        .zip(teacher)
        .zip(student.iter().enumerate())
    {
        let pt = libm::exp(zt as f64 - lse_t);
        let pa = libm::exp(za as f64 - lse_a);
        soft += pt * (lse_a - za as f64);
        let y = if k == label { 1.0 } else { 0.0 };
        *g = (b * (pa - y) + c * (pa - pt)) as f32;
    }
    let loss = a * (lse_t - teacher[label] as f64) + b * (lse_a - student[label] as f64) + c * soft;
    Ok(loss as f32)
}
