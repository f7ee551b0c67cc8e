"""The patients screen: list and search, create and edit a profile, fitting, consent, outcomes.

Everything goes through :class:`~rehabbot.storage.records.PatientRecords`, so every change is
validated there (one clear message on a bad value, shown under the form) and lands in the audit
log with the operator's name. Keyboard: **Ctrl+F** search, **Ctrl+N** new patient, **Ctrl+S**
save, **Enter** in the list or **Alt+U** use the patient for a session, **Alt+O** add an outcome;
every field has an Alt mnemonic or is reached with Tab.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rehabbot.body.range_of_motion import RangeOfMotion
from rehabbot.errors import RehabbotError
from rehabbot.gui.bounded import BoundedSpinBox
from rehabbot.storage.record_models import OUTCOME_TESTS, FittingParameters, PatientProfile
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore

#: Joint kinds whose range of motion the fitting form asks for.
FITTING_JOINTS = ("hip", "knee")


#: How the console shows dates (ISO 8601, as the store and the reports write them).
DATE_FORMAT = "yyyy-MM-dd"


def _spin(name: str, low: float, high: float, value: float, suffix: str,
          decimals: int = 2) -> BoundedSpinBox:
    box = BoundedSpinBox(name)
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setValue(value)
    box.setSuffix(suffix)
    return box


def _py_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class PatientsScreen(QWidget):
    """Patients of the store.

    Args:
        store_path: the session store file.
        operator: the name recorded with every change.

    Signals:
        chosen(str): the patient with this code is to be trained.
    """

    chosen = Signal(str)

    def __init__(self, store_path: Path, operator: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store_path = store_path
        self.operator = operator
        self.search = QLineEdit()
        self.search.setPlaceholderText("search code or name (Ctrl+F)")
        self.search.textChanged.connect(self.refresh)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["code", "name", "height (m)", "mass (kg)"])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()  # every column in view: the name takes the rest
        for column in range(4):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.activated.connect(lambda _index: self.use())
        # profile
        self.code = QLineEdit()
        self.name = QLineEdit()
        self.height_box = _spin("Height", 0.5, 2.5, 1.75, " m")
        self.mass_box = _spin("Mass", 10.0, 300.0, 75.0, " kg", 1)
        self.side_box = QComboBox()
        self.side_box.addItems(["", "left", "right", "both", "none"])
        self.diagnosis = QLineEdit()
        profile = QGroupBox("Profile")
        form = QFormLayout(profile)
        for label, widget in (("&Code", self.code), ("Displa&y name", self.name),
                              ("Heigh&t", self.height_box), ("&Mass", self.mass_box),
                              ("Affected si&de", self.side_box), ("D&iagnosis", self.diagnosis)):
            form.addRow(self._label(label, widget), widget)
        # fitting
        self.thigh = _spin("Thigh length", 0.25, 0.60, 0.42, " m")
        self.shank = _spin("Shank length", 0.25, 0.55, 0.40, " m")
        self.thigh_cuff = _spin("Thigh cuff", 0.01, 0.59, 0.20, " m")
        self.shank_cuff = _spin("Shank cuff", 0.01, 0.54, 0.20, " m")
        self.rom: dict[str, tuple[QDoubleSpinBox, QDoubleSpinBox]] = {
            "hip": (_spin("Hip ROM min", -40, 140, -25, "°", 0),
                    _spin("Hip ROM max", -40, 140, 50, "°", 0)),
            "knee": (_spin("Knee ROM min", -10, 140, 0, "°", 0),
                     _spin("Knee ROM max", -10, 140, 75, "°", 0)),
        }
        fitting = QGroupBox("Fitting")
        fform = QFormLayout(fitting)
        fform.addRow("Thigh length", self.thigh)
        fform.addRow("Shank length", self.shank)
        fform.addRow("Thigh cuff below hip", self.thigh_cuff)
        fform.addRow("Shank cuff below knee", self.shank_cuff)
        for kind, (low, high) in self.rom.items():
            row = QHBoxLayout()
            row.addWidget(low)
            row.addWidget(high)
            fform.addRow(f"{kind} ROM (min, max)", row)
        # consent and outcomes
        self.consent = QCheckBox("Research consent (&Q)")
        self.consent_date = QDateEdit(QDate.currentDate())
        self.consent_date.setCalendarPopup(True)
        self.consent_date.setDisplayFormat(DATE_FORMAT)
        self.outcome_test = QComboBox()
        for key, test in OUTCOME_TESTS.items():
            self.outcome_test.addItem(f"{test.title} ({test.unit})", key)
        self.outcome_value = QLineEdit()
        self.outcome_value.setPlaceholderText("value")
        self.outcome_date = QDateEdit(QDate.currentDate())
        self.outcome_date.setDisplayFormat(DATE_FORMAT)
        self.add_outcome_button = QPushButton("Add &outcome")
        self.add_outcome_button.clicked.connect(self.add_outcome)
        self.outcomes = QTableWidget(0, 3)
        self.outcomes.setHorizontalHeaderLabels(["date", "test", "value"])
        self.outcomes.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        records = QGroupBox("Consent and outcomes")
        rform = QFormLayout(records)
        rform.addRow(self.consent, self.consent_date)
        rform.addRow("Outcome test", self.outcome_test)
        rform.addRow(self.outcome_value, self.outcome_date)
        rform.addRow(self.add_outcome_button)
        rform.addRow(self.outcomes)
        # actions
        self.new_button = QPushButton("&New patient (Ctrl+N)")
        self.new_button.clicked.connect(self.new)
        self.save_button = QPushButton("Sa&ve (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        self.use_button = QPushButton("&Use for a session")
        self.use_button.clicked.connect(self.use)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setObjectName("patientMessage")
        left = QVBoxLayout()
        left.addWidget(self.search)
        left.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.save_button, self.use_button):
            buttons.addWidget(button)
        middle = QVBoxLayout()  # three columns: the whole screen fits 1366x768
        middle.addWidget(profile)
        middle.addWidget(fitting)
        middle.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(records, 1)
        right.addLayout(buttons)
        right.addWidget(self.message)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 2)
        layout.addLayout(middle, 2)
        layout.addLayout(right, 3)
        for keys, slot in (("Ctrl+F", self.search.setFocus), ("Ctrl+N", self.new),
                           ("Ctrl+S", self.save)):
            QShortcut(QKeySequence(keys), self).activated.connect(slot)
        for box in self.findChildren(BoundedSpinBox):
            box.refused.connect(lambda text: self.message.setText(f"⚠ {text}: not changed"))
        self.editing: str | None = None
        self.refresh()

    @staticmethod
    def _label(text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        return label

    def _records(self, work: Callable[[PatientRecords], Any]) -> Any:
        """Run ``work`` on the records; a rehabbot error becomes the screen's message."""
        try:
            with SessionStore.open(self.store_path) as store:
                return work(PatientRecords(store))
        except RehabbotError as exc:
            self.message.setText(f"⚠ {exc}")
            return None

    def refresh(self) -> None:
        """Reload the list, filtered by the search text."""
        needle = self.search.text().strip().lower()
        patients = self._records(lambda r: r.list_patients()) or []
        shown = [p.profile for p in patients
                 if needle in p.code.lower() or needle in (p.profile.display_name or "").lower()]
        self.table.setRowCount(len(shown))
        for row, profile in enumerate(shown):
            cells = (profile.code, profile.display_name or "",
                     "" if profile.height_m is None else f"{profile.height_m:.2f}",
                     "" if profile.mass_kg is None else f"{profile.mass_kg:.1f}")
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))

    def selected_code(self) -> str | None:
        """The code of the selected patient."""
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return None if item is None else item.text()

    def select(self, code: str) -> None:
        """Select the patient ``code`` in the list (clears the search if needed)."""
        for attempt in range(2):
            for row in range(self.table.rowCount()):
                item = self.table.item(row, 0)
                if item is not None and item.text() == code:
                    self.table.selectRow(row)
                    return
            if attempt == 0:
                self.search.clear()

    def new(self) -> None:
        """Empty the form for a new patient."""
        self.editing = None
        self.table.clearSelection()
        self.code.setReadOnly(False)
        for line in (self.code, self.name, self.diagnosis, self.outcome_value):
            line.clear()
        self.side_box.setCurrentIndex(0)
        self.consent.setChecked(False)
        self.outcomes.setRowCount(0)
        self.message.setText("New patient: fill in the profile and fitting, then save.")
        self.code.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _selected(self) -> None:
        code = self.selected_code()
        if code is None:
            return
        self.editing = code

        def load(records: PatientRecords) -> None:
            profile = records.get(code).profile
            self.code.setText(profile.code)
            self.code.setReadOnly(True)  # a code never changes
            self.name.setText(profile.display_name or "")
            self.height_box.setValue(profile.height_m or 1.75)
            self.mass_box.setValue(profile.mass_kg or 75.0)
            self.side_box.setCurrentText(profile.affected_side or "")
            self.diagnosis.setText(profile.diagnosis or "")
            fitting = records.fitting(code)
            if fitting is not None:
                self.thigh.setValue(fitting.thigh_length_m)
                self.shank.setValue(fitting.shank_length_m)
                self.thigh_cuff.setValue(fitting.thigh_cuff_m)
                self.shank_cuff.setValue(fitting.shank_cuff_m)
                for kind, (low, high) in self.rom.items():
                    rom = fitting.rom_deg.get(kind)  # type: ignore[call-overload]
                    if rom is not None:
                        low.setValue(rom.min_deg)
                        high.setValue(rom.max_deg)
            consent = records.consent(code)
            self.consent.setChecked(consent is not None and consent.research_use)
            entries = records.outcomes(code)
            self.outcomes.setRowCount(len(entries))
            for row, entry in enumerate(entries):
                for column, text in enumerate((entry.measured_on.isoformat(), entry.test,
                                               f"{entry.value} {entry.unit}")):
                    self.outcomes.setItem(row, column, QTableWidgetItem(text))
            self.message.setText(f"{code} loaded")

        self._records(load)

    def _profile_values(self) -> dict[str, Any]:
        return {
            "display_name": self.name.text().strip() or None,
            "height_m": self.height_box.value(),
            "mass_kg": self.mass_box.value(),
            "affected_side": self.side_box.currentText() or None,
            "diagnosis": self.diagnosis.text().strip() or None,
        }

    def _fitting(self) -> FittingParameters:
        return FittingParameters(
            thigh_length_m=self.thigh.value(), shank_length_m=self.shank.value(),
            thigh_cuff_m=self.thigh_cuff.value(), shank_cuff_m=self.shank_cuff.value(),
            rom_deg={kind: RangeOfMotion(min_deg=low.value(), max_deg=high.value())
                     for kind, (low, high) in self.rom.items()},
        )

    def save(self) -> None:
        """Create the patient, or save the edited profile; then the fitting and consent."""
        code = self.code.text().strip()
        operator = self.operator

        def store(records: PatientRecords) -> str:
            if self.editing is None:
                records.add_patient(PatientProfile.model_validate(
                    {"code": code, **self._profile_values()}), operator=operator)
            else:
                records.update_profile(code, self._profile_values(), operator=operator)
            records.set_fitting(code, self._fitting(), operator=operator)
            consent = records.consent(code)
            wanted = self.consent.isChecked()
            if consent is None or consent.research_use != wanted:
                records.set_consent(code, wanted, _py_date(self.consent_date.date()),
                                    operator=operator)
            return code

        try:
            saved = self._records(store)
        except ValueError as exc:  # pydantic's, from the form's own values
            self.message.setText(f"⚠ {exc}")
            return
        if saved is not None:
            self.editing = saved
            self.refresh()
            self.select(saved)
            self.message.setText(f"{saved} saved")

    def add_outcome(self) -> None:
        """Add the outcome entered below the consent to the selected patient."""
        code = self.editing
        if code is None:
            self.message.setText("⚠ choose or save a patient first")
            return
        test = str(self.outcome_test.currentData())
        value = self.outcome_value.text()
        measured = _py_date(self.outcome_date.date())
        if self._records(lambda r: r.add_outcome(code, test, value, measured_on=measured,
                                                 operator=self.operator)) is not None:
            self.outcome_value.clear()
            self._selected()

    def use(self) -> None:
        """Train the selected (or just saved) patient."""
        code = self.selected_code() or self.editing
        if code is None:
            self.message.setText("⚠ choose a patient first")
            return
        self.chosen.emit(code)
