"""The settings file: versioned JSON, atomic writes, and no lost data when the file is damaged or too new."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from desktop.config._model import Settings
from desktop.config._schema import SCHEMA_VERSION, Problems, migrate, read_settings, write_settings
from desktop.lazy_dataclass import dataclass

log = logging.getLogger(__name__)
SETTINGS_FILE = "settings.json"
MAX_SETTINGS_BYTES = 1024 * 1024
"""Real settings take a few kilobytes; a larger file is set aside unread (reading 100 MB of JSON froze the start)."""
_KNOWN_TOP_LEVEL = frozenset({"schema_version", "app", "profiles"})


def _unknown_paths(old: Any, new: Any, where: str = "") -> list[str]:
    """Where `old` has something `new` (the settings as this version writes them) does not: fields it does not know."""
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key, value in old.items():
            if key not in new:
                found.append(f"{where}.{key}" if where else str(key))
            else:
                found += _unknown_paths(value, new[key], f"{where}.{key}" if where else str(key))
        return found
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [where]
        return [p for i, (a, b) in enumerate(zip(old, new, strict=True)) for p in _unknown_paths(a, b, f"{where}[{i}]")]
    return []


class SettingsSaveError(OSError):
    """Settings could not be saved; `str(error)` is a sentence for the user."""


@dataclass(frozen=True)
class LoadResult:
    """Loaded settings, plain-language notices for the user, and whether saving is refused (file too new)."""

    settings: Settings
    notices: tuple[str, ...] = ()
    read_only: bool = False


def _timestamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def _fsync_dir(directory: Path) -> None:
    # A rename is durable only once the directory entry is flushed too (POSIX); Windows cannot open directories.
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves either the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


class SettingsStore:
    """Reads and writes `settings.json` in the configuration directory it is given."""

    def __init__(self, config_dir: Path, timestamp: Callable[[], str] = _timestamp) -> None:
        self.config_dir = config_dir
        self.path = config_dir / SETTINGS_FILE
        self._timestamp = timestamp
        self._read_only = False
        self._kept: dict[str, Any] = {}  # top-level fields of a newer version, written back unchanged
        self._backup_before_save = False  # the file holds deeper fields this version would drop: copy it first

    @property
    def read_only(self) -> bool:
        """True when the last load found a file this session must not overwrite."""
        return self._read_only

    def _aside(self, kind: str) -> Path:
        stem = f"{SETTINGS_FILE}.{kind}-{self._timestamp()}"
        candidate = self.config_dir / stem
        counter = 1
        while candidate.exists():
            counter += 1
            candidate = self.config_dir / f"{stem}-{counter}"
        return candidate

    def _set_aside(self, reason: str, kind: str = "corrupt") -> LoadResult:
        target = self._aside(kind)
        try:
            os.replace(self.path, target)
        except OSError as error:
            log.warning("Could not move the damaged settings file %s aside: %s", self.path, error)
            self._read_only = True
            return LoadResult(
                Settings(),
                (
                    f"Your settings file {self.path} could not be read ({reason}) and could not be moved aside "
                    f"({error.strerror or error}). The app uses default settings for now and will not overwrite "
                    "that file.",
                ),
                read_only=True,
            )
        log.warning("Settings file %s was unreadable (%s); moved to %s", self.path, reason, target)
        return LoadResult(
            Settings(),
            (
                f"Your settings file could not be read ({reason}), so the app started with default settings. "
                f"The old file was kept as {target}.",
            ),
        )

    def _keep_copy(self, target: Path, notices: list[str]) -> None:
        try:
            shutil.copy2(self.path, target)
        except OSError as error:
            # Without a copy, the next save would be the only version left: keep the original untouched instead.
            log.warning("Could not copy %s to %s: %s", self.path, target, error)
            self._read_only = True
            notices.append(
                f"A safety copy of your settings could not be made ({error.strerror or error}), so changes "
                f"will not be saved over {self.path} in this session."
            )

    def load(self) -> LoadResult:
        """Read the settings; never raises for a bad file (defaults plus a notice instead)."""
        self._read_only = False
        self._kept = {}
        self._backup_before_save = False
        try:
            size = self.path.stat().st_size
            if size > MAX_SETTINGS_BYTES:
                return self._set_aside(f"it is {size / 1e6:.0f} MB, far larger than settings can be", "too-large")
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return LoadResult(Settings())
        except OSError as error:
            return self._set_aside(f"it could not be opened: {error.strerror or error}")
        try:
            data: Any = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return self._set_aside("it is damaged or is not a settings file")
        if not isinstance(data, dict):
            return self._set_aside("it is not a settings file")
        version = data.get("schema_version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            return self._set_aside("its version number is not valid")
        if version > SCHEMA_VERSION:
            self._read_only = True
            return LoadResult(
                Settings(),
                (
                    f"Your settings at {self.path} were saved by a newer version of Azure OpenAI Chat. They were "
                    "left untouched; this version uses default settings and will not save changes over them.",
                ),
                read_only=True,
            )
        notices: list[str] = []
        if version < SCHEMA_VERSION:
            backup = self.config_dir / f"{SETTINGS_FILE}.v{version}-backup"
            self._keep_copy(backup, notices)
            data = migrate(data, version)
            log.info("Migrated settings from version %d to %d (backup %s)", version, SCHEMA_VERSION, backup)
        problems = Problems()
        settings = read_settings(data, problems)
        self._kept = {k: v for k, v in data.items() if k not in _KNOWN_TOP_LEVEL}
        unknown = [p for p in _unknown_paths(data, write_settings(settings)) if p not in self._kept]
        if unknown:
            log.info("Settings fields this version does not know: %s", ", ".join(unknown[:12]))
            self._backup_before_save = True
        if problems.items:
            copy = self._aside("backup")
            self._keep_copy(copy, notices)
            log.warning("Settings file %s had %d unreadable entries", self.path, len(problems.items))
            listed = "; ".join(problems.items[:12]) + ("; …" if len(problems.items) > 12 else "")
            notices.append(
                f"Some settings could not be understood and were reset to their defaults ({listed}). "
                f"A copy of the file as it was is kept at {copy}."
            )
        return LoadResult(settings, tuple(notices), read_only=self._read_only)

    def save(self, settings: Settings) -> None:
        """Write the settings atomically; raise `SettingsSaveError` with a plain message when that is not possible."""
        if self._read_only:
            raise SettingsSaveError(
                f"Settings were not saved: {self.path} belongs to a newer version of the app or could not be read, "
                "and is kept untouched."
            )
        text = json.dumps({**write_settings(settings), **self._kept}, indent=2, ensure_ascii=False) + "\n"
        try:
            if self._backup_before_save and self.path.exists():
                # Fields this version cannot keep would be lost by the save: the file as it was goes beside it first.
                backup = self._aside("before-save")
                shutil.copy2(self.path, backup)
                log.info("Settings had fields this version does not know; the file was copied to %s", backup)
                self._backup_before_save = False
            atomic_write_text(self.path, text)
        except OSError as error:
            raise SettingsSaveError(
                f"Settings could not be saved to {self.path}: {error.strerror or error}."
            ) from error
