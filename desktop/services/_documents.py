"""Attached documents: what each kind becomes, the limits, and how it is sent. Qt-free; blocking reads run in a worker.

- A PDF goes to a deployment whose model reads files, on the Responses API, as the file itself (`input_file`, base64
  data URL with its file name, as Azure documents it); the model then sees its text and its page images.
- Otherwise (Chat Completions, or a model that cannot read files) the text read from it on this computer is sent,
  and the message says so.
- Word, Excel and PowerPoint files, text, Markdown, CSV, JSON and source files always become text on this computer.

The document libraries (pypdf, python-docx, openpyxl, python-pptx) are imported only when such a file is read, so
start-up never pays for them (tests/app/test_import_budget.py).

Which models read files is decided by `model_reads_files`, a small name list kept here on purpose: when a per-model
table of the app exists, that function is the one place to point at it.
"""

from __future__ import annotations

import codecs
import io
import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from desktop.lazy_dataclass import dataclass
from desktop.services._model_families import SAFE, family_for
from desktop.services._words import say, tr
from desktop.storage import Attachment

__all__ = [
    "MAX_DOCUMENT_BYTES",
    "MAX_FILES",
    "MAX_MESSAGE_BYTES",
    "MAX_MESSAGE_PAGES",
    "MAX_PAGES",
    "MAX_TEXT_CHARS",
    "PDF",
    "AttachRefusedError",
    "Document",
    "check_message",
    "document_suffixes",
    "file_note",
    "model_reads_files",
    "read_document",
    "read_file",
    "reads_files",
    "sends_as_file",
    "size_words",
    "text_for_model",
]

_log = logging.getLogger(__name__)

_MB = 1024 * 1024
MAX_DOCUMENT_BYTES = 20 * _MB
"""One document (checked before it is read)."""
MAX_MESSAGE_BYTES = 32 * _MB
"""All documents of one message together (the request size Azure's file input allows)."""
MAX_FILES = 10
"""Files (documents and images) in one message."""
MAX_PAGES = 100
"""Pages of one PDF, or slides of one presentation."""
MAX_MESSAGE_PAGES = 100
"""Pages (and slides) of all documents of one message together."""
MAX_TEXT_CHARS = 400_000
"""Characters of text read from the documents of one message (about 150 pages of prose, 100,000 tokens)."""
_MAX_UNZIPPED = 256 * _MB  # an Office file is a zip: refuse one that would unpack to more (a "zip bomb")

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_OFFICE = {".docx": DOCX, ".xlsx": XLSX, ".pptx": PPTX}
_TEXT = {".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown", ".csv": "text/csv"}
_TEXT |= {".tsv": "text/tab-separated-values", ".json": "application/json", ".log": "text/plain"}
_SOURCE_SUFFIXES = (
    ".py .pyi .js .mjs .ts .tsx .jsx .java .kt .kts .c .h .cc .cpp .hpp .cs .go .rs .rb .php .swift .scala .r .m"
    " .lua .pl .sh .bash .zsh .ps1 .bat .cmd .sql .html .htm .css .scss .xml .yaml .yml .toml .ini .cfg .conf .env"
    " .gradle .vb .fs .dart .tex .rst .ipynb .vue .svelte"
)
_SOURCE = frozenset(_SOURCE_SUFFIXES.split())


class AttachRefusedError(Exception):
    """A file that cannot be attached, with the words table's title and sentence for it."""

    def __init__(self, key: str, **values: object) -> None:
        self.key = key
        self.title, self.text = say(key, **values)
        super().__init__(self.text)


@dataclass(frozen=True)
class Document:
    """A file read on this computer: its bytes, the text read from it, and its pages (PDF) or slides (0 otherwise)."""

    name: str
    mime: str
    data: bytes
    text: str
    pages: int = 0

    def attachment(self) -> Attachment:
        """What is stored with the message (and sent)."""
        return Attachment(self.mime, self.data, self.name, self.text)


def document_suffixes() -> list[str]:
    """The file name endings of the documents the app reads (for the file dialog's filter)."""
    return [".pdf", *_OFFICE, *_TEXT, *sorted(_SOURCE)]


# ---- how it is sent ------------------------------------------------------------------------------------------------


def model_reads_files(model: str | None) -> bool:
    """Whether a model reads PDF files itself (the model table's vision-capable families). Its real name only: an
    unknown model (or one not known yet) gets the document's text, which every model reads."""
    family = family_for(model)
    return family is not SAFE and family.reads_files


def reads_files(api: str | None, model: str | None) -> bool:
    """Whether a deployment takes PDFs as files: Responses API (tried first when not known yet) and a reading model."""
    return api != "chat" and model_reads_files(model)


