"""``rehabbot analyze`` on short lab trials: no walking trial refused, every choice shown."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import ezc3d  # type: ignore[import-untyped]
import numpy as np
import pytest
from typer.testing import CliRunner

from tests.assessment.test_labfiles_and_cli import analyze_app

MOT = "opensim_subject01_walk_ik.mot"
C3D = "ktk_walk.c3d"


def cut_mot(gait_data: Path, tmp: Path, start_s: float, end_s: float) -> Path:
    """The OpenSim trial cut to the rows with start_s <= time <= end_s (s)."""
    lines = (gait_data / MOT).read_text(encoding="utf-8").splitlines()
    end = lines.index("endheader")
    rows = [line for line in lines[end + 2:]
            if line.strip() and start_s - 1e-9 <= float(line.split()[0]) <= end_s + 1e-9]
    header = [f"nRows={len(rows)}" if line.startswith("nRows=") else line
              for line in lines[:end + 2]]
    path = tmp / f"cut_{start_s:g}_{end_s:g}.mot"
    path.write_text("\n".join(header + rows) + "\n", encoding="utf-8")
    return path


def analyze_json(path: Path, *options: str) -> dict[str, Any]:
    result = CliRunner().invoke(analyze_app(), ["analyze", str(path), "--json", *options])
    assert result.exit_code == 0, result.output
    output: dict[str, Any] = json.loads(result.output)
    return output


def truth(gait_data: Path, trial: str = "opensim_subject01_walk") -> dict[str, Any]:
    events: dict[str, Any] = json.loads((gait_data / "events.json").read_text(
        encoding="utf-8"))[trial]
    return events


def test_a_one_stride_trial_gives_its_stride_its_events_and_a_warning(gait_data: Path,
                                                                      tmp_path: Path) -> None:
    # 0.55-1.95 s: right strikes at 0.618 and 1.853 s with the left's off and strike between
    # them (one complete right stride); the left has one strike only (no stride)
    output = analyze_json(cut_mot(gait_data, tmp_path, 0.55, 1.95))
    true = truth(gait_data)
    right = output["events"]["right"]
    np.testing.assert_allclose(right["foot_strike"], true["right"]["foot_strike"], atol=0.03)
    np.testing.assert_allclose(right["foot_off"], [true["right"]["foot_off"][1]], atol=0.03)
    metrics = output["metrics"]
    assert metrics["per_side"]["right"]["stride_time_s"]["n"] == 1
    assert metrics["per_side"]["right"]["stride_time_s"]["mean"] == pytest.approx(
        true["right"]["foot_strike"][1] - true["right"]["foot_strike"][0], abs=0.03)
    assert metrics["step_count"] == 1
    assert any(w.startswith("left side: no complete stride") for w in output["warnings"])
    assert output["events_used"] == "detected"  # a .mot file holds no events


def test_events_in_the_first_and_last_50_ms_are_found(gait_data: Path, tmp_path: Path) -> None:
    # 0.5833-2.05 s: the right strike at 0.618 s is 35 ms after the start, the left foot off at
    # 2.018 s 32 ms before the end; their reach extrema lie beyond the data (one-sided fit)
    output = analyze_json(cut_mot(gait_data, tmp_path, 0.58, 2.05))
    true = truth(gait_data)
    strikes = np.array(output["events"]["right"]["foot_strike"])
    offs = np.array(output["events"]["left"]["foot_off"])
    assert np.min(np.abs(strikes - true["right"]["foot_strike"][0])) < 0.03
    assert np.min(np.abs(offs - true["left"]["foot_off"][1])) < 0.03


def one_side_labelled(gait_data: Path, tmp: Path) -> Path:
    """ktk_walk.c3d's angle points, rate and time axis with its right events only."""
    source: Any = ezc3d.c3d(str(gait_data / C3D))
    labels = [label.split(":")[-1] for label in source["parameters"]["POINT"]["LABELS"]["value"]]
    keep = [i for i, label in enumerate(labels) if label.endswith(("HipAngles", "KneeAngles",
                                                                    "AnkleAngles"))]
    c3d: Any = ezc3d.c3d()
    c3d["parameters"]["POINT"]["RATE"]["value"] = [source["header"]["points"]["frame_rate"]]
    c3d["parameters"]["POINT"]["LABELS"]["value"] = tuple(labels[i] for i in keep)
    c3d["data"]["points"] = np.asarray(source["data"]["points"])[:, keep, :]
    c3d["header"]["points"]["first_frame"] = source["header"]["points"]["first_frame"]
    group = source["parameters"]["EVENT"]
    times = np.asarray(group["TIMES"]["value"])
    for i, (context, label) in enumerate(zip(group["CONTEXTS"]["value"],
                                             group["LABELS"]["value"], strict=True)):
        if context.strip() == "Right":
            c3d.add_event([float(times[0, i]), float(times[1, i])], context="Right",
                          label=label.strip())
    path = tmp / "right_only.c3d"
    c3d.write(str(path))
    return path


