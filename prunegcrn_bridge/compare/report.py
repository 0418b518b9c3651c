"""The comparison's tables, paired differences, markdown and figures, all redrawn from its rows."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from argnn_sim.figures import FolderFigures
from argnn_sim.outputs import write_atomic

from ..errors import BridgeConfigError
from .config import COLUMNS, METHODS


def summarize(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± sd (ddof = 1) of error and real k per (method, task, h, budget, finetune)."""
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        key = (r["method"], r["task"], r["h"], r["budget"], r["k_target"] if r["budget"] ==
               "sweep" else -1, r["finetune"])
        groups.setdefault(key, []).append(r)
    out = []
    for (m, task, h, budget, kt, ft), rs in groups.items():
        err = np.array([r["error"] for r in rs])
        ks = np.array([r["k"] for r in rs], dtype=float)
        out.append({"method": m, "task": task, "h": h,
                    "budget": budget if budget != "sweep" else f"k={kt}",
                    "finetune": ft, "n": len(rs), "k_mean": float(ks.mean()),
                    "error_mean": float(err.mean()),
                    "error_sd": float(err.std(ddof=1)) if len(rs) > 1 else math.nan})
    out.sort(key=lambda r: (r["task"], r["h"], r["budget"], r["finetune"], r["method"]))
    return out


def write_outputs(rows: Sequence[Mapping[str, Any]], out: Path) -> None:
    """``results.csv`` (one row per evaluation), ``summary.csv`` (the tidy table),
    ``error_vs_k.png``, ``spectral_budget.png`` and ``summary.md``."""
    from argnn_sim.sweep import write_table

    write_table(out / "results.csv", list(rows), COLUMNS)
    table = summarize(rows)
    write_table(out / "summary.csv", table, ("method", "task", "h", "budget", "finetune", "n",
                                             "k_mean", "error_mean", "error_sd"))
    plot(rows, out)
    write_atomic(out / "summary.md", markdown(rows))


def _draw(f: Path) -> list[Path]:
    """Redraw the tables and figures of a comparison folder (written by
    :func:`~prunegcrn_bridge.compare.run.run_compare`) from its units (``argnn plot``)."""
    from argnn_sim.outputs import load_json
    from argnn_sim.store import unit_value

    units = sorted((f / "units").glob("*.json"))
    rows = [r for p in units for r in unit_value(load_json(p, "comparison unit"))]
    write_outputs(rows, f)
    return [f / "error_vs_k.png", f / "spectral_budget.png"]


redraw = FolderFigures(_draw, ("units/*.json",), "finished unit of a comparison",
                       "run `argnn compare --out` there first", BridgeConfigError)


def _by(rows: Sequence[Mapping[str, Any]], **match: Any) -> list[Mapping[str, Any]]:
    return [r for r in rows if all(r[k] == v for k, v in match.items())]


