"""A session's robot assessments, run as a battery in its control loop.

The assessment phases of a protocol (before its walking phases, or after them) become one
:class:`~rehabbot.controllers.procedures.AssessmentBattery` of the assessments' procedures
(:data:`~rehabbot.assessment.robot.registry.ROBOT_ASSESSMENTS`), which the session runner
runs in a control loop on the session's plant, under the session's supervisor, with the
treadmill stopped and the person lifted. Every sample is recorded like a walking tick; each
assessment's result is computed afterwards from the stored samples and the steps the battery
logged.

When walking phases follow, the battery ends by moving the legs to where the walking starts
(:func:`walking_start`: the gait reference at the right foot strike), so that the walking
controller takes over without a jump.

A latched fault (E-STOP included) ends the battery: :class:`FaultWatch`, one of the loop's event
sinks, aborts it on the tick the fault is reported; the assessment then running is
``interrupted`` (its completed parts are analysed), the ones after it ``skipped`` with the fault
as the reason; a stop request skips them likewise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rehabbot.assessment.robot.recording import AssessmentRecording, RobotSetup
from rehabbot.assessment.robot.registry import ROBOT_ASSESSMENTS, RobotAssessment
from rehabbot.body.normative_gait import GaitReference
from rehabbot.controllers.procedures import AssessmentBattery, Procedure, Step
from rehabbot.errors import ConfigurationError
from rehabbot.protocols.schema import Phase
from rehabbot.runtime.loop import SampleSink
from rehabbot.safety.faults import SafetyEvent
from rehabbot.storage.samples import Sample, SampleBlock


@dataclass(frozen=True)
class PlannedAssessment:
    """One assessment phase and its procedure."""

    phase: Phase
    assessment: RobotAssessment
    procedure: Procedure


def plan_battery(phases: Sequence[Phase], setup: RobotSetup) -> list[PlannedAssessment]:
    """The procedures of assessment ``phases`` on ``setup``'s robot, in order.

    Raises:
        ConfigurationError: an unknown assessment, a joint the robot does not have, a parameter
            out of bounds, or a test angle outside the session's range.
    """
    planned = []
    for phase in phases:
        name = phase.assessment or ""
        assessment = ROBOT_ASSESSMENTS.get(name)
        if assessment is None:
            raise ConfigurationError(f"phase {phase.name!r}: unknown assessment {name!r}; known: "
                                     f"{', '.join(sorted(ROBOT_ASSESSMENTS))}")
        joints = phase.assessment_joints or tuple(
            j for j in assessment.default_joints if j in setup.joint_names)
        try:
            procedure = assessment.procedure(joints, dict(phase.assessment_params), setup)
        except ConfigurationError as exc:
            raise ConfigurationError(f"phase {phase.name!r}: {exc}") from None
        planned.append(PlannedAssessment(phase, assessment, procedure))
    return planned


def battery_results(
    planned: Sequence[PlannedAssessment],
    battery: AssessmentBattery,
    samples: SampleBlock,
    joint_names: tuple[str, ...],
    setup: RobotSetup,
    period_s: float,
    stopped: str | None,
) -> dict[str, dict[str, object]]:
    """Each assessment's result by phase name, from the recorded ``samples``: ``done`` when
    every step of it ran, ``interrupted`` when the battery ended inside it, ``skipped`` when it
    never started (``stopped``, or the battery's abort reason, says why)."""
    reason = battery.aborted_ or stopped or "the battery ended before it"
    results: dict[str, dict[str, object]] = {}
    for k, plan in enumerate(planned):
        marks = tuple(m for m in battery.marks_ if m.procedure == k)
        phase = plan.phase
        joints = phase.assessment_joints or tuple(
            j for j in plan.assessment.default_joints if j in setup.joint_names)
        if not marks:
            results[phase.name] = plan.assessment.skipped(reason).as_dict()
            continue
        done = len(marks) == len(plan.procedure.steps) and marks[-1].ended_by != "abort"
        recording = AssessmentRecording(samples, joint_names, marks, setup.gravity())
        result = plan.assessment.analyze(
            recording, joints, dict(phase.assessment_params), setup, period_s,
            status="done" if done else "interrupted", reason="" if done else reason)
        results[phase.name] = result.as_dict()
    return results


#: Speed (rad/s) of the move to the walking start pose.
WALKING_START_SPEED_RAD_S = math.radians(30.0)


def walking_start(joint_names: tuple[str, ...]) -> Procedure:
    """The closing procedure of a battery before walking: each joint to the gait reference's
    angle at the right foot strike, where the walking controller starts."""
    pose = GaitReference(joint_names).evaluate(0.0)[0]
    return Procedure("walking_start", tuple(
        Step("move", name, "to_walking", target_rad=float(pose[i]),
             speed_rad_s=WALKING_START_SPEED_RAD_S) for i, name in enumerate(joint_names)))


class FaultWatch:
    """An event sink that ends the battery on the first latched fault (E-STOP included)."""

    def __init__(self, battery: AssessmentBattery) -> None:
        self.battery = battery

    def __call__(self, event: SafetyEvent) -> None:
        """Abort the battery if ``event`` is a fault (on the loop's thread: never blocks)."""
        if event.kind.startswith("fault:") and self.battery.aborted_ is None:
            where = f" ({event.joint})" if event.joint else ""
            self.battery.abort(f"{event.kind.removeprefix('fault:')}{where} at "
                               f"{event.t_s:.3f} s")


class ShiftedSink:
    """Pushes samples to ``sink`` with their tick numbers moved on by ``offset``: a loop run
    after another on the same recording continues its ticks."""

    def __init__(self, sink: SampleSink, offset: int) -> None:
        self.sink = sink
        self.offset = offset
        self._shifted = Sample.zeros(0)  # repointed at every push

    @property
    def error(self) -> BaseException | None:
        """The wrapped sink's error, if it can fail."""
        return getattr(self.sink, "error", None)

    def push(self, sample: Sample) -> None:
        """Push one sample, its tick shifted (the loop's own sample is left as it is)."""
        self.sink.push(sample.shifted(self.offset, self._shifted))
