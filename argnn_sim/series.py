"""Time-series tasks: a road-sensor network forecasting its own readings (no torch).

A *road series* is a table of readings ``values`` (T steps x N sensors) with a symmetric 0/1
``adjacency`` (N x N) of the road graph. :func:`load_road_series` reads the Shenzhen taxi
speeds (``data = "sz_taxi"``: ``SZ_TAXI/SZ_taxi.npz`` and ``SZ_taxi.csv`` under a data root)
or a user's ``.npz`` (key ``data``, shape (T, N) or (T, N, F), channel 0) with an adjacency
file (an N x N matrix as ``.npy`` or comma-separated text, or a ``from,to[,cost]`` CSV). It
never downloads.

The task (``[task] kind = "series"``, :class:`SeriesTask`): every sensor ``i`` has an
*input node* clamped to its current reading and a *predictor node* (an output) whose
target is the same sensor's reading ``horizon`` steps later. Readings are scaled to [0, 1]
with the training split's minimum and maximum (over all sensors), so the predictors'
sigmoid can reach them. The series is split chronologically 6:2:2 as PruneGCRN's loader
splits it (validation and test take ``int(0.2 T)`` steps each); training presents the
training split ``passes`` times in order; evaluation presents the test split with
learning and pruning off and scores the predictions whose target lies at test step
``LAG`` or later, the horizon-1 targets PruneGCRN's test windows have (its windows see
``LAG`` = 12 past steps).

The network (:func:`road_topology`): predictor ``i`` hears the input nodes of the sensors
within ``hops`` road hops of ``i`` (itself included) and the predictors of its road
neighbours (recurrent edges); ``hidden`` hidden nodes per sensor hear the same inputs and
feed their predictor. With ``sensors`` given, only those sensors have input nodes (a
centralized selection imposed on the network); every sensor keeps its predictor.

>>> import numpy as np
>>> s = RoadSeries("ring", np.tile(np.arange(80.0)[:, None], (1, 4)) + np.arange(4),
...                np.roll(np.eye(4), 1, 1) + np.roll(np.eye(4), -1, 1))
>>> t = SeriesTask.from_series(s, horizon=1)
>>> t.n_inputs, t.n_outputs, t.lo, t.hi, t.train.shape, t.test.shape
(4, 4, 0.0, 50.0, (48, 4), (16, 4))
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .config import ConfigError, TaskConfig
from .errors import DataError
from .rng import Stream
from .roadgraph import neighbourhoods as _neighbourhoods
from .roadgraph import read_adjacency

__all__ = ["RoadSeries", "SeriesTask", "load_road_series", "road_topology", "road_size",
           "split_lengths",
           "road_layout", "read_readings", "read_adjacency",
           "series_metrics", "sensors_in_use", "LAG", "SZ_TAXI_MAPE_THRESHOLD"]

LAG = 12  # PruneGCRN's input window: its first horizon-1 test target is test step 12
SZ_TAXI_MAPE_THRESHOLD = 1.0  # km/h: a quarter of SZ-taxi's readings are 0 (missing)
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class RoadSeries:
    """Readings ``values`` (T, N) and the road graph's symmetric 0/1 ``adjacency`` (N, N).
    MAPE counts only targets above ``mape_threshold`` (0: every non-zero target)."""

    name: str
    values: FloatArray
    adjacency: FloatArray
    mape_threshold: float = 0.0

    @property
    def num_sensors(self) -> int:
        """How many sensors (columns) the series has."""
        return int(self.values.shape[1])


def split_lengths(steps: int) -> tuple[int, int, int]:
    """Chronological 6:2:2 (PruneGCRN's split): ``int(0.2 T)`` steps for validation and test.

    >>> split_lengths(2976)
    (1786, 595, 595)
    """
    v = int(0.2 * steps)
    return steps - 2 * v, v, v


_READINGS = ("an .npz with key 'data' of shape (T, N) or (T, N, F) (one channel is used), "
             "e.g. SZ_taxi.npz or PeMSD4's pems04.npz")


def read_readings(path: str | os.PathLike[str], *, channel: int = 0) -> FloatArray:
    """The readings (T, N) of an ``.npz`` with key ``data`` ((T, N) or (T, N, F): ``channel``).

    Raises
    ------
    DataError
        A missing or unreadable file, no ``data``, a shape that does not fit, NaN readings.
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"traffic data file {p} not found; give {_READINGS}")
    try:
        with np.load(p, allow_pickle=False) as z:
            if "data" not in z:
                raise DataError(f"{p} has keys {sorted(z.keys())} but no 'data'; give "
                                f"{_READINGS}")
            data = np.asarray(z["data"], dtype=np.float64)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{p} cannot be read ({type(exc).__name__}: {exc}); give "
                        f"{_READINGS}") from None
    if data.ndim == 2:
        data = data[:, :, None]
    if data.ndim != 3 or data.shape[0] < 2 or data.shape[1] < 1 or \
            not 0 <= channel < data.shape[2]:
        raise DataError(f"{p}: 'data' has shape {data.shape}; need (T, N) or (T, N, F) with "
                        f"channel {channel} < F")
    values = data[:, :, channel]
    if not np.isfinite(values).all():
        raise DataError(f"{p}: the series holds NaN or infinite readings; clean or impute "
                        "them first")
    return values


