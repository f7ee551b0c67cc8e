"""Simulation truth: the simulated patient's muscle torques, per tick, from the simulator to the
session's store (in-process directly; from the emulated robot through its side channel)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, ClassVar

import can
import numpy as np
import pytest

import rehabbot.session.sim_plant as sim_plant
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.sim.side_channel import SimulationTruth, contacts_frame, muscle_torque_frames
from rehabbot.sim.simulator import SimulatedExoskeleton
from rehabbot.storage.store import SessionStore
from rehabbot.storage.truth import MUSCLE_TORQUE, load_truth
from tests.session.emulator import emulated_robot

JOINTS = ("hip_flexion_r", "knee_angle_r", "hip_flexion_l", "knee_angle_l")


def test_the_side_channel_carries_the_muscle_torques_to_the_host() -> None:
    channel = f"truth-{uuid.uuid4().hex[:8]}"
    emulator = can.Bus(interface="virtual", channel=channel)
    host = SimulationTruth(can.Bus(interface="virtual", channel=channel), JOINTS)
    try:
        assert host.muscle_torques().tolist() == [0.0] * 4  # before the first report
        for frame in muscle_torque_frames(1, np.array([1.0, 2.0, 3.0, 4.0])):
            emulator.send(frame)
        for frame in muscle_torque_frames(2, np.array([1.5, -2.25, 0.125, 30.0])):
            emulator.send(frame)
        emulator.send(contacts_frame(2, True, False))
        assert host.muscle_torques().tolist() == [1.5, -2.25, 0.125, 30.0]  # the newest
        assert host() == (True, False)  # the contacts still arrive beside them
    finally:
        host.close()
        emulator.shutdown()


class _Recording(SimulatedExoskeleton):
    """The simulator, keeping what each step's patient model gave: its whole torque and its
    passive part at the robot's joints, and the muscle torques the simulator reports."""

    steps: ClassVar[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        joints = [self.world.joint_names.index(name) for name in args[0].joint_names]
        torques = self.patient.torques
        self._given: list[np.ndarray] = []

        def recorded(t_s: float, q: np.ndarray, qd: np.ndarray, contact: bool) -> np.ndarray:
            tau = torques(t_s, q, qd, contact)
            self._given = [tau[joints].copy(), self.patient.passive_torques(q, qd)[joints]]
            return tau

        self.patient.torques = recorded  # type: ignore[method-assign]

    def step(self) -> None:
        super().step()
        self.steps.append((*self._given, self.muscle_torques().copy()))  # type: ignore[arg-type]


def test_a_simulated_session_stores_the_patients_muscle_torques_of_every_tick(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _Recording.steps = []
    monkeypatch.setattr(sim_plant, "SimulatedExoskeleton", _Recording)
    store = tmp_path / "s.sqlite"
    result = SessionRunner(SessionRequest(
        robot=load_robot_config(), protocol=load_protocol(), store_path=store,
        duration_s=2.0, profile="stroke_left")).run()
    assert result.status == "completed"
    with SessionStore.open(store) as st:
        samples = st.load_samples(result.session_id)
        truth = load_truth(st, result.session_id, MUSCLE_TORQUE)
    assert truth is not None and truth.source == "in-process simulation"
    np.testing.assert_array_equal(truth.tick, samples.tick)  # one value per recorded tick
    total, passive, muscle = (np.array(column) for column in zip(*_Recording.steps, strict=True))
    # the muscle torque is the patient model's torque without its passive tissue torque
    np.testing.assert_allclose(muscle, total - passive, atol=1e-12)
    assert np.abs(passive).max() > 1.0  # the difference is seen
    # the torque acting from sample k's state is the simulator step after it (call k + 1)
    n = len(samples.tick)
    acting = truth.acting_from(samples.tick)
    np.testing.assert_array_equal(acting[:-1], muscle[1:n])
    assert np.isnan(acting[-1]).all()  # the last tick's successor was never recorded
    assert np.ptp(acting[:-1], axis=0).min() > 1.0  # every joint's muscles worked


def test_the_emulated_robot_sends_its_patients_muscle_torques_to_the_session(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "s.sqlite"
    with emulated_robot(monkeypatch) as emulator:
        result = SessionRunner(SessionRequest(load_robot_config("emu_exo"), load_protocol(),
                                              store, duration_s=3.0)).run()
        emulator.stop()
    with SessionStore.open(store) as st:
        samples = st.load_samples(result.session_id)
        truth = load_truth(st, result.session_id, MUSCLE_TORQUE)
    assert truth is not None and truth.source == "emulated robot"
    np.testing.assert_array_equal(truth.tick, samples.tick)
    walking = truth.value[samples.t_s > 1.0]  # the reports arrive as the physics runs
    assert np.ptp(walking, axis=0).min() > 1.0
    assert np.all(np.isfinite(walking))
