"""Start the app exactly as `python -m desktop` does and print the modules imported when its window first paints.

Usage: python -X importtime -m tests.app._first_paint_modules --profile-dir DIR --smoke-test
Prints one line `MODULES-AT-FIRST-PAINT ["module", ...]` when the main window receives its first Paint event (before
that paint is drawn, so nothing scheduled after the paint can be counted), and `QT-CLASSES-AT-FIRST-PAINT [...]`: the
Qt classes PySide6 has made Python types for by then (it makes each, with its enums, on first use),
`DATACLASSES-AT-FIRST-PAINT {...}`: the app's dataclasses (desktop.lazy_dataclass) processed by then and those not, then
the app's own smoke-test line, and
when the app has quit, `MODULES-AT-EXIT [...]`: everything its start-up loaded. At the first paint it also writes
`FIRST-PAINT` to stderr, where `-X importtime` reports, so the imports before it can be told from those after.
It imports nothing the app would not load before its window anyway (`desktop.app` only): the app's own first-paint
watcher is patched when the app itself imports it, so the list, and the order of the imports, are the app's own.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from desktop.app import main

MARKER = "MODULES-AT-FIRST-PAINT "
QT_MARKER = "QT-CLASSES-AT-FIRST-PAINT "
QT_MODULES = ("PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets")
DATACLASS_MARKER = "DATACLASSES-AT-FIRST-PAINT "
EXIT_MARKER = "MODULES-AT-EXIT "
STDERR_MARKER = "FIRST-PAINT"
WATCHER_MODULE = "desktop.ui.first_paint"


class _AfterImport(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Runs `then(module)` right after one module has been executed, whoever imports it and whenever."""

    def __init__(self, name: str, then: Callable[[ModuleType], None]) -> None:
        self._name = name
        self._then = then
        self._loader: Any = None

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self._name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            self._loader = spec.loader
            spec.loader = self
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        created: ModuleType | None = self._loader.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._then(module)


def after_import(name: str, then: Callable[[ModuleType], None]) -> None:
    """Call `then(module)` once `name` has been imported (it must not be imported yet)."""
    assert name not in sys.modules, f"{name} is already imported"
    sys.meta_path.insert(0, _AfterImport(name, then))


def _dataclasses() -> dict[str, list[str]]:
    """The app's classes made with desktop.lazy_dataclass, split into those processed so far and those not."""
    from desktop.lazy_dataclass import deferred_classes

    split: dict[str, list[str]] = {"processed": [], "deferred": []}
    for cls in deferred_classes():
        done = isinstance(vars(cls).get("__dataclass_fields__"), dict)
        split["processed" if done else "deferred"].append(f"{cls.__module__}.{cls.__qualname__}")
    return split


def _patch_watcher(first_paint: ModuleType) -> None:
    """Print the modules loaded when the app's own first-paint watcher sees the window's first Paint event."""
    original = first_paint.FirstPaintWatcher.eventFilter
    printed: list[bool] = []

    def event_filter(self: Any, watched: Any, event: Any) -> bool:
        from PySide6.QtCore import QEvent

        if not printed and event.type() == QEvent.Type.Paint:
            printed.append(True)
            print(MARKER + json.dumps(sorted(sys.modules)), flush=True)
            made = {name for m in QT_MODULES if m in sys.modules for name in vars(sys.modules[m]) if name[:1] == "Q"}
            print(QT_MARKER + json.dumps(sorted(made)), flush=True)
            print(DATACLASS_MARKER + json.dumps(_dataclasses()), flush=True)
            print(STDERR_MARKER, file=sys.stderr, flush=True)
        return bool(original(self, watched, event))

    first_paint.FirstPaintWatcher.eventFilter = event_filter


if __name__ == "__main__":
    after_import(WATCHER_MODULE, _patch_watcher)
    code = main(sys.argv[1:])
    print(EXIT_MARKER + json.dumps(sorted(sys.modules)), flush=True)
    sys.exit(code)
