"""Road graphs (no torch): reading an adjacency file, and the sensors within r road hops.

Below both the series task (:mod:`argnn_sim.series`) and the planted series
(:mod:`argnn_sim.planted`), which both need them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix, identity

from .errors import DataError

__all__ = ["neighbourhoods", "read_adjacency"]

FloatArray = npt.NDArray[np.float64]


def read_adjacency(path: str | os.PathLike[str], n: int) -> FloatArray:
    """A symmetric 0/1 road graph (N, N) without self-loops, from an N x N matrix (``.npy``,
    or comma-separated text without a header) or a ``from,to[,cost]`` CSV with a header and
    0-based sensor numbers.

    Raises
    ------
    DataError
        A missing or unreadable file, a shape that does not fit ``n``, a sensor outside it.
    """
    p = Path(path)
    what = (f"an {n} x {n} 0/1 matrix (.npy, or comma-separated text without a header) or a "
            "from,to[,cost] CSV with 0-based sensor numbers")
    if not p.is_file():
        raise DataError(f"adjacency file {p} not found; give {what}")
    try:
        if p.suffix == ".npy":
            a = np.asarray(np.load(p, allow_pickle=False), dtype=np.float64)
        else:
            head = p.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0].lower()
            if "from" in head and "to" in head:
                pairs = np.loadtxt(p, delimiter=",", skiprows=1, ndmin=2)
                a = np.zeros((n, n))
                if pairs.size:
                    ij = pairs[:, :2].astype(np.int64)
                    if ij.min() < 0 or ij.max() >= n:
                        raise DataError(f"{p}: an edge names a sensor outside 0..{n - 1}; "
                                        f"give {what}")
                    a[ij[:, 0], ij[:, 1]] = 1.0
            else:
                a = np.loadtxt(p, delimiter=",", ndmin=2)
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{p} cannot be read ({type(exc).__name__}); give {what}") from None
    if a.shape != (n, n):
        raise DataError(f"{p} has shape {a.shape} but the series has {n} sensors; give {what}")
    if not np.isfinite(a).all():
        raise DataError(f"{p} holds NaN or infinite entries; give {what}")
    a = ((a != 0) | (a.T != 0)).astype(np.float64)  # SZ-taxi's file is not exactly symmetric
    np.fill_diagonal(a, 0.0)
    return a


def neighbourhoods(adj: FloatArray, hops: int) -> npt.NDArray[np.bool_]:
    """``near[i, j]``: sensor ``j`` within ``hops`` road hops of ``i`` (``i`` itself included)."""
    n = adj.shape[0]
    a = csr_matrix(adj != 0, dtype=np.int64)
    near = identity(n, dtype=np.int64, format="csr")
    for _ in range(min(hops, n)):
        grown = ((near + near @ a) != 0).astype(np.int64)
        if grown.nnz == near.nnz:
            break
        near = grown
    return np.asarray(near.toarray() != 0)
