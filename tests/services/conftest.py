"""Fixtures for service tests: a real history file and the simulator on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.client import AzureOpenAIClient
from desktop.services import TurnEvent, TurnTarget
from desktop.simulator import Simulator
from desktop.storage import HistoryStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    history = HistoryStore(tmp_path / "history.sqlite3")
    history.open()
    yield history
    history.close()


@pytest.fixture
def client(sim: Simulator, arun: Any) -> Iterator[AzureOpenAIClient]:
    async def no_sleep(seconds: float) -> None:
        return None

    c = AzureOpenAIClient(base_url=sim.base_url, api_key=sim.api_key, sleep=no_sleep)
    yield c
    arun(c.aclose())


def target_for(client: AzureOpenAIClient, deployment: str = "gpt-4.1", **kw: Any) -> TurnTarget:
    return TurnTarget(client=client, deployment=deployment, **kw)


async def collect(events: AsyncIterator[TurnEvent]) -> list[TurnEvent]:
    return [e async for e in events]
