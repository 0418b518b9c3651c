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

__all__ = ["load", "store", "ZIG_KE", "ZIG_WE", "ZIG_FE"]

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
