"""Attached documents in the composer: a chip per file (name, size, how it is sent, remove ✕), the paperclip icon,
and a reader that converts files in a worker thread so the window never waits for a long PDF."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QPointF, QRectF, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QIcon, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from desktop.lazy_dataclass import dataclass
from desktop.services import AttachRefusedError, Document, FileChip, read_file, size_words
from desktop.ui.lazy_qt import Qt
from desktop.ui.theme import ColorSet

__all__ = ["ChipLayout", "DocumentReader", "FileChipWidget", "layout_chips", "paint_chips", "paperclip_icon"]

_log = logging.getLogger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("Composer", text)


def paperclip_icon(size: int = 20, color: str = "#6b6b6b") -> QIcon:
    """A paperclip drawn in code (icon themes lack one on Windows, macOS and minimal Linux desktops)."""
    themed = QIcon.fromTheme("mail-attachment")
    if not themed.isNull():
        return themed
    pixmap = QPixmap(size * 2, size * 2)  # drawn at twice the size: sharp on high-DPI screens
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    s, width = size, size / 11
    # The wire ends in round caps. The icon is part of the first frame, which makes no Qt namespace (~14 ms, see
    # desktop/ui/lazy_qt.py): a round cap would need Qt.PenCapStyle, and so would the overloads of setPen, setBrush
    # and fillPath. So the wire stops half a pen short of each end with the pen's square cap, and a dot (a circle a
    # quarter of the width across, stroked half as wide: a filled disc) rounds off each end.
    # Both ends are on vertical stretches of the wire, open upwards.
    start, end = QPointF(s * 0.62, s * 0.30), QPointF(s * 0.28, s * 0.34)
    wire = QPainterPath(start + QPointF(0, width / 2))
    wire.lineTo(QPointF(s * 0.62, s * 0.70))
    wire.arcTo(QRectF(s * 0.38, s * 0.58, s * 0.24, s * 0.24), 0, -180)
    wire.lineTo(QPointF(s * 0.38, s * 0.22))
    wire.arcTo(QRectF(s * 0.38, s * 0.08, s * 0.34, s * 0.28), 180, -180)
    wire.lineTo(QPointF(s * 0.72, s * 0.74))
    wire.arcTo(QRectF(s * 0.28, s * 0.56, s * 0.44, s * 0.36), 0, -180)
    wire.lineTo(end + QPointF(0, width / 2))
    dots = QPainterPath()
    for point in (start, end):
        dots.addEllipse(point, width / 4, width / 4)
    for shape, pen_width in ((wire, width), (dots, width / 2)):
        pen = QPen()
        pen.setColor(QColor(color))
        pen.setWidthF(pen_width)
        painter.strokePath(shape, pen)
    painter.end()
    return QIcon(pixmap)


class FileChipWidget(QFrame):
    """One attached file: its name, its size (or "Reading…" while it converts) and a remove ✕."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("fileChip")
        self.name = name
        self.document: Document | None = None
        self.name_label = QLabel(self)
        self.name_label.setObjectName("chipName")
        self.name_label.setText(self.name_label.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle, 200))
        self.meta_label = QLabel(_tr("Reading…"), self)
        self.meta_label.setObjectName("chipMeta")
        self.remove_button = QToolButton(self)
        self.remove_button.setText("✕")
        self.remove_button.setAutoRaise(True)
        self.remove_button.setToolTip(_tr("Remove"))
        self.remove_button.setAccessibleName(_tr("Remove file %1").replace("%1", name))
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.name_label)
        text.addWidget(self.meta_label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 2, 4)
        layout.setSpacing(4)
        layout.addLayout(text)
        layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        self.setToolTip(name)
        self.setAccessibleName(_tr("Attached file %1, being read").replace("%1", name))

    @property
    def pending(self) -> bool:
        """True while the file is still being read."""
        return self.document is None

    def set_document(self, document: Document, note: str) -> None:
        """The file was read: show its size; the tooltip says how it reaches the model."""
        self.document = document
        self.meta_label.setText(size_words(len(document.data)))
        self.setToolTip(f"{document.name}\n{note}" if note else document.name)
        self.setAccessibleName(
            _tr("Attached file %1, %2").replace("%1", document.name).replace("%2", size_words(len(document.data)))
        )


