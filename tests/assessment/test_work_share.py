"""The patient's share of the positive work in swing: leg inverse dynamics and a simulated check."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rehabbot.assessment.gait_analysis import analyze_samples
from rehabbot.assessment.report import load_report_data
from rehabbot.assessment.report.tables import session_table
from rehabbot.assessment.work_share import (
    SOURCE_ESTIMATE,
    SOURCE_TRUTH,
    SwingLeg,
    derivatives,
    swing_mask,
    swing_work_share,
    true_swing_work_share,
)
from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.leg_mechanics import LegGravity
from rehabbot.body.orthosis import ExoSegments
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.sim.patient_profiles import PROFILES, ImpairmentProfile
from rehabbot.storage.store import SessionStore
from rehabbot.storage.truth import MUSCLE_TORQUE, load_truth
from tests.assessment.true_work import simulate_with_true_torques, true_patient_work_j

BODY = BodyModel.from_height_mass(1.75, 75.0)
LEG = SwingLeg.from_body(BODY, ExoSegments())
PERIOD_S = 0.001


def _motion(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A smooth hip and knee swing with its exact velocity and acceleration."""
    w = 2 * np.pi * 0.8
    q = np.column_stack((0.2 + 0.4 * np.sin(w * t), 0.6 - 0.5 * np.cos(w * t + 0.3)))
    qd = np.column_stack((0.4 * w * np.cos(w * t), 0.5 * w * np.sin(w * t + 0.3)))
    qdd = np.column_stack((-0.4 * w**2 * np.sin(w * t), 0.5 * w**2 * np.cos(w * t + 0.3)))
    return q, qd, qdd


def _energy(q: np.ndarray, qd: np.ndarray) -> np.ndarray:
    """Kinetic plus potential energy (J) of the leg, from the mass matrix and the segments."""
    (m_hh, m_hk), (_, m_kk) = LEG.inertia.matrix(q[:, 1])
    kinetic = 0.5 * (m_hh * qd[:, 0] ** 2 + 2 * m_hk * qd[:, 0] * qd[:, 1] + m_kk * qd[:, 1] ** 2)
    s, g = LEG.segments, LEG.gravity_mps2
    shank = q[:, 0] - q[:, 1]
    potential = g * ((s.thigh_moment_kgm + (s.shank_mass_kg + s.foot_mass_kg) * s.thigh_length_m)
                     * (1 - np.cos(q[:, 0]))
                     + (s.shank_moment_kgm + s.foot_mass_kg * s.foot_below_knee_m)
                     * (1 - np.cos(shank)) + s.foot_mass_kg * s.foot_forward_m * np.sin(shank))
    return np.asarray(kinetic + potential)


def test_holding_torques_are_legs_gravity() -> None:
    rng = np.random.default_rng(1)
    q = rng.uniform(-0.5, 1.0, (20, 2))
    zero = np.zeros_like(q)
    gravity = LegGravity(("hip_flexion_r", "knee_angle_r"), LEG.segments)
    expected = np.array([gravity.torques(row).copy() for row in q])
    np.testing.assert_allclose(LEG.torques(q, zero, zero), expected, rtol=1e-12)


def test_the_torques_power_equals_the_change_of_the_legs_energy() -> None:
    """τ·q̇ = d(T + V)/dt holds only with the right mass matrix, velocity terms and gravity."""
    t = np.arange(0.0, 2.0, PERIOD_S)
    q, qd, qdd = _motion(t)
    power = np.sum(LEG.torques(q, qd, qdd) * qd, axis=1)
    energy = _energy(q, qd)
    np.testing.assert_allclose(np.gradient(energy, PERIOD_S)[5:-5], power[5:-5], atol=2e-3)
    without_velocity_terms = np.sum((LEG.torques(q, qd, qdd) - LEG.torques(q, 0 * qd, qdd)) * qd,
                                    axis=1)
    assert np.max(np.abs(without_velocity_terms)) > 0.1  # the test sees them


