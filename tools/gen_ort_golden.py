#!/usr/bin/env python3
"""Golden QLinearMatMul / MatMulInteger vectors from ONNX Runtime (CPU EP).

Run:  python tools/gen_ort_golden.py               (offline once installed)
      python tools/gen_ort_golden.py --avx2-under-qemu
Needs: onnxruntime (1.32 used), onnx, numpy; for the second form also
       qemu-x86_64 (Debian's qemu-user).
Writes: tests/data/ort_matmul_golden.json, read by tests/ort_golden.rs.

ORT 1.32's CPU EP implements QLinearMatMul for (A, B, Y) = (u8, u8, u8),
(u8, i8, u8), (i8, i8, i8) only (others: NOT_IMPLEMENTED), MatMulInteger for
all four A x B pairs; the cases cover exactly those.

Cases: A uint8 / int8, B uint8 / int8 stored [K][N] as ONNX does, per-tensor
and per-column B scales and zero points, odd shapes (M, K, N = 1, odd,
> 64), outputs that saturate at both ends, QLinearMatMul with uint8 / int8
output and MatMulInteger (int32). Every case also records the exact result
computed here with Python integers (MatMulInteger) or with ORT's documented
float formula on the exact accumulator (QLinearMatMul), and whether ORT
matched it.

Which MLAS kernel runs depends on the CPU. On this machine (AVX-512 VNNI)
u8 x s8 uses `vpdpbusd`, exact. On an AVX2 machine without VNNI, MLAS's
u8 x s8 kernel uses `vpmaddubsw`, whose int16 pair sums saturate, so ORT is
not ground truth there. `--avx2-under-qemu` re-runs every case in ORT under
`qemu-x86_64 -cpu Haswell` (AVX2, no AVX-512, no VNNI) and stores those
outputs beside the native ones ("output_avx2"), so the cases that differ are
named in the data rather than guessed.
"""
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "ort_matmul_golden.json")
NP = {"u8": np.uint8, "i8": np.int8, "i32": np.int32}
TP = {"u8": TensorProto.UINT8, "i8": TensorProto.INT8, "i32": TensorProto.INT32}
RANGE = {"u8": (0, 255), "i8": (-128, 127)}


def ort_output_scale(a_s, b_s, y_s):
    """ORT's QLinearMatMul output scale: a_scale * b_scale / y_scale in f32,
    evaluated left to right (two f32 roundings)."""
    return np.float32(np.float32(np.float32(a_s) * np.float32(b_s)) / np.float32(y_s))


def model(c):
    m_, k, n = c["m"], c["k"], c["n"]
    per_col = c["per_column"]
    b = np.asarray(c["b"], dtype=NP[c["b_type"]]).reshape(k, n)
    shape_zb = [n] if per_col else []
    inits = [helper.make_tensor("b", TP[c["b_type"]], [k, n], b.reshape(-1).tolist())]
    if c["op"] == "QLinearMatMul":
        inits += [
            helper.make_tensor("a_scale", TensorProto.FLOAT, [], [c["a_scale"]]),
            helper.make_tensor("a_zero_point", TP[c["a_type"]], [], [c["a_zero_point"]]),
            helper.make_tensor("b_scale", TensorProto.FLOAT, shape_zb, c["b_scales"]),
            helper.make_tensor("b_zero_point", TP[c["b_type"]], shape_zb, c["b_zero_points"]),
            helper.make_tensor("y_scale", TensorProto.FLOAT, [], [c["y_scale"]]),
            helper.make_tensor("y_zero_point", TP[c["y_type"]], [], [c["y_zero_point"]]),
        ]
        node = helper.make_node("QLinearMatMul", ["a", "a_scale", "a_zero_point", "b", "b_scale",
                                                  "b_zero_point", "y_scale", "y_zero_point"], ["y"])
        y_type = c["y_type"]
    else:
        inits += [
            helper.make_tensor("a_zero_point", TP[c["a_type"]], [], [c["a_zero_point"]]),
            helper.make_tensor("b_zero_point", TP[c["b_type"]], shape_zb, c["b_zero_points"]),
        ]
        node = helper.make_node("MatMulInteger", ["a", "b", "a_zero_point", "b_zero_point"], ["y"])
        y_type = "i32"
    g = helper.make_graph([node], c["name"],
                          [helper.make_tensor_value_info("a", TP[c["a_type"]], [m_, k])],
                          [helper.make_tensor_value_info("y", TP[y_type], [m_, n])], inits)
    mo = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    mo.ir_version = 10
    onnx.checker.check_model(mo)
    return mo.SerializeToString()


