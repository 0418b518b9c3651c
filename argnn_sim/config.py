"""Scenario configuration: frozen dataclasses, TOML loading and validation.

Every section of a scenario file maps to one dataclass below. Validation happens at
construction, so a :class:`Scenario` that exists is a valid one. Problems raise a single
:class:`ConfigError` whose message names the key, the bad value and what is allowed.

Examples
--------
>>> s = Scenario.from_dict({"task": {"gate": "AND"}, "network": {"hidden": 3}})
>>> s.task.gate, s.network.hidden, s.pruning.mode
('AND', 3, 'DW')
>>> Scenario.from_dict({"network": {"hiden": 3}})
Traceback (most recent call last):
...
argnn_sim.config.ConfigError: unknown key 'network.hiden' (did you mean 'network.hidden'?); allowed keys in [network]: kind, hidden, nodes, mean_degree, inputs, outputs, edges, weight_scale
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from .errors import ArgnnError
from .registry import TASK_KINDS

__all__ = [
    "ConfigError",
    "TaskConfig",
    "NetworkConfig",
    "ScheduleConfig",
    "ChannelConfig",
    "NodeConfig",
    "PruningConfig",
    "RngConfig",
    "RecordConfig",
    "FaultConfig",
    "Scenario",
    "load_scenario",
    "apply_overrides",
    "to_toml",
    "check_choice",
    "task_kind",
]

GATES = ("AND", "OR", "XOR", "NAND", "NOR", "XNOR", "PARITY")
NETWORK_KINDS = ("logic", "random", "edges")
SCHEDULES = ("sweep", "async")
DELAY_MODELS = ("constant", "uniform", "exponential", "lognormal")
POLICIES = ("spectral", "magnitude", "random", "none")
MODES = ("D", "DW")
RULES = ("reference", "local")
ELIGIBLE = ("cycles", "all")
RNG_MODES = ("default", "reference")
TRACE_LEVELS = ("full", "prunes", "none")
ARITHMETIC_CHOICES = ("auto", "reference", "portable")
MAX_BITS = 20  # a PARITY table of 2**20 rows; beyond, evaluation alone would take days
MAX_NAME = 100
MAX_LOG_SPREAD = 10.0  # lognormal delays: exp(10 z) already spans 1e-40 .. 1e40


class ConfigError(ArgnnError):
    """A scenario value is missing, unknown, of the wrong type or out of range."""


def _allowed(values: tuple[str, ...]) -> str:
    return ", ".join(repr(v) for v in values)


def check_choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    """Refuse ``value`` for ``key`` unless it is one of ``allowed`` (one :class:`ConfigError`).

    Parameters
    ----------
    key : str
        The key, as a user writes it (``"task.gate"``).
    value : str
        The value given.
    allowed : tuple of str
        What the key takes.
    """
    if value not in allowed:
        raise ConfigError(f"{key} = {value!r} is not allowed; choose one of {_allowed(allowed)}")


def _check_range(key: str, value: float, *, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, hi_open: bool = False, what: str = "") -> None:
    bad = isinstance(value, float) and math.isnan(value)
    if lo is not None and (value < lo or (lo_open and value == lo)):
        bad = True
    if hi is not None and (value > hi or (hi_open and value == hi)):
        bad = True
    if bad:
        if not what:
            left = "(" if lo_open else "["
            right = ")" if hi_open else "]"
            what = f"in {left}{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}{right}"
        raise ConfigError(f"{key} = {value!r} is out of range; it must be {what}")


def _as_float(v: Any) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf


def _check_node_name(key: str, v: Any) -> None:
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        raise ConfigError(f"{key} names node {_short(v)}; node names are strings or whole "
                          "numbers")
    if isinstance(v, str) and not v:
        raise ConfigError(f"{key} names a node \"\"; node names must not be empty")


def _check_hears(edges: list[tuple[Any, ...]], inputs: tuple[Any, ...], output: Any) -> None:
    """The output must be reachable from an input, or it could never learn anything."""
    into: dict[Any, list[Any]] = {}
    for e in edges:
        into.setdefault(e[1], []).append(e[0])
    if output not in into:
        raise ConfigError(f"network.outputs node {output!r} has no input edges, so it can never "
                          "hear anything; add an edge into it to network.edges")
    seen, todo = {output}, [output]
    while todo:
        for u in into.get(todo.pop(), ()):
            if u not in seen:
                seen.add(u)
                todo.append(u)
    if not seen & set(inputs):
        raise ConfigError(f"network.outputs node {output!r} cannot be reached from any input "
                          "node, so it can never learn the task; add edges that lead from an "
                          "input to it")


def task_kind(name: str) -> Any:
    """The registered task kind ``name`` (:class:`argnn_sim.tasks.TaskKind`).

    Parameters
    ----------
    name : a ``task.kind``.

    Returns
    -------
    TaskKind

    Raises
    ------
    ConfigError
        For a kind that is not registered, naming those that are.
    """
    check_choice("task.kind", name, TASK_KINDS.names())
    return TASK_KINDS.get(name)


def _key_not_of_kind(key: str, kind: str) -> str:
    """The message for ``task.<key>`` given to a kind that does not read it."""
    owners = [k for k in TASK_KINDS.names() if key in TASK_KINDS.get(k).keys]
    if owners:
        keys = TASK_KINDS.get(owners[0]).keys
        if len(keys) <= 3:  # a small kind: name all its keys
            return (f"task.{' and task.'.join(keys)} apply to task.kind = {owners[0]!r}; set "
                    f"kind = \"{owners[0]}\" or remove them")
        return (f"task.{key} applies to task.kind = {owners[0]!r}; set kind = \"{owners[0]}\" "
                "or remove it")
    return f"task.{key} does not apply to task.kind = {kind!r}; remove it"


def _check_name(name: Any) -> None:
    """A run's name becomes a folder, ``results/<name>``: one plain path component."""
    bad = ""
    if not isinstance(name, str) or not name.strip():
        bad = "is empty"
    elif len(name) > MAX_NAME:
        bad = f"is longer than {MAX_NAME} characters"
    elif "/" in name or "\\" in name or name in (".", ".."):
        bad = "is a path, not a name"
    elif name.startswith(".") or name != name.strip():
        bad = "starts with a dot or a space, or ends with a space"
    elif any(ord(c) < 32 or ord(c) == 127 for c in name):
        bad = "holds a control character"
    if bad:
        raise ConfigError(f"name = {_short(name)} {bad}; a scenario's name becomes its results "
                          "folder: give a plain name such as \"xor-h2\" (letters, digits, - _ .)")


