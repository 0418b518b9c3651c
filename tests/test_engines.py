"""Engines behind one door (argnn_sim.engines): the registry, ``engine="auto"``, and the
equivalence matrix: every scenario below runs on every engine that accepts it, and each
result equals the SimPy engine's bit for bit (argnn_sim.testing.assert_same_result)."""

import numpy as np
import pytest

from argnn_sim import Scenario, simulate
from argnn_sim.config import ConfigError
from argnn_sim.engines import ENGINES, choose_engine, engine_reason
from argnn_sim.engines.batch import simulate_batch
from argnn_sim.engines.compiled import available
from argnn_sim.sweep import Grid, run_sweep
from argnn_sim.testing import assert_same_result, result_differences

pytestmark = pytest.mark.exactness
needs_numba = pytest.mark.skipif(not available(), reason="numba is not installed (extra 'fast')")


def logic(gate="XOR", h=2, mode="D", inputs=120, rng="reference", traces="prunes", **extra):
    d = {"task": {"gate": gate}, "network": {"hidden": h}, "schedule": {"inputs": inputs},
         "record": {"traces": traces}, "rng": {"mode": rng}}
    d["pruning"] = {"policy": "none"} if mode == "none" else {"mode": mode}
    for k, v in extra.items():
        d[k] = {**d.get(k, {}), **v}
    return Scenario.from_dict(d)


def network(n=120, traces="prunes", inputs=25, **extra):
    d = {"task": {"gate": "XOR"},
         "network": {"kind": "random", "nodes": n, "mean_degree": 8.0},
         "schedule": {"kind": "async", "inputs": inputs, "input_period": 1.0, "wake_rate": 1.0},
         "channel": {"model": "exponential", "delay": 0.5},
         "pruning": {"policy": "spectral", "rule": "local", "mode": "DW"},
         "record": {"traces": traces}}
    for k, v in extra.items():
        d[k] = {**d.get(k, {}), **v}
    return Scenario.from_dict(d)


def _road_files() -> dict:
    """A small road series (12 sensors on a ring with two chords, 160 steps), written once
    per test process to a temporary folder (removed at exit)."""
    import atexit
    import shutil
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="argnn-road-"))
    atexit.register(shutil.rmtree, folder, True)
    n, steps = 12, 160
    rng = np.random.default_rng(5)
    t = np.arange(steps)[:, None]
    values = 40 + 15 * np.sin(t / 6 + np.arange(n)) + rng.normal(0, 2, (steps, n))
    adj = np.roll(np.eye(n), 1, 1) + np.roll(np.eye(n), -1, 1)
    adj[0, 6] = adj[6, 0] = adj[3, 9] = adj[9, 3] = 1
    np.savez(folder / "road.npz", data=values)
    np.savetxt(folder / "road_adj.csv", adj, delimiter=",", fmt="%g")
    return {"kind": "series", "data": str(folder / "road.npz"),
            "adjacency": str(folder / "road_adj.csv")}


ROAD = _road_files()


def series(hops=0, hidden=0, mode="DW", schedule="sweep", traces="prunes", sweeps=1, **extra):
    """A series task as the road comparison runs it: every input edge eligible, outputs
    pruning, bias; the sweep schedule (one pass) or the async one."""
    d = {"task": {**ROAD, "hops": hops, "hidden": hidden, "passes": 2},
         "node": {"bias": True}, "record": {"traces": traces},
         "pruning": {"policy": "spectral", "rule": "local", "mode": mode, "eligible": "all",
                     "outputs": True}}
    if schedule == "sweep":
        d["schedule"] = {"sweeps": sweeps, "eval_sweeps": sweeps}
    else:
        d["schedule"] = {"kind": "async", "input_period": 1.0, "wake_rate": 1.0}
        d["channel"] = {"model": "exponential", "delay": 0.1, "loss": 0.05}
    for k, v in extra.items():
        d[k] = {**d.get(k, {}), **v}
    return Scenario.from_dict(d)


