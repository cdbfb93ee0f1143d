"""Summarizes tools/compare/run.sh's raw medians: `side  round  id  ns  elements`.

For each benchmark: the median over the rounds of each side, the speed of
`new` against `old` (old time / new time: above 1 is faster), and MAC/cycle
at the clock of the same side's runs (group `clock`: elements are cycles).
"""
import collections
import statistics as st
import sys

times = collections.defaultdict(lambda: collections.defaultdict(list))
elements = {}
for line in open(sys.argv[1]):
    side, _round, bid, ns, el = line.rstrip("\n").split("\t")
    times[bid][side].append(float(ns))
    elements[bid] = int(el)

clock = {}
for side in ("old", "new"):
    ns = times.get("clock/cycles", {}).get(side)
    if ns:
        clock[side] = elements["clock/cycles"] / st.median(ns)  # cycles per ns
if clock:
    print("clock: " + ", ".join(f"{s} {ghz:.2f} GHz" for s, ghz in clock.items()))
print(f"{'benchmark':44s} {'old ns':>11s} {'new ns':>11s} {'speed':>6s} {'MAC/cyc old':>11s} {'new':>6s}")
ratios = []
for bid in sorted(times):
    old, new = times[bid].get("old"), times[bid].get("new")
    if not old or not new or bid.startswith("clock/"):
        continue
    mo, mn = st.median(old), st.median(new)
    ratios.append((mo / mn, bid))
    mac = ""
    if len(clock) == 2 and elements[bid]:
        mac = f" {elements[bid] / mo / clock['old']:11.2f} {elements[bid] / mn / clock['new']:6.2f}"
    print(f"{bid:44s} {mo:11.1f} {mn:11.1f} {mo / mn:6.3f}{mac}  ({len(old)}/{len(new)} runs)")
ratios.sort()
print("slowest after/before: " + ", ".join(f"{b} {r:.3f}" for r, b in ratios[:6]))
