"""Safe, native rendering of an answer's Markdown into a QTextDocument, with highlighted code blocks."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, QUrl
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QSyntaxHighlighter,
    QTextBlock,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
    QTextFormat,
    QTextFrame,
    QTextFrameFormat,
    QTextLength,
    QTextOption,
    QTextTable,
)

from desktop.ui.theme import ColorSet

if TYPE_CHECKING:  # pygments itself loads with the first code block, not with the window
    from markdown_it import MarkdownIt
    from pygments.lexer import Lexer
    from pygments.token import _TokenType

__all__ = [
    "MARKDOWN_FEATURES",
    "CodeBlock",
    "CodeHighlighter",
    "SafeTextDocument",
    "code_blocks",
    "is_safe_link",
    "render_markdown",
    "warm_up",
]

MARKDOWN_FEATURES = QTextDocument.MarkdownFeature(
    QTextDocument.MarkdownFeature.MarkdownDialectGitHub.value | QTextDocument.MarkdownFeature.MarkdownNoHTML.value
)
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
_CODE_LANGUAGE = QTextFormat.Property.BlockCodeLanguage
_GUESS_LIMIT = 4000  # guessing a lexer on huge text is slow; a prefix decides as well


def is_safe_link(url: QUrl | str) -> bool:
    """Return True for links the app may hand to the desktop (web and mail only, never file: or custom schemes)."""
    qurl = QUrl(url) if isinstance(url, str) else url
    return qurl.isValid() and qurl.scheme().lower() in _SAFE_SCHEMES


class SafeTextDocument(QTextDocument):
    """A QTextDocument that never loads any resource (no file reads, no network).

    `code` holds its code blocks once rendered (`render_markdown`), so views need not rescan the text at every paint.
    """

    code: list[CodeBlock] | None = None

    def loadResource(self, type: int, name: QUrl | str) -> Any:
        # Markdown image syntax makes the document ask for the image: a file: URL would be read from disk.
        return None


@dataclass(frozen=True)
class CodeBlock:
    """A fenced or indented code block: its first/last QTextBlock numbers, language and plain text."""

    first_block: int
    last_block: int
    language: str
    text: str


def _is_code(block: QTextBlock) -> bool:
    return block.blockFormat().hasProperty(_CODE_LANGUAGE)


def _language(block: QTextBlock) -> str:
    value = block.blockFormat().property(_CODE_LANGUAGE)
    return value.strip().lower() if isinstance(value, str) else ""


def code_blocks(doc: QTextDocument, sizes: list[int] | None = None) -> list[CodeBlock]:
    """Return the code blocks of a rendered document, in order.

    Qt's importer gives adjacent code blocks (two fences separated by a blank line) no separator: their lines are one
    run of code-formatted QTextBlocks. A run is split where the frame changes (once `_frame_code_blocks` gave each
    block its frame) and, before that, by `sizes`: the line count of each code block of the source, in order.
    """
    return _code_blocks_from(doc.begin(), sizes)


def _code_blocks_from(block: QTextBlock, sizes: list[int] | None = None) -> list[CodeBlock]:
    """`code_blocks` of the part of a document from `block` to its end."""
    result: list[CodeBlock] = []
    pending = list(sizes or [])
    while block.isValid():
        if not _is_code(block):
            block = block.next()
            continue
        frame = QTextCursor(block).currentFrame()
        run: list[QTextBlock] = []
        while block.isValid() and _is_code(block) and QTextCursor(block).currentFrame() == frame:
            run.append(block)
            block = block.next()
        while run:
            size = pending.pop(0) if pending else len(run)
            if size > len(run):  # the source and Qt disagree: keep the rest of the run together
                size, pending = len(run), []
            part, run = run[:size], run[size:]
            result.append(
                CodeBlock(
                    part[0].blockNumber(), part[-1].blockNumber(), _language(part[0]), "\n".join(b.text() for b in part)
                )
            )
    return result


_WARM_LANGUAGES = ("python", "javascript", "bash", "json", "sql")  # the commonest in answers


def warm_up(style_name: str) -> None:
    """Load what code blocks need (markdown-it, pygments, common lexers, the style) on a worker thread, once.

    Called when an answer starts streaming: its first code block then finds them loaded instead of importing them on
    the GUI thread (a stall of a quarter of a second, tests/benchmarks). Only pure-Python imports run there; a code
    block that comes first waits for the module it needs, as it would have without this.
    """
    _warming(style_name)


@functools.cache
def _warming(style_name: str) -> threading.Thread:
    thread = threading.Thread(target=_load_code_support, args=(style_name,), name="code-support", daemon=True)
    thread.start()
    return thread


def _load_code_support(style_name: str) -> None:
    from pygments.styles import get_style_by_name

    _code_parser().parse("```\n\n```")
    get_style_by_name(style_name)
    for language in _WARM_LANGUAGES:
        _lexer_for(language)


@functools.cache
def _code_parser() -> MarkdownIt:
    """The Markdown parser that counts code lines, built once: building one costs more than parsing a streamed
    answer's tail with it, which happens at every update of an answer writing code (tests/benchmarks).

    Code blocks are found by the block rules alone, so inline parsing (emphasis, links, code spans: ~97% of the
    time on a long answer, 20 ms -> 0.65 ms) is switched off."""
    from markdown_it import MarkdownIt  # only when an answer with code is rendered

    return MarkdownIt("commonmark").disable("inline")


def _code_sizes(text: str) -> list[int]:
    """The number of lines of each fenced or indented code block of a Markdown source, in order."""
    sizes = []
    for token in _code_parser().parse(text):
        if token.type in ("fence", "code_block"):
            sizes.append(max(1, token.content.count("\n") or 1))
    return sizes


@functools.lru_cache(maxsize=64)
def _lexer_for(language: str) -> Lexer | None:
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@functools.lru_cache(maxsize=256)
def _guessed_lexer(text: str) -> Lexer | None:
    from pygments.lexers import guess_lexer
    from pygments.lexers.special import TextLexer
    from pygments.util import ClassNotFound

    try:
        lexer = guess_lexer(text[:_GUESS_LIMIT], stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None
    return None if isinstance(lexer, TextLexer) else lexer


@functools.lru_cache(maxsize=1024)
def _token_format(style_name: str, token: _TokenType) -> QTextCharFormat | None:
    from pygments.styles import get_style_by_name

    style = get_style_by_name(style_name).style_for_token(token)
    fmt = QTextCharFormat()
    if style["color"]:
        fmt.setForeground(QColor(f"#{style['color']}"))
    if style["bold"]:
        fmt.setFontWeight(QFont.Weight.Bold)
    if style["italic"]:
        fmt.setFontItalic(True)
    return None if fmt.isEmpty() else fmt


Span = tuple[int, int, QTextCharFormat]


@functools.lru_cache(maxsize=256)
def _line_spans(style_name: str, lexer: Lexer, text: str) -> tuple[tuple[Span, ...], ...]:
    """Coloured spans (start, length, format) per line of one code block.

    Cached: while an answer streams its document is rebuilt at every flush, and only the last code block changes;
    re-lexing every finished block each time made rebuilds of long answers stall the UI (tests/benchmarks).
    """
    starts, offset = [], 0
    for text_line in text.split("\n"):
        starts.append(offset)
        offset += len(text_line) + 1
    lines: list[list[Span]] = [[] for _ in starts]
    line_no = 0
    for pos, token, value in lexer.get_tokens_unprocessed(text):
        fmt = _token_format(style_name, token)
        end = pos + len(value)
        while line_no + 1 < len(starts) and starts[line_no + 1] <= pos:
            line_no += 1
        if fmt is None:
            continue
        # A token may cross line ends (a multi-line string): split it per line.
        line = line_no
        while line < len(starts) and starts[line] < end:
            lo = max(pos, starts[line]) - starts[line]
            hi = min(end, starts[line + 1] - 1 if line + 1 < len(starts) else end) - starts[line]
            if hi > lo:
                lines[line].append((lo, hi - lo, fmt))
            line += 1
    return tuple(tuple(spans) for spans in lines)


class CodeHighlighter(QSyntaxHighlighter):
    """Colours code blocks with pygments; each block of lines is lexed as a whole so strings may span lines."""

    def __init__(self, doc: QTextDocument, style_name: str) -> None:
        self._style = style_name
        self._spans: dict[int, list[tuple[int, int, QTextCharFormat]]] = {}
        self.blocks: list[CodeBlock] = []
        super().__init__(doc)
        self.prepare()

    def prepare(self) -> None:
        """Lex every code block now and re-apply the colours (call after the text changed)."""
        doc = self.document()
        self._spans = {}
        self.blocks = code_blocks(doc)
        for code in self.blocks:
            lexer = _lexer_for(code.language) if code.language else _guessed_lexer(code.text)
            if lexer is not None:
                self._collect(code, lexer)
        self.rehighlight()

    def _collect(self, code: CodeBlock, lexer: Lexer) -> None:
        for line, spans in enumerate(_line_spans(self._style, lexer, code.text)):
            if spans:
                self._spans[code.first_block + line] = list(spans)

    def highlightBlock(self, text: str) -> None:
        for start, length, fmt in self._spans.get(self.currentBlock().blockNumber(), ()):
            self.setFormat(start, length, fmt)


def _tr(text: str) -> str:
    return QCoreApplication.translate("markdown", text)


def _new_document(font: QFont, parent: QObject | None = None) -> SafeTextDocument:
    doc = SafeTextDocument(parent)
    doc.setDefaultFont(font)
    doc.setDocumentMargin(0)
    option = doc.defaultTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    doc.setDefaultTextOption(option)
    # A rendered answer is never edited: no undo history to record for the styling edits below.
    doc.setUndoRedoEnabled(False)
    return doc


def _parse_and_style(doc: SafeTextDocument, text: str, colors: ColorSet, font: QFont) -> None:
    doc.setMarkdown(text, MARKDOWN_FEATURES)
    _replace_images(doc, colors)
    _style_inline(doc, colors, font)
    _style_tables(doc, colors)
    _frame_code_blocks(doc, colors, text)


def render_markdown(text: str, colors: ColorSet, font: QFont, parent: QObject | None = None) -> SafeTextDocument:
    """Parse Markdown (GitHub dialect, HTML kept literal) into a styled, highlighted document; loads nothing."""
    doc = _new_document(font, parent)
    _parse_and_style(doc, text, colors, font)
    doc.code = CodeHighlighter(doc, colors.pygments_style).blocks
    return doc


def _stable_cut(text: str) -> int:
    """Where `text` can be split so the part before renders the same whatever follows: after its last blank line
    outside a fenced code block (0 when there is none)."""
    cut = 0
    fence = ""
    offset = 0
    blank_before = False
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence):
                fence = ""
        elif stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif not stripped and not blank_before and offset:
            cut = offset + len(line)
        blank_before = not stripped
        offset += len(line)
    return cut


class LiveDocument:
    """The document of an answer that is still streaming, updated by appending instead of rebuilding.

    Finished paragraphs (up to the last blank line outside code) are rendered once and appended; only the unfinished
    tail is re-rendered, re-scanned for code and laid out again at each update. `append` costs the tail, whatever the
    length of the answer: no join, search or scan over the whole text (rebuilding a long answer at every flush stalled
    the UI, tests/benchmarks). Highlighting is baked into the text formats so appending never re-lays out what is
    already there. When the answer ends, the view renders it whole once more.
    """

    def __init__(self, colors: ColorSet, font: QFont) -> None:
        self.doc = _new_document(font)
        self.doc.code = []
        self._colors = colors
        self._font = font
        self._parts: list[str] = []  # the text shown, joined only when asked for (`text`)
        self._length = 0
        self._done_length = 0  # length of the finished part's source, rendered at the start of the document
        self._tail = ""  # source after the finished part
        self._tail_start = 0  # document position where the tail (and its separating block) begins
        self._done_code = 0  # how many of `doc.code` are in the finished part (found once, never looked for again)
        self.rendered = 0  # characters of source rendered so far (tests count the work an update does)

    @property
    def text(self) -> str:
        """The source shown."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def __len__(self) -> int:
        return self._length

    def settled_height(self) -> float:
        """How far down the document no update rewrites: the bottom of the last block before the unfinished tail
        (what is drawn above it stays as it is, so a view needs to repaint only below it)."""
        before = self.doc.findBlock(self._tail_start).previous()
        return self.doc.documentLayout().blockBoundingRect(before).bottom() if before.isValid() else 0.0

    def update(self, text: str) -> bool:
        """Show `text`; False when it does not extend the finished part shown (the caller then starts a new one)."""
        shown = self.text
        if text is shown or text == shown:
            return True
        if text.startswith(shown):
            self.append(text[len(shown) :])
            return True
        if not text.startswith(shown[: self._done_length]):
            return False
        self._parts, self._length = [text], len(text)
        self._show(text[self._done_length :])
        return True

    def append(self, more: str) -> None:
        """Show `more` after the text shown; the work is that of the unfinished tail only."""
        if not more:
            return
        self._parts.append(more)
        self._length += len(more)
        self._show(self._tail + more)

    def _show(self, rest: str) -> None:
        cut = _stable_cut(rest)
        rewritten = self._tail_start
        cursor = QTextCursor(self.doc)
        cursor.setPosition(rewritten)
        keep = cursor.block()
        formats = keep.blockFormat(), keep.charFormat()
        first = keep.blockNumber()
        # Looked up before editing: Qt brings its frames up to date only at the end of the edit block below.
        after_frame = keep.previous().isValid() and QTextCursor(keep.previous()).currentFrame() != self.doc.rootFrame()
        with _edit_block(self.doc):
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
            # Removing the old tail leaves its block with the tail's format (Qt keeps the later block's): undo that.
            cursor.setBlockFormat(formats[0])
            cursor.setBlockCharFormat(formats[1])
            if cut:
                after_frame = self._append(cursor, rest[:cut], after_frame)
                self._done_length += cut
                self._tail_start = cursor.position()
            self._tail = rest[cut:]
            if self._tail.strip():
                self._append(cursor, self._tail, after_frame)
        self.rendered += len(rest)
        # Qt's layout loses the rewritten blocks when the whole document was laid out empty and then rebuilt (a
        # one-paragraph answer then paints nothing until a resize): lay it out again then. A rewritten tail is laid
        # out once, at the end of the edit block.
        if not rewritten:
            self.doc.markContentsDirty(0, self.doc.characterCount())
        # Code blocks: those of the finished part are found once; only the tail's are looked for again.
        found = _code_blocks_from(self.doc.findBlockByNumber(first))
        code = self.doc.code
        assert code is not None
        del code[self._done_code :]
        code += found
        if cut:
            tail_block = self.doc.findBlock(self._tail_start).blockNumber()
            self._done_code += sum(1 for c in found if c.first_block < tail_block)

    def _append(self, cursor: QTextCursor, source: str, after_frame: bool) -> bool:
        """Render `source` on its own and append it, so the document has the structure a full render gives; return
        whether it ends with a table or code frame. `after_frame`: whether the document does (its frames are not
        up to date inside an edit block)."""
        part = _new_document(self._font)
        _parse_and_style(part, source, self._colors, self._font)
        _bake_highlighting(part, self._colors.pygments_style)
        first = part.begin()
        # Qt's importer starts a document that opens with a table or code block with an empty block.
        lead = first.next() if not first.text() and first.next().isValid() else first
        # A table or code frame goes in after the last block as it is; text gets a block of its own, as a full
        # render gives it (an empty block always follows a frame, and the importer keeps it before the next text).
        structured = QTextCursor(lead).currentFrame() != part.rootFrame()
        self._insert(cursor, part, first, structured, after_frame)
        end = part.lastBlock().previous()
        return end.isValid() and QTextCursor(end).currentFrame() != part.rootFrame()

    def _insert(
        self, cursor: QTextCursor, part: QTextDocument, first: QTextBlock, structured: bool, after_frame: bool
    ) -> None:
        last = self.doc.lastBlock()
        kept = None
        if not structured and not self.doc.isEmpty() and (last.text() or after_frame):
            kept = (last.position(), last.blockFormat(), last.charFormat())
            cursor.insertBlock()
        start = cursor.position()
        cursor.insertFragment(QTextDocumentFragment(part))
        if kept is not None:  # the fragment's formats must not leak into the block before it
            before = QTextCursor(self.doc.findBlock(kept[0]))
            before.setBlockFormat(kept[1])
            before.setBlockCharFormat(kept[2])
        if structured:
            return
        block = self.doc.findBlock(start)
        if first.textList() is None:
            _set_block_formats(block, first)  # its own margins, heading level and font, not the merged block's
        elif not block.text() and block.next().isValid() and block.next().textList() is not None:
            # A list is inserted after the empty block instead of into it: fold that block away.
            item = block.next()
            fmt, char_fmt = item.blockFormat(), item.charFormat()
            QTextCursor(item).deletePreviousChar()
            cursor_at = QTextCursor(self.doc.findBlock(start))
            cursor_at.setBlockFormat(fmt)
            cursor_at.setBlockCharFormat(char_fmt)


