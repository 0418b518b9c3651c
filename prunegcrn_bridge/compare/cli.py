"""``argnn compare``: the command line of the comparison."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from argnn_sim.errors import show_progress
from argnn_sim.executors import check_jobs

from ..errors import BridgeConfigError
from .config import METHODS, TASKS, CompareConfig, quick_config
from .report import markdown
from .run import run_compare

HELP = "centralized vs decentralized pruning at equal k (torch)"  # the one-line help `argnn --help` reads without importing this module


# ----------------------------------------------------------------------------- command line
def register(sub: Any) -> None:
    """Add ``compare`` to the ``argnn`` sub-command parser."""
    c = sub.add_parser("compare", help="centralized vs decentralized pruning at equal k "
                                       "(torch)")
    c.add_argument("--out", required=True, help="results folder (resumable)")
    c.add_argument("--quick", action="store_true", help="a small version (seconds)")
    c.add_argument("--tasks", help=f"comma-separated subset of {','.join(TASKS)}")
    c.add_argument("--hidden", help="comma-separated hidden sizes (default 2..10)")
    c.add_argument("--seeds", type=int, help="seeds per cell (default 10)")
    c.add_argument("--inputs", type=int, help="training inputs per run (default 2000)")
    c.add_argument("--ks", help="comma-separated sweep of k (default 1,2,4,8)")
    c.add_argument("--methods", help=f"comma-separated subset of {','.join(METHODS)}")
    c.add_argument("--jobs", type=int, default=1, help="worker processes")
    c.add_argument("--scheduler", default=None,
                   help="inline, processes, local-dask or a Dask address tcp://host:port")
    c.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: on a terminal)")
    r = c.add_argument_group("a road-sensor network instead of logic circuits "
                             "(prunegcrn_bridge.road)")
    r.add_argument("--network", default="logic",
                   help="logic (default: the logic circuits), sz_taxi, a planted series "
                        "(planted:sz_taxi[:options]), or an .npz of readings (with --adjacency)")
    r.add_argument("--data-root", help="folder holding SZ_TAXI/ (default: $ARGNN_DATA)")
    r.add_argument("--adjacency", help="road graph of an .npz network (N x N or from,to CSV)")
    r.add_argument("--selections",
                   help="PruneGCRN's runs on the same series (`argnn traffic compare --out` "
                        "folders, comma-separated): their kept sensors are imposed on the "
                        "simulated network")
    r.add_argument("--protocol", choices=("default", "tgcn", "agcrn"),
                   help="the protocol the --selections folders were trained under (default: "
                        "default); their checkpoints' forecasts are the agcrn rows")
    r.add_argument("--horizon", type=int,
                   help="forecast this many steps ahead (default 1: 15 minutes on SZ-taxi)")
    r.add_argument("--fractions", help="kept shares of sensors (default 1,0.5,0.25,0.1)")
    r.add_argument("--hops", type=int, help="road hops a predictor hears sensors from "
                                            "(default 0: its own)")
    r.add_argument("--no-async", action="store_true",
                   help="skip the runs with delayed, lossy links")
    c.set_defaults(handler=_command)


def config_from_args(args: argparse.Namespace) -> CompareConfig:
    cfg = quick_config() if args.quick else CompareConfig()
    changes: dict[str, Any] = {}
    if args.tasks is not None:
        changes["tasks"] = tuple(t.strip().upper() for t in args.tasks.split(","))
    if args.hidden is not None:
        changes["hidden"] = _ints("--hidden", args.hidden)
    if args.seeds is not None:
        changes["seeds"] = args.seeds
    if args.inputs is not None:
        changes["inputs"] = args.inputs
    if args.ks is not None:
        changes["ks"] = _ints("--ks", args.ks)
    if args.methods is not None:
        changes["methods"] = tuple(m.strip() for m in args.methods.split(","))
    check_jobs(args.jobs)  # the bound every command's --jobs has
    return replace(cfg, **changes)


def _ints(option: str, text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(","))
    except ValueError:
        raise BridgeConfigError(f"{option} {text!r}: give comma-separated whole numbers, "
                                "e.g. 2,3,4") from None


def _command(args: argparse.Namespace) -> int:
    if args.network != "logic":
        from ..road.cli import command

        return command(args, progress=show_progress(args.progress))
    road_only = [o for o, v in (("--data-root", args.data_root), ("--adjacency", args.adjacency),
                                ("--selections", args.selections),
                                ("--protocol", args.protocol), ("--horizon", args.horizon),
                                ("--fractions", args.fractions), ("--hops", args.hops))
                 if v is not None] + (["--no-async"] if args.no_async else [])
    if road_only:
        raise BridgeConfigError(f"{', '.join(road_only)} belong(s) to the road comparison; "
                                "add --network sz_taxi (or an .npz)")
    cfg = config_from_args(args)
    rows = run_compare(cfg, args.out, jobs=args.jobs, progress=show_progress(args.progress),
                       scheduler=args.scheduler)
    print(markdown(rows))
    print(f"\nwritten: {args.out}/summary.csv, results.csv, summary.md, error_vs_k.png, "
          "spectral_budget.png")
    return 0
