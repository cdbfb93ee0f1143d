#!/usr/bin/env python3
"""Golden vectors for qkit::ops (ADD, MUL) and int8 REQUANTIZE, produced by
TensorFlow Lite Micro itself.

Run:   /opt/qkit-venv/bin/python tools/gen_requant_golden.py
Needs: tensorflow-cpu (only for the TFLite flatbuffer schema,
       tensorflow.lite.python.schema_py_generated), flatbuffers, numpy, and
       the tflite-micro Python package
       (from tflite_micro.python.tflite_micro import runtime).
Writes: tests/data/ops_add_i8.json, tests/data/ops_mul_i8.json,
        tests/data/requant_quantize_i8.json, tests/data/ops_add_i16.json,
        tests/data/ops_mul_i16.json, tests/data/requant_fc_per_tensor.json

Each model is a one-operator .tflite flatbuffer built directly with the schema
object API, so the scales and zero points are exactly the ones chosen here
(no converter heuristics). The JSON records the parameters as TFLM reports
them back (get_input_details / get_output_details), the inputs, and TFLM's
outputs. Some parameter sets are chosen so that the requantization hits exact
ties, where TFLM's default double rounding and single rounding differ.
"""
import json
import math
import os
import sys

import flatbuffers
import numpy as np
from tensorflow.lite.python import schema_py_generated as s
from tflite_micro.python.tflite_micro import runtime

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
rng = np.random.default_rng(20261127)

ACT = {
    "NONE": s.ActivationFunctionType.NONE,
    "RELU": s.ActivationFunctionType.RELU,
    "RELU6": s.ActivationFunctionType.RELU6,
    "RELU_N1_TO_1": s.ActivationFunctionType.RELU_N1_TO_1,
}
TYPES = {
    "int8": (s.TensorType.INT8, np.int8),
    "uint8": (s.TensorType.UINT8, np.uint8),
    "int16": (s.TensorType.INT16, np.int16),
}


def tensor(name, ttype, n, scale, zp, buffer):
    t = s.TensorT()
    t.name = name.encode()
    t.type = ttype
    t.shape = [1, n]
    t.buffer = buffer
    q = s.QuantizationParametersT()
    q.scale = [float(np.float32(scale))]
    q.zeroPoint = [int(zp)]
    t.quantization = q
    return t


def build_model(op, n, ins, out, act="NONE"):
    """ins: list of (type, scale, zp); out: (type, scale, zp). One operator."""
    model = s.ModelT()
    model.version = 3
    code = s.OperatorCodeT()
    code.builtinCode = op
    code.deprecatedBuiltinCode = op
    code.version = 1
    model.operatorCodes = [code]
    model.buffers = [s.BufferT() for _ in range(len(ins) + 2)]  # buffer 0 is the empty sentinel
    sg = s.SubGraphT()
    sg.tensors = [
        tensor(f"in{i}", TYPES[t][0], n, sc, zp, i + 1) for i, (t, sc, zp) in enumerate(ins)
    ] + [tensor("out", TYPES[out[0]][0], n, out[1], out[2], len(ins) + 1)]
    sg.inputs = list(range(len(ins)))
    sg.outputs = [len(ins)]
    o = s.OperatorT()
    o.opcodeIndex = 0
    o.inputs = list(range(len(ins)))
    o.outputs = [len(ins)]
    if op == s.BuiltinOperator.ADD:
        o.builtinOptionsType = s.BuiltinOptions.AddOptions
        o.builtinOptions = s.AddOptionsT()
        o.builtinOptions.fusedActivationFunction = ACT[act]
    elif op == s.BuiltinOperator.MUL:
        o.builtinOptionsType = s.BuiltinOptions.MulOptions
        o.builtinOptions = s.MulOptionsT()
        o.builtinOptions.fusedActivationFunction = ACT[act]
    sg.operators = [o]
    model.subgraphs = [sg]
    model.description = b"qkit golden"
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def run(model, inputs):
    interp = runtime.Interpreter.from_bytes(model)
    for i, x in enumerate(inputs):
        interp.set_input(x.reshape(1, -1), i)
    interp.invoke()
    return (
        interp.get_output(0).reshape(-1),
        interp.get_input_details(0),
        interp.get_input_details(1) if len(inputs) > 1 else None,
        interp.get_output_details(0),
    )


def qparams(details):
    q = details["quantization_parameters"]
    return float(np.float32(q["scales"][0])), int(q["zero_points"][0])


