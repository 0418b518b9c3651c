"""prunegcrn_bridge.compression: data, models, pruners, quantizers, sizes, the study, CLI."""

import json
import shutil

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the bridge extra (torch) is not installed")
pytest.importorskip("torch_geometric")

from prunegcrn_bridge.compression import data as D  # noqa: E402
from prunegcrn_bridge.compression import measure, pruning, quant  # noqa: E402
from prunegcrn_bridge.compression.models import GCNConv, GINConv, Graph, GraphGCN  # noqa: E402
from prunegcrn_bridge.errors import BridgeConfigError, DataError  # noqa: E402

from .conftest import DATA, needs_data  # noqa: E402


# ------------------------------------------------------------------------------- data
def _listing(folder):
    return sorted((p.name, p.stat().st_size) for p in folder.rglob("*"))
@needs_data("cora", "proteins", "bbbp")
def test_datasets_load_from_raw_and_never_write_there(data_cache):
    before = {n: _listing(DATA / n) for n in ("Cora", "PROTEINS", "BBBP")}
    cora = D.load_cora(DATA, cache=data_cache)
    assert (cora.num_nodes, cora.x.shape[1], int(cora.train_mask.sum()),
            int(cora.val_mask.sum()), int(cora.test_mask.sum())) == (2708, 1433, 140, 500, 1000)
    prot = D.load_proteins(DATA, cache=data_cache)
    assert len(prot) == 1113 and prot.num_features == 3
    bbbp = D.load_bbbp(DATA, cache=data_cache)
    assert len(bbbp) == 2039
    g = bbbp[0]
    assert g.x.shape[1] == sum(D.BBBP_FEATURE_SIZES) == 177
    assert torch.all(g.x.sum(1) == 9)  # one hot per atom feature
    assert {n: _listing(DATA / n) for n in before} == before
    assert any(data_cache.glob("proteins-*/PROTEINS/processed"))
    assert not any(data_cache.glob("cora-*"))  # Cora is read from raw each time (< 1 s)
@needs_data("cora", "proteins", "bbbp")
def test_missing_raw_file_names_path_and_content(tmp_path, data_cache, monkeypatch):
    shutil.copytree(DATA / "PROTEINS", tmp_path / "PROTEINS")
    (tmp_path / "PROTEINS" / "raw" / "PROTEINS_A.txt").unlink()
    with pytest.raises(DataError) as e:
        D.load_proteins(tmp_path, cache=data_cache)
    msg = str(e.value)
    assert "PROTEINS_A.txt" in msg and str(tmp_path) in msg and "TU Dortmund" in msg
    monkeypatch.delenv("ARGNN_DATA", raising=False)
    with pytest.raises(DataError, match="ARGNN_DATA"):
        D.data_root(None)
    with pytest.raises(DataError, match="not a folder"):
        D.load_cora(tmp_path / "nope", cache=data_cache)
@needs_data("cora", "proteins", "bbbp")
def test_damaged_raw_file_is_a_clear_error_and_a_fixed_file_is_not_served_stale(
        tmp_path, data_cache):
    shutil.copytree(DATA / "PROTEINS", tmp_path / "PROTEINS")
    a = tmp_path / "PROTEINS" / "raw" / "PROTEINS_A.txt"
    good = a.read_bytes()
    a.write_text("1, 2\nthis is not an edge\n")
    with pytest.raises(DataError, match="could not read the raw files"):
        D.load_proteins(tmp_path, cache=data_cache)
    a.write_bytes(good)  # repaired: a fresh cache entry (keyed by content) is used
    assert len(D.load_proteins(tmp_path, cache=data_cache)) == 1113
@needs_data("cora", "proteins", "bbbp")
def test_splits_are_disjoint_stratified_and_scaffold_pure(data_cache):
    y = np.r_[np.zeros(70), np.ones(30)].astype(int)
    folds = D.kfold_indices(y, 10, seed=3)
    tests = np.concatenate([f[2] for f in folds])
    assert sorted(tests.tolist()) == list(range(100))  # every item tested exactly once
    for tr, va, te in folds:
        assert not (set(tr) & set(va) or set(tr) & set(te) or set(va) & set(te))
        assert y[te].sum() == 3  # stratified: 3 of the 30 positives per fold
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    ds = D.load_bbbp(DATA, cache=data_cache)
    smiles = list(ds._data.smiles)
    parts = D.scaffold_split_indices(smiles)
    assert sum(len(p) for p in parts) == len(smiles)
    scaf = [MurckoScaffold.MurckoScaffoldSmiles(mol=Chem.MolFromSmiles(s),
                                                includeChirality=False) for s in smiles]
    sets = [{scaf[i] for i in p} for p in parts]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    labels = ds._data.y.view(-1).numpy()
    for p in parts[1:]:  # both classes in validation and test, so ROC-AUC is defined
        assert 0 < labels[p].mean() < 1


