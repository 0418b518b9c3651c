"""What a scenario will cost, estimated before anything is built, and the limits argnn keeps.

:func:`estimate` sizes a scenario from its configuration alone: nodes, edges, truth-table
rows, the memory the simulator will hold and the number of node activations (and the
messages they send). :func:`check_resources` refuses, with the estimate in the message, a
scenario that needs more memory than the machine has available, or so much work that it
would run for days (an infinite-looking rate, a huge network, a 40-bit parity table): such a
run would otherwise die of a memory error after a long wait, or never end.

The per-edge cost is measured by ``python bench/memory.py`` (peak memory of one run in a
fresh process, trace level ``prunes``): about 390-440 bytes per edge on the logic circuit
and 900-920 on a sparse random graph with the SimPy engine, 470 with the compiled one. The
estimate uses 1,100 bytes per edge, plus 4 KB per node and the interpreter's 200 MB, so it
stays above every measured case.

Examples
--------
>>> from argnn_sim.config import Scenario
>>> e = estimate(Scenario())
>>> e.nodes, e.edges, e.rows
(5, 12.0, 4)
>>> check_resources(Scenario.from_dict({"network": {"hidden": 10**6}}))
Traceback (most recent call last):
...
argnn_sim.errors.ResourceError: this scenario needs about ... of memory (1,000,003 nodes, ~1e+12 edges) and this machine has ... available; make the network smaller (network.hidden, network.nodes or network.mean_degree)
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from .config import ConfigError, Scenario, task_kind
from .errors import ResourceError

__all__ = ["TooLarge", "Estimate", "estimate", "check_resources", "check_series", "available_memory",
           "MAX_OPERATIONS", "BYTES_PER_EDGE"]

BYTES_PER_EDGE = 1100
BYTES_PER_NODE = 4000
BASE_BYTES = 200 * 2**20  # the interpreter, NumPy, SimPy
# Activations x (1 + mean in-degree): 1e11 is days of work for any engine.
MAX_OPERATIONS = 1e11


class TooLarge(ConfigError):
    """A run an engine covers but whose network, once built, exceeds it (e.g. the compiled
    engine's stars for the reference rule): ``engine="auto"`` then runs it on the SimPy
    engine and says why; asked for by name, the engine refuses it with this error."""


@dataclass(frozen=True)
class Estimate:
    """The size of one run, before it is built."""

    nodes: int
    edges: float
    rows: int
    bytes: float
    activations: float
    operations: float


def estimate(sc: Scenario) -> Estimate | None:
    """Nodes, edges, memory and work of a run of ``sc``, from its configuration alone
    (its task kind sizes it: :meth:`argnn_sim.tasks.TaskKind.estimate`).

    Parameters
    ----------
    sc : Scenario
        The scenario.

    Returns
    -------
    Estimate or None
        ``None`` for a task sized only once its data is read (a series: checked then by
        :func:`check_series`).
    """
    return task_kind(sc.task.kind).estimate(sc)


def network_estimate(sc: Scenario, n_in: int, rows: int) -> Estimate:
    """:func:`estimate` of a table task with ``n_in`` inputs and ``rows`` rows.

    Parameters
    ----------
    sc : Scenario
        The scenario (its network and schedule).
    n_in : int
        The task's inputs (an explicit edge list names its own).
    rows : int
        The table's rows (one evaluation step each).

    Returns
    -------
    Estimate
    """
    net = sc.network
    if net.kind == "edges":
        n_in = len(net.inputs)
    if net.kind == "logic":
        nodes = n_in + net.hidden + 1
        edges = float(nodes) * (nodes - 1) - n_in * (nodes - 1)
        dense = 3 * 8.0 * nodes * nodes  # the circuit is built from a dense weight matrix
    elif net.kind == "random":
        nodes = net.nodes
        edges = float(net.mean_degree) * (nodes - n_in)
        dense = 0.0
    else:
        names = {e[0] for e in net.edges} | {e[1] for e in net.edges}
        nodes = len(names)
        edges = float(len(net.edges))
        dense = 0.0
    table = 4 * 8.0 * rows * (n_in + 1)
    return _cost(sc, nodes, edges, n_in, float(sc.schedule.inputs), rows, dense + table)


def _cost(sc: Scenario, nodes: int, edges: float, n_in: int, inputs: float, rows: int,
          extra: float) -> Estimate:
    """Memory and work of a run of ``nodes`` and ``edges`` presenting ``inputs`` training
    steps and ``rows`` evaluation steps on ``sc``'s schedule; ``extra`` bytes of data."""
    mem = BASE_BYTES + BYTES_PER_EDGE * edges + BYTES_PER_NODE * nodes + extra
    workers = max(nodes - n_in, 1)
    s = sc.schedule
    if s.kind == "sweep":
        train = inputs * s.sweeps * workers
        evals = float(rows) * s.eval_sweeps * workers if s.evaluate else 0.0
        duration = inputs * s.sweeps
    else:
        per_input = s.wake_rate * s.input_period * workers
        train = inputs * per_input
        evals = float(rows) * per_input if s.evaluate else 0.0
        duration = (inputs + (rows if s.evaluate else 0)) * s.input_period
    crashes = sc.faults.crash_rate * workers * duration
    activations = train + evals
    operations = activations * (1.0 + edges / workers) + 2 * crashes
    return Estimate(nodes=int(nodes), edges=edges, rows=int(rows), bytes=mem,
                    activations=activations, operations=operations)


def check_series(sc: Scenario, *, nodes: int, edges: float, n_inputs: int, train_steps: int,
                 test_steps: int, data_bytes: float, available: float | None = None,
                 max_operations: float = MAX_OPERATIONS) -> Estimate:
    """:func:`check_resources` for a series task, once its data is read and before its
    network is built (a series network's size depends on the data).

    Parameters
    ----------
    sc
        The scenario.
    nodes
        The network it will build.
    edges
        The network it will build.
    n_inputs
        The network it will build.
    train_steps
        Training steps presented (all passes).
    test_steps
        Evaluation steps.
    data_bytes
        The series' arrays.
    available
        As :func:`check_resources`.
    max_operations
        As :func:`check_resources`.

    Returns
    -------
    Estimate

    Raises
    ------
    ResourceError
        With the estimate and which keys to change.
    """
    e = _cost(sc, nodes, edges, n_inputs, float(train_steps), test_steps, data_bytes)
    keys = ("task.hidden, task.hops or task.sensors (the network), task.passes or "
            "task.train_steps (the training)")
    _refuse(e, available, max_operations, f"reduce {keys}", keys)
    return e


def available_memory() -> float:
    """Bytes of memory available to a new process now (``MemAvailable`` on Linux).

    Returns
    -------
    float
        ``inf`` where the system does not say.
    """
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return math.inf


def _bytes(x: float) -> str:
    if x >= 2**50:
        return f"{x:.2g} bytes"
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20)):
        if x >= size:
            return f"{x / size:.1f} {unit}"
    return f"{x / 1024:.0f} KB"


