"""Testing aids for duress: a fault-injecting OpenAI-compatible server and a network guard.

See :mod:`duress.testing.fault_server`.
"""

from duress.testing.fault_server import (
    CONTENT_FAULTS,
    FAULTS,
    TRANSPORT_FAULTS,
    Behaviour,
    Draw,
    FaultPlan,
    Server,
    Stats,
    body_key,
    loopback_only,
    message_text,
    serve,
)

__all__ = ["CONTENT_FAULTS", "FAULTS", "TRANSPORT_FAULTS", "Behaviour", "Draw", "FaultPlan", "Server", "Stats",
           "body_key", "loopback_only", "message_text", "serve"]
