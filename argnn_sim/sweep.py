"""Grids of runs on any ``concurrent.futures.Executor``, resumable, with a tidy summary.

A :class:`Grid` is a base scenario, a list of axes and a list of seeds. It expands into
:class:`RunSpec` s in loop order (first axis outermost, seeds innermost). Each finished run
is written as one JSON file ``runs/<key>.json``, atomically (temporary file, fsync,
rename), by the process that drives the sweep; the key is a hash of the scenario, the seed
(or the start state of a published stream), what the run keeps and the package version.
Starting the same sweep again skips every key already on disk, so a sweep killed at any
moment loses at most the runs that were in flight, and never leaves a half-written file.
A run that raises is recorded with its error (``status = "error"``) and the sweep goes on.

Grid file (TOML)::

    name = "fig3"
    seeds = 10                     # seeds 0..9, or an explicit list [3, 7, 11]
    keep = ["curves"]              # optional: store each run's training curve too
    stream = "published"           # optional: one RandomState(stream_seed) through the grid
    stream_seed = 0

    [base]                         # the scenario every run starts from (sections), or
    schedule.inputs = 2000         # base = "scenario.toml" (relative to the grid file)

    [axes]
    "task.gate" = ["AND", "OR", "XOR"]          # a dotted key and its values
    [axes.mode]                                 # a named axis of labelled variants
    D = { "pruning.mode" = "D" }
    DW = { "pruning.mode" = "DW" }
    none = { "pruning.policy" = "none" }

``stream = "published"`` reproduces a published grid that drew every run from one legacy
generator in loop order: the start state of each run is found by fast-forwarding the
generator through the draws of the runs before it
(:func:`~argnn_sim.engines.reference_draws`),
so the runs are still independent and can go in parallel.

>>> g = Grid.from_dict({"seeds": 2, "base": {"schedule": {"inputs": 20}},
...                     "axes": {"network.hidden": [1, 2]}})
>>> [(dict(s.cell)["network.hidden"], s.seed) for s in g.runs()]
[(1, 0), (1, 1), (2, 0), (2, 1)]
>>> summary = run_sweep(g, None)          # in memory, inline executor
>>> [(row["network.hidden"], row["n"]) for row in summary.cells]
[(1, 2), (2, 2)]
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import hashlib
import io
import json
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import engines
from .config import ConfigError, Scenario, apply_overrides, load_scenario, read_toml
from .engines import ENGINES, engine_reason, missed_engine, plan, reference_draws, version
from .executors import InlineExecutor, check_jobs, make_executor, pin_blas, stop_workers
from .limits import check_resources
from .outputs import check_output, write_atomic
from .rng import state_digest
from .store import Store

__all__ = ["sweep_status",
    "Grid",
    "RunSpec",
    "SweepSummary",
    "InlineExecutor",
    "execute",
    "run_sweep",
    "make_executor",
    "check_jobs",
    "stop_workers",
    "load_records",
    "summarize",
    "write_atomic",
]

RUNS = "runs"
MAX_RUNS = 1_000_000  # runs in one grid
GRID_FILE = "grid.json"
KEEP_CHOICES = ("curves",)
_GRID_KEYS = ("name", "seeds", "keep", "stream", "stream_seed", "base", "axes")


# ----------------------------------------------------------------------------- grid
@dataclass(frozen=True)
class RunSpec:
    """One run of a grid: its cell (axis name -> value label), scenario and seed.

    ``state`` is the start state of a published stream (``RandomState.get_state()``), or
    ``None`` when the run draws from its own seed.
    """

    cell: tuple[tuple[str, Any], ...]
    scenario: Scenario
    seed: int
    keep: tuple[str, ...] = ()
    state: tuple[Any, ...] | None = None
    version: str = ""

    @property
    def key(self) -> str:
        """A stable hash of everything that decides the run's result: the scenario (without its
        name), the seed or start state, what the run keeps and the package version.

        Returns
        -------
        str (20 hex digits)
        """
        sc = self.scenario.to_dict()
        sc.pop("name", None)
        payload: dict[str, Any] = {"scenario": sc, "seed": self.seed, "keep": list(self.keep),
                                   "version": self.version}
        if self.state is not None:
            payload["state"] = f"{state_digest(self.state):032x}"
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def _grid_base(base_raw: Any, root: Path | None) -> Scenario:
    """A grid's ``base``: a table of scenario sections, or a scenario file (relative to
    ``root``)."""
    if isinstance(base_raw, str):
        path = Path(base_raw)
        if root is not None and not path.is_absolute():
            path = root / path
        return load_scenario(path)
    if isinstance(base_raw, Mapping):
        return Scenario.from_dict(base_raw)
    raise ConfigError("base must be a table of scenario sections or a path to a "
                      "scenario .toml file")


def _grid_seeds(seeds_raw: Any) -> list[Any]:
    """A grid's ``seeds``: a count, or a list of seeds."""
    if isinstance(seeds_raw, bool):
        raise ConfigError("seeds must be a count or a list of whole numbers")
    if isinstance(seeds_raw, int):
        if not 1 <= seeds_raw <= MAX_RUNS:
            raise ConfigError(f"seeds = {seeds_raw}; give a count from 1 to {MAX_RUNS:,} "
                              "or a list of seeds")
        return list(range(seeds_raw))
    if isinstance(seeds_raw, (list, tuple)):
        return list(seeds_raw)
    raise ConfigError(f"seeds = {seeds_raw!r} must be a count or a list of seeds")


