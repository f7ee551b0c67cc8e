"""The therapist's controls of the patient display: mode, target band, game, step goal, monitor.

A change is applied when the operator presses *Apply feedback* (or Enter in a box): the panel
builds a :class:`~rehabbot.assessment.engagement.FeedbackSettings` (which refuses a bad value
with a message shown under the boxes; nothing is sent then) and emits it; the main window sends
it to the session, where it is recorded like a parameter change, and audits it.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rehabbot.assessment.engagement import (
    BAND_LIMIT_NM,
    GAME_PARTS,
    MAX_STEP_GOAL,
    MODES,
    FeedbackSettings,
)
from rehabbot.assessment.gait_analysis import JOINT_KINDS
from rehabbot.errors import ConfigurationError


class FeedbackPanel(QGroupBox):
    """Mode, target band, the game's joints and part, the step goal; the display's monitor.

    Signals:
        changed(object): the operator applied new :class:`FeedbackSettings`.
        open_requested(int): show the patient display full screen on monitor ``index``.
    """

    changed = Signal(object)
    open_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Patient display", parent)
        default = FeedbackSettings()
        self.mode = QComboBox()
        self.mode.setObjectName("feedbackMode")
        self.mode.addItems(list(MODES))
        self.mode.setCurrentText(default.mode)
        self.low = self._band_box("feedbackLow", default.band_low_nm)
        self.high = self._band_box("feedbackHigh", default.band_high_nm)
        self.joints = {kind: QCheckBox(kind) for kind in JOINT_KINDS}
        joints = QHBoxLayout()
        for kind, box in self.joints.items():
            box.setChecked(kind in default.joints)
            joints.addWidget(box)
        self.part = QComboBox()
        self.part.addItems(list(GAME_PARTS))
        self.part.setCurrentText(default.part)
        self.goal = QSpinBox()
        self.goal.setRange(0, MAX_STEP_GOAL)
        self.goal.setSpecialValueText("protocol's target")
        self.apply_button = QPushButton("&Apply feedback")
        self.apply_button.clicked.connect(self.apply)
        self.screen_box = QComboBox()
        for screen in QGuiApplication.screens():
            geometry = screen.geometry()
            self.screen_box.addItem(f"{screen.name()} ({geometry.width()}×{geometry.height()})")
        self.open_button = QPushButton("Sh&ow on monitor")
        self.open_button.clicked.connect(
            lambda: self.open_requested.emit(self.screen_box.currentIndex()))
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("QLabel { color: #b00000; font-weight: bold; }")
        form = QFormLayout()
        form.addRow("Mode", self.mode)
        form.addRow("Band from (N·m)", self.low)
        form.addRow("Band to (N·m)", self.high)
        form.addRow("Game joints", joints)
        form.addRow("Game part", self.part)
        form.addRow("Step goal", self.goal)
        form.addRow("Monitor", self.screen_box)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.apply_button)
        buttons.addWidget(self.open_button)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    def _band_box(self, name: str, value: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setObjectName(name)
        box.setRange(-BAND_LIMIT_NM, BAND_LIMIT_NM)
        box.setDecimals(1)
        box.setSuffix(" N·m")
        box.setValue(value)
        return box

    def settings(self) -> FeedbackSettings:
        """The settings the boxes show.

        Raises:
            ConfigurationError: they are not valid (e.g. the band's edges in the wrong order).
        """
        return FeedbackSettings(
            self.mode.currentText(), self.low.value(), self.high.value(),
            tuple(kind for kind, box in self.joints.items() if box.isChecked()),
            self.part.currentText(), self.goal.value())

    def apply(self) -> None:
        """Emit the settings shown, or say why they cannot be applied."""
        try:
            settings = self.settings()
        except ConfigurationError as exc:
            self.message.setText(f"⚠ {exc}: not applied")
            return
        self.message.clear()
        self.changed.emit(settings)