def sends_as_file(attachment: Attachment, api: Literal["responses", "chat"], model: str | None) -> bool:
    """A PDF to a Responses deployment whose model reads files goes as the file; everything else as its text."""
    return attachment.mime == PDF and api == "responses" and model_reads_files(model)


def text_for_model(attachment: Attachment) -> str:
    """The text part a document becomes in a request, naming the file so the model can refer to it."""
    if not attachment.text.strip():
        return f"Attached file “{attachment.name}”: no text could be read from it (it may be a scan)."
    return f"Attached file “{attachment.name}” (its text, read on the user's computer):\n\n{attachment.text}"


def file_note(attachment: Attachment, deployment_reads_files: bool) -> str:
    """What a chip says about how its file reaches the model (empty for images)."""
    if attachment.mime.startswith("image/"):
        return ""
    if attachment.mime == PDF and deployment_reads_files:
        return tr("Sent as a PDF file: the model reads its text and pages.")
    if attachment.mime == PDF:
        return tr("Sent as text read on this computer: this deployment does not read PDF files.")
    return tr("Sent as text read on this computer.")


def size_words(size: int) -> str:
    """A file size as people read it: 830 bytes, 12 KB, 3.4 MB."""
    if size < 1024:
        return f"{size} bytes"
    if size < _MB:
        return f"{round(size / 1024)} KB"
    return f"{size / _MB:.1f} MB"


def _limit_words(limit: int) -> str:
    return f"{limit // _MB} MB"


def _over_words(size: int) -> str:
    """A size over a limit, rounded up, so it never reads as equal to the limit (20.1 MB, not 20.0 MB)."""
    return f"{math.ceil(size * 10 / _MB) / 10:.1f} MB"


# ---- limits --------------------------------------------------------------------------------------------------------


def check_message(attached: Sequence[Document | Attachment], new: Document, *, deployment_reads_files: bool) -> None:
    """Raise AttachRefusedError when `new` cannot join the message's other attachments (or has nothing to send)."""
    name = new.name
    if len(attached) + 1 > MAX_FILES:
        raise AttachRefusedError("attach_too_many_files", name=name, limit=MAX_FILES)
    documents = [a for a in attached if not a.mime.startswith("image/")]
    if sum(len(a.data) for a in documents) + len(new.data) > MAX_MESSAGE_BYTES:
        raise AttachRefusedError("attach_message_too_large", name=name, limit=_limit_words(MAX_MESSAGE_BYTES))
    pages = sum(a.pages for a in documents if isinstance(a, Document))
    if pages + new.pages > MAX_MESSAGE_PAGES:
        raise AttachRefusedError("attach_message_too_many_pages", name=name, limit=MAX_MESSAGE_PAGES)
    if sum(len(a.text) for a in documents) + len(new.text) > MAX_TEXT_CHARS:
        raise AttachRefusedError("attach_too_much_text", name=name, limit=f"{MAX_TEXT_CHARS:,}")
    if new.mime == PDF and not new.text.strip() and not deployment_reads_files:
        raise AttachRefusedError("attach_no_text", name=name)


# ---- reading -------------------------------------------------------------------------------------------------------


def read_file(path: Path) -> Document:
    """Read and convert a file (blocking: call it in a worker thread). Raises AttachRefusedError."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise AttachRefusedError(
                "attach_too_large", name=path.name, size=_over_words(size), limit=_limit_words(MAX_DOCUMENT_BYTES)
            )
        data = path.read_bytes()
    except OSError as exc:
        raise AttachRefusedError(
            "attach_cannot_open", name=path.name, reason=exc.strerror or type(exc).__name__
        ) from exc
    return read_document(path.name, data)


def read_document(name: str, data: bytes) -> Document:
    """Convert a document's bytes to text by its kind (blocking: run it in a worker). Raises AttachRefusedError."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise AttachRefusedError(
            "attach_too_large", name=name, size=_over_words(len(data)), limit=_limit_words(MAX_DOCUMENT_BYTES)
        )
    suffix = Path(name).suffix.lower()
    if suffix == ".pdf" or data.startswith(b"%PDF-"):
        return _guarded(name, PDF, data, _read_pdf)
    if suffix in _OFFICE:
        _check_zip(name, data)
        reader = {DOCX: _read_docx, XLSX: _read_xlsx, PPTX: _read_pptx}[_OFFICE[suffix]]
        return _guarded(name, _OFFICE[suffix], data, reader)
    text = _decode(data, strict=suffix not in _TEXT and suffix not in _SOURCE)
    if text is None:
        raise AttachRefusedError("attach_unsupported", name=name)
    if len(text) > MAX_TEXT_CHARS:
        raise AttachRefusedError("attach_too_much_text", name=name, limit=f"{MAX_TEXT_CHARS:,}")
    import mimetypes

    mime = _TEXT.get(suffix) or mimetypes.guess_type(name)[0] or "text/plain"
    return Document(name, mime if mime.startswith(("text/", "application/json")) else "text/plain", data, text)


