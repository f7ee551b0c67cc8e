"""Batch analysis: the gait assessment of many stored sessions and gait-lab files, one row each.

Every item is analyzed in a Dask task with the same assessment as the single-item commands: a
stored session as ``rehabbot report`` reads it (:func:`rehabbot.assessment.report.load_report_data`,
exoskeleton event bias), a C3D or OpenSim ``.mot`` file as ``rehabbot analyze`` does (overground
bias, hip angles against the pelvis). A row holds the session totals, each per-side parameter's
mean over strides (``<parameter>_<side>``), the symmetry indices (``<parameter>_si_pct``) and the
Gait Profile Score. An item that cannot be analyzed (a malformed file, a session without a
complete stride) is a row with status ``error`` and the one-line message.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rehabbot.assessment.gait_analysis import GaitAnalysis, analyze_gait
from rehabbot.assessment.kinematic_events import OVERGROUND
from rehabbot.assessment.labfiles import GaitFileError, read_gait_file
from rehabbot.assessment.report import load_report_data
from rehabbot.assessment.scores import DEFAULT_LEG_LENGTH_M
from rehabbot.errors import ConfigurationError
from rehabbot.storage.store import SessionStore
from rehabbot.sweeps.point import ERROR, Row

OK = "ok"


@dataclass(frozen=True)
class BatchItem:
    """One thing to analyze: a stored session or a gait-lab file.

    Attributes:
        kind: ``session`` or ``file``.
        path: the session store, or the gait-lab file.
        session_id: the session's id (sessions only).
    """

    kind: Literal["session", "file"]
    path: Path
    session_id: int | None = None

    @property
    def label(self) -> str:
        """How the item is named in tables: ``store.sqlite#12`` or the file name."""
        return f"{self.path.name}#{self.session_id}" if self.kind == "session" else self.path.name

    @property
    def key(self) -> str:
        """A unique Dask key of the item's task."""
        return f"analyze-{self.kind}-{self.path.resolve()}-{self.session_id}"


def select_sessions(store_path: Path, session_ids: list[int], patients: list[str],
                    every: bool) -> list[BatchItem]:
    """The sessions of a store: by id, by patient code, or all; in id order without repeats.

    Raises:
        StorageError: no store, or an id or patient that is not in it.
    """
    with SessionStore.open_existing(store_path) as store:
        ids = {store.get_session(i).id for i in session_ids}
        for code in patients:
            ids |= {s.id for s in store.list_sessions(store.get_patient(code).id)}
        if every:
            ids |= {s.id for s in store.list_sessions()}
    return [BatchItem("session", store_path, i) for i in sorted(ids)]


def select_files(patterns: list[str]) -> list[BatchItem]:
    """The files matching glob ``patterns`` (``**`` recurses), sorted, without repeats.

    Raises:
        ConfigurationError: a pattern matches no file.
    """
    paths: dict[Path, None] = {}
    for pattern in patterns:
        found = sorted(Path(p) for p in glob.glob(pattern, recursive=True) if Path(p).is_file())
        if not found:
            raise ConfigurationError(f"--files {pattern!r} matches no file; check the pattern "
                                     "(quote it so the shell does not expand it)")
        paths |= dict.fromkeys(found)
    return [BatchItem("file", p) for p in paths]


def flatten(result: GaitAnalysis) -> Row:
    """The metrics of an analysis as one flat row (see the module docstring)."""
    profile = result.movement_analysis_profile
    row: Row = {
        "steps": result.step_count,
        "walking_time_s": result.walking_time_s,
        "cadence_steps_per_min": result.cadence_steps_per_min,
        "distance_m": result.distance_m,
        "speed_class": result.speed_class,
        "gps_deg": profile["overall"]["gps"],
    }
    for side, stats in result.summary.items():
        row[f"gps_{side}_deg"] = profile[side]["gps"]
        row |= {f"{name}_{side}": stat.mean for name, stat in stats.items()}
    row |= {f"{name}_si_pct": value for name, value in result.symmetry_pct.items()}
    return row


def _analyze_file(path: Path, speed_m_s: float | None, leg_length_m: float) -> GaitAnalysis:
    recording = read_gait_file(path)
    result = analyze_gait(recording.t_s, recording.angles_rad, bias=OVERGROUND,
                          hip_reference="pelvis", speed_m_s=speed_m_s, leg_length_m=leg_length_m)
    if result.step_count == 0:
        raise GaitFileError(f"{path}: no complete stride found; give a longer walking trial")
    return result


def failed_item(item: BatchItem, exc: BaseException) -> Row:
    """The row of an item whose task did not return (e.g. its worker process died)."""
    return {"item": item.label, "kind": item.kind, "path": str(item.path),
            "session_id": item.session_id, "status": ERROR,
            "error": f"the worker analyzing it failed: {type(exc).__name__}: {exc}"}


def analyze_item(item: BatchItem, speed_m_s: float | None = None,
                 leg_length_m: float = DEFAULT_LEG_LENGTH_M) -> Row:
    """Analyze ``item``; never raises (a failure is a row with status ``error``).

    Args:
        item: what to analyze.
        speed_m_s: walking speed of the gait-lab files (m/s), if known (sessions use their
            protocol's treadmill speed).
        leg_length_m: leg length for the gait-lab files (m).
    """
    row: Row = {"item": item.label, "kind": item.kind, "path": str(item.path),
                "session_id": item.session_id}
    try:
        if item.kind == "session" and item.session_id is not None:
            data = load_report_data(item.path, item.session_id)
            result = data.analysis
            row |= {"patient": data.info.patient_code, "protocol": data.info.protocol_name,
                    "session_status": data.info.status}
        else:
            result = _analyze_file(item.path, speed_m_s, leg_length_m)
    except Exception as exc:  # one bad item is reported, never the end of the batch
        return row | {"status": ERROR, "error": str(exc)}
    return row | {"status": OK, "error": None} | flatten(result)
