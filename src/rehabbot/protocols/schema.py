"""The therapy-protocol schema: a TOML file validated by pydantic.

A protocol says how a session trains: the controller, how long, the treadmill speed and cadence,
body-weight support and guidance, and the controller's full-guidance stiffness and damping per joint
kind. Units are in the field names; percentages are 0-100.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rehabbot.configfile import load_toml_model, resolve_named_file

DEFAULT_PROTOCOL = "standard_gait"


class JointGains(BaseModel):
    """A value per joint kind (hip_flexion, knee_angle, ankle_angle)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hip_flexion: float = Field(ge=0.0, le=5000.0)
    knee_angle: float = Field(ge=0.0, le=5000.0)
    ankle_angle: float = Field(0.0, ge=0.0, le=5000.0)

    def for_joint(self, joint_name: str) -> float:
        """The value of the joint kind of ``joint_name`` (e.g. ``knee_angle_r`` → knee_angle)."""
        kind = joint_name.rsplit("_", 1)[0]
        value: float = getattr(self, kind, 0.0)
        return value


class RangeOfMotion(BaseModel):
    """The patient's allowed range of motion per joint kind, (lowest, highest) in degrees.

    A joint kind left out keeps the robot's hard limits. The supervisor shapes commands softly in
    a zone inside each end (``Protocol.soft_zone_deg``) and never lets a reference past the end.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    hip_flexion: tuple[float, float] | None = None
    knee_angle: tuple[float, float] | None = None
    ankle_angle: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RangeOfMotion:
        for kind in ("hip_flexion", "knee_angle", "ankle_angle"):
            bounds = getattr(self, kind)
            if bounds is not None and not bounds[0] < bounds[1]:
                raise ValueError(f"{kind}: the lowest angle {bounds[0]} must be below the "
                                 f"highest {bounds[1]}")
        return self

    def for_joints(self, joint_names: tuple[str, ...]) -> dict[str, tuple[float, float]]:
        """``{joint name: (lowest, highest)}`` in rad for the joints whose kind has a range."""
        ranges: dict[str, tuple[float, float]] = {}
        for name in joint_names:
            bounds = getattr(self, name.rsplit("_", 1)[0], None)
            if bounds is not None:
                ranges[name] = (math.radians(bounds[0]), math.radians(bounds[1]))
        return ranges


class Protocol(BaseModel):
    """A therapy protocol (one training phase for now)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str = ""
    controller: Literal["impedance", "assist_as_needed", "path_control", "transparent"] = (
        "impedance"
    )
    phase_source: Literal["cadence", "oscillator", "portrait"] = "cadence"
    controller_params: dict[str, float] = Field(default_factory=dict)
    duration_s: float = Field(gt=0.0, le=7200.0)
    cadence_steps_per_min: float = Field(ge=20.0, le=160.0)
    treadmill_speed_kmh: float = Field(ge=0.0, le=5.0)
    body_weight_support_pct: float = Field(ge=0.0, le=100.0)
    guidance_pct: float = Field(ge=0.0, le=100.0)
    stiffness_nm_per_rad: JointGains
    damping_nms_per_rad: JointGains
    range_of_motion_deg: RangeOfMotion = RangeOfMotion()
    soft_zone_deg: float = Field(3.0, gt=0.0, le=20.0)

    @property
    def treadmill_speed_mps(self) -> float:
        """Treadmill speed (m/s)."""
        return self.treadmill_speed_kmh / 3.6


def load_protocol(name_or_path: str | Path = DEFAULT_PROTOCOL) -> Protocol:
    """Load a protocol file, or a bundled protocol by name (e.g. ``"standard_gait"``).

    Raises:
        ConfigurationError: missing or invalid file (one message: file, field, allowed values).
    """
    return load_toml_model(resolve_named_file("protocols", str(name_or_path)), Protocol)
