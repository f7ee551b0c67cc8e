"""After an accepted reset the supervisor blends from a gentle hold where the legs are into the
controller's command: no jump to the reference."""

from __future__ import annotations

import numpy as np

from rehabbot.hal.types import JointCommand
from rehabbot.safety.recovery import ResumeLimits, Resumption


def command() -> JointCommand:
    """A stiff controller command far from where the legs are."""
    return JointCommand(np.array([0.6, -0.2]), np.array([1.0, 0.0]), np.array([800.0, 600.0]),
                        np.array([20.0, 10.0]), np.array([5.0, -3.0]))


def test_the_blend_starts_at_the_hold_where_the_legs_are_and_ends_at_the_controller() -> None:
    limits = ResumeLimits(duration_s=0.05)
    resume = Resumption(2, limits, 0.001)
    q0 = np.array([0.1, 0.3])
    resume.start(q0)
    q, qd = np.array([0.12, 0.28]), np.array([0.2, -0.1])
    torques = []
    for tick in range(60):
        out = command()
        if resume.active:
            w = resume.weight()
            resume.shape(out)
            hold = limits.kp_nm_per_rad * (q0 - q) - limits.kd_nms_per_rad * qd
            expected = (1 - w) * hold + w * command().expected_torque(q, qd)
            np.testing.assert_allclose(out.expected_torque(q, qd), expected, atol=1e-9)
            if tick == 0:  # the first tick: the hold alone, at low stiffness
                np.testing.assert_allclose(out.q_ref, q0)
                np.testing.assert_allclose(out.kp, limits.kp_nm_per_rad)
                assert np.all(out.tau_ff == 0.0)
        torques.append(out.expected_torque(q, qd))
    assert not resume.active  # over: the controller's own command
    np.testing.assert_allclose(torques[-1], command().expected_torque(q, qd))
    # smooth: no step between ticks larger than a fiftieth of the whole change (50 ticks)
    steps = np.abs(np.diff(np.array(torques), axis=0)).max(axis=0)
    change = np.abs(torques[-1] - torques[0])
    assert np.all(steps <= change * np.pi / 2 / 50 + 1e-9)
