"""Tasks: what a network learns, behind one protocol.

A *task kind* (``[task] kind``) is an object of :class:`TaskKind`, registered in
:data:`argnn_sim.registry.TASK_KINDS`. Everything that depends on what is learned asks
the kind: the configuration (which ``[task]`` keys it reads, its checks), the run's size
before it is built, the topology with its input stream, the steps the teacher presents
and what it records after each, the metrics, the summary's rows and the figures' titles,
node roles and layout. No other module branches on the kind.

Two kinds are built in:

``truth`` (:data:`TRUTH`)
    a truth table (a gate, or ``bits``-bit parity) on a network with one output: a
    :class:`TableKind`. The engines that run tables (compiled, batched) take any
    :class:`TableKind`.
``series`` (:data:`argnn_sim.series_kind.SERIES`)
    a road-sensor network forecasting its own readings: several outputs and streamed
    inputs, which only the SimPy engine has.

A new kind subclasses :class:`TableKind` (a new table: implement :meth:`TableKind.table`)
or :class:`TaskKind`, and registers itself with :func:`register_task_kind`.

>>> t = make_task("XOR")
>>> t.rows
((0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0))
>>> make_task("PARITY", bits=3).n_inputs
3
>>> TRUTH.title(__import__("argnn_sim.config").config.Scenario())
'XOR'
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .config import (
    ConfigError,
    Scenario,
    TaskConfig,
    check_choice,
    task_kind,  # the one lookup of a kind, re-exported here
)
from .limits import Estimate, network_estimate
from .registry import TASK_KINDS
from .topology import build

__all__ = ["Task", "make_task", "TRUTH_FUNCTIONS", "TaskKind", "TableKind", "TruthKind", "TRUTH",
           "Step", "Built", "register_task_kind", "task_kind", "missing_features"]

TRUTH_FUNCTIONS = {
    "AND": lambda a, b: a & b,
    "OR": lambda a, b: a | b,
    "XOR": lambda a, b: a ^ b,
    "NAND": lambda a, b: 1 - (a & b),
    "NOR": lambda a, b: 1 - (a | b),
    "XNOR": lambda a, b: 1 - (a ^ b),
}
GATES = (*TRUTH_FUNCTIONS, "PARITY")


@dataclass(frozen=True)
class Task:
    """A table of rows ``rows[r] = (x_1, ..., x_n, y)`` (a truth table in binary counting
    order, or any finite table a :class:`TableKind` makes)."""

    name: str
    n_inputs: int
    rows: tuple[tuple[float, ...], ...]

    @property
    def n_rows(self) -> int:
        """How many rows the table has (``2 ** n_inputs`` for a truth table).

        Returns
        -------
        int

        Examples
        --------
        >>> make_task("PARITY", bits=3).n_rows
        8
        """
        return len(self.rows)


def make_task(gate: str | TaskConfig = "XOR", *, bits: int = 2) -> Task:
    """Build the truth table of a gate (2 inputs) or of ``bits``-bit parity.

    Parameters
    ----------
    gate : str or TaskConfig
        AND, OR, XOR, NAND, NOR, XNOR or PARITY (any case), or a ``TaskConfig``.
    bits : int
        Inputs of PARITY.

    Returns
    -------
    Task
        ``rows[r] = (x_1, ..., x_n, y)`` in binary counting order.

    Raises
    ------
    ConfigError
        For a gate that is not known.

    Examples
    --------
    >>> make_task("xor").rows
    ((0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0))
    """
    if isinstance(gate, TaskConfig):
        name, bits = gate.gate, gate.bits
    else:
        name = gate
    gate = name.upper()
    if gate == "PARITY":
        rows = tuple(xs + (sum(xs) % 2,) for xs in itertools.product((0, 1), repeat=bits))
        return Task(f"PARITY{bits}", bits, rows)
    check_choice("task.gate", gate, GATES)
    f = TRUTH_FUNCTIONS[gate]
    rows = tuple((a, b, f(a, b)) for a, b in itertools.product((0, 1), repeat=2))
    return Task(gate, 2, rows)


@dataclass(frozen=True)
class Step:
    """One presentation: ``learn`` (training or evaluation), ``index`` (the training input
    ``t``, or the place in the evaluation order) and ``row_values`` (a table row: inputs,
    then the target; a series step: the kept sensors' readings, then every sensor's
    target). ``n_in`` is how many of the values are inputs (-1: all but the last).
    """

    learn: bool
    index: int
    row_values: tuple[float, ...]
    n_in: int = -1

    @property
    def target(self) -> float:
        """The row's (last) target ``y``.

        Returns
        -------
        float
        """
        return float(self.row_values[-1])

    @property
    def inputs(self) -> tuple[float, ...]:
        """The input nodes' values, in input-node order."""
        return self.row_values[:self.n_in] if self.n_in >= 0 else self.row_values[:-1]

    @property
    def targets(self) -> tuple[float, ...]:
        """The output nodes' targets, in output-node order."""
        return self.row_values[self.n_in:] if self.n_in >= 0 else self.row_values[-1:]


