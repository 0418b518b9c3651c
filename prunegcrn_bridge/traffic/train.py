"""Training and evaluation of PruneGCRN and its baselines.

:func:`train` fits a :class:`~.model.PruneGCRN` on :class:`~.data.Windows`: Adam (lr 0.003),
batch 64, up to 100 epochs, early stopping after 15 epochs without a better validation MAE,
the best state saved to ``best.pt`` and loaded back with ``weights_only=True``; a tqdm bar;
``log.csv`` with one row per epoch (train and validation MAE, kept fraction, seconds).
The device is CUDA when available, else the CPU; on a GPU ``bf16=True`` turns on bfloat16
autocast and ``compile=True`` wraps the model in ``torch.compile``. On the CPU, the same seed
gives the same numbers (``torch.use_deterministic_algorithms`` for the run).

Selection modes (``mode``):

``learned``
    PruneGCRN: the raw mask learns, loss ``fit x (1 + mean(mask) - gamma)``; with ``keep``
    the mask is a hard top-``keep`` budget.
``fixed``
    the same backbone with a fixed, given node set (``nodes``): the random and correlation
    baselines, and ``all`` nodes for the unpruned model. Masked nodes still get the learned
    graph bias, so every method has the same backbone and the same budget.

:func:`evaluate` scores the test windows on the original scale with
:func:`argnn_sim.metrics.forecast_metrics` under the windows' protocol (``tgcn``: steps
1..k pooled; otherwise each step alone, and every step together), over all nodes and over
the kept nodes, under the headline definition (``TrainConfig.metric``, ``all`` by default:
every entry) with the other definition's MAE and RMSE as extra, labelled entries. The
validation MAE that picks the checkpoint counts every entry too. Validation and test run in
fp32 whatever the training precision.

The loss is L1 (or L2, ``TrainConfig.loss``) on the scaled values, or with
``loss_scale = "original"`` on the readings themselves, the model's output read on the
original scale (AGCRN's ``real_value``); the protocols set these (:func:`config_for`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from argnn_sim.metrics import METRIC_KEYS

from .data import Windows
from .model import PruneGCRN, prune_loss
from .protocol import PROTOCOLS, Protocol, get_protocol
from .selection import correlation_nodes, random_nodes

__all__ = ["TrainConfig", "train", "evaluate", "pick_device", "config_for",
           "random_nodes", "correlation_nodes", "weekly_slot_mean", "last_value",
           "window_mean"]


@dataclass(frozen=True)
class TrainConfig:
    """Training settings (defaults: the PruneGCRN/AGCRN recipe)."""

    epochs: int = 100
    patience: int = 15
    lr: float = 0.003
    batch_size: int = 64
    gamma: float = 0.25
    embed_dim: int = 10
    hidden: int = 64
    layers: int = 2
    silence_senders: bool = False
    mask_init: float = 1.0
    mask_lr: float | None = None
    mask_optimizer: str = "adam"
    soft_loss: str = "linear"
    threshold: float = 0.5
    bf16: bool = False
    compile: bool = False
    device: str | None = None
    progress: bool = False
    max_batches: int | None = None  # per epoch; for smoke tests
    loss: str = "l1"             # l1 | l2
    loss_scale: str = "scaled"   # scaled | original (AGCRN's real_value: output read as readings)
    init: str = "default"        # default | agcrn (Xavier-uniform, U(0, 1) for 1-d parameters)
    metric: str = "all"          # the headline metric definition: all | masked

    def __post_init__(self) -> None:
        from ..errors import BridgeConfigError

        for name in ("epochs", "patience", "batch_size", "embed_dim", "hidden", "layers"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 1_000_000:
                raise BridgeConfigError(f"{name} = {v!r}: give a whole number from 1 to "
                                        "1,000,000 (--" + name.replace("_", "-") + ")")
        if not (isinstance(self.lr, (int, float)) and math.isfinite(self.lr) and self.lr > 0):
            raise BridgeConfigError(f"lr = {self.lr!r}: give a finite learning rate > 0")
        if not (isinstance(self.gamma, (int, float)) and 0 <= self.gamma <= 1):
            raise BridgeConfigError(f"gamma = {self.gamma!r}: give a share in [0, 1] (--gamma)")
        if not (isinstance(self.threshold, (int, float)) and 0 < self.threshold < 1):
            raise BridgeConfigError(f"threshold = {self.threshold!r}: give the clamp threshold "
                                    "in (0, 1) (--threshold)")
        if not (isinstance(self.mask_init, (int, float)) and math.isfinite(self.mask_init)
                and self.mask_init >= self.threshold):
            raise BridgeConfigError(f"mask_init = {self.mask_init!r}: give a finite start value"
                                    f" >= the clamp threshold {self.threshold:g} (every node "
                                    "starts kept; --mask-init)")
        if self.mask_lr is not None and not (isinstance(self.mask_lr, (int, float)) and
                                             math.isfinite(self.mask_lr) and self.mask_lr > 0):
            raise BridgeConfigError(f"mask_lr = {self.mask_lr!r}: give a finite learning rate "
                                    "> 0 for the raw mask (--mask-lr), or leave it out")
        if self.mask_optimizer not in ("adam", "sgd"):
            raise BridgeConfigError(f"mask_optimizer = {self.mask_optimizer!r}: choose adam or "
                                    "sgd (--mask-optimizer)")
        if self.soft_loss not in ("linear", "hinge"):
            raise BridgeConfigError(f"soft_loss = {self.soft_loss!r}: choose linear or hinge "
                                    "(--soft-loss)")
        if self.max_batches is not None and self.max_batches < 1:
            raise BridgeConfigError(f"max_batches = {self.max_batches!r}: give at least 1")
        for name, allowed in (("loss", ("l1", "l2")), ("loss_scale", ("scaled", "original")),
                              ("init", ("default", "agcrn")), ("metric", ("all", "masked"))):
            if getattr(self, name) not in allowed:
                raise BridgeConfigError(f"{name} = {getattr(self, name)!r}: choose "
                                        f"{' or '.join(allowed)} (--{name.replace('_', '-')})")
        if self.device is not None and str(self.device).split(":")[0] not in (
                "cpu", "cuda", "mps", "xpu"):
            raise BridgeConfigError(f"--device {self.device!r}: choose cpu or cuda")


SGD_MASK_LR = 5.0  # the raw mask's SGD step when --mask-lr is not given


def config_for(protocol: str | Protocol, **changes: Any) -> TrainConfig:
    """The training settings a protocol comes with (loss, its scale, initialization,
    optimizer, epochs, patience), then ``changes``.

    >>> config_for("agcrn").loss_scale, config_for("tgcn", epochs=3).epochs
    ('original', 3)
    """
    p = get_protocol(protocol) if isinstance(protocol, str) else protocol
    base = TrainConfig(epochs=p.epochs, patience=p.patience, lr=p.lr, batch_size=p.batch_size,
                       loss=p.loss, loss_scale=p.loss_scale, init=p.init)
    return replace(base, **changes)


def pick_device(name: str | None = None) -> torch.device:
    if name:
        dev = torch.device(name)
        if dev.type == "cuda" and not torch.cuda.is_available():
            from ..errors import BridgeConfigError

            raise BridgeConfigError(f"--device {name}: this machine has no CUDA device; use "
                                    "--device cpu (or leave it out)")
        return dev
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextlib.contextmanager
def _deterministic(seed: int, device: torch.device) -> Iterator[None]:
    """Seeded, and on the CPU deterministic algorithms only.

    ``use_deterministic_algorithms`` also fills every new tensor's memory by default (a
    guard against reading uninitialised memory, not a source of determinism); that fill
    cost 20-40 % of a training step, so it is off for the run.
    """
    det = torch.utils.deterministic  # type: ignore[attr-defined]
    prev = torch.are_deterministic_algorithms_enabled(), det.fill_uninitialized_memory
    with torch.random.fork_rng(devices=[] if device.type == "cpu" else [device]):
        torch.manual_seed(seed)
        if device.type == "cpu":
            torch.use_deterministic_algorithms(True)
            det.fill_uninitialized_memory = False
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(prev[0])
            det.fill_uninitialized_memory = prev[1]


def _batches(n: int, size: int, gen: torch.Generator | None) -> list[Tensor]:
    order = torch.randperm(n, generator=gen) if gen is not None else torch.arange(n)
    return list(order.split(size))


def evaluate(pred: np.ndarray, true: np.ndarray, win: Windows | None = None, *,
             kept: Sequence[int] | None = None, definition: str = "all",
             mape_threshold: float | None = None) -> dict[str, Any]:
    """Test metrics on the original scale under ``win``'s protocol, from
    :func:`argnn_sim.metrics.forecast_metrics`.

    Parameters
    ----------
    pred
        (S, H, N, 1) forecasts and targets of the test windows, original scale (targets past
        the end of the series may be NaN; they are never scored).
    true
        (S, H, N, 1) forecasts and targets of the test windows, original scale (targets past
        the end of the series may be NaN; they are never scored).
    win
        The windows they came from (protocol, window counts); None: the ``default`` protocol
        over every window.
    kept
        Node numbers; adds ``kept_*`` entries scored over those nodes only.
    definition
        The headline definition (``all`` or ``masked``); the other one is added as extra,
        labelled entries under ``"masked"`` (or ``"all"``).
    mape_threshold
        MAPE's threshold (default: ``win``'s).

    Returns
    -------
    dict
        ``definition``, ``protocol``, ``mape_threshold``, ``steps`` (the steps a table
        reports) and, for all nodes and (``kept_``) the kept nodes: the headline metrics
        (``mae``, ``rmse``, ``mape``, ``accuracy``, ``r2``, ``var``) over every step and
        per step (``*_h``, a list over steps 1..H: step k alone, or steps 1..k pooled under
        T-GCN's protocol); the other definition's ``mae``, ``rmse`` and ``mape`` the same
        way under its name.
    """
    from argnn_sim.metrics import check_definition, forecast_metrics

    check_definition(definition)
    proto = win.protocol if win is not None else PROTOCOLS["default"]
    thr = (mape_threshold if mape_threshold is not None else
           win.mape_threshold if win is not None else 0.0)
    h = pred.shape[1]
    other = "masked" if definition == "all" else "all"
    out: dict[str, Any] = {"definition": definition, "protocol": proto.name,
                           "mape_threshold": float(thr), "pooled": proto.pooled,
                           "steps": [k for k in proto.steps if k <= h], other: {}}

    def part(k: int | None, sel: Any) -> tuple[np.ndarray, np.ndarray]:
        """Steps 1..k pooled (k None: every step) or step k alone, of the scored windows."""
        n = win.scored(h if k is None else k) if win is not None else pred.shape[0]
        if k is None:
            return pred[:n, :, sel], true[:n, :, sel]
        if proto.pooled:
            return pred[:n, :k, sel], true[:n, :k, sel]
        return pred[:n, k - 1, sel], true[:n, k - 1, sel]

    for prefix, sel in (("", slice(None)), ("kept_", kept)):
        if sel is None:
            continue
        sel = sel if isinstance(sel, slice) else list(sel)
        for d, into, keys in ((definition, out, METRIC_KEYS), (other, out[other],
                                                                ("mae", "rmse", "mape"))):
            avg = forecast_metrics(*part(None, sel), definition=d, mape_threshold=thr)
            per = [forecast_metrics(*part(k, sel), definition=d, mape_threshold=thr)
                   for k in range(1, h + 1)]
            for key in keys:
                into[f"{prefix}{key}"] = avg[key]
                into[f"{prefix}{key}_h"] = [m[key] for m in per]
    return out


def train(win: Windows, *, cfg: TrainConfig = TrainConfig(), mode: str = "learned",
          keep: int | None = None, nodes: Sequence[int] | None = None, seed: int = 0,
          out: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Train one model; returns metrics, kept nodes, raw-mask ranking and the log.

    ``mode="learned"`` learns the mask (soft, or hard top-``keep`` when ``keep`` is set);
    ``mode="fixed"`` keeps ``nodes`` (all nodes when None). ``out``: folder for
    ``best.pt`` and ``log.csv`` (a temporary folder when None).
    """
    import tempfile

    if mode not in ("learned", "fixed"):
        raise ValueError(f"mode={mode!r}; allowed: learned, fixed")
    device = pick_device(cfg.device)
    n = win.x["train"].shape[2]
    folder = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="prunegcrn-"))
    folder.mkdir(parents=True, exist_ok=True)
    with _deterministic(seed, device):
        model = PruneGCRN(n, keep=keep if mode == "learned" else None,
                          silence_senders=cfg.silence_senders, embed_dim=cfg.embed_dim,
                          hidden=cfg.hidden, layers=cfg.layers, mask_init=cfg.mask_init,
                          threshold=cfg.threshold, horizon=int(win.y["train"].shape[1])
                          ).to(device)
        if cfg.init == "agcrn":
            agcrn_init(model.backbone)
        if mode == "fixed":
            fixed = torch.zeros(n, device=device)
            fixed[torch.as_tensor(list(range(n)) if nodes is None else list(nodes),
                                  dtype=torch.long)] = 1.0
            model.mask.raw.data.copy_(fixed)
            model.mask.raw.requires_grad_(False)
        return _fit(model, win, cfg, mode, seed, device, folder)


