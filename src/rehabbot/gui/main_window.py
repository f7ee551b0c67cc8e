"""The console's main window: screens, the alarm banner, the E-STOP, and the session link.

Layout: the alarm banner across the top, the screens (patients, setup, live session, after the
session) in the middle, the E-STOP panel on the right of every screen. The window owns at most
one :class:`~rehabbot.session.session_link.SessionLink`; a timer reads its live data and replies
every :data:`~rehabbot.gui.live_view.FRAME_MS` ms. Every command is sent to the session first
and then written to the audit log with the operator's name (E-STOP never waits for the disk).

The patient display (:mod:`rehabbot.gui.patient_display`) is a second top-level window for the
screen facing the treadmill; its controls (:mod:`rehabbot.gui.feedback_panel`) sit in a dock
the *Patient display* menu shows. Each feedback change is sent to the session like a parameter
change (recorded there with the loop time) and audited; the settings in effect are sent again
when a session starts.

Closing the window while a session runs asks first; if confirmed, the session is stopped safely
(torque fade) and the window waits until it is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from rehabbot.assessment.alarm_text import STOPS
from rehabbot.assessment.engagement import FeedbackSettings
from rehabbot.errors import RehabbotError
from rehabbot.gui.after_screen import AfterScreen
from rehabbot.gui.alarm_banner import AlarmBanner
from rehabbot.gui.estop import EStopPanel
from rehabbot.gui.feedback_panel import FeedbackPanel
from rehabbot.gui.live_screen import LiveScreen
from rehabbot.gui.live_view import FRAME_MS
from rehabbot.gui.patient_display import PatientDisplay, protocol_step_target
from rehabbot.gui.patients_screen import PatientsScreen
from rehabbot.gui.setup_screen import SetupScreen
from rehabbot.hal.config import RobotConfig
from rehabbot.protocols.schema import Protocol
from rehabbot.runtime.doctor import realtime_warning
from rehabbot.runtime.realtime import RealtimeSettings
from rehabbot.session.runner import SessionRequest
from rehabbot.session.session_link import SessionLink
from rehabbot.session.session_messages import (
    Applied,
    Command,
    CommandKind,
    EventInfo,
    Failed,
    Finished,
    LiveParams,
    PatientInstruction,
    PhaseConfidence,
    Reply,
    SafetyStatus,
)
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore

#: The console's keyboard map: keys and what they do (docs/console.md shows it).
KEYMAP = (
    ("F1", "E-STOP: press (from every screen, whatever has the focus)"),
    ("Shift+F1", "release E-STOP"),
    ("F2", "acknowledge the alarm"),
    ("F3", "reset (after acknowledging)"),
    ("F4", "alarm banner: technical details on / off"),
    ("F5", "start the session (setup screen)"),
    ("F6", "pause / resume"),
    ("F7 (held)", "hold-to-run recovery after a stop: joints beyond their range brought back"),
    ("F8", "stop the session (torque fades out, the session is stored)"),
    ("Ctrl+L", "large-value display on / off"),
    ("Ctrl+G", "to the guidance box (type a value, Enter applies it)"),
    ("Ctrl+1 … Ctrl+4", "patients, setup, live session, after the session"),
    ("Ctrl+F / Ctrl+N / Ctrl+S", "patients: search, new, save"),
    ("Alt+underlined letter", "the button or field with that mnemonic; Tab moves on"),
    ("Ctrl+Q", "quit (asks first while a session runs)"),
)
#: How often a held recovery is renewed (ms); the supervisor's dead-man time is 500 ms.
RECOVER_RENEW_MS = 100
#: How long closing the window waits for a stopped session to be stored (s).
STOP_WAIT_S = 60.0


@dataclass(frozen=True)
class ConsoleSettings:
    """What the console runs on.

    Attributes:
        robot: the robot configuration (a simulated one by default).
        store_path: the session store.
        operator: the name recorded with every action.
        realtime: pace sessions to the wall clock (the console's normal mode); False runs them
            in lockstep, as fast as the machine allows (tests).
        seed: seed of the simulation.
        session_realtime: real-time settings of the session processes (SCHED_FIFO, CPUs,
            memory locking; None: the normal scheduler).
    """

    robot: RobotConfig
    store_path: Path
    operator: str
    realtime: bool = True
    seed: int = 0
    session_realtime: RealtimeSettings | None = None


#: The live screen's state line before the session's first report.
STARTING = "starting the session…"


def reply_state(status: SafetyStatus) -> str:
    """The live screen's state line for the supervisor's state: never "running" while the
    torque is off or fading.

    >>> reply_state(SafetyStatus())
    'running: torque on'
    >>> reply_state(SafetyStatus(stop_category=0, torque_off=True))
    'TORQUE OFF: stopped (motors switched off at once)'
    """
    if status.paused:
        return "PAUSED: torque faded out · F6 resumes"
    if status.torque_off:
        category = STOPS.get(status.stop_category or 0, "")
        return f"TORQUE OFF: stopped ({category})"
    if status.stop_category is not None:
        return f"STOPPING: {STOPS.get(status.stop_category, '')}"
    return "running: torque on"


def _ask(parent: QWidget, text: str) -> bool:
    answer = QMessageBox.question(parent, "rehabbot console", text)
    return answer == QMessageBox.StandardButton.Yes


class MainWindow(QMainWindow):
    """The therapist console.

    Args:
        settings: robot, store, operator.
        confirm: asks the operator a yes/no question (default: a message box).
    """

    def __init__(self, settings: ConsoleSettings,
                 confirm: Callable[[QWidget, str], bool] = _ask) -> None:
        super().__init__()
        self.settings = settings
        self.confirm = confirm
        self.setWindowTitle(f"rehabbot console · {settings.robot.name} · operator "
                            f"{settings.operator}")
        self.link: SessionLink | None = None
        self.patient_code: str | None = None
        self.status = SafetyStatus()
        self.banner = AlarmBanner()
        self.estop = EStopPanel()
        self.patients = PatientsScreen(settings.store_path, settings.operator)
        self.setup = SetupScreen(settings.store_path, settings.robot)
        warning = realtime_warning(settings.session_realtime) if settings.realtime else None
        if warning is not None:  # plain words before a session: no real-time priority
            self.realtime_warning = QLabel(f"⚠ {warning}")
            self.realtime_warning.setWordWrap(True)
            self.realtime_warning.setObjectName("realtimeWarning")
            cast(QVBoxLayout, self.setup.layout()).insertWidget(0, self.realtime_warning)
        self.live = LiveScreen(settings.robot.joint_names, settings.robot.period_s)
        self.after = AfterScreen(settings.store_path, settings.operator)
        self.stack = QStackedWidget()
        for screen in (self.patients, self.setup, self.live, self.after):
            self.stack.addWidget(screen)
        body = QHBoxLayout()
        body.addWidget(self.stack, 1)
        body.addWidget(self.estop)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.banner)
        layout.addLayout(body, 1)
        self.setCentralWidget(central)
        self.feedback = FeedbackSettings()
        self.patient_display = PatientDisplay(settings.robot.joint_names)
        self.feedback_panel = FeedbackPanel()
        self.feedback_panel.changed.connect(self.set_feedback)
        self.feedback_panel.open_requested.connect(self.open_patient_display)
        self.feedback_dock = QDockWidget("Patient display", self)
        self.feedback_dock.setObjectName("feedbackDock")
        self.feedback_dock.setWidget(self.feedback_panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.feedback_dock)
        self.feedback_dock.hide()
        self.menuBar().addMenu("Patient &display").addAction(self.feedback_dock.toggleViewAction())
        self.patients.chosen.connect(self._patient_chosen)
        self.setup.start_requested.connect(self.start_session)
        self.live.controls.changed.connect(self.set_param)
        self.live.pause_toggled.connect(self.toggle_pause)
        self.live.stop_requested.connect(self.stop_session)
        self.live.recover_held.connect(self.hold_recovery)
        self.recover_timer = QTimer(self)  # renews a held recovery (its dead-man input)
        self.recover_timer.setInterval(RECOVER_RENEW_MS)
        self.recover_timer.timeout.connect(lambda: self._send_recover(True))
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # F7 press and release
        self.estop.changed.connect(self._estop_changed)
        self.banner.reset_requested.connect(self.reset)
        self.after.new_session.connect(lambda: self.show_screen(self.setup))
        shortcuts: list[tuple[str, Callable[[], Any]]] = [
            ("F1", self.estop.press), ("Shift+F1", self.estop.release),
            ("F2", self.banner.acknowledge), ("F3", self.banner.request_reset),
            ("F4", self.banner.toggle_details),
            ("F5", self._start_key), ("F6", self.toggle_pause), ("F8", self.stop_session),
            ("Ctrl+L", self.live.large_button.toggle), ("Ctrl+G", self.focus_guidance),
            ("Ctrl+Q", self.close),
        ]
        screens: tuple[QWidget, ...] = (self.patients, self.setup, self.live, self.after)
        for index, page in enumerate(screens):
            shortcuts.append((f"Ctrl+{index + 1}", self._shower(page)))
        self.shortcuts: dict[str, QShortcut] = {}
        for keys, slot in shortcuts:
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.ApplicationShortcut)
            shortcut.activated.connect(slot)
            self.shortcuts[keys] = shortcut
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._frame)
        self.resize(1400, 900)

    # -- screens ------------------------------------------------------------------------------

    def show_screen(self, screen: QWidget) -> None:
        """Bring a screen to the front."""
        self.stack.setCurrentWidget(screen)

    def _shower(self, screen: QWidget) -> Callable[[], None]:
        return lambda: self.show_screen(screen)

    def _patient_chosen(self, code: str) -> None:
        self.patient_code = code
        self.setup.set_patient(code)
        self.show_screen(self.setup)

    def focus_guidance(self) -> None:
        """Put the keyboard focus on the guidance box of the live screen (if it has one)."""
        boxes = self.live.controls.boxes
        box = boxes.get("guidance_pct") or boxes.get("max_guidance_pct")
        if box is not None and self.stack.currentWidget() is self.live:
            box.setFocus(Qt.FocusReason.ShortcutFocusReason)
            box.selectAll()

    def _start_key(self) -> None:
        if self.stack.currentWidget() is self.setup:
            self.setup.start()

    # -- the session --------------------------------------------------------------------------

    def start_session(self, patient_code: str, protocol: Protocol, duration_s: float | None,
                      profile: str) -> None:
        """Start a session in its own process and show the live screen (``duration_s``: the
        training phase alone for this long; None: the protocol's phases as planned)."""
        if self.link is not None:
            return
        request = SessionRequest(
            robot=self.settings.robot, protocol=protocol, store_path=self.settings.store_path,
            patient_code=patient_code, duration_s=duration_s, seed=self.settings.seed,
            realtime=self.settings.realtime, profile=profile,
        )
        try:
            link = SessionLink(request, self.settings.session_realtime)
            link.start()
        except RehabbotError as exc:
            self.setup.check.setText(f"⚠ {exc}")
            return
        self.link = link
        self.patient_code = patient_code
        self.live.view.reset()
        planned = protocol.planned_duration_s if duration_s is None else duration_s
        self.live.title.setText(f"{protocol.title} · patient {patient_code} · {planned:.0f} s · "
                                f"operator {self.settings.operator}")
        self.live.show_state(STARTING)
        self.live.status.setText("")
        self.live.stop_button.setEnabled(True)
        self._audit("session.start", {"protocol": protocol.name, "duration_s": duration_s,
                                      "profile": profile})
        self.patient_display.attach(link.reader.spec, protocol_step_target(protocol, duration_s))
        self.set_feedback(self.feedback)  # the settings in effect from the session's start
        if self.estop.pressed:
            link.send(Command(CommandKind.ESTOP, pressed=True, operator=self.settings.operator))
        self.show_screen(self.live)
        self.timer.start(FRAME_MS)

    def send(self, command: Command, action: str, detail: dict[str, Any]) -> None:
        """Send a command to the running session, then record it in the audit log."""
        if self.link is None:
            return
        self.link.send(command)
        self._audit(action, detail)

    def _command(self, kind: CommandKind, **fields: Any) -> Command:
        return Command(kind, operator=self.settings.operator, **fields)

    def set_param(self, name: str, value: float) -> None:
        """Change a controller parameter of the running session."""
        self.send(self._command(CommandKind.PARAMS, values={name: value}), "parameter.change",
                  {"parameter": name, "value": value})

    def set_feedback(self, settings: FeedbackSettings) -> None:
        """Show new feedback settings on the patient display; a running session records them."""
        self.feedback = settings
        self.patient_display.set_settings(settings)
        self.send(self._command(CommandKind.FEEDBACK, feedback=settings), "feedback.change",
                  settings.as_detail())

    def open_patient_display(self, screen_index: int) -> None:
        """Show the patient display full screen on monitor ``screen_index``."""
        screens = QGuiApplication.screens()
        self.patient_display.place(screens[min(max(screen_index, 0), len(screens) - 1)])
        self.feedback_dock.show()

    def toggle_pause(self) -> None:
        """Pause (torque fades out, the loop keeps running) or resume (a reset).

        While a fault is latched a resume is the reset path: acknowledged first (F2), then a
        reset; never a resume that would clear the fault unacknowledged.
        """
        if self.status.paused and self.status.faults:
            self.banner.request_reset()
            return
        kind = CommandKind.RESUME if self.status.paused else CommandKind.PAUSE
        self.send(self._command(kind), f"session.{kind.value}", {})

    def stop_session(self) -> None:
        """Stop the session: the torque fades out, then the session is stored."""
        if self.link is not None:
            self.live.stop_button.setEnabled(False)
            self.live.status.setText("stopping: torque fading out, storing the session…")
        self.send(self._command(CommandKind.STOP), "session.stop", {})

    def hold_recovery(self, held: bool) -> None:
        """Hold-to-run recovery: held, the input is sent now and renewed every
        :data:`RECOVER_RENEW_MS` (the supervisor lets go of a hold not renewed within 0.5 s);
        let go, the release is sent at once."""
        if held == self.recover_timer.isActive():
            return
        if held:
            self.recover_timer.start()
        else:
            self.recover_timer.stop()
        self._send_recover(held)
        self._audit("session.recover", {"held": held})

    def _send_recover(self, held: bool) -> None:
        if self.link is not None:
            self.link.send(self._command(CommandKind.RECOVER, pressed=held))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """F7 held anywhere in the console holds the recovery; its release lets go."""
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease) and isinstance(
                event, QKeyEvent) and event.key() == Qt.Key.Key_F7 and not event.isAutoRepeat():
            self.hold_recovery(event.type() == QEvent.Type.KeyPress)
            return True
        return super().eventFilter(watched, event)

    def reset(self) -> None:
        """Ask the supervisor to clear its latched faults."""
        self.send(self._command(CommandKind.RESET), "session.reset", {})

    def _estop_changed(self, pressed: bool) -> None:
        action = "estop.press" if pressed else "estop.release"
        if self.link is None:
            self._audit(action, {"session": None})
            return
        self.send(self._command(CommandKind.ESTOP, pressed=pressed), action, {})

    def _audit(self, action: str, detail: dict[str, Any]) -> None:
        """Record an action with the operator (and the patient, if the records know them)."""
        try:
            with SessionStore.open(self.settings.store_path) as store:
                records = PatientRecords(store)
                code = self.patient_code
                known = code is not None and any(p.code == code for p in records.list_patients())
                records.log(action, detail, operator=self.settings.operator,
                            patient_code=code if known else None)
        except RehabbotError as exc:
            self.live.status.setText(f"⚠ audit log: {exc}")

    # -- the frame ----------------------------------------------------------------------------

    def _frame(self) -> None:
        link = self.link
        if link is None:
            self.timer.stop()
            return
        self.live.view.show_rows(link.reader.read())
        for reply in link.poll():
            self.handle_reply(reply)

    def handle_reply(self, reply: Reply) -> None:
        """Show what the session process said: parameters, alarms and events, outcomes."""
        if isinstance(reply, LiveParams):
            self.live.controls.set_params(reply.params)
            self.live.controls.setTitle(f"Parameters · phase {reply.phase}" if reply.phase
                                        else "Parameters")
            if self.live.state.text() == STARTING:
                self.live.show_state(reply_state(self.status))
        elif isinstance(reply, SafetyStatus):
            self.status = reply
            self.banner.show_status(reply)
            self.patient_display.show_status(reply)
            self.live.set_paused(reply.paused)
            self.live.show_state(reply_state(reply))
        elif isinstance(reply, EventInfo):
            self.banner.show_event(reply)
        elif isinstance(reply, PhaseConfidence):
            self.patient_display.show_confidence(reply)
        elif isinstance(reply, PatientInstruction):
            self.live.show_instruction(reply)
            self.patient_display.show_instruction(reply)
        elif isinstance(reply, Applied):
            what = reply.command.describe()
            if reply.command.kind is CommandKind.RECOVER and reply.accepted:
                return  # the supervisor's recovery events say what happened
            if reply.accepted:
                self.live.status.setText(f"{what}: applied at {reply.t_s:.2f} s")
            else:
                # a reset the supervisor refused: its reset:refused event has already put why
                # in the banner, in plain words; other refusals say why here
                by_supervisor = reply.reason.startswith("reset refused")
                self.live.status.setText(
                    f"⚠ {what}: refused, a cause is still present (see the alarm banner)"
                    if by_supervisor else f"⚠ {what}: {reply.reason}")
                if reply.command.kind in (CommandKind.RESET, CommandKind.RESUME) \
                        and not by_supervisor:
                    self.banner.show_message(reply.reason)
        elif isinstance(reply, Finished):
            self.live.view.finish()
            self._ended()
            self.after.show_session(reply.session_id)
            self.show_screen(self.after)
        elif isinstance(reply, Failed):
            self._ended()
            self.setup.check.setText(f"⚠ the session failed: {reply.error}")
            self.show_screen(self.setup)

    def _ended(self) -> None:
        self.timer.stop()
        self.recover_timer.stop()
        self.patient_display.detach()  # before the ring is removed
        self.live.show_instruction(PatientInstruction())
        if self.link is not None:
            self.link.close()
            self.link = None
        self.status = SafetyStatus()
        self.banner.clear()

    # -- closing ------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        """Ask before closing during a session; then stop it safely and wait until stored."""
        link = self.link
        if link is None:
            self.patient_display.close()
            event.accept()
            return
        if not self.confirm(self, "A session is running. Stop it safely (the torque fades out) "
                                  "and close the console?"):
            event.ignore()
            return
        self.stop_session()
        deadline = time.monotonic() + STOP_WAIT_S
        while self.link is not None and time.monotonic() < deadline:
            QApplication.processEvents()
            self._frame()
            time.sleep(0.02)
        self.patient_display.close()
        event.accept()
