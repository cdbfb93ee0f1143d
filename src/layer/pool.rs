//! AVERAGE_POOL_2D and MAX_POOL_2D over int8 and int16 tensors, bit for bit
//! as TensorFlow Lite Micro's reference kernels
//! (`reference_integer_ops::AveragePool` / `MaxPool`).

use core::marker::PhantomData;

use super::fully_connected::check_len;
use super::stage::ACC_TILE;
use super::window::{Padding, Window, product, window_options};
use crate::ops::{Activation, activation_range};
use crate::quant::Quantizer;
use crate::{Error, QInt};

/// The geometry of a pooling op: input `[height, width, channels]` (NHWC),
/// the window size and the `Pool2DOptions` strides and padding.
///
/// ```
/// use qkit::layer::{Padding, Pool2DShape};
/// // 2x2 windows, stride 2: the usual halving.
/// let s = Pool2DShape::new([8, 8, 16], [2, 2]).stride(2, 2).padding(Padding::Valid);
/// assert_eq!(s.output_size()?, (4, 4));
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pool2DShape {
    /// Input height.
    pub input_height: usize,
    /// Input width.
    pub input_width: usize,
    /// Channels (unchanged by pooling).
    pub channels: usize,
    /// Window height.
    pub filter_height: usize,
    /// Window width.
    pub filter_width: usize,
    /// Vertical stride.
    pub stride_height: usize,
    /// Horizontal stride.
    pub stride_width: usize,
    /// `SAME` or `VALID`.
    pub padding: Padding,
}

impl Pool2DShape {
    /// Input `[height, width, channels]` and window `[height, width]`;
    /// stride 1, SAME padding.
    ///
    /// ```
    /// use qkit::layer::{Padding, Pool2DShape};
    /// let s = Pool2DShape::new([4, 4, 1], [3, 3]);
    /// assert_eq!((s.stride_height, s.padding), (1, Padding::Same));
    /// ```
    pub fn new(input: [usize; 3], filter: [usize; 2]) -> Self {
        Self {
            input_height: input[0],
            input_width: input[1],
            channels: input[2],
            filter_height: filter[0],
            filter_width: filter[1],
            stride_height: 1,
            stride_width: 1,
            padding: Padding::Same,
        }
    }

    fn window(&self) -> Result<Window, Error> {
        let window = Window::new(
            [self.input_height, self.input_width],
            [self.filter_height, self.filter_width],
            [self.stride_height, self.stride_width],
            [1, 1],
            self.padding,
        )?;
        if self.channels == 0 {
            return Err(Error::InvalidParameter("zero channels"));
        }
        product(&[window.input_pixels(), self.channels])?;
        Ok(window)
    }
}

window_options!(Pool2DShape, "Pool2DShape::new([8, 8, 3], [2, 2])");

/// The element types pooling runs on: `i8` and `i16`.
///
/// ```
/// fn takes<T: qkit::layer::PoolElement>() {}
/// takes::<i8>();
/// takes::<i16>();
/// ```
pub trait PoolElement: QInt + sealed::Sealed {}
impl PoolElement for i8 {}
impl PoolElement for i16 {}
mod sealed {
    pub trait Sealed {}
    impl Sealed for i8 {}
    impl Sealed for i16 {}
}

/// The validated geometry and clamp shared by both pools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pool {
    window: Window,
    channels: usize,
    act_min: i32,
    act_max: i32,
}

impl Pool {
    fn new<T: PoolElement>(
        shape: &Pool2DShape,
        quant: Quantizer<T>,
        activation: Activation,
    ) -> Result<Self, Error> {
        let window = shape.window()?;
        let (lo, hi) = activation_range(activation, quant)?;
        Ok(Self {
            window,
            channels: shape.channels,
            act_min: lo.to_i32(),
            act_max: hi.to_i32(),
        })
    }

    fn check_run(&self, input: usize, batch: usize, output: usize) -> Result<(), Error> {
        let c = self.channels;
        check_len(product(&[batch, self.window.input_pixels(), c])?, input)?;
        check_len(product(&[batch, self.window.output_pixels(), c])?, output)
    }

    /// Calls `f(pixel, count)` with each input pixel's channel slice inside
    /// the window of output pixel `p` (taps in the padding are skipped, as
    /// TFLite does), then returns the number of pixels visited.
    fn for_each_tap<T: Copy>(&self, image: &[T], p: usize, mut f: impl FnMut(&[T])) -> i32 {
        let (win, c) = (&self.window, self.channels);
        let (oy, ox) = (p / win.w.output, p % win.w.output);
        let (ys, xs) = (win.h.inside_taps(oy), win.w.inside_taps(ox));
        for ky in ys.clone() {
            let iy = oy * win.h.stride + ky - win.h.pad_before;
            for kx in xs.clone() {
                let ix = ox * win.w.stride + kx - win.w.pad_before;
                let at = (iy * win.w.input + ix) * c;
                f(&image[at..at + c]);
            }
        }
        (ys.len() * xs.len()) as i32
    }