@dataclass(frozen=True)
class TaskConfig:
    """``[task]``: what the network learns.

    Attributes
    ----------
    kind
        ``truth`` (a truth table: ``gate`` and ``bits``) or ``series`` (a road-sensor
        network forecasting its own readings, :mod:`argnn_sim.series`; the network is built
        from the road graph, so ``[network]`` keys other than ``weight_scale`` do not
        apply).
    gate
        One of AND, OR, XOR, NAND, NOR, XNOR (two inputs) or PARITY (``bits`` inputs).
    data
        (series) ``"sz_taxi"`` or an ``.npz`` of readings (key ``data``, (T, N[, F])).
    data_root
        (series) the folder holding ``SZ_TAXI/`` (default: ``$ARGNN_DATA``); relative
        ``data`` and ``adjacency`` paths are read under it.
    adjacency
        (series) the road graph: an N x N matrix (``.npy`` or comma-separated) or a
        ``from,to[,cost]`` CSV; optional for ``sz_taxi``.
    horizon
        (series) the target is the reading ``horizon`` steps ahead (1: 15 minutes on
        SZ-taxi).
    hops
        (series) a predictor hears the input nodes of the sensors within ``hops`` road hops
        (0: only its own sensor).
    hidden
        (series) hidden nodes per sensor (0: inputs feed the predictors directly).
    passes
        (series) passes over the training split (0: no training, evaluation only).
    sensors
        (series) the sensors that have an input node (empty: all); the others are forecast
        without their own reading.
    train_steps
        (series) use only the first that many steps of the training and test splits (0: all
        of them); for quick runs.
    test_steps
        (series) use only the first that many steps of the training and test splits (0: all
        of them); for quick runs.
    """

    SECTION: ClassVar[str] = "task"
    kind: str = "truth"
    gate: str = "XOR"
    bits: int = 2
    data: str = ""
    data_root: str = ""
    adjacency: str = ""
    horizon: int = 1
    hops: int = 1
    hidden: int = 0
    passes: int = 1
    sensors: tuple = ()
    train_steps: int = 0
    test_steps: int = 0

    def __post_init__(self) -> None:
        check_choice("task.kind", self.kind, TASK_KINDS.names())
        object.__setattr__(self, "gate", str(self.gate).upper())
        _check_range("task.bits", self.bits, lo=1, hi=MAX_BITS,
                     what=f"a whole number from 1 to {MAX_BITS} (the truth table has 2**bits rows)")
        _check_range("task.horizon", self.horizon, lo=1, hi=10_000,
                     what="a whole number of steps from 1 to 10000")
        _check_range("task.hops", self.hops, lo=0, hi=1000, what="a whole number from 0 to 1000")
        _check_range("task.hidden", self.hidden, lo=0, hi=64,
                     what="a whole number of hidden nodes per sensor from 0 to 64")
        _check_range("task.passes", self.passes, lo=0, hi=10_000,
                     what="a whole number from 0 (evaluation only) to 10000")
        _check_range("task.train_steps", self.train_steps, lo=0, what="a whole number >= 0 (0: all)")
        _check_range("task.test_steps", self.test_steps, lo=0, what="a whole number >= 0 (0: all)")
        if not isinstance(self.sensors, (list, tuple)):
            raise ConfigError(f"task.sensors = {_short(self.sensors)} must be a list of sensor "
                              "numbers")
        for v in self.sensors:
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ConfigError(f"task.sensors holds {_short(v)}; sensor numbers are whole "
                                  "numbers >= 0")
        if len(set(self.sensors)) != len(self.sensors):
            raise ConfigError(f"task.sensors = {_short(list(self.sensors))} names a sensor twice")
        object.__setattr__(self, "sensors", tuple(self.sensors))
        kind = task_kind(self.kind)
        for f in dataclasses.fields(self):
            if f.name != "kind" and f.name not in kind.keys and getattr(self, f.name) != f.default:
                raise ConfigError(_key_not_of_kind(f.name, self.kind))
        kind.check_config(self)


