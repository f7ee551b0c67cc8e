"""``rehabbot protocols list | show NAME | validate FILE``: the protocol library; and
``rehabbot replay SESSION``: a recorded session's inputs through a freshly built controller.

A malformed file ends the command with one line on stderr naming the file, the field and what
is allowed (a :class:`~rehabbot.errors.ConfigurationError`, printed by ``rehabbot``'s main).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, cast, get_args

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rehabbot.errors import ConfigurationError
from rehabbot.protocols.replay import (
    Q_REF_TOLERANCE_DEG,
    TAU_TOLERANCE_NM,
    ReplayReport,
    replay_session,
)
from rehabbot.protocols.schema import (
    SESSION_PARAMETERS,
    ControllerName,
    Phase,
    Protocol,
    bundled_protocols,
    load_protocol,
)
from rehabbot.storage.store import default_store_path

protocols_app = typer.Typer(help="The therapy-protocol library.", no_args_is_help=True)
console = Console(markup=False)  # protocol files are user text: never markup


def _ends(phase: Phase) -> str:
    if phase.duration_s is not None:
        return f"{phase.duration_s:g} s"
    if phase.steps is not None:
        return f"{phase.steps} steps (≤ {phase.time_limit_s:g} s)"
    return "assessment"


def _rom(phase: Phase) -> str:
    rom = phase.range_of_motion_deg
    parts = [f"{kind.split('_')[0]} [{b[0]:g}, {b[1]:g}]"
             for kind in ("hip_flexion", "knee_angle", "ankle_angle")
             if (b := getattr(rom, kind)) is not None]
    return " · ".join(parts) or "robot limits"


def phases_table(protocol: Protocol) -> Table:
    """One row per phase: kind, controller, how it ends, speed, support, guidance, cadence, ROM."""
    table = Table(title=f"{protocol.title} ({protocol.name}): phases", title_justify="left")
    for column in ("#", "phase", "kind", "controller", "ends after", "speed (km/h)", "BWS (%)",
                   "guidance (%)", "cadence (steps/min)", "ROM (deg)"):
        table.add_column(column)
    for i, phase in enumerate(protocol.phases, 1):
        if phase.walking:
            controller = f"{phase.controller} ({phase.phase_source})"
            params = ", ".join(f"{k}={v:g}" for k, v in phase.controller_params.items())
            if params:
                controller += f"\n{params}"
            table.add_row(str(i), phase.name, phase.kind, controller, _ends(phase),
                          f"{phase.treadmill_speed_kmh:g}", f"{phase.body_weight_support_pct:g}",
                          f"{phase.guidance_pct:g}", f"{phase.cadence_steps_per_min:g}",
                          _rom(phase))
        else:
            joints = ", ".join(phase.assessment_joints) or "default joints"
            table.add_row(str(i), phase.name, phase.kind, f"{phase.assessment} ({joints})",
                          "its own length", "0 (stopped)", "lifted", "-", "-", _rom(phase))
    return table


def adjustable_table(protocol: Protocol) -> Table:
    """One row per phase and live-adjustable parameter: value, bounds, absolute range."""
    table = Table(title="live-adjustable parameters", title_justify="left")
    for column in ("phase", "parameter", "value", "therapist bounds", "absolute range", "unit"):
        table.add_column(column)
    for phase in protocol.phases:
        for name, (low, high) in phase.adjustable.items():
            unit, lowest, highest = phase.absolute_range(name)
            value = phase.value_of(name)
            table.add_row(phase.name, name, "-" if value is None else f"{value:g}",
                          f"[{low:g}, {high:g}]", f"[{lowest:g}, {highest:g}]", unit)
    return table


def progression_table(protocol: Protocol) -> Table:
    """One row per progression rule."""
    table = Table(title="progression between sessions", title_justify="left")
    for column in ("when (last session)", "then", "phases"):
        table.add_column(column)
    for rule in protocol.progression:
        changes = ", ".join(
            f"{name} {amount:+g} {SESSION_PARAMETERS.get(name, ('',))[0]}".rstrip()
            for name, amount in rule.then.items())
        table.add_row(rule.when, changes, ", ".join(rule.phases) or "every phase with bounds")
    return table


@protocols_app.command("list")
def protocols_list() -> None:
    """List the bundled protocols."""
    table = Table(title="Bundled protocols")
    for column in ("name", "title", "phases", "planned walking (min)"):
        table.add_column(column)
    for name in bundled_protocols():
        protocol = load_protocol(name)
        kinds = " → ".join(phase.kind for phase in protocol.phases)
        table.add_row(name, protocol.title, kinds, f"{protocol.planned_duration_s / 60.0:.1f}")
    console.print(table)


@protocols_app.command("show")
def protocols_show(
    name: Annotated[str, typer.Argument(help="bundled protocol name or .toml file")],
) -> None:
    """Show a protocol's phases, live-adjustable bounds and progression rules."""
    protocol = load_protocol(name)
    if protocol.description:
        console.print(protocol.description)
    console.print(phases_table(protocol))
    if any(phase.adjustable for phase in protocol.phases):
        console.print(adjustable_table(protocol))
    if protocol.progression:
        console.print(progression_table(protocol))


