"""Session setup: a session cannot start while the protocol does not fit the patient."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from rehabbot.body.range_of_motion import RangeOfMotion
from rehabbot.gui.setup_screen import SetupScreen
from rehabbot.hal.config import RobotConfig
from rehabbot.storage.record_models import FittingParameters, PatientProfile
from rehabbot.storage.records import PatientRecords
from rehabbot.storage.store import SessionStore


def fitted(store: Path, code: str, knee: tuple[float, float] | None) -> None:
    with SessionStore.open(store) as st:
        records = PatientRecords(st)
        records.add_patient(PatientProfile(code=code, height_m=1.7), operator="op")
        if knee is not None:
            records.set_fitting(code, FittingParameters(
                thigh_length_m=0.42, shank_length_m=0.4, thigh_cuff_m=0.2, shank_cuff_m=0.2,
                rom_deg={"knee": RangeOfMotion(min_deg=knee[0], max_deg=knee[1])}),
                operator="op")


def test_start_waits_for_a_fitting_that_holds_the_protocols_range_of_motion(
        qtbot: QtBot, tmp_path: Path, sim_exo: RobotConfig) -> None:
    store = tmp_path / "s.sqlite"
    fitted(store, "P-1", None)
    fitted(store, "P-2", (5.0, 60.0))  # standard_gait allows the knee 0..75 deg
    fitted(store, "P-3", (0.0, 90.0))
    screen = SetupScreen(store, sim_exo)
    qtbot.addWidget(screen)
    screen.protocols.setCurrentText("standard_gait")
    started: list[object] = []
    screen.start_requested.connect(lambda *args: started.append(args))
    for code, fits, says in (("P-1", False, "no fitting recorded"),
                             ("P-2", False, "the fitting only 5..60 deg"),
                             ("P-3", True, "OK")):
        screen.set_patient(code)
        assert screen.start_button.isEnabled() is fits, code
        assert says in screen.check.text()
        screen.start()
    assert len(started) == 1 and started[0][0] == "P-3"  # type: ignore[index]
    assert started[0][2] is None  # type: ignore[index]  # duration 0: the phases as planned


def test_setup_starts_on_the_standard_protocol_with_its_phases_as_a_table(
        qtbot: QtBot, tmp_path: Path, sim_exo: RobotConfig) -> None:
    screen = SetupScreen(tmp_path / "s.sqlite", sim_exo)
    qtbot.addWidget(screen)
    assert screen.protocols.currentText() == "standard_gait"  # not the alphabetically first
    assert screen.protocols.itemText(0) != "standard_gait"
    assert screen.protocol is not None and screen.protocol.name == "standard_gait"
    preview = screen.preview.toHtml()
    for heading in ("duration (s)", "cadence (steps/min)", "treadmill (km/h)",
                    "body-weight support (%)", "range of motion (deg)"):
        assert heading in preview
    phases = [p.name for p in screen.protocol.phases]
    text = screen.preview.toPlainText()
    assert all(name in text for name in phases) and len(phases) >= 3
    assert "[" not in text  # no raw model dump
    assert "guidance (%)\n50\n100" in text  # a live bound with its unit
