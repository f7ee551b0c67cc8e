"""The simulated patient's torque law, its entrainment to foot strikes, its spasticity and the
named profiles."""

from __future__ import annotations

import numpy as np
import pytest

from rehabbot.body.normative_gait import GaitReference
from rehabbot.errors import ConfigurationError
from rehabbot.sim import patient as patient_module
from rehabbot.sim.patient import (
    ACTIVE_DAMPING,
    ACTIVE_STIFFNESS,
    PASSIVE_DAMPING,
    PASSIVE_STIFFNESS,
    REST_ANGLE_RAD,
    PatientModel,
)
from rehabbot.sim.patient_profiles import HEALTHY, PROFILES, ImpairmentProfile, StretchReflex
from rehabbot.sim.world import JOINT_NAMES

MASS_KG = 70.0
CADENCE = 90.0  # steps/min: 1.333 s strides
STRIDE_S = 120.0 / CADENCE


def model(profile: ImpairmentProfile, seed: int = 0) -> PatientModel:
    return PatientModel(JOINT_NAMES, profile, MASS_KG, CADENCE, seed)


def still(profile: ImpairmentProfile) -> PatientModel:
    """A patient whose strides all last exactly STRIDE_S."""
    return model(ImpairmentProfile(profile.name, profile.ability, stride_variability=0.0))


def test_without_ability_only_passive_stiffness_and_damping_act() -> None:
    patient = still(ImpairmentProfile("none", {"hip_flexion": 0.0, "knee_angle": 0.0}))
    q = np.full(len(JOINT_NAMES), 0.5)
    qd = np.full(len(JOINT_NAMES), -1.0)
    kinds = [name.rsplit("_", 1)[0] for name in JOINT_NAMES]
    expected = [
        -PASSIVE_STIFFNESS[k] * (0.5 - REST_ANGLE_RAD[k]) + PASSIVE_DAMPING[k] for k in kinds
    ]
    np.testing.assert_allclose(patient.torques(0.3, q, qd, True), expected)


def test_on_the_intended_path_a_healthy_patient_adds_only_passive_torque() -> None:
    patient = still(ImpairmentProfile("healthy"))
    phase = 0.3
    q_int, dq_int = GaitReference(JOINT_NAMES).evaluate(phase)
    qd_int = dq_int / STRIDE_S
    passive = still(ImpairmentProfile("none", {"hip_flexion": 0.0, "knee_angle": 0.0}))
    np.testing.assert_allclose(
        patient.torques(phase * STRIDE_S, q_int, qd_int, True),
        passive.torques(phase * STRIDE_S, q_int, qd_int, True),
    )


def test_active_torque_pulls_toward_the_intended_angle_scaled_by_ability() -> None:
    weak = still(ImpairmentProfile("weak", {"hip_flexion": 0.25, "knee_angle": 0.5}))
    none = still(ImpairmentProfile("none", {"hip_flexion": 0.0, "knee_angle": 0.0}))
    t_s = 0.4 * STRIDE_S
    q_int, dq_int = GaitReference(JOINT_NAMES).evaluate(0.4)
    q = q_int - 0.1  # every joint 0.1 rad short of the intended angle, at the intended velocity
    qd = dq_int / STRIDE_S
    active = weak.torques(t_s, q, qd, True) - none.torques(t_s, q, qd, True)
    hip, knee = JOINT_NAMES.index("hip_flexion_l"), JOINT_NAMES.index("knee_angle_r")
    ankle = JOINT_NAMES.index("ankle_angle_r")
    assert active[hip] == pytest.approx(0.25 * MASS_KG * ACTIVE_STIFFNESS["hip_flexion"] * 0.1)
    assert active[knee] == pytest.approx(0.5 * MASS_KG * ACTIVE_STIFFNESS["knee_angle"] * 0.1)
    assert active[ankle] == 0.0
    assert ACTIVE_DAMPING["hip_flexion"] > 0.0


