"""Figures: eigenvalue traces (the paper's Fig. 2) and the graph before/after (Fig. 1).

All functions take a :class:`~argnn_sim.results.RunResult` first, draw with matplotlib's
non-interactive backend and, given ``path``, write a PNG and return the figure.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import matplotlib

# Headless by default (scripts, workers, CI); notebooks keep their inline backend.
if not os.environ.get("MPLBACKEND") and "ipykernel" not in sys.modules:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .config import task_kind  # noqa: E402
from .results import RunResult  # noqa: E402

__all__ = ["eigenvalue_traces", "graph_before_after", "training_curves", "save_figure",
           "panel_grid"]


def save_figure(fig: Any, path: str | os.PathLike[str] | None) -> Any:
    """Write ``fig`` as PNG (atomically: temporary name, then rename) and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : path-like or None
        Where to write it (``None``: only close it).

    Returns
    -------
    Figure
        ``fig``.
    """
    if path is not None:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_name(f".{p.name}.tmp-{os.getpid()}")
        try:
            fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
            os.replace(tmp, p)
        finally:
            tmp.unlink(missing_ok=True)
            plt.close(fig)
    return fig


def eigenvalue_traces(result: RunResult, path: str | os.PathLike[str] | None = None, *,
                      max_points: int = 4000) -> Any:
    """Real and imaginary parts of each node's local-Laplacian eigenvalues over its checks.

    One row per checking node: left the real parts, right the imaginary parts, one colour
    per star position (labelled by the node at that position, as the reference reads it);
    red dashed lines mark the checks at which that node's check removed an edge.

    Parameters
    ----------
    result : a run with trace level ``full``.
    path : where to write the PNG (``None``: do not write).
    max_points : at most this many checks drawn per node (evenly thinned).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from argnn_sim import Scenario, simulate
    >>> r = simulate(Scenario.from_dict({"network": {"hidden": 3}, "schedule": {"inputs": 30}}), 0)
    >>> len(eigenvalue_traces(r).axes) == 2 * 4  # 4 checking nodes, real and imaginary
    True
    """
    tr = result.traces
    if not tr or tr["check_node"].size == 0:
        fig, ax = plt.subplots(figsize=(6, 2))
        ax.text(0.5, 0.5, "no eigenvalue traces (pruning off, or record.traces != 'full')",
                ha="center", va="center")
        ax.set_axis_off()
        return save_figure(fig, path)
    nodes = np.unique(tr["check_node"])
    fig, axes = plt.subplots(len(nodes), 2, figsize=(11, 1.9 * len(nodes) + 0.8),
                             squeeze=False, sharex="row")
    start = tr["check_start"]
    cmap = plt.get_cmap("tab10")
    sweep = result.scenario.schedule.kind == "sweep"
    for row, node in enumerate(nodes.tolist()):
        idx = np.flatnonzero(tr["check_node"] == node)
        lengths = start[idx + 1] - start[idx]
        m = int(lengths.max())
        # Pad ragged stars (sizes change after prunes elsewhere) with NaN.
        re = np.full((idx.size, m), np.nan)
        im = np.full((idx.size, m), np.nan)
        members = np.full(m, -1)
        for j, (c, ln) in enumerate(zip(idx.tolist(), lengths.tolist())):
            s = int(start[c])
            re[j, :ln] = tr["entry_real"][s:s + ln]
            im[j, :ln] = tr["entry_imag"][s:s + ln]
            if ln == m:
                members = tr["entry_member"][s:s + ln]
        step = max(1, idx.size // max_points)
        x = np.arange(idx.size)[::step]
        for p in range(m):
            label = f"λ{p}: node {members[p]}" if members[p] >= 0 else f"λ{p}"
            axes[row, 0].plot(x, re[::step, p], lw=0.8, color=cmap(p % 10), label=label)
            axes[row, 1].plot(x, im[::step, p], lw=0.8, color=cmap(p % 10))
        _mark_prunes(axes[row], result, node, idx, sweep)
        axes[row, 0].set_ylabel(f"node {node}")
        axes[row, 0].legend(fontsize=6, loc="upper right", ncol=2, title_fontsize=6,
                            title=None if row else "eigenvalue k of the star: the member\nat "
                                                   "place k, which the reference pairs it with")
        for ax in axes[row]:
            ax.margins(x=0.03)
    axes[0, 0].set_title("Re λ")
    axes[0, 1].set_title("Im λ")
    axes[-1, 0].set_xlabel("check (activation) of the node")
    axes[-1, 1].set_xlabel("check (activation) of the node")
    sc = result.scenario
    fig.suptitle(f"Local-Laplacian eigenvalues — {_task_name(sc)}, mode {sc.pruning.mode}, "
                 f"rule {sc.pruning.rule}, seed {result.seed} (red: prune)", fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def _mark_prunes(axes: Any, result: RunResult, node: int, idx: np.ndarray, sweep: bool
                 ) -> None:
    """Red dashed lines on a node's row at the checks where it removed an edge."""
    tr = result.traces
    for ev in result.prune_events:
        if ev["node"] != node:
            continue
        if sweep:
            hit = np.flatnonzero((tr["check_input"][idx] == ev["input"]) &
                                 (tr["check_sweep"][idx] == ev["sweep"]))
        else:
            hit = np.flatnonzero(np.isclose(tr["check_time"][idx], ev["time"]))
        for h in hit[:1].tolist():
            for ax in axes:
                ax.axvline(h, color="red", ls="--", lw=1)
            axes[1].annotate(f"pruned {ev['edge'][0]}→{ev['edge'][1]}", (h, 0),
                             xytext=(4, 4), textcoords="offset points", color="red",
                             fontsize=8, bbox={"boxstyle": "round,pad=0.15", "fc": "white",
                                               "ec": "none", "alpha": 0.8})