@dataclass
class Built:
    """What :meth:`TaskKind.build` makes for one run: the task's data (a :class:`Task`,
    or the kind's own object), the training rows drawn from the input stream (indices
    into the table; empty where the kind streams its inputs) and the topology."""

    task: Any
    train_rows: np.ndarray
    topo: Any


class TaskKind:
    """The protocol of a task kind; subclasses override what differs.

    Attributes
    ----------
    name : str
        What ``[task] kind`` says.
    keys : tuple of str
        The ``[task]`` keys it reads (any other key given is refused).
    needs : frozenset of str
        Engine features it needs beyond a table with one output (``"several outputs"``,
        ``"streamed inputs"``); an engine lacking one cannot run it.
    reference : bool
        Whether ``rng.mode = "reference"`` (the published stream) applies.
    lists_prunes : bool
        Whether the run summary lists every prune event.
    """

    name: str = ""
    keys: tuple[str, ...] = ()
    needs: frozenset[str] = frozenset()
    reference: bool = False
    lists_prunes: bool = True

    # -- configuration --------------------------------------------------------
    def check_config(self, cfg: TaskConfig) -> None:
        """Refuse a ``[task]`` section this kind cannot run (one :class:`ConfigError`).

        Parameters
        ----------
        cfg : the section (its keys are checked for type and range already).
        """

    def check_scenario(self, sc: Scenario) -> None:
        """Refuse other sections that do not fit this kind (one :class:`ConfigError`).

        Parameters
        ----------
        sc : the scenario.
        """

    def estimate(self, sc: Scenario) -> Estimate | None:
        """The run's size before it is built (``None``: known only once its data is read,
        and checked then).

        Parameters
        ----------
        sc : the scenario.

        Returns
        -------
        Estimate or None
        """
        return None

    def table(self, cfg: TaskConfig) -> Task:
        """The table of a table task (:class:`TableKind`); other kinds have none.

        Parameters
        ----------
        cfg : TaskConfig
            The section.

        Returns
        -------
        Task

        Raises
        ------
        ConfigError
            This kind is not a table.
        """
        raise ConfigError(f"task.kind = {self.name!r} is not a table of rows (the logic "
                          "circuit and the batched engine need one)")

    # -- the run ------------------------------------------------------------
    def build(self, sc: Scenario, streams: Any) -> Built:
        """The task's data, the training rows and the topology, drawn in that order.

        Parameters
        ----------
        sc : the scenario.
        streams : the run's :class:`~argnn_sim.rng.Streams`.

        Returns
        -------
        Built
        """
        raise NotImplementedError

    def training_steps(self, task: Any, sc: Scenario) -> int:
        """How many training steps the teacher presents (a progress bar's length).

        Parameters
        ----------
        task : what :meth:`build` made.
        sc : the scenario.

        Returns
        -------
        int
        """
        raise NotImplementedError

    def evaluation_steps(self, task: Any, sc: Scenario) -> int:
        """How many evaluation steps follow training (0 without evaluation).

        Parameters
        ----------
        task : what :meth:`build` made.
        sc : the scenario.

        Returns
        -------
        int
        """
        raise NotImplementedError

    def steps(self, driver: Any, end_training: Callable[[], None] | None) -> Iterator[Step]:
        """The presentations in order (the teacher, :class:`~argnn_sim.engines.teacher.InputDriver`,
        yields them); ``end_training`` is called between training and evaluation.

        Parameters
        ----------
        driver : the teacher (its task, training rows, recorder and schedule stream).
        end_training : called after the last training step (or ``None``).

        Yields
        ------
        Step
        """
        raise NotImplementedError

    def record(self, driver: Any, step: Step, outputs: Sequence[float], time: float,
               edges_removed: int) -> None:
        """After a step: a training curve point, or the evaluation step's error.

        Parameters
        ----------
        driver : the teacher.
        step : the step just held.
        outputs : the output nodes' values, in output order.
        time : the engine's time.
        edges_removed : edges removed so far.
        """
        ys = step.targets
        acc = 0.0
        for v, y in zip(outputs, ys):
            acc += abs(v - y)
        err = acc / len(ys)
        if step.learn:
            driver.recorder.curve_point(input=step.index, time=time, train_error=err,
                                        edges=driver.edges_before - edges_removed)
        else:
            driver.per_row.append(err)

    def metrics(self, prepared: Any, driver: Any, final: dict[str, np.ndarray]
                ) -> dict[str, Any]:
        """The kind's own numbers for :attr:`RunResult.metrics` (none by default).

        Parameters
        ----------
        prepared : the run's setup.
        driver : the teacher.
        final : the edges left (``src``, ``dst``, ``weight``).

        Returns
        -------
        dict
        """
        return {}

    # -- reports --------------------------------------------------------------
    def title(self, sc: Scenario) -> str:
        """The task as a figure's title names it.

        Parameters
        ----------
        sc : the scenario.

        Returns
        -------
        str
        """
        return self.name

    def network_text(self, result: Any) -> str | None:
        """How a title names the run's network (``None``: by ``[network]``).

        Parameters
        ----------
        result : the run.

        Returns
        -------
        str or None
        """
        return None

    def summary_rows(self, result: Any) -> list[tuple[str, str]]:
        """The summary's rows about the task and its results: ``task`` first, then the
        results (errors, what was kept); the summary adds the rest.

        Parameters
        ----------
        result : the run.

        Returns
        -------
        list of (label, text)
        """
        return [("task", self.title(result.scenario)), ("error", f"{result.error:.6f}")]

    def roles(self, result: Any) -> list[str]:
        """Each node's role: ``input``, ``hidden`` or ``output``.

        Parameters
        ----------
        result : the run.

        Returns
        -------
        list of str
        """
        raise NotImplementedError

    def layout(self, result: Any) -> dict[int, tuple[float, float]] | None:
        """Node positions for the graph figure (``None``: the network's own layout).

        Parameters
        ----------
        result : the run.

        Returns
        -------
        dict or None
        """
        return None