_ROOT_HOW = "argnn run: --set task.data_root=DIR; argnn traffic and compare: --data-root DIR"


@functools.lru_cache(maxsize=4)
def _load(data: str, root: str, adjacency: str) -> RoadSeries:
    from .planted import is_planted, parse_planted, planted_series

    if is_planted(data):
        if adjacency:
            raise DataError(f"task.data = {data!r} is a planted series on its own road graph "
                            "(its base); remove task.adjacency")
        made = planted_series(parse_planted(data), data_root=root or None)
        return RoadSeries(made.name, made.values, made.adjacency, SZ_TAXI_MAPE_THRESHOLD)
    if data.lower() == "sz_taxi":
        base = root or os.environ.get("ARGNN_DATA", "")
        if not base:
            raise DataError("the SZ-taxi data needs the folder holding SZ_TAXI/: set "
                            f"task.data_root ({_ROOT_HOW}) or the ARGNN_DATA environment "
                            "variable")
        folder = Path(base) / "SZ_TAXI"
        if not (folder / "SZ_taxi.npz").is_file():
            raise DataError(f"the SZ-taxi data is not under {base!r} (no "
                            f"{folder / 'SZ_taxi.npz'}); give the folder holding "
                            f"SZ_TAXI/SZ_taxi.npz as task.data_root ({_ROOT_HOW}) or "
                            "ARGNN_DATA")
        values = read_readings(folder / "SZ_taxi.npz")
        adj = read_adjacency(Path(adjacency) if adjacency else folder / "SZ_taxi.csv",
                             values.shape[1])
        return RoadSeries("sz_taxi", values, adj, SZ_TAXI_MAPE_THRESHOLD)
    p = Path(data)
    if root and not p.is_absolute():
        p = Path(root) / p
    values = read_readings(p)
    if not adjacency:
        raise DataError(f"task.data = {data!r} needs task.adjacency (the road graph: an N x N "
                          "matrix or a from,to CSV)")
    a = Path(adjacency)
    if root and not a.is_absolute():
        a = Path(root) / a
    return RoadSeries(p.stem, values, read_adjacency(a, values.shape[1]))


def load_road_series(data: str, *, data_root: str | os.PathLike[str] | None = None,
                     adjacency: str | os.PathLike[str] | None = None) -> RoadSeries:
    """Read a road series: ``"sz_taxi"`` (under ``data_root`` or ``$ARGNN_DATA``) or a path.

    Parameters
    ----------
    data
        ``"sz_taxi"``, a planted spec (``"planted:sz_taxi[:key=value,...]"``,
        :mod:`argnn_sim.planted`) or an ``.npz`` file (relative paths are read under
        ``data_root`` when one is given).
    data_root
        The folder holding ``SZ_TAXI/``.
    adjacency
        The road graph's file (needed for an ``.npz``; optional for SZ-taxi).

    Returns
    -------
    RoadSeries (its arrays are shared between calls: do not write to them)

    Raises
    ------
    DataError
        A missing or unreadable file, a shape that does not fit, NaN readings.
    """
    s = _load(str(data), str(data_root or ""), str(adjacency or ""))
    s.values.setflags(write=False)
    s.adjacency.setflags(write=False)
    return s


