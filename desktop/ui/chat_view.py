"""The conversation view: a virtualised list painting cached, natively rendered messages."""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import functools
import math
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QAbstractTextDocumentLayout,
    QContextMenuEvent,
    QDesktopServices,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPixmap,
    QResizeEvent,
    QStandardItem,
    QStandardItemModel,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QMenu,
    QScrollBar,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionSlider,
    QStyleOptionViewItem,
    QTextBrowser,
    QToolButton,
    QWidget,
)

from desktop.services import MessageAction, MessageView, Outcome, RetryWait, Role
from desktop.ui.attachments import ChipLayout, layout_chips, paint_chips
from desktop.ui.markdown import (
    CodeBlock,
    LiveDocument,
    SafeTextDocument,
    code_blocks,
    is_safe_link,
    render_markdown,
    warm_up,
)
from desktop.ui.theme import LIGHT_COLORS, ColorSet

__all__ = ["ChatView"]

FLUSH_FRAMES = 3  # streamed text shows at every third frame of the display: 20 updates a second at 60 Hz
_DEFAULT_REFRESH_HZ = 60.0
# A flush that took long (a long table or code block being written re-renders as a whole) spaces the next ones, so
# showing streamed text keeps to about this share of a core; never further apart than FLUSH_LONGEST_MS.
FLUSH_SHARE = 0.1
FLUSH_LONGEST_MS = 200
_perf = time.perf_counter  # module-level, so tests can set what a flush costs
_MAX_COLUMN = 860
_MARGIN = 16
_PAD = 10
_TOOLBAR_H = 26
_THUMB_H = 64
_CACHE_SIZE = 100  # rendered messages kept: several screens either way (a rich answer lays out to ~35 KB)
_FOLLOW_SLACK = 4
_CHIP_REACH = 48
_ROW_LIMIT = 32767  # the tallest row Qt's list view gives a delegate (its items keep their size in 16 bits)
# Rows above the view are laid out ahead of time, a few at a time once the view is painted, so that scrolling up
# finds them measured: this many screens of them, in slices of about this long (at least one row each, and no row
# whose expected cost would take a slice past it).
_AHEAD_SCREENS = 2
_AHEAD_SLICE_MS = 12.0
# Older messages are asked for this many screens before the top of those shown is reached, and shown this many
# rows at a time (a page from history is held back and shown in such steps, each after a paint).
_OLDER_SCREENS = 3
_OLDER_CHUNK = 50


_ACTION_LABELS = {
    MessageAction.RETRY: "Try again",
    MessageAction.SIGN_IN: "Sign in",
    MessageAction.OPEN_SETTINGS: "Open settings",
    MessageAction.NEW_CHAT: "Start a new chat",
    MessageAction.EDIT: "Edit your message",
    MessageAction.COPY_DETAILS: "Copy details for your admin",
    MessageAction.CONTINUE: "Continue",
    MessageAction.LEAVE_OUT: "Continue without this message",
    MessageAction.PUT_BACK: "Put it back",
    MessageAction.SHORTEN_ANSWER_LIMIT: "Shorten the answer limit",
}


class _Model:
    """The conversation's rows, kept in a C++ model (QStandardItemModel) that the list lays out without calling back
    into Python: each row holds its message, its words for screen readers and its height (Qt.SizeHintRole), so a
    re-layout of 2,000 rows takes about a millisecond instead of tens. Heights come from `size_of` when rows arrive;
    ChatView.doItemsLayout brings changed ones up to date before each layout."""

    def __init__(self, parent: QObject, size_of: Callable[[MessageView], QSize]) -> None:
        self.qt = QStandardItemModel(parent)
        self.items: list[MessageView] = []
        self._rows: dict[int, int] = {}
        self._size_of = size_of

    def rowCount(self) -> int:
        return len(self.items)

    def index(self, row: int, column: int = 0) -> QModelIndex:
        return self.qt.index(row, column)

    def row_of(self, message_id: int) -> int:
        if len(self._rows) != len(self.items):
            self._rows = {m.id: i for i, m in enumerate(self.items)}
        return self._rows.get(message_id, -1)

    def _item(self, msg: MessageView) -> QStandardItem:
        item = QStandardItem()
        item.setFlags(_ROW_FLAGS)
        for role, value in _row_data(msg).items():
            item.setData(value, role)
        item.setData(self._size_of(msg), Qt.ItemDataRole.SizeHintRole)
        return item

    def reset(self, items: Sequence[MessageView]) -> None:
        self.qt.beginResetModel()
        self.qt.blockSignals(True)  # one reset, not a removal and an insertion
        try:
            self.qt.setRowCount(0)
            self.items = list(items)
            self._rows = {}
            self.qt.invisibleRootItem().appendRows([self._item(m) for m in self.items])
        finally:
            self.qt.blockSignals(False)
        self.qt.endResetModel()

    def insert(self, row: int, items: Sequence[MessageView]) -> None:
        if not items:
            return
        self.items[row:row] = items
        self._rows = {}
        self.qt.invisibleRootItem().insertRows(row, [self._item(m) for m in items])

    def remove(self, row: int) -> None:
        del self.items[row]
        self._rows = {}
        self.qt.removeRow(row)

    def replace(self, row: int, msg: MessageView) -> None:
        if self.items[row].id != msg.id:
            self._rows = {}
        self.items[row] = msg
        self.qt.setItemData(self.qt.index(row, 0), _row_data(msg))  # one dataChanged: repaints the row

    def set_sizes(self, sizes: Iterable[tuple[int, QSize]]) -> None:
        """Give rows their heights (no signal: the layout that follows reads them)."""
        self.qt.blockSignals(True)
        try:
            for row, size in sizes:
                item = self.qt.item(row)
                if item is not None:
                    item.setData(size, Qt.ItemDataRole.SizeHintRole)
        finally:
            self.qt.blockSignals(False)


_ROW_FLAGS = (
    # Editable only so the delegate can open a read-only text browser for selecting text.
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable
)


def _row_data(msg: MessageView) -> dict[int, Any]:
    """A row's data but its height: the message, and what it says for screen readers."""
    who = _tr("You") if msg.role == Role.USER else _tr("Assistant")
    spoken = f"{who}: {msg.text}"
    if msg.reasoning:
        # A screen reader hears the thinking section's state, and its words when it is open.
        thinking = _tr(msg.thinking_title) + ", " + (_tr("shown") if msg.thinking_open else _tr("hidden"))
        if msg.thinking_open:
            thinking += f": {msg.reasoning}"
        spoken = f"{who}: {thinking}. {msg.text}"
    return {
        Qt.ItemDataRole.UserRole: msg,
        Qt.ItemDataRole.DisplayRole: f"{who}: {msg.text}",
        Qt.ItemDataRole.AccessibleTextRole: spoken,
    }


def _tr(text: str) -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("ChatView", text)


@dataclass
class _Geometry:
    doc_rect: QRectF
    thinking_head: QRectF | None  # the thinking section's header (a click shows or hides it)
    thinking_rect: QRectF | None  # its words, when shown
    bubble: QRectF | None
    thumbs: list[QRectF]
    banner: QRectF | None
    banner_title: QRectF | None
    banner_text: QRectF | None
    banner_button: QRectF | None
    tools: list[tuple[str, str, QRectF]]
    code_copies: list[tuple[QRectF, str]]
    height: int
    files: ChipLayout | None = None  # attached documents' chips


