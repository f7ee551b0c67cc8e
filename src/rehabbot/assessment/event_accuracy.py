"""Accuracy of detected gait events against ground truth, and the bias fit that corrects them.

A ground-truth event is *found* when a detected event of the same type and side lies within
``tolerance_s`` of it; each detected event matches at most one true event (nearest first). A
detected event that matches none is a *false event*. Errors are detected − true (s), so a
positive mean error means the detector is late.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rehabbot.hal.types import FloatArray

#: Largest |error| (s) at which a detected event still counts as the true one: half the shortest
#: interval between two events of the same type and side in walking (a stride of ~0.8 s or more).
TOLERANCE_S = 0.25


@dataclass(frozen=True)
class Matching:
    """Detected events paired with true ones.

    Attributes:
        errors_s: detected − true (s) of each found event, in the order of the true events.
        n_true: number of true events.
        n_false: detected events that match no true event.
    """

    errors_s: FloatArray
    n_true: int
    n_false: int

    @classmethod
    def combine(cls, parts: Iterable[Matching]) -> Matching:
        """One matching pooling several (trials, sides)."""
        items = list(parts)
        errors = np.concatenate([m.errors_s for m in items]) if items else np.zeros(0)
        return cls(errors, sum(m.n_true for m in items), sum(m.n_false for m in items))

    @property
    def detection_rate(self) -> float:
        """Found / true events (1.0 when there is nothing to find)."""
        return self.errors_s.size / self.n_true if self.n_true else 1.0

    def summary_ms(self) -> dict[str, float]:
        """Mean, SD and max of |error| (ms), mean signed error (ms), detection rate (%), false."""
        abs_ms = np.abs(self.errors_s) * 1000.0
        empty = abs_ms.size == 0
        return {
            "mae_ms": float("nan") if empty else float(abs_ms.mean()),
            "sd_ms": float("nan") if empty else float(abs_ms.std()),
            "max_ms": float("nan") if empty else float(abs_ms.max()),
            "bias_ms": float("nan") if empty else float(self.errors_s.mean() * 1000.0),
            "detection_pct": 100.0 * self.detection_rate,
            "false_events": float(self.n_false),
        }


def match_events(detected_s: FloatArray, true_s: FloatArray, tolerance_s: float = TOLERANCE_S,
                 window_s: tuple[float, float] = (-np.inf, np.inf)) -> Matching:
    """Pair detected with true event times (s) of one type and side.

    Args:
        detected_s: detected times (s).
        true_s: ground-truth times (s).
        tolerance_s: largest |detected − true| of a match (s).
        window_s: only events inside [start, end] (s) are scored, true and detected alike; a
            detected event just outside still matches a true one inside.

    >>> m = match_events(np.array([0.99, 2.0, 3.5]), np.array([1.0, 2.02]))
    >>> np.round(m.errors_s, 3).tolist(), m.n_true, m.n_false
    ([-0.01, -0.02], 2, 1)
    """
    det = np.sort(np.asarray(detected_s, dtype=float))
    true = np.sort(np.asarray(true_s, dtype=float))
    true = true[(true >= window_s[0]) & (true <= window_s[1])]
    pairs = sorted(
        (abs(d - t), i, j) for i, t in enumerate(true) for j, d in enumerate(det)
        if abs(d - t) <= tolerance_s
    )
    used_true: dict[int, int] = {}
    used_det: set[int] = set()
    for _, i, j in pairs:
        if i not in used_true and j not in used_det:
            used_true[i] = j
            used_det.add(j)
    order = sorted(used_true)
    errors = np.array([det[used_true[i]] - true[i] for i in order])
    inside = (det >= window_s[0]) & (det <= window_s[1])
    n_false = int(sum(1 for j in np.flatnonzero(inside) if j not in used_det))
    return Matching(errors, int(true.size), n_false)


def fit_bias_s(raw: Matching) -> float:
    """The bias correction (s) for a detector whose uncorrected errors are ``raw``: −mean error.

    >>> fit_bias_s(Matching(np.array([-0.03, -0.05]), 2, 0))
    0.04
    """
    if raw.errors_s.size == 0:
        raise ValueError("no matched events to fit a bias on")
    return round(-float(raw.errors_s.mean()), 4)
