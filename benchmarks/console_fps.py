"""Console frame rate with 8 live channels, and the loop's lateness with and without the console.

Usage::

    python benchmarks/console_fps.py [--seconds 20] [--repeats 2] [--seed 0]
        [--fifo-priority N --cpu N]   # real-time settings of the session processes
        [--patient-display]           # the patient display open too (bars, 1920x1080)
    python benchmarks/console_fps.py --console-session 600 [--profile healthy]

Three wall-clock (``realtime``) sessions of the simulated robot, each in its own session process
as the console runs them (:class:`~rehabbot.session.session_link.SessionLink`):

1. **without console**: nobody reads the ring or renders (the session process alone);
2. **with console**: the live view (:class:`~rehabbot.gui.live_view.LiveView`, 4 joint
   angles + 4 torques = 8 live channels, references, normative bands and biofeedback bars) reads
   the ring and redraws on its 30 fps timer (:data:`~rehabbot.gui.live_view.FRAME_MS`), as in
   the console;
3. **flat out**: the live view redraws as fast as it can (timer interval 0): the frame rate it
   could reach, with the session running beside it.

With ``--patient-display`` the console sessions also draw the patient display
(:class:`~rehabbot.gui.patient_display.PatientDisplay`, bars mode, 1920x1080) from its own
ring reader in the same frame: the frame rate and lateness are then those of both windows.

Printed: frames per second and frame time (read + draw + paint, p50/p99), and the loop's
tick-start lateness (p50/p99/p99.9/max, late ticks) for each session, and how much the console
worsened the p99 (medians over the interleaved rounds). The window is rendered on Qt's
``offscreen`` platform (software raster). On a machine without real-time settings a session
may stop on the command deadline (a stalled computer); it still runs all its ticks, which the
table counts.

``--console-session S`` instead runs **one session through the whole console** (issue 13: a
console session paced to the wall clock, run through the GUI for S seconds): the real
:class:`~rehabbot.gui.main_window.MainWindow` at 1366x768 starts a wall-clock session of the
standard protocol's training phase as F5 does, draws it on its own frame timer until the
session ends and shows the after-session screen. Printed: the stored status and faults, the
warnings, the loop's lateness and command age (p50/p99/p99.9/max, from the stored summary),
skipped ticks, the frames the live plots painted per second (p50, min over each second of the
session, and the mean) and the load average (at the start, every 10 s: mean and max).
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PySide6.QtWidgets import QApplication

from rehabbot.assessment.engagement import FeedbackSettings
from rehabbot.gui.app import realtime_settings
from rehabbot.gui.live_view import FRAME_MS, LiveView
from rehabbot.gui.patient_display import PatientDisplay
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.runtime.priority import CONSOLE_NICE, keep_off_cpus, lower_console_priority
from rehabbot.runtime.realtime import RealtimeSettings
from rehabbot.session.runner import DEMO_PATIENT, SessionRequest
from rehabbot.session.session_link import SessionLink
from rehabbot.session.session_messages import Finished
from rehabbot.storage.store import SessionStore
from rehabbot.storage.summary import StoredSummary


@dataclass
class Run:
    """What one session measured."""

    label: str
    lateness: dict[str, float] = field(default_factory=dict)
    status: str = ""
    frame_s: list[float] = field(default_factory=list)
    display_s: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def fps(self) -> float:
        return len(self.frame_s) / self.wall_s if self.wall_s else 0.0


def run(label: str, seconds: float, seed: int, store: str, frame_ms: int | None,
        realtime: RealtimeSettings | None, patient_display: bool = False) -> Run:
    """One realtime session; with ``frame_ms`` a live view (and the patient display, if asked
    for) redraws at that timer period."""
    robot = load_robot_config("sim_exo")
    request = SessionRequest(robot=robot, protocol=load_protocol("standard_gait"),
                             store_path=Path(store), duration_s=seconds,
                             seed=seed, realtime=True, profile="athletic")
    app = QApplication.instance() or QApplication([])
    view = None
    if frame_ms is not None:
        view = LiveView(robot.joint_names, robot.period_s)
        view.resize(1100, 800)
        view.show()
    result = Run(label)
    link = SessionLink(request, realtime)
    link.start()
    display = None
    if view is not None and patient_display:
        display = PatientDisplay(robot.joint_names)
        display.resize(1920, 1080)
        display.show()
        display.attach(link.reader.spec, 0)
        display.timer.stop()  # drawn below, in the console's frame
        display.set_settings(FeedbackSettings("bars"))
    began = time.perf_counter()
    next_frame = began
    while link.outcome is None:
        link.poll()
        now = time.perf_counter()
        if view is not None and now >= next_frame:
            start = now
            view.show_rows(link.reader.read())
            view.repaint()
            if display is not None:
                drawn = time.perf_counter()
                display.frame()
                display.repaint()
                result.display_s.append(time.perf_counter() - drawn)
            app.processEvents()
            result.frame_s.append(time.perf_counter() - start)
            next_frame = start + frame_ms / 1000.0
        else:
            time.sleep(0.002)
    result.wall_s = time.perf_counter() - began
    link.wait(30.0)
    outcome = link.outcome
    if isinstance(outcome, Finished):
        result.lateness, result.status = outcome.lateness_us, outcome.status
    else:
        result.status = f"failed: {outcome}"
    if display is not None:
        display.detach()
        display.close()
    link.close()
    if view is not None:
        view.close()
    return result


class PaintClock(QObject):
    """Records the time (s, ``perf_counter``) of every paint of the widget it filters."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            self.times.append(time.perf_counter())
        return False


