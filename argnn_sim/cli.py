"""The ``argnn`` command: a thin layer over the Python API.

``argnn run [SCENARIO.toml] [--seed N] [--set section.key=value ...] [--out DIR] [--json]``
runs one scenario (the built-in default when no file is given), prints a summary table (or
one JSON object with ``--json``) and writes the run folder and figures to ``--out``.
``argnn sweep GRID.toml --out DIR [--jobs N] [--scheduler S] [--resume]`` runs a grid
(see :mod:`argnn_sim.sweep`), resumable, and prints the mean ± sd per cell.
``argnn plot DIR`` redraws the figures of any results folder (a run, a sweep or a scenario's
output). ``argnn show-default`` prints the built-in scenario as TOML. Exit status: 0 on
success, 2 on bad input, 1 when runs of a sweep failed.

Other packages add commands through the ``argnn.commands`` entry-point group: each entry
point names a function ``register(subparsers)`` that adds its parser and sets
``handler=fn(args) -> int`` as a default. A plug-in's module is imported only when its
command runs; for ``argnn --help`` its one-line help is read from the module's source (a
module-level ``HELP = "..."``), so no command but the plug-in's own imports torch. The bridge
adds ``argnn compress``, ``argnn traffic`` and ``argnn compare`` this way; without the bridge
installed such a command still shows in the help and says which extra to install.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import engines
from .config import ConfigError, Scenario, apply_overrides, load_scenario, parse_override, to_toml
from .engines import simulate
from .errors import OneLineParser, resume_hint, run_cli, show_progress
from .outputs import check_output, free_folder
from .results import RunResult, atomic_dir, summary_table, write_files

__all__ = ["main", "run_command"]


def _version() -> str:
    """The installed package's version (``setup.cfg``), or the source tree's when it runs
    uninstalled."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("argnn-sim")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown (not installed)"


def _build_parser(load: str | None = None,
                  plugins: dict[str, Any] | None = None) -> argparse.ArgumentParser:
    """The ``argnn`` parser: the built-in commands (:data:`COMMANDS`) and the plug-ins'
    (entry points ``argnn.commands``), each added by its ``register(subparsers)``; a
    plug-in other than ``load`` is listed with its help and not imported.
    ``plugins``: the entry points (default: read them)."""
    p = OneLineParser(prog="argnn", description="Decentralized ARGNN simulator with spectral pruning.")
    p.add_argument("--version", action="version", version=f"argnn {_version()}")
    sub = p.add_subparsers(dest="command", required=True)
    for register in COMMANDS.values():
        register(sub)
    _add_plugins(sub, load, _plugins() if plugins is None else plugins)
    return p


def register_run(sub: Any) -> None:
    """``argnn run``: its parser and handler.

    Parameters
    ----------
    sub : argparse subparsers
        Where to add it.
    """
    r = sub.add_parser("run", help="run one scenario")
    r.add_argument("scenario", nargs="?", help="scenario TOML file (default: built-in XOR/DW)")
    r.add_argument("--seed", type=int, help="seed (overrides the scenario's)")
    r.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one scenario value (repeatable)")
    r.add_argument("--out", help="output folder: new or empty (default: results/<scenario "
                                 "name>, or the first free results/<name>-2, -3, ...)")
    r.add_argument("--force", action="store_true",
                   help="replace --out when it holds a run argnn wrote (never anything else)")
    r.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    r.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    r.add_argument("--no-save", action="store_true", help="write no output folder")
    r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: on when stderr is a terminal, "
                        "off with --json)")
    r.add_argument("--engine", choices=engines.ENGINE_CHOICES, default="auto",
                   help="auto (default): the fastest engine that can run the scenario; "
                        "simpy, compiled (async, numba: extra 'fast') or batch (logic "
                        "circuit, sweep schedule): that engine, or an error saying why not. "
                        "Identical results")
    r.set_defaults(handler=run_command)


