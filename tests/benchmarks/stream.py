"""Stream parsing: our client vs the official openai SDK vs a bare httpx loop, on the same loopback streams.

The simulator runs in another process; this process's CPU time (`time.process_time`) is what each consumer costs.
Every consumer reads the text of every delta, so none wins by skipping work the app needs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import openai

from desktop.client import AzureOpenAIClient
from tests.benchmarks._report import Figure, median
from tests.benchmarks._simulator import SimulatorProcess

APIS = ("responses", "chat")
CONSUMERS = ("ours", "openai SDK", "httpx floor")
DEPLOYMENT = "gpt-4.1"

Consumer = Callable[[str, int], Awaitable[int]]


@dataclass(frozen=True)
class Run:
    """One read of one stream: events seen, wall seconds, CPU seconds of this process."""

    events: int
    wall: float
    cpu: float


def _prompt(deltas: int) -> str:
    # The simulator's magic word fixes the answer length per request, so one simulator serves both sizes.
    return f"Benchmark [[deltas:{deltas}]]"


def _chat_text(choices: list[Any]) -> object:
    # Azure's late filter-only chunk has a choice without a delta.
    delta = choices[0].delta if choices else None
    return delta.content if delta is not None else None


class _Consumers:
    """The three ways to read a stream, each with its own warm connection pool."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self._base_url = base_url
        self._headers = {"api-key": api_key, "accept": "text/event-stream"}
        self._ours = AzureOpenAIClient(base_url=base_url, api_key=api_key, max_retries=0)
        self._sdk = openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0)
        self._http = httpx.AsyncClient(timeout=60)
        self.by_name: dict[str, Consumer] = {
            "ours": self.ours,
            "openai SDK": self.sdk,
            "httpx floor": self.floor,
        }

    async def aclose(self) -> None:
        """Close every pool."""
        await self._ours.aclose()
        await self._sdk.close()
        await self._http.aclose()

    async def ours(self, api: str, deltas: int) -> int:
        """Our client, as the chat service uses it."""
        n = 0
        if api == "responses":
            async with await self._ours.responses.create(model=DEPLOYMENT, input=_prompt(deltas), stream=True) as rs:
                async for event in rs:
                    _ = event.delta
                    n += 1
        else:
            messages = [{"role": "user", "content": _prompt(deltas)}]
            async with await self._ours.chat.completions.create(model=DEPLOYMENT, messages=messages, stream=True) as cs:
                async for chunk in cs:
                    _ = _chat_text(chunk.choices)
                    n += 1
        return n

    async def sdk(self, api: str, deltas: int) -> int:
        """The official openai SDK pointed at the same simulator."""
        n = 0
        if api == "responses":
            async with await self._sdk.responses.create(model=DEPLOYMENT, input=_prompt(deltas), stream=True) as rs:
                async for event in rs:
                    _ = getattr(event, "delta", None)
                    n += 1
        else:
            async with await self._sdk.chat.completions.create(
                model=DEPLOYMENT, messages=[{"role": "user", "content": _prompt(deltas)}], stream=True
            ) as cs:
                async for chunk in cs:
                    _ = _chat_text(chunk.choices)
                    n += 1
        return n

    async def floor(self, api: str, deltas: int) -> int:
        """The floor: aiter_bytes, split on blank lines, json.loads each data line; no validation, no objects."""
        if api == "responses":
            body: dict[str, Any] = {"model": DEPLOYMENT, "input": _prompt(deltas), "stream": True}
        else:
            body = {"model": DEPLOYMENT, "messages": [{"role": "user", "content": _prompt(deltas)}], "stream": True}
        n = 0
        buffer = b""
        url = f"{self._base_url.rstrip('/')}/{'responses' if api == 'responses' else 'chat/completions'}"
        async with self._http.stream("POST", url, json=body, headers=self._headers) as response:
            response.raise_for_status()
            async for chunk in response.aiter_bytes():
                *events, buffer = (buffer + chunk).split(b"\n\n")
                for event in events:
                    data = event[event.find(b"data: ") + 6 :]
                    if data == b"[DONE]":
                        continue
                    payload = json.loads(data)
                    _ = payload.get("delta") if api == "responses" else _floor_chat_text(payload)
                    n += 1
        return n