@contextlib.contextmanager
def _edit_block(doc: QTextDocument) -> Iterator[None]:
    """Group edits so that Qt lays out what they changed once, at the end, instead of after each of them (most of
    a live update's cost, tests/benchmarks). Qt brings its frames up to date only when the group ends."""
    cursor = QTextCursor(doc)
    cursor.beginEditBlock()
    try:
        yield
    finally:
        cursor.endEditBlock()


def _set_block_formats(block: QTextBlock, like: QTextBlock) -> None:
    cursor = QTextCursor(block)
    cursor.setBlockFormat(like.blockFormat())
    cursor.setBlockCharFormat(like.charFormat())


def _bake_highlighting(doc: QTextDocument, style_name: str) -> None:
    """Apply code colours as character formats (they travel with the text, unlike a QSyntaxHighlighter's)."""
    cursor = QTextCursor(doc)
    for code in code_blocks(doc):
        lexer = _lexer_for(code.language) if code.language else _guessed_lexer(code.text)
        if lexer is None:
            continue
        for line, spans in enumerate(_line_spans(style_name, lexer, code.text)):
            start = doc.findBlockByNumber(code.first_block + line).position()
            for begin, length, fmt in spans:
                cursor.setPosition(start + begin)
                cursor.setPosition(start + begin + length, QTextCursor.MoveMode.KeepAnchor)
                cursor.mergeCharFormat(fmt)


