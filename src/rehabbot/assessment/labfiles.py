"""Sagittal joint angles from gait-lab files: C3D with Plug-in Gait angles and OpenSim ``.mot``.

Only the sagittal hip, knee and ankle angles are read; force plates, markers and the events
stored in a file are ignored, so that events come from the same kinematic method as for the
exoskeleton. Angles are returned in rad with the project's signs (flexion and dorsiflexion
positive), under OpenSim's joint names; times (s) stay on the file's own time axis.

* **C3D** (read with ezc3d): the X component of the Plug-in Gait points ``LHipAngles``,
  ``LKneeAngles``, ``LAnkleAngles``, ``R…`` (a ``Subject:`` prefix is allowed), in the unit of
  ``POINT:ANGLE_UNITS`` (degrees if absent). The first frame's time is
  ``(first_frame − 1) / rate`` with the header's 1-based first frame, as Vicon Nexus counts: the
  labelled events of the reference trial ``ktk_walk.c3d`` and its force plates' 20 N crossings
  agree within 0.5 ms on that axis (a frame later without the − 1). ezc3d reports the header's
  first frame already 0-based.
* **OpenSim .mot / .sto** (Storage format): a header ending in ``endheader`` that says
  ``inDegrees=yes|no``, a row of column labels starting with ``time``, then rows of numbers.
  Columns ``hip_flexion_r``, ``knee_angle_r``, ``ankle_angle_r`` and ``_l``. The knee's sign
  differs between models (gait2392 counts flexion negative, Rajagopal positive): a knee column
  whose largest excursion is negative is negated.

Short gaps (NaN) inside a channel are filled by linear interpolation; samples at either end where
a channel is missing are dropped. Every problem raises :class:`GaitFileError` with one message
naming the file, what is wrong and what to do.
"""

from __future__ import annotations

import math
import re
import struct
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from rehabbot.errors import RehabbotError
from rehabbot.hal.types import FloatArray

#: Required and optional coordinates (OpenSim names) by side suffix.
REQUIRED = ("hip_flexion", "knee_angle")
OPTIONAL = ("ankle_angle",)
#: Plug-in Gait point of each coordinate, before the side letter is prepended.
PLUG_IN_GAIT = {"hip_flexion": "HipAngles", "knee_angle": "KneeAngles",
                "ankle_angle": "AnkleAngles"}
SUFFIXES = {"_r": "R", "_l": "L"}
#: Baker's nine kinematic variables of the Gait Profile Score: Plug-in Gait point (without the
#: side letter) and component (0 = X, 1 = Y, 2 = Z).
PROFILE_VARIABLES = {
    "pelvis_tilt": ("PelvisAngles", 0), "pelvis_obliquity": ("PelvisAngles", 1),
    "pelvis_rotation": ("PelvisAngles", 2), "hip_flexion": ("HipAngles", 0),
    "hip_abduction": ("HipAngles", 1), "hip_rotation": ("HipAngles", 2),
    "knee_flexion": ("KneeAngles", 0), "ankle_dorsiflexion": ("AnkleAngles", 0),
    "foot_progression": ("FootProgressAngles", 2),
}


class GaitFileError(RehabbotError):
    """A gait file cannot be read or holds no usable sagittal angles."""


@dataclass(frozen=True)
class FileContext:
    """What a C3D file says besides the angles (all optional; SI units).

    Attributes:
        events: labelled foot strikes and foot offs (s, the file's time axis) by side, from the
            EVENT group; None when the file holds none.
        pelvis_m: the pelvis centre (m), shape (samples, 3), on the angles' time axis: the mean
            of the pelvis markers (``LASI RASI LPSI RPSI SACR``) present in every sample, NaN
            where missing; None without pelvis markers.
        leg_length_m: mean of ``PROCESSING:LLegLength`` and ``RLegLength`` (or ``LegLength``).
        body_mass_kg: ``PROCESSING:Bodymass``.
        height_m: ``PROCESSING:Height``.
        point_units: ``POINT:UNITS`` as written (``""`` when absent; mm assumed).
    """

    events: dict[str, tuple[FloatArray, FloatArray]] | None = None
    pelvis_m: FloatArray | None = None
    leg_length_m: float | None = None
    body_mass_kg: float | None = None
    height_m: float | None = None
    point_units: str = ""


