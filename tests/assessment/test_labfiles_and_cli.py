"""Reading gait-lab files and ``analyze``: real trials, and one clear error for broken files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from rehabbot.assessment.cli import analyze_command
from rehabbot.assessment.labfiles import GaitFileError, read_gait_file

MOT = "opensim_subject01_walk_ik.mot"
C3D = "ktk_walk.c3d"


def analyze_app() -> typer.Typer:
    """An app with ``analyze`` registered the way the main CLI registers it."""
    app = typer.Typer()
    app.command("analyze")(analyze_command)

    @app.command("version")
    def version() -> None:  # a second command keeps "analyze" a subcommand, as in rehabbot
        """Unused."""

    return app


def test_c3d_angles_are_read_on_vicons_time_axis_in_rad(gait_data: Path) -> None:
    recording = read_gait_file(gait_data / C3D)
    # header first frame 153 (1-based) at 100 Hz: the first sample is at (153 - 1) / 100 s
    assert recording.t_s[0] == pytest.approx(1.52)
    assert recording.t_s.size == 221 and recording.rate_hz == pytest.approx(100.0)
    assert set(recording.angles_rad) == {f"{j}_{s}" for j in ("hip_flexion", "knee_angle",
                                                               "ankle_angle") for s in "rl"}
    knee = np.degrees(recording.angles_rad["knee_angle_r"])
    assert 55 < knee.max() < 70 and knee.min() > 0  # Plug-in Gait: knee flexion positive


def test_opensim_knee_flexion_is_turned_positive(gait_data: Path) -> None:
    recording = read_gait_file(gait_data / MOT)
    assert recording.t_s[0] == 0.0 and recording.t_s.size == 151
    knee = np.degrees(recording.angles_rad["knee_angle_l"])
    assert 60 < knee.max() < 75 and knee.min() > -10


def test_analyze_json_gives_events_on_the_files_time_axis(gait_data: Path) -> None:
    result = CliRunner().invoke(analyze_app(), ["analyze", str(gait_data / C3D), "--json"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    truth = json.loads((gait_data / "events.json").read_text(encoding="utf-8"))["ktk_walk"]
    for side in ("left", "right"):
        for name in ("foot_strike", "foot_off"):
            np.testing.assert_allclose(output["events"][side][name], truth[side][name], atol=0.05)
    metrics = output["metrics"]
    assert metrics["per_side"]["right"]["stride_time_s"]["mean"] == pytest.approx(1.08, abs=0.02)
    assert set(metrics["movement_analysis_profile"]["left"]) == {"hip", "knee", "ankle", "gps"}


def test_analyze_prints_a_metrics_table(gait_data: Path) -> None:
    result = CliRunner().invoke(analyze_app(), ["analyze", str(gait_data / MOT)])
    assert result.exit_code == 0, result.output
    assert "stride time" in result.output and "GPS" in result.output


def broken_files(gait_data: Path, tmp: Path) -> dict[str, tuple[Path, str]]:
    """Malformed files and a fragment of the expected error message."""
    text_c3d = tmp / "notes.c3d"
    text_c3d.write_text("this is not a C3D file\n")
    truncated_c3d = tmp / "cut.c3d"
    truncated_c3d.write_bytes((gait_data / C3D).read_bytes()[:3_000_000])
    mot_lines = (gait_data / MOT).read_text(encoding="utf-8").splitlines()
    end = mot_lines.index("endheader")
    no_endheader = tmp / "no_endheader.mot"
    no_endheader.write_text("\n".join(mot_lines[:end] + mot_lines[end + 1:]))
    no_degrees = tmp / "no_degrees.mot"
    no_degrees.write_text("\n".join(line for line in mot_lines if "inDegrees" not in line))
    truncated_mot = tmp / "cut.mot"
    truncated_mot.write_text("\n".join(mot_lines[:60]) + "\n0.7\t1.0\t2.0")
    labels = mot_lines[end + 1].split("\t")
    keep = [i for i, name in enumerate(labels) if not name.strip().startswith("knee")]
    no_knees = tmp / "no_knees.mot"
    no_knees.write_text("\n".join(
        mot_lines[:end + 1]
        + ["\t".join(line.split("\t")[i] for i in keep) for line in mot_lines[end + 1:]]))
    still = tmp / "still.mot"
    still.write_text("\n".join(mot_lines[:end + 2] + [
        "\t".join([line.split("\t")[0]] + ["0"] * (len(labels) - 1))
        for line in mot_lines[end + 2:]]))
    return {
        "text named .c3d": (text_c3d, "not a readable C3D file"),
        "truncated C3D": (truncated_c3d, "truncated C3D file"),
        ".mot without endheader": (no_endheader, "no 'endheader' line"),
        ".mot without inDegrees": (no_degrees, "'inDegrees' must be yes or no"),
        "truncated .mot": (truncated_mot, "data row"),
        "missing knee channels": (no_knees, "missing angle channels knee_angle_r, knee_angle_l"),
        "no walking": (still, "no walking found in 2.50 s of data"),
        "no such file": (tmp / "absent.mot", "no such file"),
        "unknown type": (text_c3d.with_suffix(".txt"), "unknown file type"),
    }


CASES = ["text named .c3d", "truncated C3D", ".mot without endheader", ".mot without inDegrees",
         "truncated .mot", "missing knee channels", "no walking", "no such file",
         "unknown type"]


@pytest.mark.parametrize("case", CASES)
def test_a_broken_file_gives_one_clear_error_line(gait_data: Path, tmp_path: Path,
                                                  case: str) -> None:
    path, fragment = broken_files(gait_data, tmp_path)[case]
    if case == "unknown type":
        path.write_text("x")
    result = CliRunner().invoke(analyze_app(), ["analyze", str(path)])
    assert isinstance(result.exception, GaitFileError), result.output
    message = str(result.exception)
    assert "\n" not in message and message.startswith(str(path)) and fragment in message


def test_rehabbot_analyze_command_runs_from_the_main_cli(gait_data: Path, tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "rehabbot", "analyze",
                         str(gait_data / "opensim_subject01_walk_ik.mot"), "--json"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert set(json.loads(ok.stdout)["events"]) == {"left", "right"}
    fake = tmp_path / "fake.c3d"
    fake.write_text("not a c3d file")
    bad = subprocess.run([sys.executable, "-m", "rehabbot", "analyze", str(fake)],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.startswith(f"error: {fake}: not a readable C3D file")
    assert bad.stderr.count("\n") == 1
