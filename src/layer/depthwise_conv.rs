//! DEPTHWISE_CONV_2D: [`DepthwiseConv2D`] (int8) and
//! [`DepthwiseConv2D16x8`], bit for bit as TensorFlow Lite Micro's
//! `DepthwiseConvPerChannel` reference kernels compute them.

use super::fully_connected::{Channel, RequantMode, check_len};
use super::quantization::Quantization;
use super::stage::{ACC_TILE, BLOCK, Stage, prepare_16x8, prepare_int8};
use super::window::{Padding, Window, product, window_options};
use crate::Error;
use crate::requant::multiply_by_quantized_multiplier_i64;

/// The geometry of a depthwise convolution: input `[height, width,
/// channels]` (NHWC), the filter's spatial size, `depth_multiplier` and the
/// `DepthwiseConv2DOptions`. The filter is `[1, height, width, channels ·
/// depth_multiplier]` as TFLite stores it; output channel `c · m + k`
/// (`k < m`) reads input channel `c`.
///
/// ```
/// use qkit::layer::{DepthwiseConv2DShape, Padding};
/// let s = DepthwiseConv2DShape::new([32, 32, 8], [3, 3], 2).stride(2, 2);
/// assert_eq!(s.output_size()?, (16, 16));
/// assert_eq!(s.output_channels(), 16);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DepthwiseConv2DShape {
    /// Input height.
    pub input_height: usize,
    /// Input width.
    pub input_width: usize,
    /// Input channels.
    pub input_channels: usize,
    /// Filter height.
    pub filter_height: usize,
    /// Filter width.
    pub filter_width: usize,
    /// Output channels per input channel.
    pub depth_multiplier: usize,
    /// Vertical stride.
    pub stride_height: usize,
    /// Horizontal stride.
    pub stride_width: usize,
    /// Vertical dilation (1 = dense).
    pub dilation_height: usize,
    /// Horizontal dilation (1 = dense).
    pub dilation_width: usize,
    /// `SAME` or `VALID`.
    pub padding: Padding,
}

impl DepthwiseConv2DShape {
    /// Input `[height, width, channels]`, filter `[height, width]` and the
    /// depth multiplier; stride 1, dilation 1, SAME padding.
    ///
    /// ```
    /// use qkit::layer::{DepthwiseConv2DShape, Padding};
    /// let s = DepthwiseConv2DShape::new([8, 8, 3], [3, 3], 1);
    /// assert_eq!((s.stride_width, s.padding), (1, Padding::Same));
    /// ```
    pub fn new(input: [usize; 3], filter: [usize; 2], depth_multiplier: usize) -> Self {
        Self {
            input_height: input[0],
            input_width: input[1],
            input_channels: input[2],
            filter_height: filter[0],
            filter_width: filter[1],
            depth_multiplier,
            stride_height: 1,
            stride_width: 1,
            dilation_height: 1,
            dilation_width: 1,
            padding: Padding::Same,
        }
    }

    /// `input_channels · depth_multiplier` (saturating).
    ///
    /// ```
    /// # use qkit::layer::DepthwiseConv2DShape;
    /// assert_eq!(DepthwiseConv2DShape::new([4, 4, 5], [3, 3], 3).output_channels(), 15);
    /// ```
    pub fn output_channels(&self) -> usize {
        self.input_channels.saturating_mul(self.depth_multiplier)
    }

    fn window(&self) -> Result<Window, Error> {
        Window::new(
            [self.input_height, self.input_width],
            [self.filter_height, self.filter_width],
            [self.stride_height, self.stride_width],
            [self.dilation_height, self.dilation_width],
            self.padding,
        )
    }
}

window_options!(
    DepthwiseConv2DShape,
    "DepthwiseConv2DShape::new([8, 8, 3], [3, 3], 2)",
    dilation
);

/// The validated geometry of a depthwise convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geometry {
    window: Window,
    in_c: usize,
    mult: usize,
    out_c: usize,
}

