"""argnn_sim.config: every key validated at construction, one ConfigError naming the key,
the value and what is allowed; TOML round trips; overrides."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argnn_sim.config import (
    ConfigError,
    NodeConfig,
    Scenario,
    ScheduleConfig,
    apply_overrides,
    load_scenario,
    parse_override,
)


def test_defaults_are_the_papers_setting():
    sc = Scenario()
    assert (sc.task.gate, sc.network.hidden, sc.pruning.mode, sc.schedule.kind) == (
        "XOR", 2, "DW", "sweep")
    assert sc.node.arithmetic == "auto" and sc.schedule.evaluate is True


@pytest.mark.parametrize("data, words", [
    ({"network": {"hiden": 3}}, "unknown key 'network.hiden' (did you mean 'network.hidden'"),
    ({"nodes": {"hidden": 3}}, "unknown key 'nodes'"),
    ({"task": {"gate": "XAND"}}, "task.gate = 'XAND' is not allowed"),
    ({"network": {"hidden": -1}}, "network.hidden = -1 is out of range"),
    ({"node": {"arithmetic": "fast"}}, "node.arithmetic = 'fast' is not allowed; choose one "
                                       "of 'auto', 'reference', 'portable'"),
    ({"schedule": {"evaluate": "no"}}, "schedule.evaluate = 'no' must be true or false"),
    ({"channel": {"delay": -0.5}}, "channel.delay = -0.5 is out of range"),
    ({"schedule": {"wake_rate": 0.0}}, "schedule.wake_rate = 0.0 is out of range"),
    ({"node": {"clip": math.nan}}, "node.clip = nan is not a finite number"),
    ({"rng": {"mode": "reference"}, "schedule": {"kind": "async"}}, "rng.mode = 'reference'"),
    ({"channel": {"delay": 0.5}}, "the sweep schedule has zero delay"),
])
def test_bad_values_name_the_key_and_what_is_allowed(data, words):
    with pytest.raises(ConfigError) as exc:
        Scenario.from_dict(data)
    assert words in str(exc.value)
    assert "\n" not in str(exc.value)  # one line


def test_round_trip_through_dict_and_toml(tmp_path):
    from argnn_sim.config import to_toml

    sc = Scenario.from_dict({"task": {"gate": "PARITY", "bits": 3}, "network": {"hidden": 4},
                             "node": {"arithmetic": "portable"},
                             "schedule": {"evaluate": False}})
    assert Scenario.from_dict(sc.to_dict()) == sc
    p = tmp_path / "s.toml"
    p.write_text(to_toml(sc))
    assert load_scenario(p) == sc


def test_overrides_are_validated_like_everything_else():
    sc = apply_overrides(Scenario(), {"network.hidden": 5, "seed": 3})
    assert (sc.network.hidden, sc.seed) == (5, 3)
    assert Scenario().replace(**{"node.arithmetic": "reference"}).node.arithmetic == "reference"
    with pytest.raises(ConfigError, match="unknown key"):
        apply_overrides(Scenario(), {"network.hidden.x": 1})
    assert parse_override("schedule.evaluate=false") == ("schedule.evaluate", False)
    with pytest.raises(ConfigError, match="section.key=value"):
        parse_override("nonsense")


def test_dataclasses_validate_on_their_own():
    with pytest.raises(ConfigError, match="node.arithmetic"):
        NodeConfig(arithmetic="exact")
    assert ScheduleConfig(evaluate=False).evaluate is False


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ConfigError, match="scenario file not found"):
        load_scenario(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[task\ngate = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_scenario(bad)


_VALUE = st.one_of(st.integers(-5, 10**6), st.floats(allow_nan=True), st.text(max_size=5),
                   st.booleans(), st.lists(st.integers(0, 3), max_size=3))
_SECTION = st.dictionaries(st.sampled_from(["gate", "hidden", "kind", "delay", "mode", "rule",
                                            "arithmetic", "evaluate", "inputs", "clip", "x"]),
                           _VALUE, max_size=3)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(["task", "network", "schedule", "channel", "node",
                                        "pruning", "rng", "seed", "name", "zzz"]),
                       st.one_of(_SECTION, _VALUE), max_size=4))
def test_any_dict_gives_a_scenario_or_one_config_error(data):
    """Nothing but ConfigError escapes from_dict, and what it builds is valid."""
    try:
        sc = Scenario.from_dict(data)
    except ConfigError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert Scenario.from_dict(sc.to_dict()) == sc


def test_a_misspelt_section_in_an_override_gets_a_suggestion():
    from argnn_sim.config import apply_overrides

    with pytest.raises(ConfigError, match=r"did you mean 'pruning\.mode'"):
        apply_overrides(Scenario(), {"prunning.mode": "D"})


def test_a_grid_given_as_a_scenario_says_use_sweep(tmp_path):
    from argnn_sim.config import load_scenario

    p = tmp_path / "g.toml"
    p.write_text('seeds = 3\n[base]\nnetwork.hidden = 2\n[axes]\n"network.hidden" = [1, 2]\n')
    with pytest.raises(ConfigError, match=r"is a sweep grid .* argnn sweep "):
        load_scenario(p)
