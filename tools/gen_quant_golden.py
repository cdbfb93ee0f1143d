#!/usr/bin/env python3
"""Golden vectors for qkit's quantizers, produced by the real runtimes.

Run (offline, from the repository root):

    /opt/qkit-venv/bin/python tools/gen_quant_golden.py
    # or: PYTHONPATH=/path/to/gguf-py python tools/gen_quant_golden.py

Needs: numpy, ml_dtypes, onnx, onnxruntime (1.32 used), tensorflow-cpu (2.21,
for tf.lite's flatbuffer schema and its BUILTIN_REF interpreter), tflite-micro
(`tflite_micro.python.tflite_micro.runtime`), flatbuffers, and the `gguf`
package (gguf-py, ggml's own numpy port of the reference Q8_0 / Q4_0
quantizers, documented as bit-exact with ggml-quants.c).

Writes tests/data/quant_{tflite,onnx,ggml}.json. Every float is stored as its
IEEE-754 bit pattern (u32 for f32, u16 for f16) so NaN, infinities and exact
ties survive JSON unchanged. Tests read these files and never need Python.
"""
import json
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
rng = np.random.default_rng(20261127)


def f32_bits(a):
    return np.asarray(a, dtype=np.float32).reshape(-1).view(np.uint32).tolist()


def ints(a):
    return np.asarray(a).reshape(-1).astype(np.int64).tolist()


# ---------------------------------------------------------------- inputs
def ties(scale, zp, qmin, qmax):
    """Every exact half-step of the representable range and a little beyond."""
    ks = np.arange(qmin - zp - 3, qmax - zp + 3, dtype=np.float64)
    vals = np.concatenate([ks, ks + 0.5]) * scale
    return vals.astype(np.float32)


def test_inputs(scale, zp, qmin, qmax, n_random=64, extreme=True):
    span = (qmax - qmin) * scale
    xs = [
        ties(scale, zp, qmin, qmax) if (qmax - qmin) <= 256 else
        ties(scale, zp, -40 + zp, 40 + zp),
        rng.uniform(-span, span, n_random).astype(np.float32),
        np.array([0.0, -0.0, 1e-30, -1e-30, span * 4, -span * 4], np.float32),
        # values one ulp either side of a tie
        np.nextafter(np.float32(2.5 * scale), np.float32(0)) * np.ones(1, np.float32),
        np.nextafter(np.float32(2.5 * scale), np.float32(10)) * np.ones(1, np.float32),
        np.nextafter(np.float32(-2.5 * scale), np.float32(0)) * np.ones(1, np.float32),
    ]
    if extreme:
        xs.append(np.array([3e38, -3e38, np.inf, -np.inf, np.nan], np.float32))
    return np.concatenate(xs).astype(np.float32)