def per_second(times: list[float], start: float, end: float) -> np.ndarray:
    """How many of ``times`` fell into each whole second from ``start`` to ``end``."""
    edges = np.arange(start, end, 1.0)
    counts, _ = np.histogram(times, bins=edges) if edges.size > 1 else (np.array([]), None)
    return counts


def console_session(seconds: float, seed: int, store: str, profile: str,
                    realtime: RealtimeSettings | None, lowered: bool) -> None:
    """One wall-clock session through the real console; prints what it measured."""
    from rehabbot.gui.main_window import ConsoleSettings, MainWindow

    Path(store).unlink(missing_ok=True)
    app = QApplication.instance() or QApplication([])  # kept alive for the window
    app.setApplicationName("rehabbot console benchmark")
    settings = ConsoleSettings(robot=load_robot_config("sim_exo"), store_path=Path(store),
                               operator="benchmark", realtime=True, seed=seed,
                               session_realtime=realtime)
    window = MainWindow(settings, confirm=lambda parent, text: True)
    window.resize(1366, 768)
    window.show()
    clock = PaintClock()
    window.live.view.plots.viewport().installEventFilter(clock)
    loads = [os.getloadavg()[0]]
    sampler = QTimer()
    sampler.timeout.connect(lambda: loads.append(os.getloadavg()[0]))
    sampler.start(10_000)
    began = time.perf_counter()
    window.start_session(DEMO_PATIENT.code, load_protocol("standard_gait"), seconds, profile)
    loop = QEventLoop()
    walking: list[float] = []  # when the loop's first parameters reached the live screen

    def look() -> None:
        if not walking and window.live.controls.boxes:
            walking.append(time.perf_counter())
        if window.link is None:
            loop.quit()

    watch = QTimer()
    watch.timeout.connect(look)
    watch.start(20)
    loop.exec()
    ended = time.perf_counter()
    sampler.stop()
    session_id = window.after.session_id
    window.close()
    if session_id is None:
        print(f"the session did not run: {window.setup.check.text()}")
        return
    with SessionStore.open(Path(store)) as st:
        summary = st.session_summary(session_id) or StoredSummary()
        info = st.get_session(session_id)
        events = st.list_events(session_id)
    timing = summary.loop_timing or {}
    start = walking[0] if walking else began  # the start-up (spawn, bring-up) left out
    fps = per_second(clock.times, start + 1.0, ended - 1.0)
    print(f"{os.cpu_count()} CPUs; console session {session_id}: {seconds:g} s of standard_gait "
          f"training, profile {profile}, wall clock, window 1366x768 (offscreen), console "
          f"thread nice +{CONSOLE_NICE if lowered else 0}; session process: "
          f"{realtime if realtime is not None else 'normal scheduler'}")
    print(f"status {info.status}; faults: {list(summary.faults) or 'none'}; "
          f"wall time {ended - began:.0f} s")
    warnings = [e for e in events if e["kind"].startswith("warning:")]
    kinds = sorted({e["kind"] for e in warnings})
    faults = [(e["kind"], e["joint"], round(e["t_s"], 3)) for e in events
              if e["kind"].startswith("fault:")]
    print(f"warnings raised: {len(warnings)} ({', '.join(kinds) or 'none'}); fault events: "
          f"{faults or 'none'}")
    for key, label in (("lateness_us", "tick-start lateness"), ("command_age_us", "command age")):
        stats = timing.get(key) or {}
        print(f"{label:20s} " + "  ".join(
            f"{name} {stats.get(name, float('nan')):.0f} µs"
            for name in ("p50_us", "p99_us", "p999_us", "max_us"))
            + f"  (ticks {stats.get('count', 0):.0f})")
    print(f"skipped ticks {timing.get('skipped_ticks')}; garbage collections {timing.get('gc')}")
    print(f"live plots painted: {len(clock.times)} frames; per second p50 "
          f"{np.percentile(fps, 50) if fps.size else float('nan'):.0f}, min "
          f"{fps.min() if fps.size else float('nan'):.0f}, mean "
          f"{np.mean(fps) if fps.size else float('nan'):.1f} fps over {fps.size} whole seconds "
          f"of the session (goal: >= 30); start-up {start - began:.1f} s")
    print(f"load average: {loads[0]:.1f} at the start; mean {np.mean(loads):.1f}, max "
          f"{np.max(loads):.1f} over {len(loads)} samples")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="each session's length (s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--fifo-priority", type=int, default=None,
                        help="run the session processes at this SCHED_FIFO priority")
    parser.add_argument("--cpu", type=int, default=None, help="pin the session processes")
    parser.add_argument("--store", default="/tmp/rehabbot_console_fps.sqlite")
    parser.add_argument("--console-session", type=float, default=None, metavar="S",
                        help="instead: one S-second wall-clock session through the console")
    parser.add_argument("--profile", default="healthy", help="the simulated patient")
    parser.add_argument("--patient-display", action="store_true",
                        help="draw the patient display (bars, 1920x1080) in each console frame")
    args = parser.parse_args()
    lowered = lower_console_priority()  # as `rehabbot console` does
    rt = realtime_settings(args.fifo_priority, args.cpu, False)
    if rt is not None and rt.cpus:
        keep_off_cpus(rt.cpus)  # as `rehabbot console` does: drawing off the loop's CPU
    if args.console_session is not None:
        console_session(args.console_session, args.seed, args.store, args.profile, rt, lowered)
        return
    runs: list[Run] = []
    for repeat in range(args.repeats):  # interleaved: the machine's load drifts
        suffix = f" #{repeat + 1}"
        shown = " + patient" if args.patient_display else ""
        runs += [run("without console" + suffix, args.seconds, args.seed, args.store, None, rt),
                 run(f"with console{shown} ({1000 / FRAME_MS:.0f} fps timer){suffix}",
                     args.seconds, args.seed, args.store, FRAME_MS, rt, args.patient_display),
                 run(f"console{shown} flat out{suffix}", args.seconds, args.seed, args.store, 0,
                     rt, args.patient_display)]
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; {args.seconds:g} s "
          "realtime sessions of sim_exo (1 kHz), live view with 8 live channels; console "
          f"thread nice +{CONSOLE_NICE if lowered else 0}; session processes: "
          f"{rt if rt is not None else 'normal scheduler'}")
    print(f"{'session':32s} {'fps':>6s} {'frame p50':>10s} {'frame p99':>10s} "
          f"{'ticks':>6s} {'late p50':>9s} {'late p99':>9s} {'p99.9':>8s} {'max':>8s} "
          f"{'late':>5s}  status")
    for r in runs:
        frames = np.array(r.frame_s) * 1000 if r.frame_s else np.array([np.nan])
        lat = r.lateness
        print(f"{r.label:32s} {r.fps:6.1f} {np.percentile(frames, 50):8.1f}ms "
              f"{np.percentile(frames, 99):8.1f}ms {lat.get('count', 0):6.0f} "
              f"{lat.get('p50_us', np.nan):7.0f}µs {lat.get('p99_us', np.nan):7.0f}µs "
              f"{lat.get('p999_us', np.nan):6.0f}µs {lat.get('max_us', np.nan):6.0f}µs "
              f"{lat.get('overruns', 0):5.0f}  {r.status}")
    def median(kind: int, key: str) -> float:
        values = [r.lateness.get(key, np.nan) for r in runs[kind::3]]
        return float(np.median(values))

    base, with_console = median(0, "p99_us"), median(1, "p99_us")
    change = (with_console - base) / base * 100 if base > 0 else float("nan")
    fps_timer = float(np.median([r.fps for r in runs[1::3]]))
    fps_max = float(np.median([r.fps for r in runs[2::3]]))
    print(f"median of {args.repeats}: p99 lateness {base:.0f} µs without, {with_console:.0f} µs "
          f"with the console ({change:+.0f} %; goal: <= +10 %); frame rate {fps_timer:.1f} fps "
          f"at the console's timer, {fps_max:.1f} fps flat out (goal: >= 30)")
    if args.patient_display:
        drawn = np.concatenate([r.display_s for r in runs if r.display_s]) * 1000
        print(f"patient display's part of a frame (read + judge + draw 1920x1080): p50 "
              f"{np.percentile(drawn, 50):.1f} ms, p99 {np.percentile(drawn, 99):.1f} ms")


if __name__ == "__main__":
    main()
