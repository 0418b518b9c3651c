"""Planted road series: a real road graph whose readings come from known drivers (no torch).

Which sensors does a forecaster need? On real data nobody knows. :func:`planted_series` makes
a series on a real road graph (SZ-taxi's 156 roads by default) where the answer is planted:

* **drivers**: ``share`` of the sensors (at least one), drawn at random, each an independent
  speed-like series: a daily profile (free flow with morning and evening dips of its own
  depth and timing) plus a slow AR(1) disturbance;
* **followers**: every other sensor is a noisy, weighted mixture of 1-3 drivers within
  ``hops`` road hops of it, each delayed by ``lags`` steps (1-4 by default): ``x_i(t) = Σ_j
  w_ij d_j(t - lag_ij) + noise``. No other sensor carries information about it. The drivers
  are drawn so that every follower has one within reach (a random cover of the graph: a
  sensor no driver reaches gets one from its own neighbourhood), then at random up to
  ``share``; on a sparse graph and a small radius the cover alone can exceed ``share``, and
  the truth says how many there are;
* **missing readings**: each reading (drivers' too) is 0 with probability ``missing``; the
  mixture uses the true driver values, so a zero is an observation gap, not a signal.

The truth (drivers, each follower's parents, lags and weights) comes with the series
(:class:`Planted`) and :func:`write_planted` writes it beside the readings. A spec string
names a planted series wherever a data set is named: ``[task] data = "planted:sz_taxi"``,
``argnn traffic --data planted:sz_taxi``, with options after a second colon, e.g.
``planted:sz_taxi:share=0.1,lags=1-4,noise=0.1,hops=3,missing=0.05,seed=3``. The base graph is
``sz_taxi`` (read under the data root) or an adjacency file (an N x N matrix or a
``from,to`` CSV) with ``nodes=N`` for the CSV form. One spec and seed give the same series on
every machine (NumPy's PCG64 and its own arithmetic; tested).

>>> p = planted_series(PlantedSpec(seed=1, steps=200), adjacency=_ring(12))
>>> p.values.shape, len(p.drivers) >= 1, p.truth()["drivers"] == p.drivers.tolist()
((200, 12), True, True)
"""

from __future__ import annotations

import json
import math
import os
import zipfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import DataError
from .roadgraph import neighbourhoods, read_adjacency

__all__ = ["PlantedSpec", "Planted", "parse_planted", "planted_series", "write_planted",
           "is_planted", "PREFIX"]

