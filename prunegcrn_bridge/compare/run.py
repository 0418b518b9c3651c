"""One unit of the comparison (a task, a hidden size, every seed and method at equal k),
scored in the simulator, and the whole study in its resumable store."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from argnn_sim import simulate
from argnn_sim.config import Scenario, TaskConfig
from argnn_sim.engines import choose_engine, run_many
from argnn_sim.store import Store
from argnn_sim.tasks import make_task

from ..compression.pruning import prune_global
from ..errors import BridgeConfigError
from ..threads import one_thread
from ..traffic.model import NodeMask
from .config import TASKS, CompareConfig, scenario
from .networks import DenseNet, export, import_edges
from .report import write_outputs


def _together(scenarios: Sequence[Scenario], seeds: Sequence[int], **options: Any) -> list[Any]:
    """Runs of one shape, together on the engine that prefers itself among many and takes
    ``options`` (the batched one)."""
    name = choose_engine(scenarios[0], options=tuple(options), alone=False)
    return run_many(name, list(scenarios), list(seeds), **options)


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


def _centralized(net: DenseNet, task: str, cfg: CompareConfig, s: int, hidden: int,
                 labels: dict[str, int], methods: Sequence[str]
                 ) -> dict[tuple[str, str], DenseNet]:
    """The centralized methods' networks for seed ``s``: each method at each budget
    (label -> edges to remove), from the circuit trained without pruning."""
    n_in = net.n_in
    ranks: dict[str, np.ndarray] = {}
    if "edge-mask" in methods:
        ranks["edge-mask"] = _mask_training(net, task, cfg, s, "edge")
    if "node-mask" in methods:
        raw = _mask_training(net, task, cfg, s, "node")
        ranks["node-mask"] = np.argsort(raw, kind="stable") + n_in
    edge_list = export(net).edge_list()
    rng = np.random.default_rng([s, 1, hidden])
    perm = rng.permutation(len(edge_list))
    out: dict[tuple[str, str], DenseNet] = {}
    for label, k in labels.items():
        for m in methods:
            if m == "magnitude-global":
                out[(m, label)] = _magnitude(net, k, per_node=False)
            elif m == "magnitude-node":
                out[(m, label)] = _magnitude(net, k, per_node=True)
            elif m == "random":
                out[(m, label)] = net.without([edge_list[i] for i in perm[:k]])
            elif m == "edge-mask":
                order = np.argsort(ranks["edge-mask"], kind="stable")[:k]
                out[(m, label)] = net.without([edge_list[i] for i in order])
            else:
                out[(m, label)] = net.without(_node_removal(net, ranks["node-mask"].tolist(), k))
    return out


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
        for (m, label), out in _centralized(net, task, cfg, s, hidden, labels,
                                            centralized).items():
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


def _unit_job(task: str, hidden: int, cfg_dict: dict[str, Any]) -> list[dict[str, Any]]:
    from argnn_sim.executors import pin_blas

    pin_blas()  # BLAS threads; run_unit pins torch's (one_thread)
    return run_unit(task, hidden, config_from(cfg_dict))


def config_from(d: Mapping[str, Any]) -> CompareConfig:
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
