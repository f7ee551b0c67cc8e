"""The figures of one simulated session: tracking, who does the work, torque, phase error.

Shared by ``benchmarks/controllers.py`` (controller × patient table) and the sweep's point runner.
Every figure is taken over the session after the first :data:`SETTLE_S` s (or ``settle_s``), up to
``ran_s`` (the first fault, if any):

* **RMS error (deg)**: hips and knees against the normative pattern at the patient's *true* gait
  phase, taken from the right foot's strikes (the simulator's ground truth), so it is the same
  yardstick whatever the controller's own phase;
* **robot power (W)**: the robot's positive mechanical power, ``W_r / T`` with
  ``W_r = Σ_joints ∫ max(0, τ q̇) dt`` over the measured time ``T``, ``τ`` the drives' measured
  torque: how much the robot pushes the legs (its assistance);
* **robot work (%)**: the robot's share of the positive work, ``W_r / (W_r + W_p)``, when the
  patient's own joint power is known (``W_p`` likewise from the simulated patient's torques);
  NaN otherwise;
* **peak torque (N·m)**: the largest drive torque on any joint, the interaction torque;
* **phase error (ms)**: RMS of the controller's gait phase minus the true phase, times the stride
  duration.

Example::

    m = measure(samples.t_s, samples.phase, samples.contact[:, 0], samples.q, samples.qd,
                samples.tau, samples.joint_names, ran_s=10.0)
    m.rms_error_deg
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from rehabbot.assessment.contact_events import foot_strikes
from rehabbot.body.normative_gait import GaitReference
from rehabbot.hal.types import FloatArray

#: Seconds left out at the start of every session (the first strides settle).
SETTLE_S = 4.0


@dataclass(frozen=True)
class Measures:
    """The figures of one session (see the module docstring); NaN where not measurable."""

    rms_error_deg: float
    robot_power_w: float
    robot_work_pct: float
    peak_torque_nm: float
    phase_error_ms: float
    ran_s: float

    def as_dict(self) -> dict[str, float]:
        """``{figure name: value}``."""
        return asdict(self)


def measure(
    t_s: FloatArray,
    phase: FloatArray,
    contact_r: npt.NDArray[np.bool_],
    q: FloatArray,
    qd: FloatArray,
    tau: FloatArray,
    joint_names: tuple[str, ...],
    ran_s: float,
    patient_power_w: FloatArray | None = None,
    settle_s: float = SETTLE_S,
) -> Measures:
    """The figures of a session's recording.

    Args:
        t_s: loop time of each tick (s), shape (n,).
        phase: the controller's gait phase in [0, 1), shape (n,).
        contact_r: right foot in contact (ground truth), shape (n,).
        q: joint angles (rad), shape (n, joints).
        qd: joint velocities (rad/s), shape (n, joints).
        tau: measured drive torques (N·m), shape (n, joints).
        joint_names: the joint of each column.
        ran_s: time the session ran before a fault (s); later ticks are left out.
        patient_power_w: the patient's positive joint power per tick (W), shape (n,), if known.
        settle_s: time left out at the start (s).
    """
    n = t_s.shape[0]
    strikes = foot_strikes(t_s, contact_r)
    true_phase = np.full(n, np.nan)
    stride_s = np.full(n, np.nan)
    for start, end in itertools.pairwise(strikes):
        inside = (t_s >= start) & (t_s < end)
        true_phase[inside] = (t_s[inside] - start) / (end - start)
        stride_s[inside] = end - start
    used = (t_s >= settle_s) & (t_s < ran_s)
    known = used & ~np.isnan(true_phase)
    nan = float("nan")
    if known.any():
        reference = GaitReference(joint_names)
        normative = np.array([reference.evaluate(p)[0] for p in true_phase[known]])
        rms_error = float(np.degrees(np.sqrt(np.mean((q[known] - normative) ** 2))))
        wrapped = (phase[known] - true_phase[known] + 0.5) % 1.0 - 0.5
        phase_error = float(np.sqrt(np.mean((wrapped * stride_s[known] * 1000.0) ** 2)))
    else:
        rms_error = phase_error = nan
    period = float(np.median(np.diff(t_s))) if n > 1 else nan
    measured_s = float(used.sum()) * period
    robot_work = float(np.maximum(tau[used] * qd[used], 0.0).sum()) * period
    robot_work_pct = nan
    if patient_power_w is not None:
        total = robot_work + float(patient_power_w[used].sum()) * period
        robot_work_pct = 100.0 * robot_work / total if total > 0 else nan
    running = t_s < ran_s
    return Measures(
        rms_error_deg=rms_error,
        robot_power_w=robot_work / measured_s if measured_s > 0 else nan,
        robot_work_pct=robot_work_pct,
        peak_torque_nm=float(np.abs(tau[running]).max()) if running.any() else nan,
        phase_error_ms=phase_error,
        ran_s=ran_s,
    )
