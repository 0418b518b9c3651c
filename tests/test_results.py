import numpy as np
import pytest

from argnn_sim import load, save, simulate
from argnn_sim.plots import eigenvalue_traces, graph_before_after


def test_save_load_roundtrip(tmp_path, tiny_circuit):
    r = simulate(tiny_circuit, seed=2)
    save(r, tmp_path / "run")
    back = load(tmp_path / "run")
    assert back.scenario == r.scenario
    assert back.error == r.error and back.per_row_errors == r.per_row_errors
    assert [e["edge"] for e in back.prune_events] == [e["edge"] for e in r.prune_events]
    for k in r.traces:
        np.testing.assert_array_equal(back.traces[k], r.traces[k])
    np.testing.assert_array_equal(back.final_matrix(), r.final_matrix())
    assert back.edges_after == r.edges_after


def test_save_replaces_its_own_folder_only_when_asked_and_never_a_users_file(tmp_path,
                                                                            tiny_circuit):
    import pytest

    from argnn_sim.errors import OutputError

    r = simulate(tiny_circuit, seed=2)
    save(r, tmp_path / "run")
    r3 = simulate(tiny_circuit, seed=3)
    with pytest.raises(OutputError, match="already holds a run"):
        save(r3, tmp_path / "run")
    save(r3, tmp_path / "run", overwrite=True)
    assert load(tmp_path / "run").seed == 3
    (tmp_path / "run" / "stale.txt").write_text("x")
    with pytest.raises(OutputError, match="stale.txt"):
        save(r, tmp_path / "run", overwrite=True)
    assert (tmp_path / "run" / "stale.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_load_missing_folder(tmp_path):
    import pytest

    with pytest.raises(FileNotFoundError, match="no run folder"):
        load(tmp_path / "nothing")


def test_traces_are_columnar_and_consistent(tiny_circuit):
    r = simulate(tiny_circuit, seed=0)
    t = r.traces
    n_checks = t["check_node"].size
    assert n_checks == r.counters["checks"] == 30 * 10 * 3
    assert t["check_start"][-1] == t["entry_real"].size == t["entry_member"].size
    # logic circuit: every star is the whole circuit, positions are node numbers
    assert np.all(np.diff(t["check_start"]) == 5)
    assert np.array_equal(t["entry_member"][:5], np.arange(5))


def test_figures(tmp_path, tiny_circuit):
    r = simulate(tiny_circuit, seed=0)
    eigenvalue_traces(r, tmp_path / "e.png")
    graph_before_after(r, tmp_path / "g.png")
    assert (tmp_path / "e.png").stat().st_size > 10_000
    assert (tmp_path / "g.png").stat().st_size > 10_000


def test_load_table_reads_every_kind_of_results_folder(tmp_path):
    pytest.importorskip("pandas")
    import json

    from argnn_sim import Scenario, simulate
    from argnn_sim.results import load_table, save
    from argnn_sim.sweep import Grid, run_sweep

    r = simulate(Scenario.from_dict({"schedule": {"inputs": 10}}), 3)
    save(r, tmp_path / "run")
    t = load_table(tmp_path / "run")
    assert list(t["row"]) == r.eval_rows and list(t["error"]) == r.per_row_errors
    assert set(t["seed"]) == {3} and t["mean_error"].iloc[0] == r.error
    grid = Grid.from_dict({"seeds": 2, "base": {"schedule": {"inputs": 5}},
                           "axes": {"network.hidden": [1, 2]}})
    run_sweep(grid, tmp_path / "sweep")
    t = load_table(tmp_path / "sweep")
    assert len(t) == 4 and sorted(t["network.hidden"]) == [1, 1, 2, 2]
    # a study's units (each a list of rows), a road comparison's rows, the planted study
    (tmp_path / "study" / "units").mkdir(parents=True)
    for i in range(2):
        (tmp_path / "study" / "units" / f"u{i}.json").write_text(
            json.dumps([{"unit": i, "k": k} for k in range(3)]))
    assert len(load_table(tmp_path / "study")) == 6
    for h, p in ((1, 0), (1, 1), (4, 0)):
        d = tmp_path / "planted" / f"h{h}" / f"p{p}"
        d.mkdir(parents=True)
        (d / "rows.json").write_text(json.dumps([{"method": "a", "mae": h + p}]))
    (tmp_path / "planted" / "study.json").write_text("{}")
    t = load_table(tmp_path / "planted")
    assert sorted(zip(t["horizon"], t["p"], t["mae"])) == [(1, 0, 1), (1, 1, 2), (4, 0, 4)]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no results table"):
        load_table(tmp_path / "empty")
