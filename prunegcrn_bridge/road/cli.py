"""``argnn traffic compare``: the road comparison's command line."""

from __future__ import annotations

import os
from typing import Any

from ..errors import BridgeConfigError
from .config import RoadConfig, quick_road_config
from .report import road_markdown
from .run import run_road_compare


def command(args: Any, *, progress: bool = False) -> int:
    """``argnn compare --network NAME``: the road comparison (options in
    :func:`prunegcrn_bridge.compare.register`)."""
    cfg = road_config_from_args(args)
    rows = run_road_compare(cfg, args.out, jobs=args.jobs, progress=progress)
    print(road_markdown(rows))
    print(f"\nwritten: {args.out}/summary.csv, paired.csv, summary.md, error_vs_kept.png, "
          "road_map.png")
    return 0


def road_config_from_args(args: Any) -> RoadConfig:
    """The :class:`RoadConfig` the ``argnn compare --network`` options describe."""
    logic_only = [o for o, v in (("--tasks", args.tasks), ("--hidden", args.hidden),
                                 ("--inputs", args.inputs), ("--ks", args.ks),
                                 ("--methods", args.methods)) if v is not None]
    if logic_only:
        raise BridgeConfigError(f"{', '.join(logic_only)} belong(s) to the logic-circuit "
                                "comparison; with --network give --fractions, --seeds, --hops, "
                                "--selections")
    changes: dict[str, Any] = {"data": args.network}
    for opt in ("data_root", "adjacency"):
        v = getattr(args, opt)
        if v is not None:
            changes[opt] = str(v)
    if args.selections is not None:
        changes["selections"] = tuple(x for x in args.selections.split(",") if x)
    if args.data_root is None and os.environ.get("ARGNN_DATA"):
        changes["data_root"] = os.environ["ARGNN_DATA"]
    if args.seeds is not None:
        changes["seeds"] = args.seeds
    if getattr(args, "protocol", None) is not None:
        changes["protocol"] = args.protocol
    if getattr(args, "horizon", None) is not None:
        changes["horizon"] = args.horizon
    if args.hops is not None:
        changes["hops"] = args.hops
    if args.fractions is not None:
        try:
            changes["fractions"] = tuple(float(x) for x in args.fractions.split(","))
        except ValueError:
            raise BridgeConfigError(f"--fractions {args.fractions!r}: give comma-separated "
                                    "shares, e.g. 1,0.5,0.25,0.1") from None
    if args.no_async:
        changes["asynchronous"] = False
    return quick_road_config(**changes) if args.quick else RoadConfig(**changes)
