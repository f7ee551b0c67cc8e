"""The supervisor's core: hard limits, stale feedback, drive faults, latching, torque limiting."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from rehabbot.errors import ConfigurationError
from rehabbot.hal.config import RobotConfig
from rehabbot.hal.types import JointState
from rehabbot.safety import FaultKind, Supervisor
from tests.safety.conftest import LIMITS, NAMES, command, is_torque_off


def supervisor() -> Supervisor:
    return Supervisor(NAMES, LIMITS, stale_after_ticks=3)


def test_nominal_state_passes_and_command_is_unchanged() -> None:
    sup = supervisor()
    state = JointState.zeros(2)
    state.q[:] = [0.4, 0.6]
    assert sup.check(state) == []
    limited = sup.limit(command(), state)
    np.testing.assert_allclose(limited.expected_torque(state.q, state.qd),
                               command().expected_torque(state.q, state.qd))


def test_stale_feedback_latches_torque_off_on_the_same_tick() -> None:
    sup = supervisor()
    state = JointState.zeros(2)
    state.q[:] = [0.4, 0.6]
    state.age_ticks[:] = [3, 0]
    assert sup.check(state) == []  # 3 ticks is still acceptable
    state.age_ticks[:] = [4, 0]
    faults = sup.check(state)
    assert [(f.kind, f.joint) for f in faults] == [(FaultKind.STALE_FEEDBACK, "hip_flexion_r")]
    assert is_torque_off(sup.limit(command(), state))
    state.age_ticks[:] = [0, 0]  # feedback is back: the fault stays latched
    assert sup.check(state) == []
    assert is_torque_off(sup.limit(command(), state))
    assert [f.kind for f in sup.reset().cleared] == [FaultKind.STALE_FEEDBACK]
    assert not is_torque_off(sup.limit(command(), state))


@pytest.mark.parametrize(
    ("q", "qd", "kind", "joint"),
    [
        ([1.2, 0.5], [0.0, 0.0], FaultKind.POSITION_LIMIT, "hip_flexion_r"),
        ([0.4, -0.1], [0.0, 0.0], FaultKind.POSITION_LIMIT, "knee_angle_r"),
        ([0.4, 0.5], [0.0, -9.0], FaultKind.VELOCITY_LIMIT, "knee_angle_r"),
    ],
)
def test_hard_limit_violations_latch_a_fault(
    q: list[float], qd: list[float], kind: FaultKind, joint: str
) -> None:
    sup = supervisor()
    state = JointState.zeros(2)
    state.q[:] = q
    state.qd[:] = qd
    faults = sup.check(state)
    assert [(f.kind, f.joint) for f in faults] == [(kind, joint)]
    assert sup.check(state) == []  # latched once, not repeated every tick
    assert is_torque_off(sup.limit(command(), state))


def test_drive_fault_code_latches_a_fault() -> None:
    sup = supervisor()
    state = JointState.zeros(2)
    state.q[:] = [0.4, 0.6]
    state.fault_code[:] = [0, 1]
    faults = sup.check(state)
    assert [(f.kind, f.joint, f.value) for f in faults] == [
        (FaultKind.DRIVE_FAULT, "knee_angle_r", 1.0)
    ]


def test_commanded_torque_is_kept_within_the_torque_limit() -> None:
    sup = supervisor()
    state = JointState.zeros(2)
    state.q[:] = [-0.4, 0.05]
    limited = sup.limit(command(tau_ff=30.0), state)
    tau = limited.expected_torque(state.q, state.qd)
    np.testing.assert_allclose(tau, [50.0, 40.0])
    limited = sup.limit(command(tau_ff=-200.0), state)
    np.testing.assert_allclose(limited.expected_torque(state.q, state.qd), [-50.0, -40.0])


def test_references_are_clamped_into_the_position_limits() -> None:
    sup = supervisor()
    state = JointState.zeros(2)
    state.q[:] = [0.4, 0.6]
    cmd = command()
    cmd.q_ref[:] = [3.0, -1.0]
    limited = sup.limit(cmd, state)
    np.testing.assert_allclose(limited.q_ref, [1.0, 0.0])
    assert cmd.q_ref.tolist() == [3.0, -1.0]  # the controller's command is not modified


def test_from_config_takes_the_robot_s_limits_timing_and_motor_ratings(
    sim_exo: RobotConfig,
) -> None:
    sup = Supervisor.from_config(sim_exo)
    assert sup.period_s == sim_exo.period_s and sup.stale_after_ticks == 3
    assert sup.limits.torque_max_nm.tolist() == [120.0] * 4
    assert sup.actuators is not None
    # AK10-9: 18 N·m continuous behind the belt
    assert [a.continuous_torque_nm for a in sup.actuators] == [
        18.0 * j.gear_ratio for j in sim_exo.joints]


def test_a_motor_without_a_rating_is_named_with_the_known_ones(sim_exo: RobotConfig) -> None:
    joints = [j.model_copy(update={"motor": "EC90-flat"}) for j in sim_exo.joints]
    config = sim_exo.model_copy(update={"joints": joints})
    with pytest.raises(ConfigurationError, match=r"EC90-flat.*AK10-9"):
        Supervisor.from_config(config)


def test_the_safety_package_needs_only_numpy() -> None:
    code = (
        "import sys, rehabbot.safety\n"
        "print(sorted({'pydantic', 'can', 'pybullet'} & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"
