"""Bold labels in a given size: screen titles, the alarm title, the large-value display."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel


def bold_label(text: str, points: int, *, centered: bool = False) -> QLabel:
    """A bold label of ``points`` points (centred if asked)."""
    label = QLabel(text)
    font = label.font()
    font.setPointSize(points)
    font.setBold(True)
    label.setFont(font)
    if centered:
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return label
