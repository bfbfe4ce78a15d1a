"""The sidebar: search, New chat, and conversations grouped by day with rename/delete/pin/archive."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QSize,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QContextMenuEvent,
    QFont,
    QFontMetricsF,
    QKeyEvent,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from desktop.services import ConversationRow, SearchRow
from desktop.ui.lazy_qt import EDIT_ROLE, ELIDE_RIGHT, SCROLL_BAR_ALWAYS_OFF, USER_ROLE, Qt, set_enum_property

if TYPE_CHECKING:
    from PySide6.QtGui import QResizeEvent

__all__ = ["ConversationList", "group_conversations", "snippet_html"]

SEARCH_DEBOUNCE_MS = 250
_ID_ROLE = USER_ROLE
_HEADER_ROLE = USER_ROLE + 1


def _tr(text: str) -> str:
    return QCoreApplication.translate("ConversationList", text)


def group_conversations(
    items: Sequence[ConversationRow], now: datetime, *, show_archived: bool = False
) -> list[tuple[str, list[ConversationRow]]]:
    """Group conversations: Pinned, Today, Yesterday, Previous 7 days, Previous 30 days, then by month; newest first."""
    groups: dict[str, list[ConversationRow]] = {}
    archived: list[ConversationRow] = []
    for item in sorted(items, key=lambda x: x.updated_at, reverse=True):
        if item.archived:
            archived.append(item)
            continue
        groups.setdefault(group_label(item, now), []).append(item)
    pinned = _tr("Pinned")
    ordered = sorted(groups.items(), key=lambda kv: kv[0] != pinned)  # stable: other groups keep date order
    if show_archived and archived:
        ordered.append((_tr("Archived"), archived))
    return ordered


def group_label(item: ConversationRow, now: datetime) -> str:
    """The group a (not archived) conversation shows under."""
    if item.pinned:
        return _tr("Pinned")
    local = _local(item.updated_at)
    day = local.astimezone(now.tzinfo).date() if now.tzinfo else local.date()
    age = (now.date() - day).days
    if age <= 0:
        return _tr("Today")
    if age == 1:
        return _tr("Yesterday")
    if age <= 7:
        return _tr("Previous 7 days")
    if age <= 30:
        return _tr("Previous 30 days")
    return local.strftime("%B %Y")


def _local(moment: datetime) -> datetime:
    """History keeps UTC; the sidebar groups by the user's own day."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().replace(tzinfo=None)


_MARK = re.compile("\x02(.*?)\x03", re.DOTALL)


def snippet_html(snippet: str) -> str:
    """Turn a \\x02..\\x03-marked snippet into escaped HTML with the matches in bold."""
    import html  # only a search shows snippets: not loaded before the first paint

    out, last = [], 0
    for match in _MARK.finditer(snippet):
        out.append(html.escape(snippet[last : match.start()]))
        out.append(f"<b>{html.escape(match.group(1))}</b>")
        last = match.end()
    out.append(html.escape(snippet[last:].replace("\x02", "").replace("\x03", "")))
    return "".join(out)


