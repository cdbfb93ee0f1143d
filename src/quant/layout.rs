//! A tensor shape seen from one axis: `outer x axis_len x inner` elements,
//! row-major, with ONNX's axis convention (negative counts from the end).

use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct AxisLayout {
    pub(crate) outer: usize,
    pub(crate) axis_len: usize,
    pub(crate) inner: usize,
}

impl AxisLayout {
    /// `Err(InvalidParameter)` for an axis outside `[-rank, rank)`, a scalar
    /// shape, or a shape whose element count overflows `usize`.
    pub(crate) fn new(dims: &[usize], axis: isize) -> Result<AxisLayout, Error> {
        let rank = dims.len() as isize;
        let a = if axis < 0 { axis + rank } else { axis };
        if rank == 0 || a < 0 || a >= rank {
            return Err(Error::InvalidParameter("axis outside [-rank, rank)"));
        }
        let a = a as usize;
        let product = |d: &[usize]| {
            d.iter()
                .try_fold(1usize, |acc, &n| acc.checked_mul(n))
                .ok_or(Error::InvalidParameter(
                    "shape: element count overflows usize",
                ))
        };
        let layout = AxisLayout {
            outer: product(&dims[..a])?,
            axis_len: dims[a],
            inner: product(&dims[a + 1..])?,
        };
        layout.len()?;
        Ok(layout)
    }

    pub(crate) fn len(&self) -> Result<usize, Error> {
        self.outer
            .checked_mul(self.axis_len)
            .and_then(|n| n.checked_mul(self.inner))
            .ok_or(Error::InvalidParameter(
                "shape: element count overflows usize",
            ))
    }
}

use crate::int4::Nibble;
use crate::quant::per_tensor::{Affine, check_len, dequantize_one};
use crate::{QInt, Round};

/// One stretch of consecutive elements that share a scale and zero point.
#[derive(Clone, Copy)]
pub(crate) struct Run {
    pub(crate) start: usize,
    pub(crate) len: usize,
    pub(crate) scale: f32,
    pub(crate) zero_point: i32,
}

/// A granularity (per channel, per block) is a way to cut a tensor into runs.
/// The four slice operations are written once, on top of the runs.
pub(crate) trait Runs {
    /// Total element count.
    fn len(&self) -> usize;
    /// Range of the quantized values.
    fn bounds(&self) -> (i32, i32);
    /// Calls `f` on every run, in order, covering `0..len()` exactly once.
    fn for_each_run(&self, f: impl FnMut(Run));
}

pub(crate) fn quantize<Q: QInt, T: Copy>(
    g: &impl Runs,
    x: &[T],
    out: &mut [Q],
    round: Round,
    to_f32: impl Fn(T) -> f32 + Copy,
) -> Result<(), Error> {
    check_len(g.len(), x.len())?;
    check_len(g.len(), out.len())?;
    let (qmin, qmax) = g.bounds();
    g.for_each_run(|r| {
        let a = Affine::new(r.scale, r.zero_point, qmin, qmax);
        let span = r.start..r.start + r.len;
        a.run(&x[span.clone()], &mut out[span], round, to_f32);
    });
    Ok(())
}

pub(crate) fn dequantize<Q: QInt>(g: &impl Runs, q: &[Q], out: &mut [f32]) -> Result<(), Error> {
    check_len(g.len(), q.len())?;
    check_len(g.len(), out.len())?;
    g.for_each_run(|r| {
        let span = r.start..r.start + r.len;
        for (o, v) in out[span.clone()].iter_mut().zip(&q[span]) {
            *o = dequantize_one(r.scale, r.zero_point, v.to_i32(), Q::BITS);
        }
    });
    Ok(())
}

pub(crate) fn quantize_packed<Q: Nibble>(
    g: &impl Runs,
    x: &[f32],
    out: &mut [u8],
    round: Round,
) -> Result<(), Error> {
    check_len(g.len(), x.len())?;
    check_len(crate::int4::packed_len(g.len()), out.len())?;
    let (qmin, qmax) = g.bounds();
    if let Some(last) = out.last_mut() {
        *last = 0; // an odd length leaves the final high nibble zero
    }
    g.for_each_run(|r| {
        let a = Affine::new(r.scale, r.zero_point, qmin, qmax);
        for i in r.start..r.start + r.len {
            let v: Q = a.one(x[i], round);
            let b = &mut out[i / 2];
            *b = if i % 2 == 0 {
                (*b & 0xf0) | v.encode()
            } else {
                (*b & 0x0f) | (v.encode() << 4)
            };
        }
    });
    Ok(())
}

pub(crate) fn dequantize_packed<Q: Nibble>(
    g: &impl Runs,
    packed: &[u8],
    out: &mut [f32],
) -> Result<(), Error> {
    check_len(g.len(), out.len())?;
    check_len(crate::int4::packed_len(g.len()), packed.len())?;
    g.for_each_run(|r| {
        for i in r.start..r.start + r.len {
            let v = Q::decode(packed[i / 2] >> (4 * (i % 2)));
            out[i] = dequantize_one(r.scale, r.zero_point, v.to_i32(), Q::BITS);
        }
    });
    Ok(())
}

/// Checks a table of scales and zero points: every scale finite and `> 0`,
/// `zero_points` empty (all zero) or as long as `scales`, each in range.
pub(crate) fn check_params(
    scales: &[f32],
    zero_points: &[i32],
    expected: usize,
    qmin: i32,
    qmax: i32,
) -> Result<(), Error> {
    use crate::quant::per_tensor::{check_scale, check_zero_point};
    check_len(expected, scales.len())?;
    if !zero_points.is_empty() {
        check_len(expected, zero_points.len())?;
    }
    for &s in scales {
        check_scale(s)?;
    }
    if zero_points.is_empty() {
        check_zero_point(0, qmin, qmax)?;
    }
    for &z in zero_points {
        check_zero_point(z, qmin, qmax)?;
    }
    Ok(())
}
