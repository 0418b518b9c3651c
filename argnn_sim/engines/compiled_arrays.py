"""The compiled engine's arrays: their layout, their first sizes and their growth (no numba).

A run of the compiled engine (:mod:`argnn_sim.engines.compiled`) keeps its whole state in
one named tuple of arrays (the kernel's ``State``, :mod:`argnn_sim.engines._kernel`):
the edges by destination and by source, each channel's delays, the inboxes in one buffer,
the message pool, the event heap, the random streams' states, the fault log and the
buffers handed over to the recorder. :class:`RunArrays` builds it for a prepared run and
grows it when the kernel stops for room; the run owns one. The kernel's modules are passed
in (``K``: its constants and the inbox repacking; ``draws``: the streams' states), so this
module imports no numba.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .teacher import Prepared

__all__ = ["RunArrays", "SCHED_BLOCK", "TRACE_BUF", "SPECULATE"]

SCHED_BLOCK = 65536  # wake intervals drawn at a time
POOL_MIN, POOL_PER_EDGE = 1024, 2  # room for messages in flight at first (doubles when full)
#: Each node's inbox holds at first this many messages per neighbour, and INBOX_MIN more;
#: a full one moves to a place 1.5 times larger; the buffer of all inboxes has this much
#: slack for such moves. (An inbox holds what arrived since its node's last wake: with
#: exponential wake intervals its largest size grows with the log of a run's length.)
INBOX_PER_NEIGHBOUR, INBOX_MIN, INBOX_SLACK = 3, 16, 1.25
TRACE_BUF = (4096, 4096, 65536)  # ages, checks, star entries kept before a hand-over
PRUNE_BUF = 256  # prunes by request kept before a hand-over (reference rule)
SPECULATE = (256, 8, 4096)  # checks run ahead of their outcome: at first, at least, at most
FAULT_LOG = 256  # rows of the fault log at first (doubles when full)
def _grown(cap: int) -> int:
    """An inbox's next size."""
    return cap + cap // 2 + 1


