"""prunegcrn_bridge.traffic.model: AGCRN backbone and PruneGCRN's pruned graph learning."""

import pytest

torch = pytest.importorskip("torch", reason="the bridge extra (torch) is not installed")

from prunegcrn_bridge.traffic.model import (  # noqa: E402
    AGCRN,
    PruneGCRN,
    binary_clamp,
    count_parameters,
    prune_loss,
)


@pytest.mark.parametrize("nodes, embed, expected", [(307, 10, 748_810), (170, 2, 150_112)])
def test_backbone_parameter_counts_match_the_original_agcrn(nodes, embed, expected):
    assert count_parameters(AGCRN(nodes, input_dim=1, output_dim=1, hidden=64, layers=2,
                                  embed_dim=embed, cheb_k=2, horizon=12)) == expected


def test_output_shape_and_raw_mask_gets_a_gradient():
    torch.manual_seed(0)
    m = PruneGCRN(15, embed_dim=3, hidden=8)
    y, mask = m(torch.randn(4, 12, 15, 1))
    assert y.shape == (4, 12, 15, 1) and set(mask.tolist()) <= {0.0, 1.0}
    prune_loss((y - 1).abs().mean(), mask, 0.5).backward()
    assert m.mask.raw.grad is not None and m.mask.raw.grad.abs().sum() > 0


def test_masked_inputs_equal_the_graph_bias_and_senders_can_be_silenced():
    torch.manual_seed(1)
    m = PruneGCRN(6, embed_dim=2, hidden=4, silence_senders=True)
    with torch.no_grad():
        m.mask.raw.copy_(torch.tensor([1.0, 0.2, 0.9, 0.0, 0.7, 0.4]))
        m.mask.graph_bias.copy_(torch.arange(6.0).view(6, 1) * 10)
    x = torch.randn(2, 12, 6, 1)
    mask = m.mask()
    assert mask.tolist() == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
    xt = m.mask.fill(x, mask)
    for n in (1, 3, 5):
        assert torch.all(xt[:, :, n, 0] == 10 * n)
    for n in (0, 2, 4):
        assert torch.equal(xt[:, :, n], x[:, :, n])
    s = m.backbone.support(mask)
    assert torch.all(s[:, [1, 3, 5]] == 0) and torch.all(s[:, [0, 2, 4]] > 0)
    assert m.kept().tolist() == [0, 2, 4]


def test_loss_formula_and_clamp():
    mae, mask = torch.tensor(2.0), torch.tensor([1.0, 0.0, 1.0, 1.0])
    assert float(prune_loss(mae, mask, 0.25)) == pytest.approx(2.0 * (1 + 0.75 - 0.25))
    r = torch.tensor([0.49, 0.5, 1.3, -0.2], requires_grad=True)
    out = binary_clamp(r)
    assert out.tolist() == [0.0, 1.0, 1.0, 0.0]
    out.sum().backward()
    assert r.grad.tolist() == [1.0, 1.0, 1.0, 1.0]


def test_hard_budget_keeps_exactly_k_of_the_largest():
    m = PruneGCRN(10, keep=3, embed_dim=2, hidden=4)
    with torch.no_grad():
        m.mask.raw.copy_(torch.tensor([0.1, 0.9, 0.3, 0.8, 0.2, 0.95, 0.0, 0.4, 0.5, 0.6]))
    assert sorted(m.kept().tolist()) == [1, 3, 5]
    with pytest.raises(ValueError, match="keep=0"):
        PruneGCRN(10, keep=0)


# ------------------------------------------------------------------------------ training
def _tiny():
    from prunegcrn_bridge.traffic import data as T

    return T.prepare(T.synthetic(24, drivers=5, steps=700, seed=1))