def _replace_images(doc: QTextDocument, colors: ColorSet) -> None:
    found: list[tuple[int, int, str, str]] = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            fmt = frag.charFormat()
            if fmt.isImageFormat():
                alt = fmt.property(QTextFormat.Property.ImageAltText)
                found.append((frag.position(), frag.length(), fmt.toImageFormat().name(), str(alt or "")))
            it += 1
        block = block.next()
    cursor = QTextCursor(doc)
    for pos, length, url, alt in reversed(found):
        cursor.setPosition(pos)
        cursor.setPosition(pos + length, QTextCursor.MoveMode.KeepAnchor)
        link = QTextCharFormat()
        label = _tr("Image: %1").replace("%1", alt or url)
        if is_safe_link(url):
            link.setAnchor(True)
            link.setAnchorHref(url)
            link.setFontUnderline(True)
            link.setForeground(colors.qcolor("link"))
            link.setToolTip(url)
        else:
            link.setForeground(colors.qcolor("muted"))
        cursor.insertText(f"[{label}]", link)


def _style_inline(doc: QTextDocument, colors: ColorSet, font: QFont) -> None:
    cursor = QTextCursor(doc)
    block = doc.begin()
    while block.isValid():
        is_code = _is_code(block)
        # Qt's importer lets a quote's level leak into the first cell of a table that follows it.
        in_table = QTextCursor(block).currentTable() is not None
        quote = not in_table and block.blockFormat().property(QTextFormat.Property.BlockQuoteLevel)
        if is_code:
            bfmt = block.blockFormat()
            bfmt.setNonBreakableLines(False)  # wrap long code lines instead of widening the message
            cursor.setPosition(block.position())
            cursor.setBlockFormat(bfmt)
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            fmt = frag.charFormat()
            patch = QTextCharFormat()
            if fmt.isAnchor():
                patch.setForeground(colors.qcolor("link"))
            elif quote:
                patch.setForeground(colors.qcolor("quote_text"))
            if fmt.fontFixedPitch() and not is_code:
                patch.setBackground(colors.qcolor("code_bg"))
            if fmt.fontFixedPitch():
                patch.setFontPointSize(max(1.0, font.pointSizeF() * 0.92))
            if not patch.isEmpty():
                cursor.setPosition(frag.position())
                cursor.setPosition(frag.position() + frag.length(), QTextCursor.MoveMode.KeepAnchor)
                cursor.mergeCharFormat(patch)
            it += 1
        if quote:
            bfmt = block.blockFormat()
            bfmt.setLeftMargin(16)
            bfmt.setTopMargin(2)
            bfmt.setBottomMargin(6)
            cursor.setPosition(block.position())
            cursor.setBlockFormat(bfmt)
        block = block.next()


