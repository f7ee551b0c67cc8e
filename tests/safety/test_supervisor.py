"""The minimal supervisor: hard limits, stale feedback, latching and torque limiting."""

from __future__ import annotations

import numpy as np
import pytest

from rehabbot.hal.types import JointCommand, JointState
from rehabbot.safety.limits import JointLimits
from rehabbot.safety.supervisor import FaultKind, Supervisor

NAMES = ("hip_flexion_r", "knee_angle_r")
LIMITS = JointLimits(
    position_min_rad=np.array([-0.5, 0.0]),
    position_max_rad=np.array([1.0, 1.7]),
    velocity_max_rad_s=np.array([5.0, 8.0]),
    torque_max_nm=np.array([50.0, 40.0]),
)


def supervisor() -> Supervisor:
    return Supervisor(NAMES, LIMITS, stale_after_ticks=3)


def command(tau_ff: float = 0.0) -> JointCommand:
    return JointCommand(
        q_ref=np.array([0.5, 0.5]), qd_ref=np.zeros(2), kp=np.array([100.0, 100.0]),
        kd=np.array([1.0, 1.0]), tau_ff=np.full(2, tau_ff),
    )


def is_torque_off(cmd: JointCommand) -> bool:
    return not (cmd.kp.any() or cmd.kd.any() or cmd.tau_ff.any())


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
    assert [f.kind for f in sup.reset()] == [FaultKind.STALE_FEEDBACK]
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