# ------------------------------------------------------------------------------ models
def test_gcn_and_gin_layers_match_pyg_with_shared_weights():
    from torch_geometric.nn import GCNConv as PygGCN
    from torch_geometric.nn import GINConv as PygGIN

    g = torch.Generator().manual_seed(0)
    x = torch.randn(30, 5, generator=g)
    ei = torch.randint(0, 30, (2, 90), generator=g)
    ours, ref = GCNConv(5, 4), PygGCN(5, 4)
    with torch.no_grad():
        ref.lin.weight.copy_(ours.lin.weight)
        ours.bias.normal_()
        ref.bias.copy_(ours.bias)
    torch.testing.assert_close(ours(x, ei), ref(x, ei))
    gin = GINConv(5, 8).eval()
    ref_gin = PygGIN(gin.mlp, eps=0.0).eval()
    torch.testing.assert_close(gin(x, ei), ref_gin(x, ei))


# ----------------------------------------------------------------------------- pruning
def _model(seed=0):
    torch.manual_seed(seed)
    return GraphGCN(7, 2, hidden=16, layers=2)


@pytest.mark.parametrize("amount", [0.3, 0.5, 0.9])
def test_fine_pruning_gives_each_tensor_the_asked_sparsity_and_leaves_biases(amount):
    m = _model()
    biases = {n: p.detach().clone() for n, p in m.named_parameters() if "bias" in n}
    pruning.prune_fine(m, amount)
    for mod in pruning.weight_modules(m):
        w = mod.weight
        assert int((w == 0).sum()) == round(amount * w.numel())
    after = {n: p for n, p in m.named_parameters() if "bias" in n}
    assert after.keys() == biases.keys() and len(biases) >= 3
    for n, b in biases.items():
        torch.testing.assert_close(after[n], b)


def test_global_pruning_uses_one_threshold_and_the_total_is_exact():
    m = _model()
    with torch.no_grad():  # make one tensor clearly smaller so the shares must differ
        pruning.weight_modules(m)[0].weight.mul_(0.01)
    orig = {id(mod): mod.weight.detach().abs().clone() for mod in pruning.weight_modules(m)}
    pruning.prune_global(m, 0.5)
    total = sum(mod.weight.numel() for mod in pruning.weight_modules(m))
    zeros = sum(int((mod.weight == 0).sum()) for mod in pruning.weight_modules(m))
    assert zeros == round(0.5 * total)
    shares = [float((mod.weight == 0).float().mean()) for mod in pruning.weight_modules(m)]
    assert shares[0] > 0.9 and min(shares) < 0.5  # not the same per tensor
    kept = torch.cat([orig[id(mod)][mod.weight != 0] for mod in pruning.weight_modules(m)])
    gone = torch.cat([orig[id(mod)][mod.weight == 0] for mod in pruning.weight_modules(m)])
    assert gone.max() <= kept.min()  # one magnitude threshold across all tensors
@needs_data("cora", "proteins", "bbbp")
def test_pruned_weights_stay_zero_through_fine_tuning(data_cache):
    from prunegcrn_bridge.compression.tasks import TrainSettings, make_task

    task = make_task("cora-node", seed=0, root=DATA, cache=data_cache, epochs=3)
    m = task.make_model(0)
    pruning.prune_global(m, 0.6)
    masks = pruning.masks(m)
    before = {k: v.clone() for k, v in masks.items()}
    w0 = {n: mod.weight_orig.detach().clone() for n, mod in m.named_modules()
          if hasattr(mod, "weight_orig")}
    task.fit(m, TrainSettings(5, 0.05, 5e-4), seed=0)
    for name, mod in m.named_modules():
        if name in masks:
            assert torch.equal(pruning.masks(m)[name], before[name])
            assert torch.all(mod.weight[before[name] == 0] == 0)
            assert not torch.equal(mod.weight_orig, w0[name])  # training did move weights
    pruning.make_permanent(m)
    assert pruning.sparsity(m)["all"] == pytest.approx(0.6, abs=1e-3)


