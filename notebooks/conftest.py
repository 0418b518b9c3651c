"""The notebooks that read a real data set are skipped, with the command that fetches it,
when it is absent (the tests' own rule, tests/conftest.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from argnn_sim.datasets import DATASETS, data_root

SHARED = Path(os.environ.get("ARGNN_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DATA = Path(os.environ["ARGNN_DATA"]) if os.environ.get("ARGNN_DATA") else (
    SHARED / "data" if (SHARED / "data").is_dir() else data_root())
#: the data sets each notebook reads
NEEDS = {"03_gnn_compression.ipynb": ("cora", "proteins", "bbbp")}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = NEEDS.get(Path(str(item.fspath)).name, ())
        missing = [n for n in names
                   if not all((DATA / f.path).is_file() for f in DATASETS[n].files)]
        if missing:
            item.add_marker(pytest.mark.skip(reason=(
                f"data set(s) {', '.join(missing)} not in {DATA}: "
                + "; ".join(f"argnn data get {n} --root {DATA}" for n in missing))))
