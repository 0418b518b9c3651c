"""The node rule, written once: the arithmetic of Eq. 1-3 and the tests of the pruning rules.

Every engine runs this code. The SimPy node (:mod:`argnn_sim.node`) calls it as Python;
the compiled kernel (:mod:`argnn_sim.engines._kernel`) compiles these very functions with
numba; the batched engine (:mod:`argnn_sim.engines.batch`) applies them to its stack of runs
(the sums below take a sequence whose items may be scalars or NumPy vectors, one entry
per run; the sigmoid runs elementwise). Nothing here draws random numbers or holds state.

Two arithmetics (``[node] arithmetic``, see :func:`resolve_arithmetic`)
-------------------------------------------------------------------------
``reference``
    The published program's own primitives, so that a run equals that program on the
    machine at hand, whatever its CPU: Eq. 1 is ``numpy.dot`` of the star's values with a
    strided column of weights (BLAS ``ddot``; which kernel, and whether it fuses multiply
    and add, depends on the CPU and on ``OPENBLAS_CORETYPE``), the sigmoid uses NumPy's
    ``exp`` ufunc (AVX-512 machines run a SIMD kernel that differs from the C library's
    ``exp`` in the last bit for about 5 % of arguments), Eq. 2 is ``numpy.dot`` of two
    contiguous vectors. See :func:`sigmoid_reference`, :func:`dot_reference` and
    :func:`column_buffer`. Engines that cannot call these primitives (numba cannot call
    NumPy's SIMD ``exp`` or BLAS) do not accept this arithmetic.
``portable``
    Ours, defined by IEEE-754 basic operations only (``+ - * /``, correctly rounded on
    every CPU, never fused) and two exact operations (``floor``, scaling by a power of two
    with ``ldexp``): Eq. 1 sums in the fixed order of :func:`blocked_sum`, Eq. 2 in
    ascending order (:func:`running_dot`), the sigmoid is :func:`sigmoid` with our own
    ``e ** x`` (within one unit in the last place of the true value). Python, numba and
    NumPy compute these operations identically, so every engine gives the same bits, on
    any machine.

Both arithmetics share Eq. 2's output error and grouping (:func:`output_error`,
:func:`hidden_error`), Eq. 3 (:func:`update_inputs`), the message rule
(:func:`accepts`), the local rule's eligibility (:func:`mark_eligible`) and the reference
pairing (:func:`reference_pair`). Degrees and eigenvalues are computed in
:mod:`argnn_sim.spectral` (NumPy's summation order, LAPACK ``geev``) for every engine.

>>> sigmoid(0.0), blocked_sum([1.0, 2.0, 3.0, 4.0, 5.0], 5)
(0.5, 15.0)
"""

from __future__ import annotations

import math
import operator
import types
from collections.abc import Callable, MutableSequence, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "ARITHMETICS",
    "resolve_arithmetic",
    "sigmoid",
    "sigmoid_reference",
    "sigmoid_reference_array",
    "sigmoid_array",
    "blocked_sum",
    "running_dot",
    "dot_reference",
    "column_buffer",
    "output_error",
    "hidden_error",
    "update_inputs",
    "updated_weights",
    "accepts",
    "may_prune_inputs",
    "mark_eligible",
    "reference_pair",
    "COMPILED",
    "jitted",
]

#: what the sums take: a list or array of floats, or a sequence of vectors (one per run)
Items = Sequence[Any] | npt.NDArray[Any]
#: the arithmetics a scenario may name (``auto`` resolves to one of them)
ARITHMETICS = ("reference", "portable")

# Cody-Waite reduction x = k ln 2 + r: LN2_HI has 32 significant bits, so k * LN2_HI is
# exact for |k| < 2**21 and x - k * LN2_HI is exact; LN2_LO is the rest of ln 2.
_INV_LN2 = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_floor = math.floor
_np_exp = np.exp
_ldexp = math.ldexp