def _style_tables(doc: QTextDocument, colors: ColorSet) -> None:
    for frame in _all_frames(doc.rootFrame()):
        if not isinstance(frame, QTextTable):
            continue
        fmt = frame.format()
        fmt.setBorder(1)
        fmt.setBorderBrush(QBrush(colors.qcolor("table_border")))
        fmt.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
        fmt.setBorderCollapse(True)
        fmt.setCellPadding(6)
        fmt.setCellSpacing(0)
        fmt.setTopMargin(4)
        fmt.setBottomMargin(8)
        frame.setFormat(fmt)
        for row in range(frame.rows()):
            for column in range(frame.columns()):
                cell = frame.cellAt(row, column)
                cell_fmt = cell.format().toTableCellFormat()
                # Qt's importer leaves header cells bottom-aligned when another header cell is right-aligned.
                cell_fmt.setVerticalAlignment(QTextCharFormat.VerticalAlignment.AlignTop)
                if row == 0:
                    cell_fmt.setBackground(colors.qcolor("table_header_bg"))
                cell.setFormat(cell_fmt)
                # `doc`, not frame.document(): that call's wrapper would keep the document alive for good.
                _drop_leading_empty_block(doc, cell.firstPosition(), cell.lastPosition())
                if row == 0:
                    cursor = cell.firstCursorPosition()
                    cursor.setPosition(cell.lastPosition(), QTextCursor.MoveMode.KeepAnchor)
                    bold = QTextCharFormat()
                    bold.setFontWeight(QFont.Weight.Bold)
                    cursor.mergeCharFormat(bold)


