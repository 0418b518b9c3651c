"""The road comparison's settings (:class:`RoadConfig`) and the simulator scenario of each run."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from argnn_sim.config import ConfigError, Scenario
from argnn_sim.engines import initial_network

from ..errors import BridgeConfigError

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
        from ..traffic.protocol import get_protocol

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


def upgrade_record(rec: dict[str, Any]) -> dict[str, Any]:
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


def config_from(d: Mapping[str, Any]) -> RoadConfig:
    d = dict(d)
    d["fractions"] = tuple(d["fractions"])
    d["modes"] = tuple(d["modes"])
    d["selections"] = tuple(d.get("selections") or ())
    d["budgets"] = tuple(d.get("budgets", ()))
    d.setdefault("protocol", "default")
    d.setdefault("horizon", 1)
    d.setdefault("seed", 0)
    return RoadConfig(**d)


def run_key(method: str, seed: int, fraction: float | None) -> str:
    return f"{method}-s{seed}" + ("" if fraction is None else f"-f{fraction:g}")


def network_labels(cfg: RoadConfig) -> list[Any]:
    return network_edges(cfg)[0]


def network_edges(cfg: RoadConfig) -> tuple[list[str], set[tuple[int, int]]]:
    """The full network's node labels and its (source, destination) edges."""
    topo = initial_network(cfg.scenario_for("unpruned", 0, passes=0), 0)
    return ([str(v) for v in topo.labels],
            set(zip(np.asarray(topo.src).tolist(), np.asarray(topo.dst).tolist())))
