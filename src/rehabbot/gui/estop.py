"""The E-STOP panel: a large red button, always visible beside every screen.

Pressing it (a click, or **F1** from anywhere in the console) sends the E-STOP input to the
session at once: a category-0 stop (torque off) on the next tick, latched. Like a mushroom-head
switch it stays pressed until it is deliberately released (the *Release* button, **Shift+F1**);
then the alarm must still be acknowledged and reset. Pressing it when no session runs is kept and
sent when one starts, so a session can never start with E-STOP pressed and unnoticed.

This is the software E-STOP of the console; a real exoskeleton also needs the hardware E-STOP
chain of docs/safety.md.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

#: Released: a round red button in a solid yellow ring. Pressed: square, dark, in a dashed
#: ring, its text saying so: the state is told by shape and text, not by colour alone.
_BUTTON_STYLE = {
    False: ("QPushButton#estop { background: #e00000; color: white; font-size: 26pt; "
            "font-weight: bold; border: 6px solid #ffd000; border-radius: 80px; padding: 12px; }"),
    True: ("QPushButton#estop { background: #4a0000; color: #ffd000; font-size: 22pt; "
           "font-weight: bold; border: 8px dashed #ffd000; border-radius: 0px; padding: 12px; }"),
}
#: Width of the panel (px): the widest of its states fits.
PANEL_WIDTH_PX = 220
#: The state line: text and style.
_STATE = {
    False: ("● released · F1 stops", "QLabel { font-weight: bold; }"),
    True: ("■ PRESSED: motors off\nrelease: Shift+F1",
           "QLabel { background: #ffd000; color: black; font-weight: bold; padding: 4px; }"),
}


class EStopPanel(QWidget):
    """The E-STOP button and its release.

    Signals:
        changed(bool): the E-STOP input changed (True: pressed).
    """

    changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.button = QPushButton("E-STOP\n(F1)")
        self.button.setObjectName("estop")
        self.button.setMinimumSize(180, 180)
        self.button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.button.setAccessibleName("Emergency stop")
        self.button.clicked.connect(self.press)
        self.release_button = QPushButton("Release E-STOP\n(Shift+F1)")
        self.release_button.clicked.connect(self.release)
        self.state = QLabel("released")
        self.state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.addWidget(self.button, 1)
        layout.addWidget(self.state)
        layout.addWidget(self.release_button)
        self.setFixedWidth(PANEL_WIDTH_PX)  # pressing never moves the screens beside it
        self.pressed = False
        self._show()

    def press(self) -> None:
        """Press E-STOP (idempotent)."""
        if not self.pressed:
            self.pressed = True
            self._show()
        self.changed.emit(True)  # sent again on every press: a press is never lost

    def release(self) -> None:
        """Release E-STOP (the faults stay latched until reset)."""
        if self.pressed:
            self.pressed = False
            self._show()
            self.changed.emit(False)

    def _show(self) -> None:
        pressed = self.pressed
        self.button.setText("■ E-STOP\nPRESSED" if pressed else "E-STOP\n(F1)")
        self.button.setStyleSheet(_BUTTON_STYLE[pressed])
        text, style = _STATE[pressed]
        self.state.setText(text)
        self.state.setStyleSheet(style)
        self.release_button.setEnabled(pressed)
