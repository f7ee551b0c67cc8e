"""`rehabbot session run` tells how the session ended: exit status 3 for a faulted session, the
fault on stderr as it happens (also without a terminal), and truthful option help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from rehabbot.configfile import bundled_file

RUN = [sys.executable, "-c", "from rehabbot.cli import main; main()", "session", "run"]


def slow_knee_robot(folder: Path) -> Path:
    """The simulated robot with a right knee allowed only 2 rad/s: walking faults at once."""
    text = bundled_file("robots", "sim_exo.toml").read_text(encoding="utf-8")
    start = text.index('name = "knee_angle_r"')
    at = text.index("velocity_max_rad_s = 10.0", start)
    path = folder / "slow_knee.toml"
    path.write_text(text[:at] + "velocity_max_rad_s = 2.0" + text[at + 25:], encoding="utf-8")
    return path


def test_a_faulted_session_exits_3_and_says_why_on_stderr_without_a_terminal(
        tmp_path: Path) -> None:
    done = subprocess.run(
        [*RUN, "--duration", "2", "--robot", str(slow_knee_robot(tmp_path)), "--store",
         str(tmp_path / "s.sqlite"), "--json"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 3, done.stderr
    assert '"status": "faulted"' in done.stdout
    assert "Right knee moved too fast. The right knee moved at" in done.stderr
    assert "deg/s; the limit is 115 deg/s" in done.stderr  # the screen's units, not rad/s
    assert "The session goes on to its end with the torque off; Ctrl+C stops it now" in (
        done.stderr)


def test_a_completed_session_exits_0(tmp_path: Path) -> None:
    done = subprocess.run([*RUN, "--duration", "1", "--store", str(tmp_path / "s.sqlite"),
                           "--json"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert '"status": "completed"' in done.stdout
    # nothing on stderr but the stall watch's notes of a loaded machine (runtime/stall.py):
    # no fault, no stop
    assert all(line.startswith("loop stalled ") for line in done.stderr.splitlines()), (
        done.stderr)


def test_the_help_says_what_duration_does_and_shows_the_store_default() -> None:
    done = subprocess.run([*RUN, "--help"], capture_output=True, text=True, timeout=120,
                          check=False, env={"COLUMNS": "200", "PATH": ""})
    text = " ".join(done.stdout.split())
    assert "run only the protocol's training phase, this long (s)" in text
    assert "[default: every phase as the protocol plans it]" in text
    assert "[default: $REHABBOT_STORE or user data dir]" in text
