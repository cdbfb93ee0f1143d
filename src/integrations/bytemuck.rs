//! `bytemuck` (feature `bytemuck`): zero-copy casts, so quantized weights can
//! sit in `static` arrays or `include_bytes!` data and be viewed as qkit
//! types without copying.
//!
//! | type | traits | why |
//! | --- | --- | --- |
//! | `Fixed<T, FRAC>`, `T` an integer | `Zeroable`, `Pod`, `TransparentWrapper<T>` | `#[repr(transparent)]` over `T`; every bit pattern is a number |
//! | `ggml::BlockQ8_0`, `ggml::BlockQ4_0` | `Zeroable`, `Pod` | `#[repr(C)]`, 34 / 18 bytes, no padding (checked at compile time) |
//! | `requant::QuantizedMultiplier` | `Zeroable`, `Pod` | `#[repr(C)]` pair of `i32`, public fields |
//! | `int4::I4`, `int4::U4` | `Zeroable`, `NoUninit`, `CheckedBitPattern` | one byte, but only `[-8, 7]` / `[0, 15]` are values: a cast *to* bytes always works, a cast *from* bytes is checked |
//!
//! Packed 4-bit buffers (two values per byte) are plain `[u8]`, already
//! `Pod`.
//!
//! ```
//! use qkit::{Q15, int4::I4, quant::ggml::BlockQ8_0};
//!
//! // Q15 weights as raw i16 (e.g. from a file) viewed without copying, and back.
//! static RAW: [i16; 3] = [16384, -32768, 1];
//! let w: &[Q15] = bytemuck::cast_slice(&RAW);
//! assert_eq!(w[0].to_f32(), 0.5);
//! let bits: &[i16] = bytemuck::cast_slice(w);
//! assert_eq!(bits, &RAW);
//!
//! // ggml blocks straight from their bytes (34 bytes each, 2-byte aligned).
//! let blocks = [BlockQ8_0::ZERO; 2];
//! let bytes: &[u8] = bytemuck::cast_slice(&blocks);
//! assert_eq!(bytes.len(), 2 * BlockQ8_0::BYTES);
//!
//! // int4: any I4 slice is bytes; bytes become I4 only if every one is in range.
//! let v = [I4::MIN, I4::MAX];
//! assert_eq!(bytemuck::cast_slice::<I4, i8>(&v), &[-8, 7]);
//! assert_eq!(bytemuck::checked::try_cast_slice::<i8, I4>(&[3, -8]).unwrap(), &[I4::new(3).unwrap(), I4::MIN]);
//! assert!(bytemuck::checked::try_cast_slice::<i8, I4>(&[3, 8]).is_err());
//! ```
// `unsafe impl` of bytemuck's marker traits is the only way to provide
// them; each says why the layout allows it.
#![allow(unsafe_code)]

use core::mem::{align_of, size_of};

use bytemuck::{CheckedBitPattern, NoUninit, Pod, TransparentWrapper, Zeroable};

use crate::fixed::Fixed;
use crate::int4::{I4, U4};
use crate::quant::ggml::{BlockQ4_0, BlockQ8_0, QK};
use crate::requant::QuantizedMultiplier;

macro_rules! fixed_pod {
    ($($t:ty),*) => {$(
        // SAFETY: `Fixed` is `#[repr(transparent)]` over its only field,
        // `bits: $t`, so it has exactly `$t`'s layout: no padding, no
        // uninitialized bytes. `Fixed` places no invariant on its bits (any
        // `$t` is a valid number, `from_bits` accepts them all), so every bit
        // pattern, the all-zero one included (`ZERO`), is a valid value.
        unsafe impl<const FRAC: u32> Zeroable for Fixed<$t, FRAC> {}
        // SAFETY: as above.
        unsafe impl<const FRAC: u32> Pod for Fixed<$t, FRAC> {}
        // SAFETY: `#[repr(transparent)]` over `$t`, as above.
        unsafe impl<const FRAC: u32> TransparentWrapper<$t> for Fixed<$t, FRAC> {}
    )*};
}
fixed_pod!(i8, i16, i32, i64, u8, u16, u32, u64);

// The ggml blocks are `#[repr(C)]` { f16, [i8; 32] } and { f16, [u8; 16] }:
// the f16 (2 bytes, align 2) at offset 0, the byte array right after it, and
// an even total, so there is no padding anywhere. Checked here:
const _: () = assert!(size_of::<BlockQ8_0>() == 2 + QK && align_of::<BlockQ8_0>() == 2);
const _: () = assert!(size_of::<BlockQ4_0>() == 2 + QK / 2 && align_of::<BlockQ4_0>() == 2);
const _: () =
    assert!(size_of::<QuantizedMultiplier>() == 8 && align_of::<QuantizedMultiplier>() == 4);

// SAFETY: no padding (asserted above); the fields are `half::f16` and an
// integer array, both `Pod`, and the blocks have public fields and no
// invariant, so every bit pattern (and all zeros) is a valid block.
unsafe impl Zeroable for BlockQ8_0 {}
// SAFETY: as above.
unsafe impl Pod for BlockQ8_0 {}
// SAFETY: as for `BlockQ8_0`.
unsafe impl Zeroable for BlockQ4_0 {}
// SAFETY: as for `BlockQ8_0`.
unsafe impl Pod for BlockQ4_0 {}

// SAFETY: `#[repr(C)]` with two `i32` fields: size 8 (asserted), no padding.
// Its fields are public and unconstrained, so every bit pattern is a value.
unsafe impl Zeroable for QuantizedMultiplier {}
// SAFETY: as above.
unsafe impl Pod for QuantizedMultiplier {}

macro_rules! nibble_casts {
    ($($t:ident($bits:ty)),*) => {$(
        // SAFETY: `#[repr(transparent)]` over one integer byte; zero is a
        // valid value (`ZERO`).
        unsafe impl Zeroable for $t {}
        // SAFETY: one initialized byte, no padding.
        unsafe impl NoUninit for $t {}
        // SAFETY: `Bits` is the wrapped integer, whose layout the type has
        // (`#[repr(transparent)]`), and `is_valid_bit_pattern` accepts
        // exactly the values `new` accepts, the type's invariant.
        unsafe impl CheckedBitPattern for $t {
            type Bits = $bits;
            fn is_valid_bit_pattern(bits: &$bits) -> bool {
                $t::new(*bits).is_some()
            }
        }
    )*};
}
nibble_casts!(I4(i8), U4(u8));
