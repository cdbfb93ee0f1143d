//! A firmware-style consumer of qkit: `#![no_std]`, `#![no_main]`,
//! `panic = "abort"`, no allocator. It runs the quantized digits MLP whose
//! weights `examples/digits` generated as `static` arrays (`model.rs`), and
//! the converted TFLite CNN whose weights `examples/tflite_cnn` generated
//! (`cnn.rs`), on a few test images, and checks that their int8 outputs are
//! bit-identical to the ones the host computed (for the CNN: TensorFlow Lite
//! Micro's). It also exercises the fixed-point type.
//!
//! Built for the host (x86_64 Linux: no embedded target can be installed on
//! these machines) and linked against libc only for `_start`, `write` and the
//! `mem*` functions; nothing from Rust's `std` is linked in. The exit status
//! is 0 when every check passes.
#![no_std]
#![no_main]

#[rustfmt::skip]
mod cnn;
#[rustfmt::skip]
mod model;

use core::panic::PanicInfo;

use qkit::Q15;
use qkit::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode,
};
use qkit::quant::Quantizer;

// The C runtime provides `_start` (which calls `main`), `write` and mem*.
#[link(name = "c")]
unsafe extern "C" {
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
}

#[panic_handler]
fn panic(_: &PanicInfo) -> ! {
    loop {}
}

fn say(msg: &str) {
    // SAFETY: `msg` is a valid buffer of `msg.len()` bytes; fd 1 is stdout.
    unsafe { write(1, msg.as_ptr(), msg.len()) };
}

fn activation(relu: bool) -> Activation {
    if relu {
        Activation::Relu
    } else {
        Activation::None
    }
}

/// A `core::fmt::Write` sink on the stack, so numbers can be printed with
/// no allocator.
struct Line {
    buf: [u8; 128],
    len: usize,
}