def plot(rows: Sequence[Mapping[str, Any]], out: Path) -> list[Path]:
    from argnn_sim.plots import panel_grid, plt

    tasks = list(dict.fromkeys(r["task"] for r in rows))
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    colors = dict(zip(METHODS, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    fig, axes = panel_grid(len(tasks))
    for ax, task in zip(axes, tasks):
        for m in methods:
            for ft, ls in ((False, "-"), (True, "--")):
                sel = _by(rows, task=task, method=m, finetune=ft, budget="sweep")
                ks = sorted({r["k_target"] for r in sel})
                if not ks:
                    continue
                ys = [np.mean([r["error"] for r in sel if r["k_target"] == k]) for k in ks]
                xs = [np.mean([r["k"] for r in sel if r["k_target"] == k]) for k in ks]
                ax.plot(xs, ys, ls, marker="o", ms=3, color=colors[m],
                        label=m if not ft else None)
        dense = np.mean([r["dense_error"] for r in _by(rows, task=task)])
        ax.axhline(dense, color="k", lw=0.8, ls=":",
                   label="dense circuit (no pruning)" if ax is axes[0] else None)
        ax.set_title(f"{task} (mean over h, seeds)")
        ax.set_xlabel("edges removed k (real)")
        ax.set_ylabel("evaluation error (simulator)")
    axes[0].legend(fontsize=8, title="solid: no fine-tuning\ndashed: fine-tuned",
                   title_fontsize=8)
    fig.tight_layout()
    p1 = out / "error_vs_k.png"
    fig.savefig(p1, dpi=130)
    plt.close(fig)
    # at the spectral rules' own k, by h
    fig, axes = panel_grid(len(tasks))
    for ax, task in zip(axes, tasks):
        for m in methods:
            sel = _by(rows, task=task, method=m, finetune=False, budget="spectral-reference")
            hs = sorted({r["h"] for r in sel})
            if hs:
                ax.plot(hs, [np.mean([r["error"] for r in sel if r["h"] == h]) for h in hs],
                        marker="o", ms=3, color=colors[m], label=m)
        ax.set_title(f"{task}: k of the reference rule")
        ax.set_xlabel("hidden nodes h")
        ax.set_ylabel("evaluation error, no fine-tuning")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    p2 = out / "spectral_budget.png"
    fig.savefig(p2, dpi=130)
    plt.close(fig)
    return [p1, p2]


def markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """Which method wins where, by how much (mean error over seeds and h)."""
    lines = ["# Centralized vs decentralized pruning at equal k", "",
             "Mean evaluation error in the simulator (over h and seeds); k is the real number",
             "of removed edges, averaged. Lower is better; the dense circuit's error is given.",
             "*best* counts only methods that removed the full budget (node pruning and a",
             "budgeted spectral rule may remove fewer edges than asked).", ""]
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    budgets = list(dict.fromkeys(r["budget"] for r in rows if r["budget"] != "sweep"))
    for rule in ("spectral-reference", "spectral-local"):
        for ft in (False, True):
            pairs = paired(rows, rule, ft)
            if not pairs:
                continue
            lines += [f"## {rule} against each method at its own k, "
                      f"{'after fine-tuning' if ft else 'without fine-tuning'}", "",
                      "Paired over task x h x seed (same circuit, same k). Δ = method's error "
                      f"minus {rule}'s: positive means {rule} is better.", "",
                      "| method | pairs | real k (mean) | mean Δ | 95 % CI of Δ | "
                      f"{rule} at least as good |", "|---|---|---|---|---|---|"]
            for p_ in pairs:
                lines.append(f"| {p_['method']} | {p_['pairs']} | {p_['k']:.1f} | "
                             f"{p_['delta']:+.4f} | [{p_['lo']:+.4f}, {p_['hi']:+.4f}] | "
                             f"{100 * p_['share']:.0f} % |")
            lines.append("")
    for ft in (False, True):
        lines += [f"## By task: {'after fine-tuning' if ft else 'without fine-tuning'}", "",
                  "| task | budget | dense | " + " | ".join(methods) + " | best |",
                  "|---|---|---|" + "---|" * len(methods) + "---|"]
        for task in tasks:
            ks = sorted({r["k_target"] for r in _by(rows, task=task, budget="sweep")})
            for b in budgets + [f"k={k}" for k in ks]:
                cells, vals = [], {}
                for m in methods:
                    if b.startswith("k="):
                        sel = _by(rows, task=task, method=m, finetune=ft, budget="sweep",
                                  k_target=int(b[2:]))
                    else:
                        sel = _by(rows, task=task, method=m, finetune=ft, budget=b)
                    if sel:
                        e = float(np.mean([r["error"] for r in sel]))
                        kk = float(np.mean([r["k"] for r in sel]))
                        want = float(np.mean([r["k_target"] for r in sel]))
                        if kk >= want - 1e-9:
                            vals[m] = e
                        cells.append(f"{e:.4f} (k {kk:.1f})")
                    else:
                        cells.append("-")
                dense = np.mean([r["dense_error"] for r in _by(rows, task=task)])
                best = min(vals, key=vals.__getitem__) if vals else "-"
                lines.append(f"| {task} | {b} | {dense:.4f} | " + " | ".join(cells)
                             + f" | {best} |")
        lines.append("")
    return "\n".join(lines)


def paired(rows: Sequence[Mapping[str, Any]], rule: str, finetune: bool
           ) -> list[dict[str, Any]]:
    """Each other method against ``rule`` at ``rule``'s own k, paired by (task, h, seed):
    mean error difference (method minus rule), a normal 95 % interval, and the share of
    pairs where the rule is at least as good."""
    mine = {(r["task"], r["h"], r["seed"]): r for r in rows
            if r["method"] == rule and r["budget"] == rule and r["finetune"] == finetune}
    out = []
    for m in METHODS:
        if m == rule:
            continue
        theirs = [(mine[key], r) for r in rows
                  if r["method"] == m and r["budget"] == rule and r["finetune"] == finetune
                  and (key := (r["task"], r["h"], r["seed"])) in mine]
        if not theirs:
            continue
        d = np.array([b["error"] - a["error"] for a, b in theirs])
        half = 1.96 * d.std(ddof=1) / math.sqrt(d.size) if d.size > 1 else math.nan
        out.append({"method": m, "pairs": int(d.size),
                    "k": float(np.mean([b["k"] for _a, b in theirs])),
                    "delta": float(d.mean()), "lo": float(d.mean() - half),
                    "hi": float(d.mean() + half), "share": float(np.mean(d >= 0))})
    return out
