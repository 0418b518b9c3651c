"""The asynchronous ARGNN under stale, delayed and lost information: the setting the
spectral-pruning paper motivates but never simulates.

Every non-input node wakes on its own Poisson clock (one activation per time unit on
average); inputs change every 10 time units; messages take exponential link delays and may
be lost; nodes may crash and recover. Three one-factor studies, each from the ideal
network (no delay, no loss, no crashes), for XOR and AND with h = 2..5:

* mean link delay from 0 to 4 activation periods (exponential delays);
* loss rate of value and error messages from 0 to 30 %;
* node crashes: each non-input node crashes at the given rate (per time unit) and stays
  down for an exponential time of mean 50 (5 input periods), then recovers with its weights;
  faults stop when evaluation starts, so the error measures what was learned under them.

Pruning variants: the reference spectral rule and our local rule (both mode DW), and no
pruning as the baseline under the same conditions.

    python scenarios/async_robustness.py            # 5 seeds, 2000 inputs
    python scenarios/async_robustness.py --quick    # XOR, h = 2, 2 seeds, 200 inputs

Writes ``async_runs.csv`` (one row per run), ``async.csv`` (mean ± sd per condition, gate,
h and variant), ``async_robustness.png``, ``summary.md``.
"""

from __future__ import annotations

from argnn_sim.errors import install_signals

install_signals()  # Ctrl-C while the modules below load: one line, exit 130

import sys
from typing import Any

import numpy as np

from argnn_sim.config import Scenario
from argnn_sim.experiment import finish, main_guard, md_table, out_dir, parser, sweep, write_table
from argnn_sim.sweep import Grid

NAME = "async_robustness"
DOWNTIME = 50.0
VARIANTS = {
    "reference-DW": {"pruning.policy": "spectral", "pruning.rule": "reference",
                     "pruning.mode": "DW"},
    "local-DW": {"pruning.policy": "spectral", "pruning.rule": "local", "pruning.mode": "DW"},
    "none": {"pruning.policy": "none"},
}


def conditions(quick: bool) -> list[tuple[str, dict[str, Any]]]:
    delays = (0.0, 1.0, 4.0) if quick else (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
    losses = (0.0, 0.3) if quick else (0.0, 0.05, 0.1, 0.2, 0.3)
    crashes = (0.0, 0.004) if quick else (0.0, 0.0005, 0.001, 0.002, 0.004)
    out: list[tuple[str, dict[str, Any]]] = []
    out += [(f"delay={d:g}", {"channel.delay": d}) for d in delays]
    out += [(f"loss={x:g}", {"channel.loss": x}) for x in losses]
    out += [(f"crash={c:g}", {"faults.crash_rate": c}) for c in crashes]
    return out


def make_grid(quick: bool, seeds: int | None) -> Grid:
    base = Scenario.from_dict({
        "name": NAME,
        "schedule": {"kind": "async", "inputs": 200 if quick else 2000, "wake_rate": 1.0,
                     "input_period": 10.0},
        "channel": {"model": "exponential"},
        "faults": {"downtime": DOWNTIME},
        "record": {"traces": "prunes"}})
    gates = ("XOR",) if quick else ("XOR", "AND")
    hs = (2,) if quick else (2, 3, 4, 5)
    return Grid(base=base, name=NAME, seeds=list(range(seeds or (2 if quick else 5))),
                axes={"condition": conditions(quick),
                      "gate": [(g, {"task.gate": g}) for g in gates],
                      "h": [(h, {"network.hidden": h}) for h in hs],
                      "variant": list(VARIANTS.items())})


def main(argv: list[str] | None = None) -> int:
    p = parser(NAME, __doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, default=None, help="runs per point (default 5)")
    args = p.parse_args(argv)
    grid = make_grid(args.quick, args.seeds)
    folder = out_dir(args, NAME)
    res = sweep(grid, folder / "sweep", args)
    runs = []
    for r in res.runs:
        factor, _, level = str(r["condition"]).partition("=")
        rec = next(x for x in res.records if x["key"] == r["key"])
        lost = crashes = 0
        if r["status"] == "ok":
            c = rec["summary"]["counters"]
            lost = sum(c["messages"]["lost"].values())
            crashes = c.get("faults", {}).get("crashes", 0)
        runs.append({"factor": factor, "level": float(level), "gate": r["gate"], "h": r["h"],
                     "variant": r["variant"], "seed": r["seed"], "status": r["status"],
                     "error": r["error"], "pruned": r["pruned"],
                     "remote_prunes": r["remote_prunes"], "messages_lost": lost,
                     "crashes": crashes})
    cells: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in runs:
        if r["status"] == "ok":
            cells.setdefault((r["factor"], r["level"], r["gate"], r["h"], r["variant"]),
                             []).append(r)
    table = []
    for (f, lvl, g, h, v), rs in cells.items():
        e = np.array([r["error"] for r in rs])
        k = np.array([r["pruned"] for r in rs], dtype=float)
        table.append({"factor": f, "level": lvl, "gate": g, "h": h, "variant": v, "n": len(rs),
                      "error_mean": e.mean(), "error_sd": e.std(ddof=1) if e.size > 1 else np.nan,
                      "pruned_mean": k.mean(), "pruned_sd": k.std(ddof=1) if k.size > 1 else np.nan,
                      "messages_lost_mean": float(np.mean([r["messages_lost"] for r in rs])),
                      "crashes_mean": float(np.mean([r["crashes"] for r in rs]))})
    write_table(folder / "async_runs.csv", runs, list(runs[0]) if runs else ["factor"])
    write_table(folder / "async.csv", table, list(table[0]) if table else ["factor"])
    md = markdown(table, grid, res, args)
    finish(folder, "async_robustness", md, args)
    return 0


def markdown(table: list[dict[str, Any]], grid: Grid, res: Any, args: Any) -> str:
    lines = [f"# Asynchronous ARGNN: delay, loss and crashes{' (quick)' if args.quick else ''}",
             "", f"{len(grid.seeds)} seeds per point, {grid.base.schedule.inputs} inputs held "
             f"{grid.base.schedule.input_period:g} time units each, wake rate "
             f"{grid.base.schedule.wake_rate:g}; exponential link delays; crash downtime "
             f"{DOWNTIME:g}. Runs: {res.executed} executed, {res.skipped} reused, "
             f"{res.failed} failed. Mean over h and seeds:", ""]
    pooled: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in table:
        pooled.setdefault((r["factor"], r["level"], r["gate"]), []).append(r)
    rows = []
    variants = list(VARIANTS)
    for (f, lvl, g), rs in pooled.items():
        row: dict[str, Any] = {"factor": f, "level": f"{lvl:g}", "gate": g}
        for v in variants:
            sel = [r for r in rs if r["variant"] == v]
            if sel:
                row[f"{v} error"] = f"{np.mean([r['error_mean'] for r in sel]):.3f}"
                if v != "none":
                    row[f"{v} pruned"] = f"{np.mean([r['pruned_mean'] for r in sel]):.2f}"
        rows.append(row)
    cols = ["factor", "level", "gate"] + [f"{v} {q}" for v in variants
                                          for q in ("error", "pruned")
                                          if not (v == "none" and q == "pruned")]
    lines += [md_table(rows, cols), "", "![async](async_robustness.png)"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main_guard(main, NAME))
