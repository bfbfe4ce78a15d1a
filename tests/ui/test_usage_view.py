"""The Usage window and the conversation's total in the real app (built by `desktop.app.compose`), on a seeded month
of answers: rows per day and model, a painted chart, costs only with prices and always called estimates."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor

from desktop.app import Composition
from desktop.auth import KeyStore
from desktop.config import Deployment
from desktop.paths import AppPaths
from desktop.services._usage import money_text
from desktop.simulator import Simulator
from desktop.ui.usage_view import UsageDialog
from tests.ui.test_main_window import WORK, build, finish_turn, save_profile
from tests.usage_seed import SeededAnswer, seed_history


@pytest.fixture
def seeded(tmp_path: Path, sim: Simulator, memory_keyring: Any, arun: Any) -> list[SeededAnswer]:
    paths = AppPaths.under(tmp_path)
    paths.ensure()
    save_profile(paths, sim)
    arun(KeyStore().aset(WORK, sim.api_key))
    return seed_history(paths.history_file, WORK)


@pytest.fixture
def app(seeded: list[SeededAnswer], qapp: Any, qtbot: Any, arun: Any, tmp_path: Path) -> Iterator[Composition]:
    built = build(qapp, qtbot, tmp_path)
    yield built
    arun(built.aclose())


def open_usage(app: Composition, qtbot: Any) -> UsageDialog:
    menu = next(a for a in app.window.menuBar().actions() if a.text() == "&View").menu()
    next(a for a in menu.actions() if a.text() == "Usage…").trigger()
    dialog = app.window.usage_dialog
    assert isinstance(dialog, UsageDialog)
    qtbot.waitExposed(dialog)
    return dialog


def table(dialog: UsageDialog) -> list[list[str]]:
    t = dialog.table
    return [[t.item(r, c).text() for c in range(t.columnCount())] for r in range(t.rowCount())]


def headers(dialog: UsageDialog) -> list[str]:
    t = dialog.table
    return [t.horizontalHeaderItem(c).text() for c in range(t.columnCount())]


def expected_rows(seeded: list[SeededAnswer]) -> list[list[str]]:
    groups: dict[tuple[date, str], list[SeededAnswer]] = {}
    for a in seeded:
        groups.setdefault((a.day, a.deployment), []).append(a)
    rows = []
    for (day, model), answers in groups.items():
        sums = [sum(getattr(a, f) for a in answers) for f in ("input_tokens", "cached_tokens", "output_tokens")]
        reasoning, total = sum(a.reasoning_tokens for a in answers), sum(a.total for a in answers)
        numbers = [len(answers), *sums, reasoning, total]
        rows.append((day, total, [day.isoformat(), model, *(f"{n:,}" for n in numbers)]))
    return [row for _, _, row in sorted(rows, key=lambda r: (r[0], r[1]), reverse=True)]


def test_usage_view_lists_tokens_per_day_and_model_without_money_when_no_prices(
    app: Composition, seeded: list[SeededAnswer], qtbot: Any
) -> None:
    dialog = open_usage(app, qtbot)
    assert table(dialog) == expected_rows(seeded)
    assert headers(dialog) == ["Day", "Model", "Answers", "Input", "Cached", "Output", "Reasoning", "Total"]
    total = sum(a.total for a in seeded)
    assert dialog.totals_label.text() == f"Last 30 days: {total:,} tokens in {len(seeded)} answers"
    assert not dialog.cost_label.isVisible()
    shown = " ".join([dialog.totals_label.text(), dialog.note_label.text(), *(c for r in table(dialog) for c in r)])
    assert "USD" not in shown and "cost" not in dialog.cost_label.text().lower()
    assert "enter each model's prices per million tokens in Settings" in dialog.note_label.text()


def _background(dialog: UsageDialog) -> QColor:
    return dialog.chart.palette().color(dialog.chart.backgroundRole())


def test_usage_chart_paints_a_bar_for_each_day_with_answers(
    app: Composition, seeded: list[SeededAnswer], qtbot: Any
) -> None:
    dialog = open_usage(app, qtbot)
    chart = dialog.chart
    image = chart.grab().toImage()
    ratio = image.devicePixelRatio()
    days = dialog.summary.days
    busiest = max(range(len(days)), key=lambda i: sum(a.total for a in seeded if a.day == days[i]))
    bar = chart.bar_rect(busiest)
    # Just above the axis, in the middle of the busiest day's bar: the colour of the model with most tokens.
    x, y = int(bar.center().x() * ratio), int((bar.bottom() - 3) * ratio)
    assert image.pixelColor(x, y).name() == chart.color_of("gpt-4.1").name()
    # Between two bars there is no paint of any model.
    gap_x = int((bar.right() + chart.bar_rect(busiest + 1).left()) / 2 * ratio) if busiest + 1 < len(days) else 0
    if gap_x:
        colours = {chart.color_of(m).name() for m in dialog.summary.models}
        assert image.pixelColor(gap_x, y).name() not in colours
    # Every bar of the top model is painted where the seed has answers of it (the bottom segment is the biggest one).
    painted = [
        image.pixelColor(int(chart.bar_rect(i).center().x() * ratio), y).name() != _background(dialog).name()
        for i in range(len(days))
    ]
    assert painted == [any(a.day == d for a in seeded) for d in days]


def test_usage_view_shows_estimated_costs_once_prices_are_set(
    app: Composition, seeded: list[SeededAnswer], qtbot: Any
) -> None:
    configuration = app.configuration
    profile = configuration.settings.profile(WORK)
    assert profile is not None
    priced = Deployment("gpt-4.1", "gpt-4.1", "2025-04-14", "responses", input_price=2.0, output_price=8.0)
    configuration.put_profile(replace(profile, deployments=(priced, *profile.deployments[1:])))
    dialog = open_usage(app, qtbot)
    assert headers(dialog)[-1] == "Estimated cost"
    assert dialog.cost_label.isVisible()
    assert dialog.cost_label.text().startswith("Estimated cost this month: about USD ")
    assert "estimates" in dialog.note_label.text() and "Azure's invoice is what counts" in dialog.note_label.text()
    unpriced = sum(1 for a in seeded if a.deployment != "gpt-4.1")
    assert f"{unpriced} answers from models without a price are not in the costs." in dialog.note_label.text()
    rows = table(dialog)
    for row in rows:
        if row[1] == "gpt-4.1":
            day = [a for a in seeded if a.day.isoformat() == row[0] and a.deployment == "gpt-4.1"]
            cost = sum(a.input_tokens * 2.0 + a.output_tokens * 8.0 for a in day) / 1e6
            assert row[-1] == money_text({"USD": cost}, decimals=4)  # some day costs less than a cent
        else:
            assert row[-1] == "no price"


def test_conversation_header_shows_its_tokens_and_updates_after_an_answer(
    app: Composition, seeded: list[SeededAnswer], arun: Any
) -> None:
    window = app.window
    conv = app.store.list_conversations(limit=1)[0]  # today's
    window.open_conversation(conv.id)
    today = [a for a in seeded if a.day == seeded[-1].day]
    assert window.usage_label.text() == f"{sum(a.total for a in today):,} tokens"
    assert window.usage_label.toolTip().startswith("Input ")
    assert "USD" not in window.usage_label.text()
    before = sum(a.total for a in today)
    finish_turn(window, arun, lambda: window.send("One more question"))
    answer = app.store.load_messages(conv.id)[-1]
    assert answer.usage is not None and answer.usage.total_tokens
    after = before + (answer.usage.input_tokens or 0) + (answer.usage.output_tokens or 0)
    assert window.usage_label.text() == f"{after:,} tokens"
    details = window.controller.details(answer.id)
    assert "Not stored by Azure" in details and "Estimated cost" not in details
