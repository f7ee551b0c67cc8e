"""Exports round-trip: what is written reads back, through ezc3d and the lab-file readers."""

from __future__ import annotations

import csv
import json
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import c3d as pyc3d  # type: ignore[import-untyped]  # the pure-Python reader
import ezc3d  # type: ignore[import-untyped]
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from rehabbot.assessment.kinematic_events import SIDES
from rehabbot.assessment.labfiles import read_gait_file
from rehabbot.errors import ConfigurationError, ExportError, StorageError
from rehabbot.export import available_exporters, export_session, exporter_class
from rehabbot.export.cli import export_command
from tests.export.conftest import RecordedSession

PIG = {"hip_flexion_r": "RHipAngles", "knee_angle_r": "RKneeAngles",
       "hip_flexion_l": "LHipAngles", "knee_angle_l": "LKneeAngles"}
#: float32 keeps ~7 significant digits: angles below 180 deg and times below 10 s.
F32_DEG = 180.0 * 2.0**-23
F32_S = 10.0 * 2.0**-23


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_session_has_events_on_both_sides(recorded: RecordedSession) -> None:
    # The round trips below compare event times; they need some to compare.
    for side in SIDES:
        assert recorded.data.events[side].foot_strike_s.size >= 1
        assert recorded.data.events[side].foot_off_s.size >= 1


def test_c3d_round_trip_through_ezc3d(recorded: RecordedSession, tmp_path: Path) -> None:
    (path,) = recorded.export("c3d", tmp_path)
    assert path == tmp_path / f"session_{recorded.session_id}.c3d"
    assert _mode(path) == 0o600
    samples, data = recorded.data.samples, recorded.data
    c3d: Any = ezc3d.c3d(str(path))
    params = c3d["parameters"]
    assert c3d["header"]["points"]["frame_rate"] == pytest.approx(1.0 / data.info.period_s)
    assert params["POINT"]["ANGLE_UNITS"]["value"] == ["deg"]
    labels = list(params["POINT"]["LABELS"]["value"])
    points = np.asarray(c3d["data"]["points"])
    assert points.shape[2] == len(samples)
    for j, name in enumerate(samples.joint_names):
        k = labels.index(PIG[name])
        np.testing.assert_allclose(points[0, k], samples.q[:, j] * 180.0 / np.pi,
                                   rtol=0, atol=F32_DEG)
        assert np.all(points[1:3, k] == 0.0)

    channels = list(params["ANALOG"]["LABELS"]["value"])
    assert set(params["ANALOG"]["UNITS"]["value"]) == {"N.m"}
    analogs = np.asarray(c3d["data"]["analogs"])[0]
    for j, name in enumerate(samples.joint_names):
        np.testing.assert_allclose(analogs[channels.index(f"{name}_tau")], samples.tau[:, j],
                                   rtol=1e-6, atol=1e-5)
        np.testing.assert_allclose(analogs[channels.index(f"{name}_tau_cmd")],
                                   samples.tau_cmd[:, j], rtol=1e-6, atol=1e-5)

    event = params["EVENT"]
    times = np.asarray(event["TIMES"]["value"], dtype=float)
    seconds = 60.0 * times[0] + times[1]
    contexts, names = list(event["CONTEXTS"]["value"]), list(event["LABELS"]["value"])
    assert set(names) == {"Foot Strike", "Foot Off"}
    for side, context in (("right", "Right"), ("left", "Left")):
        for label, expected in (("Foot Strike", data.events[side].foot_strike_s),
                                ("Foot Off", data.events[side].foot_off_s)):
            got = np.sort([s for s, c, n in zip(seconds, contexts, names, strict=True)
                           if c == context and n == label])
            np.testing.assert_allclose(got, expected, rtol=0, atol=F32_S)


def test_c3d_round_trip_through_the_pure_python_reader(recorded: RecordedSession,
                                                       tmp_path: Path) -> None:
    # An independent C3D implementation (py-c3d) reads the same angles and rate as ezc3d.
    (path,) = recorded.export("c3d", tmp_path)
    reference: Any = ezc3d.c3d(str(path))
    ez_points = np.asarray(reference["data"]["points"])
    ez_labels = list(reference["parameters"]["POINT"]["LABELS"]["value"])
    with path.open("rb") as handle:
        reader: Any = pyc3d.Reader(handle)
        labels = [label.strip() for label in reader.point_labels]
        rate = float(reader.point_rate)
        # frames of (point, xyz) → ezc3d's (xyz, point, frame) layout
        points = np.stack([frame[1][:, :3].T for frame in reader.read_frames()], axis=-1)
    assert labels == ez_labels
    assert rate == pytest.approx(reference["header"]["points"]["frame_rate"])
    assert rate == pytest.approx(1.0 / recorded.data.info.period_s)
    np.testing.assert_allclose(points, ez_points[:3], rtol=0, atol=1e-9)
    samples = recorded.data.samples
    for j, name in enumerate(samples.joint_names):
        np.testing.assert_allclose(points[0, labels.index(PIG[name])], np.degrees(samples.q[:, j]),
                                   rtol=0, atol=F32_DEG)