def _guarded(name: str, mime: str, data: bytes, reader: Any) -> Document:
    """Run a library reader; whatever a damaged file makes it raise becomes the words table's sentence."""
    try:
        text, pages = reader(name, data)
    except AttachRefusedError:
        raise
    except Exception as exc:  # the libraries raise many kinds on damaged input (KeyError, ValueError, their own)
        _log.info("could not read %s as %s: %r", name, mime, exc)
        raise AttachRefusedError("attach_damaged", name=name) from exc
    if len(text) > MAX_TEXT_CHARS:
        raise AttachRefusedError("attach_too_much_text", name=name, limit=f"{MAX_TEXT_CHARS:,}")
    return Document(name, mime, data, text, pages)


def _decode(data: bytes, *, strict: bool) -> str | None:
    """Text from bytes: UTF-8 (with or without a BOM), UTF-16 with a BOM, else Windows-1252; None for binary data."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if strict:
            return None
        return data.decode("cp1252", errors="replace")


def _check_zip(name: str, data: bytes) -> None:
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise AttachRefusedError("attach_damaged", name=name) from exc
    if unpacked > _MAX_UNZIPPED:
        raise AttachRefusedError("attach_too_much_text", name=name, limit=f"{MAX_TEXT_CHARS:,}")


class _Text:
    """Collects text and stops as soon as there is more than one message can send."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parts: list[str] = []
        self.length = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text) + 1
        if self.length > MAX_TEXT_CHARS:
            raise AttachRefusedError("attach_too_much_text", name=self.name, limit=f"{MAX_TEXT_CHARS:,}")

    def joined(self) -> str:
        return "\n".join(self.parts).strip()


def _read_pdf(name: str, data: bytes) -> tuple[str, int]:
    from pypdf import PasswordType, PdfReader

    # pypdf warns about every flaw it repairs (a missing EOF marker, a bad offset): the user's file, not our problem.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
        raise AttachRefusedError("attach_password", name=name)
    pages = len(reader.pages)
    if pages > MAX_PAGES:
        raise AttachRefusedError("attach_too_many_pages", name=name, pages=pages, limit=MAX_PAGES)
    out = _Text(name)
    found = False
    for number, page in enumerate(reader.pages, 1):
        text = page.extract_text().strip()
        found = found or bool(text)
        out.add(f"[Page {number}]\n{text}\n")
    return (out.joined() if found else ""), pages


def _read_docx(name: str, data: bytes) -> tuple[str, int]:
    import docx
    from docx.table import Table

    out = _Text(name)
    for block in docx.Document(io.BytesIO(data)).iter_inner_content():
        if isinstance(block, Table):
            out.add(_rows(name, ([cell.text for cell in row.cells] for row in block.rows)))
            continue
        style = block.style.name if block.style is not None else ""
        level = style.removeprefix("Heading ").strip()
        prefix = "#" * int(level) + " " if style.startswith("Heading ") and level.isdigit() else ""
        out.add(prefix + block.text)
    return out.joined(), 0


def _read_xlsx(name: str, data: bytes) -> tuple[str, int]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        out = _Text(name)
        for sheet in book.worksheets:
            out.add(f"## Sheet: {sheet.title}")
            rows = (["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True))
            out.add(_rows(name, (row for row in rows if any(row)), text=out))
    finally:
        book.close()
    return out.joined(), 0


def _read_pptx(name: str, data: bytes) -> tuple[str, int]:
    from pptx import Presentation

    slides = Presentation(io.BytesIO(data)).slides
    if len(slides) > MAX_PAGES:
        raise AttachRefusedError("attach_too_many_pages", name=name, pages=len(slides), limit=MAX_PAGES)
    out = _Text(name)
    for number, slide in enumerate(slides, 1):
        out.add(f"## Slide {number}")
        for shape in slide.shapes:
            if shape.has_text_frame:
                out.add(shape.text_frame.text)
            if getattr(shape, "has_table", False):
                out.add(_rows(name, ([cell.text for cell in row.cells] for row in shape.table.rows)))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                out.add(f"Notes: {notes}")
    return out.joined(), len(slides)


def _rows(name: str, rows: Iterable[list[str]], text: _Text | None = None) -> str:
    """Table rows as CSV (what models read best), stopping once there is too much."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    budget = MAX_TEXT_CHARS - (text.length if text is not None else 0)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > budget:
            raise AttachRefusedError("attach_too_much_text", name=name, limit=f"{MAX_TEXT_CHARS:,}")
    return buffer.getvalue()