class _Delegate(QStyledItemDelegate):
    def __init__(self, view: ChatView) -> None:
        super().__init__(view)
        self._view = view
        self._docs: OrderedDict[tuple[int, str, int], QTextDocument] = OrderedDict()
        self._key_of: dict[int, tuple[int, str, int]] = {}
        # Last height given per message: (message object, width, height). Messages are immutable, so identity
        # tells whether anything changed; this keeps a full re-layout of 2,000 rows to dictionary look-ups.
        self._heights: dict[int, tuple[MessageView, int, int]] = {}
        self._thumbs: dict[tuple[int, int], QPixmap] = {}
        self.renders: Counter[int] = Counter()
        self._live: dict[int, LiveDocument] = {}
        self._live_shows: dict[int, MessageView] = {}  # the message whose text each live document shows
        self._thinking: dict[int, tuple[str, int, QTextDocument]] = {}  # per message: its thinking, laid out
        # Messages whose height changed since the list's rows were last given theirs (see ChatView.doItemsLayout);
        # all of them after a change of width, theme or font.
        self.stale: set[int] = set()
        self.all_stale = False
        self._metrics: tuple[int, int] | None = None  # the font's average character width and line spacing

    def invalidate(self) -> None:
        self._thinking.clear()
        self._docs.clear()
        self._key_of.clear()
        self._live.clear()
        self._live_shows.clear()
        self._heights.clear()
        self._metrics = None
        self.all_stale = True
        self.sizeHintChanged.emit(QModelIndex())

    def forget(self, message_id: int) -> None:
        self._heights.pop(message_id, None)
        self.stale.add(message_id)

    def refit(self, msg: MessageView) -> bool:
        """Lay out a changed message now; return True if its height changed (the list must re-layout)."""
        width = self._view.viewport().width()
        rect = QRect(0, 0, width, 0)
        height = self.geometry(rect, msg, self.document(msg, self.column(rect)[1]), copies=False).height
        known = self._heights.get(msg.id)
        self._heights[msg.id] = (msg, width, height)
        changed = known is None or known[2] != height or known[1] != width
        if changed:
            self.stale.add(msg.id)
        return changed

    # -- documents ---------------------------------------------------------------------------------------
    def column(self, rect: QRect) -> tuple[float, float]:
        width = float(min(_MAX_COLUMN, max(120, rect.width() - 2 * _MARGIN)))
        return rect.left() + (rect.width() - width) / 2, width

    def _doc_width(self, msg: MessageView, column: float) -> int:
        return int(column * 0.8 - 2 * _PAD) if msg.role == Role.USER else int(column)

    def extend(self, before: MessageView, after: MessageView, more: str) -> None:
        """A streaming message grew by `more` (from `before` to `after`): append it to its live document, if that
        shows `before`; the work is that of the answer's unfinished tail, not of the whole answer."""
        live = self._live.get(before.id)
        if live is not None and self._live_shows.get(before.id) is before:
            live.append(more)
            self._live_shows[after.id] = after
            self.renders[after.id] += 1

    def settled_height(self, msg: MessageView) -> float | None:
        """For a streaming answer whose live document shows `msg`: how far down that document the next `extend`
        leaves what is drawn as it is (see LiveDocument.settled_height); None when the next paint renders it anew."""
        live = self._live.get(msg.id)
        if live is None or msg.outcome != Outcome.STREAMING or self._live_shows.get(msg.id) is not msg:
            return None
        return live.settled_height()

    def cached(self, msg: MessageView, column: float) -> QTextDocument | None:
        live = self._live.get(msg.id)
        if live is not None and msg.outcome == Outcome.STREAMING and self._live_shows.get(msg.id) is msg:
            return live.doc
        if live is not None and msg.outcome != Outcome.STREAMING:
            return self._ended_live(msg, live, column)
        return self._docs.get((msg.id, msg.text, self._doc_width(msg, column)))

    def _ended_live(self, msg: MessageView, live: LiveDocument, column: float) -> QTextDocument | None:
        """The live document of an answer that just ended, showing its final text: its row keeps its real height
        until it is painted, instead of an estimate for one layout (the view jumped at the end of each answer)."""
        shown = live.text
        if not shown or live.doc.textWidth() != self._doc_width(msg, column) or not msg.text.startswith(shown):
            return None
        live.append(msg.text[len(shown) :])  # the last words, if they came with the end
        self._live_shows[msg.id] = msg
        return live.doc

    def document(self, msg: MessageView, column: float) -> QTextDocument:
        width = self._doc_width(msg, column)
        if msg.role == Role.ASSISTANT and msg.outcome == Outcome.STREAMING:
            # Before any look-up keyed by the text: hashing a long answer at every flush grows with its length.
            return self._live_document(msg, width, self._view.font())
        key = (msg.id, msg.text, width)
        doc = self._docs.get(key)
        if doc is not None:
            self._docs.move_to_end(key)
            return doc
        old = self._key_of.pop(msg.id, None)
        if old is not None:
            self._docs.pop(old, None)
        font = self._view.font()
        live = self._live.pop(msg.id, None)
        self._live_shows.pop(msg.id, None)
        if live is not None and live.doc.textWidth() == width and live.update(msg.text):
            # The answer just ended with (at most a few more words than) the text on screen: keep that document
            # rather than rendering and laying out the whole answer again in one go.
            doc = live.doc
        elif msg.role == Role.USER:
            doc = SafeTextDocument()
            doc.setDefaultFont(font)
            doc.setDocumentMargin(0)
            doc.setPlainText(msg.text)  # the user's own words are shown literally, not as Markdown
            doc.setTextWidth(width)
            doc.setTextWidth(min(width, math.ceil(doc.idealWidth()) + 1))
        else:
            doc = render_markdown(msg.text, self._view.colors(), font)
            doc.setTextWidth(width)
        self.renders[msg.id] += 1
        self._docs[key] = doc
        self._key_of[msg.id] = key
        while len(self._docs) > _CACHE_SIZE:
            dropped, _ = self._docs.popitem(last=False)
            self._key_of.pop(dropped[0], None)
        return doc

    def _live_document(self, msg: MessageView, width: int, font: QFont) -> QTextDocument:
        """A streaming answer: append to its live document instead of rendering it anew at every flush."""
        live = self._live.get(msg.id)
        if live is not None and live.doc.textWidth() == width and self._live_shows.get(msg.id) is msg:
            return live.doc
        if live is None or live.doc.textWidth() != width or not live.update(msg.text):
            old = self._key_of.pop(msg.id, None)
            if old is not None:
                self._docs.pop(old, None)
            live = LiveDocument(self._view.colors(), font)
            live.update(msg.text)
            live.doc.setTextWidth(width)
            self._live[msg.id] = live
        self._live_shows[msg.id] = msg
        self.renders[msg.id] += 1
        return live.doc

    def thinking_document(self, msg: MessageView, column: float) -> QTextDocument:
        """The thinking's words, rendered once per text and width (they change while the model thinks)."""
        width = int(column) - _THINK_INDENT
        known = self._thinking.get(msg.id)
        if known is not None and known[0] == msg.reasoning and known[1] == width:
            return known[2]
        doc = render_markdown(msg.reasoning, self._view.colors(), self._view.font())
        doc.setTextWidth(width)
        self._thinking[msg.id] = (msg.reasoning, width, doc)
        return doc

    def _estimate_doc_height(self, msg: MessageView, column: float) -> float:
        if self._metrics is None:
            metrics = QFontMetrics(self._view.font())
            self._metrics = (max(1, metrics.averageCharWidth()), metrics.lineSpacing())
        char_width, line_spacing = self._metrics
        per_line = max(10, int(self._doc_width(msg, column) / char_width))
        lines = sum(max(1, math.ceil(len(line) / per_line)) for line in msg.text.split("\n"))
        return lines * line_spacing * (1.0 if msg.role == Role.USER else 1.25)

    def _plain_estimate(self, msg: MessageView, column: float) -> int | None:
        """The height `geometry` gives a message not laid out yet, worked out without it when the message is only
        text (no pictures, documents, thinking or notice): a page of 200 older rows arrives in a few ms."""
        if (
            not msg.text
            or msg.images
            or msg.files
            or msg.reasoning
            or msg.left_out
            or msg.action is not None
            or msg.outcome != Outcome.COMPLETE
            or self._view.banner_content(msg) != ("", "", "")
        ):
            return None
        doc_h = self._estimate_doc_height(msg, column)
        y = 10.0 + (doc_h + 2 * _PAD + 4 if msg.role == Role.USER else doc_h + 6) + _TOOLBAR_H
        return math.ceil(y + 6)

    # -- geometry ----------------------------------------------------------------------------------------
    def geometry(
        self, rect: QRect, msg: MessageView, doc: QTextDocument | None, copies: QRectF | bool = True
    ) -> _Geometry:
        """Where each part of a message goes in `rect`. `copies`: the code blocks given a Copy chip - all (True),
        none (False: for heights only), or those meeting a rectangle of the view (what is painted)."""
        left, column = self.column(rect)
        metrics = QFontMetrics(self._view.font())
        y = rect.top() + 10.0
        thumbs: list[QRectF] = []
        if msg.images:
            x = left + column
            for _ in msg.images:
                x -= _THUMB_H + 6
                thumbs.append(QRectF(x + 6, y, _THUMB_H, _THUMB_H))
            y += _THUMB_H + 6
        thinking_head = thinking_rect = None
        if msg.reasoning and msg.role == Role.ASSISTANT:
            label = self._view.thinking_label(msg)
            thinking_head = QRectF(left, y, metrics.horizontalAdvance(label) + 16, metrics.height() + 8)
            y = thinking_head.bottom() + 4
            if msg.thinking_open:
                words = self.thinking_document(msg, column)
                thinking_rect = QRectF(left + _THINK_INDENT, y, column - _THINK_INDENT, words.size().height())
                y = thinking_rect.bottom() + 12
        files = None
        if msg.files:
            files = layout_chips(msg.files, self._view.font(), left, column, y, right=msg.role == Role.USER)
            y = files.bottom
        if doc is not None:
            size = doc.size()
            doc_w, doc_h = size.width(), size.height()
        else:
            doc_w, doc_h = self._doc_width(msg, column), self._estimate_doc_height(msg, column)
        if not msg.text:
            doc_h = 0.0  # e.g. a failed answer: only its banner shows
        bubble = None
        if msg.role == Role.USER and msg.text:
            bubble = QRectF(left + column - doc_w - 2 * _PAD, y, doc_w + 2 * _PAD, doc_h + 2 * _PAD)
            doc_rect = bubble.adjusted(_PAD, _PAD, -_PAD, -_PAD)
            y = bubble.bottom() + 4
        else:
            doc_rect = QRectF(left, y, column, doc_h)
            y = doc_rect.bottom() + 6
        banner = banner_title = banner_text = banner_button = None
        title, body, button = self._view.banner_content(msg)
        if title or body:
            bold = QFont(self._view.font())
            bold.setBold(True)
            inner = column - 2 * _PAD
            title_h = QFontMetrics(bold).boundingRect(0, 0, int(inner), 10000, _WRAP, title).height() if title else 0
            body_h = metrics.boundingRect(0, 0, int(inner), 10000, _WRAP, body).height() if body else 0
            top = y + _PAD
            banner_title = QRectF(left + _PAD, top, inner, title_h)
            banner_text = QRectF(left + _PAD, top + title_h + (4 if title and body else 0), inner, body_h)
            bottom = banner_text.bottom()
            if button:
                width = metrics.horizontalAdvance(button) + 24
                banner_button = QRectF(left + _PAD, bottom + 8, width, metrics.height() + 10)
                bottom = banner_button.bottom()
            banner = QRectF(left, y, column, bottom - y + _PAD)
            y = banner.bottom() + 6
        tools: list[tuple[str, str, QRectF]] = []
        x = (left + column) if msg.role == Role.USER else left
        for key, label in self._view.tool_actions(msg):
            width = metrics.horizontalAdvance(label) + 16
            if msg.role == Role.USER:
                x -= width
                tools.insert(0, (key, label, QRectF(x, y, width, _TOOLBAR_H - 4)))
                x -= 4
            else:
                tools.append((key, label, QRectF(x, y, width, _TOOLBAR_H - 4)))
                x += width + 4
        y += _TOOLBAR_H
        chips: list[tuple[QRectF, str]] = []
        if doc is not None and msg.role == Role.ASSISTANT and copies is not False:
            label_w = metrics.horizontalAdvance(_tr("Copy")) + 14
            blocks: Sequence[CodeBlock] = (
                doc.code if isinstance(doc, SafeTextDocument) and doc.code is not None else code_blocks(doc)
            )
            if isinstance(copies, QRectF):
                blocks = _meeting(doc, blocks, copies.translated(-doc_rect.topLeft()))
            for code in blocks:
                frame = QTextCursor(doc.findBlockByNumber(code.first_block)).currentFrame()
                box = doc.documentLayout().frameBoundingRect(frame)
                hot = QRectF(box.right() - label_w - 4, box.top() + 4, label_w, metrics.height() + 4)
                chips.append((hot.translated(doc_rect.topLeft()), code.text))
        return _Geometry(
            doc_rect,
            thinking_head,
            thinking_rect,
            bubble,
            thumbs,
            banner,
            banner_title,
            banner_text,
            banner_button,
            tools,
            chips,
            math.ceil(y - rect.top() + 6),
            files,
        )

    def size_of(self, msg: MessageView) -> QSize:
        """A row's size, as the list lays it out (kept in the model: the delegate has no sizeHint of its own, so a
        layout of every row never calls into Python)."""
        width = self._view.viewport().width()
        known = self._heights.get(msg.id)
        if known is not None and known[0] is msg and known[1] == width:
            return QSize(width, known[2])
        rect = QRect(0, 0, width, 0)
        _, column = self.column(rect)
        # Lay out only what is cached; estimate the rest and correct it when painted (keeps 2,000 rows cheap).
        doc = self.cached(msg, column)
        height = self._plain_estimate(msg, column) if doc is None else None
        if height is None:
            height = self.geometry(rect, msg, doc, copies=False).height
        self._heights[msg.id] = (msg, width, height)
        return QSize(rect.width(), height)

    # -- painting ----------------------------------------------------------------------------------------
    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        msg: MessageView = index.data(Qt.ItemDataRole.UserRole)
        rect = option.rect
        _, column = self.column(rect)
        doc = self.document(msg, column)
        # Only what shows is drawn: a long answer's lines above and below the viewport cost nothing.
        visible = _row_extent(rect, doc).intersected(QRectF(self._view.viewport().rect()))
        if painter.hasClipping():
            visible = visible.intersected(painter.clipBoundingRect())
        # And only what this paint repaints: Qt clips to it, but laying out the glyphs of a screenful of text costs
        # as much outside that clip as inside it.
        visible = visible.intersected(self._view.exposed())
        geo = self.geometry(rect, msg, doc, copies=visible)
        known = self._heights.get(msg.id)
        if known is None or known[2] != geo.height:
            self._heights[msg.id] = (msg, rect.width(), geo.height)
            self.stale.add(msg.id)
            self.sizeHintChanged.emit(index)
        colors = self._view.colors()
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for i, box in enumerate(geo.thumbs):
            self._paint_thumb(painter, msg, i, box, colors)
        if geo.files is not None:
            paint_chips(painter, geo.files, self._view.font(), colors)
        if geo.bubble is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colors.qcolor("user_bubble"))
            painter.drawRoundedRect(geo.bubble, 14, 14)
        self._paint_thinking(painter, msg, geo, colors, visible=visible, column=column)
        painter.translate(geo.doc_rect.topLeft())
        ctx = QAbstractTextDocumentLayout.PaintContext()
        ctx.clip = visible.translated(-geo.doc_rect.topLeft())
        ctx.palette.setColor(QPalette.ColorRole.Text, colors.qcolor("user_text" if geo.bubble else "text"))
        _draw_document(doc, painter, ctx)
        painter.translate(-geo.doc_rect.topLeft())
        self._paint_banner(painter, msg, geo, colors)
        hovered = bool(option.state & QStyle.StateFlag.State_MouseOver)
        focused = bool(option.state & QStyle.StateFlag.State_HasFocus) and self._view.focus_ring_shown()
        mouse = self._view.viewport().mapFromGlobal(self._view.cursor().pos()).toPointF()
        if focused:  # keyboard focus is visible: a ring around the current message
            painter.setPen(QPen(colors.qcolor("accent"), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(rect).adjusted(4, 2, -4, -2), 8, 8)
        if hovered or focused or self._view.is_last_answer(msg):
            for _, label, box in geo.tools:
                self._paint_chip(painter, box, label, colors, box.contains(mouse))
        for box, _ in geo.code_copies:
            self._paint_chip(painter, box, _tr("Copy"), colors, box.contains(mouse), filled=True)
        painter.restore()

    def _paint_thinking(
        self, painter: QPainter, msg: MessageView, geo: _Geometry, colors: ColorSet, *, visible: QRectF, column: float
    ) -> None:
        """The thinking section: its header as a chip ("▸ Thought for 12 s"), its words indented beside a rule."""
        if geo.thinking_head is None:
            return
        mouse = self._view.viewport().mapFromGlobal(self._view.cursor().pos()).toPointF()
        self._paint_chip(
            painter, geo.thinking_head, self._view.thinking_label(msg), colors, geo.thinking_head.contains(mouse)
        )
        if geo.thinking_rect is None:
            return
        box = geo.thinking_rect
        painter.setPen(QPen(colors.qcolor("border"), 2))
        painter.drawLine(
            QPointF(box.left() - _THINK_INDENT / 2, box.top()), QPointF(box.left() - _THINK_INDENT / 2, box.bottom())
        )
        words = self.thinking_document(msg, column)
        painter.translate(box.topLeft())
        ctx = QAbstractTextDocumentLayout.PaintContext()
        ctx.clip = visible.translated(-box.topLeft())
        ctx.palette.setColor(QPalette.ColorRole.Text, colors.qcolor("muted"))
        _draw_document(words, painter, ctx)
        painter.translate(-box.topLeft())

    def _paint_chip(
        self, painter: QPainter, box: QRectF, label: str, colors: ColorSet, hot: bool, *, filled: bool = False
    ) -> None:
        if hot or filled:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colors.qcolor("hover" if hot else "surface"))
            painter.drawRoundedRect(box, 6, 6)
        painter.setPen(colors.qcolor("text" if hot else "muted"))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)

    def _paint_thumb(self, painter: QPainter, msg: MessageView, i: int, box: QRectF, colors: ColorSet) -> None:
        pix = self._thumbs.get((msg.id, i))
        if pix is None:
            pix = QPixmap()
            if pix.loadFromData(msg.images[i]):
                pix = pix.scaled(
                    _THUMB_H,
                    _THUMB_H,
                    Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                    Qt.TransformationMode.SmoothTransformation,
                )
            self._thumbs[(msg.id, i)] = pix
        painter.setPen(colors.qcolor("border"))
        painter.setBrush(colors.qcolor("code_bg"))
        painter.drawRoundedRect(box, 8, 8)
        if not pix.isNull():
            painter.drawPixmap(box.toRect(), pix, QRect(0, 0, _THUMB_H, _THUMB_H))

    def _paint_banner(self, painter: QPainter, msg: MessageView, geo: _Geometry, colors: ColorSet) -> None:
        if geo.banner is None or geo.banner_title is None or geo.banner_text is None:
            return
        title, body, button = self._view.banner_content(msg)
        kind = self._view.banner_kind(msg)
        fg, bg = {"error": ("error", "error_bg"), "warning": ("warning", "warning_bg")}.get(kind, ("muted", "window"))
        painter.setPen(colors.qcolor(fg))
        painter.setBrush(colors.qcolor(bg))
        painter.drawRoundedRect(geo.banner, 8, 8)
        if title:
            bold = QFont(self._view.font())
            bold.setBold(True)
            painter.setFont(bold)
            painter.drawText(geo.banner_title, _WRAP, title)
            painter.setFont(self._view.font())
        painter.setPen(colors.qcolor("text"))
        painter.drawText(geo.banner_text, _WRAP, body)
        if geo.banner_button is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colors.qcolor("accent"))
            painter.drawRoundedRect(geo.banner_button, 6, 6)
            painter.setPen(colors.qcolor("accent_text"))
            painter.drawText(geo.banner_button, Qt.AlignmentFlag.AlignCenter, button)

    # -- interaction -------------------------------------------------------------------------------------
    def hit(self, rect: QRect, msg: MessageView, pos: QPointF) -> tuple[str, str]:
        """Return (kind, payload) for what is under `pos`: a tool, the banner button, a code copy, a link."""
        _, column = self.column(rect)
        doc = self.document(msg, column)
        geo = self.geometry(rect, msg, doc, copies=QRectF(pos.x(), pos.y(), 1, 1))
        for key, _, box in geo.tools:
            if box.contains(pos):
                return "tool", key
        if geo.thinking_head is not None and geo.thinking_head.contains(pos):
            return "thinking", ""
        if geo.banner_button is not None and geo.banner_button.contains(pos):
            return "banner", ""
        for box, text in geo.code_copies:
            if box.contains(pos):
                return "code", text
        if geo.doc_rect.contains(pos):
            href = doc.documentLayout().anchorAt(pos - geo.doc_rect.topLeft())
            if href:
                return "link", href
            return "text", ""
        return "", ""

    def editorEvent(
        self, event: QEvent, model: Any, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> bool:
        if event.type() != QEvent.Type.MouseButtonRelease or not isinstance(event, QMouseEvent):
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        msg: MessageView = index.data(Qt.ItemDataRole.UserRole)
        kind, payload = self.hit(option.rect, msg, event.position())
        return self._view.activate(msg, kind, payload)

    def createEditor(
        self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QWidget:
        msg: MessageView = index.data(Qt.ItemDataRole.UserRole)
        _, column = self.column(option.rect)
        editor = QTextBrowser(parent)
        editor.setAccessibleName(_tr("Message text"))
        editor.setFrameShape(QTextBrowser.Shape.NoFrame)
        editor.setOpenLinks(False)
        editor.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        editor.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        editor.viewport().setAutoFillBackground(False)
        editor.setStyleSheet("QTextBrowser { background: transparent; }")
        doc = self.document(msg, column).clone(editor)
        editor.setDocument(doc)
        editor.anchorClicked.connect(_open_link)
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        return  # the document was given in createEditor; nothing to load

    def setModelData(self, editor: QWidget, model: Any, index: QModelIndex | QPersistentModelIndex) -> None:
        return  # read-only: the editor exists only to select text

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        msg: MessageView = index.data(Qt.ItemDataRole.UserRole)
        rect = option.rect
        _, column = self.column(rect)
        geo = self.geometry(rect, msg, self.document(msg, column), copies=False)
        editor.setGeometry(geo.doc_rect.toAlignedRect())


_WRAP = int(Qt.TextFlag.TextWordWrap)
_THINK_INDENT = 14


def _meeting(doc: QTextDocument, blocks: Sequence[CodeBlock], area: QRectF) -> Sequence[CodeBlock]:
    """The code blocks (in document order) whose lines meet `area` (document coordinates), found by bisection:
    painting the end of a long answer does not look at each of its code blocks."""
    layout = doc.documentLayout()
    area = area.adjusted(0, -_CHIP_REACH, 0, _CHIP_REACH)  # a Copy chip sits in its frame's padding, above the code

    def bottom(code: CodeBlock) -> float:
        return layout.blockBoundingRect(doc.findBlockByNumber(code.last_block)).bottom()

    def top(code: CodeBlock) -> float:
        return layout.blockBoundingRect(doc.findBlockByNumber(code.first_block)).top()

    first = bisect.bisect_left(blocks, area.top(), key=bottom)
    last = bisect.bisect_right(blocks, area.bottom(), lo=first, key=top)
    return blocks[first:last]


def _row_extent(rect: QRect, doc: QTextDocument) -> QRectF:
    """The part of the view a row really covers. Qt's list view gives a row at most _ROW_LIMIT pixels, and a long
    answer is taller: its rectangle then ends above the answer's end, which is still painted from the row's top."""
    extent = QRectF(rect)
    if rect.height() >= _ROW_LIMIT:
        extent.setHeight(max(extent.height(), doc.size().height() + _ROW_LIMIT))
    return extent


def _draw_document(doc: QTextDocument, painter: QPainter, ctx: QAbstractTextDocumentLayout.PaintContext) -> None:
    """Draw the part of `doc` inside ctx.clip; nothing when the clip is empty (Qt draws all of a document given an
    empty clip: a quarter of a second for a long answer)."""
    if ctx.clip.isValid():
        doc.documentLayout().draw(painter, ctx)


def _open_link(url: QUrl) -> None:
    if is_safe_link(url):
        QDesktopServices.openUrl(url)


class _ScrollBar(QScrollBar):
    """A scroll bar that, while the streaming answer grows (`holding`), repaints only if its handle moved or resized
    on screen. Its range grows at every update, and painting the bar cost as much as painting the new words
    (tests/benchmarks); once the answer is long, most updates move the handle by less than a pixel."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self._drawn: tuple[QRect, bool, bool] | None = None  # handle, at the top, at the bottom: as last painted
        self._holding = False
        self._moved = False

    def _looks(self) -> tuple[QRect, bool, bool]:
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        handle = self.style().subControlRect(
            QStyle.ComplexControl.CC_ScrollBar, option, QStyle.SubControl.SC_ScrollBarSlider, self
        )
        value = self.value()
        return handle, value == self.minimum(), value == self.maximum()

    @property
    def held(self) -> bool:
        """Whether changes are being held (see holding)."""
        return self._holding

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Changes of range and value inside repaint the bar once, at the end, and only if it looks different."""
        self._holding, self._moved = True, False
        try:
            yield
        finally:
            self._holding = False
            if self._moved and self._looks() != self._drawn:
                self.update()

    def sliderChange(self, change: QScrollBar.SliderChange) -> None:
        transient = self.style().styleHint(QStyle.StyleHint.SH_ScrollBar_Transient, None, self)
        if self._holding and not transient and change in _MOVES:
            self._moved = True
            return
        super().sliderChange(change)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        self._drawn = self._looks()


_MOVES = (QScrollBar.SliderChange.SliderRangeChange, QScrollBar.SliderChange.SliderValueChange)


class ChatView(QListView):
    """Shows a conversation; streams the last answer in batches; emits what the user asks for."""

    copy_requested = Signal(object)
    edit_requested = Signal(object)
    regenerate_requested = Signal(object)
    details_requested = Signal(object)
    action_requested = Signal(object, object)  # message id, MessageAction
    retry_now_requested = Signal(object)
    older_requested = Signal()
    _ahead_due = False  # rows above the view may need measuring: start after the next paint (see viewportEvent)
    _older_due = False  # older rows are to be shown (or asked for) after the next paint

    def __init__(self, parent: QWidget | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._clock = clock
        self._colors = LIGHT_COLORS
        self._delegate = _Delegate(self)
        self._model = _Model(self, self._delegate.size_of)
        self._pending: dict[int, list[str]] = {}
        self._flush_ms = 0.0  # what the last flush cost
        self._paint_ms = 0.0  # what the last paint of the view cost (a flush is followed by one)
        self._follow = True
        self._has_older = False
        self._loading_older = False
        self._measuring = False
        self._keyboard_focus = False  # focus came by the keyboard (Tab, a shortcut, a key): the ring shows
        self._exposed: QRectF | None = None  # what the paint under way repaints (see exposed)
        self._retry: RetryWait | None = None
        self._bar = _ScrollBar(self)
        self.setVerticalScrollBar(self._bar)
        self.setModel(self._model.qt)
        self.setItemDelegate(self._delegate)
        self._delegate.sizeHintChanged.connect(self._on_delegate_size_hint_changed)
        self.setAccessibleName(_tr("Conversation"))
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setFrameShape(QListView.Shape.NoFrame)
        self.setMouseTracking(True)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.verticalScrollBar().setSingleStep(24)
        self._flush_timer = QTimer(self, singleShot=True)
        self._flush_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._flush_timer.timeout.connect(self.flush)
        self._ahead_timer = QTimer(self, singleShot=True, interval=0)
        self._ahead_timer.timeout.connect(self._measure_ahead)
        self._ms_per_char = 0.01  # what laying out a message costs per character (learnt as rows are measured)
        self._older_timer = QTimer(self, singleShot=True, interval=0)
        self._older_timer.timeout.connect(self._load_older)
        self._older_queue: list[MessageView] = []  # older messages received but not shown yet, oldest first
        self._waiting_since: dict[int, float] = {}
        self._tick_timer = QTimer(self, interval=1000)
        self._tick_timer.timeout.connect(self._on_tick_timer_timeout)
        self._retry_timer = QTimer(self, interval=1000)
        self._retry_timer.timeout.connect(self._on_retry_timer_timeout)
        self._jump = QToolButton(self)
        self._jump.setText(_tr("↓ Jump to latest"))
        self._jump.setAccessibleName(_tr("Jump to latest message"))
        self._jump.setCursor(Qt.CursorShape.PointingHandCursor)
        self._jump.hide()
        self._jump.clicked.connect(self.scroll_to_latest)
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrollbar_value_changed)
        bar.rangeChanged.connect(self._on_scrollbar_range_changed)

    # -- data in -----------------------------------------------------------------------------------------
    def set_messages(self, messages: Iterable[MessageView], has_older: bool = False) -> None:
        """Show a conversation from scratch, scrolled to its end."""
        self._pending.clear()
        self._retry = None
        self._has_older, self._loading_older = has_older, False
        self._older_timer.stop()
        self._older_queue, self._older_due = [], False
        self._model.reset(list(messages))
        self._follow = True
        self.scrollToBottom()
        self._ahead_due = True

    def messages(self) -> list[MessageView]:
        """Return the messages shown (with any streamed text already flushed)."""
        self.flush()
        return list(self._model.items)

    def message_at(self, row: int) -> MessageView:
        """Return the message shown in a row."""
        return self._model.items[row]

    def message(self, message_id: int) -> MessageView | None:
        """Return one message by id, or None."""
        row = self._model.row_of(message_id)
        return self._model.items[row] if row >= 0 else None

    def append_message(self, message: MessageView) -> None:
        """Add a message at the end (follows it when the user was at the end; the user's own new message always
        brings the end into view, as sending does in every chat app)."""
        if message.outcome == Outcome.STREAMING:
            warm_up(self._colors.pygments_style)  # before its first code block needs them
        if message.outcome == Outcome.STREAMING and not message.text:
            self._waiting_since[message.id] = self._clock()
            self._tick_timer.start()
        self._model.insert(len(self._model.items), [message])
        if message.role == Role.USER and not self._follow:
            self.scroll_to_latest()

    def _on_tick_timer_timeout(self) -> None:
        """Count the seconds of a request that has sent nothing back yet."""
        for message_id in list(self._waiting_since):
            msg = self.message(message_id)
            if msg is None or msg.text or msg.outcome != Outcome.STREAMING:
                del self._waiting_since[message_id]
            else:
                self._refresh(message_id)
        if not self._waiting_since:
            self._tick_timer.stop()

    def update_message(self, message: MessageView) -> None:
        """Replace a message by id (its text is authoritative: buffered deltas for it are dropped)."""
        self._pending.pop(message.id, None)
        row = self._model.row_of(message.id)
        if row >= 0:
            self._model.replace(row, message)
            if (
                self._retry is not None
                and message.id == self._retry.message_id
                and message.outcome != Outcome.STREAMING
            ):
                self.clear_retry()
            self._delegate.sizeHintChanged.emit(self._model.index(row))

    def remove_message(self, message_id: int) -> None:
        """Remove a message by id (e.g. before an edited question is resent)."""
        row = self._model.row_of(message_id)
        if row >= 0:
            self._pending.pop(message_id, None)
            self._model.remove(row)

    def prepend_messages(self, messages: Sequence[MessageView], has_older: bool = False) -> None:
        """Insert older messages at the top without moving what the user is reading (the newest _OLDER_CHUNK now,
        the rest as the user nears them)."""
        self._older_queue = list(messages) + self._older_queue
        self._has_older, self._loading_older = has_older, False
        self._show_older()

    def _show_older(self) -> None:
        chunk, self._older_queue = self._older_queue[-_OLDER_CHUNK:], self._older_queue[:-_OLDER_CHUNK]
        if not chunk:
            return
        self.doItemsLayout()  # apply pending height corrections first, so the anchor's offset is current
        anchor = QPersistentModelIndex(self.indexAt(QPoint(0, 0)))
        offset = self.visualRect(anchor).top() if anchor.isValid() else 0
        self._model.insert(0, chunk)
        self.doItemsLayout()
        bar = self.verticalScrollBar()
        if anchor.isValid():
            bar.setValue(bar.value() + self.visualRect(anchor).top() - offset)
        else:
            self.scrollToBottom()
        self._ahead_due = True

    def _load_older(self) -> None:
        """Show the next older rows held back, or ask for older messages when none are."""
        self._older_due = False
        if self._older_queue:
            self._show_older()
        elif self._has_older and not self._loading_older:
            self._loading_older = True
            self.older_requested.emit()

    def set_has_older(self, has_older: bool) -> None:
        """Say whether older messages exist (scrolling to the top then emits older_requested)."""
        self._has_older, self._loading_older = has_older, False

    def append_delta(self, message_id: int, text: str) -> None:
        """Buffer streamed text; a short timer flushes all buffers in one re-layout of the streaming message."""
        first = message_id not in self._pending and not self._text_of(message_id)
        self._pending.setdefault(message_id, []).append(text)
        if first:
            # The answer's first words show at once (time to first token); what follows is batched.
            self.flush()
        elif not self._flush_timer.isActive():
            # Every delta until then joins this flush: one re-layout and one paint per few display frames.
            self._flush_timer.start(self.flush_interval())

    def flush_interval(self) -> int:
        """Milliseconds between two flushes of streamed text: FLUSH_FRAMES frames of the display showing the view."""
        screen = self.screen()
        rate = screen.refreshRate() if screen is not None else 0.0
        frames = max(1, round(FLUSH_FRAMES * 1000.0 / (rate if rate >= 1 else _DEFAULT_REFRESH_HZ)))
        return max(frames, min(FLUSH_LONGEST_MS, round((self._flush_ms + self._paint_ms) / FLUSH_SHARE)))

    def _text_of(self, message_id: int) -> str:
        row = self._model.row_of(message_id)
        return self._model.items[row].text if row >= 0 else ""

    def flush(self) -> None:
        """Apply buffered deltas now."""
        self._flush_timer.stop()
        started = _perf()
        pending, self._pending = self._pending, {}
        for message_id, parts in pending.items():
            row = self._model.row_of(message_id)
            if row < 0:
                continue
            before = self._model.items[row]
            more = "".join(parts)
            msg = dataclasses.replace(before, text=before.text + more)
            settled = self._delegate.settled_height(before) if row == len(self._model.items) - 1 else None
            if settled is not None and self.isVisible():
                self._grow_last(row, msg, more, before, settled)
                continue
            self._model.replace(row, msg)  # repaints the row
            self._delegate.extend(before, msg, more)  # lays out again the answer's unfinished tail only
            # Re-layout the whole list only when the streaming message grew a line; it is laid out exactly
            # now, so the paint that follows agrees and does not ask for a second re-layout.
            if self._delegate.refit(msg):
                self._delegate.sizeHintChanged.emit(self._model.index(row))
        if pending:
            self._flush_ms = (_perf() - started) * 1000

    def _grow_last(self, row: int, msg: MessageView, more: str, before: MessageView, settled: float) -> None:
        """Show more of the streaming answer in the last row, repainting only what changed: from the top of its
        unfinished tail down, what scrolls into view when the view follows the end, and the scroll bar if its handle
        moved. Qt would repaint the whole viewport for the row's new data and again for the re-layout of its new
        height; a paint then cost more than the update it showed (tests/benchmarks)."""
        port, bar = self.viewport(), self._bar
        with bar.holding():
            held = port.testAttribute(Qt.WidgetAttribute.WA_UpdatesDisabled)
            # Updates of the viewport are off only for these calls (set directly: setUpdatesEnabled(True) would ask
            # for a repaint of all of it). Scrolling waits: Qt does not move what is drawn while they are off.
            port.setAttribute(Qt.WidgetAttribute.WA_UpdatesDisabled, True)
            try:
                self._model.replace(row, msg)
                self._delegate.extend(before, msg, more)  # lays out again the answer's unfinished tail only
                self._delegate.refit(msg)
                # The new data (and any new height) has Qt lay out the rows after this event, and repaint all of
                # the viewport then: it is done now instead, while updates are off.
                self.executeDelayedItemsLayout()
            finally:
                port.setAttribute(Qt.WidgetAttribute.WA_UpdatesDisabled, held)
            if self._follow and bar.value() != bar.maximum():
                bar.setValue(bar.maximum())  # Qt moves what is drawn up and repaints only what comes into view
        rect = self.visualRect(self._model.index(row))
        _, column = self._delegate.column(rect)
        geo = self._delegate.geometry(rect, msg, self._delegate.document(msg, column), copies=False)
        top = max(0, math.floor(geo.doc_rect.top() + settled))
        if top < port.height():
            port.update(QRect(0, top, port.width(), port.height() - top))

    def paintEvent(self, event: QPaintEvent) -> None:
        """Paint, noting what it cost (see flush_interval)."""
        started = _perf()
        self._exposed = QRectF(event.rect())
        try:
            super().paintEvent(event)
        finally:
            self._exposed = None
        self._paint_ms = (_perf() - started) * 1000

    def exposed(self) -> QRectF:
        """The part of the viewport being painted (all of it outside a paint)."""
        return QRectF(self.viewport().rect()) if self._exposed is None else self._exposed

    def thinking_rects(self, message_id: int) -> tuple[QRect | None, QRect | None]:
        """Where a message's thinking header and its words (when shown) are in the viewport (for tests)."""
        row = self._model.row_of(message_id)
        if row < 0:
            return None, None
        msg = self._model.items[row]
        rect = self.visualRect(self._model.index(row))
        geo = self._delegate.geometry(rect, msg, self._delegate.document(msg, self._delegate.column(rect)[1]), False)
        head, words = geo.thinking_head, geo.thinking_rect
        return (head.toAlignedRect() if head else None), (words.toAlignedRect() if words else None)

    def idle_work_pending(self) -> bool:
        """Whether work waits for the next paint or idle turn: older rows to show, rows above the view to measure."""
        return self._ahead_due or self._older_due or self._ahead_timer.isActive() or self._older_timer.isActive()

    def render_count(self, message_id: int) -> int:
        """Return how many times a message's document was built (for tests and benchmarks)."""
        return self._delegate.renders[message_id]

    # -- retry notice ------------------------------------------------------------------------------------
    def show_retry(self, wait: RetryWait) -> None:
        """Show 'Azure is busy (reason) - retrying in N s (attempt of attempts)' on a message, counting down."""
        self._retry = wait
        self._retry_timer.start()
        self._refresh(wait.message_id)

    def clear_retry(self) -> None:
        """Remove the retry notice."""
        retry, self._retry = self._retry, None
        self._retry_timer.stop()
        if retry is not None:
            self._refresh(retry.message_id)

    def retry_notice(self) -> str:
        """Return the retry notice as currently shown ('' when none)."""
        if self._retry is None:
            return ""
        left = max(0, math.ceil(self._retry.deadline - self._clock()))
        r = self._retry
        attempt, attempts = r.attempt, r.of
        if left == 0:
            return (
                _tr("Azure is busy (%1) - retrying now (%2 of %3)")
                .replace("%1", r.reason)
                .replace("%2", str(attempt))
                .replace("%3", str(attempts))
            )
        return (
            _tr("Azure is busy (%1) - retrying in %2 s (%3 of %4)")
            .replace("%1", r.reason)
            .replace("%2", str(left))
            .replace("%3", str(attempt))
            .replace("%4", str(attempts))
        )

    def _on_retry_timer_timeout(self) -> None:
        if self._retry is not None:
            self._refresh(self._retry.message_id)

    def _refresh(self, message_id: int) -> None:
        row = self._model.row_of(message_id)
        if row >= 0:
            self._delegate.forget(message_id)
            index = self._model.index(row)
            self._delegate.sizeHintChanged.emit(index)
            self.update(index)

    # -- look --------------------------------------------------------------------------------------------
    def colors(self) -> ColorSet:
        """Return the colour set used to paint."""
        return self._colors

    def set_colors(self, colors: ColorSet) -> None:
        """Switch colours (light/dark); every cached document is rebuilt."""
        self._colors = colors
        self._delegate.invalidate()
        self.viewport().update()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._delegate.invalidate()
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        if event.size().width() != event.oldSize().width():
            self._delegate.invalidate()
        super().resizeEvent(event)
        self._place_jump()

    def _place_jump(self) -> None:
        self._jump.adjustSize()
        self._jump.move((self.width() - self._jump.width()) // 2, self.height() - self._jump.height() - 12)

    # -- what a message shows ----------------------------------------------------------------------------
    def is_last_answer(self, msg: MessageView) -> bool:
        """Return True if `msg` is the final assistant message."""
        items = self._model.items
        return bool(items) and items[-1].id == msg.id and msg.role == Role.ASSISTANT

    def tool_actions(self, msg: MessageView) -> list[tuple[str, str]]:
        """Return the (key, label) toolbar actions for a message."""
        if msg.outcome == Outcome.STREAMING:
            return []
        actions = [("copy", _tr("Copy"))] if msg.text.strip() else []  # nothing to copy: no button that empties it
        if msg.role == Role.USER:
            actions.append(("edit", _tr("Edit & resend")))
        else:
            if self.is_last_answer(msg):
                actions.append(("regenerate", _tr("Regenerate")))
            actions.append(("details", _tr("Details")))
        return actions

    def thinking_label(self, msg: MessageView) -> str:
        """The thinking section's header as shown: an arrow that says whether it is open, then its title."""
        return ("▾ " if msg.thinking_open else "▸ ") + _tr(msg.thinking_title)

    def banner_kind(self, msg: MessageView) -> str:
        """Return 'error', 'warning' or 'note' for a message's outcome banner."""
        if msg.left_out:
            return "note"
        if self._retry_for(msg) or msg.outcome in (Outcome.INTERRUPTED, Outcome.FILTERED):
            return "warning"  # a wait before a retry is not a failure yet
        if msg.outcome == Outcome.FAILED:
            return "error"
        return "note"

    def _retry_for(self, msg: MessageView) -> bool:
        return self._retry is not None and self._retry.message_id == msg.id

    def banner_content(self, msg: MessageView) -> tuple[str, str, str]:
        """Return (title, text, button label) describing a message's outcome; empty when simply complete."""
        if self._retry_for(msg):
            assert self._retry is not None
            return "", self.retry_notice(), _tr("Retry now") if self._retry.automatic else ""
        if msg.outcome == Outcome.STREAMING and not msg.text:
            waited = int(self._clock() - self._waiting_since.get(msg.id, self._clock()))
            if msg.reasoning:  # the model began to think
                line = _tr("Thinking… %1 s") if waited >= 1 else _tr("Thinking…")
            else:
                line = _tr("Waiting for the answer… %1 s") if waited >= 1 else _tr("Waiting for the answer…")
            return "", line.replace("%1", str(waited)), ""
        label = _tr(_ACTION_LABELS[msg.action]) if msg.action is not None else ""
        if msg.left_out or msg.outcome in (Outcome.FILTERED, Outcome.FAILED, Outcome.STOPPED, Outcome.INTERRUPTED):
            return msg.error_title, msg.error_text, label  # the services' words (desktop/services/_words.py)
        if msg.outcome == Outcome.COMPLETE and msg.action is MessageAction.CONTINUE:
            return msg.error_title, msg.error_text, label  # cut at the length limit: offer the rest
        return "", "", ""

    # -- interaction -------------------------------------------------------------------------------------
    def activate(self, msg: MessageView, kind: str, payload: str) -> bool:
        """Perform what a click on a message part means; return True if something happened."""
        if kind == "tool":
            self.trigger(msg.id, payload)
        elif kind == "banner":
            if self._retry_for(msg):
                self.retry_now_requested.emit(msg.id)
            elif msg.outcome == Outcome.INTERRUPTED:
                self.action_requested.emit(msg.id, MessageAction.RETRY)
            else:
                self.action_requested.emit(msg.id, msg.action)
        elif kind == "thinking":
            self.action_requested.emit(msg.id, MessageAction.TOGGLE_THINKING)
        elif kind == "code":
            QGuiApplication.clipboard().setText(payload)
            self.copy_requested.emit(msg.id)
        elif kind == "link":
            _open_link(QUrl(payload))
        else:
            return False
        return True

    def trigger(self, message_id: int, action: str) -> None:
        """Run a toolbar action ('copy', 'edit', 'regenerate', 'details', 'select') on a message."""
        msg = self.message(message_id)
        if msg is None:
            return
        if action == "copy":
            if not msg.text.strip():
                return  # the clipboard keeps what the user had
            QGuiApplication.clipboard().setText(msg.text)
            self.copy_requested.emit(message_id)
        elif action == "edit":
            self.edit_requested.emit(message_id)
        elif action == "regenerate":
            self.regenerate_requested.emit(message_id)
        elif action == "details":
            self.details_requested.emit(message_id)
        elif action == "select":
            index = self._model.index(self._model.row_of(message_id))
            self.setCurrentIndex(index)
            self.edit(index)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        mouse = event.reason() == QContextMenuEvent.Reason.Mouse
        index = self.indexAt(event.pos()) if mouse else self.currentIndex()
        if index.isValid():
            menu = self.actions_menu(index.row())
            menu.popup(event.globalPos() if mouse else self.viewport().mapToGlobal(self.visualRect(index).center()))

    def actions_menu(self, row: int) -> QMenu:
        """Every action of one message, for the keyboard: its tools, its notice's button, each code block's Copy."""
        msg = self._model.items[row]
        menu = QMenu(self)
        menu.setAccessibleName(_tr("Message actions"))
        if msg.reasoning and msg.role == Role.ASSISTANT:
            label = _tr("Hide thinking") if msg.thinking_open else _tr("Show thinking")
            menu.addAction(label, functools.partial(self.activate, msg, "thinking", ""))
        for key, label in self.tool_actions(msg):
            menu.addAction(label, functools.partial(self.trigger, msg.id, key))
        _title, _body, button = self.banner_content(msg)
        if button:
            menu.addAction(button, functools.partial(self.activate, msg, "banner", ""))
        doc = self._delegate.document(msg, self._delegate.column(self.visualRect(self._model.index(row)))[1])
        blocks = doc.code if isinstance(doc, SafeTextDocument) and doc.code is not None else code_blocks(doc)
        for number, code in enumerate(blocks, 1):
            label = _tr("Copy code block %1").replace("%1", f"&{number}" if number < 10 else str(number))
            if code.language:
                label += f" ({code.language})"
            menu.addAction(label, functools.partial(self.activate, msg, "code", code.text))
        menu.addAction(_tr("Select text"), functools.partial(self.trigger, msg.id, "select"))
        return menu

    def focus_latest(self) -> None:
        """Move the keyboard focus to the newest message (arrows move, Enter opens its actions)."""
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self._set_keyboard_focus(True)
        if self._model.items:
            self.setCurrentIndex(self._model.index(len(self._model.items) - 1))
            self.scrollTo(self.currentIndex())

    def focus_ring_shown(self) -> bool:
        """Whether the current message is drawn with a ring: only while the focus is here by the keyboard.

        A click (on Try again, a Copy, a link) also focuses the view; a ring then, on whichever message happened to
        be current, looked like a selection nobody made.
        """
        return self._keyboard_focus and self.hasFocus()

    def _set_keyboard_focus(self, by_keyboard: bool) -> None:
        if by_keyboard != self._keyboard_focus:
            self._keyboard_focus = by_keyboard
            self.viewport().update()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._set_keyboard_focus(False)
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        self._set_keyboard_focus(True)
        index = self.currentIndex()
        if index.isValid() and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.actions_menu(index.row()).popup(self.viewport().mapToGlobal(self.visualRect(index).center()))
            return
        if index.isValid() and event.matches(QKeySequence.StandardKey.Copy):
            self.trigger(self._model.items[index.row()].id, "copy")
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        reason = event.reason()
        if reason == Qt.FocusReason.MouseFocusReason:
            self._keyboard_focus = False
        elif reason in (
            Qt.FocusReason.TabFocusReason,
            Qt.FocusReason.BacktabFocusReason,
            Qt.FocusReason.ShortcutFocusReason,
        ):
            self._keyboard_focus = True
        had_current = self.currentIndex().isValid()
        super().focusInEvent(event)  # (which makes the first row current when none was)
        if not had_current and self._model.items:
            self.setCurrentIndex(self._model.index(len(self._model.items) - 1))
        self.viewport().update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.viewport().update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        index = self.indexAt(event.position().toPoint())
        kind = ""
        if index.isValid():
            msg: MessageView = index.data(Qt.ItemDataRole.UserRole)
            kind, _ = self._delegate.hit(self.visualRect(index), msg, event.position())
            self.viewport().update(self.visualRect(index))
        shape = (
            Qt.CursorShape.PointingHandCursor
            if kind in ("tool", "banner", "code", "link", "thinking")
            else Qt.CursorShape.ArrowCursor
        )
        self.viewport().setCursor(shape)
        super().mouseMoveEvent(event)

    # -- scrolling ---------------------------------------------------------------------------------------
    def is_following(self) -> bool:
        """Return True while the view sticks to the newest message."""
        return self._follow

    def scroll_to_latest(self) -> None:
        """Scroll to the end and follow new text again."""
        self._follow = True
        self.scrollToBottom()
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())
        self._jump.hide()

    def _measure_shown(self) -> None:
        """Give the rows coming into view their real heights before they are painted, keeping the lowest row that
        was already measured where it was (the one being read as the user scrolls up): no jump, one re-layout."""
        if self._measuring or self._follow:
            return
        self._measuring = True
        try:
            port = self.viewport().rect()
            _, column = self._delegate.column(QRect(0, 0, port.width(), 0))
            for _ in range(3):  # rows that shrink bring more into view
                first, last = self.indexAt(port.topLeft()), self.indexAt(QPoint(0, port.bottom()))
                if not first.isValid():
                    return
                rows = range(first.row(), (last.row() if last.isValid() else self._model.rowCount() - 1) + 1)
                new = [r for r in rows if self._delegate.cached(self._model.items[r], column) is None]
                if not new:
                    return
                kept = [r for r in rows if r not in new]
                anchor = QPersistentModelIndex(self._model.index(kept[-1] if kept else rows[-1]))
                offset = self.visualRect(anchor).top()
                changed = [self._delegate.refit(self._model.items[r]) for r in new]  # each one: no short cut
                if not any(changed):
                    return
                self.doItemsLayout()
                bar = self.verticalScrollBar()
                bar.setValue(bar.value() + self.visualRect(anchor).top() - offset)
        finally:
            self._measuring = False

    def _on_scrollbar_value_changed(self, value: int) -> None:
        self._measure_shown()
        bar = self.verticalScrollBar()
        self._follow = value >= bar.maximum() - _FOLLOW_SLACK
        self._jump.setVisible(not self._follow)
        if self._jump.isVisible():
            self._place_jump()
            self._jump.raise_()
        near_top = value <= bar.minimum() + _OLDER_SCREENS * bar.pageStep()
        wanted = bool(self._older_queue) or (self._has_older and not self._loading_older)
        if near_top and wanted and bar.maximum() > 0:
            if value == bar.minimum():
                self._load_older()  # the user is there already
            else:
                self._older_due = True  # before the user gets there, once this scroll is painted
        # Work ahead waits for the paint that shows the scroll (see viewportEvent).
        self._ahead_timer.stop()
        self._ahead_due = True

    def _on_scrollbar_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow and not self._bar.held:  # held: _grow_last scrolls once updates are on again
            self.verticalScrollBar().setValue(maximum)

    # -- row heights ------------------------------------------------------------------------------------
    def _on_delegate_size_hint_changed(self, index: QModelIndex) -> None:
        """A row's height (or every row's, for an invalid index) is to be worked out again before the next layout."""
        if index.isValid():
            self._delegate.stale.add(self._model.items[index.row()].id)
        else:
            self._delegate.all_stale = True

    def doItemsLayout(self) -> None:
        """Lay out the rows, first giving those whose height changed their new one (every layout goes through here,
        the delayed ones Qt runs included)."""
        self._apply_sizes()
        super().doItemsLayout()

    def _apply_sizes(self) -> None:
        delegate, model = self._delegate, self._model
        if delegate.all_stale:
            delegate.all_stale = False
            self._ahead_due = True  # what was measured ahead is gone (a new width, theme or font)
            delegate.stale.clear()
            model.set_sizes((row, delegate.size_of(msg)) for row, msg in enumerate(model.items))
        elif delegate.stale:
            stale, delegate.stale = delegate.stale, set()
            rows = (model.row_of(message_id) for message_id in stale)
            model.set_sizes((row, delegate.size_of(model.items[row])) for row in rows if row >= 0)

    def viewportEvent(self, event: QEvent) -> bool:
        """After a paint, show older rows or measure those above the view (if due) on the next idle turn."""
        handled = super().viewportEvent(event)
        if event.type() == QEvent.Type.Paint:
            if self._older_due:
                self._older_timer.start()
            elif self._ahead_due:
                self._ahead_timer.start()
        return handled

    def _measure_ahead(self) -> None:
        """Lay out a few of the rows above the view that scrolling up shows next, closest first, keeping what is on
        screen where it is; go on at the next idle turn until _AHEAD_SCREENS screens of them are measured."""
        port = self.viewport().rect()
        top = self.indexAt(port.topLeft())
        if not top.isValid():
            self._ahead_due = False
            return
        _, column = self._delegate.column(QRect(0, 0, port.width(), 0))
        reach = -_AHEAD_SCREENS * port.height()
        anchor = QPersistentModelIndex(top)
        offset = self.visualRect(anchor).top()
        started = _perf()
        measured = changed = False
        self._ahead_due = False
        for row in range(top.row() - 1, -1, -1):
            if self.visualRect(self._model.index(row)).bottom() < reach:
                break
            msg = self._model.items[row]
            if self._delegate.cached(msg, column) is not None:
                continue
            spent = (_perf() - started) * 1000
            if measured and spent + len(msg.text) * self._ms_per_char > _AHEAD_SLICE_MS:
                self._ahead_due = True
                self._ahead_timer.start()  # the rest at the next idle turn
                break
            before = _perf()
            changed = self._delegate.refit(msg) or changed
            cost = (_perf() - before) * 1000 / max(1, len(msg.text))
            self._ms_per_char = 0.8 * self._ms_per_char + 0.2 * cost
            measured = True
        if changed:
            self.doItemsLayout()
            bar = self.verticalScrollBar()
            bar.setValue(bar.value() + self.visualRect(anchor).top() - offset)

    def jump_button(self) -> QToolButton:
        """Return the 'Jump to latest' button (for tests and accessibility checks)."""
        return self._jump
