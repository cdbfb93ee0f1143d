//! The depthwise convolution kernel: one tile of output pixels (consecutive
//! columns of one output row) times a run of output channels, accumulated
//! over the filter window. [`DepthwiseTile`] describes the tile; the
//! portable version below is the specification, the SIMD one
//! (`simd/depthwise.rs`) vectorizes across channels, the contiguous NHWC
//! axis.
//!
//! The kernel works on raw activations: a tap in the padding reads
//! `pad_value` (the layer passes the input zero point and folds
//! `zp_in · Σw` into the bias), so every tap is the same multiply-add and
//! the result is TFLite's `Σ w · (x - zp_in)` once the bias is added.

use super::{Isa, check_len};
use crate::Error;

/// One tile of a depthwise convolution: output pixels `origin[1] ..
/// origin[1] + pixels` of output row `origin[0]`, output channels
/// `channel_start .. channel_start + channel_count`.
///
/// Output channel `o = c · depth_multiplier + k` reads input channel `c`
/// (TFLite's layout). Output pixel `(oy, ox)`'s tap `(ky, kx)` reads input
/// pixel `(oy · stride[0] + ky · dilation[0] - padding[0], ox · stride[1] +
/// kx · dilation[1] - padding[1])`, or `pad_value` where that falls outside
/// the image. The kernel adds, for every pixel `i` and channel `j` of the
/// tile, `Σ_(ky, kx) w[ky][kx][o] · x` to `out[i · channel_count + j]`
/// (wrapping `i32` for int8 activations).
///
/// ```
/// use qkit::kernel::{DepthwiseTile, Isa};
/// // A 1x3 image of 2 channels, a 1x3 filter, SAME padding (1 column).
/// let tile = DepthwiseTile {
///     input: &[1i8, 10, 2, 20, 3, 30],
///     input_size: [1, 3, 2],
///     weights: &[1, 0, 1, 1, 1, 0],
///     filter_size: [1, 3],
///     depth_multiplier: 1,
///     stride: [1, 1],
///     dilation: [1, 1],
///     padding: [0, 1],
///     pad_value: 0,
///     origin: [0, 0],
///     pixels: 3,
///     channel_start: 0,
///     channel_count: 2,
/// };
/// let mut acc = [0i32; 6];
/// Isa::detect().depthwise_i8(&tile, &mut acc)?;
/// assert_eq!(acc, [3, 10, 6, 20, 5, 30]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DepthwiseTile<'a, T> {
    /// One NHWC image, `input_size[0] · input_size[1] · input_size[2]`
    /// values.
    pub input: &'a [T],
    /// `[height, width, channels]` of the image.
    pub input_size: [usize; 3],
    /// `[filter_size[0]][filter_size[1]][channels · depth_multiplier]`.
    pub weights: &'a [i8],
    /// `[height, width]` of the filter.
    pub filter_size: [usize; 2],
    /// Output channels per input channel.
    pub depth_multiplier: usize,
    /// `[vertical, horizontal]` stride.
    pub stride: [usize; 2],
    /// `[vertical, horizontal]` dilation.
    pub dilation: [usize; 2],
    /// Padding cells before the first row and the first column.
    pub padding: [usize; 2],
    /// What a tap in the padding reads.
    pub pad_value: T,
    /// `[row, column]` of the tile's first output pixel.
    pub origin: [usize; 2],
    /// Output pixels in the tile (consecutive columns).
    pub pixels: usize,
    /// First output channel of the tile.
    pub channel_start: usize,
    /// Output channels in the tile.
    pub channel_count: usize,
}

