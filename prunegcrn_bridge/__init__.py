"""PyTorch side of argnn-sim: PruneGCRN traffic forecasting, the GNN compression study and
the comparison of centralized with decentralized pruning.

Everything that needs torch lives here; :mod:`argnn_sim` never imports this package.
Install it with the ``bridge`` extra (CPU build of torch first, see the README)::

    pip install torch==2.13.0 && pip install -e '.[bridge]'
"""

__all__: list[str] = []
