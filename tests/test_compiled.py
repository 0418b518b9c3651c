"""The compiled engine (argnn_sim.engines.compiled): its buffers, its reasons, numba missing,
sweeps. That its results equal the SimPy engine's on a matrix of scenarios and trace
levels is tested in test_engines.py."""

import subprocess
import sys

import numpy as np
import pytest

from argnn_sim import Scenario, simulate
from argnn_sim.config import ConfigError
from argnn_sim.engines import compiled as C
from argnn_sim.engines import compiled_arrays as CA
from argnn_sim.sweep import Grid, run_sweep
from argnn_sim.testing import assert_same_result

pytest.importorskip("numba")


def _sc(n=150, traces="prunes", inputs=30, period=1.0, **extra):
    d = {"task": {"gate": "XOR"},
         "network": {"kind": "random", "nodes": n, "mean_degree": 8.0},
         "schedule": {"kind": "async", "inputs": inputs, "input_period": period,
                      "wake_rate": 1.0},
         "channel": {"model": "exponential", "delay": 0.5},
         "pruning": {"policy": "spectral", "rule": "local", "mode": "DW"},
         "record": {"traces": traces}}
    for k, v in extra.items():
        d[k] = {**d.get(k, {}), **v}
    return Scenario.from_dict(d)


def assert_same(fast, slow):
    assert_same_result(fast, slow)
    assert (fast.engine, slow.engine) == ("compiled", "simpy")


def _tiny_inboxes(monkeypatch):
    """Inboxes of one message at first, in a buffer with little slack: segments move to
    the buffer's end and the buffer is repacked, both many times; the prefetch hints of
    large networks on. Returns the counts of the host's moves and repacks."""
    seen = {"grow": 0, "repack": 0}
    grow, repack = CA.RunArrays.grow_inbox, CA.RunArrays._repack_inboxes

    def count(key, real):
        def wrapped(self, *a):
            seen[key] += 1
            return real(self, *a)
        return wrapped

    monkeypatch.setattr(CA.RunArrays, "grow_inbox", count("grow", grow))
    monkeypatch.setattr(CA.RunArrays, "_repack_inboxes", count("repack", repack))
    monkeypatch.setattr(CA, "INBOX_PER_NEIGHBOUR", 0)
    monkeypatch.setattr(CA, "INBOX_MIN", 1)
    monkeypatch.setattr(CA, "INBOX_SLACK", 1.3)
    monkeypatch.setattr(C, "HINT_EDGES", 0)
    return seen


def test_tiny_buffers_change_nothing(monkeypatch):
    """Every refill and growth path (wake intervals, pool, inboxes, trace buffers) runs many
    times mid-run, and the schedule stream is rewound mid-block before the evaluation
    shuffle."""
    sc = _sc(traces="full", n=120)
    slow = simulate(sc, 5, engine="simpy")
    monkeypatch.setattr(CA, "SCHED_BLOCK", 7)
    monkeypatch.setattr(CA, "POOL_MIN", 1)
    monkeypatch.setattr(CA, "POOL_PER_EDGE", 0)
    monkeypatch.setattr(C, "TRACE_BUF", (1, 1, 1))
    seen = _tiny_inboxes(monkeypatch)
    fast = C.simulate_compiled(sc, 5)
    assert_same(fast, slow)
    assert slow.prune_events
    assert seen["grow"] > 100 and 0 < seen["repack"] < seen["grow"]


def test_a_tiny_fault_log_grows_mid_run(monkeypatch):
    """Many crashes of a lossy network: the fault log grows many times mid-run, the pool
    too, and the loss and fault draws stay in the SimPy engine's order."""
    sc = _sc(n=80, inputs=40, channel={"loss": 0.1},
             faults={"crash_rate": 0.05, "downtime": 1.0, "reset": True})
    slow = simulate(sc, 3, engine="simpy")
    monkeypatch.setattr(CA, "FAULT_LOG", 1)
    monkeypatch.setattr(CA, "POOL_MIN", 1)
    monkeypatch.setattr(CA, "POOL_PER_EDGE", 0)
    seen = _tiny_inboxes(monkeypatch)
    fast = C.simulate_compiled(sc, 3)
    assert_same(fast, slow)
    assert seen["repack"] > 0
    f = slow.counters["faults"]
    assert f["crashes"] > 100 and f["messages_missed"] > 0
    assert slow.counters["messages"]["lost"]["value"] > 0


