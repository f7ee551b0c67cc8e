"""The fault matrix (issues 4 and 13): each scenario of ``fault_matrix_table.SCENARIOS`` is
detected, reacted to within two ticks of its detection with its configured stop, latched until a
reset (refused while its cause persists) and recorded as an event; then whole simulated
sessions: a full store fades the session out and keeps what was committed, and a category-1 stop
mid-walk fades the torque to zero within the fade time with the joints inside their hard limits.
Times are in loop ticks (1 ms).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from rehabbot.hal.config import load_robot_config, whole_periods
from rehabbot.hal.drives import mit
from rehabbot.protocols.schema import load_protocol
from rehabbot.safety import FaultKind, JointLimits, SafetySettings, StopCategory
from rehabbot.safety.settings import periods
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.storage.samples import SampleBlock
from rehabbot.storage.store import SessionStore
from tests.conftest import DriveBench
from tests.safety.conftest import PERIOD_S, tick_of
from tests.safety.fault_matrix_table import AT, SCENARIOS, Scenario, run_scenario

#: The longest a reaction may start after the detection tick (ticks).
REACTION_TICKS = 2
#: sim_exo's command deadline (s).
DEADLINE_S = load_robot_config().loop.command_deadline_s


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_fault_matrix(scenario: Scenario, bench: DriveBench) -> None:
    outcome = run_scenario(scenario, bench)
    if scenario.warning is not None:
        assert scenario.warning in outcome.warnings
    if scenario.kind is None:  # the row says why no fault is expected
        assert (outcome.detected, outcome.reaction) == (None, None)
        assert outcome.reset  # a reset without faults is accepted, commands stay normal
        return
    assert outcome.kind is scenario.kind
    assert outcome.detected is not None and outcome.detected >= AT
    assert outcome.reaction is not None
    assert 0 <= outcome.reaction - outcome.detected <= REACTION_TICKS
    assert outcome.category is scenario.category
    assert outcome.priority is scenario.settings.reaction(scenario.kind).priority
    assert outcome.latched
    assert outcome.refused is (True if scenario.persists else None)
    # on the wall clock this machine's own stalls may keep the command-age warning on: then
    # the reset is refused for that, correctly
    assert outcome.reset or (scenario.wall and outcome.reset_blocked_by == "command_deadline")
    assert outcome.recorded
    if scenario.wall:  # a host stall is faulted on the first tick the loop runs after it
        assert outcome.detected == outcome.first_after_stall
        assert outcome.value is not None and outcome.value > DEADLINE_S
    if scenario.name in ("host death", "killed loop"):  # the drives act alone, in their time
        assert outcome.drive_off_periods is not None
        config = bench.config
        watchdog = whole_periods(config.watchdog_s(config.joints[0]), config.period_s)
        assert outcome.drive_off_periods <= watchdog + 1  # the last frame's period included
    if scenario.name == "host death":
        assert outcome.value == mit.WATCHDOG_ERROR_CODE  # the code the host then reads


# -- whole simulated sessions ----------------------------------------------------------------

def _session(store: Path, duration_s: float) -> SessionRunner:
    return SessionRunner(SessionRequest(robot=load_robot_config(), protocol=load_protocol(),
                                        store_path=store, duration_s=duration_s))


def test_a_full_store_fades_the_session_out_and_keeps_what_was_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the disk fills up at the recorder's third write (counted, not timed: how much loop time a
    # write covers depends on how fast the machine runs the lockstep loop)
    write_block = SessionStore.write_block
    written: list[float] = []  # loop time (s) of each stored block's first sample
    refused: list[float] = []  # ... and of each refused one's

    def filling(store: SessionStore, session_id: int, block: SampleBlock) -> None:
        if len(written) >= 2:
            refused.append(float(block.t_s[0]))
            raise sqlite3.OperationalError("database or disk is full")
        write_block(store, session_id, block)
        written.append(float(block.t_s[0]))

    monkeypatch.setattr(SessionStore, "write_block", filling)
    result = _session(tmp_path / "s.sqlite", 3.0).run()
    assert result.status == "faulted"
    fault = result.loop.faults[0]
    assert (fault.kind, fault.category) == (FaultKind.STORAGE, StopCategory.FADE)
    kinds = [e.kind for e in result.loop.events]
    assert kinds[:2] == ["fault:storage", "stop:category_1"] and "stop:faded" in kinds
    with SessionStore.open(tmp_path / "s.sqlite") as store:
        samples = store.load_samples(result.session_id)
        summary = store.session_summary(result.session_id)
        status = store.get_session(result.session_id).status
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        stored_events = [kind for (kind,) in db.execute(
            "SELECT kind FROM events WHERE session_id = ?", (result.session_id,))]
    assert status == "faulted" and summary is not None
    ticks = np.round(samples.t_s / PERIOD_S).astype(int)
    assert len(ticks) > 0 and ticks[0] == 0 and np.all(np.diff(ticks) == 1)  # no hole
    assert ticks[-1] < round(refused[0] / PERIOD_S)  # all before the failure
    assert "fault:storage" in stored_events
    assert "database or disk is full" in str(summary.recording_error)


def test_a_category_1_stop_mid_walk_fades_to_zero_and_keeps_the_joints_in_their_limits(
    tmp_path: Path,
) -> None:
    config = load_robot_config()
    runner = _session(tmp_path / "s.sqlite", 4.0)
    stop_at_s = 2.0

    def on_progress(t_s: float) -> None:
        if t_s >= stop_at_s:
            runner.request_stop()

    result = runner.run(on_progress)
    (requested,) = [e for e in result.loop.events if e.kind == "stop:requested"]
    stop_tick = tick_of(requested)
    fade_ticks = periods(SafetySettings().fade_s, config.period_s)
    with SessionStore.open(tmp_path / "s.sqlite") as store:
        samples = store.load_samples(result.session_id)
    ticks = np.round(samples.t_s / config.period_s).astype(int)
    after = ticks >= stop_tick
    tau_cmd = np.abs(samples.tau_cmd[after])
    zero_from = int(np.argmax(~tau_cmd.any(axis=1)))
    assert not tau_cmd[zero_from:].any() and zero_from <= fade_ticks + REACTION_TICKS
    assert tau_cmd[0].max() > 1.0  # there was torque to fade
    hard = JointLimits.from_config(config)
    q = samples.q[after]
    assert np.all(q >= hard.position_min_rad) and np.all(q <= hard.position_max_rad)
