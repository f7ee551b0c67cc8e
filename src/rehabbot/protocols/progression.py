"""Progression rules: how a protocol's adjustable parameters move from one session to the next.

A rule reads one metric of the patient's last completed session of the protocol, compares it
with a threshold and, when the comparison holds, changes parameters by fixed amounts, clamped to
each phase's adjustable bounds::

    [[progression]]
    when = "rms_error_deg < 5"         # metric, comparison, threshold
    then = { guidance_pct = -10 }      # change of each parameter (its unit)
    phases = ["training"]              # optional: the phases it changes (default: every phase
                                       # whose adjustable bounds name the parameter)

The language is deliberately small and parsed, never evaluated: a metric name, one of
``< <= > >= == !=``, a number. Metrics are the numbers of the stored session summary:
``duration_s``, ``strides_right``, ``strides_left``, ``cadence_steps_per_min``, and the per-joint
``rom_deg``, ``rms_error_deg``, ``peak_torque_nm`` (alone: the mean over the joints; with a joint,
``rms_error_deg.knee_angle_l``: that joint's value).

>>> parse_condition("rms_error_deg.knee_angle_l <= 4.5")
Condition(metric='rms_error_deg.knee_angle_l', op='<=', threshold=4.5)
>>> from rehabbot.storage.summary import StoredSummary
>>> parse_condition("rms_error_deg < 5").holds(StoredSummary.model_validate({"joints": [
...     {"name": "knee_angle_r", "rms_error_deg": 4.0},
...     {"name": "knee_angle_l", "rms_error_deg": 5.0}]}))
True
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from rehabbot.storage.summary import StoredSummary


class AdjustablePhase(Protocol):
    """What a rule needs of a protocol phase: its name and its adjustable parameters."""

    @property
    def name(self) -> str:
        """The phase's name."""

    @property
    def adjustable(self) -> Mapping[str, tuple[float, float]]:
        """The bounds (low, high) of each parameter progression may change."""


AnyPhase = TypeVar("AnyPhase", bound=AdjustablePhase)

#: Summary numbers a rule may read directly.
SESSION_METRICS = ("duration_s", "strides_right", "strides_left", "cadence_steps_per_min")
#: Per-joint summary numbers a rule may read (mean over joints, or ``NAME.JOINT``).
JOINT_METRICS = ("rom_deg", "rms_error_deg", "peak_torque_nm")
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
    "<": operator.lt, ">": operator.gt,
}
_CONDITION = re.compile(
    r"^\s*(?P<metric>[a-z_]+(?:\.[a-z0-9_]+)?)\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<threshold>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$"
)


class Condition(NamedTuple):
    """A parsed ``when``: metric, comparison, threshold."""

    metric: str
    op: str
    threshold: float

    def value(self, summary: StoredSummary) -> float | None:
        """The metric in a stored session summary (None: not there or not a number)."""
        name, _, joint = self.metric.partition(".")
        if name in SESSION_METRICS:
            found = getattr(summary, name)
            return None if found is None else float(found)
        values = [float(getattr(j, name)) for j in summary.joints if not joint or j.name == joint]
        values = [v for v in values if math.isfinite(v)]
        return sum(values) / len(values) if values else None

    def holds(self, summary: StoredSummary) -> bool:
        """Whether the comparison holds for ``summary`` (False if the metric is missing)."""
        value = self.value(summary)
        return value is not None and COMPARISONS[self.op](value, self.threshold)


def parse_condition(text: str) -> Condition:
    """Parse ``"METRIC OP NUMBER"``.

    Raises:
        ValueError: not of that form, or an unknown metric (the message lists the known).
    """
    match = _CONDITION.match(text)
    if match is None:
        raise ValueError(f"when = {text!r} is not 'METRIC OP NUMBER' with OP one of "
                         f"{' '.join(COMPARISONS)} (e.g. 'rms_error_deg < 5')")
    metric = match["metric"]
    if metric.partition(".")[0] not in SESSION_METRICS + JOINT_METRICS or (
            "." in metric and metric.partition(".")[0] in SESSION_METRICS):
        raise ValueError(f"unknown metric {metric!r} in when = {text!r}; known: "
                         f"{', '.join(SESSION_METRICS + JOINT_METRICS)} (the per-joint ones "
                         "also as NAME.JOINT, e.g. rms_error_deg.knee_angle_l)")
    return Condition(metric, match["op"], float(match["threshold"]))


class ProgressionRule(BaseModel):
    """``when`` the last session's metric compares so, change parameters ``then`` by so much."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: str
    then: dict[str, float] = Field(min_length=1)
    phases: tuple[str, ...] = ()

    @field_validator("when")
    @classmethod
    def _parses(cls, text: str) -> str:
        parse_condition(text)
        return text

    @property
    def condition(self) -> Condition:
        """The parsed ``when``."""
        return parse_condition(self.when)

    def targets(self, phases: Sequence[AnyPhase]) -> list[tuple[AnyPhase, str]]:
        """(phase, parameter) pairs the rule changes: the named phases, or every phase whose
        adjustable bounds name the parameter."""
        chosen = [p for p in phases if p.name in self.phases] if self.phases else list(phases)
        return [(p, name) for p in chosen for name in self.then if name in p.adjustable]

    def check_targets(self, phases: Sequence[AdjustablePhase], where: str) -> None:
        """Every phase named exists, and every parameter is adjustable in a phase it changes.

        Raises:
            ValueError: naming ``where`` (the rule's place in the file) and what is wrong.
        """
        names = [p.name for p in phases]
        for name in self.phases:
            if name not in names:
                raise ValueError(f"{where}.phases: no phase {name!r}; phases: {', '.join(names)}")
        changed = {name for _, name in self.targets(phases)}
        for name in self.then:
            if name not in changed:
                raise ValueError(f"{where}.then.{name}: no phase it applies to has adjustable "
                                 f"bounds for {name}; add {name} = [LOW, HIGH] to that phase's "
                                 "adjustable table")