def _grid_axes(axes_raw: Any) -> dict[str, list[tuple[Any, dict[str, Any]]]]:
    """A grid's ``[axes]``: per axis, its (label, changes) variants."""
    axes: dict[str, list[tuple[Any, dict[str, Any]]]] = {}
    if not isinstance(axes_raw, Mapping):
        raise ConfigError("[axes] must be a table")
    for name, values in axes_raw.items():
        if isinstance(values, Mapping):  # labelled variants
            variants = []
            for label, changes in values.items():
                if not isinstance(changes, Mapping):
                    raise ConfigError(f"axes.{name}.{label} must be a table of dotted "
                                      "scenario keys, e.g. { \"pruning.mode\" = \"D\" }")
                variants.append((label, dict(changes)))
            axes[name] = variants
        elif isinstance(values, (list, tuple)):
            if "." not in name:
                raise ConfigError(f"axis {name!r}: a list of values needs a dotted scenario "
                                  "key (e.g. \"network.hidden\"); for labelled variants use "
                                  f"a table [axes.{name}]")
            axes[name] = [(v, {name: v}) for v in values]
        else:
            raise ConfigError(f"axis {name!r} must be a list of values or a table of variants")
    return axes


@dataclass
class Grid:
    """A base scenario × axes × seeds. Build with :meth:`from_dict` or :meth:`load`.

    ``axes`` maps an axis name to a list of ``(label, changes)``: ``changes`` is a dict of
    dotted scenario keys. A dotted-key axis ``"network.hidden" = [1, 2]`` becomes
    ``[(1, {"network.hidden": 1}), (2, {"network.hidden": 2})]``.
    """

    base: Scenario = field(default_factory=Scenario)
    axes: dict[str, list[tuple[Any, dict[str, Any]]]] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    name: str = "sweep"
    keep: tuple[str, ...] = ()
    stream: str = "seeds"
    stream_seed: int = 0

    def __post_init__(self) -> None:
        if not self.seeds:
            raise ConfigError("seeds is empty; give a count (seeds = 10) or a list of seeds")
        for s in self.seeds:
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                raise ConfigError(f"seeds contains {s!r}; seeds are whole numbers >= 0")
        twice = sorted({s for s in self.seeds if self.seeds.count(s) > 1})
        if twice:
            raise ConfigError(f"seeds lists {twice[:5]} more than once; a seed counted twice "
                              "would weigh twice in the mean: give each seed once")
        for k in self.keep:
            if k not in KEEP_CHOICES:
                raise ConfigError(f"keep = {k!r} is not allowed; choose from "
                                  f"{', '.join(map(repr, KEEP_CHOICES))}")
        if self.stream not in ("seeds", "published"):
            raise ConfigError(f"stream = {self.stream!r} is not allowed; choose 'seeds' (each "
                              "run its own seed) or 'published' (one legacy stream in loop order)")
        if self.stream == "published":
            self.base = self.base.replace(**{"rng.mode": "reference"})
        # Validate every variant now: a typo fails before any run starts.
        for name, variants in self.axes.items():
            if not variants:
                raise ConfigError(f"axis {name!r} has no values")
            labels = [json.dumps(lab, sort_keys=True, default=str) for lab, _ in variants]
            again = sorted({lab for lab in labels if labels.count(lab) > 1})
            if again:
                raise ConfigError(f"axis {name!r} lists {', '.join(again[:5])} more than once; "
                                  "give each value once")
            for _label, changes in variants:
                apply_overrides(self.base, changes)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, root: Path | None = None) -> Grid:
        """A grid from a mapping (a grid TOML file's contents).

        Parameters
        ----------
        data : ``name``, ``seeds``, ``keep``, ``stream``, ``stream_seed``, ``base`` and ``axes``
            as in the module docstring.
        root : the folder a ``base = "file.toml"`` is relative to.

        Returns
        -------
        Grid

        Raises
        ------
        ConfigError
            For an unknown key or an invalid variant (every variant is validated here).

        Examples
        --------
        >>> Grid.from_dict({"seeds": [3, 7], "axes": {"network.hidden": [1, 2]}}).seeds
        [3, 7]
        """
        for k in data:
            if k not in _GRID_KEYS:
                import difflib

                guess = difflib.get_close_matches(k, _GRID_KEYS, n=1)
                hint = f" (did you mean {guess[0]!r}?)" if guess else ""
                raise ConfigError(f"unknown grid key {k!r}{hint}; allowed: {', '.join(_GRID_KEYS)}")
        base = _grid_base(data.get("base", {}), root)
        seeds = _grid_seeds(data.get("seeds", 1))
        axes = _grid_axes(data.get("axes", {}))
        keep = data.get("keep", ())
        if isinstance(keep, str):
            keep = (keep,)
        if not isinstance(keep, (list, tuple)) or not all(isinstance(k, str) for k in keep):
            raise ConfigError(f"keep = {keep!r} must be a list of names, e.g. [\"traces\"]")
        name = data.get("name", "sweep")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"name = {name!r} must be a non-empty string")
        stream = data.get("stream", "seeds")
        if not isinstance(stream, str):
            raise ConfigError(f"stream = {stream!r} must be 'seeds' or 'published'")
        stream_seed = data.get("stream_seed", 0)
        if isinstance(stream_seed, bool) or not isinstance(stream_seed, int) or \
                not 0 <= stream_seed < 2**32:
            raise ConfigError(f"stream_seed = {stream_seed!r} must be a whole number in "
                              "[0, 2**32)")
        runs = len(seeds)
        for variants in axes.values():
            runs *= max(len(variants), 1)
        if runs > MAX_RUNS:
            raise ConfigError(f"this grid has {runs:,} runs, more than {MAX_RUNS:,}; split it "
                              "into several sweeps")
        return cls(base=base, axes=axes, seeds=seeds, name=name, keep=tuple(keep),
                   stream=stream, stream_seed=stream_seed)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Grid:
        """A grid from a TOML file (see the module docstring).

        Parameters
        ----------
        path : the file.

        Returns
        -------
        Grid
        """
        return cls.from_dict(read_toml(path, "grid"), root=Path(path).parent)

    def to_dict(self) -> dict[str, Any]:
        """The grid as plain data (what ``grid.json`` holds).

        Returns
        -------
        dict
        """
        return {"name": self.name, "seeds": list(self.seeds), "keep": list(self.keep),
                "stream": self.stream, "stream_seed": self.stream_seed,
                "base": self.base.to_dict(),
                "axes": {k: [[lab, ch] for lab, ch in v] for k, v in self.axes.items()}}

    def cells(self) -> Iterator[tuple[tuple[tuple[str, Any], ...], dict[str, Any]]]:
        """Every cell in loop order: its labels and merged scenario changes.

        Yields
        ------
        (labels, changes)
        """
        names = list(self.axes)

        def rec(i: int, labels: list[tuple[str, Any]], changes: dict[str, Any]
                ) -> Iterator[tuple[tuple[tuple[str, Any], ...], dict[str, Any]]]:
            if i == len(names):
                yield tuple(labels), dict(changes)
                return
            for label, ch in self.axes[names[i]]:
                yield from rec(i + 1, labels + [(names[i], label)], {**changes, **ch})

        yield from rec(0, [], {})

    def runs(self) -> list[RunSpec]:
        """All runs in loop order (first axis outermost, seeds innermost).

        Returns
        -------
        list of RunSpec

        Examples
        --------
        >>> len(Grid.from_dict({"seeds": 2, "axes": {"network.hidden": [1, 2, 3]}}).runs())
        6
        """
        ver = version()
        specs = []
        rs = np.random.RandomState(self.stream_seed) if self.stream == "published" else None
        for cell, changes in self.cells():
            for seed in self.seeds:
                sc = apply_overrides(self.base, {**changes, "seed": seed})
                state: tuple[Any, ...] | None = None
                if rs is not None:
                    state = tuple(rs.get_state(legacy=True))
                    reference_draws(sc, rs)
                specs.append(RunSpec(cell, sc, seed, self.keep, state, ver))
        return specs


