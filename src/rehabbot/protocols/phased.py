"""A protocol's walking phases in order, inside one control loop.

:class:`PhasedController` is the controller the loop runs for a whole session. It delegates to
the controller of the current phase and moves to the next phase at a tick boundary (the start of
:meth:`PhasedController.update`) when the phase's time is up or its step target is reached.
Every change is bumpless:

* the next phase uses the same controller (kind, phase source, gains): its parameters change
  through ``set_params``, whose ramps move guidance, cadence and range of motion at bounded
  rates; the gait phase runs on;
* the next phase uses another controller: the new one starts and the two commands are
  cross-faded over :data:`CROSSFADE_S` (the torque the drives produce is the weighted sum of the
  two laws), so the torque never steps.

The treadmill's speed and body-weight support are parameters of this controller too
(``treadmill_speed_kmh``, ``body_weight_support_pct``); a :class:`Treadmill` applies them.
Live changes are kept inside the current phase's adjustable bounds: :attr:`param_specs` shows
those bounds, a checking copy (``copy.copy``, as a console tries a change first) refuses a value
outside them, and the live controller clamps to them and never raises on the loop's thread.
Every change applied is logged with its tick (:attr:`PhasedController.changes_`), and every
phase start (:attr:`PhasedController.phases_`), so that a replay can apply them again.

Steps are counted causally from foot contact by :class:`StepCounter`: a foot strike is a
contact that lasts :data:`~rehabbot.body.gait_cycle.MIN_STANCE_S` after a lift of at
least :data:`~rehabbot.body.gait_cycle.MIN_SWING_S` (bounces and scuffs are not steps,
as in the end-of-session events).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol as Interface

import numpy as np

from rehabbot.body.gait_cycle import MIN_STANCE_S, MIN_SWING_S
from rehabbot.controllers.base import Controller, ParamSpec
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointCommand, JointState
from rehabbot.protocols.schema import SESSION_PARAMETERS, Phase, controller_class

#: Length of the cross-fade between two controllers at a phase boundary (s).
CROSSFADE_S = 2.0
#: The treadmill parameters this controller carries for the :class:`Treadmill`.
TREADMILL_PARAMS = ("treadmill_speed_kmh", "body_weight_support_pct")


class Treadmill(Interface):
    """What applies a phase's treadmill speed and body-weight support (the simulator)."""

    def set_belt_speed(self, speed_mps: float) -> None:
        """Set the belt speed (m/s)."""

    def set_body_weight_support(self, fraction: float) -> None:
        """Set the unloaded share of the body weight (0..1)."""


class StepCounter:
    """Counts steps (foot strikes of either foot) from the per-tick foot contacts.

    Wraps the loop's ``contacts`` callable (called once per tick) and returns what it returns.

    >>> feet = iter([(True, True)] * 200 + [(False, True)] * 300 + [(True, True)] * 200)
    >>> counter = StepCounter(lambda: next(feet), period_s=0.001)
    >>> for _ in range(700):
    ...     _ = counter()
    >>> counter.steps
    1
    """

    def __init__(self, contacts: Callable[[], tuple[bool, bool]], period_s: float) -> None:
        self.contacts = contacts
        self._stance_ticks = max(1, math.ceil(MIN_STANCE_S / period_s - 1e-9))
        self._swing_ticks = max(1, math.ceil(MIN_SWING_S / period_s - 1e-9))
        self._on = [0, 0]
        self._off = [0, 0]
        self._armed = [False, False]  # a long enough swing since the last counted strike
        #: Steps counted so far.
        self.steps = 0

    def __call__(self) -> tuple[bool, bool]:
        """Read the contacts, count a step if one is confirmed this tick, return them."""
        feet = self.contacts()
        for side, on in enumerate(feet):
            if on:
                self._on[side] += 1
                self._off[side] = 0
                if self._armed[side] and self._on[side] >= self._stance_ticks:
                    self._armed[side] = False
                    self.steps += 1
            else:
                self._off[side] += 1
                if self._off[side] >= self._swing_ticks:
                    self._on[side] = 0
                    self._armed[side] = True
        return feet