# name -> (scenario, seed). h = 5..7 gives rows of 8..10 entries: NumPy's pairwise sums
# and BLAS's blocks; reference-rule runs at h >= 3 prune remotely.
MATRIX = {
    "sweep-ref-D-h0": (logic(h=0), 1),
    "sweep-ref-DW-h1-AND": (logic("AND", 1, "DW"), 2),
    "sweep-ref-D-h3-OR": (logic("OR", 3, "D"), 4),
    "sweep-ref-DW-h5": (logic(h=5, mode="DW"), 3),
    "sweep-ref-D-h5-AND": (logic("AND", 5, "D"), 2),
    "sweep-ref-none-h6": (logic(h=6, mode="none"), 6),
    "sweep-ref-DW-h7": (logic(h=7, mode="DW", inputs=60), 5),
    "sweep-portable-D-h2": (logic(rng="default"), 7),
    "sweep-portable-DW-h5-AND": (logic("AND", 5, "DW", rng="default"), 8),
    "sweep-portable-D-h7": (logic(h=7, rng="default", inputs=60), 9),
    "sweep-ref-rng-portable-arith": (logic(h=3, mode="DW", node={"arithmetic": "portable"}), 1),
    "sweep-default-rng-ref-arith": (logic(h=4, rng="default", node={"arithmetic": "reference"}),
                                    2),
    "sweep-budget": (logic(h=5, mode="DW", pruning={"budget": 2}), 3),
    "sweep-parity3-constants": (logic("PARITY", 3, "DW", task={"bits": 3},
                                      node={"error_factor": 0.3, "clip": 2.0}), 11),
    "sweep-no-eval": (logic(h=3, schedule={"evaluate": False}), 4),
    "sweep-traces-full": (logic(h=3, traces="full"), 5),
    "sweep-local-rule": (logic(h=4, mode="DW", rng="default", pruning={"rule": "local"}), 1),
    "sweep-magnitude": (logic(h=3, rng="default", pruning={"policy": "magnitude",
                                                           "threshold": 0.3}), 2),
    "sweep-bias": (logic(h=2, rng="default", node={"bias": True}), 3),
    "async-exponential": (network(), 3),
    "async-exponential-full": (network(traces="full"), 3),
    "async-none-traces": (network(traces="none"), 4),
    "async-constant": (network(channel={"model": "constant", "delay": 0.3}), 5),
    "async-zero-delay": (network(channel={"model": "constant", "delay": 0.0}), 6),
    "async-lognormal": (network(channel={"model": "lognormal", "delay": 0.4, "spread": 0.5}), 7),
    "async-uniform-full": (network(traces="full", channel={"model": "uniform", "delay": 0.4,
                                                          "spread": 0.2}), 8),
    "async-no-pruning": (network(pruning={"policy": "none"}), 9),
    "async-mode-D": (network(pruning={"mode": "D"}), 10),
    "async-bias": (network(node={"bias": True}), 11),
    "async-min-in-degree": (network(pruning={"min_in_degree": 3}), 12),
    "async-watch-3": (network(traces="full", record={"watch": 3}), 13),
    "async-logic-AND-h5": (network(network={"kind": "logic", "hidden": 5}, task={"gate": "AND"},
                                   schedule={"inputs": 150}), 14),
    "async-lossy": (network(channel={"loss": 0.1}), 15),
    "async-lossy-full": (network(traces="full", channel={"loss": 0.3}), 19),
    "async-lossy-none-traces": (network(traces="none", channel={"loss": 0.05}), 20),
    "async-lossy-uniform": (network(channel={"loss": 0.2, "model": "uniform", "delay": 0.4,
                                             "spread": 0.3}), 21),
    "async-lossy-constant": (network(channel={"loss": 0.1, "model": "constant"}), 22),
    "async-lossy-zero-delay": (network(channel={"loss": 0.1, "delay": 0.0}), 23),
    "async-lossy-lognormal": (network(channel={"loss": 0.1, "model": "lognormal",
                                               "spread": 0.5}), 24),
    "async-faults": (network(faults={"crash_rate": 0.01, "downtime": 2.0}), 16),
    "async-faults-reset-full": (network(traces="full", faults={"crash_rate": 0.02,
                                                               "downtime": 3.0, "reset": True}),
                                25),
    "async-faults-start-eval": (network(faults={"crash_rate": 0.03, "downtime": 1.0,
                                                "start": 5.0, "during_eval": True}), 26),
    "async-faults-lossy-logic": (network(network={"kind": "logic", "hidden": 4},
                                         schedule={"inputs": 120, "input_period": 10.0},
                                         channel={"loss": 0.2},
                                         faults={"crash_rate": 0.004, "downtime": 50.0}), 27),
    "async-reference-rule": (network(network={"kind": "logic", "hidden": 4},
                                     pruning={"rule": "reference"}), 17),
    "async-reference-D-h5-full": (network(traces="full", network={"kind": "logic", "hidden": 5},
                                          schedule={"inputs": 150, "input_period": 10.0},
                                          pruning={"rule": "reference", "mode": "D"}), 28),
    "async-reference-zero-delay": (network(network={"kind": "logic", "hidden": 3},
                                           channel={"delay": 0.0},
                                           schedule={"inputs": 150, "input_period": 10.0},
                                           pruning={"rule": "reference"}), 29),
    "async-reference-lossy-faults": (network(network={"kind": "logic", "hidden": 3},
                                             schedule={"inputs": 200, "input_period": 10.0},
                                             channel={"loss": 0.1, "model": "uniform",
                                                      "spread": 0.3},
                                             faults={"crash_rate": 0.004, "downtime": 50.0},
                                             pruning={"rule": "reference"}), 30),
    "async-reference-random": (network(pruning={"rule": "reference"}), 31),
    "async-reference-none-traces": (network(traces="none", network={"kind": "logic",
                                                                     "hidden": 2},
                                            schedule={"inputs": 150, "input_period": 10.0},
                                            pruning={"rule": "reference"}), 33),
    "async-reference-lognormal": (network(network={"kind": "logic", "hidden": 3},
                                          channel={"model": "lognormal", "spread": 0.5},
                                          pruning={"rule": "reference"}), 32),
    "async-reference-arith": (network(node={"arithmetic": "reference"}), 18),
    # series tasks (the road comparison's runs): several outputs, streamed inputs
    "series-sweep-hops0-DW": (series(), 40),
    "series-sweep-hops1-hidden1-D": (series(1, 1, "D"), 41),
    "series-sweep-hops1-sweeps2": (series(1, sweeps=2), 42),
    "series-sweep-budget": (series(1, pruning={"budget": 7}), 43),
    "series-sweep-cycles-hidden1": (series(0, 1, pruning={"eligible": "cycles"}), 44),
    "series-sweep-none": (series(1, 1, pruning={"policy": "none"}), 45),
    "series-sweep-full": (series(1, traces="full"), 46),
    "series-async-lossy-hops0-DW": (series(schedule="async"), 47),
    "series-async-lossy-hops1-hidden1": (series(1, 1, schedule="async"), 48),
    "series-async-instant-hops1": (series(1, 0, schedule="async",
                                          channel={"delay": 0.0, "loss": 0.0}), 49),
    "series-async-budget-hidden1": (series(0, 1, schedule="async", pruning={"budget": 5}), 50),
    "series-async-faults-full": (series(1, schedule="async", traces="full",
                                        faults={"crash_rate": 0.02, "downtime": 2.0}), 51),
}
PAIRS = [(case, e) for case, (sc, _s) in MATRIX.items() for e in ENGINES
         if e != "simpy" and engine_reason(e, sc) is None]
