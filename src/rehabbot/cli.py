"""The ``rehabbot`` command.

``rehabbot session run`` runs a simulated gait-training session and prints its summary;
``rehabbot sessions list`` and ``rehabbot sessions show ID`` read the session store;
``rehabbot analyze FILE`` measures a gait-lab file; ``rehabbot export SESSION...`` writes sessions
in research formats, pseudonymized; ``rehabbot patients`` keeps patient records and the audit
log; ``rehabbot report SESSION`` writes its HTML or PDF report
(``--patient CODE``: progress across a patient's sessions);
``rehabbot can check ROBOT`` computes a robot's bus budget and start-up checklist;
``rehabbot sim serve ROBOT`` runs the emulated robot in this process, for sessions in another;
``rehabbot robot zero ROBOT [JOINT...]`` stores a robot's joint zero offsets;
``rehabbot console`` opens the therapist console; ``rehabbot doctor`` checks this computer for
real-time use;
``rehabbot sweep SPEC`` runs a controller sweep and ``rehabbot analyze-batch`` analyzes many
sessions or gait-lab files, both on Dask. Every
:class:`~rehabbot.errors.RehabbotError` ends the command with one line on stderr and exit
status 2, and so does an OSError (a file that cannot be read or written): its file name and the
system's reason, shortened so that no input fills the terminal. Tables print user text as it
is, never as rich markup (``Console(markup=False)``): a name like ``Anna [/] Smith`` is shown,
not parsed.

The commands of the console, the sweeps, the exports and the reports are :data:`DEFERRED`:
their modules are imported when one of them runs or shows its own help, so that
``rehabbot --help`` and the core commands work on the lean install (docs/architecture.md). A
command that reaches a package of an extra that is not installed ends with one line naming the
extra to install (:data:`EXTRA_MODULES`), exit status 2.
"""

from __future__ import annotations

import dataclasses
import getpass
import importlib
import json
import math
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from rehabbot.assessment.alarm_text import plain_event
from rehabbot.assessment.cli import analyze_command
from rehabbot.assessment.summary import summary_rows
from rehabbot.errors import (
    MAX_MESSAGE_CHARS,
    ConfigurationError,
    RehabbotError,
    StorageError,
    shorten,
)
from rehabbot.hal.budget import DEFAULT_UTILISATION_LIMIT, frame_bits
from rehabbot.hal.config import DEFAULT_ROBOT, load_robot_config
from rehabbot.hal.startup_check import Status, check_robot
from rehabbot.protocols.cli import protocols_app
from rehabbot.protocols.schema import DEFAULT_PROTOCOL, load_protocol
from rehabbot.runtime.realtime import RealtimeSettings, apply_realtime, loop_priority
from rehabbot.safety.faults import SafetyEvent
from rehabbot.session.cli import replay_command
from rehabbot.session.plant import PlantSettings, emulated
from rehabbot.session.plant_choice import open_plant
from rehabbot.session.runner import DEMO_PATIENT, SessionRequest, SessionRunner
from rehabbot.session.zeroing import read_angles, store_offsets, with_stored_offsets, zero_offsets
from rehabbot.sim.patient_profiles import PROFILES
from rehabbot.storage.patients_cli import patients_app
from rehabbot.storage.store import SessionStore, default_store_path
from rehabbot.storage.summary import StoredSummary

#: The top-level packages each extra installs (those of the extras it includes too), as Python
#: imports them: a missing one names the extra to install.
EXTRA_MODULES = {
    "sim": ("pybullet", "pybullet_data"),
    "export": ("ezc3d", "h5py", "fhir", "matplotlib"),
    "gui": ("PySide6", "shiboken6", "pyqtgraph", "pybullet", "pybullet_data"),
    "scale": ("dask", "distributed", "pyarrow", "matplotlib", "pybullet", "pybullet_data"),
}