@dataclass(frozen=True)
class NetworkConfig:
    """``[network]``: the initial directed weighted graph.

    Attributes
    ----------
    kind
        ``logic`` (the reference circuit: inputs, ``hidden`` hidden nodes, one output, every
        ordered pair except into inputs), ``random`` (``nodes`` nodes with mean in-degree
        ``mean_degree``) or ``edges`` (an explicit edge list with named ``inputs`` and
        ``outputs``).
    weight_scale
        Initial weights are drawn from U(-weight_scale, weight_scale).
    """

    SECTION: ClassVar[str] = "network"
    kind: str = "logic"
    hidden: int = 2
    nodes: int = 100
    mean_degree: float = 4.0
    inputs: tuple = ()
    outputs: tuple = ()
    edges: tuple = ()
    weight_scale: float = 1.0

    def __post_init__(self) -> None:
        check_choice("network.kind", self.kind, NETWORK_KINDS)
        _check_range("network.hidden", self.hidden, lo=0, what="a whole number >= 0")
        _check_range("network.nodes", self.nodes, lo=2, what="a whole number >= 2")
        _check_range("network.mean_degree", self.mean_degree, lo=0, lo_open=True,
                     what="a number > 0")
        _check_range("network.weight_scale", self.weight_scale, lo=0, lo_open=True,
                     what="a number > 0")
        if self.kind == "random" and self.mean_degree > self.nodes - 1:
            raise ConfigError(f"network.mean_degree = {self.mean_degree!r} exceeds what "
                              f"{self.nodes} nodes allow (at most nodes - 1 = {self.nodes - 1} "
                              "input edges per node)")
        if not isinstance(self.edges, (list, tuple)):
            raise ConfigError(f"network.edges = {_short(self.edges)} must be a list of "
                              "[from, to] or [from, to, weight]")
        edges = []
        for e in self.edges:
            if not isinstance(e, (list, tuple)) or len(e) not in (2, 3):
                raise ConfigError(f"network.edges entry {_short(e)} must be [from, to] or "
                                  "[from, to, weight]")
            e = tuple(e)
            _check_node_name("network.edges", e[0])
            _check_node_name("network.edges", e[1])
            if len(e) == 3:
                w = e[2]
                if isinstance(w, bool) or not isinstance(w, (int, float)) or \
                        not math.isfinite(_as_float(w)):
                    raise ConfigError(f"network.edges entry {_short(list(e))} has weight "
                                      f"{_short(w)}; weights must be finite numbers")
            if e[0] == e[1]:
                raise ConfigError(f"network.edges entry {_short(list(e))} is a self-loop; "
                                  "self-loops are not allowed")
            edges.append(e)
        for key in ("inputs", "outputs"):
            given = getattr(self, key)
            if not isinstance(given, (list, tuple)):
                raise ConfigError(f"network.{key} = {_short(given)} must be a list of node names")
            for v in given:
                _check_node_name(f"network.{key}", v)
            if len(set(given)) != len(given):
                raise ConfigError(f"network.{key} = {_short(list(given))} names a node twice")
        object.__setattr__(self, "edges", tuple(edges))
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "outputs", tuple(self.outputs))
        if self.kind == "edges":
            if not edges:
                raise ConfigError("network.kind = 'edges' needs network.edges "
                                  "(a list of [from, to] or [from, to, weight])")
            names = {e[0] for e in edges} | {e[1] for e in edges}
            for key in ("inputs", "outputs"):
                given = getattr(self, key)
                if not given:
                    raise ConfigError(f"network.{key} is empty; kind 'edges' needs the names of "
                                      f"its {key} node(s)")
                missing = [v for v in given if v not in names]
                if missing:
                    raise ConfigError(f"network.{key} = {list(given)!r} names node(s) "
                                      f"{missing!r} that are not in the graph; "
                                      f"nodes are {sorted(map(str, names))[:20]!r}")
            if len(self.outputs) != 1:
                raise ConfigError(f"network.outputs = {list(self.outputs)!r}; exactly one output "
                                  "node is supported")
            into_inputs = [e for e in edges if e[1] in set(self.inputs)]
            if into_inputs:
                raise ConfigError(f"network.edges {[list(e[:2]) for e in into_inputs][:5]!r} point "
                                  "into an input node; input nodes take no input edges")
            both = set(self.inputs) & set(self.outputs)
            if both:
                raise ConfigError(f"network.outputs names input node(s) {sorted(map(str, both))}; "
                                  "the output must be another node")
            _check_hears(edges, self.inputs, self.outputs[0])


