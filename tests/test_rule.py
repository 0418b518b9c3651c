"""argnn_sim.rule: the node's arithmetic, written once, and the same bits from every
engine's way of running it (Python, numba, NumPy over a stack of runs)."""

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argnn_sim import Scenario, rule, simulate
from argnn_sim.testing import assert_same_result

pytestmark = pytest.mark.exactness
RNG = np.random.default_rng(2026)
# sums a node can see: most in [-40, 40], some far out (clipped weights of a big star)
SUMS = np.concatenate([RNG.uniform(-40, 40, 40_000), RNG.uniform(-800, 800, 4_000),
                       RNG.normal(0, 1e-3, 2_000), [0.0, -0.0, 709.0, -709.0, 709.5, -709.5,
                                                    40.0, -40.0, 1e-300, -1e-300]])

try:
    import numba  # noqa: F401
    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - the test extra installs numba
    HAVE_NUMBA = False
needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")


def test_portable_sigmoid_is_within_two_ulp_of_the_true_value():
    """e ** x within one unit in the last place, then two correctly rounded operations."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.prec = 120
    xs = np.concatenate([RNG.uniform(-40, 700, 1500), RNG.uniform(-1, 1, 1500)])
    worst = 0.0
    for s in xs.tolist():
        true = 1 / (1 + mpmath.exp(-mpmath.mpf(s)))
        got = rule.sigmoid(s)
        worst = max(worst, float(abs(mpmath.mpf(got) - true) / mpmath.mpf(math.ulp(float(true)))))
    assert worst <= 2.0


def test_portable_sigmoid_limits_and_shape():
    assert rule.sigmoid(0.0) == 0.5
    assert rule.sigmoid(-709.5) == 0.0 and rule.sigmoid(-1e6) == 0.0
    assert rule.sigmoid(40.5) == 1.0 and rule.sigmoid(1e6) == 1.0
    v = np.array([rule.sigmoid(s) for s in np.linspace(-30, 30, 2001)])
    assert np.all(np.diff(v) >= 0)  # monotone
    ref = 1.0 / (1.0 + np.exp(-np.linspace(-30, 30, 2001)))
    assert np.max(np.abs(v - ref)) < 4e-16


@needs_numba
def test_numba_compiles_the_same_code_and_gets_the_same_bits():
    jit = rule.jitted(rule.sigmoid)
    assert jit.py_func.__code__ is rule.sigmoid.__code__  # the same source, compiled
    py = [rule.sigmoid(s) for s in SUMS.tolist()]
    nb = [jit(s) for s in SUMS.tolist()]
    assert py == nb
    xy = RNG.uniform(-5, 5, 23)
    for m in range(24):
        assert rule.jitted(rule.blocked_sum)(xy, m) == rule.blocked_sum(xy.tolist(), m)
        assert (rule.jitted(rule.running_dot)(xy, xy[::-1].copy(), m)
                == rule.running_dot(xy.tolist(), xy[::-1].tolist(), m))


def test_jitted_refuses_what_is_not_a_rule_function():
    with pytest.raises(ValueError, match="not a compiled rule function"):
        rule.jitted(math.exp)


def test_sigmoid_array_applies_the_same_function(monkeypatch):
    py = np.array([rule.sigmoid(s) for s in SUMS.tolist()])
    np.testing.assert_array_equal(rule.sigmoid_array(SUMS), py)  # numba's ufunc, if any
    monkeypatch.setattr(rule, "_SIGMOID_UFUNC", None)
    monkeypatch.setitem(sys.modules, "numba", None)  # the fallback without numba
    np.testing.assert_array_equal(rule.sigmoid_array(SUMS[:3000]), py[:3000])


def test_sums_over_vectors_equal_sums_of_scalars():
    """The batched engine passes one vector per star place; each entry is the scalar sum."""
    for m in (1, 3, 4, 7, 8, 9, 13):
        xy = RNG.uniform(-10, 10, (m, 6))
        e = RNG.uniform(-1, 1, (m, 6))
        vec = rule.blocked_sum(xy, m)
        dot = rule.running_dot(e, xy, m)
        for b in range(6):
            assert vec[b] == rule.blocked_sum(xy[:, b].tolist(), m)
            assert dot[b] == rule.running_dot(e[:, b].tolist(), xy[:, b].tolist(), m)


def test_blocked_sum_is_the_strided_ddot_order():
    xy = [1e16, 1.0, -1e16, 1.0, 1.0, 3.0]
    t1 = (0.0 + (xy[0] + xy[2])) + xy[4] + xy[5]
    t2 = 0.0 + (xy[1] + xy[3])
    assert rule.blocked_sum(xy, 6) == t1 + t2 == 6.0


def test_weight_updates_agree_in_both_forms():
    w = RNG.uniform(-11, 11, (5, 9))
    v = RNG.uniform(0, 1, (5, 9))
    e = RNG.uniform(-2, 2, (5, 1))
    c = np.array([[10.0], [10.0], [1.0], [0.5], [10.0]])
    arr = rule.updated_weights(w, e, v, c)
    for b in range(5):
        row = w[b].tolist()
        rule.update_inputs(row, v[b].tolist(), 9, float(e[b, 0]), float(c[b, 0]))
        assert row == arr[b].tolist()
        assert max(abs(x) for x in row) <= c[b, 0]


def test_reference_primitives_are_numpys_own():
    s = SUMS[np.abs(SUMS) < 700]
    np.testing.assert_array_equal([rule.sigmoid_reference(x) for x in s.tolist()],
                                  1.0 / (1.0 + np.exp(-s)))  # scalar calls = the ufunc on arrays
    np.testing.assert_array_equal(rule.sigmoid_reference_array(s), 1.0 / (1.0 + np.exp(-s)))
    assert rule.sigmoid_reference(-1000.0) == 0.0  # overflow: no warning (warnings are errors)
    n = 9
    W = RNG.uniform(-10, 10, (n, n))
    V = RNG.uniform(0, 1, n)
    col = rule.column_buffer(n)[:, 0]
    for k in range(n):
        col[:] = W[:, k]
        assert col.strides == W[:, k].strides
        assert rule.dot_reference(V, col) == float(np.dot(V, W[:, k]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.floats(-10, 10)), max_size=12, unique_by=lambda t: t[0]),
       st.lists(st.tuples(st.integers(0, 30), st.floats(-10, 10)), max_size=12, unique_by=lambda t: t[0]))
def test_mark_eligible_is_the_weaker_half_of_each_two_cycle(ins, outs):
    ins, outs = sorted(ins), sorted(outs)
    flags = [9] * len(ins)
    got = rule.mark_eligible([j for j, _ in ins], [w for _, w in ins], len(ins),
                             [j for j, _ in outs], [w for _, w in outs], len(outs), flags)
    told = dict(outs)
    want = [int(j in told and abs(w) < abs(told[j])) for j, w in ins]
    assert flags == want and got == sum(want)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, 1.0, -1.0, 2.0, -2.0, 1e-16, -1e-16, 3.5]), min_size=1,
                max_size=9))
def test_reference_pair_is_argmax_argmin_with_the_exact_test(im):
    a, b = int(np.argmax(im)), int(np.argmin(im))
    if max(im) == 0.0 and min(im) == 0.0:
        want = None
    else:
        want = (a, b) if im[b] == -im[a] else None
    assert rule.reference_pair(im) == want
    assert rule.reference_pair(np.array(im)) == want


def test_auto_arithmetic_follows_the_rng_mode():
    assert rule.resolve_arithmetic("auto", "reference") == "reference"
    assert rule.resolve_arithmetic("auto", "default") == "portable"
    assert rule.resolve_arithmetic("portable", "reference") == "portable"
    with pytest.raises(ValueError):
        rule.resolve_arithmetic("fast", "default")


def test_portable_runs_do_not_depend_on_numpys_simd_kernels(tmp_path):
    """The portable arithmetic uses no NumPy ufunc for Eq. 1-3: a run with NumPy's AVX-512
    kernels switched off gives the same bits (on a CPU without them, trivially)."""
    code = ("import pickle, sys; from argnn_sim import Scenario, simulate;"
            "sc = Scenario.from_dict({'network': {'hidden': 4}, 'schedule': {'inputs': 150},"
            " 'record': {'traces': 'prunes'}});"
            "sys.stdout.buffer.write(pickle.dumps(simulate(sc, 3)))")
    import pickle

    from numpy._core._multiarray_umath import __cpu_features__ as cpu

    env = dict(os.environ)
    if cpu.get("X86_V4"):  # else there is nothing to switch off: the run is just repeated
        env["NPY_DISABLE_CPU_FEATURES"] = "X86_V4 AVX512_ICL AVX512_SPR"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True,
                         env=env).stdout
    other = pickle.loads(out)
    here = simulate(Scenario.from_dict({"network": {"hidden": 4}, "schedule": {"inputs": 150},
                                        "record": {"traces": "prunes"}}), 3)
    assert_same_result(here, other)
