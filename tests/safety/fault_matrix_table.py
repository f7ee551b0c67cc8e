"""The fault matrix of issue 4: one table of fault scenarios and the runner that measures each.

Each scenario runs the same impedance loop over CAN (:func:`can_rig`: sim_exo's emulated MIT
drives on a python-can virtual bus, the joints drifting slowly so that a frozen reading stands
out), in lockstep or, for the host's own timing faults, paced to the wall clock (the drives
stepped once per period of wall time, the periods of a host stall included), injects its fault
at tick :data:`AT` (fault-injecting bus rules, emulator hooks, a stall of the host, or the
bench's joint state or recorder where nothing else reaches), and measures in ticks:
when the supervisor detected it, when the written commands (what the loop hands to the robot)
became the stop, which stop that is, whether it stays until a reset, whether a reset is refused
while the cause is still there, and whether the fault is an event of the loop's event sink.

``tests/safety/test_fault_matrix.py`` asserts on these outcomes and
``benchmarks/fault_matrix.py`` prints them; both import this module so the table exists once. It
lives with the tests because it needs their rigs (``tests/conftest.py``, ``tests/safety``).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import can
import numpy as np

from rehabbot.errors import StorageError
from rehabbot.hal.config import whole_periods
from rehabbot.hal.drives import mit
from rehabbot.hal.fault_injection import Action, Direction, FaultRule
from rehabbot.hal.types import FloatArray, JointCommand, JointState
from rehabbot.safety import (
    Actuator,
    FaultKind,
    JointLimits,
    MotorRating,
    Priority,
    SafetySettings,
    SoftLimits,
    StopCategory,
)
from rehabbot.storage.samples import Sample
from tests.conftest import DriveBench
from tests.safety.conftest import KNEE_R, RIG_Q, CanRig, K, can_rig, tick_of

#: The tick every scenario injects its fault at (the first tick whose read sees it).
AT = 30
#: Ticks of the run with the fault (1 kHz: 0.1 s).
RUN_TICKS = 100
#: Ticks after the cause was removed, before the reset: the stop must stay (more than the
#: bus-error window, which keeps its warning until the errors left it).
SETTLE_TICKS = 120
#: The joints' slow drift in every scenario (rad/s): a moving joint reads differently each tick.
DRIFT_RAD_S = 0.1
#: Short fades, so that a run sees a category-1 stop end in torque off.
FAST = SafetySettings(fade_s=0.02)
#: ... and, for the wall-clock rows, a command-age warning that clears within the settle time.
WALL = SafetySettings(fade_s=0.02, late_window_s=0.05)
HIP_R = 0

Repair = Callable[[], None]
Inject = Callable[[CanRig], Repair]


@dataclass(frozen=True)
class Scenario:
    """One row of the matrix.

    Attributes:
        name: the fault.
        how: how it is injected.
        inject: injects it at tick :data:`AT`; returns what removes its cause.
        kind: the fault the supervisor must latch first (None: none at all, see ``how``).
        category: the stop that fault starts.
        persists: the cause stays until repaired, so a reset before the repair is refused.
        settings: the supervisor's settings.
        rom: the patient's range of motion per joint (rad); None: no soft limits.
        actuators: the motors of the thermal and RMS monitors (None: the configured ones).
        wall: paced to the wall clock (the drives' time is wall time), not in lockstep.
        warning: a warning the scenario must raise (the kind of its event), if any.
    """

    name: str
    how: str
    inject: Inject
    kind: FaultKind | None
    category: StopCategory | None = None
    persists: bool = False
    settings: SafetySettings = FAST
    rom: dict[str, tuple[float, float]] | None = None
    actuators: tuple[Actuator, ...] | None = None
    wall: bool = False
    warning: str | None = None


@dataclass
class Outcome:
    """What a scenario did, in the loop's ticks (1 ms each).

    Attributes:
        scenario: the row.
        kind: the first fault latched (None: no fault).
        value: its offending value (a drive fault: the drive's error code).
        detected: the tick it was latched at.
        reaction: the first tick whose written command is no longer the controller's.
        category: the stop the written command at ``reaction`` is.
        priority: the first fault's alarm priority.
        latched: the stop stayed from ``reaction`` until the reset, cause gone or not.
        refused: a reset before the repair was refused (None: not tried, the cause is gone).
        reset: a reset after the repair was accepted and the controller's command came back.
        recorded: the first fault is an event of the loop's event sink, at its tick.
        drive_off_periods: host death only: drive periods without a frame until no drive
            applies torque.
        warnings: the kinds of the warning events of the run.
        reset_blocked_by: what blocked the last reset, if it was refused (on the wall clock an
            old command of the machine's own making can: the command-age warning).
        first_after_stall: host stalls only: the first tick the loop ran after the stall.
    """

    scenario: Scenario
    kind: FaultKind | None = None
    value: float | None = None
    detected: int | None = None
    reaction: int | None = None
    category: StopCategory | None = None
    priority: Priority | None = None
    latched: bool = False
    refused: bool | None = None
    reset: bool = False
    recorded: bool = False
    drive_off_periods: int | None = None
    warnings: list[str] = field(default_factory=list)
    first_after_stall: int | None = None
    reset_blocked_by: str | None = None

    @property
    def injected(self) -> int:
        """The tick the fault was injected at."""
        return AT


# -- injections --------------------------------------------------------------------------------

def _knee_replies(msg: can.Message) -> bool:
    """Replies of the knee_angle_r drive (MIT: on the host id, drive id in the first byte)."""
    return len(msg.data) > 0 and msg.data[0] == KNEE_R + 1


def _rules(*rules: FaultRule, everywhere: bool = False) -> Inject:
    """Inject fault-injecting bus rules on the right leg's bus (``everywhere``: on every bus);
    the repair ends them (the wrappers stay, their rules go) and re-enables the drives."""
    def inject(rig: CanRig) -> Repair:
        buses = rig.inject_everywhere(*rules) if everywhere else [rig.inject(*rules)]

        def repair() -> None:
            for bus in buses:
                bus.rules = ()
            _re_enable(rig)
        return repair
    return inject


def _re_enable(rig: CanRig) -> None:
    """Re-enable the drives (a drive whose watchdog fired or that faulted stays off until then)."""
    rig.robot.deactivate()
    rig.robot.activate(rig.clock.wait_next_tick, timeout_s=0.01)


def _from(tick: int, action: Callable[[CanRig], None]) -> Callable[[CanRig], None]:
    """Run ``action`` before the read of ``tick``, once (a wall clock may step the bench several
    times before that read, or skip ``tick``: then before the first read after it)."""
    def schedule(rig: CanRig) -> None:
        done: list[bool] = []

        def once(k: int) -> None:
            if k >= tick and not done:
                done.append(True)
                action(rig)
        rig.before_tick.append(once)
    return schedule


def _drive_fault(code: int) -> Inject:
    def inject(rig: CanRig) -> Repair:
        _from(AT, lambda r: r.bench.emulators.inject_fault(KNEE_R, code))(rig)
        return lambda: _re_enable(rig)
    return inject


def _move_hip(q_rad_per_tick: float, qd_rad_s: float) -> Inject:
    """From :data:`AT` on the bench moves the right hip by ``q_rad_per_tick`` a tick and reports
    ``qd_rad_s`` (a patient pushing it, a limb falling); the repair puts it back at rest."""
    def inject(rig: CanRig) -> Repair:
        bench = rig.bench

        def move(k: int) -> None:
            if k >= AT:
                bench.q[HIP_R] += q_rad_per_tick
                bench.qd[HIP_R] = qd_rad_s

        rig.before_tick.append(move)

        def repair() -> None:
            rig.before_tick.remove(move)
            bench.q[HIP_R] = RIG_Q[HIP_R]
        return repair
    return inject


_push_hip = _move_hip(0.002, 2.0)


def _frozen(rig: CanRig) -> Repair:
    """From :data:`AT` on the knee stops moving while the controller pushes it."""
    bench = rig.bench
    frozen: list[float] = []

    def freeze(k: int) -> None:
        if k >= AT:
            frozen.append(frozen[0] if frozen else float(bench.q[KNEE_R]))
            bench.q[KNEE_R], bench.qd[KNEE_R] = frozen[0], 0.0

    rig.before_tick.append(freeze)
    return lambda: rig.before_tick.remove(freeze)


def _estop(rig: CanRig) -> Repair:
    _from(AT, lambda r: r.supervisor.estop())(rig)
    return lambda: rig.supervisor.estop(pressed=False)


def _stall(seconds: float, drives_after: bool = False) -> Inject:
    """The host stalls for ``seconds`` at the start of tick :data:`AT` (inside its read; wall
    clock: the drives run on meanwhile, executing the last command, and are stepped through the
    stall before the tick writes). With ``drives_after`` the drives' torque is recorded every
    period from then on (a host that hangs for longer than the drives' watchdog: a killed loop,
    as far as the drives can tell)."""
    def inject(rig: CanRig) -> Repair:
        bench, robot = rig.bench, rig.robot
        read = robot.read
        torques: list[FloatArray] = []

        def stalling_read() -> JointState:
            if rig.clock.ticks >= AT and id(rig) not in STALLED_AT:
                time.sleep(seconds)
                STALLED_AT[id(rig)] = rig.clock.ticks
                if drives_after:
                    rig.before_tick.append(lambda k: torques.append(np.abs(bench.tau).copy()))
            return read()

        robot.read = stalling_read  # type: ignore[method-assign]
        if drives_after:
            HOST_DEATH_TORQUES[id(rig)] = torques
        return lambda: _re_enable(rig)
    return inject


@dataclass
class BrokenRecorder:
    """A recorder whose writer failed at :data:`AT` with a full disk (what
    ``Recorder.error`` shows then; the session runner's end-to-end test uses the real one)."""

    error: BaseException | None = None
    pushed: list[int] = field(default_factory=list)

    def push(self, sample: Sample) -> None:
        """Keep the tick number only."""
        self.pushed.append(sample.tick)


def _store_full(rig: CanRig) -> Repair:
    recorder = BrokenRecorder()
    rig.loop.recorder = recorder
    _from(AT, lambda r: setattr(recorder, "error", StorageError("database or disk is full")))(rig)
    return lambda: setattr(recorder, "error", None)


def _host_death(rig: CanRig) -> Repair:
    """The host hangs after tick ``AT - 1``: the drives run alone for twice their watchdog time
    (their torque is recorded each period), then the host's loop goes on at tick :data:`AT`."""
    bench = rig.bench
    watchdog = whole_periods(bench.config.watchdog_s(bench.config.joints[0]), bench.config.period_s)
    torques: list[FloatArray] = []

    def hang(k: int) -> None:
        if k == AT:
            for _ in range(2 * watchdog):
                bench.step()
                torques.append(np.abs(bench.tau).copy())

    rig.before_tick.append(hang)
    HOST_DEATH_TORQUES[id(rig)] = torques
    return lambda: _re_enable(rig)


def _knee_stiffness(value: float) -> Inject:
    """From :data:`AT` the controller asks for ``value`` as the knee's stiffness (NaN: a broken
    controller; negative: one that would push the joint away); the repair restores it."""
    def inject(rig: CanRig) -> Repair:
        controller = rig.loop.controller
        stiffness = controller.stiffness_nm_per_rad = K.copy()  # type: ignore[attr-defined]

        def set_gain(k: int) -> None:
            if k >= AT:
                stiffness[KNEE_R] = value

        rig.before_tick.append(set_gain)

        def repair() -> None:
            rig.before_tick.remove(set_gain)
            stiffness[KNEE_R] = K[KNEE_R]
        return repair
    return inject


def _forge_knee_replies(rig: CanRig, alter: Callable[[bytearray], None]) -> Repair:
    """From :data:`AT`, after each of the knee drive's replies a second device on its node id
    answers in the same tick: the knee's reply with ``alter`` applied to its data. Returns what
    makes the second device leave."""
    bench = rig.bench
    forger = bench.open()  # sees every frame on the bus, the knee's replies included
    step = bench.step

    def step_then_forge() -> None:
        step()
        replies = []
        while (msg := forger.recv(0.0)) is not None:
            if _knee_replies(msg) and not msg.is_error_frame:
                replies.append(msg)
        if rig.clock.ticks + 1 >= AT:  # replies the read of tick AT sees, and later
            for reply in replies:
                data = bytearray(reply.data)
                alter(data)
                forger.send(can.Message(arbitration_id=reply.arbitration_id,
                                        is_extended_id=False, data=bytes(data)))

    bench.step = step_then_forge  # type: ignore[method-assign]

    def leave() -> None:
        del bench.step  # the class's again
        forger.shutdown()
    return leave


def _impostor(rig: CanRig) -> Repair:
    """From :data:`AT` the knee drive faults (over-current) and, after each of its replies, a
    second device on its node id answers in the same tick: the same motion, healthy and cool."""
    def healthy_and_cool(data: bytearray) -> None:
        data[6:8] = bytes([25 + mit.TEMPERATURE_OFFSET_C, 0])  # 25 °C, no fault

    leave = _forge_knee_replies(rig, healthy_and_cool)
    _from(AT, lambda r: r.bench.emulators.inject_fault(KNEE_R, 2))(rig)

    def repair() -> None:
        leave()
        _re_enable(rig)
    return repair


def _second_device(rig: CanRig) -> Repair:
    """From :data:`AT` a healthy second device on the knee's node id answers after the knee's
    drive in every tick, its encoder one step away."""
    def own_position(data: bytearray) -> None:
        data[2] ^= 0x01  # the position's lowest bit

    return _forge_knee_replies(rig, own_position)


def _time_backwards(rig: CanRig) -> Repair:
    """The state of tick :data:`AT` carries a time 5 ms before the previous tick's."""
    read = rig.robot.read

    def reversed_read() -> JointState:
        state = read()
        if rig.clock.ticks == AT:
            state.t_s -= 6 * rig.clock.period_s
        return state

    rig.robot.read = reversed_read  # type: ignore[method-assign]
    return lambda: setattr(rig.robot, "read", read)


#: The drive torques (N·m) of each period a host hang lasted, by the rig's id.
HOST_DEATH_TORQUES: dict[int, list[FloatArray]] = {}
#: The tick a host stall came in (at its start), by the rig's id.
STALLED_AT: dict[int, int] = {}

#: The patient's range of motion for the ROM scenario (rad): the hip starts at its edge.
ROM = {"hip_flexion_r": (-0.3, 0.3), "knee_angle_r": (0.0, 1.2), "hip_flexion_l": (-0.3, 0.5),
       "knee_angle_l": (0.0, 1.2)}
#: A motor whose continuous rating (40 N·m, 160 N·m at a 4:1 knee) the RMS scenario's corrupted
#: torque readings exceed at once and the controller's torques (up to 120 N·m) do not.
RMS_MOTOR = MotorRating("rms-test", 1.0, 0.01, 0.1, 100.0, 40.0)


def _rms_actuators() -> tuple[Actuator, ...]:
    gears = (6.0, 4.0, 6.0, 4.0)
    return tuple(Actuator(RMS_MOTOR, gear) for gear in gears)


_OFF, _FADE, _HOLD = StopCategory.TORQUE_OFF, StopCategory.FADE, StopCategory.HOLD

SCENARIOS: tuple[Scenario, ...] = (
    Scenario("single drop", "knee reply lost at one tick; stale needs more than "
             "stale_feedback_ticks (3): no fault, normal commands",
             _rules(FaultRule(Action.DROP, where=_knee_replies, start_tick=AT, stop_tick=AT + 1)),
             None),
    Scenario("burst of drops", "knee replies lost for 10 ticks",
             _rules(FaultRule(Action.DROP, where=_knee_replies, start_tick=AT,
                              stop_tick=AT + 10)),
             FaultKind.STALE_FEEDBACK, _OFF),
    Scenario("delayed replies", "knee replies delayed by 5 ticks for 10 ticks",
             _rules(FaultRule(Action.DELAY, where=_knee_replies, start_tick=AT,
                              stop_tick=AT + 10, delay_ticks=5)),
             FaultKind.STALE_FEEDBACK, _OFF),
    Scenario("bus-off", "every send fails (a bus-off controller)",
             _rules(FaultRule(Action.STOP, Direction.TX, start_tick=AT), everywhere=True),
             FaultKind.BUS_ERRORS, _FADE, persists=True),
    Scenario("garbage frames", "every reply truncated to 4 bytes",
             _rules(FaultRule(Action.TRUNCATE, start_tick=AT, keep_bytes=4), everywhere=True),
             FaultKind.BUS_ERRORS, _FADE, persists=True),
    *(Scenario(f"drive fault {code}", f"emulated knee drive faults: {mit.ERROR_CODES[code]}",
               _drive_fault(code), FaultKind.DRIVE_FAULT, _OFF, persists=True)
      for code in range(1, mit.WATCHDOG_ERROR_CODE)),
    Scenario("frozen sensor", "knee stops moving under torque (frozen_after_s 20 ms)",
             _frozen, FaultKind.FROZEN_SENSOR, _OFF,
             settings=SafetySettings(fade_s=0.02, frozen_after_s=0.02)),
    Scenario("position jump", "one knee reply's position +256 counts (0.03 rad)",
             _rules(FaultRule(Action.CORRUPT, where=_knee_replies, start_tick=AT,
                              stop_tick=AT + 1, xor_mask=bytes([0, 0x01]))),
             FaultKind.POSITION_JUMP, _OFF),
    Scenario("over-temperature", "knee drive reads +128 °C: the thermal model's reference",
             _rules(FaultRule(Action.CORRUPT, where=_knee_replies, start_tick=AT,
                              xor_mask=bytes([0] * 6 + [0x80]))),
             FaultKind.OVER_TEMPERATURE, _FADE, persists=True),
    Scenario("RMS torque", "knee torque readings off by half their range (260 N·m); "
             "160 N·m rating, 10 ms window",
             _rules(FaultRule(Action.CORRUPT, where=_knee_replies, start_tick=AT,
                              xor_mask=bytes([0] * 4 + [0x08]))),
             FaultKind.RMS_TORQUE, _FADE, persists=True,
             settings=SafetySettings(fade_s=0.02, rms_window_s=0.01),
             actuators=_rms_actuators()),
    Scenario("range of motion", "hip pushed at 2 rad/s beyond its ROM (0.3 rad + 0.1 rad margin)",
             _push_hip, FaultKind.ROM_EXCEEDED, _FADE, persists=True, rom=ROM),
    Scenario("velocity limit", "hip reports 7 rad/s, limit 6 rad/s",
             _move_hip(0.0, 7.0), FaultKind.VELOCITY_LIMIT, _OFF, persists=True),
    Scenario("5 ms host stall", "wall clock: the host stalls 5 ms (command deadline 20 ms): a "
             "low-priority warning, no fault", _stall(0.005), None, settings=WALL, wall=True,
             warning="warning:command_deadline"),
    Scenario("stall beyond the deadline", "wall clock: the host stalls 25 ms (command deadline "
             "20 ms): a fault on the first tick after the stall", _stall(0.025),
             FaultKind.COMMAND_DEADLINE, _HOLD, settings=WALL, wall=True),
    Scenario("killed loop", "wall clock: the host hangs 100 ms, 2.5 × the drives' watchdog "
             "(40 ms): the drives turn their torque off alone; the host, back, faults on the "
             "command's age, then reads their watchdog code", _stall(0.1, drives_after=True),
             FaultKind.COMMAND_DEADLINE, _HOLD, persists=True, settings=WALL, wall=True),
    Scenario("E-STOP", "E-STOP pressed", _estop, FaultKind.ESTOP, _OFF, persists=True),
    Scenario("host death", "host hangs for 2 × the drives' watchdog; drives alone, then the "
             "host reads their watchdog code", _host_death, FaultKind.DRIVE_FAULT, _OFF,
             persists=True),
    Scenario("store full", "recorder's writer fails: database or disk is full", _store_full,
             FaultKind.STORAGE, _FADE, persists=True),
    # issue 15, items 11-14
    Scenario("NaN controller output", "the controller's knee stiffness turns NaN (caught while "
             "limiting the command; in the loop's report since issue 15)",
             _knee_stiffness(float("nan")), FaultKind.INVALID_VALUE, _OFF, persists=True),
    Scenario("impostor on a node id", "the knee drive reports an over-current, then a second "
             "device on its node id answers healthy in the same tick",
             _impostor, FaultKind.DRIVE_FAULT, _OFF, persists=True),
    Scenario("second device on a node id", "a healthy second device answers on the knee's "
             "node id after the knee's drive in every tick", _second_device,
             FaultKind.NODE_ID_CONFLICT, _OFF, persists=True),
    Scenario("negative gain", "the controller asks for kp = -800 N·m/rad at the knee",
             _knee_stiffness(-800.0), FaultKind.INVALID_VALUE, _OFF, persists=True),
    Scenario("time backwards", "one state's time 5 ms before the previous tick's",
             _time_backwards, FaultKind.TIME_REVERSED, _OFF),
)


# -- the runner --------------------------------------------------------------------------------

def written_category(command: JointCommand) -> StopCategory | None:
    """The stop a written command is (None: the controller's own command, full stiffness)."""
    if np.allclose(command.kp, K):
        return None
    if not (command.kp.any() or command.kd.any()):
        return StopCategory.FADE if command.tau_ff.any() else StopCategory.TORQUE_OFF
    return StopCategory.HOLD


def _drift(bench: DriveBench) -> Callable[[int], None]:
    def move(tick: int) -> None:
        bench.qd[:] = DRIFT_RAD_S
        bench.q += DRIFT_RAD_S * bench.config.period_s
    return move


def _ticks(rig: CanRig, ticks: int) -> list[str]:
    """Run the loop ``ticks`` ticks; the kinds of its events."""
    return [e.kind for e in rig.loop.run(ticks * rig.clock.period_s).events]


#: The SCHED_FIFO priority the wall-clock rows ask for, as a session would (where allowed).
WALL_PRIORITY = 50


@contextmanager
def _fifo_where_allowed(wanted: bool) -> Iterator[None]:
    """Run the block at :data:`WALL_PRIORITY` if ``wanted`` and the OS allows it (a wall-clock
    row on a busy machine without it sees the machine's own stalls); the scheduling is restored
    afterwards."""
    before = os.sched_getscheduler(0), os.sched_getparam(0).sched_priority
    if wanted:  # refused: the row runs at the normal priority, and may see stalls
        with contextlib.suppress(PermissionError):
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(WALL_PRIORITY))
    try:
        yield
    finally:
        os.sched_setscheduler(0, before[0], os.sched_param(before[1]))


def run_scenario(scenario: Scenario, bench: DriveBench) -> Outcome:
    """Run ``scenario`` on ``bench`` (fresh virtual channels) and measure it (a wall-clock row
    at :data:`WALL_PRIORITY` where allowed)."""
    with _fifo_where_allowed(scenario.wall):
        return _run_scenario(scenario, bench)


def _run_scenario(scenario: Scenario, bench: DriveBench) -> Outcome:
    hard = JointLimits.from_config(bench.config)
    soft = (None if scenario.rom is None
            else SoftLimits.from_rom(bench.config.joint_names, scenario.rom, hard))
    outcome = Outcome(scenario)
    with can_rig(bench, scenario.settings, soft_limits=soft,
                 actuators=scenario.actuators, wall=scenario.wall) as rig:
        written: dict[int, StopCategory | None] = {}  # by tick: the stop each write is
        limit = rig.supervisor.limit

        def recording_limit(command: JointCommand, state: JointState) -> JointCommand:
            out = limit(command, state)  # what the loop writes
            written[rig.clock.ticks] = written_category(out)
            return out

        rig.supervisor.limit = recording_limit  # type: ignore[method-assign]
        sink: list[tuple[str, int]] = []
        rig.loop.events = lambda event: sink.append((event.kind, tick_of(event)))
        rig.before_tick.append(_drift(bench))
        repair = scenario.inject(rig)
        faults = rig.loop.run(RUN_TICKS * rig.clock.period_s).faults
        outcome.warnings = [kind for kind, _ in sink if kind.startswith("warning:")]
        if scenario.persists:
            rig.loop.request_reset()
            outcome.refused = "reset:refused" in _ticks(rig, 1)
        repair()
        _ticks(rig, SETTLE_TICKS)
        reset_at = rig.clock.ticks
        rig.loop.request_reset()
        reset_events = rig.loop.run(rig.clock.period_s).events
        reset_tick = min(tick for tick in written if tick >= reset_at)  # a wall clock moved on
        outcome.reset = (any(e.kind == "reset" for e in reset_events)
                         and written[reset_tick] is None)
        outcome.reset_blocked_by = next(
            (str(e.values.get("blocking")) for e in reset_events if e.kind == "reset:refused"),
            None)
        torques = HOST_DEATH_TORQUES.pop(id(rig), [])
    outcome.drive_off_periods = next(
        (i + 1 for i, tau in enumerate(torques) if not tau.any()), None)
    if scenario.wall:
        stalled_at = STALLED_AT.pop(id(rig))
        outcome.first_after_stall = min(tick for tick in written if tick >= stalled_at)
    if faults:
        first = faults[0]
        outcome.kind, outcome.value, outcome.priority = first.kind, first.value, first.priority
        outcome.detected = tick_of(first)
        outcome.recorded = (f"fault:{first.kind.value}", outcome.detected) in sink
    stopped = [tick for tick, category in written.items() if tick >= AT and category is not None]
    if stopped:
        outcome.reaction = reaction = min(stopped)
        outcome.category = written[reaction]
        outcome.latched = all(written[tick] is not None for tick in written
                              if reaction <= tick < reset_at)
    return outcome
