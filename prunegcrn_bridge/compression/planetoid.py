"""Read the Planetoid files of Cora (``ind.cora.*``) without running code from them.

The Planetoid files are Python pickles, and unpickling a file can call any function the file
names: a data folder from someone else could run arbitrary code through a reader that calls
``pickle.load`` (as PyG's Planetoid reader does). Here a restricted unpickler admits exactly
what these files hold and nothing else:

* NumPy arrays (``numpy.ndarray``, ``numpy.dtype``, ``numpy.core.multiarray._reconstruct``);
* SciPy CSR matrices, read as inert records of their arrays (``data``, ``indices``,
  ``indptr``, ``_shape``): no SciPy object is built from the file's state; the matrix is
  assembled here from checked arrays;
* the adjacency dict (``collections.defaultdict`` of ``list``).

Any other global in a file is refused with a :class:`~prunegcrn_bridge.errors.DataError`
before it is looked up, so a hostile file is an error, never a program.

The graph is then assembled as PyG's reader does for Cora: features ``[allx; tx]`` and
labels ``argmax [ally; ty]`` with the test rows put back in their index order, training
nodes ``0 .. len(y) - 1``, the next 500 for validation, ``test.index`` for testing, and the
undirected edges of ``graph`` without self-loops, coalesced.
"""

from __future__ import annotations

import collections
import io
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
from numpy._core.multiarray import _reconstruct

from ..errors import DataError

__all__ = ["SafeUnpickler", "safe_load", "read_planetoid"]


class _SparseRecord:
    """What a pickled ``scipy.sparse.csr_matrix`` becomes: its state, as plain data."""

    def __init__(self, *args: Any) -> None:
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        if not isinstance(state, dict):
            raise DataError("a sparse matrix in the file has no readable state")
        self.state = state

    def toarray(self, what: str) -> np.ndarray:
        import scipy.sparse as sp

        s = self.state
        try:
            data, indices, indptr = (np.asarray(s[k]) for k in ("data", "indices", "indptr"))
            shape = tuple(int(v) for v in s.get("_shape", s.get("shape")))
        except (KeyError, TypeError, ValueError):
            raise DataError(f"{what}: the sparse matrix lacks data, indices, indptr or its "
                            "shape") from None
        if data.dtype == object or indices.dtype == object or indptr.dtype == object:
            raise DataError(f"{what}: the sparse matrix holds objects, not numbers")
        try:
            m = sp.csr_matrix((data, indices, indptr), shape=shape)
            m.check_format(full_check=True)
        except (ValueError, TypeError) as exc:
            raise DataError(f"{what}: not a valid sparse matrix ({exc})") from None
        return np.asarray(m.toarray())


_ALLOWED: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,  # Python 2 files name the old path
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("scipy.sparse.csr", "csr_matrix"): _SparseRecord,
    ("scipy.sparse._csr", "csr_matrix"): _SparseRecord,
    ("collections", "defaultdict"): collections.defaultdict,
    ("__builtin__", "list"): list,
    ("builtins", "list"): list,
}


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that admits only the globals of the Planetoid files (module docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise DataError(f"the file names {module}.{name}, which a Planetoid data file "
                            "never holds; refusing to read it (it may try to run code): use "
                            "the original ind.cora.* files") from None


def safe_load(path: str | os.PathLike[str]) -> Any:
    """Unpickle one Planetoid file with :class:`SafeUnpickler` (latin-1, as Python 2 wrote).

    Parameters
    ----------
    path : the file.

    Returns
    -------
    object
        An array, a :class:`_SparseRecord` or the adjacency dict.
    """
    data = Path(path).read_bytes()
    try:
        return SafeUnpickler(io.BytesIO(data), encoding="latin1").load()
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser error: a damaged file
        raise DataError(f"{path}: not a readable Planetoid pickle ({type(exc).__name__}: "
                        f"{exc})") from None


def _dense(obj: Any, what: str) -> np.ndarray:
    if isinstance(obj, _SparseRecord):
        return obj.toarray(what)
    if isinstance(obj, np.ndarray) and obj.dtype != object:
        return obj
    raise DataError(f"{what}: expected a matrix of numbers, found {type(obj).__name__}")


def read_planetoid(raw: str | os.PathLike[str], prefix: str = "cora") -> Any:
    """The Planetoid graph in ``raw`` as a PyG ``Data`` (features, labels, edges, masks).

    Parameters
    ----------
    raw : the folder holding ``ind.<prefix>.{x,tx,allx,y,ty,ally,graph,test.index}``.
    prefix : the data set's file prefix.

    Returns
    -------
    torch_geometric.data.Data
    """
    import torch
    from torch_geometric.data import Data
    from torch_geometric.utils import coalesce, remove_self_loops

    folder = Path(raw)

    def part(name: str) -> Any:
        return safe_load(folder / f"ind.{prefix}.{name}")

    x, tx, allx = (_dense(part(n), f"ind.{prefix}.{n}") for n in ("x", "tx", "allx"))
    y, ty, ally = (_dense(part(n), f"ind.{prefix}.{n}") for n in ("y", "ty", "ally"))
    graph = part("graph")
    if not isinstance(graph, dict):
        raise DataError(f"ind.{prefix}.graph: expected a dict of neighbour lists")
    try:
        test_index = np.loadtxt(folder / f"ind.{prefix}.test.index", dtype=np.int64, ndmin=1)
    except ValueError as exc:
        raise DataError(f"ind.{prefix}.test.index: not a list of whole numbers ({exc})") from None
    feats = np.concatenate([allx, tx]).astype(np.float32)
    labels = np.concatenate([ally, ty])
    if not (np.isfinite(feats).all() and np.isfinite(labels.astype(float)).all()):
        raise DataError(f"ind.{prefix}.*: features or labels hold NaN or infinite values; "
                        "use the original files")
    n = feats.shape[0]
    if labels.shape[0] != n or test_index.size == 0 or test_index.min() < 0 or \
            test_index.max() >= n:
        raise DataError(f"ind.{prefix}.*: {n} feature rows, {labels.shape[0]} label rows and "
                        "test indices that do not fit together")
    order = np.sort(test_index)
    feats[test_index] = feats[order]
    cls = labels.argmax(axis=1)
    cls[test_index] = cls[order]
    rows, cols = [], []
    for k, vs in graph.items():
        if not isinstance(vs, list) or isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise DataError(f"ind.{prefix}.graph: a neighbour list is not a list of nodes")
        rows += [int(k)] * len(vs)
        cols += [int(v) for v in vs]
    edge_index = torch.tensor([rows, cols], dtype=torch.long)
    if edge_index.numel() and (int(edge_index.min()) < 0 or int(edge_index.max()) >= n):
        raise DataError(f"ind.{prefix}.graph names nodes outside 0 .. {n - 1}")
    edge_index, _ = remove_self_loops(edge_index)
    edge_index = coalesce(edge_index, num_nodes=n, sort_by_row=False)

    def mask(idx: np.ndarray) -> Any:
        m = torch.zeros(n, dtype=torch.bool)
        m[torch.as_tensor(idx, dtype=torch.long)] = True
        return m

    data = Data(x=torch.from_numpy(feats), edge_index=edge_index,
                y=torch.from_numpy(cls.astype(np.int64)))
    data.train_mask = mask(np.arange(y.shape[0]))
    data.val_mask = mask(np.arange(y.shape[0], min(y.shape[0] + 500, n)))
    data.test_mask = mask(test_index)
    return data