_SIMPY: dict[str, object] = {}


def _simpy(case):
    if case not in _SIMPY:
        sc, seed = MATRIX[case]
        _SIMPY[case] = simulate(sc, seed, engine="simpy")
    return _SIMPY[case]


@pytest.mark.parametrize("case,engine", PAIRS, ids=[f"{c}-{e}" for c, e in PAIRS])
def test_engine_equals_simpy(case, engine):
    sc, seed = MATRIX[case]
    fast = simulate(sc, seed, engine=engine)
    slow = _simpy(case)
    assert fast.engine == engine and slow.engine == "simpy"
    assert_same_result(fast, slow)


@needs_numba
@pytest.mark.parametrize("case", [c for c in MATRIX if c.startswith("series")])
def test_series_predictions_equal_bit_for_bit(case, monkeypatch):
    """The compiled engine's series runs: every scored prediction (each output node's value
    at each scored test step) equals the SimPy engine's, and so does the whole result; the
    series cases prune, spend their budgets and run on the compiled engine under auto."""
    import argnn_sim.series_kind as SK

    real = SK.series_task_metrics

    def with_predictions(prepared, driver, final):
        out = real(prepared, driver, final)
        out["predictions"] = np.asarray(driver.predictions)
        out["scored_steps"] = list(driver.scored)
        return out

    monkeypatch.setattr(SK, "series_task_metrics", with_predictions)
    sc, seed = MATRIX[case]
    assert choose_engine(sc) == "compiled"
    fast = simulate(sc, seed)
    slow = simulate(sc, seed, engine="simpy")
    assert fast.engine == "compiled"
    assert fast.metrics["predictions"].shape == (20, 12)  # scored test steps, sensors
    assert np.array_equal(fast.metrics["predictions"], slow.metrics["predictions"])
    assert_same_result(fast, slow)
    budget = sc.pruning.budget
    if budget:
        assert len(slow.prune_events) == budget
    elif sc.pruning.policy != "none" and sc.pruning.mode == "DW":
        assert len(slow.prune_events) >= 5