# ----------------------------------------------------------------------------- running
# the pools (make_executor, InlineExecutor, check_jobs, stop_workers) live in .executors;
# they stay importable from here



def execute(spec: RunSpec, engine: str = "auto") -> dict[str, Any]:
    """Run one spec and return its record (never raises: errors become records).

    This is the function every executor runs; it is picklable and pins BLAS to one thread.

    Parameters
    ----------
    spec
        The run.
    engine
        As for :func:`argnn_sim.simulate` (the record names the engine that ran it).

    Returns
    -------
    dict
        ``{key, cell, seed, version, status: "ok", summary}`` (and ``curves`` if kept), or
        ``status: "error"`` with the error and its traceback.

    Examples
    --------
    >>> from argnn_sim import Scenario
    >>> spec = Grid(base=Scenario.from_dict({"schedule": {"inputs": 5}}), seeds=[1]).runs()[0]
    >>> execute(spec)["status"]
    'ok'
    """
    pin_blas()
    t0 = time.perf_counter()
    try:
        res = engines.simulate(spec.scenario, _seed_of(spec), engine=engine)
        if not res.engine_note:  # among many runs, a batched engine may be the faster one
            res.engine_note = missed_engine(res.engine, spec.scenario, alone=False) or ""
        return _record(spec, res)
    except Exception as exc:  # noqa: BLE001 - a failed run is a result, the sweep goes on
        return _error_record(spec, exc, time.perf_counter() - t0)


