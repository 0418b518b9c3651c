"""Decentralized against centralized pruning on a real road-sensor network.

The same network and task for every method: the series task of :mod:`argnn_sim.series`
(every sensor has an input node clamped to its reading and a predictor that forecasts the
reading one step ahead; predictors hear their own sensor's input, ``hops`` = 0 by default,
and their road neighbours' predictors), trained and scored in the simulator on the same
split PruneGCRN's ``default`` protocol uses (6:2:2; test MAE, RMSE and MAPE on the original
scale at horizon 1, every entry scored: the ``all`` metric definition of
:mod:`argnn_sim.metrics`, for every row).

Methods (one row per run; ``seeds`` runs each):

``unpruned`` (``-async``)
    the network trained without pruning: instant links (sweep schedule), and links with
    exponential delays and loss (async schedule).
``spectral-D``, ``spectral-DW`` (``-async``)
    decentralized: each predictor prunes its own input edges from its local Laplacian's
    spectrum during training (:class:`argnn_sim.pruning.SpectralLocal` with
    ``eligible = "all"`` and ``outputs = true``; a sensor's edge lies on no cycle, so the
    default rule could never drop one). A sensor is dropped when its input node has no
    out-edge left. The rule decides how many: it has no target fraction.
``prunegcrn``, ``random``, ``correlation``, ``magnitude`` at each kept fraction below 1
    centralized, imposed on the same network: PruneGCRN's kept sensors (from its SZ-taxi
    runs, seed for seed), ``k`` random sensors and the ``k`` sensors chosen by correlation
    with the others on the training split, each trained from scratch with the other
    sensors' input nodes removed; ``magnitude`` keeps the ``k`` sensors whose input edges
    weigh most (``|w|``) in the trained unpruned network and removes the others' edges
    (evaluation only, no retraining).
``random@spectral-<mode>``, ``correlation@spectral-<mode>``, ``magnitude-sensors@spectral-<mode>``, ``magnitude@spectral-<mode>``
    at a spectral run's own point: as many random, correlation-chosen or magnitude-chosen
    sensors as it kept (equal sensors), and global magnitude pruning of the trained
    unpruned network removing as many edges as it removed (equal edges; smallest ``|w|``
    first; evaluation only).
references
    ``agcrn``: PruneGCRN/AGCRN's own forecast at each kept fraction, made by each selection
    run's checkpoint for exactly this comparison's scored targets (left out, with a note, when
    a folder keeps no checkpoints); ``last-value``; ``input-window-mean`` (the mean of the last
    four readings, T-GCN's HA); ``daily-slot-mean`` (per sensor and time of day, training
    split).

Every run is one JSON under ``out/runs/`` written atomically (a killed comparison resumes).

Modules, in the layout of every study: :mod:`.config` (settings, the scenario of each
run), :mod:`.selections` (PruneGCRN's selections and AGCRN's forecasts), :mod:`.run` (the
runs and the resumable comparison), :mod:`.report` (tables and figures), :mod:`.cli`
(``argnn traffic compare``) and :mod:`.planted` (the planted-driver study built on it).
Names are imported lazily.
"""

from __future__ import annotations

from argnn_sim.registry import lazy_attributes

_EXPORTS = {
    "config": ("STEPS_PER_DAY", "RoadConfig", "quick_road_config", "road_scenario",
               "upgrade_record", "config_from", "run_key", "network_labels",
               "network_edges"),
    "selections": ("selection_runs", "load_selections", "kept_sensors", "check_protocol",
                   "agcrn_refs"),
    "run": ("baselines", "series_facts", "random_sensors", "magnitude_sensors",
            "magnitude_edges", "run_road_compare", "planted_truth", "truth_scores",
            "parent_edge_set"),
    "report": ("summarize_road", "TRUTH_KEYS", "paired_road", "paired_values",
               "normal_interval", "road_markdown", "write_road_outputs", "plot_road",
               "redraw"),
    "cli": ("command", "road_config_from_args"),
    "planted": ("PlantedStudyConfig", "quick_study_config", "run_planted_study",
                "study_markdown"),
}

__all__ = sorted(n for names in _EXPORTS.values() for n in names)


__getattr__ = lazy_attributes(__name__, _EXPORTS)
