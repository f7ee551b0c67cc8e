"""Gait Variable Scores, Gait Profile Score and Movement Analysis Profile (Baker et al. 2009).

The Gait Variable Score (GVS) of a kinematic variable is the RMS difference (deg) between a
stride's time-normalized curve and the normative mean curve, over the 51 points 0, 2, ..., 100 %
of the cycle; a side's GVS is the mean of its strides' GVSs. The Gait Profile Score (GPS) of a
side is the RMS of its GVSs. The Movement Analysis Profile (MAP) is the set of GVSs with the
GPSs. Two variable sets:

* **Baker's GPS** (:func:`baker_gait_profile`): the nine kinematic variables of Baker et al.
  (2009), :data:`PROFILE_VARIABLES` (pelvis tilt, obliquity, rotation; hip flexion, abduction,
  rotation; knee flexion; ankle dorsiflexion; foot progression), when a gait-lab file holds
  them; the overall GPS is the RMS of 15 GVSs: the left side's three pelvic ones (the pelvis is
  one segment) and each side's six others, as Baker defines it. Comparable with Vicon's and
  pyCGM2's GPS.
* **The sagittal GPS** (:func:`movement_analysis_profile`), for the exoskeleton: hip flexion,
  knee flexion and, when measured, ankle dorsiflexion; the overall score is the RMS of both
  sides' GVSs. Not comparable with Baker's.

The normative data are those of Schwartz, Rozumalski & Trost (2008), bundled in
``rehabbot/data/normative`` for five walking-speed classes. The class is chosen from the walking
speed made dimensionless with the leg length (Hof 1996), ``v / sqrt(g · L)``, with Schwartz's class
bounds 0.227, 0.363, 0.500 and 0.636. Without a known speed it is estimated from the cadence with
the walk ratio of healthy adults (step length / cadence = 0.0064 m·min/step for a 0.9 m leg,
Sekiya & Nagasaki 1998, scaled with the leg length): ``v = ratio · cadence² / 60``.

An exoskeleton that holds the pelvis upright measures the thigh against the vertical, not against
the pelvis; its hip is compared with the normative hip flexion minus the normative pelvic tilt
(``hip_reference="vertical"``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from rehabbot.body.normative_gait import SPEED_CLASSES, normative_curve
from rehabbot.hal.types import FloatArray

#: Baker's nine kinematic variables (Plug-in Gait signs, deg in the normative data).
PROFILE_VARIABLES = (
    "pelvis_tilt", "pelvis_obliquity", "pelvis_rotation", "hip_flexion", "hip_abduction",
    "hip_rotation", "knee_flexion", "ankle_dorsiflexion", "foot_progression",
)
#: The variables counted once (from the left side) in the overall GPS.
PELVIC_VARIABLES = PROFILE_VARIABLES[:3]

#: Upper bounds of the dimensionless speed of each class but the last (Schwartz et al. 2008).
SPEED_CLASS_BOUNDS = (0.227, 0.363, 0.500, 0.636)
#: Leg length (m) assumed when the patient's is unknown: an adult of 1.70 m.
DEFAULT_LEG_LENGTH_M = 0.9
#: Leg length as a fraction of body height (Winter: greater trochanter height 0.53 H).
LEG_LENGTH_PER_HEIGHT = 0.53
#: Walk ratio (m·min/step) of healthy adults per metre of leg length (0.0064 for a 0.9 m leg).
WALK_RATIO_PER_LEG_M = 0.0064 / 0.9
GRAVITY_M_S2 = 9.81

#: Normative channel of each joint kind.
NORMATIVE_CHANNELS = {
    "hip": "hip_flexion_deg",
    "knee": "knee_flexion_deg",
    "ankle": "ankle_dorsiflexion_deg",
}


def speed_class(speed_m_s: float | None, cadence_steps_per_min: float | None,
                leg_length_m: float = DEFAULT_LEG_LENGTH_M) -> tuple[str, str]:
    """The Schwartz speed class and what it was chosen from ("speed", "cadence" or "default").

    Args:
        speed_m_s: walking (treadmill) speed (m/s), if known.
        cadence_steps_per_min: cadence (steps/min), used when the speed is unknown.
        leg_length_m: leg length (m).

    >>> speed_class(1.3, None)
    ('Free', 'speed')
    >>> speed_class(None, 80.0), speed_class(None, 115.0)
    (('Slow', 'cadence'), ('Free', 'cadence'))
    """
    if speed_m_s is not None and math.isfinite(speed_m_s):
        speed, basis = speed_m_s, "speed"
    elif cadence_steps_per_min is not None and math.isfinite(cadence_steps_per_min):
        ratio = WALK_RATIO_PER_LEG_M * leg_length_m
        speed, basis = ratio * cadence_steps_per_min**2 / 60.0, "cadence"
    else:
        return "Free", "default"
    dimensionless = speed / math.sqrt(GRAVITY_M_S2 * leg_length_m)
    return SPEED_CLASSES[int(np.searchsorted(SPEED_CLASS_BOUNDS, dimensionless))], basis


def normative_mean_deg(kind: str, speed: str, hip_reference: str = "pelvis") -> FloatArray:
    """Normative mean curve (deg, 51 points) of a joint kind ("hip", "knee", "ankle").

    Args:
        kind: joint kind.
        speed: Schwartz speed class.
        hip_reference: "pelvis" (hip flexion as gait labs measure it) or "vertical" (the thigh
            against the vertical, as an exoskeleton that holds the pelvis upright measures it).
    """
    mean = normative_curve(speed, NORMATIVE_CHANNELS[kind])[0]
    if kind == "hip" and hip_reference == "vertical":
        mean = mean - normative_curve(speed, "pelvis_tilt_deg")[0]
    elif hip_reference not in ("pelvis", "vertical"):
        raise ValueError(f"hip_reference must be 'pelvis' or 'vertical', got {hip_reference!r}")
    return mean


def gait_variable_scores(curves_deg: FloatArray, normative_deg: FloatArray) -> FloatArray:
    """GVS (deg) of each stride: RMS difference from the normative mean at 0, 2, ..., 100 %.

    Args:
        curves_deg: time-normalized curves (deg), shape (strides, 101).
        normative_deg: normative mean (deg), 51 points.

    >>> norm = np.linspace(0.0, 10.0, 51)
    >>> curve = np.interp(np.linspace(0, 1, 101), np.linspace(0, 1, 51), norm)
    >>> gait_variable_scores(np.vstack([curve, curve + 3.0]), norm).round(9).tolist()
    [0.0, 3.0]
    """
    diff = curves_deg[:, ::2] - normative_deg[None, :]
    scores: FloatArray = np.sqrt(np.mean(diff**2, axis=1))
    return scores


def gait_profile_score(gvs: Sequence[float] | FloatArray) -> float:
    """GPS (deg): the RMS of Gait Variable Scores.

    >>> gait_profile_score([3.0, 4.0, 0.0, 0.0])
    2.5
    """
    values = np.asarray(gvs, dtype=float)
    return float(np.sqrt(np.mean(values**2))) if values.size else float("nan")


def movement_analysis_profile(gvs: Mapping[str, Mapping[str, float]]
                              ) -> dict[str, dict[str, float]]:
    """The MAP: each side's GVSs (deg) and GPS, and the overall GPS over both sides.

    Args:
        gvs: ``{side: {joint kind: GVS (deg)}}``.

    >>> m = movement_analysis_profile({"right": {"hip": 3.0, "knee": 4.0},
    ...                                "left": {"hip": 0.0, "knee": 0.0}})
    >>> round(m["right"]["gps"], 4), m["overall"]["gps"]
    (3.5355, 2.5)
    """
    result = {side: {**scores, "gps": gait_profile_score(list(scores.values()))}
              for side, scores in gvs.items()}
    everything = [value for scores in gvs.values() for value in scores.values()]
    result["overall"] = {"gps": gait_profile_score(everything)}
    return result


@cache
def _profile_data() -> dict[str, Any]:
    """The bundled normative means of the nine variables (``schwartz2008_gait_profile.json``)."""
    path = (resources.files("rehabbot") / "data" / "normative"
            / "schwartz2008_gait_profile.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def profile_normative_deg(variable: str, speed: str) -> FloatArray:
    """Normative mean curve (deg, 51 points, Plug-in Gait signs) of one of Baker's variables.

    >>> profile_normative_deg("knee_flexion", "Free").shape
    (51,)
    """
    return np.asarray(_profile_data()["speed_classes"][speed][variable], dtype=float)


def baker_gait_profile(gvs: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, float]]:
    """Baker's MAP and GPS: each side's GVSs (deg) and GPS over its variables, and the overall
    GPS over the left side's pelvic GVSs and both sides' others (15 with all nine variables).

    Args:
        gvs: ``{side: {variable: GVS (deg)}}``, variables of :data:`PROFILE_VARIABLES`.

    >>> nine = dict.fromkeys(PROFILE_VARIABLES, 2.0)
    >>> m = baker_gait_profile({"right": {**nine, "pelvis_tilt": 100.0}, "left": nine})
    >>> m["left"]["gps"], m["overall"]["gps"], m["overall"]["variables"]
    (2.0, 2.0, 15.0)
    """
    result = {side: {**scores, "gps": gait_profile_score(list(scores.values()))}
              for side, scores in gvs.items()}
    counted = [value for side, scores in gvs.items() for name, value in scores.items()
               if name not in PELVIC_VARIABLES or side == "left"]
    result["overall"] = {"gps": gait_profile_score(counted), "variables": float(len(counted))}
    return result
