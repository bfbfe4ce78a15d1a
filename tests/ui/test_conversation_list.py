"""The sidebar: grouping by day, search (debounced, bold matches), rename/delete/pin/archive, keyboard."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit

from desktop.services import ConversationRow, SearchRow
from desktop.ui.conversation_list import ConversationList, group_conversations, snippet_html

NOW = datetime(2026, 11, 27, 15, 0)


def _items() -> list[ConversationRow]:
    return [
        ConversationRow(1, "Today chat", NOW - timedelta(hours=2)),
        ConversationRow(2, "Early today", NOW.replace(hour=0, minute=5)),
        ConversationRow(3, "Yesterday chat", NOW - timedelta(days=1)),
        ConversationRow(4, "Week chat", NOW - timedelta(days=5)),
        ConversationRow(5, "Month chat", NOW - timedelta(days=20)),
        ConversationRow(6, "August chat", datetime(2026, 8, 3, 9, 0)),
        ConversationRow(7, "July chat", datetime(2026, 7, 30, 9, 0)),
        ConversationRow(8, "Pinned old", datetime(2025, 1, 1), pinned=True),
        ConversationRow(9, "Archived", NOW, archived=True),
    ]


def test_grouping_by_day_with_fixed_now() -> None:
    groups = [(label, [i.id for i in items]) for label, items in group_conversations(_items(), NOW)]
    assert groups == [
        ("Pinned", [8]),
        ("Today", [1, 2]),
        ("Yesterday", [3]),
        ("Previous 7 days", [4]),
        ("Previous 30 days", [5]),
        ("August 2026", [6]),
        ("July 2026", [7]),
    ]
    with_archived = group_conversations(_items(), NOW, show_archived=True)
    assert with_archived[-1][0] == "Archived"
    assert [i.id for i in with_archived[-1][1]] == [9]


@pytest.fixture
def sidebar(qtbot: Any) -> ConversationList:
    widget = ConversationList(now=lambda: NOW)
    qtbot.addWidget(widget)
    widget.set_items(_items())
    widget.resize(280, 600)
    widget.show()
    return widget


def test_snippet_html_bolds_matches_and_escapes() -> None:
    html = snippet_html("the \x02quota\x03 <b>limit</b> & \x02rate\x03 limit")
    assert html == "the <b>quota</b> &lt;b&gt;limit&lt;/b&gt; &amp; <b>rate</b> limit"
    assert snippet_html("unterminated \x02match") == "unterminated match"


def test_search_is_debounced_and_results_show_bold(sidebar: ConversationList, qtbot: Any) -> None:
    queries: list[str] = []
    sidebar.search_requested.connect(queries.append)
    with qtbot.waitSignal(sidebar.search_requested):
        qtbot.keyClicks(sidebar.search, "quota")
    assert queries == ["quota"]  # five keystrokes, one search
    sidebar.show_search_results([SearchRow(1, "Today chat", "raise the \x02quota\x03 please")])
    assert sidebar.stack.currentWidget() is sidebar.results
    labels = [w.text() for w in sidebar.results.findChildren(QLabel)]
    assert "raise the <b>quota</b> please" in labels
    with qtbot.waitSignal(sidebar.conversation_selected) as blocker:
        sidebar.results.itemClicked.emit(sidebar.results.item(0))
    assert blocker.args == [1]
    with qtbot.waitSignal(sidebar.search_requested, timeout=100) as blocker:
        sidebar.search.clear()  # no debounce: the list comes back at once
    assert blocker.args == [""]
    sidebar.show_search_results(None)  # what the controller answers to an empty query
    assert sidebar.stack.currentWidget() is sidebar.view


def test_a_search_result_is_as_tall_as_its_words_at_the_sidebars_width(sidebar: ConversationList, qtbot: Any) -> None:
    # The row's height came from the snippet's size hint at no particular width: a blank line opened between the
    # title and the snippet. It is the height the words need at the list's width, also after the sidebar is resized.
    long = "the \x02quota\x03 of tokens per minute for this deployment is reached " * 3
    sidebar.show_search_results([SearchRow(1, "Today chat", long)])
    for width in (280, 420):
        sidebar.resize(width, 600)
        qtbot.waitUntil(lambda w=width: sidebar.results.viewport().width() > w - 60)
        item = sidebar.results.item(0)
        label = sidebar.results.itemWidget(item)
        qtbot.waitUntil(lambda label=label, item=item: label.height() == item.sizeHint().height())
        title, snippet = label.findChildren(QLabel)
        gap = snippet.geometry().top() - title.geometry().bottom()
        assert gap <= label.layout().spacing() + 1
        words = snippet.heightForWidth(snippet.width())
        assert snippet.height() == words
        assert label.height() - snippet.geometry().bottom() <= label.layout().contentsMargins().bottom() + 1


def test_a_long_result_title_ends_in_an_ellipsis_inside_the_row(sidebar: ConversationList, qtbot: Any) -> None:
    # The bold title was cut mid-letter at the sidebar's edge ("Show me the same function in two la").
    title_text = "Show me the same function in two languages with code, and explain each one"
    sidebar.show_search_results([SearchRow(1, title_text, "the same \x02function\x03")])
    for width in (280, 420):
        sidebar.resize(width, 600)
        qtbot.waitUntil(lambda w=width: sidebar.results.viewport().width() > w - 60)
        label = sidebar.results.itemWidget(sidebar.results.item(0))
        qtbot.waitUntil(lambda label=label: label.width() <= sidebar.results.viewport().width())
        title = label.findChildren(QLabel)[0]
        qtbot.waitUntil(lambda title=title: title.text().endswith("…"))
        assert title_text.startswith(title.text()[:-1])
        assert title.fontMetrics().horizontalAdvance(title.text()) <= title.contentsRect().width()
        assert title.geometry().right() < label.width()
        assert title.toolTip() == title_text  # the whole title, on hover


def test_no_results_message(sidebar: ConversationList) -> None:
    sidebar.show_search_results([])
    assert sidebar.results.item(0).text() == "No chats match your search."


def test_inline_rename_emits_and_rejects_empty(sidebar: ConversationList, qtbot: Any) -> None:
    sidebar.rename(4)
    editor = sidebar.view.findChild(QLineEdit)
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "Renamed")
    with qtbot.waitSignal(sidebar.rename_requested) as blocker:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert blocker.args == [4, "Renamed"]
    index = sidebar.model.index(sidebar.model.row_of(4), 0)
    with qtbot.assertNotEmitted(sidebar.rename_requested):
        assert not sidebar.model.setData(index, "   ")
    assert index.data() == "Renamed"


def test_menu_actions_emit_requests(sidebar: ConversationList, qtbot: Any) -> None:
    menu = sidebar.context_menu(8)
    assert menu is not None
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert set(actions) == {"Rename", "Unpin", "Archive", "Delete…"}
    with qtbot.waitSignal(sidebar.pin_requested) as blocker:
        actions["Unpin"].trigger()
    assert blocker.args == [8, False]
    with qtbot.waitSignal(sidebar.archive_requested) as blocker:
        actions["Archive"].trigger()
    assert blocker.args == [8, True]
    with qtbot.waitSignal(sidebar.delete_requested) as blocker:
        actions["Delete…"].trigger()
    assert blocker.args == [8]
    assert sidebar.context_menu(99) is None


def test_keyboard_navigation_skips_headers(sidebar: ConversationList, qtbot: Any) -> None:
    seen: list[str] = []
    sidebar.conversation_selected.connect(seen.append)
    sidebar.select_next()
    sidebar.select_next()
    sidebar.select_next()
    sidebar.select_previous()
    assert seen == [8, 1, 2, 1]
    sidebar.view.setFocus()
    with qtbot.waitSignal(sidebar.delete_requested) as blocker:
        qtbot.keyClick(sidebar.view, Qt.Key.Key_Delete)
    assert blocker.args == [1]
    with qtbot.waitSignal(sidebar.conversation_selected) as blocker:
        qtbot.keyClick(sidebar.view, Qt.Key.Key_Return)
    assert blocker.args == [1]


def test_headers_are_not_selectable_and_selection_survives_refresh(sidebar: ConversationList) -> None:
    header = sidebar.model.index(0, 0)
    assert header.data() == "Pinned"
    assert sidebar.model.flags(header) == Qt.ItemFlag.NoItemFlags
    row = sidebar.model.index(1, 0)
    assert sidebar.model.flags(row) == (
        Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable  # renamed in place
    )
    assert sidebar.view.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert sidebar.view.textElideMode() == Qt.TextElideMode.ElideRight
    sidebar.set_current(3)
    sidebar.set_items([*_items(), ConversationRow(10, "New one", NOW)])
    assert sidebar.current_id() == 3


def test_streaming_marker_and_accessible_text(sidebar: ConversationList) -> None:
    sidebar.set_items([ConversationRow(11, "Busy", NOW, pinned=True, streaming=True)])
    index = sidebar.model.index(sidebar.model.row_of(11), 0)
    assert index.data().startswith("Busy")
    assert index.data() != "Busy"
    assert index.data(Qt.ItemDataRole.AccessibleTextRole) == "Busy, pinned, answering"


def test_new_chat_and_collapse(sidebar: ConversationList, qtbot: Any) -> None:
    with qtbot.waitSignal(sidebar.new_requested):
        qtbot.mouseClick(sidebar.new_button, Qt.MouseButton.LeftButton)
    sidebar.set_collapsed(True)
    assert not sidebar.stack.isVisible()
    assert not sidebar.search.isVisible()
    assert sidebar.new_button.isVisible()
    sidebar.set_collapsed(False)
    assert sidebar.stack.isVisible()


def test_focus_search_selects_text(sidebar: ConversationList, qtbot: Any) -> None:
    sidebar.activateWindow()
    sidebar.search.setText("abc")
    sidebar.focus_search()
    assert sidebar.search.selectedText() == "abc"


def _styled_heights(sidebar: ConversationList) -> list[int]:
    """Each row's height as the style gives it, measured on a copy of the row that has no stored size."""
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

    option = QStyleOptionViewItem()
    sidebar.view.initViewItemOption(option)  # as the view sizes its rows: its font, style and style sheet
    reference, probe = QStyledItemDelegate(), QStandardItemModel(1, 1)
    heights = []
    for row in range(sidebar.model.rowCount()):
        index = sidebar.model.index(row, 0)
        item = QStandardItem(index.data())
        font = index.data(Qt.ItemDataRole.FontRole)
        if font is not None:
            item.setFont(font)
        probe.setItem(0, 0, item)
        heights.append(reference.sizeHint(option, probe.index(0, 0)).height())
    return heights


