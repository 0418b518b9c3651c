"""prunegcrn_bridge.compare: the simulator <-> torch bridge and the equal-budget comparison."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from argnn_sim import simulate  # noqa: E402
from argnn_sim.engines import evaluation_schedule as eval_schedule  # noqa: E402
from argnn_sim.engines.batch import simulate_batch  # noqa: E402
from prunegcrn_bridge.compare import (  # noqa: E402
    METHODS,
    CompareConfig,
    DenseNet,
    evaluate_in_simulator,
    export,
    import_edges,
    quick_config,
    run_compare,
    run_unit,
    scenario,
)
from prunegcrn_bridge.compare.run import _node_removal  # noqa: E402
from prunegcrn_bridge.compression.pruning import prune_global  # noqa: E402
from prunegcrn_bridge.errors import BridgeConfigError  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pruned_run():
    cfg = replace(quick_config(), inputs=300)
    r = simulate(scenario("XOR", 4, cfg, policy="spectral"), 6)
    assert r.prune_events, "this seed should prune"
    return cfg, r


def test_export_evaluates_exactly_as_the_simulator(pruned_run):
    cfg, r = pruned_run
    ev = scenario("XOR", 4, cfg, inputs=0)
    module = export(DenseNet.from_edges(7, 2, r.final_edges))
    rows, order, passes = eval_schedule(ev, 6)
    got = module.evaluate(rows, order, passes, cfg.sweeps)
    sim = simulate_batch([ev], [6], initial=[r.final_edges])[0]
    assert got == sim.per_row_errors  # bit for bit, learning off, same schedule
    assert len(set(got)) == 4


def test_round_trip_preserves_edges_weights_and_function(pruned_run):
    cfg, r = pruned_run
    net = DenseNet.from_edges(7, 2, r.final_edges)
    back = import_edges(export(net))
    for k in ("src", "dst", "weight"):
        np.testing.assert_array_equal(back[k], r.final_edges[k])
    ev = scenario("XOR", 4, cfg, inputs=0)
    assert (evaluate_in_simulator(ev, [6], [back])
            == evaluate_in_simulator(ev, [6], [r.final_edges]))


def test_the_compression_pruners_act_on_exactly_the_network_edges(pruned_run):
    _cfg, r = pruned_run
    net = DenseNet.from_edges(7, 2, r.final_edges)
    module = export(net)
    assert len(module.edge_list()) == net.n_edges
    prune_global(module, 3)
    out = DenseNet.from_edges(7, 2, import_edges(module))
    assert out.n_edges == net.n_edges - 3
    gone = (net.A == 1) & (out.A == 0)
    kept_min = np.abs(out.W[out.A == 1]).min()
    assert np.abs(net.W[gone]).max() <= kept_min  # the three smallest |w| went
    assert np.all(out.W[out.A == 1] == net.W[out.A == 1])  # survivors untouched


def test_training_forward_is_differentiable_in_masks(pruned_run):
    _cfg, r = pruned_run
    module = export(DenseNet.from_edges(7, 2, r.final_edges))
    X = torch.tensor([[0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    gate = torch.ones(len(module.edge_list()), dtype=torch.float64, requires_grad=True)
    out = module(X, [[2, 3, 4, 5, 6]] * 3, edge_gate=gate)
    out.sum().backward()
    assert gate.grad is not None and gate.grad.abs().sum() > 0


def test_node_removal_stays_within_the_budget():
    A = np.ones((6, 6)) - np.eye(6)
    A[:, :2] = 0
    net = DenseNet(6, 2, A, A * 0.5)
    gone = _node_removal(net, [3, 2, 4], 10)
    assert len(gone) <= 10 and all(3 in e for e in gone)  # node 3 alone: 7 edges
    assert _node_removal(net, [3], 6) == []


def test_one_unit_has_every_method_at_every_budget():
    cfg = replace(quick_config(), hidden=(3,), seeds=2)
    rows = run_unit("XOR", 3, cfg)
    methods = {r["method"] for r in rows}
    assert methods == set(METHODS)
    sweep = [r for r in rows if r["budget"] == "sweep"]
    for r in sweep:
        if r["method"] in ("magnitude-node", "magnitude-global", "random", "edge-mask"):
            assert r["k"] == r["k_target"]  # exactly k removed
        else:
            assert r["k"] <= r["k_target"]
    spec = {(r["seed"], r["k"]) for r in rows
            if r["method"] == "spectral-reference" and r["budget"] == "spectral-reference"}
    for r in rows:  # centralized methods at the reference rule's own k
        if r["budget"] == "spectral-reference" and r["method"] in ("random", "magnitude-global"):
            assert (r["seed"], r["k"]) in spec
    assert {r["finetune"] for r in rows} == {False, True}
    assert all(0.0 <= r["error"] <= 1.0 for r in rows)


def test_bad_settings_are_refused():
    with pytest.raises(BridgeConfigError, match="unknown task"):
        CompareConfig(tasks=("NAND3",))
    with pytest.raises(BridgeConfigError, match="unknown method"):
        CompareConfig(methods=("pagerank",))
    with pytest.raises(BridgeConfigError, match="mode"):
        CompareConfig(mode="L")


def test_run_compare_is_resumable_and_refuses_other_settings(tmp_path):
    cfg = replace(quick_config(), tasks=("AND",), hidden=(2,), seeds=2,
                  methods=("spectral-reference", "random"))
    rows = run_compare(cfg, tmp_path)
    for f in ("results.csv", "summary.csv", "summary.md", "error_vs_k.png",
              "spectral_budget.png"):
        assert (tmp_path / f).is_file(), f
    unit = tmp_path / "units" / "AND-h2.json"
    stamp = unit.stat().st_mtime_ns
    again = run_compare(cfg, tmp_path)
    assert unit.stat().st_mtime_ns == stamp and len(again) == len(rows)
    with pytest.raises(BridgeConfigError, match="other settings"):
        run_compare(replace(cfg, seeds=3), tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["seeds"] == 2


def test_scenario_quick(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "scenarios" /
                                              "centralized_vs_decentralized.py"),
                          "--quick", "--out", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""  # no warnings from a clean run
    assert (tmp_path / "summary.md").is_file() and (tmp_path / "error_vs_k.png").is_file()
    assert "spectral-reference against each method" in out.stdout
    assert json.loads((tmp_path / "manifest.json").read_text())["kind"] == \
        "centralized_vs_decentralized"
    (tmp_path / "error_vs_k.png").unlink()
    from argnn_sim.cli import main

    assert main(["plot", str(tmp_path)]) == 0  # argnn plot redraws it from the units
    assert (tmp_path / "error_vs_k.png").stat().st_size > 0


def test_paired_differences_have_the_right_sign():
    from prunegcrn_bridge.compare import markdown, paired

    rows = []
    for s in range(4):
        for m, e in (("spectral-reference", 0.10), ("random", 0.30), ("magnitude-global", 0.05)):
            rows.append({"task": "XOR", "h": 3, "seed": s, "method": m,
                         "budget": "spectral-reference", "k_target": 2, "k": 2,
                         "finetune": False, "error": e + 0.01 * s, "dense_error": 0.1,
                         "edges": 20})
    got = {p["method"]: p for p in paired(rows, "spectral-reference", False)}
    assert got["random"]["delta"] == pytest.approx(0.20) and got["random"]["share"] == 1.0
    assert got["magnitude-global"]["delta"] == pytest.approx(-0.05)
    assert got["magnitude-global"]["share"] == 0.0 and got["random"]["pairs"] == 4
    assert "| magnitude-global |" in markdown(rows)
