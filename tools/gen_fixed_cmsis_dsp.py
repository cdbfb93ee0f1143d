"""Golden vectors for qkit::fixed from the real CMSIS-DSP library.

Run:   /opt/qkit-venv/bin/python tools/gen_fixed_cmsis_dsp.py
Needs: numpy, cmsisdsp==1.10.3 (the CMSIS-DSP C sources compiled for the host
       by its Python wrapper; on x86 these are the generic C paths).
Writes tests/data/fixed_cmsis_dsp.json, read by tests/fixed_golden.rs.

Covers the Q15 and Q31 basic-math kernels whose semantics qkit's Fixed
reproduces: arm_add / arm_sub (saturating), arm_mult (truncating multiply:
`saturating_mul_floor`; for Q31 with the last bit cleared), arm_negate and
arm_abs (saturating, MIN -> MAX), arm_q15_to_float / arm_q31_to_float.
"""
import json
import os

import cmsisdsp as dsp
import numpy as np

rng = np.random.default_rng(20261127)


def operands(bits, n):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    edges = [lo, lo + 1, -(1 << (bits - 2)), -2, -1, 0, 1, 2, 1 << (bits - 2), 3 << (bits - 3), hi - 1, hi]
    dtype = np.int16 if bits == 16 else np.int32
    a = [x for x in edges for _ in edges]
    b = [y for _ in edges for y in edges]
    a += list(rng.integers(lo, hi, n, endpoint=True))
    b += list(rng.integers(lo, hi, n, endpoint=True))
    # Small-magnitude operands, where rounding of the product shows.
    a += list(rng.integers(-(1 << 12), 1 << 12, n // 4, endpoint=True))
    b += list(rng.integers(lo, hi, n // 4, endpoint=True))
    return np.array(a, dtype=dtype), np.array(b, dtype=dtype)


def ints(x):
    return [int(v) for v in x]


def f32_bits(x):
    # Bit patterns, not decimals: exact whatever JSON parser reads them.
    return [int(v) for v in np.asarray(x, dtype=np.float32).view(np.uint32)]


out = {"cmsisdsp_version": "1.10.3"}
for name, bits in (("q15", 16), ("q31", 32)):
    a, b = operands(bits, 1200)
    mod = {
        "a": ints(a),
        "b": ints(b),
        "add": ints(getattr(dsp, f"arm_add_{name}")(a, b)),
        "sub": ints(getattr(dsp, f"arm_sub_{name}")(a, b)),
        "mult": ints(getattr(dsp, f"arm_mult_{name}")(a, b)),
        "negate": ints(getattr(dsp, f"arm_negate_{name}")(a)),
        "abs": ints(getattr(dsp, f"arm_abs_{name}")(a)),
        "to_float_bits": f32_bits(getattr(dsp, f"arm_{name}_to_float")(a)),
    }
    out[name] = mod

path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "fixed_cmsis_dsp.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote", path, os.path.getsize(path), "bytes")
