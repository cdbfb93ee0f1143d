#!/usr/bin/env python3
"""Golden FULLY_CONNECTED vectors from LiteRT (the TensorFlow Lite interpreter
of `tensorflow-cpu`), its reference kernels and its optimized kernels.

Run:  python tools/gen_litert_golden.py          (offline once installed)
Needs: tensorflow-cpu (2.21 used), tflite-micro (TFLite Micro's outputs are
       recorded beside LiteRT's), numpy, flatbuffers (installed with tensorflow).
Writes: tests/data/litert_fc_golden.json, read by tests/litert_golden.rs.

How: the int8 FULLY_CONNECTED model is made by the real TFLite converter and
patched (weights, bias, scales, zero points, activation, batch) with the
helpers of tools/gen_fc_golden.py. Each model runs under three op resolvers:

* `BUILTIN_REF`: LiteRT's reference kernels;
* `BUILTIN_WITHOUT_DEFAULT_DELEGATES`: LiteRT's optimized kernels (the ones
  a phone runs when no delegate takes the op);
* `BUILTIN`: the optimized kernels with the default XNNPACK delegate, which
  takes int8 FULLY_CONNECTED on desktop builds.

Scales and accumulators are *chosen* so that the candidate arithmetics give
different outputs on many elements (exact negative ties, values that the
first rounding of double rounding pushes over a half, f64 vs Q31
multipliers). The script then replays every candidate in Python and prints,
for each resolver, which candidates reproduce every output; that verdict is
stored in the JSON too. The Rust test checks its own scalar model of each
mode against the outputs, independently of this verdict.
"""
import json
import math
import os
import sys

import flatbuffers
import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema

sys.path.insert(0, os.path.dirname(__file__))
from gen_fc_golden import ACT, base_model, quant  # noqa: E402  (the same model recipe)
from tflite_micro.python.tflite_micro import runtime as tflm  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "litert_fc_golden.json")
RESOLVERS = {
    "reference": tf.lite.experimental.OpResolverType.BUILTIN_REF,
    "optimized": tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    "xnnpack": tf.lite.experimental.OpResolverType.BUILTIN,
}

# ---------------------------------------------------------------------------
# The candidate arithmetics, replayed exactly with Python integers / floats.


