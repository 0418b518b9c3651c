import numpy as np
import pytest

from argnn_sim.channel import Channel
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
