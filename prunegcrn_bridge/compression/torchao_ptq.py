"""Post-training int8 quantization with torchao, the modern baseline.

torchao is the maintained successor of ``torch.ao.quantization`` (deprecated). Its
``Int8DynamicActivationInt8WeightConfig`` stores every ``nn.Linear`` weight as int8 (per
output channel) and quantizes activations to int8 on the fly; no training is involved.
Importing torchao on a CPU-only build logs that its CUDA kernels are missing; that noise
is silenced here.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os

from torch import nn

__all__ = ["int8_ptq"]


def _import_torchao():  # type: ignore[no-untyped-def]
    # torchao registers an Enum with torch's pytree, which logs a deprecation notice (not a
    # Python warning) at import or at first use, in whichever process: keep it off for good.
    logging.getLogger("torch.utils._pytree").setLevel(logging.ERROR)
    quiet = logging.getLogger("torchao")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            os.environ.setdefault("TORCHAO_SKIP_LOADING_SO_FILES", "1")
            from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_
    finally:
        quiet.setLevel(level)
    return quantize_, Int8DynamicActivationInt8WeightConfig


def int8_ptq(model: nn.Module) -> nn.Module:
    """Quantize ``model``'s ``nn.Linear`` layers to int8 in place with torchao; returns it."""
    from .pruning import make_permanent

    quantize_, config = _import_torchao()
    make_permanent(model)
    model.eval()
    quantize_(model, config())
    return model
