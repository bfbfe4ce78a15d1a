"""Hostile replies cost bounded memory: gzip bombs, huge bodies and endless SSE lines end with a sentence."""

from __future__ import annotations

import functools
import gzip
import json
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from desktop.client import (
    APIResponseValidationError,
    APIStatusError,
    APIStreamError,
    AzureOpenAIClient,
    InternalServerError,
)
from desktop.client._body import STEP, decoded_chunks
from desktop.client._sse import MAX_LINE_BYTES, SSEDecoder, SSELineTooLongError
from tests.client.conftest import FakeAzure, Reply

Run = Callable[..., Any]
Make = Callable[..., AzureOpenAIClient]

BOMB_MB = 256  # inflates to 256 MB; the reliability figures use 1 GiB


@functools.cache
def gzip_bomb(megabytes: int = BOMB_MB, prefix: bytes = b"") -> bytes:
    """A small gzip body (about 1/1000 of its size) that inflates to `prefix` + `megabytes` MB of spaces."""
    packer = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = b" " * (1024 * 1024)
    parts = [packer.compress(prefix)]
    parts += [packer.compress(block) for _ in range(megabytes)]
    parts.append(packer.flush())
    return b"".join(parts)


def chunked(data: bytes, size: int = 65536) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def peak_mb(run: Callable[[], Any]) -> tuple[Any, float]:
    """Run and return (result or raised error, peak Python memory in MB above the start)."""
    tracemalloc.start()
    try:
        try:
            result: Any = run()
        except Exception as exc:
            result = exc
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak / 1e6


GZIP = {"content-encoding": "gzip"}


def test_gzip_bomb_in_an_error_body_is_read_only_to_the_cap(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(status=500, chunks=chunked(gzip_bomb()), headers=GZIP))
    client = make_client(fake, max_retries=0)
    error, peak = peak_mb(lambda: arun(client.responses.create(model="m", input="hi")))
    assert isinstance(error, InternalServerError)
    assert error.status_code == 500
    assert peak < 100
    assert fake.open_bodies == 0


def test_gzip_bomb_as_a_json_answer_is_refused_with_a_sentence(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(chunks=chunked(gzip_bomb(64, b'{"id": "r", "pad": "')), headers=GZIP))
    client = make_client(fake)
    error, peak = peak_mb(lambda: arun(client.responses.create(model="m", input="hi")))
    assert isinstance(error, APIResponseValidationError)
    assert "larger than 32 MB" in str(error)
    assert peak < 100
    assert fake.open_bodies == 0


def test_gzip_bomb_as_a_stream_ends_with_a_sentence(arun: Run, make_client: Make) -> None:
    # One endless `data:` line, compressed: inflated in bounded steps and stopped at the line cap.
    fake = FakeAzure(Reply(chunks=chunked(gzip_bomb(BOMB_MB, b"data: ")), headers=GZIP))
    client = make_client(fake)

    async def consume() -> None:
        stream = await client.chat.completions.create(messages=[], model="m", stream=True)
        async for _ in stream:
            pass

    error, peak = peak_mb(lambda: arun(consume()))
    assert isinstance(error, APIStreamError)
    assert error.kind == "too_large"
    assert "16 MB" in str(error)
    assert peak < 100
    assert fake.open_bodies == 0


def test_compressed_answers_still_arrive_whole(arun: Run, make_client: Make) -> None:
    answer = {"id": "r", "object": "response", "status": "completed", "output": [], "pad": "x" * (3 * STEP)}
    body = gzip.compress(json.dumps(answer).encode()) + gzip.compress(b"")  # a second (empty) gzip member
    fake = FakeAzure(Reply(chunks=chunked(body, 1000), headers=GZIP))
    result = arun(make_client(fake).responses.create(model="m", input="hi"))
    assert result.id == "r"
    deflated = zlib.compress(json.dumps(answer).encode())
    for raw in (deflated, deflated[2:-4]):  # zlib-wrapped and raw deflate: servers send both as "deflate"
        fake = FakeAzure(Reply(chunks=chunked(raw), headers={"content-encoding": "deflate"}))
        assert arun(make_client(fake).responses.create(model="m", input="hi")).id == "r"


def test_only_encodings_we_inflate_ourselves_are_asked_for(arun: Run, make_client: Make) -> None:
    fake = FakeAzure(Reply(json={"id": "r", "object": "response", "status": "completed", "output": []}))
    arun(make_client(fake).responses.create(model="m", input="hi"))
    assert fake.requests[0].headers["accept-encoding"] == "gzip, deflate"
    fake = FakeAzure(Reply(body=b"\x00" * 10, headers={"content-encoding": "br"}))
    with pytest.raises(APIResponseValidationError, match="cannot read"):
        arun(make_client(fake).responses.create(model="m", input="hi"))


def test_inflating_yields_bounded_pieces(arun: Run) -> None:
    response = httpx.Response(200, headers=GZIP, stream=httpx.ByteStream(gzip_bomb(8)))

    async def sizes() -> list[int]:
        return [len(piece) async for piece in decoded_chunks(response)]

    got = arun(sizes())
    assert sum(got) == 8 * 1024 * 1024
    assert max(got) <= STEP


def _feed_until_refused(decoder: SSEDecoder, first: bytes, chunk: bytes, times: int) -> int:
    """Feed `first` then `chunk` up to `times` times; return how many bytes went in before the decoder refused."""
    fed = len(first)
    try:
        decoder.feed(first)
        for _ in range(times):
            decoder.feed(chunk)
            fed += len(chunk)
    except SSELineTooLongError:
        return fed
    raise AssertionError(f"{fed} bytes accepted without a refusal")


def test_a_100_mb_line_is_refused_at_the_cap() -> None:
    decoder = SSEDecoder()
    fed = _feed_until_refused(decoder, b"data: ", b"x" * (1024 * 1024), 100)
    assert fed <= MAX_LINE_BYTES
    assert decoder.feed(b"\n\ndata: ok\n\n")[-1].data == "ok"  # nothing of the long line is kept


def test_endless_data_lines_of_one_event_are_capped_too() -> None:
    assert _feed_until_refused(SSEDecoder(max_line=1000), b"", b"data: " + b"y" * 50 + b"\n", 100) <= 1000


def test_lines_up_to_the_cap_pass_whatever_the_chunking() -> None:
    decoder = SSEDecoder(max_line=1000)
    line = b"data: " + b"z" * 994
    events = []
    for piece in chunked(line + b"\n\n" + line + b"\r\n\r\n", 7):
        events += decoder.feed(piece)
    assert [len(e.data) for e in events] == [994, 994]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirects_are_never_followed(arun: Run, status: int) -> None:
    """The key must never travel to wherever a gateway points: the client's own pool refuses redirects."""
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(status, headers={"location": "https://evil.example/openai/v1/responses"})

    client = AzureOpenAIClient(base_url="https://res.openai.azure.com/openai/v1", api_key="k" * 32, max_retries=0)
    client._http._transport = httpx.MockTransport(handler)  # the pool the client built, with its own settings

    async def call() -> None:
        try:
            await client.responses.create(model="m", input="hi")
        finally:
            await client.aclose()

    with pytest.raises(APIStatusError) as caught:
        arun(call())
    assert caught.value.status_code == status
    assert [u.host for u in seen] == ["res.openai.azure.com"]


def test_a_too_large_stream_is_described_in_plain_words() -> None:
    from desktop.services._errors import describe_error

    error = describe_error(APIStreamError("a line of the stream is longer than 16 MB", kind="too_large"))
    assert error.title == "The answer was too large to read"
    assert "16 MB" in error.explanation
