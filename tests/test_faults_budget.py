"""Node crashes with recovery, and the pruning budget."""

import math

import pytest

from argnn_sim import simulate
from argnn_sim.config import ConfigError, Scenario


def async_scenario(**faults):
    return Scenario.from_dict({
        "schedule": {"kind": "async", "inputs": 60, "input_period": 10.0},
        "pruning": {"policy": "none"}, "record": {"traces": "none"},
        "faults": faults})


def test_no_faults_by_default():
    r = simulate(async_scenario(), 1)
    assert "faults" not in r.counters


def test_crashed_nodes_neither_wake_nor_hear():
    ok = simulate(async_scenario(), 1)
    bad = simulate(async_scenario(crash_rate=0.05, downtime=20.0), 1)
    f = bad.counters["faults"]
    assert f["crashes"] > 10
    # 3 non-input nodes over 600 + 40 time units; each down about 20/(20+20) of the time.
    horizon = 3 * (60 + 4) * 10.0
    assert 0.25 < f["node_time_down"] / horizon < 0.75
    assert f["messages_missed"] > 0
    # Down nodes skip their wakes: activations fall by about the down share.
    share = bad.counters["activations"] / ok.counters["activations"]
    assert share == pytest.approx(1 - f["node_time_down"] / horizon, abs=0.12)


def test_faults_are_deterministic_and_start_late():
    a = simulate(async_scenario(crash_rate=0.02), 3).summary()
    b = simulate(async_scenario(crash_rate=0.02), 3).summary()
    for s in (a, b):
        s.pop("seconds"), s.pop("timings")
    assert a == b
    late = simulate(async_scenario(crash_rate=0.02, start=1e9), 3)
    assert late.counters["faults"]["crashes"] == 0


def test_recover_with_reset_forgets_registers(tiny_circuit):
    from argnn_sim.engines.simpy_engine import Network
    from argnn_sim.recorder import Recorder
    from argnn_sim.rng import Streams
    from argnn_sim.tasks import make_task
    from argnn_sim.topology import build

    streams = Streams(0)
    topo = build(tiny_circuit.network, make_task(tiny_circuit.task), streams.weights)
    net = Network(tiny_circuit, topo, streams, Recorder("none"))
    node = net.nodes[2]
    node.in_v[0] = 0.7
    node.in_stamp[0] = 1.0
    w = list(node.in_w)
    node.crash()
    node.on_value(node.in_src[1], 0.9, 2.0)
    assert node.missed == 1 and node.in_v[1] == 0.0  # lost while down
    node.recover(reset=False)
    assert node.in_v[0] == 0.7
    node.crash()
    node.recover(reset=True)
    assert node.in_v == [0.0] * len(node.in_src) and node.in_stamp[0] == -math.inf
    assert node.in_w == w  # weights are persistent state


def test_faults_work_in_the_sweep_schedule_too():
    sc = Scenario.from_dict({"schedule": {"inputs": 50}, "faults": {"crash_rate": 0.05,
                                                                   "downtime": 5.0}})
    r = simulate(sc, 0)
    assert r.counters["faults"]["crashes"] > 0
    assert r.counters["activations"] < 3 * (50 * 10 + 40)


@pytest.mark.parametrize("key, value", [("faults.crash_rate", -1.0), ("faults.downtime", 0.0),
                                        ("faults.start", -2.0), ("pruning.budget", -1)])
def test_bad_fault_and_budget_values(key, value):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        Scenario().replace(**{key: value})


@pytest.mark.parametrize("policy, extra", [
    ("magnitude", {"pruning.threshold": 5.0}),
    ("random", {"pruning.rate": 1.0}),
])
def test_budget_caps_the_number_of_prunes(policy, extra):
    sc = Scenario.from_dict({"schedule": {"inputs": 40}, "network": {"hidden": 3}})
    sc = sc.replace(**{"pruning.policy": policy, **extra})
    free = simulate(sc, 2)
    assert len(free.prune_events) > 3
    capped = simulate(sc.replace(**{"pruning.budget": 3}), 2)
    assert len(capped.prune_events) == 3
    assert capped.edges_after == capped.edges_before - 3


def test_faults_end_with_training_unless_asked_to_go_on():
    calm = simulate(async_scenario(crash_rate=0.05, downtime=5.0), 4)
    assert calm.counters["faults"]["crashes"] > 0
    assert calm.counters["faults"]["crashes_during_eval"] == 0
    rough = simulate(async_scenario(crash_rate=0.05, downtime=5.0, during_eval=True), 4)
    assert rough.counters["faults"]["crashes_during_eval"] > 0
    # Same training either way: faults differ only once evaluation starts.
    assert calm.counters["faults"]["crashes"] < rough.counters["faults"]["crashes"]
