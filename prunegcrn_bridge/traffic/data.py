"""Traffic data for PruneGCRN: PeMS-style series, the Shenzhen taxi set, planted synthetic data.

A *series* is an array (T, N) of one channel (PeMS flow, SZ-taxi speed) with an optional
adjacency (N, N). :func:`prepare` turns it into model-ready windows under a protocol
(:mod:`~.protocol`). The ``default`` protocol splits chronologically 6:2:2 (validation and
test take ``int(0.2 T)`` steps each, training the rest, as AGCRN does), cuts each part into
windows of 12 input and 12 target steps, and z-scores with the training part's mean and
standard deviation (``scaler="all"`` uses the whole series, AGCRN's choice): 1763 / 572 /
572 windows on SZ-taxi. ``tgcn`` splits 80/20 with the validation at the end of the 80 %,
divides by the training maximum and cuts 4-in, 4-out windows (2075 / 289 / 591 on SZ-taxi);
``agcrn`` is 6:2:2, whole-series z-score, 12 in and out.

Loaders never download. :func:`load_npz` reads a PeMS ``.npz`` (key ``data``, shape
(T, N, F), flow in channel 0) given by path, with an optional ``distance.csv``
(``from,to,cost``); :func:`load_sz_taxi` reads ``SZ_TAXI/SZ_taxi.npz`` and ``SZ_taxi.csv``
under a data root (``root=`` or ``ARGNN_DATA``). :func:`synthetic` generates a road-like
network with *planted* driver nodes, so the ideal node selection is known.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from argnn_sim.series import load_road_series, read_adjacency, read_readings

from ..errors import BridgeConfigError, DataError
from .protocol import PROTOCOLS, Protocol, get_protocol

__all__ = ["Series", "Windows", "load_npz", "load_distance_csv", "load_sz_taxi", "load_planted",
           "synthetic",
           "prepare", "split_lengths"]

FloatArray = npt.NDArray[np.float64]


@dataclass
class Series:
    """One traffic series: ``values`` (T, N), ``adjacency`` (N, N) or None, and for
    synthetic data the planted ``drivers`` (indices). MAPE counts only targets above
    ``mape_threshold`` in absolute value (0: every non-zero target; SZ-taxi: 1 km/h)."""

    name: str
    values: FloatArray
    adjacency: FloatArray | None = None
    steps_per_day: int = 288
    drivers: np.ndarray | None = None
    meta: dict[str, object] = field(default_factory=dict)
    mape_threshold: float = 0.0

    @property
    def num_nodes(self) -> int:
        return int(self.values.shape[1])


def load_npz(path: str | os.PathLike[str], *, channel: int = 0,
             distance: str | os.PathLike[str] | None = None,
             steps_per_day: int = 288) -> Series:
    """A PeMS-style ``.npz``: key ``data`` with shape (T, N, F); ``channel`` picks F
    (read by :func:`argnn_sim.series.read_readings`, the simulator's own loader)."""
    values = read_readings(path, channel=channel)
    adj = load_distance_csv(distance, values.shape[1]) if distance is not None else None
    return Series(Path(path).stem, values, adj, steps_per_day)


def load_distance_csv(path: str | os.PathLike[str], num_nodes: int) -> FloatArray:
    """Symmetric 0/1 adjacency from a ``from,to,cost`` CSV (0-based node ids), or an N x N
    matrix (:func:`argnn_sim.series.read_adjacency`)."""
    return read_adjacency(path, num_nodes)


def load_sz_taxi(root: str | os.PathLike[str] | None = None) -> Series:
    """The Shenzhen taxi speeds (2976 steps of 15 minutes, 156 roads) and their adjacency,
    read as the simulator's series task reads them (:func:`argnn_sim.series.load_road_series`).
    """
    base = root if root is not None else os.environ.get("ARGNN_DATA")
    if not base:
        raise DataError("no data root given: pass root= (--data-root) or set ARGNN_DATA to "
                        "the folder holding SZ_TAXI/")
    road = load_road_series("sz_taxi", data_root=base)
    # a quarter of the readings are 0 (missing) and a further 3 % lie in (0, 1] km/h, a
    # standstill whose relative error is unbounded: MAPE over targets above 1 km/h
    return Series("sz_taxi", np.array(road.values), np.array(road.adjacency), 96,
                  mape_threshold=road.mape_threshold)


def load_planted(spec: str, root: str | os.PathLike[str] | None = None) -> Series:
    """A planted series on a real road graph (:mod:`argnn_sim.planted`), with its drivers and
    its truth (``meta["truth"]``), named by its spec string. ``root``: the folder holding
    ``SZ_TAXI/`` (default ``$ARGNN_DATA``) for the ``sz_taxi`` base graph.
    """
    from argnn_sim.planted import parse_planted, planted_series

    base = root if root is not None else os.environ.get("ARGNN_DATA")
    p = planted_series(parse_planted(spec), data_root=base)
    return Series(p.name, np.array(p.values), np.array(p.adjacency), p.spec.steps_per_day,
                  p.drivers, {"truth": p.truth()}, mape_threshold=1.0)


def synthetic(num_nodes: int = 60, *, drivers: int = 12, steps: int = 2880,
              steps_per_day: int = 96, noise: float = 0.1, seed: int = 0) -> Series:
    """A road-like network whose information lives in a planted set of driver nodes.

    Nodes sit on a ring road with chords to near neighbours (a connected, low-degree graph).
    Each *driver* carries its own signal: a daily profile (two rush-hour peaks with a
    node-specific phase and amplitude) plus a slow AR(1) disturbance. Every other node is a
    mixture of 1-3 nearby drivers, each delayed by 1-3 steps, plus white noise of
    relative size ``noise``. Knowing the drivers' past therefore predicts every node, and
    no set of the same size without them does as well: the planted drivers are the ideal
    selection at ``drivers / num_nodes`` kept.
    """
    if not 0 < drivers < num_nodes:
        raise ValueError(f"drivers={drivers}: need 0 < drivers < num_nodes={num_nodes}")
    rng = np.random.default_rng(seed)
    n = num_nodes
    adj = np.zeros((n, n))
    for i in range(n):
        for k in (1, 2):
            j = (i + k) % n
            if k == 1 or rng.random() < 0.3:
                adj[i, j] = adj[j, i] = 1.0
    drv = np.sort(rng.choice(n, drivers, replace=False))
    t = np.arange(steps + 3)
    day = 2 * np.pi * (t % steps_per_day) / steps_per_day
    sig = np.empty((steps + 3, drivers))
    for k in range(drivers):
        phase = rng.uniform(-0.3, 0.3)
        profile = (1.0 + rng.uniform(0.5, 1.5) * np.exp(-((day - 2.0 - phase) ** 2) / 0.3)
                   + rng.uniform(0.5, 1.5) * np.exp(-((day - 4.6 - phase) ** 2) / 0.4))
        ar = np.zeros(steps + 3)
        eps = rng.normal(0, 0.15, steps + 3)
        for s in range(1, steps + 3):
            ar[s] = 0.95 * ar[s - 1] + eps[s]
        sig[:, k] = profile + ar
    values = np.empty((steps, n))
    # ring distance to each driver decides which drivers feed a node
    pos = np.arange(n)
    for i in range(n):
        where = np.flatnonzero(drv == i)
        if where.size:
            values[:, i] = sig[3:, where[0]]
            continue
        dist = np.minimum(np.abs(drv - pos[i]), n - np.abs(drv - pos[i]))
        m = int(rng.integers(1, 4))
        src = np.argsort(dist + rng.random(drivers) * 0.5)[:m]
        w = rng.dirichlet(np.ones(m))
        x = np.zeros(steps)
        for k, wk in zip(src, w):
            lag = int(rng.integers(1, 4))
            x += wk * sig[3 - lag: 3 - lag + steps, k]
        values[:, i] = x + rng.normal(0, noise * x.std(), steps)
    values = 10.0 * (values - values.min()) + 1.0  # positive, speed-like scale
    return Series("synthetic", values, adj, steps_per_day, drv,
                  {"seed": seed, "noise": noise})


def split_lengths(steps: int, split: str = "6:2:2", val_share: float = 0.125
                  ) -> tuple[int, int, int]:
    """Chronological split into (train, validation, test) lengths.

    ``"6:2:2"``: AGCRN's ``split_data_by_ratio``: the last ``int(0.2 T)`` steps are the test
    part, the ``int(0.4 T) - int(0.2 T)`` before them the validation part.
    ``"8:2"``: test is what follows the first ``int(0.8 T)`` steps (T-GCN's split); the
    validation is the last ``val_share`` of those 80 %, the model fits the rest.

    >>> split_lengths(2976), split_lengths(2976, "8:2"), split_lengths(13)
    ((1786, 595, 595), (2083, 297, 596), (8, 3, 2))
    """
    if split == "6:2:2":
        test, both = int(0.2 * steps), int(0.4 * steps)
        return steps - both, both - test, test
    if split == "8:2":
        head = int(0.8 * steps)
        v = int(val_share * head)
        return head - v, v, steps - head
    raise ValueError(f"split={split!r}; allowed: 6:2:2, 8:2")


@dataclass
class Windows:
    """Model-ready data: ``x``/``y`` per split, arrays (S, lag or horizon, N, 1), scaled;
    the scaling (``inverse``), the protocol they were cut under and the test part on the
    original scale (``test_values``, (T_test, N)).

    Under T-GCN's protocol the test inputs include every window that has a next step
    (``len(test) - lag - 1`` of them) and the test targets beyond the end of the series are
    NaN; :meth:`scored` says how many leading windows each k-step score uses.
    """

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    mean: float
    std: float
    mape_threshold: float = 0.0
    protocol: Protocol = field(default_factory=lambda: PROTOCOLS["default"])
    test_values: np.ndarray | None = None
    offsets: dict[str, int] = field(default_factory=dict)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Scaled values back on the original scale."""
        return z * self.std + self.mean

    def test_windows(self) -> tuple[np.ndarray, np.ndarray]:
        """The test windows' inputs and targets on the original scale, in float64 from the
        readings themselves (not through the float32 scaled copies): (S, lag, N, 1) and
        (S, horizon, N, 1), targets past the end NaN."""
        if self.test_values is None:
            return (self.inverse(self.x["test"].astype(np.float64)),
                    self.inverse(self.y["test"].astype(np.float64)))
        x, y = _windows(np.asarray(self.test_values, dtype=np.float64), self.x["test"].shape[1],
                        self.y["test"].shape[1], self.x["test"].shape[0])
        return x, y

    def scored(self, k: int) -> int:
        """How many leading test windows the k-step score uses: T-GCN's count
        (``len(test) - lag - k``) under ``tgcn``, every test window otherwise."""
        s = self.x["test"].shape[0]
        if self.protocol.windows == "tgcn" and self.test_values is not None:
            return min(s, self.test_values.shape[0] - self.protocol.lag - k)
        return s


def _windows(part: np.ndarray, lag: int, horizon: int, count: int | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """``count`` windows (default: every one that fits) of ``lag`` inputs and ``horizon``
    targets; targets past the end of ``part`` are NaN."""
    fits = part.shape[0] - lag - horizon + 1
    count = fits if count is None else count
    if count <= 0:
        raise DataError(f"a split of {part.shape[0]} steps is too short for {lag} + "
                        f"{horizon} step windows")
    padded = np.vstack([part, np.full((horizon, part.shape[1]), np.nan)])
    idx = np.arange(count)[:, None]
    x = padded[idx + np.arange(lag)]
    y = padded[idx + lag + np.arange(horizon)]
    return x[..., None], y[..., None]


def prepare(series: Series, *, protocol: str | Protocol = "default", lag: int | None = None,
            horizon: int | None = None, scaler: str | None = None) -> Windows:
    """Split, cut windows and scale ``series`` under ``protocol`` (see
    :mod:`~.protocol`); ``lag``, ``horizon`` and ``scaler`` (``train`` / ``all``, z-score
    statistics) override the ``default`` protocol's values only.

    Raises
    ------
    DataError
        The series is too short for the protocol's windows.
    """
    proto = get_protocol(protocol) if isinstance(protocol, str) else protocol
    if proto.name != "default" and any(v is not None for v in (lag, horizon, scaler)):
        raise BridgeConfigError(f"--protocol {proto.name} fixes the window, horizon and "
                                "scaling; leave out --scaler (or use --protocol default)")
    if scaler is not None and scaler not in ("train", "all"):
        raise ValueError(f"scaler={scaler!r}; allowed: train, all")
    lag = proto.lag if lag is None else lag
    horizon = proto.horizon if horizon is None else horizon
    kind = {"train": "z-train", "all": "z-all"}.get(scaler or "", proto.scaler)
    v = series.values
    tr, va, te = split_lengths(v.shape[0], proto.split, proto.val_share)
    need = lag + horizon + (0 if proto.windows == "full" else 1)
    short = [name for name, n in (("training", tr), ("validation", va), ("test", te))
             if n < need]
    if short:
        raise DataError(f"{series.name}: {v.shape[0]} steps split {proto.split} leave the "
                        f"{' and '.join(short)} part(s) shorter than the {lag} + {horizon} "
                        f"steps one window of --protocol {proto.name} needs; give a longer "
                        "series or another --protocol")
    parts = {"train": v[:tr], "val": v[tr:tr + va], "test": v[tr + va:]}
    if kind == "z-train":
        mean, std = float(parts["train"].mean()), float(parts["train"].std())
    elif kind == "z-all":
        mean, std = float(v.mean()), float(v.std())
    else:  # max-train: T-GCN divides by the maximum
        mean, std = 0.0, float(parts["train"].max())
    if not std > 0:
        raise DataError(f"{series.name}: the readings the scaling is fitted on are constant "
                        f"({mean:g}); give a series whose readings vary")
    xs, ys = {}, {}
    for k, part in parts.items():
        count = None
        if proto.windows == "tgcn":
            # T-GCN's preprocess_data: range(len - lag - pre_len); the test part keeps every
            # window with a next step, the k-step scores pick their own count (Windows.scored)
            count = part.shape[0] - lag - (1 if k == "test" else horizon)
        x, y = _windows((part - mean) / std, lag, horizon, count)
        xs[k], ys[k] = x.astype(np.float32), y.astype(np.float32)
    thr = series.mape_threshold if proto.mape_threshold is None else proto.mape_threshold
    return Windows(xs, ys, mean, std, thr, proto, np.array(parts["test"]),
                   {"train": 0, "val": tr, "test": tr + va})
