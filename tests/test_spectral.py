import numpy as np
import pytest

from argnn_sim.rule import reference_pair
from argnn_sim.spectral import (
    eigenvalues,
    laplacian,
    local_choice,
    star_matrices,
)


def _reference_laplacian(A, W, k, mode):
    """The reference's construction over the global matrices, verbatim."""
    n = A.shape[0]
    Al = np.zeros((n, n))
    Al[:, k] = A[:, k]
    Al[k, :] = A[k, :]
    X = Al if mode == "D" else Al * W
    d = np.sum(X, axis=1) + np.sum(X, axis=0)
    return np.diag(d) - Al * W


def test_laplacian_D_hand_computed():
    # star of node 1: in-edges 0->1 (0.5), 2->1 (-1.0); out-edge 1->2 (2.0)
    A, M = star_matrices(3, 1, in_pos=[0, 2], in_w=[0.5, -1.0], out_pos=[2], out_w=[2.0])
    L = laplacian(A, M, "D")
    expected = np.array([[1.0, -0.5, 0.0], [0.0, 3.0, -2.0], [0.0, 1.0, 2.0]])
    np.testing.assert_array_equal(L, expected)


def test_laplacian_DW_hand_computed():
    A, M = star_matrices(3, 1, in_pos=[0, 2], in_w=[0.5, -1.0], out_pos=[2], out_w=[2.0])
    L = laplacian(A, M, "DW")
    # degrees: node0 = 0.5 ; node1 = out 2.0 + in (0.5 - 1.0) = 1.5 ; node2 = -1.0 + 2.0 = 1.0
    expected = np.array([[0.5, -0.5, 0.0], [0.0, 1.5, -2.0], [0.0, 1.0, 1.0]])
    np.testing.assert_array_equal(L, expected)


@pytest.mark.parametrize("mode", ["D", "DW"])
def test_matches_reference_construction_on_full_circuit(rng, mode):
    n = 7
    W = 2 * rng.random((n, n)) - 1
    A = np.ones((n, n)) - np.eye(n)
    A[:, :2] = 0
    A[4, 3] = 0  # a pruned edge
    for k in range(2, n):
        in_pos = [i for i in range(n) if A[i, k]]
        out_pos = [j for j in range(n) if A[k, j]]
        Al, M = star_matrices(n, k, in_pos=in_pos, in_w=W[in_pos, k], out_pos=out_pos,
                              out_w=W[k, out_pos])
        np.testing.assert_array_equal(laplacian(Al, M, mode), _reference_laplacian(A, W, k, mode))


@pytest.mark.parametrize("mode", ["D", "DW"])
def test_arrowhead_property(rng, mode):
    m, c = 6, 2
    A, M = star_matrices(m, c, in_pos=[0, 1, 3, 5], in_w=rng.normal(size=4),
                         out_pos=[3, 4], out_w=rng.normal(size=2))
    L = laplacian(A, M, mode)
    off = L - np.diag(np.diag(L))
    off[c, :] = 0
    off[:, c] = 0
    assert not off.any(), "only row and column of the centre may be off-diagonal"


def test_D_mode_complex_pair_is_the_quadratic(rng):
    # Intact circuit, mode D: every non-input neighbour j has degree 2, inputs degree 1, and
    # the pair solves (d_k - x)(2 - x) = sum_j W[k][j] W[j][k].
    n, k = 5, 2
    W = 2 * rng.random((n, n)) - 1
    W[2, 3], W[3, 2], W[2, 4], W[4, 2] = 3.0, -2.0, 0.7, -0.9  # S < -(d_k - 2)^2 / 4: complex
    in_pos = [0, 1, 3, 4]
    out_pos = [3, 4]
    A, M = star_matrices(n, k, in_pos=in_pos, in_w=W[in_pos, k], out_pos=out_pos,
                         out_w=W[k, out_pos])
    lam = eigenvalues(laplacian(A, M, "D"))
    dk = 6.0
    S = W[2, 3] * W[3, 2] + W[2, 4] * W[4, 2]
    roots = np.roots([1.0, -(dk + 2.0), 2.0 * dk - S])
    complex_lam = np.sort_complex(lam[np.abs(lam.imag) > 1e-12])
    np.testing.assert_allclose(complex_lam, np.sort_complex(roots), atol=1e-12)
    real_rest = np.sort(lam[np.abs(lam.imag) <= 1e-12].real)
    np.testing.assert_allclose(real_rest, [1.0, 1.0, 2.0], atol=1e-12)


def test_reference_pair_rules():
    assert reference_pair(np.array([3.0 + 0j, 1.0 + 0j]).imag) is None
    assert reference_pair(np.array([3.0 + 0j, 1 + 2j, 1 - 2j]).imag) == (1, 2)
    # round-off pairs count (the exact test)
    assert reference_pair(np.array([2 + 1e-16j, 2 - 1e-16j, 0j]).imag) == (0, 1)
    # not exact opposites: no pair
    assert reference_pair(np.array([1 + 2j, 1 - 1j, 0j]).imag) is None


def test_local_rule_ignores_roundoff_and_picks_own_input():
    # reciprocal pair 1 <-> 2 around centre 1 with negative product: oscillation
    A, M = star_matrices(3, 1, in_pos=[0, 2], in_w=[0.3, -2.0], out_pos=[2], out_w=[2.0])
    L = laplacian(A, M, "D")
    pos, lam = local_choice(L, 1, [0, 2], tol=1e-9)
    assert np.abs(lam.imag).max() > 1e-3
    assert pos == 2  # the coupled in-neighbour, not the input 0
    # a real spectrum gives no choice
    A2, M2 = star_matrices(3, 1, in_pos=[0, 2], in_w=[0.3, 0.5], out_pos=[2], out_w=[0.5])
    assert local_choice(laplacian(A2, M2, "D"), 1, [0, 2])[0] is None
    # no allowed inputs: no choice
    assert local_choice(L, 1, [])[0] is None


