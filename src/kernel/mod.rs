//! int8 / int4 dot products, GEMV and GEMM: exact, and as fast as the CPU allows.
//!
//! Every kernel computes the exact integer sum of products with **int32
//! wrap-around** (mod 2^32), the contract of TFLite's reference loops,
//! `SMLAD`, Helium `vmladav` and x86 `vpmaddwd`; the 16x8 forms accumulate
//! exactly in int64. Weights are `[out][in]` row-major as TFLite stores
//! them, outputs go into caller buffers. Every kernel takes its operands
//! in one order: **weights first, then activations** (`w, x`), then the
//! output.
//!
//! * [`dot_i8`], [`gemv_i8`], [`gemm_i8`]: any int8 inputs.
//! * [`dot_i8_narrow`], [`gemv_i8_narrow`], [`gemm_i8_narrow`]: weights
//!   validated once as a [`NarrowI8`] (`[-127, 127]`, as TFLite quantizes
//!   them), which makes the AVX2 sign trick exact.
//! * [`dot_i4_i8`], [`gemv_i4_i8`]: packed int4 weights (TFLite's layout);
//!   [`PreparedI4`] and [`gemv_i4_prepared`]: re-laid out once, the
//!   fastest int4 path.
//! * [`dot_i16_i8`], [`gemv_i16_i8`]: int16 activations (16x8 kernels).
//! * [`row_sums_i8`], [`row_sums_i4`], [`sum_i8`] and [`fold_zero_points`]:
//!   offset folding, `Σ(x - zx)(w - zw) = Σxw - zw·Σx - zx·Σw + n·zx·zw`,
//!   so zero points cost nothing per multiply-accumulate.
//!
//! ## Which code runs
//!
//! [`Isa::detect`] picks the best instruction set once and caches its table
//! of kernels; the free functions use it, and the methods of [`Isa`] run
//! one path on purpose (the tests compare every path with the portable one).
//!
//! | ISA | full range | narrow range | int4 | 16x8 |
//! | --- | --- | --- | --- | --- |
//! | `Generic` | portable loop (the specification, autovectorized) | same | same | same |
//! | `Sse2` (x86_64 baseline) | unpack + `pmaddwd` | same as full range | generic | generic |
//! | `Avx2` | `vpmovsxbw` + `vpmaddwd` | sign trick | nibble unpack + `vpmaddubsw` | `vpmovsxbw` weights + `vpmaddwd`, i32 lanes widened to i64 |
//! | `Avx512Vnni` | `vpdpbusd` on `w + 128`, bias removed exactly | same as full range | nibbles + `vpdpbusd` | `vpmaddwd` on 512 bits (32 columns per instruction), i32 lanes widened to i64 |
//! | `Dsp` (Cortex-M4/M7/M33/M55/M85) | `SXTB16` + `SMLAD`, 4 rows per pass | same as full range | GEMV: nibbles masked into int16 pairs + `SMLAD`, 2 rows per pass | `SXTB16` weights + `SMLAD` on regrouped int16 pairs (`PKHBT`/`PKHTB`), i32 runs widened to i64 |
//! | `Mve` (Cortex-M55/M85 Helium) | `VMLADAVA.S8`, tail-predicated, 4 rows per pass | same as full range | generic (vectorised by the compiler) | `VLDRB.S16` weights + `VMLALDAVA.S16` into 64-bit accumulators, tail-predicated |
//! | `Neon` (AArch64) | `SMULL` + `SMULL2` + 2 `SADALP` | `SMULL` + `SMLAL2` + 1 `SADALP` | nibbles sign-extended in place (`SHL`/`SSHR`), the narrow step | `SXTL` weights + `SMLAL`/`SMLAL2`, i32 lanes widened to i64 (`SADALP`) |
//! | `NeonDotprod` | `SDOT` | same as full range | nibbles sign-extended in place + `SDOT` | `Neon`'s |
//!
//! AVX2 and AVX-512 VNNI are detected at run time even without `std` (see
//! `x86/mod.rs`: `cpuid` + `xgetbv`, the same check `std` makes), so a
//! default build never runs scalar code on an AVX2 machine.
//!
//! ## Layout: where an algorithm and where an instruction set goes
//!
//! * `generic.rs`: the specification, plain loops every path is tested
//!   against; `prepared.rs`, `weights.rs`: the weight types.
//! * `simd/mod.rs`: the small traits an instruction set implements (`Block`:
//!   what it loads at once; `Lanes`: its accumulators and horizontal sums;
//!   `Mac`: one multiply-accumulate step) and `isa_table!`, which builds its
//!   table. `simd/dot.rs` (one row: dots, row sums) and `simd/gemm.rs`
//!   (tiles of `R` weight rows × `B` activation rows: GEMM, GEMV, int4
//!   GEMV): the algorithms, written once over those traits; `simd/wide.rs`:
//!   the 16x8 dot and GEMV over `Mac16` (i32 lanes widened into i64 before
//!   they can overflow; the bound is proved there).
//! * `fully_connected.rs`: the int8 fully-connected tile of the layers, a
//!   GEMV then the output stage of its rows; its specification is exactly
//!   that (the table's own entries), and an instruction set may fuse the
//!   two (Helium does).
//! * `dispatch.rs`: the table of entry points, the portable table, the
//!   lookup by [`Isa`]; the best table is resolved once and cached.
//! * one folder per architecture, one file per instruction set, holding its
//!   `Mac` implementations, the tricks that are its own and its table:
//!   `x86/` (`sse2.rs`, `avx2.rs`, `avx512.rs`; `mod.rs` detects once,
//!   with or without `std`, and caches the choice); `arm/` (`dsp.rs`,
//!   Cortex-M DSP: a 4-byte block in one register, `SXTB16` + `SMLAD`
//!   through `asm!`, the shared drivers for dots and tiles and its own
//!   4-row GEMV loop; `mve.rs`, Helium: `VMLADAVA.S8` loops, each one
//!   `asm!` block; both chosen when the firmware is built); `aarch64/`
//!   (`neon.rs`, `dotprod.rs`: 32-byte blocks over the shared drivers;
//!   `SDOT` detected at run time with `std`, by `cfg` without;
//!   `requant.rs`: the output stage's NEON lanes).
//!
//!   A new instruction set adds its variant to [`Isa`], its arm to
//!   `Isa::kernels` (and, for a new architecture, to `dispatch::best` and
//!   the `cfg` of `mod simd`), and nothing else.
//!
//! ```
//! use qkit::kernel::{dot_i8, dot_i8_narrow, NarrowI8};
//! let x = [-128i8, 127, 3];
//! let w = NarrowI8::new(&[-127, 127, -2])?;
//! assert_eq!(dot_i8(&x, w.as_slice())?, 128 * 127 + 127 * 127 - 6);
//! assert_eq!(dot_i8_narrow(w, &x)?, 128 * 127 + 127 * 127 - 6);
//! # Ok::<(), qkit::Error>(())
//! ```