@dataclass(frozen=True)
class ScheduleConfig:
    """``[schedule]``: when nodes wake.

    Attributes
    ----------
    kind
        ``sweep`` (per input, ``sweeps`` passes, each a fresh random order, zero delay) or
        ``async`` (each node on its own Poisson clock of rate ``wake_rate``; inputs change
        every ``input_period`` time units).
    inputs
        Number of training inputs presented.
    evaluate
        After training, present every truth-table row (in a random order) with learning off
        and report the error (the default). ``false`` ends the run after training, drawing
        nothing more: the published Fig. 4 timing runs.
    """

    SECTION: ClassVar[str] = "schedule"
    kind: str = "sweep"
    inputs: int = 2000
    sweeps: int = 10
    eval_sweeps: int = 10
    wake_rate: float = 1.0
    input_period: float = 10.0
    evaluate: bool = True

    def __post_init__(self) -> None:
        check_choice("schedule.kind", self.kind, SCHEDULES)
        _check_range("schedule.inputs", self.inputs, lo=0, what="a whole number >= 0")
        _check_range("schedule.sweeps", self.sweeps, lo=1, what="a whole number >= 1")
        _check_range("schedule.eval_sweeps", self.eval_sweeps, lo=1, what="a whole number >= 1")
        _check_range("schedule.wake_rate", self.wake_rate, lo=0, lo_open=True, what="a rate > 0")
        _check_range("schedule.input_period", self.input_period, lo=0, lo_open=True,
                     what="a duration > 0")


@dataclass(frozen=True)
class ChannelConfig:
    """``[channel]``: link delay and loss.

    Attributes
    ----------
    model
        Delay distribution: ``constant`` (always ``delay``), ``uniform`` (``delay`` ±
        ``spread``), ``exponential`` (mean ``delay``) or ``lognormal`` (mean ``delay``,
        log-standard-deviation ``spread``).
    loss
        Probability that a value or error message is dropped, in [0, 1).
    """

    SECTION: ClassVar[str] = "channel"
    model: str = "constant"
    delay: float = 0.0
    spread: float = 0.0
    loss: float = 0.0

    def __post_init__(self) -> None:
        check_choice("channel.model", self.model, DELAY_MODELS)
        _check_range("channel.delay", self.delay, lo=0, what="a delay >= 0")
        _check_range("channel.spread", self.spread, lo=0, what="a number >= 0")
        _check_range("channel.loss", self.loss, lo=0, hi=1, hi_open=True,
                     what="a probability in [0, 1)")
        if self.model == "lognormal" and self.spread > MAX_LOG_SPREAD:
            raise ConfigError(f"channel.spread = {self.spread!r} is out of range for a lognormal "
                              f"delay; give a log-standard-deviation of at most "
                              f"{MAX_LOG_SPREAD:g} (delays then already span over 40 orders "
                              "of magnitude)")
        if self.model == "uniform" and self.spread > self.delay:
            raise ConfigError(f"channel.spread = {self.spread!r} is larger than channel.delay = "
                              f"{self.delay!r}; a uniform delay needs spread <= delay")