def test_local_rule_tolerance():
    L = np.array([[2.0, 1e-12], [-1e-12, 2.0]])  # eigenvalues 2 ± 1e-12 i
    assert local_choice(L, 0, [1], tol=1e-9)[0] is None
    assert local_choice(L, 0, [1], tol=1e-14)[0] == 1


def test_unknown_mode():
    A, M = star_matrices(2, 0, in_pos=[1], in_w=[1.0], out_pos=[], out_w=[])
    with pytest.raises(ValueError, match="unknown degree mode 'X'"):
        laplacian(A, M, "X")


def test_numpy_sum_matches_numpy_row_sums_bit_for_bit():
    from argnn_sim.spectral import numpy_sum

    rng = np.random.default_rng(7)
    for m in list(range(1, 40)) + [127, 128, 129, 200, 300]:
        for _ in range(30):
            M = rng.standard_normal((3, m)) * rng.choice([1e-4, 1.0, 1e4], size=(3, m))
            M[rng.random((3, m)) < 0.4] = 0.0
            assert numpy_sum(M[1].tolist()) == np.sum(M, axis=1)[1]


def test_star_laplacian_equals_the_matrix_construction_bit_for_bit():
    from argnn_sim.spectral import star_laplacian

    rng = np.random.default_rng(11)
    for _ in range(3000):
        m = int(rng.integers(1, 20))
        c = int(rng.integers(m))
        others = [i for i in range(m) if i != c]
        ins = [i for i in others if rng.random() < 0.6]
        outs = [i for i in others if rng.random() < 0.6]
        iw = (rng.standard_normal(len(ins)) * 10.0 ** rng.integers(-3, 4, len(ins))).tolist()
        ow = rng.standard_normal(len(outs)).tolist()
        A, M = star_matrices(m, c, in_pos=ins, in_w=iw, out_pos=outs, out_w=ow)
        for mode in ("D", "DW"):
            want = laplacian(A, M, mode)
            got = star_laplacian(m, c, ins, iw, outs, ow, mode)
            assert got.tobytes() == want.tobytes()
            assert eigenvalues(got).tobytes() == np.linalg.eigvals(want).astype(complex).tobytes()


def test_large_star_numpy_fill_equals_list_fill():
    """Stars of 10+ members are filled by NumPy indexing: the same entries, zero signs too."""
    from argnn_sim.spectral import laplacian_plan, plan_laplacian

    for m, c, ins, iw, outs, ow in _random_stars(np.random.default_rng(0), 60, 10, 20, 1.0):
        plan = laplacian_plan(m, c, ins, outs)
        assert plan[0] == "np"  # the NumPy path
        for mode in ("D", "DW"):
            got = plan_laplacian(plan, iw, ow, mode)
            want = laplacian(*star_matrices(m, c, in_pos=ins, in_w=iw, out_pos=outs, out_w=ow),
                             mode)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(want))


def test_local_rule_skips_the_spectrum_only_when_nothing_can_change():
    """Below trace level 'full' the local rule computes no spectrum for a node without an
    eligible edge; its prunes and checks are those of a run that computes every one."""
    from argnn_sim import Scenario, simulate

    base = {"network": {"kind": "random", "nodes": 50, "mean_degree": 5.0},
            "schedule": {"kind": "async", "inputs": 60, "input_period": 3.0},
            "channel": {"model": "exponential", "delay": 0.3},
            "pruning": {"rule": "local", "mode": "DW"}}
    full = simulate(Scenario.from_dict({**base, "record": {"traces": "full"}}), 2)
    light = simulate(Scenario.from_dict({**base, "record": {"traces": "none"}}), 2)
    assert full.prune_events and full.prune_events == light.prune_events
    assert full.counters == light.counters
    assert full.error == light.error


def test_eigenvalues_without_vectors_equal_those_with_vectors():
    """The local rule skips eigenvectors when no edge is eligible; the traced eigenvalues
    must be those of the full decomposition, bit for bit."""
    from argnn_sim.spectral import _eig, eigenvalues, laplacian_plan, plan_laplacian

    for m, c, ins, iw, outs, ow in _random_stars(np.random.default_rng(7), 400, 3, 22, 3.0):
        for mode in ("D", "DW"):
            L = plan_laplacian(laplacian_plan(m, c, ins, outs), iw, ow, mode)
            np.testing.assert_array_equal(eigenvalues(L), _eig(L)[0])


def _random_stars(rng, count, lo, hi, scale):
    """``count`` random stars of ``lo..hi-1`` members: (m, centre, in-positions, in-weights,
    out-positions, out-weights), at least one input edge each."""
    for _ in range(count):
        m = int(rng.integers(lo, hi))
        c = int(rng.integers(m))
        others = [p for p in range(m) if p != c]
        ins = sorted(rng.choice(others, size=int(rng.integers(1, m)), replace=False).tolist())
        outs = sorted(rng.choice(others, size=int(rng.integers(0, m)), replace=False).tolist())
        yield (m, c, ins, (scale * rng.normal(size=len(ins))).tolist(), outs,
               (scale * rng.normal(size=len(outs))).tolist())
