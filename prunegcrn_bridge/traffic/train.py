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
    PruneGCRN: the raw mask learns, loss ``MAE x (1 + mean(mask) - gamma)``; with ``keep``
    the mask is a hard top-``keep`` budget.
``fixed``
    the same backbone with a fixed, given node set (``nodes``): the random and correlation
    baselines, and ``all`` nodes for the unpruned model. Masked nodes still get the learned
    graph bias, so every method has the same backbone and the same budget.

:func:`evaluate` gives MAE, RMSE and MAPE on the original scale with zero targets masked,
per horizon step and averaged, over all nodes and over the kept nodes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .data import Windows
from .model import PruneGCRN, prune_loss

__all__ = ["TrainConfig", "train", "evaluate", "masked_metrics", "pick_device",
           "random_nodes", "correlation_nodes", "historical_average", "last_value"]


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
        if self.device is not None and str(self.device).split(":")[0] not in (
                "cpu", "cuda", "mps", "xpu"):
            raise BridgeConfigError(f"--device {self.device!r}: choose cpu or cuda")


SGD_MASK_LR = 5.0  # the raw mask's SGD step when --mask-lr is not given


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


def masked_metrics(pred: np.ndarray, true: np.ndarray, axis: Any = None,
                   mape_threshold: float = 0.0) -> dict[str, np.ndarray | float]:
    """MAE, RMSE over entries with ``true != 0`` (zeros are missing readings); MAPE over
    entries with ``|true| > mape_threshold`` (and non-zero)."""
    mask = true != 0
    err = np.where(mask, pred - true, 0.0)
    cnt = mask.sum(axis=axis)
    big = mask & (np.abs(true) > mape_threshold)
    with np.errstate(invalid="ignore", divide="ignore"):
        mae = np.abs(err).sum(axis=axis) / cnt
        rmse = np.sqrt((err ** 2).sum(axis=axis) / cnt)
        rel = np.abs(np.where(big, pred - true, 0.0)) / np.where(big, np.abs(true), 1.0)
        mape = rel.sum(axis=axis) / big.sum(axis=axis)
    return {"mae": mae, "rmse": rmse, "mape": mape}


def evaluate(pred: np.ndarray, true: np.ndarray, kept: Sequence[int] | None = None,
             mape_threshold: float = 0.0) -> dict[str, Any]:
    """Metrics on the original scale: averaged and per horizon (``*_h``), all nodes and,
    when ``kept`` is given, the kept nodes (``kept_*``). Arrays are (S, H, N, 1)."""
    out: dict[str, Any] = {"mape_threshold": mape_threshold}
    for prefix, sel in (("", slice(None)), ("kept_", kept)):
        if sel is None:
            continue
        p, t = pred[:, :, sel], true[:, :, sel]
        avg = masked_metrics(p, t, mape_threshold=mape_threshold)
        per_h = masked_metrics(p, t, axis=(0, 2, 3), mape_threshold=mape_threshold)
        for k in ("mae", "rmse", "mape"):
            out[f"{prefix}{k}"] = float(avg[k])
            out[f"{prefix}{k}_h"] = [float(v) for v in np.asarray(per_h[k])]
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
                          threshold=cfg.threshold).to(device)
        if mode == "fixed":
            fixed = torch.zeros(n, device=device)
            fixed[torch.as_tensor(list(range(n)) if nodes is None else list(nodes),
                                  dtype=torch.long)] = 1.0
            model.mask.raw.data.copy_(fixed)
            model.mask.raw.requires_grad_(False)
        return _fit(model, win, cfg, mode, seed, device, folder)


