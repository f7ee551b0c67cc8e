"""OpenSim ``.mot`` export (Storage format): joint angles in degrees over time.

The header says ``inDegrees=yes``, ``nRows`` and ``nColumns``; the columns are ``time`` (s, the
session's own ``t_s``) and one per joint, under OpenSim's coordinate names in the robot's
joint order (``hip_flexion_r``, ``knee_angle_r``, ...). Signs are the project's, which are
those of OpenSim's Rajagopal model: hip flexion, knee flexion and ankle dorsiflexion positive
(docs/conventions.md). A gait2392-family model counts knee flexion negative: negate the knee
columns before using them with such a model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rehabbot.export.base import Exporter, SessionData
from rehabbot.storage.files import write_private_text


class MotExporter(Exporter):
    """Write ``session_<id>.mot``: time (s) and joint angles (deg)."""

    name = "mot"
    suffix = ".mot"

    def write(self, data: SessionData, out_dir: Path) -> list[Path]:
        """Write the .mot file into ``out_dir`` and return its path."""
        samples = data.samples
        labels = ["time", *samples.joint_names]
        table = np.column_stack((samples.t_s, np.degrees(samples.q)))
        lines = [
            data.stem,
            "version=1",
            f"nRows={table.shape[0]}",
            f"nColumns={table.shape[1]}",
            "inDegrees=yes",
            "endheader",
            "\t".join(labels),
            *("\t".join(f"{v:.9g}" for v in row) for row in table),
        ]
        return [write_private_text(out_dir / f"{data.stem}{self.suffix}", "\n".join(lines) + "\n")]
