"""``rehabbot analyze FILE``: gait events and metrics of a C3D or OpenSim ``.mot`` file.

The command is a plain function, registered on the main app by ``rehabbot.cli`` with
``app.command("analyze")(analyze_command)``. Events are the file's or detected from the angles
(:mod:`rehabbot.assessment.lab_analysis`); times are in seconds on the file's own time axis.
Errors are :class:`~rehabbot.assessment.labfiles.GaitFileError`
with a one-line message, which the main command prints as ``error: ...`` (exit status 2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rehabbot.assessment.gait_analysis import JOINT_KINDS, GaitAnalysis
from rehabbot.assessment.lab_analysis import EVENT_CHOICES, analyze_recording
from rehabbot.assessment.labfiles import GaitFileError, read_gait_file
from rehabbot.assessment.parameter_rows import SPATIOTEMPORAL_ROWS, fmt, parameter_rows
from rehabbot.hal.types import FloatArray

#: Rows of the metrics table: parameter key and label with unit.
TABLE_ROWS = (
    *SPATIOTEMPORAL_ROWS,
    *((f"{kind}_{p}", f"{kind} {label} (deg)") for kind in JOINT_KINDS
      for p, label in (("rom_deg", "ROM"), ("max_deg", "max"), ("min_deg", "min"),
                       ("gvs_deg", "GVS"))),
)


def metrics_table(result: GaitAnalysis, title: str) -> Table:
    """A rich table of the per-side means ± SD, CV and symmetry index of ``result``."""
    table = Table(title=title, title_justify="left")
    for column in ("parameter", "right", "CV %", "left", "CV %", "SI %"):
        table.add_column(column, justify="left" if column == "parameter" else "right")
    for row in parameter_rows(result, TABLE_ROWS):
        table.add_row(*row)
    profile = result.movement_analysis_profile
    table.add_row("GPS sagittal, 3 variables (deg)", fmt(profile["right"]["gps"]), "",
                  fmt(profile["left"]["gps"]), "", f"overall {fmt(profile['overall']['gps'])}")
    baker = result.gait_profile
    if baker is not None:
        table.add_row("GPS Baker, 9 variables (deg)", fmt(baker.get("right", {}).get("gps")),
                      "", fmt(baker.get("left", {}).get("gps")), "",
                      f"overall {fmt(baker['overall']['gps'])}")
    table.add_section()
    table.add_row("steps", str(result.step_count))
    table.add_row("walking time (s)", fmt(result.walking_time_s))
    table.add_row("cadence (steps/min)", fmt(result.cadence_steps_per_min, 1))
    if result.distance_m is not None:
        table.add_row("distance (m)", fmt(result.distance_m, 1))
    table.add_row("normative class", f"{result.speed_class} (from {result.speed_class_basis})")
    return table


def analyze_command(
    file: Annotated[Path, typer.Argument(help="C3D file with Plug-in Gait angles, or OpenSim "
                                              ".mot file of joint angles")],
    as_json: Annotated[bool, typer.Option("--json", help="print events and metrics as JSON")] = (
        False
    ),
    events: Annotated[str, typer.Option(
        help="file: the events labelled in the file; detect: detected from the angles; auto: "
             "the file's when it has them [both are compared in --json]")] = "auto",
    speed: Annotated[float | None, typer.Option(
        help="walking speed (m/s) \\[default: from the pelvis markers, else class from the "
             "cadence]")] = None,
    leg_length: Annotated[float | None, typer.Option(
        help="leg length (m) \\[default: the file's PROCESSING:LegLength, else 0.9]")] = None,
) -> None:
    """Gait events and metrics of FILE; every choice and what could not be computed is shown.

    Exit status 2 when the file cannot be read or holds no walking at all.
    """
    if events not in EVENT_CHOICES:
        raise GaitFileError(f"--events {events!r}: use one of {', '.join(EVENT_CHOICES)}")
    recording = read_gait_file(file)
    lab = analyze_recording(recording, events, speed, leg_length)
    if lab.refusal is not None:
        raise GaitFileError(lab.refusal)
    if as_json:
        print(json.dumps(lab.as_dict(), indent=2))
        return
    result = lab.analysis
    assert result is not None  # only a refusal has no analysis
    console = Console(markup=False)
    counts = " · ".join(
        f"{side}: {len(e.foot_strike_s)} foot strikes, {len(e.foot_off_s)} foot offs"
        for side, e in result.events.items()
    )
    console.print(metrics_table(result, f"{file.name} · {recording.rate_hz:.0f} Hz · "
                                        f"{counts}"))
    for side, e in result.events.items():
        console.print(f"{side} foot strikes (s): {_times(e.foot_strike_s)}; foot offs (s): "
                      f"{_times(e.foot_off_s)}")
    for what, choice in lab.choices.items():
        console.print(f"{what.replace('_', ' ')}: {choice}")
    for warning in lab.warnings:
        console.print(f"warning: {warning}", style="yellow")


def _times(times: FloatArray) -> str:
    return ", ".join(f"{t:.3f}" for t in times) or "none"