mod depthwise;
mod dispatch;
pub(crate) mod fully_connected;
mod generic;
pub(crate) mod output_stage;
mod prepared;
mod weights;
// The algorithms over the per-ISA traits, and the ISA folders that
// instantiate them. A new architecture folder extends the first `cfg`.
#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "arm")]
mod arm;
#[cfg(any(
    all(target_arch = "x86_64", target_feature = "sse2"),
    all(target_arch = "arm", target_feature = "dsp"),
    target_arch = "aarch64"
))]
// Cortex-M uses no table macro (its features are fixed at build time).
#[cfg_attr(
    not(target_arch = "x86_64"),
    allow(dead_code, unused_imports, unused_macros)
)]
mod simd;
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
pub(crate) mod x86;

pub use depthwise::DepthwiseTile;
pub use output_stage::{
    Multipliers, OutputStage, RequantMode, RequantOutput, Scaling, requantize, requantize_scalar,
};
pub use prepared::PreparedI4;
pub use weights::NarrowI8;

use crate::Error;
use dispatch::{Kernels, best};

/// An instruction set a kernel can run on.
///
/// ```
/// use qkit::kernel::Isa;
/// let best = Isa::detect();
/// assert!(best.is_available());
/// assert!(Isa::Generic.is_available());
/// // Every available path computes the same integers.
/// for isa in Isa::ALL.into_iter().filter(|i| i.is_available()) {
///     assert_eq!(isa.dot_i8(&[1, -2, 3], &[4, 5, -6])?, 4 - 10 - 18);
/// }
/// # Ok::<(), qkit::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Isa {
    /// The portable implementation: the specification, on every target.
    Generic,
    /// x86_64 SSE2 (part of the x86_64 baseline).
    Sse2,
    /// x86_64 AVX2, detected at run time.
    Avx2,
    /// x86_64 AVX-512 with VNNI (`avx512f`, `avx512bw`, `avx512vnni`, plus
    /// AVX2), detected at run time: `vpdpbusd`, 64 multiply-accumulates per
    /// instruction.
    Avx512Vnni,
    /// Cortex-M with the DSP extension (Cortex-M4/M7/M33/M55/M85; chosen
    /// when the build enables `target_feature = "dsp"`): `SXTB16` +
    /// `SMLAD`, two multiply-accumulates per instruction.
    Dsp,
    /// Cortex-M55/M85 Helium (MVE; chosen when the build names
    /// `target-cpu=cortex-m55`/`cortex-m85`): `VMLADAVA.S8`, 16
    /// multiply-accumulates per instruction, tail-predicated; the `i8`
    /// double-rounding output stage (`VQRDMULH` + `VRSHL`) on 4 lanes, fused
    /// with the 4-row GEMV in the fully-connected layer.
    Mve,
    /// AArch64 NEON (the AArch64 baseline): `SMULL` + `SADALP`; packed int4
    /// (`dot_i4_i8`, `gemv_i4_i8`) sign-extended in place against
    /// activations split even / odd by `LD2`; the output stage on 8 lanes
    /// in every mode but LiteRT's reference one (double rounding as
    /// `SQRDMULH` + `SRSHL` with gemmlowp's fix-up).
    Neon,
    /// AArch64 NEON with `SDOT` (`dotprod`), detected at run time with
    /// `std`, chosen by `cfg(target_feature = "dotprod")` without: `SDOT`
    /// for int8 and packed int4; the output stage is `Neon`'s.
    NeonDotprod,
}

