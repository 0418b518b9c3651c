"""The runs of the road comparison: the baselines, the centralized selections and
prunings imposed on the simulated network, the truth scores of a planted series, and the
whole comparison in its resumable store."""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from argnn_sim.engines import simulate
from argnn_sim.executors import check_jobs
from argnn_sim.outputs import check_output
from argnn_sim.series import SeriesTask, load_road_series, split_lengths
from argnn_sim.store import Store

from ..errors import BridgeConfigError
from ..traffic.selection import correlation_nodes
from .config import STEPS_PER_DAY, RoadConfig, config_from, network_edges, run_key, upgrade_record
from .report import write_road_outputs
from .selections import agcrn_refs, check_protocol, kept_sensors, selection_runs


# ----------------------------------------------------------------------------- baselines
def baselines(task: SeriesTask, steps_per_day: int = 96, *, definition: str = "all"
              ) -> list[dict[str, Any]]:
    """The forecasts that need no training, on the comparison's scored test targets, original
    scale: ``last-value``, ``input-window-mean`` (the mean of the last four readings: T-GCN's
    HA with its 4-step window) and ``daily-slot-mean`` (per sensor and time of day, the
    training split's mean)."""
    from argnn_sim.metrics import forecast_metrics

    s = task.series.values
    n_tr = task.train.shape[0]
    tr, va, _ = split_lengths(s.shape[0])
    steps = [t for t in task.test_steps() if task.scored(t)]
    idx = np.asarray(steps) + task.horizon
    y = task.raw_test[idx]
    last = task.raw_test[np.asarray(steps)]
    train = s[:n_tr]
    slot = np.arange(n_tr) % steps_per_day
    prof = np.stack([train[slot == q].mean(0) if (slot == q).any() else train.mean(0)
                     for q in range(steps_per_day)])
    daily = prof[(tr + va + idx) % steps_per_day]
    window = np.mean([task.raw_test[np.maximum(np.asarray(steps) - j, 0)] for j in range(4)],
                     axis=0)
    rows = []
    for name, pred in (("last-value", last), ("input-window-mean", window),
                       ("daily-slot-mean", daily)):
        m = forecast_metrics(pred, y, definition=definition,
                             mape_threshold=task.series.mape_threshold)
        rows.append({"method": name, "fraction": 1.0, "seed": 0, "definition": definition,
                     **{k: m[k] for k in ("mae", "rmse", "mape", "accuracy", "r2", "var")},
                     "sensors_kept": None, "edges": None})
    return rows


def series_facts(task: SeriesTask) -> dict[str, float]:
    """What the scored test targets are like: the share of zero readings, the training and
    test means, and the MAE (every entry) of an oracle that predicts each sensor's test
    mean."""
    steps = np.asarray([t for t in task.test_steps() if task.scored(t)]) + task.horizon
    y = task.raw_test[steps]
    train = task.to_original(task.train)
    return {"zero_share": float(np.mean(y == 0)), "train_mean": float(train.mean()),
            "test_mean": float(task.raw_test.mean()),
            "oracle_sensor_mean_mae": float(np.abs(y - y.mean(axis=0)).mean())}


# ----------------------------------------------------------------------------- pruning
def random_sensors(n: int, k: int, seed: int) -> list[int]:
    """``k`` of ``n`` sensors drawn uniformly, from a generator seeded by (seed, k), ascending."""
    g = np.random.default_rng([seed, k])
    return sorted(g.choice(n, size=k, replace=False).tolist())


def magnitude_sensors(labels: Sequence[Any], edges: Sequence[tuple[int, int, float]], k: int
                      ) -> list[int]:
    """The ``k`` sensors whose input edges weigh most (sum of ``|w|``; ties: lower number
    first), ascending. ``edges``: ``(from, to, weight)``."""
    lab = [str(v) for v in labels]
    score: dict[int, float] = {}
    for a, _b, w in edges:
        if lab[a].startswith("x"):
            s = int(lab[a][1:])
            score[s] = score.get(s, 0.0) + abs(w)
    order = sorted(score, key=lambda s: (-score[s], s))
    return sorted(order[:k])


