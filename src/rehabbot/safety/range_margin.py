"""How close each joint is to the patient's range-of-motion limits, and the warning before them.

The supervisor faults a joint that goes ``rom_margin_rad`` beyond the patient's range of motion
(the protocol's soft limits). :class:`RangeMargin` looks ahead of that: per joint, the margin to
the nearer end of the range (rad; negative past it), which end that is, and a low-priority
``warning:rom_margin`` event when the margin falls below ``warn_rad`` (cleared, with
``warning_cleared:rom_margin``, once it is back above ``warn_rad + hysteresis_rad``). The same
margins drive the cooperative controllers' response (:meth:`RangeMargin.closeness`): they add
guidance as a joint nears a limit, so that the limit is not reached.

Allocation-free per tick on the normal path (in-place array work); an event is built only when a
warning starts or ends.

>>> margin = RangeMargin(("knee_angle_r",), np.array([0.0]), np.array([1.3]), warn_rad=0.1)
>>> events = []
>>> margin.check(0.5, np.array([0.05]), np.array([True]), events)
>>> events[0].kind, events[0].joint, round(events[0].values["margin_rad"], 3)
('warning:rom_margin', 'knee_angle_r', 0.05)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from rehabbot.hal.types import FloatArray
from rehabbot.safety.faults import Priority, SafetyEvent

#: Default distance to a range-of-motion limit (rad) below which the supervisor warns (1 deg):
#: inside the soft zone, several degrees before the fault (``rom_margin_rad`` beyond the limit).
WARN_MARGIN_RAD = float(np.radians(1.0))
#: The warning clears only this much (rad) farther from the limit than it started (1 deg).
HYSTERESIS_RAD = float(np.radians(1.0))


class RangeMargin:
    """Per-joint margins to a range of motion, with a warning that has hysteresis.

    Args:
        joint_names: joints in array order.
        rom_min_rad: lowest allowed angle per joint (rad; ``-inf``: no limit).
        rom_max_rad: highest allowed angle per joint (rad; ``inf``: no limit).
        warn_rad: margin (rad) below which a joint is warned about, > 0.
        hysteresis_rad: extra margin (rad) needed to clear the warning, >= 0.

    Attributes:
        margin_rad_: margin of each joint to its nearer limit at the last update (rad).
        toward_: +1 where that limit is the upper one, -1 where it is the lower one.
        warning_: joints whose warning is on.

    Raises:
        ValueError: shapes differ, a range is empty, or a margin is not positive.
    """

    def __init__(
        self, joint_names: tuple[str, ...], rom_min_rad: FloatArray, rom_max_rad: FloatArray,
        *, warn_rad: float = WARN_MARGIN_RAD, hysteresis_rad: float = HYSTERESIS_RAD,
    ) -> None:
        n = len(joint_names)
        if rom_min_rad.shape != (n,) or rom_max_rad.shape != (n,):
            raise ValueError("RangeMargin: the ranges and the joint names differ in length")
        if np.any(rom_min_rad >= rom_max_rad):
            raise ValueError("RangeMargin: every range's lowest angle must be below its highest")
        if not (warn_rad > 0.0 and hysteresis_rad >= 0.0):
            raise ValueError("RangeMargin: warn_rad must be > 0 and hysteresis_rad >= 0")
        self.joint_names = joint_names
        self.rom_min_rad = np.asarray(rom_min_rad, dtype=float)
        self.rom_max_rad = np.asarray(rom_max_rad, dtype=float)
        self.warn_rad = warn_rad
        self.hysteresis_rad = hysteresis_rad
        self.margin_rad_ = np.full(n, np.inf)
        self.toward_ = np.ones(n)
        self.warning_ = np.zeros(n, dtype=bool)
        self._upper = np.zeros(n)
        self._flags = np.zeros(n, dtype=bool)
        self._changed = np.zeros(n, dtype=bool)

    @classmethod
    def from_rom(
        cls, joint_names: tuple[str, ...], rom_rad: Mapping[str, tuple[float, float]],
        **kwargs: float,
    ) -> RangeMargin:
        """Margins to ``{joint name: (lowest, highest)}`` (rad); other joints have no limits."""
        low = np.array([rom_rad.get(n, (-np.inf, np.inf))[0] for n in joint_names], dtype=float)
        high = np.array([rom_rad.get(n, (-np.inf, np.inf))[1] for n in joint_names], dtype=float)
        return cls(joint_names, low, high, **kwargs)

    def update(self, q: FloatArray) -> FloatArray:
        """The margins (rad) at angles ``q`` (rad); also sets :attr:`toward_`."""
        margin, upper = self.margin_rad_, self._upper
        np.subtract(q, self.rom_min_rad, out=margin)
        np.subtract(self.rom_max_rad, q, out=upper)
        np.less(upper, margin, out=self._flags)
        np.minimum(margin, upper, out=margin)
        np.copyto(self.toward_, -1.0)
        np.copyto(self.toward_, 1.0, where=self._flags)
        return margin

    def closeness(self, band_rad: FloatArray | float, out: FloatArray) -> FloatArray:
        """How far each joint is into the band of width ``band_rad`` (rad, per joint or one for
        all) before its nearer
        limit, from the last :meth:`update`: 0 outside the band, rising linearly to 1 at the
        limit (and beyond). Written into ``out``."""
        np.subtract(band_rad, self.margin_rad_, out=out)
        out /= band_rad
        np.clip(out, 0.0, 1.0, out=out)
        return out

    def check(
        self, t_s: float, q: FloatArray, valid: npt.NDArray[np.bool_], events: list[SafetyEvent],
    ) -> None:
        """Update the margins at ``q`` (rad) and append an event to ``events`` for each warning
        that starts or ends at loop time ``t_s`` (s); joints not ``valid`` (stale or non-finite
        readings) keep their warning as it was."""
        margin = self.update(q)
        changed, flags = self._changed, self._flags
        np.less(margin, self.warn_rad, out=changed)  # starts
        np.greater(changed, self.warning_, out=changed)  # and not warned yet
        np.greater(margin, self.warn_rad + self.hysteresis_rad, out=flags)  # ends
        flags &= self.warning_
        changed |= flags
        changed &= valid
        if not np.count_nonzero(changed):
            return
        for i in np.flatnonzero(changed):
            joint = self.joint_names[i]
            if self.warning_[i]:
                events.append(SafetyEvent(t_s, "warning_cleared:rom_margin", joint))
            else:
                limit = self.rom_max_rad[i] if self.toward_[i] > 0 else self.rom_min_rad[i]
                events.append(SafetyEvent(
                    t_s, "warning:rom_margin", joint,
                    {"value": float(q[i]), "margin_rad": float(margin[i]), "limit": float(limit)},
                    None, Priority.LOW))
        self.warning_ ^= changed
