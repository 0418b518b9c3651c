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

Our choices where the paper is silent, each an option: ``r`` starts at ``mask_init``
(default 1: every node kept); the clamp threshold is ``threshold`` (default 0.5); the
graph bias starts at 0 (the training mean after z-scoring). The raw mask's own learning
rate is a training option (``TrainConfig.mask_lr``).
"""

from __future__ import annotations

from typing import Any

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
    """Node-adaptive graph convolution with supports ``[I, S]`` (Chebyshev order 2).

    Holds the pools only; :class:`AGCRN` applies them (see its docstring for the layout).
    """

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
        w = (emb @ self.weights_pool.flatten(1)).view(emb.shape[0], *self.weights_pool.shape[1:])
        return w, emb @ self.bias_pool


def _autocast_dtype(x: Tensor) -> torch.dtype | None:
    """The autocast dtype in force for ``x``'s device type, or None."""
    kind = x.device.type
    if kind in ("cpu", "cuda") and torch.is_autocast_enabled(kind):
        return torch.get_autocast_dtype(kind)
    return None


class _GRUScan(torch.autograd.Function):
    """The recurrence of one layer over T steps, with a hand-written backward.

    Inputs: ``xg`` (N, T, B, 2H) and ``xu`` (N, T, B, H), the input's share (biases included)
    of the gates ``[z | r]`` and of the candidate; the support ``S`` (N, N); the state
    weights ``wg`` (N, 2H, 2H) acting on ``[h | S h]`` and ``wu`` (N, 2H, H) acting on
    ``[z h | S (z h)]``. Output: every state, (N, T, B, H).

    Why by hand: autograd's backward of the step loop allocates and accumulates per step,
    and computes each weight gradient as T small products. Here the forward keeps
    ``[h | S h]``, ``[z | r]``, ``[z h | S z h]`` and the candidate in step-major buffers,
    the backward writes into preallocated buffers, and each weight gradient is one batched
    product over all steps (inner dimension T B instead of B).
    """

    @staticmethod
    def forward(ctx: Any, xg: Tensor, xu: Tensor, s: Tensor, wg: Tensor,
                wu: Tensor) -> Tensor:
        n, t, b, hid2 = xg.shape
        hid = hid2 // 2
        kw: dict[str, Any] = {"dtype": xg.dtype, "device": xg.device}
        hs = torch.empty(t, n, b, 2 * hid, **kw)    # [h_{t-1} | S h_{t-1}]
        zr = torch.empty(t, n, b, 2 * hid, **kw)    # [z | r]
        zs = torch.empty(t, n, b, 2 * hid, **kw)    # [z h | S z h]
        hc = torch.empty(t, n, b, hid, **kw)        # candidate
        out = torch.empty(t, n, b, hid, **kw)       # h_t
        hs[0].zero_()
        zs[0].zero_()
        torch.sigmoid(xg[:, 0], out=zr[0])
        torch.tanh(xu[:, 0], out=hc[0])
        torch.mul(zr[0, ..., hid:], hc[0], out=out[0]).neg_().add_(hc[0])
        for k in range(1, t):
            h = out[k - 1]
            hs[k, ..., :hid] = h
            hs[k, ..., hid:] = (s @ h.view(n, b * hid)).view(n, b, hid)
            g = torch.baddbmm(xg[:, k], hs[k], wg, out=zr[k]).sigmoid_()
            z, r = g[..., :hid], g[..., hid:]
            zh = zs[k, ..., :hid]
            torch.mul(z, h, out=zh)
            zs[k, ..., hid:] = (s @ zh.reshape(n, b * hid)).view(n, b, hid)
            c = torch.baddbmm(xu[:, k], zs[k], wu, out=hc[k]).tanh_()
            # h_k = r h + (1 - r) c = c + r (h - c)
            torch.sub(h, c, out=out[k]).mul_(r).add_(c)
        ctx.save_for_backward(s, wg, wu, hs, zr, zs, hc, out)
        result = torch.empty(n, t, b, hid, **kw)
        result.copy_(out.permute(1, 0, 2, 3))
        return result

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        s, wg, wu, hs, zr, zs, hc, out = ctx.saved_tensors
        t, n, b, hid = out.shape
        dh_all = torch.empty_like(out)                   # (T, N, B, H), dL/dh_k direct
        dh_all.copy_(grad.permute(1, 0, 2, 3))
        dg = torch.empty_like(zr)                        # d pre-activation of [z | r]
        du = torch.empty_like(hc)                        # d pre-activation of candidate
        dzs = torch.empty(n, b, 2 * hid, dtype=out.dtype, device=out.device)
        dhs = torch.empty_like(dzs)
        ds = torch.zeros_like(s)
        carry = torch.zeros(n, b, hid, dtype=out.dtype, device=out.device)
        st = s.t()
        for k in range(t - 1, 0, -1):
            gk = dh_all[k].add_(carry)                    # dL/dh_k
            h, c = hs[k, ..., :hid], hc[k]
            z, r = zr[k, ..., :hid], zr[k, ..., hid:]
            # h_k = c + r (h - c)
            dr = (h - c).mul_(gk)
            dc = (1 - r).mul_(gk)
            torch.mul(dc, (1 - c * c), out=du[k])
            torch.bmm(du[k], wu.transpose(1, 2), out=dzs)  # [d(z h) | d(S z h)]
            dzh = dzs[..., :hid] + (st @ dzs[..., hid:].reshape(n, b * hid)).view(n, b, hid)
            ds.addmm_(dzs[..., hid:].reshape(n, b * hid),
                      zs[k, ..., :hid].reshape(n, b * hid).t())
            dz = dzh * h
            dg[k, ..., :hid] = dz.mul_(z * (1 - z))
            dg[k, ..., hid:] = dr.mul_(r * (1 - r))
            torch.bmm(dg[k], wg.transpose(1, 2), out=dhs)  # [dh | d(S h)]
            ds.addmm_(dhs[..., hid:].reshape(n, b * hid), h.reshape(n, b * hid).t())
            carry = gk * r + dzh * z + dhs[..., :hid] \
                + (st @ dhs[..., hid:].reshape(n, b * hid)).view(n, b, hid)
        g0 = dh_all[0].add_(carry)
        r0, c0 = zr[0, ..., hid:], hc[0]
        # h_0 = c (1 - r)
        torch.mul((1 - r0).mul_(g0), 1 - c0 * c0, out=du[0])
        dg[0, ..., :hid] = 0
        dg[0, ..., hid:] = (-c0).mul_(g0).mul_(r0 * (1 - r0))
        # weight gradients: one product each over all steps (step 0 has a zero state)
        hs_n = hs[1:].permute(1, 0, 2, 3).reshape(n, (t - 1) * b, 2 * hid)
        zs_n = zs[1:].permute(1, 0, 2, 3).reshape(n, (t - 1) * b, 2 * hid)
        dg_n = dg.permute(1, 0, 2, 3).contiguous()
        du_n = du.permute(1, 0, 2, 3).contiguous()
        dwg = torch.bmm(hs_n.transpose(1, 2), dg_n[:, 1:].reshape(n, (t - 1) * b, 2 * hid))
        dwu = torch.bmm(zs_n.transpose(1, 2), du_n[:, 1:].reshape(n, (t - 1) * b, hid))
        return dg_n, du_n, ds, dwg, dwu