def test_a_right_foot_strike_late_in_the_stride_starts_the_next_stride(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(patient_module, "PHASE_COUPLING_PER_S", 0.0)  # foot strikes alone
    patient = still(ImpairmentProfile("healthy"))
    q = np.zeros(len(JOINT_NAMES))
    t, dt = 0.0, 0.001
    contact = True
    while t < 0.9 * STRIDE_S:  # stance, then swing from 60 % of the stride
        contact = t < 0.6 * STRIDE_S
        patient.torques(t, q, q, contact)
        t += dt
    patient.torques(t, q, q, True)  # the foot lands early, at 90 %
    assert patient.phase_ == pytest.approx(0.0)
    patient.torques(t + 0.1, q, q, True)
    assert patient.phase_ == pytest.approx(0.1 / STRIDE_S)


def test_a_scuff_early_in_swing_does_not_reset_the_rhythm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(patient_module, "PHASE_COUPLING_PER_S", 0.0)  # foot strikes alone
    patient = still(ImpairmentProfile("healthy"))
    q = np.zeros(len(JOINT_NAMES))
    patient.torques(0.0, q, q, True)
    patient.torques(0.7 * STRIDE_S, q, q, False)  # foot off
    patient.torques(0.7 * STRIDE_S + 0.05, q, q, True)  # a touch 50 ms later: a scuff
    assert patient.phase_ == pytest.approx(0.7 + 0.05 / STRIDE_S)


def drive_legs(patient: PatientModel, lead: float, seconds: float) -> float:
    """Move the legs along the normative path ``lead`` strides ahead of the patient's own
    rhythm (no foot strikes), as a robot on its own clock would; the last time (s)."""
    reference = GaitReference(JOINT_NAMES)
    dt, t = 0.001, 0.0
    for n in range(round(seconds / dt)):
        t = n * dt
        q, dq = reference.evaluate((t / STRIDE_S + lead) % 1.0)
        patient.torques(t, q, dq / STRIDE_S, True)
    return t


def test_moved_legs_pull_the_rhythm_to_within_the_deadband() -> None:
    patient = still(HEALTHY)
    t = drive_legs(patient, lead=0.2, seconds=3.5)
    legs = (t / STRIDE_S + 0.2) % 1.0
    lag = (legs - patient.phase_ + 0.5) % 1.0 - 0.5
    assert 0.0 < lag <= patient_module.PHASE_DEADBAND + 0.005


def test_without_coupling_the_rhythm_ignores_the_legs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patient_module, "PHASE_COUPLING_PER_S", 0.0)
    patient = still(HEALTHY)
    t = drive_legs(patient, lead=0.2, seconds=3.5)
    assert patient.phase_ == pytest.approx((t / STRIDE_S) % 1.0, abs=1e-6)


def test_legs_lagging_within_the_deadband_leave_the_rhythm_alone() -> None:
    patient = still(HEALTHY)
    t = drive_legs(patient, lead=-0.02, seconds=2.0)
    assert patient.phase_ == pytest.approx((t / STRIDE_S) % 1.0, abs=1e-6)


def test_stride_variability_is_seeded() -> None:
    profile = ImpairmentProfile("varied", stride_variability=0.05)
    q = np.zeros(len(JOINT_NAMES))

    def phases(seed: int) -> list[float]:
        patient = model(profile, seed)
        out = []
        for k in range(0, 10_000, 50):
            patient.torques(k * 0.001, q, q, False)
            out.append(patient.phase_)
        return out

    assert phases(3) == phases(3)
    assert phases(3) != phases(4)


@pytest.mark.parametrize(("ability", "variability"), [({"knee_angle": 1.6}, 0.02),
                                                      ({"hip_flexion": -0.1}, 0.02),
                                                      ({}, 0.3)])
def test_out_of_range_profiles_are_refused(ability: dict[str, float], variability: float) -> None:
    with pytest.raises(ConfigurationError, match="outside"):
        ImpairmentProfile("bad", ability, stride_variability=variability)


def spastic_knee(threshold: float = 2.0, gain: float = 5.0, delay: float = 0.05) -> PatientModel:
    reflex = StretchReflex("knee_angle_l", threshold, gain, delay)
    profile = ImpairmentProfile("spastic", {"hip_flexion": 0.0, "knee_angle": 0.0},
                             stride_variability=0.0, spasticity=(reflex,))
    return model(profile)