def execute_batch(specs: Sequence[RunSpec], engine: str = "batch") -> list[dict[str, Any]]:
    """Run specs of one grouping key together on the batched ``engine``; one record each,
    in order. If the batch raises, every run is tried again alone on the SimPy engine, so
    one bad run fails only itself."""
    pin_blas()
    try:
        results = engines.run_many(engine, [s.scenario for s in specs], [_seed_of(s) for s in specs],
                           engine)
    except Exception as exc:  # noqa: BLE001
        records = [execute(s, "simpy") for s in specs]
        for rec in records:
            if rec["status"] == "ok":
                rec["summary"]["engine_note"] = (f"{engine}: its batch failed "
                                                 f"({type(exc).__name__}: {exc}); run again alone")
        return records
    return [_record(s, r) for s, r in zip(specs, results)]


def _seed_of(spec: RunSpec) -> Any:
    if spec.state is None:
        return spec.seed
    rs = np.random.RandomState()
    rs.set_state(spec.state)
    return rs


def _record(spec: RunSpec, res: Any) -> dict[str, Any]:
    base = {"key": spec.key, "cell": [list(c) for c in spec.cell], "seed": spec.seed,
            "version": spec.version}
    summary = res.summary()
    summary["seed"] = spec.seed
    rec = {**base, "status": "ok", "summary": summary}
    if "curves" in spec.keep and res.curves:
        rec["curves"] = {k: v.tolist() for k, v in res.curves.items()}
    summary.pop("labels", None)  # node labels: derivable from the scenario
    return rec


def _error_record(spec: RunSpec, exc: BaseException, seconds: float) -> dict[str, Any]:
    return {"key": spec.key, "cell": [list(c) for c in spec.cell], "seed": spec.seed,
            "version": spec.version, "status": "error",
            "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
            "seconds": seconds, "scenario": spec.scenario.to_dict()}


