"""A bundled Genesys Cloud simulator: OAuth, Architect flows and routing strategies on 127.0.0.1.

Tests, the demo and ``archiver simulate`` run it instead of a real org. It answers with
the real API's shapes, and can be made slow, rate-limited, failing or wrong on purpose
(``SimulatorState``), from Python or over HTTP under ``/_sim``.
"""

from .app import create_simulator_app
from .data import DEMO_FLOW_ID, DEMO_STRATEGY_ID
from .notify import NotificationRecord
from .server import SimulatorServer, run_simulator
from .state import RequestRecord, SimulatorState

__all__ = [
    "DEMO_FLOW_ID",
    "DEMO_STRATEGY_ID",
    "NotificationRecord",
    "RequestRecord",
    "SimulatorServer",
    "SimulatorState",
    "create_simulator_app",
    "run_simulator",
]
