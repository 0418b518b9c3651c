"""The reference mode against the published program, restated in ``reference_program.py``.

Exact comparisons are made only between things computed here, on this machine: the
simulator's reference mode (SimPy and batched engines) must equal the restated program bit
for bit, whatever this CPU's NumPy ``exp`` kernel and BLAS ``ddot`` kernel are, on the
eight golden runs, on a run of every h of the Fig. 3 grid in both degree modes, and on
cells of the Fig. 4 stream.

The stored golden numbers (``reference/golden_runs.json``) were made on another
machine. Errors and weights are compared with them within 1e-9 (one-bit differences of
``exp`` and ``ddot`` between machines move the last digits), and their prune events
exactly, wherever the restated program reproduces them on this machine. Where it does not
(in mode D at h >= 3 round-off decides some prunes, and a BLAS kernel that fuses
multiply-add changes that round-off: OpenBLAS's SkylakeX kernels do, its Haswell kernels
do not), the test is skipped with the reason, unless ``ARGNN_GOLDEN_STRICT=1`` (set by CI
where it forces the kernels the golden runs were made with), which makes it fail.
"""

import functools
import os

import numpy as np
import pytest

from argnn_sim import Scenario, simulate
from argnn_sim.engines.batch import simulate_batch
from argnn_sim.engines.teacher import reference_draws

from .conftest import golden_runs
from .reference_program import reference_run

STRICT = os.environ.get("ARGNN_GOLDEN_STRICT") == "1"
pytestmark = pytest.mark.exactness


def scenario(gate, hidden, mode, inputs=2000, *, evaluate=True, seed=0):
    d = {"task": {"gate": gate}, "network": {"hidden": hidden},
         "schedule": {"inputs": inputs, "evaluate": evaluate}, "rng": {"mode": "reference"},
         "record": {"traces": "prunes"}, "seed": seed}
    d["pruning"] = {"policy": "none"} if mode is None else {"mode": mode}
    return Scenario.from_dict(d)


def _events(r):
    return [{k: e[k] for k in ("input", "sweep", "node", "edge")} for e in r.prune_events]


def assert_equals_reference(r, ref):
    """Bit for bit: prune events, evaluation errors, final weights, the training curve."""
    assert _events(r) == ref["prune_events"]
    assert r.per_row_errors == ref["per_row_errors"]
    np.testing.assert_array_equal(r.final_matrix(), np.array(ref["final_W_masked"]) + 0.0)
    assert r.curves["train_error"].tolist() == ref["train_error"]
    assert r.curves["edges"].tolist() == ref["edges"]


def _state(rs):
    b = np.random.RandomState()
    b.set_state(rs.get_state())
    return b


def _both_engines(sc, rs_state):
    """The SimPy engine and the batched engine, each from the same start state."""
    a = simulate(sc, _state(rs_state), engine="simpy")
    [b] = simulate_batch([sc], [_state(rs_state)])
    return a, b


# ----------------------------------------------------------------------------- golden
def _golden_params():
    return [pytest.param(g, id=f"{g['gate']}-h{g['hidden']}-{g['mode']}-s{g['seed']}")
            for g in golden_runs()]


def _mode(g):
    m = g["mode"].upper()
    return None if m == "NONE" else m


@pytest.mark.parametrize("g", _golden_params())
def test_golden_configurations_equal_the_reference_program_here(g):
    sc = scenario(g["gate"], g["hidden"], _mode(g), g["n_training_inputs"], seed=g["seed"])
    ref = reference_run(g["gate"], g["hidden"], _mode(g), g["seed"], g["n_training_inputs"])
    a, b = _both_engines(sc, np.random.RandomState(g["seed"]))
    assert_equals_reference(a, ref)
    assert_equals_reference(b, ref)


def _reproduces(ref, g):
    return (ref["prune_events"] == g["prune_events"]
            and np.allclose(ref["per_row_errors"], g["per_row_errors"], rtol=0, atol=1e-9))


