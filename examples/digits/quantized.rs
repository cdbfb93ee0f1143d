//! Post-training quantization of the float MLP and integer-only inference
//! through qkit's fully-connected layer.

use qkit::calib::{EntropyOptions, Histogram, ZeroBin};
use qkit::int4::{self, I4};
use qkit::layer::{
    Activation, Channel, FilterQuantizer, FullyConnected, Quantization, RequantMode,
};
use qkit::quant::{CodeRange, QuantizeSlice, Quantizer};
use qkit::{Error, Round};

use crate::mlp::Mlp;

/// How activation ranges are chosen from the calibration histograms.
#[derive(Clone, Copy, Debug)]
pub enum Calibrator {
    Max,
    Percentile(f64),
    Mse,
    Entropy,
}

impl Calibrator {
    pub fn name(self) -> String {
        match self {
            Calibrator::Max => "max".into(),
            Calibrator::Percentile(p) => format!("percentile {p}"),
            Calibrator::Mse => "MSE".into(),
            Calibrator::Entropy => "KL-entropy".into(),
        }
    }

    /// The clipping threshold for one tensor's |x| histogram. ReLU outputs
    /// (`relu`) get the entropy search's `CopyNext` zero-bin rule: their
    /// spike of exact zeros would otherwise dominate the KL curve
    /// (CALIBRATION.md §2.2).
    fn threshold(self, h: &Histogram<2048>, relu: bool) -> Result<f32, Error> {
        match self {
            Calibrator::Max => h.max_threshold(),
            Calibrator::Percentile(p) => h.percentile_threshold(p),
            Calibrator::Mse => h.mse_threshold(127),
            Calibrator::Entropy => {
                let opts = EntropyOptions {
                    zero_bin: if relu {
                        ZeroBin::CopyNext
                    } else {
                        ZeroBin::Keep
                    },
                    ..EntropyOptions::CANONICAL
                };
                Ok(h.entropy_search(128, &opts)?.threshold)
            }
        }
    }
}

/// Weight storage of one layer.
pub enum QWeights {
    /// int8 in [-127, 127], per-channel scales (TFLite's converter).
    Int8(Vec<i8>),
    /// Packed int4 in [-7, 7], per-channel scales.
    Int4(Vec<u8>),
}

/// One quantized layer, in the form a .tflite file stores it.
pub struct QLayer {
    pub n_in: usize,
    pub n_out: usize,
    pub weights: QWeights,
    pub filter_scales: Vec<f32>,
    pub bias: Vec<i32>,
    pub input: Quantizer<i8>,
    pub output: Quantizer<i8>,
    pub activation: Activation,
}

impl QLayer {
    pub fn quantization(&self) -> Result<Quantization<'_>, qkit::Error> {
        Ok(Quantization {
            input: self.input,
            filter: FilterQuantizer::symmetric(&self.filter_scales)?,
            output: self.output,
            activation: self.activation,
        })
    }

    /// Bytes of weights and biases.
    pub fn bytes(&self) -> usize {
        let w = match &self.weights {
            QWeights::Int8(w) => w.len(),
            QWeights::Int4(w) => w.len(),
        };
        w + 4 * self.bias.len() + 4 * self.filter_scales.len()
    }
}

/// The quantized network.
pub struct QModel {
    pub layers: Vec<QLayer>,
}

/// Activation histograms of every layer (index 0 = the network input).
pub struct Calibration {
    hists: Vec<Histogram<2048>>,
}

impl Calibration {
    /// Feeds the float network's activations on `inputs` into one |x|
    /// histogram per tensor.
    pub fn collect(net: &Mlp, inputs: &[&[f32]]) -> Self {
        let mut hists = vec![Histogram::<2048>::magnitude(); net.layers.len() + 1];
        for x in inputs {
            for (h, a) in hists.iter_mut().zip(net.forward_all(x)) {
                h.add(&a);
            }
        }
        Calibration { hists }
    }
}

/// Which weight format to use.
#[derive(Clone, Copy, PartialEq)]
pub enum WeightBits {
    Eight,
    Four,
}

