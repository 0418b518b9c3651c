"""The engine: wires the SimPy environment, nodes and channels, and runs a schedule.

``sweep`` and ``async`` are one engine with two timings:

* ``sweep`` (the papers' setting): per training input, ``sweeps`` passes; each pass wakes
  every non-input node once, in a fresh random order, at zero delay. Evaluation: every
  truth-table row (in a random order), ``eval_sweeps`` passes without learning or pruning.
* ``async``: every non-input node wakes on its own Poisson clock (rate ``wake_rate``);
  inputs and target change every ``input_period``; messages take channel delays and may
  be lost. Evaluation holds each row for one ``input_period`` without learning.

>>> from argnn_sim.config import Scenario, ScheduleConfig
>>> r = simulate(Scenario(schedule=ScheduleConfig(inputs=50)), seed=1)
>>> r.edges_before, 0.0 <= r.error <= 1.0
(12, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from importlib import metadata
from typing import Any

import numpy as np
import simpy

from .channel import Transport
from .config import ConfigError, Scenario
from .node import HIDDEN, INPUT, OUTPUT, Node, Phase
from .pruning import make_policy
from .recorder import Recorder, watched_nodes
from .results import RunResult
from .rng import Streams
from .tasks import Task, make_task
from .topology import Topology, build

__all__ = ["simulate", "Network", "Faults", "reference_draws"]


def _version() -> str:
    try:
        return metadata.version("argnn-sim")
    except metadata.PackageNotFoundError:  # running from a source tree
        return "0+unknown"


class Triggers:
    """Per-node wake events that a driver fires in a chosen order (FIFO at equal times)."""

    def __init__(self, env: simpy.Environment, n: int) -> None:
        self.env = env
        self.events = [env.event() for _ in range(n)]

    def wait(self, k: int) -> simpy.Event:
        return self.events[k]

    def fire(self, k: int, value: Any = None) -> None:
        ev = self.events[k]
        self.events[k] = self.env.event()
        ev.succeed(value)


class PoissonClock:
    """Each node's own clock: exponential times between wakes, from the schedule stream."""

    def __init__(self, env: simpy.Environment, rate: float, stream: Any) -> None:
        self.env = env
        self.scale = 1.0 / rate
        self.stream = stream

    def wait(self, k: int) -> simpy.Event:
        return self.env.timeout(float(self.stream.exponential(self.scale)))


class Faults:
    """Node crashes with recovery, as SimPy processes (see :class:`~argnn_sim.config.FaultConfig`).

    One process per non-input node alternates an exponential up-time (mean ``1/crash_rate``)
    and an exponential down-time (mean ``downtime``), all drawn from the run's fault stream.
    It flips the node's ``down`` flag; the node itself then skips its wakes and loses what
    arrives. ``log`` keeps one ``(node, down_at, up_at)`` row per crash (``up_at`` is
    ``inf`` while the node is still down).
    """

    def __init__(self, env: simpy.Environment, config: Any, nodes: list[Node], stream: Any
                 ) -> None:
        self.env = env
        self.config = config
        self.stream = stream
        self.log: list[list[float]] = []
        self.active = True
        self.train_end = float("inf")
        self._nodes = nodes
        if config.crash_rate > 0:
            for node in nodes:
                if node.role != INPUT:
                    env.process(self._life(node))

    def _life(self, node: Node) -> Any:
        c = self.config
        env = self.env
        if c.start > 0:
            yield env.timeout(c.start)
        up_scale = 1.0 / c.crash_rate
        while True:
            yield env.timeout(float(self.stream.exponential(up_scale)))
            if not self.active:
                return
            node.crash()
            row = [float(node.id), float(env.now), float("inf")]
            self.log.append(row)
            yield env.timeout(float(self.stream.exponential(c.downtime)))
            if not node.down:  # brought back by stop()
                return
            node.recover(c.reset)
            row[2] = float(env.now)

    def stop(self) -> None:
        """No more crashes; every node that is down comes back now."""
        self.active = False
        now = float(self.env.now)
        for row in self.log:
            if row[2] == float("inf"):
                self._nodes[int(row[0])].recover(self.config.reset)
                row[2] = now

    def counters(self, end: float) -> dict[str, float]:
        down = sum(min(up, end) - t for _k, t, up in self.log)
        in_eval = sum(1 for _k, t, _up in self.log if t >= self.train_end)
        return {"crashes": len(self.log), "node_time_down": down, "crashes_during_eval": in_eval}


