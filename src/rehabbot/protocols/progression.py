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
>>> parse_condition("rms_error_deg < 5").holds({"joints": [{"name": "knee_angle_r",
...     "rms_error_deg": 4.0}, {"name": "knee_angle_l", "rms_error_deg": 5.0}]})
True
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from rehabbot.protocols.schema import Phase, Protocol
    from rehabbot.storage.store import SessionStore
    from rehabbot.storage.summary import StoredSummary

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

    def targets(self, phases: Sequence[Phase]) -> list[tuple[Phase, str]]:
        """(phase, parameter) pairs the rule changes: the named phases, or every phase whose
        adjustable bounds name the parameter."""
        chosen = [p for p in phases if p.name in self.phases] if self.phases else list(phases)
        return [(p, name) for p in chosen for name in self.then if name in p.adjustable]

    def check_targets(self, phases: Sequence[Phase], where: str) -> None:
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


@dataclass(frozen=True)
class Change:
    """One parameter of one phase changed by progression.

    Attributes:
        phase: phase name.
        parameter: parameter name.
        before: its value before (the last session's, or the protocol's).
        after: its value now, clamped to the phase's adjustable bounds.
        rule: the rule's ``when`` that fired.
    """

    phase: str
    parameter: str
    before: float
    after: float
    rule: str

    def describe(self) -> str:
        """One line, e.g. ``training: guidance_pct 80 -> 70 (rms_error_deg < 5)``."""
        return f"{self.phase}: {self.parameter} {self.before:g} -> {self.after:g} ({self.rule})"


#: ``{phase name: {parameter: value}}``: the starting values of the adjustable parameters.
PhaseValues = dict[str, dict[str, float]]


def phase_values(protocol: Protocol) -> PhaseValues:
    """The protocol's own values of every adjustable parameter, per phase."""
    out: PhaseValues = {}
    for phase in protocol.phases:
        values = {name: phase.value_of(name) for name in phase.adjustable}
        out[phase.name] = {k: v for k, v in values.items() if v is not None}
    return out


def progress(
    protocol: Protocol, last_summary: StoredSummary | None, last_values: PhaseValues | None,
) -> tuple[PhaseValues, list[Change]]:
    """The adjustable values of the next session and the changes the rules made.

    Starts from ``last_values`` (the last session's, clamped to today's bounds) or else the
    protocol's own; every rule whose condition holds for ``last_summary`` adds its amounts,
    clamped to the phase's adjustable bounds. No last session: no change.
    """
    values = phase_values(protocol)
    for phase in protocol.phases:
        for name, (low, high) in phase.adjustable.items():
            last = (last_values or {}).get(phase.name, {}).get(name)
            if last is not None and name in values[phase.name]:
                values[phase.name][name] = min(max(float(last), low), high)
    changes: list[Change] = []
    if last_summary is None:
        return values, changes
    for rule in protocol.progression:
        if not rule.condition.holds(last_summary):
            continue
        for phase, name in rule.targets(protocol.phases):
            low, high = phase.adjustable[name]
            before = values[phase.name][name]
            after = min(max(before + rule.then[name], low), high)
            values[phase.name][name] = after
            if after != before:
                changes.append(Change(phase.name, name, before, after, rule.when))
    return values, changes


def with_values(protocol: Protocol, values: PhaseValues) -> Protocol:
    """``protocol`` with each phase's adjustable parameters set to ``values`` (already inside
    their bounds)."""
    phases = []
    for phase in protocol.phases:
        own = values.get(phase.name, {})
        session = {k: v for k, v in own.items() if k in type(phase).model_fields}
        params = {k: v for k, v in own.items() if k not in type(phase).model_fields}
        update: dict[str, Any] = dict(session)
        if params:
            update["controller_params"] = {**phase.controller_params, **params}
        phases.append(phase.model_copy(update=update))
    return protocol.model_copy(update={"phases": tuple(phases)})


@dataclass(frozen=True)
class ProgressionPlan:
    """What progression decided for the next session.

    Attributes:
        from_session: the last completed session of the protocol it started from (None: none).
        values: the adjustable values of the next session, per phase.
        changes: what the rules changed.
    """

    from_session: int | None
    values: PhaseValues
    changes: list[Change]

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON (stored with the session's parameters)."""
        return {"from_session": self.from_session, "values": self.values,
                "changes": [asdict(change) for change in self.changes]}


def plan_progression(store: SessionStore, patient_id: int, protocol: Protocol) -> ProgressionPlan:
    """Progression from the patient's last completed session of ``protocol`` (by name): its
    summary feeds the rules, its stored values are the starting point."""
    done = [s for s in store.list_sessions(patient_id)
            if s.protocol_name == protocol.name and s.status == "completed"]
    if not done:
        return ProgressionPlan(None, *progress(protocol, None, None))
    last = done[-1].id
    stored = store.session_parameters(last).get("progression") or {}
    values, changes = progress(protocol, store.session_summary(last), stored.get("values"))
    return ProgressionPlan(last, values, changes)
