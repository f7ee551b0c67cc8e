"""What every emulated drive bank does alike: bind each drive to a joint of the simulator, let
it measure its joint through its encoder (one seeded noise draw per drive and step) and add its
joint torque.

The noise generator is seeded by the simulation's seed and the bank's joints
(:func:`encoder_noise_seed`), so that a lockstep session stays deterministic and two banks of one
simulation draw different noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

import numpy as np

from rehabbot.hal.types import FloatArray


class EncodedDrive(Protocol):
    """An emulated drive as its bank sees it."""

    def observe(self, q_joint_rad: float, qd_joint_rad_s: float, noise: float) -> None:
        """Measure the joint at ``q_joint_rad`` (rad), ``qd_joint_rad_s`` (rad/s) through the
        encoder; ``noise`` is a standard normal draw for the velocity."""

    def joint_torque(self) -> float:
        """The torque (N·m) the drive puts on its joint now."""


def encoder_noise_seed(seed: int, sim_indices: Sequence[int]) -> list[int]:
    """The seed of a bank's encoder noise: the simulation's ``seed`` and its joints (so that two
    banks of one simulation draw different noise).

    >>> encoder_noise_seed(7, [0, 2])
    [7, 0, 2]
    """
    return [seed, *(int(i) for i in sim_indices)]


def velocity_noise_rad_s(step_rad: float, period_s: float) -> float:
    """Standard deviation (rad/s) of a velocity taken from two readings of an encoder of
    ``step_rad`` one ``period_s`` apart: ``step / (√6 · period)``.

    >>> round(velocity_noise_rad_s(2 * math.pi / (16384 * 9), 0.001), 4)
    0.0174
    """
    return step_rad / (math.sqrt(6.0) * period_s)


Drive = TypeVar("Drive", bound=EncodedDrive)
#: Steps of encoder noise a bank draws at once.
NOISE_BLOCK_STEPS = 1000


class DriveBank(Generic[Drive]):
    """The drives of one bus bound to the simulator's joints ``sim_indices``; a subclass sets
    :attr:`drives` (one per index, in order)."""

    drives: list[Drive]

    def __init__(self, sim_indices: Sequence[int], seed: int) -> None:
        self.sim_indices = [int(i) for i in sim_indices]
        self._rng = np.random.default_rng(encoder_noise_seed(seed, sim_indices))
        self._noise: list[list[float]] = []  # draws of the steps to come, in order
        self._next = 0

    def observe(self, q: FloatArray, qd: FloatArray) -> None:
        """The simulator's joint angles (rad) and velocities (rad/s) the drives measure now,
        through their encoders (one noise draw per drive).

        The draws are made :data:`NOISE_BLOCK_STEPS` steps at a time: the generator gives the
        same numbers in the same order as one call per step, at a fraction of the calls."""
        if self._next == len(self._noise):
            self._noise = self._rng.standard_normal(
                (NOISE_BLOCK_STEPS, len(self.drives))).tolist()
            self._next = 0
        noise = self._noise[self._next]
        self._next += 1
        q_list, qd_list = q.tolist(), qd.tolist()
        for drive, i, n in zip(self.drives, self.sim_indices, noise, strict=True):
            drive.observe(q_list[i], qd_list[i], n)

    def joint_torques(self, out: FloatArray) -> None:
        """Add every drive's joint torque (N·m) into ``out`` (indexed like the sim's joints)."""
        for drive, i in zip(self.drives, self.sim_indices, strict=True):
            out[i] += drive.joint_torque()
