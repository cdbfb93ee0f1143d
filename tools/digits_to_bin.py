#!/usr/bin/env python3
"""Convert the UCI 8x8 handwritten digits (the copy shipped inside scikit-learn,
no network needed) into examples/data/digits.bin for `cargo run --example digits`.

Run:  pip install scikit-learn  &&  python3 tools/digits_to_bin.py

Format (1797 records, 65 bytes each, 116,805 bytes):
    64 pixel bytes (row-major 8x8, each 0..=16), then 1 label byte (0..=9).
Records keep scikit-learn's order. Data: E. Alpaydin and C. Kaynak, UCI Machine
Learning Repository, "Optical Recognition of Handwritten Digits" (1998),
licensed CC BY 4.0; see examples/data/DIGITS-LICENSE.md.
"""
import hashlib
import pathlib

import numpy as np
from sklearn.datasets import load_digits


def main() -> None:
    d = load_digits()
    x = d.data.astype(np.uint8)
    y = d.target.astype(np.uint8)
    assert x.shape == (1797, 64) and x.max() <= 16 and y.max() <= 9
    rec = np.concatenate([x, y[:, None]], axis=1)
    out = pathlib.Path(__file__).resolve().parent.parent / "examples" / "data" / "digits.bin"
    out.write_bytes(rec.tobytes())
    print(out, len(rec.tobytes()), "bytes, sha256", hashlib.sha256(rec.tobytes()).hexdigest())


if __name__ == "__main__":
    main()
