"""Seeded random streams: one seed, independent child streams, no global state.

``default`` mode spawns children of one :class:`numpy.random.SeedSequence` for the
task inputs, the initial weights, the schedule, the pruning policy and each channel.
``reference`` mode serves inputs, weights and schedule from one legacy
``RandomState(seed)`` so that draws happen in the reference implementation's order. In
that mode the seed may also be a ``RandomState`` itself, which the run then draws from
(and advances): that is how one published stream runs through a whole grid.

>>> s = Streams(7)
>>> a = s.inputs.integers(4, size=3)
>>> b = Streams(7).inputs.integers(4, size=3)
>>> bool((a == b).all())
True
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["SeedLike", "Stream", "Streams", "as_seed_sequence", "state_digest"]

#: What a ``seed=`` argument takes: an int, a ``SeedSequence`` or a ``Generator`` (any rng
#: mode), a legacy ``RandomState`` to draw from (``rng.mode = "reference"`` only), or None
#: (the scenario's own seed, where there is a scenario).
SeedLike = (int | np.integer | np.random.SeedSequence | np.random.Generator
            | np.random.RandomState | None)


class Stream:
    """Uniform interface over a :class:`numpy.random.Generator` or a legacy ``RandomState``."""

    __slots__ = ("_g", "_legacy")

    def __init__(self, gen: np.random.Generator | np.random.RandomState) -> None:
        self._g: Any = gen
        self._legacy = isinstance(gen, np.random.RandomState)

    def integers(self, high: int, size: int | None = None) -> Any:
        """Integers in ``[0, high)``.

        Parameters
        ----------
        high
            The bound.
        size
            How many (``None``: one).

        Returns
        -------
        int or int array
        """
        if self._legacy:
            return self._g.randint(high, size=size)
        return self._g.integers(high, size=size)

    def random(self, size: int | tuple[int, ...] | None = None) -> Any:
        """Floats in ``[0, 1)``.

        Parameters
        ----------
        size : how many, or a shape (``None``: one).

        Returns
        -------
        float or float64 array
        """
        if self._legacy:
            return self._g.random_sample(size)
        return self._g.random(size)

    def shuffle(self, x: npt.NDArray[Any]) -> None:
        """Shuffle ``x`` in place.

        Parameters
        ----------
        x : a 1-D array.
        """
        self._g.shuffle(x)

    def shuffle_rows(self, x: npt.NDArray[Any]) -> None:
        """Shuffle each row of the 2-D ``x`` in place, first row first: the same draws, in
        the same order, as :meth:`shuffle` on each row in turn (``Generator.permuted`` runs
        the same Fisher-Yates pass row by row; the tests check the equality), in one call.

        Parameters
        ----------
        x : a 2-D array.
        """
        if self._legacy:
            for row in x:
                self._g.shuffle(row)
        else:
            self._g.permuted(x, axis=1, out=x)

    def exponential(self, scale: float, size: int | None = None) -> Any:
        """Exponential draws of mean ``scale``.

        Parameters
        ----------
        scale
            The mean.
        size
            How many (``None``: one).

        Returns
        -------
        float or float64 array
        """
        return self._g.exponential(scale, size)

    def uniform(self, low: float, high: float, size: int | None = None) -> Any:
        """Uniform draws in ``[low, high)``.

        Parameters
        ----------
        low
            The bounds.
        high
            The bounds.
        size
            How many (``None``: one).

        Returns
        -------
        float or float64 array
        """
        return self._g.uniform(low, high, size)

    def lognormal(self, mean: float, sigma: float, size: int | None = None) -> Any:
        """Lognormal draws: ``exp`` of normal draws of mean ``mean`` and deviation ``sigma``.

        Parameters
        ----------
        mean
            Of the underlying normal.
        sigma
            Of the underlying normal.
        size
            How many (``None``: one).

        Returns
        -------
        float or float64 array
        """
        return self._g.lognormal(mean, sigma, size)


def state_digest(state: np.random.RandomState | tuple[Any, ...]) -> int:
    """A 128-bit integer that identifies a legacy generator's exact state.

    Parameters
    ----------
    state : a ``RandomState`` or its ``get_state()`` tuple.

    Returns
    -------
    int

    Examples
    --------
    >>> a = np.random.RandomState(1)
    >>> state_digest(a) == state_digest(a.get_state())
    True
    """
    tup: Any = state.get_state(legacy=True) if isinstance(state, np.random.RandomState) else state
    _name, key, pos, has_gauss, gauss = tup
    h = hashlib.sha256(np.asarray(key, dtype=np.uint32).tobytes())
    h.update(f"{pos}:{has_gauss}:{float(gauss).hex()}".encode())
    return int.from_bytes(h.digest()[:16], "little")


def as_seed_sequence(seed: int | np.integer | np.random.SeedSequence | np.random.Generator
                     | None) -> np.random.SeedSequence:
    """Turn an int, a ``SeedSequence`` or a ``Generator`` into a ``SeedSequence``.

    Parameters
    ----------
    seed : the seed (``None``: fresh entropy).

    Returns
    -------
    numpy.random.SeedSequence

    Examples
    --------
    >>> as_seed_sequence(5).entropy
    5
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return seed.bit_generator.seed_seq  # type: ignore[return-value]
    return np.random.SeedSequence(seed)


