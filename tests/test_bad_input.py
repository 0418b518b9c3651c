"""Bad input, every command: one line on stderr, exit status 2, nothing written, nothing of the
user's deleted, no hang. Output safety (argnn_sim.outputs), number validation, resource limits,
sweep resumption, and property-based fuzzing of the loaders and of each command's arguments."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from argnn_sim import cli
from argnn_sim.cli import main
from argnn_sim.config import _SECTIONS, ConfigError, Scenario
from argnn_sim.errors import ArgnnError, OutputError, ResourceError, run_cli
from argnn_sim.limits import check_resources, estimate
from argnn_sim.outputs import MARKER, check_output, output_kind
from argnn_sim.results import save
from argnn_sim.sweep import Grid, run_sweep

from .conftest import DATA, needs_data

FAST = ["--set", "schedule.inputs=5", "--no-plots"]
ROOT = Path(__file__).resolve().parents[1]


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _one_line_2(capsys, words: str = "") -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("argnn: error: "), err
    assert "Traceback" not in err
    assert words in err, err
    return err


# ---------------------------------------------------------------------------- output safety
def test_run_out_never_touches_a_users_folder_or_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    (tmp_path / "file.txt").write_text("precious too")
    assert main(["run", *FAST, "--out", "mine"]) == 2
    _one_line_2(capsys, "holds files argnn did not write (notes.txt)")
    assert main(["run", *FAST, "--out", "mine", "--force"]) == 2  # --force: argnn folders only
    _one_line_2(capsys, "did not write")
    assert main(["run", *FAST, "--out", "file.txt"]) == 2
    _one_line_2(capsys, "is a file")
    assert main(["run", *FAST, "--out", "file.txt/sub"]) == 2
    _one_line_2(capsys, "which is a file")
    for here in (".", "..", str(tmp_path), "/"):
        assert main(["run", *FAST, "--out", here]) == 2
        _one_line_2(capsys, "argnn writes only into a folder of its own")
    assert (mine / "notes.txt").read_text() == "precious"
    assert (tmp_path / "file.txt").read_text() == "precious too"
    assert _files(tmp_path) == ["file.txt", "mine", "mine/notes.txt"]


def test_an_argnn_run_folder_is_replaced_only_with_force_and_only_if_it_holds_nothing_else(
        tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["run", *FAST, "--out", str(out)]) == 0
    assert output_kind(out) == "run" and (out / MARKER).is_file()
    first = json.loads((out / "summary.json").read_text())
    capsys.readouterr()
    assert main(["run", *FAST, "--seed", "3", "--out", str(out)]) == 2
    _one_line_2(capsys, "already holds a run; pass --force to replace it")
    assert json.loads((out / "summary.json").read_text()) == first
    assert main(["run", *FAST, "--seed", "3", "--out", str(out), "--force"]) == 0
    assert json.loads((out / "summary.json").read_text())["seed"] == 3
    (out / "my-notes.md").write_text("mine")
    capsys.readouterr()
    assert main(["run", *FAST, "--seed", "4", "--out", str(out), "--force"]) == 2
    _one_line_2(capsys, "my-notes.md")
    assert (out / "my-notes.md").read_text() == "mine"
    assert json.loads((out / "summary.json").read_text())["seed"] == 3


def test_default_output_never_replaces_an_earlier_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", *FAST]) == 0
    assert main(["run", *FAST, "--seed", "5"]) == 0
    assert "results/default-2" in capsys.readouterr().out
    assert json.loads((tmp_path / "results/default/summary.json").read_text())["seed"] == 0
    assert json.loads((tmp_path / "results/default-2/summary.json").read_text())["seed"] == 5


@pytest.mark.parametrize("name", ["", " ", "../../x", "/", ".", "..", "a/b", "a\\b", ".hidden",
                                  "x\n", "x" * 101, "tab\there"])
def test_a_run_name_is_one_plain_path_component(name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "other").mkdir()
    assert main(["run", *FAST, "--set", f"name={json.dumps(name)}"]) == 2
    _one_line_2(capsys, "name = ")
    assert _files(tmp_path) == ["results", "results/other"]


def test_save_refuses_what_argnn_did_not_write(tmp_path):
    from argnn_sim import simulate

    r = simulate(Scenario.from_dict({"schedule": {"inputs": 5}}), 0)
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "a.txt").write_text("a")
    with pytest.raises(OutputError, match="did not write"):
        save(r, tmp_path / "user")
    save(r, tmp_path / "run")
    with pytest.raises(OutputError, match="overwrite=True"):
        save(r, tmp_path / "run")
    save(r, tmp_path / "run", overwrite=True)
    assert (tmp_path / "user" / "a.txt").read_text() == "a"


def test_check_output_accepts_new_and_empty_folders_and_its_own_kind(tmp_path):
    assert check_output(tmp_path / "new", "run") == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    assert check_output(tmp_path / "empty", "sweep") == tmp_path / "empty"
    (tmp_path / "s").mkdir()
    (tmp_path / "s" / MARKER).write_text(json.dumps({"kind": "sweep"}))
    assert check_output(tmp_path / "s", "sweep", existing="resume") == tmp_path / "s"
    with pytest.raises(OutputError, match="another kind"):
        check_output(tmp_path / "s", "run", existing="replace")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    with pytest.raises(OutputError, match="broken symbolic link"):
        check_output(tmp_path / "dangling", "run")


def test_a_folder_from_before_markers_is_still_recognised(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "summary.json").write_text(json.dumps(
        {"scenario": {}, "labels": [], "seed": 0}))
    assert output_kind(tmp_path / "old") == "run"
    (tmp_path / "oldsweep").mkdir()
    (tmp_path / "oldsweep" / "grid.json").write_text(json.dumps(
        {"axes": {}, "base": {}, "seeds": [0]}))
    assert output_kind(tmp_path / "oldsweep") == "sweep"
    (tmp_path / "fake").mkdir()
    (tmp_path / "fake" / "summary.json").write_text("{}")  # a user's own summary.json
    assert output_kind(tmp_path / "fake") is None


def test_a_scenario_script_refuses_a_users_folder(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("k")
    p = subprocess.run([sys.executable, str(ROOT / "scenarios" / "eigen_trace.py"), "--quick",
                        "--out", str(mine)], capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and "did not write (keep.txt)" in p.stderr
    assert _files(mine) == ["keep.txt"]


# ---------------------------------------------------------------------------- bad values
BAD_RUNS = [
    (["--set", "schedule.kind=async", "--set", "schedule.wake_rate=inf"], "not a finite number"),
    (["--set", "schedule.kind=async", "--set", "schedule.input_period=inf"], "not a finite"),
    (["--set", "schedule.kind=async", "--set", "schedule.wake_rate=1e300"], "run for days"),
    (["--set", "schedule.kind=async", "--set", "faults.crash_rate=1e300"], "run for days"),
    (["--set", "schedule.inputs=100000000000000"], "run for days"),
    (["--set", "schedule.kind=async", "--set", f"channel.delay={'1' * 400}"], "too large"),
    (["--set", f"schedule.inputs={'9' * 5000}"], "cannot be read"),
    (["--set", "channel.delay=inf", "--set", "schedule.kind=async"], "not a finite number"),
    (["--set", "node.error_factor=inf"], "not a finite number"),
    (["--set", "schedule.kind=async", "--set", "channel.model=lognormal", "--set",
      "channel.delay=1", "--set", "channel.spread=1e300"], "log-standard-deviation"),
    (["--set", "faults.downtime=inf"], "not a finite number"),
    (["--set", "network.hidden=1000000000"], "of memory"),
    (["--set", "network.hidden=100000"], "of memory"),
    (["--set", "task.gate=PARITY", "--set", "task.bits=40"], "task.bits = 40"),
    (["--set", "network.kind=random", "--set", "network.mean_degree=inf"], "not a finite"),
    (["--set", "network.kind=random", "--set", "network.nodes=10",
      "--set", "network.mean_degree=50"], "exceeds what 10 nodes allow"),
    (["--set", "network.weight_scale=inf"], "not a finite number"),
    (["--set", "network.kind=edges", "--set", "network.edges=[1, 2]",
      "--set", "network.inputs=[1]", "--set", "network.outputs=[2]"], "network.edges entry 1"),
    (["--set", "network.kind=edges", "--set", 'network.edges=[[{a=1}, "b"]]',
      "--set", 'network.inputs=["b"]', "--set", 'network.outputs=["b"]'], "node names are"),
    (["--set", "network.kind=edges", "--set", 'network.edges=[["a","h"],["b","h"],["y","h"]]',
      "--set", 'network.inputs=["a","b"]', "--set", 'network.outputs=["y"]'], "no input edges"),
    (["--set", "network.kind=edges", "--set", 'network.edges=[["a","h"],["b","h"],["z","y"]]',
      "--set", 'network.inputs=["a","b"]', "--set", 'network.outputs=["y"]'], "cannot be reached"),
    (["--set", "network.kind=edges", "--set", 'network.edges=[["a","y",1e999]]',
      "--set", 'network.inputs=["a","b"]', "--set", 'network.outputs=["y"]'], "finite"),
    (["--seed", "99999999999999999999999"], "too large"),
    (["--seed", "-1"], "seed = -1"),
    (["--set", "seed=true"], "seed"),
    (["--set", "zzz.y=1"], "unknown key"),
    (["--set", "novalue"], "section.key=value"),
    (["--engine", "batch", "--set", "schedule.kind=async"], "engine"),
]


@pytest.mark.parametrize("extra, words", BAD_RUNS)
def test_bad_run_input_is_one_line_and_exit_2_and_writes_nothing(extra, words, tmp_path,
                                                                 monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--set", "schedule.inputs=5", *extra]) == 2
    _one_line_2(capsys, words)
    assert _files(tmp_path) == []


def test_bad_scenario_files(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "latin1.toml").write_bytes(b"\xff\xfe[task]\n")
    (tmp_path / "bad.toml").write_text("[task\n")
    (tmp_path / "dir.toml").mkdir()
    for f, words in [("latin1.toml", "not a UTF-8 text file"), ("bad.toml", "not valid TOML"),
                     ("dir.toml", "is a folder"), ("missing.toml", "not found")]:
        assert main(["run", f]) == 2
        _one_line_2(capsys, words)
    assert _files(tmp_path) == ["bad.toml", "dir.toml", "latin1.toml"]


def test_limits_use_the_estimate_and_the_memory_available():
    sc = Scenario.from_dict({"network": {"hidden": 300}})
    e = estimate(sc)
    assert e.nodes == 303 and e.edges == 303 * 302 - 2 * 302
    check_resources(sc, available=64 * 2**30)
    with pytest.raises(ResourceError, match=r"needs about .* of memory \(303 nodes"):
        check_resources(sc, available=50 * 2**20)
    big = Scenario.from_dict({"network": {"kind": "random", "nodes": 100_000,
                                          "mean_degree": 8.0},
                              "schedule": {"kind": "async", "inputs": 10}})
    assert 1e6 < estimate(big).activations < 1e8
    check_resources(big, available=64 * 2**30)


def test_a_broken_pipe_is_not_an_error(tmp_path):
    code = ("import sys; from argnn_sim.cli import main; "
            "sys.exit(main(['run', '--set', 'schedule.inputs=5', '--no-save', '--json']))")
    # ``true`` exits before the run ends, so the JSON meets a closed pipe
    p = subprocess.run(f"{sys.executable} -c \"{code}\" | true; echo ${{PIPESTATUS[0]}}",
                       shell=True, executable="/bin/bash", capture_output=True, text=True,
                       cwd=tmp_path)
    assert p.stdout.strip() == "0" and p.stderr == "", p.stderr


def test_run_cli_turns_each_kind_of_failure_into_one_line(capsys):
    def raiser(exc):
        def f():
            raise exc
        return f

    assert run_cli(raiser(ConfigError("x = 1 is out of range"))) == 2
    assert run_cli(raiser(FileNotFoundError(2, "No such file or directory", "d.csv"))) == 2
    assert run_cli(raiser(PermissionError(13, "Permission denied", "/x"))) == 2
    assert run_cli(raiser(MemoryError())) == 2
    assert run_cli(raiser(KeyboardInterrupt())) == 130
    assert run_cli(raiser(ZeroDivisionError("bug"))) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 6 and "d.csv" in err[1] and "Permission denied" in err[2]
    assert "internal error: ZeroDivisionError" in err[5]


# ---------------------------------------------------------------------------- sweeps
GRID = """
seeds = 2
[base.schedule]
inputs = 10
[axes]
"network.hidden" = [1, %s]
"""


def test_sweep_resume_refuses_another_grid_and_keeps_its_runs(tmp_path, capsys):
    g1, g2 = tmp_path / "g1.toml", tmp_path / "g2.toml"
    g1.write_text(GRID % 2)
    g2.write_text(GRID % 3)
    out = tmp_path / "s"
    assert main(["sweep", str(g1), "--out", str(out), "--scheduler", "inline",
                 "--no-progress", "--no-plots"]) == 0
    before = {p.name: p.read_text() for p in (out / "runs").iterdir()}
    grid_json = (out / "grid.json").read_text()
    capsys.readouterr()
    assert main(["sweep", str(g2), "--out", str(out), "--resume", "--scheduler", "inline"]) == 2
    _one_line_2(capsys, "holds a different grid (it differs in axes)")
    assert main(["sweep", str(g1), "--out", str(out), "--scheduler", "inline"]) == 2
    _one_line_2(capsys, "pass --resume")
    assert {p.name: p.read_text() for p in (out / "runs").iterdir()} == before
    assert (out / "grid.json").read_text() == grid_json
    assert main(["sweep", str(g1), "--out", str(out), "--resume", "--scheduler", "inline",
                 "--no-progress", "--no-plots"]) == 0
    assert "0 executed, 4 already done" in capsys.readouterr().out


@pytest.mark.parametrize("text, words", [
    ("seeds = [1, 1]", "seeds lists [1] more than once"),
    ('[axes]\n"network.hidden" = [2, 2]', "lists 2 more than once"),
    ("seeds = 0", "give a count from 1"),
    ("seeds = 100000000", "give a count from 1"),
    ("stream_seed = \"x\"", "stream_seed"),
    ("name = 3", "name = 3"),
    ("keep = 5", "keep = 5"),
    ('[axes]\n"network.hidden" = [1, 2]\n"pruning.mode" = ["D", "DW"]\n'
     '"seed" = [1]', "a dotted scenario key"),
])
def test_bad_grids(text, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.toml").write_text(text)
    assert main(["sweep", "g.toml", "--out", "s"]) == 2
    _one_line_2(capsys, words)
    assert _files(tmp_path) == ["g.toml"]


@pytest.mark.parametrize("opts, words", [
    (["--batch-size", "0"], "batch size 0"),
    (["--jobs", "0"], "--jobs 0"),
    (["--jobs", "100000"], "--jobs 100000"),
    (["--out", "grid.toml"], "is a file"),
    (["--retry-failed"], "--retry-failed needs --resume"),
    (["--scheduler", "bogus"], "is not known"),
])
def test_bad_sweep_options_leave_nothing_behind(opts, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "grid.toml").write_text(GRID % 2)
    argv = ["sweep", "grid.toml", *opts]
    if "--out" not in opts:
        argv += ["--out", "s"]
    assert main(argv) == 2
    _one_line_2(capsys, words)
    assert _files(tmp_path) == ["grid.toml"]


def test_an_unreachable_dask_scheduler_is_one_line(tmp_path, monkeypatch, capsys):
    pytest.importorskip("dask.distributed")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "grid.toml").write_text(GRID % 2)
    assert main(["sweep", "grid.toml", "--out", "s", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    _one_line_2(capsys, "no Dask scheduler answers there")
    assert _files(tmp_path) == ["grid.toml"]


def test_run_sweep_checks_resources_before_any_run(tmp_path):
    g = Grid.from_dict({"axes": {"network.hidden": [1, 100000]}})
    with pytest.raises(ResourceError):
        run_sweep(g, tmp_path / "s")
    assert not (tmp_path / "s").exists()


# ---------------------------------------------------------------------------- fuzzing
def _field_names(section: str) -> list[str]:
    return [f.name for f in dataclasses.fields(_SECTIONS[section])]


_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, -1, 2**63, 10**400, 1e308, 5e-324, -0.0]),
)
_ATOMS = st.one_of(_NUMBERS, st.booleans(), st.none(), st.text(max_size=12),
                   st.sampled_from(["AND", "PARITY", "sweep", "async", "edges", "random", "D",
                                    "DW", "local", "reference", "exponential", "full", "..",
                                    "/", ""]))
_VALUES = st.recursive(_ATOMS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8)


@st.composite
def _scenario_dicts(draw):
    data = {}
    for sec in draw(st.lists(st.sampled_from(sorted(_SECTIONS) + ["name", "seed", "zz"]),
                             max_size=4, unique=True)):
        if sec in _SECTIONS and draw(st.booleans()):
            keys = draw(st.lists(st.sampled_from(_field_names(sec) + ["bogus"]), max_size=4,
                                 unique=True))
            data[sec] = {k: draw(_VALUES) for k in keys}
        else:
            data[sec] = draw(_VALUES)
    return data


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_scenario_dicts())
@example({"seed": 9.223372036854776e+18})  # found by this test: 2**63 written as a float
@example({"network": {"hidden": 1e300}, "schedule": {"inputs": -0.0}})
def test_fuzz_scenario_from_dict_only_config_errors_escape(data):
    try:
        sc = Scenario.from_dict(data)
    except ConfigError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert Scenario.from_dict(sc.to_dict()) == sc
    hash(sc)  # a valid scenario can key a sweep
    try:
        check_resources(sc)
    except ResourceError:
        pass


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["name", "seeds", "keep", "stream", "stream_seed",
                                        "base", "axes", "bogus"]),
                       st.one_of(_VALUES, _scenario_dicts(),
                                 st.dictionaries(st.sampled_from(["network.hidden",
                                                                  "pruning.mode", "v", "seed"]),
                                                 _VALUES, max_size=3)),
                       max_size=5))
def test_fuzz_grid_from_dict_only_config_errors_escape(data):
    try:
        g = Grid.from_dict(data)
    except ConfigError as exc:
        assert str(exc)
        return
    if len(g.seeds) * math.prod(len(v) for v in g.axes.values()) <= 50:
        try:
            g.runs()
        except ConfigError:
            pass


_TOKENS = st.one_of(
    st.sampled_from(["0", "1", "-1", "2", "inf", "nan", "1e999", "0.5", "", "x", "AND,XOR",
                     "2,3", "1,,2", "D", "-5", "99999999999999999999", "FOO", "1.5"]),
    st.sampled_from(["-1", "0", "1e999", "nan", "99999999999999999999"]),
    st.text(max_size=6))


@st.composite
def _argv(draw, command, options):
    argv = list(command)
    for opt in draw(st.lists(st.sampled_from(options), max_size=4)):
        argv.append(opt)
        if not opt.endswith("!"):
            argv.append(draw(_TOKENS))
    return [a.rstrip("!") for a in argv]


def _call(argv, capsys):
    try:
        rc = main(argv)
    except SystemExit as exc:  # argparse: its one-line usage error
        rc = exc.code
    err = capsys.readouterr().err
    assert rc in (0, 2), (argv, err)
    if rc == 2:
        assert "Traceback" not in err and err.strip().count("\n") == 0, (argv, err)
    return rc


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_run_arguments(data, monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(cli, "simulate", lambda sc, **k: seen.append(sc) or _Stop())
    monkeypatch.setattr(cli, "check_output", lambda *a, **k: None)
    argv = data.draw(_argv(["run", "--no-save"], [
        "--seed", "--engine", "--set", "--set", "--set", "--json!", "--no-plots!",
        "--progress!"]))
    argv = [a if not (prev == "--set" and "=" not in a) else f"network.hidden={a}"
            for prev, a in zip([""] + argv, argv)]
    try:
        _call(argv, capsys)
    except _Ran:
        assert seen and isinstance(seen[0], Scenario)


class _Ran(BaseException):  # not an Exception: run_cli lets it through
    pass


class _Stop:
    def __getattr__(self, name):
        raise _Ran


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_bridge_command_arguments(data, monkeypatch, capsys, tmp_path):
    pytest.importorskip("torch")
    from prunegcrn_bridge.compare import cli as compare
    from prunegcrn_bridge.compression import study

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(compare, "run_compare", lambda *a, **k: (_ for _ in ()).throw(_Ran()))
    monkeypatch.setattr(study, "run_study", lambda *a, **k: (_ for _ in ()).throw(_Ran()))
    monkeypatch.setattr(study, "run_single", lambda *a, **k: (_ for _ in ()).throw(_Ran()))
    which = data.draw(st.sampled_from(["compare", "compress", "compress-run"]))
    if which == "compress-run":
        argv = data.draw(_argv(["compress", "run", "--out", "c", "--data-root",
                                str(DATA), "--task",
                                data.draw(st.sampled_from(["cora-node", "bbbp"])), "--method",
                                data.draw(st.sampled_from(["dense", "global", "l2", "qat",
                                                           "a2q", "dq", "fine"]))],
                               ["--sparsity", "--lam", "--bits", "--seed", "--model",
                                "--cora-split", "--quick!", "--json!"]))
    elif which == "compare":
        argv = data.draw(_argv(["compare", "--out", "c"], [
            "--tasks", "--hidden", "--seeds", "--inputs", "--ks", "--methods", "--jobs",
            "--quick!"]))
    else:
        argv = data.draw(_argv(["compress", "study", "--out", "c", "--data-root",
                                str(DATA)],
                               ["--tasks", "--seeds", "--jobs", "--quick!"]))
    try:
        _call(argv, capsys)
    except _Ran:
        pass
    assert not (tmp_path / "c").exists()


def test_every_error_type_of_the_project_is_an_argnn_error():
    from prunegcrn_bridge.errors import BridgeConfigError, DataError

    for t in (ConfigError, OutputError, ResourceError, BridgeConfigError, DataError):
        assert issubclass(t, ArgnnError)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_sweep_arguments(data, monkeypatch, capsys, tmp_path):
    from argnn_sim import sweep

    monkeypatch.chdir(tmp_path)
    (tmp_path / "g.toml").write_text(GRID % 2)
    monkeypatch.setattr(sweep, "run_sweep", lambda *a, **k: (_ for _ in ()).throw(_Ran()))
    argv = data.draw(_argv(["sweep", "g.toml", "--out", "s"], [
        "--jobs", "--batch-size", "--engine", "--resume!", "--retry-failed!", "--no-progress!",
        "--no-plots!"]))
    try:
        _call(argv, capsys)
    except _Ran:
        pass
    assert _files(tmp_path) == ["g.toml"]


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_traffic_arguments(data, monkeypatch, capsys, tmp_path):
    pytest.importorskip("torch")
    from prunegcrn_bridge.traffic import experiment, train

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(train, "train", lambda *a, **k: (_ for _ in ()).throw(_Ran()))
    monkeypatch.setattr(experiment, "compare", lambda *a, **k: (_ for _ in ()).throw(_Ran()))
    monkeypatch.setattr(experiment, "gamma_study",
                        lambda *a, **k: (_ for _ in ()).throw(_Ran()))
    which = data.draw(st.sampled_from(["train", "compare", "gammas"]))
    opts = ["--epochs", "--patience", "--hidden", "--embed-dim", "--batch-size", "--device",
            "--seed", "--scaler", "--silence-senders!", "--mask-init", "--mask-lr",
            "--threshold", "--mask-optimizer", "--soft-loss"]
    opts += {"train": ["--keep-fraction", "--gamma"],
             "compare": ["--fractions", "--seeds", "--quick!", "--methods"],
             "gammas": ["--gammas", "--seeds", "--random-seeds"]}[which]
    argv = data.draw(_argv(["traffic", which, "--data", "synthetic", "--out", "t"], opts))
    try:
        _call(argv, capsys)
    except _Ran:
        pass
    assert not (tmp_path / "t").exists() or _files(tmp_path / "t") == [MARKER]


def test_a_folder_made_for_a_command_that_stops_on_bad_input_is_removed(tmp_path, capsys):
    from argnn_sim.outputs import claim_output

    def stops_early():
        claim_output(tmp_path / "new" / "sweep", "sweep")
        (tmp_path / "new" / "sweep" / "grid.json").write_text("{}")
        raise ConfigError("found later: x = 1 is out of range")

    def stops_after_a_result():
        claim_output(tmp_path / "kept", "sweep")
        (tmp_path / "kept" / "runs").mkdir()
        (tmp_path / "kept" / "runs" / "a.json").write_text("{}")
        raise ConfigError("found later")

    (tmp_path / "mine").mkdir()

    def stops_in_a_users_empty_folder():
        claim_output(tmp_path / "mine", "sweep")  # existed before: never removed
        raise ConfigError("found later")

    for fn in (stops_early, stops_after_a_result, stops_in_a_users_empty_folder):
        assert run_cli(fn) == 2
    assert _files(tmp_path) == ["kept", "kept/.argnn.json", "kept/runs", "kept/runs/a.json",
                                "mine", "mine/.argnn.json"]


def test_an_unwritable_place_is_refused_before_the_run(tmp_path, monkeypatch, capsys):
    import argnn_sim.outputs as O

    monkeypatch.setattr(O.os, "access", lambda *a, **k: False)
    assert main(["run", *FAST, "--out", str(tmp_path / "x" / "run")]) == 2
    _one_line_2(capsys, "is not writable")
    assert _files(tmp_path) == []


def test_plot_draws_only_into_argnn_folders_and_a_damaged_one_is_one_line(tmp_path, capsys):
    user = tmp_path / "user"
    user.mkdir()
    (user / "grid.json").write_text('{"axes": 1}')  # a user's own grid.json
    assert main(["plot", str(user)]) == 2
    _one_line_2(capsys, "not a results folder argnn wrote")
    assert _files(user) == ["grid.json"]
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / MARKER).write_text('{"kind": "sweep"}')
    (bad / "grid.json").write_text('{"x": 1}')
    (bad / "summary.csv").write_text("a,b\n")
    assert main(["plot", str(bad)]) == 2
    _one_line_2(capsys, "is damaged")
    run = tmp_path / "run"
    assert main(["run", *FAST, "--out", str(run)]) == 0
    (run / "summary.json").write_text("{not json")
    capsys.readouterr()
    assert main(["plot", str(run)]) == 2
    _one_line_2(capsys, "is damaged (not JSON")


SCRIPTS = sorted(p.name for p in (ROOT / "scenarios").glob("*.py"))


@pytest.mark.parametrize("script", [
    pytest.param(s, marks=needs_data("cora", "proteins", "bbbp")) if s == "gnn_compression.py"
    else s for s in SCRIPTS])
def test_every_scenario_script_refuses_a_users_folder_and_bad_options(script, tmp_path):
    if script in ("centralized_vs_decentralized.py", "gnn_compression.py",
                  "prunegcrn_selection.py"):
        pytest.importorskip("torch")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("k")
    env = {**os.environ, "ARGNN_DATA": str(DATA),
           "MPLBACKEND": "Agg"}
    for extra, words in ((["--out", str(mine)], "did not write (keep.txt)"),
                         (["--out", str(tmp_path / "new"), "--jobs", "0"], "--jobs")):
        p = subprocess.run([sys.executable, str(ROOT / "scenarios" / script), "--quick",
                            *extra], capture_output=True, text=True, cwd=tmp_path, env=env,
                           timeout=300)
        assert p.returncode == 2, (script, extra, p.stderr[-2000:])
        assert p.stderr.count("\n") == 1 and words in p.stderr, (script, p.stderr)
        assert "Traceback" not in p.stderr and "worker" in p.stderr or "keep.txt" in p.stderr
    assert _files(tmp_path) == ["mine", "mine/keep.txt"]


@pytest.mark.parametrize("argv, words", [
    (["traffic", "train", "--data", "synthetic", "--epochs", "0", "--out", "t"], "epochs = 0"),
    (["traffic", "train", "--data", "synthetic", "--seed", "-1", "--out", "t"], "--seed -1"),
    (["traffic", "train", "--data", "nope.npz", "--out", "t"], "not found"),
    (["traffic", "train", "--data", "synthetic", "--mask-init", "0.2", "--out", "t"],
     "mask_init = 0.2"),
    (["traffic", "compare", "--data", "synthetic", "--methods", "lasso", "--out", "t"],
     "--methods 'lasso'"),
    (["traffic", "gammas", "--data", "synthetic", "--gammas", "1.5", "--out", "t"],
     "--gammas 1.5"),
    (["compare", "--seeds", "0", "--out", "t"], "seeds = 0"),
    (["compare", "--tasks", "FOO", "--out", "t"], "unknown task"),
    (["compare", "--hidden", "-1", "--out", "t"], "hidden = [-1]"),
    pytest.param(["compress", "study", "--seeds", "0", "--out", "t"], "--seeds 0",
                 marks=needs_data("cora", "proteins", "bbbp")),
    pytest.param(["compress", "study", "--jobs", "0", "--out", "t"], "--jobs 0",
                 marks=needs_data("cora", "proteins", "bbbp")),
])
def test_bridge_commands_refuse_the_issues_examples(argv, words, tmp_path, monkeypatch,
                                                     capsys):
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ARGNN_DATA", str(DATA))
    assert main(argv) == 2
    _one_line_2(capsys, words)
    assert _files(tmp_path) == []


def test_compare_refuses_another_comparisons_folder(tmp_path, capsys):
    pytest.importorskip("torch")
    from prunegcrn_bridge.compare import quick_config, run_compare

    (tmp_path / "c").mkdir()
    (tmp_path / "c" / MARKER).write_text('{"kind": "compare"}')
    (tmp_path / "c" / "config.json").write_text('{"seeds": 99}')
    assert main(["compare", "--quick", "--out", str(tmp_path / "c")]) == 2
    _one_line_2(capsys, "holds a comparison with other settings")
    assert _files(tmp_path / "c") == [MARKER, "config.json"]
    assert callable(run_compare) and quick_config().seeds == 2