impl Geometry {
    fn new(
        shape: &DepthwiseConv2DShape,
        channels: usize,
        weights_len: usize,
    ) -> Result<Self, Error> {
        let window = shape.window()?;
        let (in_c, mult) = (shape.input_channels, shape.depth_multiplier);
        if in_c == 0 || mult == 0 {
            return Err(Error::InvalidParameter("zero channels"));
        }
        let out_c = product(&[in_c, mult])?;
        check_len(out_c, channels)?;
        check_len(
            product(&[shape.filter_height, shape.filter_width, out_c])?,
            weights_len,
        )?;
        product(&[window.input_pixels(), in_c])?;
        product(&[window.output_pixels(), out_c])?;
        Ok(Self {
            window,
            in_c,
            mult,
            out_c,
        })
    }

    fn check_run(&self, input: usize, batch: usize, output: usize) -> Result<(), Error> {
        check_len(
            product(&[batch, self.window.input_pixels(), self.in_c])?,
            input,
        )?;
        check_len(
            product(&[batch, self.window.output_pixels(), self.out_c])?,
            output,
        )
    }

    /// Accumulates output channels `o0 .. o0 + acc.len()` of output pixel
    /// `p`: `acc[j] += Σ_taps w[tap][o0 + j] · x[tap][(o0 + j) / m]`, where a
    /// tap in the padding reads `pad` (the input zero point, whose
    /// contribution the folded bias removes again).
    fn accumulate<X, A>(
        &self,
        image: &[X],
        weights: &[i8],
        p: usize,
        o0: usize,
        pad: X,
        acc: &mut [A],
    ) where
        X: Copy,
        A: Mac<X>,
    {
        let win = &self.window;
        let (oy, ox) = (p / win.w.output, p % win.w.output);
        let n = acc.len();
        for ky in 0..win.h.filter {
            let iy = win.h.tap(oy, ky);
            for kx in 0..win.w.filter {
                let tap = ky * win.w.filter + kx;
                let w = &weights[tap * self.out_c + o0..][..n];
                match (iy, win.w.tap(ox, kx)) {
                    (Some(iy), Some(ix)) => {
                        let pixel = &image[(iy * win.w.input + ix) * self.in_c..][..self.in_c];
                        if self.mult == 1 {
                            A::mac(acc, w, &pixel[o0..o0 + n]);
                        } else {
                            for (j, (a, &w)) in acc.iter_mut().zip(w).enumerate() {
                                a.mac_one(w, pixel[(o0 + j) / self.mult]);
                            }
                        }
                    }
                    _ => {
                        for (a, &w) in acc.iter_mut().zip(w) {
                            a.mac_one(w, pad);
                        }
                    }
                }
            }
        }
    }
}

impl Geometry {
    /// [`accumulate`](Self::accumulate) for int8 with depth multiplier 1,
    /// over `acc.len() / nb` consecutive output pixels of row `oy` from
    /// column `ox0`, tap by tap: every tap reads `nb` contiguous activations
    /// per pixel (or `pad_row` in the padding), and with narrow-range
    /// weights two taps are summed in `i16` before widening
    /// (`|w·x| <= 127·128`, so two products fit).
    #[allow(clippy::too_many_arguments)]
    fn accumulate_row_i8_m1(
        &self,
        image: &[i8],
        weights: &[i8],
        (oy, ox0): (usize, usize),
        o0: usize,
        pad_row: &[i8],
        narrow: bool,
        acc: &mut [i32],
        nb: usize,
    ) {
        let win = &self.window;
        let x_at = |iy: Option<usize>, kx: usize, ox: usize| -> &[i8] {
            match (iy, win.w.tap(ox, kx)) {
                (Some(iy), Some(ix)) => &image[(iy * win.w.input + ix) * self.in_c + o0..][..nb],
                _ => &pad_row[..nb],
            }
        };
        let mut pending: Option<(&[i8], Option<usize>, usize)> = None;
        for ky in 0..win.h.filter {
            let iy = win.h.tap(oy, ky);
            for kx in 0..win.w.filter {
                let w = &weights[(ky * win.w.filter + kx) * self.out_c + o0..][..nb];
                if !narrow {
                    for (i, a) in acc.chunks_exact_mut(nb).enumerate() {
                        mac1(a, w, x_at(iy, kx, ox0 + i));
                    }
                } else if let Some((w0, iy0, kx0)) = pending.take() {
                    for (i, a) in acc.chunks_exact_mut(nb).enumerate() {
                        mac2_narrow(a, w0, x_at(iy0, kx0, ox0 + i), w, x_at(iy, kx, ox0 + i));
                    }
                } else {
                    pending = Some((w, iy, kx));
                }
            }
        }
        if let Some((w0, iy0, kx0)) = pending {
            for (i, a) in acc.chunks_exact_mut(nb).enumerate() {
                mac1(a, w0, x_at(iy0, kx0, ox0 + i));
            }
        }
    }
}

