"""A number box that refuses an out-of-range value visibly instead of dropping it.

Qt's :class:`QDoubleSpinBox` silently puts back its last value when a typed number lies outside
its range: a therapist typing guidance 30 against bounds 50-100 sees 70 again and nothing else.
:class:`BoundedSpinBox` accepts any number while it is typed and, when editing finishes with one
outside the range, keeps the last valid value, emits :attr:`~BoundedSpinBox.refused` with one
line that names the value and the allowed range (e.g. ``Guidance: 30 % refused, allowed
50–100 %``) and shows it in its tooltip; the screen shows the line beside the box.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget


class BoundedSpinBox(QDoubleSpinBox):
    """A :class:`QDoubleSpinBox` that says why it refused a value.

    Args:
        name: what the box holds, for the message (e.g. "Guidance").

    Signals:
        refused(str): a typed value was outside the range; the message says so.
    """

    refused = Signal(str)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name = name

    def _number(self, text: str) -> float | None:
        core = text.removeprefix(self.prefix()).removesuffix(self.suffix()).strip()
        try:
            return float(core.replace(self.locale().groupSeparator(), "")
                         .replace(self.locale().decimalPoint(), "."))
        except ValueError:
            return None

    def bounds_text(self) -> str:
        """The allowed range with its unit, e.g. ``50–100 %``."""
        unit = self.suffix()
        return f"{self.minimum():g}–{self.maximum():g}{unit}"

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        """A number outside the range is *intermediate* (kept while typing), not invalid."""
        state, text, pos = super().validate(text, pos)
        if state == QValidator.State.Invalid and self._number(text) is not None:
            state = QValidator.State.Intermediate
        return state, text, pos

    def fixup(self, text: str) -> str:
        """Editing finished on an out-of-range number: say so (the box keeps its value)."""
        value = self._number(text)
        if value is not None and not self.minimum() <= value <= self.maximum():
            message = (f"{self.name}: {value:g}{self.suffix()} refused, allowed "
                       f"{self.bounds_text()}")
            self.setToolTip(message)
            self.refused.emit(message)
        return text
