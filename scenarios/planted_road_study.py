"""Decentralized against centralized pruning where the answer is known: planted drivers on the
Shenzhen road graph (SZ-taxi's 156 roads), forecast 15 and 60 minutes ahead, on one metric.

    python scenarios/planted_road_study.py --jobs 2      # full: 5 seeds (about 90 minutes)
    python scenarios/planted_road_study.py --quick       # under a minute

Each seed makes a planted series (its drivers, parents, lags and weights written to
``truth/``), trains PruneGCRN on it, and runs the road comparison (the spectral rule, the
centralized selections, the drivers imposed, the references) at each horizon; the seeds pool
into ``h<H>/summary.md`` with paired differences, ``study.md``, ``recall_vs_kept.png`` and
``road_map.png``. See ``prunegcrn_bridge.road.planted``.

Data: ``--data-root`` (the folder holding ``SZ_TAXI/``; default ``$ARGNN_DATA``). The
planted series' options: ``--share``, ``--lags``, ``--noise``, ``--hops``, ``--missing``.
"""

from __future__ import annotations

from argnn_sim.errors import install_signals

install_signals()  # Ctrl-C while the modules below load: one line, exit 130

import argparse
import os
import re
import sys

from argnn_sim.errors import OneLineParser, show_progress, workers
from argnn_sim.experiment import main_guard, out_dir
from argnn_sim.figures import write_manifest

NAME = "planted_road_study"


def _lags(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?", text)
    if m is None:
        raise argparse.ArgumentTypeError(f"{text!r}: give whole steps, e.g. 1-4")
    return int(m[1]), int(m[2] if m[2] is not None else m[1])


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give comma-separated whole steps, "
                                         "e.g. 1,4") from None


def main() -> int:
    from prunegcrn_bridge.road.planted import (
        PlantedStudyConfig,
        quick_study_config,
        run_planted_study,
    )

    p = OneLineParser(prog=f"scenarios/{NAME}.py", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="a 400-step series, 2 seeds, short splits, no delayed links")
    p.add_argument("--out", help=f"results folder (default: results/{NAME}[-quick])")
    p.add_argument("--jobs", type=workers, default=1, help="worker processes")
    p.add_argument("--data-root", default=os.environ.get("ARGNN_DATA"),
                   help="folder holding SZ_TAXI/ (default: $ARGNN_DATA)")
    p.add_argument("--seeds", type=int, help="planted series (and run seeds); default 5")
    p.add_argument("--horizons", type=_ints, help="steps ahead (default 1,4: 15 and 60 min)")
    p.add_argument("--base", help="the road graph: sz_taxi (default) or an adjacency file")
    p.add_argument("--share", type=float, help="drivers' share of the sensors, in (0, 1)")
    p.add_argument("--lags", type=_lags, help="a parent's delay range in steps (default 1-4)")
    p.add_argument("--noise", type=float, help="followers' relative noise (default 0.1)")
    p.add_argument("--hops", type=int, help="parents lie within this many road hops "
                                            "(default 2)")
    p.add_argument("--missing", type=float, help="share of readings set to 0, in [0, 1)")
    p.add_argument("--no-prunegcrn", action="store_true", help="leave PruneGCRN out (no torch "
                                                               "training)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: on a terminal)")
    args = p.parse_args()
    changes = {"data_root": args.data_root or ""}
    for key in ("seeds", "horizons", "base", "share", "lags", "noise", "hops", "missing"):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    if args.no_prunegcrn:
        changes["prunegcrn_fraction"] = 0.0
    cfg = quick_study_config(**changes) if args.quick else PlantedStudyConfig(**changes)
    folder = out_dir(args, NAME, "planted-study")
    run_planted_study(cfg, folder, jobs=args.jobs, progress=show_progress(args.progress))
    write_manifest(folder, NAME, quick=bool(args.quick), argv=sys.argv[1:])
    print((folder / "study.md").read_text(encoding="utf-8"))
    print(f"written: {folder}/study.md, recall_vs_kept.png, road_map.png, h<H>/summary.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main_guard(main, NAME))
