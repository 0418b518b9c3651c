"""argnn_sim.metrics: one metric function, two named definitions, no mixed tables."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from argnn_sim.errors import ArgnnError
from argnn_sim.metrics import (
    MixedDefinitions,
    check_definition,
    definition_of,
    forecast_metrics,
    one_definition,
)


def test_all_counts_every_entry_and_masked_only_non_zero_targets() -> None:
    y = np.array([[0.0, 10.0], [20.0, 0.0]])
    p = np.array([[3.0, 12.0], [17.0, 1.0]])
    a = forecast_metrics(p, y)
    assert (a["definition"], a["count"]) == ("all", 4)
    assert a["mae"] == pytest.approx((3 + 2 + 3 + 1) / 4)
    assert a["rmse"] == pytest.approx(np.sqrt((9 + 4 + 9 + 1) / 4))
    m = forecast_metrics(p, y, definition="masked")
    assert (m["definition"], m["count"]) == ("masked", 2)
    assert m["mae"] == pytest.approx(2.5) and m["rmse"] == pytest.approx(np.sqrt(6.5))
    # MAPE never divides by a zero target, under either definition
    assert a["mape"] == m["mape"] == pytest.approx((0.2 + 0.15) / 2)


def test_mape_keeps_its_threshold() -> None:
    y = np.array([0.5, 2.0, 4.0])
    p = np.array([1.5, 3.0, 2.0])
    m = forecast_metrics(p, y, mape_threshold=1.0)
    assert m["mape_threshold"] == 1.0 and m["mape_count"] == 2
    assert m["mape"] == pytest.approx((0.5 + 0.5) / 2)
    assert m["mae"] == pytest.approx(4 / 3)  # the threshold touches MAPE only


def test_tgcn_accuracy_r2_and_explained_variance() -> None:
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 50, (30, 5))
    p = y + rng.normal(0, 3, y.shape)
    m = forecast_metrics(p, y)
    assert m["accuracy"] == pytest.approx(1 - np.linalg.norm(y - p) / np.linalg.norm(y))
    assert m["r2"] == pytest.approx(1 - ((y - p) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    assert m["var"] == pytest.approx(1 - np.var(y - p) / np.var(y))


@given(arrays(np.float64, st.integers(1, 40), elements=st.floats(-1e3, 1e3)),
       st.floats(-5, 5))
def test_masked_equals_all_on_the_non_zero_entries(y: np.ndarray, shift: float) -> None:
    p = y + shift
    nz = y != 0
    m = forecast_metrics(p, y, definition="masked")
    a = forecast_metrics(p[nz], y[nz])
    assert m["count"] == a["count"] == int(nz.sum())
    for k in ("mae", "rmse", "mape", "accuracy", "r2", "var"):
        assert (np.isnan(m[k]) and np.isnan(a[k])) or m[k] == a[k], k


def test_a_definition_must_be_known_and_a_table_never_mixes_them() -> None:
    assert check_definition("masked") == "masked"
    with pytest.raises(ArgnnError, match="choose all or masked"):
        check_definition("nonzero")
    with pytest.raises(ArgnnError, match="choose all or masked"):
        forecast_metrics([1.0], [1.0], definition="mask")
    rows = [{"metrics": {"definition": "all"}}, {"definition": "all"}]
    assert one_definition(rows) == "all" and one_definition([]) is None
    with pytest.raises(MixedDefinitions, match="mix metric definitions"):
        one_definition(rows + [{"definition": "masked"}])
    # a record written before definitions were recorded counts as the legacy one
    assert definition_of({"metrics": {"mae": 1.0}}) == "masked"
    with pytest.raises(MixedDefinitions):
        one_definition(rows + [{"metrics": {"mae": 1.0}}])


def test_shapes_must_match_and_nothing_scored_is_nan() -> None:
    with pytest.raises(ValueError, match="differ in shape"):
        forecast_metrics(np.zeros(3), np.zeros(4))
    m = forecast_metrics(np.ones(3), np.zeros(3), definition="masked")
    assert m["count"] == 0 and np.isnan(m["mae"]) and np.isnan(m["mape"])


def test_a_subnormal_target_gives_an_infinite_mape_and_no_warning() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = forecast_metrics(np.array([1.0 + 2.2e-311]), np.array([2.2e-311]))
    assert m["mape"] == math.inf and m["mae"] == 1.0
