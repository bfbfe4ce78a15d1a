"""The SSE decoder, case by case (contract section 4), plus chunking-invariance properties."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.client import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    decoder.end()
    return events


E = ServerSentEvent


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b"data: a\n\n", [E(None, "a")], id="lf"),
        pytest.param(b"data: a\r\n\r\n", [E(None, "a")], id="crlf"),
        pytest.param(b"data: a\r\r", [E(None, "a")], id="cr"),
        pytest.param(b"data: a\r\n\ndata: b\r\rdata: c\n\r\n", [E(None, "a"), E(None, "b"), E(None, "c")], id="mixed"),
        pytest.param(b"data:a\n\n", [E(None, "a")], id="no-space"),
        pytest.param(b"data:  a\n\n", [E(None, " a")], id="only-one-space-stripped"),
        pytest.param(b"data\n\n", [E(None, "")], id="field-without-colon"),
        pytest.param(b"data: a\ndata: b\ndata:\n\n", [E(None, "a\nb\n")], id="multi-line-data"),
        pytest.param(b": keep-alive\n\ndata: a\n\n", [E(None, "a")], id="comment"),
        pytest.param(b":\n:x\ndata: a\n:y\n\n", [E(None, "a")], id="comments-inside-event"),
        pytest.param(b"foo: bar\nDATA: x\ndata: a\n\n", [E(None, "a")], id="unknown-fields-ignored"),
        pytest.param(b"event: response.created\ndata: {}\n\n", [E("response.created", "{}")], id="event-name"),
        pytest.param(b"event: x\n\ndata: a\n\n", [E(None, "a")], id="event-without-data-not-dispatched"),
        pytest.param(b"id: 7\ndata: a\n\ndata: b\n\n", [E(None, "a", "7"), E(None, "b", "7")], id="id-persists"),
        pytest.param(b"id: 1\0\ndata: a\n\n", [E(None, "a")], id="id-with-nul-ignored"),
        pytest.param(b"retry: 300\ndata: a\n\ndata: b\n\n", [E(None, "a", None, 300), E(None, "b")], id="retry"),
        pytest.param(b"retry: soon\ndata: a\n\n", [E(None, "a")], id="retry-not-a-number"),
        pytest.param(b"data: a\n\ndata: unterminated\n", [E(None, "a")], id="unterminated-final-event-dropped"),
        pytest.param(b"data: a\n\ndata: partial", [E(None, "a")], id="partial-final-line-dropped"),
        pytest.param(b"\n\n\n", [], id="blank-lines-only"),
        pytest.param(b"data: [DONE]\n\n", [E(None, "[DONE]")], id="done"),
        pytest.param("data: é€😀\n\n".encode(), [E(None, "é€😀")], id="utf8"),
        pytest.param(b"data: \xff\n\n", [E(None, "\ufffd")], id="invalid-utf8-replaced"),
    ],
)
def test_decoder_cases(body: bytes, expected: list[ServerSentEvent]) -> None:
    assert decode(body) == expected
    # The same body fed one byte at a time gives the same events.
    assert decode(*(body[i : i + 1] for i in range(len(body)))) == expected


def test_cr_at_chunk_end_followed_by_lf_is_one_line_break() -> None:
    assert decode(b"data: a\r", b"\n\r", b"\ndata: b\r", b"\r") == [E(None, "a"), E(None, "b")]


def test_cr_chunk_then_empty_chunk_then_lf() -> None:
    assert decode(b"data: a\r", b"", b"\n", b"\r\n") == [E(None, "a")]


def test_end_reports_whether_something_was_dropped() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\n")
    assert decoder.end() is True
    decoder.feed(b"data: b\n")
    assert decoder.end() is False
    assert decoder.feed(b"\n") == []  # end() reset the decoder: the dropped event does not come back


def test_line_separators_inside_json_are_not_line_breaks() -> None:
    text = "a\u2028b\u2029c\u0085d\x1c\x1d\x1e\x0b\x0c"
    body = f"data: {json.dumps({'delta': text}, ensure_ascii=False)}\n\n".encode()
    (event,) = decode(body)
    assert json.loads(event.data)["delta"] == text


def test_multibyte_character_split_at_every_byte_boundary() -> None:
    body = 'data: {"delta": "x😀é€\u2028y"}\n\n'.encode()
    for cut in range(len(body) + 1):
        for second in range(cut, len(body) + 1):
            (event,) = decode(body[:cut], body[cut:second], body[second:])
            assert json.loads(event.data)["delta"] == "x😀é€\u2028y"


def test_several_megabyte_event_has_no_size_cap() -> None:
    payload = "é" * 3_000_000
    body = f"data: {payload}\n\n".encode()
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
    (event,) = decode(*chunks)
    assert event.data == payload


lines = st.sampled_from(
    [
        b"data: a",
        b"data:b",
        b'data: {"x": "\xe2\x80\xa8\xf0\x9f\x98\x80"}',
        b"event: response.output_text.delta",
        b"id: 42",
        b"retry: 10",
        b": ping",
        b"unknown: field",
        b"data",
        b"",
    ]
)
terminators = st.sampled_from([b"\n", b"\r", b"\r\n"])


@given(
    body=st.lists(st.tuples(lines, terminators), max_size=30).map(lambda pairs: b"".join(a + b for a, b in pairs)),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_any_chunking_gives_the_same_events(body: bytes, cuts: list[int]) -> None:
    points = sorted({min(c, len(body)) for c in cuts})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    assert decode(*chunks) == decode(body)
