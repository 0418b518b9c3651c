"""Engines behind one door: :func:`simulate` and the registry of engines.

Every engine turns a scenario and a seed into the same :class:`~argnn_sim.results.RunResult`
(the tests compare whole results, engine against engine, on a matrix of scenarios). They
differ in speed and in what they cover; each entry of :data:`ENGINES` says whether it can
run a scenario and, if not, why (networkx's ``can_run`` idea):

``compiled``
    the async schedule, and the sweep schedule, on a numba kernel
    (:mod:`argnn_sim.engines.compiled`; the ``fast`` extra). Fastest where it runs; in the
    sweep schedule ``auto`` takes it for tasks that stream their inputs (the series task's
    long runs), not for the logic circuit's short ones (a run takes less than the kernel's
    start).
``simpy``
    the executable specification, one SimPy process per node
    (:mod:`argnn_sim.engines.simpy_engine`). Runs every scenario.
``batch``
    the logic circuit in the sweep schedule, many runs advanced together on NumPy arrays
    (:mod:`argnn_sim.engines.batch`). Fastest for many runs of one shape (sweeps); for one
    run alone the SimPy engine is faster.

Each :class:`Engine` declares why it cannot run a scenario, how much it prefers itself
for one (alone, or among many runs of one shape), its grouping key when it runs many
together, and the options it takes. ``engine="auto"`` takes the engine that can run it
and prefers itself most; :func:`plan` (what sweeps use) puts runs of one shape together
on a batched engine where it prefers itself among many. An
engine asked for by name that cannot run a scenario raises one :class:`ConfigError`
naming the reason, everywhere. The result records which engine ran it
(``RunResult.engine``) and, when a faster engine exists for its setting (``compiled``
for the async schedule and a series task's sweeps, ``batch`` for sweeps of the logic
circuit in the sweep schedule) but did not run it,
why not (``RunResult.engine_note``, :func:`engine_note`): no run falls back silently.

>>> from argnn_sim.config import Scenario
>>> sc = Scenario.from_dict({"schedule": {"inputs": 20}, "record": {"traces": "prunes"}})
>>> simulate(sc, 1).engine, simulate(sc, 1, engine="batch").error == simulate(sc, 1).error
('simpy', True)
>>> print(engine_reason("compiled", sc.replace(**{"pruning.policy": "magnitude"})))
the compiled engine covers pruning.policy = "spectral" (rules "local" and "reference") and "none"
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from ..config import ConfigError, Scenario
from ..limits import TooLarge, check_resources
from ..results import RunResult
from ..rng import SeedLike
from ..topology import Topology
from .teacher import prepare, reference_draws, version

__all__ = ["Engine", "ENGINES", "ENGINE_CHOICES", "simulate", "engine_reason",
           "choose_engine", "run_many", "engine_note", "register_engine", "unregister_engine", "plan",
           "initial_network", "evaluation_schedule", "missed_engine", "reference_draws", "version"]


def _compiled_reason(sc: Scenario) -> str | None:
    from .compiled import available, compiled_reason

    why = compiled_reason(sc)
    if why is None and not available():
        return "numba is not installed (pip install 'argnn-sim[fast]')"
    return why


def _batch_reason(sc: Scenario) -> str | None:
    from .batch import batch_reason

    return batch_reason(sc)


def _batch_key(sc: Scenario) -> Hashable:
    from .batch import batch_key

    return batch_key(sc)


def _run_compiled(scenarios: Sequence[Scenario], seeds: Sequence[SeedLike],
                  **opts: Any) -> list[RunResult]:
    from .compiled import simulate_compiled

    return [simulate_compiled(sc, seed, **opts) for sc, seed in zip(scenarios, seeds)]


def _run_simpy(scenarios: Sequence[Scenario], seeds: Sequence[SeedLike],
               **opts: Any) -> list[RunResult]:
    from .simpy_engine import run_simpy

    return [run_simpy(sc, seed, **opts) for sc, seed in zip(scenarios, seeds)]


def _run_batch(scenarios: Sequence[Scenario], seeds: Sequence[SeedLike],
               **opts: Any) -> list[RunResult]:
    from .batch import simulate_batch

    return simulate_batch(scenarios, seeds, **opts)


def _compiled_first(sc: Scenario, alone: bool) -> float:
    """The compiled engine first for the async schedule. In the sweep schedule, first for
    a task that streams its inputs (a series: thousands of steps on hundreds of nodes) in
    the portable arithmetic; the logic circuit's short sweeps go to the SimPy engine alone
    (a run takes less than the kernel's start) and to the batched one among many."""
    from ..rule import resolve_arithmetic
    from ..tasks import task_kind

    if sc.schedule.kind == "async":
        return 3.0
    needs = task_kind(sc.task.kind).needs
    long_runs = "streamed inputs" in needs
    portable = resolve_arithmetic(sc.node.arithmetic, sc.rng.mode) == "portable"
    return 1.5 if long_runs and portable else 0.0


def _many_first(sc: Scenario, alone: bool) -> float:
    return 0.0 if alone else 2.0


@dataclass(frozen=True)
class Engine:
    """One entry of the registry.

    Attributes
    ----------
    name : str
        What ``engine=`` takes.
    reason : callable
        ``reason(scenario)``: why it cannot run a scenario (``None``: it can).
    run : callable
        ``run(scenarios, seeds, **options)``: one result each (a batched engine runs them
        together; they then share one grouping key).
    preference : callable
        ``preference(scenario, alone)``: how much it prefers itself for a run, alone or
        among many of one shape; ``auto`` takes the highest among those that can run it.
    group : callable or None
        ``group(scenario)``: the grouping key of a batched engine (runs with one key can go
        together); ``None``: it runs one at a time.
    options : tuple of str
        The keyword options ``run`` takes (``progress``, ``delivery``, ``after_training``,
        ``initial``); an engine given another option cannot run that call.
    """

    name: str
    reason: Callable[[Scenario], str | None]
    run: Callable[..., list[RunResult]]
    preference: Callable[[Scenario, bool], float] = lambda sc, alone: 1.0
    group: Callable[[Scenario], Hashable] | None = None
    options: tuple[str, ...] = ()

    @property
    def batched(self) -> bool:
        """Whether running many together is what makes it fast."""
        return self.group is not None


#: the registry (:func:`register_engine` adds to it)
ENGINES: dict[str, Engine] = {
    "compiled": Engine("compiled", _compiled_reason, _run_compiled, _compiled_first,
                       options=("after_training",)),
    "simpy": Engine("simpy", lambda sc: None, _run_simpy,
                    options=("progress", "delivery", "after_training")),
    "batch": Engine("batch", _batch_reason, _run_batch, _many_first, group=_batch_key,
                    options=("initial",)),
}
#: options an engine that does not take them ignores (the others it must take)
HINTS = ("progress",)
#: what ``engine=`` (and ``--engine``) accepts
ENGINE_CHOICES = ("auto", *ENGINES)


def register_engine(engine: Engine, *, replace: bool = False) -> Engine:
    """Add ``engine`` to :data:`ENGINES` (and ``engine=`` choices).

    Parameters
    ----------
    engine : Engine
        The entry.
    replace : bool
        Allow replacing an engine of that name.

    Returns
    -------
    Engine
    """
    global ENGINE_CHOICES
    if engine.name in ENGINES and not replace or engine.name == "auto":
        raise ValueError(f"engine {engine.name!r} is already registered")
    ENGINES[engine.name] = engine
    ENGINE_CHOICES = ("auto", *ENGINES)
    return engine


def unregister_engine(name: str) -> None:
    """Remove a registered engine (a plug-in's, e.g. at the end of a test).

    Parameters
    ----------
    name : str
        The engine's name.
    """
    global ENGINE_CHOICES
    ENGINES.pop(name, None)
    ENGINE_CHOICES = ("auto", *ENGINES)


def _known(name: str) -> Engine:
    if name not in ENGINES:
        raise ConfigError(f"engine {name!r} is not known; choose one of "
                          f"{', '.join(repr(e) for e in ('auto', *ENGINES))}")
    return ENGINES[name]


def engine_reason(name: str, sc: Scenario, options: Sequence[str] = ()) -> str | None:
    """Why engine ``name`` cannot run ``sc`` (``None`` when it can).

    Parameters
    ----------
    name : str
        An engine of :data:`ENGINES`.
    sc : Scenario
        The scenario.
    options : sequence of str
        Options the call passes (an engine that does not take one cannot run it).

    Returns
    -------
    str or None

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> engine_reason("simpy", Scenario()) is None
    True
    """
    e = _known(name)
    why = e.reason(sc)
    if why is None:
        missing = [o for o in options if o not in e.options]
        if missing:
            why = f"the {name} engine does not take {', '.join(missing)}"
    return why


def choose_engine(sc: Scenario, engine: str = "auto", options: Sequence[str] = (), *,
                  alone: bool = True) -> str:
    """The engine that runs ``sc``: ``engine`` itself if it can (else one
    :class:`ConfigError` naming why), or for ``"auto"`` the one that can and prefers itself
    most (the first registered on a tie).

    Parameters
    ----------
    sc : Scenario
        The scenario.
    engine : str
        ``"auto"`` or an engine's name.
    options : sequence of str
        Options the call passes.
    alone : bool
        The run goes alone (not among many of its shape).

    Returns
    -------
    str

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> choose_engine(Scenario())
    'simpy'
    >>> choose_engine(Scenario.from_dict({"network": {"kind": "random"}}), "batch")
    Traceback (most recent call last):
    ...
    argnn_sim.config.ConfigError: engine 'batch' cannot run scenario 'default': network.kind = 'random' (the batched engine runs the logic circuit); use engine 'auto' or 'simpy'
    """
    if engine != "auto":
        why = engine_reason(engine, sc, options)
        if why is not None:
            raise ConfigError(f"engine {engine!r} cannot run scenario {sc.name!r}: {why}; "
                              "use engine 'auto' or 'simpy'")
        return engine
    able = [e for e in ENGINES.values() if engine_reason(e.name, sc, options) is None]
    if not able:
        raise ConfigError(f"no engine can run scenario {sc.name!r} with options "
                          f"{', '.join(options)}")
    return max(able, key=lambda e: e.preference(sc, alone)).name


def engine_note(name: str, sc: Scenario, asked: str = "auto", *, alone: bool = True) -> str:
    """Why engine ``name``, which runs ``sc``, is not the fastest one for its setting (empty
    when it is): the fastest is the engine that prefers itself most for it, whether or not
    it can run it (``compiled`` for the async schedule; for the sweep schedule ``batch``
    among many runs of one shape, ``simpy`` for a run alone).

    Parameters
    ----------
    name : str
        The engine that runs it.
    sc : Scenario
        The scenario.
    asked : str
        What ``engine=`` said.
    alone : bool
        The run goes alone (not among many of its shape).

    Returns
    -------
    str

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> engine_note("simpy", Scenario())
    ''
    >>> print(engine_note("simpy", Scenario.from_dict({"schedule": {"kind": "async"},
    ...                                                "pruning": {"policy": "magnitude"}})))
    compiled: the compiled engine covers pruning.policy = "spectral" (rules "local" and "reference") and "none"
    """
    fastest = _fastest(sc, alone)
    if name == fastest:
        return ""
    why = ENGINES[fastest].reason(sc)
    if why is None:
        return f"engine {asked!r} was asked for; {fastest!r} covers this run"
    return f"{fastest}: {why}"


def _fastest(sc: Scenario, alone: bool) -> str:
    return max(ENGINES.values(), key=lambda e: e.preference(sc, alone)).name


def missed_engine(name: str, sc: Scenario, *, alone: bool = True) -> str | None:
    """Why the fastest engine for ``sc`` (alone, or among many runs of its shape), which is
    not ``name``, cannot run it: ``"engine: reason"``; ``None`` when ``name`` is the
    fastest or the fastest could run it.

    Parameters
    ----------
    name : str
        The engine that ran it.
    sc : Scenario
        The scenario.
    alone : bool
        Whether the run goes alone.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> missed_engine("simpy", Scenario.from_dict({"pruning": {"rule": "local"}}), alone=False)
    "batch: pruning policy 'spectral' rule 'local' (the batched engine runs the spectral reference rule or no pruning)"
    """
    fastest = _fastest(sc, alone)
    why = None if fastest == name else ENGINES[fastest].reason(sc)
    return None if why is None else f"{fastest}: {why}"


def run_many(name: str, scenarios: Sequence[Scenario], seeds: Sequence[SeedLike],
             asked: str = "auto", **options: Any) -> list[RunResult]:
    """Run ``scenarios`` with ``seeds`` on engine ``name`` (which must cover all of them; a
    batched engine runs them together). One result each, in order.

    An engine that finds, once the network is built, that a run is beyond it raises
    :class:`~argnn_sim.limits.TooLarge`; asked for ``auto``, the runs then go to the SimPy
    engine and each result says why.

    Parameters
    ----------
    name : str
        An engine of :data:`ENGINES`.
    scenarios : sequence of Scenario
        One per run.
    seeds : sequence
        One per run.
    asked : str
        What ``engine=`` said (for :func:`engine_note`, recorded in each result).
    **options
        Engine options (``progress``, ``delivery``, ``after_training``: SimPy;
        ``initial``: batch); one the engine does not take is refused.

    Returns
    -------
    list of RunResult

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> sc = Scenario.from_dict({"schedule": {"inputs": 5}, "record": {"traces": "none"}})
    >>> [r.engine for r in run_many("batch", [sc, sc], [0, 1])]
    ['batch', 'batch']
    """
    e = _known(name)
    options = {k: v for k, v in options.items() if k not in HINTS or k in e.options}
    missing = [o for o in options if o not in e.options]
    if missing:
        raise ConfigError(f"engine {name!r} does not take {', '.join(missing)}; use engine "
                          f"{' or '.join(repr(x.name) for x in ENGINES.values() if set(options) <= set(x.options)) or 'auto'}")
    for sc in set(scenarios):  # too large for this machine, or never ending: say so first
        check_resources(sc)
    too_large = ""
    try:
        results = e.run(scenarios, seeds, **options)
    except TooLarge as exc:
        if asked != "auto":
            raise
        too_large = f"{name}: {exc}"  # seen only once the network was built
        name, e = "simpy", ENGINES["simpy"]
        results = e.run(scenarios, seeds, **{k: v for k, v in options.items()
                                             if k in e.options})
    alone = len(results) == 1
    for sc, r in zip(scenarios, results):
        r.engine_note = engine_note(name, sc, asked, alone=alone)
        if options.get("delivery", "lazy") != "lazy" and r.engine_note:
            r.engine_note = "delivery = 'eager' runs on the SimPy engine only"
        r.engine_note = too_large or r.engine_note
    return results


def plan(scenarios: Sequence[Scenario], engine: str = "auto") -> list[tuple[str, list[int]]]:
    """Which engine runs which of ``scenarios`` when many are run: ``(engine, indices)``
    groups. For ``"auto"``, runs that a batched engine covers and that share its grouping
    key go together where it prefers itself among many (a key with one run goes alone);
    every other run goes alone on :func:`choose_engine`'s engine. An engine named
    explicitly must cover every run (one :class:`ConfigError` otherwise, before anything
    runs); a batched one then groups by its key.

    Parameters
    ----------
    scenarios : sequence of Scenario
        The runs.
    engine : str
        ``"auto"`` or an engine's name.

    Returns
    -------
    list of (str, list of int)
        Each group's engine and the positions of its runs, groups of many first.

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> a = Scenario.from_dict({"schedule": {"inputs": 5}, "record": {"traces": "prunes"}})
    >>> plan([a, a, a.replace(**{"network.hidden": 3})])
    [('batch', [0, 1]), ('simpy', [2])]
    """
    if engine != "auto":
        e = _known(engine)
        for sc in scenarios:
            choose_engine(sc, engine)
        if e.group is None:
            return [(engine, [i]) for i in range(len(scenarios))]
        keyed: dict[Any, list[int]] = {}
        for i, sc in enumerate(scenarios):
            keyed.setdefault(e.group(sc), []).append(i)
        return [(engine, idx) for idx in keyed.values()]
    groups: dict[Any, list[int]] = {}
    alone: list[tuple[str, list[int]]] = []
    for i, sc in enumerate(scenarios):
        name = choose_engine(sc, alone=False)
        e = ENGINES[name]
        if e.group is None:
            alone.append((name, [i]))
        else:
            groups.setdefault((name, e.group(sc)), []).append(i)
    together: list[tuple[str, list[int]]] = []
    for (name, _key), idx in groups.items():
        if len(idx) == 1:
            alone.append((choose_engine(scenarios[idx[0]]), idx))
        else:
            together.append((name, idx))
    return together + sorted(alone, key=lambda g: g[1])


def initial_network(scenario: Scenario, seed: SeedLike = None) -> Topology:
    """The network a run of ``scenario`` with ``seed`` starts from (its labels, inputs,
    outputs, edges and drawn weights), without running it.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    seed : int, optional
        Its seed (default: ``scenario.seed``).

    Returns
    -------
    Topology

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> initial_network(Scenario(), 0).n_edges
    12
    """
    return prepare(scenario, seed).topo


def evaluation_schedule(sc: Scenario, seed: SeedLike) -> tuple[Any, list[int], Any]:
    """What the evaluation of a table task uses: the table (rows, inputs then target),
    the order of the rows and the node order of every evaluation pass, from the same
    draws as every engine (sweep schedule, logic circuit).

    Parameters
    ----------
    sc : Scenario
        A scenario the batched engine covers.
    seed : int
        Its seed.

    Returns
    -------
    tuple
        The rows (a float array of shape ``(n_rows, n_inputs + 1)``), their order (a list
        of int) and the node order of each evaluation pass (an int array).
    """
    from .batch import eval_schedule

    return eval_schedule(sc, seed)


def simulate(scenario: Scenario, seed: SeedLike = None, *, engine: str = "auto",
             progress: bool = False, delivery: str = "lazy", **options: Any) -> RunResult:
    """Run one scenario and return its :class:`~argnn_sim.results.RunResult`.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    seed : int, SeedSequence, Generator or RandomState, optional
        What to draw from (a ``RandomState`` for ``rng.mode = "reference"``); defaults to
        ``scenario.seed``. Same scenario and seed give identical results, whichever
        engine runs them.
    engine : str
        ``"auto"`` (the fastest engine that can run it), or a registered engine's name
        (one :class:`ConfigError` naming the reason if that engine cannot run it).
    progress : bool
        Show a progress bar on stderr (SimPy engine).
    delivery : str
        ``"lazy"`` (default) or ``"eager"``: how the SimPy engine delivers delayed
        messages; identical results, see :mod:`argnn_sim.channel`.
    **options
        Engine options: ``after_training`` (SimPy and compiled: called with the network
        when training ends), ``initial`` (batch: the edges to start from). ``auto`` picks an
        engine that takes them; an option given as ``None`` is not given.

    Returns
    -------
    RunResult
        ``result.engine`` names the engine that ran it.

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> r = simulate(Scenario.from_dict({"schedule": {"inputs": 50}}), seed=1)
    >>> r.edges_before, 0.0 <= r.error <= 1.0
    (12, True)
    """
    options = {k: v for k, v in options.items() if v is not None}
    if delivery != "lazy":
        options["delivery"] = delivery
    if "initial" in options:
        options["initial"] = [options["initial"]]
    name = choose_engine(scenario, engine, tuple(options))
    [result] = run_many(name, [scenario], [seed], engine, progress=progress, **options)
    return result


def __getattr__(name: str) -> Any:
    if name == "Network":  # the SimPy engine's network, for notebooks and tests
        from .simpy_engine import Network

        return Network
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
