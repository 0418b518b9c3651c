"""Node selection compared at equal kept fractions, with explanations.

:func:`compare` trains, for each kept fraction (default 100, 75, 50, 25, 10 %) and seed:

* ``prunegcrn``: the learned mask with a hard top-k budget (exactly k nodes kept);
* ``prunegcrn-soft``: the learned mask with ``gamma`` = the fraction and no budget (the
  paper's loss; the row records the fraction it really kept);
* ``random``: k nodes drawn from the seed, same backbone, fixed mask;
* ``correlation``: the k nodes with the highest mean absolute Pearson correlation to the
  rest on the training split (:func:`~.train.correlation_nodes`), fixed mask;
* ``all`` (at 100 %): every node;

and once, without training, ``historical-average`` and ``last-value``. Each finished
model is one JSON file ``runs/<method>-f<fraction>-s<seed>.json`` written atomically, so a
killed comparison resumes. Tables: ``runs.csv`` (one row per model) and ``summary.csv``
(mean ± sd over seeds, with the planted-driver precision on synthetic data and the mean
pairwise Jaccard similarity of the kept sets across seeds); figures: ``mae_vs_kept.png``
and ``kept_nodes.png`` (the network, kept nodes of PruneGCRN's first seed highlighted).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from argnn_sim.outputs import claim_output, write_atomic

from ..errors import BridgeConfigError
from .data import Series, prepare, split_lengths
from .train import (
    TrainConfig,
    correlation_nodes,
    evaluate,
    historical_average,
    last_value,
    random_nodes,
    train,
)

__all__ = ["compare", "summarize", "jaccard", "plot_compare", "FRACTIONS", "METHODS"]

FRACTIONS = (1.0, 0.75, 0.5, 0.25, 0.1)
METHODS = ("prunegcrn", "prunegcrn-soft", "random", "correlation")


def jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """|a ∩ b| / |a ∪ b| (1 for two empty sets).

    >>> jaccard([1, 2, 3], [2, 3, 4])
    0.5
    """
    sa, sb = set(a), set(b)
    return 1.0 if not sa | sb else len(sa & sb) / len(sa | sb)


def _key(method: str, fraction: float, seed: int) -> str:
    return f"{method}-f{fraction:g}-s{seed}"


def _one(series: Series, win: Any, method: str, fraction: float, seed: int,
         cfg: TrainConfig, folder: Path) -> dict[str, Any]:
    n = series.num_nodes
    k = max(1, int(round(fraction * n)))
    tr, _, _ = split_lengths(series.values.shape[0])
    sub = folder / "models" / _key(method, fraction, seed)
    if method == "all":
        r = train(win, cfg=cfg, mode="fixed", nodes=None, seed=seed, out=sub)
    elif method == "prunegcrn":
        r = train(win, cfg=cfg, mode="learned", keep=k, seed=seed, out=sub)
    elif method == "prunegcrn-soft":
        r = train(win, cfg=replace(cfg, gamma=fraction), mode="learned", seed=seed, out=sub)
    elif method == "random":
        r = train(win, cfg=cfg, mode="fixed", nodes=random_nodes(n, k, seed=seed), seed=seed,
                  out=sub)
    elif method == "correlation":
        r = train(win, cfg=cfg, mode="fixed", nodes=correlation_nodes(series.values[:tr], k),
                  seed=seed, out=sub)
    else:
        raise ValueError(f"unknown method {method!r}")
    r.pop("log")
    return {"method": method, "fraction": fraction, "seed": seed, "k": k, **r}


def _references(series: Series, win: Any) -> list[dict[str, Any]]:
    tr, va, _ = split_lengths(series.values.shape[0])
    s_test = win.x["test"].shape[0]
    starts = tr + va + 12 + np.arange(s_test)
    true = win.inverse(win.y["test"])
    ha = historical_average(series.values, tr, series.steps_per_day, starts)
    lv = last_value(win.inverse(win.x["test"]))
    out = []
    for name, pred in (("historical-average", ha), ("last-value", lv)):
        out.append({"method": name, "fraction": 1.0, "seed": 0, "k": series.num_nodes,
                    "metrics": evaluate(pred, true, mape_threshold=win.mape_threshold),
                    "kept": list(range(series.num_nodes)),
                    "kept_fraction": 1.0})
    return out


def _open(out: str | os.PathLike[str], kind: str, name: str, what: str,
          settings: dict[str, Any]) -> Path:
    """Claim (or resume) a study folder with a ``runs/`` folder and its settings file
    ``name``; a folder holding other settings is refused."""
    folder = claim_output(out, kind, existing="resume", what="--out")
    (folder / "runs").mkdir(parents=True, exist_ok=True)
    sfile = folder / name
    if sfile.exists() and json.loads(sfile.read_text()) != json.loads(json.dumps(settings)):
        raise BridgeConfigError(f"{folder} holds {what} with other settings; choose "
                                "another --out")
    write_atomic(sfile, json.dumps(settings, indent=1))
    return folder


def _cached(path: Path, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The record at ``path`` if a finished run wrote it, else ``make()`` written there
    atomically (what makes a killed study resume)."""
    if path.exists():
        return dict(json.loads(path.read_text()))
    rec = make()
    write_atomic(path, json.dumps(rec))
    return rec