class Network:
    """The simulated network of one run: environment, transport, nodes and observers.

    Built by :func:`simulate`; exposed for tests and notebooks that drive nodes by hand.
    """

    def __init__(self, scenario: Scenario, topo: Topology, streams: Streams,
                 recorder: Recorder, *, delivery: str = "lazy") -> None:
        self.scenario = scenario
        self.topo = topo
        self.env = simpy.Environment()
        recorder.clock = self.env
        self.recorder = recorder
        self.transport = Transport(self.env, scenario.channel, streams, delivery=delivery)
        self.phase = Phase(learning=True, pruning=scenario.pruning.policy != "none")
        policy = make_policy(scenario.pruning, streams.pruning)
        n = topo.n
        src, dst, w = topo.src.tolist(), topo.dst.tolist(), topo.weight.tolist()
        ins: list[list[int]] = [[] for _ in range(n)]
        inw: list[list[float]] = [[] for _ in range(n)]
        outs: list[list[int]] = [[] for _ in range(n)]
        for s, d, x in zip(src, dst, w):  # edges come sorted by (dst, src)
            ins[d].append(s)
            inw[d].append(x)
            outs[s].append(d)
        inputs = set(topo.inputs)
        nc = scenario.node
        self.nodes: list[Node] = []
        for k in range(n):
            role = INPUT if k in inputs else (OUTPUT if k == topo.output else HIDDEN)
            node = Node(k, role, in_src=ins[k], in_w=inw[k], out_dst=sorted(outs[k]),
                        port=self.transport.port(k), policy=policy, observer=recorder,
                        phase=self.phase, error_factor=nc.error_factor, clip=nc.clip,
                        bias=nc.bias)
            self.transport.attach(node.handlers())
            self.nodes.append(node)
        self.input_ids = list(topo.inputs)
        self.active_ids = [k for k in range(n) if k not in inputs]
        self.output = self.nodes[topo.output]
        for node in self.nodes:
            node.announce()

    def edge_count(self) -> int:
        return sum(len(nd.in_src) for nd in self.nodes)

    def start(self, wake_active: Callable[[int], simpy.Event], inputs: Triggers) -> None:
        for node in self.nodes:
            clock = inputs.wait if node.role == INPUT else wake_active
            self.env.process(node.run(clock))

    def final_edges(self) -> dict[str, np.ndarray]:
        src: list[int] = []
        dst: list[int] = []
        w: list[float] = []
        for nd in self.nodes:
            src.extend(nd.in_src)
            dst.extend([nd.id] * len(nd.in_src))
            w.extend(nd.in_w)
        return {"src": np.asarray(src, dtype=np.int64), "dst": np.asarray(dst, dtype=np.int64),
                "weight": np.asarray(w, dtype=np.float64)}


def _present(net: Network, trig: Triggers, row: tuple[int, ...]) -> None:
    for k, x in zip(net.input_ids, row[:-1]):
        trig.fire(k, float(x))
    net.output.set_target(float(row[-1]))


def prepare(scenario: Scenario, seed: Any) -> tuple[Streams, Task, np.ndarray, Topology,
                                                     Recorder]:
    """What every engine draws and builds first, in this order: the run's streams, the
    training rows (the reference draws them before the weights), the topology with its
    weights, and the recorder (watching the nodes ``record.watch`` names)."""
    streams = Streams(seed, scenario.rng.mode)
    task = make_task(scenario.task)
    train_rows = np.asarray(streams.inputs.integers(task.n_rows, size=scenario.schedule.inputs))
    topo = build(scenario.network, task, streams.weights)
    recorder = Recorder(scenario.record.traces, watch=watched_nodes(
        topo.n, topo.inputs, topo.output, scenario.record.watch))
    return streams, task, train_rows, topo, recorder


