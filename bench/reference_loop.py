"""A plain NumPy re-implementation of the reference loop (argnn-reference.md), for timing
and as a test oracle. It is the centralized, global-matrix program the simulator must
match; it is not part of the package.

Usage: python bench/reference_loop.py [--out bench/reference_loop.json]
Prints seconds for XOR, h = 2, mode D (2000 inputs x 10 passes) for this loop and for
argnn_sim's engine, measured in one run, and their ratio.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

ROWS = {
    "AND": [(0, 0, 0), (0, 1, 0), (1, 0, 0), (1, 1, 1)],
    "OR": [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 1)],
    "XOR": [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)],
}


def reference_run(gate: str, hidden: int, mode: str | None, seed: int, inputs: int = 2000,
                  sweeps: int = 10) -> dict:
    """One reference run; ``mode`` is "D", "DW" or None (no pruning)."""
    rs = np.random.RandomState(seed)
    n = hidden + 3
    out = n - 1
    table = ROWS[gate]
    idx = rs.randint(4, size=inputs)
    W = 2 * rs.rand(n, n) - 1
    A = np.ones((n, n)) - np.eye(n)
    A[:, :2] = 0
    V = np.zeros(n)
    E = np.zeros(n)
    events: list[dict] = []

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
        d = np.sum(X, axis=1) + np.sum(X, axis=0)
        lam = np.linalg.eigvals(np.diag(d) - Al * W)
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

    for t, r in enumerate(idx):
        present(r, True, t)
    rows = np.arange(4)
    rs.shuffle(rows)
    errs = [present(r, False, -1) for r in rows]
    return {"error": float(np.mean(errs)), "per_row_errors": errs, "prune_events": events,
            "final_W_masked": (W * A).tolist()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default="bench/reference_loop.json")
    args = ap.parse_args()
    from argnn_sim import Scenario, simulate

    t0 = time.perf_counter()
    ref = reference_run("XOR", 2, "D", 0)
    t_ref = time.perf_counter() - t0
    sc = Scenario.from_dict({"pruning": {"mode": "D"}, "rng": {"mode": "reference"},
                             "record": {"traces": "none"}})
    t0 = time.perf_counter()
    sim = simulate(sc, seed=0)
    t_sim = time.perf_counter() - t0
    same = ([{k: e[k] for k in ("input", "sweep", "node", "edge")} for e in sim.prune_events]
            == ref["prune_events"] and sim.error == ref["error"])
    rows = [("reference loop (NumPy, global matrices)", t_ref), ("argnn_sim engine", t_sim)]
    print(f"XOR, h = 2, mode D, 2000 inputs x 10 passes; identical results: {same}")
    for name, t in rows:
        print(f"  {name:<42} {t:7.2f} s   {60_000 / t:9,.0f} activations/s")
    print(f"  ratio engine / reference: {t_sim / t_ref:.2f}")
    with open(args.out, "w") as fh:
        json.dump({"reference_seconds": t_ref, "engine_seconds": t_sim, "identical": same}, fh,
                  indent=1)


if __name__ == "__main__":
    main()
