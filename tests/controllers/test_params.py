"""Every controller exposes bounded parameters with units, changeable at a tick boundary."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from rehabbot.controllers.assist_as_needed import AssistAsNeededController
from rehabbot.controllers.base import Controller
from rehabbot.controllers.compensation import Compensation, JointFriction
from rehabbot.controllers.impedance import ImpedanceController
from rehabbot.controllers.path_control import PathController
from rehabbot.controllers.sysid import ChirpExcitation, StepExcitation
from rehabbot.controllers.transparent import TransparentController
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointState

NAMES = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
K = np.array([800.0, 600.0, 800.0, 600.0])
D = np.array([20.0, 10.0, 20.0, 10.0])
FRICTION = Compensation(friction=JointFriction(np.ones(4), np.ones(4)))

CONTROLLERS: dict[str, Callable[[], Controller]] = {
    "impedance": lambda: ImpedanceController(NAMES, K, D),
    "assist_as_needed": lambda: AssistAsNeededController(NAMES, K, D),
    "transparent": lambda: TransparentController(NAMES, FRICTION),
    "path": lambda: PathController(NAMES),
    "chirp": lambda: ChirpExcitation(NAMES, "knee_angle_r", "torque", 5.0),
    "step": lambda: StepExcitation(NAMES, "hip_flexion_r", "position", 0.1),
}


@pytest.fixture(params=sorted(CONTROLLERS))
def controller(request: pytest.FixtureRequest) -> Controller:
    return CONTROLLERS[request.param]()


def test_every_parameter_has_a_unit_and_bounds_and_starts_within_them(
    controller: Controller,
) -> None:
    params = controller.get_params()
    assert params and set(params) == set(controller.param_specs)
    for name, value in params.items():
        spec = controller.param_specs[name]
        assert spec.unit and spec.description
        assert spec.low <= value <= spec.high, name


def test_every_parameter_can_be_set_within_its_bounds_and_not_beyond(
    controller: Controller,
) -> None:
    for name, spec in controller.param_specs.items():
        before = controller.get_params()
        with pytest.raises(ConfigurationError, match=name):
            controller.set_params(**{name: spec.high + 1.0})
        assert controller.get_params() == before
        value = spec.high if name != "min_guidance_pct" else spec.low
        controller.set_params(**{name: value})
        assert controller.get_params()[name] == value


def test_parameters_change_at_a_tick_boundary_while_running(controller: Controller) -> None:
    state = JointState.zeros(4, 0.0)
    state.q[:] = [0.3, 0.2, -0.1, 0.4]
    controller.reset(state)
    controller.update(state)
    name, spec = next(iter(controller.param_specs.items()))
    controller.set_params(**{name: spec.low})
    state.t_s = 0.001
    command = controller.update(state)
    assert np.isfinite(command.expected_torque(state.q, state.qd)).all()
    assert controller.get_params()[name] == spec.low


def test_a_ramped_parameter_moves_no_faster_than_its_rate() -> None:
    ctrl = ImpedanceController(NAMES, K, D, guidance_pct=0.0)
    ctrl.update(JointState.zeros(4, 0.0))
    ctrl.set_params(guidance_pct=100.0)
    ctrl.advance_ramps(0.5)
    assert ctrl.ramped("guidance_pct") == pytest.approx(12.5)  # 25 %/s
    ctrl.reset(JointState.zeros(4, 0.5))
    assert ctrl.ramped("guidance_pct") == 100.0