def int8_pairs(n_random):
    """Every extreme pair plus random pairs."""
    edges = np.array([-128, -127, -1, 0, 1, 126, 127], dtype=np.int64)
    ea, eb = np.meshgrid(edges, edges)
    a = np.concatenate([ea.ravel(), rng.integers(-128, 128, n_random)])
    b = np.concatenate([eb.ravel(), rng.integers(-128, 128, n_random)])
    return a.astype(np.int8), b.astype(np.int8)


def int16_pairs(n_random):
    edges = np.array([-32768, -32767, -1000, -1, 0, 1, 999, 32766, 32767], dtype=np.int64)
    ea, eb = np.meshgrid(edges, edges)
    a = np.concatenate([ea.ravel(), rng.integers(-32768, 32768, n_random), rng.integers(-300, 300, n_random)])
    b = np.concatenate([eb.ravel(), rng.integers(-32768, 32768, n_random), rng.integers(-300, 300, n_random)])
    return a.astype(np.int16), b.astype(np.int16)


def binary_cases(op, param_sets, n_random, t="int8"):
    cases = []
    for p in param_sets:
        a, b = int8_pairs(n_random) if t == "int8" else int16_pairs(n_random)
        ins = [(t, p["s1"], p["zp1"]), (t, p["s2"], p["zp2"])]
        model = build_model(op, len(a), ins, (t, p["so"], p["zpo"]), p.get("act", "NONE"))
        y, d1, d2, do = run(model, [a, b])
        (s1, zp1), (s2, zp2), (so, zpo) = qparams(d1), qparams(d2), qparams(do)
        cases.append({
            "name": p["name"],
            "activation": p.get("act", "NONE"),
            "input1": {"scale": s1, "zero_point": zp1},
            "input2": {"scale": s2, "zero_point": zp2},
            "output": {"scale": so, "zero_point": zpo},
            "a": a.tolist(), "b": b.tolist(), "out": y.astype(int).tolist(),
        })
    return cases


ADD_SETS = [
    # SEMANTICS.md 4.1 sample parameters.
    {"name": "semantics_sample", "s1": 0.05, "zp1": -3, "s2": 0.1, "zp2": 7, "so": 0.08, "zpo": -1},
    # Power-of-two ratios: every requantization step is exact except the
    # output one, which lands on exact ties (x1/4 + x2/8): double and single
    # rounding differ on the negative ones.
    {"name": "pot_ties", "s1": 1.0, "zp1": 0, "s2": 0.5, "zp2": 0, "so": 4.0, "zpo": 0},
    {"name": "pot_ties_zp", "s1": 0.25, "zp1": 5, "s2": 0.125, "zp2": -9, "so": 1.0, "zpo": 3},
    {"name": "typical", "s1": 0.0235, "zp1": -12, "s2": 0.0178, "zp2": 30, "so": 0.0412, "zpo": -5},
    {"name": "equal_scales", "s1": 0.02, "zp1": 0, "s2": 0.02, "zp2": 0, "so": 0.02, "zpo": 0},
    {"name": "relu", "s1": 0.031, "zp1": -128, "s2": 0.027, "zp2": 10, "so": 0.05, "zpo": -100, "act": "RELU"},
    {"name": "relu6", "s1": 0.05, "zp1": 0, "s2": 0.04, "zp2": -20, "so": 0.03, "zpo": -128, "act": "RELU6"},
    {"name": "relu_n1_to_1", "s1": 0.01, "zp1": 3, "s2": 0.012, "zp2": -3, "so": 0.009, "zpo": 2, "act": "RELU_N1_TO_1"},
    {"name": "tiny_vs_large", "s1": 0.001, "zp1": 0, "s2": 0.5, "zp2": -1, "so": 0.7, "zpo": 4},
]

MUL_SETS = [
    # SEMANTICS.md 4.2 sample parameters.
    {"name": "semantics_sample", "s1": 0.05, "zp1": 0, "s2": 0.1, "zp2": 0, "so": 0.08, "zpo": -1},
    # M = 1/4 exactly: p/4 ties for p = 2 mod 4.
    {"name": "pot_ties", "s1": 0.5, "zp1": 0, "s2": 0.5, "zp2": 0, "so": 1.0, "zpo": 0},
    {"name": "pot_ties_zp", "s1": 0.125, "zp1": -3, "s2": 0.25, "zp2": 7, "so": 0.25, "zpo": -2},
    {"name": "typical", "s1": 0.0235, "zp1": -12, "s2": 0.0178, "zp2": 30, "so": 0.0412, "zpo": -5},
    {"name": "large_multiplier", "s1": 0.5, "zp1": 0, "s2": 0.3, "zp2": 0, "so": 0.01, "zpo": 0},
    {"name": "relu6", "s1": 0.05, "zp1": 1, "s2": 0.04, "zp2": -2, "so": 0.03, "zpo": -128, "act": "RELU6"},
    {"name": "relu", "s1": 0.03, "zp1": -7, "s2": 0.02, "zp2": 9, "so": 0.011, "zpo": 20, "act": "RELU"},
]

