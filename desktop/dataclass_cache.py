"""The code `dataclasses` compiles for a class's methods, kept between starts so the next start does not compile it.

Why: `dataclasses.dataclass` writes the source of a class's methods (`__init__`, `__repr__`, `__eq__`, `__hash__`,
and `__setattr__`/`__delattr__` for a frozen class) and compiles it with `exec`; on Python 3.11 compiling is three
quarters of its ~0.6 ms a class. The first frame needs about thirty of the app's dataclasses (the settings, the
history's rows, the sidebar's rows and events), so compiling their methods took ~13 ms of every start.

How: `dataclasses` finds `exec` in its own module's globals before the builtins. `install` puts there a function that
looks each source up in the code the last start kept, and compiles it only when it is not there: the same code as
`compile(source, "<string>", "exec")` gives (what `exec` of a string does), run the same way. Nothing else of
`dataclasses` changes. A class whose fields or options changed has another source, so it is compiled as before.

What is kept: the sources looked up from start-up to the first paint, when the app uninstalls the cache; they are
written once, after the paint, in a worker thread. The file starts with the interpreter's version, and another
version's file is ignored. A missing, unreadable, corrupt or unwritable file costs only the time it would have saved.

The file holds code that runs in the app: it lives in the user's own cache folder, which only the user (and programs
running as the user) can write, like the `__pycache__` of a package the user installed.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import logging
import marshal
import os
import sys
from pathlib import Path
from types import CodeType
from typing import Any

__all__ = ["DataclassCodeCache"]

_log = logging.getLogger(__name__)

# Code objects only load in the interpreter that wrote them: the exact version is part of the file.
_HEADER = f"dataclass code {sys.implementation.cache_tag} {sys.hexversion:x}\n".encode("ascii")


class DataclassCodeCache:
    """Compiled dataclass methods, read from and written to one file; `install` makes `dataclasses` use them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stored: dict[str, CodeType] = {}  # what the file held
        self._used: dict[str, CodeType] = {}  # what this start looked up, while installed
        self.compiled = 0  # sources compiled while installed (not found in the file)
        self.reused = 0  # sources found in the file

    def load(self) -> int:
        """Read the file; returns how many sources it holds (0 when it is missing, another version's or unreadable)."""
        try:
            data = self.path.read_bytes()
        except OSError:
            return 0
        if not data.startswith(_HEADER):
            return 0
        try:
            stored = marshal.loads(data[len(_HEADER) :])  # noqa: S302 (the user's own cache: see above)
        except (EOFError, ValueError, TypeError):
            _log.info("the dataclass code cache %s is unreadable: it is written again", self.path)
            return 0
        if not isinstance(stored, dict) or not all(
            isinstance(k, str) and isinstance(v, CodeType) for k, v in stored.items()
        ):
            return 0
        self._stored = stored
        return len(stored)

    def install(self) -> None:
        """Until `uninstall`, `dataclasses` runs the stored code of each source it would have compiled."""
        vars(dataclasses)["exec"] = self.exec

    @staticmethod
    def uninstall() -> None:
        """`dataclasses` compiles with the builtin `exec` again (the app: at its first paint)."""
        vars(dataclasses).pop("exec", None)

    def exec(self, source: Any, globals: dict[str, Any] | None = None, locals: Any = None) -> None:
        """`builtins.exec`, with a string source taken from the cache when it is there."""
        if not isinstance(source, str):
            builtins.exec(source, globals, locals)  # noqa: S102 (what dataclasses does)
            return
        code = self._stored.get(source)
        if code is None:
            code = compile(source, "<string>", "exec")
            self.compiled += 1
        else:
            self.reused += 1
        self._used.setdefault(source, code)
        builtins.exec(code, globals, locals)  # noqa: S102

    def save(self) -> bool:
        """Write the sources this start looked up, unless the file holds exactly those already; True when written.

        Call it after `uninstall` (the app does, in a worker thread after the paint)."""
        used = dict(self._used)
        if not used or used.keys() == self._stored.keys():
            return False
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(_HEADER + marshal.dumps(used))
            os.replace(temporary, self.path)
        except OSError as exc:
            _log.info("could not keep the dataclass code cache: %s", exc)
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            return False
        self._stored = used
        return True