def test_derivatives_of_a_smooth_motion() -> None:
    t = np.arange(0.0, 3.0, PERIOD_S)
    q, qd, qdd = _motion(t)
    velocity, acceleration = derivatives(q, PERIOD_S)
    inner = slice(100, -100)
    np.testing.assert_allclose(velocity[inner], qd[inner], atol=0.02)
    np.testing.assert_allclose(acceleration[inner], qdd[inner], atol=0.15)


def test_swing_mask_takes_the_half_open_intervals() -> None:
    t = np.arange(10.0)
    mask = swing_mask(t, np.array([1.0, 5.5]), np.array([3.0, 7.0]))
    assert np.flatnonzero(mask).tolist() == [1, 2, 6]


@pytest.mark.parametrize(("robot_part", "patient_pct"), [(1.0, 0.0), (0.0, 100.0), (0.5, 50.0)])
def test_share_of_a_known_split_of_the_needed_torque(robot_part: float, patient_pct: float) -> None:
    t = np.arange(0.0, 5.0, PERIOD_S)
    q, qd, qdd = _motion(t)
    robot = robot_part * LEG.torques(q, qd, qdd)
    offs, ends = np.array([0.5, 2.0, 3.5]), np.array([1.2, 2.7, 4.2])
    share = swing_work_share(t, q, robot, offs, ends, LEG)
    assert share.patient_pct == pytest.approx(patient_pct, abs=1.5)


def test_each_strides_share_is_its_own_split_and_the_strides_add_up() -> None:
    t = np.arange(0.0, 5.0, PERIOD_S)
    q, qd, qdd = _motion(t)
    needed = LEG.torques(q, qd, qdd)
    offs, ends = np.array([0.5, 2.0, 3.5]), np.array([1.2, 2.7, 4.2])
    robot_part = np.select([t < 1.6, t < 3.1], [1.0, 0.5], 0.0)[:, None]  # all, half, none
    estimate = swing_work_share(t, q, robot_part * needed, offs, ends, LEG)
    assert estimate.stride_patient_pct == pytest.approx([0.0, 50.0, 100.0], abs=2.5)
    truth = true_swing_work_share(t, q, robot_part * needed, (1.0 - robot_part) * needed, offs,
                                  ends)
    assert truth.stride_patient_pct == pytest.approx([0.0, 50.0, 100.0], abs=1e-9)
    for share in (estimate, truth):
        assert share.patient_j == pytest.approx(share.stride_patient_j.sum())
        assert share.robot_j == pytest.approx(share.stride_robot_j.sum())
    assert truth.stride_patient_j[0] == 0.0 and truth.stride_robot_j[2] == 0.0
    # the last stride's swing left out: the totals lose exactly its work
    shorter = true_swing_work_share(t, q, robot_part * needed, (1.0 - robot_part) * needed,
                                    offs[:2], ends[:2])
    assert shorter.patient_j == pytest.approx(truth.patient_j - truth.stride_patient_j[2])


@pytest.mark.parametrize("protocol", ["transparent_walk", "standard_gait"])
def test_share_against_the_simulated_patients_true_torques(protocol: str, tmp_path: Path) -> None:
    store = tmp_path / "store.sqlite"
    session, samples, tau_patient = simulate_with_true_torques(protocol, 15.0, store)
    analysis = analyze_samples(samples, height_m=1.75, mass_kg=75.0)  # the simulated patient
    assert "patient_work_share_swing_pct" not in analyze_samples(samples).assistance
    assert analysis.assistance["patient_work_share_source"] == SOURCE_ESTIMATE
    # the session stored the patient model's muscle torques: the report's share comes from them
    with SessionStore.open(store) as st:
        truth = load_truth(st, session, MUSCLE_TORQUE)
    assert truth is not None and truth.source == "in-process simulation"
    with_truth = analyze_samples(samples, height_m=1.75, mass_kg=75.0,
                                 muscle_torque_nm=truth.acting_from(samples.tick))
    assert with_truth.assistance["patient_work_share_source"] == SOURCE_TRUTH
    assert with_truth.assistance["patient_work_share_estimate_swing_pct"] == (
        analysis.assistance["patient_work_share_swing_pct"])
    report_rows = dict(session_table(load_report_data(store, session))[2])  # the demo patient's
    assert report_rows["patient's share of the positive work in swing, right (%)"] == (
        f"{with_truth.assistance['patient_work_share_swing_pct']['right']:.1f}")
    assert report_rows["patient's work share from"] == SOURCE_TRUTH
    for side, joints in (("right", [0, 1]), ("left", [2, 3])):
        table = analysis.strides[side]
        assert table["end_s"].size >= 8
        found = swing_work_share(samples.t_s, samples.q[:, joints], samples.tau[:, joints],
                                 table["foot_off_s"], table["end_s"], LEG)
        true_j = true_patient_work_j(samples, tau_patient, joints, table["foot_off_s"],
                                     table["end_s"])
        true_pct = 100.0 * true_j / (true_j + found.robot_j)
        assert found.patient_pct == pytest.approx(true_pct, abs=10.0), (side, true_pct)
        assert analysis.assistance["patient_work_share_swing_pct"][side] == found.patient_pct
        if protocol == "transparent_walk":
            assert true_pct > 50.0  # the patient walks alone: the check covers a large share
        else:
            assert true_pct < 30.0  # full guidance: the robot does most of it