@dataclass(frozen=True)
class NodeConfig:
    """``[node]``: the local rule's constants (defaults are the reference's).

    Attributes
    ----------
    arithmetic
        Which primitives compute Eq. 1-2 (:mod:`argnn_sim.rule`): ``reference`` (NumPy's
        ``exp`` ufunc and BLAS ``ddot``, as the published program: equal to it on the
        machine at hand; SimPy and batched engines), ``portable`` (ours: IEEE basic
        operations only, the same bits in every engine and on every CPU) or ``auto`` (the
        default: ``reference`` when ``rng.mode = "reference"``, else ``portable``).
    """

    SECTION: ClassVar[str] = "node"
    error_factor: float = 0.15
    clip: float = 10.0
    bias: bool = False
    arithmetic: str = "auto"

    def __post_init__(self) -> None:
        _check_range("node.error_factor", self.error_factor, lo=0, lo_open=True,
                     what="a number > 0")
        _check_range("node.clip", self.clip, lo=0, lo_open=True, what="a number > 0")
        check_choice("node.arithmetic", self.arithmetic, ARITHMETIC_CHOICES)


@dataclass(frozen=True)
class PruningConfig:
    """``[pruning]``: which edges a node removes, and when.

    Attributes
    ----------
    policy
        ``spectral``, ``magnitude`` (drop the smallest input weight below ``threshold``),
        ``random`` (with probability ``rate`` per activation drop a random input edge) or
        ``none``.
    mode
        Degree matrix of the local Laplacian, ``D`` (edge counts) or ``DW`` (weights).
    rule
        ``reference`` (the published implementation, exactly) or ``local`` (ours: only the
        node's own input edges, imaginary parts below ``tol`` ignored).
    min_in_degree
        The local, magnitude and random policies never take a node below this.
    budget
        At most this many prunes in the whole run (0: no cap). An experimenter's control for
        comparing rules at equal numbers of removed edges, not a decentralized mechanism:
        the count is shared by all nodes.
    eligible
        (local rule) which own input edges a genuine conjugate pair may remove: ``cycles``
        (the default: only the weaker half of a 2-cycle) or ``all`` (any input edge; the
        in-neighbour with the largest share of the pair's eigenvector goes). Edges from
        input nodes never lie on a cycle, so only ``all`` can drop a sensor's edge.
    outputs
        (local rule) whether output nodes prune their own input edges too (default false:
        the output keeps its read-out). A series task's predictors are all outputs.
    """

    SECTION: ClassVar[str] = "pruning"
    policy: str = "spectral"
    mode: str = "DW"
    rule: str = "reference"
    tol: float = 1e-9
    threshold: float = 0.05
    rate: float = 0.001
    min_in_degree: int = 1
    budget: int = 0
    eligible: str = "cycles"
    outputs: bool = False

    def __post_init__(self) -> None:
        mode = str(self.mode).upper().replace("_", "")
        object.__setattr__(self, "mode", mode)
        check_choice("pruning.policy", self.policy, POLICIES)
        check_choice("pruning.mode", self.mode, MODES)
        check_choice("pruning.rule", self.rule, RULES)
        _check_range("pruning.tol", self.tol, lo=0, what="a number >= 0")
        _check_range("pruning.threshold", self.threshold, lo=0, what="a number >= 0")
        _check_range("pruning.rate", self.rate, lo=0, hi=1, what="a probability in [0, 1]")
        _check_range("pruning.min_in_degree", self.min_in_degree, lo=0, what="a whole number >= 0")
        _check_range("pruning.budget", self.budget, lo=0, what="a whole number >= 0 (0: no cap)")
        check_choice("pruning.eligible", self.eligible, ELIGIBLE)
        if (self.eligible != "cycles" or self.outputs) and self.policy != "none" and \
                (self.policy != "spectral" or self.rule != "local"):
            raise ConfigError("pruning.eligible and pruning.outputs belong to the local spectral "
                              "rule; set pruning.policy = \"spectral\" and pruning.rule = "
                              "\"local\", or remove them")


