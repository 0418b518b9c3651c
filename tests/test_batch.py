"""The batched engine (argnn_sim.engines.batch): what it covers, how sweeps group runs for
it, budgets, start states and edges given from outside. That its results equal the SimPy
engine's on a matrix of scenarios is tested in test_engines.py."""

import json

import numpy as np
import pytest

from argnn_sim import Scenario, simulate
from argnn_sim.config import ConfigError
from argnn_sim.engines.batch import batch_key, batch_reason, simulate_batch
from argnn_sim.sweep import Grid, load_records, plan_chunks, run_sweep
from argnn_sim.testing import assert_same_result


def _sc(gate="XOR", h=2, mode="D", inputs=150, rng="reference", traces="prunes", **extra):
    d = {"task": {"gate": gate}, "network": {"hidden": h}, "schedule": {"inputs": inputs},
         "record": {"traces": traces}, "rng": {"mode": rng}}
    d["pruning"] = {"policy": "none"} if mode == "none" else {"mode": mode}
    for k, v in extra.items():
        d.setdefault(k, {}).update(v)
    return Scenario.from_dict(d)


def test_published_stream_state_as_seed():
    rs = np.random.RandomState(0)
    rs.random_sample(17)  # any start state
    state = rs.get_state()
    sc = _sc("AND", 3, "D")
    a, b = np.random.RandomState(), np.random.RandomState()
    a.set_state(state)
    b.set_state(state)
    [fast] = simulate_batch([sc], [a])
    assert_same_result(fast, simulate(sc, b, engine="simpy"))


def test_what_the_batched_path_does_not_cover():
    assert batch_reason(_sc()) is None
    assert "async" in batch_reason(_sc(rng="default", schedule={"kind": "async"}))
    assert "local" in batch_reason(_sc(pruning={"rule": "local"}))
    assert "full" in batch_reason(_sc(traces="full"))
    with pytest.raises(ConfigError, match="cannot run on engine 'batch': .*async"):
        simulate_batch([_sc(rng="default", schedule={"kind": "async"})], [0])
    with pytest.raises(ConfigError, match="one shape"):
        simulate_batch([_sc(h=2), _sc(h=3)], [0, 0])
    assert batch_key(_sc("AND")) == batch_key(_sc("XOR"))
    assert batch_key(_sc(mode="D")) != batch_key(_sc(mode="DW"))
    assert batch_key(_sc(rng="default")) != batch_key(_sc())  # portable, reference arithmetic


def test_plan_chunks_groups_by_shape_and_balances():
    grid = Grid(base=_sc(inputs=20), name="g", seeds=list(range(5)),
                axes={"h": [(h, {"network.hidden": h}) for h in (1, 4)],
                      "rule": [("ref", {}), ("local", {"pruning.rule": "local"})]})
    specs = grid.runs()
    chunks = plan_chunks(specs, "auto", batch_size=3)
    assert sorted(s.key for _e, c in chunks for s in c) == sorted(s.key for s in specs)
    batched = [c for e, c in chunks if e == "batch"]
    assert all(len(c) <= 3 for _e, c in chunks)
    assert {len({batch_key(s.scenario) for s in c}) for c in batched} == {1}
    # five runs in chunks of at most three: 3 + 2, never 3 + 1 + 1
    assert sorted(len(c) for c in batched) == [2, 2, 3, 3]
    assert batched[0][0].scenario.network.hidden == 4  # largest work first
    # the local rule is not the batched engine's: those runs go alone, on the SimPy engine
    assert all(e == "simpy" and len(c) == 1 and c[0].scenario.pruning.rule == "local"
               for e, c in chunks[4:])
    assert plan_chunks(specs, "simpy") == [("simpy", [s]) for s in specs]
    with pytest.raises(ConfigError, match="engine 'gpu' is not known"):
        plan_chunks(specs, "gpu")
    # an engine named explicitly must run every run: one error, naming the run and why
    with pytest.raises(ConfigError, match=r"engine 'batch' cannot run run \(h=1, rule=local, "
                                          r"seed 0\): pruning policy 'spectral' rule 'local'"):
        plan_chunks(specs, "batch")
    with pytest.raises(ConfigError, match="engine 'compiled' cannot run .*arithmetic = "
                                          "'reference'"):
        plan_chunks(specs, "compiled")


