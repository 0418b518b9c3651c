"""argnn-sim: an asynchronous, agent-based simulator of decentralized recurrent GNNs
with spectral edge pruning (SimPy, NumPy). No torch here: see ``prunegcrn_bridge``."""

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
from .engines import simulate
from .engines.simpy_engine import Network
from .results import RunResult, load, save
from .tasks import Task, make_task
from .topology import Topology, from_networkx

__all__ = [
    "ChannelConfig", "ConfigError", "NetworkConfig", "NodeConfig", "PruningConfig",
    "RecordConfig", "RngConfig", "Scenario", "ScheduleConfig", "TaskConfig",
    "apply_overrides", "load_scenario", "Network", "simulate", "RunResult", "load", "save",
    "Task", "make_task", "Topology", "from_networkx",
]
__version__ = "0.2.0"
