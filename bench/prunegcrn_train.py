"""PruneGCRN training and inference benchmark on a PeMSD4-sized synthetic series.

    python bench/prunegcrn_train.py                    # CPU (and every GPU variant if CUDA)
    python bench/prunegcrn_train.py --batches 20 --device cuda

Training: N = 307 nodes, T = 16992 steps (PeMSD4's shape), 12-in / 12-out windows, the
6:2:2 split (10,173 training and 3,375 validation windows, as AGCRN's PeMSD4), batch 64,
the AGCRN recipe (hidden 64, 2 layers, d = 10). For each device and variant (fp32 or bf16
autocast, eager or ``torch.compile``) it times ``--batches`` training steps after
``--warmup`` steps and reports samples/s, the implied epoch time (training plus one pass
over the validation windows) and peak memory (CUDA: ``max_memory_allocated``; CPU: the
process's peak resident set, ``ru_maxrss``). Data live on the device as one tensor; a batch
is an index into it (no per-batch host copies).

Inference: a compact variant that physically drops pruned nodes (an AGCRN over the kept
nodes only, predicting them) at kept 100/50/25/10 %, median time of one forward pass over
a batch of 64 windows and its peak memory.

Anchor (from the issue): the original AGCRN code, fp32 eager, trains one PeMSD4 epoch in
about 16.5 s on an H100. Prints a table and writes ``bench/prunegcrn_train.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from prunegcrn_bridge.traffic.data import prepare, synthetic  # noqa: E402
from prunegcrn_bridge.traffic.model import AGCRN, PruneGCRN  # noqa: E402
from prunegcrn_bridge.traffic.train import pick_device  # noqa: E402

TRAIN_WINDOWS, VAL_WINDOWS = 10_173, 3_375


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _peak(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB


def train_variant(x: torch.Tensor, y: torch.Tensor, device: torch.device, *, bf16: bool,
                  compiled: bool, batches: int, warmup: int) -> dict[str, Any]:
    torch.manual_seed(0)
    model = PruneGCRN(x.shape[2], embed_dim=10, hidden=64).to(device)
    fwd = torch.compile(model) if compiled else model
    opt = torch.optim.Adam(model.parameters(), lr=0.003)
    gen = torch.Generator(device="cpu").manual_seed(0)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def step() -> None:
        idx = torch.randint(x.shape[0], (64,), generator=gen).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            pred, mask = fwd(x[idx])
            loss = (pred.float() - y[idx]).abs().mean() * (1 + mask.mean() - 0.25)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(batches):
        step()
    _sync(device)
    dt = (time.perf_counter() - t0) / batches
    # validation pass cost per window, measured on a few batches of 256
    model.eval()
    with torch.no_grad():
        xv = x[:256]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            fwd(xv)
            _sync(device)
            t1 = time.perf_counter()
            for _ in range(3):
                fwd(xv)
            _sync(device)
    val_per_window = (time.perf_counter() - t1) / (3 * 256)
    epoch = dt * TRAIN_WINDOWS / 64 + val_per_window * VAL_WINDOWS
    return {"samples_per_s": 64 / dt, "step_ms": 1e3 * dt, "epoch_s": epoch,
            "peak_mib": _peak(device)}


def compact_inference(x: torch.Tensor, device: torch.device, fraction: float,
                      repeats: int) -> dict[str, Any]:
    n = x.shape[2]
    k = max(1, round(fraction * n))
    torch.manual_seed(0)
    model = AGCRN(k, embed_dim=10, hidden=64).to(device).eval()
    xb = x[:64, :, :k].contiguous()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    with torch.no_grad():
        model(xb)
        for _ in range(repeats):
            _sync(device)
            t0 = time.perf_counter()
            model(xb)
            _sync(device)
            times.append(time.perf_counter() - t0)
    return {"kept": fraction, "nodes": k, "infer_ms": 1e3 * statistics.median(times),
            "peak_mib": _peak(device)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", help="cpu or cuda (default: both when CUDA is there)")
    p.add_argument("--batches", type=int, default=None, help="timed steps (CPU 3, GPU 50)")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps (CPU 1, GPU 10)")
    p.add_argument("--steps", type=int, default=16992, help="series length (PeMSD4: 16992)")
    p.add_argument("--no-compile", action="store_true")
    p.add_argument("--out", default=str(HERE / "prunegcrn_train.json"))
    args = p.parse_args(argv)
    devices = [torch.device(args.device)] if args.device else (
        [torch.device("cpu"), pick_device()] if torch.cuda.is_available()
        else [torch.device("cpu")])
    series = synthetic(307, drivers=60, steps=args.steps, steps_per_day=288, seed=0)
    win = prepare(series)
    rows: list[dict[str, Any]] = []
    for dev in devices:
        gpu = dev.type == "cuda"
        x = torch.as_tensor(win.x["train"], device=dev)
        y = torch.as_tensor(win.y["train"], device=dev)
        variants = [(False, False)]
        if gpu:
            variants += [(True, False)] + ([] if args.no_compile else [(False, True),
                                                                       (True, True)])
        for bf16, comp in variants:
            r = train_variant(x, y, dev, bf16=bf16, compiled=comp,
                              batches=args.batches or (50 if gpu else 3),
                              warmup=args.warmup if args.warmup is not None else
                              (10 if gpu else 1))
            rows.append({"part": "train", "device": _name(dev), "precision":
                         "bf16" if bf16 else "fp32", "mode": "compiled" if comp else "eager",
                         **r})
            print(f"train {rows[-1]['device']:>24} {rows[-1]['precision']} "
                  f"{rows[-1]['mode']:>8}: {r['samples_per_s']:8.1f} samples/s, "
                  f"epoch {r['epoch_s']:8.1f} s, peak {r['peak_mib']:8.0f} MiB", flush=True)
        for f in (1.0, 0.5, 0.25, 0.1):
            r = compact_inference(x, dev, f, repeats=20 if gpu else 3)
            rows.append({"part": "compact-inference", "device": _name(dev), **r})
            print(f"infer {rows[-1]['device']:>24} kept {100 * f:5.1f} % ({r['nodes']:3d} "
                  f"nodes): {r['infer_ms']:8.2f} ms / batch of 64, peak {r['peak_mib']:7.0f} "
                  "MiB", flush=True)
    Path(args.out).write_text(json.dumps({"rows": rows, "torch": torch.__version__,
                                          "anchor_original_agcrn_h100_epoch_s": 16.5},
                                         indent=1))
    print(f"written: {args.out}")
    return 0


def _name(dev: torch.device) -> str:
    return torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