@dataclass(frozen=True)
class GaitRecording:
    """Sagittal joint angles read from a file.

    Attributes:
        path: the file read.
        t_s: sample times (s) on the file's own time axis.
        angles_rad: angle (rad, flexion and dorsiflexion positive) by OpenSim joint name.
        context: what else the file says (events, pelvis markers, subject parameters).
        profile_rad: the nine kinematic variables of the Gait Profile Score (rad, Plug-in Gait
            signs) by :data:`PROFILE_VARIABLES` name and side suffix (``pelvis_tilt_r``, ...),
            those the file holds (C3D with Plug-in Gait outputs).
    """

    path: Path
    t_s: FloatArray
    angles_rad: dict[str, FloatArray]
    context: FileContext = FileContext()
    profile_rad: dict[str, FloatArray] = field(default_factory=dict)

    @property
    def rate_hz(self) -> float:
        """Sample rate (Hz) from the median sample interval."""
        return float(1.0 / np.median(np.diff(self.t_s)))


def read_gait_file(path: Path) -> GaitRecording:
    """Read a ``.c3d`` or ``.mot``/``.sto`` file by its extension.

    Raises:
        GaitFileError: the file is missing, malformed, truncated or lacks the hip and knee angles.
    """
    try:
        if not path.is_file():
            raise GaitFileError(f"{_shown(path)}: no such file; check the path")
    except OSError as exc:  # a name too long for the file system, for one
        raise GaitFileError(f"{_shown(path)}: cannot open ({exc.strerror or exc}); check the "
                            f"path") from None
    suffix = path.suffix.lower()
    context = FileContext()
    profile: dict[str, FloatArray] = {}
    if suffix == ".c3d":
        t, angles, context, profile = _read_c3d(path)
    elif suffix in (".mot", ".sto"):
        t, angles = _read_mot(path)
    else:
        raise GaitFileError(f"{path}: unknown file type {suffix or '(none)'!r}; give a .c3d file "
                            f"with Plug-in Gait angles or an OpenSim .mot file")
    t, angles, kept = _clean(path, t, angles)
    if context.pelvis_m is not None:
        context = replace(context, pelvis_m=context.pelvis_m[kept])
    return GaitRecording(path, t, angles, context, _filled(t, profile, kept))


def _shown(path: Path) -> str:
    """The path as an error message shows it: at most 200 characters."""
    text = str(path)
    return text if len(text) <= 200 else f"{text[:100]}...{text[-97:]}"


@dataclass(frozen=True)
class C3dHeader:
    """The sizes a C3D file's 512-byte header announces (C3D User Guide, section 3)."""

    parameter_block: int
    points: int
    analogs_per_frame: int
    first_frame: int
    last_frame: int
    float_data: bool
    data_block: int

    def data_bytes(self, frames: int) -> int:
        """Bytes of ``frames`` frames of the data section."""
        size = 4 if self.float_data else 2
        return frames * (4 * self.points + self.analogs_per_frame) * size


