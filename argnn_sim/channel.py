"""Links: delay and loss models, and the transport that delivers messages by callback.

Every sending node has one :class:`Channel` (its outgoing links) with its own random
stream. Delivery writes into the receiver's registers through a handler call: at once
when the delay is zero, otherwise from the callback of a SimPy timeout (no process per
message). Value and error messages may be lost; control messages (hello, unsubscribe,
prune request) are delivered reliably, with delay, as an acknowledged protocol would.

>>> import simpy
>>> from argnn_sim.config import ChannelConfig
>>> from argnn_sim.rng import Streams
>>> ch = Channel(ChannelConfig(model="exponential", delay=2.0), Streams(0).channel(0))
>>> d = [ch.delay() for _ in range(20000)]
>>> abs(sum(d) / len(d) - 2.0) < 0.1
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import simpy

from .config import ChannelConfig
from .rng import Stream, Streams

__all__ = ["Channel", "Transport", "Port", "VALUE", "ERROR", "HELLO", "UNSUBSCRIBE", "PRUNE"]

VALUE, ERROR, HELLO, UNSUBSCRIBE, PRUNE = range(5)
KIND_NAMES = ("value", "error", "hello", "unsubscribe", "prune_request")


class Channel:
    """Delay and loss of one node's outgoing links, drawn from the channel's own stream."""

    __slots__ = ("config", "stream", "_mu")

    def __init__(self, config: ChannelConfig, stream: Stream) -> None:
        self.config = config
        self.stream = stream
        self._mu = 0.0
        if config.model == "lognormal" and config.delay > 0:
            self._mu = math.log(config.delay) - 0.5 * config.spread**2

    def delay(self) -> float:
        """One delay draw (time units)."""
        c = self.config
        if c.delay == 0.0:
            return 0.0
        if c.model == "constant":
            return c.delay
        if c.model == "uniform":
            return float(self.stream.uniform(c.delay - c.spread, c.delay + c.spread))
        if c.model == "exponential":
            return float(self.stream.exponential(c.delay))
        return float(self.stream.lognormal(self._mu, c.spread))

    def lost(self) -> bool:
        """Whether one message is dropped (Bernoulli with probability ``loss``)."""
        return self.config.loss > 0.0 and float(self.stream.random()) < self.config.loss


class Transport:
    """Moves messages between nodes. It alone holds the receivers; nodes hold only a Port.

    Parameters
    ----------
    env : simpy.Environment
    config : ChannelConfig
    streams : Streams (one child stream per sending node)
    """

    def __init__(self, env: simpy.Environment, config: ChannelConfig, streams: Streams) -> None:
        self.env = env
        self.config = config
        self._streams = streams
        self._channels: dict[int, Channel] = {}
        self._handlers: list[tuple[Callable[..., None], ...]] = []
        # Per-kind handler lists for the zero-delay, lossless fast path of value and error.
        self.value_handlers: list[Callable[..., None]] = []
        self.error_handlers: list[Callable[..., None]] = []
        self.instant = config.delay == 0.0 and config.loss == 0.0
        self.sent = [0] * len(KIND_NAMES)
        self.lost = [0] * len(KIND_NAMES)

    def attach(self, handlers: Sequence[Callable[..., None]]) -> int:
        """Register one receiver's handlers (indexed by message kind); returns its address."""
        self._handlers.append(tuple(handlers))
        self.value_handlers.append(handlers[VALUE])
        self.error_handlers.append(handlers[ERROR])
        return len(self._handlers) - 1

    def port(self, src: int) -> Port:
        return Port(src, self)

    def channel(self, src: int) -> Channel:
        ch = self._channels.get(src)
        if ch is None:
            ch = self._channels[src] = Channel(self.config, self._streams.channel(src))
        return ch

    def send(self, src: int, dst: int, kind: int, args: tuple[Any, ...]) -> None:
        """Send one message; ``args`` are the handler's arguments after the stamp."""
        self.sent[kind] += 1
        handler = self._handlers[dst][kind]
        now = self.env.now
        if self.instant:
            handler(*args, now)
            return
        ch = self.channel(src)
        if kind <= ERROR and ch.lost():
            self.lost[kind] += 1
            return
        d = ch.delay()
        if d == 0.0:
            handler(*args, now)
            return
        ev = self.env.timeout(d)
        ev.callbacks.append(lambda _ev: handler(*args, now))

    def counters(self) -> dict[str, dict[str, int]]:
        return {
            "sent": dict(zip(KIND_NAMES, self.sent)),
            "lost": dict(zip(KIND_NAMES, self.lost)),
        }


class Port:
    """A node's only way out: it addresses neighbours by number, never by reference."""

    __slots__ = ("src", "_t")

    def __init__(self, src: int, transport: Transport) -> None:
        self.src = src
        self._t = transport

    @property
    def now(self) -> float:
        return self._t.env.now

    def value(self, dsts: Sequence[int], v: float) -> None:
        t, src = self._t, self.src
        if t.instant:  # zero delay, no loss: deliver now, same order, same counts
            t.sent[VALUE] += len(dsts)
            now = t.env.now
            hs = t.value_handlers
            for d in dsts:
                hs[d](src, v, now)
            return
        send = t.send
        for d in dsts:
            send(src, d, VALUE, (src, v))

    def error(self, dst: int, e: float, w: float) -> None:
        """Backward message: this node's error and the weight of edge ``dst -> this node``."""
        t = self._t
        if t.instant:
            t.sent[ERROR] += 1
            t.error_handlers[dst](self.src, e, w, t.env.now)
            return
        t.send(self.src, dst, ERROR, (self.src, e, w))

    def errors(self, dsts: Sequence[int], e: float, ws: Sequence[float]) -> None:
        """:meth:`error` to every ``dsts[i]`` with weight ``ws[i]``, in order."""
        t, src = self._t, self.src
        if t.instant:
            t.sent[ERROR] += len(dsts)
            now = t.env.now
            hs = t.error_handlers
            for d, w in zip(dsts, ws):
                hs[d](src, e, w, now)
            return
        send = t.send
        for d, w in zip(dsts, ws):
            send(src, d, ERROR, (src, e, w))

    def hello(self, dst: int, w: float) -> None:
        """Link set-up: tell in-neighbour ``dst`` the initial weight of its edge to us."""
        self._t.send(self.src, dst, HELLO, (self.src, w))

    def unsubscribe(self, dst: int) -> None:
        """Tell ``dst`` that its edge into this node is gone: stop sending values."""
        self._t.send(self.src, dst, UNSUBSCRIBE, (self.src,))

    def prune_request(self, dst: int, frm: int) -> None:
        """Ask ``dst`` to remove its input edge from ``frm`` (reference rule, remote prune)."""
        self._t.send(self.src, dst, PRUNE, (self.src, frm))
