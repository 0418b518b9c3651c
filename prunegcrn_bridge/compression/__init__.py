"""The GNN compression study: three pruning and three quantization methods on Cora,
PROTEINS and BBBP (plus torchao's post-training int8 as the modern baseline).

Modules: :mod:`.data` (raw-folder loaders, splits), :mod:`.models` (GCN, GAE, GIN on
``nn.Linear``), :mod:`.tasks` (training and evaluation protocols), :mod:`.pruning`,
:mod:`.quant`, :mod:`.torchao_ptq`, :mod:`.measure` (honest sizes and latency),
:mod:`.study` (the resumable study, tables, plots) and :mod:`.cli` (``argnn compress``).
Names are imported lazily, so ``import prunegcrn_bridge.compression.cli`` needs no torch.
"""

from __future__ import annotations

from argnn_sim.registry import lazy_attributes

_EXPORTS = {
    "data": ("load_cora", "load_proteins", "load_bbbp"),
    "models": ("GCN", "GAE", "GIN", "GraphGCN"),
    "tasks": ("make_task",),
    "pruning": ("prune_fine", "prune_global", "l2_norm_penalty"),
    "quant": ("QuantScheme", "quantize_model"),
    "torchao_ptq": ("int8_ptq",),
    "measure": ("size_report", "latency"),
    "study": ("StudyConfig", "run_study", "run_single"),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__ = lazy_attributes(__name__, _EXPORTS)
