"""The alarm banner: latched faults and live warnings in IEC 60601-1-8 colours and priorities.

The banner shows the highest-priority alarm condition first and lists every latched fault and
every warning present now:

=========  ===========  ==========================================================
priority   colour       visual signal
=========  ===========  ==========================================================
high       red          flashing at 2 Hz (50 % duty) until acknowledged
medium     yellow       flashing at 0.5 Hz until acknowledged
low        cyan         steady
=========  ===========  ==========================================================

(IEC 60601-1-8, table 2: high 1.4-2.8 Hz, medium 0.4-0.8 Hz, low constant.)

Every alarm is shown in the therapist's language (:mod:`rehabbot.assessment.alarm_text`): a short
title, the cause with values in the screen's units and the action to take; *Technical details*
(**F4**) shows the supervisor's own lines instead. The banner has a **fixed height**: its title is
one line (elided, the full text in its tooltip) and the alarm list scrolls inside a fixed box,
so ten alarms never move the screen below. A latched E-STOP always takes the title.

A latched fault needs two deliberate steps: **Acknowledge** (stops the flashing; the colour
stays while the fault is latched) and then **Reset** (asks the supervisor to clear its faults,
refused while a cause persists). A new fault makes the banner flash again.

A **warning** (``warning:<kind>``, e.g. a motor's winding above its warning temperature, or RMS
torque near the motor's rating) is an alarm condition without a stop: it shows in its priority's
colour, steady, is not latched, needs neither acknowledgement nor reset, and leaves the banner by
itself when the supervisor reports ``warning_cleared:<kind>`` for the same joint. The last other
safety event (a warning's end, stop, E-STOP, reset, ...) is shown as a line under the alarms.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from rehabbot.assessment.alarm_text import PlainEvent, plain_event
from rehabbot.gui.labels import ElidedLabel
from rehabbot.session.session_messages import EventInfo, FaultInfo, SafetyStatus

#: Background colour, text colour and flash period (ms; 0: steady) by priority.
ALARM_STYLE: dict[str, tuple[str, str, int]] = {
    "high": ("#d40000", "#ffffff", 500),
    "medium": ("#ffd000", "#000000", 2000),
    "low": ("#00b7eb", "#000000", 0),
}
#: The banner's look without an alarm.
QUIET_STYLE = ("#2e3b2e", "#ffffff")
_RANK = {"high": 0, "medium": 1, "low": 2}
#: The supervisor's event for a refused reset (its ``blocking`` causes say why).
REFUSED = "reset:refused"
#: Lines of alarm text the banner's fixed box shows before it scrolls.
DETAIL_LINES = 3


def plain_fault(fault: FaultInfo) -> PlainEvent:
    """A latched fault in the therapist's language, from the value and limit it carries."""
    return plain_event(f"fault:{fault.kind}", fault.joint, fault.values, fault.unit)


def plain_warning(event: EventInfo) -> PlainEvent:
    """A live event in the therapist's language, from the values it carries."""
    return plain_event(event.kind, event.joint, event.values)


def _key(fault: FaultInfo) -> tuple[str, str | None, float]:
    """What tells one latched fault from another (its value may be NaN, never equal)."""
    return fault.kind, fault.joint, fault.t_s


def ordered_faults(faults: Iterable[FaultInfo]) -> list[FaultInfo]:
    """Latched faults as the banner lists them: E-STOP first, then by priority, newest first.

    >>> a = FaultInfo("standstill", "knee_angle_r", 1.0, "high", 0, "", 0.2, 0.1, "rad")
    >>> b = FaultInfo("estop", None, 2.0, "high", 0, "", 1.0, 0.0, "")
    >>> [f.kind for f in ordered_faults((a, b))]
    ['estop', 'standstill']
    """
    return sorted(faults, key=lambda f: (f.kind != "estop", _RANK[f.priority], -f.t_s))