/// Lanes per chunk of the int8 depthwise kernels: fixed 16-lane chunks let
/// the compiler use full vectors of i16 products rather than the 4 lanes an
/// i32 accumulator would size them to.
const LANES: usize = 16;

/// `acc[i] += w[i]·x[i]`.
#[inline]
fn mac1(acc: &mut [i32], w: &[i8], x: &[i8]) {
    let n = acc.len().min(w.len()).min(x.len());
    let full = n - n % LANES;
    for ((a, w), x) in acc[..full]
        .chunks_exact_mut(LANES)
        .zip(w.chunks_exact(LANES))
        .zip(x.chunks_exact(LANES))
    {
        let mut p = [0i16; LANES];
        for k in 0..LANES {
            p[k] = i16::from(w[k]) * i16::from(x[k]);
        }
        for k in 0..LANES {
            a[k] = a[k].wrapping_add(i32::from(p[k]));
        }
    }
    for i in full..n {
        acc[i] = acc[i].wrapping_add(i32::from(i16::from(w[i]) * i16::from(x[i])));
    }
}

/// `acc[i] += w0[i]·x0[i] + w1[i]·x1[i]` for weights in `[-127, 127]`: the
/// two products and their sum are exact in `i16` (at most `2·127·128`).
#[inline]
fn mac2_narrow(acc: &mut [i32], w0: &[i8], x0: &[i8], w1: &[i8], x1: &[i8]) {
    const L: usize = LANES;
    let n = acc
        .len()
        .min(w0.len())
        .min(x0.len())
        .min(w1.len())
        .min(x1.len());
    let full = n - n % L;
    for ((((a, w0), x0), w1), x1) in acc[..full]
        .chunks_exact_mut(L)
        .zip(w0.chunks_exact(L))
        .zip(x0.chunks_exact(L))
        .zip(w1.chunks_exact(L))
        .zip(x1.chunks_exact(L))
    {
        let mut pair = [0i16; L];
        for k in 0..L {
            pair[k] = (i16::from(w0[k]) * i16::from(x0[k]))
                .wrapping_add(i16::from(w1[k]) * i16::from(x1[k]));
        }
        for k in 0..L {
            a[k] = a[k].wrapping_add(i32::from(pair[k]));
        }
    }
    for i in full..n {
        let pair =
            (i16::from(w0[i]) * i16::from(x0[i])).wrapping_add(i16::from(w1[i]) * i16::from(x1[i]));
        acc[i] = acc[i].wrapping_add(i32::from(pair));
    }
}

/// Multiply-accumulate of int8 weights with activations `X` into `Self`.
trait Mac<X: Copy>: Copy + Default {
    fn mac_one(&mut self, w: i8, x: X);
    #[inline]
    fn mac(acc: &mut [Self], w: &[i8], x: &[X]) {
        for ((a, &w), &x) in acc.iter_mut().zip(w).zip(x) {
            a.mac_one(w, x);
        }
    }
}

impl Mac<i8> for i32 {
    #[inline]
    fn mac_one(&mut self, w: i8, x: i8) {
        // |w·x| <= 2^14: the product is exact in i16, the sum wraps in i32
        // like TFLite's accumulator.
        *self = self.wrapping_add(i32::from(i16::from(w) * i16::from(x)));
    }
}

impl Mac<i16> for i64 {
    #[inline]
    fn mac_one(&mut self, w: i8, x: i16) {
        *self = self.wrapping_add(i64::from(i32::from(w) * i32::from(x)));
    }
}

