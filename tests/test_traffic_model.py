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
    assert float(prune_loss(mae, mask, 0.25, "hinge")) == pytest.approx(2.0 * 1.5)
    assert float(prune_loss(mae, mask, 0.9, "hinge")) == pytest.approx(2.0)
    raw = torch.tensor([0.9, 0.9, 0.1, 0.1], requires_grad=True)  # half kept, gamma above it
    prune_loss(mae, binary_clamp(raw), 0.75, "hinge").backward()
    assert raw.grad.tolist() == [0.0] * 4  # no push below the allowed share
    with pytest.raises(ValueError, match="form"):
        prune_loss(mae, mask, 0.5, "square")
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
    scores = [row["val_score"] for row in r["log"]]
    assert r["best_val_score"] == min(scores) and r["best_epoch"] == scores.index(min(scores))
    assert r["best_val_mae"] == vals[r["best_epoch"]]
    assert (tmp_path / "best.pt").is_file()
    log = (tmp_path / "log.csv").read_text().splitlines()
    assert log[0] == "epoch,train_mae,val_mae,kept_fraction,val_score,seconds" and len(log) == 5
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


def test_masked_definition_leaves_out_zero_targets_and_all_counts_them():
    import numpy as np

    from argnn_sim.metrics import forecast_metrics

    true = np.array([0.0, 2.0, 4.0])
    pred = np.array([5.0, 3.0, 2.0])
    m = forecast_metrics(pred, true, definition="masked")
    assert m["mae"] == pytest.approx(1.5) and m["rmse"] == pytest.approx(np.sqrt(2.5))
    assert m["mape"] == pytest.approx((0.5 + 0.5) / 2) and m["definition"] == "masked"
    a = forecast_metrics(pred, true)
    assert a["definition"] == "all" and a["mae"] == pytest.approx(8 / 3)
    assert a["rmse"] == pytest.approx(np.sqrt(30 / 3)) and a["mape"] == m["mape"]


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
                                          "correlation", "weekly-slot-mean", "last-value",
                                          "input-window-mean"}
    assert {r["definition"] for r in rows} == {"all"}
    hard = [r for r in rows if r["method"] == "prunegcrn"][0]
    assert float(hard["kept_fraction"]) == 0.25 and 0 <= float(hard["driver_precision"]) <= 1
    runs = {(r["method"], r["seed"]): r for r in csv.DictReader(open(folder / "runs.csv"))}
    import json

    same = [json.loads(p.read_text()) for p in (folder / "runs").glob("prunegcrn-f0.25-s*.json")]
    assert float(hard["mae_h1_mean"]) == pytest.approx(
        sum(r["metrics"]["mae_h"][0] for r in same) / len(same))  # step 1, mean over seeds
    assert runs and "MAE step 4" in (folder / "summary.md").read_text()
    stamps = {p.name: p.stat().st_mtime_ns for p in (folder / "runs").iterdir()}
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0
    assert {p.name: p.stat().st_mtime_ns for p in (folder / "runs").iterdir()} == stamps
    assert r.stderr == ""  # no warnings from a clean run
    (folder / "kept_nodes.png").unlink()
    from argnn_sim.cli import main

    assert main(["plot", str(tmp_path / "q")]) == 0  # from the manifest, via the bridge
    assert (folder / "kept_nodes.png").stat().st_size > 0


# ----------------------------------------------------- the node-major forward, options
def _bench_baselines():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import agcrn_baselines

    return agcrn_baselines


@pytest.mark.parametrize("layers", [1, 2, 3])
def test_node_major_forward_equals_the_einsum_and_original_formulations(layers):
    base = _bench_baselines()
    torch.manual_seed(3)
    m = PruneGCRN(9, embed_dim=3, hidden=5, layers=layers, silence_senders=True)
    with torch.no_grad():
        m.mask.raw.copy_(torch.tensor([1.0, 0.2, 0.9, 0.0, 0.7, 0.4, 1.0, 1.0, 0.6]))
        m.mask.graph_bias.normal_()
    x = torch.randn(3, 12, 9, 1, dtype=torch.float64)
    m = m.double()
    mask = m.mask()
    y = m(x)[0]
    filled = m.mask.fill(x, mask)
    ref = base.before(m.backbone, filled, mask)
    assert torch.allclose(y, ref, rtol=1e-12, atol=1e-12)
    m.silence_senders = False
    assert torch.allclose(m(x)[0], base.original_layout(m.backbone, filled), rtol=1e-12,
                          atol=1e-12)
    # and the gradients agree too
    g1 = torch.autograd.grad(m(x)[0].sum(), list(m.backbone.parameters()))
    g2 = torch.autograd.grad(base.original_layout(m.backbone, m.mask.fill(x, m.mask())).sum(),
                             list(m.backbone.parameters()))
    for a, b in zip(g1, g2):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_the_gates_function_has_the_gradient_of_sigmoid_and_two_slices():
    from prunegcrn_bridge.traffic.model import _Gates

    torch.manual_seed(0)
    pre = torch.randn(3, 4, 10, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p: _Gates.apply(p), (pre,))
    z, r = _Gates.apply(pre)
    assert torch.equal(torch.cat((z, r), -1), torch.sigmoid(pre))
    # a half that gets no gradient (z at the first step) counts as zero
    wr = torch.randn(3, 4, 5, dtype=torch.float64)
    (g,) = torch.autograd.grad((_Gates.apply(pre)[1] * wr).sum(), pre)
    (ref,) = torch.autograd.grad((torch.sigmoid(pre)[..., 5:] * wr).sum(), pre)
    assert torch.allclose(g, ref, rtol=1e-14, atol=0) and not g[..., :5].any()


