"""``rehabbot doctor``: is this computer fit to run the control loop in real time?

Operating-system jitter is real on ordinary computers (DESIGN.md, "Deadlines where the hazard
is"): a loop thread that is not at real-time priority waits behind other programs for
milliseconds, a CPU that changes its clock speed or that other tasks share adds more. The
doctor checks what decides this and says, for each finding, what to change with the exact
command:

* the kernel's preemption model (``PREEMPT_RT`` best; ``PREEMPT``/``PREEMPT_DYNAMIC`` good with
  real-time priority; none: long kernel sections stall the loop);
* whether this user may run a thread at ``SCHED_FIFO`` priority (``RLIMIT_RTPRIO`` or root) and
  lock memory (``RLIMIT_MEMLOCK``);
* the real-time throttle (``kernel.sched_rt_runtime_us``: real-time threads that use more than
  that share of their CPU in a second are stopped for the rest of it, about 50 ms);
* the CPU frequency governor (``performance`` keeps the clock speed steady);
* isolated CPUs (``isolcpus``: a CPU nothing else is scheduled on, for ``--cpu``);
* the timer: resolution and the timer slack of this process;
* a measured pacing test: a 1 kHz :class:`~rehabbot.runtime.clock.WallClock` loop with a 200 µs
  body for 10 s (at ``SCHED_FIFO`` when allowed), its lateness percentiles, skipped ticks and
  longest gap between ticks against the default command deadline;
* the hypervisor: whether this is a virtual machine (the ``hypervisor`` CPU flag) and how much
  CPU time the hypervisor gave to other machines during the pacing test (steal time, per CPU,
  from ``/proc/stat``). No setting inside a guest prevents that: a robot's computer is bare
  metal or a virtual machine with dedicated CPUs (docs/realtime.md: a 100 ms steal once in 20-25
  minutes stopped a 30-minute session).

:func:`realtime_warning` is the short form the console shows before a session.
"""

from __future__ import annotations

import os
import platform
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from rehabbot.hal.config import DEFAULT_COMMAND_DEADLINE_S
from rehabbot.runtime.clock import WallClock
from rehabbot.runtime.realtime import RealtimeSettings

#: The period (s), body (s) and length (s) of the pacing test.
PACING_PERIOD_S = 0.001
PACING_BODY_S = 0.0002
PACING_DEFAULT_S = 10.0
#: The FIFO priority the pacing test and the suggested commands use.
SUGGESTED_PRIORITY = 80
#: Where the kernel reports CPU times (steal among them) and the CPUs' flags.
PROC_STAT = Path("/proc/stat")
PROC_CPUINFO = Path("/proc/cpuinfo")
#: Clock ticks per second of /proc/stat's times (USER_HZ).
USER_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class Verdict(Enum):
    """How a finding stands for real-time use."""

    OK = "ok"
    WARN = "change"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One row of the doctor's table: what was checked, what was found, and the fix."""

    check: str
    found: str
    verdict: Verdict
    fix: str = ""


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return None


def preemption() -> Finding:
    """The kernel's preemption model, from ``/sys/kernel/realtime``, debugfs or ``uname -v``."""
    version = platform.version()
    model = _read("/sys/kernel/debug/sched/preempt")
    if _read("/sys/kernel/realtime") == "1" or "PREEMPT_RT" in version:
        return Finding("kernel preemption", "PREEMPT_RT", Verdict.OK)
    if model is not None:
        chosen = next((w.strip("()") for w in model.split() if w.startswith("(")), model)
        found = f"{chosen} (dynamic: {model})"
        if chosen == "full":
            return Finding("kernel preemption", found, Verdict.OK)
        return Finding("kernel preemption", found, Verdict.WARN,
                       "boot with preempt=full (add it to GRUB_CMDLINE_LINUX in "
                       "/etc/default/grub, then `sudo update-grub` and reboot), or install a "
                       "PREEMPT_RT kernel (Debian/Ubuntu: `sudo apt install linux-image-rt-amd64`)")
    if "PREEMPT" in version:
        return Finding("kernel preemption", f"PREEMPT ({version})", Verdict.OK,
                       "PREEMPT_RT is better: `sudo apt install linux-image-rt-amd64`")
    return Finding("kernel preemption", f"no preemption ({version})", Verdict.WARN,
                   "install a PREEMPT_RT kernel (Debian/Ubuntu: "
                   "`sudo apt install linux-image-rt-amd64`) and reboot into it")


