"""The composer: keys, Send/Stop, images (paste, drop, reject, remove), deployments, instructions."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, Qt, QUrl
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QDialog

from desktop.services import DeploymentChoice
from desktop.ui import composer as composer_module
from desktop.ui.composer import MAX_IMAGE_BYTES, MAX_PASTE_BYTES, Composer, ImageAttachment, image_mime


def _png(size: int = 8) -> bytes:
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(QColor("blue"))
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(array.data())


@pytest.fixture
def composer(qtbot: Any) -> Composer:
    widget = Composer()
    qtbot.addWidget(widget)
    widget.show()
    widget.input.setFocus()
    return widget


def test_enter_sends_and_keeps_the_text_until_it_is_saved(composer: Composer, qtbot: Any) -> None:
    qtbot.keyClicks(composer.input, "Hello there")
    with qtbot.waitSignal(composer.send_requested) as blocker:
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    assert blocker.args == ["Hello there", []]
    assert composer.text() == "Hello there"  # a failed save must not lose it
    composer.show_problem("The chat history could not be saved.")
    assert composer.text() == "Hello there"
    assert composer.message.text() == "The chat history could not be saved."
    composer.clear_draft()  # the window calls this once the message is in history
    assert composer.text() == ""
    assert composer.message.isHidden()


def test_up_in_an_empty_box_asks_to_edit_the_last_message(composer: Composer, qtbot: Any) -> None:
    with qtbot.waitSignal(composer.edit_last_requested):
        qtbot.keyClick(composer.input, Qt.Key.Key_Up)
    qtbot.keyClicks(composer.input, "draft")
    with qtbot.assertNotEmitted(composer.edit_last_requested):
        qtbot.keyClick(composer.input, Qt.Key.Key_Up)


def test_shift_enter_inserts_newline(composer: Composer, qtbot: Any) -> None:
    qtbot.keyClicks(composer.input, "one")
    with qtbot.assertNotEmitted(composer.send_requested):
        qtbot.keyClick(composer.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(composer.input, "two")
    assert composer.text() == "one\ntwo"


def test_ctrl_enter_sends_when_enter_makes_newlines(composer: Composer, qtbot: Any) -> None:
    composer.set_send_on_enter(False)
    qtbot.keyClicks(composer.input, "a")
    with qtbot.assertNotEmitted(composer.send_requested):
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    qtbot.keyClicks(composer.input, "b")
    with qtbot.waitSignal(composer.send_requested) as blocker:
        qtbot.keyClick(composer.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert blocker.args == ["a\nb", []]


def test_send_disabled_while_empty(composer: Composer, qtbot: Any) -> None:
    assert not composer.send_button.isEnabled()
    with qtbot.assertNotEmitted(composer.send_requested):
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    qtbot.keyClicks(composer.input, "   ")
    assert not composer.send_button.isEnabled()
    qtbot.keyClicks(composer.input, "x")
    assert composer.send_button.isEnabled()


def test_send_becomes_stop_and_escape_stops(composer: Composer, qtbot: Any) -> None:
    qtbot.keyClicks(composer.input, "next question")
    composer.set_streaming(True)
    assert composer.send_button.text() == "Stop"
    assert composer.send_button.isEnabled()
    with qtbot.assertNotEmitted(composer.send_requested):
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    with qtbot.waitSignal(composer.stop_requested):
        qtbot.keyClick(composer.input, Qt.Key.Key_Escape)
    with qtbot.waitSignal(composer.stop_requested):
        qtbot.mouseClick(composer.send_button, Qt.MouseButton.LeftButton)
    assert composer.text() == "next question"  # nothing typed is lost
    composer.set_streaming(False)
    assert composer.send_button.text() == "Send"


def test_paste_image_shows_thumbnail_and_sends(composer: Composer, qtbot: Any) -> None:
    mime = QMimeData()
    image = QImage(12, 12, QImage.Format.Format_RGB32)
    image.fill(QColor("green"))
    mime.setImageData(image)
    assert composer.input.canInsertFromMimeData(mime)
    composer.input.insertFromMimeData(mime)
    assert [i.mime for i in composer.images()] == ["image/png"]
    assert composer.thumbs.isVisible()
    assert composer.send_button.isEnabled()  # an image alone may be sent
    with qtbot.waitSignal(composer.send_requested) as blocker:
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
    text, images = blocker.args
    assert text == ""
    assert len(images) == 1
    assert isinstance(images[0], ImageAttachment)
    assert len(composer.images()) == 1  # kept until the message is saved
    composer.clear_draft()
    assert composer.images() == []
    assert not composer.thumbs.isVisible()


def test_drop_files_accepts_images_and_rejects_others(composer: Composer, tmp_path: Path) -> None:
    good = tmp_path / "photo.png"
    good.write_bytes(_png())
    bad = tmp_path / "drawing.bmp"
    bad.write_bytes(b"BM" + b"\0" * 100)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(good)), QUrl.fromLocalFile(str(bad))])
    composer.add_from_mime(mime)
    assert [i.name for i in composer.images()] == ["photo.png"]
    assert composer.message.isVisible()
    assert "drawing.bmp" in composer.message.text()
    assert "PNG, JPEG, GIF or WebP" in composer.message.text()


def test_oversized_and_unreadable_files_are_rejected(composer: Composer, tmp_path: Path) -> None:
    huge = tmp_path / "huge.png"
    with huge.open("wb") as f:
        f.truncate(MAX_IMAGE_BYTES + 1)
    composer.add_from_mime(_urls(huge))
    assert composer.images() == []
    assert "larger than 20 MB" in composer.message.text()
    composer.add_from_mime(_urls(tmp_path / "missing.png"))
    assert "Couldn't read" in composer.message.text()


def _urls(path: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def test_remove_button_removes_image(composer: Composer, qtbot: Any) -> None:
    assert composer.add_image(_png(), "a.png")
    assert composer.add_image(_png(), "b.png")
    from desktop.ui.composer import _Thumb

    thumbs = composer.thumbs.findChildren(_Thumb)
    qtbot.mouseClick(thumbs[0].remove_button, Qt.MouseButton.LeftButton)
    assert [i.name for i in composer.images()] == ["b.png"]


def test_images_need_a_vision_deployment(composer: Composer) -> None:
    composer.set_vision_enabled(False)
    assert not composer.add_image(_png(), "a.png")
    assert "can't read images" in composer.message.text()
    composer.set_vision_enabled(True)
    assert composer.add_image(_png(), "a.png")
    assert not composer.message.isVisible()


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (b"\x89PNG\r\n\x1a\nxxxx", "image/png"),
        (b"\xff\xd8\xff\xe0", "image/jpeg"),
        (b"GIF89a..", "image/gif"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
        (b"BM....", None),
        (b"", None),
        (b"<svg", None),
    ],
)
def test_image_mime(data: bytes, mime: str | None) -> None:
    assert image_mime(data) == mime


def test_deployment_picker(composer: Composer, qtbot: Any) -> None:
    composer.set_deployments(
        [
            DeploymentChoice("gpt-4o", "gpt-4o", "Deployment “gpt-4o”"),
            DeploymentChoice("mini", "mini · gpt-4o-mini-2024-07-18-long-name", "Deployment “mini”, model gpt-4o-mini"),
        ],
        current="mini",
    )
    assert composer.deployments.currentText() == "mini · gpt-4o-mini-2024-07-18-long-name"
    assert composer.deployments.toolTip() == "Deployment “mini”, model gpt-4o-mini"
    metrics = composer.deployments.fontMetrics()
    assert composer.deployments.sizeHint().width() > metrics.horizontalAdvance(composer.deployments.currentText())
    with qtbot.waitSignal(composer.deployment_changed) as blocker:
        composer.deployments.setCurrentIndex(0)
    assert blocker.args == ["gpt-4o"]


def test_instructions_dialog_presets(composer: Composer, qtbot: Any) -> None:
    composer.set_instructions("Be nice.")
    qtbot.mouseClick(composer.instructions_button, Qt.MouseButton.LeftButton)
    dialog = composer.findChild(QDialog)
    assert dialog is not None
    assert dialog.text() == "Be nice."  # type: ignore[attr-defined]
    presets = dialog.presets  # type: ignore[attr-defined]
    index = presets.findText("Concise")
    presets.setCurrentIndex(index)
    presets.activated.emit(index)
    with qtbot.waitSignal(composer.instructions_changed) as blocker:
        dialog.accept()
    assert blocker.args[0].startswith("Answer briefly")


def test_input_grows_up_to_eight_lines(composer: Composer) -> None:
    one = composer.input.height()
    composer.set_text("\n".join(["line"] * 4))
    four = composer.input.height()
    composer.set_text("\n".join(["line"] * 8))
    eight = composer.input.height()
    composer.set_text("\n".join(["line"] * 30))
    assert one < four < eight
    assert composer.input.height() == eight


def test_accessors_used_by_the_window(composer: Composer) -> None:
    assert composer.current_deployment() is None
    composer.set_deployments([DeploymentChoice("a", "A", "a")])
    assert composer.current_deployment() == "a"
    composer.set_instructions("Be brief.")
    assert composer.instructions() == "Be brief."
    composer.focus_input()
    assert all(
        w.accessibleName()
        for w in (composer.input, composer.deployments, composer.send_button, composer.instructions_button)
    )


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with no pixel data: decoding it would be the bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_a_huge_paste_is_refused_before_it_is_converted(composer: Composer) -> None:
    mime = QMimeData()
    mime.setText("x" * (MAX_PASTE_BYTES + 1))
    composer.input.insertFromMimeData(mime)
    assert composer.text() == ""
    assert composer.message.isVisible()
    assert "too long to paste" in composer.message.text()
    small = QMimeData()
    small.setText("fits")
    composer.input.insertFromMimeData(small)
    assert composer.text() == "fits"


def test_an_image_with_too_many_pixels_is_refused_from_its_header(composer: Composer) -> None:
    assert not composer.add_image(_png_header_only(100_000, 100_000), "bomb.png")
    assert composer.images() == []
    assert "too many pixels" in composer.message.text()


def test_a_pasted_encoded_image_is_size_checked_before_decoding(composer: Composer) -> None:
    mime = QMimeData()
    mime.setData("image/png", QByteArray(b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_IMAGE_BYTES))
    composer.add_from_mime(mime)
    assert composer.images() == []
    assert "larger than 20 MB" in composer.message.text()
    mime = QMimeData()
    mime.setData("image/png", QByteArray(_png(16)))
    composer.add_from_mime(mime)
    assert [i.data for i in composer.images()] == [_png(16)]  # taken as encoded, not decoded and re-encoded


def test_the_images_of_one_message_have_a_total_cap(composer: Composer, monkeypatch: pytest.MonkeyPatch) -> None:
    one = _png(64)
    monkeypatch.setattr(composer_module, "MAX_IMAGES_BYTES", 2 * len(one) + 10)
    assert composer.add_image(one, "a.png")
    assert composer.add_image(one, "b.png")
    assert not composer.add_image(one, "c.png")
    assert len(composer.images()) == 2
    assert "50 MB together" in composer.message.text()


class _DonePool:
    """A worker pool whose files are read before `read` adds its callback (a small file on a fast machine)."""

    def submit(self, function: Any, path: Path) -> Any:
        import concurrent.futures

        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        future.set_result(function(path))
        return future


def test_files_read_at_once_are_settled_only_once_all_of_them_are_added(
    composer: Composer, qtbot: Any, tmp_path: Path
) -> None:
    paths = [tmp_path / "one.txt", tmp_path / "two.txt"]
    for path in paths:
        path.write_text(f"the text of {path.name}", encoding="utf-8")
    with qtbot.waitSignal(composer._reader.finished):
        composer._reader.read(object(), paths[0])  # a first read makes the pool and its queued hand-over
    composer._reader._pool = _DonePool()  # type: ignore[assignment]
    settled: list[int] = []
    composer.documents_settled.connect(lambda: settled.append(len(composer.file_chips())))
    composer.add_paths(paths)
    assert settled == []  # not inside add_paths, after the first of two files
    assert [chip.meta_label.text() for chip in composer.file_chips()] == ["Reading…", "Reading…"]
    qtbot.waitUntil(lambda: bool(settled))
    assert settled == [2]
    assert [chip.meta_label.text().endswith("bytes") for chip in composer.file_chips()] == [True, True]
