"""One ARGNN node: its local state, the local rule (paper Eq. 1-3) and its SimPy process.

The decentralization wall: a node holds its own input weights, registers filled by
messages (the latest value of each in-neighbour; the latest error of each out-neighbour
and the weight that neighbour holds on the edge from this node), a :class:`Port` to send
through, its pruning policy and a write-only observer. It never holds another node, the
global adjacency or the global weight matrix.

Node ``k``'s activation, in the reference's order:

1. ``V_k = sigmoid(sum_i V_i W_ik)`` over its input edges (Eq. 1); send ``V_k`` forward.
2. ``E_k = f (V_k - y)`` at the output, else ``E_k = (sum_j E_j W_kj) (V_k (1 - V_k))`` (Eq. 2).
3. When learning: ``W_ik <- clip(W_ik - E_k V_i, -c, c)`` (Eq. 3); send ``(E_k, W_ik)`` back.
4. When pruning: ask the policy; drop an own input edge or send a prune request.

Every number comes from :mod:`argnn_sim.rule`, the one statement of the rule that every
engine runs, in the node's arithmetic (``reference``: NumPy's ``exp`` and BLAS ``ddot``
over the star laid out in ascending node order, as the published program; ``portable``:
ours, basic IEEE operations in a fixed order).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from . import rule
from .spectral import Star, make_star

if TYPE_CHECKING:  # pragma: no cover
    import simpy

    from .channel import Port
    from .pruning import Policy

__all__ = ["Node", "Phase", "Star", "make_star", "Observer", "NullObserver"]

INPUT, HIDDEN, OUTPUT = "input", "hidden", "output"
# the rule's functions, bound once (a module attribute lookup per call adds up here)
_accepts, _blocked_sum, _running_dot = rule.accepts, rule.blocked_sum, rule.running_dot
_output_error, _hidden_error, _update_inputs = (rule.output_error, rule.hidden_error,
                                                rule.update_inputs)


class Observer(Protocol):
    """What a node reports (write-only: nothing flows back into the node)."""

    tracks_age: bool

    def watches(self, node: int) -> bool:
        """Whether per-check and per-activation traces of ``node`` are kept."""

    def keeps_eigenvalues(self, node: int) -> bool:
        """Whether on_check keeps ``node``'s eigenvalues (else a check may pass None)."""

    def on_check(self, node: int, star: Sequence[int], eigenvalues: Any) -> None:
        """A spectral check of ``node`` with its star's members and eigenvalues."""

    def on_prune(self, decider: int, frm: int, to: int, remote: bool) -> None:
        """``decider``'s check removed ``frm -> to`` (``remote``: by a prune request)."""

    def on_activate(self, node: int, now: float, age: float) -> None:
        """The mean age of the news ``node`` used when it acted at ``now``."""


class NullObserver:
    """An observer that keeps nothing (for nodes driven by hand)."""

    tracks_age = False

    def watches(self, node: int) -> bool:
        """Watches nothing."""
        return False

    def keeps_eigenvalues(self, node: int) -> bool:
        """Keeps nothing."""
        return False

    def on_check(self, node: int, star: Sequence[int], eigenvalues: Any) -> None:
        """Ignored."""

    def on_prune(self, decider: int, frm: int, to: int, remote: bool) -> None:
        """Ignored."""

    def on_activate(self, node: int, now: float, age: float) -> None:
        """Ignored."""


@dataclass
class Phase:
    """The teacher's broadcast switch: whether nodes learn and prune right now."""

    learning: bool = True
    pruning: bool = True


