"""The study's quantization methods, in plain torch.

Every ``nn.Linear`` of a model is swapped for a :class:`QuantLinear` that fake-quantizes
its weight and its input (the node features entering the layer) in the forward pass, with a
straight-through estimator (STE) for the rounding:

``qat``
    Quantization-aware training at ``bits`` (8 or 4). Weights: symmetric, per tensor,
    integer grid ``[-(2^(b-1) - 1), 2^(b-1) - 1]``, scale ``max|W| / (2^(b-1) - 1)``.
    Inputs: asymmetric, grid ``[0, 2^b - 1]`` with a zero point, range from an exponential
    moving average of the batch min and max (momentum ``0.1``), frozen in eval mode.
``dq`` (Degree-Quant, Tailor et al. 2021)
    ``qat`` plus two changes. (1) Protective masking: in training, each node is kept in
    full precision with probability ``p_min + (p_max - p_min) * r`` where ``r`` in [0, 1] is
    its in-degree rescaled within the batch (min-max), so high in-degree nodes, whose
    aggregated values have the widest range, are protected most often. (2) Input ranges from
    percentiles of the batch (``percentile`` and ``100 - percentile``) instead of min-max.
    In eval mode nothing is protected.
``a2q`` (A²Q, Zhu et al. 2023)
    Learnable bit-widths and step sizes for the node features: each node-level layer holds
    a bit-width ``b`` and a step ``s`` per in-degree bucket (degree ``0 .. buckets-1``,
    higher degrees share the last bucket). A node's features are quantized with its
    bucket's ``(round(b), s)`` (unsigned grid when the layer's input is non-negative,
    symmetric otherwise), gradients reach ``s`` and ``b`` through the
    STE (LSQ-style), and :func:`memory_penalty` adds ``lam * (mean_bits - target)^2``
    (feature bits averaged over nodes and weighted by the layer's input width), which pulls
    bit-widths towards the target memory. Weights are quantized as in ``qat`` at ``bits``.
    Deviation from the paper: A²Q learns one ``(b, s)`` per node of a fixed graph and uses a
    nearest-neighbour rule for unseen graphs; indexing by in-degree bucket serves graph
    classification directly and follows the paper's own finding that the learned bit-width
    grows with in-degree.

Layers whose rows are graphs rather than nodes (the pooled head, ``node_level = False``)
get the plain ``qat`` treatment under every scheme.

:func:`export_quantized` packs the integer weights (two 4-bit values per byte) with their
scales; :func:`theoretical_bits` counts the bits the quantized weights need.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..errors import BridgeConfigError

__all__ = ["QuantScheme", "QuantLinear", "quantize_model", "quant_layers", "memory_penalty",
           "fake_quant_weight", "fake_quant_affine", "protection_probability",
           "export_quantized", "theoretical_bits", "QUANT_METHODS"]

QUANT_METHODS = ("qat", "dq", "a2q")


@dataclass(frozen=True)
class QuantScheme:
    """Which fake quantization a model gets.

    ``bits``: weight (and ``qat``/``dq`` input) bit-width. ``p_min``/``p_max``:
    Degree-Quant's protection probabilities. ``percentile``: Degree-Quant's range
    percentile. ``buckets``, ``init_bits``, ``target_bits``: A²Q's in-degree buckets,
    starting bit-width and memory target.
    """

    method: str = "qat"
    bits: int = 8
    p_min: float = 0.0
    p_max: float = 0.1
    percentile: float = 0.1
    momentum: float = 0.1
    buckets: int = 32
    init_bits: float = 4.0
    target_bits: float = 4.0

    def __post_init__(self) -> None:
        if self.method not in QUANT_METHODS:
            raise BridgeConfigError(f"unknown quantization method {self.method!r}; allowed: "
                                    f"{', '.join(QUANT_METHODS)}")
        if not 2 <= self.bits <= 16:
            raise BridgeConfigError(f"bits={self.bits} is out of range; allowed 2..16")
        if not 0.0 <= self.p_min <= self.p_max <= 1.0:
            raise BridgeConfigError(f"need 0 <= p_min <= p_max <= 1, got {self.p_min}, "
                                    f"{self.p_max}")


def _ste_round(x: Tensor) -> Tensor:
    return x + (torch.round(x) - x).detach()


def fake_quant_weight(w: Tensor, bits: int) -> tuple[Tensor, Tensor]:
    """Symmetric per-tensor fake quantization; returns (quantized weight, scale)."""
    qmax = 2 ** (bits - 1) - 1
    scale = (w.detach().abs().max() / qmax).clamp_min(1e-12)
    q = torch.clamp(_ste_round(w / scale), -qmax, qmax)
    return q * scale, scale


def fake_quant_affine(x: Tensor, lo: Tensor, hi: Tensor, bits: int) -> tuple[Tensor, Tensor,
                                                                              Tensor]:
    """Asymmetric fake quantization onto ``[0, 2^bits - 1]`` for the range ``[lo, hi]``.

    Returns ``(x_hat, scale, zero_point)``; ``x_hat / scale + zero_point`` is an integer
    in the grid for every element. The gradient passes straight through inside the range.
    """
    levels = 2 ** bits - 1
    lo = torch.minimum(lo, torch.zeros_like(lo))  # the range always holds 0 exactly
    hi = torch.maximum(hi, torch.zeros_like(hi))
    scale = ((hi - lo) / levels).clamp_min(1e-12)
    zp = torch.round(-lo / scale)
    q = torch.clamp(_ste_round(x / scale) + zp, 0, levels)
    return (q - zp) * scale, scale, zp


def _subsample(flat: Tensor, generator: torch.Generator | None, k: int = 100_000) -> Tensor:
    """At most ``k`` entries drawn (seeded) from ``flat``: percentiles of a large input
    (Cora's 3.9 M features) are estimated from a sample, at a fraction of the cost."""
    if flat.numel() <= k:
        return flat
    return flat[torch.randint(flat.numel(), (k,), generator=generator)]


def protection_probability(degree: Tensor, p_min: float, p_max: float) -> Tensor:
    """Degree-Quant's per-node protection probability (in-degree min-max scaled).

    >>> protection_probability(torch.tensor([1, 3, 5]), 0.0, 0.2)
    tensor([0.0000, 0.1000, 0.2000])
    """
    d = degree.float()
    span = (d.max() - d.min()) if d.numel() else torch.zeros(())
    r = (d - d.min()) / span if float(span) > 0 else torch.zeros_like(d)
    return p_min + (p_max - p_min) * r


class QuantLinear(nn.Module):
    """An ``nn.Linear`` with fake-quantized weight and input (see the module docstring).

    It shares the original layer's ``weight`` and ``bias`` parameters, so a pruned model's
    masks and a trained model's values carry over.
    """

    degree: Tensor | None

    def __init__(self, linear: nn.Linear, scheme: QuantScheme,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.weight = linear.weight
        self.bias = linear.bias
        self.node_level = bool(getattr(linear, "node_level", False))
        self.scheme = scheme
        self.generator = generator
        self.degree = None
        self.register_buffer("lo", torch.zeros(()))
        self.register_buffer("hi", torch.zeros(()))
        self.register_buffer("seen", torch.zeros((), dtype=torch.bool))
        self.register_buffer("unsigned", torch.zeros((), dtype=torch.bool))
        self.a2q = scheme.method == "a2q" and self.node_level
        if self.a2q:
            self.bits = nn.Parameter(torch.full((scheme.buckets,), float(scheme.init_bits)))
            self.log_step = nn.Parameter(torch.zeros(scheme.buckets))
        self.last_protected: Tensor | None = None

    # -- inputs -----------------------------------------------------------------------
    def _observe(self, x: Tensor) -> None:
        if self.scheme.method == "dq" and x.numel() > 1:
            p = self.scheme.percentile / 100.0
            flat = _subsample(x.detach().flatten(), self.generator)
            lo, hi = torch.quantile(flat, torch.tensor([p, 1.0 - p]))
        else:
            lo, hi = x.detach().min(), x.detach().max()
        if not bool(self.seen):
            self.lo.copy_(lo)
            self.hi.copy_(hi)
            self.seen.fill_(True)
        else:
            m = self.scheme.momentum
            self.lo.mul_(1 - m).add_(m * lo)
            self.hi.mul_(1 - m).add_(m * hi)

    def _a2q_input(self, x: Tensor) -> Tensor:
        assert self.degree is not None, "A²Q needs the graph's in-degrees (model forward)"
        bucket = self.degree.clamp(max=self.scheme.buckets - 1)
        if not bool(self.seen):
            with torch.no_grad():
                # Non-negative inputs (after ReLU, bag-of-words) get the unsigned grid
                # [0, 2^b - 1]; the step starts at the 99.9th percentile of the non-zero
                # magnitudes over the grid's top level (LSQ's mean-based start rounds the
                # small values of sparse inputs to zero; a max-based one wastes the grid
                # on outliers).
                self.unsigned.fill_(bool(x.min() >= 0))
                mag = x.detach().abs().flatten()
                mag = _subsample(mag[mag > 0], self.generator)
                top = float(torch.quantile(mag, 0.999)) if mag.numel() else 1.0
                self.log_step.fill_(math.log(max(top / self._qmax(self.scheme.init_bits),
                                                  1e-8)))
            self.seen.fill_(True)
        b = _ste_round(self.bits.clamp(2.0, 16.0))[bucket].unsqueeze(1)
        s = self.log_step.exp()[bucket].unsqueeze(1)
        v = _ste_round(x / s)
        if bool(self.unsigned):
            return torch.minimum(v.clamp_min(0), 2 ** b - 1) * s
        qmax = 2 ** (b - 1) - 1
        return torch.maximum(torch.minimum(v, qmax), -qmax) * s

    def _qmax(self, bits: float) -> float:
        return 2 ** bits - 1 if bool(self.unsigned) else 2 ** (bits - 1) - 1

    def quantize_input(self, x: Tensor) -> Tensor:
        if self.a2q:
            return self._a2q_input(x)
        if self.training or not bool(self.seen):
            self._observe(x)
        xq, _, _ = fake_quant_affine(x, self.lo, self.hi, self.scheme.bits)
        if (self.scheme.method == "dq" and self.training and self.node_level
                and self.degree is not None and self.degree.numel() == x.shape[0]):
            p = protection_probability(self.degree, self.scheme.p_min, self.scheme.p_max)
            keep = torch.rand(p.shape, generator=self.generator) < p
            self.last_protected = keep
            xq = torch.where(keep.unsqueeze(1), x, xq)
        return xq

    def forward(self, x: Tensor) -> Tensor:
        wq, _ = fake_quant_weight(self.weight, self.scheme.bits)
        return nn.functional.linear(self.quantize_input(x), wq, self.bias)

    def feature_bits(self) -> Tensor:
        """Bit-width each node of the last batch used for this layer's input, shape (N,)."""
        if self.a2q and self.degree is not None:
            b = torch.round(self.bits.clamp(2.0, 16.0))
            return b[self.degree.clamp(max=self.scheme.buckets - 1)]
        n = 0 if self.degree is None else self.degree.numel()
        return torch.full((n,), float(self.scheme.bits))


def _push_degree(model: nn.Module, args: tuple[object, ...]) -> None:
    from .models import Graph, in_degree

    g = args[0] if args else None
    if isinstance(g, Graph):
        deg = in_degree(g.edge_index, g.x.shape[0])
        for m in model.modules():
            if isinstance(m, QuantLinear):
                m.degree = deg


def quantize_model(model: nn.Module, scheme: QuantScheme, *, seed: int = 0) -> nn.Module:
    """Swap every ``nn.Linear`` of ``model`` for a :class:`QuantLinear` (in place).

    Pruning masks are folded in first (a pruned weight stays zero: zero quantizes to 0).
    Returns the model, which now has a forward pre-hook that hands each layer the batch's
    in-degrees.
    """
    from .pruning import make_permanent

    make_permanent(model)
    gen = torch.Generator().manual_seed(seed)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear):
                setattr(parent, name, QuantLinear(child, scheme, gen))
    model.register_forward_pre_hook(_push_degree)
    return model


def quant_layers(model: nn.Module) -> list[QuantLinear]:
    return [m for m in model.modules() if isinstance(m, QuantLinear)]


def memory_penalty(model: nn.Module, target_bits: float) -> Tensor:
    """A²Q's memory term ``(mean feature bits - target)^2`` over the last batch.

    The mean is over nodes and weighted by each layer's input width (the bits the layer's
    input features occupy); it is differentiable in the bit-widths. Zero when the model has
    no A²Q layer.
    """
    total = torch.zeros(())
    width = 0
    for m in quant_layers(model):
        if m.a2q and m.degree is not None:
            bucket = m.degree.clamp(max=m.scheme.buckets - 1)
            total = total + m.bits.clamp(2.0, 16.0)[bucket].mean() * m.in_features
            width += m.in_features
    if width == 0:
        return torch.zeros(())
    return (total / width - target_bits) ** 2


def _pack_int4(q: Tensor) -> Tensor:
    u = (q.flatten().to(torch.int16) + 8).to(torch.uint8)  # [-7, 7] -> [1, 15]
    if u.numel() % 2:
        u = torch.cat([u, torch.zeros(1, dtype=torch.uint8)])
    return u[0::2] | (u[1::2] << 4)


def export_quantized(model: nn.Module) -> dict[str, Tensor]:
    """The deployable state: integer weights (int8, or two int4 per byte) with their
    scales, everything else (biases, batch norm, A²Q's learned steps) in fp32."""
    out: dict[str, Tensor] = {}
    qnames = set()
    for name, m in model.named_modules():
        if isinstance(m, QuantLinear):
            bits = m.scheme.bits
            qmax = 2 ** (bits - 1) - 1
            scale = (m.weight.detach().abs().max() / qmax).clamp_min(1e-12)
            q = torch.clamp(torch.round(m.weight.detach() / scale), -qmax, qmax)
            out[f"{name}.weight_q"] = _pack_int4(q) if bits <= 4 else q.to(torch.int8)
            out[f"{name}.weight_scale"] = scale.float()
            qnames.add(f"{name}.weight")
    for k, v in model.state_dict().items():
        if k not in qnames and k not in out:
            out[k] = v.detach().clone()
    return out


def saved_bytes(state: dict[str, Tensor]) -> int:
    """Bytes of ``torch.save(state)``: the real size on disk, container included."""
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.tell()


def theoretical_bits(model: nn.Module) -> int:
    """Bits the weights need: quantized weights at their bit-width, other parameters at 32.

    A²Q's learned bit-widths and steps are counted at 32 bits each.
    """
    total = 0
    q_ids = set()
    for m in quant_layers(model):
        total += m.weight.numel() * m.scheme.bits
        q_ids.add(id(m.weight))
    for p in model.parameters():
        if id(p) not in q_ids:
            total += p.numel() * 32
    return total
