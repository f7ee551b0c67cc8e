"""The session tells the console when its gait phase is uncertain (the phase estimator's
confidence below LOW_PHASE_CONFIDENCE), so that the patient display withholds its feedback.

Transparent walking with the phase read off the thighs: a patient who walks alone keeps the
estimator confident; a weak one who barely moves the legs leaves it without a rhythm."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import pytest

from rehabbot.hal.config import RobotConfig
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.runner import SessionRequest, SessionRunner
from rehabbot.session.session_messages import (
    LOW_PHASE_CONFIDENCE,
    Command,
    PhaseConfidence,
)
from rehabbot.session.session_process import CommandServer

WAIT_S = 120.0


def _confidences(store: Path, robot: RobotConfig, profile: str) -> list[PhaseConfidence]:
    """The PhaseConfidence replies of a whole 8 s lockstep session, in order."""
    protocol = load_protocol("transparent_walk")
    protocol = protocol.model_copy(update={"phase_source": "thighs", "phases": [
        phase.model_copy(update={"phase_source": "thighs"}) for phase in protocol.phases]})
    runner = SessionRunner(SessionRequest(robot=robot, protocol=protocol, store_path=store,
                                          duration_s=8.0, profile=profile))
    replies: queue.Queue[object] = queue.Queue()
    server = CommandServer(runner, replies, lambda: True)
    done = threading.Event()
    serving = threading.Thread(target=server.serve, args=(queue.Queue[Command](), done))
    serving.start()
    try:
        runner.run()
    finally:
        done.set()
        serving.join(WAIT_S)
    found = []
    while not replies.empty():
        reply = replies.get()
        if isinstance(reply, PhaseConfidence):
            found.append(reply)
    return found


@pytest.mark.parametrize(("profile", "uncertain"), [("sci_incomplete", True), ("athletic", False)])
def test_the_session_says_when_the_gait_phase_is_uncertain(
        tmp_path: Path, sim_exo: RobotConfig, profile: str, uncertain: bool) -> None:
    found = _confidences(tmp_path / "s.sqlite", sim_exo, profile)
    if uncertain:
        assert found and found[0].uncertain and found[0].confidence < LOW_PHASE_CONFIDENCE
    else:
        assert found == []  # confident throughout: nothing to say
