//! CONV_2D: [`Conv2D`] (int8) and [`Conv2D16x8`] (int16 activations, int8
//! weights), bit for bit as TensorFlow Lite Micro's `ConvPerChannel`
//! reference kernels compute them.

use super::fully_connected::{Channel, RequantMode, check_len};
use super::quantization::Quantization;
use super::stage::{ACC_TILE, BLOCK, GemmWeights, Stage, prepare_16x8, prepare_int8};
use super::window::{Padding, Window, product, window_options};
use crate::Error;
use crate::requant::{
    Rounding, multiply_by_quantized_multiplier, multiply_by_quantized_multiplier_i64,
};

/// The geometry of a convolution as a .tflite file describes it: the input
/// tensor's `[height, width, channels]` (NHWC, batch given at run time),
/// the filter's spatial size and input depth (`[out, height, width,
/// in]`, OHWI), and the `Conv2DOptions`.
///
/// `filter_input_channels` below `input_channels` makes a **grouped**
/// convolution: `groups = input_channels / filter_input_channels`, output
/// channel `o` reads input channels `g·f .. (g+1)·f` of its group
/// `g = o / (out_channels / groups)`.
///
/// ```
/// use qkit::layer::{Conv2DShape, Padding};
/// // A 3x3 convolution over a 32x32x16 image, stride 2, VALID.
/// let s = Conv2DShape::new([32, 32, 16], [3, 3, 16]).stride(2, 2).padding(Padding::Valid);
/// assert_eq!((s.stride_height, s.dilation_width), (2, 1));
/// assert_eq!(s.output_size()?, (15, 15));
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Conv2DShape {
    /// Input height.
    pub input_height: usize,
    /// Input width.
    pub input_width: usize,
    /// Input channels (depth).
    pub input_channels: usize,
    /// Filter height.
    pub filter_height: usize,
    /// Filter width.
    pub filter_width: usize,
    /// Input channels each filter reads (the last filter dimension).
    pub filter_input_channels: usize,
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

impl Conv2DShape {
    /// Input `[height, width, channels]` and filter `[height, width,
    /// in_channels]`; stride 1, dilation 1, SAME padding.
    ///
    /// ```
    /// use qkit::layer::{Conv2DShape, Padding};
    /// let s = Conv2DShape::new([8, 8, 3], [5, 5, 3]);
    /// assert_eq!((s.stride_width, s.dilation_height, s.padding), (1, 1, Padding::Same));
    /// ```
    pub fn new(input: [usize; 3], filter: [usize; 3]) -> Self {
        Self {
            input_height: input[0],
            input_width: input[1],
            input_channels: input[2],
            filter_height: filter[0],
            filter_width: filter[1],
            filter_input_channels: filter[2],
            stride_height: 1,
            stride_width: 1,
            dilation_height: 1,
            dilation_width: 1,
            padding: Padding::Same,
        }
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

    /// Taps per output value: `filter_height · filter_width ·
    /// filter_input_channels`.
    fn depth(&self) -> Result<usize, Error> {
        product(&[
            self.filter_height,
            self.filter_width,
            self.filter_input_channels,
        ])
    }

    /// A 1x1 convolution with stride 1 over a whole image reads the input
    /// rows as they are: no im2col.
    fn is_pointwise(&self) -> bool {
        self.filter_height == 1
            && self.filter_width == 1
            && self.stride_height == 1
            && self.stride_width == 1
            && self.filter_input_channels == self.input_channels
    }
}

window_options!(
    Conv2DShape,
    "Conv2DShape::new([8, 8, 3], [3, 3, 3])",
    dilation
);

/// The validated geometry of a convolution with `out` output channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geometry {
    window: Window,
    in_c: usize,
    /// Input channels per group (filter depth).
    fin: usize,
    groups: usize,
    out_c: usize,
    /// `fh · fw · fin`.
    depth: usize,
    pointwise: bool,
}

impl Geometry {
    fn new(shape: &Conv2DShape, out_c: usize, weights_len: usize) -> Result<Self, Error> {
        let window = shape.window()?;
        let (in_c, fin) = (shape.input_channels, shape.filter_input_channels);
        if in_c == 0 || fin == 0 || out_c == 0 {
            return Err(Error::InvalidParameter("zero channels"));
        }
        if !in_c.is_multiple_of(fin) {
            return Err(Error::InvalidParameter(
                "input channels are not a multiple of the filter input channels",
            ));
        }
        let groups = in_c / fin;
        if !out_c.is_multiple_of(groups) {
            return Err(Error::InvalidParameter(
                "output channels are not a multiple of the group count",
            ));
        }
        let depth = shape.depth()?;
        check_len(product(&[out_c, depth])?, weights_len)?;
        // Every index of one image must fit comfortably (and i32 sums of
        // `depth` int8 products must be what TFLite computes: it wraps too).
        product(&[window.input_pixels(), in_c])?;
        product(&[window.output_pixels(), out_c])?;
        Ok(Self {
            window,
            in_c,
            fin,
            groups,
            out_c,
            depth,
            pointwise: shape.is_pointwise(),
        })
    }

    fn input_len(&self) -> usize {
        self.window.input_pixels() * self.in_c
    }

    fn output_len(&self) -> usize {
        self.window.output_pixels() * self.out_c
    }

    /// Copies the receptive field of output pixel `p` over input channels
    /// `c0 .. c0 + fin` into `dst` (`depth` values, ordered like an OHWI
    /// filter row), writing `pad` for taps in the padding.
    fn im2col<T: Copy>(&self, image: &[T], p: usize, c0: usize, pad: T, dst: &mut [T]) {
        let (win, fin) = (&self.window, self.fin);
        let (oy, ox) = (p / win.w.output, p % win.w.output);
        let mut chunks = dst.chunks_exact_mut(fin);
        for ky in 0..win.h.filter {
            let iy = win.h.tap(oy, ky);
            for kx in 0..win.w.filter {
                let Some(d) = chunks.next() else { return };
                match (iy, win.w.tap(ox, kx)) {
                    (Some(iy), Some(ix)) => {
                        let at = (iy * win.w.input + ix) * self.in_c + c0;
                        d.copy_from_slice(&image[at..at + fin]);
                    }
                    _ => d.fill(pad),
                }
            }
        }
    }

    fn check_run(&self, input: usize, batch: usize, output: usize) -> Result<(), Error> {
        check_len(product(&[batch, self.input_len()])?, input)?;
        check_len(product(&[batch, self.output_len()])?, output)
    }
}

/// An int8 CONV_2D layer: NHWC int8 input, OHWI int8 weights with
/// per-tensor or per-output-channel scales, optional int32 bias, int8
/// output, any stride, dilation, padding and group count.
///
/// For every output pixel and channel `o` (TFLite's `ConvPerChannel`):
///
/// ```text
/// acc = Σ_(ky,kx,c) w[o,ky,kx,c] · (x[iy,ix,c] - zp_in) + bias[o]   (int32, wrapping)
/// out = clamp(requantize(acc, M[o]) + zp_out, act_min, act_max)
/// ```
///
/// where taps in the padding are skipped (the same as padding with
/// `zp_in`), and `M[o] = (double)s_in · (double)s_w[o] / (double)s_out` as
/// TFLite Micro's Prepare forms it. The input zero point is folded into the
/// bias at construction, so the kernels multiply raw int8 values: 1x1
/// stride-1 convolutions run as one GEMM on the input rows, the others
/// gather each pixel's receptive field (im2col) into the caller's scratch
/// buffer first ([`Conv2D::buffer_len`]).
///
/// ```
/// use qkit::layer::{Activation, Channel, Conv2D, Conv2DShape, FilterQuantizer, Quantization, RequantMode};
/// use qkit::quant::Quantizer;
/// // One 2x2 filter summing a 3x3x1 image; SAME padding, stride 1.
/// let shape = Conv2DShape::new([3, 3, 1], [2, 2, 1]);
/// let q = Quantization {
///     input: Quantizer::new(1.0, -1)?,
///     filter: FilterQuantizer::symmetric(&[1.0])?,
///     output: Quantizer::new(1.0, 0)?,
///     activation: Activation::None,
/// };
/// let mut ch = [Channel::default(); 1];
/// let conv = Conv2D::new(&[1, 1, 1, 1], &shape, None, &q, RequantMode::Double, &mut ch)?;
/// let mut scratch = vec![0i8; Conv2D::buffer_len(&shape)?];
/// let x = [-1, 0, 1, 2, 3, 4, 5, 6, 7]; // real values 0..=8
/// let mut y = [0i8; 9];
/// conv.run(&x, 1, &mut y, &mut scratch)?;
/// // TFLite's SAME for an even filter pads after: the last row/column sees fewer taps.
/// assert_eq!(y, [8, 12, 7, 20, 24, 13, 13, 15, 8]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug)]
pub struct Conv2D<'a> {
    weights: GemmWeights<'a>,
    geometry: Geometry,
    channels: &'a [Channel],
    stage: Stage,
    input_zero_point: i8,
}

