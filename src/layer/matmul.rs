//! ONNX's integer matrix products as ONNX Runtime's CPU provider computes
//! them: [`QLinearMatMul`] (8-bit output) and [`MatMulInteger`] (int32
//! output), with `uint8` or `int8` operands. The arithmetic, the proof that
//! `uint8` is exact and the layout are documented on [`QLinearMatMul`].

use core::marker::PhantomData;

use super::quantization::FilterQuantizer;
use crate::kernel::{self, NarrowI8};
use crate::kernel::{Multipliers, OutputStage, RequantOutput, Scaling, requantize};
use crate::quant::Quantizer;
use crate::{Error, QInt};

/// Columns of `K` per tile of the transposed `B` (and `A` values converted
/// per step on the stack).
const TILE_K: usize = 256;
/// Output columns computed per GEMV call (accumulators on the stack).
const COLS_PER_PASS: usize = 64;

mod sealed {
    pub trait Sealed {}
    impl Sealed for i8 {}
    impl Sealed for u8 {}
}

/// An 8-bit operand of the ONNX integer matmuls: `u8` or `i8`. Sealed.
///
/// `OFFSET` is what the int8 kernels subtract from the stored value: 128
/// for `u8`, 0 for `i8` (see the module docs for why this is exact).
///
/// ```
/// use qkit::layer::MatMulOperand;
/// assert_eq!(<u8 as MatMulOperand>::OFFSET, 128);
/// assert_eq!(200u8.to_i8_shifted(), 72);
/// assert_eq!((-5i8).to_i8_shifted(), -5);
/// ```
pub trait MatMulOperand: QInt + RequantOutput + sealed::Sealed {
    /// Subtracted from every stored value (and zero point) to reach int8.
    ///
    /// ```
    /// use qkit::layer::MatMulOperand;
    /// assert_eq!(<i8 as MatMulOperand>::OFFSET, 0);
    /// ```
    const OFFSET: i32;

    /// `self - OFFSET` as an `i8` (exact).
    ///
    /// ```
    /// use qkit::layer::MatMulOperand;
    /// assert_eq!((0u8.to_i8_shifted(), 255u8.to_i8_shifted()), (-128, 127));
    /// ```
    fn to_i8_shifted(self) -> i8;

    /// The slice as int8: `src` itself for `i8`, shifted into `buf` for `u8`.
    #[doc(hidden)]
    fn as_i8<'b>(src: &'b [Self], buf: &'b mut [i8; TILE_K]) -> &'b [i8];
}

impl MatMulOperand for i8 {
    const OFFSET: i32 = 0;
    #[inline]
    fn to_i8_shifted(self) -> i8 {
        self
    }
    #[inline]
    fn as_i8<'b>(src: &'b [i8], _: &'b mut [i8; TILE_K]) -> &'b [i8] {
        src
    }
}

impl MatMulOperand for u8 {
    const OFFSET: i32 = 128;
    #[inline]
    fn to_i8_shifted(self) -> i8 {
        (self ^ 0x80) as i8
    }
    #[inline]
    fn as_i8<'b>(src: &'b [u8], buf: &'b mut [i8; TILE_K]) -> &'b [i8] {
        let out = &mut buf[..src.len()];
        for (o, &v) in out.iter_mut().zip(src) {
            *o = v.to_i8_shifted();
        }
        out
    }
}