def register_sweep(sub: Any) -> None:
    """``argnn sweep``: its parser and handler.

    Parameters
    ----------
    sub : argparse subparsers
        Where to add it.
    """
    sw = sub.add_parser("sweep", help="run a grid of scenarios x parameters x seeds")
    sw.add_argument("grid", nargs="?", help="grid TOML file (see the README: Sweeps)")
    sw.add_argument("--out", help="results folder of the sweep")
    sw.add_argument("--status", metavar="DIR",
                    help="print which runs of the sweep in DIR are done, failed or pending, "
                         "per cell (also while it runs), and run nothing")
    sw.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    sw.add_argument("--scheduler", default=None,
                    help="inline, processes (default), local-dask, or a Dask address "
                         "tcp://host:port")
    sw.add_argument("--resume", action="store_true",
                    help="continue a sweep in --out, skipping its finished runs")
    sw.add_argument("--retry-failed", action="store_true",
                    help="with --resume: run again the runs recorded as errors")
    sw.add_argument("--engine", choices=engines.ENGINE_CHOICES, default="auto",
                    help="auto (default): runs of one shape the batched engine covers go "
                         "many at once, every other run on the fastest engine that can run "
                         "it; simpy, compiled or batch: every run on that engine, or an "
                         "error saying which run it cannot run and why. Identical results")
    sw.add_argument("--batch-size", type=int, default=32,
                    help="runs per batch (engines auto and batch)")
    sw.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="progress bar on stderr (default: on when stderr is a terminal)")
    sw.add_argument("--no-plots", action="store_true", help="skip sweep.png")
    sw.set_defaults(handler=sweep_command)


def register_plot(sub: Any) -> None:
    """``argnn plot``: its parser and handler.

    Parameters
    ----------
    sub : argparse subparsers
        Where to add it.
    """
    pl = sub.add_parser("plot", help="redraw the figures of a results folder")
    pl.add_argument("run_dir", metavar="DIR",
                    help="a run folder, a sweep folder or a scenario's results folder")
    pl.set_defaults(handler=plot_command)


def register_show_default(sub: Any) -> None:
    """``argnn show-default``: its parser and handler.

    Parameters
    ----------
    sub : argparse subparsers
        Where to add it.
    """
    q = sub.add_parser("show-default", help="print the built-in default scenario as TOML")
    q.set_defaults(handler=_show_default)


def _show_default(args: argparse.Namespace) -> int:
    sys.stdout.write(to_toml(Scenario()))
    return 0


def register_scenario(sub: Any) -> None:
    """``argnn scenario``: its parser and handler.

    Parameters
    ----------
    sub : argparse subparsers
        Where to add it.
    """
    q = sub.add_parser("scenario", help="run a scenario script of scenarios/ (a paper's "
                                        "figure or table): argnn scenario NAME [--quick] ...",
                       add_help=False)
    q.add_argument("name", nargs="?", help="the script's name (without .py); none: list them")
    q.add_argument("rest", nargs=argparse.REMAINDER,
                   help="the script's own options (--quick, --out, ...; NAME --help lists them)")
    q.add_argument("-h", "--help", action="store_true", help="this help, or NAME's")
    q.set_defaults(handler=scenario_command, parser=q)


def scenario_folder() -> Path:
    """Where the scenario scripts are: ``$ARGNN_SCENARIOS``, else the ``scenarios/`` folder of
    the checkout this package runs from.

    Returns
    -------
    Path

    Raises
    ------
    ConfigError
        When neither exists (a package installed without its checkout).
    """
    import os

    given = os.environ.get("ARGNN_SCENARIOS")
    folder = Path(given) if given else Path(__file__).resolve().parents[1] / "scenarios"
    if not folder.is_dir():
        raise ConfigError(f"no scenario scripts at {str(folder)!r}: run argnn from a checkout "
                          "of argnn-sim, or set ARGNN_SCENARIOS to its scenarios/ folder")
    return folder


