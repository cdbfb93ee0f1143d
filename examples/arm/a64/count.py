#!/usr/bin/env python3
"""Exact instruction counts of the AArch64 benchmark (`a64 bench`) under qemu-aarch64.

usage: count.py <a64 ELF> [cpu]          (cpu: max (default) or cortex-a53)

qemu-aarch64 -singlestep -d exec,nochain puts every executed instruction in a
translation block of its own and logs each execution, so the number of
"Trace" lines between the entry of a64_mark_begin and the entry of
a64_mark_end is the number of instructions executed in between (the
kernel and the marker calls). The count of the first, empty region is that
overhead and is subtracted. The trace is streamed through a pipe (it holds
the whole benchmark's setup too) and restricted with -dfilter to the
program's own .text, relocated by the load address that `a64 marks`
reports (the binary is position-independent; qemu-user loads it at a fixed
base).
Calls into the C library inside a measured region would not be counted; the
kernels make none (they allocate nothing and copy nothing).

Prints one line per region: name, shape, instructions, instructions per MAC.
"""
import os
import re
import subprocess
import sys


def symbols(elf):
    out = subprocess.run(["aarch64-linux-gnu-nm", elf], capture_output=True, text=True, check=True).stdout
    return {f[2]: int(f[0], 16) for f in (l.split() for l in out.splitlines()) if len(f) == 3}


def text_range(elf):
    out = subprocess.run(["aarch64-linux-gnu-objdump", "-h", elf], capture_output=True, text=True, check=True).stdout
    m = re.search(r"\s\.text\s+([0-9a-f]+)\s+([0-9a-f]+)", out)
    size, vma = int(m.group(1), 16), int(m.group(2), 16)
    return vma, vma + size - 1


def main(elf, cpu="max"):
    syms = symbols(elf)
    run = subprocess.run(["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", "-cpu", cpu, elf, "marks"],
                         capture_output=True, text=True, check=True).stdout
    bias = int(run.split()[1], 16) - syms["a64_mark_begin"]
    begin, end = syms["a64_mark_begin"] + bias, syms["a64_mark_end"] + bias
    lo, hi = (a + bias for a in text_range(elf))
    r, w = os.pipe()
    cmd = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", "-cpu", cpu, "-singlestep", "-d", "exec,nochain",
           "-dfilter", f"{lo:#x}..{hi:#x}", "-D", f"/dev/fd/{w}", elf, "bench"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, pass_fds=(w,), text=True)
    os.close(w)
    counts, n, inside = [], 0, False
    tb = re.compile(rb"^Trace [^\[]*\[[0-9a-f]+/([0-9a-f]+)/")
    with os.fdopen(r, "rb", buffering=1 << 20) as log:
        for line in log:
            m = tb.match(line)
            if not m:
                continue
            pc = int(m.group(1), 16)
            if pc == begin:
                inside, n = True, 0
            elif pc == end and inside:
                counts.append(n)
                inside = False
            if inside:
                n += 1
    out = p.stdout.read().splitlines()
    rc = p.wait()
    names = [l.split()[1:] for l in out if l.startswith("MEASURE ")]
    names = [(" ".join(f[:-1]), f[-1]) for f in names]
    if rc != 0 or len(names) != len(counts) or not names or names[0][0] != "empty":
        print("\n".join(out))
        sys.exit(f"count.py: run failed (exit {rc}) or {len(names)} regions announced, {len(counts)} traced")
    overhead = counts[0]
    print(f"AArch64 -cpu {cpu}: instructions between the markers, less the empty region's {overhead}")
    for (name, shape), c in list(zip(names, counts))[1:]:
        rows, cols = map(int, shape.split("x"))
        ins = c - overhead
        print(f"RESULT {name:<38} {shape:>8} insns={ins:>8} insn/MAC={ins / (rows * cols):.3f}")
    print("\n".join(l for l in out if not l.startswith("MEASURE ")))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(*sys.argv[1:3])
