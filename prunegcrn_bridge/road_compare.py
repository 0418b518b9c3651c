"""Decentralized against centralized pruning on a real road-sensor network.

The same network and task for every method: the series task of :mod:`argnn_sim.series`
(every sensor has an input node clamped to its reading and a predictor that forecasts the
reading one step ahead; predictors hear their own sensor's input, ``hops`` = 0 by default,
and their road neighbours' predictors), trained and scored in the simulator on the same
split PruneGCRN's ``default`` protocol uses (6:2:2; test MAE, RMSE and MAPE on the original
scale at horizon 1, every entry scored: the ``all`` metric definition of
:mod:`argnn_sim.metrics`, for every row).

Methods (one row per run; ``seeds`` runs each):

``unpruned`` (``-async``)
    the network trained without pruning: instant links (sweep schedule), and links with
    exponential delays and loss (async schedule).
``spectral-D``, ``spectral-DW`` (``-async``)
    decentralized: each predictor prunes its own input edges from its local Laplacian's
    spectrum during training (:class:`argnn_sim.pruning.SpectralLocal` with
    ``eligible = "all"`` and ``outputs = true``; a sensor's edge lies on no cycle, so the
    default rule could never drop one). A sensor is dropped when its input node has no
    out-edge left. The rule decides how many: it has no target fraction.
``prunegcrn``, ``random``, ``correlation``, ``magnitude`` at each kept fraction below 1
    centralized, imposed on the same network: PruneGCRN's kept sensors (from its SZ-taxi
    runs, seed for seed), ``k`` random sensors and the ``k`` sensors chosen by correlation
    with the others on the training split, each trained from scratch with the other
    sensors' input nodes removed; ``magnitude`` keeps the ``k`` sensors whose input edges
    weigh most (``|w|``) in the trained unpruned network and removes the others' edges
    (evaluation only, no retraining).
``random@spectral-<mode>``, ``correlation@spectral-<mode>``, ``magnitude-sensors@spectral-<mode>``, ``magnitude@spectral-<mode>``
    at a spectral run's own point: as many random, correlation-chosen or magnitude-chosen
    sensors as it kept (equal sensors), and global magnitude pruning of the trained
    unpruned network removing as many edges as it removed (equal edges; smallest ``|w|``
    first; evaluation only).
references
    ``agcrn``: PruneGCRN/AGCRN's own forecast at each kept fraction, made by each selection
    run's checkpoint for exactly this comparison's scored targets (left out, with a note, when
    a folder keeps no checkpoints); ``last-value``; ``input-window-mean`` (the mean of the last
    four readings, T-GCN's HA); ``daily-slot-mean`` (per sensor and time of day, training
    split).

Every run is one JSON under ``out/runs/`` written atomically (a killed comparison resumes).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from argnn_sim.config import ConfigError, Scenario
from argnn_sim.engines import initial_network, simulate
from argnn_sim.executors import check_jobs
from argnn_sim.outputs import check_output, write_atomic
from argnn_sim.series import SeriesTask, load_road_series, road_layout, split_lengths
from argnn_sim.store import Store

from .errors import BridgeConfigError
from .traffic.selection import correlation_nodes

__all__ = ["RoadConfig", "quick_road_config", "random_sensors", "series_facts", "road_scenario",
           "run_road_compare", "summarize_road", "paired_road", "paired_values",
           "normal_interval", "parent_edge_set", "road_markdown", "plot_road", "baselines",
           "load_selections", "magnitude_sensors", "magnitude_edges"]

STEPS_PER_DAY = {"sz_taxi": 96}


@dataclass(frozen=True)
class RoadConfig:
    """What :func:`run_road_compare` runs.

    data, data_root, adjacency : the series (as ``[task]``'s keys). seeds : runs per method.
    seed : the first run seed (runs use ``seed`` .. ``seed + seeds - 1``; PruneGCRN's runs of
        the same seeds give the selections).
    fractions : kept shares of sensors for the centralized methods (1 is the unpruned net).
    hops, hidden, passes, sweeps : the network and its training (``[task]``/``[schedule]``).
    delay, loss, input_period, wake_rate : the async runs' links and clocks.
    selections : PruneGCRN comparison folders (``argnn traffic compare --out``) whose
    ``runs/prunegcrn-f<f>-s<seed>.json`` give the kept sensors; empty: no PruneGCRN rows.
    train_steps, test_steps : shorten the splits (0: whole; quick runs). modes : spectral modes.
    asynchronous : also run the async (delayed, lossy) variants.
    budgets : shares of the edges each spectral run removed on its own; for each, the same
        run again with ``pruning.budget`` at that many prunes (the rule's path from the full
        network to its own point).
    protocol : the protocol the ``selections`` folders were trained under (their
        ``compare.json`` must say so): ``default``, ``tgcn`` or ``agcrn``.
    horizon : forecast this many steps ahead (1: 15 minutes on SZ-taxi; 4: an hour).
    """

    data: str = "sz_taxi"
    data_root: str = ""
    adjacency: str = ""
    seeds: int = 3
    fractions: tuple[float, ...] = (1.0, 0.5, 0.25, 0.1)
    hops: int = 0
    hidden: int = 0
    passes: int = 1
    sweeps: int = 1
    delay: float = 0.1
    loss: float = 0.05
    input_period: float = 2.0
    wake_rate: float = 1.0
    selections: tuple[str, ...] = ()
    train_steps: int = 0
    test_steps: int = 0
    modes: tuple[str, ...] = ("D", "DW")
    asynchronous: bool = True
    budgets: tuple[float, ...] = (0.25, 0.5, 0.75)
    protocol: str = "default"
    horizon: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        from .traffic.protocol import get_protocol

        get_protocol(self.protocol)
        if not 1 <= self.seeds <= 100:
            raise BridgeConfigError(f"seeds = {self.seeds}: give from 1 to 100 (--seeds)")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or \
                not 0 <= self.seed < 2**31:
            raise BridgeConfigError(f"seed = {self.seed!r}: give a whole first seed >= 0 "
                                    "(--seed)")
        fr = self.fractions
        if not fr or len(set(fr)) != len(fr) or any(not 0 < f <= 1 or math.isnan(f) for f in fr):
            raise BridgeConfigError(f"fractions = {list(fr)}: give distinct kept shares in "
                                    "(0, 1], e.g. 1,0.5,0.25,0.1 (--fractions)")
        bad = [m for m in self.modes if m not in ("D", "DW")]
        if bad or not self.modes:
            raise BridgeConfigError(f"modes = {list(self.modes)}: choose D and/or DW")
        for name in ("delay", "input_period", "wake_rate"):
            v = getattr(self, name)
            if not (math.isfinite(v) and v > 0):
                raise BridgeConfigError(f"{name} = {v!r}: give a finite number > 0")
        if any(not 0 < b < 1 for b in self.budgets):
            raise BridgeConfigError(f"budgets = {list(self.budgets)}: give shares in (0, 1)")
        if not (0 <= self.loss < 1):
            raise BridgeConfigError(f"loss = {self.loss!r}: give a probability in [0, 1)")
        if isinstance(self.horizon, bool) or not isinstance(self.horizon, int) or \
                not 1 <= self.horizon <= 10_000:
            raise BridgeConfigError(f"horizon = {self.horizon!r}: give a whole number of steps "
                                    "from 1 to 10,000 (--horizon)")
        self.scenario_for("unpruned", 0)  # the simulator validates the rest

    @property
    def seed_list(self) -> range:
        """The run seeds: ``seed`` .. ``seed + seeds - 1``."""
        return range(self.seed, self.seed + self.seeds)

    def scenario_for(self, method: str, seed: int, *, sensors: Sequence[int] = (),
                     passes: int | None = None, budget: int = 0) -> Scenario:
        """The simulator scenario of one run: ``method`` names the pruning and the links."""
        return road_scenario(self, method, seed, sensors=sensors, passes=passes,
                             budget=budget)


def quick_road_config(**changes: Any) -> RoadConfig:
    """A small version for tests and ``--quick``: short splits, 2 seeds, 100 and 25 % kept."""
    base = RoadConfig(seeds=2, fractions=(1.0, 0.25), train_steps=300, test_steps=80,
                      input_period=1.0, budgets=(0.5,))
    return replace(base, **changes)


def road_scenario(cfg: RoadConfig, method: str, seed: int, *, sensors: Sequence[int] = (),
                  passes: int | None = None, budget: int = 0) -> Scenario:
    """The scenario of one run of the comparison (see the module docstring)."""
    delayed = method.endswith("-async")
    task: dict[str, Any] = {"kind": "series", "data": cfg.data, "hops": cfg.hops,
                            "hidden": cfg.hidden, "horizon": cfg.horizon,
                            "passes": cfg.passes if passes is None else passes,
                            "train_steps": cfg.train_steps, "test_steps": cfg.test_steps}
    for key in ("data_root", "adjacency"):
        if getattr(cfg, key):
            task[key] = getattr(cfg, key)
    if sensors:
        task["sensors"] = [int(s) for s in sensors]
    pruning: dict[str, Any] = {"policy": "none"}
    if method.startswith("spectral-"):
        mode = method.split("-")[1]
        pruning = {"policy": "spectral", "rule": "local", "mode": mode, "eligible": "all",
                   "outputs": True, "budget": budget}
    d: dict[str, Any] = {"name": "road-compare", "seed": seed, "task": task,
                         "node": {"bias": True}, "pruning": pruning,
                         "record": {"traces": "prunes"}}
    if delayed:
        d["schedule"] = {"kind": "async", "input_period": cfg.input_period,
                         "wake_rate": cfg.wake_rate}
        d["channel"] = {"model": "exponential", "delay": cfg.delay, "loss": cfg.loss}
    else:
        d["schedule"] = {"sweeps": cfg.sweeps, "eval_sweeps": cfg.sweeps}
    try:
        return Scenario.from_dict(d)
    except ConfigError as e:
        raise BridgeConfigError(f"the comparison's network settings are not allowed: {e}"
                                ) from None


# ----------------------------------------------------------------------------- selections
def _selection_runs(folders: Sequence[str], num_sensors: int, series: str
                    ) -> dict[str, Path]:
    """Every run file of the given ``traffic compare`` folders, by file name (a later
    folder's run of the same name wins; they are the same computation)."""
    runs: dict[str, Path] = {}
    for folder in folders:
        base = Path(folder)
        info = base / "compare.json"
        if not info.is_file():
            raise BridgeConfigError(f"--selections {str(base)!r} holds no compare.json; give "
                                    "the --out folder of `argnn traffic compare --data sz_taxi`")
        meta = json.loads(info.read_text(encoding="utf-8"))
        if meta.get("series") != series or meta.get("nodes") != num_sensors:
            raise BridgeConfigError(f"--selections {str(base)!r} holds PruneGCRN runs on "
                                    f"{meta.get('series')!r} ({meta.get('nodes')} nodes), not "
                                    f"{series!r} ({num_sensors} sensors)")
        for p in sorted((base / "runs").glob("*.json")):
            runs[p.name] = p
    return runs


def load_selections(folders: Sequence[str], fractions: Sequence[float],
                    seeds: int | Sequence[int], num_sensors: int, series: str
                    ) -> dict[tuple[float, int], list[int]]:
    """PruneGCRN's kept sensors per (fraction, seed) from ``traffic compare`` folders.

    A folder that is not one, or holds another series, is an error; a missing run is skipped
    (the table shows which exist). ``seeds``: a count (seeds 0 .. seeds - 1) or the seeds.
    """
    return _kept(_selection_runs(folders, num_sensors, series), fractions, seeds)


def _seeds(seeds: int | Sequence[int]) -> Sequence[int]:
    return range(seeds) if isinstance(seeds, int) else seeds


def _kept(runs: Mapping[str, Path], fractions: Sequence[float], seeds: int | Sequence[int]
          ) -> dict[tuple[float, int], list[int]]:
    out: dict[tuple[float, int], list[int]] = {}
    for f in fractions:
        for s in _seeds(seeds):
            p = runs.get(f"prunegcrn-f{f:g}-s{s}.json")
            if f < 1 and p is not None:
                rec = json.loads(p.read_text(encoding="utf-8"))
                out[(f, s)] = sorted(int(i) for i in rec["kept"])
    return out


def _check_protocol(folders: Sequence[str], protocol: str) -> None:
    """Every selections folder was trained under ``protocol`` (a folder written before
    protocols were recorded counts as ``default``)."""
    for folder in folders:
        meta = json.loads((Path(folder) / "compare.json").read_text(encoding="utf-8"))
        got = (meta.get("protocol") or {}).get("name", "default")
        if got != protocol:
            raise BridgeConfigError(f"--selections {folder!r} was trained under --protocol "
                                    f"{got}, not {protocol}; give --protocol {got} or "
                                    "selections of that protocol")


def _agcrn_refs(runs: Mapping[str, Path], fractions: Sequence[float],
                seeds: int | Sequence[int],
                task: SeriesTask, steps_per_day: int, definition: str
                ) -> tuple[list[dict[str, Any]], str]:
    """PruneGCRN/AGCRN's own forecasts at each fraction (all nodes at 1), made by each run's
    checkpoint for the comparison's own scored test targets and scored by the same metric
    function as every other row; returns the rows and a note on what was left out."""
    from argnn_sim.metrics import forecast_metrics

    from .traffic.data import Series
    from .traffic.forecast import forecast_at, has_model

    series = Series(task.series.name, np.asarray(task.series.values),
                    np.asarray(task.series.adjacency), steps_per_day,
                    mape_threshold=task.series.mape_threshold)
    steps = np.asarray([t for t in task.test_steps() if task.scored(t)], dtype=np.int64)
    n = task.series.values.shape[0]
    tr, va, _ = split_lengths(n)
    idx = tr + va + steps + task.horizon  # the scored targets' series indices
    y = task.raw_test[steps + task.horizon]
    rows, missing = [], []
    for f in fractions:
        for s in _seeds(seeds):
            name = f"all-f1-s{s}" if f == 1 else f"prunegcrn-f{f:g}-s{s}"
            p = runs.get(f"{name}.json")
            if p is None:
                continue
            folder = p.parent.parent
            if not has_model(folder, name):
                missing.append(name)
                continue
            meta = json.loads((folder / "compare.json").read_text(encoding="utf-8"))
            from .traffic.protocol import PROTOCOLS

            proto = meta.get("protocol") or PROTOCOLS["default"].settings()
            from .traffic.data import split_lengths as traffic_split

            _, _, te = traffic_split(n, proto.get("split", "6:2:2"), proto.get("val_share",
                                                                               0.125))
            if idx.min() < n - te:
                raise BridgeConfigError(f"{folder}: its models saw some of this comparison's "
                                        "test targets in training or validation")
            pred = forecast_at(folder, name, series, idx, step=task.horizon)
            m = forecast_metrics(pred, y, definition=definition,
                                 mape_threshold=task.series.mape_threshold)
            rows.append({"method": "agcrn", "fraction": f, "seed": s, "definition": definition,
                         "protocol": proto.get("name", "default"),
                         **{k: m[k] for k in ("mae", "rmse", "mape", "accuracy", "r2", "var")},
                         "sensors_kept": None, "edges": None})
    note = ""
    if missing:
        note = (f"PruneGCRN/AGCRN's own forecasts are left out for {len(missing)} run(s) "
                f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}): their "
                "folder keeps no checkpoint (models/<run>/best.pt), so they cannot be scored "
                "on these targets.")
    return rows, note


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
    cfg = _config_from(cfg_d)
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