def compare(series: Series, out: str | os.PathLike[str], *,
            fractions: Sequence[float] = FRACTIONS, seeds: Sequence[int] = (0, 1, 2),
            methods: Sequence[str] = METHODS, cfg: TrainConfig | None = None,
            scaler: str = "train", progress: bool = False) -> list[dict[str, Any]]:
    """Run (or resume) the comparison into ``out``; returns every record."""
    from tqdm import tqdm

    cfg = cfg or TrainConfig()
    folder = _open(out, "traffic-compare", "compare.json", "a comparison", {
        "series": series.name, "nodes": series.num_nodes, "steps":
        int(series.values.shape[0]), "fractions": list(fractions), "seeds": list(seeds),
        "methods": list(methods), "scaler": scaler,
        "train": asdict(replace(cfg, progress=False))})
    win = prepare(series, scaler=scaler)
    jobs = [("all", 1.0, s) for s in seeds if 1.0 in fractions]
    jobs += [(m, f, s) for f in fractions if f < 1.0 for m in methods for s in seeds]
    records = []
    for method, f, s in tqdm(jobs, desc="models", disable=not progress):
        records.append(_cached(folder / "runs" / f"{_key(method, f, s)}.json",
                               partial(_one, series, win, method, f, s, cfg, folder)))
    refs = _references(series, win)
    write_atomic(folder / "references.json", json.dumps(refs))
    _save_graph(series, folder)
    records += refs
    write_tables(records, folder, series)
    plot_compare(records, folder, series)
    return records


def _save_graph(series: Series, folder: Path) -> None:
    """What the figures need of the series (its graph, planted drivers), for ``argnn plot``."""
    arrays: dict[str, Any] = {"nodes": np.array(series.num_nodes)}
    if series.adjacency is not None:
        arrays["adjacency"] = series.adjacency
    if series.drivers is not None:
        arrays["drivers"] = np.asarray(series.drivers)
    tmp = folder / ".graph.tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, folder / "graph.npz")


def redraw(folder: str | os.PathLike[str]) -> list[Path]:
    """Redraw the tables and figures of a comparison folder from its records (``argnn plot``).

    Parameters
    ----------
    folder : a folder written by :func:`compare`.

    Returns
    -------
    list of pathlib.Path
    """
    from argnn_sim.outputs import load_json

    f = Path(folder)
    if not (f / "graph.npz").is_file() or not (f / "references.json").is_file():
        raise BridgeConfigError(f"{str(f)!r} holds no finished comparison (graph.npz and "
                                "references.json are written at its end); run it to the end")
    settings = load_json(f / "compare.json", "comparison settings")
    records = [load_json(p, "run record") for p in sorted((f / "runs").glob("*.json"))]
    records += load_json(f / "references.json", "reference forecasts")
    with np.load(f / "graph.npz") as z:
        n = int(z["nodes"])
        series = Series(name=str(settings["series"]), values=np.zeros((1, n)),
                        adjacency=z["adjacency"] if "adjacency" in z.files else None,
                        drivers=z["drivers"] if "drivers" in z.files else None)
    write_tables(records, f, series)
    plot_compare(records, f, series)
    return [p for p in (f / "mae_vs_kept.png", f / "kept_nodes.png") if p.is_file()]


def redraw_selection(folder: str | os.PathLike[str]) -> list[Path]:
    """``argnn plot`` of a ``scenarios/prunegcrn_selection.py`` folder: each data set's."""
    paths: list[Path] = []
    for sub in sorted(Path(folder).iterdir()):
        if (sub / "compare.json").is_file():
            paths += redraw(sub)
    return paths


