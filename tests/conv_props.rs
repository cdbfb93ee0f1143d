//! Every convolution, pooling and activation layer equals a naive reference
//! written out longhand from TFLite's reference kernels (i64 accumulators,
//! offsets applied per multiply-accumulate, padding taps skipped), over
//! random shapes, strides, dilations, paddings, groups, depth multipliers,
//! zero points, scales and activations.

use proptest::prelude::*;
use qkit::layer::{
    Activation, AveragePool2D, Channel, Conv2D, Conv2D16x8, Conv2DShape, DepthwiseConv2D,
    DepthwiseConv2D16x8, DepthwiseConv2DShape, FilterQuantizer, Logistic, Logistic16, MaxPool2D,
    Padding, Pool2DShape, Quantization, RequantMode, Softmax, Softmax16, TableMode, Tanh, Tanh16,
};
use qkit::quant::Quantizer;
use qkit::requant::{
    Rounding, conv_real_multiplier, multiply_by_quantized_multiplier,
    multiply_by_quantized_multiplier_i64, quantize_multiplier, quantize_multiplier_single_rounding,
    requantize_f32,
};

/// TFLite's padding: (output size, padding before).
fn axis(input: usize, filter: usize, stride: usize, dilation: usize, same: bool) -> (usize, i64) {
    let eff = (filter - 1) * dilation + 1;
    let out = if same {
        input.div_ceil(stride)
    } else {
        (input + stride).saturating_sub(eff) / stride
    };
    let total = ((out as i64 - 1) * stride as i64 + eff as i64 - input as i64).max(0);
    (out, total / 2)
}

fn act(i: u8) -> Activation {
    [
        Activation::None,
        Activation::Relu,
        Activation::Relu6,
        Activation::ReluN1To1,
    ][i as usize % 4]
}

fn clamp_range<T: qkit::QInt>(a: Activation, scale: f32, zp: i32) -> (i32, i32) {
    let (lo, hi) = qkit::ops::activation_range(a, Quantizer::<T>::new(scale, zp).unwrap()).unwrap();
    (lo.to_i32(), hi.to_i32())
}

/// Per-channel requantization as the runtime does it (int8 path).
#[allow(clippy::too_many_arguments)]
fn requant8(
    acc: i64,
    s_in: f32,
    s_w: f32,
    s_out: f32,
    requant: RequantMode,
    zp: i32,
    lo: i32,
    hi: i32,
) -> i8 {
    let real = conv_real_multiplier(s_in, s_w, s_out).unwrap();
    let acc = acc as i32;
    let v = match requant {
        RequantMode::Double => {
            multiply_by_quantized_multiplier(
                acc,
                quantize_multiplier(real).unwrap(),
                Rounding::Double,
            ) + zp
        }
        RequantMode::Single => {
            multiply_by_quantized_multiplier(
                acc,
                quantize_multiplier_single_rounding(real).unwrap(),
                Rounding::Single,
            ) + zp
        }
        _ => return requantize_f32(acc, s_in * s_w / s_out, zp, lo, hi).unwrap() as i8,
    };
    v.clamp(lo, hi) as i8
}

#[derive(Debug, Clone)]
struct ConvCase {
    h: usize,
    w: usize,
    fin: usize,
    groups: usize,
    per_group: usize,
    fh: usize,
    fw: usize,
    sh: usize,
    sw: usize,
    dh: usize,
    dw: usize,
    same: bool,
    batch: usize,
    zp_in: i32,
    zp_out: i32,
    act: u8,
    requant: u8,
    bias: bool,
    per_channel: bool,
    seed: u64,
}