def resolve_arithmetic(arithmetic: str, rng_mode: str) -> str:
    """The arithmetic a scenario's ``node.arithmetic`` names: ``auto`` follows ``rng.mode``.

    Parameters
    ----------
    arithmetic : ``"auto"``, ``"reference"`` or ``"portable"``.
    rng_mode : the scenario's ``rng.mode``; with ``auto``, ``"reference"`` (a run that
        reproduces the published program's draws) also takes its primitives.

    Returns
    -------
    str
        ``"reference"`` or ``"portable"``.

    Examples
    --------
    >>> resolve_arithmetic("auto", "reference"), resolve_arithmetic("auto", "default")
    ('reference', 'portable')
    """
    if arithmetic == "auto":
        return "reference" if rng_mode == "reference" else "portable"
    if arithmetic not in ARITHMETICS:
        raise ValueError(f"arithmetic {arithmetic!r}; choose 'auto', 'reference' or 'portable'")
    return arithmetic


# ----------------------------------------------------------------------------- portable
def sigmoid(s: float) -> float:
    """The portable sigmoid ``1 / (1 + e ** -s)``, from basic operations only: the same
    bits in Python, numba and NumPy.

    ``e ** x`` (``x = -s``): ``x = k ln 2 + r`` with ``k = floor(x / ln 2 + 1/2)`` (so
    ``|r| <= ln 2 / 2``; Cody-Waite: ``k ln 2`` in two parts, the first exact), ``e ** r`` by
    its Taylor polynomial of degree 13 in Horner form (the next term is below ``2 ** -57``),
    then ``ldexp`` by ``k`` (exact). That is within one unit in the last place of the true
    value. For ``x > 709`` the result is 0 (the true value is below ``1.2e-308``); for
    ``x < -40`` it is 1 (``1 + e ** -40`` rounds to 1 anyway).

    Parameters
    ----------
    s : the node's input sum (a finite float).

    Returns
    -------
    float in ``[0, 1]``

    Examples
    --------
    >>> sigmoid(0.0), sigmoid(-1000.0), sigmoid(1000.0)
    (0.5, 0.0, 1.0)
    >>> abs(sigmoid(1.0) - 1.0 / (1.0 + math.exp(-1.0))) <= math.ulp(0.75)
    True
    """
    x = -s
    if x > 709.0:
        return 0.0
    if x < -40.0:
        return 1.0
    k = _floor(x * _INV_LN2 + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    e = _ldexp(((((((((((((1.6059043836821613e-10 * r + 2.08767569878681e-09) * r
                          + 2.505210838544172e-08) * r + 2.7557319223985893e-07) * r
                        + 2.755731922398589e-06) * r + 2.48015873015873e-05) * r
                      + 0.0001984126984126984) * r + 0.001388888888888889) * r
                    + 0.008333333333333333) * r + 0.041666666666666664) * r
                  + 0.16666666666666666) * r + 0.5) * r + 1.0) * r + 1.0, k)
    return 1.0 / (1.0 + e)


_SIGMOID_UFUNC: Any = None


def sigmoid_array(s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """:func:`sigmoid` elementwise on an array, the same function applied to each entry.

    Compiled into a NumPy ufunc by numba when numba is installed (the ``fast`` extra), else
    applied by :func:`numpy.frompyfunc`; either way each entry is exactly ``sigmoid(s_i)``.

    Parameters
    ----------
    s : float64 array, any shape.

    Returns
    -------
    float64 array of the same shape.

    Examples
    --------
    >>> sigmoid_array(np.array([0.0, 2.0])).tolist() == [sigmoid(0.0), sigmoid(2.0)]
    True
    """
    global _SIGMOID_UFUNC
    if _SIGMOID_UFUNC is None:
        try:
            from numba import vectorize

            _SIGMOID_UFUNC = vectorize(["float64(float64)"], cache=True)(_with_compiled_callees(sigmoid))
        except ImportError:
            f = np.frompyfunc(sigmoid, 1, 1)
            _SIGMOID_UFUNC = lambda x: np.asarray(f(x), dtype=np.float64)  # noqa: E731
    return np.asarray(_SIGMOID_UFUNC(np.asarray(s, dtype=np.float64)), dtype=np.float64)


def blocked_sum(xy: Items, m: int) -> Any:
    """Eq. 1's sum in the portable arithmetic: ``xy[0] + ... + xy[m-1]`` in a fixed order.

    The order of OpenBLAS's generic strided ``ddot`` loop without fused multiply-add: two
    accumulators over blocks of four places (places 0 and 2 of a block into the first,
    1 and 3 into the second), the tail into the first, then their sum. ``xy`` holds the
    products ``V_i W_ik`` by star place (0 at places without an in-edge); its items may be
    floats or NumPy vectors of equal length (one entry per run: the batched engine).

    Parameters
    ----------
    xy : the products by place (a list, an array, or a sequence of vectors).
    m : how many places (``len(xy)`` for a list).

    Returns
    -------
    float, or a vector when the items are vectors.

    Examples
    --------
    >>> blocked_sum([1e16, 1.0, -1e16, 1.0, 1.0], 5), running_dot([1e16, 1.0, -1e16, 1.0, 1.0], [1.0] * 5, 5)
    (3.0, 2.0)
    """
    t1 = 0.0
    t2 = 0.0
    n1 = m & -4
    for i in range(0, n1, 4):
        t1 = t1 + (xy[i] + xy[i + 2])
        t2 = t2 + (xy[i + 1] + xy[i + 3])
    for i in range(n1, m):
        t1 = t1 + xy[i]
    return t1 + t2


def running_dot(x: Items, y: Items, m: int) -> Any:
    """Eq. 2's sum in the portable arithmetic: ``x[0] y[0] + ... + x[m-1] y[m-1]``, each
    product rounded, added in order to a running sum from 0.

    For Eq. 2, ``x`` holds the errors ``E_j`` and ``y`` the weights ``W_kj`` of the
    out-edges in ascending order of ``j`` (places without an out-edge may be left out:
    adding an exact zero changes nothing). Items may be floats or vectors, as for
    :func:`blocked_sum`.

    Parameters
    ----------
    x
        The factors.
    y
        The factors.
    m
        How many.

    Returns
    -------
    float, or a vector when the items are vectors.

    Examples
    --------
    >>> running_dot([1e16, 1.0, -1e16, 1.0], [1.0] * 4, 4)
    1.0
    """
    acc = 0.0
    for i in range(m):
        acc = acc + x[i] * y[i]
    return acc


# ----------------------------------------------------------------------------- reference
def sigmoid_reference(s: float) -> float:
    """The reference sigmoid ``1 / (1 + numpy.exp(-s))`` of one float: NumPy's ``exp`` ufunc.

    NumPy's ``exp`` gives the same value for a scalar, a 0-d array or an array entry (one
    inner loop per CPU); the SIMD kernel it picks depends on the CPU, and so does the last
    bit of the result. Overflow (``-s > 709.78``) gives 0, as in the reference.

    Parameters
    ----------
    s : the node's input sum.

    Returns
    -------
    float

    Examples
    --------
    >>> sigmoid_reference(0.0), sigmoid_reference(-1000.0)
    (0.5, 0.0)
    """
    if s < -709.0:  # exp may overflow: no warning, the reference's 1 / (1 + inf) = 0
        with np.errstate(over="ignore"):
            return float(sigmoid_reference_array(s))  # type: ignore[arg-type]
    # NumPy's exp, then the same two IEEE operations on Python floats (faster than on
    # NumPy scalars, and the same bits)
    return 1.0 / (1.0 + float(_np_exp(-s)))


def sigmoid_reference_array(s: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """:func:`sigmoid_reference` elementwise: the same ufunc call on a whole array.

    Overflow warnings are the caller's to silence (``numpy.errstate(over="ignore")``):
    the batched engine does so once per pass, not per call.

    Parameters
    ----------
    s : float64 array, any shape.

    Returns
    -------
    float64 array of the same shape

    Examples
    --------
    >>> sigmoid_reference_array(np.array([0.0, 2.0])).tolist() == [sigmoid_reference(0.0),
    ...                                                             sigmoid_reference(2.0)]
    True
    """
    return 1.0 / (1.0 + np.exp(-s))  # type: ignore[no-any-return]


def dot_reference(x: npt.NDArray[np.float64], w: npt.NDArray[np.float64]) -> float:
    """``numpy.dot(x, w)``: BLAS ``ddot``, the reference's Eq. 1 and Eq. 2 sums (called as
    ``x.dot(w)``, the same C routine without ``numpy.dot``'s dispatch layer; tested equal).

    The reference takes Eq. 1 with ``w`` a column of its ``n x n`` weight matrix (a
    strided operand: BLAS then runs its strided loop, whatever it is on this CPU) and
    Eq. 2 with two contiguous rows (its contiguous kernel). Callers pass operands laid out
    the same way: for Eq. 1 a column of :func:`column_buffer`.

    Parameters
    ----------
    x
        Float64 vectors of one length (the star's places).
    w
        Float64 vectors of one length (the star's places).

    Returns
    -------
    float

    Examples
    --------
    >>> x, W = np.array([1.0, 2.0, 3.0]), column_buffer(3)
    >>> W[:, 0] = [4.0, 5.0, 6.0]
    >>> dot_reference(x, W[:, 0])
    32.0
    """
    return float(x.dot(w))  # ndarray.dot: numpy.dot's own C routine, without its dispatch


def column_buffer(m: int) -> npt.NDArray[np.float64]:
    """An ``(m, m)`` zero matrix whose column 0 holds Eq. 1's weights of a star of ``m``
    places: a strided operand like the reference's ``W[:, k]`` (stride ``m``, as the
    reference's for the logic circuit, where the star is the whole network).

    Parameters
    ----------
    m : the star's number of places.

    Returns
    -------
    float64 array, shape (m, m)

    Examples
    --------
    >>> column_buffer(4)[:, 0].strides
    (32,)
    """
    return np.zeros((m, m))


# ----------------------------------------------------------------------------- shared
def output_error(factor: Any, v: Any, y: Any) -> Any:
    """Eq. 2 at the output node: ``factor (V - y)`` (the learning rate folded in, no
    sigmoid derivative, as in the reference).

    Parameters
    ----------
    factor
        ``node.error_factor``.
    v
        The output's value.
    y
        The target. (Floats, or arrays of one entry per run.)

    Returns
    -------
    float or array

    Examples
    --------
    >>> output_error(0.5, 1.0, 0.0)
    0.5
    """
    return factor * (v - y)


def hidden_error(acc: Any, v: Any) -> Any:
    """Eq. 2 at a hidden node: ``acc (V (1 - V))`` with ``acc = sum_j E_j W_kj``, grouped
    as the reference groups it.

    Parameters
    ----------
    acc
        Eq. 2's sum.
    v
        The node's value. (Floats, or arrays of one entry per run.)

    Returns
    -------
    float or array

    Examples
    --------
    >>> hidden_error(2.0, 0.5)
    0.5
    """
    return acc * (v * (1.0 - v))


def update_inputs(w: MutableSequence[float], v: Sequence[float], n: int, e: float, c: float
                  ) -> None:
    """Eq. 3 for a node's first ``n`` input weights ``w``, in place, with the values ``v``
    of their sources: ``w_i <- clip(w_i - e v_i, -c, c)`` (``e v_i`` rounded first, as the
    reference's ``W[:, k] - E[k] * V * A[:, k]``).

    Parameters
    ----------
    w
        The weights (a list or an array), updated in place.
    v
        The sources' values.
    n
        How many.
    e
        The node's error.
    c
        ``node.clip``.

    Returns
    -------
    None

    Examples
    --------
    >>> w = [1.0, 9.5]
    >>> update_inputs(w, [1.0, 1.0], 2, -1.0, 10.0); w
    [2.0, 10.0]
    """
    for i in range(n):
        x = w[i] - e * v[i]
        w[i] = c if x > c else (-c if x < -c else x)


def updated_weights(w: npt.NDArray[np.float64], e: npt.NDArray[np.float64],
                    v: npt.NDArray[np.float64], c: npt.NDArray[np.float64]
                    ) -> npt.NDArray[np.float64]:
    """Eq. 3 on arrays (the batched engine: one row per run): :func:`update_inputs`'s
    formula, ``clip(w - e v, -c, c)``; clipping is a selection, exact in either form.

    Parameters
    ----------
    w
        Weights (B, n).
    e
        Errors (B, 1).
    v
        Values, masked by the edges (B, n).
    c
        Clips (B, 1).

    Returns
    -------
    float64 array (B, n)

    Examples
    --------
    >>> updated_weights(np.array([1.0, 9.5]), np.array([-1.0]), np.array([1.0, 1.0]),
    ...                 np.array([10.0])).tolist()
    [2.0, 10.0]
    """
    return np.minimum(np.maximum(w - e * v, -c), c)


#: The message rule: whether a message sent at ``stamp`` replaces a register written by
#: news from ``held`` (``stamp >= held``: late news never overwrites newer news).
#: ``operator.ge`` itself, so that the SimPy node's handlers (six calls an activation) pay
#: no Python call for it and numba compiles it as the comparison.
accepts = operator.ge


def may_prune_inputs(is_output: bool, n_in: int, min_in_degree: int) -> bool:
    """The local rule's gate: the output keeps its read-out edges, and no node goes to or
    below ``min_in_degree`` input edges.

    Parameters
    ----------
    is_output
        Whether the node is the output.
    n_in
        Its input edges.
    min_in_degree
        ``pruning.min_in_degree``.

    Returns
    -------
    bool

    Examples
    --------
    >>> may_prune_inputs(False, 3, 1), may_prune_inputs(True, 3, 1), may_prune_inputs(False, 1, 1)
    (True, False, False)
    """
    return (not is_output) and n_in > min_in_degree


def mark_eligible(in_src: Sequence[int], in_w: Sequence[float], n_in: int,
                  out_dst: Sequence[int], out_w: Sequence[float], n_out: int,
                  flags: MutableSequence[int]) -> int:
    """The local rule's eligible edges: input edge ``j -> k`` is eligible when ``k -> j``
    exists too and ``|W_jk| < |W_kj|`` (the weaker half of a 2-cycle).

    Both neighbour lists ascend, so one merge pass finds the 2-cycles.

    Parameters
    ----------
    in_src
        The first ``n_in`` in-neighbours (ascending) and their edge weights.
    in_w
        The first ``n_in`` in-neighbours (ascending) and their edge weights.
    out_dst
        The first ``n_out`` out-neighbours (ascending) and the weights they reported for the
        edges from this node.
    out_w
        The first ``n_out`` out-neighbours (ascending) and the weights they reported for the
        edges from this node.
    flags
        Written: ``flags[i] = 1`` when input edge ``i`` is eligible, else 0.

    Returns
    -------
    int
        How many are eligible.

    Examples
    --------
    >>> f = [0, 0, 0]
    >>> mark_eligible([1, 2, 3], [0.1, 0.9, 0.2], 3, [2, 3], [0.5, 0.5], 2, f), f
    (1, [0, 0, 1])
    """
    i = 0
    j = 0
    count = 0
    while i < n_in:
        a = in_src[i]
        while j < n_out and out_dst[j] < a:
            j += 1
        if j < n_out and out_dst[j] == a and abs(in_w[i]) < abs(out_w[j]):
            flags[i] = 1
            count += 1
        else:
            flags[i] = 0
        i += 1
    return count


def reference_pair(im: Sequence[float]) -> tuple[int, int] | None:
    """The reference's pairing of eigenvalues: places ``(a, b)``; edge ``b -> a`` goes.

    ``a = argmax Im``, ``b = argmin Im`` (first occurrences), accepted when
    ``Im b == -Im a`` exactly; nothing when every imaginary part is 0. Round-off pairs
    (``|Im| ~ 1e-16``) count, as in the reference.

    Parameters
    ----------
    im : the imaginary parts of the eigenvalues, in LAPACK's order.

    Returns
    -------
    (a, b) or None

    Examples
    --------
    >>> reference_pair([2.0, -2.0, 0.0]), reference_pair([0.0, 0.0])
    ((0, 1), None)
    """
    hi = max(im)
    lo = min(im)
    if (hi == 0.0 and lo == 0.0) or lo != -hi:
        return None
    a = 0
    while im[a] != hi:
        a += 1
    b = 0
    while im[b] != lo:
        b += 1
    return a, b



def pairwise_block(v: Items, i0: int, n: int) -> Any:
    """NumPy's sum of a contiguous float64 run ``v[i0:i0 + n]`` for ``n <= 128`` (one block
    of its pairwise reduction): under 8 entries one running sum; otherwise eight interleaved
    accumulators combined as ``((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))``, then the tail.
    Longer runs are split in halves first (:func:`argnn_sim.spectral.numpy_sum`).

    Parameters
    ----------
    v
        The values (a list or a float64 array).
    i0
        The first place.
    n
        How many.

    Returns
    -------
    float

    Examples
    --------
    >>> pairwise_block([0.1] * 10, 0, 10) == float(np.sum(np.full(10, 0.1)))
    True
    """
    if n < 8:
        r = 0.0
        for i in range(i0, i0 + n):
            r += v[i]
        return r
    r0, r1, r2, r3 = v[i0], v[i0 + 1], v[i0 + 2], v[i0 + 3]
    r4, r5, r6, r7 = v[i0 + 4], v[i0 + 5], v[i0 + 6], v[i0 + 7]
    i = i0 + 8
    end = i0 + n - n % 8
    while i < end:
        r0 += v[i]
        r1 += v[i + 1]
        r2 += v[i + 2]
        r3 += v[i + 3]
        r4 += v[i + 4]
        r5 += v[i + 5]
        r6 += v[i + 6]
        r7 += v[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < i0 + n:
        res += v[i]
        i += 1
    return res

#: the functions numba compiles (the kernel, :func:`sigmoid_array`): no NumPy calls here
COMPILED: tuple[Callable[..., Any], ...] = (
    sigmoid, blocked_sum, running_dot, output_error, hidden_error, update_inputs,
    may_prune_inputs, mark_eligible, pairwise_block)
_JITTED: dict[Callable[..., Any], Any] = {}


def _with_compiled_callees(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``'s own code object, with the rule functions it calls replaced by their numba
    compilations (numba compiles a call only to a compiled function)."""
    g = dict(fn.__globals__)
    for name in fn.__code__.co_names:
        dep = g.get(name)
        if dep is not None and dep is not fn and any(dep is c for c in COMPILED):
            g[name] = jitted(dep)
    return types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)


def jitted(fn: Callable[..., Any]) -> Any:
    """numba's compilation of the rule function ``fn``: the very same code, compiled.

    This is how the compiled kernel gets the rule: ``jitted(rule.sigmoid)`` and the others
    in :data:`COMPILED`, never a look-alike. numba is imported here, on first use only.

    Parameters
    ----------
    fn : one of :data:`COMPILED`.

    Returns
    -------
    a numba dispatcher (inlined where it is called from compiled code)

    Examples
    --------
    >>> jitted(sigmoid)(0.0)
    0.5
    """
    if not any(fn is c for c in COMPILED):
        raise ValueError(f"{getattr(fn, '__name__', fn)!r} is not a compiled rule function")
    got = _JITTED.get(fn)
    if got is None:
        from numba import njit

        got = _JITTED[fn] = njit(cache=True, inline="always")(_with_compiled_callees(fn))
    return got
