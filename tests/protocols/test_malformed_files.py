"""Malformed protocol and robot configuration files: each gets exactly one clear message.

Every case is a bundled file with one thing broken (or a file that is not TOML at all). The
message must name the file and say what is wrong; through the CLI (``rehabbot protocols
validate FILE``, ``rehabbot can check FILE``) the command exits with status 2 and prints that one
message as a single line on stderr.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from rehabbot.cli import main
from rehabbot.configfile import bundled_file

PROTOCOL = bundled_file("protocols", "standard_gait.toml").read_text()
ROBOT = bundled_file("robots", "sim_exo.toml").read_text()
GARBAGE = bytes(range(256)) * 4

#: (case, how the standard_gait file is broken (old, new) or whole bytes, expected message)
PROTOCOL_CASES: list[tuple[str, tuple[str, str] | bytes, str]] = [
    ("toml syntax error", ("guidance_pct = 100", "guidance_pct = = 100"),
     r"not valid TOML: Invalid value \(at line 9, column 16\)"),
    ("unknown field", ("guidance_pct = 100", "guidance_pct = 100\nspeed = 3"),
     r"invalid field 'speed' = 3: Extra inputs are not permitted"),
    ("out of range", ("guidance_pct = 100", "guidance_pct = 150"),
     r"invalid field 'guidance_pct' = 150: Value error, guidance_pct = 150 % is out of range "
     r"\[0, 100\] %"),
    ("wrong type", ("guidance_pct = 100", 'guidance_pct = "high"'),
     r"invalid field 'guidance_pct' = 'high': Input should be a valid number"),
    ("missing required field", ('title = "Standard gait training"\n', ""),
     r"^[^;]*invalid field 'title': Field required$"),
    ("missing training default", ("cadence_steps_per_min = 90\n", ""),
     r"^[^;]*invalid field 'cadence_steps_per_min': Field required$"),
    ("empty file", b"", r"the file is empty"),
    ("only comments", b"# nothing here\n", r"the file is empty"),
    ("binary garbage", GARBAGE, r"not a text file \(byte \d+ is not UTF-8\)"),
    ("unknown controller", ('controller = "impedance"', 'controller = "magic"'),
     r"'controller' = 'magic': Value error, unknown controller 'magic'; available: "
     r"assist_as_needed, impedance, path_control, transparent"),
    ("unknown phase kind", ('kind = "warm_up"', 'kind = "stretching"'),
     r"'phases.0.kind' = 'stretching': Input should be 'warm_up', 'training', 'assessment' or "
     r"'cool_down'"),
    ("bounds not containing the value", ("guidance_pct = [50, 100]", "guidance_pct = [50, 90]"),
     r"guidance_pct = 100 % is outside its adjustable bounds \[50, 90\] %"),
    ("bounds outside the absolute range", ("guidance_pct = [50, 100]",
                                           "guidance_pct = [50, 120]"),
     r"adjustable.guidance_pct = \[50, 120\] % must lie inside \[0, 100\] %"),
    ("bounds reversed", ("hip_rom_pct = [80, 110]", "hip_rom_pct = [110, 80]"),
     r"adjustable.hip_rom_pct: the lowest 110 must not be above the highest 80"),
    ("unknown adjustable parameter", ("hip_rom_pct = [80, 110]", "wobble = [0, 1]"),
     r"'wobble' is not a parameter of the impedance controller; known: .*guidance_pct"),
    ("controller parameter out of its range", ("hip_rom_pct = 100\n", "hip_rom_pct = 300\n"),
     r"controller_params.hip_rom_pct = 300 % is out of range \[50, 120\] %"),
    ("phase with neither duration nor step target", ("duration_s = 600\n", ""),
     r"'phases.1': .*phase 'training': give either duration_s \(s\) or steps"),
    ("phase with both duration and step target", ("duration_s = 600\n",
                                                   "duration_s = 600\nsteps = 300\n"),
     r"phase 'training': give either duration_s \(s\) or steps \(a step target\), not both"),
    ("step target not an integer", ("duration_s = 600\n", "steps = 300.5\n"),
     r"'phases.1.steps' = 300.5: Input should be a valid integer"),
    ("duplicate phase names", ('name = "cool_down"', 'name = "warm_up"'),
     r"two phases are named 'warm_up'"),
    ("top-level duration beside phases", ("guidance_pct = 100\n",
                                          "guidance_pct = 100\nduration_s = 60\n"),
     r"duration_s belongs in each \[\[phases\]\] table when a protocol has phases"),
    ("assessment between walking phases", ('name = "training"\nkind = "training"\n'
                                           'duration_s = 600',
                                           'name = "training"\nkind = "assessment"\n'
                                           'assessment = "stiffness"'),
     r"assessment phase 'training' lies between walking phases.*put them before the first"),
    ("assessment with a duration", ('name = "training"\nkind = "training"',
                                           'name = "training"\nkind = "assessment"\n'
                                           'assessment = "stiffness"'),
     r"phase 'training': an assessment phase takes as long as its assessment"),
    ("unknown assessment", ('[[phases]]\nname = "warm_up"',
                            '[[phases]]\nname = "lstiff"\nkind = "assessment"\n'
                            'assessment = "tickle"\n\n[[phases]]\nname = "warm_up"'),
     r"phase 'lstiff': unknown assessment 'tickle'; known: active_rom, isometric, passive_rom, "
     r"stiffness"),
    ("assessment parameter out of bounds", ('[[phases]]\nname = "warm_up"',
                                            '[[phases]]\nname = "lstiff"\nkind = "assessment"\n'
                                            'assessment = "stiffness"\n'
                                            'assessment_params = { velocity_1_deg_s = 900 }\n\n'
                                            '[[phases]]\nname = "warm_up"'),
     r"assessment_params.velocity_1_deg_s = 900 deg/s is outside \[1, 400\] deg/s"),
    ("progression with a bad condition", ("[[phases]]\nname = \"warm_up\"",
                                          "[[progression]]\nwhen = \"rms_error_deg <> 5\"\n"
                                          "then = { guidance_pct = -10 }\n\n"
                                          "[[phases]]\nname = \"warm_up\""),
     r"when = 'rms_error_deg <> 5' is not 'METRIC OP NUMBER'"),
    ("progression on an unknown metric", ("[[phases]]\nname = \"warm_up\"",
                                          "[[progression]]\nwhen = \"happiness > 5\"\n"
                                          "then = { guidance_pct = -10 }\n\n"
                                          "[[phases]]\nname = \"warm_up\""),
     r"unknown metric 'happiness'.*known: duration_s"),
    ("progression of a parameter without bounds", ("[[phases]]\nname = \"warm_up\"",
                                                   "[[progression]]\nwhen = \"rom_deg > 5\"\n"
                                                   "then = { soft_zone_deg = 1 }\n\n"
                                                   "[[phases]]\nname = \"warm_up\""),
     r"progression.0.then.soft_zone_deg: no phase it applies to has adjustable bounds"),
]

#: The same for the bundled sim_exo robot configuration.
ROBOT_CASES: list[tuple[str, tuple[str, str] | bytes, str]] = [
    ("toml syntax error", ("rate_hz = 1000", "rate_hz = 1000x"), r"not valid TOML: .*line 29"),
    ("unknown field", ("bitrate = 1000000", "bitrate = 1000000\nbaud = 5"),
     r"invalid field 'buses.0.baud' = 5: Extra inputs are not permitted"),
    ("out of range", ("rate_hz = 1000", "rate_hz = 1000000"),
     r"invalid field 'loop.rate_hz' = 1000000: Input should be less than or equal to 10000"),
    ("wrong type", ("bitrate = 1000000", 'bitrate = "fast"'),
     r"invalid field 'buses.0.bitrate' = 'fast': Input should be a valid integer"),
    ("missing required field", ('name = "sim-exo"\n', ""),
     r"^[^;]*invalid field 'name': Field required$"),
    ("duplicate node ids", ("node_id = 2", "node_id = 1"),
     r"node ids must be unique on one bus, got \[1, 1\] on 'right'"),
    ("empty file", b"", r"the file is empty"),
    ("binary garbage", GARBAGE, r"not a text file"),
]


def _write(tmp_path: Path, base: str, broken: tuple[str, str] | bytes) -> Path:
    path = tmp_path / "broken.toml"
    if isinstance(broken, bytes):
        path.write_bytes(broken)
    else:
        old, new = broken
        assert old in base, old
        path.write_text(base.replace(old, new, 1))
    return path


def _cli_error(argv: list[str], monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``rehabbot ARGV`` in this process; assert exit status 2 and one stderr line."""
    monkeypatch.setattr(sys, "argv", ["rehabbot", *argv])
    with pytest.raises(SystemExit) as ended:
        main()
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("error: ")
    return err[len("error: "):].rstrip("\n")