@dataclass(frozen=True)
class RngConfig:
    """``[rng]``: ``default`` (independent SeedSequence streams) or ``reference`` (one legacy
    ``RandomState(seed)`` drawn in the reference's order, to reproduce it bit for bit)."""

    SECTION: ClassVar[str] = "rng"
    mode: str = "default"

    def __post_init__(self) -> None:
        check_choice("rng.mode", self.mode, RNG_MODES)


@dataclass(frozen=True)
class RecordConfig:
    """``[record]``: trace level. ``full``: for the watched nodes, the eigenvalues of every
    spectral check and (async) the age of the news every activation used; ``prunes``:
    only prune events and curves; ``none``: summary numbers only.

    Attributes
    ----------
    watch
        At level ``full``, whose traces are kept. A network with at most ``watch`` non-input
        nodes has all of them watched (every logic circuit of the papers); a larger one has
        the output node and ``watch - 1`` others, spread evenly over the node numbers (the
        same nodes in every run). 0 watches every node. Checks are counted for every node
        either way. Traces of 10^5 nodes would not fit in memory, nor a figure; and
        computing spectra nobody keeps costs LAPACK time.
    """

    SECTION: ClassVar[str] = "record"
    traces: str = "full"
    watch: int = 16

    def __post_init__(self) -> None:
        check_choice("record.traces", self.traces, TRACE_LEVELS)
        _check_range("record.watch", self.watch, lo=0, what="a whole number >= 0 (0: every node)")


@dataclass(frozen=True)
class FaultConfig:
    """``[faults]``: node crashes with recovery.

    Every non-input node crashes on its own Poisson clock of rate ``crash_rate`` (crashes
    per node per time unit; 0: no faults) and stays down for an exponential time of mean
    ``downtime``. A node that is down neither wakes nor hears: value and error messages
    that reach it are lost. It recovers with its weights (they are its persistent state);
    with ``reset = true`` it also forgets its registers (what neighbours last told it).
    Faults start at time ``start`` and never hit the input nodes. In the sweep schedule one
    time unit is one pass. ``during_eval = false`` (the default) ends the faults when
    evaluation starts (every node is brought back), so the error measures what was learned
    under faults; ``true`` keeps crashing through the evaluation too.
    """

    SECTION: ClassVar[str] = "faults"
    crash_rate: float = 0.0
    downtime: float = 10.0
    reset: bool = False
    start: float = 0.0
    during_eval: bool = False

    def __post_init__(self) -> None:
        _check_range("faults.crash_rate", self.crash_rate, lo=0, what="a rate >= 0 (0: no faults)")
        _check_range("faults.downtime", self.downtime, lo=0, lo_open=True, what="a duration > 0")
        _check_range("faults.start", self.start, lo=0, what="a time >= 0")


_SECTIONS: dict[str, type] = {
    "task": TaskConfig,
    "network": NetworkConfig,
    "schedule": ScheduleConfig,
    "channel": ChannelConfig,
    "node": NodeConfig,
    "pruning": PruningConfig,
    "rng": RngConfig,
    "record": RecordConfig,
    "faults": FaultConfig,
}
_TOP_KEYS = ("name", "seed")


def _field_types(cls: type) -> dict[str, type]:
    out = {}
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else None
        out[f.name] = type(default) if default is not None else str
    return out