def test_c3d_round_trip_through_the_lab_file_reader(recorded: RecordedSession,
                                                    tmp_path: Path) -> None:
    (path,) = recorded.export("c3d", tmp_path)
    samples = recorded.data.samples
    recording = read_gait_file(path)
    np.testing.assert_allclose(recording.t_s, samples.t_s, rtol=0, atol=1e-9)
    for j, name in enumerate(samples.joint_names):
        np.testing.assert_allclose(recording.angles_rad[name], samples.q[:, j],
                                   rtol=0, atol=np.radians(F32_DEG))


def test_mot_round_trip_through_the_lab_file_reader(recorded: RecordedSession,
                                                    tmp_path: Path) -> None:
    (path,) = recorded.export("mot", tmp_path)
    assert _mode(path) == 0o600
    text = path.read_text()
    assert "inDegrees=yes" in text.split("endheader")[0]
    samples = recorded.data.samples
    recording = read_gait_file(path)
    np.testing.assert_allclose(recording.t_s, samples.t_s, rtol=1e-9, atol=1e-12)
    for j, name in enumerate(samples.joint_names):
        np.testing.assert_allclose(recording.angles_rad[name], samples.q[:, j], rtol=1e-8,
                                   atol=1e-12)
    # Knee flexion is written positive (Rajagopal signs), so the reader did not negate it.
    row = text.split("endheader\n")[1].splitlines()
    knee = row[0].split("\t").index("knee_angle_r")
    assert max(float(r.split("\t")[knee]) for r in row[1:]) > 30.0


