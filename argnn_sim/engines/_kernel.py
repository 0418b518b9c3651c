"""Compiled (numba) core of :mod:`argnn_sim.engines.compiled`: the async schedule's wakes,
messages and local rule on flat arrays. Imported only by that module, and only when used.

Everything here mirrors the SimPy engine operation for operation (see
:mod:`argnn_sim.node` and :mod:`argnn_sim.channel`), and the arithmetic is not mirrored
but shared: the kernel calls :mod:`argnn_sim.rule`'s own functions, compiled by numba
(:func:`argnn_sim.rule.jitted`), in the ``portable`` arithmetic. The tests compare whole
runs. The host fills each ideal channel's buffer of delays and the buffer of wake
intervals from the run's own streams, in order, and the kernel returns whenever one runs
short, or a node needs what only Python does (a spectral check with an eligible edge; the
reference rule's checks, decided afterwards). Lossy links, links under the reference rule
and the fault processes draw in the kernel, from the streams' own PCG64 states
(:mod:`argnn_sim.engines._draws`), in the order the SimPy engine draws.

State is one named tuple of arrays, :class:`State`; ``I`` and ``F`` hold the scalars
(indices below). A node's input edges live in ``in_*[in_ptr[k] : in_ptr[k] + in_len[k]]``
in ascending source order, its output edges in ``out_*`` likewise; a removed edge is
deleted by shifting the rest left, exactly like ``del`` on the SimPy node's lists.
Messages in flight sit in a pool, one 64-byte row each (a free stack), and each receiver
keeps the pool rows of its messages in its own segment of ``ib_buf`` (its inbox, oldest
first); the wake queue is an 8-ary heap ordered by
``(time, sequence)``, SimPy's own order (its event id grows with every scheduling).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .. import rule
from . import _draws, _lapack

VALUE, ERROR, HELLO, UNSUB, PRUNE = 0, 1, 2, 3, 4

# run() status
DONE, NEED_DRAWS, NEED_SCHED, NEED_POOL, NEED_BUF, CHECK, NEED_FLOG, NEED_INBOX = range(8)

# I: int64 scalars
(I_SEQ, I_HEAP, I_SPOS, I_SEND, I_PENDING, I_NODE, I_LEARN, I_PRUNE, I_FULL, I_MINDEG,
 I_CHECKS, I_NAGE, I_NCK, I_NSNAP, I_INPUT, I_NFREE, I_SENT_V, I_SENT_E,
 I_SENT_H, I_SENT_U, I_BIAS, I_LOCAL, I_KDRAW, I_DMODEL, I_LOST_V, I_LOST_E, I_MISSED,
 I_N, I_FACTIVE, I_RESET, I_NLOG, I_REF, I_CKLIMIT, I_NPR, I_SENT_P, I_NL,
 I_DW, I_SPEC, I_HINTS, I_EVERY, I_OUTPRUNE, I_SWEEP, I_AGES) = range(43)
N_I = 43
# F: float64 scalars
(F_NOW, F_EF, F_CLIP, F_LOSS, F_DELAY, F_ULO, F_URANGE, F_UP, F_DOWN, F_START,
 F_HOLD) = range(11)
N_F = 11
# I[I_DMODEL]: how the kernel draws a delay (F_DELAY itself; exponential; uniform)
D_FIXED, D_EXP, D_UNIFORM = range(3)
# fault process of a node: its next event ends the start wait, the up-time, the down-time
# (or the process has ended)
FP_START, FP_UP, FP_DOWN, FP_DONE = range(4)

# roles
INPUT, HIDDEN, OUTPUT = 0, 1, 2
# columns of a message in the pool (one 64-byte row: one cache line per message;
# integers are held exactly as floats)
M_ARR, M_STAMP, M_A, M_B, M_SRC, M_KIND = range(6)
M_COLS = 8
# columns of a node's inbox record in ``ib``: its segment of ``ib_buf``, how much of it is
# in use, its size
IB_PTR, IB_LEN, IB_CAP = range(3)
IB_COLS = 4
#: inbox room checked for each neighbour before an activation: a neighbour can be sent a
#: value (out-neighbour), an error and an unsubscribe (in-neighbour)
ACT_ROOM = 3

_CACHE = True
# The kernel allocates nothing (every array comes from the host, which keeps it alive), so
# it runs without numba's reference counting: with it, every read of a field of the state
# counts a reference up and down (atomic operations the pruning pass cannot remove in a
# loop this branchy), and that was most of an activation's cost. numba refuses to compile
# anything here that would need to allocate.
_jit: Any = njit(cache=_CACHE, _nrt=False)  # type: ignore[call-overload]
_inline: Any = njit(cache=_CACHE, _nrt=False, inline="always")  # type: ignore[call-overload]


class State(NamedTuple):
    """Everything the kernel reads and writes for one run.

    Per node (length ``n``): ``role``, ``in_ptr``/``in_len`` and ``out_ptr``/``out_len``
    (each node's segment of the edge arrays and how much of it is in use), ``V``,
    ``b_arr`` (bias), ``y`` (an output node's target, set by the host), ``acts``
    (activations), ``dpos``/``dend`` (the node's channel: next
    and end place in ``dbuf``), ``ib`` (its inbox: ``IB_*`` columns), ``watch`` (traces
    kept). Per edge
    slot: ``in_src``, ``in_w``, ``in_v``, ``in_stamp`` (registers of the input edges),
    ``out_dst``, ``out_e``, ``out_w``, ``out_stamp`` (of the output edges). ``dbuf``: every
    channel's delays; ``msg``, ``free``: the pool of messages in flight; ``ib_buf``: the
    inboxes' pool rows, each node's in its own segment (a segment never holds fewer
    than its node may be sent before the kernel checks again: the host moves a full one
    to a larger place); ``h_t``, ``h_s``,
    ``h_k``: the wake heap; ``sbuf``: wake intervals; ``xy``, ``flags``: scratch of a
    star's size; ``a_*`` (ages), ``c_*`` (checks), ``s_*`` (star snapshots): trace
    buffers of level ``full``; ``rng``: the PCG64 states of the streams the kernel draws
    from itself (row ``k``: node ``k``'s channel when links are lossy or the reference rule
    runs; row ``n``: the fault
    stream; :mod:`argnn_sim.engines._draws`) and ``zke``, ``zwe``, ``zfe``, the
    ziggurat's tables; ``down``, ``fphase``, ``f_row`` (per node: crashed, its fault
    process's next event, its open row of the fault log) and ``f_node``, ``f_t0``,
    ``f_t1`` (the fault log: node, down at, up at); ``f_upat`` (per node: when its
    recovery is due, while down); ``p_*``: prunes made in the kernel
    (decider, edge, time, input, by request or not) not yet handed to the recorder;
    ``pr_frm``, ``pr_to`` (per node) the reference rule's predicted outcome of its next
    check (an edge ``frm -> to``, or ``to = -1``), and ``c_pfrm``, ``c_pto`` the prediction
    each kept check ran with; ``I``, ``F``: the integer and float scalars.

    The wake heap holds three kinds of entry, by ``h_k``: ``k < n``, node ``k``'s wake;
    ``n + k``, the next event of node ``k``'s fault process; ``2 n + m``, the arrival of the
    prune request in row ``m`` of the message pool.
    """

    role: np.ndarray
    in_ptr: np.ndarray
    in_len: np.ndarray
    in_src: np.ndarray
    in_w: np.ndarray
    in_v: np.ndarray
    in_stamp: np.ndarray
    out_ptr: np.ndarray
    out_len: np.ndarray
    out_dst: np.ndarray
    out_e: np.ndarray
    out_w: np.ndarray
    out_stamp: np.ndarray
    V: np.ndarray
    b_arr: np.ndarray
    y: np.ndarray
    acts: np.ndarray
    dbuf: np.ndarray
    dpos: np.ndarray
    dend: np.ndarray
    ib: np.ndarray
    ib_buf: np.ndarray
    msg: np.ndarray
    free: np.ndarray
    h_t: np.ndarray
    h_s: np.ndarray
    h_k: np.ndarray
    sbuf: np.ndarray
    xy: np.ndarray
    flags: np.ndarray
    a_node: np.ndarray
    a_time: np.ndarray
    a_val: np.ndarray
    c_node: np.ndarray
    c_time: np.ndarray
    c_input: np.ndarray
    c_off: np.ndarray
    s_ids: np.ndarray
    s_w: np.ndarray
    watch: np.ndarray
    rng: np.ndarray
    zke: np.ndarray
    zwe: np.ndarray
    zfe: np.ndarray
    down: np.ndarray
    fphase: np.ndarray
    f_row: np.ndarray
    f_upat: np.ndarray
    f_node: np.ndarray
    f_t0: np.ndarray
    f_t1: np.ndarray
    p_node: np.ndarray
    p_frm: np.ndarray
    p_to: np.ndarray
    p_time: np.ndarray
    p_input: np.ndarray
    p_remote: np.ndarray
    pr_frm: np.ndarray
    pr_to: np.ndarray
    c_pfrm: np.ndarray
    c_pto: np.ndarray
    c_loff: np.ndarray
    s_in: np.ndarray
    l_buf: np.ndarray
    I: np.ndarray
    F: np.ndarray


# LLVM names the intrinsic by its pointer type: opaque pointers from LLVM 17 on (numba
# 0.60's llvmlite ships LLVM 14, typed pointers).
_PREFETCH_NAME = "llvm.prefetch.p0" if llvm_version_info[0] >= 17 else "llvm.prefetch.p0i8"


def _prefetch_codegen(write: int) -> Any:
    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [ptr, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, _PREFETCH_NAME)
        builder.call(fn, [builder.inttoptr(args[0], ptr), i32(write), i32(3), i32(1)])
        return context.get_dummy_value()

    return codegen


# Hints that the cache line at an address will be read (``_prefetch``) or written
# (``_prefetch_w``) soon: LLVM's ``prefetch``, no fault, no effect on results. At 10^5
# nodes most of what an activation touches is in no cache; loads that wait for each other
# then cost a memory latency each, and hints issued early let those latencies overlap.
@intrinsic
def _prefetch(typingctx: Any, addr: Any) -> Any:
    if not isinstance(addr, types.Integer):
        return None
    return types.void(addr), _prefetch_codegen(0)


@intrinsic
def _prefetch_w(typingctx: Any, addr: Any) -> Any:
    if not isinstance(addr, types.Integer):
        return None
    return types.void(addr), _prefetch_codegen(1)


# the rule, compiled: the very functions the SimPy node calls
_sigmoid = rule.jitted(rule.sigmoid)
_blocked_sum = rule.jitted(rule.blocked_sum)
_running_dot = rule.jitted(rule.running_dot)
_output_error = rule.jitted(rule.output_error)
_hidden_error = rule.jitted(rule.hidden_error)
_update_inputs = rule.jitted(rule.update_inputs)
_accepts = rule.accepts  # operator.ge: numba compiles it as the comparison
_may_prune_inputs = rule.jitted(rule.may_prune_inputs)
_mark_eligible = rule.jitted(rule.mark_eligible)
_leaf_sum = rule.jitted(rule.pairwise_block)  # spectral.numpy_sum's blocks of up to 128


@_inline
def _find(arr, start, length, x):
    for i in range(start, start + length):
        if arr[i] == x:
            return i
    return -1


@_inline
def _delete_slot(i, stop, ids, x, y, z):
    """Delete place ``i`` of a node's segment ending before ``stop``: the rest move left,
    as ``del`` on the SimPy node's four parallel lists."""
    for q in range(i, stop - 1):
        ids[q] = ids[q + 1]
        x[q] = x[q + 1]
        y[q] = y[q + 1]
        z[q] = z[q + 1]


@_inline
def _apply(S, dst, kind, src, a, b, stamp):
    """One message's handler (Node.on_value / on_error / on_hello / on_unsubscribe)."""
    if kind <= ERROR and S.down[dst] != 0:  # a crashed node misses what arrives
        S.I[I_MISSED] += 1
        return
    if kind == VALUE:
        i = _find(S.in_src, S.in_ptr[dst], S.in_len[dst], src)
        if i >= 0 and _accepts(stamp, S.in_stamp[i]):
            S.in_v[i] = a
            S.in_stamp[i] = stamp
        return
    j = _find(S.out_dst, S.out_ptr[dst], S.out_len[dst], src)
    if j < 0:
        return
    if kind == ERROR:
        if _accepts(stamp, S.out_stamp[j]):
            S.out_e[j] = a
            S.out_w[j] = b
            S.out_stamp[j] = stamp
    elif kind == HELLO:
        if _accepts(stamp, S.out_stamp[j]):
            S.out_w[j] = a
    else:  # UNSUB: delete slot j, shifting the rest left
        _delete_slot(j, S.out_ptr[dst] + S.out_len[dst], S.out_dst, S.out_e, S.out_w,
                     S.out_stamp)
        S.out_len[dst] -= 1


@_inline
def _collect(S, k, now):
    """Hand node ``k`` every message that has arrived by ``now`` (Transport.deliver), the
    most recently sent first; the rest stay in the inbox in their order.

    The inbox is an array of pool rows (not a chain through the rows), so the rows' loads
    do not wait for each other: at 10^5 nodes most rows are in no cache any more."""
    msg, free, I, ib, buf = S.msg, S.free, S.I, S.ib, S.ib_buf
    p = ib[k, IB_PTR]
    end = p + ib[k, IB_LEN]
    if I[I_HINTS] != 0:
        base = msg.ctypes.data
        for i in range(p, end):  # every row's load on its way at once
            _prefetch(base + np.int64(buf[i]) * msg.strides[0])
    w = end  # the kept ones are packed downwards from the end, in their order
    for i in range(end - 1, p - 1, -1):
        m = np.int64(buf[i])
        row = msg[m]
        if row[M_ARR] <= now:
            _apply(S, k, np.int64(row[M_KIND]), np.int64(row[M_SRC]), row[M_A], row[M_B],
                   row[M_STAMP])
            free[I[I_NFREE]] = m
            I[I_NFREE] += 1
        else:
            w -= 1
            buf[w] = m
    kept = end - w
    if w > p:
        for j in range(kept):
            buf[p + j] = buf[w + j]
    ib[k, IB_LEN] = kept


@_inline
def _short(S, d, need):
    """Whether node ``d``'s inbox has room for fewer than ``need`` more messages."""
    return S.ib[d, IB_LEN] + need > S.ib[d, IB_CAP]


@_inline
def _segment_short(S, ids, lo, hi, need, hints):
    """The first node in ``ids[lo:hi]`` whose inbox has room for fewer than ``need`` more
    messages, or -1; with ``hints``, a write hint for the place each one's next message
    goes."""
    ib = S.ib
    for i in range(lo, hi):
        d = ids[i]
        if _short(S, d, need):
            return d
        if hints:
            _prefetch_w(S.ib_buf.ctypes.data + (ib[d, IB_PTR] + ib[d, IB_LEN]) * S.ib_buf.itemsize)
    return -1


@_inline
def _inbox_short(S, k, need):
    """The first neighbour of ``k`` whose inbox has room for fewer than ``need`` more
    messages, or -1. (At 10^5 nodes this also brings the receivers' inbox records into
    the cache, all loads at once, and the places the sends will write.)"""
    hints = S.I[I_HINTS] != 0
    d = _segment_short(S, S.in_src, S.in_ptr[k], S.in_ptr[k] + S.in_len[k], need, hints)
    if d >= 0:
        return d
    return _segment_short(S, S.out_dst, S.out_ptr[k], S.out_ptr[k] + S.out_len[k], need, hints)


@_jit
def repack_inboxes(ib, old, new, grow, size):
    """Copy every inbox from ``old`` into ``new``, packed in node order, node ``grow``'s
    segment of ``size`` places (-1: none). Returns the end of the last segment."""
    top = 0
    for k in range(ib.shape[0]):
        p = ib[k, IB_PTR]
        for j in range(ib[k, IB_LEN]):
            new[top + j] = old[p + j]
        if k == grow:
            ib[k, IB_CAP] = size
        ib[k, IB_PTR] = top
        top += ib[k, IB_CAP]
    return top


@_inline
def _delay(S, k):
    """Channel.delay on a lossy link: one draw from node ``k``'s stream."""
    model = S.I[I_DMODEL]
    if model == D_EXP:
        return S.F[F_DELAY] * _draws.standard_exponential(S.rng, k, S.zke, S.zwe, S.zfe)
    if model == D_UNIFORM:
        return S.F[F_ULO] + S.F[F_URANGE] * _draws.next_double(S.rng, k)
    return S.F[F_DELAY]


@_inline
def _take_row(S, arrival, stamp, a, b, src, kind):
    """A row of the message pool, filled (the host or the run's pre-check ensured room)."""
    I = S.I
    I[I_NFREE] -= 1
    m = S.free[I[I_NFREE]]
    row = S.msg[m]
    row[M_ARR] = arrival
    row[M_STAMP] = stamp
    row[M_A] = a
    row[M_B] = b
    row[M_SRC] = src
    row[M_KIND] = kind
    return m


@_inline
def _post(S, k, dst, kind, a, b, now):
    """Send one message from ``k`` (Transport.send): a delay from ``k``'s buffer, or on a
    lossy link first the loss draw (value and error messages) and then the delay, drawn
    here from ``k``'s stream; zero delay delivers now."""
    if S.I[I_KDRAW] != 0:
        loss = S.F[F_LOSS]
        if kind <= ERROR and loss > 0.0 and _draws.next_double(S.rng, k) < loss:
            S.I[I_LOST_V + kind] += 1
            return
        d = _delay(S, k)
    else:
        d = S.dbuf[S.dpos[k]]
        S.dpos[k] += 1
    if d == 0.0:
        _apply(S, dst, kind, k, a, b, now)
        return
    I = S.I
    if kind <= ERROR and S.down[dst] != 0:
        arr = now + d
        if arr <= S.f_upat[dst] and arr <= S.F[F_HOLD]:
            # It reaches a crashed node before the node's recovery (or before the faults
            # stop, or the run ends): missed when handed over at the recovery, whatever
            # it holds. Counted now instead of held in the inbox until then.
            I[I_MISSED] += 1
            return
    m = _take_row(S, now + d, now, a, b, k, kind)
    ib = S.ib
    ln = ib[dst, IB_LEN]
    S.ib_buf[ib[dst, IB_PTR] + ln] = m
    ib[dst, IB_LEN] = ln + 1


@_inline
def _drop_input(S, k, frm, now):
    """Node.drop_input: remove ``frm -> k`` if it stands and unsubscribe from ``frm``.
    Returns whether it stood."""
    i = _find(S.in_src, S.in_ptr[k], S.in_len[k], frm)
    if i < 0:
        return False
    _delete_slot(i, S.in_ptr[k] + S.in_len[k], S.in_src, S.in_w, S.in_v, S.in_stamp)
    S.in_len[k] -= 1
    S.I[I_SENT_U] += 1
    _post(S, k, frm, UNSUB, 0.0, 0.0, now)
    return True


@_inline
def _prune_arrives(S, dst, decider, frm, now):
    """Node.on_prune_request at ``dst``: drop the input edge from ``frm`` if it still stands
    (the unsubscribe, then the prune, kept for the recorder)."""
    if _drop_input(S, dst, frm, now):
        _keep_prune(S, decider, frm, dst, now, 1)


@_inline
def _keep_prune(S, decider, frm, to, now, remote):
    I = S.I
    r = I[I_NPR]
    S.p_node[r] = decider
    S.p_frm[r] = frm
    S.p_to[r] = to
    S.p_time[r] = now
    S.p_input[r] = I[I_INPUT]
    S.p_remote[r] = remote
    I[I_NPR] = r + 1


# The wake heap is 8-ary: a node's children are one 64-byte line of ``h_t`` (the host
# aligns the arrays; position ``p`` is at index ``p + H0``, so that every block of siblings
# starts at a multiple of 8), and a pop goes about 6 levels deep at 10^5 nodes instead of
# 17: the lower levels are in no cache there. Keys ``(time, sequence)`` are unique, so the
# order of pops does not depend on the heap's shape.
HEAP_D = 8
H0 = HEAP_D - 1


@_inline
def _before(t1, s1, t2, s2):
    return t1 < t2 or (t1 == t2 and s1 < s2)


@_inline
def _heap_push(h_t, h_s, h_k, I, t, s, k):
    i = I[I_HEAP]
    I[I_HEAP] = i + 1
    while i > 0:
        p = (i - 1) // HEAP_D
        if _before(h_t[p + H0], h_s[p + H0], t, s):
            break
        h_t[i + H0] = h_t[p + H0]
        h_s[i + H0] = h_s[p + H0]
        h_k[i + H0] = h_k[p + H0]
        i = p
    h_t[i + H0] = t
    h_s[i + H0] = s
    h_k[i + H0] = k


@_inline
def _heap_pop(h_t, h_s, h_k, I):
    n = I[I_HEAP] - 1
    I[I_HEAP] = n
    t = h_t[n + H0]
    s = h_s[n + H0]
    k = h_k[n + H0]
    i = 0
    while True:
        c = HEAP_D * i + 1
        if c >= n:
            break
        b = c
        tb = h_t[c + H0]
        for j in range(c + 1, min(c + HEAP_D, n)):
            tj = h_t[j + H0]
            if tj < tb or (tj == tb and h_s[j + H0] < h_s[b + H0]):
                b = j
                tb = tj
        if _before(t, s, tb, h_s[b + H0]):
            break
        h_t[i + H0] = tb
        h_s[i + H0] = h_s[b + H0]
        h_k[i + H0] = h_k[b + H0]
        i = b
    if n > 0:
        h_t[i + H0] = t
        h_s[i + H0] = s
        h_k[i + H0] = k


@_inline
def _pf_span(arr, lo, hi):
    """Prefetch the lines of ``arr[lo:hi]`` (``hi > lo``): its first and its last."""
    base = arr.ctypes.data
    _prefetch(base + lo * arr.itemsize)
    _prefetch(base + (hi - 1) * arr.itemsize)


@_inline
def _look_ahead(S, n):
    """Prefetch for the next two wakes due (the heap's first entry and the earliest of its
    children), while this one runs: the second's per-node records; the first's edge
    segments, inbox and registers, whose places its records (prefetched one wake earlier)
    give. Only a hint: a wake pushed before them changes nothing but the hint's use."""
    size = S.I[I_HEAP]
    if size == 0:
        return
    h_t, h_s, h_k = S.h_t, S.h_s, S.h_k
    if size > 1:
        b = 1
        for j in range(2, min(HEAP_D + 1, size)):
            if _before(h_t[j + H0], h_s[j + H0], h_t[b + H0], h_s[b + H0]):
                b = j
        u2 = h_k[b + H0]
        if u2 < n:
            _prefetch(S.in_ptr.ctypes.data + u2 * S.in_ptr.itemsize)
            _prefetch(S.in_len.ctypes.data + u2 * S.in_len.itemsize)
            _prefetch(S.out_ptr.ctypes.data + u2 * S.out_ptr.itemsize)
            _prefetch(S.out_len.ctypes.data + u2 * S.out_len.itemsize)
            _prefetch(S.ib.ctypes.data + u2 * S.ib.strides[0])
    u = h_k[H0]
    if u >= n:
        return
    a0, na = S.in_ptr[u], S.in_len[u]
    b0, nb = S.out_ptr[u], S.out_len[u]
    if na > 0:
        _pf_span(S.in_src, a0, a0 + na)
        _pf_span(S.in_w, a0, a0 + na)
        _pf_span(S.in_v, a0, a0 + na)
        _pf_span(S.in_stamp, a0, a0 + na)
    if nb > 0:
        _pf_span(S.out_dst, b0, b0 + nb)
        _pf_span(S.out_e, b0, b0 + nb)
        _pf_span(S.out_w, b0, b0 + nb)
        _pf_span(S.out_stamp, b0, b0 + nb)
    ln = S.ib[u, IB_LEN]
    if ln > 0:
        _pf_span(S.ib_buf, S.ib[u, IB_PTR], S.ib[u, IB_PTR] + ln)
    _prefetch(S.V.ctypes.data + u * S.V.itemsize)
    _prefetch(S.acts.ctypes.data + u * S.acts.itemsize)
    _prefetch(S.b_arr.ctypes.data + u * S.b_arr.itemsize)
    _prefetch(S.rng.ctypes.data + u * S.rng.strides[0])


@_inline
def _look_ahead_rows(S, n):
    """Prefetch the pool rows in the inbox of the next wake due (its inbox segment was
    prefetched when this activation began)."""
    if S.I[I_HEAP] == 0:
        return
    u = S.h_k[H0]
    if u >= n:
        return
    p = S.ib[u, IB_PTR]
    base = S.msg.ctypes.data
    for i in range(p, p + S.ib[u, IB_LEN]):
        _prefetch(base + np.int64(S.ib_buf[i]) * S.msg.strides[0])


@_jit
def schedule_wake(S, k):
    """Node ``k`` yields its next wake (PoissonClock.wait): one interval from the buffer.
    Returns False, changing nothing, when the buffer is empty."""
    I = S.I
    if I[I_SPOS] >= I[I_SEND]:
        return False
    d = S.sbuf[I[I_SPOS]]
    I[I_SPOS] += 1
    _heap_push(S.h_t, S.h_s, S.h_k, I, S.F[F_NOW] + d, I[I_SEQ], k)
    I[I_SEQ] += 1
    return True


@_inline
def _wake_again(S, k):
    """After a wake: the node's next one (the async schedule's Poisson clock). In the sweep
    schedule the host pushes every pass's wakes (:func:`push_wakes`), so nothing is drawn.
    False, changing nothing, when the buffer of intervals is empty."""
    if S.I[I_SWEEP] != 0:
        return True
    return schedule_wake(S, k)


@_jit
def push_wakes(S, order, t, s0):
    """One pass of the sweep schedule: node ``order[i]`` wakes at ``t`` with event number
    ``s0 + i`` (the teacher fires the pass's wake events in its shuffled order). The heap
    holds at most one wake per node, and the previous pass's are all done."""
    I = S.I
    for i in range(order.size):
        _heap_push(S.h_t, S.h_s, S.h_k, I, t, s0 + i, order[i])


@_inline
def _input_sum(S, k):
    """Eq. 1's sum (Node._in_portable): the products placed by star position (the merge
    of in_src, out_dst and k, all ascending, duplicates once), then rule.blocked_sum."""
    in_src, out_dst, xy = S.in_src, S.out_dst, S.xy
    a0 = S.in_ptr[k]
    na = S.in_len[k]
    b0 = S.out_ptr[k]
    nb = S.out_len[k]
    ia = 0
    ib = 0
    self_done = False
    m = 0
    while ia < na or ib < nb or not self_done:
        x = np.int64(1) << 62
        if ia < na and in_src[a0 + ia] < x:
            x = in_src[a0 + ia]
        if ib < nb and out_dst[b0 + ib] < x:
            x = out_dst[b0 + ib]
        if not self_done and k < x:
            x = k
        prod = 0.0
        if ia < na and in_src[a0 + ia] == x:
            prod = S.in_v[a0 + ia] * S.in_w[a0 + ia]
            ia += 1
        if ib < nb and out_dst[b0 + ib] == x:
            ib += 1
        if not self_done and k == x:
            self_done = True
        xy[m] = prod
        m += 1
    return _blocked_sum(xy, m)


@_jit
def present(S, k, x):
    """Node.present: an input node takes ``x`` and sends it on (the host ensured draws
    and pool room for ``out_len[k]`` messages). Returns -1, or, changing nothing, a
    neighbour whose inbox has no room."""
    d = _inbox_short(S, k, 1)
    if d >= 0:
        return d
    now = S.F[F_NOW]
    _collect(S, k, now)
    S.V[k] = x
    b0 = S.out_ptr[k]
    n_out = S.out_len[k]
    S.I[I_SENT_V] += n_out
    for q in range(b0, b0 + n_out):
        _post(S, k, S.out_dst[q], VALUE, x, 0.0, now)
    return -1


@_jit
def announce(S, k):
    """Node.announce: a hello with the initial weight to each in-neighbour. Returns -1,
    or, changing nothing, a neighbour whose inbox has no room."""
    d = _inbox_short(S, k, 1)
    if d >= 0:
        return d
    a0 = S.in_ptr[k]
    S.I[I_SENT_H] += S.in_len[k]
    for i in range(a0, a0 + S.in_len[k]):
        _post(S, k, S.in_src[i], HELLO, S.in_w[i], 0.0, S.F[F_NOW])
    return -1


@_jit
def announce_from(S, k0):
    """:func:`announce` for every node from ``k0`` on, in node order (the hellos of
    ``Network.__init__``), when the kernel draws the delays itself. Returns ``n`` when
    done, or the node to resume at, changing nothing for it: its hellos need more pool
    places (``I[I_NODE] = -1``) or an in-neighbour's inbox has no room (``I[I_NODE]``)."""
    n = S.I[I_N]
    for k in range(k0, n):
        m = S.in_len[k]
        if m == 0:
            continue
        if S.I[I_NFREE] < m:
            S.I[I_NODE] = -1
            return k
        d = announce(S, k)
        if d >= 0:
            S.I[I_NODE] = d
            return k
    return n


@_jit
def wakes_from(S, nodes, i0):
    """:func:`schedule_wake` for ``nodes[i0:]`` in order (each active node's first wake).
    Returns -1 when done, or the place to resume at when the buffer of intervals is empty."""
    for i in range(i0, nodes.size):
        if not schedule_wake(S, nodes[i]):
            return i
    return -1


@_jit
def drop_input(S, k, frm):
    """Node.drop_input now, for the host: remove ``frm -> k`` and unsubscribe from ``frm``."""
    return _drop_input(S, k, frm, S.F[F_NOW])


@_inline
def _send_prune(S, k, to, frm, now):
    """Port.prune_request: node ``k`` asks ``to`` to remove its input edge from ``frm`` (a
    control message: no loss draw, one delay draw; zero delay acts at once, otherwise its
    arrival is an event, as in the SimPy engine)."""
    I = S.I
    I[I_SENT_P] += 1
    d = _delay(S, k)
    if d == 0.0:
        _prune_arrives(S, to, k, frm, now)
        return
    m = _take_row(S, now + d, now, frm, to, k, PRUNE)
    _heap_push(S.h_t, S.h_s, S.h_k, I, now + d, I[I_SEQ], 2 * I[I_N] + m)
    I[I_SEQ] += 1


@_jit
def send_prune(S, k, to, frm):
    """:func:`_send_prune` now, for the host (which ensured room for two messages and one
    prune record)."""
    _send_prune(S, k, to, frm, S.F[F_NOW])


@_inline
def _act(S, k, frm, to, now):
    """What Node.activate does with a check's edge ``frm -> to`` (``to = -1``: none)."""
    if to < 0:
        return
    if to != k:
        _send_prune(S, k, to, frm, now)
    elif _drop_input(S, k, frm, now):
        _keep_prune(S, k, frm, k, now, 0)


@_jit
def collect_all(S):
    """Transport.deliver_all."""
    for k in range(S.role.size):
        _collect(S, k, S.F[F_NOW])


@_inline
def _report_age(S, k, now):
    """Node._report_age: the mean age of the news in ``k``'s registers (level full)."""
    I = S.I
    a0 = S.in_ptr[k]
    acc = 0.0
    cnt = 0
    for i in range(a0, a0 + S.in_len[k]):
        if S.in_stamp[i] != -np.inf:
            acc += now - S.in_stamp[i]
            cnt += 1
    if cnt:
        j = I[I_NAGE]
        S.a_node[j] = k
        S.a_time[j] = now
        S.a_val[j] = acc / cnt
        I[I_NAGE] = j + 1


# Above 128 entries NumPy sums the two halves (split at a multiple of 8) recursively. numba
# segfaults when a recursive function is loaded from its cache (numba issue 6061), so the
# recursion is written out to a fixed depth: _pairwise_sum covers PAIRWISE_MAX entries (checked
# by the host against the largest star).
@_inline
def _split(n):
    h = n // 2
    return h - h % 8


@_inline
def _sum1(v, i0, n):
    if n <= 128:
        return _leaf_sum(v, i0, n)
    h = _split(n)
    return _leaf_sum(v, i0, h) + _leaf_sum(v, i0 + h, n - h)


@_inline
def _sum2(v, i0, n):
    if n <= 128:
        return _leaf_sum(v, i0, n)
    h = _split(n)
    return _sum1(v, i0, h) + _sum1(v, i0 + h, n - h)


@_jit
def _sum3(v, i0, n):
    if n <= 128:
        return _leaf_sum(v, i0, n)
    h = _split(n)
    return _sum2(v, i0, h) + _sum2(v, i0 + h, n - h)


@_jit
def _sum4(v, i0, n):
    if n <= 128:
        return _leaf_sum(v, i0, n)
    h = _split(n)
    return _sum3(v, i0, h) + _sum3(v, i0 + h, n - h)


@_jit
def _pairwise_sum(v, i0, n):
    """spectral.numpy_sum of ``v[i0:i0 + n]``, for ``n <= PAIRWISE_MAX``."""
    if n <= 128:
        return _leaf_sum(v, i0, n)
    h = _split(n)
    return _sum4(v, i0, h) + _sum4(v, i0 + h, n - h)


def _covered(depth: int) -> int:
    """The largest ``n`` the written-out recursion of ``depth`` levels sums exactly."""
    if depth == 0:
        return 128
    child = _covered(depth - 1)
    n = child
    while True:
        h = (n + 1) // 2 - ((n + 1) // 2) % 8
        if n + 1 - h > child:
            return n
        n += 1


PAIRWISE_MAX = _covered(5)


@_inline
def _keep_ref_check(S, k, now):
    """Keep a reference-rule check for the host: the star's members by place (the merge
    of in_src, out_dst and k, all ascending), which are in-neighbours, and its Laplacian,
    entry for entry as spectral.plan_laplacian computes it."""
    I = S.I
    j = I[I_NCK]
    S.c_node[j] = k
    S.c_time[j] = now
    S.c_input[j] = I[I_INPUT]
    S.c_pfrm[j] = -1
    S.c_pto[j] = -1
    pto = S.pr_to[k]
    if pto >= 0:  # the prediction's effect (Node.activate: an own edge only if it stands)
        pfrm = S.pr_frm[k]
        if pto != k or _find(S.in_src, S.in_ptr[k], S.in_len[k], pfrm) >= 0:
            S.c_pfrm[j] = pfrm
            S.c_pto[j] = pto
    in_src, out_dst = S.in_src, S.out_dst
    a0 = S.in_ptr[k]
    na = S.in_len[k]
    b0 = S.out_ptr[k]
    nb = S.out_len[k]
    z = I[I_NSNAP]
    S.c_off[j] = z
    # the members by place; xy holds each place's out-weight (0 elsewhere), for the row sum
    ia = 0
    ib = 0
    self_done = False
    m = 0
    cc = 0
    while ia < na or ib < nb or not self_done:
        x = np.int64(1) << 62
        if ia < na and in_src[a0 + ia] < x:
            x = in_src[a0 + ia]
        if ib < nb and out_dst[b0 + ib] < x:
            x = out_dst[b0 + ib]
        if not self_done and k < x:
            x = k
        S.s_ids[z + m] = x
        S.s_in[z + m] = 0
        S.xy[m] = 0.0
        if ia < na and in_src[a0 + ia] == x:
            S.s_in[z + m] = 1
            ia += 1
        if ib < nb and out_dst[b0 + ib] == x:
            ib += 1
        if not self_done and k == x:
            self_done = True
            cc = m
        m += 1
    I[I_NSNAP] = z + m
    S.c_off[j + 1] = z + m
    lo = I[I_NL]
    S.c_loff[j] = lo
    L = S.l_buf
    for q in range(lo, lo + m * m):
        L[q] = 0.0
    dw = I[I_DW] != 0
    # walk the places again, now with the weights (in_w by in_src, out_w by out_dst)
    ia = 0
    ib = 0
    col = 0.0
    n_in = 0
    n_out = 0
    for p in range(m):
        x = S.s_ids[z + p]
        if p == cc:
            continue
        d = lo + p * m + p
        if ia < na and in_src[a0 + ia] == x:
            w = S.in_w[a0 + ia]
            L[d] = w if dw else 1.0
            col += w
            L[lo + p * m + cc] = -w
            n_in += 1
            ia += 1
        if ib < nb and out_dst[b0 + ib] == x:
            w = S.out_w[b0 + ib]
            if dw:
                L[d] += w
            else:
                L[d] += 1.0
            S.xy[p] = w
            L[lo + cc * m + p] = -w
            n_out += 1
            ib += 1
    if dw:
        L[lo + cc * m + cc] = _pairwise_sum(S.xy, 0, m) + col
    else:
        L[lo + cc * m + cc] = np.float64(n_in + n_out)
    I[I_NL] = lo + m * m
    S.c_loff[j + 1] = lo + m * m
    I[I_NCK] = j + 1


@_inline
def _keep_local_check(S, k, now):
    """Keep a local-rule check with an eligible edge for the host, as a reference-rule
    check is kept (members, Laplacian), with its eligible in-neighbours marked ``s_in = 2``
    (``S.flags`` from :func:`_has_eligible`, in in_src order, which is the places' order)."""
    _keep_ref_check(S, k, now)
    j = S.I[I_NCK] - 1
    i = 0
    for z in range(S.c_off[j], S.c_off[j + 1]):
        if S.s_in[z] != 0:
            if S.flags[i] != 0:
                S.s_in[z] = 2
            i += 1


@_inline
def _keep_check(S, k, now):
    """Keep what a check's eigenvalues need (the host computes them): the star's members
    and weights, out-neighbours stored as ``-1 - id``."""
    I = S.I
    j = I[I_NCK]
    S.c_node[j] = k
    S.c_time[j] = now
    S.c_input[j] = I[I_INPUT]
    z = I[I_NSNAP]
    S.c_off[j] = z
    a0, b0 = S.in_ptr[k], S.out_ptr[k]
    for i in range(a0, a0 + S.in_len[k]):
        S.s_ids[z] = S.in_src[i]
        S.s_w[z] = S.in_w[i]
        z += 1
    for q in range(b0, b0 + S.out_len[k]):
        S.s_ids[z] = -1 - S.out_dst[q]
        S.s_w[z] = S.out_w[q]
        z += 1
    I[I_NSNAP] = z
    S.c_off[j + 1] = z
    I[I_NCK] = j + 1


@_inline
def _activate(S, k, now, learn):
    """Node.activate up to the pruning check: Eq. 1-3 and the value and error messages."""
    I, F = S.I, S.F
    a0 = S.in_ptr[k]
    na = S.in_len[k]
    b0 = S.out_ptr[k]
    nb = S.out_len[k]
    s_in = _input_sum(S, k)
    if I[I_BIAS] != 0:
        s_in += S.b_arr[k]
    v = _sigmoid(s_in)
    S.V[k] = v
    I[I_SENT_V] += nb
    for q in range(b0, b0 + nb):
        _post(S, k, S.out_dst[q], VALUE, v, 0.0, now)
    if S.role[k] == OUTPUT:
        E = _output_error(F[F_EF], v, S.y[k])
    else:
        nb = S.out_len[k]
        E = _hidden_error(_running_dot(S.out_e[b0:b0 + nb], S.out_w[b0:b0 + nb], nb), v)
    if learn:
        _update_inputs(S.in_w[a0:a0 + na], S.in_v[a0:a0 + na], na, E, F[F_CLIP])
        if I[I_BIAS] != 0:
            S.b_arr[k] -= E
    I[I_SENT_E] += na
    for i in range(a0, a0 + na):
        _post(S, k, S.in_src[i], ERROR, E, S.in_w[i], now)


@_inline
def _has_eligible(S, k):
    """SpectralLocal.check's first test: an edge the rule may remove (the weaker half of a
    2-cycle, on a node that may lose an input; with ``pruning.eligible = "all"`` every input
    edge, and with ``pruning.outputs`` on output nodes too). Only then does the spectrum
    matter. The eligible edges are marked in ``S.flags`` (in_src order)."""
    a0, b0 = S.in_ptr[k], S.out_ptr[k]
    na, nb = S.in_len[k], S.out_len[k]
    I = S.I
    if not _may_prune_inputs(S.role[k] == OUTPUT and I[I_OUTPRUNE] == 0, na, I[I_MINDEG]):
        return False
    if I[I_EVERY] != 0:  # pruning.eligible = "all": every input edge (na > min_in_degree)
        for i in range(na):
            S.flags[i] = 1
        return True
    return _mark_eligible(S.in_src[a0:a0 + na], S.in_w[a0:a0 + na], na,
                          S.out_dst[b0:b0 + nb], S.out_w[b0:b0 + nb], nb, S.flags) > 0


@_inline
def _fault_draw(S, scale):
    """One exponential draw of mean ``scale`` from the fault stream (row ``n``)."""
    return scale * _draws.standard_exponential(S.rng, S.I[I_N], S.zke, S.zwe, S.zfe)


@_inline
def _fault_push(S, k, t):
    """Node ``k``'s fault process waits until ``t`` (a SimPy timeout: one event number)."""
    I = S.I
    _heap_push(S.h_t, S.h_s, S.h_k, I, t, I[I_SEQ], I[I_N] + k)
    I[I_SEQ] += 1


@_inline
def _recover(S, k, now):
    """Node.recover: what arrived while down is missed; the registers are forgotten when
    faults reset them."""
    _collect(S, k, now)
    S.down[k] = 0
    if S.I[I_RESET] != 0:
        a0, b0 = S.in_ptr[k], S.out_ptr[k]
        for i in range(a0, a0 + S.in_len[k]):
            S.in_v[i] = 0.0
            S.in_stamp[i] = -np.inf
        for q in range(b0, b0 + S.out_len[k]):
            S.out_e[q] = 0.0
            S.out_w[q] = 0.0
            S.out_stamp[q] = -np.inf


@_jit
def fault_start(S, k):
    """Faults._life of node ``k`` at time 0: wait for ``faults.start``, or draw the first
    up-time."""
    if S.F[F_START] > 0:
        S.fphase[k] = FP_START
        _fault_push(S, k, S.F[F_NOW] + S.F[F_START])
    else:
        S.fphase[k] = FP_UP
        _fault_push(S, k, S.F[F_NOW] + _fault_draw(S, S.F[F_UP]))


@_jit
def fault_start_all(S, nodes):
    """:func:`fault_start` for each of ``nodes``, in order."""
    for i in range(nodes.size):
        fault_start(S, nodes[i])


@_inline
def _fault_event(S, k, now):
    """The next step of node ``k``'s fault process (Faults._life), at ``now``."""
    I = S.I
    ph = S.fphase[k]
    if ph == FP_START:
        S.fphase[k] = FP_UP
        _fault_push(S, k, now + _fault_draw(S, S.F[F_UP]))
    elif ph == FP_UP:
        if I[I_FACTIVE] == 0:
            S.fphase[k] = FP_DONE
            return
        _collect(S, k, now)  # Node.crash: what arrived while it was up
        S.down[k] = 1
        r = I[I_NLOG]
        S.f_node[r] = k
        S.f_t0[r] = now
        S.f_t1[r] = np.inf
        S.f_row[k] = r
        I[I_NLOG] = r + 1
        S.fphase[k] = FP_DOWN
        up = now + _fault_draw(S, S.F[F_DOWN])
        S.f_upat[k] = up
        _fault_push(S, k, up)
    elif ph == FP_DOWN:
        if S.down[k] == 0:  # brought back by stop_faults
            S.fphase[k] = FP_DONE
            return
        _recover(S, k, now)
        S.f_t1[S.f_row[k]] = now
        S.fphase[k] = FP_UP
        _fault_push(S, k, now + _fault_draw(S, S.F[F_UP]))


@_jit
def stop_faults(S):
    """Faults.stop: no more crashes; every node that is down comes back now, in log order."""
    I = S.I
    I[I_FACTIVE] = 0
    now = S.F[F_NOW]
    for r in range(I[I_NLOG]):
        if S.f_t1[r] == np.inf:
            _recover(S, S.f_node[r], now)
            S.f_t1[r] = now


@_jit
def run(S, t_stop, s_stop):
    """Process wakes in ``(time, sequence)`` order up to ``(t_stop, s_stop)``.

    Returns a status; ``I[I_NODE]`` names the node it concerns. A node whose activation
    ended (CHECK) or found no wake interval (NEED_SCHED) is left in ``I[I_PENDING]`` and
    its next wake is drawn on re-entry. Other stops leave the state as before the wake.
    """
    I = S.I
    if I[I_PENDING] >= 0:
        if not _wake_again(S, I[I_PENDING]):
            I[I_NODE] = I[I_PENDING]
            return NEED_SCHED
        I[I_PENDING] = -1
    learn = I[I_LEARN] != 0
    checking = learn and I[I_PRUNE] != 0
    full = I[I_FULL] != 0
    ages = I[I_AGES] != 0  # the news' ages of watched nodes (level full, async schedule)
    local = I[I_LOCAL] != 0
    ref = I[I_REF] != 0
    spec = ref or I[I_SPEC] != 0  # checks kept and decided after the fact
    hints = I[I_HINTS] != 0  # prefetch for the next wakes (large networks)
    h_t, h_s, h_k = S.h_t, S.h_s, S.h_k
    while I[I_HEAP] > 0:
        t = h_t[H0]
        s = h_s[H0]
        if t > t_stop or (t == t_stop and s > s_stop):
            return DONE
        k = h_k[H0]
        if k >= 2 * I[I_N]:  # a prune request arrives
            I[I_NODE] = k
            if I[I_NFREE] < 1:
                return NEED_POOL
            if I[I_NPR] >= S.p_node.size:
                return NEED_BUF
            m = k - 2 * I[I_N]
            row = S.msg[m]
            frm = np.int64(row[M_A])
            if _short(S, frm, 1):  # room for the unsubscribe
                I[I_NODE] = frm
                return NEED_INBOX
            decider = np.int64(row[M_SRC])
            dst = np.int64(row[M_B])
            _heap_pop(h_t, h_s, h_k, I)
            S.F[F_NOW] = t
            S.free[I[I_NFREE]] = m
            I[I_NFREE] += 1
            _collect(S, dst, t)  # what arrived before it first (Transport.send's arrive)
            _prune_arrives(S, dst, decider, frm, t)
            continue
        if k >= I[I_N]:  # a fault process's event
            I[I_NODE] = k - I[I_N]
            if I[I_NLOG] >= S.f_node.size:
                return NEED_FLOG
            _heap_pop(h_t, h_s, h_k, I)
            S.F[F_NOW] = t
            _fault_event(S, k - I[I_N], t)
            continue
        na = S.in_len[k]
        nb = S.out_len[k]
        need = na + nb + 1 + ref  # the messages of an activation and of what it prunes
        I[I_NODE] = k
        if ref and I[I_NPR] + 1 >= S.p_node.size:
            return NEED_BUF
        if I[I_KDRAW] == 0 and S.dpos[k] + need > S.dend[k]:
            return NEED_DRAWS
        if I[I_NFREE] < need:
            return NEED_POOL
        if (ages and I[I_NAGE] >= S.a_node.size) or ((full or spec) and (
                I[I_NCK] >= S.c_node.size or I[I_NSNAP] + na + nb >= S.s_ids.size)) or (
                spec and I[I_NL] + (need * need) >= S.l_buf.size):
            return NEED_BUF
        if S.down[k] == 0:
            d = _inbox_short(S, k, ACT_ROOM)
            if d >= 0:
                I[I_NODE] = d
                return NEED_INBOX
        _heap_pop(h_t, h_s, h_k, I)
        if hints:
            _look_ahead(S, I[I_N])
        now = t
        S.F[F_NOW] = now
        if S.down[k] != 0:  # a crashed node sleeps through its wake, and waits for the next
            if not _wake_again(S, k):
                I[I_PENDING] = k
                return NEED_SCHED
            continue
        _collect(S, k, now)
        S.acts[k] += 1
        if ages and S.watch[k] != 0:
            _report_age(S, k, now)
        _activate(S, k, now, learn)
        if hints:
            _look_ahead_rows(S, I[I_N])
        if checking and ref:  # kept for the host, which checks the prediction after the fact
            _keep_ref_check(S, k, now)
            if I[I_NCK] >= I[I_CKLIMIT]:  # the host decides this one itself
                I[I_PENDING] = k
                return CHECK
            _act(S, k, S.pr_frm[k], S.pr_to[k], now)
        elif checking:
            if local and _has_eligible(S, k):
                if not spec:  # the host runs the check now
                    I[I_PENDING] = k
                    return CHECK
                # kept for the host; the kernel goes on as if nothing went (prunes are rare)
                _keep_local_check(S, k, now)
                if I[I_NCK] >= I[I_CKLIMIT]:  # the host decides this one itself
                    I[I_PENDING] = k
                    return CHECK
            else:
                I[I_CHECKS] += 1
                if full and S.watch[k] != 0:
                    _keep_check(S, k, now)
        if not _wake_again(S, k):
            I[I_PENDING] = k
            return NEED_SCHED
    return DONE


@_jit
def decide(S, m, im, frm, to, same):
    """The reference rule's outcome of the first ``m`` kept checks, given the imaginary
    parts of their eigenvalues (``im``, laid out as the members in ``s_ids``): the edge
    ``frm -> to`` each names (``to = -1``: none; rule.reference_pair, then the star's
    members by place), and whether the prediction the kernel ran with had the same effect
    (Node.activate: an own edge is dropped only if it stands). Returns the first check
    whose prediction was wrong among the first ``applied``, or -1."""
    bad = -1
    for c in range(m):
        z0 = S.c_off[c]
        n = S.c_off[c + 1] - z0
        hi = im[z0]
        lo = im[z0]
        ia = 0
        ib = 0
        for p in range(1, n):  # max and min, first occurrences (reference_pair's loops)
            v = im[z0 + p]
            if v > hi:
                hi = v
                ia = p
            if v < lo:
                lo = v
                ib = p
        f = -1
        t = -1
        e = -1
        if not (hi == 0.0 and lo == 0.0) and lo == -hi:
            a = S.s_ids[z0 + ia]
            b = S.s_ids[z0 + ib]
            if a != b:
                f = b
                t = a
                if a != S.c_node[c] or S.s_in[z0 + ib] != 0:
                    e = a
        frm[c] = f
        to[c] = t
        ok = e == S.c_pto[c] and (e < 0 or f == S.c_pfrm[c])
        same[c] = ok
        if not ok and bad < 0:
            bad = c
    return bad


@_jit
def kept_imag(S, m, im, fn, wr, wi, ints, chars, a, work, lwork_of, need):
    """The imaginary parts of the eigenvalues of the first ``m`` kept checks' Laplacians,
    into ``im`` laid out as the members in ``s_ids`` (NaN where ``dgeev`` fails, as the
    gufunc gives). Returns 0, or 1 when a buffer is short: ``need`` then holds the largest
    star and the workspace asked for, and nothing was decided."""
    big = 0
    for c in range(m):
        big = max(big, S.c_off[c + 1] - S.c_off[c])
    if a.size < big * big or wr.size < big or lwork_of.size <= big:
        need[0] = big
        return 1
    for c in range(m):
        z0 = S.c_off[c]
        n = S.c_off[c + 1] - z0
        info = _lapack.geev_into(fn, S.l_buf, S.c_loff[c], n, wr, wi, ints, chars, a, work,
                            lwork_of)
        if info == -1:
            need[0] = big
            need[1] = lwork_of[n]
            return 1
        for p in range(n):
            im[z0 + p] = wi[p] if info == 0 else np.nan
    return 0


@_jit
def ref_decide(S, m, applied, im, frm, to, same, fn, wr, wi, ints, chars, a, work,
               lwork_of, need):
    """One call for a reference-rule settle (each call from the host costs the dispatch
    of the whole state): :func:`kept_imag`, :func:`decide`, and when no prediction among
    the first ``applied`` was wrong, :func:`predict` for all ``m``. Returns the first
    wrong prediction among the first ``applied`` (-1: none), or -2 when a buffer is short
    (see :func:`kept_imag`; nothing decided)."""
    if kept_imag(S, m, im, fn, wr, wi, ints, chars, a, work, lwork_of, need):
        return -2
    decide(S, m, im, frm, to, same)
    for c in range(applied):
        if not same[c]:
            return c
    predict(S, m, frm, to)
    return -1


@_jit
def local_candidates(S, m, im, thr, cand):
    """The first ``m`` kept local-rule checks whose largest imaginary part is not at most
    ``thr`` (NaN included): their numbers into ``cand``; returns how many."""
    q = 0
    for c in range(m):
        z0 = S.c_off[c]
        top = im[z0]
        for p in range(z0 + 1, S.c_off[c + 1]):
            if im[p] > top or im[p] != im[p]:
                top = im[p]
                if top != top:
                    break
        if not (top <= thr):
            cand[q] = c
            q += 1
    return q


@_jit
def group_checks(S, m, order, counts):
    """The first ``m`` kept checks grouped by star size for the host's stacks: ``counts[z]``
    is how many have ``z`` members, ``order`` lists them by size (in check order within a
    size)."""
    for z in range(counts.size):
        counts[z] = 0
    for c in range(m):
        counts[S.c_off[c + 1] - S.c_off[c]] += 1
    start = 0
    for z in range(counts.size):
        n = counts[z]
        counts[z] = start
        start += n
    for c in range(m):
        z = S.c_off[c + 1] - S.c_off[c]
        order[counts[z]] = c
        counts[z] += 1
    prev = 0
    for z in range(counts.size):  # back from ends to counts
        end = counts[z]
        counts[z] = end - prev
        prev = end


@_jit
def gather_laplacians(S, cs, size, out):
    """The kept Laplacians of checks ``cs`` (each of ``size`` members), one after another."""
    q = 0
    for c in cs:
        lo = S.c_loff[c]
        for i in range(size * size):
            out[q] = S.l_buf[lo + i]
            q += 1


@_jit
def scatter_imag(S, cs, lam_im, im):
    """Row ``j`` of ``lam_im`` (the eigenvalues' imaginary parts of check ``cs[j]``) into
    ``im``, laid out as the members in ``s_ids``."""
    for j in range(cs.size):
        z0 = S.c_off[cs[j]]
        for p in range(lam_im.shape[1]):
            im[z0 + p] = lam_im[j, p]


@_jit
def predict(S, m, frm, to):
    """Each node's next prediction: the outcome of its latest check among the first ``m``."""
    for c in range(m):
        k = S.c_node[c]
        S.pr_frm[k] = frm[c]
        S.pr_to[k] = to[c]


#: what a run of the kernel may change (copy_state copies exactly these)
CHECKPOINTED = ("in_src", "in_w", "in_v", "in_stamp", "in_len", "out_len", "out_dst", "out_e",
                "out_w", "out_stamp", "V", "b_arr", "acts", "dpos", "dend", "ib", "ib_buf",
                "free", "h_t", "h_s", "h_k", "down", "fphase", "f_row", "f_t1", "pr_frm", "pr_to",
                "I", "F", "msg", "rng", "f_upat")


@_inline
def _copy(a, b):
    for i in range(a.size):
        b[i] = a[i]


@_inline
def _copy2(a, b):
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            b[i, j] = a[i, j]


@_jit
def run_from(S, T, t_stop, s_stop):
    """Checkpoint (``S`` copied into ``T``), then :func:`run`: one call from the host."""
    copy_state(S, T)
    return run(S, t_stop, s_stop)


@_jit
def copy_state(A, B):
    """Copy what a run of the kernel may change from ``A`` into ``B`` (arrays of the same
    shapes): the reference rule's checkpoint, and going back to it. The trace and prune
    buffers only grow (their counts are in ``I``), so they are not copied."""
    _copy(A.in_src, B.in_src)
    _copy(A.in_w, B.in_w)
    _copy(A.in_v, B.in_v)
    _copy(A.in_stamp, B.in_stamp)
    _copy(A.in_len, B.in_len)
    _copy(A.out_len, B.out_len)
    _copy(A.out_dst, B.out_dst)
    _copy(A.out_e, B.out_e)
    _copy(A.out_w, B.out_w)
    _copy(A.out_stamp, B.out_stamp)
    _copy(A.V, B.V)
    _copy(A.b_arr, B.b_arr)
    _copy(A.acts, B.acts)
    _copy(A.dpos, B.dpos)
    _copy(A.dend, B.dend)
    _copy2(A.ib, B.ib)
    _copy(A.ib_buf, B.ib_buf)
    _copy(A.free, B.free)
    _copy(A.h_t, B.h_t)
    _copy(A.h_s, B.h_s)
    _copy(A.h_k, B.h_k)
    _copy(A.down, B.down)
    _copy(A.fphase, B.fphase)
    _copy(A.f_row, B.f_row)
    _copy(A.f_t1, B.f_t1)
    _copy(A.pr_frm, B.pr_frm)
    _copy(A.pr_to, B.pr_to)
    _copy(A.I, B.I)
    _copy(A.F, B.F)
    _copy2(A.msg, B.msg)
    _copy2(A.rng, B.rng)
    _copy(A.f_upat, B.f_upat)