def test_a_trial_with_one_side_labelled_uses_them_and_detects_the_other(gait_data: Path,
                                                                        tmp_path: Path) -> None:
    output = analyze_json(one_side_labelled(gait_data, tmp_path))
    true = truth(gait_data, "ktk_walk")
    assert output["file_events"]["left"] == {"foot_strike": [], "foot_off": []}
    # the right side's events are the file's, exactly; the left's are detected
    np.testing.assert_allclose(output["events"]["right"]["foot_strike"],
                               true["right"]["foot_strike"], atol=1e-4)
    assert output["events"]["left"] == output["detected_events"]["left"]
    np.testing.assert_allclose(output["events"]["left"]["foot_strike"],
                               true["left"]["foot_strike"], atol=0.03)
    assert "left side: the file labels no event; detected from the angles" in output["warnings"]


def test_the_file_knows_leg_length_speed_and_events_and_says_so(gait_data: Path) -> None:
    output = analyze_json(gait_data / C3D)
    choices = output["choices"]
    assert choices["events"] == "labelled in the file (EVENT group)"
    assert choices["leg_length"].startswith("0.885 m from the file")
    assert choices["body_mass"].startswith("73.4 kg")
    # the pelvis markers give 0.87-0.92 m/s (issue 16): the slow class, not free
    speed = float(choices["speed"].split()[0])
    assert 0.85 <= speed <= 0.95 and "pelvis markers" in choices["speed"]
    assert output["metrics"]["speed_class"] == "Slow"
    comparison = output["events_comparison"]
    assert comparison["foot_strike"]["found_pct"] == 100.0
    assert comparison["foot_strike"]["mean_abs_error_ms"] < 20.0


def test_events_detect_ignores_the_files_events(gait_data: Path) -> None:
    output = analyze_json(gait_data / C3D, "--events", "detect")
    assert output["events_used"] == "detected"
    assert output["events"] == output["detected_events"]
    assert output["events"] != output["file_events"]


def run_analyze(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rehabbot", "analyze", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_issue15_item18_a_c3d_whose_first_frame_follows_its_last_gives_one_line(
        gait_data: Path, tmp_path: Path) -> None:
    data = bytearray((gait_data / C3D).read_bytes())
    data[6:8] = (400).to_bytes(2, "little")  # first frame 400 > last frame 373
    path = tmp_path / "backwards.c3d"
    path.write_bytes(bytes(data))
    result = run_analyze(path)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (f"error: {path}: broken C3D header: its first frame (400) comes "
                             f"after its last frame (373); export the file again\n")


def test_issue15_item18_a_mot_with_times_scaled_by_1e_310_gives_one_line(
        gait_data: Path, tmp_path: Path) -> None:
    lines = (gait_data / MOT).read_text(encoding="utf-8").splitlines()
    end = lines.index("endheader")
    scaled = [f"{float(line.split(chr(9))[0]) * 1e-310!r}\t" + "\t".join(line.split("\t")[1:])
              for line in lines[end + 2:] if line.strip()]
    path = tmp_path / "tiny.mot"
    path.write_text("\n".join(lines[:end + 2] + scaled) + "\n", encoding="utf-8")
    result = run_analyze(path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {path}: the samples are ")


@pytest.mark.parametrize("keep_bytes", [600, 60_000, 1_000_000, 4_000_000])
def test_issue15_item4_a_c3d_shorter_than_its_header_says_is_refused_before_parsing(
        gait_data: Path, tmp_path: Path, keep_bytes: int) -> None:
    path = tmp_path / "cut.c3d"
    path.write_bytes((gait_data / C3D).read_bytes()[:keep_bytes])
    result = run_analyze(path)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {path}: truncated C3D file: its header ")
    assert f"the file holds {keep_bytes} bytes" in result.stderr
