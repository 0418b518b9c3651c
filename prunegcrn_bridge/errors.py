"""Errors of the bridge: one message naming the problem and the fix."""

from __future__ import annotations

from argnn_sim.errors import ArgnnError

__all__ = ["DataError", "BridgeConfigError"]


class DataError(ArgnnError):
    """A data file is missing, damaged or not of the expected layout."""


class BridgeConfigError(ArgnnError):
    """An option of a bridge command or function is not allowed."""
