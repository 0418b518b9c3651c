"""Decentralized against centralized pruning where the answer is known: planted drivers on a
real road graph (SZ-taxi's 156 roads by default), at several horizons, on one metric.

For each seed ``p`` (0 .. ``seeds`` - 1) the study makes one planted series
(:mod:`argnn_sim.planted`, seed ``p``: its drivers, each follower's parents, lags and
weights are known), trains PruneGCRN on it (seed ``p``, one kept share), and runs the road
comparison of :mod:`prunegcrn_bridge.road` on it at each horizon with run seed ``p``:
the spectral rule (D and DW, instant and delayed lossy links, the DW budget path), the
centralized selections (PruneGCRN's, random, correlation and magnitude, at equal sensors and
at the spectral rule's own share), the planted drivers imposed, and the references (AGCRN's
own forecast from PruneGCRN's checkpoint, the input-window mean, the last value, the daily
slot mean). Every row is scored by one function on the ``all`` definition (every entry,
original scale). The seeds pool into one table per horizon with paired differences.

Layout of ``out``::

    study.json                 the settings (a folder holding other settings is refused)
    truth/p<p>.json            each planted series' truth
    prunegcrn/p<p>/            PruneGCRN on series p (``argnn traffic compare`` layout)
    h<H>/p<p>/                 the road comparison of series p at horizon H (resumable)
    h<H>/summary.md|csv, paired.csv, paired_recall.csv, paired_edges.csv   pooled
    recall_vs_kept.png, road_map.png, study.md

Every part is resumable: a stopped study run again continues where it was.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from argnn_sim.figures import FolderFigures
from argnn_sim.outputs import write_atomic

from ..errors import BridgeConfigError

__all__ = ["PlantedStudyConfig", "quick_study_config", "run_planted_study", "study_markdown",
           "paired_key"]


@dataclass(frozen=True)
class PlantedStudyConfig:
    """What :func:`run_planted_study` runs.

    base : the road graph (``sz_taxi`` or an adjacency file). share, lags, noise, hops,
    missing, steps : the planted series (:class:`argnn_sim.planted.PlantedSpec`; ``hops``
    is the parents' radius). seeds : series and run seeds 0 .. seeds - 1. horizons : steps
    ahead (1 and 4: 15 and 60 minutes). fractions : kept shares of the centralized
    selections (1 is the unpruned network). prunegcrn_fraction : PruneGCRN's kept share
    (0: no PruneGCRN rows). net_hops : the simulated network's input radius (-1: ``hops``,
    so a follower's predictor hears its parents). epochs, patience, hidden : PruneGCRN's
    training. asynchronous : also the delayed lossy runs. budgets : the spectral rule's
    budget path. train_steps, test_steps : shorter splits (quick runs).
    """

    base: str = "sz_taxi"
    data_root: str = ""
    share: float = 0.1
    lags: tuple[int, int] = (1, 4)
    noise: float = 0.1
    hops: int = 2
    missing: float = 0.0
    steps: int = 2976
    seeds: int = 5
    horizons: tuple[int, ...] = (1, 4)
    fractions: tuple[float, ...] = (1.0, 0.5, 0.2, 0.1)
    prunegcrn_fraction: float = 0.2
    net_hops: int = -1
    epochs: int = 20
    patience: int = 5
    hidden: int = 32
    asynchronous: bool = True
    budgets: tuple[float, ...] = (0.25, 0.5, 0.75)
    train_steps: int = 0
    test_steps: int = 0
    quick: bool = False

    def __post_init__(self) -> None:
        self.spec(0)  # the planted series' own checks (share, lags, hops, missing, ...)
        if not 1 <= self.seeds <= 100:
            raise BridgeConfigError(f"seeds = {self.seeds}: give from 1 to 100 (--seeds)")
        if not self.horizons or len(set(self.horizons)) != len(self.horizons) or any(
                isinstance(h, bool) or not isinstance(h, int) or not 1 <= h <= 96
                for h in self.horizons):
            raise BridgeConfigError(f"horizons = {list(self.horizons)}: give distinct whole "
                                    "steps from 1 to 96, e.g. 1,4 (--horizons)")
        if not 0 <= self.prunegcrn_fraction < 1:
            raise BridgeConfigError(f"prunegcrn_fraction = {self.prunegcrn_fraction!r}: give "
                                    "PruneGCRN's kept share in (0, 1), or 0 for none")
        if self.net_hops < -1:
            raise BridgeConfigError(f"net_hops = {self.net_hops}: give the network's input "
                                    "radius >= 0 (or -1: the planting radius)")
        for name in ("epochs", "patience", "hidden"):
            if not 1 <= getattr(self, name) <= 10_000:
                raise BridgeConfigError(f"{name} = {getattr(self, name)!r}: give from 1 to "
                                        "10,000")
        self.road(0, self.horizons[0])  # the road comparison's own checks

    def spec(self, seed: int) -> Any:
        """The planted series of ``seed`` (a :class:`argnn_sim.planted.PlantedSpec`)."""
        from argnn_sim.planted import PlantedSpec

        return PlantedSpec(base=self.base, share=self.share, lags=tuple(self.lags),
                           noise=self.noise, hops=self.hops, missing=self.missing,
                           steps=self.steps, seed=seed)

    def data(self, seed: int) -> str:
        """The series' spec string (``planted:...``), as ``[task] data`` names it."""
        return str(self.spec(seed).to_string())

    def road(self, seed: int, horizon: int, selections: Sequence[str] = ()) -> Any:
        """The road comparison of series ``seed`` at ``horizon``."""
        from .config import RoadConfig

        fr = tuple(self.fractions)
        if self.prunegcrn_fraction and self.prunegcrn_fraction not in fr:
            fr += (self.prunegcrn_fraction,)
        return RoadConfig(data=self.data(seed), data_root=self.data_root, seeds=1, seed=seed,
                          fractions=fr, horizon=horizon,
                          hops=self.hops if self.net_hops < 0 else self.net_hops,
                          budgets=tuple(self.budgets), asynchronous=self.asynchronous,
                          selections=tuple(selections), protocol="default",
                          train_steps=self.train_steps, test_steps=self.test_steps,
                          input_period=1.0 if self.quick else 2.0)


def quick_study_config(**changes: Any) -> PlantedStudyConfig:
    """A small version for tests and ``--quick`` (under a minute): a 400-step series whose
    parents lie within 1 hop, two seeds, horizons 1 and 4, short splits, no delayed links, a
    tiny PruneGCRN."""
    base = PlantedStudyConfig(steps=400, hops=1, seeds=2, fractions=(1.0, 0.2), budgets=(0.5,),
                              asynchronous=False, train_steps=48, test_steps=24, epochs=1,
                              patience=1, hidden=8, quick=True)
    return replace(base, **changes)


def _settings(cfg: PlantedStudyConfig) -> dict[str, Any]:
    d = json.loads(json.dumps(asdict(cfg)))
    d.pop("data_root")  # where the data lie is not what the study is
    return d


def _prunegcrn(cfg: PlantedStudyConfig, seed: int, folder: Path) -> str:
    """Train (or resume) PruneGCRN on series ``seed`` in ``folder``; return the folder."""
    from ..threads import one_thread
    from ..traffic.data import load_planted
    from ..traffic.experiment import compare
    from ..traffic.protocol import embed_dim_for, get_protocol
    from ..traffic.train import config_for

    series = load_planted(cfg.data(seed), cfg.data_root or None)
    proto = get_protocol("default")
    tc = config_for(proto, hidden=cfg.hidden, embed_dim=embed_dim_for(proto, series.name),
                    epochs=cfg.epochs, patience=cfg.patience, device="cpu", progress=False,
                    metric="all")
    if cfg.quick:
        tc = replace(tc, embed_dim=3, max_batches=5)
    with one_thread():
        compare(series, folder, fractions=(cfg.prunegcrn_fraction,), seeds=(seed,),
                methods=("prunegcrn",), cfg=tc, protocol="default", jobs=1)
    return str(folder)


def run_planted_study(cfg: PlantedStudyConfig, out: str | os.PathLike[str], *, jobs: int = 1,
                      progress: bool = False) -> dict[int, list[dict[str, Any]]]:
    """Run (or resume) the study into ``out``; return the pooled rows per horizon."""
    from argnn_sim.executors import check_jobs, make_executor
    from argnn_sim.planted import planted_series
    from argnn_sim.store import Store

    from .run import run_road_compare

    check_jobs(jobs)
    # every series is made (and so checked) before anything is written
    truths = {p: planted_series(cfg.spec(p), data_root=cfg.data_root or None).truth()
              for p in range(cfg.seeds)}
    store = Store(out, "planted-study", settings=_settings(cfg), settings_file="study.json",
                  units="truth", holds="a planted-driver study", error=BridgeConfigError)
    folder = store.folder
    with store:
        for p, t in truths.items():
            if store.get(f"p{p}") is None:
                store.put(f"p{p}", t)
        sel: dict[int, list[str]] = {p: [] for p in range(cfg.seeds)}
        if cfg.prunegcrn_fraction > 0:
            todo = list(range(cfg.seeds))
            if jobs > 1 and len(todo) > 1:
                with make_executor("processes", min(jobs, len(todo))) as ex:
                    futs = {p: ex.submit(_prunegcrn, cfg, p, folder / "prunegcrn" / f"p{p}")
                            for p in todo}
                    for p, fut in futs.items():
                        sel[p] = [fut.result()]
            else:
                for p in todo:
                    sel[p] = [_prunegcrn(cfg, p, folder / "prunegcrn" / f"p{p}")]
        pooled: dict[int, list[dict[str, Any]]] = {}
        for h in cfg.horizons:
            rows: list[dict[str, Any]] = []
            for p in range(cfg.seeds):
                rows += run_road_compare(cfg.road(p, h, sel[p]), folder / f"h{h}" / f"p{p}",
                                         jobs=jobs, progress=progress)
            pooled[h] = rows
            _write_horizon(rows, folder / f"h{h}", h)
        write_study(folder, cfg, pooled, truths)
    return pooled


# ----------------------------------------------------------------------------- tables
def paired_key(rows: Sequence[Mapping[str, Any]], key: str,
               pairs: Sequence[tuple[str, str, Any]]) -> list[dict[str, Any]]:
    """Paired differences of ``key`` by seed (method minus reference) with a normal 95 %
    interval, for each ``(method, reference, fraction)`` of ``pairs`` that has pairs."""
    from .report import normal_interval, paired_values

    return [{"quantity": key, "method": other, "reference": ref, "fraction": f,
             "pairs": int(a.size), **normal_interval(a)}
            for other, ref, f, a in paired_values(rows, key, pairs)]


def _recall_pairs(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, Any]]:
    pairs: list[tuple[str, str, Any]] = []
    for mode in ("D", "DW"):
        for other in ("random", "correlation", "magnitude-sensors"):
            pairs.append((f"spectral-{mode}", f"{other}@spectral-{mode}", None))
    fracs = sorted({r["fraction"] for r in rows if r["method"] == "random"
                    and r["fraction"] is not None}, reverse=True)
    for f in fracs:
        for m in ("prunegcrn", "correlation", "magnitude"):
            pairs.append((m, "random", f))
    return pairs


