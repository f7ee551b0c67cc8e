"""The cooperative modes walk the impaired patients they are made for (issue 17).

Every session is the training phase of a bundled protocol set up as ``benchmarks/controllers.py``
sets up the mode, through the session runner and the simulated robot's CAN path, for
:data:`SECONDS` s; each (mode, patient) session runs once and is shared by the tests below.
The patient models and the controllers' settings were chosen on ``stroke_left``, ``stroke_right``
and ``sci_incomplete`` (see docs/controllers.md); ``healthy`` and ``athletic`` were not used to
choose anything and check that the phase stays bounded and the work share in order.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from rehabbot.controllers.assist_as_needed import AssistAsNeededController
from rehabbot.protocols.phased import PhasedController
from rehabbot.sweeps.measure import measure
from tests.controllers.cooperative import MODES, Outcome, cooperative_session

SECONDS = 15.0
IMPAIRED = ("stroke_left", "stroke_right", "sci_incomplete")
#: 5 % of the 1.33 s stride at the protocols' 90 steps/min: the issue's bound on the phase error.
PHASE_AIM_MS = 0.05 * 120.0 / 90.0 * 1000.0

Session = Callable[[str, str], Outcome]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Session:
    """Runs each (mode, profile) session once per module."""
    done: dict[tuple[str, str], Outcome] = {}

    def run(mode: str, profile: str) -> Outcome:
        if (mode, profile) not in done:
            tmp = tmp_path_factory.mktemp(f"{mode.split()[0]}-{profile}")
            done[mode, profile] = cooperative_session(tmp, mode, profile, SECONDS)
        return done[mode, profile]

    return run


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("profile", IMPAIRED)
def test_an_impaired_patient_walks_the_whole_session_without_a_fault_while_walking(
    session: Session, mode: str, profile: str,
) -> None:
    # Faults while walking, that is before the session's end. At the end the runner fades the
    # torque out while the belt runs on (it does not stop the belt), and a patient who cannot
    # walk alone is then dragged to a limit: the session is stored 'faulted' although it walked
    # its whole time (docs/controllers.md, "What it shows"; reported to the lead, not changed
    # here because it changes the standard session's last samples).
    outcome = session(mode, profile)
    walking = [f for f in outcome.result.loop.faults if f.t_s < SECONDS]
    assert walking == [], [f.describe() for f in walking]
    assert outcome.samples.t_s[-1] >= SECONDS - 0.01


@pytest.mark.parametrize("profile", ("healthy", "athletic", *IMPAIRED))
def test_the_default_phase_estimator_stays_within_5_percent_of_a_stride(
    session: Session, profile: str,
) -> None:
    samples = session("impedance 50 %, thighs", profile).samples
    figures = measure(samples.t_s, samples.phase, samples.contact[:, 0], samples.q, samples.qd,
                      samples.tau, tuple(samples.joint_names), float(samples.t_s[-1]))
    assert figures.phase_error_ms < PHASE_AIM_MS


@pytest.mark.parametrize("mode", list(MODES))
def test_the_robot_does_less_of_the_work_the_abler_the_patient(session: Session, mode: str
                                                              ) -> None:
    share = {profile: session(mode, profile).robot_work_pct
             for profile in ("healthy", "stroke_left", "stroke_right", "sci_incomplete")}
    assert share["healthy"] < min(share["stroke_left"], share["stroke_right"])
    assert max(share["stroke_left"], share["stroke_right"]) < share["sci_incomplete"]


@pytest.mark.parametrize(("profile", "paretic"), (("stroke_left", "l"), ("stroke_right", "r")))
def test_assist_as_needed_learns_more_guidance_on_the_paretic_side(
    session: Session, profile: str, paretic: str,
) -> None:
    phased = session("assist-as-needed", profile).controller
    assert isinstance(phased, PhasedController)
    aan = phased.current_
    assert isinstance(aan, AssistAsNeededController)
    names = aan.joint_names
    side = {s: float(np.mean([aan.table_pct_[names.index(f"{joint}_{s}")].mean()
                              for joint in ("hip_flexion", "knee_angle")])) for s in "rl"}
    other = "l" if paretic == "r" else "r"
    assert side[paretic] > side[other]