/// Checks `found == expected`.
#[inline]
fn check_len(expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::LengthMismatch { expected, found })
    }
}

/// Number of bytes holding `n` packed int4 values.
#[inline]
fn packed_len(n: usize) -> usize {
    n.div_ceil(2)
}

/// Checks a `[rows][cols]` matrix of `len` elements.
#[inline]
fn check_matrix(len: usize, rows: usize, cols: usize) -> Result<(), Error> {
    check_len(rows.checked_mul(cols).ok_or(Error::Overflow)?, len)
}

/// Checks a packed int4 `[rows][cols]` matrix held in `len` bytes.
#[inline]
fn check_packed_matrix(len: usize, rows: usize, cols: usize) -> Result<(), Error> {
    let n = rows.checked_mul(cols).ok_or(Error::Overflow)?;
    check_len(packed_len(n), len)
}

/// Splits a batch: `x` is `batch × cols`, `out` is `batch × rows`.
/// Returns `(rows, cols)`.
fn batch_shape(x_len: usize, out_len: usize, batch: usize) -> Result<(usize, usize), Error> {
    if batch == 0 {
        check_len(0, x_len)?;
        check_len(0, out_len)?;
        return Ok((0, 0));
    }
    let cols = x_len / batch;
    let rows = out_len / batch;
    check_len(batch * cols, x_len)?;
    check_len(batch * rows, out_len)?;
    Ok((rows, cols))
}

/// The public operations: shapes validated once, here, then one entry of a
/// table runs (`(self.f)(..)` calls the raw entry `f`).
impl Kernels {
    #[inline]
    fn dot_i8(&self, a: &[i8], b: &[i8]) -> Result<i32, Error> {
        check_len(a.len(), b.len())?;
        Ok((self.dot_i8)(a, b))
    }

    #[inline]
    fn dot_i8_narrow(&self, x: &[i8], w: NarrowI8<'_>) -> Result<i32, Error> {
        check_len(w.len(), x.len())?;
        Ok((self.dot_i8_narrow)(x, w.as_slice()))
    }

    #[inline]
    fn dot_i4_i8(&self, packed: &[u8], x: &[i8]) -> Result<i32, Error> {
        check_len(packed_len(x.len()), packed.len())?;
        Ok((self.dot_i4_i8)(packed, x))
    }

