"""Simulated sessions with the simulated patient's true joint torques, to check work estimates.

:func:`simulate_with_true_torques` runs a session of the default robot and the demo patient with
the patient's ``torques`` method wrapped (as ``benchmarks/controllers.py`` does) and returns the
stored samples with the patient's torque at the robot's joints aligned to them: the simulator step
after sample k starts from the state the drives reported as sample k, so it is call k + 1.
Used by ``tests/assessment/test_work_share.py`` and ``benchmarks/work_share.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

import rehabbot.session.sim_plant as sim_plant
from rehabbot.assessment.work_share import derivatives, swing_mask
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.sim.simulator import SimulatedExoskeleton
from rehabbot.storage.samples import SessionSamples
from rehabbot.storage.store import SessionStore

#: Largest difference (rad) between a recorded simulator state and its stored sample.
ALIGNED_RAD = 2e-3


class _TrueTorques(SimulatedExoskeleton):
    """The simulator with the patient's torques at the robot's joints recorded at every step."""

    recorded: ClassVar[list[tuple[np.ndarray, np.ndarray]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        joints = [self.world.joint_names.index(j.name) for j in args[0].joints]
        torques = self.patient.torques

        def recorded(t_s: float, q: np.ndarray, qd: np.ndarray, contact: bool) -> np.ndarray:
            tau = torques(t_s, q, qd, contact)
            self.recorded.append((q[joints].copy(), tau[joints].copy()))
            return tau

        self.patient.torques = recorded  # type: ignore[method-assign]


def simulate_with_true_torques(protocol: str, seconds: float, store: Path
                               ) -> tuple[int, SessionSamples, np.ndarray]:
    """Session id, stored samples and the patient's true torques (N·m, samples × joints)."""
    _TrueTorques.recorded = []
    plain = sim_plant.SimulatedExoskeleton
    sim_plant.SimulatedExoskeleton = _TrueTorques  # type: ignore[misc]
    try:
        session = SessionRunner(SessionRequest(
            robot=load_robot_config(), protocol=load_protocol(protocol), store_path=store,
            duration_s=seconds)).run().session_id
    finally:
        sim_plant.SimulatedExoskeleton = plain  # type: ignore[misc]
    with SessionStore.open(store) as st:
        samples = st.load_samples(session)
    n = len(samples.t_s)
    q_sim = np.array([q for q, _ in _TrueTorques.recorded])[1:n + 1]
    misaligned = float(np.max(np.abs(q_sim - samples.q)))
    assert misaligned < ALIGNED_RAD, f"simulator steps and samples do not line up ({misaligned})"
    return session, samples, np.array([tau for _, tau in _TrueTorques.recorded])[1:n + 1]


def true_patient_work_j(samples: SessionSamples, true_tau: np.ndarray, joints: list[int],
                        foot_off_s: np.ndarray, end_s: np.ndarray) -> float:
    """The patient's true positive work (J) over the swings, with the estimate's velocities."""
    period = float(np.median(np.diff(samples.t_s)))
    swing = swing_mask(samples.t_s, foot_off_s, end_s)
    velocity, _ = derivatives(samples.q[:, joints], period)
    return float(np.maximum(true_tau[swing][:, joints] * velocity[swing], 0.0).sum() * period)
