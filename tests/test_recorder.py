"""argnn_sim.recorder: what each trace level keeps, watched nodes, columnar output."""

import numpy as np

from argnn_sim.recorder import Recorder, watched_nodes


class Clock:
    now = 2.5


def test_levels_keep_what_they_say():
    lam = np.array([1 + 1j, 1 - 1j, 2 + 0j])
    for level, kept in (("full", 1), ("prunes", 0), ("none", 0)):
        rec = Recorder(level, clock=Clock())
        rec.on_check(3, (1, 3, 4), lam)
        assert rec.checks == 1  # counted at every level
        assert rec.traces()["check_node"].size == kept


def test_traces_are_csr_columns():
    rec = Recorder("full", clock=Clock())
    rec.input = 7
    rec.on_check(3, (1, 3, 4), np.array([1 + 1j, 1 - 1j, 2 + 0j]))
    rec.on_check(4, (3, 4), np.array([0.5 + 0j, 1.5 + 0j]))
    rec.on_check(3, (1, 3), np.array([1 + 0j, 3 + 0j]))
    t = rec.traces()
    assert t["check_node"].tolist() == [3, 4, 3] and t["check_k"].tolist() == [0, 0, 1]
    assert t["check_start"].tolist() == [0, 3, 5, 7]
    assert t["entry_member"].tolist() == [1, 3, 4, 3, 4, 1, 3]
    assert t["entry_imag"].tolist()[:2] == [1.0, -1.0]
    assert t["check_input"].tolist() == [7, 7, 7] and t["check_time"].tolist() == [2.5] * 3


def test_watch_limits_kept_eigenvalues_not_counts():
    rec = Recorder("full", watch=frozenset({4}))
    rec.on_check(3, (3,), np.array([1 + 0j]))
    rec.on_check(4, (4,), np.array([1 + 0j]))
    assert rec.checks == 2 and rec.traces()["check_node"].tolist() == [4]
    assert rec.keeps_eigenvalues(4) and not rec.keeps_eigenvalues(3)


def test_prunes_curves_and_ages():
    rec = Recorder("prunes", clock=Clock())
    rec.input, rec.sweep = 2, 5
    rec.on_prune(3, 4, 3, False)
    assert rec.prunes == [{"input": 2, "sweep": 5, "time": 2.5, "node": 3, "edge": [4, 3],
                           "remote": False}]
    rec.curve_point(input=0, time=1.0, train_error=0.25, edges=11)
    c = rec.curves()
    assert c["edges"].dtype == np.int64 and c["train_error"].tolist() == [0.25]
    rec.on_activate(3, 1.0, 0.5)
    rec.add_ages(np.array([4]), np.array([2.0]), np.array([0.25]))
    t = rec.traces()
    assert t["age_node"].tolist() == [3, 4] and t["age_value"].tolist() == [0.5, 0.25]


def test_watched_nodes_spread_evenly_with_the_output():
    w = watched_nodes(102, (0, 1), 101, 5)
    assert 101 in w and len(w) == 5 and min(w) == 2
    assert watched_nodes(102, (0, 1), 101, 5) == w  # no random draw