def _verdict_pairs() -> list[tuple[str, str, Any]]:
    """MAE: the spectral rule against the centralized selections at its own share, and
    against the full network and the planted drivers imposed."""
    out: list[tuple[str, str, Any]] = []
    for mode in ("D", "DW"):
        out.append((f"spectral-{mode}", "unpruned", None))
        out.append((f"spectral-{mode}", "drivers", None))
        for other in ("random", "correlation", "magnitude-sensors", "magnitude"):
            out.append((f"spectral-{mode}", f"{other}@spectral-{mode}", None))
    out.append(("drivers", "unpruned", None))
    return out


def _edge_pairs() -> list[tuple[str, str, Any]]:
    """Edge scores: the spectral rule against global magnitude pruning of as many edges."""
    return [(f"spectral-{mode}{ln}", f"magnitude@spectral-{mode}", None)
            for mode in ("D", "DW") for ln in ("", "-async")]


@functools.lru_cache(maxsize=64)
def chance_nonparent(cfg: PlantedStudyConfig, seed: int, horizon: int) -> float:
    """The share of the full network's edges that are no true parent edge of series
    ``seed``: what a cut made at random scores as ``removed_nonparent_share`` (remembered:
    the tables and the figure ask for it)."""
    from argnn_sim.planted import planted_series

    from .config import network_edges
    from .run import parent_edge_set

    labels, edges = network_edges(cfg.road(seed, horizon))
    truth = planted_series(cfg.spec(seed), data_root=cfg.data_root or None)
    return 1.0 - len(parent_edge_set(truth, labels) & edges) / len(edges)