def _line_aligned(size: int, dtype: Any) -> np.ndarray:
    """Zeros whose first element starts a 64-byte cache line."""
    item = np.dtype(dtype).itemsize
    raw = np.zeros(size + 64 // item, dtype=dtype)
    skip = (-raw.ctypes.data % 64) // item
    return raw[skip:skip + size]


class RunArrays:
    """The state of one compiled run (``S``, the kernel's ``State``) and its growth.

    Parameters
    ----------
    prep : Prepared
        The run's setup (topology, streams, recorder, scenario).
    K : module
        The kernel (its constants, ``State`` and ``repack_inboxes``).
    draws : module
        The kernel's random draws (:mod:`argnn_sim.engines._draws`: the streams' states,
        the ziggurat tables).
    ref : bool
        The reference rule runs (a prune request per pool row on the heap).
    kdraw : bool
        The kernel draws the delays itself (no host buffer of delays).
    faulty : bool
        Nodes crash (fault processes on the heap, a fault log).

    Attributes
    ----------
    S : State
        The arrays; replaced (``_replace``) when one grows.
    pool : int
        The message pool's first size.
    dptr : ndarray
        Where each channel's buffer of delays starts.
    ib_top : int
        Where the next moved inbox goes in the inbox buffer.
    snap : State or None
        The checkpoint (reference rule), made again after arrays grow.
    """

    def __init__(self, prep: Prepared, K: Any, draws: Any, *, ref: bool, kdraw: bool,
                 faulty: bool) -> None:
        self.K = K
        self.ref = ref
        topo, recorder = prep.topo, prep.recorder
        n = topo.n
        src = np.asarray(topo.src, dtype=np.int64)
        dst = np.asarray(topo.dst, dtype=np.int64)
        in_len = np.bincount(dst, minlength=n).astype(np.int64)
        in_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(in_len, out=in_ptr[1:])
        order = np.lexsort((dst, src))  # by (src, dst): out-lists ascending
        out_len = np.bincount(src, minlength=n).astype(np.int64)
        out_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(out_len, out=out_ptr[1:])
        E = src.size
        role = np.full(n, K.HIDDEN, dtype=np.int8)
        role[list(topo.inputs)] = K.INPUT
        role[list(topo.output_ids)] = K.OUTPUT
        deg = in_len + out_len + 1
        cap = np.maximum(32, 8 * deg)  # each channel's buffer of delays
        dptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(cap, out=dptr[1:])
        self.dptr = dptr
        pool = max(POOL_MIN, POOL_PER_EDGE * E)
        ib = np.zeros((n, K.IB_COLS), dtype=np.int64)  # inboxes: segment, in use, size
        ib[:, K.IB_CAP] = INBOX_PER_NEIGHBOUR * (in_len + out_len) + INBOX_MIN
        if n:
            np.cumsum(ib[:-1, K.IB_CAP], out=ib[1:, K.IB_PTR])
        self.ib_top = int(ib[:, K.IB_CAP].sum())  # where the next moved segment goes
        ib_size = int(INBOX_SLACK * self.ib_top) + 1
        watch = np.full(n, int(recorder.watch is None), dtype=np.int8)
        if recorder.watch is not None:
            watch[sorted(recorder.watch)] = 1
        rng = np.zeros((n + 1, 4), dtype=np.uint64)
        if kdraw:  # the kernel draws, in send order, from each channel's stream
            draws.load_children(prep.streams.channel_parent, np.flatnonzero(in_len + out_len),
                                rng)
        if faulty:
            draws.load(prep.streams.faults._g, rng, n)
        n_log = FAULT_LOG if faulty else 0
        # wakes; the fault processes' events; prune requests in flight (one per pool row)
        n_heap = n + (n if faulty else 0) + (pool if ref else 0)
        n_pr = PRUNE_BUF if ref else 0
        self.S = K.State(
            role=role, in_ptr=in_ptr, in_len=in_len, in_src=src.copy(),
            in_w=np.asarray(topo.weight, dtype=np.float64).copy(),
            in_v=np.zeros(E), in_stamp=np.full(E, -np.inf),
            out_ptr=out_ptr, out_len=out_len, out_dst=dst[order].copy(),
            out_e=np.zeros(E), out_w=np.zeros(E), out_stamp=np.full(E, -np.inf),
            V=np.zeros(n), b_arr=np.zeros(n), y=np.zeros(n), acts=np.zeros(n, dtype=np.int64),
            dbuf=np.zeros(1 if kdraw else int(dptr[-1])), dpos=dptr[:-1].copy(), dend=dptr[:-1].copy(),
            ib=ib, ib_buf=np.zeros(ib_size, dtype=np.int32), msg=np.zeros((pool, K.M_COLS)),
            free=np.arange(pool, dtype=np.int64),
            h_t=_line_aligned(n_heap + K.H0, np.float64),
            h_s=_line_aligned(n_heap + K.H0, np.int64),
            h_k=_line_aligned(n_heap + K.H0, np.int64),
            sbuf=np.zeros(SCHED_BLOCK), xy=np.zeros(int(deg.max()) if n else 1),
            flags=np.zeros(int(in_len.max()) if n else 1, dtype=np.int64),
            a_node=np.zeros(0, dtype=np.int64), a_time=np.zeros(0), a_val=np.zeros(0),
            c_node=np.zeros(0, dtype=np.int64), c_time=np.zeros(0),
            c_input=np.zeros(0, dtype=np.int64), c_off=np.zeros(1, dtype=np.int64),
            s_ids=np.zeros(0, dtype=np.int64), s_w=np.zeros(0), watch=watch,
            rng=rng, zke=draws.ZIG_KE, zwe=draws.ZIG_WE, zfe=draws.ZIG_FE,
            down=np.zeros(n, dtype=np.int8), fphase=np.full(n, K.FP_DONE, dtype=np.int8),
            f_row=np.zeros(n, dtype=np.int64), f_upat=np.zeros(n), f_node=np.zeros(n_log, dtype=np.int64),
            f_t0=np.zeros(n_log), f_t1=np.zeros(n_log),
            p_node=np.zeros(n_pr, dtype=np.int64), p_frm=np.zeros(n_pr, dtype=np.int64),
            p_to=np.zeros(n_pr, dtype=np.int64), p_time=np.zeros(n_pr),
            p_input=np.zeros(n_pr, dtype=np.int64), p_remote=np.zeros(n_pr, dtype=np.int8),
            pr_frm=np.full(n, -1, dtype=np.int64), pr_to=np.full(n, -1, dtype=np.int64),
            c_pfrm=np.zeros(0, dtype=np.int64), c_pto=np.zeros(0, dtype=np.int64),
            c_loff=np.zeros(1, dtype=np.int64), s_in=np.zeros(0, dtype=np.int8),
            l_buf=np.zeros(0),
            I=np.zeros(K.N_I, dtype=np.int64), F=np.zeros(K.N_F))
        self.pool = pool
        self.snap: Any = None  # the checkpoint: a State whose CHECKPOINTED arrays are copies
        self.kdraw, self.faulty = kdraw, faulty

    def set_parameters(self, prep: Prepared, *, local_ahead: bool, hints: bool) -> None:
        """The kernel's parameters (``S.I``, ``S.F``) from the scenario.

        Parameters
        ----------
        prep : Prepared
            The run's setup.
        local_ahead : bool
            The local rule's eligible checks run ahead of their outcome.
        hints : bool
            The kernel prefetches what the next wakes will touch.
        """
        K, scenario, n = self.K, prep.scenario, prep.topo.n
        I, F = self.S.I, self.S.F
        c, faults = scenario.channel, scenario.faults
        full = scenario.record.traces == "full"
        nc = scenario.node
        I[K.I_PENDING] = -1
        I[K.I_LEARN] = 1
        I[K.I_PRUNE] = int(scenario.pruning.policy != "none")
        I[K.I_LOCAL] = int(scenario.pruning.policy == "spectral")
        I[K.I_EVERY] = int(scenario.pruning.eligible == "all")
        I[K.I_OUTPRUNE] = int(scenario.pruning.outputs)
        I[K.I_FULL] = int(full)
        sweep = scenario.schedule.kind == "sweep"
        I[K.I_SWEEP] = int(sweep)
        I[K.I_AGES] = int(full and not sweep)  # the SimPy engine's recorder.tracks_age
        I[K.I_MINDEG] = scenario.pruning.min_in_degree
        I[K.I_INPUT] = -1
        I[K.I_NFREE] = self.pool
        I[K.I_BIAS] = int(nc.bias)
        F[K.F_EF] = nc.error_factor
        F[K.F_CLIP] = nc.clip
        I[K.I_N] = n
        I[K.I_KDRAW] = int(self.kdraw)
        F[K.F_LOSS] = c.loss
        F[K.F_DELAY] = c.delay
        if c.delay == 0.0 or c.model == "constant":
            I[K.I_DMODEL] = K.D_FIXED
        elif c.model == "exponential":
            I[K.I_DMODEL] = K.D_EXP
        else:  # uniform (Generator.uniform: low + (high - low) * random())
            I[K.I_DMODEL] = K.D_UNIFORM
            lo, hi = c.delay - c.spread, c.delay + c.spread
            F[K.F_ULO], F[K.F_URANGE] = lo, hi - lo
        I[K.I_FACTIVE] = int(self.faulty)
        I[K.I_RESET] = int(faults.reset)
        if self.faulty:
            F[K.F_UP] = 1.0 / faults.crash_rate
            F[K.F_DOWN] = faults.downtime
            F[K.F_START] = faults.start
            # Until when a message to a crashed node is missed whatever happens: the end of
            # training when the faults stop there, else the end of the run (the teacher's
            # clock: one input period per step, summed as the run sums it).
            sched = scenario.schedule
            steps = prep.kind.training_steps(prep.task, scenario)
            if faults.during_eval:
                steps += prep.kind.evaluation_steps(prep.task, scenario)
            hold = 0.0
            for _ in range(steps):
                hold = hold + sched.input_period
            F[K.F_HOLD] = hold
        I[K.I_REF] = int(self.ref)
        I[K.I_SPEC] = int(local_ahead)
        I[K.I_HINTS] = int(hints)
        I[K.I_DW] = int(scenario.pruning.mode == "DW")

    def grow_pool(self) -> None:
        S = self.S
        old = S.msg.shape[0]
        new = 2 * old
        msg = np.zeros((new, self.K.M_COLS))
        msg[:old] = S.msg
        nfree = int(S.I[self.K.I_NFREE])
        free = np.zeros(new, dtype=np.int64)
        free[:nfree] = S.free[:nfree]
        free[nfree:nfree + new - old] = np.arange(old, new)
        S.I[self.K.I_NFREE] = nfree + new - old
        heap = {}
        for key in ("h_t", "h_s", "h_k") if self.ref else ():  # a prune request per pool row
            arr = getattr(S, key)
            grown = _line_aligned(arr.size + new - old, arr.dtype)
            grown[:arr.size] = arr
            heap[key] = grown
        self.S = S._replace(msg=msg, free=free, **heap)
        self.snap = None

    def grow_inbox(self, d: int) -> None:
        """Node ``d``'s inbox is full: move it to a place 1.5 times as large (at the end of
        the buffer, or, when that is full, repack every inbox into a larger buffer)."""
        S, K = self.S, self.K
        p, ln, cap = (int(x) for x in S.ib[d, :3])
        new = _grown(cap)
        if self.ib_top + new <= S.ib_buf.size:
            top = self.ib_top
            S.ib_buf[top:top + ln] = S.ib_buf[p:p + ln]
            S.ib[d, K.IB_PTR] = top
            S.ib[d, K.IB_CAP] = new
            self.ib_top = top + new
            return
        self._repack_inboxes(d, new)

    def _repack_inboxes(self, d: int, new: int) -> None:
        """Every inbox packed into a new buffer with slack, node ``d``'s of size ``new``."""
        S = self.S
        caps = int(S.ib[:, self.K.IB_CAP].sum()) - int(S.ib[d, self.K.IB_CAP]) + new
        buf = np.zeros(int(INBOX_SLACK * caps) + 1, dtype=S.ib_buf.dtype)
        self.ib_top = int(self.K.repack_inboxes(S.ib, S.ib_buf, buf, d, new))
        self.S = S._replace(ib_buf=buf)
        self.snap = None

    def inbox_room(self, d: int, need: int) -> None:
        """Room in node ``d``'s inbox for ``need`` messages."""
        S = self.S
        while S.ib[d, self.K.IB_LEN] + need > S.ib[d, self.K.IB_CAP]:
            self.grow_inbox(d)
            S = self.S

    def grow_fault_log(self) -> None:
        S = self.S
        m = S.f_node.size
        grown = {}
        for key in ("f_node", "f_t0", "f_t1"):
            arr = np.zeros(2 * m, dtype=getattr(S, key).dtype)
            arr[:m] = getattr(S, key)
            grown[key] = arr
        self.S = S._replace(**grown)
        self.snap = None

    def fault_log(self) -> list[list[float]]:
        """The crashes, as :class:`~argnn_sim.engines.simpy_engine.Faults` logs them."""
        S = self.S
        m = int(S.I[self.K.I_NLOG])
        return [[float(k), t0, t1] for k, t0, t1 in
                zip(S.f_node[:m].tolist(), S.f_t0[:m].tolist(), S.f_t1[:m].tolist())]

    def grow_bufs(self, n_age: int, n_ck: int, n_snap: int, n_l: int = 0) -> None:
        S = self.S
        sizes = {"a_node": n_age, "a_time": n_age, "a_val": n_age, "c_node": n_ck,
                 "c_time": n_ck, "c_input": n_ck, "c_off": n_ck + 1, "s_ids": n_snap,
                 "s_w": n_snap, "c_pfrm": n_ck, "c_pto": n_ck, "c_loff": n_ck + 1,
                 "s_in": n_snap, "l_buf": n_l}
        grown = {}
        for key, size in sizes.items():
            old = getattr(S, key)
            arr = np.zeros(size, dtype=old.dtype)
            arr[:min(old.size, size)] = old[:size]
            grown[key] = arr
        self.S = S._replace(**grown)
        self.snap = None

    def checkpoint(self) -> None:
        """Save what the kernel may change (``CHECKPOINTED``, copied by
        :func:`~argnn_sim.engines._kernel.copy_state`)."""
        S = self.S
        T = self.snap
        if T is None:  # made again after arrays grow (grow_pool)
            T = self.snap = S._replace(**{f: getattr(S, f).copy()
                                           for f in self.K.CHECKPOINTED})
        self.K.copy_state(S, T)

    def restore(self) -> None:
        assert self.snap is not None
        self.K.copy_state(self.snap, self.S)
