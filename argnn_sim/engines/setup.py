"""What every engine builds first, the teacher that drives every schedule, and the
:class:`~argnn_sim.results.RunResult` every engine ends with.

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
from ..limits import check_series
from ..recorder import Recorder, watched_nodes
from ..results import RunResult
from ..rng import SeedLike, Streams
from ..rule import resolve_arithmetic
from ..series import SeriesTask, road_size, road_topology, sensors_in_use, series_metrics
from ..tasks import Task, make_task
from ..topology import Topology, build

__all__ = ["Prepared", "prepare", "InputDriver", "Step", "run_result", "reference_draws", "fault_counters",
           "version", "seed_label"]


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
    """What :func:`prepare` builds: the run's streams, task (a truth table, or a
    :class:`~argnn_sim.series.SeriesTask`), training rows (indices into the truth table,
    shape ``(inputs,)``; empty for a series), topology, recorder and resolved arithmetic."""

    scenario: Scenario
    seed: SeedLike
    streams: Streams
    task: Task | SeriesTask
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
    task: Task | SeriesTask
    if scenario.task.kind == "series":
        task = SeriesTask.from_config(scenario.task)
        train_rows = np.zeros(0, dtype=np.int64)
        nodes, edges = road_size(task)
        check_series(scenario, nodes=nodes, edges=edges, n_inputs=task.n_inputs,
                     train_steps=task.passes * len(task.train_steps()),
                     test_steps=len(task.test_steps()),
                     data_bytes=4.0 * task.series.values.nbytes)
        topo = road_topology(task, streams.weights, scale=scenario.network.weight_scale)
    else:
        task = make_task(scenario.task)
        train_rows = np.asarray(streams.inputs.integers(task.n_rows,
                                                        size=scenario.schedule.inputs),
                                dtype=np.int64)
        topo = build(scenario.network, task, streams.weights)
    recorder = Recorder(scenario.record.traces, watch=watched_nodes(
        topo.n, topo.inputs, topo.output, scenario.record.watch))
    arithmetic = resolve_arithmetic(scenario.node.arithmetic, scenario.rng.mode)
    return Prepared(scenario, seed, streams, task, train_rows, topo, recorder, arithmetic)


@dataclass(frozen=True)
class Step:
    """One presentation: ``learn`` (training or evaluation), ``index`` (the training input
    ``t``, or the place in the evaluation order) and ``row_values`` (the truth-table row:
    inputs, then the target; a series step: the kept sensors' readings, then every
    sensor's target). ``n_in`` is how many of the values are inputs (-1: all but the last).
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
        self.task = prepared.task
        self.train_rows = prepared.train_rows
        self.schedule = prepared.streams.schedule
        self.recorder = prepared.recorder
        self.edges_before = prepared.topo.n_edges
        self.eval_rows: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.per_row: list[float] = []
        self.series = isinstance(self.task, SeriesTask)
        self.predictions: list[list[float]] = []  # series: scored test steps' predictions
        self.scored: list[int] = []

    def steps(self, end_training: Callable[[], None] | None = None) -> Iterator[Step]:
        """The presentations in order.

        Parameters
        ----------
        end_training : called after the last training step, before the evaluation order is
            drawn (an engine turns learning off there).

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
        if self.series:
            yield from self._series_steps(end_training)
            return
        task = self.task
        assert isinstance(task, Task)
        rows = task.rows
        rec = self.recorder
        for t, r in enumerate(self.train_rows.tolist()):
            rec.input = t
            yield Step(True, t, rows[r])
        rec.input = rec.sweep = -1
        if end_training is not None:
            end_training()
        self.eval_rows = np.arange(task.n_rows)
        if not self.scenario.schedule.evaluate:
            self.eval_rows = self.eval_rows[:0]
        else:
            self.schedule.shuffle(self.eval_rows)
        for i, r in enumerate(self.eval_rows.tolist()):
            yield Step(False, i, rows[r])

    def _series_steps(self, end_training: Callable[[], None] | None) -> Iterator[Step]:
        """A series task: the training split ``passes`` times in time order, then the test
        split in time order (no shuffle: the network is recurrent)."""
        task = self.task
        assert isinstance(task, SeriesTask)
        rec = self.recorder
        n_in = task.n_inputs
        i = 0
        for _ in range(task.passes):
            for t in task.train_steps():
                rec.input = i
                yield Step(True, i, task.row("train", t), n_in)
                i += 1
        rec.input = rec.sweep = -1
        if end_training is not None:
            end_training()
        if not self.scenario.schedule.evaluate:
            return
        steps = task.test_steps()
        self.eval_rows = np.asarray([t for t in steps if task.scored(t)], dtype=np.int64)
        for t in steps:
            yield Step(False, t, task.row("test", t), n_in)

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

    def record(self, step: Step, output: float | Sequence[float], time: float,
               edges_removed: int) -> None:
        """After a step: the training curve's point (``|V_out - y|``, averaged over the outputs,
        and the edge count) or the evaluation row's error.

        Parameters
        ----------
        step : the step just held. output : the output node's value (a series: every
            predictor's, in output order).
        time : the engine's time. edges_removed : edges removed so far.
        """
        if self.series:
            out = list(output)  # type: ignore[arg-type]
            ys = step.targets
            acc = 0.0
            for v, y in zip(out, ys):
                acc += abs(v - y)
            err = acc / len(ys)
            if step.learn:
                self.recorder.curve_point(input=step.index, time=time, train_error=err,
                                          edges=self.edges_before - edges_removed)
            elif self.task.scored(step.index):  # type: ignore[union-attr]
                self.per_row.append(err)
                self.predictions.append(out)
                self.scored.append(step.index)
            return
        err = abs(output - step.target)  # type: ignore[operator]
        if step.learn:
            self.recorder.curve_point(input=step.index, time=time, train_error=err,
                                      edges=self.edges_before - edges_removed)
        else:
            self.per_row.append(err)


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
    prepared, driver : the run's setup and its teacher (evaluation errors, curves).
    final : the edges still standing: ``src``, ``dst``, ``weight`` arrays.
    counters : activations, checks, messages (and faults).
    clock : (start, simulation start, end) from ``time.perf_counter``.
    engine : the engine's name, recorded in the result.

    Returns
    -------
    RunResult
    """
    t0, t1, t2 = clock
    scenario, topo, recorder = prepared.scenario, prepared.topo, prepared.recorder
    per_row = driver.per_row
    metrics: dict[str, Any] = {}
    if isinstance(prepared.task, SeriesTask):
        metrics = series_task_metrics(prepared, driver, final)
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


