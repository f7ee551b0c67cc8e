"""``rehabbot replay SESSION``: a recorded session's inputs through a freshly built controller.

A bad option ends the command with one line on stderr (a
:class:`~rehabbot.errors.ConfigurationError`, printed by ``rehabbot``'s main).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rehabbot.controllers.registry import CONTROLLERS
from rehabbot.errors import ConfigurationError
from rehabbot.session.replay import (
    Q_REF_TOLERANCE_DEG,
    TAU_TOLERANCE_NM,
    ReplayReport,
    replay_session,
)
from rehabbot.storage.store import default_store_path

console = Console(markup=False)  # user text is never markup


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
                                      + ", ".join(CONTROLLERS.names()))
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
        typer.Option("--store", help="session store file \\[default: $REHABBOT_STORE or user "
                                     "data dir]"),
    ] = None,
) -> None:
    """Re-run a session's recorded inputs through a freshly built controller and supervisor and
    report per joint where q_ref and tau_cmd differ from the recorded ones.

    Exit status 0: identical within tolerance; 1: they differ; 2: bad input.
    """
    if controller is not None and controller not in CONTROLLERS:
        raise ConfigurationError(f"--controller {controller!r}: choose one of "
                                 f"{', '.join(CONTROLLERS.names())}")
    params = dict(_param(text) for text in param or [])
    report = replay_session(
        store if store is not None else default_store_path(), session_id,
        controller=controller, params=params,
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
