"""UI benchmarks in the real main window (offscreen): smoothness and CPU while streaming, opening and scrolling a long
conversation, and the time to first token the app adds. Each case runs in a fresh app process (ui_child.py) against a
simulator process pacing the answer at 300 tokens/s, so neither the simulator's CPU nor an earlier case's memory is
counted.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from desktop.paths import AppPaths
from tests.benchmarks._env import child_env
from tests.benchmarks._history import write_history
from tests.benchmarks._report import Figure, median, p99
from tests.benchmarks._simulator import SimulatorProcess
from tests.documents import make_pdf

TOKENS_PER_SECOND = 300.0
FIRST_TOKEN_DELAY = 0.2
SMOOTHNESS_RUNS = 3  # a 16,000-token answer takes 53 s at 300 tokens/s: three runs keep the suite to minutes
SCROLL_RUNS = 2  # fresh processes scrolling the long conversation (each one memory figure)


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
    env = child_env()
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


def _smoothness(base: dict[str, Any], sizes: tuple[int, ...], runs: int) -> list[Figure]:
    """Stalls and CPU while answers of each size stream, each size in its own fresh app process."""
    out: list[Figure] = []
    cpu_per_1k: dict[int, float] = {}
    judged = sizes[len(sizes) // 2]  # the 4,000 tokens (the middle size)
    for tokens in sizes:
        params = {**base, "profile": f"{base['profile']}{tokens}"}
        result = _child({**params, "case": "smoothness", "tokens": tokens, "runs": runs, "idle_seconds": 2.0}, 1800)
        measured = result["runs"]
        section = f"ui stream {tokens:,} tok"
        worst = median([r["max"] for r in measured])
        late = median([r["p99"] for r in measured])
        cpu, wall = median([r["cpu"] for r in measured]), median([r["wall"] for r in measured])
        cpu_per_1k[tokens] = median([r["cpu"] * 1000 / tokens for r in measured])
        share = cpu <= 0.15 * wall
        longest = tokens >= judged
        out += [
            Figure(section, "app CPU while streaming (ratio: share of wall)", cpu, "s", wall, "wall time",
                   len(measured), "<= x0.15" if tokens == judged else "", share if tokens == judged else None,
                   "stream_cpu" if tokens == judged else ""),
            Figure(section, "p99 stall", late, "ms", result["idle_p99"], "idle window", len(measured),
                   "<= 17 ms" if tokens == judged else "", late <= 17 if tokens == judged else None,
                   "stream_p99" if tokens == judged else ""),
            Figure(section, "longest stall", worst, "ms", result["idle_max"], "idle window", len(measured),
                   "<= 33 ms" if longest else "", worst <= 33 if longest else None,
                   "stream_longest" if longest else ""),
            Figure(section, "app CPU per 1,000 tokens", cpu_per_1k[tokens], "s", runs=len(measured)),
        ]  # fmt: skip
    small, large = sizes[0], sizes[-1]
    out.append(
        Figure("ui stream growth", f"app CPU per 1,000 tokens at {large:,}", cpu_per_1k[large], "s",
               cpu_per_1k[small], f"at {small:,}", runs, "<= x1.2", cpu_per_1k[large] <= 1.2 * cpu_per_1k[small],
               "stream_growth")
    )  # fmt: skip
    return out


def _open(base: dict[str, Any], sizes: tuple[int, ...], runs: int) -> list[Figure]:
    """Open each conversation (warm) and time the first paint of its end, against a 2-message conversation."""
    history = AppPaths.under(Path(base["profile"])).history_file
    conversations = {"2": write_history(history, 1, 2)}
    for size in sizes:
        conversations[str(size)] = write_history(history, 1, size)
    result = _child({**base, "case": "open", "conversations": conversations, "runs": runs}, 600)
    base_ms = median(result["2"])
    return [
        Figure(f"ui open {size:,} msgs", "first paint of its end", median(result[str(size)]), "ms", base_ms,
               "2-msg conversation", len(result[str(size)]))
        for size in sizes
    ]  # fmt: skip


def _scroll(base: dict[str, Any], size: int, runs: int) -> list[Figure]:
    """Open a `size`-message conversation and Page Up to its top, in fresh processes; memory against 2 messages."""
    results: dict[int, list[dict[str, Any]]] = {}
    for messages, processes in ((2, 1), (size, runs)):
        profile = Path(f"{base['profile']}{messages}")
        conversation = write_history(AppPaths.under(profile).history_file, 1, messages)
        for _ in range(processes):  # one fresh process per figure: memory is never left over from another run
            params = {**base, "profile": str(profile), "case": "scroll", "conversation": conversation}
            results.setdefault(messages, []).append(_child(params, 900))
    measured = results[size]
    loaded = min(r["loaded"] for r in measured)
    if loaded != size:
        raise RuntimeError(f"scrolling to the top loaded {loaded} of {size} messages")
    section = f"ui scroll {size:,} msgs"
    worst = median([max(r["frames"]) for r in measured])
    added = median([r["rss_added"] for r in measured])
    n = len(measured)
    return [
        Figure(section, "longest frame, end to top (loading)", worst, "ms",
               median([max(r["warm_frames"]) for r in measured]), "longest frame, same scroll warm", n,
               "<= 33 ms", worst <= 33, "scroll"),
        Figure(section, "p99 frame, end to top (loading)", median([p99(r["frames"]) for r in measured]), "ms",
               median([p99(r["warm_frames"]) for r in measured]), "p99 frame, same scroll warm", n),
        Figure(section, "frames (Page Up) end to top", median([len(r["frames"]) for r in measured]), "", runs=n),
        Figure(section, "open + scroll to top, total", median([r["total_ms"] for r in measured]), "ms", runs=n),
        Figure(section, "memory added by loading all of it", added, "MB", results[2][0]["rss_added"],
               "2-msg conversation", n, "<= 50 MB", added <= 50, "scroll"),
    ]  # fmt: skip


def _first_token(base: dict[str, Any], sidebar: int, runs: int) -> list[Figure]:
    """Send -> first delta painted with `sidebar` conversations in history, against our bare client's first delta."""
    write_history(AppPaths.under(Path(base["profile"])).history_file, sidebar, 2)
    result = _child({**base, "case": "first_token", "runs": runs}, 300)
    added = median(result["app_ms"])
    return [
        Figure(f"ui first token, {sidebar:,}-conv sidebar, keyring: {result['keyring']}",
               "Send -> first delta painted, minus sim delay", added, "ms", median(result["client_ms"]),
               "bare client, same process", len(result["app_ms"]), "<= 30 ms", added <= 30, "ttft"),
    ]  # fmt: skip


