import json
import subprocess
import sys

import numpy as np
import pytest

from argnn_sim import Scenario, simulate
from argnn_sim.node import Node

from .conftest import GOLDEN, golden_runs


def _count_wakes(monkeypatch):
    log = []
    orig = Node.activate

    def spy(self):
        log.append((self.phase.learning, self.id))
        orig(self)

    monkeypatch.setattr(Node, "activate", spy)
    return log


def test_sweep_schedule_wakes_every_node_once_per_pass(monkeypatch):
    log = _count_wakes(monkeypatch)
    sc = Scenario.from_dict({"network": {"hidden": 3}, "schedule": {"inputs": 7, "sweeps": 4,
                                                                     "eval_sweeps": 3}})
    r = simulate(sc, seed=1)
    train = [k for learn, k in log if learn]
    ev = [k for learn, k in log if not learn]
    m = 4  # non-input nodes: 3 hidden + output
    assert len(train) == 7 * 4 * m and len(ev) == 4 * 3 * m
    passes = [train[i:i + m] for i in range(0, len(train), m)]
    assert all(sorted(p) == [2, 3, 4, 5] for p in passes)
    assert len({tuple(p) for p in passes}) > 1  # a fresh random order per pass
    assert r.counters["activations"] == len(log)


def test_async_schedule_rate(monkeypatch):
    sc = Scenario.from_dict({"schedule": {"kind": "async", "inputs": 50, "input_period": 10.0,
                                          "wake_rate": 2.0}})
    r = simulate(sc, seed=2)
    horizon = (50 + 4) * 10.0
    per_node = r.counters["activations"] / 3  # 3 non-input nodes
    assert per_node == pytest.approx(2.0 * horizon, rel=0.1)


def test_async_prune_events_carry_time():
    sc = Scenario.from_dict({"schedule": {"kind": "async", "inputs": 100},
                             "channel": {"model": "exponential", "delay": 0.2}})
    r = simulate(sc, seed=0)
    s = r.summary()
    for ev in s["prune_events"]:
        assert "time" in ev and "input" not in ev


def test_loss_drops_messages():
    sc = Scenario.from_dict({"schedule": {"kind": "async", "inputs": 30},
                             "channel": {"loss": 0.3}})
    r = simulate(sc, seed=0)
    m = r.counters["messages"]
    rate = m["lost"]["value"] / m["sent"]["value"]
    assert rate == pytest.approx(0.3, abs=0.03)
    assert m["lost"]["unsubscribe"] == 0  # control messages are reliable


def _json(r):
    s = r.summary()
    s.pop("seconds")
    s.pop("timings")
    return json.dumps(s, sort_keys=True)


@pytest.mark.parametrize("kind", ["sweep", "async"])
def test_same_seed_same_result(kind):
    data = {"schedule": {"kind": kind, "inputs": 40}}
    if kind == "async":
        data["channel"] = {"model": "lognormal", "delay": 0.5, "spread": 0.5, "loss": 0.1}
    sc = Scenario.from_dict(data)
    a, b, c = simulate(sc, seed=11), simulate(sc, seed=11), simulate(sc, seed=12)
    assert _json(a) == _json(b)
    assert _json(a) != _json(c)
    np.testing.assert_array_equal(a.traces["entry_imag"], b.traces["entry_imag"])


def test_same_seed_same_result_in_subprocess(tmp_path):
    code = (
        "import json,sys; from argnn_sim import Scenario, simulate;"
        "sc=Scenario.from_dict({'schedule':{'kind':'async','inputs':40},"
        "'channel':{'model':'exponential','delay':0.3,'loss':0.05}});"
        "s=simulate(sc, seed=5).summary(); s.pop('seconds'); s.pop('timings');"
        "sys.stdout.write(json.dumps(s, sort_keys=True))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    sc = Scenario.from_dict({"schedule": {"kind": "async", "inputs": 40},
                             "channel": {"model": "exponential", "delay": 0.3, "loss": 0.05}})
    assert out == _json(simulate(sc, seed=5))


@pytest.mark.parametrize("policy", ["magnitude", "random", "none"])
def test_baseline_policies_prune_only_own_inputs(policy):
    sc = Scenario.from_dict({"schedule": {"inputs": 300},
                             "pruning": {"policy": policy, "threshold": 0.3, "rate": 0.01}})
    r = simulate(sc, seed=4)
    for ev in r.prune_events:
        assert ev["edge"][1] == ev["node"] and not ev["remote"]
    if policy == "none":
        assert r.prune_events == [] and r.edges_after == r.edges_before
    else:
        assert r.edges_after == r.edges_before - len(r.prune_events)
    indeg = np.bincount(r.final_edges["dst"], minlength=5)
    assert indeg[2:].min() >= 1  # min_in_degree respected


def test_local_rule_prunes_only_own_inputs():
    sc = Scenario.from_dict({"network": {"hidden": 4}, "schedule": {"inputs": 300},
                             "pruning": {"rule": "local", "mode": "DW"}})
    r = simulate(sc, seed=0)
    assert len(r.prune_events) >= 3, "the local rule should fire on this seed"
    out = 6
    for ev in r.prune_events:
        frm, to = ev["edge"]
        assert to == ev["node"] and not ev["remote"]
        assert to != out  # the output keeps its read-out edges
        assert frm >= 2  # only halves of 2-cycles: never an input's edge


def test_golden_file_present():
    assert GOLDEN.is_file(), f"golden runs not found at {GOLDEN}; they are part of the repository (reference/)"
    assert len(golden_runs()) == 8