def _in_step(name: str) -> ImpairmentProfile:
    """The profile ``name`` walking in step with the robot: its own rhythm without
    stride-to-stride variability. With it, the simulated patient's intended gait phase drifts
    against path control's clock-driven window by up to a tenth of a stride, and that drift, not
    strength, sets the share (docs/patient-display.md, "What sets the share")."""
    return replace(PROFILES[name], name=f"{name}_in_step", stride_variability=0.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_the_true_work_share_follows_the_simulated_patients_strength(
        seed: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From the stored simulation truth, at the same guidance (path control, 8 s), patients in
    step with the robot: the strong profile does more of the positive swing work than the
    healthy one; a hemiparetic patient's paretic leg less than the unaffected one (either side)
    and less than a healthy leg; the bilaterally weak incomplete-SCI patient less than the
    healthy one and than a stroke patient's unaffected leg, and less on average than the stroke
    patient. Each stride's share is steady along the session and the session's share lies
    among them."""
    shares: dict[str, dict[str, float]] = {}
    for name in ("athletic", "healthy", "stroke_left", "stroke_right", "sci_incomplete"):
        profile = _in_step(name)
        monkeypatch.setitem(PROFILES, profile.name, profile)
        store = tmp_path / f"{name}.sqlite"
        session = SessionRunner(SessionRequest(
            robot=load_robot_config(), protocol=load_protocol("path_control"), store_path=store,
            duration_s=8.0, profile=profile.name, seed=seed)).run().session_id
        found = load_report_data(store, session).engagement
        assert found is not None and found.work_share_source == SOURCE_TRUTH
        assert found.work_share_estimate_pct.keys() == found.work_share_pct.keys() == {
            "right", "left"}
        for side, share in found.work_share_pct.items():
            per_stride = found.strides[side]["work_share_swing_pct"]
            assert per_stride.size >= 4 and np.all(np.isfinite(per_stride)), (name, side)
            assert per_stride.min() <= share <= per_stride.max(), (name, side, per_stride)
            assert np.ptp(per_stride) < 10.0, (name, side, per_stride)  # no drift in step
        shares[name] = found.work_share_pct
    mean = {name: (s["right"] + s["left"]) / 2.0 for name, s in shares.items()}
    paretic = [shares["stroke_left"]["left"], shares["stroke_right"]["right"]]
    unaffected = [shares["stroke_left"]["right"], shares["stroke_right"]["left"]]
    assert mean["athletic"] > mean["healthy"] + 3.0, shares
    for weak, strong in zip(paretic, unaffected, strict=True):
        assert weak + 2.0 < strong, shares
        assert weak + 2.0 < mean["healthy"], shares
        assert mean["sci_incomplete"] + 2.0 < strong, shares
    assert mean["sci_incomplete"] + 3.0 < mean["healthy"], shares
    assert mean["sci_incomplete"] < min(mean["stroke_left"], mean["stroke_right"]), shares