fn conv_case() -> impl Strategy<Value = ConvCase> {
    (
        (1usize..7, 1usize..7, 1usize..5, 1usize..4, 1usize..5),
        (
            1usize..4,
            1usize..4,
            1usize..3,
            1usize..3,
            1usize..3,
            1usize..3,
        ),
        (
            any::<bool>(),
            1usize..3,
            -128i32..128,
            -128i32..128,
            any::<u8>(),
            0u8..3,
        ),
        (any::<bool>(), any::<bool>(), any::<u64>()),
    )
        .prop_map(
            |(
                (h, w, fin, groups, per_group),
                (fh, fw, sh, sw, dh, dw),
                (same, batch, zp_in, zp_out, act, requant),
                (bias, per_channel, seed),
            )| ConvCase {
                h,
                w,
                fin,
                groups,
                per_group,
                fh,
                fw,
                sh,
                sw,
                dh,
                dw,
                same,
                batch,
                zp_in,
                zp_out,
                act,
                requant,
                bias,
                per_channel,
                seed,
            },
        )
}

/// A small deterministic generator (the case's seed picks the data).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn i8(&mut self) -> i8 {
        self.next() as u8 as i8
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    fn scale(&mut self, lo: f32, hi: f32) -> f32 {
        lo * (hi / lo).powf((self.next() % 10_000) as f32 / 10_000.0)
    }
}