    #[inline]
    fn gemv_i4_i8(&self, packed: &[u8], x: &[i8], out: &mut [i32]) -> Result<(), Error> {
        check_packed_matrix(packed.len(), out.len(), x.len())?;
        (self.gemv_i4_i8)(packed, x, out);
        Ok(())
    }

    #[inline]
    fn gemv_i4_prepared(&self, w: &PreparedI4<'_>, x: &[i8], out: &mut [i32]) -> Result<(), Error> {
        check_len(w.cols(), x.len())?;
        check_len(w.rows(), out.len())?;
        (self.gemv_i4_prepared)(w.bytes(), w.row_bytes(), x, out);
        Ok(())
    }

    /// A GEMM entry (`gemm_i8` or `gemm_i8_narrow`) on a validated batch.
    #[inline]
    fn gemm(
        entry: fn(&[i8], &[i8], usize, &mut [i32]),
        w: &[i8],
        x: &[i8],
        batch: usize,
        out: &mut [i32],
    ) -> Result<(), Error> {
        let (rows, cols) = batch_shape(x.len(), out.len(), batch)?;
        if batch > 0 {
            // No activation rows: nothing to say about `w`.
            check_matrix(w.len(), rows, cols)?;
            entry(w, x, cols, out);
        }
        Ok(())
    }

    #[inline]
    fn row_sums_i8(&self, w: &[i8], cols: usize, out: &mut [i32]) -> Result<(), Error> {
        check_matrix(w.len(), out.len(), cols)?;
        (self.row_sums_i8)(w, cols, out);
        Ok(())
    }

    #[inline]
    fn dot_i16_i8(&self, w: &[i8], x: &[i16]) -> Result<i64, Error> {
        check_len(x.len(), w.len())?;
        Ok((self.dot_i16_i8)(x, w))
    }

    #[inline]
    fn gemv_i16_i8(&self, w: &[i8], x: &[i16], out: &mut [i64]) -> Result<(), Error> {
        check_matrix(w.len(), out.len(), x.len())?;
        (self.gemv_i16_i8)(w, x, out);
        Ok(())
    }

    #[inline]
    fn row_sums_i4(&self, packed: &[u8], cols: usize, out: &mut [i32]) -> Result<(), Error> {
        check_packed_matrix(packed.len(), out.len(), cols)?;
        (self.row_sums_i4)(packed, cols, out);
        Ok(())
    }

    #[inline]
    fn sum_i8(&self, x: &[i8]) -> i32 {
        let mut sum = [0i32];
        (self.row_sums_i8)(x, x.len(), &mut sum);
        sum[0]
    }
}

impl Isa {
    /// Every instruction set qkit knows, each architecture's best last.
    ///
    /// ```
    /// assert_eq!(qkit::kernel::Isa::ALL[0], qkit::kernel::Isa::Generic);
    /// ```
    pub const ALL: [Isa; 8] = [
        Isa::Generic,
        Isa::Sse2,
        Isa::Avx2,
        Isa::Avx512Vnni,
        Isa::Dsp,
        Isa::Mve,
        Isa::Neon,
        Isa::NeonDotprod,
    ];

    /// The best instruction set of the running CPU (detected once, cached).
    ///
    /// ```
    /// let isa = qkit::kernel::Isa::detect();
    /// #[cfg(target_arch = "x86_64")]
    /// assert_ne!(isa, qkit::kernel::Isa::Generic);
    /// # let _ = isa;
    /// ```
    pub fn detect() -> Isa {
        best().isa
    }

    /// Whether this instruction set can run here.
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// assert_eq!(Isa::Sse2.is_available(), cfg!(target_arch = "x86_64"));
    /// ```
    pub fn is_available(self) -> bool {
        self.kernels().is_some()
    }