class _Model(QStandardItemModel):
    """The rows (group headers as str, conversations) as Qt items the view reads without calling back into Python.

    QListView lays out every row again after each insertion (a send adds a row) and asks for each row's size and,
    several times, for the row count: through a Python model and delegate that was ~10 calls into Python per row,
    ~25 ms per send with 1,000 conversations, on the GUI thread before the request went out. Here every answer is
    stored in the items (the size of each kind of row included, see `set_sizes`), so that layout runs in C++
    (< 1 ms); `rows` mirrors them for the list's own logic.
    """

    rename = Signal(object, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[str | ConversationRow] = []  # a str row is a group header
        self.sizes: dict[bool, QSize] = {}  # header? -> the size of a row of that kind (see `row_sizes`)

    def set_sizes(self, sizes: dict[bool, QSize]) -> None:
        """Give every row of each kind this size (the style or the fonts changed: headers take the new font too)."""
        self.sizes = dict(sizes)
        font = _header_font()
        for row, value in enumerate(self.rows):
            item = self.item(row)
            if isinstance(value, str):
                item.setFont(font)
            item.setSizeHint(self.sizes[isinstance(value, str)])

    def set_groups(self, groups: list[tuple[str, list[ConversationRow]]]) -> None:
        self.beginResetModel()
        self.rows = []
        for label, items in groups:
            self.rows.append(label)
            self.rows.extend(items)
        font = _header_font()
        built = [self._header_item(row, font) if isinstance(row, str) else self._item(row) for row in self.rows]
        blocked = self.blockSignals(True)  # the view hears of this as one reset, not as removals and insertions
        try:
            self.setRowCount(0)
            self.setColumnCount(1)
            if built:
                self.invisibleRootItem().appendRows(built)
        finally:
            self.blockSignals(blocked)
        self.endResetModel()

    def insert(self, row: int, value: ConversationRow) -> None:
        """Insert a conversation's row."""
        self.rows.insert(row, value)
        self.insertRow(row, self._item(value))

    def take(self, row: int, count: int) -> None:
        """Remove `count` rows from `row` on."""
        del self.rows[row : row + count]
        self.removeRows(row, count)

    def replace(self, row: int, value: ConversationRow) -> None:
        """Show a conversation's new title, marks and state in its row."""
        self.rows[row] = value
        _fill(self.item(row), value)

    def _header_item(self, label: str, font: QFont) -> QStandardItem:
        item = QStandardItem(label)
        item.setData(True, _HEADER_ROLE)
        item.setFont(font)
        for allow in (item.setEnabled, item.setSelectable, item.setEditable, item.setDragEnabled, item.setDropEnabled):
            allow(False)  # no flags at all (item.setFlags would need the Qt namespace: see desktop/ui/lazy_qt.py)
        size = self.sizes.get(True)
        if size is not None:
            item.setSizeHint(size)
        return item

    def _item(self, value: ConversationRow) -> QStandardItem:
        item = QStandardItem()  # enabled, selectable, editable: not dragged or dropped
        item.setDragEnabled(False)
        item.setDropEnabled(False)
        size = self.sizes.get(False)
        if size is not None:
            item.setSizeHint(size)
        _fill(item, value)
        return item

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = EDIT_ROLE) -> bool:
        row = self.rows[index.row()] if index.isValid() else None
        if role != EDIT_ROLE or not isinstance(row, ConversationRow):
            return False
        title = str(value).strip()
        if not title or title == row.title:
            return False  # an empty title would leave a blank row: keep the old one
        self.replace(index.row(), dataclasses.replace(row, title=title))
        self.rename.emit(row.id, title)
        return True

    def row_of(self, conversation_id: int) -> int:
        return next(
            (i for i, r in enumerate(self.rows) if isinstance(r, ConversationRow) and r.id == conversation_id), -1
        )

    def conversation_at(self, index: QModelIndex | QPersistentModelIndex) -> ConversationRow | None:
        """The conversation shown at `index` (None for a group header or no row)."""
        row = self.rows[index.row()] if index.isValid() and index.row() < len(self.rows) else None
        return row if isinstance(row, ConversationRow) else None


def row_sizes(view: QListView) -> dict[bool, QSize]:
    """The styled size of a group header (True) and of a conversation's row (False) in `view`, without their text.

    Rows of one kind have the same height, and in this list every row is as wide as the view, so each kind is
    measured once (per style and font) and its height reused. The width left out is the title's: a row's text is
    elided to the view's width when it is painted, never wider.
    """
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)  # as the view sizes its rows: its font, style and style sheet
    probe = QStandardItemModel(1, 1)  # a row like each kind, without a size of its own
    delegate = QStyledItemDelegate()
    sizes: dict[bool, QSize] = {}
    for header, text in ((True, _tr("Today")), (False, _tr("New chat"))):
        item = QStandardItem(text)
        if header:
            item.setFont(_header_font())
        probe.setItem(0, 0, item)
        full = delegate.sizeHint(option, probe.index(0, 0))
        metrics = QFontMetricsF(_header_font() if header else option.font)
        sizes[header] = QSize(full.width() - math.ceil(metrics.horizontalAdvance(text)), full.height())
    return sizes


def _header_font() -> QFont:
    font = QFont()
    font.setBold(True)
    font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
    return font