fn requant_mode(i: u8) -> RequantMode {
    [
        RequantMode::Double,
        RequantMode::Single,
        RequantMode::Float32,
    ][i as usize % 3]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn conv2d_int8_equals_reference(c in conv_case()) {
        let (out_h, pad_h) = axis(c.h, c.fh, c.sh, c.dh, c.same);
        let (out_w, pad_w) = axis(c.w, c.fw, c.sw, c.dw, c.same);
        prop_assume!(out_h > 0 && out_w > 0);
        let in_c = c.fin * c.groups;
        let out_c = c.per_group * c.groups;
        let depth = c.fh * c.fw * c.fin;
        let mut rng = Lcg(c.seed);
        // Even seeds: narrow-range weights (the faster kernels); odd: full range.
        let weights: Vec<i8> = (0..out_c * depth).map(|_| rng.i8()).map(|w| if c.seed % 2 == 0 { w.max(-127) } else { w }).collect();
        let bias: Vec<i32> = (0..out_c).map(|_| rng.range(-20000, 20000) as i32).collect();
        let input: Vec<i8> = (0..c.batch * c.h * c.w * in_c).map(|_| rng.i8()).collect();
        let scales: Vec<f32> = (0..if c.per_channel { out_c } else { 1 }).map(|_| rng.scale(0.001, 0.02)).collect();
        let (s_in, s_out) = (rng.scale(0.01, 0.1), rng.scale(0.05, 0.5));
        let q = Quantization {
            input: Quantizer::new(s_in, c.zp_in).unwrap(),
            filter: FilterQuantizer::symmetric(&scales).unwrap(),
            output: Quantizer::new(s_out, c.zp_out).unwrap(),
            activation: act(c.act),
        };
        let shape = Conv2DShape::new([c.h, c.w, in_c], [c.fh, c.fw, c.fin])
            .stride(c.sh, c.sw).dilation(c.dh, c.dw)
            .padding(if c.same { Padding::Same } else { Padding::Valid });
        let requant = requant_mode(c.requant);
        let mut ch = vec![Channel::default(); out_c];
        let conv = Conv2D::new(&weights, &shape, c.bias.then_some(&bias[..]), &q, requant, &mut ch).unwrap();
        prop_assert_eq!(conv.output_shape(), [out_h, out_w, out_c]);
        // Any scratch from one receptive field up works.
        let full = Conv2D::buffer_len(&shape).unwrap();
        let scratch_len = if full == 0 { 0 } else { depth.max(full / (1 + c.seed as usize % 4)) };
        let mut scratch = vec![0i8; scratch_len];
        let mut got = vec![0i8; c.batch * out_h * out_w * out_c];
        conv.run(&input, c.batch, &mut got, &mut scratch).unwrap();

        let (lo, hi) = clamp_range::<i8>(q.activation, s_out, c.zp_out);
        let mut want = vec![0i8; got.len()];
        for b in 0..c.batch {
            for oy in 0..out_h {
                for ox in 0..out_w {
                    for o in 0..out_c {
                        let g = o / c.per_group;
                        let mut acc = 0i64;
                        for ky in 0..c.fh {
                            for kx in 0..c.fw {
                                let iy = (oy * c.sh + ky * c.dh) as i64 - pad_h;
                                let ix = (ox * c.sw + kx * c.dw) as i64 - pad_w;
                                if iy < 0 || ix < 0 || iy >= c.h as i64 || ix >= c.w as i64 { continue; }
                                for ci in 0..c.fin {
                                    let x = input[((b * c.h + iy as usize) * c.w + ix as usize) * in_c + g * c.fin + ci];
                                    let w = weights[((o * c.fh + ky) * c.fw + kx) * c.fin + ci];
                                    acc += w as i64 * (x as i64 - c.zp_in as i64);
                                }
                            }
                        }
                        if c.bias { acc += bias[o] as i64; }
                        let s_w = scales[if c.per_channel { o } else { 0 }];
                        want[((b * out_h + oy) * out_w + ox) * out_c + o] =
                            requant8(acc, s_in, s_w, s_out, requant, c.zp_out, lo, hi);
                    }
                }
            }
        }
        prop_assert_eq!(got, want);
    }

    #[test]
    fn conv2d_16x8_equals_reference(c in conv_case()) {
        let (out_h, pad_h) = axis(c.h, c.fh, c.sh, c.dh, c.same);
        let (out_w, pad_w) = axis(c.w, c.fw, c.sw, c.dw, c.same);
        prop_assume!(out_h > 0 && out_w > 0);
        let in_c = c.fin * c.groups;
        let out_c = c.per_group * c.groups;
        let depth = c.fh * c.fw * c.fin;
        let mut rng = Lcg(c.seed);
        let weights: Vec<i8> = (0..out_c * depth).map(|_| rng.i8()).collect();
        let bias: Vec<i64> = (0..out_c).map(|_| rng.range(-5_000_000, 5_000_000)).collect();
        let input: Vec<i16> = (0..c.batch * c.h * c.w * in_c).map(|_| rng.range(-32768, 32767) as i16).collect();
        let scales: Vec<f32> = (0..if c.per_channel { out_c } else { 1 }).map(|_| rng.scale(0.001, 0.02)).collect();
        let (s_in, s_out) = (rng.scale(0.0001, 0.001), rng.scale(0.001, 0.01));
        let q = Quantization {
            input: Quantizer::new(s_in, 0).unwrap(),
            filter: FilterQuantizer::symmetric(&scales).unwrap(),
            output: Quantizer::new(s_out, 0).unwrap(),
            activation: act(c.act),
        };
        let shape = Conv2DShape::new([c.h, c.w, in_c], [c.fh, c.fw, c.fin])
            .stride(c.sh, c.sw).dilation(c.dh, c.dw)
            .padding(if c.same { Padding::Same } else { Padding::Valid });
        let int32_bias = c.requant == 1;
        let bias32: Vec<i32> = bias.iter().map(|&b| b as i32).collect();
        let mut ch = vec![Channel::default(); out_c];
        let conv = if int32_bias {
            Conv2D16x8::new_i32_bias(&weights, &shape, c.bias.then_some(&bias32[..]), &q, &mut ch)
        } else {
            Conv2D16x8::new(&weights, &shape, c.bias.then_some(&bias[..]), &q, &mut ch)
        }.unwrap();
        let mut scratch = vec![0i16; Conv2D16x8::buffer_len(&shape).unwrap()];
        let mut got = vec![0i16; c.batch * out_h * out_w * out_c];
        conv.run(&input, c.batch, &mut got, &mut scratch).unwrap();

        let (lo, hi) = clamp_range::<i16>(q.activation, s_out, 0);
        let mut want = vec![0i16; got.len()];
        for b in 0..c.batch {
            for oy in 0..out_h {
                for ox in 0..out_w {
                    for o in 0..out_c {
                        let g = o / c.per_group;
                        let mut acc = 0i64;
                        for ky in 0..c.fh {
                            for kx in 0..c.fw {
                                let iy = (oy * c.sh + ky * c.dh) as i64 - pad_h;
                                let ix = (ox * c.sw + kx * c.dw) as i64 - pad_w;
                                if iy < 0 || ix < 0 || iy >= c.h as i64 || ix >= c.w as i64 { continue; }
                                for ci in 0..c.fin {
                                    let x = input[((b * c.h + iy as usize) * c.w + ix as usize) * in_c + g * c.fin + ci];
                                    let w = weights[((o * c.fh + ky) * c.fw + kx) * c.fin + ci];
                                    acc += w as i64 * x as i64;
                                }
                            }
                        }
                        let s_w = scales[if c.per_channel { o } else { 0 }];
                        let m = quantize_multiplier(conv_real_multiplier(s_in, s_w, s_out).unwrap()).unwrap();
                        let v = if int32_bias {
                            let acc = (acc as i32).wrapping_add(if c.bias { bias32[o] } else { 0 });
                            multiply_by_quantized_multiplier(acc, m, Rounding::Double)
                        } else {
                            multiply_by_quantized_multiplier_i64(acc + if c.bias { bias[o] } else { 0 }, m)
                        };
                        want[((b * out_h + oy) * out_w + ox) * out_c + o] = v.clamp(lo, hi) as i16;
                    }
                }
            }
        }
        prop_assert_eq!(got, want);
    }

    #[test]
    fn depthwise_equals_reference(c in conv_case()) {
        // groups -> input channels, per_group -> depth multiplier.
        let (out_h, pad_h) = axis(c.h, c.fh, c.sh, c.dh, c.same);
        let (out_w, pad_w) = axis(c.w, c.fw, c.sw, c.dw, c.same);
        prop_assume!(out_h > 0 && out_w > 0);
        let in_c = c.fin * c.groups + (c.seed as usize % 70); // also beyond one 64-channel block
        let m = if c.seed % 3 == 0 { 1 } else { c.per_group };
        let out_c = in_c * m;
        let mut rng = Lcg(c.seed);
        let weights: Vec<i8> = (0..c.fh * c.fw * out_c).map(|_| rng.i8()).map(|w| if c.seed % 2 == 0 { w.max(-127) } else { w }).collect();
        let bias: Vec<i32> = (0..out_c).map(|_| rng.range(-20000, 20000) as i32).collect();
        let bias64: Vec<i64> = bias.iter().map(|&b| b as i64 * 100).collect();
        let input: Vec<i8> = (0..c.batch * c.h * c.w * in_c).map(|_| rng.i8()).collect();
        let input16: Vec<i16> = input.iter().map(|&x| x as i16 * 251).collect();
        let scales: Vec<f32> = (0..if c.per_channel { out_c } else { 1 }).map(|_| rng.scale(0.001, 0.02)).collect();
        let (s_in, s_out) = (rng.scale(0.01, 0.1), rng.scale(0.02, 0.2));
        let shape = DepthwiseConv2DShape::new([c.h, c.w, in_c], [c.fh, c.fw], m)
            .stride(c.sh, c.sw).dilation(c.dh, c.dw)
            .padding(if c.same { Padding::Same } else { Padding::Valid });
        let requant = requant_mode(c.requant);
        let q = Quantization {
            input: Quantizer::new(s_in, c.zp_in).unwrap(),
            filter: FilterQuantizer::symmetric(&scales).unwrap(),
            output: Quantizer::new(s_out, c.zp_out).unwrap(),
            activation: act(c.act),
        };
        let mut ch = vec![Channel::default(); out_c];
        let dw = DepthwiseConv2D::new(&weights, &shape, c.bias.then_some(&bias[..]), &q, requant, &mut ch).unwrap();
        let mut got = vec![0i8; c.batch * out_h * out_w * out_c];
        dw.run(&input, c.batch, &mut got).unwrap();
        let q16 = Quantization {
            input: Quantizer::<i16>::new(s_in / 100.0, 0).unwrap(),
            filter: q.filter,
            output: Quantizer::new(s_out, 0).unwrap(),
            activation: q.activation,
        };
        let mut ch16 = vec![Channel::default(); out_c];
        let dw16 = DepthwiseConv2D16x8::new(&weights, &shape, c.bias.then_some(&bias64[..]), &q16, &mut ch16).unwrap();
        let mut got16 = vec![0i16; got.len()];
        dw16.run(&input16, c.batch, &mut got16).unwrap();

        let (lo, hi) = clamp_range::<i8>(q.activation, s_out, c.zp_out);
        let (lo16, hi16) = clamp_range::<i16>(q.activation, s_out, 0);
        let mut want = vec![0i8; got.len()];
        let mut want16 = vec![0i16; got.len()];
        for b in 0..c.batch {
            for oy in 0..out_h {
                for ox in 0..out_w {
                    for o in 0..out_c {
                        let ic = o / m;
                        let (mut acc, mut acc16) = (0i64, 0i64);
                        for ky in 0..c.fh {
                            for kx in 0..c.fw {
                                let iy = (oy * c.sh + ky * c.dh) as i64 - pad_h;
                                let ix = (ox * c.sw + kx * c.dw) as i64 - pad_w;
                                if iy < 0 || ix < 0 || iy >= c.h as i64 || ix >= c.w as i64 { continue; }
                                let at = ((b * c.h + iy as usize) * c.w + ix as usize) * in_c + ic;
                                let w = weights[(ky * c.fw + kx) * out_c + o] as i64;
                                acc += w * (input[at] as i64 - c.zp_in as i64);
                                acc16 += w * input16[at] as i64;
                            }
                        }
                        if c.bias { acc += bias[o] as i64; acc16 += bias64[o]; }
                        let s_w = scales[if c.per_channel { o } else { 0 }];
                        let i = ((b * out_h + oy) * out_w + ox) * out_c + o;
                        want[i] = requant8(acc, s_in, s_w, s_out, requant, c.zp_out, lo, hi);
                        let m16 = quantize_multiplier(conv_real_multiplier(q16.input.scale(), s_w, s_out).unwrap()).unwrap();
                        want16[i] = multiply_by_quantized_multiplier_i64(acc16, m16).clamp(lo16, hi16) as i16;
                    }
                }
            }
        }
        prop_assert_eq!(got, want);
        prop_assert_eq!(got16, want16);
    }

    #[test]
    fn pools_equal_reference(
        (h, w, ch, fh, fw, sh, sw) in (1usize..8, 1usize..8, 1usize..70, 1usize..5, 1usize..5, 1usize..4, 1usize..4),
        same in any::<bool>(), batch in 1usize..3, zp in -128i32..128, a in any::<u8>(), seed in any::<u64>(),
    ) {
        let (out_h, pad_h) = axis(h, fh, sh, 1, same);
        let (out_w, pad_w) = axis(w, fw, sw, 1, same);
        prop_assume!(out_h > 0 && out_w > 0);
        let mut rng = Lcg(seed);
        let input: Vec<i8> = (0..batch * h * w * ch).map(|_| rng.i8()).collect();
        let input16: Vec<i16> = input.iter().map(|&x| x as i16 * 255 + rng.range(-100, 100) as i16).collect();
        let shape = Pool2DShape::new([h, w, ch], [fh, fw]).stride(sh, sw)
            .padding(if same { Padding::Same } else { Padding::Valid });
        let scale = rng.scale(0.01, 0.1);
        let avg = AveragePool2D::new(&shape, Quantizer::<i8>::new(scale, zp).unwrap(), act(a)).unwrap();
        let max = MaxPool2D::new(&shape, Quantizer::<i8>::new(scale, zp).unwrap(), act(a)).unwrap();
        let avg16 = AveragePool2D::new(&shape, Quantizer::<i16>::new(scale / 300.0, 0).unwrap(), act(a)).unwrap();
        let max16 = MaxPool2D::new(&shape, Quantizer::<i16>::new(scale / 300.0, 0).unwrap(), act(a)).unwrap();
        let n = batch * out_h * out_w * ch;
        let (mut ga, mut gm, mut ga16, mut gm16) = (vec![0i8; n], vec![0i8; n], vec![0i16; n], vec![0i16; n]);
        avg.run(&input, batch, &mut ga).unwrap();
        max.run(&input, batch, &mut gm).unwrap();
        avg16.run(&input16, batch, &mut ga16).unwrap();
        max16.run(&input16, batch, &mut gm16).unwrap();
        let (lo, hi) = clamp_range::<i8>(act(a), scale, zp);
        let (lo16, hi16) = clamp_range::<i16>(act(a), scale / 300.0, 0);
        for b in 0..batch {
            for oy in 0..out_h {
                for ox in 0..out_w {
                    for c in 0..ch {
                        let (mut sum, mut sum16, mut count, mut mx, mut mx16) = (0i64, 0i64, 0i64, i64::MIN, i64::MIN);
                        for ky in 0..fh {
                            for kx in 0..fw {
                                let iy = (oy * sh + ky) as i64 - pad_h;
                                let ix = (ox * sw + kx) as i64 - pad_w;
                                if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 { continue; }
                                let at = ((b * h + iy as usize) * w + ix as usize) * ch + c;
                                sum += input[at] as i64;
                                sum16 += input16[at] as i64;
                                mx = mx.max(input[at] as i64);
                                mx16 = mx16.max(input16[at] as i64);
                                count += 1;
                            }
                        }
                        // Round half away from zero, exactly.
                        let mean = |s: i64| if s >= 0 { (2 * s + count) / (2 * count) } else { -((-2 * s + count) / (2 * count)) };
                        let i = ((b * out_h + oy) * out_w + ox) * ch + c;
                        prop_assert_eq!(ga[i] as i64, mean(sum).clamp(lo as i64, hi as i64));
                        prop_assert_eq!(ga16[i] as i64, mean(sum16).clamp(lo16 as i64, hi16 as i64));
                        prop_assert_eq!(gm[i] as i64, mx.clamp(lo as i64, hi as i64));
                        prop_assert_eq!(gm16[i] as i64, mx16.clamp(lo16 as i64, hi16 as i64));
                    }
                }
            }
        }
    }

    /// The fixed-point softmax is within a few output steps of the exact
    /// float softmax, sums to about 1, and keeps the order of the logits.
    #[test]
    fn softmax_tracks_the_real_softmax(
        x in proptest::collection::vec(any::<i8>(), 1..40), scale in 0.005f32..0.5, beta in 0.25f32..4.0,
    ) {
        prop_assume!(beta * scale * (1u32 << 26) as f32 > 2.0);
        let sm = Softmax::new(Quantizer::<i8>::new(scale, 0).unwrap(), beta).unwrap();
        let mut y = vec![0i8; x.len()];
        sm.run(&x, x.len(), &mut y).unwrap();
        let mut y16 = vec![0i16; x.len()];
        sm.run_i16(&x, x.len(), &mut y16).unwrap();
        let max = *x.iter().max().unwrap() as f64;
        let e: Vec<f64> = x.iter().map(|&v| ((v as f64 - max) * scale as f64 * beta as f64).exp()).collect();
        let s: f64 = e.iter().sum();
        for i in 0..x.len() {
            let p = e[i] / s;
            prop_assert!(((y[i] as f64 + 128.0) / 256.0 - p).abs() <= 2.5 / 256.0, "{} vs {}", y[i], p);
            prop_assert!(((y16[i] as f64 + 32768.0) / 65536.0 - p).abs() <= 40.0 / 65536.0, "{} vs {}", y16[i], p);
            for j in 0..x.len() {
                if x[i] > x[j] { prop_assert!(y[i] >= y[j]); }
            }
        }
    }

    /// The int16 softmax (lookup tables) stays within a few 2^-15 steps of
    /// the exact softmax over the table's [-10, 0] range.
    #[test]
    fn softmax16_tracks_the_real_softmax(
        x in proptest::collection::vec(-3000i16..3000, 1..40), scale in 0.0005f32..0.003, beta in 0.5f32..2.0,
    ) {
        let sm = Softmax16::new(Quantizer::<i16>::new(scale, 0).unwrap(), beta).unwrap();
        let mut y = vec![0i16; x.len()];
        sm.run(&x, x.len(), &mut y).unwrap();
        let max = *x.iter().max().unwrap() as f64;
        let e: Vec<f64> = x.iter().map(|&v| {
            let d = (v as f64 - max) * scale as f64 * beta as f64;
            if d < -10.0 { 0.0 } else { d.exp() }
        }).collect();
        let s: f64 = e.iter().sum();
        for i in 0..x.len() {
            prop_assert!((y[i] as f64 / 32768.0 - e[i] / s).abs() <= 0.003, "{} vs {}", y[i], e[i] / s);
        }
    }

    /// int16 logistic and tanh: within a few 2^-15 steps of the real
    /// functions, monotone.
    #[test]
    fn logistic16_and_tanh16_track_the_real_functions(scale in 0.00002f32..0.002) {
        let q = Quantizer::<i16>::new(scale, 0).unwrap();
        let (l, t) = (Logistic16::new(q).unwrap(), Tanh16::new(q).unwrap());
        let x: Vec<i16> = (-32768..=32767).step_by(97).map(|v| v as i16).collect();
        let (mut yl, mut yt) = (vec![0i16; x.len()], vec![0i16; x.len()]);
        l.run(&x, &mut yl).unwrap();
        t.run(&x, &mut yt).unwrap();
        for (i, &v) in x.iter().enumerate() {
            let r = scale as f64 * v as f64;
            prop_assert!((yl[i] as f64 / 32768.0 - 1.0 / (1.0 + (-r).exp())).abs() <= 2e-3);
            prop_assert!((yt[i] as f64 / 32768.0 - r.tanh()).abs() <= 4e-3);
            if i > 0 {
                prop_assert!(yl[i] >= yl[i - 1] && yt[i] >= yt[i - 1]);
            }
        }
    }

    /// Logistic and tanh: within one step of the real function, monotone,
    /// and the two runtimes' tables within one step of each other.
    #[test]
    fn logistic_and_tanh_track_the_real_functions(scale in 0.002f32..0.3, zp in -128i32..128) {
        let q = Quantizer::<i8>::new(scale, zp).unwrap();
        let l = Logistic::new(q, TableMode::Micro).unwrap();
        let lr = Logistic::new(q, TableMode::LiteRt).unwrap();
        let t = Tanh::new(q, TableMode::Micro).unwrap();
        let tr = Tanh::new(q, TableMode::LiteRt).unwrap();
        let x: Vec<i8> = (-128..=127).map(|v| v as i8).collect();
        let (mut yl, mut yt) = ([0i8; 256], [0i8; 256]);
        l.run(&x, &mut yl).unwrap();
        t.run(&x, &mut yt).unwrap();
        for (i, &v) in x.iter().enumerate() {
            let r = scale as f64 * (v as i32 - zp) as f64;
            let sig = 1.0 / (1.0 + (-r).exp());
            prop_assert!(((yl[i] as f64 + 128.0) / 256.0 - sig).abs() <= 1.0 / 256.0);
            prop_assert!((yt[i] as f64 / 128.0 - r.tanh()).abs() <= 1.0 / 128.0 + 1e-9);
            if i > 0 {
                prop_assert!(yl[i] >= yl[i - 1] && yt[i] >= yt[i - 1]);
            }
            let k = v as u8 as usize;
            prop_assert!((l.table()[k] as i32 - lr.table()[k] as i32).abs() <= 1);
            prop_assert!((t.table()[k] as i32 - tr.table()[k] as i32).abs() <= 1);
        }
    }
}

