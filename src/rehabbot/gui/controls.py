"""The therapist's live controls: one spin box per adjustable parameter, within its bounds.

The parameters are the running controller's (guidance, cadence, hip and knee range of motion,
tunnel width, treadmill speed and body-weight support:
:class:`~rehabbot.session.session_messages.ParamInfo`), with the bounds the protocol's
current phase allows (the session's phased controller publishes them; they change with the
phase). A value typed in is sent when editing finishes (Enter or leaving the box); the session
checks it again before the loop sees it and the reply says whether it took effect. A value
outside the bounds is refused in the box itself (:class:`~rehabbot.gui.bounded.BoundedSpinBox`):
nothing is sent and the line under the boxes names the value and the allowed range.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from rehabbot.gui.bounded import BoundedSpinBox
from rehabbot.session.session_messages import ParamInfo

#: Labels (with the Alt mnemonic) of the parameters the console knows by name.
LABELS = {
    "guidance_pct": "&Guidance",
    "cadence_steps_per_min": "Ca&dence (speed)",
    "hip_rom_pct": "&Hip ROM",
    "knee_rom_pct": "&Knee ROM",
    "tunnel_width_rad": "&Tunnel width",
    "max_guidance_pct": "&Max guidance",
    "min_guidance_pct": "M&in guidance",
    "treadmill_speed_kmh": "Treadmill sp&eed",
    "body_weight_support_pct": "&Body-weight support",
}


class ParamControls(QGroupBox):
    """Spin boxes for the live parameters.

    Signals:
        changed(str, float): the operator set parameter ``name`` to ``value``.
    """

    changed = Signal(str, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Parameters", parent)
        layout = QVBoxLayout(self)
        self.form = QFormLayout()
        layout.addLayout(self.form)
        self.message = QLabel("")
        self.message.setObjectName("paramMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("QLabel { color: #b00000; font-weight: bold; }")
        layout.addWidget(self.message)
        self.boxes: dict[str, BoundedSpinBox] = {}
        self._sent: dict[str, float] = {}

    def set_params(self, params: Mapping[str, ParamInfo]) -> None:
        """Show the parameters: a box per parameter, its range the current phase's bounds (a
        parameter whose bounds are one value is fixed: read-only). Boxes are rebuilt when the
        parameters differ from those shown."""
        if set(params) != set(self.boxes):
            while self.form.rowCount():
                self.form.removeRow(0)
            self.boxes.clear()
            for name in params:
                box = BoundedSpinBox(LABELS.get(name, name).replace("&", ""))
                box.setObjectName(f"param_{name}")
                box.editingFinished.connect(lambda n=name: self._edited(n))
                box.refused.connect(lambda text: self.message.setText(f"⚠ {text}: not applied"))
                label = QLabel(LABELS.get(name, name))
                label.setBuddy(box)
                self.form.addRow(label, box)
                self.boxes[name] = box
        for name, info in params.items():
            box = self.boxes[name]
            box.blockSignals(True)
            box.setDecimals(3 if info.high - info.low < 5 else 1)
            box.setRange(info.low, info.high)
            box.setSingleStep(max((info.high - info.low) / 20, 0.001))
            box.setSuffix(f" {info.unit}")
            box.setValue(info.value)
            box.blockSignals(False)
            box.setReadOnly(info.low == info.high)
            box.setToolTip(f"{info.description} [{info.low:g}, {info.high:g}] {info.unit}")
            self._sent[name] = info.value

    def _edited(self, name: str) -> None:
        box = self.boxes[name]
        value = box.value()
        if box.isReadOnly() or value == self._sent[name]:
            return
        self._sent[name] = value
        self.message.clear()
        self.changed.emit(name, value)
