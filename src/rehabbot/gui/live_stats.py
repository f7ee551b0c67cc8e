"""What the live screen shows besides the raw curves, computed from the ticks read off the ring.

:class:`LiveStats` takes each :class:`~rehabbot.runtime.ring.LiveBlock` as it arrives and keeps:

* the step count, strides per side, walking time (s) and cadence: the same count the summary,
  the report and the exports give (:class:`~rehabbot.assessment.summary.GaitCounts`: complete
  strides of the kinematic gait events of the hip and knee angles; walking time is the time
  the complete strides cover). The events are detected again every :data:`RECOUNT_S` over the
  last :data:`WINDOW_S` of angles, and a stride is counted once it ended more than
  :data:`SETTLE_S` before the newest sample (the detector needs the samples around an event);
  :meth:`LiveStats.finish` counts the rest when the session ends. The count therefore trails
  the treadmill by a few seconds and, for steady walking, ends equal to the stored summary's;
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
from rehabbot.assessment.kinematic_events import SIDES
from rehabbot.assessment.summary import EVENT_JOINTS, NO_GAIT, GaitCounts, gait_tables
from rehabbot.runtime.ring import FloatArray, LiveBlock

BoolArray = npt.NDArray[np.bool_]

#: Angles kept for the live event detection (s).
WINDOW_S = 15.0
#: How often the events are detected again (s of session time).
RECOUNT_S = 1.0
#: A stride is counted once it ended this long before the newest sample (s).
SETTLE_S = 3.0


class LiveStats:
    """Running step count, walking time, phase and biofeedback of a session.

    Args:
        joint_names: joints in ring column order (names end in ``_r`` or ``_l``).

    >>> import numpy as np
    >>> from rehabbot.runtime.ring import LiveBlock, row_width
    >>> rows = np.zeros((4, row_width(1)))
    >>> rows[:, 1] = [0.0, 0.001, 0.002, 0.003]   # t_s
    >>> stats = LiveStats(("knee_angle_r",))
    >>> stats.update(LiveBlock(rows, 1, 0))
    >>> stats.steps, stats.t_s            # no hips: no kinematic events, no steps
    (0, 0.003)
    """

    def __init__(self, joint_names: tuple[str, ...]) -> None:
        self.joint_names = joint_names
        self.counts: GaitCounts = NO_GAIT
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
        self._seen = False
        self._event_cols = [joint_names.index(n) for n in EVENT_JOINTS if n in joint_names]
        self._history: list[FloatArray] = []  # blocks of (t_s, event angles...)
        self._strides: dict[str, list[tuple[float, float, float]]] = {s: [] for s in SIDES}
        self._recounted_s = -math.inf
        self.recounts = 0
        """How many times the events were detected again (once a second of session time)."""

    @property
    def steps(self) -> int:
        """Steps counted so far (complete strides of both sides)."""
        return self.counts.step_count

    @property
    def walking_s(self) -> float:
        """Walking time so far (s): the time the counted strides cover."""
        return self.counts.walking_time_s

    def update(self, block: LiveBlock) -> None:
        """Take the next rows (oldest first)."""
        self.lost += block.lost
        if len(block) == 0:
            return
        t = block.column("t_s")
        contact = np.column_stack((block.column("contact_r"), block.column("contact_l"))) > 0.5
        before = np.vstack((self._contact if self._seen else contact[:1], contact[:-1]))
        tau_cmd = block.joints("tau_cmd")
        self.t_s = float(t[-1])
        if len(self._event_cols) == len(EVENT_JOINTS):
            self._history.append(np.column_stack((t, block.joints("q")[:, self._event_cols])))
            if self.t_s - self._recounted_s >= RECOUNT_S:
                self._recount(settle_s=SETTLE_S)
        self.phase = float(block.column("phase")[-1])
        self._biofeedback(contact, before, tau_cmd, block.joints("q_ref"))
        self._contact = contact[-1]
        self._seen = True

    def finish(self) -> None:
        """The session has ended: count the strides of its last seconds too."""
        if self._history:
            self._recount(settle_s=0.0)

    def _recount(self, settle_s: float) -> None:
        """Detect the events over the last :data:`WINDOW_S` and count the settled new strides."""
        data = np.concatenate(self._history)
        data = data[data[:, 0] >= self.t_s - WINDOW_S]
        self._history = [data]
        self._recounted_s = self.t_s
        self.recounts += 1
        tables = gait_tables(data[:, 0], data[:, 1:], EVENT_JOINTS)
        if tables is None:
            return
        for side in SIDES:
            counted = self._strides[side]
            last = counted[-1][0] if counted else -math.inf
            table = tables[side]
            new = (table["start_s"] > last + 1e-9) & (table["end_s"] <= self.t_s - settle_s)
            counted += zip(table["start_s"][new].tolist(), table["end_s"][new].tolist(),
                           table["cadence_steps_per_min"][new].tolist(), strict=True)
        self.counts = GaitCounts.from_tables({side: {
            "start_s": np.array([s[0] for s in self._strides[side]]),
            "end_s": np.array([s[1] for s in self._strides[side]]),
            "cadence_steps_per_min": np.array([s[2] for s in self._strides[side]]),
        } for side in SIDES})

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
