"""Command limiting: soft range-of-motion zones shape continuously, hard limits always hold."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import JointCommand, JointState
from rehabbot.safety import SafetySettings, SoftLimits, StopCategory
from tests.safety.conftest import LIMITS, NAMES, make_supervisor

ROM = {"hip_flexion_r": (-0.3, 0.7), "knee_angle_r": (0.1, 1.2)}
ZONE_RAD, SPRING_NM_PER_RAD = 0.1, 200.0


def soft() -> SoftLimits:
    return SoftLimits.from_rom(NAMES, ROM, LIMITS, zone_rad=ZONE_RAD,
                               stiffness_nm_per_rad=SPRING_NM_PER_RAD)


def state_at(q: float, qd: float = 0.0) -> JointState:
    state = JointState.zeros(2)
    state.q[:] = q
    state.qd[:] = qd
    return state


def test_references_are_bent_smoothly_into_the_range_of_motion_never_beyond() -> None:
    supervisor = make_supervisor(soft_limits=soft())
    state = state_at(0.5)
    refs = np.linspace(-1.0, 2.0, 3001)
    bent, slopes = [], []
    for q_ref in refs:
        cmd = JointCommand(np.full(2, q_ref), np.ones(2), np.full(2, 50.0), np.zeros(2))
        out = supervisor.limit(cmd, state)
        bent.append(out.q_ref.copy())
        slopes.append(out.qd_ref.copy())  # the velocity reference is scaled by the slope
    bent_arr, slopes_arr = np.array(bent), np.array(slopes)
    rom_min = np.array([ROM[n][0] for n in NAMES])
    rom_max = np.array([ROM[n][1] for n in NAMES])
    assert np.all(bent_arr < rom_max) and np.all(bent_arr > rom_min)  # never reaches the limit
    step = refs[1] - refs[0]
    assert np.all(np.diff(bent_arr, axis=0) >= 0)  # monotonic
    assert np.all(np.diff(bent_arr, axis=0) <= step * (1 + 1e-9))  # slope <= 1: no jump
    inside = (refs > -0.2 + 1e-9) & (refs < 0.6 - 1e-9)  # the hip's range without its zones
    np.testing.assert_allclose(bent_arr[inside, 0], refs[inside])  # identity inside
    np.testing.assert_allclose(slopes_arr[inside, 0], 1.0)
    within_hard = (refs > -0.5 + step) & (refs < 1.0 - step)
    np.testing.assert_allclose(np.gradient(bent_arr[within_hard, 0], step),
                               slopes_arr[within_hard, 0], atol=2e-3)


def test_the_zone_spring_pushes_back_continuously_without_a_step() -> None:
    supervisor = make_supervisor(soft_limits=soft())
    hold_still = JointCommand(np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2))
    qs = np.linspace(0.3, 0.8, 501)  # the hip through its upper zone (0.6 .. 0.7) and beyond
    torques = np.array([
        float(supervisor.limit(hold_still, state_at(q)).expected_torque(
            state_at(q).q, state_at(q).qd)[0]) for q in qs])
    assert np.all(torques[qs <= 0.6] == 0.0)
    assert np.all(np.diff(torques) <= 0)  # the deeper, the harder it pushes back
    assert np.max(np.abs(np.diff(torques))) <= SPRING_NM_PER_RAD * (qs[1] - qs[0]) * (1 + 1e-9)
    assert torques[-1] == pytest.approx(-SPRING_NM_PER_RAD * 0.2)


def test_a_range_outside_the_hard_limits_is_refused_naming_the_joint() -> None:
    with pytest.raises(ConfigurationError, match="knee_angle_r"):
        SoftLimits.from_rom(NAMES, {"knee_angle_r": (-0.2, 1.0)}, LIMITS)
    with pytest.raises(ConfigurationError, match="narrower"):
        SoftLimits.from_rom(NAMES, {"knee_angle_r": (0.5, 0.6)}, LIMITS)
    with pytest.raises(ConfigurationError, match="ankle"):
        SoftLimits.from_rom(NAMES, {"ankle_angle_r": (0.0, 0.1)}, LIMITS)


def test_joints_without_a_range_get_their_hard_limits() -> None:
    limits = SoftLimits.from_rom(NAMES, {"knee_angle_r": (0.2, 1.0)}, LIMITS)
    assert limits.rom_min_rad.tolist() == [LIMITS.position_min_rad[0], 0.2]
    assert limits.rom_max_rad.tolist() == [LIMITS.position_max_rad[0], 1.0]


def test_gains_are_bounded() -> None:
    """Gains above their bounds are cut to them (negative ones are a fault:
    ``tests/safety/test_control_path.py``)."""
    supervisor = make_supervisor(SafetySettings(max_kp_nm_per_rad=1000.0,
                                                max_kd_nms_per_rad=20.0))
    cmd = JointCommand(np.full(2, 0.5), np.zeros(2), np.array([1e6, 5.0]),
                       np.array([1.0, 1e3]))
    out = supervisor.limit(cmd, state_at(0.5))
    assert out.kp.tolist() == [1000.0, 5.0] and out.kd.tolist() == [1.0, 20.0]
    assert not supervisor.tripped


# -- properties -------------------------------------------------------------------------------

anything = st.floats(allow_nan=True, allow_infinity=True)
# mostly within the hard limits (commands get shaped), sometimes beyond them (a stop)
plausible_angle = st.one_of(st.floats(0.0, 1.0), st.floats(-3.0, 3.0))
plausible_speed = st.one_of(st.floats(-5.0, 5.0), st.floats(-20.0, 20.0))


@settings(max_examples=300, deadline=None)
@given(
    q_ref=st.lists(anything, min_size=2, max_size=2),
    qd_ref=st.lists(anything, min_size=2, max_size=2),
    kp=st.lists(anything, min_size=2, max_size=2),
    kd=st.lists(anything, min_size=2, max_size=2),
    tau_ff=st.lists(anything, min_size=2, max_size=2),
    q=st.lists(plausible_angle, min_size=2, max_size=2),
    qd=st.lists(plausible_speed, min_size=2, max_size=2),
    with_soft_limits=st.booleans(),
    stop=st.sampled_from([None, *StopCategory]),
)
def test_limit_always_writes_a_finite_command_within_the_hard_limits(
    q_ref: list[float], qd_ref: list[float], kp: list[float], kd: list[float],
    tau_ff: list[float], q: list[float], qd: list[float], with_soft_limits: bool,
    stop: StopCategory | None,
) -> None:
    supervisor = make_supervisor(soft_limits=soft() if with_soft_limits else None)
    state = JointState.zeros(2)
    state.q[:] = q
    state.qd[:] = qd
    if stop is not None:
        supervisor.request_stop(stop)
    supervisor.check(state)
    cmd = JointCommand(*(np.array(v) for v in (q_ref, qd_ref, kp, kd, tau_ff)))
    out = supervisor.limit(cmd, state)
    for name in ("q_ref", "qd_ref", "kp", "kd", "tau_ff"):
        assert np.all(np.isfinite(getattr(out, name))), name
    tau = out.expected_torque(state.q, state.qd)
    assert np.all(np.abs(tau) <= LIMITS.torque_max_nm * (1 + 1e-9) + 1e-9)
    if out.kp.any():  # a reference matters only with stiffness
        assert np.all(out.q_ref >= LIMITS.position_min_rad)
        assert np.all(out.q_ref <= LIMITS.position_max_rad)
    assert np.all(np.abs(out.qd_ref) <= LIMITS.velocity_max_rad_s)
    assert np.all(out.kp >= 0) and np.all(out.kd >= 0)


@settings(max_examples=200, deadline=None)
@given(
    q_ref=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=2),
    q=st.lists(plausible_angle, min_size=2, max_size=2),
)
def test_a_finite_command_is_never_a_fault_and_its_reference_stays_in_the_rom(
    q_ref: list[float], q: list[float]
) -> None:
    supervisor = make_supervisor(soft_limits=soft())
    state = JointState.zeros(2)
    state.q[:] = q
    cmd = JointCommand(np.array(q_ref), np.zeros(2), np.full(2, 100.0), np.full(2, 2.0))
    out = supervisor.limit(cmd, state)
    assert not supervisor.tripped
    rom_min = np.array([ROM[n][0] for n in NAMES])
    rom_max = np.array([ROM[n][1] for n in NAMES])
    assert np.all(out.q_ref >= rom_min - 1e-12) and np.all(out.q_ref <= rom_max + 1e-12)
