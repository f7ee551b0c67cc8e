"""Issue 15 item 12: a second device answering on a joint's node id is a fault of its own
(``node_id_conflict``), while late, lost and repeated replies are not."""

from __future__ import annotations

from collections.abc import Iterator

import can
import pytest

from rehabbot.hal.fault_injection import Action, FaultRule
from rehabbot.hal.types import JointCommand
from rehabbot.safety import FaultKind, StopCategory
from rehabbot.sim.emulated_mit import EmulatedMitBank
from tests.conftest import DriveBench
from tests.safety.conftest import KNEE_R, CanRig, tick_of
from tests.safety.test_fault_injection import knee_replies

JOIN_AT = 30  # the first tick whose read sees the second device's replies
LEAVE_AT = 60  # the first tick whose read no longer does


@pytest.fixture
def second_knee(bench: DriveBench) -> Iterator[can.BusABC]:
    """A handle on the right leg's bus for a second MIT drive configured as the knee's."""
    bus = bench.open("right")
    yield bus
    bus.shutdown()


def join_second_drive(rig: CanRig, bus: can.BusABC) -> EmulatedMitBank:
    """From :data:`JOIN_AT` until :data:`LEAVE_AT` a second emulated drive with the knee's node
    id (another motor: its encoder zero 0.1 rad away) takes the frames on the bus and answers
    each of its node id's, as the knee's drive does."""
    config = rig.bench.config
    knee = config.joints[KNEE_R]
    other = knee.model_copy(update={"offset_rad": knee.offset_rad + 0.1})
    bank = EmulatedMitBank(bus, [other], [KNEE_R], config)

    def answer(k: int) -> None:
        frames = []
        while (msg := bus.recv(0.0)) is not None:
            frames.append(msg)
        if not JOIN_AT <= k < LEAVE_AT:
            return
        bank.observe(rig.bench.q, rig.bench.qd)
        for msg in frames:  # the host's frames of the last tick (and the drives' replies)
            bank.receive(msg)
        bank.publish()

    rig.before_tick.append(answer)
    return bank


def test_a_second_drive_on_the_knees_node_id_is_a_latched_node_id_conflict(
    rig: CanRig, second_knee: can.BusABC,
) -> None:
    bank = join_second_drive(rig, second_knee)
    rig.loop.run(0.1)
    assert bank.drives[0].frames_received >= LEAVE_AT - JOIN_AT - 1  # it did answer
    first = rig.supervisor.faults_[0]
    assert (first.kind, first.joint, tick_of(first)) == (
        FaultKind.NODE_ID_CONFLICT, "knee_angle_r", JOIN_AT + 1)  # two ticks in a row
    assert (first.value, first.limit, first.unit) == (1.0, 0.0, "replies")
    assert first.category is StopCategory.TORQUE_OFF
    # latched: the second device left at LEAVE_AT, the fault and the stop stay
    kinds = {(f.kind, f.joint) for f in rig.supervisor.faults_}
    assert (FaultKind.NODE_ID_CONFLICT, "knee_angle_r") in kinds
    assert rig.supervisor.reaction_ is StopCategory.TORQUE_OFF
    assert rig.drive_torque_off_from() == tick_of(first)  # from the detection tick on


@pytest.mark.parametrize("seed", range(4))
def test_late_replies_bunched_into_one_read_are_not_a_second_device(
    rig: CanRig, seed: int,
) -> None:
    """A third of the knee's replies arrive one or two ticks late, so that one read often gets
    two or three of them: each pays for an earlier command, nothing is surplus."""
    rig.inject(FaultRule(Action.DELAY, where=knee_replies, probability=0.3, delay_ticks=2),
               FaultRule(Action.DELAY, where=knee_replies, probability=0.3, delay_ticks=1),
               seed=seed)
    rig.loop.run(0.1)
    assert [f.kind for f in rig.supervisor.faults_] == []


def test_a_second_device_is_caught_after_a_run_of_lost_replies_is_paid_off(
    bench: DriveBench, second_knee: can.BusABC,
) -> None:
    """Replies lost (here: nine commands the knee never answered) are owed, so the second
    device's first replies pay them off; from then on every tick has a surplus reply."""
    robot = bench.active_robot()
    config = bench.config
    other = config.joints[KNEE_R].model_copy(update={"offset_rad": 0.1})
    impostor = EmulatedMitBank(second_knee, [other], [KNEE_R], config)
    off = JointCommand.torque_off(4)
    bench.emulators.silence(KNEE_R)
    surplus = []
    for k in range(30):
        bench.q[KNEE_R] = 0.01 * k  # a moving knee: no reply repeats an earlier one
        surplus.append(int(robot.read().surplus_replies[KNEE_R]))
        robot.write(off)
        impostor.observe(bench.q, bench.qd)
        while (msg := second_knee.recv(0.0)) is not None:
            if k >= 10:  # the impostor is there from the 11th tick
                impostor.receive(msg)
        impostor.publish()
        if k == 9:
            bench.emulators.emulators[0].silenced.clear()  # the knee answers again
        bench.step()
    robot.close()
    # the replies to commands 0-8 were lost: nine owed, paid off by the impostor's extra replies
    # of ticks 11-19; from tick 20 on every tick has one reply more than asked for
    assert surplus == [0] * 20 + [1] * 10
