"""A stop stops the belt, the simulated person stands, and after a reset through the recovery path
the session walks on: the robot takes the legs back from where they are, the belt ramps up again.

Runner-level, in lockstep: the therapist is a live sample sink acting on the loop's thread at tick
boundaries (E-STOP, release, F7 held, F3), so every run of a seed is the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rehabbot.hal.config import RobotConfig, load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.plant import Plant, PlantSettings, open_plant
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.sim.simulator import SimulatedExoskeleton
from rehabbot.storage.samples import Sample
from rehabbot.storage.store import SessionStore

ESTOP_AT_S = 3.0
#: After the press: the belt has stopped (0.83 s from 3 km/h), the person come to a stand (1 s).
STANDING_FROM_S = ESTOP_AT_S + 2.5
RESET_AT_S = ESTOP_AT_S + 3.0
WALK_AFTER_S = 10.0


class Plants:
    """The plant factory of a test: the in-process simulation, kept for a look at its belt."""

    def __init__(self) -> None:
        self.opened: list[Plant] = []

    def __call__(self, config: RobotConfig, settings: PlantSettings) -> Plant:
        plant = open_plant(config, settings)
        self.opened.append(plant)
        return plant

    @property
    def sim(self) -> SimulatedExoskeleton:
        treadmill = self.opened[-1].treadmill
        assert isinstance(treadmill, SimulatedExoskeleton)
        return treadmill


class Therapist:
    """Presses E-STOP, releases it, holds F7 and presses F3 once the person stands; records what
    the belt and the legs did (on the loop's thread)."""

    def __init__(self, plants: Plants) -> None:
        self.plants = plants
        self.runner: SessionRunner | None = None
        self.belt_at_stop: list[float] = []
        self.standing_qd: list[float] = []
        self.standing_contacts: list[tuple[bool, bool]] = []
        self.accepted_at: float | None = None
        self.belt_after_reset: list[tuple[float, float]] = []
        self.refault_at: float | None = None

    def push(self, sample: Sample) -> None:
        tick, t_s = sample.tick, sample.t_s
        assert self.runner is not None
        loop = self.runner.loop
        if loop is None:
            return
        supervisor, belt = loop.supervisor, self.plants.sim.world
        if self.accepted_at is None:
            if ESTOP_AT_S <= t_s < RESET_AT_S and not supervisor.faults_:
                supervisor.estop(True)
            if supervisor.torque_off_:
                self.belt_at_stop.append(belt.belt_speed_mps)
            if t_s >= STANDING_FROM_S and supervisor.torque_off_:
                self.standing_qd.append(float(np.abs(sample.qd).max()))
                self.standing_contacts.append((sample.contact_r, sample.contact_l))
            if t_s >= RESET_AT_S and supervisor.faults_:
                supervisor.estop(False)
                supervisor.recover(True)  # F7 held, renewed while held
                if tick % 50 == 0:
                    loop.request_reset()  # F3
            elif t_s >= RESET_AT_S and supervisor.reaction_ is None:
                supervisor.recover(False)
                self.accepted_at = t_s
        else:
            self.belt_after_reset.append((t_s, belt.belt_speed_mps))
            if supervisor.faults_ and self.refault_at is None:
                self.refault_at = t_s


@pytest.fixture(scope="module")
def stopped_and_resumed(tmp_path_factory: pytest.TempPathFactory
                        ) -> tuple[Therapist, Path, int, str]:
    """One session for the module's tests: stopped, recovered, reset, walked on."""
    plants = Plants()
    therapist = Therapist(plants)
    store = tmp_path_factory.mktemp("resume") / "store.sqlite"
    runner = SessionRunner(SessionRequest(
        robot=load_robot_config(), protocol=load_protocol(), store_path=store,
        duration_s=RESET_AT_S + WALK_AFTER_S + 2.0, seed=3, profile="athletic", plant=plants,
        live=therapist))
    therapist.runner = runner
    result = runner.run()
    return therapist, store, result.session_id, result.status


def test_a_category_0_stop_stops_the_belt_and_the_person_stands(
        stopped_and_resumed: tuple[Therapist, Path, int, str]) -> None:
    therapist, _, _, _ = stopped_and_resumed
    # ramped, not a jolt: still moving on the tick of the stop, at rest within a second
    assert therapist.belt_at_stop[0] > 0.7
    assert therapist.belt_at_stop[round(1.0 / 0.001)] == 0.0
    # the limp legs of a person standing on the stopped belt: both feet down, nothing swinging
    feet = therapist.standing_contacts
    assert feet and all(right and left for right, left in feet)
    assert max(therapist.standing_qd) < 0.3


def test_after_a_reset_the_belt_ramps_up_and_the_session_walks_ten_seconds_without_a_fault(
        stopped_and_resumed: tuple[Therapist, Path, int, str]) -> None:
    therapist, store, session_id, status = stopped_and_resumed
    assert therapist.accepted_at is not None, "the reset was never accepted"
    assert therapist.refault_at is None, f"faulted again at {therapist.refault_at} s"
    t, speed = np.array(therapist.belt_after_reset).T
    assert t[-1] - therapist.accepted_at >= WALK_AFTER_S
    after = t - therapist.accepted_at
    walking = speed[(after >= 3.0) & (after <= WALK_AFTER_S)]
    assert walking.min() == pytest.approx(3.0 / 3.6)  # back to the protocol's 3 km/h ...
    assert np.all(np.diff(speed) <= 0.3 * 0.001 + 1e-12)  # ... no faster than its ramp
    # the session record: the one latched fault (E-STOP), the reset, the belt's commands
    with SessionStore.open(store) as st:
        events = st.list_events(session_id)
        summary = st.session_summary(session_id)
    assert summary is not None
    faults = [(e["kind"].removeprefix("fault:"), e["joint"]) for e in events
              if e["kind"].startswith("fault:")]
    reset = next(e for e in events if e["kind"] == "reset")
    # every latched fault is in the record, each once: E-STOP first; limp legs on the slowing
    # belt may have gone beyond a limit before the reset (F7 brought them back, the reset
    # cleared them); none after it
    assert faults[0] == ("estop", None)
    assert all(e["t_s"] <= reset["t_s"] for e in events if e["kind"].startswith("fault:"))
    assert {kind for kind, _ in faults[1:]} <= {"position_limit", "rom_exceeded"}
    assert [f.split(" ")[0] for f in summary["faults"]] == [kind for kind, _ in faults]
    assert sorted(str(reset["detail"]["cleared"]).split("; ")) == sorted(
        kind if joint is None else f"{kind}@{joint}" for kind, joint in faults)
    assert status == "faulted"  # a session with a latched fault is stored as such
    whys = [e["detail"]["why"] for e in events if e["kind"] == "belt"]
    assert whys == ["stop (estop)", "reset", "end of session"]
