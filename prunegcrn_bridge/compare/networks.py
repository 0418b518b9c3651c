"""The bridge in both directions: a simulated network as a torch module (:func:`export`,
:class:`ArgnnModule`, replaying the simulator's evaluation bit for bit) and back
(:func:`import_edges`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from argnn_sim import rule as arith


# ----------------------------------------------------------------------------- networks
@dataclass
class DenseNet:
    """A network in the simulator's numbering: ``A[i, j] = 1`` for an edge ``i -> j`` with
    weight ``W[i, j]`` (inputs first, the output last)."""

    n: int
    n_in: int
    A: np.ndarray
    W: np.ndarray

    @classmethod
    def from_edges(cls, n: int, n_in: int, edges: Mapping[str, Any]) -> DenseNet:
        A = np.zeros((n, n))
        W = np.zeros((n, n))
        src = np.asarray(edges["src"], dtype=np.int64)
        dst = np.asarray(edges["dst"], dtype=np.int64)
        A[src, dst] = 1.0
        W[src, dst] = np.asarray(edges["weight"], dtype=np.float64)
        return cls(n, n_in, A, W)

    def edges(self) -> dict[str, np.ndarray]:
        """Edges sorted by ``(dst, src)``, as ``RunResult.final_edges``."""
        dst, src = np.nonzero(self.A.T)
        return {"src": src.astype(np.int64), "dst": dst.astype(np.int64),
                "weight": self.W[src, dst].astype(np.float64)}

    @property
    def n_edges(self) -> int:
        return int(self.A.sum())

    def without(self, edges: Sequence[tuple[int, int]]) -> DenseNet:
        A, W = self.A.copy(), self.W.copy()
        for i, j in edges:
            if A[i, j] != 1.0:
                raise ValueError(f"edge {i} -> {j} is not in the network")
            A[i, j] = 0.0
            W[i, j] = 0.0
        return DenseNet(self.n, self.n_in, A, W)


class ArgnnModule(nn.Module):
    """An ARGNN as a torch module with exactly its edges (see the module docstring).

    ``layers[str(k)]`` is node ``k``'s ``nn.Linear(in_degree, 1, bias=False)``; its weight
    row holds the weights of the edges from ``sources[k]`` (ascending). Torch's pruning
    reparametrization (``weight_mask``) marks removed edges; :func:`import_edges` drops them.
    """

    def __init__(self, net: DenseNet) -> None:
        super().__init__()
        self.n, self.n_in = net.n, net.n_in
        self.layers = nn.ModuleDict()
        self.sources: dict[int, list[int]] = {}
        for k in range(net.n_in, net.n):
            src = np.flatnonzero(net.A[:, k]).tolist()
            if not src:
                continue
            lin = nn.Linear(len(src), 1, bias=False).double()
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(net.W[src, k]).view(1, -1))
            self.layers[str(k)] = lin
            self.sources[k] = src

    # -- structure
    def edge_list(self) -> list[tuple[int, int]]:
        """Edges in ``(dst, src)`` order; the order of edge masks."""
        return [(i, k) for k in sorted(self.sources) for i in self.sources[k]]

    def weight_matrix(self, edge_gate: Tensor | None = None) -> Tensor:
        """``W`` (n, n) with removed edges at zero, times an optional gate per edge."""
        parts = []
        for k in sorted(self.sources):
            w = self.layers[str(k)].weight.view(-1)
            parts.append(w)
        flat = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.float64)
        if edge_gate is not None:
            flat = flat * edge_gate
        edges = self.edge_list()
        src = torch.tensor([i for i, _ in edges], dtype=torch.long)
        dst = torch.tensor([k for _, k in edges], dtype=torch.long)
        W = torch.zeros(self.n, self.n, dtype=torch.float64)
        return W.index_put((src, dst), flat)

    def adjacency(self) -> Tensor:
        """``A`` (n, n): 1 on the edges torch has not pruned."""
        A = torch.zeros(self.n, self.n, dtype=torch.float64)
        for k, src in self.sources.items():
            lin = self.layers[str(k)]
            keep = (getattr(lin, "weight_mask", torch.ones(1, len(src), dtype=torch.float64))
                    .view(-1))
            A[torch.tensor(src), k] = keep.to(torch.float64)
        return A

    # -- the simulator's evaluation, exactly
    @torch.no_grad()
    def evaluate(self, rows: np.ndarray, eval_rows: Sequence[int], orders: np.ndarray,
                 sweeps: int, arithmetic: str = "portable") -> list[float]:
        """Per-row absolute errors of the simulator's evaluation: rows ``eval_rows`` in
        order, ``sweeps`` passes each in ``orders``, the state carried from row to row,
        learning off. Every number comes from :mod:`argnn_sim.rule` in the simulator's
        ``arithmetic`` (a scenario's resolved ``node.arithmetic``; the comparison's runs
        are ``portable``), so the result equals the simulator's bit for bit."""
        A = self.adjacency().numpy()
        W = np.ascontiguousarray(self.weight_matrix().numpy())  # W[:, k]: a strided column
        n, n_in, out = self.n, self.n_in, self.n - 1
        reference = arithmetic == "reference"
        V = np.zeros(n)
        errs = []
        p = 0
        for r in eval_rows:
            row = rows[r]
            V[:n_in] = np.asarray(row[:n_in], dtype=np.float64)
            for _s in range(sweeps):
                for k in orders[p].tolist():
                    if reference:
                        V[k] = arith.sigmoid_reference(arith.dot_reference(V * A[:, k], W[:, k]))
                    else:
                        V[k] = arith.sigmoid(arith.blocked_sum(((V * A[:, k]) * W[:, k]).tolist(),
                                                             n))
                p += 1
            errs.append(abs(float(V[out]) - float(row[-1])))
        return errs

    # -- a differentiable forward for training masks
    def forward(self, X: Tensor, orders: Sequence[Sequence[int]], *,
                edge_gate: Tensor | None = None, node_gate: Tensor | None = None) -> Tensor:
        """Outputs (R,) for the rows of ``X`` (R, n_in), all from a zero state, one pass per
        entry of ``orders``. ``edge_gate`` (E,) scales edges; ``node_gate`` (n,) scales what
        each node sends (0: silenced)."""
        W = self.weight_matrix(edge_gate)
        cols = [X[:, i] for i in range(self.n_in)]
        cols += [torch.zeros(X.shape[0], dtype=torch.float64) for _ in range(self.n_in, self.n)]
        for order in orders:
            for k in order:
                V = torch.stack(cols, dim=1)
                if node_gate is not None:
                    V = V * node_gate
                cols[k] = torch.sigmoid(V @ W[:, k])
        return cols[self.n - 1]


def export(net: DenseNet) -> ArgnnModule:
    """The torch module of a simulated network (see :class:`ArgnnModule`)."""
    return ArgnnModule(net)


def import_edges(module: ArgnnModule) -> dict[str, np.ndarray]:
    """The module's remaining edges and weights, in ``RunResult.final_edges`` layout."""
    with torch.no_grad():
        A = module.adjacency().numpy()
        W = module.weight_matrix().detach().numpy()
    return DenseNet(module.n, module.n_in, A, W * A).edges()
