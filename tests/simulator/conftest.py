"""Fixtures for simulator tests: a thread-hosted simulator per test and an httpx client on it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from desktop.simulator import SimulatorThread

from .helpers import make_sim


@pytest.fixture
def sim() -> Iterator[SimulatorThread]:
    """A default simulator on a free loopback port."""
    server = make_sim()
    yield server
    server.stop()


@pytest.fixture
def http(sim: SimulatorThread) -> Iterator[httpx.Client]:
    """A plain httpx client on the simulator's v1 base URL with the API key."""
    with httpx.Client(base_url=sim.base_url, headers={"api-key": sim.api_key}, timeout=10) as client:
        yield client
