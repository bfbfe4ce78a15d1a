"""Markdown rendering: safety (no HTML, no resource loading), links, code highlighting, tables."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QFont, QTextDocument, QTextTable

from desktop.ui.markdown import LiveDocument, SafeTextDocument, code_blocks, is_safe_link, render_markdown
from desktop.ui.theme import DARK_COLORS, LIGHT_COLORS


def _render(text: str, dark: bool = False) -> QTextDocument:
    doc = render_markdown(text, DARK_COLORS if dark else LIGHT_COLORS, QFont())
    doc.setTextWidth(600)
    return doc


def _fragments(doc: QTextDocument) -> list[Any]:
    out = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            out.append(it.fragment())
            it += 1
        block = block.next()
    return out


def test_html_stays_literal(qapp: Any) -> None:
    doc = _render("Hello <b>bold</b> <script>alert(1)</script> <img src='file:///etc/passwd'>")
    text = doc.toPlainText()
    assert "<b>bold</b>" in text
    assert "<script>alert(1)</script>" in text
    assert not any(f.charFormat().isImageFormat() for f in _fragments(doc))


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://example.com/x.png", "https://example.com/y.png"])
def test_resources_are_never_loaded(qapp: Any, url: str) -> None:
    doc = _render(f"![pic]({url})")
    for kind in (QTextDocument.ResourceType.ImageResource, QTextDocument.ResourceType.StyleSheetResource):
        assert doc.loadResource(kind, QUrl(url)) is None
    assert isinstance(doc, SafeTextDocument)
    assert not any(f.charFormat().isImageFormat() for f in _fragments(doc))


def test_images_become_links_only_for_web_urls(qapp: Any) -> None:
    doc = _render("![cat](https://example.com/cat.png) and ![secret](file:///etc/passwd)")
    assert "[Image: cat]" in doc.toPlainText()
    assert "[Image: secret]" in doc.toPlainText()
    hrefs = [f.charFormat().anchorHref() for f in _fragments(doc) if f.charFormat().isAnchor()]
    assert hrefs == ["https://example.com/cat.png"]


def test_links_are_kept(qapp: Any) -> None:
    doc = _render("See [the docs](https://learn.microsoft.com/azure) now.")
    hrefs = [f.charFormat().anchorHref() for f in _fragments(doc) if f.charFormat().isAnchor()]
    assert hrefs == ["https://learn.microsoft.com/azure"]


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://x.org", True),
        ("http://x.org", True),
        ("mailto:a@b.c", True),
        ("file:///etc/passwd", False),
        ("javascript:alert(1)", False),
        ("ms-settings:privacy", False),
        ("", False),
    ],
)
def test_is_safe_link(url: str, safe: bool) -> None:
    assert is_safe_link(url) is safe


def _color_at(doc: QTextDocument, block_text: str, word: str) -> str | None:
    block = doc.begin()
    while block.isValid():
        if block.text().startswith(block_text):
            pos = block.text().index(word)
            for rng in block.layout().formats():
                if rng.start <= pos < rng.start + rng.length and rng.format.hasProperty(
                    rng.format.Property.ForegroundBrush
                ):
                    return str(rng.format.foreground().color().name())
            return None
        block = block.next()
    raise AssertionError(f"no block starting with {block_text!r}")


def test_code_is_highlighted_with_pygments(qapp: Any) -> None:
    md = "Intro\n\n```python\ndef answer():\n    return 42\n```\n"
    light, dark = _render(md), _render(md, dark=True)
    light_kw, dark_kw = _color_at(light, "def", "def"), _color_at(dark, "def", "def")
    assert light_kw is not None
    assert dark_kw is not None
    assert light_kw != dark_kw  # the colour set decides the pygments style
    assert _color_at(light, "    return", "return") is not None


def test_multiline_string_coloured_on_every_line(qapp: Any) -> None:
    doc = _render('```python\nx = """one\ntwo\nthree"""\n```')
    assert _color_at(doc, "two", "two") is not None


def test_code_blocks_are_found_with_language_and_text(qapp: Any) -> None:
    doc = _render("Text\n\n```sql\nSELECT 1;\nSELECT 2;\n```\n\nMore\n\n```\nplain words here\n```\n")
    blocks = code_blocks(doc)
    assert [(b.language, b.text) for b in blocks] == [("sql", "SELECT 1;\nSELECT 2;"), ("", "plain words here")]
    assert doc.toPlainText().startswith("Text")


def test_code_at_start_of_answer(qapp: Any) -> None:
    doc = _render("```bash\necho hi\n```\nafter")
    assert [(b.language, b.text) for b in code_blocks(doc)] == [("bash", "echo hi")]
    assert _color_at(doc, "echo", "echo") is not None


def test_unknown_language_renders_plain(qapp: Any) -> None:
    doc = _render("```no-such-language\nfoo bar\n```")
    assert code_blocks(doc)[0].text == "foo bar"
    assert _color_at(doc, "foo", "foo") is None


def test_tables_get_borders_and_padding(qapp: Any) -> None:
    doc = _render("> quote\n\n| A | B |\n|---|--:|\n| 1 | 2 |\n")
    tables = [f for f in doc.rootFrame().childFrames() if isinstance(f, QTextTable)]
    assert len(tables) == 1
    fmt = tables[0].format()
    assert fmt.border() == 1
    assert fmt.cellPadding() == 6
    header = doc.findBlock(tables[0].cellAt(0, 0).firstPosition())
    assert header.text() == "A"  # Qt's stray empty block from the quote was removed


def test_long_markdown_renders(qapp: Any) -> None:
    md = "\n\n".join(f"## Part {i}\n\nSome *text* with `code` {i}.\n\n```python\nprint({i})\n```" for i in range(200))
    doc = _render(md)
    assert len(code_blocks(doc)) == 200
    assert doc.size().height() > 1000


def _text_blocks(doc: QTextDocument) -> list[str]:
    """Non-empty block texts: the content, whatever empty separator blocks a renderer adds."""
    return [line for line in doc.toPlainText().split("\n") if line.strip()]


def test_live_document_streams_to_the_same_content_as_a_full_render(qapp: Any) -> None:
    from desktop.simulator._answers import choose_answer

    text = choose_answer("Show me markdown with a table")  # headings, lists, a table, fenced code, long lines
    live = LiveDocument(LIGHT_COLORS, QFont())
    step = max(1, len(text) // 60)
    for end in range(step, len(text) + step, step):  # as a stream would: ever longer prefixes
        assert live.update(text[:end])
    full = _render(text)
    assert _text_blocks(live.doc) == _text_blocks(full)
    # The same code; the live document even keeps adjacent fenced blocks apart, which Qt's importer merges.
    assert "\n".join(c.text for c in code_blocks(live.doc)) == "\n".join(c.text for c in code_blocks(full))
    assert live.doc.code == code_blocks(live.doc)
    # Highlighting is baked into the text formats, so it survives appending.
    first = code_blocks(live.doc)[0]
    block = live.doc.findBlockByNumber(first.first_block)
    colours = {f.charFormat().foreground().color().name() for f in _fragments_of(block)}
    assert len(colours) > 1


def test_live_document_refuses_text_that_does_not_extend_it(qapp: Any) -> None:
    live = LiveDocument(LIGHT_COLORS, QFont())
    assert live.update("First paragraph.\n\nSecond")
    assert live.update("First paragraph.\n\nSecond, longer")
    assert not live.update("Something else entirely")  # the view then starts a new live document
    assert _text_blocks(live.doc) == ["First paragraph.", "Second, longer"]


def _fragments_of(block: Any) -> list[Any]:
    out = []
    it = block.begin()
    while not it.atEnd():
        out.append(it.fragment())
        it += 1
    return out


def _structure(doc: QTextDocument) -> list[tuple[str, int, bool, bool, float]]:
    from PySide6.QtGui import QTextCursor

    out = []
    block = doc.begin()
    while block.isValid():
        fmt = block.blockFormat()
        in_table = QTextCursor(block).currentTable() is not None
        out.append((block.text(), fmt.headingLevel(), block.textList() is not None, in_table, fmt.topMargin()))
        block = block.next()
    return out


@pytest.mark.parametrize("step", [1, 7, 23])
def test_live_document_has_the_structure_of_a_full_render(qapp: Any, step: int) -> None:
    text = (
        "# Title\n\nIntro with **bold**.\n\n## Steps\n\n1. one\n2. two\n   - sub\n\n## Data\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\nBetween.\n\n```python\nx = 1\n```\n\nThe end.\n"
    )
    live = LiveDocument(LIGHT_COLORS, QFont())
    for end in range(step, len(text) + step, step):
        assert live.update(text[:end])
    assert _structure(live.doc) == _structure(_render(text))


def _painted_dark_pixels(doc: QTextDocument) -> int:
    from PySide6.QtGui import QAbstractTextDocumentLayout, QColor, QImage, QPainter, QPalette

    image = QImage(int(doc.textWidth()) + 10, int(doc.size().height()) + 10, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    context = QAbstractTextDocumentLayout.PaintContext()
    context.palette.setColor(QPalette.ColorRole.Text, QColor("black"))
    doc.documentLayout().draw(painter, context)
    painter.end()
    return sum(
        1 for y in range(image.height()) for x in range(image.width()) if image.pixelColor(x, y).lightness() < 128
    )


@pytest.mark.parametrize("answer", ["Hello! How can I help you today?", "One line.\n\nThen a second paragraph."])
def test_live_document_paints_its_text_after_being_laid_out_empty(qapp: Any, answer: str) -> None:
    # A streaming answer is laid out (and painted as "Thinking…") before its first words; a one-paragraph answer
    # then painted nothing until the window was resized.
    live = LiveDocument(LIGHT_COLORS, QFont())
    live.update("")
    live.doc.setTextWidth(600)
    assert live.doc.size().height() >= 0
    live.update(answer[:8])
    live.update(answer)
    full = _render(answer)
    assert _painted_dark_pixels(live.doc) > 0
    assert _painted_dark_pixels(live.doc) == _painted_dark_pixels(full)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("A\n\n```python\nprint(1)\n```\n\n```sql\nSELECT 1;\n```", [("python", "print(1)"), ("sql", "SELECT 1;")]),
        ("```python\na = 1\nb = 2\n```\n\n```python\nc = 3\n```", [("python", "a = 1\nb = 2"), ("python", "c = 3")]),
        ("```\none\n```\n```\ntwo\n```\n\ntext", [("", "one"), ("", "two")]),
    ],
)
def test_adjacent_code_blocks_stay_apart_in_a_full_render(qapp: Any, source: str, expected: list[Any]) -> None:
    doc = render_markdown(source, LIGHT_COLORS, QFont())
    assert isinstance(doc, SafeTextDocument)
    assert [(c.language, c.text) for c in doc.code or []] == expected
    assert [(c.language, c.text) for c in code_blocks(doc)] == expected


def _stream_copies(monkeypatch: Any, copies: int) -> tuple[LiveDocument, str, list[tuple[int, int]]]:
    """Stream `copies` copies of a rich answer in small deltas; return the work of each append: (characters of
    source rendered, blocks looked at for code)."""
    from desktop.simulator._answers import choose_answer
    from desktop.ui import markdown

    looked = [0]
    real = markdown._is_code

    def counting(block: Any) -> bool:
        looked[0] += 1
        return real(block)

    monkeypatch.setattr(markdown, "_is_code", counting)
    piece = choose_answer("Show me markdown with a table") + "\n\n"
    live = LiveDocument(LIGHT_COLORS, QFont())
    work = []
    for _ in range(copies):
        for start in range(0, len(piece), 40):
            rendered, seen = live.rendered, looked[0]
            live.append(piece[start : start + 40])
            work.append((live.rendered - rendered, looked[0] - seen))
    return live, piece * copies, work


def test_live_document_work_per_append_does_not_grow_with_the_answer(qapp: Any, monkeypatch: Any) -> None:
    short_live, _, short = _stream_copies(monkeypatch, 2)
    live, text, long = _stream_copies(monkeypatch, 8)
    per_copy = len(short) // 2
    # The last copy of an 8-copy answer costs exactly what the last copy of a 2-copy answer costs: each append
    # re-renders and re-scans the unfinished tail only, never what is finished.
    assert long[-per_copy:] == short[-per_copy:]
    assert live.text == text
    assert len(live) == len(text)
    assert _text_blocks(live.doc) == _text_blocks(_render(text))
    assert live.doc.code == code_blocks(live.doc)
    assert len(live.doc.code or []) == 8 * len(short_live.doc.code or []) // 2


def test_live_document_update_after_appends(qapp: Any) -> None:
    live = LiveDocument(LIGHT_COLORS, QFont())
    live.append("First paragraph.\n\nSec")
    live.append("ond")
    assert live.update("First paragraph.\n\nSecond")  # the same text: nothing to do
    assert live.update("First paragraph.\n\nSecond, and more.")  # extends it
    assert live.update("First paragraph.\n\nA different tail")  # the finished part is kept, the tail redone
    assert live.text == "First paragraph.\n\nA different tail"
    assert _text_blocks(live.doc) == ["First paragraph.", "A different tail"]
    assert not live.update("Another answer")


def test_a_dropped_document_with_a_table_is_freed(qapp: Any) -> None:
    # Each table used to keep its document alive for good: scrolling a long conversation kept every answer with a
    # table that it had ever shown, far beyond the chat view's cache of documents.
    doc = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |\n", LIGHT_COLORS, QFont())
    assert any(isinstance(frame, QTextTable) for frame in doc.rootFrame().childFrames())
    freed = weakref.ref(doc)
    del doc
    gc.collect()
    assert freed() is None


@pytest.mark.parametrize("step", [3, 40])
def test_live_document_laid_out_while_it_streams_paints_as_a_full_render(qapp: Any, step: int) -> None:
    # Each update is one group of edits, laid out once: what a paint shows must be what laying out the same
    # document afresh shows, however the text arrived.
    text = (
        "# Title\n\nIntro with **bold** and a [link](https://example.com).\n\n1. one\n2. two\n   - sub\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\nBetween.\n\n```python\nx = 1\n```\n\n> quoted\n\nThe end.\n"
    )
    live = LiveDocument(LIGHT_COLORS, QFont())
    live.doc.setTextWidth(600)
    for end in range(step, len(text) + step, step):
        assert live.update(text[:end])
        live.doc.size()  # laid out at every update, as the view does
    fresh = live.doc.clone()
    fresh.setTextWidth(600)
    assert live.doc.size() == fresh.size() == _render(text).size()
    assert _painted_dark_pixels(live.doc) == _painted_dark_pixels(fresh) > 0


def _layout_work(copies: int) -> list[tuple[int, int]]:
    """Stream `copies` copies of a rich answer in 40-character appends into a laid-out live document; return, per
    append, how many times Qt was told to lay out again and how many characters that covered."""
    from desktop.simulator._answers import choose_answer

    piece = choose_answer("Show me markdown with a table") + "\n\n"
    live = LiveDocument(LIGHT_COLORS, QFont())
    live.doc.setTextWidth(600)
    changes: list[tuple[int, int, int]] = []
    live.doc.contentsChange.connect(lambda start, removed, added: changes.append((start, removed, added)))
    work = []
    for _ in range(copies):
        for start in range(0, len(piece), 40):
            seen = len(changes)
            live.append(piece[start : start + 40])
            live.doc.size()
            work.append((len(changes) - seen, sum(added for _, _, added in changes[seen:])))
    return work


def test_live_document_lays_out_each_update_once_and_only_its_tail(qapp: Any) -> None:
    short, long = _layout_work(2), _layout_work(6)
    per_copy = len(short) // 2
    # One layout pass per update (each edit used to start one: 9 to 15 per update), over the re-rendered tail only:
    # the last copy of a 6-copy answer is laid out exactly as the last copy of a 2-copy one.
    assert {passes for passes, _ in long} == {1}
    assert long[-per_copy:] == short[-per_copy:]


def test_code_blocks_of_a_streaming_answer_are_counted_with_one_parser(qapp: Any, monkeypatch: Any) -> None:
    # Each update of an answer writing code counts the lines of the tail's code blocks with markdown-it; building
    # the parser cost more than the parsing, and it was built anew at each update.
    import markdown_it

    from desktop.simulator._answers import CODE_ANSWER
    from desktop.ui import markdown

    markdown._code_parser.cache_clear()
    built = []
    real = markdown_it.MarkdownIt

    class Counting(real):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(markdown_it, "MarkdownIt", Counting)
    live = LiveDocument(LIGHT_COLORS, QFont())
    for start in range(0, len(CODE_ANSWER), 20):
        live.append(CODE_ANSWER[start : start + 20])
    render_markdown(CODE_ANSWER, LIGHT_COLORS, QFont())
    assert len(live.doc.code or []) == 3
    assert len(built) == 1
    markdown._code_parser.cache_clear()  # later tests build the real parser again


_CODE_SAMPLES = [
    "text `span` and ``` not a fence ``` here\n\n```py\na = 1\nb = 2\n```\n",
    "- item\n\n  ```\n  in a list\n  ```\n\n      indented code\n      two lines\n\n> ```js\n> quoted\n> ```\n",
    "*emphasis* [link](http://x) <b>html</b>\n\n~~~\ntilde fence\n~~~\n\n```\nunclosed\nfence",
]


@pytest.mark.parametrize("source", _CODE_SAMPLES)
def test_code_lines_are_counted_without_inline_parsing_and_as_a_full_parse_counts_them(source: str) -> None:
    # Inline parsing was ~97% of counting the code lines of a long answer (20 ms -> 0.65 ms), and code blocks are
    # block-level: the counting parser skips it and finds the same blocks as a full CommonMark parse.
    from markdown_it import MarkdownIt

    from desktop.simulator._answers import CODE_ANSWER
    from desktop.ui import markdown

    for text in (source, CODE_ANSWER):
        full = [
            t.content.count("\n") or 1
            for t in MarkdownIt("commonmark").parse(text)
            if t.type in ("fence", "code_block")
        ]
        assert markdown._code_sizes(text) == [max(1, n) for n in full]
    tokens = markdown._code_parser().parse(source)
    assert [t for t in tokens if t.type == "inline" and t.children] == []