def _write_csv(path: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    import io

    if not rows:
        return
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    write_atomic(path, buf.getvalue())


def _write_horizon(rows: Sequence[Mapping[str, Any]], folder: Path, horizon: int) -> None:
    from .report import road_markdown, summarize_road

    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / "summary.csv", summarize_road(rows))
    _write_csv(folder / "paired.csv", paired_key(rows, "mae", _verdict_pairs()))
    _write_csv(folder / "paired_recall.csv", paired_key(rows, "driver_recall",
                                                        _recall_pairs(rows)))
    _write_csv(folder / "paired_edges.csv",
               paired_key(rows, "removed_nonparent_share", _edge_pairs())
               + paired_key(rows, "parent_kept_share", _edge_pairs()))
    write_atomic(folder / "summary.md", road_markdown(rows, horizon) + "\n")


def _fmt(q: Mapping[str, Any], digits: int = 3) -> str:
    f = "its own" if q["fraction"] is None else f"{100 * q['fraction']:g} %"
    iv = "— (one pair)" if math.isnan(q["lo"]) else \
        f"[{q['lo']:+.{digits}f}, {q['hi']:+.{digits}f}]"
    return (f"| {q['method']} − {q['reference']} | {f} | {q['pairs']} | "
            f"{q['delta']:+.{digits}f} | {iv} |")