def plan_chunks(specs: Sequence[RunSpec], engine: str = "auto", batch_size: int = 32
                ) -> list[tuple[str, list[RunSpec]]]:
    """Units of work, each ``(engine, specs)``: one spec each, or runs of one shape
    together on the batched engine.

    ``engine = "auto"``: runs the batched engine covers go in chunks of at most
    ``batch_size`` by :func:`~argnn_sim.engines.batch.batch_key` (a shape with one run
    left alone goes on its own), every other run on the fastest engine that can run it
    alone. An engine named explicitly must cover every run: otherwise one
    :class:`ConfigError` names the first run it cannot run and why, before anything
    runs. Chunks come largest-work first, so that parallel workers finish together.
    """
    if engine != "auto" and engine not in ENGINES:
        raise ConfigError(f"engine {engine!r} is not known; choose one of "
                          f"{', '.join(repr(e) for e in ('auto', *ENGINES))}")
    if batch_size < 1:
        raise ConfigError(f"batch size {batch_size}: give at least 1")
    for s in specs if engine != "auto" else ():  # an engine named must run every run
        why = engine_reason(engine, s.scenario)
        if why is not None:
            raise ConfigError(f"engine {engine!r} cannot run {_describe(s)}: {why}; use engine "
                              "'auto' (each run on the fastest engine that can run it)")
    chunks: list[tuple[str, list[RunSpec]]] = []
    single: list[tuple[str, list[RunSpec]]] = []
    for name, idx in plan([s.scenario for s in specs], engine):
        members = [specs[i] for i in idx]
        if not ENGINES[name].batched or (len(members) == 1 and engine == "auto"):
            single += [(name, [m]) for m in members]
            continue
        # sized by estimated work, so that a chunk (all-or-nothing when interrupted) takes
        # about CHUNK_SECONDS: a stopped sweep loses little
        cap = max(2, min(batch_size, _fits(members[0].scenario, CHUNK_SECONDS)))
        k = -(-len(members) // cap)  # chunks per group, sizes as even as possible
        size = -(-len(members) // k)
        chunks += [(name, members[i:i + size]) for i in range(0, len(members), size)]
    chunks.sort(key=lambda c: _work(c[1]), reverse=True)
    return chunks + single


def _describe(spec: RunSpec) -> str:
    cell = ", ".join(f"{k}={v}" for k, v in spec.cell)
    return f"run ({cell}{', ' if cell else ''}seed {spec.seed})"


#: the work a batched chunk is sized for, in estimated seconds on one core
CHUNK_SECONDS = 10.0
# the batched engine's cost model per step (fitted to XOR h = 1, 4, 8 and 2 or 16 runs at
# once on a 2-core AMD EPYC): a fixed cost, a cost per active node shared by the chunk,
# and a cost per run and active node
_STEP_S, _STEP_NODE_S, _RUN_NODE_S = 8e-5, 6e-5, 4e-6


def _fits(sc: Scenario, seconds: float) -> int:
    """How many runs of ``sc`` the batched engine finishes together in about ``seconds``.

    >>> _fits(Scenario(), 10.0) >= 10
    True
    """
    s = sc.schedule
    steps = max(1, s.inputs * s.sweeps + 4 * s.eval_sweeps)
    active = sc.network.hidden + 1
    spare = seconds / steps - _STEP_S - _STEP_NODE_S * active
    return max(1, int(spare / (_RUN_NODE_S * active))) if spare > 0 else 1


def _work(chunk: Sequence[RunSpec]) -> float:
    sc = chunk[0].scenario
    s = sc.schedule
    active = sc.network.hidden + 1
    per_step = 40.0 + len(chunk) * (active + 2) ** 2 * (sc.pruning.policy != "none")
    return (s.inputs * s.sweeps) * active * per_step



# ----------------------------------------------------------------------------- storage
def _is_record(rec: Any) -> bool:
    return isinstance(rec, dict) and rec.get("status") in ("ok", "error")


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            rec = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(rec, dict) or rec.get("status") not in ("ok", "error"):
        return None
    return rec


def sweep_status(out: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Which runs of a sweep folder are done, failed or pending, per cell (``argnn sweep
    --status``): read from its ``grid.json`` and its run records, also while it runs.

    Parameters
    ----------
    out : path-like
        A sweep folder.

    Returns
    -------
    list of dict
        One per cell, in grid order: the axis labels, then ``done``, ``failed``, ``pending``.

    Raises
    ------
    FileNotFoundError
        For a folder without ``grid.json``.

    Examples
    --------
    >>> import tempfile
    >>> g = Grid.from_dict({"seeds": 2, "base": {"schedule": {"inputs": 5}},
    ...                     "axes": {"network.hidden": [1, 2]}})
    >>> folder = tempfile.mkdtemp() + "/s"
    >>> _ = run_sweep(g, folder, select=lambda s: s.seed == 0)
    >>> [(c["network.hidden"], c["done"], c["pending"]) for c in sweep_status(folder)]
    [(1, 1, 1), (2, 1, 1)]
    """
    folder = Path(out)
    if not (folder / GRID_FILE).is_file():
        raise FileNotFoundError(f"{str(folder)!r} is not a sweep folder (it holds no "
                                f"{GRID_FILE}); give the --out of an argnn sweep")
    from .outputs import load_json

    d = load_json(folder / GRID_FILE, "sweep grid")
    grid = Grid(base=Scenario.from_dict(d["base"]), seeds=list(d["seeds"]), name=d["name"],
                axes={k: [(lab, dict(ch)) for lab, ch in v] for k, v in d["axes"].items()},
                keep=tuple(d["keep"]), stream=d["stream"], stream_seed=d["stream_seed"])
    records = load_records(folder)
    cells: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = {}
    for spec in grid.runs():
        c = cells.setdefault(spec.cell, {**dict(spec.cell), "done": 0, "failed": 0,
                                         "pending": 0})
        rec = records.get(spec.key)
        c["pending" if rec is None else ("done" if rec.get("status") == "ok" else "failed")] += 1
    return list(cells.values())


def load_records(out: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Every finished run record under ``out/runs``, by key.

    Parameters
    ----------
    out : a sweep folder (a missing folder has none).

    Returns
    -------
    dict of key -> record

    Examples
    --------
    >>> load_records("/nonexistent")
    {}
    """
    runs = Path(out) / RUNS
    found = {}
    if runs.is_dir():
        for p in runs.glob("*.json"):
            rec = _read_record(p)
            if rec is not None:
                found[p.stem] = rec
    return found


# ----------------------------------------------------------------------------- summary
@dataclass
class SweepSummary:
    """The outcome of a sweep: one row per run and one row per cell (mean ± sd over seeds)."""

    axes: list[str]
    runs: list[dict[str, Any]]
    cells: list[dict[str, Any]]
    records: list[dict[str, Any]]
    failed: int = 0
    skipped: int = 0
    executed: int = 0
    seconds: float = 0.0
    out: Path | None = None

    def table(self) -> str:
        """The cells as a fixed-width text table (what ``argnn sweep`` prints).

        Returns
        -------
        str
        """
        head = self.axes + ["n", "error", "pruned edges", "pruned %"]
        rows = []
        for c in self.cells:
            rows.append([str(c[a]) for a in self.axes] + [
                f"{c['n']}" + (f" ({c['failed']} failed)" if c["failed"] else ""),
                _pm(c["error_mean"], c["error_sd"], 4),
                _pm(c["pruned_mean"], c["pruned_sd"], 2),
                _pm(c["pruned_pct_mean"], c["pruned_pct_sd"], 1)])
        widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
                  for i, h in enumerate(head)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows]
        return "\n".join(lines)


def _pm(mean: float, sd: float, digits: int) -> str:
    if math.isnan(mean):
        return "-"
    if math.isnan(sd):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


RUN_COLUMNS = ("seed", "status", "error", "edges_before", "edges_after", "pruned", "pruned_pct",
               "remote_prunes", "seconds", "activations", "key", "message")
CELL_COLUMNS = ("n", "failed", "error_mean", "error_sd", "pruned_mean", "pruned_sd",
                "pruned_pct_mean", "pruned_pct_sd", "edges_before", "seconds_mean")


def _run_row(spec: RunSpec, rec: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {a: v for a, v in spec.cell}
    row.update(seed=spec.seed, status=rec["status"], key=spec.key)
    if rec["status"] == "ok":
        s = rec["summary"]
        pruned = s["edges_before"] - s["edges_after"]
        row.update(error=s["error"], edges_before=s["edges_before"], edges_after=s["edges_after"],
                   pruned=pruned,
                   pruned_pct=100.0 * pruned / s["edges_before"] if s["edges_before"] else 0.0,
                   remote_prunes=sum(1 for e in s["prune_events"] if e["remote"]),
                   seconds=s["seconds"], activations=s["counters"].get("activations", 0),
                   message="")
    else:
        row.update(error=math.nan, edges_before=math.nan, edges_after=math.nan, pruned=math.nan,
                   pruned_pct=math.nan, remote_prunes=math.nan, seconds=rec.get("seconds", 0.0),
                   activations=0, message=rec.get("error", ""))
    return row


def _mean_sd(xs: Sequence[float]) -> tuple[float, float]:
    if not xs:
        return math.nan, math.nan
    a = np.asarray(xs, dtype=float)
    return float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else math.nan


def summarize(specs: Sequence[RunSpec], records: Mapping[str, dict[str, Any]],
              axes: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Tidy rows per run and per cell (mean and sample sd, ddof = 1, over seeds).

    Parameters
    ----------
    specs
        The runs, in grid order.
    records
        Their records by key.
    axes
        Axis names.

    Returns
    -------
    (runs, cells) : lists of dicts, one per run and one per cell.
    """
    runs = [_run_row(s, records[s.key]) for s in specs if s.key in records]
    cells: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in runs:
        cells.setdefault(tuple(r[a] for a in axes), []).append(r)
    out = []
    for labels, rows in cells.items():
        ok = [r for r in rows if r["status"] == "ok"]
        row: dict[str, Any] = dict(zip(axes, labels))
        em, es = _mean_sd([r["error"] for r in ok])
        pm, ps = _mean_sd([r["pruned"] for r in ok])
        qm, qs = _mean_sd([r["pruned_pct"] for r in ok])
        row.update(n=len(ok), failed=len(rows) - len(ok), error_mean=em, error_sd=es,
                   pruned_mean=pm, pruned_sd=ps, pruned_pct_mean=qm, pruned_pct_sd=qs,
                   edges_before=ok[0]["edges_before"] if ok else math.nan,
                   seconds_mean=_mean_sd([r["seconds"] for r in ok])[0])
        out.append(row)
    return runs, out


def write_table(path: Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    """Write rows as CSV atomically (and Parquet beside it when pyarrow is installed)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_csv_value(r.get(c, "")) for c in columns])
    write_atomic(path, buf.getvalue())
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return
    tmp = path.with_name(f".{path.stem}.parquet.tmp-{os.getpid()}")
    try:
        cols = {c: [_parquet_value(r.get(c)) for r in rows] for c in columns}
        pq.write_table(pa.table(cols), tmp)
        os.replace(tmp, path.with_suffix(".parquet"))
    except (pa.ArrowException, TypeError, ValueError) as exc:  # mixed column types
        tmp.unlink(missing_ok=True)
        print(f"note: {path.with_suffix('.parquet')} not written ({exc}); the CSV has it all",
              file=sys.stderr)


def _parquet_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


def _csv_value(v: Any) -> Any:
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return "" if math.isnan(v) else repr(float(v))
    if isinstance(v, np.integer):
        return int(v)
    return v


# ----------------------------------------------------------------------------- driver
def run_sweep(grid: Grid, out: str | os.PathLike[str] | None, *,
              executor: cf.Executor | None = None, resume: bool = False,
              progress: bool = False, retry_failed: bool = False,
              select: Callable[[RunSpec], bool] | None = None, engine: str = "auto",
              batch_size: int = 32) -> SweepSummary:
    """Run every spec of ``grid`` not already finished under ``out``; summarize.

    Parameters
    ----------
    grid : the grid to run.
    out : results folder (``None``: keep everything in memory, nothing on disk).
    executor : any ``concurrent.futures.Executor`` (default: inline, in this process).
    resume : continue a sweep whose folder already holds finished runs. Without it a
        folder with finished runs is refused, so that two sweeps never mix by accident.
    retry_failed : run again the runs recorded as errors.
    progress : a progress bar (rate and ETA) on stderr.
    select : run (and summarize) only the specs for which this returns true. The grid
        still expands in full, so published-stream start states stay right.
    engine : ``"auto"`` (the default: runs of one shape that the batched engine covers go
        together in chunks of up to ``batch_size``, every other run on the fastest engine
        that can run it), or ``"simpy"``, ``"compiled"``, ``"batch"``: every run on that
        engine, and one :class:`ConfigError` before anything runs if it cannot run one
        (see :mod:`argnn_sim.engines`). Results are identical whichever engine runs them,
        so a sweep may be resumed with another engine; each record names its engine.
    batch_size : runs per batch.

    Returns
    -------
    SweepSummary

    Examples
    --------
    >>> g = Grid.from_dict({"seeds": 2, "base": {"schedule": {"inputs": 10}}})
    >>> s = run_sweep(g, None)
    >>> s.executed, s.failed
    (2, 0)
    """
    t0 = time.perf_counter()
    specs = grid.runs()
    if select is not None:
        specs = [s for s in specs if select(s)]
    plan_chunks(specs, engine, batch_size)  # a run the engine cannot run: say so now
    for sc in {s.scenario for s in specs}:  # too large, or never ending: before any run
        check_resources(sc)
    axes = list(grid.axes)
    folder = Path(out) if out is not None else None
    store, done = _open(grid, folder, resume) if folder is not None else (None, {})
    pending, done = _pending(specs, done, retry_failed)
    skipped = sum(1 for s in specs if s.key in done)
    records = dict(done)
    bar = _bar(progress, len(pending), grid.name)
    try:
        broken = _run_pending(pending, records, executor or InlineExecutor(), store, bar,
                              engine, batch_size)
    finally:
        bar.close()
        if store is not None:
            store.close()
    runs, cells = summarize(specs, records, axes)
    summary = SweepSummary(axes=axes, runs=runs, cells=cells,
                           records=[records[s.key] for s in specs if s.key in records],
                           failed=sum(1 for r in runs if r["status"] != "ok"),
                           skipped=skipped, executed=len(pending),
                           seconds=time.perf_counter() - t0, out=folder)
    if folder is not None:
        write_table(folder / "runs.csv", runs, axes + list(RUN_COLUMNS))
        write_table(folder / "summary.csv", cells, axes + list(CELL_COLUMNS))
    if broken is not None:
        raise ConfigError(
            f"the worker processes died ({type(broken).__name__}); finished runs are kept "
            "(resume=True continues). In a script, start the sweep under "
            "`if __name__ == \"__main__\":` - each worker process imports the script first")
    return summary


def _open(grid: Grid, folder: Path, resume: bool) -> tuple[Store, dict[str, dict[str, Any]]]:
    """Claim the sweep folder (refused if it holds other runs, unless ``resume`` and the
    same grid) and read its finished runs (a damaged run file is quarantined, and runs
    again)."""
    grid_text = json.dumps(grid.to_dict(), indent=1, default=str)
    check_output(folder, "sweep", existing="resume" if resume else "refuse",
                 what="sweep folder", force_hint="pass --resume to continue it")
    _check_same_grid(folder, grid_text)
    store = Store(folder, "sweep", units=RUNS, what="sweep folder")
    if not (folder / GRID_FILE).is_file():
        store.write(GRID_FILE, grid_text)
    done = {}
    for key in store.done():
        rec = store.get(key, valid=_is_record)
        if rec is not None:
            done[key] = rec
    return store, done


def _pending(specs: Sequence[RunSpec], done: dict[str, dict[str, Any]], retry_failed: bool
             ) -> tuple[list[RunSpec], dict[str, dict[str, Any]]]:
    """The specs still to run (each key once: a grid may name the same run twice), and the
    finished records that count (of this grid's runs; without the failed ones when they are
    retried)."""
    wanted = {s.key for s in specs}
    done = {k: r for k, r in done.items() if k in wanted}
    if retry_failed:
        done = {k: r for k, r in done.items() if r["status"] == "ok"}
    pending: list[RunSpec] = []
    seen: set[str] = set(done)
    for s in specs:
        if s.key not in seen:
            seen.add(s.key)
            pending.append(s)
    return pending, done


def _run_pending(pending: Sequence[RunSpec], records: dict[str, dict[str, Any]],
                 ex: cf.Executor, store: Store | None, bar: Any, engine: str,
                 batch_size: int) -> BaseException | None:
    """Run the pending specs in chunks on ``ex``, each record into ``records`` and the store
    as it finishes; returns the executor's breakage, if it broke (its chunks are reported
    as errors but not written, so that a resume runs them again)."""
    broken: BaseException | None = None
    futures: dict[cf.Future[Any], list[RunSpec]] = {}
    try:
        for name, chunk in plan_chunks(pending, engine, batch_size):
            if ENGINES[name].batched:
                futures[ex.submit(execute_batch, chunk, name)] = chunk
            else:
                futures[ex.submit(execute, chunk[0], name)] = chunk
        for fut in cf.as_completed(futures):
            chunk = futures[fut]
            try:
                got = fut.result()
                recs = [got] if isinstance(got, dict) else list(got)
            except Exception as exc:  # noqa: BLE001 - the executor failed, not the run
                if isinstance(exc, cf.BrokenExecutor):
                    broken = exc
                for s in chunk:
                    records[s.key] = {"key": s.key, "status": "error", "traceback": "",
                                      "error": f"executor: {type(exc).__name__}: {exc}"}
                bar.update(len(chunk))
                continue
            for s, rec in zip(chunk, recs):
                records[s.key] = rec
                if store is not None:
                    store.put(s.key, rec)
            bar.update(len(chunk))
    finally:
        for fut in futures:
            fut.cancel()
    return broken


def _check_same_grid(folder: Path, grid_text: str) -> None:
    """A resumed sweep folder must hold this very grid: never mix two grids' runs."""
    stored = folder / GRID_FILE
    if not stored.is_file():
        return
    try:
        old = json.loads(stored.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(f"{str(stored)!r} cannot be read, so this sweep cannot be checked "
                          "before resuming; choose another --out") from None
    new = json.loads(grid_text)
    if old != new:
        differ = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k)) \
            if isinstance(old, dict) else ["everything"]
        raise ConfigError(f"sweep folder {str(folder)!r} holds a different grid (it differs in "
                          f"{', '.join(differ)}); a resumed sweep must be the same grid: "
                          "choose another --out for this one")


def _bar(enabled: bool, total: int, name: str) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc=name, file=sys.stderr, mininterval=0.5,
                smoothing=0.1, disable=not enabled)
