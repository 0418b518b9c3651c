"""RunResult, its tidy tables, and atomic save/load of a run folder.

A run folder holds::

    summary.json       scenario, seed, version, timings, error, prune events, counters
    prune_events.csv   one row per removed edge
    curve.csv          training error and edge count after each input (sweep) or period (async)
    edges.csv          every initial edge: initial and final weight, whether and when pruned
    traces.npz         eigenvalue traces (CSR columns, see Recorder.traces) and message ages

The folder is written under a temporary name and renamed into place, so a crash never
leaves a half-written folder behind.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .config import Scenario, task_kind
from .errors import ArgnnError
from .outputs import check_output, load_json, mark_output
from .rule import resolve_arithmetic

__all__ = ["RunResult", "save", "load", "atomic_dir", "summary_table", "load_table"]

SUMMARY = "summary.json"


@dataclass
class RunResult:
    """Everything one simulation produced."""

    scenario: Scenario
    seed: int
    error: float
    per_row_errors: list[float]
    eval_rows: list[int]
    prune_events: list[dict[str, Any]]
    edges_before: int
    edges_after: int
    seconds: float
    labels: list[Any]
    initial_edges: dict[str, npt.NDArray[Any]]
    final_edges: dict[str, npt.NDArray[Any]]
    curves: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    traces: dict[str, npt.NDArray[Any]] = field(default_factory=dict)
    counters: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    version: str = ""
    engine: str = ""
    engine_note: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    def final_matrix(self) -> npt.NDArray[np.float64]:
        """Dense ``(n, n)`` matrix of the final masked weights ``W ∘ A`` (small graphs).

        Returns
        -------
        float64 array, shape (n, n): ``[from, to]``, 0 where no edge stands.

        Examples
        --------
        >>> from argnn_sim import Scenario, simulate
        >>> r = simulate(Scenario.from_dict({"schedule": {"inputs": 5}}), 0)
        >>> r.final_matrix().shape, int((r.final_matrix() != 0).sum()) == r.edges_after
        ((5, 5), True)
        """
        n = len(self.labels)
        W = np.zeros((n, n))
        W[self.final_edges["src"], self.final_edges["dst"]] = self.final_edges["weight"]
        return W

    def summary(self) -> dict[str, Any]:
        """The JSON summary (the ``argnn run --json`` contract).

        Returns
        -------
        dict
            ``name, seed, version, engine, engine_note`` (empty, or why a faster engine did
            not run it), ``error, per_row_errors, eval_rows, prune_events,
            edges_before, edges_after, seconds, timings, counters, labels, scenario``.

        Examples
        --------
        >>> from argnn_sim import Scenario, simulate
        >>> s = simulate(Scenario.from_dict({"schedule": {"inputs": 5}}), 0).summary()
        >>> s["engine"], s["edges_before"]
        ('simpy', 12)
        """
        sweep = self.scenario.schedule.kind == "sweep"
        events = []
        for ev in self.prune_events:
            item: dict[str, Any] = {}
            if sweep:
                item["input"] = ev["input"]
                item["sweep"] = ev["sweep"]
            else:
                item["time"] = ev["time"]
            item["node"] = ev["node"]
            item["edge"] = list(ev["edge"])
            item["remote"] = bool(ev["remote"])
            events.append(item)
        return {
            "name": self.scenario.name,
            "seed": self.seed,
            "version": self.version,
            "engine": self.engine,
            "engine_note": self.engine_note,
            "error": self.error,
            "per_row_errors": list(self.per_row_errors),
            "eval_rows": list(self.eval_rows),
            "prune_events": events,
            "edges_before": self.edges_before,
            "edges_after": self.edges_after,
            "seconds": self.seconds,
            "timings": self.timings,
            "counters": self.counters,
            "labels": [_jsonable(v) for v in self.labels],
            "scenario": self.scenario.to_dict(),
            "metrics": self.metrics,
        }


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return str(v)


class atomic_dir:
    """Context manager: write into a temporary sibling folder, rename it to ``path`` on success.

    ``path`` must be new, empty or (with ``replace``) a folder of the same ``kind`` that
    holds only files argnn writes (:func:`argnn_sim.outputs.check_output`); anything else is
    refused before a file is written. An existing folder is replaced only once the new one is
    complete.

    Parameters
    ----------
    path
        The folder.
    kind
        What it holds (``run``, ``scenario/eigen_trace``).
    replace
        Replace a folder of the same kind.
    what
        For the messages.
    force_hint
        For the messages.
    """

    def __init__(self, path: str | os.PathLike[str], *, kind: str = "run",
                 replace: bool = False, what: str = "output folder",
                 force_hint: str = "pass overwrite=True to replace it") -> None:
        self.path = Path(path)
        self.kind = kind
        self.replace = replace
        self.what = what
        self.force_hint = force_hint

    def _check(self) -> None:
        check_output(self.path, self.kind, existing="replace" if self.replace else "refuse",
                     what=self.what, force_hint=self.force_hint)

    def __enter__(self) -> Path:
        self._check()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.path.name}.tmp-", dir=self.path.parent))
        self.tmp.chmod(0o755)  # mkdtemp makes it private; a results folder is for sharing
        mark_output(self.tmp, self.kind)
        return self.tmp

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        try:
            self._check()  # again: something may have appeared there meanwhile
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        old = None
        if self.path.exists():
            old = self.path.with_name(f".{self.path.name}.old-{os.getpid()}")
            os.replace(self.path, old)
        os.replace(self.tmp, self.path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def _write_csv(path: Path, header: list[str], rows: Any) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def write_files(result: RunResult, folder: Path) -> None:
    """Write the run's files into an existing folder (no atomicity; see :func:`save`)."""
    with open(folder / SUMMARY, "w", encoding="utf-8") as fh:
        json.dump(result.summary(), fh, indent=1)
        fh.write("\n")
    _write_csv(folder / "prune_events.csv",
               ["input", "sweep", "time", "node", "from", "to", "remote"],
               ([e["input"], e["sweep"], e["time"], e["node"], e["edge"][0], e["edge"][1],
                 int(e["remote"])] for e in result.prune_events))
    c = result.curves
    if c:
        _write_csv(folder / "curve.csv", ["input", "time", "train_error", "edges"],
                   zip(c["input"].tolist(), c["time"].tolist(), c["train_error"].tolist(),
                       c["edges"].tolist()))
    ie, fe = result.initial_edges, result.final_edges
    final = {(s, d): w for s, d, w in zip(fe["src"].tolist(), fe["dst"].tolist(),
                                           fe["weight"].tolist())}
    pruned_at = {tuple(e["edge"]): e for e in result.prune_events}
    rows = []
    for s, d, w in zip(ie["src"].tolist(), ie["dst"].tolist(), ie["weight"].tolist()):
        ev = pruned_at.get((s, d))
        rows.append([s, d, w, final.get((s, d), 0.0), int(ev is not None),
                     "" if ev is None else ev["time"]])
    _write_csv(folder / "edges.csv",
               ["from", "to", "initial_weight", "final_weight", "pruned", "pruned_time"], rows)
    arrays = {f"trace_{k}": v for k, v in result.traces.items()}
    arrays.update({f"initial_{k}": v for k, v in ie.items()})
    arrays.update({f"final_{k}": v for k, v in fe.items()})
    arrays.update({f"curve_{k}": v for k, v in c.items()})
    np.savez_compressed(folder / "traces.npz", **arrays)  # type: ignore[arg-type]


