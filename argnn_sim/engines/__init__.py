"""Engines behind one door: :func:`simulate` and the registry of engines.

Every engine turns a scenario and a seed into the same :class:`~argnn_sim.results.RunResult`
(the tests compare whole results, engine against engine, on a matrix of scenarios). They
differ in speed and in what they cover; each entry of :data:`ENGINES` says whether it can
run a scenario and, if not, why (networkx's ``can_run`` idea):

``compiled``
    the async schedule on a numba kernel (:mod:`argnn_sim.engines.compiled`; the ``fast``
    extra). Fastest where it runs.
``simpy``
    the executable specification, one SimPy process per node
    (:mod:`argnn_sim.engines.simpy_engine`). Runs every scenario.
``batch``
    the logic circuit in the sweep schedule, many runs advanced together on NumPy arrays
    (:mod:`argnn_sim.engines.batch`). Fastest for many runs of one shape (sweeps); for one
    run alone the SimPy engine is faster.

``engine="auto"`` takes, for one run, the first of ``compiled``, ``simpy`` that can run
it; sweeps (:mod:`argnn_sim.sweep`) also put runs of one shape together on ``batch``. An
engine asked for by name that cannot run a scenario raises one :class:`ConfigError`
naming the reason, everywhere. The result records which engine ran it
(``RunResult.engine``) and, when a faster engine exists for its setting (``compiled``
for the async schedule, ``batch`` for sweeps of the sweep schedule) but did not run it,
why not (``RunResult.engine_note``, :func:`engine_note`): no run falls back silently.

>>> from argnn_sim.config import Scenario
>>> sc = Scenario.from_dict({"schedule": {"inputs": 20}, "record": {"traces": "prunes"}})
>>> simulate(sc, 1).engine, simulate(sc, 1, engine="batch").error == simulate(sc, 1).error
('simpy', True)
>>> print(engine_reason("compiled", sc))
the compiled engine runs the async schedule (schedule.kind = "async"); for sweeps use engine 'batch'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..config import ConfigError, Scenario
from ..limits import check_resources
from ..results import RunResult
from ..rng import SeedLike

__all__ = ["Engine", "ENGINES", "ENGINE_CHOICES", "simulate", "engine_reason",
           "choose_engine", "run_many", "engine_note"]


def _compiled_reason(sc: Scenario) -> str | None:
    from .compiled import available, compiled_reason

    why = compiled_reason(sc)
    if why is None and not available():
        return "numba is not installed (pip install 'argnn-sim[fast]')"
    return why


def _simpy_reason(sc: Scenario) -> str | None:
    return None


def _batch_reason(sc: Scenario) -> str | None:
    from .batch import batch_reason

    return batch_reason(sc)


def _run_compiled(scenarios: Sequence[Scenario], seeds: Sequence[SeedLike],
                  **opts: Any) -> list[RunResult]:
    from .compiled import simulate_compiled

    return [simulate_compiled(sc, seed) for sc, seed in zip(scenarios, seeds)]


def _run_simpy(scenarios: Sequence[Scenario], seeds: Sequence[SeedLike],
               **opts: Any) -> list[RunResult]:
    from .simpy_engine import run_simpy

    return [run_simpy(sc, seed, **opts) for sc, seed in zip(scenarios, seeds)]


def _run_batch(scenarios: Sequence[Scenario], seeds: Sequence[SeedLike],
               **opts: Any) -> list[RunResult]:
    from .batch import simulate_batch

    return simulate_batch(scenarios, seeds)


@dataclass(frozen=True)
class Engine:
    """One entry of the registry.

    name : what ``engine=`` takes. reason : why it cannot run a scenario (``None``: it
    can). run : run scenarios with their seeds, one result each (a batched engine runs
    them together; they must then share one shape). batched : whether running many
    together is what makes it fast. options : the keyword options ``run`` accepts.
    """

    name: str
    reason: Callable[[Scenario], str | None]
    run: Callable[..., list[RunResult]]
    batched: bool = False
    options: tuple[str, ...] = ()


#: the registry, in the order ``auto`` tries them for one run
ENGINES: dict[str, Engine] = {
    "compiled": Engine("compiled", _compiled_reason, _run_compiled),
    "simpy": Engine("simpy", _simpy_reason, _run_simpy, options=("progress", "delivery")),
    "batch": Engine("batch", _batch_reason, _run_batch, batched=True),
}
#: what ``engine=`` (and ``--engine``) accepts
ENGINE_CHOICES = ("auto", *ENGINES)


def engine_reason(name: str, sc: Scenario) -> str | None:
    """Why engine ``name`` cannot run ``sc`` (``None`` when it can).

    Parameters
    ----------
    name : an engine of :data:`ENGINES`.
    sc : the scenario.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from argnn_sim.config import Scenario
    >>> engine_reason("simpy", Scenario()) is None
    True
    """
    if name not in ENGINES:
        raise ConfigError(f"engine {name!r} is not known; choose one of "
                          f"{', '.join(repr(e) for e in ENGINE_CHOICES)}")
    return ENGINES[name].reason(sc)


def choose_engine(sc: Scenario, engine: str = "auto") -> str:
    """The engine that runs ``sc`` alone: ``engine`` itself if it can (else one
    :class:`ConfigError` naming why), or for ``"auto"`` the first of the registry's
    single-run engines that can.

    Parameters
    ----------
    sc : the scenario. engine : ``"auto"`` or an engine's name.

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
        why = engine_reason(engine, sc)
        if why is not None:
            raise ConfigError(f"engine {engine!r} cannot run scenario {sc.name!r}: {why}; "
                              "use engine 'auto' or 'simpy'")
        return engine
    for name, e in ENGINES.items():
        if not e.batched and e.reason(sc) is None:
            return name
    return "simpy"  # pragma: no cover - simpy runs everything