/// Output pixels per GEMM call (at most; fewer when the scratch is small).
const TILE_PIXELS: usize = 16;

impl<'a> Conv2D<'a> {
    /// Builds the layer from OHWI int8 weights (`channels.len()` filters of
    /// `filter_height · filter_width · filter_input_channels`), the
    /// geometry and the quantization a .tflite file stores. Weights without
    /// -128 run the faster narrow-range kernels automatically.
    ///
    /// Errors: sizes (zero, mismatched, groups that do not divide), bias
    /// length, filter scale count (1 or `channels.len()`), zero points
    /// outside `[-128, 127]`, invalid scales, multipliers outside the
    /// output stage's range, an empty output.
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, Conv2D, Conv2DShape, FilterQuantizer, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 2];
    /// let shape = Conv2DShape::new([4, 4, 3], [3, 3, 3]);
    /// assert!(Conv2D::new(&[0; 54], &shape, None, &q, RequantMode::Double, &mut ch).is_ok());
    /// let mut ch = [Channel::default(); 2];
    /// assert!(Conv2D::new(&[0; 53], &shape, None, &q, RequantMode::Double, &mut ch).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        weights: &'a [i8],
        shape: &Conv2DShape,
        bias: Option<&[i32]>,
        q: &Quantization<'_>,
        requant: RequantMode,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        let geometry = Geometry::new(shape, channels.len(), weights.len())?;
        let rows = |o: usize| &weights[o * geometry.depth..(o + 1) * geometry.depth];
        let stage = prepare_int8(q, requant, bias, channels, |o| {
            crate::kernel::sum_i8(rows(o))
        })?;
        Ok(Self {
            weights: GemmWeights::new(weights),
            geometry,
            channels,
            stage,
            input_zero_point: q.input.zero_point() as i8,
        })
    }

    /// Scratch `i8`s [`run`](Self::run) uses for this shape: room for the
    /// receptive fields of a tile of output pixels (0 for a 1x1 stride-1
    /// convolution). `run` accepts any buffer holding at least one
    /// receptive field (`filter_height · filter_width ·
    /// filter_input_channels`); this size is the fastest.
    ///
    /// ```
    /// use qkit::layer::{Conv2D, Conv2DShape};
    /// assert_eq!(Conv2D::buffer_len(&Conv2DShape::new([32, 32, 16], [3, 3, 16]))?, 16 * 144);
    /// assert_eq!(Conv2D::buffer_len(&Conv2DShape::new([32, 32, 16], [1, 1, 16]))?, 0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn buffer_len(shape: &Conv2DShape) -> Result<usize, Error> {
        shape.window()?;
        if shape.is_pointwise() {
            return Ok(0);
        }
        product(&[TILE_PIXELS, shape.depth()?])
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
    /// let mut ch = [Channel::default(); 4];
    /// let shape = Conv2DShape::new([9, 9, 2], [3, 3, 2]).stride(2, 2);
    /// let conv = Conv2D::new(&[1; 72], &shape, None, &q, RequantMode::Double, &mut ch)?;
    /// assert_eq!(conv.output_shape(), [5, 5, 4]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn output_shape(&self) -> [usize; 3] {
        let g = &self.geometry;
        [g.window.h.output, g.window.w.output, g.out_c]
    }

    /// The activation clamp `[act_min, act_max]` applied to the outputs.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// # use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(0.05, -28)?,
    ///     activation: Activation::Relu6,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// let conv = Conv2D::new(&[1], &Conv2DShape::new([1, 1, 1], [1, 1, 1]), None, &q,
    ///     RequantMode::Double, &mut ch)?;
    /// assert_eq!(conv.activation_range(), (-28, 92));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn activation_range(&self) -> (i32, i32) {
        self.stage.activation_range()
    }

    /// Runs `batch` images: `input` is `batch × H × W × C` (NHWC), `output`
    /// is `batch × output_shape()`. `scratch` needs [`Conv2D::buffer_len`]
    /// bytes for full speed (at least one receptive field unless the
    /// convolution is 1x1 with stride 1).
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, Conv2D, Conv2DShape, FilterQuantizer, Padding, Quantization, RequantMode};
    /// use qkit::quant::Quantizer;
    /// // Two 1x1 filters over 2x2x2 pixels: channel swap and channel sum.
    /// let q = Quantization {
    ///     input: Quantizer::new(0.5, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0, 0.5])?,
    ///     output: Quantizer::new(0.5, 0)?,
    ///     activation: Activation::Relu,
    /// };
    /// let mut ch = [Channel::default(); 2];
    /// let shape = Conv2DShape::new([2, 2, 2], [1, 1, 2]);
    /// let conv = Conv2D::new(&[0, 1, 1, 1], &shape, None, &q, RequantMode::Double, &mut ch)?;
    /// let mut y = [0i8; 8];
    /// conv.run(&[1, 2, 3, 4, -5, 6, 7, -8], 1, &mut y, &mut [])?;
    /// assert_eq!(y, [2, 2, 4, 4, 6, 1, 0, 0]); // 1.5 -> 2 with rounding; RELU
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(
        &self,
        input: &[i8],
        batch: usize,
        output: &mut [i8],
        scratch: &mut [i8],
    ) -> Result<(), Error> {
        let g = &self.geometry;
        g.check_run(input.len(), batch, output.len())?;
        let block = BLOCK.min(g.out_c / g.groups);
        let tile = if g.pointwise {
            TILE_PIXELS
        } else {
            let fit = scratch.len() / g.depth;
            if fit == 0 {
                return Err(Error::CapacityExceeded {
                    needed: g.depth,
                    capacity: scratch.len(),
                });
            }
            TILE_PIXELS.min(fit)
        }
        .min(ACC_TILE / block);
        let mut acc = [0i32; ACC_TILE];
        let pixels = g.window.output_pixels();
        for (image, out_image) in input
            .chunks_exact(g.input_len())
            .zip(output.chunks_exact_mut(g.output_len()))
        {
            for p0 in (0..pixels).step_by(tile) {
                let n = tile.min(pixels - p0);
                let out_tile = &mut out_image[p0 * g.out_c..(p0 + n) * g.out_c];
                for group in 0..g.groups {
                    let x: &[i8] = if g.pointwise {
                        &image[p0 * g.in_c..(p0 + n) * g.in_c]
                    } else {
                        let cols = &mut scratch[..n * g.depth];
                        for (i, dst) in cols.chunks_exact_mut(g.depth).enumerate() {
                            g.im2col(image, p0 + i, group * g.fin, self.input_zero_point, dst);
                        }
                        cols
                    };
                    self.tile(group, x, n, block, &mut acc, out_tile)?;
                }
            }
        }
        Ok(())
    }

    /// One tile of `n` pixels (`x`: `n` rows of the group's `depth`
    /// values): GEMM and output stage per block of the group's channels.
    fn tile(
        &self,
        group: usize,
        x: &[i8],
        n: usize,
        block: usize,
        acc: &mut [i32; ACC_TILE],
        out_tile: &mut [i8],
    ) -> Result<(), Error> {
        let g = &self.geometry;
        let per_group = g.out_c / g.groups;
        for b0 in (0..per_group).step_by(block) {
            let nb = block.min(per_group - b0);
            let o0 = group * per_group + b0;
            let acc = &mut acc[..n * nb];
            self.weights.gemm(o0, nb, g.depth, x, n, acc)?;
            let chans = &self.channels[o0..o0 + nb];
            if nb == g.out_c {
                self.stage.apply(acc, chans, out_tile)?;
            } else {
                for (a, y) in acc.chunks_exact(nb).zip(out_tile.chunks_exact_mut(g.out_c)) {
                    self.stage.apply(a, chans, &mut y[o0..o0 + nb])?;
                }
            }
        }
        Ok(())
    }
}