def study_markdown(pooled: Mapping[int, Sequence[Mapping[str, Any]]],
                   cfg: PlantedStudyConfig, truths: Mapping[int, Mapping[str, Any]]) -> str:
    """The study as markdown: the series, then per horizon the pooled table and the paired
    differences of MAE and of driver recall."""
    from .report import road_markdown

    seeds = sorted({int(r["seed"]) for rows in pooled.values() for r in rows
                    if r.get("sensors_kept") is not None})
    nd = [len(truths[p]["drivers"]) for p in seeds if p in truths] or [0]
    lines = [f"# Planted drivers on the {cfg.base} road graph", "",
             f"{len(seeds)} planted series (seeds {', '.join(map(str, seeds))}; run seed = "
             "series seed"
             + (f"; {cfg.seeds - len(seeds)} more to run" if len(seeds) < cfg.seeds else "")
             + "): "
             f"{min(nd)}-{max(nd)} drivers of {next(iter(truths.values()))['sensors']} sensors, "
             f"each follower a mixture of up to 3 drivers within {cfg.hops} road hops, lags "
             f"{cfg.lags[0]}-{cfg.lags[1]} steps, noise {cfg.noise:g}, missing share "
             f"{cfg.missing:g}, {cfg.steps} steps. The simulated network's predictors hear the "
             f"inputs within {cfg.hops if cfg.net_hops < 0 else cfg.net_hops} hops. "
             f"PruneGCRN: default protocol, hidden {cfg.hidden}, at most {cfg.epochs} epochs "
             f"(patience {cfg.patience}), "
             + (f"{100 * cfg.prunegcrn_fraction:g} % kept." if cfg.prunegcrn_fraction
                else "left out."), ""]
    for h, rows in pooled.items():
        lines += [f"## Horizon {h} ({15 * h} minutes)", "", road_markdown(rows, h), ""]
        mae = paired_key(rows, "mae", _verdict_pairs())
        if mae:
            lines += ["Paired differences of test MAE (km/h; negative: the method is better):",
                      "", "| method − reference | kept | pairs | mean Δ | 95 % interval |",
                      "|---|---|---|---|---|"] + [_fmt(q) for q in mae] + [""]
        chance = [chance_nonparent(cfg, p, h)
                  for p in sorted({int(r["seed"]) for r in rows
                                   if r.get("sensors_kept") is not None})]
        lines += [f"Of the full network's edges, {100 * min(chance):.1f}-"
                  f"{100 * max(chance):.1f} % (by series) are no true parent edge (every "
                  "predictor-to-predictor edge and every input edge from a sensor that does "
                  "not drive that predictor's sensor): a cut made at random scores that as "
                  "'removed edges not parent'.", ""]
        edge = [q for key in ("removed_nonparent_share", "parent_kept_share")
                for q in paired_key(rows, key, _edge_pairs())]
        if edge:
            lines += ["Paired differences of the edge scores (share points; spectral rule − "
                      "global magnitude pruning of as many edges of the trained network):", "",
                      "| score | method − reference | pairs | mean Δ (points) | 95 % interval |",
                      "|---|---|---|---|---|"]
            for q in edge:
                iv = "— (one pair)" if math.isnan(q["lo"]) else \
                    f"[{100 * q['lo']:+.1f}, {100 * q['hi']:+.1f}]"
                what = ("removed edges not parent" if q["quantity"].startswith("removed")
                        else "parent edges kept")
                lines.append(f"| {what} | {q['method']} − {q['reference']} | {q['pairs']} | "
                             f"{100 * q['delta']:+.1f} | {iv} |")
            lines.append("")
        rec = paired_key(rows, "driver_recall", _recall_pairs(rows))
        if rec:
            lines += ["Paired differences of driver recall (positive: the method keeps more "
                      "true drivers):", "", "| method − reference | kept | pairs | mean Δ | "
                      "95 % interval |", "|---|---|---|---|---|"] + [_fmt(q) for q in rec] + [""]
    return "\n".join(lines)