def engine_note(name: str, sc: Scenario, asked: str = "auto", *, alone: bool = True) -> str:
    """Why engine ``name``, which runs ``sc``, is not the fastest one for its setting (empty
    when it is). The fastest: ``compiled`` for the async schedule; for the sweep schedule,
    ``batch`` when many runs of one shape go together, ``simpy`` for a run alone.

    Parameters
    ----------
    name : the engine that runs it. sc : the scenario. asked : what ``engine=`` said.
    alone : the run goes alone (not among many of its shape).

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
    fastest = "compiled" if sc.schedule.kind == "async" else ("simpy" if alone else "batch")
    if name == fastest:
        return ""
    why = ENGINES[fastest].reason(sc)
    if why is None:
        return f"engine {asked!r} was asked for; {fastest!r} covers this run"
    return f"{fastest}: {why}"


def run_many(name: str, scenarios: Sequence[Scenario], seeds: Sequence[SeedLike],
             asked: str = "auto", **options: Any) -> list[RunResult]:
    """Run ``scenarios`` with ``seeds`` on engine ``name`` (which must cover all of them; a
    batched engine runs them together). One result each, in order.

    Parameters
    ----------
    name : an engine of :data:`ENGINES`. scenarios, seeds : one per run.
    asked : what ``engine=`` said (for :func:`engine_note`, recorded in each result).
    **options : engine options (``progress``, ``delivery``: SimPy); others are ignored.

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
    e = ENGINES[name]
    for sc in set(scenarios):  # too large for this machine, or never ending: say so first
        check_resources(sc)
    opts = {k: v for k, v in options.items() if k in e.options}
    from .compiled import TooLarge

    too_large = ""
    try:
        results = e.run(scenarios, seeds, **opts)
    except TooLarge as exc:
        if asked != "auto":
            raise
        too_large = f"compiled: {exc}"  # seen only once the network was built
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


def simulate(scenario: Scenario, seed: SeedLike = None, *, engine: str = "auto",
             progress: bool = False, delivery: str = "lazy") -> RunResult:
    """Run one scenario and return its :class:`~argnn_sim.results.RunResult`.

    Parameters
    ----------
    scenario : a validated :class:`~argnn_sim.config.Scenario`.
    seed : int, ``SeedSequence``, ``Generator`` or (``rng.mode = "reference"``) a
        ``RandomState`` to draw from; defaults to ``scenario.seed``. Same scenario and seed
        give identical results, whichever engine runs them.
    engine : ``"auto"`` (the fastest engine that can run it), or ``"compiled"``,
        ``"simpy"``, ``"batch"`` (one :class:`ConfigError` naming the reason if that
        engine cannot run it).
    progress : show a progress bar on stderr (SimPy engine).
    delivery : ``"lazy"`` (default) or ``"eager"``: how the SimPy engine delivers delayed
        messages; identical results, see :mod:`argnn_sim.channel`.

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
    asked = engine
    if engine == "auto" and delivery != "lazy":
        engine = "simpy"  # only the SimPy engine has another way to deliver
    name = choose_engine(scenario, engine)
    [result] = run_many(name, [scenario], [seed], asked, progress=progress, delivery=delivery)
    return result
