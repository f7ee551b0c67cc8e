"""Normative gait references: joint angle as a smooth periodic function of gait phase.

The bundled normative curves (Schwartz et al. 2008, see ``data/normative/README.md``) are sampled at
51 points of the gait cycle; :class:`PeriodicCurve` fits them with a truncated Fourier series, so
the reference and its phase derivative are smooth and exact at any phase. The exoskeleton holds the
pelvis upright, so its hip angle is the thigh's angle to the vertical: the normative hip flexion
minus the normative pelvic tilt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from rehabbot.body.arrays import FloatArray
from rehabbot.body.gait_cycle import leg_phase_offset

SPEED_CLASSES = ("VerySlow", "Slow", "Free", "Fast", "VeryFast")


@cache
def normative_data() -> dict[str, Any]:
    """The bundled Schwartz 2008 sagittal normative data (parsed JSON, cached)."""
    path = resources.files("rehabbot") / "data" / "normative" / "schwartz2008_sagittal.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def normative_curve(speed_class: str, channel: str) -> tuple[FloatArray, FloatArray]:
    """Mean and SD of a normative channel over 51 points of the gait cycle (0, 2, ..., 100 %)."""
    entry = normative_data()["speed_classes"][speed_class][channel]
    return np.asarray(entry["mean"], dtype=float), np.asarray(entry["sd"], dtype=float)


@dataclass(frozen=True)
class PeriodicCurve:
    """A 1-periodic function of phase as a Fourier series: ``a0 + Σ a_k cos 2πkφ + b_k sin 2πkφ``.

    >>> c = PeriodicCurve.fit(np.sin(2 * np.pi * np.linspace(0, 1, 51)), harmonics=3)
    >>> round(float(c.value(np.array([0.25]))[0]), 6)
    1.0
    """

    a0: float
    a: FloatArray
    b: FloatArray

    @classmethod
    def fit(cls, samples: FloatArray, harmonics: int = 8) -> PeriodicCurve:
        """Least-squares fit to samples over one cycle, first and last sample at phase 0 and 1."""
        values = np.asarray(samples, dtype=float)[:-1]
        phase = np.arange(values.size) / values.size
        k = np.arange(1, harmonics + 1)
        angle = 2 * np.pi * np.outer(phase, k)
        design = np.hstack([np.ones((values.size, 1)), np.cos(angle), np.sin(angle)])
        coef, *_ = np.linalg.lstsq(design, values, rcond=None)
        return cls(float(coef[0]), coef[1 : harmonics + 1], coef[harmonics + 1 :])

    def value(self, phase: FloatArray) -> FloatArray:
        """The curve at ``phase`` (cycles; any real, taken modulo 1)."""
        angle = 2 * np.pi * np.multiply.outer(phase, np.arange(1, self.a.size + 1))
        result: FloatArray = self.a0 + np.cos(angle) @ self.a + np.sin(angle) @ self.b
        return result

    def derivative(self, phase: FloatArray) -> FloatArray:
        """d(value)/d(phase), per cycle."""
        k = np.arange(1, self.a.size + 1)
        angle = 2 * np.pi * np.multiply.outer(phase, k)
        result: FloatArray = (np.cos(angle) @ (self.b * 2 * np.pi * k)) - (
            np.sin(angle) @ (self.a * 2 * np.pi * k)
        )
        return result


@cache
def joint_curves(speed_class: str = "Free") -> dict[str, PeriodicCurve]:
    """The reference curves (rad against right-leg phase) by joint kind: ``hip_flexion`` (the
    thigh's angle to the vertical, pelvis upright) and ``knee_angle``.

    Raises:
        ValueError: ``speed_class`` is not one of :data:`SPEED_CLASSES`.
    """
    if speed_class not in SPEED_CLASSES:
        raise ValueError(f"speed_class must be one of {SPEED_CLASSES}, got {speed_class!r}")
    hip = normative_curve(speed_class, "hip_flexion_deg")[0]
    tilt = normative_curve(speed_class, "pelvis_tilt_deg")[0]
    knee = normative_curve(speed_class, "knee_flexion_deg")[0]
    return {
        "hip_flexion": PeriodicCurve.fit(np.radians(hip - tilt)),
        "knee_angle": PeriodicCurve.fit(np.radians(knee)),
    }


@cache
def thigh_difference_curve(speed_class: str = "Free") -> PeriodicCurve:
    """The right thigh's angle minus the left's (rad) against right-leg phase, with the pelvis
    upright: ``hip(φ) - hip(φ + 1/2)``, twice the odd harmonics of the hip curve (the even ones
    and the mean cancel). Both legs shape it, so one leg's irregular motion moves it less than
    it moves that leg's own hip angle.

    >>> c = thigh_difference_curve()
    >>> round(c.a0, 12), bool(np.allclose(c.a[1::2], 0.0))
    (0.0, True)
    """
    hip = joint_curves(speed_class)["hip_flexion"]
    odd = np.arange(1, hip.a.size + 1) % 2 == 1
    return PeriodicCurve(0.0, 2.0 * hip.a * odd, 2.0 * hip.b * odd)


class GaitReference:
    """Reference angles (rad) of the exoskeleton's joints against gait phase.

    Each joint is a hip or knee of either side; the left side runs half a cycle behind the right.
    Joints of other kinds get a zero reference.

    >>> ref = GaitReference(("hip_flexion_r", "knee_angle_r"))
    >>> q, dq = ref.evaluate(0.0)
    >>> bool(15 < np.degrees(q[0]) < 35 and 0 <= np.degrees(q[1]) < 10)
    True
    """

    def __init__(self, joint_names: tuple[str, ...], speed_class: str = "Free") -> None:
        """Build the curves of ``joint_names`` from the normative ``speed_class``."""
        curves = joint_curves(speed_class)
        harmonics = 8
        zero = PeriodicCurve(0.0, np.zeros(harmonics), np.zeros(harmonics))
        chosen = [curves.get(name.rsplit("_", 1)[0], zero) for name in joint_names]
        self.joint_names = joint_names
        self._a0 = np.array([c.a0 for c in chosen])
        self._a = np.array([c.a for c in chosen])
        self._b = np.array([c.b for c in chosen])
        self._k = 2 * np.pi * np.arange(1, harmonics + 1)
        self._offsets = np.array([leg_phase_offset(name) for name in joint_names])

    @property
    def mean_rad(self) -> FloatArray:
        """Mean angle of each joint's reference over the cycle (rad)."""
        return self._a0

    def evaluate(self, phase: float) -> tuple[FloatArray, FloatArray]:
        """Reference angles (rad) and their phase derivatives (rad/cycle) at right-leg ``phase``."""
        angle = np.multiply.outer(phase + self._offsets, self._k)
        cos, sin = np.cos(angle), np.sin(angle)
        q: FloatArray = self._a0 + (cos * self._a).sum(axis=1) + (sin * self._b).sum(axis=1)
        dq: FloatArray = ((cos * self._b - sin * self._a) * self._k).sum(axis=1)
        return q, dq
