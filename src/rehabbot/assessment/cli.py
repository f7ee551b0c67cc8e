"""``rehabbot analyze FILE``: gait events and metrics of a C3D or OpenSim ``.mot`` file.

The command is a plain function, registered on the main app by ``rehabbot.cli`` with
``app.command("analyze")(analyze_command)``. Events come from the sagittal hip and knee angles
alone (the method of :mod:`rehabbot.assessment.kinematic_events`, overground bias); times are in
seconds on the file's own time axis. Errors are :class:`~rehabbot.assessment.labfiles.GaitFileError`
with a one-line message, which the main command prints as ``error: ...`` (exit status 2).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rehabbot.assessment.gait_analysis import JOINT_KINDS, GaitAnalysis, Stat, analyze_gait
from rehabbot.assessment.kinematic_events import OVERGROUND
from rehabbot.assessment.labfiles import GaitFileError, read_gait_file
from rehabbot.assessment.scores import DEFAULT_LEG_LENGTH_M

#: Rows of the metrics table: parameter key and label with unit.
TABLE_ROWS = (
    ("stride_time_s", "stride time (s)"),
    ("step_time_s", "step time (s)"),
    ("cadence_steps_per_min", "cadence (steps/min)"),
    ("stance_pct", "stance (% stride)"),
    ("swing_pct", "swing (% stride)"),
    ("double_support_pct", "double support (% stride)"),
    *((f"{kind}_{p}", f"{kind} {label} (deg)") for kind in JOINT_KINDS
      for p, label in (("rom_deg", "ROM"), ("max_deg", "max"), ("min_deg", "min"),
                       ("gvs_deg", "GVS"))),
)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def _cells(stat: Stat | None) -> tuple[str, str]:
    """``mean ± SD`` and the CV (%) of a parameter, blank where absent."""
    if stat is None:
        return "", ""
    return f"{_fmt(stat.mean)} ± {_fmt(stat.sd)}", "" if stat.cv_pct is None else _fmt(
        stat.cv_pct, 1)


def metrics_table(result: GaitAnalysis, title: str) -> Table:
    """A rich table of the per-side means ± SD, CV and symmetry index of ``result``."""
    table = Table(title=title, title_justify="left")
    for column in ("parameter", "right", "CV %", "left", "CV %", "SI %"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for key, label in TABLE_ROWS:
        right, left = result.summary["right"].get(key), result.summary["left"].get(key)
        if right is None and left is None:
            continue
        symmetry = result.symmetry_pct.get(key)
        table.add_row(label, *_cells(right), *_cells(left),
                      "" if symmetry is None else _fmt(symmetry, 1))
    profile = result.movement_analysis_profile
    table.add_row("GPS (deg)", _fmt(profile["right"]["gps"]), "", _fmt(profile["left"]["gps"]),
                  "", f"overall {_fmt(profile['overall']['gps'])}")
    table.add_section()
    table.add_row("steps", str(result.step_count))
    table.add_row("walking time (s)", _fmt(result.walking_time_s))
    table.add_row("cadence (steps/min)", _fmt(result.cadence_steps_per_min, 1))
    if result.distance_m is not None:
        table.add_row("distance (m)", _fmt(result.distance_m, 1))
    table.add_row("normative class", f"{result.speed_class} (from {result.speed_class_basis})")
    return table


def analyze_command(
    file: Annotated[Path, typer.Argument(help="C3D file with Plug-in Gait angles, or OpenSim "
                                              ".mot file of joint angles")],
    as_json: Annotated[bool, typer.Option("--json", help="print events and metrics as JSON")] = (
        False
    ),
    speed: Annotated[float | None, typer.Option(
        help="walking speed (m/s), if known: picks the normative speed class and gives the "
             "distance [default: class from the cadence]")] = None,
    leg_length: Annotated[float, typer.Option(help="leg length (m)")] = DEFAULT_LEG_LENGTH_M,
) -> None:
    """Detect gait events from the sagittal joint angles of FILE and print gait metrics."""
    recording = read_gait_file(file)
    result = analyze_gait(recording.t_s, recording.angles_rad, bias=OVERGROUND,
                          hip_reference="pelvis", speed_m_s=speed, leg_length_m=leg_length)
    if result.step_count == 0:
        span = recording.t_s[-1] - recording.t_s[0]
        raise GaitFileError(f"{file}: no complete stride found in {span:.2f} s of data (a stride "
                            f"needs two foot strikes of one side with the other side's foot off "
                            f"and strike between them); give a longer walking trial")
    if as_json:
        print(json.dumps(result.as_dict(), indent=2))
        return
    console = Console(markup=False)
    events = " · ".join(
        f"{side}: {len(e.foot_strike_s)} foot strikes, {len(e.foot_off_s)} foot offs"
        for side, e in result.events.items()
    )
    console.print(metrics_table(result, f"{file.name} · {recording.rate_hz:.0f} Hz · {events}"))