def write_study(folder: Path, cfg: PlantedStudyConfig,
                pooled: Mapping[int, Sequence[Mapping[str, Any]]],
                truths: Mapping[int, Mapping[str, Any]]) -> list[Path]:
    """``study.md`` and the figures."""
    write_atomic(folder / "study.md", study_markdown(pooled, cfg, truths) + "\n")
    return [folder / "study.md", plot_recall(pooled, folder, cfg),
            plot_map(pooled, folder, cfg, truths)]


# ----------------------------------------------------------------------------- figures
_STYLE = {"random": ("#7f7f7f", "s--"), "correlation": ("#bcbd22", "v-"),
          "magnitude": ("#1f77b4", "^-"), "prunegcrn": ("#d62728", "o"),
          "drivers": ("black", "X")}


def plot_recall(pooled: Mapping[int, Sequence[Mapping[str, Any]]], folder: Path,
                cfg: PlantedStudyConfig) -> Path:
    """``recall_vs_kept.png``: driver recall against sensors kept, a line per method, a
    panel per horizon (mean ± sd over the seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .report import summarize_road

    hs = list(pooled)
    fig, axes = plt.subplots(2, len(hs), figsize=(6.2 * len(hs) + 3.9, 9.4), squeeze=False)
    for ax, h in zip(axes[1], hs):
        _edge_panel(ax, pooled[h], cfg, h)
    for ax, h in zip(axes[0], hs):
        summ = summarize_road(pooled[h])
        full = [r for r in summ if r["method"] == "unpruned"]
        for m, (c, ls) in _STYLE.items():
            pts = [(r["sensors_kept"], r["driver_recall"], r["sensors_kept_sd"],
                    r["driver_recall_sd"]) for r in summ
                   if r["method"] == m and not math.isnan(r["driver_recall"])]
            if m in ("random", "correlation", "magnitude") and pts:
                pts += [(r["sensors_kept"], r["driver_recall"], 0.0, 0.0) for r in full]
            if not pts:
                continue
            pts.sort()
            x, y, xe, ye = (np.array(v) for v in zip(*pts))
            label = {"drivers": "the planted drivers, imposed",
                     "prunegcrn": "PruneGCRN's selection"}.get(m, f"{m} selection")
            ax.errorbar(x, y, xerr=xe, yerr=ye, fmt=ls, color=c, label=label, capsize=3,
                        ms=6 if m != "drivers" else 9, lw=1.2)
        for mode, c in (("D", "#2ca02c"), ("DW", "#ff7f0e")):
            path = sorted((r["sensors_kept"], r["driver_recall"]) for r in summ
                          if r["method"].startswith(f"spectral-{mode}-b")
                          and not math.isnan(r["driver_recall"]))
            own = [r for r in summ if r["method"] == f"spectral-{mode}"]
            if path and own:
                path += [(own[0]["sensors_kept"], own[0]["driver_recall"])]
                path += [(r["sensors_kept"], r["driver_recall"]) for r in full]
                path.sort()
                x, y = (np.array(v) for v in zip(*path))
                ax.plot(x, y, "-", color=c, lw=0.9, marker=".", ms=6,
                        label=f"spectral-{mode} budget path")
            for r in summ:
                if r["method"] in (f"spectral-{mode}", f"spectral-{mode}-async"):
                    asy = r["method"].endswith("async")
                    ax.errorbar(r["sensors_kept"], r["driver_recall"],
                                xerr=r["sensors_kept_sd"], yerr=r["driver_recall_sd"],
                                fmt="P" if asy else "*", color=c, ms=9 if asy else 13,
                                capsize=3, label=f"{r['method']} (decentralized, its own "
                                                 "share)")
        if full:
            n = round(full[0]["sensors_kept"])
            ax.plot([0, n], [0, 1], ":", color="#999999", lw=1,
                    label=f"chance (k sensors at random: k / {n})")
            ax.set_xlabel(f"sensors kept (of {n})")
        ax.set_ylabel("driver recall (true drivers kept / all drivers)")
        ax.set_ylim(0, 1.05)
        ax.set_xlim(0, None)
        ax.grid(alpha=0.3)
        ax.set_title(f"horizon {h} ({15 * h} min)", fontsize=10)
    axes[0][-1].legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                       frameon=False)
    axes[1][-1].legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                       frameon=False)
    n_seeds = len({int(r["seed"]) for r in pooled[hs[0]] if r.get("sensors_kept") is not None})
    fig.suptitle(f"Planted drivers on the {cfg.base} road graph (mean ± sd over {n_seeds} "
                 "seeds)\ntop: driver recall against sensors kept; bottom: which edges the "
                 "edge-pruning methods remove", fontsize=11)
    fig.tight_layout()
    p = folder / "recall_vs_kept.png"
    fig.savefig(p, dpi=120)
    plt.close(fig)
    return p


def _edge_panel(ax: Any, rows: Sequence[Mapping[str, Any]], cfg: PlantedStudyConfig,
                h: int) -> None:
    """Removed edges that are no parent edge (%) against edges removed (%): the spectral
    rule (and its budget path) beside global magnitude pruning, with the level of a random
    cut."""
    from .report import summarize_road

    summ = summarize_road(rows)
    full = next((r["edges"] for r in summ if r["method"] == "unpruned"), math.nan)
    seeds = sorted({int(r["seed"]) for r in rows if r.get("sensors_kept") is not None})
    chance = [100 * chance_nonparent(cfg, p, h) for p in seeds]
    if chance:
        ax.axhspan(min(chance), max(chance), color="#bbbbbb", alpha=0.5,
                   label="a random cut (range over series)")
    style = {"spectral-DW": ("#ff7f0e", "*", 13), "spectral-DW-async": ("#ff7f0e", "P", 9),
             "spectral-D": ("#2ca02c", "*", 13), "spectral-D-async": ("#2ca02c", "P", 9),
             "magnitude@spectral-DW": ("#1f77b4", "D", 7),
             "magnitude@spectral-D": ("#1f77b4", "d", 7)}
    for r in summ:
        m = r["method"]
        if math.isnan(r["removed_nonparent_share"]) or not full:
            continue
        x = 100 * (1 - r["edges"] / full)
        xe = 100 * r["edges_sd"] / full
        if m in style:
            c, mk, ms = style[m]
            ax.errorbar(x, 100 * r["removed_nonparent_share"], xerr=xe,
                        yerr=100 * r["removed_nonparent_share_sd"], fmt=mk, color=c, ms=ms,
                        capsize=3, label=m + (" (equal edges)"
                                              if m.startswith("magnitude") else ""))
    for mode, c in (("DW", "#ff7f0e"), ("D", "#2ca02c")):
        path = sorted((100 * (1 - r["edges"] / full), 100 * r["removed_nonparent_share"])
                      for r in summ if r["method"].startswith(f"spectral-{mode}-b")
                      and not math.isnan(r["removed_nonparent_share"]))
        if path:
            x, y = (np.array(v) for v in zip(*path))
            ax.plot(x, y, "-", color=c, lw=0.9, marker=".", ms=6,
                    label=f"spectral-{mode} budget path")
    mag = sorted((100 * (1 - r["edges"] / full), 100 * r["removed_nonparent_share"])
                 for r in summ if r["method"] == "magnitude" and full
                 and not math.isnan(r["removed_nonparent_share"]))
    if mag:
        x, y = (np.array(v) for v in zip(*mag))
        ax.plot(x, y, "^-", color="#1f77b4", lw=1, ms=5, alpha=0.6,
                label="magnitude sensors (their input edges cut)")
    ax.set_xlabel("edges removed (% of the full network's)")
    ax.set_ylabel("removed edges that are no true parent edge (%)")
    ax.set_xlim(0, None)
    ax.grid(alpha=0.3)
    ax.set_title(f"horizon {h}: is what the rule removes redundant?", fontsize=10)


def plot_map(pooled: Mapping[int, Sequence[Mapping[str, Any]]], folder: Path,
             cfg: PlantedStudyConfig, truths: Mapping[int, Mapping[str, Any]]) -> Path:
    """``road_map.png``: series 0's road graph, its true drivers (ringed) and the sensors each
    method keeps (filled), at the first horizon."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    from argnn_sim.planted import base_adjacency
    from argnn_sim.series import road_layout

    h = next(iter(pooled))
    rows = [r for r in pooled[h] if r.get("seed") == 0 and r.get("sensors_used") is not None]
    a = base_adjacency(cfg.spec(0), cfg.data_root or None)
    n = a.shape[0]
    drivers = set(truths[0]["drivers"])
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(*np.nonzero(np.triu(a))))
    pos = road_layout(a)
    by = {(r["method"], r["fraction"]): r for r in rows}
    f = cfg.prunegcrn_fraction or min(x for x in cfg.fractions)
    want: list[tuple[str, Any]] = [("drivers", None), ("spectral-D", None),
                                   ("spectral-DW", None), ("prunegcrn", f), ("correlation", f),
                                   ("magnitude", f), ("random", f),
                                   ("correlation@spectral-DW", None)]
    panels = [(m, fr) for m, fr in want if (m, fr) in by]
    cols = 4
    nrow = max(1, math.ceil(len(panels) / cols))
    fig, axes = plt.subplots(nrow, cols, figsize=(4.6 * cols, 4.4 * nrow), squeeze=False)
    for ax, (m, fr) in zip(axes.flat, panels):
        r = by[(m, fr)]
        used = set(int(x) for x in r["sensors_used"])
        nx.draw_networkx_edges(g, pos, ax=ax, edge_color="#cccccc", width=0.7)
        colour = ["#2ca02c" if i in used and i in drivers else
                  "#ff7f0e" if i in used else "white" for i in range(n)]
        ax.scatter([pos[i][0] for i in range(n)], [pos[i][1] for i in range(n)], s=26,
                   c=colour, edgecolors=["black" if i in drivers else "#aaaaaa"
                                         for i in range(n)],
                   linewidths=[1.3 if i in drivers else 0.5 for i in range(n)], zorder=3)
        hit = len(used & drivers)
        what = ("the truth" if m == "drivers" else "its own share" if fr is None
                else f"{100 * fr:g} %")
        cut = ""
        share = r.get("removed_nonparent_share")
        if share is not None and not math.isnan(share) and r.get("edges_removed"):
            cut = (f"\n{r['edges_removed']} edges cut, {100 * share:.0f} % of them no parent "
                   "edge")
        ax.set_title(f"{m} ({what}): {len(used)} kept\n{hit} of {len(drivers)} drivers, "
                     f"MAE {r['mae']:.2f}{cut}", fontsize=9)
        ax.set_axis_off()
    for ax in list(axes.flat)[len(panels):]:
        ax.set_axis_off()
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="", mfc="#2ca02c", mec="black", mew=1.3,
                      label="true driver, kept"),
               Line2D([], [], marker="o", ls="", mfc="white", mec="black", mew=1.3,
                      label="true driver, dropped"),
               Line2D([], [], marker="o", ls="", mfc="#ff7f0e", mec="#aaaaaa",
                      label="follower, kept"),
               Line2D([], [], marker="o", ls="", mfc="white", mec="#aaaaaa",
                      label="follower, dropped")]
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=9)
    fig.suptitle(f"Planted series 0 on the {cfg.base} road graph ({len(drivers)} drivers): "
                 f"the sensors each method keeps, horizon {h}", fontsize=11)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    p = folder / "road_map.png"
    fig.savefig(p, dpi=110)
    plt.close(fig)
    return p