def test_l2_norm_penalty_is_the_sum_of_norms_not_squares():
    m = _model()
    ws = [mod.weight for mod in pruning.weight_modules(m)]
    expected = sum(float(torch.sqrt((w.detach() ** 2).sum())) for w in ws)
    assert float(pruning.l2_norm_penalty(m).detach()) == pytest.approx(expected, rel=1e-6)
    pruning.l2_norm_penalty(m).backward()
    for w in ws:  # d||W||/dW = W / ||W||
        torch.testing.assert_close(w.grad, w.detach() / w.detach().norm())
    with pytest.raises(BridgeConfigError, match="out of range"):
        pruning.prune_fine(_model(), 1.5)
    with pytest.raises(BridgeConfigError, match="unknown pruning method"):
        pruning.prune_model(_model(), "random", 0.5)


# ---------------------------------------------------------------------------- quantize
@pytest.mark.parametrize("bits", [8, 4])
def test_fake_quantized_values_lie_on_the_integer_grid(bits):
    g = torch.Generator().manual_seed(1)
    w = torch.randn(16, 9, generator=g)
    wq, scale = quant.fake_quant_weight(w, bits)
    k = wq / scale
    qmax = 2 ** (bits - 1) - 1
    torch.testing.assert_close(k, torch.round(k), atol=1e-4, rtol=0)
    assert k.abs().max() <= qmax + 1e-4 and len(torch.unique(torch.round(k))) <= 2 * qmax + 1
    x = torch.randn(50, 9, generator=g) * 3 + 1
    xq, s, zp = quant.fake_quant_affine(x, x.min(), x.max(), bits)
    k = xq / s + zp
    torch.testing.assert_close(k, torch.round(k), atol=1e-3, rtol=0)
    assert k.min() >= -1e-3 and k.max() <= 2 ** bits - 1 + 1e-3
    assert (xq - x).abs().max() <= s / 2 + 1e-6  # inside the range: rounding error only
    xg = x.clone().requires_grad_(True)
    quant.fake_quant_affine(xg, x.min(), x.max(), bits)[0].sum().backward()
    torch.testing.assert_close(xg.grad, torch.ones_like(x))  # straight-through


def test_quant_linear_computes_the_quantized_product_and_trains():
    torch.manual_seed(0)
    m = GraphGCN(7, 2, hidden=16, layers=2)
    quant.quantize_model(m, quant.QuantScheme("qat", 4))
    layer = m.convs[0].lin
    x = torch.rand(12, 7)
    layer.train()
    layer(x)  # observe the range
    layer.eval()
    wq, _ = quant.fake_quant_weight(layer.weight, 4)
    xq, _, _ = quant.fake_quant_affine(x, layer.lo, layer.hi, 4)
    torch.testing.assert_close(layer(x), torch.nn.functional.linear(xq, wq, layer.bias))
    layer.train()
    layer(x).sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    with pytest.raises(BridgeConfigError, match="unknown quantization method"):
        quant.QuantScheme("int3")


