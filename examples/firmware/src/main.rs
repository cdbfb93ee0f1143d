//! A firmware-style consumer of qkit: `#![no_std]`, `#![no_main]`,
//! `panic = "abort"`, no allocator. It runs the quantized digits MLP whose
//! weights `examples/digits` generated as `static` arrays (`model.rs`) on a
//! few test images, and checks that its int8 logits are bit-identical to
//! the ones the host computed. It also exercises the fixed-point type.
//!
//! Built for the host (x86_64 Linux: no embedded target can be installed on
//! these machines) and linked against libc only for `_start`, `write` and the
//! `mem*` functions; nothing from Rust's `std` is linked in. The exit status
//! is 0 when every check passes.
#![no_std]
#![no_main]

#[rustfmt::skip]
mod model;

use core::panic::PanicInfo;

use qkit::Q15;
use qkit::layer::{Activation, Channel, FullyConnected, Quantization, Requant};

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

/// Runs every image through the three layers; returns how many logit
/// vectors equal the host's, bit for bit, and how many images the
/// integer network classifies correctly.
fn run_model() -> Result<(usize, usize), qkit::Error> {
    use model::*;
    let q0 = Quantization {
        input_scale: INPUT_SCALE_0,
        input_zero_point: INPUT_ZERO_POINT_0,
        filter_scales: &FILTER_SCALES_0,
        output_scale: OUTPUT_SCALE_0,
        output_zero_point: OUTPUT_ZERO_POINT_0,
        activation: activation(RELU_0),
    };
    let q1 = Quantization {
        input_scale: INPUT_SCALE_1,
        input_zero_point: INPUT_ZERO_POINT_1,
        filter_scales: &FILTER_SCALES_1,
        output_scale: OUTPUT_SCALE_1,
        output_zero_point: OUTPUT_ZERO_POINT_1,
        activation: activation(RELU_1),
    };
    let q2 = Quantization {
        input_scale: INPUT_SCALE_2,
        input_zero_point: INPUT_ZERO_POINT_2,
        filter_scales: &FILTER_SCALES_2,
        output_scale: OUTPUT_SCALE_2,
        output_zero_point: OUTPUT_ZERO_POINT_2,
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
        Requant::Double,
        &mut c0,
    )?;
    let fc1 = FullyConnected::new(
        &WEIGHTS_1,
        IN_1,
        Some(&BIAS_1),
        &q1,
        Requant::Double,
        &mut c1,
    )?;
    let fc2 = FullyConnected::new(
        &WEIGHTS_2,
        IN_2,
        Some(&BIAS_2),
        &q2,
        Requant::Double,
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
    match run_model() {
        Ok((same, correct)) => {
            let mut line = Line {
                buf: [0; 128],
                len: 0,
            };
            let _ = core::fmt::Write::write_fmt(
                &mut line,
                format_args!(
                    "firmware: {same}/{n} logit vectors bit-identical to the host, {correct}/{n} digits correct\n",
                    n = model::IMAGES
                ),
            );
            say(core::str::from_utf8(&line.buf[..line.len]).unwrap_or("firmware: ?\n"));
            if same == model::IMAGES { 0 } else { 1 }
        }
        Err(_) => {
            say("firmware: qkit returned an error\n");
            3
        }
    }
}
