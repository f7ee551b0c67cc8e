"""The live-session screen: live view, parameter controls, pause / resume / stop, a status line.

During a robot assessment battery a line above the live view shows what the patient is asked to
do (:meth:`LiveScreen.show_instruction`, "Patient: Relax", "Patient: Push your right thigh
forward as hard as you can"), the same words the patient display shows the patient.

The buttons only say what the operator wants (signals); the main window sends the commands to
the session and records them. Keyboard: **F6** pause or resume, **F8** stop, **F7** held: the
hold-to-run recovery after a stop, **Ctrl+L** the large-value display; the parameter boxes
have Alt mnemonics (Alt+G guidance, ...).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rehabbot.gui.controls import ParamControls
from rehabbot.gui.labels import bold_label
from rehabbot.gui.live_view import LiveView
from rehabbot.session.session_messages import PatientInstruction


class LiveScreen(QWidget):
    """What the therapist sees while a session runs.

    Args:
        joint_names: the robot's joints, in ring column order.
        period_s: the control period (s).

    Signals:
        pause_toggled: pause (or resume, when paused) was asked for.
        stop_requested: stop was asked for.
        recover_held(bool): the hold-to-run recovery is held (True) or let go (False).
        large_toggled(bool): the large-value display was switched.
    """

    pause_toggled = Signal()
    recover_held = Signal(bool)
    stop_requested = Signal()
    large_toggled = Signal(bool)

    def __init__(self, joint_names: tuple[str, ...], period_s: float,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = LiveView(joint_names, period_s)
        self.controls = ParamControls()
        self.title = bold_label("", 14)
        self.pause_button = QPushButton("&Pause (F6)")
        self.pause_button.clicked.connect(self.pause_toggled.emit)
        self.stop_button = QPushButton("&Stop session (F8)")
        self.stop_button.clicked.connect(self.stop_requested.emit)
        self.recover_button = QPushButton("Hold to recover (hold F7)")
        self.recover_button.setObjectName("recover")
        self.recover_button.setToolTip(
            "After a stop: while held, the robot brings joints that drifted beyond their range "
            "back inside, slowly and gently; then reset (F3). Letting go stops it at once.")
        self.recover_button.pressed.connect(lambda: self.recover_held.emit(True))
        self.recover_button.released.connect(lambda: self.recover_held.emit(False))
        self.large_button = QPushButton("&Large display (Ctrl+L)")
        self.large_button.setCheckable(True)
        self.large_button.toggled.connect(self._large)
        self.state = bold_label("", 12)
        self.state.setObjectName("sessionState")
        self.state.setWordWrap(True)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.instruction = bold_label("", 14)
        self.instruction.setObjectName("patientInstruction")
        self.instruction.setWordWrap(True)
        self.instruction.setStyleSheet(
            "QLabel { background: #0d47a1; color: white; padding: 4px; }")
        self.instruction.hide()  # only while an assessment asks something
        side = QVBoxLayout()
        side.addWidget(self.state)
        side.addWidget(self.controls)
        side.addWidget(self.pause_button)
        side.addWidget(self.stop_button)
        side.addWidget(self.recover_button)
        side.addWidget(self.large_button)
        side.addWidget(self.status)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.view, 1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.instruction)
        layout.addLayout(body, 1)
        self.setTabOrder(self.pause_button, self.stop_button)
        self.setTabOrder(self.stop_button, self.large_button)

    def show_state(self, text: str) -> None:
        """Show the session's state (running, paused, torque off), highlighted unless running."""
        self.state.setText(text)
        self.state.setStyleSheet("" if text.startswith("running") else
                                 "QLabel { background: #ffd000; color: black; padding: 3px; }")

    def show_instruction(self, instruction: PatientInstruction) -> None:
        """Show what the patient is asked to do (with the assessment's name), or nothing when
        the text is empty (no assessment runs)."""
        where = f" ({instruction.assessment})" if instruction.assessment else ""
        self.instruction.setText(f"Patient{where}: {instruction.text}" if instruction.text
                                 else "")
        self.instruction.setVisible(bool(instruction.text))

    def set_paused(self, paused: bool) -> None:
        """Show the pause button as resume while paused."""
        self.pause_button.setText("Res&ume (F6)" if paused else "&Pause (F6)")

    def _large(self, on: bool) -> None:
        self.view.set_large(on)
        self.large_toggled.emit(on)
