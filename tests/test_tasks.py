import pytest

from argnn_sim import ConfigError, make_task

TABLES = {
    "AND": [0, 0, 0, 1], "OR": [0, 1, 1, 1], "XOR": [0, 1, 1, 0],
    "NAND": [1, 1, 1, 0], "NOR": [1, 0, 0, 0], "XNOR": [1, 0, 0, 1],
}


@pytest.mark.parametrize("gate", sorted(TABLES))
def test_truth_tables(gate):
    t = make_task(gate)
    assert [r[:2] for r in t.rows] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert [r[2] for r in t.rows] == TABLES[gate]


@pytest.mark.parametrize("bits", [1, 3, 4])
def test_parity(bits):
    t = make_task("PARITY", bits=bits)
    assert t.n_rows == 2**bits and t.n_inputs == bits
    assert all(r[-1] == sum(r[:-1]) % 2 for r in t.rows)


def test_unknown_gate():
    with pytest.raises(ConfigError, match="task.gate = 'XAND'"):
        make_task("XAND")


def test_parity_circuit_runs():
    from argnn_sim import Scenario, simulate

    sc = Scenario.from_dict({"task": {"gate": "PARITY", "bits": 3}, "network": {"hidden": 3},
                             "schedule": {"inputs": 20}})
    r = simulate(sc, seed=0)
    assert len(r.per_row_errors) == 8 and r.edges_before == (3 + 3 + 1 - 1) * (3 + 1)
