"""Every condition the supervisor can raise has words a therapist reads, in the screen's units."""

from __future__ import annotations

from rehabbot.assessment.alarm_text import ALARMS, WARNINGS, plain_event
from rehabbot.safety.faults import FaultKind


def test_every_fault_kind_has_a_plain_title_cause_and_action() -> None:
    missing = {kind.value for kind in FaultKind} - set(ALARMS)
    assert not missing, f"fault kinds without plain words: {sorted(missing)}"
    assert not set(ALARMS) - {kind.value for kind in FaultKind}, "words for a kind that is gone"


def test_an_old_command_reads_in_milliseconds_with_the_remedy() -> None:
    fault = plain_event("fault:command_deadline", None, {"value": 0.0251, "limit": 0.02})
    assert fault.cause == ("The motors ran a command 25.1 ms old (limit 20.0 ms): this computer "
                           "stalled.")
    assert "rehabbot doctor" in fault.action
    warning = plain_event("warning:command_deadline", None, {"value": 0.006, "fault_at": 0.02})
    assert warning.title == "Warning: The control computer is running late"
    assert "6.0 ms" in warning.cause and "20.0 ms" in warning.cause


def test_a_joint_near_its_range_limit_is_a_warning_in_degrees() -> None:
    near = plain_event("warning:rom_margin", "knee_angle_r", {"value": 1.29, "limit": 1.309})
    assert near.title == "Warning: Right knee near the patient's range limit"
    assert near.cause == ("The right knee is at 73.9 deg, close to the protocol's limit of "
                          "75.0 deg.")
    assert "rom_margin" in WARNINGS