    /// This instruction set's kernels, or `Err(InvalidParameter)` if it
    /// cannot run here.
    #[inline]
    pub(crate) fn table(self) -> Result<&'static Kernels, Error> {
        self.kernels().ok_or(Error::InvalidParameter(
            "instruction set not available on this CPU",
        ))
    }

    /// [`dot_i8`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// assert_eq!(Isa::Generic.dot_i8(&[-128; 3], &[-128; 3])?, 3 * 16384);
    /// assert!(Isa::Generic.dot_i8(&[1], &[]).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn dot_i8(self, a: &[i8], b: &[i8]) -> Result<i32, Error> {
        self.table()?.dot_i8(a, b)
    }

    /// [`dot_i8_narrow`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::{Isa, NarrowI8};
    /// let w = NarrowI8::new(&[-127; 40])?;
    /// assert_eq!(Isa::detect().dot_i8_narrow(w, &[-128; 40])?, 40 * 128 * 127);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn dot_i8_narrow(self, w: NarrowI8<'_>, x: &[i8]) -> Result<i32, Error> {
        self.table()?.dot_i8_narrow(x, w)
    }

    /// [`dot_i4_i8`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// // 0xF7 holds 7 (low nibble) then -1 (high nibble).
    /// assert_eq!(Isa::Generic.dot_i4_i8(&[0xF7], &[10, 3])?, 70 - 3);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn dot_i4_i8(self, packed: &[u8], x: &[i8]) -> Result<i32, Error> {
        self.table()?.dot_i4_i8(packed, x)
    }

    /// [`gemv_i8`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// let w = [1i8, 2, 3, -1, -2, -3]; // 2 rows × 3 columns
    /// let mut out = [0i32; 2];
    /// Isa::detect().gemv_i8(&w, &[1, 1, 1], &mut out)?;
    /// assert_eq!(out, [6, -6]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn gemv_i8(self, w: &[i8], x: &[i8], out: &mut [i32]) -> Result<(), Error> {
        Kernels::gemm(self.table()?.gemm_i8, w, x, 1, out)
    }

    /// [`gemv_i8_narrow`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::{Isa, NarrowI8};
    /// let w = NarrowI8::new(&[1, 2, 3, -1, -2, -3])?;
    /// let mut out = [0i32; 2];
    /// Isa::detect().gemv_i8_narrow(w, &[-128, 0, 1], &mut out)?;
    /// assert_eq!(out, [-125, 125]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn gemv_i8_narrow(self, w: NarrowI8<'_>, x: &[i8], out: &mut [i32]) -> Result<(), Error> {
        Kernels::gemm(self.table()?.gemm_i8_narrow, w.as_slice(), x, 1, out)
    }

    /// [`gemv_i4_i8`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// // 2 rows × 3 columns, flat: [1, 2, 3, -1, -2, -3] packed two per byte.
    /// let packed = [0x21u8, 0xF3, 0xDE];
    /// let mut out = [0i32; 2];
    /// Isa::detect().gemv_i4_i8(&packed, &[1, 1, 1], &mut out)?;
    /// assert_eq!(out, [6, -6]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn gemv_i4_i8(self, packed: &[u8], x: &[i8], out: &mut [i32]) -> Result<(), Error> {
        self.table()?.gemv_i4_i8(packed, x, out)
    }

    /// [`gemv_i4_prepared`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::{Isa, PreparedI4};
    /// let mut buf = [0u8; 32];
    /// let w = PreparedI4::new(&[0xF7], 1, 2, &mut buf)?; // [7, -1]
    /// let mut out = [0i32; 1];
    /// Isa::Generic.gemv_i4_prepared(&w, &[10, 3], &mut out)?;
    /// assert_eq!(out, [67]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn gemv_i4_prepared(
        self,
        w: &PreparedI4<'_>,
        x: &[i8],
        out: &mut [i32],
    ) -> Result<(), Error> {
        self.table()?.gemv_i4_prepared(w, x, out)
    }

    /// [`gemm_i8`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// let w = [1i8, 0, 0, 1]; // identity, 2 × 2
    /// let x = [5i8, 6, -7, 8]; // 2 batch rows
    /// let mut out = [0i32; 4];
    /// Isa::detect().gemm_i8(&w, &x, 2, &mut out)?;
    /// assert_eq!(out, [5, 6, -7, 8]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn gemm_i8(self, w: &[i8], x: &[i8], batch: usize, out: &mut [i32]) -> Result<(), Error> {
        Kernels::gemm(self.table()?.gemm_i8, w, x, batch, out)
    }

    /// [`gemm_i8_narrow`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::{Isa, NarrowI8};
    /// let w = NarrowI8::new(&[2, 0, 0, -3])?;
    /// let mut out = [0i32; 4];
    /// Isa::detect().gemm_i8_narrow(w, &[1, 1, -128, 127], 2, &mut out)?;
    /// assert_eq!(out, [2, -3, -256, -381]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn gemm_i8_narrow(
        self,
        w: NarrowI8<'_>,
        x: &[i8],
        batch: usize,
        out: &mut [i32],
    ) -> Result<(), Error> {
        Kernels::gemm(self.table()?.gemm_i8_narrow, w.as_slice(), x, batch, out)
    }

    /// [`dot_i16_i8`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// // 600 · 2^22 > i32::MAX: the sum is exact in i64 on every path.
    /// let want = 600 * 32768 * 128;
    /// assert_eq!(Isa::detect().dot_i16_i8(&[-128; 600], &[-32768; 600])?, want);
    /// assert!(Isa::Generic.dot_i16_i8(&[1], &[]).is_err());
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn dot_i16_i8(self, w: &[i8], x: &[i16]) -> Result<i64, Error> {
        self.table()?.dot_i16_i8(w, x)
    }

    /// [`gemv_i16_i8`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// let w = [1i8, 2, 3, -1, -2, -3]; // 2 rows × 3 columns
    /// let mut out = [0i64; 2];
    /// Isa::detect().gemv_i16_i8(&w, &[-32768, 1, 1], &mut out)?;
    /// assert_eq!(out, [-32763, 32763]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn gemv_i16_i8(self, w: &[i8], x: &[i16], out: &mut [i64]) -> Result<(), Error> {
        self.table()?.gemv_i16_i8(w, x, out)
    }

    /// [`row_sums_i8`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// let mut sums = [0i32; 2];
    /// Isa::detect().row_sums_i8(&[1, 2, 3, -128, -5, -6], 3, &mut sums)?;
    /// assert_eq!(sums, [6, -139]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn row_sums_i8(self, w: &[i8], cols: usize, out: &mut [i32]) -> Result<(), Error> {
        self.table()?.row_sums_i8(w, cols, out)
    }

    /// [`row_sums_i4`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// let mut sums = [0i32; 2];
    /// Isa::detect().row_sums_i4(&[0x21, 0xE3], 2, &mut sums)?; // [1, 2], [3, -2]
    /// assert_eq!(sums, [3, 1]);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn row_sums_i4(self, packed: &[u8], cols: usize, out: &mut [i32]) -> Result<(), Error> {
        self.table()?.row_sums_i4(packed, cols, out)
    }

    /// [`sum_i8`] on this instruction set.
    ///
    /// ```
    /// use qkit::kernel::Isa;
    /// assert_eq!(Isa::Generic.sum_i8(&[-128, 127, 5])?, 4);
    /// # Ok::<(), qkit::Error>(())
    /// ```
    pub fn sum_i8(self, x: &[i8]) -> Result<i32, Error> {
        Ok(self.table()?.sum_i8(x))
    }
}

