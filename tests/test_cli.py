import json
import subprocess
import sys

import pytest

from argnn_sim.cli import main
from argnn_sim.config import Scenario, load_scenario, to_toml

FAST = ["--set", "schedule.inputs=20"]


def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_run_json_contract(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code, out, err = _run(["run", "--json", "--out", str(out_dir), "--no-plots", *FAST], capsys)
    assert code == 0
    s = json.loads(out)
    for key in ("error", "per_row_errors", "prune_events", "edges_before", "edges_after",
                "seconds"):
        assert key in s
    assert len(s["per_row_errors"]) == 4
    for ev in s["prune_events"]:
        assert set(ev) == {"input", "sweep", "node", "edge", "remote"}
    assert (out_dir / "summary.json").is_file()


def test_run_writes_figures_and_table(tmp_path, capsys):
    out_dir = tmp_path / "r"
    code, out, _ = _run(["run", "--out", str(out_dir), *FAST], capsys)
    assert code == 0
    assert "error" in out and "edges" in out
    for name in ("eigenvalues.png", "graph.png", "curves.png", "summary.json", "edges.csv",
                 "curve.csv", "prune_events.csv", "traces.npz"):
        assert (out_dir / name).stat().st_size > 0, name
    # only the final folder is left, no temporary siblings
    assert [p.name for p in tmp_path.iterdir()] == ["r"]


def test_scenario_file_and_overrides(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text('name = "x"\n[task]\ngate = "AND"\n[network]\nhidden = 1\n'
                 '[schedule]\nkind = "sweep"\ninputs = 15\nsweeps = 3\n'
                 '[pruning]\npolicy = "spectral"\nmode = "D"\nrule = "reference"\n'
                 '[rng]\nmode = "reference"\n[channel]\ndelay = 0.0\nloss = 0.0\n')
    code, out, _ = _run(["run", str(f), "--json", "--no-save", "--seed", "4",
                         "--set", "network.hidden=3"], capsys)
    assert code == 0
    s = json.loads(out)
    assert s["scenario"]["task"]["gate"] == "AND"
    assert s["scenario"]["network"]["hidden"] == 3 and s["seed"] == 4
    assert s["edges_before"] == 4 * 5


def test_show_default_roundtrips(tmp_path, capsys):
    code, out, _ = _run(["show-default"], capsys)
    assert code == 0
    f = tmp_path / "d.toml"
    f.write_text(out)
    assert load_scenario(f) == Scenario()
    assert to_toml(Scenario()) == out


BAD = [
    (["--set", "network.hiden=3"], "unknown key 'network.hiden'", "network.hidden"),
    (["--set", "network.hidden='two'"], "network.hidden = 'two'", "whole number"),
    (["--set", "network.hidden=-1"], "network.hidden = -1", ">= 0"),
    (["--set", "schedule.kind='async'", "--set", "channel.delay=-1.0"], "channel.delay = -1.0",
     ">= 0"),
    (["--set", "schedule.kind='async'", "--set", "channel.loss=1.0"], "channel.loss = 1.0",
     "[0, 1)"),
    (["--set", "schedule.kind='async'", "--set", "channel.loss=-0.1"], "channel.loss", "[0, 1)"),
    (["--set", "task.gate='XAND'"], "task.gate = 'XAND'", "'XOR'"),
    (["--set", "pruning.mode='Q'"], "pruning.mode = 'Q'", "'DW'"),
    (["--set", "pruning.rule='magic'"], "pruning.rule = 'magic'", "'local'"),
    (["--set", "pruning.policy='lottery'"], "pruning.policy = 'lottery'", "'magnitude'"),
    (["--set", "rng.mode='fast'"], "rng.mode = 'fast'", "'reference'"),
    (["--set", "bogus.key=1"], "unknown key 'bogus.key'", "network"),
    (["--set", "network.kind='edges'", "--set", "network.edges=[['a','h'],['h','y']]",
      "--set", "network.inputs=['a','b']", "--set", "network.outputs=['y']"],
     "network.inputs", "'b'"),
    (["--set", "network.kind='edges'", "--set", "network.edges=[['a','h'],['b','h']]",
      "--set", "network.inputs=['a','b']", "--set", "network.outputs=['z']"],
     "network.outputs", "'z'"),
    (["--set", "network.kind='edges'", "--set", "network.edges=[['a','h', nan],['b','h']]",
      "--set", "network.inputs=['a','b']", "--set", "network.outputs=['h']"],
     "weight nan", "finite"),
    (["--set", "noequals"], "section.key=value", "--set"),
]


@pytest.mark.parametrize("extra,what,hint", BAD, ids=[b[1][:30] for b in BAD])
def test_bad_input_one_line_exit_2_no_output(tmp_path, capsys, extra, what, hint):
    out_dir = tmp_path / "out"
    code, out, err = _run(["run", "--out", str(out_dir), *FAST, *extra], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("argnn: error: ")
    assert what in lines[0] and hint in lines[0], lines[0]
    assert out == ""
    assert not out_dir.exists() and list(tmp_path.iterdir()) == []


def test_missing_scenario_file(tmp_path, capsys):
    code, out, err = _run(["run", str(tmp_path / "nope.toml")], capsys)
    assert code == 2 and "scenario file not found" in err and len(err.splitlines()) == 1


def test_unknown_key_in_file(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text("[schedule]\nsweepz = 3\n")
    code, _, err = _run(["run", str(f), "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "unknown key 'schedule.sweepz'" in err and "schedule.sweeps" in err
    assert not (tmp_path / "o").exists()


def test_invalid_toml(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text("[task\n")
    code, _, err = _run(["run", str(f)], capsys)
    assert code == 2 and "not valid TOML" in err


def test_failed_write_leaves_no_partial_folder(tmp_path, monkeypatch, capsys):
    import argnn_sim.plots as P

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(P, "graph_before_after", boom)
    assert main(["run", "--out", str(tmp_path / "o"), *FAST]) == 1  # a bug: one line, exit 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: RuntimeError: disk full" in err
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("ARGNN_TRACEBACK", "1")  # and the traceback on request
    with pytest.raises(RuntimeError):
        main(["run", "--out", str(tmp_path / "o"), *FAST])
    assert list(tmp_path.iterdir()) == []


def test_module_entry_point_subprocess(tmp_path):
    p = subprocess.run([sys.executable, "-m", "argnn_sim", "run", "--json", "--no-save", *FAST],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "error" in json.loads(p.stdout)
    p = subprocess.run([sys.executable, "-m", "argnn_sim", "run", "--set", "network.hidden=-2"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.count("\n") == 1


def test_plugin_commands_load_and_a_missing_extra_is_one_clear_error(monkeypatch, capsys):
    import importlib.metadata as md

    from argnn_sim import cli

    class FakeEP:
        name = "fancy"

        def load(self):
            raise ModuleNotFoundError("No module named 'torch'", name="torch")

    real = md.entry_points

    def fake(group=None, **kw):
        return [*real(group=group, **kw), FakeEP()] if group == "argnn.commands" else real(
            group=group, **kw)

    monkeypatch.setattr(md, "entry_points", fake)
    assert cli.main(["fancy"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fancy is unavailable" in err[0] and "[bridge]" in err[0]
    names = {ep.name for ep in real(group="argnn.commands")}
    assert {"compress", "traffic"} <= names  # the bridge registers its commands


def test_run_engine_compiled_gives_the_simpy_summary(capsys):
    pytest.importorskip("numba")
    args = ["run", "--json", "--no-save", "--set", "schedule.kind=async", "--set",
            "pruning.rule=local", "--set", "schedule.inputs=30"]
    code, out_simpy, _ = _run([*args, "--engine", "simpy"], capsys)
    assert code == 0
    code, out_fast, _ = _run([*args, "--engine", "compiled"], capsys)
    assert code == 0
    code, out_auto, _ = _run(args, capsys)
    assert code == 0
    a, b, c = json.loads(out_simpy), json.loads(out_fast), json.loads(out_auto)
    assert (a["engine"], b["engine"], c["engine"]) == ("simpy", "compiled", "compiled")
    assert (a["engine_note"], b["engine_note"], c["engine_note"]) == (
        "engine 'simpy' was asked for; 'compiled' covers this run", "", "")
    for k in ("seconds", "timings", "version", "engine", "engine_note"):
        for d in (a, b, c):
            d.pop(k, None)
    assert a == b == c
    code, _, err = _run(["run", "--no-save", "--engine", "compiled", *FAST, "--set",
                         "pruning.policy=magnitude"], capsys)
    assert code == 2 and "pruning.policy" in err and "engine 'auto' or 'simpy'" in err
    assert err.count("\n") == 1  # one line


def test_help_and_run_never_import_torch_or_a_plugins_module(tmp_path):
    code = (
        "import sys, contextlib, io\n"
        "from argnn_sim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "    main(['show-default'])\n"
        "    main(['run', '--no-save', '--set', 'schedule.inputs=5'])\n"
        "    main(['run', '--no-save', '--set', 'schedule.inputs=5', '--set',\n"
        "          'schedule.kind=async'])\n"
        "text = out.getvalue()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in\n"
        "               ('torch', 'torch_geometric', 'dask') or m.endswith('.cli')\n"
        "               and m.startswith('prunegcrn') or m == 'prunegcrn_bridge.compare')\n"
        "print(heavy, 'GNN pruning and quantization study' in text)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[] True"


def test_a_plugin_command_loads_its_module_when_it_runs(capsys):
    pytest.importorskip("torch")
    with pytest.raises(SystemExit):
        main(["compress", "--help"])
    assert "{run,study,plot}" in capsys.readouterr().out


def test_version_is_the_installed_packages():
    from importlib.metadata import version

    p = subprocess.run([sys.executable, "-m", "argnn_sim", "--version"], capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == f"argnn {version('argnn-sim')}"


def test_a_run_that_learned_nothing_says_so(capsys):
    code, out, _ = _run(["run", "--no-save", "--set", "schedule.inputs=20"], capsys)
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("rows right"))
    assert "2 of 4" in line and "has not learned XOR" in line
    code, out, _ = _run(["run", "--no-save"], capsys)
    line = next(x for x in out.splitlines() if x.startswith("rows right"))
    assert line.split()[2:5] == ["4", "of", "4"] and "not learned" not in line


def test_argnn_scenario_lists_runs_and_refuses_scripts(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["scenario"]) == 0
    listed = capsys.readouterr().out
    assert "paper_fig3" in listed and "eigen_trace" in listed and "Fig. 3" in listed
    assert main(["scenario", "paper_fig"]) == 2
    assert "did you mean 'paper_fig4'" in capsys.readouterr().err
    assert main(["scenario", "eigen_trace", "--quick", "--out", "et"]) == 0
    assert (tmp_path / "et" / "eigenvalues.png").is_file()
    assert main(["scenario", "eigen_trace", "--bogus"]) == 2  # the script's own bad input
    monkeypatch.setenv("ARGNN_SCENARIOS", str(tmp_path / "none"))
    assert main(["scenario"]) == 2
    assert "ARGNN_SCENARIOS" in capsys.readouterr().err