PREFIX = "planted:"
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PlantedSpec:
    """How a planted series is made (see the module docstring).

    base : ``"sz_taxi"`` or an adjacency file. share : drivers' share of the sensors, in
    (0, 1). lags : the smallest and largest delay of a parent, steps >= 1. noise : the
    followers' noise, relative to the mixture's standard deviation, >= 0. hops : parents lie
    within this many road hops, >= 0 (0: a follower has no parent; every sensor drives).
    parents : at most this many parents per follower, >= 1. missing : the share of readings
    set to 0, in [0, 1). steps : the series' length. steps_per_day : steps in a day (96:
    15 minutes). nodes : sensors of a ``from,to`` CSV base (0: the file's largest number + 1).
    seed : everything random flows from it.
    """

    base: str = "sz_taxi"
    share: float = 0.1
    lags: tuple[int, int] = (1, 4)
    noise: float = 0.1
    hops: int = 3
    parents: int = 3
    missing: float = 0.0
    steps: int = 2976
    steps_per_day: int = 96
    nodes: int = 0
    seed: int = 0

    def __post_init__(self) -> None:
        bad = None
        if not (isinstance(self.share, (int, float)) and 0 < self.share < 1):
            bad = f"share={self.share!r}: give the drivers' share of the sensors in (0, 1)"
        elif (len(self.lags) != 2 or any(isinstance(v, bool) or not isinstance(v, int)
                                          for v in self.lags)
              or not 1 <= self.lags[0] <= self.lags[1] <= 1000):
            bad = (f"lags={'-'.join(map(str, self.lags))}: give whole steps 1 <= smallest <= "
                   "largest <= 1000, e.g. lags=1-4")
        elif not (isinstance(self.noise, (int, float)) and math.isfinite(self.noise)
                  and self.noise >= 0):
            bad = f"noise={self.noise!r}: give a finite relative noise >= 0"
        elif isinstance(self.hops, bool) or not isinstance(self.hops, int) or \
                not 0 <= self.hops <= 1000:
            bad = f"hops={self.hops!r}: give a hop radius from 0 to 1000"
        elif isinstance(self.parents, bool) or not isinstance(self.parents, int) or \
                not 1 <= self.parents <= 100:
            bad = f"parents={self.parents!r}: give at most this many parents, 1 to 100"
        elif not (isinstance(self.missing, (int, float)) and 0 <= self.missing < 1):
            bad = f"missing={self.missing!r}: give the share of missing readings in [0, 1)"
        elif isinstance(self.steps, bool) or not isinstance(self.steps, int) or \
                not 50 <= self.steps <= 10_000_000:
            bad = f"steps={self.steps!r}: give a length from 50 to 10,000,000"
        elif isinstance(self.steps_per_day, bool) or not isinstance(self.steps_per_day, int) \
                or not 2 <= self.steps_per_day <= 100_000:
            bad = f"steps_per_day={self.steps_per_day!r}: give from 2 to 100,000"
        elif isinstance(self.seed, bool) or not isinstance(self.seed, int) or \
                not 0 <= self.seed < 2**63:
            bad = f"seed={self.seed!r}: give a whole number >= 0"
        elif isinstance(self.nodes, bool) or not isinstance(self.nodes, int) or \
                not 0 <= self.nodes <= 1_000_000:
            bad = f"nodes={self.nodes!r}: give the CSV graph's sensor count (0: from the file)"
        elif not isinstance(self.base, str) or not self.base:
            bad = "the base graph is empty: give sz_taxi or an adjacency file"
        if bad is not None:
            raise DataError(f"planted series: {bad}")

    def to_string(self) -> str:
        """The spec as ``planted:<base>:key=value,...`` (defaults left out).

        >>> PlantedSpec(share=0.2, seed=3).to_string()
        'planted:sz_taxi:share=0.2,seed=3'
        """
        default = PlantedSpec()
        opts = []
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name == "base" or v == getattr(default, f.name):
                continue
            opts.append(f"{f.name}={'-'.join(map(str, v)) if f.name == 'lags' else v}")
        return PREFIX + self.base + (":" + ",".join(opts) if opts else "")


_INTS = ("hops", "parents", "steps", "steps_per_day", "nodes", "seed")
_FLOATS = ("share", "noise", "missing")


def is_planted(data: str) -> bool:
    """Whether a data name is a planted spec (``planted:...``)."""
    return isinstance(data, str) and data.startswith(PREFIX)


