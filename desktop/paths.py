"""Where the app keeps its files: platform directories, or everything under one `--profile-dir`."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "azure-openai-chat"
APP_DISPLAY_NAME = "Azure OpenAI Chat"
APP_AUTHOR = "AzureOpenAIChat"


@dataclass(frozen=True)
class AppPaths:
    """The directories the app writes to; created on demand by `ensure()`."""

    config_dir: Path
    data_dir: Path
    log_dir: Path
    cache_dir: Path

    @classmethod
    def platform_default(cls) -> AppPaths:
        """The per-user directories of this operating system (platformdirs)."""
        import platformdirs

        dirs = platformdirs.PlatformDirs(APP_NAME, APP_AUTHOR)
        return cls(
            config_dir=Path(dirs.user_config_dir),
            data_dir=Path(dirs.user_data_dir),
            log_dir=Path(dirs.user_log_dir),
            cache_dir=Path(dirs.user_cache_dir),
        )

    @classmethod
    def under(cls, root: Path) -> AppPaths:
        """Everything below one folder (`--profile-dir`), for trials and tests."""
        root = root.expanduser().resolve()
        return cls(
            config_dir=root / "config",
            data_dir=root / "data",
            log_dir=root / "logs",
            cache_dir=root / "cache",
        )

    @property
    def settings_file(self) -> Path:
        """The settings JSON file."""
        return self.config_dir / "settings.json"

    @property
    def history_file(self) -> Path:
        """The SQLite conversation history."""
        return self.data_dir / "history.sqlite3"

    @property
    def log_file(self) -> Path:
        """The current rotating log file."""
        return self.log_dir / "azure-openai-chat.log"

    def ensure(self) -> None:
        """Create every directory private to the user (0700), tightening one that already exists more openly.

        Raises OSError when a folder cannot be created or tightened; the caller turns it into a sentence.
        """
        for d in (self.config_dir, self.data_dir, self.log_dir, self.cache_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
            if sys.platform != "win32" and d.stat().st_mode & 0o077:
                d.chmod(0o700)


def resources_dir() -> Path:
    """The `resources/` folder: beside the package in a source tree, inside the bundle when frozen (PyInstaller)."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root is not None:
        return Path(frozen_root) / "resources"
    here = Path(__file__).resolve().parent
    for candidate in (here / "resources", here.parent / "resources"):
        if candidate.is_dir():
            return candidate
    return here.parent / "resources"
