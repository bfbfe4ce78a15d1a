"""Reading response bodies with bounded memory: our own decompression, in steps of at most `STEP` bytes.

httpx decompresses each network chunk whole, so a 64 KB chunk of a gzip bomb becomes ~64 MB at once, and `aread`
keeps everything. Here the raw (still compressed) bytes are inflated at most `STEP` bytes at a time, and readers stop
at a byte limit, so a hostile or broken gateway costs a bounded amount of memory whatever it sends.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import Final

import httpx

__all__ = ["ACCEPT_ENCODING", "STEP", "BodyTooLargeError", "UnsupportedEncodingError", "decoded_chunks", "read_limited"]

STEP: Final = 1024 * 1024
ACCEPT_ENCODING: Final = "gzip, deflate"
"""What we ask servers for: exactly the encodings `decoded_chunks` inflates itself."""


class BodyTooLargeError(Exception):
    """The body, decompressed, passed the reader's limit; nothing more was read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit // (1024 * 1024)} MB")
        self.limit = limit


class UnsupportedEncodingError(Exception):
    """The server compressed the body in a way we did not ask for."""


class _Inflater:
    """gzip (several members too) or deflate (zlib-wrapped or raw, as servers disagree), inflated in bounded steps."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._raw_fallback = not self._gzip
        self._obj = self._new()

    def _new(self) -> zlib._Decompress:
        return zlib.decompressobj(zlib.MAX_WBITS | 16 if self._gzip else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Inflate `data`, yielding at most `STEP` bytes at a time (the next step runs only when asked for)."""
        while data:
            try:
                piece = self._obj.decompress(data, STEP)
            except zlib.error:
                if not self._raw_fallback:
                    raise
                self._raw_fallback = False  # "deflate" without the zlib header: retry as a raw stream
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._raw_fallback = False
            if piece:
                yield piece
            if self._obj.unconsumed_tail:
                data = self._obj.unconsumed_tail
            elif self._gzip and self._obj.eof and self._obj.unused_data:
                data = self._obj.unused_data  # the next gzip member
                self._obj = self._new()
            else:
                data = b""


def decoded_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body's bytes, decompressed, in pieces of at most `STEP` bytes (raw chunks pass through unchanged).

    An uncompressed body is httpx's own raw iterator (no layer of ours per chunk); an encoding we did not ask for
    raises UnsupportedEncodingError when iteration starts.
    """
    if response.is_stream_consumed:  # already read whole (and decompressed) by httpx, e.g. after a redirect check
        return _pieces(response.content)
    encodings = [e.strip().lower() for e in response.headers.get("content-encoding", "").split(",") if e.strip()]
    encodings = [e for e in encodings if e != "identity"]
    if not encodings:
        return response.aiter_raw()
    return _inflated(response, encodings)


async def _pieces(content: bytes) -> AsyncGenerator[bytes, None]:
    for start in range(0, len(content), STEP):
        yield content[start : start + STEP]


async def _inflated(response: httpx.Response, encodings: list[str]) -> AsyncGenerator[bytes, None]:
    if len(encodings) > 1 or encodings[0] not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedEncodingError(", ".join(encodings))
    inflater = _Inflater(encodings[0])
    async for chunk in response.aiter_raw():
        try:
            for piece in inflater.feed(chunk):
                yield piece
        except zlib.error as exc:
            raise httpx.DecodingError(f"the compressed body is damaged ({exc})") from None


async def read_limited(response: httpx.Response, limit: int) -> bytes:
    """Read the whole body, decompressed; raise BodyTooLargeError as soon as it passes `limit` bytes."""
    parts: list[bytes] = []
    size = 0
    chunks = decoded_chunks(response)
    try:
        async for piece in chunks:
            size += len(piece)
            if size > limit:
                raise BodyTooLargeError(limit)
            parts.append(piece)
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
    return b"".join(parts)