def test_degree_quant_protection_probability_follows_in_degree():
    deg = torch.tensor([0, 1, 2, 5, 10])
    p = quant.protection_probability(deg, 0.0, 0.2)
    torch.testing.assert_close(p, torch.tensor([0.0, 0.02, 0.04, 0.1, 0.2]))
    # empirical rates in a quantized layer: many nodes of degree 0 and of degree 10
    lin = torch.nn.Linear(3, 2)
    lin.node_level = True
    gen = torch.Generator().manual_seed(0)
    q = quant.QuantLinear(lin, quant.QuantScheme("dq", 4, p_min=0.05, p_max=0.5), gen).train()
    n = 4000
    q.degree = torch.cat([torch.zeros(n // 2, dtype=torch.long), torch.full((n // 2,), 10)])
    x = torch.randn(n, 3, generator=gen)
    out = q.quantize_input(x)
    keep = q.last_protected
    assert keep[: n // 2].float().mean() == pytest.approx(0.05, abs=0.02)
    assert keep[n // 2:].float().mean() == pytest.approx(0.5, abs=0.04)
    assert torch.equal(out[keep], x[keep])  # protected rows pass in full precision
    assert not torch.equal(out[~keep], x[~keep])
    q.eval()
    xe = q.quantize_input(x)
    xq, _, _ = quant.fake_quant_affine(x, q.lo, q.hi, 4)
    torch.testing.assert_close(xe, xq)  # no protection at inference


def test_a2q_memory_penalty_moves_bit_widths_down():
    torch.manual_seed(0)
    g = Graph(torch.rand(40, 7), torch.randint(0, 40, (2, 160)),
              torch.zeros(40, dtype=torch.long), 1)
    results = {}
    for lam in (0.0, 1.0):
        m = GraphGCN(7, 2, hidden=16, layers=2)
        quant.quantize_model(m, quant.QuantScheme("a2q", 8, init_bits=8, target_bits=3))
        opt = torch.optim.Adam([q.bits for q in quant.quant_layers(m) if q.a2q], lr=0.05)
        for _ in range(80):
            loss = m(g).pow(2).mean() + lam * quant.memory_penalty(m, 3.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
        results[lam] = np.mean([float(q.feature_bits().detach().float().mean())
                                for q in quant.quant_layers(m) if q.a2q])
    assert results[1.0] <= results[0.0] - 2  # the penalty pulled the bit-widths down
    assert results[1.0] >= 3
    assert float(quant.memory_penalty(GraphGCN(7, 2), 4.0)) == 0.0  # no A²Q layer


def test_export_sizes_shrink_with_bits():
    sizes = {}
    for bits in (8, 4):
        torch.manual_seed(0)
        m = quant.quantize_model(GraphGCN(64, 2, hidden=64, layers=3),
                                 quant.QuantScheme("qat", bits))
        sizes[bits] = (quant.saved_bytes(quant.export_quantized(m)),
                       quant.theoretical_bits(m))
        st = quant.export_quantized(m)
        w = st["convs.0.lin.weight_q"]
        assert w.dtype == (torch.int8 if bits == 8 else torch.uint8)
        assert w.numel() == (64 * 64 if bits == 8 else 64 * 64 // 2)
    fp32 = quant.saved_bytes(GraphGCN(64, 2, hidden=64, layers=3).state_dict())
    assert sizes[4][0] < sizes[8][0] < fp32
    assert sizes[8][1] - sizes[4][1] == 4 * (64 * 64 * 3 + 64 * 64 + 64 * 2)


# ---------------------------------------------------------------------------- measures
def test_matrix_bytes_picks_the_honest_smallest_format():
    w = torch.ones(100, 100)
    assert measure.matrix_bytes(w) == (40000, "dense")
    w.view(-1)[::2] = 0  # 50 %: CSR (40 800 B) is larger than dense; bitmask saves a bit
    assert measure.matrix_bytes(w) == (4 * 5000 + 1250, "bitmask")
    w.zero_()
    w[0, :50] = 1  # 0.5 %: CSR wins
    assert measure.matrix_bytes(w) == (4 * 50 + 4 * 50 + 4 * 101, "csr")
    m = _model()
    rep = measure.size_report(m)
    assert rep["dense_bytes"] == 4 * rep["params"] == 4 * sum(p.numel() for p in m.parameters())
    pruning.prune_global(m, 0.9)
    rep2 = measure.size_report(m)
    assert rep2["params"] == rep["params"] and rep2["nonzero"] < 0.2 * rep["nonzero"]
    assert rep2["sparse_bytes"] < rep2["dense_bytes"]


def test_latency_times_only_the_calls_and_sparse_copy_computes_the_same():
    calls = []
    t = measure.latency(lambda: calls.append(1), repeats=7, warmup=3)
    assert len(calls) == 10 and t >= 0
    m = _model().eval()
    pruning.prune_global(m, 0.7)
    g = Graph(torch.rand(20, 7), torch.randint(0, 20, (2, 60)),
              torch.zeros(20, dtype=torch.long), 1)
    with torch.no_grad():
        torch.testing.assert_close(measure.sparse_copy(m)(g), m(g))


# ------------------------------------------------------------------- study, CLI, scenario
def _tiny_cfg(data_cache, **kw):
    from prunegcrn_bridge.compression.study import StudyConfig

    base = dict(tasks=("cora-node",), seeds={"cora-node": (0,)}, sparsities=(0.5,),
                lams=(1e-3,), quant_bits=(8,), quick=True, latency_repeats=2,
                methods=("dense", "global", "l2", "qat", "ptq-int8"), root=str(DATA),
                cache=str(data_cache))
    base.update(kw)
    return StudyConfig(**base)
@needs_data("cora", "proteins", "bbbp")
def test_study_writes_tables_resumes_and_refuses_other_settings(tmp_path, data_cache):
    from prunegcrn_bridge.compression.study import run_study

    cfg = _tiny_cfg(data_cache)
    res = run_study(cfg, tmp_path / "s", progress=False)
    assert res["ran"] == 1 and not res["failed"]
    methods = [r["method"] for r in res["rows"]]
    assert methods == ["dense", "global", "l2", "qat", "ptq-int8"]
    g = res["rows"][1]
    assert g["nonzero"] < 0.55 * g["params"] and g["metric_before_ft"] is not None
    for f in ("results.csv", "summary.csv", "summary.md", "pruning.png", "quantization.png"):
        assert (tmp_path / "s" / f).is_file()
    unit = tmp_path / "s" / "units" / "cora-node-s0.json"
    stamp = unit.stat().st_mtime_ns
    again = run_study(cfg, tmp_path / "s", resume=True, progress=False)
    assert again["ran"] == 0 and again["skipped"] == 1 and unit.stat().st_mtime_ns == stamp
    assert again["rows"] == res["rows"]
    with pytest.raises(BridgeConfigError, match="already holds a study"):
        run_study(cfg, tmp_path / "s", progress=False)
    with pytest.raises(BridgeConfigError, match="other settings"):
        run_study(_tiny_cfg(data_cache, sparsities=(0.9,)), tmp_path / "s", resume=True,
                  progress=False)
@needs_data("cora", "proteins", "bbbp")
def test_same_seed_same_numbers(data_cache):
    from prunegcrn_bridge.compression.study import Variant, run_single

    cfg = _tiny_cfg(data_cache)
    a = run_single("cora-node", Variant("global", sparsity=0.5), seed=1, cfg=cfg)
    b = run_single("cora-node", Variant("global", sparsity=0.5), seed=1, cfg=cfg)
    assert [(r["metric"], r["metric_before_ft"], r["nonzero"]) for r in a] == \
        [(r["metric"], r["metric_before_ft"], r["nonzero"]) for r in b]


def test_study_records_a_failing_unit_and_goes_on(tmp_path, data_cache):
    from prunegcrn_bridge.compression.study import run_study

    empty = tmp_path / "data"
    (empty / "Cora" / "raw").mkdir(parents=True)
    res = run_study(_tiny_cfg(data_cache, root=str(empty)), tmp_path / "s", progress=False)
    assert len(res["failed"]) == 1 and "ind.cora.x" in res["failed"][0]["error"]
    rec = json.loads((tmp_path / "s" / "units" / "cora-node-s0.json").read_text())
    assert rec["status"] == "error"
@needs_data("cora", "proteins", "bbbp")
def test_cli_compress_run_and_bad_input(tmp_path, data_cache, capsys):
    from argnn_sim.cli import main

    out = tmp_path / "r"
    rc = main(["compress", "run", "--task", "cora-node", "--method", "fine", "--sparsity",
               "0.5", "--quick", "--data-root", str(DATA), "--cache", str(data_cache),
               "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "fine s=0.5" in text and "dense" in text
    rows = list(__import__("csv").DictReader(open(out / "results.csv")))
    assert [r["method"] for r in rows] == ["dense", "fine"]
    for argv, msg in ((["--method", "fine"], "needs --sparsity"),
                      (["--method", "qat"], "needs --bits 8 or --bits 4"),
                      (["--method", "global", "--sparsity", "1.5"], "out of range"),
                      (["--method", "dense", "--data-root", str(tmp_path / "none")],
                       "not a folder")):
        assert main(["compress", "run", "--task", "cora-node", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and msg in err[0]


@needs_data("cora", "proteins", "bbbp")
@pytest.mark.slow
def test_gnn_compression_scenario_quick(tmp_path, data_cache):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = dict(__import__("os").environ, ARGNN_DATA=str(DATA), ARGNN_CACHE=str(data_cache),
               MPLBACKEND="Agg")
    r = subprocess.run([sys.executable, str(root / "scenarios" / "gnn_compression.py"),
                        "--quick", "--out", str(tmp_path / "q"), "--jobs", "2"],
                       capture_output=True, text=True, env=env, cwd=root, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    targets = (tmp_path / "q" / "targets.md").read_text()
    assert "Degree-Quant INT4" in targets and "GIN on PROTEINS" in targets
    rows = list(__import__("csv").DictReader(open(tmp_path / "q" / "study" / "results.csv")))
    assert {r["task"] for r in rows} == {"cora-node", "cora-link", "proteins", "bbbp",
                                        "bbbp-scaffold"}
    assert {r["method"] for r in rows} == {"dense", "fine", "global", "l2", "qat", "dq", "a2q",
                                          "ptq-int8"}
    assert r.stderr == ""  # no warnings (PyG's torch.jit deprecation is silenced)
    assert json.loads((tmp_path / "q" / "manifest.json").read_text())["kind"] == \
        "gnn_compression"
    (tmp_path / "q" / "study" / "pruning.png").unlink()
    from argnn_sim.cli import main

    assert main(["plot", str(tmp_path / "q")]) == 0
    assert (tmp_path / "q" / "study" / "pruning.png").stat().st_size > 0


# ------------------------------------------------------------------- safety, reproducibility
@needs_data("cora", "proteins", "bbbp")
def test_cora_reader_equals_pygs_and_a_hostile_file_runs_nothing(tmp_path):
    import contextlib
    import io
    import os
    import pickle
    import warnings

    from torch_geometric.datasets import Planetoid

    from prunegcrn_bridge.compression.planetoid import read_planetoid

    shutil.copytree(DATA / "Cora", tmp_path / "pyg" / "Cora")
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        theirs = Planetoid(str(tmp_path / "pyg"), "Cora")[0]  # trusted: the shared files
    ours = read_planetoid(DATA / "Cora" / "raw")
    for k in ("x", "edge_index", "y", "train_mask", "val_mask", "test_mask"):
        assert torch.equal(getattr(ours, k), getattr(theirs, k)), k

    flag = tmp_path / "ran"

    class Hostile:
        def __reduce__(self):
            return (os.system, (f"touch {flag}",))

    for name, payload in [("ind.cora.x", Hostile()), ("ind.cora.graph", Hostile())]:
        shutil.copytree(DATA / "Cora", tmp_path / name / "Cora")
        (tmp_path / name / "Cora" / "raw" / name).write_bytes(pickle.dumps(payload, protocol=2))
        with pytest.raises(DataError, match=r"names (posix|os)\.system.*refusing to read it"):
            D.load_cora(tmp_path / name)
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "f").write_bytes(b"cbuiltins\neval\n(S'1+1'\ntR.")
    from prunegcrn_bridge.compression.planetoid import safe_load

    with pytest.raises(DataError, match="builtins.eval"):
        safe_load(tmp_path / "eval" / "f")
    assert not flag.exists()


def test_every_study_unit_runs_on_one_torch_thread(monkeypatch, data_cache):
    from prunegcrn_bridge.compare import run as compare
    from prunegcrn_bridge.compare.config import quick_config
    from prunegcrn_bridge.compression import study

    seen = []
    torch.set_num_threads(2)
    monkeypatch.setattr(study, "_unit_rows",
                        lambda *a, **k: seen.append(torch.get_num_threads()) or [])
    study.run_unit("cora-node", 0, _tiny_cfg(data_cache))
    study.run_single("cora-node", study.Variant("dense"), cfg=_tiny_cfg(data_cache))
    monkeypatch.setattr(compare, "_unit", lambda *a: seen.append(torch.get_num_threads()))
    compare.run_unit("AND", 2, quick_config())
    assert seen == [1, 1, 1] and torch.get_num_threads() == 2


@needs_data("cora", "proteins", "bbbp")
@pytest.mark.slow
def test_a_study_gives_the_same_numbers_whatever_jobs(tmp_path, data_cache):
    from prunegcrn_bridge.compression.study import run_study

    cfg = _tiny_cfg(data_cache, tasks=("bbbp",), seeds={"bbbp": (0, 1)}, methods=("dense",))
    torch.set_num_threads(2)  # the main process would use more threads than a worker
    inline = run_study(cfg, tmp_path / "a", jobs=1, progress=False)
    workers = run_study(cfg, tmp_path / "b", jobs=2, progress=False)

    def numbers(rows):
        return [(r["task"], r["seed"], r["method"], r["metric"], r["metric_before_ft"],
                 r["nonzero"]) for r in rows]

    assert numbers(inline["rows"]) == numbers(workers["rows"]) and len(inline["rows"]) == 2
