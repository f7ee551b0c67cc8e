"""The per-side parameter rows that ``rehabbot analyze`` and the session report both show: mean
± SD, CV (%) per side and the symmetry index (%) of each gait parameter a side has, as text
cells; and the number formats they use. Plain text, no plotting: ``rehabbot analyze`` runs
without matplotlib.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rehabbot.assessment.gait_analysis import GaitAnalysis, Stat

#: Spatiotemporal parameters of a per-side table: key and label with unit.
SPATIOTEMPORAL_ROWS = (
    ("stride_time_s", "stride time (s)"),
    ("step_time_s", "step time (s)"),
    ("cadence_steps_per_min", "cadence (steps/min)"),
    ("stance_pct", "stance (% stride)"),
    ("swing_pct", "swing (% stride)"),
    ("double_support_pct", "double support (% stride)"),
)


def fmt(value: float | None, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals; ``n/a`` for None, NaN or infinity."""
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def mean_sd(stat: Stat | None) -> str:
    """``mean ± SD`` of a parameter, blank where absent."""
    return "" if stat is None else f"{fmt(stat.mean)} ± {fmt(stat.sd)}"


def parameter_rows(result: GaitAnalysis,
                   parameters: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Per parameter (key, label) that a side has: label, right mean ± SD, right CV (%), left
    mean ± SD, left CV (%), symmetry index (%); blank cells where a side or the index is
    missing. The rows of the report's parameter table and of ``rehabbot analyze``."""
    rows = []
    for key, label in parameters:
        right, left = result.summary["right"].get(key), result.summary["left"].get(key)
        if right is None and left is None:
            continue
        cv = ["" if s is None or s.cv_pct is None else fmt(s.cv_pct, 1) for s in (right, left)]
        symmetry = result.symmetry_pct.get(key)
        rows.append([label, mean_sd(right), cv[0], mean_sd(left), cv[1],
                     "" if symmetry is None else fmt(symmetry, 1)])
    return rows
