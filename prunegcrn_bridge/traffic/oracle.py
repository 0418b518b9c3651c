"""A linear yardstick for node selection: how well do the kept sensors' pasts predict every
sensor's future, for a forecaster that is fitted exactly (ridge regression), not trained?

:func:`linear_mae` fits, on the training windows, one ridge regression from the kept
nodes' last ``lag`` readings (z-scored) to every node's next ``horizon`` readings, and
returns the test MAE on the original scale (every entry, the forecasters' default metric
definition). :func:`greedy` grows a kept set one node at a time, each time adding the node
that lowers the validation MAE most. No training: seconds on a 60-node network.

Used by ``scenarios/planted_budget.py`` to ask which selection is ideal at a given budget on
the planted synthetic data: the planted drivers, or another set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .data import Series, Windows, prepare

__all__ = ["linear_mae", "greedy"]


def _design(x: np.ndarray, kept: Sequence[int]) -> np.ndarray:
    """(S, lag, N, 1) windows -> (S, lag * k + 1) inputs of the kept nodes, with a constant."""
    z = x[:, :, list(kept), 0].reshape(x.shape[0], -1)
    return np.hstack([z, np.ones((z.shape[0], 1))])


def linear_mae(series: Series, kept: Sequence[int], *, part: str = "test", ridge: float = 1.0,
               horizon: int = 12, _win: Windows | None = None) -> float:
    """Test (or ``part``) MAE on the original scale of the ridge forecaster from ``kept``."""
    from argnn_sim.metrics import forecast_metrics

    win = _win if _win is not None else prepare(series)
    xt = _design(win.x["train"], kept)
    yt = win.y["train"][:, :horizon].reshape(xt.shape[0], -1)
    coef = np.linalg.solve(xt.T @ xt + ridge * np.eye(xt.shape[1]), xt.T @ yt)
    pred = (_design(win.x[part], kept) @ coef).reshape(win.y[part][:, :horizon].shape)
    return float(forecast_metrics(win.inverse(pred),
                                  win.inverse(win.y[part][:, :horizon]))["mae"])


def greedy(series: Series, k: int, *, candidates: Sequence[int] | None = None,
           ridge: float = 1.0) -> list[int]:
    """Forward selection of ``k`` nodes (from ``candidates``, default all) on validation MAE."""
    win = prepare(series)
    pool = list(range(series.num_nodes) if candidates is None else candidates)
    kept: list[int] = []
    for _ in range(k):
        scores = [(linear_mae(series, kept + [c], part="val", ridge=ridge, _win=win), c)
                  for c in pool if c not in kept]
        kept.append(min(scores)[1])
    return sorted(kept)


def yardstick(series: Series, fractions: Sequence[float], *, draws: int = 30,
              seed: int = 0) -> list[dict[str, object]]:
    """Rows per kept fraction: the linear forecaster's test MAE from the best ``k`` planted
    drivers (greedy among the drivers), from a greedy set over all nodes (with its driver
    precision), and from ``draws`` random sets (mean and sd); plus every node and every
    driver. Needs planted drivers (``series.drivers``)."""
    if series.drivers is None:
        raise ValueError("the yardstick needs planted drivers (synthetic data)")
    win = prepare(series)
    drv = [int(d) for d in series.drivers]
    n = series.num_nodes
    rows: list[dict[str, object]] = [
        {"selection": "all nodes", "k": n, "mae": linear_mae(series, range(n), _win=win)},
        {"selection": "all drivers", "k": len(drv), "mae": linear_mae(series, drv, _win=win)}]
    rng = np.random.default_rng(seed)
    for f in fractions:
        k = max(1, int(round(f * n)))
        if k >= n:
            continue
        best_drv = greedy(series, min(k, len(drv)), candidates=drv)
        any_set = greedy(series, k)
        rnd = [linear_mae(series, sorted(rng.choice(n, k, replace=False).tolist()), _win=win)
               for _ in range(draws)]
        rows += [{"selection": "best drivers" if k <= len(drv) else "all drivers", "k": k,
                  "fraction": f, "mae": linear_mae(series, best_drv, _win=win),
                  "precision": 1.0 if k <= len(drv) else len(drv) / k},
                 {"selection": "greedy, any node", "k": k, "fraction": f,
                  "mae": linear_mae(series, any_set, _win=win),
                  "precision": len(set(any_set) & set(drv)) / k},
                 {"selection": f"random ({draws} draws)", "k": k, "fraction": f,
                  "mae": float(np.mean(rnd)), "mae_sd": float(np.std(rnd, ddof=1)),
                  "precision": len(drv) / n}]
    return rows
