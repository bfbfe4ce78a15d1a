"""Import-time budget: before the main window's first paint, nothing is imported that the first frame does not need.

The app is run as `python -X importtime` in a subprocess (offscreen, a temporary profile) through a small driver that
records `sys.modules` when the window first paints; the import-time report names what each late module costs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.app._first_paint_modules import EXIT_MARKER, MARKER

ROOT = Path(__file__).resolve().parents[2]

# Packages (and every module below them) that must wait until after the first paint.
NOT_BEFORE_FIRST_PAINT = (
    "desktop.client",
    "desktop.auth",
    "desktop.simulator",
    "desktop.ui.settings_dialog",
    "desktop.ui.first_run",
    "desktop.ui.sign_in",
    "desktop.ui.about_dialog",
    "desktop.ui.usage_view",
    "desktop.services._usage",
    "httpx",
    "keyring",
    "azure",
    "msal",
    "pygments",
    "aiohttp",
)
# The document libraries load when a file is attached (desktop/services/_documents.py), never at start-up.
DOCUMENT_LIBRARIES = ("pypdf", "docx", "openpyxl", "pptx", "lxml", "PIL", "xlsxwriter", "et_xmlfile")
_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|\s*(\S+)\s*$")


def _run_to_first_paint(profile: Path) -> tuple[list[str], list[str], dict[str, int]]:
    """Run the app once to its first paint: (stdout lines, modules at first paint, cumulative import µs by module)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONIMPORTTIME", None)
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tests.app._first_paint_modules",
         "--profile-dir", str(profile), "--smoke-test"],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    modules = next((json.loads(line[len(MARKER) :]) for line in lines if line.startswith(MARKER)), None)
    assert modules is not None, f"the driver saw no paint of the main window: {out.stdout!r}"
    cumulative: dict[str, int] = {}
    for line in out.stderr.splitlines():
        if match := _IMPORTTIME.match(line):
            cumulative.setdefault(match.group(3), int(match.group(2)))
    return lines, modules, cumulative


def _late(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in NOT_BEFORE_FIRST_PAINT)]


@pytest.fixture(scope="module")
def first_paint(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[str], dict[str, int]]:
    return _run_to_first_paint(tmp_path_factory.mktemp("profile"))


@pytest.mark.slow
def test_the_driver_snapshots_the_first_paint_of_the_real_app(
    first_paint: tuple[list[str], list[str], dict[str, int]],
) -> None:
    lines, modules, cumulative = first_paint
    # The snapshot comes before the app's own first-paint line, so it is the first paint, not a later one.
    marker = next(i for i, line in enumerate(lines) if line.startswith(MARKER))
    painted = next(i for i, line in enumerate(lines) if line.startswith("first paint after "))
    assert marker < painted
    assert {"desktop.app", "PySide6.QtWidgets", "desktop.ui.main_window"} <= set(modules)
    assert _late(["httpx", "httpx._client", "desktop.clients", "desktop.auth._keys"]) == [
        "httpx",
        "httpx._client",
        "desktop.auth._keys",
    ]
    assert cumulative["desktop.app"] > 0


@pytest.mark.slow
def test_nothing_heavy_is_imported_before_the_first_paint(
    first_paint: tuple[list[str], list[str], dict[str, int]],
) -> None:
    _, modules, cumulative = first_paint
    late = _late(modules)
    # Name the top of each late package with what its import cost, heaviest first.
    tops = sorted({m for m in late if m.rpartition(".")[0] not in late}, key=lambda m: -cumulative.get(m, 0))
    assert not late, "imported before the first paint: " + ", ".join(
        f"{m} ({cumulative.get(m, 0) / 1000:.0f} ms)" for m in tops
    )


@pytest.mark.slow
def test_no_document_library_is_imported_by_a_whole_start_up(
    first_paint: tuple[list[str], list[str], dict[str, int]],
) -> None:
    lines, _, _ = first_paint
    at_exit = next((json.loads(line[len(EXIT_MARKER) :]) for line in lines if line.startswith(EXIT_MARKER)), None)
    assert at_exit is not None, "the driver printed no modules when the app quit"
    assert "desktop.services._chat" in at_exit  # the run went past the first paint to the chat's services
    loaded = [m for m in at_exit if any(m == p or m.startswith(p + ".") for p in DOCUMENT_LIBRARIES)]
    assert not loaded, "document libraries imported without any attachment: " + ", ".join(loaded[:10])