class TableKind(TaskKind):
    """A finite table of rows on a network with one output: training presents rows
    drawn from the input stream, evaluation every row once in an order drawn from the
    schedule stream. A subclass implements :meth:`table`; the rest is here, and every
    engine that runs tables (compiled, batched) runs it."""

    def table(self, cfg: TaskConfig) -> Task:
        """The table the ``[task]`` section describes.

        Parameters
        ----------
        cfg : the section.

        Returns
        -------
        Task
        """
        raise NotImplementedError

    def estimate(self, sc: Scenario) -> Estimate | None:
        t = self.table(sc.task)
        return network_estimate(sc, t.n_inputs, t.n_rows)

    def build(self, sc: Scenario, streams: Any) -> Built:
        task = self.table(sc.task)
        train_rows = np.asarray(streams.inputs.integers(task.n_rows, size=sc.schedule.inputs),
                                dtype=np.int64)
        return Built(task, train_rows, build(sc.network, task, streams.weights))

    def training_steps(self, task: Any, sc: Scenario) -> int:
        return sc.schedule.inputs

    def evaluation_steps(self, task: Any, sc: Scenario) -> int:
        return task.n_rows if sc.schedule.evaluate else 0

    def steps(self, driver: Any, end_training: Callable[[], None] | None) -> Iterator[Step]:
        rows = driver.task.rows
        rec = driver.recorder
        for t, r in enumerate(driver.train_rows.tolist()):
            rec.input = t
            yield Step(True, t, rows[r])
        rec.input = rec.sweep = -1
        if end_training is not None:
            end_training()
        eval_rows = np.arange(driver.task.n_rows)
        if not driver.scenario.schedule.evaluate:
            eval_rows = eval_rows[:0]
        else:
            driver.schedule.shuffle(eval_rows)
        driver.eval_rows = eval_rows
        for i, r in enumerate(eval_rows.tolist()):
            yield Step(False, i, rows[r])

    def roles(self, result: Any) -> list[str]:
        n = len(result.labels)
        n_in = self.table(result.scenario.task).n_inputs
        return ["input" if k < n_in else ("output" if k == n - 1 else "hidden") for k in range(n)]

    def summary_rows(self, result: Any) -> list[tuple[str, str]]:
        errs = list(result.per_row_errors)
        right = sum(1 for e in errs if e < 0.5)
        text = f"{right} of {len(errs)} (|output - target| < 0.5)"
        if right < len(errs):
            text += (f": the network has not learned {self.title(result.scenario)}; train "
                     "longer (schedule.inputs) or try another seed")
        return [("task", self.summary_title(result.scenario)),
                ("error", f"{result.error:.6f}"),
                ("per-row errors", ", ".join(f"{e:.4f}" for e in errs)),
                ("rows right", text)]

    def summary_title(self, sc: Scenario) -> str:
        """The task as the run summary names it.

        Parameters
        ----------
        sc : the scenario.

        Returns
        -------
        str
        """
        return self.title(sc)


