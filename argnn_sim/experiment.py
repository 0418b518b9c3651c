"""Shared plumbing of the scenario scripts in ``scenarios/``: options, sweeps, outputs.

Every scenario script takes the same options (``--quick``, ``--out``, ``--jobs``,
``--scheduler``, ``--progress``, ``--engine``), runs its grids through :func:`argnn_sim.sweep.run_sweep`
into ``<out>/sweep`` (so re-running a scenario reuses its finished runs: a killed scenario
resumes where it stopped), writes tidy CSV files, a ``manifest.json`` naming its kind (so
``argnn plot <out>`` can redraw it), its figures and a short markdown summary.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import engines
from .errors import OneLineParser, leave, run_cli, show_progress, workers
from .figures import figure_drawer, write_manifest
from .outputs import claim_output
from .sweep import Grid, RunSpec, SweepSummary, make_executor, run_sweep, write_atomic, write_table

__all__ = ["parser", "sweep", "finish", "md_table", "write_table"]


def parser(name: str, description: str) -> argparse.ArgumentParser:
    """The common options of a scenario script.

    Parameters
    ----------
    name
        The script's name (``paper_fig3``).
    description
        Its one-line description.

    Returns
    -------
    argparse.ArgumentParser
        With ``--quick``, ``--out``, ``--jobs``, ``--scheduler``, ``--progress``, ``--engine``.

    Examples
    --------
    >>> parser("demo", "A demo.").parse_args(["--quick"]).engine
    'auto'
    """
    p = OneLineParser(prog=f"scenarios/{name}.py", description=description)
    p.add_argument("--quick", action="store_true",
                   help="a small version that finishes in under a minute (used by the tests)")
    p.add_argument("--out", help=f"results folder (default: results/{name}, or "
                                 f"results/{name}-quick with --quick)")
    p.add_argument("--jobs", type=workers, default=None,
                   help="parallel worker processes (default: all cores)")
    p.add_argument("--scheduler", default=None,
                   help="inline, processes (default), local-dask or tcp://host:port")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: on when stderr is a terminal)")
    p.add_argument("--engine", choices=engines.ENGINE_CHOICES, default="auto",
                   help="auto (default): each run on the fastest engine that can run it "
                        "(runs of one shape of the logic circuit in the sweep schedule "
                        "together on the batched engine); simpy, batch or compiled: every "
                        "run on that engine, or an error. Identical results either way")
    return p


def out_dir(args: argparse.Namespace, name: str, kind: str | None = None) -> Path:
    """The script's results folder (``--out``, or ``results/<name>[-quick]``), checked and
    claimed: a new or empty folder, or one this scenario wrote before (it resumes there).
    Anything else is refused before any work (:mod:`argnn_sim.outputs`).

    Parameters
    ----------
    args
        The parsed options.
    name
        The default folder's name.
    kind
        The folder's kind (default ``scenario/<name>``).

    Returns
    -------
    pathlib.Path
    """
    folder = Path(args.out) if args.out else \
        Path("results") / (f"{name}-quick" if args.quick else name)
    return claim_output(folder, kind or f"scenario/{name}", existing="resume", what="--out")


def main_guard(main: Callable[[], int], name: str) -> int:
    """Run a scenario script's ``main`` as every argnn command runs: bad input is one line
    on stderr and exit status 2, nothing half-written left behind (:func:`run_cli`).

    Parameters
    ----------
    main
        The script's body.
    name
        Its name, for the messages.

    Returns
    -------
    int
        The exit status.
    """
    return leave(run_cli(main, prog=f"scenarios/{name}.py"))


def sweep(grid: Grid, folder: Path, args: argparse.Namespace,
          select: Callable[[RunSpec], bool] | None = None) -> SweepSummary:
    """Run ``grid`` into ``folder`` with the executor the options name, resuming.

    Parameters
    ----------
    grid
        The grid.
    folder
        Its sweep folder.
    args
        The script's parsed options.
    select
        Run only the specs for which this is true (the grid still expands in full).

    Returns
    -------
    SweepSummary
    """
    with make_executor(args.scheduler, args.jobs) as ex:
        res = run_sweep(grid, folder, executor=ex, resume=True, progress=show_progress(args.progress),
                        select=select, engine=getattr(args, "engine", "auto"))
    if res.failed:
        print(f"warning: {res.failed} run(s) of {grid.name} failed; see {folder}/runs.csv",
              file=sys.stderr)
    return res


def md_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str],
             formats: Mapping[str, str] | None = None) -> str:
    """A markdown table of ``rows``.

    Parameters
    ----------
    rows
        One mapping per row.
    columns
        Which keys, in order.
    formats
        Format specs per column, for numbers.

    Returns
    -------
    str

    Examples
    --------
    >>> print(md_table([{"h": 2, "error": 0.12345}], ["h", "error"], {"error": ".3f"}))
    | h | error |
    |---|---|
    | 2 | 0.123 |
    """
    formats = formats or {}
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        cells = []
        for c in columns:
            v = r.get(c, "")
            f = formats.get(c)
            cells.append(format(v, f) if f and isinstance(v, (int, float)) else str(v))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def finish(folder: Path, kind: str, markdown: str, args: argparse.Namespace,
           **info: Any) -> list[Path]:
    """Write the manifest, draw the figures, write ``summary.md``; print where they are.

    Parameters
    ----------
    folder
        The scenario's results folder.
    kind
        Its kind (registered in the entry-point group ``argnn.figures``).
    markdown
        The summary.
    args
        The script's options.
    **info
        Kept in the manifest.

    Returns
    -------
    list of pathlib.Path
        The figures written.
    """
    write_manifest(folder, kind, quick=bool(args.quick), argv=sys.argv[1:], **info)
    drawer = figure_drawer(kind, folder)
    if drawer is None:
        raise KeyError(f"no figures registered for scenario kind {kind!r}")
    paths = drawer(folder)
    write_atomic(folder / "summary.md", markdown.rstrip() + "\n")
    print(markdown)
    print(f"\nwritten: {folder}/summary.md, " + ", ".join(os.path.basename(p) for p in paths))
    return paths
