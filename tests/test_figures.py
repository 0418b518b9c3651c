"""The figures say what they show: titles naming the run or sweep, the edge curve from its
starting count, legends for colours and widths, integer ticks for integer axes, error bars
within what the quantity can take."""

from __future__ import annotations

import numpy as np

from argnn_sim import Scenario, simulate
from argnn_sim.figures import _clipped, draw_sweep, sweep_figure
from argnn_sim.plots import graph_before_after, plt, training_curves
from argnn_sim.sweep import Grid, run_sweep


def _run():
    return simulate(Scenario.from_dict({"name": "fig-test", "schedule": {"inputs": 200}}), 0)


def test_curves_start_at_the_initial_edge_count_and_name_the_run():
    r = _run()
    fig = training_curves(r)
    ax, ax2 = fig.axes
    x, y = ax2.get_lines()[0].get_data()
    assert (x[0], y[0]) == (0, r.edges_before) and y[-1] == r.edges_after
    assert "'fig-test'" in fig._suptitle.get_text() and "seed 0" in fig._suptitle.get_text()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(f"{r.edges_before} -> {r.edges_after}" in t for t in labels)
    ticks = ax2.get_yticks()
    assert np.all(ticks == np.round(ticks)) and ax2.get_ylim()[1] > r.edges_before
    plt.close(fig)


def test_graph_has_a_legend_for_colours_widths_and_removed_edges():
    fig = graph_before_after(_run())
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"input node", "hidden node", "output node", "removed edge"} <= set(texts)
    assert any("width" in t for t in texts)
    plt.close(fig)


def test_error_bars_never_leave_what_the_quantity_can_take():
    bars = _clipped([0.02, 0.5, 99.0], [0.1, 0.1, 5.0], (0.0, 100.0))
    assert np.allclose(bars, [[0.02, 0.1, 5.0], [0.1, 0.1, 1.0]])


def test_sweep_figure_has_integer_ticks_for_h(tmp_path):
    g = Grid.from_dict({"seeds": 2, "base": {"schedule": {"inputs": 30}},
                        "axes": {"network.hidden": [1, 2, 3]}})
    run_sweep(g, tmp_path / "s")
    path = sweep_figure(tmp_path / "s")
    assert path.stat().st_size > 0
    fig = draw_sweep(tmp_path / "s")
    for ax in fig.axes:
        lo, hi = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
        assert ticks and all(float(t).is_integer() for t in ticks)
        assert ax.get_ylim()[0] == 0.0
    assert "'sweep'" in fig._suptitle.get_text() and "2 seed(s)" in fig._suptitle.get_text()
    plt.close(fig)


def test_sweep_figure_puts_the_axis_that_varies_on_x(tmp_path):
    """An axis with one value (h = 2 below) is named in the title, not drawn as the x axis
    with every cell stacked on it."""
    g = Grid.from_dict({"seeds": 1, "base": {"schedule": {"inputs": 20}},
                        "axes": {"channel.delay": [0.0], "schedule.sweeps": [1, 2, 3],
                                 "network.hidden": [2]}})
    run_sweep(g, tmp_path / "s")
    fig = draw_sweep(tmp_path / "s")
    assert "sweeps" in fig.axes[0].get_xlabel().lower()
    assert len(fig.axes[0].containers) == 1  # one line: no other axis varies
    title = fig._suptitle.get_text()
    assert "network.hidden = 2" in title and "channel.delay = 0" in title
    plt.close(fig)
