"""The published spectral-pruning program, restated once, in plain NumPy, for the tests.

This is the centralized program the simulator's reference mode must equal bit for bit on
the machine at hand (``reference/argnn-reference.md``): global ``n x n``
matrices ``A`` and ``W``, one legacy ``RandomState`` drawn in the published order, and the
published code's own primitives for every number:

* Eq. 1: ``np.dot(V * A[:, k], W[:, k])`` (BLAS ``ddot``, the second operand a strided
  column), then ``1 / (1 + np.exp(-s))`` (NumPy's ``exp`` ufunc);
* Eq. 2: ``np.dot(E * A[k], W[k])`` (``ddot`` on two contiguous rows);
* Eq. 3: ``np.clip(W[:, k] - E[k] * V * A[:, k], -10, 10)`` on the whole column;
* the check: ``np.sum`` over rows and columns of the local matrices, eigenvalues of the
  full ``n x n`` Laplacian by ``np.linalg.eigvals`` (LAPACK ``geev``), the exact
  conjugate test, positions read as node numbers.

It is deliberately not shared with the package: it is the independent statement the
package is checked against. ``bench/`` imports it to time the package against it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

ROWS = {
    "AND": [(0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 1)],
    "OR": [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 1)],
    "XOR": [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)],
}


def reference_run(gate: str, hidden: int, mode: str | None, seed: Any, inputs: int = 2000,
                  sweeps: int = 10, *, evaluate: bool = True) -> dict[str, Any]:
    """One run of the published program.

    ``mode`` is ``"D"``, ``"DW"`` or ``None`` (no pruning); ``seed`` an int or a
    ``RandomState`` to draw from (and advance: the published streams run many runs through
    one generator). ``evaluate=False`` is the Fig. 4 timing run: no evaluation draws.
    Returns the prune events, the evaluation errors, the final ``W * A`` and, per training
    input, the edge count after it and ``|V_out - y|`` after its passes.
    """
    rs = seed if isinstance(seed, np.random.RandomState) else np.random.RandomState(seed)
    n = hidden + 3
    out = n - 1
    table = ROWS[gate]
    idx = rs.randint(4, size=inputs)
    W = 2 * rs.rand(n, n) - 1
    A = np.ones((n, n)) - np.eye(n)
    A[:, :2] = 0
    V = np.zeros(n)
    E = np.zeros(n)
    events: list[dict[str, Any]] = []

    def act(k: int, y: float, learn: bool, t: int, s: int) -> None:
        V[k] = 1 / (1 + np.exp(-np.dot(V * A[:, k], W[:, k])))
        if k == out:
            E[k] = 0.15 * (V[k] - y)
        else:
            E[k] = np.dot(E * A[k], W[k]) * (V[k] * (1 - V[k]))
        if not learn:
            return
        W[:, k] = np.clip(W[:, k] - E[k] * V * A[:, k], -10, 10)
        if mode is None:
            return
        Al = np.zeros((n, n))
        Al[:, k] = A[:, k]
        Al[k, :] = A[k, :]
        X = Al if mode == "D" else Al * W
        Dl = np.diag(np.sum(X, axis=1) + np.sum(X, axis=0))
        lam = np.linalg.eigvals(Dl - Al * W)
        im = lam.imag
        if np.all(im == 0):
            return
        a, b = int(np.argmax(im)), int(np.argmin(im))
        if im[b] == -im[a] and A[b, a] == 1:
            A[b, a] = 0
            W[b, a] = 0
            events.append({"input": t, "sweep": s, "node": k, "edge": [b, a]})

    def present(r: int, learn: bool, t: int) -> float:
        x1, x2, y = table[r]
        V[0], V[1] = x1, x2
        for s in range(sweeps):
            order = np.arange(2, n)
            rs.shuffle(order)
            for k in order:
                act(int(k), y, learn, t, s)
        return float(abs(V[out] - y))

    train_error = []
    edges = []
    for t, r in enumerate(idx):
        train_error.append(present(int(r), True, t))
        edges.append(int(A.sum()))
    errs: list[float] = []
    if evaluate:
        rows = np.arange(4)
        rs.shuffle(rows)
        errs = [present(int(r), False, -1) for r in rows]
    return {"error": float(np.mean(errs)) if errs else float("nan"), "per_row_errors": errs,
            "prune_events": events, "final_W_masked": (W * A).tolist(),
            "edges_before": (hidden + 1) * (hidden + 2), "edges": edges,
            "train_error": train_error}