# int16: symmetric activations (zero points 0), as the converter makes them.
ADD16_SETS = [
    {"name": "typical", "s1": 0.00031, "zp1": 0, "s2": 0.00047, "zp2": 0, "so": 0.0009, "zpo": 0},
    # Power-of-two ratios: exact ties in the output step (x1/4 + x2/8).
    {"name": "pot_ties", "s1": 1.0, "zp1": 0, "s2": 0.5, "zp2": 0, "so": 2.0 ** 7, "zpo": 0},
    {"name": "relu6", "s1": 0.0005, "zp1": 0, "s2": 0.0002, "zp2": 0, "so": 0.0003, "zpo": 0, "act": "RELU6"},
]
MUL16_SETS = [
    {"name": "typical", "s1": 0.00031, "zp1": 0, "s2": 0.00047, "zp2": 0, "so": 0.00002, "zpo": 0},
    # M = 1/4: ties for products = 2 mod 4.
    {"name": "pot_ties", "s1": 0.5, "zp1": 0, "s2": 0.5, "zp2": 0, "so": 1.0, "zpo": 0},
    {"name": "relu", "s1": 0.001, "zp1": 0, "s2": 0.002, "zp2": 0, "so": 0.003, "zpo": 0, "act": "RELU"},
]

QUANTIZE_SETS = [
    # M = 1/2: odd negative (x - zp) are ties.
    {"name": "half_ties", "in": ("int8", 0.1, 0), "out": ("int8", 0.2, 0)},
    {"name": "half_ties_zp", "in": ("int8", 0.1, -7), "out": ("int8", 0.2, 11)},
    {"name": "quarter_ties", "in": ("int8", 0.25, 3), "out": ("int8", 1.0, -1)},
    {"name": "typical_down", "in": ("int8", 0.0371, -20), "out": ("int8", 0.0517, 6)},
    {"name": "typical_up", "in": ("int8", 0.0517, 6), "out": ("int8", 0.0213, -30)},
    {"name": "same_scale_shift_zp", "in": ("int8", 0.05, 10), "out": ("int8", 0.05, -10)},
    {"name": "identity", "in": ("int8", 0.05, 0), "out": ("int8", 0.05, 0)},
    # uint8 -> int8 with the same scale and zp shifted by 128: TFLM's XOR 0x80 path.
    {"name": "uint8_to_int8_xor", "in": ("uint8", 0.02, 128), "out": ("int8", 0.02, 0)},
    {"name": "uint8_to_int8", "in": ("uint8", 0.02, 100), "out": ("int8", 0.03, -5)},
]


def quantize_cases():
    cases = []
    for p in QUANTIZE_SETS:
        tin = p["in"][0]
        lo, hi = (-128, 128) if tin == "int8" else (0, 256)
        x = np.arange(lo, hi).astype(TYPES[tin][1])
        model = build_model(s.BuiltinOperator.QUANTIZE, len(x), [p["in"]], p["out"])
        try:
            y, d1, _, do = run(model, [x])
        except Exception as e:  # an unsupported type pair: say so, keep going
            print(f"skip {p['name']}: {e}", file=sys.stderr)
            continue
        (si, zpi), (so, zpo) = qparams(d1), qparams(do)
        cases.append({
            "name": p["name"],
            "input_type": tin, "output_type": p["out"][0],
            "input": {"scale": si, "zero_point": zpi},
            "output": {"scale": so, "zero_point": zpo},
            "x": x.astype(int).tolist(), "out": y.astype(int).tolist(),
        })
    return cases


# ---------------------------------------------------------------- per-tensor FC

