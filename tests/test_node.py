import math

import numpy as np
import pytest

from argnn_sim import Network, Scenario
from argnn_sim.config import ChannelConfig, ScheduleConfig
from argnn_sim.node import Node, NullObserver, Phase
from argnn_sim.pruning import NoPruning
from argnn_sim.recorder import Recorder
from argnn_sim.rng import Streams
from argnn_sim.tasks import make_task
from argnn_sim.topology import Topology, build


class FakePort:
    """Records what a node sends; stands in for the transport."""

    def __init__(self):
        self.sent = []
        self.now = 0.0

    def value(self, dsts, v):
        self.sent += [("value", d, v) for d in dsts]

    def error(self, dst, e, w):
        self.sent.append(("error", dst, e, w))

    def errors(self, dsts, e, ws):
        for d, w in zip(dsts, ws):
            self.error(d, e, w)

    def hello(self, dst, w):
        self.sent.append(("hello", dst, w))

    def unsubscribe(self, dst):
        self.sent.append(("unsubscribe", dst))

    def prune_request(self, dst, frm):
        self.sent.append(("prune", dst, frm))


def _hidden(port, phase=None, policy=None, observer=None):
    return Node(3, "hidden", in_src=[0, 2, 4], in_w=[0.5, -1.0, 2.0], out_dst=[4, 5],
                port=port, policy=policy or NoPruning(), observer=observer or NullObserver(),
                phase=phase or Phase(learning=True, pruning=False))


def test_hidden_node_step_with_hand_made_inbox():
    port = FakePort()
    node = _hidden(port)
    # inbox: values from 0, 2, 4; errors (and edge weights) from 4, 5
    node.on_value(0, 1.0, 0.0)
    node.on_value(2, 0.25, 0.0)
    node.on_value(4, 0.5, 0.0)
    node.on_error(4, 0.1, 1.5, 0.0)
    node.on_error(5, -0.2, 0.5, 0.0)
    node.activate()
    s = 1.0 * 0.5 + 0.25 * -1.0 + 0.5 * 2.0
    V = 1 / (1 + math.exp(-s))
    E = (0.1 * 1.5 + -0.2 * 0.5) * (V * (1 - V))
    assert node.V == pytest.approx(V, abs=1e-15)
    assert node.E == pytest.approx(E, abs=1e-15)
    w_new = [0.5 - E * 1.0, -1.0 - E * 0.25, 2.0 - E * 0.5]
    np.testing.assert_allclose(node.in_w, w_new, atol=1e-15)
    values = [m for m in port.sent if m[0] == "value"]
    errors = [m for m in port.sent if m[0] == "error"]
    assert [m[1] for m in values] == [4, 5] and all(m[2] == node.V for m in values)
    assert [(m[1], m[3]) for m in errors] == list(zip([0, 2, 4], node.in_w))
    assert all(m[2] == node.E for m in errors)


def test_output_node_error_and_clip():
    port = FakePort()
    node = Node(2, "output", in_src=[0, 1], in_w=[9.99, -9.99], out_dst=[], port=port,
                policy=NoPruning(), observer=NullObserver(), phase=Phase(True, False))
    node.on_value(0, 1.0, 0.0)
    node.on_value(1, 1.0, 0.0)
    node.set_target(1.0)
    node.activate()
    assert node.V == pytest.approx(0.5)
    assert node.E == pytest.approx(0.15 * (0.5 - 1.0))
    # 9.99 - E*1 = 9.99 + 0.075 is clipped to 10
    assert node.in_w == [10.0, pytest.approx(-9.99 + 0.075)]


def test_no_learning_keeps_weights_but_sends_errors():
    port = FakePort()
    node = _hidden(port, phase=Phase(learning=False, pruning=False))
    node.on_error(4, 0.3, 1.0, 0.0)
    node.activate()
    assert node.in_w == [0.5, -1.0, 2.0]
    assert sum(m[0] == "error" for m in port.sent) == 3


def test_out_of_order_delivery_never_overwrites_newer_news():
    node = _hidden(FakePort())
    node.on_value(2, 0.9, 5.0)
    node.on_value(2, 0.1, 3.0)  # older message arrives late
    assert node.in_v[1] == 0.9


