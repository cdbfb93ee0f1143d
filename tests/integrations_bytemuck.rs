//! The `bytemuck` feature: zero-copy views of qkit types, and checked casts
//! for the 4-bit types whose bytes are not all values.
#![cfg(feature = "bytemuck")]

use qkit::fixed::{Fixed, FixedI32, FixedU16};
use qkit::int4::{I4, U4};
use qkit::quant::ggml::{self, BlockQ4_0, BlockQ8_0};
use qkit::requant::QuantizedMultiplier;
use qkit::{Q7, Q15};

/// Weights as they would sit in flash.
static WEIGHTS_Q15: [Q15; 4] = [Q15::from_bits(16384), Q15::MIN, Q15::MAX, Q15::ZERO];

#[test]
fn fixed_casts_both_ways_without_copying() {
    let bits: &[i16] = bytemuck::cast_slice(&WEIGHTS_Q15);
    assert_eq!(bits, &[16384, i16::MIN, i16::MAX, 0]);
    assert_eq!(bits.as_ptr() as usize, WEIGHTS_Q15.as_ptr() as usize);
    let back: &[Q15] = bytemuck::cast_slice(bits);
    assert_eq!(back, &WEIGHTS_Q15);
    // Every bit pattern is a number.
    for b in [i32::MIN, -1, 0, 1, i32::MAX] {
        let x: FixedI32<16> = bytemuck::cast(b);
        assert_eq!(x.to_bits(), b);
    }
    let u: FixedU16<16> = bytemuck::cast(0xffffu16);
    assert_eq!(u.to_bits(), u16::MAX);
    let z: Fixed<i64, 40> = bytemuck::Zeroable::zeroed();
    assert_eq!(z, Fixed::<i64, 40>::ZERO);
    // TransparentWrapper: wrap a slice of raw integers in place.
    let raw = [64i8, -128];
    let q: &[Q7] = bytemuck::TransparentWrapper::wrap_slice(&raw);
    assert_eq!(q[0].to_f32(), 0.5);
    assert_eq!(q[1], Q7::MIN);
}

#[test]
fn ggml_blocks_cast_from_their_bytes() {
    let x: [f32; 64] = core::array::from_fn(|i| (i as f32 - 20.0) * 0.37);
    let mut q8 = [BlockQ8_0::ZERO; 2];
    ggml::quantize_row_q8_0(&x, &mut q8).unwrap();
    let bytes: &[u8] = bytemuck::cast_slice(&q8);
    assert_eq!(bytes.len(), 2 * BlockQ8_0::BYTES);
    // The in-memory layout is ggml's on-disk layout (little-endian host).
    assert_eq!(&bytes[..BlockQ8_0::BYTES], &q8[0].to_bytes()[..]);
    assert_eq!(&bytes[BlockQ8_0::BYTES..], &q8[1].to_bytes()[..]);
    let again: &[BlockQ8_0] = bytemuck::cast_slice(bytes);
    assert_eq!(again, &q8);

    let mut q4 = [BlockQ4_0::ZERO; 2];
    ggml::quantize_row_q4_0(&x, &mut q4).unwrap();
    let bytes: &[u8] = bytemuck::cast_slice(&q4);
    assert_eq!(&bytes[..BlockQ4_0::BYTES], &q4[0].to_bytes()[..]);
    let again: &[BlockQ4_0] = bytemuck::cast_slice(bytes);
    assert_eq!(again, &q4);
    // A byte buffer at an odd address cannot hold blocks (align 2): an error, not UB.
    let buf = [0u8; 2 * BlockQ4_0::BYTES + 1];
    let start = usize::from((buf.as_ptr() as usize).is_multiple_of(2));
    let odd = &buf[start..start + BlockQ4_0::BYTES];
    assert!(bytemuck::try_cast_slice::<u8, BlockQ4_0>(odd).is_err());
}

#[test]
fn multipliers_are_plain_pairs() {
    let table = [
        QuantizedMultiplier {
            multiplier: 1 << 30,
            shift: -3,
        },
        QuantizedMultiplier {
            multiplier: 0x6000_0000,
            shift: 0,
        },
    ];
    let words: &[i32] = bytemuck::cast_slice(&table);
    assert_eq!(words, &[1 << 30, -3, 0x6000_0000, 0]);
}

#[test]
fn int4_casts_are_checked() {
    let all: Vec<I4> = (-8..=7).map(|v| I4::new(v).unwrap()).collect();
    let bytes: &[i8] = bytemuck::cast_slice(&all);
    assert_eq!(bytes, &(-8..=7).collect::<Vec<i8>>()[..]);
    for b in i8::MIN..=i8::MAX {
        let r = bytemuck::checked::try_cast::<i8, I4>(b);
        assert_eq!(r.is_ok(), (-8..=7).contains(&b), "{b}");
        if let Ok(v) = r {
            assert_eq!(v.get(), b);
        }
    }
    for b in 0..=u8::MAX {
        let r = bytemuck::checked::try_cast::<u8, U4>(b);
        assert_eq!(r.is_ok(), b <= 15, "{b}");
    }
    let ok = bytemuck::checked::try_cast_slice::<u8, U4>(&[0, 15, 7]).unwrap();
    assert_eq!(ok.iter().map(|v| v.get()).collect::<Vec<_>>(), [0, 15, 7]);
    assert!(bytemuck::checked::try_cast_slice::<u8, U4>(&[0, 16]).is_err());
    let z: I4 = bytemuck::Zeroable::zeroed();
    assert_eq!(z, I4::ZERO);
}