@dataclass(frozen=True)
class SeriesTask:
    """A series task, ready to present: scaled splits, the kept sensors, the horizon.

    ``train`` and ``test`` are the scaled training and test splits (steps x N);
    ``sensors`` are the sensors with an input node, ascending; ``lo``/``hi`` the training
    split's minimum and maximum (the scaling); ``raw_test`` the test split on the original
    scale. Inputs at step ``t`` are ``split[t, sensors]``, targets ``split[t + horizon]``.
    """

    name: str
    series: RoadSeries
    sensors: tuple[int, ...]
    horizon: int
    passes: int
    lo: float
    hi: float
    train: FloatArray
    test: FloatArray
    raw_test: FloatArray
    hops: int = 1
    hidden: int = 0

    @property
    def n_inputs(self) -> int:
        """Input nodes: one per kept sensor."""
        return len(self.sensors)

    @property
    def n_outputs(self) -> int:
        """Predictor nodes: one per sensor."""
        return self.series.num_sensors

    @classmethod
    def from_series(cls, series: RoadSeries, *, horizon: int = 1, passes: int = 1,
                    sensors: Sequence[int] = (), hops: int = 1, hidden: int = 0,
                    train_steps: int = 0, test_steps: int = 0) -> SeriesTask:
        """Split, scale and check a series for the task (see the module docstring).

        ``train_steps``/``test_steps`` (> 0) keep only the first that many steps of the
        training and test splits (quick runs); 0 keeps the whole split.
        """
        v = series.values
        n = series.num_sensors
        tr, va, te = split_lengths(v.shape[0])
        train = v[:tr]
        test = v[tr + va:]
        if train_steps:
            train = train[:train_steps]
        if test_steps:
            test = test[:test_steps]
        if train.shape[0] <= horizon:
            raise ConfigError(f"task.horizon = {horizon} leaves no training pair in a training "
                              f"split of {train.shape[0]} steps; give a shorter horizon or "
                              "more steps")
        if test.shape[0] <= max(horizon, LAG):
            raise ConfigError(f"the test split has {test.shape[0]} steps; scoring needs more "
                              f"than {max(horizon, LAG)} (task.horizon and the {LAG}-step lag "
                              "PruneGCRN's windows have); give a longer series or more "
                              "task.test_steps")
        keep = tuple(range(n)) if not sensors else tuple(sorted(int(i) for i in sensors))
        bad = [i for i in keep if not 0 <= i < n]
        if bad:
            raise ConfigError(f"task.sensors names {bad[:5]} but the series has sensors "
                              f"0..{n - 1}; give sensor numbers in that range")
        lo, hi = float(train.min()), float(train.max())
        if not hi > lo:
            raise ConfigError(f"the training split of {series.name!r} is constant ({lo}); "
                              "the [0, 1] scaling needs readings that vary")
        span = hi - lo
        return cls(series.name, series, keep, int(horizon), int(passes), lo, hi,
                   (train - lo) / span, (test - lo) / span, np.asarray(test), int(hops),
                   int(hidden))

    @classmethod
    def from_config(cls, cfg: TaskConfig) -> SeriesTask:
        """The task a ``[task] kind = "series"`` section describes (reads its data)."""
        try:
            s = load_road_series(cfg.data, data_root=cfg.data_root or None,
                                 adjacency=cfg.adjacency or None)
        except DataError as exc:
            raise ConfigError(f"[task] {exc}") from None
        return cls.from_series(s, horizon=cfg.horizon, passes=cfg.passes, sensors=cfg.sensors,
                               hops=cfg.hops, hidden=cfg.hidden, train_steps=cfg.train_steps,
                               test_steps=cfg.test_steps)

    def to_original(self, z: npt.ArrayLike) -> FloatArray:
        """Scaled values back on the series' own scale.

        >>> import numpy as np
        >>> s = RoadSeries("s", np.arange(160.0).reshape(80, 2), np.ones((2, 2)) - np.eye(2))
        >>> SeriesTask.from_series(s).to_original([0.0, 1.0]).tolist()
        [0.0, 95.0]
        """
        return np.asarray(z, dtype=np.float64) * (self.hi - self.lo) + self.lo

    def train_steps(self) -> range:
        """The training split's steps that have a target (one pass)."""
        return range(self.train.shape[0] - self.horizon)

    def test_steps(self) -> range:
        """The test split's steps that have a target."""
        return range(self.test.shape[0] - self.horizon)

    def scored(self, t: int) -> bool:
        """Whether the prediction made at test step ``t`` is scored (its target at ``LAG`` or
        later)."""
        return t + self.horizon >= LAG

    def row(self, split: str, t: int) -> tuple[float, ...]:
        """Step ``t`` of ``split`` as a row: the kept sensors' inputs, then every target."""
        a = self.train if split == "train" else self.test
        return tuple(a[t, list(self.sensors)].tolist()) + tuple(a[t + self.horizon].tolist())


