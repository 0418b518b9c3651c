"""A trained model's forecasts at any target time: what puts PruneGCRN/AGCRN beside other
forecasters on *their* test targets, scored by the same metric function.

:func:`forecast_at` reloads one model of an ``argnn traffic compare`` folder (its settings
in ``compare.json``, its record under ``runs/``, its checkpoint ``models/<key>/best.pt``)
and forecasts, for each target index ``j`` of the series, the reading at ``j`` from the
``lag`` readings before it (step 1 of the model's horizon, or ``step``), on the original
scale. The scaling is the protocol's, fitted on the same training part as when the model
was trained.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import BridgeConfigError
from .data import Series, prepare
from .protocol import Protocol

__all__ = ["forecast_at", "has_model"]


def has_model(folder: str | os.PathLike[str], key: str) -> bool:
    """Whether ``folder`` keeps the checkpoint of run ``key`` (``models/<key>/best.pt``)."""
    return (Path(folder) / "models" / key / "best.pt").is_file()


def _protocol(settings: dict[str, Any]) -> Protocol:
    p = dict(settings.get("protocol") or {"name": "default"})
    p.pop("changed", None)  # a run record's note of what it changed (Protocol.as_run)
    if "steps" in p:
        p["steps"] = tuple(p["steps"])
    return Protocol(**p)


def forecast_at(folder: str | os.PathLike[str], key: str, series: Series,
                targets: npt.ArrayLike, *, step: int = 1) -> np.ndarray:
    """Forecasts (len(targets), N) of run ``key`` of the comparison in ``folder`` for the
    series indices ``targets``, made ``step`` steps ahead, on the original scale.

    Raises
    ------
    BridgeConfigError
        No such run or checkpoint, another series, a target too early for the window.
    """
    import torch

    from .model import PruneGCRN

    base = Path(folder)
    info, rec_path, ckpt = base / "compare.json", base / "runs" / f"{key}.json", \
        base / "models" / key / "best.pt"
    for p in (info, rec_path, ckpt):
        if not p.is_file():
            raise BridgeConfigError(f"{p} not found: {base} holds no trained model {key!r} "
                                    "(give the --out folder of `argnn traffic compare`)")
    settings = json.loads(info.read_text(encoding="utf-8"))
    rec = json.loads(rec_path.read_text(encoding="utf-8"))
    if settings.get("series") != series.name or settings.get("nodes") != series.num_nodes:
        raise BridgeConfigError(f"{base} holds models of {settings.get('series')!r} "
                                f"({settings.get('nodes')} nodes), not {series.name!r}")
    proto = _protocol(settings)
    win = prepare(series, protocol=proto, scaler=settings.get("scaler") if proto.name ==
                  "default" else None)
    cfg = settings["train"]
    idx = np.asarray(targets, dtype=np.int64)
    lag = proto.lag
    if not 1 <= step <= proto.horizon:
        raise BridgeConfigError(f"step {step}: the model forecasts steps 1..{proto.horizon}")
    first = idx - step - lag + 1  # the window's first reading
    if idx.size and (first.min() < 0 or idx.max() >= series.values.shape[0]):
        raise BridgeConfigError(f"a target lies outside {lag + step - 1}..."
                                f"{series.values.shape[0] - 1}, where a window fits")
    x = series.values[first[:, None] + np.arange(lag)]  # (S, lag, N)
    z = ((x - win.mean) / win.std).astype(np.float32)[..., None]
    keep = rec.get("k") if rec.get("method") == "prunegcrn" else None
    model = PruneGCRN(series.num_nodes, keep=keep,
                      silence_senders=cfg.get("silence_senders", False),
                      embed_dim=cfg["embed_dim"], hidden=cfg["hidden"], layers=cfg["layers"],
                      mask_init=cfg.get("mask_init", 1.0), threshold=cfg.get("threshold", 0.5),
                      horizon=proto.horizon)
    model.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=True))
    model.eval()
    outs = []
    with torch.no_grad():
        for part in torch.as_tensor(z).split(256):
            outs.append(model(part)[0][:, step - 1, :, 0].double().numpy())
    pred = np.concatenate(outs) if outs else np.zeros((0, series.num_nodes))
    return pred if cfg.get("loss_scale") == "original" else win.inverse(pred)
