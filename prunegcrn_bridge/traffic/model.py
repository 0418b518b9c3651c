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
fraction by itself (on SZ-taxi its minimum is "keep nothing"), so the training log records
it; ``form="hinge"`` is the variant that stops pushing once the kept share is below gamma.

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


class _Gates(torch.autograd.Function):
    """``sigmoid`` of the gates' pre-activation ``[z | r]`` (..., 2H), returned as the two
    halves ``z`` and ``r``.

    One function instead of ``sigmoid`` and two slices: autograd's backward of a slice
    fills a zero tensor of the whole width for each half and adds the two; here the two
    halves' gradients are joined once and go through one ``sigmoid_backward``. A half that
    received no gradient (``z`` at the first step, whose state is zero) counts as zero.
    """

    @staticmethod
    def forward(ctx: Any, pre: Tensor) -> tuple[Tensor, Tensor]:
        g = torch.sigmoid(pre)
        ctx.save_for_backward(g)
        hid = g.shape[-1] // 2
        return g[..., :hid], g[..., hid:]

    @staticmethod
    def backward(ctx: Any, gz: Tensor | None, gr: Tensor | None) -> Tensor:
        (g,) = ctx.saved_tensors
        hid = g.shape[-1] // 2
        half = g.shape[:-1] + (hid,)
        gz = torch.zeros(half, dtype=g.dtype, device=g.device) if gz is None else gz
        gr = torch.zeros(half, dtype=g.dtype, device=g.device) if gr is None else gr
        return torch.ops.aten.sigmoid_backward(torch.cat((gz, gr), dim=-1), g)


