//! End to end: train a float MLP on the UCI 8x8 digits, quantize it
//! post-training with each of qkit's calibrators (int8, and int4 weights),
//! and run it with integer-only inference through qkit's fully-connected
//! layer and requantization. Then the dynamic fixed-point experiment of
//! Qiu et al. (2016) in miniature.
//!
//! `cargo run --release --example digits`
//! `cargo run --release --example digits -- --emit-firmware PATH` also
//! writes the int8 model as `static` arrays for `examples/firmware`.
mod data;
mod dfp;
mod firmware;
mod mlp;
mod quantized;

use std::time::Instant;

use qkit::layer::RequantMode;
use quantized::{Calibration, Calibrator, Runner, WeightBits};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emit = std::env::args()
        .skip_while(|a| a != "--emit-firmware")
        .nth(1);
    let t0 = Instant::now();
    let (train, test) = data::split(data::load(), 7);
    println!(
        "UCI digits: {} train / {} test images (8x8, 17 grey levels)",
        train.len(),
        test.len()
    );

    let mut net = mlp::Mlp::new(&mlp::WIDTHS, 1);
    net.train(&train, 30, 2);
    let n_params: usize = net.layers.iter().map(|l| l.w.len() + l.b.len()).sum();
    let float_acc =
        test.iter().filter(|s| net.predict(&s.x) == s.label).count() as f32 / test.len() as f32;
    let t_float = time_per_sample(&test, |x| net.predict(x));
    println!("trained a 64-64-32-10 float MLP in {:.2?}\n", t0.elapsed());

    // Calibrate on 300 training images (never the test set).
    let calib_inputs: Vec<&[f32]> = train.iter().take(300).map(|s| &s.x[..]).collect();
    let calib = Calibration::collect(&net, &calib_inputs);

    println!(
        "{:<34} {:>9} {:>10} {:>12}",
        "configuration", "accuracy", "size", "time/sample"
    );
    println!(
        "{:<34} {:>8.2}% {:>8} B {:>9.2} µs",
        "float32",
        float_acc * 100.0,
        4 * n_params,
        t_float
    );
    let configs = [
        (Calibrator::Max, WeightBits::Eight),
        (Calibrator::Percentile(99.99), WeightBits::Eight),
        (Calibrator::Mse, WeightBits::Eight),
        (Calibrator::Entropy, WeightBits::Eight),
        (Calibrator::Max, WeightBits::Four),
        (Calibrator::Percentile(99.99), WeightBits::Four),
        (Calibrator::Mse, WeightBits::Four),
        (Calibrator::Entropy, WeightBits::Four),
    ];
    for (cal, bits) in configs {
        let model = quantized::quantize(&net, &calib, cal, bits)?;
        let mut channels = quantized::channels_for(&model);
        let mut runner = Runner::new(&model, &mut channels, RequantMode::Double)?;
        let mut correct = 0;
        for s in &test {
            correct += (runner.predict(&s.x)? == s.label) as usize;
        }
        let t = time_per_sample(&test, |x| runner.predict(x).unwrap_or(0));
        let size: usize = model.layers.iter().map(|l| l.bytes()).sum();
        let w = if bits == WeightBits::Eight {
            "int8"
        } else {
            "int4 weights"
        };
        let name = format!("{w}, {}", cal.name());
        println!(
            "{:<34} {:>8.2}% {:>8} B {:>9.2} µs",
            name,
            correct as f32 / test.len() as f32 * 100.0,
            size,
            t
        );
    }

    println!("\nDynamic fixed point (Qiu et al. 2016): power-of-two formats c·2^-fl");
    let calib_flat: Vec<f32> = calib_inputs
        .iter()
        .flat_map(|x| x.iter().copied())
        .collect();
    let test_pairs: Vec<(&[f32], usize)> = test.iter().map(|s| (&s.x[..], s.label)).collect();
    println!(
        "{:<8} {:>16} {:>16}   formats (dynamic: weight fl / data fl per layer)",
        "bits", "static", "dynamic"
    );
    for bits in [16u32, 8, 6, 5, 4] {
        let st = dfp::static_format(&net, &calib_flat, bits, bits)?;
        let dy = dfp::dynamic(&net, &calib_flat, bits, bits)?;
        let a_st = dfp::accuracy(&net, &st, bits, bits, &test_pairs);
        let a_dy = dfp::accuracy(&net, &dy, bits, bits, &test_pairs);
        let fmts: Vec<String> = dy
            .layers
            .iter()
            .map(|f| format!("{}/{}", f.weight_fl, f.data_fl))
            .collect();
        println!(
            "{:<8} {:>15.2}% {:>15.2}%   static {}/{}; dynamic input {}, {}",
            bits,
            a_st * 100.0,
            a_dy * 100.0,
            st.layers[0].weight_fl,
            st.layers[0].data_fl,
            dy.input_fl,
            fmts.join(", ")
        );
    }

    if let Some(path) = emit {
        let model = quantized::quantize(
            &net,
            &calib,
            Calibrator::Percentile(99.99),
            WeightBits::Eight,
        )?;
        let mut channels = quantized::channels_for(&model);
        let mut runner = Runner::new(&model, &mut channels, RequantMode::Double)?;
        let src = firmware::emit(&model, &mut runner, &test[..16])?;
        std::fs::write(&path, src)?;
        println!("\nwrote the int8 (percentile 99.99) model for examples/firmware to {path}");
    }
    println!("\ntotal {:.2?}", t0.elapsed());
    Ok(())
}

/// Median wall time per sample over the test set, in microseconds.
fn time_per_sample(test: &[data::Sample], mut f: impl FnMut(&[f32]) -> usize) -> f64 {
    let mut runs = Vec::new();
    let mut sink = 0;
    for _ in 0..5 {
        let t = Instant::now();
        for s in test {
            sink += f(&s.x);
        }
        runs.push(t.elapsed().as_secs_f64() * 1e6 / test.len() as f64);
    }
    std::hint::black_box(sink);
    runs.sort_by(|a, b| a.total_cmp(b));
    runs[runs.len() / 2]
}
