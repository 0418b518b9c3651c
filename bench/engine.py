"""Engine benchmark: activations per second by schedule, h and N; memory per edge; the cost
of trace recording. Prints a table and writes JSON.

    python bench/engine.py                       # everything (a few minutes)
    python bench/engine.py --only sweep,traces   # parts: sweep, async, traces
    python bench/engine.py --sizes 1000,10000    # async network sizes

Parts:

* ``sweep``: the logic circuit, mode D, reference rule, h = 2..5, every activation with a
  spectral check; the NumPy reference loop (``bench/reference_loop.py``) on the same runs
  in the same process, for a ratio measured in one run.
* ``async``: random sparse directed networks (mean in-degree 8), exponential link delays
  (mean 0.5), the local spectral rule (DW) checking on every activation, at each size;
  activations per second, cost per activation relative to the smallest size, and memory
  per edge (tracemalloc peak of building plus running, divided by the edge count,
  traces at their default level included).
* ``traces``: one sweep run at record levels ``full`` (default), ``prunes`` and ``none``.

Figures on a shared machine are noisy: compare ratios taken within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from argnn_sim.config import Scenario  # noqa: E402
from argnn_sim.engine import simulate  # noqa: E402


def sweep_part(inputs: int, hs: list[int]) -> list[dict[str, Any]]:
    from reference_loop import reference_run

    rows = []
    for h in hs:
        sc = Scenario.from_dict({"task": {"gate": "XOR"}, "network": {"hidden": h},
                                 "pruning": {"mode": "D"}, "rng": {"mode": "reference"},
                                 "schedule": {"inputs": inputs}, "record": {"traces": "prunes"}})
        r = simulate(sc, 0)
        t0 = time.perf_counter()
        ref = reference_run("XOR", h, "D", 0, inputs=inputs)
        t_ref = time.perf_counter() - t0
        acts = r.counters["activations"]
        same = ([list(e["edge"]) for e in r.prune_events]
                == [e["edge"] for e in ref["prune_events"]] and r.error == ref["error"])
        rows.append({"part": "sweep", "h": h, "activations": acts,
                     "seconds": r.timings["simulate"],
                     "activations_per_s": acts / r.timings["simulate"],
                     "reference_seconds": t_ref, "ratio_engine_to_reference":
                     r.timings["simulate"] / t_ref, "identical_prunes": same})
    return rows


def async_scenario(n: int, duration: float) -> Scenario:
    return Scenario.from_dict({
        "task": {"gate": "XOR"},
        "network": {"kind": "random", "nodes": n, "mean_degree": 8.0},
        "schedule": {"kind": "async", "inputs": 1, "input_period": duration, "wake_rate": 1.0},
        "channel": {"model": "exponential", "delay": 0.5},
        "pruning": {"policy": "spectral", "rule": "local", "mode": "DW"},
    })


def async_part(sizes: list[int], activations: int) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        duration = max(2.0, activations / n)  # about `activations` wakes in all
        sc = async_scenario(n, duration)
        r = simulate(sc, 0)
        acts = r.counters["activations"]
        edges = r.edges_before
        # Memory: a shorter run of the same network under tracemalloc (it slows Python down).
        short = async_scenario(n, max(1.0, duration / 4))
        tracemalloc.start()
        simulate(short, 0)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append({"part": "async", "nodes": n, "edges": edges, "activations": acts,
                     "seconds": r.timings["simulate"],
                     "activations_per_s": acts / r.timings["simulate"],
                     "us_per_activation": 1e6 * r.timings["simulate"] / acts,
                     "peak_bytes_per_edge": peak / edges})
    base = rows[0]["us_per_activation"] if rows else 1.0
    for row in rows:
        row["cost_vs_smallest"] = row["us_per_activation"] / base
    return rows


def traces_part(inputs: int) -> list[dict[str, Any]]:
    out = {}
    for level in ("full", "prunes", "none"):
        sc = Scenario.from_dict({"network": {"hidden": 4}, "pruning": {"mode": "DW"},
                                 "schedule": {"inputs": inputs}, "record": {"traces": level}})
        best = min(simulate(sc, 0).timings["simulate"] for _ in range(3))
        out[level] = best
    return [{"part": "traces", "level": k, "seconds": v,
             "overhead_vs_none": v / out["none"] - 1.0} for k, v in out.items()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="sweep,async,traces")
    ap.add_argument("--inputs", type=int, default=1000, help="training inputs per sweep run")
    ap.add_argument("--sizes", default="1000,10000,100000", help="async network sizes")
    ap.add_argument("--async-activations", type=int, default=200_000)
    ap.add_argument("--out", default=str(HERE / "engine.json"))
    args = ap.parse_args()
    parts = args.only.split(",")
    rows: list[dict[str, Any]] = []
    if "sweep" in parts:
        rows += sweep_part(args.inputs, [2, 3, 4, 5])
    if "async" in parts:
        rows += async_part([int(x) for x in args.sizes.split(",")], args.async_activations)
    if "traces" in parts:
        rows += traces_part(args.inputs)
    for part in dict.fromkeys(r["part"] for r in rows):
        sel = [r for r in rows if r["part"] == part]
        cols = list(sel[0])
        print(f"\n{part}")
        print("  ".join(f"{c:>14}" for c in cols[1:]))
        for r in sel:
            print("  ".join(f"{_fmt(r[c]):>14}" for c in cols[1:]))
    meta = {"python": sys.version.split()[0], "cpus": os.cpu_count(),
            "time": time.strftime("%Y-%m-%d %H:%M:%S")}
    Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"\nwritten: {args.out}")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"
    return str(v)


if __name__ == "__main__":
    main()