def parse_planted(text: str) -> PlantedSpec:
    """A :class:`PlantedSpec` from ``planted:<base>[:key=value,...]``.

    Raises
    ------
    DataError
        Not a planted spec, an unknown key, a value that does not parse or is out of range.

    Examples
    --------
    >>> parse_planted("planted:sz_taxi:share=0.2,lags=2-3,seed=5")
    PlantedSpec(base='sz_taxi', share=0.2, lags=(2, 3), noise=0.1, hops=3, parents=3, missing=0.0, steps=2976, steps_per_day=96, nodes=0, seed=5)
    """
    if not is_planted(text):
        raise DataError(f"{text!r} is not a planted spec: write planted:sz_taxi[:key=value,...]")
    rest = text[len(PREFIX):]
    # a base may be a path with a drive letter or colons; the options follow the last colon
    # when they look like key=value pairs
    base, _, opts = rest.rpartition(":") if "=" in rest.rpartition(":")[2] else (rest, "", "")
    changes: dict[str, Any] = {"base": base}
    allowed = [f.name for f in fields(PlantedSpec) if f.name != "base"]
    for item in filter(None, (o.strip() for o in opts.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in allowed:
            raise DataError(f"planted series: unknown option {item!r}; allowed: "
                            f"{', '.join(allowed)} (e.g. planted:sz_taxi:share=0.1,seed=3)")
        try:
            if key == "lags":
                lo, _, hi = value.partition("-")
                changes[key] = (int(lo), int(hi or lo))
            elif key in _INTS:
                changes[key] = int(value)
            else:
                changes[key] = float(value)
        except ValueError:
            raise DataError(f"planted series: {key}={value!r} does not parse; give a "
                            f"{'range like 1-4' if key == 'lags' else 'number'}") from None
    return PlantedSpec(**changes)


@dataclass(frozen=True)
class Planted:
    """A planted series: readings ``values`` (T, N) with zeros where missing, the road graph
    ``adjacency`` (N, N), the ``drivers`` (ascending), and for each sensor its ``parents``
    (driver, lag, weight) triples (empty for a driver); ``spec`` made it."""

    spec: PlantedSpec
    values: FloatArray
    adjacency: FloatArray
    drivers: npt.NDArray[np.int64]
    parents: tuple[tuple[tuple[int, int, float], ...], ...]

    @property
    def name(self) -> str:
        """The spec string: how the series is named in run files and tables."""
        return self.spec.to_string()

    def truth(self) -> dict[str, Any]:
        """The planted structure as JSON-ready data (written as ``truth.json``)."""
        return {"spec": self.spec.to_string(), "settings": _jsonable(asdict(self.spec)),
                "sensors": int(self.values.shape[1]), "drivers": self.drivers.tolist(),
                "parents": {str(i): [{"driver": d, "lag": lag, "weight": w}
                                     for d, lag, w in ps]
                            for i, ps in enumerate(self.parents) if ps},
                "missing_share": float(np.mean(self.values == 0))}

    def parent_edges(self) -> set[tuple[int, int]]:
        """The true (driver, follower) couplings."""
        return {(d, i) for i, ps in enumerate(self.parents) for d, _, _ in ps}


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def _ring(n: int) -> FloatArray:
    return np.roll(np.eye(n), 1, 1) + np.roll(np.eye(n), -1, 1)


def base_adjacency(spec: PlantedSpec, data_root: str | os.PathLike[str] | None = None
                   ) -> FloatArray:
    """The road graph a spec names: SZ-taxi's (under ``data_root`` or ``$ARGNN_DATA``) or a
    file's.

    Raises
    ------
    DataError
        An unknown base graph, a missing file.
    """

    if spec.base.lower() == "sz_taxi":
        root = data_root or os.environ.get("ARGNN_DATA", "")
        if not root:
            raise DataError("planted:sz_taxi needs the folder holding SZ_TAXI/ for its road "
                            "graph: set task.data_root (--data-root) or ARGNN_DATA")
        return read_adjacency(Path(root) / "SZ_TAXI" / "SZ_taxi.csv", 156)
    p = Path(spec.base)
    if data_root and not p.is_absolute():
        p = Path(data_root) / p
    if not p.is_file():
        raise DataError(f"planted series: unknown base graph {spec.base!r}; give sz_taxi or "
                        "an adjacency file (an N x N matrix, or a from,to CSV with nodes=N)")
    n = spec.nodes
    if not n:
        if p.suffix == ".npy":
            n = int(np.load(p, allow_pickle=False).shape[0])
        else:
            head = p.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0].lower()
            if "from" in head and "to" in head:
                pairs = np.loadtxt(p, delimiter=",", skiprows=1, ndmin=2)
                n = int(pairs[:, :2].max()) + 1 if pairs.size else 0
            else:
                n = int(np.loadtxt(p, delimiter=",", ndmin=2).shape[0])
    return read_adjacency(p, n)


def planted_series(spec: PlantedSpec, *, data_root: str | os.PathLike[str] | None = None,
                   adjacency: npt.ArrayLike | None = None) -> Planted:
    """Make the planted series ``spec`` describes on its base graph (or on ``adjacency``).

    Parameters
    ----------
    spec
        What to make.
    data_root
        Where ``sz_taxi``'s graph is read.
    adjacency
        A symmetric 0/1 road graph (N, N) to use instead of the base.

    Returns
    -------
    Planted
    """

    adj = (base_adjacency(spec, data_root) if adjacency is None
           else np.asarray(adjacency, dtype=np.float64))
    n = adj.shape[0]
    if n < 2:
        raise DataError(f"planted series: the base graph has {n} sensor(s); give at least 2")
    rng = np.random.default_rng(spec.seed)
    near = neighbourhoods(adj, spec.hops)
    np.fill_diagonal(near, False)
    k = min(n - 1, max(1, round(spec.share * n)))
    is_driver = np.zeros(n, dtype=bool)
    # first a random cover: a sensor no driver reaches yet gets one drawn from its own
    # neighbourhood (itself included); then random drivers up to the share
    for i in rng.permutation(n):
        if not is_driver[i] and not (near[i] & is_driver).any():
            hood = np.flatnonzero(near[i])
            is_driver[int(rng.choice(np.append(hood, i)))] = True
    rest = np.flatnonzero(~is_driver)
    extra = min(rest.size - 1, max(0, k - int(is_driver.sum())))
    if extra > 0:
        is_driver[rng.choice(rest, size=extra, replace=False)] = True
    drivers = np.flatnonzero(is_driver)
    lo, hi = spec.lags
    t = spec.steps + hi
    sig = np.empty((t, n))
    day = 2 * np.pi * (np.arange(t) % spec.steps_per_day) / spec.steps_per_day
    for j in drivers:
        # free-flow speed with morning and evening dips, and a slow AR(1) disturbance
        free = rng.uniform(35, 60)
        dip = free * rng.uniform(0.2, 0.5, 2)
        phase = rng.uniform(-0.3, 0.3, 2)
        profile = free - dip[0] * np.exp(-((day - 2.0 - phase[0]) ** 2) / 0.15) \
            - dip[1] * np.exp(-((day - 4.6 - phase[1]) ** 2) / 0.2)
        eps = rng.normal(0.0, 0.06 * free, t)
        ar = np.empty(t)
        ar[0] = eps[0]
        for s in range(1, t):
            ar[s] = 0.9 * ar[s - 1] + eps[s]
        sig[:, j] = profile + ar
    values = np.empty((spec.steps, n))
    parents: list[tuple[tuple[int, int, float], ...]] = []
    for i in range(n):
        if is_driver[i]:
            values[:, i] = sig[hi:, i]
            parents.append(())
            continue
        pool = np.flatnonzero(near[i] & is_driver)
        m = int(rng.integers(1, min(spec.parents, pool.size) + 1))
        chosen = np.sort(rng.choice(pool, size=m, replace=False))
        w = rng.dirichlet(np.ones(m))
        lags = rng.integers(lo, hi + 1, size=m)
        mix = np.zeros(spec.steps)
        for d, lag, wd in zip(chosen, lags, w):
            mix += wd * sig[hi - lag: hi - lag + spec.steps, d]
        sd = float(mix.std())
        values[:, i] = mix + rng.normal(0.0, spec.noise * sd, spec.steps)
        parents.append(tuple((int(d), int(lag), float(wd)) for d, lag, wd in
                             zip(chosen, lags, w)))
    np.maximum(values, 0.0, out=values)  # speeds
    if spec.missing > 0:
        values[rng.random(values.shape) < spec.missing] = 0.0
    return Planted(spec, values, adj, drivers.astype(np.int64), tuple(parents))


def write_planted(planted: Planted, folder: str | os.PathLike[str]) -> list[Path]:
    """Write ``planted.npz`` (key ``data``, (T, N)), ``adjacency.csv`` (N x N) and
    ``truth.json`` into ``folder`` (each atomically); the files of one spec are the same
    bytes on every call."""
    from .outputs import write_atomic

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / ".planted.npz.tmp"
    # np.savez stamps each member with the current time; a fixed stamp keeps the bytes
    info = zipfile.ZipInfo("data.npy", date_time=(1980, 1, 1, 0, 0, 0))
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
        with zf.open(info, "w", force_zip64=True) as fh:
            np.lib.format.write_array(fh, np.ascontiguousarray(planted.values))
    os.replace(tmp, out / "planted.npz")
    rows = "\n".join(",".join("1" if v else "0" for v in row) for row in planted.adjacency)
    write_atomic(out / "adjacency.csv", rows + "\n")
    write_atomic(out / "truth.json", json.dumps(planted.truth(), indent=1))
    return [out / "planted.npz", out / "adjacency.csv", out / "truth.json"]


def with_seed(spec: PlantedSpec, seed: int) -> PlantedSpec:
    """The same spec with another seed."""
    return replace(spec, seed=seed)
