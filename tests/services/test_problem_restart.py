"""A failed turn shows the same sentence and button after the app restarts (the problem is stored with it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from desktop.client import AzureOpenAIClient
from desktop.services import ChatService, TurnTarget
from desktop.services._user_error import Category
from desktop.services._views import message_view
from desktop.simulator import Fault, FaultKind, Simulator
from desktop.storage import HistoryStore

CASES = [
    pytest.param(Fault(kind=FaultKind.STATUS, status=401), "entra", Category.SIGN_IN, id="sign-in"),
    pytest.param(Fault(kind=FaultKind.STATUS, status=401), "api_key", Category.ACCESS, id="access"),
    pytest.param(Fault(kind=FaultKind.STATUS, status=404), "api_key", Category.NOT_FOUND, id="not-found"),
    pytest.param(Fault(kind=FaultKind.STATUS, status=400), "api_key", Category.REQUEST, id="request"),
    pytest.param(Fault(kind=FaultKind.PROMPT_FILTERED), "api_key", Category.CONTENT_FILTER, id="content-filter"),
    pytest.param(
        Fault(kind=FaultKind.STATUS, status=429, headers={"retry-after": "86400"}),
        "api_key",
        Category.RATE_LIMIT,
        id="rate-limit",
    ),
    pytest.param(Fault(kind=FaultKind.STATUS, status=503), "api_key", Category.SERVICE, id="service"),
    pytest.param(Fault(kind=FaultKind.GATEWAY_HTML, status=403), "api_key", Category.PROXY, id="proxy"),
    pytest.param(Fault(kind=FaultKind.DROP_MID_STREAM, after_deltas=3), "api_key", Category.ANSWER, id="answer"),
    pytest.param(Fault(kind=FaultKind.DROP), "api_key", Category.NETWORK, id="network"),
]


@pytest.mark.parametrize(("fault", "auth", "category"), CASES)
def test_the_same_words_and_button_show_after_a_restart(
    tmp_path: Path, sim: Simulator, client: AzureOpenAIClient, arun: Any, fault: Fault, auth: str, category: Category
) -> None:
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path)
    store.open()

    async def resolve(conversation_id: int) -> TurnTarget:
        return TurnTarget(client=client, deployment="gpt-4.1", auth_method=auth)

    async def turn() -> Any:
        last = None
        async for event in ChatService(store, resolve).send(conv.id, "hello"):
            last = event
        return last

    sim.push_fault(fault, times=5)  # also the client's own retries
    conv = store.create_conversation()
    finished = arun(turn())
    assert finished.error is not None and finished.error.category is category
    before = message_view(finished.answer, finished.error)
    store.close()

    reopened = HistoryStore(path)
    reopened.open()
    try:
        saved = reopened.load_messages(conv.id)[-1]
        after = message_view(saved)
    finally:
        reopened.close()
    assert (after.error_title, after.error_text, after.action) == (before.error_title, before.error_text, before.action)
    assert after.error_title
    assert saved.error is not None and saved.error.category == category.value


def test_a_bug_says_so_and_offers_copy_details_after_a_restart(tmp_path: Path, arun: Any, logfail: Any) -> None:
    logfail.allow("desktop.services._chat", "unexpected failure")  # the traceback goes to the log
    path = tmp_path / "history.sqlite3"
    store = HistoryStore(path)
    store.open()

    class Broken:
        @property
        def responses(self) -> Any:
            raise KeyError("an unexpected bug")

    async def resolve(conversation_id: int) -> TurnTarget:
        return TurnTarget(client=Broken(), deployment="gpt-4.1")  # type: ignore[arg-type]

    async def turn() -> Any:
        last = None
        async for event in ChatService(store, resolve).send(conv.id, "hello"):
            last = event
        return last

    conv = store.create_conversation()
    finished = arun(turn())
    assert finished.error.is_bug
    store.close()
    reopened = HistoryStore(path)
    reopened.open()
    try:
        view = message_view(reopened.load_messages(conv.id)[-1])
    finally:
        reopened.close()
    assert view.error_title == "Something went wrong inside the app"
    assert view.action is not None and view.action.value == "copy_details"
    assert "Traceback" not in view.error_text