def _draw(f: Path) -> list[Path]:
    """Rewrite a study folder's pooled tables, ``study.md`` and figures from what is on disk
    (``argnn plot``); a study still running or stopped shows its finished series."""
    from argnn_sim.outputs import load_json
    from argnn_sim.store import unit_value

    d = load_json(f / "study.json", "planted study settings")
    horizons = tuple(int(h) for h in d["horizons"])
    roots = [load_json(c, "road comparison settings").get("data_root", "")
             for c in sorted(f.glob("h*/p*/config.json"))]
    cfg = PlantedStudyConfig(**{**d, "lags": tuple(d["lags"]), "horizons": horizons,
                                "fractions": tuple(d["fractions"]),
                                "budgets": tuple(d["budgets"]),
                                "data_root": roots[0] if roots else ""})
    truths = {p: unit_value(load_json(f / "truth" / f"p{p}.json", "planted truth"))
              for p in range(cfg.seeds) if (f / "truth" / f"p{p}.json").is_file()}
    pooled: dict[int, list[dict[str, Any]]] = {}
    for h in horizons:
        rows: list[dict[str, Any]] = []
        for p in range(cfg.seeds):
            rj = f / f"h{h}" / f"p{p}" / "rows.json"
            if rj.is_file():
                rows += load_json(rj, "road comparison rows")
        if rows:
            pooled[h] = rows
            _write_horizon(rows, f / f"h{h}", h)
    if not pooled or 0 not in truths:
        raise BridgeConfigError(f"{str(f)!r}: no series of the study has finished yet; run "
                                "it (again) to finish one")
    return [p for p in write_study(f, cfg, pooled, truths) if p.suffix == ".png"]


redraw = FolderFigures(_draw, ("study.json",), "planted-driver study",
                       "run scenarios/planted_road_study.py --out there first",
                       BridgeConfigError)
