"""The patient model's passive range of motion, maximal voluntary torques and assessment tasks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rehabbot.body.normative_gait import GaitReference
from rehabbot.body.range_of_motion import HEALTHY_PASSIVE_ROM_RAD
from rehabbot.errors import ConfigurationError
from rehabbot.sim.patient import (
    END_STOP_TORQUE_NM,
    MAX_VOLUNTARY_TORQUE_NM_PER_KG,
    PASSIVE_DAMPING,
    PASSIVE_STIFFNESS,
    RELAX,
    REST_ANGLE_RAD,
    PatientModel,
    PatientTask,
)
from rehabbot.sim.patient_profiles import PROFILES, ImpairmentProfile
from rehabbot.sim.world import JOINT_NAMES

MASS_KG = 75.0
KNEE_L = JOINT_NAMES.index("knee_angle_l")
HIP_L = JOINT_NAMES.index("hip_flexion_l")


def model(profile: ImpairmentProfile) -> PatientModel:
    return PatientModel(JOINT_NAMES, profile, MASS_KG, 90.0, seed=0)


def linear_passive(q: np.ndarray, qd: np.ndarray) -> np.ndarray:
    kinds = [n.rsplit("_", 1)[0] for n in JOINT_NAMES]
    k = np.array([PASSIVE_STIFFNESS[k] for k in kinds])
    b = np.array([PASSIVE_DAMPING[k] for k in kinds])
    rest = np.array([REST_ANGLE_RAD[k] for k in kinds])
    tau: np.ndarray = -k * (q - rest) - b * qd
    return tau


def with_angle(index: int, angle: float) -> np.ndarray:
    q = np.zeros(len(JOINT_NAMES))
    q[index] = angle
    return q


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_end_stops_leave_the_normal_walking_range_untouched(name: str) -> None:
    patient = model(PROFILES[name])
    reference = GaitReference(JOINT_NAMES)
    rng = np.random.default_rng(1)
    for phase in np.linspace(0.0, 1.0, 101):
        q, _ = reference.evaluate(float(phase))
        qd = rng.normal(0.0, 3.0, len(JOINT_NAMES))
        np.testing.assert_array_equal(patient.passive_torques(q, qd), linear_passive(q, qd))


def test_an_end_stop_resists_with_its_torque_at_the_limit_and_stiffens_beyond() -> None:
    patient = model(PROFILES["healthy"])
    low, high = HEALTHY_PASSIVE_ROM_RAD["knee_angle"]
    zero = np.zeros(len(JOINT_NAMES))

    def stop(angle: float) -> float:
        q = with_angle(KNEE_L, angle)
        return float((patient.passive_torques(q, zero) - linear_passive(q, zero))[KNEE_L])

    assert stop(high) == pytest.approx(-END_STOP_TORQUE_NM)
    assert stop(low) == pytest.approx(END_STOP_TORQUE_NM)
    step = math.radians(5.0)
    assert stop(high + 2 * step) - stop(high + step) < stop(high + step) - stop(high) < 0.0


def test_the_stroke_profile_has_contractures_on_its_paretic_side_only() -> None:
    stroke = PROFILES["stroke_left"]
    assert stroke.passive_rom_of("knee_angle_r") == HEALTHY_PASSIVE_ROM_RAD["knee_angle"]
    extension, flexion = stroke.passive_rom_of("knee_angle_l") or (0.0, 0.0)
    assert extension == HEALTHY_PASSIVE_ROM_RAD["knee_angle"][0]
    assert math.degrees(flexion) == pytest.approx(80.0)
    assert PROFILES["healthy"].passive_rom_of("ankle_angle_l") is None


@pytest.mark.parametrize(("rom", "message"), [
    ({"knee_angle": (0.0, math.radians(170.0))}, r"flexion limit = .* outside"),
    ({"hip_flexion_l": (math.radians(-60.0), 1.0)}, r"extension limit = .* outside"),
    ({"knee_angle": (math.radians(50.0), math.radians(60.0))}, r"range .* outside"),
    ({"elbow": (0.0, 1.0)}, r"'elbow' is not a joint kind"),
])
def test_a_bad_passive_range_is_refused_naming_the_field(
    rom: dict[str, tuple[float, float]], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        ImpairmentProfile("bad", passive_rom_rad=rom)


def test_the_largest_voluntary_torque_scales_with_ability_and_mass_and_fades_at_the_limit() -> None:
    healthy, stroke = model(PROFILES["healthy"]), model(PROFILES["stroke_left"])
    extension, flexion = MAX_VOLUNTARY_TORQUE_NM_PER_KG["knee_angle"]
    middle = math.radians(45.0)
    assert healthy.max_voluntary_torque("knee_angle_l", "extension", middle) == pytest.approx(
        extension * MASS_KG)
    assert stroke.max_voluntary_torque("knee_angle_l", "flexion", middle) == pytest.approx(
        0.4 * flexion * MASS_KG)
    limit = HEALTHY_PASSIVE_ROM_RAD["knee_angle"][1]
    assert healthy.max_voluntary_torque("knee_angle_l", "flexion", limit) == 0.0
    assert 0.0 < healthy.max_voluntary_torque("knee_angle_l", "flexion", limit - 0.2) < (
        flexion * MASS_KG)


def test_a_relaxed_patient_gives_only_passive_torques() -> None:
    patient = model(PROFILES["healthy"])
    q, qd = with_angle(KNEE_L, 0.7), np.full(len(JOINT_NAMES), 0.1)
    patient.set_task(RELAX, 0.0, q)
    np.testing.assert_allclose(patient.task_torques(0.0, q, qd), patient.passive_torques(q, qd))


@pytest.mark.parametrize("direction", ["flexion", "extension"])
def test_a_held_maximal_effort_reaches_the_largest_voluntary_torque(direction: str) -> None:
    patient = model(PROFILES["stroke_left"])
    q, qd = with_angle(HIP_L, math.radians(30.0)), np.zeros(len(JOINT_NAMES))
    patient.set_task(PatientTask("hip_flexion_l", direction), 0.0, q)  # type: ignore[arg-type]
    voluntary = [
        (patient.task_torques(t, q, qd) - patient.passive_torques(q, qd))[HIP_L]
        for t in np.arange(0.0, 2.0, 0.001)
    ]
    sign = 1.0 if direction == "flexion" else -1.0
    largest = patient.max_voluntary_torque("hip_flexion_l", direction, q[HIP_L])  # type: ignore[arg-type]
    assert abs(voluntary[0]) < 0.01 * largest  # it builds up, no step
    assert sign * voluntary[-1] == pytest.approx(largest)
    others = patient.task_torques(2.0, q, qd) - patient.passive_torques(q, qd)
    assert np.count_nonzero(others) == 1


def test_the_true_limits_lie_inside_the_passive_range_and_shrink_with_weakness() -> None:
    healthy, stroke = model(PROFILES["healthy"]), model(PROFILES["stroke_left"])
    low, high = HEALTHY_PASSIVE_ROM_RAD["hip_flexion"]
    passive = healthy.passive_limit_rad("hip_flexion_l", "extension", END_STOP_TORQUE_NM)
    assert low < passive < low + math.radians(2.0)  # the linear stiffness adds a little
    assert healthy.passive_limit_rad("hip_flexion_l", "flexion", 30.0) > high
    active_healthy = healthy.active_limit_rad("hip_flexion_l", "extension")
    active_stroke = stroke.active_limit_rad("hip_flexion_l", "extension")
    assert passive < active_healthy < active_stroke < 0.0


def test_tasks_and_limits_refuse_unknown_joints_and_directions() -> None:
    patient = model(PROFILES["healthy"])
    with pytest.raises(ConfigurationError, match="'elbow_l' is not simulated"):
        patient.set_task(PatientTask("elbow_l"), 0.0, np.zeros(len(JOINT_NAMES)))
    with pytest.raises(ConfigurationError, match="direction 'up'"):
        PatientTask("knee_angle_l", "up")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="no passive range"):
        patient.passive_limit_rad("ankle_angle_l", "flexion", 10.0)
    with pytest.raises(ConfigurationError, match="no task"):
        patient.task_torques(0.0, np.zeros(len(JOINT_NAMES)), np.zeros(len(JOINT_NAMES)))
