"""Honest size and latency figures.

Sizes (:func:`size_report`): ``dense_bytes`` is every parameter at fp32; ``nonzero`` counts
non-zero parameters; ``sparse_bytes`` stores each weight matrix in the smaller of CSR
(fp32 values, int32 column indices, int32 row pointers) and bitmask (fp32 values of the
non-zeros plus one bit per entry), or dense when neither is smaller, and every other
parameter dense. So the sparse size includes what indexing costs: at 50 % sparsity CSR is
*larger* than dense, and only the bitmask saves anything.

Latency (:func:`latency`): the median of ``repeats`` timed forward passes after
``warmup`` untimed ones, each timed alone with ``time.perf_counter`` around the call and
nothing else (no sleeping, no data loading), under ``torch.inference_mode``.
:func:`sparse_copy` turns the weight matrices into ``torch.sparse_csr`` tensors for the
sparse timing; on a CPU, sparse kernels only pay off at high sparsity, and the table says so.
"""

from __future__ import annotations

import copy
import statistics
import time
import warnings
from collections.abc import Callable

import torch
from torch import Tensor, nn

from .pruning import detach_pruned, make_permanent

__all__ = ["size_report", "latency", "sparse_copy", "matrix_bytes"]


def matrix_bytes(w: Tensor) -> tuple[int, str]:
    """Smallest honest storage of one weight matrix: (bytes, format).

    >>> w = torch.zeros(100, 100); w[0, :50] = 1.0
    >>> matrix_bytes(w)   # 50 values + 50 column indices + 101 row pointers
    (804, 'csr')
    >>> matrix_bytes(torch.ones(10, 10))
    (400, 'dense')
    """
    numel = w.numel()
    nnz = int((w != 0).sum())
    rows = w.shape[0] if w.dim() > 1 else 1
    options = {
        "dense": 4 * numel,
        "csr": 4 * nnz + 4 * nnz + 4 * (rows + 1),
        "bitmask": 4 * nnz + (numel + 7) // 8,
    }
    fmt = min(options, key=lambda k: (options[k], k != "dense"))
    return options[fmt], fmt


def size_report(model: nn.Module) -> dict[str, float]:
    """``params``, ``nonzero``, ``dense_bytes``, ``sparse_bytes`` and the share of weight
    matrices that the sparse size stores as bitmask or CSR."""
    params = nonzero = dense = sparse = 0
    formats: dict[str, int] = {}
    seen: set[int] = set()
    for m in model.modules():
        for name, p in m.named_parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            # a pruned layer's effective weight is weight_orig * weight_mask
            t = (m.weight if name == "weight_orig" else p).detach()
            params += t.numel()
            nonzero += int((t != 0).sum())
            dense += 4 * t.numel()
            if name in ("weight", "weight_orig") and t.dim() == 2:
                b, fmt = matrix_bytes(t)
                formats[fmt] = formats.get(fmt, 0) + 1
                sparse += b
            else:
                sparse += 4 * t.numel()
    return {"params": params, "nonzero": nonzero, "dense_bytes": dense,
            "sparse_bytes": sparse, **{f"n_{k}": v for k, v in formats.items()}}


class _SparseLinear(nn.Module):
    def __init__(self, lin: nn.Linear) -> None:
        super().__init__()
        with warnings.catch_warnings():  # "sparse CSR support is in beta"
            warnings.simplefilter("ignore", UserWarning)
            self.weight = lin.weight.detach().to_sparse_csr()
        self.bias = None if lin.bias is None else lin.bias.detach()
        for k in ("node_level",):
            if hasattr(lin, k):
                setattr(self, k, getattr(lin, k))

    def forward(self, x: Tensor) -> Tensor:
        out = torch.sparse.mm(self.weight, x.t()).t()
        return out if self.bias is None else out + self.bias


def sparse_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose weight matrices are CSR tensors (for sparse inference)."""
    m = make_permanent(copy.deepcopy(detach_pruned(model)))
    for parent in list(m.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear):
                setattr(parent, name, _SparseLinear(child))
    return m.eval()


def latency(fn: Callable[[], object], *, repeats: int = 30, warmup: int = 5) -> float:
    """Median seconds of ``fn()`` over ``repeats`` timed calls after ``warmup`` calls."""
    times = []
    with torch.inference_mode():
        for _ in range(warmup):
            fn()
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)
