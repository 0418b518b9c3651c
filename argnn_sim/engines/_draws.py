"""Random draws inside the compiled kernel, identical to NumPy's ``Generator`` draws.

A lossy channel draws one uniform per value or error message (lost or not) and then, if the
message goes, one delay, from the same stream (:meth:`argnn_sim.channel.Channel.lost`); the
fault process draws up- and down-times from one stream shared by all nodes, in the order
events happen. Which draw comes next depends on what the run did, so these draws cannot be
made in blocks beforehand; the kernel makes them itself, from each stream's own state.

A stream here is one row of a ``(rows, 4)`` ``uint64`` array: NumPy's PCG64 state (the
128-bit LCG state and increment, high and low words). :func:`load` copies a ``Generator``'s
state into a row; the kernel then advances the row exactly as NumPy's C code advances the
generator (step, then the XSL-RR output), and turns raw words into doubles and
exponentials exactly as ``Generator.random``, ``Generator.exponential`` and
``Generator.uniform`` do: the 53-bit double, and the ziggurat with NumPy's own tables
(numba ships them, as numba's own ``Generator`` support uses them). The rare slow path
of the ziggurat calls ``exp`` and ``log1p`` from the C library, as NumPy's does. The
tests compare millions of draws, slow paths included, with NumPy's.

Imported only by :mod:`argnn_sim.engines._kernel` (numba is the ``fast`` extra).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit
from numba.np.random import _constants as _zig

__all__ = ["load", "load_children", "store", "ZIG_KE", "ZIG_WE", "ZIG_FE"]

_M64 = (1 << 64) - 1
# PCG64's multiplier (the 128-bit default of the PCG family), high and low words
_MUL_HI = np.uint64(2549297995355413924)
_MUL_LO = np.uint64(4865540595714422341)
_LO32 = np.uint64(0xFFFFFFFF)
_U0, _U1, _U3, _U8, _U11 = (np.uint64(x) for x in (0, 1, 3, 8, 11))
_U32, _U58, _U63, _U64, _UFF = (np.uint64(x) for x in (32, 58, 63, 64, 0xFF))
_TO_DOUBLE = 1.0 / 9007199254740992.0  # 2**-53

#: the exponential ziggurat's tables, as NumPy's C code has them
ZIG_KE = np.ascontiguousarray(_zig.ke_double, dtype=np.uint64)
ZIG_WE = np.ascontiguousarray(_zig.we_double, dtype=np.float64)
ZIG_FE = np.ascontiguousarray(_zig.fe_double, dtype=np.float64)
_ZIG_EXP_R = float(_zig.ziggurat_exp_r)

_inline: Any = njit(cache=True, _nrt=False, inline="always")  # type: ignore[call-overload]


def load(gen: np.random.Generator, rows: np.ndarray, j: int) -> None:
    """Copy ``gen``'s PCG64 state into ``rows[j]``.

    Parameters
    ----------
    gen
        A ``Generator`` on a ``PCG64`` bit generator.
    rows
        The ``(rows, 4)`` uint64 array of stream states.
    j
        The row.

    Examples
    --------
    >>> g = np.random.default_rng(1)
    >>> rows = np.zeros((1, 4), dtype=np.uint64)
    >>> load(g, rows, 0); h = np.random.default_rng(2); store(h, rows, 0)
    >>> h.random() == g.random()
    True
    """
    st = gen.bit_generator.state
    if st["bit_generator"] != "PCG64":
        raise ValueError(f"the compiled engine draws from PCG64 streams, not {st['bit_generator']}")
    s, inc = st["state"]["state"], st["state"]["inc"]
    rows[j] = (s >> 64, s & _M64, inc >> 64, inc & _M64)


def store(gen: np.random.Generator, rows: np.ndarray, j: int) -> None:
    """Put ``rows[j]`` back into ``gen`` (the inverse of :func:`load`).

    Parameters
    ----------
    gen
        A ``Generator`` on a ``PCG64`` bit generator.
    rows
        The stream states.
    j
        The row.
    """
    st = dict(gen.bit_generator.state)
    hi, lo, ihi, ilo = (int(x) for x in rows[j])
    st["state"] = {"state": (hi << 64) | lo, "inc": (ihi << 64) | ilo}
    gen.bit_generator.state = st


# NumPy's SeedSequence constants (numpy/random/bit_generator.pyx)
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _M32 = 0xCA01F9DD, 0x4973F715, 0xFFFFFFFF


def _hashmix(value: np.ndarray, hc: list[int]) -> np.ndarray:
    """SeedSequence's ``hashmix`` on a vector of words (one per child); ``hc`` is the
    running hash constant, the same for every child."""
    value = value ^ np.uint32(hc[0])
    hc[0] = (hc[0] * _MULT_A) & _M32
    value = value * np.uint32(hc[0])
    return value ^ (value >> np.uint32(16))


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r: np.ndarray = np.uint32(_MIX_L) * x - np.uint32(_MIX_R) * y
    return r ^ (r >> np.uint32(16))


def child_words(parent: np.random.SeedSequence, ks: np.ndarray) -> np.ndarray:
    """``SeedSequence(parent.entropy, spawn_key=parent.spawn_key + (k,)).generate_state(4,
    np.uint64)`` for every ``k`` of ``ks`` at once: NumPy's algorithm (its entropy pool,
    ``mix_entropy`` and ``generate_state``) on vectors of children, which differ only in
    the spawn key's last word. About 10 µs per child in NumPy, a few hundred ns here.

    Parameters
    ----------
    parent
        The parent sequence (its children ``spawn(...)`` gives in order are ``k = 0, 1, ...``).
    ks
        Child numbers, each below 2**32.

    Returns
    -------
    ndarray of uint64, shape ``(len(ks), 4)``
    """
    from numpy.random.bit_generator import (  # type: ignore[attr-defined]
        _coerce_to_uint32_array,
    )

    ks = np.asarray(ks, dtype=np.int64)
    if ks.size and (ks.min() < 0 or ks.max() >= 2**32):
        raise ValueError("child numbers must lie in [0, 2**32)")
    size = int(parent.pool_size)
    run = _coerce_to_uint32_array(parent.entropy)
    if run.size < size:  # a child's spawn key is never empty: the entropy is padded
        run = np.concatenate([run, np.zeros(size - run.size, dtype=np.uint32)])
    words = [np.full(ks.size, w, dtype=np.uint32)
             for w in np.concatenate([run, _coerce_to_uint32_array(parent.spawn_key)])]
    words.append(ks.astype(np.uint32))
    hc = [_INIT_A]
    zero = np.zeros(ks.size, dtype=np.uint32)
    pool = [_hashmix(words[i] if i < len(words) else zero, hc) for i in range(size)]
    for src in range(size):
        for dst in range(size):
            if src != dst:
                pool[dst] = _mix(pool[dst], _hashmix(pool[src], hc))
    for src in range(size, len(words)):
        for dst in range(size):
            pool[dst] = _mix(pool[dst], _hashmix(words[src], hc))
    h = _INIT_B
    out32 = []
    for i in range(8):
        v = pool[i % size] ^ np.uint32(h)
        h = (h * _MULT_B) & _M32
        v = v * np.uint32(h)
        out32.append(v ^ (v >> np.uint32(16)))
    return np.stack([out32[2 * j].astype(np.uint64) |
                     (out32[2 * j + 1].astype(np.uint64) << np.uint64(32)) for j in range(4)],
                    axis=1)


def load_children(parent: np.random.SeedSequence, ks: np.ndarray, rows: np.ndarray) -> None:
    """Rows ``ks`` of ``rows`` take the states of ``PCG64`` generators seeded by the children
    ``ks`` of ``parent`` (what :func:`load` of ``default_rng(child)`` gives, for many
    children at once). Two of them are checked against NumPy's own seeding.

    Parameters
    ----------
    parent
        The parent ``SeedSequence``.
    ks
        Child numbers; child ``k``'s state goes to row ``k``.
    rows
        The ``(rows, 4)`` uint64 array of stream states.
    """
    ks = np.asarray(ks, dtype=np.int64)
    if not ks.size:
        return
    _seed_rows(child_words(parent, ks), ks, rows)
    probe = np.zeros((1, 4), dtype=np.uint64)
    for k in {int(ks[0]), int(ks[-1])}:
        load(_child_generator(parent, k), probe, 0)
        if not np.array_equal(probe[0], rows[k]):  # pragma: no cover - another NumPy
            for j in ks.tolist():
                load(_child_generator(parent, j), rows, j)
            return


def _child_generator(parent: np.random.SeedSequence, k: int) -> np.random.Generator:
    """NumPy's own generator of child ``k`` of ``parent`` (what ``parent.spawn`` makes as
    its ``k``-th child), made without spawning."""
    child = np.random.SeedSequence(parent.entropy, spawn_key=(*parent.spawn_key, k),
                                   pool_size=parent.pool_size)
    return np.random.Generator(np.random.PCG64(child))


@njit(cache=True)
def _seed_rows(words, ks, rows):
    """PCG64's seeding (``pcg64_set_seed``): state 0, increment ``2 initseq + 1``, a step,
    the initial state added, a step."""
    for i in range(ks.size):
        s_hi, s_lo = words[i, 0], words[i, 1]
        q_hi, q_lo = words[i, 2], words[i, 3]
        i_hi = (q_hi << _U1) | (q_lo >> _U63)
        i_lo = (q_lo << _U1) | _U1
        # step from 0: the state becomes the increment; then add the initial state
        a_lo = i_lo + s_lo
        a_hi = i_hi + s_hi + (_U1 if a_lo < i_lo else _U0)
        lo = a_lo * _MUL_LO
        hi = _mulhi(a_lo, _MUL_LO) + a_lo * _MUL_HI + a_hi * _MUL_LO
        n_lo = lo + i_lo
        n_hi = hi + i_hi + (_U1 if n_lo < lo else _U0)
        k = ks[i]
        rows[k, 0] = n_hi
        rows[k, 1] = n_lo
        rows[k, 2] = i_hi
        rows[k, 3] = i_lo


@_inline
def _mulhi(a, b):
    """The high word of the 128-bit product of two words."""
    a_lo = a & _LO32
    a_hi = a >> _U32
    b_lo = b & _LO32
    b_hi = b >> _U32
    p0 = a_lo * b_lo
    p1 = a_lo * b_hi
    p2 = a_hi * b_lo
    mid = (p0 >> _U32) + (p1 & _LO32) + (p2 & _LO32)
    return a_hi * b_hi + (p1 >> _U32) + (p2 >> _U32) + (mid >> _U32)


@_inline
def next_u64(R, j):
    """One raw word of stream ``j``: the LCG step, then the XSL-RR output of the new state."""
    s_hi = R[j, 0]
    s_lo = R[j, 1]
    lo = s_lo * _MUL_LO
    hi = _mulhi(s_lo, _MUL_LO) + s_lo * _MUL_HI + s_hi * _MUL_LO
    n_lo = lo + R[j, 3]
    n_hi = hi + R[j, 2]
    if n_lo < lo:
        n_hi += _U1
    R[j, 0] = n_hi
    R[j, 1] = n_lo
    x = n_hi ^ n_lo
    rot = n_hi >> _U58
    return (x >> rot) | (x << ((_U64 - rot) & _U63))


@_inline
def next_double(R, j):
    """``Generator.random()``: the top 53 bits of a word, scaled to [0, 1)."""
    return np.float64(next_u64(R, j) >> _U11) * _TO_DOUBLE


@_inline
def standard_exponential(R, j, ke, we, fe):
    """``Generator.standard_exponential()`` (NumPy's ziggurat; ``exponential(scale)`` is
    ``scale`` times this)."""
    while True:
        ri = next_u64(R, j) >> _U3
        idx = np.int64(ri & _UFF)
        ri = ri >> _U8
        x = np.float64(ri) * we[idx]
        if ri < ke[idx]:
            return x
        if idx == 0:
            return _ZIG_EXP_R - math.log1p(-next_double(R, j))
        if (fe[idx - 1] - fe[idx]) * next_double(R, j) + fe[idx] < math.exp(-x):
            return x