/// An int8 DEPTHWISE_CONV_2D layer: NHWC int8 input, `[1, H, W, C·m]` int8
/// weights with per-tensor or per-channel scales, optional int32 bias.
///
/// For output pixel `(y, x)` and output channel `o = c·m + k`
/// (TFLite's `DepthwiseConvPerChannel`):
///
/// ```text
/// acc = Σ_(ky,kx) w[ky,kx,o] · (in[iy,ix,c] - zp_in) + bias[o]   (int32)
/// out = clamp(requantize(acc, M[o]) + zp_out, act_min, act_max)
/// ```
///
/// with padding taps skipped. The kernel runs over channels (the
/// innermost, contiguous dimension) with the input zero point folded into
/// the bias, and requantizes tiles of accumulators at once. No scratch
/// buffer is needed.
///
/// ```
/// use qkit::layer::{
///     Activation, Channel, DepthwiseConv2D, DepthwiseConv2DShape, FilterQuantizer, Padding,
///     Quantization, RequantMode,
/// };
/// use qkit::quant::Quantizer;
/// // 2 channels, 3x1 image, a 3x1 filter per channel, SAME.
/// let shape = DepthwiseConv2DShape::new([3, 1, 2], [3, 1], 1);
/// let w = [1, 0, 1, 1, 1, 0]; // [ky][channel]: channel 0 sums 3 rows, channel 1 copies
/// let q = Quantization {
///     input: Quantizer::new(1.0, 0)?,
///     filter: FilterQuantizer::symmetric(&[1.0])?,
///     output: Quantizer::new(1.0, 0)?,
///     activation: Activation::None,
/// };
/// let mut ch = [Channel::default(); 2];
/// let dw = DepthwiseConv2D::new(&w, &shape, None, &q, RequantMode::Double, &mut ch)?;
/// let mut y = [0i8; 6];
/// dw.run(&[1, 10, 2, 20, 3, 30], 1, &mut y)?;
/// assert_eq!(y, [3, 10, 6, 20, 5, 30]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug)]
pub struct DepthwiseConv2D<'a> {
    weights: &'a [i8],
    /// No weight is -128 (the paired-tap kernel applies).
    narrow: bool,
    geometry: Geometry,
    channels: &'a [Channel],
    stage: Stage,
    input_zero_point: i8,
}

