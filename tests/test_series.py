"""The series task: road-sensor networks forecasting their own readings (argnn_sim.series)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from argnn_sim import Scenario, simulate
from argnn_sim.config import ConfigError
from argnn_sim.engines import engine_reason
from argnn_sim.engines.compiled import available  # noqa: E402
from argnn_sim.engines.teacher import InputDriver, prepare
from argnn_sim.rng import Streams
from argnn_sim.series import (
    LAG,
    RoadSeries,
    SeriesTask,
    load_road_series,
    road_topology,
    sensors_in_use,
    series_metrics,
    split_lengths,
)

from .conftest import DATA as SHARED  # noqa: E402 - the real data sets' folder
from .conftest import needs_data  # noqa: E402


def _write(tmp: Path, values: np.ndarray, adj: np.ndarray, name: str = "road") -> dict:
    np.savez(tmp / f"{name}.npz", data=values[:, :, None])
    np.savetxt(tmp / f"{name}_adj.csv", adj, delimiter=",", fmt="%g")
    return {"kind": "series", "data": str(tmp / f"{name}.npz"),
            "adjacency": str(tmp / f"{name}_adj.csv")}


def _ring(n: int) -> np.ndarray:
    return np.roll(np.eye(n), 1, 1) + np.roll(np.eye(n), -1, 1)


def _values(steps: int = 100, n: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[:, None]
    return 30 + 10 * np.sin(t / 5 + np.arange(n)) + rng.normal(0, 1, (steps, n))


def _scenario(task: dict, **sections: dict) -> Scenario:
    d = {"task": task, "schedule": {"sweeps": 1, "eval_sweeps": 1}, "node": {"bias": True},
         "record": {"traces": "prunes"}}
    d.update(sections)
    return Scenario.from_dict(d)


def test_targets_line_up_with_inputs_horizon_steps_later(tmp_path: Path) -> None:
    v = _values(100, 4)
    for h in (1, 3):
        sc = _scenario(dict(_write(tmp_path, v, _ring(4)), horizon=h, sensors=[1, 3]))
        prep = prepare(sc, 0)
        task = prep.task
        tr, va, _ = split_lengths(100)
        lo, hi = v[:tr].min(), v[:tr].max()
        steps = list(InputDriver(prep).steps())
        train = [s for s in steps if s.learn]
        test = [s for s in steps if not s.learn]
        assert len(train) == tr - h and len(test) == 100 - tr - va - h
        for s in train[:5] + train[-3:]:
            t = s.index
            np.testing.assert_allclose(s.inputs, (v[t, [1, 3]] - lo) / (hi - lo))
            np.testing.assert_allclose(s.targets, (v[t + h] - lo) / (hi - lo))
        for s in test[:3] + test[-3:]:
            t = tr + va + s.index
            np.testing.assert_allclose(s.inputs, (v[t, [1, 3]] - lo) / (hi - lo))
            np.testing.assert_allclose(s.targets, (v[t + h] - lo) / (hi - lo))
        assert task.to_original(np.asarray(test[0].targets)) == pytest.approx(v[tr + va + h])


def test_scaling_uses_training_statistics_only(tmp_path: Path) -> None:
    v = _values(100, 4)
    w = v.copy()
    tr, va, _ = split_lengths(100)
    w[tr:] *= 3.0  # validation and test far outside the training range
    a = SeriesTask.from_series(RoadSeries("a", v, _ring(4)))
    b = SeriesTask.from_series(RoadSeries("b", w, _ring(4)))
    assert (a.lo, a.hi) == (b.lo, b.hi) == (v[:tr].min(), v[:tr].max())
    np.testing.assert_array_equal(a.train, b.train)
    assert a.train.min() == 0.0 and a.train.max() == 1.0
    assert b.test.max() > 1.0  # test readings are scaled, never refit
    ra = simulate(_scenario(_write(tmp_path, v, _ring(4), "a"), pruning={"policy": "none"}), 0)
    rb = simulate(_scenario(_write(tmp_path, w, _ring(4), "b"), pruning={"policy": "none"}), 0)
    np.testing.assert_array_equal(ra.final_edges["weight"], rb.final_edges["weight"])
    assert ra.metrics["mae"] != rb.metrics["mae"]


def test_each_output_error_reaches_only_its_own_in_edges(tmp_path: Path) -> None:
    """Two sensors with no road between them: what sensor 0 reads and targets must not move
    anything of sensor 1 (its weights, its predictions)."""
    v = _values(100, 2)
    w = v.copy()
    w[:, 0] = np.clip(v[:, 0][::-1] * 0.9 + 5, v.min(), v[:60].max())  # another sensor 0
    w[0, 0], w[1, 0] = v[:60].min(), v[:60].max()  # the same training min and max
    assert w[:60].min() == v[:60].min() and w[:60].max() == v[:60].max()
    none = np.zeros((2, 2))
    runs = []
    for vals, name in ((v, "a"), (w, "b")):
        sc = _scenario(dict(_write(tmp_path, vals, none, name), hops=0, hidden=1),
                       pruning={"policy": "none"})
        runs.append(simulate(sc, 0))
    a, b = runs
    labels = a.labels
    mine = [k for k, lab in enumerate(labels) if str(lab).endswith("1") or str(lab) == "h1.0"]
    sel_a = np.isin(a.final_edges["dst"], mine)
    sel_b = np.isin(b.final_edges["dst"], mine)
    np.testing.assert_array_equal(a.final_edges["weight"][sel_a], b.final_edges["weight"][sel_b])
    other_a = a.final_edges["weight"][~sel_a]
    other_b = b.final_edges["weight"][~sel_b]
    assert not np.array_equal(other_a, other_b)  # sensor 0's own weights did move


def test_network_follows_the_road_graph() -> None:
    adj = np.zeros((5, 5))
    for i, j in ((0, 1), (1, 2), (2, 3)):
        adj[i, j] = adj[j, i] = 1  # a path 0-1-2-3, and 4 alone
    s = RoadSeries("path", _values(100, 5), adj)
    for hops, hidden in ((0, 0), (1, 0), (2, 1)):
        task = SeriesTask.from_series(s, hops=hops, hidden=hidden, sensors=[0, 2, 4])
        t = road_topology(task, Streams(0).weights)
        lab = [str(x) for x in t.labels]
        edges = {(lab[a], lab[b]) for a, b in zip(t.src.tolist(), t.dst.tolist())}
        assert t.inputs == (0, 1, 2) and lab[:3] == ["x0", "x2", "x4"]
        assert [lab[k] for k in t.outputs] == [f"y{i}" for i in range(5)]
        hear = {b for _a, b in edges}
        for i in range(5):
            near = {j for j in range(5) if j in (0, 2, 4) and
                    (j == i or (hops >= 1 and adj[i, j]) or
                     (hops >= 2 and (adj[i] @ adj[:, j]) > 0))}
            into = {a for a, b in edges if b == (f"h{i}.0" if hidden else f"y{i}")
                    and a.startswith("x")}
            assert into == {f"x{j}" for j in near}, (hops, i)
            rec = {a for a, b in edges if b == f"y{i}" and a.startswith("y")}
            assert rec == {f"y{j}" for j in np.flatnonzero(adj[i])}
            if hidden:
                assert (f"h{i}.0", f"y{i}") in edges
        assert "y4" in hear  # a predictor with no road neighbour still hears its sensor


def test_sensor_accounting_and_metrics(tmp_path: Path) -> None:
    assert sensors_in_use(["x3", "x7", "y0", "y1"], [1, 2, 3], [0, 1]) == [7]
    v = _values(100, 4)
    task = SeriesTask.from_series(RoadSeries("r", v, _ring(4), mape_threshold=25.0))
    steps = [t for t in task.test_steps() if task.scored(t)]
    assert steps[0] == LAG - 1
    pred = task.test[[t + 1 for t in steps]] + 0.01
    m = series_metrics(task, pred, steps)
    y = task.raw_test[[t + 1 for t in steps]]
    e = task.to_original(pred) - y
    assert m["mae"] == pytest.approx(np.abs(e).mean())
    assert m["rmse"] == pytest.approx(np.sqrt((e ** 2).mean()))
    big = y > 25.0
    assert m["mape"] == pytest.approx(np.mean(np.abs(e[big]) / y[big]))  # a fraction
    assert m["definition"] == "all" and m["scored"] == e.size
    sc = _scenario(dict(_write(tmp_path, v, _ring(4)), sensors=[0, 2]),
                   pruning={"policy": "none"})
    r = simulate(sc, 0)
    assert r.engine == ("compiled" if available() else "simpy")
    assert r.metrics["sensors_given"] == 2
    assert r.metrics["sensors_used"] == [0, 2] and r.metrics["edges"] == r.edges_after
    assert r.metrics["scored"] == len(r.per_row_errors) * 4
    assert r.error == pytest.approx(np.mean(r.per_row_errors))


def test_spectral_rule_can_drop_a_sensor_only_when_allowed(tmp_path: Path) -> None:
    v = _values(300, 6)
    base = dict(_write(tmp_path, v, _ring(6)), hops=0)
    widened = simulate(_scenario(base, pruning={"rule": "local", "eligible": "all",
                                                "outputs": True}), 0)
    plain = simulate(_scenario(base, pruning={"rule": "local"}), 0)
    assert plain.prune_events == []  # predictors are outputs: the default rule keeps them
    assert widened.prune_events
    m = widened.metrics
    gone = 6 - m["sensors_kept"]
    assert m["input_edges"] == 6 - gone  # hops 0: one input edge per sensor
    assert sorted(set(range(6)) - set(m["sensors_used"])) == sorted(
        int(str(widened.labels[e["edge"][0]])[1:]) for e in widened.prune_events
        if str(widened.labels[e["edge"][0]]).startswith("x"))


def test_series_runs_on_the_compiled_engine_and_the_batched_one_says_why(tmp_path: Path
                                                                          ) -> None:
    sc = _scenario(_write(tmp_path, _values(), _ring(4)))
    assert engine_reason("compiled", sc) in (None, "numba is not installed (pip install "
                                             "'argnn-sim[fast]')")
    assert "series" in engine_reason("batch", sc)
    assert "several outputs" in engine_reason("batch", sc)
    a, b = simulate(sc, 3), simulate(sc, 3)
    assert a.summary() == {**b.summary(), "seconds": a.seconds, "timings": a.timings}


@pytest.mark.parametrize("task, other, words", [
    ({"kind": "truth", "horizon": 2}, {}, "task.horizon applies to task.kind = 'series'"),
    ({"kind": "series"}, {}, "needs task.data"),
    ({"kind": "series", "data": "x.npz", "gate": "AND"}, {}, "task.gate and task.bits"),
    ({"kind": "series", "data": "x.npz"}, {"network": {"hidden": 4}}, "task.hidden"),
    ({"kind": "series", "data": "x.npz"}, {"schedule": {"inputs": 5}}, "task.passes"),
    ({"kind": "series", "data": "x.npz", "sensors": [1, 1]}, {}, "twice"),
    ({"kind": "series", "data": "x.npz", "sensors": [-1]}, {}, ">= 0"),
    ({"kind": "series", "data": "x.npz", "horizon": 0}, {}, "task.horizon"),
    ({"kind": "bogus"}, {}, "task.kind"),
    ({"kind": "series", "data": "x.npz"}, {"pruning": {"eligible": "all"}}, "local"),
    ({"kind": "series", "data": "x.npz"}, {"rng": {"mode": "reference"}}, "rng.mode"),
])
def test_series_keys_are_validated(task: dict, other: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=None) as e:
        Scenario.from_dict({"task": task, **other})
    assert words in str(e.value)


def test_bad_data_files_get_one_clear_error(tmp_path: Path) -> None:
    v = _values()
    good = _write(tmp_path, v, _ring(4))
    cases = {
        "missing": ({**good, "data": str(tmp_path / "nope.npz")}, "not found"),
        "no adjacency": ({"kind": "series", "data": good["data"]}, "task.adjacency"),
        "bad shape": ({**good, "adjacency": _write(tmp_path, v, _ring(5), "five")["adjacency"]},
                      "has shape (5, 5)"),
        "sensor range": ({**good, "sensors": [9]}, "0..3"),
        "too short": ({**good, "test_steps": 5}, "test split has 5 steps"),
    }
    nan = v.copy()
    nan[3, 1] = np.nan
    cases["nan"] = (_write(tmp_path, nan, _ring(4), "nan"), "NaN")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    cases["junk"] = ({**good, "data": str(tmp_path / "junk.npz")}, "cannot be read")
    for name, (task, words) in cases.items():
        with pytest.raises(ConfigError) as e:
            simulate(_scenario(task), 0)
        assert words in str(e.value), name


def test_cli_refuses_a_missing_data_file_with_status_2(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text('[task]\nkind = "series"\ndata = "missing.npz"\nadjacency = "a.csv"\n')
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "argnn_sim", "run", str(toml), "--out", str(out)],
                       capture_output=True, text=True, env={**os.environ, "ARGNN_DATA": ""})
    assert p.returncode == 2, p.stderr
    assert "missing.npz" in p.stderr and "not found" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not out.exists()


@needs_data("sz_taxi")
def test_sz_taxi_loads_without_torch() -> None:
    s = load_road_series("sz_taxi", data_root=SHARED)
    assert s.values.shape == (2976, 156) and s.mape_threshold == 1.0
    assert (s.adjacency == s.adjacency.T).all() and s.adjacency.trace() == 0
    code = (f"import sys, argnn_sim.series as m; m.load_road_series('sz_taxi', "
            f"data_root={str(SHARED)!r}); print('torch' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.stdout.strip() == "False", p.stderr


def test_a_series_run_too_large_is_refused_before_it_is_built(tmp_path: Path) -> None:
    from argnn_sim.errors import ResourceError
    from argnn_sim.limits import check_series

    sc = _scenario(_write(tmp_path, _values(), _ring(4)), pruning={"policy": "none"})
    ok = check_series(sc, nodes=8, edges=20, n_inputs=4, train_steps=60, test_steps=20,
                      data_bytes=1e4)
    assert ok.activations == (60 + 20) * 4  # one pass per step, four predictors
    with pytest.raises(ResourceError, match="task.passes"):
        check_series(sc, nodes=8, edges=20, n_inputs=4, train_steps=10**12, test_steps=20,
                     data_bytes=1e4)
    with pytest.raises(ResourceError, match="memory"):
        check_series(sc, nodes=8, edges=1e15, n_inputs=4, train_steps=60, test_steps=20,
                     data_bytes=1e4)
    big = _scenario(dict(_write(tmp_path, _values(), _ring(4), "big"), passes=10_000,
                         hidden=64, hops=4))
    with pytest.raises(ResourceError, match="node activations"):
        simulate(big.replace(**{"schedule.sweeps": 10_000}), 0)


def test_a_missing_sz_taxi_folder_names_how_to_give_it(tmp_path, monkeypatch):
    from argnn_sim.errors import DataError
    from argnn_sim.series import load_road_series

    monkeypatch.delenv("ARGNN_DATA", raising=False)
    with pytest.raises(DataError, match=r"--set task\.data_root=DIR.*ARGNN_DATA"):
        load_road_series("sz_taxi")
    with pytest.raises(DataError, match=r"not under .*SZ_TAXI/SZ_taxi\.npz as task\.data_root"):
        load_road_series("sz_taxi", data_root=tmp_path)