def magnitude_edges(edges: Sequence[tuple[int, int, float]], remove: int
                    ) -> list[tuple[int, int]]:
    """Global magnitude pruning: the ``remove`` edges of smallest ``|w|`` (ties: in the
    order given). ``edges``: ``(from, to, weight)``."""
    order = sorted(range(len(edges)), key=lambda i: abs(edges[i][2]))
    return [(edges[i][0], edges[i][1]) for i in order[:remove]]


def _edges_of(net: Any) -> list[tuple[int, int, float]]:
    return [(s, nd.id, w) for nd in net.nodes for s, w in zip(nd.in_src, nd.in_w)]


def _prune_trained(kind: str, amount: int) -> Any:
    """The centralized intervention at the end of training: ``sensors`` keeps the
    ``amount`` heaviest sensors (removes the others' input edges); ``edges`` removes the
    ``amount`` lightest edges globally."""
    def hook(net: Any) -> None:
        labels = net.topo.labels
        edges = _edges_of(net)
        if kind == "sensors":
            keep = {f"x{s}" for s in magnitude_sensors(labels, edges, amount)}
            lab = [str(v) for v in labels]
            net.remove_edges([(a, b) for a, b, _w in edges
                              if lab[a].startswith("x") and lab[a] not in keep])
        else:
            net.remove_edges(magnitude_edges(edges, amount))
    return hook


# ----------------------------------------------------------------------------- runs
def _record(method: str, seed: int, fraction: float | None, r: Any, t0: float
            ) -> dict[str, Any]:
    m = r.metrics
    return {"method": method, "seed": seed, "fraction": fraction,
            "definition": m["definition"], "mae": m["mae"], "rmse": m["rmse"],
            "mape": m["mape"], "accuracy": m["accuracy"], "r2": m["r2"], "var": m["var"],
            "sensors_given": m["sensors_given"],
            "sensors_kept": m["sensors_kept"], "sensors_used": m["sensors_used"],
            "sensors": m["sensors"], "edges_before": r.edges_before, "edges": m["edges"],
            "edges_removed": r.edges_before - m["edges"], "input_edges": m["input_edges"],
            "engine": r.engine, "seconds": time.perf_counter() - t0,
            "activations": r.counters.get("activations", 0), "removed": _removed(r)}


def _run(cfg_d: dict[str, Any], method: str, seed: int, fraction: float | None,
         sensors: Sequence[int] = (), prune: tuple[str, int] | None = None,
         budget: int = 0) -> dict[str, Any]:
    """One run: trained from scratch with the ``sensors`` given (all when empty); with
    ``prune = (kind, amount)`` the trained network is pruned centrally before evaluation
    (:func:`_prune_trained`); ``budget``: the spectral rule's ``pruning.budget``."""
    cfg = config_from(cfg_d)
    t0 = time.perf_counter()
    sc = cfg.scenario_for(method.split("-b")[0] if budget else method, seed, sensors=sensors,
                          budget=budget)
    hook = None
    if prune is not None:
        hook = _prune_trained(prune[0], prune[1])
    r = simulate(sc, seed, after_training=hook)
    rec = _record(method, seed, fraction, r, t0)
    rec["sensors_list"] = [int(x) for x in sensors]
    rec["horizon"] = cfg.horizon
    return rec


def _removed(r: Any) -> list[list[int]]:
    before = set(zip(r.initial_edges["src"].tolist(), r.initial_edges["dst"].tolist()))
    after = set(zip(r.final_edges["src"].tolist(), r.final_edges["dst"].tolist()))
    return sorted([a, b] for a, b in before - after)