def fifo_allowed(priority: int = SUGGESTED_PRIORITY) -> bool:
    """Whether a thread of this process may run at ``SCHED_FIFO`` ``priority`` (tried on a
    short-lived thread, so the caller's scheduling does not change)."""
    if not hasattr(os, "sched_setscheduler"):
        return False
    allowed: list[bool] = []

    def attempt() -> None:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
            allowed.append(True)
        except (OSError, ValueError):
            allowed.append(False)

    thread = threading.Thread(target=attempt, name="rehabbot-doctor-fifo")
    thread.start()
    thread.join()
    return allowed == [True]


def priority_limits() -> list[Finding]:
    """The real-time priority and locked-memory limits of this user."""
    rtprio = resource.getrlimit(resource.RLIMIT_RTPRIO)[0]
    memlock = resource.getrlimit(resource.RLIMIT_MEMLOCK)[0]
    user = os.environ.get("USER", "youruser")
    root = os.geteuid() == 0 if hasattr(os, "geteuid") else False
    fifo = fifo_allowed()
    limit = "unlimited" if rtprio == resource.RLIM_INFINITY else str(rtprio)
    found = (f"SCHED_FIFO {SUGGESTED_PRIORITY} {'allowed' if fifo else 'refused'} "
             f"(rtprio limit {limit}{', root' if root else ''})")
    findings = [Finding(
        "real-time priority", found, Verdict.OK if fifo else Verdict.WARN,
        "" if fifo else
        f"allow it: add `{user} - rtprio 95` to /etc/security/limits.conf and log in again (or "
        "`sudo setcap cap_sys_nice+ep $(readlink -f $(which python3))`); then run sessions with "
        f"`--fifo-priority {SUGGESTED_PRIORITY}`",
    )]
    locked = memlock == resource.RLIM_INFINITY or root
    findings.append(Finding(
        "locked memory", "unlimited" if memlock == resource.RLIM_INFINITY else
        f"{memlock // 1024} KiB{' (root: not limited)' if root else ''}",
        Verdict.OK if locked else Verdict.WARN,
        "" if locked else f"add `{user} - memlock unlimited` to /etc/security/limits.conf; "
        "then run sessions with `--lock-memory`",
    ))
    return findings


def rt_throttle() -> Finding:
    """The share of each second real-time threads may use (``sched_rt_runtime_us``)."""
    runtime = _read("/proc/sys/kernel/sched_rt_runtime_us")
    if runtime is None:
        return Finding("real-time throttle", "unknown (not Linux)", Verdict.INFO)
    if runtime == "-1":
        return Finding("real-time throttle", "off", Verdict.INFO,
                       "a runaway real-time thread can freeze a CPU: keep the loop pinned")
    share = int(runtime) / 1e4
    return Finding(
        "real-time throttle", f"{share:g} % of each second", Verdict.INFO,
        f"real-time threads that use more than {share:g} % of their CPU in a second are stopped "
        "for the rest of it (about 50 ms: a command_deadline fault); keep the session's "
        "loop_timing.cpu_share well below it, or, with the loop on an isolated CPU, "
        "`sysctl -w kernel.sched_rt_runtime_us=-1`")


def governor() -> Finding:
    """The CPU frequency governors of this machine."""
    found = {
        text for path in Path("/sys/devices/system/cpu").glob("cpu[0-9]*/cpufreq/scaling_governor")
        if (text := _read(str(path))) is not None
    }
    if not found:
        return Finding("CPU governor", "no frequency scaling exposed (a VM or fixed clock)",
                       Verdict.INFO)
    if found == {"performance"}:
        return Finding("CPU governor", "performance", Verdict.OK)
    return Finding("CPU governor", ", ".join(sorted(found)), Verdict.WARN,
                   "`sudo cpupower frequency-set -g performance` (package linux-cpupower)")


def isolated_cpus() -> Finding:
    """The CPUs the kernel keeps other tasks off (``isolcpus``)."""
    isolated = _read("/sys/devices/system/cpu/isolated")
    count = os.cpu_count() or 1
    last = count - 1
    if isolated:
        return Finding("isolated CPUs", isolated, Verdict.OK,
                       f"pin sessions there: `--cpu {isolated.split(',')[0].split('-')[0]}`")
    return Finding("isolated CPUs", f"none ({count} CPUs)", Verdict.WARN,
                   f"add `isolcpus={last} nohz_full={last} rcu_nocbs={last}` to "
                   "GRUB_CMDLINE_LINUX in /etc/default/grub, `sudo update-grub`, reboot; then "
                   f"run sessions with `--cpu {last}`")


