//! End to end: train a float MLP on the UCI digits, quantize it, run it with
//! integer-only inference. (Being completed: issue 7.)
mod data;
mod mlp;

use std::time::Instant;

fn main() {
    let t0 = Instant::now();
    let (train, test) = data::split(data::load(), 7);
    let mut net = mlp::Mlp::new(&mlp::WIDTHS, 1);
    net.train(&train, 30, 2);
    let acc =
        test.iter().filter(|s| net.predict(&s.x) == s.label).count() as f32 / test.len() as f32;
    println!("float: {:.2}% in {:?}", acc * 100.0, t0.elapsed());
}
