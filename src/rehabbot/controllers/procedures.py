"""Robot assessment procedures: the controller that moves, holds or follows the legs to measure
them, run by the control loop like any other controller (under the same supervisor).

A procedure is a sequence of :class:`Step` s, each on one tested joint, with the other joints
held where they are (a stiff position hold, :data:`HOLD_KP_NM_PER_RAD`,
:data:`HOLD_KD_NMS_PER_RAD`, plus the legs' weight fed forward):

* ``move``: the tested joint goes to ``target_rad`` at ``speed_rad_s``, then settles
  :data:`SETTLE_S`;
* ``sweep``: it goes slowly toward ``target_rad`` (the end of its allowed range) until the
  joint's resistance, the measured torque less the legs' weight, reaches ``threshold_nm``
  (passive range of motion), or it has dwelt :data:`LIMIT_DWELL_S` at the end;
* ``hold``: it is held for ``duration_s`` (an isometric rest or effort); a hold with a finite
  ``torque_max_nm`` resists with at most that torque, and ends early (``"saturated"``) once the
  measured torque reaches :data:`SATURATION_SHARE` of it: the person is stronger than that, and
  the joint is then held where it yielded to (the next step brings it back at a set speed);
* ``free``: it is transparent for ``duration_s``: the legs' weight only, and a stiff wall at
  ``low_rad``/``high_rad`` (active range of motion);
* ``sine``: it moves through one period of ``q_s + A (1 - cos ωt)``, ``ω`` from the peak
  velocity ``speed_rad_s`` and amplitude ``amplitude_rad`` (stiffness).

Each step asks the person something (its ``instruction``, handed to an :data:`Instruct` when
the step starts: relax, or push or reach toward a direction). :class:`AssessmentBattery` runs
the procedures of several assessments in order, ramps its torque in over :data:`RAMP_IN_S` at
the start, and logs every step it ran (:class:`StepMark`, with loop times) so that an analysis
can find each step's samples in the recording. It never raises on the loop's thread; a fault is
the supervisor's business, and :meth:`AssessmentBattery.abort` (from the session) ends it.

Angles in rad, torques in N·m, times in s (loop time).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from rehabbot.body.joints import DIRECTION_SIGN, Direction
from rehabbot.body.leg_mechanics import LegGravity
from rehabbot.controllers.base import Controller
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray, JointCommand, JointState

#: Position-hold gains of a procedure: stiffness (N·m/rad) and damping (N·m·s/rad).
HOLD_KP_NM_PER_RAD = 3000.0
HOLD_KD_NMS_PER_RAD = 40.0
#: The battery's torque rises linearly from nothing over this time (s) at its start.
RAMP_IN_S = 1.0
#: A move rests this long (s) at its target before the next step.
SETTLE_S = 0.5
#: A sweep's speed rises linearly over this time (s); no resistance ends it before
#: :data:`DETECT_AFTER_S` (s).
SWEEP_RAMP_S = 0.2
DETECT_AFTER_S = 0.3
#: How long (s) a sweep stays at the end of the allowed range before it ends there.
LIMIT_DWELL_S = 0.3
#: A ``hold`` with a torque ceiling ends once the measured torque reaches this share of it.
SATURATION_SHARE = 0.98
#: After an abort the battery ends this much later (s), so that the recording shows the drives'
#: replies to the supervisor's stop.
ABORT_TAIL_S = 0.1

StepKind = Literal["move", "sweep", "hold", "free", "sine"]


@dataclass(frozen=True)
class Instruction:
    """What the person in the robot is asked to do: relax (``joint`` None), or push or reach
    with ``joint`` as hard and as far as they can toward ``direction``.

    >>> Instruction("knee_angle_l", "flexion").joint
    'knee_angle_l'
    """

    joint: str | None = None
    direction: Direction = "flexion"


#: The relaxed person of a passive test.
RELAX = Instruction()

#: Hands an instruction to the person (``None``: the assessments are over, back to walking):
#: the simulated patient, or whoever tells a real one. Called on the loop's thread: it must
#: neither block nor raise.
Instruct = Callable[[Instruction | None], None]


def _nobody(instruction: Instruction | None) -> None:
    """No one to instruct."""


@dataclass(frozen=True)
class Step:
    """One step of a procedure (see the module docstring for each kind).

    Attributes:
        kind: what the robot does.
        joint: the tested joint (a robot joint name).
        label: what the analysis finds the step by (e.g. ``"sweep"``, ``"effort"``).
        direction: the direction of the motion or of the person's effort.
        instruction: what the person is asked to do during the step.
        target_rad: ``move``: the joint's target; ``sweep``: where its allowed range ends (rad).
        speed_rad_s: ``move``, ``sweep``: speed (rad/s); ``sine``: peak velocity (rad/s).
        threshold_nm: ``sweep``: the resistance that ends it (N·m).
        duration_s: ``hold``, ``free``: how long (s).
        torque_max_nm: ``hold``: the most torque the robot applies to the joint (N·m, weight
            compensation included); infinite: the supervisor's limit alone.
        amplitude_rad: ``sine``: half the excursion (rad).
        low_rad: ``free``: the lower wall (rad).
        high_rad: ``free``: the upper wall (rad).
    """

    kind: StepKind
    joint: str
    label: str
    direction: Direction = "flexion"
    instruction: Instruction = RELAX
    target_rad: float = 0.0
    speed_rad_s: float = 0.0
    threshold_nm: float = 0.0
    duration_s: float = 0.0
    torque_max_nm: float = math.inf
    amplitude_rad: float = 0.0
    low_rad: float = -math.inf
    high_rad: float = math.inf

    def planned_s(self, start_rad: float) -> float:
        """How long (s) the step takes at most, starting with its joint at ``start_rad``."""
        if self.kind in ("move", "sweep"):
            travel = abs(self.target_rad - start_rad) / self.speed_rad_s
            return travel + SWEEP_RAMP_S + SETTLE_S + LIMIT_DWELL_S
        if self.kind == "sine":
            return 2.0 * math.pi * self.amplitude_rad / self.speed_rad_s
        return self.duration_s


@dataclass(frozen=True)
class Procedure:
    """The steps of one assessment.

    Attributes:
        name: the assessment's name (e.g. ``"passive_rom"``).
        steps: its steps, in order.
    """

    name: str
    steps: tuple[Step, ...]


@dataclass
class StepMark:
    """One step as it ran.

    Attributes:
        procedure: the procedure's place in the battery.
        assessment: the procedure's name.
        index: the step's place in the procedure.
        step: the step.
        start_t_s: loop time of its first tick (s).
        end_t_s: loop time of its last tick (s); NaN while it runs.
        ended_by: ``"time"`` (its planned course), ``"threshold"`` (a sweep's resistance),
            ``"limit"`` (a sweep at the end of the allowed range), ``"saturated"`` (a hold's
            torque ceiling reached) or ``"abort"``.
    """

    procedure: int
    assessment: str
    index: int
    step: Step
    start_t_s: float
    end_t_s: float = math.nan
    ended_by: str = ""


@dataclass
class _Running:
    """The step in progress."""

    mark: StepMark
    start_q: float
    at_limit_since: float | None = None
    reached_since: float | None = None


@dataclass
class _Plan:
    procedures: tuple[Procedure, ...]
    marks: list[StepMark] = field(default_factory=list)


class AssessmentBattery(Controller):
    """Runs assessment procedures in order (module docstring).

    Args:
        joint_names: the robot's joints, in array order.
        procedures: the assessments' procedures, in order.
        gravity: the legs' weight (N·m) at the joints' angles, fed forward.
        instruct: tells the person what to do at the start of each step.
        on_finished: called on the loop's thread once the last step has ended; must neither
            block nor raise.

    Raises:
        ConfigurationError: a step names a joint the robot does not have, or no step is given.
    """

    def __init__(
        self,
        joint_names: tuple[str, ...],
        procedures: Sequence[Procedure],
        gravity: LegGravity,
        instruct: Instruct = _nobody,
        on_finished: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        steps = [(k, p, s) for k, p in enumerate(procedures) for s in p.steps]
        if not steps:
            raise ConfigurationError("an assessment battery needs at least one step")
        unknown = sorted({s.joint for _, _, s in steps} - set(joint_names))
        if unknown:
            raise ConfigurationError(
                f"assessment steps name joint(s) {', '.join(unknown)} the robot does not have; "
                f"its joints: {', '.join(joint_names)}")
        self.joint_names = joint_names
        self.gravity = gravity
        self.instruct = instruct
        self.on_finished = on_finished
        self._plan = _Plan(tuple(procedures))
        self._steps = steps
        n = len(joint_names)
        self._pose = np.zeros(n)
        self._pose_v = np.zeros(n)
        self._kp = np.full(n, HOLD_KP_NM_PER_RAD)
        self._kd = np.full(n, HOLD_KD_NMS_PER_RAD)
        self._tau = np.zeros(n)
        self._gravity = np.zeros(n)
        self._command = JointCommand(self._pose, self._pose_v, self._kp, self._kd, self._tau)
        self._k = 0
        self._running: _Running | None = None
        self._start_t_s: float | None = None
        #: Every step has ended.
        self.finished_ = False
        #: Why the battery was ended early (None: it was not).
        self.aborted_: str | None = None
        self._aborted_at_s: float | None = None

    @property
    def marks_(self) -> list[StepMark]:
        """The steps started so far, in order."""
        return self._plan.marks

    @property
    def procedures(self) -> tuple[Procedure, ...]:
        """The procedures, in order."""
        return self._plan.procedures

    def planned_s(self, start_q: FloatArray) -> float:
        """How long (s) the battery takes at most with the joints starting at ``start_q`` (rad),
        the ramp in included."""
        q = {name: float(start_q[i]) for i, name in enumerate(self.joint_names)}
        total = RAMP_IN_S
        for _, _, step in self._steps:
            total += step.planned_s(q[step.joint])
            if step.kind in ("move", "sweep"):
                q[step.joint] = step.target_rad
        return total

    def abort(self, reason: str) -> None:
        """End the battery (from any thread): the step in progress ends as ``abort`` at the next
        tick; nothing after it runs; the battery finishes :data:`ABORT_TAIL_S` later."""
        self.aborted_ = reason

    def reset(self, state: JointState) -> None:
        """Hold the joints where they are; the battery starts (or, after a supervisor reset,
        goes on) from here."""
        super().reset(state)
        np.copyto(self._pose, state.q)
        self._pose_v[:] = 0.0
        if self._start_t_s is None:
            self._start_t_s = state.t_s

    def update(self, state: JointState) -> JointCommand:
        """The command of this tick: the step's reference for its joint, holds elsewhere."""
        t = state.t_s
        np.copyto(self._gravity, self.gravity.torques(state.q))
        if not self.finished_:
            self._advance(state)
        self._kp[:] = HOLD_KP_NM_PER_RAD
        self._kd[:] = HOLD_KD_NMS_PER_RAD
        np.copyto(self._tau, self._gravity)
        running = self._running
        if running is not None and running.mark.step.kind == "free":
            step = running.mark.step
            i = self.joint_names.index(step.joint)
            self._kp[i] = self._kd[i] = 0.0
            self._pose[i] = state.q[i]
            wall = min(max(float(state.q[i]), step.low_rad), step.high_rad)
            self._tau[i] += HOLD_KP_NM_PER_RAD * (wall - float(state.q[i]))
        share = 1.0 if self._start_t_s is None else min((t - self._start_t_s) / RAMP_IN_S, 1.0)
        if share < 1.0:
            self._kp *= share
            self._kd *= share
            self._tau *= share
        if running is not None and math.isfinite(running.mark.step.torque_max_nm):
            self._bound(self.joint_names.index(running.mark.step.joint),
                        running.mark.step.torque_max_nm, state)
        return self._command

    def _bound(self, i: int, torque_max_nm: float, state: JointState) -> None:
        """Lower joint ``i``'s feed-forward torque so that its command produces at most
        ``torque_max_nm`` at ``state``."""
        torque = (self._kp[i] * (self._pose[i] - state.q[i])
                  + self._kd[i] * (self._pose_v[i] - state.qd[i]) + self._tau[i])
        bounded = min(max(torque, -torque_max_nm), torque_max_nm)
        self._tau[i] += bounded - torque

    # -- the steps -----------------------------------------------------------------------------

    def _advance(self, state: JointState) -> None:
        """Start, run and end steps at this tick."""
        t = state.t_s
        if self.aborted_ is not None:
            if self._running is not None:
                self._end(t, "abort")
            if self._aborted_at_s is None:
                self._aborted_at_s = t
            if t - self._aborted_at_s >= ABORT_TAIL_S:
                self._finish()
            return
        if self._start_t_s is not None and t - self._start_t_s < RAMP_IN_S:
            return
        if self._running is None:
            k, procedure, step = self._steps[self._k]
            i = self.joint_names.index(step.joint)
            index = sum(1 for other, _, _ in self._steps[:self._k] if other == k)
            mark = StepMark(k, procedure.name, index, step, t)
            self._plan.marks.append(mark)
            self._running = _Running(mark, float(self._pose[i]))
            self.instruct(step.instruction)
        ended_by = self._run_step(self._running, state)
        if ended_by is not None:
            self._end(t, ended_by)
            self._k += 1
            if self._k == len(self._steps):
                self._finish()

    def _end(self, t: float, ended_by: str) -> None:
        assert self._running is not None
        self._running.mark.end_t_s, self._running.mark.ended_by = t, ended_by
        self._running = None

    def _finish(self) -> None:
        self.finished_ = True
        self._pose_v[:] = 0.0
        if self.on_finished is not None:
            self.on_finished()

    def _run_step(self, running: _Running, state: JointState) -> str | None:
        """Set this tick's reference of the step's joint; why the step ends now (or None)."""
        step, t = running.mark.step, state.t_s
        ran = t - running.mark.start_t_s
        i = self.joint_names.index(step.joint)
        sign = DIRECTION_SIGN[step.direction]
        if step.kind in ("hold", "free"):
            self._pose_v[i] = 0.0
            if abs(float(state.tau[i])) >= SATURATION_SHARE * step.torque_max_nm:
                self._pose[i] = float(state.q[i])  # no snapping back: the next step moves it
                return "saturated"
            return "time" if ran >= step.duration_s else None
        if step.kind == "sine":
            omega = step.speed_rad_s / step.amplitude_rad
            if ran >= 2.0 * math.pi / omega:
                self._pose[i], self._pose_v[i] = running.start_q, 0.0
                return "time"
            self._pose[i] = running.start_q + step.amplitude_rad * (1.0 - math.cos(omega * ran))
            self._pose_v[i] = step.amplitude_rad * omega * math.sin(omega * ran)
            return None
        # move and sweep: toward the target at speed (a sweep's speed ramped in)
        toward = 1.0 if step.target_rad >= running.start_q else -1.0
        v = step.speed_rad_s
        if step.kind == "move":
            speed, travel = v, v * ran
        elif ran < SWEEP_RAMP_S:
            speed, travel = v * ran / SWEEP_RAMP_S, 0.5 * v * ran**2 / SWEEP_RAMP_S
        else:
            speed, travel = v, v * (ran - 0.5 * SWEEP_RAMP_S)
        position = running.start_q + toward * travel
        if toward * (position - step.target_rad) >= 0.0:
            self._pose[i], self._pose_v[i] = step.target_rad, 0.0
            if step.kind == "move":
                if running.reached_since is None:
                    running.reached_since = t
                return "time" if t - running.reached_since >= SETTLE_S else None
            if running.at_limit_since is None:
                running.at_limit_since = t
            return "limit" if t - running.at_limit_since >= LIMIT_DWELL_S else None
        self._pose[i], self._pose_v[i] = position, toward * speed
        if step.kind == "sweep" and ran >= DETECT_AFTER_S:
            resistance = sign * float(state.tau[i] - self._gravity[i])
            if resistance >= step.threshold_nm:
                self._pose[i], self._pose_v[i] = float(state.q[i]), 0.0
                return "threshold"
        return None
