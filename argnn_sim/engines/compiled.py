"""The compiled engine: the async schedule run on flat arrays by numba, with results
identical to the SimPy engine's (prune events, weights, curves, traces, counts).

The SimPy engine spends most of an activation on Python objects: about 17 messages, each
a tuple posted to an inbox and handed over later, and a SimPy event per wake (see
``bench/PROFILE.md``). Here the same run goes through a compiled kernel
(:mod:`argnn_sim.engines._kernel`): registers, inboxes and the wake queue are arrays, and
a node's activation (collect, Eq. 1-3, messages, the local rule's eligibility test, all
from :mod:`argnn_sim.rule` compiled) is one loop iteration.

Random draws come from the run's own streams in the SimPy engine's order. The kernel
draws them itself from the streams' PCG64 states (:mod:`argnn_sim.engines._draws`): each
channel's delays (a lossy link draws a loss decision per value or error message and a
delay only for a message that goes), and the fault processes' up- and down-times from one
shared stream as their events happen. The host draws in blocks where the kernel cannot
(lognormal delays, on ideal links only: each channel's block refilled by the host) and
the wake intervals, whose order is fixed in advance.
Crashes, recoveries and their log are kernel events beside the wakes, in SimPy's
``(time, scheduling order)``.

Spectral checks. The local rule needs a spectrum only when a node has an eligible edge;
the kernel then stops and the host runs the very policy object the SimPy engine runs. The
reference rule needs one at every check, and may name another node's edge (a prune
request, an event at its arrival). There the kernel runs ahead: it builds each check's
star Laplacian (as :func:`~argnn_sim.spectral.plan_laplacian` does) and acts on a
prediction, each node's previous outcome; afterwards the host computes the eigenvalues on
stacks (NumPy's ``eigvals``: LAPACK's ``geev`` on each matrix, as one call per check
would) and checks every prediction. At the first wrong one it restores the checkpoint taken
before the kernel ran, runs it again to just before that check's action, and acts on the
true outcome. At trace level ``full`` the eigenvalues of the watched nodes' other checks
are computed afterwards too, from snapshots of the stars.

Covered (:func:`compiled_reason` says why a scenario is not): the async schedule and the
sweep schedule (the host fires each pass's wakes in the order it draws, as the SimPy
engine's teacher does; no faults there), lazy delivery, delays of every model, loss,
crashes (with or without reset, from a start time, during evaluation), the ``local`` and
``reference`` spectral rules or no pruning (the local rule with ``pruning.eligible = "all"``,
``pruning.outputs`` and a budget), the ``portable`` arithmetic, tasks with several outputs
(each with its own target) and streamed inputs (the series task), and ``after_training``
interventions (:class:`_Network`). Not: a budget with the reference rule, the magnitude and
random policies, the ``reference`` arithmetic (NumPy's ``exp`` and BLAS), and lognormal
delays where the kernel draws (with loss or the reference rule). numba is an optional
dependency (``pip install 'argnn-sim[fast]'``).

>>> from argnn_sim.config import Scenario
>>> print(compiled_reason(Scenario.from_dict({"pruning": {"policy": "magnitude"}})))
the compiled engine covers pruning.policy = "spectral" (rules "local" and "reference") and "none"
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .. import rule
from ..channel import KIND_NAMES, Channel
from ..config import ConfigError, Scenario
from ..limits import TooLarge
from ..node import INPUT, OUTPUT, Phase
from ..pruning import Budgeted, make_policy
from ..recorder import Recorder
from ..results import RunResult
from ..rng import SeedLike
from ..spectral import Star, eigenvalues, local_choice, make_star, plan_laplacian
from ..tasks import missing_features
from .compiled_arrays import SPECULATE, TRACE_BUF, RunArrays
from .teacher import InputDriver, Prepared, fault_counters, prepare, run_result

__all__ = ["simulate_compiled", "compiled_reason", "available", "TooLarge"]

#: what the kernel has beyond a table with one output (:attr:`argnn_sim.tasks.TaskKind.needs`)
FEATURES = frozenset({"several outputs", "streamed inputs"})
#: The local rule's eligible checks run ahead too on networks of at most this many edges.
#: A stop per eligible check costs a Python round trip (about 30 µs), and eligible checks
#: are frequent in small recurrent networks (logic circuits: 40 % of activations). Running
#: ahead needs a checkpoint, a second copy of the state (about 300 B per edge), so large
#: networks, where 2-cycles and eligible checks are rare (random networks of 10,000 and
#: 30,000 nodes: same time either way), stop at each instead.
LOCAL_AHEAD_EDGES = 4096
#: The kernel prefetches what the next wakes due will touch on networks of at least this
#: many edges (their state is beyond the caches; below, the hints only cost time).
HINT_EDGES = 32768


def available() -> bool:
    """Whether numba can be imported (the ``fast`` extra).

    Returns
    -------
    bool

    Examples
    --------
    >>> isinstance(available(), bool)
    True
    """
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def compiled_reason(sc: Scenario) -> str | None:
    """Why ``sc`` cannot run on the compiled engine, or ``None`` if it can (numba being
    installed is checked when the engine runs).

    Parameters
    ----------
    sc : a scenario.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> compiled_reason(Scenario.from_dict({"schedule": {"kind": "async"},
    ...                                     "pruning": {"rule": "local"}})) is None
    True
    """
    why = missing_features(sc, FEATURES, "the compiled engine")
    if why is not None:
        return why
    if rule.resolve_arithmetic(sc.node.arithmetic, sc.rng.mode) == "reference":
        return ("node.arithmetic = 'reference' uses NumPy's exp ufunc and BLAS, which "
                "compiled code cannot call (use 'portable')")
    if sc.schedule.kind == "sweep" and sc.faults.crash_rate > 0:
        return "node faults in the sweep schedule run on the SimPy engine only"
    c = sc.channel
    p = sc.pruning
    if p.policy not in ("spectral", "none"):
        return ('the compiled engine covers pruning.policy = "spectral" (rules "local" and '
                '"reference") and "none"')
    if c.model == "lognormal" and c.delay > 0 and _kernel_draws(sc):
        return ("lognormal delays with lossy links or the reference rule run on the SimPy "
                "engine only (the kernel draws exponential, uniform and constant delays)")
    if p.budget > 0 and p.policy != "none" and p.rule == "reference":
        return ("a pruning budget with the reference rule runs on the SimPy engine only "
                "(its prune requests are predicted ahead of the budget's count)")
    return None


def _reference(sc: Scenario) -> bool:
    return sc.pruning.policy == "spectral" and sc.pruning.rule == "reference"


def _local_ahead(sc: Scenario, edges: int, max_star: int) -> bool:
    """Whether the kernel runs ahead of the local rule's eligible checks (predicting that
    nothing goes) instead of stopping at each: at trace levels below ``full``, with delays
    the kernel can draw, on networks of at most :data:`LOCAL_AHEAD_EDGES` edges whose stars
    the kernel's Laplacian covers."""
    p, c = sc.pruning, sc.channel
    return (p.policy == "spectral" and p.rule == "local" and sc.record.traces != "full"
            and not (c.model == "lognormal" and c.delay > 0) and edges <= LOCAL_AHEAD_EDGES
            and max_star <= _kernel().PAIRWISE_MAX)


