"""PruneGCRN for traffic forecasting (work in progress): the AGCRN backbone with
node-adaptive parameters and PruneGCRN's pruned graph learning (:mod:`.model`)."""