def panel_grid(n: int, *, width: float = 4.6, height: float = 3.8, max_cols: int = 3,
               **subplots: Any) -> tuple[Any, list[Any]]:
    """A figure of ``n`` panels in a near-square grid (2 x 2 for four, at most ``max_cols``
    columns), readable at a page's width; panels left over are hidden.

    Parameters
    ----------
    n : int
        How many panels.
    width : float
        A panel's width in inches.
    height : float
        A panel's height in inches.
    max_cols : int
        The most columns.
    **subplots
        Passed to :func:`matplotlib.pyplot.subplots` (``sharey``, ...).

    Returns
    -------
    (Figure, list of Axes)
        The figure and its first ``n`` panels, row by row.

    Examples
    --------
    >>> fig, axes = panel_grid(4)
    >>> len(axes), fig.get_size_inches().tolist()
    (4, [9.2, 7.6])
    """
    cols = 2 if n == 4 else max(1, min(max_cols, n))
    rows = -(-n // cols)
    fig, grid = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False,
                             **subplots)
    flat = list(grid.flat)
    for ax in flat[n:]:
        ax.set_axis_off()
    return fig, flat[:n]


def _task_name(sc: Any) -> str:
    """The task as a title names it (its kind's :meth:`~argnn_sim.tasks.TaskKind.title`)."""
    return task_kind(sc.task.kind).title(sc)


def _roles(result: RunResult) -> list[str]:
    """Each node's role from the run's task kind: input, hidden or output."""
    return list(task_kind(result.scenario.task.kind).roles(result))


def _layout(result: RunResult, g: nx.DiGraph) -> dict[int, tuple[float, float]]:
    sc = result.scenario
    kind = task_kind(sc.task.kind)
    pos = kind.layout(result)
    if pos is not None:
        return pos
    if sc.network.kind == "logic":
        roles = kind.roles(result)
        n_in = roles.count("input")
        n = len(roles)
        pos = {}
        for i in range(n_in):
            pos[i] = (0.0, (i - (n_in - 1) / 2) * 1.2)
        h = sc.network.hidden
        for j in range(h):
            pos[n_in + j] = (1.0 + 0.15 * (j % 2), (j - (h - 1) / 2) * 1.2)
        pos[n - 1] = (2.2, 0.0)
        return pos
    return nx.spring_layout(g, seed=0)


