"""The teacher: what every engine builds first, the inputs presented in every schedule,
and the :class:`~argnn_sim.results.RunResult` every engine ends with.

An engine (:mod:`argnn_sim.engines`) turns a scenario and a seed into a result. All of
them start from :func:`prepare` (the run's random streams, the training rows, the
topology with its weights and the recorder, drawn in this order, which is the
reference's), present inputs as one :class:`InputDriver` says, and finish with
:func:`run_result`. Only what happens between two presentations differs.

>>> from argnn_sim.config import Scenario
>>> p = prepare(Scenario.from_dict({"schedule": {"inputs": 3}}), seed=0)
>>> p.topo.n, p.train_rows.shape, p.arithmetic
(5, (3,), 'portable')
>>> [(s.learn, s.index) for s in InputDriver(p).steps()]
[(True, 0), (True, 1), (True, 2), (False, 0), (False, 1), (False, 2), (False, 3)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
import numpy.typing as npt

from ..config import Scenario
from ..recorder import Recorder, watched_nodes
from ..results import RunResult
from ..rng import SeedLike, Streams
from ..rule import resolve_arithmetic
from ..tasks import Step, TaskKind, task_kind
from ..topology import Topology

__all__ = ["Prepared", "prepare", "InputDriver", "Step", "run_result", "reference_draws", "fault_counters",
           "version", "seed_label", "Step"]


def version() -> str:
    """The installed package version (``0+unknown`` when run from a source tree).

    Returns
    -------
    str

    Examples
    --------
    >>> isinstance(version(), str)
    True
    """
    try:
        return metadata.version("argnn-sim")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


@dataclass
class Prepared:
    """What :func:`prepare` builds: the run's streams, its task kind and the task's data
    (a truth table, or a :class:`~argnn_sim.series.SeriesTask`), training rows (indices
    into the table, shape ``(inputs,)``; empty for a streamed task), topology, recorder
    and resolved arithmetic."""

    scenario: Scenario
    seed: SeedLike
    streams: Streams
    kind: TaskKind
    task: Any
    train_rows: npt.NDArray[np.int64]
    topo: Topology
    recorder: Recorder
    arithmetic: str


def prepare(scenario: Scenario, seed: SeedLike = None) -> Prepared:
    """What every engine draws and builds first, in this order: the run's streams, the
    training rows (the reference draws them before the weights), the topology with its
    weights, and the recorder (watching the nodes ``record.watch`` names).

    Parameters
    ----------
    scenario : a validated scenario.
    seed : int, ``SeedSequence``, ``Generator`` or (``rng.mode = "reference"``) a
        ``RandomState`` to draw from; ``None`` takes ``scenario.seed``.

    Returns
    -------
    Prepared

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> prepare(Scenario(), 1).topo.n_edges
    12
    """
    seed = scenario.seed if seed is None else seed
    streams = Streams(seed, scenario.rng.mode)
    kind = task_kind(scenario.task.kind)
    built = kind.build(scenario, streams)
    topo = built.topo
    recorder = Recorder(scenario.record.traces, watch=watched_nodes(
        topo.n, topo.inputs, topo.output, scenario.record.watch))
    arithmetic = resolve_arithmetic(scenario.node.arithmetic, scenario.rng.mode)
    return Prepared(scenario, seed, streams, kind, built.task, built.train_rows, topo, recorder,
                    arithmetic)


class InputDriver:
    """The teacher, for every engine and schedule: which row is presented when, and for
    how long; what is recorded after it.

    Training presents ``train_rows`` in order. Then (``schedule.evaluate``) the
    evaluation order is drawn from the schedule stream, once training is over: in the
    sweep schedule after every training pass's shuffle, as the reference draws it. Each
    step holds for :meth:`passes` passes (sweep) or one ``input_period`` (async).

    Parameters
    ----------
    prepared : what :func:`prepare` built.
    """

    def __init__(self, prepared: Prepared) -> None:
        self.scenario = prepared.scenario
        self.kind = prepared.kind
        self.task = prepared.task
        self.train_rows = prepared.train_rows
        self.schedule = prepared.streams.schedule
        self.recorder = prepared.recorder
        self.edges_before = prepared.topo.n_edges
        self.eval_rows: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.per_row: list[float] = []
        self.predictions: list[list[float]] = []  # scored evaluation steps' outputs
        self.scored: list[int] = []

    def steps(self, end_training: Callable[[], None] | None = None) -> Iterator[Step]:
        """The presentations in order (the task kind's :meth:`~argnn_sim.tasks.TaskKind.steps`).

        Parameters
        ----------
        end_training : callable, optional
            Called after the last training step, before the evaluation order is drawn
            (an engine turns learning off there).

        Yields
        ------
        Step

        Examples
        --------
        >>> from argnn_sim.config import Scenario
        >>> sc = Scenario.from_dict({"schedule": {"inputs": 2, "evaluate": False}})
        >>> [s.index for s in InputDriver(prepare(sc, 0)).steps()]
        [0, 1]
        """
        return self.kind.steps(self, end_training)

    def training_steps(self) -> int:
        """How many training steps :meth:`steps` presents.

        Returns
        -------
        int
        """
        return self.kind.training_steps(self.task, self.scenario)

    def evaluation_steps(self) -> int:
        """How many evaluation steps follow training.

        Returns
        -------
        int
        """
        return self.kind.evaluation_steps(self.task, self.scenario)

    def passes(self, step: Step) -> int:
        """How many passes a step holds for in the sweep schedule.

        Parameters
        ----------
        step : a training or evaluation step.

        Returns
        -------
        int (``schedule.sweeps`` or ``schedule.eval_sweeps``)
        """
        s = self.scenario.schedule
        return s.sweeps if step.learn else s.eval_sweeps

    def record(self, step: Step, outputs: Sequence[float], time: float,
               edges_removed: int) -> None:
        """After a step: the training curve's point (``|V_out - y|``, averaged over the
        outputs, and the edge count) or the evaluation step's error (the task kind's
        :meth:`~argnn_sim.tasks.TaskKind.record`).

        Parameters
        ----------
        step : Step
            The step just held.
        outputs : sequence of float
            The output nodes' values, in output order.
        time : float
            The engine's time.
        edges_removed : int
            Edges removed so far.
        """
        self.kind.record(self, step, outputs, time, edges_removed)


def seed_label(seed: Any) -> int:
    """The seed as a result records it: the int, or -1 for a generator or state.

    Parameters
    ----------
    seed : any seed.

    Returns
    -------
    int

    Examples
    --------
    >>> seed_label(7), seed_label(np.random.RandomState(0))
    (7, -1)
    """
    return int(seed) if isinstance(seed, (int, np.integer)) else -1


def run_result(prepared: Prepared, driver: InputDriver, final: dict[str, np.ndarray],
               counters: dict[str, Any], clock: tuple[float, float, float], engine: str
               ) -> RunResult:
    """The :class:`RunResult` of a finished run (every engine ends here).

    Parameters
    ----------
    prepared
        The run's setup and its teacher (evaluation errors, curves).
    driver
        The run's setup and its teacher (evaluation errors, curves).
    final
        The edges still standing: ``src``, ``dst``, ``weight`` arrays.
    counters
        Activations, checks, messages (and faults).
    clock
        (start, simulation start, end) from ``time.perf_counter``.
    engine
        The engine's name, recorded in the result.

    Returns
    -------
    RunResult
    """
    t0, t1, t2 = clock
    scenario, topo, recorder = prepared.scenario, prepared.topo, prepared.recorder
    per_row = driver.per_row
    metrics = prepared.kind.metrics(prepared, driver, final)
    activations = counters["activations"]
    return RunResult(
        scenario=scenario,
        seed=seed_label(prepared.seed),
        error=float(np.mean(per_row)) if per_row else float("nan"),
        per_row_errors=[float(x) for x in per_row],
        eval_rows=[int(r) for r in driver.eval_rows],
        prune_events=recorder.prunes,
        edges_before=topo.n_edges,
        edges_after=int(final["src"].size),
        seconds=t2 - t0,
        labels=list(topo.labels),
        initial_edges={"src": topo.src, "dst": topo.dst, "weight": topo.weight},
        final_edges=final,
        curves=recorder.curves() if scenario.record.traces != "none" else {},
        traces=recorder.traces() if scenario.record.traces == "full" else {},
        counters=counters,
        timings={"setup": t1 - t0, "simulate": t2 - t1,
                 "activations_per_second": activations / max(t2 - t1, 1e-12)},
        version=version(),
        engine=engine,
        metrics=metrics,
    )


def reference_draws(scenario: Scenario, rs: np.random.RandomState) -> None:
    """Advance ``rs`` by exactly the draws one ``rng.mode = 'reference'`` run makes.

    The draws never depend on what the run computes (pruning changes no array sizes), so a
    shared stream can be fast-forwarded run by run without simulating: this gives each run
    of a grid its starting state, and the runs can then go in parallel. The order is the
    one every engine uses: training rows, the weight matrix, one shuffle of the active
    nodes per training pass, then (``schedule.evaluate``) the evaluation row order and one
    shuffle per evaluation pass.

    Parameters
    ----------
    scenario : a logic-circuit scenario in the sweep schedule.
    rs : the legacy generator, advanced in place.

    Returns
    -------
    None

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> from argnn_sim.engines import simulate
    >>> sc = Scenario.from_dict({"schedule": {"inputs": 5}, "rng": {"mode": "reference"},
    ...                          "record": {"traces": "none"}})
    >>> a, b = np.random.RandomState(0), np.random.RandomState(0)
    >>> reference_draws(sc, a); _ = simulate(sc, b)
    >>> a.randint(10**9) == b.randint(10**9)  # both made exactly the run's draws
    True
    """
    if scenario.network.kind != "logic":
        raise ValueError("reference_draws needs network.kind = 'logic'")
    task = task_kind(scenario.task.kind).table(scenario.task)
    sched = scenario.schedule
    n = task.n_inputs + scenario.network.hidden + 1
    active = np.arange(task.n_inputs, n)
    rs.randint(task.n_rows, size=sched.inputs)
    rs.random_sample((n, n))
    for _ in range(sched.inputs * sched.sweeps):
        rs.shuffle(active)
    if sched.evaluate:
        rs.shuffle(np.arange(task.n_rows))
        for _ in range(task.n_rows * sched.eval_sweeps):
            rs.shuffle(active)


def fault_counters(log: list[list[float]], end: float, train_end: float) -> dict[str, float]:
    """What a run reports of its crashes: how many, the node time spent down by ``end``, and
    how many began in evaluation (at or after ``train_end``).

    Parameters
    ----------
    log
        ``(node, down_at, up_at)`` rows, in crash order (``up_at`` is ``inf`` while down).
    end
        The run's end.
    train_end
        When training ended.

    Returns
    -------
    dict
    """
    down = sum(min(up, end) - t for _k, t, up in log)
    in_eval = sum(1 for _k, t, _up in log if t >= train_end)
    return {"crashes": len(log), "node_time_down": down, "crashes_during_eval": in_eval}

