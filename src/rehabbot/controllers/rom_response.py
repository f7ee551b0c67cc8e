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

**The band.** A healthy gait comes close to some limits of a typical prescribed range (the knee
is nearly straight at heel strike: 1-4 deg from a range starting at 0 deg), so one band for every
limit would either respond to normal walking or come too late elsewhere. The band before each
limit is :data:`BAND_SHARE` of the margin the normative gait pattern itself keeps to it, within
:data:`MIN_BAND_RAD`..:data:`RESPONSE_BAND_RAD` (:func:`normative_bands`): with the bundled
protocols' ranges, 2.0 deg before the knees' extension limit, 3.7 deg before the hips' and 6 deg
before the flexion limits.

Allocation-free per tick.
"""

from __future__ import annotations

import math

import numpy as np

from rehabbot.body.normative_gait import GaitReference
from rehabbot.hal.types import FloatArray
from rehabbot.safety.range_margin import RangeMargin

#: Widest band (rad) before a range-of-motion limit in which the controllers respond (6 deg).
RESPONSE_BAND_RAD = math.radians(6.0)
#: Narrowest band (rad), for a limit the normative pattern comes closer to than twice this (1 deg).
MIN_BAND_RAD = math.radians(1.0)
#: A joint's band is this share of the normative pattern's margin to its limits.
BAND_SHARE = 0.5


def normative_bands(
    margin: RangeMargin, reference: GaitReference, samples: int = 200
) -> tuple[FloatArray, FloatArray]:
    """Each joint's response bands (rad) before its lower and its upper limit:
    :data:`BAND_SHARE` of the smallest margin of the reference pattern to that limit over a
    stride, within :data:`MIN_BAND_RAD` .. :data:`RESPONSE_BAND_RAD` (the widest for no limit).

    >>> names = ("hip_flexion_r", "knee_angle_r")
    >>> margin = RangeMargin.from_rom(names, {"hip_flexion_r": (-0.436, 0.873),
    ...                                       "knee_angle_r": (0.0, 1.309)})
    >>> low, high = normative_bands(margin, GaitReference(names))
    >>> np.degrees(low).round(1).tolist(), np.degrees(high).round(1).tolist()
    ([3.7, 2.0], [6.0, 6.0])
    """
    q = np.array([reference.evaluate(p)[0] for p in np.arange(samples) / samples])
    low: FloatArray = np.clip(BAND_SHARE * (q.min(axis=0) - margin.rom_min_rad),
                              MIN_BAND_RAD, RESPONSE_BAND_RAD)
    high: FloatArray = np.clip(BAND_SHARE * (margin.rom_max_rad - q.max(axis=0)),
                               MIN_BAND_RAD, RESPONSE_BAND_RAD)
    return low, high


class RomResponse:
    """Closeness (0..1) of each joint to its nearer range-of-motion limit, per tick.

    Args:
        margin: the margins to the patient's range of motion; ``None``: no range known, the
            closeness stays 0.
        reference: the gait pattern the controller guides along, which sets the bands
            (:func:`normative_bands`).

    >>> names = ("hip_flexion_r",)
    >>> margin = RangeMargin(names, np.array([-0.4]), np.array([0.9]))
    >>> response = RomResponse(margin, GaitReference(names))
    >>> response.update(np.array([-0.4 + 0.5 * response.band_low_rad[0]])).round(6).tolist()
    [0.5]
    >>> response.toward.tolist()
    [-1.0]
    """

    def __init__(self, margin: RangeMargin | None, reference: GaitReference) -> None:
        n_joints = len(reference.joint_names)
        if margin is not None and margin.joint_names != reference.joint_names:
            raise ValueError("RomResponse: the margins and the reference differ in joints")
        self.margin = margin
        bands: tuple[FloatArray, FloatArray] = (
            (np.full(n_joints, RESPONSE_BAND_RAD), np.full(n_joints, RESPONSE_BAND_RAD))
            if margin is None else normative_bands(margin, reference))
        #: Width of each joint's band before its lower and before its upper limit (rad).
        self.band_low_rad, self.band_high_rad = bands
        #: The band of each joint's nearer limit at the last update (rad).
        self.band_rad = self.band_low_rad.copy()
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
            np.copyto(self.band_rad, self.band_low_rad)
            np.copyto(self.band_rad, self.band_high_rad, where=self.margin.toward_ > 0.0)
            self.margin.closeness(self.band_rad, self.closeness_)
        return self.closeness_
