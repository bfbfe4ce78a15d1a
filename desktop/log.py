"""Logging set-up: a rotating file, optional console, and one redacting filter on every handler.

The filter sits on the handlers, not on loggers, so that records from any library (httpx, azure, msal, ours) are
scrubbed before they are written, whichever logger produced them.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
from pathlib import Path

__all__ = ["RedactingFilter", "add_secret", "configure_logging", "redact"]

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


def configure_logging(log_file: Path | None, *, verbose: bool = False) -> list[logging.Handler]:
    """Attach the app's handlers (rotating file, console when verbose) to the root logger; returns them."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    handlers: list[logging.Handler] = []
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
        file_handler.setLevel(logging.DEBUG if verbose else logging.INFO)
        handlers.append(file_handler)
    if verbose:
        console = logging.StreamHandler()
        console.setLevel(logging.DEBUG)
        handlers.append(console)
    redactor = RedactingFilter()
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(redactor)
        root.addHandler(handler)
    # Chatty libraries stay at WARNING unless the user asked for detail.
    for name in ("azure.core.pipeline.policies.http_logging_policy", "msal", "urllib3", "hpack", "asyncio"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.captureWarnings(True)
    return handlers
