"""GVS, GPS and MAP against the Schwartz 2008 normative data; the choice of the speed class."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import ezc3d  # type: ignore[import-untyped]
import numpy as np
import pytest
from typer.testing import CliRunner

from rehabbot.assessment.scores import (
    gait_profile_score,
    gait_variable_scores,
    movement_analysis_profile,
    normative_mean_deg,
    speed_class,
)
from rehabbot.body.normative_gait import SPEED_CLASSES, normative_curve
from tests.assessment.test_labfiles_and_cli import analyze_app

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


def test_bakers_gps_of_a_shared_trial_equals_a_computation_from_the_definition(
        gait_data: Path) -> None:
    """Baker et al. (2009): GVS = RMS over 0, 2, ..., 100 % of the cycle of the difference from
    the normative mean; a side's GPS = RMS of its nine GVSs; the overall GPS = RMS of 15 (the
    left pelvis and both sides' six others). Computed here from the file itself (ezc3d), its
    labelled strikes and the shared Schwartz 2008 file, independently of the package."""
    path = gait_data / "ktk_walk.c3d"
    result = CliRunner().invoke(analyze_app(), ["analyze", str(path), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)["metrics"]
    speed = metrics["speed_class"]

    c3d: Any = ezc3d.c3d(str(path))
    rate = c3d["header"]["points"]["frame_rate"]
    points = np.asarray(c3d["data"]["points"])
    t = (c3d["header"]["points"]["first_frame"] + np.arange(points.shape[2])) / rate
    labels = [label.split(":")[-1] for label in c3d["parameters"]["POINT"]["LABELS"]["value"]]
    group = c3d["parameters"]["EVENT"]
    times = np.asarray(group["TIMES"]["value"])
    seconds = times[0] * 60 + times[1]
    bands = json.loads((gait_data / "schwartz2008_normative.json").read_text(
        encoding="utf-8"))["Schwartz2008"][speed]
    variables = {"pelvis_tilt": ("PelvisAngles", 0), "pelvis_obliquity": ("PelvisAngles", 1),
                 "pelvis_rotation": ("PelvisAngles", 2), "hip_flexion": ("HipAngles", 0),
                 "hip_abduction": ("HipAngles", 1), "hip_rotation": ("HipAngles", 2),
                 "knee_flexion": ("KneeAngles", 0), "ankle_dorsiflexion": ("AnkleAngles", 0),
                 "foot_progression": ("FootProgressAngles", 2)}
    gvs: dict[str, dict[str, float]] = {}
    for side, letter, context in (("right", "R", "Right"), ("left", "L", "Left")):
        strikes = sorted(s for s, c, lab in zip(seconds, group["CONTEXTS"]["value"],
                                                group["LABELS"]["value"], strict=True)
                         if c.strip() == context and lab.strip() == "Foot Strike")
        gvs[side] = {}
        for variable, (point, axis) in variables.items():
            rows = bands[point]["XYZ"[axis]]
            norm = np.array([(r[1] + r[2]) / 2 for r in rows])
            angle = points[axis, labels.index(letter + point)]
            scores = [np.sqrt(np.mean((np.interp(a + np.arange(51) / 50 * (b - a), t, angle)
                                       - norm) ** 2))
                      for a, b in itertools.pairwise(strikes)]
            gvs[side][variable] = float(np.mean(scores))
    baker = metrics["gait_profile_baker"]
    for side in ("right", "left"):
        for variable, value in gvs[side].items():
            assert baker[side][variable] == pytest.approx(value, abs=0.01), (side, variable)
        assert baker[side]["gps"] == pytest.approx(
            np.sqrt(np.mean(np.square(list(gvs[side].values())))), abs=0.01)
    overall = [v for side, scores in gvs.items() for k, v in scores.items()
               if side == "left" or not k.startswith("pelvis")]
    assert len(overall) == 15
    assert baker["overall"]["gps"] == pytest.approx(np.sqrt(np.mean(np.square(overall))),
                                                    abs=0.01)
