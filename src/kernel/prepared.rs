//! int4 weights re-laid out once for the kernels ("weight preparation").
//!
//! TFLite packs int4 flat, element `2k` in the low nibble of byte `k`, so a
//! SIMD kernel must interleave low and high nibbles back into element order
//! on every pass. [`PreparedI4`] does that work once, at load time, into a
//! caller buffer: each row is cut into blocks of 64 elements, and byte `j`
//! of a block holds element `j` (low nibble) and element `32 + j` (high
//! nibble), each stored as `w + 8` in `[0, 15]`. A kernel then needs only a
//! mask and a shift to get two runs of 32 unsigned values in activation
//! order, ready for `vpmaddubsw`. Padding (past `cols`) holds `w = 0`.

use crate::Error;

/// Bytes per 64-element block.
pub(crate) const BLOCK_BYTES: usize = 32;
/// Elements per block.
pub(crate) const BLOCK: usize = 64;

/// Packed int4 weights `[rows][cols]` in the kernel-friendly layout.
///
/// ```
/// use qkit::kernel::{gemv_i4_i8, gemv_i4_prepared, PreparedI4};
/// let packed = [0x21u8, 0xE3]; // rows [1, 2] and [3, -2]
/// let mut buf = [0u8; 64]; // PreparedI4::buffer_len(2, 2)
/// let w = PreparedI4::new(&packed, 2, 2, &mut buf)?;
/// let (mut a, mut b) = ([0i32; 2], [0i32; 2]);
/// gemv_i4_prepared(&w, &[5, 7], &mut a)?;
/// gemv_i4_i8(&packed, &[5, 7], &mut b)?;
/// assert_eq!(a, [19, 1]);
/// assert_eq!(a, b);
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PreparedI4<'a> {
    bytes: &'a [u8],
    rows: usize,
    cols: usize,
}

