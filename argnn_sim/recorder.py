"""A cheap columnar trace of what happened. It observes; it never feeds back into nodes.

Levels (``[record] traces``): ``full`` keeps, for the watched nodes (``record.watch``;
see :func:`watched_nodes`), the eigenvalues of every spectral check and, in the async
schedule, the age of the information each activation used; ``prunes`` keeps prune
events and curves only; ``none`` keeps prune events and counts.

>>> sorted(watched_nodes(12, inputs=(0, 1), output=11, watch=4))
[2, 6, 10, 11]
>>> watched_nodes(6, inputs=(0, 1), output=5, watch=4) is None  # 4 active nodes: all
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Recorder", "watched_nodes"]


def watched_nodes(n: int, inputs: Sequence[int], output: int, watch: int
                  ) -> frozenset[int] | None:
    """The nodes whose eigenvalue traces level ``full`` keeps; ``None`` means all.

    All non-input nodes when there are at most ``watch`` of them (or ``watch`` is 0);
    otherwise the output node and ``watch - 1`` others at evenly spaced places in the
    ascending list of non-input nodes (first and last included): no random draw, so the
    same nodes in every run of a network.

    Parameters
    ----------
    n
        Nodes.
    inputs
        The input nodes.
    output
        The output node.
    watch
        ``record.watch``.

    Returns
    -------
    frozenset of int, or None (every node)

    Examples
    --------
    >>> sorted(watched_nodes(12, inputs=(0, 1), output=11, watch=4))
    [2, 6, 10, 11]
    """
    ins = set(inputs)
    active = [k for k in range(n) if k not in ins]
    if watch == 0 or len(active) <= watch:
        return None
    others = [k for k in active if k != output]
    m = watch - 1
    picked = {others[round(i * (len(others) - 1) / (m - 1))] for i in range(m)} if m > 1 \
        else ({others[0]} if m == 1 else set())
    return frozenset(picked | {output})


class Recorder:
    """Collects prune events, curves and (optionally) eigenvalue traces of one run."""

    def __init__(self, level: str = "full", *, clock: Any = None,
                 watch: frozenset[int] | None = None) -> None:
        self.level = level
        self.clock = clock  # anything with a ``now`` attribute (the SimPy environment)
        self.tracks_age = False
        self.watch = watch  # nodes whose eigenvalues level full keeps (None: all)
        self.input = -1
        self.sweep = -1
        self.checks = 0
        self.prunes: list[dict[str, Any]] = []
        self._ck: dict[str, list[Any]] = {k: [] for k in ("node", "time", "input", "sweep", "k")}
        self._members: list[Sequence[int]] = []
        self._values: list[npt.NDArray[np.complex128]] = []
        self._per_node: dict[int, int] = {}
        self._age: dict[str, list[float]] = {"node": [], "time": [], "age": []}
        self._age_chunks: list[tuple[npt.NDArray[Any], ...]] = []
        self._curve: dict[str, list[float]] = {"input": [], "time": [], "train_error": [],
                                                "edges": []}

    @property
    def now(self) -> float:
        return float(self.clock.now) if self.clock is not None else 0.0

    # ----- observer interface (called by nodes) ------------------------------------
    def watches(self, node: int) -> bool:
        """Whether ``node`` is watched: level ``full`` keeps its checks' eigenvalues and (async)
        the age of the news each of its activations used.

        Parameters
        ----------
        node : a node number.

        Returns
        -------
        bool
        """
        return self.watch is None or node in self.watch

    def keeps_eigenvalues(self, node: int) -> bool:
        """Whether :meth:`on_check` keeps the eigenvalues of ``node``'s checks.

        Parameters
        ----------
        node : a node number.

        Returns
        -------
        bool
        """
        return self.level == "full" and self.watches(node)

    def on_check(self, node: int, star: Sequence[int], eigenvalues: Any) -> None:
        """A node's spectral check: counted always, kept at level ``full`` for watched nodes.

        Parameters
        ----------
        node
            The checking node.
        star
            The star's members, by place.
        eigenvalues
            The star Laplacian's eigenvalues, by place (may be ``None`` when not kept).
        """
        self.checks += 1
        if self.level != "full" or (self.watch is not None and node not in self.watch):
            return  # (keeps_eigenvalues, spelt out: this runs on every check)
        self.add_check(node, self.now, self.input, self.sweep, star, eigenvalues)

    def add_check(self, node: int, time: float, input: int, sweep: int, star: Sequence[int],
                  eigenvalues: Any) -> None:
        """Keep one check at level ``full`` (what :meth:`on_check` does, with the time and the input
        given: the compiled engine hands over its checks after the fact).

        Parameters
        ----------
        node
            When and where.
        time
            When and where.
        input
            When and where.
        sweep
            When and where.
        star
            The members.
        eigenvalues
            Their values.
        """
        k = self._per_node.get(node, 0)
        self._per_node[node] = k + 1
        ck = self._ck
        ck["node"].append(node)
        ck["time"].append(time)
        ck["input"].append(input)
        ck["sweep"].append(sweep)
        ck["k"].append(k)
        self._members.append(star)
        self._values.append(eigenvalues)

    def on_prune(self, decider: int, frm: int, to: int, remote: bool) -> None:
        """An edge was removed.

        Parameters
        ----------
        decider
            The node whose check chose it.
        frm
            The edge.
        to
            The edge.
        remote
            Whether it was removed by a prune request to its owner (reference rule).
        """
        self.prunes.append({"input": self.input, "sweep": self.sweep, "time": self.now,
                            "node": decider, "edge": [frm, to], "remote": remote})

    def add_ages(self, nodes: npt.NDArray[Any], times: npt.NDArray[Any],
                 ages: npt.NDArray[Any]) -> None:
        """Ages of many activations at once, as arrays (kept as arrays: no float objects).

        Parameters
        ----------
        nodes
            One entry per activation.
        times
            One entry per activation.
        ages
            One entry per activation.
        """
        self._age_chunks.append((nodes.astype(np.int32), times.astype(np.float64),
                                 ages.astype(np.float64)))

    def on_activate(self, node: int, now: float, age: float) -> None:
        """The mean age of the news one activation used (async, level ``full``, watched nodes).

        Parameters
        ----------
        node
            Which node, when.
        now
            Which node, when.
        age
            The mean age of its registers' news.
        """
        self._age["node"].append(node)
        self._age["time"].append(now)
        self._age["age"].append(age)

    # ----- engine-side observations -------------------------------------------------
    def curve_point(self, *, input: int, time: float, train_error: float, edges: int) -> None:
        """The training curve after one input: its ``|V_out - y|`` and the edge count.

        Parameters
        ----------
        input
            Which input and when.
        time
            Which input and when.
        train_error
            ``|V_out - y|``.
        edges
            Edges standing.
        """
        c = self._curve
        c["input"].append(input)
        c["time"].append(time)
        c["train_error"].append(train_error)
        c["edges"].append(edges)

    # ----- columnar output ----------------------------------------------------------
    def curves(self) -> dict[str, npt.NDArray[Any]]:
        """The training curve as arrays: ``input``, ``time``, ``train_error``, ``edges``.

        Returns
        -------
        dict of str -> array
        """
        c = self._curve
        return {
            "input": np.asarray(c["input"], dtype=np.int64),
            "time": np.asarray(c["time"], dtype=np.float64),
            "train_error": np.asarray(c["train_error"], dtype=np.float64),
            "edges": np.asarray(c["edges"], dtype=np.int64),
        }

    def traces(self) -> dict[str, npt.NDArray[Any]]:
        """Eigenvalue traces in CSR layout.

        ``check_*`` arrays have one entry per check; the entries of check ``c`` are
        ``entry_*[check_start[c]:check_start[c + 1]]``: ``entry_member`` is the node at
        that position of the star, ``entry_real``/``entry_imag`` the eigenvalue there.
        ``age_*``: one entry per traced activation (async).

        Returns
        -------
        dict of str -> array
        """
        ck = self._ck
        lengths = np.fromiter((len(m) for m in self._members), dtype=np.int64,
                              count=len(self._members))
        start = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=start[1:])
        if self._values:
            vals = np.concatenate(self._values)
            members = np.fromiter((v for m in self._members for v in m), dtype=np.int32,
                                  count=int(start[-1]))
        else:
            vals = np.zeros(0, dtype=np.complex128)
            members = np.zeros(0, dtype=np.int32)
        return {
            "check_node": np.asarray(ck["node"], dtype=np.int32),
            "check_time": np.asarray(ck["time"], dtype=np.float64),
            "check_input": np.asarray(ck["input"], dtype=np.int64),
            "check_sweep": np.asarray(ck["sweep"], dtype=np.int32),
            "check_k": np.asarray(ck["k"], dtype=np.int64),
            "check_start": start,
            "entry_member": members,
            "entry_real": np.ascontiguousarray(vals.real, dtype=np.float64),
            "entry_imag": np.ascontiguousarray(vals.imag, dtype=np.float64),
            "age_node": self._ages(0, "node", np.int32),
            "age_time": self._ages(1, "time", np.float64),
            "age_value": self._ages(2, "age", np.float64),
        }

    def _ages(self, i: int, key: str, dtype: Any) -> npt.NDArray[Any]:
        parts = [np.asarray(self._age[key], dtype=dtype)] + [c[i] for c in self._age_chunks]
        return np.concatenate(parts).astype(dtype, copy=False)