impl<'a> DepthwiseConv2D<'a> {
    /// Builds the layer (`channels.len()` must be `input_channels ·
    /// depth_multiplier`).
    ///
    /// Errors: sizes, bias length, filter scale count, zero points, scales,
    /// multipliers outside the output stage's range, an empty output.
    ///
    /// ```
    /// use qkit::layer::*;
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let shape = DepthwiseConv2DShape::new([4, 4, 2], [3, 3], 2);
    /// let mut ch = [Channel::default(); 4];
    /// assert!(DepthwiseConv2D::new(&[1; 36], &shape, None, &q, RequantMode::Double, &mut ch).is_ok());
    /// let mut ch = [Channel::default(); 3];
    /// assert!(DepthwiseConv2D::new(&[1; 36], &shape, None, &q, RequantMode::Double, &mut ch).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        weights: &'a [i8],
        shape: &DepthwiseConv2DShape,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: RequantMode,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        let geometry = Geometry::new(shape, channels.len(), weights.len())?;
        let out_c = geometry.out_c;
        // Σw of output channel o: its taps are every out_c-th weight.
        let weight_sum = |o: usize| {
            weights[o..]
                .iter()
                .step_by(out_c)
                .fold(0i32, |s, &w| s.wrapping_add(i32::from(w)))
        };
        let stage = prepare_int8(q, requant, bias, channels, weight_sum)?;
        Ok(Self {
            weights,
            narrow: weights.iter().all(|&w| w != i8::MIN),
            geometry,
            channels,
            stage,
            input_zero_point: q.input.zero_point() as i8,
        })
    }

    /// The output `[height, width, channels]` of one image.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// # use qkit::quant::Quantizer;
    /// # let q = Quantization {
    /// #     input: Quantizer::new(1.0, 0)?,
    /// #     filter: FilterQuantizer::symmetric(&[1.0])?,
    /// #     output: Quantizer::new(1.0, 0)?,
    /// #     activation: Activation::None,
    /// # };
    /// let mut ch = [Channel::default(); 6];
    /// let shape = DepthwiseConv2DShape::new([5, 5, 3], [3, 3], 2).stride(2, 2);
    /// let dw = DepthwiseConv2D::new(&[1; 54], &shape, None, &q, RequantMode::Double, &mut ch)?;
    /// assert_eq!(dw.output_shape(), [3, 3, 6]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn output_shape(&self) -> [usize; 3] {
        let g = &self.geometry;
        [g.window.h.output, g.window.w.output, g.out_c]
    }

    /// The activation clamp `[act_min, act_max]`.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// # use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(0.1, 0)?,
    ///     activation: Activation::ReluN1To1,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// let dw = DepthwiseConv2D::new(&[1], &DepthwiseConv2DShape::new([1, 1, 1], [1, 1], 1),
    ///     None, &q, RequantMode::Double, &mut ch)?;
    /// assert_eq!(dw.activation_range(), (-10, 10));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn activation_range(&self) -> (i32, i32) {
        self.stage.activation_range()
    }

    /// Runs `batch` NHWC images.
    ///
    /// ```
    /// use qkit::layer::*;
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 5)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// let shape = DepthwiseConv2DShape::new([1, 3, 1], [1, 3], 1);
    /// let dw = DepthwiseConv2D::new(&[1, 2, 3], &shape, None, &q, RequantMode::Double, &mut ch)?;
    /// let mut y = [0i8; 3];
    /// dw.run(&[6, 7, 8], 1, &mut y)?; // real values 1, 2, 3; padding is real 0
    /// assert_eq!(y, [2 + 6, 1 + 4 + 9, 2 + 6]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i8], batch: usize, output: &mut [i8]) -> Result<(), Error> {
        let g = &self.geometry;
        g.check_run(input.len(), batch, output.len())?;
        let block = BLOCK.min(g.out_c);
        let tile = ACC_TILE / block;
        let mut acc = [0i32; ACC_TILE];
        let pad_row = [self.input_zero_point; BLOCK];
        let (out_h, out_w) = (g.window.h.output, g.window.w.output);
        let in_len = g.window.input_pixels() * g.in_c;
        for (image, out_image) in input
            .chunks_exact(in_len)
            .zip(output.chunks_exact_mut(out_h * out_w * g.out_c))
        {
            // Tiles of consecutive pixels within one output row.
            for oy in 0..out_h {
                for ox0 in (0..out_w).step_by(tile) {
                    let n = tile.min(out_w - ox0);
                    let p0 = oy * out_w + ox0;
                    let out_tile = &mut out_image[p0 * g.out_c..(p0 + n) * g.out_c];
                    for o0 in (0..g.out_c).step_by(block) {
                        let nb = block.min(g.out_c - o0);
                        let acc = &mut acc[..n * nb];
                        acc.fill(0);
                        if g.mult == 1 {
                            let (w, narrow) = (self.weights, self.narrow);
                            g.accumulate_row_i8_m1(
                                image,
                                w,
                                (oy, ox0),
                                o0,
                                &pad_row,
                                narrow,
                                acc,
                                nb,
                            );
                        } else {
                            for (i, a) in acc.chunks_exact_mut(nb).enumerate() {
                                let zp = self.input_zero_point;
                                g.accumulate(image, self.weights, p0 + i, o0, zp, a);
                            }
                        }
                        let chans = &self.channels[o0..o0 + nb];
                        if nb == g.out_c {
                            self.stage.apply(acc, chans, out_tile)?;
                        } else {
                            for (a, y) in
                                acc.chunks_exact(nb).zip(out_tile.chunks_exact_mut(g.out_c))
                            {
                                self.stage.apply(a, chans, &mut y[o0..o0 + nb])?;
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// A 16x8 DEPTHWISE_CONV_2D layer: int16 activations (zero point 0), int8
/// weights, int64 bias, int64 accumulator and TFLite's 64-bit
/// requantization (Q15 multiplier, one rounding, ties up), int16 output
/// (zero point 0). TFLite Micro has only this int64-bias kernel for
/// depthwise 16x8.
///
/// ```
/// use qkit::layer::*;
/// use qkit::quant::Quantizer;
/// let q = Quantization {
///     input: Quantizer::new(0.5, 0)?,
///     filter: FilterQuantizer::symmetric(&[1.0])?,
///     output: Quantizer::new(1.0, 0)?,
///     activation: Activation::None,
/// };
/// let mut ch = [Channel::default(); 2];
/// let shape = DepthwiseConv2DShape::new([1, 1, 1], [1, 1], 2);
/// let dw = DepthwiseConv2D16x8::new(&[3, -3], &shape, Some(&[1, 1]), &q, &mut ch)?;
/// let mut y = [0i16; 2];
/// dw.run(&[1001], 1, &mut y)?;
/// assert_eq!(y, [1502, -1501]); // 3004 · 0.5 and -3002 · 0.5
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug)]
pub struct DepthwiseConv2D16x8<'a> {
    weights: &'a [i8],
    geometry: Geometry,
    channels: &'a [Channel],
    act_min: i32,
    act_max: i32,
}

impl<'a> DepthwiseConv2D16x8<'a> {
    /// Builds the layer; zero points must be 0.
    ///
    /// ```
    /// use qkit::layer::*;
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(0.5, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 1)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// let shape = DepthwiseConv2DShape::new([1, 1, 1], [1, 1], 1);
    /// assert!(DepthwiseConv2D16x8::new(&[3], &shape, None, &q, &mut ch).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        weights: &'a [i8],
        shape: &DepthwiseConv2DShape,
        bias: Option<&[i64]>,
        q: &Quantization<'_, i16>,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        let geometry = Geometry::new(shape, channels.len(), weights.len())?;
        if let Some(b) = bias {
            check_len(channels.len(), b.len())?;
        }
        let (act_min, act_max) = prepare_16x8(q, bias.map(|b| move |o: usize| b[o]), channels)?;
        Ok(Self {
            weights,
            geometry,
            channels,
            act_min,
            act_max,
        })
    }

    /// The output `[height, width, channels]` of one image.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// # use qkit::quant::Quantizer;
    /// # let q = Quantization {
    /// #     input: Quantizer::new(1.0, 0)?,
    /// #     filter: FilterQuantizer::symmetric(&[1.0])?,
    /// #     output: Quantizer::new(1.0, 0)?,
    /// #     activation: Activation::None,
    /// # };
    /// let mut ch = [Channel::default(); 2];
    /// let shape = DepthwiseConv2DShape::new([3, 3, 2], [3, 3], 1).padding(Padding::Valid);
    /// let dw = DepthwiseConv2D16x8::new(&[1; 18], &shape, None, &q, &mut ch)?;
    /// assert_eq!(dw.output_shape(), [1, 1, 2]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn output_shape(&self) -> [usize; 3] {
        let g = &self.geometry;
        [g.window.h.output, g.window.w.output, g.out_c]
    }

    /// Runs `batch` NHWC images.
    ///
    /// ```
    /// use qkit::layer::*;
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::Relu,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// let shape = DepthwiseConv2DShape::new([1, 2, 1], [1, 2], 1);
    /// let dw = DepthwiseConv2D16x8::new(&[-1, 2], &shape, None, &q, &mut ch)?;
    /// let mut y = [0i16; 2];
    /// dw.run(&[1000, 100], 1, &mut y)?;
    /// assert_eq!(y, [0, 0]); // -800 clamps; the second pads with 0: -100
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[i16], batch: usize, output: &mut [i16]) -> Result<(), Error> {
        let g = &self.geometry;
        g.check_run(input.len(), batch, output.len())?;
        let mut acc = [0i64; BLOCK];
        let pixels = g.window.output_pixels();
        let in_len = g.window.input_pixels() * g.in_c;
        for (image, out_image) in input
            .chunks_exact(in_len)
            .zip(output.chunks_exact_mut(pixels * g.out_c))
        {
            for (p, y) in out_image.chunks_exact_mut(g.out_c).enumerate() {
                for o0 in (0..g.out_c).step_by(BLOCK) {
                    let nb = BLOCK.min(g.out_c - o0);
                    let acc = &mut acc[..nb];
                    acc.fill(0);
                    g.accumulate(image, self.weights, p, o0, 0, acc);
                    for ((y, &a), ch) in y[o0..o0 + nb]
                        .iter_mut()
                        .zip(acc.iter())
                        .zip(&self.channels[o0..o0 + nb])
                    {
                        let v = multiply_by_quantized_multiplier_i64(
                            a.wrapping_add(ch.bias64),
                            ch.multiplier,
                        );
                        *y = v.clamp(self.act_min, self.act_max) as i16;
                    }
                }
            }
        }
        Ok(())
    }
}
