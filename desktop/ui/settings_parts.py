"""Small pieces the settings dialog, its panels and the guided start share: labels, locks, test results."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from desktop.config import CLOUDS, AuthMethod, Deployment, EndpointError, normalize_endpoint

if TYPE_CHECKING:
    from desktop.services import ConnectionReport

LOCKED_TIP = "Set by your organisation"


def _tr(text: str) -> str:
    return QCoreApplication.translate("SettingsDialog", text)


AUTH_LABELS: dict[AuthMethod, str] = {
    "entra": "Sign in with Microsoft",
    "api_key": "API key",
    "azure_cli": "Azure CLI (advanced)",
}
API_LABELS: dict[str, str] = {
    "responses": "answers through Responses",
    "chat": "answers through Chat Completions",
    "unknown": "not tested yet",
}


def describe_endpoint(text: str) -> tuple[bool, str]:
    """What the app understood from a pasted address, or why it cannot use it (for live feedback)."""
    try:
        found = normalize_endpoint(text)
    except EndpointError as error:
        return False, str(error)
    words = _tr("Resource: {host}").format(host=found.resource_host)
    if found.deployment:
        words += _tr(", deployment: {name}").format(name=found.deployment)
    if found.cloud not in (None, "public"):
        words += f" ({CLOUDS[found.cloud].label})"
    return True, words


def deployment_text(deployment: Deployment) -> str:
    """One list line: name, model and which API it answers."""
    model = deployment.model_name
    what = deployment.name if not model or model == deployment.name else f"{deployment.name} ({model})"
    return f"{what} — {_tr(API_LABELS[deployment.api])}"


def lock_icon(size: int = 16) -> QIcon:
    """A padlock drawn in code: icon themes are missing on Windows, macOS and minimal Linux desktops."""
    themed = QIcon.fromTheme("object-locked")
    if not themed.isNull():
        return themed
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = QColor("#6b6b6b")
    painter.setPen(QPen(color, size / 8))
    painter.drawArc(QRectF(size * 0.28, size * 0.08, size * 0.44, size * 0.5), 0, 180 * 16)
    painter.drawLine(QPointF(size * 0.28, size * 0.33), QPointF(size * 0.28, size * 0.45))
    painter.drawLine(QPointF(size * 0.72, size * 0.33), QPointF(size * 0.72, size * 0.45))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawRoundedRect(QRectF(size * 0.15, size * 0.45, size * 0.7, size * 0.5), 2, 2)
    painter.end()
    return QIcon(pixmap)


def lock(widget: QWidget, locked: bool) -> None:
    """Grey out a setting the organisation fixed, and say why on hover."""
    widget.setEnabled(not locked)
    widget.setToolTip(_tr(LOCKED_TIP) if locked else "")


def steps_html(report: ConnectionReport) -> str:
    """A connection test's steps as coloured lines."""
    lines = []
    for step in report.steps:
        # A way of answering the model does not offer is a neutral note, never a red mark.
        mark, color = ("ℹ", "#605e5c") if step.neutral else ("✔", "#107c10") if step.ok else ("✘", "#c42b1c")
        lines.append(
            f'<span style="color:{color}">{mark}</span> <b>{html.escape(step.title)}</b> — {html.escape(step.message)}'
        )
    return "<br>".join(lines)


def labelled(widget: QWidget, name: str) -> QWidget:
    widget.setAccessibleName(name)
    return widget
