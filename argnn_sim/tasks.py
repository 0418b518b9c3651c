"""Truth tables and training-input streams.

>>> t = make_task("XOR")
>>> t.rows
((0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0))
>>> make_task("PARITY", bits=3).n_inputs
3
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .config import TaskConfig

__all__ = ["Task", "make_task", "TRUTH_FUNCTIONS"]

TRUTH_FUNCTIONS = {
    "AND": lambda a, b: a & b,
    "OR": lambda a, b: a | b,
    "XOR": lambda a, b: a ^ b,
    "NAND": lambda a, b: 1 - (a & b),
    "NOR": lambda a, b: 1 - (a | b),
    "XNOR": lambda a, b: 1 - (a ^ b),
}


@dataclass(frozen=True)
class Task:
    """A truth table: ``rows[r] = (x_1, ..., x_n, y)`` in binary counting order."""

    name: str
    n_inputs: int
    rows: tuple[tuple[int, ...], ...]

    @property
    def n_rows(self) -> int:
        """How many rows the truth table has (``2 ** n_inputs``).

        Returns
        -------
        int

        Examples
        --------
        >>> make_task("PARITY", bits=3).n_rows
        8
        """
        return len(self.rows)


def make_task(gate: str | TaskConfig = "XOR", *, bits: int = 2) -> Task:
    """Build the truth table of a gate (2 inputs) or of ``bits``-bit parity.

    Parameters
    ----------
    gate : AND, OR, XOR, NAND, NOR, XNOR or PARITY (any case), or a ``TaskConfig``.
    bits : inputs of PARITY.

    Returns
    -------
    Task
        ``rows[r] = (x_1, ..., x_n, y)`` in binary counting order.

    Raises
    ------
    ConfigError
        For a gate that is not known.

    Examples
    --------
    >>> make_task("xor").rows
    ((0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0))
    """
    if isinstance(gate, TaskConfig):
        name, bits = gate.gate, gate.bits
    else:
        name = gate
    gate = name.upper()
    if gate == "PARITY":
        rows = tuple(xs + (sum(xs) % 2,) for xs in itertools.product((0, 1), repeat=bits))
        return Task(f"PARITY{bits}", bits, rows)
    if gate not in TRUTH_FUNCTIONS:
        TaskConfig(gate=gate)  # raises the ConfigError with the allowed names
    f = TRUTH_FUNCTIONS[gate]
    rows = tuple((a, b, f(a, b)) for a, b in itertools.product((0, 1), repeat=2))
    return Task(gate, 2, rows)
