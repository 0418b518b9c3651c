"""Figures of results folders: sweeps and the scenario scripts' outputs, redrawn from CSV.

Every figure here is drawn from the tidy CSV files a folder holds, never from memory, so
``argnn plot DIR`` redraws any results folder:

* a run folder (``summary.json``): the run's figures (:mod:`argnn_sim.plots`);
* a sweep folder (``grid.json`` + ``summary.csv``): error and pruned edges per cell;
* a scenario folder (``manifest.json`` naming its ``kind``): that scenario's figures.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.ticker import MaxNLocator

from . import plots as P
from .errors import ArgnnError
from .outputs import load_json, output_kind
from .plots import plt

__all__ = ["read_csv", "redraw", "sweep_figure", "figure_drawer", "figure_kinds", "MANIFEST",
           "FolderFigures",
           "write_manifest"]

MANIFEST = "manifest.json"
MODE_COLORS = {"D": "tab:blue", "DW": "tab:orange", "none": "tab:gray"}


def read_csv(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Rows of a CSV file as dicts; numeric fields become floats (empty: NaN).

    Parameters
    ----------
    path : the file.

    Returns
    -------
    list of dict

    Raises
    ------
    FileNotFoundError
        Naming the file and how to make it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = p.write_text(chr(10).join(["h,error", "2,0.5", "3,"]))
    >>> read_csv(p)
    [{'h': 2.0, 'error': 0.5}, {'h': 3.0, 'error': nan}]
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{str(p)!r} is missing; re-run the scenario that writes it")
    with open(p, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [{k: _num(v) for k, v in r.items()} for r in rows]


def _num(v: str) -> Any:
    if v == "":
        return math.nan
    try:
        return float(v)
    except ValueError:
        return v


def _label(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _color(i: int) -> Any:
    return plt.get_cmap("tab10")(i % 10)


# ----------------------------------------------------------------------------- sweeps
def sweep_figure(folder: str | os.PathLike[str], path: str | os.PathLike[str] | None = None
                 ) -> Path:
    """Error and pruned edges (mean ± sd over seeds) of a sweep folder against one axis.

    The x axis is the last axis with numeric values (else the last axis); every
    combination of the other axes is one line.

    Parameters
    ----------
    folder : a sweep folder (``grid.json``, ``summary.csv``).
    path : the PNG to write (default ``folder/sweep.png``).

    Returns
    -------
    pathlib.Path
    """
    folder = Path(folder)
    out = Path(path) if path else folder / "sweep.png"
    P.save_figure(draw_sweep(folder), out)
    return out


def draw_sweep(folder: str | os.PathLike[str]) -> Any:
    """The figure of :func:`sweep_figure`, not yet saved (a matplotlib ``Figure``).

    Parameters
    ----------
    folder : a sweep folder.

    Returns
    -------
    matplotlib.figure.Figure
    """
    folder = Path(folder)
    grid = load_json(folder / "grid.json", "sweep grid")
    axes = list(grid["axes"])
    rows = read_csv(folder / "summary.csv")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    bounds = {"error": (0.0, 1.0), "pruned_pct": (0.0, 100.0)}
    ylabels = {"error": "evaluation error |V_out − y| (mean ± sd)",
              "pruned_pct": "edges pruned, % (mean ± sd)"}
    seeds = grid["seeds"]
    title = (f"Sweep '{grid.get('name', '')}': {len(rows)} cell(s), {len(seeds)} seed(s) each; "
             "bars clipped to what the quantity can take")
    # an axis that holds one value in every cell varies nothing: named in the title only
    fixed = [a for a in axes if len({repr(r[a]) for r in rows}) == 1]
    axes = [a for a in axes if a not in fixed]
    if fixed:
        title += "; " + ", ".join(f"{a} = {_label(rows[0][a])}" for a in fixed)
    if not axes:  # one cell
        for ax, m in ((a1, "error"), (a2, "pruned_pct")):
            mean, sd = rows[0][f"{m}_mean"], np.nan_to_num(rows[0][f"{m}_sd"])
            ax.bar([0], [mean], yerr=_clipped([mean], [sd], bounds[m]), capsize=4)
            ax.set_ylabel(ylabels[m])
            ax.set_xticks([0], ["all runs"])
            ax.set_ylim(bounds[m][0], None)
        fig.suptitle(title, fontsize=10)
        return fig
    numeric = [a for a in axes if all(isinstance(r[a], float) for r in rows)]
    # x: the numeric axis with the most values (the last of equals), else the last axis
    x = max(reversed(numeric), key=lambda a: len({r[a] for r in rows})) if numeric \
        else axes[-1]
    others = [a for a in axes if a != x]
    series: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        series.setdefault(tuple(r[a] for a in others), []).append(r)
    for i, (labels, rs) in enumerate(series.items()):
        xs = [r[x] for r in rs]
        name = (_label(labels[0]) if len(others) == 1 else
                ", ".join(f"{a}={_label(v)}" for a, v in zip(others, labels))) or "all"
        for ax, m in ((a1, "error"), (a2, "pruned_pct")):
            means = [r[f"{m}_mean"] for r in rs]
            ax.errorbar(range(len(xs)) if x not in numeric else xs, means,
                        yerr=_clipped(means, [np.nan_to_num(r[f"{m}_sd"]) for r in rs],
                                      bounds[m]),
                        marker="o", capsize=3, color=_color(i), label=name)
    integer_x = x in numeric and all(float(r[x]).is_integer() for r in rows)
    for ax, m in ((a1, "error"), (a2, "pruned_pct")):
        ax.set_xlabel(_axis_label(x))
        ax.set_ylabel(ylabels[m])
        ax.set_ylim(bounds[m][0], None)
        ax.grid(alpha=0.3)
        if x not in numeric:
            first = next(iter(series.values()))
            ax.set_xticks(range(len(first)), [_label(r[x]) for r in first])
        elif integer_x:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(series) <= 12 and others:
        a2.legend(fontsize=7, title=", ".join(others), title_fontsize=7)
    fig.suptitle(title, fontsize=10)
    return fig


def _clipped(means: list[float], sds: list[float], bounds: tuple[float, float]
             ) -> np.ndarray:
    """Asymmetric error bars: ± sd, cut where the quantity ends (an error is never below 0)."""
    m, sd = np.asarray(means, dtype=float), np.asarray(sds, dtype=float)
    return np.vstack([np.minimum(sd, np.maximum(m - bounds[0], 0)),
                      np.minimum(sd, np.maximum(bounds[1] - m, 0))])


def _axis_label(key: str) -> str:
    names = {"network.hidden": "hidden nodes h", "channel.delay": "mean link delay (time units)",
             "channel.loss": "message loss probability", "schedule.inputs": "training inputs",
             "faults.crash_rate": "crashes per node per time unit"}
    return names.get(key, key)


# ----------------------------------------------------------------------------- paper figures
def fig3(folder: Path) -> list[Path]:
    """The paper's Fig. 3: error, pruned edges and pruned % against h, per gate and mode."""
    rows = read_csv(folder / "fig3.csv")
    gates = list(dict.fromkeys(r["gate"] for r in rows))
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    fig, axes = plt.subplots(3, len(gates), figsize=(4.2 * len(gates), 9), squeeze=False,
                             sharex=True)
    for j, g in enumerate(gates):
        for mode in modes:
            rs = sorted((r for r in rows if r["gate"] == g and r["mode"] == mode),
                        key=lambda r: r["h"])
            h = [r["h"] for r in rs]
            for i, m in enumerate(("error", "pruned", "pruned_pct")):
                means = [r[f"{m}_mean"] for r in rs]
                top = {"error": 1.0, "pruned": math.inf, "pruned_pct": 100.0}[m]
                axes[i, j].errorbar(h, means,
                                    yerr=_clipped(means, [np.nan_to_num(r[f"{m}_sd"])
                                                          for r in rs], (0.0, top)),
                                    marker="o", capsize=3, label=mode,
                                    color=MODE_COLORS.get(mode))
        axes[0, j].set_title(g)
        axes[2, j].set_xlabel("hidden nodes h")
    for i, lab in enumerate(("evaluation error |V_out − y|", "edges pruned",
                             "edges pruned (%)")):
        axes[i, 0].set_ylabel(lab + "\n(mean ± sd, cut at 0)")
        for ax in axes[i]:
            ax.grid(alpha=0.3)
            ax.set_ylim(bottom=0)
    axes[0, 0].legend(title="degree")
    axes[2, 0].xaxis.set_major_locator(MaxNLocator(integer=True))
    n = int(max(r["n"] for r in rows)) if rows else 0
    fig.suptitle(f"Spectral pruning on logic gates (paper Fig. 3), {n} runs per point")
    out = folder / "fig3.png"
    P.save_figure(fig, out)
    return [out]


