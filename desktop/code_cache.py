"""Code that Python compiles at every start from the same source, compiled once and kept for the next start.

Two things compile source text at every start, before the first paint, where Python's own `__pycache__` cannot help:
- PySide6 keeps its support modules (signatures, `__feature__`) as source inside shiboken6 and compiles the 14 of
  them (126 KB) with `compile` each time it is imported: ~15 ms on Python 3.11.
- `dataclasses.dataclass` writes the source of a class's methods (`__init__`, `__repr__`, `__eq__`, ...) and compiles
  it with `exec`: three quarters of its ~0.6 ms a class, and the first frame needs about thirty classes (~11 ms).

`CodeCache` keeps the code objects of both in one file of the app's cache folder, keyed by everything that decides the
code: the source, the file name, the mode and the compiler flags (a caller's `from __future__` imports included, as
`compile` and `exec` inherit them). It hands back the stored code for a key it knows, the same code `compile` gives,
and compiles anything else as before. How it is reached, only while the app starts:
- `compiling()`: `builtins.compile` is this cache's for the `with` block around PySide6's import;
- `install_for_dataclasses()`: `dataclasses` finds an `exec` in its own module globals before the builtins one, until
  `uninstall_for_dataclasses()` at the first paint.
What it looked up is written once, after the paint, in a worker thread (`save`); a class or module that changed has
another source and is compiled as before. The file starts with the interpreter's exact version, and another version's
file is ignored. A missing, unreadable, corrupt or unwritable file costs only the time it would have saved.

The file holds code that runs in the app: it lives in the user's own cache folder, which only the user (and programs
running as the user) can write, like the `__pycache__` of a package the user installed.
"""

from __future__ import annotations
import __future__

import builtins
import contextlib
import dataclasses
import logging
import marshal
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import CodeType
from typing import Any

__all__ = ["CodeCache"]

_log = logging.getLogger(__name__)

# Code objects only load in the interpreter that wrote them: the exact version is part of the file.
_HEADER = f"compiled code {sys.implementation.cache_tag} {sys.hexversion:x}\n".encode("ascii")
_compile = builtins.compile  # (the real one: `compiling` replaces the builtin for a while)
# The compiler flags a `from __future__` import sets: `compile` and `exec` of a string inherit them from their caller.
_FUTURE_FLAGS = 0
for _name in __future__.all_feature_names:
    _FUTURE_FLAGS |= getattr(__future__, _name).compiler_flag


class CodeCache:
    """Compiled code read from and written to one file, keyed by what decides it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stored: dict[str, CodeType] = {}  # what the file held
        self._used: dict[str, CodeType] = {}  # what this start looked up
        self.compiled = 0  # sources compiled here (not found in the file)
        self.reused = 0  # sources found in the file

    def load(self) -> int:
        """Read the file; returns how many entries it holds (0 when it is missing, another version's or unreadable)."""
        try:
            data = self.path.read_bytes()
        except OSError:
            return 0
        if not data.startswith(_HEADER):
            return 0
        try:
            stored = marshal.loads(data[len(_HEADER) :])  # noqa: S302 (the user's own cache: see above)
        except (EOFError, ValueError, TypeError):
            _log.info("the code cache %s is unreadable: it is written again", self.path)
            return 0
        if not isinstance(stored, dict) or not all(
            isinstance(k, str) and isinstance(v, CodeType) for k, v in stored.items()
        ):
            return 0
        self._stored = stored
        return len(stored)

    def code(self, source: str | bytes, filename: str, mode: str, flags: int) -> CodeType:
        """The code `compile(source, filename, mode, flags, dont_inherit=True)` gives: stored, or compiled now."""
        # (bytes are decoded as compile decodes them, by their coding cookie: latin-1 keeps every byte in the key)
        text = source if isinstance(source, str) else "b:" + source.decode("latin-1")
        key = f"{filename}\0{mode}\0{flags}\0{text}"
        code = self._stored.get(key)
        if code is None:
            code = _compile(source, filename, mode, flags, dont_inherit=True)
            self.compiled += 1
        else:
            self.reused += 1
        self._used.setdefault(key, code)
        return code

    @contextlib.contextmanager
    def compiling(self) -> Iterator[None]:
        """Within the block, `compile` of source text takes its code from this cache (PySide6's support modules,
        read as bytes from shiboken6's embedded archive)."""
        real = vars(builtins)["compile"]

        def cached_compile(  # noqa: PLR0917 (compile's own signature)
            source: Any,
            filename: Any,
            mode: str,
            flags: int = 0,
            dont_inherit: bool = False,
            optimize: int = -1,
            **kwargs: Any,
        ) -> Any:
            if not isinstance(source, (str, bytes)) or not isinstance(filename, str) or optimize != -1 or kwargs:
                return real(source, filename, mode, flags, dont_inherit, optimize, **kwargs)
            if not dont_inherit:  # what compile would inherit: the calling code's `from __future__` imports
                flags |= sys._getframe(1).f_code.co_flags & _FUTURE_FLAGS
            return self.code(source, filename, mode, flags)

        vars(builtins)["compile"] = cached_compile
        try:
            yield
        finally:
            vars(builtins)["compile"] = real

    def install_for_dataclasses(self) -> None:
        """Until `uninstall_for_dataclasses`, `dataclasses` takes the code of the methods it writes from this cache."""
        vars(dataclasses)["exec"] = self._dataclass_exec

    @staticmethod
    def uninstall_for_dataclasses() -> None:
        """`dataclasses` compiles with the builtin `exec` again (the app: at its first paint)."""
        vars(dataclasses).pop("exec", None)

    def _dataclass_exec(self, source: Any, globals: dict[str, Any] | None = None, locals: Any = None) -> None:
        """`exec`, with the code of a string source from this cache (compiled with the caller's future flags, as
        `exec` does: dataclasses has none, so its methods' annotations stay objects, not strings)."""
        if isinstance(source, str):
            flags = sys._getframe(1).f_code.co_flags & _FUTURE_FLAGS
            source = self.code(source, "<string>", "exec", flags)
        builtins.exec(source, globals, locals)  # noqa: S102 (what dataclasses does)

    def save(self) -> bool:
        """Write the entries this start looked up, unless the file holds exactly those already; True when written.

        Call it when nothing compiles through the cache any more (the app does, after its first paint)."""
        used = dict(self._used)
        if not used or used.keys() == self._stored.keys():
            return False
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_bytes(_HEADER + marshal.dumps(used))
            os.replace(temporary, self.path)
        except OSError as exc:
            _log.info("could not keep the code cache: %s", exc)
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            return False
        self._stored = used
        return True
