"""Helpers of the console tests: where screenshots go, and which texts a screen clips."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QLabel,
    QPushButton,
    QTableWidget,
    QWidget,
)

from rehabbot.gui.labels import ElidedLabel
from tests.artifacts import artifacts_dir

#: Room a push button or check box needs beside its text (px): frame, padding, indicator.
BUTTON_ROOM_PX = 8
CHECK_ROOM_PX = 24


def save_screenshot(widget: QWidget, name: str) -> Path:
    """Save ``widget`` as ``<artifacts>/<name>.png``; return the path."""
    path = artifacts_dir() / f"{name}.png"
    assert widget.grab().toImage().save(str(path)), path
    return path


def _shown(widget: QWidget) -> bool:
    return widget.isVisible() and widget.width() > 0 and not widget.visibleRegion().isEmpty()


def _plain(text: str) -> str:
    """``text`` as shown: mnemonic ampersands removed (``&&`` is one ``&``)."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _label_fits(label: QLabel) -> bool:
    text = _plain(label.text()) if label.buddy() is not None else label.text()
    if not text or label.textFormat() == Qt.TextFormat.RichText or text.lstrip().startswith("<"):
        return True
    if isinstance(label, ElidedLabel):
        return text == label.full_text()  # nothing elided
    metrics, rect = label.fontMetrics(), label.contentsRect()
    if label.wordWrap():
        needed = metrics.boundingRect(QRect(0, 0, rect.width(), 100_000),
                                      int(Qt.TextFlag.TextWordWrap), text).height()
        return needed <= rect.height() + 1
    lines = text.split("\n")
    return (max(metrics.horizontalAdvance(line) for line in lines) <= rect.width() + 1
            and len(lines) * metrics.lineSpacing() <= rect.height() + metrics.leading() + 2)


def _button_fits(button: QAbstractButton) -> bool:
    text = _plain(button.text())
    if not text:
        return True
    room = CHECK_ROOM_PX if isinstance(button, QCheckBox) else BUTTON_ROOM_PX
    metrics = button.fontMetrics()
    return max(metrics.horizontalAdvance(line) for line in text.split("\n")) + room <= (
        button.width())


def _table_clips(table: QTableWidget) -> list[str]:
    """Texts of the table's cells (and headers) that do not fit their cell, and columns that lie
    beyond the table's view (a horizontal scroll range)."""
    clipped = []
    if table.horizontalScrollBar().maximum() > 0:
        clipped.append(f"columns beyond the view by {table.horizontalScrollBar().maximum()} px")
    metrics = table.fontMetrics()
    margin = 2 * (table.style().pixelMetric(table.style().PixelMetric.PM_FocusFrameHMargin) + 1)
    header = table.horizontalHeader()
    for column in range(table.columnCount()):
        head = table.horizontalHeaderItem(column)
        if head is not None and header.isVisible() and header.fontMetrics().horizontalAdvance(
                head.text()) + margin > table.columnWidth(column):
            clipped.append(f"header {head.text()!r}")
    for row in range(table.rowCount()):
        for column in range(table.columnCount()):
            item = table.item(row, column)
            if item is None or not item.text():
                continue
            width = table.columnWidth(column) - margin
            if table.wordWrap():
                needed = metrics.boundingRect(QRect(0, 0, width, 100_000),
                                              int(Qt.TextFlag.TextWordWrap), item.text()).height()
                fits = needed <= table.rowHeight(row)
            else:
                fits = metrics.horizontalAdvance(item.text()) <= width
            if not fits:
                clipped.append(f"cell {item.text()!r}")
    return clipped


def clipped_texts(root: QWidget) -> list[str]:
    """Every text shown under ``root`` that its widget cannot show whole: labels (one line
    against :meth:`QFontMetrics.horizontalAdvance`, wrapped ones against the height their
    wrapped text needs, elided labels that elided anything), buttons, check boxes and the
    cells of tables. Pending layout requests are processed first."""
    for _ in range(3):  # a layout request travels up one level per round
        QApplication.processEvents()
    clipped = []
    for label in root.findChildren(QLabel):
        if _shown(label) and not _label_fits(label):
            clipped.append(f"{type(label).__name__} {label.objectName()!r}: {label.text()!r} "
                           f"in {label.width()}x{label.height()} px")
    for button in root.findChildren(QAbstractButton):
        if isinstance(button, QPushButton | QCheckBox) and _shown(button) and not _button_fits(
                button):
            clipped.append(f"button {button.text()!r} in {button.width()} px")
    for table in root.findChildren(QTableWidget):
        if _shown(table):
            clipped += [f"table {table.objectName()!r}: {c}" for c in _table_clips(table)]
    return clipped
