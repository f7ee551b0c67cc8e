"""What the live screen shows besides the raw curves, computed from the ticks read off the ring.

:class:`LiveStats` takes each :class:`~rehabbot.runtime.ring.LiveBlock` as it arrives and keeps:

* the step count: foot strikes, i.e. rising edges of either foot's contact (in simulation the
  simulator's ground truth; a robot without contact sensing counts none);
* the walking time (s): loop time while at least one foot had contact and the torque was on
  (any tick whose commanded torque is not all zero);
* the right leg's gait phase (cycles, 0..1) of the last tick;
* Lokomat-style biofeedback per joint for stance and swing of its leg: over the last completed
  stance (swing), ``-mean(tau_cmd * sign(qd_ref))`` (N·m), the live counterpart of
  :mod:`rehabbot.assessment.biofeedback` (which works from a session's detected gait events).
  Positive: the patient moved ahead of the reference; negative: the robot pushed the joint along
  the reference, the patient was passive or resisted.

Units are SI (s, rad, N·m); no Qt here.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from rehabbot.assessment.biofeedback import PARTS
from rehabbot.runtime.ring import FloatArray, LiveBlock

BoolArray = npt.NDArray[np.bool_]


class LiveStats:
    """Running step count, walking time, phase and biofeedback of a session.

    Args:
        joint_names: joints in ring column order (names end in ``_r`` or ``_l``).

    >>> import numpy as np
    >>> from rehabbot.runtime.ring import LiveBlock, row_width
    >>> rows = np.zeros((4, row_width(1)))
    >>> rows[:, 1] = [0.0, 0.001, 0.002, 0.003]   # t_s
    >>> rows[:, 3] = [0, 1, 1, 0]                  # right contact: one foot strike
    >>> stats = LiveStats(("knee_angle_r",))
    >>> stats.update(LiveBlock(rows, 1, 0))
    >>> stats.steps
    1
    """

    def __init__(self, joint_names: tuple[str, ...]) -> None:
        self.joint_names = joint_names
        self.steps = 0
        self.walking_s = 0.0
        self.t_s = 0.0
        self.phase = math.nan
        self.lost = 0
        n = len(joint_names)
        self._leg = np.array([1 if name.endswith("_l") else 0 for name in joint_names])
        #: last completed stance/swing value per joint (N·m), NaN until one has completed
        self.biofeedback_nm = {part: np.full(n, np.nan) for part in PARTS}
        self._contact = np.array([False, False])
        self._sum = np.zeros((2, n))  # running sums over the current part, per joint
        self._count = np.zeros(n)
        self._period_s: float | None = None
        self._seen = False

    def update(self, block: LiveBlock) -> None:
        """Take the next rows (oldest first)."""
        self.lost += block.lost
        if len(block) == 0:
            return
        t = block.column("t_s")
        contact = np.column_stack((block.column("contact_r"), block.column("contact_l"))) > 0.5
        if self._period_s is None and len(t) > 1:
            self._period_s = float(t[1] - t[0])
        period = self._period_s or 0.001
        before = np.vstack((self._contact if self._seen else contact[:1], contact[:-1]))
        self.steps += int(np.count_nonzero(contact & ~before))
        tau_cmd = block.joints("tau_cmd")
        torque_on = np.any(tau_cmd != 0.0, axis=1)
        self.walking_s += period * int(np.count_nonzero(torque_on & contact.any(axis=1)))
        self.t_s = float(t[-1])
        self.phase = float(block.column("phase")[-1])
        self._biofeedback(contact, before, tau_cmd, block.joints("q_ref"))
        self._contact = contact[-1]
        self._seen = True

    def _biofeedback(self, contact: BoolArray, before: BoolArray, tau_cmd: FloatArray,
                     q_ref: FloatArray) -> None:
        """Accumulate ``tau_cmd * sign(dq_ref)`` per joint over its leg's stance or swing; close
        a part at each contact change of that leg."""
        dq = np.diff(q_ref, axis=0, prepend=q_ref[:1])
        work = tau_cmd * np.sign(dq)
        leg_contact = contact[:, self._leg]  # (n_rows, n_joints): the joint's leg's contact
        leg_before = before[:, self._leg]
        changed = leg_contact != leg_before
        for j in range(len(self.joint_names)):
            edges = np.flatnonzero(changed[:, j])
            start = 0
            for edge in (*edges, len(work)):
                # the segment [start, edge) has the contact the leg had just before ``edge``
                in_contact = leg_before[edge, j] if edge < len(work) else leg_contact[-1, j]
                part = 0 if in_contact else 1
                self._sum[part, j] += work[start:edge, j].sum()
                self._count[j] += edge - start
                if edge < len(work):  # the part ended at this edge: publish it
                    if self._count[j] > 0:
                        self.biofeedback_nm[PARTS[part]][j] = -self._sum[part, j] / self._count[j]
                    self._sum[part, j] = 0.0
                    self._count[j] = 0
                start = edge
