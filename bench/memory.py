"""Memory per edge of a run, the constant behind ``argnn_sim.limits`` (its estimate refuses a
run that would not fit before building it). Prints a table, writes JSON.

    python bench/memory.py [--out bench/memory.json]

Each case runs in a fresh process (one input, trace level ``prunes``); the bytes are that
process's peak resident memory after the run minus before it, divided by the edges.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, resource, sys, time
from argnn_sim import Scenario, simulate
from argnn_sim.limits import estimate
kind, size, engine = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if kind == "logic":
    sc = Scenario.from_dict({"network": {"hidden": size}, "record": {"traces": "prunes"},
                             "schedule": {"inputs": 1, "sweeps": 1, "eval_sweeps": 1}})
else:
    sc = Scenario.from_dict({"network": {"kind": "random", "nodes": size, "mean_degree": 8.0},
                             "schedule": {"kind": "async", "inputs": 1, "input_period": 0.5},
                             "record": {"traces": "prunes"}, "pruning": {"rule": "local"}})
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
r = simulate(sc, engine=engine)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"network": kind, "size": size, "engine": r.engine, "edges": r.edges_before,
                  "bytes_per_edge": (peak - base) * 1024 / r.edges_before,
                  "estimate_per_edge": estimate(sc).bytes / r.edges_before,
                  "seconds": time.perf_counter() - t}))
"""

CASES = [("logic", 150, "simpy"), ("logic", 300, "simpy"), ("random", 20_000, "simpy"),
         ("random", 100_000, "simpy"), ("random", 100_000, "compiled")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(HERE / "memory.json"))
    args = ap.parse_args()
    rows = []
    for kind, size, engine in CASES:
        p = subprocess.run([sys.executable, "-c", CHILD, kind, str(size), engine],
                           capture_output=True, text=True, check=True, cwd=HERE.parent)
        rows.append(json.loads(p.stdout.strip().splitlines()[-1]))
    print(f"{'network':<8} {'size':>8} {'engine':<9} {'edges':>9} {'B/edge':>7} "
          f"{'estimate':>9} {'s':>6}")
    for r in rows:
        print(f"{r['network']:<8} {r['size']:>8} {r['engine']:<9} {r['edges']:>9} "
              f"{r['bytes_per_edge']:>7.0f} {r['estimate_per_edge']:>9.0f} {r['seconds']:>6.1f}")
    Path(args.out).write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
