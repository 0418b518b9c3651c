"""The compression study: every method on every task, resumable, with tables and plots.

A *unit* is one task at one seed (for PROTEINS: one fold). A unit trains the dense model
once and derives every compressed variant from it:

* ``dense``: the trained model (the reference row);
* ``fine`` / ``global`` at each sparsity: prune the dense model, record the metric, then
  fine-tune with the masks kept and record it again (``metric_before_ft``, ``metric``);
* ``l2`` at each ``lam``: train from scratch with the L2-norm penalty; the row records the
  share of weights the penalty drove below ``1e-3`` (``near_zero``);
* ``qat`` (INT8, INT4), ``dq`` (INT8, INT4), ``a2q`` (target 4 bits): fake-quantize the
  dense model and fine-tune (quantization-aware training);
* ``ptq-int8``: torchao's post-training int8 (dynamic int8 activations, int8 weights), no
  training, on the dense model.

Each row holds the metric, sizes (:func:`~.measure.size_report`, theoretical bits, real
saved bytes) and CPU latencies (dense; sparse CSR for pruned rows). A finished unit is
written at once to ``units/<task>-s<seed>.json`` (temporary file, fsync, rename), so a
killed study resumes where it stopped. Tables: ``results.csv`` (one row per unit and
variant), ``summary.csv`` and ``summary.md`` (mean ± sd over seeds); plots: ``pruning.png``
and ``quantization.png``.
"""

from __future__ import annotations

import copy
import csv
import json
import math
import os
import sys
import time
import traceback
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from argnn_sim.outputs import check_output, write_atomic
from argnn_sim.store import Store

from ..errors import BridgeConfigError
from ..threads import one_thread
from . import measure, pruning, quant
from .tasks import TASKS, Task, make_task

__all__ = ["StudyConfig", "Variant", "variants", "run_unit", "run_study", "summarize",
           "write_tables", "plot_study", "RESULT_COLUMNS", "run_single"]

RESULT_COLUMNS = ["task", "model", "seed", "method", "sparsity", "lam", "bits", "metric_name",
                  "metric", "metric_before_ft", "val", "params", "nonzero", "dense_bytes",
                  "sparse_bytes", "weight_bits", "saved_bytes", "near_zero",
                  "feature_bits", "latency_ms", "latency_sparse_ms", "seconds"]

ALL_METHODS = ("dense", "fine", "global", "l2", "qat", "dq", "a2q", "ptq-int8")


@dataclass(frozen=True)
class Variant:
    """One compressed variant of a unit's model."""

    method: str
    sparsity: float | None = None
    lam: float | None = None
    bits: int | None = None

    @property
    def label(self) -> str:
        if self.sparsity is not None:
            return f"{self.method} s={self.sparsity:g}"
        if self.lam is not None:
            return f"{self.method} lam={self.lam:g}"
        if self.bits is not None:
            return f"{self.method} int{self.bits}"
        return self.method


@dataclass(frozen=True)
class StudyConfig:
    """What a study runs. ``seeds`` maps task to its seeds (folds for ``proteins``)."""

    tasks: tuple[str, ...] = ("cora-node", "cora-link", "proteins", "bbbp", "bbbp-scaffold")
    seeds: dict[str, tuple[int, ...]] = field(default_factory=lambda: {
        "cora-node": (0, 1, 2, 3, 4), "cora-link": (0, 1, 2),
        "proteins": tuple(range(10)), "bbbp": (0, 1, 2), "bbbp-scaffold": (0, 1, 2)})
    methods: tuple[str, ...] = ALL_METHODS
    sparsities: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.9)
    lams: tuple[float, ...] = (1e-3, 1e-2, 1e-1)
    quant_bits: tuple[int, ...] = (8, 4)
    #: tasks that get the quantization methods (the paper: GIN on PROTEINS and BBBP)
    quant_tasks: tuple[str, ...] = ("proteins", "bbbp", "cora-node")
    quick: bool = False
    latency_repeats: int = 20
    cora_split: str = "public"
    #: a model for every task instead of each task's default (``gcn``, ``gin``, ...)
    model: str | None = None
    root: str | None = None
    cache: str | None = None

    def __post_init__(self) -> None:
        for t in self.tasks:
            if t not in TASKS:
                raise BridgeConfigError(f"unknown task {t!r}; allowed: {', '.join(TASKS)}")
        for m in self.methods:
            if m not in ALL_METHODS:
                raise BridgeConfigError(f"unknown method {m!r}; allowed: "
                                        f"{', '.join(ALL_METHODS)}")
        for s in self.sparsities:
            if not 0.0 < s < 1.0:
                raise BridgeConfigError(f"sparsity {s} is out of range; give values in (0, 1)")
        for b in self.quant_bits:
            if b not in (4, 8):
                raise BridgeConfigError(f"bits {b} not supported; allowed: 8, 4")

    @classmethod
    def quick_config(cls, **kw: Any) -> StudyConfig:
        """A few minutes on a laptop: short training, two seeds or folds, fewer settings."""
        base = dict(seeds={"cora-node": (0, 1), "cora-link": (0,), "proteins": (0, 1),
                           "bbbp": (0,), "bbbp-scaffold": (0,)},
                    sparsities=(0.5, 0.9), lams=(1e-3,), quick=True, latency_repeats=5)
        base.update(kw)
        return cls(**base)  # type: ignore[arg-type]