def graph_before_after(result: RunResult, path: str | os.PathLike[str] | None = None) -> Any:
    """The initial graph and the final one, removed edges dashed red, width ∝ ``|weight|``.

    Parameters
    ----------
    result
        A run.
    path
        Where to write the PNG (``None``: do not write).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from argnn_sim import Scenario, simulate
    >>> r = simulate(Scenario.from_dict({"network": {"hidden": 3}, "schedule": {"inputs": 30}}), 0)
    >>> len(graph_before_after(r).axes) >= 2
    True
    """
    ie = result.initial_edges
    n = len(result.labels)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(ie["src"].tolist(), ie["dst"].tolist()))
    pos = _layout(result, g)
    kept = set(zip(result.final_edges["src"].tolist(), result.final_edges["dst"].tolist()))
    removed = [e for e in g.edges if e not in kept]
    w0 = dict(zip(zip(ie["src"].tolist(), ie["dst"].tolist()), ie["weight"].tolist()))
    w1 = dict(zip(zip(result.final_edges["src"].tolist(), result.final_edges["dst"].tolist()),
                  result.final_edges["weight"].tolist()))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    big = n > 60
    palette = {"input": "#8fd18f", "hidden": "#9ecae1", "output": "#fdae6b"}
    colors = [palette[r] for r in _roles(result)]
    for ax, title, edges, weights in (
        (axes[0], f"before: {result.edges_before} edges", list(g.edges), w0),
        (axes[1], f"after: {result.edges_after} edges ({len(removed)} removed, dashed)",
         [e for e in g.edges if e in kept], w1),
    ):
        widths = [0.4 + 1.2 * min(abs(weights.get(e, 0.0)), 5.0) / 5.0 for e in edges]
        if not big:
            nx.draw_networkx_nodes(g, pos, ax=ax, node_size=420, node_color=colors)
            nx.draw_networkx_labels(g, pos, ax=ax, font_size=9)
        else:
            nx.draw_networkx_nodes(g, pos, ax=ax, node_size=8, node_color=colors)
        nx.draw_networkx_edges(g, pos, edgelist=edges, ax=ax, width=widths,
                               connectionstyle="arc3,rad=0.12", arrowsize=10,
                               edge_color="#444444", node_size=420 if not big else 8)
        ax.set_title(title, fontsize=10)
        ax.set_axis_off()
    if removed:
        nx.draw_networkx_edges(g, pos, edgelist=removed, ax=axes[1], style="dashed",
                               edge_color="red", width=1.4, connectionstyle="arc3,rad=0.12",
                               arrowsize=12, node_size=420 if not big else 8)
    from matplotlib.lines import Line2D

    legend = [
        Line2D([], [], marker="o", ls="", color="#8fd18f", markersize=9, label="input node"),
        Line2D([], [], marker="o", ls="", color="#9ecae1", markersize=9, label="hidden node"),
        Line2D([], [], marker="o", ls="", color="#fdae6b", markersize=9, label="output node"),
        Line2D([], [], color="#444444", lw=0.4, label="edge, |w| ≈ 0"),
        Line2D([], [], color="#444444", lw=1.6, label="edge, |w| ≥ 5 (width ∝ |w|)"),
        Line2D([], [], color="red", ls="--", lw=1.4, label="removed edge"),
    ]
    if big:
        legend = legend[:3] + legend[5:]
    fig.legend(handles=legend, loc="lower center", ncol=len(legend), fontsize=8,
               frameon=False)
    fig.suptitle(f"Graph before and after pruning: {_run_title(result)}; "
                 f"error {result.error:.4f}", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return save_figure(fig, path)


def training_curves(result: RunResult, path: str | os.PathLike[str] | None = None, *,
                    window: int = 50) -> Any:
    """Training error (moving average over ``window`` inputs) and edge count over training.

    Parameters
    ----------
    result
        A run with curves (trace level ``prunes`` or ``full``).
    path
        Where to write the PNG (``None``: do not write).
    window
        Inputs averaged.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from argnn_sim import Scenario, simulate
    >>> r = simulate(Scenario.from_dict({"network": {"hidden": 3}, "schedule": {"inputs": 30}}), 0)
    >>> training_curves(r, window=10).axes[0].get_xlabel()
    'training inputs presented'
    """
    c = result.curves
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    fig.suptitle(f"Training of {_run_title(result)}", fontsize=10)
    if not c or c["input"].size == 0:
        ax.text(0.5, 0.5, "no curves recorded", ha="center", va="center")
        ax.set_axis_off()
        return save_figure(fig, path)
    sweep = result.scenario.schedule.kind == "sweep"
    err = c["train_error"]
    k = max(1, min(window, err.size))
    smooth = np.convolve(err, np.ones(k) / k, mode="valid")
    # x: training inputs presented so far (the curve is recorded after each input or period)
    done = c["input"] + 1
    h_err, = ax.plot(done[k - 1:], smooth, color="C0",
                     label=f"training error (moving mean of {k})")
    ax.set_xlabel("training inputs presented" if sweep else
                  "training inputs presented (one per input period)")
    ax.set_ylabel("|V_out − y|", color="C0")
    ax.set_ylim(bottom=0)
    ax.set_xlim(0, max(float(done[-1]), 1.0))
    ax2 = ax.twinx()
    xs = np.concatenate([[0], done])
    ys = np.concatenate([[result.edges_before], c["edges"]])
    h_edges, = ax2.step(xs, ys, where="post", color="C3",
                        label=f"edges ({result.edges_before} -> {result.edges_after})")
    handles: list[Any] = [h_err, h_edges]
    if result.prune_events:
        at = np.array([e["input"] + 1 if sweep else e["time"] /
                       result.scenario.schedule.input_period for e in result.prune_events])
        after = np.interp(at, xs, ys)
        h_pr = ax2.scatter(at, after, marker="v", color="C3", s=22, zorder=3,
                           label=f"prunes ({len(at)})")
        handles.append(h_pr)
    ax2.plot([0], [result.edges_before], marker="o", color="C3", ms=4)
    ax2.annotate(f"{result.edges_before} edges at the start", (0, result.edges_before),
                 xytext=(8, -16), textcoords="offset points", fontsize=8, color="C3",
                 zorder=4, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "C3",
                                 "lw": 0.5, "alpha": 0.9})
    ax2.set_ylabel("edges in the network", color="C3")
    ax2.set_ylim(0, result.edges_before * 1.08 + 1)
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(handles=handles, fontsize=8, loc="center right")
    fig.tight_layout()
    return save_figure(fig, path)


def _run_title(result: RunResult) -> str:
    """One line naming a run: scenario, task, network, rule, schedule, seed."""
    sc = result.scenario
    net = task_kind(sc.task.kind).network_text(result) or (
        f"h = {sc.network.hidden}" if sc.network.kind == "logic" else
        f"{sc.network.kind} network, {len(result.labels)} nodes")
    rule = (f"{sc.pruning.policy} {sc.pruning.mode}/{sc.pruning.rule}"
            if sc.pruning.policy == "spectral" else sc.pruning.policy)
    return (f"'{sc.name}': {_task_name(sc)}, {net}, pruning {rule}, {sc.schedule.kind} schedule, "
            f"seed {result.seed}")