@dataclass
class PhaseRecord:
    """When a phase ran.

    Attributes:
        index: its place among the protocol's phases (0-based).
        name: phase name.
        kind: phase kind.
        start_tick: the tick it started on.
        start_t_s: loop time it started at (s).
        start_steps: steps counted before it.
        end_tick: the first tick after it (None while it runs).
        ended_by: ``"duration"``, ``"steps"``, ``"time_limit"`` (a step target not reached in
            time) or ``"stop"`` (the session ended first).
    """

    index: int
    name: str
    kind: str
    start_tick: int
    start_t_s: float
    start_steps: int
    end_tick: int | None = None
    ended_by: str = "stop"

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON."""
        return dict(self.__dict__)


def blend(old: JointCommand, new: JointCommand, weight: float) -> JointCommand:
    """The command whose torque is ``(1 - weight) * old + weight * new`` at every state.

    >>> a = JointCommand(np.array([1.0]), np.zeros(1), np.array([10.0]), np.ones(1))
    >>> b = JointCommand(np.zeros(1), np.zeros(1), np.zeros(1), np.zeros(1), np.array([4.0]))
    >>> c = blend(a, b, 0.25)
    >>> q, qd = np.array([0.2]), np.array([0.5])
    >>> bool(np.isclose(c.expected_torque(q, qd)[0],
    ...      0.75 * a.expected_torque(q, qd)[0] + 0.25 * b.expected_torque(q, qd)[0]))
    True
    """
    keep = 1.0 - weight
    kp = keep * old.kp + weight * new.kp
    kd = keep * old.kd + weight * new.kd
    with np.errstate(invalid="ignore", divide="ignore"):
        q_ref = np.where(kp > 0.0, (keep * old.kp * old.q_ref + weight * new.kp * new.q_ref) / kp,
                         keep * old.q_ref + weight * new.q_ref)
        qd_ref = np.where(kd > 0.0,
                          (keep * old.kd * old.qd_ref + weight * new.kd * new.qd_ref) / kd,
                          keep * old.qd_ref + weight * new.qd_ref)
    return JointCommand(q_ref, qd_ref, kp, kd, keep * old.tau_ff + weight * new.tau_ff)


def _nothing(state: JointState) -> JointCommand:
    """The command that asks no torque: what a fade-in after a supervisor reset starts from."""
    zeros = np.zeros_like(state.q)
    return JointCommand(state.q.copy(), zeros, zeros, zeros, zeros)


def _controller_param(phase: Phase, name: str) -> str:
    """The controller's name for adjustable parameter ``name`` of ``phase``."""
    guidance = controller_class(phase.controller).guidance_param
    return guidance if name == "guidance_pct" and guidance is not None else name


def _same_controller(a: Phase, b: Phase, builds: type[Controller]) -> bool:
    """Whether ``b`` can run on ``a``'s controller instance through ``set_params`` alone."""
    cadence_ok = (a.cadence_steps_per_min == b.cadence_steps_per_min
                  or a.phase_source != "cadence"
                  or "cadence_steps_per_min" in builds.param_specs)
    return (a.controller == b.controller and a.phase_source == b.phase_source
            and a.stiffness_nm_per_rad == b.stiffness_nm_per_rad
            and a.damping_nms_per_rad == b.damping_nms_per_rad and cadence_ok)


def phase_params(phase: Phase, specs: dict[str, ParamSpec]) -> dict[str, float]:
    """The controller parameters ``phase`` sets on a controller with ``specs``: its controller
    parameters, its guidance and (with the cadence clock) its cadence."""
    params = dict(phase.controller_params)
    guidance = controller_class(phase.controller).guidance_param
    if guidance is not None:
        params[guidance] = phase.guidance_pct
    if "cadence_steps_per_min" in specs and phase.phase_source == "cadence":
        params["cadence_steps_per_min"] = phase.cadence_steps_per_min
    return params


def _planned_params(after: Phase, controller: Controller) -> dict[str, float]:
    """The values ``controller`` takes when phase ``after`` starts on it: all of the phase's
    planned values, so that nothing a therapist changed live in the phase before carries over
    outside the new phase's bounds."""
    return phase_params(after, controller.param_specs)


@dataclass
class _Fade:
    """A controller fading out after a phase boundary, or (None) nothing: the robot fading in
    after a supervisor reset."""

    controller: Controller | None
    start_tick: int


@dataclass
class _Log:
    changes: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    phases: list[PhaseRecord] = field(default_factory=list)