/// How a [`Conv2D16x8`] accumulates: TFLite Micro picks by the bias type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accumulator {
    /// int64 bias: int64 accumulator, 64-bit requantization (Q15 multiplier).
    I64,
    /// int32 bias (or `quantized_bias_type = INT32`): the int32 accumulator
    /// wraps and the int32 double-rounding requantization applies.
    I32,
}

/// A 16x8 CONV_2D layer: int16 activations (zero point 0), OHWI int8
/// weights, int16 output (zero point 0).
///
/// TFLite Micro runs one of two kernels, chosen by the bias type:
/// * int64 bias ([`new`](Self::new)): the accumulator is int64 and the
///   output multiplier is applied by the 64-bit `MultiplyByQuantizedMultiplier`
///   (the Q31 multiplier reduced to Q15, one rounding, ties up) — **not** the
///   double rounding of the int8 convolution;
/// * int32 bias ([`new_i32_bias`](Self::new_i32_bias)): an int32
///   accumulator (wrapping) and the int32 double-rounding requantization of
///   the int8 kernels.
///
/// The input and output zero points are not used by the kernel; qkit
/// requires them to be 0, as TFLite's 16x8 quantization produces them.
///
/// ```
/// use qkit::layer::{Activation, Channel, Conv2D16x8, Conv2DShape, FilterQuantizer, Quantization};
/// use qkit::quant::Quantizer;
/// let q = Quantization {
///     input: Quantizer::new(0.001, 0)?,
///     filter: FilterQuantizer::symmetric(&[0.01])?,
///     output: Quantizer::new(0.01, 0)?,
///     activation: Activation::None,
/// };
/// let shape = Conv2DShape::new([1, 2, 1], [1, 2, 1]).padding(qkit::layer::Padding::Valid);
/// let mut ch = [Channel::default(); 1];
/// let conv = Conv2D16x8::new(&[100, -50], &shape, Some(&[1_000_000]), &q, &mut ch)?;
/// let mut y = [0i16; 1];
/// conv.run(&[30000, 20000], 1, &mut y, &mut [0i16; 2])?;
/// assert_eq!(y, [3000]); // (3_000_000 - 1_000_000 + 1_000_000) · 0.001
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug)]
pub struct Conv2D16x8<'a> {
    weights: &'a [i8],
    geometry: Geometry,
    channels: &'a [Channel],
    act_min: i32,
    act_max: i32,
    accumulator: Accumulator,
}