def series_task_metrics(prepared: Prepared, driver: InputDriver, final: dict[str, np.ndarray]
                        ) -> dict[str, Any]:
    """A series run's numbers: MAE, RMSE, MAPE on the original scale at the task's horizon
    (:func:`~argnn_sim.series.series_metrics`), the sensors whose input node still sends
    (``sensors_used``, their count ``sensors_kept``), and the edges left.

    Parameters
    ----------
    prepared, driver : the run's setup and its teacher. final : the remaining edges.

    Returns
    -------
    dict
    """
    task = prepared.task
    assert isinstance(task, SeriesTask)
    topo = prepared.topo
    out: dict[str, Any] = {"horizon": task.horizon, "sensors": task.series.num_sensors}
    if driver.predictions:
        out.update(series_metrics(task, np.asarray(driver.predictions), driver.scored))
    else:
        out.update({"definition": "all", "mae": float("nan"), "rmse": float("nan"),
                    "mape": float("nan"), "accuracy": float("nan"), "r2": float("nan"),
                    "var": float("nan"), "mape_threshold": task.series.mape_threshold,
                    "scored": 0})
    used = sensors_in_use(topo.labels, final["src"], topo.inputs)
    out.update({"sensors_given": task.n_inputs, "sensors_kept": len(used),
                "sensors_used": used, "edges": int(final["src"].size),
                "input_edges": int(np.isin(final["src"], topo.inputs).sum())})
    return out


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
    task = make_task(scenario.task)
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
    log : ``(node, down_at, up_at)`` rows, in crash order (``up_at`` is ``inf`` while down).
    end : the run's end. train_end : when training ended.

    Returns
    -------
    dict
    """
    down = sum(min(up, end) - t for _k, t, up in log)
    in_eval = sum(1 for _k, t, _up in log if t >= train_end)
    return {"crashes": len(log), "node_time_down": down, "crashes_during_eval": in_eval}

