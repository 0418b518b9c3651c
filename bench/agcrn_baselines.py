"""Two other ways of computing the same AGCRN step, for ``bench/prunegcrn_train.py``.

Both take the parameters of a :class:`prunegcrn_bridge.traffic.model.AGCRN` (its
``node_embeddings``, each cell's ``gate``/``update`` pools and the ``end_conv`` head), so one
model state feeds all three formulations and their predictions and losses can be compared.

``before(backbone, x)``
    the project's own forward as it was before the node-major rewrite (kept here as the
    speed baseline): batch-major (B, N, C), per-node weights applied with
    ``einsum('bni,nio->bno')`` once per support, a ``cat`` of ``[x, h]`` per step.

``original_layout(backbone, x)``
    a restatement, written from the AGCRN paper (Bai et al., NeurIPS 2020) and its public
    description, of how the original code computes a step: every graph convolution
    recomputes the support ``softmax(ReLU(E E^T))`` and the per-node weights from the node
    embeddings, stacks the supports as ``[I, S]`` (K, N, N), gathers ``x_g`` (B, N, K, C)
    and applies the weights with one ``einsum('bnki,nkio->bno')``. The data feed of that
    code (batches copied from host memory on each step) is in the bench's loop, not here.
"""

from __future__ import annotations

import torch
from torch import Tensor

from prunegcrn_bridge.traffic.model import AGCRN


def _head(backbone: AGCRN, last: Tensor) -> Tensor:
    """``end_conv`` on the last hidden state (B, 1, N, H) -> (B, horizon, N, C_out)."""
    b, _, n, _ = last.shape
    out = backbone.end_conv(last)
    return out.squeeze(-1).reshape(b, backbone.horizon, backbone.output_dim, n).transpose(2, 3)


# ------------------------------------------------------------------ the einsum baseline
def _prop(x: Tensor, support: Tensor, w: Tensor, b: Tensor) -> Tensor:
    sx = torch.einsum("nm,bmc->bnc", support, x)
    return (torch.einsum("bni,nio->bno", x, w[:, 0])
            + torch.einsum("bni,nio->bno", sx, w[:, 1]) + b)


def before(backbone: AGCRN, x: Tensor, support_mask: Tensor | None = None) -> Tensor:
    """The pre-rewrite forward: (B, T, N, C_in) -> (B, horizon, N, C_out)."""
    b, t, n, _ = x.shape
    emb = backbone.node_embeddings
    support = backbone.support(support_mask)
    seq = x
    for cell in backbone.cells:
        gw = torch.einsum("nd,dkio->nkio", emb, cell.gate.weights_pool)
        gb = emb @ cell.gate.bias_pool
        uw = torch.einsum("nd,dkio->nkio", emb, cell.update.weights_pool)
        ub = emb @ cell.update.bias_pool
        h = x.new_zeros(b, n, backbone.hidden)
        outs = []
        for step in range(t):
            xt = seq[:, step]
            zr = torch.sigmoid(_prop(torch.cat([xt, h], -1), support, gw, gb))
            z, r = zr.split(backbone.hidden, dim=-1)
            hc = torch.tanh(_prop(torch.cat([xt, z * h], -1), support, uw, ub))
            h = r * h + (1 - r) * hc
            outs.append(h)
        seq = torch.stack(outs, dim=1)
    return _head(backbone, seq[:, -1:])


# ---------------------------------------------------------- the original code's layout
def _avwgcn(x: Tensor, emb: Tensor, weights_pool: Tensor, bias_pool: Tensor) -> Tensor:
    """One adaptive graph convolution as the original computes it: (B, N, C_in) -> C_out."""
    n = emb.shape[0]
    s = torch.softmax(torch.relu(emb @ emb.t()), dim=1)
    supports = torch.stack([torch.eye(n, dtype=s.dtype, device=s.device), s])  # (K, N, N)
    weights = torch.einsum("nd,dkio->nkio", emb, weights_pool)
    bias = emb @ bias_pool
    x_g = torch.einsum("knm,bmc->bknc", supports, x).permute(0, 2, 1, 3)  # (B, N, K, C)
    return torch.einsum("bnki,nkio->bno", x_g, weights) + bias


def original_layout(backbone: AGCRN, x: Tensor) -> Tensor:
    """The original code's forward: (B, T, N, C_in) -> (B, horizon, N, C_out)."""
    b, t, n, _ = x.shape
    emb = backbone.node_embeddings
    seq = x
    for cell in backbone.cells:
        state = x.new_zeros(b, n, backbone.hidden)
        inner = []
        for step in range(t):
            inp = torch.cat((seq[:, step], state), dim=-1)
            z_r = torch.sigmoid(_avwgcn(inp, emb, cell.gate.weights_pool,
                                        cell.gate.bias_pool))
            z, r = torch.split(z_r, backbone.hidden, dim=-1)
            cand = torch.cat((seq[:, step], z * state), dim=-1)
            hc = torch.tanh(_avwgcn(cand, emb, cell.update.weights_pool,
                                    cell.update.bias_pool))
            state = r * state + (1 - r) * hc
            inner.append(state)
        seq = torch.stack(inner, dim=1)
    return _head(backbone, seq[:, -1:])
