"""Figures, medians, budgets and the results table (plain text for the console, Markdown for RESULTS.md)."""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

# The budget table the suite is judged by: (key, what is measured, the budget). Every row is printed with a verdict,
# "not measured" when no figure of this run carries its key (a section skipped, failed, or a build not installed).
BUDGET_ROWS = (
    ("startup_paint", "first paint, 1,000 conv / 50,000 msgs, vs bare window", "<= x1.5"),
    ("startup_rss", "RSS at first paint vs bare window", "<= x1.5"),
    ("deb_paint", "installed .deb first paint vs source run", "no worse than the source run"),
    ("stream_cpu", "app CPU while a 4,000-token answer streams at 300 tok/s, share of wall", "<= 0.15"),
    ("stream_p99", "p99 stall while streaming 4,000 tokens", "<= 17 ms (one frame)"),
    ("stream_longest", "longest stall while streaming 4,000 and 16,000 tokens", "<= 33 ms"),
    ("stream_growth", "CPU per 1,000 tokens at 16,000 vs at 1,000", "<= x1.2 (constant)"),
    ("ttft", "time to first token added by the app, production path, 1,000-conversation sidebar", "<= 30 ms"),
    ("scroll", "scroll a 2,000-message conversation from end to top", "every frame <= 33 ms; memory added <= 50 MB"),
    ("attach", "longest stall while a 50-page PDF is attached and read", "<= 50 ms"),
)


@dataclass(frozen=True)
class Figure:
    """One measured figure: the median over runs, its baseline from the same run, and the budget on the ratio."""

    section: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    runs: int = 1
    budget: str = ""
    ok: bool | None = None
    budget_row: str = ""  # the key of the BUDGET_ROWS row this figure is judged under
    note: str = ""  # why a budgeted figure could not be measured (then value is 0 and ok None)

    @property
    def ratio(self) -> float | None:
        """Value divided by baseline (None without a baseline)."""
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline


def median(values: Sequence[float]) -> float:
    """The median of several runs (the figure every table row quotes)."""
    return statistics.median(values)


def p99(values: Sequence[float]) -> float:
    """The 99th percentile (0 for no values)."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _verdict(figure: Figure) -> str:
    if figure.note:
        return "not measured"
    if figure.ok is None:
        return ""
    return "met" if figure.ok else "MISSED"


def _cells(figure: Figure, notes: bool = True) -> list[str]:
    ratio = figure.ratio
    if figure.note:
        shown = figure.note if notes else "(see below)"
        return [figure.section, figure.name, shown, "", "", "", figure.budget, _verdict(figure)]
    return [
        figure.section,
        figure.name,
        f"{_number(figure.value)} {figure.unit}".strip(),
        f"{_number(figure.baseline)} {figure.unit} ({figure.baseline_name})" if figure.baseline is not None else "",
        f"x{ratio:.2f}" if ratio is not None else "",
        str(figure.runs),
        figure.budget,
        _verdict(figure),
    ]


HEADERS = ["section", "figure", "median", "baseline (same run)", "ratio", "runs", "budget", "verdict"]


def text_table(figures: Sequence[Figure]) -> str:
    """An aligned plain-text table for the console."""
    rows = [HEADERS, *(_cells(f, notes=False) for f in figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += [f"not measured: {f.section}, {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines)


def markdown_table(figures: Sequence[Figure]) -> str:
    """A GitHub Markdown table (pipes in cells escaped)."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for figure in figures:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in _cells(figure)) + " |")
    return "\n".join(lines)


def _row_cells(key: str, what: str, budget: str, figures: Sequence[Figure]) -> list[str]:
    judged = [f for f in figures if f.budget_row == key]
    measured = [f for f in judged if not f.note]
    shown = []
    for f in measured:
        ratio = f" = x{f.ratio:.2f}" if f.ratio is not None else ""
        against = f" vs {_number(f.baseline)} {f.unit} ({f.baseline_name})" if f.baseline is not None else ""
        shown.append(f"{f.section}, {f.name}: {_number(f.value)} {f.unit}{against}{ratio}".replace("  ", " "))
    shown += [f"{f.section}, {f.name}: {f.note}" for f in judged if f.note]
    if not measured:
        verdict = "not measured"
    elif any(f.ok is False for f in measured):
        verdict = "MISSED"
    else:
        verdict = "met" if len(measured) == len(judged) else "not measured"
    return [what, budget, "; ".join(shown) or "no figure in this run", verdict]


BUDGET_HEADERS = ["budget row", "budget", "measured (median; baseline from the same run)", "verdict"]


def budget_rows(figures: Sequence[Figure]) -> list[list[str]]:
    """Every row of the budget table with its figures and one verdict: met, MISSED or not measured."""
    return [_row_cells(key, what, budget, figures) for key, what, budget in BUDGET_ROWS]


def budget_text(figures: Sequence[Figure]) -> str:
    """The budget table as plain text, one block per row (the figures are too wide for columns)."""
    lines = []
    for what, budget, shown, verdict in budget_rows(figures):
        lines.append(f"{verdict.upper() if verdict != 'met' else verdict:<13} {what} (budget {budget})")
        lines += [f"{'':<14}{part}" for part in shown.split("; ")]
    return "\n".join(lines)


def budget_markdown(figures: Sequence[Figure]) -> str:
    """The budget table in Markdown."""
    lines = ["| " + " | ".join(BUDGET_HEADERS) + " |", "|" + "---|" * len(BUDGET_HEADERS)]
    for row in budget_rows(figures):
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("; ", "<br>") for c in row) + " |")
    return "\n".join(lines)


def openai_pin() -> str:
    """The `openai` requirement pinned in pyproject.toml's test extra ('' if it is not pinned there)."""
    try:
        with PYPROJECT.open("rb") as f:
            test_extra = tomllib.load(f)["project"]["optional-dependencies"]["test"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return ""
    return next((r for r in test_extra if re.match(r"openai\b", r)), "")


def machine_info() -> dict[str, str]:
    """Where the figures were measured: cores, CPU model, OS, Python and library versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    info = {
        "cores (nproc)": str(os.cpu_count()),
        "CPU": cpu,
        "OS": platform.platform(),
        "Python": sys.version.split()[0],
    }
    for package in ("PySide6-Essentials", "qasync", "httpx", "openai"):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            info[package] = "not installed"
    pin = openai_pin()
    info["openai"] += f" (pyproject.toml pins {pin})" if pin else " (not pinned in pyproject.toml)"
    return info