/// Quantizes `net` post-training: per-channel symmetric weights, int32
/// biases at `s_in · s_w`, activations calibrated with `cal`.
pub fn quantize(
    net: &Mlp,
    calib: &Calibration,
    cal: Calibrator,
    bits: WeightBits,
) -> Result<QModel, Error> {
    // The input is pixels / 16 in [0, 1]: an exact uint8-style range,
    // stored as int8 with zero point -128.
    let mut input = Quantizer::<i8>::from_min_max(0.0, 1.0, CodeRange::Full)?;
    let mut layers = Vec::new();
    let last = net.layers.len() - 1;
    for (l, dense) in net.layers.iter().enumerate() {
        let relu = l < last;
        let t = cal.threshold(&calib.hists[l + 1], relu)?;
        let output = if relu {
            // Post-ReLU activations are >= 0: all 256 codes on [0, t].
            Quantizer::<i8>::from_min_max(0.0, t, CodeRange::Full)?
        } else {
            Quantizer::<i8>::symmetric(t, CodeRange::Full)?
        };
        let (weights, filter_scales) = quantize_weights(&dense.w, dense.n_in, dense.n_out, bits)?;
        let bias = dense
            .b
            .iter()
            .zip(&filter_scales)
            .map(|(&b, &s_w)| {
                let s = input.scale() as f64 * s_w as f64;
                (b as f64 / s)
                    .round()
                    .clamp(i32::MIN as f64, i32::MAX as f64) as i32
            })
            .collect();
        layers.push(QLayer {
            n_in: dense.n_in,
            n_out: dense.n_out,
            weights,
            filter_scales,
            bias,
            input,
            output,
            activation: if relu {
                Activation::Relu
            } else {
                Activation::None
            },
        });
        input = output;
    }
    Ok(QModel { layers })
}

/// Symmetric per-channel weights: int8 in [-127, 127] or int4 in [-7, 7]
/// (TFLite's converter ranges), rounding half away from zero as TFLite does.
fn quantize_weights(
    w: &[f32],
    n_in: usize,
    n_out: usize,
    bits: WeightBits,
) -> Result<(QWeights, Vec<f32>), Error> {
    let mut scales = Vec::with_capacity(n_out);
    let mut q8 = Vec::with_capacity(w.len());
    let mut q4 = Vec::with_capacity(w.len());
    for row in w.chunks_exact(n_in) {
        let amax = row.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        match bits {
            WeightBits::Eight => {
                let q = Quantizer::<i8>::symmetric(amax, CodeRange::Narrow)?;
                scales.push(q.scale());
                q8.extend(row.iter().map(|&v| q.quantize(v, Round::HalfAwayFromZero)));
            }
            WeightBits::Four => {
                let q = Quantizer::<I4>::symmetric(amax, CodeRange::Narrow)?;
                scales.push(q.scale());
                q4.extend(row.iter().map(|&v| q.quantize(v, Round::HalfAwayFromZero)));
            }
        }
    }
    debug_assert_eq!(scales.len(), n_out);
    Ok(match bits {
        WeightBits::Eight => (QWeights::Int8(q8), scales),
        WeightBits::Four => {
            let mut packed = vec![0u8; q4.len().div_ceil(2)];
            int4::pack(&q4, &mut packed)?;
            (QWeights::Int4(packed), scales)
        }
    })
}

/// Integer-only inference: the model's layers built once, then run.
pub struct Runner<'a> {
    input: Quantizer<i8>,
    fcs: Vec<FullyConnected<'a>>,
    bufs: Vec<Vec<i8>>,
}

impl<'a> Runner<'a> {
    pub fn new(
        model: &'a QModel,
        channels: &'a mut [Vec<Channel>],
        requant: RequantMode,
    ) -> Result<Self, Error> {
        let mut fcs = Vec::new();
        for (layer, ch) in model.layers.iter().zip(channels.iter_mut()) {
            let q = layer.quantization()?;
            let fc = match &layer.weights {
                QWeights::Int8(w) => {
                    FullyConnected::new(w, layer.n_in, Some(&layer.bias), &q, requant, ch)?
                }
                QWeights::Int4(p) => {
                    FullyConnected::new_i4(p, layer.n_in, Some(&layer.bias), &q, requant, ch)?
                }
            };
            fcs.push(fc);
        }
        let mut bufs = vec![vec![0i8; model.layers[0].n_in]];
        bufs.extend(model.layers.iter().map(|l| vec![0i8; l.n_out]));
        Ok(Runner {
            input: model.layers[0].input,
            fcs,
            bufs,
        })
    }

    /// The int8 logits of one image.
    pub fn logits(&mut self, x: &[f32]) -> Result<&[i8], Error> {
        self.input
            .quantize_slice(x, &mut self.bufs[0], Round::HalfAwayFromZero)?;
        for (l, fc) in self.fcs.iter().enumerate() {
            let (done, rest) = self.bufs.split_at_mut(l + 1);
            fc.run(&done[l], 1, &mut rest[0])?;
        }
        Ok(self.bufs.last().unwrap())
    }

    pub fn predict(&mut self, x: &[f32]) -> Result<usize, Error> {
        let z = self.logits(x)?;
        let mut best = 0;
        for (i, v) in z.iter().enumerate() {
            if *v > z[best] {
                best = i;
            }
        }
        Ok(best)
    }
}

/// Storage for the per-channel data of every layer.
pub fn channels_for(model: &QModel) -> Vec<Vec<Channel>> {
    model
        .layers
        .iter()
        .map(|l| vec![Channel::default(); l.n_out])
        .collect()
}
