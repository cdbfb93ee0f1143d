//! A float multi-layer perceptron trained with plain mini-batch SGD with
//! momentum: the reference the quantized versions are measured against.

use crate::data::{CLASSES, PIXELS, Rng, Sample};

/// One dense layer, weights `[out][in]` row-major as TFLite stores them.
#[derive(Clone)]
pub struct Dense {
    pub n_in: usize,
    pub n_out: usize,
    pub w: Vec<f32>,
    pub b: Vec<f32>,
}

impl Dense {
    fn new(n_in: usize, n_out: usize, rng: &mut Rng) -> Self {
        // He initialisation for ReLU networks.
        let a = (6.0 / n_in as f32).sqrt();
        let w = (0..n_in * n_out).map(|_| rng.symmetric() * a).collect();
        Dense {
            n_in,
            n_out,
            w,
            b: vec![0.0; n_out],
        }
    }

    pub fn forward(&self, x: &[f32], y: &mut [f32]) {
        for (o, yo) in y.iter_mut().enumerate() {
            let row = &self.w[o * self.n_in..(o + 1) * self.n_in];
            *yo = self.b[o] + row.iter().zip(x).map(|(w, x)| w * x).sum::<f32>();
        }
    }
}

/// The network: dense layers with ReLU between them, softmax at the end.
#[derive(Clone)]
pub struct Mlp {
    pub layers: Vec<Dense>,
}

impl Mlp {
    /// A freshly initialised network of the given widths.
    pub fn new(widths: &[usize], seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let layers = widths
            .windows(2)
            .map(|w| Dense::new(w[0], w[1], &mut rng))
            .collect();
        Mlp { layers }
    }

    /// Every layer's output (pre-activation for the last layer, post-ReLU for
    /// the others): `acts[0]` is the input.
    pub fn forward_all(&self, x: &[f32]) -> Vec<Vec<f32>> {
        let mut acts = vec![x.to_vec()];
        for (l, layer) in self.layers.iter().enumerate() {
            let mut y = vec![0.0; layer.n_out];
            layer.forward(acts.last().unwrap(), &mut y);
            if l + 1 < self.layers.len() {
                y.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            acts.push(y);
        }
        acts
    }

    /// The predicted class.
    pub fn predict(&self, x: &[f32]) -> usize {
        argmax(self.forward_all(x).last().unwrap())
    }

    /// Trains with mini-batch SGD + momentum on softmax cross-entropy.
    pub fn train(&mut self, data: &[Sample], epochs: usize, seed: u64) {
        let mut rng = Rng::new(seed);
        let (lr, momentum, batch) = (0.05f32, 0.9f32, 16usize);
        let mut vel: Vec<(Vec<f32>, Vec<f32>)> = self
            .layers
            .iter()
            .map(|l| (vec![0.0; l.w.len()], vec![0.0; l.b.len()]))
            .collect();
        let mut order: Vec<usize> = (0..data.len()).collect();
        for _ in 0..epochs {
            for i in (1..order.len()).rev() {
                let j = rng.below(i + 1);
                order.swap(i, j);
            }
            for chunk in order.chunks(batch) {
                let mut grads: Vec<(Vec<f32>, Vec<f32>)> = self
                    .layers
                    .iter()
                    .map(|l| (vec![0.0; l.w.len()], vec![0.0; l.b.len()]))
                    .collect();
                for &k in chunk {
                    self.backprop(&data[k], &mut grads);
                }
                let scale = lr / chunk.len() as f32;
                for ((layer, (gw, gb)), (vw, vb)) in
                    self.layers.iter_mut().zip(&grads).zip(&mut vel)
                {
                    for ((w, g), v) in layer.w.iter_mut().zip(gw).zip(vw.iter_mut()) {
                        *v = momentum * *v - scale * g;
                        *w += *v;
                    }
                    for ((b, g), v) in layer.b.iter_mut().zip(gb).zip(vb.iter_mut()) {
                        *v = momentum * *v - scale * g;
                        *b += *v;
                    }
                }
            }
        }
    }

    fn backprop(&self, s: &Sample, grads: &mut [(Vec<f32>, Vec<f32>)]) {
        let acts = self.forward_all(&s.x);
        // d(loss)/d(logits) for softmax cross-entropy: p - onehot.
        let mut delta = softmax(acts.last().unwrap());
        delta[s.label] -= 1.0;
        for l in (0..self.layers.len()).rev() {
            let layer = &self.layers[l];
            let input = &acts[l];
            let (gw, gb) = &mut grads[l];
            for ((gb_o, gw_row), d) in gb
                .iter_mut()
                .zip(gw.chunks_exact_mut(layer.n_in))
                .zip(&delta)
            {
                *gb_o += d;
                for (g, x) in gw_row.iter_mut().zip(input) {
                    *g += d * x;
                }
            }
            if l > 0 {
                let mut prev = vec![0.0; layer.n_in];
                for (row, d) in layer.w.chunks_exact(layer.n_in).zip(&delta) {
                    for (p, w) in prev.iter_mut().zip(row) {
                        *p += w * d;
                    }
                }
                // ReLU derivative on the layer below's output.
                for (p, a) in prev.iter_mut().zip(input) {
                    if *a <= 0.0 {
                        *p = 0.0;
                    }
                }
                delta = prev;
            }
        }
    }
}

pub fn softmax(z: &[f32]) -> Vec<f32> {
    let m = z.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Widths of the example network.
pub const WIDTHS: [usize; 4] = [PIXELS, 64, 32, CLASSES];
