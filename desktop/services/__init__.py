"""Use cases, async and Qt-free: chat turns, the chat window's state, connections, sign-in, discovery, error wording.

The UI talks to this package only (never to storage or auth): the history's value types and the key store's and
sign-in's errors that the UI needs are re-exported here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from desktop.auth import (
        ApiKeyFormatError,
        EntraSignInError,
        KeyringUnavailableError,
        SignInCancelledError,
        SignInProblem,
        describe_sign_in_problem,
    )
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
    from desktop.services._chat_window import (
        AnswerGrew,
        ChatWindowController,
        ConversationShown,
        DraftRefused,
        DraftSaved,
        HeaderChanged,
        MessageAdded,
        MessageChanged,
        MessageRemoved,
        Notice,
        OlderShown,
        SearchChanged,
        SidebarReset,
        SidebarRowChanged,
        SidebarRowRemoved,
        TurnChanged,
        TurnEnded,
        WindowEvent,
    )
    from desktop.services._conn_check import CheckStep, ConnectionReport
    from desktop.services._connections import Connections
    from desktop.services._discovery import DiscoveredDeployment, DiscoveryResult
    from desktop.services._errors import ErrorAction, UserError, category_words, describe_error, retry_reason
    from desktop.services._views import (
        PENDING_ANSWER,
        ConversationRow,
        DeploymentChoice,
        Header,
        MessageAction,
        MessageView,
        RetryWait,
        SearchRow,
    )
    from desktop.storage import MARK_END, MARK_START, Attachment, HistoryError, ImportReport, Outcome, Role

# Loaded on first use: the window's state needs only its own light modules before the first paint; the
# chat service, connections and sign-in (httpx, keyring, azure-identity) load after it.
_HOME = {
    "AnswerGrew": "desktop.services._chat_window",
    "AnswerStarted": "desktop.services._chat",
    "ApiKeyFormatError": "desktop.auth",
    "Attachment": "desktop.storage",
    "ChatService": "desktop.services._chat",
    "ChatWindowController": "desktop.services._chat_window",
    "CheckStep": "desktop.services._conn_check",
    "ConnectionReport": "desktop.services._conn_check",
    "Connections": "desktop.services._connections",
    "ConversationRow": "desktop.services._views",
    "ConversationShown": "desktop.services._chat_window",
    "DeploymentChoice": "desktop.services._views",
    "DiscoveredDeployment": "desktop.services._discovery",
    "DiscoveryResult": "desktop.services._discovery",
    "DraftRefused": "desktop.services._chat_window",
    "DraftSaved": "desktop.services._chat_window",
    "EntraSignInError": "desktop.auth",
    "ErrorAction": "desktop.services._errors",
    "Finished": "desktop.services._chat",
    "Header": "desktop.services._views",
    "HeaderChanged": "desktop.services._chat_window",
    "HistoryError": "desktop.storage",
    "ImportReport": "desktop.storage",
    "KeyringUnavailableError": "desktop.auth",
    "MARK_END": "desktop.storage",
    "MARK_START": "desktop.storage",
    "MessageAction": "desktop.services._views",
    "MessageAdded": "desktop.services._chat_window",
    "MessageChanged": "desktop.services._chat_window",
    "MessageRemoved": "desktop.services._chat_window",
    "MessageView": "desktop.services._views",
    "Notice": "desktop.services._chat_window",
    "OlderShown": "desktop.services._chat_window",
    "Outcome": "desktop.storage",
    "PENDING_ANSWER": "desktop.services._views",
    "ReasoningDelta": "desktop.services._chat",
    "RetryWait": "desktop.services._views",
    "Retrying": "desktop.services._chat",
    "Role": "desktop.storage",
    "SearchChanged": "desktop.services._chat_window",
    "SearchRow": "desktop.services._views",
    "SidebarReset": "desktop.services._chat_window",
    "SidebarRowChanged": "desktop.services._chat_window",
    "SidebarRowRemoved": "desktop.services._chat_window",
    "SignInCancelledError": "desktop.auth",
    "SignInProblem": "desktop.auth",
    "TextDelta": "desktop.services._chat",
    "TurnBusyError": "desktop.services._chat",
    "TurnChanged": "desktop.services._chat_window",
    "TurnEnded": "desktop.services._chat_window",
    "TurnEvent": "desktop.services._chat",
    "TurnSetupError": "desktop.services._chat",
    "TurnStarted": "desktop.services._chat",
    "TurnTarget": "desktop.services._chat",
    "UsageReport": "desktop.services._chat",
    "UserError": "desktop.services._errors",
    "WindowEvent": "desktop.services._chat_window",
    "category_words": "desktop.services._errors",
    "describe_error": "desktop.services._errors",
    "describe_sign_in_problem": "desktop.auth",
    "make_title": "desktop.services._chat",
    "retry_reason": "desktop.services._errors",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


__all__ = [
    "MARK_END",
    "MARK_START",
    "PENDING_ANSWER",
    "AnswerGrew",
    "AnswerStarted",
    "ApiKeyFormatError",
    "Attachment",
    "ChatService",
    "ChatWindowController",
    "CheckStep",
    "ConnectionReport",
    "Connections",
    "ConversationRow",
    "ConversationShown",
    "DeploymentChoice",
    "DiscoveredDeployment",
    "DiscoveryResult",
    "DraftRefused",
    "DraftSaved",
    "EntraSignInError",
    "ErrorAction",
    "Finished",
    "Header",
    "HeaderChanged",
    "HistoryError",
    "ImportReport",
    "KeyringUnavailableError",
    "MessageAction",
    "MessageAdded",
    "MessageChanged",
    "MessageRemoved",
    "MessageView",
    "Notice",
    "OlderShown",
    "Outcome",
    "ReasoningDelta",
    "RetryWait",
    "Retrying",
    "Role",
    "SearchChanged",
    "SearchRow",
    "SidebarReset",
    "SidebarRowChanged",
    "SidebarRowRemoved",
    "SignInCancelledError",
    "SignInProblem",
    "TextDelta",
    "TurnBusyError",
    "TurnChanged",
    "TurnEnded",
    "TurnEvent",
    "TurnSetupError",
    "TurnStarted",
    "TurnTarget",
    "UsageReport",
    "UserError",
    "WindowEvent",
    "category_words",
    "describe_error",
    "describe_sign_in_problem",
    "make_title",
    "retry_reason",
]