def _coerce(key: str, value: Any, typ: type) -> Any:
    if typ is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} = {value!r} must be true or false")
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if not (isinstance(value, float) and value.is_integer()):
                raise ConfigError(f"{key} = {_short(value)} must be a whole number")
            value = int(value)
        if abs(value) >= 2**63:
            raise ConfigError(f"{key} = {_short(value)} is too large; give a whole number "
                              "below 2**63")
        return value
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} = {_short(value)} must be a number")
        try:
            x = float(value)
        except OverflowError:
            raise ConfigError(f"{key} = {_short(value)} is too large for a float; give a "
                              "finite number") from None
        if not math.isfinite(x):
            raise ConfigError(f"{key} = {value!r} is not a finite number; give a finite value")
        return x
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key} = {_short(value)} must be a string")
        return value
    if typ is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{key} = {_short(value)} must be a list")
        return tuple(tuple(v) if isinstance(v, list) else v for v in value)
    return value


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters (a value may be 400 digits long)."""
    try:
        text = repr(value)
    except ValueError:  # an int too long for repr
        return f"<a whole number of about {value.bit_length() * 0.30103:.0f} digits>"
    return text if len(text) <= limit else text[:limit - 5] + "[...]"


def _unknown(key: str, section: str | None, allowed: list[str]) -> ConfigError:
    guess = difflib.get_close_matches(key.split(".")[-1], allowed, n=1)
    hint = ""
    if guess:
        full = f"{section}.{guess[0]}" if section else guess[0]
        hint = f" (did you mean {full!r}?)"
    elif section is None and "." in key:  # a misspelt section: prunning.mode
        head, _, rest = key.partition(".")
        names = [a.split(".")[0] for a in allowed]
        near = difflib.get_close_matches(head, names, n=1)
        if near:
            hint = f" (did you mean {near[0] + '.' + rest!r}?)"
    where = f"in [{section}]" if section else "at the top level"
    return ConfigError(f"unknown key {key!r}{hint}; allowed keys {where}: {', '.join(allowed)}")


def _section_from_dict(cls: type, data: Any) -> Any:
    section = cls.SECTION  # type: ignore[attr-defined]
    if not isinstance(data, Mapping):
        raise ConfigError(f"[{section}] must be a table of keys, got {data!r}")
    types = _field_types(cls)
    kwargs = {}
    for k, v in data.items():
        if k not in types:
            raise _unknown(f"{section}.{k}", section, list(types))
        kwargs[k] = _coerce(f"{section}.{k}", v, types[k])
    return cls(**kwargs)


@dataclass(frozen=True)
class Scenario:
    """A complete, validated experiment description.

    Build one from keywords (``Scenario(task=TaskConfig(gate="AND"))``), from a dict of
    sections (:meth:`from_dict`), or from a TOML file (:func:`load_scenario`).
    """

    name: str = "default"
    seed: int = 0
    task: TaskConfig = field(default_factory=TaskConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    node: NodeConfig = field(default_factory=NodeConfig)
    pruning: PruningConfig = field(default_factory=PruningConfig)
    rng: RngConfig = field(default_factory=RngConfig)
    record: RecordConfig = field(default_factory=RecordConfig)
    faults: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed = {_short(self.seed)} must be a whole number >= 0")
        if self.rng.mode == "reference":
            if self.seed >= 2**32:
                raise ConfigError(f"seed = {self.seed} is too large for rng.mode = 'reference' "
                                  "(a legacy RandomState takes 0 <= seed < 2**32)")
            if self.schedule.kind != "sweep" or self.network.kind != "logic" or \
                    not task_kind(self.task.kind).reference:
                raise ConfigError("rng.mode = 'reference' reproduces the reference's sweep runs "
                                  "on its logic circuit; it needs schedule.kind = 'sweep' and "
                                  "network.kind = 'logic' (use rng.mode = 'default' otherwise)")
        task_kind(self.task.kind).check_scenario(self)
        if self.schedule.kind == "sweep" and (self.channel.delay > 0 or self.channel.loss > 0):
            raise ConfigError("the sweep schedule has zero delay and no loss; channel.delay and "
                              "channel.loss need schedule.kind = 'async'")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build a scenario from nested dicts (TOML sections); unknown keys are errors.

        Parameters
        ----------
        data : a mapping of section names (``task``, ``network``, ...) to mappings of keys,
            and the top-level keys ``name`` and ``seed``. Missing keys take their defaults.

        Returns
        -------
        Scenario

        Raises
        ------
        ConfigError
            One message naming the key, the bad value and what is allowed.

        Examples
        --------
        >>> Scenario.from_dict({"task": {"gate": "and"}, "seed": 3}).task.gate
        'AND'
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"a scenario must be a table of sections, got {type(data).__name__}")
        kwargs: dict[str, Any] = {}
        allowed = list(_TOP_KEYS) + list(_SECTIONS)
        for k, v in data.items():
            if k in _SECTIONS:
                kwargs[k] = _section_from_dict(_SECTIONS[k], v)
            elif k == "name":
                kwargs[k] = _coerce("name", v, str)
            elif k == "seed":
                kwargs[k] = _coerce("seed", v, int)
            else:
                raise _unknown(k, None, allowed)
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON- and TOML-friendly); :meth:`from_dict` inverts it.

        Returns
        -------
        dict

        Examples
        --------
        >>> d = Scenario().to_dict()
        >>> d["network"]["hidden"], Scenario.from_dict(d) == Scenario()
        (2, True)
        """
        out: dict[str, Any] = {"name": self.name, "seed": self.seed}
        for sec in _SECTIONS:
            part = getattr(self, sec)
            out[sec] = {f.name: _plain(getattr(part, f.name)) for f in dataclasses.fields(part)}
        return out

    def replace(self, **changes: Any) -> Scenario:
        """A copy with ``section.key`` (dotted) or top-level keys changed, validated.

        Parameters
        ----------
        **changes : dotted keys and their new values (``replace(**{"network.hidden": 4})``).

        Returns
        -------
        Scenario

        Examples
        --------
        >>> Scenario().replace(**{"network.hidden": 4, "seed": 9}).network.hidden
        4
        """
        return apply_overrides(self, changes)


