"""The fault matrix of issues 4, 13 and 15, measured: for every fault scenario, when it was
injected, detected and reacted to (in ticks and ms at the loop's rate), the stop category, the alarm
priority, whether the stop latched and the fault was recorded as an event, and the warnings.

The scenarios and their runner are those of ``tests/safety/test_fault_matrix.py``
(``tests/safety/fault_matrix_table.py``, which needs the tests' emulated-drive rigs), so this
script adds the repository root to the import path and imports them; nothing is re-implemented.

Usage: ``python benchmarks/fault_matrix.py``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package

from rehabbot.hal.config import load_robot_config
from rehabbot.safety import FaultKind
from tests.conftest import make_bench
from tests.safety.fault_matrix_table import SCENARIOS, Outcome, run_scenario


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _row(outcome: Outcome, period_ms: float) -> list[str]:
    """One table row; a scenario without a fault shows dashes."""
    warnings = ", ".join(sorted(set(outcome.warnings))) or "-"
    if outcome.detected is None or outcome.reaction is None:
        return [outcome.scenario.name, str(outcome.injected), "-", "-", "-", "-", "-", "-", "-",
                warnings, outcome.scenario.how]
    delay = outcome.reaction - outcome.detected
    category = "-" if outcome.category is None else str(int(outcome.category))
    priority = "-" if outcome.priority is None else outcome.priority.value
    how = outcome.scenario.how
    if outcome.drive_off_periods is not None:
        how += f"; drives' torque zero after {outcome.drive_off_periods} periods alone"
    if outcome.first_after_stall is not None and outcome.kind is FaultKind.COMMAND_DEADLINE:
        assert outcome.detected is not None and outcome.value is not None
        how += (f"; fault {outcome.detected - outcome.first_after_stall} ticks after the first "
                f"tick after the stall, command {outcome.value * 1e3:.1f} ms old")
    return [outcome.scenario.name, str(outcome.injected), str(outcome.detected),
            str(outcome.reaction), f"{delay} ({delay * period_ms:g} ms)", category, priority,
            _yes(outcome.latched), _yes(outcome.recorded), warnings, how]


def main() -> None:
    """Run every scenario and print the matrix."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    config = load_robot_config("sim_exo")
    period_ms = config.period_s * 1000.0
    table = Table(title=f"fault matrix (sim_exo over CAN, {1 / config.period_s:g} Hz)")
    for column in ("fault", "injected", "detected", "reaction", "reaction time", "category",
                   "priority", "latched", "recorded", "warnings", "how"):
        table.add_column(column, overflow="fold")
    for scenario in SCENARIOS:
        bench = make_bench(config)
        try:
            table.add_row(*_row(run_scenario(scenario, bench), period_ms))
        finally:
            bench.emulators.close()
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
