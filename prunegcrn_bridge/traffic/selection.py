"""Node selections that need no training: random and correlation (NumPy only, no torch).

Shared by PruneGCRN's comparison (:mod:`.experiment`) and the road comparison
(:mod:`prunegcrn_bridge.road`), so both pick the same sensors from the same data.
"""

from __future__ import annotations

import numpy as np

__all__ = ["random_nodes", "correlation_nodes"]


def random_nodes(num_nodes: int, keep: int, *, seed: int = 0) -> list[int]:
    """``keep`` nodes drawn uniformly without replacement (seeded), ascending.

    >>> random_nodes(10, 3, seed=1)
    [3, 4, 7]
    """
    return sorted(np.random.default_rng(seed).choice(num_nodes, keep, replace=False).tolist())


def correlation_nodes(train_values: np.ndarray, keep: int) -> list[int]:
    """The ``keep`` nodes most correlated with the rest of the network, ascending.

    Criterion: Pearson correlation between node series over the training split (T, N);
    each node scores the mean absolute correlation with every other node; the ``keep``
    highest scores are kept (ties by lower index). Constant series score 0.

    >>> t = np.arange(50.0)
    >>> correlation_nodes(np.stack([t, 2 * t, np.sin(t), t + 1], axis=1), 2)
    [0, 1]
    """
    x = np.asarray(train_values, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.corrcoef(x.T)
    c = np.nan_to_num(c)
    np.fill_diagonal(c, 0.0)
    score = np.abs(c).sum(1) / max(x.shape[1] - 1, 1)
    return sorted(np.argsort(-score, kind="stable")[:keep].tolist())