@protocols_app.command("validate")
def protocols_validate(
    path: Annotated[str, typer.Argument(help="protocol .toml file (or a bundled name)")],
) -> None:
    """Check a protocol file; exit status 2 with one message naming the field if it is bad."""
    protocol = load_protocol(path)
    console.print(f"{path}: valid protocol {protocol.name!r}, {len(protocol.phases)} phase(s), "
                  f"{protocol.planned_duration_s / 60.0:.1f} min of planned walking")


def _param(text: str) -> tuple[str, float]:
    """``[PHASE.]NAME=VALUE`` as (key, value).

    Raises:
        ConfigurationError: not of that form.
    """
    key, sep, value = text.partition("=")
    try:
        if not sep or not key:
            raise ValueError
        return key.strip(), float(value)
    except ValueError:
        raise ConfigurationError(f"--param {text!r}: give [PHASE.]NAME=NUMBER, e.g. "
                                 "training.guidance_pct=80") from None


def replay_table(report: ReplayReport) -> Table:
    """Per joint: identical or where it first differs, and the largest differences."""
    table = Table(title=f"Replay of session {report.session_id}: {report.ticks} ticks",
                  title_justify="left")
    for column in ("joint", "result", "first differing tick", "at (s)", "max |Δq_ref| (deg)",
                   "max |Δtau_cmd| (N·m)"):
        table.add_column(column)
    differing = {d.joint: d for d in report.differences}
    for joint, dq in report.max_q_ref_deg.items():
        d = differing.get(joint)
        table.add_row(joint, Text("differs", "red") if d else Text("identical", "green"),
                      "-" if d is None else str(d.first_tick),
                      "-" if d is None else f"{d.first_t_s:.3f}", f"{dq:.3g}",
                      f"{report.max_tau_cmd_nm[joint]:.3g}")
    return table


def replay_command(
    session_id: Annotated[int, typer.Argument(help="session id (see `rehabbot sessions list`)")],
    controller: Annotated[
        str | None, typer.Option(help="replay with this controller instead: "
                                      + ", ".join(get_args(ControllerName)))
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(help="[PHASE.]NAME=VALUE: replay with this parameter changed (repeatable)"),
    ] = None,
    tolerance_deg: Annotated[
        float, typer.Option(help="reference-angle tolerance (deg)")] = Q_REF_TOLERANCE_DEG,
    tolerance_nm: Annotated[
        float, typer.Option(help="commanded-torque tolerance (N·m)")] = TAU_TOLERANCE_NM,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="session store file [default: $REHABBOT_STORE or user "
                                     "data dir]"),
    ] = None,
) -> None:
    """Re-run a session's recorded inputs through a freshly built controller and supervisor and
    report per joint where q_ref and tau_cmd differ from the recorded ones.

    Exit status 0: identical within tolerance; 1: they differ; 2: bad input.
    """
    if controller is not None and controller not in get_args(ControllerName):
        raise ConfigurationError(f"--controller {controller!r}: choose one of "
                                 f"{', '.join(get_args(ControllerName))}")
    params = dict(_param(text) for text in param or [])
    report = replay_session(
        store if store is not None else default_store_path(), session_id,
        controller=cast(ControllerName | None, controller), params=params,
        q_ref_tolerance_deg=tolerance_deg, tau_tolerance_nm=tolerance_nm)
    if as_json:
        print(json.dumps({"session_id": report.session_id, "ticks": report.ticks,
                          "identical": report.identical,
                          "differences": [asdict(d) for d in report.differences],
                          "max_q_ref_deg": report.max_q_ref_deg,
                          "max_tau_cmd_nm": report.max_tau_cmd_nm}, indent=2))
    else:
        console.print(replay_table(report))
    if not report.identical:
        raise typer.Exit(code=1)
