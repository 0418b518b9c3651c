"""``argnn traffic``: PruneGCRN from the command line.

``argnn traffic train --data sz_taxi|synthetic|PATH.npz [--keep-fraction F | --gamma G]``
    trains one model and writes ``best.pt``, ``log.csv``, ``metrics.json`` and
    ``kept_nodes.json`` (kept set and raw-mask ranking) under ``results/<run>/``.
``argnn traffic compare --data ... [--fractions 1,0.75,0.5,0.25,0.1] [--seeds 3]``
    the comparison with random and correlation selection and the references, resumable.
``argnn traffic gammas --data ... [--gammas 0.75,0.5,0.25,0.1]``
    the paper's soft loss alone per gamma: the kept fraction it reaches, and random and
    correlation selection trained at that fraction; resumable.

``--data-root`` (or ``ARGNN_DATA``) is the folder holding ``SZ_TAXI/``; a PeMS file is
given by path (``--distance`` for its ``distance.csv``). Torch is imported only inside the
handlers.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from argnn_sim.errors import show_progress

HELP = "PruneGCRN node pruning for traffic forecasting (torch)"  # the one-line help `argnn --help` reads without importing this module
__all__ = ["register", "main"]


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="sz_taxi",
                   help="sz_taxi, synthetic, planted:sz_taxi[:key=value,...] (a planted series "
                        "on SZ-taxi's road graph), or a PeMS-style .npz path (default: sz_taxi)")
    p.add_argument("--data-root", help="folder holding SZ_TAXI/ (default: $ARGNN_DATA)")
    p.add_argument("--distance", help="distance.csv (from,to,cost) for a .npz file")
    p.add_argument("--protocol", default="default", choices=("default", "tgcn", "agcrn"),
                   help="evaluation protocol: tgcn (Zhao et al. 2019: 80/20, max scaling, 4 "
                        "steps in, 1-4 out, pooled scores), agcrn (Bai et al. 2020: 6:2:2, "
                        "z-score, 12 in and out, horizons 3/6/12) or default (this project's "
                        "6:2:2, 12 in and out)")
    p.add_argument("--metric", default="all", choices=("all", "masked"),
                   help="metric definition of the tables: all (every entry, the literature's; "
                        "default) or masked (targets != 0 only); the other is an extra column")
    p.add_argument("--scaler", default=None, choices=("train", "all"),
                   help="default protocol only: z-score with training statistics (default) "
                        "or the whole series'")
    p.add_argument("--epochs", type=int, default=None, help="at most (default: the protocol's, 100)")
    p.add_argument("--patience", type=int, default=None,
                   help="epochs without a better validation MAE before stopping (default 15)")
    p.add_argument("--loss", default=None, choices=("l1", "l2"),
                   help="training loss (default: the protocol's, l1)")
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--embed-dim", type=int, default=None,
                   help="node embedding size (default 10; 2 for PeMSD8 under --protocol agcrn)")
    p.add_argument("--batch-size", type=int, default=None, help="default: the protocol's, 64")
    p.add_argument("--silence-senders", action="store_true",
                   help="masked nodes also send nothing in the graph convolution")
    p.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    p.add_argument("--mask-init", type=float, default=1.0,
                   help="start value of every raw mask entry (default 1.0; >= --threshold)")
    p.add_argument("--mask-lr", type=float, default=None,
                   help="Adam learning rate of the raw mask (default: the model's, 0.003)")
    p.add_argument("--mask-optimizer", default="adam", choices=("adam", "sgd"),
                   help="optimizer of the raw mask (default adam; sgd: --mask-lr default 5)")
    p.add_argument("--soft-loss", default="linear", choices=("linear", "hinge"),
                   help="linear: MAE x (1 + kept - gamma), the paper's formula (default); "
                        "hinge: MAE x (1 + max(0, kept - gamma))")
    p.add_argument("--threshold", type=float, default=0.5,
                   help="binary clamp threshold: a node is kept while raw >= it (default 0.5)")
    p.add_argument("--bf16", action="store_true",
                   help="bfloat16 autocast for training (a GPU, or a CPU with AVX512-BF16 or "
                        "AMX); validation and test run in fp32")
    p.add_argument("--compile", action="store_true", help="torch.compile the model")
    p.add_argument("--out", help="results folder (default: results/<run>)")
    p.add_argument("--seed", type=int, default=0)


def register(sub: Any) -> None:
    """Add ``traffic`` to the ``argnn`` sub-command parser."""
    t = sub.add_parser("traffic", help="PruneGCRN node pruning for traffic forecasting")
    ts = t.add_subparsers(dest="traffic_command", required=True)
    tr = ts.add_parser("train", help="train one PruneGCRN (or fixed-selection) model")
    _common(tr)
    g = tr.add_mutually_exclusive_group()
    g.add_argument("--keep-fraction", type=float,
                   help="hard budget: keep exactly this share of nodes (top raw-mask values)")
    g.add_argument("--gamma", type=float, default=None,
                   help="soft: the loss MAE x (1 + mean(mask) - gamma), no budget")
    c = ts.add_parser("compare", help="PruneGCRN vs random vs correlation at equal budgets")
    _common(c)
    c.add_argument("--fractions", default=None,
                   help="kept shares (default 1,0.75,0.5,0.25,0.1; --quick: 1,0.25)")
    c.add_argument("--seeds", type=int, default=3)
    c.add_argument("--jobs", type=int, default=1,
                   help="models trained at once, each in its own process with one thread "
                        "(default 1; every model trains with one thread, so the numbers do not "
                        "depend on --jobs)")
    c.add_argument("--methods", default="prunegcrn,prunegcrn-soft,random,correlation",
                   help="selection methods at each fraction below 1 (default: all four)")
    c.add_argument("--quick", action="store_true",
                   help="a smoke run in under a minute: 100 and 25 %% kept, 2 seeds, 2 epochs "
                        "of 5 batches, hidden 8, one thread (the numbers only show the "
                        "pipeline works)")
    gm = ts.add_parser("gammas", help="the soft loss alone per gamma: the fraction it keeps, "
                                      "and random/correlation at that fraction")
    _common(gm)
    gm.add_argument("--gammas", default="0.75,0.5,0.25,0.1")
    gm.add_argument("--seeds", type=int, default=1, help="soft models per gamma (default 1)")
    gm.add_argument("--random-seeds", type=int, default=3,
                    help="random selections per reached k (default 3)")
    t.set_defaults(handler=main)


PEMS_HINT = ("PeMSD4/PeMSD8 series are not shipped: AGCRN's README points to the ASTGCN "
             "repository (github.com/Davidham3/ASTGCN, data/PEMS04/pems04.npz and "
             "data/PEMS08/pems08.npz); download the file and give its path to --data")


def _series(args: argparse.Namespace) -> Any:
    from argnn_sim.planted import is_planted

    from ..errors import DataError
    from .data import load_npz, load_planted, load_sz_taxi, synthetic

    if args.data == "sz_taxi":
        return load_sz_taxi(args.data_root)
    if args.data == "synthetic":
        return synthetic(seed=args.seed)
    if is_planted(args.data):
        return load_planted(args.data, args.data_root)
    path = Path(args.data)
    if not path.is_file() and path.suffix == ".npz":
        raise DataError(f"traffic data file {path} not found; {PEMS_HINT}")
    return load_npz(path, distance=args.distance)


def folder_name(name: str) -> str:
    """A series name as one plain path component (a planted spec holds ':' and ',').

    >>> folder_name("planted:sz_taxi:share=0.2,seed=1")
    'planted_sz_taxi_share_0.2_seed_1'
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "series"


