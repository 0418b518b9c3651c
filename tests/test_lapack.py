"""NumPy's dgeev called from compiled code (argnn_sim.engines._lapack): the same numbers as
NumPy's eigvals gufunc, bit for bit, or not used at all."""

import numpy as np
import pytest

pytest.importorskip("numba")

from numpy.linalg import _umath_linalg as ul  # noqa: E402

from argnn_sim import Scenario, simulate  # noqa: E402
from argnn_sim.engines import _lapack  # noqa: E402
from argnn_sim.engines import compiled as C  # noqa: E402
from argnn_sim.spectral import make_star, plan_laplacian  # noqa: E402
from argnn_sim.testing import assert_same_result  # noqa: E402


def _values(found, L):
    n = L.shape[0]
    ws = _lapack.Workspace(found, n)
    wr, wi = np.zeros(n), np.zeros(n)
    info = -1
    while info == -1:
        info = _lapack.geev_values(found.address, np.ascontiguousarray(L).ravel(), n, wr, wi,
                                   ws.ints, ws.chars, ws.a, ws.work, ws.lwork_of)
        if info == -1:
            ws.work = np.zeros(2 * int(ws.lwork_of[n]))
    return info, wr, wi


def test_dgeev_from_compiled_code_equals_numpys_eigvals():
    found = _lapack.geev()
    if found is None:  # another platform or LAPACK: the engine uses the gufunc (tested below)
        pytest.skip("NumPy's dgeev was not found in this process")
    g = np.random.default_rng(7)
    mats = [g.standard_normal((n, n)) * s for n in (1, 2, 3, 7, 16, 40, 90)
            for s in (1e-3, 1.0, 1e3)]
    for m in (3, 9, 30):  # star Laplacians, both degree modes
        star = make_star(0, list(range(1, m // 2 + 1)), list(range(m // 2, m)))
        w_in = g.standard_normal(len(star.in_pos)).tolist()
        w_out = g.standard_normal(len(star.out_pos)).tolist()
        for mode in ("D", "DW"):
            size = len(star.ids)
            mats.append(np.asarray(plan_laplacian(star.plan, w_in, w_out, mode)).reshape(size, size))
    for L in mats:
        info, wr, wi = _values(found, L)
        want = ul.eigvals(L, signature="d->D")
        assert info == 0
        assert np.array_equal(wr, want.real) and np.array_equal(wi, want.imag)


def test_a_library_that_disagrees_is_not_used(monkeypatch):
    found = _lapack._locate()
    if found is None:
        pytest.skip("no LAPACK found in this process")
    real = _lapack.geev_values

    def off_by_one_ulp(*args):
        info = real(*args)
        args[4][0] = np.nextafter(args[4][0], np.inf)  # wi[0]
        return info

    monkeypatch.setattr(_lapack, "geev_values", off_by_one_ulp)
    _lapack.geev.cache_clear()
    try:
        assert _lapack.geev() is None
    finally:
        _lapack.geev.cache_clear()


def _logic(rule, **extra):
    d = {"network": {"kind": "logic", "hidden": 4},
         "schedule": {"kind": "async", "inputs": 150, "input_period": 10.0},
         "channel": {"model": "exponential", "delay": 0.5},
         "pruning": {"policy": "spectral", "rule": rule, "mode": "DW"},
         "record": {"traces": "prunes"}, **extra}
    return Scenario.from_dict(d)


@pytest.mark.parametrize("rule", ["reference", "local"])
def test_without_the_library_the_gufunc_gives_the_same_runs(monkeypatch, rule):
    """With and without the kernel's dgeev, the compiled engine gives the SimPy engine's run."""
    sc = _logic(rule)
    slow = simulate(sc, 1, engine="simpy")
    with_lib = C.simulate_compiled(sc, 1)
    monkeypatch.setattr(_lapack, "geev", lambda: None)
    without = C.simulate_compiled(sc, 1)
    for fast in (with_lib, without):
        assert_same_result(fast, slow)
    assert slow.prune_events
