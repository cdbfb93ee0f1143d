//! The depthwise convolution kernels (`Isa::depthwise_i8`, and
//! `Isa::depthwise_i16` for 16x8) on every
//! instruction set this CPU has equals a naive i64 reference over random
//! geometries: every channel count 1..=70 (so every length of the channel
//! tail of 16-, 32- and 64-lane kernels), depth multipliers 1..=3, strides,
//! dilations, paddings (tiles reaching over the border and wholly into the
//! padding), filters with more taps than one pass holds, channel ranges
//! that start mid-image, and the extremes (-128 everywhere).

use qkit::kernel::{DepthwiseTile, Isa};

/// xorshift64*, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn i8(&mut self) -> i8 {
        (self.next() >> 56) as i8
    }
}

/// `out[i][j] + Σ w · x` straight from the definition, in i64.
fn reference<T: Copy + Into<i64>>(t: &DepthwiseTile<'_, T>, start: &[i64]) -> Vec<i64> {
    let [h, w, c] = t.input_size;
    let out_c = c * t.depth_multiplier;
    let mut out = start.to_vec();
    for i in 0..t.pixels {
        for j in 0..t.channel_count {
            let o = t.channel_start + j;
            let acc = &mut out[i * t.channel_count + j];
            for ky in 0..t.filter_size[0] {
                for kx in 0..t.filter_size[1] {
                    let iy = (t.origin[0] * t.stride[0] + ky * t.dilation[0]) as i64
                        - t.padding[0] as i64;
                    let ix = ((t.origin[1] + i) * t.stride[1] + kx * t.dilation[1]) as i64
                        - t.padding[1] as i64;
                    let inside = (0..h as i64).contains(&iy) && (0..w as i64).contains(&ix);
                    let x = if inside {
                        t.input[(iy as usize * w + ix as usize) * c + o / t.depth_multiplier]
                    } else {
                        t.pad_value
                    };
                    let wt = t.weights[(ky * t.filter_size[1] + kx) * out_c + o];
                    *acc += i64::from(wt) * x.into();
                }
            }
        }
    }
    out
}

fn isas() -> Vec<Isa> {
    Isa::ALL.into_iter().filter(|i| i.is_available()).collect()
}

/// One random int8 tile on every ISA against the reference, `out` starting
/// from random accumulators (the kernel adds, wrapping in i32).
fn check(rng: &mut Rng, t: &DepthwiseTile<'_, i8>) {
    let start: Vec<i32> = (0..t.pixels * t.channel_count)
        .map(|_| rng.next() as i32 >> 8)
        .collect();
    let wide: Vec<i64> = start.iter().map(|&a| a.into()).collect();
    let want: Vec<i32> = reference(t, &wide).iter().map(|&a| a as i32).collect();
    for isa in isas() {
        let mut got = start.clone();
        isa.depthwise_i8(t, &mut got).unwrap();
        assert_eq!(got, want, "{isa:?} {t:?}");
    }
}

/// The same tile with int16 activations (`x · 257 + low byte`, so the
/// values span the whole int16 range) through `depthwise_i16`.
fn check_i16(rng: &mut Rng, t: &DepthwiseTile<'_, i8>) {
    let wide = |x: i8, r: u64| i16::from(x) * 256 + (r & 0xFF) as i16;
    let input: Vec<i16> = t.input.iter().map(|&x| wide(x, rng.next())).collect();
    let t16 = DepthwiseTile {
        input: &input,
        input_size: t.input_size,
        weights: t.weights,
        filter_size: t.filter_size,
        depth_multiplier: t.depth_multiplier,
        stride: t.stride,
        dilation: t.dilation,
        padding: t.padding,
        pad_value: wide(t.pad_value, rng.next()),
        origin: t.origin,
        pixels: t.pixels,
        channel_start: t.channel_start,
        channel_count: t.channel_count,
    };
    let start: Vec<i64> = (0..t.pixels * t.channel_count)
        .map(|_| rng.next() as i64 >> 20)
        .collect();
    let want = reference(&t16, &start);
    for isa in isas() {
        let mut got = start.clone();
        isa.depthwise_i16(&t16, &mut got).unwrap();
        assert_eq!(got, want, "{isa:?} {t16:?}");
    }
}