class TruthKind(TableKind):
    """``kind = "truth"``: a gate's truth table (two inputs) or ``bits``-bit parity."""

    name = "truth"
    keys = ("gate", "bits")
    reference = True

    def check_config(self, cfg: TaskConfig) -> None:
        check_choice("task.gate", cfg.gate, GATES)
        if cfg.gate != "PARITY" and cfg.bits != 2:
            raise ConfigError(f"task.bits = {cfg.bits} only applies to gate 'PARITY'; "
                              f"gate {cfg.gate!r} has 2 inputs (remove task.bits)")

    def table(self, cfg: TaskConfig) -> Task:
        return make_task(cfg)

    def title(self, sc: Scenario) -> str:
        return sc.task.gate + (f"-{sc.task.bits}" if sc.task.gate == "PARITY" else "")

    def summary_title(self, sc: Scenario) -> str:
        return sc.task.gate + (f" ({sc.task.bits} bits)" if sc.task.gate == "PARITY" else "")


#: the truth-table kind (``[task] kind = "truth"``)
TRUTH = TruthKind()


def missing_features(sc: Scenario, has: frozenset[str], engine: str) -> str | None:
    """Why ``engine``, which has the features ``has``, cannot run the task of ``sc``
    (``None``: it has all its kind needs).

    Parameters
    ----------
    sc : Scenario
        The scenario.
    has : frozenset of str
        The engine's features beyond a table with one output.
    engine : str
        How the message names the engine (``"the compiled engine"``).

    Returns
    -------
    str or None

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> missing_features(Scenario(), frozenset(), "the compiled engine") is None
    True
    """
    kind = task_kind(sc.task.kind)
    lacking = sorted(kind.needs - has)
    if not lacking:
        return None
    return (f"task.kind = {kind.name!r} needs {' and '.join(lacking)}, which {engine} lacks "
            "(engine 'simpy' has them)")


def register_task_kind(kind: TaskKind, *, replace: bool = False) -> TaskKind:
    """Make ``kind`` available as ``[task] kind = kind.name``.

    Parameters
    ----------
    kind : the task kind.
    replace : allow replacing a kind of that name.

    Returns
    -------
    TaskKind
        ``kind``.
    """
    if not kind.name or not isinstance(kind, TaskKind):
        raise ValueError("register a TaskKind with a name")
    return TASK_KINDS.add(kind.name, kind, replace=replace)
