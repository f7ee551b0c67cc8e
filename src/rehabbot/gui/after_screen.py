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
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from rehabbot.assessment.report import progress_report, session_report, stored_events
from rehabbot.errors import RehabbotError
from rehabbot.gui.labels import bold_label
from rehabbot.storage.store import SessionStore


def summary_rows(summary: dict[str, object]) -> list[tuple[str, str]]:
    """What the summary table shows: label and value with its unit.

    >>> summary_rows({"duration_s": 12.0, "strides_right": 8, "strides_left": 8,
    ...               "cadence_steps_per_min": 90.04, "joints": [], "faults": []})[:3]
    [('duration', '12.0 s'), ('strides (right / left)', '8 / 8'), ('cadence', '90.0 steps/min')]
    """
    def number(key: str, unit: str, digits: int = 1) -> str:
        value = summary.get(key)
        return f"{value:.{digits}f} {unit}" if isinstance(value, int | float) else "n/a"

    rows = [("duration", number("duration_s", "s")),
            ("strides (right / left)",
             f"{summary.get('strides_right', 'n/a')} / {summary.get('strides_left', 'n/a')}"),
            ("cadence", number("cadence_steps_per_min", "steps/min"))]
    for joint in summary.get("joints") or []:  # type: ignore[attr-defined]
        rows.append((str(joint["name"]),
                     f"ROM {joint['rom_deg']:.1f} deg · RMS error {joint['rms_error_deg']:.2f} "
                     f"deg · peak torque {joint['peak_torque_nm']:.1f} N·m"))
    faults = summary.get("faults") or []
    rows.append(("faults", "; ".join(map(str, faults)) if faults else "none"))  # type: ignore[call-overload]
    return rows


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
        self.summary = QTableWidget(0, 2)
        self.summary.setHorizontalHeaderLabels(["", "value"])
        self.summary.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.events = QTableWidget(0, 3)
        self.events.setHorizontalHeaderLabels(["t (s)", "event", "detail"])
        self.events.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.report = QTextBrowser()
        self.report.setObjectName("report")
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
        left = QVBoxLayout()
        left.addWidget(self.summary, 1)
        left.addWidget(self.events, 1)
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addWidget(self.report, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(body, 1)
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
        self.message.clear()
        with SessionStore.open(self.store_path) as store:
            info = store.get_session(session_id)
            summary = store.session_summary(session_id) or {}
        self.patient_code = info.patient_code
        self.title.setText(f"Session {info.id} · {info.protocol_name} · patient "
                           f"{info.patient_code} · {info.status}")
        rows = summary_rows(summary) if "duration_s" in summary else [
            ("error", str(summary.get("error", "no summary")))]
        self.summary.setRowCount(len(rows))
        for row, (label, value) in enumerate(rows):
            self.summary.setItem(row, 0, QTableWidgetItem(label))
            self.summary.setItem(row, 1, QTableWidgetItem(value))
        events = stored_events(self.store_path, session_id)
        self.events.setRowCount(len(events))
        for row, (t_s, kind, joint, detail) in enumerate(events):
            for column, text in enumerate((f"{t_s:.3f}", f"{kind} {joint}".strip(),
                                           _detail(detail))):
                self.events.setItem(row, column, QTableWidgetItem(text))
        self.summary.resizeColumnsToContents()

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
        self.report.setHtml(self.report_path.read_text(encoding="utf-8"))
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
        self.report.setHtml(path.read_text(encoding="utf-8"))
        self.message.setText(f"progress report written to {path}")
        return path


def _detail(text: str | None) -> str:
    if not text:
        return ""
    values = json.loads(text)
    return ", ".join(f"{k}={v}" for k, v in values.items() if v not in (None, ""))