class Streams:
    """The named random streams of one run.

    Parameters
    ----------
    seed : int, SeedSequence or Generator
    mode : ``"default"`` or ``"reference"`` (``seed`` must then be an int < 2**32 or a
        ``RandomState``).
    """

    def __init__(self, seed: SeedLike, mode: str = "default") -> None:
        self.mode = mode
        if isinstance(seed, np.random.RandomState):
            if mode != "reference":
                raise TypeError("a RandomState seed needs rng mode 'reference'")
            ss = np.random.SeedSequence(state_digest(seed))
        else:
            ss = as_seed_sequence(seed)
        inputs, weights, schedule, pruning, channels, faults = ss.spawn(6)
        self._channel_root = channels
        self._channel_children: list[np.random.SeedSequence] = []
        self.pruning = Stream(np.random.default_rng(pruning))
        self.faults = Stream(np.random.default_rng(faults))
        if mode == "reference":
            if isinstance(seed, np.random.RandomState):
                legacy = Stream(seed)
            elif isinstance(seed, (int, np.integer)):
                legacy = Stream(np.random.RandomState(int(seed)))
            else:
                raise TypeError("rng mode 'reference' needs an integer seed or a RandomState")
            self.inputs = self.weights = self.schedule = legacy
        else:
            self.inputs = Stream(np.random.default_rng(inputs))
            self.weights = Stream(np.random.default_rng(weights))
            self.schedule = Stream(np.random.default_rng(schedule))

    @property
    def channel_parent(self) -> np.random.SeedSequence:
        """The ``SeedSequence`` whose child ``k`` (``spawn_key + (k,)``) seeds channel ``k``'s
        ``PCG64`` stream (:meth:`channel`): what computes many channels' states at once
        (the compiled engine's :func:`~argnn_sim.engines._draws.load_children`)."""
        return self._channel_root

    def channel(self, index: int) -> Stream:
        """The stream of channel ``index`` (children are spawned on demand, in order, so a channel's
        stream does not depend on when it is first asked for).

        Parameters
        ----------
        index : the sending node's number.

        Returns
        -------
        Stream

        Examples
        --------
        >>> a, b = Streams(0), Streams(0)
        >>> _ = b.channel(3)
        >>> a.channel(3).random() == Streams(0).channel(3).random()
        True
        """
        kids = self._channel_children
        if index >= len(kids):
            kids.extend(self._channel_root.spawn(index + 1 - len(kids)))
        return Stream(np.random.default_rng(kids[index]))