impl<'a> PreparedI4<'a> {
    /// Buffer size [`PreparedI4::new`] needs: `rows · ceil(cols / 64) · 32`.
    ///
    /// ```
    /// use qkit::kernel::PreparedI4;
    /// assert_eq!(PreparedI4::buffer_len(4096, 4096)?, 4096 * 2048);
    /// assert_eq!(PreparedI4::buffer_len(3, 65)?, 3 * 64);
    /// assert!(PreparedI4::buffer_len(usize::MAX, 64).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn buffer_len(rows: usize, cols: usize) -> Result<usize, Error> {
        rows.checked_mul(cols.div_ceil(BLOCK))
            .and_then(|b| b.checked_mul(BLOCK_BYTES))
            .ok_or(Error::Overflow)
    }

    /// Re-lays out TFLite-packed int4 weights (`packed.len()` must be
    /// `(rows·cols).div_ceil(2)`) into `buf` (`buf.len()` must be
    /// [`buffer_len`](Self::buffer_len)). Allocation-free.
    ///
    /// ```
    /// use qkit::kernel::PreparedI4;
    /// let mut buf = [0u8; 32];
    /// let w = PreparedI4::new(&[0x8F], 1, 2, &mut buf)?; // [-1, -8]
    /// assert_eq!((w.rows(), w.cols()), (1, 2));
    /// assert!(PreparedI4::new(&[0x8F], 1, 3, &mut [0u8; 32]).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn new(packed: &[u8], rows: usize, cols: usize, buf: &'a mut [u8]) -> Result<Self, Error> {
        let n = rows.checked_mul(cols).ok_or(Error::Overflow)?;
        if packed.len() != n.div_ceil(2) {
            return Err(Error::LengthMismatch {
                expected: n.div_ceil(2),
                found: packed.len(),
            });
        }
        let need = Self::buffer_len(rows, cols)?;
        if buf.len() != need {
            return Err(Error::LengthMismatch {
                expected: need,
                found: buf.len(),
            });
        }
        let row_bytes = cols.div_ceil(BLOCK) * BLOCK_BYTES;
        // `w + 8` of flat element i, or 8 (w = 0) for padding.
        let biased = |r: usize, c: usize| -> u8 {
            if c >= cols {
                return 8;
            }
            let i = r * cols + c;
            let byte = packed[i / 2];
            let nibble = if i.is_multiple_of(2) {
                byte & 0x0F
            } else {
                byte >> 4
            };
            nibble ^ 8
        };
        if row_bytes > 0 {
            for (r, row) in buf.chunks_exact_mut(row_bytes).enumerate() {
                for (k, block) in row.chunks_exact_mut(BLOCK_BYTES).enumerate() {
                    for (j, b) in block.iter_mut().enumerate() {
                        let c = k * BLOCK + j;
                        *b = biased(r, c) | (biased(r, c + BLOCK_BYTES) << 4);
                    }
                }
            }
        }
        Ok(Self {
            bytes: buf,
            rows,
            cols,
        })
    }

    /// Number of rows (outputs).
    ///
    /// ```
    /// let mut buf = [0u8; 96];
    /// let w = qkit::kernel::PreparedI4::new(&[0; 3], 3, 2, &mut buf)?;
    /// assert_eq!(w.rows(), 3);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (inputs).
    ///
    /// ```
    /// let mut buf = [0u8; 96];
    /// let w = qkit::kernel::PreparedI4::new(&[0; 3], 3, 2, &mut buf)?;
    /// assert_eq!(w.cols(), 2);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Rows `start..start + count` as their own view. `None` if out of range.
    pub(crate) fn row_range(&self, start: usize, count: usize) -> Option<PreparedI4<'a>> {
        let rb = self.row_bytes();
        let end = start.checked_add(count)?;
        if end > self.rows {
            return None;
        }
        Some(PreparedI4 {
            bytes: self.bytes.get(start * rb..end * rb)?,
            rows: count,
            cols: self.cols,
        })
    }

    /// `Σ_k w[r][k]`, decoded from the prepared layout.
    pub(crate) fn row_sum(&self, r: usize) -> i32 {
        let rb = self.row_bytes();
        let row = &self.bytes[r * rb..(r + 1) * rb];
        // Padding holds w + 8 = 8, i.e. 0, so it adds nothing.
        row.iter().fold(0i32, |sum, &b| {
            sum.wrapping_add(i32::from(b & 0x0F) - 8)
                .wrapping_add(i32::from(b >> 4) - 8)
        })
    }

    /// The prepared bytes, `rows` rows of `ceil(cols / 64) · 32` bytes.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Bytes per prepared row.
    pub(crate) fn row_bytes(&self) -> usize {
        self.cols.div_ceil(BLOCK) * BLOCK_BYTES
    }
}

/// The portable GEMV over prepared rows of `row_bytes` bytes.
pub(crate) fn gemv_prepared(bytes: &[u8], row_bytes: usize, x: &[i8], out: &mut [i32]) {
    if row_bytes == 0 {
        out.fill(0);
        return;
    }
    for (row, o) in bytes.chunks_exact(row_bytes).zip(out) {
        *o = dot_prepared(row, x);
    }
}

/// The portable kernel: `Σ w·x` over one prepared row (`x.len() == cols`).
pub(crate) fn dot_prepared(row: &[u8], x: &[i8]) -> i32 {
    let mut acc = 0i32;
    for (block, xb) in row.chunks_exact(BLOCK_BYTES).zip(x.chunks(BLOCK)) {
        let (xlo, xhi) = xb.split_at(xb.len().min(BLOCK_BYTES));
        let lo = block.iter().zip(xlo).fold(0i32, |a, (&b, &v)| {
            a.wrapping_add((i32::from(b & 0x0F) - 8) * i32::from(v))
        });
        let hi = block.iter().zip(xhi).fold(0i32, |a, (&b, &v)| {
            a.wrapping_add((i32::from(b >> 4) - 8) * i32::from(v))
        });
        acc = acc.wrapping_add(lo).wrapping_add(hi);
    }
    acc
}