#[test]
fn bad_parameters_are_errors() {
    let q = Quantization {
        input: Quantizer::new(0.1, 0).unwrap(),
        filter: FilterQuantizer::symmetric(&[0.01]).unwrap(),
        output: Quantizer::new(0.1, 0).unwrap(),
        activation: Activation::None,
    };
    let mut ch = [Channel::default(); 2];
    let shape = Conv2DShape::new([4, 4, 2], [3, 3, 2]);
    let w = [1i8; 36];
    // Zero stride, zero channels, groups that do not divide, wrong weights.
    for s in [
        shape.stride(0, 1),
        Conv2DShape {
            input_channels: 0,
            ..shape
        },
        Conv2DShape {
            filter_input_channels: 3,
            ..shape
        },
        Conv2DShape {
            filter_height: 0,
            ..shape
        },
        shape.dilation(1, 0),
        Conv2DShape::new([2, 2, 2], [3, 3, 2]).padding(Padding::Valid),
    ] {
        assert!(
            Conv2D::new(&w, &s, None, &q, RequantMode::Double, &mut ch).is_err(),
            "{s:?}"
        );
    }
    let mut ch3 = [Channel::default(); 3];
    let grouped = Conv2DShape::new([4, 4, 2], [3, 3, 1]);
    assert!(Conv2D::new(&[1; 27], &grouped, None, &q, RequantMode::Double, &mut ch3).is_err()); // 3 % 2
    // Bad scales and zero points cannot reach a layer: the quantizers
    // reject them.
    assert!(Quantizer::<i8>::new(0.0, 0).is_err());
    assert!(Quantizer::<i8>::new(f32::NAN, 0).is_err());
    assert!(Quantizer::<i8>::new(0.1, 128).is_err());
    assert!(FilterQuantizer::symmetric(&[-1.0]).is_err());
    for bad in [
        Quantization {
            filter: FilterQuantizer::symmetric(&[0.1, 0.1, 0.1]).unwrap(),
            ..q
        },
        Quantization {
            filter: Quantizer::new(0.1, 1).unwrap().into(),
            ..q
        }, // weights must be symmetric
        Quantization {
            output: Quantizer::new(1e-30, 0).unwrap(),
            ..q
        }, // multiplier beyond 2^30
    ] {
        let mut ch = [Channel::default(); 2];
        assert!(
            Conv2D::new(&w, &shape, None, &bad, RequantMode::Double, &mut ch).is_err(),
            "{bad:?}"
        );
    }
    let mut ch = [Channel::default(); 2];
    let conv = Conv2D::new(&w, &shape, Some(&[1, 2]), &q, RequantMode::Double, &mut ch).unwrap();
    let mut out = [0i8; 32];
    assert!(conv.run(&[0; 32], 1, &mut out, &mut [0; 17]).is_err()); // scratch < one field
    assert!(conv.run(&[0; 31], 1, &mut out, &mut [0; 18]).is_err());
    assert!(conv.run(&[0; 32], 2, &mut out, &mut [0; 18]).is_err());
    assert!(conv.run(&[0; 32], 1, &mut out, &mut [0; 18]).is_ok());
    assert!(Conv2D::buffer_len(&shape.stride(0, 0)).is_err());
    // Huge sizes overflow cleanly.
    let huge = Conv2DShape::new([1 << 20, 1 << 20, 1 << 20], [1, 1, 1 << 20]);
    assert!(Conv2D::new(&w, &huge, None, &q, RequantMode::Double, &mut ch).is_err());

    let dshape = DepthwiseConv2DShape::new([4, 4, 2], [3, 3], 0);
    let mut ch = [Channel::default(); 2];
    assert!(
        DepthwiseConv2D::new(&[1; 18], &dshape, None, &q, RequantMode::Double, &mut ch).is_err()
    );
    let pq = Quantizer::<i8>::new(0.1, 0).unwrap();
    assert!(
        AveragePool2D::new(
            &Pool2DShape::new([2, 2, 1], [3, 3]).padding(Padding::Valid),
            pq,
            Activation::None
        )
        .is_err()
    );
    let sm = Softmax::new(pq, 1.0).unwrap();
    assert!(sm.run(&[1, 2, 3], 2, &mut [0; 3]).is_err());
    assert!(sm.run(&[1, 2, 3], 0, &mut [0; 3]).is_err());
    // A row too long for an 8-bit result: TFLite aborts, qkit errs.
    assert!(sm.run(&[5; 600], 600, &mut [0; 600]).is_err());
    assert!(sm.run_i16(&[5; 600], 600, &mut [0; 600]).is_ok());
}
