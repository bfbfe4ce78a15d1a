"""The message composer: multi-line input, attached images and documents, deployment, instructions, Send/Stop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QMimeData, Signal
from PySide6.QtGui import QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.lazy_dataclass import dataclass
from desktop.services import (
    BUILT_IN_PRESETS,
    Attachment,
    AttachRefusedError,
    DeploymentChoice,
    Document,
    check_message,
    document_suffixes,
    file_note,
)
from desktop.ui.attachments import DocumentReader, FileChipWidget, paperclip_icon
from desktop.ui.lazy_qt import Qt

if TYPE_CHECKING:  # images, buffers and the dialogs' buttons load when first used: not before the first paint
    from PySide6.QtCore import QBuffer
    from PySide6.QtGui import QImage, QImageReader

__all__ = [
    "MAX_IMAGES_BYTES",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_PASTE_BYTES",
    "Composer",
    "ImageAttachment",
    "image_mime",
]

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_IMAGES_BYTES = 50 * 1024 * 1024  # all the images of one message together
MAX_IMAGE_PIXELS = 50_000_000  # read from the file's header before anything is decoded (a PNG can hide gigapixels)
MAX_ATTACHED_FILES = 10  # documents and images of one message (desktop.services._documents.MAX_FILES)
MAX_PASTE_BYTES = 1024 * 1024  # pasted or dropped text, checked before it is converted: about 300 pages
_MAX_LINES = 8
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _tr(text: str) -> str:
    return QCoreApplication.translate("Composer", text)


@dataclass(frozen=True)
class ImageAttachment:
    """An image to send with a message."""

    mime: str
    data: bytes
    name: str


def image_mime(data: bytes) -> str | None:
    """Return the MIME type of a PNG/JPEG/GIF/WebP image from its first bytes, or None for anything else."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class _Input(QPlainTextEdit):
    submit = Signal()
    escape = Signal()
    up_in_empty = Signal()
    mime_dropped = Signal(QMimeData)
    refused = Signal(str)  # a paste or drop too large to take, in words for the user

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.send_on_enter = True
        self.setObjectName("composerInput")
        self.setTabChangesFocus(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers()
            shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
            ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
            if (self.send_on_enter and not shift and not ctrl) or (not self.send_on_enter and ctrl):
                self.submit.emit()
                return
            if self.send_on_enter and ctrl:
                self.submit.emit()
                return
            self.insertPlainText("\n")
            return
        if event.key() == Qt.Key.Key_Escape:
            self.escape.emit()
            return
        if event.key() == Qt.Key.Key_Up and not self.toPlainText() and not event.modifiers():
            self.up_in_empty.emit()
            return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        return _has_image(source) or source.hasUrls() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if _has_image(source) or (source.hasUrls() and not source.hasText()):
            self.mime_dropped.emit(source)
            return
        if source.hasUrls() and all(u.isLocalFile() for u in source.urls()):
            self.mime_dropped.emit(source)
            return
        if _text_size(source) > MAX_PASTE_BYTES:
            # Refused before Qt converts and lays out the text: a 20 MB paste froze the window for 25 s.
            self.refused.emit(
                _tr("That text is too long to paste (over 1 MB). Save it as a file and send the part you need.")
            )
            return
        super().insertFromMimeData(source)


_ENCODED_IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
# Other pictures take the image path too, so they get its sentence ("isn't a PNG, JPEG, GIF or WebP image").
_OTHER_PICTURES = (".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif", ".svg", ".ico")
ATTACH_SHORTCUT = "Ctrl+O"


def _has_image(source: QMimeData) -> bool:
    return source.hasImage() or any(source.hasFormat(f) for f in _ENCODED_IMAGES)


def _text_size(source: QMimeData) -> int:
    """The size in bytes of the text on offer, without converting it (or decoding anything else)."""
    sizes = [source.data(f).size() for f in source.formats() if f.startswith("text/")]
    return max(sizes, default=0)


class _Thumb(QWidget):
    def __init__(self, image: ImageAttachment, on_remove: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        label = QLabel(self)
        label.setPixmap(_thumbnail(image.data, 56))
        label.setToolTip(image.name)
        label.setAccessibleName(_tr("Attached image %1").replace("%1", image.name))
        remove = QToolButton(self)
        remove.setText("×")
        remove.setAccessibleName(_tr("Remove image %1").replace("%1", image.name))
        remove.setToolTip(_tr("Remove"))
        remove.clicked.connect(on_remove)
        layout.addWidget(label)
        layout.addWidget(remove, 0, Qt.AlignmentFlag.AlignTop)
        self.remove_button = remove


class InstructionsDialog(QDialog):
    """A small editor for the conversation's instructions (system prompt), with presets."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_tr("Instructions"))
        self.presets = QComboBox(self)
        self.presets.setAccessibleName(_tr("Instruction presets"))
        self.presets.addItem(_tr("Choose a preset…"), "")
        for preset in BUILT_IN_PRESETS:
            self.presets.addItem(_tr(preset.name), _tr(preset.text))
        self.editor = QPlainTextEdit(self)
        self.editor.setAccessibleName(_tr("Instructions text"))
        self.editor.setPlainText(text)
        self.presets.activated.connect(self._on_presets_activated)
        from PySide6.QtWidgets import QDialogButtonBox

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(_tr("How should the assistant behave in this chat?"), self))
        layout.addWidget(self.presets)
        layout.addWidget(self.editor)
        layout.addWidget(buttons)

    def _on_presets_activated(self, index: int) -> None:
        value = self.presets.itemData(index)
        if value:
            self.editor.setPlainText(str(value))

    def text(self) -> str:
        """Return the edited instructions."""
        return self.editor.toPlainText().strip()


class Composer(QWidget):
    """Where the user writes; emits send/stop requests with plain data."""

    send_requested = Signal(str, list)  # text, [ImageAttachment | Document]; the draft stays until clear_draft()
    stop_requested = Signal()
    documents_settled = Signal()  # every attached document has been read (or refused): nothing is being read now
    edit_last_requested = Signal()  # Up in an empty message box
    deployment_changed = Signal(str)
    instructions_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images: list[ImageAttachment] = []
        self._chips: list[FileChipWidget] = []
        self._streaming = False
        self._vision = True
        self._reads_files = False
        self._reader = DocumentReader(self)
        self._reader.finished.connect(self._on_document_read)
        self._instructions = ""
        self.input = _Input(self)
        self.input.setAccessibleName(_tr("Message"))
        self.input.setPlaceholderText(_tr("Message the assistant… (Enter to send, Shift+Enter for a new line)"))
        self.input.submit.connect(self._on_input_submit)
        self.input.escape.connect(self._on_input_escape)
        self.input.up_in_empty.connect(self.edit_last_requested)
        self.input.mime_dropped.connect(self.add_from_mime)
        self.input.refused.connect(self._reject)
        self.input.textChanged.connect(self._update)
        self.thumbs = QWidget(self)
        self._thumbs_layout = QHBoxLayout(self.thumbs)
        self._thumbs_layout.setContentsMargins(0, 0, 0, 0)
        self._thumbs_layout.addStretch(1)
        self.thumbs.hide()
        self.files = QWidget(self)
        self.files.setObjectName("attachedFiles")
        self._files_layout = QHBoxLayout(self.files)
        self._files_layout.setContentsMargins(0, 0, 0, 0)
        self._files_layout.addStretch(1)
        self.files.hide()
        self.attach_button = QToolButton(self)
        self.attach_button.setIcon(paperclip_icon())
        self.attach_button.setAutoRaise(True)
        self.attach_button.setToolTip(
            _tr("Attach files: PDF, Word, Excel, PowerPoint, text or images (%1)").replace("%1", ATTACH_SHORTCUT)
        )
        self.attach_button.setAccessibleName(_tr("Attach files"))
        self.attach_button.clicked.connect(self.choose_files)
        self.message = QLabel(self)
        self.message.setObjectName("inlineError")
        self.message.setWordWrap(True)
        self.message.setAccessibleName(_tr("Attachment problem"))
        self.message.hide()
        self.deployments = QComboBox(self)
        # Names are never cut: the picker grows to its longest label.
        self.deployments.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.deployments.setAccessibleName(_tr("Deployment"))
        self.deployments.setToolTip(_tr("Which model deployment answers"))
        self.deployments.currentIndexChanged.connect(self._on_deployments_index_changed)
        self.instructions_button = QPushButton(_tr("Instructions"), self)
        self.instructions_button.setAccessibleName(_tr("Edit instructions"))
        self.instructions_button.clicked.connect(self.edit_instructions)
        self.send_button = QPushButton(_tr("Send"), self)
        self.send_button.setObjectName("primary")
        self.send_button.setAccessibleName(_tr("Send message"))
        self.send_button.clicked.connect(self._on_send_button_clicked)
        row = QHBoxLayout()
        row.addWidget(self.attach_button)
        row.addWidget(self.deployments)
        row.addWidget(self.instructions_button)
        row.addStretch(1)
        row.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 10)
        layout.addWidget(self.thumbs)
        layout.addWidget(self.files)
        layout.addWidget(self.message)
        layout.addWidget(self.input)
        layout.addLayout(row)
        self.setAcceptDrops(True)
        self._update()

    # -- settings ----------------------------------------------------------------------------------------
    def set_send_on_enter(self, enabled: bool) -> None:
        """Enter sends (Shift+Enter = new line) when True; otherwise Enter = new line and Ctrl+Enter sends."""
        self.input.send_on_enter = enabled
        hint = _tr("Enter to send, Shift+Enter for a new line") if enabled else _tr("Ctrl+Enter to send")
        self.input.setPlaceholderText(_tr("Message the assistant… (%1)").replace("%1", hint))

    def set_deployments(self, choices: Sequence[DeploymentChoice], current: str | None = None) -> None:
        """Fill the deployment picker and select `current`; every name is shown whole or has its tooltip."""
        self.deployments.blockSignals(True)
        self.deployments.clear()
        for choice in choices:
            self.deployments.addItem(choice.label, choice.name)
            self.deployments.setItemData(self.deployments.count() - 1, choice.tooltip, Qt.ItemDataRole.ToolTipRole)
        found = self.deployments.findData(current) if current is not None else -1
        self.deployments.setCurrentIndex(max(0, found))
        self.deployments.setToolTip(
            choices[max(0, found)].tooltip if choices else _tr("No deployment: set one up in Settings")
        )
        self.deployments.blockSignals(False)

    def set_vision_enabled(self, enabled: bool) -> None:
        """Allow images only for deployments that can read them."""
        self._vision = enabled

    def set_icon_color(self, color: str) -> None:
        """Draw the paperclip in the theme's colour (a themed system icon, when there is one, stays as it is)."""
        self.attach_button.setIcon(paperclip_icon(color=color))

    def set_reads_files(self, enabled: bool) -> None:
        """Whether the deployment takes PDFs as files (a PDF without text is refused only where it would go as text);
        the chips' tooltips say how each file will be sent."""
        self._reads_files = enabled
        for chip in self._chips:
            if chip.document is not None:
                chip.set_document(chip.document, file_note(chip.document.attachment(), enabled))

    def set_instructions(self, text: str) -> None:
        """Set the current instructions (shown in the editor)."""
        self._instructions = text

    def set_streaming(self, streaming: bool) -> None:
        """While an answer streams, Send becomes Stop (Esc also stops)."""
        self._streaming = streaming
        self._update()

    def set_text(self, text: str) -> None:
        """Put text in the input (e.g. a message to edit and resend)."""
        self.input.setPlainText(text)
        self.input.moveCursor(self.input.textCursor().MoveOperation.End)

    def focus_input(self) -> None:
        """Put the keyboard focus in the message box."""
        self.input.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def take_first_focus(self) -> None:
        """The window's first focus, before its first paint: the message box (a reason would need the Qt namespace,
        see desktop/ui/lazy_qt.py)."""
        self.input.setFocus()

    def current_deployment(self) -> str | None:
        """Return the chosen deployment's value, or None when the picker is empty."""
        value = self.deployments.currentData()
        return str(value) if value else None

    def instructions(self) -> str:
        """Return the current instructions."""
        return self._instructions

    def text(self) -> str:
        """Return the text typed so far."""
        return self.input.toPlainText()

    def images(self) -> list[ImageAttachment]:
        """Return the attached images."""
        return list(self._images)

    def documents(self) -> list[Document]:
        """Return the attached documents that have been read (those still being read are not ready to send)."""
        return [chip.document for chip in self._chips if chip.document is not None]

    def file_chips(self) -> list[FileChipWidget]:
        """The chips of the attached documents, in order."""
        return list(self._chips)

    def reading(self) -> bool:
        """True while an attached document is still being read."""
        return any(chip.pending for chip in self._chips)

    # -- documents ---------------------------------------------------------------------------------------
    def choose_files(self) -> None:
        """Open the file dialog (the paperclip, or Ctrl+O) to attach documents and images."""
        from PySide6.QtWidgets import QFileDialog

        patterns = " ".join(f"*{s}" for s in (*document_suffixes(), *_IMAGE_SUFFIXES))
        dialog = QFileDialog(self, _tr("Attach files"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters([_tr("Documents and images (%1)").replace("%1", patterns), _tr("All files (*)")])
        dialog.filesSelected.connect(lambda names: self.add_paths([Path(n) for n in names]))
        dialog.open()

    def add_paths(self, paths: Sequence[Path]) -> None:
        """Attach files: images at once, documents as chips that are read in a worker thread."""
        for path in paths:
            if path.suffix.lower() in (*_IMAGE_SUFFIXES, *_OTHER_PICTURES):
                self._add_file(path)
                continue
            if len(self._images) + len(self._chips) >= MAX_ATTACHED_FILES:
                self._refuse(AttachRefusedError("attach_too_many_files", name=path.name, limit=MAX_ATTACHED_FILES))
                return
            chip = FileChipWidget(path.name, self.files)
            chip.remove_button.clicked.connect(lambda _checked=False, c=chip: self.remove_file(c))
            self._chips.append(chip)
            self._files_layout.insertWidget(self._files_layout.count() - 1, chip)
            self._reader.read(chip, path)
        self._update()

    def remove_file(self, chip: FileChipWidget) -> None:
        """Remove an attached document (one still being read is dropped when its reading ends)."""
        if chip in self._chips:
            self._chips.remove(chip)
            self._files_layout.removeWidget(chip)
            chip.deleteLater()
            self._update()

    def _on_document_read(self, chip: object, outcome: object) -> None:
        self._take_document(chip, outcome)
        if not self.reading():
            self.documents_settled.emit()

    def _take_document(self, chip: object, outcome: object) -> None:
        if not isinstance(chip, FileChipWidget) or chip not in self._chips:
            return  # removed (or the draft sent) while it was being read
        if isinstance(outcome, AttachRefusedError):
            self.remove_file(chip)
            self._refuse(outcome)
            return
        assert isinstance(outcome, Document)
        others: list[Document | Attachment] = [c.document for c in self._chips if c.document is not None]
        others += [Attachment(i.mime, i.data, i.name) for i in self._images]
        try:
            check_message(others, outcome, deployment_reads_files=self._reads_files)
        except AttachRefusedError as refused:
            self.remove_file(chip)
            self._refuse(refused)
            return
        chip.set_document(outcome, file_note(outcome.attachment(), self._reads_files))
        self._update()

    def _refuse(self, refused: AttachRefusedError) -> None:
        self._reject(f"{refused.title}: {refused.text}")

    # -- images ------------------------------------------------------------------------------------------
    def add_image(self, data: bytes, name: str) -> bool:
        """Attach an image if allowed; otherwise show why inline and return False."""
        if not self._vision:
            return self._reject(_tr("This deployment can't read images. Pick a vision-capable deployment."))
        if len(data) > MAX_IMAGE_BYTES:
            return self._reject(_tr("“%1” is larger than 20 MB.").replace("%1", name))
        if sum(len(i.data) for i in self._images) + len(data) > MAX_IMAGES_BYTES:
            return self._reject(
                _tr("The images of one message can be 50 MB together; “%1” does not fit.").replace("%1", name)
            )
        mime = image_mime(data)
        if mime is None:
            return self._reject(_tr("“%1” isn't a PNG, JPEG, GIF or WebP image.").replace("%1", name))
        size = _header_size(data)
        if size is None or size[0] * size[1] > MAX_IMAGE_PIXELS:
            return self._reject(_tr("“%1” is damaged or has too many pixels to send.").replace("%1", name))
        image = ImageAttachment(mime, data, name)
        self._images.append(image)
        thumb = _Thumb(image, lambda: self.remove_image(image), self.thumbs)
        self._thumbs_layout.insertWidget(self._thumbs_layout.count() - 1, thumb)
        self.message.hide()
        self._update()
        return True

    def remove_image(self, image: ImageAttachment) -> None:
        """Remove one attached image."""
        index = next((i for i, x in enumerate(self._images) if x is image), -1)
        if index < 0:
            return
        del self._images[index]
        item = self._thumbs_layout.takeAt(index)
        widget = item.widget() if item is not None else None
        if widget is not None:
            widget.deleteLater()
        self._update()

    def add_from_mime(self, mime: QMimeData) -> None:
        """Attach files from a paste or a drop (documents, images, or raw image data)."""
        if mime.hasUrls():
            self.add_paths([Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()])
            return
        if _has_image(mime):
            # Take the image as the clipboard encoded it when it can: its size is checked before anything decodes.
            for fmt in _ENCODED_IMAGES:
                if mime.hasFormat(fmt):
                    raw = mime.data(fmt)
                    if raw.size() > MAX_IMAGE_BYTES:
                        self._reject(_tr("The pasted image is larger than 20 MB."))
                        return
                    self.add_image(bytes(raw.data()), _tr("Pasted image") + "." + fmt.split("/")[1])
                    return
            from PySide6.QtGui import QImage

            image = mime.imageData()
            if isinstance(image, QPixmap):
                image = image.toImage()
            if isinstance(image, QImage) and not image.isNull():
                if image.width() * image.height() > MAX_IMAGE_PIXELS:
                    self._reject(_tr("The pasted image has too many pixels to send."))
                    return
                self.add_image(_png_bytes(image), _tr("Pasted image.png"))

    def _add_file(self, path: Path) -> None:
        try:
            if path.stat().st_size > MAX_IMAGE_BYTES:
                self._reject(_tr("“%1” is larger than 20 MB.").replace("%1", path.name))
                return
            data = path.read_bytes()
        except OSError as exc:
            self._reject(_tr("Couldn't read “%1”: %2").replace("%1", path.name).replace("%2", exc.strerror or ""))
            return
        self.add_image(data, path.name)

    def _reject(self, text: str) -> bool:
        self.message.setText(text)
        self.message.show()
        return False

    def dragEnterEvent(self, event: object) -> None:
        from PySide6.QtGui import QDragEnterEvent

        if isinstance(event, QDragEnterEvent) and (event.mimeData().hasUrls() or event.mimeData().hasImage()):
            event.acceptProposedAction()

    def dropEvent(self, event: object) -> None:
        from PySide6.QtGui import QDropEvent

        if isinstance(event, QDropEvent):
            self.add_from_mime(event.mimeData())
            event.acceptProposedAction()

    # -- actions -----------------------------------------------------------------------------------------
    def edit_instructions(self) -> None:
        """Open the instructions editor; emits instructions_changed on OK."""
        dialog = InstructionsDialog(self._instructions, self)
        dialog.accepted.connect(lambda: self._apply_instructions(dialog.text()))
        dialog.open()

    def _apply_instructions(self, text: str) -> None:
        self._instructions = text
        self.instructions_changed.emit(text)

    def send(self) -> bool:
        """Emit send_requested with the text and images; False when empty or streaming.

        The text and images stay until `clear_draft()`: the window calls it once the message is saved, so a failed
        save (a full disk, a locked history) loses nothing.
        """
        text = self.input.toPlainText().strip()
        documents = self.documents()
        if self._streaming or self.reading() or not (text or self._images or documents):
            return False
        self.message.hide()
        self.send_requested.emit(text, [*self._images, *documents])
        return True

    def clear_draft(self) -> None:
        """Empty the message box and drop the attached images and documents (the message was saved)."""
        self.input.clear()
        for image in list(self._images):
            self.remove_image(image)
        for chip in list(self._chips):
            self.remove_file(chip)
        self.message.hide()

    def show_problem(self, text: str) -> None:
        """Say why the message was not sent, under the message box (the text stays)."""
        self._reject(text)

    def _on_input_submit(self) -> None:
        self.send()

    def _on_input_escape(self) -> None:
        if self._streaming:
            self.stop_requested.emit()

    def _on_send_button_clicked(self) -> None:
        if self._streaming:
            self.stop_requested.emit()
        else:
            self.send()

    def _on_deployments_index_changed(self, index: int) -> None:
        if index >= 0:
            self.deployment_changed.emit(str(self.deployments.itemData(index)))

    def _update(self) -> None:
        self.thumbs.setVisible(bool(self._images))
        self.files.setVisible(bool(self._chips))
        if self._streaming:
            self.send_button.setText(_tr("Stop"))
            self.send_button.setAccessibleName(_tr("Stop the answer"))
            self.send_button.setEnabled(True)
        else:
            self.send_button.setText(_tr("Send"))
            self.send_button.setAccessibleName(_tr("Send message"))
            content = self.input.toPlainText().strip() or self._images or self._chips
            enabled = bool(content) and not self.reading()
            if not enabled and self.send_button.hasFocus():
                # Stop was clicked and is now a disabled Send: Qt would pass the focus on as if Tab had been
                # pressed (into the conversation, ringing a message). The next thing to do is to type.
                self.input.setFocus(Qt.FocusReason.OtherFocusReason)
            self.send_button.setEnabled(enabled)
        # Grow with the text up to a few lines, then scroll.
        lines = max(1, min(_MAX_LINES, self.input.document().size().toSize().height() or 1))
        metrics = self.input.fontMetrics()
        margins = self.input.contentsMargins()
        height = lines * metrics.lineSpacing() + 2 * int(self.input.document().documentMargin())
        self.input.setFixedHeight(height + margins.top() + margins.bottom() + 10)


def _png_bytes(image: QImage) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # PySide6 6.12 stubs say bytes, but only str is accepted at runtime.
    image.save(buffer, "PNG")  # type: ignore[call-overload]
    buffer.close()
    return bytes(array.data())


def _reader(data: bytes) -> tuple[QImageReader, QBuffer]:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImageReader

    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    return QImageReader(buffer), buffer  # the buffer must outlive the reader's use


def _header_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the image's header, without decoding its pixels; None if unreadable."""
    reader, buffer = _reader(data)
    size = reader.size()
    buffer.close()
    return (size.width(), size.height()) if size.isValid() else None


def _thumbnail(data: bytes, edge: int) -> QPixmap:
    """A small preview decoded at its small size (never the full image in memory)."""
    reader, buffer = _reader(data)
    size = reader.size()
    if size.isValid() and (size.width() > edge or size.height() > edge):
        reader.setScaledSize(size.scaled(edge, edge, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    buffer.close()
    return QPixmap.fromImage(image)
