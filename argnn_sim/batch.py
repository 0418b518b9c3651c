"""A batched fast path for the papers' setting: many runs of the logic circuit at once.

The SimPy engine (:func:`argnn_sim.engine.simulate`) runs one network at a time and pays
Python's price per activation. In the sweep schedule with zero delay and no loss, a run is
a fixed sequence of activations whose order depends only on the schedule stream, so ``B``
runs of the same shape can advance together: step ``j`` of pass ``p`` activates, in every
run ``b``, the node that run's own shuffle put at place ``j``. Each run keeps its own
dense state (``A``, ``W``, ``V``, ``E`` as in the reference program), and every
arithmetic step is the reference's, element for element, in the same order, so each run
gives exactly what :func:`~argnn_sim.engine.simulate` gives for it: the same prune
events, weights, errors, curves and message counts (the tests compare whole results).
The eigenvalues of a step's ``B`` Laplacians come from one call of NumPy's ``eigvals``
gufunc on the stack: the same LAPACK ``geev`` on each matrix, with the Python overhead
paid once per step instead of once per run.

What it covers (:func:`batch_reason` says why a scenario is not covered): the logic
circuit, the sweep schedule, zero delay and no loss, no faults, pruning ``none`` or the
spectral ``reference`` rule (modes ``D`` and ``DW``, with or without a budget), no bias, and trace
levels ``prunes`` or ``none``. Everything else runs on the SimPy engine. This is an
option for sweeps (``argnn sweep --engine batch``), never a different model.

>>> from argnn_sim.config import Scenario
>>> from argnn_sim.engine import simulate
>>> sc = Scenario.from_dict({"schedule": {"inputs": 40}, "record": {"traces": "none"}})
>>> fast = simulate_batch([sc, sc], [1, 2])
>>> [r.error for r in fast] == [simulate(sc, 1).error, simulate(sc, 2).error]
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .config import ConfigError, Scenario
from .engine import _version
from .results import RunResult
from .rng import Streams
from .tasks import make_task
from .topology import Topology, build

__all__ = ["batch_reason", "batch_key", "simulate_batch", "eval_schedule"]

try:  # numpy.linalg.eigvals without its checks: the same gufunc, the same geev per matrix
    from numpy.linalg import _umath_linalg as _ul

    def _eigvals(L: npt.NDArray[np.float64]) -> npt.NDArray[np.complex128]:
        return _ul.eigvals(L, signature="d->D")  # type: ignore[no-any-return]
except (ImportError, AttributeError):  # pragma: no cover - another NumPy layout
    def _eigvals(L: npt.NDArray[np.float64]) -> npt.NDArray[np.complex128]:
        return np.linalg.eigvals(L).astype(np.complex128, copy=False)


def batch_reason(sc: Scenario) -> str | None:
    """Why ``sc`` cannot run on the batched path, or ``None`` when it can."""
    if sc.network.kind != "logic":
        return f"network.kind = {sc.network.kind!r} (the batched path runs the logic circuit)"
    if sc.schedule.kind != "sweep":
        return "schedule.kind = 'async' (the batched path runs the sweep schedule)"
    if sc.channel.delay != 0.0 or sc.channel.loss != 0.0:
        return "links with delay or loss (the batched path needs instant, lossless links)"
    if sc.faults.crash_rate > 0:
        return "faults.crash_rate > 0"
    p = sc.pruning
    if p.policy not in ("none", "spectral") or (p.policy == "spectral" and p.rule != "reference"):
        return (f"pruning policy {p.policy!r} rule {p.rule!r} (the batched path runs the "
                "spectral reference rule or no pruning)")
    if sc.node.bias:
        return "node.bias = true"
    if sc.record.traces == "full":
        return "record.traces = 'full' (eigenvalue traces: use 'prunes' or 'none')"
    return None


def batch_key(sc: Scenario) -> Hashable:
    """Runs with equal keys can share a batch (same shape and loop lengths)."""
    task = make_task(sc.task)
    s = sc.schedule
    mode = "none" if sc.pruning.policy == "none" else sc.pruning.mode
    return (task.n_inputs, task.n_rows, sc.network.hidden, s.inputs, s.sweeps, s.eval_sweeps,
            mode)


def simulate_batch(scenarios: Sequence[Scenario], seeds: Sequence[Any], *,
                   initial: Sequence[Mapping[str, Any] | None] | None = None) -> list[RunResult]:
    """Run ``scenarios[b]`` with ``seeds[b]`` for every ``b``, together; one result each.

    All scenarios must be covered (:func:`batch_reason`) and share one :func:`batch_key`;
    they may differ in task (gate), seed, weight scale, error factor, clip and pruning
    budget. Each result equals ``simulate(scenarios[b], seeds[b])`` except for its timings
    (the batch's time is shared out evenly).

    initial : optional, per run, the edges to start from instead of the drawn circuit: a
        mapping with ``src``, ``dst`` and ``weight`` arrays (a ``RunResult.final_edges``),
        a subset of the circuit's edges. The run still makes the drawn circuit's random
        draws, so its schedule is the one that seed gives any run of this shape. This is
        how a network changed outside the simulator (pruned, or with trained weights) is
        put back in and evaluated or trained further (``prunegcrn_bridge.compare``).
    """
    if len(scenarios) != len(seeds):
        raise ValueError("scenarios and seeds differ in length")
    if not scenarios:
        return []
    for sc in scenarios:
        why = batch_reason(sc)
        if why is not None:
            raise ConfigError(f"scenario {sc.name!r} cannot run batched: {why}; "
                              "run it with argnn_sim.simulate")
    keys = {batch_key(sc) for sc in scenarios}
    if len(keys) > 1:
        raise ConfigError("a batch needs scenarios of one shape (inputs, hidden nodes, passes, "
                          f"degree mode); got {len(keys)} shapes: group them by batch_key")
    if initial is not None and len(initial) != len(scenarios):
        raise ValueError("initial and scenarios differ in length")
    return _Batch(scenarios, seeds, initial).run()


def eval_schedule(sc: Scenario, seed: Any) -> tuple[np.ndarray, list[int], np.ndarray]:
    """What the evaluation of ``sc`` with ``seed`` uses: the truth table (rows, inputs then
    target), the order of the rows, and the node order of every evaluation pass
    (``(rows x eval_sweeps, active nodes)``). The same draws as :func:`simulate_batch`
    and :func:`~argnn_sim.engine.simulate`."""
    why = batch_reason(sc)
    if why is not None:
        raise ConfigError(f"scenario {sc.name!r} has no batched schedule: {why}")
    b = _Batch([sc], [seed])
    passes = sc.schedule.inputs * sc.schedule.sweeps
    return b.rows[0], b.eval_rows[0].tolist(), np.ascontiguousarray(b.kb[passes:, :, 0])


def _replace_edges(topo: Topology, edges: Mapping[str, Any]) -> Topology:
    src = np.asarray(edges["src"], dtype=np.int64)
    dst = np.asarray(edges["dst"], dtype=np.int64)
    w = np.asarray(edges["weight"], dtype=np.float64)
    if not (src.shape == dst.shape == w.shape) or src.ndim != 1:
        raise ValueError("initial edges need src, dst and weight arrays of one length")
    if not np.all(np.isfinite(w)):
        raise ValueError("initial edges hold a NaN or infinite weight; weights must be finite")
    have = set(zip(topo.src.tolist(), topo.dst.tolist()))
    extra = [(a, b) for a, b in zip(src.tolist(), dst.tolist()) if (a, b) not in have]
    if extra:
        raise ValueError(f"initial edges {extra[:3]} are not edges of the circuit")
    order = np.lexsort((src, dst))
    return Topology(topo.n, topo.labels, topo.inputs, topo.output, src[order], dst[order],
                    w[order])


class _Batch:
    """The state of ``B`` runs and the loop that advances them together."""

    def __init__(self, scenarios: Sequence[Scenario], seeds: Sequence[Any],
                 initial: Sequence[Mapping[str, Any] | None] | None = None) -> None:
        self.t0 = time.perf_counter()
        self.scenarios = list(scenarios)
        self.seeds = list(seeds)
        B = self.B = len(scenarios)
        first = scenarios[0]
        task = make_task(first.task)
        sched = first.schedule
        self.n_in = task.n_inputs
        self.n_rows = task.n_rows
        self.inputs, self.sweeps, self.eval_sweeps = sched.inputs, sched.sweeps, sched.eval_sweeps
        self.mode = "none" if first.pruning.policy == "none" else first.pruning.mode
        n = self.n = task.n_inputs + first.network.hidden + 1
        self.out = n - 1
        m = n - task.n_inputs  # active nodes
        self.Ac = np.zeros((B, n, n))  # Ac[b, k, i] = A[i, k] of run b (column layout)
        self.Wc = np.zeros((B, n, n))
        self.rows = np.zeros((B, self.n_rows, task.n_inputs + 1))
        self.train_rows = np.zeros((B, sched.inputs), dtype=np.int64)
        self.eval_rows = np.zeros((B, self.n_rows), dtype=np.int64)
        passes_train = sched.inputs * sched.sweeps
        passes_eval = self.n_rows * sched.eval_sweeps
        self.orders = np.zeros((B, passes_train + passes_eval, m), dtype=np.int64)
        self.topos = []
        self.ef = np.zeros(B)
        self.clip = np.zeros(B)
        for b, (sc, seed) in enumerate(zip(scenarios, self.seeds)):
            # The draws of engine.simulate, in its order: training rows, weights, then one
            # shuffle per pass (the schedule stream serves nothing else in this setting).
            streams = Streams(seed, sc.rng.mode)
            tk = make_task(sc.task)
            self.train_rows[b] = np.asarray(streams.inputs.integers(tk.n_rows,
                                                                    size=sched.inputs))
            topo = build(sc.network, tk, streams.weights)
            given = initial[b] if initial is not None else None
            if given is not None:
                topo = _replace_edges(topo, given)
            self.topos.append(topo)
            self.Ac[b, topo.dst, topo.src] = 1.0
            self.Wc[b, topo.dst, topo.src] = topo.weight
            self.rows[b] = np.asarray(tk.rows, dtype=np.float64)
            self.ef[b] = sc.node.error_factor
            self.clip[b] = sc.node.clip
            active = np.arange(task.n_inputs, n)
            sh = streams.schedule.shuffle
            ob = self.orders[b]
            for p in range(passes_train):
                o = active.copy()
                sh(o)
                ob[p] = o
            ev = np.arange(self.n_rows)
            sh(ev)
            self.eval_rows[b] = ev
            for p in range(passes_train, passes_train + passes_eval):
                o = active.copy()
                sh(o)
                ob[p] = o
        # Step-major copies of the orders: kb[p, j] is the node each run wakes at place j
        # of pass p; kidx its row in the column layout; is_out whether it is the output.
        ar = np.arange(B)
        self.arn = ar * n
        self.kb = np.ascontiguousarray(self.orders.transpose(1, 2, 0))
        del self.orders
        self.kidx = self.kb + self.arn
        self.is_out = self.kb == self.out
        self.colpos = (ar * n * n)[:, None] + np.arange(n) * n
        A = self.Ac.transpose(0, 2, 1)
        self.outdeg = A.sum(axis=2).astype(np.int64)  # (B, n)
        self.s_out = self.outdeg[:, task.n_inputs:].sum(axis=1)
        self.s_in = A.sum(axis=(1, 2)).astype(np.int64)  # every edge ends at an active node
        self.V = np.zeros((B, n))
        self.E = np.zeros((B, n))
        self.y = np.zeros(B)
        self.edges_before = [t.n_edges for t in self.topos]
        self.prunes: list[list[dict[str, Any]]] = [[] for _ in range(B)]
        self.sent = np.zeros((B, 5), dtype=np.int64)  # value, error, hello, unsubscribe, prune
        self.sent[:, 2] = self.edges_before  # link set-up: one hello per edge
        self.checks = np.zeros(B, dtype=np.int64)
        # pruning.budget (engine.Budgeted): proposals left per run; inf when unlimited.
        # With none left a run neither checks nor counts a check, as the wrapper does.
        self.left = np.array([float(sc.pruning.budget) if sc.pruning.budget > 0 else np.inf
                              for sc in scenarios])
        self.budgeted = bool(np.isfinite(self.left).any())
        self.curve: dict[str, list[Any]] = {"input": [], "time": [], "train_error": [],
                                            "edges": []}
        self.pass_no = 0
        self.t1 = time.perf_counter()

    # ------------------------------------------------------------------ one activation
    def _present(self, row_idx: npt.NDArray[np.int64]) -> None:
        B = self.B
        rows = self.rows[np.arange(B), row_idx]  # (B, n_in + 1)
        self.V[:, :self.n_in] = rows[:, :self.n_in]
        self.y = rows[:, self.n_in].copy()
        # each input node sends its value to its current out-neighbours
        self.sent[:, 0] += self.outdeg[:, :self.n_in].sum(axis=1)

    def _pass(self, learn: bool, t: int, s: int, time_now: float) -> None:
        """One pass of every run. Arrays are kept column-wise: ``Ac[b, k]`` is column ``k``
        of run ``b``'s ``A`` (the edges into ``k``); row ``k`` of ``A`` is gathered with
        the flat positions ``pos`` (``b n^2 + j n + k``)."""
        p = self.pass_no
        self.pass_no += 1
        # Message counts: every active node sends values to its out-neighbours and errors
        # to its in-neighbours once per pass (prunes during the pass are corrected there).
        self.sent[:, 0] += self.s_out
        self.sent[:, 1] += self.s_in
        check = learn and self.mode != "none"
        err = np.seterr(over="ignore")  # exp overflow: V = 1 / (1 + inf) = 0, as the engine
        try:
            self._steps(learn, t, s, time_now, p)
        finally:
            np.seterr(**err)
        if check and not self.budgeted:
            self.checks += self.kidx[p].shape[0]

    def _steps(self, learn: bool, t: int, s: int, time_now: float, p: int) -> None:
        B, n = self.B, self.n
        Acf = self.Ac.reshape(B * n, n)
        Wcf = self.Wc.reshape(B * n, n)
        Aflat = self.Ac.reshape(-1)
        Wflat = self.Wc.reshape(-1)
        V, E = self.V, self.E
        Vf, Ef = V.reshape(-1), E.reshape(-1)
        n1 = n & -4
        check = learn and self.mode != "none"
        mode_d = self.mode == "D"
        ef, y = self.ef, self.y
        lo_c, hi_c = -self.clip[:, None], self.clip[:, None]
        colpos = self.colpos
        kidx_p, kb_p, out_p = self.kidx[p], self.kb[p], self.is_out[p]
        Lshape = (B, n, n)
        add_reduce, add_acc = np.add.reduce, np.add.accumulate
        for j in range(kidx_p.shape[0]):
            idx = kidx_p[j]  # b n + k: row of the column layout
            pos = colpos + kb_p[j][:, None]  # flat positions of row k of A (and W)
            colA = Acf.take(idx, axis=0)
            colW = Wcf.take(idx, axis=0)
            rowA = Aflat.take(pos)
            rowW = Wflat.take(pos)
            # Eq. 1 with the reference's rounding: np.dot on a column is BLAS ddot on a
            # strided operand, two accumulators over blocks of four (see Node._input_sum).
            xy = (V * colA) * colW
            if n1:
                t1 = xy[:, 0] + xy[:, 2]
                t2 = xy[:, 1] + xy[:, 3]
                for i in range(4, n1, 4):
                    t1 = t1 + (xy[:, i] + xy[:, i + 2])
                    t2 = t2 + (xy[:, i + 1] + xy[:, i + 3])
                for i in range(n1, n):
                    t1 = t1 + xy[:, i]
                ssum = t1 + t2
            else:
                ssum = add_acc(xy, axis=1)[:, -1]
            Vk = 1.0 / (1.0 + np.exp(-ssum))
            Vf[idx] = Vk
            # Eq. 2: the output's error, or the back-propagated sum over out-edges in
            # ascending order (a running sum, as the contiguous ddot of the reference)
            acc = add_acc((E * rowA) * rowW, axis=1)[:, -1]
            Ek = np.where(out_p[j], ef * (Vk - y), acc * (Vk * (1.0 - Vk)))
            Ef[idx] = Ek
            if learn:  # Eq. 3
                new = colW - (Ek[:, None] * V) * colA
                Wcf[idx] = np.minimum(np.maximum(new, lo_c), hi_c)
            if not check:
                continue
            # The star's Laplacian as the reference builds it, L = diag(d) - Al * W, entry
            # for entry: Al * W is zero off row and column k, so only those are filled.
            colM = colA * Wcf.take(idx, axis=0)
            rowM = rowA * rowW
            colX, rowX = (colA, rowA) if mode_d else (colM, rowM)
            d = colX + rowX  # off the centre a row and a column hold one entry each
            # the centre: NumPy's pairwise sum along its row, a running sum down its column
            d.reshape(-1)[idx] = (
                add_reduce(rowX, axis=1) + add_acc(colX, axis=1)[:, -1])
            L = np.zeros(Lshape)
            Lf = L.reshape(-1)
            Lf[pos] = 0.0 - colM
            L.reshape(B * n, n)[idx] = 0.0 - rowM
            L.reshape(B, n * n)[:, ::n + 1] = d
            im = _eigvals(L).imag
            hi = im.max(axis=1)
            cand = hi > 0.0
            if self.budgeted:  # runs whose budget is spent neither check nor propose
                open_ = self.left > 0
                self.checks += open_
                cand &= open_
            if cand.any():
                for r in np.flatnonzero(cand).tolist():
                    row = im[r]
                    a = int(row.argmax())
                    b = int(row.argmin())
                    if row[b] == -row[a]:  # the reference's exact conjugate test
                        self.left[r] -= 1
                        self._prune(r, int(kb_p[j][r]), b, a, t, s, time_now, j)

    def _prune(self, r: int, k: int, frm: int, to: int, t: int, s: int, now: float,
               step: int) -> None:
        """Node ``k`` of run ``r``, at place ``step`` of this pass, names edge ``frm -> to``
        (reference rule)."""
        if to != k:
            self.sent[r, 4] += 1  # a prune request to the owner of the edge
        if self.Ac[r, to, frm] != 1.0:
            return
        self.Ac[r, to, frm] = 0.0
        self.Wc[r, to, frm] = 0.0
        self.sent[r, 3] += 1  # the owner tells frm to stop sending
        # Degrees drop now; nodes that act later in this pass send one message fewer.
        order = self.kb[self.pass_no - 1][:, r].tolist()  # this pass's order
        self.outdeg[r, frm] -= 1
        self.s_in[r] -= 1
        if frm >= self.n_in:
            self.s_out[r] -= 1
            if order.index(frm) > step:
                self.sent[r, 0] -= 1
        if order.index(to) > step:
            self.sent[r, 1] -= 1
        self.prunes[r].append({"input": t, "sweep": s, "time": now, "node": k,
                               "edge": [frm, to], "remote": k != to})

    # ------------------------------------------------------------------ the schedule
    def run(self) -> list[RunResult]:
        B = self.B
        sw = self.sweeps
        now = 0.0
        for t in range(self.inputs):
            self._present(self.train_rows[:, t])
            for s in range(sw):
                self._pass(True, t, s, now)
                now += 1.0
            err = np.abs(self.V[:, self.out] - self.y)
            c = self.curve
            c["input"].append(t)
            c["time"].append(now)
            c["train_error"].append(err)
            c["edges"].append([self.edges_before[r] - len(self.prunes[r]) for r in range(B)])
        per_row = np.zeros((B, self.n_rows))
        for i in range(self.n_rows):
            self._present(self.eval_rows[:, i])
            for _s in range(self.eval_sweeps):
                self._pass(False, -1, -1, now)
                now += 1.0
            per_row[:, i] = np.abs(self.V[:, self.out] - self.y)
        return self._results(per_row)

    def _results(self, per_row: npt.NDArray[np.float64]) -> list[RunResult]:
        t2 = time.perf_counter()
        B, n = self.B, self.n
        version = _version()
        acts = (self.pass_no * (n - self.n_in))
        share = (t2 - self.t0) / B
        sim_share = (t2 - self.t1) / B
        names = ("value", "error", "hello", "unsubscribe", "prune_request")
        train_err = np.asarray(self.curve["train_error"]).reshape(-1, B)
        edges = np.asarray(self.curve["edges"], dtype=np.int64).reshape(-1, B)
        out = []
        for b, (sc, seed) in enumerate(zip(self.scenarios, self.seeds)):
            topo = self.topos[b]
            dst, src = np.nonzero(self.Ac[b])  # sorted by (dst, src), as the engine's
            final = {"src": src.astype(np.int64), "dst": dst.astype(np.int64),
                     "weight": self.Wc[b][dst, src].astype(np.float64)}
            curves: dict[str, Any] = {}
            if sc.record.traces != "none":
                curves = {"input": np.asarray(self.curve["input"], dtype=np.int64),
                          "time": np.asarray(self.curve["time"], dtype=np.float64),
                          "train_error": np.ascontiguousarray(train_err[:, b]),
                          "edges": np.ascontiguousarray(edges[:, b])}
            rows = per_row[b].tolist()
            counters = {"activations": acts, "checks": int(self.checks[b]),
                        "messages": {"sent": dict(zip(names, self.sent[b].tolist())),
                                     "lost": dict.fromkeys(names, 0)}}
            out.append(RunResult(
                scenario=sc,
                seed=int(seed) if isinstance(seed, (int, np.integer)) else -1,
                error=float(np.mean(rows)) if rows else math.nan,
                per_row_errors=[float(x) for x in rows],
                eval_rows=[int(r) for r in self.eval_rows[b]],
                prune_events=self.prunes[b],
                edges_before=self.edges_before[b],
                edges_after=int(final["src"].size),
                seconds=share,
                labels=list(topo.labels),
                initial_edges={"src": topo.src, "dst": topo.dst, "weight": topo.weight},
                final_edges=final,
                curves=curves,
                traces={},
                counters=counters,
                timings={"setup": (self.t1 - self.t0) / B, "simulate": sim_share,
                         "activations_per_second": acts / max(sim_share, 1e-12),
                         "batch": B},
                version=version,
            ))
        return out
