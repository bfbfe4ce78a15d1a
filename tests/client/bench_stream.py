"""Benchmark: events/s parsing a 20,000-delta stream, our client vs the official openai SDK (same MockTransport).

Run: .venv/bin/python -m tests.client.bench_stream
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import openai

from desktop.client import AzureOpenAIClient

DELTAS = 20_000
CHUNK = 16 * 1024  # bytes per network read


def responses_body() -> bytes:
    parts = []
    for n in range(DELTAS):
        event = {
            "type": "response.output_text.delta",
            "sequence_number": n + 1,
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": " token",
            "logprobs": [],
        }
        parts.append(f"event: response.output_text.delta\ndata: {json.dumps(event)}\n\n")
    final = {
        "id": "r1",
        "object": "response",
        "status": "completed",
        "model": "gpt-4o",
        "output": [],
        "created_at": 0,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }
    done = {"type": "response.completed", "sequence_number": DELTAS + 1, "response": final}
    parts.append(f"event: response.completed\ndata: {json.dumps(done)}\n\n")
    return "".join(parts).encode()


def chat_body() -> bytes:
    parts = []
    for _ in range(DELTAS):
        chunk = {
            "id": "c1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {"content": " token"}, "finish_reason": None}],
        }
        parts.append(f"data: {json.dumps(chunk)}\n\n")
    parts.append("data: [DONE]\n\n")
    return "".join(parts).encode()


def transport(body: bytes) -> httpx.MockTransport:
    chunks = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=_agen(chunks))

    return httpx.MockTransport(handle)


async def _agen(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for c in chunks:
        yield c


async def ours(kind: str, body: bytes) -> int:
    async with httpx.AsyncClient(transport=transport(body)) as http:
        client = AzureOpenAIClient(base_url="https://r.openai.azure.com/openai/v1/", api_key="k", http_client=http)
        n = 0
        if kind == "responses":
            async with await client.responses.create(model="d", input="x", stream=True) as stream:
                async for _ in stream:
                    n += 1
        else:
            async with await client.chat.completions.create(messages=[], model="d", stream=True) as chunks:
                async for _ in chunks:
                    n += 1
        return n


async def sdk(kind: str, body: bytes) -> int:
    async with httpx.AsyncClient(transport=transport(body)) as http:
        # openai 3.x is typed against its httpx fork (httpx2) but drives a plain httpx client as well.
        client = openai.AsyncOpenAI(
            base_url="https://r.openai.azure.com/openai/v1/",
            api_key="k",
            http_client=http,  # type: ignore[arg-type]
        )
        n = 0
        if kind == "responses":
            async with await client.responses.create(model="d", input="x", stream=True) as stream:
                async for _ in stream:
                    n += 1
        else:
            async with await client.chat.completions.create(messages=[], model="d", stream=True) as chunks:
                async for _ in chunks:
                    n += 1
        return n


def best_of(runs: int, fn: Callable[[], Awaitable[int]]) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(runs):
        start = time.perf_counter()
        count = asyncio.run(fn())  # type: ignore[arg-type]
        best = min(best, time.perf_counter() - start)
    return best, count


def main() -> None:
    for kind, body in (("responses", responses_body()), ("chat", chat_body())):
        t_ours, n_ours = best_of(5, lambda: ours(kind, body))  # noqa: B023 - used at once
        t_sdk, n_sdk = best_of(3, lambda: sdk(kind, body))  # noqa: B023 - used at once
        print(
            f"{kind:9} ours {n_ours / t_ours:10,.0f} ev/s ({t_ours * 1000:6.1f} ms)   "
            f"openai {n_sdk / t_sdk:10,.0f} ev/s ({t_sdk * 1000:6.1f} ms)   speed-up x{t_sdk / t_ours:.1f}"
        )


if __name__ == "__main__":
    main()