def _kernel_draws(sc: Scenario) -> bool:
    """Whether the kernel draws the channels' delays itself: when which draw comes next
    depends on the run (loss), or when a check's outcome is decided after the fact (the
    reference rule: the host may take the kernel back to an earlier state)."""
    return sc.channel.loss > 0 or _reference(sc)


def _kernel() -> Any:
    try:
        from . import _kernel as K
    except ImportError as exc:  # depends on the environment; tested with numba hidden
        raise ConfigError(
            "engine 'compiled' needs numba: pip install 'argnn-sim[fast]' (or pip install "
            f"numba), or use engine 'simpy' (import failed: {exc})") from exc
    return K


class _Entry:
    """A kernel function called through its compiled entry point.

    numba's dispatcher works out the argument types on every call, and for the kernel's
    state (a named tuple of about 60 arrays) that costs about 5 µs, while the compiled
    function behind it takes 0.5 µs to enter; the host calls the kernel tens of thousands of
    times a run (each input step, each settle). The first call goes through the dispatcher
    (compiling if need be) and records the entry point of the types it resolved; later calls
    go straight there. The host passes the same types on every call (arrays keep their
    dtype, dimensions and layout when they grow), so the entry point is the function the
    dispatcher would pick.
    """

    __slots__ = ("disp", "entry")

    def __init__(self, disp: Any) -> None:
        self.disp = disp
        self.entry: Any = None

    def __call__(self, *args: Any) -> Any:
        entry = self.entry
        if entry is not None:
            return entry(*args)
        out = self.disp(*args)
        try:  # numba's own record of what it compiled for these types
            sig = tuple(self.disp.typeof_pyval(a) for a in args)
            self.entry = self.disp.overloads[sig].entry_point
        except (AttributeError, KeyError, TypeError):  # another numba: the dispatcher, always
            self.entry = self.disp
        return out


class _FastKernel:
    """The kernel module, its functions called through :class:`_Entry` (constants as they are)."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        if hasattr(value, "overloads") and hasattr(value, "typeof_pyval"):
            value = _Entry(value)
        setattr(self, name, value)  # looked up once per run
        return value


class _Clock:
    """What the recorder reads as ``now``: the kernel's current time."""

    def __init__(self, F: np.ndarray) -> None:
        self._F = F

    @property
    def now(self) -> float:
        return float(self._F[0])


