"""The therapist's live controls: one spin box per adjustable parameter, within its bounds.

The parameters are the running controller's (guidance, cadence, hip and knee range of motion,
tunnel width, and treadmill speed and body-weight support where the session's controller takes
them: :class:`~rehabbot.console.messages.ParamInfo`). A parameter's bounds are the
controller's own range narrowed by the protocol's ``adjustable`` bounds where the protocol gives
them (a protocol that lists adjustable parameters makes the others read-only). A value typed in
is sent when editing finishes (Enter or leaving the box); the session checks it again before the
loop sees it and the reply says whether it took effect.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QWidget

from rehabbot.console.messages import ParamInfo

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


def bounds_of(name: str, info: ParamInfo,
              adjustable: Mapping[str, tuple[float, float]]) -> tuple[float, float] | None:
    """The range a therapist may set ``name`` to; None: not adjustable while running.

    >>> info = ParamInfo(100.0, "%", 0.0, 100.0, "guidance")
    >>> bounds_of("guidance_pct", info, {})
    (0.0, 100.0)
    >>> bounds_of("guidance_pct", info, {"guidance_pct": (40, 100)})
    (40.0, 100.0)
    >>> bounds_of("guidance_pct", info, {"hip_rom_pct": (80, 100)}) is None
    True
    """
    if not adjustable:
        return info.low, info.high
    if name not in adjustable:
        return None
    low, high = adjustable[name]
    return max(float(low), info.low), min(float(high), info.high)


class ParamControls(QGroupBox):
    """Spin boxes for the live parameters.

    Signals:
        changed(str, float): the operator set parameter ``name`` to ``value``.
    """

    changed = Signal(str, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Parameters", parent)
        self.form = QFormLayout(self)
        self.boxes: dict[str, QDoubleSpinBox] = {}
        self._sent: dict[str, float] = {}

    def set_params(self, params: Mapping[str, ParamInfo],
                   adjustable: Mapping[str, tuple[float, float]]) -> None:
        """Build one box per parameter; boxes of parameters not adjustable are read-only."""
        for name, info in params.items():
            box = QDoubleSpinBox()
            box.setObjectName(f"param_{name}")
            bounds = bounds_of(name, info, adjustable)
            low, high = bounds if bounds is not None else (info.low, info.high)
            box.setRange(low, high)
            box.setDecimals(3 if info.high - info.low < 5 else 1)
            box.setSingleStep(max((high - low) / 20, 0.001))
            box.setSuffix(f" {info.unit}")
            box.setValue(info.value)
            box.setReadOnly(bounds is None)
            box.setToolTip(f"{info.description} [{low:g}, {high:g}] {info.unit}"
                           + ("" if bounds is not None else " (fixed by the protocol)"))
            box.editingFinished.connect(lambda n=name: self._edited(n))
            label = QLabel(LABELS.get(name, name))
            label.setBuddy(box)
            self.form.addRow(label, box)
            self.boxes[name] = box
            self._sent[name] = info.value

    def _edited(self, name: str) -> None:
        box = self.boxes[name]
        value = box.value()
        if box.isReadOnly() or value == self._sent[name]:
            return
        self._sent[name] = value
        self.changed.emit(name, value)