def _cfg(args: argparse.Namespace, series: Any, **kw: Any) -> Any:
    """The training settings: the protocol's recipe, then the options given."""
    from .protocol import embed_dim_for, get_protocol
    from .train import config_for

    proto = get_protocol(args.protocol)
    given = {k: getattr(args, k) for k in ("epochs", "patience", "batch_size", "loss")
             if getattr(args, k) is not None}
    embed = args.embed_dim if args.embed_dim is not None else embed_dim_for(proto, series.name)
    return config_for(proto, hidden=args.hidden, embed_dim=embed,
                      silence_senders=args.silence_senders, device=args.device,
                      mask_init=args.mask_init, mask_lr=args.mask_lr,
                      mask_optimizer=args.mask_optimizer, soft_loss=args.soft_loss,
                      threshold=args.threshold, bf16=args.bf16, compile=args.compile,
                      progress=show_progress(None), metric=args.metric, **given, **kw)


def main(args: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        print("argnn: error: argnn traffic needs the bridge extra: pip install torch==2.13.0 "
              "&& pip install 'argnn-sim[bridge]'", file=sys.stderr)
        return 2
    from ..errors import BridgeConfigError

    if not 0 <= args.seed < 2**32:
        raise BridgeConfigError(f"--seed {args.seed}: give a whole number in [0, 2**32)")
    if args.scaler is not None and args.protocol != "default":
        raise BridgeConfigError(f"--scaler belongs to --protocol default; --protocol "
                                f"{args.protocol} fixes its own scaling")
    series = _series(args)
    if args.traffic_command == "train":
        return _train(args, series)
    if args.traffic_command == "gammas":
        return _gammas(args, series)
    return _compare(args, series)


def _gammas(args: argparse.Namespace, series: Any) -> int:
    from ..errors import BridgeConfigError
    from .experiment import gamma_study

    try:
        gs = tuple(float(g) for g in args.gammas.split(","))
    except ValueError:
        raise BridgeConfigError(f"--gammas {args.gammas!r}: give comma-separated shares in "
                                "[0, 1], e.g. 0.75,0.5") from None
    if not gs or any(not 0 <= g <= 1 for g in gs) or len(set(gs)) != len(gs):
        raise BridgeConfigError(f"--gammas {args.gammas}: give distinct shares in [0, 1]")
    for name in ("seeds", "random_seeds"):
        if not 1 <= getattr(args, name) <= 100:
            raise BridgeConfigError(f"--{name.replace('_', '-')} {getattr(args, name)}: give "
                                    "from 1 to 100")
    out = Path(args.out or f"results/prunegcrn-gammas-{folder_name(series.name)}")
    rows = gamma_study(series, out, gammas=gs, seeds=tuple(range(args.seeds)),
                       random_seeds=tuple(range(args.random_seeds)), cfg=_cfg(args, series),
                       protocol=args.protocol, scaler=args.scaler,
                       progress=show_progress(None))
    print((out / "gamma.csv").read_text())
    print(f"written: {out}/ (gamma.csv, runs/)")
    return 0 if rows else 1


def _train(args: argparse.Namespace, series: Any) -> int:
    from argnn_sim.outputs import claim_output, free_folder, write_atomic

    from ..errors import BridgeConfigError
    from .data import prepare
    from .train import train

    if args.keep_fraction is not None and not 0 < args.keep_fraction <= 1:
        raise BridgeConfigError(f"--keep-fraction {args.keep_fraction}: give a share in (0, 1]")
    keep = None if args.keep_fraction is None else max(1, round(args.keep_fraction *
                                                                series.num_nodes))
    tag = f"keep{args.keep_fraction:g}" if keep else f"gamma{args.gamma or 0.25:g}"
    cfg = _cfg(args, series, gamma=args.gamma if args.gamma is not None else 0.25)
    win = prepare(series, protocol=args.protocol, scaler=args.scaler)  # before any folder
    out = Path(args.out) if args.out else \
        free_folder(f"results/prunegcrn-{folder_name(series.name)}-{tag}-s{args.seed}",
                    "traffic-train")
    out = claim_output(out, "traffic-train", existing="refuse", what="--out")
    r = train(win, cfg=cfg, keep=keep, seed=args.seed, out=out)
    r.pop("log")
    write_atomic(out / "metrics.json", json.dumps({k: v for k, v in r.items() if k not in
                                                   ("kept", "ranking", "raw_mask")},
                                                  indent=1))
    write_atomic(out / "kept_nodes.json", json.dumps({"kept": r["kept"], "ranking":
                                                      r["ranking"], "raw_mask": r["raw_mask"]}))
    m = r["metrics"]
    print(f"{series.name}: kept {len(r['kept'])}/{series.num_nodes} nodes "
          f"({100 * r['kept_fraction']:.1f} %); protocol {m['protocol']}, metric "
          f"{m['definition']}; test MAE {m['mae']:.3f}, RMSE {m['rmse']:.3f}, "
          f"MAPE {100 * m['mape']:.2f} % (all nodes, every step); MAE {m['kept_mae']:.3f} on "
          "kept nodes")
    steps = ", ".join(f"step {k}: {m['mae_h'][k - 1]:.3f}" for k in m["steps"])
    print(f"MAE per step ({'steps 1..k pooled' if m['pooled'] else 'that step alone'}): {steps}")
    print(f"written: {out}/ (best.pt, log.csv, metrics.json, kept_nodes.json)")
    return 0


def _compare(args: argparse.Namespace, series: Any) -> int:
    from ..errors import BridgeConfigError
    from .experiment import compare

    if args.fractions is None:
        args.fractions = "1,0.25" if args.quick else "1,0.75,0.5,0.25,0.1"
    try:
        fr = tuple(float(f) for f in args.fractions.split(","))
    except ValueError:
        raise BridgeConfigError(f"--fractions {args.fractions!r}: give comma-separated shares "
                                "in (0, 1], e.g. 1,0.5,0.25") from None
    if not fr or any(not 0 < f <= 1 for f in fr) or len(set(fr)) != len(fr):
        raise BridgeConfigError(f"--fractions {args.fractions}: give distinct shares in (0, 1]")
    if not 1 <= args.seeds <= 1000:
        raise BridgeConfigError(f"--seeds {args.seeds}: give from 1 to 1000")
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    from .experiment import METHODS

    if not methods or any(m not in METHODS for m in methods) or len(set(methods)) != len(
            methods):
        raise BridgeConfigError(f"--methods {args.methods!r}: choose distinct names from "
                                f"{', '.join(METHODS)}")
    seeds = tuple(range(2 if args.quick else args.seeds))
    if not 1 <= args.jobs <= 64:
        raise BridgeConfigError(f"--jobs {args.jobs}: give from 1 to 64")
    cfg = _cfg(args, series)
    if args.quick:
        from dataclasses import replace

        cfg = replace(cfg, epochs=2, hidden=8, embed_dim=3, max_batches=5, progress=False)
    out = Path(args.out or f"results/prunegcrn-compare-{folder_name(series.name)}")
    from contextlib import nullcontext

    from ..threads import one_thread

    # --quick: products this small only lose time to a second thread
    with one_thread() if args.quick else nullcontext():
        compare(series, out, fractions=fr, seeds=seeds, methods=methods, cfg=cfg,
                protocol=args.protocol, scaler=args.scaler, jobs=args.jobs,
                progress=show_progress(None))
    print((out / "summary.csv").read_text())
    print(f"written: {out}/ (runs.csv, summary.csv, mae_vs_kept.png, kept_nodes.png)")
    return 0
