"""Errors of the bridge: one message naming the problem and the fix."""

from __future__ import annotations

__all__ = ["DataError", "BridgeConfigError"]


class DataError(ValueError):
    """A data file is missing, damaged or not of the expected layout."""


class BridgeConfigError(ValueError):
    """An option of a bridge command or function is not allowed."""
