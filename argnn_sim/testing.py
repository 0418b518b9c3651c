"""Helpers for tests, the project's and its users': whole-result comparisons.

:func:`assert_same_result` is what every equivalence test uses (engine against engine,
in a process against in a worker, saved against loaded): two runs of one scenario and seed
must agree on everything a run produces, bit for bit, except how long it took and which
engine ran it.

>>> from argnn_sim import Scenario, simulate
>>> sc = Scenario.from_dict({"schedule": {"inputs": 20}, "record": {"traces": "prunes"}})
>>> assert_same_result(simulate(sc, 3), simulate(sc, 3, engine="batch"))
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .results import RunResult

__all__ = ["assert_same_result", "result_differences"]

#: fields compared with ``==`` (plain Python values: lists, dicts, numbers)
EXACT_FIELDS = ("scenario", "seed", "error", "per_row_errors", "eval_rows", "prune_events",
                "edges_before", "edges_after", "labels", "counters")
#: fields holding dicts of NumPy arrays, compared array by array
ARRAY_FIELDS = ("initial_edges", "final_edges", "curves", "traces")


def _same_float(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN (an unevaluated run's error)."""
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return True
    return bool(a == b)


def result_differences(a: RunResult, b: RunResult, *,
                       ignore: Iterable[str] = ()) -> list[str]:
    """What differs between two results, one line per field (empty when they agree).

    Parameters
    ----------
    a
        Two results.
    b
        Two results.
    ignore
        Field names not to compare.

    Returns
    -------
    list of str

    Examples
    --------
    >>> from argnn_sim import Scenario, simulate
    >>> sc = Scenario.from_dict({"schedule": {"inputs": 5}})
    >>> result_differences(simulate(sc, 1), simulate(sc, 2))[:1]
    ['seed: 1 != 2']
    """
    skip = set(ignore)
    out = []
    for f in EXACT_FIELDS:
        if f in skip:
            continue
        x, y = getattr(a, f), getattr(b, f)
        if not _same_float(x, y):
            out.append(f"{f}: {_short(x)} != {_short(y)}")
    if "metrics" not in skip:
        for k in sorted(set(a.metrics) | set(b.metrics)):
            x, y = a.metrics.get(k), b.metrics.get(k)
            if not _same_value(x, y):
                out.append(f"metrics.{k}: {_short(x)} != {_short(y)}")
    for f in ARRAY_FIELDS:
        if f in skip:
            continue
        x, y = getattr(a, f), getattr(b, f)
        if set(x) != set(y):
            out.append(f"{f}: keys {sorted(x)} != {sorted(y)}")
            continue
        for k in sorted(x):
            u, v = np.asarray(x[k]), np.asarray(y[k])
            if u.shape != v.shape or u.dtype != v.dtype or not np.array_equal(u, v,
                                                                              equal_nan=_nan_ok(u)):
                out.append(f"{f}.{k}: arrays differ (shapes {u.shape}, {v.shape})")
    return out


def _same_value(x: Any, y: Any) -> bool:
    """Equal bit for bit, NaN equal to NaN, through lists, tuples, dicts and arrays (a
    task's metrics)."""
    if isinstance(x, dict) and isinstance(y, dict):
        return set(x) == set(y) and all(_same_value(x[k], y[k]) for k in x)
    if isinstance(x, (list, tuple, np.ndarray)) or isinstance(y, (list, tuple, np.ndarray)):
        u, v = np.asarray(x), np.asarray(y)
        return u.shape == v.shape and np.array_equal(u, v, equal_nan=_nan_ok(u) and _nan_ok(v))
    return _same_float(x, y)


def _nan_ok(u: np.ndarray) -> bool:
    return u.dtype.kind in "fc"


def _short(x: Any) -> str:
    text = repr(x)
    return text if len(text) <= 120 else text[:117] + "..."


def assert_same_result(a: RunResult, b: RunResult, *, ignore: Iterable[str] = ()) -> None:
    """Assert that two runs agree bit for bit on everything but timings and engine.

    Compares the scenario, seed, errors, evaluation order, prune events, edge counts and
    labels, counters (activations, checks, messages, faults), the task's metrics (NaN
    equal to NaN), and every array: initial and final edges, curves and traces.

    Parameters
    ----------
    a
        Two results of the same scenario and seed.
    b
        Two results of the same scenario and seed.
    ignore
        Field names not to compare.

    Returns
    -------
    None

    Raises
    ------
    AssertionError
        Listing every field that differs.

    Examples
    --------
    >>> from argnn_sim import Scenario, simulate
    >>> sc = Scenario.from_dict({"schedule": {"inputs": 5}})
    >>> assert_same_result(simulate(sc, 1), simulate(sc, 1))
    """
    diff = result_differences(a, b, ignore=ignore)
    if diff:
        raise AssertionError("results differ:\n  " + "\n  ".join(diff))
