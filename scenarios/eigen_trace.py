"""The spectral-pruning paper's Fig. 1 and Fig. 2 for one chosen run: the network before and
after pruning (removed edges dashed) and every node's local-Laplacian eigenvalues over its
checks, with the checks that removed an edge marked.

    python scenarios/eigen_trace.py                              # XOR, h = 2, DW, seed 0
    python scenarios/eigen_trace.py --gate AND --hidden 3 --mode D --seed 4
    python scenarios/eigen_trace.py --quick                      # 300 inputs

Writes the run folder (``summary.json``, ``prune_events.csv``, ``curve.csv``,
``edges.csv``, ``traces.npz``), ``graph.png`` (Fig. 1), ``eigenvalues.png`` (Fig. 2),
``curves.png`` and ``summary.md``.
"""

from __future__ import annotations

from argnn_sim.errors import install_signals

install_signals()  # Ctrl-C while the modules below load: one line, exit 130

import json
import sys
from pathlib import Path

from argnn_sim import simulate
from argnn_sim.config import Scenario
from argnn_sim.errors import OutputError
from argnn_sim.experiment import finish, main_guard, md_table, out_dir, parser
from argnn_sim.results import atomic_dir, write_files

NAME = "eigen_trace"


def _check_earlier(folder: Path, argv: list[str], force: bool) -> None:
    """One run per folder: an earlier result made with other options is replaced only with
    --force (the same options make the same run, so running them again replaces nothing)."""
    manifest = folder / "manifest.json"
    if force or not manifest.is_file():
        return
    try:
        old = json.loads(manifest.read_text(encoding="utf-8")).get("argv")
    except (OSError, ValueError, AttributeError):
        old = None
    if old is not None and [a for a in old if a != "--force"] == \
            [a for a in argv if a != "--force"]:
        return
    raise OutputError(f"{str(folder)!r} holds an earlier eigen_trace made with other options "
                      f"({' '.join(old) if old else 'unknown'}); pass --force to replace it, "
                      "or choose another --out")


def main(argv: list[str] | None = None) -> int:
    p = parser(NAME, __doc__.split("\n\n")[0])
    p.add_argument("--gate", default="XOR")
    p.add_argument("--hidden", type=int, default=2)
    p.add_argument("--mode", default="DW", help="D or DW")
    p.add_argument("--rule", default="reference", help="reference or local")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--inputs", type=int, default=None, help="training inputs (default 2000)")
    p.add_argument("--published-seed", action="store_true",
                   help="draw as the published code does (rng.mode = reference)")
    p.add_argument("--force", action="store_true",
                   help="replace an earlier result in --out made with other options")
    args = p.parse_args(argv)
    inputs = args.inputs or (300 if args.quick else 2000)
    sc = Scenario.from_dict({
        "name": NAME, "seed": args.seed, "task": {"gate": args.gate},
        "network": {"hidden": args.hidden}, "schedule": {"inputs": inputs},
        "pruning": {"mode": args.mode, "rule": args.rule},
        "rng": {"mode": "reference" if args.published_seed else "default"}})
    folder = out_dir(args, NAME)
    _check_earlier(folder, sys.argv[1:] if argv is None else argv, args.force)
    res = simulate(sc)
    with atomic_dir(folder, kind=f"scenario/{NAME}", replace=True) as tmp:
        write_files(res, tmp)
    events = [{"input": e["input"], "pass": e["sweep"], "decided by": e["node"],
               "edge": f"{e['edge'][0]} -> {e['edge'][1]}",
               "remote": "yes" if e["remote"] else ""} for e in res.prune_events]
    md = "\n".join([
        f"# Eigenvalue traces of one run{' (quick)' if args.quick else ''}", "",
        f"{sc.task.gate}, h = {sc.network.hidden}, mode {sc.pruning.mode}, rule "
        f"{sc.pruning.rule}, seed {sc.seed}, {inputs} inputs: error {res.error:.4f}, edges "
        f"{res.edges_before} -> {res.edges_after}, {res.counters['checks']:,} spectral checks.",
        "", md_table(events, ["input", "pass", "decided by", "edge", "remote"]) if events
        else "No edge was removed.", "",
        "Fig. 1: ![graph](graph.png)", "", "Fig. 2: ![eigenvalues](eigenvalues.png)", "",
        "Training: ![curves](curves.png)"])
    finish(folder, "eigen_trace", md, args)
    return 0


if __name__ == "__main__":
    sys.exit(main_guard(main, NAME))
