"""Run the benchmark suite and print every figure as a ratio against a baseline measured in the same run.

Usage: .venv/bin/python -m tests.benchmarks [--runs N] [--quick] [--only stream,startup,ui] [--write-results]
       [--installed PATH]
(or .venv/bin/python tests/benchmarks/run.py ...). Never part of the normal test run (pytest's norecursedirs).
`--only` also takes single UI cases: ui:stream, ui:open, ui:scroll, ui:ttft, ui:attach. To read the API key through
a real Secret Service, as users do, run it through `bash tests/benchmarks/with_keyring.sh` (same arguments).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `tests.benchmarks` and `desktop` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

try:
    from tests.benchmarks import startup, stream, ui
except ModuleNotFoundError as missing:  # stream.py's reference SDK comes with the test set-up, not run-demo.sh's
    if missing.name != "openai":
        raise
    sys.exit(
        "The benchmarks compare against the openai SDK, which the test set-up installs: "
        "run `bash packaging/dev/bootstrap.sh test` first."
    )
from tests.benchmarks._notes import BUNDLES, PROFILES, WHY
from tests.benchmarks._report import (
    BUDGET_ROWS,
    Figure,
    budget_markdown,
    budget_rows,
    budget_text,
    machine_info,
    markdown_table,
    text_table,
)

RESULTS = Path(__file__).with_name("RESULTS.md")
SECTIONS = ("stream", "startup", "ui")


def _sections(args: argparse.Namespace, ui_cases: tuple[str, ...]) -> dict[str, Callable[[], list[Figure]]]:
    runs, quick = args.runs, args.quick
    return {
        "stream": lambda: stream.run(sizes=(1_000, 5_000) if quick else (1_000, 20_000), runs=runs),
        # A start times itself from its process's start in /proc, which ticks every 10 ms: twice the starts (and an
        # odd number, which has a middle) keep that tick's noise out of the medians.
        "startup": lambda: startup.run(
            runs=2 * runs + 1, large=(200, 50) if quick else (1_000, 50), installed=args.installed
        ),
        "ui": lambda: ui.run(runs=runs, quick=quick, cases=ui_cases),
    }


def _load() -> str:
    """The 1-minute load average (other processes competing for the cores skew every absolute figure)."""
    return f"{os.getloadavg()[0]:.2f}"


def write_results(figures: list[Figure], failures: list[str], command: str, seconds: float, load: str) -> None:
    """Write RESULTS.md: the machine, the command, the table and any section that could not run."""
    lines = [
        "# Benchmark results",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}` in {seconds:.0f} s.",
        "Every figure is the median over the runs shown; every ratio is against a baseline measured in the same run.",
        "",
        "| machine | |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in machine_info().items()),
        f"| load average (1 min) at start / end | {load} / {_load()} |",
        "",
        "## Budgets",
        "",
        budget_markdown(figures),
        "",
        *_why_missed(figures),
        BUNDLES,
        "## Every figure",
        "",
        markdown_table(figures),
    ]
    if failures:
        lines += ["", "## Sections that did not run", "", *(f"- {failure}" for failure in failures)]
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _why_missed(figures: list[Figure]) -> list[str]:
    """A section saying, for every budget row not met, where the time goes (tests/benchmarks/_notes.py)."""
    rows = [(key, row) for (key, _, _), row in zip(BUDGET_ROWS, budget_rows(figures), strict=True) if row[-1] != "met"]
    if not rows:
        return []
    lines = ["## Why a budget is still missed", ""]
    for key, row in rows:
        lines += [f"- **{row[0]}** ({row[-1]}): {WHY.get(key, 'no note yet')}"]
    return [*lines, "", PROFILES, ""]


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the chosen sections, print the table; exit 1 if a budget is missed."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per figure; the median is quoted (default 5)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for checking the harness")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--write-results", action="store_true", help=f"write the table to {RESULTS.name}")
    parser.add_argument(
        "--installed",
        type=Path,
        default=startup.DEFAULT_INSTALLED,
        help=f"the installed app bundle to time against the source run (default {startup.DEFAULT_INSTALLED})",
    )
    args = parser.parse_args(argv)
    items = [s.strip() for s in args.only.split(",") if s.strip()]
    ui_cases = tuple(i.split(":", 1)[1] for i in items if i.startswith("ui:")) or ui.CASES
    chosen = list(dict.fromkeys(i.split(":", 1)[0] for i in items))
    unknown = sorted(set(chosen) - set(SECTIONS)) + sorted(set(ui_cases) - set(ui.CASES))
    if unknown or args.runs < 1:
        parser.error(f"unknown section(s) {', '.join(unknown)}" if unknown else "--runs must be at least 1")

    started, load = time.perf_counter(), _load()
    figures: list[Figure] = []
    failures: list[str] = []
    sections = _sections(args, ui_cases)
    for name in chosen:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            figures += sections[name]()
        except Exception as exc:  # a section that cannot run is reported, the others still run
            traceback.print_exc()
            failures.append(f"{name}: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    seconds = time.perf_counter() - started
    print(text_table(figures))
    for failure in failures:
        print(f"NOT RUN  {failure}")
    print("\nBudgets\n" + budget_text(figures))
    missed = [f for f in figures if f.ok is False]
    unmeasured = [row for row in budget_rows(figures) if row[-1] == "not measured"]
    print(
        f"\n{len(figures)} figures, {len(missed)} budget(s) missed, {len(unmeasured)} budget row(s) not measured, "
        f"{len(failures)} section(s) failed, {seconds:.0f} s"
    )
    if args.write_results:
        command = "python -m tests.benchmarks " + " ".join(argv if argv is not None else sys.argv[1:])
        write_results(figures, failures, command.strip(), seconds, load)
        print(f"wrote {RESULTS}")
    return 1 if missed or unmeasured or failures else 0


if __name__ == "__main__":
    sys.exit(main())
