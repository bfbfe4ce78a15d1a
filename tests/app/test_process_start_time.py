"""`--smoke-test` times the app from the interpreter's start, not from a launcher script's that exec'd it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = (
    "from desktop.app import _IMPORT_TIME, process_start_time; print(repr(process_start_time()), repr(_IMPORT_TIME))"
)

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


def _probe(*launcher: str) -> tuple[float, float, list[str]]:
    out = subprocess.run([*launcher], capture_output=True, text=True, check=True, timeout=60, cwd=REPO).stdout.split()
    return float(out[-2]), float(out[-1]), out[:-2]


def test_a_directly_started_interpreter_counts_from_its_process_start() -> None:
    started, imported, _ = _probe(sys.executable, "-c", PROBE)
    assert started != imported  # the /proc reading, which includes the interpreter's own start-up


def test_a_launcher_script_that_ran_commands_before_exec_is_not_counted() -> None:
    # The script runs a command (as run-demo.sh runs bootstrap.sh), prints the time, then becomes Python.
    script = f'/bin/true; date +%s.%N; exec "{sys.executable}" -c "{PROBE}"'
    started, imported, before = _probe("bash", "-c", script)
    assert started == imported
    assert started > float(before[-1])


def test_elsewhere_than_linux_the_import_time_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    # Under wine, /proc/self/stat opens Linux's real /proc, and Windows' Python has no os.sysconf.
    from desktop import app

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.delattr(os, "sysconf")
    assert app.process_start_time() == app._IMPORT_TIME
