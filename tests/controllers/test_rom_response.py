"""Guidance floors per joint and the cooperative modes' response to the range-of-motion margin."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.leg_mechanics import LegGravity, LegSegments
from rehabbot.body.orthosis import ExoSegments
from rehabbot.controllers.assist_as_needed import AssistAsNeededController
from rehabbot.controllers.compensation import Compensation
from rehabbot.controllers.impedance import ImpedanceController
from rehabbot.controllers.path_control import PathController
from rehabbot.controllers.transparent import TransparentController
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointState
from rehabbot.safety.range_margin import RangeMargin

NAMES = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")
K = np.array([800.0, 600.0, 800.0, 600.0])
D = np.array([20.0, 10.0, 20.0, 10.0])
#: The bundled protocols' range of motion: hips -25..50 deg, knees 0..75 deg.
ROM = {name: (math.radians(-25.0), math.radians(50.0)) if name.startswith("hip")
       else (0.0, math.radians(75.0)) for name in NAMES}
HIP_L = NAMES.index("hip_flexion_l")


def margin() -> RangeMargin:
    return RangeMargin.from_rom(NAMES, ROM)


def state_at(q: np.ndarray, t_s: float = 0.0) -> JointState:
    state = JointState.zeros(len(NAMES), t_s)
    state.q[:] = q
    return state


def test_the_guidance_floor_of_a_joint_holds_whatever_the_guidance_level() -> None:
    ctrl = ImpedanceController(NAMES, K, D, guidance_pct=0.0)
    ctrl.set_params(floor_hip_flexion_l_pct=40.0)
    command = ctrl.update(state_at(np.zeros(4)))
    np.testing.assert_allclose(command.kp, [0.0, 0.0, 0.4 * 800.0, 0.0])
    with pytest.raises(ConfigurationError, match=r"floor_knee_angle_r_pct = 120"):
        ctrl.set_params(floor_knee_angle_r_pct=120.0)


def test_a_floor_changed_while_running_ramps_without_a_torque_step() -> None:
    ctrl = ImpedanceController(NAMES, K, D, guidance_pct=0.0)
    ctrl.reset(state_at(np.zeros(4)))
    ctrl.update(state_at(np.zeros(4), 0.0))
    ctrl.set_params(floor_hip_flexion_l_pct=50.0)
    kp = ctrl.update(state_at(np.zeros(4), 0.4)).kp[HIP_L]
    assert kp == pytest.approx(0.10 * 800.0)  # 25 %/s for 0.4 s
    assert ctrl.get_params()["floor_hip_flexion_l_pct"] == 50.0


def test_assist_as_needed_never_learns_below_a_joints_floor() -> None:
    ctrl = AssistAsNeededController(NAMES, K, D, forgetting=0.5, error_gain_pct_per_rad=0.0,
                                    cadence_steps_per_min=60.0, rate_pct_per_s=1000.0)
    ctrl.set_params(floor_hip_flexion_l_pct=30.0)
    ctrl.reset(state_at(np.zeros(4)))
    for k in range(10 * 200 + 1):  # ten 2 s strides, the joints exactly on the reference
        t = k * 0.01
        q_ref = ctrl.reference((t / 2.0) % 1.0)[0]
        command = ctrl.update(state_at(q_ref, t))
    assert ctrl.table_pct_[HIP_L].min() == pytest.approx(30.0)
    assert ctrl.table_pct_[0].max() < 1.0  # no floor: forgotten to almost nothing
    assert command.kp[HIP_L] == pytest.approx(0.3 * 800.0)


def test_guidance_rises_to_full_as_a_joint_reaches_a_range_limit() -> None:
    ctrl = ImpedanceController(NAMES, K, D, guidance_pct=20.0, range_margin=margin())
    band = ctrl.rom_response_.band_low_rad[HIP_L]
    q = np.array([0.1, 0.3, 0.1, 0.3])
    assert ctrl.update(state_at(q)).kp[HIP_L] == pytest.approx(0.2 * 800.0)
    q[HIP_L] = ROM["hip_flexion_l"][0] + 0.25 * band  # three quarters into the band
    assert ctrl.update(state_at(q)).kp[HIP_L] == pytest.approx(0.75 * 800.0)
    q[HIP_L] = ROM["hip_flexion_l"][0] - 0.01  # past the limit
    assert ctrl.update(state_at(q)).kp[HIP_L] == pytest.approx(800.0)


def test_the_normative_gait_gets_no_response() -> None:
    ctrl = ImpedanceController(NAMES, K, D, guidance_pct=0.0, range_margin=margin())
    for phase in np.linspace(0.0, 1.0, 50, endpoint=False):
        ctrl.update(state_at(ctrl.reference(phase)[0]))
        assert not ctrl.rom_response_.closeness_.any()


def test_assist_as_needed_keeps_the_guidance_that_kept_a_joint_off_its_limit() -> None:
    ctrl = AssistAsNeededController(NAMES, K, D, forgetting=0.5, error_gain_pct_per_rad=0.0,
                                    max_guidance_pct=70.0, cadence_steps_per_min=60.0,
                                    rate_pct_per_s=1000.0, range_margin=margin())
    ctrl.reset(state_at(np.zeros(4)))
    limit = ROM["hip_flexion_l"][0]
    for k in range(10 * 200 + 1):  # ten strides; the left hip nears its limit in bin 10
        t = k * 0.01
        phase = (t / 2.0) % 1.0
        q = ctrl.reference(phase)[0]
        if 0.5 <= phase < 0.55:
            q[HIP_L] = limit + 0.001
        ctrl.update(state_at(q, t))
    safe = ctrl.table_pct_[HIP_L]
    assert safe[8:11].min() == pytest.approx(70.0)  # the bin and the two leading to it
    assert safe[:7].max() < 1.0 and safe[12:].max() < 1.0  # elsewhere: forgotten
    assert ctrl.table_pct_[0].max() < 1.0  # the other joints learned as usual


def leg_state(ctrl: PathController, leg_phase: float, hip_offset: float = 0.0) -> JointState:
    """Both legs on the path at right-leg phase ``leg_phase``, the right hip moved by
    ``hip_offset`` (rad)."""
    q = ctrl.reference_at(leg_phase).copy()
    q[0] += hip_offset
    return state_at(q)


def test_path_controls_trailing_edge_pulls_a_leg_that_falls_behind() -> None:
    ctrl = PathController(NAMES, tunnel_width_rad=0.1, wall_stiffness_nm_per_rad=400.0,
                          wall_damping_nms_per_rad=0.0, window_cycles=0.05)
    ctrl.reset(state_at(np.zeros(4)))
    ctrl.update(state_at(np.zeros(4), 0.0))
    t_s = 0.3 / 0.75  # the clock's window is centred on phase 0.3 (90 steps/min)

    def at(phase: float) -> JointState:
        state = leg_state(ctrl, phase)
        state.t_s = t_s
        return state

    assert np.allclose(ctrl.update(at(0.28)).tau_ff, 0.0)  # inside the window: free
    behind = ctrl.update(at(0.15)).tau_ff  # 0.1 of a stride behind its trailing edge
    _, _, tangent = ctrl.closest_point(ctrl.paths_[0], ctrl.reference_at(0.15)[:2], 0.3, 0.05)
    along = float(behind[:2] @ tangent)
    assert along > 10.0  # pulled forward along the path
    assert abs(float(behind[:2] @ np.array([-tangent[1], tangent[0]]))) < 0.2 * along


def test_path_controls_tunnel_closes_in_toward_a_range_limit() -> None:
    free = PathController(NAMES, tunnel_width_rad=0.05, wall_damping_nms_per_rad=0.0,
                          window_cycles=0.5)
    guarded = PathController(NAMES, tunnel_width_rad=0.05, wall_damping_nms_per_rad=0.0,
                             window_cycles=0.5, range_margin=margin())
    phase = 0.52  # the right hip's most extended point of the path
    for ctrl in (free, guarded):
        ctrl.reset(state_at(np.zeros(4)))
    state = leg_state(free, phase, hip_offset=-0.09)  # toward the extension limit
    free_push = free.update(state).tau_ff[0]
    guarded_push = guarded.update(state).tau_ff[0]
    assert free_push > 0.0  # both push the hip back toward the path ...
    assert guarded_push > 2.5 * free_push  # ... the guarded one, nearing the limit, far more


def test_transparent_mode_catches_and_stops_a_leg_carried_toward_a_limit() -> None:
    names = NAMES
    body = BodyModel.from_height_mass(1.75, 75.0)
    comp = Compensation(LegGravity(names, LegSegments.from_body(body, ExoSegments())))
    ctrl = TransparentController(names, comp, phase_source="cadence", range_margin=margin())
    ctrl.reset(state_at(np.zeros(4)))
    q = np.array([0.1, 0.3, 0.1, 0.3])
    q[1] = q[3] = 0.002  # knees all but straight, as at every heel strike: normal walking
    base = TransparentController(names, comp, phase_source="cadence")
    ctrl.update(state_at(q))
    assert ctrl.stop_reason_ is None
    band = ctrl.rom_response_.band_low_rad[HIP_L]
    q[HIP_L] = ROM["hip_flexion_l"][0] + 0.4 * band  # 60 % into the hip's band
    tau = ctrl.update(state_at(q, 0.5)).tau_ff
    expected = base.update(state_at(q, 0.5)).tau_ff[HIP_L] + 1000.0 * 0.6 * band
    assert tau[HIP_L] == pytest.approx(expected)  # the catching spring flexes the hip
    assert ctrl.stop_reason_ is not None and "hip_flexion_l" in ctrl.stop_reason_
