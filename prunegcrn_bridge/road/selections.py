"""Centralized sensor selections read from PruneGCRN's runs: the kept sensors per fraction
and seed, and AGCRN's own forecasts from their checkpoints."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from argnn_sim.series import SeriesTask, split_lengths

from ..errors import BridgeConfigError


# ----------------------------------------------------------------------------- selections
def selection_runs(folders: Sequence[str], num_sensors: int, series: str
                    ) -> dict[str, Path]:
    """Every run file of the given ``traffic compare`` folders, by file name (a later
    folder's run of the same name wins; they are the same computation)."""
    runs: dict[str, Path] = {}
    for folder in folders:
        base = Path(folder)
        info = base / "compare.json"
        if not info.is_file():
            raise BridgeConfigError(f"--selections {str(base)!r} holds no compare.json; give "
                                    "the --out folder of `argnn traffic compare --data sz_taxi`")
        meta = json.loads(info.read_text(encoding="utf-8"))
        if meta.get("series") != series or meta.get("nodes") != num_sensors:
            raise BridgeConfigError(f"--selections {str(base)!r} holds PruneGCRN runs on "
                                    f"{meta.get('series')!r} ({meta.get('nodes')} nodes), not "
                                    f"{series!r} ({num_sensors} sensors)")
        for p in sorted((base / "runs").glob("*.json")):
            runs[p.name] = p
    return runs


def load_selections(folders: Sequence[str], fractions: Sequence[float],
                    seeds: int | Sequence[int], num_sensors: int, series: str
                    ) -> dict[tuple[float, int], list[int]]:
    """PruneGCRN's kept sensors per (fraction, seed) from ``traffic compare`` folders.

    A folder that is not one, or holds another series, is an error; a missing run is skipped
    (the table shows which exist). ``seeds``: a count (seeds 0 .. seeds - 1) or the seeds.
    """
    return kept_sensors(selection_runs(folders, num_sensors, series), fractions, seeds)


def _seeds(seeds: int | Sequence[int]) -> Sequence[int]:
    return range(seeds) if isinstance(seeds, int) else seeds


def kept_sensors(runs: Mapping[str, Path], fractions: Sequence[float], seeds: int | Sequence[int]
          ) -> dict[tuple[float, int], list[int]]:
    out: dict[tuple[float, int], list[int]] = {}
    for f in fractions:
        for s in _seeds(seeds):
            p = runs.get(f"prunegcrn-f{f:g}-s{s}.json")
            if f < 1 and p is not None:
                rec = json.loads(p.read_text(encoding="utf-8"))
                out[(f, s)] = sorted(int(i) for i in rec["kept"])
    return out


def check_protocol(folders: Sequence[str], protocol: str) -> None:
    """Every selections folder was trained under ``protocol`` (a folder written before
    protocols were recorded counts as ``default``)."""
    for folder in folders:
        meta = json.loads((Path(folder) / "compare.json").read_text(encoding="utf-8"))
        got = (meta.get("protocol") or {}).get("name", "default")
        if got != protocol:
            raise BridgeConfigError(f"--selections {folder!r} was trained under --protocol "
                                    f"{got}, not {protocol}; give --protocol {got} or "
                                    "selections of that protocol")


def agcrn_refs(runs: Mapping[str, Path], fractions: Sequence[float],
                seeds: int | Sequence[int],
                task: SeriesTask, steps_per_day: int, definition: str
                ) -> tuple[list[dict[str, Any]], str]:
    """PruneGCRN/AGCRN's own forecasts at each fraction (all nodes at 1), made by each run's
    checkpoint for the comparison's own scored test targets and scored by the same metric
    function as every other row; returns the rows and a note on what was left out."""
    from argnn_sim.metrics import forecast_metrics

    from ..traffic.data import Series
    from ..traffic.forecast import forecast_at, has_model

    series = Series(task.series.name, np.asarray(task.series.values),
                    np.asarray(task.series.adjacency), steps_per_day,
                    mape_threshold=task.series.mape_threshold)
    steps = np.asarray([t for t in task.test_steps() if task.scored(t)], dtype=np.int64)
    n = task.series.values.shape[0]
    tr, va, _ = split_lengths(n)
    idx = tr + va + steps + task.horizon  # the scored targets' series indices
    y = task.raw_test[steps + task.horizon]
    rows, missing = [], []
    for f in fractions:
        for s in _seeds(seeds):
            name = f"all-f1-s{s}" if f == 1 else f"prunegcrn-f{f:g}-s{s}"
            p = runs.get(f"{name}.json")
            if p is None:
                continue
            folder = p.parent.parent
            if not has_model(folder, name):
                missing.append(name)
                continue
            meta = json.loads((folder / "compare.json").read_text(encoding="utf-8"))
            from ..traffic.protocol import PROTOCOLS

            proto = meta.get("protocol") or PROTOCOLS["default"].settings()
            from ..traffic.data import split_lengths as traffic_split

            _, _, te = traffic_split(n, proto.get("split", "6:2:2"), proto.get("val_share",
                                                                               0.125))
            if idx.min() < n - te:
                raise BridgeConfigError(f"{folder}: its models saw some of this comparison's "
                                        "test targets in training or validation")
            pred = forecast_at(folder, name, series, idx, step=task.horizon)
            m = forecast_metrics(pred, y, definition=definition,
                                 mape_threshold=task.series.mape_threshold)
            rows.append({"method": "agcrn", "fraction": f, "seed": s, "definition": definition,
                         "protocol": proto.get("name", "default"),
                         **{k: m[k] for k in ("mae", "rmse", "mape", "accuracy", "r2", "var")},
                         "sensors_kept": None, "edges": None})
    note = ""
    if missing:
        note = (f"PruneGCRN/AGCRN's own forecasts are left out for {len(missing)} run(s) "
                f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}): their "
                "folder keeps no checkpoint (models/<run>/best.pt), so they cannot be scored "
                "on these targets.")
    return rows, note
