"""How fast a recorded session replays, and that it replays exactly.

Records one session of the bundled ``high_steps_300`` protocol made short (warm-up, a step target,
cool-down) on the default simulated patient, then replays it with ``rehabbot.session.replay``:
unchanged (must be identical), and with the training phase's guidance changed (must differ from
the training phase's first tick). Prints the recording and replay speeds (ticks/s) and the
largest differences.

Usage: ``python benchmarks/replay.py [--steps 40]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rehabbot.configfile import bundled_file
from rehabbot.hal.config import load_robot_config
from rehabbot.protocols.schema import load_protocol
from rehabbot.session.replay import replay_session
from rehabbot.session.runner import SessionRequest, SessionRunner


def main() -> None:
    """Record, replay, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=40, help="step target of the training")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory() as folder:
        text = bundled_file("protocols", "high_steps_300.toml").read_text()
        text = text.replace("steps = 300", f"steps = {args.steps}").replace(
            "duration_s = 60", "duration_s = 5")
        path = Path(folder) / "short.toml"
        path.write_text(text)
        store = Path(folder) / "replay.sqlite"
        began = time.perf_counter()
        result = SessionRunner(SessionRequest(load_robot_config(), load_protocol(path),
                                              store)).run()
        recorded_s = time.perf_counter() - began
        ticks = result.loop.ticks
        rows = [("record (full stack)", result.status, ticks / recorded_s, None)]
        for label, params in (("replay, unchanged", {}),
                              ("replay, training guidance 80 %", {"training.guidance_pct": 80.0})):
            began = time.perf_counter()
            report = replay_session(store, result.session_id, params=params)
            spent = time.perf_counter() - began
            first = min((d.first_tick for d in report.differences), default=None)
            rows.append((label, "identical" if report.identical else f"differs from tick {first}",
                         report.ticks / spent, max(report.max_tau_cmd_nm.values())))
    table = Table(title=f"Replay of a {ticks}-tick three-phase session ({args.steps} steps)",
                  title_justify="left")
    for column in ("run", "result", "ticks/s", "max |Δtau_cmd| (N·m)"):
        table.add_column(column)
    for label, outcome, rate, dtau in rows:
        table.add_row(label, outcome, f"{rate:,.0f}", "-" if dtau is None else f"{dtau:.3g}")
    console.print(table)


if __name__ == "__main__":
    main()