def timer() -> Finding:
    """The monotonic clock's resolution and this process's timer slack."""
    resolution_ns = time.clock_getres(time.CLOCK_MONOTONIC) * 1e9
    slack = _read("/proc/self/timerslack_ns")
    found = f"resolution {resolution_ns:g} ns" + (f", timer slack {slack} ns" if slack else "")
    fine = resolution_ns <= 1000
    return Finding("timer", found, Verdict.OK if fine else Verdict.WARN,
                   "" if fine else "a high-resolution timer is needed (CONFIG_HIGH_RES_TIMERS)")


@dataclass(frozen=True)
class PacingResult:
    """What the pacing test measured (µs) and under which priority."""

    fifo: bool
    ticks: int
    skipped: int
    p50_us: float
    p99_us: float
    p999_us: float
    max_us: float
    max_gap_us: float


def pacing_test(seconds: float = PACING_DEFAULT_S, fifo: bool | None = None) -> PacingResult:
    """Run a 1 kHz wall-clock loop with a 200 µs body for ``seconds`` on a thread of its own
    (at ``SCHED_FIFO`` when ``fifo``, by default when allowed) and measure its lateness."""
    use_fifo = fifo_allowed() if fifo is None else fifo
    result: list[PacingResult] = []

    def run() -> None:
        if use_fifo:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(SUGGESTED_PRIORITY))
        n = max(1, round(seconds / PACING_PERIOD_S))
        late = np.zeros(n)
        starts = np.zeros(n)
        clock = WallClock(PACING_PERIOD_S)
        clock.restart()
        perf = time.perf_counter
        for i in range(n):
            starts[i] = begin = perf()
            while perf() - begin < PACING_BODY_S:
                pass
            late[i] = clock.wait_next_tick()
        p50, p99, p999 = np.percentile(late * 1e6, [50, 99, 99.9])
        result.append(PacingResult(use_fifo, n, clock.skipped_ticks, float(p50), float(p99),
                                   float(p999), float(late.max() * 1e6),
                                   float(np.diff(starts).max() * 1e6) if n > 1 else 0.0))

    thread = threading.Thread(target=run, name="rehabbot-doctor-pacing")
    thread.start()
    thread.join()
    return result[0]


def pacing_finding(result: PacingResult,
                   deadline_s: float = DEFAULT_COMMAND_DEADLINE_S) -> Finding:
    """The pacing test as a row: fine while the longest gap stays under a quarter of the
    command deadline (where the loop's low-priority warning begins)."""
    found = (f"{result.ticks} ticks{' at SCHED_FIFO' if result.fifo else ''}: lateness p50 "
             f"{result.p50_us:.0f} µs, p99 {result.p99_us:.0f} µs, p99.9 {result.p999_us:.0f} "
             f"µs, max {result.max_us:.0f} µs; {result.skipped} skipped; longest gap "
             f"{result.max_gap_us / 1000:.1f} ms (command deadline {deadline_s * 1000:g} ms)")
    if result.max_gap_us < deadline_s * 1e6 / 4:
        return Finding("pacing test", found, Verdict.OK)
    return Finding("pacing test", found, Verdict.WARN,
                   "apply the changes above; close other programs or move them off the loop's "
                   "CPU (`taskset -pc 0 PID`); then run sessions with "
                   f"`--fifo-priority {SUGGESTED_PRIORITY} --cpu N --lock-memory`")


def steal_s(stat: Path = PROC_STAT) -> dict[str, float] | None:
    r"""The steal time (s) so far of each CPU (``cpu0``, ``cpu1``, ...) in the kernel's CPU
    times file ``stat`` (``/proc/stat``: the 8th time of a ``cpuN`` line, in USER_HZ ticks);
    None when the file cannot be read or has no steal column (not Linux, a kernel before
    2.6.11).

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "stat"
    >>> _ = path.write_text("cpu  9 0 9 9 0 0 0 30 0 0\ncpu0 5 0 5 5 0 0 0 10 0 0\n"
    ...                     "cpu1 4 0 4 4 0 0 0 20 0 0\nintr 1\n")
    >>> {cpu: s * USER_HZ for cpu, s in steal_s(path).items()}
    {'cpu0': 10.0, 'cpu1': 20.0}
    """
    try:
        lines = stat.read_text().splitlines()
    except OSError:
        return None
    found: dict[str, float] = {}
    for line in lines:
        fields = line.split()
        if len(fields) > 8 and fields[0].startswith("cpu") and fields[0][3:].isdigit():
            found[fields[0]] = int(fields[8]) / USER_HZ
    return found or None