def test_rows_take_the_styled_height_and_the_views_width(sidebar: ConversationList, qtbot: Any) -> None:
    # Each kind of row is measured once (and again when the style changes): every row must still get the style's
    # own height, and a long title must not widen the list past the sidebar (it is elided at the view's edge).
    long_title = "A much longer title than the others, far wider than the sidebar can show in one line"
    sidebar.set_items([*_items(), ConversationRow(12, long_title, NOW, streaming=True)])
    sidebar.upsert(ConversationRow(13, "Inserted", NOW + timedelta(minutes=1)))  # a row added without a reset
    for sheet in ("", "QListView { font-size: 21px; }"):
        sidebar.setStyleSheet(sheet)
        sidebar.view.doItemsLayout()
        width = sidebar.view.viewport().width()
        heights = [sidebar.view.visualRect(sidebar.model.index(r, 0)).height() for r in range(sidebar.model.rowCount())]
        assert heights == _styled_heights(sidebar), sheet
        for row in range(sidebar.model.rowCount()):
            assert sidebar.view.visualRect(sidebar.model.index(row, 0)).width() == width
        assert sidebar.view.horizontalScrollBar().maximum() == 0
    assert len(set(heights)) == 2  # the bigger text made both kinds taller, each by its own font


def test_renaming_a_streaming_conversation_edits_its_bare_title(sidebar: ConversationList, qtbot: Any) -> None:
    sidebar.upsert(ConversationRow(1, "Today chat", NOW - timedelta(minutes=1), streaming=True))
    sidebar.rename(1)
    editor = sidebar.view.findChild(QLineEdit)
    assert editor is not None
    assert editor.text() == "Today chat"  # not the shown "Today chat  ●"
    editor.setText("Busy one")
    with qtbot.waitSignal(sidebar.rename_requested) as blocker:
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert blocker.args == [1, "Busy one"]
    index = sidebar.model.index(sidebar.model.row_of(1), 0)
    assert index.data() == "Busy one  ●"
    assert index.data(Qt.ItemDataRole.ToolTipRole) == "Busy one"
    assert index.data(Qt.ItemDataRole.AccessibleTextRole) == "Busy one, answering"


