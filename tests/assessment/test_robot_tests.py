"""The robot-based stiffness assessment, run on simulated relaxed patients."""

from __future__ import annotations

import numpy as np
import pytest

from rehabbot.assessment.robot_tests import (
    StiffnessEstimate,
    assess_stiffness,
    fit_stiffness,
)
from rehabbot.errors import ConfigurationError
from rehabbot.sim.patient import PASSIVE_DAMPING, PASSIVE_STIFFNESS, PROFILES

VELOCITIES = (30.0, 90.0, 180.0)


@pytest.fixture(scope="module")
def healthy() -> list[StiffnessEstimate]:
    return assess_stiffness(PROFILES["healthy"], "knee_angle_l", VELOCITIES)


@pytest.fixture(scope="module")
def stroke() -> list[StiffnessEstimate]:
    return assess_stiffness(PROFILES["stroke_left"], "knee_angle_l", VELOCITIES)


def test_fit_recovers_a_known_spring_damper() -> None:
    t = np.linspace(0.0, 2.0, 400)
    q, qd = 0.6 - 0.4 * np.cos(3.0 * t), 1.2 * np.sin(3.0 * t)
    k, b, q0, rms = fit_stiffness(q, qd, 3.0 * (q - 0.2) + 0.5 * qd)
    assert (k, b, q0) == pytest.approx((3.0, 0.5, 0.2))
    assert rms < 1e-9


def test_without_spasticity_the_slow_stiffness_is_the_passive_stiffness(
    healthy: list[StiffnessEstimate],
) -> None:
    for estimate in healthy[:2]:  # 30 and 90 deg/s
        assert estimate.stiffness_nm_per_rad == pytest.approx(
            PASSIVE_STIFFNESS["knee_angle"], rel=0.10)
        assert estimate.damping_nms_per_rad == pytest.approx(
            PASSIVE_DAMPING["knee_angle"], rel=0.15)


def test_below_the_reflex_threshold_stroke_and_healthy_knees_agree(
    healthy: list[StiffnessEstimate], stroke: list[StiffnessEstimate]
) -> None:
    for h, s in zip(healthy[:2], stroke[:2], strict=True):
        assert s.stiffness_nm_per_rad == pytest.approx(h.stiffness_nm_per_rad, rel=0.02)
        assert s.damping_nms_per_rad == pytest.approx(h.damping_nms_per_rad, rel=0.02)


def test_the_spastic_knee_resists_more_above_the_reflex_threshold(
    healthy: list[StiffnessEstimate], stroke: list[StiffnessEstimate]
) -> None:
    # 180 deg/s = 3.1 rad/s, above the stroke knee's 2 rad/s threshold
    assert stroke[2].damping_nms_per_rad > 2.0 * stroke[0].damping_nms_per_rad
    assert stroke[2].damping_nms_per_rad > 2.0 * healthy[2].damping_nms_per_rad
    assert stroke[2].stiffness_nm_per_rad > healthy[2].stiffness_nm_per_rad + 1.0
    # the healthy knee's damping barely changes with velocity
    assert healthy[2].damping_nms_per_rad < 1.5 * healthy[0].damping_nms_per_rad


def test_only_hips_and_knees_can_be_assessed() -> None:
    with pytest.raises(ConfigurationError, match=r"\['ankle_angle_l'\].*knee_angle_l"):
        assess_stiffness(PROFILES["healthy"], "ankle_angle_l")