def test_bf16_autocast_runs_on_the_cpu_and_stays_close_to_fp32():
    torch.manual_seed(0)
    m = PruneGCRN(10, embed_dim=3, hidden=8)
    x = torch.randn(4, 12, 10, 1)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = m(x)[0]
    assert low.dtype == torch.bfloat16
    assert torch.allclose(low.float(), m(x)[0], atol=0.05)


def test_mask_options_start_value_threshold_and_own_learning_rate(tmp_path):
    from prunegcrn_bridge.errors import BridgeConfigError
    from prunegcrn_bridge.traffic.train import TrainConfig, train

    m = PruneGCRN(5, mask_init=0.6, threshold=0.55, embed_dim=2, hidden=4)
    assert m.mask.raw.tolist() == pytest.approx([0.6] * 5) and m.mask.threshold == 0.55
    assert m.kept().tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(BridgeConfigError, match="mask_init"):
        TrainConfig(mask_init=0.4)  # would start with every node pruned
    with pytest.raises(BridgeConfigError, match="threshold"):
        TrainConfig(threshold=1.5)
    with pytest.raises(BridgeConfigError, match="mask_lr"):
        TrainConfig(mask_lr=float("nan"))
    # a large mask learning rate moves the raw mask further in the same steps
    w = _tiny()
    moved = []
    for lr in (None, 0.1):
        cfg = TrainConfig(epochs=1, hidden=8, embed_dim=3, max_batches=3, mask_lr=lr,
                          gamma=0.1)
        r = train(w, cfg=cfg, seed=0)
        moved.append(abs(1.0 - min(r["raw_mask"])))
    assert moved[1] > 5 * moved[0]


def test_mape_threshold_leaves_out_small_targets_only_for_mape():
    import numpy as np

    from argnn_sim.metrics import forecast_metrics
    from prunegcrn_bridge.traffic.train import evaluate

    true = np.array([0.0, 0.5, 2.0, 4.0])
    pred = np.array([5.0, 1.5, 3.0, 2.0])
    m = forecast_metrics(pred, true, definition="masked", mape_threshold=1.0)
    assert m["mae"] == pytest.approx((1 + 1 + 2) / 3)
    assert m["mape"] == pytest.approx((0.5 + 0.5) / 2) and m["mape_count"] == 2
    assert forecast_metrics(pred, true, definition="masked")["mape"] == pytest.approx(
        (2 + 0.5 + 0.5) / 3)
    e = evaluate(pred.reshape(1, 4, 1, 1), true.reshape(1, 4, 1, 1), mape_threshold=1.0)
    assert e["mape_threshold"] == 1.0 and e["mape"] == pytest.approx(0.5)
    assert e["definition"] == "all" and e["mae"] == pytest.approx(9 / 4)
    assert e["masked"]["mae"] == pytest.approx(4 / 3)  # the other definition, labelled