def variants(task: str, cfg: StudyConfig) -> list[Variant]:
    """The variants a unit of ``task`` computes, in order (dense first)."""
    out = [Variant("dense")]
    for m in ("fine", "global"):
        if m in cfg.methods:
            out += [Variant(m, sparsity=s) for s in cfg.sparsities]
    if "l2" in cfg.methods:
        out += [Variant("l2", lam=lam) for lam in cfg.lams]
    if task in cfg.quant_tasks:
        for m in ("qat", "dq"):
            if m in cfg.methods:
                out += [Variant(m, bits=b) for b in cfg.quant_bits]
        if "a2q" in cfg.methods:
            out.append(Variant("a2q", bits=4))
        if "ptq-int8" in cfg.methods:
            out.append(Variant("ptq-int8", bits=8))
    return out


# ---------------------------------------------------------------------------- one variant
def _row(task: Task, seed: int, v: Variant, model: torch.nn.Module, *, repeats: int,
         sizes_of: torch.nn.Module | None = None, **extra: Any) -> dict[str, Any]:
    sizes = measure.size_report(sizes_of if sizes_of is not None else model)
    fn = task.example_input()
    model.eval()
    row: dict[str, Any] = {
        "task": task.name, "model": task.model, "seed": seed, "method": v.method,
        "sparsity": v.sparsity, "lam": v.lam, "bits": v.bits, "metric_name": task.metric,
        "metric": task.evaluate(model, "test"), "params": sizes["params"],
        "nonzero": sizes["nonzero"], "dense_bytes": sizes["dense_bytes"],
        "sparse_bytes": sizes["sparse_bytes"],
        "latency_ms": 1e3 * measure.latency(lambda: fn(model), repeats=repeats,
                                            warmup=max(2, repeats // 5)),
    }
    row.update(extra)
    return row


def _prune_variant(task: Task, dense: torch.nn.Module, seed: int, v: Variant,
                   repeats: int) -> dict[str, Any]:
    m = pruning.prune_model(copy.deepcopy(dense), v.method, float(v.sparsity or 0.0))
    before = task.evaluate(m, "test")
    fit = task.fit(m, task.finetune, seed=seed)
    m = pruning.make_permanent(m)  # plain weights: time the model, not the mask hooks
    sp = measure.sparse_copy(m)
    fn = task.example_input()
    lat_sparse = 1e3 * measure.latency(lambda: fn(sp), repeats=repeats,
                                       warmup=max(2, repeats // 5))
    return _row(task, seed, v, m, repeats=repeats, metric_before_ft=before, val=fit["val"],
                latency_sparse_ms=lat_sparse, near_zero=pruning.sparsity(m)["all"])


def _l2_variant(task: Task, seed: int, v: Variant, repeats: int) -> dict[str, Any]:
    lam = float(v.lam or 0.0)
    m = task.make_model(seed)
    fit = task.fit(m, task.train, seed=seed,
                   penalty=lambda mod: lam * pruning.l2_norm_penalty(mod))
    return _row(task, seed, v, m, repeats=repeats, val=fit["val"],
                near_zero=pruning.sparsity(m, tol=1e-3)["all"])


def _quant_variant(task: Task, dense: torch.nn.Module, seed: int, v: Variant,
                   repeats: int) -> dict[str, Any]:
    bits = int(v.bits or 8)
    if v.method == "dq":
        # Degree-Quant's settings: wider protection and percentile ranges at INT4
        scheme = quant.QuantScheme("dq", bits, p_min=0.0, p_max=0.1 if bits == 8 else 0.2,
                                   percentile=0.01 if bits == 8 else 0.1)
    elif v.method == "a2q":
        scheme = quant.QuantScheme("a2q", bits, init_bits=float(bits), target_bits=float(bits))
    else:
        scheme = quant.QuantScheme("qat", bits)
    m = quant.quantize_model(copy.deepcopy(dense), scheme, seed=seed)
    pen = None
    if v.method == "a2q":
        pen = lambda mod: 0.01 * quant.memory_penalty(mod, scheme.target_bits)  # noqa: E731
    fit = task.fit(m, task.finetune, seed=seed, penalty=pen)
    fbits = None
    if v.method == "a2q":
        with torch.no_grad():
            m.eval()
            task.example_input()(m)
            layers = [q for q in quant.quant_layers(m) if q.a2q]
            fbits = float(np.mean([float(q.feature_bits().float().mean()) for q in layers]))
    exported = quant.export_quantized(m)
    return _row(task, seed, v, m, repeats=repeats, val=fit["val"],
                weight_bits=quant.theoretical_bits(m), saved_bytes=quant.saved_bytes(exported),
                feature_bits=fbits if fbits is not None else float(bits))


def _ptq_variant(task: Task, dense: torch.nn.Module, seed: int, v: Variant,
                 repeats: int) -> dict[str, Any]:
    from .torchao_ptq import int8_ptq

    m = int8_ptq(copy.deepcopy(dense))
    # parameter counts of the fp32 model (torchao's int8 tensors have no elementwise ops)
    return _row(task, seed, v, m, repeats=repeats, sizes_of=dense,
                weight_bits=quant_weight_bits_int8(dense),
                saved_bytes=quant.saved_bytes(m.state_dict()), feature_bits=8.0)


def quant_weight_bits_int8(model: torch.nn.Module) -> int:
    """Theoretical bits of a torchao int8 model: Linear weights at 8, the rest at 32."""
    total = 0
    for mod in model.modules():
        for name, p in mod.named_parameters(recurse=False):
            total += p.numel() * (8 if isinstance(mod, torch.nn.Linear) and name == "weight"
                                  else 32)
    return total


def run_single(task_name: str, variant: Variant, *, seed: int = 0, cfg: StudyConfig | None
               = None) -> list[dict[str, Any]]:
    """Train the dense model of one task and seed and compute one variant: the rows for
    ``dense`` and for ``variant`` (the ``argnn compress run`` command)."""
    cfg = cfg or StudyConfig()
    with one_thread():  # the numbers of the same unit in a study
        return _unit_rows(task_name, seed, [Variant("dense"), variant]
                          if variant.method != "dense" else [variant], cfg)


def _unit_rows(task_name: str, seed: int, todo: Sequence[Variant], cfg: StudyConfig
               ) -> list[dict[str, Any]]:
    task = make_task(task_name, seed=seed, root=cfg.root, cache=cfg.cache, quick=cfg.quick,
                     cora_split=cfg.cora_split, model=cfg.model)
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    dense = task.make_model(seed)
    fit = task.fit(dense, task.train, seed=seed)
    rep = cfg.latency_repeats
    for v in todo:
        t1 = time.perf_counter()
        if v.method == "dense":
            r = _row(task, seed, v, dense, repeats=rep, val=fit["val"],
                     near_zero=pruning.sparsity(dense, tol=1e-3)["all"])
            r["seconds"] = t1 - t0
        elif v.method in ("fine", "global"):
            r = _prune_variant(task, dense, seed, v, rep)
        elif v.method == "l2":
            r = _l2_variant(task, seed, v, rep)
        elif v.method == "ptq-int8":
            r = _ptq_variant(task, dense, seed, v, rep)
        else:
            r = _quant_variant(task, dense, seed, v, rep)
        r.setdefault("seconds", time.perf_counter() - t1)
        rows.append({k: r.get(k) for k in RESULT_COLUMNS})
    return rows


def run_unit(task_name: str, seed: int, cfg: StudyConfig) -> dict[str, Any]:
    """One unit as a record: ``{"status": "ok", "rows": [...]}`` or the error."""
    import warnings

    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(), one_thread():  # same numbers whatever --jobs
            warnings.simplefilter("ignore", UserWarning)
            rows = _unit_rows(task_name, seed, variants(task_name, cfg), cfg)
        return {"status": "ok", "task": task_name, "seed": seed, "rows": rows,
                "seconds": time.perf_counter() - t0}
    except Exception as e:  # recorded, the study goes on
        return {"status": "error", "task": task_name, "seed": seed,
                "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(),
                "seconds": time.perf_counter() - t0}


# ------------------------------------------------------------------------------- study
def _unit_key(task: str, seed: int) -> str:
    return f"{task}-s{seed}"


def _cfg_fingerprint(cfg: StudyConfig) -> dict[str, Any]:
    d = asdict(cfg)
    d.pop("root", None)
    d.pop("cache", None)
    d["seeds"] = {k: list(v) for k, v in cfg.seeds.items()}
    return json.loads(json.dumps(d))


def run_study(cfg: StudyConfig, out: str | os.PathLike[str], *, jobs: int = 1,
              scheduler: str | None = None, resume: bool = False,
              progress: bool = True) -> dict[str, Any]:
    """Run (or resume) a study into ``out``; write its tables and plots.

    Returns ``{"rows": [...], "failed": [...], "ran": n, "skipped": n}``. A folder that
    already holds a different study is refused; ``resume`` skips finished units.
    """
    fp = _cfg_fingerprint(cfg)
    folder = check_output(out, "compress-study", existing="resume", what="--out")
    if (folder / "study.json").exists() and not resume:
        raise BridgeConfigError(f"{folder} already holds a study; pass --resume to "
                                "continue it or choose another --out")
    argv = sys.argv[1:] + ([] if "--resume" in sys.argv else ["--resume"])
    store = Store(folder, "compress-study", settings=fp, settings_file="study.json",
                  units="units", holds="a study", error=BridgeConfigError,
                  resume_command=" ".join(["argnn", *argv]))
    with store:
        return _run_units(cfg, store, jobs, scheduler, progress)


def _run_units(cfg: StudyConfig, store: Store, jobs: int, scheduler: str | None,
               progress: bool) -> dict[str, Any]:
    folder = store.folder
    keys = [_unit_key(t, s) for t in cfg.tasks for s in cfg.seeds.get(t, (0,))]
    jobs_list = [(_unit_key(t, s), run_unit, (t, s, cfg)) for t in cfg.tasks
                 for s in cfg.seeds.get(t, (0,))]

    def ok(rec: Any) -> bool:
        return isinstance(rec, dict) and rec.get("status") == "ok"

    before = {k for k in keys if ok(store.get(k))}
    todo = [k for k in keys if k not in before]
    jobs = max(1, min(jobs, len(todo) or 1))
    sched = scheduler or ("inline" if jobs == 1 else "processes")

    def executor_failed(key: str, exc: BaseException) -> dict[str, Any]:
        t, _, s = key.rpartition("-s")  # the executor failed: write nothing, resume reruns
        return {"status": "error", "task": t, "seed": int(s),
                "error": f"{type(exc).__name__}: {exc}"}

    done = store.run(jobs_list, workers=jobs, scheduler=sched if sched != "inline" else None,
                     progress=progress, desc="units", redo=lambda r: not ok(r),
                     on_error=executor_failed)
    failed = [done[k] for k in todo if not ok(done.get(k))]
    skipped = len(before)
    rows = load_rows(folder)
    write_tables(rows, folder)
    if rows:
        plot_study(rows, folder)
    return {"rows": rows, "failed": failed, "ran": len(todo), "skipped": skipped}


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="units", unit="unit", disable=not enabled)


def _read_unit(path: Path) -> dict[str, Any] | None:
    try:
        rec = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) else None


def load_rows(folder: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All result rows of the finished units in a study folder."""
    rows: list[dict[str, Any]] = []
    for p in sorted((Path(folder) / "units").glob("*.json")):
        rec = _read_unit(p)
        if rec and rec.get("status") == "ok":
            rows += rec["rows"]
    return rows


# ------------------------------------------------------------------------------ tables
def _setting(r: dict[str, Any]) -> str:
    return Variant(r["method"], r["sparsity"], r["lam"],
                   r["bits"] if r["method"] not in ("dense", "fine", "global", "l2")
                   else None).label


def summarize(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± sd (ddof 1) of the metric and sizes per (task, setting), in study order."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[(r["task"], _setting(r))].append(r)
    out = []
    for (task, setting), rs in groups.items():
        def ms(key: str, rs: list[dict[str, Any]] = rs) -> tuple[float, float]:
            v = np.array([r[key] for r in rs if r.get(key) is not None], dtype=float)
            if v.size == 0:
                return math.nan, math.nan
            return float(v.mean()), float(v.std(ddof=1)) if v.size > 1 else math.nan
        first = rs[0]
        mean, sd = ms("metric")
        bmean, _ = ms("metric_before_ft")
        out.append({
            "task": task, "setting": setting, "method": first["method"],
            "sparsity": first["sparsity"], "lam": first["lam"], "bits": first["bits"],
            "metric_name": first["metric_name"], "n": len(rs), "metric_mean": mean,
            "metric_sd": sd, "before_ft_mean": bmean,
            "nonzero_frac": ms("nonzero")[0] / ms("params")[0],
            "dense_kb": ms("dense_bytes")[0] / 1024, "sparse_kb": ms("sparse_bytes")[0] / 1024,
            "saved_kb": ms("saved_bytes")[0] / 1024, "weight_kbit": ms("weight_bits")[0] / 1024,
            "near_zero": ms("near_zero")[0], "feature_bits": ms("feature_bits")[0],
            "latency_ms": ms("latency_ms")[0], "latency_sparse_ms": ms("latency_sparse_ms")[0],
        })
    return out


SUMMARY_COLUMNS = ["task", "setting", "method", "sparsity", "lam", "bits", "metric_name", "n",
                   "metric_mean", "metric_sd", "before_ft_mean", "nonzero_frac", "dense_kb",
                   "sparse_kb", "saved_kb", "weight_kbit", "near_zero", "feature_bits",
                   "latency_ms", "latency_sparse_ms"]


def _fmt(v: Any, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return str(v)


def write_tables(rows: list[dict[str, Any]], folder: str | os.PathLike[str]) -> None:
    """``results.csv``, ``summary.csv`` and ``summary.md`` (each written atomically)."""
    import io

    folder = Path(folder)
    for name, cols, data in (("results.csv", RESULT_COLUMNS, rows),
                             ("summary.csv", SUMMARY_COLUMNS, summarize(rows))):
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(cols)
        for r in data:
            w.writerow([_fmt(r.get(c), 8) for c in cols])
        write_atomic(folder / name, buf.getvalue())
    write_atomic(folder / "summary.md", markdown(rows))


def markdown(rows: list[dict[str, Any]]) -> str:
    """The summary as markdown tables, one per task."""
    summ = summarize(rows)
    lines = ["# GNN compression study", ""]
    for task in dict.fromkeys(s["task"] for s in summ):
        ss = [s for s in summ if s["task"] == task]
        metric = ss[0]["metric_name"]
        lines += [f"## {task} (test {metric}, mean ± sd over {ss[0]['n']} seeds/folds)", "",
                  f"| setting | {metric} | before fine-tune | non-zero | dense KB | sparse KB "
                  "| weight bits (KB) | saved KB | feature bits | latency ms "
                  "| sparse latency ms |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for s in ss:
            sd = "" if math.isnan(s["metric_sd"]) else f" ± {s['metric_sd']:.3f}"
            lines.append(
                f"| {s['setting']} | {s['metric_mean']:.3f}{sd} | {_fmt(s['before_ft_mean'], 3)} "
                f"| {s['nonzero_frac']:.2f} | {s['dense_kb']:.1f} | {s['sparse_kb']:.1f} "
                f"| {_fmt(s['weight_kbit'] / 8, 4)} | {_fmt(s['saved_kb'], 4)} "
                f"| {_fmt(s['feature_bits'], 3)} "
                f"| {s['latency_ms']:.2f} | {_fmt(s['latency_sparse_ms'], 3)} |")
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------- plots
def redraw(folder: str | os.PathLike[str]) -> list[Path]:
    """Redraw a study folder's tables and plots from its units (``argnn plot``); a
    ``scenarios/gnn_compression.py`` folder redraws its ``study/``.

    Parameters
    ----------
    folder : a study folder (or a scenario folder holding one in ``study/``).

    Returns
    -------
    list of pathlib.Path
    """
    f = Path(folder)
    if not (f / "units").is_dir() and (f / "study" / "units").is_dir():
        f = f / "study"
    rows = load_rows(f)
    if not rows:
        raise BridgeConfigError(f"{str(f)!r} holds no finished unit of a study")
    write_tables(rows, f)
    return plot_study(rows, f)


def plot_study(rows: list[dict[str, Any]], folder: str | os.PathLike[str]) -> list[Path]:
    """``pruning.png`` (metric vs sparsity per method, one panel per task) and
    ``quantization.png`` (metric vs weight bits per method)."""
    from argnn_sim.plots import panel_grid, save_figure

    folder = Path(folder)
    summ = summarize(rows)
    tasks = list(dict.fromkeys(s["task"] for s in summ))
    paths = []
    fig, axes = panel_grid(len(tasks))
    for ax, task in zip(axes, tasks):
        ss = [s for s in summ if s["task"] == task]
        dense = [s for s in ss if s["method"] == "dense"]
        for method, marker in (("fine", "o"), ("global", "s")):
            pts = sorted((s["sparsity"], s["metric_mean"], s["metric_sd"], s["before_ft_mean"])
                         for s in ss if s["method"] == method)
            if pts:
                x, y, e, b = (np.array(v, dtype=float) for v in zip(*pts))
                ax.errorbar(x, y, yerr=np.nan_to_num(e), marker=marker, capsize=2,
                            label=f"{method} + fine-tune")
                ax.plot(x, b, marker=marker, ls=":", alpha=0.6, label=f"{method}, no fine-tune")
        l2 = [s for s in ss if s["method"] == "l2"]
        if l2:
            ax.scatter([s["near_zero"] for s in l2], [s["metric_mean"] for s in l2],
                       marker="^", color="k", zorder=3, label="L2 reg. (near-zero share)")
        if dense:
            ax.axhline(dense[0]["metric_mean"], color="grey", ls="--", label="dense")
        ax.set_title(task)
        ax.set_xlabel("sparsity (share of weights removed)")
        ax.set_ylabel(f"test {ss[0]['metric_name']}")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, folder / "pruning.png")
    paths.append(folder / "pruning.png")
    qtasks = [t for t in tasks if any(s["task"] == t and s["method"] in
                                      ("qat", "dq", "a2q", "ptq-int8") for s in summ)]
    if qtasks:
        fig, axes = panel_grid(len(qtasks))
        for ax, task in zip(axes, qtasks):
            ss = [s for s in summ if s["task"] == task]
            for method, marker in (("qat", "o"), ("dq", "s"), ("a2q", "^"), ("ptq-int8", "D")):
                qpts = sorted((s["bits"], s["metric_mean"], s["metric_sd"])
                              for s in ss if s["method"] == method)
                if qpts:
                    qx, qy, qe = (np.array(v, dtype=float) for v in zip(*qpts))
                    ax.errorbar(qx, qy, yerr=np.nan_to_num(qe), marker=marker, capsize=2,
                                label=method, ls="-" if len(qx) > 1 else "none")
            dense = [s for s in ss if s["method"] == "dense"]
            if dense:
                ax.axhline(dense[0]["metric_mean"], color="grey", ls="--", label="fp32")
            ax.set_title(task)
            ax.set_xlabel("weight bits")
            ax.set_xticks([4, 8])
            ax.set_ylabel(f"test {ss[0]['metric_name']}")
        axes[0].legend(fontsize=8)
        fig.tight_layout()
        save_figure(fig, folder / "quantization.png")
        paths.append(folder / "quantization.png")
    return paths