def _optimizers(model: PruneGCRN, cfg: TrainConfig) -> tuple[Any, Any]:
    """Adam for the weights (and the mask, unless the mask has its own SGD)."""
    raw = model.mask.raw
    rest = [p for p in model.parameters() if p.requires_grad and p is not raw]
    groups: list[dict[str, Any]] = [{"params": rest}]
    mask_opt = None
    if raw.requires_grad and cfg.mask_optimizer == "sgd":
        mask_opt = torch.optim.SGD([raw], lr=cfg.mask_lr or SGD_MASK_LR)
    elif raw.requires_grad:
        groups.append({"params": [raw], "lr": cfg.mask_lr or cfg.lr})
    return torch.optim.Adam(groups, lr=cfg.lr), mask_opt


def _train_epoch(fwd: Any, xs: torch.Tensor, ys: torch.Tensor, cfg: TrainConfig, mode: str,
                 gen: torch.Generator, opts: tuple[Any, Any], autocast: Any,
                 device: torch.device) -> tuple[float, int]:
    """One pass over the training windows in batches drawn from ``gen``; returns the summed
    batch MAE (times the batch size) and the windows seen."""
    opt, mask_opt = opts
    tot, cnt = 0.0, 0
    batches = _batches(xs.shape[0], cfg.batch_size, gen)
    for i, idx in enumerate(batches):
        if cfg.max_batches is not None and i >= cfg.max_batches:
            break
        x, y = xs[idx.to(device)], ys[idx.to(device)]
        with autocast:
            pred, mask = fwd(x)
            diff = pred.float() - y
            mae = diff.abs().mean()
            fit = mae if cfg.loss == "l1" else (diff * diff).mean()
            loss = (prune_loss(fit, mask, cfg.gamma, cfg.soft_loss) if mode == "learned"
                    else fit)
        opt.zero_grad(set_to_none=True)
        if mask_opt is not None:
            mask_opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if mask_opt is not None:
            mask_opt.step()
        tot += float(mae.detach()) * len(idx)
        cnt += len(idx)
    return tot, cnt


