"""prunegcrn_bridge.traffic.data: loaders, planted synthetic data, windows and scaling."""

import numpy as np
import pytest

from prunegcrn_bridge.errors import DataError
from prunegcrn_bridge.traffic import data as T

from .conftest import DATA, needs_data


@needs_data("sz_taxi")
def test_sz_taxi_windows_match_the_published_counts():
    s = T.load_sz_taxi(DATA)
    assert s.values.shape == (2976, 156) and s.steps_per_day == 96
    assert np.array_equal(s.adjacency, s.adjacency.T) and s.adjacency.sum() >= 532
    w = T.prepare(s)
    assert {k: v.shape[0] for k, v in w.x.items()} == {"train": 1763, "val": 572, "test": 572}
    assert w.x["train"].shape[1:] == (12, 156, 1) and w.y["test"].shape[1:] == (12, 156, 1)
    train = s.values[:1786]
    assert w.mean == pytest.approx(train.mean()) and w.std == pytest.approx(train.std())
    # the target of window i is the 12 steps after its inputs
    np.testing.assert_allclose(w.inverse(w.y["val"][0, :, :, 0]), s.values[1786 + 12:1786 + 24],
                               rtol=1e-5, atol=1e-4)
    assert T.prepare(s, scaler="all").mean == pytest.approx(s.values.mean())
    assert s.mape_threshold == 1.0 and w.mape_threshold == 1.0  # MAPE over speeds > 1 km/h


def test_missing_or_wrong_files_are_clear_errors(tmp_path):
    with pytest.raises(DataError, match=r"nope\.npz not found.*key 'data'"):
        T.load_npz(tmp_path / "nope.npz")
    np.savez(tmp_path / "bad.npz", flow=np.zeros((10, 3)))
    with pytest.raises(DataError, match="no 'data'"):
        T.load_npz(tmp_path / "bad.npz")
    np.savez(tmp_path / "ok.npz", data=np.ones((40, 3, 2)))
    (tmp_path / "d.csv").write_text("from,to,cost\n0,1,5.0\n1,2,3.0\n")
    s = T.load_npz(tmp_path / "ok.npz", distance=tmp_path / "d.csv")
    assert s.values.shape == (40, 3) and s.adjacency.tolist() == [[0, 1, 0], [1, 0, 1],
                                                                   [0, 1, 0]]
    (tmp_path / "e.csv").write_text("from,to,cost\n0,7,5.0\n")
    with pytest.raises(DataError, match="outside"):
        T.load_distance_csv(tmp_path / "e.csv", 3)
    with pytest.raises(DataError, match="not under .*SZ_taxi.npz"):
        T.load_sz_taxi(tmp_path)


def test_synthetic_is_seeded_and_non_drivers_follow_drivers():
    a, b = T.synthetic(40, drivers=8, steps=960, seed=3), T.synthetic(40, drivers=8, steps=960,
                                                                      seed=3)
    assert np.array_equal(a.values, b.values) and np.array_equal(a.drivers, b.drivers)
    assert not np.array_equal(a.values, T.synthetic(40, drivers=8, steps=960, seed=4).values)
    assert len(a.drivers) == 8 and a.values.min() > 0
    # each non-driver is explained by the drivers' recent past far better than by noise
    x = np.hstack([np.roll(a.values[:, a.drivers], lag, axis=0) for lag in (1, 2, 3)])[3:]
    x = np.hstack([x, np.ones((x.shape[0], 1))])
    others = np.setdiff1d(np.arange(40), a.drivers)
    y = a.values[3:, others]
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    r2 = 1 - ((y - x @ coef) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)
    assert np.median(r2) > 0.9
