"""The spectral-pruning paper's Fig. 3: error and pruned edges against the number of hidden
nodes h, for AND/OR/XOR, degree modes D and DW and no pruning, 10 runs of 2000 inputs.

    python scenarios/paper_fig3.py                       # full grid, own seeds
    python scenarios/paper_fig3.py --published-stream    # the published data, exactly
    python scenarios/paper_fig3.py --quick               # a small grid, under a minute

``--published-stream`` draws the whole grid from one ``RandomState(0)`` in the published
loop order gate > mode > h > run, and checks the numbers the published data give
(pruned edges per run of AND_D h=2 and OR_DW h=3, cell means); it exits with status 1 if
any check fails. ``--only AND/D/2,OR/DW/3`` runs just those cells of the grid (the stream
is still fast-forwarded through the whole grid, so the numbers are the published ones).

Writes ``fig3.csv`` (one row per cell: mean ± sd over runs), ``sweep/runs.csv`` (one row
per run), ``fig3.png``, ``summary.md``.
"""

from __future__ import annotations

from argnn_sim.errors import install_signals

install_signals()  # Ctrl-C while the modules below load: one line, exit 130

import sys
from typing import Any

from argnn_sim.config import Scenario
from argnn_sim.experiment import finish, main_guard, md_table, out_dir, parser, sweep, write_table
from argnn_sim.sweep import CELL_COLUMNS, Grid, RunSpec

NAME = "paper_fig3"
GATES = ("AND", "OR", "XOR")
MODES = ("D", "DW", "none")

# What the published data give (pruned edges; runs in order; cell means).
PER_RUN = {("AND", "D", 2): [1, 2, 1, 1, 1, 2, 1, 1, 1, 1],
           ("OR", "DW", 3): [1, 3, 3, 3, 3, 3, 2, 2, 2, 3]}
MEANS = {("AND", "D"): {1: 1.0, 2: 1.2, 3: 1.6, 4: 2.6, 5: 3.9},
         ("AND", "DW"): {2: 1.9, 3: 2.8, 4: 3.7, 5: 4.9},
         ("OR", "D"): {2: 0.0, 3: 1.0, 4: 2.0, 5: 3.0},
         ("OR", "DW"): {2: 1.7, 3: 2.5, 4: 3.8, 5: 4.7}}


def make_grid(quick: bool, published: bool) -> Grid:
    inputs = 300 if quick and not published else 2000
    gates = GATES if (published or not quick) else ("AND", "XOR")
    hs = range(6) if (published or not quick) else range(4)
    runs = 3 if quick and not published else 10
    base = Scenario.from_dict({"name": NAME, "schedule": {"inputs": inputs},
                               "record": {"traces": "prunes"}})
    modes: list[tuple[Any, dict[str, Any]]] = [
        ("D", {"pruning.mode": "D"}), ("DW", {"pruning.mode": "DW"}),
        ("none", {"pruning.policy": "none"})]
    return Grid(base=base, name=NAME, seeds=list(range(runs)),
                stream="published" if published else "seeds", stream_seed=0,
                axes={"gate": [(g, {"task.gate": g}) for g in gates], "mode": modes,
                      "h": [(h, {"network.hidden": h}) for h in hs]})


def parse_only(text: str | None) -> set[tuple[str, str, int]] | None:
    if not text:
        return None
    cells = set()
    for part in text.split(","):
        try:
            g, m, h = part.strip().split("/")
            cells.add((g.upper(), m if m == "none" else m.upper(), int(h)))
        except ValueError:
            sys.exit(f"paper_fig3: error: --only {part!r} must look like GATE/MODE/H, "
                     "e.g. AND/D/2")
    return cells


