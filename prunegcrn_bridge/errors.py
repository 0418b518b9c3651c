"""Errors of the bridge: one message naming the problem and the fix."""

from __future__ import annotations

from argnn_sim.errors import ArgnnError, DataError

__all__ = ["DataError", "BridgeConfigError"]  # DataError is the simulator's: one data loader


class BridgeConfigError(ArgnnError):
    """An option of a bridge command or function is not allowed."""
