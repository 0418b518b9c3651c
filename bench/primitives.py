"""The per-call costs behind the SimPy engine's activation: the arithmetic's primitives and
the alternatives weighed against them. Prints a table, writes JSON.

    python bench/primitives.py [--out bench/primitives.json]

Each row is the best of five timings of many calls, in microseconds per call, measured in
this process; compare rows within one run (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import math
import operator
import sys
import timeit
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from argnn_sim import rule  # noqa: E402


def per_call(stmt, number: int = 100_000) -> float:
    """Best of five, microseconds per call."""
    return min(timeit.repeat(stmt, number=number, repeat=5)) / number * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(HERE / "primitives.json"))
    args = ap.parse_args()
    m = 5  # the star of a hidden node of the h = 2 circuit
    rng = np.random.default_rng(0)
    x = rng.random(m)
    wcol = rule.column_buffer(m)[:, 0]
    wcol[:] = rng.random(m)
    y = rng.random(m)
    L = [float(v) for v in rng.random(m * m)]
    s = 0.3

    def py_ge(a: float, b: float) -> bool:
        return a >= b

    rows = [
        ("Eq. 1 sum, numpy.dot on a strided column", per_call(lambda: np.dot(x, wcol))),
        ("Eq. 1 sum, ndarray.dot on a strided column (rule.dot_reference)",
         per_call(lambda: rule.dot_reference(x, wcol))),
        ("Eq. 2 sum, ndarray.dot on two contiguous vectors", per_call(lambda: x.dot(y))),
        ("Eq. 1 sum, portable (rule.blocked_sum of a list)",
         per_call(lambda: rule.blocked_sum(L[:m], m))),
        ("sigmoid, portable (rule.sigmoid)", per_call(lambda: rule.sigmoid(s))),
        ("sigmoid, reference (rule.sigmoid_reference)",
         per_call(lambda: rule.sigmoid_reference(s))),
        ("sigmoid with math.exp (the C library's; not used)",
         per_call(lambda: 1.0 / (1.0 + math.exp(-s)))),
        ("Laplacian of 25 entries, np.array(list).reshape", per_call(
            lambda: np.array(L).reshape(m, m))),
        ("Laplacian of 25 entries, np.fromiter(list).reshape (spectral.plan_laplacian)",
         per_call(lambda: np.fromiter(L, np.float64, m * m).reshape(m, m))),
        ("message rule, a Python function a >= b", per_call(lambda: py_ge(s, 0.1))),
        ("message rule, operator.ge (rule.accepts)", per_call(lambda: operator.ge(s, 0.1))),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'call':<{width}}  us per call")
    for name, us in rows:
        print(f"{name:<{width}}  {us:8.3f}")
    Path(args.out).write_text(json.dumps({"rows": [{"call": n, "us_per_call": u}
                                                   for n, u in rows]}, indent=1))
    print(f"\nwritten: {args.out}")


if __name__ == "__main__":
    main()