def run_road_compare(cfg: RoadConfig, out: str | os.PathLike[str], *, jobs: int = 1,
                     progress: bool = False) -> list[dict[str, Any]]:
    """Run (or resume) the comparison into ``out``; write tables and figures; return rows."""
    check_jobs(jobs)
    folder = check_output(out, "road-compare", existing="resume", what="--out")
    series = load_road_series(cfg.data, data_root=cfg.data_root or None,
                              adjacency=cfg.adjacency or None)
    n = series.num_sensors
    task = SeriesTask.from_series(series, horizon=cfg.horizon, hops=cfg.hops, hidden=cfg.hidden,
                                  train_steps=cfg.train_steps, test_steps=cfg.test_steps)
    sel_runs = selection_runs(cfg.selections, n, series.name)
    check_protocol(cfg.selections, cfg.protocol)
    selections = kept_sensors(sel_runs, cfg.fractions, cfg.seed_list)
    settings = {k: v for k, v in asdict(cfg).items() if k != "selections"}

    def same(old: Any, new: Any) -> bool:
        if isinstance(old, dict):  # keys added since: a folder written before has defaults
            old = dict(old)
            for key, default in (("protocol", "default"), ("horizon", 1), ("seed", 0)):
                if key not in old and new.get(key) == default:
                    old[key] = default
        return bool(old == new)

    store = Store(folder, "road-compare", settings=settings, settings_file="config.json",
                  units="runs", holds="a comparison", error=BridgeConfigError, same=same)
    with store:
        return _run_compare(cfg, store, series, task, sel_runs, selections, jobs, progress)


def _run_compare(cfg: RoadConfig, store: Store, series: Any, task: SeriesTask,
                 sel_runs: Mapping[str, Path], selections: Mapping[tuple[float, int], list[int]],
                 jobs: int, progress: bool) -> list[dict[str, Any]]:
    folder = store.folder
    n = series.num_sensors
    cfg_d = json.loads(json.dumps(asdict(cfg)))
    seeds = cfg.seed_list
    fracs = [f for f in cfg.fractions if f < 1]
    ks = {f: max(1, round(f * n)) for f in fracs}

    def random_set(seed: int, k: int) -> list[int]:
        return random_sensors(n, k, seed)

    def corr_set(k: int) -> list[int]:
        return correlation_nodes(task.to_original(task.train), k)

    truth = planted_truth(cfg)

    # phase 1: runs that train from scratch; magnitude prunes the trained unpruned network
    # (the same training, seed for seed) at the end of training
    phase1: list[tuple[str, tuple[Any, ...]]] = []
    links = [""] + (["-async"] if cfg.asynchronous else [])
    for s in seeds:
        for ln in links:
            phase1.append((run_key("unpruned" + ln, s, None), ("unpruned" + ln, s, None)))
            for mode in cfg.modes:
                meth = f"spectral-{mode}{ln}"
                phase1.append((run_key(meth, s, None), (meth, s, None)))
        if truth is not None:  # the planted drivers imposed: what a perfect selection keeps
            phase1.append((run_key("drivers", s, None),
                           ("drivers", s, None, truth.drivers.tolist())))
        for f in fracs:
            phase1.append((run_key("random", s, f), ("random", s, f, random_set(s, ks[f]))))
            phase1.append((run_key("correlation", s, f), ("correlation", s, f, corr_set(ks[f]))))
            if (f, s) in selections:
                phase1.append((run_key("prunegcrn", s, f),
                               ("prunegcrn", s, f, selections[(f, s)])))
            phase1.append((run_key("magnitude", s, f),
                           ("magnitude", s, f, (), ("sensors", ks[f]))))
    recs = _run_all(cfg_d, phase1, store, jobs, progress, "runs")
    # phase 2: at each spectral run's own point (its sensors kept, its edges removed)
    phase2: list[tuple[str, tuple[Any, ...]]] = []
    for s in seeds:
        for mode in cfg.modes:
            sp = recs[run_key(f"spectral-{mode}", s, None)]
            phase2.append((run_key(f"magnitude@spectral-{mode}", s, None),
                           (f"magnitude@spectral-{mode}", s, None, (),
                            ("edges", sp["edges_removed"]))))
            k = max(1, sp["sensors_kept"])
            phase2.append((run_key(f"random@spectral-{mode}", s, None),
                           (f"random@spectral-{mode}", s, None, random_set(s, k))))
            phase2.append((run_key(f"correlation@spectral-{mode}", s, None),
                           (f"correlation@spectral-{mode}", s, None, corr_set(k))))
            phase2.append((run_key(f"magnitude-sensors@spectral-{mode}", s, None),
                           (f"magnitude-sensors@spectral-{mode}", s, None, (),
                            ("sensors", k))))
            for b in cfg.budgets:
                cap = round(b * sp["edges_removed"])
                if cap >= 1:
                    meth = f"spectral-{mode}-b{b:g}"
                    phase2.append((run_key(meth, s, None), (meth, s, None, (), None, cap)))
    recs.update(_run_all(cfg_d, phase2, store, jobs, progress, "runs at the spectral points"))
    rows = [upgrade_record(r) for r in recs.values()]
    if truth is not None:
        labels, edges = network_edges(cfg)
        rows = [{**r, **truth_scores(r, truth, labels, edges)} for r in rows]
    per_day = STEPS_PER_DAY.get(series.name, 96)
    refs, note = agcrn_refs(sel_runs, cfg.fractions, cfg.seed_list, task, per_day, "all")
    rows += refs
    rows += baselines(task, per_day)
    store.write("rows.json", json.dumps(rows))
    store.write("notes.json", json.dumps({"left_out": note}))
    store.write("data_facts.json", json.dumps(series_facts(task), indent=1))
    write_road_outputs(rows, folder, cfg, series)
    return rows


