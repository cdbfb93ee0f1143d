#!/usr/bin/env python3
"""Golden CONV_2D / DEPTHWISE_CONV_2D / pooling / SOFTMAX / LOGISTIC / TANH
vectors from TensorFlow Lite Micro (and LiteRT for the float-table modes).

Run:  python tools/gen_conv_golden.py          (offline once installed)
Needs: pip install tensorflow-cpu tflite-micro  (tensorflow 2.21.0 and
       tflite-micro 0.dev20261023182759 used), numpy, flatbuffers.
Writes: tests/data/conv_golden.json, read by tests/conv_golden.rs.

How: each case is a one-operator .tflite flatbuffer built here with the
official schema's object API (tensorflow.lite.python.schema_py_generated):
the input, filter, bias and output tensors with their types, shapes and
quantization, and the op's builtin options. TFLite Micro's Python
interpreter runs it (its default build: double rounding). Every value in the
JSON is read back from the final model bytes. Integer arrays are stored as
little-endian hex strings to keep the file small.

Coverage: 1x1/3x3/5x5/non-square kernels, strides 1-2, dilation 1-2,
SAME/VALID with odd padding totals, odd channel counts, nonzero input zero
points, weights at +-127 and -128, with and without bias, every fused
activation, grouped convolution, depth_multiplier 1-3, more than 64 output
channels, batch > 1, 16x8 with int64 and int32 bias (and without bias with
quantized_bias_type INT32), pools with padding, softmax with beta != 1 and
int16 output, logistic/tanh over all 256 inputs (TFLM's fixed point and
LiteRT's float table).
"""
import json
import os

import flatbuffers
import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as schema
from tflite_micro.python.tflite_micro import runtime

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "conv_golden.json")
ACT = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}
T = schema.TensorType
NP = {T.INT8: np.int8, T.INT16: np.int16, T.INT32: np.int32, T.INT64: np.int64}


def hexs(a, dtype):
    return np.ascontiguousarray(np.asarray(a).astype(dtype)).astype(np.dtype(dtype).newbyteorder("<")).tobytes().hex()


def quant(scales, zps, dim=0):
    q = schema.QuantizationParametersT()
    q.scale = np.asarray(scales, dtype=np.float32)
    q.zeroPoint = np.asarray(zps, dtype=np.int64)
    q.quantizedDimension = dim
    return q


def model(opcode, options_type, options, tensors, inputs, outputs):
    """A one-operator model. `tensors`: list of (name, type, shape, quant, data or None)."""
    m = schema.ModelT()
    m.version = 3
    m.description = "qkit golden"
    m.buffers = [schema.BufferT()]
    sg = schema.SubGraphT()
    sg.tensors = []
    for name, ttype, shape, q, data in tensors:
        t = schema.TensorT()
        t.name = name
        t.type = ttype
        t.shape = np.asarray(shape, dtype=np.int32)
        t.quantization = q
        b = schema.BufferT()
        if data is not None:
            b.data = np.frombuffer(np.asarray(data).astype(NP[ttype]).tobytes(), dtype=np.uint8)
        m.buffers.append(b)
        t.buffer = len(m.buffers) - 1
        sg.tensors.append(t)
    code = schema.OperatorCodeT()
    code.builtinCode = opcode
    code.deprecatedBuiltinCode = min(opcode, 127)
    code.version = 1
    m.operatorCodes = [code]
    op = schema.OperatorT()
    op.opcodeIndex = 0
    op.inputs = np.asarray(inputs, dtype=np.int32)
    op.outputs = np.asarray(outputs, dtype=np.int32)
    op.builtinOptionsType = options_type
    op.builtinOptions = options
    sg.operators = [op]
    sg.inputs = np.asarray([inputs[0]], dtype=np.int32)
    sg.outputs = np.asarray(outputs, dtype=np.int32)
    m.subgraphs = [sg]
    b = flatbuffers.Builder(0)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def run_tflm(model_bytes, x):
    interp = runtime.Interpreter.from_bytes(model_bytes, arena_size=1 << 22)
    interp.set_input(x, 0)
    interp.invoke()
    return interp.get_output(0)