def _upgrade(rec: dict[str, Any]) -> dict[str, Any]:
    """A run record as this version writes it: records written before metric definitions
    were recorded scored every entry (the simulator's series metrics always did) and kept
    MAPE in percent."""
    if "definition" in rec:
        return rec
    out = dict(rec)
    out["definition"] = "all"
    if out.get("mape") is not None:
        out["mape"] = out["mape"] / 100.0
    return out


def _config_from(d: Mapping[str, Any]) -> RoadConfig:
    d = dict(d)
    d["fractions"] = tuple(d["fractions"])
    d["modes"] = tuple(d["modes"])
    d["selections"] = tuple(d.get("selections") or ())
    d["budgets"] = tuple(d.get("budgets", ()))
    d.setdefault("protocol", "default")
    d.setdefault("horizon", 1)
    d.setdefault("seed", 0)
    return RoadConfig(**d)


def _key(method: str, seed: int, fraction: float | None) -> str:
    return f"{method}-s{seed}" + ("" if fraction is None else f"-f{fraction:g}")


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
    sel_runs = _selection_runs(cfg.selections, n, series.name)
    _check_protocol(cfg.selections, cfg.protocol)
    selections = _kept(sel_runs, cfg.fractions, cfg.seed_list)
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
            phase1.append((_key("unpruned" + ln, s, None), ("unpruned" + ln, s, None)))
            for mode in cfg.modes:
                meth = f"spectral-{mode}{ln}"
                phase1.append((_key(meth, s, None), (meth, s, None)))
        if truth is not None:  # the planted drivers imposed: what a perfect selection keeps
            phase1.append((_key("drivers", s, None),
                           ("drivers", s, None, truth.drivers.tolist())))
        for f in fracs:
            phase1.append((_key("random", s, f), ("random", s, f, random_set(s, ks[f]))))
            phase1.append((_key("correlation", s, f), ("correlation", s, f, corr_set(ks[f]))))
            if (f, s) in selections:
                phase1.append((_key("prunegcrn", s, f),
                               ("prunegcrn", s, f, selections[(f, s)])))
            phase1.append((_key("magnitude", s, f),
                           ("magnitude", s, f, (), ("sensors", ks[f]))))
    recs = _run_all(cfg_d, phase1, store, jobs, progress, "runs")
    # phase 2: at each spectral run's own point (its sensors kept, its edges removed)
    phase2: list[tuple[str, tuple[Any, ...]]] = []
    for s in seeds:
        for mode in cfg.modes:
            sp = recs[_key(f"spectral-{mode}", s, None)]
            phase2.append((_key(f"magnitude@spectral-{mode}", s, None),
                           (f"magnitude@spectral-{mode}", s, None, (),
                            ("edges", sp["edges_removed"]))))
            k = max(1, sp["sensors_kept"])
            phase2.append((_key(f"random@spectral-{mode}", s, None),
                           (f"random@spectral-{mode}", s, None, random_set(s, k))))
            phase2.append((_key(f"correlation@spectral-{mode}", s, None),
                           (f"correlation@spectral-{mode}", s, None, corr_set(k))))
            phase2.append((_key(f"magnitude-sensors@spectral-{mode}", s, None),
                           (f"magnitude-sensors@spectral-{mode}", s, None, (),
                            ("sensors", k))))
            for b in cfg.budgets:
                cap = round(b * sp["edges_removed"])
                if cap >= 1:
                    meth = f"spectral-{mode}-b{b:g}"
                    phase2.append((_key(meth, s, None), (meth, s, None, (), None, cap)))
    recs.update(_run_all(cfg_d, phase2, store, jobs, progress, "runs at the spectral points"))
    rows = [_upgrade(r) for r in recs.values()]
    if truth is not None:
        labels, edges = _network(cfg)
        rows = [{**r, **truth_scores(r, truth, labels, edges)} for r in rows]
    per_day = STEPS_PER_DAY.get(series.name, 96)
    refs, note = _agcrn_refs(sel_runs, cfg.fractions, cfg.seed_list, task, per_day, "all")
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


