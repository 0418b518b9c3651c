"""Node selection compared at equal kept fractions, with explanations.

:func:`compare` trains, for each kept fraction (default 100, 75, 50, 25, 10 %) and seed:

* ``prunegcrn``: the learned mask with a hard top-k budget (exactly k nodes kept);
* ``prunegcrn-soft``: the learned mask with ``gamma`` = the fraction and no budget (the
  paper's loss; the row records the fraction it really kept);
* ``random``: k nodes drawn from the seed, same backbone, fixed mask;
* ``correlation``: the k nodes with the highest mean absolute Pearson correlation to the
  rest on the training split (:func:`~.train.correlation_nodes`), fixed mask;
* ``all`` (at 100 %): every node;

and once, without training, the references: ``input-window-mean`` (T-GCN's HA),
``last-value`` and ``weekly-slot-mean``. Every number is on the original scale under one
metric definition (``all`` by default) and the protocol's scoring. Each finished
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
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np

from argnn_sim.figures import FolderFigures
from argnn_sim.outputs import write_atomic
from argnn_sim.store import Store

from ..errors import BridgeConfigError
from .data import Series, Windows, prepare
from .protocol import get_protocol
from .train import (
    TrainConfig,
    correlation_nodes,
    evaluate,
    last_value,
    random_nodes,
    train,
    weekly_slot_mean,
    window_mean,
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


def _one(series: Series, win: Windows, method: str, fraction: float, seed: int,
         cfg: TrainConfig, folder: Path) -> dict[str, Any]:
    n = series.num_nodes
    k = max(1, int(round(fraction * n)))
    tr = win.offsets["val"]  # the part the model is fitted on
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
    return {"method": method, "fraction": fraction, "seed": seed, "k": k, **r}


REFERENCES = ("input-window-mean", "last-value", "weekly-slot-mean")


def references(series: Series, win: Windows, *, definition: str = "all"
               ) -> list[dict[str, Any]]:
    """The forecasts that need no training, scored like the models on ``win``'s test windows:
    ``input-window-mean`` (T-GCN's HA: the mean of the input window, rolled forward),
    ``last-value`` and ``weekly-slot-mean`` (per node, time of day and weekday, the mean of
    the training part)."""
    x, true = win.test_windows()
    h = true.shape[1]
    starts = win.offsets["test"] + win.protocol.lag + np.arange(x.shape[0])
    preds = {"input-window-mean": window_mean(x, h), "last-value": last_value(x, h),
             "weekly-slot-mean": weekly_slot_mean(series.values, win.offsets["val"],
                                                  series.steps_per_day, starts, h)}
    return [{"method": name, "fraction": 1.0, "seed": 0, "k": series.num_nodes,
             "metrics": evaluate(preds[name], true, win, definition=definition),
             "kept": list(range(series.num_nodes)), "kept_fraction": 1.0}
            for name in REFERENCES]


def _open(out: str | os.PathLike[str], kind: str, name: str, what: str,
          settings: dict[str, Any]) -> Store:
    """Claim (or resume) a study folder whose units go to ``runs/`` and whose settings file
    ``name`` must match; a folder holding other settings is refused."""
    return Store(out, kind, settings=settings, settings_file=name, units="runs",
                 holds=what, error=BridgeConfigError)


def _unit(series: Series, win: Windows, method: str, fraction: float, seed: int,
          cfg: TrainConfig, folder: Path) -> dict[str, Any]:
    """One model of a comparison, with one torch thread (the same numbers in any process)."""
    from ..threads import one_thread

    with one_thread():
        return _one(series, win, method, fraction, seed, cfg, folder)


def compare(series: Series, out: str | os.PathLike[str], *,
            fractions: Sequence[float] = FRACTIONS, seeds: Sequence[int] = (0, 1, 2),
            methods: Sequence[str] = METHODS, cfg: TrainConfig | None = None,
            protocol: str = "default", scaler: str | None = None, jobs: int = 1,
            progress: bool = False) -> list[dict[str, Any]]:
    """Run (or resume) the comparison into ``out``; returns every record.

    ``protocol`` fixes the split, scaling, windows and scoring (:mod:`~.protocol`); ``cfg``
    the training (see :func:`~.train.config_for`). Each model trains with one torch thread,
    ``jobs`` models at a time in worker processes; a finished model is one file under
    ``runs/`` (written atomically), so a stopped comparison resumes where it was.
    """

    from argnn_sim.executors import check_jobs

    check_jobs(jobs)
    proto = get_protocol(protocol)
    cfg = cfg or TrainConfig()
    win = prepare(series, protocol=proto, scaler=scaler)  # refuses a series too short
    store = _open(out, "traffic-compare", "compare.json", "a comparison", {
        "series": series.name, "nodes": series.num_nodes, "steps":
        int(series.values.shape[0]), "fractions": list(fractions), "seeds": list(seeds),
        "methods": list(methods), "protocol": proto.settings(), "scaler": scaler,
        "metric": cfg.metric, "train": asdict(replace(cfg, progress=False))})
    folder = store.folder
    jobs_list = planned_jobs(fractions, methods, seeds)
    with store:
        # the references and the graph first (cheap): `argnn plot` then draws the tables of
        # the models finished so far while a long comparison is still running or stopped
        refs = references(series, win, definition=cfg.metric)
        store.write("references.json", json.dumps(refs))
        _save_graph(series, folder)
        got = store.run([(_key(*job), _unit, (series, win, *job, cfg, folder))
                         for job in jobs_list], workers=jobs, progress=progress,
                        desc="models")
        done = {job: got[_key(*job)] for job in jobs_list}
        records = [done[job] for job in jobs_list]
        records += refs
        write_tables(records, folder, series)
        plot_compare(records, folder, series)
        plot_curves(write_curves(records, folder), folder, series, cfg.patience)
    for r in records:  # the epochs are in curves.csv; the returned records stay small
        r.pop("log", None)
    return records


def _save_graph(series: Series, folder: Path) -> None:
    """What the figures need of the series (its graph, planted drivers), for ``argnn plot``."""
    arrays: dict[str, Any] = {"nodes": np.array(series.num_nodes),
                              "steps_per_day": np.array(series.steps_per_day)}
    if series.adjacency is not None:
        arrays["adjacency"] = series.adjacency
    if series.drivers is not None:
        arrays["drivers"] = np.asarray(series.drivers)
    tmp = folder / ".graph.tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, folder / "graph.npz")
    if series.meta.get("truth"):  # a planted series: its drivers, parents, lags and weights
        write_atomic(folder / "truth.json", json.dumps(series.meta["truth"], indent=1))


def _draw(f: Path) -> list[Path]:
    """Redraw the tables and figures of a comparison folder (written by :func:`compare`) from
    its records (``argnn plot``)."""
    from argnn_sim.outputs import load_json

    settings = load_json(f / "compare.json", "comparison settings")
    records = [load_json(p, "run record") for p in sorted((f / "runs").glob("*.json"))]
    planned = planned_models(settings)
    records += load_json(f / "references.json", "reference forecasts")
    with np.load(f / "graph.npz") as z:
        n = int(z["nodes"])
        # the step's length names the table's columns (15 min on SZ-taxi); a graph.npz
        # written before it was recorded leaves the series' default
        day = {"steps_per_day": int(z["steps_per_day"])} if "steps_per_day" in z.files else {}
        series = Series(name=str(settings["series"]), values=np.zeros((1, n)),
                        adjacency=z["adjacency"] if "adjacency" in z.files else None,
                        drivers=z["drivers"] if "drivers" in z.files else None, **day)
    write_tables(records, f, series, planned=planned)
    plot_compare(records, f, series)
    plot_curves(write_curves(records, f), f, series,
                (settings.get("train") or {}).get("patience"))
    return [p for p in (f / "mae_vs_kept.png", f / "kept_nodes.png",
                        f / "training_curves.png") if p.is_file()]


redraw = FolderFigures(_draw, ("graph.npz", "references.json", "compare.json"),
                       "comparison yet (graph.npz and references.json are written when it "
                       "starts)", "run it", BridgeConfigError)


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


def table_facts(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What one table's numbers mean, shared by all its records: the metric definition (a
    mixture is refused), the protocol, MAPE's threshold, the reported steps and whether a
    step's score pools the steps before it."""
    from argnn_sim.metrics import one_definition

    definition = one_definition(records, column="test metrics")
    ms = [r["metrics"] for r in records]
    protos = {m.get("protocol", "default") for m in ms}
    if len(protos) > 1:
        raise BridgeConfigError(f"the table would mix protocols ({', '.join(sorted(protos))})"
                                "; keep one protocol per folder")
    first = ms[0] if ms else {}
    # the training loss of the trained rows (the references train nothing); older records
    # carry the preset's, newer ones the loss used (Protocol.as_run)
    losses = sorted({str(r["protocol"].get("loss")) for r in records
                     if isinstance(r.get("protocol"), Mapping) and "loss" in r["protocol"]})
    return {"definition": definition or "all", "protocol": next(iter(protos), "default"),
            "loss": " and ".join(x.upper() for x in losses) or None,
            "mape_threshold": first.get("mape_threshold", 0.0),
            "steps": list(first.get("steps", HORIZON_STEPS)),
            "pooled": bool(first.get("pooled", False))}


#: the metrics a summary averages over seeds (headline definition), and the other
#: definition's extra columns
SUMMARY_KEYS = ("mae", "rmse", "mape", "accuracy", "r2", "var", "kept_mae")
EXTRA_KEYS = ("mae", "rmse")


def _mean_sd(v: Sequence[float]) -> tuple[float, float]:
    a = np.asarray(v, dtype=float)
    return float(np.mean(a)), float(np.std(a, ddof=1)) if a.size > 1 else math.nan


def summarize(records: Sequence[dict[str, Any]], series: Series) -> list[dict[str, Any]]:
    """Mean ± sd per (method, fraction) of the metrics (over every step, and per reported
    step), kept fraction, driver precision and mean pairwise Jaccard similarity of the kept
    sets across seeds. The other metric definition's MAE and RMSE are extra columns named
    after it (``masked_mae_mean``, ...)."""
    facts = table_facts(records)
    other = "masked" if facts["definition"] == "all" else "all"
    groups: dict[tuple[str, float], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        groups[(r["method"], r["fraction"])].append(r)
    out = []
    for (method, f), rs in groups.items():
        row: dict[str, Any] = {"method": method, "fraction": f, "n": len(rs),
                               "definition": facts["definition"],
                               "protocol": facts["protocol"]}
        for key in SUMMARY_KEYS:
            row[f"{key}_mean"], row[f"{key}_sd"] = _mean_sd(
                [r["metrics"].get(key, math.nan) for r in rs])
        for key in EXTRA_KEYS:
            row[f"{other}_{key}_mean"], row[f"{other}_{key}_sd"] = _mean_sd(
                [r["metrics"].get(other, {}).get(key, math.nan) for r in rs])
        for step in facts["steps"]:
            for key in ("mae", "rmse", "mape", "accuracy"):
                row[f"{key}_h{step}_mean"], row[f"{key}_h{step}_sd"] = _mean_sd(
                    [_at(r["metrics"].get(f"{key}_h", ()), step) for r in rs])
            row[f"{other}_mae_h{step}_mean"], row[f"{other}_mae_h{step}_sd"] = _mean_sd(
                [_at(r["metrics"].get(other, {}).get("mae_h", ()), step) for r in rs])
        row["kept_fraction"] = float(np.mean([r["kept_fraction"] for r in rs]))
        row["driver_precision"] = float(np.mean([_precision(r, series) for r in rs]))
        pairs = list(itertools.combinations([r["kept"] for r in rs], 2))
        row["jaccard"] = float(np.mean([jaccard(a, b) for a, b in pairs])) if pairs \
            else math.nan
        row["best_epoch"] = ",".join(str(r["best_epoch"]) for r in rs
                                     if r.get("best_epoch") is not None)
        row["epochs_run"] = ",".join(str(r["epochs_run"]) for r in rs if r.get("epochs_run"))
        out.append(row)
    return out


def _at(values: Sequence[float], step: int) -> float:
    return float(values[step - 1]) if len(values) >= step else math.nan


#: forecast steps reported one by one under the default protocol, besides the average
HORIZON_STEPS = (1, 2, 3, 4)


def summary_columns(facts: Mapping[str, Any]) -> list[str]:
    """The columns of ``summary.csv`` for a table with these facts (:func:`table_facts`)."""
    other = "masked" if facts["definition"] == "all" else "all"
    cols = ["method", "fraction", "n", "definition", "protocol"]
    cols += [f"{k}_{q}" for k in SUMMARY_KEYS for q in ("mean", "sd")]
    cols += [f"{other}_{k}_{q}" for k in EXTRA_KEYS for q in ("mean", "sd")]
    cols += ["kept_fraction", "driver_precision", "jaccard", "best_epoch", "epochs_run"]
    cols += [f"{k}_h{h}_{q}" for h in facts["steps"]
             for k in ("mae", "rmse", "mape", "accuracy") for q in ("mean", "sd")]
    cols += [f"{other}_mae_h{h}_{q}" for h in facts["steps"] for q in ("mean", "sd")]
    return cols


def planned_jobs(fractions: Sequence[float], methods: Sequence[str], seeds: Sequence[int]
                 ) -> list[tuple[str, float, int]]:
    """The models of a comparison, in order: the all-node model per seed, then every method
    at every fraction below 1 per seed."""
    jobs = [("all", 1.0, s) for s in seeds if 1.0 in fractions]
    return jobs + [(m, f, s) for f in fractions if f < 1.0 for m in methods for s in seeds]


def planned_models(settings: Mapping[str, Any]) -> int:
    """How many models a comparison's settings (``compare.json``) plan."""
    return len(planned_jobs([float(x) for x in settings.get("fractions") or ()],
                            list(settings.get("methods") or ()),
                            list(settings.get("seeds") or ())))


def write_tables(records: Sequence[dict[str, Any]], folder: Path, series: Series, *,
                 planned: int | None = None) -> None:
    """``runs.csv`` (one row per model), ``summary.csv`` and ``summary.md``; every number
    of a column under one metric definition (named in the ``definition`` column). With
    ``planned`` above the models among ``records``, ``summary.md`` opens by saying the
    comparison is unfinished and how many models its rows hold."""
    facts = table_facts(records)
    other = "masked" if facts["definition"] == "all" else "all"
    cols = ["method", "fraction", "seed", "k", "kept_fraction", "definition", "protocol",
            "mae", "rmse", "mape", "accuracy", "r2", "var", "kept_mae", f"{other}_mae",
            f"{other}_rmse", "driver_precision", "best_epoch", "epochs_run",
            "epoch_seconds", "kept"]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(cols)
    for r in records:
        m = r["metrics"]
        w.writerow([r["method"], r["fraction"], r["seed"], r["k"], r["kept_fraction"],
                    facts["definition"], facts["protocol"], m.get("mae"), m.get("rmse"),
                    m.get("mape"), m.get("accuracy"), m.get("r2"), m.get("var"),
                    m.get("kept_mae"), m.get(other, {}).get("mae"),
                    m.get(other, {}).get("rmse"), _precision(r, series),
                    r.get("best_epoch"), r.get("epochs_run"), r.get("epoch_seconds"),
                    " ".join(map(str, r.get("kept", [])))])
    write_atomic(folder / "runs.csv", buf.getvalue())
    buf = io.StringIO()
    cols = summary_columns(facts)
    w = csv.writer(buf)
    w.writerow(cols)
    for s in summarize(records, series):
        w.writerow([s.get(c, "") for c in cols])
    write_atomic(folder / "summary.csv", buf.getvalue())
    md = summary_markdown(records, series)
    models = sum(1 for r in records if r["method"] not in REFERENCES)
    if planned is not None and models < planned:
        md = (f"**Unfinished: {models} of {planned} planned models.** Each row's `n` says how "
              "many seeds it holds; run the same `argnn traffic compare` command to go on.\n\n"
              + md)
    write_atomic(folder / "summary.md", md)
    lit = literature_markdown(records, series)
    if lit is not None:
        write_atomic(folder / "literature.md", lit)


def _pm(mean: float, sd: float, digits: int = 3, scale: float = 1.0) -> str:
    if math.isnan(mean):
        return ""
    text = f"{scale * mean:.{digits}f}"
    return text if math.isnan(sd) else f"{text} ± {scale * sd:.{digits}f}"


_ORDER = ("all", "prunegcrn", "prunegcrn-soft", "correlation", "random", "input-window-mean",
          "last-value", "weekly-slot-mean")


def step_label(step: int, minutes: int | None) -> str:
    """A forecast step as a table names it: ``15 min`` when a step's length is known."""
    return f"{step * minutes} min" if minutes else f"step {step}"


def minutes_per_step(series_name: str, steps_per_day: int) -> int | None:
    """Minutes per step of a real series (None for synthetic data)."""
    return None if series_name == "synthetic" else 24 * 60 // steps_per_day


def definition_caption(facts: Mapping[str, Any]) -> str:
    """One sentence naming a table's metric definition, protocol and MAPE threshold."""
    from argnn_sim.metrics import DEFINITION_TEXT

    from .protocol import CITATIONS

    pooled = ("a step's columns pool steps 1..k of the windows T-GCN scores"
              if facts["pooled"] else "a step's columns score that step alone")
    return (f"Metric definition `{facts['definition']}`: {DEFINITION_TEXT[facts['definition']]}"
            f". Protocol `{facts['protocol']}` ({CITATIONS.get(facts['protocol'], '')}); "
            f"{pooled}. MAPE counts targets above {facts['mape_threshold']:g}."
            + (f" Models trained on {facts['loss']} loss." if facts.get("loss") else ""))


def literature_markdown(records: Sequence[dict[str, Any]], series: Series) -> str | None:
    """Our all-node model and the input-window mean beside the published rows of the paper
    whose protocol the records follow (T-GCN's SZ-taxi table, AGCRN's PeMSD4/8 rows), or
    None when no published table matches the series and protocol."""
    from .protocol import AGCRN_PUBLISHED, CITATIONS, PROTOCOLS, TGCN_PUBLISHED, published_key

    facts = table_facts(records)
    key = published_key(PROTOCOLS[facts["protocol"]], series.name)
    if key is None or facts["definition"] != "all":
        return None
    ours = [r for r in records if r["method"] == "all"]
    window = [r for r in records if r["method"] == "input-window-mean"]
    cite = CITATIONS[facts["protocol"]]
    if key == "sz_taxi":
        lines = [f"# {series.name} under T-GCN's protocol, beside its published rows", "",
                 f"Published rows: {cite}, Table 1 (SZ-taxi; its HA row is the same at every "
                 "horizon). Ours: every entry scored on the original scale (metric `all`), "
                 "T-GCN's 80/20 split, max scaling, 4-step input window and k-step scores "
                 f"pooling steps 1..k; mean ± sd over {len(ours)} seed(s); "
                 + (f"trained on {facts['loss']} loss (T-GCN trains on L2); "
                    if facts.get("loss") else "")
                 + "the checkpoint is "
                 "chosen on validation only, while T-GCN reports the epoch with the lowest test "
                 "error.", "",
                 "| horizon | method | source | RMSE | MAE | accuracy | R² | explained var. |",
                 "|---|---|---|---|---|---|---|---|"]
        for k, minutes in enumerate((15, 30, 45, 60), start=1):
            for name, rs in (("AGCRN backbone, all nodes", ours),
                             ("input-window mean (T-GCN's HA)", window)):
                if not rs:
                    continue
                vals = [_mean_sd([_at(r["metrics"][f"{q}_h"], k) for r in rs])
                        for q in ("rmse", "mae", "accuracy", "r2", "var")]
                digits = (4, 4, 4, 4, 4)
                cells = " | ".join(_pm(m, sd, d) for (m, sd), d in zip(vals, digits))
                lines.append(f"| {minutes} min | {name} | ours | {cells} |")
            for name, rows in TGCN_PUBLISHED.items():
                cells = " | ".join(f"{v:.4f}" for v in rows[minutes])
                lines.append(f"| {minutes} min | {name} | published | {cells} |")
        return "\n".join(lines) + "\n"
    mae, rmse, mape = AGCRN_PUBLISHED[key]
    lines = [f"# {series.name} under AGCRN's protocol, beside its published row", "",
             f"Published: {cite}, Table 2 (average over the 12 horizons). Ours: "
             f"{definition_caption(facts)}", "",
             "| method | source | MAE | RMSE | MAPE % |", "|---|---|---|---|---|"]
    for name, rs in (("AGCRN backbone, all nodes", ours), ("input-window mean", window)):
        if rs:
            vals = [_mean_sd([r["metrics"][q] for r in rs]) for q in ("mae", "rmse", "mape")]
            lines.append(f"| {name} | ours | {_pm(*vals[0], 2)} | {_pm(*vals[1], 2)} | "
                         f"{_pm(*vals[2], 2, 100)} |")
    lines.append(f"| AGCRN | published | {mae:.2f} | {rmse:.2f} | {100 * mape:.2f} |")
    return "\n".join(lines) + "\n"


def summary_markdown(records: Sequence[dict[str, Any]], series: Series) -> str:
    """The comparison as a markdown table: all-node test metrics on the original scale,
    mean ± sd over seeds, over every step and at each reported step, with the other metric
    definition's MAE as an extra, labelled column, and the epochs and training time."""
    facts = table_facts(records)
    other = "masked" if facts["definition"] == "all" else "all"
    summ = summarize(records, series)
    order = {m: i for i, m in enumerate(_ORDER)}
    summ.sort(key=lambda r: (r["method"] in REFERENCES, -r["fraction"],
                             order.get(r["method"], 99)))
    minutes = minutes_per_step(series.name, series.steps_per_day)
    steps = facts["steps"]
    h = max((len(r["metrics"].get("mae_h", ())) for r in records), default=0)
    every = (f"steps 1-{h} pooled" if h else "every step")
    other_name = "MAE, targets ≠ 0" if other == "masked" else "MAE, every entry"
    lines = [f"# {series.name}: forecasting every node from the kept ones", "",
             definition_caption(facts) + f" Test split, all nodes; mean ± sd over seeds (n);"
             f" MAE, RMSE and MAPE over {every}, then MAE per step.", "",
             "| method | kept | n | MAE | RMSE | MAPE % | accuracy | "
             + " | ".join(f"MAE {step_label(k, minutes)}" for k in steps)
             + f" | {other_name} (extra) |",
             "|---" * (8 + len(steps)) + "|"]
    for r in summ:
        kept = f"{100 * r['kept_fraction']:.1f} %"
        name = r["method"]
        if name == "prunegcrn-soft":  # its fraction is the loss's gamma; it keeps what it learns
            name += f" (γ = {r['fraction']:g})"
        lines.append(
            f"| {name} | {kept} | {r['n']} | {_pm(r['mae_mean'], r['mae_sd'])} | "
            f"{_pm(r['rmse_mean'], r['rmse_sd'])} | {_pm(r['mape_mean'], r['mape_sd'], 1, 100)}"
            f" | {_pm(r['accuracy_mean'], r['accuracy_sd'], 4)} | "
            + " | ".join(_pm(r[f"mae_h{k}_mean"], r[f"mae_h{k}_sd"]) for k in steps)
            + f" | {_pm(r[f'{other}_mae_mean'], r[f'{other}_mae_sd'])} |")
    trained = [r for r in records if r.get("epochs_run")]
    if trained:
        epochs = sorted({int(r["epochs_run"]) for r in trained})
        best = [int(r["best_epoch"]) for r in trained if r.get("best_epoch") is not None]
        secs = [float(r["epoch_seconds"]) * int(r["epochs_run"]) for r in trained
                if r.get("epoch_seconds")]
        lines += ["", f"{len(trained)} trained models; epochs run {min(epochs)}-{max(epochs)}, "
                  f"best epoch {min(best)}-{max(best)} (0-based); training time "
                  f"{sum(secs) / 60:.0f} min in all, {np.mean(secs) / 60:.1f} min per model "
                  "(epoch time x epochs, validation included)."]
    return "\n".join(lines) + "\n"


CURVE_COLUMNS = ["method", "fraction", "seed", "epoch", "train_mae", "val_mae", "seconds"]


def write_curves(records: Sequence[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    """``curves.csv``: every trained model's epochs (train and validation MAE, seconds), from
    its record or its ``models/<run>/log.csv``; a model whose log is gone keeps the rows an
    earlier call wrote. Returns the rows."""
    old: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    if (folder / "curves.csv").is_file():
        with open(folder / "curves.csv", newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                old[(row["method"], row["fraction"], row["seed"])].append(row)
    rows: list[dict[str, Any]] = []
    for r in records:
        if not r.get("epochs_run"):
            continue
        log = r.get("log")
        path = folder / "models" / _key(r["method"], r["fraction"], r["seed"]) / "log.csv"
        if log is None and path.is_file():
            with open(path, newline="", encoding="utf-8") as fh:
                log = list(csv.DictReader(fh))
        if log is None:
            rows += old.get((str(r["method"]), str(r["fraction"]), str(r["seed"])), [])
            continue
        rows += [{"method": r["method"], "fraction": r["fraction"], "seed": r["seed"],
                  **{k: e[k] for k in CURVE_COLUMNS[3:]}} for e in log]
    if rows:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=CURVE_COLUMNS)
        w.writeheader()
        w.writerows(rows)
        write_atomic(folder / "curves.csv", buf.getvalue())
    return rows


def plot_curves(rows: Sequence[Mapping[str, Any]], folder: Path, series: Series,
                patience: int | None = None) -> Path | None:
    """``training_curves.png``: the all-node models' validation MAE per epoch, the chosen
    (best-validation) epoch marked and the epochs after it shaded (early stopping waits
    ``patience`` of them); beside it, every pruned model's validation MAE by method.
    (Training MAE is in ``curves.csv``: it is measured on another period and would not share
    the axis.)"""
    from argnn_sim.plots import plt, save_figure

    if not rows:
        return None
    runs: dict[tuple[str, float, int], list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        runs[(str(r["method"]), float(r["fraction"]), int(r["seed"]))].append(r)
    pruned = {k: v for k, v in runs.items() if k[0] != "all"}
    unit = " (km/h)" if series.name == "sz_taxi" else ""
    fig, axes = plt.subplots(1, 2 if pruned else 1, figsize=(11 if pruned else 6.5, 4.2),
                             sharey=True, squeeze=False)
    palette = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    ax0 = axes[0, 0]
    for i, ((_m, _f, seed), log) in enumerate(sorted((k, v) for k, v in runs.items()
                                                     if k[0] == "all")):
        ep = np.array([int(e["epoch"]) for e in log]) + 1
        val = np.array([float(e["val_mae"]) for e in log])
        c = palette[i % len(palette)]
        b = int(np.argmin(val))
        ax0.plot(ep, val, color=c, lw=1.3,
                 label=f"seed {seed}: best epoch {ep[b]} of {ep[-1]}")
        ax0.plot(ep[b], val[b], "o", color=c, ms=6)
        if b + 1 < len(val):
            ax0.axvspan(ep[b], ep[-1], color=c, alpha=0.07)
    ax0.set_title("all nodes: dot = the chosen epoch; shaded = the epochs after it"
                  + (f" (stops after {patience} without a better one)" if patience else ""),
                  fontsize=8)
    styles = {"prunegcrn": "tab:red", "random": "tab:grey", "correlation": "tab:olive",
              "prunegcrn-soft": "tab:purple"}
    seen = set()
    for (m, _f, _seed), log in sorted(pruned.items()):
        ep = np.array([int(e["epoch"]) for e in log]) + 1
        label = m if m not in seen else None
        seen.add(m)
        axes[0, -1].plot(ep, [float(e["val_mae"]) for e in log], color=styles.get(m, "k"),
                         lw=0.7, alpha=0.8, label=label)
    if pruned:
        axes[0, -1].set_title("pruned models (every fraction and seed)", fontsize=8)
    for ax in axes.flat:
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="lower left", framealpha=0.9)
    ax0.set_ylabel(f"validation MAE{unit}, every entry, all forecast steps")
    vals = [float(r["val_mae"]) for r in rows]
    lo, hi = min(vals), float(np.percentile(vals, 97))
    span = hi - lo if hi > lo else max(abs(lo), 1.0) * 0.05  # one epoch: no spread
    ax0.set_ylim(lo - 0.35 * span, hi + 0.05 * span)
    fig.suptitle(f"{series.name}: validation error per epoch", fontsize=10)
    fig.tight_layout()
    path = folder / "training_curves.png"
    save_figure(fig, path)
    return path


def plot_compare(records: Sequence[dict[str, Any]], folder: Path, series: Series) -> None:
    """``mae_vs_kept.png`` and ``kept_nodes.png``."""
    import networkx as nx

    from argnn_sim.plots import plt, save_figure

    summ = summarize(records, series)
    fig, ax = plt.subplots(figsize=(7.6, 4))
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
    colors = {"input-window-mean": "tab:brown", "last-value": "grey", "weekly-slot-mean": "k"}
    for s in summ:
        if s["method"] in REFERENCES:
            ax.axhline(s["mae_mean"], ls="--", lw=1, color=colors[s["method"]],
                       label=f"{s['method']} ({s['mae_mean']:.2f})")
    facts = table_facts(records)
    unit = " (km/h)" if series.name == "sz_taxi" else ""
    ax.set_xlabel("nodes kept (%)")
    ax.set_xlim(0, 102)  # the whole range, also when one fraction was run
    ax.set_ylabel(f"test MAE{unit}, all nodes")
    ax.set_title(f"{series.name}: predicting the whole network from the kept sensors\n"
                 f"metric `{facts['definition']}` (every entry scored)" if facts["definition"]
                 == "all" else f"{series.name}: metric `masked` (targets ≠ 0 only)",
                 fontsize=9)
    ax.invert_xaxis()
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.tight_layout()
    save_figure(fig, folder / "mae_vs_kept.png")
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
    save_figure(fig, folder / "kept_nodes.png")


# ------------------------------------------------------------------ the soft loss's own fraction
GAMMA_COLUMNS = ["gamma", "seed", "definition", "protocol", "kept", "kept_fraction", "best_epoch", "mae", "rmse", "mape",
                 "random_mae_mean", "random_mae_sd", "correlation_mae"]


def gamma_study(series: Series, out: str | os.PathLike[str], *,
                gammas: Sequence[float] = (0.75, 0.5, 0.25, 0.1), seeds: Sequence[int] = (0,),
                random_seeds: Sequence[int] = (0, 1, 2), cfg: TrainConfig | None = None,
                protocol: str = "default", scaler: str | None = None,
                progress: bool = False) -> list[dict[str, Any]]:
    """PruneGCRN with the paper's soft loss alone, per ``gamma``: the kept fraction it reaches,
    and random and correlation selection trained at that same number of nodes.

    Resumable like :func:`compare` (one JSON per model under ``runs/``); writes
    ``gamma.csv`` (one row per soft model, with the baselines' MAE at its ``k``).
    """
    proto = get_protocol(protocol)
    cfg = cfg or TrainConfig()
    win = prepare(series, protocol=proto, scaler=scaler)
    store = _open(out, "traffic-gamma", "gamma.json", "a gamma study", {
        "series": series.name, "nodes": series.num_nodes, "gammas": list(gammas),
        "seeds": list(seeds), "random_seeds": list(random_seeds), "scaler": scaler,
        "protocol": proto.settings(), "metric": cfg.metric,
        "train": asdict(replace(cfg, progress=False))})
    with store:
        return _gamma_rows(series, win, store, proto.name, gammas, seeds, random_seeds, cfg,
                           progress)


def _gamma_rows(series: Series, win: Windows, store: Store, protocol: str,
                gammas: Sequence[float], seeds: Sequence[int], random_seeds: Sequence[int],
                cfg: TrainConfig, progress: bool) -> list[dict[str, Any]]:
    from tqdm import tqdm

    from argnn_sim.metrics import one_definition

    folder = store.folder
    tr = win.offsets["val"]
    n = series.num_nodes

    def run(key: str, **kw: Any) -> dict[str, Any]:
        def fit() -> dict[str, Any]:
            r = train(win, seed=kw.pop("seed"), out=folder / "models" / key, **kw)
            r.pop("log")
            return r

        rec = store.get(key)
        if rec is None:
            rec = fit()
            store.put(key, rec)
        return dict(rec)

    rows = []
    seen: list[dict[str, Any]] = []
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
        seen.append(m)
        one_definition(seen, column="gamma.csv")
        rows.append({"gamma": g, "seed": s, "definition": m.get("definition", "masked"),
                     "protocol": protocol, "kept": len(soft["kept"]),
                     "kept_fraction": soft["kept_fraction"], "best_epoch": soft["best_epoch"],
                     "mae": m["mae"], "rmse": m["rmse"], "mape": m["mape"],
                     "random_mae_mean": float(np.mean(rnd)),
                     "random_mae_sd": float(np.std(rnd, ddof=1)) if len(rnd) > 1 else math.nan,
                     "correlation_mae": cor})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=GAMMA_COLUMNS)
    w.writeheader()
    w.writerows(rows)
    store.write("gamma.csv", buf.getvalue())
    return rows
