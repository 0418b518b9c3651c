"""argnn-sim: an asynchronous, agent-based simulator of decentralized recurrent GNNs
with spectral edge pruning (SimPy, NumPy). No torch here: see ``prunegcrn_bridge``.

The public names below load their module on first use, so that ``import argnn_sim`` (and
the ``argnn`` command's first lines, which set up Ctrl-C before anything else) stay quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import (
        ChannelConfig,
        ConfigError,
        NetworkConfig,
        NodeConfig,
        PruningConfig,
        RecordConfig,
        RngConfig,
        Scenario,
        ScheduleConfig,
        TaskConfig,
        apply_overrides,
        load_scenario,
    )
    from .engines import Network, simulate
    from .results import RunResult, load, save
    from .tasks import Task, make_task
    from .topology import Topology, from_networkx

_EXPORTS = {
    **dict.fromkeys(("ChannelConfig", "ConfigError", "NetworkConfig", "NodeConfig",
                     "PruningConfig", "RecordConfig", "RngConfig", "Scenario", "ScheduleConfig",
                     "TaskConfig", "apply_overrides", "load_scenario"), ".config"),
    "simulate": ".engines", "Network": ".engines",
    "RunResult": ".results", "load": ".results", "save": ".results",
    "Task": ".tasks", "make_task": ".tasks",
    "Topology": ".topology", "from_networkx": ".topology",
}

__all__ = [
    "ChannelConfig", "ConfigError", "NetworkConfig", "NodeConfig", "PruningConfig",
    "RecordConfig", "RngConfig", "Scenario", "ScheduleConfig", "TaskConfig",
    "apply_overrides", "load_scenario", "Network", "simulate", "RunResult", "load", "save",
    "Task", "make_task", "Topology", "from_networkx",
]
__version__ = "0.2.0"


def __getattr__(name: str) -> Any:
    """A public name (or a submodule) loaded on first use."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
        globals()[name] = value
        return value
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError:
        raise AttributeError(f"module 'argnn_sim' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