def _labels(cfg: RoadConfig) -> list[Any]:
    return _network(cfg)[0]


def _network(cfg: RoadConfig) -> tuple[list[str], set[tuple[int, int]]]:
    """The full network's node labels and its (source, destination) edges."""
    topo = initial_network(cfg.scenario_for("unpruned", 0, passes=0), 0)
    return ([str(v) for v in topo.labels],
            set(zip(np.asarray(topo.src).tolist(), np.asarray(topo.dst).tolist())))


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

    definition = one_definition([_upgrade(dict(r)) if r.get("sensors_kept") is not None
                                 else r for r in rows], column="road comparison rows",
                                legacy="masked")
    rows = [_upgrade(dict(r)) if r.get("sensors_kept") is not None else r for r in rows]
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


def plot_road(rows: Sequence[Mapping[str, Any]], folder: Path, cfg: RoadConfig,
              series: Any) -> list[Path]:
    """``error_vs_kept.png`` (test MAE against the share of sensors kept, every method) and
    ``road_map.png`` (the road graph with the sensors each method keeps, first seed, and the
    edges the spectral rule removed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

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

    # the road map, seed 0
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
        labels = _labels(cfg)
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
        paths.append(p)
    return paths


def redraw(folder: str | os.PathLike[str]) -> list[Path]:
    """Redraw the tables and figures of a road comparison from its ``rows.json``
    (``argnn plot``).

    Parameters
    ----------
    folder : a folder written by :func:`run_road_compare`.

    Returns
    -------
    list of pathlib.Path
    """
    from argnn_sim.outputs import load_json

    f = Path(folder)
    if not (f / "rows.json").is_file() or not (f / "config.json").is_file():
        raise BridgeConfigError(f"{str(f)!r} holds no finished road comparison (rows.json); "
                                "run `argnn compare --network sz_taxi --out` there first")
    rows = load_json(f / "rows.json", "road comparison rows")
    cfg = _config_from({**load_json(f / "config.json", "road comparison settings"),
                        "selections": ()})
    series = load_road_series(cfg.data, data_root=cfg.data_root or None,
                              adjacency=cfg.adjacency or None)
    return write_road_outputs(rows, f, cfg, series)


def command(args: Any, *, progress: bool = False) -> int:
    """``argnn compare --network NAME``: the road comparison (options in
    :func:`prunegcrn_bridge.compare.register`)."""
    cfg = road_config_from_args(args)
    rows = run_road_compare(cfg, args.out, jobs=args.jobs, progress=progress)
    print(road_markdown(rows))
    print(f"\nwritten: {args.out}/summary.csv, paired.csv, summary.md, error_vs_kept.png, "
          "road_map.png")
    return 0


def road_config_from_args(args: Any) -> RoadConfig:
    """The :class:`RoadConfig` the ``argnn compare --network`` options describe."""
    logic_only = [o for o, v in (("--tasks", args.tasks), ("--hidden", args.hidden),
                                 ("--inputs", args.inputs), ("--ks", args.ks),
                                 ("--methods", args.methods)) if v is not None]
    if logic_only:
        raise BridgeConfigError(f"{', '.join(logic_only)} belong(s) to the logic-circuit "
                                "comparison; with --network give --fractions, --seeds, --hops, "
                                "--selections")
    changes: dict[str, Any] = {"data": args.network}
    for opt in ("data_root", "adjacency"):
        v = getattr(args, opt)
        if v is not None:
            changes[opt] = str(v)
    if args.selections is not None:
        changes["selections"] = tuple(x for x in args.selections.split(",") if x)
    if args.data_root is None and os.environ.get("ARGNN_DATA"):
        changes["data_root"] = os.environ["ARGNN_DATA"]
    if args.seeds is not None:
        changes["seeds"] = args.seeds
    if getattr(args, "protocol", None) is not None:
        changes["protocol"] = args.protocol
    if getattr(args, "horizon", None) is not None:
        changes["horizon"] = args.horizon
    if args.hops is not None:
        changes["hops"] = args.hops
    if args.fractions is not None:
        try:
            changes["fractions"] = tuple(float(x) for x in args.fractions.split(","))
        except ValueError:
            raise BridgeConfigError(f"--fractions {args.fractions!r}: give comma-separated "
                                    "shares, e.g. 1,0.5,0.25,0.1") from None
    if args.no_async:
        changes["asynchronous"] = False
    return quick_road_config(**changes) if args.quick else RoadConfig(**changes)


def _interval(q: Mapping[str, Any]) -> str:
    if math.isnan(q["lo"]):
        return "— (one pair)"
    return f"[{q['lo']:+.4f}, {q['hi']:+.4f}]"
