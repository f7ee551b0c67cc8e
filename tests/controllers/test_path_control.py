"""Path control: no force inside the tunnel, a spring-damper wall outside, a flow along it."""

from __future__ import annotations

import numpy as np
import pytest

from rehabbot.controllers.path_control import DAMPING_RAMP_RAD, PathController, tunnel_torque
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointState

NAMES = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
TANGENT = np.array([0.6, 0.8])


@pytest.mark.parametrize("offset", [[0.0, 0.0], [0.05, 0.0], [-0.06, 0.08], [0.0, 0.1]])
def test_no_torque_inside_the_tunnel(offset: list[float]) -> None:
    tau = tunnel_torque(np.array(offset), np.array([3.0, -2.0]), TANGENT, width=0.1,
                        stiffness=500.0, damping=20.0, flow=0.0)
    np.testing.assert_array_equal(tau, 0.0)


@pytest.mark.parametrize("distance", [0.11, 0.2, 0.5])
def test_outside_the_wall_pushes_back_with_k_times_the_depth(distance: float) -> None:
    direction = np.array([-0.8, 0.6])
    tau = tunnel_torque(distance * direction, np.zeros(2), TANGENT, width=0.1, stiffness=500.0,
                        damping=20.0, flow=0.0)
    np.testing.assert_allclose(tau, -500.0 * (distance - 0.1) * direction)


def test_wall_damping_acts_on_the_normal_velocity_and_fades_in() -> None:
    normal = np.array([1.0, 0.0])
    velocity = np.array([2.0, 5.0])  # 2 rad/s outward, 5 rad/s along the wall
    deep = tunnel_torque(0.3 * normal, velocity, TANGENT, width=0.1, stiffness=0.0, damping=10.0,
                         flow=0.0)
    np.testing.assert_allclose(deep, [-20.0, 0.0])
    shallow = tunnel_torque((0.1 + DAMPING_RAMP_RAD / 4) * normal, velocity, TANGENT, width=0.1,
                            stiffness=0.0, damping=10.0, flow=0.0)
    np.testing.assert_allclose(shallow, [-5.0, 0.0])


def test_flow_pushes_along_the_path_everywhere() -> None:
    for offset in ([0.0, 0.0], [0.3, 0.0]):
        tau = tunnel_torque(np.array(offset), np.zeros(2), TANGENT, width=0.1, stiffness=0.0,
                            damping=0.0, flow=4.0)
        np.testing.assert_allclose(tau, 4.0 * TANGENT)


def on_path(ctrl: PathController, phase: float, t_s: float, shift: np.ndarray) -> JointState:
    state = JointState.zeros(4, t_s)
    state.q[:] = ctrl.reference_at(phase) + shift
    return state


def test_a_leg_on_the_path_feels_nothing_and_its_phase_is_the_point_s_phase() -> None:
    ctrl = PathController(NAMES, tunnel_width_rad=0.05, cadence_steps_per_min=90.0)
    ctrl.update(on_path(ctrl, 0.0, 0.0, np.zeros(4)))
    # 0.2 s later the window is centred at phase 0.15; the patient is a little behind, at 0.1.
    command = ctrl.update(on_path(ctrl, 0.1, 0.2, np.zeros(4)))
    np.testing.assert_allclose(command.tau_ff, 0.0, atol=1e-9)
    np.testing.assert_array_equal(command.kp, 0.0)
    assert ctrl.phase_ == pytest.approx(0.1, abs=1e-3)
    assert ctrl.leg_phases_[1] == pytest.approx(0.1, abs=1e-3)  # the left leg, same phase


def test_a_leg_off_the_path_is_pushed_back_toward_it() -> None:
    ctrl = PathController(NAMES, tunnel_width_rad=0.05, wall_stiffness_nm_per_rad=300.0,
                          wall_damping_nms_per_rad=0.0)
    shift = np.array([0.0, 0.25, 0.0, 0.0])  # right knee 0.25 rad more flexed than the path
    ctrl.update(on_path(ctrl, 0.0, 0.0, np.zeros(4)))
    command = ctrl.update(on_path(ctrl, 0.3, 0.4, shift))  # the window is centred at 0.3
    point = command.q_ref[[0, 1]]
    offset = ctrl.reference_at(0.3)[[0, 1]] + shift[[0, 1]] - point
    distance = float(np.hypot(*offset))
    assert 0.05 < distance <= 0.25
    np.testing.assert_allclose(command.tau_ff[[0, 1]],
                               -300.0 * (distance - 0.05) * offset / distance, rtol=1e-9)
    np.testing.assert_allclose(command.tau_ff[[2, 3]], 0.0, atol=1e-9)


def test_a_leg_behind_the_timing_window_is_pulled_along_by_its_edge() -> None:
    ctrl = PathController(NAMES, tunnel_width_rad=0.02, window_cycles=0.05,
                          cadence_steps_per_min=90.0)
    ctrl.update(on_path(ctrl, 0.0, 0.0, np.zeros(4)))
    # 0.4 s later the window is [0.25, 0.35]; the leg is still at phase 0.1 of the path.
    ctrl.update(on_path(ctrl, 0.1, 0.4, np.zeros(4)))
    assert ctrl.phase_ == pytest.approx(0.25, abs=0.01)


def test_path_control_needs_a_hip_and_a_knee_on_one_side() -> None:
    with pytest.raises(ConfigurationError, match="needs a hip and a knee"):
        PathController(("hip_flexion_r", "knee_angle_l"))
