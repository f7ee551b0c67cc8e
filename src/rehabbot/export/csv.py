"""CSV export: one row per recorded tick, and one row per complete stride.

``session_<id>.csv`` (comma-separated, header row, ``.`` decimal point) has the columns
``tick``, ``t_s`` (s), ``phase`` (gait phase, 0–1), ``contact_r``, ``contact_l`` (0/1), then per
joint (OpenSim names, robot order) ``<joint>_q_deg``, ``<joint>_qd_deg_s``, ``<joint>_q_ref_deg``,
``<joint>_tau_nm`` and ``<joint>_tau_cmd_nm``: angles in deg, velocities in deg/s, torques in
N·m, with the project's signs (flexion and dorsiflexion positive; a torque is positive towards
positive angles).

``session_<id>_strides.csv`` has one row per complete stride of each side (foot strike to foot
strike, events from the hip and knee angles with the exoskeleton's bias): ``side``, ``stride``
(0-based per side), then the columns of
:func:`~rehabbot.assessment.strides.stride_table`, each named with its unit (``start_s``,
``stride_time_s``, ``cadence_steps_per_min``, ``stance_pct``, ...).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from rehabbot.assessment.kinematic_events import SIDES
from rehabbot.assessment.strides import stride_table
from rehabbot.export.base import Exporter, SessionData
from rehabbot.storage.files import write_private_text

#: Per-joint quantities of the sample table: (column suffix, sample attribute, to degrees?).
JOINT_COLUMNS = (
    ("q_deg", "q", True),
    ("qd_deg_s", "qd", True),
    ("q_ref_deg", "q_ref", True),
    ("tau_nm", "tau", False),
    ("tau_cmd_nm", "tau_cmd", False),
)


class CsvExporter(Exporter):
    """Write ``session_<id>.csv`` (per tick) and ``session_<id>_strides.csv`` (per stride)."""

    name = "csv"
    suffix = ".csv"

    def write(self, data: SessionData, out_dir: Path) -> list[Path]:
        """Write both tables into ``out_dir`` and return their paths."""
        s = data.samples
        header = ["tick", "t_s", "phase", "contact_r", "contact_l"]
        columns: list[np.ndarray] = [s.tick, s.t_s, s.phase, s.contact[:, 0].astype(np.int64),
                                     s.contact[:, 1].astype(np.int64)]
        for j, joint in enumerate(s.joint_names):
            for suffix, attribute, degrees in JOINT_COLUMNS:
                values = getattr(s, attribute)[:, j]
                header.append(f"{joint}_{suffix}")
                columns.append(np.degrees(values) if degrees else values)
        samples_path = out_dir / f"{data.stem}{self.suffix}"
        write_private_text(samples_path, _table(header, columns))

        tables = {side: stride_table(data.events, side) for side in SIDES}
        keys = list(tables[SIDES[0]])
        rows = [[side, str(i), *(_number(float(tables[side][k][i])) for k in keys)]
                for side in SIDES for i in range(tables[side][keys[0]].size)]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["side", "stride", *keys])
        writer.writerows(rows)
        strides_path = out_dir / f"{data.stem}_strides{self.suffix}"
        write_private_text(strides_path, buffer.getvalue())
        return [samples_path, strides_path]


def _number(value: float) -> str:
    """A float with 9 significant digits; NaN as an empty cell."""
    return "" if np.isnan(value) else f"{value:.9g}"


def _table(header: list[str], columns: list[np.ndarray]) -> str:
    """CSV text of equal-length columns under ``header`` (integers exact, floats 9 digits)."""
    cells = [[str(int(v)) for v in c] if np.issubdtype(c.dtype, np.integer) else
             [_number(float(v)) for v in c] for c in columns]
    lines = [",".join(header), *(",".join(row) for row in zip(*cells, strict=True))]
    return "\n".join(lines) + "\n"