def _fill(item: QStandardItem, row: ConversationRow) -> None:
    """Put a conversation's text, tooltip, accessible text and id in its item (one change signal per role set)."""
    state = [_tr("pinned")] if row.pinned else []
    if row.streaming:
        state.append(_tr("answering"))
    item.setText(row.title + ("  ●" if row.streaming else ""))  # EditRole is this text too: see setEditorData
    item.setToolTip(row.title)
    item.setAccessibleText(", ".join([row.title, *state]))
    item.setData(row.id, _ID_ROLE)


class _List(QListView):
    key_action = Signal(str)
    menu_requested = Signal(QModelIndex, QPoint)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        keyboard = event.reason() != QContextMenuEvent.Reason.Mouse
        index = self.currentIndex() if keyboard else self.indexAt(event.pos())
        pos = self.viewport().mapToGlobal(self.visualRect(index).center()) if keyboard else event.globalPos()
        self.menu_requested.emit(index, pos)

    def dataChanged(
        self,
        top_left: QModelIndex | QPersistentModelIndex,
        bottom_right: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        """A row's new title or state repaints that row only.

        QListView lays out all rows again and repaints the whole list after any change to a row's data (~4 ms with a
        full sidebar, at each send: the new title, the "answering" mark). Here a row's size only changes with its size
        or font, so other changes skip that and repaint the changed rows, as any item view does.
        """
        if roles and not {Qt.ItemDataRole.SizeHintRole, Qt.ItemDataRole.FontRole} & set(roles):
            QAbstractItemView.dataChanged(self, top_left, bottom_right, roles)
        else:
            super().dataChanged(top_left, bottom_right, roles)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange):
            model = self.model()
            if isinstance(model, _Model) and model.sizes:
                model.set_sizes(row_sizes(self))
        super().changeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.state() != QAbstractItemView.State.EditingState:
            if event.key() == Qt.Key.Key_Delete:
                self.key_action.emit("delete")
                return
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.key_action.emit("open")
                return
        super().keyPressEvent(event)


