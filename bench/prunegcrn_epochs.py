"""``train()``'s epoch time, this tree against an older checkout, in alternating processes.

    git worktree add /tmp/base c0e7bd9      # the tree when the speed issue was filed
    python bench/prunegcrn_epochs.py --baseline /tmp/base --data-root ../shared/data

Each repetition runs ``argnn traffic train --data sz_taxi --keep-fraction 0.25 --epochs E``
(the issue's command) in the baseline tree (fp32), then in this tree in fp32 and, where the
CPU has native bf16 arithmetic, with ``--bf16``; every run is a fresh process, and the
trees alternate so that a change in a shared machine's speed reaches both. It reads each
run's ``log.csv`` and reports every epoch's seconds, the median per variant and the ratios
of the medians. Prints a table and writes JSON (``--out``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
from prunegcrn_train import bf16_native  # noqa: E402


def run(tree: Path, out: Path, args: argparse.Namespace, bf16: bool) -> list[float]:
    cmd = [sys.executable, "-m", "argnn_sim", "traffic", "train", "--data", args.data,
           "--keep-fraction", str(args.keep_fraction), "--epochs", str(args.epochs),
           "--device", "cpu", "--out", str(out)] + (["--bf16"] if bf16 else [])
    if args.data_root:
        cmd += ["--data-root", str(Path(args.data_root).resolve())]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    code = subprocess.run(cmd, cwd=tree, env=env, stdout=subprocess.DEVNULL).returncode
    if code != 0:  # the run printed its own one-line error above
        print(f"prunegcrn_epochs: training in {tree} failed (exit status {code}); see its "
              "error above. Nothing was written.", file=sys.stderr)
        sys.exit(2)
    with open(out / "log.csv", newline="") as fh:
        return [float(row["seconds"]) for row in csv.DictReader(fh)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--baseline", required=True, help="a checkout of the older tree")
    p.add_argument("--data", default="sz_taxi")
    p.add_argument("--data-root", default=None, help="folder holding SZ_TAXI/")
    p.add_argument("--keep-fraction", type=float, default=0.25)
    p.add_argument("--epochs", type=int, default=2, help="epochs per run (default 2)")
    p.add_argument("--repeats", type=int, default=2, help="runs per variant (default 2)")
    p.add_argument("--out", default=str(HERE / "prunegcrn_epochs.json"))
    args = p.parse_args(argv)
    if args.epochs < 1 or args.repeats < 1:
        p.error(f"--epochs {args.epochs} --repeats {args.repeats}: give 1 or more of each")
    base = Path(args.baseline).resolve()
    if not (base / "prunegcrn_bridge").is_dir():
        p.error(f"--baseline {base}: not a checkout of this project (no prunegcrn_bridge/)")
    variants = [("baseline fp32", base, False), ("this tree fp32", ROOT, False)]
    if bf16_native(torch.device("cpu")):
        variants.append(("this tree bf16", ROOT, True))
    seconds: dict[str, list[float]] = {name: [] for name, _, _ in variants}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeats):
            for name, tree, bf16 in variants:
                out = Path(tmp) / f"{name.replace(' ', '_')}_{k}"
                seconds[name] += run(tree, out, args, bf16)
                print(f"run {k + 1}/{args.repeats} {name}: epochs "
                      + ", ".join(f"{s:.1f}" for s in seconds[name][-args.epochs:]) + " s",
                      flush=True)
    med = {name: statistics.median(v) for name, v in seconds.items()}
    print(f"\n{'variant':<18}{'median epoch s':>15}{'x baseline':>11}")
    for name in seconds:
        print(f"{name:<18}{med[name]:15.1f}{med['baseline fp32'] / med[name]:11.2f}")
    Path(args.out).write_text(json.dumps({
        "baseline": str(base), "data": args.data, "keep_fraction": args.keep_fraction,
        "epochs": args.epochs, "repeats": args.repeats, "seconds": seconds,
        "median_s": med,
        "speedup": {n: med["baseline fp32"] / m for n, m in med.items()}}, indent=1))
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