def _small_windows(monkeypatch):
    """Speculation windows of 8-16 checks, buffers of one: every growth path runs. Returns
    the list that counts the kernel's returns to a checkpoint."""
    restores = []
    real = CA.RunArrays.restore
    monkeypatch.setattr(CA.RunArrays, "restore", lambda self: (restores.append(1), real(self)))
    monkeypatch.setattr(C, "SPECULATE", (8, 4, 16))
    monkeypatch.setattr(C, "TRACE_BUF", (1, 1, 1))
    monkeypatch.setattr(CA, "POOL_MIN", 1)
    monkeypatch.setattr(CA, "POOL_PER_EDGE", 0)
    _tiny_inboxes(monkeypatch)
    return restores


def test_reference_rule_reruns_from_checkpoints(monkeypatch):
    """The reference rule with small speculation windows and tiny buffers: every wrong
    prediction goes back to a checkpoint, every buffer grows mid-run, and the result is
    still the SimPy engine's (remote prunes included)."""
    sc = _sc(network={"kind": "logic", "hidden": 4}, inputs=100, period=10.0,
             pruning={"rule": "reference", "mode": "D"},
             channel={"model": "uniform", "delay": 0.4, "spread": 0.3}, traces="full")
    slow = simulate(sc, 4, engine="simpy")
    restores = _small_windows(monkeypatch)
    monkeypatch.setattr(CA, "PRUNE_BUF", 2)
    fast = C.simulate_compiled(sc, 4)
    assert_same(fast, slow)
    assert sum(ev["remote"] for ev in slow.prune_events) >= 1
    assert slow.counters["messages"]["sent"]["prune_request"] > 10
    assert len(restores) > 5  # wrong predictions went back, many times


@pytest.mark.parametrize("mode,channel,faults", [
    ("DW", {"model": "exponential", "delay": 0.5}, {}),
    ("DW", {"model": "uniform", "delay": 0.4, "spread": 0.3, "loss": 0.1},
     {"crash_rate": 0.01, "downtime": 5.0, "reset": True}),
])
def test_local_rule_runs_ahead_and_reruns_from_checkpoints(monkeypatch, mode, channel, faults):
    """The local rule's eligible checks decided after the fact: a logic circuit, where half
    of the activations have an eligible edge, with small speculation windows and tiny
    buffers. Every prune is a wrong prediction that goes back to a checkpoint; the result is
    still the SimPy engine's."""
    sc = _sc(network={"kind": "logic", "hidden": 4}, inputs=300, period=10.0,
             pruning={"rule": "local", "mode": mode}, channel=channel, faults=faults)
    slow = simulate(sc, 2, engine="simpy")
    restores = _small_windows(monkeypatch)
    fast = C.simulate_compiled(sc, 2)
    assert_same(fast, slow)
    assert slow.prune_events and len(restores) >= len(slow.prune_events)
    assert slow.counters["checks"] > 1000


def test_local_rule_stops_at_each_eligible_check_on_large_networks(monkeypatch):
    """Over ``LOCAL_AHEAD_EDGES`` (and at trace level full) the kernel stops at each eligible
    check instead; same result, and no checkpoint is ever taken back."""
    sc = _sc(network={"kind": "logic", "hidden": 4}, inputs=200, period=10.0)
    slow = simulate(sc, 1, engine="simpy")
    monkeypatch.setattr(C, "LOCAL_AHEAD_EDGES", 3)
    monkeypatch.setattr(CA.RunArrays, "restore", lambda self: pytest.fail("no speculation here"))
    assert_same(C.simulate_compiled(sc, 1), slow)
    assert slow.prune_events