@needs_numba
@pytest.mark.parametrize("case,kind,amount", [("series-sweep-hops1-hidden1-D", "sensors", 4),
                                              ("series-async-lossy-hops0-DW", "edges", 9)])
def test_after_training_interventions_on_the_compiled_engine(case, kind, amount):
    """The road comparison's centralized pruning of the trained network (an
    ``after_training`` hook) gives the SimPy engine's result on the compiled engine."""
    from prunegcrn_bridge.road.run import _prune_trained

    sc, seed = MATRIX[case]
    hook = _prune_trained(kind, amount)
    fast = simulate(sc, seed, after_training=hook)
    slow = simulate(sc, seed, engine="simpy", after_training=hook)
    assert fast.engine == "compiled"
    assert_same_result(fast, slow)
    cut = [ev["edge"] for ev in slow.prune_events if ev["input"] == -1]
    if kind == "edges":
        assert len(cut) == amount
    else:  # every input edge of the sensors not kept
        labels = slow.labels
        assert len({labels[a] for a, _b in cut}) == 12 - amount
        assert all(str(labels[a]).startswith("x") for a, _b in cut)
    assert simulate(sc, seed, after_training=None).engine == "compiled"


def test_the_matrix_is_not_vacuous():
    """Every fast engine is compared on many scenarios, with prunes and remote prunes."""
    by_engine = {e: [c for c, x in PAIRS if x == e] for e in ENGINES if e != "simpy"}
    assert len(by_engine["batch"]) >= 12
    assert len(by_engine["compiled"]) >= 12 or not available()
    pruned = [c for c, _e in PAIRS if _simpy(c).prune_events]
    assert len(set(pruned)) >= 15
    assert any(ev["remote"] for c in pruned for ev in _simpy(c).prune_events)
    assert any(_simpy(c).traces for c, e in PAIRS if e == "compiled") or not available()
    if not available():
        return
    # every scenario runs on some engine besides SimPy, or is one only SimPy covers
    only_simpy = {c for c in MATRIX} - {c for c, _e in PAIRS}
    assert only_simpy == {"sweep-traces-full", "sweep-magnitude", "async-lossy-lognormal",
                          "async-reference-lognormal", "async-reference-arith"}
    # the sweep schedule on the compiled engine, the reference rule's remote prunes included
    assert {"sweep-local-rule", "sweep-bias", "sweep-ref-rng-portable-arith",
            "sweep-portable-DW-h5-AND"} <= set(by_engine["compiled"])
    assert any(ev["remote"] for ev in _simpy("sweep-ref-rng-portable-arith").prune_events)
    # every series case, sweep and async
    assert len([c for c in by_engine["compiled"] if c.startswith("series")]) == 12
    # lossy links and faults are compared on the compiled engine, at every trace level
    assert {"async-lossy", "async-lossy-full", "async-lossy-none-traces", "async-faults",
            "async-faults-reset-full", "async-faults-lossy-logic"} <= set(by_engine["compiled"])
    # the reference rule too, with remote prunes, on the logic circuit and a random network
    ref = [c for c in by_engine["compiled"] if c.startswith("async-reference")]
    assert len(ref) >= 5
    assert all(any(ev["remote"] for ev in _simpy(c).prune_events) for c in ref)


