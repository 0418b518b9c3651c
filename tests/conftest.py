import json
import os
from pathlib import Path

# `make test` runs one test process per core (pytest-xdist). Each keeps torch's OpenMP pool
# (and what the tests start) to one thread unless told otherwise: two processes with a thread
# per core each oversubscribe the cores, and OpenMP threads that spin at a barrier while a
# core runs the other process make a torch model train many times slower (measured: a
# 4-second training took 4 minutes beside one busy process on 2 cores).
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest
from hypothesis import settings

from argnn_sim import Scenario
from argnn_sim.config import ScheduleConfig

# Property-based tests draw the same examples on every run ("ci": the suite never fails by
# chance); HYPOTHESIS_PROFILE=explore draws new ones each time, to look for new failures.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SHARED = Path(os.environ.get("ARGNN_SHARED", Path(__file__).resolve().parents[2] / "shared"))
#: the reference implementation's golden runs and published rows (in the repository)
REFERENCE = Path(__file__).resolve().parents[1] / "reference"
GOLDEN = REFERENCE / "golden_runs.json"
def _data_root() -> Path:
    """$ARGNN_DATA, else the shared folder beside the checkout, else where ``argnn data get``
    puts the data sets by default (the user cache)."""
    if os.environ.get("ARGNN_DATA"):
        return Path(os.environ["ARGNN_DATA"])
    if (SHARED / "data").is_dir():
        return SHARED / "data"
    from argnn_sim.datasets import data_root

    return data_root()


#: the real data sets; the one setting tests read them through (never downloaded)
DATA = _data_root()


def needs_data(*names: str) -> pytest.MarkDecorator:
    """Skip a test, with one line naming the command that fetches them, when the data sets
    ``names`` (of :data:`argnn_sim.datasets.DATASETS`) are not all in :data:`DATA`."""
    from argnn_sim.datasets import DATASETS

    missing = [n for n in names if not all((DATA / f.path).is_file()
                                           for f in DATASETS[n].files)]
    return pytest.mark.skipif(bool(missing), reason=(
        f"data set(s) {', '.join(missing)} not in {DATA}: "
        + "; ".join(f"argnn data get {n} --root {DATA}" for n in missing)))


@pytest.fixture(scope="session")
def data_cache(tmp_path_factory):
    """A processed-data cache shared by the tests of one session (never the raw folder)."""
    return tmp_path_factory.mktemp("argnn-cache")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def tiny_circuit():
    """XOR on the reference circuit with h = 2, short training."""
    return Scenario(schedule=ScheduleConfig(inputs=30))


def golden_runs():
    if not GOLDEN.is_file():  # test_golden_file_present reports it
        return []
    return json.loads(GOLDEN.read_text())["runs"]
