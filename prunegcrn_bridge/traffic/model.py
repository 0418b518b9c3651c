"""AGCRN with node-adaptive parameters, and PruneGCRN's pruned graph learning (PGL).

The backbone follows AGCRN (Bai et al., 2020):

* node embeddings ``E`` (N x d); adaptive support ``S = softmax(ReLU(E E^T))`` (row-wise);
  Chebyshev order 2 uses the supports ``[I, S]``;
* node-adaptive graph convolution: per-node weights ``E . W_pool`` (d x K x C_in x C_out ->
  N x K x C_in x C_out) and biases ``E . b_pool``;
* a GRU cell whose gate and candidate maps are such convolutions; 2 layers, 64 hidden;
* a convolutional head: ``Conv2d(1, horizon * out_dim, kernel (1, hidden))`` on the last
  hidden state emits all 12 steps at once.

With PeMSD4's setting (N = 307, d = 10, 64 hidden, 2 layers, K = 2, one input and one output
channel) :func:`count_parameters` of the backbone is 748,810, with PeMSD8's (N = 170, d = 2)
150,112, the counts of the original AGCRN code.

PGL (PruneGCRN): a raw mask ``r`` (N,) and a binary clamp ``m = 1[r >= 0.5]`` in the
forward pass with a straight-through gradient to ``r``; a masked node's input is replaced by
a learned graph bias ``b`` (N x C_in), not by zero: ``x~ = m x + (1 - m) b``. Options:
``silence_senders`` also zeroes masked nodes' columns of ``S`` (they send nothing in the
graph convolution); ``keep`` imposes a hard budget, keeping exactly the ``keep`` nodes with
the largest raw-mask values (the straight-through gradient still reaches every ``r``).
The loss ``MAE x (1 + mean(m) - gamma)`` (:func:`prune_loss`) does not bound the kept
fraction by itself, so the training log records it.

Our choices where the paper is silent: ``r`` starts at 1 (every node kept); the clamp
threshold is 0.5; the graph bias starts at 0 (the training mean after z-scoring).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["AGCRN", "PruneGCRN", "NodeMask", "count_parameters", "prune_loss",
           "binary_clamp"]


def binary_clamp(r: Tensor, threshold: float = 0.5) -> Tensor:
    """``1[r >= threshold]`` in the forward pass, identity gradient to ``r``."""
    hard = (r >= threshold).to(r.dtype)
    return r + (hard - r).detach()


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class AdaptiveGraphConv(nn.Module):
    """Node-adaptive graph convolution with supports ``[I, S]`` (Chebyshev order 2)."""

    def __init__(self, dim_in: int, dim_out: int, embed_dim: int, cheb_k: int = 2) -> None:
        super().__init__()
        if cheb_k != 2:
            raise ValueError("only Chebyshev order 2 (supports [I, S]) is implemented")
        self.weights_pool = nn.Parameter(torch.empty(embed_dim, cheb_k, dim_in, dim_out))
        self.bias_pool = nn.Parameter(torch.empty(embed_dim, dim_out))
        nn.init.xavier_normal_(self.weights_pool)
        nn.init.zeros_(self.bias_pool)

    def node_params(self, emb: Tensor) -> tuple[Tensor, Tensor]:
        """Per-node weights (N, K, C_in, C_out) and biases (N, C_out) from ``emb``."""
        w = torch.einsum("nd,dkio->nkio", emb, self.weights_pool)
        return w, emb @ self.bias_pool

    @staticmethod
    def propagate(x: Tensor, support: Tensor, w: Tensor, b: Tensor) -> Tensor:
        """``x`` (B, N, C_in) -> (B, N, C_out) with precomputed node parameters."""
        sx = torch.einsum("nm,bmc->bnc", support, x)
        return (torch.einsum("bni,nio->bno", x, w[:, 0])
                + torch.einsum("bni,nio->bno", sx, w[:, 1]) + b)


class AGCRNCell(nn.Module):
    def __init__(self, dim_in: int, hidden: int, embed_dim: int, cheb_k: int = 2) -> None:
        super().__init__()
        self.hidden = hidden
        self.gate = AdaptiveGraphConv(dim_in + hidden, 2 * hidden, embed_dim, cheb_k)
        self.update = AdaptiveGraphConv(dim_in + hidden, hidden, embed_dim, cheb_k)

    def forward(self, x: Tensor, h: Tensor, support: Tensor,
                params: tuple[Tensor, Tensor, Tensor, Tensor]) -> Tensor:
        gw, gb, uw, ub = params
        zr = torch.sigmoid(AdaptiveGraphConv.propagate(torch.cat([x, h], -1), support, gw, gb))
        z, r = zr.split(self.hidden, dim=-1)
        hc = torch.tanh(AdaptiveGraphConv.propagate(torch.cat([x, z * h], -1), support, uw, ub))
        return r * h + (1 - r) * hc


class AGCRN(nn.Module):
    """The AGCRN backbone: ``forward(x)`` maps (B, T_in, N, C_in) to (B, horizon, N, C_out).

    ``support_mask`` (N,) in ``forward`` multiplies the columns of ``S`` (a sender whose
    entry is 0 sends nothing).
    """

    def __init__(self, num_nodes: int, input_dim: int = 1, output_dim: int = 1,
                 hidden: int = 64, layers: int = 2, embed_dim: int = 10, cheb_k: int = 2,
                 horizon: int = 12) -> None:
        super().__init__()
        self.num_nodes, self.input_dim, self.output_dim = num_nodes, input_dim, output_dim
        self.hidden, self.horizon = hidden, horizon
        self.node_embeddings = nn.Parameter(torch.randn(num_nodes, embed_dim))
        self.cells = nn.ModuleList(AGCRNCell(input_dim if i == 0 else hidden, hidden,
                                             embed_dim, cheb_k) for i in range(layers))
        self.end_conv = nn.Conv2d(1, horizon * output_dim, kernel_size=(1, hidden))

    def support(self, column_mask: Tensor | None = None) -> Tensor:
        e = self.node_embeddings
        s = torch.softmax(torch.relu(e @ e.t()), dim=1)
        return s if column_mask is None else s * column_mask.unsqueeze(0)

    def forward(self, x: Tensor, support_mask: Tensor | None = None) -> Tensor:
        b, t, n, _ = x.shape
        support = self.support(support_mask)
        seq = x
        for cell in self.cells:
            gw, gb = cell.gate.node_params(self.node_embeddings)
            uw, ub = cell.update.node_params(self.node_embeddings)
            h = x.new_zeros(b, n, self.hidden)
            outs = []
            for step in range(t):
                h = cell(seq[:, step], h, support, (gw, gb, uw, ub))
                outs.append(h)
            seq = torch.stack(outs, dim=1)
        last = seq[:, -1:]  # (B, 1, N, hidden)
        out = self.end_conv(last)  # (B, horizon * C_out, N, 1)
        return out.squeeze(-1).reshape(b, self.horizon, self.output_dim, n).transpose(2, 3)


class NodeMask(nn.Module):
    """PGL: raw mask, binary clamp (or hard top-``keep`` budget) and graph bias."""

    def __init__(self, num_nodes: int, input_dim: int = 1, keep: int | None = None,
                 threshold: float = 0.5) -> None:
        super().__init__()
        if keep is not None and not 0 < keep <= num_nodes:
            raise ValueError(f"keep={keep}: give a number of nodes in 1..{num_nodes}")
        self.raw = nn.Parameter(torch.ones(num_nodes))
        self.graph_bias = nn.Parameter(torch.zeros(num_nodes, input_dim))
        self.keep = keep
        self.threshold = threshold

    def forward(self) -> Tensor:
        """The mask (N,): exactly 0/1 values, gradient straight through to ``raw``."""
        if self.keep is None:
            return binary_clamp(self.raw, self.threshold)
        hard = torch.zeros_like(self.raw)
        hard[torch.topk(self.raw.detach(), self.keep).indices] = 1.0
        return self.raw + (hard - self.raw).detach()

    def fill(self, x: Tensor, m: Tensor) -> Tensor:
        """``x`` (B, T, N, C): masked nodes' inputs replaced by the graph bias."""
        mm = m.view(1, 1, -1, 1)
        return mm * x + (1 - mm) * self.graph_bias


class PruneGCRN(nn.Module):
    """AGCRN with PGL node pruning. ``forward`` returns (prediction, mask)."""

    def __init__(self, num_nodes: int, *, keep: int | None = None,
                 silence_senders: bool = False, **agcrn: int) -> None:
        super().__init__()
        self.backbone = AGCRN(num_nodes, **agcrn)
        self.mask = NodeMask(num_nodes, self.backbone.input_dim, keep=keep)
        self.silence_senders = silence_senders

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        m = self.mask()
        y = self.backbone(self.mask.fill(x, m), m if self.silence_senders else None)
        return y, m

    def kept(self) -> Tensor:
        """Indices of the kept nodes."""
        with torch.no_grad():
            return self.mask().nonzero().view(-1)


def prune_loss(mae: Tensor, mask: Tensor, gamma: float) -> Tensor:
    """PruneGCRN's loss ``MAE x (1 + mean(mask) - gamma)``."""
    return mae * (1 + mask.mean() - gamma)
