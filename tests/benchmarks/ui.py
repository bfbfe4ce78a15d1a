"""UI benchmarks in the real main window (offscreen): smoothness while streaming, opening a long conversation, and
the time to first token the app adds. Each case runs in a fresh app process (ui_child.py) against a simulator process
pacing the answer at 300 tokens/s, so neither the simulator's CPU nor an earlier case's memory is counted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from desktop.paths import AppPaths
from tests.benchmarks._history import write_history
from tests.benchmarks._report import Figure, median
from tests.benchmarks._simulator import SimulatorProcess

TOKENS_PER_SECOND = 300.0
FIRST_TOKEN_DELAY = 0.2
SMOOTHNESS_RUNS = 3  # a 4,000-token answer takes 13 s at 300 tokens/s: three runs keep the suite to minutes


CRASHES: list[str] = []  # app processes killed by a signal during a case (each case is retried once)


def _child(params: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run one case in a fresh app process and return its RESULT; a crash is recorded and retried once."""
    for attempt in (1, 2):
        try:
            return _child_once(params, timeout)
        except _CrashError as crash:
            CRASHES.append(f"{params['case']}: {crash}")
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


class _CrashError(RuntimeError):
    """The app process died from a signal (not a measurement failure)."""


def _child_once(params: dict[str, Any], timeout: float) -> dict[str, Any]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.ui_child", json.dumps(params)],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=Path(__file__).resolve().parents[2], check=False,
    )  # fmt: skip
    result: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            result = json.loads(line[len("RESULT ") :])
    if done.returncode < 0:
        fatal = next((ln for ln in done.stderr.splitlines() if ln.startswith("Fatal")), f"signal {-done.returncode}")
        raise _CrashError(fatal)
    if done.returncode != 0 or not result or "error" in result:
        tail = "\n".join(done.stderr.strip().splitlines()[-8:])
        raise RuntimeError(f"ui case {params['case']} failed: {result.get('error', '')}\n{tail}")
    return result


def _smoothness(base: dict[str, Any], tokens: int, runs: int) -> list[Figure]:
    result = _child({**base, "case": "smoothness", "tokens": tokens, "runs": runs, "idle_seconds": 2.0}, 900)
    measured = result["runs"]
    section = f"ui stream {tokens:,} tok"
    worst = median([r["max"] for r in measured])
    cpu, wall = median([r["cpu"] for r in measured]), median([r["wall"] for r in measured])
    return [
        Figure(section, "longest stall", worst, "ms", result["idle_max"], "idle window", len(measured),
               "<= 50 ms", worst <= 50),
        Figure(section, "p99 stall", median([r["p99"] for r in measured]), "ms", result["idle_p99"], "idle window",
               len(measured)),
        Figure(section, "app CPU while streaming", cpu, "s", wall, "wall time", len(measured)),
    ]  # fmt: skip


def _open(base: dict[str, Any], sizes: tuple[int, ...], runs: int) -> list[Figure]:
    profile = Path(base["profile"])
    history = AppPaths.under(profile).history_file
    conversations = {"2": write_history(history, 1, 2)}
    for size in sizes:
        conversations[str(size)] = write_history(history, 1, size)
    result = _child({**base, "case": "open", "conversations": conversations, "runs": runs}, 600)
    base_ms = median([r["ms"] for r in result["2"]])
    base_rss = median([r["rss_added"] for r in result["2"]])
    out = []
    for size in sizes:
        measured = result[str(size)]
        ms = median([r["ms"] for r in measured])
        budget = size >= 2_000
        out += [
            Figure(f"ui open {size:,} msgs", "first paint of its end", ms, "ms", base_ms, "2-msg conversation",
                   len(measured), "<= 300 ms" if budget else "", ms <= 300 if budget else None),
            Figure(f"ui open {size:,} msgs", "memory added by the first open", measured[0]["rss_added"], "MB",
                   base_rss, "2-msg conversation", 1),
        ]  # fmt: skip
    return out


def _first_token(base: dict[str, Any], runs: int) -> list[Figure]:
    result = _child({**base, "case": "first_token", "runs": runs}, 300)
    added = median(result["app_ms"])
    return [
        Figure("ui first token", "Send -> first delta painted, minus sim delay", added, "ms",
               median(result["client_ms"]), "bare client, same process", len(result["app_ms"]), "<= 30 ms",
               added <= 30),
    ]  # fmt: skip


def run(runs: int = 5, quick: bool = False) -> list[Figure]:
    """Run the three UI cases against one paced simulator process."""
    root = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    figures: list[Figure] = []
    try:
        with SimulatorProcess(tokens_per_second=TOKENS_PER_SECOND, first_token_delay=FIRST_TOKEN_DELAY) as sim:
            base = {"base_url": sim.base_url, "api_key": sim.api_key, "first_token_delay": FIRST_TOKEN_DELAY}
            for tokens in (300, 1_000) if quick else (1_000, 4_000):
                profile = root / f"stream{tokens}"
                figures += _smoothness({**base, "profile": str(profile)}, tokens, min(runs, SMOOTHNESS_RUNS))
            figures += _open({**base, "profile": str(root / "open")}, (200, 2_000), runs)
            figures += _first_token({**base, "profile": str(root / "ttft")}, runs)
    finally:
        for crash in CRASHES:
            print(f"app crashed: {crash}", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
    figures.append(Figure("ui", "app processes that crashed (case retried once)", len(CRASHES), "", runs=1,
                          budget="0", ok=not CRASHES))  # fmt: skip
    return figures
