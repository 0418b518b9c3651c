"""The batched engine for the papers' setting: many runs of the logic circuit at once.

The SimPy engine runs one network at a time and pays Python's price per activation. In the
sweep schedule with zero delay and no loss, a run is a fixed sequence of activations whose
order depends only on the schedule stream, so ``B`` runs of the same shape can advance
together: step ``j`` of pass ``p`` activates, in every run ``b``, the node that run's own
shuffle put at place ``j``. Each run keeps its own dense state (``A``, ``W``, ``V``, ``E``
as in the reference program), and every number comes from :mod:`argnn_sim.rule`, applied
to the stack of runs: in the ``reference`` arithmetic the very primitives the SimPy node
calls (``numpy.matmul`` on a stack of row-by-column products is one BLAS ``ddot`` per run,
with the reference's strides; NumPy's ``exp`` on the stack), in the ``portable`` one the
rule's sums over vectors and its sigmoid elementwise. So each run gives exactly what the
SimPy engine gives for it: the same prune events, weights, errors, curves and message counts
(the tests compare whole results). The eigenvalues of a step's ``B`` Laplacians come from
one call of NumPy's ``eigvals`` gufunc on the stack: the same LAPACK ``geev`` per matrix.

What it covers (:func:`batch_reason` says why a scenario is not covered): the logic
circuit, the sweep schedule, zero delay and no loss, no faults, pruning ``none`` or the
spectral ``reference`` rule (modes ``D`` and ``DW``, with or without a budget), no bias, and
trace levels ``prunes`` or ``none``.

>>> from argnn_sim.config import Scenario
>>> from argnn_sim.engines.simpy_engine import run_simpy
>>> sc = Scenario.from_dict({"schedule": {"inputs": 40}, "record": {"traces": "none"}})
>>> fast = simulate_batch([sc, sc], [1, 2])
>>> [r.error for r in fast] == [run_simpy(sc, 1).error, run_simpy(sc, 2).error]
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import rule
from ..config import ConfigError, Scenario
from ..results import RunResult
from ..rng import SeedLike
from ..spectral import eigenvalues
from ..tasks import missing_features, task_kind
from ..topology import Topology
from .teacher import InputDriver, prepare, seed_label, version

__all__ = ["batch_reason", "batch_key", "simulate_batch", "eval_schedule"]

def batch_reason(sc: Scenario) -> str | None:
    """Why ``sc`` cannot run on the batched engine, or ``None`` when it can.

    Parameters
    ----------
    sc : a scenario.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> batch_reason(Scenario.from_dict({"record": {"traces": "prunes"}})) is None
    True
    >>> print(batch_reason(Scenario()))
    record.traces = 'full' (eigenvalue traces: use 'prunes' or 'none')
    """
    why = missing_features(sc, frozenset(), "the batched engine")
    if why is not None:
        return why
    if sc.network.kind != "logic":
        return f"network.kind = {sc.network.kind!r} (the batched engine runs the logic circuit)"
    if sc.schedule.kind != "sweep":
        return "schedule.kind = 'async' (the batched engine runs the sweep schedule)"
    if sc.channel.delay != 0.0 or sc.channel.loss != 0.0:
        return "links with delay or loss (the batched engine needs instant, lossless links)"
    if sc.faults.crash_rate > 0:
        return "node faults (faults.crash_rate > 0)"
    p = sc.pruning
    if p.policy not in ("none", "spectral") or (p.policy == "spectral" and p.rule != "reference"):
        return (f"pruning policy {p.policy!r} rule {p.rule!r} (the batched engine runs the "
                "spectral reference rule or no pruning)")
    if sc.node.bias:
        return "node.bias = true"
    if sc.record.traces == "full":
        return "record.traces = 'full' (eigenvalue traces: use 'prunes' or 'none')"
    return None


def batch_key(sc: Scenario) -> Hashable:
    """Runs with equal keys can share a batch: the same shape, loop lengths, degree mode
    and arithmetic.

    Parameters
    ----------
    sc : a scenario the batched engine covers.

    Returns
    -------
    a hashable key

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> a = Scenario.from_dict({"task": {"gate": "AND"}})
    >>> batch_key(a) == batch_key(a.replace(**{"task.gate": "XOR"}))
    True
    """
    task = task_kind(sc.task.kind).table(sc.task)
    s = sc.schedule
    mode = "none" if sc.pruning.policy == "none" else sc.pruning.mode
    return (task.n_inputs, task.n_rows, sc.network.hidden, s.inputs, s.sweeps, s.eval_sweeps,
            s.evaluate, mode, rule.resolve_arithmetic(sc.node.arithmetic, sc.rng.mode))


def simulate_batch(scenarios: Sequence[Scenario], seeds: Sequence[SeedLike], *,
                   initial: Sequence[Mapping[str, Any] | None] | None = None) -> list[RunResult]:
    """Run ``scenarios[b]`` with ``seeds[b]`` for every ``b``, together; one result each.

    All scenarios must be covered (:func:`batch_reason`) and share one :func:`batch_key`;
    they may differ in task (gate), seed, weight scale, error factor, clip and pruning
    budget. Each result equals the SimPy engine's for that scenario and seed except for
    its timings (the batch's time is shared out evenly).

    Parameters
    ----------
    scenarios
        One per run.
    seeds
        One per run.
    initial
        Optional, per run, the edges to start from instead of the drawn circuit: a mapping
        with ``src``, ``dst`` and ``weight`` arrays (a ``RunResult.final_edges``), a subset
        of the circuit's edges. The run still makes the drawn circuit's random draws, so its
        schedule is the one that seed gives any run of this shape. This is how a network
        changed outside the simulator (pruned, or with trained weights) is put back in and
        evaluated or trained further (``prunegcrn_bridge.compare``).

    Returns
    -------
    list of RunResult, in the order of ``scenarios``.

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> sc = Scenario.from_dict({"schedule": {"inputs": 10}, "record": {"traces": "none"}})
    >>> [r.engine for r in simulate_batch([sc, sc], [0, 1])]
    ['batch', 'batch']
    """
    if len(scenarios) != len(seeds):
        raise ValueError("scenarios and seeds differ in length")
    if not scenarios:
        return []
    for sc in scenarios:
        why = batch_reason(sc)
        if why is not None:
            raise ConfigError(f"scenario {sc.name!r} cannot run on engine 'batch': {why}; "
                              "use engine 'auto' or 'simpy'")
    keys = {batch_key(sc) for sc in scenarios}
    if len(keys) > 1:
        raise ConfigError("a batch needs scenarios of one shape (inputs, hidden nodes, passes, "
                          f"degree mode, arithmetic); got {len(keys)} shapes: group them by "
                          "batch_key")
    if initial is not None and len(initial) != len(scenarios):
        raise ValueError("initial and scenarios differ in length")
    return _Batch(scenarios, seeds, initial).run()


def eval_schedule(sc: Scenario, seed: SeedLike) -> tuple[np.ndarray, list[int], np.ndarray]:
    """What the evaluation of ``sc`` with ``seed`` uses: the truth table (rows, inputs then
    target), the order of the rows, and the node order of every evaluation pass
    (``(rows x eval_sweeps, active nodes)``). The same draws as every engine.

    Parameters
    ----------
    sc
        A scenario the batched engine covers.
    seed
        Its seed.

    Returns
    -------
    (rows, order, passes) : float array (n_rows, n_inputs + 1), list of int, int array.

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> sc = Scenario.from_dict({"schedule": {"inputs": 5}, "record": {"traces": "none"}})
    >>> rows, order, passes = eval_schedule(sc, 0)
    >>> rows.shape, sorted(order), passes.shape
    ((4, 3), [0, 1, 2, 3], (40, 3))
    """
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

    def __init__(self, scenarios: Sequence[Scenario], seeds: Sequence[SeedLike],
                 initial: Sequence[Mapping[str, Any] | None] | None = None) -> None:
        self.t0 = time.perf_counter()
        self.scenarios = list(scenarios)
        self.seeds = list(seeds)
        B = self.B = len(scenarios)
        first = scenarios[0]
        task = task_kind(first.task.kind).table(first.task)
        sched = first.schedule
        self.n_in = task.n_inputs
        self.n_rows = task.n_rows
        self.mode = "none" if first.pruning.policy == "none" else first.pruning.mode
        self.reference = rule.resolve_arithmetic(first.node.arithmetic,
                                                 first.rng.mode) == "reference"
        n = self.n = task.n_inputs + first.network.hidden + 1
        self.out = n - 1
        m = n - task.n_inputs  # active nodes
        self.Ac = np.zeros((B, n, n))  # Ac[b, k, i] = A[i, k] of run b (column layout)
        self.Wc = np.zeros((B, n, n))
        self.rows = np.zeros((B, self.n_rows, task.n_inputs + 1))
        self.train_rows = np.zeros((B, sched.inputs), dtype=np.int64)
        self.n_eval = self.n_rows if sched.evaluate else 0
        self.eval_rows = np.zeros((B, self.n_eval), dtype=np.int64)
        self.steps: list[tuple[bool, int]] = []  # (learn, passes) of every presentation
        passes_total = sched.inputs * sched.sweeps + self.n_eval * sched.eval_sweeps
        orders = np.zeros((B, passes_total, m), dtype=np.int64)
        self.topos = []
        self.ef = np.zeros(B)
        self.clip = np.zeros(B)
        for b, (sc, seed) in enumerate(zip(scenarios, self.seeds)):
            prep = prepare(sc, seed)
            topo = prep.topo
            given = initial[b] if initial is not None else None
            if given is not None:
                topo = _replace_edges(topo, given)
            self.topos.append(topo)
            self.train_rows[b] = prep.train_rows
            self.Ac[b, topo.dst, topo.src] = 1.0
            self.Wc[b, topo.dst, topo.src] = topo.weight
            self.rows[b] = np.asarray(prep.task.rows,  # type: ignore[union-attr]
                                      dtype=np.float64)
            self.ef[b] = sc.node.error_factor
            self.clip[b] = sc.node.clip
            self._draw_orders(prep, orders[b], b)
        # Step-major copies of the orders: kb[p, j] is the node each run wakes at place j
        # of pass p; kidx its row in the column layout; is_out whether it is the output.
        ar = np.arange(B)
        self.arn = ar * n
        self.kb = np.ascontiguousarray(orders.transpose(1, 2, 0))
        del orders
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
        # reference arithmetic: Eq. 1's weights go into column 0 of an (n, n) block per run,
        # a strided operand like the reference's W[:, k] (see rule.column_buffer)
        self.wstrided = np.zeros((B, n, n)) if self.reference else np.zeros((0, 0, 0))
        self.edges_before = [t.n_edges for t in self.topos]
        self.prunes: list[list[dict[str, Any]]] = [[] for _ in range(B)]
        self.sent = np.zeros((B, 5), dtype=np.int64)  # value, error, hello, unsubscribe, prune
        self.sent[:, 2] = self.edges_before  # link set-up: one hello per edge
        self.checks = np.zeros(B, dtype=np.int64)
        # pruning.budget (Budgeted): proposals left per run; inf when unlimited. With none
        # left a run neither checks nor counts a check, as the wrapper does.
        self.left = np.array([float(sc.pruning.budget) if sc.pruning.budget > 0 else np.inf
                              for sc in scenarios])
        self.budgeted = bool(np.isfinite(self.left).any())
        self.curve: dict[str, list[Any]] = {"input": [], "time": [], "train_error": [],
                                            "edges": []}
        self.pass_no = 0
        self.t1 = time.perf_counter()

    def _draw_orders(self, prep: Any, out: npt.NDArray[np.int64], b: int) -> None:
        """Every pass's node order of run ``b``, drawn as the teacher presents the inputs
        (:class:`InputDriver`: the evaluation order is drawn after the training passes)."""
        driver = InputDriver(prep)
        active = np.arange(self.n_in, self.n)
        shuffle_rows = prep.streams.schedule.shuffle_rows
        p = 0
        steps = []
        for step in driver.steps():
            passes = driver.passes(step)
            steps.append((step.learn, passes))
            block = out[p:p + passes]  # this input's passes: one shuffle per row, in order
            block[:] = active
            shuffle_rows(block)
            p += passes
        self.eval_rows[b] = driver.eval_rows
        if b == 0:
            self.steps = steps

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

    def _sums(self, V: npt.NDArray[np.float64], colA: npt.NDArray[np.float64],
              colW: npt.NDArray[np.float64], x2: npt.NDArray[np.float64],
              rowW: npt.NDArray[np.float64]) -> tuple[Any, Any]:
        """The node's value (Eq. 1 and the sigmoid) and Eq. 2's sum of the products
        ``x2 * rowW``, in the run's arithmetic. (Eq. 2 reads the errors of the other nodes,
        which Eq. 1 does not change, so both come together.)"""
        n = self.n
        if self.reference:  # one BLAS ddot per run, strides as the reference's
            S = self.wstrided
            S[:, :, 0] = colW
            s_in = np.matmul((V * colA)[:, None, :], S[:, :, :1])[:, 0, 0]
            acc = np.matmul(x2[:, None, :], rowW[:, :, None])[:, 0, 0]
            return rule.sigmoid_reference_array(s_in), acc
        s_in = rule.blocked_sum(((V * colA) * colW).T, n)
        return rule.sigmoid_array(s_in), rule.running_dot(x2.T, rowW.T, n)

    def _steps(self, learn: bool, t: int, s: int, time_now: float, p: int) -> None:
        """The activations of pass ``p``, place by place: in every run, the node its own
        order puts there."""
        check = learn and self.mode != "none"
        kidx_p, kb_p, out_p = self.kidx[p], self.kb[p], self.is_out[p]
        colpos = self.colpos
        for j in range(kidx_p.shape[0]):
            idx = kidx_p[j]  # b n + k: row of the column layout
            pos = colpos + kb_p[j][:, None]  # flat positions of row k of A (and W)
            colA, rowA, rowW = self._activate(idx, pos, out_p[j], learn)
            if check:
                im = eigenvalues(self._laplacians(idx, pos, colA, rowA, rowW)).imag
                self._propose(im, kb_p[j], t, s, time_now, j)

    def _activate(self, idx: npt.NDArray[np.int64], pos: npt.NDArray[np.int64],
                  is_out: npt.NDArray[np.bool_], learn: bool) -> tuple[Any, Any, Any]:
        """Eq. 1-3 of one node in every run (row ``idx`` of the column layout); returns the
        node's column of ``A`` and its row of ``A`` and ``W`` for the check."""
        B, n = self.B, self.n
        Acf, Wcf = self.Ac.reshape(B * n, n), self.Wc.reshape(B * n, n)
        V, E = self.V, self.E
        colA = Acf.take(idx, axis=0)
        colW = Wcf.take(idx, axis=0)
        rowA = self.Ac.reshape(-1).take(pos)
        rowW = self.Wc.reshape(-1).take(pos)
        Vk, acc = self._sums(V, colA, colW, E * rowA, rowW)
        V.reshape(-1)[idx] = Vk
        Ek = np.where(is_out, rule.output_error(self.ef, Vk, self.y),
                      rule.hidden_error(acc, Vk))
        E.reshape(-1)[idx] = Ek
        if learn:  # Eq. 3
            Wcf[idx] = rule.updated_weights(colW, Ek[:, None], V * colA, self.clip[:, None])
        return colA, rowA, rowW

    def _laplacians(self, idx: npt.NDArray[np.int64], pos: npt.NDArray[np.int64],
                    colA: Any, rowA: Any, rowW: Any) -> npt.NDArray[np.float64]:
        """The star Laplacians of the node, one per run, as the reference builds them:
        ``L = diag(d) - Al * W`` entry for entry (``Al * W`` is zero off row and column
        ``k``, so only those are filled), with the weights after Eq. 3."""
        B, n = self.B, self.n
        colM = colA * self.Wc.reshape(B * n, n).take(idx, axis=0)
        rowM = rowA * rowW
        colX, rowX = (colA, rowA) if self.mode == "D" else (colM, rowM)
        d = colX + rowX  # off the centre a row and a column hold one entry each
        # the centre: NumPy's pairwise sum along its row, a running sum down its column
        d.reshape(-1)[idx] = (np.add.reduce(rowX, axis=1)
                              + np.add.accumulate(colX, axis=1)[:, -1])
        L = np.zeros((B, n, n))
        L.reshape(-1)[pos] = 0.0 - colM
        L.reshape(B * n, n)[idx] = 0.0 - rowM
        L.reshape(B, n * n)[:, ::n + 1] = d
        return L

    def _propose(self, im: npt.NDArray[np.float64], nodes: npt.NDArray[np.int64], t: int,
                 s: int, time_now: float, j: int) -> None:
        """The reference pairing of every run's eigenvalues (``rule.reference_pair``);
        a pair names an edge for :meth:`_prune`."""
        cand = im.max(axis=1) > 0.0  # the rule pairs nothing without a positive Im
        if self.budgeted:  # runs whose budget is spent neither check nor propose
            open_ = self.left > 0
            self.checks += open_
            cand &= open_
        if not cand.any():
            return
        for r in np.flatnonzero(cand).tolist():
            pair = rule.reference_pair(im[r].tolist())
            if pair is not None:
                a, b = pair
                self.left[r] -= 1
                self._prune(r, int(nodes[r]), b, a, t, s, time_now, j)

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
        """Present every input as :class:`InputDriver` does, in every run at once."""
        B = self.B
        now = 0.0
        per_row = np.zeros((B, self.n_eval))
        t = i = 0
        for learn, passes in self.steps:
            rows = self.train_rows[:, t] if learn else self.eval_rows[:, i]
            self._present(rows)
            for s in range(passes):
                self._pass(learn, t if learn else -1, s if learn else -1, now)
                now += 1.0
            err = np.abs(self.V[:, self.out] - self.y)
            if learn:
                c = self.curve
                c["input"].append(t)
                c["time"].append(now)
                c["train_error"].append(err)
                c["edges"].append([self.edges_before[r] - len(self.prunes[r]) for r in range(B)])
                t += 1
            else:
                per_row[:, i] = err
                i += 1
        return self._results(per_row)

    def _results(self, per_row: npt.NDArray[np.float64]) -> list[RunResult]:
        t2 = time.perf_counter()
        B, n = self.B, self.n
        ver = version()
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
                seed=seed_label(seed),
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
                version=ver,
                engine="batch",
            ))
        return out