def test_training_bench_dry_run(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "b.json"
    r = subprocess.run([sys.executable, str(root / "bench" / "prunegcrn_train.py"),
                        "--dry-run", "--out", str(out)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    data = json.loads(out.read_text())
    forms = {row["form"] for row in data["rows"]}
    assert {"before", "original", "ours"} <= forms
    assert data["checks"][0]["ok"] and data["checks"][0]["max_rel_diff"] < 1e-4
    ours = [row for row in data["rows"] if row["form"] == "ours"]
    for row in ours:  # every recorded product is in exactly one shape group
        groups = row["products_by_shape"]
        assert row["products"] > 0 and sum(g["calls"] for g in groups) == row["products"]
        assert all(g["seconds"] > 0 and g["gflops"] > 0 for g in groups)


@pytest.mark.parametrize("argv, words", [
    (["--baseline", "{tmp}/nowhere"], "not a checkout of this project"),
    (["--baseline", ".", "--repeats", "0"], "give 1 or more of each"),
    (["--baseline", ".", "--data", "{tmp}/missing.npz", "--repeats", "1", "--epochs", "1"],
     "failed (exit status 2)"),
])
def test_epoch_bench_refuses_bad_input_in_one_line(tmp_path, argv, words):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path / "e.json"
    r = subprocess.run([sys.executable, str(root / "bench" / "prunegcrn_epochs.py"),
                        *[a.format(tmp=tmp_path) for a in argv], "--out", str(out)],
                       capture_output=True, text=True, timeout=600, cwd=root)
    assert r.returncode == 2, r.stderr[-2000:]
    assert words in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_gpu_session_script_dry_run_on_the_cpu(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / "bench" / "gpu_run.py"), "--dry-run",
                        "--device", "cpu", "--out", str(tmp_path / "g")],
                       capture_output=True, text=True, timeout=600,
                       env={**__import__("os").environ, "MPLBACKEND": "Agg"})
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    res = json.loads((tmp_path / "g" / "gpu_run.json").read_text())
    assert [row["variant"] for row in res["epochs"]] == [
        "original fp32 eager", "ours fp32 eager", "ours bf16 eager"]
    assert all(row["val_mae"] > 0 for row in res["epochs"])
    assert [row["kept"] for row in res["inference"]] == [1.0, 0.5, 0.25, 0.1]
    methods = {s["method"] for s in res["table"]["summary"]}
    assert {"all", "prunegcrn", "random", "correlation", "last-value"} <= methods
    assert "| original fp32 eager |" in (tmp_path / "g" / "gpu_run.md").read_text()


def test_linear_yardstick_prefers_the_planted_drivers():
    from prunegcrn_bridge.traffic import data as T
    from prunegcrn_bridge.traffic.oracle import greedy, linear_mae, yardstick

    s = T.synthetic(24, drivers=4, steps=700, seed=1)
    drv = s.drivers.tolist()
    # every node predicts at least as well as the drivers alone on the training fit's test
    assert linear_mae(s, drv) < linear_mae(s, [i for i in range(24) if i not in drv][:4])
    assert len(greedy(s, 3)) == 3 and set(greedy(s, 2, candidates=drv)) <= set(drv)
    rows = yardstick(s, [4 / 24], draws=5)
    by = {r["selection"]: r for r in rows}
    assert by["best drivers"]["mae"] < by["random (5 draws)"]["mae"]
    assert by["best drivers"]["precision"] == 1.0 and by["all nodes"]["k"] == 24


def test_gamma_study_trains_baselines_at_the_reached_size_and_resumes(tmp_path):
    from prunegcrn_bridge.traffic import data as T
    from prunegcrn_bridge.traffic.experiment import gamma_study
    from prunegcrn_bridge.traffic.train import TrainConfig

    s = T.synthetic(12, drivers=3, steps=400, seed=0)
    cfg = TrainConfig(epochs=2, hidden=4, embed_dim=2, max_batches=3, mask_lr=0.3)
    rows = gamma_study(s, tmp_path / "g", gammas=(0.5,), random_seeds=(0, 1), cfg=cfg)
    (row,) = rows
    assert row["kept"] < 12  # the soft loss alone moved the mask
    k = max(1, row["kept"])  # a soft run may prune every node
    runs = sorted(p.name for p in (tmp_path / "g" / "runs").iterdir())
    assert runs == [f"correlation-k{k}.json", f"random-k{k}-s0.json", f"random-k{k}-s1.json",
                    "soft-g0.5-s0.json"]
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "g" / "runs").iterdir()}
    assert gamma_study(s, tmp_path / "g", gammas=(0.5,), random_seeds=(0, 1), cfg=cfg) == rows
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "g" / "runs").iterdir()} == stamps
    assert (tmp_path / "g" / "gamma.csv").read_text().startswith(
        "gamma,seed,definition,protocol,kept,")
    assert rows[0]["definition"] == "all" and rows[0]["protocol"] == "default"
    from prunegcrn_bridge.errors import BridgeConfigError

    with pytest.raises(BridgeConfigError, match="a gamma study with other settings"):
        gamma_study(s, tmp_path / "g", gammas=(0.25,), random_seeds=(0, 1), cfg=cfg)