class Node:
    """One network node. See the module docstring for the rule.

    Parameters
    ----------
    node_id
        This node's number.
    role
        ``"input"``, ``"hidden"`` or ``"output"``.
    in_src
        In-neighbours, ascending.
    in_w
        The weights of their edges into this node.
    out_dst
        Out-neighbours (subscribers), ascending.
    port
        Where messages go.
    policy
        Pruning policy.
    observer
        Trace sink.
    phase
        The shared learning/pruning switch.
    error_factor
        Constants of the local rule.
    clip
        Constants of the local rule.
    bias
        Constants of the local rule.
    arithmetic
        ``"portable"`` or ``"reference"`` (see :mod:`argnn_sim.rule`).
    """

    __slots__ = (
        "id", "role", "in_src", "in_w", "in_v", "in_stamp", "out_dst", "out_e", "out_w",
        "out_stamp", "V", "E", "y", "b", "port", "policy", "observer", "phase",
        "error_factor", "clip", "bias", "activations", "down", "missed", "_star", "_in_at",
        "_out_at", "arithmetic", "_sigmoid", "_sum_in", "_sum_out", "_bufs",
    )

    def __init__(self, node_id: int, role: str, *, in_src: Sequence[int], in_w: Sequence[float],
                 out_dst: Sequence[int], port: Port, policy: Policy, observer: Observer,
                 phase: Phase, error_factor: float = 0.15, clip: float = 10.0,
                 bias: bool = False, arithmetic: str = "portable") -> None:
        if role not in (INPUT, HIDDEN, OUTPUT):
            raise ValueError(f"role {role!r}; choose input, hidden or output")
        if list(in_src) != sorted(set(in_src)) or list(out_dst) != sorted(set(out_dst)):
            raise ValueError("in_src and out_dst must be ascending without repeats")
        if len(in_src) != len(in_w):
            raise ValueError("in_src and in_w differ in length")
        if any(not math.isfinite(w) for w in in_w):
            raise ValueError(f"node {node_id}: input weights must be finite, got {list(in_w)}")
        self.id = node_id
        self.role = role
        self.in_src = list(in_src)
        self.in_w = [float(w) for w in in_w]
        self.in_v = [0.0] * len(self.in_src)
        self.in_stamp = [-math.inf] * len(self.in_src)
        self.out_dst = list(out_dst)
        self.out_e = [0.0] * len(self.out_dst)
        self.out_w = [0.0] * len(self.out_dst)
        self.out_stamp = [-math.inf] * len(self.out_dst)
        self.V = 0.0
        self.E = 0.0
        self.y = 0.0
        self.b = 0.0
        self.port = port
        self.policy = policy
        self.observer = observer
        self.phase = phase
        self.error_factor = float(error_factor)
        self.clip = float(clip)
        self.bias = bool(bias)
        self.activations = 0
        self.down = False  # crashed: neither wakes nor hears (see engines.simpy_engine.Faults)
        self.missed = 0  # value and error messages that arrived while down
        if arithmetic not in rule.ARITHMETICS:
            raise ValueError(f"arithmetic {arithmetic!r}; choose one of {rule.ARITHMETICS}")
        self.arithmetic = arithmetic
        if arithmetic == "reference":
            self._sigmoid = rule.sigmoid_reference
            self._sum_in, self._sum_out = self._in_reference, self._out_reference
        else:
            self._sigmoid = rule.sigmoid
            self._sum_in, self._sum_out = self._in_portable, self._out_portable
        self._index()

    def _index(self) -> None:
        """Neighbour id -> slot, rebuilt whenever an edge goes; the star and the reference
        arithmetic's buffers (laid out by the star's places) are built again on next use."""
        self._star: Star | None = None
        self._bufs: tuple[Any, ...] = ()
        self._in_at = {v: i for i, v in enumerate(self.in_src)}
        self._out_at = {v: j for j, v in enumerate(self.out_dst)}

    # ----- message handlers (called by the transport on delivery) --------------------
    def handlers(self) -> tuple[Callable[..., None], ...]:
        """Handlers indexed by message kind (value, error, hello, unsubscribe, prune).

        Returns
        -------
        tuple of callables (the transport calls them on delivery)
        """
        return (self.on_value, self.on_error, self.on_hello, self.on_unsubscribe,
                self.on_prune_request)

    def on_value(self, src: int, v: float, stamp: float) -> None:
        """A value message from in-neighbour ``src``: its register takes ``v`` unless it holds
        newer news (:data:`argnn_sim.rule.accepts`); lost while the node is down.

        Parameters
        ----------
        src
            The sender.
        v
            Its value.
        stamp
            When it was sent.
        """
        if self.down:
            self.missed += 1
            return
        i = self._in_at.get(src)
        if i is None:
            return  # an edge already pruned: the sender has not heard yet
        if _accepts(stamp, self.in_stamp[i]):  # late news never overwrites newer news
            self.in_v[i] = v
            self.in_stamp[i] = stamp

    def on_error(self, src: int, e: float, w: float, stamp: float) -> None:
        """An error message from out-neighbour ``src``: its error ``e`` and the weight ``w`` it
        holds on the edge from this node (Eq. 2 and the local Laplacian need both).

        Parameters
        ----------
        src
            The sender.
        e
            Its error.
        w
            ``W[this node, src]``.
        stamp
            When it was sent.
        """
        if self.down:
            self.missed += 1
            return
        j = self._out_at.get(src)
        if j is None:
            return
        if _accepts(stamp, self.out_stamp[j]):
            self.out_e[j] = e
            self.out_w[j] = w
            self.out_stamp[j] = stamp

    def on_hello(self, src: int, w: float, stamp: float) -> None:
        """Link set-up: out-neighbour ``src`` tells the initial weight of its edge from this node.

        Parameters
        ----------
        src
            The sender.
        w
            The weight.
        stamp
            When it was sent.
        """
        try:
            j = self.out_dst.index(src)
        except ValueError:
            return
        if _accepts(stamp, self.out_stamp[j]):
            self.out_w[j] = w

    def on_unsubscribe(self, src: int, stamp: float) -> None:
        """Out-neighbour ``src`` removed its edge from this node: stop sending to it.

        Parameters
        ----------
        src
            The sender.
        stamp
            When it was sent.
        """
        try:
            j = self.out_dst.index(src)
        except ValueError:
            return
        for lst in (self.out_dst, self.out_e, self.out_w, self.out_stamp):
            del lst[j]
        self._index()

    def on_prune_request(self, decider: int, frm: int, stamp: float) -> None:
        """Another node's check named this node's input edge ``frm -> self`` (reference rule).

        Parameters
        ----------
        decider
            The node whose check named it.
        frm
            The edge's source.
        stamp
            When sent.
        """
        if frm in self.in_src:
            self.drop_input(frm, decider=decider)

    # ----- the local rule -----------------------------------------------------------
    def set_target(self, y: float) -> None:
        """The teacher's signal for the output node.

        Parameters
        ----------
        y : the target.
        """
        self.y = float(y)

    def present(self, x: float) -> None:
        """An input node takes its new value and sends it on.

        Parameters
        ----------
        x : the input value.
        """
        self.port.collect()  # unsubscribes that have arrived
        self.V = float(x)
        self.port.value(self.out_dst, self.V)

    def announce(self) -> None:
        """Link set-up: tell each in-neighbour the initial weight of its edge to this node."""
        for src, w in zip(self.in_src, self.in_w):
            self.port.hello(src, w)

    def activate(self) -> None:
        """One activation: Eq. 1-3 (:mod:`argnn_sim.rule`, in the node's arithmetic), the value
        and error messages, then the pruning check (see the module docstring).
        """
        self.activations += 1
        if self.observer.tracks_age and self.observer.watches(self.id):
            self._report_age()
        s_in = self._sum_in()
        if self.bias:
            s_in += self.b
        V = self._sigmoid(s_in)
        self.V = V
        self.port.value(self.out_dst, V)
        if self.role == OUTPUT:
            E = _output_error(self.error_factor, V, self.y)
        else:
            E = _hidden_error(self._sum_out(), V)
        self.E = E
        phase = self.phase
        learning = phase.learning
        if learning:
            in_w = self.in_w
            _update_inputs(in_w, self.in_v, len(in_w), E, self.clip)
            if self.bias:
                self.b -= E
        self.port.errors(self.in_src, E, self.in_w)
        if learning and phase.pruning:
            edge = self.policy.check(self)
            if edge is not None:
                frm, to = edge
                if to == self.id:
                    if frm in self.in_src:
                        self.drop_input(frm, decider=self.id)
                else:
                    self.port.prune_request(to, frm)

    def _in_portable(self) -> float:
        """Eq. 1's sum: :func:`~argnn_sim.rule.blocked_sum` over the star's places (the
        products ``V_i W_ik`` at the places of the in-neighbours, 0 elsewhere)."""
        star = self._star or self.star()
        m = len(star.ids)
        xy = [0.0] * m
        for p, v, w in zip(star.in_pos, self.in_v, self.in_w):
            xy[p] = v * w
        return _blocked_sum(xy, m)

    def _out_portable(self) -> float:
        """Eq. 2's sum: :func:`~argnn_sim.rule.running_dot` over the out-edges, ascending."""
        out_e = self.out_e
        return _running_dot(out_e, self.out_w, len(out_e))

    def _in_reference(self) -> float:
        """Eq. 1's sum as the reference computes it: ``numpy.dot`` of the star's values
        with a strided column of weights (:func:`~argnn_sim.rule.dot_reference`), zeros at
        places without an in-edge."""
        star = self._star or self.star()
        bufs = self._bufs or self._make_bufs(star)
        x, wcol = bufs[0], bufs[1]
        for p, v, w in zip(star.in_pos, self.in_v, self.in_w):
            x[p] = v
            wcol[p] = w
        return rule.dot_reference(x, wcol)

    def _out_reference(self) -> float:
        """Eq. 2's sum as the reference's ``numpy.dot(E * A[k], W[k])``: two contiguous
        vectors over the star's places."""
        star = self._star or self.star()
        bufs = self._bufs or self._make_bufs(star)
        e, w = bufs[2], bufs[3]
        for p, ee, ww in zip(star.out_pos, self.out_e, self.out_w):
            e[p] = ee
            w[p] = ww
        return rule.dot_reference(e, w)

    def _make_bufs(self, star: Star) -> tuple[Any, ...]:
        m = len(star.ids)
        self._bufs = (np.zeros(m), rule.column_buffer(m)[:, 0], np.zeros(m), np.zeros(m))
        return self._bufs

    def drop_input(self, frm: int, *, decider: int) -> None:
        """Remove the input edge ``frm -> self`` and tell ``frm`` to stop sending.

        Parameters
        ----------
        frm
            The edge's source.
        decider
            The node whose check chose the edge.
        """
        i = self.in_src.index(frm)
        for lst in (self.in_src, self.in_w, self.in_v, self.in_stamp):
            del lst[i]
        self._index()
        self.port.unsubscribe(frm)
        self.observer.on_prune(decider, frm, self.id, decider != self.id)

    def crash(self) -> None:
        """Stop: no wakes, and value and error messages are lost until :meth:`recover`."""
        self.port.collect()  # what arrived while it was up
        self.down = True

    def recover(self, reset: bool) -> None:
        """Come back with the weights kept.

        Parameters
        ----------
        reset : also forget the registers (what neighbours last told it).
        """
        self.port.collect()  # what arrived while it was down: missed
        self.down = False
        if reset:
            m, o = len(self.in_src), len(self.out_dst)
            self.in_v = [0.0] * m
            self.in_stamp = [-math.inf] * m
            self.out_e = [0.0] * o
            self.out_w = [0.0] * o
            self.out_stamp = [-math.inf] * o

    def star(self) -> Star:
        """This node's star (cached until an edge changes).

        Returns
        -------
        Star
        """
        st = self._star
        if st is None:
            st = self._star = make_star(self.id, self.in_src, self.out_dst)
        return st

    def _report_age(self) -> None:
        now = self.port.now
        acc = 0.0  # a plain running sum (``sum`` of floats is compensated from Python 3.12)
        cnt = 0
        for t in self.in_stamp:
            if t != -math.inf:
                acc += now - t
                cnt += 1
        if cnt:
            self.observer.on_activate(self.id, now, acc / cnt)

    def run(self, wake: Callable[[int], simpy.Event]) -> Generator[simpy.Event, Any, None]:
        """The node's SimPy process: wait for the next wake, act, repeat.

        Parameters
        ----------
        wake : gives the event of the node's next wake (the schedule's clock).

        Yields
        ------
        simpy.Event
        """
        if self.role == INPUT:
            while True:
                x = yield wake(self.id)
                self.present(x)
        port = self.port
        while True:
            yield wake(self.id)
            if not self.down:
                port.collect()
                self.activate()
