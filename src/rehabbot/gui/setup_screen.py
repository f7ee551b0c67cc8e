"""The session-setup screen: choose a protocol, preview it, check the fitting, start.

The protocol list holds the bundled protocols (and a file chosen with *Open protocol file*),
the standard protocol (:data:`~rehabbot.protocols.schema.DEFAULT_PROTOCOL`) chosen at first. The
preview shows the protocol's phases as a table, its live bounds and its settings, each value with
its unit. The fitting check (:func:`~rehabbot.gui.fitting_check.fitting_problems`) compares the
protocol's range of motion with the patient's fitting and the robot's limits; a session cannot
start while it finds a problem. Keyboard: **Alt+P** protocol, **Alt+D** duration, **F5** start.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from rehabbot.configfile import bundled_file
from rehabbot.errors import RehabbotError
from rehabbot.gui.fitting_check import fitting_problems
from rehabbot.hal.config import RobotConfig
from rehabbot.protocols.schema import DEFAULT_PROTOCOL, Protocol, load_protocol
from rehabbot.sim.patient_profiles import PROFILES
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore


def bundled_protocols() -> list[str]:
    """Names of the bundled protocols.

    >>> "standard_gait" in bundled_protocols()
    True
    """
    return sorted(p.stem for p in bundled_file("protocols", "x").parent.glob("*.toml"))


#: Field-name endings and the unit they mean, longest first.
UNITS = (("_steps_per_min", "steps/min"), ("_nms_per_rad", "N·m·s/rad"),
         ("_nm_per_rad", "N·m/rad"), ("_kmh", "km/h"), ("_pct", "%"), ("_deg", "deg"),
         ("_rad", "rad"), ("_s", "s"))
#: Columns of the phases table: field, heading.
PHASE_COLUMNS = (("name", "phase"), ("kind", "kind"), ("duration_s", "duration (s)"),
                 ("steps", "steps"), ("controller", "controller"),
                 ("cadence_steps_per_min", "cadence (steps/min)"),
                 ("treadmill_speed_kmh", "treadmill (km/h)"),
                 ("body_weight_support_pct", "body-weight support (%)"),
                 ("guidance_pct", "guidance (%)"), ("range_of_motion_deg", "range of motion (deg)"),
                 ("assessment", "assessment"))


def field_label(name: str) -> str:
    """A field's name as a label with its unit.

    >>> field_label("treadmill_speed_kmh"), field_label("guidance_pct"), field_label("controller")
    ('treadmill speed (km/h)', 'guidance (%)', 'controller')
    """
    for ending, unit in UNITS:
        if name.endswith(ending):
            return f"{name.removesuffix(ending).replace('_', ' ')} ({unit})"
    return name.replace("_", " ")


def _value(value: Any) -> str:
    """A field's value as text: ranges as ``low to high``, joints by name, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')} {_value(v)}" for k, v in value.items()
                         if v is not None and v != {} and v != [])
    if isinstance(value, list | tuple):
        if len(value) == 2 and all(isinstance(v, int | float) for v in value):
            return f"{_value(value[0])} to {_value(value[1])}"
        return ", ".join(_value(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    head = "".join(f"<th align='left'>{e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table border='1' cellspacing='0' cellpadding='3'><tr>{head}</tr>{body}</table>"


def preview_html(protocol: Protocol) -> str:
    """The protocol as the therapist checks it: its description, the phases as a table, the
    settings of the whole session and the live bounds, every value with its unit."""
    e = html.escape
    data = protocol.model_dump()
    phases = data.pop("phases", None) or []
    adjustable = data.pop("adjustable", None) or {}
    for key in ("name", "title", "description"):
        data.pop(key, None)
    parts = [f"<h3>{e(protocol.title)}</h3>", f"<p>{e(protocol.description or '')}</p>"]
    if phases:
        columns = [(k, h) for k, h in PHASE_COLUMNS if any(p.get(k) not in (None, {}, [])
                                                          for p in phases)]
        parts.append("<h4>Phases, in order</h4>")
        parts.append(_table(["#", *(h for _, h in columns)],
                            [[str(i + 1), *(_value(p.get(k)) for k, _ in columns)]
                             for i, p in enumerate(phases)]))
    if adjustable:
        parts.append("<h4>Live bounds (what the therapist may set during the session)</h4>")
        parts.append(_table(["parameter", "from", "to"],
                            [[field_label(k), _value(v[0]), _value(v[1])]
                             for k, v in adjustable.items()]))
    parts.append("<h4>Settings</h4>")
    settings = [[field_label(k), _value(v)] for k, v in data.items()]
    parts.append(_table(["setting", "value"], [row for row in settings if row[1]]))
    return "".join(parts)


class SetupScreen(QWidget):
    """Choosing what the session runs.

    Args:
        store_path: the session store (for the patient's fitting).
        robot: the robot the session runs on.

    Signals:
        start_requested(str, object, object, str): patient code, protocol, duration (s; None:
            the protocol's phases as planned), simulated patient profile.
    """

    start_requested = Signal(str, object, object, str)

    def __init__(self, store_path: Path, robot: RobotConfig,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store_path = store_path
        self.robot = robot
        self.patient_code: str | None = None
        self.protocol: Protocol | None = None
        self.patient_label = QLabel("no patient chosen")
        self.protocols = QComboBox()
        self.protocols.addItems(bundled_protocols())
        self.protocols.setCurrentText(DEFAULT_PROTOCOL)  # the standard one, not the first
        self.protocols.currentTextChanged.connect(self._choose)
        self.open_button = QPushButton("Open protocol &file…")
        self.open_button.clicked.connect(self._open_file)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(0.0, 7200.0)
        self.duration.setSuffix(" s")
        self.duration.setSpecialValueText("the protocol's phases, as planned")
        self.duration.setToolTip("0: every phase as planned; a duration: the training phase "
                                 "alone, this long (a quick session)")
        self.profile = QComboBox()
        self.profile.addItems(sorted(PROFILES))
        self.profile.setCurrentText("healthy")
        self.preview = QTextBrowser()
        self.check = QLabel("")
        self.check.setWordWrap(True)
        self.check.setObjectName("fittingCheck")
        self.start_button = QPushButton("&Start session (F5)")
        self.start_button.clicked.connect(self.start)
        form = QFormLayout()
        form.addRow("Patient", self.patient_label)
        for text, widget in (("&Protocol", self.protocols), ("&Duration", self.duration),
                             ("Simulated patient (&model)", self.profile)):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        form.addRow(self.open_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.preview, 1)
        layout.addWidget(self.check)
        layout.addWidget(self.start_button)
        self._choose(self.protocols.currentText())

    def set_patient(self, code: str) -> None:
        """The patient the session is for."""
        self.patient_code = code
        self.patient_label.setText(code)
        self._check()

    def _open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Protocol file", "", "TOML (*.toml)")
        if path:
            self.protocols.addItem(path)
            self.protocols.setCurrentText(path)

    def _choose(self, name: str) -> None:
        try:
            self.protocol = load_protocol(name)
        except RehabbotError as exc:
            self.protocol = None
            self.preview.setPlainText(str(exc))
        else:
            self.duration.setValue(0.0)  # as planned
            self.preview.setHtml(preview_html(self.protocol))
        self._check()

    def problems(self) -> list[str]:
        """What keeps the session from starting (empty: it may start)."""
        if self.patient_code is None:
            return ["choose a patient on the patients screen (Ctrl+1)"]
        if self.protocol is None:
            return ["choose a valid protocol"]
        code, protocol = self.patient_code, self.protocol
        try:
            with SessionStore.open(self.store_path) as store:
                fitting = PatientRecords(store).fitting(code)
        except RehabbotError as exc:
            return [str(exc)]
        return fitting_problems(protocol, fitting, self.robot)

    def _check(self) -> None:
        problems = self.problems()
        self.check.setText("Fitting check: OK, the protocol fits the patient and the robot"
                           if not problems else "⚠ " + "\n⚠ ".join(problems))
        self.start_button.setEnabled(not problems)

    def start(self) -> None:
        """Start the session if the checks pass."""
        self._check()
        if self.start_button.isEnabled() and self.patient_code and self.protocol:
            duration = self.duration.value() or None
            self.start_requested.emit(self.patient_code, self.protocol, duration,
                                      self.profile.currentText())
