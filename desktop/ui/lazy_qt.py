"""`Qt`, PySide6's namespace of Qt's enums (Qt.Key, Qt.AlignmentFlag...), made at its first use instead of at import.

PySide6 makes the Python enum types of a class when the class is first used, and the Qt namespace has 93 of them:
~14 ms on Python 3.11, a seventh of what the app added to a bare window's first paint. The first frame's modules
import `Qt` from here, and the code that builds and paints the first frame does not use it. Where that code needs one
of Qt's enums, it sets the widget's Qt property from the enum's integer value (the constants below), and Qt's
property system converts the integer. The first `Qt.` after the paint makes the real namespace.

PySide6 can also make it behind a call that does not name `Qt` at all. When a method has overloads, PySide6 checks
the argument against each overload's types. If one overload takes a Qt enum (`QPainter.setPen(Qt.PenStyle)`,
`QSplitter(Qt.Orientation, parent)`, `QBrush(Qt.GlobalColor)`), that check makes the namespace. The test
`test_the_first_frame_makes_no_python_type_for_qt_classes_it_does_not_show` (tests/app/test_import_budget.py) fails
when anything before the paint makes it, and docs/platform.md says how to find the call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtCore import QObject

__all__ = [
    "ALIGN_CENTER",
    "EDIT_ROLE",
    "ELIDE_RIGHT",
    "PLAIN_TEXT",
    "SCROLL_BAR_ALWAYS_OFF",
    "TEXT_SELECTABLE_BY_MOUSE",
    "USER_ROLE",
    "Qt",
    "set_enum_property",
]

# The values of the Qt enums the first frame sets (tests/ui/test_lazy_qt.py checks each against PySide6's enum).
EDIT_ROLE = 0x0002  # Qt.ItemDataRole.EditRole
USER_ROLE = 0x0100  # Qt.ItemDataRole.UserRole
ALIGN_CENTER = 0x0084  # Qt.AlignmentFlag.AlignCenter
ELIDE_RIGHT = 1  # Qt.TextElideMode.ElideRight
PLAIN_TEXT = 0  # Qt.TextFormat.PlainText
SCROLL_BAR_ALWAYS_OFF = 1  # Qt.ScrollBarPolicy.ScrollBarAlwaysOff
TEXT_SELECTABLE_BY_MOUSE = 1  # Qt.TextInteractionFlag.TextSelectableByMouse


def set_enum_property(target: QObject, name: str, value: int) -> None:
    """Set `target`'s Qt property `name`, whose type is a Qt enum, from the enum's integer value."""
    if not target.setProperty(name, value):  # false for a name that is not a declared property (or a failed write)
        raise ValueError(f"{type(target).__name__} has no property {name!r} that takes {value}")


class _LazyQt:
    """Stands for PySide6.QtCore.Qt: the first use of each name fetches it from the real namespace and keeps it."""

    def __getattr__(self, name: str) -> Any:
        from PySide6 import QtCore

        value = getattr(QtCore.Qt, name)
        setattr(self, name, value)  # found in the instance's dict from now on: no second call here
        return value


if TYPE_CHECKING:
    from PySide6.QtCore import Qt
else:
    Qt = _LazyQt()
