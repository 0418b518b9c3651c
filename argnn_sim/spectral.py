"""Stars, local Laplacians, eigenvalues and the local rule's choice: pure NumPy, no SimPy.

A node ``k`` sees only its *star*: its input edges ``i -> k`` (weights it owns) and its
output edges ``k -> j`` (weights its out-neighbours told it). The local Laplacian over the
star, with positions in ascending node order, is

    L = D - A ∘ W,   D = diag(rowsum(X) + colsum(X)),   X = A (mode "D") or A ∘ W (mode "DW")

where row ``i`` holds the out-edges of ``i``. Only row and column ``k`` of ``A ∘ W`` can be
nonzero, so ``L`` is an *arrowhead* matrix. When the star is the whole logic circuit (as in
the reference, where every node touches every other) the positions are the node numbers
and the arithmetic is the reference's, operation for operation.

>>> import numpy as np
>>> A, M = star_matrices(3, 1, in_pos=[0, 2], in_w=[0.5, -1.0], out_pos=[2], out_w=[2.0])
>>> laplacian(A, M, "D")
array([[ 1. , -0.5,  0. ],
       [ 0. ,  3. , -2. ],
       [ 0. ,  1. ,  2. ]])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .rule import pairwise_block

__all__ = [
    "Star",
    "make_star",
    "star_matrices",
    "laplacian",
    "star_laplacian",
    "laplacian_plan",
    "plan_laplacian",
    "numpy_sum",
    "eigenvalues",
    "local_choice",
    "MODES",
]

MODES = ("D", "DW")
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Star:
    """A node's neighbourhood as it knows it: member ids in ascending order (``ids``), the
    centre's place, the places of its in- and out-neighbours, and the
    :func:`laplacian_plan` of that shape."""

    ids: tuple[int, ...]
    center: int
    in_pos: tuple[int, ...]
    out_pos: tuple[int, ...]
    plan: tuple[Any, ...] = ()


def make_star(k: int, in_src: Sequence[int], out_dst: Sequence[int]) -> Star:
    """The star of node ``k`` with these in- and out-neighbours (places ascending).

    Parameters
    ----------
    k
        The centre.
    in_src
        Its in- and out-neighbours.
    out_dst
        Its in- and out-neighbours.

    Returns
    -------
    Star

    Examples
    --------
    >>> st = make_star(3, [1, 5], [5, 7])
    >>> st.ids, st.center, st.in_pos, st.out_pos
    ((1, 3, 5, 7), 1, (0, 2), (2, 3))
    """
    ids = tuple(sorted(set(in_src) | set(out_dst) | {k}))
    pos = {v: p for p, v in enumerate(ids)}
    in_pos = tuple(pos[v] for v in in_src)
    out_pos = tuple(pos[v] for v in out_dst)
    return Star(ids, pos[k], in_pos, out_pos, laplacian_plan(len(ids), pos[k], in_pos, out_pos))


def star_matrices(m: int, center: int, *, in_pos: Sequence[int], in_w: Sequence[float],
                  out_pos: Sequence[int], out_w: Sequence[float]) -> tuple[FloatArray, FloatArray]:
    """Local adjacency ``A`` (0/1) and weighted adjacency ``A ∘ W`` of a star, both ``(m, m)``.

    Parameters
    ----------
    m
        Number of nodes in the star (the centre included).
    center
        Position of the centre node.
    in_pos
        Positions of the in-neighbours and the weights of their edges into the centre.
    in_w
        Positions of the in-neighbours and the weights of their edges into the centre.
    out_pos
        Positions of the out-neighbours and the weights of the centre's edges to them.
    out_w
        Positions of the out-neighbours and the weights of the centre's edges to them.

    Returns
    -------
    (A, M) : float64 arrays, shape (m, m); row ``i`` holds the out-edges of ``i``.

    Examples
    --------
    >>> A, M = star_matrices(3, 1, in_pos=[0], in_w=[0.5], out_pos=[2], out_w=[2.0])
    >>> A.tolist(), float(M[0, 1]), float(M[1, 2])
    ([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]], 0.5, 2.0)
    """
    A = np.zeros((m, m))
    M = np.zeros((m, m))
    if len(in_pos):
        A[in_pos, center] = 1.0
        M[in_pos, center] = in_w
    if len(out_pos):
        A[center, out_pos] = 1.0
        M[center, out_pos] = out_w
    return A, M


def laplacian(A: FloatArray, M: FloatArray, mode: str) -> FloatArray:
    """``L = D - M`` with ``D`` from edge counts (``"D"``) or signed weights (``"DW"``).

    Degrees are row sums plus column sums (out- plus in-degree), summed with ``np.sum``
    over full rows and columns as the reference does, so round-off matches it.

    Parameters
    ----------
    A
        0/1 adjacency, (m, m).
    M
        ``A ∘ W``, (m, m).
    mode
        ``"D"`` or ``"DW"``.

    Returns
    -------
    float64 array, shape (m, m)

    Examples
    --------
    >>> A, M = star_matrices(2, 0, in_pos=[1], in_w=[3.0], out_pos=[], out_w=[])
    >>> laplacian(A, M, "DW").tolist()
    [[3.0, 0.0], [-3.0, 3.0]]
    """
    if mode == "D":
        d = np.sum(A, axis=1) + np.sum(A, axis=0)
    elif mode == "DW":
        d = np.sum(M, axis=1) + np.sum(M, axis=0)
    else:
        raise ValueError(f"unknown degree mode {mode!r}; choose 'D' or 'DW'")
    return np.diag(d) - M


def numpy_sum(values: Sequence[float]) -> float:
    """``np.sum`` of a contiguous float64 vector, in NumPy's own order, in plain Python.

    NumPy reduces a contiguous run pairwise: under 8 entries one running sum; up to 128,
    eight interleaved accumulators combined as ``((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7))``, then
    the tail (:func:`argnn_sim.rule.pairwise_block`, which the compiled kernel runs too);
    above that, halves (at a multiple of 8) summed recursively. Checked bit for bit against
    ``np.sum(M, axis=1)`` in the tests.

    Parameters
    ----------
    values : the vector (a list of floats).

    Returns
    -------
    float

    Examples
    --------
    >>> numpy_sum([0.1] * 10) == float(np.sum(np.full(10, 0.1)))
    True
    """
    n = len(values)
    if n <= 128:
        return pairwise_block(values, 0, n)
    half = n // 2
    half -= half % 8
    return numpy_sum(values[:half]) + numpy_sum(values[half:])


def star_laplacian(m: int, center: int, in_pos: Sequence[int], in_w: Sequence[float],
                   out_pos: Sequence[int], out_w: Sequence[float], mode: str) -> FloatArray:
    """The same matrix as ``laplacian(*star_matrices(...), mode)``, without the ``m × m``
    temporaries: only the arrowhead entries are computed, with the same rounding.

    Off the centre, row ``i`` of ``A ∘ W`` holds one entry (``W_ik``) and column ``i`` one
    (``W_ki``), so their sums are exact and the degree is one addition. The centre's
    column sum is NumPy's running sum over the in-weights in position order; its row sum is
    NumPy's pairwise sum over the full row, zeros included (:func:`numpy_sum`).

    Parameters
    ----------
    m
        As for :func:`star_matrices`.
    center
        As for :func:`star_matrices`.
    in_pos
        As for :func:`star_matrices`.
    in_w
        As for :func:`star_matrices`.
    out_pos
        As for :func:`star_matrices`.
    out_w
        As for :func:`star_matrices`.
    mode
        ``"D"`` or ``"DW"``.

    Returns
    -------
    float64 array, shape (m, m)

    Examples
    --------
    >>> A, M = star_matrices(4, 1, in_pos=[0, 3], in_w=[0.5, -2.0], out_pos=[2], out_w=[1.5])
    >>> bool((star_laplacian(4, 1, [0, 3], [0.5, -2.0], [2], [1.5], "DW")
    ...       == laplacian(A, M, "DW")).all())
    True
    """
    return plan_laplacian(laplacian_plan(m, center, in_pos, out_pos), in_w, out_w, mode)


def laplacian_plan(m: int, center: int, in_pos: Sequence[int], out_pos: Sequence[int]
                   ) -> tuple[Any, ...]:
    """What :func:`plan_laplacian` needs of a star's shape; compute once per star.

    Small stars keep an ``m * m`` list of the mode-``D`` matrix; from ``_BIG_STAR`` members
    on the plan holds only index arrays and the diagonal (a node keeps its plan for as long
    as its star stands, so this is most of a node's memory on large networks).

    Parameters
    ----------
    m
        The star's shape, as for :func:`star_matrices`.
    center
        The star's shape, as for :func:`star_matrices`.
    in_pos
        The star's shape, as for :func:`star_matrices`.
    out_pos
        The star's shape, as for :func:`star_matrices`.

    Returns
    -------
    tuple (opaque to callers)

    Examples
    --------
    >>> plan = laplacian_plan(3, 1, [0], [2])
    >>> plan_laplacian(plan, [0.5], [2.0], "D").tolist()
    [[1.0, -0.5, 0.0], [0.0, 2.0, -2.0], [0.0, 0.0, 1.0]]
    """
    base = center * m
    in_diag = [p * m + p for p in in_pos]
    out_diag = [p * m + p for p in out_pos]
    in_col = [p * m + center for p in in_pos]
    out_row = [base + p for p in out_pos]
    if m >= _BIG_STAR:
        deg = np.zeros(m)
        for p in in_pos:
            deg[p] += 1.0
        for p in out_pos:
            deg[p] += 1.0
        deg[center] = float(len(in_pos) + len(out_pos))
        ix = np.intp
        return ("np", m, base + center, deg, np.asarray(in_diag, dtype=ix),
                np.asarray(out_diag, dtype=ix), np.asarray(in_col, dtype=ix),
                np.asarray(out_row, dtype=ix), tuple(out_pos))
    deg_d = [0.0] * (m * m)  # mode D: the diagonal is edge counts, fixed for a star
    for p in in_pos:
        deg_d[p * m + p] += 1.0
    for p in out_pos:
        deg_d[p * m + p] += 1.0
    deg_d[base + center] = float(len(in_pos) + len(out_pos))
    return (m, base + center, deg_d, in_diag, out_diag, in_col, out_row, list(out_pos))


_BIG_STAR = 10  # from this many members on, plan_laplacian fills a NumPy array


def plan_laplacian(plan: tuple[Any, ...], in_w: Sequence[float], out_w: Sequence[float],
                   mode: str) -> FloatArray:
    """The star Laplacian from a :func:`laplacian_plan` and the current weights.

    Parameters
    ----------
    plan
        The star's plan.
    in_w
        The weights of its in- and out-edges, in the plan's order.
    out_w
        The weights of its in- and out-edges, in the plan's order.
    mode
        ``"D"`` or ``"DW"``.

    Returns
    -------
    float64 array, shape (m, m): equal to :func:`star_laplacian`, bit for bit.

    Examples
    --------
    >>> plan_laplacian(laplacian_plan(2, 0, [1], []), [3.0], [], "DW").tolist()
    [[3.0, 0.0], [-3.0, 3.0]]
    """
    if plan[0] == "np":
        return _plan_laplacian_np(plan, in_w, out_w, mode)
    m, cc, deg_d, in_diag, out_diag, in_col, out_row, out_pos = plan
    if mode == "D":
        L = list(deg_d)
    elif mode == "DW":
        L = [0.0] * (m * m)
        col = 0.0
        for i, w in zip(in_diag, in_w):
            L[i] = w
            col += w
        if m < 8:  # numpy_sum of the row is a running sum; its zeros change nothing (a
            # running sum from +0.0 never holds -0.0, so adding 0.0 leaves it as it is)
            rsum = 0.0
            for i, w in zip(out_diag, out_w):
                L[i] += w
                rsum += w
        else:
            row = [0.0] * m
            for i, p, w in zip(out_diag, out_pos, out_w):
                L[i] += w
                row[p] = w
            rsum = numpy_sum(row)
        L[cc] = rsum + col
    else:
        raise ValueError(f"unknown degree mode {mode!r}; choose 'D' or 'DW'")
    for i, w in zip(in_col, in_w):
        L[i] = -w
    for i, w in zip(out_row, out_w):
        L[i] = -w
    return np.fromiter(L, np.float64, m * m).reshape(m, m)


def _plan_laplacian_np(plan: tuple[Any, ...], in_w: Sequence[float], out_w: Sequence[float],
                       mode: str) -> FloatArray:
    """:func:`plan_laplacian` for large stars: the same values, filled by NumPy indexing."""
    _np, m, cc, deg, in_diag, out_diag, in_col, out_row, out_pos = plan
    iw = np.asarray(in_w, dtype=np.float64)
    ow = np.asarray(out_w, dtype=np.float64)
    if mode == "D":
        L = np.zeros(m * m)
        L[:: m + 1] = deg
    elif mode == "DW":
        L = np.zeros(m * m)
        L[in_diag] = iw
        L[out_diag] += ow  # positions are distinct; a 2-cycle member holds w_in + w_out
        col = 0.0
        for w in in_w:
            col += w
        row = [0.0] * m
        for p, w in zip(out_pos, out_w):
            row[p] = w
        L[cc] = numpy_sum(row) + col
    else:
        raise ValueError(f"unknown degree mode {mode!r}; choose 'D' or 'DW'")
    L[in_col] = -iw
    L[out_row] = -ow
    return L.reshape(m, m)


try:  # the gufuncs behind numpy.linalg.eigvals/eig: same LAPACK call, less Python around it
    from numpy.linalg import _umath_linalg as _ul

    def _eigvals(L: FloatArray) -> npt.NDArray[np.complex128]:
        return _ul.eigvals(L, signature="d->D")  # type: ignore[no-any-return]

    def _eig(L: FloatArray) -> tuple[npt.NDArray[np.complex128], npt.NDArray[np.complex128]]:
        return _ul.eig(L, signature="d->DD")  # type: ignore[no-any-return]
except (ImportError, AttributeError):  # pragma: no cover - another NumPy layout
    def _eigvals(L: FloatArray) -> npt.NDArray[np.complex128]:
        return np.linalg.eigvals(L).astype(np.complex128, copy=False)

    def _eig(L: FloatArray) -> tuple[npt.NDArray[np.complex128], npt.NDArray[np.complex128]]:
        lam, vecs = np.linalg.eig(L)
        return lam.astype(np.complex128, copy=False), vecs


def eigenvalues(L: FloatArray) -> npt.NDArray[np.complex128]:
    """Eigenvalues by LAPACK ``geev`` (as ``numpy.linalg.eigvals``), in LAPACK's order.

    Calls NumPy's own ``eigvals`` gufunc directly: the very same LAPACK routine, without
    ``numpy.linalg``'s checks and conversions (a third of the time on an 8 × 8 matrix).
    Works on one matrix or a stack. Input must be finite float64 (nodes reject NaN weights).

    Parameters
    ----------
    L : float64 array, shape (..., m, m).

    Returns
    -------
    complex128 array, shape (..., m)

    Examples
    --------
    >>> eigenvalues(np.array([[0.0, -1.0], [1.0, 0.0]])).tolist()
    [1j, -1j]
    """
    return _eigvals(L)


def local_choice(L: FloatArray, center: int, in_pos: Sequence[int], *, tol: float = 1e-9
                 ) -> tuple[int | None, npt.NDArray[np.complex128]]:
    """Our rule ``local``: which of the centre's own input edges to drop, if any.

    A genuine complex-conjugate pair (``Im λ_a > tol`` and a partner within ``tol`` of
    ``conj(λ_a)``) signals an oscillating coupling in the star. The in-neighbour with the
    largest share of the pair's eigenvector is the partner of that coupling; its edge into
    the centre is the one removed. Round-off pairs are ignored, and only the centre's own
    input edges are ever chosen (the paper's constraint).

    Parameters
    ----------
    L
        The star Laplacian, (m, m).
    center
        The centre's position.
    in_pos
        Positions of the in-neighbours whose edges may go (the eligible ones).
    tol
        Imaginary parts up to this are round-off.

    Returns
    -------
    position : int or None
        Position (in the star) of the in-neighbour whose edge to drop, or ``None``.
    eigenvalues : complex array, shape (m,)

    Examples
    --------
    >>> L = np.array([[1.0, -2.0, 0.0], [3.0, 1.0, 0.0], [0.0, -0.5, 0.5]])
    >>> local_choice(L, 1, [0])[0]
    0
    """
    lam, vecs = _eig(L)
    if not len(in_pos):
        return None, lam
    im = lam.imag
    a = int(np.argmax(im))
    if im[a] <= tol:
        return None, lam
    gap = np.abs(lam - np.conj(lam[a]))
    gap[a] = np.inf
    if gap.min() > tol * max(1.0, abs(lam[a])):
        return None, lam
    share = np.abs(np.asarray(vecs)[:, a])
    cand = np.asarray(in_pos)
    return int(cand[np.argmax(share[cand])]), lam