def road_size(task: SeriesTask) -> tuple[int, int]:
    """The nodes and edges :func:`road_topology` will build, counted without building it.

    >>> ring = np.roll(np.eye(4), 1, 1) + np.roll(np.eye(4), -1, 1)
    >>> s = RoadSeries("ring", np.random.default_rng(0).random((80, 4)), ring)
    >>> road_size(SeriesTask.from_series(s, hops=1))
    (8, 20)
    """
    n = task.series.num_sensors
    adj = np.asarray(task.series.adjacency)
    kept = np.zeros(n, dtype=bool)
    kept[list(task.sensors)] = True
    heard = _neighbourhoods(adj, task.hops)[:, kept].sum(axis=1)
    h = task.hidden
    nodes = len(task.sensors) + n * h + n
    edges = int(heard.sum()) * (1 + h) + n * h + int((adj != 0).sum())
    return nodes, edges


def road_topology(task: SeriesTask, weights: Stream, *, scale: float = 1.0) -> Any:
    """The network of a series task (see the module docstring), as a
    :class:`~argnn_sim.topology.Topology` with one output per sensor.

    Node numbers: the kept sensors' input nodes first (``x<i>``), then the hidden nodes
    (``h<i>.<k>``), then the predictors (``y<i>``, sensor order; the last is ``output``).
    Weights are drawn from U(-scale, scale), one per edge in (destination, source) order.

    >>> import numpy as np
    >>> from argnn_sim.rng import Streams
    >>> ring = np.roll(np.eye(4), 1, 1) + np.roll(np.eye(4), -1, 1)
    >>> s = RoadSeries("ring", np.random.default_rng(0).random((80, 4)), ring)
    >>> t = road_topology(SeriesTask.from_series(s, hops=1), Streams(0).weights)
    >>> t.n, t.n_edges, t.labels[:2], t.outputs
    (8, 20, ('x0', 'x1'), (4, 5, 6, 7))
    """
    from .topology import Topology, _sorted

    n = task.series.num_sensors
    adj = np.asarray(task.series.adjacency)
    near = _neighbourhoods(adj, task.hops)
    kept = list(task.sensors)
    x_id = {s: k for k, s in enumerate(kept)}
    h = task.hidden
    first_hidden = len(kept)
    first_pred = first_hidden + n * h
    labels: list[Any] = [f"x{s}" for s in kept]
    labels += [f"h{i}.{k}" for i in range(n) for k in range(h)]
    labels += [f"y{i}" for i in range(n)]
    src: list[int] = []
    dst: list[int] = []
    for i in range(n):
        heard = [x_id[j] for j in np.flatnonzero(near[i]).tolist() if j in x_id]
        pred = first_pred + i
        for k in range(h):
            hid = first_hidden + i * h + k
            src += heard
            dst += [hid] * len(heard)
            src.append(hid)
            dst.append(pred)
        src += heard
        dst += [pred] * len(heard)
        for j in np.flatnonzero(adj[i]).tolist():
            src.append(first_pred + j)
            dst.append(pred)
    s_arr = np.asarray(src, dtype=np.int64)
    d_arr = np.asarray(dst, dtype=np.int64)
    order = np.lexsort((s_arr, d_arr))
    w = np.empty(s_arr.size)
    w[order] = scale * (2 * np.asarray(weights.random(s_arr.size), dtype=np.float64) - 1)
    total = first_pred + n
    topo = _sorted(total, labels, tuple(range(len(kept))), total - 1, s_arr, d_arr, w)
    return Topology(topo.n, topo.labels, topo.inputs, topo.output, topo.src, topo.dst,
                    topo.weight, outputs=tuple(range(first_pred, total)))


