"""Use cases, async and Qt-free: chat turns, connections, sign-in flow, deployment discovery, error wording."""

from desktop.services._chat import (
    AnswerStarted,
    ChatService,
    Finished,
    ReasoningDelta,
    Retrying,
    TextDelta,
    TurnBusyError,
    TurnEvent,
    TurnSetupError,
    TurnStarted,
    TurnTarget,
    UsageReport,
    make_title,
)
from desktop.services._conn_check import CheckStep, ConnectionReport
from desktop.services._connections import Connections
from desktop.services._discovery import DiscoveredDeployment, DiscoveryResult
from desktop.services._errors import ErrorAction, UserError, category_words, describe_error, retry_reason

__all__ = [
    "AnswerStarted",
    "ChatService",
    "CheckStep",
    "ConnectionReport",
    "Connections",
    "DiscoveredDeployment",
    "DiscoveryResult",
    "ErrorAction",
    "Finished",
    "ReasoningDelta",
    "Retrying",
    "TextDelta",
    "TurnBusyError",
    "TurnEvent",
    "TurnSetupError",
    "TurnStarted",
    "TurnTarget",
    "UsageReport",
    "UserError",
    "category_words",
    "describe_error",
    "make_title",
    "retry_reason",
]