# ---------------------------------------------------------------- TFLite / TFLM
def tflite_model(in_type, out_type, n, scale, zp):
    """A one-op model: QUANTIZE (float -> int) or DEQUANTIZE (int -> float)."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as fb

    op_code = fb.BuiltinOperator.QUANTIZE if in_type == fb.TensorType.FLOAT32 else fb.BuiltinOperator.DEQUANTIZE
    model = fb.ModelT()
    model.version = 3
    model.description = b"qkit golden"
    model.buffers = [fb.BufferT(), fb.BufferT(), fb.BufferT()]
    oc = fb.OperatorCodeT()
    oc.builtinCode = op_code
    oc.deprecatedBuiltinCode = op_code
    oc.version = 1
    model.operatorCodes = [oc]

    def tensor(name, ttype, buf, quantized):
        t = fb.TensorT()
        t.name = name
        t.shape = [n]
        t.type = ttype
        t.buffer = buf
        if quantized:
            qp = fb.QuantizationParametersT()
            qp.scale = [float(scale)]
            qp.zeroPoint = [int(zp)]
            t.quantization = qp
        return t

    tin = tensor(b"in", in_type, 1, in_type != fb.TensorType.FLOAT32)
    tout = tensor(b"out", out_type, 2, out_type != fb.TensorType.FLOAT32)
    op = fb.OperatorT()
    op.opcodeIndex = 0
    op.inputs = [0]
    op.outputs = [1]
    sg = fb.SubGraphT()
    sg.tensors = [tin, tout]
    sg.inputs = [0]
    sg.outputs = [1]
    sg.operators = [op]
    model.subgraphs = [sg]
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def run_tflm(model_bytes, x):
    from tflite_micro.python.tflite_micro import runtime
    it = runtime.Interpreter.from_bytes(model_bytes, arena_size=1 << 20)
    it.set_input(x, 0)
    it.invoke()
    return it.get_output(0)


def run_tflite_ref(model_bytes, x):
    import tensorflow as tf
    it = tf.lite.Interpreter(
        model_content=model_bytes,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF,
    )
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"]).copy()


def gen_tflite():
    from tensorflow.lite.python import schema_py_generated as fb
    T = fb.TensorType
    types = {"i8": (T.INT8, np.int8), "i16": (T.INT16, np.int16), "u8": (T.UINT8, np.uint8)}
    params = {
        "i8": [(0.5, 0), (0.5, -1), (0.25, 3), (1.0, 0), (0.1, -5), (0.0235294, -128), (3.0, 127)],
        "i16": [(0.5, 0), (0.25, 0), (1 / 32768, 0), (0.013, 0)],
        "u8": [(0.5, 128), (0.25, 1), (0.1, 0), (1.0, 255)],
    }
    cases = []
    for dt, plist in params.items():
        ttype, npt = types[dt]
        info = np.iinfo(npt)
        for scale, zp in plist:
            s32 = np.float32(scale)
            # TFLite casts round(x / scale) to int32 before the clamp; outside
            # int32 (and for NaN) that cast is undefined in C++, so the
            # goldens stay within it (qkit saturates there: documented).
            x = test_inputs(s32, zp, int(info.min), int(info.max), extreme=False)
            x = x[np.abs(x.astype(np.float64) / float(s32)) < 2.0 ** 30]
            m = tflite_model(T.FLOAT32, ttype, len(x), float(s32), zp)
            runtimes = {}
            try:
                runtimes["tflm"] = run_tflm(m, x)
            except Exception as e:  # TFLM may not support every output type
                print(f"TFLM QUANTIZE {dt}: {e}", file=sys.stderr)
            runtimes["tflite_ref"] = run_tflite_ref(m, x)
            for rt, y in runtimes.items():
                cases.append({"op": "QUANTIZE", "runtime": rt, "dtype": dt,
                              "scale": f32_bits([s32])[0], "zero_point": zp,
                              "x": f32_bits(x), "y": ints(y)})
            # DEQUANTIZE of every representable value (or a sample for int16).
            if info.max - info.min <= 255:
                q = np.arange(info.min, info.max + 1).astype(npt)
            else:
                q = np.concatenate([np.arange(-300, 300), [info.min, info.min + 1, info.max - 1, info.max],
                                    rng.integers(info.min, info.max, 200)]).astype(npt)
            md = tflite_model(ttype, T.FLOAT32, len(q), float(s32), zp)
            druntimes = {}
            try:
                druntimes["tflm"] = run_tflm(md, q)
            except Exception as e:
                print(f"TFLM DEQUANTIZE {dt}: {e}", file=sys.stderr)
            druntimes["tflite_ref"] = run_tflite_ref(md, q)
            for rt, y in druntimes.items():
                cases.append({"op": "DEQUANTIZE", "runtime": rt, "dtype": dt,
                              "scale": f32_bits([s32])[0], "zero_point": zp,
                              "q": ints(q), "y": f32_bits(y)})
    return cases


def int4_dequantize_model(packed, n, scale, zp):
    """DEQUANTIZE of a constant packed int4 tensor: shows how TFLite unpacks."""
    import flatbuffers
    from tensorflow.lite.python import schema_py_generated as fb
    m = fb.ModelT()
    m.version = 3
    wbuf = fb.BufferT()
    wbuf.data = list(packed)
    m.buffers = [fb.BufferT(), wbuf, fb.BufferT()]
    oc = fb.OperatorCodeT()
    oc.builtinCode = fb.BuiltinOperator.DEQUANTIZE
    oc.deprecatedBuiltinCode = fb.BuiltinOperator.DEQUANTIZE
    oc.version = 1
    m.operatorCodes = [oc]
    tin = fb.TensorT()
    tin.name, tin.shape, tin.type, tin.buffer = b"w", [n], fb.TensorType.INT4, 1
    qp = fb.QuantizationParametersT()
    qp.scale, qp.zeroPoint = [float(scale)], [int(zp)]
    tin.quantization = qp
    tout = fb.TensorT()
    tout.name, tout.shape, tout.type, tout.buffer = b"y", [n], fb.TensorType.FLOAT32, 2
    op = fb.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0], [1]
    sg = fb.SubGraphT()
    sg.tensors, sg.inputs, sg.outputs, sg.operators = [tin, tout], [], [1], [op]
    m.subgraphs = [sg]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def gen_tflite_int4():
    """TFLite (BUILTIN_REF) DEQUANTIZE of packed int4; TFLM cannot run a
    graph whose only tensor is a constant int4 one, so it is not used here."""
    import tensorflow as tf
    r = np.random.default_rng(4)
    cases = []
    for n, scale, zp in [(7, 0.5, 0), (64, 0.25, 0), (33, 0.1, -3), (1, 1.0, 7), (256, 0.013, 0)]:
        packed = r.integers(0, 256, (n + 1) // 2).astype(np.uint8)
        if n % 2:
            packed[-1] &= 0x0F
        s32 = np.float32(scale)
        it = tf.lite.Interpreter(model_content=int4_dequantize_model(packed.tobytes(), n, float(s32), zp),
                                 experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF)
        it.allocate_tensors()
        it.invoke()
        y = it.get_tensor(it.get_output_details()[0]["index"])
        cases.append({"op": "DEQUANTIZE_INT4", "runtime": "tflite_ref", "dtype": "i4",
                      "scale": f32_bits([s32])[0], "zero_point": zp, "n": n,
                      "packed": ints(packed), "y": f32_bits(y)})
    return cases


def gen_tflite_converter_weights():
    """Per-channel int8 weights as the TFLite converter quantizes them
    (full-integer conversion of one Dense layer): scales and int8 values."""
    import tensorflow as tf
    r = np.random.default_rng(5)
    w = r.normal(0, 1, (128, 32)).astype(np.float32)
    w[0, 0] = 3.0
    w[:, 5] *= 1e-3  # a channel with a tiny range
    inp = tf.keras.Input((128,), batch_size=1)
    dense = tf.keras.layers.Dense(32, use_bias=False)
    model = tf.keras.Model(inp, dense(inp))
    dense.set_weights([w])
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]

    def rep():
        for _ in range(8):
            yield [r.normal(0, 1, (1, 128)).astype(np.float32)]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    it = tf.lite.Interpreter(model_content=conv.convert(),
                             experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    for t in it.get_tensor_details():
        if t["dtype"] == np.int8 and list(t["shape"]) == [32, 128]:
            qp = t["quantization_parameters"]
            return [{"op": "converter_weights", "runtime": "tflite_converter", "dtype": "i8",
                     "dims": [32, 128], "axis": int(qp["quantized_dimension"]),
                     "w": f32_bits(w.T), "scales": f32_bits(qp["scales"]),
                     "zero_points": ints(qp["zero_points"]), "q": ints(it.get_tensor(t["index"]))}]
    raise RuntimeError("weight tensor not found")


# ---------------------------------------------------------------- ONNX Runtime
def onnx_types():
    import ml_dtypes
    from onnx import TensorProto as TP
    return {
        "i8": (TP.INT8, np.int8, -128, 127, TP.INT8),
        "u8": (TP.UINT8, np.uint8, 0, 255, TP.UINT8),
        "i16": (TP.INT16, np.int16, -32768, 32767, TP.INT16),
        "i4": (TP.INT4, ml_dtypes.int4, -8, 7, TP.INT8),
        "u4": (TP.UINT4, ml_dtypes.uint4, 0, 15, TP.UINT8),
    }


def ort_run(nodes, inputs, outputs, inits, feeds):
    import onnxruntime as ort
    from onnx import helper
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)[0]


def onnx_quantize(dt, x, scales, zps, axis, block_size):
    from onnx import helper, numpy_helper, TensorProto as TP
    ttype, npt, _, _, wide = onnx_types()[dt]
    attrs = {}
    if axis is not None:
        attrs["axis"] = axis
    if block_size:
        attrs["block_size"] = block_size
    s = numpy_helper.from_array(np.asarray(scales, np.float32), "s")
    z = numpy_helper.from_array(np.asarray(zps).astype(npt), "z")
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["yq"], **attrs),
             helper.make_node("Cast", ["yq"], ["y"], to=wide)]
    return ort_run(nodes, [helper.make_tensor_value_info("x", TP.FLOAT, list(x.shape))],
                   [helper.make_tensor_value_info("y", wide, list(x.shape))], [s, z], {"x": x})


def onnx_dequantize(dt, q, scales, zps, axis, block_size):
    """q is fed as an initializer in its real type (int4 packed by onnx)."""
    from onnx import helper, numpy_helper, TensorProto as TP
    ttype, npt, _, _, wide = onnx_types()[dt]
    attrs = {}
    if axis is not None:
        attrs["axis"] = axis
    if block_size:
        attrs["block_size"] = block_size
    qt = numpy_helper.from_array(np.asarray(q).astype(npt), "q")
    s = numpy_helper.from_array(np.asarray(scales, np.float32), "s")
    z = numpy_helper.from_array(np.asarray(zps).astype(npt), "z")
    # A dummy float input keeps onnxruntime from constant-folding the graph away.
    nodes = [helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"], **attrs),
             helper.make_node("Add", ["d", "zero"], ["y"])]
    zero = np.zeros((1,), np.float32)
    return ort_run(nodes, [helper.make_tensor_value_info("zero", TP.FLOAT, [1])],
                   [helper.make_tensor_value_info("y", TP.FLOAT, list(np.shape(q)))],
                   [qt, s, z], {"zero": zero}), qt


def gen_onnx():
    import ml_dtypes
    from onnx import numpy_helper
    cases = []
    # per tensor
    per_tensor = {
        "i8": [(0.5, 0), (0.5, -1), (0.1, -5), (1.0, 127)],
        "u8": [(0.5, 128), (0.5, 1), (0.0235294, 0)],
        "i16": [(0.5, 0), (0.013, -7)],
        "i4": [(0.5, 0), (0.5, 1), (0.3, -8)],
        "u4": [(0.5, 8), (0.5, 1), (0.3, 0)],
    }
    for dt, plist in per_tensor.items():
        _, npt, lo, hi, _ = onnx_types()[dt]
        for scale, zp in plist:
            s32 = np.float32(scale)
            x = test_inputs(s32, zp, lo, hi)
            y = onnx_quantize(dt, x, s32, zp, None, None)
            cases.append({"op": "QuantizeLinear", "dtype": dt, "dims": [len(x)], "axis": None,
                          "block_size": None, "scales": f32_bits([s32]), "zero_points": [zp],
                          "x": f32_bits(x), "y": ints(y)})
            q = np.arange(lo, hi + 1) if hi - lo <= 255 else np.concatenate([np.arange(-200, 200), [lo, hi]])
            d, qt = onnx_dequantize(dt, q, s32, zp, None, None)
            cases.append({"op": "DequantizeLinear", "dtype": dt, "dims": [len(q)], "axis": None,
                          "block_size": None, "scales": f32_bits([s32]), "zero_points": [zp],
                          "q": ints(q), "y": f32_bits(d)})
    # per axis and blocked
    shaped = [
        ([3, 4, 5], 1, None), ([3, 4, 5], -1, None), ([6, 2], 0, None), ([7], 0, None),
        ([4, 6], 1, 4), ([4, 6], 1, 2), ([6, 3], 0, 4), ([2, 5, 3], 1, 2), ([33], 0, 32), ([2, 7], -1, 3),
    ]
    for dt in ["i8", "u8", "i4", "u4"]:
        _, npt, lo, hi, _ = onnx_types()[dt]
        for dims, axis, bs in shaped:
            a = axis % len(dims)
            pshape = list(dims)
            if bs:
                pshape[a] = -(-dims[a] // bs)
                pshape_t = pshape
            else:
                pshape_t = [dims[a]]
            scales = (2.0 ** rng.integers(-4, 1, pshape_t)).astype(np.float32)
            scales[..., 0] = np.float32(0.1)  # one inexact scale
            zps = rng.integers(lo, hi + 1, pshape_t)
            x = (rng.uniform(-1, 1, dims) * (hi - lo) * 0.6).astype(np.float32)
            # sprinkle exact ties relative to the smallest scale
            flat = x.reshape(-1)
            flat[::3] = np.round(flat[::3] * 16) / 16 + np.float32(1 / 32)
            y = onnx_quantize(dt, x, scales, zps, axis, bs)
            cases.append({"op": "QuantizeLinear", "dtype": dt, "dims": dims, "axis": axis,
                          "block_size": bs, "scales": f32_bits(scales), "zero_points": ints(zps),
                          "x": f32_bits(x), "y": ints(y)})
            q = rng.integers(lo, hi + 1, dims)
            d, qt = onnx_dequantize(dt, q, scales, zps, axis, bs)
            case = {"op": "DequantizeLinear", "dtype": dt, "dims": dims, "axis": axis,
                    "block_size": bs, "scales": f32_bits(scales), "zero_points": ints(zps),
                    "q": ints(q), "y": f32_bits(d)}
            if dt in ("i4", "u4"):
                # onnx's own int4 packing of q (first element in the low nibble)
                case["packed"] = list(qt.raw_data)
            cases.append(case)
    # DynamicQuantizeLinear
    dyn_inputs = [
        np.array([-1.0, 0.5, 3.0], np.float32),
        np.array([0.0, 0.0, 0.0], np.float32),
        np.array([1.0, 2.0, 3.0], np.float32),
        np.array([-1.0, -2.0, -3.0], np.float32),
        np.array([-0.5, 0.5], np.float32),
        np.array([-1.0, 254.0], np.float32),
        np.array([-2.5, 252.5], np.float32),
        np.array([7.0], np.float32),
        rng.normal(0, 3, 200).astype(np.float32),
        rng.uniform(-0.01, 5, 100).astype(np.float32),
        (rng.normal(0, 1, 64) * 1e-3).astype(np.float32),
    ]
    from onnx import helper, TensorProto as TP
    import onnxruntime as ort
    for x in dyn_inputs:
        n = helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "s", "z"])
        g = helper.make_graph([n], "g", [helper.make_tensor_value_info("x", TP.FLOAT, [len(x)])],
                              [helper.make_tensor_value_info("y", TP.UINT8, [len(x)]),
                               helper.make_tensor_value_info("s", TP.FLOAT, []),
                               helper.make_tensor_value_info("z", TP.UINT8, [])])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
        m.ir_version = 10
        y, s, z = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})
        cases.append({"op": "DynamicQuantizeLinear", "dtype": "u8", "x": f32_bits(x), "y": ints(y),
                      "scale": f32_bits([s])[0], "zero_point": int(z)})
    # int4 packing by onnx itself (numpy_helper.from_array -> raw_data)
    for signed in (True, False):
        dt = ml_dtypes.int4 if signed else ml_dtypes.uint4
        lo, hi = (-8, 7) if signed else (0, 15)
        for n in [0, 1, 2, 3, 7, 16, 33]:
            v = rng.integers(lo, hi + 1, n)
            t = numpy_helper.from_array(v.astype(dt), "p")
            cases.append({"op": "pack", "dtype": "i4" if signed else "u4", "values": ints(v),
                          "packed": list(t.raw_data)})
    # float16 input with a float16 scale (ONNX requires x and y_scale to share
    # a type): onnxruntime widens both to f32 and divides in f32.
    r16 = np.random.default_rng(16)
    for dt, scale, zp in [("i8", 0.1, 3), ("i8", 0.5, 0), ("u8", 0.013, 128), ("u8", 3.0, 0)]:
        ttype, npt, lo, hi, wide = onnx_types()[dt]
        s16 = np.float16(scale)
        x = np.concatenate([r16.uniform(-300, 300, 300),
                            (np.arange(-150, 150) + 0.5) * float(s16),
                            [np.inf, -np.inf, np.nan, 65504, -65504, 0.0]]).astype(np.float16)
        n = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])
        g = helper.make_graph([n], "g", [helper.make_tensor_value_info("x", TP.FLOAT16, [len(x)])],
                              [helper.make_tensor_value_info("y", ttype, [len(x)])],
                              initializer=[numpy_helper.from_array(np.asarray(s16), "s"),
                                           numpy_helper.from_array(np.asarray(zp).astype(npt), "z")])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
        m.ir_version = 10
        y = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
        cases.append({"op": "QuantizeLinear_f16", "dtype": dt, "scale_f16": int(s16.view(np.uint16)),
                      "zero_point": zp, "x_f16": x.view(np.uint16).astype(np.int64).tolist(), "y": ints(y)})
    return cases


# ---------------------------------------------------------------- ggml
def gen_ggml():
    from gguf import quants, GGMLQuantizationType as QT
    rows = [
        rng.normal(0, 1, 32 * 8).astype(np.float32),
        rng.uniform(-100, 100, 32 * 4).astype(np.float32),
        np.zeros(32, np.float32),
        np.concatenate([np.zeros(31, np.float32), [5.0]]).astype(np.float32),
        np.concatenate([[-3.0], np.full(31, 3.0)]).astype(np.float32),  # tie in |max|: first wins
        np.arange(-16, 16, dtype=np.float32) / 4,
        # exact ties in x * id: amax 127 gives d = id = 1 (Q8_0); max -8 gives d = id = 1 (Q4_0)
        np.concatenate([[127.0], np.arange(-15, 16, dtype=np.float32) + 0.5]).astype(np.float32),
        np.concatenate([[-8.0], np.arange(-31, 31, 2, dtype=np.float32) / 4]).astype(np.float32),
        np.linspace(-1, 1, 64, dtype=np.float32) * 127,
        (rng.normal(0, 1, 32 * 4) * 1e-5).astype(np.float32),
        (rng.normal(0, 1, 32 * 2) * 6e4).astype(np.float32),
    ]
    cases = []
    for fmt, qt in (("Q8_0", QT.Q8_0), ("Q4_0", QT.Q4_0)):
        for x in rows:
            b = quants.quantize(x.reshape(1, -1), qt).reshape(-1)
            d = quants.dequantize(b, qt).reshape(-1).astype(np.float32)
            cases.append({"format": fmt, "x": f32_bits(x), "bytes": ints(b), "y": f32_bits(d)})
    return cases


def dump(name, payload):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(payload['cases'])} cases)")


if __name__ == "__main__":
    import onnxruntime
    import tensorflow as tf
    dump("quant_onnx.json", {"generator": "tools/gen_quant_golden.py",
                             "onnxruntime": onnxruntime.__version__, "cases": gen_onnx()})
    dump("quant_tflite.json", {"generator": "tools/gen_quant_golden.py",
                               "tensorflow": tf.__version__,
                               "cases": gen_tflite() + gen_tflite_converter_weights() + gen_tflite_int4()})
    try:
        import gguf  # noqa: F401
        dump("quant_ggml.json", {"generator": "tools/gen_quant_golden.py (gguf-py quants)",
                                 "cases": gen_ggml()})
    except ImportError:
        print("gguf not importable: quant_ggml.json not regenerated", file=sys.stderr)
