"""What makes simulated patients differ beyond strength: fatigue, drop foot, knee hyperextension
in stance, and the named profiles that have them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rehabbot.body.normative_gait import GaitReference
from rehabbot.errors import ConfigurationError
from rehabbot.sim.patient import (
    ACTIVE_STIFFNESS,
    DROP_FOOT_TORQUE_NM,
    PatientModel,
)
from rehabbot.sim.patient_profiles import PROFILES, ImpairmentProfile
from rehabbot.sim.world import JOINT_NAMES

MASS_KG = 70.0
CADENCE = 90.0
STRIDE_S = 120.0 / CADENCE
KNEE_R, ANKLE_R = JOINT_NAMES.index("knee_angle_r"), JOINT_NAMES.index("ankle_angle_r")
ANKLE_L = JOINT_NAMES.index("ankle_angle_l")


def model(profile: ImpairmentProfile) -> PatientModel:
    return PatientModel(JOINT_NAMES, profile, MASS_KG, CADENCE, seed=0)


def torques_at(profile: ImpairmentProfile, phase: float, q_offset: float = 0.0) -> np.ndarray:
    """The patient's torques at ``phase`` of its first stride, every joint ``q_offset`` (rad)
    from the intended angle."""
    q, dq = GaitReference(JOINT_NAMES).evaluate(phase)
    return model(profile).torques(phase * STRIDE_S, q + q_offset, dq / STRIDE_S, True)


def test_fatigue_takes_the_set_share_of_the_active_strength_with_its_time_constant() -> None:
    fresh = ImpairmentProfile("fresh", stride_variability=0.0)
    tiring = ImpairmentProfile("tiring", stride_variability=0.0, fatigue_pct=20.0,
                            fatigue_time_constant_s=600.0)
    none = ImpairmentProfile("none", {"hip_flexion": 0.0, "knee_angle": 0.0},
                          stride_variability=0.0)
    q = np.full(len(JOINT_NAMES), 0.3)
    active = {}
    for profile in (fresh, tiring, none):
        patient = model(profile)
        patient.torques(0.0, q, q * 0, True)
        active[profile.name] = patient.torques(600.0, q, q * 0, True)
    ratio = (active["tiring"] - active["none"])[KNEE_R] / (active["fresh"] - active["none"])[KNEE_R]
    assert ratio == pytest.approx(1.0 - 0.2 * (1.0 - math.exp(-1.0)))


def test_a_drop_foot_plantarflexes_in_its_legs_swing_only() -> None:
    plain = ImpairmentProfile("plain", stride_variability=0.0)
    drop = ImpairmentProfile("drop", stride_variability=0.0, drop_foot=("ankle_angle_r",))
    swing = torques_at(drop, 0.8) - torques_at(plain, 0.8)  # right swing: 60-100 %
    assert swing[ANKLE_R] == pytest.approx(-DROP_FOOT_TORQUE_NM)
    assert swing[ANKLE_L] == 0.0
    stance = torques_at(drop, 0.3) - torques_at(plain, 0.3)
    assert not stance.any()


def test_a_hyperextending_knee_pushes_toward_extension_in_its_stance() -> None:
    plain = ImpairmentProfile("plain", {"knee_angle": 0.4}, stride_variability=0.0)
    thrust = ImpairmentProfile("thrust", {"knee_angle": 0.4}, stride_variability=0.0,
                            knee_hyperextension_rad={"knee_angle_r": math.radians(8.0)})
    mid_stance = torques_at(thrust, 0.3) - torques_at(plain, 0.3)  # the bump's middle
    expected = -0.4 * MASS_KG * ACTIVE_STIFFNESS["knee_angle"] * math.radians(8.0)
    assert mid_stance[KNEE_R] == pytest.approx(expected)
    assert np.count_nonzero(mid_stance) == 1
    swing = torques_at(thrust, 0.8) - torques_at(plain, 0.8)
    assert not swing.any()


def test_the_stroke_profiles_have_the_patterns_on_their_paretic_side() -> None:
    left = PROFILES["stroke_left"]
    assert left.drop_foot == ("ankle_angle_l",)
    assert set(left.knee_hyperextension_rad) == {"knee_angle_l"}
    assert PROFILES["stroke_right"].drop_foot == ("ankle_angle_r",)
    variability = {name: p.stride_variability for name, p in PROFILES.items()}
    assert variability["healthy"] < variability["stroke_left"] < variability["sci_incomplete"]
    assert PROFILES["sci_incomplete"].fatigue_pct > left.fatigue_pct > 0.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"fatigue_pct": 80.0}, r"fatigue_pct = 80.0 is outside \[0, 60\]"),
    ({"fatigue_time_constant_s": 1.0}, r"fatigue_time_constant_s = 1.0 is outside"),
    ({"drop_foot": ("knee_angle_r",)}, r"drop_foot names 'knee_angle_r'"),
    ({"knee_hyperextension_rad": {"hip_flexion_r": 0.1}}, r"names 'hip_flexion_r'"),
    ({"knee_hyperextension_rad": {"knee_angle_l": 0.5}}, r"knee_angle_l = 0.5 is outside"),
])
def test_out_of_range_variability_is_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ImpairmentProfile("bad", **kwargs)  # type: ignore[arg-type]