def _attach(base: dict[str, Any], pages: int, runs: int) -> list[Figure]:
    """Attach a PDF of `pages` full pages in the composer; the event loop's stalls while it is read, against idling."""
    pdf = Path(base["profile"]) / f"{pages}-pages.pdf"
    pdf.parent.mkdir(parents=True, exist_ok=True)
    line = "Quarterly figures by region and product line, with notes on costs and the outlook for next year."
    pdf.write_bytes(make_pdf(["\n".join(f"{n}. {line}" for n in range(48))] * pages))
    result = _child({**base, "case": "attach", "pdf": str(pdf), "runs": runs, "idle_seconds": 1.0}, 600)
    measured = result["runs"]
    section = f"ui attach {pages}-page PDF"
    worst = median([r["max"] for r in measured])
    return [
        Figure(section, "longest stall while it is read", worst, "ms", result["idle_max"], "idle window",
               len(measured), "<= 50 ms", worst <= 50, "attach"),
        Figure(section, "p99 stall while it is read", median([r["p99"] for r in measured]), "ms",
               result["idle_p99"], "idle window", len(measured)),
        Figure(section, "attach -> read (worker thread)", median([r["wall"] for r in measured]) * 1000, "ms",
               runs=len(measured)),
    ]  # fmt: skip


CASES = ("stream", "open", "scroll", "ttft", "attach")


def run(runs: int = 5, quick: bool = False, cases: tuple[str, ...] = CASES) -> list[Figure]:
    """Run the UI cases against one paced simulator process, each in fresh app processes."""
    root = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    figures: list[Figure] = []
    try:
        with SimulatorProcess(tokens_per_second=TOKENS_PER_SECOND, first_token_delay=FIRST_TOKEN_DELAY) as sim:
            base = {"base_url": sim.base_url, "api_key": sim.api_key, "first_token_delay": FIRST_TOKEN_DELAY}
            if "stream" in cases:
                sizes = (250, 500, 1_000) if quick else (1_000, 4_000, 16_000)
                figures += _smoothness({**base, "profile": str(root / "stream")}, sizes, min(runs, SMOOTHNESS_RUNS))
            if "open" in cases:
                figures += _open({**base, "profile": str(root / "open")}, (200, 2_000), runs)
            if "scroll" in cases:
                figures += _scroll({**base, "profile": str(root / "scroll")}, 400 if quick else 2_000,
                                   min(runs, SCROLL_RUNS))  # fmt: skip
            if "attach" in cases:
                figures += _attach({**base, "profile": str(root / "attach")}, 50, runs)
            if "ttft" in cases:
                figures += _first_token({**base, "profile": str(root / "ttft")}, 100 if quick else 1_000, runs)
    finally:
        for crash in CRASHES:
            print(f"app crashed: {crash}", file=sys.stderr)
        shutil.rmtree(root, ignore_errors=True)
    figures.append(Figure("ui", "app processes that crashed (case retried once)", len(CRASHES), "", runs=1,
                          budget="0", ok=not CRASHES))  # fmt: skip
    return figures
