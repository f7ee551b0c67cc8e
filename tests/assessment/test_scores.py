"""GVS, GPS and MAP against the Schwartz 2008 normative data; the choice of the speed class."""

from __future__ import annotations

import numpy as np
import pytest

from rehabbot.assessment.scores import (
    gait_profile_score,
    gait_variable_scores,
    movement_analysis_profile,
    normative_mean_deg,
    speed_class,
)
from rehabbot.controllers.reference import SPEED_CLASSES, normative_curve

KINDS = ("hip", "knee", "ankle")


def as_101_points(curve_51: np.ndarray) -> np.ndarray:
    """A 51-point cycle curve resampled at 101 points, as the stride curves are."""
    return np.interp(np.linspace(0, 1, 101), np.linspace(0, 1, 51), curve_51)


@pytest.mark.parametrize("speed", SPEED_CLASSES)
def test_the_normative_mean_itself_scores_zero(speed: str) -> None:
    gvs = {side: {kind: float(gait_variable_scores(
        as_101_points(normative_mean_deg(kind, speed))[None, :],
        normative_mean_deg(kind, speed))[0]) for kind in KINDS} for side in ("right", "left")}
    profile = movement_analysis_profile(gvs)
    assert profile["overall"]["gps"] == pytest.approx(0.0, abs=1e-12)
    assert all(profile[side][kind] == pytest.approx(0.0, abs=1e-12)
               for side in ("right", "left") for kind in KINDS)


def test_a_constant_offset_scores_its_size_and_the_gps_is_the_rms_of_the_gvs() -> None:
    norm = normative_mean_deg("knee", "Free")
    curves = np.vstack([as_101_points(norm) + 5.0, as_101_points(norm) - 2.0])
    np.testing.assert_allclose(gait_variable_scores(curves, norm), [5.0, 2.0])
    assert gait_profile_score([5.0, 2.0, 0.0]) == pytest.approx(np.sqrt(29.0 / 3.0))


def test_the_exoskeleton_hip_is_compared_with_the_thigh_against_the_vertical() -> None:
    hip = normative_curve("Slow", "hip_flexion_deg")[0]
    tilt = normative_curve("Slow", "pelvis_tilt_deg")[0]
    np.testing.assert_allclose(normative_mean_deg("hip", "Slow", "vertical"), hip - tilt)
    np.testing.assert_allclose(normative_mean_deg("hip", "Slow", "pelvis"), hip)
    with pytest.raises(ValueError, match="hip_reference"):
        normative_mean_deg("knee", "Slow", "thigh")


@pytest.mark.parametrize(("speed_m_s", "expected"), [
    (0.5, "VerySlow"), (0.8, "Slow"), (1.3, "Free"), (1.7, "Fast"), (2.0, "VeryFast")])
def test_the_speed_class_follows_the_dimensionless_speed(speed_m_s: float, expected: str) -> None:
    # leg 0.9 m: class bounds at 0.227, 0.363, 0.500, 0.636 × sqrt(9.81 × 0.9) = 2.97 m/s
    assert speed_class(speed_m_s, 110.0, 0.9) == (expected, "speed")


def test_without_a_speed_the_class_comes_from_the_cadence_else_defaults_to_free() -> None:
    assert speed_class(None, 115.0) == ("Free", "cadence")
    assert speed_class(None, 60.0) == ("VerySlow", "cadence")
    assert speed_class(None, None) == ("Free", "default")