/// The exact `Σ a[k]·b[k]` with int32 wrap-around, for every int8 input.
///
/// `Err(Error::LengthMismatch)` if the lengths differ. Uses the best
/// instruction set of the CPU ([`Isa::detect`]).
///
/// ```
/// use qkit::kernel::dot_i8;
/// assert_eq!(dot_i8(&[1, -2, 3], &[4, 5, -6])?, -24);
/// assert_eq!(dot_i8(&[-128; 100], &[-128; 100])?, 100 * 16384);
/// assert!(dot_i8(&[1, 2], &[1]).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn dot_i8(a: &[i8], b: &[i8]) -> Result<i32, Error> {
    best().dot_i8(a, b)
}

/// `Σ x[k]·w[k]` where `w` is known to lie in `[-127, 127]`: the fast path
/// for TFLite weights (the sign trick on AVX2). Exact, int32 wrap-around.
///
/// ```
/// use qkit::kernel::{dot_i8_narrow, NarrowI8};
/// let w = NarrowI8::new(&[127, -127])?;
/// assert_eq!(dot_i8_narrow(w, &[-128, -128])?, 0);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn dot_i8_narrow(w: NarrowI8<'_>, x: &[i8]) -> Result<i32, Error> {
    best().dot_i8_narrow(x, w)
}

