"""The redacting filter scrubs secrets from every record, whichever logger wrote it."""

from __future__ import annotations

import argparse
import asyncio
import logging
import logging.handlers
import secrets
import stat
import string
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from desktop.auth import KeyStore
from desktop.client import AzureOpenAIClient
from desktop.log import LogFileError, add_secret, configure_logging, redact, start_rotating

CANARY_KEY = "c4n4ry0f7e2b4a1d9e8f7a6b5c4d3e2f"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXBhcnQ"


def _take_back(handlers: Iterable[logging.Handler], level: int) -> None:
    """Detach and close the handlers a test added to the root logger, and give the root logger its level back."""
    root = logging.getLogger()
    for handler in handlers:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "app.log"
    root = logging.getLogger()
    level = root.level
    handlers = configure_logging(path, verbose=False)
    yield path
    _take_back(handlers, level)


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


@pytest.fixture
def verbose_log(tmp_path: Path) -> Iterator[Callable[..., Path]]:
    """Configure logging as `--verbose` (optionally `--log-content`) would; returns the log file."""
    root = logging.getLogger()
    level = root.level
    installed: list[logging.Handler] = []

    def configure(log_content: bool = False) -> Path:
        path = tmp_path / "logs" / "app.log"
        installed.extend(configure_logging(path, verbose=True, log_content=log_content))
        return path

    yield configure
    _take_back(installed, level)
    configure_logging(None)  # back to the quiet levels for later tests
    root.setLevel(level)


def _written(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_key_shaped_text_is_redacted_without_being_registered() -> None:
    classic = secrets.token_hex(16)  # 32 hex digits, as Azure OpenAI keys are
    newer = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(84))
    out = redact(f"api key {classic} or {newer.upper()}, and Bearer {secrets.token_urlsafe(24)}")
    assert classic not in out
    assert newer.upper() not in out
    assert out.count("[REDACTED]") == 3


def test_qasync_executor_never_logs_results_even_when_verbose(
    verbose_log: Callable[..., Path], arun: Callable[..., Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path = verbose_log()
    canary = f"never-registered-{secrets.token_urlsafe(12)}"  # not key-shaped: only the level filter stops it

    async def read_in_thread() -> str:
        return await asyncio.to_thread(lambda: canary)  # as a keyring read runs

    assert arun(read_in_thread()) == canary
    assert canary not in _written(path)
    assert canary not in capsys.readouterr().err


def test_key_is_known_to_the_filter_when_typed_and_when_read(memory_keyring: Any) -> None:
    typed = f"typed{secrets.token_urlsafe(20)}"
    KeyStore().set("typed-profile", typed)
    assert typed not in redact(f"value {typed}")
    stored = f"stored{secrets.token_urlsafe(20)}"
    memory_keyring.set_password("Azure OpenAI Chat", "stored-profile", stored)  # saved by an earlier run
    assert stored in redact(f"value {stored}")
    assert KeyStore().get("stored-profile") == stored
    assert stored not in redact(f"value {stored}")


def test_stored_keys_are_learned_once_the_app_is_complete(memory_keyring: Any, arun: Callable[..., Any]) -> None:
    # It runs right after the first paint (desktop.app.run_app); nothing touches the keyring before the window:
    # tests/app/test_import_budget.py checks that keyring is not even imported by then.
    from desktop.app import learn_stored_keys

    stored = f"earlier{secrets.token_urlsafe(20)}"
    memory_keyring.set_password("Azure OpenAI Chat", "work", stored)
    profiles = [
        SimpleNamespace(id="work", auth_method="api_key", is_demo=False),
        SimpleNamespace(id="entra", auth_method="entra", is_demo=False),
    ]
    configuration = SimpleNamespace(settings=SimpleNamespace(profiles=profiles))

    assert arun(learn_stored_keys(KeyStore(), configuration)) == 1
    assert stored not in redact(stored)


def test_verbose_logs_prompt_sizes_and_log_content_logs_words(
    verbose_log: Callable[..., Path], arun: Callable[..., Any]
) -> None:
    prompt = "my confidential quarterly numbers"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "r", "object": "response", "status": "completed", "output": []})

    async def ask() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        client = AzureOpenAIClient(base_url="https://r.openai.azure.com/openai/v1", api_key="k" * 32, http_client=http)
        await client.responses.create(
            model="m", input=[{"role": "user", "content": [{"type": "input_text", "text": prompt}]}]
        )
        await http.aclose()

    path = verbose_log()
    arun(ask())
    text = _written(path)
    assert prompt not in text
    assert f"{len(prompt)} characters of text" in text
    configure_logging(None, verbose=True, log_content=True)
    arun(ask())
    assert prompt in _written(path)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_log_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "app.log"
    path.parent.mkdir(mode=0o755)
    path.write_text("old\n")
    path.chmod(0o644)
    root = logging.getLogger()
    level = root.level
    handlers = configure_logging(path)
    try:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        file_handler = handlers[0]
        assert isinstance(file_handler, logging.handlers.RotatingFileHandler)
        file_handler.doRollover()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        _take_back(handlers, level)


def test_unwritable_log_location_is_a_sentence_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop.app import _set_up_logging

    blocker = tmp_path / "logs"
    blocker.write_text("a file where the log folder should be")
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    with pytest.raises(LogFileError, match="cannot be written"):
        configure_logging(blocker / "app.log")
    assert root.handlers == before  # nothing half set up
    try:
        _set_up_logging(blocker / "app.log", argparse.Namespace(verbose=False, log_content=False))
        err = capsys.readouterr().err
        assert "cannot be written" in err
        assert "Traceback" not in err
    finally:
        for handler in root.handlers[len(before) :]:
            root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_a_log_started_without_rotation_loses_no_record_when_it_starts_rotating(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "app.log"
    root = logging.getLogger()
    level = root.level
    handlers = configure_logging(path, rotate_now=False)
    try:
        logger = logging.getLogger("desktop.test")
        logger.info("before the paint %s", CANARY_KEY)  # the filter applies from the start
        add_secret(CANARY_KEY)
        logger.info("before the paint, known key %s", CANARY_KEY)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        start_rotating()
        start_rotating()  # once is enough; again changes nothing
        logger.info("after the paint")
        written = path.read_text(encoding="utf-8")
        assert CANARY_KEY not in written
        assert [line.split(": ", 1)[1] for line in written.splitlines()] == [
            "before the paint [REDACTED]",
            "before the paint, known key [REDACTED]",
            "after the paint",
        ]
        logger.info("x" * 2_100_000)  # past the size limit: the next record starts a new file
        logger.info("in a new file")
        assert path.read_text(encoding="utf-8").endswith("in a new file\n")
        assert (tmp_path / "logs" / "app.log.1").is_file()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        _take_back(handlers, level)


def test_the_app_s_log_rotates_once_the_warm_up_after_the_first_paint_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop import app, services

    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    monkeypatch.setattr(services, "warm_up_network", lambda: None)
    app._set_up_logging(tmp_path / "app.log", argparse.Namespace(verbose=False, log_content=False))
    added = root.handlers[len(before) :]
    try:
        assert [type(h).__name__ for h in added] == ["_LogFile"]
        assert not added[0].rotating
        app._warm_up()
        assert added[0].rotating
    finally:
        _take_back(added, level)