/// ONNX Runtime's QLinearMatMul output scale,
/// `f32(f32(a_scale · b_scale) / y_scale)`: the `f32` expression
/// `a_scale * b_scale / y_scale` of ORT's `qlinearmatmul.cc`, evaluated
/// left to right. `Err(InvalidScale)` unless every input is finite and
/// `> 0`. (The result may still underflow to 0 or overflow to `inf` for
/// absurd scales, exactly as in ORT.)
///
/// ```
/// use qkit::layer::ort_output_scale;
/// let s = ort_output_scale(0.1, 0.3, 0.7)?;
/// assert_eq!(s, (0.1f32 * 0.3f32) / 0.7f32);
/// // Not the same as the all-f64 value rounded once:
/// assert_ne!(s, (0.1f32 as f64 * 0.3f32 as f64 / 0.7f32 as f64) as f32);
/// assert!(ort_output_scale(0.1, 0.0, 1.0).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn ort_output_scale(a_scale: f32, b_scale: f32, y_scale: f32) -> Result<f32, Error> {
    for s in [a_scale, b_scale, y_scale] {
        if !(s.is_finite() && s > 0.0) {
            return Err(Error::InvalidScale(f64::from(s)));
        }
    }
    Ok(a_scale * b_scale / y_scale)
}

/// The quantization a QLinearMatMul node is defined by: the quantizers of
/// `A`, of `B` (per tensor, or one scale and zero point per column of `B`)
/// and of `Y`, over their storage types (`u8` or `i8` each).
///
/// ```
/// use qkit::layer::{FilterQuantizer, MatMulQuantization};
/// use qkit::quant::{PerChannel, Quantizer};
/// // B is [K][N] = [4][2]: its columns are axis 1.
/// let b = PerChannel::<u8>::new(&[0.01, 0.02], &[128, 120], &[4, 2], 1)?;
/// let q = MatMulQuantization {
///     a: Quantizer::<u8>::new(0.02, 128)?,
///     b: FilterQuantizer::from(b),
///     y: Quantizer::<i8>::new(0.1, 0)?,
/// };
/// assert_eq!(q.b.zero_point(1), Some(120));
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatMulQuantization<'a, A: MatMulOperand, B: MatMulOperand, Y: MatMulOperand> {
    /// The quantizer of `A`.
    pub a: Quantizer<A>,
    /// The quantizer of `B`: per tensor, or one per column.
    pub b: FilterQuantizer<'a, B>,
    /// The quantizer of `Y`.
    pub y: Quantizer<Y>,
}

/// Per-column data computed once by a matmul constructor: `Σ_k B'[k,n]`,
/// the column's zero point (both in the int8 domain of the kernels,
/// `B' = B - OFFSET`) and its output scale.
///
/// ```
/// use qkit::layer::{MatMulColumn, MatMulInteger};
/// let mut bt = [0i8; 2];
/// let mut cols = [MatMulColumn::default(); 1];
/// MatMulInteger::<u8>::new(&[200u8, 100], 2, 0, &[128], &mut bt, &mut cols)?;
/// assert_eq!(cols[0].b_sum(), 72 + -28);
/// assert_eq!(cols[0].b_zero_point(), 0); // 128 - 128
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MatMulColumn {
    b_sum: i32,
    b_zero_point: i32,
    scale: f32,
}

impl MatMulColumn {
    /// `Σ_k B'[k,n]` (int32, wrapping), `B' = B - OFFSET`.
    ///
    /// ```
    /// # use qkit::layer::{MatMulColumn, MatMulInteger};
    /// let mut bt = [0i8; 2];
    /// let mut cols = [MatMulColumn::default(); 1];
    /// MatMulInteger::<i8>::new(&[3i8, -4], 2, 0, &[0], &mut bt, &mut cols)?;
    /// assert_eq!(cols[0].b_sum(), -1);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn b_sum(&self) -> i32 {
        self.b_sum
    }

    /// The column's zero point in the int8 domain (`zp - OFFSET`).
    ///
    /// ```
    /// # use qkit::layer::{MatMulColumn, MatMulInteger};
    /// let mut bt = [0i8; 2];
    /// let mut cols = [MatMulColumn::default(); 2];
    /// MatMulInteger::<i8>::new(&[1u8, 2], 1, 0, &[130, 0], &mut bt, &mut cols)?;
    /// assert_eq!((cols[0].b_zero_point(), cols[1].b_zero_point()), (2, -128));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn b_zero_point(&self) -> i32 {
        self.b_zero_point
    }

    /// The output scale ([`ort_output_scale`]); 0 for [`MatMulInteger`].
    ///
    /// ```
    /// # use qkit::layer::*;
    /// use qkit::quant::Quantizer;
    /// let q = MatMulQuantization { a: Quantizer::<i8>::new(0.5, 0)?,
    ///     b: Quantizer::<i8>::new(0.5, 0)?.into(), y: Quantizer::<i8>::new(0.125, 0)? };
    /// let mut bt = [0i8; 1];
    /// let mut cols = [MatMulColumn::default(); 1];
    /// QLinearMatMul::<i8, i8>::new(&[1i8], 1, &q, &mut bt, &mut cols)?;
    /// assert_eq!(cols[0].scale(), 2.0);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn scale(&self) -> f32 {
        self.scale
    }
}

