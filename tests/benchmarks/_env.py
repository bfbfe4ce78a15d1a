"""The environment of every process the benchmarks start: offscreen, and with Python's bytecode cache switched on.

An installed app runs from compiled bytecode (pip compiles on install; a PyInstaller bundle carries it). A shell with
PYTHONDONTWRITEBYTECODE=1 would make every start compile the app's modules from source again (about 0.2 s here),
which no user pays. The cache goes to a directory of its own (PYTHONPYCACHEPREFIX), not into the source tree, and
each case's warm-up start fills it, the same way for the bare-window baseline and for the app.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PYCACHE = Path(tempfile.gettempdir()) / "azure-openai-chat-benchmark-pycache"


def child_env() -> dict[str, str]:
    """os.environ for a benchmark child: offscreen Qt, bytecode written to and read from PYCACHE."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPYCACHEPREFIX": str(PYCACHE)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env