@pytest.mark.parametrize(("case", "broken", "message"), PROTOCOL_CASES,
                         ids=[c[0] for c in PROTOCOL_CASES])
def test_a_malformed_protocol_gets_one_message_naming_file_and_field(
    case: str, broken: tuple[str, str] | bytes, message: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    path = _write(tmp_path, PROTOCOL, broken)
    text = _cli_error(["protocols", "validate", str(path)], monkeypatch, capsys)
    assert text.startswith(f"{path}: "), text
    assert re.search(message, text[len(f"{path}: "):]), text


@pytest.mark.parametrize(("case", "broken", "message"), ROBOT_CASES,
                         ids=[c[0] for c in ROBOT_CASES])
def test_a_malformed_robot_configuration_gets_one_message_naming_file_and_field(
    case: str, broken: tuple[str, str] | bytes, message: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    path = _write(tmp_path, ROBOT, broken)
    text = _cli_error(["can", "check", str(path)], monkeypatch, capsys)
    assert text.startswith(f"{path}: "), text
    assert re.search(message, text[len(f"{path}: "):]), text


def test_a_missing_protocol_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    text = _cli_error(["protocols", "validate", str(tmp_path / "nope.toml")], monkeypatch, capsys)
    assert text == f"{tmp_path / 'nope.toml'}: cannot read the file (No such file or directory)"


def test_an_unknown_bundled_name_lists_the_bundled_protocols(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    text = _cli_error(["protocols", "show", "nonsense"], monkeypatch, capsys)
    assert text.startswith("no protocol named 'nonsense': give a .toml file or one of ")
    assert "high_steps_300" in text and "robot_assessment_battery" in text


def test_the_console_script_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    path = _write(tmp_path, PROTOCOL, ("guidance_pct = 100", "guidance_pct = 150"))
    done = subprocess.run([sys.executable, "-m", "rehabbot", "protocols", "validate", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {path}: invalid field 'guidance_pct' = 150: Value error, guidance_pct = 150 % "
        "is out of range [0, 100] %"]
