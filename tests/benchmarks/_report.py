"""Figures, medians, budgets and the results table (plain text for the console, Markdown for RESULTS.md)."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata


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

    @property
    def ratio(self) -> float | None:
        """Value divided by baseline (None without a baseline)."""
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline


def median(values: Sequence[float]) -> float:
    """The median of several runs (the figure every table row quotes)."""
    return statistics.median(values)


def _number(value: float) -> str:
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _verdict(figure: Figure) -> str:
    if figure.ok is None:
        return ""
    return "met" if figure.ok else "MISSED"


def _cells(figure: Figure) -> list[str]:
    ratio = figure.ratio
    return [
        figure.section,
        figure.name,
        f"{_number(figure.value)} {figure.unit}",
        f"{_number(figure.baseline)} {figure.unit} ({figure.baseline_name})" if figure.baseline is not None else "",
        f"x{ratio:.2f}" if ratio is not None else "",
        str(figure.runs),
        figure.budget,
        _verdict(figure),
    ]


HEADERS = ["section", "figure", "median", "baseline (same run)", "ratio", "runs", "budget", "verdict"]


def text_table(figures: Sequence[Figure]) -> str:
    """An aligned plain-text table for the console."""
    rows = [HEADERS, *(_cells(f) for f in figures)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(figures: Sequence[Figure]) -> str:
    """A GitHub Markdown table (pipes in cells escaped)."""
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for figure in figures:
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in _cells(figure)) + " |")
    return "\n".join(lines)


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
    return info
