import numpy as np
import pytest

from argnn_sim.channel import Channel, Transport
from argnn_sim.config import ChannelConfig
from argnn_sim.rng import Streams


@pytest.mark.parametrize("model,delay,spread", [
    ("constant", 1.5, 0.0), ("uniform", 2.0, 1.0), ("exponential", 0.7, 0.0),
    ("lognormal", 3.0, 0.8),
])
def test_delay_means(model, delay, spread):
    ch = Channel(ChannelConfig(model=model, delay=delay, spread=spread), Streams(1).channel(0))
    d = np.array([ch.delay() for _ in range(40000)])
    assert d.min() >= 0
    assert d.mean() == pytest.approx(delay, rel=0.03)
    if model == "uniform":
        assert d.min() >= delay - spread and d.max() <= delay + spread
    if model == "constant":
        assert np.all(d == delay)


@pytest.mark.parametrize("loss", [0.0, 0.1, 0.5])
def test_loss_rate(loss):
    ch = Channel(ChannelConfig(loss=loss), Streams(2).channel(3))
    lost = np.mean([ch.lost() for _ in range(40000)])
    assert lost == pytest.approx(loss, abs=0.01)


def test_channels_have_independent_streams():
    s = Streams(5)
    cfg = ChannelConfig(model="exponential", delay=1.0)
    a = [Channel(cfg, s.channel(0)).delay() for _ in range(1)]
    b = [Channel(cfg, s.channel(1)).delay() for _ in range(1)]
    assert a != b
    # the same channel index from the same seed gives the same stream
    assert Channel(cfg, Streams(5).channel(1)).delay() == b[0]


# ----- lazy delivery and block-drawn delays: the same results as the plain way --------
@pytest.mark.parametrize("model,spread", [("exponential", 0.0), ("uniform", 0.1),
                                          ("lognormal", 0.5)])
def test_block_drawn_delays_equal_scalar_draws(model, spread):
    from argnn_sim.channel import BLOCK

    cfg = ChannelConfig(model=model, delay=0.4, spread=spread)
    ch = Channel(cfg, Streams(3).channel(0))
    got = [ch.delay() for _ in range(3 * BLOCK + 5)]
    plain = Streams(3).channel(0)
    draw = {"exponential": lambda: plain.exponential(0.4),
            "uniform": lambda: plain.uniform(0.4 - 0.1, 0.4 + 0.1),
            "lognormal": lambda: plain.lognormal(ch._mu, 0.5)}[model]
    assert got == [float(draw()) for _ in range(3 * BLOCK + 5)]


ASYNC_CASES = {
    "random-local-full": {"network": {"kind": "random", "nodes": 40, "mean_degree": 4.0},
                          "channel": {"model": "exponential", "delay": 0.3},
                          "pruning": {"rule": "local", "mode": "DW"}},
    "logic-reference-lognormal": {"network": {"hidden": 4},
                                  "channel": {"model": "lognormal", "delay": 0.2, "spread": 0.5},
                                  "pruning": {"mode": "D"}},
    "logic-loss": {"network": {"hidden": 4},
                   "channel": {"model": "uniform", "delay": 0.2, "spread": 0.1, "loss": 0.1},
                   "pruning": {"mode": "DW"}},
    "faults-reset": {"network": {"hidden": 4}, "channel": {"model": "exponential", "delay": 0.3},
                     "pruning": {"mode": "DW"},
                     "faults": {"crash_rate": 0.05, "downtime": 2.0, "reset": True}},
    "faults-constant-delay": {"network": {"hidden": 3},
                              "channel": {"model": "constant", "delay": 0.25},
                              "faults": {"crash_rate": 0.05, "downtime": 2.0}},
}


@pytest.mark.parametrize("case", list(ASYNC_CASES))
def test_lazy_delivery_equals_one_event_per_message(case):
    from argnn_sim import Scenario, simulate

    data = {"schedule": {"kind": "async", "inputs": 120, "input_period": 3.0},
            "record": {"traces": "full"}, **ASYNC_CASES[case]}
    sc = Scenario.from_dict(data)
    lazy, eager = simulate(sc, 3, engine="simpy"), simulate(sc, 3, delivery="eager")
    a, b = lazy.summary(), eager.summary()
    for k in ("seconds", "timings", "engine_note"):
        a.pop(k), b.pop(k)
    assert a == b
    assert eager.engine_note == "delivery = 'eager' runs on the SimPy engine only"
    assert lazy.counters["messages"]["sent"]["value"] > 1000
    for k in eager.traces:
        np.testing.assert_array_equal(lazy.traces[k], eager.traces[k])
    for k in eager.final_edges:
        np.testing.assert_array_equal(lazy.final_edges[k], eager.final_edges[k])
    if "faults" in data:  # messages that reached a crashed node were counted the same
        assert lazy.counters["faults"]["messages_missed"] > 0


def test_unknown_delivery_is_refused():
    import simpy

    with pytest.raises(ValueError, match="delivery"):
        Transport(simpy.Environment(), ChannelConfig(), Streams(0), delivery="later")