/// `Σ w[k]·x[k]` with `w` packed int4 (element `2k` in the low nibble of
/// byte `k`, sign-extended; an odd length leaves the last high nibble
/// unused). `packed.len()` must be `x.len().div_ceil(2)`.
///
/// ```
/// use qkit::kernel::dot_i4_i8;
/// // [0x12, 0x34] holds [2, 1, 4, 3]; 0x08 holds [-8] (odd length).
/// assert_eq!(dot_i4_i8(&[0x12, 0x34], &[1, 1, 1, 1])?, 10);
/// assert_eq!(dot_i4_i8(&[0x08], &[-128])?, 1024);
/// assert!(dot_i4_i8(&[0x12], &[1, 1, 1]).is_err());
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn dot_i4_i8(packed: &[u8], x: &[i8]) -> Result<i32, Error> {
    best().dot_i4_i8(packed, x)
}

/// `Σ w[k]·x[k]` for int8 weights and int16 activations (16x8 kernels),
/// exact in int64 (TFLite accumulates 16x8 in int64 with an int64 bias).
///
/// ```
/// use qkit::kernel::dot_i16_i8;
/// assert_eq!(dot_i16_i8(&[-128; 1000], &[-32768; 1000])?, 1000 * 4194304);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn dot_i16_i8(w: &[i8], x: &[i16]) -> Result<i64, Error> {
    best().dot_i16_i8(w, x)
}

/// GEMV: `out[r] = Σ_k w[r][k]·x[k]`, `w` row-major `[out.len()][x.len()]`.
///
/// ```
/// use qkit::kernel::gemv_i8;
/// let mut out = [0i32; 2];
/// gemv_i8(&[1, 2, -128, 4], &[3, -1], &mut out)?;
/// assert_eq!(out, [1, -388]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn gemv_i8(w: &[i8], x: &[i8], out: &mut [i32]) -> Result<(), Error> {
    Kernels::gemm(best().gemm_i8, w, x, 1, out)
}

/// GEMV with narrow-range weights (the sign-trick path on AVX2).
///
/// ```
/// use qkit::kernel::{gemv_i8_narrow, NarrowI8};
/// let w = NarrowI8::new(&[1, 2, -127, 4])?;
/// let mut out = [0i32; 2];
/// gemv_i8_narrow(w, &[3, -1], &mut out)?;
/// assert_eq!(out, [1, -385]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn gemv_i8_narrow(w: NarrowI8<'_>, x: &[i8], out: &mut [i32]) -> Result<(), Error> {
    Kernels::gemm(best().gemm_i8_narrow, w.as_slice(), x, 1, out)
}

/// GEMV over packed int4 weights (TFLite layout: flat over the whole
/// `[out.len()][x.len()]` tensor, so with an odd column count rows start
/// mid-byte). `packed.len()` must be `(rows·cols).div_ceil(2)`.
///
/// ```
/// use qkit::kernel::gemv_i4_i8;
/// let mut out = [0i32; 2];
/// gemv_i4_i8(&[0x21, 0xE3], &[1, 1], &mut out)?; // rows [1, 2], [3, -2]
/// assert_eq!(out, [3, 1]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn gemv_i4_i8(packed: &[u8], x: &[i8], out: &mut [i32]) -> Result<(), Error> {
    best().gemv_i4_i8(packed, x, out)
}

/// GEMV over int4 weights prepared once by [`PreparedI4::new`]: the
/// fastest int4 path (no nibble interleaving per pass).
///
/// ```
/// use qkit::kernel::{gemv_i4_prepared, PreparedI4};
/// let mut buf = [0u8; 64];
/// let w = PreparedI4::new(&[0x21, 0xE3], 2, 2, &mut buf)?; // [1, 2], [3, -2]
/// let mut out = [0i32; 2];
/// gemv_i4_prepared(&w, &[1, 1], &mut out)?;
/// assert_eq!(out, [3, 1]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn gemv_i4_prepared(w: &PreparedI4<'_>, x: &[i8], out: &mut [i32]) -> Result<(), Error> {
    best().gemv_i4_prepared(w, x, out)
}

/// GEMV for int16 activations and int8 weights, exact int64 accumulators.
///
/// ```
/// use qkit::kernel::gemv_i16_i8;
/// let mut out = [0i64; 2];
/// gemv_i16_i8(&[1, 2, 3, 4], &[1000, -1000], &mut out)?;
/// assert_eq!(out, [-1000, -1000]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn gemv_i16_i8(w: &[i8], x: &[i16], out: &mut [i64]) -> Result<(), Error> {
    best().gemv_i16_i8(w, x, out)
}

