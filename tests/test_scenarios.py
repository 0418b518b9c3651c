"""Every scenario script's --quick mode runs from a fresh clone, writes its files, and
`argnn plot` redraws its figures from them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from argnn_sim.cli import main as argnn

ROOT = Path(__file__).resolve().parents[1]

EXPECTED = {
    "paper_fig3": ["fig3.csv", "fig3.png", "sweep/runs.csv", "sweep/summary.csv"],
    "paper_fig4": ["fig4_runs.csv", "fig4_bands.csv", "fig4.png"],
    "eigen_trace": ["graph.png", "eigenvalues.png", "curves.png", "summary.json", "edges.csv"],
    "rules_compare": ["rules_runs.csv", "rules_summary.csv", "rules_compare.png"],
    "async_robustness": ["async_runs.csv", "async.csv", "async_robustness.png"],
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("scenarios")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    done = {}
    for name in EXPECTED:
        out = base / name
        r = subprocess.run([sys.executable, str(ROOT / "scenarios" / f"{name}.py"), "--quick",
                            "--out", str(out), "--jobs", "2"], cwd=base, env=env,
                           capture_output=True, text=True, timeout=300)
        done[name] = (out, r)
    return done


@pytest.mark.parametrize("name", list(EXPECTED))
def test_quick_mode_writes_csv_png_and_summary(outputs, name):
    out, r = outputs[name]
    assert r.returncode == 0, r.stderr[-2000:]
    for f in EXPECTED[name] + ["summary.md", "manifest.json"]:
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    assert json.loads((out / "manifest.json").read_text())["kind"] == name
    md = (out / "summary.md").read_text()
    assert md.startswith("# ") and ".png)" in md


@pytest.mark.parametrize("name", list(EXPECTED))
def test_argnn_plot_redraws_a_scenario_folder(outputs, name, capsys):
    out, r = outputs[name]
    pngs = [p for p in EXPECTED[name] if p.endswith(".png")]
    for p in pngs:
        (out / p).unlink()
    assert argnn(["plot", str(out)]) == 0
    for p in pngs:
        assert (out / p).stat().st_size > 0


def test_rerunning_a_scenario_reuses_finished_runs(outputs):
    out, _ = outputs["paper_fig4"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    r = subprocess.run([sys.executable, str(ROOT / "scenarios" / "paper_fig4.py"), "--quick",
                        "--out", str(out), "--scheduler", "inline"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "0 executed, 6 reused" in r.stdout


def test_fig3_cells_agree_with_their_runs(outputs):
    from argnn_sim.figures import read_csv

    out, _ = outputs["paper_fig3"]
    cells = read_csv(out / "fig3.csv")
    runs = read_csv(out / "sweep" / "runs.csv")
    assert len(cells) == 2 * 3 * 4  # AND, XOR x D, DW, none x h = 0..3
    for c in cells:
        mine = [r["pruned"] for r in runs
                if (r["gate"], r["mode"], r["h"]) == (c["gate"], c["mode"], c["h"])]
        assert c["pruned_mean"] == pytest.approx(sum(mine) / len(mine))
        if c["mode"] == "none" or c["h"] == 0:
            assert c["pruned_mean"] == 0  # nothing to prune without pruning, or at h = 0
        # The reference can only remove edges (k+1) -> k: never more than h.
        assert max(mine) <= c["h"]


def test_plot_refuses_a_folder_that_is_not_results(tmp_path, capsys):
    assert argnn(["plot", str(tmp_path)]) == 2
    assert "not a results folder" in capsys.readouterr().err


def _fig4(tmp_path, *extra):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, str(ROOT / "scenarios" / "paper_fig4.py"),
                           "--published-stream", "--quick", "--jobs", "1", *extra],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def test_fig4_published_stream_reproduces_the_published_dw_runs(tmp_path):
    """AND, h = 2 of the published timing experiment: every D_W run equals the published
    data (every machine tried); a D_W run that differs makes the script exit 1."""
    from .conftest import REFERENCE

    data = REFERENCE / "published_fig4_and.json"
    out = tmp_path / "f4"
    r = _fig4(tmp_path, "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "AND DW h=2: 5 of 5 runs equal the published data" in r.stdout
    rows = (out / "fig4_published.csv").read_text().splitlines()
    assert rows[0].startswith("cell,mode,h,runs,equal to published")
    runs = (out / "fig4_runs.csv").read_text().splitlines()
    assert runs[0].startswith("gate,mode,h,seed,input,train_error,edges")
    assert len(runs) == 1 + 10 * 1000  # AND x D, DW x 5 runs x 1000 inputs
    # the same runs against published data with one D_W edge count changed: exit 1
    pub = json.loads(data.read_text())
    pub["runs"]["AND_Dw_2"]["edges"][3][500] += 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(pub))
    r = _fig4(tmp_path, "--out", str(out), "--published-data", str(bad))
    assert r.returncode == 1 and "a D_W cell differs" in r.stderr
    assert "AND DW h=2: 4 of 5 runs" in r.stdout
    r = _fig4(tmp_path, "--out", str(out), "--published-data", str(tmp_path / "none.json"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--published-data" in r.stderr
    bad.write_text(json.dumps({"runs": {"AND_D_2": {"edges": [[1]]}}}))  # not that data
    r = _fig4(tmp_path, "--out", str(out), "--published-data", str(bad))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "is not the published Fig. 4 data" in r.stderr


def test_eigen_trace_replaces_an_earlier_result_only_with_force(tmp_path):
    out = tmp_path / "et"

    def run(*extra):
        return subprocess.run([sys.executable, str(ROOT / "scenarios" / "eigen_trace.py"),
                               "--quick", "--inputs", "40", "--out", str(out), *extra],
                              capture_output=True, text=True)

    assert run().returncode == 0
    assert run().returncode == 0  # the same options: the same run again
    before = (out / "summary.json").read_bytes()
    r = run("--seed", "3")
    assert r.returncode == 2 and "--force" in r.stderr and len(r.stderr.splitlines()) == 1
    assert (out / "summary.json").read_bytes() == before  # nothing replaced
    assert run("--seed", "3", "--force").returncode == 0
    assert (out / "summary.json").read_bytes() != before
