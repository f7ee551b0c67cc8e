"""Progression between sessions: the values a protocol's adjustable parameters start from in a
patient's next session, from the rules (:mod:`rehabbot.protocols.progression`) and the patient's
last completed session of the protocol.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from rehabbot.protocols.schema import Protocol

if TYPE_CHECKING:
    from rehabbot.storage.store import SessionStore
    from rehabbot.storage.summary import StoredSummary


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
