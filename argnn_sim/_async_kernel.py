"""Compiled (numba) core of :mod:`argnn_sim.compiled`: the async schedule's wakes, messages
and local rule on flat arrays. Imported only by that module, and only when it is used.

Everything here mirrors the SimPy engine operation for operation (see
:mod:`argnn_sim.node` and :mod:`argnn_sim.channel`); the tests compare whole runs. The
kernel never draws random numbers: the host fills each channel's buffer of delays and the
buffer of wake intervals from the run's own streams, in order, and the kernel returns
whenever one runs short, or a node needs what only Python does (a spectral check with an
eligible edge).

State is plain arrays. ``I`` and ``F`` hold the scalars (indices below). A node's input
edges live in ``in_*[in_ptr[k] : in_ptr[k] + in_len[k]]`` in ascending source order, its
output edges in ``out_*`` likewise; a removed edge is deleted by shifting the rest left,
exactly like ``del`` on the SimPy node's lists. Messages in flight sit in a pool, one
64-byte row each (a free stack, and one singly linked inbox per receiver); the wake queue
is a binary heap ordered by ``(time, sequence)``, SimPy's own order (its event id grows
with every scheduling).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

VALUE, ERROR, HELLO, UNSUB = 0, 1, 2, 3

# run() status
DONE, NEED_DRAWS, NEED_SCHED, NEED_POOL, NEED_BUF, CHECK = range(6)

# I: int64 scalars
(I_SEQ, I_HEAP, I_SPOS, I_SEND, I_PENDING, I_NODE, I_LEARN, I_PRUNE, I_FULL, I_MINDEG,
 I_CHECKS, I_NAGE, I_NCK, I_NSNAP, I_INPUT, I_NFREE, I_SENT_V, I_SENT_E,
 I_SENT_H, I_SENT_U, I_BIAS, I_LOCAL) = range(22)
N_I = 22
# F: float64 scalars
F_NOW, F_Y, F_EF, F_CLIP = range(4)
N_F = 4

# roles
INPUT, HIDDEN, OUTPUT = 0, 1, 2
# columns of a message in the pool (one 64-byte row: one cache line per message;
# integers are held exactly as floats)
M_ARR, M_STAMP, M_A, M_B, M_SRC, M_KIND, M_NEXT = range(7)
M_COLS = 8

_CACHE = True


@njit(cache=_CACHE, inline='always')
def _find(arr, start, length, x):
    for i in range(start, start + length):
        if arr[i] == x:
            return i
    return -1


@njit(cache=_CACHE, inline='always')
def _delete_slot(i, stop, ids, x, y, z):
    """Delete place ``i`` of a node's segment ending before ``stop``: the rest move left,
    as ``del`` on the SimPy node's four parallel lists."""
    for q in range(i, stop - 1):
        ids[q] = ids[q + 1]
        x[q] = x[q + 1]
        y[q] = y[q + 1]
        z[q] = z[q + 1]


@njit(cache=_CACHE, inline='always')
def _apply(dst, kind, src, a, b, stamp,
           in_ptr, in_len, in_src, in_v, in_stamp,
           out_ptr, out_len, out_dst, out_e, out_w, out_stamp):
    """One message's handler (Node.on_value / on_error / on_hello / on_unsubscribe)."""
    if kind == VALUE:
        i = _find(in_src, in_ptr[dst], in_len[dst], src)
        if i >= 0 and stamp >= in_stamp[i]:
            in_v[i] = a
            in_stamp[i] = stamp
        return
    j = _find(out_dst, out_ptr[dst], out_len[dst], src)
    if j < 0:
        return
    if kind == ERROR:
        if stamp >= out_stamp[j]:
            out_e[j] = a
            out_w[j] = b
            out_stamp[j] = stamp
    elif kind == HELLO:
        if stamp >= out_stamp[j]:
            out_w[j] = a
    else:  # UNSUB: delete slot j, shifting the rest left
        _delete_slot(j, out_ptr[dst] + out_len[dst], out_dst, out_e, out_w, out_stamp)
        out_len[dst] -= 1


@njit(cache=_CACHE, inline='always')
def _collect(k, now, head, msg, free, I,
             in_ptr, in_len, in_src, in_v, in_stamp,
             out_ptr, out_len, out_dst, out_e, out_w, out_stamp):
    """Hand node ``k`` every message that has arrived by ``now`` (Transport.deliver)."""
    prev = -1
    m = head[k]
    while m >= 0:
        row = msg[m]
        nxt = np.int64(row[M_NEXT])
        if row[M_ARR] <= now:
            _apply(k, np.int64(row[M_KIND]), np.int64(row[M_SRC]), row[M_A], row[M_B],
                   row[M_STAMP], in_ptr, in_len, in_src, in_v, in_stamp,
                   out_ptr, out_len, out_dst, out_e, out_w, out_stamp)
            if prev < 0:
                head[k] = nxt
            else:
                msg[prev, M_NEXT] = nxt
            free[I[I_NFREE]] = m
            I[I_NFREE] += 1
        else:
            prev = m
        m = nxt