/// Bytes of the caller buffer that holds `B` transposed: `k · n`.
///
/// ```
/// assert_eq!(qkit::layer::matmul_buffer_len(300, 9)?, 2700);
/// assert!(qkit::layer::matmul_buffer_len(usize::MAX, 2).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn matmul_buffer_len(k: usize, n: usize) -> Result<usize, Error> {
    k.checked_mul(n).ok_or(Error::Overflow)
}

fn check_len(expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::LengthMismatch { expected, found })
    }
}

fn check_zero_point<T: QInt>(zp: i32) -> Result<(), Error> {
    if (T::MIN..=T::MAX).contains(&zp) {
        Ok(())
    } else {
        Err(Error::ZeroPointOutOfRange {
            zero_point: zp,
            min: T::MIN,
            max: T::MAX,
        })
    }
}

/// The element of a per-tensor (1) or per-column (`n`) table for column `j`.
fn per_column<T: Copy>(table: &[T], n: usize, j: usize) -> Result<T, Error> {
    match table.len() {
        1 => Ok(table[0]),
        len if len == n => Ok(table[j]),
        len => Err(Error::LengthMismatch {
            expected: n,
            found: len,
        }),
    }
}

/// `B` transposed into tiles: tile `t` holds columns `k0 = t·TILE_K ..
/// k0 + kw` of `K` for every `n`, row-major `[n][kw]`, at offset `n_total·k0`.
#[derive(Debug, Clone, Copy)]
enum Tiles<'a> {
    /// Contains -128: the exact full-range kernels.
    Full(&'a [i8]),
    /// `[-127, 127]`: the narrow-range kernels.
    Narrow(NarrowI8<'a>),
}

/// What both matmuls share: the prepared `B`, its column data, `A`'s zero
/// point (int8 domain) and the accumulation.
#[derive(Debug)]
struct Prepared<'a> {
    tiles: Tiles<'a>,
    k: usize,
    columns: &'a [MatMulColumn],
    a_zero_point: i32,
}

impl<'a> Prepared<'a> {
    /// Transposes and shifts `b` into `bt`, fills `columns` (sums, zero
    /// points, and the scale `scale(j)` of column `j`).
    fn new<A: MatMulOperand, B: MatMulOperand>(
        b: &[B],
        k: usize,
        a_zero_point: i32,
        b_zero_point: impl Fn(usize) -> Result<i32, Error>,
        scale: impl Fn(usize) -> Result<f32, Error>,
        bt: &'a mut [i8],
        columns: &'a mut [MatMulColumn],
    ) -> Result<Self, Error> {
        let n = columns.len();
        let len = matmul_buffer_len(k, n)?;
        check_len(len, b.len())?;
        check_len(len, bt.len())?;
        check_zero_point::<A>(a_zero_point)?;
        for (j, col) in columns.iter_mut().enumerate() {
            let zb = b_zero_point(j)?;
            check_zero_point::<B>(zb)?;
            *col = MatMulColumn {
                b_sum: 0,
                b_zero_point: zb - B::OFFSET,
                scale: scale(j)?,
            };
        }
        for k0 in (0..k).step_by(TILE_K) {
            let kw = TILE_K.min(k - k0);
            let tile = &mut bt[n * k0..n * (k0 + kw)];
            for (j, (row, col)) in tile
                .chunks_exact_mut(kw)
                .zip(columns.iter_mut())
                .enumerate()
            {
                for (i, t) in row.iter_mut().enumerate() {
                    *t = b[(k0 + i) * n + j].to_i8_shifted();
                }
                col.b_sum = col.b_sum.wrapping_add(kernel::sum_i8(row));
            }
        }
        let bt: &'a [i8] = bt;
        let tiles = match NarrowI8::new(bt) {
            Ok(w) => Tiles::Narrow(w),
            Err(_) => Tiles::Full(bt),
        };
        Ok(Self {
            tiles,
            k,
            columns,
            a_zero_point: a_zero_point - A::OFFSET,
        })
    }

