"""Initial directed weighted graphs.

Three kinds (``[network] kind``): the reference's logic circuit, random sparse directed
graphs, and explicit edge lists (for any networkx ``DiGraph``, see :func:`from_networkx`).
Nodes are numbered ``0..n-1``: inputs first, the output last. For the logic circuit this
is the reference's numbering (inputs ``0, 1``; hidden ``2..h+1``; output ``h+2``).

>>> from argnn_sim.rng import Streams
>>> from argnn_sim.tasks import make_task
>>> from argnn_sim.config import NetworkConfig
>>> t = build(NetworkConfig(hidden=2), make_task("XOR"), Streams(0).weights)
>>> t.n, t.n_edges, t.inputs, t.output
(5, 12, (0, 1), 4)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import networkx as nx
import numpy as np
import numpy.typing as npt

from .config import ConfigError, NetworkConfig
from .rng import Stream

__all__ = ["Topology", "build", "logic_circuit", "random_graph", "from_edges", "from_networkx"]


@dataclass(frozen=True)
class Topology:
    """An initial graph: edge ``src[e] -> dst[e]`` with weight ``weight[e]``.

    Edges are sorted by ``(dst, src)``, so each node's input edges are contiguous and in
    ascending order of their source. ``outputs`` lists every output node when there are
    several (a series task's predictors, :mod:`argnn_sim.series`); empty means ``(output,)``.
    """

    n: int
    labels: tuple[Hashable, ...]
    inputs: tuple[int, ...]
    output: int
    src: npt.NDArray[np.int64]
    dst: npt.NDArray[np.int64]
    weight: npt.NDArray[np.float64]
    outputs: tuple[int, ...] = ()

    @property
    def output_ids(self) -> tuple[int, ...]:
        """Every output node (``outputs``, or ``(output,)`` for a single-output network).

        Returns
        -------
        tuple of int

        Examples
        --------
        >>> from argnn_sim.rng import Streams
        >>> logic_circuit(2, 2, Streams(0).weights).output_ids
        (4,)
        """
        return self.outputs or (self.output,)

    @property
    def n_edges(self) -> int:
        """How many edges the graph has.

        Returns
        -------
        int

        Examples
        --------
        >>> from argnn_sim.rng import Streams
        >>> logic_circuit(2, 3, Streams(0).weights).n_edges  # (h + 1)(h + 2)
        20
        """
        return int(self.src.size)

    def to_networkx(self) -> nx.DiGraph:
        """The graph as a ``networkx.DiGraph`` with ``weight`` edge attributes.

        Returns
        -------
        networkx.DiGraph

        Examples
        --------
        >>> from argnn_sim.rng import Streams
        >>> logic_circuit(2, 1, Streams(0).weights).to_networkx().number_of_edges()
        6
        """
        g = nx.DiGraph()
        g.add_nodes_from(range(self.n))
        g.add_weighted_edges_from(zip(self.src.tolist(), self.dst.tolist(), self.weight.tolist()))
        return g


def _sorted(n: int, labels: Sequence[Hashable], inputs: tuple[int, ...], output: int,
            src: npt.NDArray[np.int64], dst: npt.NDArray[np.int64],
            w: npt.NDArray[np.float64]) -> Topology:
    order = np.lexsort((src, dst))
    return Topology(n, tuple(labels), inputs, output, src[order].astype(np.int64),
                    dst[order].astype(np.int64), w[order].astype(np.float64))


def logic_circuit(n_inputs: int, hidden: int, weights: Stream, *, scale: float = 1.0) -> Topology:
    """The reference circuit: every ordered pair ``i -> j`` with ``i != j``, ``j`` not an input.

    The weights are one ``rand(n, n)`` draw (``W = 2 r - 1``), as in the reference.

    Parameters
    ----------
    n_inputs
        Input nodes (numbered first).
    hidden
        Hidden nodes (next); one output last.
    weights
        The stream the weights are drawn from.
    scale
        Weights are multiplied by this (1: the reference's U(-1, 1)).

    Returns
    -------
    Topology

    Examples
    --------
    >>> from argnn_sim.rng import Streams
    >>> t = logic_circuit(2, 2, Streams(0).weights)
    >>> t.n, t.n_edges, t.output
    (5, 12, 4)
    """
    n = n_inputs + hidden + 1
    r = np.asarray(weights.random((n, n)), dtype=np.float64)
    W = 2 * r - 1
    if scale != 1.0:
        W = W * scale
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    keep = (ii != jj) & (jj >= n_inputs)
    src, dst = ii[keep], jj[keep]
    return _sorted(n, list(range(n)), tuple(range(n_inputs)), n - 1, src, dst, W[src, dst])


def random_graph(n: int, mean_degree: float, n_inputs: int, weights: Stream, *,
                 scale: float = 1.0) -> Topology:
    """Random sparse directed graph: about ``mean_degree`` input edges per non-input node.

    Edge endpoints are drawn uniformly (no self-loops, no duplicates, none into inputs);
    node ``n - 1`` is the output. Cost is linear in the number of edges.

    Parameters
    ----------
    n
        Nodes (inputs first).
    mean_degree
        Mean in-degree of the non-input nodes.
    n_inputs
        Input nodes.
    weights
        The stream edges and weights are drawn from.
    scale
        Weights are drawn from U(-scale, scale).

    Returns
    -------
    Topology

    Examples
    --------
    >>> from argnn_sim.rng import Streams
    >>> t = random_graph(1000, 8.0, 2, Streams(0).weights)
    >>> 7.5 < t.n_edges / 998 < 8.0, bool((t.dst >= 2).all())
    (True, True)
    """
    if n <= n_inputs:
        raise ConfigError(f"network.nodes = {n} must exceed the task's {n_inputs} inputs")
    targets = n - n_inputs
    m = int(round(mean_degree * targets))
    src = np.asarray(weights.integers(n, size=m), dtype=np.int64)
    dst = n_inputs + np.asarray(weights.integers(targets, size=m), dtype=np.int64)
    ok = src != dst
    key = np.unique(dst[ok] * n + src[ok])
    src, dst = key % n, key // n
    w = scale * (2 * np.asarray(weights.random(src.size), dtype=np.float64) - 1)
    return _sorted(n, list(range(n)), tuple(range(n_inputs)), n - 1, src, dst, w)


def from_edges(edges: Sequence[Sequence[Any]], inputs: Sequence[Hashable],
               outputs: Sequence[Hashable], weights: Stream, *, scale: float = 1.0) -> Topology:
    """A graph from ``[from, to]`` or ``[from, to, weight]`` entries with named inputs/output.

    Nodes are renumbered: the inputs first, the other nodes in order of appearance, the output
    last; ``labels`` keeps the names. Missing weights are drawn from U(-scale, scale) in edge
    order.

    Parameters
    ----------
    edges
        The entries.
    inputs
        Names of the input nodes.
    outputs
        The one output's name.
    weights
        The stream missing weights are drawn from.
    scale
        Their range.

    Returns
    -------
    Topology

    Raises
    ------
    ConfigError
        For unknown input or output names, repeated edges, non-finite weights or edges into
        an input.

    Examples
    --------
    >>> from argnn_sim.rng import Streams
    >>> t = from_edges([["a", "h", 0.5], ["b", "h"], ["h", "y", -1.0]], ["a", "b"], ["y"],
    ...                Streams(0).weights)
    >>> t.labels, t.weight[t.dst == 3].tolist()
    (('a', 'b', 'h', 'y'), [-1.0])
    """
    names: list[Hashable] = []
    seen: set[Hashable] = set()
    for e in edges:
        for v in e[:2]:
            if v not in seen:
                seen.add(v)
                names.append(v)
    for key, given in (("inputs", inputs), ("outputs", outputs)):
        missing = [v for v in given if v not in seen]
        if missing or not given:
            raise ConfigError(f"network.{key} = {list(given)!r}: node(s) {missing!r} are not in "
                              "the graph; name existing nodes")
    if len(outputs) != 1:
        raise ConfigError(f"network.outputs = {list(outputs)!r}; exactly one output is supported")
    middle = [v for v in names if v not in set(inputs) and v != outputs[0]]
    labels = list(inputs) + middle + [outputs[0]]
    index = {v: i for i, v in enumerate(labels)}
    src = np.array([index[e[0]] for e in edges], dtype=np.int64)
    dst = np.array([index[e[1]] for e in edges], dtype=np.int64)
    if np.unique(dst * len(labels) + src).size != src.size:
        raise ConfigError("network.edges lists an edge twice; give each [from, to] once")
    drawn = scale * (2 * np.asarray(weights.random(len(edges)), dtype=np.float64) - 1)
    w = np.array([float(e[2]) if len(e) == 3 else drawn[i] for i, e in enumerate(edges)])
    if not np.all(np.isfinite(w)):
        raise ConfigError("network.edges has a NaN or infinite weight; weights must be finite")
    n_in = len(inputs)
    if np.any(dst < n_in):
        raise ConfigError("network.edges point into an input node; inputs take no input edges")
    return _sorted(len(labels), labels, tuple(range(n_in)), len(labels) - 1, src, dst, w)


class HasInputs(Protocol):
    """What :func:`build` needs of a task: its name and how many input nodes it has."""

    @property
    def name(self) -> str: ...

    @property
    def n_inputs(self) -> int: ...


def build(config: NetworkConfig, task: HasInputs, weights: Stream) -> Topology:
    """Build the initial graph that ``config`` describes, drawing weights from ``weights``.

    Parameters
    ----------
    config
        The ``[network]`` section.
    task
        The task (its number of inputs).
    weights
        The run's weight stream.

    Returns
    -------
    Topology

    Examples
    --------
    >>> from argnn_sim.config import NetworkConfig
    >>> from argnn_sim.rng import Streams
    >>> from argnn_sim.tasks import make_task
    >>> build(NetworkConfig(hidden=1), make_task("AND"), Streams(0).weights).n_edges
    6
    """
    if config.kind == "logic":
        return logic_circuit(task.n_inputs, config.hidden, weights, scale=config.weight_scale)
    if config.kind == "random":
        return random_graph(config.nodes, config.mean_degree, task.n_inputs, weights,
                            scale=config.weight_scale)
    if len(config.inputs) != task.n_inputs:
        raise ConfigError(f"network.inputs = {list(config.inputs)!r} names {len(config.inputs)} "
                          f"node(s) but task {task.name!r} has {task.n_inputs} inputs")
    return from_edges(config.edges, config.inputs, config.outputs, weights,
                      scale=config.weight_scale)


def from_networkx(graph: nx.DiGraph, inputs: Sequence[Hashable], outputs: Sequence[Hashable],
                  *, weight: str | None = "weight", **network_options: Any) -> NetworkConfig:
    """A ``[network]`` section for any ``networkx.DiGraph`` with named input and output nodes.

    Edges carry their ``weight`` attribute when present; otherwise weights are drawn.

    Parameters
    ----------
    graph
        The directed graph.
    inputs
        Its input nodes (as many as the task has).
    outputs
        Its one output node.
    weight
        The edge attribute holding weights (``None``: draw all weights).
    **network_options
        Other ``[network]`` keys (``weight_scale``).

    Returns
    -------
    NetworkConfig

    Examples
    --------
    >>> import networkx as nx
    >>> g = nx.DiGraph([("a", "h"), ("b", "h"), ("h", "y"), ("a", "y")])
    >>> cfg = from_networkx(g, inputs=["a", "b"], outputs=["y"])
    >>> cfg.kind, len(cfg.edges)
    ('edges', 4)
    """
    if not isinstance(graph, nx.DiGraph):
        raise ConfigError("from_networkx needs a networkx.DiGraph (directed); "
                          f"got {type(graph).__name__}")
    for key, given in (("inputs", inputs), ("outputs", outputs)):
        missing = [v for v in given if v not in graph]
        if missing or not given:
            raise ConfigError(f"network.{key} = {list(given)!r}: node(s) {missing!r} are not in "
                              "the graph; name existing nodes")
    edges: list[tuple[Any, ...]] = []
    for u, v, data in graph.edges(data=True):
        if weight is not None and weight in data:
            edges.append((u, v, float(data[weight])))
        else:
            edges.append((u, v))
    return NetworkConfig(kind="edges", edges=tuple(edges), inputs=tuple(inputs),
                         outputs=tuple(outputs), **network_options)
