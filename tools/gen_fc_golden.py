#!/usr/bin/env python3
"""Golden FULLY_CONNECTED vectors from TensorFlow Lite Micro.

Run:  /opt/qkit-venv/bin/python tools/gen_fc_golden.py
Needs: tensorflow-cpu (2.21 used), tflite-micro (`tflite_micro.python.tflite_micro.runtime`),
       numpy, flatbuffers (installed with tensorflow).
Writes: tests/data/fc_golden.json, read by tests/layer_golden.rs.

How: a Keras Dense layer is converted to a full-integer .tflite model by the
real TFLite converter (int8, per-tensor or per-channel), which gives a valid
FULLY_CONNECTED graph. The model's flatbuffer is then patched (weights, bias,
scales, zero points, fused activation, batch, and for some cases the tensor
types: INT4 filters, or INT16 activations with an INT64 bias) so the cases
cover what matters: multipliers >= 1, extreme zero points, full-range
weights, RELU/RELU6 clamps, no bias, odd sizes. Every value recorded in the
JSON is read back from the final model bytes; the outputs are TFLite Micro's
(its default build: double rounding).
"""
import json
import math
import os

import flatbuffers
import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema
from tflite_micro.python.tflite_micro import runtime

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "fc_golden.json")
ACT = {"NONE": 0, "RELU": 1, "RELU6": 3}


