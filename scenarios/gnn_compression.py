"""The GNN compression study (three pruning and three quantization methods on Cora,
PROTEINS and BBBP) with its literature targets checked.

    python scenarios/gnn_compression.py --data-root ../shared/data --jobs 2   # full
    python scenarios/gnn_compression.py --quick                               # minutes

The full study: Cora nodes (GCN, public split, 5 seeds), Cora links (GAE, 3 seeds), PROTEINS
(GIN, 10-fold CV), BBBP (GIN, random split accuracy and scaffold split ROC-AUC, 3 seeds
each); fine-grained and global magnitude pruning at sparsity 0.1, 0.3, 0.5, 0.7, 0.9 with
fine-tuning; L2-norm regularization at lam 1e-3, 1e-2, 1e-1; QAT and Degree-Quant at INT8
and INT4, A²Q (target 4 bits) and torchao int8 PTQ on Cora nodes, PROTEINS and BBBP.

Writes ``<out>/study/`` (``units/*.json``: one file per finished task and seed, so a killed
study resumes; ``results.csv``, ``summary.csv``, ``summary.md``, ``pruning.png``,
``quantization.png``) and ``<out>/targets.md`` (each target: measured value, pass or miss).
``argnn compress plot <out>/study`` redraws the tables and plots. Exit status 1 when a
target is missed in the full study (the quick study trains too briefly to be judged).
"""

from __future__ import annotations

from argnn_sim.errors import install_signals

install_signals()  # Ctrl-C while the modules below load: one line, exit 130

import math
import sys
from pathlib import Path
from typing import Any

from argnn_sim.errors import show_progress
from argnn_sim.experiment import main_guard, md_table, out_dir, parser
from argnn_sim.figures import write_manifest
from argnn_sim.outputs import write_atomic

NAME = "gnn_compression"


def _mean(rows: list[dict[str, Any]], task: str, method: str, **match: Any) -> tuple[float,
                                                                                     int]:
    vals = [r["metric"] for r in rows if r["task"] == task and r["method"] == method
            and all(r.get(k) == v for k, v in match.items())]
    return (sum(vals) / len(vals), len(vals)) if vals else (math.nan, 0)


def check_targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's literature targets, each with its measured value and verdict."""
    out: list[dict[str, Any]] = []

    def add(name: str, value: str, ok: bool | None) -> None:
        out.append({"target": name, "measured": value,
                    "verdict": "n/a" if ok is None else "pass" if ok else "MISS"})

    dense, n = _mean(rows, "cora-node", "dense")
    add("GCN on Cora (public split) >= 80.5 % mean over 5 seeds",
        f"{100 * dense:.2f} % (n={n})", None if n == 0 else dense >= 0.805 and n >= 5)
    g50, n50 = _mean(rows, "cora-node", "global", sparsity=0.5)
    add("50 % global pruning + fine-tuning within 1 point of dense (Cora)",
        f"{100 * g50:.2f} % vs {100 * dense:.2f} % ({100 * (g50 - dense):+.2f} points)",
        None if n50 == 0 else g50 >= dense - 0.01)
    gin, nf = _mean(rows, "proteins", "dense")
    add("GIN on PROTEINS, 10-fold CV, in 73-76 %", f"{100 * gin:.2f} % (folds={nf})",
        None if nf == 0 else 0.73 <= gin <= 0.76 and nf == 10)
    for task in ("proteins", "bbbp", "cora-node"):
        fp, _ = _mean(rows, task, "dense")
        q8, nq = _mean(rows, task, "qat", bits=8)
        if nq:
            add(f"INT8 QAT within 1 point of FP32 ({task})",
                f"{100 * q8:.2f} % vs {100 * fp:.2f} % ({100 * (q8 - fp):+.2f} points)",
                q8 >= fp - 0.01)
        q4, n4 = _mean(rows, task, "qat", bits=4)
        d4, nd = _mean(rows, task, "dq", bits=4)
        if n4 and nd:
            add(f"Degree-Quant INT4 better than plain INT4 QAT ({task})",
                f"DQ {100 * d4:.2f} % vs QAT {100 * q4:.2f} % ({100 * (d4 - q4):+.2f} points)",
                d4 > q4)
    return out


def main(argv: list[str] | None = None) -> int:
    p = parser(NAME, __doc__.split("\n\n")[0])
    p.add_argument("--data-root", help="folder with Cora/, PROTEINS/, BBBP/ (default: "
                                       "$ARGNN_DATA)")
    p.add_argument("--cache", help="processed-data cache (default: $ARGNN_CACHE)")
    args = p.parse_args(argv)
    from prunegcrn_bridge.compression.data import data_root
    from prunegcrn_bridge.compression.study import StudyConfig, run_study

    data_root(args.data_root)  # a missing data folder: one line, before anything is written
    kw = {"root": args.data_root, "cache": args.cache}
    cfg = StudyConfig.quick_config(**kw) if args.quick else StudyConfig(**kw)
    folder = out_dir(args, NAME)
    res = run_study(cfg, folder / "study", jobs=args.jobs or 2, scheduler=args.scheduler,
                    resume=True, progress=show_progress(args.progress))
    write_manifest(folder, NAME, quick=bool(args.quick), argv=sys.argv[1:])
    targets = check_targets(res["rows"])
    text = ("# GNN compression study: literature targets\n\n"
            + ("(quick mode: short training, so the verdicts are not meaningful)\n\n"
               if args.quick else "")
            + md_table(targets, ["target", "measured", "verdict"]) + "\n")
    write_atomic(Path(folder) / "targets.md", text)
    print((Path(folder) / "study" / "summary.md").read_text())
    print(text)
    print(f"written: {folder}/targets.md, {folder}/study/ (summary.md, results.csv, "
          "pruning.png, quantization.png)")
    for f in res["failed"]:
        print(f"FAILED {f['task']} seed {f['seed']}: {f['error']}", file=sys.stderr)
    missed = any(t["verdict"] == "MISS" for t in targets)
    return 1 if res["failed"] or (missed and not args.quick) else 0


if __name__ == "__main__":
    sys.exit(main_guard(main, NAME))
