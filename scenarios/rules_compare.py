"""Pruning rules compared at equal numbers of removed edges: the reference spectral rule, our
own local spectral rule (both degree modes), online magnitude pruning and random pruning.

The spectral rules remove as many edges as their checks decide. The baselines get a budget
of k edges (``pruning.budget``; an experimenter's cap, shared by all nodes) for a range of
k, so that every rule has runs at every k: magnitude drops a node's smallest input weight
once it is below ``--threshold``; random drops a random input edge with a rate that spends
about twice the budget over training. Each run is placed at the k it actually reached, and
the figure shows error against k, one panel per h, plus the edges the spectral rules remove
against h with the line k = h: the reference rule can only ever remove edges (k+1) -> k,
so it never exceeds h.

    python scenarios/rules_compare.py            # h = 2, 4, 6, 8, 10; 10 seeds; 2000 inputs
    python scenarios/rules_compare.py --quick    # h = 2, 3; 3 seeds; 300 inputs

Writes ``rules_runs.csv`` (one row per run), ``rules_summary.csv`` (per h, rule and k:
mean ± sd error), ``rules_compare.png``, ``summary.md``.
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

NAME = "rules_compare"
SPECTRAL = {f"spectral-{rule}-{mode}": {"pruning.policy": "spectral", "pruning.rule": rule,
                                        "pruning.mode": mode}
            for rule in ("reference", "local") for mode in ("D", "DW")}
BUDGETS = (1, 2, 3, 4, 6, 8, 12, 16, 20)


def budgets(h: int, quick: bool) -> list[int]:
    top = 2 * h if not quick else h + 1
    return [k for k in BUDGETS if k <= top]


def make_grid(h: int, args: Any, inputs: int, seeds: int) -> Grid:
    base = Scenario.from_dict({"name": NAME, "task": {"gate": args.gate},
                               "network": {"hidden": h}, "schedule": {"inputs": inputs},
                               "record": {"traces": "prunes"}})
    activations = inputs * base.schedule.sweeps * (h + 1)
    variants: list[tuple[Any, dict[str, Any]]] = [(k, v) for k, v in SPECTRAL.items()]
    for k in budgets(h, args.quick):
        variants.append((f"magnitude|{k}", {"pruning.policy": "magnitude", "pruning.budget": k,
                                            "pruning.threshold": args.threshold}))
        variants.append((f"random|{k}", {"pruning.policy": "random", "pruning.budget": k,
                                         "pruning.rate": min(1.0, 2.0 * k / activations)}))
    return Grid(base=base, name=f"{NAME}-h{h}", seeds=list(range(seeds)),
                axes={"variant": variants})


def main(argv: list[str] | None = None) -> int:
    p = parser(NAME, __doc__.split("\n\n")[0])
    p.add_argument("--gate", default="XOR")
    p.add_argument("--hidden", help="comma-separated h values (default 2,4,6,8,10)")
    p.add_argument("--seeds", type=int, default=None, help="runs per rule (default 10)")
    p.add_argument("--threshold", type=float, default=0.1, help="magnitude threshold")
    args = p.parse_args(argv)
    hs = ([int(x) for x in args.hidden.split(",")] if args.hidden
          else ([2, 3] if args.quick else [2, 4, 6, 8, 10]))
    seeds = args.seeds or (3 if args.quick else 10)
    inputs = 300 if args.quick else 2000
    folder = out_dir(args, NAME)
    runs: list[dict[str, Any]] = []
    for h in hs:
        res = sweep(make_grid(h, args, inputs, seeds), folder / "sweep" / f"h{h}", args)
        for r in res.runs:
            if r["status"] != "ok":
                continue
            rule, _, k = str(r["variant"]).partition("|")
            runs.append({"h": h, "rule": rule, "budget": int(k) if k else "", "seed": r["seed"],
                         "pruned": int(r["pruned"]), "error": r["error"],
                         "remote_prunes": int(r["remote_prunes"])})
    groups: dict[tuple[Any, ...], list[float]] = {}
    for r in runs:
        groups.setdefault((r["h"], r["rule"], r["pruned"]), []).append(r["error"])
    summary = []
    for (h, rule, k), errs in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        a = np.asarray(errs)
        summary.append({"h": h, "rule": rule, "pruned": k, "n": a.size,
                        "error_mean": float(a.mean()),
                        "error_sd": float(a.std(ddof=1)) if a.size > 1 else float("nan")})
    write_table(folder / "rules_runs.csv", runs,
                ["h", "rule", "budget", "seed", "pruned", "error", "remote_prunes"])
    write_table(folder / "rules_summary.csv", summary,
                ["h", "rule", "pruned", "n", "error_mean", "error_sd"])
    md = markdown(runs, summary, hs, seeds, inputs, args)
    finish(folder, "rules_compare", md, args)
    return 0


def markdown(runs: list[dict[str, Any]], summary: list[dict[str, Any]], hs: list[int],
             seeds: int, inputs: int, args: Any) -> str:
    rules = list(dict.fromkeys(r["rule"] for r in runs))
    cap = []
    for h in hs:
        row: dict[str, Any] = {"h": h, "edges": (h + 1) * (h + 2)}
        for rule in rules:
            if rule.startswith("spectral"):
                ks = [r["pruned"] for r in runs if r["h"] == h and r["rule"] == rule]
                if ks:
                    row[rule] = f"{np.mean(ks):.1f} (max {max(ks)})"
        cap.append(row)
    # Equal k: at each k the reference rule (mode DW) reached, every rule's mean error there.
    eq = []
    for h in hs:
        ref_ks = sorted({r["pruned"] for r in runs if r["h"] == h
                         and r["rule"] == "spectral-reference-DW"})
        for k in ref_ks:
            row = {"h": h, "k": k}
            for rule in rules:
                s = [x for x in summary if x["h"] == h and x["rule"] == rule and x["pruned"] == k]
                if s:
                    row[rule] = f"{s[0]['error_mean']:.3f} (n={s[0]['n']})"
            eq.append(row)
    spectral = [r for r in rules if r.startswith("spectral")]
    return "\n".join([
        f"# Pruning rules at equal numbers of removed edges{' (quick)' if args.quick else ''}",
        "", f"{args.gate}, {seeds} seeds per rule (and per budget for the baselines), {inputs} "
        f"training inputs; magnitude threshold {args.threshold}.", "",
        "## Edges removed by the spectral rules (mean, max) — the reference is capped at h", "",
        md_table(cap, ["h", "edges"] + spectral), "",
        "## Error at the k the reference rule (DW) reached", "",
        "Mean error of the runs of each rule that removed exactly k edges (n runs).", "",
        md_table(eq, ["h", "k"] + rules), "",
        "![rules](rules_compare.png)"])


if __name__ == "__main__":
    sys.exit(main_guard(main, NAME))