class _SearchField(QLineEdit):
    """The search box: Esc clears it (before the window's Esc, which stops an answer, can take the key)."""

    def event(self, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and self.text()
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
            return
        super().keyPressEvent(event)


class _RenameDelegate(QStyledItemDelegate):
    """Gives the inline rename field the height it needs (the row's padding would squeeze it) and the bare title."""

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        model = index.model()
        row = model.conversation_at(index) if isinstance(model, _Model) else None
        if isinstance(editor, QLineEdit) and row is not None:
            editor.setText(row.title)  # the shown text may end in the "answering" mark
        else:
            super().setEditorData(editor, index)

    def updateEditorGeometry(
        self, editor: QWidget, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        rect = option.rect
        height = max(rect.height(), editor.sizeHint().height())
        editor.setGeometry(rect.x(), rect.center().y() - height // 2, rect.width(), height)


class ConversationList(QWidget):
    """The sidebar with search, New chat and the grouped conversation list."""

    conversation_selected = Signal(object)  # conversation id (int)
    new_requested = Signal()
    search_requested = Signal(str)
    rename_requested = Signal(object, str)
    delete_requested = Signal(object)
    pin_requested = Signal(object, bool)
    archive_requested = Signal(object, bool)

    def __init__(self, parent: QWidget | None = None, now: Callable[[], datetime] = datetime.now) -> None:
        super().__init__(parent)
        self._now = now
        self._items: dict[int, ConversationRow] = {}
        self._show_archived = False
        self.new_button = QPushButton(_tr("+ New chat"), self)
        self.new_button.setAccessibleName(_tr("New chat"))
        # Ctrl+N belongs to the window's "New chat" action: a second owner would make the shortcut ambiguous in Qt,
        # and then neither fires.
        self.new_button.setToolTip(_tr("New chat (Ctrl+N)"))
        self.new_button.clicked.connect(self.new_requested)
        self.search = _SearchField(self)
        self.search.setPlaceholderText(_tr("Search chats"))
        self.search.setAccessibleName(_tr("Search chats"))
        self.search.textChanged.connect(self._on_search_text_changed)
        self._debounce = QTimer(self, singleShot=True, interval=SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._on_debounce_timeout)
        self.model = _Model(self)
        self.model.rename.connect(self.rename_requested)
        self.view = _List(self)
        self.view.setAccessibleName(_tr("Conversations"))
        self.view.setObjectName("conversations")
        self.view.setFrameShape(QListView.Shape.NoFrame)
        # Item padding in a style sheet switches off the style's selection look: restate it from the palette.
        self.view.setStyleSheet(
            "QListView#conversations::item { padding: 5px 6px; border-radius: 6px; color: palette(text); }"
            "QListView#conversations::item:hover { background: palette(alternate-base); }"
            "QListView#conversations::item:selected { background: palette(midlight); font-weight: 600; }"
        )
        self.view.setModel(self.model)
        self.view.setItemDelegate(_RenameDelegate(self.view))
        self.view.setUniformItemSizes(False)
        # Long titles end in "…" (the full title is in the tooltip) instead of widening the list past the sidebar.
        set_enum_property(self.view, "horizontalScrollBarPolicy", SCROLL_BAR_ALWAYS_OFF)
        set_enum_property(self.view, "textElideMode", ELIDE_RIGHT)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.clicked.connect(self._on_view_activated)
        self.view.key_action.connect(self._on_view_key_action)
        self.view.menu_requested.connect(self._on_view_menu_requested)
        self._results: _ResultList | None = None  # made at the first search (`results`)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.stack, 1)

    def finish_building(self) -> None:
        """After the first paint: the search field's clear button (hidden while the field is empty, as it is in the
        first frame; Qt looks for its icon among the icon and image plugins, ~0.7 ms)."""
        self.search.setClearButtonEnabled(True)

    @property
    def results(self) -> _ResultList:
        """The search results' list, in the stack behind the conversations; made at its first use."""
        if self._results is None:
            results = _ResultList(self)
            results.setAccessibleName(_tr("Search results"))
            results.setFrameShape(QListWidget.Shape.NoFrame)
            results.itemActivated.connect(self._on_results_item_activated)
            results.itemClicked.connect(self._on_results_item_activated)
            self.stack.addWidget(results)
            QWidget.setTabOrder(self.view, results)  # where creating it with the view put it in the Tab chain
            self._results = results
        return self._results

    # -- data --------------------------------------------------------------------------------------------
    def set_items(self, items: Sequence[ConversationRow]) -> None:
        """Show these conversations (grouped by day), keeping the current selection."""
        current = self.current_id()
        self._items = {item.id: item for item in items}
        if not self.model.sizes:
            self.model.sizes = row_sizes(self.view)
        self.model.set_groups(
            group_conversations(list(self._items.values()), self._now(), show_archived=self._show_archived)
        )
        if current is not None:
            self.set_current(current)

    def upsert(self, item: ConversationRow) -> None:
        """Add or update one conversation (no other row is read again).

        A conversation that keeps its place (the usual case while a turn runs: it is already the newest) is changed
        in place: regrouping and laying out 1,000 rows again cost ~20 ms at each send.
        """
        self._items[item.id] = item
        if not self._update_in_place(item) and not self._move(item):
            self.set_items(list(self._items.values()))

    def _update_in_place(self, item: ConversationRow) -> bool:
        if item.archived:
            return False
        rows = self.model.rows
        label = group_label(item, self._now())
        row = self.model.row_of(item.id)
        if row < 0:  # a new conversation: at the top of its group, if that group is shown already
            top = next((i + 1 for i, r in enumerate(rows) if r == label), -1)
            after = rows[top] if 0 < top < len(rows) else None
            if top < 0 or (isinstance(after, ConversationRow) and after.updated_at > item.updated_at):
                return False
            self.model.insert(top, item)
            return True
        header = next((r for r in reversed(rows[:row]) if isinstance(r, str)), None)
        if header != label:
            return False
        before = rows[row - 1] if row > 0 else None
        after = rows[row + 1] if row + 1 < len(rows) else None
        if isinstance(before, ConversationRow) and before.updated_at < item.updated_at:
            return False
        if isinstance(after, ConversationRow) and after.updated_at > item.updated_at:
            return False
        self.model.replace(row, item)
        return True

    def _move(self, item: ConversationRow) -> bool:
        """Move a shown conversation that became the newest of a shown group (an older chat answered again, pinned)
        to the top of that group, its old group's header going with it when it was the last one there.

        Regrouping 1,000 rows instead costs ~40 ms; other changes (a group not shown yet, archiving) still regroup.
        """
        rows = self.model.rows
        row = self.model.row_of(item.id)
        if row < 0 or item.archived:
            return False
        alone = row > 0 and isinstance(rows[row - 1], str) and (row + 1 == len(rows) or isinstance(rows[row + 1], str))
        first, count = (row - 1, 2) if alone else (row, 1)
        rest = rows[:first] + rows[first + count :]
        label = group_label(item, self._now())
        top = next((i + 1 for i, r in enumerate(rest) if r == label), -1)
        after = rest[top] if 0 < top < len(rest) else None
        if top < 0 or (isinstance(after, ConversationRow) and after.updated_at > item.updated_at):
            return False
        current = self.current_id()
        self.model.take(first, count)
        self.model.insert(top, item)
        if current == item.id:
            self.set_current(item.id)
        return True

    def remove(self, conversation_id: int) -> None:
        """Remove one conversation."""
        if self._items.pop(conversation_id, None) is not None:
            self.set_items(list(self._items.values()))

    def set_show_archived(self, show: bool) -> None:
        """Show archived conversations in an 'Archived' group at the end."""
        self._show_archived = show
        self.set_items(list(self._items.values()))

    def current_id(self) -> int | None:
        """Return the selected conversation id."""
        value = self.view.currentIndex().data(_ID_ROLE)
        return value if isinstance(value, int) else None

    def set_current(self, conversation_id: int | None) -> None:
        """Select a conversation (None: no selection) without emitting conversation_selected."""
        row = self.model.row_of(conversation_id) if conversation_id is not None else -1
        if row >= 0:
            self.view.setCurrentIndex(self.model.index(row, 0))
        else:
            self.view.setCurrentIndex(QModelIndex())

    def focus_search(self) -> None:
        """Put the keyboard focus in the search field, its text selected."""
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    def set_collapsed(self, collapsed: bool) -> None:
        """Hide everything but the New chat button (the sidebar shrinks to a strip)."""
        self.search.setVisible(not collapsed)
        self.stack.setVisible(not collapsed)
        self.new_button.setText("+" if collapsed else _tr("+ New chat"))

    def show_search_results(self, results: Sequence[SearchRow] | None) -> None:
        """Show full-text search results with the matched words in bold; None shows the conversations again."""
        if results is None:
            if self._results is not None:
                self._results.clear()
            self.stack.setCurrentWidget(self.view)
            return
        self.results.clear()
        for result in results:
            item = QListWidgetItem(self.results)
            item.setData(_ID_ROLE, result.conversation_id)
            label = _ResultLabel(result)
            plain = _MARK.sub(r"\1", result.snippet)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{result.title}: {plain}")
            self.results.setItemWidget(item, label)
        self.results.fit()
        if not results:
            QListWidgetItem(_tr("No chats match your search."), self.results).setFlags(Qt.ItemFlag.NoItemFlags)
        self.stack.setCurrentWidget(self.results)

    # -- navigation --------------------------------------------------------------------------------------
    def select_next(self) -> None:
        """Select the next conversation (skipping group headers) and emit conversation_selected."""
        self._step(1)

    def select_previous(self) -> None:
        """Select the previous conversation (skipping group headers) and emit conversation_selected."""
        self._step(-1)

    def _step(self, delta: int) -> None:
        rows = [i for i, r in enumerate(self.model.rows) if isinstance(r, ConversationRow)]
        if not rows:
            return
        current = self.view.currentIndex().row()
        if current in rows:
            target = rows[max(0, min(len(rows) - 1, rows.index(current) + delta))]
        else:
            target = rows[0] if delta > 0 else rows[-1]
        index = self.model.index(target, 0)
        self.view.setCurrentIndex(index)
        self._on_view_activated(index)

    def rename(self, conversation_id: int) -> None:
        """Start inline renaming of a conversation."""
        row = self.model.row_of(conversation_id)
        if row >= 0:
            index = self.model.index(row, 0)
            self.view.setCurrentIndex(index)
            self.view.edit(index)

    # -- slots -------------------------------------------------------------------------------------------
    def _on_view_activated(self, index: QModelIndex) -> None:
        value = index.data(_ID_ROLE)
        if isinstance(value, int):
            self.conversation_selected.emit(value)

    def _on_view_key_action(self, action: str) -> None:
        item = self.model.conversation_at(self.view.currentIndex())
        if item is not None:
            if action == "delete":
                self.delete_requested.emit(item.id)
            else:
                self.conversation_selected.emit(item.id)

    def _on_results_item_activated(self, item: QListWidgetItem) -> None:
        value = item.data(_ID_ROLE)
        if isinstance(value, int):
            self.conversation_selected.emit(value)

    def _on_search_text_changed(self, text: str) -> None:
        if text.strip():
            self._debounce.start()
        else:  # cleared (✕, Backspace, Esc): the list comes back at once
            self._debounce.stop()
            self.search_requested.emit("")

    def _on_debounce_timeout(self) -> None:
        self.search_requested.emit(self.search.text().strip())

    def _on_view_menu_requested(self, index: QModelIndex, pos: QPoint) -> None:
        item = self.model.conversation_at(index)
        if item is not None:
            menu = self.context_menu(item.id)
            if menu is not None:
                menu.popup(pos)

    def context_menu(self, conversation_id: int) -> QMenu | None:
        """Build the actions menu of a conversation (rename, pin, archive, delete); None if unknown."""
        row = self.model.row_of(conversation_id)
        item = self.model.rows[row] if row >= 0 else None
        if not isinstance(item, ConversationRow):
            return None
        menu = QMenu(self)
        menu.setAccessibleName(_tr("Conversation actions"))
        menu.addAction(_tr("Rename"), lambda: self.rename(item.id)).setShortcut("F2")
        menu.addAction(
            _tr("Unpin") if item.pinned else _tr("Pin"), lambda: self.pin_requested.emit(item.id, not item.pinned)
        )
        menu.addAction(
            _tr("Unarchive") if item.archived else _tr("Archive"),
            lambda: self.archive_requested.emit(item.id, not item.archived),
        )
        menu.addSeparator()
        menu.addAction(_tr("Delete…"), lambda: self.delete_requested.emit(item.id)).setShortcut("Del")
        return menu


class _ResultList(QListWidget):
    """Search results, each row as tall as its words need at the list's width (again when the sidebar is resized)."""

    def fit(self) -> None:
        """Give every result row the height its title and wrapped snippet take at the current width."""
        width = self.viewport().width()
        for row in range(self.count()):
            item = self.item(row)
            widget = self.itemWidget(item)
            if widget is not None:
                item.setSizeHint(QSize(width, widget.heightForWidth(width)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Fit the rows to the new width."""
        super().resizeEvent(event)
        self.fit()


class _ResultLabel(QWidget):
    """A search result: title and a snippet with the matches in bold (rich text built from escaped parts)."""

    def __init__(self, result: SearchRow) -> None:
        super().__init__()
        from PySide6.QtWidgets import QLabel, QSizePolicy

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self._title = result.title
        self.title = title = QLabel(self)
        title.setTextFormat(Qt.TextFormat.PlainText)
        title.setToolTip(result.title)
        # Elided to the row's width (resizeEvent), never asking for the whole title's width.
        title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bold = title.font()
        bold.setBold(True)
        title.setFont(bold)
        self.snippet = QLabel(self)
        self.snippet.setTextFormat(Qt.TextFormat.RichText)
        self.snippet.setWordWrap(True)
        self.snippet.setText(snippet_html(result.snippet))
        layout.addWidget(title)
        layout.addWidget(self.snippet)
        self._elide_title()

    def _elide_title(self) -> None:
        width = self.title.contentsRect().width()
        elided = self.title.fontMetrics().elidedText(self._title, Qt.TextElideMode.ElideRight, width)
        self.title.setText(elided if width > 0 else self._title)  # (not laid out yet: the whole title)

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Elide the title to the new width."""
        super().resizeEvent(event)
        self._elide_title()
