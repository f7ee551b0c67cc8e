"""Safety test helpers: a two-joint supervisor driven tick by tick at the state level, and a
lockstep control loop over CAN (emulated drives on a virtual bus) with fault injection."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pytest

from rehabbot.controllers.impedance import ImpedanceController
from rehabbot.hal.drives import mit
from rehabbot.hal.fault_injection import FaultInjectionBus, FaultRule
from rehabbot.hal.robot import CanRobot
from rehabbot.hal.types import JointCommand, JointState
from rehabbot.runtime.clock import LockstepClock, WallClock
from rehabbot.runtime.loop import ControlLoop
from rehabbot.safety import (
    Actuator,
    BusErrorCounters,
    Fault,
    JointLimits,
    MotorRating,
    SafetyEvent,
    SafetySettings,
    SoftLimits,
    Supervisor,
)
from tests.conftest import DriveBench

PERIOD_S = 0.001
NAMES = ("hip_flexion_r", "knee_angle_r")
LIMITS = JointLimits(
    position_min_rad=np.array([-0.5, 0.0]),
    position_max_rad=np.array([1.0, 1.7]),
    velocity_max_rad_s=np.array([5.0, 8.0]),
    torque_max_nm=np.array([50.0, 40.0]),
)
#: A motor whose numbers are easy to check by hand: 1 N·m/A, 0.5 Ω, 2 K/W, 10 s, 10 N·m.
MOTOR = MotorRating("test-motor", 1.0, 0.5, 2.0, 10.0, 10.0, warn_c=60.0, fault_c=80.0)
STALE_TICKS = 3


def make_supervisor(
    settings: SafetySettings | None = None,
    *,
    soft_limits: SoftLimits | None = None,
    thermal: bool = False,
) -> Supervisor:
    """A supervisor of :data:`NAMES` at 1 kHz; with ``thermal``, both joints have :data:`MOTOR`
    behind a 2:1 transmission."""
    actuators = (Actuator(MOTOR, 2.0), Actuator(MOTOR, 2.0)) if thermal else None
    return Supervisor(NAMES, LIMITS, STALE_TICKS, period_s=PERIOD_S, settings=settings,
                      soft_limits=soft_limits, actuators=actuators)


def command(tau_ff: float = 0.0, kp: float = 100.0, kd: float = 1.0) -> JointCommand:
    """An impedance command towards 0.5 rad on both joints."""
    return JointCommand(
        q_ref=np.array([0.5, 0.5]), qd_ref=np.zeros(2), kp=np.full(2, kp), kd=np.full(2, kd),
        tau_ff=np.full(2, tau_ff),
    )


def is_torque_off(cmd: JointCommand) -> bool:
    """No stiffness, no damping, no feed-forward torque."""
    return not (cmd.kp.any() or cmd.kd.any() or cmd.tau_ff.any())


@dataclass
class Ticker:
    """Runs a supervisor tick by tick on a hand-made state: ``check`` then ``limit``.

    Attributes:
        supervisor: the supervisor under test.
        state: the state of the next tick (tests change it between ticks; ``t_s`` advances).
        command: the controller's command of every tick.
        torques: the torque each tick's written command produces at that tick's state (N·m).
        written: a copy of each tick's written command.
    """

    supervisor: Supervisor
    state: JointState = field(default_factory=lambda: _nominal_state())
    command: JointCommand = field(default_factory=command)
    torques: list[np.ndarray] = field(default_factory=list)
    written: list[JointCommand] = field(default_factory=list)

    @property
    def tick(self) -> int:
        """Ticks run so far; the next tick has this index."""
        return len(self.written)

    def run(
        self, ticks: int = 1, *, command_age_s: float = PERIOD_S,
        bus: BusErrorCounters | None = None,
    ) -> list[Fault]:
        """Run ``ticks`` ticks, the drives executing a command ``command_age_s`` old at each;
        return the faults latched during them."""
        faults = []
        for _ in range(ticks):
            self.state.t_s = self.tick * PERIOD_S
            faults += self.supervisor.check(self.state, command_age_s=command_age_s, bus=bus)
            written = self.supervisor.limit(self.command, self.state)
            self.written.append(written.copy())
            self.torques.append(written.expected_torque(self.state.q, self.state.qd))
        return faults


def tick_of(fault: Fault | SafetyEvent) -> int:
    """The tick index a fault was detected or an event happened at."""
    return round(fault.t_s / PERIOD_S)


def _nominal_state() -> JointState:
    state = JointState.zeros(2)
    state.q[:] = [0.4, 0.6]
    return state


# -- over CAN --------------------------------------------------------------------------------

K = np.array([800.0, 600.0, 800.0, 600.0])
D = np.array([20.0, 10.0, 20.0, 10.0])
#: Half a torque quantization step of the AK10-9 command field, motor side (N·m).
HALF_TORQUE_STEP = mit.motor_model("AK10-9").t_max_nm / 4095
KNEE_R = 1  # index of knee_angle_r in sim_exo, node id 2 on the bus "right"


@dataclass
class CanRig:
    """A lockstep control loop over CAN on a :class:`DriveBench`; tick ``k`` of the run reads,
    checks and writes while ``clock.ticks == k``.

    Attributes:
        sent: the commands each drive received, one list per tick (motor side, as decoded).
        before_tick: called with tick ``k`` before the bench's step whose replies tick ``k``
            reads (what a test changes there, tick ``k`` is the first to see).
    """

    bench: DriveBench
    clock: LockstepClock | WallClock
    robot: CanRobot
    supervisor: Supervisor
    loop: ControlLoop
    sent: list[list[tuple[float, ...]]]
    before_tick: list[Callable[[int], None]]

    def inject(self, *rules: FaultRule, seed: int = 0, bus: str = "right") -> FaultInjectionBus:
        """Put a fault-injecting wrapper between the robot and its bus ``bus`` (sim_exo has one
        bus per leg; the right leg's carries :data:`KNEE_R`), ticking with the loop."""
        link = self.robot.links_[bus]
        wrapper = FaultInjectionBus(link.bus, rules, seed=seed, tick=lambda: self.clock.ticks)
        link.bus = wrapper
        return wrapper

    def inject_everywhere(self, *rules: FaultRule, seed: int = 0) -> list[FaultInjectionBus]:
        """:meth:`inject` on every bus of the robot (a fault of the host's side of each bus)."""
        return [self.inject(*rules, seed=seed, bus=name) for name in self.robot.links_]

    def drive_torque_off_from(self) -> int:
        """The first tick from which every drive got torque-off commands to the end."""
        def off(cmds: list[tuple[float, ...]]) -> bool:
            return all(kp == 0 and kd == 0 and abs(t) <= HALF_TORQUE_STEP
                       for _, _, kp, kd, t in cmds)
        first = len(self.sent)
        while first > 0 and off(self.sent[first - 1]):
            first -= 1
        return first


#: The joint angles the bench holds sim_exo's joints at in a :func:`can_rig` (rad).
RIG_Q = (0.3, 0.1, -0.2, 0.2)


@contextmanager
def can_rig(
    bench: DriveBench,
    settings: SafetySettings | None = None,
    *,
    soft_limits: SoftLimits | None = None,
    actuators: tuple[Actuator, ...] | None = None,
    wall: bool = False,
) -> Iterator[CanRig]:
    """A running impedance loop on sim_exo's emulated drives (joints held at :data:`RIG_Q` by
    the bench), its supervisor from the robot configuration, ``settings``, ``soft_limits`` and
    ``actuators`` (default: the configured motors); the robot closes at exit.

    In lockstep by default; with ``wall`` paced to the wall clock, the bench stepped once per
    period of wall time (stalls included: the drives run on while the host stalls), as a
    simulator paced to the wall clock is."""
    sent: list[list[tuple[float, ...]]] = []
    before_tick: list[Callable[[int], None]] = []

    def step() -> None:
        for hook in before_tick:
            hook(clock.ticks + 1)
        bench.step()
        sent.append([d.command for d in bench.drives()])

    bench.q[:] = RIG_Q  # inside the limits, away from the reference
    clock: LockstepClock | WallClock = (
        WallClock(bench.config.period_s, step=step) if wall
        else LockstepClock(bench.config.period_s, step=step))
    robot = bench.robot(time_source=clock.now)
    robot.configure()
    try:
        robot.activate(clock.wait_next_tick, timeout_s=0.01)
        clock.restart()
        sent.clear()
        supervisor = Supervisor.from_config(bench.config, settings=settings,
                                            soft_limits=soft_limits, actuators=actuators)
        controller = ImpedanceController(bench.config.joint_names, K, D)
        loop = ControlLoop(robot, supervisor, controller, clock)
        yield CanRig(bench, clock, robot, supervisor, loop, sent, before_tick)
    finally:
        robot.close()


@pytest.fixture
def rig(bench: DriveBench) -> Iterator[CanRig]:
    """:func:`can_rig` with the default settings."""
    with can_rig(bench) as running:
        yield running
