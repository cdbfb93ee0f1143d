#!/usr/bin/env bash
# Before/after kernel benchmarks: tools/compare/bench.rs built against a base
# commit (default 306b236, the commit before the kernel-layer refactor of
# issue 11) and against this checkout, run alternately ROUNDS times (default
# 2), criterion medians collected per run; prints every benchmark's median
# over the rounds, the after/before speed ratio and MAC/cycle at the clock
# measured in the same runs (group `clock`).
#   tools/compare/run.sh [BASE] [ROUNDS] [criterion filter]
# x86_64 only (the clock is an x86 asm loop). Needs no network once the
# crates are fetched. The base must have the API bench.rs's feature `old`
# adapts to (306b236 and its neighbours).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
base=${1:-306b236}; rounds=${2:-2}; filter=${3:-}
work=$root/target/compare
mkdir -p "$work"
if [ ! -d "$work/base-src" ]; then
  git worktree add --detach "$work/base-src" "$base" >/dev/null
else
  git -C "$work/base-src" checkout -q --detach "$base"
fi
for side in old new; do
  src=$([ $side = old ] && echo "$work/base-src" || echo "$root")
  mkdir -p "$work/$side/benches" "$work/$side/src"
  : > "$work/$side/src/lib.rs"
  mkdir -p "$work/$side/benches/common"
  cp tools/compare/bench.rs "$work/$side/benches/cmp.rs"
  cp benches/common/clock.rs benches/common/data.rs "$work/$side/benches/common/"
  cat > "$work/$side/Cargo.toml" <<TOML
[package]
name = "compare-$side"
version = "0.0.0"
edition = "2024"
publish = false
[dependencies]
qkit = { path = "$src", features = ["std"] }
[dev-dependencies]
criterion = { version = "0.5", default-features = false, features = ["cargo_bench_support"] }
[features]
default = [$([ $side = old ] && echo '"old"')]
old = []
[[bench]]
name = "cmp"
harness = false
[workspace]
TOML
  (cd "$work/$side" && cargo bench -q --bench cmp --no-run)
done
raw=$work/raw.tsv
: > "$raw"
for r in $(seq 1 "$rounds"); do
  for side in old new; do
    rm -rf "$work/$side/target/criterion"
    (cd "$work/$side" && cargo bench -q --bench cmp -- $filter >/dev/null)
    python3 - "$work/$side/target/criterion" "$side" "$r" >> "$raw" <<'PY'
import json, os, sys
root, side, r = sys.argv[1:4]
for dp, _, fn in os.walk(root):
    if dp.endswith('/new') and 'estimates.json' in fn:
        b = json.load(open(os.path.join(dp, 'benchmark.json')))
        med = json.load(open(os.path.join(dp, 'estimates.json')))['median']['point_estimate']
        tp = b.get('throughput') or {}
        print(f"{side}\t{r}\t{b['full_id']}\t{med:.3f}\t{tp.get('Elements') or tp.get('Bytes') or 0}")
PY
    echo "round $r $side done" >&2
  done
done
python3 tools/compare/summarize.py "$raw"