def test_a_hub_too_large_for_the_reference_rules_kernel_says_so():
    fan = [f"m{i}" for i in range(C._kernel().PAIRWISE_MAX)]
    hub = {"kind": "edges", "inputs": ["a", "b"], "outputs": ["out"],
           "edges": [["a", "h"], ["b", "h"]] + [["h", m] for m in fan] + [[m, "out"] for m in fan]}
    sc = _sc(network=hub, pruning={"rule": "reference"}, inputs=1)
    with pytest.raises(ConfigError, match="stars of up to .* members.*use engine 'simpy'"):
        C.simulate_compiled(sc, 0)
    with pytest.raises(ConfigError, match="stars of up to .* members.*use engine 'simpy'"):
        simulate(sc, 0, engine="compiled")  # asked for by name: one clear error
    r = simulate(sc, 0)  # auto: runs on SimPy and says why
    assert r.engine == "simpy" and r.engine_note.startswith("compiled: engine 'compiled' runs")


def test_seeds_differ_and_repeat():
    sc = _sc()
    a, b, c = (C.simulate_compiled(sc, s) for s in (1, 1, 2))
    assert_same_result(a, b)
    assert a.curves["train_error"].tolist() != c.curves["train_error"].tolist()


def test_simulate_engine_option_and_errors():
    sc = _sc(n=60, inputs=5)
    assert_same(simulate(sc, 0, engine="compiled"), simulate(sc, 0, engine="simpy"))
    with pytest.raises(ConfigError, match="engine 'turbo' is not known"):
        simulate(sc, 0, engine="turbo")
    # the default scenario: the sweep schedule, full traces (watched nodes' eigenvalues)
    assert_same(C.simulate_compiled(Scenario(), 0), simulate(Scenario(), 0, engine="simpy"))
    lossy = _sc(channel={"loss": 0.1, "model": "lognormal", "spread": 0.5})
    with pytest.raises(ConfigError, match="lognormal delays.*use engine 'auto' or 'simpy'"):
        simulate(lossy, 0, engine="compiled")
    with pytest.raises(ConfigError, match="arithmetic = 'reference'.*compiled code cannot"):
        simulate(_sc(node={"arithmetic": "reference"}), 0, engine="compiled")


@pytest.mark.parametrize("extra, words", [
    ({"channel": {"loss": 0.2, "model": "lognormal", "spread": 0.4}}, "lossy"),
    ({"channel": {"model": "lognormal", "spread": 0.4}, "pruning": {"rule": "reference"}},
     "reference rule"),
    ({"pruning": {"policy": "magnitude"}}, "policy"),
    ({"pruning": {"budget": 3, "rule": "reference"}}, "budget"),
    ({"schedule": {"kind": "sweep"}, "channel": {"delay": 0.0},
      "faults": {"crash_rate": 0.1}}, "sweep schedule"),
    ({"node": {"arithmetic": "reference"}}, "arithmetic"),
])
def test_reasons(extra, words):
    why = C.compiled_reason(_sc(**extra))
    assert why is not None and words in why
    assert C.compiled_reason(_sc()) is None


