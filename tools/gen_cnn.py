#!/usr/bin/env python3
"""Train a small Keras CNN on the UCI 8x8 digits, convert it to a full-integer
int8 .tflite with the TFLite converter, and record TFLite Micro's outputs on
every test image: the data of `cargo run --release --example tflite_cnn` and
of tests/conv_cnn.rs.

Run:  python tools/gen_cnn.py      (offline once installed)
Needs: pip install tensorflow-cpu tflite-micro (tensorflow 2.21.0,
       tflite-micro 0.dev20261023182759 used), numpy.
Reads: examples/data/digits.bin (tools/digits_to_bin.py).
Writes: examples/tflite_cnn/digits_cnn.tflite (the model) and
        examples/tflite_cnn/digits_cnn_tflm.json (per test image: the int8
        input fed to TFLM, TFLM's int8 logits and int8 softmax; the float
        model's accuracy).

The split is the one of examples/digits (a seeded xorshift64* Fisher-Yates
shuffle, seed 7, then 80 / 20), reproduced here bit for bit.
"""
import json
import os
import pathlib

import numpy as np
import tensorflow as tf
from tflite_micro.python.tflite_micro import runtime

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "tflite_cnn"
M64 = (1 << 64) - 1


class Rng:
    """examples/digits/data.rs's xorshift64*."""

    def __init__(self, seed):
        self.s = ((seed * 0x9E3779B97F4A7C15) & M64) | 1

    def next_u64(self):
        x = self.s
        x ^= x >> 12
        x ^= (x << 25) & M64
        x ^= x >> 27
        self.s = x
        return (x * 0x2545F4914F6CDD1D) & M64

    def below(self, n):
        return int(((self.next_u64() >> 11) / float(1 << 53)) * n)


def load_split():
    raw = np.frombuffer((ROOT / "examples" / "data" / "digits.bin").read_bytes(), dtype=np.uint8).reshape(-1, 65)
    idx = list(range(len(raw)))
    rng = Rng(7)
    for i in range(len(idx) - 1, 0, -1):
        j = rng.below(i + 1)
        idx[i], idx[j] = idx[j], idx[i]
    cut = len(idx) * 4 // 5
    v = raw[idx]
    x = (v[:, :64].astype(np.float32) / np.float32(16.0)).reshape(-1, 8, 8, 1)
    y = v[:, 64].astype(np.int64)
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def build(batch_size=None):
    inp = tf.keras.Input((8, 8, 1), batch_size=batch_size, name="image")
    x = tf.keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv3x3")(inp)
    x = tf.keras.layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dw3x3")(x)
    x = tf.keras.layers.Conv2D(16, 1, activation="relu", name="conv1x1")(x)
    x = tf.keras.layers.AveragePooling2D(2, name="avgpool")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    logits = tf.keras.layers.Dense(10, name="logits")(x)
    probs = tf.keras.layers.Softmax(name="probs")(logits)
    return tf.keras.Model(inp, [logits, probs])


def rhaz(v):
    return np.sign(v) * np.floor(np.abs(v) + 0.5)


def main():
    tf.keras.utils.set_random_seed(1)
    (xtr, ytr), (xte, yte) = load_split()
    model = build()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
                  loss=[tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True), None],
                  metrics=[["accuracy"], []])
    model.fit(xtr, [ytr, ytr], epochs=40, batch_size=32, verbose=0)
    float_logits = model.predict(xte, verbose=0)[0]
    float_acc = float(np.mean(np.argmax(float_logits, 1) == yte))

    def rep():
        for i in range(300):
            yield [xtr[i:i + 1]]

    # A batch-1 copy converts Flatten to one static RESHAPE (a dynamic batch
    # leaves SHAPE / STRIDED_SLICE / PACK ops in the graph).
    fixed = build(batch_size=1)
    fixed.set_weights(model.get_weights())
    conv = tf.lite.TFLiteConverter.from_keras_model(fixed)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    tfl = conv.convert()
    (OUT / "digits_cnn.tflite").write_bytes(tfl)

    # The input quantization and which output is which, from the model.
    lite = tf.lite.Interpreter(model_content=tfl)
    det_in = lite.get_input_details()[0]
    s_in, zp_in = det_in["quantization"]
    outs = lite.get_output_details()
    # Output order: the softmax output has scale 1/256 and zero point -128.
    order = sorted(range(len(outs)), key=lambda i: outs[i]["quantization"] == (1.0 / 256, -128))
    i_logits, i_probs = order

    q = np.clip(rhaz(xte / np.float32(s_in)) + zp_in, -128, 127).astype(np.int8)
    interp = runtime.Interpreter.from_bytes(tfl, arena_size=1 << 20)
    logits, probs = [], []
    for img in q:
        interp.set_input(img.reshape(1, 8, 8, 1), 0)
        interp.invoke()
        logits.append(interp.get_output(i_logits).reshape(-1))
        probs.append(interp.get_output(i_probs).reshape(-1))
    logits, probs = np.array(logits, np.int8), np.array(probs, np.int8)
    int8_acc = float(np.mean(np.argmax(logits.astype(np.int32), 1) == yte))
    meta = {
        "generator": "tools/gen_cnn.py", "tensorflow": tf.__version__,
        "runtime": "tflite-micro python runtime (default double rounding)",
        "test_images": int(len(yte)), "float_accuracy": float_acc, "tflm_int8_accuracy": int8_acc,
        "input_scale": float(s_in), "input_zero_point": int(zp_in),
        "labels": [int(v) for v in yte],
        "inputs": q.tobytes().hex(), "logits": logits.tobytes().hex(), "probs": probs.tobytes().hex(),
    }
    with open(OUT / "digits_cnn_tflm.json", "w") as f:
        json.dump(meta, f, separators=(",", ":"))
    print(f"model {len(tfl)} bytes; float accuracy {float_acc:.4f}, TFLM int8 {int8_acc:.4f}")


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
