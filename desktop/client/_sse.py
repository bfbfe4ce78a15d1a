"""An incremental, I/O-free server-sent events decoder that works on bytes (contract section 4).

Lines are split at the byte level on CR, LF and CRLF (also a CR at the end of one chunk and LF at the start of the
next), and only complete lines are decoded as UTF-8, so multi-byte characters split across network chunks survive
and U+2028/U+2029/U+0085 inside JSON strings are not mistaken for line breaks.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["MAX_LINE_BYTES", "SSEDecoder", "SSELineTooLongError", "ServerSentEvent"]

MAX_LINE_BYTES = 16 * 1024 * 1024
"""The longest line accepted: far above any real event (one JSON delta), far below what would strain memory."""


class SSELineTooLongError(ValueError):
    """A line passed `MAX_LINE_BYTES` without ending; the decoder keeps nothing of it."""


class ServerSentEvent(NamedTuple):
    """One dispatched event: its `event` type (None when not given), joined `data`, last `id` and `retry`."""

    event: str | None
    data: str
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Feed it network chunks with `feed`; it returns the events each chunk completes. Call `end` at EOF."""

    __slots__ = ("_data", "_data_bytes", "_event", "_last_id", "_max_line", "_partial", "_retry", "_skip_lf")

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self._max_line = max_line
        # An incomplete last line, already free of CR. A bytearray grows in place: appending chunk after chunk of
        # one long line costs time linear in its length (joining bytes each time would be quadratic).
        self._partial = bytearray()
        self._skip_lf = False  # the previous chunk ended with CR: a LF starting the next one belongs to it
        self._data: list[bytes] = []
        self._data_bytes = 0  # the event's data so far: one event is capped like one line
        self._event: str | None = None
        self._last_id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume a chunk of the body and return the events it completes, in order."""
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 10:  # b"\n"
                chunk = chunk[1:]
                if not chunk:
                    return []
        if b"\r" in chunk:
            self._skip_lf = chunk[-1] == 13  # b"\r"
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        end = chunk.rfind(b"\n")
        if end < 0:
            self._partial += chunk
            self._check(len(self._partial))
            return []
        if self._partial:
            self._check(len(self._partial) + chunk.find(b"\n"))
            self._partial += chunk[:end]
            head = bytes(self._partial)
        else:
            head = chunk[:end]
        rest = chunk[end + 1 :]
        if rest:
            self._check(len(rest))
            self._partial = bytearray(rest)
        elif self._partial:
            self._partial = bytearray()
        lines = head.split(b"\n")
        if len(head) > self._max_line:
            self._check(max(map(len, lines)))
        events: list[ServerSentEvent] = []
        data = self._data
        for line in lines:
            # Fast paths: nearly every line of both APIs is `data: {...}`, the Responses API's with an `event: ` line.
            if line[:6] == b"data: ":
                data.append(line[6:])
                self._data_bytes += len(line)
                self._check(self._data_bytes)
            elif line[:7] == b"event: ":
                self._event = line[7:].decode("utf-8", "replace")
            elif not line:
                if data:
                    text = (data[0] if len(data) == 1 else b"\n".join(data)).decode("utf-8", "replace")
                    events.append(ServerSentEvent(self._event, text, self._last_id, self._retry))
                    data.clear()
                    self._data_bytes = 0
                self._event = None
                self._retry = None
            else:
                self._field(line)
        return events

    def _check(self, length: int) -> None:
        if length > self._max_line:
            self._partial = bytearray()
            self._data.clear()
            self._data_bytes = 0
            raise SSELineTooLongError(f"a line of the stream is longer than {self._max_line // (1024 * 1024)} MB")

    def _field(self, line: bytes) -> None:
        """Apply one non-data-fast-path line: a comment, a field, or an unknown field (ignored)."""
        if line[0] == 58:  # b":" starts a comment (keep-alive)
            return
        name, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
            self._data_bytes += len(value)
            self._check(self._data_bytes)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\0" not in value:
                self._last_id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)

    def end(self) -> bool:
        """Finish the stream; an unterminated final event is dropped. Returns True if nothing was dropped."""
        clean = not self._partial and not self._data
        self._partial = bytearray()
        self._skip_lf = False
        self._data.clear()
        self._data_bytes = 0
        self._event = None
        self._retry = None
        return clean