class _Decisions:
    """The host's side of speculation (the reference rule, and the local rule's eligible
    checks run ahead): the kept checks' Laplacians, their eigenvalues and the decisions
    taken after the fact. Mixed into :class:`_Run`, whose state it reads."""

    S: Any
    K: Any
    sc: Scenario
    full: bool
    spec: bool
    recorder: Recorder

    def _init_decisions(self, full: bool, max_star: int) -> None:
        """The buffers of the decisions; NumPy's dgeev when speculation runs without full
        traces."""
        self._im = np.zeros(1024)  # imaginary parts of the kept checks' eigenvalues
        self._order = np.zeros(SPECULATE[2] + 1, dtype=np.int64)  # kept checks by star size
        self._counts = np.zeros(0, dtype=np.int64)
        self._lstack = np.zeros(0)  # one stack of kept Laplacians
        # NumPy's own dgeev, called from compiled code (None: the eigvals gufunc on stacks)
        from . import _lapack  # (numba: the fast extra)

        self.geev = _lapack.geev() if self.spec and not full else None
        self._geev_addr = 0 if self.geev is None else self.geev.address
        if self.geev is not None:
            self._ws = _lapack.Workspace(self.geev, min(max_star, 64))
            self._wr = np.zeros(self._ws.lwork_of.size)
            self._wi = np.zeros(self._ws.lwork_of.size)
            self._need = np.zeros(2, dtype=np.int64)
            self._frm = np.zeros(0, dtype=np.int64)
            self._to = np.zeros(0, dtype=np.int64)
            self._same = np.zeros(0, dtype=np.bool_)

    def stacks(self, m: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The first ``m`` kept checks' star Laplacians, one stack per star size: the checks
        (``cs``) and their matrices, ``(len(cs), size, size)``."""
        S, K = self.S, self.K
        if self._order.size < m:
            self._order = np.zeros(2 * m, dtype=np.int64)
        counts = self._counts
        if counts.size < S.xy.size + 2:
            counts = self._counts = np.zeros(S.xy.size + 2, dtype=np.int64)
        K.group_checks(S, m, self._order, counts)
        start = 0
        for size in np.flatnonzero(counts).tolist():
            cnt = int(counts[size])
            cs = self._order[start:start + cnt]
            start += cnt
            need = cnt * size * size
            if self._lstack.size < need:
                self._lstack = np.zeros(2 * need)
            K.gather_laplacians(S, cs, size, self._lstack)
            yield cs, self._lstack[:need].reshape(cnt, size, size)

    def kept_imag(self, m: int, im: np.ndarray) -> None:
        """The imaginary parts of the first ``m`` kept checks' eigenvalues into ``im``, by
        NumPy's ``dgeev`` called from the kernel (:mod:`._lapack`), growing its buffers as
        asked."""
        S, K, ws, need = self.S, self.K, self._ws, self._need
        addr = self._geev_addr
        while K.kept_imag(S, m, im, addr, self._wr, self._wi, ws.ints, ws.chars, ws.a,
                          ws.work, ws.lwork_of, need):
            self._grow_geev()

    def ref_decide(self, m: int, applied: int
                   ) -> tuple[list[Any], np.ndarray, np.ndarray, int | None]:
        """:meth:`outcomes` and the first wrong prediction among the first ``applied``
        (``None``: none, and then the kernel has made each node's next prediction), in one
        call of the kernel (:func:`~argnn_sim.engines._kernel.ref_decide`)."""
        S, K, ws, need = self.S, self.K, self._ws, self._need
        im = self._imag_buffer(m)
        if self._frm.size < m:
            self._frm = np.zeros(2 * m, dtype=np.int64)
            self._to = np.zeros(2 * m, dtype=np.int64)
            self._same = np.zeros(2 * m, dtype=np.bool_)
        frm, to = self._frm[:m], self._to[:m]
        while True:
            bad = K.ref_decide(S, m, applied, im, frm, to, self._same, self._geev_addr,
                               self._wr, self._wi, ws.ints, ws.chars, ws.a, ws.work,
                               ws.lwork_of, need)
            if bad != -2:
                return [None] * m, frm, to, (None if bad < 0 else int(bad))
            self._grow_geev()

    def _grow_geev(self) -> None:
        ws, need = self._ws, self._need
        big = int(need[0])
        if ws.a.size < big * big:
            ws.a = np.zeros(big * big)
        if self._wr.size < big:
            self._wr, self._wi = np.zeros(big), np.zeros(big)
        if ws.lwork_of.size <= big:
            grown = np.zeros(big + 1, dtype=np.int64)
            grown[:ws.lwork_of.size] = ws.lwork_of
            ws.lwork_of = grown
        if need[1] > ws.work.size:
            ws.work = np.zeros(2 * int(need[1]))

    def _imag_buffer(self, m: int) -> np.ndarray:
        total = int(self.S.c_off[m])
        if self._im.size < total:
            self._im = np.zeros(max(2 * self._im.size, total))
        return self._im

    def local_outcomes(self, m: int) -> tuple[list[Any], np.ndarray, np.ndarray, np.ndarray]:
        """The first ``m`` kept local-rule checks after the fact, as SpectralLocal decides
        them. The kernel ran each one predicting that nothing goes, which is what the rule
        decides unless an eigenvalue's imaginary part exceeds its tolerance. So the host
        computes the eigenvalues of every star Laplacian the kernel built (NumPy's
        ``eigvals`` on a stack per size: LAPACK's ``geev`` on each matrix), and runs the
        rule's own :func:`~argnn_sim.spectral.local_choice` on the matrix of every check
        whose largest imaginary part is not below half the tolerance (``geev`` with and
        without eigenvectors agrees far closer than that), or is NaN."""
        S = self.S
        tol = self.sc.pruning.tol
        frm = np.full(m, -1, dtype=np.int64)
        to = np.full(m, -1, dtype=np.int64)
        if self.geev is not None:
            im = self._imag_buffer(m)
            self.kept_imag(m, im)
            if self._order.size < m:
                self._order = np.zeros(2 * m, dtype=np.int64)
            q = self.K.local_candidates(S, m, im, 0.5 * tol, self._order)
            for c in self._order[:q].tolist():
                z0, z1 = int(S.c_off[c]), int(S.c_off[c + 1])
                size = z1 - z0
                lo = int(S.c_loff[c])
                L = S.l_buf[lo:lo + size * size].reshape(size, size)
                self._decide_local(c, L, frm, to, tol)
            return [None] * m, frm, to, to < 0
        for cs, Ls in self.stacks(m):
            top = eigenvalues(Ls).imag.max(axis=1)
            for j in np.flatnonzero(~(top <= 0.5 * tol)).tolist():
                self._decide_local(int(cs[j]), Ls[j], frm, to, tol)
        return [None] * m, frm, to, to < 0

    def _decide_local(self, c: int, L: np.ndarray, frm: np.ndarray, to: np.ndarray,
                      tol: float) -> None:
        """Kept check ``c`` decided by the rule's own ``local_choice`` on its Laplacian."""
        S = self.S
        z0 = int(S.c_off[c])
        size = L.shape[0]
        allowed = np.flatnonzero(S.s_in[z0:z0 + size] == 2).tolist()
        center = int(np.flatnonzero(S.s_ids[z0:z0 + size] == S.c_node[c])[0])
        pos, _ = local_choice(np.ascontiguousarray(L), center, allowed, tol=tol)
        if pos is not None:
            frm[c] = S.s_ids[z0 + pos]
            to[c] = S.c_node[c]

    def outcomes(self, m: int) -> tuple[list[Any], np.ndarray, np.ndarray, np.ndarray]:
        """The first ``m`` kept checks after the fact, as SpectralReference decides them:
        the eigenvalues of each star Laplacian the kernel built (NumPy's ``eigvals``
        gufunc on a stack per size: LAPACK's ``geev`` on each matrix), the edge each names
        (``frm``, ``to``; ``to = -1``: none) and whether the kernel's prediction for it had
        the same effect (:func:`~argnn_sim.engines._kernel.decide`)."""
        S = self.S
        lams: list[Any] = [None] * m
        im = self._imag_buffer(m)
        if self.geev is not None:
            self.kept_imag(m, im)
        for cs, Ls in (self.stacks(m) if self.geev is None else ()):
            lam = eigenvalues(Ls)
            self.K.scatter_imag(S, cs, lam.imag, im)
            if self.full:
                for c, row in zip(cs.tolist(), lam):
                    lams[c] = row
        frm = np.empty(m, dtype=np.int64)
        to = np.empty(m, dtype=np.int64)
        same = np.empty(m, dtype=np.bool_)
        self.K.decide(S, m, im, frm, to, same)
        return lams, frm, to, same

    def commit(self, m: int, lams: list[Any]) -> None:
        """The first ``m`` kept checks are settled: count them, keep the watched ones' traces."""
        S, K = self.S, self.K
        rec = self.recorder
        rec.checks += m
        if self.full:
            nodes = S.c_node[:m].tolist()
            times = S.c_time[:m].tolist()
            inputs = S.c_input[:m].tolist()
            off = S.c_off[:m + 1].tolist()
            for c in range(m):
                k = nodes[c]
                if rec.watches(k):
                    rec.add_check(k, times[c], inputs[c], rec.sweep,
                                  S.s_ids[off[c]:off[c + 1]].tolist(), lams[c])
        S.I[K.I_NCK] = 0
        S.I[K.I_NSNAP] = 0
        S.I[K.I_NL] = 0


class _Run(_Decisions):
    """The arrays of one run (one :class:`~argnn_sim.engines._kernel.State`) and the host
    side of the kernel's protocol."""

    def __init__(self, prep: Prepared, K: Any) -> None:
        self.K = _FastKernel(K)
        scenario, topo, recorder = prep.scenario, prep.topo, prep.recorder
        self.sc = scenario
        self.streams = prep.streams
        self.recorder = recorder
        n = self.n = topo.n
        self.role_names = {K.INPUT: INPUT, K.HIDDEN: "hidden", K.OUTPUT: OUTPUT}
        deg = np.bincount(np.asarray(topo.src, dtype=np.int64), minlength=n) + \
            np.bincount(np.asarray(topo.dst, dtype=np.int64), minlength=n) + 1
        E = int(np.asarray(topo.src).size)
        c = scenario.channel
        if _reference(scenario) and n and int(deg.max()) > K.PAIRWISE_MAX:
            raise TooLarge(
                f"engine 'compiled' runs the reference rule on stars of up to "
                f"{K.PAIRWISE_MAX:,} members; node {int(deg.argmax())} has "
                f"{int(deg.max()) - 1:,} neighbours: use engine 'simpy'")
        self.ref = _reference(scenario)
        # the local rule's eligible checks decided after the fact, as the reference rule's are
        self.local_ahead = _local_ahead(scenario, E, int(deg.max()) if n else 0)
        self.spec = self.ref or self.local_ahead
        # The kernel draws every delay itself, from each channel's stream, whenever it can
        # (not lognormal delays): a rerun from a checkpoint draws them again, and there are
        # no host refills of blocks of delays (a stop each).
        self.kdraw = _kernel_draws(scenario) or not (c.model == "lognormal" and c.delay > 0)
        self.faulty = scenario.faults.crash_rate > 0
        from . import _draws  # (numba: the fast extra)

        self.a = RunArrays(prep, self.K, _draws, ref=self.ref, kdraw=self.kdraw, faulty=self.faulty)
        full = scenario.record.traces == "full"
        self.a.set_parameters(prep, local_ahead=self.local_ahead, hints=E >= HINT_EDGES)
        I, F = self.S.I, self.S.F
        self.cap = SPECULATE[0]  # checks the kernel runs ahead of their outcome
        I[K.I_CKLIMIT] = self.cap
        if full or self.spec:
            self.a.grow_bufs(*TRACE_BUF, 8 * TRACE_BUF[2] if self.spec else 0)
        self._init_decisions(full, int(deg.max()) if n else 1)
        self.full = full
        self.channels: dict[int, Channel] = {}
        self.stars: dict[int, tuple[Any, Star]] = {}  # the last star checked, per node
        self.policy = make_policy(scenario.pruning, prep.streams.pruning)
        # a pruning budget (the local rule): the kernel stops checking once it is spent, as
        # Budgeted stops asking its rule
        self.budgeted: Budgeted | None = (self.policy if isinstance(self.policy, Budgeted)
                                          else None)
        self.phase = Phase(learning=True, pruning=scenario.pruning.policy != "none")
        self.sched = prep.streams.schedule
        self.scale = 1.0 / scenario.schedule.wake_rate
        self._sched_state: Any = None
        recorder.clock = _Clock(F)

    @property
    def S(self) -> Any:
        """The run's state (:class:`RunArrays` owns it: its arrays grow there)."""
        return self.a.S

    # ----- plumbing -------------------------------------------------------------------
    def refill(self, k: int) -> None:
        """Top up channel ``k``'s buffer of delays with its next draws, in order."""
        S = self.S
        start, stop = int(self.a.dptr[k]), int(self.a.dptr[k + 1])
        pos, end = int(S.dpos[k]), int(S.dend[k])
        buf = S.dbuf
        rem = end - pos
        buf[start:start + rem] = buf[pos:end]
        want = stop - start - rem
        c = self.sc.channel
        if c.delay == 0.0 or c.model == "constant":
            buf[start + rem:stop] = c.delay  # Channel.delay draws nothing here
        else:
            ch = self.channels.get(k)
            if ch is None:
                ch = self.channels[k] = Channel(c, self.streams.channel(k))
            buf[start + rem:stop] = ch._draw(want)
        S.dpos[k] = start
        S.dend[k] = stop

    def ensure_draws(self, k: int, need: int) -> None:
        if not self.kdraw and self.S.dend[k] - self.S.dpos[k] < need:
            self.refill(k)

    def refill_sched(self) -> None:
        g = self.sched._g
        self._sched_state = g.bit_generator.state
        S = self.S
        S.sbuf[:] = g.exponential(self.scale, S.sbuf.size)
        S.I[self.K.I_SPOS] = 0
        S.I[self.K.I_SEND] = S.sbuf.size

    def rewind_sched(self) -> None:
        """Put the schedule stream where the SimPy engine's would be: after exactly the
        wake intervals used so far (the rest of the block is drawn again later)."""
        I = self.S.I
        if self._sched_state is not None:
            g = self.sched._g
            g.bit_generator.state = self._sched_state
            used = int(I[self.K.I_SPOS])
            if used:
                g.exponential(self.scale, used)
            self._sched_state = None
        I[self.K.I_SPOS] = I[self.K.I_SEND] = 0

    def grow_bufs(self) -> None:
        S = self.S
        self.flush_ages()
        self.flush_checks()
        self.flush_prunes()
        need = int(S.xy.size)
        self.a.grow_bufs(max(S.a_node.size, TRACE_BUF[0]), max(S.c_node.size, TRACE_BUF[1]),
                        max(S.s_ids.size, TRACE_BUF[2], 2 * need),
                        max(S.l_buf.size, 2 * (need + 1) ** 2) if self.spec else 0)

    def flush_ages(self) -> None:
        S, K = self.S, self.K
        m = int(S.I[K.I_NAGE])
        if m:
            self.recorder.add_ages(S.a_node[:m].copy(), S.a_time[:m].copy(), S.a_val[:m].copy())
            S.I[K.I_NAGE] = 0

    def flush_prunes(self) -> None:
        """Hand the recorder the prunes the kernel made (by prune requests, and the reference
        rule's predicted own prunes), in order."""
        S, K = self.S, self.K
        m = int(S.I[K.I_NPR])
        if not m:
            return
        sweep = self.recorder.sweep
        self.recorder.prunes.extend(
            {"input": i, "sweep": sweep, "time": t, "node": d, "edge": [f, to],
             "remote": bool(r)}
            for d, f, to, t, i, r in zip(S.p_node[:m].tolist(), S.p_frm[:m].tolist(),
                                         S.p_to[:m].tolist(), S.p_time[:m].tolist(),
                                         S.p_input[:m].tolist(), S.p_remote[:m].tolist()))
        S.I[K.I_NPR] = 0

    def settle(self, st: int, t: float, s: int) -> bool:
        """Check the kernel's predictions for the checks it kept (status ``st``). At the
        first check whose prediction had another effect than its outcome, take the kernel
        back to the checkpoint and run it again to just before that check's action; then
        act on the outcome as the node would. Returns whether it went back."""
        K = self.K
        S = self.S
        m = int(S.I[K.I_NCK])
        applied = m - 1 if st == K.CHECK else m  # a stop at a check leaves it to the host
        predicted = False
        if self.ref and self.geev is not None:  # all in one call (predictions included)
            lams, frm_all, to_all, bad = self.ref_decide(m, applied)
            predicted = bad is None
        else:
            lams, frm_all, to_all, same = (self.outcomes if self.ref else self.local_outcomes)(m)
            wrong = np.flatnonzero(~same[:applied])
            bad = int(wrong[0]) if wrong.size else None
        if bad is not None:
            self.a.restore()
            S.I[K.I_CKLIMIT] = bad + 1
            again = K.run(S, t, s)
            if again != K.CHECK or S.I[K.I_NCK] != bad + 1:  # pragma: no cover - a bug
                raise RuntimeError("compiled kernel: a rerun from the checkpoint diverged")
            m = bad + 1
            self.cap = max(SPECULATE[1], self.cap // 4)
        elif st != K.CHECK:
            self.cap = min(2 * self.cap, SPECULATE[2])
        last = m - 1 if (bad is not None or st == K.CHECK) else -1
        if self.ref and not predicted:  # each node's next prediction: its latest outcome
            K.predict(S, m, frm_all, to_all)  # (local: nothing goes, always)
        k = int(S.c_node[last]) if last >= 0 else -1
        frm, to = (int(frm_all[last]), int(to_all[last])) if last >= 0 else (-1, -1)
        self.commit(m, lams)
        S.I[K.I_CKLIMIT] = self.cap
        if last >= 0:
            if to == k:
                self.flush_prunes()
                self.drop_input(k, frm)
                if self.budgeted is not None:
                    self.budgeted.left -= 1  # Budgeted.check's count of what it proposed
                    self._budget_check()
            elif to >= 0:
                self.make_room(k, 2)
                S = self.S
                if S.I[K.I_NPR] + 1 >= S.p_node.size:
                    self.flush_prunes()
                K.send_prune(S, k, to, frm)
        return bad is not None

    def flush_checks(self) -> None:
        """Hand the recorder the checks the kernel kept, with their eigenvalues, in order."""
        S, K = self.S, self.K
        m = int(S.I[K.I_NCK])
        if not m:
            return
        mode = self.sc.pruning.mode
        nodes = S.c_node[:m].tolist()
        times = S.c_time[:m].tolist()
        inputs = S.c_input[:m].tolist()
        off = S.c_off[:m + 1].tolist()
        ids_all = S.s_ids[:off[-1]].tolist()
        w_all = S.s_w[:off[-1]].tolist()
        rec = self.recorder
        stars: dict[tuple[int, ...], Star] = {}
        for c in range(m):
            k = nodes[c]
            ids = ids_all[off[c]:off[c + 1]]  # in-neighbours, then -1 - out-neighbour
            ws = w_all[off[c]:off[c + 1]]
            n_in = 0
            while n_in < len(ids) and ids[n_in] >= 0:
                n_in += 1
            key = (k, *ids)
            st = stars.get(key)
            if st is None:
                st = stars[key] = make_star(k, ids[:n_in], [-1 - x for x in ids[n_in:]])
            lam = eigenvalues(plan_laplacian(st.plan, ws[:n_in], ws[n_in:], mode))
            rec.add_check(k, times[c], inputs[c], rec.sweep, st.ids, lam)
        S.I[K.I_NCK] = 0
        S.I[K.I_NSNAP] = 0

    def check(self, k: int) -> None:
        """The spectral check of node ``k``, which has an eligible edge: the SimPy engine's
        own policy on a view of the same state; a chosen edge is removed here."""
        self.flush_checks()
        S = self.S
        i0, ni = int(S.in_ptr[k]), int(S.in_len[k])
        o0, no = int(S.out_ptr[k]), int(S.out_len[k])
        in_src = S.in_src[i0:i0 + ni].tolist()
        out_dst = S.out_dst[o0:o0 + no].tolist()
        key = (tuple(in_src), tuple(out_dst))
        got = self.stars.get(k)
        if got is None or got[0] != key:  # the star as Node.star() builds it
            got = self.stars[k] = (key, make_star(k, in_src, out_dst))
        node = _NodeView(k, self.role_names[int(S.role[k])], in_src,
                         S.in_w[i0:i0 + ni].tolist(), out_dst,
                         S.out_w[o0:o0 + no].tolist(), self.recorder, got[1])
        edge = self.policy.check(node)
        if edge is None:
            return
        frm, to = edge
        if self.budgeted is not None:
            self._budget_check()
        if to == k:
            self.drop_input(k, frm)

    def _budget_check(self) -> None:
        """A spent budget: the kernel checks no more (Budgeted no longer asks its rule, so
        no check is made, counted or traced)."""
        if self.budgeted is not None and self.budgeted.left <= 0:
            self.S.I[self.K.I_PRUNE] = 0

    def remove_edges(self, edges: list[tuple[int, int]]) -> None:
        """:meth:`~argnn_sim.engines.simpy_engine.Network.remove_edges` on the kernel's
        state: each receiver drops its input edge and tells the sender (an unsubscribe),
        and the recorder sees a prune by the receiver. Edges no longer standing are ignored.

        Parameters
        ----------
        edges : list of (from, to)
        """
        for frm, to in edges:
            self.drop_input(to, frm)

    def drop_input(self, k: int, frm: int) -> None:
        """Node ``k`` drops its input edge from ``frm``, if it stands (Node.drop_input with
        ``k`` deciding): room for the unsubscribe, then the kernel's drop, then the
        recorder's prune."""
        self.make_room(k, 1)
        self.a.inbox_room(frm, 1)
        if self.K.drop_input(self.S, k, frm):
            self.recorder.on_prune(k, frm, k, False)

    # ----- driving ----------------------------------------------------------------------
    def run_until(self, t: float, s: int) -> None:
        K = self.K
        ref = self.spec  # checks decided after the fact
        while True:
            if ref:
                S = self.S
                I = S.I
                top = K.H0  # the heap's first entry
                if I[K.I_PENDING] < 0 and (I[K.I_HEAP] == 0 or S.h_t[top] > t or (
                        S.h_t[top] == t and S.h_s[top] > s)):
                    return  # nothing due: no checkpoint needed
                if self.a.snap is None:
                    self.a.checkpoint()
                    st = K.run(self.S, t, s)
                else:
                    st = K.run_from(self.S, self.a.snap, t, s)  # the checkpoint, then run
            else:
                st = K.run(self.S, t, s)
            if ref and self.S.I[K.I_NCK] and self.settle(st, t, s):
                continue  # an edge went (or a request left) after a check: on from there
            if st == K.DONE:
                return
            k = int(self.S.I[K.I_NODE])
            if st == K.NEED_DRAWS:
                self.refill(k)
            elif st == K.NEED_SCHED:
                self.refill_sched()
            elif st == K.NEED_POOL:
                self.a.grow_pool()
            elif st == K.NEED_BUF:
                self.grow_bufs()
            elif st == K.CHECK:
                if not ref:
                    self.check(k)
            elif st == K.NEED_FLOG:
                self.a.grow_fault_log()
            elif st == K.NEED_INBOX:
                self.a.grow_inbox(k)
            else:  # pragma: no cover
                raise RuntimeError(f"compiled kernel: unknown status {st}")

    def make_room(self, k: int, need: int) -> None:
        """Draws and pool places for ``need`` messages from node ``k``."""
        self.ensure_draws(k, need)
        while self.S.I[self.K.I_NFREE] < need:
            self.a.grow_pool()

    def present(self, k: int, x: float) -> None:
        self.make_room(k, int(self.S.out_len[k]))
        while (d := int(self.K.present(self.S, k, x))) >= 0:  # an inbox without room
            self.a.grow_inbox(d)

    def announce(self, k: int) -> None:
        self.make_room(k, int(self.S.in_len[k]))
        while (d := int(self.K.announce(self.S, k))) >= 0:  # an inbox without room
            self.a.grow_inbox(d)

    def schedule_wake(self, k: int) -> None:
        if not self.K.schedule_wake(self.S, k):
            self.refill_sched()
            self.K.schedule_wake(self.S, k)

    def seq(self, count: int = 1) -> int:
        """Take ``count`` event numbers (SimPy's event ids grow with every scheduling)."""
        I = self.S.I
        s = int(I[self.K.I_SEQ])
        I[self.K.I_SEQ] = s + count
        return s


class _NodeView:
    """What a policy reads of a node (see :class:`~argnn_sim.node.Node`), read-only."""

    __slots__ = ("id", "role", "in_src", "in_w", "out_dst", "out_w", "observer", "_star")

    def __init__(self, k: int, role: str, in_src: list[int], in_w: list[float],
                 out_dst: list[int], out_w: list[float], observer: Recorder, star: Star
                 ) -> None:
        self.id = k
        self.role = role
        self.in_src = in_src
        self.in_w = in_w
        self.out_dst = out_dst
        self.out_w = out_w
        self.observer = observer
        self._star = star

    def star(self) -> Star:
        return self._star


def _active(topo: Any) -> np.ndarray:
    """The nodes that wake (all but the inputs), ascending: ``Network.active_ids``."""
    is_input = np.zeros(topo.n, dtype=bool)
    is_input[list(topo.inputs)] = True
    return np.flatnonzero(~is_input).astype(np.int64)


def _start(R: _Run, K: Any, n: int, active: np.ndarray) -> None:
    """The run's start, in the SimPy engine's order: every channel's first block of delays,
    the hellos, and the start events of the fault processes and the nodes."""
    # Every channel's first block of delays, now rather than at its node's first wake: a
    # channel's stream is its own, so when it is drawn changes nothing, and the run's
    # steady state then holds no one-time costs.
    S = R.S
    if not R.kdraw:
        for k in np.flatnonzero(S.in_len + S.out_len).tolist():
            R.refill(k)
    # Network.__init__: every node says hello to its in-neighbours, in node order.
    if R.kdraw:
        k = 0
        while (k := int(K.announce_from(R.S, k))) < n:
            d = int(R.S.I[K.I_NODE])
            if d < 0:
                R.a.grow_pool()
            else:
                R.a.grow_inbox(d)
    else:
        for k in range(n):
            if R.S.in_len[k]:
                R.announce(k)
    # t = 0: the processes start in the order they were made: the fault processes (each
    # waits for faults.start or draws its first up-time), the nodes (active nodes draw a
    # first wake), the driver.
    R.seq((active.size if R.faulty else 0) + n + 1)  # their start events
    if R.faulty:
        K.fault_start_all(R.S, active)
    if R.sc.schedule.kind == "async":  # (sweeps: the teacher fires each pass's wakes)
        i = 0
        while (i := int(K.wakes_from(R.S, active, i))) >= 0:
            R.refill_sched()


def _finish(R: _Run, K: Any, n: int, train_end: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The edges still standing (the first ``in_len[k]`` places of each node's segment) and
    the run's counters."""
    S = R.S
    R.recorder.checks += int(S.I[K.I_CHECKS])
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(S.in_ptr))
    keep = np.arange(owner.size) - S.in_ptr[owner] < S.in_len[owner]
    final = {"src": S.in_src[keep].copy(), "dst": owner[keep], "weight": S.in_w[keep].copy()}
    activations = int(S.acts.sum())
    I = S.I
    sent = [int(I[K.I_SENT_V]), int(I[K.I_SENT_E]), int(I[K.I_SENT_H]), int(I[K.I_SENT_U]),
            int(I[K.I_SENT_P])]
    lost = [int(I[K.I_LOST_V]), int(I[K.I_LOST_E]), 0, 0, 0]
    counters: dict[str, Any] = {
        "activations": activations, "checks": R.recorder.checks,
        "messages": {"sent": dict(zip(KIND_NAMES, sent)), "lost": dict(zip(KIND_NAMES, lost))}}
    if R.faulty:
        counters["faults"] = fault_counters(R.a.fault_log(), float(S.F[K.F_NOW]), train_end)
        counters["faults"]["messages_missed"] = int(I[K.I_MISSED])
    return final, counters


class _NodeState:
    """One node of :class:`_Network` as an ``after_training`` hook reads it."""

    __slots__ = ("id", "in_src", "in_w")

    def __init__(self, k: int, in_src: list[int], in_w: list[float]) -> None:
        self.id = k
        self.in_src = in_src
        self.in_w = in_w


class _Network:
    """What an ``after_training`` hook is given on the compiled engine: the parts of the
    SimPy engine's :class:`~argnn_sim.engines.simpy_engine.Network` such an experimenter's
    intervention reads (``topo``; ``nodes``, each with ``id``, ``in_src``, ``in_w``, as
    they stand at the end of training) and :meth:`remove_edges`."""

    def __init__(self, R: _Run, topo: Any) -> None:
        self.topo = topo
        self._R = R
        S = R.S
        self.nodes = [_NodeState(k, S.in_src[p:p + m].tolist(), S.in_w[p:p + m].tolist())
                      for k, (p, m) in enumerate(zip(S.in_ptr[:-1].tolist(),
                                                     S.in_len.tolist()))]

    def edge_count(self) -> int:
        """The edges standing."""
        return int(self._R.S.in_len.sum())

    def remove_edges(self, edges: list[tuple[int, int]]) -> None:
        """Remove edges ``(from, to)`` as the SimPy engine's ``Network.remove_edges`` does.

        Parameters
        ----------
        edges : the edges; ones that no longer stand are ignored.
        """
        self._R.remove_edges(edges)


def simulate_compiled(scenario: Scenario, seed: SeedLike = None, *,
                      after_training: Callable[[Any], None] | None = None) -> RunResult:
    """Run one scenario on the compiled engine: the SimPy engine's result, faster.

    Parameters
    ----------
    scenario : a scenario the engine covers (:func:`compiled_reason`).
    seed : as for :func:`argnn_sim.simulate`.
    after_training : called once training ends, before the evaluation, with a view of the
        trained network (``topo``, ``nodes``, ``remove_edges``: what the SimPy engine's
        hook reads of its :class:`~argnn_sim.engines.simpy_engine.Network`).

    Returns
    -------
    RunResult

    Raises
    ------
    ConfigError
        Naming the reason when the scenario is not covered, or the extra to install when
        numba is missing.

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> sc = Scenario.from_dict({"schedule": {"kind": "async", "inputs": 3},
    ...                          "pruning": {"rule": "local"}})
    >>> simulate_compiled(sc, 0).engine
    'compiled'
    """
    why = compiled_reason(scenario)
    if why is not None:
        raise ConfigError(f"engine 'compiled' cannot run this scenario: {why}; use engine "
                          "'auto' or 'simpy'")
    K = _kernel()
    t0 = time.perf_counter()
    prep = prepare(scenario, seed)
    topo, recorder = prep.topo, prep.recorder
    R = _Run(prep, K)
    inputs = list(topo.inputs)
    outputs = list(topo.output_ids)
    _start(R, K, topo.n, _active(topo))
    driver = InputDriver(prep)

    train_end = [float("inf")]

    def end_training() -> None:
        R.S.I[K.I_LEARN] = 0
        R.phase.learning = False
        train_end[0] = float(R.S.F[K.F_NOW])
        if R.faulty and not scenario.faults.during_eval:
            K.stop_faults(R.S)
        if after_training is not None:
            after_training(_Network(R, topo))
        R.rewind_sched()  # the evaluation order is drawn next, from the schedule stream

    hold = _sweep_holder(R, K, prep, driver, inputs) if scenario.schedule.kind == "sweep" \
        else _async_holder(R, K, prep, inputs)
    t1 = time.perf_counter()
    now = 0.0
    for step in driver.steps(end_training):
        S = R.S
        S.I[K.I_INPUT] = recorder.input
        for k, y in zip(outputs, step.targets):  # the teacher's _present: the targets
            S.y[k] = y
        now = hold(step, now)
        R.flush_prunes()
        V = R.S.V
        driver.record(step, [float(V[k]) for k in outputs], now, len(recorder.prunes))
    K.collect_all(R.S)
    R.flush_ages()
    R.flush_checks()
    R.flush_prunes()
    t2 = time.perf_counter()
    final, counters = _finish(R, K, topo.n, train_end[0])
    return run_result(prep, driver, final, counters, (t0, t1, t2), "compiled")


def _async_holder(R: _Run, K: Any, prep: Prepared, inputs: list[int]
                  ) -> Callable[[Any, float], float]:
    """A step of the async schedule: the input triggers, then one input period of wakes
    on the nodes' own clocks (the SimPy engine's ``hold_period``). Returns the step's end."""
    period = prep.scenario.schedule.input_period

    def hold(step: Any, now: float) -> float:
        first = R.seq(len(inputs))  # the triggers
        s_next = R.seq()  # the teacher's next timeout
        R.run_until(now, first - 1)  # a wake that was due before the triggers
        for k, x in zip(inputs, step.inputs):
            R.present(k, float(x))
        now = now + period
        R.run_until(now, s_next)
        R.S.F[K.F_NOW] = now
        return now
    return hold

def _sweep_holder(R: _Run, K: Any, prep: Prepared, driver: InputDriver, inputs: list[int]
                  ) -> Callable[[Any, float], float]:
    """A step of the sweep schedule (the SimPy engine's ``hold``): the input triggers, then
    each pass's wakes, every active node once in an order drawn from the schedule stream,
    fired by the teacher at the pass's time; the pass lasts one time unit. Returns the
    step's end."""
    recorder, shuffle = prep.recorder, prep.streams.schedule.shuffle
    active = _active(prep.topo)

    def hold(step: Any, now: float) -> float:
        first = R.seq(len(inputs))  # the triggers
        R.run_until(now, first - 1)
        for k, x in zip(inputs, step.inputs):
            R.present(k, float(x))
        for p in range(driver.passes(step)):
            if step.learn:
                recorder.sweep = p
            order = active.copy()
            shuffle(order)
            s0 = R.seq(order.size)  # the wake events, fired in that order
            s_next = R.seq()  # the teacher's timeout(1)
            K.push_wakes(R.S, order, now, s0)
            now = now + 1
            R.run_until(now, s_next)
            R.S.F[K.F_NOW] = now
            R.flush_checks()  # made in pass p (their traces name it)
            R.flush_prunes()
        return now
    return hold