def scenario_command(args: argparse.Namespace) -> int:
    """``argnn scenario NAME [options]``: run ``scenarios/NAME.py`` with its options, as
    ``python scenarios/NAME.py`` would; without NAME, list the scripts.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments.

    Returns
    -------
    int
        The script's exit status.
    """
    import runpy

    folder = scenario_folder()
    scripts = {p.stem: p for p in sorted(folder.glob("*.py"))}
    if args.name is None:
        if args.help:
            args.parser.print_help()
            return 0
        for name, p in scripts.items():
            print(f"{name:<32} {_first_line(p)}")
        return 0
    if args.name not in scripts:
        import difflib

        guess = difflib.get_close_matches(args.name, list(scripts), n=1)
        raise ConfigError(f"no scenario {args.name!r}" + (f" (did you mean {guess[0]!r}?)"
                                                          if guess else "")
                          + f"; choose one of {', '.join(scripts)}")
    argv = [str(scripts[args.name]), *(["--help"] if args.help else []), *args.rest]
    saved = sys.argv
    sys.argv = argv
    try:
        runpy.run_path(argv[0], run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            return int(code or 0)
        print(code, file=sys.stderr)
        return 1
    finally:
        sys.argv = saved
    return 0


def _first_line(path: Path) -> str:
    """A script's docstring's first line (read, not imported)."""
    import ast

    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def register_data(sub: Any) -> None:
    """``argnn data``: its parser and handler.

    Parameters
    ----------
    sub : argparse subparsers
        Where to add it.
    """
    q = sub.add_parser("data", help="list the public data sets, or fetch one with its "
                                    "checksums: argnn data get NAME [--root DIR]")
    q.add_argument("action", choices=("list", "get"), help="list the data sets, or get one")
    q.add_argument("name", nargs="?", help="the data set to get (argnn data list names them)")
    q.add_argument("--root", help="the data folder (default: $ARGNN_DATA, else "
                                  "~/.cache/argnn-sim/data)")
    q.set_defaults(handler=data_command)


def data_command(args: argparse.Namespace) -> int:
    """``argnn data list`` / ``argnn data get NAME [--root DIR]``.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments.

    Returns
    -------
    int
        The exit status.
    """
    from .datasets import DATASETS, data_root, fetch, status

    root = data_root(args.root)
    if args.action == "list":
        print(f"data root: {root}")
        for name, ds in DATASETS.items():
            states = set(status(name, root).values())
            here = "present" if states == {"ok"} else ("missing" if states == {"missing"}
                                                       else "incomplete")
            print(f"  {name:<9} {here:<10} {ds.about}")
        return 0
    if args.name is None:
        raise ConfigError("argnn data get needs a data set's name (argnn data list names them)")
    got = fetch(args.name, root)
    print(f"{args.name}: {len(got)} file(s) fetched and checked, "
          f"{len(DATASETS[args.name].files) - len(got)} already there; in {root}")
    return 0


def plot_command(args: argparse.Namespace) -> int:
    """``argnn plot DIR``: redraw the figures of a results folder.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments.

    Returns
    -------
    int
        The exit status.
    """
    from .figures import redraw

    paths = redraw(args.run_dir)
    print(f"figures written: {', '.join(str(p) for p in paths)}")
    return 0


#: the built-in commands, each added to the parser by its ``register(subparsers)`` as the
#: plug-ins' are (a plug-in adds its own through the entry point group ``argnn.commands``)
COMMANDS: dict[str, Callable[[Any], None]] = {
    "run": register_run, "sweep": register_sweep, "plot": register_plot,
    "scenario": register_scenario, "data": register_data,
    "show-default": register_show_default,
}


def _plugins() -> dict[str, Any]:
    from importlib.metadata import entry_points

    found: dict[str, Any] = {}
    for ep in entry_points(group="argnn.commands"):
        found.setdefault(ep.name, ep)
    return found


def _plugin_help(ep: Any) -> str:
    """A plug-in command's one-line help, read from its module's source without importing
    it (the module's ``HELP`` string, else its docstring's first line): ``argnn --help`` and
    the other commands never import torch."""
    import ast
    from importlib.util import find_spec

    module = str(getattr(ep, "value", "")).split(":")[0].strip()
    try:
        top, *rest = module.split(".")
        spec = find_spec(top)  # only the top package is imported, not the command's own
        if spec is None or spec.origin is None:
            raise ImportError(module)
        path = Path(spec.origin)
        if rest:
            base = Path(spec.origin).parent.joinpath(*rest)
            path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (ImportError, OSError, SyntaxError, ValueError, AttributeError):
        return "(a plug-in command that cannot be found: reinstall its package)"
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "HELP" for t in node.targets) and \
                isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node.value.value
    doc = ast.get_docstring(tree) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ep.name


def _add_plugins(sub: Any, load: str | None, plugins: dict[str, Any]) -> None:
    for name, ep in plugins.items():
        if name != load:  # listed with its help, its module not imported
            sub.add_parser(name, help=_plugin_help(ep))
            continue
        try:
            register = ep.load()
        except ImportError as exc:  # the extra is not installed
            why = f"{name} is unavailable ({exc}); install the extra: pip install " \
                  "torch==2.13.0 && pip install 'argnn-sim[bridge]'"
            q = sub.add_parser(name, help=f"(unavailable: {exc.name or exc})")
            q.set_defaults(handler=lambda args, why=why: _unavailable(why))
            continue
        register(sub)


