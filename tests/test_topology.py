import networkx as nx
import numpy as np
import pytest

from argnn_sim import ConfigError, Scenario, from_networkx, simulate
from argnn_sim.config import NetworkConfig
from argnn_sim.rng import Streams
from argnn_sim.tasks import make_task
from argnn_sim.topology import build


@pytest.mark.parametrize("h,edges", [(1, 6), (2, 12), (3, 20), (4, 30), (5, 42)])
def test_logic_circuit_edge_counts(h, edges):
    t = build(NetworkConfig(hidden=h), make_task("XOR"), Streams(0).weights)
    assert t.n_edges == edges == (h + 1) * (h + 2)
    assert not np.any(t.dst < 2) and not np.any(t.src == t.dst)
    assert np.all(np.abs(t.weight) <= 1)


def test_random_graph_mean_degree():
    t = build(NetworkConfig(kind="random", nodes=2000, mean_degree=6.0), make_task("XOR"),
              Streams(1).weights)
    indeg = np.bincount(t.dst, minlength=t.n)[2:]
    assert indeg.mean() == pytest.approx(6.0, rel=0.05)
    assert not np.any(t.src == t.dst)
    assert np.unique(t.src * t.n + t.dst).size == t.n_edges


def test_random_graph_simulates_async():
    sc = Scenario.from_dict({"network": {"kind": "random", "nodes": 60, "mean_degree": 4.0},
                             "schedule": {"kind": "async", "inputs": 5},
                             "channel": {"model": "exponential", "delay": 0.1}})
    r = simulate(sc, seed=0)
    assert r.counters["activations"] > 0 and np.isfinite(r.error)


def test_from_networkx_and_simulate():
    g = nx.DiGraph()
    g.add_edge("x1", "h", weight=0.5)
    g.add_edges_from([("x2", "h"), ("h", "y"), ("x1", "y"), ("x2", "y"), ("y", "h")])
    net = from_networkx(g, inputs=["x1", "x2"], outputs=["y"])
    r = simulate(Scenario(network=net).replace(**{"schedule.inputs": 30}), seed=0)
    assert r.labels == ["x1", "x2", "h", "y"]
    assert r.edges_before == 6
    w0 = dict(zip(zip(r.initial_edges["src"].tolist(), r.initial_edges["dst"].tolist()),
                  r.initial_edges["weight"].tolist()))
    assert w0[(0, 2)] == 0.5


def test_from_networkx_missing_io():
    g = nx.DiGraph([("a", "b")])
    with pytest.raises(ConfigError, match="network.outputs"):
        from_networkx(g, inputs=["a"], outputs=["zz"])
    with pytest.raises(ConfigError, match="DiGraph"):
        from_networkx(nx.Graph([("a", "b")]), inputs=["a"], outputs=["b"])


def test_edges_into_inputs_rejected():
    with pytest.raises(ConfigError, match="point into an input"):
        NetworkConfig(kind="edges", edges=(("a", "y"), ("y", "a"), ("b", "y")),
                      inputs=("a", "b"), outputs=("y",))
