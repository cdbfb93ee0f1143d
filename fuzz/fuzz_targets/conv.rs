//! Fuzzing the convolution, pooling, softmax and logistic/tanh layers:
//! arbitrary shapes, strides, dilations, paddings, groups, depth
//! multipliers, scales, zero points, buffer sizes and data never panic;
//! nonsense is an `Err`. Whenever an int8 convolution builds and runs, it
//! equals TFLite's reference loop (offsets per MAC, padding skipped).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use qkit::layer::{
    Activation, AveragePool2D, Channel, Conv2D, Conv2D16x8, Conv2DShape, DepthwiseConv2D,
    DepthwiseConv2D16x8, DepthwiseConv2DShape, FilterQuantizer, Logistic, Logistic16, MaxPool2D,
    Padding, Pool2DShape, Quantization, RequantMode, Softmax, Softmax16, TableMode, Tanh, Tanh16,
};
use qkit::quant::Quantizer;
use qkit::requant::{
    Rounding, conv_real_multiplier, multiply_by_quantized_multiplier, quantize_multiplier,
};

#[derive(Debug, Arbitrary)]
struct Input {
    dims: [u8; 4],
    filter: [u8; 3],
    stride: [u8; 2],
    dilation: [u8; 2],
    out_c: u8,
    valid: bool,
    batch: u8,
    mode: u8,
    act: u8,
    s_in: f32,
    s_out: f32,
    s_w: Vec<f32>,
    zp_in: i32,
    zp_out: i32,
    bias: Option<Vec<i32>>,
    scratch: u16,
    beta: f32,
    depth: u8,
    data: Vec<i8>,
}

fn take<T: Copy>(v: &[T], n: usize) -> Vec<T> {
    if v.is_empty() {
        Vec::new()
    } else {
        v.iter().copied().cycle().take(n).collect()
    }
}

