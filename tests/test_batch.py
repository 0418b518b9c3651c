"""The batched path (argnn_sim.batch) gives exactly the SimPy engine's results."""

import json

import numpy as np
import pytest

from argnn_sim import Scenario, simulate
from argnn_sim.batch import batch_key, batch_reason, simulate_batch
from argnn_sim.config import ConfigError
from argnn_sim.sweep import Grid, load_records, plan_chunks, run_sweep

from .conftest import golden_runs

SAME = ("error", "per_row_errors", "eval_rows", "prune_events", "edges_before", "edges_after",
        "counters", "labels", "seed", "scenario")


def _sc(gate="XOR", h=2, mode="D", inputs=150, rng="reference", traces="prunes", **extra):
    d = {"task": {"gate": gate}, "network": {"hidden": h}, "schedule": {"inputs": inputs},
         "record": {"traces": traces}, "rng": {"mode": rng}}
    d["pruning"] = {"policy": "none"} if mode == "none" else {"mode": mode}
    for k, v in extra.items():
        d.setdefault(k, {}).update(v)
    return Scenario.from_dict(d)


def assert_same(fast, slow):
    a, b = fast.summary(), slow.summary()
    for k in SAME:
        assert a[k] == b[k], k
    for k in slow.final_edges:
        np.testing.assert_array_equal(fast.final_edges[k], slow.final_edges[k])
    assert set(fast.curves) == set(slow.curves)
    for k in slow.curves:
        np.testing.assert_array_equal(fast.curves[k], slow.curves[k])
    for k in slow.initial_edges:
        np.testing.assert_array_equal(fast.initial_edges[k], slow.initial_edges[k])


# h = 5..7 gives rows of 8..10 entries: NumPy's pairwise sums and BLAS blocks of four
@pytest.mark.parametrize("h,mode,rng", [
    (0, "D", "reference"), (1, "DW", "default"), (2, "D", "default"), (3, "DW", "reference"),
    (5, "D", "reference"), (5, "DW", "default"), (6, "none", "reference"), (7, "DW", "reference"),
])
def test_batch_equals_engine(h, mode, rng):
    scs = [_sc(g, h, mode, rng=rng, inputs=120) for g in ("AND", "OR", "XOR", "XOR")]
    seeds = [3, 4, 5, 6]
    fast = simulate_batch(scs, seeds)
    if h >= 3 and mode != "none":  # the comparison covers prunes, remote ones included
        assert any(e["remote"] for r in fast for e in r.prune_events)
    for r, sc, s in zip(fast, scs, seeds):
        assert_same(r, simulate(sc, s))


def test_batch_of_one_and_parity_and_node_constants():
    sc = _sc("PARITY", 3, "DW", node={"error_factor": 0.3, "clip": 2.0})
    sc = Scenario.from_dict({**sc.to_dict(), "task": {"gate": "PARITY", "bits": 3}})
    [fast] = simulate_batch([sc], [11])
    assert_same(fast, simulate(sc, 11))
    assert max(abs(w) for w in fast.final_edges["weight"]) <= 2.0


def _golden_params():
    return [pytest.param(g, marks=[pytest.mark.slow] if g["hidden"] > 2 else [],
                         id=f"{g['gate']}-h{g['hidden']}-{g['mode']}-s{g['seed']}")
            for g in golden_runs()]


@pytest.mark.parametrize("g", _golden_params())
def test_batch_reproduces_golden_runs(g):
    mode = g["mode"].upper()
    sc = _sc(g["gate"], g["hidden"], "none" if mode == "NONE" else mode,
             inputs=g["n_training_inputs"], traces="none")
    [fast] = simulate_batch([sc], [g["seed"]])
    events = [{k: e[k] for k in ("input", "sweep", "node", "edge")} for e in fast.prune_events]
    assert events == g["prune_events"]
    np.testing.assert_allclose(fast.per_row_errors, g["per_row_errors"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(fast.final_matrix(), np.array(g["final_W_masked"]), rtol=0,
                               atol=1e-9)


def test_published_stream_state_as_seed():
    rs = np.random.RandomState(0)
    rs.random_sample(17)  # any start state
    state = rs.get_state()
    sc = _sc("AND", 3, "D")
    a, b = np.random.RandomState(), np.random.RandomState()
    a.set_state(state)
    b.set_state(state)
    [fast] = simulate_batch([sc], [a])
    assert_same(fast, simulate(sc, b))


def test_what_the_batched_path_does_not_cover():
    assert batch_reason(_sc()) is None
    assert "async" in batch_reason(_sc(rng="default", schedule={"kind": "async"}))
    assert "local" in batch_reason(_sc(pruning={"rule": "local"}))
    assert "full" in batch_reason(_sc(traces="full"))
    with pytest.raises(ConfigError, match="cannot run batched: .*async"):
        simulate_batch([_sc(rng="default", schedule={"kind": "async"})], [0])
    with pytest.raises(ConfigError, match="one shape"):
        simulate_batch([_sc(h=2), _sc(h=3)], [0, 0])
    assert batch_key(_sc("AND")) == batch_key(_sc("XOR"))
    assert batch_key(_sc(mode="D")) != batch_key(_sc(mode="DW"))


def test_plan_chunks_groups_by_shape_and_balances():
    grid = Grid(base=_sc(inputs=20), name="g", seeds=list(range(5)),
                axes={"h": [(h, {"network.hidden": h}) for h in (1, 4)],
                      "rule": [("ref", {}), ("local", {"pruning.rule": "local"})]})
    specs = grid.runs()
    chunks = plan_chunks(specs, "batch", batch_size=3)
    assert sorted(s.key for c in chunks for s in c) == sorted(s.key for s in specs)
    batched = [c for c in chunks if len(c) > 1]
    assert all(len(c) <= 3 for c in chunks)
    assert {len({batch_key(s.scenario) for s in c}) for c in batched} == {1}
    # five runs in chunks of at most three: 3 + 2, never 3 + 1 + 1
    assert sorted(len(c) for c in batched) == [2, 2, 3, 3]
    assert batched[0][0].scenario.network.hidden == 4  # largest work first
    assert all(len(c) == 1 and c[0].scenario.pruning.rule == "local" for c in chunks[4:])
    assert plan_chunks(specs, "simpy") == [[s] for s in specs]
    with pytest.raises(ConfigError, match="engine"):
        plan_chunks(specs, "gpu")


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
        for f in ("seconds", "timings"):
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
        assert_same(r, simulate(sc, s))
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
