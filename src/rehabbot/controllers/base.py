"""What every controller is: ``update(state) -> command``, with introspectable, bounded parameters.

Following scikit-learn, a constructor only stores parameters, state derived at run time ends with
``_``, and :meth:`Controller.get_params` / :meth:`Controller.set_params` expose the parameters
(with units and bounds in :attr:`Controller.param_specs`) to the console and the sweep tool. The
loop calls :meth:`Controller.set_params` only at a tick boundary.

A controller a protocol can name is built by its class method :meth:`Controller.build` from a
:class:`Setup` (the robot's joints, the plant model and the protocol's settings) and registered
by name in :mod:`~rehabbot.controllers.registry`; its :attr:`Controller.param_specs` are the only
place its parameters' units and ranges live: the protocol schema, the factory and the console
all check a value with :meth:`ParamSpec.check`.

Bumpless changes: a parameter whose spec has a ``rate_per_s`` does not jump to a new value. The
attribute holds the value set (what :meth:`Controller.get_params` reports); the control law uses
:meth:`Controller.ramped`, which follows the set value at no more than ``rate_per_s`` units per
second of loop time, so a change never steps the torque.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rehabbot.controllers.phase_sources import HipPhase
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray, JointCommand, JointState

if TYPE_CHECKING:
    from typing import Self

    from rehabbot.controllers.compensation import Compensation
    from rehabbot.safety.range_margin import RangeMargin


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """A live-adjustable scalar parameter: its unit, allowed range (inclusive) and ramp rate.

    Attributes:
        unit: the unit of the value (``"%"``, ``"rad"``, ``"N·m"``, ...).
        low: smallest allowed value.
        high: largest allowed value.
        description: what it does, for a console's tooltip.
        rate_per_s: largest change per second (unit/s) the control law follows while running;
            ``None`` applies a change at once.

    >>> ParamSpec("%", 0.0, 100.0, "guidance", rate_per_s=20.0).rate_per_s
    20.0
    """

    unit: str
    low: float
    high: float
    description: str = ""
    rate_per_s: float | None = None

    def check(self, name: str, value: float) -> float:
        """``value`` if it lies in ``[low, high]``: the one range check of a parameter.

        Raises:
            ConfigurationError: not finite or out of range (the message names the parameter,
                its unit and its range).

        >>> ParamSpec("%", 0.0, 100.0).check("guidance_pct", 120.0)
        Traceback (most recent call last):
        ...
        rehabbot.errors.ConfigurationError: guidance_pct = 120 % is out of range [0, 100] %
        """
        if not (math.isfinite(value) and self.low <= value <= self.high):
            raise ConfigurationError(f"{name} = {value:g} {self.unit} is out of range "
                                     f"[{self.low:g}, {self.high:g}] {self.unit}")
        return value


#: A guidance level (%): share of a guiding controller's full stiffness and damping.
GUIDANCE = ParamSpec("%", 0.0, 100.0, "share of full stiffness and damping", rate_per_s=25.0)


@dataclass(frozen=True, slots=True)
class Setup:
    """What a protocol controller is built from (:meth:`Controller.build`).

    Attributes:
        joint_names: the robot's joints in array order.
        stiffness_nm_per_rad: full-guidance stiffness per joint (N·m/rad).
        damping_nms_per_rad: full-guidance damping per joint (N·m·s/rad).
        cadence_steps_per_min: cadence of the reference (steps/min); with an estimator as phase
            source, its initial guess.
        phase_source: name of the phase source (:mod:`~rehabbot.controllers.phase_sources`).
        period_s: control period (s).
        compensation: the patient's and orthosis's gravity and friction model.
        range_margin: the margins to the protocol's range of motion.
    """

    joint_names: tuple[str, ...]
    stiffness_nm_per_rad: FloatArray
    damping_nms_per_rad: FloatArray
    cadence_steps_per_min: float
    phase_source: str
    period_s: float
    compensation: Compensation
    range_margin: RangeMargin


class Controller(ABC):
    """A joint-space controller driven once per tick by the control loop."""

    param_specs: ClassVar[dict[str, ParamSpec]] = {}
    #: The parameter (a key of :attr:`param_specs`) a protocol's ``guidance_pct`` sets, for a
    #: controller with a guidance level; None for one without.
    guidance_param: ClassVar[str | None] = None

    @classmethod
    def build(cls, setup: Setup) -> Self:
        """The controller a protocol names, built from ``setup`` with its parameters at their
        defaults (the factory then sets the protocol's through :meth:`set_params`).

        Raises:
            ConfigurationError: this controller is not one a protocol can name (it has no
                ``build``), or ``setup`` does not suit it.
        """
        raise ConfigurationError(f"{cls.__name__} cannot be built from a protocol: it defines "
                                 "no build(setup) class method")

    #: Gait phase of the right leg (cycles, 0..1) at the last update; NaN if there is none.
    phase_: float = float("nan")
    #: Where the gait phase comes from (None: the controller follows no gait phase).
    phase_source_: HipPhase | None = None
    #: Why the controller asks for the session to end with a controlled (category-1) stop, or
    #: None: a mode that finds the patient cannot be trained safely in it says so here, and the
    #: session stops the way a therapist's stop does (a fade), with this reason in its record.
    stop_reason_: str | None = None

    def __init__(self) -> None:
        """Start with no ramp under way; subclasses call this first."""
        #: Values of the ramped parameters the control law uses now, by name.
        self.ramped_: dict[str, float] = {}
        self._ramp_t_s: float | None = None
        #: The ramped parameters of :attr:`param_specs` and their rates (per second), looked up
        #: again only when the specs are replaced (a phased controller's change with its phase).
        self._rates: list[tuple[str, float]] = []
        self._rates_of: dict[str, ParamSpec] | None = None

    def get_params(self) -> dict[str, float]:
        """The current value of every parameter in :attr:`param_specs`."""
        return {name: float(getattr(self, name)) for name in self.param_specs}

    def set_params(self, **params: float) -> None:
        """Change parameters; every value is checked against its spec before any is applied.

        Raises:
            ConfigurationError: unknown name or value out of range (nothing is changed then).
        """
        for name, value in params.items():
            spec = self.param_specs.get(name)
            if spec is None:
                known = ", ".join(sorted(self.param_specs))
                raise ConfigurationError(
                    f"{type(self).__name__} has no parameter {name!r}; known: {known}"
                )
            spec.check(name, value)
        for name, value in params.items():
            setattr(self, name, float(value))

    def ramped(self, name: str) -> float:
        """The value of parameter ``name`` the control law uses now (see the module docstring)."""
        value = self.ramped_.get(name)
        return float(getattr(self, name)) if value is None else value

    def advance_ramps(self, t_s: float) -> None:
        """Move each ramped parameter toward its set value, as far as its rate allows since the
        previous call (``t_s``: loop time, s). Call it once at the start of :meth:`update`."""
        dt = 0.0 if self._ramp_t_s is None else max(t_s - self._ramp_t_s, 0.0)
        self._ramp_t_s = t_s
        if self._rates_of is not self.param_specs:
            self._rates_of = self.param_specs
            self._rates = [(name, spec.rate_per_s) for name, spec in self.param_specs.items()
                           if spec.rate_per_s is not None]
        ramped = self.ramped_
        for name, rate in self._rates:
            target = float(getattr(self, name))
            now, step = ramped.get(name, target), rate * dt
            ramped[name] = min(max(target, now - step), now + step)

    def reset(self, state: JointState) -> None:
        """Prepare for a run starting from ``state``: ramped parameters take their set values
        and the phase source (if any) starts over.

        Subclasses that keep run-time state extend this.
        """
        self.ramped_.clear()
        self._ramp_t_s = None
        self.stop_reason_ = None
        if self.phase_source_ is not None:
            self.phase_source_.estimator.reset()

    def resume(self, state: JointState, phase: float) -> None:
        """Like :meth:`reset`, but with the gait phase going on from the right leg's ``phase``
        (cycles) instead of starting over: after a supervisor reset or a change of controller
        mid-session the reference takes up where the legs were being led, with no jump. A
        controller without a phase source just resets."""
        self.reset(state)
        if self.phase_source_ is not None:
            self.phase_source_.restart(phase)

    @abstractmethod
    def update(self, state: JointState) -> JointCommand:
        """The command for this tick, from the state read at this tick (``state.t_s`` is now)."""
