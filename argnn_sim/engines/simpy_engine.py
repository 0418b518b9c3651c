"""The SimPy engine: the executable specification. One SimPy process per node.

Wires the SimPy environment, the nodes (:mod:`argnn_sim.node`) and the channels
(:mod:`argnn_sim.channel`), and runs a schedule:

* ``sweep`` (the papers' setting): per training input, ``sweeps`` passes; each pass wakes
  every non-input node once, in a fresh random order, at zero delay. Evaluation: every
  truth-table row (in a random order), ``eval_sweeps`` passes without learning or pruning.
* ``async``: every non-input node wakes on its own Poisson clock (rate ``wake_rate``);
  inputs and target change every ``input_period``; messages take channel delays and may
  be lost. Evaluation holds each row for one ``input_period`` without learning.

Which input is presented when comes from :class:`~argnn_sim.engines.teacher.InputDriver`,
as in every engine. It runs every scenario; the other engines of
:mod:`argnn_sim.engines` are faster ways to the same results.

>>> from argnn_sim.config import Scenario, ScheduleConfig
>>> r = run_simpy(Scenario(schedule=ScheduleConfig(inputs=50)), seed=1)
>>> r.edges_before, 0.0 <= r.error <= 1.0, r.engine
(12, True, 'simpy')
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import simpy

from ..channel import Transport
from ..config import Scenario
from ..node import HIDDEN, INPUT, OUTPUT, Node, Phase
from ..pruning import make_policy
from ..recorder import Recorder
from ..results import RunResult
from ..rng import SeedLike, Streams
from ..topology import Topology
from .teacher import InputDriver, Step, fault_counters, prepare, run_result

__all__ = ["run_simpy", "Network", "Faults", "Triggers", "PoissonClock"]


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
        return fault_counters(self.log, end, self.train_end)


class Network:
    """The simulated network of one run: environment, transport, nodes and observers.

    Built by :func:`simulate`; exposed for tests and notebooks that drive nodes by hand.
    """

    def __init__(self, scenario: Scenario, topo: Topology, streams: Streams,
                 recorder: Recorder, *, delivery: str = "lazy",
                 arithmetic: str = "portable") -> None:
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
        outputs = set(topo.output_ids)
        nc = scenario.node
        self.nodes: list[Node] = []
        for k in range(n):
            role = INPUT if k in inputs else (OUTPUT if k in outputs else HIDDEN)
            node = Node(k, role, in_src=ins[k], in_w=inw[k], out_dst=sorted(outs[k]),
                        port=self.transport.port(k), policy=policy, observer=recorder,
                        phase=self.phase, error_factor=nc.error_factor, clip=nc.clip,
                        bias=nc.bias, arithmetic=arithmetic)
            self.transport.attach(node.handlers())
            self.nodes.append(node)
        self.input_ids = list(topo.inputs)
        self.active_ids = [k for k in range(n) if k not in inputs]
        self.output = self.nodes[topo.output]
        self.outputs = [self.nodes[k] for k in topo.output_ids]
        for node in self.nodes:
            node.announce()

    def edge_count(self) -> int:
        return sum(len(nd.in_src) for nd in self.nodes)

    def remove_edges(self, edges: list[tuple[int, int]]) -> None:
        """Remove edges ``(from, to)`` from outside the nodes (an experimenter's centralized
        pruning): each receiver drops its input edge and tells the sender, as its own prune
        would; the recorder sees each as a prune by the receiver.

        Parameters
        ----------
        edges : the edges; ones that no longer stand are ignored.
        """
        for frm, to in edges:
            node = self.nodes[to]
            if frm in node.in_src:
                node.drop_input(frm, decider=to)

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


def _present(net: Network, trig: Triggers, step: Step) -> None:
    for k, x in zip(net.input_ids, step.inputs):
        trig.fire(k, float(x))
    for node, y in zip(net.outputs, step.targets):
        node.set_target(y)


def _holder(net: Network, driver: InputDriver, prep: Any, trig: Triggers
            ) -> Callable[[Step], Any]:
    """How the teacher holds a step, by schedule: the sweep schedule's passes (each wakes
    every active node once, in an order drawn from the schedule stream), or one input
    period while the nodes wake on their own Poisson clocks."""
    env, recorder, streams = net.env, prep.recorder, prep.streams
    sched = prep.scenario.schedule
    if sched.kind == "sweep":
        wake = Triggers(env, prep.topo.n)
        net.start(wake.wait, trig)
        active = np.asarray(net.active_ids)

        def hold(step: Step) -> Any:
            for s in range(driver.passes(step)):
                if step.learn:
                    recorder.sweep = s
                order = active.copy()
                streams.schedule.shuffle(order)
                for k in order.tolist():
                    wake.fire(k)
                yield env.timeout(1)
        return hold
    recorder.tracks_age = prep.scenario.record.traces == "full"
    net.start(PoissonClock(env, sched.wake_rate, streams.schedule).wait, trig)

    def hold_period(step: Step) -> Any:
        yield env.timeout(sched.input_period)
    return hold_period


def run_simpy(scenario: Scenario, seed: SeedLike = None, *, progress: bool = False,
              delivery: str = "lazy",
              after_training: Callable[[Network], None] | None = None) -> RunResult:
    """Run one scenario on the SimPy engine and return its :class:`RunResult`.

    Parameters
    ----------
    scenario : a validated :class:`~argnn_sim.config.Scenario`.
    seed : int, ``SeedSequence``, ``Generator`` or (reference rng mode) ``RandomState``;
        defaults to ``scenario.seed``. Same scenario and seed give identical results.
    progress : show a progress bar on stderr.
    delivery : ``"lazy"`` (default) or ``"eager"`` (one SimPy event per delayed message);
        identical results, see :mod:`argnn_sim.channel`.
    after_training : called with the :class:`Network` once training ends, before the
        evaluation: an experimenter's intervention on the trained network (e.g. a
        centralized pruning, :meth:`Network.remove_edges`), not a decentralized mechanism.

    Returns
    -------
    RunResult

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> run_simpy(Scenario.from_dict({"schedule": {"inputs": 5}}), 0).counters["activations"]
    270
    """
    t0 = time.perf_counter()
    prep = prepare(scenario, seed)
    streams, topo, recorder = prep.streams, prep.topo, prep.recorder
    net = Network(scenario, topo, streams, recorder, delivery=delivery,
                  arithmetic=prep.arithmetic)
    driver = InputDriver(prep)
    env = net.env
    trig = Triggers(env, topo.n)
    total = driver.training_steps()
    bar = _progress(progress, total)
    faults = Faults(env, scenario.faults, net.nodes, streams.faults)

    def end_training() -> None:
        net.phase.learning = False
        faults.train_end = float(env.now)
        if not scenario.faults.during_eval:
            faults.stop()
        if after_training is not None:
            after_training(net)

    hold = _holder(net, driver, prep, trig)
    def teacher() -> Any:
        for step in driver.steps(end_training):
            _present(net, trig, step)
            yield from hold(step)
            driver.record(step, [nd.V for nd in net.outputs], env.now, len(recorder.prunes))
            if step.learn:
                bar.update(1)

    t1 = time.perf_counter()
    env.run(until=env.process(teacher()))
    net.transport.deliver_all()  # what arrived by the end (counts of missed messages)
    t2 = time.perf_counter()
    bar.close()
    activations = sum(nd.activations for nd in net.nodes)
    counters: dict[str, Any] = {"activations": activations, "checks": recorder.checks,
                                "messages": net.transport.counters()}
    if scenario.faults.crash_rate > 0:
        counters["faults"] = faults.counters(env.now)
        counters["faults"]["messages_missed"] = sum(nd.missed for nd in net.nodes)
    return run_result(prep, driver, net.final_edges(), counters, (t0, t1, t2), "simpy")


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
