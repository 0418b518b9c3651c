"""The study's four tasks (five with BBBP's two protocols): data, training and evaluation.

=============== ========= ========================================= =======================
task            model     protocol                                  metric
=============== ========= ========================================= =======================
cora-node       gcn       public split (``split="random"``: random) test accuracy
cora-link       gae       85/5/10 % random edge split per seed       test ROC-AUC
proteins        gin       stratified 10-fold CV; ``seed`` = fold     test accuracy
bbbp            gin       random 80/10/10 split per seed (as the     test accuracy
                          paper reports)
bbbp-scaffold   gin       Bemis-Murcko scaffold 80/10/10 split (as   test ROC-AUC
                          the field reports)
=============== ========= ========================================= =======================

Every task selects the epoch with the best validation metric (never the test set) and
restores it. Randomness (initial weights, dropout, batch order, negative sampling,
splits) comes from ``seed`` through a forked torch RNG, so the process's global torch
state is left as it was and the same seed gives the same numbers on the CPU.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ..errors import BridgeConfigError
from . import data as D
from .models import GAE, Graph, build_model

__all__ = ["TASKS", "Task", "make_task", "TrainSettings", "roc_auc", "seeded"]

Penalty = Callable[[nn.Module], Tensor]


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block with torch's global RNG seeded, restoring its state afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney statistic (ties count one half).

    >>> roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    from scipy.stats import rankdata

    y = np.asarray(y).astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


@dataclass(frozen=True)
class TrainSettings:
    """Epochs and optimiser of a training phase (Adam)."""

    epochs: int
    lr: float
    weight_decay: float = 0.0
    batch_size: int = 64


@dataclass
class Task:
    """A task bound to its data and split: builds, trains and evaluates models."""

    name: str
    model: str
    metric: str
    train: TrainSettings
    finetune: TrainSettings
    in_channels: int
    out_channels: int
    parts: dict[str, Any] = field(default_factory=dict)

    # -- building --------------------------------------------------------------------
    def make_model(self, seed: int) -> nn.Module:
        with seeded(seed):
            return build_model(self.model, self.in_channels, self.out_channels)

    # -- training --------------------------------------------------------------------
    def fit(self, model: nn.Module, settings: TrainSettings, *, seed: int,
            penalty: Penalty | None = None) -> dict[str, float]:
        """Train with Adam; keep the epoch with the best validation metric."""
        # A²Q's bit-widths and step sizes learn at 10x the rate, without weight decay
        qnames = ("bits", "log_step")
        named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        groups: list[dict[str, Any]] = [
            {"params": [p for n, p in named if not n.endswith(qnames)]}]
        qparams = [p for n, p in named if n.endswith(qnames)]
        if qparams:
            groups.append({"params": qparams, "lr": settings.lr * 10, "weight_decay": 0.0})
        opt = torch.optim.Adam(groups, lr=settings.lr, weight_decay=settings.weight_decay)
        best, best_state, best_epoch = -np.inf, None, -1
        with seeded(seed):
            g = torch.Generator().manual_seed(seed)
            for epoch in range(settings.epochs):
                model.train()
                self._epoch(model, opt, settings, g, penalty)
                score = self.evaluate(model, "val")
                if score > best:
                    best, best_epoch = score, epoch
                    best_state = copy.deepcopy(model.state_dict())
        if best_state is not None:
            model.load_state_dict(best_state)
        return {"val": float(best), "best_epoch": best_epoch}

    def _step(self, model: nn.Module, opt: torch.optim.Optimizer, loss: Tensor,
              penalty: Penalty | None) -> None:
        if penalty is not None:
            loss = loss + penalty(model)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def _epoch(self, model: nn.Module, opt: torch.optim.Optimizer, s: TrainSettings,
               g: torch.Generator, penalty: Penalty | None) -> None:
        raise NotImplementedError

    def evaluate(self, model: nn.Module, part: str = "test") -> float:
        raise NotImplementedError

    def example_input(self) -> Callable[[nn.Module], object]:
        """A closure running one inference pass on the test data (for latency)."""
        raise NotImplementedError


class CoraNode(Task):
    def _epoch(self, model, opt, s, g, penalty):  # type: ignore[no-untyped-def]
        d = self.parts["data"]
        out = model(Graph(d.x, d.edge_index))
        loss = nn.functional.cross_entropy(out[d.train_mask], d.y[d.train_mask])
        self._step(model, opt, loss, penalty)

    @torch.no_grad()
    def evaluate(self, model: nn.Module, part: str = "test") -> float:
        d = self.parts["data"]
        model.eval()
        pred = model(Graph(d.x, d.edge_index)).argmax(1)
        mask = d[f"{part}_mask"]
        return float((pred[mask] == d.y[mask]).float().mean())

    def example_input(self) -> Callable[[nn.Module], object]:
        d = self.parts["data"]
        g = Graph(d.x, d.edge_index)
        return lambda m: m(g)


class CoraLink(Task):
    def _epoch(self, model, opt, s, g, penalty):  # type: ignore[no-untyped-def]
        from torch_geometric.utils import negative_sampling

        d = self.parts["train"]
        z = model(Graph(d.x, d.edge_index))
        pos = d.pos_edge_label_index
        neg = negative_sampling(d.edge_index, num_nodes=d.num_nodes,
                                num_neg_samples=pos.shape[1])
        logits = torch.cat([GAE.score(z, pos), GAE.score(z, neg)])
        target = torch.cat([torch.ones(pos.shape[1]), torch.zeros(neg.shape[1])])
        loss = nn.functional.binary_cross_entropy_with_logits(logits, target)
        self._step(model, opt, loss, penalty)

    @torch.no_grad()
    def evaluate(self, model: nn.Module, part: str = "test") -> float:
        d = self.parts[part]
        model.eval()
        z = model(Graph(d.x, d.edge_index))
        pos, neg = d.pos_edge_label_index, d.neg_edge_label_index
        s = torch.cat([GAE.score(z, pos), GAE.score(z, neg)]).numpy()
        y = np.r_[np.ones(pos.shape[1]), np.zeros(neg.shape[1])]
        return roc_auc(y, s)

    def example_input(self) -> Callable[[nn.Module], object]:
        d = self.parts["test"]
        g = Graph(d.x, d.edge_index)
        return lambda m: m(g)


class GraphTask(Task):
    def _loader(self, part: str, shuffle: bool = False,
                g: torch.Generator | None = None) -> Any:
        from torch_geometric.loader import DataLoader

        graphs = self.parts["graphs"]
        items = [graphs[i] for i in self.parts[part]]
        return DataLoader(items, batch_size=self.train.batch_size, shuffle=shuffle,
                          generator=g)

    def _epoch(self, model, opt, s, g, penalty):  # type: ignore[no-untyped-def]
        for batch in self._loader("train", shuffle=True, g=g):
            out = model(Graph.of(batch))
            loss = nn.functional.cross_entropy(out, batch.y.view(-1))
            self._step(model, opt, loss, penalty)

    @torch.no_grad()
    def evaluate(self, model: nn.Module, part: str = "test") -> float:
        model.eval()
        ys, ps = [], []
        for batch in self._loader(part):
            out = model(Graph.of(batch))
            ys.append(batch.y.view(-1))
            ps.append(out.softmax(1)[:, 1] if self.metric == "auc" else out.argmax(1))
        y, p = torch.cat(ys).numpy(), torch.cat(ps).numpy()
        if self.metric == "auc":
            return roc_auc(y, p)
        return float((y == p).mean())

    def example_input(self) -> Callable[[nn.Module], object]:
        from torch_geometric.data import Batch

        graphs = self.parts["graphs"]
        b = Batch.from_data_list([graphs[i] for i in self.parts["test"]])
        g = Graph.of(b)
        return lambda m: m(g)


#: task name -> (default model, metric)
TASKS = {
    "cora-node": ("gcn", "acc"),
    "cora-link": ("gae", "auc"),
    "proteins": ("gin", "acc"),
    "bbbp": ("gin", "acc"),
    "bbbp-scaffold": ("gin", "auc"),
}


@dataclass(frozen=True)
class Budget:
    """Training lengths of a task (``quick`` shortens all of them)."""

    epochs: int
    finetune: int
    lr: float
    weight_decay: float
    batch_size: int = 64


_BUDGETS = {
    "cora-node": Budget(200, 100, 0.01, 5e-4),
    "cora-link": Budget(400, 100, 0.01, 0.0),
    "proteins": Budget(100, 20, 0.01, 0.0, 64),
    "bbbp": Budget(100, 20, 0.001, 0.0, 64),
    "bbbp-scaffold": Budget(100, 20, 0.001, 0.0, 64),
}


def make_task(name: str, *, seed: int = 0, root: Any = None, cache: Any = None,
              model: str | None = None, quick: bool = False, cora_split: str = "public",
              folds: int = 10, epochs: int | None = None,
              finetune_epochs: int | None = None) -> Task:
    """Build task ``name`` for one seed (for ``proteins``: fold ``seed % folds``).

    ``quick`` cuts epochs to a tenth (at least 5) for tests and demos.
    """
    if name not in TASKS:
        raise BridgeConfigError(f"unknown task {name!r}; allowed: {', '.join(TASKS)}")
    default_model, metric = TASKS[name]
    b = _BUDGETS[name]
    ep = epochs if epochs is not None else (max(5, b.epochs // 10) if quick else b.epochs)
    ft = finetune_epochs if finetune_epochs is not None else (
        max(3, b.finetune // 10) if quick else b.finetune)
    train = TrainSettings(ep, b.lr, b.weight_decay, b.batch_size)
    fine = TrainSettings(ft, b.lr / 10 if name.startswith("cora") else b.lr / 2,
                         b.weight_decay, b.batch_size)
    m = model or default_model
    if name == "cora-node":
        d = D.cora_split(D.load_cora(root, cache=cache), cora_split, seed=seed)
        return CoraNode(name, m, metric, train, fine, d.x.shape[1], 7, {"data": d})
    if name == "cora-link":
        from torch_geometric.transforms import RandomLinkSplit

        d = D.load_cora(root, cache=cache)
        with seeded(seed):
            tr, va, te = RandomLinkSplit(num_val=0.05, num_test=0.1, is_undirected=True,
                                         split_labels=True,
                                         add_negative_train_samples=False)(d)
        return CoraLink(name, m, metric, train, fine, d.x.shape[1], 16,
                        {"train": tr, "val": va, "test": te})
    if name == "proteins":
        ds = D.load_proteins(root, cache=cache)
        y = ds._data.y.numpy()
        tr_i, va_i, te_i = D.kfold_indices(y, folds, seed=0)[seed % folds]
        return GraphTask(name, m, metric, train, fine, ds.num_features, 2,
                         {"graphs": _materialize(ds), "train": tr_i, "val": va_i,
                          "test": te_i})
    ds = D.load_bbbp(root, cache=cache)
    if name == "bbbp":
        tr_i, va_i, te_i = D.random_split_indices(len(ds), seed=seed)
    else:
        tr_i, va_i, te_i = D.scaffold_split_indices(list(ds._data.smiles))
    return GraphTask(name, m, metric, train, fine, sum(D.BBBP_FEATURE_SIZES), 2,
                     {"graphs": _materialize(ds), "train": tr_i, "val": va_i, "test": te_i})


def _materialize(ds: Any) -> list[Any]:
    """The data set's graphs as a list, transforms applied once (not once per epoch)."""
    return [ds[i] for i in range(len(ds))]
