"""PruneGCRN node selection against random and correlation selection at equal kept
fractions, on planted synthetic data (where the ideal selection is known) and on SZ-taxi.

    python scenarios/prunegcrn_selection.py --data-root ../shared/data          # full (GPU)
    python scenarios/prunegcrn_selection.py --quick                             # a minute

Full: kept 100, 75, 50, 25, 10 %, 5 seeds, the AGCRN recipe (100 epochs, patience 15,
hidden 64). That is about 90 models per data set: hours on a GPU, far more on a CPU; use
``--epochs``/``--hidden`` to shrink it. Quick: a 24-node synthetic network, 100 and 25 %,
2 seeds, 3 epochs, hidden 8.

Writes ``<out>/<data>/`` per data set (``runs/`` one JSON per model, so a killed run
resumes; ``runs.csv``, ``summary.csv``, ``mae_vs_kept.png``, ``kept_nodes.png``) and
``<out>/summary.md``: MAE against kept fraction per method, the planted-driver precision
and the Jaccard similarity of kept sets across seeds; on planted data also a linear
yardstick (``yardstick.json``): the test MAE of an exactly fitted ridge forecaster from the
best planted drivers, from a greedy set over all nodes and from random sets, at each
budget, so a learned selection can be judged against what the budget allows.
"""

from __future__ import annotations

from argnn_sim.errors import install_signals

install_signals()  # Ctrl-C while the modules below load: one line, exit 130

import json
import sys
from dataclasses import replace
from pathlib import Path

from argnn_sim.errors import show_progress
from argnn_sim.experiment import main_guard, md_table, out_dir, parser
from argnn_sim.figures import write_manifest
from argnn_sim.outputs import write_atomic

NAME = "prunegcrn_selection"


def main(argv: list[str] | None = None) -> int:
    p = parser(NAME, __doc__.split("\n\n")[0])
    p.add_argument("--data-root", help="folder holding SZ_TAXI/ (default: $ARGNN_DATA)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--hidden", type=int, default=None)
    p.add_argument("--seeds", type=int, default=None)
    p.add_argument("--data", default=None, help="comma list of synthetic, sz_taxi")
    args = p.parse_args(argv)
    from prunegcrn_bridge.traffic import data as T
    from prunegcrn_bridge.traffic.experiment import compare, summarize
    from prunegcrn_bridge.traffic.oracle import yardstick
    from prunegcrn_bridge.traffic.train import TrainConfig

    quick = bool(args.quick)
    cfg = TrainConfig(epochs=3, hidden=8, embed_dim=3, patience=3) if quick else TrainConfig()
    if args.epochs:
        cfg = replace(cfg, epochs=args.epochs)
    if args.hidden:
        cfg = replace(cfg, hidden=args.hidden)
    seeds = tuple(range(args.seeds or (2 if quick else 5)))
    fractions = (1.0, 0.25) if quick else (1.0, 0.75, 0.5, 0.25, 0.1)
    names = (args.data.split(",") if args.data else ["synthetic"] if quick
             else ["synthetic", "sz_taxi"])
    folder = out_dir(args, NAME)
    lines = ["# PruneGCRN node selection", ""]
    if quick:
        lines += ["(quick mode: tiny models trained for 3 epochs; the numbers only show the "
                  "pipeline works)", ""]
    for name in names:
        series = (T.synthetic(24, drivers=6, steps=700, seed=0) if quick and
                  name == "synthetic" else T.synthetic(seed=0) if name == "synthetic"
                  else T.load_sz_taxi(args.data_root))
        recs = compare(series, folder / name, fractions=fractions, seeds=seeds, cfg=cfg,
                       progress=show_progress(args.progress))
        summ = summarize(recs, series)
        if series.drivers is not None:
            stick = yardstick(series, [f for f in fractions if f < 1], draws=10 if quick
                              else 30)
            write_atomic(Path(folder) / name / "yardstick.json", json.dumps(stick, indent=1))
        lines += [f"## {name} ({series.num_nodes} nodes)", "",
                  md_table(summ, ["method", "fraction", "n", "mae_mean", "mae_sd",
                                  "kept_mae_mean", "kept_fraction", "driver_precision",
                                  "jaccard"],
                           {"mae_mean": ".3f", "mae_sd": ".3f", "kept_mae_mean": ".3f",
                            "kept_fraction": ".2f", "driver_precision": ".2f",
                            "jaccard": ".2f"}), ""]
        if series.drivers is not None:
            lines += ["Linear yardstick (ridge regression from the kept nodes' last 12 "
                      "readings to every node's next 12, fitted exactly; "
                      "`prunegcrn_bridge.traffic.oracle`): is the planted driver set the "
                      "ideal selection at each budget?", "",
                      md_table(stick, ["selection", "k", "mae", "mae_sd", "precision"],
                               {"mae": ".3f", "mae_sd": ".3f", "precision": ".2f"}), ""]
    text = "\n".join(lines)
    write_atomic(Path(folder) / "summary.md", text + "\n")
    write_manifest(folder, NAME, quick=quick, argv=sys.argv[1:], data=names)
    print(text)
    print(f"written: {folder}/summary.md and one folder per data set")
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main, NAME))