def top_priority(alarms: Iterable[FaultInfo | EventInfo]) -> str | None:
    """The highest priority among ``alarms`` (None without any).

    >>> f = FaultInfo("rom_exceeded", "knee_angle_r", 1.0, "medium", 1, "", 1.5, 1.4, "rad")
    >>> w = EventInfo(2.0, "warning:rms_torque", "knee_angle_r", "low", None, "")
    >>> top_priority((f, w)), top_priority((w,)), top_priority(())
    ('medium', 'low', None)
    """
    return min((a.priority for a in alarms if a.priority is not None), key=_RANK.__getitem__,
               default=None)


class AlarmBanner(QFrame):
    """A full-width banner with the alarm text, an Acknowledge and a Reset button.

    Signals:
        reset_requested: the operator asked for a reset (after acknowledging).
    """

    reset_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alarmBanner")
        self.setFrameShape(QFrame.Shape.Box)
        self.title = ElidedLabel("No alarms", 16, bold=True)
        self.title.setObjectName("alarmTitle")
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail_box = QScrollArea()
        self.detail_box.setWidget(self.detail)
        self.detail_box.setWidgetResizable(True)
        self.detail_box.setFrameShape(QFrame.Shape.NoFrame)
        self.detail_box.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.detail_box.viewport().setAutoFillBackground(False)
        self.detail.setAutoFillBackground(False)
        line = self.detail.fontMetrics().lineSpacing()
        self.detail_box.setFixedHeight(DETAIL_LINES * line + 1)  # whole lines, no sliver
        self.acknowledge_button = QPushButton("&Acknowledge (F2)")
        self.acknowledge_button.clicked.connect(self.acknowledge)
        self.reset_button = QPushButton("&Reset (F3)")
        self.reset_button.clicked.connect(self.request_reset)
        self.details_button = QPushButton("Technical details (F4)")
        self.details_button.setCheckable(True)
        self.details_button.toggled.connect(lambda _: self._render())
        text = QVBoxLayout()
        text.setContentsMargins(0, 0, 0, 0)
        text.addWidget(self.title)
        text.addWidget(self.detail_box)
        buttons = QVBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.acknowledge_button, self.reset_button, self.details_button):
            buttons.addWidget(button)
        layout = QHBoxLayout(self)
        layout.addLayout(text, 1)
        layout.addLayout(buttons)
        self.setFixedHeight(max(self.title.sizeHint().height() + self.detail_box.height(),
                                buttons.sizeHint().height()) + 2 * layout.contentsMargins().top()
                            + layout.spacing())
        self.status = SafetyStatus()
        self.warnings: dict[tuple[str, str | None], EventInfo] = {}
        """The warnings present now, by condition and joint, oldest first."""
        self.last_event: EventInfo | None = None
        self.acknowledged = True
        self.flash_on = False
        self._flash = QTimer(self)
        self._flash.timeout.connect(self._toggle_flash)
        self._message = ""
        self._render()

    @property
    def priority(self) -> str | None:
        """The highest priority of the latched faults and warnings now (None: no alarm)."""
        return top_priority((*self.status.faults, *self.warnings.values()))

    @property
    def flashing(self) -> bool:
        """The banner flashes (an unacknowledged latched fault of high or medium priority)."""
        return self._flash.isActive()

    def show_status(self, status: SafetyStatus) -> None:
        """Show the supervisor's state; a fault not seen before needs acknowledging again."""
        new = set(map(_key, status.faults)) - set(map(_key, self.status.faults))
        gone = bool(self.status.faults) and not status.faults
        self.status = status
        if new or gone:
            self._message = ""  # a refusal or reminder is about faults that changed
        if new:
            self.acknowledged = False
        if not status.faults:
            self.acknowledged = True
        self._render()

    def show_event(self, event: EventInfo) -> None:
        """Show a safety event as it happens: a warning joins the alarms until it clears."""
        key = (event.condition, event.joint)
        if event.is_warning:
            self.warnings[key] = event  # listed with the alarms, not again as the last event
        else:
            if event.is_warning_cleared:
                self.warnings.pop(key, None)
            self.last_event = event
            if event.kind == REFUSED:  # why, in plain words, until the faults change
                plain = plain_warning(event)
                self._message = f"{plain.title}. {plain.line}"
        self._render()

    def clear(self) -> None:
        """Forget the session's alarms, events and messages (it has ended)."""
        self.warnings.clear()
        self.last_event = None
        self._message = ""
        self.show_status(SafetyStatus())

    def toggle_details(self) -> None:
        """Switch between the plain alarm text and the supervisor's technical lines (F4)."""
        self.details_button.toggle()

    def show_message(self, text: str) -> None:
        """Show a line under the alarm (e.g. why a reset was refused)."""
        self._message = text
        self._render()

    def acknowledge(self) -> None:
        """The operator has seen the alarm: stop flashing (the colour stays while latched)."""
        if self.status.faults:
            self.acknowledged = True
            self._render()

    def request_reset(self) -> None:
        """Ask for a reset; only after the alarm was acknowledged."""
        if not self.acknowledged:
            self.show_message("Acknowledge the alarm first (F2), then reset (F3).")
            return
        self.reset_requested.emit()

    def _toggle_flash(self) -> None:
        self.flash_on = not self.flash_on
        self._paint()

    def _render(self) -> None:
        priority = self.priority
        status = self.status
        faults = ordered_faults(status.faults)
        technical = self.details_button.isChecked()
        warnings = list(self.warnings.values())
        if technical:
            lines = [f.text for f in faults] + [w.text for w in warnings]
        else:
            lines = [f"{p.title}: {p.line}" for p in map(plain_fault, faults)]
            lines += [f"{p.title}: {p.line}" for p in map(plain_warning, warnings)]
        if self._message:
            lines.insert(0, self._message)
        if self.last_event is not None:
            event = self.last_event
            lines.append(f"last event: {event.text}" if technical else
                         f"last event at {event.t_s:.1f} s: {plain_warning(event).title}")
        self.detail.setText("\n".join(lines))
        if priority is None:
            self.title.setText("Paused: torque faded out" if status.paused else (
                "Stopped" if status.stop_category is not None else "No alarms"))
        elif faults:
            more = f" (+{len(faults) - 1} more)" if len(faults) > 1 else ""
            state = "acknowledged" if self.acknowledged else "NOT ACKNOWLEDGED"
            self.title.setText(f"{priority.upper()} PRIORITY ALARM · "
                               f"{plain_fault(faults[0]).title}{more} · {state}")
        else:
            first_warning = next(w for w in warnings if w.priority == priority)
            title = plain_warning(first_warning).title.removeprefix("Warning: ")
            self.title.setText(f"{priority.upper()} PRIORITY WARNING · {title} · "
                               "clears by itself")
        self.acknowledge_button.setEnabled(bool(status.faults) and not self.acknowledged)
        self.reset_button.setEnabled(status.stop_category is not None or bool(status.faults))
        period = 0 if priority is None or self.acknowledged else ALARM_STYLE[priority][2]
        if period:
            if self._flash.interval() != period // 2 or not self._flash.isActive():
                self._flash.start(period // 2)
        else:
            self._flash.stop()
            self.flash_on = True
        self._paint()

    def _paint(self) -> None:
        priority = self.priority
        if priority is None:
            background, foreground = QUIET_STYLE
        else:
            background, foreground, period = ALARM_STYLE[priority]
            if period and not self.acknowledged and not self.flash_on:
                background, foreground = "#202020", background  # the "off" half of the flash
        self.setStyleSheet(
            f"QFrame#alarmBanner {{ background: {background}; }} "
            f"QFrame#alarmBanner QLabel {{ color: {foreground}; }}")
