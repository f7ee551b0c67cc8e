"""The C3D export read by kineticstoolkit, and analyzed back; a short write is an error."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import kineticstoolkit as ktk
import numpy as np

from rehabbot.assessment.kinematic_events import SIDES
from rehabbot.export.c3d import PLUG_IN_GAIT_POINTS
from tests.export.conftest import RecordedSession


def test_c3d_round_trip_through_kineticstoolkit(recorded: RecordedSession,
                                                tmp_path: Path) -> None:
    (path,) = recorded.export("c3d", tmp_path)
    data, samples = recorded.data, recorded.data.samples
    contents: Any = ktk.read_c3d(str(path), convert_point_unit=False)
    points = contents["Points"]
    np.testing.assert_allclose(points.time, samples.t_s, atol=1e-6)
    for j, name in enumerate(samples.joint_names):
        if name in PLUG_IN_GAIT_POINTS:
            np.testing.assert_allclose(points.data[PLUG_IN_GAIT_POINTS[name]][:, 0],
                                       np.degrees(samples.q[:, j]), atol=1e-4)
    # the events, on the same time axis
    events = {(e.name, round(e.time, 6)) for e in points.events}
    for side in SIDES:
        context = "Right" if side == "right" else "Left"
        for label, times in (("Foot Strike", data.events[side].foot_strike_s),
                             ("Foot Off", data.events[side].foot_off_s)):
            for t in times:
                assert any(name.endswith(label) and abs(time - t) < 1e-4
                           for name, time in events), (context, label, t, events)
    analogs = contents["Analogs"]
    np.testing.assert_allclose(analogs.data[f"{samples.joint_names[0]}_tau"],
                               samples.tau[:, 0], atol=1e-4)


def test_analyze_on_an_exported_c3d_gives_back_the_exported_events(
        recorded: RecordedSession, tmp_path: Path) -> None:
    (path,) = recorded.export("c3d", tmp_path)
    result = subprocess.run([sys.executable, "-m", "rehabbot", "analyze", str(path), "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["events_used"] == "file"
    for side in SIDES:
        exported = recorded.data.events[side]
        np.testing.assert_allclose(output["events"][side]["foot_strike"],
                                   exported.foot_strike_s, atol=1e-5)
        np.testing.assert_allclose(output["events"][side]["foot_off"], exported.foot_off_s,
                                   atol=1e-5)


def _limit_file_size() -> None:  # pragma: no cover - runs in the child before exec
    """A file-size limit of 64 KB: writes beyond it fail as on a full disk (no signal)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))


def test_issue15_item3_a_c3d_export_on_a_full_disk_fails_and_leaves_no_file(
        recorded: RecordedSession, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "rehabbot", "export", str(recorded.session_id), "--format", "c3d",
         "--out", str(out), "--store", str(recorded.store_path)],
        capture_output=True, text=True, timeout=120, preexec_fn=_limit_file_size)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.count("\n") == 1 and "not written completely" in result.stderr
    assert not list(out.glob("*.c3d"))