@njit(cache=_CACHE, inline='always')
def _post(k, dst, kind, a, b, now, dbuf, dpos, dend, head, msg, free, I,
          in_ptr, in_len, in_src, in_v, in_stamp,
          out_ptr, out_len, out_dst, out_e, out_w, out_stamp):
    """Send one message from ``k``: a delay from ``k``'s buffer; zero delay delivers now."""
    d = dbuf[dpos[k]]
    dpos[k] += 1
    if d == 0.0:
        _apply(dst, kind, k, a, b, now, in_ptr, in_len, in_src, in_v, in_stamp,
               out_ptr, out_len, out_dst, out_e, out_w, out_stamp)
        return
    I[I_NFREE] -= 1
    m = free[I[I_NFREE]]
    row = msg[m]
    row[M_ARR] = now + d
    row[M_STAMP] = now
    row[M_A] = a
    row[M_B] = b
    row[M_SRC] = k
    row[M_KIND] = kind
    row[M_NEXT] = head[dst]
    head[dst] = m


@njit(cache=_CACHE, inline='always')
def _heap_push(h_t, h_s, h_k, I, t, s, k):
    i = I[I_HEAP]
    I[I_HEAP] = i + 1
    while i > 0:
        p = (i - 1) >> 1
        if h_t[p] < t or (h_t[p] == t and h_s[p] < s):
            break
        h_t[i] = h_t[p]
        h_s[i] = h_s[p]
        h_k[i] = h_k[p]
        i = p
    h_t[i] = t
    h_s[i] = s
    h_k[i] = k


@njit(cache=_CACHE, inline='always')
def _heap_pop(h_t, h_s, h_k, I):
    n = I[I_HEAP] - 1
    I[I_HEAP] = n
    t = h_t[n]
    s = h_s[n]
    k = h_k[n]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and (h_t[c + 1] < h_t[c] or (h_t[c + 1] == h_t[c] and h_s[c + 1] < h_s[c])):
            c += 1
        if t < h_t[c] or (t == h_t[c] and s < h_s[c]):
            break
        h_t[i] = h_t[c]
        h_s[i] = h_s[c]
        h_k[i] = h_k[c]
        i = c
    if n > 0:
        h_t[i] = t
        h_s[i] = s
        h_k[i] = k


@njit(cache=_CACHE)
def schedule_wake(k, sbuf, h_t, h_s, h_k, I, F):
    """Node ``k`` yields its next wake (PoissonClock.wait): one interval from the buffer.
    Returns False, changing nothing, when the buffer is empty."""
    if I[I_SPOS] >= I[I_SEND]:
        return False
    d = sbuf[I[I_SPOS]]
    I[I_SPOS] += 1
    _heap_push(h_t, h_s, h_k, I, F[F_NOW] + d, I[I_SEQ], k)
    I[I_SEQ] += 1
    return True


@njit(cache=_CACHE, inline='always')
def _input_sum(k, in_ptr, in_len, in_src, in_v, in_w, out_ptr, out_len, out_dst, xy):
    """Node._input_sum: products placed by star position, BLAS ddot's blocks of four."""
    a0 = in_ptr[k]
    na = in_len[k]
    b0 = out_ptr[k]
    nb = out_len[k]
    # star positions: merge of in_src, out_dst and k (all ascending, duplicates once)
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
            prod = in_v[a0 + ia] * in_w[a0 + ia]
            ia += 1
        if ib < nb and out_dst[b0 + ib] == x:
            ib += 1
        if not self_done and k == x:
            self_done = True
        xy[m] = prod
        m += 1
    t1 = 0.0
    t2 = 0.0
    n1 = m & -4
    i = 0
    while i < n1:
        t1 += xy[i] + xy[i + 2]
        t2 += xy[i + 1] + xy[i + 3]
        i += 4
    while i < m:
        t1 += xy[i]
        i += 1
    return t1 + t2