def simulate(scenario: Scenario, seed: Any = None, *, progress: bool = False,
             delivery: str = "lazy", engine: str = "simpy") -> RunResult:
    """Run one scenario and return its :class:`RunResult`.

    Parameters
    ----------
    scenario : a validated :class:`~argnn_sim.config.Scenario`.
    seed : int, ``SeedSequence`` or ``Generator``; defaults to ``scenario.seed``.
        Same scenario and seed give identical results.
    progress : show a progress bar on stderr.
    delivery : ``"lazy"`` (default) or ``"eager"`` (one SimPy event per delayed message);
        identical results, see :mod:`argnn_sim.channel`.
    engine : ``"simpy"`` (default) or ``"compiled"``: the async schedule on a numba
        kernel, identical results (:mod:`argnn_sim.compiled`; it raises ConfigError naming
        the reason for a scenario it does not cover).
    """
    if engine == "compiled":
        from .compiled import simulate_compiled

        return simulate_compiled(scenario, seed)
    if engine != "simpy":
        raise ConfigError(f"engine {engine!r} is not known; choose 'simpy' or 'compiled'")
    t0 = time.perf_counter()
    seed = scenario.seed if seed is None else seed
    streams, task, train_rows, topo, recorder = prepare(scenario, seed)
    sched = scenario.schedule
    net = Network(scenario, topo, streams, recorder, delivery=delivery)
    edges_before = topo.n_edges
    env = net.env
    trig = Triggers(env, topo.n)
    bar = _progress(progress, sched.inputs)
    eval_rows = np.arange(task.n_rows)
    faults = Faults(env, scenario.faults, net.nodes, streams.faults)

    def end_training() -> None:
        net.phase.learning = False
        faults.train_end = float(env.now)
        if not scenario.faults.during_eval:
            faults.stop()
    per_row: list[float] = []

    if sched.kind == "sweep":
        wake = Triggers(env, topo.n)
        net.start(wake.wait, trig)
        active = np.asarray(net.active_ids)

        def one_pass() -> simpy.Event:
            order = active.copy()
            streams.schedule.shuffle(order)
            for k in order.tolist():
                wake.fire(k)
            return env.timeout(1)

        def driver() -> Any:
            for t, r in enumerate(train_rows.tolist()):
                row = task.rows[r]
                _present(net, trig, row)
                recorder.input = t
                for s in range(sched.sweeps):
                    recorder.sweep = s
                    yield one_pass()
                recorder.curve_point(input=t, time=env.now,
                                     train_error=abs(net.output.V - row[-1]),
                                     edges=edges_before - len(recorder.prunes))
                bar.update(1)
            end_training()
            recorder.input = recorder.sweep = -1
            streams.schedule.shuffle(eval_rows)
            for r in eval_rows.tolist():
                row = task.rows[r]
                _present(net, trig, row)
                for _s in range(sched.eval_sweeps):
                    yield one_pass()
                per_row.append(abs(net.output.V - row[-1]))
    else:
        recorder.tracks_age = scenario.record.traces == "full"
        net.start(PoissonClock(env, sched.wake_rate, streams.schedule).wait, trig)

        def driver() -> Any:
            for t, r in enumerate(train_rows.tolist()):
                row = task.rows[r]
                _present(net, trig, row)
                recorder.input = t
                yield env.timeout(sched.input_period)
                recorder.curve_point(input=t, time=env.now,
                                     train_error=abs(net.output.V - row[-1]),
                                     edges=edges_before - len(recorder.prunes))
                bar.update(1)
            end_training()
            recorder.input = -1
            streams.schedule.shuffle(eval_rows)
            for r in eval_rows.tolist():
                row = task.rows[r]
                _present(net, trig, row)
                yield env.timeout(sched.input_period)
                per_row.append(abs(net.output.V - row[-1]))

    t1 = time.perf_counter()
    env.run(until=env.process(driver()))
    net.transport.deliver_all()  # what arrived by the end (counts of missed messages)
    t2 = time.perf_counter()
    bar.close()
    final = net.final_edges()
    activations = sum(nd.activations for nd in net.nodes)
    counters: dict[str, Any] = {"activations": activations, "checks": recorder.checks,
                                "messages": net.transport.counters()}
    if scenario.faults.crash_rate > 0:
        counters["faults"] = faults.counters(env.now)
        counters["faults"]["messages_missed"] = sum(nd.missed for nd in net.nodes)
    return run_result(scenario, seed, topo, recorder, per_row, eval_rows, final, counters,
                      (t0, t1, t2))


def run_result(scenario: Scenario, seed: Any, topo: Topology, recorder: Recorder,
               per_row: list[float], eval_rows: Any, final: dict[str, np.ndarray],
               counters: dict[str, Any], clock: tuple[float, float, float]) -> RunResult:
    """The :class:`RunResult` of a finished run (shared by the SimPy engine and the compiled
    path); ``clock`` is (start, simulation start, end) from ``time.perf_counter``."""
    t0, t1, t2 = clock
    activations = counters["activations"]
    return RunResult(
        scenario=scenario,
        seed=int(seed) if isinstance(seed, (int, np.integer)) else -1,
        error=float(np.mean(per_row)) if per_row else float("nan"),
        per_row_errors=[float(x) for x in per_row],
        eval_rows=[int(r) for r in eval_rows],
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
        version=_version(),
    )


def reference_draws(scenario: Scenario, rs: np.random.RandomState) -> None:
    """Advance ``rs`` by exactly the draws one ``rng.mode = 'reference'`` run makes.

    The draws never depend on what the run computes (pruning changes no array sizes), so a
    shared stream can be fast-forwarded run by run without simulating: this gives each run
    of a grid its starting state, and the runs can then go in parallel. The order is the
    one :func:`simulate` uses: training rows, the weight matrix, one shuffle of the active
    nodes per training pass, the evaluation row order, one shuffle per evaluation pass.
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
    rs.shuffle(np.arange(task.n_rows))
    for _ in range(task.n_rows * sched.eval_sweeps):
        rs.shuffle(active)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(enabled: bool, total: int) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="input", leave=False, mininterval=0.5)