class PhasedController(Controller):
    """Runs the walking phases of a protocol in order; see the module docstring.

    Args:
        phases: the walking phases, in order.
        build: builds the controller of a phase.
        steps: the step counter the loop's ``contacts`` go through.
        period_s: control period (s).
        treadmill: applies speed and body-weight support (None: nobody does).
        on_finished: called on the loop's thread once the last phase has ended (the runner
            stops the loop); must neither block nor raise.
        ramp_in: the first command fades in from no torque over :data:`CROSSFADE_S` too (a
            session's start on a robot: the torque is ramped in).
    """

    def __init__(
        self,
        phases: Sequence[Phase],
        build: Callable[[Phase], Controller],
        steps: StepCounter,
        *,
        period_s: float,
        treadmill: Treadmill | None = None,
        on_finished: Callable[[], None] | None = None,
        ramp_in: bool = False,
    ) -> None:
        super().__init__()
        self.ramp_in = ramp_in
        if not phases:
            raise ConfigurationError("a phased session needs at least one walking phase")
        self.phases = tuple(phases)
        self.steps = steps
        self.period_s = period_s
        self.treadmill = treadmill
        self.on_finished = on_finished
        self.current_ = build(self.phases[0])
        self._prepared = self._prepare(build)
        self.index_ = 0
        self.finished_ = False
        self.treadmill_speed_kmh = self.phases[0].treadmill_speed_kmh
        self.body_weight_support_pct = self.phases[0].body_weight_support_pct
        self._show_specs()
        self._tick = 0
        self._phase_start = 0
        self._fade: _Fade | None = None
        self._checking = False
        self._log = _Log()
        self._log.phases.append(PhaseRecord(0, self.phases[0].name, self.phases[0].kind, 0,
                                            0.0, 0))

    def _prepare(self, build: Callable[[Phase], Controller]) -> list[Controller | None]:
        """Per phase, the controller it switches to (built now, not on the loop's thread), or
        None where it goes on with the previous one; every parameter change a boundary will make
        is tried on a copy now.

        Raises:
            ConfigurationError: a phase's controller or parameters are refused.
        """
        prepared: list[Controller | None] = [None]
        running = self.current_
        for before, after in zip(self.phases, self.phases[1:], strict=False):
            if _same_controller(before, after, type(running)):
                planned = _planned_params(after, running)
                running = copy.copy(running)  # the next boundary is checked from this one's
                running.set_params(**planned)
                prepared.append(None)
            else:
                running = build(after)
                prepared.append(running)
        return prepared

    # -- what a console and the sweep tool see ------------------------------------------------

    @property
    def phase(self) -> Phase:
        """The phase running now."""
        return self.phases[self.index_]

    @property
    def changes_(self) -> list[tuple[int, dict[str, float]]]:
        """Every parameter change applied: (tick it took effect on, values after clamping)."""
        return self._log.changes

    @property
    def phases_(self) -> list[PhaseRecord]:
        """The phases started so far, in order."""
        return self._log.phases

    def _specs(self) -> dict[str, ParamSpec]:
        """The parameters a therapist may change in the current phase: those of the current
        controller and the treadmill that the phase lists as adjustable, within its bounds.
        Everything else keeps the phase's planned value."""
        phase = self.phase
        bounds = {_controller_param(phase, name): b for name, b in phase.adjustable.items()}
        specs: dict[str, ParamSpec] = {}
        treadmill = {name: SESSION_PARAMETERS[name] for name in TREADMILL_PARAMS}
        for name, spec in {**self.current_.param_specs, **treadmill}.items():
            if name in bounds:
                low, high = bounds[name]
                specs[name] = ParamSpec(spec.unit, max(low, spec.low), min(high, spec.high),
                                        spec.description, spec.rate_per_s)
        return specs

    def _show_specs(self) -> None:
        """Publish the current phase's parameters as this instance's :attr:`param_specs` (an
        instance attribute here: the parameters change with the phase)."""
        self.param_specs = self._specs()  # type: ignore[misc]

    def get_params(self) -> dict[str, float]:
        """The current controller's parameters and the treadmill's."""
        return {**self.current_.get_params(),
                **{name: float(getattr(self, name)) for name in TREADMILL_PARAMS}}

    def __copy__(self) -> PhasedController:
        """A checking copy: its :meth:`set_params` raises where the live one would clamp, and
        changes nothing the live controller uses."""
        twin = object.__new__(PhasedController)
        twin.__dict__.update(self.__dict__)
        twin.current_ = copy.copy(self.current_)
        twin.treadmill = None
        twin._log = _Log()
        twin._checking = True
        return twin

    def set_params(self, **params: float) -> None:
        """Change parameters at a tick boundary.

        On the live controller a value outside the phase's adjustable bounds is clamped to them
        and a parameter the current controller does not have is ignored (the phase may have
        changed since a console checked the change); nothing raises on the loop's thread.

        Raises:
            ConfigurationError: on a checking copy (``copy.copy``), an unknown name or a value
                outside the bounds.
        """
        if self._checking:
            Controller.set_params(self, **params)
        applied: dict[str, float] = {}
        for name, value in params.items():
            spec = self.param_specs.get(name)
            if spec is None or not math.isfinite(value):
                continue
            applied[name] = min(max(float(value), spec.low), spec.high)
        if not applied:
            return
        if not self._checking:
            try:  # a cross-check of the controller (e.g. a floor above the ceiling)
                copy.copy(self.current_).set_params(
                    **{k: v for k, v in applied.items() if k not in TREADMILL_PARAMS})
            except ConfigurationError:
                return  # refused as a whole, as a console's trial on a copy would have been
        self._apply(applied)
        self._log.changes.append((self._tick, applied))

    def _apply(self, params: dict[str, float]) -> None:
        own = {k: v for k, v in params.items() if k not in TREADMILL_PARAMS}
        if own:
            self.current_.set_params(**own)
        for name in TREADMILL_PARAMS:
            if name in params:
                setattr(self, name, params[name])
        if self.treadmill is not None:
            if "treadmill_speed_kmh" in params:
                self.treadmill.set_belt_speed(self.treadmill_speed_kmh / 3.6)
            if "body_weight_support_pct" in params:
                self.treadmill.set_body_weight_support(self.body_weight_support_pct / 100.0)

    # -- the loop's side -----------------------------------------------------------------------

    def reset(self, state: JointState) -> None:
        """Start the current phase's controller; after a supervisor reset mid-session, resume
        it: the gait phase goes on from where it was and its command fades in from nothing over
        :data:`CROSSFADE_S`, so that the torque does not step when the robot takes over again."""
        super().reset(state)
        self._fade = None
        if self._tick == 0:
            self.current_.reset(state)
            if self.ramp_in:
                self._fade = _Fade(None, 0)
            return
        self.current_.resume(state, self.phase_)
        self._fade = _Fade(None, self._tick)

    def _phase_over(self) -> str | None:
        """Why the current phase ends at this tick (None: it goes on)."""
        phase, ran = self.phase, self._tick - self._phase_start
        record = self._log.phases[-1]
        if phase.steps is not None and self.steps.steps - record.start_steps >= phase.steps:
            return "steps"
        if ran >= round(phase.time_limit_s / self.period_s):
            return "duration" if phase.steps is None else "time_limit"
        return None

    def _next_phase(self, state: JointState, ended_by: str) -> None:
        record = self._log.phases[-1]
        record.end_tick, record.ended_by = self._tick, ended_by
        if self.index_ + 1 == len(self.phases):
            self.finished_ = True
            if self.on_finished is not None:
                self.on_finished()
            return
        self.index_ += 1
        after = self.phase
        self._phase_start = self._tick
        self._log.phases.append(PhaseRecord(self.index_, after.name, after.kind, self._tick,
                                            state.t_s, self.steps.steps))
        following = self._prepared[self.index_]
        if following is None:
            # tried in _prepare: does not raise
            self.current_.set_params(**_planned_params(after, self.current_))
        else:
            self._fade = _Fade(self.current_, self._tick)
            self.current_ = following
            self.current_.resume(state, self.phase_)  # the gait phase goes on, no jump
        self._show_specs()
        self._apply({"treadmill_speed_kmh": after.treadmill_speed_kmh,
                     "body_weight_support_pct": after.body_weight_support_pct})

    def update(self, state: JointState) -> JointCommand:
        """The command of this tick: the phase's controller's, cross-faded after a change of
        controller."""
        if self._tick == 0:
            self._log.phases[0].start_t_s = state.t_s
        if not self.finished_:
            ended_by = self._phase_over()
            if ended_by is not None:
                self._next_phase(state, ended_by)
        command = self.current_.update(state)
        self.phase_ = self.current_.phase_
        fade = self._fade
        if fade is not None:
            weight = (self._tick - fade.start_tick) / (CROSSFADE_S / self.period_s)
            if weight >= 1.0:
                self._fade = None
            else:
                old = (fade.controller.update(state) if fade.controller is not None
                       else _nothing(state))
                command = blend(old, command, weight)
        self._tick += 1
        if not self.finished_ and self.index_ + 1 == len(self.phases):
            ended_by = self._phase_over()  # the last phase ends with its last tick
            if ended_by is not None:
                self._next_phase(state, ended_by)
        return command