impl<T: Copy> DepthwiseTile<'_, T> {
    /// Output channels of the whole layer.
    #[inline]
    pub(crate) fn output_channels(&self) -> usize {
        self.input_size[2] * self.depth_multiplier
    }

    /// Offset in `input` of the pixel under tap `(ky, kx)` of the tile's
    /// pixel `i`, `None` in the padding.
    #[inline]
    pub(crate) fn tap(&self, i: usize, ky: usize, kx: usize) -> Option<usize> {
        let [h, w, c] = self.input_size;
        let iy = (self.origin[0] * self.stride[0] + ky * self.dilation[0])
            .checked_sub(self.padding[0])
            .filter(|&y| y < h)?;
        let ix = ((self.origin[1] + i) * self.stride[1] + kx * self.dilation[1])
            .checked_sub(self.padding[1])
            .filter(|&x| x < w)?;
        Some((iy * w + ix) * c)
    }

    /// Checks the lengths and that no coordinate overflows, so the kernels
    /// may index without further care.
    fn check(&self, out: usize) -> Result<(), Error> {
        let mul = |a: usize, b: usize| a.checked_mul(b).ok_or(Error::Overflow);
        let add = |a: usize, b: usize| a.checked_add(b).ok_or(Error::Overflow);
        let [h, w, c] = self.input_size;
        let out_c = mul(c, self.depth_multiplier)?;
        check_len(mul(mul(h, w)?, c)?, self.input.len())?;
        let taps = mul(self.filter_size[0], self.filter_size[1])?;
        check_len(mul(taps, out_c)?, self.weights.len())?;
        if add(self.channel_start, self.channel_count)? > out_c {
            return Err(Error::InvalidParameter("channels beyond the output"));
        }
        check_len(mul(self.pixels, self.channel_count)?, out)?;
        // The largest input coordinate any tap forms, on each axis.
        let last = [self.origin[0], add(self.origin[1], self.pixels)?];
        for (((&o, &f), &d), &s) in last
            .iter()
            .zip(&self.filter_size)
            .zip(&self.dilation)
            .zip(&self.stride)
        {
            add(mul(o, s)?, mul(f.saturating_sub(1), d)?)?;
        }
        Ok(())
    }
}

/// An activation type of the depthwise kernel and its accumulator.
pub(crate) trait Activation: Copy + Default {
    /// `i32` for int8 activations (wrapping like TFLite's), `i64` for
    /// int16.
    type Acc: Copy;
    /// `acc + w · x`.
    fn mac(acc: Self::Acc, w: i8, x: Self) -> Self::Acc;
}

impl Activation for i8 {
    type Acc = i32;
    #[inline(always)]
    fn mac(acc: i32, w: i8, x: i8) -> i32 {
        acc.wrapping_add(i32::from(w) * i32::from(x))
    }
}

impl Activation for i16 {
    type Acc = i64;
    #[inline(always)]
    fn mac(acc: i64, w: i8, x: i16) -> i64 {
        acc.wrapping_add(i64::from(i32::from(w) * i32::from(x)))
    }
}

/// The portable kernel (the specification): per pixel and tap, the tap's
/// weights against its input pixel (or the padding) across the channels.
pub(crate) fn depthwise<T: Activation>(t: &DepthwiseTile<'_, T>, out: &mut [T::Acc]) {
    let [_, _, in_c] = t.input_size;
    let (m, o0, n) = (t.depth_multiplier, t.channel_start, t.channel_count);
    let out_c = t.output_channels();
    if n == 0 {
        return;
    }
    for (i, acc) in out.chunks_exact_mut(n).enumerate() {
        for ky in 0..t.filter_size[0] {
            for kx in 0..t.filter_size[1] {
                let tap = ky * t.filter_size[1] + kx;
                let w = &t.weights[tap * out_c + o0..][..n];
                match t.tap(i, ky, kx) {
                    Some(p) if m == 1 => {
                        let x = &t.input[p + o0..][..n];
                        for ((a, &w), &x) in acc.iter_mut().zip(w).zip(x) {
                            *a = T::mac(*a, w, x);
                        }
                    }
                    Some(p) => {
                        // Output channel o0 + j reads input channel
                        // (o0 + j) / m: count instead of dividing.
                        let x = &t.input[p..][..in_c];
                        let (mut c, mut k) = (o0 / m, o0 % m);
                        for (a, &w) in acc.iter_mut().zip(w) {
                            *a = T::mac(*a, w, x[c]);
                            k += 1;
                            if k == m {
                                (c, k) = (c + 1, 0);
                            }
                        }
                    }
                    None => {
                        for (a, &w) in acc.iter_mut().zip(w) {
                            *a = T::mac(*a, w, t.pad_value);
                        }
                    }
                }
            }
        }
    }
}

