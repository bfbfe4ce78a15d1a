"""The Usage window: tokens per day and model over the last 30 days, as a bar chart and a table, with estimated costs
when prices are set.

The chart is painted with QPainter: QtCharts is not part of PySide6-Essentials, and a bar chart needs no more.
Loaded only when the window opens (from the menu), never before the main window's first paint.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.services import UsageService, UsageSummary

DAYS = 30
# Distinct, colour-blind-friendly hues (Okabe-Ito); models beyond these share the last, "other" grey.
MODEL_COLORS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C8C8C")


def _tr(text: str) -> str:
    return QCoreApplication.translate("UsageView", text)


def _short(count: int) -> str:
    """'950', '12.3k', '4.1M': for axis labels."""
    for size, unit in ((1_000_000, "M"), (1_000, "k")):
        if count >= size:
            return f"{count / size:.1f}".removesuffix(".0") + unit
    return str(count)


def _nice_ceiling(value: int) -> int:
    """The next round number at or above `value` (1, 2, 5 × 10^n), so the axis reads well."""
    if value <= 0:
        return 1
    step = 1
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= value:
            return step * factor
    return step * 10


class UsageChart(QWidget):
    """Stacked bars: one per day, one colour per model, with the largest day on the axis and a legend."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._summary: UsageSummary | None = None
        self.setMinimumHeight(220)
        self.setAccessibleName(_tr("Tokens per day, by model"))

    def sizeHint(self) -> QSize:
        """Wide and not too tall."""
        return QSize(720, 260)

    def set_summary(self, summary: UsageSummary) -> None:
        """Show these days and models."""
        self._summary = summary
        totals = {m: sum(summary.per_day.get((d, m), 0) for d in summary.days) for m in summary.models}
        self.setToolTip("\n".join(f"{model}: {count:,} tokens" for model, count in totals.items()))
        self.update()

    def color_of(self, model: str) -> QColor:
        """The colour of a model's bars and legend entry."""
        models = self._summary.models if self._summary else ()
        index = models.index(model) if model in models else len(MODEL_COLORS) - 1
        return QColor(MODEL_COLORS[min(index, len(MODEL_COLORS) - 1)])

    def bar_rect(self, day_index: int) -> QRectF:
        """Where the bar of the `day_index`th day (oldest first) stands at full height: the plot column of that day."""
        plot = self._plot_area()
        days = len(self._summary.days) if self._summary else DAYS
        width = plot.width() / max(1, days)
        return QRectF(plot.left() + day_index * width + width * 0.15, plot.top(), width * 0.7, plot.height())

    def _plot_area(self) -> QRectF:
        metrics = self.fontMetrics()
        left = metrics.horizontalAdvance("000.0k") + 12
        top = metrics.height() * 2 + 8  # the legend's line and a gap
        bottom = metrics.height() + 8  # the date labels
        return QRectF(left, top, max(10.0, self.width() - left - 12), max(10.0, self.height() - top - bottom))

    def paintEvent(self, event: QPaintEvent) -> None:
        """Axis, bars, date labels and legend."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        muted = QColor(text)
        muted.setAlphaF(0.55)
        grid = QColor(text)
        grid.setAlphaF(0.15)
        summary = self._summary
        plot = self._plot_area()
        metrics = self.fontMetrics()
        if summary is None or not summary.per_day:
            painter.setPen(muted)
            painter.drawText(QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter, _tr("No answers in the last 30 days."))
            return
        totals = [sum(summary.per_day.get((day, m), 0) for m in summary.models) for day in summary.days]
        top = _nice_ceiling(max(totals))
        # Grid lines at 0, half and the top, labelled on the left.
        for fraction in (0.0, 0.5, 1.0):
            y = plot.bottom() - fraction * plot.height()
            painter.setPen(grid)
            painter.drawLine(int(plot.left()), int(y), int(plot.right()), int(y))
            painter.setPen(muted)
            box = QRectF(0, y - metrics.height() / 2, plot.left() - 6, metrics.height())
            align = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
            painter.drawText(box, align, _short(int(top * fraction)))
        painter.setPen(Qt.PenStyle.NoPen)
        for index, day in enumerate(summary.days):
            column = self.bar_rect(index)
            y = plot.bottom()
            for model in summary.models:  # the model with most tokens at the bottom of each bar
                value = summary.per_day.get((day, model), 0)
                if not value:
                    continue
                height = max(1.0, value / top * plot.height())
                painter.setBrush(self.color_of(model))
                painter.drawRect(QRectF(column.left(), y - height, column.width(), height))
                y -= height
        # Dates: today and every seventh day before it (the same weekday), so labels never crowd.
        painter.setPen(muted)
        last = len(summary.days) - 1
        for index, day in enumerate(summary.days):
            if (last - index) % 7:
                continue
            column = self.bar_rect(index)
            label = day.strftime("%d %b").lstrip("0")
            width = metrics.horizontalAdvance(label) + 4
            x = min(max(0.0, column.center().x() - width / 2), self.width() - width)
            painter.drawText(QRectF(x, plot.bottom() + 4, width, metrics.height()), Qt.AlignmentFlag.AlignCenter, label)
        # Legend: a swatch and the model's name, in a row above the plot.
        x = plot.left()
        shown = summary.models[: len(MODEL_COLORS) - 1]
        others = summary.models[len(MODEL_COLORS) - 1 :]
        entries = [*shown, *([_tr("Other models")] if others else [])]
        for model in entries:
            swatch = metrics.height() * 0.7
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.color_of(model) if model in shown else QColor(MODEL_COLORS[-1]))
            painter.drawRect(QRectF(x, 4 + (metrics.height() - swatch) / 2, swatch, swatch))
            painter.setPen(text)
            width = metrics.horizontalAdvance(model) + 4
            painter.drawText(QRectF(x + swatch + 4, 4, width, metrics.height()), Qt.AlignmentFlag.AlignVCenter, model)
            x += swatch + width + 18


class UsageDialog(QDialog):
    """The Usage window (opened from View ▸ Usage)."""

    def __init__(self, usage: UsageService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._usage = usage
        self.setWindowTitle(_tr("Usage"))
        self.setObjectName("usageDialog")
        self.resize(820, 640)
        self.totals_label = QLabel(self)
        self.totals_label.setWordWrap(True)
        self.totals_label.setAccessibleName(_tr("Totals"))
        font = QFont(self.totals_label.font())
        font.setBold(True)
        self.totals_label.setFont(font)
        self.cost_label = QLabel(self)
        self.cost_label.setWordWrap(True)
        self.cost_label.setAccessibleName(_tr("Estimated cost"))
        self.note_label = QLabel(self)
        self.note_label.setWordWrap(True)
        self.note_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.chart = UsageChart(self)
        self.table = QTableWidget(self)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.setAccessibleName(_tr("Tokens per day and model"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.totals_label)
        layout.addWidget(self.cost_label)
        layout.addWidget(self.chart, 2)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.note_label)
        layout.addWidget(buttons)
        self.refresh()
        self.close_button.setFocus()

    def refresh(self) -> None:
        """Read the usage again and show it."""
        summary = self._usage.summary(DAYS)
        self.summary = summary
        total = summary.total
        self.totals_label.setText(
            _tr("Last 30 days: {tokens} tokens in {answers} answers").format(
                tokens=f"{total.total:,}", answers=f"{summary.answers:,}"
            )
        )
        if summary.priced:
            self.cost_label.setText(
                _tr("Estimated cost this month: {month} · last 30 days: {period}").format(
                    month=summary.month_cost or _tr("nothing yet"), period=summary.period_cost or _tr("nothing yet")
                )
            )
            note = _tr(
                "Costs are estimates from the prices per million tokens set in Settings (or by your organisation); "
                "Azure's invoice is what counts."
            )
            if summary.unpriced_answers:
                note += " " + _tr("{count} answers from models without a price are not in the costs.").format(
                    count=summary.unpriced_answers
                )
        else:
            self.cost_label.setText("")
            note = _tr("To see estimated costs, enter each model's prices per million tokens in Settings.")
        self.cost_label.setVisible(summary.priced)
        self.note_label.setText(
            note
            + " "
            + _tr("Counts every answer received on this computer, also in deleted conversations and replaced answers.")
        )
        self.chart.set_summary(summary)
        self._fill_table(summary)

    def _fill_table(self, summary: UsageSummary) -> None:
        headers = [_tr("Day"), _tr("Model"), _tr("Answers"), _tr("Input"), _tr("Cached"), _tr("Output")]
        headers += [_tr("Reasoning"), _tr("Total")]
        if summary.priced:
            headers.append(_tr("Estimated cost"))
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setRowCount(len(summary.rows))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, line in enumerate(summary.rows):
            tokens = line.tokens
            numbers = (line.answers, tokens.input, tokens.cached, tokens.output, tokens.reasoning, tokens.total)
            cells = [line.day.isoformat(), line.model, *(f"{n:,}" for n in numbers)]
            if summary.priced:
                cells.append(line.cost or _tr("no price"))
            for column, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if column >= 2:
                    item.setTextAlignment(right)
                if column == 1:  # the model's colour in the chart, as a small square before its name
                    item.setData(Qt.ItemDataRole.DecorationRole, self.chart.color_of(line.model))
                self.table.setItem(row, column, item)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