def _drop_leading_empty_block(doc: QTextDocument, first: int, last: int) -> None:
    # Qt's importer puts the empty block that ends a preceding quote into the table's first cell.
    head = doc.findBlock(first)
    nxt = head.next()
    if head.text() == "" and nxt.isValid() and nxt.position() <= last:
        keep = nxt.blockFormat()
        cursor = QTextCursor(head)
        cursor.deleteChar()
        cursor.setBlockFormat(keep)


def _all_frames(frame: QTextFrame) -> list[QTextFrame]:
    out: list[QTextFrame] = []
    for child in frame.childFrames():
        out.append(child)
        out.extend(_all_frames(child))
    return out


def _frame_code_blocks(doc: QTextDocument, colors: ColorSet, source: str) -> None:
    # A frame gives each code block a padded, bordered background; block backgrounds alone hug the text.
    fmt = QTextFrameFormat()
    fmt.setBackground(colors.qcolor("code_bg"))
    fmt.setBorder(1)
    fmt.setBorderBrush(QBrush(colors.qcolor("code_border")))
    fmt.setBorderStyle(QTextFrameFormat.BorderStyle.BorderStyle_Solid)
    fmt.setPadding(10)
    fmt.setTopMargin(6)
    fmt.setBottomMargin(8)
    fmt.setWidth(QTextLength(QTextLength.Type.PercentageLength, 100))
    if not code_blocks(doc):
        return
    for code in reversed(code_blocks(doc, _code_sizes(source))):
        first, last = doc.findBlockByNumber(code.first_block), doc.findBlockByNumber(code.last_block)
        formats = [doc.findBlockByNumber(n).blockFormat() for n in range(code.first_block, code.last_block + 1)]
        start = first.position()
        cursor = QTextCursor(doc)
        # Starting the selection on the previous block separator keeps Qt from leaving an empty code-formatted
        # block outside the frame; Qt then opens the frame with an empty block, merged away below.
        cursor.setPosition(max(0, start - 1))
        cursor.setPosition(last.position() + last.length() - 1, QTextCursor.MoveMode.KeepAnchor)
        frame = cursor.insertFrame(fmt)
        head = doc.findBlock(frame.firstPosition())
        if start > 0:
            QTextCursor(head).deleteChar()
            head = doc.findBlock(frame.firstPosition())
        else:
            QTextCursor(doc.begin()).setBlockFormat(QTextBlockFormat())
        block = head
        for bfmt in formats:
            QTextCursor(block).setBlockFormat(bfmt)
            block = block.next()
