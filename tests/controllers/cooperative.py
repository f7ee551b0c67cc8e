"""Whole sessions of the cooperative modes on simulated patients, through the session runner.

:func:`cooperative_session` runs the training phase of a bundled protocol set up as
``benchmarks/controllers.py`` sets up each cooperative mode (``thighs`` phase source,
assist-as-needed at the bundled protocol's ``f = 0.9``, ``h = 60 %/rad``, 0-70 %; path
control's impaired-patient tunnel), for a simulated patient of a given profile, with the
simulator's patient torques recorded (``tests/assessment/true_work.py``) so the positive work
each side does on the robot's joints is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

import rehabbot.session.sim_plant as sim_plant
from rehabbot.configfile import bundled_file
from rehabbot.controllers.base import Controller
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionResult, SessionRunner
from rehabbot.storage.samples import SessionSamples
from rehabbot.storage.store import SessionStore
from tests.assessment.true_work import _TrueTorques

#: Each cooperative mode: (bundled protocol, its text edits {old: new}).
MODES: dict[str, tuple[str, dict[str, str]]] = {
    "impedance 50 %, thighs": ("standard_gait", {
        'controller = "impedance"\n': 'controller = "impedance"\nphase_source = "thighs"\n',
        "guidance_pct = 100\n": "guidance_pct = 50\n"}),
    "assist-as-needed": ("assist_as_needed", {
        'phase_source = "oscillator"': 'phase_source = "thighs"'}),
    "path control": ("path_control", {}),  # the bundled tunnel is the impaired patient's
}


@dataclass(frozen=True)
class Outcome:
    """A cooperative session: the runner's result, its samples, the robot's share of the
    positive work on the joints (%), and the controller that ran it (the protocol's phases)."""

    result: SessionResult
    samples: SessionSamples
    robot_work_pct: float
    controller: Controller


def cooperative_session(tmp: Path, mode: str, profile: str, seconds: float) -> Outcome:
    """A ``seconds`` long training phase of ``mode`` (a key of :data:`MODES`) for a simulated
    patient of ``profile``; the store is ``tmp/<profile>.sqlite``."""
    name, edits = MODES[mode]
    text = bundled_file("protocols", f"{name}.toml").read_text()
    for old, new in edits.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp / f"{name}.toml"
    path.write_text(text)
    store = tmp / f"{profile}.sqlite"
    _TrueTorques.recorded = []
    plain = sim_plant.SimulatedExoskeleton
    sim_plant.SimulatedExoskeleton = _TrueTorques  # type: ignore[misc]
    try:
        runner = SessionRunner(SessionRequest(
            robot=load_robot_config(), protocol=load_protocol(path), store_path=store,
            duration_s=seconds, profile=profile))
        result = runner.run()
    finally:
        sim_plant.SimulatedExoskeleton = plain  # type: ignore[misc]
    with SessionStore.open(store) as st:
        samples = st.load_samples(result.session_id)
    period = float(np.median(np.diff(samples.t_s)))
    n = len(samples.t_s)  # the simulator step after sample k is call k + 1 (true_work's note)
    patient_tau = np.array([tau for _, tau in _TrueTorques.recorded])[1:n + 1]
    robot_j = float(np.maximum(samples.tau * samples.qd, 0.0).sum()) * period
    patient_j = float(np.maximum(patient_tau * samples.qd[:len(patient_tau)], 0.0).sum()) * period
    assert runner.loop is not None
    return Outcome(result, samples, 100.0 * robot_j / (robot_j + patient_j),
                   runner.loop.controller)
