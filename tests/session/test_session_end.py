"""The end of a walk: the belt ramps to a stop, then the torque fades, then the drives are
disabled. The fade never runs with the belt moving (issue 14: a 10-minute session faulted on a
knee limit during the fade, the belt still running)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rehabbot.hal.config import RobotConfig, load_robot_config
from rehabbot.hal.robot import Lifecycle
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.plant import Plant, PlantSettings, open_plant
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.sim.simulator import SimulatedExoskeleton
from rehabbot.storage.samples import Sample
from rehabbot.storage.store import SessionStore


class Watch:
    """Per tick: the belt's speed now and whether the supervisor's stop has begun."""

    def __init__(self) -> None:
        self.plant: Plant | None = None
        self.runner: SessionRunner | None = None
        self.ticks: list[tuple[float, float, bool]] = []

    def open(self, config: RobotConfig, settings: PlantSettings) -> Plant:
        self.plant = open_plant(config, settings)
        return self.plant

    def push(self, sample: Sample) -> None:
        t_s = sample.t_s
        assert self.plant is not None and self.runner is not None
        loop = self.runner.loop
        sim = self.plant.treadmill
        assert isinstance(sim, SimulatedExoskeleton) and loop is not None
        self.ticks.append((t_s, sim.world.belt_speed_mps, loop.supervisor.reaction_ is not None))


@pytest.mark.parametrize("profile", ["healthy", "stroke_left"])
def test_the_belt_stops_before_the_torque_fades_and_the_session_completes(
        tmp_path: Path, profile: str) -> None:
    watch = Watch()
    store = tmp_path / "store.sqlite"
    runner = SessionRunner(SessionRequest(
        robot=load_robot_config(), protocol=load_protocol(), store_path=store, duration_s=4.0,
        seed=1, profile=profile, plant=watch.open, live=watch))
    watch.runner = runner
    result = runner.run()
    assert result.status == "completed", [f.describe() for f in result.loop.faults]
    fade = next(k for k, (_, _, stopping) in enumerate(watch.ticks) if stopping)
    t_fade, belt_at_fade, _ = watch.ticks[fade]
    assert belt_at_fade == 0.0  # the fade begins on a belt at rest ...
    assert t_fade >= 4.0 + (3.0 / 3.6) / 1.0  # ... after the walk and the belt's ramp down
    assert all(stopping for _, _, stopping in watch.ticks[fade:])  # and runs to the end
    assert watch.ticks[-1][2] and len(watch.ticks) - fade <= 0.5 / 0.001 + 2
    with SessionStore.open(store) as st:
        events = st.list_events(result.session_id)
    kinds = [e["kind"] for e in events]
    belt = [e for e in events if e["kind"] == "belt"]
    assert belt[-1]["detail"]["why"] == "end of session" and belt[-1]["detail"]["speed_mps"] == 0
    assert belt[-1]["t_s"] < events[kinds.index("stop:category_1")]["t_s"]
    # the drives are disabled after the fade: the robot is closed (deactivated) by the plant
    assert watch.plant is not None and watch.plant.robot.lifecycle is not Lifecycle.ACTIVE