#[test]
fn every_isa_equals_the_reference_for_every_channel_count() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // Under Miri (which checks the unsafe loads, not the arithmetic) the
    // channel counts around the 16- and 32-lane blocks only.
    let (counts, cases): (Vec<usize>, usize) = if cfg!(miri) {
        (vec![1, 15, 17, 32, 33], 2)
    } else {
        ((1..=70).collect(), 12)
    };
    for channels in counts {
        for case in 0..cases {
            let m = 1 + case % 3;
            let (h, w) = (1 + rng.below(7), 1 + rng.below(9));
            let filter = [1 + rng.below(4), 1 + rng.below(4)];
            let stride = [1 + rng.below(2), 1 + rng.below(3)];
            let dilation = [1 + rng.below(2), 1 + rng.below(2)];
            let padding = [rng.below(3), rng.below(3)];
            let input: Vec<i8> = (0..h * w * channels).map(|_| rng.i8()).collect();
            let out_c = channels * m;
            let weights: Vec<i8> = (0..filter[0] * filter[1] * out_c)
                .map(|_| rng.i8())
                .collect();
            // Every channel of the layer, or a random run of them.
            let (channel_start, channel_count) = if case % 2 == 0 {
                (0, out_c)
            } else {
                let s = rng.below(out_c);
                (s, 1 + rng.below(out_c - s))
            };
            let t = DepthwiseTile {
                input: &input,
                input_size: [h, w, channels],
                weights: &weights,
                filter_size: filter,
                depth_multiplier: m,
                stride,
                dilation,
                padding,
                pad_value: rng.i8(),
                origin: [rng.below(h + 1), rng.below(w + 1)],
                pixels: 1 + rng.below(w + 2),
                channel_start,
                channel_count,
            };
            check(&mut rng, &t);
            check_i16(&mut rng, &t);
        }
    }
}

/// Filters with more taps than one pass of the SIMD kernels (32): 7x5 and
/// 1x33, interior and border pixels.
#[test]
fn large_filters_take_several_passes() {
    let mut rng = Rng(7);
    // Under Miri one filter past 32 taps (two passes) at one origin.
    let cases: &[([usize; 2], usize)] = if cfg!(miri) {
        &[([1, 33], 17)]
    } else {
        &[([7, 5], 40), ([1, 33], 17), ([6, 6], 64)]
    };
    let origins: &[[usize; 2]] = if cfg!(miri) {
        &[[3, 10]]
    } else {
        &[[0, 0], [3, 10], [8, 30]]
    };
    for &(filter, channels) in cases {
        let (h, w) = (9, 40);
        let input: Vec<i8> = (0..h * w * channels).map(|_| rng.i8()).collect();
        let weights: Vec<i8> = (0..filter[0] * filter[1] * channels)
            .map(|_| rng.i8())
            .collect();
        for &origin in origins {
            let t = DepthwiseTile {
                input: &input,
                input_size: [h, w, channels],
                weights: &weights,
                filter_size: filter,
                depth_multiplier: 1,
                stride: [1, 1],
                dilation: [1, 1],
                padding: [filter[0] / 2, filter[1] / 2],
                pad_value: -7,
                origin,
                pixels: if cfg!(miri) { 3 } else { 10 },
                channel_start: 0,
                channel_count: channels,
            };
            check(&mut rng, &t);
            check_i16(&mut rng, &t);
        }
    }
}

/// -128 inputs, weights and padding: the largest products, summed over a
/// 5x5 window, exact on every path (the pair sums `2·2^14` exceed i16).
#[test]
fn extremes_are_exact() {
    let mut rng = Rng(3);
    let counts: &[usize] = if cfg!(miri) {
        &[17]
    } else {
        &[1, 15, 16, 17, 31, 32, 33, 64, 65]
    };
    let pads: &[i8] = if cfg!(miri) {
        &[i8::MIN]
    } else {
        &[i8::MIN, i8::MAX, 0]
    };
    for &channels in counts {
        let input = vec![i8::MIN; 6 * 6 * channels];
        let weights = vec![i8::MIN; 25 * channels];
        for &pad_value in pads {
            let t = DepthwiseTile {
                input: &input,
                input_size: [6, 6, channels],
                weights: &weights,
                filter_size: [5, 5],
                depth_multiplier: 1,
                stride: [1, 1],
                dilation: [1, 1],
                padding: [2, 2],
                pad_value,
                origin: [2, 0],
                pixels: 6,
                channel_start: 0,
                channel_count: channels,
            };
            check(&mut rng, &t);
            check_i16(&mut rng, &t);
        }
    }
}

#[test]
fn inconsistent_tiles_are_errors() {
    let input = [1i8; 2 * 2 * 3];
    let weights = [1i8; 9 * 3];
    let ok = DepthwiseTile {
        input: &input,
        input_size: [2, 2, 3],
        weights: &weights,
        filter_size: [3, 3],
        depth_multiplier: 1,
        stride: [1, 1],
        dilation: [1, 1],
        padding: [1, 1],
        pad_value: 0,
        origin: [0, 0],
        pixels: 2,
        channel_start: 0,
        channel_count: 3,
    };
    for isa in isas() {
        assert!(isa.depthwise_i8(&ok, &mut [0; 6]).is_ok());
        assert!(isa.depthwise_i8(&ok, &mut [0; 5]).is_err());
        let bad = [
            DepthwiseTile {
                input: &input[1..],
                ..ok
            },
            DepthwiseTile {
                weights: &weights[1..],
                ..ok
            },
            DepthwiseTile {
                depth_multiplier: 2,
                ..ok
            },
            DepthwiseTile {
                channel_start: 1,
                ..ok
            },
            DepthwiseTile {
                stride: [usize::MAX, 1],
                origin: [1, 0],
                ..ok
            },
            DepthwiseTile {
                origin: [0, usize::MAX],
                ..ok
            },
        ];
        for t in bad {
            assert!(isa.depthwise_i8(&t, &mut [0; 6]).is_err(), "{t:?}");
        }
    }
}