def _precision(rec: dict[str, Any], series: Series) -> float:
    if series.drivers is None or not rec.get("kept"):
        return math.nan
    return len(set(rec["kept"]) & set(series.drivers.tolist())) / len(rec["kept"])


def summarize(records: Sequence[dict[str, Any]], series: Series) -> list[dict[str, Any]]:
    """Mean ± sd per (method, fraction) of the metrics, kept fraction, driver precision and
    mean pairwise Jaccard similarity of the kept sets across seeds."""
    groups: dict[tuple[str, float], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(r["method"], r["fraction"])].append(r)
    out = []
    for (method, f), rs in groups.items():
        row: dict[str, Any] = {"method": method, "fraction": f, "n": len(rs)}
        for key in ("mae", "rmse", "mape", "kept_mae"):
            v = np.array([r["metrics"].get(key, math.nan) for r in rs], dtype=float)
            row[f"{key}_mean"] = float(np.mean(v))
            row[f"{key}_sd"] = float(np.std(v, ddof=1)) if len(v) > 1 else math.nan
        for step in HORIZON_STEPS:  # the 15, 30, 45 and 60-minute forecasts on SZ-taxi
            for key in ("mae", "rmse", "mape"):
                v = np.array([r["metrics"][f"{key}_h"][step - 1] if len(
                    r["metrics"].get(f"{key}_h", ())) >= step else math.nan for r in rs])
                row[f"{key}_h{step}_mean"] = float(np.mean(v))
                row[f"{key}_h{step}_sd"] = float(np.std(v, ddof=1)) if len(v) > 1 else math.nan
        row["kept_fraction"] = float(np.mean([r["kept_fraction"] for r in rs]))
        row["driver_precision"] = float(np.mean([_precision(r, series) for r in rs]))
        pairs = list(itertools.combinations([r["kept"] for r in rs], 2))
        row["jaccard"] = float(np.mean([jaccard(a, b) for a, b in pairs])) if pairs \
            else math.nan
        out.append(row)
    return out


#: forecast steps reported one by one besides the average over all 12
HORIZON_STEPS = (1, 2, 3, 4)
SUMMARY_COLUMNS = (["method", "fraction", "n", "mae_mean", "mae_sd", "rmse_mean", "rmse_sd",
                    "mape_mean", "mape_sd", "kept_mae_mean", "kept_mae_sd", "kept_fraction",
                    "driver_precision", "jaccard"]
                   + [f"{k}_h{h}_{q}" for h in HORIZON_STEPS for k in ("mae", "rmse", "mape")
                      for q in ("mean", "sd")])


