"""The after-session screen: summary and events, the report, the patient's progress.

The summary is the one the runner stored (duration, strides, cadence, ROM, RMS error and peak
torque per joint, faults); the events are the session's stored events (safety events and the
console's commands with the operator). *Export report* writes the session report
(:func:`rehabbot.assessment.report.session_report`, HTML or PDF by the suffix) and shows the HTML
here; *Progress* shows the patient's progress report across sessions
(:func:`rehabbot.assessment.report.progress_report`). Both files go to ``reports/`` beside the
store, readable by their owner only, each recorded in the audit log with the operator.
Keyboard: **Alt+E** export, **Alt+W** progress, **Alt+N**
new session.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from rehabbot.assessment.alarm_text import plain_event
from rehabbot.assessment.report import (
    display_date,
    progress_report,
    session_report,
    stored_events,
)
from rehabbot.assessment.summary import summary_rows
from rehabbot.errors import RehabbotError
from rehabbot.gui.labels import bold_label
from rehabbot.storage.store import SessionStore

#: Smallest text size (pt) the report pane shrinks a report to, to fit its width.
MIN_REPORT_POINTS = 6.5


def event_row(t_s: float, kind: str, joint: str, detail: str) -> tuple[str, str, str]:
    """A stored event as the events table shows it: time, plain title, what happened.

    >>> event_row(16.489, "fault:position_limit", "hip_flexion_r",
    ...           '{"value": -0.5206, "limit": -0.52, "category": 0, "priority": "high"}')[:2]
    ('16.489 s', "Right hip beyond the robot's limit")
    >>> event_row(3.0, "console:estop", "", '{"operator": "T. Tester", "accepted": true}')[2]
    'operator T. Tester, accepted'
    """
    values = json.loads(detail) if detail else {}
    plain = plain_event(kind, joint or None, values if isinstance(values, dict) else {})
    what = plain.line
    if not what and isinstance(values, dict) and kind not in ("loop_started", "phase_started"):
        what = ", ".join(
            k.replace("_", " ") if v is True else f"{k.replace('_', ' ')} {v}"
            for k, v in values.items() if v not in (None, "", False))
    return f"{t_s:.3f} s", plain.title, what


class AfterScreen(QWidget):
    """The end of a session.

    Args:
        store_path: the session store.
        operator: the name the audit log records with each report.

    Signals:
        new_session: the operator wants to set up another session.
    """

    new_session = Signal()

    def __init__(self, store_path: Path, operator: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store_path = store_path
        self.operator = operator
        self.session_id: int | None = None
        self.patient_code: str | None = None
        self.report_path: Path | None = None
        self.title = bold_label("", 14)
        self.title.setWordWrap(True)
        self.summary = _wrapping_table(["", "value"])
        self.events = _wrapping_table(["time", "event", "what happened"])
        self.report = QTextBrowser()
        self.report.setObjectName("report")
        self.report.hide()  # until a report is shown: no blank pane
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.export_button = QPushButton("&Export report")
        self.export_button.clicked.connect(self.export_report)
        self.progress_button = QPushButton("Progress vie&w")
        self.progress_button.clicked.connect(self.show_progress)
        self.new_button = QPushButton("&New session")
        self.new_button.clicked.connect(self.new_session.emit)
        buttons = QHBoxLayout()
        for button in (self.export_button, self.progress_button, self.new_button):
            buttons.addWidget(button)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.summary)
        left.addWidget(self.events)
        self.body = body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(left)
        body.addWidget(self.report)
        body.setStretchFactor(0, 1)
        body.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(body, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    @property
    def reports_dir(self) -> Path:
        """Where reports are written: ``reports/`` beside the store (created owner-only)."""
        folder = self.store_path.parent / "reports"
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder

    def show_session(self, session_id: int) -> None:
        """Show a finished session's summary and events."""
        self.session_id = session_id
        self.report.clear()
        self.report.hide()
        self.message.clear()
        with SessionStore.open(self.store_path) as store:
            info = store.get_session(session_id)
            summary = store.session_summary(session_id)
        self.patient_code = info.patient_code
        self.title.setText(f"Session {info.id} · {info.protocol_name} · patient "
                           f"{info.patient_code} · {info.status} · "
                           f"{display_date(info.started_at)}")
        rows = summary_rows(summary) if summary is not None and summary.ran else [
            ("error", "no summary" if summary is None else str(summary.error))]
        _fill(self.summary, rows)
        _fill(self.events, [event_row(*e) for e in stored_events(self.store_path, session_id)])

    def export_report(self) -> Path | None:
        """Write the session report (HTML) and show it; return its path."""
        if self.session_id is None:
            return None
        out = self.reports_dir / f"session_{self.session_id}.html"
        try:
            self.report_path = session_report(self.store_path, self.session_id, out,
                                              operator=self.operator)
        except RehabbotError as exc:
            self.message.setText(f"⚠ {exc}")
            return None
        self._show_html(self.report_path)
        self.message.setText(f"report written to {self.report_path}")
        return self.report_path

    def show_progress(self) -> Path | None:
        """Write the patient's progress report (HTML) and show it; return its path."""
        if self.patient_code is None:
            return None
        out = self.reports_dir / f"progress_{self.patient_code}.html"
        try:
            path = progress_report(self.store_path, self.patient_code, out,
                                   operator=self.operator)
        except RehabbotError as exc:
            self.message.setText(f"⚠ {exc}")
            return None
        self._show_html(path)
        self.message.setText(f"progress report written to {path}")
        return path

    def _show_html(self, path: Path) -> None:
        """Show a written HTML report in the pane, fitted to the pane's width: figures scaled to
        it, the text made smaller (down to :data:`MIN_REPORT_POINTS`) until the widest table
        fits."""
        self.report.show()
        self.body.setSizes([1, 2])  # the report gets two thirds of the width
        QApplication.processEvents()  # lay out the shown pane before measuring it
        bar = self.report.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        width = self.report.viewport().width() - bar - 8  # room for the vertical scroll bar
        text = path.read_text(encoding="utf-8").replace("<img ", f'<img width="{width - 80}" ')
        document = self.report.document()
        font = self.report.font()
        points = font.pointSizeF()
        while True:
            font.setPointSizeF(points)
            document.setDefaultFont(font)
            self.report.setHtml(text)
            document.setTextWidth(width)
            if document.idealWidth() <= width or points <= MIN_REPORT_POINTS:
                break
            points -= 0.5


def _wrapping_table(headers: list[str]) -> QTableWidget:
    """A read-only table whose last column takes the free width and whose cells wrap."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setWordWrap(True)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    for column in range(len(headers) - 1):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


def _fill(table: QTableWidget, rows: Sequence[tuple[str, ...]]) -> None:
    """Put ``rows`` into ``table`` (each cell's full text also in its tooltip)."""
    table.setRowCount(len(rows))
    for row, cells in enumerate(rows):
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(row, column, item)
