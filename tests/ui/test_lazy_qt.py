"""desktop.ui.lazy_qt: the first frame's enum values, its property setter and the late Qt namespace."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QLabel, QListView

from desktop.ui import lazy_qt
from desktop.ui.attachments import paperclip_icon


@pytest.mark.parametrize(
    ("value", "enum"),
    [
        (lazy_qt.EDIT_ROLE, Qt.ItemDataRole.EditRole),
        (lazy_qt.USER_ROLE, Qt.ItemDataRole.UserRole),
        (lazy_qt.ALIGN_CENTER, Qt.AlignmentFlag.AlignCenter),
        (lazy_qt.ELIDE_RIGHT, Qt.TextElideMode.ElideRight),
        (lazy_qt.PLAIN_TEXT, Qt.TextFormat.PlainText),
        (lazy_qt.SCROLL_BAR_ALWAYS_OFF, Qt.ScrollBarPolicy.ScrollBarAlwaysOff),
        (lazy_qt.TEXT_SELECTABLE_BY_MOUSE, Qt.TextInteractionFlag.TextSelectableByMouse),
    ],
)
def test_each_value_is_its_enum_s(value: int, enum: Any) -> None:
    assert value == enum.value


def test_enum_properties_are_set_from_their_values(qtbot: Any) -> None:
    view = QListView()
    label = QLabel()
    qtbot.addWidget(view)
    qtbot.addWidget(label)
    lazy_qt.set_enum_property(view, "horizontalScrollBarPolicy", lazy_qt.SCROLL_BAR_ALWAYS_OFF)
    lazy_qt.set_enum_property(label, "alignment", lazy_qt.ALIGN_CENTER)
    lazy_qt.set_enum_property(label, "textInteractionFlags", lazy_qt.TEXT_SELECTABLE_BY_MOUSE)
    assert view.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert label.alignment() == Qt.AlignmentFlag.AlignCenter
    assert label.textInteractionFlags() == Qt.TextInteractionFlag.TextSelectableByMouse
    with pytest.raises(ValueError, match="no property 'alignmnet'"):
        lazy_qt.set_enum_property(label, "alignmnet", lazy_qt.ALIGN_CENTER)  # a typo is not a silent dynamic property


def test_the_stand_in_gives_qt_s_own_enums_and_keeps_them() -> None:
    stand_in = lazy_qt._LazyQt()
    assert "Key" not in vars(stand_in)
    assert stand_in.Key is Qt.Key
    assert vars(stand_in)["Key"] is Qt.Key  # the next use is a plain attribute, no lookup in PySide6
    assert stand_in.AlignmentFlag.AlignCenter is Qt.AlignmentFlag.AlignCenter
    with pytest.raises(AttributeError):
        _ = stand_in.NoSuchEnum


def _round_capped_paperclip(size: int, color: str) -> QImage:
    """The paperclip as it was drawn before the first frame avoided Qt's namespace: one path, round caps."""
    image = QImage(size * 2, size * 2, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(2.0)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(QColor(color), size / 11)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    s = size
    path = QPainterPath(QPointF(s * 0.62, s * 0.30))
    path.lineTo(QPointF(s * 0.62, s * 0.70))
    path.arcTo(QRectF(s * 0.38, s * 0.58, s * 0.24, s * 0.24), 0, -180)
    path.lineTo(QPointF(s * 0.38, s * 0.22))
    path.arcTo(QRectF(s * 0.38, s * 0.08, s * 0.34, s * 0.28), 180, -180)
    path.lineTo(QPointF(s * 0.72, s * 0.74))
    path.arcTo(QRectF(s * 0.28, s * 0.56, s * 0.44, s * 0.36), 0, -180)
    path.lineTo(QPointF(s * 0.28, s * 0.34))
    painter.drawPath(path)
    painter.end()
    return image


def test_the_paperclip_s_dotted_ends_look_like_round_caps(qapp: Any) -> None:
    size, color = 20, "#6b6b6b"
    drawn = paperclip_icon(size, color).pixmap(QSize(size, size), 2.0).toImage()
    drawn = drawn.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    reference = _round_capped_paperclip(size, color)
    assert (drawn.width(), drawn.height()) == (reference.width(), reference.height())
    alphas = [
        (drawn.pixelColor(x, y).alpha(), reference.pixelColor(x, y).alpha())
        for y in range(reference.height())
        for x in range(reference.width())
    ]
    assert sum(a for a, _ in alphas) > 0.05 * 255 * len(alphas)  # a paperclip, not an empty icon
    assert max(abs(a - b) for a, b in alphas) <= 48  # antialiasing at the seams only
    assert sum(abs(a - b) for a, b in alphas) <= 0.005 * sum(b for _, b in alphas)  # square ends: 0.02