def write_tables(records: Sequence[dict[str, Any]], folder: Path, series: Series) -> None:
    cols = ["method", "fraction", "seed", "k", "kept_fraction", "mae", "rmse", "mape",
            "kept_mae", "driver_precision", "best_epoch", "epochs_run", "epoch_seconds",
            "kept"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(cols)
    for r in records:
        m = r["metrics"]
        w.writerow([r["method"], r["fraction"], r["seed"], r["k"], r["kept_fraction"],
                    m.get("mae"), m.get("rmse"), m.get("mape"), m.get("kept_mae"),
                    _precision(r, series), r.get("best_epoch"), r.get("epochs_run"),
                    r.get("epoch_seconds"), " ".join(map(str, r.get("kept", [])))])
    write_atomic(folder / "runs.csv", buf.getvalue())
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(SUMMARY_COLUMNS)
    for s in summarize(records, series):
        w.writerow([s[c] for c in SUMMARY_COLUMNS])
    write_atomic(folder / "summary.csv", buf.getvalue())
    write_atomic(folder / "summary.md", summary_markdown(records, series))


def _pm(mean: float, sd: float, digits: int = 3, scale: float = 1.0) -> str:
    if math.isnan(mean):
        return ""
    text = f"{scale * mean:.{digits}f}"
    return text if math.isnan(sd) else f"{text} ± {scale * sd:.{digits}f}"


def summary_markdown(records: Sequence[dict[str, Any]], series: Series) -> str:
    """The comparison as a markdown table: all-node test metrics on the original scale,
    mean ± sd over seeds, averaged over the 12 steps and at steps 1-4, with the epochs
    and the training time per model."""
    summ = summarize(records, series)
    order = {m: i for i, m in enumerate(("all", "prunegcrn", "prunegcrn-soft", "correlation",
                                         "random", "last-value", "historical-average"))}
    summ.sort(key=lambda r: (r["method"] in ("last-value", "historical-average"),
                             -r["fraction"], order.get(r["method"], 99)))
    thr = next((r["metrics"].get("mape_threshold") for r in records), 0.0)
    lines = [f"# {series.name}: forecasting every node from the kept ones", "",
             "Test split, all nodes, original scale; mean ± sd over seeds (n). MAPE counts "
             f"targets above {thr:g}. Steps 1-4 are the 15/30/45/60-minute forecasts on "
             "SZ-taxi (15-minute readings).", "",
             "| method | kept | n | MAE | RMSE | MAPE % | "
             + " | ".join(f"MAE step {h}" for h in HORIZON_STEPS) + " |",
             "|---" * (6 + len(HORIZON_STEPS)) + "|"]
    for r in summ:
        kept = f"{100 * r['kept_fraction']:.1f} %"
        name = r["method"]
        if name == "prunegcrn-soft":  # its fraction is the loss's gamma; it keeps what it learns
            name += f" (γ = {r['fraction']:g})"
        lines.append(
            f"| {name} | {kept} | {r['n']} | {_pm(r['mae_mean'], r['mae_sd'])} | "
            f"{_pm(r['rmse_mean'], r['rmse_sd'])} | {_pm(r['mape_mean'], r['mape_sd'], 1, 100)}"
            " | " + " | ".join(_pm(r[f"mae_h{h}_mean"], r[f"mae_h{h}_sd"])
                               for h in HORIZON_STEPS) + " |")
    trained = [r for r in records if r.get("epochs_run")]
    if trained:
        epochs = sorted({int(r["epochs_run"]) for r in trained})
        best = [int(r["best_epoch"]) for r in trained if r.get("best_epoch") is not None]
        secs = [float(r["epoch_seconds"]) * int(r["epochs_run"]) for r in trained
                if r.get("epoch_seconds")]
        lines += ["", f"{len(trained)} trained models; epochs run {epochs}, best epoch "
                  f"{min(best)}-{max(best)}; training time {sum(secs) / 60:.0f} min in all, "
                  f"{np.mean(secs) / 60:.1f} min per model (epoch time x epochs, "
                  "validation included)."]
    return "\n".join(lines) + "\n"


def plot_compare(records: Sequence[dict[str, Any]], folder: Path, series: Series) -> None:
    """``mae_vs_kept.png`` and ``kept_nodes.png``."""
    import networkx as nx

    from argnn_sim.plots import _save, plt

    summ = summarize(records, series)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for method, marker in (("prunegcrn", "o"), ("prunegcrn-soft", "v"), ("random", "s"),
                           ("correlation", "^")):
        pts = sorted((s["fraction"], s["mae_mean"], s["mae_sd"]) for s in summ
                     if s["method"] in (method, "all"))
        if len(pts) > 1 or any(s["method"] == method for s in summ):
            x, y, e = (np.array(v, dtype=float) for v in zip(*pts))
            if method == "prunegcrn-soft":  # plot at the fraction really kept
                x = np.array([next((t["kept_fraction"] for t in summ if t["method"] in
                                    (method, "all") and t["fraction"] == f), f) for f in x])
            soft = method == "prunegcrn-soft"  # points where each gamma ended, not a path
            ax.errorbar(100 * x, y, yerr=np.nan_to_num(e), marker=marker, capsize=2,
                        label=method + (" (each γ)" if soft else ""),
                        linestyle="none" if soft else "-")
    for s in summ:
        if s["method"] in ("historical-average", "last-value"):
            ax.axhline(s["mae_mean"], ls="--", lw=1, color="grey" if s["method"] ==
                       "last-value" else "k", label=s["method"])
    ax.set_xlabel("nodes kept (%)")
    ax.set_xlim(0, 102)  # the whole range, also when one fraction was run
    ax.set_ylabel("test MAE, all nodes")
    ax.set_title(f"{series.name}: predicting the whole network from the kept sensors",
                 fontsize=9)
    ax.invert_xaxis()
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, folder / "mae_vs_kept.png")
    if series.adjacency is None:
        return
    learned = sorted((r for r in records if r["method"] == "prunegcrn"),
                     key=lambda r: (abs(r["fraction"] - 0.25), r["seed"]))
    if not learned:
        return
    rec = learned[0]
    g = nx.from_numpy_array(series.adjacency)
    pos = nx.kamada_kawai_layout(g) if series.num_nodes <= 400 else nx.spring_layout(g, seed=0)
    fig, ax = plt.subplots(figsize=(6, 5.5))
    kept = set(rec["kept"])
    nx.draw_networkx_edges(g, pos, ax=ax, alpha=0.3, width=0.6)
    colors = ["tab:red" if i in kept else "lightgrey" for i in g.nodes]
    edge = ["k" if series.drivers is not None and i in set(series.drivers.tolist()) else
            "none" for i in g.nodes]
    nx.draw_networkx_nodes(g, pos, ax=ax, node_color=colors, edgecolors=edge, node_size=40)
    title = (f"PruneGCRN, {100 * rec['fraction']:g} % kept (seed {rec['seed']}): red = kept")
    if series.drivers is not None:
        title += f"; black ring = planted driver (precision {_precision(rec, series):.2f})"
    ax.set_title(title, fontsize=8)
    ax.axis("off")
    fig.tight_layout()
    _save(fig, folder / "kept_nodes.png")