def test_missing_numba_is_one_clear_error():
    code = ("import sys; sys.modules['numba'] = None\n"
            "from argnn_sim.engines import compiled as C\n"
            "from argnn_sim.config import Scenario, ConfigError\n"
            "sc = Scenario.from_dict({'schedule': {'kind': 'async', 'inputs': 2},"
            " 'pruning': {'rule': 'local'}})\n"
            "assert not C.available()\n"
            "try:\n    C.simulate_compiled(sc, 0)\n"
            "except ConfigError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "needs numba" in out and "argnn-sim[fast]" in out


def test_sweep_with_compiled_engine_matches_simpy(tmp_path):
    grid = Grid.from_dict({
        "name": "g", "seeds": [0, 1],
        "base": _sc(n=80, inputs=10).to_dict(),
        "axes": {"pruning.mode": ["D", "DW"], "pruning.policy": ["spectral", "magnitude"]},
    })
    with pytest.raises(ConfigError, match="engine 'compiled' cannot run .*policy"):
        run_sweep(grid, tmp_path / "c", engine="compiled")  # named: it must run every run
    a = run_sweep(grid, tmp_path / "a", engine="auto")
    b = run_sweep(grid, tmp_path / "b", engine="simpy")
    ra = {r["key"]: r["summary"] for r in a.records}
    rb = {r["key"]: r["summary"] for r in b.records}
    engines = sorted(r.pop("engine") for r in ra.values())
    assert engines == ["compiled"] * 4 + ["simpy"] * 4  # auto: each run's fastest engine
    notes = sorted(r.pop("engine_note") for r in ra.values())
    assert notes[:4] == [""] * 4 and all(n.startswith("compiled: ") and "policy" in n
                                         for n in notes[4:])  # why not compiled, each
    assert {r["engine_note"] for r in rb.values() if r["scenario"]["pruning"]["policy"]
            == "spectral"} == {"engine 'simpy' was asked for; 'compiled' covers this run"}
    for r in (*ra.values(), *rb.values()):
        r.pop("seconds", None)
        r.pop("timings", None)
        r.pop("engine", None)
        r.pop("engine_note", None)
    assert ra == rb and len(ra) == 8


def test_watch_selects_whose_eigenvalues_are_kept():
    """record.watch only observes: same run, same counts; traces of the watched nodes only."""
    runs = {w: simulate(_sc(traces="full", record={"watch": w}), 2, engine="simpy")
            for w in (0, 4, 16)}
    base = runs[0]
    for r in runs.values():
        assert r.prune_events == base.prune_events
        assert r.counters == base.counters
    n_active = len(base.labels) - 2
    every = set(np.unique(base.traces["check_node"]).tolist())
    assert len(every) > 16
    for w in (4, 16):
        kept = set(np.unique(runs[w].traces["check_node"]).tolist())
        assert kept <= set(range(2, n_active + 2)) and 1 < len(kept) <= w
        sel = np.isin(base.traces["check_node"], sorted(kept))
        np.testing.assert_array_equal(runs[w].traces["check_time"], base.traces["check_time"][sel])
        assert set(np.unique(runs[w].traces["age_node"]).tolist()) <= kept
        sel = np.isin(base.traces["age_node"], sorted(kept))
        np.testing.assert_array_equal(runs[w].traces["age_value"], base.traces["age_value"][sel])


def test_kernel_entries_resolve_once_and_fall_back():
    """The host's kernel calls go through the compiled entry point of the types of their first
    call; a dispatcher without numba's overload record is simply called."""
    K = C._kernel()
    fast = C._FastKernel(K)
    a = np.arange(4, dtype=np.int64)
    S = C._Run(C.prepare(_sc(n=20, inputs=2), 0), K).S
    fast.predict(S, 0, a, a)
    assert fast.predict.entry is K.predict.overloads[tuple(
        K.predict.typeof_pyval(x) for x in (S, 0, a, a))].entry_point
    assert fast.I_NCK == K.I_NCK  # constants pass through

    class Plain:
        calls = 0
        overloads: dict = {}

        def typeof_pyval(self, x):
            return type(x)

        def __call__(self, *args):
            Plain.calls += 1
            return sum(args)

    e = C._Entry(Plain())
    assert e(1, 2) == 3 and e(3, 4) == 7 and Plain.calls == 2


def test_the_wake_heap_pops_in_time_then_sequence_order():
    """The kernel's 8-ary heap, driven directly: pushes and pops interleaved, many equal
    times (ties go by sequence number), sizes across several levels; every pop is the
    least (time, sequence) still held, with its key."""
    from argnn_sim.engines import _kernel as K

    rng = np.random.default_rng(7)
    cap = 5000
    h_t = CA._line_aligned(cap + K.H0, np.float64)
    h_s = CA._line_aligned(cap + K.H0, np.int64)
    h_k = CA._line_aligned(cap + K.H0, np.int64)
    assert h_t.ctypes.data % 64 == 0
    I = np.zeros(K.N_I, dtype=np.int64)
    held = []
    seq = 0
    popped = 0
    for _ in range(20000):
        if held and (len(held) >= cap or rng.random() < 0.45):
            t, s, k = h_t[K.H0], h_s[K.H0], h_k[K.H0]
            K._heap_pop(h_t, h_s, h_k, I)
            least = min(held)
            assert (t, s, k) == least
            held.remove(least)
            popped += 1
        else:
            t = float(rng.integers(0, 50)) / 4  # many ties
            K._heap_push(h_t, h_s, h_k, I, t, seq, seq % 97)
            held.append((t, seq, seq % 97))
            seq += 1
        assert I[K.I_HEAP] == len(held)
    assert popped > 5000 and max(seq - popped, 0) > 1000