def run(c):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    s = ort.InferenceSession(model(c), so, providers=["CPUExecutionProvider"])
    a = np.asarray(c["a"], dtype=NP[c["a_type"]]).reshape(c["m"], c["k"])
    return s.run(None, {"a": a})[0].reshape(-1)


def exact(c):
    """Exact int64 accumulators, then ORT's f32 requantization on them."""
    a = np.asarray(c["a"], dtype=np.int64).reshape(c["m"], c["k"]) - c["a_zero_point"]
    b = np.asarray(c["b"], dtype=np.int64).reshape(c["k"], c["n"])
    zb = np.asarray(c["b_zero_points"], dtype=np.int64)
    acc = a @ (b - zb)
    assert np.all(np.abs(acc) < 2**31)
    return requantize(c, acc)


def requantize(c, acc):
    """MatMulInteger: the accumulators; QLinearMatMul: MlasRequantizeOutput."""
    if c["op"] == "MatMulInteger":
        return acc.reshape(-1)
    lo, hi = RANGE[c["y_type"]]
    zp = c["y_zero_point"]
    scales = [ort_output_scale(c["a_scale"], s, c["y_scale"]) for s in c["b_scales"]]
    out = np.empty_like(acc)
    for j in range(c["n"]):
        s = scales[j if c["per_column"] else 0]
        v = acc[:, j].astype(np.float32) * s
        v = np.clip(v, np.float32(lo - zp), np.float32(hi - zp))
        out[:, j] = np.rint(v).astype(np.int64) + zp
    return out.reshape(-1)


def avx2_u8s8_model(c):
    """ORT's u8 x s8 kernel without VNNI: `vpmaddubsw` on the raw values,
    each pair of adjacent products along K saturated to int16, then the zero
    points folded in with row / column sums; then the usual f32 output stage."""
    a = np.asarray(c["a"], dtype=np.int64).reshape(c["m"], c["k"])
    b = np.asarray(c["b"], dtype=np.int64).reshape(c["k"], c["n"])
    kp = c["k"] + c["k"] % 2
    ap = np.zeros((c["m"], kp), dtype=np.int64)
    ap[:, :c["k"]] = a
    bp = np.zeros((kp, c["n"]), dtype=np.int64)
    bp[:c["k"]] = b
    raw = sum(np.clip(np.outer(ap[:, i], bp[i]) + np.outer(ap[:, i + 1], bp[i + 1]), -32768, 32767)
              for i in range(0, kp, 2))
    za, zb = c["a_zero_point"], np.asarray(c["b_zero_points"], dtype=np.int64)
    acc = raw - np.outer(a.sum(1), zb if c["per_column"] else zb * np.ones(c["n"], dtype=np.int64)) \
        - za * b.sum(0) + c["k"] * za * zb
    return requantize(c, acc)


