"""argnn_sim.planted: a planted road series on a real road graph, its truth, its spec."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from argnn_sim.errors import DataError
from argnn_sim.planted import (
    PlantedSpec,
    parse_planted,
    planted_series,
    write_planted,
)
from argnn_sim.series import SeriesTask, _neighbourhoods, load_road_series

from .conftest import DATA, needs_data


def _ring(n: int) -> np.ndarray:
    return np.roll(np.eye(n), 1, 1) + np.roll(np.eye(n), -1, 1)


def test_every_follower_is_its_parents_mixture_and_nothing_else() -> None:
    spec = PlantedSpec(share=0.2, noise=0.0, hops=2, lags=(1, 3), steps=400, seed=4)
    p = planted_series(spec, adjacency=_ring(20))
    near = _neighbourhoods(_ring(20), 2)
    drivers = set(p.drivers.tolist())
    assert len(drivers) >= 4 and p.values.shape == (400, 20)
    for i, ps in enumerate(p.parents):
        if i in drivers:
            assert ps == ()
            continue
        assert 1 <= len(ps) <= 3
        assert abs(sum(w for _, _, w in ps) - 1) < 1e-12
        for d, lag, _ in ps:
            assert d in drivers and near[i, d] and 1 <= lag <= 3
        # with no noise, a follower is exactly the lagged mixture of its drivers' readings
        t = np.arange(3, 400)
        mix = sum(w * p.values[t - lag, d] for d, lag, w in ps)
        np.testing.assert_allclose(p.values[t, i], np.maximum(mix, 0), rtol=1e-12, atol=1e-9)


def test_missing_readings_and_the_truth() -> None:
    p = planted_series(PlantedSpec(missing=0.2, steps=500, seed=1), adjacency=_ring(15))
    assert 0.17 < float(np.mean(p.values == 0)) < 0.23
    truth = p.truth()
    assert truth["drivers"] == p.drivers.tolist() and truth["sensors"] == 15
    assert set(truth["parents"]) == {str(i) for i in range(15)} - {str(d) for d in p.drivers}
    assert p.parent_edges() == {(e["driver"], int(i)) for i, es in truth["parents"].items()
                                for e in es}
@needs_data("sz_taxi")
def test_one_seed_gives_identical_files_another_seed_other_ones(tmp_path: Path) -> None:
    spec = PlantedSpec(steps=300, missing=0.05, seed=7)

    def digest(folder: Path) -> list[str]:
        paths = write_planted(planted_series(spec if folder.name != "c" else
                                             PlantedSpec(steps=300, missing=0.05, seed=8),
                                             data_root=DATA), folder)
        return [hashlib.sha256(q.read_bytes()).hexdigest() for q in paths]

    a, b, c = digest(tmp_path / "a"), digest(tmp_path / "b"), digest(tmp_path / "c")
    assert a == b and a[0] != c[0]
    with np.load(tmp_path / "a" / "planted.npz") as z:
        assert z["data"].shape == (300, 156)
    truth = json.loads((tmp_path / "a" / "truth.json").read_text())
    assert truth["spec"] == "planted:sz_taxi:missing=0.05,steps=300,seed=7"
@needs_data("sz_taxi")
def test_a_spec_names_the_series_as_task_data(tmp_path: Path) -> None:
    name = "planted:sz_taxi:steps=400,seed=3"
    s = load_road_series(name, data_root=DATA)
    assert s.name == name and s.values.shape == (400, 156) and s.mape_threshold == 1.0
    again = planted_series(parse_planted(name), data_root=DATA)
    np.testing.assert_array_equal(s.values, again.values)
    task = SeriesTask.from_series(s, horizon=4)
    assert task.n_outputs == 156 and task.horizon == 4
    assert parse_planted(PlantedSpec(share=0.3, lags=(2, 2)).to_string()) == \
        PlantedSpec(share=0.3, lags=(2, 2))


@pytest.mark.parametrize("spec, words", [
    ("planted:sz_taxi:share=0", "share=0.0"),
    ("planted:sz_taxi:share=1", "share=1.0"),
    ("planted:sz_taxi:lags=-1-2", "lags"),
    ("planted:sz_taxi:hops=-1", "hops=-1"),
    ("planted:sz_taxi:missing=1", "missing=1.0"),
    ("planted:sz_taxi:missing=-0.1", "missing=-0.1"),
    ("planted:sz_taxi:colour=red", "unknown option"),
    ("planted:nowhere", "unknown base graph"),
])
def test_bad_specs_are_one_clear_error(spec: str, words: str) -> None:
    with pytest.raises(DataError, match=words.replace("(", r"\(")):
        planted_series(parse_planted(spec), data_root=DATA)


def test_cli_bad_spec_is_one_line_exit_2_nothing_written(tmp_path: Path) -> None:
    env = {**os.environ, "ARGNN_DATA": str(DATA), "MPLBACKEND": "Agg"}
    for argv in (["run", "--set", "task.kind=series", "--set", "task.data=planted:sz_taxi:"
                  "hops=-1", "--out", str(tmp_path / "o")],
                 ["traffic", "train", "--data", "planted:sz_taxi:share=1", "--out",
                  str(tmp_path / "o")]):
        p = subprocess.run([sys.executable, "-m", "argnn_sim", *argv], capture_output=True,
                           text=True, cwd=tmp_path, env=env, timeout=300)
        assert p.returncode == 2, p.stderr
        assert "planted series" in p.stderr and len(p.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "o").exists()
