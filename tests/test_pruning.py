"""argnn_sim.pruning: policies see one node through a read-only view and name an edge."""

import numpy as np
import pytest

from argnn_sim.config import ConfigError, PruningConfig
from argnn_sim.node import NullObserver
from argnn_sim.pruning import (
    Budgeted,
    MagnitudePolicy,
    NoPruning,
    RandomPolicy,
    SpectralLocal,
    SpectralReference,
    make_policy,
)
from argnn_sim.rng import Streams
from argnn_sim.spectral import make_star


class View:
    """A node as a policy sees it (pruning.NodeView)."""

    def __init__(self, k, role, ins, outs):
        self.id, self.role = k, role
        self.in_src = [j for j, _ in ins]
        self.in_w = [w for _, w in ins]
        self.out_dst = [j for j, _ in outs]
        self.out_w = [w for _, w in outs]
        self.observer = NullObserver()
        self._star = make_star(k, self.in_src, self.out_dst)

    def star(self):
        return self._star


def test_make_policy_builds_each_kind():
    assert isinstance(make_policy(PruningConfig(policy="none")), NoPruning)
    assert isinstance(make_policy(PruningConfig()), SpectralReference)
    assert isinstance(make_policy(PruningConfig(rule="local")), SpectralLocal)
    assert isinstance(make_policy(PruningConfig(policy="magnitude")), MagnitudePolicy)
    assert isinstance(make_policy(PruningConfig(policy="random"), Streams(0).pruning),
                      RandomPolicy)
    assert isinstance(make_policy(PruningConfig(budget=2)), Budgeted)
    with pytest.raises(ValueError, match="stream"):
        make_policy(PruningConfig(policy="random"))
    with pytest.raises(ConfigError, match="pruning.mode"):
        SpectralReference("X")


def test_local_rule_removes_only_the_weaker_half_of_a_two_cycle():
    # node 2: in from 0 (no cycle), from 3 (weak; 2 -> 3 strong), out to 3 and 4
    node = View(2, "hidden", [(0, 0.9), (3, 0.2)], [(3, 2.5), (4, 1.0)])
    policy = SpectralLocal("DW", tol=1e-9, min_in_degree=1)
    edge = policy.check(node)
    assert edge in (None, (3, 2))  # only ever its own weaker 2-cycle half
    strong = View(2, "hidden", [(0, 0.9), (3, 2.9)], [(3, 2.5), (4, 1.0)])
    assert policy.check(strong) is None  # no eligible edge: nothing, whatever the spectrum
    out = View(4, "output", [(2, 0.1), (3, 0.1)], [(2, 5.0)])
    assert policy.check(out) is None  # the output keeps its read-out edges


def test_reference_rule_reads_places_as_node_numbers():
    rng = np.random.default_rng(3)
    for _ in range(50):
        k = 3
        ins = [(j, float(rng.uniform(-1, 1))) for j in (0, 1, 2, 4)]
        outs = [(j, float(rng.uniform(-1, 1))) for j in (2, 4)]
        edge = SpectralReference("D").check(View(k, "hidden", ins, outs))
        if edge is not None:
            frm, to = edge
            assert frm != to and {frm, to} <= {0, 1, 2, 3, 4}


def test_magnitude_random_and_budget():
    node = View(5, "hidden", [(1, 0.01), (2, -0.5), (3, 0.02)], [])
    assert MagnitudePolicy(0.05, 1).check(node) == (1, 5)
    assert MagnitudePolicy(0.005, 1).check(node) is None
    assert MagnitudePolicy(0.05, 3).check(node) is None  # min_in_degree
    always = RandomPolicy(1.0, 1, Streams(0).pruning)
    assert always.check(node)[1] == 5
    assert RandomPolicy(0.0, 1, Streams(0).pruning).check(node) is None
    b = Budgeted(MagnitudePolicy(0.05, 1), 1)
    assert b.check(node) == (1, 5) and b.check(node) is None and b.left == 0
