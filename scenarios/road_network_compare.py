"""Decentralized against centralized pruning on the Shenzhen road sensors (SZ-taxi): the
simulator's local spectral rule side by side with PruneGCRN's sensor selections, random and
magnitude selection, on one simulated recurrent network that forecasts every sensor's
speed 15 minutes ahead.

    python scenarios/road_network_compare.py --jobs 2          # full (about 15 minutes)
    python scenarios/road_network_compare.py --quick           # under a minute

Data: ``--data-root`` (the folder holding ``SZ_TAXI/``; default ``$ARGNN_DATA``). PruneGCRN's
kept sensors come from its SZ-taxi runs, ``--selections`` (default: the runs committed in
``docs/figures/prunegcrn/sz_taxi_tgcn`` of this repository, trained under T-GCN's protocol,
``--protocol tgcn``); without them the PruneGCRN rows are left out and the table says so.
Their checkpoints, where the folder keeps them (``models/``, not committed), forecast this
comparison's own test targets: the ``agcrn`` rows. Every row is scored on every entry (the
``all`` metric definition).

Writes ``<out>/runs/<method>-s<seed>[-f<kept>].json`` (one file per finished run: a killed
comparison resumes), ``rows.json``, ``summary.csv``, ``paired.csv``, ``summary.md``,
``error_vs_kept.png`` and ``road_map.png``. See ``prunegcrn_bridge.road``.
"""

from __future__ import annotations

from argnn_sim.errors import install_signals

install_signals()  # Ctrl-C while the modules below load: one line, exit 130

import argparse
import os
import sys
from pathlib import Path

from argnn_sim.errors import OneLineParser, show_progress, workers
from argnn_sim.experiment import main_guard, out_dir
from argnn_sim.figures import write_manifest

NAME = "road_network_compare"
REPO = Path(__file__).resolve().parents[1]
SELECTIONS = (REPO / "docs/figures/prunegcrn/sz_taxi_tgcn",)
PROTOCOL = "tgcn"  # what SELECTIONS were trained under


def main() -> int:
    from prunegcrn_bridge.road import (
        RoadConfig,
        quick_road_config,
        road_markdown,
        run_road_compare,
    )

    p = OneLineParser(prog=f"scenarios/{NAME}.py", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="short splits, 2 seeds, 100 and 25 %% kept, no delayed links")
    p.add_argument("--out", help=f"results folder (default: results/{NAME}[-quick])")
    p.add_argument("--jobs", type=workers, default=1, help="worker processes")
    p.add_argument("--data-root", default=os.environ.get("ARGNN_DATA"),
                   help="folder holding SZ_TAXI/ (default: $ARGNN_DATA)")
    p.add_argument("--selections", help="PruneGCRN's `argnn traffic compare --out` folders, "
                                        "comma-separated")
    p.add_argument("--protocol", choices=("default", "tgcn", "agcrn"),
                   help=f"the protocol --selections were trained under (default: {PROTOCOL} "
                        "for the committed runs, default for others)")
    p.add_argument("--seeds", type=int)
    p.add_argument("--horizon", type=int, help="steps ahead (default 1: 15 minutes)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: on a terminal)")
    args = p.parse_args()
    sel = tuple(args.selections.split(",")) if args.selections else \
        tuple(str(f) for f in SELECTIONS if (f / "compare.json").is_file())
    protocol = args.protocol or (PROTOCOL if not args.selections else "default")
    changes = {"data_root": args.data_root or "", "selections": sel, "protocol": protocol}
    if args.seeds is not None:
        changes["seeds"] = args.seeds
    if args.horizon is not None:
        changes["horizon"] = args.horizon
    cfg = quick_road_config(asynchronous=False, **changes) if args.quick else RoadConfig(**changes)
    folder = out_dir(args, NAME, "road-compare")
    rows = run_road_compare(cfg, folder, jobs=args.jobs, progress=show_progress(args.progress))
    write_manifest(folder, NAME, quick=bool(args.quick), argv=sys.argv[1:])
    print(road_markdown(rows))
    if not sel:
        print("\nno PruneGCRN runs found: the PruneGCRN rows are left out (--selections)")
    print(f"\nwritten: {folder}/summary.md, summary.csv, paired.csv, error_vs_kept.png, "
          "road_map.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main_guard(main, NAME))