def _grouped_titles(sidebar: ConversationList) -> list[str]:
    """What the list must show: every group's label, then its conversations' titles (with the answering mark)."""
    return [
        t
        for label, items in group_conversations(list(sidebar._items.values()), NOW)
        for t in [label, *(i.title + ("  ●" if i.streaming else "") for i in items)]
    ]


def _shown_titles(sidebar: ConversationList) -> list[str]:
    return [sidebar.model.index(r, 0).data() for r in range(sidebar.model.rowCount())]


def test_upsert_changes_a_row_in_place_when_it_keeps_its_place(sidebar: ConversationList) -> None:
    resets: list[bool] = []
    sidebar.model.modelReset.connect(lambda: resets.append(True))
    sidebar.set_current(1)
    # The newest conversation gets newer and starts streaming: same place, changed in place (no reset).
    sidebar.upsert(ConversationRow(1, "Today chat", NOW - timedelta(minutes=1), streaming=True))
    assert resets == []
    row = sidebar.model.row_of(1)
    assert sidebar.model.index(row, 0).data().startswith("Today chat  ")
    assert sidebar.current_id() == 1
    # A renamed row in the middle of its group.
    sidebar.upsert(ConversationRow(3, "Yesterday, renamed", NOW - timedelta(days=1)))
    assert resets == []
    assert _shown_titles(sidebar) == _grouped_titles(sidebar)


