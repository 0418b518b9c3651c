"""The simulator against a plain NumPy reference loop, beyond the eight golden runs:
h = 0 and h = 5 (rows of 8 entries, where NumPy's pairwise sums and BLAS blocks differ
from a naive loop), both modes, several seeds."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from argnn_sim import Scenario, simulate

_spec = importlib.util.spec_from_file_location(
    "reference_loop", Path(__file__).resolve().parents[1] / "bench" / "reference_loop.py")
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)


@pytest.mark.parametrize("gate,hidden,mode,seed", [
    ("XOR", 0, "D", 1), ("AND", 5, "D", 2), ("XOR", 5, "DW", 3), ("OR", 5, None, 4),
    ("XOR", 3, "DW", 9),
])
def test_matches_reference_loop(gate, hidden, mode, seed):
    expect = ref.reference_run(gate, hidden, mode, seed, inputs=300)
    data = {"task": {"gate": gate}, "network": {"hidden": hidden},
            "schedule": {"inputs": 300}, "rng": {"mode": "reference"}, "seed": seed,
            "record": {"traces": "none"},
            "pruning": {"policy": "none"} if mode is None else {"mode": mode}}
    r = simulate(Scenario.from_dict(data))
    events = [{k: e[k] for k in ("input", "sweep", "node", "edge")} for e in r.prune_events]
    assert events == expect["prune_events"]
    assert r.per_row_errors == expect["per_row_errors"]  # bit for bit
    np.testing.assert_array_equal(r.final_matrix(), np.array(expect["final_W_masked"]) + 0.0)
