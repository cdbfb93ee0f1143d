//! The int8 fully-connected tile: a GEMV and the output stage of its rows.
//!
//! A layer hands each tile (weight rows, one activation row, the rows'
//! [`Channel`] records, the runtime's mode and the clamp) to the
//! `fully_connected_i8` entry of its kernel table. The specification, and
//! the entry of every table that does not fuse the two steps, is
//! [`gemv_then_requantize`]: the table's own GEMV into `i32` accumulators,
//! then the table's own output stage over them. An instruction set fuses
//! the two when the accumulators can stay in registers between them (Helium,
//! `arm/mve.rs`: 4 rows per pass, requantized in one vector), which saves
//! the store and reload of every accumulator and the second pass's loop.

use super::dispatch::Kernels;
use super::output_stage::{Channel, Clamp, Job, RequantMode};
use super::{Isa, check_len, check_matrix};
use crate::Error;

/// One tile of an int8 FULLY_CONNECTED layer on one activation row:
/// `out[r] = stage(Σ_k w[r][k]·x[k], channels[r])`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FcTile<'a> {
    /// `channels.len()` weight rows of `x.len()` columns, row-major.
    pub(crate) w: &'a [i8],
    /// Whether every weight lies in `[-127, 127]` (the narrow GEMM may run).
    pub(crate) narrow: bool,
    /// The activation row.
    pub(crate) x: &'a [i8],
    /// The channel record of each row (folded bias, multiplier).
    pub(crate) channels: &'a [Channel],
    /// The runtime's requantization.
    pub(crate) requant: RequantMode,
    /// Output zero point and activation clamp.
    pub(crate) clamp: Clamp,
}

/// A table's `fully_connected_i8` entry: `(table, tile, out)`, `out` one
/// output per row. The table is passed so that the default entry runs the
/// GEMV and output stage of the table it sits in.
pub(crate) type FcEntry = fn(&Kernels, &FcTile<'_>, &mut [i8]);

/// Rows per GEMV of [`gemv_then_requantize`]: their accumulators live on
/// the stack (256 bytes).
const ROWS_PER_GEMV: usize = 64;

/// The specification: the table's GEMV (full-range or narrow, as the tile
/// says) into `i32` accumulators, then the table's `i8` output stage, 64
/// rows at a time.
pub(crate) fn gemv_then_requantize(k: &Kernels, t: &FcTile<'_>, out: &mut [i8]) {
    let cols = t.x.len();
    let gemm = if t.narrow {
        k.gemm_i8_narrow
    } else {
        k.gemm_i8
    };
    let mut acc = [0i32; ROWS_PER_GEMV];
    let parts = t
        .channels
        .chunks(ROWS_PER_GEMV)
        .zip(out.chunks_mut(ROWS_PER_GEMV));
    for (i, (channels, out)) in parts.enumerate() {
        let rows = channels.len();
        let start = i * ROWS_PER_GEMV * cols;
        let Some(w) = t.w.get(start..start + rows * cols) else {
            return; // `run_tile` checked `w` holds every row
        };
        let acc = &mut acc[..rows];
        gemm(w, t.x, cols, acc);
        (k.requantize_i8)(&Job::table(acc, channels, t.requant, t.clamp), out);
    }
}

/// Runs one tile on `isa`'s table: checks the shapes (`w` holds
/// `channels.len()` rows of `x.len()`, `out` one value per row), then its
/// `fully_connected_i8` entry.
pub(crate) fn run_tile(isa: Isa, t: &FcTile<'_>, out: &mut [i8]) -> Result<(), Error> {
    let k = isa.table()?;
    let rows = t.channels.len();
    check_matrix(t.w.len(), rows, t.x.len())?;
    check_len(rows, out.len())?;
    (k.fully_connected_i8)(k, t, out);
    Ok(())
}