def check_resources(sc: Scenario, *, available: float | None = None,
                    max_operations: float = MAX_OPERATIONS) -> Estimate | None:
    """Refuse a scenario this machine cannot hold in memory, or whose work would not end.

    Parameters
    ----------
    sc : the scenario.
    available : bytes available (default: :func:`available_memory`).
    max_operations : the largest ``activations x (1 + mean in-degree)`` accepted.

    Returns
    -------
    Estimate

    Raises
    ------
    ResourceError
        With the estimate and which keys to change.
    """
    e = estimate(sc)
    if e is None:
        return None  # sized by check_series once the data is read
    _refuse(e, available, max_operations,
            "make the network smaller (network.hidden, network.nodes or network.mean_degree)"
            + (" or the truth table (task.bits)" if e.rows > 2**16 else ""),
            "schedule.inputs, the network or task.bits")
    return e


def _refuse(e: Estimate, available: float | None, max_operations: float, memory_fix: str,
            keys: str) -> None:
    """Raise :class:`ResourceError` when ``e`` needs more than 90 % of the memory available
    (``memory_fix`` says what to change) or more than ``max_operations`` (``keys``)."""
    avail = available_memory() if available is None else available
    if e.bytes > 0.9 * avail:
        raise ResourceError(
            f"this scenario needs about {_bytes(e.bytes)} of memory ({e.nodes:,} nodes, "
            f"~{e.edges:.3g} edges) and this machine has {_bytes(avail)} available; "
            f"{memory_fix}")
    if not math.isfinite(e.operations) or e.operations > max_operations:
        raise ResourceError(
            f"this scenario asks for about {e.activations:.3g} node activations "
            f"({e.operations:.3g} with their messages), which would run for days; reduce "
            "schedule.sweeps, schedule.eval_sweeps, the product schedule.wake_rate x "
            f"schedule.input_period, faults.crash_rate, or {keys}")