def virtual_machine(cpuinfo: Path = PROC_CPUINFO) -> bool | None:
    """Whether the CPUs carry the ``hypervisor`` flag (this is a virtual machine); None when
    ``cpuinfo`` cannot be read."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return None
    return any(line.startswith("flags") and "hypervisor" in line.split()
               for line in text.splitlines())


#: How the steal row says it: the advice where this computer shares its CPUs, or may.
DEDICATED_CPUS = (
    "a robot's computer must be bare metal or a virtual machine with dedicated CPUs: the "
    "hypervisor's steal cannot be prevented from inside it (docs/realtime.md: one 100 ms steal "
    "in 20-25 minutes stopped a 30-minute session); ask the host for pinned, unshared CPUs "
    "(libvirt: `virsh vcpupin DOMAIN VCPU HOSTCPU` for each CPU, the host's CPUs isolated from "
    "its other guests), then run `rehabbot doctor` again")


def steal_finding(virtual: bool | None, before: dict[str, float] | None,
                  after: dict[str, float] | None, seconds: float) -> Finding:
    """The hypervisor row: bare metal or a virtual machine, and the steal time (per CPU,
    from ``before`` and ``after`` :func:`steal_s`) over a pacing test of ``seconds``."""
    kind = {True: "virtual machine", False: "bare metal", None: "unknown"}[virtual]
    if before is None or after is None or seconds <= 0:
        found = f"{kind}; steal not measured" + (" (no pacing test)" if seconds <= 0 else "")
        if virtual:
            return Finding("hypervisor steal", found, Verdict.WARN, DEDICATED_CPUS)
        return Finding("hypervisor steal", found, Verdict.INFO if virtual is None else Verdict.OK)
    stolen = {cpu: max(after[cpu] - before.get(cpu, after[cpu]), 0.0) for cpu in after}
    total = sum(stolen.values())
    worst_cpu = max(stolen, key=lambda cpu: stolen[cpu])
    found = (f"{kind}; steal during the {seconds:g} s pacing test: {total * 1000:.0f} ms in all, "
             f"{stolen[worst_cpu] * 1000:.0f} ms of {worst_cpu} "
             f"({100 * stolen[worst_cpu] / seconds:.2g} % of it)")
    if total > 0:
        return Finding("hypervisor steal", found, Verdict.WARN, DEDICATED_CPUS)
    if virtual:
        return Finding("hypervisor steal", found, Verdict.WARN,
                       "none this time, but a shared host may take a CPU at any moment: "
                       + DEDICATED_CPUS)
    return Finding("hypervisor steal", found, Verdict.OK)


def examine(pacing_s: float = PACING_DEFAULT_S,
            on_step: Callable[[str], None] | None = None, *, stat: Path = PROC_STAT,
            cpuinfo: Path = PROC_CPUINFO) -> list[Finding]:
    """Every check, in the table's order (the pacing test and the hypervisor's steal during it
    last; ``pacing_s`` 0 leaves the test out). ``on_step(name)`` is told before each slow step.
    ``stat`` and ``cpuinfo``: the kernel's files the steal row reads (another machine's, for a
    check of its records)."""
    findings = [preemption(), *priority_limits(), rt_throttle(), governor(), isolated_cpus(),
                timer()]
    before = after = None
    if pacing_s > 0:
        before = steal_s(stat)
        if on_step is not None:
            on_step(f"pacing test, {pacing_s:g} s")
        findings.append(pacing_finding(pacing_test(pacing_s)))
        after = steal_s(stat)
    findings.append(steal_finding(virtual_machine(cpuinfo), before, after, pacing_s))
    return findings


def realtime_warning(settings: RealtimeSettings | None) -> str | None:
    """A plain warning for the therapist when sessions will run without real-time priority
    (None when they will have it): what it means and what to do."""
    if settings is not None and settings.fifo_priority is not None:
        if fifo_allowed(settings.fifo_priority):
            return None
        return ("Sessions will run without real-time priority: this computer refuses it. "
                "A busy computer may then stop a session (the robot holds the legs). Ask "
                "your technician to run `rehabbot doctor`.")
    return ("Sessions will run without real-time priority. A busy computer may then stop a "
            "session (the robot holds the legs). Ask your technician to run `rehabbot doctor` "
            "and to start the console with --fifo-priority.")
