"""The road-network comparison: equal budgets, resume, references, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from argnn_sim import Scenario
from argnn_sim.engines.simpy_engine import run_simpy
from prunegcrn_bridge.errors import BridgeConfigError
from prunegcrn_bridge.road import (
    RoadConfig,
    baselines,
    load_selections,
    magnitude_edges,
    magnitude_sensors,
    paired_road,
    random_sensors,
    run_road_compare,
    series_facts,
)

from .conftest import needs_data


def _series(tmp: Path, n: int = 8, steps: int = 200) -> tuple[str, str]:
    rng = np.random.default_rng(1)
    t = np.arange(steps)[:, None]
    v = 40 + 10 * np.sin(2 * np.pi * t / 24 + np.arange(n)) + rng.normal(0, 2, (steps, n))
    adj = np.roll(np.eye(n), 1, 1) + np.roll(np.eye(n), -1, 1)
    np.savez(tmp / "road.npz", data=v)
    np.savetxt(tmp / "road.csv", adj, delimiter=",", fmt="%g")
    return str(tmp / "road.npz"), str(tmp / "road.csv")


def _selections(tmp: Path, kept: dict[tuple[float, int], list[int]], n: int = 8,
                series: str = "road") -> str:
    folder = tmp / f"sel-{series}"
    (folder / "runs").mkdir(parents=True)
    (folder / "compare.json").write_text(json.dumps({"series": series, "nodes": n}))
    for (f, s), k in kept.items():
        rec = {"kept": k, "metrics": {"mae_h": [3.0 + f], "rmse_h": [4.0], "mape_h": [0.3]}}
        (folder / "runs" / f"prunegcrn-f{f:g}-s{s}.json").write_text(json.dumps(rec))
    return str(folder)


def _cfg(tmp: Path, **kw: object) -> RoadConfig:
    data, adj = _series(tmp)
    base = dict(data=data, adjacency=adj, seeds=2, fractions=(1.0, 0.5), asynchronous=False)
    base.update(kw)
    return RoadConfig(**base)  # type: ignore[arg-type]


def test_equal_budgets_resume_and_determinism(tmp_path: Path) -> None:
    sel = _selections(tmp_path, {(0.5, 0): [0, 2, 4, 6], (0.5, 1): [1, 2, 3, 4]})
    cfg = _cfg(tmp_path, selections=(sel,))
    rows = run_road_compare(cfg, tmp_path / "out")
    by = {(r["method"], r["fraction"], r["seed"]): r for r in rows}
    for s in (0, 1):
        for m in ("random", "prunegcrn", "magnitude"):
            r = by[(m, 0.5, s)]
            assert r["sensors_kept"] == 4, (m, s)  # round(0.5 * 8)
        assert by[("prunegcrn", 0.5, s)]["sensors_used"] == [[0, 2, 4, 6], [1, 2, 3, 4]][s]
        assert by[("random", 0.5, s)]["sensors_used"] == random_sensors(8, 4, s)
        for mode in ("D", "DW"):
            sp = by[(f"spectral-{mode}", None, s)]
            # equal edges removed: magnitude prunes as many edges as the spectral run did
            assert by[(f"magnitude@spectral-{mode}", None, s)]["edges"] == sp["edges"]
            # equal sensors kept: random keeps as many as the spectral run kept
            rnd = by[(f"random@spectral-{mode}", None, s)]
            assert rnd["sensors_kept"] == max(1, sp["sensors_kept"])
            for share in cfg.budgets:  # the rule's path: the same run, capped
                cap = round(share * sp["edges_removed"])
                if cap >= 1:
                    capped = by[(f"spectral-{mode}-b{share:g}", None, s)]
                    assert capped["edges_removed"] == cap, (mode, share)
        assert by[("spectral-DW", None, s)]["edges_removed"] >= 2  # the path has points
        assert by[("unpruned", None, s)]["edges_removed"] == 0
    assert {r["method"] for r in rows} >= {"last-value", "input-window-mean",
                                           "daily-slot-mean"}
    assert {r["definition"] for r in rows} == {"all"}  # every row on one definition
    # the hand-made selections keep no checkpoints: no AGCRN rows, and the table says why
    assert "agcrn" not in {r["method"] for r in rows}
    assert "no checkpoint" in (tmp_path / "out" / "summary.md").read_text()
    runs = sorted((tmp_path / "out" / "runs").glob("*.json"))
    stamps = [p.stat().st_mtime_ns for p in runs]
    again = run_road_compare(cfg, tmp_path / "out")  # resumes: nothing is run again
    assert [p.stat().st_mtime_ns for p in runs] == stamps
    assert again == rows
    fresh = run_road_compare(cfg, tmp_path / "out2")  # same seed, same numbers
    assert [r["mae"] for r in fresh] == [r["mae"] for r in rows]
    for name in ("summary.csv", "paired.csv", "summary.md", "error_vs_kept.png",
                 "road_map.png"):
        assert (tmp_path / "out" / name).is_file(), name
    with pytest.raises(BridgeConfigError, match="other settings"):
        run_road_compare(_cfg(tmp_path, seeds=1), tmp_path / "out")


def test_magnitude_rankings() -> None:
    labels = ["x0", "x1", "x2", "y0", "y1", "y2"]
    edges = [(0, 3, 0.5), (1, 4, -2.0), (2, 5, 0.1), (2, 3, 0.3), (4, 3, -0.05)]
    assert magnitude_sensors(labels, edges, 1) == [1]
    assert magnitude_sensors(labels, edges, 2) == [0, 1]  # x0: 0.5 against x2: 0.4
    assert magnitude_edges(edges, 2) == [(4, 3), (2, 5)]
    assert magnitude_edges(edges, 0) == []


def test_centralized_intervention_after_training(tmp_path: Path) -> None:
    data, adj = _series(tmp_path)
    sc = Scenario.from_dict({"task": {"kind": "series", "data": data, "adjacency": adj,
                                      "hops": 0},
                             "schedule": {"sweeps": 1, "eval_sweeps": 1},
                             "node": {"bias": True}, "pruning": {"policy": "none"},
                             "record": {"traces": "prunes"}})
    plain = run_simpy(sc, 0)
    cut = [(0, 8), (1, 9)]  # x0 -> y0, x1 -> y1
    seen = []

    def hook(net: object) -> None:
        seen.append(sum(len(nd.in_src) for nd in net.nodes))  # type: ignore[attr-defined]
        net.remove_edges(cut)  # type: ignore[attr-defined]

    pruned = run_simpy(sc, 0, after_training=hook)
    assert seen == [plain.edges_after]
    assert pruned.edges_after == plain.edges_after - 2
    assert pruned.metrics["sensors_used"] == list(range(2, 8))
    assert plain.curves["train_error"].tolist() == pruned.curves["train_error"].tolist()
    assert pruned.metrics["mae"] != plain.metrics["mae"]


def test_baselines_on_the_scored_targets(tmp_path: Path) -> None:
    from argnn_sim.series import SeriesTask, load_road_series

    data, adj = _series(tmp_path)
    task = SeriesTask.from_series(load_road_series(data, adjacency=adj))
    rows = {r["method"]: r for r in baselines(task, steps_per_day=24)}
    steps = [t for t in task.test_steps() if task.scored(t)]
    y = task.raw_test[[t + 1 for t in steps]]
    last = task.raw_test[steps]
    assert rows["last-value"]["mae"] == pytest.approx(np.abs(last - y).mean())
    assert rows["daily-slot-mean"]["mae"] < rows["last-value"]["mae"] * 3
    window = np.mean([task.raw_test[[t - j for t in steps]] for j in range(4)], axis=0)
    assert rows["input-window-mean"]["mae"] == pytest.approx(np.abs(window - y).mean())
    assert rows["input-window-mean"]["definition"] == "all"
    facts = series_facts(task)
    assert facts["zero_share"] == 0.0 and facts["test_mean"] == pytest.approx(task.raw_test.mean())
    assert facts["oracle_sensor_mean_mae"] == pytest.approx(np.abs(y - y.mean(0)).mean())


def test_paired_differences_by_seed() -> None:
    rows = [{"method": "prunegcrn", "fraction": 0.5, "seed": s, "mae": 1.0 + 0.1 * s}
            for s in range(3)]
    rows += [{"method": "random", "fraction": 0.5, "seed": s, "mae": 1.5 + 0.1 * s}
             for s in range(3)]
    [p] = paired_road(rows)
    assert (p["method"], p["reference"], p["pairs"]) == ("random", "prunegcrn", 3)
    assert p["delta"] == pytest.approx(0.5) and p["share"] == 1.0


def test_bad_selections_and_options(tmp_path: Path) -> None:
    other = _selections(tmp_path, {(0.5, 0): [1]}, n=5, series="other")
    with pytest.raises(BridgeConfigError, match="not 'road'"):
        load_selections([other], (0.5,), 1, 8, "road")
    with pytest.raises(BridgeConfigError, match="no compare.json"):
        load_selections([str(tmp_path)], (0.5,), 1, 8, "road")
    with pytest.raises(BridgeConfigError, match="fractions"):
        RoadConfig(fractions=(0.0,))
    with pytest.raises(BridgeConfigError, match="loss"):
        RoadConfig(loss=1.0)
    with pytest.raises(BridgeConfigError, match="delay"):
        RoadConfig(delay=float("inf"))


def test_cli_bad_network_is_one_line_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for argv, words in (
        (["--network", str(tmp_path / "none.npz"), "--adjacency", "a.csv"], "not found"),
        (["--network", "sz_taxi", "--ks", "1,2"], "--ks"),
        (["--hops", "1"], "--network"),
    ):
        p = subprocess.run([sys.executable, "-m", "argnn_sim", "compare", *argv, "--out",
                            str(out)], capture_output=True, text=True)
        assert p.returncode == 2, (argv, p.stderr)
        assert words in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert not out.exists()


def test_agcrn_rows_come_from_checkpoints_on_the_comparisons_own_targets(tmp_path: Path
                                                                          ) -> None:
    """A real `traffic compare` folder: its models forecast the road comparison's scored
    targets, scored by the same metric function as every simulated row."""
    from argnn_sim.metrics import forecast_metrics
    from argnn_sim.series import SeriesTask, load_road_series
    from prunegcrn_bridge.traffic.data import load_npz
    from prunegcrn_bridge.traffic.experiment import compare
    from prunegcrn_bridge.traffic.forecast import forecast_at
    from prunegcrn_bridge.traffic.train import config_for

    data, adj = _series(tmp_path)
    series = load_npz(data, distance=adj)
    cfg_t = config_for("default", epochs=1, hidden=8, embed_dim=2, max_batches=2)
    compare(series, tmp_path / "sel", fractions=(1.0, 0.5), seeds=(0,),
            methods=("prunegcrn",), cfg=cfg_t)
    cfg = _cfg(tmp_path, seeds=1, selections=(str(tmp_path / "sel"),), modes=("DW",),
               budgets=())
    rows = run_road_compare(cfg, tmp_path / "out")
    agcrn = {r["fraction"]: r for r in rows if r["method"] == "agcrn"}
    assert set(agcrn) == {1.0, 0.5} and agcrn[1.0]["definition"] == "all"
    task = SeriesTask.from_series(load_road_series(data, adjacency=adj))
    steps = np.array([t for t in task.test_steps() if task.scored(t)])
    idx = 200 - task.test.shape[0] + steps + 1
    pred = forecast_at(tmp_path / "sel", "all-f1-s0", series, idx)
    assert agcrn[1.0]["mae"] == forecast_metrics(pred, task.raw_test[steps + 1])["mae"]
    with pytest.raises(BridgeConfigError, match="trained under --protocol default"):
        run_road_compare(_cfg(tmp_path, seeds=1, selections=(str(tmp_path / "sel"),),
                              protocol="tgcn"), tmp_path / "out3")
@needs_data("sz_taxi")
def test_planted_series_truth_scores_and_horizon(tmp_path: Path) -> None:
    """On a planted series the comparison imposes the true drivers, scores every method's
    kept sensors against them, and scores edge pruning against the true parent edges."""
    from argnn_sim.planted import PlantedSpec, planted_series
    from prunegcrn_bridge.road import planted_truth, truth_scores

    from .conftest import DATA

    spec = "planted:sz_taxi:steps=400,hops=1,seed=2"
    cfg = RoadConfig(data=spec, data_root=str(DATA), seeds=1, fractions=(1.0, 0.25),
                     hops=1, horizon=4, asynchronous=False, modes=("DW",), budgets=(),
                     train_steps=150, test_steps=60)
    rows = run_road_compare(cfg, tmp_path / "p")
    by = {(r["method"], r["fraction"]): r for r in rows if r.get("seed", 0) == 0}
    truth = planted_truth(cfg)
    assert truth.drivers.tolist() == planted_series(
        PlantedSpec(steps=400, hops=1, seed=2), data_root=DATA).drivers.tolist()
    drv = by[("drivers", None)]
    assert drv["sensors_used"] == truth.drivers.tolist()
    assert drv["driver_recall"] == 1.0 and drv["driver_precision"] == 1.0
    for m in ("random", "correlation", "magnitude"):
        r = by[(m, 0.25)]
        assert r["sensors_kept"] == 39 and 0 <= r["driver_recall"] <= 1, m
    for m in ("correlation@spectral-DW", "magnitude-sensors@spectral-DW"):
        assert by[(m, None)]["sensors_kept"] == max(1, by[("spectral-DW", None)]["sensors_kept"])
    sp = by[("spectral-DW", None)]
    assert sp["horizon"] == 4
    # the references forecast the same targets, 4 steps ahead: the last value is x(t) for
    # x(t + 4) on the runs' scored steps
    from argnn_sim.metrics import forecast_metrics
    from argnn_sim.series import SeriesTask, load_road_series

    task = SeriesTask.from_series(load_road_series(spec, data_root=str(DATA)), horizon=4,
                                  train_steps=150, test_steps=60)
    t = np.asarray([s for s in task.test_steps() if task.scored(s)])
    want = forecast_metrics(task.raw_test[t], task.raw_test[t + 4], definition="all")["mae"]
    assert by[("last-value", 1.0)]["mae"] == pytest.approx(want, rel=1e-12)
    h1 = SeriesTask.from_series(load_road_series(spec, data_root=str(DATA)), horizon=1,
                                train_steps=150, test_steps=60)
    t1 = np.asarray([s for s in h1.test_steps() if h1.scored(s)])
    assert want != forecast_metrics(h1.raw_test[t1], h1.raw_test[t1 + 1], definition="all")["mae"]
    if sp["edges_removed"]:
        assert 0 <= sp["removed_nonparent_share"] <= 1 and 0 <= sp["parent_kept_share"] <= 1
    # a hand-made record: x0 -> y1 is a parent edge when sensor 0 drives sensor 1
    labels = ["x0", "x1", "y0", "y1"]
    edges = {(0, 2), (0, 3), (1, 3), (2, 3)}

    class T:
        drivers = np.array([0])

        @staticmethod
        def parent_edges() -> set[tuple[int, int]]:
            return {(0, 1)}

    s = truth_scores({"sensors_used": [0, 1], "removed": [[0, 3], [2, 3]],
                      "sensors_list": []}, T, labels, edges)
    assert s == {"driver_recall": 1.0, "driver_precision": 0.5,
                 "removed_nonparent_share": 0.5, "parent_kept_share": 0.5}
    md = (tmp_path / "p" / "summary.md").read_text()
    assert "driver recall" in md and "4 step(s) ahead" in md
