"""PruneGCRN training speed: today's model against the pre-rewrite one and the original
AGCRN code's layout, in one process, on the same parameters and data.

    python bench/prunegcrn_train.py                      # SZ-taxi and PeMSD4 sizes, CPU
    python bench/prunegcrn_train.py --sizes sz_taxi --steps 5 --check-steps 50
    python bench/prunegcrn_train.py --dry-run            # toy size, seconds (tests)

Sizes: ``sz_taxi`` (N = 156, 1763 training and 572 validation windows) and ``pems04``
(N = 307, 10,173 and 3,375), batch 64, the full backbone (hidden 64, 2 layers, d = 10),
12-in / 12-out windows of a synthetic series of that width (speed does not depend on the
values). The formulations are timed side by side: after one untimed step each, every
round runs one training step (Adam, the PruneGCRN loss) of every formulation on the same
batch, in a rotating order, so that a change in a shared machine's speed reaches every row
alike; a row's time is the median over ``--steps`` rounds. It reports seconds per step,
the implied epoch time (training steps plus a validation pass) and the model GFLOP/s
reached, next to a plain large matrix product's GFLOP/s on the same machine.

For each eager ``ours`` row it also records the matrix products of one training step
(every ``mm``/``bmm``/``baddbmm``... with its shapes and strides) and replays them alone
in every round: ``products s`` is what the step's products take by themselves at the
rates the BLAS reaches on these shapes, and ``bound x`` = ``before``'s step over that, the
speed-up the formulation would reach if everything but its products took no time. The
JSON also has the products grouped by shape (``products_by_shape``: calls, seconds and
GFLOP/s per operation, shapes and strides), and the slowest groups are printed.

Formulations (rows):

``before``
    the einsum forward the project had before the node-major rewrite
    (``bench/agcrn_baselines.py``), run as ``train()`` ran it then:
    ``torch.use_deterministic_algorithms(True)``, which by default also fills every new
    tensor's memory, data resident. This is the baseline of the speed ratio.
``original``
    the original AGCRN code's layout (``agcrn_baselines.original_layout``): supports and
    node weights recomputed in every graph convolution, one ``einsum('bnki,nkio->bno')``,
    each batch copied from a host tensor per step as its data loader does.
``ours``
    :class:`prunegcrn_bridge.traffic.model.PruneGCRN` as ``train()`` runs it now
    (deterministic algorithms, no fill of fresh memory), fp32; ``ours-bf16`` the same under
    bfloat16 autocast, where the CPU has native bf16 arithmetic (AVX512-BF16 or AMX) or on
    a GPU; ``--compile`` adds ``torch.compile`` rows.

Checks (``--check-steps``, default 50): from one initial state and one batch order,
``before`` and ``ours`` train side by side; the largest relative difference of their
losses over the steps must stay within float tolerance (``--rtol``, default 1e-3); the
bf16 trace's largest relative difference from fp32 is reported, not checked.

Prints a table and writes JSON (``--out``, default ``bench/prunegcrn_train.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from agcrn_baselines import before, original_layout  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

from prunegcrn_bridge.traffic.data import prepare, synthetic  # noqa: E402
from prunegcrn_bridge.traffic.model import PruneGCRN, prune_loss  # noqa: E402

SIZES = {  # nodes, training windows, validation windows, steps per day, series length
    "sz_taxi": (156, 1763, 572, 96, 2976),
    "pems04": (307, 10_173, 3_375, 288, 16_992),
    "toy": (12, 97, 17, 96, 200),
}


def model_flops(n: int, batch: int, hidden: int = 64, layers: int = 2, t: int = 12,
                c_in: int = 1, horizon: int = 12) -> float:
    """Floating-point operations of one training step (forward x 3) of the AGCRN math.

    Per layer: the support products ``S x``, ``S h`` and ``S (z h)`` (2 N^2 per column), and
    each node's transform of ``[x, S x, h, S h]`` to the gate's 2 H and the candidate's H
    outputs; the head's linear map. Backward costs twice the forward.
    """
    fwd = 0.0
    c = c_in
    for _ in range(layers):
        fwd += 2 * n * n * t * batch * (c + 2 * hidden)
        fwd += 2 * n * t * batch * (2 * c + 2 * hidden) * 3 * hidden
        c = hidden
    fwd += 2 * n * batch * hidden * horizon
    return 3 * fwd


def gemm_gflops(dtype: torch.dtype, device: torch.device, size: int = 2048) -> float:
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    a @ b
    _sync(device)
    reps = 10
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    _sync(device)
    return 2 * size ** 3 * reps / (time.perf_counter() - t0) / 1e9


def bf16_native(device: torch.device) -> bool:
    """Native bf16 arithmetic: a GPU, or a CPU with AVX512-BF16 or AMX."""
    if device.type == "cuda":
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return " avx512_bf16" in flags or " amx_bf16" in flags


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@contextlib.contextmanager
def determinism(fill: bool) -> Iterator[None]:
    prev = (torch.are_deterministic_algorithms_enabled(),
            torch.utils.deterministic.fill_uninitialized_memory)  # type: ignore[attr-defined]
    torch.use_deterministic_algorithms(True)
    torch.utils.deterministic.fill_uninitialized_memory = fill  # type: ignore[attr-defined]
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(prev[0])
        torch.utils.deterministic.fill_uninitialized_memory = prev[1]  # type: ignore


FORWARDS: dict[str, Callable[[PruneGCRN, torch.Tensor], torch.Tensor]] = {
    "before": lambda m, x: before(m.backbone, m.mask.fill(x, m.mask())),
    "original": lambda m, x: original_layout(m.backbone, m.mask.fill(x, m.mask())),
    "ours": lambda m, x: m(x)[0],
}


class Trainer:
    """One model, its optimizer and a formulation; ``step(idx)`` is one training step."""

    def __init__(self, n: int, form: str, device: torch.device, *, bf16: bool = False,
                 compiled: bool = False, state: dict[str, torch.Tensor] | None = None) -> None:
        torch.manual_seed(0)
        self.model = PruneGCRN(n, embed_dim=10, hidden=64).to(device)
        if state is not None:
            self.model.load_state_dict(state)
        self.form, self.bf16, self.device = form, bf16, device
        base = FORWARDS[form]

        def fwd(x: torch.Tensor) -> torch.Tensor:
            return base(self.model, x)

        self.fwd = torch.compile(fwd) if compiled else fwd
        self.opt = torch.optim.Adam(self.model.parameters(), lr=0.003)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            pred = self.fwd(x)
            mae = (pred.float() - y).abs().mean()
        return prune_loss(mae, self.model.mask(), 0.25)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> float:
        loss = self.loss(x, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return float(loss.detach())

    @torch.no_grad()
    def val_mae(self, x: torch.Tensor, y: torch.Tensor, batch: int = 256) -> float:
        """Mean absolute error over ``x``, ``y`` (scaled units)."""
        tot = 0.0
        for i in range(0, x.shape[0], batch):
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                pred = self.fwd(x[i:i + batch]).float()
            tot += float((pred - y[i:i + batch]).abs().sum())
        return tot / y.numel()

    @torch.no_grad()
    def validate(self, x: torch.Tensor, batch: int = 256) -> None:
        for i in range(0, x.shape[0], batch):
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.bf16):
                self.fwd(x[i:i + batch])


def _data(size: str, device: torch.device, host: bool) -> dict[str, Any]:
    n, n_train, n_val, per_day, steps = SIZES[size]
    win = prepare(synthetic(n, drivers=max(2, n // 5), steps=steps, steps_per_day=per_day,
                            seed=0))
    where = torch.device("cpu") if host else device
    return {"n": n, "n_train": n_train, "n_val": n_val, "std": win.std,
            "x": torch.as_tensor(win.x["train"][:n_train], dtype=torch.float32, device=where),
            "y": torch.as_tensor(win.y["train"][:n_train], dtype=torch.float32, device=where),
            "xv": win.x["val"][:n_val], "yv": win.y["val"][:n_val]}


class _ProductRecorder(TorchDispatchMode):
    """Records every matrix product of the code it wraps, with copies of its operands
    (strides kept), so that :func:`_replay` can time the products alone."""

    OPS = frozenset({"mm", "bmm", "addmm", "baddbmm", "addbmm", "mv", "addmv", "dot"})

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[Any, tuple[Any, ...], dict[str, Any]]] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        if func.__name__.split(".")[0].rstrip("_") in self.OPS:
            self.calls.append((func, tuple(a.detach().clone() if isinstance(a, torch.Tensor)
                                           else a for a in args), dict(kwargs)))
        return func(*args, **kwargs)


def _replay(calls: list[tuple[Any, tuple[Any, ...], dict[str, Any]]],
            device: torch.device) -> float:
    _sync(device)
    t0 = time.perf_counter()
    for func, args, kwargs in calls:
        func(*args, **kwargs)
    _sync(device)
    return time.perf_counter() - t0


def _by_shape(calls: list[tuple[Any, tuple[Any, ...], dict[str, Any]]],
              device: torch.device, reps: int = 3) -> list[dict[str, Any]]:
    """The recorded products grouped by operation, operand shapes, strides and dtype: per
    group the calls, the seconds their replay takes (best of ``reps``) and the GFLOP/s,
    slowest group first."""
    groups: dict[tuple[Any, ...], list[tuple[Any, tuple[Any, ...], dict[str, Any]]]] = {}
    for call in calls:
        a, b = [t for t in call[1] if isinstance(t, torch.Tensor)][-2:]  # (self,) a, b
        key = (call[0].__name__.removesuffix(".default"), tuple(a.shape), a.stride(),
               tuple(b.shape), b.stride(), str(a.dtype).removeprefix("torch."))
        groups.setdefault(key, []).append(call)
    out = []
    for (op, ash, ast, bsh, bst, dt), group in groups.items():
        sec = min(_replay(group, device) for _ in range(reps))
        flops = len(group) * 2 * float(np.prod(ash)) * (bsh[-1] if len(bsh) > 1 else 1)
        out.append({"op": op, "a": ash, "a_strides": ast, "b": bsh, "b_strides": bst,
                    "dtype": dt, "calls": len(group), "seconds": sec,
                    "gflops": flops / sec / 1e9})
    return sorted(out, key=lambda g: -g["seconds"])


def time_variants(size: str, variants: list[tuple[str, bool, bool]], device: torch.device,
                  *, steps: int, batch: int) -> list[dict[str, Any]]:
    """Time the formulations ``variants`` ((form, bf16, compiled) each) side by side.

    After one untimed step each, every round runs one training step of every formulation
    on the same batch, in an order that rotates from round to round, and replays the
    matrix products of one step of each eager ``ours`` row (recorded once). So a change
    in the machine's speed during the run (this one is shared) reaches every row alike;
    a row's time is the median over ``steps`` rounds.
    """
    data = {host: _data(size, device, host) for host in {f == "original" for f, _, _ in
                                                          variants}}
    d = next(iter(data.values()))
    gen = torch.Generator().manual_seed(0)
    runs = []
    for form, low, comp in variants:
        fill = form == "before"
        with determinism(fill):
            tr = Trainer(d["n"], form, device, bf16=low, compiled=comp)
        runs.append({"form": form, "bf16": low, "compiled": comp, "fill": fill,
                     "host": form == "original", "tr": tr, "times": [], "products": [],
                     "calls": None})

    def one(run: dict[str, Any], idx: torch.Tensor, record: bool = False) -> float:
        dd = data[run["host"]]
        x, y = dd["x"][idx], dd["y"][idx]
        with determinism(run["fill"]):
            _sync(device)
            t0 = time.perf_counter()
            if run["host"]:  # the original's loader hands over host batches
                x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            if record:
                rec = _ProductRecorder()
                with rec:
                    run["tr"].step(x, y)
                run["calls"] = rec.calls
            else:
                run["tr"].step(x, y)
            _sync(device)
            return time.perf_counter() - t0

    for run in runs:
        idx = torch.randint(d["x"].shape[0], (batch,), generator=gen)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        run["first"] = one(run, idx)
        run["peak"] = (torch.cuda.max_memory_allocated(device) / 2**20
                       if device.type == "cuda" else None)
        if run["form"] == "ours" and not run["compiled"]:
            one(run, idx, record=True)
    for k in range(steps):
        idx = torch.randint(d["x"].shape[0], (batch,), generator=gen)
        for j in range(len(runs)):
            run = runs[(j + k) % len(runs)]
            run["times"].append(one(run, idx))
            if run["calls"] is not None:
                run["products"].append(_replay(run["calls"], device))
    rows = []
    batches = -(-d["n_train"] // batch)
    flops = model_flops(d["n"], batch)
    for run in runs:
        tr = run["tr"]
        with determinism(run["fill"]):
            xv = d["x"][:min(256, d["x"].shape[0])].to(device)
            tr.validate(xv)
            _sync(device)
            t0 = time.perf_counter()
            tr.validate(xv)
            _sync(device)
            per_val = (time.perf_counter() - t0) / xv.shape[0]
        step = statistics.median(run["times"])
        products = (statistics.median(run["products"]) if run["products"] else None)
        rows.append({
            "size": size, "nodes": d["n"], "form": run["form"],
            "precision": "bf16" if run["bf16"] else "fp32",
            "mode": "compiled" if run["compiled"] else "eager", "device": _name(device),
            "step_s": step, "step_s_all": run["times"], "first_step_s": run["first"],
            "epoch_s": step * batches + per_val * d["n_val"], "gflops": flops / step / 1e9,
            "peak_mib": run["peak"], "products_s": products,
            "products": len(run["calls"]) if run["calls"] is not None else None,
            "products_by_shape": (_by_shape(run["calls"], device) if run["calls"] is not None
                                  else None),
            "products_gflops": flops / products / 1e9 if products else None})
        run["tr"] = run["calls"] = None
    return rows


def check_losses(size: str, device: torch.device, steps: int, batch: int, bf16: bool
                 ) -> dict[str, Any]:
    """``before``, ``ours`` (and ``ours`` in bf16) from one state over one batch order."""
    d = _data(size, device, host=False)
    torch.manual_seed(0)
    state = {k: v.clone() for k, v in PruneGCRN(d["n"], embed_dim=10, hidden=64)
             .to(device).state_dict().items()}
    order = torch.randint(d["x"].shape[0], (steps, batch),
                          generator=torch.Generator().manual_seed(1)).to(device)
    traces: dict[str, list[float]] = {}
    runs = [("before", False), ("ours", False)] + ([("ours", True)] if bf16 else [])
    with determinism(False):
        for form, low in runs:
            tr = Trainer(d["n"], form, device, bf16=low, state=state)
            traces[form + ("-bf16" if low else "")] = [tr.step(d["x"][i], d["y"][i])
                                                       for i in order]
    a, b = np.array(traces["before"]), np.array(traces["ours"])
    out: dict[str, Any] = {"size": size, "steps": steps, "traces": traces,
                           "max_rel_diff": float(np.max(np.abs(a - b) / np.abs(a))),
                           "first_loss": float(a[0]), "last_loss": float(a[-1])}
    if bf16:
        c = np.array(traces["ours-bf16"])
        out["bf16_max_rel_diff"] = float(np.max(np.abs(c - b) / np.abs(b)))
    return out


def accuracy(device: torch.device, epochs: int, data_root: str | None) -> dict[str, Any]:
    """fp32 and bf16 ``train()`` of the whole network on SZ-taxi: the validation MAE each
    reaches after ``epochs`` epochs (same seed, no early stop), and their ratio."""
    from prunegcrn_bridge.traffic.data import load_sz_taxi
    from prunegcrn_bridge.traffic.train import TrainConfig, train

    win = prepare(load_sz_taxi(data_root))
    out: dict[str, Any] = {"data": "sz_taxi", "epochs": epochs}
    for low in (False, True):
        cfg = TrainConfig(epochs=epochs, patience=epochs, bf16=low, device=device.type)
        r = train(win, cfg=cfg, mode="fixed", seed=0)
        key = "bf16" if low else "fp32"
        out[key] = {"best_val_mae": r["best_val_mae"], "test_mae": r["metrics"]["mae"],
                    "epoch_s": r["epoch_seconds"],
                    "val_mae_per_epoch": [row["val_mae"] for row in r["log"]]}
        print(f"accuracy {key}: best validation MAE {r['best_val_mae']:.4f} after {epochs} "
              f"epochs, {r['epoch_seconds']:.1f} s per epoch", flush=True)
    out["bf16_over_fp32"] = out["bf16"]["best_val_mae"] / out["fp32"]["best_val_mae"]
    out["epoch_speedup"] = out["fp32"]["epoch_s"] / out["bf16"]["epoch_s"]
    print(f"bf16 / fp32 validation MAE: {out['bf16_over_fp32']:.4f}; bf16 epochs "
          f"{out['epoch_speedup']:.2f}x faster", flush=True)
    return out


def _name(dev: torch.device) -> str:
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} " \
           "threads)"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="sz_taxi,pems04",
                   help="comma-separated: sz_taxi, pems04, toy (default: sz_taxi,pems04)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    p.add_argument("--steps", type=int, default=4, help="timed rounds (default 4)")
    p.add_argument("--check-steps", type=int, default=50,
                   help="steps of the loss-equality check (0: skip; default 50)")
    p.add_argument("--rtol", type=float, default=1e-3)
    p.add_argument("--forms", default="before,original,ours",
                   help="formulations to time (default: before,original,ours)")
    p.add_argument("--compile", action="store_true", help="also time torch.compile rows")
    p.add_argument("--accuracy-epochs", type=int, default=0,
                   help="also train fp32 and bf16 on SZ-taxi for this many epochs and "
                        "compare their validation MAE (0: skip; needs --data-root)")
    p.add_argument("--data-root", default=str(HERE.parent.parent / "shared" / "data"),
                   help="folder holding SZ_TAXI/ (for --accuracy-epochs)")
    p.add_argument("--dry-run", action="store_true",
                   help="toy size, 2 timed steps, a 5-step check: proves the script runs")
    p.add_argument("--out", default=str(HERE / "prunegcrn_train.json"))
    args = p.parse_args(argv)
    if args.dry_run:
        args.sizes, args.steps, args.check_steps = "toy", 2, 5
    device = torch.device(args.device)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    if any(s not in SIZES for s in sizes):
        p.error(f"--sizes {args.sizes}: choose from {', '.join(SIZES)}")
    forms = [f.strip() for f in args.forms.split(",") if f.strip()]
    if any(f not in FORWARDS for f in forms) or "before" not in forms:
        p.error(f"--forms {args.forms}: choose from {', '.join(FORWARDS)}; 'before' is the "
                "baseline")
    bf16 = bf16_native(device)
    batch = 64
    ceiling = {"fp32": gemm_gflops(torch.float32, device)}
    if bf16:
        ceiling["bf16"] = gemm_gflops(torch.bfloat16, device)
    print(f"device {_name(device)}; torch {torch.__version__}; plain 2048^3 matrix product: "
          + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in ceiling.items()), flush=True)
    rows: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    for size in sizes:
        variants = [(f, False, False) for f in forms]
        if bf16:
            variants.append(("ours", True, False))
        if args.compile:
            variants += [("ours", False, True)] + ([("ours", True, True)] if bf16 else [])
        rows += time_variants(size, variants, device, steps=args.steps, batch=batch)
        base = next(r for r in rows if r["size"] == size and r["form"] == "before")
        print(f"\n{size} (N = {base['nodes']}), batch {batch}, {args.steps} timed rounds "
              "(median)")
        print(f"{'formulation':<22}{'s/step':>8}{'epoch s':>9}{'GFLOP/s':>9}{'x before':>9}"
              f"{'products s':>11}{'bound x':>9}")
        for r in rows:
            if r["size"] != size:
                continue
            r["speedup"] = base["step_s"] / r["step_s"]
            r["speedup_bound"] = (base["step_s"] / r["products_s"] if r["products_s"]
                                  else None)
            label = r["form"] + ("" if r["precision"] == "fp32" else "-" + r["precision"]) + \
                ("" if r["mode"] == "eager" else " (compiled)")
            extra = (f"{r['products_s']:11.3f}{r['speedup_bound']:9.2f}" if r["products_s"]
                     else "")
            print(f"{label:<22}{r['step_s']:8.3f}{r['epoch_s']:9.1f}{r['gflops']:9.1f}"
                  f"{r['speedup']:9.2f}" + extra, flush=True)
        for r in rows:
            if r["size"] == size and r["products_by_shape"]:
                print(f"  {r['form']}-{r['precision']}: its slowest products (op, A, B, "
                      "calls, ms, GFLOP/s)")
                for g in r["products_by_shape"][:8]:
                    print(f"    {g['op']:<18}{str(g['a']):<16}{str(g['b']):<16}"
                          f"{g['calls']:5d}{g['seconds'] * 1e3:8.1f}{g['gflops']:7.0f}")
        if args.check_steps:
            c = check_losses(size, device, args.check_steps, batch, bf16)
            c["ok"] = c["max_rel_diff"] <= args.rtol
            checks.append(c)
            print(f"loss check, {args.check_steps} steps from one state: before vs ours max "
                  f"relative difference {c['max_rel_diff']:.2e} ({'ok' if c['ok'] else 'FAIL'}"
                  f" at rtol {args.rtol:g})" + (f"; bf16 vs fp32 {c['bf16_max_rel_diff']:.2e}"
                                                 if bf16 else ""), flush=True)
    acc = accuracy(device, args.accuracy_epochs, args.data_root) if (
        args.accuracy_epochs and bf16) else None
    Path(args.out).write_text(json.dumps({
        "rows": rows, "checks": checks, "accuracy": acc, "gemm_gflops": ceiling,
        "torch": torch.__version__,
        "device": _name(device), "threads": torch.get_num_threads(),
        "model_flops_note": "model_flops(): forward x 3 of the AGCRN math"}, indent=1))
    print(f"written: {args.out}")
    return 0 if all(c["ok"] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