impl core::fmt::Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(core::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Prints a formatted line through a stack buffer (no allocator).
fn say_fmt(args: core::fmt::Arguments<'_>) {
    let mut line = Line {
        buf: [0; 128],
        len: 0,
    };
    let _ = core::fmt::Write::write_fmt(&mut line, args);
    say(core::str::from_utf8(&line.buf[..line.len]).unwrap_or("firmware: ?\n"));
}

/// Runs every image through the three layers; returns how many logit
/// vectors equal the host's, bit for bit, and how many images the
/// integer network classifies correctly.
fn run_model() -> Result<(usize, usize), qkit::Error> {
    use model::*;
    let q0 = Quantization {
        input: Quantizer::new(INPUT_SCALE_0, INPUT_ZERO_POINT_0)?,
        filter: FilterQuantizer::symmetric(&FILTER_SCALES_0)?,
        output: Quantizer::new(OUTPUT_SCALE_0, OUTPUT_ZERO_POINT_0)?,
        activation: activation(RELU_0),
    };
    let q1 = Quantization {
        input: Quantizer::new(INPUT_SCALE_1, INPUT_ZERO_POINT_1)?,
        filter: FilterQuantizer::symmetric(&FILTER_SCALES_1)?,
        output: Quantizer::new(OUTPUT_SCALE_1, OUTPUT_ZERO_POINT_1)?,
        activation: activation(RELU_1),
    };
    let q2 = Quantization {
        input: Quantizer::new(INPUT_SCALE_2, INPUT_ZERO_POINT_2)?,
        filter: FilterQuantizer::symmetric(&FILTER_SCALES_2)?,
        output: Quantizer::new(OUTPUT_SCALE_2, OUTPUT_ZERO_POINT_2)?,
        activation: activation(RELU_2),
    };
    // Per-channel requantization data lives on the stack: no allocator.
    let mut c0 = [Channel::default(); OUT_0];
    let mut c1 = [Channel::default(); OUT_1];
    let mut c2 = [Channel::default(); OUT_2];
    let fc0 = FullyConnected::new(
        &WEIGHTS_0,
        IN_0,
        Some(&BIAS_0),
        &q0,
        RequantMode::Double,
        &mut c0,
    )?;
    let fc1 = FullyConnected::new(
        &WEIGHTS_1,
        IN_1,
        Some(&BIAS_1),
        &q1,
        RequantMode::Double,
        &mut c1,
    )?;
    let fc2 = FullyConnected::new(
        &WEIGHTS_2,
        IN_2,
        Some(&BIAS_2),
        &q2,
        RequantMode::Double,
        &mut c2,
    )?;

    let (mut same, mut correct) = (0, 0);
    for i in 0..IMAGES {
        let x = &IMAGE_PIXELS[i * IN_0..(i + 1) * IN_0];
        let (mut h0, mut h1, mut z) = ([0i8; OUT_0], [0i8; OUT_1], [0i8; OUT_2]);
        fc0.run(x, 1, &mut h0)?;
        fc1.run(&h0, 1, &mut h1)?;
        fc2.run(&h1, 1, &mut z)?;
        same += (z[..] == EXPECTED_LOGITS[i * OUT_2..(i + 1) * OUT_2]) as usize;
        let best = (0..OUT_2).fold(0, |b, k| if z[k] > z[b] { k } else { b });
        correct += (best == LABELS[i] as usize) as usize;
    }
    Ok((same, correct))
}

/// The CNN's per-channel storage: 8 + 8 + 16 + 10 output channels.
const CNN_CHANNELS: usize = 42;

/// Runs the converted CNN (Conv 3x3 -> DepthwiseConv 3x3 -> Conv 1x1 ->
/// AveragePool -> reshape -> FullyConnected -> Softmax) on every image;
/// returns how many logit and probability vectors equal the host's, and how
/// many digits it classifies correctly. Everything lives on the stack.
fn run_cnn() -> Result<(usize, usize, usize), qkit::Error> {
    use cnn::*;
    use qkit::layer::{AveragePool2D, Conv2D, DepthwiseConv2D, Softmax};
    const EXPECTED_OPS: [&str; 7] = [
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "CONV_2D",
        "AVERAGE_POOL_2D",
        "RESHAPE",
        "FULLY_CONNECTED",
        "SOFTMAX",
    ];
    if OPS != EXPECTED_OPS {
        return Err(qkit::Error::InvalidParameter("unexpected CNN graph"));
    }
    let quant = |input_scale,
                 input_zero_point,
                 filter_scales,
                 output_scale,
                 output_zero_point,
                 activation| {
        Ok::<_, qkit::Error>(Quantization {
            input: Quantizer::new(input_scale, input_zero_point)?,
            filter: FilterQuantizer::symmetric(filter_scales)?,
            output: Quantizer::new(output_scale, output_zero_point)?,
            activation,
        })
    };
    let mut channels = [Channel::default(); CNN_CHANNELS];
    let (c0, rest) = channels.split_at_mut(8);
    let (c1, rest) = rest.split_at_mut(8);
    let (c2, c5) = rest.split_at_mut(16);
    let q0 = quant(
        L0_INPUT_SCALE,
        L0_INPUT_ZERO_POINT,
        &L0_FILTER_SCALES[..],
        L0_OUTPUT_SCALE,
        L0_OUTPUT_ZERO_POINT,
        L0_ACTIVATION,
    )?;
    let conv0 = Conv2D::new(
        &L0_WEIGHTS,
        &L0_SHAPE,
        Some(&L0_BIAS),
        &q0,
        RequantMode::Double,
        c0,
    )?;
    let q1 = quant(
        L1_INPUT_SCALE,
        L1_INPUT_ZERO_POINT,
        &L1_FILTER_SCALES[..],
        L1_OUTPUT_SCALE,
        L1_OUTPUT_ZERO_POINT,
        L1_ACTIVATION,
    )?;
    let dw = DepthwiseConv2D::new(
        &L1_WEIGHTS,
        &L1_SHAPE,
        Some(&L1_BIAS),
        &q1,
        RequantMode::Double,
        c1,
    )?;
    let q2 = quant(
        L2_INPUT_SCALE,
        L2_INPUT_ZERO_POINT,
        &L2_FILTER_SCALES[..],
        L2_OUTPUT_SCALE,
        L2_OUTPUT_ZERO_POINT,
        L2_ACTIVATION,
    )?;
    let conv1 = Conv2D::new(
        &L2_WEIGHTS,
        &L2_SHAPE,
        Some(&L2_BIAS),
        &q2,
        RequantMode::Double,
        c2,
    )?;
    let pool = AveragePool2D::new(
        &L3_SHAPE,
        Quantizer::<i8>::new(L3_INPUT_SCALE, L3_INPUT_ZERO_POINT)?,
        L3_ACTIVATION,
    )?;
    let q5 = quant(
        L5_INPUT_SCALE,
        L5_INPUT_ZERO_POINT,
        &L5_FILTER_SCALES[..],
        L5_OUTPUT_SCALE,
        L5_OUTPUT_ZERO_POINT,
        L5_ACTIVATION,
    )?;
    let fc = FullyConnected::new(
        &L5_WEIGHTS,
        L5_IN_DIM,
        Some(&L5_BIAS),
        &q5,
        RequantMode::Double,
        c5,
    )?;
    let softmax = Softmax::new(
        Quantizer::<i8>::new(L6_INPUT_SCALE, L6_INPUT_ZERO_POINT)?,
        L6_BETA,
    )?;

    // Conv2D::buffer_len(&L0_SHAPE): 16 receptive fields of 3x3x1.
    let mut scratch = [0i8; 144];
    let (mut same_logits, mut same_probs, mut correct) = (0, 0, 0);
    for i in 0..IMAGES {
        let x = &IMAGE_PIXELS[i * 64..(i + 1) * 64];
        let mut a = [0i8; L0_OUTPUT_LEN];
        let mut b = [0i8; L1_OUTPUT_LEN];
        let mut c = [0i8; L2_OUTPUT_LEN];
        let mut d = [0i8; L3_OUTPUT_LEN];
        let (mut logits, mut probs) = ([0i8; L5_OUTPUT_LEN], [0i8; L6_OUTPUT_LEN]);
        conv0.run(x, 1, &mut a, &mut scratch)?;
        dw.run(&a, 1, &mut b)?;
        conv1.run(&b, 1, &mut c, &mut [])?;
        pool.run(&c, 1, &mut d)?;
        // RESHAPE to [1, 256] leaves the bytes as they are.
        fc.run(&d, 1, &mut logits)?;
        softmax.run(&logits, L6_OUTPUT_LEN, &mut probs)?;
        let at = i * L5_OUTPUT_LEN..(i + 1) * L5_OUTPUT_LEN;
        same_logits += (logits[..] == EXPECTED_LOGITS[at.clone()]) as usize;
        same_probs += (probs[..] == EXPECTED_PROBS[at]) as usize;
        let best = (0..L5_OUTPUT_LEN).fold(0, |b, k| if logits[k] > logits[b] { k } else { b });
        correct += (best == LABELS[i] as usize) as usize;
    }
    Ok((same_logits, same_probs, correct))
}

fn check_fixed() -> bool {
    let half = Q15::from_bits(1 << 14);
    (half * half).to_bits() == 1 << 13 && (Q15::MAX + half) == Q15::MAX
}

/// Entry point called by the C runtime's `_start`.
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    if !check_fixed() {
        say("fixed-point check failed\n");
        return 2;
    }
    let cnn_ok = match run_cnn() {
        Ok((logits, probs, correct)) => {
            say_fmt(format_args!(
                "firmware CNN: {logits}/{n} logits and {probs}/{n} softmax bit-identical to TFLM, {correct}/{n} correct\n",
                n = cnn::IMAGES
            ));
            logits == cnn::IMAGES && probs == cnn::IMAGES
        }
        Err(_) => {
            say("firmware CNN: qkit returned an error\n");
            false
        }
    };
    if !cnn_ok {
        return 4;
    }
    match run_model() {
        Ok((same, correct)) => {
            say_fmt(format_args!(
                "firmware: {same}/{n} logit vectors bit-identical to the host, {correct}/{n} digits correct\n",
                n = model::IMAGES
            ));
            if same == model::IMAGES { 0 } else { 1 }
        }
        Err(_) => {
            say("firmware: qkit returned an error\n");
            3
        }
    }
}