def _plain(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    return v


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file.

    Parameters
    ----------
    path : the file.

    Returns
    -------
    Scenario

    Raises
    ------
    ConfigError
        If the file is missing, is not valid TOML, or holds an invalid value.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "s.toml"
    >>> _ = p.write_text(chr(10).join(["[task]", 'gate = "AND"']))
    >>> load_scenario(p).task.gate
    'AND'
    """
    d = read_toml(path, "scenario")
    if isinstance(d.get("axes"), dict) or isinstance(d.get("base"), dict):
        raise ConfigError(f"{str(path)!r} is a sweep grid (it has [axes] or [base]), not one "
                          f"scenario; run it with: argnn sweep {path} --out DIR")
    return Scenario.from_dict(d)


def read_toml(path: str | os.PathLike[str], what: str) -> dict[str, Any]:
    """Parse a TOML file; a missing file or bad TOML is one :class:`ConfigError`.

    Parameters
    ----------
    path
        The file.
    what
        What it should be, for the message ("scenario", "grid").

    Returns
    -------
    dict
    """
    p = Path(path)
    if p.is_dir():
        raise ConfigError(f"{what} file {str(p)!r} is a folder; give the path to a .toml file")
    if not p.is_file():
        raise ConfigError(f"{what} file not found: {str(p)!r}; give the path to a .toml file")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not a UTF-8 text file (byte {exc.start}); save the {what} "
                          "as UTF-8 TOML") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ConfigError(f"{p}: a value cannot be read ({exc})") from None


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``section.key=value``; the value is read as TOML, else as a bare string.

    Parameters
    ----------
    text : one ``--set`` argument.

    Returns
    -------
    (key, value)

    Examples
    --------
    >>> parse_override("network.hidden=4"), parse_override("task.gate=AND")
    (('network.hidden', 4), ('task.gate', 'AND'))
    """
    if "=" not in text:
        raise ConfigError(f"--set {text!r} must look like section.key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    raw = raw.strip()
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    except ValueError as exc:  # an integer of more than 4300 digits
        raise ConfigError(f"--set {key}: the value cannot be read ({exc})") from None
    return key, value


def apply_overrides(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """Return ``scenario`` with dotted-key changes applied and validated.

    Parameters
    ----------
    scenario : the scenario to start from.
    changes : dotted keys (``"pruning.mode"``) or top-level keys (``"seed"``) and values.

    Returns
    -------
    Scenario

    Raises
    ------
    ConfigError
        For an unknown key or a value that is not allowed.

    Examples
    --------
    >>> apply_overrides(Scenario(), {"pruning.mode": "D"}).pruning.mode
    'D'
    """
    data = scenario.to_dict()
    for key, value in changes.items():
        parts = key.split(".")
        if len(parts) == 1:
            if key not in _TOP_KEYS:
                raise _unknown(key, None, list(_TOP_KEYS) + list(_SECTIONS))
            data[key] = value
        elif len(parts) == 2 and parts[0] in _SECTIONS:
            data[parts[0]][parts[1]] = value
        else:
            raise _unknown(key, None, [f"{s}.<key>" for s in _SECTIONS])
    return Scenario.from_dict(data)


def to_toml(scenario: Scenario) -> str:
    """The scenario as TOML text (readable by :func:`~argnn_sim.config.load_scenario`).

    Parameters
    ----------
    scenario : Scenario
        The scenario.

    Returns
    -------
    str

    Examples
    --------
    >>> print(to_toml(Scenario()).splitlines()[0])
    name = "default"
    """
    d = scenario.to_dict()
    lines = [f"name = {json.dumps(d.pop('name'))}", f"seed = {d.pop('seed')}"]
    for sec, items in d.items():
        lines.append(f"\n[{sec}]")
        for k, v in items.items():
            lines.append(f"{k} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, str):
        return json.dumps(v)
    return repr(v)
