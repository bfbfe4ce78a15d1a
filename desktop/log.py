"""Logging set-up: a rotating file, optional console, and one redacting filter on every handler.

The filter sits on the handlers, not on loggers, so that records from any library (httpx, azure, msal, ours) are
scrubbed before they are written, whichever logger produced them.

The app starts its log without rotation (`rotate_now=False`) and calls `start_rotating()` after its window's first
paint: rotation is `logging.handlers`, which loads socket, pickle and queue (~6 ms the first frame does not need).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path

__all__ = [
    "CONTENT_LOGGER",
    "LogFileError",
    "RedactingFilter",
    "add_secret",
    "configure_logging",
    "redact",
    "start_rotating",
]

CONTENT_LOGGER = "desktop.content"
"""Prompts, answers and images in full: written only with --verbose --log-content; otherwise callers log sizes."""

# Libraries whose debug output carries call arguments, results or headers (qasync's executor logs every
# `to_thread` call and its result, e.g. a key read from the keyring): never below INFO, even with --verbose.
_ARGUMENT_LOGGERS = ("qasync", "httpcore", "hpack", "h2", "h11", "urllib3", "msal", "azure.core.pipeline.policies")

_REDACTED = "[REDACTED]"

# Header values as httpx/azure-core/our own code print them: "api-key: X", "'api-key': 'X'", "Authorization: Bearer X".
_HEADER_RE = re.compile(
    r"""(?ix)
    (["']?(?:api-key|ocp-apim-subscription-key|authorization|x-api-key|client_secret|refresh_token|access_token
    |id_token|code_verifier|password)["']?
    \s*[:=]\s*(?:b?["'])?)
    (?:bearer\s+)?
    (?!\[REDACTED\])([^\s"',}\]&]+)
    """
)
_BEARER_RE = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}")
_JWT_RE = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
# Shaped like an Azure key: 32 hex digits (classic Azure OpenAI / Cognitive Services keys) or 84 letters and digits
# (the newer format), standing alone. Caught even when the key was never registered with `add_secret`.
_AZURE_KEY_RE = re.compile(r"(?<![A-Za-z0-9])(?:[0-9a-fA-F]{32}|[A-Za-z0-9]{84})(?![A-Za-z0-9])")

_secrets_lock = threading.Lock()
_secrets: set[str] = set()


def add_secret(secret: str) -> None:
    """Remember a secret (an API key the user entered) so it is scrubbed from every future log record."""
    if secret and len(secret) >= 6:
        with _secrets_lock:
            _secrets.add(secret)


def redact(text: str) -> str:
    """Return `text` with keys, tokens and known secrets replaced by a marker."""
    with _secrets_lock:
        known = tuple(_secrets)
    for secret in known:
        if secret in text:
            text = text.replace(secret, _REDACTED)
    text = _JWT_RE.sub(_REDACTED, text)
    text = _AZURE_KEY_RE.sub(_REDACTED, text)
    text = _BEARER_RE.sub("Bearer " + _REDACTED, text)
    return _HEADER_RE.sub(lambda m: m.group(1) + _REDACTED, text)


class RedactingFilter(logging.Filter):
    """Scrubs secrets from a record's final message (and its traceback text) before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


class LogFileError(OSError):
    """The log file cannot be written (read-only or full location); `str(error)` is a sentence for the user."""


_MAX_BYTES = 2_000_000
_BACKUPS = 5


def _open_privately(path: str) -> None:
    """Create the file readable by its owner only (or make an existing one so) before a handler opens it."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.close(fd)
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)


class _PrivateFileHandler(logging.FileHandler):
    """The log file, readable by the owner only, before it rotates (see `_LogFile`)."""

    def _open(self):  # type: ignore[no-untyped-def]  # the stdlib leaves this method untyped
        _open_privately(self.baseFilename)
        return super()._open()


def _rotating_handler(log_file: Path) -> logging.Handler:
    """A rotating log whose files (the current one and each new one after a rollover) are readable by the owner only."""
    import logging.handlers

    class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
        def _open(self):  # type: ignore[no-untyped-def]  # the stdlib leaves this method untyped
            _open_privately(self.baseFilename)
            return super()._open()

    return _PrivateRotatingFileHandler(log_file, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8")


class _LogFile(logging.Handler):
    """The log file, appended to at once and rotated from `start_rotating()` on.

    Records go to one file handler at a time: the switch happens under this handler's lock, so no record is lost or
    written twice, whichever thread logs.
    """

    def __init__(self, log_file: Path) -> None:
        super().__init__()
        self._path = log_file
        self._target: logging.Handler = _PrivateFileHandler(log_file, encoding="utf-8")
        self.rotating = False

    def setFormatter(self, fmt: logging.Formatter | None) -> None:
        """Format for whichever file handler writes."""
        super().setFormatter(fmt)
        self._target.setFormatter(fmt)

    def emit(self, record: logging.LogRecord) -> None:
        """Write the record (the filters ran already, in `handle`)."""
        self._target.emit(record)

    def flush(self) -> None:
        """Flush the file."""
        self._target.flush()

    def start_rotating(self) -> None:
        """From now on, roll the file over at its size limit, as if it had been a rotating log from the start."""
        if self.rotating:
            return
        rotating = _rotating_handler(self._path)
        rotating.setFormatter(self.formatter)
        self.acquire()
        try:  # closed before any record can reach the rotating handler: Windows cannot rename a file still open
            self._target.close()
            self._target = rotating
            self.rotating = True
        finally:
            self.release()

    def close(self) -> None:
        """Close the file."""
        self._target.close()
        super().close()


def start_rotating() -> None:
    """Let the log file started with `configure_logging(..., rotate_now=False)` rotate (after the first paint)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _LogFile):
            handler.start_rotating()


def _open_log_file(log_file: Path, verbose: bool, rotate_now: bool) -> logging.Handler:
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handler = _rotating_handler(log_file) if rotate_now else _LogFile(log_file)
    except OSError as exc:
        raise LogFileError(
            f"The log file {log_file} cannot be written ({exc.strerror or exc}); the app runs without a log. "
            "The disk may be full or the folder read-only."
        ) from exc
    handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    return handler


def configure_logging(
    log_file: Path | None, *, verbose: bool = False, log_content: bool = False, rotate_now: bool = True
) -> list[logging.Handler]:
    """Attach the app's handlers (rotating file, console when verbose) to the root logger; returns them.

    With `rotate_now` False the file rotates only once `start_rotating()` was called (the app calls it after its
    first paint).

    Raises LogFileError, before changing anything, when the log file cannot be opened; call again without a file.
    `log_content` (only with `verbose`) writes prompts and answers in full; otherwise they are logged as sizes.
    """
    handlers: list[logging.Handler] = []
    if log_file is not None:
        handlers.append(_open_log_file(log_file, verbose, rotate_now))
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    if verbose:
        console = logging.StreamHandler()
        console.setLevel(logging.DEBUG)
        handlers.append(console)
    redactor = RedactingFilter()
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(redactor)
        root.addHandler(handler)
    # Chatty libraries stay at WARNING unless the user asked for detail; those printing arguments never go below INFO.
    for name in ("asyncio",):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
    for name in _ARGUMENT_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    logging.getLogger(CONTENT_LOGGER).setLevel(logging.DEBUG if verbose and log_content else logging.INFO)
    logging.captureWarnings(True)
    return handlers
