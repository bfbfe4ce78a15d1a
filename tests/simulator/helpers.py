"""Helpers for tests that drive the simulator: a strict SSE reader, request bodies, a started simulator."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from desktop.simulator import SimulatorConfig, SimulatorThread


@dataclass
class Event:
    """One server-sent event."""

    event: str | None
    data: str

    def json(self) -> Any:
        return json.loads(self.data)


def parse_sse(raw: bytes) -> list[Event]:
    """Parse a complete SSE body strictly: every block is `event:`/`data:` lines and ends with a blank line."""
    assert raw.endswith(b"\n\n"), "stream must end with a blank line"
    events = []
    for block in raw[:-2].split(b"\n\n"):
        name, data = None, []
        for line in block.decode("utf-8").split("\n"):
            field, _, value = line.partition(": ")
            assert field in ("event", "data"), f"unexpected SSE line {line!r}"
            if field == "event":
                name = value
            else:
                data.append(value)
        events.append(Event(name, "\n".join(data)))
    return events


def make_sim(**config: Any) -> SimulatorThread:
    """A started thread-hosted simulator (stop it yourself)."""
    sim = SimulatorThread(SimulatorConfig(**config))
    sim.start()
    return sim


def chat(prompt: str, model: str = "gpt-4.1", **extra: Any) -> dict[str, Any]:
    """A Chat Completions request body."""
    return {"model": model, "messages": [{"role": "user", "content": prompt}], **extra}


def responses(prompt: str, model: str = "gpt-4.1", **extra: Any) -> dict[str, Any]:
    """A Responses request body."""
    return {"model": model, "input": prompt, **extra}
