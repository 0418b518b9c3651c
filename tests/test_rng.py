"""argnn_sim.rng: one seed, independent named streams, no global state; the legacy stream
of the reference mode; fingerprints of legacy states."""

import numpy as np
import pytest

from argnn_sim.rng import Stream, Streams, as_seed_sequence, state_digest


def test_same_seed_same_streams_and_streams_are_independent():
    a, b = Streams(7), Streams(7)
    assert a.inputs.integers(100, size=5).tolist() == b.inputs.integers(100, size=5).tolist()
    c = Streams(7)
    c.weights.random(1000)  # drawing weights changes nothing in the other streams
    assert c.schedule.random(3).tolist() == Streams(7).schedule.random(3).tolist()
    assert Streams(8).inputs.random(3).tolist() != Streams(7).inputs.random(3).tolist()


def test_channel_streams_are_spawned_in_order_whenever_asked():
    a, b = Streams(3), Streams(3)
    late = b.channel(5).random(4).tolist()  # children 0..5 spawned at once
    assert a.channel(5).random(4).tolist() == late
    assert a.channel(0).random(4).tolist() != late


def test_no_global_state_is_touched():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    s = Streams(0, "reference")
    s.inputs.integers(4, size=10)
    Streams(1).weights.random(5)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_reference_mode_is_one_legacy_stream_in_draw_order():
    s = Streams(5, "reference")
    assert s.inputs is s.weights is s.schedule
    rs = np.random.RandomState(5)
    assert s.inputs.integers(4, size=3).tolist() == rs.randint(4, size=3).tolist()
    assert s.weights.random((2, 2)).tolist() == rs.rand(2, 2).tolist()
    given = np.random.RandomState(9)
    given.random_sample(3)
    s2 = Streams(given, "reference")  # a RandomState is drawn from, and advanced
    got = s2.inputs.random(1)[0]
    twin = np.random.RandomState(9)
    assert twin.random_sample(4)[3] == got and given.random_sample() == twin.random_sample()
    with pytest.raises(TypeError, match="reference"):
        Streams(np.random.RandomState(0), "default")


def test_seed_forms_and_digest():
    ss = np.random.SeedSequence(4)
    assert as_seed_sequence(ss) is ss
    assert as_seed_sequence(4).entropy == 4
    assert as_seed_sequence(np.random.default_rng(ss)).entropy == 4
    a, b = np.random.RandomState(1), np.random.RandomState(1)
    assert state_digest(a) == state_digest(b.get_state()) == state_digest(b)
    b.random_sample()
    assert state_digest(a) != state_digest(b)


def test_stream_wraps_both_generator_kinds():
    g = Stream(np.random.default_rng(0))
    r = Stream(np.random.RandomState(0))
    for s in (g, r):
        assert 0 <= s.integers(10) < 10
        x = np.arange(6)
        s.shuffle(x)
        assert sorted(x.tolist()) == list(range(6))
        assert s.exponential(2.0, 3).shape == (3,)


@pytest.mark.parametrize("legacy", [False, True])
def test_shuffle_rows_draws_as_shuffling_each_row_in_turn(legacy):
    def make():
        return Stream(np.random.RandomState(7) if legacy else np.random.default_rng(7))

    a, b = make(), make()
    x = np.tile(np.arange(9), (50, 1))
    y = x.copy()
    for row in x:
        a.shuffle(row)
    b.shuffle_rows(y)
    assert np.array_equal(x, y) and a.random() == b.random()