def _rhaz(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def _quantize_multiplier(m):
    """Python model of QuantizeMultiplier, only used to *pick* inputs where
    the two scale compositions disagree; TFLM produces the recorded outputs."""
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


def fc_cases():
    """Per-tensor FULLY_CONNECTED (K = 1, so acc = (x - zp_in)·w + bias):
    scales whose f32 product (TFLM's per-tensor FC multiplier) quantizes to a
    different Q31 significand than the all-f64 composition, and biases chosen
    so some accumulators land where the two give different outputs."""
    search = np.random.default_rng(7)
    cases = []
    while len(cases) < 3:
        si, sw, so = [np.float32(10 ** search.uniform(a, b)) for a, b in [(-3, -1), (-4, -2), (-3, -1)]]
        m_fc = float(np.float32(si * sw)) / float(so)
        m_f64 = float(si) * float(sw) / float(so)
        a, b = _quantize_multiplier(m_fc), _quantize_multiplier(m_f64)
        if a == b:
            continue
        lim = int(130 / m_f64)
        acc = np.arange(-lim, lim, dtype=np.int64)
        differ = acc[_mbqm(acc, *a) != _mbqm(acc, *b)]
        if len(differ) < 2:
            continue
        zp_in, zp_out = int(search.integers(-20, 20)), int(search.integers(-10, 10))
        targets = differ[:24].tolist()
        # Targeted channels: w = 1 and bias so that x = zp_in + 3 gives acc = target.
        weights = [1] * len(targets) + search.integers(-127, 128, 8).tolist()
        bias = [t - 3 for t in targets] + search.integers(-20000, 20000, 8).tolist()
        x = np.arange(-128, 128).astype(np.int8)
        n, bsz = len(weights), len(x)
        model = s.ModelT()
        model.version = 3
        code = s.OperatorCodeT()
        code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.FULLY_CONNECTED
        code.version = 1
        model.operatorCodes = [code]
        bw, bb = s.BufferT(), s.BufferT()
        bw.data = np.array(weights, dtype=np.int8).view(np.uint8).tolist()
        bb.data = np.array(bias, dtype=np.int32).view(np.uint8).tolist()
        model.buffers = [s.BufferT(), s.BufferT(), bw, bb, s.BufferT()]
        t_in = tensor("x", s.TensorType.INT8, 1, si, zp_in, 1)
        t_in.shape = [bsz, 1]
        t_w = tensor("w", s.TensorType.INT8, 1, sw, 0, 2)
        t_w.shape = [n, 1]
        t_b = tensor("bias", s.TensorType.INT32, n, float(np.float32(si * sw)), 0, 3)
        t_b.shape = [n]
        t_out = tensor("y", s.TensorType.INT8, n, so, zp_out, 4)
        t_out.shape = [bsz, n]
        sg = s.SubGraphT()
        sg.tensors = [t_in, t_w, t_b, t_out]
        sg.inputs, sg.outputs = [0], [3]
        op = s.OperatorT()
        op.opcodeIndex = 0
        op.inputs, op.outputs = [0, 1, 2], [3]
        op.builtinOptionsType = s.BuiltinOptions.FullyConnectedOptions
        op.builtinOptions = s.FullyConnectedOptionsT()
        sg.operators = [op]
        model.subgraphs = [sg]
        fb = flatbuffers.Builder(1024)
        fb.Finish(model.Pack(fb), file_identifier=b"TFL3")
        interp = runtime.Interpreter.from_bytes(bytes(fb.Output()))
        interp.set_input(x.reshape(bsz, 1), 0)
        interp.invoke()
        y = interp.get_output(0).reshape(-1)
        (s_in, z_in), (s_out, z_out) = qparams(interp.get_input_details(0)), qparams(interp.get_output_details(0))
        cases.append({
            "name": f"fc_per_tensor_{len(cases)}",
            "input": {"scale": s_in, "zero_point": z_in},
            "weight_scale": float(sw),
            "output": {"scale": s_out, "zero_point": z_out},
            "x": x.astype(int).tolist(), "weights": weights, "bias": bias,
            "out": y.astype(int).tolist(),
        })
    return cases


def write(name, op, cases):
    doc = {
        "generator": "tools/gen_requant_golden.py",
        "runtime": "tflite-micro Python interpreter (reference kernels, double rounding)",
        "op": op,
        "cases": cases,
    }
    path = os.path.join(OUT_DIR, name)
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"wrote {path}: {len(cases)} cases")


if __name__ == "__main__":
    os.makedirs(OUT_DIR, exist_ok=True)
    write("ops_add_i8.json", "ADD", binary_cases(s.BuiltinOperator.ADD, ADD_SETS, 400))
    write("ops_mul_i8.json", "MUL", binary_cases(s.BuiltinOperator.MUL, MUL_SETS, 400))
    write("requant_quantize_i8.json", "QUANTIZE", quantize_cases())
    write("ops_add_i16.json", "ADD", binary_cases(s.BuiltinOperator.ADD, ADD16_SETS, 200, "int16"))
    write("ops_mul_i16.json", "MUL", binary_cases(s.BuiltinOperator.MUL, MUL16_SETS, 200, "int16"))
    write("requant_fc_per_tensor.json", "FULLY_CONNECTED", fc_cases())
