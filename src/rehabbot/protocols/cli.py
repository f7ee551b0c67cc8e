"""``rehabbot protocols list | show NAME | validate FILE``: the protocol library.

A malformed file ends the command with one line on stderr naming the file, the field and what
is allowed (a :class:`~rehabbot.errors.ConfigurationError`, printed by ``rehabbot``'s main).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rehabbot.body.joints import JOINT_KINDS
from rehabbot.protocols.schema import (
    SESSION_PARAMETERS,
    Phase,
    Protocol,
    bundled_protocols,
    load_protocol,
)

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
    parts = [f"{kind.split('_')[0]} [{b.min_deg:g}, {b.max_deg:g}]"
             for kind in JOINT_KINDS if (b := rom.of_kind(kind)) is not None]
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
            spec = phase.absolute_range(name)
            value = phase.value_of(name)
            table.add_row(phase.name, name, "-" if value is None else f"{value:g}",
                          f"[{low:g}, {high:g}]", f"[{spec.low:g}, {spec.high:g}]", spec.unit)
    return table


def progression_table(protocol: Protocol) -> Table:
    """One row per progression rule."""
    table = Table(title="progression between sessions", title_justify="left")
    for column in ("when (last session)", "then", "phases"):
        table.add_column(column)
    for rule in protocol.progression:
        units = {name: spec.unit for name, spec in SESSION_PARAMETERS.items()}
        changes = ", ".join(f"{name} {amount:+g} {units.get(name, '')}".rstrip()
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
