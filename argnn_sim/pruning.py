"""Pruning policies: which edge a node asks to remove after its update.

A policy sees one node's local state only (its input weights, what its out-neighbours told
it) and returns an edge ``(from, to)`` or ``None``. If ``to`` is the node itself the node
removes its own input edge; otherwise (the reference rule only) the node sends a prune
request to ``to``, which owns that edge.

>>> from argnn_sim.config import PruningConfig
>>> make_policy(PruningConfig(policy="none")).name
'none'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from . import rule
from .config import ConfigError, PruningConfig
from .rng import Stream
from .spectral import Star, eigenvalues, local_choice, plan_laplacian

__all__ = [
    "NodeView",
    "Policy",
    "SpectralReference",
    "SpectralLocal",
    "MagnitudePolicy",
    "RandomPolicy",
    "NoPruning",
    "Budgeted",
    "make_policy",
]


class NodeView(Protocol):
    """What a policy may read of a node: its own state and what messages told it (a
    :class:`~argnn_sim.node.Node`, or the compiled engine's view of one)."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def in_src(self) -> Sequence[int]: ...
    @property
    def in_w(self) -> Sequence[float]: ...
    @property
    def out_dst(self) -> Sequence[int]: ...
    @property
    def out_w(self) -> Sequence[float]: ...
    @property
    def observer(self) -> Any: ...

    def star(self) -> Star:
        """The node's star (its neighbourhood, with the places of its members)."""


class Policy(Protocol):
    """What a pruning policy is: a ``name`` and a ``check`` of one node after its update."""
    name: str

    def check(self, node: NodeView) -> tuple[int, int] | None:
        """The edge ``(from, to)`` to remove, or ``None``.

        Parameters
        ----------
        node : what the policy may read of the node (:class:`NodeView`).

        Returns
        -------
        tuple of (int, int), or None
        """


class NoPruning:
    """Proposes nothing."""
    name = "none"

    def check(self, node: NodeView) -> tuple[int, int] | None:
        """Nothing to remove.

        Parameters
        ----------
        node : the node (not read).

        Returns
        -------
        None
        """
        return None


class _Spectral:
    def __init__(self, mode: str) -> None:
        if mode not in ("D", "DW"):
            raise ConfigError(f"pruning.mode = {mode!r} is not allowed; choose one of 'D', 'DW'")
        self.mode = mode

    def _laplacian(self, node: NodeView, star: Star) -> np.ndarray:
        return plan_laplacian(star.plan, node.in_w, node.out_w, self.mode)


class SpectralReference(_Spectral):
    """The published rule, exactly: exact conjugate test; positions read as star members.

    May name an edge that does not touch the deciding node (a remote prune).
    """

    name = "spectral-reference"

    def check(self, node: NodeView) -> tuple[int, int] | None:
        """The reference's check: eigenvalues of the star Laplacian by ``geev``, the exact
        conjugate test (:func:`argnn_sim.rule.reference_pair`), places read as members.

        Parameters
        ----------
        node : the checking node's view.

        Returns
        -------
        (from, to) or None
        """
        star = node.star()
        lam = eigenvalues(self._laplacian(node, star))
        node.observer.on_check(node.id, star.ids, lam)
        pair = rule.reference_pair(lam.imag.tolist())
        if pair is None:
            return None
        ids = star.ids
        a, b = ids[pair[0]], ids[pair[1]]
        if a == b:
            return None
        return b, a


class SpectralLocal(_Spectral):
    """Our rule ``local``: a node drops only its own input edges, on genuine conjugate pairs.

    Eligible are the input edges ``j -> k`` that form a 2-cycle with ``k -> j`` and are the
    weaker of the two (``|W_jk| < |W_kj|``, both known locally); among them the one whose
    partner has the largest share of the oscillating eigenvector goes. The reference can
    only ever remove ``(k+1) -> k``, one half of a 2-cycle; this rule keeps that structure
    without reading array positions as node numbers. The output node prunes nothing.
    """

    name = "spectral-local"

    def __init__(self, mode: str, tol: float, min_in_degree: int, *, eligible: str = "cycles",
                 outputs: bool = False) -> None:
        super().__init__(mode)
        self.tol = tol
        self.min_in_degree = min_in_degree
        self.every_input = eligible == "all"
        self.outputs = outputs

    def check(self, node: NodeView) -> tuple[int, int] | None:
        """Our local rule's check: an eligible own input edge (the weaker half of a 2-cycle,
        :func:`argnn_sim.rule.mark_eligible`) and a genuine conjugate pair
        (:func:`argnn_sim.spectral.local_choice`).

        Parameters
        ----------
        node : the checking node's view.

        Returns
        -------
        (from, node.id) or None
        """
        star = node.star()
        allowed: list[int] = []
        n_in = len(node.in_src)
        # The output node keeps its read-out edges (the reference never removes them either).
        # Only one half of a 2-cycle j <-> k may go, and only its weaker half: the
        # oscillation needs both directions, the feed-forward path keeps the stronger.
        # pruning.eligible = "all" and pruning.outputs = true widen both gates (ours, for
        # networks such as a series task's, whose input edges lie on no cycle).
        if rule.may_prune_inputs(node.role == "output" and not self.outputs, n_in,
                                 self.min_in_degree):
            if self.every_input:
                allowed = list(star.in_pos)
            flags = [0] * n_in
            if not allowed and rule.mark_eligible(node.in_src, node.in_w, n_in, node.out_dst, node.out_w,
                                  len(node.out_dst), flags):
                allowed = [p for p, f in zip(star.in_pos, flags) if f]
        if not allowed:
            # No eligible edge: nothing can be removed whatever the spectrum. Eigenvalues
            # only for a trace that keeps them, and without eigenvectors (LAPACK's geev
            # gives the same values either way: its eigenvalue-only path applies the same
            # transformations to the active block; checked on 40,000 star Laplacians).
            obs = node.observer
            lam = eigenvalues(self._laplacian(node, star)) if obs.keeps_eigenvalues(node.id) else None
            obs.on_check(node.id, star.ids, lam)
            return None
        L = self._laplacian(node, star)
        pos, lam = local_choice(L, star.center, allowed, tol=self.tol)
        node.observer.on_check(node.id, star.ids, lam)
        if pos is None:
            return None
        return star.ids[pos], node.id


class MagnitudePolicy:
    """Baseline: drop the smallest-magnitude input weight once it falls below ``threshold``."""

    name = "magnitude"

    def __init__(self, threshold: float, min_in_degree: int) -> None:
        self.threshold = threshold
        self.min_in_degree = min_in_degree

    def check(self, node: NodeView) -> tuple[int, int] | None:
        """The smallest input weight, if below the threshold and the node may lose an input.

        Parameters
        ----------
        node : the checking node's view.

        Returns
        -------
        (from, node.id) or None
        """
        if len(node.in_src) <= self.min_in_degree:
            return None
        mags = [abs(w) for w in node.in_w]
        i = min(range(len(mags)), key=mags.__getitem__)
        if mags[i] < self.threshold:
            return node.in_src[i], node.id
        return None


class RandomPolicy:
    """Baseline: with probability ``rate`` per activation drop a uniformly chosen input edge."""

    name = "random"

    def __init__(self, rate: float, min_in_degree: int, stream: Stream) -> None:
        self.rate = rate
        self.min_in_degree = min_in_degree
        self.stream = stream

    def check(self, node: NodeView) -> tuple[int, int] | None:
        """With probability ``rate``, a uniformly chosen input edge (two draws from the stream).

        Parameters
        ----------
        node : the checking node's view.

        Returns
        -------
        (from, node.id) or None
        """
        if len(node.in_src) <= self.min_in_degree:
            return None
        if self.stream.random() >= self.rate:
            return None
        i = int(self.stream.integers(len(node.in_src)))
        return node.in_src[i], node.id


class Budgeted:
    """Wraps a policy: after ``budget`` proposed removals it proposes nothing more.

    The count is global (shared by every node): an experimenter's control for comparing
    rules at equal numbers of removed edges, not part of any decentralized rule.
    """

    def __init__(self, inner: Policy, budget: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.left = budget

    def check(self, node: NodeView) -> tuple[int, int] | None:
        """The inner policy's proposal, while the budget lasts (each proposal spends one).

        Parameters
        ----------
        node : the checking node's view.

        Returns
        -------
        (from, to) or None
        """
        if self.left <= 0:
            return None
        edge = self.inner.check(node)
        if edge is not None:
            self.left -= 1
        return edge


def make_policy(config: PruningConfig, stream: Stream | None = None) -> Policy:
    """The policy object ``config`` describes (one instance is shared by all nodes; it keeps
    no per-node state, except the random policy's stream and the optional budget).

    Parameters
    ----------
    config
        The ``[pruning]`` section.
    stream
        The run's pruning stream (random policy).

    Returns
    -------
    Policy

    Examples
    --------
    >>> make_policy(PruningConfig(rule="local")).name
    'spectral-local'
    """
    policy = _make_policy(config, stream)
    if config.budget > 0 and config.policy != "none":
        return Budgeted(policy, config.budget)
    return policy


def _make_policy(config: PruningConfig, stream: Stream | None) -> Policy:
    if config.policy == "none":
        return NoPruning()
    if config.policy == "spectral":
        if config.rule == "reference":
            return SpectralReference(config.mode)
        return SpectralLocal(config.mode, config.tol, config.min_in_degree,
                             eligible=config.eligible, outputs=config.outputs)
    if config.policy == "magnitude":
        return MagnitudePolicy(config.threshold, config.min_in_degree)
    if config.policy == "random":
        if stream is None:
            raise ValueError("the random pruning policy needs a random stream")
        return RandomPolicy(config.rate, config.min_in_degree, stream)
    raise ConfigError(f"pruning.policy = {config.policy!r} is not allowed; "
                      "choose one of 'spectral', 'magnitude', 'random', 'none'")