def _floor_chat_text(payload: dict[str, Any]) -> object:
    choices = payload["choices"]
    return choices[0].get("delta", {}).get("content") if choices else None


async def _measure(consumer: Consumer, api: str, deltas: int) -> Run:
    wall, cpu = time.perf_counter(), time.process_time()
    events = await consumer(api, deltas)
    return Run(events, time.perf_counter() - wall, time.process_time() - cpu)


async def _run_all(
    base_url: str, api_key: str, sizes: tuple[int, ...], runs: int
) -> dict[tuple[str, int, str], list[Run]]:
    consumers = _Consumers(base_url, api_key)
    results: dict[tuple[str, int, str], list[Run]] = {}
    try:
        for api in APIS:
            for consumer in consumers.by_name.values():
                await consumer(api, 50)  # warm up: connection, imports, first-call caches
            for size in sizes:
                # Round-robin, so drift on a shared machine hits every consumer alike.
                for _ in range(runs):
                    for name, consumer in consumers.by_name.items():
                        results.setdefault((api, size, name), []).append(await _measure(consumer, api, size))
    finally:
        await consumers.aclose()
    return results


def _check_counts(results: dict[tuple[str, int, str], list[Run]]) -> None:
    for (api, size, _), measured in results.items():
        counts = {r.events for r in measured}
        floor_counts = {r.events for r in results[(api, size, "httpx floor")]}
        if counts != floor_counts:
            raise RuntimeError(f"{api} {size}: consumers saw different event counts {counts} vs {floor_counts}")


def figures(results: dict[tuple[str, int, str], list[Run]]) -> list[Figure]:
    """Our events/s and CPU per 1,000 events against the SDK and the floor of the same run, and their growth.

    The budgets are judged at the largest size (the issue's 20,000 events); smaller sizes show how the cost grows,
    and at 1,000 events the fixed per-request cost (connection, the simulator's set-up) weighs on events/s.
    """
    out: list[Figure] = []
    sizes = sorted({size for _, size, _ in results})
    sdk, floor = "openai SDK", "httpx floor"
    for api in APIS:
        cpu_at: dict[int, float] = {}
        for size in sizes:
            runs = len(results[(api, size, "ours")])
            rate = {n: median([r.events / r.wall for r in results[(api, size, n)]]) for n in CONSUMERS}
            cpu = {n: median([r.cpu * 1e6 / r.events for r in results[(api, size, n)]]) for n in CONSUMERS}
            cpu_at[size] = cpu["ours"]
            judged = size == sizes[-1]

            def fig(name: str, unit: str, key: dict[str, float], base: str, budget: str, ok: bool) -> Figure:
                return Figure(
                    f"stream {api} {size:,}", name, key["ours"], unit, key[base], base, runs,  # noqa: B023
                    budget if judged else "", ok if judged else None,  # noqa: B023
                )  # fmt: skip

            out += [
                fig("ours events/s (wall)", "ev/s", rate, sdk, ">= x10", rate["ours"] >= 10 * rate[sdk]),
                fig("ours events/s (wall)", "ev/s", rate, floor, ">= x0.5", rate["ours"] >= rate[floor] / 2),
                fig("ours CPU per 1k events", "ms", cpu, sdk, "<= x0.1", cpu["ours"] <= cpu[sdk] / 10),
                fig("ours CPU per 1k events", "ms", cpu, floor, "<= x2", cpu["ours"] <= 2 * cpu[floor]),
            ]
        if len(sizes) > 1:
            small, large = sizes[0], sizes[-1]
            out.append(
                Figure(f"stream {api} growth", f"ours CPU per 1k events at {large:,}", cpu_at[large], "ms",
                       cpu_at[small], f"at {small:,}", runs, "<= x1.5 (linear)", cpu_at[large] <= 1.5 * cpu_at[small])
            )  # fmt: skip
    return out


def run(sizes: tuple[int, ...] = (1_000, 20_000), runs: int = 5) -> list[Figure]:
    """Start the simulator process, read every stream `runs` times per consumer, and return the figures."""
    with SimulatorProcess() as sim:
        results = asyncio.run(_run_all(sim.base_url, sim.api_key, sizes, runs))
    _check_counts(results)
    return figures(results)
