"""The simulated patient: the person's own joint torques on top of what the robot does.

Per joint ``tau = ability * m * M(φ) - k * (q - q_rest) - b * qd`` where ``M(φ)`` is the healthy
net joint moment per kg of body mass at the patient's own gait phase ``φ`` (Schwartz 2008 normative
hip and knee moments, free speed), ``m`` the body mass, ``ability`` the share of it the patient
produces (1 = healthy, 0 = none), and ``k``, ``b`` the passive stiffness and damping of the joint
(muscles and soft tissue). The patient keeps a rhythm of their own at the protocol's cadence with a
little stride-to-stride variability drawn from a seeded generator, so runs are reproducible.

Signs: Plug-in Gait moments are internal, extensor positive; rehabbot's joint torque is positive in
the direction of positive angle (flexion), so hip and knee torques are the negated moments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rehabbot.controllers.reference import PeriodicCurve, normative_curve
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray

#: Default passive joint stiffness (N·m/rad) and damping (N·m·s/rad) by joint kind.
PASSIVE_STIFFNESS = {"hip_flexion": 5.0, "knee_angle": 3.0, "ankle_angle": 2.0}
PASSIVE_DAMPING = {"hip_flexion": 1.0, "knee_angle": 0.5, "ankle_angle": 0.3}
REST_ANGLE_RAD = {"hip_flexion": 0.1, "knee_angle": 0.2, "ankle_angle": 0.0}
MOMENT_CHANNELS = {"hip_flexion": "hip_moment_nm_per_kg", "knee_angle": "knee_moment_nm_per_kg"}


@dataclass(frozen=True)
class PatientProfile:
    """How able a simulated patient is.

    Attributes:
        name: profile name.
        ability: per joint kind (``hip_flexion``, ``knee_angle``) and side (``_r``/``_l`` suffix
            allowed for one side only), the share of the healthy moment produced, 0..1.5.
        stride_variability: SD of the stride duration as a fraction of the mean (0..0.2).
    """

    name: str
    ability: dict[str, float] = field(default_factory=dict)
    stride_variability: float = 0.02

    def __post_init__(self) -> None:
        for key, value in self.ability.items():
            if not 0.0 <= value <= 1.5:
                raise ConfigurationError(
                    f"patient profile {self.name!r}: ability {key} = {value} is outside [0, 1.5]"
                )
        if not 0.0 <= self.stride_variability <= 0.2:
            raise ConfigurationError(
                f"patient profile {self.name!r}: stride_variability {self.stride_variability} "
                "is outside [0, 0.2]"
            )

    def ability_of(self, joint_name: str) -> float:
        """Ability of one joint: its own entry, else its kind's, else 1."""
        kind = joint_name.rsplit("_", 1)[0]
        return self.ability.get(joint_name, self.ability.get(kind, 1.0))


HEALTHY = PatientProfile("healthy")


class PatientModel:
    """Torques of the patient's own joints, evaluated once per simulator step."""

    def __init__(
        self,
        joint_names: tuple[str, ...],
        profile: PatientProfile,
        body_mass_kg: float,
        cadence_steps_per_min: float,
        seed: int,
    ) -> None:
        """Patient torques for the simulator joints ``joint_names`` (all of them, in order)."""
        kinds = [name.rsplit("_", 1)[0] for name in joint_names]
        zero = PeriodicCurve(0.0, np.zeros(1), np.zeros(1))
        self._moments = [
            PeriodicCurve.fit(-normative_curve("Free", MOMENT_CHANNELS[k])[0])
            if k in MOMENT_CHANNELS else zero
            for k in kinds
        ]
        self._gain = np.array([profile.ability_of(n) * body_mass_kg for n in joint_names])
        self._stiffness = np.array([PASSIVE_STIFFNESS.get(k, 0.0) for k in kinds])
        self._damping = np.array([PASSIVE_DAMPING.get(k, 0.0) for k in kinds])
        self._rest = np.array([REST_ANGLE_RAD.get(k, 0.0) for k in kinds])
        self._offsets = np.array([0.5 if n.endswith("_l") else 0.0 for n in joint_names])
        self._active = [i for i, k in enumerate(kinds) if k in MOMENT_CHANNELS]
        self.profile = profile
        self.mean_stride_s = 120.0 / cadence_steps_per_min
        self._rng = np.random.default_rng(seed)
        self._stride_start_s = 0.0
        self._stride_s = self._draw_stride()
        self.phase_ = 0.0

    def _draw_stride(self) -> float:
        jitter = self._rng.normal(0.0, self.profile.stride_variability)
        return self.mean_stride_s * float(np.clip(1.0 + jitter, 0.7, 1.3))

    def torques(self, t_s: float, q: FloatArray, qd: FloatArray) -> FloatArray:
        """The patient's joint torques (N·m) at time ``t_s`` and joint state ``q``, ``qd``."""
        while t_s - self._stride_start_s >= self._stride_s:
            self._stride_start_s += self._stride_s
            self._stride_s = self._draw_stride()
        self.phase_ = (t_s - self._stride_start_s) / self._stride_s
        tau: FloatArray = -self._stiffness * (q - self._rest) - self._damping * qd
        for i in self._active:
            phase = np.asarray(self.phase_ + self._offsets[i])
            tau[i] += self._gain[i] * float(self._moments[i].value(phase))
        return tau
