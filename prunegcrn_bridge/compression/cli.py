"""``argnn compress``: the GNN compression study from the command line.

``argnn compress run --task cora-node --method global --sparsity 0.5 [--seed 0]``
    trains the dense model of one task and seed, applies one method, prints both rows and
    writes ``results.csv``, ``summary.md`` and the plots to ``--out``.
``argnn compress study [--quick] --out DIR [--jobs N] [--resume] [--tasks ...]``
    runs the whole study (every task, method and setting over seeds/folds), resumable.
``argnn compress plot DIR`` redraws a study folder's tables and plots.

Data: ``--data-root`` (or ``ARGNN_DATA``) is the folder holding ``Cora/raw``,
``PROTEINS/raw`` and ``BBBP/raw``; processed caches go to ``--cache`` (or
``ARGNN_CACHE``, default ``~/.cache/argnn-sim``). This module imports torch only inside
the handlers, so ``argnn --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from argnn_sim.errors import show_progress

HELP = "GNN pruning and quantization study (torch)"  # the one-line help `argnn --help` reads without importing this module
__all__ = ["register", "main"]

METHODS = ("dense", "fine", "global", "l2", "qat", "dq", "a2q", "ptq-int8")
TASK_NAMES = ("cora-node", "cora-link", "proteins", "bbbp", "bbbp-scaffold")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", help="folder with Cora/, PROTEINS/, BBBP/ (default: "
                                       "$ARGNN_DATA)")
    p.add_argument("--cache", help="processed-data cache (default: $ARGNN_CACHE or "
                                   "~/.cache/argnn-sim)")
    p.add_argument("--quick", action="store_true", help="short training (tests, demos)")


def register(sub: Any) -> None:
    """Add ``compress`` to the ``argnn`` sub-command parser."""
    c = sub.add_parser("compress", help="GNN pruning and quantization study (torch)")
    cs = c.add_subparsers(dest="compress_command", required=True)
    r = cs.add_parser("run", help="one task, one seed, one method (plus the dense model)")
    r.add_argument("--task", required=True, choices=TASK_NAMES)
    r.add_argument("--method", required=True, choices=METHODS)
    r.add_argument("--sparsity", type=float, help="fine/global: fraction of weights removed")
    r.add_argument("--lam", type=float, help="l2: regularization strength")
    r.add_argument("--bits", type=int, help="qat/dq: 8 or 4 (a2q: target bits)")
    r.add_argument("--seed", type=int, default=0, help="seed (proteins: fold index)")
    r.add_argument("--model", help="override the task's model (gcn, gae, graph-gcn, gin)")
    r.add_argument("--cora-split", default="public", choices=("public", "random"))
    r.add_argument("--out", help="output folder (default: results/compress-<task>-<method>)")
    r.add_argument("--json", action="store_true", help="print the rows as JSON")
    _common(r)
    s = cs.add_parser("study", help="the whole study: all tasks, methods and settings")
    s.add_argument("--out", required=True, help="study folder (resumable)")
    s.add_argument("--jobs", type=int, default=1, help="worker processes")
    s.add_argument("--scheduler", default=None, help="inline, processes, local-dask, tcp://…")
    s.add_argument("--resume", action="store_true", help="continue the study in --out")
    s.add_argument("--tasks", help=f"comma-separated subset of {','.join(TASK_NAMES)}")
    s.add_argument("--seeds", type=int, help="seeds (folds for proteins) per task")
    s.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: on when stderr is a terminal)")
    _common(s)
    pl = cs.add_parser("plot", help="redraw a study folder's tables and plots")
    pl.add_argument("folder")
    c.set_defaults(handler=main)


def _need_torch() -> str | None:
    try:
        import torch  # noqa: F401
        import torch_geometric  # noqa: F401
    except ImportError as e:
        return (f"argnn compress needs the bridge extra ({e.name} is missing): "
                "pip install torch==2.13.0 && pip install 'argnn-sim[bridge]'")
    return None


def main(args: argparse.Namespace) -> int:
    """Handler of ``argnn compress``; returns the exit status."""
    why = _need_torch()
    if why:
        print(f"argnn: error: {why}", file=sys.stderr)
        return 2
    if args.compress_command == "run":
        return _run(args)
    if args.compress_command == "study":
        return _study(args)
    return _plot(args)


def _cfg_kw(args: argparse.Namespace) -> dict[str, Any]:
    return {"root": args.data_root, "cache": args.cache}


def _run(args: argparse.Namespace) -> int:
    from argnn_sim.outputs import check_output, claim_output, free_folder

    from ..errors import BridgeConfigError
    from .data import data_root
    from .study import StudyConfig, Variant, markdown, plot_study, run_single, write_tables

    m = args.method
    if m in ("fine", "global") and args.sparsity is None:
        raise BridgeConfigError(f"--method {m} needs --sparsity (a fraction in (0, 1))")
    if m == "l2" and args.lam is None:
        raise BridgeConfigError("--method l2 needs --lam (e.g. 1e-3)")
    if m == "a2q" and args.bits is not None and not 2 <= args.bits <= 16:
        raise BridgeConfigError(f"--bits {args.bits}: a2q's target bits are 2 to 16")
    if m in ("qat", "dq") and args.bits not in (8, 4):
        raise BridgeConfigError(f"--method {m} needs --bits 8 or --bits 4")
    if not 0 <= args.seed < 2**32:
        raise BridgeConfigError(f"--seed {args.seed}: give a whole number in [0, 2**32)")
    if args.lam is not None and not (math.isfinite(args.lam) and args.lam >= 0):
        raise BridgeConfigError(f"--lam {args.lam}: give a finite number >= 0, e.g. 1e-3")
    if args.sparsity is not None and not 0.0 < args.sparsity < 1.0:
        raise BridgeConfigError(f"--sparsity {args.sparsity} is out of range; give a "
                                "fraction in (0, 1), e.g. 0.5")
    data_root(args.data_root)  # fail early, before any training
    v = Variant(m, sparsity=args.sparsity if m in ("fine", "global") else None,
                lam=args.lam if m == "l2" else None,
                bits=(args.bits or 4) if m == "a2q" else 8 if m == "ptq-int8"
                else args.bits if m in ("qat", "dq") else None)
    cfg = StudyConfig(tasks=(args.task,), quick=args.quick, cora_split=args.cora_split,
                      model=args.model, **_cfg_kw(args))
    out = Path(args.out) if args.out else \
        free_folder(f"results/compress-{args.task}-{m}", "compress-run")
    check_output(out, "compress-run", what="--out")  # before any training
    rows = run_single(args.task, v, seed=args.seed, cfg=cfg)
    out = claim_output(out, "compress-run", what="--out")
    write_tables(rows, out)
    plot_study(rows, out)
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        print(markdown(rows))
        print(f"written: {out}/results.csv, summary.md, pruning.png")
    return 0


def _study(args: argparse.Namespace) -> int:
    from argnn_sim.executors import check_jobs

    from ..errors import BridgeConfigError
    from .data import data_root
    from .study import StudyConfig, run_study

    data_root(args.data_root)
    kw: dict[str, Any] = _cfg_kw(args)
    if args.tasks is not None:
        kw["tasks"] = tuple(t.strip() for t in args.tasks.split(",") if t.strip())
        if not kw["tasks"] or len(set(kw["tasks"])) != len(kw["tasks"]):
            raise BridgeConfigError(f"--tasks {args.tasks!r}: give distinct task names, "
                                    f"comma-separated, from {', '.join(TASK_NAMES)}")
    check_jobs(args.jobs)  # before run_study clamps it to the number of units
    if args.seeds is not None:
        if not 1 <= args.seeds <= 1000:
            raise BridgeConfigError(f"--seeds {args.seeds}: give from 1 to 1000")
        kw["seeds"] = {t: tuple(range(args.seeds)) for t in TASK_NAMES}
    cfg = (StudyConfig.quick_config if args.quick else StudyConfig)(**kw)
    res = run_study(cfg, args.out, jobs=args.jobs, scheduler=args.scheduler,
                    resume=args.resume,
                    progress=show_progress(args.progress))
    print(Path(args.out, "summary.md").read_text() if res["rows"] else "no finished units")
    for f in res["failed"]:
        print(f"FAILED {f['task']} seed {f['seed']}: {f['error']}", file=sys.stderr)
    return 1 if res["failed"] else 0


def _plot(args: argparse.Namespace) -> int:
    from .study import load_rows, plot_study, write_tables

    folder = Path(args.folder)
    if not (folder / "units").is_dir():
        raise FileNotFoundError(f"{folder} is not a study folder (no units/ inside); give "
                                "the --out of `argnn compress study`")
    rows = load_rows(folder)
    write_tables(rows, folder)
    paths = plot_study(rows, folder)
    print(f"written: {', '.join(str(p) for p in paths)}")
    return 0