def _fit(model: PruneGCRN, win: Windows, cfg: TrainConfig, mode: str, seed: int,
         device: torch.device, folder: Path) -> dict[str, Any]:
    from tqdm import tqdm

    data = {k: (torch.as_tensor(win.x[k], device=device), torch.as_tensor(win.y[k],
                                                                          device=device))
            for k in ("train", "val", "test")}
    opt, mask_opt = _optimizers(model, cfg)
    soft = mode == "learned" and model.mask.keep is None
    fwd = torch.compile(model) if cfg.compile else model
    autocast = (torch.autocast(device.type, dtype=torch.bfloat16) if cfg.bf16
                else contextlib.nullcontext())
    gen = torch.Generator().manual_seed(seed)
    best, best_epoch, bad = math.inf, -1, 0
    log: list[dict[str, float]] = []
    ckpt = folder / "best.pt"
    bar = tqdm(range(cfg.epochs), desc="epochs", disable=not cfg.progress)
    std = win.std
    original = cfg.loss_scale == "original"
    # the targets the loss and the validation compare with: scaled, or the readings
    target = {k: (torch.as_tensor(win.inverse(win.y[k]), device=device) if original
                  else data[k][1]) for k in ("train", "val")}
    unit = 1.0 if original else std  # one unit of the loss's scale, in readings
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        tot, cnt = _train_epoch(fwd, data["train"][0], target["train"], cfg, mode, gen,
                                (opt, mask_opt), autocast, device)
        val = _predict(fwd, data["val"][0], cfg, contextlib.nullcontext())  # fp32
        val_mae = float((val - target["val"]).abs().mean()) * unit
        kept = float(model.mask().detach().mean())
        # the soft loss selects on its own objective: MAE x (1 + kept - gamma)
        score = (float(prune_loss(torch.tensor(val_mae), torch.tensor([kept]), cfg.gamma,
                                  cfg.soft_loss)) if soft else val_mae)
        row = {"epoch": epoch, "train_mae": tot / max(cnt, 1) * unit, "val_mae": val_mae,
               "kept_fraction": kept, "val_score": score,
               "seconds": time.perf_counter() - t0}
        log.append(row)
        bar.set_postfix(val_mae=f"{val_mae:.3f}", kept=f"{kept:.2f}")
        if score < best:
            best, best_epoch, bad = score, epoch, 0
            _save_checkpoint(model.state_dict(), ckpt)
        else:
            bad += 1
            if bad >= cfg.patience:
                break
        _write_log(folder / "log.csv", log)  # a killed run still shows its curve
    _write_log(folder / "log.csv", log)
    model.load_state_dict(torch.load(ckpt, map_location=device, weights_only=True))
    model.eval()
    # evaluation in fp32, whatever the training precision
    test = _predict(model, data["test"][0], cfg, contextlib.nullcontext()).float().cpu().numpy()
    test = test if original else win.inverse(test)
    _, true = win.test_windows()
    kept_nodes = model.kept().cpu().tolist()
    metrics = evaluate(test, true, win, kept=kept_nodes, definition=cfg.metric)
    raw = model.mask.raw.detach().cpu().numpy()
    return {"metrics": metrics, "protocol": win.protocol.as_run(cfg), "kept": kept_nodes,
            "kept_fraction": len(kept_nodes) / raw.size,
            "ranking": np.argsort(-raw, kind="stable").tolist(),
            "raw_mask": raw.tolist(), "best_epoch": best_epoch,
            "best_val_mae": log[best_epoch]["val_mae"], "best_val_score": best,
            "epochs_run": len(log), "log": log,
            "epoch_seconds": float(np.mean([r["seconds"] for r in log]))}