    fn n(&self) -> usize {
        self.columns.len()
    }

    /// Checks `a` is `m × k` and `y` is `m × n`.
    fn check_run(&self, a_len: usize, m: usize, y_len: usize) -> Result<(), Error> {
        check_len(m.checked_mul(self.k).ok_or(Error::Overflow)?, a_len)?;
        check_len(m.checked_mul(self.n()).ok_or(Error::Overflow)?, y_len)
    }

    /// Raw dots of `x` (a tile's slice of `A'`) with rows `j0..j0 + out.len()`
    /// of the tile at `k0` (width `x.len()`).
    fn tile_gemv(&self, k0: usize, j0: usize, x: &[i8], out: &mut [i32]) -> Result<(), Error> {
        let (n, kw) = (self.n(), x.len());
        let start = n * k0 + j0 * kw;
        let range = start..start + out.len() * kw;
        match self.tiles {
            Tiles::Full(w) => kernel::gemv_i8(&w[range], x, out),
            Tiles::Narrow(w) => {
                kernel::gemv_i8_narrow(w.get(range).ok_or(Error::Overflow)?, x, out)
            }
        }
    }

    /// `acc[m, j]` for one row of `A`, handed to `emit(j, acc)` column by column.
    fn row<A: MatMulOperand>(
        &self,
        a: &[A],
        mut emit: impl FnMut(usize, &[i32]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let n = self.n();
        // Σ_k A'[k], wrapping: the row term of the zero-point folding.
        let a_sum = a
            .iter()
            .fold(0i32, |s, &v| s.wrapping_add(i32::from(v.to_i8_shifted())));
        let mut buf = [0i8; TILE_K];
        let mut acc = [0i32; COLS_PER_PASS];
        let mut part = [0i32; COLS_PER_PASS];
        for j0 in (0..n).step_by(COLS_PER_PASS) {
            let cols = COLS_PER_PASS.min(n - j0);
            let acc = &mut acc[..cols];
            acc.fill(0);
            for k0 in (0..self.k).step_by(TILE_K) {
                let kw = TILE_K.min(self.k - k0);
                let x = A::as_i8(&a[k0..k0 + kw], &mut buf);
                let part = &mut part[..cols];
                self.tile_gemv(k0, j0, x, part)?;
                for (s, &p) in acc.iter_mut().zip(part.iter()) {
                    *s = s.wrapping_add(p);
                }
            }
            for (v, col) in acc.iter_mut().zip(&self.columns[j0..j0 + cols]) {
                *v = kernel::fold_zero_points(
                    *v,
                    a_sum,
                    col.b_sum,
                    self.k,
                    self.a_zero_point,
                    col.b_zero_point,
                );
            }
            emit(j0, acc)?;
        }
        Ok(())
    }
}

/// ONNX `MatMulInteger`: `Y = (A - a_zp) · (B - b_zp)` in int32, with `A`
/// `u8` or `i8` (the type parameter) and `B` `u8` or `i8`, `[K][N]`.
///
/// The accumulation (and its layout) is [`QLinearMatMul`]'s, without the
/// output stage.
///
/// ```
/// use qkit::layer::{MatMulColumn, MatMulInteger};
/// // B: 3 x 2 uint8 with per-column zero points.
/// let b = [10u8, 200, 20, 100, 30, 0];
/// let mut bt = [0i8; 6];
/// let mut cols = [MatMulColumn::default(); 2];
/// let mm = MatMulInteger::<i8>::new(&b, 3, -1, &[10, 100], &mut bt, &mut cols)?;
/// let mut y = [0i32; 2];
/// mm.run(&[1, 2, 3], 1, &mut y)?;
/// // (x + 1) = (2, 3, 4): col 0: 0·2 + 10·3 + 20·4 = 110; col 1: 100·2 + 0·3 - 100·4 = -200
/// assert_eq!(y, [110, -200]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug)]
pub struct MatMulInteger<'a, A: MatMulOperand> {
    prepared: Prepared<'a>,
    _a: PhantomData<A>,
}

