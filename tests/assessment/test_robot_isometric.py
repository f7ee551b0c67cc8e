"""Robot-based maximal isometric torque (L-FORCE-like), against the patient's true strength."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rehabbot.assessment.robot_isometric import (
    IsometricTorque,
    assess_isometric,
    sustained_peak,
)
from rehabbot.errors import ConfigurationError
from rehabbot.sim.patient import PROFILES, Direction, PatientModel
from rehabbot.sim.world import JOINT_NAMES


@pytest.fixture(scope="module")
def stroke() -> list[IsometricTorque]:
    return assess_isometric(PROFILES["stroke_left"])


def test_the_sustained_peak_is_the_best_window_mean_not_the_single_peak() -> None:
    signal = np.concatenate([np.zeros(100), np.full(1000, 50.0), [400.0], np.zeros(100)])
    assert sustained_peak(signal, 1000) == pytest.approx(50.35)


def test_isometric_torques_match_the_true_strength_within_10_percent(
    stroke: list[IsometricTorque],
) -> None:
    patient = PatientModel(JOINT_NAMES, PROFILES["stroke_left"], 75.0, 90.0, seed=0)
    for result in stroke:
        pairs: tuple[tuple[Direction, float, bool], ...] = (
            ("flexion", result.flexion_nm, result.flexion_at_robot_limit),
            ("extension", result.extension_nm, result.extension_at_robot_limit))
        for direction, measured, at_limit in pairs:
            true = patient.max_voluntary_torque(result.joint, direction, result.angle_rad)
            if at_limit:  # stronger than the robot: the joint yields, the value is the robot's
                assert measured < true, (result.joint, direction)
            else:
                assert measured == pytest.approx(true, rel=0.10), (result.joint, direction)


def test_a_patient_stronger_than_the_robot_is_flagged_not_measured(
    stroke: list[IsometricTorque],
) -> None:
    by_joint = {r.joint: r for r in stroke}
    # a healthy knee extends with 2.8 N·m/kg x 75 kg = 210 N·m; sim_exo's knee gives 120 N·m
    assert by_joint["knee_angle_r"].extension_at_robot_limit
    assert by_joint["knee_angle_r"].extension_nm <= 120.0
    paretic = [by_joint["hip_flexion_l"], by_joint["knee_angle_l"]]
    assert not any(r.flexion_at_robot_limit or r.extension_at_robot_limit for r in paretic)


def test_the_paretic_side_is_weaker(stroke: list[IsometricTorque]) -> None:
    by_joint = {r.joint: r for r in stroke}
    for kind in ("hip_flexion", "knee_angle"):
        paretic, other = by_joint[f"{kind}_l"], by_joint[f"{kind}_r"]
        assert paretic.flexion_nm < 0.6 * other.flexion_nm
        assert paretic.extension_nm < other.extension_nm


def test_the_test_angle_changes_the_answer_near_a_contracture() -> None:
    # the paretic hip's flexion strength fades toward its 50 deg passive limit
    near, far = (assess_isometric(PROFILES["stroke_left"], ("hip_flexion_l",),
                                  angles_rad={"hip_flexion": math.radians(a)})[0]
                 for a in (40.0, 10.0))
    assert near.flexion_nm < 0.6 * far.flexion_nm


def test_an_angle_outside_the_robots_range_is_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"angle 120\.0 deg of knee_angle_l is outside"):
        assess_isometric(PROFILES["healthy"], ("knee_angle_l",),
                         angles_rad={"knee_angle": math.radians(120.0)})