def agcrn_init(module: nn.Module) -> None:
    """AGCRN's initialization: Xavier-uniform for every parameter of two or more
    dimensions, U(0, 1) for the others (its ``init_seed`` loop over ``parameters()``)."""
    for p in module.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)
        else:
            nn.init.uniform_(p)


@torch.no_grad()
def _predict(model: nn.Module, x: Tensor, cfg: TrainConfig, autocast: Any) -> Tensor:
    model.eval()
    outs = []
    for idx in torch.arange(x.shape[0], device=x.device).split(cfg.batch_size * 4):
        with autocast:
            outs.append(model(x[idx])[0].float())
    return torch.cat(outs)


def _save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """``torch.save`` into memory, then one atomic write: a full disk or a file-size limit
    is then an ``OSError`` with its errno (one line from the CLI), not torch's own
    RuntimeError from deep in its zip writer, and no checkpoint is ever half-written."""
    from argnn_sim.outputs import write_atomic

    buf = io.BytesIO()
    torch.save(state, buf)
    write_atomic(path, buf.getvalue())


def _write_log(path: Path, log: list[dict[str, float]]) -> None:
    from argnn_sim.outputs import write_atomic

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["epoch", "train_mae", "val_mae", "kept_fraction",
                                        "val_score", "seconds"])
    w.writeheader()
    w.writerows(log)
    write_atomic(path, buf.getvalue())


