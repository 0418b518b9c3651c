"""Forecast metrics, written once, with named definitions (no torch).

Every traffic number of the project (the simulator's series task, the road comparison,
PruneGCRN and its references) comes from :func:`forecast_metrics`, on the original scale of
the readings. Which entries count is a named *definition*, carried by every metrics record:

``all``
    every entry (AGCRN's default, ``mae_thresh = None``; T-GCN's evaluation). The default
    everywhere.
``masked``
    only entries whose target is not 0 (a 0 is read as a missing reading).

MAPE always keeps its own threshold (``mape_threshold``): it counts the entries of the
definition whose target exceeds the threshold in absolute value (AGCRN's ``mape_thresh = 0``
counts targets > 0; SZ-taxi's speeds use 1 km/h, where relative error stops being bounded).
MAPE is a fraction (0.25 is 25 %).

Accuracy, R² and explained variance are T-GCN's (Zhao et al. 2019, IEEE T-ITS 21(9)):
``1 − ‖Y − Ŷ‖_F / ‖Y‖_F``, ``1 − Σ(Y − Ŷ)² / Σ(Y − Ȳ)²`` and ``1 − Var(Y − Ŷ) / Var(Y)``.

A table never mixes definitions: :func:`one_definition` is what every table writer calls on
the records of a column before writing it.

>>> import numpy as np
>>> y = np.array([0.0, 2.0, 4.0]); p = np.array([1.0, 2.0, 3.0])
>>> m = forecast_metrics(p, y)
>>> m["definition"], m["mae"], m["count"]
('all', 0.6666666666666666, 3)
>>> forecast_metrics(p, y, definition="masked")["mae"]
0.5
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import ArgnnError

__all__ = ["DEFINITIONS", "DEFINITION_TEXT", "METRIC_KEYS", "forecast_metrics",
           "check_definition", "one_definition", "definition_of", "MixedDefinitions"]

#: the named definitions of which entries a metric counts
DEFINITIONS = ("all", "masked")
#: how tables and figures name each definition
DEFINITION_TEXT = {
    "all": "every entry scored (zeros included), original scale",
    "masked": "entries with target ≠ 0 only (zeros read as missing), original scale",
}
#: the numbers a metrics record holds
METRIC_KEYS = ("mae", "rmse", "mape", "accuracy", "r2", "var")


class MixedDefinitions(ArgnnError):
    """Records of one table column were computed under different metric definitions."""


def check_definition(definition: str, *, what: str = "--metric") -> str:
    """``definition`` if it is a known one, else an error naming the choices.

    >>> check_definition("all")
    'all'
    """
    if definition not in DEFINITIONS:
        raise ArgnnError(f"{what} {definition!r}: choose {' or '.join(DEFINITIONS)} "
                         "(all: every entry, the literature's default; masked: targets ≠ 0)")
    return definition


def forecast_metrics(pred: npt.ArrayLike, true: npt.ArrayLike, *, definition: str = "all",
                     mape_threshold: float = 0.0) -> dict[str, Any]:
    """MAE, RMSE, MAPE, accuracy, R² and explained variance of ``pred`` against ``true``.

    Parameters
    ----------
    pred
        Arrays of one shape, on the original scale; every entry is one forecast.
    true
        Arrays of one shape, on the original scale; every entry is one forecast.
    definition
        ``"all"`` (every entry) or ``"masked"`` (targets ≠ 0 only).
    mape_threshold
        MAPE counts the entries whose ``|true|`` exceeds it (and is not 0).

    Returns
    -------
    dict
        ``definition``, ``mape_threshold``, ``count`` (entries scored), ``mape_count`` and the
        :data:`METRIC_KEYS` as floats (NaN where nothing is counted).

    Examples
    --------
    >>> import numpy as np
    >>> m = forecast_metrics(np.array([1.0, 3.0]), np.array([2.0, 4.0]))
    >>> round(m["rmse"], 6), round(m["accuracy"], 6), m["mape"] == (0.5 + 0.25) / 2
    (1.0, 0.683772, True)
    """
    check_definition(definition, what="definition")
    p = np.asarray(pred, dtype=np.float64)
    y = np.asarray(true, dtype=np.float64)
    if p.shape != y.shape:
        raise ValueError(f"predictions {p.shape} and targets {y.shape} differ in shape")
    keep = np.ones(y.shape, dtype=bool) if definition == "all" else y != 0
    e = (p - y)[keep]
    t = y[keep]
    big = keep & (np.abs(y) > mape_threshold) & (y != 0)
    out: dict[str, Any] = {"definition": definition, "mape_threshold": float(mape_threshold),
                           "count": int(e.size), "mape_count": int(big.sum())}
    nan = math.nan
    if e.size == 0:
        out.update({k: nan for k in METRIC_KEYS})
        return out
    # a tiny target (say 1e-311) makes a relative error overflow: its MAPE is then inf, as it
    # should be, and not a warning turned into an error by a strict caller
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        sq = float(np.sum(e * e))
        out["mae"] = float(np.mean(np.abs(e)))
        out["rmse"] = math.sqrt(sq / e.size)
        out["mape"] = (float(np.mean(np.abs((p - y)[big]) / np.abs(y[big]))) if big.any()
                       else nan)
        norm_y = float(np.linalg.norm(t))
        out["accuracy"] = 1.0 - math.sqrt(sq) / norm_y if norm_y > 0 else nan
        spread = float(np.sum((t - t.mean()) ** 2))
        out["r2"] = 1.0 - sq / spread if spread > 0 else nan
        vy = float(np.var(t))
        out["var"] = 1.0 - float(np.var(e)) / vy if vy > 0 else nan
    return out


def definition_of(record: Mapping[str, Any], *, legacy: str = "masked") -> str:
    """The definition a metrics record (or a row holding one under ``metrics``) was computed
    under; records written before definitions were recorded get ``legacy``."""
    m = record.get("metrics", record)
    if isinstance(m, Mapping) and "definition" in m:
        return str(m["definition"])
    return str(record.get("definition", legacy))


def one_definition(records: Iterable[Mapping[str, Any]], *, column: str = "metrics",
                   legacy: str = "masked") -> str | None:
    """The one definition shared by ``records`` (None for no records); refuses a mixture.

    Every table writer calls this on the records whose numbers share a column.

    Raises
    ------
    MixedDefinitions
        The records were scored under more than one definition.

    Examples
    --------
    >>> one_definition([{"definition": "all"}, {"metrics": {"definition": "all"}}])
    'all'
    >>> one_definition([{"definition": "all"}, {"definition": "masked"}])
    Traceback (most recent call last):
    ...
    argnn_sim.metrics.MixedDefinitions: the column 'metrics' would mix metric definitions (all, masked); rescore the records on one definition
    """
    seen = {definition_of(r, legacy=legacy) for r in records}
    if len(seen) > 1:
        raise MixedDefinitions(f"the column {column!r} would mix metric definitions "
                               f"({', '.join(sorted(seen))}); rescore the records on one "
                               "definition")
    return next(iter(seen), None)
