"""The compiled kernel's own draws (argnn_sim.engines._draws) equal NumPy's Generator draws
word for word: raw PCG64 output, random(), standard_exponential() (the ziggurat's slow paths
included: about 1 % of draws take one) and uniform(), and a state goes in and out intact."""

import numpy as np
import pytest

pytest.importorskip("numba")

from numba import njit  # noqa: E402

from argnn_sim.engines import _draws as D  # noqa: E402


@njit
def _fill(R, j, kind, out):
    for i in range(out.size):
        if kind == 0:
            out[i] = np.float64(D.next_u64(R, j) >> np.uint64(11))
        elif kind == 1:
            out[i] = D.next_double(R, j)
        else:
            out[i] = D.standard_exponential(R, j, D.ZIG_KE, D.ZIG_WE, D.ZIG_FE)


def _pair(seed):
    """A generator loaded into row 1 of a state array, and a twin to compare with."""
    g = np.random.default_rng(seed)
    R = np.zeros((3, 4), dtype=np.uint64)
    D.load(g, R, 1)
    return R, np.random.default_rng(seed)


@pytest.mark.parametrize("seed", [0, 1, 2**40 + 7])
def test_draws_equal_numpy(seed):
    R, twin = _pair(seed)
    out = np.zeros(300_000)
    _fill(R, 1, 0, out)
    assert (out == (twin.bit_generator.random_raw(out.size) >> 11)).all()
    _fill(R, 1, 1, out)
    assert (out == twin.random(out.size)).all()
    _fill(R, 1, 2, out)
    ref = twin.standard_exponential(out.size)
    assert (out == ref).all()
    _fill(R, 1, 1, out[:1000])
    lo, hi = 0.1, 0.9
    assert (lo + (hi - lo) * out[:1000] == twin.uniform(lo, hi, 1000)).all()
    assert R[0].tolist() == [0, 0, 0, 0] and R[2].tolist() == [0, 0, 0, 0]  # rows apart


def test_exponential_of_a_scale_is_scale_times_the_standard_one():
    R, twin = _pair(5)
    out = np.zeros(200_000)
    _fill(R, 1, 2, out)
    assert (2.5 * out == twin.exponential(2.5, out.size)).all()


def test_the_slow_paths_are_exercised():
    """Words that miss the ziggurat's fast test (including its base strip, idx 0) occur in
    the draws compared above; without them the comparison would prove less."""
    raw = np.random.default_rng(0).bit_generator.random_raw(300_000) >> np.uint64(3)
    idx = (raw & np.uint64(0xFF)).astype(np.int64)
    slow = (raw >> np.uint64(8)) >= D.ZIG_KE[idx]
    assert slow.sum() > 1000 and (slow & (idx == 0)).sum() > 5


def test_state_round_trip():
    g = np.random.default_rng(11)
    g.random(3)
    R = np.zeros((1, 4), dtype=np.uint64)
    D.load(g, R, 0)
    out = np.zeros(10)
    _fill(R, 0, 1, out)
    h = np.random.default_rng(99)
    D.store(h, R, 0)
    assert h.random() == g.random(11)[-1]
    with pytest.raises(ValueError, match="PCG64"):
        D.load(np.random.Generator(np.random.MT19937(1)), R, 0)


@pytest.mark.parametrize("seed", [0, 12345, np.random.SeedSequence(2**100 + 7),
                                  np.random.SeedSequence(3, spawn_key=(9, 2**40)),
                                  np.random.SeedSequence(5, pool_size=8)])
def test_many_channels_seeded_at_once_equal_numpy_seeding_each(seed):
    """load_children computes the PCG64 states of channels 0..n-1 from their parent
    SeedSequence in one go; each equals the state of that channel's own Generator."""
    from argnn_sim.rng import Streams

    st = Streams(seed)
    ks = np.concatenate([np.arange(600), [70_000, 2**32 - 1]])
    rows = np.zeros((2**12, 4), dtype=np.uint64)
    small = ks[ks < rows.shape[0]]
    D.load_children(st.channel_parent, small, rows)
    ref = np.zeros_like(rows)
    for k in small.tolist():
        D.load(st.channel(k)._g, ref, k)
    assert np.array_equal(rows, ref)
    words = D.child_words(st.channel_parent, ks[-2:])
    for k, w in zip(ks[-2:].tolist(), words):
        child = np.random.SeedSequence(st.channel_parent.entropy,
                                       spawn_key=(*st.channel_parent.spawn_key, k),
                                       pool_size=st.channel_parent.pool_size)
        assert np.array_equal(w, child.generate_state(4, np.uint64))
    with pytest.raises(ValueError, match="2\\*\\*32"):
        D.child_words(st.channel_parent, np.array([2**32]))