@njit(cache=_CACHE)
def present(k, x, role, in_ptr, in_len, in_src, in_w, in_v, in_stamp,
            out_ptr, out_len, out_dst, out_e, out_w, out_stamp, V, b_arr, acts,
            dbuf, dpos, dend, head, msg, free,
            h_t, h_s, h_k, sbuf, xy, a_node, a_time, a_val, c_node, c_time, c_input, c_off,
            s_ids, s_w, watch, I, F):
    """Node.present: an input node takes ``x`` and sends it on (the host ensured draws
    and pool room for ``out_len[k]`` messages)."""
    now = F[F_NOW]
    _collect(k, now, head, msg, free, I,
             in_ptr, in_len, in_src, in_v, in_stamp, out_ptr, out_len, out_dst, out_e, out_w,
             out_stamp)
    V[k] = x
    b0 = out_ptr[k]
    n_out = out_len[k]
    I[I_SENT_V] += n_out
    for q in range(b0, b0 + n_out):
        _post(k, out_dst[q], VALUE, x, 0.0, now, dbuf, dpos, dend, head, msg, free, I, in_ptr,
              in_len, in_src, in_v, in_stamp, out_ptr, out_len, out_dst, out_e, out_w, out_stamp)


@njit(cache=_CACHE)
def announce(k, role, in_ptr, in_len, in_src, in_w, in_v, in_stamp,
             out_ptr, out_len, out_dst, out_e, out_w, out_stamp, V, b_arr, acts,
             dbuf, dpos, dend, head, msg, free,
             h_t, h_s, h_k, sbuf, xy, a_node, a_time, a_val, c_node, c_time, c_input, c_off,
             s_ids, s_w, watch, I, F):
    """Node.announce: a hello with the initial weight to each in-neighbour."""
    a0 = in_ptr[k]
    I[I_SENT_H] += in_len[k]
    for i in range(a0, a0 + in_len[k]):
        _post(k, in_src[i], HELLO, in_w[i], 0.0, F[F_NOW], dbuf, dpos, dend, head, msg, free, I,
              in_ptr, in_len, in_src, in_v, in_stamp, out_ptr, out_len, out_dst, out_e, out_w,
              out_stamp)


@njit(cache=_CACHE)
def drop_input(k, frm, role, in_ptr, in_len, in_src, in_w, in_v, in_stamp,
               out_ptr, out_len, out_dst, out_e, out_w, out_stamp, V, b_arr, acts,
               dbuf, dpos, dend, head, msg, free,
               h_t, h_s, h_k, sbuf, xy, a_node, a_time, a_val, c_node, c_time, c_input,
               c_off, s_ids, s_w, watch, I, F):
    """Node.drop_input: remove ``frm -> k`` and unsubscribe from ``frm``."""
    i = _find(in_src, in_ptr[k], in_len[k], frm)
    if i < 0:
        return False
    _delete_slot(i, in_ptr[k] + in_len[k], in_src, in_w, in_v, in_stamp)
    in_len[k] -= 1
    I[I_SENT_U] += 1
    _post(k, frm, UNSUB, 0.0, 0.0, F[F_NOW], dbuf, dpos, dend, head, msg, free, I,
          in_ptr, in_len, in_src, in_v, in_stamp, out_ptr, out_len, out_dst, out_e, out_w,
          out_stamp)
    return True


@njit(cache=_CACHE)
def collect_all(role, in_ptr, in_len, in_src, in_w, in_v, in_stamp,
                out_ptr, out_len, out_dst, out_e, out_w, out_stamp, V, b_arr, acts,
                dbuf, dpos, dend, head, msg, free,
                h_t, h_s, h_k, sbuf, xy, a_node, a_time, a_val, c_node, c_time, c_input,
                c_off, s_ids, s_w, watch, I, F):
    """Transport.deliver_all."""
    for k in range(role.size):
        _collect(k, F[F_NOW], head, msg, free,
                 I, in_ptr, in_len, in_src, in_v, in_stamp, out_ptr, out_len, out_dst, out_e,
                 out_w, out_stamp)