def series_metrics(task: SeriesTask, predictions: FloatArray, steps: Sequence[int], *,
                   definition: str = "all") -> dict[str, Any]:
    """The test metrics on the original scale of the scored predictions
    (:func:`argnn_sim.metrics.forecast_metrics`).

    Parameters
    ----------
    task
        The task.
    predictions
        Scaled predictions, one row per scored test step, one column per sensor.
    steps
        The test steps ``t`` the rows were made at (targets at ``t + horizon``).
    definition
        ``all`` (every entry, the default) or ``masked``.

    Returns
    -------
    dict with ``definition``, ``mae``, ``rmse``, ``mape`` (a fraction, over targets above the
    series' ``mape_threshold``; NaN when none is), ``accuracy``, ``r2``, ``var``,
    ``mape_threshold`` and ``scored`` (how many predictions).
    """
    from .metrics import forecast_metrics

    pred = task.to_original(predictions)
    idx = np.asarray(steps, dtype=np.int64) + task.horizon
    m = forecast_metrics(pred, task.raw_test[idx], definition=definition,
                         mape_threshold=task.series.mape_threshold)
    m["scored"] = m.pop("count")
    m.pop("mape_count")
    return m


def sensors_in_use(labels: Sequence[Any], src: npt.ArrayLike, inputs: Sequence[int]
                   ) -> list[int]:
    """The sensors whose input node still has an out-edge: the ones the network still needs.

    Parameters
    ----------
    labels
        Node labels (input nodes are ``x<sensor>``).
    src
        The remaining edges' sources.
    inputs
        The input node numbers.

    Returns
    -------
    list of sensor numbers, ascending

    >>> sensors_in_use(["x3", "x5", "y0"], [0, 2], [0, 1])
    [3]
    """
    used = set(np.asarray(src, dtype=np.int64).tolist())
    return sorted(int(str(labels[k])[1:]) for k in inputs if k in used)


def road_layout(adjacency: npt.ArrayLike) -> dict[int, tuple[float, float]]:
    """Positions for drawing a road graph: the largest connected part by Kamada-Kawai in
    [-1, 1], the smaller parts (spring layouts, scaled down) in a column to its right.

    >>> pos = road_layout(np.roll(np.eye(5), 1, 1) + np.roll(np.eye(5), -1, 1))
    >>> sorted(pos) == list(range(5))
    True
    """
    a = np.asarray(adjacency) != 0
    return dict(_layout(a.shape[0], np.packbits(a).tobytes()))


@functools.lru_cache(maxsize=8)
def _layout(n: int, packed: bytes) -> tuple[tuple[int, tuple[float, float]], ...]:
    """:func:`road_layout` of the 0/1 matrix ``packed`` (``np.packbits``), remembered: a
    study draws the same graph in many figures, and Kamada-Kawai takes a second or two."""
    import networkx as nx

    a = np.unpackbits(np.frombuffer(packed, dtype=np.uint8), count=n * n).reshape(n, n)
    g = nx.Graph()
    g.add_nodes_from(range(a.shape[0]))
    g.add_edges_from(zip(*np.nonzero(np.triu(a != 0, 1))))
    parts = sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: (-len(c), c))
    pos: dict[int, tuple[float, float]] = {}
    y = 1.0
    for i, part in enumerate(parts):
        sub = g.subgraph(part)
        if i == 0:
            p = nx.kamada_kawai_layout(sub) if len(part) > 2 else nx.spring_layout(sub, seed=0)
            pos.update({k: (float(v[0]), float(v[1])) for k, v in p.items()})
            continue
        size = 0.06 + 0.02 * min(len(part), 10)
        p = nx.spring_layout(sub, seed=0, scale=size) if len(part) > 1 else {part[0]: (0, 0)}
        pos.update({k: (1.25 + float(v[0]), y - size + float(v[1])) for k, v in p.items()})
        y -= 2 * size + 0.08
    return tuple(sorted(pos.items()))