impl<'a, A: MatMulOperand> MatMulInteger<'a, A> {
    /// Builds the op from `B` (`k` rows of `columns.len()` values, `u8` or
    /// `i8`), `A`'s zero point and `B`'s zero points (one or one per
    /// column). `bt` receives `B` transposed ([`matmul_buffer_len`] bytes).
    ///
    /// Errors: lengths, zero points outside their type's range.
    ///
    /// ```
    /// use qkit::layer::{MatMulColumn, MatMulInteger};
    /// let mut bt = [0i8; 4];
    /// let mut cols = [MatMulColumn::default(); 2];
    /// assert!(MatMulInteger::<u8>::new(&[1u8, 2, 3, 4], 2, 256, &[0], &mut bt, &mut cols).is_err());
    /// assert!(MatMulInteger::<u8>::new(&[1u8, 2, 3], 2, 0, &[0], &mut bt, &mut cols).is_err());
    /// assert!(MatMulInteger::<u8>::new(&[1u8, 2, 3, 4], 2, 0, &[0, 0, 0], &mut bt, &mut cols).is_err());
    /// ```
    pub fn new<B: MatMulOperand>(
        b: &[B],
        k: usize,
        a_zero_point: i32,
        b_zero_points: &[i32],
        bt: &'a mut [i8],
        columns: &'a mut [MatMulColumn],
    ) -> Result<Self, Error> {
        let n = columns.len();
        let zero_point = |j| per_column(b_zero_points, n, j);
        let prepared =
            Prepared::new::<A, B>(b, k, a_zero_point, zero_point, |_| Ok(0.0), bt, columns)?;
        Ok(Self {
            prepared,
            _a: PhantomData,
        })
    }

    /// `(K, N)`: the inner dimension and the number of columns.
    ///
    /// ```
    /// # use qkit::layer::{MatMulColumn, MatMulInteger};
    /// let mut bt = [0i8; 6];
    /// let mut cols = [MatMulColumn::default(); 2];
    /// let mm = MatMulInteger::<i8>::new(&[0i8; 6], 3, 0, &[0], &mut bt, &mut cols)?;
    /// assert_eq!(mm.shape(), (3, 2));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn shape(&self) -> (usize, usize) {
        (self.prepared.k, self.prepared.n())
    }

    /// `y = A · B` with zero points: `a` is `m × K`, `y` is `m × N`.
    ///
    /// ```
    /// # use qkit::layer::{MatMulColumn, MatMulInteger};
    /// let mut bt = [0i8; 2];
    /// let mut cols = [MatMulColumn::default(); 1];
    /// let mm = MatMulInteger::<u8>::new(&[255u8, 255], 2, 0, &[0], &mut bt, &mut cols)?;
    /// let mut y = [0i32; 2];
    /// mm.run(&[255, 255, 1, 0], 2, &mut y)?;
    /// assert_eq!(y, [2 * 255 * 255, 255]);
    /// assert!(mm.run(&[1, 2, 3], 2, &mut y).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, a: &[A], m: usize, y: &mut [i32]) -> Result<(), Error> {
        let p = &self.prepared;
        p.check_run(a.len(), m, y.len())?;
        for_each_row(p, a, y, |y_row, j0, acc| {
            y_row[j0..j0 + acc.len()].copy_from_slice(acc);
            Ok(())
        })
    }
}