def test_drop_input_notifies_upstream_and_records():
    port = FakePort()
    rec = Recorder("prunes")
    node = _hidden(port, observer=rec)
    node.drop_input(2, decider=5)
    assert node.in_src == [0, 4] and node.in_w == [0.5, 2.0]
    assert ("unsubscribe", 2) in port.sent
    assert rec.prunes[0]["edge"] == [2, 3] and rec.prunes[0]["remote"] is True
    # values from the dropped neighbour are ignored from now on
    node.on_value(2, 0.7, 1.0)
    assert 0.7 not in node.in_v


def test_unsubscribe_and_prune_request_handlers():
    port = FakePort()
    node = _hidden(port)
    node.on_unsubscribe(5, 0.0)
    assert node.out_dst == [4] and len(node.out_w) == 1
    node.on_prune_request(7, 0, 0.0)  # node 7 asks: drop your input from 0
    assert node.in_src == [2, 4]
    node.on_prune_request(7, 99, 0.0)  # no such edge: nothing happens
    assert node.in_src == [2, 4]


def test_nan_weights_rejected():
    with pytest.raises(ValueError, match="finite"):
        Node(1, "hidden", in_src=[0], in_w=[float("nan")], out_dst=[], port=FakePort(),
             policy=NoPruning(), observer=NullObserver(), phase=Phase())


# ----- the decentralization wall -------------------------------------------------------

def _walk(obj, seen, path, found):
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, (Node, Topology, Network)) and path:
        found.append((path, type(obj).__name__))
        return
    if isinstance(obj, np.ndarray):
        found.append((path, f"ndarray{obj.shape}"))
        return
    if isinstance(obj, (list, tuple, set)):
        for i, x in enumerate(obj):
            _walk(x, seen, f"{path}[{i}]", found)
    elif isinstance(obj, dict):
        for k, x in obj.items():
            _walk(x, seen, f"{path}[{k!r}]", found)


def test_wall_no_node_holds_another_node_or_a_global_matrix():
    sc = Scenario(schedule=ScheduleConfig(inputs=3))
    streams = Streams(0)
    topo = build(sc.network, make_task(sc.task), streams.weights)
    net = Network(sc, topo, streams, Recorder("none"))
    for node in net.nodes:
        found = []
        for name in Node.__slots__:
            if name in ("port", "policy", "observer", "phase"):
                continue  # the node's interfaces: checked by type below
            _walk(getattr(node, name), set(), f"node{node.id}.{name}", found)
        assert found == [], f"node {node.id} holds {found}"
        assert type(node.port).__name__ == "Port"
        assert set(node.port.__slots__) == {"src", "_t"}
        assert type(node.phase).__name__ == "Phase"
        # what it knows of its neighbourhood is its own star, no wider
        assert len(node.star().ids) <= topo.n


def test_async_nodes_act_on_stale_information():
    sc = Scenario.from_dict({
        "schedule": {"kind": "async", "inputs": 20, "input_period": 10.0, "wake_rate": 1.0},
        "channel": {"model": "constant", "delay": 2.0},
    })
    from argnn_sim import simulate

    r = simulate(sc, seed=3)
    ages = r.traces["age_value"]
    assert ages.size > 100
    assert ages.min() >= 2.0 - 1e-12  # nothing fresher than one link delay
    assert ages.mean() > 2.5


def test_sweep_nodes_see_fresh_information():
    from argnn_sim import simulate

    sc = Scenario(schedule=ScheduleConfig(inputs=5))
    r = simulate(sc, seed=0)
    assert r.traces["age_value"].size == 0  # ages are only tracked in async
    assert r.counters["messages"]["lost"]["value"] == 0


def test_channel_config_rejects_sweep_delay():
    from argnn_sim import ConfigError

    with pytest.raises(ConfigError, match="schedule.kind = 'async'"):
        Scenario(channel=ChannelConfig(delay=1.0))


def test_watched_nodes_and_the_watch_key():
    from argnn_sim.config import ConfigError
    from argnn_sim.recorder import watched_nodes

    assert watched_nodes(100, (0, 1), 99, 0) is None
    assert watched_nodes(18, (0, 1), 17, 16) is None  # 16 non-input nodes: all of them
    assert watched_nodes(100, (0, 1), 99, 1) == {99}
    assert watched_nodes(100, (0, 1), 99, 2) == {2, 99}
    w = watched_nodes(100, (0, 1), 99, 16)
    assert len(w) == 16 and {2, 98, 99} <= w and not w & {0, 1}
    assert watched_nodes(100, (0, 1), 99, 16) == w  # no randomness
    with pytest.raises(ConfigError, match="record.watch"):
        Scenario.from_dict({"record": {"watch": -1}})
