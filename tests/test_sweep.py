"""Sweeps: grid expansion, resume after a kill, failed runs, executors, published stream."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from argnn_sim import simulate
from argnn_sim.config import ConfigError, Scenario
from argnn_sim.engines.teacher import reference_draws
from argnn_sim.errors import OutputError
from argnn_sim.sweep import Grid, InlineExecutor, execute, load_records, make_executor, run_sweep

ROOT = Path(__file__).resolve().parents[1]

GRID_TOML = """
name = "t"
seeds = [0, 1]
[base]
schedule = { inputs = 40 }
record = { traces = "none" }
[axes]
"network.hidden" = [1, 2]
[axes.mode]
D = { "pruning.mode" = "D" }
none = { "pruning.policy" = "none" }
"""


def small_grid(tmp_path, text=GRID_TOML):
    p = tmp_path / "grid.toml"
    p.write_text(text)
    return Grid.load(p)


def test_grid_expands_in_loop_order(tmp_path):
    g = small_grid(tmp_path)
    specs = g.runs()
    assert [(dict(s.cell)["network.hidden"], dict(s.cell)["mode"], s.seed) for s in specs] == [
        (1, "D", 0), (1, "D", 1), (1, "none", 0), (1, "none", 1),
        (2, "D", 0), (2, "D", 1), (2, "none", 0), (2, "none", 1)]
    assert specs[2].scenario.pruning.policy == "none"
    assert specs[4].scenario.network.hidden == 2 and specs[4].scenario.seed == 0
    assert len({s.key for s in specs}) == 8


def test_run_key_depends_on_what_decides_the_result(tmp_path):
    a = small_grid(tmp_path).runs()[0]
    b = Grid(base=a.scenario.replace(**{"name": "renamed"}), seeds=[0]).runs()[0]
    assert a.key == b.key  # the name decides nothing
    c = Grid(base=a.scenario.replace(**{"schedule.inputs": 41}), seeds=[0]).runs()[0]
    assert c.key != a.key


@pytest.mark.parametrize("text, fragment", [
    ("seeds = 2\nbogus = 1\n", "unknown grid key 'bogus'"),
    ("seeds = 0\n", "seeds = 0"),
    ("[axes]\nhidden = [1, 2]\n", "needs a dotted scenario key"),
    ("[axes]\n\"network.hiden\" = [1]\n", "network.hiden"),
    ("[axes]\n\"network.hidden\" = [-1]\n", "network.hidden"),
    ("keep = [\"everything\"]\n", "keep = 'everything'"),
    ("stream = \"magic\"\n", "stream = 'magic'"),
])
def test_bad_grids_fail_before_running(tmp_path, text, fragment):
    with pytest.raises(ConfigError, match=fragment.replace("[", r"\[").replace("(", r"\(")):
        small_grid(tmp_path, text)


def test_sweep_writes_and_summarizes(tmp_path):
    g = small_grid(tmp_path)
    out = tmp_path / "out"
    res = run_sweep(g, out)
    assert res.executed == 8 and res.failed == 0
    recs = load_records(out)
    assert len(recs) == 8
    # The cell mean is the mean of that cell's runs, recomputed from the files.
    cell = next(c for c in res.cells if c["network.hidden"] == 2 and c["mode"] == "D")
    errs = [r["summary"]["error"] for r in recs.values()
            if dict(map(tuple, r["cell"])) == {"network.hidden": 2, "mode": "D"}]
    assert cell["n"] == 2 and cell["error_mean"] == pytest.approx(np.mean(errs))
    assert cell["error_sd"] == pytest.approx(np.std(errs, ddof=1))
    assert (out / "summary.csv").read_text().splitlines()[0].startswith("network.hidden,mode,n")
    assert len((out / "runs.csv").read_text().splitlines()) == 9
    # A second call without --resume refuses to mix sweeps; with it, nothing runs again.
    with pytest.raises(OutputError, match="--resume"):
        run_sweep(g, out)
    again = run_sweep(g, out, resume=True)
    assert again.executed == 0 and again.skipped == 8
    assert [c["error_mean"] for c in again.cells] == [c["error_mean"] for c in res.cells]


def test_failed_run_is_recorded_and_sweep_goes_on(tmp_path, monkeypatch):
    import argnn_sim.engines as engine

    real = engine.simulate

    def flaky(scenario, seed=None, **kw):
        if scenario.seed == 1 and scenario.network.hidden == 2:
            raise FloatingPointError("boom")
        return real(scenario, seed, **kw)

    monkeypatch.setattr(engine, "simulate", flaky)
    out = tmp_path / "out"
    res = run_sweep(small_grid(tmp_path), out, engine="simpy")
    assert res.failed == 2 and res.executed == 8
    bad = [r for r in load_records(out).values() if r["status"] == "error"]
    assert len(bad) == 2 and all("FloatingPointError: boom" in r["error"] for r in bad)
    cell = next(c for c in res.cells if c["network.hidden"] == 2 and c["mode"] == "D")
    assert cell["n"] == 1 and cell["failed"] == 1
    # Resuming keeps recorded failures; --retry-failed runs them again.
    monkeypatch.setattr(engine, "simulate", real)
    assert run_sweep(small_grid(tmp_path), out, resume=True).failed == 2
    fixed = run_sweep(small_grid(tmp_path), out, resume=True, retry_failed=True)
    assert fixed.failed == 0 and fixed.executed == 2


def test_execute_matches_simulate():
    spec = Grid(base=Scenario.from_dict({"schedule": {"inputs": 30}}), seeds=[3]).runs()[0]
    rec = execute(spec)
    direct = simulate(spec.scenario, 3)
    assert rec["status"] == "ok" and rec["summary"]["error"] == direct.error


def _sweep_cmd(grid, out, *extra):
    return [sys.executable, "-m", "argnn_sim", "sweep", str(grid), "--out", str(out),
            "--no-progress", "--no-plots", *extra]


def test_sweep_killed_with_sigkill_resumes_without_loss(tmp_path):
    grid = tmp_path / "grid.toml"
    seeds = list(range(8))
    grid.write_text(GRID_TOML.replace("[0, 1]", str(seeds)).replace("inputs = 40",
                                                                    "inputs = 400"))
    total = 2 * 2 * len(seeds)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(_sweep_cmd(grid, out, "--scheduler", "inline"), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    runs = out / "runs"
    while time.monotonic() < deadline:
        if runs.is_dir() and len(list(runs.glob("*.json"))) >= 2:
            break
        if proc.poll() is not None:
            pytest.fail("the sweep finished before it could be killed; make runs longer")
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in runs.glob("*.json")}
    assert 2 <= len(before) < total
    r = subprocess.run(_sweep_cmd(grid, out, "--resume", "--scheduler", "inline"), env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"{total - len(before)} executed, {len(before)} already done" in r.stdout
    files = sorted(runs.glob("*.json"))
    assert len(files) == total and not list(runs.glob(".*"))  # no temporary leftovers
    for p in files:  # every file complete, and never rewritten once finished
        json.loads(p.read_text())
        if p.name in before:
            assert p.stat().st_mtime_ns == before[p.name]
    # And identical to an uninterrupted sweep.
    fresh = run_sweep(Grid.load(grid), None)
    recs = load_records(out)
    assert {k: r["summary"]["error"] for k, r in recs.items()} == {
        r["key"]: r["summary"]["error"] for r in fresh.records}


def test_dask_local_cluster_gives_the_process_pool_summary(tmp_path):
    pytest.importorskip("dask.distributed")
    g = small_grid(tmp_path)
    with make_executor("processes", 2) as ex:
        a = run_sweep(g, tmp_path / "p", executor=ex)
    with make_executor("local-dask", 2) as ex:
        b = run_sweep(g, tmp_path / "d", executor=ex)
    assert a.failed == b.failed == 0
    def strip(cells):  # everything but the wall time
        return [{k: v for k, v in c.items() if k != "seconds_mean"} for c in cells]

    assert strip(a.cells) == strip(b.cells)
    assert {r["key"]: r["summary"]["error"] for r in a.records} == {
        r["key"]: r["summary"]["error"] for r in b.records}


def test_any_executor_works(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    g = small_grid(tmp_path)
    with ThreadPoolExecutor(2) as ex:
        a = run_sweep(g, None, executor=ex)
    b = run_sweep(g, None, executor=InlineExecutor())
    assert [c["error_mean"] for c in a.cells] == [c["error_mean"] for c in b.cells]


def test_unknown_scheduler_is_a_clear_error():
    with pytest.raises(ConfigError, match="not known"):
        with make_executor("carrier-pigeon", 1):
            pass


def test_published_stream_states_match_one_shared_generator():
    base = Scenario.from_dict({"rng": {"mode": "reference"}, "schedule": {"inputs": 60},
                               "record": {"traces": "none"}})
    g = Grid(base=base, seeds=[0, 1], stream="published", stream_seed=5,
             axes={"h": [(h, {"network.hidden": h}) for h in (0, 2, 3)]})
    rs = np.random.RandomState(5)
    sequential = [simulate(s.scenario, rs) for s in g.runs()]  # one stream, in loop order
    parallel = [execute(s) for s in g.runs()]  # each from its fast-forwarded state
    assert [r.error for r in sequential] == [r["summary"]["error"] for r in parallel]
    assert [len(r.prune_events) for r in sequential] == [
        len(r["summary"]["prune_events"]) for r in parallel]
    check = np.random.RandomState(5)
    for s in g.runs():
        reference_draws(s.scenario, check)
    assert check.get_state()[2] == rs.get_state()[2]
    assert (check.get_state()[1] == rs.get_state()[1]).all()


def test_published_fig3_and_d_h2_per_run_counts():
    """The published data: AND, mode D, h = 2 prunes 1,2,1,1,1,2,1,1,1,1 edges (runs in order)."""
    sys.path.insert(0, str(ROOT / "scenarios"))
    try:
        import paper_fig3
    finally:
        sys.path.pop(0)
    grid = paper_fig3.make_grid(quick=False, published=True)

    def select(s):
        c = dict(s.cell)
        return (c["gate"], c["mode"], c["h"]) in {("AND", "D", 2), ("AND", "D", 0)}

    with make_executor("processes", 2) as ex:
        res = run_sweep(grid, None, executor=ex, select=select)
    rows = [r for r in res.runs if r["h"] == 2]
    assert [int(r["pruned"]) for r in sorted(rows, key=lambda r: r["seed"])] == [
        1, 2, 1, 1, 1, 2, 1, 1, 1, 1]
    checks = paper_fig3.checks(res.runs, res.cells)
    assert checks and all(c["ok"] for c in checks), checks


def test_cli_sweep_errors_are_one_line(tmp_path, capsys):
    from argnn_sim.cli import main

    assert main(["sweep", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "grid file not found" in err
    g = tmp_path / "g.toml"
    g.write_text(GRID_TOML)
    assert main(["sweep", str(g), "--out", str(tmp_path / "o"), "--scheduler", "inline",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "8 runs: 8 executed" in out and (tmp_path / "o" / "sweep.png").is_file()
    assert main(["sweep", str(g), "--out", str(tmp_path / "o"), "--scheduler", "inline"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_parquet_beside_csv_when_pyarrow_is_installed(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    run_sweep(small_grid(tmp_path), tmp_path / "o")
    t = pq.read_table(tmp_path / "o" / "summary.parquet")
    assert t.num_rows == 4 and t.column("n").to_pylist() == [2, 2, 2, 2]


def test_cli_sweep_engine_batch(tmp_path, capsys):
    from argnn_sim.cli import main

    g = tmp_path / "g.toml"
    g.write_text(GRID_TOML)
    assert main(["sweep", str(g), "--out", str(tmp_path / "a"), "--scheduler", "inline",
                 "--no-progress", "--no-plots"]) == 0
    assert main(["sweep", str(g), "--out", str(tmp_path / "b"), "--scheduler", "inline",
                 "--no-progress", "--no-plots", "--engine", "batch", "--batch-size", "2"]) == 0
    a = (tmp_path / "a" / "summary.csv").read_text()
    b = (tmp_path / "b" / "summary.csv").read_text()
    # identical table except the timing column
    def strip(t):
        return [line.rsplit(",", 1)[0] for line in t.splitlines()]
    assert strip(a) == strip(b)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["sweep", str(g), "--out", str(tmp_path / "c"), "--engine", "gpu"])


def test_status_shows_done_failed_and_pending_runs_per_cell(tmp_path, monkeypatch, capsys):
    import argnn_sim.engines as engine
    from argnn_sim.cli import main
    from argnn_sim.sweep import sweep_status

    real = engine.simulate

    def flaky(scenario, seed=None, **kw):
        if scenario.network.hidden == 2:
            raise FloatingPointError("boom")
        return real(scenario, seed, **kw)

    grid = Grid.from_dict({"name": "st", "seeds": 3, "base": {"schedule": {"inputs": 5}},
                           "axes": {"network.hidden": [1, 2]}})
    monkeypatch.setattr(engine, "simulate", flaky)
    run_sweep(grid, tmp_path / "s", engine="simpy", select=lambda s: s.seed < 2)
    cells = sweep_status(tmp_path / "s")
    assert [(c["network.hidden"], c["done"], c["failed"], c["pending"]) for c in cells] == [
        (1, 2, 0, 1), (2, 0, 2, 1)]
    assert main(["sweep", "--status", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "6 runs: 2 done, 2 failed, 2 pending" in out
    assert main(["sweep", "--status", str(tmp_path)]) == 2  # not a sweep folder: one line
    assert "not a sweep folder" in capsys.readouterr().err
