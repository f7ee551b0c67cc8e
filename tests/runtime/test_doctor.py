"""``rehabbot doctor``: every check reports a finding, every finding to change names the exact
fix, the pacing test runs the asked ticks, and the console's warning says what to do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rehabbot.runtime.doctor import (
    USER_HZ,
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
          "CPU governor", "isolated CPUs", "timer", "hypervisor steal"]


def write_stat(path: Path, steal_ticks: tuple[int, int]) -> None:
    """A /proc/stat of a 2-CPU machine whose CPUs have had ``steal_ticks`` (USER_HZ) stolen."""
    lines = [f"cpu  100 0 50 900 0 0 0 {sum(steal_ticks)} 0 0"]
    lines += [f"cpu{i} 50 0 25 450 0 0 0 {ticks} 0 0" for i, ticks in enumerate(steal_ticks)]
    path.write_text("\n".join([*lines, "intr 12345 0", "ctxt 999", "btime 1700000000"]) + "\n")


def write_cpuinfo(path: Path, virtual: bool) -> None:
    flags = "fpu vme de pse tsc msr pae" + (" hypervisor" if virtual else "") + " lahf_lm"
    path.write_text("".join(f"processor\t: {i}\nvendor_id\t: GenuineIntel\nflags\t\t: "
                            f"{flags}\n\n" for i in range(2)))


def steal_row(tmp_path: Path, virtual: bool, after_ticks: tuple[int, int]) -> str:
    """The doctor's hypervisor row (check, found, verdict, fix) for a 0.2 s pacing test during
    which the machine's steal counters went from (7, 3) ticks to ``after_ticks``: the files
    are rewritten when the doctor announces the pacing test, after its first reading."""
    stat, cpuinfo = tmp_path / "stat", tmp_path / "cpuinfo"
    write_stat(stat, (7, 3))
    write_cpuinfo(cpuinfo, virtual)
    findings = examine(0.2, lambda step: write_stat(stat, after_ticks), stat=stat,
                       cpuinfo=cpuinfo)
    (row,) = [f for f in findings if f.check == "hypervisor steal"]
    return f"{row.found} | {row.verdict.value} | {row.fix}"


def test_the_hypervisors_steal_over_the_pacing_test_is_reported_with_the_advice(
    tmp_path: Path,
) -> None:
    # cpu1 lost 10 ticks (100 ms at USER_HZ 100) to other virtual machines during the test
    row = steal_row(tmp_path, True, (7, 3 + USER_HZ // 10))
    assert row.startswith("virtual machine; steal during the 0.2 s pacing test: 100 ms in all, "
                          "100 ms of cpu1 (50 % of it) | change | ")
    assert "bare metal or a virtual machine with dedicated CPUs" in row
    assert "100 ms steal" in row and "`virsh vcpupin" in row


@pytest.mark.parametrize(("virtual", "verdict"), [(False, "ok"), (True, "change")])
def test_no_steal_is_fine_on_bare_metal_and_still_a_warning_on_a_virtual_machine(
    tmp_path: Path, virtual: bool, verdict: str,
) -> None:
    row = steal_row(tmp_path, virtual, (7, 3))
    kind = "virtual machine" if virtual else "bare metal"
    assert row.startswith(f"{kind}; steal during the 0.2 s pacing test: 0 ms in all, 0 ms of "
                          f"cpu0 (0 % of it) | {verdict} |")
    assert ("a shared host may take a CPU at any moment" in row) is virtual


def test_without_a_readable_stat_file_the_steal_is_not_measured(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    write_cpuinfo(cpuinfo, False)
    findings = examine(0.0, stat=tmp_path / "missing", cpuinfo=cpuinfo)
    assert findings[-1].found == "bare metal; steal not measured (no pacing test)"
    findings = examine(0.1, stat=tmp_path / "missing", cpuinfo=tmp_path / "missing")
    assert (findings[-1].found, findings[-1].verdict) == ("unknown; steal not measured",
                                                          Verdict.INFO)


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
    assert "[/]" not in done.stdout  # verdicts in colour, not as markup text
