"""Engine benchmark: activations per second by schedule, h and N; memory per edge; the cost
of trace recording; the full Fig. 3 grid. Prints tables and writes JSON.

    python bench/engine.py                        # sweep, async, traces (several minutes)
    python bench/engine.py --only sweep,traces    # parts: sweep, async, traces, fig3
    python bench/engine.py --sizes 1000,10000     # async network sizes
    python bench/engine.py --only fig3 --jobs 2   # the Fig. 3 grid, batched and SimPy
    python bench/engine.py --only single,fig3 --baseline ../old   # before and after, one run
    python bench/engine.py --only reference                  # reference rule, async
    python bench/engine.py --only study --baseline ../old    # async_robustness, both trees
    python bench/engine.py --only road --repeat 1            # SZ-taxi road runs, SimPy vs auto
    python bench/engine.py --only road-study --jobs 2 --baseline ../old   # the road comparison

Parts:

* ``sweep``: the logic circuit (XOR), mode D, reference rule, h = 2..5, every training
  activation with a spectral check. Three ways, timed in the same process: the published
  program restated in plain NumPy (``tests/reference_program.py``, one run), the SimPy
  engine (one run) and the batched engine (``argnn_sim.engines.batch``, ``--batch`` runs
  of different seeds at once, rate counted over all of them). Prune events and errors
  are checked identical.
* ``single``: one run, best of three, each in a fresh process: the default scenario (XOR,
  h = 2, DW, portable arithmetic) and the reference mode (rng and arithmetic reference,
  mode D) on the SimPy engine, and an async run of 1,000 nodes on the compiled engine.
  With ``--baseline DIR`` (another checkout, e.g. ``git worktree add ../old <commit>``)
  the same runs of that checkout too, in the same invocation, and the ratio.
* ``async``: random sparse directed networks (mean in-degree 8), exponential link delays
  (mean 0.5), the local spectral rule (DW) checking on every training activation, on the
  SimPy engine and the compiled engine (``--engines``; runs of ``--async-activations`` and
  ``--compiled-activations``), at each size and trace level: activations per second over a whole run, and in the steady
  state (the difference between a run and one half as long, so one-time costs such as a
  node's first wake drop out; each run's time the best of ``--repeat``), the share of activations that were checks, steady-state
  cost per activation relative to the smallest size, and memory per edge (tracemalloc
  peak of building plus running a shorter run, divided by the edge count, traces at that
  level included).
  Each condition of ``--kinds``: ``plain`` (ideal links) and ``lossy-faults`` (5 % loss,
  crashes at 0.004 per node and time unit with recovery after 25 on average).
* ``reference``: the reference rule (DW) in the async schedule, XOR with h = 2..5, input
  period 10, exponential delays of mean 0.5 (remote prunes travel as messages): SimPy
  and compiled engine, results checked identical, activations per second and the ratio.
* ``study``: ``scenarios/async_robustness.py --seeds N --jobs J`` (672 runs at 2 seeds):
  wall seconds, the engines that ran the runs; with ``--baseline`` that checkout too, the
  ratio, and whether every run's row is identical.
* ``road``: one SZ-taxi road run (``--data-root``) per method (the DW rule in the sweep
  schedule, and on delayed lossy links) and per hops of ``--road-hops``, on the SimPy
  engine and on ``auto``, in one process: seconds of the whole call (best of
  ``--repeat``), the ratio, whether the results are identical, memory per edge.
* ``road-study``: ``scenarios/road_network_compare.py --jobs J`` end to end, in this
  checkout and (``--baseline``) another, one after the other: wall seconds, the ratio, the
  engines, and whether every run's numbers are the same.
* ``traces``: the cost of each trace level against ``none``: one sweep run (SimPy) and
  one async run of 1,000 nodes per engine, best of three.
* ``fig3``: ``scenarios/paper_fig3.py --published-stream`` (540 runs) with
  ``--engine batch`` and ``--engine simpy``, wall seconds with ``--jobs``; with
  ``--baseline``, that checkout's script too.

Figures on a shared machine are noisy: compare ratios taken within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

from argnn_sim.config import Scenario  # noqa: E402
from argnn_sim.engines import run_many, simulate  # noqa: E402


def sweep_scenario(h: int, inputs: int) -> Scenario:
    return Scenario.from_dict({"task": {"gate": "XOR"}, "network": {"hidden": h},
                               "pruning": {"mode": "D"}, "rng": {"mode": "reference"},
                               "schedule": {"inputs": inputs}, "record": {"traces": "prunes"}})


def sweep_part(inputs: int, hs: list[int], batch: int) -> list[dict[str, Any]]:
    from reference_program import reference_run

    rows = []
    for h in hs:
        sc = sweep_scenario(h, inputs)
        r = simulate(sc, 0, engine="simpy")
        t0 = time.perf_counter()
        ref = reference_run("XOR", h, "D", 0, inputs=inputs)
        t_ref = time.perf_counter() - t0
        t0 = time.perf_counter()
        fast = run_many("batch", [sc] * batch, list(range(batch)))
        t_batch = time.perf_counter() - t0
        acts = r.counters["activations"]
        same = ([list(e["edge"]) for e in r.prune_events]
                == [e["edge"] for e in ref["prune_events"]] and r.error == ref["error"]
                and fast[0].prune_events == r.prune_events and fast[0].error == r.error)
        t_sim = r.timings["simulate"] + r.timings["setup"]
        rows.append({"part": "sweep", "h": h, "activations": acts,
                     "reference_per_s": acts / t_ref, "simpy_per_s": acts / t_sim,
                     "batch_per_s": acts * batch / t_batch, "batch_runs": batch,
                     "simpy_vs_reference": t_ref / t_sim,
                     "batch_vs_reference": t_ref * batch / t_batch,
                     "identical": same})
    return rows


#: the async part's conditions: ideal links, and the issue's lossy and crashing network
ASYNC_KINDS = {
    "plain": {},
    "lossy-faults": {"channel": {"model": "exponential", "delay": 0.5, "loss": 0.05},
                     "faults": {"crash_rate": 0.004, "downtime": 25.0}},
}


def async_scenario(n: int, duration: float, traces: str, kind: str = "plain") -> Scenario:
    # 40 inputs over `duration`: evaluation (4 rows x one input period) is a tenth of it
    d: dict[str, Any] = {
        "task": {"gate": "XOR"},
        "network": {"kind": "random", "nodes": n, "mean_degree": 8.0},
        "schedule": {"kind": "async", "inputs": 40, "input_period": duration / 40,
                     "wake_rate": 1.0},
        "channel": {"model": "exponential", "delay": 0.5},
        "pruning": {"policy": "spectral", "rule": "local", "mode": "DW"},
        "record": {"traces": traces},
    }
    d.update(ASYNC_KINDS[kind])
    return Scenario.from_dict(d)


def async_part(sizes: list[int], activations: int, levels: list[str], engines: list[str],
               compiled_activations: int, kinds: list[str],
               repeat: int = 1) -> list[dict[str, Any]]:
    rows = []
    if "compiled" in engines:  # compile (or load from numba's cache) before timing
        for kind in kinds:
            simulate(async_scenario(50, 2.0, "full", kind), 0, engine="compiled")
    for kind in kinds:
        rows += _async_kind(sizes, activations, levels, engines, compiled_activations, kind,
                            repeat)
    return rows


def _async_kind(sizes: list[int], activations: int, levels: list[str], engines: list[str],
                compiled_activations: int, kind: str, repeat: int) -> list[dict[str, Any]]:
    rows = []
    for engine in engines:
        total = compiled_activations if engine == "compiled" else activations
        for level in levels:
            for n in sizes:
                duration = max(0.4, total / n / 1.1)  # about `total` wakes in all
                # steady state: the second half's cost per activation (the difference of the
                # two runs), without one-time costs such as a node's first wake (its star,
                # its channel's random stream, the link set-up messages it finds waiting);
                # each run's time is the best of `repeat` (the same seed: the same run)
                t_short, t_long = float("inf"), float("inf")
                for _ in range(repeat):
                    short = simulate(async_scenario(n, duration, level, kind), 0, engine=engine)
                    r = simulate(async_scenario(n, 2 * duration, level, kind), 0, engine=engine)
                    t_short = min(t_short, short.timings["simulate"])
                    t_long = min(t_long, r.timings["simulate"])
                assert r.engine == engine
                acts = r.counters["activations"]
                edges = r.edges_before
                d_acts = acts - short.counters["activations"]
                d_secs = t_long - t_short
                # Memory: a shorter run of the same network under tracemalloc (it slows
                # Python; NumPy's arrays are counted too).
                tracemalloc.start()
                simulate(async_scenario(n, duration / 2, level, kind), 0, engine=engine)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                rows.append({"part": "async", "kind": kind, "engine": engine, "traces": level,
                             "nodes": n,
                             "edges": edges, "activations": acts,
                             "checks_share": r.counters["checks"] / acts,
                             "seconds": t_long,
                             "activations_per_s": acts / t_long,
                             "steady_per_s": d_acts / d_secs,
                             "us_per_activation": 1e6 * d_secs / d_acts,
                             "setup_s": r.timings["setup"],
                             "peak_bytes_per_edge": peak / edges})
    for engine in engines:
        for level in levels:
            sel = [r for r in rows if r["traces"] == level and r["engine"] == engine]
            for row in sel:
                row["cost_vs_smallest"] = row["us_per_activation"] / sel[0]["us_per_activation"]
    if "compiled" in engines and "simpy" in engines:
        for row in rows:
            if row["engine"] == "compiled":
                twin = [r for r in rows if r["engine"] == "simpy" and r["nodes"] == row["nodes"]
                        and r["traces"] == row["traces"]]
                if twin:
                    row["vs_simpy"] = row["steady_per_s"] / twin[0]["steady_per_s"]
    return rows


def reference_scenario(h: int, inputs: int) -> Scenario:
    return Scenario.from_dict({
        "task": {"gate": "XOR"}, "network": {"hidden": h},
        "schedule": {"kind": "async", "inputs": inputs, "input_period": 10.0, "wake_rate": 1.0},
        "channel": {"model": "exponential", "delay": 0.5},
        "pruning": {"policy": "spectral", "rule": "reference", "mode": "DW"},
        "record": {"traces": "prunes"}})


def reference_part(inputs: int, hs: list[int]) -> list[dict[str, Any]]:
    """The reference rule in the async schedule (remote prunes are messages): the logic
    circuit, exponential delays, on both engines; results checked identical."""
    from argnn_sim.testing import assert_same_result

    simulate(reference_scenario(2, 20), 0, engine="compiled")  # compile or load the cache
    rows = []
    for h in hs:
        sc = reference_scenario(h, inputs)
        slow = simulate(sc, 0, engine="simpy")
        fast = simulate(sc, 0, engine="compiled")
        assert_same_result(fast, slow, ignore=("engine", "engine_note"))
        acts = slow.counters["activations"]
        row = {"part": "reference", "h": h, "activations": acts,
               "prune_requests": slow.counters["messages"]["sent"]["prune_request"],
               "simpy_per_s": acts / slow.timings["simulate"],
               "compiled_per_s": acts / fast.timings["simulate"]}
        row["ratio"] = row["compiled_per_s"] / row["simpy_per_s"]
        rows.append(row)
    return rows


def _script_in_trees(part: str, baseline: str | None, jobs: int,
                     argv: Callable[[Path, str], list[str]],
                     read: Callable[[Path], tuple[list[Any], dict[str, int]]],
                     warm: str | None = None) -> list[dict[str, Any]]:
    """Run a study script in this checkout and (``baseline``) another, one after the other:
    ``argv(root, folder)`` is its command, ``read(folder)`` its runs (sorted, comparable)
    and the engines that ran them; ``warm`` is Python run in the tree first (numba's
    cache), outside the timing. One row per tree: wall seconds and engines; on the first,
    the ratio, whether the runs are identical, and how many are in one tree only."""
    rows = []
    got: dict[str, Any] = {}
    for label, root in _trees(baseline):
        if warm:
            _in_tree(root, [sys.executable, "-c", warm])
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            proc = _in_tree(root, argv(root, tmp))
            secs = time.perf_counter() - t0
            if proc.returncode != 0:
                raise RuntimeError(f"{label}: {proc.stderr[-2000:]}")
            runs, engines = read(Path(tmp))
        got[label] = (secs, runs)
        rows.append({"part": part, "tree": label, "runs": len(runs), "jobs": jobs,
                     "seconds": secs, "engines": json.dumps(engines, sort_keys=True)})
    if "baseline" in got:
        rows[0]["baseline_over_this"] = got["baseline"][0] / got["this"][0]
        rows[0]["identical_results"] = got["baseline"][1] == got["this"][1]
        rows[0]["rows_only_in_one"] = len(set(got["baseline"][1]) ^ set(got["this"][1]))
    return rows


def _count(engines: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for e in engines:
        out[e] = out.get(e, 0) + 1
    return out


def study_part(jobs: int, seeds: int, baseline: str | None) -> list[dict[str, Any]]:
    """``scenarios/async_robustness.py --seeds N --jobs J``: wall time of this checkout (and
    of the baseline's), whether every run was identical, and which engines ran them."""
    import csv

    warm = ("from argnn_sim import Scenario, simulate\n"
            "for rule in ('local', 'reference'):\n"
            "    for loss, crash in ((0.0, 0.0), (0.1, 0.01)):\n"
            "        simulate(Scenario.from_dict({'schedule': {'kind': 'async', 'inputs': 3},"
            " 'pruning': {'rule': rule}, 'channel': {'delay': 0.5, 'loss': loss},"
            " 'faults': {'crash_rate': crash}}), 0)")

    def argv(root: Path, out: str) -> list[str]:
        return [sys.executable, str(root / "scenarios" / "async_robustness.py"),
                "--seeds", str(seeds), "--jobs", str(jobs), "--out", out]

    def read(folder: Path) -> tuple[list[Any], dict[str, int]]:
        with open(folder / "async_runs.csv", encoding="utf-8") as fh:
            runs = sorted(tuple(sorted(r.items())) for r in csv.DictReader(fh))
        engines = [json.loads(rec.read_text()).get("summary", {}).get("engine", "?")
                   for rec in Path(folder, "sweep", "runs").rglob("*.json")]
        return runs, _count(engines)

    return _script_in_trees("study", baseline, jobs, argv, read, warm)


ROAD_METHODS = ("spectral-DW", "spectral-DW-async")


def _road_sc(data_root: str, hops: int, method: str, **short: int) -> Scenario:
    """One run of the road comparison (``prunegcrn_bridge.road``): SZ-taxi, the local rule
    with every input edge eligible and outputs pruning, DW; the sweep schedule, or (a
    method ending in ``-async``) delayed lossy links."""
    from prunegcrn_bridge.road.config import RoadConfig, road_scenario

    return road_scenario(RoadConfig(data_root=data_root, hops=hops, **short), method, 0)


def road_part(data_root: str, hops_list: list[int], repeat: int = 1) -> list[dict[str, Any]]:
    """One SZ-taxi road run per method and hops, on the SimPy engine and on ``auto``, in
    this process: wall seconds of the whole ``simulate`` call (data, network, run,
    metrics), the ratio, whether the results are identical (every field, metrics
    included), and memory per edge (tracemalloc peak of a run with the splits cut to 300
    and 80 steps, divided by the edges)."""
    from argnn_sim.testing import result_differences

    simulate(_road_sc(data_root, 1, ROAD_METHODS[1], train_steps=40, test_steps=20), 0)
    simulate(_road_sc(data_root, 1, ROAD_METHODS[0], train_steps=40, test_steps=20), 0)
    rows = []
    for method in ROAD_METHODS:
        for hops in hops_list:
            sc = _road_sc(data_root, hops, method)
            res, secs = {}, {}
            for engine in ("simpy", "auto"):
                best = float("inf")
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    r = simulate(sc, 0, engine=engine)
                    best = min(best, time.perf_counter() - t0)
                res[engine], secs[engine] = r, best
            same = result_differences(res["auto"], res["simpy"]) == []
            short = _road_sc(data_root, hops, method, train_steps=300, test_steps=80)
            for engine in ("simpy", "auto"):
                r = res[engine]
                tracemalloc.start()
                simulate(short, 0, engine=engine)
                _, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                rows.append({"part": "road", "method": method, "hops": hops,
                             "engine": r.engine, "nodes": len(r.labels),
                             "edges": r.edges_before, "activations": r.counters["activations"],
                             "seconds": secs[engine], "simulate_s": r.timings["simulate"],
                             "activations_per_s": r.counters["activations"] /
                             r.timings["simulate"],
                             "peak_bytes_per_edge": peak / r.edges_before,
                             "mae": r.metrics["mae"], "prunes": len(r.prune_events)})
            rows[-1]["simpy_over_auto"] = secs["simpy"] / secs["auto"]
            rows[-1]["identical"] = same
    return rows


def road_study_part(jobs: int, data_root: str, baseline: str | None,
                    seeds: int | None = None) -> list[dict[str, Any]]:
    """``scenarios/road_network_compare.py --jobs J``: the road comparison end to end (its
    simulator runs, tables and figures), wall seconds in this checkout and the baseline's,
    the ratio, the engines that ran its runs, and whether every run's numbers are the same
    (each run's metrics, edges and removals; not its seconds or engine)."""
    keep = ("method", "seed", "fraction", "mae", "rmse", "mape", "sensors_used", "edges",
            "removed")
    for m in ROAD_METHODS:  # numba's cache for this checkout, outside the timing
        simulate(_road_sc(data_root, 0, m, train_steps=40, test_steps=20), 0)

    def argv(root: Path, out: str) -> list[str]:
        return [sys.executable, str(root / "scenarios" / "road_network_compare.py"),
                "--jobs", str(jobs), "--data-root", data_root, "--out", out,
                "--no-progress"] + ([] if seeds is None else ["--seeds", str(seeds)])

    def read(folder: Path) -> tuple[list[Any], dict[str, int]]:
        recs = json.loads((folder / "rows.json").read_text())
        runs = sorted(json.dumps({k: r.get(k) for k in keep}, sort_keys=True) for r in recs)
        return runs, _count([r.get("engine", "?") for r in recs])

    return _script_in_trees("road-study", baseline, jobs, argv, read)


def traces_part(inputs: int, engines: list[str]) -> list[dict[str, Any]]:
    rows = []
    kinds = [("sweep", "simpy")] + [("async", e) for e in engines]
    for kind, engine in kinds:
        best = {}
        for level in ("full", "prunes", "none"):
            if kind == "sweep":
                sc = Scenario.from_dict({"network": {"hidden": 4}, "pruning": {"mode": "DW"},
                                         "schedule": {"inputs": inputs},
                                         "record": {"traces": level}})
            else:
                sc = async_scenario(1000, 20.0 if engine == "simpy" else 100.0, level)
            best[level] = min(simulate(sc, 0, engine=engine).timings["simulate"]
                              for _ in range(3))
        rows += [{"part": "traces", "schedule": kind, "engine": engine, "level": k,
                  "seconds": v, "overhead_vs_none": v / best["none"] - 1.0}
                 for k, v in best.items()]
    return rows


def _trees(baseline: str | None) -> list[tuple[str, Path]]:
    """This checkout, and the baseline checkout if one is given."""
    trees = [("this", HERE.parent)]
    if baseline:
        trees.append(("baseline", Path(baseline).resolve()))
    return trees


def _in_tree(root: Path, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with ``root``'s own argnn_sim first on the path (cwd and PYTHONPATH)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(argv, capture_output=True, text=True, cwd=root, env=env)


SINGLE = {
    "sweep default (XOR h=2 DW)": ({}, "simpy"),
    "sweep reference (XOR h=2 D)": ({"pruning": {"mode": "D"}, "rng": {"mode": "reference"}},
                                    "simpy"),
    "async 1,000 nodes": ({"task": {"gate": "XOR"},
                           "network": {"kind": "random", "nodes": 1000, "mean_degree": 8.0},
                           "schedule": {"kind": "async", "inputs": 40, "input_period": 25.0},
                           "channel": {"model": "exponential", "delay": 0.5},
                           "pruning": {"rule": "local"}}, "compiled"),
}
_SINGLE_CODE = """
import json, sys
from argnn_sim import Scenario, simulate
data = json.loads(sys.argv[1]); data.setdefault("record", {"traces": "prunes"})
sc = Scenario.from_dict(data)
simulate(sc, 0, engine=sys.argv[2])  # warm: imports, numba's cache
best = min(simulate(sc, 0, engine=sys.argv[2]).timings["simulate"] for _ in range(3))
r = simulate(sc, 0, engine=sys.argv[2])
print(json.dumps({"activations": r.counters["activations"], "seconds": best}))
"""


def single_part(baseline: str | None) -> list[dict[str, Any]]:
    rows = []
    for name, (data, engine) in SINGLE.items():
        got = {}
        for label, root in _trees(baseline):
            proc = _in_tree(root, [sys.executable, "-c", _SINGLE_CODE, json.dumps(data), engine])
            if proc.returncode != 0:
                raise RuntimeError(f"{label}: {proc.stderr[-2000:]}")
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            got[label] = res["activations"] / res["seconds"]
            rows.append({"part": "single", "run": name, "engine": engine, "tree": label,
                         "activations": res["activations"], "seconds": res["seconds"],
                         "activations_per_s": got[label]})
        if "baseline" in got:
            rows[-2]["vs_baseline"] = got["this"] / got["baseline"]
    return rows


def fig3_part(jobs: int, baseline: str | None = None,
              engines: tuple[str, ...] = ("batch", "simpy")) -> list[dict[str, Any]]:
    rows = []
    for label, root in _trees(baseline):
        for engine in engines:
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                proc = _in_tree(root, [sys.executable, str(root / "scenarios" / "paper_fig3.py"),
                                       "--published-stream", "--jobs", str(jobs), "--engine",
                                       engine, "--out", tmp])
                secs = time.perf_counter() - t0
            ok = proc.returncode == 0 and "28 of 28 checks pass" in proc.stdout
            rows.append({"part": "fig3", "tree": label, "engine": engine, "jobs": jobs,
                         "seconds": secs, "published_checks_pass": ok})
    for r in rows:
        twin = [x for x in rows if x["tree"] == "baseline" and x["engine"] == r["engine"]]
        if r["tree"] == "this" and twin:
            r["baseline_over_this"] = twin[0]["seconds"] / r["seconds"]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="sweep,async,traces")
    ap.add_argument("--inputs", type=int, default=1000, help="training inputs per sweep run")
    ap.add_argument("--batch", type=int, default=30, help="runs per batch in the sweep part")
    ap.add_argument("--sizes", default="1000,10000,100000", help="async network sizes")
    ap.add_argument("--levels", default="prunes,full", help="async trace levels")
    ap.add_argument("--async-activations", type=int, default=100_000,
                    help="activations of an async run on the SimPy engine")
    ap.add_argument("--compiled-activations", type=int, default=1_000_000,
                    help="activations of an async run on the compiled engine")
    ap.add_argument("--engines", default="simpy,compiled",
                    help="async engines: simpy, compiled (needs numba)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="async part: each run timed this many times, the best kept")
    ap.add_argument("--jobs", type=int, default=2, help="workers for the fig3 part")
    ap.add_argument("--baseline", help="another checkout to time beside this one (parts "
                                       "single and fig3)")
    ap.add_argument("--fig3-engines", default="batch,simpy", help="engines of the fig3 part")
    ap.add_argument("--kinds", default="plain,lossy-faults",
                    help="async conditions: plain (ideal links), lossy-faults (5 %% loss, "
                         "crashes at 0.004 per node and time unit, downtime 25)")
    ap.add_argument("--reference-inputs", type=int, default=2000,
                    help="inputs per run of the reference part")
    ap.add_argument("--study-seeds", type=int, default=2, help="seeds of the study part")
    ap.add_argument("--data-root", default=os.environ.get("ARGNN_DATA", str(HERE.parent.parent /
                                                                           "shared" / "data")),
                    help="parts road and road-study: the folder holding SZ_TAXI/")
    ap.add_argument("--road-hops", default="0,1", help="hops of the road part's runs")
    ap.add_argument("--road-seeds", type=int, help="road-study: seeds (default: the script's)")
    ap.add_argument("--out", default=str(HERE / "engine.json"))
    args = ap.parse_args()
    parts = args.only.split(",")
    rows: list[dict[str, Any]] = []
    if "sweep" in parts:
        rows += sweep_part(args.inputs, [2, 3, 4, 5], args.batch)
    if "async" in parts:
        rows += async_part([int(x) for x in args.sizes.split(",")], args.async_activations,
                           args.levels.split(","), args.engines.split(","),
                           args.compiled_activations, args.kinds.split(","), args.repeat)
    if "reference" in parts:
        rows += reference_part(args.reference_inputs, [2, 3, 4, 5])
    if "study" in parts:
        rows += study_part(args.jobs, args.study_seeds, args.baseline)
    if "road" in parts:
        rows += road_part(args.data_root, [int(x) for x in args.road_hops.split(",")],
                          args.repeat)
    if "road-study" in parts:
        rows += road_study_part(args.jobs, args.data_root, args.baseline, args.road_seeds)
    if "traces" in parts:
        rows += traces_part(args.inputs, args.engines.split(","))
    if "single" in parts:
        rows += single_part(args.baseline)
    if "fig3" in parts:
        rows += fig3_part(args.jobs, args.baseline, tuple(args.fig3_engines.split(",")))
    for part in dict.fromkeys(r["part"] for r in rows):
        sel = [r for r in rows if r["part"] == part]
        cols = list(dict.fromkeys(c for r in sel for c in r))[1:]
        print(f"\n{part}")
        print("  ".join(f"{c:>18}" for c in cols))
        for r in sel:
            print("  ".join(f"{_fmt(r.get(c, '')):>18}" for c in cols))
    meta = {"python": sys.version.split()[0], "cpus": os.cpu_count(),
            "time": time.strftime("%Y-%m-%d %H:%M:%S"), "argv": sys.argv[1:]}
    Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    print(f"\nwritten: {args.out}")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"
    return str(v)


if __name__ == "__main__":
    main()