def planted_truth(cfg: RoadConfig) -> Any:
    """The planted series' truth (:class:`argnn_sim.planted.Planted`) when ``cfg.data`` is a
    planted spec, else None; the same series the runs read (one spec, one series)."""
    from argnn_sim.planted import is_planted, parse_planted, planted_series

    if not is_planted(cfg.data):
        return None
    return planted_series(parse_planted(cfg.data), data_root=cfg.data_root or None)


def truth_scores(rec: Mapping[str, Any], truth: Any, labels: Sequence[str],
                 edges: set[tuple[int, int]]) -> dict[str, float]:
    """What a run kept, scored against the planted truth: ``driver_recall`` and
    ``driver_precision`` of the sensors it still uses; for a run that removed edges of the
    full network, ``removed_nonparent_share`` (removed edges that were no true parent edge)
    and ``parent_kept_share`` (true parent edges still there). A true parent edge runs from
    a driver's input node to a follower's predictor that the driver feeds, or from a
    driver's input node to its own predictor; only those the full network (``labels``,
    ``edges``: its node labels and (source, destination) edges) has count."""
    used = set(int(x) for x in rec.get("sensors_used") or [])
    drivers = set(truth.drivers.tolist())
    out: dict[str, float] = {}
    if rec.get("sensors_used") is not None:
        hit = len(used & drivers)
        out["driver_recall"] = hit / len(drivers)
        out["driver_precision"] = hit / len(used) if used else math.nan
    removed = rec.get("removed") or []
    if removed and not rec.get("sensors_list"):  # edge pruning on the full network
        parent = parent_edge_set(truth, labels) & edges
        cut = {(int(a), int(b)) for a, b in removed}
        out["removed_nonparent_share"] = 1 - len(cut & parent) / len(cut)
        out["parent_kept_share"] = 1 - len(cut & parent) / len(parent) if parent else math.nan
    return out


def parent_edge_set(truth: Any, labels: Sequence[str]) -> set[tuple[int, int]]:
    """The true parent edges as (source, destination) node numbers of a network with node
    ``labels``: a driver's input node to the predictor of each sensor it drives, and to its
    own predictor (sensors without an input node in the network are left out)."""
    index = {lab: i for i, lab in enumerate(labels)}
    pairs = set(truth.parent_edges()) | {(d, d) for d in truth.drivers.tolist()}
    return {(index[f"x{d}"], index[f"y{i}"]) for d, i in pairs if f"x{d}" in index}


def _run_all(cfg_d: dict[str, Any], jobs_list: Sequence[tuple[str, tuple[Any, ...]]],
             store: Store, jobs: int, progress: bool, what: str) -> dict[str, dict[str, Any]]:
    """Run what the store does not hold yet (each :func:`_run` with the job's arguments),
    writing each record as it finishes; return every job's record. A finished run imposed
    other sensors than the selection given now is refused (other --selections)."""
    for key, args in jobs_list:
        rec = store.get(key)
        given = list(args[3]) if len(args) > 3 and args[3] else None
        if rec is not None and given is not None and rec.get("sensors_list") is not None \
                and sorted(rec["sensors_list"]) != sorted(given):
            raise BridgeConfigError(f"{store.path(key)} was run with other sensors than the "
                                    "selection given now (other --selections?); choose "
                                    "another --out")
    return store.run([(key, _run, (cfg_d, *args)) for key, args in jobs_list],
                     workers=jobs, progress=progress, desc=what)
