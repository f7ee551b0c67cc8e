"""All gait metrics of a recording: events, per-stride parameters, session statistics, scores.

:func:`analyze_gait` takes sagittal joint angles (rad, joint names as in OpenSim: ``hip_flexion_r``,
``knee_angle_r``, ``ankle_angle_r``, ``_l``; hips and knees required, ankles optional) and returns a
:class:`GaitAnalysis`:

* events per side from the angles alone (:mod:`~rehabbot.assessment.kinematic_events`);
* per complete stride and side: the temporal parameters of :mod:`~rehabbot.assessment.strides`,
  per joint the range of motion, maximum and minimum (deg) and the Gait Variable Score (deg);
* per side, each parameter's mean, SD (n − 1) and coefficient of variation (SD / mean × 100 %);
* for each parameter the symmetry index SI = 2 |L − R| / (L + R) × 100 % (Robinson et al. 1987)
  of the side means;
* the time-normalized curves' mean and SD (deg, 101 points) per side and joint;
* the Movement Analysis Profile and Gait Profile Scores (:mod:`~rehabbot.assessment.scores`);
* step count, walking time (s), distance (m, when the speed is known), cadence (steps/min);
* the robot's assistance: guidance (%) and mean |commanded torque| (N·m) per joint, when given;
  with the reference angles too, per stride and joint the Lokomat-style biofeedback and the mean
  |commanded torque| (N·m) in the stance and the swing of the joint's leg
  (:mod:`~rehabbot.assessment.biofeedback`); with the drive-measured torques and the leg's
  dynamics, per side the patient's share of the positive joint work in swing (%,
  :mod:`~rehabbot.assessment.work_share`). A recording without torques (a gait-lab file) has
  none of these.

The coefficient of variation and the symmetry index are given only for ratio-scale parameters
(times, percentages of the stride, ranges of motion, GVS): for an angle that can be negative or
zero, such as a peak hip extension, a ratio to its mean means nothing. docs/metrics.md defines
every metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rehabbot.assessment.biofeedback import PARTS, stride_parts
from rehabbot.assessment.kinematic_events import (
    EXOSKELETON,
    OVERGROUND,
    SIDE_SUFFIX,
    SIDES,
    EventBias,
    SideEvents,
    detect_events,
)
from rehabbot.assessment.kinematics import normalized_curves_deg, stride_extrema_deg
from rehabbot.assessment.scores import (
    DEFAULT_LEG_LENGTH_M,
    LEG_LENGTH_PER_HEIGHT,
    PROFILE_VARIABLES,
    baker_gait_profile,
    gait_variable_scores,
    movement_analysis_profile,
    normative_mean_deg,
    profile_normative_deg,
    speed_class,
)
from rehabbot.assessment.strides import TEMPORAL_PARAMETERS, stride_table
from rehabbot.assessment.summary import GaitCounts
from rehabbot.assessment.work_share import SwingLeg, patient_work_shares
from rehabbot.body.anthropometry import BodyModel
from rehabbot.body.orthosis import ExoSegments
from rehabbot.hal.types import FloatArray
from rehabbot.storage.samples import SessionSamples

#: Joint kind → the OpenSim coordinate name without its side suffix.
JOINT_KINDS = {"hip": "hip_flexion", "knee": "knee_angle", "ankle": "ankle_angle"}
#: Joint parameters on a ratio scale (CV and SI are defined for them).
RATIO_JOINT_PARAMETERS = ("rom_deg", "gvs_deg", *(f"assist_{part}_nm" for part in PARTS))


@dataclass(frozen=True)
class Stat:
    """Mean, SD (n − 1) and coefficient of variation (%) of a parameter over strides.

    Attributes:
        mean: mean over strides (the parameter's unit).
        sd: sample standard deviation (the parameter's unit); NaN below two strides.
        cv_pct: SD / mean × 100 (%); None where the parameter is not on a ratio scale.
        n: number of strides.
    """

    mean: float
    sd: float
    cv_pct: float | None
    n: int

    @classmethod
    def of(cls, values: FloatArray, ratio_scale: bool) -> Stat:
        """The statistics of ``values``; CV only when ``ratio_scale``."""
        n = int(values.size)
        mean = float(values.mean()) if n else float("nan")
        sd = float(values.std(ddof=1)) if n >= 2 else float("nan")
        cv = 100.0 * sd / mean if ratio_scale and mean > 0 else None
        return cls(mean, sd, cv if ratio_scale else None, n)


@dataclass
class GaitAnalysis:
    """Everything :func:`analyze_gait` measures. Units are in the names (s, %, deg, m, N·m).

    Attributes:
        events: detected events per side.
        strides: per side, each per-stride parameter as an array over the complete strides.
        summary: per side, each parameter's :class:`Stat`.
        symmetry_pct: symmetry index (%) of each ratio-scale parameter.
        curves_deg: per side and joint kind, ``(mean, sd)`` of the time-normalized curves
            (deg, 101 points).
        movement_analysis_profile: the sagittal MAP: GVS per side and joint kind with each
            side's GPS, and the overall GPS (deg).
        speed_class: the Schwartz normative class used, and ``speed_class_basis`` what chose it.
        step_count, walking_time_s, distance_m, cadence_steps_per_min: session totals.
        assistance: ``guidance_pct`` and ``mean_abs_torque_nm`` per joint, and per side
            ``patient_work_share_swing_pct``, when known (then each stride's share is in the
            stride tables as ``patient_work_share_swing_pct`` too).
        gait_profile: Baker's MAP and GPS over the nine kinematic variables (deg), when the
            recording has them (:func:`~rehabbot.assessment.scores.baker_gait_profile`).
    """

    events: dict[str, SideEvents]
    strides: dict[str, dict[str, FloatArray]]
    summary: dict[str, dict[str, Stat]]
    symmetry_pct: dict[str, float]
    curves_deg: dict[str, dict[str, tuple[FloatArray, FloatArray]]]
    movement_analysis_profile: dict[str, dict[str, float]]
    speed_class: str
    speed_class_basis: str
    step_count: int
    walking_time_s: float
    distance_m: float | None
    cadence_steps_per_min: float
    assistance: dict[str, Any] = field(default_factory=dict)
    gait_profile: dict[str, dict[str, float]] | None = None

    def metrics_dict(self) -> dict[str, Any]:
        """The metrics as plain JSON values (NaN becomes None)."""
        metrics: dict[str, Any] = _plain({
            "step_count": self.step_count,
            "walking_time_s": self.walking_time_s,
            "distance_m": self.distance_m,
            "cadence_steps_per_min": self.cadence_steps_per_min,
            "speed_class": self.speed_class,
            "speed_class_basis": self.speed_class_basis,
            "per_side": {side: {name: vars(stat) for name, stat in stats.items()}
                         for side, stats in self.summary.items()},
            "symmetry_index_pct": self.symmetry_pct,
            "movement_analysis_profile": self.movement_analysis_profile,
            "movement_analysis_profile_variables": "sagittal: hip flexion, knee flexion, ankle "
                                                   "dorsiflexion (not Baker's GPS)",
            "gait_profile_baker": self.gait_profile,
            "strides": self.strides,
            "curves_deg": {side: {kind: {"mean": m, "sd": s} for kind, (m, s) in kinds.items()}
                           for side, kinds in self.curves_deg.items()},
            "assistance": self.assistance,
        })
        return metrics

    def as_dict(self) -> dict[str, Any]:
        """``{"events": {side: {"foot_strike": [...], "foot_off": [...]}}, "metrics": {...}}``."""
        return {"events": {side: self.events[side].as_dict() for side in SIDES},
                "metrics": self.metrics_dict()}


def _plain(value: Any) -> Any:
    """``value`` with arrays as lists, numpy scalars as Python numbers and NaN as None."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray | list | tuple):
        return [_plain(v) for v in (value.tolist() if isinstance(value, np.ndarray) else value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def symmetry_index_pct(left: float, right: float) -> float:
    """SI = 2 |L − R| / (L + R) × 100 (%); NaN unless both are positive.

    >>> symmetry_index_pct(1.0, 1.0), round(symmetry_index_pct(0.9, 1.1), 6)
    (0.0, 20.0)
    """
    if not (left > 0 and right > 0):
        return float("nan")
    return 200.0 * abs(left - right) / (left + right)


def analyze_gait(
    t_s: FloatArray,
    angles_rad: Mapping[str, FloatArray],
    *,
    bias: EventBias = OVERGROUND,
    hip_reference: str = "pelvis",
    speed_m_s: float | None = None,
    leg_length_m: float = DEFAULT_LEG_LENGTH_M,
    commanded_torque_nm: Mapping[str, FloatArray] | None = None,
    guidance_pct: float | None = None,
    reference_angle_rad: Mapping[str, FloatArray] | None = None,
    measured_torque_nm: Mapping[str, FloatArray] | None = None,
    swing_leg: SwingLeg | None = None,
    muscle_torque_nm: Mapping[str, FloatArray] | None = None,
    events: Mapping[str, SideEvents] | None = None,
    profile_rad: Mapping[str, FloatArray] | None = None,
) -> GaitAnalysis:
    """Analyze a walking recording.

    Args:
        t_s: sample times (s), increasing.
        angles_rad: joint angles (rad, flexion and dorsiflexion positive) by OpenSim joint name;
            ``hip_flexion_r/l`` and ``knee_angle_r/l`` are required, ``ankle_angle_r/l`` optional.
        bias: event bias of the recording's context (lab: OVERGROUND; exoskeleton: EXOSKELETON).
        hip_reference: "pelvis" (lab hip angles) or "vertical" (exoskeleton thigh angles).
        speed_m_s: walking or treadmill speed (m/s), if known: picks the normative class and
            gives the distance.
        leg_length_m: leg length (m), to make the speed dimensionless.
        commanded_torque_nm: the robot's commanded torque (N·m) by joint name, if any.
        guidance_pct: the robot's guidance (%), if any.
        reference_angle_rad: the robot's reference angles (rad) by joint name, if any: with
            ``commanded_torque_nm`` they give per stride the biofeedback and assistance torque
            in stance and swing (``{kind}_biofeedback_{part}_nm``, ``{kind}_assist_{part}_nm``).
        measured_torque_nm: the robot's drive-measured torque (N·m) by joint name, if any: with
            ``swing_leg`` it gives per side with a hip and a knee the patient's share of the
            positive work in swing (``assistance["patient_work_share_swing_pct"]``).
        swing_leg: the dynamics of the patient's leg in the orthosis.
        muscle_torque_nm: simulation truth, the simulated patient's muscle torques (N·m) acting
            from each sample's state, by joint name: with ``measured_torque_nm`` the patient's
            work share comes from them instead of the estimate
            (:func:`~rehabbot.assessment.work_share.patient_work_shares`, which says the
            source in ``assistance["patient_work_share_source"]``).
        events: the events to use (s, by side), e.g. those labelled in a file; detected from
            the angles with ``bias`` when None.
        profile_rad: Baker's nine kinematic variables (rad, Plug-in Gait signs) by name and
            side suffix (``pelvis_tilt_r``, ...), when known: they give Baker's GPS
            (``gait_profile``).

    Raises:
        KeyError: a hip or knee angle is missing.
    """
    t = np.asarray(t_s, dtype=float)
    events = dict(events) if events is not None else detect_events(t, angles_rad, bias)
    tables = {side: stride_table(events, side) for side in SIDES}
    counts = GaitCounts.from_tables(tables)  # the one count of steps, strides and cadence
    cadence = counts.cadence_steps_per_min
    speed, basis = speed_class(speed_m_s, cadence, leg_length_m)
    curves: dict[str, dict[str, tuple[FloatArray, FloatArray]]] = {}
    gvs: dict[str, dict[str, float]] = {}
    for side in SIDES:
        table, curves[side], gvs[side] = tables[side], {}, {}
        for kind, coordinate in JOINT_KINDS.items():
            name = coordinate + SIDE_SUFFIX[side]
            if name not in angles_rad:
                continue
            angle = np.asarray(angles_rad[name], dtype=float)
            high, low = stride_extrema_deg(t, angle, table["start_s"], table["end_s"])
            curve = normalized_curves_deg(t, angle, table["start_s"], table["end_s"])
            scores = gait_variable_scores(curve, normative_mean_deg(kind, speed, hip_reference))
            table.update({f"{kind}_rom_deg": high - low, f"{kind}_max_deg": high,
                          f"{kind}_min_deg": low, f"{kind}_gvs_deg": scores})
            nan_curve = np.full(curve.shape[1], np.nan)
            curves[side][kind] = (
                curve.mean(axis=0) if len(curve) else nan_curve,
                curve.std(axis=0, ddof=1) if len(curve) >= 2 else nan_curve,
            )
            gvs[side][kind] = float(scores.mean()) if scores.size else float("nan")
            if commanded_torque_nm and reference_angle_rad and name in commanded_torque_nm \
                    and name in reference_angle_rad:
                parts = stride_parts(t, np.asarray(commanded_torque_nm[name], dtype=float),
                                     np.asarray(reference_angle_rad[name], dtype=float),
                                     table["start_s"], table["foot_off_s"], table["end_s"])
                table.update({f"{kind}_{key}": values for key, values in parts.items()})
    ratio = set(TEMPORAL_PARAMETERS) | {f"{kind}_{p}" for kind in JOINT_KINDS
                                        for p in RATIO_JOINT_PARAMETERS}
    summary = {
        side: {name: Stat.of(values, name in ratio) for name, values in tables[side].items()
               if name in ratio or name.endswith(("_max_deg", "_min_deg", "_nm"))}
        for side in SIDES
    }
    symmetry = {name: symmetry_index_pct(summary["left"][name].mean, summary["right"][name].mean)
                for name in sorted(ratio & summary["left"].keys() & summary["right"].keys())}
    walking = counts.walking_time_s
    assistance: dict[str, Any] = {}
    if guidance_pct is not None:
        assistance["guidance_pct"] = guidance_pct
    if commanded_torque_nm:
        assistance["mean_abs_torque_nm"] = {
            name: float(np.mean(np.abs(values))) for name, values in commanded_torque_nm.items()
        }
    if measured_torque_nm and (swing_leg is not None or muscle_torque_nm):
        legs = {}
        for side in SIDES:
            leg = [JOINT_KINDS[kind] + SIDE_SUFFIX[side] for kind in ("hip", "knee")]
            if all(name in angles_rad and name in measured_torque_nm for name in leg):
                legs[side] = (
                    np.column_stack([angles_rad[name] for name in leg]),
                    np.column_stack([measured_torque_nm[name] for name in leg]),
                    np.column_stack([muscle_torque_nm[name] for name in leg])
                    if muscle_torque_nm and all(name in muscle_torque_nm for name in leg)
                    else None)
        shares = patient_work_shares(t, legs, tables, swing_leg)
        for side, per_stride in shares.pop("patient_work_share_stride_swing_pct", {}).items():
            tables[side]["patient_work_share_swing_pct"] = per_stride
        assistance.update(shares)
    profile: dict[str, dict[str, float]] | None = None
    if profile_rad:
        baker: dict[str, dict[str, float]] = {}
        for side in SIDES:
            table, baker[side] = tables[side], {}
            for variable in PROFILE_VARIABLES:
                name = variable + SIDE_SUFFIX[side]
                if name in profile_rad and table["start_s"].size:
                    curve = normalized_curves_deg(t, np.asarray(profile_rad[name], dtype=float),
                                                  table["start_s"], table["end_s"])
                    baker[side][variable] = float(gait_variable_scores(
                        curve, profile_normative_deg(variable, speed)).mean())
        profile = baker_gait_profile(baker)
    return GaitAnalysis(
        events=events,
        strides=tables,
        summary=summary,
        symmetry_pct=symmetry,
        curves_deg=curves,
        movement_analysis_profile=movement_analysis_profile(gvs),
        speed_class=speed,
        speed_class_basis=basis,
        step_count=counts.step_count,
        walking_time_s=walking,
        distance_m=None if speed_m_s is None else speed_m_s * walking,
        cadence_steps_per_min=cadence,
        assistance=assistance,
        gait_profile=profile,
    )


def analyze_samples(samples: SessionSamples, *, speed_m_s: float | None = None,
                    height_m: float | None = None,
                    guidance_pct: float | None = None,
                    mass_kg: float | None = None,
                    muscle_torque_nm: FloatArray | None = None) -> GaitAnalysis:
    """Analyze a recorded exoskeleton session (``SessionStore.load_samples``).

    The exoskeleton's context: :data:`~rehabbot.assessment.kinematic_events.EXOSKELETON` event
    bias, hip angles against the vertical, assistance and biofeedback from the commanded torques
    (``tau_cmd``) and the reference angles (``q_ref``).

    Args:
        samples: the session's samples.
        speed_m_s: treadmill speed (m/s), if known.
        height_m: the patient's body height (m), if known: leg length = 0.53 × height.
        guidance_pct: the session's guidance (%), if known.
        mass_kg: the patient's body mass (kg), if known: with the height it gives the patient's
            share of the work in swing (leg model from the anthropometric tables and the
            default orthosis).
        muscle_torque_nm: the simulated patient's muscle torques acting from each sample's
            state (N·m, samples × joints; simulation truth,
            :meth:`~rehabbot.storage.truth.TruthSeries.acting_from`), if known: the patient's
            work share then comes from them.
    """
    names = samples.joint_names
    return analyze_gait(
        samples.t_s,
        {name: samples.q[:, j] for j, name in enumerate(names)},
        bias=EXOSKELETON,
        hip_reference="vertical",
        speed_m_s=speed_m_s,
        leg_length_m=DEFAULT_LEG_LENGTH_M if height_m is None else LEG_LENGTH_PER_HEIGHT * height_m,
        commanded_torque_nm={name: samples.tau_cmd[:, j] for j, name in enumerate(names)},
        guidance_pct=guidance_pct,
        reference_angle_rad={name: samples.q_ref[:, j] for j, name in enumerate(names)},
        measured_torque_nm={name: samples.tau[:, j] for j, name in enumerate(names)},
        swing_leg=None if height_m is None or mass_kg is None else SwingLeg.from_body(
            BodyModel.from_height_mass(height_m, mass_kg), ExoSegments()),
        muscle_torque_nm=None if muscle_torque_nm is None else {
            name: muscle_torque_nm[:, j] for j, name in enumerate(names)},
    )
