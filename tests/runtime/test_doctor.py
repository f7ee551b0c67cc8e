"""``rehabbot doctor``: every check reports a finding, every finding to change names the exact
fix, the pacing test runs the asked ticks, and the console's warning says what to do."""

from __future__ import annotations

import subprocess
import sys

from rehabbot.runtime.doctor import (
    PacingResult,
    Verdict,
    examine,
    fifo_allowed,
    pacing_finding,
    pacing_test,
    realtime_warning,
)
from rehabbot.runtime.realtime import RealtimeSettings

CHECKS = ["kernel preemption", "real-time priority", "locked memory", "real-time throttle",
          "CPU governor", "isolated CPUs", "timer"]


def test_every_check_reports_and_every_change_names_its_fix() -> None:
    findings = examine(pacing_s=0.0)
    assert [f.check for f in findings] == CHECKS
    for finding in findings:
        assert finding.found
        if finding.verdict is Verdict.WARN:
            assert "`" in finding.fix  # an exact command to run


def test_the_pacing_test_runs_every_tick_and_judges_the_longest_gap() -> None:
    result = pacing_test(0.2, fifo=False)
    assert (result.ticks, result.fifo) == (200, False)
    assert result.skipped >= 0 and result.max_us >= result.p999_us >= result.p50_us
    calm = PacingResult(True, 10_000, 0, 1.0, 5.0, 50.0, 900.0, 1900.0)
    stormy = PacingResult(False, 10_000, 900, 1.0, 4000.0, 9000.0, 30_000.0, 31_000.0)
    assert pacing_finding(calm).verdict is Verdict.OK
    bad = pacing_finding(stormy)
    assert bad.verdict is Verdict.WARN and "--fifo-priority 80" in bad.fix
    assert "longest gap 31.0 ms (command deadline 20 ms)" in bad.found


def test_the_console_warns_in_plain_words_when_sessions_lack_real_time_priority() -> None:
    plain = realtime_warning(None)
    assert plain is not None and "without real-time priority" in plain
    assert "rehabbot doctor" in plain and "--fifo-priority" in plain
    asked = realtime_warning(RealtimeSettings(fifo_priority=80))
    if fifo_allowed(80):
        assert asked is None  # the sessions will have it: nothing to warn about
    else:
        assert asked is not None and "refuses" in asked


def test_the_cli_prints_one_table() -> None:
    done = subprocess.run([sys.executable, "-m", "rehabbot", "doctor", "--seconds", "0"],
                          capture_output=True, text=True, timeout=120,
                          env={"COLUMNS": "200", "PATH": ""})
    assert done.returncode == 0, done.stderr
    for check in CHECKS:
        assert check in done.stdout
