#!/usr/bin/env python3
"""tests/data/fc_golden.json (TFLite Micro FULLY_CONNECTED golden vectors, from
tools/gen_fc_golden.py) -> fc_golden.bin, the compact little-endian form the
Cortex-M test firmware embeds with include_bytes! (src/golden.rs reads it).

usage: gen_golden.py [--check]     (from anywhere; --check: exit 1 if the
                                    committed fc_golden.bin is out of date)

Layout: b"QKFC", u32 case count, then per case:
  u8 kind (0 int8, 1 int4, 2 int16x8), u8 per_channel, u8 activation
  (0 NONE, 1 RELU, 2 RELU6), u8 has_bias, u32 batch, in_dim, out_dim,
  f32 input_scale, i32 input_zero_point, f32 output_scale,
  i32 output_zero_point, u32 filter scale count, f32 filter scales,
  weights (int8 [out*in], or int4 packed [ceil(out*in/2)] bytes),
  bias if has_bias (i32 [out], i64 [out] for int16x8),
  input (int8 / int16 [batch*in]), expected output (int8 / int16 [batch*out]),
  then zero bytes up to a multiple of 4.
"""
import json
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
src = os.path.join(here, "..", "..", "..", "tests", "data", "fc_golden.json")
dst = os.path.join(here, "fc_golden.bin")
KIND = {"int8": 0, "int4": 1, "int16": 2}
ACT = {"NONE": 0, "RELU": 1, "RELU6": 2}


def build():
    cases = json.load(open(src))["cases"]
    out = bytearray(b"QKFC") + struct.pack("<I", len(cases))
    for c in cases:
        kind = KIND[c["kind"]]
        small = "h" if kind == 2 else "b"
        out += struct.pack("<BBBB", kind, int(c["per_channel"]), ACT[c["activation"]], int(c["bias"] is not None))
        out += struct.pack("<III", c["batch"], c["in_dim"], c["out_dim"])
        out += struct.pack("<fifi", c["input_scale"], c["input_zero_point"], c["output_scale"], c["output_zero_point"])
        out += struct.pack("<I", len(c["filter_scales"])) + struct.pack(f"<{len(c['filter_scales'])}f", *c["filter_scales"])
        if kind == 1:
            out += bytes(c["weights_packed"])
        else:
            out += struct.pack(f"<{len(c['weights'])}b", *c["weights"])
        if c["bias"] is not None:
            out += struct.pack(f"<{len(c['bias'])}{'q' if kind == 2 else 'i'}", *c["bias"])
        out += struct.pack(f"<{len(c['input'])}{small}", *c["input"])
        out += struct.pack(f"<{len(c['output'])}{small}", *c["output"])
        out += bytes(-len(out) % 4)
    return bytes(out)


if __name__ == "__main__":
    data = build()
    if "--check" in sys.argv:
        same = os.path.exists(dst) and open(dst, "rb").read() == data
        print(f"{os.path.relpath(dst)}: {'in sync with' if same else 'OUT OF DATE, rerun gen_golden.py from'} tests/data/fc_golden.json")
        sys.exit(0 if same else 1)
    open(dst, "wb").write(data)
    print(f"wrote {dst}: {len(data)} bytes")