@pytest.mark.parametrize("case", ["sweep-traces-full", "async-lossy-lognormal",
                                  "async-reference-arith",
                                  "sweep-local-rule"])
def test_an_engine_that_cannot_run_says_why(case):
    sc, seed = MATRIX[case]
    for e in ENGINES:
        why = engine_reason(e, sc)
        if why is None:
            continue
        with pytest.raises(ConfigError, match=f"engine '{e}' cannot run .*use engine 'auto'"):
            simulate(sc, seed, engine=e)


@needs_numba
def test_auto_picks_the_fastest_engine_that_can():
    assert choose_engine(MATRIX["async-exponential"][0]) == "compiled"
    assert choose_engine(MATRIX["async-lossy"][0]) == "compiled"
    assert choose_engine(MATRIX["async-faults"][0]) == "compiled"
    assert choose_engine(MATRIX["async-reference-rule"][0]) == "compiled"
    assert choose_engine(MATRIX["async-reference-lognormal"][0]) == "simpy"
    assert choose_engine(MATRIX["sweep-ref-D-h0"][0]) == "simpy"  # one run: SimPy beats batch
    r = simulate(*MATRIX["async-exponential"])
    assert r.engine == "compiled" and r.summary()["engine"] == "compiled"
    assert simulate(*MATRIX["async-exponential"], delivery="eager").engine == "simpy"


def test_every_run_says_why_a_faster_engine_did_not_run_it(tmp_path):
    """No silent fallback: a run the fastest engine of its setting did not run names why,
    in the result, its summary and a sweep's record; a run on the fastest says nothing."""
    ref = MATRIX["async-reference-lognormal"][0]
    r = simulate(ref, 1)
    assert r.engine == "simpy" and r.engine_note.startswith("compiled: ")
    assert "lognormal" in r.summary()["engine_note"]
    assert simulate(*MATRIX["async-exponential"]).engine_note == ""
    assert simulate(*MATRIX["sweep-ref-D-h0"]).engine_note == ""  # alone, SimPy is fastest
    asked = simulate(*MATRIX["async-lossy"], engine="simpy")
    assert asked.engine_note == "engine 'simpy' was asked for; 'compiled' covers this run"
    # in a sweep, runs of the sweep schedule the batched engine cannot take say why
    grid = Grid(base=MATRIX["sweep-local-rule"][0], seeds=[0, 1])
    recs = run_sweep(grid, tmp_path / "s").records
    assert {x["summary"]["engine"] for x in recs} == {"simpy"}
    assert all(x["summary"]["engine_note"].startswith("batch: pruning policy") for x in recs)


def test_unknown_engine():
    with pytest.raises(ConfigError, match="engine 'turbo' is not known"):
        simulate(Scenario(), 0, engine="turbo")


def test_a_batch_of_many_runs_equals_each_run_alone():
    scs = [logic(g, 5, "DW", inputs=100) for g in ("AND", "OR", "XOR", "XOR")]
    seeds = [3, 4, 5, 6]
    for fast, sc, seed in zip(simulate_batch(scs, seeds), scs, seeds):
        assert_same_result(fast, simulate(sc, seed, engine="simpy"))


def test_assert_same_result_finds_every_difference():
    sc, seed = MATRIX["sweep-ref-D-h3-OR"]
    a = simulate(sc, seed)
    b = simulate(sc, seed)
    assert result_differences(a, b) == []
    b.final_edges["weight"] = b.final_edges["weight"].copy()
    b.final_edges["weight"][0] = np.nextafter(b.final_edges["weight"][0], 1.0)  # one bit
    b.prune_events = b.prune_events[:-1]
    diff = result_differences(a, b)
    assert any(d.startswith("final_edges.weight") for d in diff)
    assert any(d.startswith("prune_events") for d in diff)
    with pytest.raises(AssertionError, match="final_edges.weight"):
        assert_same_result(a, b)
    assert_same_result(a, b, ignore=("final_edges", "prune_events"))