class AGCRNCell(nn.Module):
    """One GRU layer whose gate (``2 hidden`` outputs: z, r) and candidate maps are
    node-adaptive graph convolutions of ``[x, h]`` and ``[x, z * h]``."""

    def __init__(self, dim_in: int, hidden: int, embed_dim: int, cheb_k: int = 2) -> None:
        super().__init__()
        self.dim_in, self.hidden = dim_in, hidden
        self.gate = AdaptiveGraphConv(dim_in + hidden, 2 * hidden, embed_dim, cheb_k)
        self.update = AdaptiveGraphConv(dim_in + hidden, hidden, embed_dim, cheb_k)

    def run(self, seq: Tensor, support: Tensor, emb: Tensor) -> Tensor:
        """The layer over a whole sequence, node-major: ``seq`` (N, T, B, C_in) ->
        (N, T, B, hidden), every hidden state.

        The input's share of the maps does not depend on the recurrence, so it is one
        batched product per node over all T steps, ``x W_x0 + (S x) W_x1`` (the gate's 2H
        and the candidate's H outputs); :class:`_GRUScan` then runs the recurrence. Under
        autocast the per-node weights, the support and the input are cast once per call
        and the whole layer runs in the autocast dtype.
        """
        n, t, b, c = seq.shape
        hid = self.hidden
        gw, gb = self.gate.node_params(emb)      # (N, 2, C+H, 2H), (N, 2H)
        uw, ub = self.update.node_params(emb)    # (N, 2, C+H, H),  (N, H)
        dtype = _autocast_dtype(seq)
        if dtype is not None:
            gw, uw, gb, ub = gw.to(dtype), uw.to(dtype), gb.to(dtype), ub.to(dtype)
            seq, support = seq.to(dtype), support.to(dtype)
        xs = seq.reshape(n, t * b, c)
        sx = (support @ seq.reshape(n, t * b * c)).view(n, t * b, c)
        xg = torch.baddbmm(gb.unsqueeze(1), xs, gw[:, 0, :c]).baddbmm_(sx, gw[:, 1, :c])
        xu = torch.baddbmm(ub.unsqueeze(1), xs, uw[:, 0, :c]).baddbmm_(sx, uw[:, 1, :c])
        wg = gw[:, :, c:].reshape(n, 2 * hid, 2 * hid)  # rows: h's, then (S h)'s
        wu = uw[:, :, c:].reshape(n, 2 * hid, hid)
        with torch.autocast(seq.device.type, enabled=False):
            return _GRUScan.apply(xg.view(n, t, b, 2 * hid), xu.view(n, t, b, hid), support,
                                  wg, wu)


