"""How hard the patient worked, and what the patient's screen showed them while they did.

The patient display (:mod:`rehabbot.gui.patient_display`) shows the patient their own
Lokomat-style biofeedback (:mod:`~rehabbot.assessment.biofeedback`; Banz et al. 2008) in one of
the :data:`MODES` the therapist chooses, with a target band the therapist sets
(:class:`FeedbackSettings`). Each choice is a console command (``feedback``) recorded with the
session like a parameter change: an event ``console:feedback`` at its loop time, with the
settings as its values (:func:`feedback_record` reads them back), and an audit-log entry
``feedback.change`` with the operator.

From a session's gait analysis and that record, :func:`engagement` gives per session:

* per stride of each side, the feedback in effect at its foot strike (the mode and the band),
  the biofeedback value (N·m) of each joint in stance and in swing, and whether it was in the
  band in effect;
* the **time in the target band** per joint kind and stride part: the duration (s) of the
  stride parts whose biofeedback value lay in the band (``low ≤ b ≤ high``), and its share (%)
  of the time of the parts with a value; each part is judged by its mean, as the display judges
  it. The band in effect counts whatever the mode, so that sessions with and without feedback
  compare: the share is also given per feedback mode;
* the **patient's share of the positive work** in swing per side (%)
  (:func:`~rehabbot.assessment.work_share.patient_work_shares`): in simulation from the
  simulated patient model's muscle torques, which the session stores per tick as simulation
  truth (:mod:`rehabbot.storage.truth`); on a real robot the estimate from the recorded angles
  and the drive-measured (interaction) torques with the leg's inverse dynamics, which is all
  there is there. :attr:`Engagement.work_share_source` says which; in simulation the estimate
  is kept beside the truth (:attr:`Engagement.work_share_estimate_pct`) so that its error can be
  measured (``benchmarks/engagement.py``).

:func:`rewarded` is the game's rule, the same for the display and the offline record: a
completed stride part counts when it is the part the game watches (or it watches both) and
every watched joint of that leg had its value in the band.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rehabbot.assessment.biofeedback import PARTS
from rehabbot.assessment.gait_analysis import JOINT_KINDS, GaitAnalysis
from rehabbot.assessment.kinematic_events import SIDES
from rehabbot.errors import ConfigurationError
from rehabbot.hal.types import FloatArray

#: The feedback modes: bars per joint, the walking game, the step goal, nothing shown.
MODES = ("bars", "game", "steps", "off")
#: The stride parts the game may watch.
GAME_PARTS = (*PARTS, "both")
#: Largest magnitude of a band edge (N·m): beyond it no biofeedback value of a gait robot lies.
BAND_LIMIT_NM = 100.0
#: Most steps a step goal may ask for.
MAX_STEP_GOAL = 10_000
#: The kind of the stored event that records a feedback change.
EVENT_KIND = "console:feedback"


@dataclass(frozen=True)
class FeedbackSettings:
    """What the patient display shows, as the therapist set it.

    Attributes:
        mode: one of :data:`MODES`.
        band_low_nm: lower edge of the target band of the biofeedback value (N·m).
        band_high_nm: upper edge (N·m), above ``band_low_nm``.
        joints: joint kinds the game watches (``hip``, ``knee``, ``ankle``).
        part: the stride part the game watches: ``stance``, ``swing`` or ``both``.
        step_goal: steps to reach in the step mode; 0 takes the protocol's step target.

    Raises:
        ConfigurationError: a value outside its allowed set or range (the message names it).

    >>> FeedbackSettings("game", -5.0, 20.0, ("knee",), "swing").describe()
    'game · band -5 to 20 N·m · knee in swing'
    >>> FeedbackSettings("wave")
    Traceback (most recent call last):
    ...
    rehabbot.errors.ConfigurationError: feedback mode 'wave' is not one of bars, game, steps, off
    """

    mode: str = "off"
    band_low_nm: float = -10.0
    band_high_nm: float = 10.0
    joints: tuple[str, ...] = ("hip", "knee")
    part: str = "swing"
    step_goal: int = 0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigurationError(f"feedback mode {self.mode!r} is not one of "
                                     f"{', '.join(MODES)}")
        low, high = self.band_low_nm, self.band_high_nm
        if not (math.isfinite(low) and math.isfinite(high) and -BAND_LIMIT_NM <= low < high
                <= BAND_LIMIT_NM):
            raise ConfigurationError(
                f"target band {low:g} to {high:g} N·m: give a lower edge below the upper one, "
                f"both within ±{BAND_LIMIT_NM:g} N·m")
        unknown = [j for j in self.joints if j not in JOINT_KINDS]
        if not self.joints or unknown:
            raise ConfigurationError(f"feedback joints {list(self.joints)}: choose one or more of "
                                     f"{', '.join(JOINT_KINDS)}")
        if self.part not in GAME_PARTS:
            raise ConfigurationError(f"feedback part {self.part!r} is not one of "
                                     f"{', '.join(GAME_PARTS)}")
        if not 0 <= self.step_goal <= MAX_STEP_GOAL:
            raise ConfigurationError(f"step goal {self.step_goal} is outside [0, {MAX_STEP_GOAL}] "
                                     "(0: the protocol's step target)")

    def describe(self) -> str:
        """One line for the console, the event log and the report."""
        text = f"{self.mode} · band {self.band_low_nm:g} to {self.band_high_nm:g} N·m"
        if self.mode == "game":
            text += f" · {'+'.join(self.joints)} in {self.part}"
        if self.mode == "steps" and self.step_goal:
            text += f" · goal {self.step_goal} steps"
        return text

    def as_detail(self) -> dict[str, Any]:
        """Plain JSON values, as stored with the ``console:feedback`` event and the audit log."""
        return {"mode": self.mode, "band_low_nm": self.band_low_nm,
                "band_high_nm": self.band_high_nm, "joints": ",".join(self.joints),
                "part": self.part, "step_goal": self.step_goal}

    @classmethod
    def from_detail(cls, detail: Mapping[str, Any]) -> FeedbackSettings:
        """The settings :meth:`as_detail` wrote.

        Raises:
            ConfigurationError: a value is missing or invalid.
        """
        try:
            return cls(str(detail["mode"]), float(detail["band_low_nm"]),
                       float(detail["band_high_nm"]), tuple(str(detail["joints"]).split(",")),
                       str(detail["part"]), int(detail["step_goal"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"a stored feedback setting lacks or garbles {exc}") from None

    def in_band(self, value_nm: float) -> bool:
        """Whether a biofeedback value (N·m) lies in the band (NaN: no).

        >>> FeedbackSettings().in_band(3.0), FeedbackSettings().in_band(float("nan"))
        (True, False)
        """
        return bool(self.band_low_nm <= value_nm <= self.band_high_nm)


def rewarded(settings: FeedbackSettings, part: str, values_nm: Mapping[str, float]) -> bool:
    """The game's rule: does a completed ``part`` with these values (N·m, by joint kind, of one
    leg) move the avatar on? Only the watched part counts, and every watched joint the leg has
    must be in the band.

    >>> game = FeedbackSettings("game", 0.0, 10.0, ("hip", "knee"), "swing")
    >>> rewarded(game, "swing", {"hip": 4.0, "knee": 2.0}), rewarded(game, "stance", {"hip": 4.0})
    (True, False)
    >>> rewarded(game, "swing", {"hip": 4.0, "knee": -2.0})
    False
    """
    if settings.part not in (part, "both"):
        return False
    watched = [values_nm[j] for j in settings.joints if j in values_nm]
    return bool(watched) and all(settings.in_band(v) for v in watched)


def feedback_record(events: Iterable[tuple[float, str, str, str]]) -> list[tuple[float,
                                                                             FeedbackSettings]]:
    """The accepted feedback changes of a session, by loop time (s).

    Args:
        events: stored events as the report reads them: (loop time (s), kind, joint, detail as
            JSON text).

    A change the session refused, or whose values do not read back, is left out.
    """
    record = []
    for t_s, kind, _joint, detail in events:
        if kind != EVENT_KIND or not detail:
            continue
        try:
            values = json.loads(detail)
            if values.get("accepted", False):
                record.append((t_s, FeedbackSettings.from_detail(values)))
        except (json.JSONDecodeError, AttributeError, ConfigurationError):
            continue
    return record


@dataclass(frozen=True)
class BandTime:
    """Time of one joint kind's stride parts in the target band.

    Attributes:
        in_band_s: duration of the parts whose value was in the band (s).
        total_s: duration of the parts with a value (s).
    """

    in_band_s: float
    total_s: float

    @property
    def pct(self) -> float:
        """Share of the time in the band (%); NaN without parts."""
        return 100.0 * self.in_band_s / self.total_s if self.total_s > 0 else float("nan")


@dataclass(frozen=True)
class Engagement:
    """A session's engagement measures.

    Attributes:
        strides: per side, per stride: ``start_s``, ``mode`` (list of str), ``band_low_nm``,
            ``band_high_nm``, per joint kind and part ``{kind}_biofeedback_{part}_nm``
            (N·m) with ``{kind}_in_band_{part}`` (bool), and the patient's share of the
            stride's positive swing work ``work_share_swing_pct`` (%, NaN without one; from
            the same source as :attr:`work_share_pct`).
        time_in_band: per (joint kind, part) the :class:`BandTime` over both sides.
        by_mode: per feedback mode in effect, the :class:`BandTime` of all joints and parts.
        work_share_pct: per side, the patient's share of the positive work in swing (%).
        record: the feedback changes, by loop time (s).
        work_share_source: where :attr:`work_share_pct` came from
            (:data:`~rehabbot.assessment.work_share.SOURCE_TRUTH` or
            :data:`~rehabbot.assessment.work_share.SOURCE_ESTIMATE`; empty without a share).
        work_share_estimate_pct: per side, the estimated share (%), also when the share itself
            came from the simulation's truth.
    """

    strides: dict[str, dict[str, Any]]
    time_in_band: dict[tuple[str, str], BandTime]
    by_mode: dict[str, BandTime]
    work_share_pct: dict[str, float]
    record: list[tuple[float, FeedbackSettings]] = field(default_factory=list)
    work_share_source: str = ""
    work_share_estimate_pct: dict[str, float] = field(default_factory=dict)

    @property
    def overall(self) -> BandTime:
        """All joints and parts together."""
        return BandTime(sum(b.in_band_s for b in self.by_mode.values()),
                        sum(b.total_s for b in self.by_mode.values()))


def settings_at(record: list[tuple[float, FeedbackSettings]], t_s: FloatArray
                ) -> list[FeedbackSettings]:
    """The settings in effect at each time (s): the last change at or before it; before the
    first change, the first one (the console sends its settings as the session starts); with
    no change at all, the default (mode ``off``)."""
    if not record:
        return [FeedbackSettings()] * len(t_s)
    times = np.array([t for t, _ in record])
    index = np.clip(np.searchsorted(times, np.asarray(t_s, dtype=float), side="right") - 1, 0,
                    None)
    return [record[int(i)][1] for i in index]


def engagement(analysis: GaitAnalysis, record: list[tuple[float, FeedbackSettings]]
               ) -> Engagement:
    """The engagement measures of an analyzed session with its feedback record.

    Args:
        analysis: the session's gait analysis, with the biofeedback per stride (it needs the
            commanded torques and reference angles: a robot session).
        record: its feedback changes (:func:`feedback_record`).
    """
    strides: dict[str, dict[str, Any]] = {}
    in_band: dict[tuple[str, str], list[float]] = {}
    total: dict[tuple[str, str], list[float]] = {}
    mode_in: dict[str, float] = {}
    mode_total: dict[str, float] = {}
    for side in SIDES:
        table = analysis.strides[side]
        start = np.asarray(table["start_s"], dtype=float)
        durations = {"stance": np.asarray(table["foot_off_s"]) - start,
                     "swing": np.asarray(table["end_s"]) - np.asarray(table["foot_off_s"])}
        settings = settings_at(record, start)
        low = np.array([s.band_low_nm for s in settings])
        high = np.array([s.band_high_nm for s in settings])
        rows: dict[str, Any] = {
            "start_s": start, "mode": [s.mode for s in settings], "band_low_nm": low,
            "band_high_nm": high, "work_share_swing_pct": np.asarray(table.get(
                "patient_work_share_swing_pct", np.full(start.size, np.nan)), dtype=float)}
        for kind in JOINT_KINDS:
            for part in PARTS:
                key = f"{kind}_biofeedback_{part}_nm"
                if key not in table:
                    continue
                values = np.asarray(table[key], dtype=float)
                inside = (values >= low) & (values <= high)
                rows[key], rows[f"{kind}_in_band_{part}"] = values, inside
                valued = np.isfinite(values)
                in_band.setdefault((kind, part), []).append(
                    float(durations[part][inside].sum()))
                total.setdefault((kind, part), []).append(float(durations[part][valued].sum()))
                for i, s in enumerate(settings):
                    if valued[i]:
                        mode_total[s.mode] = mode_total.get(s.mode, 0.0) + durations[part][i]
                        mode_in[s.mode] = mode_in.get(s.mode, 0.0) + (
                            durations[part][i] if inside[i] else 0.0)
        strides[side] = rows
    shares = analysis.assistance.get("patient_work_share_swing_pct", {})
    estimates = analysis.assistance.get("patient_work_share_estimate_swing_pct", {})
    return Engagement(
        strides=strides,
        time_in_band={key: BandTime(sum(in_band[key]), sum(total[key])) for key in total},
        by_mode={mode: BandTime(float(mode_in[mode]), float(mode_total[mode]))
                 for mode in MODES if mode in mode_total},
        work_share_pct={side: float(v) for side, v in shares.items()},
        record=record,
        work_share_source=str(analysis.assistance.get("patient_work_share_source", "")),
        work_share_estimate_pct={side: float(v) for side, v in estimates.items()},
    )