/// ONNX `QLinearMatMul` as ONNX Runtime computes it: `A` `u8` or `i8`, `B`
/// `u8` or `i8` (`[K][N]`), output `Y` `u8` or `i8`, per-tensor or
/// per-column `B` scales and zero points, requantized in `f32` with ties to
/// even (`MlasRequantizeOutput`). ORT 1.32 itself implements the type
/// triples `(u8, u8, u8)`, `(u8, i8, u8)` and `(i8, i8, i8)`; qkit computes
/// any.
///
/// For `A` (`M x K`, row-major) and `B` (`K x N`, row-major, as an ONNX
/// initializer stores it):
///
/// ```text
/// acc[m,n] = Σ_k (A[m,k] - a_zp) · (B[k,n] - b_zp[n])           (int32, wrapping)
/// MatMulInteger:  Y[m,n] = acc[m,n]
/// QLinearMatMul:  Y[m,n] = clamp(round_half_even(acc[m,n] as f32 · s[n]), Y::MIN - y_zp, Y::MAX - y_zp) + y_zp
///                 s[n]   = ort_output_scale(a_scale, b_scale[n], y_scale)
/// ```
///
/// `b_zp` and `b_scale` have one element (per tensor) or `N` (per column).
/// The requantization is ONNX Runtime's `MlasRequantizeOutput` (its
/// `qlinearmatmul.cc` forms `s[n] = a_scale * b_scale[n] / y_scale` in
/// `f32`), so qkit's outputs equal ORT's bit for bit
/// (`tests/ort_golden.rs`, vectors from onnxruntime 1.32). The ONNX
/// *reference* implementation differs: it multiplies in `f64` and adds the
/// zero point before rounding.
///
/// # uint8 is exact
///
/// The int8 kernels run `uint8` data shifted by -128, and the result is the
/// same bit for bit: for `a, a_zp` in `[0, 255]`,
/// `a - a_zp = (a - 128) - (a_zp - 128)` with both terms in `[-128, 127]`,
/// so every factor `(a - a_zp)`, every product and every accumulator is
/// unchanged (the same holds for `B`). Only the stored bytes move; the
/// output stage is applied to the unchanged accumulator with the output
/// type's own range and zero point.
///
/// # Layout and speed
///
/// The constructor transposes `B` once into a caller buffer of `K·N` bytes
/// (as int8, shifted if `B` is `uint8`), in tiles of 256 columns of `K`, so
/// the kernel layer's GEMV ([`crate::kernel::gemv_i8`], AVX-512 VNNI / AVX2
/// where the CPU has them) applies to every tile; `A` is converted 256
/// values at a time on the stack. Zero points are folded with
/// [`crate::kernel::fold_zero_points`] from per-column sums of `B` computed
/// at construction. No allocation, under 1 KiB of stack.
///
/// # ONNX Runtime's own results on AVX2
///
/// qkit computes the exact integer accumulator. ONNX Runtime does too on
/// CPUs with AVX-512 VNNI or AVX-VNNI (`vpdpbusd`; ORT 1.32 on such a CPU
/// matched the exact result on every golden case), but its `uint8 x int8`
/// GEMM on AVX2 without VNNI multiplies with `vpmaddubsw`, which saturates
/// each pair sum `a[2i]·b[2i] + a[2i+1]·b[2i+1]` of *raw* values (zero
/// points are folded in afterwards) to int16. Where two adjacent products
/// exceed 32767 together (e.g. `255·127 + 255·127`), ORT's result is not
/// the product of the matrices, and qkit's is. Run under an emulated AVX2
/// CPU (`qemu-x86_64 -cpu Haswell`), ORT 1.32 differs from the exact result
/// on 18 of the 28 `u8 x i8` golden cases (MatMulInteger and
/// QLinearMatMul), and a model of that pair saturation reproduces every one
/// of those outputs; `u8 x u8`, `i8 x i8` and `i8 x u8` were exact there
/// too. To make ORT itself exact on such CPUs, keep activations in
/// `[0, 127]` or `u8 x i8` weights in `[-64, 63]` (ORT's `reduce_range`),
/// or quantize the weights to `uint8`.
///
/// ```
/// use qkit::layer::{MatMulColumn, MatMulQuantization, QLinearMatMul};
/// use qkit::quant::Quantizer;
/// // A: 1 x 2 (uint8), B: 2 x 3 (int8, [K][N] as ONNX stores it).
/// let b: [i8; 6] = [1, 2, 3, -4, 5, -6];
/// let q = MatMulQuantization {
///     a: Quantizer::<u8>::new(0.5, 128)?,
///     b: Quantizer::<i8>::new(0.25, 0)?.into(),
///     y: Quantizer::<u8>::new(0.125, 10)?,
/// };
/// let mut bt = [0i8; 6];
/// let mut cols = [MatMulColumn::default(); 3];
/// let mm = QLinearMatMul::<u8, u8>::new(&b, 2, &q, &mut bt, &mut cols)?;
/// let mut y = [0u8; 3];
/// mm.run(&[130, 127], 1, &mut y)?;
/// // acc = (2·1 - 1·-4, 2·2 - 1·5, 2·3 - 1·-6) = (6, -1, 12); s = 0.5·0.25/0.125 = 1
/// assert_eq!(y, [16, 9, 22]);
/// # Ok::<(), qkit::Error>(())
/// ```
#[doc(alias = "MlasRequantizeOutput")]
#[derive(Debug)]
pub struct QLinearMatMul<'a, A: MatMulOperand, Y: MatMulOperand> {
    prepared: Prepared<'a>,
    y_zero_point: i32,
    _types: PhantomData<(A, Y)>,
}