def run_litert(model_bytes, x):
    interp = tf.lite.Interpreter(
        model_content=model_bytes,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interp.allocate_tensors()
    interp.set_tensor(interp.get_input_details()[0]["index"], x)
    interp.invoke()
    return interp.get_tensor(interp.get_output_details()[0]["index"])


def out_size(n, f, s, d, padding):
    eff = (f - 1) * d + 1
    return (n + s - 1) // s if padding == "SAME" else (n + s - eff) // s


def logu(rng, lo, hi, k):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size=k)).astype(np.float32)


def weights(rng, n, lo=-127, hi=127, extremes=True):
    w = rng.integers(lo, hi + 1, size=n)
    if extremes and n >= 3:
        w[:3] = [127, -127, lo]
    return w


def conv_case(rng, name, kind="int8", h=6, w=6, cin=3, cout=4, fh=3, fw=3, groups=1, sh=1, sw=1, dh=1, dw=1,
              padding="SAME", act="NONE", bias=True, per_channel=True, batch=1, zp_in=-5, zp_out=3,
              s_in=0.05, s_out=0.2, w_scale=(0.002, 0.02), full_range=False, bias_type=None,
              quantized_bias_type=0, bias_max=20000, depthwise=False, mult=1):
    oh, ow = out_size(h, fh, sh, dh, padding), out_size(w, fw, sw, dw, padding)
    if kind == "16x8":
        zp_in = zp_out = 0
    if depthwise:
        cout = cin * mult
        wshape = [1, fh, fw, cout]
        qdim = 3
    else:
        fin = cin // groups
        wshape = [cout, fh, fw, fin]
        qdim = 0
    nw = int(np.prod(wshape))
    wv = weights(rng, nw, lo=-128 if full_range else -127)
    ns = cout if per_channel else 1
    sw_ = logu(rng, *w_scale, ns)
    if kind == "16x8":
        x = rng.integers(-32768, 32768, size=batch * h * w * cin)
        x[:2] = [-32768, 32767]
        in_t, x_dtype = T.INT16, np.int16
        bt = bias_type or T.INT64
    else:
        x = rng.integers(-128, 128, size=batch * h * w * cin)
        x[:2] = [-128, 127]
        in_t, x_dtype = T.INT8, np.int8
        bt = T.INT32
    bv = rng.integers(-bias_max, bias_max + 1, size=cout)
    tensors = [
        ("input", in_t, [batch, h, w, cin], quant([s_in], [zp_in]), None),
        ("filter", T.INT8, wshape, quant(sw_, [0] * ns, qdim), wv),
    ]
    inputs = [0, 1]
    if bias:
        bscale = (np.float32(s_in) * sw_).astype(np.float32)
        tensors.append(("bias", bt, [cout], quant(bscale, [0] * ns, 0), bv))
        inputs.append(2)
    elif not depthwise:
        # An omitted optional input is index -1. TFLM's DEPTHWISE_CONV_2D
        # Prepare crashes on that (it frees the absent bias tensor:
        # has_bias is `inputs->size == 3`), so depthwise cases without bias
        # have two inputs.
        inputs.append(-1)
    tensors.append(("output", in_t, [batch, oh, ow, cout], quant([s_out], [zp_out]), None))
    out_idx = len(tensors) - 1
    pad = schema.Padding.SAME if padding == "SAME" else schema.Padding.VALID
    if depthwise:
        o = schema.DepthwiseConv2DOptionsT()
        o.padding, o.strideW, o.strideH = pad, sw, sh
        o.depthMultiplier = mult
        o.dilationWFactor, o.dilationHFactor = dw, dh
        o.fusedActivationFunction = ACT[act]
        mb = model(schema.BuiltinOperator.DEPTHWISE_CONV_2D, schema.BuiltinOptions.DepthwiseConv2DOptions, o,
                   tensors, inputs, [out_idx])
    else:
        o = schema.Conv2DOptionsT()
        o.padding, o.strideW, o.strideH = pad, sw, sh
        o.dilationWFactor, o.dilationHFactor = dw, dh
        o.fusedActivationFunction = ACT[act]
        o.quantizedBiasType = quantized_bias_type
        mb = model(schema.BuiltinOperator.CONV_2D, schema.BuiltinOptions.Conv2DOptions, o, tensors, inputs,
                   [out_idx])
    xin = x.astype(x_dtype).reshape(batch, h, w, cin)
    y = run_tflm(mb, xin).reshape(-1)
    assert y.shape[0] == batch * oh * ow * cout
    # Read back from the model bytes.
    r = schema.ModelT.InitFromPackedBuf(mb, 0)
    rsg = r.subgraphs[0]
    rt = rsg.tensors
    rw = rt[1]
    case = {
        "name": name, "op": "depthwise" if depthwise else "conv", "kind": kind, "batch": batch,
        "input_shape": [h, w, cin], "filter_shape": [int(v) for v in rw.shape],
        "stride": [sh, sw], "dilation": [dh, dw], "padding": padding, "depth_multiplier": mult,
        "activation": act, "input_scale": float(rt[0].quantization.scale[0]),
        "input_zero_point": int(rt[0].quantization.zeroPoint[0]),
        "filter_scales": [float(s) for s in rw.quantization.scale],
        "output_scale": float(rt[out_idx].quantization.scale[0]),
        "output_zero_point": int(rt[out_idx].quantization.zeroPoint[0]),
        "output_shape": [oh, ow, cout],
        "weights": np.asarray(r.buffers[rw.buffer].data, dtype=np.uint8).tobytes().hex(),
        "bias": None, "bias_type": None,
    }
    if bias:
        rb = rt[2]
        case["bias"] = np.asarray(r.buffers[rb.buffer].data, dtype=np.uint8).tobytes().hex()
        case["bias_type"] = "int64" if rb.type == T.INT64 else "int32"
    elif quantized_bias_type == T.INT32:
        case["bias_type"] = "int32"
    case["input"] = hexs(x, x_dtype)
    case["output"] = hexs(y, x_dtype)
    return case


