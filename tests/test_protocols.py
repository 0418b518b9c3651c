"""The doors of the house: a task kind and an engine defined here, in a test file, run
through the project's own entry points with no edit to argnn_sim (docs/architecture.md
gives the recipes these tests follow)."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from argnn_sim import engines as E
from argnn_sim.cli import main
from argnn_sim.config import ConfigError, Scenario, TaskConfig, to_toml
from argnn_sim.engines import Engine, register_engine, run_many, simulate, unregister_engine
from argnn_sim.registry import TASK_KINDS
from argnn_sim.sweep import Grid, load_records, run_sweep
from argnn_sim.tasks import TableKind, Task, register_task_kind

ROOT = Path(__file__).resolve().parents[1]


class MajorityKind(TableKind):
    """The majority of an odd number of bits: a table task the project does not ship."""

    name = "majority"
    keys = ("bits",)

    def check_config(self, cfg: TaskConfig) -> None:
        if cfg.bits % 2 == 0:
            raise ConfigError(f"task.bits = {cfg.bits}: a majority needs an odd number of bits")

    def table(self, cfg: TaskConfig) -> Task:
        rows = tuple(xs + (int(sum(xs) > cfg.bits // 2),)
                     for xs in itertools.product((0, 1), repeat=cfg.bits))
        return Task(f"MAJORITY{cfg.bits}", cfg.bits, rows)

    def title(self, sc: Scenario) -> str:
        return f"majority of {sc.task.bits}"


@pytest.fixture
def majority():
    kind = register_task_kind(MajorityKind())
    yield kind
    TASK_KINDS.remove("majority")


def _scenario(traces: str = "prunes", **schedule) -> Scenario:
    return Scenario.from_dict({"name": "maj", "task": {"kind": "majority", "bits": 3},
                               "network": {"hidden": 2}, "record": {"traces": traces},
                               "schedule": {"inputs": 30, **schedule}})


def test_a_task_kind_from_a_test_file_runs_through_simulate_sweep_and_plot(majority, tmp_path):
    # its keys are checked by its own rule, others' keys are refused
    with pytest.raises(ConfigError, match="odd number of bits"):
        Scenario.from_dict({"task": {"kind": "majority", "bits": 4}})
    with pytest.raises(ConfigError, match="task.horizon applies to task.kind = 'series'"):
        Scenario.from_dict({"task": {"kind": "majority", "bits": 3, "horizon": 2}})
    sc = _scenario()
    # simulate: every engine that runs tables runs it, and they agree
    r = simulate(sc, 0)
    assert r.engine == "simpy" and len(r.per_row_errors) == 8 and sorted(r.eval_rows) == list(range(8))
    assert simulate(sc, 0, engine="batch").per_row_errors == r.per_row_errors
    a = simulate(_scenario(kind="async"), 1)
    if E.engine_reason("compiled", a.scenario) is None:
        assert a.engine == "compiled"
        assert simulate(a.scenario, 1, engine="simpy").per_row_errors == a.per_row_errors
    # argnn sweep (from Python): the cells, on the batched engine where runs share a shape
    grid = Grid(base=sc, name="maj", seeds=[0, 1],
                axes={"h": [(1, {"network.hidden": 1}), (3, {"network.hidden": 3})]})
    res = run_sweep(grid, tmp_path / "sweep")
    assert res.failed == 0 and len(res.cells) == 2
    assert {r["summary"]["engine"] for r in load_records(tmp_path / "sweep").values()} == {"batch"}
    # argnn run and argnn plot: the run's figures, titled by the kind
    (tmp_path / "maj.toml").write_text(to_toml(_scenario(traces="full")))
    assert main(["run", str(tmp_path / "maj.toml"), "--out", str(tmp_path / "run"),
                 "--no-plots"]) == 0
    assert main(["plot", str(tmp_path / "run")]) == 0
    assert {"eigenvalues.png", "graph.png", "curves.png"} <= {
        p.name for p in (tmp_path / "run").iterdir()}
    assert main(["plot", str(tmp_path / "sweep")]) == 0
    assert (tmp_path / "sweep" / "sweep.png").is_file()


def test_no_module_outside_the_task_kinds_branches_on_a_task_kind():
    """``sc.task.kind == "..."`` (or ``!=``, ``in``) appears only in the task kinds' modules."""
    allowed = {"tasks.py", "series_kind.py"}
    found = []
    for pkg in ("argnn_sim", "prunegcrn_bridge"):
        for p in (ROOT / pkg).rglob("*.py"):
            if p.name in allowed:
                continue
            for node in ast.walk(ast.parse(p.read_text())):
                if isinstance(node, ast.Compare):
                    text = ast.unparse(node)
                    if "task.kind" in text and any(isinstance(c, ast.Constant) and
                                                   isinstance(c.value, str)
                                                   for c in [node.left, *node.comparators]):
                        found.append(f"{p.relative_to(ROOT)}:{node.lineno}: {text}")
    assert found == []


def _echo_run(scenarios, seeds, **options):
    results = run_many("simpy", scenarios, seeds)
    for r in results:
        r.engine = "echo"
    return results


@pytest.fixture
def echo():
    def reason(sc: Scenario) -> str | None:
        return None if sc.schedule.kind == "sweep" else "the echo engine runs the sweep schedule"

    eng = register_engine(Engine("echo", reason, _echo_run, preference=lambda sc, alone: 9.0))
    yield eng
    unregister_engine("echo")


def test_an_engine_from_a_test_file_is_chosen_when_it_prefers_itself_else_refused(echo):
    sweep = Scenario.from_dict({"schedule": {"inputs": 10}})
    asy = Scenario.from_dict({"schedule": {"inputs": 10, "kind": "async"}})
    assert "echo" in E.ENGINE_CHOICES
    # auto takes it where it can run and prefers itself most; its result is the SimPy one
    r = simulate(sweep, 0)
    assert r.engine == "echo" and r.engine_note == ""
    assert r.per_row_errors == simulate(sweep, 0, engine="simpy").per_row_errors
    assert E.plan([sweep, sweep]) == [("echo", [0]), ("echo", [1])]
    # where it cannot run, auto passes it by, and asked by name it is refused with its reason
    assert simulate(asy, 0).engine != "echo"
    with pytest.raises(ConfigError, match="engine 'echo' cannot run scenario 'default': "
                                          "the echo engine runs the sweep schedule"):
        simulate(asy, 0, engine="echo")
    # an option it does not take rules it out
    assert E.choose_engine(sweep, options=("after_training",)) == "simpy"


def test_a_low_preference_engine_is_not_chosen_by_auto():
    eng = register_engine(Engine("slow", lambda sc: None, _echo_run,
                                 preference=lambda sc, alone: -1.0))
    try:
        assert simulate(Scenario.from_dict({"schedule": {"inputs": 5}}), 0).engine == "simpy"
        assert simulate(Scenario.from_dict({"schedule": {"inputs": 5}}), 0,
                        engine="slow").engine == "echo"
    finally:
        unregister_engine(eng.name)
    assert "slow" not in E.ENGINE_CHOICES