impl<'a, A: MatMulOperand, Y: MatMulOperand> QLinearMatMul<'a, A, Y> {
    /// Builds the op from `B` (`k` rows of `columns.len()` values, `u8` or
    /// `i8`) and the node's quantization. `bt` receives `B` transposed
    /// ([`matmul_buffer_len`] bytes); `columns` gets each column's sum, zero
    /// point and output scale.
    ///
    /// Errors: lengths, and a per-column `B` quantizer whose channel count
    /// is not `N` (the quantizers themselves reject bad scales and zero
    /// points).
    ///
    /// ```
    /// use qkit::layer::{MatMulColumn, MatMulQuantization, QLinearMatMul};
    /// use qkit::quant::{PerChannel, Quantizer};
    /// let one = Quantizer::<u8>::new(1.0, 0)?;
    /// let q = MatMulQuantization { a: one, b: one.into(), y: one };
    /// let mut bt = [0i8; 2];
    /// let mut cols = [MatMulColumn::default(); 2];
    /// assert!(QLinearMatMul::<u8, u8>::new(&[1u8, 2], 1, &q, &mut bt, &mut cols).is_ok());
    /// let three = PerChannel::<u8>::new(&[1.0; 3], &[], &[3], 0)?; // 3 columns, B has 2
    /// let q = MatMulQuantization { b: three.into(), ..q };
    /// assert!(QLinearMatMul::<u8, u8>::new(&[1u8, 2], 1, &q, &mut bt, &mut cols).is_err());
    /// assert!(Quantizer::<u8>::new(1.0, -1).is_err()); // outside u8: no quantizer
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new<B: MatMulOperand>(
        b: &[B],
        k: usize,
        q: &MatMulQuantization<'_, A, B, Y>,
        bt: &'a mut [i8],
        columns: &'a mut [MatMulColumn],
    ) -> Result<Self, Error> {
        let n = columns.len();
        let found = q.b.len();
        if found != 1 && found != n {
            return Err(Error::LengthMismatch { expected: n, found });
        }
        let column = |j| q.b.scale(j).zip(q.b.zero_point(j)).ok_or(Error::Overflow);
        let scale = |j| ort_output_scale(q.a.scale(), column(j)?.0, q.y.scale());
        let zero_point = |j| Ok(column(j)?.1);
        let prepared =
            Prepared::new::<A, B>(b, k, q.a.zero_point(), zero_point, scale, bt, columns)?;
        Ok(Self {
            prepared,
            y_zero_point: q.y.zero_point(),
            _types: PhantomData,
        })
    }

