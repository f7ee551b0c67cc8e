"""The patient's screen: feedback on their own effort, on a screen facing the treadmill.

A second top-level window of the console (:class:`PatientDisplay`), full screen on the monitor
the therapist chooses (:meth:`PatientDisplay.place`), built to be read from 3 m: black
background, large shapes in high-contrast colours, no text smaller than a tenth of the window's
height (:data:`MIN_TEXT`), nothing to click. It reads the session's live ring with a reader of
its own (:class:`~rehabbot.runtime.ring.RingReader`, the ring the console's live view reads),
so that, like the live view, it can never hold up the control loop: the loop only copies each
tick into shared memory and never waits for a reader. While the window is hidden it does no
work at all.

What it shows is the therapist's choice (:class:`~rehabbot.assessment.engagement.FeedbackSettings`,
set from the console's feedback panel, :mod:`rehabbot.gui.feedback_panel`):

* ``bars``: per joint two bars, the Lokomat biofeedback value (N·m, positive: the patient led
  the robot) of the leg's last stance and last swing, with the target band drawn across them; a
  bar in the band is green, one outside it white;
* ``game``: an avatar walking along a road; every completed stride part that the game rewards
  (:func:`~rehabbot.assessment.engagement.rewarded`: the chosen part, every chosen joint of that
  leg in the band) moves it one stone on and collects the star there;
* ``steps``: the steps counted (as the console counts them) against the step goal, as a large
  number and a ring that fills;
* ``off``: nothing (a black screen).

Instructions: while a robot assessment battery runs, the display shows what the patient is asked
to do instead of the feedback, whatever the mode (:meth:`PatientDisplay.show_instruction`: the
same sentence as the therapist's console, "Relax", "Push your right thigh forward as hard as you
can", ...), large on a blue frame; a pause or a stop still takes precedence.

Honest feedback: while the session is paused, a fault is latched (or the torque is off), or the
phase estimator's confidence is low, the display says so in plain words instead, and no stride
part ending in such a period (or started before it) moves the game on or colours a bar.

The biofeedback values are :class:`~rehabbot.gui.live_stats.LiveStats`' (the parts split at the
ring's contact flags, judged by their mean); :mod:`rehabbot.assessment.engagement` gives the
same values from the session's gait events afterwards.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QHideEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QScreen,
    QShowEvent,
)
from PySide6.QtWidgets import QWidget

from rehabbot.assessment.biofeedback import PARTS
from rehabbot.assessment.engagement import FeedbackSettings, rewarded
from rehabbot.gui.live_stats import LiveStats
from rehabbot.gui.live_view import FRAME_MS
from rehabbot.protocols.schema import Protocol
from rehabbot.runtime.ring import LiveBlock, RingReader, RingSpec
from rehabbot.session.session_messages import (
    PatientInstruction,
    PhaseConfidence,
    SafetyStatus,
)

#: Smallest text height as a share of the window height (readable from 3 m on a usual screen).
MIN_TEXT = 0.1
#: Biofeedback range of a bar (±N·m).
BAR_RANGE_NM = 40.0
#: Stones (and stars) on one lap of the game's road.
ROAD_STONES = 12

BACKGROUND = QColor("#000000")
FOREGROUND = QColor("#ffffff")
IN_BAND = QColor("#00e676")
BAND = QColor(0, 230, 118, 70)
AVATAR = QColor("#ffd600")
STAR = QColor("#40c4ff")
MUTED = QColor("#616161")
WITHHELD = QColor("#82b1ff")
MUTED_TEXT = QColor("#bdbdbd")
INSTRUCTION = QColor("#2979ff")
#: The words under each leg's bars.
SIDE_WORDS = {"r": "RIGHT", "l": "LEFT"}

#: The plain words of each reason the feedback is withheld: a headline and a second line.
WITHHELD_TEXT = {
    "paused": ("PAUSED", "no score while paused"),
    "stopped": ("ROBOT STOPPED", "please wait for your therapist"),
    "uncertain": ("RHYTHM UNCLEAR", "no score until it is clear"),
}


def protocol_step_target(protocol: Protocol, duration_s: float | None = None) -> int:
    """Steps the session is planned to take: the step targets of its walking phases, and the
    steps of timed phases at their cadence; with ``duration_s`` (the console's training-only
    run) that long at the training phase's cadence.

    >>> from rehabbot.protocols.schema import load_protocol
    >>> protocol_step_target(load_protocol("standard_gait"), duration_s=60.0)
    90
    """
    if duration_s is not None:
        return round(duration_s * protocol.training_phase.cadence_steps_per_min / 60.0)
    return sum(phase.steps if phase.steps is not None else
               round(phase.expected_duration_s * phase.cadence_steps_per_min / 60.0)
               for phase in protocol.walking_phases)


def _round_pen(colour: QColor, width_px: float) -> QPen:
    """A pen ``width_px`` wide with round ends."""
    pen = QPen(colour, width_px)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


class PatientDisplay(QWidget):
    """The patient's full-screen feedback window.

    Args:
        joint_names: the robot's joints, in ring column order (names end in ``_r`` or ``_l``).

    Attributes:
        settings: what is shown (the therapist's choice).
        progress: stars the game has collected this session.
        frames: frames drawn since the window was created.
        smallest_text_px: the smallest text height of the last frame drawn (px).
        clipped_texts: texts of the last frame that did not fit their place at that height.
    """

    def __init__(self, joint_names: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("rehabbot · patient display")
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.joint_names = joint_names
        self.settings = FeedbackSettings()
        self.step_goal = 0
        self.stats = LiveStats(joint_names)
        self.reader: RingReader | None = None
        self.progress = 0
        self.frames = 0
        self.smallest_text_px = math.inf
        self.clipped_texts = 0
        self._status = SafetyStatus()
        self._uncertain = False
        #: What an assessment asks the patient to do now ("" : none runs).
        self.instruction = ""
        self._legs = {side: [j for j, n in enumerate(joint_names) if n.endswith(f"_{side}")]
                      for side in ("r", "l")}
        self._contact: dict[str, bool | None] = {"r": None, "l": None}
        self._clean = {"r": False, "l": False}  # the leg's current part ran without a withholding
        self._judged: dict[str, list[bool | None]] = {part: [None] * len(joint_names)
                                                     for part in PARTS}
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.frame)
        self.resize(960, 540)

    # -- what the console tells it ----------------------------------------------------------

    def place(self, screen: QScreen) -> None:
        """Show full screen on ``screen`` (the monitor facing the treadmill)."""
        self.setScreen(screen)
        self.setGeometry(screen.geometry())
        self.showFullScreen()

    def attach(self, spec: RingSpec, step_target: int) -> None:
        """Follow a new session: read its ring from now on; the game and the judgements start
        over; ``step_target`` is the protocol's planned steps."""
        self.detach()
        self.reader = RingReader(spec)
        self.stats = LiveStats(self.joint_names)
        self.step_goal = step_target
        self.progress = 0
        self._status, self._uncertain = SafetyStatus(), False
        self.instruction = ""
        self._contact = {"r": None, "l": None}
        self._clean = {"r": False, "l": False}
        self._judged = {part: [None] * len(self.joint_names) for part in PARTS}
        if self.isVisible():
            self.timer.start(FRAME_MS)

    def detach(self) -> None:
        """Stop reading the ring (before its owner removes it); the last picture stays, without
        an assessment's instruction (the session is over)."""
        self.timer.stop()
        self.instruction = ""
        self.update()
        if self.reader is not None:
            self.reader.close()
            self.reader = None

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        """Shown: follow the session (if one is attached)."""
        super().showEvent(event)
        if self.reader is not None:
            self.timer.start(FRAME_MS)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt's name
        """Hidden: no work at all (the next frame shown reads what the ring still holds)."""
        super().hideEvent(event)
        self.timer.stop()

    def set_settings(self, settings: FeedbackSettings) -> None:
        """Show ``settings`` from the next frame on."""
        self.settings = settings
        self.update()

    def show_status(self, status: SafetyStatus) -> None:
        """The supervisor's state (pause, latched faults, torque off)."""
        self._status = status
        self.update()

    def show_confidence(self, confidence: PhaseConfidence) -> None:
        """Whether the gait phase is uncertain."""
        self._uncertain = confidence.uncertain
        self.update()

    def show_instruction(self, instruction: PatientInstruction) -> None:
        """What a robot assessment asks the patient to do ("" : none runs)."""
        self.instruction = instruction.text
        self.update()

    @property
    def withheld(self) -> str | None:
        """Why feedback is withheld now (a key of :data:`WITHHELD_TEXT`), or None."""
        status = self._status
        if status.paused:
            return "paused"
        if status.faults or status.torque_off or status.stop_category is not None:
            return "stopped"
        if self._uncertain:
            return "uncertain"
        return None

    @property
    def goal(self) -> int:
        """The step goal shown: the therapist's, else the protocol's."""
        return self.settings.step_goal or self.step_goal

    # -- the frame --------------------------------------------------------------------------

    def frame(self) -> None:
        """Read the ring since the last frame, judge the stride parts that ended, redraw."""
        if self.reader is not None:
            self.take(self.reader.read())
        self.update()

    def take(self, block: LiveBlock) -> None:
        """Take the rows since the last frame: the stats, then every stride part that ended."""
        self.stats.update(block)
        if len(block) == 0:
            return
        withheld = self.withheld is not None
        for side in ("r", "l"):
            contact = block.column(f"contact_{side}") > 0.5
            before = self._contact[side]
            edges = np.flatnonzero(np.diff(contact.astype(np.int8))) + 1
            if before is not None and contact[0] != before:
                edges = np.concatenate(([0], edges))
            for edge in edges.tolist():
                ended = PARTS[0] if not contact[edge] else PARTS[1]  # foot off ends stance
                self._part_ended(side, ended, clean=self._clean[side] and not withheld)
                self._clean[side] = not withheld
            if withheld:
                self._clean[side] = False
            self._contact[side] = bool(contact[-1])

    def _part_ended(self, side: str, part: str, clean: bool) -> None:
        """One leg's stance or swing ended: judge it (if it ran cleanly) against the band."""
        joints = self._legs[side]
        if not clean:
            for j in joints:
                self._judged[part][j] = None
            return
        values = {}
        for j in joints:
            value = float(self.stats.biofeedback_nm[part][j])
            self._judged[part][j] = self.settings.in_band(value) if math.isfinite(value) else None
            values[self.joint_names[j].split("_")[0]] = value
        if self.settings.mode == "game" and rewarded(self.settings, part, values):
            self.progress += 1

    # -- drawing ----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        """Draw the current mode, or why feedback is withheld."""
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), BACKGROUND)
        self.smallest_text_px = math.inf
        self.clipped_texts = 0
        reason = self.withheld
        if reason in ("paused", "stopped"):
            self._draw_withheld(painter, reason)
        elif self.instruction:
            self._draw_instruction(painter)
        elif reason is not None:
            self._draw_withheld(painter, reason)
        elif self.settings.mode == "bars":
            self._draw_bars(painter)
        elif self.settings.mode == "game":
            self._draw_game(painter)
        elif self.settings.mode == "steps":
            self._draw_steps(painter)
        painter.end()
        self.frames += 1

    def _text(self, painter: QPainter, rect: QRectF, text: str, share: float,
              colour: QColor = FOREGROUND) -> None:
        """Draw ``text`` centred in ``rect`` (wrapped at spaces), ``share`` of the window height
        tall, shrunk to fit but never below :data:`MIN_TEXT`; text that still does not fit is
        counted in :attr:`clipped_texts`."""
        floor = math.ceil(MIN_TEXT * self.height())
        px = max(round(share * self.height()), floor)
        flags = int(Qt.AlignmentFlag.AlignCenter) | int(Qt.TextFlag.TextWordWrap)
        font = QFont()
        font.setBold(True)
        while True:
            font.setPixelSize(px)
            painter.setFont(font)
            needed = painter.boundingRect(rect, flags, text)
            fits = needed.width() <= rect.width() + 1 and needed.height() <= rect.height() + 1
            if fits or px == floor:
                break
            px = max(floor, int(px * 0.9))
        self.clipped_texts += not fits
        self.smallest_text_px = min(self.smallest_text_px, px)
        painter.setPen(colour)
        painter.drawText(rect, flags, text)

    def _draw_withheld(self, painter: QPainter, reason: str) -> None:
        w, h = self.width(), self.height()
        headline, line = WITHHELD_TEXT[reason]
        painter.setPen(QPen(WITHHELD, h * 0.02))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(QRectF(0.04 * w, 0.08 * h, 0.92 * w, 0.84 * h), 0.04 * h,
                                0.04 * h)
        self._text(painter, QRectF(0.06 * w, 0.12 * h, 0.88 * w, 0.4 * h), headline, 0.18,
                   WITHHELD)
        self._text(painter, QRectF(0.06 * w, 0.52 * h, 0.88 * w, 0.36 * h), line, 0.1)

    def _draw_instruction(self, painter: QPainter) -> None:
        w, h = self.width(), self.height()
        painter.setPen(QPen(INSTRUCTION, h * 0.02))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(QRectF(0.04 * w, 0.08 * h, 0.92 * w, 0.84 * h), 0.04 * h,
                                0.04 * h)
        self._text(painter, QRectF(0.07 * w, 0.12 * h, 0.86 * w, 0.76 * h), self.instruction,
                   0.16)

    def _draw_bars(self, painter: QPainter) -> None:
        w, h = self.width(), self.height()
        n = len(self.joint_names)
        top, bottom = 0.04 * h, 0.6 * h

        def y(value_nm: float) -> float:
            clipped = min(max(value_nm, -BAR_RANGE_NM), BAR_RANGE_NM)
            return top + (bottom - top) * (0.5 - clipped / (2 * BAR_RANGE_NM))

        s = self.settings
        painter.fillRect(QRectF(0.02 * w, y(s.band_high_nm), 0.96 * w,
                                y(s.band_low_nm) - y(s.band_high_nm)), BAND)
        painter.setPen(QPen(MUTED, max(2.0, 0.006 * h)))
        painter.drawLine(QPointF(0.02 * w, y(0.0)), QPointF(0.98 * w, y(0.0)))
        slot = w / n
        for j, name in enumerate(self.joint_names):
            for p, part in enumerate(PARTS):
                value = float(self.stats.biofeedback_nm[part][j])
                left = j * slot + (0.12 + 0.42 * p) * slot
                width = 0.34 * slot
                judged = self._judged[part][j]
                if math.isfinite(value) and judged is not None:
                    colour = IN_BAND if judged else FOREGROUND
                    painter.fillRect(QRectF(left, min(y(value), y(0.0)), width,
                                            abs(y(value) - y(0.0))), colour)
                self._part_icon(painter, QRectF(left, bottom + 0.01 * h, width, 0.09 * h), part)
            self._text(painter, QRectF(j * slot, 0.71 * h, slot, 0.14 * h),
                       name.split("_")[0].upper(), 0.1)
        for side, joints in self._legs.items():
            if joints:
                self._text(painter, QRectF(min(joints) * slot, 0.85 * h,
                                           (max(joints) - min(joints) + 1) * slot, 0.14 * h),
                           SIDE_WORDS[side], 0.1, MUTED_TEXT)

    def _part_icon(self, painter: QPainter, rect: QRectF, part: str) -> None:
        """A foot on the ground (stance) or lifted above it (swing)."""
        painter.setPen(QPen(FOREGROUND, max(2.0, rect.height() * 0.08)))
        ground = rect.bottom() - rect.height() * 0.1
        painter.drawLine(QPointF(rect.left(), ground), QPointF(rect.right(), ground))
        lift = 0.0 if part == PARTS[0] else rect.height() * 0.45
        foot = QRectF(rect.center().x() - rect.width() * 0.3, ground - rect.height() * 0.35 - lift,
                      rect.width() * 0.6, rect.height() * 0.3)
        painter.setBrush(QBrush(FOREGROUND))
        painter.drawRoundedRect(foot, foot.height() * 0.4, foot.height() * 0.4)

    def _draw_game(self, painter: QPainter) -> None:
        w, h = self.width(), self.height()
        road_y = 0.8 * h
        painter.setPen(_round_pen(MUTED, 0.05 * h))
        painter.drawLine(QPointF(0.05 * w, road_y), QPointF(0.95 * w, road_y))
        position = self.progress % ROAD_STONES
        step = 0.9 * w / ROAD_STONES
        painter.setPen(Qt.PenStyle.NoPen)
        for stone in range(ROAD_STONES):
            x = 0.05 * w + (stone + 0.5) * step
            if stone > position:  # stars still to collect on this lap
                self._star(painter, QPointF(x, road_y - 0.14 * h), 0.045 * h)
        x = 0.05 * w + (position + 0.5) * step
        painter.setBrush(QBrush(AVATAR))
        painter.drawEllipse(QPointF(x, road_y - 0.25 * h), 0.05 * h, 0.05 * h)
        painter.setPen(_round_pen(AVATAR, 0.025 * h))
        painter.drawLine(QPointF(x, road_y - 0.2 * h), QPointF(x, road_y - 0.08 * h))
        stride = 0.04 * h if self.progress % 2 else -0.04 * h
        painter.drawLine(QPointF(x, road_y - 0.08 * h), QPointF(x + stride, road_y - 0.01 * h))
        painter.drawLine(QPointF(x, road_y - 0.08 * h), QPointF(x - stride, road_y - 0.01 * h))
        painter.setPen(Qt.PenStyle.NoPen)
        self._star(painter, QPointF(0.42 * w, 0.14 * h), 0.07 * h)
        self._text(painter, QRectF(0.5 * w, 0.04 * h, 0.4 * w, 0.2 * h), str(self.progress), 0.16,
                   STAR)

    def _star(self, painter: QPainter, centre: QPointF, radius: float) -> None:
        points = [QPointF(centre.x() + r * math.sin(a), centre.y() - r * math.cos(a))
                  for k in range(10)
                  for a, r in [(k * math.pi / 5, radius if k % 2 == 0 else radius * 0.45)]]
        painter.setBrush(QBrush(STAR))
        painter.drawPolygon(points)

    def _draw_steps(self, painter: QPainter) -> None:
        w, h = self.width(), self.height()
        steps, goal = self.stats.steps, self.goal
        size = 0.8 * h
        ring = QRectF((w - size) / 2, 0.1 * h, size, size)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(MUTED, 0.05 * h))
        painter.drawEllipse(ring)
        if goal > 0:
            painter.setPen(_round_pen(IN_BAND, 0.05 * h))
            span = min(steps / goal, 1.0)
            painter.drawArc(ring, 90 * 16, -round(span * 360 * 16))
        self._text(painter, QRectF(ring.left(), 0.25 * h, size, 0.3 * h), str(steps), 0.26)
        if goal > 0:
            self._text(painter, QRectF(ring.left(), 0.55 * h, size, 0.15 * h), f"of {goal}",
                       0.1, FOREGROUND if steps < goal else IN_BAND)
