//! DEPTHWISE_CONV_2D: [`DepthwiseConv2D`] (int8) and
//! [`DepthwiseConv2D16x8`], bit for bit as TensorFlow Lite Micro's
//! `DepthwiseConvPerChannel` reference kernels compute them.

use super::fully_connected::{Channel, RequantMode, check_len};
use super::quantization::Quantization;
use super::stage::{ACC_TILE, BLOCK, Stage, prepare_16x8, prepare_int8};
use super::window::{Padding, Window, product, window_options};
use crate::Error;
use crate::kernel::DepthwiseTile;
use crate::kernel::output_stage::{Clamp, requantize_tile_i64};

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

    /// Runs `f` on every tile of the images in `input`: up to
    /// `acc.len() / nb` consecutive output pixels of one row times a block
    /// of `nb <= BLOCK` output channels, with the kernel's description of
    /// the tile, its accumulators (`[pixels][nb]`, zeroed) and the output
    /// pixels it covers (`[pixels][out_c]`).
    fn for_each_tile<X: Copy, A: Copy + Default, Y>(
        &self,
        input: &[X],
        output: &mut [Y],
        weights: &[i8],
        pad: X,
        acc: &mut [A],
        mut f: impl FnMut(&DepthwiseTile<'_, X>, &mut [A], &mut [Y]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let block = BLOCK.min(self.out_c);
        let tile = (acc.len() / block).max(1);
        let (out_h, out_w) = (self.window.h.output, self.window.w.output);
        let in_len = self.window.input_pixels() * self.in_c;
        for (image, out_image) in input
            .chunks_exact(in_len)
            .zip(output.chunks_exact_mut(out_h * out_w * self.out_c))
        {
            for oy in 0..out_h {
                for ox0 in (0..out_w).step_by(tile) {
                    let n = tile.min(out_w - ox0);
                    let p0 = oy * out_w + ox0;
                    let out_tile = &mut out_image[p0 * self.out_c..(p0 + n) * self.out_c];
                    for o0 in (0..self.out_c).step_by(block) {
                        let nb = block.min(self.out_c - o0);
                        let acc = &mut acc[..n * nb];
                        acc.fill(A::default());
                        let t = self.tile(image, weights, pad, (oy, ox0), n, o0, nb);
                        f(&t, acc, out_tile)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The kernel layer's description of output pixels `ox0 .. ox0 +
    /// pixels` of row `oy`, output channels `o0 .. o0 + nb`; a tap in the
    /// padding reads `pad` (the input zero point, whose contribution the
    /// folded bias removes again).
    #[allow(clippy::too_many_arguments)]
    fn tile<'a, X: Copy>(
        &self,
        image: &'a [X],
        weights: &'a [i8],
        pad: X,
        (oy, ox0): (usize, usize),
        pixels: usize,
        o0: usize,
        nb: usize,
    ) -> DepthwiseTile<'a, X> {
        let (h, w) = (&self.window.h, &self.window.w);
        DepthwiseTile {
            input: image,
            input_size: [h.input, w.input, self.in_c],
            weights,
            filter_size: [h.filter, w.filter],
            depth_multiplier: self.mult,
            stride: [h.stride, w.stride],
            dilation: [h.dilation, w.dilation],
            padding: [h.pad_before, w.pad_before],
            pad_value: pad,
            origin: [oy, ox0],
            pixels,
            channel_start: o0,
            channel_count: nb,
        }
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
        let mut acc = [0i32; ACC_TILE];
        let zp = self.input_zero_point;
        g.for_each_tile(
            input,
            output,
            self.weights,
            zp,
            &mut acc,
            |t, acc, out_tile| {
                t.accumulate(acc);
                let (o0, nb) = (t.channel_start, t.channel_count);
                let chans = &self.channels[o0..o0 + nb];
                if nb == g.out_c {
                    return self.stage.apply(acc, chans, out_tile);
                }
                for (a, y) in acc.chunks_exact(nb).zip(out_tile.chunks_exact_mut(g.out_c)) {
                    self.stage.apply(a, chans, &mut y[o0..o0 + nb])?;
                }
                Ok(())
            },
        )
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
        // As many bytes as the int8 layer's tile.
        let mut acc = [0i64; ACC_TILE / 2];
        let clamp = Clamp::new(0, self.act_min, self.act_max);
        g.for_each_tile(
            input,
            output,
            self.weights,
            0,
            &mut acc,
            |t, acc, out_tile| {
                t.accumulate_i64(acc);
                let (o0, nb) = (t.channel_start, t.channel_count);
                let chans = &self.channels[o0..o0 + nb];
                for (a, y) in acc.chunks_exact(nb).zip(out_tile.chunks_exact_mut(g.out_c)) {
                    requantize_tile_i64(a, chans, clamp, &mut y[o0..o0 + nb]);
                }
                Ok(())
            },
        )
    }
}
