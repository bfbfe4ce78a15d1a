"""Markdown rendering: safety (no HTML, no resource loading), links, code highlighting, tables."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QFont, QTextDocument, QTextTable

from desktop.ui.markdown import SafeTextDocument, code_blocks, is_safe_link, render_markdown
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