def base_model(in_dim, out_dim, use_bias, per_channel):
    """A converted int8 FULLY_CONNECTED model (weights to be replaced)."""
    model = tf.keras.Sequential(
        [tf.keras.Input(shape=(in_dim,)), tf.keras.layers.Dense(out_dim, use_bias=use_bias)]
    )
    rng = np.random.default_rng(0)
    # Non-zero float weights and bias, or the converter drops a zero bias.
    dense = model.layers[-1]
    dense.set_weights([rng.uniform(-1, 1, size=w.shape).astype(np.float32) for w in dense.get_weights()])

    def rep():
        for _ in range(20):
            yield [rng.uniform(-1, 1, size=(1, in_dim)).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    if not per_channel:
        conv._experimental_disable_per_channel = True
    return conv.convert()


def pack_int4(values):
    v = np.asarray(values, dtype=np.int64) & 0xF
    if len(v) % 2:
        v = np.append(v, 0)
    return (v[0::2] | (v[1::2] << 4)).astype(np.uint8)


def unpack_int4(packed, n):
    out = []
    for i in range(n):
        b = int(packed[i // 2])
        nib = b & 0xF if i % 2 == 0 else b >> 4
        out.append(nib - 16 if nib >= 8 else nib)
    return out


def quant(scale, zps, dim=0):
    q = schema.QuantizationParametersT()
    q.scale = np.asarray(scale, dtype=np.float32)
    q.zeroPoint = np.asarray(zps, dtype=np.int64)
    q.quantizedDimension = dim
    return q


def build_case(c, rng):
    in_dim, out_dim, batch = c["in_dim"], c["out_dim"], c["batch"]
    kind, per_channel = c["kind"], c["per_channel"]
    buf = base_model(in_dim, out_dim, c["bias"], per_channel)
    m = schema.ModelT.InitFromPackedBuf(buf, 0)
    sg = m.subgraphs[0]
    fcs = [op for op in sg.operators
           if m.operatorCodes[op.opcodeIndex].builtinCode == schema.BuiltinOperator.FULLY_CONNECTED
           or m.operatorCodes[op.opcodeIndex].deprecatedBuiltinCode == schema.BuiltinOperator.FULLY_CONNECTED]
    assert len(sg.operators) == 1 and len(fcs) == 1, "expected a lone FULLY_CONNECTED"
    op = fcs[0]
    ti, tw = op.inputs[0], op.inputs[1]
    tb = op.inputs[2] if len(op.inputs) > 2 else -1
    to = op.outputs[0]
    t_in, t_w, t_out = sg.tensors[ti], sg.tensors[tw], sg.tensors[to]

    # Scales and zero points.
    s_in, s_out = c["input_scale"], c["output_scale"]
    zp_in = 0 if kind == "int16" else c["input_zero_point"]
    zp_out = 0 if kind == "int16" else c["output_zero_point"]
    n_scales = out_dim if per_channel else 1
    s_w = [float(np.float32(s)) for s in c["filter_scales"](rng, n_scales)]
    t_in.quantization = quant([s_in], [zp_in])
    t_out.quantization = quant([s_out], [zp_out])
    t_w.quantization = quant(s_w, [0] * n_scales, 0)

    # Batch.
    t_in.shape = np.array([batch, in_dim], dtype=np.int32)
    t_in.shapeSignature = None
    t_out.shape = np.array([batch, out_dim], dtype=np.int32)
    t_out.shapeSignature = None

    # Weights.
    n = in_dim * out_dim
    if "w_explicit" in c:
        w = np.array(c["w_explicit"], dtype=np.int64)
        m.buffers[t_w.buffer].data = w.astype(np.int8).view(np.uint8)
    elif kind == "int4":
        w = rng.integers(-7, 8, size=n)
        w[: min(4, n)] = [-7, 7, -8, 7][: min(4, n)]  # -8 is legal storage too
        t_w.type = schema.TensorType.INT4
        m.buffers[t_w.buffer].data = pack_int4(w)
    else:
        lo = -128 if c.get("full_range_weights") else -c.get("w_max", 127)
        w = rng.integers(lo, c.get("w_max", 127) + 1, size=n)
        w[: min(2, n)] = [lo, 127][: min(2, n)]
        m.buffers[t_w.buffer].data = w.astype(np.int8).view(np.uint8)

    # Activations.
    if kind == "int16":
        t_in.type = schema.TensorType.INT16
        t_out.type = schema.TensorType.INT16
        x = rng.integers(-32768, 32768, size=batch * in_dim)
        x[:2] = [-32768, 32767]
        x_dtype = np.int16
    elif "x_explicit" in c:
        x = np.array(c["x_explicit"], dtype=np.int64)
        x_dtype = np.int8
    else:
        span = c.get("x_span")
        if span is None:
            x = rng.integers(-128, 128, size=batch * in_dim)
            x[:2] = [-128, 127]
        else:
            x = np.clip(zp_in + rng.integers(-span, span + 1, size=batch * in_dim), -128, 127)
        x_dtype = np.int8

    # Bias: int32 (int64 for 16x8) at scale in * w[c].
    if tb >= 0:
        t_b = sg.tensors[tb]
        bias_scales = [np.float32(s_in) * np.float32(s) for s in s_w]
        t_b.quantization = quant(bias_scales, [0] * n_scales, 0)
        bmax = c.get("bias_max", 20000)
        b = np.array(c["bias_explicit"]) if "bias_explicit" in c else rng.integers(-bmax, bmax + 1, size=out_dim)
        if kind == "int16":
            t_b.type = schema.TensorType.INT64
            m.buffers[t_b.buffer].data = b.astype(np.int64).view(np.uint8)
        else:
            t_b.type = schema.TensorType.INT32
            m.buffers[t_b.buffer].data = b.astype(np.int32).view(np.uint8)

    op.builtinOptions.fusedActivationFunction = ACT[c["activation"]]

    builder = flatbuffers.Builder(0)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    model_bytes = bytes(builder.Output())

    # Run TFLite Micro.
    interp = runtime.Interpreter.from_bytes(model_bytes)
    interp.set_input(x.astype(x_dtype).reshape(batch, in_dim), 0)
    interp.invoke()
    y = interp.get_output(0).reshape(-1)

    # Read everything back from the final model bytes.
    r = schema.ModelT.InitFromPackedBuf(model_bytes, 0)
    rsg = r.subgraphs[0]
    rop = rsg.operators[0]
    rw = rsg.tensors[rop.inputs[1]]
    rin, rout = rsg.tensors[rop.inputs[0]], rsg.tensors[rop.outputs[0]]
    wdata = np.asarray(r.buffers[rw.buffer].data, dtype=np.uint8)
    case = {
        "name": c["name"],
        "kind": kind,
        "per_channel": per_channel,
        "batch": batch,
        "in_dim": in_dim,
        "out_dim": out_dim,
        "input_scale": float(rin.quantization.scale[0]),
        "input_zero_point": int(rin.quantization.zeroPoint[0]),
        "filter_scales": [float(s) for s in rw.quantization.scale],
        "output_scale": float(rout.quantization.scale[0]),
        "output_zero_point": int(rout.quantization.zeroPoint[0]),
        "activation": c["activation"],
    }
    if kind == "int4":
        case["weights_packed"] = [int(v) for v in wdata]
        case["weights"] = unpack_int4(wdata, n)
    else:
        case["weights"] = [int(v) for v in wdata.view(np.int8)]
    if len(rop.inputs) > 2 and rop.inputs[2] >= 0:
        rb = rsg.tensors[rop.inputs[2]]
        bt = np.int64 if rb.type == schema.TensorType.INT64 else np.int32
        case["bias"] = [int(v) for v in np.asarray(r.buffers[rb.buffer].data, dtype=np.uint8).view(bt)]
    else:
        case["bias"] = None
    case["input"] = [int(v) for v in x]
    case["output"] = [int(v) for v in y]
    return case


def logu(lo, hi):
    return lambda rng, k: np.exp(rng.uniform(np.log(lo), np.log(hi), size=k))


CASES = [
    # name, kind, per_channel, bias, activation, dims, batch, scales
    dict(name="per_tensor_bias_none", kind="int8", per_channel=False, bias=True, activation="NONE",
         in_dim=64, out_dim=16, batch=3, input_scale=0.05, input_zero_point=-3, output_scale=0.2,
         output_zero_point=5, filter_scales=logu(0.001, 0.01)),
    dict(name="per_tensor_nobias_relu", kind="int8", per_channel=False, bias=False, activation="RELU",
         in_dim=37, out_dim=5, batch=2, input_scale=0.02, input_zero_point=127, output_scale=0.5,
         output_zero_point=-128, filter_scales=logu(0.001, 0.02)),
    dict(name="per_tensor_relu6_zp_extremes", kind="int8", per_channel=False, bias=True, activation="RELU6",
         in_dim=33, out_dim=9, batch=2, input_scale=0.1, input_zero_point=-128, output_scale=0.1,
         output_zero_point=-20, filter_scales=logu(0.001, 0.003)),
    dict(name="per_tensor_multiplier_ge_1", kind="int8", per_channel=False, bias=True, activation="NONE",
         in_dim=8, out_dim=6, batch=4, input_scale=0.5, input_zero_point=1, output_scale=0.001,
         output_zero_point=0, filter_scales=logu(0.004, 0.008), bias_max=30, w_max=3, x_span=4),
    dict(name="per_tensor_full_range_weights", kind="int8", per_channel=False, bias=True, activation="NONE",
         in_dim=300, out_dim=7, batch=2, input_scale=0.03, input_zero_point=10, output_scale=0.9,
         output_zero_point=3, filter_scales=logu(0.002, 0.004), full_range_weights=True),
    dict(name="per_channel_bias_relu6", kind="int8", per_channel=True, bias=True, activation="RELU6",
         in_dim=64, out_dim=16, batch=3, input_scale=0.05, input_zero_point=-7, output_scale=0.03,
         output_zero_point=-100, filter_scales=logu(0.0005, 0.01)),
    dict(name="per_channel_nobias_none", kind="int8", per_channel=True, bias=False, activation="NONE",
         in_dim=129, out_dim=11, batch=2, input_scale=0.01, input_zero_point=40, output_scale=0.2,
         output_zero_point=12, filter_scales=logu(0.001, 0.05)),
    dict(name="per_channel_relu_multiplier_ge_1", kind="int8", per_channel=True, bias=True, activation="RELU",
         in_dim=16, out_dim=8, batch=2, input_scale=0.25, input_zero_point=0, output_scale=0.002,
         output_zero_point=-128, filter_scales=logu(0.002, 0.05), bias_max=50, w_max=4, x_span=6),
    dict(name="int4_per_tensor_bias", kind="int4", per_channel=False, bias=True, activation="NONE",
         in_dim=64, out_dim=16, batch=2, input_scale=0.05, input_zero_point=-9, output_scale=0.2,
         output_zero_point=4, filter_scales=logu(0.01, 0.1), bias_max=1000),
    dict(name="int4_per_tensor_odd_relu", kind="int4", per_channel=False, bias=False, activation="RELU",
         in_dim=37, out_dim=7, batch=3, input_scale=0.05, input_zero_point=3, output_scale=0.05,
         output_zero_point=-50, filter_scales=logu(0.01, 0.1)),
    dict(name="int16x8_per_tensor_bias", kind="int16", per_channel=False, bias=True, activation="NONE",
         in_dim=48, out_dim=8, batch=2, input_scale=0.001, input_zero_point=0, output_scale=0.01,
         output_zero_point=0, filter_scales=logu(0.005, 0.02), bias_max=10**7),
    dict(name="int16x8_per_channel_relu", kind="int16", per_channel=True, bias=True, activation="RELU",
         in_dim=40, out_dim=6, batch=2, input_scale=0.0005, input_zero_point=0, output_scale=0.004,
         output_zero_point=0, filter_scales=logu(0.002, 0.03), bias_max=10**6),
]


def _rhaz(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def _quantize_multiplier(m):
    """Python QuantizeMultiplier, used only to *pick* discriminating inputs."""
    f, e = math.frexp(m)
    q = _rhaz(f * 2**31)
    if q == 2**31:
        q //= 2
        e += 1
    return (0, 0) if e < -31 else (q, e)


def _mbqm(x, q, sh):
    left, right = max(sh, 0), max(-sh, 0)
    h = ((x << left) * q + (1 << 30)) >> 31
    if right == 0:
        return h
    mask = (1 << right) - 1
    return (h >> right) + ((h & mask) > ((mask >> 1) + (h < 0)))


def composition_probes(n_cases):
    """Per-tensor cases that tell the two scale compositions apart: scales
    whose f32 product (double)(s_in*s_w)/s_out and all-f64 product
    (double)s_in*s_w/s_out quantize to different Q31 significands, and
    biases that put the accumulators (in_dim = 1, w = 1, x = zp_in + 3)
    exactly where the two give different outputs."""
    search = np.random.default_rng(11)
    out = []
    while len(out) < n_cases:
        si, sw, so = [np.float32(10 ** search.uniform(a, b)) for a, b in [(-3, -1), (-4, -2), (-3, -1)]]
        a = _quantize_multiplier(float(np.float32(si * sw)) / float(so))
        b = _quantize_multiplier(float(si) * float(sw) / float(so))
        if a == b:
            continue
        lim = int(120 / (float(si) * float(sw) / float(so)))
        differ = [t for t in range(-lim, lim) if _mbqm(t, *a) != _mbqm(t, *b)]
        if len(differ) < 4:
            continue
        targets = differ[:16]
        zp_in = int(search.integers(-20, 20))
        out.append(dict(
            name=f"per_tensor_composition_probe_{len(out)}", kind="int8", per_channel=False, bias=True,
            activation="NONE", in_dim=1, out_dim=len(targets), batch=1, input_scale=float(si),
            input_zero_point=zp_in, output_scale=float(so), output_zero_point=0,
            filter_scales=lambda rng, k, sw=float(sw): [sw] * k,
            w_explicit=[1] * len(targets), bias_explicit=[t - 3 for t in targets], x_explicit=[zp_in + 3]))
    return out


def main():
    rng = np.random.default_rng(20261127)
    cases = [build_case(c, rng) for c in CASES + composition_probes(3)]
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/gen_fc_golden.py", "tensorflow": tf.__version__,
                   "runtime": "tflite-micro (python runtime, default double rounding)",
                   "cases": cases}, f, separators=(",", ":"))
    print("wrote", len(cases), "cases to", OUT)


if __name__ == "__main__":
    main()
