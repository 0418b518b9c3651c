"""Drill: valid but extreme scenarios, run for real at toy size; no exception but the
project's own may escape (a bug would be an internal error, exit 1). Not part of the suite
(it runs minutes); run it by hand to look for new failures:

    python tests/drills/valid_extremes.py [EXAMPLES]      # default 300

It draws every network kind and schedule, delays and loss up to 0.99, faults, every pruning
policy and rule, budgets, weight scales 1e-9..1e6 and error factors 1e-6..1e6, on the
``auto`` and SimPy engines, with new random examples each time.
"""

import math
import sys
import traceback

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argnn_sim import simulate
from argnn_sim.config import ConfigError, Scenario
from argnn_sim.errors import ArgnnError

small_f = st.one_of(st.floats(0, 5), st.sampled_from([0.0, 1e-9, 1e-300, 0.5, 1.0, 2.0, 1e6]))


@st.composite
def scen(draw):
    kind = draw(st.sampled_from(["logic", "random", "edges"]))
    sched = draw(st.sampled_from(["sweep", "async"]))
    gate = draw(st.sampled_from(["AND", "XOR", "PARITY"]))
    d = {"task": {"gate": gate}}
    if gate == "PARITY":
        d["task"]["bits"] = draw(st.integers(1, 4))
    n_in = d["task"].get("bits", 2)
    if kind == "logic":
        d["network"] = {"hidden": draw(st.integers(0, 4))}
    elif kind == "random":
        d["network"] = {"kind": "random", "nodes": draw(st.integers(2, 12)), "mean_degree": draw(st.floats(0.01, 3))}
    else:
        names = [f"i{j}" for j in range(n_in)] + ["h0", "h1", "y"]
        edges = draw(st.lists(st.tuples(st.sampled_from(names), st.sampled_from(names[n_in:]), st.floats(-3, 3)), min_size=1, max_size=10, unique_by=lambda e: (e[0], e[1])))
        d["network"] = {"kind": "edges", "edges": [list(e) for e in edges], "inputs": names[:n_in], "outputs": ["y"]}
    d["network"]["weight_scale"] = draw(st.sampled_from([1e-9, 0.5, 1.0, 50.0, 1e6]))
    d["schedule"] = {"kind": sched, "inputs": draw(st.integers(0, 15)), "sweeps": draw(st.integers(1, 3)), "eval_sweeps": draw(st.integers(1, 2)), "evaluate": draw(st.booleans())}
    if sched == "async":
        d["schedule"]["wake_rate"] = draw(st.sampled_from([1e-3, 0.5, 1.0, 3.0]))
        d["schedule"]["input_period"] = draw(st.sampled_from([1e-6, 0.5, 2.0]))
        model = draw(st.sampled_from(["constant", "uniform", "exponential", "lognormal"]))
        delay = draw(small_f)
        d["channel"] = {"model": model, "delay": delay, "spread": min(draw(small_f), delay if model == "uniform" else 10), "loss": draw(st.sampled_from([0.0, 0.3, 0.99]))}
        if draw(st.booleans()):
            d["faults"] = {"crash_rate": draw(st.sampled_from([0.0, 0.1, 5.0])), "downtime": draw(st.sampled_from([0.01, 1.0, 100.0])), "reset": draw(st.booleans()), "during_eval": draw(st.booleans()), "start": draw(st.sampled_from([0.0, 3.0]))}
    d["node"] = {"error_factor": draw(st.sampled_from([1e-6, 0.15, 10.0, 1e6])), "clip": draw(st.sampled_from([1e-6, 10.0, 1e6])), "bias": draw(st.booleans())}
    pol = draw(st.sampled_from(["spectral", "magnitude", "random", "none"]))
    d["pruning"] = {"policy": pol, "mode": draw(st.sampled_from(["D", "DW"])), "rule": draw(st.sampled_from(["reference", "local"])), "min_in_degree": draw(st.integers(0, 3)), "budget": draw(st.integers(0, 3)), "rate": draw(st.sampled_from([0.0, 0.5, 1.0])), "threshold": draw(st.sampled_from([0.0, 0.05, 10.0]))}
    if sched == "sweep" and kind == "logic" and draw(st.booleans()):
        d["rng"] = {"mode": "reference"}
    d["record"] = {"traces": draw(st.sampled_from(["full", "prunes", "none"])), "watch": draw(st.integers(0, 3))}
    d["seed"] = draw(st.integers(0, 2**31))
    return d


def main(examples: int) -> int:
    found: list[tuple[dict, str, str]] = []

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(scen(), st.sampled_from(["auto", "simpy"]))
    def drill(d, engine):
        try:
            sc = Scenario.from_dict(d)
        except ConfigError:
            return
        try:
            r = simulate(sc, engine=engine)
            assert math.isfinite(r.error) or math.isnan(r.error)
        except ArgnnError:
            pass
        except Exception:
            found.append((d, engine, traceback.format_exc()))
            raise

    try:
        drill()
    except Exception:  # noqa: BLE001 - report the smallest failing scenario
        d, engine, tb = found[-1] if found else ({}, "", traceback.format_exc())
        print(f"FOUND on engine {engine!r}: {d}\n{tb[-2500:]}")
        return 1
    print(f"clean: {examples} examples")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
