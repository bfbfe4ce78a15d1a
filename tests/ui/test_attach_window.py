"""Attaching documents in the real window (built by `desktop.app.compose`) against the simulator: the composer's chips,
the sent message's chips on screen, refusals under the message box, and the chips again after a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QMimeData, QRect, QUrl

from desktop.app import Composition
from desktop.services import FileChip, Role
from tests.documents import make_docx, make_pdf
from tests.ui import test_main_window as window_tests
from tests.ui.test_main_window import build, finish_turn, run_until

app = window_tests.app  # the window's fixtures, shared

_AS_FILE = "Sent as a PDF file: the model reads its text and pages."
_AS_TEXT = "Sent as text read on this computer: this deployment does not read PDF files."


def _read_all(app: Composition, qtbot: Any) -> None:
    composer = app.window.composer
    qtbot.waitUntil(lambda: bool(composer.file_chips()) and not composer.reading(), timeout=10_000)


def _painted(app: Composition, box: QRect) -> int:
    """Pixels in `box` of the chat view that differ from its background."""
    image = app.window.chat_view.viewport().grab().toImage()
    background = image.pixelColor(2, 2)
    return sum(
        1
        for y in range(max(0, box.top()), min(image.height(), box.bottom()))
        for x in range(max(0, box.left()), min(image.width(), box.right()))
        if image.pixelColor(x, y) != background
    )


def test_an_attached_pdf_shows_as_a_chip_and_goes_as_a_file(
    app: Composition,
    sim: Any,
    arun: Any,
    qtbot: Any,
    tmp_path: Path,
) -> None:
    window, composer = app.window, app.window.composer
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(make_pdf(["Turnover rose by 4 percent."]))
    composer.add_paths([pdf])
    [chip] = composer.file_chips()
    assert chip.isVisible() and chip.meta_label.text() == "Reading…"
    assert not composer.send_button.isEnabled()  # nothing is sent while a file is still being read
    _read_all(app, qtbot)
    assert chip.isVisible() and chip.visibleRegion().boundingRect().width() > 50
    assert chip.name_label.text() == "report.pdf"
    assert chip.meta_label.text().endswith("bytes")
    assert _AS_FILE in chip.toolTip()
    assert composer.send_button.isEnabled()
    size = chip.meta_label.text()

    composer.set_text("Summarise this.")
    _cid, outcome = finish_turn(window, arun, composer.send)
    assert outcome == "complete"
    assert composer.file_chips() == []  # the draft went with the message
    [user] = sim.requests[-1].json["input"]
    assert [part["type"] for part in user["content"]] == ["input_text", "input_file"]

    question = next(m for m in window.chat_view.messages() if m.role is Role.USER)
    assert question.files == (FileChip("report.pdf", size, _AS_FILE, "application/pdf"),)
    view = window.chat_view
    row = next(i for i, m in enumerate(view.messages()) if m.id == question.id)
    rect = view.visualRect(view.model().index(row, 0))
    geometry = view.itemDelegate().geometry(rect, question, None)  # type: ignore[attr-defined]
    [(box, _file)] = geometry.files.chips
    assert _painted(app, box.toRect()) > 200  # the chip's frame, mark, name and size are on the screen

    # The next message goes to a Chat Completions deployment with the whole conversation: the chip says so now.
    composer.deployments.setCurrentIndex(composer.deployments.findData("gpt-4o-mini"))
    shown = next(m for m in window.chat_view.messages() if m.id == question.id)
    assert shown.files[0].note == _AS_TEXT


def test_a_chat_deployment_gets_the_text_and_the_chip_says_so(
    app: Composition,
    sim: Any,
    arun: Any,
    qtbot: Any,
    tmp_path: Path,
) -> None:
    window, composer = app.window, app.window.composer
    composer.deployments.setCurrentIndex(composer.deployments.findData("gpt-4o-mini"))
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(make_pdf(["Costs fell."]))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(pdf))])
    composer.add_from_mime(mime)  # as a drop or a paste of files delivers them
    _read_all(app, qtbot)
    assert _AS_TEXT in composer.file_chips()[0].toolTip()
    composer.set_text("What fell?")
    finish_turn(window, arun, composer.send)
    [user] = sim.requests[-1].json["messages"]
    assert "Costs fell." in user["content"][1]["text"]
    question = next(m for m in window.chat_view.messages() if m.role is Role.USER)
    assert question.files[0].note == _AS_TEXT


def test_refusals_show_the_words_tables_sentence_under_the_message_box(
    app: Composition,
    qtbot: Any,
    tmp_path: Path,
) -> None:
    composer = app.window.composer
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(make_pdf(["x"] * 101))
    composer.add_paths([scan])
    qtbot.waitUntil(lambda: not composer.file_chips(), timeout=10_000)
    assert composer.message.isVisible()
    assert composer.message.text() == (
        "This document has too many pages: “scan.pdf” has 101 pages; one document can have up to 100. Attach only "
        "the pages you need."
    )


def test_attachments_are_there_after_a_restart(
    app: Composition,
    sim: Any,
    arun: Any,
    qtbot: Any,
    qapp: Any,
    tmp_path: Path,
) -> None:
    window, composer = app.window, app.window.composer
    doc = tmp_path / "plan.docx"
    doc.write_bytes(make_docx("Plan", ["Build, then ship."]))
    composer.add_paths([doc])
    _read_all(app, qtbot)
    cid, _ = finish_turn(window, arun, composer.send)
    arun(app.aclose())
    window.close()
    again = build(qapp, qtbot, tmp_path)
    try:
        run_until(
            again.window,
            arun,
            lambda: bool(again.window.chat_view.messages()),
            lambda: again.window.open_conversation(cid),
        )
        question = next(m for m in again.window.chat_view.messages() if m.role is Role.USER)
        assert [f.name for f in question.files] == ["plan.docx"]
        assert question.files[0].note == "Sent as text read on this computer."
        assert [h.conversation_id for h in again.store.search("ship")] == [cid]
    finally:
        arun(again.aclose())