def test_a_lone_run_of_its_shape_goes_on_the_fastest_single_engine():
    grid = Grid(base=_sc(inputs=20), name="g", seeds=[0], axes={"h": [(1, {"network.hidden": 1}),
                                                                      (2, {"network.hidden": 2})]})
    assert [e for e, _c in plan_chunks(grid.runs(), "auto")] == ["simpy", "simpy"]
    assert [e for e, _c in plan_chunks(grid.runs(), "batch")] == ["batch", "batch"]


def test_an_explicit_engine_refuses_a_sweep_before_anything_runs(tmp_path):
    grid = Grid(base=_sc(inputs=20), name="g", seeds=[0, 1],
                axes={"rule": [("ref", {}), ("local", {"pruning.rule": "local"})]})
    with pytest.raises(ConfigError, match="engine 'batch' cannot run"):
        run_sweep(grid, tmp_path / "s", engine="batch")
    assert not (tmp_path / "s").exists()


def test_sweep_with_either_engine_writes_the_same_records(tmp_path):
    grid = Grid(base=_sc(inputs=40), name="g", seeds=[0, 1, 2], stream="published",
                axes={"gate": [(g, {"task.gate": g}) for g in ("AND", "XOR")],
                      "h": [(h, {"network.hidden": h}) for h in (2, 3)]})
    slow = run_sweep(grid, tmp_path / "a", engine="simpy")
    fast = run_sweep(grid, tmp_path / "b", engine="batch", batch_size=4)
    ra, rb = load_records(tmp_path / "a"), load_records(tmp_path / "b")
    assert set(ra) == set(rb) and len(ra) == 12
    for k in ra:
        sa, sb = ra[k]["summary"], rb[k]["summary"]
        for f in ("seconds", "timings", "engine"):
            sa.pop(f), sb.pop(f)
        assert json.dumps(sa, sort_keys=True) == json.dumps(sb, sort_keys=True)
    assert [c["error_mean"] for c in slow.cells] == [c["error_mean"] for c in fast.cells]
    # results are interchangeable: a batch sweep resumes a SimPy sweep without re-running
    again = run_sweep(grid, tmp_path / "a", engine="batch", resume=True)
    assert again.executed == 0 and again.skipped == 12


def test_budget_caps_proposals_as_the_engine_does():
    scs = [_sc(g, 5, "DW", inputs=200, pruning={"budget": b})
           for g, b in (("XOR", 1), ("AND", 3), ("OR", 0), ("XOR", 2))]
    fast = simulate_batch(scs, [1, 2, 3, 4])
    for r, sc, s in zip(fast, scs, [1, 2, 3, 4]):
        assert_same_result(r, simulate(sc, s, engine="simpy"))
    assert [len(r.prune_events) <= max(b, 99 * (b == 0)) for r, b in
            zip(fast, (1, 3, 0, 2))] == [True] * 4
    assert fast[0].counters["checks"] < fast[2].counters["checks"]  # spent: no more checks


def test_initial_edges_replace_the_circuit_and_keep_the_schedule():
    sc = _sc("XOR", 3, "none", inputs=0)
    trained = simulate(_sc("XOR", 3, "none", inputs=100), 5)
    fe = trained.final_edges
    keep = np.arange(fe["src"].size) != 2  # drop one edge
    edges = {k: v[keep] for k, v in fe.items()}
    [a, b] = simulate_batch([sc, sc], [5, 5], initial=[edges, None])
    assert a.edges_before == fe["src"].size - 1 and b.edges_before == fe["src"].size
    assert a.eval_rows == b.eval_rows  # the seed's schedule, whatever the edges
    np.testing.assert_array_equal(a.final_edges["weight"], edges["weight"])  # no learning
    with pytest.raises(ValueError, match="not edges of the circuit"):
        simulate_batch([sc], [5], initial=[{"src": [0], "dst": [1], "weight": [0.5]}])