def pool_case(rng, name, op, kind="int8", h=7, w=7, c=5, fh=3, fw=3, sh=2, sw=2, padding="SAME", act="NONE",
              batch=1, scale=0.05, zp=-7):
    oh, ow = out_size(h, fh, sh, 1, padding), out_size(w, fw, sw, 1, padding)
    if kind == "int16":
        zp = 0
        x = rng.integers(-32768, 32768, size=batch * h * w * c)
        ttype, dt = T.INT16, np.int16
    else:
        x = rng.integers(-128, 128, size=batch * h * w * c)
        ttype, dt = T.INT8, np.int8
    x[:2] = [np.iinfo(dt).min, np.iinfo(dt).max]
    o = schema.Pool2DOptionsT()
    o.padding = schema.Padding.SAME if padding == "SAME" else schema.Padding.VALID
    o.strideW, o.strideH, o.filterWidth, o.filterHeight = sw, sh, fw, fh
    o.fusedActivationFunction = ACT[act]
    code = schema.BuiltinOperator.AVERAGE_POOL_2D if op == "avgpool" else schema.BuiltinOperator.MAX_POOL_2D
    tensors = [("input", ttype, [batch, h, w, c], quant([scale], [zp]), None),
               ("output", ttype, [batch, oh, ow, c], quant([scale], [zp]), None)]
    mb = model(code, schema.BuiltinOptions.Pool2DOptions, o, tensors, [0], [1])
    y = run_tflm(mb, x.astype(dt).reshape(batch, h, w, c)).reshape(-1)
    return {"name": name, "op": op, "kind": kind, "batch": batch, "input_shape": [h, w, c],
            "filter": [fh, fw], "stride": [sh, sw], "padding": padding, "activation": act,
            "scale": scale, "zero_point": zp, "output_shape": [oh, ow, c],
            "input": hexs(x, dt), "output": hexs(y, dt)}


