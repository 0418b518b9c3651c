"""Centralized vs decentralized pruning at equal numbers of removed edges k, on the same
circuits, tasks and seeds, every method evaluated in the simulator.

    python scenarios/centralized_vs_decentralized.py --jobs 2     # full (about an hour)
    python scenarios/centralized_vs_decentralized.py --quick      # seconds

The full comparison: AND, OR, XOR and 3-bit parity; h = 2..10; 10 seeds; 2000 training
inputs x 10 passes; spectral pruning (reference and local rules, mode DW), magnitude pruning
per node and global, random pruning, a learned edge mask and learned hidden-node pruning
(see ``prunegcrn_bridge.compare``); k as removed by the reference and local rules in each
run, and k = 1, 2, 4, 8; each without and with 300 inputs of fine-tuning in the simulator.

Writes ``<out>/units/<task>-h<h>.json`` (one file per finished task and h, so a killed run
resumes), ``results.csv`` (one row per evaluation), ``summary.csv`` (method, task, h,
budget, fine-tuning: error mean ± sd over seeds), ``error_vs_k.png``,
``spectral_budget.png`` and ``summary.md`` (which method wins where, by how much).
Options ``--tasks``, ``--hidden``, ``--seeds``, ``--ks`` and ``--methods`` narrow it.
"""

from __future__ import annotations

from argnn_sim.errors import install_signals

install_signals()  # Ctrl-C while the modules below load: one line, exit 130

import argparse
import sys

from argnn_sim.errors import OneLineParser, show_progress, workers
from argnn_sim.experiment import main_guard, out_dir
from argnn_sim.figures import write_manifest

NAME = "centralized_vs_decentralized"


def main() -> int:
    from prunegcrn_bridge.compare import config_from_args, markdown, run_compare

    p = OneLineParser(prog=f"scenarios/{NAME}.py", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="a small version (seconds)")
    p.add_argument("--out", help=f"results folder (default: results/{NAME}[-quick])")
    p.add_argument("--jobs", type=workers, default=1, help="worker processes")
    p.add_argument("--scheduler", default=None,
                   help="inline, processes, local-dask or a Dask address tcp://host:port")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: on a terminal)")
    for opt in ("--tasks", "--hidden", "--ks", "--methods"):
        p.add_argument(opt, help="comma-separated; see argnn compare --help")
    p.add_argument("--seeds", type=int)
    p.add_argument("--inputs", type=int)
    args = p.parse_args()
    folder = out_dir(args, NAME, "compare")
    rows = run_compare(config_from_args(args), folder, jobs=args.jobs,
                       progress=show_progress(args.progress),
                       scheduler=args.scheduler)
    write_manifest(folder, NAME, quick=bool(args.quick), argv=sys.argv[1:])
    print(markdown(rows))
    print(f"\nwritten: {folder}/summary.md, summary.csv, results.csv, error_vs_k.png, "
          "spectral_budget.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main_guard(main, NAME))