def _fit(model: PruneGCRN, win: Windows, cfg: TrainConfig, mode: str, seed: int,
         device: torch.device, folder: Path) -> dict[str, Any]:
    from tqdm import tqdm

    data = {k: (torch.as_tensor(win.x[k], device=device), torch.as_tensor(win.y[k],
                                                                          device=device))
            for k in ("train", "val", "test")}
    raw = model.mask.raw
    rest = [p for p in model.parameters() if p.requires_grad and p is not raw]
    groups: list[dict[str, Any]] = [{"params": rest}]
    mask_opt = None
    if raw.requires_grad and cfg.mask_optimizer == "sgd":
        mask_opt = torch.optim.SGD([raw], lr=cfg.mask_lr or SGD_MASK_LR)
    elif raw.requires_grad:
        groups.append({"params": [raw], "lr": cfg.mask_lr or cfg.lr})
    opt = torch.optim.Adam(groups, lr=cfg.lr)
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
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        tot, cnt = 0.0, 0
        batches = _batches(data["train"][0].shape[0], cfg.batch_size, gen)
        for i, idx in enumerate(batches):
            if cfg.max_batches is not None and i >= cfg.max_batches:
                break
            x, y = data["train"][0][idx.to(device)], data["train"][1][idx.to(device)]
            with autocast:
                pred, mask = fwd(x)
                mae = (pred.float() - y).abs().mean()
                loss = (prune_loss(mae, mask, cfg.gamma, cfg.soft_loss) if mode == "learned"
                        else mae)
            opt.zero_grad(set_to_none=True)
            if mask_opt is not None:
                mask_opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if mask_opt is not None:
                mask_opt.step()
            tot += float(mae.detach()) * len(idx)
            cnt += len(idx)
        val = _predict(fwd, data["val"][0], cfg, autocast)
        val_mae = float((val - data["val"][1]).abs().mean()) * std
        kept = float(model.mask().detach().mean())
        # the soft loss selects on its own objective: MAE x (1 + kept - gamma)
        score = (float(prune_loss(torch.tensor(val_mae), torch.tensor([kept]), cfg.gamma,
                                  cfg.soft_loss)) if soft else val_mae)
        row = {"epoch": epoch, "train_mae": tot / max(cnt, 1) * std, "val_mae": val_mae,
               "kept_fraction": kept, "val_score": score,
               "seconds": time.perf_counter() - t0}
        log.append(row)
        bar.set_postfix(val_mae=f"{val_mae:.3f}", kept=f"{kept:.2f}")
        if score < best:
            best, best_epoch, bad = score, epoch, 0
            torch.save(model.state_dict(), ckpt)
        else:
            bad += 1
            if bad >= cfg.patience:
                break
    _write_log(folder / "log.csv", log)
    model.load_state_dict(torch.load(ckpt, map_location=device, weights_only=True))
    model.eval()
    test = _predict(model, data["test"][0], cfg, autocast).float().cpu().numpy()
    true = data["test"][1].cpu().numpy()
    kept_nodes = model.kept().cpu().tolist()
    metrics = evaluate(win.inverse(test), win.inverse(true), kept_nodes, win.mape_threshold)
    raw = model.mask.raw.detach().cpu().numpy()
    return {"metrics": metrics, "kept": kept_nodes, "kept_fraction": len(kept_nodes) /
            raw.size, "ranking": np.argsort(-raw, kind="stable").tolist(),
            "raw_mask": raw.tolist(), "best_epoch": best_epoch,
            "best_val_mae": log[best_epoch]["val_mae"], "best_val_score": best,
            "epochs_run": len(log), "log": log,
            "epoch_seconds": float(np.mean([r["seconds"] for r in log]))}


@torch.no_grad()
def _predict(model: nn.Module, x: Tensor, cfg: TrainConfig, autocast: Any) -> Tensor:
    model.eval()
    outs = []
    for idx in torch.arange(x.shape[0], device=x.device).split(cfg.batch_size * 4):
        with autocast:
            outs.append(model(x[idx])[0].float())
    return torch.cat(outs)


def _write_log(path: Path, log: list[dict[str, float]]) -> None:
    from argnn_sim.outputs import write_atomic

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["epoch", "train_mae", "val_mae", "kept_fraction",
                                        "val_score", "seconds"])
    w.writeheader()
    w.writerows(log)
    write_atomic(path, buf.getvalue())


# ------------------------------------------------------------------------ baselines
def random_nodes(num_nodes: int, keep: int, *, seed: int = 0) -> list[int]:
    """``keep`` nodes drawn uniformly without replacement (seeded)."""
    return sorted(np.random.default_rng(seed).choice(num_nodes, keep, replace=False).tolist())


def correlation_nodes(train_values: np.ndarray, keep: int) -> list[int]:
    """The ``keep`` nodes most correlated with the rest of the network.

    Criterion: Pearson correlation between node series over the training split (T, N);
    each node scores the mean absolute correlation with every other node; the ``keep``
    highest scores are kept (ties by lower index). Constant series score 0.
    """
    x = np.asarray(train_values, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.corrcoef(x.T)
    c = np.nan_to_num(c)
    np.fill_diagonal(c, 0.0)
    score = np.abs(c).sum(1) / max(x.shape[1] - 1, 1)
    return sorted(np.argsort(-score, kind="stable")[:keep].tolist())


def historical_average(values: np.ndarray, train_steps: int, steps_per_day: int,
                       starts: np.ndarray, horizon: int = 12) -> np.ndarray:
    """Per node and time-of-day-and-weekday slot, the training mean; for windows whose
    targets start at ``starts`` returns (S, horizon, N, 1)."""
    week = 7 * steps_per_day
    slots = np.arange(values.shape[0]) % week
    means = np.zeros((week, values.shape[1]))
    train = values[:train_steps]
    for s in range(week):
        rows = train[slots[:train_steps] == s]
        means[s] = rows.mean(0) if len(rows) else train.mean(0)
    idx = (starts[:, None] + np.arange(horizon)) % week
    return means[idx][..., None]


def last_value(x_orig: np.ndarray, horizon: int = 12) -> np.ndarray:
    """Repeat each window's last observed value: (S, T, N, 1) -> (S, horizon, N, 1)."""
    return np.repeat(x_orig[:, -1:], horizon, axis=1)
