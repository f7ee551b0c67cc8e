"""The simulated patients: what each one can do, as a table of impairment profiles.

An :class:`ImpairmentProfile` says how able a simulated patient is, joint by joint: the share of a
healthy person's active moment they produce, their stride-to-stride variability, the stretch
reflexes of spastic joints (:class:`StretchReflex`), contractures (a narrower passive range of
motion than :data:`~rehabbot.body.range_of_motion.HEALTHY_PASSIVE_ROM_RAD`), fatigue, a drop foot
and a knee thrust. The patient model (:class:`~rehabbot.sim.patient.PatientModel`) turns a profile
into joint torques. :data:`PROFILES` names the patients the simulator and the benchmarks use
(healthy, athletic, hemiparetic stroke on either side, incomplete spinal cord injury);
docs/simulation.md gives the sources of their numbers.

It is not the patient's clinical record (:class:`rehabbot.storage.record_models.PatientProfile`: who
the patient is, their height, mass, diagnosis): a simulated patient has no identity, and a real
one's abilities are measured, not set (docs/body.md, "Two patient types").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rehabbot.body.range_of_motion import HEALTHY_PASSIVE_ROM_RAD
from rehabbot.errors import ConfigurationError

#: Allowed (extension, flexion) limits of a profile's passive range of motion (rad): each limit's
#: own (low, high) bounds.
PASSIVE_ROM_BOUNDS_RAD = {
    "hip_flexion": ((math.radians(-40.0), math.radians(30.0)),
                    (math.radians(20.0), math.radians(140.0))),
    "knee_angle": ((math.radians(-15.0), math.radians(60.0)),
                   (math.radians(30.0), math.radians(160.0))),
}
#: Smallest passive range of motion a profile may give a joint (rad).
MIN_PASSIVE_ROM_RAD = math.radians(30.0)
#: Allowed fatigue (% of active strength lost) and its time constant (s).
FATIGUE_RANGE_PCT = (0.0, 60.0)
FATIGUE_TIME_CONSTANT_RANGE_S = (30.0, 7200.0)
#: Allowed intended knee hyperextension in stance (rad).
HYPEREXTENSION_RANGE_RAD = (0.0, math.radians(20.0))
#: Allowed reflex threshold (rad/s), gain (N·m·s/rad) and delay (s).
REFLEX_THRESHOLD_RANGE_RAD_S = (0.1, 10.0)
REFLEX_GAIN_RANGE_NMS_PER_RAD = (0.0, 100.0)
REFLEX_DELAY_RANGE_S = (0.0, 0.2)


def _check(profile: str, label: str, value: float, bounds: tuple[float, float]) -> None:
    """Raise ConfigurationError unless ``value`` is finite and within ``bounds`` (inclusive)."""
    if not (math.isfinite(value) and bounds[0] <= value <= bounds[1]):
        raise ConfigurationError(
            f"patient profile {profile!r}: {label} = {value} is outside "
            f"[{bounds[0]:g}, {bounds[1]:g}]"
        )


@dataclass(frozen=True)
class StretchReflex:
    """Spasticity of one joint: a velocity-dependent stretch reflex.

    When the joint's velocity ``v`` one ``delay_s`` ago exceeds ``threshold_rad_s`` in either
    direction, the stretched muscles add ``-gain * sign(v) * (|v| - threshold)`` (N·m).

    Attributes:
        joint: the spastic joint (a simulator joint name, e.g. ``knee_angle_l``).
        threshold_rad_s: velocity above which the reflex fires (rad/s), 0.1..10.
        gain_nms_per_rad: resisting torque per rad/s beyond the threshold (N·m·s/rad), 0..100.
        delay_s: reflex loop delay (s), 0..0.2; about 50 ms for the knee's stretch reflex.

    >>> StretchReflex("knee_angle_l", 1.5, 12.0).delay_s
    0.05
    """

    joint: str
    threshold_rad_s: float
    gain_nms_per_rad: float
    delay_s: float = 0.05


@dataclass(frozen=True)
class ImpairmentProfile:
    """How able a simulated patient is.

    Attributes:
        name: profile name.
        ability: per joint kind (``hip_flexion``, ``knee_angle``) and side (``_r``/``_l`` suffix
            allowed for one side only), the share of the healthy moment produced, 0..1.5.
        stride_variability: SD of the stride duration as a fraction of the mean (0..0.2).
        spasticity: the stretch reflexes of the spastic joints.
        passive_rom_rad: per joint kind or joint (keys as for ``ability``), the (extension,
            flexion) limits of the passive range of motion (rad) where they differ from
            :data:`~rehabbot.body.range_of_motion.HEALTHY_PASSIVE_ROM_RAD`: a contracture.
            Bounds: :data:`PASSIVE_ROM_BOUNDS_RAD`, at least :data:`MIN_PASSIVE_ROM_RAD` wide.
        fatigue_pct: share of the active (voluntary) strength lost late in a long session (%),
            reached exponentially with ``fatigue_time_constant_s``: ability × (1 - F (1 -
            exp(-t/τ))). 0..60 %.
        fatigue_time_constant_s: ``τ`` of the fatigue (s), 30..7200.
        drop_foot: ankles (``ankle_angle_r``/``_l``) that plantarflex in their leg's swing with
            :data:`~rehabbot.sim.patient.DROP_FOOT_TORQUE_NM` (weak dorsiflexors): the toes drop
            toward the belt.
        knee_hyperextension_rad: per knee (``knee_angle_r``/``_l``), how far (rad) the intended
            knee angle is pushed toward extension in that leg's stance (a knee thrust, genu
            recurvatum), 0..20 deg.
    """

    name: str
    ability: dict[str, float] = field(default_factory=dict)
    stride_variability: float = 0.02
    spasticity: tuple[StretchReflex, ...] = ()
    passive_rom_rad: dict[str, tuple[float, float]] = field(default_factory=dict)
    fatigue_pct: float = 0.0
    fatigue_time_constant_s: float = 600.0
    drop_foot: tuple[str, ...] = ()
    knee_hyperextension_rad: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, value in self.ability.items():
            _check(self.name, f"ability {key}", value, (0.0, 1.5))
        _check(self.name, "stride_variability", self.stride_variability, (0.0, 0.2))
        _check(self.name, "fatigue_pct", self.fatigue_pct, FATIGUE_RANGE_PCT)
        _check(self.name, "fatigue_time_constant_s", self.fatigue_time_constant_s,
               FATIGUE_TIME_CONSTANT_RANGE_S)
        for joint in self.drop_foot:
            if joint not in ("ankle_angle_r", "ankle_angle_l"):
                raise ConfigurationError(f"patient profile {self.name!r}: drop_foot names "
                                         f"{joint!r}, not ankle_angle_r or ankle_angle_l")
        for joint, value in self.knee_hyperextension_rad.items():
            if joint not in ("knee_angle_r", "knee_angle_l"):
                raise ConfigurationError(f"patient profile {self.name!r}: knee_hyperextension_rad "
                                         f"names {joint!r}, not knee_angle_r or knee_angle_l")
            _check(self.name, f"knee_hyperextension_rad {joint}", value,
                   HYPEREXTENSION_RANGE_RAD)
        for reflex in self.spasticity:
            joint = reflex.joint
            _check(self.name, f"{joint} reflex threshold_rad_s", reflex.threshold_rad_s,
                   REFLEX_THRESHOLD_RANGE_RAD_S)
            _check(self.name, f"{joint} reflex gain_nms_per_rad", reflex.gain_nms_per_rad,
                   REFLEX_GAIN_RANGE_NMS_PER_RAD)
            _check(self.name, f"{joint} reflex delay_s", reflex.delay_s, REFLEX_DELAY_RANGE_S)
        for key, (extension, flexion) in self.passive_rom_rad.items():
            kind = key[:-2] if key.endswith(("_r", "_l")) else key
            if kind not in PASSIVE_ROM_BOUNDS_RAD:
                raise ConfigurationError(
                    f"patient profile {self.name!r}: passive_rom_rad key {key!r} is not a joint "
                    f"kind ({', '.join(PASSIVE_ROM_BOUNDS_RAD)}) with an optional _r/_l suffix"
                )
            low, high = PASSIVE_ROM_BOUNDS_RAD[kind]
            _check(self.name, f"passive_rom_rad {key} extension limit", extension, low)
            _check(self.name, f"passive_rom_rad {key} flexion limit", flexion, high)
            _check(self.name, f"passive_rom_rad {key} range (flexion - extension)",
                   flexion - extension, (MIN_PASSIVE_ROM_RAD, math.inf))

    def passive_rom_of(self, joint_name: str) -> tuple[float, float] | None:
        """(extension, flexion) passive limits (rad) of one joint: its own entry, else its
        kind's, else the healthy default; ``None`` for a joint without end stops (ankles)."""
        kind = joint_name.rsplit("_", 1)[0]
        default = HEALTHY_PASSIVE_ROM_RAD.get(kind)
        return self.passive_rom_rad.get(joint_name, self.passive_rom_rad.get(kind, default))

    def ability_of(self, joint_name: str) -> float:
        """Ability of one joint: its own entry, else its kind's, else 1."""
        kind = joint_name.rsplit("_", 1)[0]
        return self.ability.get(joint_name, self.ability.get(kind, 1.0))