impl DepthwiseTile<'_, i8> {
    /// Adds the tile's sums into `out` with the best kernel of this CPU
    /// (the layer's path; its geometry was validated at construction).
    #[inline]
    pub(crate) fn accumulate(&self, out: &mut [i32]) {
        (super::best().depthwise_i8)(self, out)
    }
}

impl DepthwiseTile<'_, i16> {
    /// Adds the tile's sums into `out` (`i64`) with the best kernel of this
    /// CPU (the 16x8 layer's path).
    #[inline]
    pub(crate) fn accumulate_i64(&self, out: &mut [i64]) {
        (super::best().depthwise_i16)(self, out)
    }
}

impl Isa {
    /// The int8 depthwise kernel on this instruction set: adds the sums of
    /// [`DepthwiseTile`] `tile` into `out` (`[pixels][channel_count]`).
    /// `Err` on inconsistent lengths, channels beyond the output, or
    /// coordinates that overflow; `Err(InvalidParameter)` if the
    /// instruction set cannot run here.
    ///
    /// ```
    /// use qkit::kernel::{DepthwiseTile, Isa};
    /// // 3x3 filter of ones over a 3x3 image of one channel, VALID: the sum.
    /// let tile = DepthwiseTile { input: &[1i8, 2, 3, 4, 5, 6, 7, 8, 9], input_size: [3, 3, 1],
    ///     weights: &[1; 9], filter_size: [3, 3], depth_multiplier: 1, stride: [1, 1],
    ///     dilation: [1, 1], padding: [0, 0], pad_value: 0, origin: [0, 0], pixels: 1,
    ///     channel_start: 0, channel_count: 1 };
    /// for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
    ///     let mut acc = [0i32];
    ///     isa.depthwise_i8(&tile, &mut acc)?;
    ///     assert_eq!(acc, [45]);
    /// }
    /// assert!(Isa::Generic.depthwise_i8(&tile, &mut [0; 2]).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn depthwise_i8(self, tile: &DepthwiseTile<'_, i8>, out: &mut [i32]) -> Result<(), Error> {
        tile.check(out.len())?;
        (self.table()?.depthwise_i8)(tile, out);
        Ok(())
    }

    /// The 16x8 depthwise kernel on this instruction set: int16
    /// activations, int8 weights, the exact sums added into `out` (`i64`,
    /// `[pixels][channel_count]`). Errors as [`Isa::depthwise_i8`].
    ///
    /// ```
    /// use qkit::kernel::{DepthwiseTile, Isa};
    /// // 1x2 filter over a 1x2 image of one channel, VALID.
    /// let tile = DepthwiseTile { input: &[i16::MIN, 1000], input_size: [1, 2, 1],
    ///     weights: &[-128, 3], filter_size: [1, 2], depth_multiplier: 1, stride: [1, 1],
    ///     dilation: [1, 1], padding: [0, 0], pad_value: 0, origin: [0, 0], pixels: 1,
    ///     channel_start: 0, channel_count: 1 };
    /// for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
    ///     let mut acc = [0i64];
    ///     isa.depthwise_i16(&tile, &mut acc)?;
    ///     assert_eq!(acc, [32768 * 128 + 3000]);
    /// }
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn depthwise_i16(
        self,
        tile: &DepthwiseTile<'_, i16>,
        out: &mut [i64],
    ) -> Result<(), Error> {
        tile.check(out.len())?;
        (self.table()?.depthwise_i16)(tile, out);
        Ok(())
    }
}