@dataclasses.dataclass(frozen=True)
class Deferred:
    """A command whose module is imported only when the command runs or shows its own help."""

    path: tuple[str, ...]
    """The words that call it, e.g. ``("patients", "copy")``."""
    target: str
    """``module:function`` of the typer command function."""
    extra: str
    """The extra it needs (a key of :data:`EXTRA_MODULES`)."""
    help: str
    """Its line in the help of the group it belongs to."""


#: The commands whose modules need an extra or reach one: imported when they run.
DEFERRED = (
    Deferred(("report",), "rehabbot.assessment.report:report_command", "export",
             "A session's report (curves, strides, metrics, events), or with --patient a "
             "progress report across the patient's sessions."),
    Deferred(("export",), "rehabbot.export.cli:export_command", "export",
             "Export recorded sessions, pseudonymized, for research: C3D, OpenSim .mot, CSV, "
             "BIDS-Motion, HDF5 or FHIR."),
    Deferred(("patients", "copy"), "rehabbot.export.cli:copy_command", "export",
             "The patient's own copy of their record: JSON, FHIR and CSV, identified, recorded "
             "for erasure and in the audit log."),
    Deferred(("console",), "rehabbot.gui.app:console_command", "gui",
             "The therapist console: patients, session setup, live session with E-STOP and "
             "alarms, reports."),
    Deferred(("sweep",), "rehabbot.sweeps.cli:sweep_command", "scale",
             "Controller sweep in simulation on Dask: table, Pareto plot, reruns skip finished "
             "points."),
    Deferred(("analyze-batch",), "rehabbot.sweeps.cli:analyze_batch_command", "scale",
             "Gait assessment of many sessions and gait-lab files on Dask, one combined table."),
)


class DeferredCommand(typer.core.TyperCommand):
    """Stands for a :class:`Deferred` command in its group: shows its help line, and imports the
    real command when it is called (to run, or for its own ``--help``)."""

    def __init__(self, deferred: Deferred) -> None:
        super().__init__(deferred.path[-1], help=deferred.help)
        self.deferred = deferred

    def load(self) -> Any:
        """The real command (a typer command built from the target function).

        Raises:
            ModuleNotFoundError: a package of an extra is missing.
        """
        module, _, name = self.deferred.target.partition(":")
        one = typer.Typer(pretty_exceptions_enable=False)
        one.command(self.name, help=self.deferred.help)(
            getattr(importlib.import_module(module), name))
        return typer.main.get_command(one)

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None,
                     **extra: Any) -> Any:
        """The real command's context: the group runs the real command."""
        return self.load().make_context(info_name, args, parent=parent, **extra)