impl<'a> Conv2D16x8<'a> {
    /// Builds the layer with an int64 bias (TFLite's default for 16x8).
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, Conv2D16x8, Conv2DShape, FilterQuantizer, Quantization};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(0.001, 3)?,
    ///     filter: FilterQuantizer::symmetric(&[0.01])?,
    ///     output: Quantizer::new(0.01, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// let shape = Conv2DShape::new([1, 1, 1], [1, 1, 1]);
    /// assert!(Conv2D16x8::new(&[1], &shape, None, &q, &mut ch).is_err()); // zp_in != 0
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        weights: &'a [i8],
        shape: &Conv2DShape,
        bias: Option<&[i64]>,
        q: &Quantization<'_, i16>,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        if let Some(b) = bias {
            check_len(channels.len(), b.len())?;
        }
        let bias = bias.map(|b| move |o: usize| b[o]);
        Self::build(weights, shape, bias, q, channels, Accumulator::I64)
    }

    /// Builds the layer with an int32 bias: TFLite Micro then accumulates
    /// in int32 and requantizes like the int8 kernels (double rounding).
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, Conv2D16x8, Conv2DShape, FilterQuantizer, Quantization};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(4.0, 0)?,
    ///     activation: Activation::None,
    /// };
    /// let shape = Conv2DShape::new([1, 1, 1], [1, 1, 1]);
    /// let (mut c32, mut c64) = ([Channel::default(); 1], [Channel::default(); 1]);
    /// let a = Conv2D16x8::new_i32_bias(&[1], &shape, None, &q, &mut c32)?;
    /// let b = Conv2D16x8::new(&[1], &shape, None, &q, &mut c64)?;
    /// let (mut ya, mut yb) = ([0i16; 1], [0i16; 1]);
    /// a.run(&[-6], 1, &mut ya, &mut [])?;
    /// b.run(&[-6], 1, &mut yb, &mut [])?;
    /// assert_eq!((ya[0], yb[0]), (-2, -1)); // -1.5: away from zero vs. up
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new_i32_bias(
        weights: &'a [i8],
        shape: &Conv2DShape,
        bias: Option<&[i32]>,
        q: &Quantization<'_, i16>,
        channels: &'a mut [Channel],
    ) -> Result<Self, Error> {
        if let Some(b) = bias {
            check_len(channels.len(), b.len())?;
        }
        let bias = bias.map(|b| move |o: usize| i64::from(b[o]));
        Self::build(weights, shape, bias, q, channels, Accumulator::I32)
    }

    fn build(
        weights: &'a [i8],
        shape: &Conv2DShape,
        bias: Option<impl Fn(usize) -> i64>,
        q: &Quantization<'_, i16>,
        channels: &'a mut [Channel],
        accumulator: Accumulator,
    ) -> Result<Self, Error> {
        let geometry = Geometry::new(shape, channels.len(), weights.len())?;
        let (act_min, act_max) = prepare_16x8(q, bias, channels)?;
        Ok(Self {
            weights,
            geometry,
            channels,
            act_min,
            act_max,
            accumulator,
        })
    }

    /// Scratch `i16`s [`run`](Self::run) needs: one receptive field
    /// (`filter_height · filter_width · filter_input_channels`), or 0 for a
    /// 1x1 stride-1 convolution.
    ///
    /// ```
    /// use qkit::layer::{Conv2D16x8, Conv2DShape};
    /// assert_eq!(Conv2D16x8::buffer_len(&Conv2DShape::new([8, 8, 4], [3, 3, 4]))?, 36);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn buffer_len(shape: &Conv2DShape) -> Result<usize, Error> {
        shape.window()?;
        if shape.is_pointwise() {
            return Ok(0);
        }
        shape.depth()
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
    /// let mut ch = [Channel::default(); 3];
    /// let conv = Conv2D16x8::new(&[1; 3], &Conv2DShape::new([4, 5, 1], [1, 1, 1]), None, &q, &mut ch)?;
    /// assert_eq!(conv.output_shape(), [4, 5, 3]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn output_shape(&self) -> [usize; 3] {
        let g = &self.geometry;
        [g.window.h.output, g.window.w.output, g.out_c]
    }

    /// Runs `batch` NHWC images; `scratch` needs
    /// [`Conv2D16x8::buffer_len`] values.
    ///
    /// ```
    /// use qkit::layer::{Activation, Channel, Conv2D16x8, Conv2DShape, FilterQuantizer, Quantization};
    /// use qkit::quant::Quantizer;
    /// let q = Quantization {
    ///     input: Quantizer::new(1.0, 0)?,
    ///     filter: FilterQuantizer::symmetric(&[1.0])?,
    ///     output: Quantizer::new(1.0, 0)?,
    ///     activation: Activation::Relu,
    /// };
    /// let mut ch = [Channel::default(); 1];
    /// let shape = Conv2DShape::new([1, 3, 1], [1, 2, 1]); // SAME: pads one cell after
    /// let conv = Conv2D16x8::new(&[1, -1], &shape, None, &q, &mut ch)?;
    /// let mut y = [0i16; 3];
    /// conv.run(&[300, 100, 500], 1, &mut y, &mut [0i16; 2])?;
    /// assert_eq!(y, [200, 0, 500]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(
        &self,
        input: &[i16],
        batch: usize,
        output: &mut [i16],
        scratch: &mut [i16],
    ) -> Result<(), Error> {
        let g = &self.geometry;
        g.check_run(input.len(), batch, output.len())?;
        if !g.pointwise && scratch.len() < g.depth {
            return Err(Error::CapacityExceeded {
                needed: g.depth,
                capacity: scratch.len(),
            });
        }
        let per_group = g.out_c / g.groups;
        let mut acc = [0i64; BLOCK];
        let pixels = g.window.output_pixels();
        for (image, out_image) in input
            .chunks_exact(g.input_len())
            .zip(output.chunks_exact_mut(g.output_len()))
        {
            for (p, y) in out_image.chunks_exact_mut(g.out_c).enumerate().take(pixels) {
                for group in 0..g.groups {
                    let x: &[i16] = if g.pointwise {
                        &image[p * g.in_c..(p + 1) * g.in_c]
                    } else {
                        let col = &mut scratch[..g.depth];
                        g.im2col(image, p, group * g.fin, 0, col);
                        col
                    };
                    for b0 in (0..per_group).step_by(BLOCK) {
                        let nb = BLOCK.min(per_group - b0);
                        let o0 = group * per_group + b0;
                        let w = &self.weights[o0 * g.depth..(o0 + nb) * g.depth];
                        crate::kernel::gemv_i16_i8(w, x, &mut acc[..nb])?;
                        for ((y, &a), ch) in y[o0..o0 + nb]
                            .iter_mut()
                            .zip(&acc[..nb])
                            .zip(&self.channels[o0..o0 + nb])
                        {
                            *y = self.requantize(a, ch) as i16;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn requantize(&self, acc: i64, ch: &Channel) -> i32 {
        let v = match self.accumulator {
            Accumulator::I64 => {
                multiply_by_quantized_multiplier_i64(acc.wrapping_add(ch.bias64), ch.multiplier)
            }
            Accumulator::I32 => multiply_by_quantized_multiplier(
                (acc as i32).wrapping_add(ch.bias),
                ch.multiplier,
                Rounding::Double,
            ),
        };
        v.clamp(self.act_min, self.act_max)
    }
}
