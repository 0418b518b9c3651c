"""Centralized vs decentralized pruning, side by side on the same networks and tasks.

The question: does decentralized spectral pruning remove the right edges, compared with
what a centralized method with full knowledge would remove? Every method starts from the
same circuit and seed, removes the same number of edges ``k``, and is evaluated the same
way: in the simulator, on the task's truth table, with the seed's evaluation schedule.

The bridge in both directions:

* :func:`export` turns a simulated network (a ``RunResult``'s edges) into an
  :class:`ArgnnModule`: node ``k``'s input weights are the weight of one
  ``nn.Linear(in_degree, 1)``, so the compression study's pruners
  (:mod:`prunegcrn_bridge.compression.pruning`) act per node or globally on exactly the
  network's edges. :meth:`ArgnnModule.evaluate` replays the simulator's evaluation (the
  same activation, update order and passes, learning off) with the simulator's own rule
  code (:mod:`argnn_sim.rule`), so its outputs equal the simulator's bit for bit (tested).
* :func:`import_edges` gives the edges back; :func:`evaluate_in_simulator` and
  :func:`finetune_in_simulator` put them into the simulator (``argnn_sim.engines.batch``
  with ``initial=``), where every method is scored, with and without fine-tuning.

Methods at equal ``k`` (:data:`METHODS`):

``spectral-reference``, ``spectral-local``
    decentralized spectral pruning during training (the published rule; our local rule),
    mode ``DW``. ``k`` is what the run removed; for the sweep of ``k`` the reference rule
    runs with ``pruning.budget = k`` (it may remove fewer: the table has the real ``k``).
    The local rule runs on the SimPy engine and only at its own ``k``.
``magnitude-node``, ``magnitude-global``
    the compression study's ``prune_global`` on the weights of the same circuit trained in
    the simulator without pruning: ``global`` ranks ``|w|``; ``node`` ranks ``|w|`` divided
    by the largest ``|w|`` into the same node (each node judges its own inputs).
``random``
    ``k`` edges drawn uniformly from the trained circuit.
``edge-mask``
    PruneGCRN's pruned-graph learning applied to edges: a :class:`NodeMask` over the edges
    (raw mask, binary clamp with a straight-through gradient), trained in torch on the task
    with loss ``MSE + lam * mean(mask)``, weights frozen; the ``k`` edges with the lowest
    raw mask go.
``node-mask``
    PruneGCRN-style pruning of whole hidden nodes: a :class:`NodeMask` over hidden nodes
    silences senders during training; hidden nodes go lowest raw mask first while the edges
    they take with them stay within ``k`` (so the real ``k`` may be lower).

Each is scored without fine-tuning (evaluation only) and after ``finetune`` more training
inputs in the simulator with learning on and pruning off.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from argnn_sim import rule as arith
from argnn_sim import simulate
from argnn_sim.config import Scenario, TaskConfig
from argnn_sim.engines import choose_engine, evaluation_schedule, run_many
from argnn_sim.errors import show_progress
from argnn_sim.executors import check_jobs
from argnn_sim.outputs import write_atomic
from argnn_sim.store import Store
from argnn_sim.tasks import make_task

from .compression.pruning import prune_global
from .errors import BridgeConfigError
from .threads import one_thread
from .traffic.model import NodeMask

HELP = "centralized vs decentralized pruning at equal k (torch)"  # the one-line help `argnn --help` reads without importing this module
__all__ = ["TASKS", "METHODS", "CompareConfig", "quick_config", "DenseNet", "ArgnnModule",
           "export", "import_edges", "evaluation_schedule", "evaluate_in_simulator",
           "finetune_in_simulator", "run_unit", "run_compare", "summarize", "register"]

TASKS: dict[str, dict[str, Any]] = {"AND": {"gate": "AND"}, "OR": {"gate": "OR"},
                                    "XOR": {"gate": "XOR"},
                                    "PARITY3": {"gate": "PARITY", "bits": 3}}
METHODS = ("spectral-reference", "spectral-local", "magnitude-node", "magnitude-global",
           "random", "edge-mask", "node-mask")


# ----------------------------------------------------------------------------- config
@dataclass(frozen=True)
class CompareConfig:
    """What :func:`run_compare` runs. ``ks``: the sweep of removed edges (values above half
    the circuit's edges are skipped); ``inputs``: training inputs of every run;
    ``finetune``: inputs of fine-tuning; ``epochs``/``lam``/``lr``: mask training."""

    tasks: tuple[str, ...] = ("AND", "OR", "XOR", "PARITY3")
    hidden: tuple[int, ...] = tuple(range(2, 11))
    seeds: int = 10
    inputs: int = 2000
    sweeps: int = 10
    mode: str = "DW"
    ks: tuple[int, ...] = (1, 2, 4, 8)
    finetune: int = 300
    epochs: int = 60
    lam: float = 0.05
    lr: float = 0.05
    methods: tuple[str, ...] = METHODS

    def __post_init__(self) -> None:
        bad = [t for t in self.tasks if t not in TASKS]
        if bad:
            raise BridgeConfigError(f"unknown task(s) {bad}; choose from {list(TASKS)}")
        bad = [m for m in self.methods if m not in METHODS]
        if bad:
            raise BridgeConfigError(f"unknown method(s) {bad}; choose from {list(METHODS)}")
        if self.mode not in ("D", "DW"):
            raise BridgeConfigError(f"mode {self.mode!r}: choose 'D' or 'DW'")
        for name in ("tasks", "hidden", "ks", "methods"):
            v = getattr(self, name)
            if not v or len(set(v)) != len(v):
                raise BridgeConfigError(f"{name} = {list(v)}: give at least one value, each "
                                        f"once (--{name})")
        if any(not 1 <= h <= 100 for h in self.hidden):
            raise BridgeConfigError(f"hidden = {list(self.hidden)}: give sizes from 1 to 100")
        if not 1 <= self.seeds <= 1000:
            raise BridgeConfigError(f"seeds = {self.seeds}: give from 1 to 1000 (--seeds)")
        if any(k < 1 for k in self.ks):
            raise BridgeConfigError(f"ks = {list(self.ks)}: every k must be at least 1")
        for name in ("inputs", "sweeps", "finetune", "epochs"):
            v = getattr(self, name)
            if not 1 <= v <= 10_000_000:
                raise BridgeConfigError(f"{name} = {v}: give a whole number from 1 to "
                                        "10,000,000")


def _together(scenarios: Sequence[Scenario], seeds: Sequence[int], **options: Any) -> list[Any]:
    """Runs of one shape, together on the engine that prefers itself among many and takes
    ``options`` (the batched one)."""
    name = choose_engine(scenarios[0], options=tuple(options), alone=False)
    return run_many(name, list(scenarios), list(seeds), **options)


def quick_config() -> CompareConfig:
    """A small version (seconds): two tasks, h = 2, 3, two seeds, short training."""
    return CompareConfig(tasks=("AND", "XOR"), hidden=(2, 3), seeds=2, inputs=150, ks=(1, 2),
                         finetune=40, epochs=8)


def scenario(task: str, hidden: int, cfg: CompareConfig, *, policy: str = "none",
             rule: str = "reference", budget: int = 0, inputs: int | None = None) -> Scenario:
    """The simulator scenario of one run of the comparison (logic circuit, sweep schedule)."""
    pruning: dict[str, Any] = {"policy": policy}
    if policy == "spectral":
        pruning.update(rule=rule, mode=cfg.mode, budget=budget)
    return Scenario.from_dict({
        "name": f"compare-{task}-h{hidden}", "task": TASKS[task],
        "network": {"hidden": hidden},
        "schedule": {"inputs": cfg.inputs if inputs is None else inputs,
                     "sweeps": cfg.sweeps, "eval_sweeps": cfg.sweeps},
        "pruning": pruning, "record": {"traces": "none"}})


# ----------------------------------------------------------------------------- networks
@dataclass
class DenseNet:
    """A network in the simulator's numbering: ``A[i, j] = 1`` for an edge ``i -> j`` with
    weight ``W[i, j]`` (inputs first, the output last)."""

    n: int
    n_in: int
    A: np.ndarray
    W: np.ndarray

    @classmethod
    def from_edges(cls, n: int, n_in: int, edges: Mapping[str, Any]) -> DenseNet:
        A = np.zeros((n, n))
        W = np.zeros((n, n))
        src = np.asarray(edges["src"], dtype=np.int64)
        dst = np.asarray(edges["dst"], dtype=np.int64)
        A[src, dst] = 1.0
        W[src, dst] = np.asarray(edges["weight"], dtype=np.float64)
        return cls(n, n_in, A, W)

    def edges(self) -> dict[str, np.ndarray]:
        """Edges sorted by ``(dst, src)``, as ``RunResult.final_edges``."""
        dst, src = np.nonzero(self.A.T)
        return {"src": src.astype(np.int64), "dst": dst.astype(np.int64),
                "weight": self.W[src, dst].astype(np.float64)}

    @property
    def n_edges(self) -> int:
        return int(self.A.sum())

    def without(self, edges: Sequence[tuple[int, int]]) -> DenseNet:
        A, W = self.A.copy(), self.W.copy()
        for i, j in edges:
            if A[i, j] != 1.0:
                raise ValueError(f"edge {i} -> {j} is not in the network")
            A[i, j] = 0.0
            W[i, j] = 0.0
        return DenseNet(self.n, self.n_in, A, W)


class ArgnnModule(nn.Module):
    """An ARGNN as a torch module with exactly its edges (see the module docstring).

    ``layers[str(k)]`` is node ``k``'s ``nn.Linear(in_degree, 1, bias=False)``; its weight
    row holds the weights of the edges from ``sources[k]`` (ascending). Torch's pruning
    reparametrization (``weight_mask``) marks removed edges; :func:`import_edges` drops them.
    """

    def __init__(self, net: DenseNet) -> None:
        super().__init__()
        self.n, self.n_in = net.n, net.n_in
        self.layers = nn.ModuleDict()
        self.sources: dict[int, list[int]] = {}
        for k in range(net.n_in, net.n):
            src = np.flatnonzero(net.A[:, k]).tolist()
            if not src:
                continue
            lin = nn.Linear(len(src), 1, bias=False).double()
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(net.W[src, k]).view(1, -1))
            self.layers[str(k)] = lin
            self.sources[k] = src

    # -- structure
    def edge_list(self) -> list[tuple[int, int]]:
        """Edges in ``(dst, src)`` order; the order of edge masks."""
        return [(i, k) for k in sorted(self.sources) for i in self.sources[k]]

    def weight_matrix(self, edge_gate: Tensor | None = None) -> Tensor:
        """``W`` (n, n) with removed edges at zero, times an optional gate per edge."""
        parts = []
        for k in sorted(self.sources):
            w = self.layers[str(k)].weight.view(-1)
            parts.append(w)
        flat = torch.cat(parts) if parts else torch.zeros(0, dtype=torch.float64)
        if edge_gate is not None:
            flat = flat * edge_gate
        edges = self.edge_list()
        src = torch.tensor([i for i, _ in edges], dtype=torch.long)
        dst = torch.tensor([k for _, k in edges], dtype=torch.long)
        W = torch.zeros(self.n, self.n, dtype=torch.float64)
        return W.index_put((src, dst), flat)

    def adjacency(self) -> Tensor:
        """``A`` (n, n): 1 on the edges torch has not pruned."""
        A = torch.zeros(self.n, self.n, dtype=torch.float64)
        for k, src in self.sources.items():
            lin = self.layers[str(k)]
            keep = (getattr(lin, "weight_mask", torch.ones(1, len(src), dtype=torch.float64))
                    .view(-1))
            A[torch.tensor(src), k] = keep.to(torch.float64)
        return A

    # -- the simulator's evaluation, exactly
    @torch.no_grad()
    def evaluate(self, rows: np.ndarray, eval_rows: Sequence[int], orders: np.ndarray,
                 sweeps: int, arithmetic: str = "portable") -> list[float]:
        """Per-row absolute errors of the simulator's evaluation: rows ``eval_rows`` in
        order, ``sweeps`` passes each in ``orders``, the state carried from row to row,
        learning off. Every number comes from :mod:`argnn_sim.rule` in the simulator's
        ``arithmetic`` (a scenario's resolved ``node.arithmetic``; the comparison's runs
        are ``portable``), so the result equals the simulator's bit for bit."""
        A = self.adjacency().numpy()
        W = np.ascontiguousarray(self.weight_matrix().numpy())  # W[:, k]: a strided column
        n, n_in, out = self.n, self.n_in, self.n - 1
        reference = arithmetic == "reference"
        V = np.zeros(n)
        errs = []
        p = 0
        for r in eval_rows:
            row = rows[r]
            V[:n_in] = np.asarray(row[:n_in], dtype=np.float64)
            for _s in range(sweeps):
                for k in orders[p].tolist():
                    if reference:
                        V[k] = arith.sigmoid_reference(arith.dot_reference(V * A[:, k], W[:, k]))
                    else:
                        V[k] = arith.sigmoid(arith.blocked_sum(((V * A[:, k]) * W[:, k]).tolist(),
                                                             n))
                p += 1
            errs.append(abs(float(V[out]) - float(row[-1])))
        return errs

    # -- a differentiable forward for training masks
    def forward(self, X: Tensor, orders: Sequence[Sequence[int]], *,
                edge_gate: Tensor | None = None, node_gate: Tensor | None = None) -> Tensor:
        """Outputs (R,) for the rows of ``X`` (R, n_in), all from a zero state, one pass per
        entry of ``orders``. ``edge_gate`` (E,) scales edges; ``node_gate`` (n,) scales what
        each node sends (0: silenced)."""
        W = self.weight_matrix(edge_gate)
        cols = [X[:, i] for i in range(self.n_in)]
        cols += [torch.zeros(X.shape[0], dtype=torch.float64) for _ in range(self.n_in, self.n)]
        for order in orders:
            for k in order:
                V = torch.stack(cols, dim=1)
                if node_gate is not None:
                    V = V * node_gate
                cols[k] = torch.sigmoid(V @ W[:, k])
        return cols[self.n - 1]


def export(net: DenseNet) -> ArgnnModule:
    """The torch module of a simulated network (see :class:`ArgnnModule`)."""
    return ArgnnModule(net)


def import_edges(module: ArgnnModule) -> dict[str, np.ndarray]:
    """The module's remaining edges and weights, in ``RunResult.final_edges`` layout."""
    with torch.no_grad():
        A = module.adjacency().numpy()
        W = module.weight_matrix().detach().numpy()
    return DenseNet(module.n, module.n_in, A, W * A).edges()


# ----------------------------------------------------------------------------- simulator side
def evaluate_in_simulator(sc: Scenario, seeds: Sequence[int],
                          nets: Sequence[Mapping[str, Any]]) -> list[float]:
    """Mean absolute error of each network in the simulator, learning off (``sc`` is used
    with ``inputs = 0``)."""
    ev = replace(sc, schedule=replace(sc.schedule, inputs=0))
    res = _together([ev] * len(nets), list(seeds), initial=list(nets))
    return [r.error for r in res]


def finetune_in_simulator(sc: Scenario, seeds: Sequence[int], nets: Sequence[Mapping[str, Any]],
                          inputs: int) -> list[float]:
    """Error after ``inputs`` more training inputs in the simulator (learning on, pruning
    off), evaluated as usual."""
    ft = replace(sc, schedule=replace(sc.schedule, inputs=inputs))
    res = _together([ft] * len(nets), list(seeds), initial=list(nets))
    return [r.error for r in res]


# ----------------------------------------------------------------------------- methods
def _mask_training(net: DenseNet, task: str, cfg: CompareConfig, seed: int, what: str
                   ) -> np.ndarray:
    """Raw mask values after training a NodeMask over edges (``what = "edge"``) or hidden
    nodes (``"node"``) on the task, weights frozen."""
    torch.manual_seed(seed)
    rng = np.random.default_rng([seed, 17])
    module = export(net)
    for p in module.parameters():
        p.requires_grad_(False)
    tk = make_task(TaskConfig(**TASKS[task]))
    rows = np.asarray(tk.rows, dtype=np.float64)
    X = torch.from_numpy(rows[:, :net.n_in].copy())
    y = torch.from_numpy(rows[:, net.n_in].copy())
    size = len(module.edge_list()) if what == "edge" else net.n - net.n_in - 1
    mask = NodeMask(size).double()
    opt = torch.optim.Adam([mask.raw], lr=cfg.lr)
    active = np.arange(net.n_in, net.n)
    for _ in range(cfg.epochs):
        orders = [rng.permutation(active).tolist() for _ in range(cfg.sweeps)]
        m = mask()
        if what == "edge":
            out = module(X, orders, edge_gate=m)
        else:
            gate = torch.cat([torch.ones(net.n_in, dtype=torch.float64), m,
                              torch.ones(1, dtype=torch.float64)])
            out = module(X, orders, node_gate=gate)
        loss = torch.mean((out - y) ** 2) + cfg.lam * m.mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return mask.raw.detach().numpy().copy()


def _node_removal(net: DenseNet, ranking: Sequence[int], k: int) -> list[tuple[int, int]]:
    """Edges removed with hidden nodes taken in ``ranking`` order while they stay within k."""
    gone: set[tuple[int, int]] = set()
    for node in ranking:
        touch = {(i, node) for i in np.flatnonzero(net.A[:, node]).tolist()}
        touch |= {(node, j) for j in np.flatnonzero(net.A[node, :]).tolist()}
        if len(gone | touch) > k:
            break
        gone |= touch
    return sorted(gone)


def _magnitude(net: DenseNet, k: int, per_node: bool) -> DenseNet:
    module = export(net)
    importance = None
    if per_node:
        importance = {}
        for lin in module.layers.values():
            w = lin.weight.detach().abs()
            importance[lin] = w / w.max().clamp_min(1e-300)
    prune_global(module, int(k), importance)  # the masks mark the removed edges
    return DenseNet.from_edges(net.n, net.n_in, import_edges(module))


def run_unit(task: str, hidden: int, cfg: CompareConfig) -> list[dict[str, Any]]:
    """Every method, k and seed for one task and hidden size; one row per evaluation.
    One torch thread, in a worker or not: the same numbers whatever ``--jobs``."""
    with one_thread():
        return _unit(task, hidden, cfg)


def _unit(task: str, hidden: int, cfg: CompareConfig) -> list[dict[str, Any]]:
    t0 = time.perf_counter()
    seeds = list(range(cfg.seeds))
    n_in = make_task(TaskConfig(**TASKS[task])).n_inputs
    n = n_in + hidden + 1
    base = scenario(task, hidden, cfg)
    # 1. the circuit trained in the simulator without pruning (the centralized methods' start)
    dense_runs = _together([base] * len(seeds), seeds)
    dense = [DenseNet.from_edges(n, n_in, r.final_edges) for r in dense_runs]
    n_edges = dense[0].n_edges
    ks_sweep = [k for k in cfg.ks if k <= n_edges // 2]
    # 2. decentralized spectral pruning during training
    nets: dict[tuple[str, str, int], dict[str, Any]] = {}  # (method, k label, seed) -> edges
    real_k: dict[tuple[str, str, int], int] = {}
    spec_k: dict[tuple[str, int], int] = {}
    if "spectral-reference" in cfg.methods:
        budgets = [0] + ks_sweep
        scs = [scenario(task, hidden, cfg, policy="spectral", budget=b)
               for b in budgets for _ in seeds]
        runs = _together(scs, [s for _ in budgets for s in seeds])
        for i, r in enumerate(runs):
            b, s = budgets[i // len(seeds)], seeds[i % len(seeds)]
            label = "spectral-reference" if b == 0 else str(b)
            nets[("spectral-reference", label, s)] = r.final_edges
            real_k[("spectral-reference", label, s)] = r.edges_before - r.edges_after
            if b == 0:
                spec_k[("spectral-reference", s)] = r.edges_before - r.edges_after
    if "spectral-local" in cfg.methods:
        for s in seeds:
            r = simulate(scenario(task, hidden, cfg, policy="spectral", rule="local"), s)
            nets[("spectral-local", "spectral-local", s)] = r.final_edges
            real_k[("spectral-local", "spectral-local", s)] = r.edges_before - r.edges_after
            spec_k[("spectral-local", s)] = r.edges_before - r.edges_after
    # 3. centralized methods at each budget: the spectral runs' own k, and the sweep
    centralized = [m for m in cfg.methods if not m.startswith("spectral")]
    for s in seeds:
        net = dense[s]
        labels = {str(k): k for k in ks_sweep}
        labels.update({rule: spec_k[(rule, s)] for rule in ("spectral-reference",
                                                            "spectral-local")
                       if (rule, s) in spec_k})
        ranks: dict[str, np.ndarray] = {}
        if "edge-mask" in centralized:
            ranks["edge-mask"] = _mask_training(net, task, cfg, s, "edge")
        if "node-mask" in centralized:
            raw = _mask_training(net, task, cfg, s, "node")
            ranks["node-mask"] = np.argsort(raw, kind="stable") + n_in
        edge_list = export(net).edge_list()
        rng = np.random.default_rng([s, 1, hidden])
        perm = rng.permutation(len(edge_list))
        for label, k in labels.items():
            for m in centralized:
                if m == "magnitude-global":
                    out = _magnitude(net, k, per_node=False)
                elif m == "magnitude-node":
                    out = _magnitude(net, k, per_node=True)
                elif m == "random":
                    out = net.without([edge_list[i] for i in perm[:k]])
                elif m == "edge-mask":
                    order = np.argsort(ranks["edge-mask"], kind="stable")[:k]
                    out = net.without([edge_list[i] for i in order])
                else:
                    out = net.without(_node_removal(net, ranks["node-mask"].tolist(), k))
                nets[(m, label, s)] = out.edges()
                real_k[(m, label, s)] = net.n_edges - out.n_edges
    # 4. everything scored in the simulator, without and with fine-tuning
    keys = sorted(nets)
    sc = scenario(task, hidden, cfg)
    seeds_of = [k[2] for k in keys]
    plain = evaluate_in_simulator(sc, seeds_of, [nets[k] for k in keys])
    tuned = finetune_in_simulator(sc, seeds_of, [nets[k] for k in keys], cfg.finetune)
    dense_err = evaluate_in_simulator(sc, seeds, [r.final_edges for r in dense_runs])
    rows = []
    for (m, label, s), e0, e1 in zip(keys, plain, tuned):
        k_target = spec_k.get((label, s), 0) if label.startswith("spectral") else int(label)
        budget = label if label.startswith("spectral") else "sweep"
        for ft, err in ((False, e0), (True, e1)):
            rows.append({"task": task, "h": hidden, "seed": s, "method": m, "budget": budget,
                         "k_target": k_target, "k": real_k[(m, label, s)], "finetune": ft,
                         "error": err, "dense_error": dense_err[s], "edges": n_edges})
    seconds = time.perf_counter() - t0
    for row in rows:
        row["seconds_unit"] = seconds
    return rows


# ----------------------------------------------------------------------------- study
COLUMNS = ("task", "h", "seed", "method", "budget", "k_target", "k", "finetune", "error",
           "dense_error", "edges")


def _unit_job(task: str, hidden: int, cfg_dict: dict[str, Any]) -> list[dict[str, Any]]:
    from argnn_sim.executors import pin_blas

    pin_blas()  # BLAS threads; run_unit pins torch's (one_thread)
    return run_unit(task, hidden, _config_from(cfg_dict))


def _config_from(d: Mapping[str, Any]) -> CompareConfig:
    return CompareConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def run_compare(cfg: CompareConfig, out: str | Path, *, jobs: int = 1,
                progress: bool = False, scheduler: str | None = None) -> list[dict[str, Any]]:
    """Run every (task, h) unit not already under ``out/units`` (resumable: a unit is
    written atomically when done), then write the tables, plots and summary. ``scheduler``:
    as :func:`argnn_sim.executors.make_executor` (``jobs`` > 1 means ``processes``; a Dask
    address spreads the units over a cluster)."""
    store = Store(out, "compare", settings=asdict(cfg), settings_file="config.json",
                  units="units", holds="a comparison", error=BridgeConfigError)
    # largest first, so that parallel workers end together
    order = sorted(((t, h) for t in cfg.tasks for h in cfg.hidden), key=lambda th: -th[1])
    cfg_dict = json.loads(json.dumps(asdict(cfg)))
    parallel = (jobs > 1) or scheduler not in (None, "inline")
    with store:
        units = store.run([(f"{t}-h{h}", _unit_job if parallel else run_unit,
                            (t, h, cfg_dict) if parallel else (t, h, cfg))
                           for t, h in order], workers=jobs if parallel else 1,
                          scheduler=scheduler if parallel else None, progress=progress,
                          desc="units")
        rows = [r for t in cfg.tasks for h in cfg.hidden for r in units[f"{t}-h{h}"]]
        write_outputs(rows, store.folder)
    return rows


def summarize(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± sd (ddof = 1) of error and real k per (method, task, h, budget, finetune)."""
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in rows:
        key = (r["method"], r["task"], r["h"], r["budget"], r["k_target"] if r["budget"] ==
               "sweep" else -1, r["finetune"])
        groups.setdefault(key, []).append(r)
    out = []
    for (m, task, h, budget, kt, ft), rs in groups.items():
        err = np.array([r["error"] for r in rs])
        ks = np.array([r["k"] for r in rs], dtype=float)
        out.append({"method": m, "task": task, "h": h,
                    "budget": budget if budget != "sweep" else f"k={kt}",
                    "finetune": ft, "n": len(rs), "k_mean": float(ks.mean()),
                    "error_mean": float(err.mean()),
                    "error_sd": float(err.std(ddof=1)) if len(rs) > 1 else math.nan})
    out.sort(key=lambda r: (r["task"], r["h"], r["budget"], r["finetune"], r["method"]))
    return out


def write_outputs(rows: Sequence[Mapping[str, Any]], out: Path) -> None:
    """``results.csv`` (one row per evaluation), ``summary.csv`` (the tidy table),
    ``error_vs_k.png``, ``spectral_budget.png`` and ``summary.md``."""
    from argnn_sim.sweep import write_table

    write_table(out / "results.csv", list(rows), COLUMNS)
    table = summarize(rows)
    write_table(out / "summary.csv", table, ("method", "task", "h", "budget", "finetune", "n",
                                             "k_mean", "error_mean", "error_sd"))
    plot(rows, out)
    write_atomic(out / "summary.md", markdown(rows))


def redraw(folder: str | Path) -> list[Path]:
    """Redraw the tables and figures of a comparison folder from its units (``argnn plot``).

    Parameters
    ----------
    folder : a folder written by :func:`run_compare`.

    Returns
    -------
    list of pathlib.Path
    """
    from argnn_sim.outputs import load_json
    from argnn_sim.store import unit_value

    f = Path(folder)
    units = sorted((f / "units").glob("*.json"))
    if not units:
        raise BridgeConfigError(f"{str(f)!r} holds no finished unit of a comparison; run "
                                "`argnn compare --out` there first")
    rows = [r for p in units for r in unit_value(load_json(p, "comparison unit"))]
    write_outputs(rows, f)
    return [f / "error_vs_k.png", f / "spectral_budget.png"]


def _by(rows: Sequence[Mapping[str, Any]], **match: Any) -> list[Mapping[str, Any]]:
    return [r for r in rows if all(r[k] == v for k, v in match.items())]


def plot(rows: Sequence[Mapping[str, Any]], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(r["task"] for r in rows))
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    colors = dict(zip(METHODS, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False,
                             sharey=True)
    for ax, task in zip(axes[0], tasks):
        for m in methods:
            for ft, ls in ((False, "-"), (True, "--")):
                sel = _by(rows, task=task, method=m, finetune=ft, budget="sweep")
                ks = sorted({r["k_target"] for r in sel})
                if not ks:
                    continue
                ys = [np.mean([r["error"] for r in sel if r["k_target"] == k]) for k in ks]
                xs = [np.mean([r["k"] for r in sel if r["k_target"] == k]) for k in ks]
                ax.plot(xs, ys, ls, marker="o", ms=3, color=colors[m],
                        label=m if not ft else None)
        dense = np.mean([r["dense_error"] for r in _by(rows, task=task)])
        ax.axhline(dense, color="k", lw=0.8, ls=":")
        ax.set_title(f"{task} (mean over h, seeds)")
        ax.set_xlabel("edges removed k (real)")
    axes[0][0].set_ylabel("evaluation error (simulator)")
    axes[0][0].legend(fontsize=7, title="solid: no fine-tuning\ndashed: fine-tuned",
                      title_fontsize=7)
    fig.tight_layout()
    p1 = out / "error_vs_k.png"
    fig.savefig(p1, dpi=130)
    plt.close(fig)
    # at the spectral rules' own k, by h
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.6), squeeze=False,
                             sharey=True)
    for ax, task in zip(axes[0], tasks):
        for m in methods:
            sel = _by(rows, task=task, method=m, finetune=False, budget="spectral-reference")
            hs = sorted({r["h"] for r in sel})
            if hs:
                ax.plot(hs, [np.mean([r["error"] for r in sel if r["h"] == h]) for h in hs],
                        marker="o", ms=3, color=colors[m], label=m)
        ax.set_title(f"{task}: k of the reference rule")
        ax.set_xlabel("hidden nodes h")
    axes[0][0].set_ylabel("evaluation error, no fine-tuning")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    p2 = out / "spectral_budget.png"
    fig.savefig(p2, dpi=130)
    plt.close(fig)
    return [p1, p2]


def markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """Which method wins where, by how much (mean error over seeds and h)."""
    lines = ["# Centralized vs decentralized pruning at equal k", "",
             "Mean evaluation error in the simulator (over h and seeds); k is the real number",
             "of removed edges, averaged. Lower is better; the dense circuit's error is given.",
             "*best* counts only methods that removed the full budget (node pruning and a",
             "budgeted spectral rule may remove fewer edges than asked).", ""]
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    methods = [m for m in METHODS if any(r["method"] == m for r in rows)]
    budgets = list(dict.fromkeys(r["budget"] for r in rows if r["budget"] != "sweep"))
    for rule in ("spectral-reference", "spectral-local"):
        for ft in (False, True):
            pairs = paired(rows, rule, ft)
            if not pairs:
                continue
            lines += [f"## {rule} against each method at its own k, "
                      f"{'after fine-tuning' if ft else 'without fine-tuning'}", "",
                      "Paired over task x h x seed (same circuit, same k). Δ = method's error "
                      f"minus {rule}'s: positive means {rule} is better.", "",
                      "| method | pairs | real k (mean) | mean Δ | 95 % CI of Δ | "
                      f"{rule} at least as good |", "|---|---|---|---|---|---|"]
            for p_ in pairs:
                lines.append(f"| {p_['method']} | {p_['pairs']} | {p_['k']:.1f} | "
                             f"{p_['delta']:+.4f} | [{p_['lo']:+.4f}, {p_['hi']:+.4f}] | "
                             f"{100 * p_['share']:.0f} % |")
            lines.append("")
    for ft in (False, True):
        lines += [f"## By task: {'after fine-tuning' if ft else 'without fine-tuning'}", "",
                  "| task | budget | dense | " + " | ".join(methods) + " | best |",
                  "|---|---|---|" + "---|" * len(methods) + "---|"]
        for task in tasks:
            ks = sorted({r["k_target"] for r in _by(rows, task=task, budget="sweep")})
            for b in budgets + [f"k={k}" for k in ks]:
                cells, vals = [], {}
                for m in methods:
                    if b.startswith("k="):
                        sel = _by(rows, task=task, method=m, finetune=ft, budget="sweep",
                                  k_target=int(b[2:]))
                    else:
                        sel = _by(rows, task=task, method=m, finetune=ft, budget=b)
                    if sel:
                        e = float(np.mean([r["error"] for r in sel]))
                        kk = float(np.mean([r["k"] for r in sel]))
                        want = float(np.mean([r["k_target"] for r in sel]))
                        if kk >= want - 1e-9:
                            vals[m] = e
                        cells.append(f"{e:.4f} (k {kk:.1f})")
                    else:
                        cells.append("-")
                dense = np.mean([r["dense_error"] for r in _by(rows, task=task)])
                best = min(vals, key=vals.__getitem__) if vals else "-"
                lines.append(f"| {task} | {b} | {dense:.4f} | " + " | ".join(cells)
                             + f" | {best} |")
        lines.append("")
    return "\n".join(lines)


def paired(rows: Sequence[Mapping[str, Any]], rule: str, finetune: bool
           ) -> list[dict[str, Any]]:
    """Each other method against ``rule`` at ``rule``'s own k, paired by (task, h, seed):
    mean error difference (method minus rule), a normal 95 % interval, and the share of
    pairs where the rule is at least as good."""
    mine = {(r["task"], r["h"], r["seed"]): r for r in rows
            if r["method"] == rule and r["budget"] == rule and r["finetune"] == finetune}
    out = []
    for m in METHODS:
        if m == rule:
            continue
        theirs = [(mine[key], r) for r in rows
                  if r["method"] == m and r["budget"] == rule and r["finetune"] == finetune
                  and (key := (r["task"], r["h"], r["seed"])) in mine]
        if not theirs:
            continue
        d = np.array([b["error"] - a["error"] for a, b in theirs])
        half = 1.96 * d.std(ddof=1) / math.sqrt(d.size) if d.size > 1 else math.nan
        out.append({"method": m, "pairs": int(d.size),
                    "k": float(np.mean([b["k"] for _a, b in theirs])),
                    "delta": float(d.mean()), "lo": float(d.mean() - half),
                    "hi": float(d.mean() + half), "share": float(np.mean(d >= 0))})
    return out


# ----------------------------------------------------------------------------- command line
def register(sub: Any) -> None:
    """Add ``compare`` to the ``argnn`` sub-command parser."""
    c = sub.add_parser("compare", help="centralized vs decentralized pruning at equal k "
                                       "(torch)")
    c.add_argument("--out", required=True, help="results folder (resumable)")
    c.add_argument("--quick", action="store_true", help="a small version (seconds)")
    c.add_argument("--tasks", help=f"comma-separated subset of {','.join(TASKS)}")
    c.add_argument("--hidden", help="comma-separated hidden sizes (default 2..10)")
    c.add_argument("--seeds", type=int, help="seeds per cell (default 10)")
    c.add_argument("--inputs", type=int, help="training inputs per run (default 2000)")
    c.add_argument("--ks", help="comma-separated sweep of k (default 1,2,4,8)")
    c.add_argument("--methods", help=f"comma-separated subset of {','.join(METHODS)}")
    c.add_argument("--jobs", type=int, default=1, help="worker processes")
    c.add_argument("--scheduler", default=None,
                   help="inline, processes, local-dask or a Dask address tcp://host:port")
    c.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: on a terminal)")
    r = c.add_argument_group("a road-sensor network instead of logic circuits "
                             "(prunegcrn_bridge.road_compare)")
    r.add_argument("--network", default="logic",
                   help="logic (default: the logic circuits), sz_taxi, a planted series "
                        "(planted:sz_taxi[:options]), or an .npz of readings (with --adjacency)")
    r.add_argument("--data-root", help="folder holding SZ_TAXI/ (default: $ARGNN_DATA)")
    r.add_argument("--adjacency", help="road graph of an .npz network (N x N or from,to CSV)")
    r.add_argument("--selections",
                   help="PruneGCRN's runs on the same series (`argnn traffic compare --out` "
                        "folders, comma-separated): their kept sensors are imposed on the "
                        "simulated network")
    r.add_argument("--protocol", choices=("default", "tgcn", "agcrn"),
                   help="the protocol the --selections folders were trained under (default: "
                        "default); their checkpoints' forecasts are the agcrn rows")
    r.add_argument("--horizon", type=int,
                   help="forecast this many steps ahead (default 1: 15 minutes on SZ-taxi)")
    r.add_argument("--fractions", help="kept shares of sensors (default 1,0.5,0.25,0.1)")
    r.add_argument("--hops", type=int, help="road hops a predictor hears sensors from "
                                            "(default 0: its own)")
    r.add_argument("--no-async", action="store_true",
                   help="skip the runs with delayed, lossy links")
    c.set_defaults(handler=_command)


def config_from_args(args: argparse.Namespace) -> CompareConfig:
    cfg = quick_config() if args.quick else CompareConfig()
    changes: dict[str, Any] = {}
    if args.tasks is not None:
        changes["tasks"] = tuple(t.strip().upper() for t in args.tasks.split(","))
    if args.hidden is not None:
        changes["hidden"] = _ints("--hidden", args.hidden)
    if args.seeds is not None:
        changes["seeds"] = args.seeds
    if args.inputs is not None:
        changes["inputs"] = args.inputs
    if args.ks is not None:
        changes["ks"] = _ints("--ks", args.ks)
    if args.methods is not None:
        changes["methods"] = tuple(m.strip() for m in args.methods.split(","))
    check_jobs(args.jobs)  # the bound every command's --jobs has
    return replace(cfg, **changes)


def _ints(option: str, text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise BridgeConfigError(f"{option} {text!r}: give comma-separated whole numbers, "
                                "e.g. 2,3,4") from None


def _command(args: argparse.Namespace) -> int:
    if args.network != "logic":
        from .road_compare import command

        return command(args, progress=show_progress(args.progress))
    road_only = [o for o, v in (("--data-root", args.data_root), ("--adjacency", args.adjacency),
                                ("--selections", args.selections),
                                ("--protocol", args.protocol), ("--horizon", args.horizon),
                                ("--fractions", args.fractions), ("--hops", args.hops))
                 if v is not None] + (["--no-async"] if args.no_async else [])
    if road_only:
        raise BridgeConfigError(f"{', '.join(road_only)} belong(s) to the road comparison; "
                                "add --network sz_taxi (or an .npz)")
    cfg = config_from_args(args)
    rows = run_compare(cfg, args.out, jobs=args.jobs, progress=show_progress(args.progress),
                       scheduler=args.scheduler)
    print(markdown(rows))
    print(f"\nwritten: {args.out}/summary.csv, results.csv, summary.md, error_vs_k.png, "
          "spectral_budget.png")
    return 0

