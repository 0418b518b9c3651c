"""The road comparison's tables (one metric definition), paired differences, markdown and
figures, all redrawn from its records."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from argnn_sim.figures import FolderFigures
from argnn_sim.outputs import write_atomic
from argnn_sim.series import load_road_series, road_layout

from ..errors import BridgeConfigError
from .config import RoadConfig, config_from, network_labels, upgrade_record


# ----------------------------------------------------------------------------- tables
def _stat(v: Sequence[float]) -> tuple[float, float]:
    a = np.asarray([x for x in v if x is not None], dtype=float)
    if a.size == 0:
        return math.nan, math.nan
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else 0.0


def summarize_road(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± sd (ddof = 1) per (method, fraction) of MAE, RMSE, MAPE, accuracy, sensors
    kept and edges; every row on one metric definition (a mixture is refused)."""
    from argnn_sim.metrics import one_definition

    definition = one_definition([upgrade_record(dict(r)) if r.get("sensors_kept") is not None
                                 else r for r in rows], column="road comparison rows",
                                legacy="masked")
    rows = [upgrade_record(dict(r)) if r.get("sensors_kept") is not None else r for r in rows]
    groups: dict[tuple[str, Any], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["method"], r["fraction"]), []).append(r)
    out = []
    for (m, f), rs in groups.items():
        row: dict[str, Any] = {"method": m, "fraction": f, "runs": len(rs),
                               "definition": definition}
        for q in ("mae", "rmse", "mape", "accuracy", "sensors_kept", "edges") + TRUTH_KEYS:
            row[q], row[f"{q}_sd"] = _stat([r.get(q) for r in rs])
        out.append(row)
    order = {m: i for i, m in enumerate(_METHOD_ORDER)}
    out.sort(key=lambda r: (order.get(_base(r["method"]), 99), r["method"],
                            -(r["fraction"] or 2)))
    return out


_METHOD_ORDER = ("unpruned", "spectral-D", "spectral-DW", "random@spectral-D",
                 "correlation@spectral-D", "magnitude-sensors@spectral-D",
                 "magnitude@spectral-D", "random@spectral-DW", "correlation@spectral-DW",
                 "magnitude-sensors@spectral-DW", "magnitude@spectral-DW", "drivers",
                 "prunegcrn", "random", "correlation", "magnitude", "agcrn", "last-value",
                 "input-window-mean", "daily-slot-mean")


TRUTH_KEYS = ("driver_recall", "driver_precision", "removed_nonparent_share",
              "parent_kept_share")


def _base(m: str) -> str:
    m = m[:-len("-async")] if m.endswith("-async") else m
    return m.split("-b")[0]