class WithDeferred(typer.core.TyperGroup):
    """The ``rehabbot`` group: typer's, with the :data:`DEFERRED` commands in their groups."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for deferred in DEFERRED:
            group: Any = self
            for word in deferred.path[:-1]:
                group = group.commands[word]
            group.add_command(DeferredCommand(deferred), deferred.path[-1])


def missing_extra(error: ModuleNotFoundError, args: Sequence[str]) -> str | None:
    """The message for a command (the leading words of ``args``) that reached a package of an
    extra that is not installed; None when the missing module is not an extra's.

    >>> missing_extra(ModuleNotFoundError(name="PySide6.QtWidgets"), ["console", "--help"])
    "rehabbot console needs the gui extra: pip install 'rehabbot[gui]'"
    """
    top = (error.name or "").partition(".")[0]
    words: list[str] = []
    command: Any = typer.main.get_command(app)
    for arg in args:
        commands = getattr(command, "commands", {})
        if arg not in commands:
            break
        words.append(arg)
        command = commands[arg]
    preferred = [command.deferred.extra] if isinstance(command, DeferredCommand) else []
    extra = next((name for name in (*preferred, *EXTRA_MODULES)
                  if top in EXTRA_MODULES[name]), None)
    if extra is None:
        return None
    return (f"rehabbot {' '.join(words)} needs the {extra} extra: "
            f"pip install 'rehabbot[{extra}]'")


app = typer.Typer(
    help="rehabbot: rehabilitation exoskeleton toolkit.", no_args_is_help=True,
    pretty_exceptions_enable=False, cls=WithDeferred,
)
session_app = typer.Typer(help="Run therapy sessions.", no_args_is_help=True)
sessions_app = typer.Typer(help="Browse recorded sessions.", no_args_is_help=True)
can_app = typer.Typer(help="CAN bus tools.", no_args_is_help=True)
sim_app = typer.Typer(help="The emulated robot.", no_args_is_help=True)
robot_app = typer.Typer(help="Robot bring-up tools.", no_args_is_help=True)
app.add_typer(session_app, name="session")
app.add_typer(sessions_app, name="sessions")
app.add_typer(can_app, name="can")
app.add_typer(sim_app, name="sim")
app.add_typer(robot_app, name="robot")
app.add_typer(protocols_app, name="protocols")
app.command(
    "replay", help="Re-run a recorded session's inputs through a fresh controller; exit 1 where "
    "its outputs differ.")(replay_command)
app.command("analyze", help="Gait events and metrics of a C3D or OpenSim .mot file.")(
    analyze_command
)
app.add_typer(patients_app, name="patients")

#: Never parses markup: every string it prints may hold a user's text (names, protocols, channels).
console = Console(markup=False)
#: ``session run``'s exit status by how the session ended (0: completed; 2: bad input).
EXIT_STATUS = {"faulted": 3, "aborted": 4}


class FaultNotices:
    """An event sink for the loop's thread that prints each fault on stderr at once,
    in plain words, from a thread of its own: the loop never waits on the terminal, and a run
    without a terminal (no progress bar) is not silent after a fault."""

    def __init__(self) -> None:
        self._events: queue.SimpleQueue[SafetyEvent | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._print, name="fault-notices", daemon=True)
        self._thread.start()

    def __call__(self, event: SafetyEvent) -> None:
        """Take an event (on the loop's thread: never blocks)."""
        if event.kind.startswith("fault:"):  # a session's planned end fades out: no notice
            self._events.put(event)

    def _print(self) -> None:
        while (event := self._events.get()) is not None:
            plain = plain_event(event.kind, event.joint, event.values)
            after = (" The session goes on to its end with the torque off; Ctrl+C stops it "
                     "now.")
            print(f"{event.t_s:.3f} s: {plain.title}. {plain.cause}{after}".rstrip(),
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        """Print what is left and stop the thread."""
        self._events.put(None)
        self._thread.join(timeout=5.0)

StoreOption = Annotated[
    Path | None,
    typer.Option("--store",
                 help="session store file \\[default: $REHABBOT_STORE or user data dir]"),
]


def _store_path(store: Path | None) -> Path:
    return store if store is not None else default_store_path()


def _fmt(value: Any, digits: int = 1) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def summary_table(summary: StoredSummary, title: str) -> Table:
    """A rich table of a stored session summary."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("what", style="bold", overflow="fold")  # wrap names, never cut them
    table.add_column("value", overflow="fold")
    rows = summary_rows(summary)  # the console's rows: one count of steps and strides
    for label, value in rows[:-1]:
        table.add_row(label, value)
    timing = summary.loop_compute
    if timing:
        table.add_row(
            "loop compute per tick",
            f"p50 {timing['p50_us']:.0f} µs · p99 {timing['p99_us']:.0f} µs · "
            f"max {timing['max_us']:.0f} µs",
        )
    for label, value in loop_timing_rows(summary.loop_timing):
        table.add_row(label, value)
    latency = summary.reply_latency_us
    if latency:
        worst = max(latency.items(), key=lambda item: item[1]["p99_us"])
        table.add_row(
            "command-to-reply latency",
            f"p99 {worst[1]['p99_us']:.0f} µs (worst joint: {worst[0]}) · max "
            f"{max(stats['max_us'] for stats in latency.values()):.0f} µs",
        )
    phases = summary.phases
    if len(phases) > 1:
        table.add_row("phases", " · ".join(
            f"{p.name} {(p.end_tick or 0) - p.start_tick} ticks, {p.steps} steps "
            "(phase counter)" for p in phases))
    table.add_row("dropped samples", str(summary.dropped_samples))
    table.add_row(*rows[-1])  # faults
    return table


def loop_timing_rows(timing: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Summary rows of a session's loop timing: lateness, skipped ticks, command age, GC."""
    if not timing or timing.get("lateness_us") is None:
        return []
    late, age, gc = timing["lateness_us"], timing["command_age_us"], timing.get("gc") or {}
    rows = [
        ("tick start lateness", f"p50 {late['p50_us']:.0f} µs · p99 {late['p99_us']:.0f} µs · "
                                f"p99.9 {late['p999_us']:.0f} µs · max {late['max_us']:.0f} µs"),
        ("skipped ticks", str(timing["skipped_ticks"])),
        ("command age", f"p99.9 {age['p999_us']:.0f} µs · max {age['max_us']:.0f} µs"),
    ]
    if gc:
        generations = gc["by_generation"]
        rows.append(("garbage collections",
                     f"{sum(generations)} (generations {generations[0]}/{generations[1]}/"
                     f"{generations[2]}), {gc['in_slack']} between ticks, "
                     f"max {gc['max_us']:.0f} µs"))
    return rows


@session_app.command("run")
def session_run(
    duration: Annotated[
        float | None, typer.Option(
            help="run only the protocol's training phase, this long (s) \\[default: every "
                 "phase as the protocol plans it]")
    ] = None,
    protocol: Annotated[str, typer.Option(help="bundled protocol name or .toml file")] = (
        DEFAULT_PROTOCOL
    ),
    robot: Annotated[str, typer.Option(help="bundled robot name or .toml file")] = DEFAULT_ROBOT,
    patient: Annotated[str, typer.Option(help="patient code")] = DEMO_PATIENT.code,
    guidance: Annotated[
        float | None, typer.Option(help="guidance (%) \\[default: the protocol's]")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the simulation")] = 0,
    profile: Annotated[
        str, typer.Option(help="simulated patient: healthy, athletic, stroke_left, "
                               "stroke_right, sci_incomplete")
    ] = "healthy",
    realtime: Annotated[bool, typer.Option(help="pace the simulation to the wall clock")] = False,
    fifo_priority: Annotated[
        int | None, typer.Option(help="run the loop at this SCHED_FIFO priority (1-99, Linux)")
    ] = None,
    cpu: Annotated[int | None, typer.Option(help="pin the process to this CPU")] = None,
    lock_memory: Annotated[
        bool, typer.Option(help="lock the process's memory (mlockall)")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="confirm beforehand what the robot asks to be set by "
                                         "hand (treadmill speed, body-weight support)")
    ] = False,
    store: StoreOption = None,
) -> None:
    """Run a gait-training session and print its summary: on the robot's own buses (hardware,
    or the emulated robot of `rehabbot sim serve`), or in-process simulation for a robot on
    virtual buses.

    Exit status: 0 completed, 3 faulted (a safety fault stopped it; each fault is printed on
    stderr as it happens), 4 aborted (stopped early: Ctrl+C, or an error), 2 bad input.
    """
    try:
        settings = RealtimeSettings(
            fifo_priority=fifo_priority, cpus=None if cpu is None else frozenset({cpu}),
            lock_memory=lock_memory,
        )
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    for refused in apply_realtime(settings).refused:
        print(f"warning: real-time setting not applied: {refused}", file=sys.stderr)
    request = SessionRequest(
        robot=load_robot_config(robot),
        protocol=load_protocol(protocol),
        store_path=_store_path(store),
        patient_code=patient,
        duration_s=duration,
        guidance_pct=guidance,
        seed=seed,
        realtime=realtime,
        profile=profile,
        confirm=_confirm(yes),
    )
    notices = FaultNotices()
    request = dataclasses.replace(request, events=notices)
    runner = SessionRunner(request)

    def stop(signum: int, frame: FrameType | None) -> None:
        runner.request_stop()

    previous = signal.signal(signal.SIGINT, stop)
    try:
        with Progress(
            TextColumn("[bold]session"), BarColumn(), TextColumn("{task.fields[t]:.1f} s"),
            TimeRemainingColumn(), console=Console(stderr=True), transient=True,
            disable=as_json,
        ) as progress:
            task = progress.add_task("run", total=runner.duration_s, t=0.0)
            result = runner.run(lambda t: progress.update(task, completed=t, t=t))
    finally:
        signal.signal(signal.SIGINT, previous)
        notices.close()
    with SessionStore.open(request.store_path) as st:
        info = st.get_session(result.session_id)
        summary = st.session_summary(result.session_id)
    if summary is None:
        raise StorageError(f"session {result.session_id} ended but its summary is not in "
                           f"{request.store_path}; the store may be damaged")
    if as_json:
        print(json.dumps({"session_id": result.session_id, "status": result.status,
                          "summary": summary.as_dict()}, indent=2))
    else:
        for change in result.progression:
            console.print(f"progression: {change.describe()}")
        console.print(summary_table(summary, f"Session {info.id} · {info.protocol_name} · "
                                             f"patient {info.patient_code} · {result.status}"))
        console.print(f"stored in {request.store_path}")
    if result.status in EXIT_STATUS:
        raise typer.Exit(EXIT_STATUS[result.status])


def _confirm(yes: bool) -> Callable[[str], bool]:
    """The operator's confirmation: asked on the terminal, or given beforehand with --yes."""
    if yes:
        return lambda question: True
    return lambda question: typer.confirm(question, default=False, err=True)


@sim_app.command("serve")
def sim_serve(
    robot: Annotated[str, typer.Argument(help="robot whose buses are rehabbot_local channels, "
                                              "e.g. emu_exo")] = "emu_exo",
    protocol: Annotated[str, typer.Option(help="protocol whose cadence the simulated patient "
                                               "walks at")] = DEFAULT_PROTOCOL,
    profile: Annotated[str, typer.Option(help="simulated patient profile")] = "healthy",
    seed: Annotated[int, typer.Option(help="seed of the simulation")] = 0,
    height: Annotated[float, typer.Option(help="patient height (m)")] = DEMO_PATIENT.height_m,
    mass: Annotated[float, typer.Option(help="patient mass (kg)")] = DEMO_PATIENT.mass_kg,
    seconds: Annotated[
        float | None, typer.Option(help="stop after this long (s) \\[default: until Ctrl-C]")
    ] = None,
    fifo_priority: Annotated[
        int | None, typer.Option(help="serve at this SCHED_FIFO priority (1-99, Linux), as a "
                                      "robot's drives keep their own time")
    ] = None,
) -> None:
    """Run the emulated robot (pybullet, patient, emulated drives) paced to the wall clock and
    serve its CAN buses to sessions in other processes, until Ctrl-C or SIGTERM."""
    try:
        realtime_settings = RealtimeSettings(fifo_priority=fifo_priority)
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    for refused in apply_realtime(realtime_settings).refused:
        print(f"warning: real-time setting not applied: {refused}", file=sys.stderr)
    config = load_robot_config(robot)
    if not emulated(config):
        raise ConfigurationError(
            f"robot {config.name!r} has buses {', '.join(b.interface for b in config.buses)}: "
            "`sim serve` needs a robot whose buses are all 'rehabbot_local' channels, such as "
            "the bundled emu_exo")
    if profile not in PROFILES:
        raise ConfigurationError(f"unknown patient profile {profile!r}; choose one of "
                                 f"{', '.join(sorted(PROFILES))}")
    from rehabbot.sim.serve import EmulatedRobot  # pybullet only for this command
    from rehabbot.sim.simulator import SimulationSettings

    walking = next(p for p in load_protocol(protocol).phases if p.walking)
    server = EmulatedRobot(config, SimulationSettings(
        height_m=height, mass_kg=mass, belt_speed_mps=walking.treadmill_speed_mps,
        body_weight_support=walking.body_weight_support_pct / 100.0,
        cadence_steps_per_min=load_protocol(protocol).training_phase.cadence_steps_per_min,
        profile=PROFILES[profile], seed=seed))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    end = math.inf if seconds is None else time.monotonic() + seconds
    print(f"serving {config.name} on {', '.join(server.channels)}", flush=True)
    try:
        with loop_priority():  # the serving loop only, at the priority apply_realtime allowed
            stats = server.serve(lambda: not stop.is_set() and time.monotonic() < end)
    finally:
        server.close()
    print(json.dumps({"robot": config.name} | asdict(stats)), flush=True)


@robot_app.command("zero")
def robot_zero(
    robot: Annotated[str, typer.Argument(help="bundled robot name or .toml file")],
    joints: Annotated[
        list[str] | None, typer.Argument(help="joints to zero \\[default: every joint]")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
    operator: Annotated[str, typer.Option(help="who zeroes (for the audit log)")] = (
        getpass.getuser()),
    store: StoreOption = None,
) -> None:
    """Store zero offsets: each named joint, held at its zero (upright) with the person out of
    the robot, reads 0 from now on. The offsets are kept per robot in the audit log."""
    config = load_robot_config(robot)
    path = _store_path(store)
    with SessionStore.open(path) as st:
        current, _ = with_stored_offsets(st, config)
    names = list(joints or current.joint_names)
    zero_offsets(current, np.zeros(len(current.joints)), names)  # refuses unknown joints first
    if not yes and not typer.confirm(
            f"Zero {', '.join(names)} of robot {config.name}: the person is out of the robot and "
            "each of these joints is held at its zero (upright)?", default=False, err=True):
        print("nothing zeroed", file=sys.stderr)
        raise typer.Exit(code=1)
    settings = PlantSettings(height_m=DEMO_PATIENT.height_m, mass_kg=DEMO_PATIENT.mass_kg,
                             belt_speed_mps=0.0, body_weight_support=0.3,
                             cadence_steps_per_min=90.0)
    angles = read_angles(open_plant(current, settings))
    offsets = zero_offsets(current, angles, names)
    with SessionStore.open(path) as st:
        store_offsets(st, current, offsets, angles, operator)
    table = Table(title=f"zero offsets of {config.name}", title_justify="left")
    for column in ("joint", "reading (deg)", "previous offset (deg)", "new offset (deg)"):
        table.add_column(column)
    for name, offset in offsets.items():
        i = current.joint_names.index(name)
        table.add_row(name, f"{math.degrees(angles[i]):.2f}",
                      f"{math.degrees(current.joints[i].offset_rad):.2f}",
                      f"{math.degrees(offset):.2f}")
    console.print(table)
    console.print(f"stored in {path} (audit log, action robot.zero)")


@sessions_app.command("list")
def sessions_list(
    patient: Annotated[str | None, typer.Option(help="only this patient's sessions")] = None,
    store: StoreOption = None,
) -> None:
    """List recorded sessions."""
    with SessionStore.open_existing(_store_path(store)) as st:
        patient_id = st.get_patient(patient).id if patient else None
        sessions = st.list_sessions(patient_id)
    table = Table(title="Sessions")
    for column in ("id", "patient", "protocol", "started (UTC)", "status", "duration (s)"):
        table.add_column(column)
    for s in sessions:
        table.add_row(str(s.id), s.patient_code, s.protocol_name, s.started_at, s.status,
                      _fmt(s.duration_s))
    console.print(table if sessions else "no sessions recorded yet: `rehabbot session run`")


@sessions_app.command("show")
def sessions_show(
    session_id: Annotated[int, typer.Argument(help="session id (see `rehabbot sessions list`)")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
    store: StoreOption = None,
) -> None:
    """Show one session's summary."""
    with SessionStore.open_existing(_store_path(store)) as st:
        info = st.get_session(session_id)
        summary = st.session_summary(session_id)
    if as_json:
        print(json.dumps({"session_id": info.id, "status": info.status,
                          "summary": None if summary is None else summary.as_dict()}, indent=2))
        return
    title = (
        f"Session {info.id} · {info.protocol_name} · patient {info.patient_code} · "
        f"{info.status}"
    )
    if summary is None:
        console.print(f"{title}: no summary (the session did not finish)")
        return
    if not summary.ran:
        console.print(f"{title}: ended by an error before it ran: {summary.error}")
        return
    console.print(summary_table(summary, title))


@can_app.command("check")
def can_check(
    robot: Annotated[str, typer.Argument(help="bundled robot name or .toml file")],
    limit: Annotated[
        float, typer.Option(help="largest allowed bus utilisation (%)", min=1.0, max=100.0)
    ] = DEFAULT_UTILISATION_LIMIT * 100.0,
) -> None:
    """Bus budget and start-up checklist of a robot configuration (offline: no frame is sent).

    Exits with status 2 when a bus is over the limit or a check fails.
    """
    config = load_robot_config(robot)
    result = check_robot(config, limit / 100.0)
    for load in result.loads:
        table = Table(title=f"{load.bus} at {load.rate_hz:g} Hz: worst case per tick",
                      title_justify="left")
        for column in ("frames", "bytes", "count", "bits"):
            table.add_column(column, justify="left" if column == "frames" else "right")
        for frame in load.frames:
            table.add_row(frame.label, str(frame.payload_bytes), f"{frame.count:g}",
                          f"{frame.count * frame_bits(frame, load):g}")
        table.add_row("total", "", f"{load.frames_per_tick:g}", f"{load.bits_per_tick:g}",
                      style="bold")
        console.print(table)
        console.print(f"wire time {load.wire_time_s * 1e6:.0f} µs per tick · utilisation "
                      f"{load.utilisation:.1%} (limit {load.limit:.0%}) · highest feasible rate "
                      f"{load.max_rate_hz:.0f} Hz")
    checklist = Table(title="start-up checklist", title_justify="left")
    for column in ("check", "subject", "result", "detail"):
        checklist.add_column(column)
    colours = {Status.PASS: "green", Status.FAIL: "red", Status.INFO: "cyan"}
    for item in result.items:
        checklist.add_row(item.check, item.subject,
                          Text(item.status.value, style=colours[item.status]), item.detail)
    console.print(checklist)
    if result.failures:
        first = result.failures[0]
        raise ConfigurationError(
            f"{config.name}: {len(result.failures)} check(s) failed, first: {first.check} "
            f"{first.subject}: {first.detail}"
        )


@app.command("doctor")
def doctor(
    seconds: Annotated[
        float, typer.Option(help="length of the measured pacing test (s); 0 leaves it out",
                            min=0.0, max=600.0)
    ] = 10.0,
) -> None:
    """Check this computer for real-time use: kernel preemption, real-time priority and memory
    limits, CPU governor, isolated CPUs, timer, a measured 1 kHz pacing test and the
    hypervisor's steal time during it; one table with the exact commands that fix what is
    found."""
    from rehabbot.runtime.doctor import Verdict, examine

    findings = examine(seconds, lambda step: console.print(Text(f"running the {step}…",
                                                                style="dim")))
    table = Table(title="rehabbot doctor: this computer for real-time use", title_justify="left")
    for column in ("check", "found", "verdict", "what to do"):
        table.add_column(column, overflow="fold")
    colours = {Verdict.OK: "green", Verdict.WARN: "yellow", Verdict.INFO: "cyan"}
    for item in findings:
        table.add_row(item.check, item.found,
                      Text(item.verdict.value, style=colours[item.verdict]), item.fix)
    console.print(table)


def main() -> None:
    """Entry point of the ``rehabbot`` console script."""
    try:
        app()
    except ModuleNotFoundError as exc:
        message = missing_extra(exc, sys.argv[1:])
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        sys.exit(2)
    except RehabbotError as exc:
        print(f"error: {shorten(str(exc), MAX_MESSAGE_CHARS)}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:  # a file the command was given cannot be used (name too long, ...)
        name = "" if exc.filename is None else f"{shorten(str(exc.filename))}: "
        print(f"error: {name}{exc.strerror or shorten(str(exc))}; check the path",
              file=sys.stderr)
        sys.exit(2)
