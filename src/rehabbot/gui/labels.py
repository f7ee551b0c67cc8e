"""Labels: bold ones in a given size (screen titles, the large-value display) and a one-line
label that elides what does not fit (the alarm title)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy


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


class ElidedLabel(QLabel):
    """A one-line label that shows as much of its text as fits, ending in "…", and the whole
    text in its tooltip: a long alarm title never widens the window or pushes a layout.

    :meth:`full_text` is the text set; :meth:`text` what is shown.
    """

    def __init__(self, text: str = "", points: int | None = None, *, bold: bool = False) -> None:
        super().__init__()
        font = self.font()
        if points is not None:
            font.setPointSize(points)
        font.setBold(bold)
        self.setFont(font)
        self.setMinimumWidth(1)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self._full = ""
        self.setText(text)

    def full_text(self) -> str:
        """The text as set (not elided)."""
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        """Show ``text``, elided to the label's width."""
        self._full = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        """Elide again for the new width."""
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.contentsRect().width(), 1)
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, width)
        super().setText(shown)