    /// `(K, N)`: the inner dimension and the number of columns.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// let one = qkit::quant::Quantizer::<i8>::new(1.0, 0)?;
    /// let q = MatMulQuantization { a: one, b: one.into(), y: one };
    /// let mut bt = [0i8; 6];
    /// let mut cols = [MatMulColumn::default(); 3];
    /// let mm = QLinearMatMul::<i8, i8>::new(&[0i8; 6], 2, &q, &mut bt, &mut cols)?;
    /// assert_eq!(mm.shape(), (2, 3));
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn shape(&self) -> (usize, usize) {
        (self.prepared.k, self.prepared.n())
    }

    /// Runs `m` rows: `a` is `m × K`, `y` is `m × N`.
    ///
    /// ```
    /// # use qkit::layer::*;
    /// use qkit::quant::Quantizer;
    /// let q = MatMulQuantization { a: Quantizer::<u8>::new(0.5, 128)?,
    ///     b: Quantizer::<u8>::new(1.0, 128)?.into(), y: Quantizer::<u8>::new(1.0, 128)? };
    /// let mut bt = [0i8; 2];
    /// let mut cols = [MatMulColumn::default(); 1];
    /// let mm = QLinearMatMul::<u8, u8>::new(&[129u8, 131], 2, &q, &mut bt, &mut cols)?;
    /// let mut y = [0u8; 2];
    /// mm.run(&[133, 128, 255, 255], 2, &mut y)?;
    /// // row 0: 5·1 · 0.5 = 2.5 -> 2 (ties to even), + 128; row 1: 127·4 · 0.5 = 254 -> 255
    /// assert_eq!(y, [130, 255]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn run(&self, a: &[A], m: usize, y: &mut [Y]) -> Result<(), Error> {
        let p = &self.prepared;
        p.check_run(a.len(), m, y.len())?;
        let mut scales = [0f32; COLS_PER_PASS];
        for_each_row(p, a, y, |y_row, j0, acc| {
            // ORT's `MlasRequantizeOutput` on a block of columns: the kernel
            // output stage's `Float32` mode (SIMD), one scale per column.
            let scales = &mut scales[..acc.len()];
            for (s, col) in scales.iter_mut().zip(&p.columns[j0..]) {
                *s = col.scale;
            }
            let stage = OutputStage::new::<Y>(Scaling::Float32(Multipliers::PerChannel(scales)))
                .with_zero_point(self.y_zero_point);
            requantize(acc, None, &stage, &mut y_row[j0..j0 + acc.len()])
        })
    }
}

/// Runs `emit(y_row, column, acc)` for every row of `a` (`m × K`) and
/// column; `y` (`m × N`) is split into rows alongside. An empty `K` gives
/// accumulators of 0.
fn for_each_row<A: MatMulOperand, T>(
    p: &Prepared<'_>,
    a: &[A],
    y: &mut [T],
    mut emit: impl FnMut(&mut [T], usize, &[i32]) -> Result<(), Error>,
) -> Result<(), Error> {
    let n = p.n();
    if n == 0 {
        return Ok(());
    }
    for (r, y_row) in y.chunks_exact_mut(n).enumerate() {
        let a_row = &a[r * p.k..(r + 1) * p.k];
        p.row(a_row, |j0, acc| emit(y_row, j0, acc))?;
    }
    Ok(())
}
