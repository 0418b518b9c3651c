"""PruneGCRN for traffic forecasting.

:mod:`.data` (PeMS ``.npz``, SZ-taxi, planted synthetic series; windows and scaling),
:mod:`.model` (AGCRN backbone and PruneGCRN's pruned graph learning), :mod:`.train`
(training, metrics, selection baselines), :mod:`.experiment` (selection at equal kept
fractions, explanations) and :mod:`.cli` (``argnn traffic``).
"""
