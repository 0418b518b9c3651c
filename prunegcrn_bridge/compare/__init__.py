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
  :func:`finetune_in_simulator` put them into the simulator (the batched engine
  with ``initial=``, through :func:`argnn_sim.engines.run_many`), where every method is scored, with and without fine-tuning.

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

Modules, in the layout of every study: :mod:`.config` (tasks, methods, settings),
:mod:`.networks` (the bridge), :mod:`.run` (units and the resumable study),
:mod:`.report` (tables and figures) and :mod:`.cli` (``argnn compare``). Names are
imported lazily, so ``import prunegcrn_bridge.compare.cli`` needs no torch.
"""

from __future__ import annotations

from argnn_sim.registry import lazy_attributes

_EXPORTS = {
    "config": ("TASKS", "METHODS", "COLUMNS", "CompareConfig", "quick_config", "scenario"),
    "networks": ("DenseNet", "ArgnnModule", "export", "import_edges"),
    "run": ("evaluate_in_simulator", "finetune_in_simulator", "run_unit", "run_compare"),
    "report": ("summarize", "write_outputs", "redraw", "plot", "markdown", "paired"),
    "cli": ("register", "config_from_args"),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__ = lazy_attributes(__name__, _EXPORTS)
