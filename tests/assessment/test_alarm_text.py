"""Every condition the supervisor can raise has words a therapist reads, in the screen's units."""

from __future__ import annotations

from rehabbot.assessment.alarm_text import ALARMS, WARNINGS, plain_event
from rehabbot.safety.faults import UNITS, FaultKind


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


def test_each_kind_converts_from_the_unit_the_supervisor_records_it_in() -> None:
    """The words' unit conversions start from ``faults.UNITS``, the unit each fault carries."""
    assert set(UNITS) == set(FaultKind)
    for name, alarm in ALARMS.items():
        assert alarm.unit.si == UNITS[FaultKind(name)], name
    for name, alarm in WARNINGS.items():
        if name in ALARMS:
            assert alarm.unit.si == ALARMS[name].unit.si, name


def test_a_value_in_an_unexpected_unit_is_shown_as_it_came_not_converted() -> None:
    as_rad = plain_event("fault:position_limit", "knee_angle_l", {"value": -0.06, "limit": -0.05},
                         "rad")
    assert as_rad.cause == "The left knee reached -3.4 deg; the robot allows -2.9 deg at most."
    as_deg = plain_event("fault:position_limit", "knee_angle_l", {"value": -3.4, "limit": -2.9},
                         "deg")
    assert as_deg.cause == "The left knee reached -3.4 deg; the robot allows -2.9 deg at most."