class AGCRNCell(nn.Module):
    """One GRU layer whose gate (``2 hidden`` outputs: z, r) and candidate maps are
    node-adaptive graph convolutions of ``[x, h]`` and ``[x, z * h]``."""

    def __init__(self, dim_in: int, hidden: int, embed_dim: int, cheb_k: int = 2) -> None:
        super().__init__()
        self.dim_in, self.hidden = dim_in, hidden
        self.gate = AdaptiveGraphConv(dim_in + hidden, 2 * hidden, embed_dim, cheb_k)
        self.update = AdaptiveGraphConv(dim_in + hidden, hidden, embed_dim, cheb_k)

    def run(self, seq: Tensor, support: Tensor, emb: Tensor, support_seq: Tensor | None = None,
            *, last_only: bool = False, with_support: bool = False
            ) -> tuple[Tensor, Tensor | None]:
        """The layer over a whole sequence, node-major: ``seq`` (N, T, B, C_in).

        Returns ``(states, support_states)``: ``states`` is every hidden state
        (N, T, B, hidden), or only the last one (N, B, hidden) with ``last_only``;
        ``support_states`` is ``S h_t`` for every step (N, T, B, hidden) with
        ``with_support``, else None. ``support_seq``, when given, is ``S seq`` (the
        previous layer's ``support_states``); otherwise it is computed here.

        The input's share of the maps does not depend on the recurrence, so it is one
        batched product per node over all T steps, ``x W_x0 + (S x) W_x1``. Each step then
        adds the state's share, ``h W_h0 + (S h) W_h1``, as one ``baddbmm`` pair for both
        gates (2H outputs: in fp32 the BLAS runs one product of twice the width faster than
        two; in bf16 it is even) and one for the candidate; no ``cat`` of ``[h, S h]``. The first step's state
        is zero, so its state products are skipped. The layer's own ``S h_{t-1}`` products
        are kept: they are the next layer's ``S x_{t-1}``, so stacking them (and one more
        product for the last state) gives the next layer's support share without a second
        ``(N, N)`` product over the whole sequence. Under autocast the per-node weights, the
        support and the input are cast once per call, not once per product.

        (A hand-written backward of the step loop, with every weight gradient as one
        product over all steps, was measured and dropped: no faster in fp32, slower in
        bf16 on this CPU, although its products over T B rows run faster than T
        products over B rows: ``products_by_shape`` in ``bench/prunegcrn_train.py``.)
        """
        n, t, b, c = seq.shape
        hid = self.hidden
        gw, gb = self.gate.node_params(emb)      # (N, 2, C+H, 2H), (N, 2H)
        uw, ub = self.update.node_params(emb)    # (N, 2, C+H, H),  (N, H)
        dtype = _autocast_dtype(seq)
        if dtype is not None:
            gw, uw, gb, ub = gw.to(dtype), uw.to(dtype), gb.to(dtype), ub.to(dtype)
            seq, support = seq.to(dtype), support.to(dtype)
            if support_seq is not None:
                support_seq = support_seq.to(dtype)
        xs = seq.reshape(n, t * b, c)
        if support_seq is None:
            sx = (support @ seq.reshape(n, t * b * c)).view(n, t * b, c)
        else:
            sx = support_seq.reshape(n, t * b, c)
        # the input's share of [z | r] and of the candidate, for every step
        xg = (torch.baddbmm(gb.unsqueeze(1), xs, gw[:, 0, :c]).baddbmm_(sx, gw[:, 1, :c])
              .view(n, t, b, 2 * hid).unbind(1))
        xu = (torch.baddbmm(ub.unsqueeze(1), xs, uw[:, 0, :c]).baddbmm_(sx, uw[:, 1, :c])
              .view(n, t, b, hid).unbind(1))
        g0, g1 = gw[:, 0, c:].contiguous(), gw[:, 1, c:].contiguous()   # (N, H, 2H)
        u0, u1 = uw[:, 0, c:].contiguous(), uw[:, 1, c:].contiguous()   # (N, H, H)
        _, r = _Gates.apply(xg[0])
        h = (1 - r) * torch.tanh(xu[0])  # step 0: the state is zero
        outs = None if last_only else [h]
        shs: list[Tensor] | None = [] if with_support else None
        for step in range(1, t):
            sh = (support @ h.reshape(n, b * hid)).view(n, b, hid)
            if shs is not None:
                shs.append(sh)
            z, r = _Gates.apply(torch.baddbmm(xg[step], h, g0).baddbmm_(sh, g1))
            zh = z * h
            szh = (support @ zh.reshape(n, b * hid)).view(n, b, hid)
            hc = torch.tanh(torch.baddbmm(xu[step], zh, u0).baddbmm_(szh, u1))
            h = torch.lerp(hc, h, r)  # r h + (1 - r) hc
            if outs is not None:
                outs.append(h)
        support_states = None
        if shs is not None:
            shs.append((support @ h.reshape(n, b * hid)).view(n, b, hid))
            support_states = torch.stack(shs, dim=1)
        return (h if outs is None else torch.stack(outs, dim=1)), support_states


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
        sseq = None
        for i, cell in enumerate(self.cells):
            top = i == len(self.cells) - 1
            seq, sseq = cell.run(seq, support, self.node_embeddings, sseq, last_only=top,
                                 with_support=not top)
        # seq is now the top layer's last state, (N, B, hidden). The head,
        # Conv2d(1, horizon * C_out, (1, hidden)), is a per-node linear map.
        w = self.end_conv.weight.view(self.horizon * self.output_dim, self.hidden)
        out = torch.nn.functional.linear(seq, w, self.end_conv.bias)  # (N, B, H * C_out)
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


def prune_loss(mae: Tensor, mask: Tensor, gamma: float, form: str = "linear") -> Tensor:
    """PruneGCRN's loss ``MAE x (1 + mean(mask) - gamma)`` (``form="linear"``, the paper's
    formula as written), or ``MAE x (1 + max(0, mean(mask) - gamma))`` (``"hinge"``: our
    reading of gamma as the allowed share of nodes; no push below it).

    The linear form pushes every raw mask down by ``MAE / N`` per node whatever the kept
    share, so its minimum is at "keep nothing" unless pruning every node raises the MAE by
    more than ``(2 - gamma) / (1 - gamma)`` times (at least 2x).
    """
    if form == "linear":
        return mae * (1 + mask.mean() - gamma)
    if form == "hinge":
        return mae * (1 + torch.clamp(mask.mean() - gamma, min=0.0))
    raise ValueError(f"form={form!r}; allowed: linear, hinge")