def checks(rows: list[dict[str, Any]], cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Compare the published numbers with what this run obtained (only cells that ran)."""
    out = []
    for (g, m, h), want in PER_RUN.items():
        got = [int(r["pruned"]) for r in sorted(rows, key=lambda r: r["seed"])
               if (r["gate"], r["mode"], r["h"]) == (g, m, h) and r["status"] == "ok"]
        if got:
            out.append({"check": f"{g}_{m} h={h}, pruned per run", "published": want,
                        "obtained": got, "ok": got == want})
    for (g, m), by_h in MEANS.items():
        for h, want in by_h.items():
            c = [c for c in cells if (c["gate"], c["mode"], c["h"]) == (g, m, h)]
            if c and c[0]["n"]:
                got = round(c[0]["pruned_mean"], 6)
                out.append({"check": f"{g}_{m} h={h}, mean pruned", "published": want,
                            "obtained": got, "ok": abs(got - want) < 1e-9})
    for c in cells:
        if c["h"] == 0 and c["n"]:
            out.append({"check": f"{c['gate']}_{c['mode']} h=0 keeps its 2 edges",
                        "published": 0, "obtained": c["pruned_mean"],
                        "ok": c["pruned_mean"] == 0 and c["edges_before"] == 2})
    return out


def markdown(res: Any, grid: Grid, published: bool, ok_checks: list[dict[str, Any]],
             quick: bool) -> str:
    cells = res.cells
    modes = list(dict.fromkeys(c["mode"] for c in cells))
    wide = []
    for g in dict.fromkeys(c["gate"] for c in cells):
        for h in sorted({c["h"] for c in cells if c["gate"] == g}):
            row: dict[str, Any] = {"gate": g, "h": h}
            for m in modes:
                c = next((c for c in cells if (c["gate"], c["mode"], c["h"]) == (g, m, h)), None)
                if c is None or not c["n"]:
                    continue
                row[f"{m} error"] = f"{c['error_mean']:.3f} ± {c['error_sd']:.3f}"
                if m != "none":
                    row[f"{m} pruned"] = (f"{c['pruned_mean']:.1f} ± {c['pruned_sd']:.1f} "
                                          f"({c['pruned_pct_mean']:.0f} %)")
            wide.append(row)
    cols = ["gate", "h"] + [f"{m} {q}" for m in modes for q in ("error", "pruned")
                            if not (m == "none" and q == "pruned")]
    lines = [f"# Paper Fig. 3{' (quick)' if quick else ''}",
             "",
             f"{len(grid.seeds)} runs per cell, {grid.base.schedule.inputs} training inputs x "
             f"{grid.base.schedule.sweeps} passes, reference rule; "
             + ("one RandomState(0) through the whole grid in the published loop order."
                if published else "each run seeded on its own (SeedSequence)."),
             f"Runs: {res.executed} executed, {res.skipped} reused from an earlier call, "
             f"{res.failed} failed; {res.seconds:.0f} s.",
             "",
             md_table(wide, cols),
             "",
             "Error: mean |V_out - y| over the 4 truth-table rows after training (mean ± sd "
             "over runs, sd with ddof = 1). Pruned: edges removed (mean ± sd, and % of the "
             "initial (h+1)(h+2) edges).",
             "![Fig. 3](fig3.png)"]
    if ok_checks:
        lines += ["", "## Checks against the published data", "",
                  md_table(ok_checks, ["check", "published", "obtained", "ok"]),
                  "", f"{sum(c['ok'] for c in ok_checks)} of {len(ok_checks)} checks pass."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = parser(NAME, __doc__.split("\n\n")[0])
    p.add_argument("--published-stream", action="store_true",
                   help="one RandomState(0) across the grid, as the published data; checks")
    p.add_argument("--only", help="run only these cells, e.g. AND/D/2,OR/DW/3")
    args = p.parse_args(argv)
    published = args.published_stream
    grid = make_grid(args.quick, published)
    only = parse_only(args.only)
    if args.quick and published and only is None:
        only = {("AND", "D", 2)}  # the quick published check: one cell of 10 runs
    folder = out_dir(args, NAME + ("-published" if published else ""), f"scenario/{NAME}")

    def select(s: RunSpec) -> bool:
        c = dict(s.cell)
        return only is None or (c["gate"], c["mode"], c["h"]) in only

    res = sweep(grid, folder / "sweep", args, select=select)
    write_table(folder / "fig3.csv", res.cells, ["gate", "mode", "h", *CELL_COLUMNS])
    found = checks(res.runs, res.cells) if published else []
    md = markdown(res, grid, published, found, args.quick)
    finish(folder, "paper_fig3", md, args, published=published)
    if published and not all(c["ok"] for c in found):
        print("paper_fig3: some published checks FAILED", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main, NAME))