def save(result: RunResult, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Write ``result`` to the folder ``path`` atomically; returns the folder.

    Parameters
    ----------
    result
        The run.
    path
        The folder: new, empty, or with ``overwrite`` a run folder argnn wrote (replaced
        only once the new one is complete). A file, or a folder holding anything else, is
        refused (:mod:`argnn_sim.outputs`).
    overwrite
        Replace an existing run folder.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from argnn_sim import Scenario, simulate
    >>> r = simulate(Scenario.from_dict({"schedule": {"inputs": 5}}), 0)
    >>> load(save(r, tempfile.mkdtemp() + "/run")).error == r.error
    True
    """
    with atomic_dir(path, replace=overwrite) as tmp:
        write_files(result, tmp)
    return Path(path)


def load(path: str | os.PathLike[str]) -> RunResult:
    """Read a run folder written by :func:`save` back into a :class:`RunResult`.

    Parameters
    ----------
    path : the folder.

    Returns
    -------
    RunResult

    Raises
    ------
    FileNotFoundError
        When ``path`` holds no ``summary.json``.

    Examples
    --------
    >>> import tempfile
    >>> from argnn_sim import Scenario, simulate
    >>> r = simulate(Scenario.from_dict({"network": {"hidden": 3}, "schedule": {"inputs": 30}}), 0)
    >>> back = load(save(r, tempfile.mkdtemp() + "/run"))
    >>> back.prune_events == r.prune_events, back.summary() == r.summary()
    (True, True)
    """
    folder = Path(path)
    if not (folder / SUMMARY).is_file():
        raise FileNotFoundError(f"no run folder at {str(folder)!r} (missing {SUMMARY}); "
                                "give a folder written by `argnn run --out`")
    try:
        return _load(folder)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, ArgnnError):
            raise
        raise ArgnnError(f"run folder {str(folder)!r} is damaged ({type(exc).__name__}: "
                         f"{exc}); re-run the scenario to write it again") from None


def _load(folder: Path) -> RunResult:
    s = load_json(folder / SUMMARY, "run summary")
    scenario = Scenario.from_dict(s["scenario"])
    arrays: dict[str, Any] = {}
    if (folder / "traces.npz").is_file():
        with np.load(folder / "traces.npz") as z:
            arrays = {k: z[k] for k in z.files}

    def pick(prefix: str) -> dict[str, Any]:
        return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

    events = []
    with open(folder / "prune_events.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            events.append({"input": int(row["input"]), "sweep": int(row["sweep"]),
                           "time": float(row["time"]), "node": int(row["node"]),
                           "edge": [int(row["from"]), int(row["to"])],
                           "remote": bool(int(row["remote"]))})
    return RunResult(
        scenario=scenario, seed=s["seed"], error=s["error"], per_row_errors=s["per_row_errors"],
        eval_rows=s["eval_rows"], prune_events=events, edges_before=s["edges_before"],
        edges_after=s["edges_after"], seconds=s["seconds"], labels=s["labels"],
        initial_edges=pick("initial_"), final_edges=pick("final_"), curves=pick("curve_"),
        traces=pick("trace_"), counters=s.get("counters", {}), timings=s.get("timings", {}),
        version=s.get("version", ""), engine=s.get("engine", ""),
        engine_note=s.get("engine_note", ""), metrics=s.get("metrics", {}),
    )


def summary_table(result: RunResult, out: Path | None = None) -> str:
    """A short human-readable summary of one run: its setting, the task kind's rows
    (:meth:`argnn_sim.tasks.TaskKind.summary_rows`: the errors, what was kept), the edges,
    the cost, and (where the task kind lists them) every prune event.

    Parameters
    ----------
    result : RunResult
        The run.
    out : Path, optional
        The folder it was written to.

    Returns
    -------
    str

    Examples
    --------
    >>> from argnn_sim import simulate
    >>> r = simulate(Scenario.from_dict({"network": {"hidden": 3}, "schedule": {"inputs": 30}}), 0)
    >>> 'error' in summary_table(r)
    True
    """
    sc = result.scenario
    kind = task_kind(sc.task.kind)
    rule = (f"{sc.pruning.policy} (mode {sc.pruning.mode}, rule {sc.pruning.rule})"
            if sc.pruning.policy == "spectral" else sc.pruning.policy)
    sched = sc.schedule
    sweep = sched.kind == "sweep"
    own = dict(kind.summary_rows(result))
    network = (f"{sc.network.kind}" + (f", h = {sc.network.hidden}" if sc.network.kind == "logic"
                                       else "") + f", {len(result.labels)} nodes")
    rows = [
        ("scenario", sc.name),
        ("task", own.pop("task")),
        ("network", own.pop("network", network)),
        ("schedule", f"{sched.kind}, {sched.inputs} inputs"
         + (f" x {sched.sweeps} passes" if sweep else
            f", wake rate {sched.wake_rate}, period {sched.input_period}")),
        ("pruning", rule),
        ("rng", f"{sc.rng.mode}, seed {result.seed}"),
        ("engine", f"{result.engine or '?'}, arithmetic "
         f"{resolve_arithmetic(sc.node.arithmetic, sc.rng.mode)}"
         + (f" (not the fastest: {result.engine_note})" if result.engine_note else "")),
    ]
    edges = own.pop("edges", f"{result.edges_before} -> {result.edges_after}")
    rows += list(own.items()) + [("edges", edges)] + _cost_rows(result, out)
    lines = _aligned(rows)
    if result.prune_events and kind.lists_prunes:
        lines.append("")
        lines.append("prune events" + ("  (input, pass)" if sweep else "  (time)"))
        for ev in result.prune_events:
            when = f"{ev['input']:>5}, {ev['sweep']}" if sweep else f"{ev['time']:.3f}"
            tag = "  remote" if ev["remote"] else ""
            lines.append(f"  {when:>10}  node {ev['node']:>3} removed "
                         f"{ev['edge'][0]} -> {ev['edge'][1]}{tag}")
    return "\n".join(lines)


def _cost_rows(result: RunResult, out: Path | None) -> list[tuple[str, str]]:
    """The summary's last rows: activations and their rate, seconds, the output folder."""
    rows = [("activations", f"{result.counters.get('activations', 0):,}"
             f" ({result.timings.get('activations_per_second', 0):,.0f}/s)"),
            ("seconds", f"{result.seconds:.2f}")]
    if out is not None:
        rows.append(("output", str(out)))
    return rows


def _aligned(rows: Sequence[tuple[str, str]]) -> list[str]:
    width = max(len(k) for k, _ in rows)
    return [f"{k:<{width}}  {v}" for k, v in rows]


def load_table(folder: str | os.PathLike[str]) -> Any:
    """The results of a folder argnn wrote as one tidy :class:`pandas.DataFrame` (the
    ``tables`` extra: ``pip install 'argnn-sim[tables]'``), whatever wrote it.

    What a row is depends on the folder, read in this order:

    * a sweep (``runs.csv``): one row per run, its axes, seed and results;
    * a run (``summary.json``): one row per evaluation step (``step``, ``row``, ``error``)
      beside the run's own numbers (scenario, seed, engine, edges, mean error);
    * a road comparison (``rows.json``): one row per simulated or reference run;
    * a planted-driver study (``study.json``): its road comparisons' rows, with the
      ``horizon`` and the planted series ``p``;
    * a study that keeps its results as units (``units/*.json``, each a list of rows: the
      compression study, the logic-circuit comparison): their rows;
    * a scenario whose results are a sweep (``sweep/runs.csv``): that sweep's runs;
    * otherwise the folder's one results table (``results.csv``, else ``summary.csv``).

    Parameters
    ----------
    folder : path-like
        A results folder.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    FileNotFoundError
        For a folder that holds none of these (the message says what it looked for).
    ArgnnError
        When pandas is not installed (with the command that installs it).

    Examples
    --------
    >>> import tempfile
    >>> from argnn_sim import Scenario, simulate
    >>> folder = Path(tempfile.mkdtemp()) / "run"
    >>> _ = save(simulate(Scenario.from_dict({"schedule": {"inputs": 10}}), 0), folder)
    >>> load_table(folder)[["step", "row", "seed"]].shape
    (4, 3)
    """
    try:
        import pandas as pd
    except ImportError:
        raise ArgnnError("load_table needs pandas: pip install 'argnn-sim[tables]'") from None
    f = Path(folder)
    for reader in _TABLE_READERS:
        rows = reader(f)
        if rows is not None:
            return pd.DataFrame(rows) if not isinstance(rows, Path) else pd.read_csv(rows)
    raise FileNotFoundError(
        f"{str(f)!r} holds no results table argnn knows: runs.csv (a sweep), summary.json (a "
        "run), rows.json (a road comparison), study.json (the planted study), units/*.json (a "
        "study), sweep/runs.csv, results.csv or summary.csv")


def _table_of_sweep(f: Path) -> Path | None:
    return f / "runs.csv" if (f / "runs.csv").is_file() and (f / "grid.json").is_file() \
        else None


def _table_of_run(f: Path) -> list[dict[str, Any]] | None:
    if not (f / SUMMARY).is_file():
        return None
    s = load_json(f / SUMMARY, "run summary")
    own = {"scenario": s["scenario"]["name"], "seed": s["seed"], "engine": s.get("engine"),
           "edges_before": s["edges_before"], "edges_after": s["edges_after"],
           "mean_error": s["error"]}
    return [{**own, "step": i, "row": r, "error": e}
            for i, (r, e) in enumerate(zip(s["eval_rows"], s["per_row_errors"]))]


def _table_of_rows(f: Path) -> list[dict[str, Any]] | None:
    return load_json(f / "rows.json", "comparison rows") if (f / "rows.json").is_file() \
        else None


def _table_of_planted(f: Path) -> list[dict[str, Any]] | None:
    if not (f / "study.json").is_file():
        return None
    rows = []
    for rj in sorted(f.glob("h*/p*/rows.json")):
        h, p = int(rj.parent.parent.name[1:]), int(rj.parent.name[1:])
        rows += [{"horizon": h, "p": p, **r} for r in load_json(rj, "comparison rows")]
    return rows


def _table_of_units(f: Path) -> list[dict[str, Any]] | None:
    from .store import unit_value

    units = sorted((f / "units").glob("*.json"))
    if not units:
        return None
    rows: list[dict[str, Any]] = []
    for p in units:
        value = unit_value(load_json(p, "study unit"))
        rows += value if isinstance(value, list) else [value]
    return rows


def _table_of_scenario(f: Path) -> Path | None:
    for name in ("sweep/runs.csv", "results.csv", "summary.csv"):
        if (f / name).is_file():
            return f / name
    return None


_TABLE_READERS = (_table_of_sweep, _table_of_run, _table_of_rows, _table_of_planted,
                  _table_of_units, _table_of_scenario)
