"""The comparison's settings: tasks, methods, the table's columns, :class:`CompareConfig` and the
scenario each unit runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argnn_sim.config import Scenario

from ..errors import BridgeConfigError

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


# ----------------------------------------------------------------------------- study
COLUMNS = ("task", "h", "seed", "method", "budget", "k_target", "k", "finetune", "error",
           "dense_error", "edges")
