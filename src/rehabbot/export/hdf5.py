"""HDF5 export (h5py): one session's samples, events, strides and metrics, units as attributes.

``session_<id>.h5``::

    /session                 attrs: session_id, subject (pseudonym), protocol_name, robot_name,
                             started_at, ended_at, status, period_s, duration_s, n_ticks,
                             parameters_json, format, format_version
    /samples/tick            int64 (n,)          units "1"
    /samples/t_s             float64 (n,)        units "s"
    /samples/phase           float64 (n,)        units "1"   (gait phase 0–1)
    /samples/contact         uint8 (n, 2)        units "1"   columns ["right", "left"]
    /joints/<joint>/q        float64 (n,)        units "rad"
    /joints/<joint>/qd       float64 (n,)        units "rad/s"
    /joints/<joint>/tau      float64 (n,)        units "N.m"  (measured)
    /joints/<joint>/tau_cmd  float64 (n,)        units "N.m"  (commanded)
    /joints/<joint>/q_ref    float64 (n,)        units "rad"
    /events/<side>/foot_strike, foot_off         units "s"   (on the t_s axis)
    /strides/<side>/<column> float64 (strides,)  units from the column's suffix
    /metrics/<code>          float64 scalar      attrs units (UCUM), title, loinc (if any)

Every dataset has a ``units`` attribute (UCUM codes); joints are in robot order (the ``index``
attribute of each ``/joints/<joint>`` group), named with OpenSim's coordinate names; signs are the
project's (flexion and dorsiflexion positive, torque positive towards positive angles). Strings
are UTF-8. The patient appears only as the keyed pseudonym ``subject``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rehabbot.assessment.kinematic_events import SIDES
from rehabbot.assessment.strides import stride_table
from rehabbot.export.base import Exporter, SessionData
from rehabbot.export.metrics import session_metrics
from rehabbot.storage.files import private_file

FORMAT = "rehabbot-session"
FORMAT_VERSION = 1
#: Unit (UCUM) of each per-joint array of the samples.
JOINT_UNITS = {"q": "rad", "qd": "rad/s", "tau": "N.m", "tau_cmd": "N.m", "q_ref": "rad"}
#: Unit of a stride-table column by the end of its name.
_SUFFIX_UNITS = (("_steps_per_min", "{steps}/min"), ("_pct", "%"), ("_deg", "deg"), ("_s", "s"))


def column_units(name: str) -> str:
    """The UCUM unit of a stride-table column, from its name.

    >>> column_units("cadence_steps_per_min"), column_units("stance_pct"), column_units("end_s")
    ('{steps}/min', '%', 's')
    """
    return next((unit for suffix, unit in _SUFFIX_UNITS if name.endswith(suffix)), "1")


def _dataset(group: Any, name: str, values: Any, units: str) -> Any:
    dataset = group.create_dataset(name, data=values)
    dataset.attrs["units"] = units
    return dataset


class Hdf5Exporter(Exporter):
    """Write ``session_<id>.h5`` (layout in the module docstring)."""

    name = "hdf5"
    suffix = ".h5"

    def write(self, data: SessionData, out_dir: Path) -> list[Path]:
        """Write the HDF5 file into ``out_dir`` and return its path."""
        import h5py  # type: ignore[import-untyped]  # h5py ships no type information

        info, samples = data.info, data.samples
        path = out_dir / f"{data.stem}{self.suffix}"
        with private_file(path), h5py.File(path, "w") as f:
            session = f.create_group("session")
            session.attrs.update({
                "format": FORMAT, "format_version": FORMAT_VERSION, "session_id": info.id,
                "subject": data.subject, "protocol_name": info.protocol_name,
                "robot_name": info.robot_name, "started_at": info.started_at,
                "ended_at": info.ended_at or "", "status": info.status,
                "period_s": info.period_s, "duration_s": info.duration_s,
                "n_ticks": info.n_ticks, "parameters_json": json.dumps(data.parameters),
            })
            group = f.create_group("samples")
            _dataset(group, "tick", samples.tick, "1")
            _dataset(group, "t_s", samples.t_s, "s")
            _dataset(group, "phase", samples.phase, "1")
            _dataset(group, "contact", samples.contact.astype(np.uint8), "1").attrs["columns"] = \
                ["right", "left"]
            joints = f.create_group("joints")
            for j, joint in enumerate(samples.joint_names):
                group = joints.create_group(joint)
                group.attrs["index"] = j
                for array, units in JOINT_UNITS.items():
                    _dataset(group, array, getattr(samples, array)[:, j], units)
            for side in SIDES:
                group = f.create_group(f"events/{side}")
                _dataset(group, "foot_strike", data.events[side].foot_strike_s, "s")
                _dataset(group, "foot_off", data.events[side].foot_off_s, "s")
                group = f.create_group(f"strides/{side}")
                for column, values in stride_table(data.events, side).items():
                    _dataset(group, column, values, column_units(column))
            metrics = f.create_group("metrics")
            for metric in session_metrics(data):
                dataset = _dataset(metrics, metric.code, metric.value, metric.unit)
                dataset.attrs["title"] = metric.title
                if metric.loinc is not None:
                    dataset.attrs["loinc"] = metric.loinc[0]
        return [path]
