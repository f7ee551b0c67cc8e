"""The simulated patient: the person's own joint torques on top of what the robot does.

Per joint ``tau = ability * m * (k_a * (q_int(φ) - q) + b_a * (qd_int(φ) - qd)) - k * (q - q_rest)
- b * qd``. The first term is the person's voluntary walking, modelled after the equilibrium-point
hypothesis of motor control (Feldman 1986): muscles act as a spring-damper pulling each joint toward
the person's intended angle ``q_int(φ)``, here the healthy walking pattern (Schwartz 2008 normative
hip and knee angles, as the robot's reference) at the patient's own gait phase ``φ``. ``m`` is the
body mass, ``k_a``, ``b_a`` the active stiffness and damping per kg of a healthy person
(:data:`ACTIVE_STIFFNESS`, :data:`ACTIVE_DAMPING`), and ``ability`` the share of it the patient
produces (1 = healthy, 0 = none). The last two terms are the joint's passive stiffness and damping
(muscles and soft tissue), which every patient has.

The patient keeps a rhythm of their own: a stride lasts the protocol's stride time with a little
stride-to-stride variability drawn from a seeded generator, so runs are reproducible. Like a person
walking in a gait robot, the patient entrains to it through the ground: a foot strike of the right
foot late in a stride starts the patient's next stride (phase 0 is the right foot strike, as in the
normative data). Without foot strikes (a foot dragging, a fault) the rhythm runs on by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rehabbot.controllers.reference import GaitReference
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray

#: Default passive joint stiffness (N·m/rad) and damping (N·m·s/rad) by joint kind.
PASSIVE_STIFFNESS = {"hip_flexion": 5.0, "knee_angle": 3.0, "ankle_angle": 2.0}
PASSIVE_DAMPING = {"hip_flexion": 1.0, "knee_angle": 0.5, "ankle_angle": 0.3}
REST_ANGLE_RAD = {"hip_flexion": 0.1, "knee_angle": 0.2, "ankle_angle": 0.0}
#: A swing shorter than this (s) is a scuff, not a step: its landing is no foot strike.
MIN_SWING_S = 0.15
#: A foot strike starts the patient's next stride only past this phase of the present one.
ENTRAIN_AFTER_PHASE = 0.5
#: Active (voluntary) stiffness (N·m/rad per kg of body mass) and damping (N·m·s/rad per kg) of a
#: healthy person's hips and knees while walking.
ACTIVE_STIFFNESS = {"hip_flexion": 2.0, "knee_angle": 1.2}
ACTIVE_DAMPING = {"hip_flexion": 0.04, "knee_angle": 0.02}


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
        """Patient torques for the simulator joints ``joint_names`` (all of them, in order).

        Args:
            joint_names: the simulator's joints.
            profile: the patient's abilities.
            body_mass_kg: body mass (kg).
            cadence_steps_per_min: the patient's own cadence (steps/min).
            seed: seed of the stride-to-stride variability.
        """
        kinds = [name.rsplit("_", 1)[0] for name in joint_names]
        self._intent = GaitReference(joint_names)
        ability = np.array([profile.ability_of(n) * body_mass_kg for n in joint_names])
        self._active_stiffness = ability * [ACTIVE_STIFFNESS.get(k, 0.0) for k in kinds]
        self._active_damping = ability * [ACTIVE_DAMPING.get(k, 0.0) for k in kinds]
        self._stiffness = np.array([PASSIVE_STIFFNESS.get(k, 0.0) for k in kinds])
        self._damping = np.array([PASSIVE_DAMPING.get(k, 0.0) for k in kinds])
        self._rest = np.array([REST_ANGLE_RAD.get(k, 0.0) for k in kinds])
        self.profile = profile
        self.mean_stride_s = 120.0 / cadence_steps_per_min
        self._rng = np.random.default_rng(seed)
        self._stride_start_s = 0.0
        self._stride_s = self._draw_stride()
        self._right_contact = True
        self._swing_since_s = 0.0
        self.phase_ = 0.0

    def _draw_stride(self) -> float:
        jitter = self._rng.normal(0.0, self.profile.stride_variability)
        return self.mean_stride_s * float(np.clip(1.0 + jitter, 0.7, 1.3))

    def torques(
        self, t_s: float, q: FloatArray, qd: FloatArray, right_contact: bool
    ) -> FloatArray:
        """The patient's joint torques (N·m) at time ``t_s``, joint state ``q``, ``qd``.

        ``right_contact`` (does the right foot touch the ground) entrains the rhythm: a foot
        strike after at least :data:`MIN_SWING_S` of swing, late in the stride, starts the next
        stride.
        """
        if right_contact and not self._right_contact:
            swing_s = t_s - self._swing_since_s
            elapsed = (t_s - self._stride_start_s) / self._stride_s
            if swing_s >= MIN_SWING_S and elapsed >= ENTRAIN_AFTER_PHASE:
                self._stride_start_s = t_s
                self._stride_s = self._draw_stride()
        elif self._right_contact and not right_contact:
            self._swing_since_s = t_s
        self._right_contact = right_contact
        while t_s - self._stride_start_s >= self._stride_s:
            self._stride_start_s += self._stride_s
            self._stride_s = self._draw_stride()
        self.phase_ = (t_s - self._stride_start_s) / self._stride_s
        q_int, dq_int = self._intent.evaluate(self.phase_)
        active = self._active_stiffness * (q_int - q) + self._active_damping * (
            dq_int / self._stride_s - qd)
        passive = -self._stiffness * (q - self._rest) - self._damping * qd
        tau: FloatArray = active + passive
        return tau