# ------------------------------------------------------------------ the soft loss's own fraction
GAMMA_COLUMNS = ["gamma", "seed", "kept", "kept_fraction", "best_epoch", "mae", "rmse", "mape",
                 "random_mae_mean", "random_mae_sd", "correlation_mae"]


def gamma_study(series: Series, out: str | os.PathLike[str], *,
                gammas: Sequence[float] = (0.75, 0.5, 0.25, 0.1), seeds: Sequence[int] = (0,),
                random_seeds: Sequence[int] = (0, 1, 2), cfg: TrainConfig | None = None,
                scaler: str = "train", progress: bool = False) -> list[dict[str, Any]]:
    """PruneGCRN with the paper's soft loss alone, per ``gamma``: the kept fraction it reaches,
    and random and correlation selection trained at that same number of nodes.

    Resumable like :func:`compare` (one JSON per model under ``runs/``); writes
    ``gamma.csv`` (one row per soft model, with the baselines' MAE at its ``k``).
    """
    from tqdm import tqdm

    cfg = cfg or TrainConfig()
    folder = _open(out, "traffic-gamma", "gamma.json", "a gamma study", {
        "series": series.name, "nodes": series.num_nodes, "gammas": list(gammas),
        "seeds": list(seeds), "random_seeds": list(random_seeds), "scaler": scaler,
        "train": asdict(replace(cfg, progress=False))})
    win = prepare(series, scaler=scaler)
    tr, _, _ = split_lengths(series.values.shape[0])
    n = series.num_nodes

    def run(key: str, **kw: Any) -> dict[str, Any]:
        def fit() -> dict[str, Any]:
            r = train(win, seed=kw.pop("seed"), out=folder / "models" / key, **kw)
            r.pop("log")
            return r

        return _cached(folder / "runs" / f"{key}.json", fit)

    rows = []
    jobs = [(g, s) for g in gammas for s in seeds]
    for g, s in tqdm(jobs, desc="gamma", disable=not progress):
        soft = run(f"soft-g{g:g}-s{s}", cfg=replace(cfg, gamma=g), mode="learned", seed=s)
        k = max(1, len(soft["kept"]))
        rnd = [run(f"random-k{k}-s{r}", cfg=cfg, mode="fixed",
                   nodes=random_nodes(n, k, seed=r), seed=r)["metrics"]["mae"]
               for r in random_seeds]
        cor = run(f"correlation-k{k}", cfg=cfg, mode="fixed",
                  nodes=correlation_nodes(series.values[:tr], k), seed=0)["metrics"]["mae"]
        m = soft["metrics"]
        rows.append({"gamma": g, "seed": s, "kept": len(soft["kept"]),
                     "kept_fraction": soft["kept_fraction"], "best_epoch": soft["best_epoch"],
                     "mae": m["mae"], "rmse": m["rmse"], "mape": m["mape"],
                     "random_mae_mean": float(np.mean(rnd)),
                     "random_mae_sd": float(np.std(rnd, ddof=1)) if len(rnd) > 1 else math.nan,
                     "correlation_mae": cor})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=GAMMA_COLUMNS)
    w.writeheader()
    w.writerows(rows)
    write_atomic(folder / "gamma.csv", buf.getvalue())
    return rows