    fn run<T: PoolElement>(
        &self,
        input: &[T],
        batch: usize,
        output: &mut [T],
        mut pixel: impl FnMut(&[T], usize, &mut [T]),
    ) -> Result<(), Error> {
        self.check_run(input.len(), batch, output.len())?;
        let c = self.channels;
        let in_len = self.window.input_pixels() * c;
        for (image, out_image) in input
            .chunks_exact(in_len)
            .zip(output.chunks_exact_mut(self.window.output_pixels() * c))
        {
            for (p, y) in out_image.chunks_exact_mut(c).enumerate() {
                pixel(image, p, y);
            }
        }
        Ok(())
    }
}

/// AVERAGE_POOL_2D: the rounded mean of each window, over int8 or int16.
///
/// TFLite averages the raw quantized values (input and output share scale
/// and zero point) over the cells inside the image only — padding cells
/// are not counted — and rounds half away from zero:
/// `sum > 0 ? (sum + n/2) / n : (sum - n/2) / n` with C's truncating
/// division, then applies the fused activation's clamp.
///
/// ```
/// use qkit::layer::{Activation, AveragePool2D, Pool2DShape};
/// use qkit::quant::Quantizer;
/// // 3x3 windows, SAME: the corner window covers only 4 cells.
/// let pool = AveragePool2D::new(&Pool2DShape::new([2, 2, 1], [3, 3]),
///     Quantizer::<i8>::new(0.1, 0)?, Activation::None)?;
/// let mut y = [0i8; 4];
/// pool.run(&[1, 2, 3, 5], 1, &mut y)?;
/// assert_eq!(y, [3, 3, 3, 3]); // 11 / 4 = 2.75
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AveragePool2D<T> {
    pool: Pool,
    _element: PhantomData<T>,
}

impl<T: PoolElement> AveragePool2D<T> {
    /// Builds the op for a tensor quantized by `quant` (input and output
    /// share it, as TFLite requires) with a fused activation.
    ///
    /// ```
    /// use qkit::layer::{Activation, AveragePool2D, Pool2DShape};
    /// use qkit::quant::Quantizer;
    /// let q = Quantizer::<i16>::new(0.001, 0)?;
    /// assert!(AveragePool2D::new(&Pool2DShape::new([4, 4, 2], [2, 2]), q, Activation::Relu).is_ok());
    /// assert!(AveragePool2D::new(&Pool2DShape::new([4, 4, 0], [2, 2]), q, Activation::Relu).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        shape: &Pool2DShape,
        quant: Quantizer<T>,
        activation: Activation,
    ) -> Result<Self, Error> {
        Ok(Self {
            pool: Pool::new(shape, quant, activation)?,
            _element: PhantomData,
        })
    }

    /// The output `[height, width, channels]` of one image.
    ///
    /// ```
    /// # use qkit::layer::{Activation, AveragePool2D, Pool2DShape};
    /// # use qkit::quant::Quantizer;
    /// let pool = AveragePool2D::new(&Pool2DShape::new([6, 6, 3], [2, 2]).stride(2, 2),
    ///     Quantizer::<i8>::new(1.0, 0)?, Activation::None)?;
    /// assert_eq!(pool.output_shape(), [3, 3, 3]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn output_shape(&self) -> [usize; 3] {
        let w = &self.pool.window;
        [w.h.output, w.w.output, self.pool.channels]
    }

    /// Runs `batch` NHWC images.
    ///
    /// ```
    /// use qkit::layer::{Activation, AveragePool2D, Padding, Pool2DShape};
    /// use qkit::quant::Quantizer;
    /// let shape = Pool2DShape::new([1, 4, 1], [1, 2]).stride(1, 2).padding(Padding::Valid);
    /// let pool = AveragePool2D::new(&shape, Quantizer::<i8>::new(1.0, 0)?, Activation::None)?;
    /// let mut y = [0i8; 2];
    /// pool.run(&[-1, -2, 1, 2], 1, &mut y)?;
    /// assert_eq!(y, [-2, 2]); // -1.5 and 1.5 round away from zero
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[T], batch: usize, output: &mut [T]) -> Result<(), Error> {
        let pool = &self.pool;
        let mut acc = [0i32; ACC_TILE];
        pool.run(input, batch, output, |image, p, y| {
            for c0 in (0..pool.channels).step_by(ACC_TILE) {
                let n = ACC_TILE.min(pool.channels - c0);
                let acc = &mut acc[..n];
                acc.fill(0);
                let count = pool.for_each_tap(image, p, |x| {
                    for (a, &x) in acc.iter_mut().zip(&x[c0..c0 + n]) {
                        *a += x.to_i32();
                    }
                });
                for (y, &a) in y[c0..c0 + n].iter_mut().zip(acc.iter()) {
                    let v = rounded_mean(a, count).clamp(pool.act_min, pool.act_max);
                    *y = T::saturating_from_i32(v);
                }
            }
        })
    }
}