def test_upsert_moves_a_conversation_that_becomes_the_newest_of_a_shown_group(sidebar: ConversationList) -> None:
    resets: list[bool] = []
    sidebar.model.modelReset.connect(lambda: resets.append(True))
    sidebar.set_current(1)
    # An older conversation answered again moves to the top of Today; its group ("Previous 7 days") goes with it.
    sidebar.upsert(ConversationRow(4, "Week chat", NOW))
    assert _shown_titles(sidebar) == _grouped_titles(sidebar)
    assert "Previous 7 days" not in _shown_titles(sidebar)
    assert sidebar.current_id() == 1
    # The selected one moves (pinned: to the top of Pinned) and stays selected.
    sidebar.set_current(3)
    sidebar.upsert(ConversationRow(3, "Yesterday chat", NOW - timedelta(days=1), pinned=True))
    assert _shown_titles(sidebar) == _grouped_titles(sidebar)
    assert sidebar.current_id() == 3
    assert resets == []
    # Its group is not shown ("Yesterday" went with its last conversation): the list is regrouped.
    sidebar.upsert(ConversationRow(5, "Month chat", NOW - timedelta(days=1)))
    assert resets == [True]
    assert _shown_titles(sidebar) == _grouped_titles(sidebar)
    assert sidebar.current_id() == 3


def test_upsert_inserts_a_new_conversation_at_the_top_of_its_shown_group(sidebar: ConversationList) -> None:
    resets: list[bool] = []
    sidebar.model.modelReset.connect(lambda: resets.append(True))
    sidebar.set_current(3)
    sidebar.upsert(ConversationRow(20, "Brand new", NOW))
    assert resets == []
    assert sidebar.model.index(sidebar.model.row_of(20) - 1, 0).data() == "Today"
    assert sidebar.current_id() == 3
    # Its group ("Today") is not shown yet: the list is regrouped as a whole.
    sidebar.set_items([ConversationRow(1, "Old", NOW - timedelta(days=3))])
    sidebar.upsert(ConversationRow(21, "Newest", NOW))
    assert len(resets) == 2
    assert [sidebar.model.index(r, 0).data() for r in range(sidebar.model.rowCount())] == [
        "Today",
        "Newest",
        "Previous 7 days",
        "Old",
    ]


def test_a_rows_new_title_repaints_that_row_only(sidebar: ConversationList, qtbot: Any) -> None:
    from PySide6.QtCore import QEvent, QObject, QRect
    from PySide6.QtGui import QPaintEvent

    class Painted(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.rects: list[QRect] = []

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if isinstance(event, QPaintEvent):
                self.rects.append(event.rect())
            return False

    qtbot.waitExposed(sidebar)
    sidebar.view.doItemsLayout()
    painted = Painted()
    sidebar.view.viewport().installEventFilter(painted)
    sidebar.view.viewport().repaint()  # nothing left over from the first paint
    painted.rects.clear()
    sidebar.upsert(ConversationRow(1, "Today chat, renamed", NOW - timedelta(hours=1), streaming=True))
    qtbot.waitUntil(lambda: bool(painted.rects))
    row = sidebar.view.visualRect(sidebar.model.index(sidebar.model.row_of(1), 0))
    assert painted.rects == [row]
    assert sidebar.model.index(sidebar.model.row_of(1), 0).data() == "Today chat, renamed  ●"


def test_rows_measured_before_the_list_is_shown_follow_a_later_style(qtbot: Any) -> None:
    sidebar = ConversationList(now=lambda: NOW)
    qtbot.addWidget(sidebar)
    sidebar.set_items(_items())  # measured here, before any paint
    sidebar.setStyleSheet("QListView { font-size: 21px; }")
    sidebar.resize(280, 600)
    sidebar.show()
    qtbot.waitExposed(sidebar)
    sidebar.view.doItemsLayout()
    heights = [sidebar.view.visualRect(sidebar.model.index(r, 0)).height() for r in range(sidebar.model.rowCount())]
    assert heights == _styled_heights(sidebar)
