"""The planted-driver road study: its quick mode end to end, resume, and bad input."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DATA, needs_data

pytest.importorskip("torch")
pytestmark = needs_data("sz_taxi")
SCRIPT = Path(__file__).resolve().parents[1] / "scenarios" / "planted_road_study.py"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.json"))
            if p.parent.name == "runs" or p.parent.name == "truth"}


def test_quick_study_end_to_end_and_resume(tmp_path: Path) -> None:
    from argnn_sim.store import unit_value
    from prunegcrn_bridge.road.planted import quick_study_config, run_planted_study

    cfg = quick_study_config(data_root=str(DATA))
    out = tmp_path / "study"
    pooled = run_planted_study(cfg, out)
    assert sorted(pooled) == [1, 4]
    for h, rows in pooled.items():
        assert {r["definition"] for r in rows if "definition" in r} == {"all"}
        truth = {p: unit_value(json.loads((out / "truth" / f"p{p}.json").read_text()))
                 for p in (0, 1)}
        by = {(r["method"], r["fraction"], r["seed"]): r for r in rows}
        for p in (0, 1):
            drivers = by[("drivers", None, p)]
            # the drivers imposed keep exactly the true drivers
            assert sorted(drivers["sensors_used"]) == truth[p]["drivers"]
            assert drivers["driver_recall"] == 1.0 and drivers["driver_precision"] == 1.0
            rnd = by[("random", 0.2, p)]
            assert rnd["sensors_kept"] == round(0.2 * 156)
            assert 0 <= rnd["driver_recall"] <= 1
            assert by[("prunegcrn", 0.2, p)]["sensors_kept"] == round(0.2 * 156)
            for m in ("spectral-DW", "magnitude@spectral-DW"):
                r = by[(m, None, p)]
                if r["edges_removed"]:
                    assert 0 <= r["removed_nonparent_share"] <= 1
                    assert 0 <= r["parent_kept_share"] <= 1
            assert by[("agcrn", 0.2, p)]["mae"] > 0  # AGCRN's own forecast, same targets
            assert by[("input-window-mean", 1.0, 0)]["mae"] > 0
        assert (out / f"h{h}" / "summary.md").is_file()
        with open(out / f"h{h}" / "paired.csv", encoding="utf-8") as fh:
            pairs = list(csv.DictReader(fh))
        assert {("drivers", "unpruned")} <= {(q["method"], q["reference"]) for q in pairs}
        assert all(q["pairs"] == "2" for q in pairs)
    text = (out / "study.md").read_text()
    assert "## Horizon 1 (15 minutes)" in text and "## Horizon 4 (60 minutes)" in text
    assert "driver recall" in text
    for name in ("recall_vs_kept.png", "road_map.png"):
        assert (out / name).stat().st_size > 10_000
    # the two horizons train separately: the same method differs in its forecasts
    assert pooled[1][0]["mae"] != pooled[4][0]["mae"] or pooled[1][1]["mae"] != \
        pooled[4][1]["mae"]
    # run again: everything is there, nothing is run again and no unit changes
    before = _files(out)
    again = run_planted_study(cfg, out)
    assert _files(out) == before
    assert [r["mae"] for r in again[4]] == [r["mae"] for r in pooled[4]]
    # argnn plot redraws the study from its folder
    (out / "recall_vs_kept.png").unlink()
    p = subprocess.run([sys.executable, "-m", "argnn_sim", "plot", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "recall_vs_kept.png" in p.stdout, p.stderr
    assert (out / "recall_vs_kept.png").is_file()
    # other settings in the same folder are refused
    from prunegcrn_bridge.errors import BridgeConfigError

    with pytest.raises(BridgeConfigError, match="other settings"):
        run_planted_study(quick_study_config(data_root=str(DATA), noise=0.3), out)


@pytest.mark.parametrize("argv, words", [
    (["--share", "0"], "share"),
    (["--share", "1"], "share"),
    (["--lags=-1-4"], "lags"),
    (["--lags", "3-1"], "lags"),
    (["--hops", "-1"], "hops"),
    (["--missing", "1"], "missing"),
    (["--missing", "-0.1"], "missing"),
    (["--base", "nowhere.csv"], "unknown base graph"),
    (["--horizons", "0,4"], "horizons"),
])
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path: Path, argv: list[str],
                                                      words: str) -> None:
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--data-root", str(DATA),
                        "--out", str(out), *argv], capture_output=True, text=True)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], p.stderr
    assert "Traceback" not in p.stderr
    assert not out.exists()


def test_unknown_base_graph_in_a_data_spec_is_one_line(tmp_path: Path) -> None:
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "argnn_sim", "traffic", "compare", "--data",
                        "planted:nowhere", "--quick", "--out", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "unknown base graph" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and not out.exists()