def _command_of(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` names (its first word that is not an option)."""
    for a in argv:
        if not a.startswith("-"):
            return a
    return None


def _unavailable(why: str) -> int:
    print(f"argnn: error: {why}", file=sys.stderr)
    return 2


def _write_run(result: RunResult, out: Path, plots: bool, force: bool) -> None:
    from . import plots as P

    with atomic_dir(out, replace=force, what="--out",
                    force_hint="pass --force to replace it") as tmp:
        write_files(result, tmp)
        if plots:
            P.eigenvalue_traces(result, tmp / "eigenvalues.png")
            P.graph_before_after(result, tmp / "graph.png")
            P.training_curves(result, tmp / "curves.png")


def run_command(args: argparse.Namespace) -> int:
    """``argnn run``: one scenario, its folder, its summary (``--json``: one object).

    Parameters
    ----------
    args : the parsed options.

    Returns
    -------
    int
        The exit status.
    """
    scenario = load_scenario(args.scenario) if args.scenario else Scenario()
    changes = dict(parse_override(s) for s in args.set)
    if args.seed is not None:
        changes["seed"] = args.seed
    if changes:
        scenario = apply_overrides(scenario, changes)
    out = None
    if not args.no_save:  # refuse a bad --out before the run, not after it
        if args.out is not None:
            out = check_output(args.out, "run", existing="replace" if args.force else "refuse",
                               what="--out", force_hint="pass --force to replace it")
        else:
            out = check_output(free_folder(Path("results") / scenario.name, "run"), "run",
                               what="output folder")
    progress = False if args.json and args.progress is None else show_progress(args.progress)
    result = simulate(scenario, progress=progress,
                      engine=getattr(args, "engine", "auto"))
    if out is not None:
        _write_run(result, out, plots=not args.no_plots, force=args.force)
    if args.json:
        json.dump(result.summary(), sys.stdout)
        sys.stdout.write("\n")
    else:
        print(summary_table(result, out))
    return 0


def sweep_command(args: argparse.Namespace) -> int:
    from .sweep import Grid, make_executor, run_sweep

    if args.status is not None:
        return _sweep_status(args.status)
    if args.grid is None or args.out is None:
        raise ConfigError("argnn sweep needs a grid file and --out (or --status DIR to see a "
                          "sweep's progress)")
    grid = Grid.load(args.grid)
    if args.retry_failed and not args.resume:
        raise ConfigError("--retry-failed needs --resume (it re-runs failed runs of a sweep)")
    again = ["argnn", "sweep", args.grid, "--out", str(args.out), "--resume"]
    again += [f"--{k.replace('_', '-')}={v}" for k, v in (("jobs", args.jobs),
              ("scheduler", args.scheduler)) if v is not None]
    again += [] if args.engine == "auto" else [f"--engine={args.engine}"]
    resume_hint(args.out, " ".join(again))
    with make_executor(args.scheduler, args.jobs) as ex:
        res = run_sweep(grid, args.out, executor=ex, resume=args.resume,
                        progress=show_progress(args.progress), retry_failed=args.retry_failed,
                        engine=args.engine, batch_size=args.batch_size)
    if not args.no_plots and res.cells:
        from .figures import sweep_figure

        sweep_figure(args.out)
    print(res.table())
    print(f"\n{len(res.runs)} runs: {res.executed} executed, {res.skipped} already done, "
          f"{res.failed} failed; {res.seconds:.1f} s; written to {args.out} "
          "(runs.csv, summary.csv" + ("" if args.no_plots else ", sweep.png") + ")")
    if res.failed:
        print(f"argnn: {res.failed} run(s) failed; their errors are in {args.out}/runs.csv",
              file=sys.stderr)
        return 1
    return 0


def _sweep_status(folder: str) -> int:
    """``argnn sweep --status DIR``: a table of done, failed and pending runs per cell."""
    from .sweep import sweep_status

    try:
        cells = sweep_status(folder)
    except FileNotFoundError as exc:
        raise ConfigError(str(exc)) from None
    axes = [k for k in cells[0] if k not in ("done", "failed", "pending")] if cells else []
    head = [*axes, "done", "failed", "pending"]
    rows = [[str(c[k]) for k in head] for c in cells]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    for r in [head, *rows]:
        print("  ".join(v.rjust(w) for v, w in zip(r, widths)))
    total = {k: sum(c[k] for c in cells) for k in ("done", "failed", "pending")}
    print(f"\n{sum(total.values())} runs: {total['done']} done, {total['failed']} failed, "
          f"{total['pending']} pending")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``argnn`` and ``python -m argnn_sim``; returns the exit status.

    Parameters
    ----------
    argv : the arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 when runs of a sweep failed, 2 for bad input (one line on stderr).

    Examples
    --------
    >>> main(["show-default"]) == 0  # doctest: +ELLIPSIS
    name = "default"
    ...
    True
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = _command_of(argv)
    plugins = _plugins()
    args = _build_parser(load=chosen if chosen in plugins else None,
                         plugins=plugins).parse_args(argv)
    return run_cli(lambda: _dispatch(args))


def _dispatch(args: argparse.Namespace) -> int:
    return int(args.handler(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
