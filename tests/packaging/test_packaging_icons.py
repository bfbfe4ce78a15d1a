"""The icon build step: every PNG size, the multi-size .ico, the macOS iconset, and a clear error for a bad SVG."""

from __future__ import annotations

import importlib.util
import struct
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_render_icons() -> ModuleType:
    # packaging/ is not a Python package (its name would shadow PyPA's `packaging`), so load the script by path.
    spec = importlib.util.spec_from_file_location("aoc_render_icons", REPO / "packaging" / "render_icons.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


icons = _load_render_icons()


def _decode(png: bytes) -> Any:
    from PySide6.QtGui import QImage

    image = QImage()
    assert image.loadFromData(png)  # detects PNG from the header
    return image


@pytest.mark.parametrize("size", icons.SIZES)
def test_png_has_the_requested_size_and_a_transparent_corner(qapp: Any, size: int) -> None:
    image = _decode(icons.render_png(icons.DEFAULT_SVG, size))
    assert (image.width(), image.height()) == (size, size)
    assert image.pixelColor(0, 0).alpha() == 0  # rounded corner: nothing painted
    centre = image.pixelColor(size // 2, size // 2)
    assert centre.alpha() == 255


def test_large_render_shows_white_bubble_on_blue(qapp: Any) -> None:
    image = _decode(icons.render_png(icons.DEFAULT_SVG, 256))
    background = image.pixelColor(128, 236)  # below the bubble
    bubble = image.pixelColor(70, 100)  # inside the bubble, left of the spark
    assert background.blue() > background.red() + 60
    assert min(bubble.red(), bubble.green(), bubble.blue()) > 240


def test_ico_directory_points_at_png_entries(qapp: Any) -> None:
    pngs = {s: icons.render_png(icons.DEFAULT_SVG, s) for s in icons.ICO_SIZES}
    data = icons.ico_bytes(pngs)
    reserved, kind, count = struct.unpack_from("<HHH", data, 0)
    assert (reserved, kind, count) == (0, 1, len(icons.ICO_SIZES))
    seen = []
    for i in range(count):
        width, height, _, _, planes, bpp, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * i)
        size = width or 256
        assert (width, planes, bpp) == (height, 1, 32)
        assert data[offset : offset + length] == pngs[size]
        seen.append(size)
    assert seen == sorted(icons.ICO_SIZES)


def test_render_all_writes_hicolor_ico_and_iconset(qapp: Any, tmp_path: Path) -> None:
    written = icons.render_all(icons.DEFAULT_SVG, tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    for size in icons.SIZES:
        assert f"hicolor/{size}x{size}/apps/azure-openai-chat.png" in names
    assert "hicolor/scalable/apps/azure-openai-chat.svg" in names
    assert "azure-openai-chat.ico" in names
    iconset = {n.split("/", 1)[1] for n in names if n.startswith("azure-openai-chat.iconset/")}
    assert iconset == set(icons.ICONSET)  # the ten names `iconutil -c icns` expects
    assert all(p.stat().st_size > 0 for p in written)


@pytest.mark.qt_log_ignore("Cannot read file")
def test_bad_svg_is_a_clear_error_and_keeps_old_output(
    qapp: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.svg"
    broken.write_text("<svg this is not xml", encoding="utf-8")
    with pytest.raises(icons.IconError, match="cannot read SVG icon"):
        icons.render_png(broken, 32)
    previous = tmp_path / "out" / "azure-openai-chat.ico"
    previous.parent.mkdir()
    previous.write_bytes(b"earlier build")
    assert icons.main(["--svg", str(broken), "--out", str(tmp_path / "out")]) == 1
    assert "cannot read SVG icon" in capsys.readouterr().err
    assert previous.read_bytes() == b"earlier build"