def reflex_torques(patient: PatientModel, velocity: object, seconds: float) -> np.ndarray:
    """The left knee's reflex torque at every 1 ms step for knee velocity ``velocity(t)``."""
    knee = JOINT_NAMES.index("knee_angle_l")
    q = np.zeros(len(JOINT_NAMES))
    out = []
    for k in range(round(seconds / 0.001)):
        t = k * 0.001
        qd = np.zeros(len(JOINT_NAMES))
        qd[knee] = velocity(t)  # type: ignore[operator]
        patient.torques(t, q, qd, True)
        out.append(patient.reflex_torques_[knee])
    return np.array(out)


def test_stretch_reflex_stays_silent_below_its_velocity_threshold() -> None:
    torques = reflex_torques(spastic_knee(threshold=2.0), lambda t: 1.99 * np.sin(9 * t), 1.0)
    np.testing.assert_array_equal(torques, 0.0)


def test_stretch_reflex_resists_above_the_threshold_one_delay_later() -> None:
    # Knee flexion velocity steps from 0 to 3 rad/s at t = 0.1 s.
    torques = reflex_torques(spastic_knee(threshold=2.0, gain=5.0, delay=0.05),
                             lambda t: 3.0 if t >= 0.1 else 0.0, 0.3)
    t = np.arange(torques.size) * 0.001
    np.testing.assert_array_equal(torques[t < 0.15 - 1e-9], 0.0)
    np.testing.assert_allclose(torques[t >= 0.15 - 1e-9], -5.0 * (3.0 - 2.0))


def test_stretch_reflex_resists_extension_too() -> None:
    torques = reflex_torques(spastic_knee(threshold=1.0, gain=4.0, delay=0.0), lambda t: -3.0,
                             0.01)
    np.testing.assert_allclose(torques, 4.0 * 2.0)


def test_the_reflex_torque_is_part_of_the_patient_s_torque() -> None:
    patient, calm = spastic_knee(delay=0.0), spastic_knee(threshold=10.0, delay=0.0)
    q, qd = np.zeros(len(JOINT_NAMES)), np.zeros(len(JOINT_NAMES))
    qd[JOINT_NAMES.index("knee_angle_l")] = 4.0
    difference = patient.torques(0.0, q, qd, True) - calm.torques(0.0, q, qd, True)
    expected = np.zeros(len(JOINT_NAMES))
    expected[JOINT_NAMES.index("knee_angle_l")] = -5.0 * 2.0
    np.testing.assert_allclose(difference, expected)


def test_profiles_are_selectable_by_name() -> None:
    assert set(PROFILES) == {"healthy", "athletic", "stroke_left", "stroke_right", "sci_incomplete"}
    stroke = PROFILES["stroke_left"]
    assert stroke.ability_of("hip_flexion_l") < 1.0 and stroke.ability_of("knee_angle_l") < 1.0
    assert stroke.ability_of("hip_flexion_r") == stroke.ability_of("knee_angle_r") == 1.0
    assert [r.joint for r in stroke.spasticity] == ["knee_angle_l"]
    assert [r.joint for r in PROFILES["stroke_right"].spasticity] == ["knee_angle_r"]
    sci = PROFILES["sci_incomplete"]
    assert all(sci.ability_of(n) < 1.0 for n in JOINT_NAMES if not n.startswith("ankle"))
    assert PROFILES["healthy"] is HEALTHY and not HEALTHY.spasticity


def test_bad_reflexes_are_refused() -> None:
    with pytest.raises(ConfigurationError, match=r"delay_s = 0\.5 is outside"):
        ImpairmentProfile("bad", spasticity=(StretchReflex("knee_angle_l", 2.0, 5.0, 0.5),))
    with pytest.raises(ConfigurationError, match="spastic joint 'elbow_r' is not simulated"):
        model(ImpairmentProfile("bad", spasticity=(StretchReflex("elbow_r", 2.0, 5.0),)))
