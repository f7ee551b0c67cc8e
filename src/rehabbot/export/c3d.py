"""C3D export (ezc3d): Plug-in Gait joint angles, gait events and joint torques.

* **POINT**: one angle point per joint that Plug-in Gait names (``RHipAngles``, ``RKneeAngles``,
  ``RAnkleAngles``, ``L…``), in degrees (``POINT:ANGLE_UNITS = deg``, ``POINT:ANGLES`` lists
  them; ``POINT:UNITS = mm``, the unit of marker coordinates, of which there are none),
  sagittal angle in X (flexion and dorsiflexion positive, as Plug-in Gait), 0 in Y and Z. One
  frame per control tick, at the session's rate; ticks the recorder dropped are invalid frames
  (residual −1).
* **Written completely**: the header is read back after writing; a file shorter than its
  header says (a full disk: ezc3d does not report a short write) is removed and the export
  fails.
* **Time axis**: the 0-based first frame is the first tick's time × rate, so that frame ``i``
  is at ``(first_frame + i) / rate`` s, the session's own ``t_s`` (as
  :mod:`rehabbot.assessment.labfiles` reads a C3D file).
* **EVENT**: ``Foot Strike`` and ``Foot Off`` with contexts ``Right`` and ``Left``, detected from
  the hip and knee angles with the exoskeleton's bias
  (:data:`~rehabbot.assessment.kinematic_events.EXOSKELETON`); times in s on that axis.
* **ANALOG**: measured and commanded joint torque, ``<joint>_tau`` and ``<joint>_tau_cmd``
  (OpenSim joint names), in N·m (``ANALOG:UNITS = N.m``), one sample per frame, positive
  towards positive angles (the negated Plug-in Gait internal moment at the hip and knee).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rehabbot.assessment.labfiles import GaitFileError, check_c3d_header
from rehabbot.export.base import Exporter, SessionData
from rehabbot.storage.files import private_file

#: Plug-in Gait angle point of each OpenSim joint name.
PLUG_IN_GAIT_POINTS = {
    "hip_flexion_r": "RHipAngles", "knee_angle_r": "RKneeAngles", "ankle_angle_r": "RAnkleAngles",
    "hip_flexion_l": "LHipAngles", "knee_angle_l": "LKneeAngles", "ankle_angle_l": "LAnkleAngles",
}
#: C3D event labels and contexts.
FOOT_STRIKE, FOOT_OFF = "Foot Strike", "Foot Off"
CONTEXTS = {"right": "Right", "left": "Left"}
#: Unit string of the torque channels.
TORQUE_UNITS = "N.m"
#: POINT:UNITS, the unit of marker coordinates: readers need it even where, as here, every
#: point is an angle (kineticstoolkit fails on an empty one).
LENGTH_UNITS = "mm"


class C3dExporter(Exporter):
    """Write ``session_<id>.c3d``: angles (deg), events (s) and torques (N·m)."""

    name = "c3d"
    suffix = ".c3d"

    def write(self, data: SessionData, out_dir: Path) -> list[Path]:
        """Write the C3D file into ``out_dir`` and return its path."""
        import ezc3d  # type: ignore[import-untyped]  # ezc3d ships no type information

        samples, names, rate_hz = data.samples, data.samples.joint_names, data.rate_hz
        frames = data.frames
        n_frames = int(frames[-1]) + 1
        angle_joints = [j for j, name in enumerate(names) if name in PLUG_IN_GAIT_POINTS]

        c3d: Any = ezc3d.c3d()
        c3d["parameters"]["POINT"]["RATE"]["value"] = [rate_hz]
        labels = [PLUG_IN_GAIT_POINTS[names[j]] for j in angle_joints]
        c3d["parameters"]["POINT"]["LABELS"]["value"] = tuple(labels)
        points = np.full((4, len(angle_joints), n_frames), np.nan)
        points[1:3, :, frames] = 0.0
        points[3, :, :] = 1.0
        points[0][:, frames] = np.degrees(samples.q[:, angle_joints]).T
        c3d["data"]["points"] = points
        c3d.add_parameter("POINT", "UNITS", [LENGTH_UNITS])
        c3d.add_parameter("POINT", "ANGLE_UNITS", ["deg"])
        c3d.add_parameter("POINT", "ANGLES", labels)

        channels = [f"{name}_tau" for name in names] + [f"{name}_tau_cmd" for name in names]
        analogs = np.full((1, 2 * len(names), n_frames), np.nan)
        analogs[0][:, frames] = np.concatenate((samples.tau, samples.tau_cmd), axis=1).T
        c3d["parameters"]["ANALOG"]["RATE"]["value"] = [rate_hz]
        c3d["parameters"]["ANALOG"]["LABELS"]["value"] = tuple(channels)
        c3d["parameters"]["ANALOG"]["UNITS"]["value"] = tuple([TORQUE_UNITS] * len(channels))
        c3d["data"]["analogs"] = analogs

        c3d["header"]["points"]["first_frame"] = round(float(samples.t_s[0]) * rate_hz)
        for side, events in data.events.items():
            for label, times in ((FOOT_STRIKE, events.foot_strike_s),
                                 (FOOT_OFF, events.foot_off_s)):
                for t in times:
                    minutes = float(np.floor(t / 60.0))
                    c3d.add_event([minutes, float(t) - 60.0 * minutes],
                                  context=CONTEXTS[side], label=label)
        c3d.add_parameter("MANUFACTURER", "COMPANY", ["rehabbot"])

        path = out_dir / f"{data.stem}{self.suffix}"
        with private_file(path):
            try:
                c3d.write(str(path))
            except RuntimeError as exc:  # ezc3d reports I/O failures as RuntimeError
                raise OSError(str(exc)) from None
            _check_written(path)
        return [path]


def _check_written(path: Path) -> None:
    """Read back the header of the written file: ezc3d does not report a short write (a full
    disk, a file-size limit), so a file shorter than its header says is removed and an error.

    Raises:
        OSError: the file is incomplete.
    """
    try:
        check_c3d_header(path)
    except GaitFileError as exc:
        path.unlink(missing_ok=True)
        raise OSError(f"the file was not written completely ({exc}); is the disk full?") from None