def rhaz(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def quantize_multiplier(m):
    """TFLite QuantizeMultiplier (frexp, RHAZ to Q31, 2^31 carry, flush)."""
    if m == 0:
        return (0, 0)
    f, e = math.frexp(m)
    q = rhaz(f * 2**31)
    if q == 2**31:
        q //= 2
        e += 1
    if e < -31:
        return (0, 0)
    return (q, e)


def srdhm(a, b):
    if a == b == -(2**31):
        return 2**31 - 1
    return (a * b + 2**30) >> 31


def wrap32(x):
    return (x + 2**31) % 2**32 - 2**31


def rdbpot(x, e):  # ties away from zero
    if e == 0:
        return x
    mask = (1 << e) - 1
    return (x >> e) + ((x & mask) > ((mask >> 1) + (x < 0)))


def rshift_up(x, e):  # vrshl by -e: ties up
    return x if e == 0 else (x + (1 << (e - 1))) >> e


def double_rounding(acc, q, sh):  # TFLM / CMSIS-NN
    left, right = max(sh, 0), max(-sh, 0)
    return rdbpot(srdhm(wrap32(acc << left), q), right)


def litert_optimized(acc, q, sh):  # SRDHM, then a rounding shift with ties up
    left, right = max(sh, 0), max(-sh, 0)
    return rshift_up(srdhm(wrap32(acc << left), q), right)


def single_rounding(acc, q, sh):  # TFLITE_SINGLE_ROUNDING
    t = 31 - sh
    return wrap32((acc * q + (1 << (t - 1))) >> t)


def f64_rhaz(acc, real):  # LiteRT reference FC: round((double)acc * real)
    v = rhaz(float(acc) * real)
    return max(min(v, 2**31 - 1), -(2**31))


def f32_rne(acc, scale32):  # XNNPACK fp32 / ONNX Runtime: f32 multiply, ties to even
    v = np.float32(np.float32(acc) * np.float32(scale32))
    return int(np.rint(v))


def reals(s_in, s_w, s_out, per_channel=False):
    """The scale compositions a runtime may use for M = s_in * s_w / s_out:
    all in f64; the product rounded to f32 first (TFLite's per-tensor
    `GetQuantizedConvolutionMultipler`); all in f32; and "tflite_source",
    what TFLite's sources do (f32 product per tensor, f64 per channel)."""
    s_in, s_w, s_out = np.float32(s_in), np.float32(s_w), np.float32(s_out)
    r = {
        "f64": float(s_in) * float(s_w) / float(s_out),
        "f32_product": float(np.float32(s_in * s_w)) / float(s_out),
        "f32": float(np.float32(np.float32(s_in * s_w) / s_out)),
    }
    r["tflite_source"] = r["f64"] if per_channel else r["f32_product"]
    return r


def candidates(acc, s_in, s_w, s_out, per_channel=False):
    """Every candidate's value of the requantized accumulator (before zp)."""
    out = {}
    for comp, real in reals(s_in, s_w, s_out, per_channel).items():
        q, sh = quantize_multiplier(real)
        sh1 = min(sh, 30)
        out[f"double/{comp}"] = double_rounding(acc, q, sh)
        out[f"litert_optimized/{comp}"] = litert_optimized(acc, q, sh)
        out[f"single/{comp}"] = single_rounding(acc, q, sh1)
        out[f"litert_reference/{comp}"] = f64_rhaz(acc, real)
        out[f"float32/{comp}"] = f32_rne(acc, np.float32(real))
    return out


# ---------------------------------------------------------------------------
# Cases.


def discriminating_accs(s_in, s_w, s_out, lim, count, rng):
    """Accumulators on which the four main candidates (all-f64 scale) do not
    all agree, preferring those that separate the most of them."""
    scored = []
    for acc in range(-lim, lim + 1):
        c = candidates(acc, s_in, s_w, s_out)
        vals = {c["double/f64"], c["litert_optimized/f64"], c["single/f64"], c["litert_reference/f64"]}
        if len(vals) > 1:
            scored.append((len(vals), acc))
    rng.shuffle(scored)
    scored.sort(key=lambda t: -t[0])
    return [a for _, a in scored[:count]]


def power_of_two_scales(rng):
    """Scales whose product is a power of two: the first rounding is exact,
    so only the tie rule of the second one shows (double vs optimized)."""
    s_in = np.float32(2.0 ** -int(rng.integers(3, 7)))
    s_w = np.float32(2.0 ** -int(rng.integers(4, 9)))
    s_out = np.float32(s_in * s_w * 2.0 ** int(rng.integers(2, 6)))
    return float(s_in), float(s_w), float(s_out)


def random_scales(rng):
    s_in = float(np.float32(10 ** rng.uniform(-2.5, -1)))
    s_w = float(np.float32(10 ** rng.uniform(-3.5, -2)))
    s_out = float(np.float32(10 ** rng.uniform(-2.5, -0.5)))
    return s_in, s_w, s_out


def targeted(name, per_channel, bias, activation, out_dim, batch, rng, pow2=False, zp_in=0, zp_out=0):
    """in_dim 2: acc[b, o] = w[o]·(x[b] - zp_in) + bias[o], with the
    accumulators picked from each channel's discriminating set."""
    in_dim = 2
    n_scales = out_dim if per_channel else 1
    if pow2:
        s_in, s_w0, s_out = power_of_two_scales(rng)
        s_w = [s_w0 * float(2.0 ** -int(rng.integers(0, 2))) for _ in range(n_scales)]
    else:
        s_in, s_w0, s_out = random_scales(rng)
        s_w = [float(np.float32(s_w0 * rng.uniform(0.5, 2.0))) for _ in range(n_scales)]
    # The input rows: x - zp_in = (d0, d1) per row; weights (w0, w1) per channel.
    w = rng.integers(-127, 128, size=(out_dim, in_dim))
    x = np.clip(zp_in + rng.integers(-60, 61, size=(batch, in_dim)), -128, 127)
    b = np.zeros(out_dim, dtype=np.int64)
    for o in range(out_dim):
        sw = s_w[o if per_channel else 0]
        real = float(np.float32(s_in)) * float(np.float32(sw)) / float(np.float32(s_out))
        lim = int(min(120 / real, 2**24))
        accs = discriminating_accs(s_in, sw, s_out, min(lim, 20000), 1, rng)
        if not accs:
            continue
        dot0 = int(np.dot(w[o], x[0] - zp_in))
        b[o] = accs[0] - dot0  # row 0 lands exactly on a discriminating value
    return dict(name=name, per_channel=per_channel, bias=bias, activation=activation, in_dim=in_dim,
                out_dim=out_dim, batch=batch, input_scale=s_in, input_zero_point=zp_in,
                output_scale=s_out, output_zero_point=zp_out, filter_scales=s_w,
                weights=w.reshape(-1), input=x.reshape(-1), bias_values=b if bias else None)


def wide_search(name, per_channel, out_dim, rng, activation="NONE", zp_in=0, zp_out=0):
    """Wide shapes whose biases are chosen per channel so that batch row 0
    hits a discriminating accumulator; the other rows are random."""
    c = targeted(name, per_channel, True, activation, out_dim, 3, rng, zp_in=zp_in, zp_out=zp_out)
    in_dim = 37
    w = rng.integers(-127, 128, size=(out_dim, in_dim))
    x = np.clip(zp_in + rng.integers(-30, 31, size=(3, in_dim)), -128, 127)
    b = np.zeros(out_dim, dtype=np.int64)
    for o in range(out_dim):
        sw = c["filter_scales"][o if per_channel else 0]
        accs = discriminating_accs(c["input_scale"], sw, c["output_scale"], 20000, 1, rng)
        b[o] = (accs[0] if accs else 0) - int(np.dot(w[o], x[0] - zp_in))
    c.update(in_dim=in_dim, weights=w.reshape(-1), input=x.reshape(-1), bias_values=b)
    return c


def composition_accs(family, s_in, s_w, s_out):
    """Accumulators on which `family` gives different outputs for the three
    scale compositions: they sit next to an output's rounding boundary
    h / M (h a half-integer), so only those are tried."""
    rs = reals(s_in, s_w, s_out)
    del rs["tflite_source"]
    found = []
    for h2 in range(-255, 256, 2):
        centre = (h2 / 2) / rs["f64"]
        for acc in range(int(centre) - 2, int(centre) + 3):
            if abs(acc) >= 2**31 - 2**20:
                continue
            c = candidates(acc, s_in, s_w, s_out)
            if len({c[f"{family}/{k}"] for k in rs}) > 1:
                found.append(acc)
    return found


def composition_probe(name, family, per_channel, out_dim, rng):
    """Scales and accumulators that tell the compositions of M apart for one
    candidate family (the all-f64 product, the f32 product then f64, all f32)."""
    while True:
        s_in = float(np.float32(10 ** rng.uniform(-3, -1.5)))
        s_out = float(np.float32(10 ** rng.uniform(-2, -0.5)))
        n_scales = out_dim if per_channel else 1
        s_w, targets = [], []
        for _ in range(n_scales):
            for _ in range(200):
                sw = float(np.float32(10 ** rng.uniform(-6, -4)))
                accs = composition_accs(family, s_in, sw, s_out)
                if accs:
                    break
            s_w.append(sw)
            targets.append(accs)
        if all(targets) and (per_channel or len(targets[0]) >= 2):
            break
    w = rng.integers(-127, 128, size=(out_dim, 2))
    x = rng.integers(-60, 61, size=(1, 2))
    b = np.zeros(out_dim, dtype=np.int64)
    for o in range(out_dim):
        t = targets[o if per_channel else 0]
        b[o] = t[o % len(t)] - int(np.dot(w[o], x[0]))
    return dict(name=name, per_channel=per_channel, bias=True, activation="NONE", in_dim=2,
                out_dim=out_dim, batch=1, input_scale=s_in, input_zero_point=0,
                output_scale=s_out, output_zero_point=0, filter_scales=s_w,
                weights=w.reshape(-1), input=x.reshape(-1), bias_values=b)


def multiplier_ge_1(name, per_channel, rng):
    """M = s_in * s_w / s_out in [1, 8): the optimized kernels shift the
    accumulator left before SRDHM (no right shift left to round). Small
    accumulators keep acc << L inside int32 (TFLite leaves overflow there
    undefined)."""
    out_dim, in_dim, batch = 8, 4, 2
    s_in = float(np.float32(0.5))
    n_scales = out_dim if per_channel else 1
    s_w = [float(np.float32(10 ** rng.uniform(-2.5, -2))) for _ in range(n_scales)]
    s_out = float(np.float32(s_in * s_w[0] / rng.uniform(1.0, 8.0)))
    w = rng.integers(-3, 4, size=out_dim * in_dim)
    x = rng.integers(-4, 5, size=batch * in_dim)
    b = rng.integers(-20, 21, size=out_dim)
    return dict(name=name, per_channel=per_channel, bias=True, activation="NONE", in_dim=in_dim,
                out_dim=out_dim, batch=batch, input_scale=s_in, input_zero_point=0,
                output_scale=s_out, output_zero_point=int(rng.integers(-10, 11)), filter_scales=s_w,
                weights=w, input=x, bias_values=b)


def random_case(name, per_channel, bias, activation, in_dim, out_dim, batch, rng, zp_in, zp_out):
    s_in, s_w0, s_out = random_scales(rng)
    n_scales = out_dim if per_channel else 1
    s_w = [float(np.float32(s_w0 * rng.uniform(0.5, 2.0))) for _ in range(n_scales)]
    w = rng.integers(-127, 128, size=out_dim * in_dim)
    x = rng.integers(-128, 128, size=batch * in_dim)
    b = rng.integers(-20000, 20001, size=out_dim) if bias else None
    return dict(name=name, per_channel=per_channel, bias=bias, activation=activation, in_dim=in_dim,
                out_dim=out_dim, batch=batch, input_scale=s_in, input_zero_point=zp_in,
                output_scale=s_out, output_zero_point=zp_out, filter_scales=s_w,
                weights=w, input=x, bias_values=b)


def cases(rng):
    out = []
    for i in range(4):
        out.append(targeted(f"pow2_ties_per_tensor_{i}", False, True, "NONE", 12, 1, rng, pow2=True))
    for i in range(4):
        out.append(targeted(f"pow2_ties_per_channel_{i}", True, True, "NONE", 12, 1, rng, pow2=True,
                            zp_out=int(rng.integers(-5, 6))))
    for i in range(6):
        out.append(targeted(f"targeted_per_tensor_{i}", False, True, "NONE", 16, 2, rng,
                            zp_in=int(rng.integers(-20, 21)), zp_out=int(rng.integers(-10, 11))))
    for i in range(6):
        out.append(targeted(f"targeted_per_channel_{i}", True, True, "NONE", 16, 2, rng,
                            zp_in=int(rng.integers(-20, 21)), zp_out=int(rng.integers(-10, 11))))
    out.append(targeted("targeted_per_channel_relu", True, True, "RELU", 16, 2, rng, zp_out=-20))
    out.append(targeted("targeted_per_tensor_relu6", False, True, "RELU6", 16, 2, rng, zp_out=-100))
    out.append(wide_search("wide_per_tensor", False, 24, rng, zp_in=7, zp_out=-3))
    out.append(wide_search("wide_per_channel_relu", True, 24, rng, activation="RELU", zp_in=-9, zp_out=2))
    for fam in ("double", "litert_optimized", "litert_reference", "float32"):
        out.append(composition_probe(f"composition_{fam}_per_tensor", fam, False, 8, rng))
        out.append(composition_probe(f"composition_{fam}_per_channel", fam, True, 8, rng))
    out.append(multiplier_ge_1("multiplier_ge_1_per_tensor", False, rng))
    out.append(multiplier_ge_1("multiplier_ge_1_per_channel", True, rng))
    out.append(random_case("random_per_tensor_nobias", False, False, "NONE", 64, 16, 3, rng, -3, 5))
    out.append(random_case("random_per_tensor_bias_relu", False, True, "RELU", 33, 9, 2, rng, 11, -60))
    out.append(random_case("random_per_channel_bias", True, True, "NONE", 129, 11, 2, rng, 40, 12))
    out.append(random_case("random_per_channel_nobias_relu6", True, False, "RELU6", 48, 8, 2, rng, -7, -100))
    return out


# ---------------------------------------------------------------------------
# Building and running the models.


def build_model(c):
    buf = base_model(c["in_dim"], c["out_dim"], c["bias"], c["per_channel"])
    m = schema.ModelT.InitFromPackedBuf(buf, 0)
    sg = m.subgraphs[0]
    assert len(sg.operators) == 1, "expected a lone FULLY_CONNECTED"
    op = sg.operators[0]
    t_in, t_w, t_out = sg.tensors[op.inputs[0]], sg.tensors[op.inputs[1]], sg.tensors[op.outputs[0]]
    n_scales = len(c["filter_scales"])
    t_in.quantization = quant([c["input_scale"]], [c["input_zero_point"]])
    t_out.quantization = quant([c["output_scale"]], [c["output_zero_point"]])
    t_w.quantization = quant(c["filter_scales"], [0] * n_scales, 0)
    t_in.shape = np.array([c["batch"], c["in_dim"]], dtype=np.int32)
    t_in.shapeSignature = None
    t_out.shape = np.array([c["batch"], c["out_dim"]], dtype=np.int32)
    t_out.shapeSignature = None
    m.buffers[t_w.buffer].data = np.asarray(c["weights"]).astype(np.int8).view(np.uint8)
    if c["bias"]:
        t_b = sg.tensors[op.inputs[2]]
        bias_scales = [np.float32(c["input_scale"]) * np.float32(s) for s in c["filter_scales"]]
        t_b.quantization = quant(bias_scales, [0] * n_scales, 0)
        m.buffers[t_b.buffer].data = np.asarray(c["bias_values"]).astype(np.int32).view(np.uint8)
    op.builtinOptions.fusedActivationFunction = ACT[c["activation"]]
    builder = flatbuffers.Builder(0)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def run_litert(model, x, resolver):
    it = tf.lite.Interpreter(model_content=model, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"]).reshape(-1)


def run_tflm(model, x):
    it = tflm.Interpreter.from_bytes(model)
    it.set_input(x, 0)
    it.invoke()
    return it.get_output(0).reshape(-1)


def activation_range(act, s_out, zp_out):
    def q(f):
        return zp_out + rhaz(float(np.float32(np.float32(f) / np.float32(s_out))))
    lo, hi = -128, 127
    if act in ("RELU", "RELU6"):
        lo = max(lo, q(0.0))
    if act == "RELU6":
        hi = min(hi, q(6.0))
    return lo, hi


def main():
    rng = np.random.default_rng(20261201)
    out_cases = []
    # candidate -> resolver -> [matching elements, total]
    score = {}
    for c in cases(rng):
        model = build_model(c)
        x = np.asarray(c["input"]).astype(np.int8).reshape(c["batch"], c["in_dim"])
        outs = {k: run_litert(model, x, r) for k, r in RESOLVERS.items()}
        outs["tflm"] = run_tflm(model, x)
        # Accumulators and candidates, then the score of every candidate.
        w = np.asarray(c["weights"], dtype=np.int64).reshape(c["out_dim"], c["in_dim"])
        xi = x.astype(np.int64) - c["input_zero_point"]
        acc = xi @ w.T
        if c["bias"]:
            acc = acc + np.asarray(c["bias_values"], dtype=np.int64)
        lo, hi = activation_range(c["activation"], c["output_scale"], c["output_zero_point"])
        differing = 0
        for bi in range(c["batch"]):
            for o in range(c["out_dim"]):
                sw = c["filter_scales"][o if c["per_channel"] else 0]
                cand = candidates(int(acc[bi, o]), c["input_scale"], sw, c["output_scale"], c["per_channel"])
                ys = {k: min(max(v + c["output_zero_point"], lo), hi) for k, v in cand.items()}
                if len({ys["double/f64"], ys["litert_optimized/f64"], ys["single/f64"],
                        ys["litert_reference/f64"]}) > 1:
                    differing += 1
                for k, y in ys.items():
                    for r, o_r in outs.items():
                        s = score.setdefault(k, {}).setdefault(r, [0, 0])
                        s[0] += int(y == int(o_r[bi * c["out_dim"] + o]))
                        s[1] += 1
        case = {
            "name": c["name"], "per_channel": c["per_channel"], "batch": c["batch"],
            "in_dim": c["in_dim"], "out_dim": c["out_dim"],
            "input_scale": float(np.float32(c["input_scale"])), "input_zero_point": c["input_zero_point"],
            "filter_scales": [float(np.float32(s)) for s in c["filter_scales"]],
            "output_scale": float(np.float32(c["output_scale"])), "output_zero_point": c["output_zero_point"],
            "activation": c["activation"],
            "weights": [int(v) for v in np.asarray(c["weights"]).reshape(-1)],
            "bias": [int(v) for v in c["bias_values"]] if c["bias"] else None,
            "input": [int(v) for v in x.reshape(-1)],
            "elements_where_modes_differ": differing,
        }
        for r, o_r in outs.items():
            case["output_" + r] = [int(v) for v in o_r]
        out_cases.append(case)
    verdict = {}
    for r in list(RESOLVERS) + ["tflm"]:
        exact = sorted(k for k, v in score.items() if v[r][0] == v[r][1])
        verdict[r] = exact
        print(f"{r:10s}: reproduced exactly by {exact}")
        near = sorted(((v[r][1] - v[r][0], k) for k, v in score.items()))[:6]
        print("            mismatching elements per candidate:", near)
    total = sum(c["elements_where_modes_differ"] for c in out_cases)
    n = sum(c["batch"] * c["out_dim"] for c in out_cases)
    print(f"{total} of {n} elements separate double / optimized / single / reference")
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/gen_litert_golden.py", "tensorflow": tf.__version__,
                   "resolvers": {"reference": "BUILTIN_REF",
                                 "optimized": "BUILTIN_WITHOUT_DEFAULT_DELEGATES",
                                 "xnnpack": "BUILTIN (default XNNPACK delegate)",
                                 "tflm": "tflite-micro python runtime (default build)"},
                   "verdict": verdict, "cases": out_cases}, f, separators=(",", ":"))
    print("wrote", len(out_cases), "cases to", OUT)


if __name__ == "__main__":
    main()