HEALTHY = ImpairmentProfile("healthy")


def _hemiparetic(side: str) -> ImpairmentProfile:
    """A stroke survivor with hemiparesis of ``side`` (``"l"`` or ``"r"``) and a spastic knee.

    The paretic hip keeps 50 % and the knee 40 % of a healthy person's active moment; the other
    side is unaffected. The paretic knee's stretch reflex fires above 2 rad/s, well inside a
    healthy swing's knee velocities (up to about 6 rad/s), and resists with up to about 15 N·m
    then: a stiff knee in swing. Its passive flexion ends at 80 deg (a shortened rectus femoris)
    and the paretic hip's at 50 deg (shortened hamstrings): contractures outside the walking range.
    The paretic foot drops in swing, the paretic knee thrusts toward extension in stance (8 deg),
    strides vary more (4.5 % SD) and strength fades by 20 % over a long session
    (docs/simulation.md gives the sources).
    """
    name = "left" if side == "l" else "right"
    hip_extension, knee_extension = (
        HEALTHY_PASSIVE_ROM_RAD[k][0] for k in ("hip_flexion", "knee_angle"))
    return ImpairmentProfile(
        f"stroke_{name}",
        {f"hip_flexion_{side}": 0.5, f"knee_angle_{side}": 0.4},
        stride_variability=0.045,
        spasticity=(StretchReflex(f"knee_angle_{side}", 2.0, 4.0, 0.05),),
        passive_rom_rad={
            f"hip_flexion_{side}": (hip_extension, math.radians(50.0)),
            f"knee_angle_{side}": (knee_extension, math.radians(80.0)),
        },
        fatigue_pct=20.0,
        drop_foot=(f"ankle_angle_{side}",),
        knee_hyperextension_rad={f"knee_angle_{side}": math.radians(8.0)},
    )


#: The simulated patients by name.
PROFILES: dict[str, ImpairmentProfile] = {
    "healthy": HEALTHY,
    # an able, strong walker: walks with no help from the robot (transparent mode, path control)
    "athletic": ImpairmentProfile("athletic", {"hip_flexion": 1.3, "knee_angle": 1.3}),
    "stroke_left": _hemiparetic("l"),
    "stroke_right": _hemiparetic("r"),
    # both sides weak; strides vary more and strength fades faster than after a stroke
    "sci_incomplete": ImpairmentProfile(
        "sci_incomplete", {"hip_flexion": 0.5, "knee_angle": 0.35}, stride_variability=0.06,
        fatigue_pct=30.0,
    ),
}
