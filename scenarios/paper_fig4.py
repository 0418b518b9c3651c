"""The spectral-pruning paper's Fig. 4: when pruning happens. Training error and the share
of edges pruned over training, XOR with h = 2, 5 and 10, degree D against DW, 5 runs of
1000 inputs; the band is the spread (min to max) across runs.

    python scenarios/paper_fig4.py           # full
    python scenarios/paper_fig4.py --quick   # h = 2 only, 3 runs of 300 inputs

Writes ``fig4_runs.csv`` (per run and input: training error, edges pruned),
``fig4_bands.csv`` (per h, mode and input: mean, min and max across runs), ``fig4.png``,
``summary.md``. The training error of one input is |V_out - y| after its passes; the
curves show its moving mean over ``--window`` inputs.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from argnn_sim.config import Scenario
from argnn_sim.experiment import finish, md_table, out_dir, parser, sweep, write_table
from argnn_sim.sweep import Grid

NAME = "paper_fig4"


def make_grid(quick: bool) -> Grid:
    base = Scenario.from_dict({"name": NAME, "task": {"gate": "XOR"},
                               "schedule": {"inputs": 300 if quick else 1000},
                               "record": {"traces": "prunes"}})
    hs = (2,) if quick else (2, 5, 10)
    return Grid(base=base, name=NAME, seeds=list(range(3 if quick else 5)), keep=("curves",),
                axes={"h": [(h, {"network.hidden": h}) for h in hs],
                      "mode": [("D", {"pruning.mode": "D"}), ("DW", {"pruning.mode": "DW"})]})


def moving_mean(x: np.ndarray, k: int) -> np.ndarray:
    """Mean of the last ``k`` values at each point (fewer at the start)."""
    c = np.cumsum(np.insert(x, 0, 0.0))
    idx = np.arange(1, x.size + 1)
    lo = np.maximum(idx - k, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def main(argv: list[str] | None = None) -> int:
    p = parser(NAME, __doc__.split("\n\n")[0])
    p.add_argument("--window", type=int, default=50, help="moving-mean window (inputs)")
    args = p.parse_args(argv)
    if args.window < 1:
        p.error("--window must be at least 1")
    grid = make_grid(args.quick)
    folder = out_dir(args, NAME)
    res = sweep(grid, folder / "sweep", args)
    long_rows: list[dict[str, Any]] = []
    per_cell: dict[tuple[Any, Any], list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    first: dict[tuple[Any, Any], list[float]] = {}
    for rec in res.records:
        if rec["status"] != "ok":
            continue
        cell = dict(rec["cell"])
        s = rec["summary"]
        c = rec["curves"]
        t = np.asarray(c["input"])
        err = moving_mean(np.asarray(c["train_error"], dtype=float), args.window)
        pct = 100.0 * (s["edges_before"] - np.asarray(c["edges"], dtype=float)) / s["edges_before"]
        key = (cell["h"], cell["mode"])
        per_cell.setdefault(key, []).append((t, err, pct))
        if s["prune_events"]:
            first.setdefault(key, []).append(float(s["prune_events"][0]["input"]))
        for i in range(t.size):
            long_rows.append({"h": cell["h"], "mode": cell["mode"], "seed": rec["seed"],
                              "input": int(t[i]), "train_error": float(c["train_error"][i]),
                              "error_smooth": float(err[i]), "pruned_pct": float(pct[i])})
    bands = []
    table = []
    for (h, mode), curves in per_cell.items():
        t = curves[0][0]
        E = np.vstack([e for _t, e, _p in curves])
        Q = np.vstack([q for _t, _e, q in curves])
        for i in range(t.size):
            bands.append({"h": h, "mode": mode, "input": int(t[i]),
                          "error_mean": E[:, i].mean(), "error_lo": E[:, i].min(),
                          "error_hi": E[:, i].max(), "pruned_pct_mean": Q[:, i].mean(),
                          "pruned_pct_lo": Q[:, i].min(), "pruned_pct_hi": Q[:, i].max()})
        half = int(np.searchsorted(t, t[-1] / 2))
        fp = first.get((h, mode), [])
        table.append({"h": h, "mode": mode, "runs": len(curves),
                      "pruned % at half": f"{Q[:, half].mean():.1f}",
                      "pruned % at end": f"{Q[:, -1].mean():.1f}",
                      "first prune (input, median)": f"{np.median(fp):.0f}" if fp else "-",
                      "final train error": f"{E[:, -1].mean():.3f}"})
    write_table(folder / "fig4_runs.csv", long_rows,
                ["h", "mode", "seed", "input", "train_error", "error_smooth", "pruned_pct"])
    write_table(folder / "fig4_bands.csv", bands,
                ["h", "mode", "input", "error_mean", "error_lo", "error_hi",
                 "pruned_pct_mean", "pruned_pct_lo", "pruned_pct_hi"])
    md = "\n".join([
        f"# Paper Fig. 4: when pruning happens{' (quick)' if args.quick else ''}", "",
        f"XOR, {len(grid.seeds)} runs of {grid.base.schedule.inputs} inputs per line, reference "
        f"rule; training error as a moving mean over {args.window} inputs. Runs: "
        f"{res.executed} executed, {res.skipped} reused, {res.failed} failed.", "",
        md_table(table, ["h", "mode", "runs", "first prune (input, median)",
                         "pruned % at half", "pruned % at end", "final train error"]), "",
        "![Fig. 4](fig4.png)"])
    finish(folder, "paper_fig4", md, args, window=args.window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
