"""A module imported on its first use rather than with its importer: asyncio waits until after the first paint.

The chat window's controller is built before the window is painted, but only runs asyncio code (turns, waits,
exports) afterwards; importing asyncio (and with it ssl, socket, subprocess) cost ~30 ms before the paint.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LaterModule:
    """Stands for the module `name`: the first attribute read imports it, every read is the module's own."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attribute)

    def __repr__(self) -> str:
        return f"<{self._name}, imported on first use>"