def test_training_lowers_validation_mae_and_is_deterministic(tmp_path):
    from prunegcrn_bridge.traffic.train import TrainConfig, train

    cfg = TrainConfig(epochs=4, hidden=8, embed_dim=3, patience=10)
    r = train(_tiny(), cfg=cfg, seed=0, out=tmp_path)
    vals = [row["val_mae"] for row in r["log"]]
    assert min(vals[1:]) < vals[0]
    assert r["best_val_mae"] == min(vals)
    assert (tmp_path / "best.pt").is_file()
    log = (tmp_path / "log.csv").read_text().splitlines()
    assert log[0] == "epoch,train_mae,val_mae,kept_fraction,seconds" and len(log) == 5
    again = train(_tiny(), cfg=cfg, seed=0)
    assert again["metrics"] == r["metrics"]


def test_baselines_keep_exactly_the_asked_number_of_nodes():
    import numpy as np

    from prunegcrn_bridge.traffic.train import (
        TrainConfig,
        correlation_nodes,
        random_nodes,
        train,
    )

    w = _tiny()
    assert len(set(random_nodes(24, 6, seed=2))) == 6
    assert random_nodes(24, 6, seed=2) == random_nodes(24, 6, seed=2)
    vals = np.random.default_rng(0).normal(size=(200, 5))
    vals[:, 1] = vals[:, 0] + 0.01 * vals[:, 1]  # nodes 0 and 1 nearly identical
    vals[:, 2] = vals[:, 0] - vals[:, 3]
    assert set(correlation_nodes(vals, 2)) <= {0, 1, 2}
    cfg = TrainConfig(epochs=1, hidden=8, embed_dim=3, max_batches=2)
    fixed = train(w, cfg=cfg, mode="fixed", nodes=[3, 5, 7], seed=0)
    assert fixed["kept"] == [3, 5, 7]
    hard = train(w, cfg=cfg, mode="learned", keep=6, seed=0)
    assert len(hard["kept"]) == 6 and hard["kept_fraction"] == 0.25
    assert set(hard["metrics"]) >= {"mae", "rmse", "mape", "kept_mae", "mae_h"}
    assert len(hard["metrics"]["mae_h"]) == 12


def test_metrics_mask_zero_targets():
    import numpy as np

    from prunegcrn_bridge.traffic.train import masked_metrics

    true = np.array([0.0, 2.0, 4.0])
    pred = np.array([5.0, 3.0, 2.0])
    m = masked_metrics(pred, true)
    assert m["mae"] == pytest.approx(1.5) and m["rmse"] == pytest.approx(np.sqrt(2.5))
    assert m["mape"] == pytest.approx((0.5 + 0.5) / 2)


@pytest.mark.slow
def test_prunegcrn_selection_scenario_quick_and_resume(tmp_path):
    import csv
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, str(root / "scenarios" / "prunegcrn_selection.py"), "--quick",
           "--out", str(tmp_path / "q")]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    folder = tmp_path / "q" / "synthetic"
    for f in ("runs.csv", "summary.csv", "mae_vs_kept.png", "kept_nodes.png"):
        assert (folder / f).stat().st_size > 0
    rows = list(csv.DictReader(open(folder / "summary.csv")))
    assert {r["method"] for r in rows} == {"all", "prunegcrn", "prunegcrn-soft", "random",
                                          "correlation", "historical-average", "last-value"}
    hard = [r for r in rows if r["method"] == "prunegcrn"][0]
    assert float(hard["kept_fraction"]) == 0.25 and 0 <= float(hard["driver_precision"]) <= 1
    stamps = {p.name: p.stat().st_mtime_ns for p in (folder / "runs").iterdir()}
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0
    assert {p.name: p.stat().st_mtime_ns for p in (folder / "runs").iterdir()} == stamps
    assert r.stderr == ""  # no warnings from a clean run
    (folder / "kept_nodes.png").unlink()
    from argnn_sim.cli import main

    assert main(["plot", str(tmp_path / "q")]) == 0  # from the manifest, via the bridge
    assert (folder / "kept_nodes.png").stat().st_size > 0
