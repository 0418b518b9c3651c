"""The GPU session in one command: PeMSD4-sized training epochs per formulation, validation
MAE, peak memory, compact-model inference and the SZ-taxi table, within a time budget.

    bash bench/gpu_run.sh                 # on a GPU machine (it checks what it needs)
    python bench/gpu_run.py --dry-run     # toy sizes on the CPU, seconds (tests)

Parts, in order, each skipped (and recorded as skipped) once ``--budget-s`` (default 440 s)
is spent:

1. ``epochs``: PeMSD4-sized synthetic data (N = 307, T = 16,992: 10,173 training and 3,375
   validation windows, batch 64). For the original AGCRN layout (fp32, eager, batches
   copied from host memory per step) and for ours (fp32/bf16 x eager/``torch.compile``,
   data resident on the device): ``--epochs`` full training epochs, the seconds of each
   (the first includes compilation), then the validation MAE and the peak memory.
2. ``inference``: the compact model (an AGCRN over the kept nodes only) at kept 100, 50,
   25 and 10 %: median milliseconds of one forward pass over a batch of 64.
3. ``table``: the SZ-taxi comparison (``prunegcrn_bridge.traffic.experiment.compare``):
   PruneGCRN hard and soft, random, correlation, all nodes, weekly-slot mean, input-window mean and last
   value at kept 100/50/25/10 %, ``--table-seeds`` seeds, ``--table-epochs`` epochs, in
   bf16 on the device; resumable in ``<out>/sz_taxi``.

Writes ``<out>/gpu_run.json`` and ``<out>/gpu_run.md`` (default ``results/gpu_run``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
from prunegcrn_train import SIZES, Trainer, _data, _name, _sync  # noqa: E402

from prunegcrn_bridge.traffic.model import AGCRN  # noqa: E402


def epochs_part(size: str, device: torch.device, epochs: int, batch: int,
                variants: list[tuple[str, bool, bool]], deadline: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for form, bf16, compiled in variants:
        label = f"{form} {'bf16' if bf16 else 'fp32'} {'compiled' if compiled else 'eager'}"
        if time.perf_counter() > deadline:
            rows.append({"variant": label, "skipped": "time budget spent"})
            continue
        host = form == "original"
        d = _data(size, device, host)
        xv = torch.as_tensor(d["xv"], device=device)
        yv = torch.as_tensor(d["yv"], device=device)
        tr = Trainer(d["n"], form, device, bf16=bf16, compiled=compiled)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        gen = torch.Generator().manual_seed(0)
        seconds = []
        for _ in range(epochs):
            t0 = time.perf_counter()
            for idx in torch.randperm(d["x"].shape[0], generator=gen).split(batch):
                x, y = d["x"][idx], d["y"][idx]
                if host:
                    x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
                tr.step(x, y)
            _sync(device)
            seconds.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        mae = tr.val_mae(xv, yv) * d["std"]
        _sync(device)
        rows.append({"variant": label, "form": form, "precision": "bf16" if bf16 else "fp32",
                     "mode": "compiled" if compiled else "eager", "epoch_s": seconds,
                     "val_s": time.perf_counter() - t0, "val_mae": mae,
                     "peak_mib": (torch.cuda.max_memory_allocated(device) / 2**20
                                  if device.type == "cuda" else None)})
        print(f"{label:<26} epochs {', '.join(f'{s:.1f}' for s in seconds)} s; "
              f"val MAE {mae:.3f}", flush=True)
    return rows


def inference_part(size: str, device: torch.device, deadline: float, repeats: int
                   ) -> list[dict[str, Any]]:
    n = SIZES[size][0]
    rows: list[dict[str, Any]] = []
    for frac in (1.0, 0.5, 0.25, 0.1):
        if time.perf_counter() > deadline:
            rows.append({"kept": frac, "skipped": "time budget spent"})
            continue
        k = max(1, round(frac * n))
        torch.manual_seed(0)
        model = AGCRN(k, embed_dim=10, hidden=64).to(device).eval()
        x = torch.randn(64, 12, k, 1, device=device)
        times = []
        with torch.no_grad():
            model(x)
            for _ in range(repeats):
                _sync(device)
                t0 = time.perf_counter()
                model(x)
                _sync(device)
                times.append(time.perf_counter() - t0)
        rows.append({"kept": frac, "nodes": k, "infer_ms": 1e3 * statistics.median(times)})
    return rows


def table_part(device: torch.device, out: Path, seeds: int, epochs: int, deadline: float,
               data_root: str | None, dry: bool) -> dict[str, Any]:
    from prunegcrn_bridge.traffic import data as T
    from prunegcrn_bridge.traffic.experiment import compare, summarize
    from prunegcrn_bridge.traffic.train import config_for

    if time.perf_counter() > deadline:
        return {"skipped": "time budget spent"}
    series = T.synthetic(12, drivers=3, steps=500, seed=0) if dry else T.load_sz_taxi(data_root)
    # T-GCN's protocol (80/20, 4 steps in, 15-60 minutes out, every entry scored): the one
    # under which SZ-taxi numbers can be set beside the published ones
    cfg = config_for("tgcn", epochs=epochs, patience=max(3, epochs // 4) if dry else 15,
                     device=device.type, bf16=device.type == "cuda", hidden=8 if dry else 64,
                     embed_dim=2 if dry else 10)
    fractions = (1.0, 0.25) if dry else (1.0, 0.5, 0.25, 0.1)
    t0 = time.perf_counter()
    recs = compare(series, out / series.name, fractions=fractions, seeds=tuple(range(seeds)),
                   cfg=cfg, protocol="tgcn")
    return {"series": series.name, "seconds": time.perf_counter() - t0, "epochs": epochs,
            "summary": summarize(recs, series)}


def markdown(res: dict[str, Any]) -> str:
    lines = [f"# GPU run: {res['device']}", "", f"torch {res['torch']}; budget "
             f"{res['budget_s']:.0f} s, used {res['used_s']:.0f} s", "",
             "## One PeMSD4-sized epoch per formulation", "",
             "| variant | epoch s (each) | val MAE | peak MiB |", "|---|---|---|---|"]
    for r in res["epochs"]:
        if "skipped" in r:
            lines.append(f"| {r['variant']} | skipped ({r['skipped']}) | | |")
            continue
        peak = "" if r["peak_mib"] is None else f"{r['peak_mib']:.0f}"
        lines.append(f"| {r['variant']} | {', '.join(f'{s:.1f}' for s in r['epoch_s'])} | "
                     f"{r['val_mae']:.3f} | {peak} |")
    lines += ["", "## Compact model inference (batch of 64)", "", "| kept | nodes | ms |",
              "|---|---|---|"]
    for r in res["inference"]:
        lines.append(f"| {100 * r['kept']:g} % | {r.get('nodes', '')} | "
                     + (f"{r['infer_ms']:.2f} |" if "infer_ms" in r else "skipped |"))
    t = res["table"]
    lines += ["", "## SZ-taxi table", ""]
    if "skipped" in t:
        lines.append(f"skipped ({t['skipped']})")
    else:
        lines += [f"{t['series']}, {t['epochs']} epochs, {t['seconds']:.0f} s", "",
                  "| method | kept | MAE | RMSE | MAPE |", "|---|---|---|---|---|"]
        for s in t["summary"]:
            lines.append(f"| {s['method']} | {100 * s['kept_fraction']:.0f} % | "
                         f"{s['mae_mean']:.3f} ± {s['mae_sd']:.3f} | {s['rmse_mean']:.3f} | "
                         f"{100 * s['mape_mean']:.1f} % |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default=None, help="default: cuda when there is one, else cpu")
    p.add_argument("--budget-s", type=float, default=440.0)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--table-epochs", type=int, default=30)
    p.add_argument("--table-seeds", type=int, default=3)
    p.add_argument("--data-root", default=str(HERE.parent.parent / "shared" / "data"))
    p.add_argument("--out", default="results/gpu_run")
    p.add_argument("--dry-run", action="store_true", help="toy sizes, 1 epoch, seconds")
    args = p.parse_args(argv)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    size = "toy" if args.dry_run else "pems04"
    if args.dry_run:
        args.epochs, args.table_epochs, args.table_seeds = 1, 1, 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    deadline = start + args.budget_s
    gpu = device.type == "cuda"
    variants = [("original", False, False), ("ours", False, False)]
    if gpu or args.dry_run:
        variants += [("ours", True, False), ("ours", False, True), ("ours", True, True)]
    res: dict[str, Any] = {"device": _name(device), "torch": torch.__version__,
                           "budget_s": args.budget_s}
    res["epochs"] = epochs_part(size, device, args.epochs, 64,
                                variants if not args.dry_run else variants[:3], deadline)
    res["inference"] = inference_part(size, device, deadline, 20 if gpu else 3)
    res["table"] = table_part(device, out, args.table_seeds, args.table_epochs, deadline,
                              args.data_root, args.dry_run)
    res["used_s"] = time.perf_counter() - start
    (out / "gpu_run.json").write_text(json.dumps(res, indent=1, default=str))
    (out / "gpu_run.md").write_text(markdown(res))
    print(markdown(res))
    print(f"written: {out}/gpu_run.json, gpu_run.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