@njit(cache=_CACHE)
def run(t_stop, s_stop, role, in_ptr, in_len, in_src, in_w, in_v, in_stamp,
        out_ptr, out_len, out_dst, out_e, out_w, out_stamp, V, b_arr, acts,
        dbuf, dpos, dend, head, msg, free,
        h_t, h_s, h_k, sbuf, xy, a_node, a_time, a_val, c_node, c_time, c_input, c_off,
        s_ids, s_w, watch, I, F):
    """Process wakes in ``(time, sequence)`` order up to ``(t_stop, s_stop)``.

    Returns a status; ``I[I_NODE]`` names the node it concerns. A node whose activation
    ended (CHECK) or found no wake interval (NEED_SCHED) is left in ``I[I_PENDING]`` and
    its next wake is drawn on re-entry. Other stops leave the state as before the wake.
    """
    if I[I_PENDING] >= 0:
        if not schedule_wake(I[I_PENDING], sbuf, h_t, h_s, h_k, I, F):
            I[I_NODE] = I[I_PENDING]
            return NEED_SCHED
        I[I_PENDING] = -1
    learn = I[I_LEARN] != 0
    checking = learn and I[I_PRUNE] != 0
    full = I[I_FULL] != 0
    local = I[I_LOCAL] != 0
    while I[I_HEAP] > 0:
        t = h_t[0]
        s = h_s[0]
        if t > t_stop or (t == t_stop and s > s_stop):
            return DONE
        k = h_k[0]
        a0 = in_ptr[k]
        na = in_len[k]
        b0 = out_ptr[k]
        nb = out_len[k]
        need = na + nb + 1
        I[I_NODE] = k
        if dpos[k] + need > dend[k]:
            return NEED_DRAWS
        if I[I_NFREE] < need:
            return NEED_POOL
        if full and (I[I_NAGE] >= a_node.size or I[I_NCK] >= c_node.size
                     or I[I_NSNAP] + na + nb >= s_ids.size):
            return NEED_BUF
        _heap_pop(h_t, h_s, h_k, I)
        now = t
        F[F_NOW] = now
        _collect(k, now, head, msg, free, I,
                 in_ptr, in_len, in_src, in_v, in_stamp, out_ptr, out_len, out_dst, out_e,
                 out_w, out_stamp)
        na = in_len[k]
        nb = out_len[k]
        acts[k] += 1
        if full and watch[k] != 0:  # Node._report_age: mean age of the news in the registers
            acc = 0.0
            cnt = 0
            for i in range(a0, a0 + na):
                if in_stamp[i] != -np.inf:
                    acc += now - in_stamp[i]
                    cnt += 1
            if cnt:
                j = I[I_NAGE]
                a_node[j] = k
                a_time[j] = now
                a_val[j] = acc / cnt
                I[I_NAGE] = j + 1
        s_in = _input_sum(k, in_ptr, in_len, in_src, in_v, in_w, out_ptr, out_len, out_dst,
                          xy)
        if I[I_BIAS] != 0:
            s_in += b_arr[k]
        # exp overflows to inf and v to 0.0, as Node.activate's OverflowError branch
        v = 1.0 / (1.0 + math.exp(-s_in))
        V[k] = v
        I[I_SENT_V] += nb
        for q in range(b0, b0 + nb):
            _post(k, out_dst[q], VALUE, v, 0.0, now, dbuf, dpos, dend, head, msg, free, I, in_ptr,
                  in_len, in_src, in_v, in_stamp, out_ptr, out_len, out_dst, out_e, out_w,
                  out_stamp)
        if role[k] == OUTPUT:
            E = F[F_EF] * (v - F[F_Y])
        else:
            acc = 0.0
            for q in range(b0, b0 + out_len[k]):
                acc += out_e[q] * out_w[q]
            E = acc * (v * (1.0 - v))
        if learn:
            c = F[F_CLIP]
            for i in range(a0, a0 + na):
                w = in_w[i] - E * in_v[i]
                in_w[i] = c if w > c else (-c if w < -c else w)
            if I[I_BIAS] != 0:
                b_arr[k] -= E
        I[I_SENT_E] += na
        for i in range(a0, a0 + na):
            _post(k, in_src[i], ERROR, E, in_w[i], now, dbuf, dpos, dend, head, msg, free, I,
                  in_ptr, in_len, in_src, in_v, in_stamp, out_ptr, out_len, out_dst, out_e, out_w,
                  out_stamp)
        if checking:
            eligible = False
            if local and role[k] != OUTPUT and in_len[k] > I[I_MINDEG]:
                # SpectralLocal.check: the weaker half of a 2-cycle j <-> k
                nb = out_len[k]
                for i in range(a0, a0 + in_len[k]):
                    j = _find(out_dst, b0, nb, in_src[i])
                    if j >= 0 and abs(in_w[i]) < abs(out_w[j]):
                        eligible = True
                        break
            if eligible:
                I[I_PENDING] = k
                return CHECK
            I[I_CHECKS] += 1
            if full and watch[k] != 0:  # keep what the eigenvalues need (host computes them)
                j = I[I_NCK]
                c_node[j] = k
                c_time[j] = now
                c_input[j] = I[I_INPUT]
                z = I[I_NSNAP]
                c_off[j] = z
                for i in range(a0, a0 + in_len[k]):
                    s_ids[z] = in_src[i]
                    s_w[z] = in_w[i]
                    z += 1
                for q in range(b0, b0 + out_len[k]):
                    s_ids[z] = -1 - out_dst[q]  # out-neighbours stored as -1 - id
                    s_w[z] = out_w[q]
                    z += 1
                I[I_NSNAP] = z
                c_off[j + 1] = z
                I[I_NCK] = j + 1
        if not schedule_wake(k, sbuf, h_t, h_s, h_k, I, F):
            I[I_PENDING] = k
            return NEED_SCHED
    return DONE
