"""The study's three pruning methods, on the ``nn.Linear`` weights of a model.

1. ``l2``: L2-norm regularization while training, ``loss + lam * sum_W ||W||_2`` over the
   weight tensors (the norm, not its square), swept over ``lam``. It prunes nothing by
   itself; :func:`sparsity` reports how many weights it drove to (near) zero.
2. ``fine`` (fine-grained magnitude pruning): ``torch.nn.utils.prune.l1_unstructured`` on
   every weight tensor, the same fraction in each; biases untouched.
3. ``global`` (global unstructured L1): ``torch.nn.utils.prune.global_unstructured`` with
   one magnitude threshold across all weight tensors, so tensors end with different
   sparsities.

(2) and (3) are applied to a trained model and then fine-tuned with the masks in place:
``torch.nn.utils.prune`` recomputes ``weight = weight_orig * weight_mask`` before every
forward, so pruned weights stay exactly zero however the optimiser moves
``weight_orig``. :func:`make_permanent` folds the masks into plain weights.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor, nn
from torch.nn.utils import prune

from ..errors import BridgeConfigError

__all__ = ["PRUNING_METHODS", "weight_modules", "prune_model", "prune_fine",
           "prune_global", "l2_norm_penalty", "sparsity", "make_permanent", "masks", "detach_pruned"]

PRUNING_METHODS = ("fine", "global", "l2")


def weight_modules(model: nn.Module) -> list[nn.Module]:
    """The modules whose ``weight`` the pruners act on: every ``nn.Linear``."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def _check_amount(amount: float) -> None:
    if isinstance(amount, int) and not isinstance(amount, bool):
        if amount < 0:
            raise BridgeConfigError(f"pruning count {amount} is negative; give a number >= 0")
        return
    if not 0.0 <= amount < 1.0:
        raise BridgeConfigError(f"sparsity {amount!r} is out of range; give a fraction "
                                "in [0, 1), e.g. 0.5, or a whole number of weights")


def prune_fine(model: nn.Module, amount: float) -> nn.Module:
    """Prune the ``amount`` fraction (or, an int, that many) of smallest-magnitude entries of
    each weight tensor."""
    _check_amount(amount)
    for m in weight_modules(model):
        prune.l1_unstructured(m, "weight", amount=amount)
    return model


def prune_global(model: nn.Module, amount: float,
                 importance: dict[nn.Module, Tensor] | None = None) -> nn.Module:
    """Prune the ``amount`` fraction (or, an int, exactly that many) of smallest-magnitude
    weights across all tensors. ``importance``: optional scores per module (the shape of
    its weight) ranked instead of the magnitudes, e.g. magnitudes scaled per node."""
    _check_amount(amount)
    mods = weight_modules(model)
    params = [(m, "weight") for m in mods]
    scores = None if importance is None else {(m, "weight"): importance[m] for m in mods}
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=amount,
                              importance_scores=scores)
    return model


def prune_model(model: nn.Module, method: str, amount: float) -> nn.Module:
    """Apply ``fine`` or ``global`` pruning in place; returns the model."""
    if method == "fine":
        return prune_fine(model, amount)
    if method == "global":
        return prune_global(model, amount)
    raise BridgeConfigError(f"unknown pruning method {method!r}; allowed: fine, global "
                            "(l2 is a training-time regularizer: use l2_norm_penalty)")


def _weights(model: nn.Module) -> Iterator[Tensor]:
    for m in weight_modules(model):
        yield m.weight


def l2_norm_penalty(model: nn.Module) -> Tensor:
    """``sum_W ||W||_2`` over the weight tensors (Frobenius norm, not squared)."""
    return sum((w.norm(2) for w in _weights(model)), torch.zeros(()))


def sparsity(model: nn.Module, *, tol: float = 0.0) -> dict[str, float]:
    """Fraction of weights with ``|w| <= tol``, per tensor and overall (key ``"all"``)."""
    out: dict[str, float] = {}
    zeros = total = 0
    for name, m in model.named_modules():
        if isinstance(m, nn.Linear):
            w = m.weight.detach()
            z = int((w.abs() <= tol).sum())
            out[name] = z / w.numel()
            zeros += z
            total += w.numel()
    out["all"] = zeros / max(total, 1)
    return out


def masks(model: nn.Module) -> dict[str, Tensor]:
    """The pruning masks by module name (empty when nothing is pruned)."""
    return {name: m.weight_mask.detach().clone() for name, m in model.named_modules()
            if isinstance(m, nn.Linear) and hasattr(m, "weight_mask")}


def detach_pruned(model: nn.Module) -> nn.Module:
    """Make a pruned model deep-copyable after a forward pass; returns it.

    ``torch.nn.utils.prune`` stores ``weight = weight_orig * weight_mask`` as a plain
    attribute that, after a forward pass, is a non-leaf tensor, which ``copy.deepcopy``
    refuses. Replacing it by its detached value changes nothing: the pruning hook
    recomputes it before the next forward.
    """
    for m in weight_modules(model):
        if hasattr(m, "weight_orig"):
            m.weight = (m.weight_orig * m.weight_mask).detach()
    return model


def make_permanent(model: nn.Module) -> nn.Module:
    """Fold every pruning mask into its weight (``prune.remove``); returns the model."""
    for m in weight_modules(model):
        if prune.is_pruned(m) and hasattr(m, "weight_orig"):
            prune.remove(m, "weight")
    return model
