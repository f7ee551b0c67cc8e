"""The cooperative controllers' response to a joint nearing the patient's range-of-motion limit.

The supervisor faults a joint that leaves the patient's range of motion and warns shortly before
(:mod:`rehabbot.safety.range_margin`). A cooperative controller leaves the patient free, so a
weak leg dragged back by the belt can reach that limit; it must act before the supervisor has
to. :class:`RomResponse` turns the margins of a
:class:`~rehabbot.safety.range_margin.RangeMargin` (the protocol's range) into a *closeness* per
joint: 0 while the joint is more than ``band_rad`` from its nearer limit, rising linearly to 1 at
the limit. Each mode uses it in its own way (docs/controllers.md): guidance rises toward full
(impedance, assist-as-needed, which also learns it), the tunnel narrows and its walls stiffen
toward the limit (path control), a spring catches the joint and the session is stopped in a
controlled way (transparent).

Allocation-free per tick.
"""

from __future__ import annotations

import math

import numpy as np

from rehabbot.hal.types import FloatArray
from rehabbot.safety.range_margin import RangeMargin

#: Width (rad) of the band before a range-of-motion limit in which the controllers respond (6 deg):
#: outside the healthy gait's margins to the bundled protocols' ranges, wider than the
#: supervisor's warning (2 deg) so the response starts first.
RESPONSE_BAND_RAD = math.radians(6.0)


class RomResponse:
    """Closeness (0..1) of each joint to its nearer range-of-motion limit, per tick.

    Args:
        margin: the margins to the patient's range of motion; ``None``: no range known, the
            closeness stays 0.
        n_joints: number of joints.
        band_rad: width of the band before a limit in which the closeness rises (rad), > 0.

    >>> margin = RangeMargin(("hip_flexion_r",), np.array([-0.4]), np.array([0.9]))
    >>> response = RomResponse(margin, 1, band_rad=0.1)
    >>> response.update(np.array([-0.35])).round(3).tolist(), response.toward.tolist()
    ([0.5], [-1.0])
    """

    def __init__(
        self, margin: RangeMargin | None, n_joints: int, band_rad: float = RESPONSE_BAND_RAD,
    ) -> None:
        if not band_rad > 0.0:
            raise ValueError(f"RomResponse: band_rad = {band_rad:g} rad must be > 0")
        if margin is not None and len(margin.joint_names) != n_joints:
            raise ValueError("RomResponse: the margins and the controller differ in joints")
        self.margin = margin
        self.band_rad = band_rad
        #: Closeness per joint at the last update (0..1).
        self.closeness_ = np.zeros(n_joints)
        self._away = np.zeros(n_joints)

    @property
    def toward(self) -> FloatArray:
        """Per joint, the direction of its nearer limit: +1 the upper one, -1 the lower one."""
        return self._away if self.margin is None else self.margin.toward_

    def update(self, q: FloatArray) -> FloatArray:
        """The closeness per joint at angles ``q`` (rad); the array is reused every call."""
        if self.margin is not None:
            self.margin.update(q)
            self.margin.closeness(self.band_rad, self.closeness_)
        return self.closeness_