@pytest.mark.parametrize("g", _golden_params())
def test_stored_golden_run(g):
    sc = scenario(g["gate"], g["hidden"], _mode(g), g["n_training_inputs"], seed=g["seed"])
    r = simulate(sc)
    if not _reproduces(reference_run(g["gate"], g["hidden"], _mode(g), g["seed"],
                                     g["n_training_inputs"]), g):
        why = ("the published program itself, run on this machine, prunes differently from "
               "the stored golden run (its BLAS/exp kernels decide a round-off prune "
               "differently); the simulator equals that program here (test above)")
        if STRICT:
            pytest.fail(why + "; ARGNN_GOLDEN_STRICT=1 expects the golden run's kernels")
        pytest.skip(why)
    assert _events(r) == g["prune_events"]
    assert abs(r.error - g["error"]) <= 1e-9  # 1e-9: exp and ddot differ between machines
    np.testing.assert_allclose(r.per_row_errors, g["per_row_errors"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(r.final_matrix(), np.array(g["final_W_masked"]), rtol=0,
                               atol=1e-9)
    np.testing.assert_array_equal(r.final_matrix() != 0, np.array(g["final_A"]) != 0)


def test_golden_initial_weights():
    g = golden_runs()[0]
    # the reference draws its 2000 training rows before the weights
    sc = Scenario.from_dict({"rng": {"mode": "reference"}, "seed": g["seed"],
                             "schedule": {"inputs": 2000, "sweeps": 1},
                             "pruning": {"policy": "none"}, "record": {"traces": "none"}})
    r = simulate(sc)
    W0 = np.array(g["initial_W"])
    ie = r.initial_edges
    np.testing.assert_allclose(ie["weight"], W0[ie["src"], ie["dst"]], atol=1e-14)


# ----------------------------------------------------------------------------- streams
@functools.cache
def stream_states(gates, modes, hs, runs, inputs, evaluate):
    """The start state of every run of a published stream: one RandomState(0) through
    the grid in loop order gate > mode > h > run (argnn-reference.md)."""
    rs = np.random.RandomState(0)
    out = {}
    for gate in gates:
        for mode in modes:
            for h in hs:
                for run in range(runs):
                    out[gate, mode, h, run] = _state(rs)
                    reference_draws(scenario(gate, h, None if mode == "none" else mode,
                                             inputs, evaluate=evaluate), rs)
    return out


def fig3_state(cell):
    return stream_states(("AND", "OR", "XOR"), ("D", "DW", "none"), tuple(range(6)), 10, 2000,
                         True)[cell]


# every h in both modes, the gate and the run varying along the grid
FIG3_CELLS = [(("AND", "OR", "XOR")[(h + i) % 3], mode, h, (3 * h + 7 * i) % 10)
              for i, mode in enumerate(("D", "DW")) for h in range(6)]


@pytest.mark.parametrize("gate,mode,h,run", FIG3_CELLS,
                         ids=[f"{g}-{m}-h{h}-run{r}" for g, m, h, r in FIG3_CELLS])
def test_fig3_published_stream_equals_the_reference_program(gate, mode, h, run):
    state = fig3_state((gate, mode, h, run))
    ref = reference_run(gate, h, mode, _state(state))
    a, b = _both_engines(scenario(gate, h, mode), state)
    assert_equals_reference(a, ref)
    assert_equals_reference(b, ref)


def fig4_state(cell):
    return stream_states(("AND", "OR", "XOR"), ("D", "DW"), (2, 5, 10), 5, 1000, False)[cell]


FIG4_CELLS = [("AND", "D", 2, 0), ("AND", "D", 5, 3), ("AND", "DW", 10, 1), ("OR", "D", 10, 4),
              ("XOR", "DW", 5, 2)]


@pytest.mark.parametrize("gate,mode,h,run", FIG4_CELLS,
                         ids=[f"{g}-{m}-h{h}-run{r}" for g, m, h, r in FIG4_CELLS])
def test_fig4_published_stream_equals_the_reference_program(gate, mode, h, run):
    state = fig4_state((gate, mode, h, run))
    ref = reference_run(gate, h, mode, _state(state), 1000, evaluate=False)
    sc = scenario(gate, h, mode, 1000, evaluate=False)
    [b] = simulate_batch([sc], [_state(state)])
    assert_equals_reference(b, ref)
    assert b.per_row_errors == [] and np.isnan(b.error)
    if h == 2:
        assert_equals_reference(simulate(sc, _state(state), engine="simpy"), ref)
