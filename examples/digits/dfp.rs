//! The dynamic-precision experiment of Qiu et al. (FPGA'16) in miniature:
//! power-of-two fixed-point formats `c · 2^-fl`, one static format for the
//! whole network vs a fractional length per layer chosen greedily.

use qkit::Error;
use qkit::calib::dynfixed::{
    DfpLayer, LayerFormat, Norm, greedy_layerwise, quantize_fixed_in_place, search_frac_len,
};

use crate::mlp::{Dense, Mlp, argmax};

/// A dense layer seen by the fixed-point search: batched forward, ReLU on
/// hidden layers, the bias kept in the wide accumulator.
struct DfpDense<'a> {
    dense: &'a Dense,
    relu: bool,
}

impl DfpLayer for DfpDense<'_> {
    fn weights(&self) -> &[f32] {
        &self.dense.w
    }
    fn output_len(&self, n: usize) -> usize {
        n / self.dense.n_in * self.dense.n_out
    }
    fn forward(&self, w: &[f32], x: &[f32], y: &mut [f32]) {
        let d = self.dense;
        for (xb, yb) in x.chunks_exact(d.n_in).zip(y.chunks_exact_mut(d.n_out)) {
            for (o, yo) in yb.iter_mut().enumerate() {
                let row = &w[o * d.n_in..(o + 1) * d.n_in];
                let v = d.b[o] + row.iter().zip(xb).map(|(w, x)| w * x).sum::<f32>();
                *yo = if self.relu { v.max(0.0) } else { v };
            }
        }
    }
}

/// Formats for the input and every layer.
pub struct Formats {
    pub input_fl: i32,
    pub layers: Vec<LayerFormat>,
}

fn dfp_layers(net: &Mlp) -> Vec<DfpDense<'_>> {
    let last = net.layers.len() - 1;
    net.layers
        .iter()
        .enumerate()
        .map(|(l, d)| DfpDense {
            dense: d,
            relu: l < last,
        })
        .collect()
}

/// Dynamic: per-layer weight and data formats, greedy in network order.
pub fn dynamic(net: &Mlp, calib: &[f32], w_bits: u32, d_bits: u32) -> Result<Formats, Error> {
    let layers = dfp_layers(net);
    let refs: Vec<&dyn DfpLayer> = layers.iter().map(|l| l as &dyn DfpLayer).collect();
    let max_w = net.layers.iter().map(|d| d.w.len()).max().unwrap_or(0);
    let batch = calib.len() / net.layers[0].n_in;
    let max_act = net
        .layers
        .iter()
        .map(|d| d.n_in.max(d.n_out))
        .max()
        .unwrap_or(0)
        * batch;
    let mut scratch = vec![0.0f32; max_w + 4 * max_act];
    let mut formats = vec![LayerFormat::default(); net.layers.len()];
    let input_fl = greedy_layerwise(
        &refs,
        calib,
        w_bits,
        d_bits,
        Norm::L1,
        &mut scratch,
        &mut formats,
    )?;
    Ok(Formats {
        input_fl,
        layers: formats,
    })
}

/// Static: one fractional length for every weight and one for every
/// activation in the network (each the L1-best over all of them).
pub fn static_format(net: &Mlp, calib: &[f32], w_bits: u32, d_bits: u32) -> Result<Formats, Error> {
    let all_w: Vec<f32> = net
        .layers
        .iter()
        .flat_map(|d| d.w.iter().copied())
        .collect();
    let w_fl = search_frac_len(&all_w, w_bits, Norm::L1)?;
    let mut all_d: Vec<f32> = calib.to_vec();
    for x in calib.chunks_exact(net.layers[0].n_in) {
        for a in net.forward_all(x).into_iter().skip(1) {
            all_d.extend(a);
        }
    }
    let d_fl = search_frac_len(&all_d, d_bits, Norm::L1)?;
    Ok(Formats {
        input_fl: d_fl,
        layers: vec![
            LayerFormat {
                weight_fl: w_fl,
                data_fl: d_fl
            };
            net.layers.len()
        ],
    })
}

/// The bit widths and formats come from the searches above, which only
/// return values `quantize_fixed_in_place` accepts.
const IN_RANGE: &str = "bits and fractional lengths from the search are in range";

/// Accuracy of the network with every weight and activation rounded to its
/// format (what an integer datapath with shifts computes).
pub fn accuracy(net: &Mlp, f: &Formats, w_bits: u32, d_bits: u32, test: &[(&[f32], usize)]) -> f32 {
    let layers = dfp_layers(net);
    let qw: Vec<Vec<f32>> = layers
        .iter()
        .zip(&f.layers)
        .map(|(l, fmt)| {
            let mut w = l.dense.w.clone();
            quantize_fixed_in_place(&mut w, w_bits, fmt.weight_fl).expect(IN_RANGE);
            w
        })
        .collect();
    let mut correct = 0;
    for (x, label) in test {
        let mut a = x.to_vec();
        quantize_fixed_in_place(&mut a, d_bits, f.input_fl).expect(IN_RANGE);
        for ((l, w), fmt) in layers.iter().zip(&qw).zip(&f.layers) {
            let mut y = vec![0.0; l.dense.n_out];
            l.forward(w, &a, &mut y);
            quantize_fixed_in_place(&mut y, d_bits, fmt.data_fl).expect(IN_RANGE);
            a = y;
        }
        correct += (argmax(&a) == *label) as usize;
    }
    correct as f32 / test.len() as f32
}