class AGCRN(nn.Module):
    """The AGCRN backbone: ``forward(x)`` maps (B, T_in, N, C_in) to (B, horizon, N, C_out).

    ``support_mask`` (N,) in ``forward`` multiplies the columns of ``S`` (a sender whose
    entry is 0 sends nothing).

    Layout: inside, sequences are node-major, (N, T, B, C), so each node's transform is
    one batched matrix product (``bmm`` over the node axis) and the support product is a
    plain ``(N, N)`` product; the input is permuted once on entry and the 12-step output
    once on exit. The arithmetic is AGCRN's (the same parameters give the same prediction
    up to float rounding; ``bench/prunegcrn_train.py`` checks it against the einsum
    formulation and against the original code's layout).
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
        seq = x.permute(2, 1, 0, 3).contiguous()  # (N, T, B, C)
        for cell in self.cells:
            seq = cell.run(seq, support, self.node_embeddings)
        last = seq[:, -1]  # (N, B, hidden)
        # the head: Conv2d(1, horizon * C_out, (1, hidden)) is a per-node linear map
        w = self.end_conv.weight.view(self.horizon * self.output_dim, self.hidden)
        out = torch.nn.functional.linear(last, w, self.end_conv.bias)  # (N, B, H * C_out)
        return out.view(n, b, self.horizon, self.output_dim).permute(1, 2, 0, 3)


class NodeMask(nn.Module):
    """PGL: raw mask, binary clamp (or hard top-``keep`` budget) and graph bias."""

    def __init__(self, num_nodes: int, input_dim: int = 1, keep: int | None = None,
                 threshold: float = 0.5, init: float = 1.0) -> None:
        super().__init__()
        if keep is not None and not 0 < keep <= num_nodes:
            raise ValueError(f"keep={keep}: give a number of nodes in 1..{num_nodes}")
        self.raw = nn.Parameter(torch.full((num_nodes,), float(init)))
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
                 silence_senders: bool = False, mask_init: float = 1.0,
                 threshold: float = 0.5, **agcrn: int) -> None:
        super().__init__()
        self.backbone = AGCRN(num_nodes, **agcrn)
        self.mask = NodeMask(num_nodes, self.backbone.input_dim, keep=keep,
                             threshold=threshold, init=mask_init)
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