def softmax_case(rng, name, rows, depth, scale, zp, beta, out16=False, in16=False, x_explicit=None):
    if x_explicit is not None:
        x = np.asarray(x_explicit, dtype=np.int64)
        zp, out16 = 0, True
    elif in16:
        x = rng.integers(-32768, 32768, size=rows * depth)
        # Keep most rows within reach of the max (beyond ~10 the exp is 0).
        x = (x // 4).astype(np.int64)
        zp, out16 = 0, True
    else:
        x = rng.integers(-128, 128, size=rows * depth)
    if depth > 2 and x_explicit is None:
        x[:3] = [32767, 32767, -32768] if in16 else [127, 127, -128]
    o = schema.SoftmaxOptionsT()
    o.beta = beta
    in_t, in_dt = (T.INT16, np.int16) if in16 else (T.INT8, np.int8)
    if in16:
        out_t, oq = T.INT16, quant([1.0 / 32768], [0])
    elif out16:
        out_t, oq = T.INT16, quant([1.0 / 65536], [-32768])
    else:
        out_t, oq = T.INT8, quant([1.0 / 256], [-128])
    tensors = [("input", in_t, [rows, depth], quant([scale], [zp]), None), ("output", out_t, [rows, depth], oq, None)]
    mb = model(schema.BuiltinOperator.SOFTMAX, schema.BuiltinOptions.SoftmaxOptions, o, tensors, [0], [1])
    y = run_tflm(mb, x.astype(in_dt).reshape(rows, depth)).reshape(-1)
    r = schema.ModelT.InitFromPackedBuf(mb, 0)
    kind = "int16" if in16 else "int16_out" if out16 else "int8"
    return {"name": name, "op": "softmax", "kind": kind, "rows": rows, "depth": depth,
            "input_scale": float(r.subgraphs[0].tensors[0].quantization.scale[0]), "input_zero_point": zp,
            "beta": float(np.float32(beta)), "input": hexs(x, in_dt),
            "output": hexs(y, np.int16 if out16 else np.int8)}


def elementwise16_case(name, op, scale):
    """int16 LOGISTIC or TANH (TFLM) over 1027 inputs spanning the range."""
    x = np.unique(np.concatenate([np.linspace(-32768, 32767, 1024).astype(np.int64), [-1, 0, 1]]))
    code = schema.BuiltinOperator.LOGISTIC if op == "logistic" else schema.BuiltinOperator.TANH
    n = len(x)
    tensors = [("input", T.INT16, [1, n], quant([scale], [0]), None),
               ("output", T.INT16, [1, n], quant([1.0 / 32768], [0]), None)]
    mb = model(code, schema.BuiltinOptions.NONE, None, tensors, [0], [1])
    y = run_tflm(mb, x.astype(np.int16).reshape(1, n)).reshape(-1)
    r = schema.ModelT.InitFromPackedBuf(mb, 0)
    return {"name": name, "op": op, "kind": "int16", "input_scale": float(r.subgraphs[0].tensors[0].quantization.scale[0]),
            "input_zero_point": 0, "input": hexs(x, np.int16), "output": hexs(y, np.int16)}


def elementwise_case(name, op, scale, zp):
    """LOGISTIC or TANH over every int8 input, in TFLM and in LiteRT."""
    x = np.arange(-128, 128, dtype=np.int64)
    if op == "logistic":
        code, oq = schema.BuiltinOperator.LOGISTIC, quant([1.0 / 256], [-128])
    else:
        code, oq = schema.BuiltinOperator.TANH, quant([1.0 / 128], [0])
    tensors = [("input", T.INT8, [1, 256], quant([scale], [zp]), None), ("output", T.INT8, [1, 256], oq, None)]
    mb = model(code, schema.BuiltinOptions.NONE, None, tensors, [0], [1])
    xin = x.astype(np.int8).reshape(1, 256)
    micro = run_tflm(mb, xin).reshape(-1)
    litert = run_litert(mb, xin).reshape(-1)
    r = schema.ModelT.InitFromPackedBuf(mb, 0)
    return {"name": name, "op": op, "input_scale": float(r.subgraphs[0].tensors[0].quantization.scale[0]),
            "input_zero_point": zp, "input": hexs(x, np.int8), "output": hexs(micro, np.int8),
            "output_litert": hexs(litert, np.int8)}


def main():
    rng = np.random.default_rng(20261201)
    c = []
    # CONV_2D int8.
    c.append(conv_case(rng, "conv_1x1_pointwise_odd_channels_batch2", h=5, w=4, cin=5, cout=7, fh=1, fw=1,
                       padding="VALID", batch=2, zp_in=-9))
    c.append(conv_case(rng, "conv_1x1_stride2", h=7, w=6, cin=3, cout=5, fh=1, fw=1, sh=2, sw=2, zp_in=17))
    c.append(conv_case(rng, "conv_3x3_same_relu_full_range_weights", h=8, w=7, cin=3, cout=6, act="RELU",
                       full_range=True, zp_in=-128, zp_out=-128))
    c.append(conv_case(rng, "conv_3x3_same_stride2_odd_total_relu6", h=8, w=8, cin=4, cout=5, sh=2, sw=2,
                       act="RELU6", zp_out=-100, s_out=0.05))
    c.append(conv_case(rng, "conv_3x3_valid_stride2_no_bias", h=9, w=7, cin=2, cout=3, sh=2, sw=2,
                       padding="VALID", bias=False, zp_in=100))
    c.append(conv_case(rng, "conv_5x5_valid_dilation2", h=11, w=10, cin=3, cout=4, fh=5, fw=5, dh=2, dw=2,
                       padding="VALID"))
    c.append(conv_case(rng, "conv_3x3_same_dilation2_relu_n1_to_1", h=7, w=8, cin=3, cout=4, dh=2, dw=2,
                       act="RELU_N1_TO_1", s_out=0.01, zp_out=0))
    c.append(conv_case(rng, "conv_5x5_same_stride2_dilation_1x2", h=9, w=10, cin=2, cout=3, fh=5, fw=5, sh=2,
                       sw=1, dh=1, dw=2))
    c.append(conv_case(rng, "conv_3x1_same_stride_2x1", h=7, w=5, cin=3, cout=4, fh=3, fw=1, sh=2, sw=1))
    c.append(conv_case(rng, "conv_2x3_same_even_filter", h=6, w=7, cin=3, cout=3, fh=2, fw=3, sh=1, sw=2))
    c.append(conv_case(rng, "conv_1x5_valid", h=4, w=9, cin=2, cout=5, fh=1, fw=5, padding="VALID", act="RELU"))
    c.append(conv_case(rng, "conv_grouped_3_groups", h=6, w=6, cin=6, cout=9, groups=3, zp_in=4))
    c.append(conv_case(rng, "conv_grouped_2_groups_stride2_no_bias", h=7, w=7, cin=8, cout=4, groups=2, sh=2,
                       sw=2, bias=False))
    c.append(conv_case(rng, "conv_per_tensor", h=6, w=5, cin=4, cout=5, per_channel=False, zp_in=-20))
    c.append(conv_case(rng, "conv_multiplier_ge_1", h=5, w=5, cin=2, cout=3, s_in=0.5, s_out=0.001,
                       w_scale=(0.004, 0.008), bias_max=30))
    c.append(conv_case(rng, "conv_70_out_channels_batch3", h=4, w=5, cin=9, cout=70, batch=3, act="RELU"))
    c.append(conv_case(rng, "conv_1x1_70_channels", h=3, w=4, cin=33, cout=70, fh=1, fw=1, full_range=True))
    # CONV_2D 16x8.
    c.append(conv_case(rng, "conv16x8_3x3_same_int64_bias", kind="16x8", h=6, w=6, cin=3, cout=5, s_in=0.001,
                       s_out=0.01, bias_max=10**7))
    c.append(conv_case(rng, "conv16x8_per_tensor_relu_stride2", kind="16x8", h=7, w=7, cin=2, cout=4, sh=2, sw=2,
                       per_channel=False, act="RELU", s_in=0.0005, s_out=0.004, bias_max=10**6))
    c.append(conv_case(rng, "conv16x8_no_bias_dilation2_grouped", kind="16x8", h=7, w=6, cin=4, cout=4, groups=2,
                       dh=2, dw=2, bias=False, s_in=0.001, s_out=0.02))
    c.append(conv_case(rng, "conv16x8_int32_bias", kind="16x8", h=5, w=6, cin=3, cout=4, bias_type=T.INT32,
                       s_in=0.001, s_out=0.01, bias_max=10**6))
    c.append(conv_case(rng, "conv16x8_no_bias_quantized_bias_type_int32", kind="16x8", h=5, w=5, cin=3, cout=3,
                       bias=False, quantized_bias_type=T.INT32, s_in=0.001, s_out=0.01))
    c.append(conv_case(rng, "conv16x8_1x1_70_channels_batch2", kind="16x8", h=3, w=3, cin=5, cout=70, fh=1, fw=1,
                       batch=2, s_in=0.001, s_out=0.01, bias_max=10**6))
    # DEPTHWISE_CONV_2D int8.
    c.append(conv_case(rng, "dw_3x3_same_m1", depthwise=True, h=7, w=6, cin=5, mult=1, zp_in=-3))
    c.append(conv_case(rng, "dw_3x3_same_m2_relu", depthwise=True, h=6, w=6, cin=3, mult=2, act="RELU",
                       full_range=True))
    c.append(conv_case(rng, "dw_3x3_valid_m3_stride2_no_bias", depthwise=True, h=9, w=8, cin=2, mult=3, sh=2,
                       sw=2, padding="VALID", bias=False, zp_in=60))
    c.append(conv_case(rng, "dw_3x3_same_dilation2_relu6", depthwise=True, h=8, w=7, cin=4, mult=1, dh=2, dw=2,
                       act="RELU6", s_out=0.03, zp_out=-128))
    c.append(conv_case(rng, "dw_5x5_same_stride2_odd_total", depthwise=True, h=8, w=10, cin=3, mult=1, fh=5,
                       fw=5, sh=2, sw=2))
    c.append(conv_case(rng, "dw_2x3_same_non_square", depthwise=True, h=6, w=7, cin=3, mult=2, fh=2, fw=3, sh=1,
                       sw=2, act="RELU_N1_TO_1", s_out=0.01, zp_out=0))
    c.append(conv_case(rng, "dw_per_tensor_batch2", depthwise=True, h=5, w=5, cin=4, mult=1, batch=2,
                       per_channel=False))
    c.append(conv_case(rng, "dw_70_channels", depthwise=True, h=5, w=4, cin=70, mult=1, zp_in=12))
    # DEPTHWISE_CONV_2D 16x8.
    c.append(conv_case(rng, "dw16x8_3x3_same_m1", kind="16x8", depthwise=True, h=6, w=6, cin=5, mult=1,
                       s_in=0.001, s_out=0.01, bias_max=10**6))
    c.append(conv_case(rng, "dw16x8_3x3_valid_m2_no_bias_relu", kind="16x8", depthwise=True, h=7, w=6, cin=3,
                       mult=2, padding="VALID", bias=False, act="RELU", s_in=0.001, s_out=0.005))
    # Pools.
    for kind in ["int8", "int16"]:
        for op in ["avgpool", "maxpool"]:
            c.append(pool_case(rng, f"{op}_{kind}_3x3_same_stride2", op, kind=kind))
            c.append(pool_case(rng, f"{op}_{kind}_2x2_valid_batch2", op, kind=kind, h=6, w=5, c=3, fh=2, fw=2,
                               padding="VALID", batch=2))
            c.append(pool_case(rng, f"{op}_{kind}_3x2_same_stride1_relu6", op, kind=kind, h=5, w=6, c=4, fh=3,
                               fw=2, sh=1, sw=1, act="RELU6", scale=0.03, zp=-100))
            c.append(pool_case(rng, f"{op}_{kind}_4x4_same_relu", op, kind=kind, h=5, w=5, c=2, fh=4, fw=4,
                               sh=3, sw=3, act="RELU", zp=10))
    # Softmax.
    c.append(softmax_case(rng, "softmax_10_beta1", 3, 10, 0.1, 5, 1.0))
    c.append(softmax_case(rng, "softmax_37_beta_half", 2, 37, 0.05, -20, 0.5))
    c.append(softmax_case(rng, "softmax_16_beta_2_7", 2, 16, 0.2, 0, 2.7))
    c.append(softmax_case(rng, "softmax_1", 4, 1, 0.1, 0, 1.0))
    c.append(softmax_case(rng, "softmax_large_scale", 2, 12, 0.8, 3, 1.3))
    c.append(softmax_case(rng, "softmax_int16_out", 3, 10, 0.1, 5, 1.0, out16=True))
    c.append(softmax_case(rng, "softmax_int16_out_beta_0_7", 2, 33, 0.05, -7, 0.7, out16=True))
    c.append(softmax_case(rng, "softmax16_10", 4, 10, 0.0005, 0, 1.0, in16=True))
    c.append(softmax_case(rng, "softmax16_33_beta_1_7", 3, 33, 0.0002, 0, 1.7, in16=True))
    c.append(softmax_case(rng, "softmax16_64_small_scale", 2, 64, 0.00005, 0, 1.0, in16=True))
    c.append(softmax_case(rng, "softmax16_5_large_scale", 6, 5, 0.003, 0, 0.6, in16=True))
    # Every entry of both int16 lookup tables: with s_in = 10/65535 and beta 1
    # the rescaling is the identity, so rows [32767, 32767 - 64k] look up
    # exp at every interval and 1/(1+x) over all of [0, 1).
    sweep = [v for k in range(1024) for v in (32767, 32767 - 64 * k)]
    c.append(softmax_case(rng, "softmax16_lut_sweep", 1024, 2, float(np.float32(10.0 / 65535.0)), 0, 1.0,
                          in16=True, x_explicit=sweep))
    # Logistic / tanh over every input.
    for op in ["logistic", "tanh"]:
        for i, (scale, zp) in enumerate([(0.0625, 0), (0.1, -10), (0.037, 25), (0.25, -128), (0.012, 100),
                                         (0.3, 7), (0.0078125, -3)]):
            c.append(elementwise_case(f"{op}_{i}", op, scale, zp))
    # int16: power-of-two scales taken as is (logistic 2^-12; tanh 2^-12 and
    # 2^-11) and general scales through the 15-bit multiplier.
    for op in ["logistic", "tanh"]:
        for i, scale in enumerate([2.0 ** -12, 2.0 ** -11, 0.001, 0.0003, 0.00005, 0.004]):
            c.append(elementwise16_case(f"{op}16_{i}", op, scale))
    # Scales where LiteRT's float table and TFLM's fixed point disagree on a
    # near-tie (found by comparing qkit's two modes; the runtimes confirm).
    for i, (scale, zp) in enumerate([(1.2033197e-2, 0), (4.5697987e-2, -128), (5.1218983e-2, 37)]):
        c.append(elementwise_case(f"logistic_near_tie_{i}", "logistic", float(np.float32(scale)), zp))
    with open(OUT, "w") as f:
        json.dump({"generator": "tools/gen_conv_golden.py", "tensorflow": tf.__version__,
                   "runtime": "tflite-micro python runtime (default double rounding); LiteRT "
                              "tf.lite.Interpreter BUILTIN_WITHOUT_DEFAULT_DELEGATES for output_litert",
                   "cases": c}, f, separators=(",", ":"))
    print("wrote", len(c), "cases to", OUT)


if __name__ == "__main__":
    main()
