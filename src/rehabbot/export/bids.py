"""BIDS-Motion export (BIDS 1.9.0, the motion datatype of BEP029): sessions of a raw dataset.

The export folder becomes a dataset root; sessions exported into it one by one or in a batch
share it::

    dataset_description.json
    sub-<pseudonym>/ses-<id>/motion/
        sub-<pseudonym>_ses-<id>_task-gait_tracksys-exoskeleton_motion.tsv
        sub-<pseudonym>_ses-<id>_task-gait_tracksys-exoskeleton_channels.tsv
        sub-<pseudonym>_ses-<id>_task-gait_tracksys-exoskeleton_motion.json
        sub-<pseudonym>_ses-<id>_task-gait_tracksys-exoskeleton_events.tsv

* **Subject label**: the patient's keyed pseudonym (16 hex digits), never the patient code, so
  that one patient's sessions are one subject; **session label**: the session id.
* **motion.tsv**: tab-separated, no header, one row per control tick from the first to the last
  recorded tick at ``SamplingFrequency`` = 1 / period; one column per joint, robot order, the
  joint angle in **rad** (the project's SI value, flexion and dorsiflexion positive). Ticks the
  recorder dropped are rows of ``n/a`` (``MissingValues``).
* **channels.tsv**: one row per motion.tsv column: ``name`` (OpenSim joint name), ``component``
  ``n/a`` (a joint angle is a scalar), ``type`` ``JNTANG``, ``tracked_point`` (the joint,
  e.g. ``hip_r``) and ``units`` ``rad``.
* **events.tsv**: ``onset`` (s from the first row of motion.tsv: ``t_s`` − first ``t_s``),
  ``duration`` 0, ``trial_type`` ``foot_strike`` / ``foot_off``, ``side`` ``right`` / ``left``;
  sorted by onset. Events come from the hip and knee angles with the exoskeleton's bias.
* **dataset_description.json** names no session nor patient (it is shared).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rehabbot.errors import ExportError
from rehabbot.export.base import Exporter, SessionData, write_private_text

BIDS_VERSION = "1.9.0"
TASK = "gait"
TRACKSYS = "exoskeleton"
#: motion.tsv cell of a dropped tick.
MISSING = "n/a"
#: OpenSim coordinate name → tracked point (the joint).
TRACKED_POINTS = {
    "hip_flexion_r": "hip_r", "knee_angle_r": "knee_r", "ankle_angle_r": "ankle_r",
    "hip_flexion_l": "hip_l", "knee_angle_l": "knee_l", "ankle_angle_l": "ankle_l",
}
CHANNEL_COLUMNS = ("name", "component", "type", "tracked_point", "units")
EVENT_COLUMNS = ("onset", "duration", "trial_type", "side")


def labels(data: SessionData) -> str:
    """BIDS entities of a session: ``sub-<pseudonym>_ses-<id>`` (no patient code)."""
    return f"sub-{data.subject}_ses-{data.info.id}"


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _tsv(rows: list[list[str]]) -> str:
    return "".join("\t".join(row) + "\n" for row in rows)


class BidsExporter(Exporter):
    """Write a BIDS-Motion dataset of one session: joint angles (rad) and gait events (s)."""

    name = "bids"
    suffix = ".tsv"

    def write(self, data: SessionData, out_dir: Path) -> list[Path]:
        """Write the session into the dataset at ``out_dir`` (its root); return the five files."""
        samples, names = data.samples, data.samples.joint_names
        rate_hz = 1.0 / data.info.period_s
        motion_dir = out_dir / f"sub-{data.subject}" / f"ses-{data.info.id}" / "motion"
        try:
            motion_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(f"cannot create the folder {motion_dir}: {exc.strerror or exc}; "
                              f"choose another folder (--out)") from None
        stem = motion_dir / f"{labels(data)}_task-{TASK}_tracksys-{TRACKSYS}"

        frames = (samples.tick - samples.tick[0]).astype(np.int64)
        cells = np.full((int(frames[-1]) + 1, len(names)), MISSING, dtype=object)
        cells[frames] = [[f"{v:.9g}" for v in row] for row in samples.q]
        motion = _tsv([list(row) for row in cells])

        channels = _tsv([list(CHANNEL_COLUMNS)] + [
            [name, "n/a", "JNTANG", TRACKED_POINTS.get(name, name), "rad"] for name in names])

        sidecar = {
            "TaskName": TASK,
            "TaskDescription": "Robot-assisted walking in a lower-limb exoskeleton "
                               f"(protocol {data.info.protocol_name!r}).",
            "SamplingFrequency": rate_hz,
            "TrackingSystemName": TRACKSYS,
            "Manufacturer": "rehabbot",
            "ManufacturersModelName": data.info.robot_name,
            "RecordingDuration": data.info.duration_s,
            "RecordingType": "continuous",
            "MotionChannelCount": len(names),
            "TrackedPointsCount": len(names),
            "JNTANGChannelCount": len(names),
            "MissingValues": MISSING,
        }

        t0 = float(samples.t_s[0])
        events = sorted((float(t) - t0, kind, side) for side, side_events in data.events.items()
                        for kind, times in (("foot_strike", side_events.foot_strike_s),
                                            ("foot_off", side_events.foot_off_s))
                        for t in times)
        events_text = _tsv([list(EVENT_COLUMNS)] + [[f"{onset:.9g}", "0", kind, side]
                                                     for onset, kind, side in events])

        description = {
            "Name": "rehabbot research export",
            "BIDSVersion": BIDS_VERSION,
            "DatasetType": "raw",
            "GeneratedBy": [{"Name": "rehabbot"}],
        }
        return [
            write_private_text(out_dir / "dataset_description.json", _json(description)),
            write_private_text(Path(f"{stem}_motion.tsv"), motion),
            write_private_text(Path(f"{stem}_channels.tsv"), channels),
            write_private_text(Path(f"{stem}_motion.json"), _json(sidecar)),
            write_private_text(Path(f"{stem}_events.tsv"), events_text),
        ]