def check_c3d_header(path: Path) -> C3dHeader:
    """Read and check a C3D header against the file's size, before any C3D library parses it
    (a library that trusts the header can crash the process on a truncated file).

    Raises:
        GaitFileError: the file is shorter than its header says, or the header is inconsistent.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(512)
        if len(head) < 512 or head[1] != 0x50:
            raise GaitFileError(f"{path}: not a readable C3D file (no C3D header: the file "
                                f"holds {size} bytes); export it again from the motion-capture "
                                f"software")
        f.seek((head[0] - 1) * 512 + 3)
        processor = f.read(1)
    if not processor:
        raise GaitFileError(f"{path}: truncated C3D file: its header puts the parameters at "
                            f"byte {(head[0] - 1) * 512} but the file holds {size} bytes; copy or "
                            f"export the file again")
    order = ">" if processor == bytes([86]) else "<"  # processor type 86: MIPS (big endian)
    points, analogs, first, last = struct.unpack(order + "HHHH", head[2:10])
    # the scale factor's sign says float (negative) or integer data; a DEC float keeps its
    # sign bit in the second byte
    negative = bool(head[13] & 0x80) if processor == bytes([85]) else struct.unpack(
        order + "f", head[12:16])[0] < 0
    data_block = struct.unpack(order + "H", head[16:18])[0]
    header = C3dHeader(head[0], points, analogs, first, last, negative, data_block)
    if last < first:
        raise GaitFileError(f"{path}: broken C3D header: its first frame ({first}) comes after "
                            f"its last frame ({last}); export the file again")
    frames = last - first + 1
    needed = (data_block - 1) * 512 + header.data_bytes(frames)
    if last != 0xFFFF and data_block > 0 and needed > size:
        raise GaitFileError(f"{path}: truncated C3D file: its header announces {frames} frames "
                            f"({needed} bytes) but the file holds {size} bytes; copy or export "
                            f"the file again")
    return header


def _read_c3d(path: Path) -> tuple[FloatArray, dict[str, FloatArray], FileContext,
                                   dict[str, FloatArray]]:
    import ezc3d  # type: ignore[import-untyped]  # ezc3d ships no type information

    check_c3d_header(path)
    try:
        c3d: Any = ezc3d.c3d(str(path))
    except (OSError, RuntimeError, ValueError) as exc:
        raise GaitFileError(f"{path}: not a readable C3D file ({exc}); export it again from the "
                            f"motion-capture software") from None
    header = c3d["header"]["points"]
    rate = float(header["frame_rate"])
    expected = _announced_frames(path, c3d["parameters"])
    points = np.asarray(c3d["data"]["points"], dtype=float)
    # Vicon writes a gap as a point at exactly (0, 0, 0): missing, not a measured angle.
    points[:3, np.all(points[:3] == 0.0, axis=0)] = np.nan
    if points.shape[2] < expected:
        raise GaitFileError(f"{path}: truncated C3D file: its header announces {expected} frames "
                            f"but it holds {points.shape[2]}; copy or export the file again")
    if not (math.isfinite(rate) and 0 < rate < 1e6):
        raise GaitFileError(f"{path}: the C3D point rate is {rate:g} Hz; the file is damaged")
    group = c3d["parameters"]["POINT"]
    labels: list[str] = []
    for key in ("LABELS", *(f"LABELS{i}" for i in range(2, 10))):
        labels += list(group.get(key, {}).get("value", []))
    names = [label.split(":")[-1].strip() for label in labels]
    units = group.get("ANGLE_UNITS", {}).get("value", ["deg"])
    scale = np.radians(1.0) if (units[0] if units else "deg").lower().startswith("deg") else 1.0
    angles = {}
    for coordinate in REQUIRED + OPTIONAL:
        for suffix, letter in SUFFIXES.items():
            point = letter + PLUG_IN_GAIT[coordinate]
            if point in names:
                angles[coordinate + suffix] = points[0, names.index(point), :expected] * scale
    t = (int(header["first_frame"]) + np.arange(expected)) / rate
    _require(path, angles, "Plug-in Gait points LHipAngles, RHipAngles, LKneeAngles and "
                           "RKneeAngles; run the Plug-in Gait model before exporting")
    profile = {variable + suffix: points[component, names.index(letter + point), :expected]
               * scale for variable, (point, component) in PROFILE_VARIABLES.items()
               for suffix, letter in SUFFIXES.items() if letter + point in names}
    return t, angles, _c3d_context(c3d["parameters"], names, points[:3, :, :expected]), profile


#: Pelvis markers whose mean is the pelvis centre.
PELVIS_MARKERS = ("LASI", "RASI", "LPSI", "RPSI", "SACR")
#: Length units of POINT:UNITS, in m.
LENGTH_UNITS_M = {"mm": 1e-3, "cm": 1e-2, "m": 1.0}


def _c3d_context(parameters: Any, names: list[str], xyz: FloatArray) -> FileContext:
    """The events, pelvis centre and subject parameters a C3D file holds."""
    units_value = parameters["POINT"].get("UNITS", {}).get("value", [])
    units = str(units_value[0]).strip() if len(units_value) else ""
    to_m = LENGTH_UNITS_M.get(units.lower(), 1e-3)
    present = [names.index(m) for m in PELVIS_MARKERS if m in names
               and np.isfinite(xyz[:, names.index(m)]).mean() > 0.5]
    pelvis = None
    if present:
        with warnings.catch_warnings():  # a frame with every pelvis marker missing stays NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            pelvis = np.nanmean(xyz[:, present], axis=1).T * to_m
    processing = parameters.get("PROCESSING", {})

    def number(*keys: str) -> float | None:
        values = [float(np.asarray(processing[k]["value"]).ravel()[0]) for k in keys
                  if k in processing and np.asarray(processing[k]["value"]).size]
        values = [v for v in values if math.isfinite(v) and v > 0]
        return float(np.mean(values)) if values else None

    leg_mm = number("LLegLength", "RLegLength") or number("LegLength")
    height_mm = number("Height")
    return FileContext(
        events=_c3d_events(parameters),
        pelvis_m=pelvis,
        leg_length_m=None if leg_mm is None else leg_mm / 1000.0,
        body_mass_kg=number("Bodymass"),
        height_m=None if height_mm is None else height_mm / 1000.0,
        point_units=units,
    )


def _c3d_events(parameters: Any) -> dict[str, tuple[FloatArray, FloatArray]] | None:
    """Foot strikes and foot offs (s) by side from the EVENT group; None when it has none."""
    group = parameters.get("EVENT", {})
    labels = [str(v).strip().lower() for v in group.get("LABELS", {}).get("value", [])]
    contexts = [str(v).strip().lower() for v in group.get("CONTEXTS", {}).get("value", [])]
    times = np.asarray(group.get("TIMES", {}).get("value", np.zeros((2, 0))), dtype=float)
    if times.ndim != 2 or times.shape[0] < 2:
        return None
    seconds = times[0] * 60.0 + times[1]
    found: dict[str, dict[str, list[float]]] = {side: {"foot strike": [], "foot off": []}
                                                for side in ("right", "left")}
    for label, context, t in zip(labels, contexts, seconds, strict=False):
        if context in found and label in found[context] and math.isfinite(t):
            found[context][label].append(float(t))
    if not any(times for kinds in found.values() for times in kinds.values()):
        return None
    return {side: (np.array(sorted(kinds["foot strike"])), np.array(sorted(kinds["foot off"])))
            for side, kinds in found.items()}


def _announced_frames(path: Path, parameters: Any) -> int:
    """Number of frames the file says it holds.

    ezc3d reports the frames it could read, so a truncated file looks whole through it. The
    announcement is the file header's 16-bit first and last frame (words 4 and 5, in the byte
    order of the processor type the parameter section names); a trial longer than 65535 frames
    saturates them, and Vicon then keeps the range in ``TRIAL:ACTUAL_START_FIELD`` and
    ``ACTUAL_END_FIELD`` (two 16-bit words each).
    """
    with path.open("rb") as f:
        head = f.read(512)
        f.seek((head[0] - 1) * 512 + 3)
        big_endian = f.read(1) == bytes([86])  # processor type 86: MIPS (big endian)
    first, last = struct.unpack(">HH" if big_endian else "<HH", head[6:10])
    trial = parameters.get("TRIAL", {})
    if last == 0xFFFF and "ACTUAL_START_FIELD" in trial and "ACTUAL_END_FIELD" in trial:
        first, last = (int(w[0]) + 65536 * int(w[1]) for w in (
            np.asarray(trial[k]["value"], dtype=np.int64) & 0xFFFF
            for k in ("ACTUAL_START_FIELD", "ACTUAL_END_FIELD")))
    return int(last) - int(first) + 1


_HEADER_LINE = re.compile(r"^\s*(\w+)\s*=\s*(\S*)\s*$")


def _read_mot(path: Path) -> tuple[FloatArray, dict[str, FloatArray]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise GaitFileError(f"{path}: not a readable text file ({exc}); an OpenSim .mot file is "
                            f"plain text") from None
    end = next((i for i, line in enumerate(lines) if line.strip().lower() == "endheader"), None)
    if end is None:
        raise GaitFileError(f"{path}: broken .mot header: no 'endheader' line; the header must "
                            f"end with 'endheader' as OpenSim writes it")
    header = {m[1].lower(): m[2] for m in map(_HEADER_LINE.match, lines[:end]) if m}
    in_degrees = header.get("indegrees", "").lower()
    if in_degrees not in ("yes", "no"):
        raise GaitFileError(f"{path}: broken .mot header: 'inDegrees' must be yes or no, found "
                            f"{header.get('indegrees', 'nothing')!r}; add 'inDegrees=yes' (or no) "
                            f"before 'endheader'")
    body = [line for line in lines[end + 1:] if line.strip()]
    if not body or body[0].split()[0].lower() != "time":
        raise GaitFileError(f"{path}: broken .mot file: the line after 'endheader' must hold the "
                            f"column labels, starting with 'time'")
    labels = body[0].split()
    try:
        rows = [[float(v) for v in line.split()] for line in body[1:]]
    except ValueError as exc:
        raise GaitFileError(f"{path}: broken .mot data: {exc}; every data row must hold numbers "
                            f"only") from None
    short = next((i for i, row in enumerate(rows) if len(row) != len(labels)), None)
    if short is not None:
        raise GaitFileError(f"{path}: truncated or broken .mot data: data row {short + 1} holds "
                            f"{len(rows[short])} values for {len(labels)} columns; export the "
                            f"file again")
    announced = header.get("nrows")
    if announced is not None and announced.isdigit() and int(announced) != len(rows):
        raise GaitFileError(f"{path}: truncated .mot file: its header announces {announced} rows "
                            f"but it holds {len(rows)}; export the file again")
    data = np.asarray(rows, dtype=float).reshape(len(rows), len(labels))
    scale = np.radians(1.0) if in_degrees == "yes" else 1.0
    angles = {}
    for coordinate in REQUIRED + OPTIONAL:
        for suffix in SUFFIXES:
            name = coordinate + suffix
            if name in labels:
                angles[name] = data[:, labels.index(name)] * scale
    for name in ("knee_angle_r", "knee_angle_l"):
        if name in angles and np.nanmax(-angles[name], initial=0) > np.nanmax(
                angles[name], initial=0):
            angles[name] = -angles[name]
    _require(path, angles, "columns hip_flexion_r, hip_flexion_l, knee_angle_r and knee_angle_l "
                           "(OpenSim coordinate names)")
    return data[:, 0], angles


def _require(path: Path, angles: dict[str, FloatArray], what: str) -> None:
    missing = [c + s for c in REQUIRED for s in SUFFIXES if c + s not in angles]
    if missing:
        raise GaitFileError(f"{path}: missing angle channels {', '.join(missing)}; the file must "
                            f"hold the {what}")


def _clean(path: Path, t_s: FloatArray, angles: dict[str, FloatArray]
           ) -> tuple[FloatArray, dict[str, FloatArray], slice]:
    """Drop samples at the ends where a channel is NaN, fill inner gaps, check the time axis;
    also return the slice of the samples kept."""
    required = [angles[c + s] for c in REQUIRED for s in SUFFIXES]
    present = np.all([np.isfinite(a) for a in required], axis=0) & np.isfinite(t_s)
    if not present.any():
        raise GaitFileError(f"{path}: the hip and knee angle channels hold no valid sample at the "
                            f"same time; check that the model was run on this trial")
    first, last = np.flatnonzero(present)[[0, -1]]
    t = t_s[first:last + 1]
    steps = np.diff(t)
    if t.size < 2 or not np.all(steps > 0):
        raise GaitFileError(f"{path}: the time column must increase from sample to sample; the "
                            f"file is damaged")
    if not 1e-6 <= float(np.median(steps)) <= 1.0:
        raise GaitFileError(f"{path}: the samples are {float(np.median(steps)):.3g} s apart; a "
                            f"gait recording samples every 1 us to 1 s (is the time column in "
                            f"seconds?)")
    kept = slice(first, last + 1)
    return t, _filled(t, angles, kept), kept


def _filled(t_s: FloatArray, channels: dict[str, FloatArray], kept: slice
            ) -> dict[str, FloatArray]:
    """The ``kept`` samples of each channel, inner gaps filled linearly; a channel with no
    valid sample there is left out."""
    filled = {}
    for name, channel in channels.items():
        a = channel[kept]
        good = np.isfinite(a)
        if good.any():
            filled[name] = a if good.all() else np.interp(t_s, t_s[good], a[good])
    return filled
