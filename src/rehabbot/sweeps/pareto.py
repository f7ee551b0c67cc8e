"""The trade-off of a sweep: tracking error against the robot's assistance, Pareto front marked.

A point is on the Pareto front when no other point of the same patient profile has both a lower
(or equal) tracking error and a lower (or equal) robot power, one of them strictly: the settings
worth considering when the patient should walk well with as little help from the robot as
possible. Fronts are per profile because patients differ more than settings do, and only
sessions that completed take part: a session a fault ended early is no setting to choose (the plot
still shows it, as a cross).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rehabbot.sweeps.point import Row

#: The plot's axes: x (the robot's assistance) and y (tracking error), columns of a sweep table.
X_COLUMN, Y_COLUMN = "robot_power_w", "rms_error_deg"


def _completed(row: Row) -> bool:
    """Whether the row's session ran to its end (rows without a status count as such)."""
    return row.get("status") in (None, "completed")


def _value(row: Row, column: str) -> float | None:
    value = row.get(column)
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the non-dominated ``(x, y)`` points when both are minimized, by increasing x.

    >>> pareto_front([(1.0, 5.0), (2.0, 3.0), (3.0, 4.0), (4.0, 1.0), (2.0, 3.0)])
    [0, 1, 3]
    """
    order = sorted(range(len(points)), key=lambda i: (points[i][0], points[i][1], i))
    front: list[int] = []
    best_y = math.inf
    for i in order:
        if points[i][1] < best_y:
            front.append(i)
            best_y = points[i][1]
    return front


def on_front(rows: Sequence[Row]) -> list[bool]:
    """For each row, is it on the Pareto front of its patient profile's completed rows (rows
    without both figures never are)."""
    flags = [False] * len(rows)
    for profile in {str(r.get("profile")) for r in rows}:
        mine = [i for i, r in enumerate(rows) if str(r.get("profile")) == profile
                and _completed(r) and _value(r, X_COLUMN) is not None
                and _value(r, Y_COLUMN) is not None]
        xy = [(_value(rows[i], X_COLUMN) or 0.0, _value(rows[i], Y_COLUMN) or 0.0) for i in mine]
        for k in pareto_front(xy):
            flags[mine[k]] = True
    return flags


def plot_tradeoff(rows: Sequence[Row], path: Path, title: str) -> None:
    """Scatter tracking error against robot power, one colour per patient profile, each
    profile's Pareto front drawn as a line through ringed markers; save to ``path`` (PNG, PDF).

    Rows without both figures (errors, sessions too short to measure) are left out.
    """
    figure = Figure(figsize=(7.5, 5.0), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    flags = on_front(rows)
    for n, profile in enumerate(sorted({str(r.get("profile")) for r in rows})):
        mine = [(x, y, front, _completed(r)) for r, front in zip(rows, flags, strict=True)
                if str(r.get("profile")) == profile and (x := _value(r, X_COLUMN)) is not None
                and (y := _value(r, Y_COLUMN)) is not None]
        if not mine:
            continue
        colour = f"C{n % 10}"  # the colour cycle's n-th colour
        for completed, marker in ((True, "o"), (False, "x")):
            shown = [m for m in mine if m[3] == completed]
            axes.scatter([m[0] for m in shown], [m[1] for m in shown], s=24, alpha=0.8,
                         color=colour, marker=marker, label=profile if completed else None)
        front = sorted((m[0], m[1]) for m in mine if m[2])
        axes.plot([f[0] for f in front], [f[1] for f in front], color=colour, linewidth=1.0,
                  drawstyle="steps-post")
        axes.scatter([f[0] for f in front], [f[1] for f in front], facecolors="none",
                     edgecolors=colour, s=130, linewidths=1.5)
    axes.scatter([], [], facecolors="none", edgecolors="black", s=130, label="Pareto front")
    axes.scatter([], [], color="black", marker="x", s=24, label="ended by a fault")
    axes.set_xlabel("robot assistance: positive mechanical power (W)")
    axes.set_ylabel("tracking error: RMS vs normative gait (deg)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