def paired_road(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Paired differences of test MAE by seed (method minus reference), a normal 95 %
    interval and the share of seeds where the reference is at least as good: the spectral
    runs against the centralized methods at their own point, and PruneGCRN's and
    magnitude's selections against random ones at each fraction."""
    pairs: list[tuple[str, str, Any]] = []
    for mode in ("D", "DW"):
        for other in (f"random@spectral-{mode}", f"correlation@spectral-{mode}",
                      f"magnitude-sensors@spectral-{mode}", f"magnitude@spectral-{mode}"):
            pairs.append((other, f"spectral-{mode}", None))
    fracs = sorted({r["fraction"] for r in rows if r["method"] == "random"}, reverse=True)
    for f in fracs:
        for ref in ("prunegcrn", "correlation", "magnitude"):
            pairs.append(("random", ref, f))
    return [{"reference": ref, "method": other, "fraction": f, "pairs": int(a.size),
             **normal_interval(a), "share": float(np.mean(a >= 0))}
            for other, ref, f, a in paired_values(rows, "mae", pairs)]


def paired_values(rows: Sequence[Mapping[str, Any]], key: str,
                  pairs: Sequence[tuple[str, str, Any]]
                  ) -> list[tuple[str, str, Any, np.ndarray]]:
    """For each ``(method, reference, fraction)`` of ``pairs``: the differences of ``key``
    (method minus reference) over the seeds both have with a value (None and NaN left out);
    pairs without one are left out."""
    by = {(r["method"], r["fraction"], r["seed"]): r for r in rows}

    def value(k: tuple[str, Any, Any]) -> float | None:
        v = by[k].get(key) if k in by else None
        return None if v is None or math.isnan(v) else float(v)

    out = []
    for other, ref, f in pairs:
        d = [a - b for (m, ff, s) in by if m == ref and ff == f
             for a, b in [(value((other, f, s)), value((ref, f, s)))]
             if a is not None and b is not None]
        if d:
            out.append((other, ref, f, np.asarray(d, dtype=float)))
    return out


def normal_interval(a: np.ndarray) -> dict[str, float]:
    """Mean (``delta``) and a normal 95 % interval (``lo``, ``hi``; NaN from one value)."""
    half = 1.96 * a.std(ddof=1) / math.sqrt(a.size) if a.size > 1 else math.nan
    return {"delta": float(a.mean()), "lo": float(a.mean() - half),
            "hi": float(a.mean() + half)}


def road_markdown(rows: Sequence[Mapping[str, Any]], horizon: int | None = None) -> str:
    """The summary and the paired differences as markdown tables, headed by the metric
    definition every row shares; on a planted series, each method's driver recall and
    precision and, for edge pruning, how many removed edges were no true parent edge."""
    from argnn_sim.metrics import DEFINITION_TEXT

    summ = summarize_road(rows)
    definition = summ[0]["definition"] if summ else "all"
    h = horizon if horizon is not None else next(
        (int(r["horizon"]) for r in rows if r.get("horizon")), 1)
    truth = any(not math.isnan(r["driver_recall"]) for r in summ)
    head = "| method | kept (nominal) | sensors kept | edges | MAE | RMSE | MAPE % | runs |"
    if truth:
        head += (" driver recall | driver precision | removed edges not parent % | "
                 "parent edges kept % |")
    lines = [f"Metric definition `{definition}`: {DEFINITION_TEXT[definition]}; test MAE, "
             f"RMSE and MAPE of the forecasts {h} step(s) ahead on the comparison's own scored "
             "targets, every row scored by `argnn_sim.metrics.forecast_metrics`.", "",
             head, "|---" * (head.count("|") - 1) + "|"]

    def pm(key: str, r: Mapping[str, Any], scale: float = 1.0, digits: int = 2) -> str:
        v = r[key]
        return "" if math.isnan(v) else f"{scale * v:.{digits}f} ± {scale * r[key + '_sd']:.{digits}f}"

    for r in summ:
        f = "" if r["fraction"] is None else f"{100 * r['fraction']:g} %"
        sk = "" if math.isnan(r["sensors_kept"]) else \
            f"{r['sensors_kept']:.1f} ± {r['sensors_kept_sd']:.1f}"
        ed = "" if math.isnan(r["edges"]) else f"{r['edges']:.0f} ± {r['edges_sd']:.0f}"
        line = (f"| {r['method']} | {f} | {sk} | {ed} | {r['mae']:.3f} ± {r['mae_sd']:.3f} "
                f"| {r['rmse']:.3f} ± {r['rmse_sd']:.3f} | {100 * r['mape']:.1f} ± "
                f"{100 * r['mape_sd']:.1f} | {r['runs']} |")
        if truth:
            line += (f" {pm('driver_recall', r)} | {pm('driver_precision', r)} | "
                     f"{pm('removed_nonparent_share', r, 100, 1)} | "
                     f"{pm('parent_kept_share', r, 100, 1)} |")
        lines.append(line)
    p = paired_road(rows)
    if p:
        lines += ["", "| method − reference (test MAE) | kept | pairs | mean Δ | 95 % interval "
                  "| reference at least as good |", "|---|---|---|---|---|---|"]
        for q in p:
            f = "its own" if q["fraction"] is None else f"{100 * q['fraction']:g} %"
            lines.append(f"| {q['method']} − {q['reference']} | {f} | {q['pairs']} | "
                         f"{q['delta']:+.4f} | {_interval(q)} | "
                         f"{100 * q['share']:.0f} % |")
    return "\n".join(lines)


def write_road_outputs(rows: Sequence[Mapping[str, Any]], folder: Path, cfg: RoadConfig,
                       series: Any) -> list[Path]:
    """summary.csv, paired.csv, summary.md and the figures."""
    import csv

    summ = summarize_road(rows)
    with open(folder / ".summary.csv.tmp", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(summ[0]))
        w.writeheader()
        w.writerows(summ)
    os.replace(folder / ".summary.csv.tmp", folder / "summary.csv")
    p = paired_road(rows)
    if p:
        with open(folder / ".paired.csv.tmp", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=list(p[0]))
            w.writeheader()
            w.writerows(p)
        os.replace(folder / ".paired.csv.tmp", folder / "paired.csv")
    facts = ""
    if (folder / "data_facts.json").is_file():
        d = json.loads((folder / "data_facts.json").read_text(encoding="utf-8"))
        facts = ("\n\nThe scored test targets: {:.1f} % are 0; training mean {:.2f}, test mean "
                 "{:.2f}; a constant per sensor equal to its test mean (an oracle) would score "
                 "MAE {:.3f}.".format(100 * d["zero_share"], d["train_mean"], d["test_mean"],
                                      d["oracle_sensor_mean_mae"]))
    if (folder / "notes.json").is_file():
        left = json.loads((folder / "notes.json").read_text(encoding="utf-8")).get("left_out")
        if left:
            facts += "\n\n" + left
    write_atomic(folder / "summary.md", road_markdown(rows) + facts + "\n")
    return plot_road(rows, folder, cfg, series)


# ----------------------------------------------------------------------------- figures
def _error_panel(ax: Any, summ: Sequence[Mapping[str, Any]], n: int, *, legend: bool,
                 sim: list[float]) -> None:
    """One panel of ``error_vs_kept.png``; ``sim`` collects the simulated networks' MAE."""
    style = {"prunegcrn": ("#d62728", "o-"), "random": ("#7f7f7f", "s--"),
             "correlation": ("#bcbd22", "v-"), "magnitude": ("#1f77b4", "^-"),
             "agcrn": ("#9467bd", "D:")}
    for m, (c, ls) in style.items():
        pts = sorted((r["fraction"], r["mae"], r["mae_sd"]) for r in summ
                     if r["method"] == m and r["fraction"] is not None)
        if pts and m in ("prunegcrn", "random", "correlation", "magnitude"):
            pts += [(1.0, r["mae"], r["mae_sd"]) for r in summ if r["method"] == "unpruned"]
            pts.sort()
            sim.extend(p[1] for p in pts)
        if pts:
            x, y, e = (np.array(v) for v in zip(*pts))
            label = {"agcrn": "PruneGCRN/AGCRN's own forecast",
                     "prunegcrn": "PruneGCRN's sensors, in the simulator"}.get(
                         m, f"{m} sensors, in the simulator")
            ax.errorbar(100 * x, y, yerr=e, fmt=ls, color=c, label=label, capsize=3,
                        ms=5, lw=1.2)
    for mode, c in (("D", "#2ca02c"), ("DW", "#ff7f0e")):
        path = sorted((r["sensors_kept"], r["mae"]) for r in summ
                      if r["method"].startswith(f"spectral-{mode}-b"))
        if path:
            path += [(r["sensors_kept"], r["mae"]) for r in summ
                     if r["method"] in ("unpruned", f"spectral-{mode}")]
            path.sort()
            x, y = (np.array(v) for v in zip(*path))
            sim.extend(y.tolist())
            ax.plot(100 * x / n, y, "-", color=c, lw=0.9, marker=".", ms=6,
                    label=f"spectral-{mode} with budgets (a share of its own prunes)")
    marks = {"spectral-D": ("#2ca02c", "*"), "spectral-DW": ("#ff7f0e", "*"),
             "spectral-D-async": ("#2ca02c", "P"), "spectral-DW-async": ("#ff7f0e", "P"),
             "unpruned-async": ("black", "P"), "drivers": ("black", "X")}
    for m, (c, mk) in marks.items():
        for r in summ:
            if r["method"] == m:
                sim.append(r["mae"])
                ax.errorbar(100 * r["sensors_kept"] / n, r["mae"],
                            xerr=100 * r["sensors_kept_sd"] / n, yerr=r["mae_sd"], fmt=mk,
                            color=c, ms=12 if mk == "*" else 9, capsize=3,
                            label=f"{m} (decentralized; its own share)"
                            if m.startswith("spectral") else
                            "the planted drivers, imposed" if m == "drivers" else
                            "unpruned, delayed lossy links (async)")
    refs = (("last-value", "#8c564b"), ("input-window-mean", "#17becf"),
            ("daily-slot-mean", "#e377c2"))
    for m, c in refs:
        for r in summ:
            if r["method"] == m:
                ax.axhline(r["mae"], color=c, ls=":", lw=1.2,
                           label=f"{m.replace('-', ' ')} ({r['mae']:.2f})")


def _road_map(rows: Sequence[Mapping[str, Any]], folder: Path, cfg: RoadConfig,
              series: Any) -> Path | None:
    """``road_map.png``: the road graph with the sensors each method keeps (the first
    seed), the spectral rule's removed edges between predictors dashed red."""
    import matplotlib.pyplot as plt
    import networkx as nx

    n = series.num_sensors
    g = nx.Graph()
    g.add_nodes_from(range(n))
    a = np.asarray(series.adjacency)
    g.add_edges_from(zip(*np.nonzero(np.triu(a))))
    pos = road_layout(a)
    by = {(r["method"], r["fraction"], r["seed"]): r for r in rows}
    fmid = sorted({r["fraction"] for r in rows if r["method"] == "random" and
                   r["fraction"] is not None}, key=lambda f: abs(f - 0.25))
    panels: list[tuple[str, Any]] = [(f"spectral-{m}", None) for m in cfg.modes]
    if fmid:
        panels += [("prunegcrn", fmid[0]), ("random", fmid[0]), ("magnitude", fmid[0])]
    first = min((int(r["seed"]) for r in rows if r.get("sensors_used") is not None),
                default=0)  # the map shows the first seed's runs
    panels = [(m, f) for m, f in panels if (m, f, first) in by]
    if panels:
        cols = min(3, len(panels))
        rows_n = math.ceil(len(panels) / cols)
        fig, axes = plt.subplots(rows_n, cols, figsize=(5.2 * cols, 4.6 * rows_n),
                                 squeeze=False)
        labels = network_labels(cfg)
        for ax, (m, f) in zip(axes.flat, panels):
            r = by[(m, f, first)]
            used = set(r["sensors_used"])
            nx.draw_networkx_edges(g, pos, ax=ax, edge_color="#bbbbbb", width=0.8)
            if m.startswith("spectral"):
                cut = [(int(str(labels[s])[1:].split(".")[0]), int(str(labels[d])[1:]))
                       for s, d in r.get("removed", [])
                       if str(labels[s]).startswith("y")]
                nx.draw_networkx_edges(g, pos, edgelist=[e for e in cut if e[0] != e[1]], ax=ax,
                                       edge_color="red", width=1.6, style="dashed")
            nx.draw_networkx_nodes(g, pos, ax=ax, node_size=24,
                                   node_color=["#2ca02c" if i in used else "#dddddd"
                                               for i in range(n)],
                                   edgecolors=["#555555" if i in used else "#bbbbbb"
                                               for i in range(n)], linewidths=0.4)
            what = f"{100 * f:g} % target" if f is not None else "its own choice"
            ax.set_title(f"{m} ({what}): {len(used)} of {n} sensors kept\n"
                         f"test MAE {r['mae']:.3f}" + (f", {r['edges_removed']} edge(s) removed "
                                                        "(red: between predictors)"
                                                        if m.startswith("spectral") else ""),
                         fontsize=9)
            ax.set_axis_off()
        for ax in list(axes.flat)[len(panels):]:
            ax.set_axis_off()
        fig.suptitle(f"{series.name} road graph: sensors kept (green), seed {first}",
                     fontsize=11)
        fig.tight_layout()
        p = folder / "road_map.png"
        fig.savefig(p, dpi=120)
        plt.close(fig)
        return p
    return None


def plot_road(rows: Sequence[Mapping[str, Any]], folder: Path, cfg: RoadConfig,
              series: Any) -> list[Path]:
    """``error_vs_kept.png`` (test MAE against the share of sensors kept, every method) and
    ``road_map.png`` (the road graph with the sensors each method keeps, first seed, and the
    edges the spectral rule removed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = series.num_sensors
    paths = []
    summ = summarize_road(rows)
    fig, axes = plt.subplots(1, 2, figsize=(15, 5.2), width_ratios=[1, 1.15])
    sim: list[float] = []
    for i, ax in enumerate(axes):
        _error_panel(ax, summ, n, legend=i == 1, sim=sim)
        ax.set_xlabel("sensors kept (%)")
        speeds = series.name == "sz_taxi" or series.name.startswith("planted:")
        ax.set_ylabel(f"test MAE, {15 * cfg.horizon} minutes ahead (km/h), every entry"
                      if speeds else f"test MAE at horizon {cfg.horizon}, every entry")
        ax.set_xlim(0, 105)
        ax.grid(alpha=0.3)
    axes[0].set_title("every method and reference", fontsize=10)
    if sim:
        lo, hi = min(sim), max(sim)
        pad = max(0.1 * (hi - lo), 0.005)
        axes[1].set_ylim(lo - pad, hi + pad)
    axes[1].set_title("zoomed in on the simulated networks", fontsize=10)
    axes[1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.suptitle(f"{series.name}: forecast error against sensors kept (mean ± sd over seeds)",
                 fontsize=11)
    fig.tight_layout()
    p = folder / "error_vs_kept.png"
    fig.savefig(p, dpi=130)
    plt.close(fig)
    paths.append(p)

    p = _road_map(rows, folder, cfg, series)
    if p is not None:
        paths.append(p)
    return paths


def _draw(f: Path) -> list[Path]:
    """Redraw the tables and figures of a road comparison (written by
    :func:`~prunegcrn_bridge.road.run.run_road_compare`) from its ``rows.json``
    (``argnn plot``)."""
    from argnn_sim.outputs import load_json

    rows = load_json(f / "rows.json", "road comparison rows")
    cfg = config_from({**load_json(f / "config.json", "road comparison settings"),
                       "selections": ()})
    series = load_road_series(cfg.data, data_root=cfg.data_root or None,
                              adjacency=cfg.adjacency or None)
    return write_road_outputs(rows, f, cfg, series)


redraw = FolderFigures(_draw, ("rows.json", "config.json"), "finished road comparison",
                       "run `argnn compare --network sz_taxi --out` there first",
                       BridgeConfigError)


def _interval(q: Mapping[str, Any]) -> str:
    if math.isnan(q["lo"]):
        return "— (one pair)"
    return f"[{q['lo']:+.4f}, {q['hi']:+.4f}]"
