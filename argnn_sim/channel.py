"""Links: delay and loss models, and the transport that delivers messages by callback.

Every sending node has one :class:`Channel` (its outgoing links) with its own random
stream. Delivery writes into the receiver's registers through a handler call: at once
when the delay is zero; otherwise when the message arrives. Value and error messages may
be lost; control messages (hello, unsubscribe, prune request) are delivered reliably,
with delay, as an acknowledged protocol would.

Two ways to deliver a delayed message, with identical results (the tests compare them):

* ``eager``: one SimPy timeout per message; its callback runs the handler at the arrival
  time. Simple, and about 3 µs of event handling per message.
* ``lazy`` (the default): the message waits in the receiver's inbox and is handed over,
  with its own stamp, when the receiver next needs its registers: before it acts, before
  it crashes or recovers, and at the end of the run. Value, error, hello and unsubscribe
  handlers only write the receiver's own registers and report nothing, so nobody can
  tell the difference. Nor does the order in which arrived messages are handed over: a
  register keeps the newest stamp whatever the order, a message from a link that is gone
  is dropped before or after the unsubscribe alike, and a message reaching a crashed node
  counts as missed either way. So the inbox is a plain list, scanned at hand-over. Prune
  requests, which report a prune at their arrival time, stay eager and first hand over
  what arrived before them.

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


BLOCK = 16  # delays drawn at a time (a channel's stream is its own, so this changes nothing)


class Channel:
    """Delay and loss of one node's outgoing links, drawn from the channel's own stream.

    Without loss the stream serves delays only, and they are drawn ``BLOCK`` at a time:
    NumPy's generators give the same numbers drawn one by one or as an array, so the
    delays are those of scalar draws. With loss, loss and delay draws interleave per
    message and are drawn one by one.
    """

    __slots__ = ("config", "stream", "_mu", "_buf")

    def __init__(self, config: ChannelConfig, stream: Stream) -> None:
        self.config = config
        self.stream = stream
        self._mu = 0.0
        if config.model == "lognormal" and config.delay > 0:
            self._mu = math.log(config.delay) - 0.5 * config.spread**2
        self._buf: list[float] = []

    def delay(self) -> float:
        """One delay draw (time units).

        Returns
        -------
        float
        """
        c = self.config
        if c.delay == 0.0:
            return 0.0
        if c.model == "constant":
            return c.delay
        if c.loss == 0.0:
            buf = self._buf
            if not buf:
                buf.extend(reversed(self._draw(BLOCK).tolist()))
            return buf.pop()
        return float(self._draw(None))

    def _draw(self, size: int | None) -> Any:
        c = self.config
        if c.model == "uniform":
            return self.stream.uniform(c.delay - c.spread, c.delay + c.spread, size)
        if c.model == "exponential":
            return self.stream.exponential(c.delay, size)
        return self.stream.lognormal(self._mu, c.spread, size)

    def lost(self) -> bool:
        """Whether one message is dropped (Bernoulli with probability ``loss``; one draw).

        Returns
        -------
        bool
        """
        return self.config.loss > 0.0 and float(self.stream.random()) < self.config.loss


class Transport:
    """Moves messages between nodes. It alone holds the receivers; nodes hold only a Port.

    Parameters
    ----------
    env : simpy.Environment
    config : ChannelConfig
    streams : Streams (one child stream per sending node)
    """

    def __init__(self, env: simpy.Environment, config: ChannelConfig, streams: Streams, *,
                 delivery: str = "lazy") -> None:
        if delivery not in ("lazy", "eager"):
            raise ValueError(f"delivery {delivery!r}; choose 'lazy' or 'eager'")
        self.env = env
        self.config = config
        self._streams = streams
        self._channels: dict[int, Channel] = {}
        self._handlers: list[tuple[Callable[..., None], ...]] = []
        self.lazy = delivery == "lazy"
        self._boxes: list[list[tuple[Any, ...]]] = []  # per receiver: (arrival, kind, ...)
        # Per-kind handler lists for the zero-delay, lossless fast path of value and error.
        self.value_handlers: list[Callable[..., None]] = []
        self.error_handlers: list[Callable[..., None]] = []
        self.instant = config.delay == 0.0 and config.loss == 0.0
        self.sent = [0] * len(KIND_NAMES)
        self.lost = [0] * len(KIND_NAMES)

    def attach(self, handlers: Sequence[Callable[..., None]]) -> int:
        """Register one receiver's handlers (indexed by message kind).

        Parameters
        ----------
        handlers : as :meth:`argnn_sim.node.Node.handlers` gives them.

        Returns
        -------
        int (its address: receivers are attached in node order)
        """
        self._handlers.append(tuple(handlers))
        self._boxes.append([])
        self.value_handlers.append(handlers[VALUE])
        self.error_handlers.append(handlers[ERROR])
        return len(self._handlers) - 1

    def port(self, src: int) -> Port:
        """Node ``src``'s way out.

        Parameters
        ----------
        src : the node.

        Returns
        -------
        Port
        """
        return Port(src, self)

    def channel(self, src: int) -> Channel:
        """The channel of sender ``src`` (made on first use, with its own stream).

        Parameters
        ----------
        src : the sending node.

        Returns
        -------
        Channel
        """
        ch = self._channels.get(src)
        if ch is None:
            ch = self._channels[src] = Channel(self.config, self._streams.channel(src))
        return ch

    def send(self, src: int, dst: int, kind: int, args: tuple[Any, ...]) -> None:
        """Send one message.

        Parameters
        ----------
        src
            Sender and receiver.
        dst
            Sender and receiver.
        kind
            VALUE, ERROR, HELLO, UNSUBSCRIBE or PRUNE.
        args
            The handler's arguments after the stamp.
        """
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
        if self.lazy and kind != PRUNE:
            self._boxes[dst].append((now + d, kind, args, now))
            return
        ev = self.env.timeout(d)
        if self.lazy:  # a prune request: hand over what arrived before it, then act
            def arrive(_ev: Any) -> None:
                self.deliver(dst)
                handler(*args, now)
            ev.callbacks.append(arrive)
        else:
            ev.callbacks.append(lambda _ev: handler(*args, now))

    def post(self, src: int, dsts: Sequence[int], kind: int, args: Sequence[tuple[Any, ...]]
             ) -> None:
        """:meth:`send` of one value or error message to each of ``dsts`` (lazy delivery, no
        loss): the same draws and the same order, without a call per message.

        Parameters
        ----------
        src
            The sender.
        dsts
            The receivers.
        kind
            VALUE or ERROR.
        args
            The handler's arguments for each receiver.
        """
        self.sent[kind] += len(dsts)
        now = self.env.now
        ch = self.channel(src)
        boxes = self._boxes
        c = ch.config
        if c.model == "constant" or c.delay == 0.0:
            delay = ch.delay
        else:  # the channel's block of draws, without a call per message
            buf = ch._buf

            def delay() -> float:
                if not buf:
                    buf.extend(reversed(ch._draw(BLOCK).tolist()))
                return buf.pop()
        for d, a in zip(dsts, args):
            dl = delay()
            if dl == 0.0:
                self._handlers[d][kind](*a, now)
            else:
                boxes[d].append((now + dl, kind, a, now))

    def deliver(self, dst: int) -> None:
        """Hand ``dst`` every message waiting for it that has arrived by now.

        Parameters
        ----------
        dst : the receiver.
        """
        box = self._boxes[dst]
        if not box:
            return
        now = self.env.now
        hs = self._handlers[dst]
        later = []
        for msg in box:
            if msg[0] <= now:
                hs[msg[1]](*msg[2], msg[3])
            else:
                later.append(msg)
        self._boxes[dst] = later

    def deliver_all(self) -> None:
        """:meth:`deliver` to every receiver (at the end of a run)."""
        for dst in range(len(self._boxes)):
            self.deliver(dst)

    def counters(self) -> dict[str, dict[str, int]]:
        """Messages sent and lost, by kind.

        Returns
        -------
        dict: ``{"sent": {kind: count}, "lost": {kind: count}}``
        """
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
        """The simulation time.

        Returns
        -------
        float
        """
        return self._t.env.now

    def collect(self) -> None:
        """Take delivery of every message that has arrived for this node by now."""
        t = self._t
        if t.lazy and t._boxes[self.src]:
            t.deliver(self.src)

    def value(self, dsts: Sequence[int], v: float) -> None:
        """Forward: this node's value to every out-neighbour in ``dsts``, in order.

        Parameters
        ----------
        dsts
            The receivers.
        v
            The value.
        """
        t, src = self._t, self.src
        if t.instant:  # zero delay, no loss: deliver now, same order, same counts
            t.sent[VALUE] += len(dsts)
            now = t.env.now
            hs = t.value_handlers
            for d in dsts:
                hs[d](src, v, now)
            return
        if t.lazy and t.config.loss == 0.0:
            t.post(src, dsts, VALUE, [(src, v)] * len(dsts))
            return
        send = t.send
        for d in dsts:
            send(src, d, VALUE, (src, v))

    def error(self, dst: int, e: float, w: float) -> None:
        """Backward message: this node's error and the weight of edge ``dst -> this node``.

        Parameters
        ----------
        dst
            The in-neighbour.
        e
            The error.
        w
            The weight.
        """
        t = self._t
        if t.instant:
            t.sent[ERROR] += 1
            t.error_handlers[dst](self.src, e, w, t.env.now)
            return
        t.send(self.src, dst, ERROR, (self.src, e, w))

    def errors(self, dsts: Sequence[int], e: float, ws: Sequence[float]) -> None:
        """:meth:`error` to every ``dsts[i]`` with weight ``ws[i]``, in order.

        Parameters
        ----------
        dsts
            The in-neighbours.
        e
            The error.
        ws
            The weights of their edges to this node.
        """
        t, src = self._t, self.src
        if t.instant:
            t.sent[ERROR] += len(dsts)
            now = t.env.now
            hs = t.error_handlers
            for d, w in zip(dsts, ws):
                hs[d](src, e, w, now)
            return
        if t.lazy and t.config.loss == 0.0:
            t.post(src, dsts, ERROR, [(src, e, w) for w in ws])
            return
        send = t.send
        for d, w in zip(dsts, ws):
            send(src, d, ERROR, (src, e, w))

    def hello(self, dst: int, w: float) -> None:
        """Link set-up: tell in-neighbour ``dst`` the initial weight of its edge to us.

        Parameters
        ----------
        dst
            The in-neighbour.
        w
            The weight.
        """
        self._t.send(self.src, dst, HELLO, (self.src, w))

    def unsubscribe(self, dst: int) -> None:
        """Tell ``dst`` that its edge into this node is gone: stop sending values.

        Parameters
        ----------
        dst : the former in-neighbour.
        """
        self._t.send(self.src, dst, UNSUBSCRIBE, (self.src,))

    def prune_request(self, dst: int, frm: int) -> None:
        """Ask ``dst`` to remove its input edge from ``frm`` (reference rule, remote prune).

        Parameters
        ----------
        dst
            The edge's owner.
        frm
            The edge's source.
        """
        self._t.send(self.src, dst, PRUNE, (self.src, frm))