fuzz_target!(|f: Input| {
    // Small sizes (0 included: must be an error, never a panic).
    let [h, w, c, _] = f.dims.map(|d| d as usize % 9);
    let [fh, fw, fin] = f.filter.map(|d| d as usize % 6);
    let [sh, sw] = f.stride.map(|d| d as usize % 4);
    let [dh, dw] = f.dilation.map(|d| d as usize % 3);
    let out_c = f.out_c as usize % 80;
    let batch = f.batch as usize % 3;
    let padding = if f.valid {
        Padding::Valid
    } else {
        Padding::Same
    };
    let mode = [
        RequantMode::Double,
        RequantMode::Single,
        RequantMode::Float32,
    ][f.mode as usize % 3];
    let act = [
        Activation::None,
        Activation::Relu,
        Activation::Relu6,
        Activation::ReluN1To1,
    ][f.act as usize % 4];
    // Layers built from valid quantizers only; invalid raw parameters are
    // the quantizers' errors (fuzzed below through the pools and softmax).
    let quants = match (
        Quantizer::<i8>::new(f.s_in, f.zp_in),
        Quantizer::<i16>::new(f.s_in, f.zp_in),
        FilterQuantizer::symmetric(&f.s_w),
        Quantizer::<i8>::new(f.s_out, f.zp_out),
        Quantizer::<i16>::new(f.s_out, f.zp_out),
    ) {
        (Ok(i8in), Ok(i16in), Ok(filter), Ok(i8out), Ok(i16out)) => Some((
            Quantization {
                input: i8in,
                filter,
                output: i8out,
                activation: act,
            },
            Quantization {
                input: i16in,
                filter,
                output: i16out,
                activation: act,
            },
        )),
        _ => None,
    };
    let shape = Conv2DShape::new([h, w, c], [fh, fw, fin])
        .stride(sh, sw)
        .dilation(dh, dw)
        .padding(padding);
    let weights = take(&f.data, out_c * fh * fw * fin);
    let x = take(&f.data, batch * h * w * c);
    let x16: Vec<i16> = x.iter().map(|&v| i16::from(v).wrapping_mul(255)).collect();
    let out_len = shape
        .output_size()
        .map(|(a, b)| batch * a * b * out_c)
        .unwrap_or(0);
    let mut scratch = vec![0i8; f.scratch as usize % 4096];

    if let Some((q, q16)) = quants {
        // CONV_2D int8, checked against the reference loop when it runs.
        let mut ch = vec![Channel::default(); out_c];
        if let Ok(conv) = Conv2D::new(&weights, &shape, f.bias.as_deref(), &q, mode, &mut ch) {
            let mut y = vec![0i8; out_len];
            if conv.run(&x, batch, &mut y, &mut scratch).is_ok() && mode == RequantMode::Double {
                let (out_h, out_w) = shape.output_size().unwrap();
                let eff = |k: usize, d: usize| (k - 1) * d + 1;
                let pad = |n: usize, k: usize, s: usize, d: usize, o: usize| {
                    ((o as i64 - 1) * s as i64 + eff(k, d) as i64 - n as i64).max(0) / 2
                };
                let (ph, pw) = (pad(h, fh, sh, dh, out_h), pad(w, fw, sw, dw, out_w));
                let per_group = out_c / (c / fin);
                let (lo, hi) = conv.activation_range();
                for b in 0..batch {
                    for oy in 0..out_h {
                        for ox in 0..out_w {
                            for o in 0..out_c {
                                let g = o / per_group;
                                let mut acc = 0i32;
                                for ky in 0..fh {
                                    for kx in 0..fw {
                                        let iy = (oy * sh + ky * dh) as i64 - ph;
                                        let ix = (ox * sw + kx * dw) as i64 - pw;
                                        if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
                                            continue;
                                        }
                                        for ci in 0..fin {
                                            let xv = x[((b * h + iy as usize) * w + ix as usize)
                                                * c
                                                + g * fin
                                                + ci]
                                                as i32;
                                            let wv = weights[((o * fh + ky) * fw + kx) * fin + ci]
                                                as i32;
                                            acc = acc.wrapping_add(wv * (xv - f.zp_in));
                                        }
                                    }
                                }
                                acc = acc.wrapping_add(f.bias.as_ref().map_or(0, |bv| bv[o]));
                                let s_w = f.s_w[if f.s_w.len() == 1 { 0 } else { o }];
                                let m = quantize_multiplier(
                                    conv_real_multiplier(f.s_in, s_w, f.s_out).unwrap(),
                                )
                                .unwrap();
                                let want =
                                    multiply_by_quantized_multiplier(acc, m, Rounding::Double)
                                        .wrapping_add(f.zp_out)
                                        .clamp(lo, hi);
                                assert_eq!(
                                    y[((b * out_h + oy) * out_w + ox) * out_c + o] as i32,
                                    want
                                );
                            }
                        }
                    }
                }
            }
        }
        // CONV_2D 16x8 (both bias types), never panics.
        let bias64: Option<Vec<i64>> = f
            .bias
            .as_ref()
            .map(|b| b.iter().map(|&v| i64::from(v) * 3).collect());
        let mut ch = vec![Channel::default(); out_c];
        if let Ok(conv) = Conv2D16x8::new(&weights, &shape, bias64.as_deref(), &q16, &mut ch) {
            let _ = conv.run(
                &x16,
                batch,
                &mut vec![0i16; out_len],
                &mut vec![0i16; f.scratch as usize % 512],
            );
        }
        let mut ch = vec![Channel::default(); out_c];
        if let Ok(conv) =
            Conv2D16x8::new_i32_bias(&weights, &shape, f.bias.as_deref(), &q16, &mut ch)
        {
            let _ = conv.run(&x16, batch, &mut vec![0i16; out_len], &mut vec![0i16; 64]);
        }

        // DEPTHWISE_CONV_2D: fin is the depth multiplier here.
        let dshape = DepthwiseConv2DShape::new([h, w, c], [fh, fw], fin)
            .stride(sh, sw)
            .dilation(dh, dw)
            .padding(padding);
        let dout = dshape.output_channels();
        let dweights = take(&f.data, fh * fw * dout);
        let dlen = dshape
            .output_size()
            .map(|(a, b)| batch * a * b * dout)
            .unwrap_or(0);
        let mut ch = vec![Channel::default(); dout];
        if let Ok(dw) =
            DepthwiseConv2D::new(&dweights, &dshape, f.bias.as_deref(), &q, mode, &mut ch)
        {
            let _ = dw.run(&x, batch, &mut vec![0i8; dlen]);
        }
        let mut ch = vec![Channel::default(); dout];
        if let Ok(dw) =
            DepthwiseConv2D16x8::new(&dweights, &dshape, bias64.as_deref(), &q16, &mut ch)
        {
            let _ = dw.run(&x16, batch, &mut vec![0i16; dlen]);
        }
    }

    // Pools, int8 and int16.
    let pshape = Pool2DShape::new([h, w, c], [fh, fw])
        .stride(sh, sw)
        .padding(padding);
    let plen = pshape
        .output_size()
        .map(|(a, b)| batch * a * b * c)
        .unwrap_or(0);
    if let Ok(q8) = Quantizer::<i8>::new(f.s_out, f.zp_out) {
        if let Ok(p) = AveragePool2D::new(&pshape, q8, act) {
            let _ = p.run(&x, batch, &mut vec![0i8; plen]);
        }
        if let Ok(p) = MaxPool2D::new(&pshape, q8, act) {
            let _ = p.run(&x, batch, &mut vec![0i8; plen]);
        }
    }
    if let Ok(q16) = Quantizer::<i16>::new(f.s_out, f.zp_out) {
        if let Ok(p) = AveragePool2D::new(&pshape, q16, act) {
            let _ = p.run(&x16, batch, &mut vec![0i16; plen]);
        }
        if let Ok(p) = MaxPool2D::new(&pshape, q16, act) {
            let _ = p.run(&x16, batch, &mut vec![0i16; plen]);
        }
    }

    // Softmax int16.
    if let Ok(q16) = Quantizer::<i16>::new(f.s_in, f.zp_in) {
        if let Ok(sm) = Softmax16::new(q16, f.beta) {
            let _ = sm.run(&x16, f.depth as usize, &mut vec![0i16; x16.len()]);
        }
        if let Ok(l) = Logistic16::new(q16) {
            let _ = l.run(&x16, &mut vec![0i16; x16.len()]);
        }
        if let Ok(t) = Tanh16::new(q16) {
            let _ = t.run(&x16, &mut vec![0i16; x16.len()]);
        }
    }
    // Softmax, logistic, tanh.
    if let Ok(qi) = Quantizer::<i8>::new(f.s_in, f.zp_in) {
        if let Ok(sm) = Softmax::new(qi, f.beta) {
            let _ = sm.run(&f.data, f.depth as usize, &mut vec![0i8; f.data.len()]);
            let _ = sm.run_i16(&f.data, f.depth as usize, &mut vec![0i16; f.data.len()]);
        }
        for mode in [TableMode::Micro, TableMode::LiteRt] {
            if let Ok(l) = Logistic::new(qi, mode) {
                let _ = l.run(&f.data, &mut vec![0i8; f.data.len()]);
            }
            if let Ok(t) = Tanh::new(qi, mode) {
                let _ = t.run(&f.data, &mut vec![0i8; f.data.len() / 2]);
            }
        }
    }
});