# ------------------------------------------------------------------------ baselines
def weekly_slot_mean(values: np.ndarray, train_steps: int, steps_per_day: int,
                     starts: np.ndarray, horizon: int = 12) -> np.ndarray:
    """Per node and weekly slot (time of day and weekday), the mean of the first
    ``train_steps`` readings; for windows whose targets start at series index ``starts``
    returns (S, horizon, N, 1). (Often called "historical average"; T-GCN's HA is
    :func:`window_mean`.)"""
    week = 7 * steps_per_day
    slots = np.arange(values.shape[0]) % week
    means = np.zeros((week, values.shape[1]))
    train = values[:train_steps]
    for s in range(week):
        rows = train[slots[:train_steps] == s]
        means[s] = rows.mean(0) if len(rows) else train.mean(0)
    idx = (starts[:, None] + np.arange(horizon)) % week
    return means[idx][..., None]


def window_mean(x_orig: np.ndarray, horizon: int = 12) -> np.ndarray:
    """T-GCN's HA: each step's forecast is the mean of the input window, which then rolls
    forward with that forecast appended (its ``baselines.py``); (S, T, N, 1) ->
    (S, horizon, N, 1). Step 1 is the plain mean of the window.

    >>> import numpy as np
    >>> window_mean(np.array([1.0, 2.0, 3.0, 6.0]).reshape(1, 4, 1, 1), 2).ravel().tolist()
    [3.0, 3.5]
    """
    window = np.asarray(x_orig, dtype=np.float64).copy()
    out = np.empty((window.shape[0], horizon) + window.shape[2:])
    for k in range(horizon):
        out[:, k] = window.mean(axis=1)
        window = np.concatenate([window[:, 1:], out[:, k:k + 1]], axis=1)
    return out


def last_value(x_orig: np.ndarray, horizon: int = 12) -> np.ndarray:
    """Repeat each window's last observed value: (S, T, N, 1) -> (S, horizon, N, 1)."""
    return np.repeat(x_orig[:, -1:], horizon, axis=1)
