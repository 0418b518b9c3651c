"""The GNN compression study: three pruning and three quantization methods on Cora,
PROTEINS and BBBP (plus torchao's post-training int8 as the modern baseline).

Modules: :mod:`.data` (raw-folder loaders, splits), :mod:`.models` (GCN, GAE, GIN on
``nn.Linear``), :mod:`.tasks` (training and evaluation protocols), :mod:`.pruning`,
:mod:`.quant`, :mod:`.torchao_ptq`, :mod:`.measure` (honest sizes and latency),
:mod:`.study` (the resumable study, tables, plots) and :mod:`.cli` (``argnn compress``).
Names are imported lazily, so ``import prunegcrn_bridge.compression.cli`` needs no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "load_cora": "data", "load_proteins": "data", "load_bbbp": "data",
    "GCN": "models", "GAE": "models", "GIN": "models", "GraphGCN": "models",
    "make_task": "tasks", "prune_fine": "pruning", "prune_global": "pruning",
    "l2_norm_penalty": "pruning", "QuantScheme": "quant", "quantize_model": "quant",
    "int8_ptq": "torchao_ptq", "size_report": "measure", "latency": "measure",
    "StudyConfig": "study", "run_study": "study", "run_single": "study",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