def fig4(folder: Path) -> list[Path]:
    """The paper's Fig. 4: error and % of edges pruned over training, D against DW; one
    column per h, two rows (error, pruned %) per gate."""
    rows = read_csv(folder / "fig4_bands.csv")
    for r in rows:
        r.setdefault("gate", "XOR")  # folders written before the gate column
    gates = list(dict.fromkeys(r["gate"] for r in rows))
    hs = sorted({r["h"] for r in rows})
    modes = list(dict.fromkeys(r["mode"] for r in rows))
    fig, axes = plt.subplots(2 * len(gates), len(hs), figsize=(4.5 * len(hs),
                                                                3.0 * 2 * len(gates)),
                             squeeze=False, sharex=True, layout="constrained")
    for g, gate in enumerate(gates):
        for j, h in enumerate(hs):
            for mode in modes:
                rs = [r for r in rows if r["gate"] == gate and r["h"] == h and r["mode"] == mode]
                t = [r["input"] for r in rs]
                c = MODE_COLORS.get(mode)
                for i, m in enumerate(("error", "pruned_pct")):
                    ax = axes[2 * g + i, j]
                    ax.plot(t, [r[f"{m}_mean"] for r in rs], color=c, label=mode)
                    ax.fill_between(t, [r[f"{m}_lo"] for r in rs], [r[f"{m}_hi"] for r in rs],
                                    color=c, alpha=0.2, lw=0)
            axes[2 * g, j].set_title(f"{gate}, h = {_label(h)}")
        axes[2 * g, 0].set_ylabel(f"{gate}: training error\n(moving mean; band: min-max)")
        axes[2 * g + 1, 0].set_ylabel(f"{gate}: edges pruned (%)\n(band: min-max over runs)")
    for j in range(len(hs)):
        axes[-1, j].set_xlabel("training input")
    for k, ax in enumerate(axes.flat):
        ax.grid(alpha=0.3)
        if (k // len(hs)) % 2 == 0:
            ax.set_ylim(bottom=0)
        else:  # a mode that prunes nothing draws its line at 0: keep it off the axis
            top = max(ax.get_ylim()[1], 5.0)
            ax.set_ylim(-0.05 * top, top)
    axes[0, 0].legend(title="degree")
    n = {r["runs"] for r in rows if r.get("runs") is not None}
    fig.suptitle("When pruning happens (paper Fig. 4): mean over runs, band min to max"
                 + (f", {int(n.pop())} runs per line" if len(n) == 1 else ""))
    out = folder / "fig4.png"
    P.save_figure(fig, out)
    return [out]


def rules(folder: Path) -> list[Path]:
    """Error against edges removed per rule, one panel per h; and edges removed against h."""
    rows = read_csv(folder / "rules_summary.csv")
    hs = sorted({r["h"] for r in rows})
    names = list(dict.fromkeys(r["rule"] for r in rows))
    ncol = len(hs) + 1
    fig, axes = plt.subplots(1, ncol, figsize=(3.8 * ncol, 3.9), squeeze=False,
                             layout="constrained")
    for j, h in enumerate(hs):
        ax = axes[0, j]
        for i, name in enumerate(names):
            rs = sorted((r for r in rows if r["h"] == h and r["rule"] == name),
                        key=lambda r: r["pruned"])
            if not rs:
                continue
            means = [r["error_mean"] for r in rs]
            ax.errorbar([r["pruned"] for r in rs], means,
                        yerr=_clipped(means, [np.nan_to_num(r["error_sd"]) for r in rs],
                                      (0.0, 1.0)), marker="o", ms=4,
                        capsize=2, color=_color(i), label=name,
                        ls="-" if name.startswith(("magnitude", "random")) else "none")
        ax.axvline(h, color="k", ls=":", lw=1)
        ax.set_title(f"h = {_label(h)}  (dotted: reference cap k = h)", fontsize=9)
        ax.set_xlabel("edges removed k")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("evaluation error (mean ± sd over\nruns with that k, cut at 0)")
    axes[0, 0].legend(fontsize=7)
    ax = axes[0, -1]
    runs = read_csv(folder / "rules_runs.csv")
    spectral = [n for n in names if n.startswith("spectral")]
    for i, name in enumerate(names):
        if name not in spectral:
            continue
        ks = {h: [r["pruned"] for r in runs if r["rule"] == name and r["h"] == h] for h in hs}
        ax.errorbar(hs, [np.mean(ks[h]) for h in hs],
                    yerr=[[np.mean(ks[h]) - np.min(ks[h]) for h in hs],
                          [np.max(ks[h]) - np.mean(ks[h]) for h in hs]],
                    marker="o", capsize=3, color=_color(i), label=name)
    ax.plot(hs, hs, "k:", label="k = h (reference cap)")
    ax.set_xlabel("hidden nodes h")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("edges removed (mean, bars: min-max)")
    ax.set_title("spectral rules: edges removed", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.suptitle("Pruning rules at equal numbers of removed edges (rules_compare)", fontsize=10)
    out = folder / "rules_compare.png"
    P.save_figure(fig, out)
    return [out]


def async_robustness(folder: Path) -> list[Path]:
    """Error and pruned edges against delay, loss and crash rate; one row pair per gate."""
    rows = read_csv(folder / "async.csv")
    gates = list(dict.fromkeys(r["gate"] for r in rows))
    factors = list(dict.fromkeys(r["factor"] for r in rows))
    variants = list(dict.fromkeys(r["variant"] for r in rows))
    hs = sorted({r["h"] for r in rows})
    styles = ["-", "--", ":", "-."]
    xlabels = {"delay": "mean link delay (activation periods)", "loss": "message loss rate",
               "crash": "crashes per node per 1000 time units"}
    fig, axes = plt.subplots(2 * len(gates), len(factors),
                             figsize=(4.4 * len(factors), 3.0 * 2 * len(gates)), squeeze=False)
    for gi, g in enumerate(gates):
        for fj, f in enumerate(factors):
            for hi, h in enumerate(hs):
                for vi, v in enumerate(variants):
                    rs = sorted((r for r in rows if r["gate"] == g and r["factor"] == f
                                 and r["h"] == h and r["variant"] == v), key=lambda r: r["level"])
                    if not rs:
                        continue
                    xs = [r["level"] * (1000 if f == "crash" else 1) for r in rs]
                    kw = dict(color=_color(hi), ls=styles[vi % len(styles)], marker="o", ms=3,
                              label=f"h={_label(h)}, {v}")
                    axes[2 * gi, fj].plot(xs, [r["error_mean"] for r in rs], **kw)
                    axes[2 * gi + 1, fj].plot(xs, [r["pruned_mean"] for r in rs], **kw)
            axes[2 * gi, fj].set_title(f"{g}: error", fontsize=10)
            axes[2 * gi + 1, fj].set_title(f"{g}: edges pruned", fontsize=10)
            axes[2 * gi + 1, fj].set_xlabel(xlabels.get(str(f), str(f)))
        axes[2 * gi, 0].set_ylabel("test error\n(mean |output - target|)")
        axes[2 * gi + 1, 0].set_ylabel("edges pruned\n(mean per run)")
    for ax in axes.flat:
        ax.grid(alpha=0.3)
        ax.margins(y=0.08)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    ncol = max(1, len(hs))  # one column per h, a row per rule (the legend fills by column)
    fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=9, frameon=False,
               title="hidden nodes h, rule (colour: h; line: rule)", title_fontsize=9)
    fig.suptitle("Asynchronous ARGNN: stale, delayed and lost information (mean over seeds)")
    rows_of_legend = math.ceil(len(labels) / ncol)
    fig.tight_layout(rect=(0, 0.03 + 0.022 * rows_of_legend, 1, 0.98))
    out = folder / "async_robustness.png"
    P.save_figure(fig, out)
    return [out]


def run_folder(folder: Path) -> list[Path]:
    """The figures of one run folder (Fig. 1, Fig. 2, training curves)."""
    from .results import load

    res = load(folder)
    paths = [folder / "eigenvalues.png", folder / "graph.png", folder / "curves.png"]
    P.eigenvalue_traces(res, paths[0])
    P.graph_before_after(res, paths[1])
    P.training_curves(res, paths[2])
    return paths


class FolderFigures:
    """What ``argnn plot`` calls for a study's folder (register it in the entry-point group
    ``argnn.figures``): it refuses, with one line, a folder that does not hold what the
    figures are drawn from, then draws them from what is on disk.

    Parameters
    ----------
    draw : callable
        ``draw(folder) -> list of Path``: tables and figures from the folder's files.
    needs : tuple of str
        Glob patterns, relative to the folder, each of which must match a file.
    what : str
        What the folder should hold, for the message ("a finished road comparison").
    fix : str
        How to make it, for the message ("run `argnn compare --out` there first").
    error : type
        The error class raised (an :class:`~argnn_sim.errors.ArgnnError`).

    Examples
    --------
    >>> import tempfile
    >>> fig = FolderFigures(lambda f: [], ("rows.json",), "a study", "run it")
    >>> fig(tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    argnn_sim.errors.ArgnnError: '...' holds no a study (rows.json is missing); run it
    """

    def __init__(self, draw: Callable[[Path], list[Path]], needs: tuple[str, ...], what: str,
                 fix: str, error: type[ArgnnError] = ArgnnError) -> None:
        self.draw, self.needs, self.what, self.fix, self.error = draw, needs, what, fix, error
        self.__doc__ = draw.__doc__

    def __call__(self, folder: str | os.PathLike[str]) -> list[Path]:
        """Draw the figures of ``folder``.

        Parameters
        ----------
        folder : path-like
            The study's folder.

        Returns
        -------
        list of Path
        """
        f = Path(folder)
        missing = [n for n in self.needs if not any(p.is_file() for p in f.glob(n))]
        if missing:
            raise self.error(f"{str(f)!r} holds no {self.what} ({', '.join(missing)} is "
                             f"missing); {self.fix}")
        return list(self.draw(f))


def write_manifest(folder: Path, kind: str, **info: Any) -> None:
    """Name the scenario that wrote ``folder`` (and anything worth keeping about the call)."""
    from .outputs import write_atomic

    write_atomic(folder / MANIFEST, json.dumps({"kind": kind, **info}, indent=1, default=str))


def figure_kinds() -> list[str]:
    """The scenario kinds whose folders ``argnn plot`` redraws: the names in the entry-point
    group ``argnn.figures``, where every scenario registers its drawing function (this
    package's in its ``setup.cfg``, the bridge's and any other package's in theirs).

    Returns
    -------
    list of str
    """
    from importlib.metadata import entry_points

    return sorted({ep.name for ep in entry_points(group="argnn.figures")})


def figure_drawer(kind: str, folder: Path | None = None) -> Callable[[Path], list[Path]] | None:
    """The function registered (entry-point group ``argnn.figures``) to draw a scenario
    folder of ``kind``; ``None`` if none is.

    Parameters
    ----------
    kind : str
        The scenario kind a folder's manifest (or marker) names.
    folder : Path, optional
        The folder, for the message when the drawer's package is not installed.

    Returns
    -------
    callable or None
        ``drawer(folder) -> list of Path``.

    Raises
    ------
    FileNotFoundError
        When the drawer's package cannot be imported (with the install command).
    """
    from importlib.metadata import entry_points

    for ep in entry_points(group="argnn.figures"):
        if ep.name == kind:
            try:
                return ep.load()
            except ImportError as exc:
                raise FileNotFoundError(f"{str(folder)!r} ({kind}) is drawn by the bridge, which "
                                        f"is not installed ({exc}); pip install torch==2.13.0 "
                                        "&& pip install 'argnn-sim[bridge]'") from None
    return None


def redraw(folder: str | os.PathLike[str]) -> list[Path]:
    """Redraw every figure of a results folder (run, sweep or scenario); returns the PNGs.

    Parameters
    ----------
    folder : a run folder (``summary.json``), a sweep folder (``grid.json``) or a scenario's
        folder (``manifest.json``).

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    FileNotFoundError
        For a folder that is none of these.
    """
    f = Path(folder)
    if not f.is_dir():
        raise FileNotFoundError(f"no results folder at {str(f)!r}")
    marker = output_kind(f)
    if marker is None:  # never draw into a folder argnn did not write
        raise FileNotFoundError(f"{str(f)!r} is not a results folder argnn wrote (it holds no "
                                ".argnn.json, summary.json of a run, grid.json of a sweep or "
                                "manifest.json of a scenario)")
    try:
        return _redraw(f, marker)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError) as exc:
        if isinstance(exc, ArgnnError):
            raise
        raise ArgnnError(f"{str(f)!r} is damaged: a file in it lacks what its figures need "
                         f"({type(exc).__name__}: {exc}); re-run what wrote it") from None


def _redraw(f: Path, marker: str) -> list[Path]:
    if (f / MANIFEST).is_file():
        man = load_json(f / MANIFEST, "scenario manifest")
        kind = man.get("kind") if isinstance(man, dict) else None
        drawer = figure_drawer(str(kind), f)
        if drawer is None:
            raise FileNotFoundError(f"{str(f / MANIFEST)!r} names kind {kind!r}, which has no "
                                    f"figures; known: {', '.join(figure_kinds())}")
        paths = list(drawer(f))
        if (f / "sweep" / "grid.json").is_file() and (f / "sweep" / "summary.csv").is_file() \
                and f / "sweep" / "sweep.png" not in paths:
            paths.append(sweep_figure(f / "sweep"))
        return paths
    if marker not in ("run", "sweep"):
        drawer = figure_drawer(marker, f)
        if drawer is not None:
            return list(drawer(f))
    if (f / "summary.json").is_file():
        return run_folder(f)
    if (f / "grid.json").is_file():
        return [sweep_figure(f)]
    raise FileNotFoundError(f"{str(f)!r} is not a results folder: it holds no summary.json "
                            "(a run), grid.json (a sweep) or manifest.json (a scenario)")
