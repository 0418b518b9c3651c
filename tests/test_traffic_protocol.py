"""The literature's protocols (tgcn, agcrn, default) and the one metric definition."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from argnn_sim.errors import DataError
from prunegcrn_bridge.errors import BridgeConfigError
from prunegcrn_bridge.traffic import data as T
from prunegcrn_bridge.traffic.protocol import PROTOCOLS, TGCN_PUBLISHED, get_protocol
from prunegcrn_bridge.traffic.train import config_for, evaluate, window_mean

from .conftest import DATA, needs_data

ROOT = Path(__file__).resolve().parents[1]
@needs_data("sz_taxi")
def test_tgcn_split_windows_and_scaling_on_sz_taxi() -> None:
    s = T.load_sz_taxi(DATA)
    w = T.prepare(s, protocol="tgcn")
    # 80/20: 2380 steps, the validation is the last eighth of them, the test the last 596
    assert w.offsets == {"train": 0, "val": 2083, "test": 2380}
    assert {k: v.shape[0] for k, v in w.x.items()} == {"train": 2075, "val": 289, "test": 591}
    assert w.x["test"].shape[1:] == (4, 156, 1) and w.y["test"].shape[1:] == (4, 156, 1)
    assert w.mean == 0.0 and w.std == pytest.approx(s.values[:2083].max())
    # T-GCN scores the k-step forecast on len(test) - 4 - k windows
    assert [w.scored(k) for k in (1, 2, 3, 4)] == [591, 590, 589, 588]
    x, y = w.test_windows()
    np.testing.assert_array_equal(x[5, :, :, 0], s.values[2385:2389])
    np.testing.assert_array_equal(y[5, :, :, 0], s.values[2389:2393])
    # the last window's targets run one step past the series' end at its third step
    assert np.isnan(y[-1, 2:]).all() and not np.isnan(y[-1, :2]).any()
    assert not np.isnan(y[:588]).any()
@needs_data("sz_taxi")
def test_tgcn_ha_reproduces_the_published_15_minute_row_exactly() -> None:
    """T-GCN's HA (the mean of the 4-step input window) on SZ-taxi: MAE 2.7815, RMSE 4.2951,
    accuracy 0.7008 (Zhao et al. 2019, Table 1)."""
    w = T.prepare(T.load_sz_taxi(DATA), protocol="tgcn")
    x, y = w.test_windows()
    m = evaluate(window_mean(x, 4), y, w)
    rmse, mae, acc, _, _ = TGCN_PUBLISHED["HA"][15]
    assert (round(m["mae_h"][0], 4), round(m["rmse_h"][0], 4),
            round(m["accuracy_h"][0], 4)) == (mae, rmse, acc)
    assert m["definition"] == "all" and m["protocol"] == "tgcn" and m["pooled"]
    # the k-step scores pool steps 1..k: the 30-minute score is the pooled 2-step one
    n2 = w.scored(2)
    both = np.abs(window_mean(x, 4)[:n2, :2] - y[:n2, :2]).mean()
    assert m["mae_h"][1] == pytest.approx(both)
    # the masked definition is an extra, labelled entry, never the headline
    assert m["masked"]["mae_h"][0] > m["mae_h"][0]
    # the comparison's literature table sets the reproduced row beside the published one
    from prunegcrn_bridge.traffic.experiment import literature_markdown, references

    s = T.load_sz_taxi(DATA)
    lit = literature_markdown(references(s, w), s)
    assert lit is not None and "arXiv:1811.05320" in lit
    assert "| 15 min | input-window mean (T-GCN's HA) | ours | 4.2951 | 2.7815 | 0.7008 |" in lit
    assert "| 15 min | T-GCN | published | 3.9162 | 2.7117 | 0.7302 |" in lit
    assert literature_markdown(references(s, T.prepare(s)), s) is None  # another protocol


def test_agcrn_protocol_split_scaling_and_steps() -> None:
    s = T.synthetic(12, drivers=3, steps=400, seed=2)
    w = T.prepare(s, protocol="agcrn")
    tr, va, te = T.split_lengths(400)
    assert (tr, va, te) == (240, 80, 80) and w.offsets["test"] == 320
    assert w.mean == pytest.approx(s.values.mean()) and w.std == pytest.approx(s.values.std())
    assert w.x["test"].shape == (80 - 23, 12, 12, 1) and w.mape_threshold == 0.0
    x, y = w.test_windows()
    pred = y + 1.0
    m = evaluate(pred, y, w)
    assert m["steps"] == [3, 6, 12] and not m["pooled"]
    assert m["mae_h"] == pytest.approx([1.0] * 12) and m["mae"] == pytest.approx(1.0)
    assert config_for("agcrn").loss_scale == "original" and config_for("agcrn").init == "agcrn"


def test_agcrn_training_reads_outputs_as_readings_and_uses_its_init(tmp_path: Path) -> None:
    from prunegcrn_bridge.traffic.train import TrainConfig, train  # noqa: F401

    s = T.synthetic(10, drivers=3, steps=400, seed=1)
    w = T.prepare(s, protocol="agcrn")
    cfg = config_for("agcrn", epochs=1, hidden=8, embed_dim=2, max_batches=2)
    r = train(w, cfg=cfg, mode="fixed", seed=0, out=tmp_path / "a")
    assert r["protocol"]["name"] == "agcrn" and r["metrics"]["protocol"] == "agcrn"
    import torch

    state = torch.load(tmp_path / "a" / "best.pt", weights_only=True)
    bias = state["backbone.end_conv.bias"]
    assert bias.min() >= 0 and bias.max() <= 1.01  # U(0, 1), barely moved by 2 steps
    # one epoch of L1 on the readings: the forecasts are far from the z-scored values' scale
    assert r["metrics"]["mae"] > 0 and np.isfinite(r["metrics"]["mae"])


def test_the_same_predictions_give_the_same_numbers_on_both_paths(tmp_path: Path) -> None:
    """The traffic path (``evaluate``) and the road comparison's path (``series_metrics``,
    what every simulated row is scored by) agree on the same forecasts of the same targets."""
    from argnn_sim.series import RoadSeries, SeriesTask, series_metrics

    rng = np.random.default_rng(3)
    v = rng.uniform(0, 40, (200, 6))
    v[rng.random(v.shape) < 0.2] = 0.0  # missing readings: the two definitions differ
    adj = np.roll(np.eye(6), 1, 1) + np.roll(np.eye(6), -1, 1)
    task = SeriesTask.from_series(RoadSeries("r", v, adj, mape_threshold=1.0))
    steps = [t for t in task.test_steps() if task.scored(t)]
    z = rng.uniform(0, 1, (len(steps), 6))
    road = series_metrics(task, z, steps)
    pred = task.to_original(z)
    true = task.raw_test[np.asarray(steps) + 1]
    traffic = evaluate(pred[:, None, :, None], true[:, None, :, None], mape_threshold=1.0)
    for k in ("mae", "rmse", "mape", "accuracy", "r2", "var"):
        assert road[k] == traffic[k], k
    masked = series_metrics(task, z, steps, definition="masked")
    assert masked["mae"] == traffic["masked"]["mae"] and masked["mae"] != road["mae"]


def test_forecasts_from_a_checkpoint_equal_the_training_run(tmp_path: Path) -> None:
    from argnn_sim.metrics import forecast_metrics
    from prunegcrn_bridge.traffic.experiment import compare
    from prunegcrn_bridge.traffic.forecast import forecast_at

    s = T.synthetic(8, drivers=2, steps=300, seed=4)
    cfg = config_for("tgcn", epochs=2, hidden=8, embed_dim=2, max_batches=3)
    recs = compare(s, tmp_path / "c", fractions=(1.0,), seeds=(0,), cfg=cfg, protocol="tgcn")
    rec = next(r for r in recs if r["method"] == "all")
    w = T.prepare(s, protocol="tgcn")
    idx = w.offsets["test"] + 4 + np.arange(w.scored(1))
    pred = forecast_at(tmp_path / "c", "all-f1-s0", s, idx)
    m = forecast_metrics(pred, s.values[idx])
    assert m["mae"] == pytest.approx(rec["metrics"]["mae_h"][0], rel=1e-5)
    with pytest.raises(BridgeConfigError, match="no trained model"):
        forecast_at(tmp_path / "c", "prunegcrn-f0.5-s0", s, idx)
    summary = (tmp_path / "c" / "summary.md").read_text()
    assert "Metric definition `all`" in summary and "Protocol `tgcn`" in summary
    assert "input-window-mean" in summary and "weekly-slot-mean" in summary
    import csv

    curves = list(csv.DictReader(open(tmp_path / "c" / "curves.csv")))
    assert [int(r["epoch"]) for r in curves] == [0, 1] and curves[0]["method"] == "all"
    assert (tmp_path / "c" / "training_curves.png").stat().st_size > 0


def test_a_protocol_that_does_not_fit_the_data_is_refused() -> None:
    short = T.synthetic(6, drivers=2, steps=100, seed=0)  # 20-step test part < 12 + 12
    with pytest.raises(DataError, match="shorter than the 12 \\+ 12 steps"):
        T.prepare(short, protocol="agcrn")
    with pytest.raises(BridgeConfigError, match="choose one of default, tgcn, agcrn"):
        get_protocol("stgcn")
    with pytest.raises(BridgeConfigError, match="leave out --scaler"):
        T.prepare(short, protocol="tgcn", scaler="all")
    assert set(PROTOCOLS) == {"default", "tgcn", "agcrn"}


def _cli(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg", "ARGNN_DATA": str(DATA)}
    return subprocess.run([sys.executable, "-m", "argnn_sim", "traffic", *argv],
                          capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


@pytest.mark.parametrize("argv, words", [
    (["train", "--protocol", "stgcn"], "invalid choice: 'stgcn'"),
    (["compare", "--metric", "nonzero"], "invalid choice: 'nonzero'"),
    (["gammas", "--metric", "zeros"], "invalid choice: 'zeros'"),
    (["train", "--data", "pems04.npz", "--protocol", "agcrn"], "Davidham3/ASTGCN"),
    (["compare", "--protocol", "tgcn", "--scaler", "all"], "--scaler belongs to"),
])
def test_cli_bad_protocol_input_is_one_line_exit_2(tmp_path: Path, argv: list[str],
                                                    words: str) -> None:
    p = _cli(*argv, "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert words in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert not (tmp_path / "o").exists() and not (tmp_path / "results").exists()


def test_cli_refuses_a_series_too_short_for_the_protocol(tmp_path: Path) -> None:
    np.savez(tmp_path / "tiny.npz", data=np.random.default_rng(0).random((60, 3)))
    p = _cli("train", "--data", str(tmp_path / "tiny.npz"), "--protocol", "agcrn",
             "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert p.returncode == 2 and "another --protocol" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


def test_run_files_record_the_protocol(tmp_path: Path) -> None:
    p = _cli("train", "--data", "synthetic", "--protocol", "tgcn", "--epochs", "1",
             "--hidden", "8", "--embed-dim", "2", "--keep-fraction", "0.5",
             "--out", str(tmp_path / "t"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    rec = json.loads((tmp_path / "t" / "metrics.json").read_text())
    assert rec["protocol"]["name"] == "tgcn" and rec["protocol"]["lag"] == 4
    assert rec["metrics"]["definition"] == "all" and len(rec["metrics"]["mae_h"]) == 4
    assert "protocol tgcn, metric all" in p.stdout
    # the preset's loss where the run kept it, and the loss it used where it changed it
    assert rec["protocol"]["loss"] == "l1" and rec["protocol"]["changed"] == ["epochs"]
    p = _cli("train", "--data", "synthetic", "--protocol", "tgcn", "--epochs", "1",
             "--hidden", "8", "--embed-dim", "2", "--loss", "l2",
             "--out", str(tmp_path / "l2"), cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    rec = json.loads((tmp_path / "l2" / "metrics.json").read_text())
    assert rec["protocol"]["loss"] == "l2" and rec["protocol"]["changed"] == ["loss", "epochs"]


def test_agcrn_windows_equal_agcrns_own_loader_restated() -> None:
    """AGCRN's loader, restated: ``split_data_by_ratio`` (test = the last int(0.2 T) steps,
    validation the int(0.4 T) - int(0.2 T) before), z-score over the whole series, then
    ``Add_Window_Horizon`` (window 12, horizon 12, every full window) on each part."""
    s = T.synthetic(10, drivers=2, steps=437, seed=5)  # 0.2 T = 87.4, 0.4 T = 174.8
    data = s.values
    n = data.shape[0]
    test, val = data[-int(n * 0.2):], data[-int(n * 0.4):-int(n * 0.2)]
    train = data[:-int(n * 0.4)]
    mean, std = data.mean(), data.std()

    def windows(part: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        end = len(part) - 12 - 12 + 1
        x = np.stack([part[i:i + 12] for i in range(end)])
        y = np.stack([part[i + 12:i + 24] for i in range(end)])
        return x, y

    w = T.prepare(s, protocol="agcrn")
    for name, part in (("train", train), ("val", val), ("test", test)):
        x, y = windows((part - mean) / std)
        np.testing.assert_allclose(w.x[name][..., 0], x, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(w.y[name][..., 0], y, rtol=1e-6, atol=1e-6)
    assert (len(train), len(val), len(test)) == (263, 87, 87)


def test_argnn_plot_redraws_a_traffic_comparison(tmp_path: Path) -> None:
    from argnn_sim.cli import main as argnn
    from prunegcrn_bridge.traffic.experiment import compare

    s = T.synthetic(8, drivers=2, steps=300, seed=4)
    cfg = config_for("tgcn", epochs=2, hidden=8, embed_dim=2, max_batches=2)
    compare(s, tmp_path / "c", fractions=(1.0,), seeds=(0,), cfg=cfg, protocol="tgcn")
    for name in ("training_curves.png", "mae_vs_kept.png", "summary.md"):
        (tmp_path / "c" / name).unlink()
    assert argnn(["plot", str(tmp_path / "c")]) == 0
    for name in ("training_curves.png", "mae_vs_kept.png", "summary.md"):
        assert (tmp_path / "c" / name).stat().st_size > 0


def test_an_unfinished_comparison_can_be_drawn_and_says_so(tmp_path: Path) -> None:
    """The references and the graph are written when a comparison starts, so `argnn plot`
    draws the models finished so far, and the summary says how many of the planned it holds;
    graph.npz keeps the step's length, which names a real series' columns (15 min)."""
    from argnn_sim.cli import main as argnn
    from prunegcrn_bridge.traffic.experiment import compare

    s = T.synthetic(8, drivers=2, steps=300, seed=4)
    cfg = config_for("tgcn", epochs=1, hidden=8, embed_dim=2, max_batches=1)
    compare(s, tmp_path / "c", fractions=(1.0, 0.5), seeds=(0,), methods=("random",),
            cfg=cfg, protocol="tgcn")
    folder = tmp_path / "c"
    assert not (folder / "summary.md").read_text().startswith("**Unfinished")
    (folder / "runs" / "random-f0.5-s0.json").unlink()  # as if stopped before that model
    assert argnn(["plot", str(folder)]) == 0
    md = (folder / "summary.md").read_text()
    assert md.startswith("**Unfinished: 1 of 2 planned models.**"), md[:200]
    assert "step 1" in md  # synthetic data: no step length
    with np.load(folder / "graph.npz") as z:
        assert int(z["steps_per_day"]) == s.steps_per_day