/// TFLite's rounded average: half away from zero with truncating division.
#[inline]
fn rounded_mean(sum: i32, count: i32) -> i32 {
    if sum > 0 {
        (sum + count / 2) / count
    } else {
        (sum - count / 2) / count
    }
}

/// MAX_POOL_2D: the largest value of each window (padding cells ignored),
/// clamped by the fused activation, over int8 or int16.
///
/// ```
/// use qkit::layer::{Activation, MaxPool2D, Padding, Pool2DShape};
/// use qkit::quant::Quantizer;
/// let shape = Pool2DShape::new([2, 2, 2], [2, 2]).stride(2, 2).padding(Padding::Valid);
/// let pool = MaxPool2D::new(&shape, Quantizer::<i8>::new(0.5, -10)?, Activation::Relu)?;
/// let mut y = [0i8; 2];
/// pool.run(&[-50, 1, -40, 2, -30, 3, -20, -128], 1, &mut y)?;
/// assert_eq!(y, [-10, 3]); // RELU clamps at the zero point
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool2D<T> {
    pool: Pool,
    _element: PhantomData<T>,
}

impl<T: PoolElement> MaxPool2D<T> {
    /// Builds the op for a tensor quantized by `quant` with a fused
    /// activation.
    ///
    /// ```
    /// use qkit::layer::{Activation, MaxPool2D, Pool2DShape};
    /// use qkit::quant::Quantizer;
    /// let q = Quantizer::<i8>::new(0.1, 3)?;
    /// assert!(MaxPool2D::new(&Pool2DShape::new([4, 4, 2], [2, 2]).stride(0, 1), q,
    ///     Activation::None).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(
        shape: &Pool2DShape,
        quant: Quantizer<T>,
        activation: Activation,
    ) -> Result<Self, Error> {
        Ok(Self {
            pool: Pool::new(shape, quant, activation)?,
            _element: PhantomData,
        })
    }

    /// The output `[height, width, channels]` of one image.
    ///
    /// ```
    /// # use qkit::layer::{Activation, MaxPool2D, Pool2DShape};
    /// # use qkit::quant::Quantizer;
    /// let pool = MaxPool2D::new(&Pool2DShape::new([5, 5, 3], [3, 3]).stride(2, 2),
    ///     Quantizer::<i16>::new(1.0, 0)?, Activation::None)?;
    /// assert_eq!(pool.output_shape(), [3, 3, 3]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn output_shape(&self) -> [usize; 3] {
        let w = &self.pool.window;
        [w.h.output, w.w.output, self.pool.channels]
    }

    /// Runs `batch` NHWC images.
    ///
    /// ```
    /// use qkit::layer::{Activation, MaxPool2D, Pool2DShape};
    /// use qkit::quant::Quantizer;
    /// let pool = MaxPool2D::new(&Pool2DShape::new([1, 3, 1], [1, 2]),
    ///     Quantizer::<i16>::new(1.0, 0)?, Activation::None)?;
    /// let mut y = [0i16; 3];
    /// pool.run(&[-300, 200, -100], 1, &mut y)?;
    /// assert_eq!(y, [200, 200, -100]); // SAME: the last window holds one cell
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, input: &[T], batch: usize, output: &mut [T]) -> Result<(), Error> {
        let pool = &self.pool;
        let (lo, hi) = (
            T::saturating_from_i32(pool.act_min),
            T::saturating_from_i32(pool.act_max),
        );
        pool.run(input, batch, output, |image, p, y| {
            y.fill(T::saturating_from_i32(i32::MIN));
            pool.for_each_tap(image, p, |x| {
                for (m, &x) in y.iter_mut().zip(x) {
                    if x.to_i32() > m.to_i32() {
                        *m = x;
                    }
                }
            });
            for m in y.iter_mut() {
                let v = m.to_i32().clamp(lo.to_i32(), hi.to_i32());
                *m = T::saturating_from_i32(v);
            }
        })
    }
}