def test_csv_round_trip(recorded: RecordedSession, tmp_path: Path) -> None:
    samples_path, strides_path = recorded.export("csv", tmp_path)
    assert _mode(samples_path) == _mode(strides_path) == 0o600
    samples, data = recorded.data.samples, recorded.data
    table = np.genfromtxt(samples_path, delimiter=",", names=True)
    assert table.dtype.names is not None
    assert table.dtype.names[:5] == ("tick", "t_s", "phase", "contact_r", "contact_l")
    np.testing.assert_array_equal(table["tick"], samples.tick)
    np.testing.assert_allclose(table["t_s"], samples.t_s, rtol=1e-8)
    np.testing.assert_array_equal(table["contact_l"] == 1, samples.contact[:, 1])
    for j, name in enumerate(samples.joint_names):
        np.testing.assert_allclose(table[f"{name}_q_deg"], samples.q[:, j] * 180.0 / np.pi,
                                   rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(table[f"{name}_qd_deg_s"], np.degrees(samples.qd[:, j]),
                                   rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(table[f"{name}_tau_cmd_nm"], samples.tau_cmd[:, j],
                                   rtol=1e-8, atol=1e-12)
    with strides_path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows, "a 3 s session has at least one complete stride"
    for side in SIDES:
        starts = [float(r["start_s"]) for r in rows if r["side"] == side]
        strikes = data.events[side].foot_strike_s
        np.testing.assert_allclose(starts, strikes[:len(starts)], rtol=1e-8)
        assert all(float(r["stride_time_s"]) > 0 for r in rows if r["side"] == side)


def test_unknown_format_lists_the_available_ones(recorded: RecordedSession,
                                                 tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError,
                       match=r"unknown export format 'fbx'.*bids, c3d, csv, fhir, hdf5, mot"):
        recorded.export("fbx", tmp_path)
    assert not any(tmp_path.iterdir())


def test_unknown_session_and_missing_store(recorded: RecordedSession, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="no session 999"):
        export_session(recorded.store_path, 999, "csv", tmp_path / "out", operator="r")
    missing = tmp_path / "nowhere.sqlite"
    with pytest.raises(StorageError, match="no session store"):
        export_session(missing, recorded.session_id, "csv", tmp_path / "out", operator="r")
    assert not missing.exists()  # exporting never creates a store


def test_unwritable_folder(recorded: RecordedSession, tmp_path: Path) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(ExportError, match="cannot create the export folder"):
        recorded.export("mot", blocker / "out")


def test_existing_file_is_made_owner_only(recorded: RecordedSession, tmp_path: Path) -> None:
    old = tmp_path / f"session_{recorded.session_id}.mot"
    old.write_text("old")
    old.chmod(0o644)
    (path,) = recorded.export("mot", tmp_path)
    assert path == old and _mode(path) == 0o600 and "endheader" in path.read_text()


def test_a_format_is_one_file_plus_an_entry_point(recorded: RecordedSession, json_site: Path,
                                                  tmp_path: Path) -> None:
    assert available_exporters()["json"] == ("json_exporter", "JsonExporter")
    assert exporter_class("json").suffix == ".json"
    (path,) = recorded.export("json", tmp_path)
    assert _mode(path) == 0o600
    document = json.loads(path.read_text())
    np.testing.assert_array_equal(document["angles_rad"]["knee_angle_l"],
                                  recorded.data.angles_rad["knee_angle_l"])


def test_the_plug_in_is_unknown_without_its_entry_point(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown export format 'json'"):
        exporter_class("json")


def test_export_command(recorded: RecordedSession, tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("export")(export_command)
    app.command("noop")(lambda: None)  # two commands, so that "export" is a subcommand
    result = CliRunner().invoke(app, ["export", str(recorded.session_id), "--format", "mot",
                                      "--out", str(tmp_path), "--store",
                                      str(recorded.store_path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(tmp_path / f"session_{recorded.session_id}.mot")
    result = CliRunner().invoke(app, ["export", "1", "--format", "fbx", "--out", str(tmp_path),
                                      "--store", str(recorded.store_path)])
    assert isinstance(result.exception, ConfigurationError)


def test_rehabbot_export_then_analyze_from_the_main_cli(
    recorded: RecordedSession, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    export = subprocess.run(
        [sys.executable, "-m", "rehabbot", "export", str(recorded.session_id), "--format", "c3d",
         "--out", str(out), "--store", str(recorded.store_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert export.returncode == 0, export.stderr
    (c3d,) = out.glob("*.c3d")
    analyze = subprocess.run([sys.executable, "-m", "rehabbot", "analyze", str(c3d), "--json"],
                             capture_output=True, text=True, timeout=120)
    assert analyze.returncode == 0, analyze.stderr
    assert set(json.loads(analyze.stdout)["events"]) == {"left", "right"}
    unknown = subprocess.run(
        [sys.executable, "-m", "rehabbot", "export", "999", "--store", str(recorded.store_path)],
        capture_output=True, text=True, timeout=120,
    )
    assert unknown.returncode == 2
    assert unknown.stderr == "error: no session 999; `rehabbot sessions list` shows the ids\n"


def test_bids_motion_dataset(recorded: RecordedSession, tmp_path: Path) -> None:
    data, samples = recorded.data, recorded.data.samples
    paths = recorded.export("bids", tmp_path)
    subject, session = f"sub-{data.subject}", f"ses-{recorded.session_id}"
    stem = f"{subject}_{session}_task-gait_tracksys-exoskeleton"
    expected = {Path("dataset_description.json"), Path("README"), Path("task-gait_events.json"),
                *(Path(subject, session, "motion", f"{stem}_{suffix}") for suffix in
                  ("motion.tsv", "channels.tsv", "motion.json", "events.tsv"))}
    written = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    assert written == expected == {p.relative_to(tmp_path) for p in paths}
    assert all(_mode(p) == 0o600 for p in paths)
    assert not any(data.info.patient_code in str(p) for p in written)
    assert len(data.subject) == 16 and data.subject.isalnum()  # a valid BIDS label
    motion_dir = tmp_path / subject / session / "motion"

    with (motion_dir / f"{stem}_channels.tsv").open(newline="") as f:
        channels = list(csv.DictReader(f, delimiter="\t"))
    assert list(channels[0]) == ["name", "component", "type", "tracked_point", "units"]
    assert [c["name"] for c in channels] == list(samples.joint_names)
    assert {c["type"] for c in channels} == {"JNTANG"}
    assert {c["units"] for c in channels} == {"rad"}

    lines = (motion_dir / f"{stem}_motion.tsv").read_text().splitlines()
    assert len(lines) == len(samples)  # no header; the simulated session drops no tick
    motion = np.array([[float(v) for v in line.split("\t")] for line in lines])
    assert motion.shape == (len(samples), len(channels))
    np.testing.assert_allclose(motion, samples.q, rtol=1e-8, atol=1e-12)

    sidecar = json.loads((motion_dir / f"{stem}_motion.json").read_text())
    assert sidecar["SamplingFrequency"] == pytest.approx(1.0 / data.info.period_s)
    assert sidecar["TaskName"] == "gait"
    assert sidecar["TrackingSystemName"] == "exoskeleton"
    assert sidecar["MotionChannelCount"] == len(channels)
    assert sidecar["RecordingDuration"] == pytest.approx(data.info.duration_s)

    with (motion_dir / f"{stem}_events.tsv").open(newline="") as f:
        events = list(csv.DictReader(f, delimiter="\t"))
    assert list(events[0]) == ["onset", "duration", "trial_type", "side"]
    assert {e["duration"] for e in events} == {"0"}
    onsets = [float(e["onset"]) for e in events]
    assert onsets == sorted(onsets)
    t0 = float(samples.t_s[0])
    for side in SIDES:
        for kind, times in (("foot_strike", data.events[side].foot_strike_s),
                            ("foot_off", data.events[side].foot_off_s)):
            got = [float(e["onset"]) for e in events
                   if e["side"] == side and e["trial_type"] == kind]
            np.testing.assert_allclose(got, times - t0, rtol=1e-8, atol=1e-12)

    description = json.loads((tmp_path / "dataset_description.json").read_text())
    assert description["BIDSVersion"] == "1.9.0"
    assert description["DatasetType"] == "raw"
    assert description["Name"]
