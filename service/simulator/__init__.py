"""A bundled Genesys Cloud simulator on 127.0.0.1: OAuth, Architect flows, routing strategies
and the routing configuration (queues, IVRs, schedules, groups, decision tables).

Tests, the demo and ``archiver simulate`` run it instead of a real org. It answers with
the real API's shapes, and can be made slow, rate-limited, failing or wrong on purpose
(``SimulatorState``), from Python or over HTTP under ``/_sim``.
"""

from .app import create_simulator_app
from .config_data import DEMO_QUEUE_ID
from .config_tables import DEMO_TABLE_ID
from .data import DEMO_FLOW_ID, DEMO_STRATEGY_ID
from .notify import NotificationRecord
from .server import SimulatorServer, run_simulator
from .state import RequestRecord, SimulatorState

__all__ = [
    "DEMO_FLOW_ID",
    "DEMO_QUEUE_ID",
    "DEMO_STRATEGY_ID",
    "DEMO_TABLE_ID",
    "NotificationRecord",
    "RequestRecord",
    "SimulatorServer",
    "SimulatorState",
    "create_simulator_app",
    "run_simulator",
]
