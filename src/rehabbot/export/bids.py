"""BIDS-Motion export (BIDS 1.9.0, the motion datatype of BEP029): sessions of a raw dataset.

The export folder becomes a dataset root; sessions exported into it one by one or in a batch
share it::

    dataset_description.json
    README
    task-gait_events.json          (describes every column of every events.tsv)
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
* **task-gait_events.json** (dataset root, inherited by every events.tsv): the description,
  unit and levels of each column (``onset``, ``duration``, ``trial_type``, ``side``) and the
  HED tags of the two event types.
* **dataset_description.json** names no session nor patient (it is shared): name, BIDS and HED
  versions, ``Authors`` (the software, and a placeholder for the people: the researcher who
  publishes names them),
  ``License`` (none granted: pseudonymized health data shared under the patients' consent).
* **README**: what the dataset holds, how it was made, and the privacy of its content.
* The motion sidecar also gives the recommended keys the export knows (channel counts of the
  kinds it does not record are 0; institution and instructions ``n/a``) and
  ``SamplingFrequencyEffective`` (recorded ticks per second over the recording).

The BIDS validator (``bids-validator-deno`` from PyPI) reports no error and no warning on a
dataset written so (docs/export.md says how it was run).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rehabbot import __version__
from rehabbot.errors import ExportError
from rehabbot.export.base import Exporter, SessionData
from rehabbot.storage.files import write_private_text

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
#: The HED schema the event tags use.
HED_VERSION = "8.3.0"
#: The events.json sidecar: every column of events.tsv described.
EVENTS_SIDECAR: dict[str, Any] = {
    "onset": {"Description": "Time of the event from the first row of motion.tsv.",
              "Units": "s"},
    "duration": {"Description": "Duration of the event: 0, gait events are instants.",
                 "Units": "s"},
    "trial_type": {
        "Description": "Gait event, detected from the hip and knee angles (rehabbot's "
                       "exoskeleton method, docs/metrics.md).",
        "Levels": {"foot_strike": "The foot contacts the ground (initial contact).",
                   "foot_off": "The foot leaves the ground (toe off)."},
        "HED": {"foot_strike": "Agent-action, (Foot, Touch)",
                "foot_off": "Agent-action, (Foot, Move)"},
    },
    "side": {"Description": "The leg the event belongs to.",
             "Levels": {"right": "Right leg.", "left": "Left leg."}},
    "StimulusPresentation": {"OperatingSystem": "n/a", "SoftwareName": "n/a",
                             "SoftwareVersion": "n/a"},
}
#: Channel kinds of BIDS-Motion that the export does not record (their counts are 0).
UNRECORDED_CHANNELS = ("ACCEL", "ANGACCEL", "GYRO", "LATENCY", "MAGN", "MISC", "ORNT", "POS",
                       "VEL")
README = """rehabbot research export (BIDS-Motion)

Joint angles of lower-limb exoskeleton sessions recorded by rehabbot, with the gait events
(foot strike, foot off) detected from the hip and knee angles.

- One subject per patient, labelled with a keyed pseudonym; one session per recorded session.
- motion.tsv: one row per control tick, one column per joint (rad, flexion positive);
  channels.tsv names the columns; events.tsv the gait events (see task-gait_events.json).
- Only patients who consented to research use are exported; every export is recorded in the
  audit log of the store it came from.

The data are pseudonymized health data: share them only as the patients' consent allows.
Ask the data holder who made the export for the protocol and the patients' consent.
"""


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
        """Write the session into the dataset at ``out_dir`` (its root); return the seven files."""
        samples, names = data.samples, data.samples.joint_names
        motion_dir = out_dir / f"sub-{data.subject}" / f"ses-{data.info.id}" / "motion"
        try:
            motion_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExportError(f"cannot create the folder {motion_dir}: {exc.strerror or exc}; "
                              f"choose another folder (--out)") from None
        stem = motion_dir / f"{labels(data)}_task-{TASK}_tracksys-{TRACKSYS}"

        frames = data.frames
        cells = np.full((int(frames[-1]) + 1, len(names)), MISSING, dtype=object)
        cells[frames] = [[f"{v:.9g}" for v in row] for row in samples.q]
        motion = _tsv([list(row) for row in cells])

        channels = _tsv([list(CHANNEL_COLUMNS)] + [
            [name, "n/a", "JNTANG", TRACKED_POINTS.get(name, name), "rad"] for name in names])

        sidecar = {
            "TaskName": TASK,
            "TaskDescription": "Robot-assisted walking in a lower-limb exoskeleton "
                               f"(protocol {data.info.protocol_name!r}).",
            "SamplingFrequency": data.rate_hz,
            "TrackingSystemName": TRACKSYS,
            "Manufacturer": "rehabbot",
            "ManufacturersModelName": data.info.robot_name,
            "RecordingDuration": data.info.duration_s,
            "RecordingType": "continuous",
            "MotionChannelCount": len(names),
            "TrackedPointsCount": len(names),
            "JNTANGChannelCount": len(names),
            "MissingValues": MISSING,
            **{f"{kind}ChannelCount": 0 for kind in UNRECORDED_CHANNELS},
            "SamplingFrequencyEffective": (len(samples) - 1) / max(
                float(samples.t_s[-1] - samples.t_s[0]), data.info.period_s),
            "SoftwareVersions": f"rehabbot {__version__}",
            "DeviceSerialNumber": "n/a",
            "InstitutionName": "n/a",
            "InstitutionAddress": "n/a",
            "InstitutionalDepartmentName": "n/a",
            "Instructions": "n/a",
            "SubjectArtefactDescription": "n/a",
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
            "HEDVersion": HED_VERSION,
            "DatasetType": "raw",
            "License": "No licence granted: pseudonymized health data, shared only as the "
                       "patients' research consent allows",
            "Authors": ["rehabbot (software)",
                        "the researcher who exports (add the authors before publishing)"],
            "GeneratedBy": [{"Name": "rehabbot", "Version": __version__}],
            "SourceDatasets": [{"URL": "n/a", "Version": "n/a", "DOI": "n/a"}],
        }
        return [
            write_private_text(out_dir / "dataset_description.json", _json(description)),
            write_private_text(out_dir / "README", README),
            write_private_text(out_dir / f"task-{TASK}_events.json", _json(EVENTS_SIDECAR)),
            write_private_text(Path(f"{stem}_motion.tsv"), motion),
            write_private_text(Path(f"{stem}_channels.tsv"), channels),
            write_private_text(Path(f"{stem}_motion.json"), _json(sidecar)),
            write_private_text(Path(f"{stem}_events.tsv"), events_text),
        ]
