"""Local Laplacians and eigenvalue pairing rules: pure NumPy, no SimPy.

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

import numpy as np
import numpy.typing as npt

__all__ = [
    "star_matrices",
    "laplacian",
    "eigenvalues",
    "reference_pair",
    "local_choice",
    "MODES",
]

MODES = ("D", "DW")
FloatArray = npt.NDArray[np.float64]


def star_matrices(m: int, center: int, *, in_pos: Sequence[int], in_w: Sequence[float],
                  out_pos: Sequence[int], out_w: Sequence[float]) -> tuple[FloatArray, FloatArray]:
    """Local adjacency ``A`` (0/1) and weighted adjacency ``A ∘ W`` of a star, both ``(m, m)``.

    Parameters
    ----------
    m : number of nodes in the star (the centre included).
    center : position of the centre node.
    in_pos, in_w : positions of the in-neighbours and the weights of their edges into the centre.
    out_pos, out_w : positions of the out-neighbours and the weights of the centre's edges to them.
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
    """
    if mode == "D":
        d = np.sum(A, axis=1) + np.sum(A, axis=0)
    elif mode == "DW":
        d = np.sum(M, axis=1) + np.sum(M, axis=0)
    else:
        raise ValueError(f"unknown degree mode {mode!r}; choose 'D' or 'DW'")
    return np.diag(d) - M


def eigenvalues(L: FloatArray) -> npt.NDArray[np.complex128]:
    """Eigenvalues by LAPACK ``geev`` (``numpy.linalg.eigvals``), in LAPACK's order."""
    return np.linalg.eigvals(L).astype(np.complex128, copy=False)


def reference_pair(lam: npt.NDArray[np.complex128]) -> tuple[int, int] | None:
    """The reference's pairing: positions ``(a, b)``; the edge ``b -> a`` is to be removed.

    ``a = argmax(Im λ)``, ``b = argmin(Im λ)``, accepted when ``Im λ_b == -Im λ_a``
    exactly. Round-off pairs (``|Im| ~ 1e-16``) count, as in the reference.

    >>> import numpy as np
    >>> reference_pair(np.array([1 + 2j, 1 - 2j, 3 + 0j]))
    (0, 1)
    >>> reference_pair(np.array([1.0 + 0j, 2.0 + 0j])) is None
    True
    """
    im = lam.imag
    if not im.any():
        return None
    a = int(np.argmax(im))
    b = int(np.argmin(im))
    if im[b] == -im[a]:
        return a, b
    return None


def local_choice(L: FloatArray, center: int, in_pos: Sequence[int], *, tol: float = 1e-9
                 ) -> tuple[int | None, npt.NDArray[np.complex128]]:
    """Our rule ``local``: which of the centre's own input edges to drop, if any.

    A genuine complex-conjugate pair (``Im λ_a > tol`` and a partner within ``tol`` of
    ``conj(λ_a)``) signals an oscillating coupling in the star. The in-neighbour with the
    largest share of the pair's eigenvector is the partner of that coupling; its edge into
    the centre is the one removed. Round-off pairs are ignored, and only the centre's own
    input edges are ever chosen (the paper's constraint).

    Returns
    -------
    position : int or None
        Position (in the star) of the in-neighbour whose edge to drop, or ``None``.
    eigenvalues : complex array, shape (m,)
    """
    lam, vecs = np.linalg.eig(L)
    lam = lam.astype(np.complex128, copy=False)
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
