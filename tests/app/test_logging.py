"""The redacting filter scrubs secrets from every record, whichever logger wrote it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from desktop.log import add_secret, configure_logging, redact

CANARY_KEY = "c4n4ry0f7e2b4a1d9e8f7a6b5c4d3e2f"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "app.log"
    root = logging.getLogger()
    level = root.level
    handlers = configure_logging(path, verbose=False)
    yield path
    for handler in handlers:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("headers: {'api-key': 'c4n4ry0f7e2b4a1d9e8f7a6b5c4d3e2f'}", CANARY_KEY),
        ('"Authorization": "Bearer abcdefghijklmnop1234"', "abcdefghijklmnop1234"),
        ("Authorization: Bearer abcdefghijklmnop1234", "abcdefghijklmnop1234"),
        (f"token={JWT}", JWT),
        (f"got {JWT} back", JWT),
        ("refresh_token=0.AAAAxyz-secret-refresh", "0.AAAAxyz-secret-refresh"),
        ("api-key=plainkey123456&x=1", "plainkey123456"),
    ],
)
def test_redact_patterns(text: str, leak: str) -> None:
    out = redact(text)
    assert leak not in out
    assert "[REDACTED]" in out


def test_redact_leaves_ordinary_text() -> None:
    text = "POST /openai/v1/responses 200 attempt 1 request id 3f2c ms 41"
    assert redact(text) == text


def test_canary_never_reaches_the_log_file(log_file: Path) -> None:
    add_secret(CANARY_KEY)
    # httpx's own logger, azure-core's and ours, each with the key in message, args, exception and headers.
    logging.getLogger("httpx").warning(
        "HTTP Request: POST %s headers=%s", "https://x/openai/v1", {"api-key": CANARY_KEY}
    )
    logging.getLogger("azure.identity").warning("token for %s: Bearer %s", "user", JWT)
    logging.getLogger("desktop.client").warning("key in plain text: %s", CANARY_KEY)
    try:
        raise ValueError(f"bad key {CANARY_KEY}")
    except ValueError:
        logging.getLogger("desktop.services").exception("failure")
    request = httpx.Request("POST", "https://x.openai.azure.com/openai/v1/responses", headers={"api-key": CANARY_KEY})
    logging.getLogger("desktop.client").warning("request %r %s", request, dict(request.headers))
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text(encoding="utf-8")
    assert "failure" in text
    assert "ValueError" in text
    assert CANARY_KEY not in text
    assert JWT not in text
    assert text.count("[REDACTED]") >= 5


@pytest.fixture(autouse=True)
def _expect_warnings(logfail: object) -> None:
    logfail.allow("", "")  # type: ignore[attr-defined]
