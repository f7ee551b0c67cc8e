"""What every controller is: ``update(state) -> command``, with introspectable, bounded parameters.

Following scikit-learn, a constructor only stores parameters, state derived at run time ends with
``_``, and :meth:`Controller.get_params` / :meth:`Controller.set_params` expose the parameters
(with units and bounds in :attr:`Controller.param_specs`) to the console and the sweep tool. The
loop calls :meth:`Controller.set_params` only at a tick boundary.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointCommand, JointState


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """A live-adjustable scalar parameter: its unit and allowed range (inclusive)."""

    unit: str
    low: float
    high: float
    description: str = ""


class Controller(ABC):
    """A joint-space controller driven once per tick by the control loop."""

    param_specs: ClassVar[dict[str, ParamSpec]] = {}

    #: Gait phase of the right leg (cycles, 0..1) at the last update; NaN if there is none.
    phase_: float = float("nan")

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
            if not spec.low <= value <= spec.high:
                raise ConfigurationError(
                    f"{name} = {value:g} {spec.unit} is out of range "
                    f"[{spec.low:g}, {spec.high:g}] {spec.unit}"
                )
        for name, value in params.items():
            setattr(self, name, float(value))

    def reset(self, state: JointState) -> None:  # noqa: B027 - optional hook
        """Prepare for a run starting from ``state`` (default: nothing to prepare)."""

    @abstractmethod
    def update(self, state: JointState) -> JointCommand:
        """The command for this tick, from the state read at this tick (``state.t_s`` is now)."""