class DocumentReader(QObject):
    """Reads files in one worker thread; `finished(token, Document | AttachRefusedError)` arrives on the UI thread."""

    finished = Signal(object, object)
    _outcome = Signal(object, object)  # from any thread; always reaches `finished` through the UI thread's event loop

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def read(self, token: object, path: Path) -> None:
        """Start reading `path`; the result comes back with `token`, always later, from the UI thread's event loop.

        A file read before `add_done_callback` runs has its callback run at once in this thread: without the queued
        connection its result arrived inside `read`, and "every document is read" was said while the composer was
        still adding the next files.
        """
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="documents")
            self._outcome.connect(self.finished, Qt.ConnectionType.QueuedConnection)  # (after the first paint)
        future = self._pool.submit(read_file, path)
        future.add_done_callback(lambda done: self._deliver(token, path, done))

    def _deliver(self, token: object, path: Path, future: concurrent.futures.Future[Document]) -> None:
        """In the worker thread (or this one, for a file read before the callback was added): hand the outcome to
        the UI thread's event loop (nothing when cancelled or the window is gone)."""
        if future.cancelled():
            return
        try:
            outcome: Document | AttachRefusedError = future.result()
        except AttachRefusedError as refused:
            outcome = refused
        except Exception:  # our own bug: said plainly, the traceback in the log
            _log.exception("reading an attached file failed")
            outcome = AttachRefusedError("attach_damaged", name=path.name)
        with contextlib.suppress(RuntimeError):  # the composer was closed while the file was read
            self._outcome.emit(token, outcome)

    def shutdown(self) -> None:
        """Stop the worker (a file being read is finished first, its result dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


# ---- chips in the chat (painted by the chat view's delegate) ------------------------------------------------------

_CHIP_GAP = 6
_CHIP_PAD = 8
_ICON_W = 14
_MAX_NAME_W = 220


@dataclass
class ChipLayout:
    """Where a message's file chips and the note under them go."""

    chips: list[tuple[QRectF, FileChip]]
    note_rect: QRectF | None
    note: str
    bottom: float
    right: bool = False  # the user's message: chips and note aligned right


def chip_note(files: Sequence[FileChip]) -> str:
    """One line per way the files are sent, naming the files when they are sent in different ways."""
    notes: dict[str, list[str]] = {}
    for chip in files:
        if chip.note:
            notes.setdefault(chip.note, []).append(chip.name)
    if len(notes) == 1:
        return next(iter(notes))
    return "\n".join(f"{', '.join(names)}: {note}" for note, names in notes.items())


def layout_chips(
    files: Sequence[FileChip], font: QFont, left: float, column: float, top: float, *, right: bool
) -> ChipLayout:
    """Chips in rows across the column (right-aligned for the user's messages), then the note under them."""
    metrics = QFontMetrics(font)
    bold = QFont(font)
    bold.setBold(True)
    names = QFontMetrics(bold)  # names are drawn bold
    height = 2 * metrics.height() + 2 * _CHIP_PAD - 2
    widths = [
        min(_MAX_NAME_W, max(names.horizontalAdvance(f.name), metrics.horizontalAdvance(f.size))) + _ICON_W
        + 3 * _CHIP_PAD
        for f in files
    ]  # fmt: skip
    rows: list[list[int]] = [[]]
    used = 0.0
    for i, width in enumerate(widths):
        if rows[-1] and used + _CHIP_GAP + width > column:
            rows.append([])
            used = 0.0
        used += (_CHIP_GAP if rows[-1] else 0) + width
        rows[-1].append(i)
    chips: list[tuple[QRectF, FileChip]] = []
    y = top
    for row in rows:
        total = sum(widths[i] for i in row) + _CHIP_GAP * (len(row) - 1)
        x = left + column - total if right else left
        for i in row:
            chips.append((QRectF(x, y, widths[i], height), files[i]))
            x += widths[i] + _CHIP_GAP
        y += height + _CHIP_GAP
    note = chip_note(files)
    note_rect = None
    if note:
        box = metrics.boundingRect(0, 0, int(column), 10000, int(Qt.TextFlag.TextWordWrap), note)
        x = left + column - box.width() if right else left
        note_rect = QRectF(x, y - 2, box.width() + 1, box.height())
        y = note_rect.bottom() + _CHIP_GAP
    return ChipLayout(chips, note_rect, note, y, right)


def paint_chips(painter: QPainter, layout: ChipLayout, font: QFont, colors: ColorSet) -> None:
    """Draw the chips (a document mark, the name, the size) and the note."""
    metrics = QFontMetrics(font)
    bold = QFont(font)
    bold.setBold(True)
    bold_metrics = QFontMetrics(bold)
    for box, chip in layout.chips:
        painter.setPen(QPen(colors.qcolor("border"), 1))
        painter.setBrush(colors.qcolor("surface"))
        painter.drawRoundedRect(box, 8, 8)
        mark = QRectF(box.left() + _CHIP_PAD, box.top() + _CHIP_PAD + 1, _ICON_W - 4, metrics.height() + 2)
        painter.setPen(QPen(colors.qcolor("accent"), 1.4))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(mark, 2, 2)
        text_left = box.left() + _CHIP_PAD + _ICON_W + 2
        width = box.right() - _CHIP_PAD - text_left
        painter.setFont(bold)
        painter.setPen(colors.qcolor("text"))
        name = bold_metrics.elidedText(chip.name, Qt.TextElideMode.ElideMiddle, int(width))
        painter.drawText(QRectF(text_left, box.top() + _CHIP_PAD - 1, width, metrics.height()), name)
        painter.setFont(font)
        painter.setPen(colors.qcolor("muted"))
        painter.drawText(
            QRectF(text_left, box.top() + _CHIP_PAD - 1 + metrics.height(), width, metrics.height()), chip.size
        )
    if layout.note_rect is not None:
        painter.setFont(font)
        painter.setPen(colors.qcolor("muted"))
        align = Qt.AlignmentFlag.AlignRight if layout.right else Qt.AlignmentFlag.AlignLeft
        painter.drawText(layout.note_rect, int(Qt.TextFlag.TextWordWrap) | int(align), layout.note)