/// GEMM: `batch` activation rows `x` (`batch × cols`) against `w`
/// (`rows × cols`) into `out` (`batch × rows`).
///
/// ```
/// use qkit::kernel::gemm_i8;
/// let mut out = [0i32; 2];
/// gemm_i8(&[2, 3], &[1, 1, -1, 1], 2, &mut out)?; // 1 row, 2 columns, batch 2
/// assert_eq!(out, [5, 1]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn gemm_i8(w: &[i8], x: &[i8], batch: usize, out: &mut [i32]) -> Result<(), Error> {
    Kernels::gemm(best().gemm_i8, w, x, batch, out)
}

/// GEMM with narrow-range weights.
///
/// ```
/// use qkit::kernel::{gemm_i8_narrow, NarrowI8};
/// let mut out = [0i32; 2];
/// gemm_i8_narrow(NarrowI8::new(&[2, 3])?, &[1, 1, -1, 1], 2, &mut out)?;
/// assert_eq!(out, [5, 1]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn gemm_i8_narrow(
    w: NarrowI8<'_>,
    x: &[i8],
    batch: usize,
    out: &mut [i32],
) -> Result<(), Error> {
    Kernels::gemm(best().gemm_i8_narrow, w.as_slice(), x, batch, out)
}

/// Sum of `x` with int32 wrap-around (the `Σx` of offset folding).
///
/// ```
/// assert_eq!(qkit::kernel::sum_i8(&[-128, 127, 5]), 4);
/// ```
pub fn sum_i8(x: &[i8]) -> i32 {
    best().sum_i8(x)
}

/// Row sums `out[r] = Σ_k w[r][k]` of a `[out.len()][cols]` int8 matrix,
/// computed once when weights are loaded.
///
/// ```
/// let mut sums = [0i32; 2];
/// qkit::kernel::row_sums_i8(&[1, 2, 3, -4, -5, -6], 3, &mut sums)?;
/// assert_eq!(sums, [6, -15]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn row_sums_i8(w: &[i8], cols: usize, out: &mut [i32]) -> Result<(), Error> {
    best().row_sums_i8(w, cols, out)
}

/// Row sums of a packed int4 `[out.len()][cols]` matrix (TFLite layout).
///
/// ```
/// let mut sums = [0i32; 2];
/// qkit::kernel::row_sums_i4(&[0x21, 0xE3], 2, &mut sums)?; // rows [1, 2], [3, -2]
/// assert_eq!(sums, [3, 1]);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn row_sums_i4(packed: &[u8], cols: usize, out: &mut [i32]) -> Result<(), Error> {
    best().row_sums_i4(packed, cols, out)
}

/// Offset folding: `Σ_k (x[k] - zx)(w[k] - zw)` from the raw `dot = Σxw`,
/// `sum_x = Σx`, `sum_w = Σw` and the length `n`:
/// `dot - zw·sum_x - zx·sum_w + n·zx·zw`, all in int32 wrap-around, which
/// is bit-identical to the reference loop (wrapping addition is
/// associative).
///
/// ```
/// use qkit::kernel::{dot_i8, fold_zero_points, sum_i8};
/// let (x, w) = ([10i8, -20, 30], [1i8, 2, 3]);
/// let (zx, zw) = (-5, 1);
/// let direct: i32 = x.iter().zip(&w).map(|(&a, &b)| (a as i32 - zx) * (b as i32 - zw)).sum();
/// let folded = fold_zero_points(dot_i8(&x, &w)?, sum_i8(&x), sum_i8(&w), 3, zx, zw);
/// assert_eq!(folded, direct);
/// # Ok::<(), qkit::Error>(())
/// ```
pub fn fold_zero_points(dot: i32, sum_x: i32, sum_w: i32, n: usize, zx: i32, zw: i32) -> i32 {
    // `n as i32` wraps for n >= 2^31, consistently with the i32 accumulator.
    let n = n as i32;
    dot.wrapping_sub(zw.wrapping_mul(sum_x))
        .wrapping_sub(zx.wrapping_mul(sum_w))
        .wrapping_add(n.wrapping_mul(zx).wrapping_mul(zw))
}
