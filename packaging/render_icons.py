"""Render the master SVG icon into the PNG, ICO and macOS iconset files that the installers need.

Usage: python packaging/render_icons.py [--svg resources/icons/azure-openai-chat.svg] [--out build/icons]

Writes, under --out:
  hicolor/<n>x<n>/apps/azure-openai-chat.png for every size in SIZES, plus hicolor/scalable/apps/*.svg
  azure-openai-chat.ico   (Windows: PNG-compressed entries 16..256, read by Windows Vista and later)
  azure-openai-chat.iconset/  (macOS: `iconutil -c icns` turns it into an .icns on the mac runner)
Only PySide6 (QtSvg) is used, so the same step runs on every build machine without extra tools.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import sys
from pathlib import Path

NAME = "azure-openai-chat"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)  # the ICO format stores at most 256 px
# iconutil's file names: icon_<points>x<points>[@2x].png.
ICONSET = {f"icon_{p}x{p}.png": p for p in (16, 32, 128, 256, 512)} | {
    f"icon_{p}x{p}@2x.png": 2 * p for p in (16, 32, 128, 256, 512)
}
REPO = Path(__file__).resolve().parent.parent
DEFAULT_SVG = REPO / "resources" / "icons" / f"{NAME}.svg"


class IconError(Exception):
    """The SVG cannot be read or rendered."""


def render_png(svg: Path, size: int) -> bytes:
    """Render `svg` to a square transparent PNG of `size` pixels and return its bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage, QImageWriter, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise IconError(f"cannot read SVG icon {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, QByteArray(b"PNG"))
    if not writer.write(image):
        raise IconError(f"cannot encode a {size} px PNG: {writer.errorString()}")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """Pack PNG images (size -> bytes) into one .ico file (ICONDIR + ICONDIRENTRY table + PNG payloads)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, payload = b"", b""
    for size in sizes:
        png = pngs[size]
        # Width/height 0 means 256 in the ICO directory.
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset)
        payload += png
        offset += len(png)
    return header + entries + payload


def render_all(svg: Path, out: Path) -> list[Path]:
    """Replace `out` with every icon file and return the paths written (`out` is kept if rendering fails)."""
    rendered = {size: render_png(svg, size) for size in sorted({*SIZES, *ICONSET.values()})}
    if out.exists():
        shutil.rmtree(out)
    written: list[Path] = []

    def write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)

    for size in SIZES:
        write(out / "hicolor" / f"{size}x{size}" / "apps" / f"{NAME}.png", rendered[size])
    write(out / "hicolor" / "scalable" / "apps" / f"{NAME}.svg", svg.read_bytes())
    write(out / f"{NAME}.ico", ico_bytes({s: rendered[s] for s in ICO_SIZES}))
    for filename, size in ICONSET.items():
        write(out / f"{NAME}.iconset" / filename, rendered[size])
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: render the icons, print what was written, exit 0 (or 1 with a message)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--svg", type=Path, default=DEFAULT_SVG)
    parser.add_argument("--out", type=Path, default=REPO / "build" / "icons")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    # QPainter needs a QGuiApplication; keep a reference so it lives until we are done.
    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])
    try:
        written = render_all(args.svg, args.out)
    except (IconError, OSError) as exc:
        print(f"render_icons: {exc}", file=sys.stderr)
        return 1
    finally:
        del app
    print(f"render_icons: wrote {len(written)} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