def make_case(rng, name, op, a_type, b_type, y_type, m, k, n, per_column, extreme=False,
              y_scale_factor=1.0):
    lo_a, hi_a = RANGE[a_type]
    lo_b, hi_b = RANGE[b_type]
    if extreme:
        # Operands at the ends of their ranges: u8 x s8 pairs of 255 * ±127
        # (and ±128) are exactly where vpmaddubsw's int16 pair sums saturate.
        a = rng.choice([lo_a, hi_a, hi_a - 1], size=m * k)
        b = rng.choice([lo_b, hi_b, lo_b + 1], size=k * n)
    else:
        a = rng.integers(lo_a, hi_a + 1, size=m * k)
        b = rng.integers(lo_b, hi_b + 1, size=k * n)
    n_zb = n if per_column else 1
    a_zp = int(rng.integers(lo_a, hi_a + 1))
    b_zps = [int(v) for v in rng.integers(lo_b, hi_b + 1, size=n_zb)]
    if extreme:
        a_zp = int(lo_a + (hi_a - lo_a) // 2 * 0)  # zero point at the range's low end or 0
        b_zps = [0] * n_zb if b_type == "i8" else [128] * n_zb
    c = dict(name=name, op=op, a_type=a_type, b_type=b_type, m=m, k=k, n=n, per_column=per_column,
             a=[int(v) for v in a], b=[int(v) for v in b], a_zero_point=a_zp, b_zero_points=b_zps)
    if op == "QLinearMatMul":
        a_s = float(np.float32(10 ** rng.uniform(-3, -1)))
        b_s = [float(np.float32(10 ** rng.uniform(-3, -1))) for _ in range(n_zb)]
        # y_scale so that the typical |acc| maps to about 100 steps, times a factor
        # (< 1 saturates).
        typical = (hi_a - lo_a) * (hi_b - lo_b) * np.sqrt(k) / 6
        y_s = float(np.float32(a_s * float(np.median(b_s)) * typical / 100 * y_scale_factor))
        lo_y, hi_y = RANGE[y_type]
        c.update(y_type=y_type, a_scale=a_s, b_scales=b_s, y_scale=y_s,
                 y_zero_point=int(rng.integers(lo_y, hi_y + 1)))
    else:
        c.update(y_type="i32")
    return c


def scale_probe(rng, name, a_type, per_column):
    """QLinearMatMul cases whose outputs tell ORT's output scale
    f32(f32(a_s*b_s)/y_s) apart from the other compositions (all-f64 then
    f32; f32(a_s*f32(b_s/y_s))): accumulators are placed next to a rounding
    boundary where the compositions round differently. K = 2 and every B
    column is (e1, 1), so row m gets acc = e1*d1 + d2 for any target."""
    e1 = 255 if a_type == "u8" else 127
    za = 128 if a_type == "u8" else 0
    lo_y, hi_y = RANGE[a_type]
    n = 4 if per_column else 1
    while True:
        a_s, y_s = [np.float32(10 ** rng.uniform(-3, -1)) for _ in range(2)]
        b_scales, rows = [], []
        for _ in range(n):
            for _ in range(2000):
                b_s = np.float32(10 ** rng.uniform(-3, -1))
                sc = ort_output_scale(a_s, b_s, y_s)
                alts = [np.float32(float(a_s) * float(b_s) / float(y_s)), np.float32(a_s * np.float32(b_s / y_s))]
                if all(x == sc for x in alts) or not 0.002 < sc < 0.02:
                    continue
                targets = [t for h in range(-120, 121) for t in range(int((h + 0.5) / float(sc)) - 3,
                                                                         int((h + 0.5) / float(sc)) + 4)
                           if abs(t) <= e1 * 127 + 127
                           and len({int(np.rint(np.float32(t) * x)) for x in [sc] + alts}) > 1]
                if len(targets) >= 3:
                    b_scales.append(float(b_s))
                    rows += targets[:8]
                    break
        if len(b_scales) == n:
            break
    a = []
    for t in rows:
        d1 = int(round(t / e1))
        a += [d1 + za, t - e1 * d1 + za]
    return dict(name=name, op="QLinearMatMul", a_type=a_type, b_type=a_type, y_type=a_type, m=len(rows), k=2,
                n=n, per_column=per_column, a=a, b=[e1] * n + [1] * n, a_zero_point=za,
                b_zero_points=[0] * n if per_column else [0], a_scale=float(a_s), b_scales=b_scales,
                y_scale=float(y_s), y_zero_point=(lo_y + hi_y + 1) // 2)


def cases(rng):
    out = []
    shapes = [(1, 1, 1), (1, 33, 17), (3, 7, 5), (5, 300, 9), (2, 64, 70), (4, 129, 3)]
    types = [("u8", "u8"), ("u8", "i8"), ("i8", "i8"), ("i8", "u8")]
    for at, bt in types:
        for per_col in (False, True):
            for i, (m, k, n) in enumerate(shapes):
                out.append(make_case(rng, f"matmulinteger_{at}{bt}_{'col' if per_col else 'tensor'}_{m}x{k}x{n}",
                                     "MatMulInteger", at, bt, None, m, k, n, per_col))
            if (at, bt) == ("i8", "u8"):
                continue  # ORT registers QLinearMatMul for u8u8, u8i8, i8i8 only
            for yt in (at,):  # ... and with the output type of A
                for i, (m, k, n) in enumerate(shapes):
                    out.append(make_case(rng, f"qlinear_{at}{bt}{yt}_{'col' if per_col else 'tensor'}_{m}x{k}x{n}",
                                         "QLinearMatMul", at, bt, yt, m, k, n, per_col))
                out.append(make_case(rng, f"qlinear_{at}{bt}{yt}_{'col' if per_col else 'tensor'}_saturating",
                                     "QLinearMatMul", at, bt, yt, 3, 40, 11, per_col, y_scale_factor=0.05))
        out.append(make_case(rng, f"matmulinteger_{at}{bt}_extreme_pairs", "MatMulInteger", at, bt, None,
                             4, 64, 8, False, extreme=True))
        if (at, bt) != ("i8", "u8"):
            out.append(make_case(rng, f"qlinear_{at}{bt}{at}_extreme_pairs", "QLinearMatMul", at, bt, at,
                                 4, 64, 8, False, extreme=True))
    for at in ("u8", "i8"):
        for per_col in (False, True):
            out.append(scale_probe(rng, f"qlinear_scale_probe_{at}_{'col' if per_col else 'tensor'}", at, per_col))
    return out


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--run-cases":
        # Child mode (under qemu): read cases from stdin, print ORT's outputs.
        cs = json.load(sys.stdin)
        res = {}
        for c in cs:
            try:
                res[c["name"]] = [int(v) for v in run(c)]
            except Exception as e:  # noqa: BLE001 - recorded, not hidden
                res[c["name"]] = str(e)
        json.dump(res, sys.stdout)
        return
    rng = np.random.default_rng(20261201)
    out = []
    for c in cases(rng):
        try:
            y = run(c)
        except Exception as e:  # noqa: BLE001 - an unsupported type combination
            print(f"{c['name']}: ORT refuses: {str(e).splitlines()[0][:160]}")
            continue
        ex = exact(c)
        c["output"] = [int(v) for v in y]
        c["exact"] = bool(np.array_equal(y.astype(np.int64), ex))
        if not c["exact"]:
            print(f"{c['name']}: ORT differs from the exact result on {int(np.sum(y != ex))} elements")
        out.append(c)
    if "--avx2-under-qemu" in sys.argv:
        env = dict(os.environ, OMP_NUM_THREADS="1")
        p = subprocess.run(["qemu-x86_64", "-cpu", "Haswell", sys.executable, os.path.abspath(__file__),
                            "--run-cases"], input=json.dumps(out), capture_output=True, text=True, env=env,
                           check=True)
        res = json.loads(p.stdout)
        explained = True
        for c in out:
            r = res[c["name"]]
            c["output_avx2"] = r
            if r != c["output"]:
                diff = sum(1 for u, v in zip(r, c["output"]) if u != v) if isinstance(r, list) else "all"
                model_ok = (c["a_type"], c["b_type"]) == ("u8", "i8") and \
                    [int(v) for v in avx2_u8s8_model(c)] == r
                explained &= model_ok
                print(f"{c['name']}: AVX2 (qemu Haswell) differs from the exact result on {diff} elements;"
                      f" the vpmaddubsw pair-saturation model reproduces it: {model_ok}")
        print("every AVX2 difference explained by int16 pair saturation of u8 x s8:", explained)
    meta = {"generator": "tools/gen_ort_golden.py", "onnxruntime": ort.__version__, "onnx": onnx.__version__,
            "machine": "native outputs: x86-64 with AVX-512 VNNI; output_avx2: ORT under qemu-x86_64 -cpu Haswell",
            "cases": out}
    with open(OUT, "w") as f:
        json.dump(meta, f, separators=(",", ":"))
    print("wrote", len(out), "cases to", OUT, "; all exact:", all(c["exact"] for c in out))


if __name__ == "__main__":
    main()
